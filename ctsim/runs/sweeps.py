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
from ctsim.runs.experiment import LoadedExperiment, RunSpec, salib_problem
from ctsim.runs.store import SweepStore, atomic_write
from ctsim.runs.worker import Payload


@dataclass
class SweepResult:
    """What a finished sweep wrote and counted."""

    out: Path
    runs: pd.DataFrame
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


def run_rows(loaded: LoadedExperiment, runs: list[RunSpec]) -> dict[int, dict[str, Any]]:
    """Each run's descriptive columns: scenario, point, replication, seed, factor values.

    Factors a point leaves alone (oat) take the base scenario's value, so every column is
    complete.
    """
    factors = list(loaded.spec.varied)
    if loaded.posterior is not None:  # the drawn parameters, one column each
        factors += [k for k in runs[0].overrides if k not in factors] if runs else []
    # The scenarios' values of the factors, with every default filled in (none needed, and
    # no scenario validated again, for an experiment without factors).
    bases = [scenario_from_dict(d).model_dump(mode="json") if factors else {}
             for d in loaded.scenario_dicts]
    # A run's overrides name only factors (and drawn parameters, added above), so a row is
    # its scenario's value of every factor, then the run's own values over them.
    defaults = [{k: _dotted(base, k) for k in factors} for base in bases]
    rows: dict[int, dict[str, Any]] = {}
    for r in runs:
        row = {"run_id": r.run_id, "scenario": loaded.scenario_names[r.scenario],
               "point": r.point, "replication": r.replication, "seed": r.seed}
        if loaded.spec.design == "oat":
            row["sweep"] = r.sweep
        if loaded.spec.levers:
            row["policy"] = r.policy
        row.update(defaults[r.scenario])
        row.update(r.overrides)
        rows[r.run_id] = row
    for k in factors:  # one column type per factor: numbers, booleans, or else text
        kinds = {type(row[k]) for row in rows.values()}
        if not (all(issubclass(t, bool) for t in kinds)
                or all(issubclass(t, int | float) and not issubclass(t, bool) for t in kinds)):
            for row in rows.values():
                row[k] = None if row[k] is None else str(row[k])
    return rows


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
    done = store.done_ids() if resume else set()
    payload = Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                      tuple(spec.metric_names), spec.timeseries, key, nations, snapshot,
                      tuple(scenarios))
    taken: list[RunSnapshot] = []

    def start_workers():
        return make_executor("dask" if scheduler else executor, payload, workers, scheduler)

    # A sweep with nothing stored yet has runs to do: its workers start first and come up
    # while the runs are planned. A resumed one plans first and starts them if runs remain.
    ex = start_workers() if not done else None
    try:
        runs = loaded.runs()
        meta = run_rows(loaded, runs)
        todo = [r for r in runs if r.run_id not in done]
        if ex is None and todo:
            ex = start_workers()
        store.prepare()
        manifest = _manifest(loaded, runs, key)
        if not (resume and manifest_path.exists()):
            atomic_write(manifest_path, (json.dumps(manifest | {"complete": False}, indent=2)
                                         + "\n").encode())
    except BaseException:  # interrupted while the workers start, or a folder not written
        if ex is not None:
            ex.abort()
        store.discard()  # no run stored yet: the folder this call made goes again
        raise

    def on_batch(results: list) -> None:
        rows = [meta[row["run_id"]] | row for row, _ts in results]
        extra: dict[str, list[dict]] = {}
        for _row, tables in results:
            if "snapshot" in tables:  # stored before its run is (a resume finds it then)
                taken.append(tables.pop("snapshot"))
                atomic_write(out / SNAPSHOT_FILE, taken[-1].to_bytes())
            for prefix, table in tables.items():
                extra.setdefault(prefix, []).append(table)
        store.write(rows, extra)
        if on_progress:
            on_progress(len(results), sum(row["status"] != "ok" for row in rows))

    if on_progress:
        on_progress(0, 0)  # checks passed: the runs start
    if ex is not None:
        try:
            if todo:
                execute(ex, todo, batch_size(len(todo), ex.workers), on_batch)
        finally:
            ex.close()

    merged, n_ts = store.merge(keep=keep_tables)
    failed_total = int((merged["status"] != "ok").sum()) if len(merged) else 0
    sensitivity = None
    if spec.design in ("morris", "sobol") and len(merged):
        sensitivity = sensitivity_indices(loaded, merged)
        atomic_write(out / "sensitivity.csv",
                     sensitivity.to_csv(index=False, float_format="%.6g").encode())
    manifest |= {"stored": len(merged), "ok": int(len(merged) - failed_total),
                 "failed": failed_total, "timeseries_rows": n_ts, "complete": True}
    if snapshot >= 0 and (out / SNAPSHOT_FILE).is_file():
        manifest["snapshot"] = SNAPSHOT_FILE
    atomic_write(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return SweepResult(out, merged, len(runs), len(todo), len(runs) - len(todo), failed_total,
                       time.perf_counter() - start, sensitivity, store.kept,
                       taken[0] if taken else None)


def _manifest(loaded: LoadedExperiment, runs: list[RunSpec], key: str) -> dict[str, Any]:
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
        "points": len({r.point for r in runs}),
        "runs": len(runs),
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
    """SALib indices per metric: Morris mu_star and sigma, or Sobol' S1 and ST, with intervals.

    Each design point's output is its mean over replications (failed runs left out).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    spec = loaded.spec
    problem = salib_problem(spec)
    names = problem["names"]
    first = runs[runs["scenario"] == loaded.scenario_names[0]]
    by_point = first.groupby("point", sort=True)
    x = by_point[names].first().to_numpy(float)
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
            res = sobol_analyze.analyze(problem, y, calc_second_order=False,
                                        seed=spec.seed % 2**32)
            for i, name in enumerate(names):
                rows.append({"metric": metric, "factor": name, "S1": res["S1"][i],
                             "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                             "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(rows)
