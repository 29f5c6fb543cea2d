"""Reports from stored results: the figures that fit a sweep's design, and REPORT.md.

:func:`build_report` reads a results folder (runs.parquet, manifest.json, and when present
timeseries.parquet and sensitivity.csv; for a run folder also nations.parquet and the
first replication's snapshot) and writes the figures and a REPORT.md whose sentences are
generated from the numbers. :func:`barrier_effects` and friends compute those numbers, so
tests can hold each sentence against them. :func:`draw_run_figures` draws a run's figures,
for ``ctsim run`` from what it holds in memory and for ``ctsim report`` from the folder.

A stored folder is input a user may have edited or damaged: anything in it that is not what
ctsim writes there is a one-line :class:`~ctsim.errors.ResultsError`, and only the names
of declared metrics (:data:`ctsim.core.outputs.METRICS`) become parts of file names.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ctsim.analysis import figures, layout
from ctsim.analysis.stats import paired_difference
from ctsim.core.outputs import METRICS, bounds_of, shown_on
from ctsim.errors import OutputError, ResultsError
from ctsim.writing import atomic_write

if TYPE_CHECKING:
    import pandas as pd

    from ctsim.analysis.snapshot import RunSnapshot
    from ctsim.analysis.tables import Columns

HEADLINE_METRIC = "disruption_rate"
#: Where ``ctsim discover`` writes into a results folder, and its section's file there
#: (:mod:`ctsim.analysis.discover`); REPORT.md includes that section when it exists.
DISCOVERY_FOLDER, DISCOVERY_DOC = "discovery", "DISCOVERY.md"
#: The metrics the report compares scenarios on, and those it draws response curves of
#: (declared with the ``report`` and ``curves`` surfaces), headline first.
REPORTED = tuple(o.name for o in shown_on("report", METRICS))
CURVES = tuple(o.name for o in shown_on("curves", METRICS))

#: What a manifest must hold for a report, and the type of each value.
_REQUIRED = {"experiment": str, "design": str, "replications": int, "seed": int,
             "ctsim_version": str}
#: What it may hold, and the type of each value (None is allowed where a key is optional).
_OPTIONAL = {"description": str, "factors": dict, "metrics": list, "scenarios": list,
             "runs_per_draw": int,
             "uncertainty": str, "snapshot": str, "complete": bool}
#: The columns of a sensitivity.csv per design, and which of them are numbers.
_SENSITIVITY = {"morris": ("mu_star", "mu_star_conf", "sigma"),
                "sobol": ("S1", "S1_conf", "ST", "ST_conf")}


@dataclass
class Results:
    """A sweep's (or a run's, or a comparison's) stored results."""

    folder: Path
    runs: pd.DataFrame
    manifest: dict
    timeseries: pd.DataFrame | None
    sensitivity: pd.DataFrame | None

    @property
    def factors(self) -> list[str]:
        """The experiment's factor keys, in file order."""
        return list(self.manifest.get("factors") or {})

    @property
    def metrics(self) -> list[str]:
        """The stored metrics the report may draw: those the manifest lists that ctsim
        declares (:data:`METRICS`), in the manifest's order."""
        return [m for m in self.manifest.get("metrics") or [] if m in METRICS]

    @property
    def ok(self) -> pd.DataFrame:
        """Runs that finished."""
        return self.runs[self.runs["status"] == "ok"]


