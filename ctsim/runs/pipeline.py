"""One path for every command: plan, executor, crash-safe store, tables.

A run of one scenario is an experiment with one point (its replications); a comparison is
an experiment over scenarios, every one with the same seeds; a sweep is an experiment
file. All three go through :func:`ctsim.runs.sweeps.run_sweep`, so each has workers, resume
and the same tables: ``runs.parquet`` (one row a run), ``timeseries.parquet`` (one row a
run-week, when kept), ``nations.parquet`` (per run and nation: plots based there, plots
aimed at it and those disrupted, when kept) and ``manifest.json``. :func:`run`,
:func:`compare` and :func:`sweep` are what the ``ctsim`` command calls; Python users call
them the same way (``ctsim.run("baseline")``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctsim import resources
from ctsim.core.outcomes import METRICS
from ctsim.core.scenario import Scenario, load_scenario
from ctsim.errors import ExperimentError, OutputError
from ctsim.runs.store import atomic_write

if TYPE_CHECKING:
    from ctsim.runs.experiment import LoadedExperiment

#: A progress callback: (runs done in this batch, of which failed).
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- output places


def check_output(out: Path, *, overwrite: bool = False, resume: bool = False,
                 marker: str = "manifest.json") -> None:
    """Check, before anything runs, that results can be written at ``out``.

    ``out`` may be missing, an empty folder, or a folder of ctsim results (holding
    ``marker``) when ``overwrite`` or ``resume`` allows it.

    Raises:
        OutputError: an empty name, a file in the way, a folder that holds other files or
            earlier results without ``overwrite``/``resume``, or a place that cannot be
            written.
    """
    if str(out).strip() in ("", "."):
        raise OutputError("--out: give a folder name (the current folder is not allowed)")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / marker).exists():
            raise OutputError(f"{out}: holds files that are not ctsim results; choose an "
                              "empty or new folder")
        if not (overwrite or resume):
            raise OutputError(f"{out}: holds earlier results; add --overwrite to replace them "
                              "(or --resume to continue them) or choose another --out")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.probe-")
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror or exc})") from None


def _staging(out: Path) -> Path:
    """Where a run's or comparison's outputs are written before they replace ``out``."""
    return out.parent / f".{out.name}.partial"


def _swap_into_place(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` (two renames): a reader sees the old results or the
    new ones, never a mix of both."""
    shutil.rmtree(staging / "parts", ignore_errors=True)  # merged: the parts are redundant
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------- experiments in memory


def _inline_experiment(name: str, scenarios: Sequence[Scenario], *, replications: int,
                       seed: int, steps: list[int], timeseries: bool, metrics: list[str],
                       uncertainty: str | Path | None = None):
    """An experiment over ``scenarios`` with no factors (one point each), as if read from
    a file: the plan, fingerprint and store of a sweep serve it unchanged. ``uncertainty``:
    a calibration's results folder each replication draws its parameters from."""
    from ctsim.runs.experiment import Experiment, LoadedExperiment, check_posterior

    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ExperimentError("<scenarios>", "", f"two scenarios are both named '{twice}'; "
                              "give each a different name")
    spec = Experiment(name=name, scenarios=names, replications=replications, seed=seed,
                      timeseries=timeseries, metrics=metrics)
    dicts = [s.model_dump(mode="json") | {"steps": st} for s, st in zip(scenarios, steps,
                                                                     strict=True)]
    posterior = None
    if uncertainty is not None:
        posterior = Path(uncertainty)
        check_posterior(posterior, dicts, set(), None, "--uncertainty")
    return LoadedExperiment(spec, Path(f"<{name}>"), names, dicts, posterior)


def as_scenario(scenario: Scenario | str | Path, sets: dict[str, Any] | None = None
                ) -> Scenario:
    """A Scenario from a Scenario, a file or a shipped name, with dotted ``sets``."""
    if isinstance(scenario, Scenario):
        return scenario.with_overrides(sets) if sets else scenario
    return load_scenario(resources.resolve(str(scenario)), sets or None)


# ---------------------------------------------------------------- run


