"""A sweep: an experiment's runs, executed anywhere, stored crash-safe, merged at the end.

``run_sweep`` ties the pieces together: the experiment (:mod:`ctsim.runs.experiment`) gives the
runs, an executor (:mod:`ctsim.runs.runner`) runs them in batches, the store
(:mod:`ctsim.runs.store`) writes each batch as it arrives, and at the end the parts are merged
into ``runs.parquet`` (and ``timeseries.parquet``), with ``manifest.json`` and, for
morris and sobol designs, ``sensitivity.csv``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ctsim._version import __version__
from ctsim.analysis.snapshot import SNAPSHOT_FILE, RunSnapshot
from ctsim.core.scenario import Scenario, scenario_from_dict
from ctsim.errors import ExperimentError
from ctsim.resources import shipped
from ctsim.runs.executors import batch_size, execute, make_executor
from ctsim.runs.experiment import LoadedExperiment, salib_problem
from ctsim.runs.plan import Plan
from ctsim.runs.store import SweepStore, atomic_write
from ctsim.runs.worker import Payload


@dataclass
class SweepResult:
    """What a finished sweep wrote and counted."""

    out: Path
    held: pd.DataFrame | None
    total: int
    ran: int
    skipped: int
    failed: int
    seconds: float
    sensitivity: pd.DataFrame | None = None
    #: The merged per-run tables by file name (``keep_tables``), as written.
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: The snapshot this call took of run ``snapshot`` (None when not asked, when that run
    #: was stored by an earlier call, or when it failed).
    snapshot: RunSnapshot | None = None

    @property
    def runs(self) -> pd.DataFrame:
        """runs.parquet, one row a run: as merged (a sweep of at most :data:`HELD_RUNS`
        runs, or one that kept its tables), else read from the folder when asked."""
        if self.held is None:
            self.held = pd.read_parquet(self.out / "runs.parquet")
        return self.held


def _dotted(data: Any, path: str) -> Any:
    """The value at a dotted key path of a nested mapping/list (None when absent)."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def fingerprint(loaded: LoadedExperiment) -> str:
    """A hash of everything that decides the runs' results (resume checks it)."""
    doc = {"spec": loaded.spec.model_dump(mode="json"), "scenarios": loaded.scenario_dicts,
           "version": __version__}
    if loaded.posterior is not None:
        from ctsim.runs.posterior import posterior_digest

        doc["posterior"] = posterior_digest(loaded.posterior)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


class RunTable:
    """What runs.parquet says of each run besides its results: its number, scenario, design
    point, replication, seed, the design's own columns (``sweep``, ``policy``) and every
    factor's value (a factor a point leaves alone, in oat, at its scenario's value; a
    parameter drawn from a posterior, at its draw). Made once a sweep; :meth:`columns`
    gives a batch's rows as columns, from the plan, so no run is held as a mapping.

    A factor's column has one type in every batch: whole numbers, numbers, booleans, or
    else text (:attr:`kinds`, from every value the plan can give it).
    """

    def __init__(self, loaded: LoadedExperiment, plan: Plan):
        self.plan, self.names = plan, np.array(loaded.scenario_names, object)
        self.oat, self.levers = loaded.spec.design == "oat", bool(loaded.spec.levers)
        design = plan.design
        drawn = [k for k in (plan.draws[0] if plan.draws else {}) if k not in design.names]
        self.drawn = drawn
        self.factors = [*loaded.spec.varied, *drawn]
        # The scenarios' values of the factors, with every default filled in (none needed,
        # and no scenario validated again, for an experiment without factors).
        bases = [scenario_from_dict(d).model_dump(mode="json") if self.factors else {}
                 for d in loaded.scenario_dicts]
        self.defaults = [{k: _dotted(base, k) for k in self.factors} for base in bases]
        self.kinds: dict[str, str] = {}
        for k in self.factors:
            types: set[type] = set()
            if k in design.names:
                types, unset = design.types(k)
                if unset:  # such points show the scenario's value
                    types |= {type(d[k]) for d in self.defaults}
            types |= {type(d[k]) for d in plan.draws if k in d}
            self.kinds[k] = _kind(types)

    def columns(self, start: int, stop: int) -> dict[str, Any]:
        """The descriptive columns of runs ``start`` to ``stop - 1`` (arrays or lists)."""
        plan = self.plan
        base = plan.columns(start, stop)
        scenario = base["scenario"]
        out: dict[str, Any] = {"run_id": base["run_id"], "scenario": self.names[scenario],
                               "point": base["point"], "replication": base["replication"],
                               "seed": base["seed"]}
        if self.oat:
            out["sweep"] = base["sweep"]
        if self.levers:
            out["policy"] = base["policy"]
        at = base["point"] % plan.design.size
        values, present = plan.design.values(at), plan.design.present(at)
        for k in self.factors:
            if k in self.drawn:
                column: Any = [plan.draws[r][k] for r in base["replication"].tolist()]
            else:
                column = values[k]
                if k in present:
                    column = column.tolist()
                    for i in np.flatnonzero(~present[k]).tolist():
                        column[i] = self.defaults[scenario[i]][k]
            out[k] = _typed(column, self.kinds[k])
        return out