def load_results(folder: str | Path) -> Results:
    """Read a results folder and check it holds what ctsim writes there.

    Raises:
        ResultsError: a file is missing, unreadable or not what ctsim writes there (a
            manifest without a key it needs or with a value of another type, a runs table
            without a column its manifest names, a sensitivity table without its indices),
            or no run in it finished.
    """
    import pandas as pd

    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder" if not folder.exists()
                           else f"{folder}: not a folder")
    for name in ("runs.parquet", "manifest.json"):
        if not (folder / name).is_file():
            raise ResultsError(f"{folder}: no {name} (is this a ctsim results folder?)")
    manifest = _manifest(folder / "manifest.json")
    runs = _read_table(folder / "runs.parquet", pd.read_parquet)
    where = folder / "runs.parquet"
    for column in ("run_id", "status", "scenario", "replication"):
        if column not in runs:
            raise ResultsError(f"{where}: no '{column}' column")
    for column in list(manifest.get("factors") or {}) + list(manifest.get("metrics") or []):
        if column not in runs:
            raise ResultsError(f"{where}: no '{column}' column (its manifest.json names it)")
    for column in manifest.get("metrics") or []:
        if not pd.api.types.is_numeric_dtype(runs[column]) or \
                pd.api.types.is_bool_dtype(runs[column]):
            raise ResultsError(f"{where}: column '{column}' does not hold numbers")
    if runs.empty:
        raise ResultsError(f"{where}: holds no runs; there is nothing to report")
    finished = int((runs["status"] == "ok").sum())
    if finished == 0:
        raise ResultsError(f"{where}: none of its {len(runs)} runs finished (see the status "
                           "and error columns); there is nothing to report")
    ts_path, sens_path = folder / "timeseries.parquet", folder / "sensitivity.csv"
    ts = _read_table(ts_path, pd.read_parquet) if ts_path.is_file() else None
    if ts is not None:
        _numeric_columns(ts, ("run_id", "step", HEADLINE_METRIC), ts_path)
    sens = None
    design = manifest["design"]
    if sens_path.is_file() and design in _SENSITIVITY:
        sens = _read_table(sens_path, pd.read_csv)
        for column in ("metric", "factor"):
            if column not in sens:
                raise ResultsError(f"{sens_path}: no '{column}' column")
        _numeric_columns(sens, _SENSITIVITY[design], sens_path)
        sens = sens.assign(metric=sens["metric"].astype(str), factor=sens["factor"].astype(str))
    return Results(folder, runs, manifest, ts, sens)


def _manifest(path: Path) -> dict[str, Any]:
    """A results folder's manifest.json, checked for the keys a report reads."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(manifest, dict) or not manifest.get("complete", True):
        raise ResultsError(f"{path}: not the manifest of finished results "
                           "(resume the sweep first)")
    for key, kind in (_REQUIRED | _OPTIONAL).items():
        if key not in manifest or (manifest[key] is None and key in _OPTIONAL):
            if key in _REQUIRED:
                raise ResultsError(f"{path}: no '{key}' (not the manifest ctsim writes)")
            continue
        value = manifest[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ResultsError(f"{path}: '{key}' should be {_KINDS[kind]}, not "
                               f"{type(value).__name__}")
    factors = manifest.get("factors") or {}
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in factors.items()):
        raise ResultsError(f"{path}: 'factors' should map each factor to its settings")
    for key in ("metrics", "scenarios"):
        if not all(isinstance(v, str) for v in manifest.get(key) or []):
            raise ResultsError(f"{path}: '{key}' should be a list of names")
    return manifest


_KINDS = {str: "text", int: "a whole number", dict: "a mapping", list: "a list",
          bool: "true or false"}


def _numeric_columns(table: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    """Raise ResultsError unless ``table`` has each of ``columns`` holding numbers."""
    import pandas as pd

    for column in columns:
        if column not in table:
            raise ResultsError(f"{path}: no '{column}' column")
        if not pd.api.types.is_numeric_dtype(table[column]) or \
                pd.api.types.is_bool_dtype(table[column]):
            raise ResultsError(f"{path}: column '{column}' does not hold numbers")


def _read_table(path: Path, reader) -> pd.DataFrame:
    """A stored table, or a ResultsError saying which file cannot be read."""
    try:
        return reader(path)
    except Exception as exc:  # any parser's failure on a damaged file is the user's to fix
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None


# ---------------------------------------------------------------- numbers behind sentences


@dataclass
class Effect:
    """The change in a metric from a factor's first level to its last, within one group."""

    factor: str
    group: str
    low: object
    high: object
    at_low: float
    at_high: float
    diff: float
    diff_lo: float
    diff_hi: float
    pairs: int

    @property
    def significant(self) -> bool:
        """Whether the 95% interval of the difference excludes zero."""
        return self.diff_lo > 0 or self.diff_hi < 0


