"""A sweep: an experiment's runs, executed anywhere, stored crash-safe, merged at the end.

``run_sweep`` ties the pieces together: the experiment (:mod:`ctsim.runs.experiment`) gives the
runs, an executor (:mod:`ctsim.runs.runner`) runs them in batches, the store
(:mod:`ctsim.runs.store`) writes each batch as it arrives, and at the end the parts are merged
into ``runs.parquet`` (and ``timeseries.parquet``), with ``manifest.json``; for experiments
with a contrast, ``points.parquet`` (one row a design point, with the gains of
:mod:`ctsim.runs.gain`), and for morris and sobol designs ``sensitivity.csv``.
"""

from __future__ import annotations

import hashlib
import json
import os
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
from ctsim.runs.gain import POINTS_FILE, Outcomes, gain_meaning, gain_name, point_means
from ctsim.runs.plan import Plan
from ctsim.runs.store import SweepStore, atomic_write
from ctsim.runs.worker import Payload
from ctsim.writing import cannot_write


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


#: Experiment keys a fingerprint leaves out at their defaults, so that the fingerprint of
#: an experiment that does not use them stays what it was before they existed.
_LATER_KEYS = {"contrast": None, "dummy": False, "runs_per_draw": 1}


def fingerprint(loaded: LoadedExperiment) -> str:
    """A hash of everything that decides the runs' results (resume checks it)."""
    spec = loaded.spec.model_dump(mode="json")
    for k, default in _LATER_KEYS.items():
        if spec.get(k) == default:
            spec.pop(k, None)
    doc = {"spec": spec, "scenarios": loaded.scenario_dicts, "version": __version__}
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
    else text (:attr:`kinds`, from every value the plan can give it). A Sobol' design's
    dummy factor has its column too (its seed set, 0 or 1), after the factors.
    """

    def __init__(self, loaded: LoadedExperiment, plan: Plan):
        self.plan, self.names = plan, np.array(loaded.scenario_names, object)
        self.oat, self.levers = loaded.spec.design == "oat", bool(loaded.spec.levers)
        design = plan.design
        drawn = [k for k in (plan.draws[0] if plan.draws else {}) if k not in design.names]
        self.drawn = drawn
        self.factors = [*loaded.spec.varied, *design.inert, *drawn]
        # The scenarios' values of the factors, with every default filled in (none needed,
        # and no scenario validated again, for an experiment without factors).
        bases = [scenario_from_dict(d).model_dump(mode="json") if self.factors else {}
                 for d in loaded.scenario_dicts]
        self.defaults = [{k: _dotted(base, k) for k in self.factors} for base in bases]
        self.kinds: dict[str, str] = {}
        for k in self.factors:
            types: set[type] = set()
            if k in design.names or k in design.inert:
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
    if (spec.design in SENSITIVITY_DESIGNS or loaded.has_contrast) and store.stored:
        outcomes = (outcomes_of(loaded, merged) if merged is not None
                    else _read_outcomes(out, loaded))
        if loaded.has_contrast:
            write_points(out / POINTS_FILE, loaded, table, outcomes)
        if spec.design in SENSITIVITY_DESIGNS:
            sensitivity = _indices(loaded, outcomes)
            atomic_write(out / "sensitivity.csv",
                         sensitivity.to_csv(index=False, float_format="%.6g").encode())
            left_out = {o: n for o, n in zip(sensitivity["metric"], sensitivity["note"],
                                             strict=True) if n}
            if left_out:
                manifest["not_indexed"] = left_out
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

#: The designs whose sweeps write sensitivity indices.
SENSITIVITY_DESIGNS = ("morris", "sobol")


def outcomes_of(loaded: LoadedExperiment, runs: pd.DataFrame) -> Outcomes:
    """Every run's metrics by world, point and replication (:class:`~ctsim.runs.gain.
    Outcomes`) from a runs table holding runs.parquet's ``run_id``, ``status`` and
    metric columns."""
    plan = loaded.plan()
    return Outcomes.of(runs["run_id"].to_numpy(np.int64), (runs["status"] == "ok").to_numpy(
        bool), {m: runs[m].to_numpy(float) for m in loaded.spec.metric_names},
        plan.scenarios, plan.design.size, len(plan.seeds))


def _read_outcomes(out: Path, loaded: LoadedExperiment) -> Outcomes:
    """:func:`outcomes_of` runs.parquet, reading only its ids, statuses and metrics."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    plan, metrics = loaded.plan(), loaded.spec.metric_names
    table = pq.read_table(out / "runs.parquet", columns=["run_id", "status", *metrics])
    return Outcomes.of(table["run_id"].to_numpy(),
                       pc.equal(table["status"], "ok").to_numpy(zero_copy_only=False),
                       {m: table[m].to_numpy(zero_copy_only=False) for m in metrics},
                       plan.scenarios, plan.design.size, len(plan.seeds))


#: Design points a row group of points.parquet holds (written one group at a time).
POINTS_GROUP = 65_536


def write_points(path: Path, loaded: LoadedExperiment, table: RunTable, outcomes: Outcomes,
                 group: int = POINTS_GROUP) -> None:
    """Write points.parquet (:data:`ctsim.runs.gain.POINTS_FILE`) whole, a row group of
    ``group`` points at a time: ``point``, the factor columns of each point's first run
    (:class:`RunTable`'s, so named and typed as in runs.parquet; the dummy's too, not a
    posterior's draws, which change with the replication), then
    :func:`ctsim.runs.gain.point_means`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plan = table.plan
    size, reps = plan.design.size, len(plan.seeds)
    names = [k for k in table.factors if k not in table.drawn]
    means = point_means(outcomes, loaded.spec.metric_names, loaded.has_contrast)
    part = path.with_name(f".{path.name}.part")
    writer = None
    try:
        for start in range(0, size, group):
            stop = min(size, start + group)
            described = table.columns(start * reps, stop * reps)
            first = pa.array(np.arange(0, (stop - start) * reps, reps))
            columns = {"point": pa.array(np.arange(start, stop, dtype=np.int64))}
            columns |= {k: described[k].take(first) for k in names}
            columns |= {k: pa.array(v[start:stop], pa.float64()) for k, v in means.items()}
            batch = pa.table(columns)
            if writer is None:
                writer = pq.ParquetWriter(part, batch.schema)
            writer.write_table(batch)
        if writer is not None:
            writer.close()
            writer = None
            with open(part, "rb") as fh:  # on disk before the rename, as atomic_write does
                os.fsync(fh.fileno())
            part.replace(path)
    except OSError as exc:  # a full disk, a quota: one line naming the folder
        raise cannot_write(path.parent, exc) from None
    finally:
        if writer is not None:
            writer.close()
        part.unlink(missing_ok=True)


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
        "runs_per_draw": spec.runs_per_draw,
        "steps": loaded.steps,
        "metrics": spec.metric_names,
        "timeseries": spec.timeseries,
        "points": plan.points,
        "runs": len(plan),
        "fingerprint": key,
    } | _paired(loaded)


def _paired(loaded: LoadedExperiment) -> dict[str, Any]:
    """What a manifest says of a contrast, a dummy and the sensitivity indices, for the
    experiments that have them (none of these keys otherwise)."""
    spec, out = loaded.spec, {}
    reps = spec.replications
    if loaded.has_contrast:
        scenario, contrast = loaded.scenario_names[0], loaded.scenario_names[-1]
        out["contrast"] = {"scenario": contrast, "differs_in": list(loaded.contrast_keys),
                           "file": spec.contrast if isinstance(spec.contrast, str) else None}
        out["gains"] = {gain_name(m): gain_meaning(m, scenario, contrast)
                        for m in spec.metric_names}
        out["points_file"] = POINTS_FILE
    if spec.dummy:
        out["dummy"] = ("the dummy factor sets no scenario key: 0 runs a point with the "
                        "experiment's seeds, 1 with a second set; its indices are the floor "
                        "of chance")
    if spec.design in SENSITIVITY_DESIGNS:
        out["sensitivity"] = (f"indices of each design point's mean over its {reps} "
                              f"replication{'s' if reps > 1 else ''} under "
                              f"{loaded.scenario_names[0]} (of a gain: of its paired "
                              "differences); an output undefined at any point is not indexed")
    return out


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
    """Indices per output of a runs table (runs.parquet's ``run_id``, ``status`` and metric
    columns): Morris mu_star and sigma (SALib), or Sobol' S1 and ST
    (:func:`ctsim.analysis.stats.sobol_indices`, SALib's to the last bit), with intervals.
    The outputs are the metrics under the scenario, then with a contrast each metric's
    gain (:mod:`ctsim.runs.gain`). See :func:`_indices`."""
    return _indices(loaded, outcomes_of(loaded, runs))


def _indices(loaded: LoadedExperiment, outcomes: Outcomes) -> pd.DataFrame:
    """sensitivity.csv from every run's outcomes.

    Each design point's output is its mean over the replications where it is defined
    (failed runs left out; :meth:`ctsim.runs.gain.Outcomes.per_point`). An output
    undefined at some point is not indexed: its indices are left empty,
    ``undefined_points`` counts those points and ``note`` says why; no value is imputed.
    ``points`` is the design's points, ``replications`` the runs each point's mean is
    over. With a dummy factor (sobol), ``S1_within_noise`` and ``ST_within_noise`` mark
    each factor whose interval reaches the dummy's (overlaps it or lies below it): its
    index cannot be told from the runs' chance.
    """
    from SALib.analyze import morris as morris_analyze

    from ctsim.analysis.stats import sobol_indices

    spec = loaded.spec
    names = spec.indexed_factors
    morris = spec.design == "morris"
    columns = (("mu_star", "mu_star_conf", "sigma", "mu") if morris
               else ("S1", "S1_conf", "ST", "ST_conf"))
    x = None
    if morris:
        design = loaded.plan().design
        values = design.values(np.arange(design.size))
        x = np.column_stack([values[k].astype(float) for k in names])
    rows = []
    for output, y in point_means(outcomes, spec.metric_names, loaded.has_contrast).items():
        undefined, why = outcomes.why_undefined(output)
        about = {"points": len(y), "undefined_points": undefined,
                 "replications": spec.replications,
                 "note": (f"not indexed: undefined at {undefined:,} of {len(y):,} design "
                          f"points; {why}; no value is imputed") if undefined else ""}
        if undefined:
            rows += [{"metric": output, "factor": name} | dict.fromkeys(columns, np.nan)
                     | about for name in names]
            continue
        if morris:
            res = morris_analyze.analyze(salib_problem(spec), x, y, num_levels=spec.levels,
                                         seed=spec.seed % 2**32)
            res = {k: res[k] for k in columns}
        elif np.ptp(y) == 0:  # a constant output: no variance to share out (as SALib)
            res = {k: np.zeros(len(names)) for k in columns}
        else:
            res = sobol_indices(y, len(names), spec.seed % 2**32)
        rows += [{"metric": output, "factor": name} | {k: res[k][i] for k in columns}
                 | about for i, name in enumerate(names)]
    table = pd.DataFrame(rows)
    if spec.dummy:
        for index in ("S1", "ST"):
            table.insert(table.columns.get_loc("points"), f"{index}_within_noise",
                         _within_noise(table, index))
    return table


def _within_noise(table: pd.DataFrame, index: str) -> pd.Series:
    """Per row of a Sobol' table with a dummy: whether the factor's interval of ``index``
    (``index`` +- its ``_conf``) reaches the dummy's of the same output, overlapping it or
    lying below it (empty for the dummy itself and for an output not indexed)."""
    from ctsim.runs.experiment import DUMMY

    dummy = table[table["factor"] == DUMMY].set_index("metric")
    top = (table["metric"].map(dummy[index]) + table["metric"].map(dummy[f"{index}_conf"]))
    low = table[index] - table[f"{index}_conf"]
    out = pd.Series(pd.array(low <= top, dtype="boolean"), index=table.index)
    out[(table["factor"] == DUMMY) | table[index].isna()] = pd.NA
    return out