def _kind(types: set[type]) -> str:
    """The column type of a factor whose values have ``types``: int, float, bool or text
    (None, a missing value, goes with any)."""
    kinds = types - {type(None)}
    if kinds and all(issubclass(t, bool | np.bool_) for t in kinds):
        return "bool"
    if kinds and all(issubclass(t, int | float | np.integer | np.floating)
                     and not issubclass(t, bool | np.bool_) for t in kinds):
        return "float" if any(issubclass(t, float | np.floating) for t in kinds) else "int"
    return "text"


def _typed(column: Any, kind: str) -> Any:
    """``column`` as an Arrow array of its factor's type (:func:`_kind`)."""
    import pyarrow as pa

    if kind == "text":
        values = column.tolist() if isinstance(column, np.ndarray) else column
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    arrow = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}[kind]
    if isinstance(column, np.ndarray) and column.dtype != object:
        return pa.array(column, arrow)
    values = column.tolist() if isinstance(column, np.ndarray) else column
    return pa.array(values, arrow)


def batch_table(described: dict[str, Any], results: list, metrics: list[str]):
    """A batch's runs.parquet rows as an Arrow table: the descriptive columns
    (:meth:`RunTable.columns`), then each run's status, error and metrics (``results``:
    the worker's ``(row, tables)`` in run-id order)."""
    import pyarrow as pa

    rows = [row for row, _ in results]
    return pa.table(described | {
        "status": pa.array([r["status"] for r in rows], pa.string()),
        "error": pa.array([r["error"] for r in rows], pa.string()),
        **{m: pa.array([r[m] for r in rows], pa.float64()) for m in metrics}})