def _levels(values: pd.Series) -> list:
    return figures._order(values.dropna())


def barrier_effects(results: Results, metric: str = HEADLINE_METRIC,
                    by: str | None = None) -> list[Effect]:
    """For each swept factor (and group), the metric at its first and last level.

    Runs at the two levels are paired by replication (they share seeds: common random
    numbers), and the difference's 95% interval is the Student-t interval of the paired
    differences. A factor (or group) with no pair of finished runs at both levels has no
    effect to state and is left out.
    """
    import pandas as pd

    runs = results.ok
    out = []
    swept = [f for f in results.factors if not results.manifest["factors"][f].get("cross")]
    for factor in swept:
        data = runs[runs["sweep"] == factor] if "sweep" in runs else runs
        groups = figures._order(data[by]) if by else [None]
        for g in groups:
            sub = data[data[by] == g] if by else data
            levels = _levels(sub[factor])
            if len(levels) < 2:
                continue
            lo_runs = sub[sub[factor] == levels[0]].set_index("replication")[metric]
            hi_runs = sub[sub[factor] == levels[-1]].set_index("replication")[metric]
            lo_runs = lo_runs.groupby(level=0).mean()
            hi_runs = hi_runs.groupby(level=0).mean()
            both = pd.concat([lo_runs, hi_runs], axis=1, join="inner").dropna()
            paired = (both.iloc[:, 1] - both.iloc[:, 0]).dropna()
            if paired.empty:
                continue
            d, dlo, dhi = paired_difference(both.iloc[:, 0], both.iloc[:, 1],
                                            bounds=bounds_of(metric))
            out.append(Effect(factor, str(g) if g is not None else "", levels[0], levels[-1],
                              float(lo_runs.mean()), float(hi_runs.mean()), d, dlo, dhi,
                              len(paired)))
    return out


def _num(v: object) -> str:
    return f"{v:g}" if isinstance(v, int | float | np.floating | np.integer) else str(v)


def effect_sentence(e: Effect, metric: str = HEADLINE_METRIC) -> str:
    """One plain sentence stating an :class:`Effect` with its interval."""
    verb = "lowers" if e.diff < 0 else "raises"
    where = f"Under the {e.group} regime, r" if e.group else "R"
    sure = "" if e.significant else " (not distinguishable from no change at 95%)"
    return (f"{where}aising {layout.factor_label(e.factor)} (`{e.factor}`) from "
            f"{_num(e.low)} to {_num(e.high)} {verb} the {metric.replace('_', ' ')} from "
            f"{e.at_low:.3f} to {e.at_high:.3f}: a change of {e.diff:+.3f} (95% interval "
            f"{e.diff_lo:+.3f} to {e.diff_hi:+.3f}, {e.pairs} paired runs){sure}.")


def headline_sentences(effects: list[Effect], metric: str = HEADLINE_METRIC) -> list[str]:
    """Which barrier costs most and which lever recovers most, per group."""
    lines = []
    for g in dict.fromkeys(e.group for e in effects):
        mine = [e for e in effects if e.group == g]
        barriers = [e for e in mine if e.diff < 0 and e.significant]
        levers = [e for e in mine if e.diff > 0 and e.significant]
        where = f"under the {g} regime" if g else "in this sweep"
        if barriers:
            worst = min(barriers, key=lambda e: e.diff)
            lines.append(f"The costliest barrier {where} is {layout.factor_label(worst.factor)}:"
                         f" from none to severe it takes {abs(worst.diff):.3f} off the "
                         f"{metric.replace('_', ' ')}.")
        if levers:
            best = max(levers, key=lambda e: e.diff)
            lines.append(f"The lever that recovers most {where} is "
                         f"{layout.factor_label(best.factor)}: {best.diff:+.3f} from "
                         f"{_num(best.low)} to {_num(best.high)}.")
        elif barriers:
            lines.append(f"No factor swept here raises the {metric.replace('_', ' ')} "
                         f"{where}.")
    return lines


