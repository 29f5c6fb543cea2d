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

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ctsim import resources
from ctsim.analysis.snapshot import SNAPSHOT_FILE, RunSnapshot
from ctsim.core.outputs import METRICS
from ctsim.core.scenario import Scenario, load_scenario
from ctsim.errors import CtsimError, ExperimentError, OutputError, ScenarioError
from ctsim.runs.arguments import check_arguments
from ctsim.runs.store import atomic_write, check_place, folder_lock, writing

if TYPE_CHECKING:
    import pandas as pd

    from ctsim.analysis.report import RunInputs
    from ctsim.runs.experiment import LoadedExperiment

#: A progress callback: (runs done in this batch, of which failed).
Progress = Callable[[int, int], None]


# ---------------------------------------------------------------- output places


def check_output(out: Path, *, overwrite: bool = False, resume: bool = False,
                 marker: str = "manifest.json", name_checked: bool = False) -> None:
    """Check, before anything runs, that results can be written at ``out``.

    ``out`` may be missing, an empty folder, or a folder of ctsim results (holding
    ``marker``) when ``overwrite`` or ``resume`` allows it. ``name_checked``: the caller
    has already checked the place itself (:func:`_absolute`; each check probes the folder
    with a file made and removed).

    Raises:
        OutputError: an empty name, a file in the way, a folder that holds other files or
            earlier results without ``overwrite``/``resume``, or a place that cannot be
            written.
    """
    if not name_checked:
        _check_name(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / marker).exists():
            raise OutputError(f"{out}: holds files that are not ctsim results; choose an "
                              "empty or new folder")
        if not (overwrite or resume):
            raise OutputError(f"{out}: holds earlier results; add --overwrite to replace them "
                              "(or --resume to continue them) or choose another --out")


def _check_name(out: Path) -> None:
    """Refuse, creating nothing, an output place that cannot be used: an empty name, the
    current folder, a name the system refuses, a place that cannot be written
    (:func:`ctsim.runs.store.check_place`; OutputError)."""
    check_place(out)


def _absolute(out: Path) -> Path:
    """``out`` made absolute without following links, so that every spelling of a folder
    takes the same lock (:func:`ctsim.runs.store.folder_lock`); checked for a name first."""
    _check_name(out)
    return Path(os.path.abspath(out))


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


#: The scenario keys a command sets for its runs (``--seed``, ``--steps``,
#: ``--replications``): top-level numbers that no other key's check reads.
RUN_SETTINGS = ("seed", "steps", "replications")


def with_run_settings(sc: Scenario, **given: int | None) -> Scenario:
    """``sc`` with the run's own ``seed``, ``steps`` and ``replications`` (None: the
    scenario's), each checked against its key's range as in a file. The rest of the
    scenario is not validated again: these keys stand alone.

    Raises:
        ScenarioError: a value outside its key's range, or not a whole number.
    """
    from pydantic import ValidationError, create_model

    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return sc
    unknown = set(given) - set(RUN_SETTINGS)
    if unknown:
        raise TypeError(f"not a run setting: {', '.join(sorted(unknown))}")
    for key, value in given.items():
        if isinstance(value, bool):
            raise ScenarioError("<overrides>", key, f"expected a number, not {str(value).lower()}")
    fields = Scenario.model_fields
    checked = create_model("RunSettings", **{k: (fields[k].annotation, fields[k])
                                             for k in given})
    try:
        values = checked(**given)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = str(err["loc"][0])
        msg = err["msg"][:1].lower() + err["msg"][1:]
        raise ScenarioError("<overrides>", key, f"{msg}, got {given[key]!r}") from None
    return sc.model_copy(update={k: getattr(values, k) for k in given})