def run_sweep(
    loaded: LoadedExperiment,
    out: Path,
    *,
    executor: str = "process",
    workers: int = 2,
    scheduler: str | None = None,
    resume: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    nations: bool = False,
    snapshot: int = -1,
    keep_tables: bool = False,
    scenarios: tuple[Scenario, ...] = (),
) -> SweepResult:
    """Run (or resume) an experiment into ``out``.

    Args:
        loaded: the checked experiment.
        out: output folder; must hold no results unless ``resume``.
        executor: "serial", "process" (default) or "dask".
        workers: worker processes (process, local dask); a scheduler decides its own.
        scheduler: a Dask scheduler address (``tcp://host:8786``); implies dask.
        resume: skip runs already stored in ``out`` and run the rest.
        on_progress: called with (0, 0) once the checks have passed, then with (runs
            done, runs failed) after each batch.
        nations: also keep each run's per-nation counts (nations.parquet).
        snapshot: a run id whose end to keep for a run folder's figures: written to
            ``snapshot.npz`` (:data:`~ctsim.analysis.snapshot.SNAPSHOT_FILE`, named in the
            manifest) before the run is stored, and returned; -1 for none.
        keep_tables: return the merged per-run tables as well as writing them.
        scenarios: the experiment's scenarios, already validated by the caller (used for
            runs without overrides instead of validating them again).

    The experiment's fingerprint is written into ``manifest.json`` before the first run
    (``"complete": false`` until the end), so a folder always says whose results it holds.

    Raises:
        ExperimentError: ``out`` holds results and no ``resume``, or ``resume`` over
            results of another experiment (or of none that can be told).
    """
    start = time.perf_counter()
    spec = loaded.spec
    store = SweepStore(out)
    key = fingerprint(loaded)
    manifest_path = out / "manifest.json"
    if store.has_results() and not resume:
        raise ExperimentError(str(out), "", "already holds sweep results; add --resume to "
                              "continue them or choose another --out")
    if resume and store.has_results() and _stored_fingerprint(manifest_path) != key:
        raise ExperimentError(str(out), "", "holds results of another experiment, other "
                              "settings or another ctsim version (or no manifest.json to tell)"
                              "; cannot resume them there")
    plan = loaded.plan()
    total = len(plan)
    done = store.done_mask(total) if resume else None
    left = total - int(done.sum()) if done is not None else total
    payload = Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                      tuple(spec.metric_names), spec.timeseries, key, nations, snapshot,
                      tuple(scenarios), plan)
    taken: list[RunSnapshot] = []
    ex = None
    try:
        if left:
            ex = make_executor("dask" if scheduler else executor, payload, workers, scheduler)
        table = RunTable(loaded, plan)
        store.prepare()
        manifest = _manifest(loaded, plan, key)
        if not (resume and manifest_path.exists()):
            atomic_write(manifest_path, (json.dumps(manifest | {"complete": False}, indent=2)
                                         + "\n").encode())
    except BaseException:  # interrupted while the workers start, or a folder not written
        if ex is not None:
            ex.abort()
        store.discard()  # no run stored yet: the folder this call made goes again
        raise

    def on_batch(results: list) -> None:
        ids = [row["run_id"] for row, _ in results]
        first, last = min(ids), max(ids)
        if last - first + 1 != len(ids):  # a batch is a span of consecutive runs
            raise RuntimeError(f"a batch came back with runs {first} to {last} but "
                               f"{len(ids)} rows")
        results = sorted(results, key=lambda r: r[0]["run_id"])
        extra: dict[str, list[dict]] = {}
        for _row, tables in results:
            if "snapshot" in tables:  # stored before its run is (a resume finds it then)
                taken.append(tables.pop("snapshot"))
                atomic_write(out / SNAPSHOT_FILE, taken[-1].to_bytes())
            for prefix, kept in tables.items():
                extra.setdefault(prefix, []).append(kept)
        store.write_table(batch_table(table.columns(first, last + 1), results,
                                      spec.metric_names), extra)
        if on_progress:
            on_progress(len(results), sum(row["status"] != "ok" for row, _ in results))

    if on_progress:
        on_progress(0, 0)  # checks passed: the runs start
    if ex is not None:
        try:
            execute(ex, plan.spans(done, batch_size(left, ex.workers)), on_batch)
        finally:
            ex.close()

    keep = keep_tables or total <= HELD_RUNS
    merged, n_ts = store.merge(keep=keep)
    failed_total = store.failed
    sensitivity = None
    if spec.design in ("morris", "sobol") and store.stored:
        sensitivity = sensitivity_indices(loaded, merged if merged is not None
                                          else _read_runs(out, loaded))
        atomic_write(out / "sensitivity.csv",
                     sensitivity.to_csv(index=False, float_format="%.6g").encode())
    manifest |= {"stored": store.stored, "ok": store.stored - failed_total,
                 "failed": failed_total, "timeseries_rows": n_ts, "complete": True}
    if snapshot >= 0 and (out / SNAPSHOT_FILE).is_file():
        manifest["snapshot"] = SNAPSHOT_FILE
    atomic_write(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return SweepResult(out, merged, total, left, total - left, failed_total,
                       time.perf_counter() - start, sensitivity, store.kept,
                       taken[0] if taken else None)


#: Sweeps of at most this many runs return their runs table (SweepResult.runs) as merged;
#: a larger one reads it from runs.parquet when asked, so that memory stays flat.
HELD_RUNS = 100_000


def _read_runs(out: Path, loaded: LoadedExperiment) -> pd.DataFrame:
    """The columns of runs.parquet that the sensitivity indices read."""
    import pyarrow.parquet as pq

    spec = loaded.spec
    names = list(spec.factors) if spec.design == "morris" else []
    return pq.read_table(out / "runs.parquet", columns=["scenario", "point", *names,
                                                        *spec.metric_names]).to_pandas()


def _manifest(loaded: LoadedExperiment, plan: Plan, key: str) -> dict[str, Any]:
    """The manifest's description of the experiment (the counts are added at the end)."""
    spec = loaded.spec
    return {
        "experiment": spec.name,
        "description": spec.description,
        "file": _shown(loaded.path),
        "ctsim_version": __version__,
        "seed": spec.seed,
        "design": spec.design,
        "scenarios": loaded.scenario_names,
        "factors": {k: f.model_dump(exclude_defaults=True) for k, f in spec.varied.items()},
        "uncertainties": list(spec.uncertainties),
        "uncertainty": _shown(loaded.posterior) if loaded.posterior is not None else None,
        "levers": list(spec.levers),
        "replications": spec.replications,
        "steps": loaded.steps,
        "metrics": spec.metric_names,
        "timeseries": spec.timeseries,
        "points": plan.points,
        "runs": len(plan),
        "fingerprint": key,
    }


def _shown(path: Path) -> str:
    """A file or folder as a results folder records it, without a machine's own path:
    a shipped file by its place in the package (``experiments/world.yaml``), another
    relative to the working folder when inside it (symbolic links resolved), else its name
    alone; a name in angle brackets (an experiment made in memory, ``<baseline>``) as it
    is."""
    if str(path).startswith("<"):
        return str(path)
    full = Path(path).resolve()
    for root in (shipped("experiments").resolve().parent, Path.cwd().resolve()):
        try:
            return str(full.relative_to(root))
        except ValueError:
            continue
    return full.name


def _stored_fingerprint(path: Path) -> str | None:
    """The fingerprint in a results folder's manifest.json (None when missing or unreadable)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def sensitivity_indices(loaded: LoadedExperiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Indices per metric: Morris mu_star and sigma (SALib), or Sobol' S1 and ST
    (:func:`ctsim.analysis.stats.sobol_indices`, SALib's to the last bit), with intervals.

    Each design point's output is its mean over replications (failed runs left out).
    """
    from SALib.analyze import morris as morris_analyze

    from ctsim.analysis.stats import sobol_indices

    spec = loaded.spec
    problem = salib_problem(spec)
    names = problem["names"]
    first = runs[runs["scenario"] == loaded.scenario_names[0]]
    by_point = first.groupby("point", sort=True)
    x = by_point[names].first().to_numpy(float) if spec.design == "morris" else None
    rows = []
    for metric in spec.metric_names:
        y = by_point[metric].mean().to_numpy(float)
        finite = np.isfinite(y)
        if not finite.any():  # undefined at every point (no plot settled): so are its indices
            columns = (("mu_star", "mu_star_conf", "sigma", "mu") if spec.design == "morris"
                       else ("S1", "S1_conf", "ST", "ST_conf"))
            rows += [{"metric": metric, "factor": name} | dict.fromkeys(columns, np.nan)
                     for name in names]
            continue
        if not finite.all():
            y = np.where(finite, y, np.nanmean(y))
        if spec.design == "morris":
            res = morris_analyze.analyze(problem, x, y, num_levels=spec.levels,
                                         seed=spec.seed % 2**32)
            for i, name in enumerate(names):
                rows.append({"metric": metric, "factor": name, "mu_star": res["mu_star"][i],
                             "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i],
                             "mu": res["mu"][i]})
        else:
            res = sobol_indices(y, len(names), spec.seed % 2**32)
            for i, name in enumerate(names):
                rows.append({"metric": metric, "factor": name, "S1": res["S1"][i],
                             "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                             "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(rows)