# ---------------------------------------------------------------- the report


def _base_values(results: Results) -> dict:
    """Each factor's value in the base scenario (oat: the value on other factors' rows)."""
    runs = results.runs
    if "sweep" not in runs:
        return {}
    out = {}
    for f in results.factors:
        other = runs[(runs["sweep"] != f) & runs[f].notna()][f]
        out[f] = other.iloc[0] if len(other) and other.nunique() == 1 else None
    return out


def build_report(folder: str | Path, out: str | Path | None = None,
                 fmt: str = "png") -> Path:
    """Write the figures that fit the results and REPORT.md; return REPORT.md's path.

    A sweep's or comparison's folder gets the figures of its design; a run folder
    (``ctsim run``) gets the run's own figures (:func:`draw_run_figures`), drawn again
    from its tables and the snapshot of its first replication.

    Raises:
        ResultsError: the folder does not hold finished ctsim results.
        OutputError: ``out`` (default: the folder itself) is a file or cannot be written.
    """
    results = load_results(folder)
    out = Path(out) if out else results.folder
    run = _run_inputs(results)
    check_report_place(out)
    try:
        text = (_run_report(results, run, out, fmt) if run is not None
                else _sweep_report(results, out, fmt))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror or exc})") from None
    path = out / "REPORT.md"
    atomic_write(path, text.encode("utf-8"))
    return path


def check_report_place(out: Path) -> None:
    """Check, before anything is drawn, that a report can be written into folder ``out``.

    Raises:
        OutputError: ``out`` is a file, or a folder that cannot be made or written.
    """
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".report-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror or exc})") from None


def _header(results: Results) -> list[str]:
    """The report's title and its first paragraph: design, runs counted from the table."""
    m = results.manifest
    total, ok = len(results.runs), len(results.ok)
    failed = total - ok
    description = (m.get("description") or "").strip()
    lines = [f"# {m['experiment']}: results", "", *([description, ""] if description else []),
             f"Design `{m['design']}`, {total} runs ({ok} ok, {failed} failed), "
             f"{m['replications']} replications per point, seed {m['seed']}, "
             f"ctsim {m['ctsim_version']}. Intervals are 95% Student-t intervals over "
             "replications; differences are paired by replication (common random numbers).",
             ""]
    if failed:
        lines += [f"{failed} of the {total} runs failed: they are left out of every figure "
                  "and number below (their errors are in the `error` column of "
                  "`runs.parquet`).", ""]
    if m.get("uncertainty"):
        lines += [f"Each replication ran with its own parameter set drawn from the posterior "
                  f"of `{m['uncertainty']}` (the same set in every scenario), so the intervals "
                  "carry the parameters' uncertainty as well as the runs' chance.", ""]
    return lines