def _refuse_other_results(out: Path, loaded: LoadedExperiment, what: str) -> None:
    """Refuse ``--resume`` over the finished results in ``out`` unless they are of this very
    run or comparison (the same fingerprint): a resume would replace them whole.

    Raises:
        OutputError: ``out`` holds the results of other scenarios or other settings (or a
            manifest that cannot tell).
    """
    from ctsim.runs.sweeps import fingerprint

    try:
        stored = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        stored = None
    if isinstance(stored, dict) and stored.get("fingerprint") == fingerprint(loaded):
        return
    names = stored.get("scenarios") if isinstance(stored, dict) else None
    held = (", ".join(f"'{n}'" for n in names) if isinstance(names, list) and names
            and all(isinstance(n, str) for n in names) else "other runs")
    raise OutputError(f"{out}: holds the finished results of {held} with other scenarios or "
                      f"settings; --resume continues only an interrupted {what}: add "
                      "--overwrite to replace them or choose another --out")


# ---------------------------------------------------------------- run


@dataclass
class RunOutcome:
    """What :func:`run` wrote: the folder, the summary document, the counts of runs made
    and resumed, and what its figures are drawn from (the first replication's snapshot;
    the weekly record and the haven table). The tables come as pandas DataFrames, made on
    first use from the columns the run kept: the ``ctsim`` command itself never needs
    them as DataFrames, nor pandas."""

    out: Path
    scenario: Scenario
    summary: dict
    ran: int
    resumed: int
    snapshot: RunSnapshot | None = None
    #: The kept tables by name, ``runs`` (one row a replication), ``timeseries`` (one row
    #: a replication and week) and ``havens`` (one row a nation): each a DataFrame, an
    #: Arrow table or a mapping of column names to arrays.
    tables: dict[str, Any] = field(default_factory=dict, repr=False)
    _frames: dict[str, Any] = field(default_factory=dict, init=False, repr=False,
                                    compare=False)

    @property
    def runs(self) -> pd.DataFrame:
        """One row a replication: its seed, status and every metric (runs.parquet)."""
        return self._frame("runs")

    @property
    def timeseries(self) -> pd.DataFrame:
        """One row a replication and week: ``replication``, ``seed``, ``step`` and the
        weekly record (timeseries.csv)."""
        return self._frame("timeseries")

    @property
    def havens(self) -> pd.DataFrame:
        """One row a nation, largest haven first (havens.csv,
        :func:`ctsim.analysis.tables.haven_columns`)."""
        return self._frame("havens")

    def _frame(self, name: str) -> pd.DataFrame:
        frame = self._frames.get(name)
        if frame is None:
            frame = self._frames[name] = _as_frame(self.tables[name])
        return frame


def _as_frame(table: Any) -> pd.DataFrame:
    """A DataFrame of a table kept by :func:`run`: a DataFrame as it is, an Arrow table
    converted, a mapping of columns made into one."""
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        return table
    if hasattr(table, "to_pandas"):
        return table.to_pandas()
    return pd.DataFrame(dict(table))


def _columns(table: Any) -> dict[str, np.ndarray]:
    """A table's columns as NumPy arrays, by name (a pandas DataFrame or an Arrow table,
    the latter read without pandas: :func:`ctsim.runs.columns.numpy_column`)."""
    names = table.column_names if hasattr(table, "column_names") else table.columns
    return {name: _column(table, name) for name in names}


def _column(table: Any, name: str) -> np.ndarray:
    """One column of a DataFrame, an Arrow table or a mapping of columns, as an array."""
    if hasattr(table, "column_names"):  # an Arrow table
        from ctsim.runs.columns import numpy_column

        return numpy_column(table.column(name))
    values = table[name]
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _weekly(timeseries: dict[str, np.ndarray], runs: dict[str, np.ndarray]
            ) -> dict[str, np.ndarray]:
    """timeseries.csv's columns: each week of a stored run with its ``replication`` and
    ``seed`` (from the runs table, by ``run_id``; it holds at least one run), then
    ``step`` and the weekly record, in the time series' order."""
    ids, run_ids = timeseries["run_id"], runs["run_id"]
    order = np.argsort(run_ids, kind="stable")
    row = order[np.minimum(np.searchsorted(run_ids, ids, sorter=order), len(run_ids) - 1)]
    kept = run_ids[row] == ids  # a week of a run the table does not hold is left out
    row = row[kept]
    return {"replication": runs["replication"][row], "seed": runs["seed"][row],
            "step": timeseries["step"][kept],
            **{k: v[kept] for k, v in timeseries.items() if k not in ("run_id", "step")}}