@dataclass
class RunOutcome:
    """What :func:`run` wrote: the folder, the summary document and the tables."""

    out: Path
    scenario: Scenario
    summary: dict
    runs: Any  # pandas.DataFrame, one row a replication
    havens: Any  # pandas.DataFrame, one row a nation
    ran: int
    resumed: int


def run(scenario: Scenario | str | Path, *, replications: int | None = None,
        seed: int | None = None, steps: int | None = None, sets: dict[str, Any] | None = None,
        out: str | Path | None = None, workers: int = 1, executor: str | None = None,
        scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
        on_progress: Progress | None = None, uncertainty: str | Path | None = None
        ) -> RunOutcome:
    """Run a scenario's replications and write its results folder.

    Args:
        scenario: a Scenario, a scenario file, or a shipped scenario's name.
        replications, seed, steps: the run's (default: the scenario's); checked against
            the same ranges as a file's.
        sets: dotted scenario keys to override.
        out: the results folder (default: ``results/<scenario name>``).
        workers: worker processes (1: run in this process).
        executor: "serial", "process" or "dask" (default: serial for 1 worker, else
            process); ``scheduler``: a Dask scheduler address.
        resume: continue an interrupted run into the same ``out``.
        overwrite: replace earlier results in ``out``.
        on_progress: called after each batch with (runs done, runs failed).
        uncertainty: a calibration's results folder: replication r runs with the r-th
            parameter set drawn from its posterior (from ``seed``), so the intervals carry
            the parameters' uncertainty as well as the runs' chance.

    Writes summary.json, timeseries.csv, havens.csv, scenario.yaml, runs.parquet,
    timeseries.parquet, nations.parquet and manifest.json, first into a hidden folder
    beside ``out`` that then replaces ``out`` whole. Figures are separate
    (:func:`run_figures`).
    """
    import pandas as pd
    import yaml

    from ctsim.analysis.tables import haven_table, metric_table
    from ctsim.core.simulation import check_size, world_of
    from ctsim.runs.seeds import replication_seeds
    from ctsim.runs.sweeps import run_sweep

    sc = as_scenario(scenario, sets)
    given = {"seed": seed, "steps": steps, "replications": replications}
    as_run = sc.with_overrides({k: v for k, v in given.items() if v is not None})
    check_size(as_run)
    out = Path(out) if out is not None else Path("results") / as_run.name
    check_output(out, overwrite=overwrite, resume=resume, marker="summary.json")
    staging = _staging(out)
    if not resume:
        shutil.rmtree(staging, ignore_errors=True)
    loaded = _inline_experiment(as_run.name, [as_run], replications=as_run.replications,
                                seed=as_run.seed, steps=[as_run.steps], timeseries=True,
                                metrics=list(METRICS), uncertainty=uncertainty)
    result = run_sweep(loaded, staging, executor=executor or _default_executor(workers),
                       workers=workers, scheduler=scheduler,
                       resume=resume and staging.exists(), on_progress=on_progress,
                       nations=True)
    runs = result.runs
    seeds = replication_seeds(as_run.seed, as_run.replications)
    nations = pd.read_parquet(staging / "nations.parquet")
    ts = pd.read_parquet(staging / "timeseries.parquet")
    world = world_of(as_run, seeds[0])  # the first replication's (names, capacities)
    doc = {
        "scenario": as_run.name,
        "description": as_run.description,
        "ctsim_version": _version(),
        "seed": int(as_run.seed),
        "replications": int(as_run.replications),
        "steps": int(as_run.steps),
        "run_seeds": [int(s) for s in seeds],
        "uncertainty": str(uncertainty) if uncertainty is not None else None,
        "metrics": metric_table(runs),
    }
    atomic_write(staging / "summary.json", (json.dumps(doc, indent=2) + "\n").encode())
    weekly = ts.merge(runs[["run_id", "replication", "seed"]], on="run_id")
    first = ["replication", "seed", "step"]
    weekly = weekly[first + [c for c in ts.columns if c not in ("run_id", "step")]]
    atomic_write(staging / "timeseries.csv",
               weekly.to_csv(index=False, float_format="%.6g").encode())
    havens = haven_table(world, nations)
    atomic_write(staging / "havens.csv", havens.to_csv(index=False, float_format="%.6g").encode())
    atomic_write(staging / "scenario.yaml",
               yaml.safe_dump(as_run.model_dump(mode="json"), sort_keys=False).encode())
    _swap_into_place(staging, out)
    return RunOutcome(out, as_run, doc, runs, havens, result.ran, result.skipped)