def _sweep_report(results: Results, out: Path, fmt: str) -> str:
    """The figures that fit a sweep's (or comparison's) design, drawn into ``out/figures``,
    and REPORT.md's text."""
    fig_dir = out / "figures"
    m = results.manifest
    name, design = m["experiment"], m["design"]
    metrics = results.metrics
    factors = m.get("factors") or {}
    cross = [f for f, spec in factors.items() if spec.get("cross")]
    swept = [f for f in results.factors if f not in cross]
    scenarios = m.get("scenarios") or []
    by = cross[0] if cross else ("scenario" if len(scenarios) > 1 else None)
    lines = _header(results)

    def figure(fig, stem: str, caption: str) -> None:
        path = figures.save(fig, fig_dir / stem, fmt)
        lines.extend([f"![{caption}]({path.relative_to(out).as_posix()})", "",
                      f"*{caption}*", ""])

    if (design in ("oat", "lhs", "random") and swept) or (design == "grid" and len(swept) == 1):
        lines += ["## Response curves", ""]
        for metric in [x for x in CURVES if x in metrics]:
            figure(figures.response_curves(results.ok, swept, metric, by, name,
                                           _base_values(results)),
                   f"response_{metric}",
                   f"{layout.metric_label(metric)} against each factor"
                   + (f", one line per {layout.factor_label(by)}" if by else ""))
        if design == "oat" and HEADLINE_METRIC in metrics:
            effects = barrier_effects(results, HEADLINE_METRIC, by)
            lines += ["## What the numbers say", ""]
            lines += [f"- {s}" for s in headline_sentences(effects)]
            lines += [""] + [f"- {effect_sentence(e)}" for e in effects] + [""]
    if design == "grid" and len(swept) == 2:
        lines += ["## Two barriers together", ""]
        x, y = swept
        for metric in metrics[:2]:
            figure(figures.heatmap(results.ok, x, y, metric, name), f"heatmap_{metric}",
                   f"mean {metric.replace('_', ' ')} over {layout.factor_label(x)} and "
                   f"{layout.factor_label(y)}")
        if HEADLINE_METRIC in metrics:
            lines += [*grid_sentences(results, x, y), ""]
    if not results.factors and by == "scenario":
        lines += ["## Scenarios side by side", ""]
        values = {s: {mt: results.ok[results.ok["scenario"] == s][mt].tolist()
                      for mt in metrics} for s in scenarios}
        shown = [x for x in REPORTED if x in metrics]
        if shown:
            figure(figures.comparison(values, shown, scenarios[-1], name), "comparison",
                   f"{', '.join(shown)} per scenario (mean, 95% interval), "
                   f"{scenarios[-1]} dashed")
        if HEADLINE_METRIC in metrics:
            lines += [*scenario_sentences(results, scenarios[-1]), ""]
    if results.sensitivity is not None:
        lines += ["## Sensitivity", ""]
        indexed = list(dict.fromkeys(results.sensitivity["metric"]))
        shown = [x for x in metrics if x in indexed]
        if design == "morris":
            shown = [x for x in shown if x == HEADLINE_METRIC] or shown[:1]
        else:  # the metrics' gains too (an experiment with a contrast), in the file's order
            shown = [x for x in indexed if x in metrics
                     or (x.startswith("gain_") and x.removeprefix("gain_") in metrics)]
        for metric in shown:
            left_out = _not_indexed(results.sensitivity, metric)
            if left_out:
                lines += [f"- {metric.replace('_', ' ')}: {left_out}.", ""]
                continue
            if design == "morris":
                figure(figures.morris_figure(results.sensitivity, metric, name),
                       f"morris_{metric}", f"Morris mu* and sigma for {metric}")
            else:
                figure(figures.sobol_figure(results.sensitivity, metric, name),
                       f"sobol_{metric}", f"Sobol' S1 and ST for {metric}")
            lines += [*sensitivity_sentences(results.sensitivity, metric, design), ""]
    if results.timeseries is not None:
        lines += ["## Over time", ""]
        group = results.runs.set_index("run_id")[by if by else "scenario"]
        figure(figures.timeseries_by_group(results.timeseries, group, "disruption_rate", name),
               "timeseries_disruption_rate", "disruption rate to date over the weeks")
    lines += discovery_section(results.folder, out)
    lines += ["## Data", "", "- `runs.parquet`: one row per run (factors, metrics, status).",
              "- `manifest.json`: the experiment, version, seed and counts.", ""]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def discovery_section(folder: Path, out: Path) -> list[str]:
    """The scenario discovery section (``ctsim discover``) of ``folder`` as REPORT.md
    lines, its headings one level down and its links made relative to ``out``; none when
    the folder holds no discovery."""
    path = folder / DISCOVERY_FOLDER / DISCOVERY_DOC
    if not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None
    where = Path(os.path.relpath(path.parent.resolve(), Path(out).resolve())).as_posix()
    text = re.sub(r"(!?\[[^\]]*\]\()(?![a-z]+:|/)", rf"\g<1>{where}/", text)
    return [("#" + line if line.startswith("#") else line) for line in text.splitlines()] + [""]