def run(scenario: Scenario | str | Path, *, replications: int | None = None,
        seed: int | None = None, steps: int | None = None, sets: dict[str, Any] | None = None,
        out: str | Path | None = None, workers: int = 1, executor: str | None = None,
        scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
        on_progress: Progress | None = None, uncertainty: str | Path | None = None,
        figures: str | None = None) -> RunOutcome:
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
        resume: continue an interrupted run into the same ``out`` (refused over the
            finished results of another scenario or other settings).
        overwrite: replace earlier results in ``out``.
        on_progress: called after each batch with (runs done, runs failed).
        uncertainty: a calibration's results folder: replication r runs with the r-th
            parameter set drawn from its posterior (from ``seed``), so the intervals carry
            the parameters' uncertainty as well as the runs' chance.
        figures: also draw the run's figures in this format ("png", "svg" or "pdf") into
            ``out/figures``; None (the default) writes the numbers only.

    Writes summary.json, timeseries.csv, havens.csv, scenario.yaml, runs.parquet,
    timeseries.parquet, nations.parquet, snapshot.npz (the first replication's world and
    end, which the figures draw: ``ctsim report`` draws them again from the folder) and
    manifest.json, and the figures when asked, first into a hidden folder beside ``out``
    that then replaces ``out`` whole. The scenario is validated once; each replication
    draws its world once, and the tables and the snapshot are kept from the runs, not
    read back or run again. The folder is locked (:func:`ctsim.runs.store.folder_lock`)
    from the first check to the last rename: a second writer is refused at once.

    Raises:
        CtsimError: a mistake in the scenario or options, an output place that cannot be
            used or is being written by another command (:class:`OutputError`), or a
            first replication that failed.
    """
    check_arguments("run", locals())
    import yaml

    from ctsim.analysis.tables import csv_bytes, haven_columns, metric_table
    from ctsim.core.simulation import check_size
    from ctsim.runs.seeds import replication_seeds
    from ctsim.runs.sweeps import run_sweep

    as_run = with_run_settings(as_scenario(scenario, sets), seed=seed, steps=steps,
                               replications=replications)
    check_size(as_run)
    out = Path(out) if out is not None else Path("results") / as_run.name
    with folder_lock(_absolute(out)), writing(out):
        check_output(out, overwrite=overwrite, resume=resume, marker="summary.json",
                     name_checked=True)
        loaded = _inline_experiment(as_run.name, [as_run], replications=as_run.replications,
                                    seed=as_run.seed, steps=[as_run.steps], timeseries=True,
                                    metrics=list(METRICS), uncertainty=uncertainty)
        staging = _staging(out)
        if resume and (out / "summary.json").exists() and not staging.exists():
            _refuse_other_results(out, loaded, f"run of '{as_run.name}' with these settings")
        if not resume:
            shutil.rmtree(staging, ignore_errors=True)
        result = run_sweep(loaded, staging, executor=executor or _default_executor(workers),
                           workers=workers, scheduler=scheduler,
                           resume=resume and staging.exists(), on_progress=on_progress,
                           nations=True, snapshot=0, keep_tables=True, scenarios=(as_run,))
        stored = result.held if result.held is not None else result.runs  # as merged
        runs = _columns(stored)
        if not len(runs["status"]) or runs["status"][0] != "ok":
            shutil.rmtree(staging, ignore_errors=True)
            why = runs["error"][0] if len(runs["status"]) else "no run stored"
            raise CtsimError(f"{as_run.name}: the first replication failed ({why}); "
                             "nothing written")
        # Taken by this call, or by the interrupted one it resumes (stored with its run).
        snapshot = result.snapshot or RunSnapshot.load(staging / SNAPSHOT_FILE)
        seeds = replication_seeds(as_run.seed, as_run.replications)
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
        weekly = _weekly(_columns(result.tables["timeseries.parquet"]), runs)
        atomic_write(staging / "timeseries.csv", csv_bytes(weekly))
        havens = haven_columns(snapshot.world, _columns(result.tables["nations.parquet"]))
        atomic_write(staging / "havens.csv", csv_bytes(havens))
        atomic_write(staging / "scenario.yaml",
                     yaml.safe_dump(as_run.model_dump(mode="json"), sort_keys=False).encode())
        outcome = RunOutcome(out, as_run, doc, result.ran, result.skipped, snapshot,
                             {"runs": stored, "timeseries": weekly, "havens": havens})
        if figures is not None:
            from ctsim.analysis.report import draw_run_figures  # matplotlib: only for these

            draw_run_figures(_run_inputs(outcome), staging / "figures", figures)
        _swap_into_place(staging, out)
    return outcome


def _run_inputs(outcome: RunOutcome) -> RunInputs:
    """What a run's figures are drawn from, as :func:`run` holds it (its tables as kept,
    not made into DataFrames)."""
    from ctsim.analysis.report import RunInputs

    ok = int((_column(outcome.tables["runs"], "status") == "ok").sum())
    return RunInputs(outcome.scenario.name, outcome.tables["timeseries"], outcome.snapshot,
                     outcome.tables["havens"], ok)


def run_figures(outcome: RunOutcome, fmt: str = "png") -> Path:
    """Draw a run's figures into ``outcome.out / "figures"`` (replacing the folder whole,
    under the folder's lock): outcomes over time, the section B channels over time (when
    the run uses one), the first replication's trust network and havens, the haven
    ranking (:func:`ctsim.analysis.report.draw_run_figures`). Returns the folder.

    ``ctsim run`` draws them before its folder is put in place (``run(figures=...)``);
    this is for a RunOutcome at hand, drawn from what it holds (nothing is read or run).
    """
    from ctsim.analysis.report import draw_run_figures

    out = outcome.out
    with folder_lock(_absolute(out)), writing(out):
        staging = out / ".figures.partial"
        shutil.rmtree(staging, ignore_errors=True)
        draw_run_figures(_run_inputs(outcome), staging, fmt)
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
            on_progress: Progress | None = None, uncertainty: str | Path | None = None,
            figure: str | None = None) -> Comparison:
    """Run ``scenarios`` with the same seeds and compare each metric against the first.

    Every scenario runs replications ``replication_seeds(seed, replications)`` (common
    random numbers); each difference is the paired difference against the first scenario
    (ctsim.analysis.stats.paired_difference), its interval clipped to the metric's range; with
    ``uncertainty`` (a calibration's results folder) replication r of every scenario runs
    the r-th parameter set drawn from its posterior. With
    ``out``, writes comparison.csv and comparison.md beside the tables, and with
    ``figure`` (a format: "png", "svg" or "pdf") the comparison's figure, into a hidden
    folder that then replaces ``out``, all under the folder's lock; without ``out``, the
    tables go to a temporary folder. ``resume`` is refused over the finished comparison
    of other scenarios or settings.
    """
    check_arguments("compare", locals())
    from ctsim.core.simulation import check_size

    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ExperimentError("--metric", "", f"unknown metric '{unknown[0]}' (one of "
                              f"{', '.join(METRICS)})")
    loaded_sc = [with_run_settings(as_scenario(s, sets), steps=steps) for s in scenarios]
    for sc in loaded_sc:
        check_size(sc)
    target = Path(out) if out is not None else None
    # a full disk is one line (without ``out``, the tables go to a temporary folder)
    with (folder_lock(_absolute(target)) if target is not None
          else contextlib.nullcontext()), writing(target or Path(tempfile.gettempdir())):
        return _compare(loaded_sc, target, replications=replications, seed=seed,
                        metrics=metrics, workers=workers, executor=executor,
                        scheduler=scheduler, resume=resume, overwrite=overwrite,
                        on_progress=on_progress, uncertainty=uncertainty, figure=figure)


def _compare(loaded_sc: list[Scenario], target: Path | None, *, replications: int, seed: int,
             metrics: Sequence[str], workers: int, executor: str | None,
             scheduler: str | None, resume: bool, overwrite: bool,
             on_progress: Progress | None, uncertainty: str | Path | None,
             figure: str | None) -> Comparison:
    """:func:`compare` once its scenarios are loaded and ``target`` locked."""
    from ctsim.analysis.stats import mean_ci, paired_difference
    from ctsim.core.outputs import bounds_of
    from ctsim.runs.sweeps import run_sweep

    loaded = _inline_experiment("compare", loaded_sc, replications=replications, seed=seed,
                                steps=[s.steps for s in loaded_sc],
                                timeseries=False, metrics=list(dict.fromkeys(metrics)),
                                uncertainty=uncertainty)
    if target is not None:
        check_output(target, overwrite=overwrite, resume=resume, marker="comparison.csv")
        staging = _staging(target)
        if resume and (target / "comparison.csv").exists() and not staging.exists():
            _refuse_other_results(target, loaded, "comparison of these scenarios with these "
                                  "settings")
        if not resume:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        staging = Path(tempfile.mkdtemp(prefix="ctsim-compare-")) / "tables"
    try:
        result = run_sweep(loaded, staging, executor=executor or _default_executor(workers),
                           workers=workers, scheduler=scheduler,
                           resume=resume and staging.exists(), on_progress=on_progress,
                           scenarios=tuple(loaded_sc))
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
        comparison = Comparison(rows, values, first, replications, seed, target)
        if target is not None:
            _write_comparison(staging, rows, first)
            if figure is not None:
                _draw_comparison(comparison, staging, figure)
            _swap_into_place(staging, target)
    finally:
        if target is None:
            shutil.rmtree(staging.parent, ignore_errors=True)
    return comparison


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


def _draw_comparison(comparison: Comparison, folder: Path, fmt: str) -> Path:
    """The comparison's figure (each metric's mean and 95% interval) in ``folder``."""
    from ctsim.analysis import figures

    metrics = list(dict.fromkeys(r["metric"] for r in comparison.rows))
    fig = figures.comparison(comparison.values, metrics, comparison.baseline,
                             f"{len(comparison.values)} scenarios, {comparison.replications} "
                             "paired runs each")
    return figures.save(fig, folder / "comparison", fmt)


def comparison_figure(comparison: Comparison, fmt: str = "png") -> Path:
    """Draw the comparison's figure (each metric's mean and 95% interval) into its folder,
    under the folder's lock (``ctsim compare`` draws it before the folder is put in place:
    ``compare(figure=...)``)."""
    if comparison.out is None:
        raise OutputError("the comparison was not written to a folder (give compare an out)")
    with folder_lock(_absolute(comparison.out)), writing(comparison.out):
        return _draw_comparison(comparison, comparison.out, fmt)


# ---------------------------------------------------------------- sweep


def sweep(experiment: str | Path | LoadedExperiment, *, out: str | Path | None = None,
          workers: int = 2,
          executor: str = "process", scheduler: str | None = None, resume: bool = False,
          replications: int | None = None, steps: int | None = None,
          on_progress: Progress | None = None):
    """Run (or resume) an experiment file into ``out`` (default: results/<its name>).

    ``experiment``: a file, a shipped experiment's name, or one already loaded (then
    ``replications`` and ``steps`` are its own); ``replications`` and ``steps`` replace the
    file's, to try a shipped experiment small. The folder is locked for the whole sweep
    (:func:`ctsim.runs.store.folder_lock`). Returns :class:`ctsim.runs.sweeps.SweepResult`.
    """
    check_arguments("sweep", locals())
    from ctsim.runs.experiment import LoadedExperiment, load_experiment
    from ctsim.runs.sweeps import run_sweep

    if isinstance(experiment, LoadedExperiment):
        loaded = experiment
    else:
        loaded = load_experiment(resources.resolve(str(experiment), "experiments"),
                                 replications=replications, steps=steps)
    target = Path(out) if out is not None else Path("results") / loaded.spec.name
    with folder_lock(_absolute(target)), writing(target):
        check_output(target, resume=resume)
        return run_sweep(loaded, target, executor="dask" if scheduler else executor,
                         workers=workers, scheduler=scheduler, resume=resume,
                         on_progress=on_progress)


def _default_executor(workers: int) -> str:
    return "serial" if workers <= 1 else "process"


def _version() -> str:
    from ctsim._version import __version__
    return __version__