def run_figures(outcome: RunOutcome, fmt: str = "png") -> Path:
    """Draw a run's figures into ``outcome.out / "figures"`` (replacing the folder whole):
    outcomes over time, the section B channels over time (when the run uses one), the
    first replication's trust network and havens, the haven ranking. Returns the folder."""
    import pandas as pd

    from ctsim.analysis import figures
    from ctsim.runs.runner import run_one

    out = outcome.out
    sc = outcome.scenario
    ts = pd.read_csv(out / "timeseries.csv")
    model = run_one(sc, outcome.summary["run_seeds"][0], timeseries=False,
                    keep_model=True).model
    staging = out / ".figures.partial"
    shutil.rmtree(staging, ignore_errors=True)
    figures.save(figures.outcomes_over_time(ts, sc.name), staging / "outcomes", fmt)
    channels = figures.active_channels(ts)
    if channels:  # MODEL.md section B: only for a run that uses a channel
        figures.save(figures.channels_over_time(ts, sc.name, channels), staging / "channels",
                     fmt)
    network = (figures.world_trust_network if model.world.n > figures.LARGE_WORLD
               else figures.trust_network)
    figures.save(network(model, sc.name), staging / "trust_network", fmt)
    figures.save(figures.safe_havens(model, sc.name), staging / "safe_havens", fmt)
    figures.save(figures.haven_ranking(outcome.havens, sc.name, len(outcome.runs)),
                 staging / "haven_ranking", fmt)
    _swap_into_place(staging, out / "figures")
    return out / "figures"


# ---------------------------------------------------------------- compare


@dataclass
class Comparison:
    """What :func:`compare` measured: one row per metric and scenario, and the values."""

    rows: list[dict]
    values: dict[str, dict[str, list[float]]]  # scenario -> metric -> per replication
    baseline: str
    replications: int
    seed: int
    out: Path | None


def compare(scenarios: Sequence[Scenario | str | Path], *, replications: int = 20,
            seed: int = 2024, steps: int | None = None, metrics: Sequence[str] = (
                "disruption_rate",), sets: dict[str, Any] | None = None,
            out: str | Path | None = None, workers: int = 1, executor: str | None = None,
            scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
            on_progress: Progress | None = None, uncertainty: str | Path | None = None
            ) -> Comparison:
    """Run ``scenarios`` with the same seeds and compare each metric against the first.

    Every scenario runs replications ``replication_seeds(seed, replications)`` (common
    random numbers); each difference is the paired difference against the first scenario
    (ctsim.analysis.stats.paired_difference), its interval clipped to the metric's range; with
    ``uncertainty`` (a calibration's results folder) replication r of every scenario runs
    the r-th parameter set drawn from its posterior. With
    ``out``, writes comparison.csv and comparison.md beside the tables (into a hidden
    folder that then replaces ``out``); without, the tables go to a temporary folder.
    """
    from ctsim.analysis.stats import mean_ci, paired_difference
    from ctsim.core.outcomes import bounds_of
    from ctsim.core.simulation import check_size
    from ctsim.runs.sweeps import run_sweep

    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ExperimentError("--metric", "", f"unknown metric '{unknown[0]}' (one of "
                              f"{', '.join(METRICS)})")
    loaded_sc = [as_scenario(s, sets) for s in scenarios]
    for sc in loaded_sc:
        check_size(sc if steps is None else sc.with_overrides({"steps": steps}))
    target = Path(out) if out is not None else None
    if target is not None:
        check_output(target, overwrite=overwrite, resume=resume, marker="comparison.csv")
        staging = _staging(target)
        if not resume:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        staging = Path(tempfile.mkdtemp(prefix="ctsim-compare-")) / "tables"
    loaded = _inline_experiment("compare", loaded_sc, replications=replications, seed=seed,
                                steps=[steps or s.steps for s in loaded_sc],
                                timeseries=False, metrics=list(dict.fromkeys(metrics)),
                                uncertainty=uncertainty)
    try:
        result = run_sweep(loaded, staging, executor=executor or _default_executor(workers),
                           workers=workers, scheduler=scheduler,
                           resume=resume and staging.exists(), on_progress=on_progress)
        runs = result.runs.sort_values(["scenario", "replication"], kind="stable")
        values = {sc.name: {m: runs.loc[runs["scenario"] == sc.name, m].tolist()
                            for m in metrics} for sc in loaded_sc}
        first = loaded_sc[0].name
        rows = []
        for m in metrics:
            for sc in loaded_sc:
                v = values[sc.name][m]
                mean, lo, hi = mean_ci(v, bounds=bounds_of(m))
                dm, dlo, dhi = paired_difference(values[first][m], v, bounds=bounds_of(m))
                rows.append({"metric": m, "scenario": sc.name, "mean": mean, "ci95_lo": lo,
                             "ci95_hi": hi, "diff": dm, "diff_ci95_lo": dlo,
                             "diff_ci95_hi": dhi, "replications": replications, "seed": seed})
        if target is not None:
            _write_comparison(staging, rows, first)
            _swap_into_place(staging, target)
    finally:
        if target is None:
            shutil.rmtree(staging.parent, ignore_errors=True)
    return Comparison(rows, values, first, replications, seed, target)