# ---------------------------------------------------------------- a run's figures

#: A run folder's figures (file stem: caption), in the order they are drawn.
RUN_FIGURES = {
    "outcomes": "disruption rate to date, and attacks and disruptions per 4 weeks (mean of "
                "the runs, 95% band)",
    "channels": "the article's further channels the run uses, over the weeks (mean of the "
                "runs, 95% band)",
    "trust_network": "trust between the nations at the start and at the end of the first "
                     "replication",
    "safe_havens": "where the first replication's plots were based, against each nation's "
                   "capacity",
    "haven_ranking": "the nations where most plots are based (mean of the runs, 95% interval)",
}


@dataclass
class RunInputs:
    """What a run's figures are drawn from: its weekly record (one row per replication
    and week, with ``replication`` and ``step``), the snapshot of its first replication,
    the haven table (:func:`ctsim.analysis.tables.haven_columns`) and the number of runs.
    The tables are DataFrames (a stored folder read back) or mappings of column arrays
    (what ``ctsim run`` keeps): the figures read them by column name alone."""

    scenario: str
    timeseries: Columns
    snapshot: RunSnapshot
    havens: Columns
    runs: int


def draw_run_figures(inputs: RunInputs, fig_dir: Path, fmt: str = "png") -> dict[str, Path]:
    """Draw a run's figures into ``fig_dir``: outcomes over time, the section B channels
    over time (when the run uses one), the first replication's trust network (laid out
    by region above :data:`layout.LARGE_WORLD` nations) and havens, and the haven
    ranking. Returns each drawn figure's path by its stem (:data:`RUN_FIGURES`)."""
    name, ts, snap = inputs.scenario, inputs.timeseries, inputs.snapshot
    drawn = {"outcomes": figures.outcomes_over_time(ts, name)}
    channels = figures.active_channels(ts)
    if channels:  # MODEL.md section B: only for a run that uses a channel
        drawn["channels"] = figures.channels_over_time(ts, name, channels)
    network = (figures.world_trust_network if snap.world.n > layout.LARGE_WORLD
               else figures.trust_network)
    drawn["trust_network"] = network(snap, name)
    drawn["safe_havens"] = figures.safe_havens(snap, name)
    drawn["haven_ranking"] = figures.haven_ranking(inputs.havens, name, inputs.runs)
    return {stem: figures.save(fig, fig_dir / stem, fmt) for stem, fig in drawn.items()}


def _run_inputs(results: Results) -> RunInputs | None:
    """A run folder's :class:`RunInputs` read from its files; None for a folder whose
    manifest names no snapshot (a sweep's or a comparison's).

    Raises:
        ResultsError: the snapshot, nations.parquet or timeseries.parquet is missing,
            damaged or does not fit the others.
    """
    import pandas as pd

    from ctsim.analysis.snapshot import RunSnapshot
    from ctsim.analysis.tables import haven_table

    name = results.manifest.get("snapshot")
    if name is None:
        return None
    folder = results.folder
    if name in ("", ".", "..") or Path(name).name != name:
        raise ResultsError(f"{folder / 'manifest.json'}: 'snapshot' should name a file in "
                           "the folder")
    snap = RunSnapshot.load(folder / name)
    nat_path, ts_path = folder / "nations.parquet", folder / "timeseries.parquet"
    if results.timeseries is None:
        raise ResultsError(f"{folder}: no timeseries.parquet (a run folder keeps one)")
    _numeric_columns(results.timeseries, ("attacks_week", "disrupted_week"), ts_path)
    if not nat_path.is_file():
        raise ResultsError(f"{folder}: no nations.parquet (a run folder keeps one)")
    nations = _read_table(nat_path, pd.read_parquet)
    _numeric_columns(nations, ("run_id", "nation", "based", "targeted", "disrupted"),
                     nat_path)
    n = snap.world.n
    if len(nations) % max(n, 1) or not nations["nation"].between(0, n - 1).all():
        raise ResultsError(f"{nat_path}: does not fit the {n} nations of {name}")
    havens = haven_table(snap.world, nations)
    weekly = results.timeseries.merge(results.runs[["run_id", "replication"]], on="run_id")
    return RunInputs(results.manifest["experiment"], weekly, snap, havens, len(results.ok))


def _run_report(results: Results, run: RunInputs, out: Path, fmt: str) -> str:
    """A run folder's figures, drawn into ``out/figures``, and REPORT.md's text."""
    lines = [*_header(results), "## The run", ""]
    for stem, path in draw_run_figures(run, out / "figures", fmt).items():
        caption = RUN_FIGURES[stem]
        lines += [f"![{caption}]({path.relative_to(out).as_posix()})", "", f"*{caption}*", ""]
    lines += ["## Data", "",
              "- `summary.json`: each metric's mean, 95% interval and per-replication values.",
              "- `runs.parquet`, `timeseries.parquet`, `nations.parquet`: per run, per week, "
              "per nation.",
              f"- `{results.manifest['snapshot']}`: the first replication's world and its "
              "trust at the end, which the network and haven figures draw.", ""]
    return "\n".join(lines).replace("\n\n\n", "\n\n")


def grid_sentences(results: Results, x: str, y: str,
                   metric: str = HEADLINE_METRIC) -> list[str]:
    """The grid's corners and whether the two factors' effects add up."""
    s = figures.summarize_groups(results.ok, [x, y], metric).set_index([x, y])["mean"]
    xs, ys = _levels(results.ok[x]), _levels(results.ok[y])
    corners = [(a, b) for a in (xs[0], xs[-1]) for b in (ys[0], ys[-1])] if xs and ys else []
    if not corners or any(c not in s.index for c in corners):
        return [f"- Not every corner of the grid has finished runs with a "
                f"{metric.replace('_', ' ')}, so the two effects cannot be set side by side."]
    a00, a10 = s[(xs[0], ys[0])], s[(xs[-1], ys[0])]
    a01, a11 = s[(xs[0], ys[-1])], s[(xs[-1], ys[-1])]
    inter = a11 - a10 - a01 + a00
    kind = ("roughly add up" if abs(inter) < 0.02 else
            "overlap: together they cost less than the sum of each alone" if inter > 0 else
            "compound: together they cost more than the sum of each alone")
    return [f"- With neither barrier the {metric.replace('_', ' ')} is {a00:.3f}; "
            f"{layout.factor_label(x)} alone at {_num(xs[-1])} gives {a10:.3f}, "
            f"{layout.factor_label(y)} alone at {_num(ys[-1])} gives {a01:.3f}, "
            f"and both give {a11:.3f}.",
            f"- The two effects {kind} (interaction {inter:+.3f})."]