def _write_comparison(out: Path, rows: list[dict], baseline: str) -> None:
    """comparison.csv and comparison.md: each metric's mean, interval and difference."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    atomic_write(out / "comparison.csv", frame.to_csv(index=False, float_format="%.6g").encode())
    lines = []
    for metric, sub in frame.groupby("metric", sort=False):
        lines += [f"### {metric}", "",
                  f"| scenario | mean | 95% interval | difference vs {baseline} | 95% interval |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for r in sub.itertuples():
            base = r.scenario == baseline
            lines.append(
                f"| {r.scenario} | {r.mean:.3f} | [{r.ci95_lo:.3f}, {r.ci95_hi:.3f}] | "
                + ("" if base else f"{r.diff:+.3f}") + " | "
                + ("" if base else f"[{r.diff_ci95_lo:+.3f}, {r.diff_ci95_hi:+.3f}]") + " |")
        lines.append("")
    atomic_write(out / "comparison.md", "\n".join(lines).encode())


def comparison_figure(comparison: Comparison, fmt: str = "png") -> Path:
    """Draw the comparison's figure (each metric's mean and 95% interval) into its folder."""
    from ctsim.analysis import figures
    assert comparison.out is not None
    metrics = list(dict.fromkeys(r["metric"] for r in comparison.rows))
    fig = figures.comparison(comparison.values, metrics, comparison.baseline,
                             f"{len(comparison.values)} scenarios, {comparison.replications} "
                             "paired runs each")
    return figures.save(fig, comparison.out / "comparison", fmt)


# ---------------------------------------------------------------- sweep


def sweep(experiment: str | Path | LoadedExperiment, *, out: str | Path | None = None,
          workers: int = 2,
          executor: str = "process", scheduler: str | None = None, resume: bool = False,
          replications: int | None = None, steps: int | None = None,
          on_progress: Progress | None = None):
    """Run (or resume) an experiment file into ``out`` (default: results/<its name>).

    ``experiment``: a file, a shipped experiment's name, or one already loaded (then
    ``replications`` and ``steps`` are its own); ``replications`` and ``steps`` replace the
    file's, to try a shipped experiment small. Returns :class:`ctsim.runs.sweeps.SweepResult`.
    """
    from ctsim.runs.experiment import LoadedExperiment, load_experiment
    from ctsim.runs.sweeps import run_sweep

    if isinstance(experiment, LoadedExperiment):
        loaded = experiment
    else:
        loaded = load_experiment(resources.resolve(str(experiment), "experiments"),
                                 replications=replications, steps=steps)
    target = Path(out) if out is not None else Path("results") / loaded.spec.name
    check_output(target, resume=resume)
    return run_sweep(loaded, target, executor="dask" if scheduler else executor,
                     workers=workers, scheduler=scheduler, resume=resume,
                     on_progress=on_progress)


def _default_executor(workers: int) -> str:
    return "serial" if workers <= 1 else "process"


def _version() -> str:
    from ctsim._version import __version__
    return __version__