def design_point(results: Results) -> pd.Series:
    """Each run's design point within its scenario (runs.parquet numbers points across
    the scenarios, one block of ``P`` after another: scenario ``s``'s point ``p`` is
    ``s P + p``), the number runs of the same point share in every scenario."""
    runs = results.runs
    scenarios = len(results.manifest.get("scenarios") or []) or 1
    total = int(results.manifest.get("points") or runs["point"].max() + 1)
    return runs["point"] % max(total // scenarios, 1)


def scenario_sentences(results: Results, baseline: str,
                       metric: str = HEADLINE_METRIC) -> list[str]:
    """Each scenario's metric against the baseline scenario, paired by design point and
    replication (the same seed)."""
    import pandas as pd

    ok = results.ok.assign(point=design_point(results)[results.runs["status"] == "ok"])
    key = ["point", "replication"]
    base = ok[ok["scenario"] == baseline].set_index(key)[metric]
    lines = []
    for s in results.manifest["scenarios"]:
        if s == baseline:
            continue
        other = ok[ok["scenario"] == s].set_index(key)[metric]
        both = pd.concat([base, other], axis=1, join="inner").dropna()
        if both.empty:
            lines.append(f"- {s}: no finished run to pair with {baseline}'s "
                         f"{metric.replace('_', ' ')}.")
            continue
        d, lo, hi = paired_difference(both.iloc[:, 0], both.iloc[:, 1], bounds=bounds_of(metric))
        lines.append(f"- {s}: {metric.replace('_', ' ')} {other.mean():.3f} against "
                     f"{base.mean():.3f} for {baseline}, a difference of {d:+.3f} "
                     f"(95% interval {lo:+.3f} to {hi:+.3f}).")
    return lines


def _not_indexed(sens: pd.DataFrame, metric: str) -> str:
    """Why ``metric`` has no indices (sensitivity.csv's note), or "" when it has them."""
    rows = sens[sens["metric"] == metric]
    if "note" not in rows or rows["ST" if "ST" in rows else "mu_star"].notna().any():
        return ""
    notes = [n for n in rows["note"].dropna().astype(str) if n]
    return notes[0] if notes else "not indexed"


def sensitivity_sentences(sens: pd.DataFrame, metric: str, design: str) -> list[str]:
    """The factors ranked by Morris mu* or Sobol' total index."""
    s = sens[sens["metric"] == metric]
    if s.empty:
        return []
    key = "mu_star" if design == "morris" else "ST"
    ranked = s.sort_values(key, ascending=False)
    names = [f"{f} ({v:.3f})" for f, v in
             zip(layout.distinct_labels(list(ranked["factor"])), ranked[key], strict=True)]
    what = "mu*" if design == "morris" else "total Sobol' index"
    out = [f"- Ranked by {what} on the {metric.replace('_', ' ')}: " + ", ".join(names) + "."]
    if design == "sobol" and s["ST_conf"].notna().any():
        widest = s.loc[s["ST_conf"].idxmax()]
        real = s[s["factor"] != "dummy"]
        first, total = real["S1"].sum(), real["ST"].sum()
        rest = ("mostly main effects" if first >= 0.8 and total - first <= 0.2
                else "the rest of the variance comes from interactions and chance")
        out.append(f"- The first-order indices sum to {first:.2f} and the total-order ones "
                   f"to {total:.2f} ({rest}); the median "
                   f"total-order index is {s['ST'].median():.3f}; the widest total-order 95% "
                   f"interval is {2 * widest['ST_conf']:.3f} wide (`{widest['factor']}`), and "
                   f"{int((2 * s['ST_conf'] >= 0.05).sum())} of {len(s)} are 0.05 or wider.")
    if design == "sobol" and "ST_within_noise" in s:
        dummy = s[s["factor"] == "dummy"]
        noise = s[(s["factor"] != "dummy") & s["ST_within_noise"].astype(bool)]
        if not dummy.empty:
            out.append(f"- The dummy factor, which changes only the runs' seeds, has a total "
                       f"index of {float(dummy['ST'].iloc[0]):.3f}: the floor chance alone "
                       f"reaches; {len(noise)} of {len(s) - len(dummy)} factors are not told "
                       "apart from it (their interval overlaps the dummy's or lies below).")
    return out
