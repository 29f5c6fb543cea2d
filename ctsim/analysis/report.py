"""Reports from stored results: the figures that fit a sweep's design, and REPORT.md.

:func:`build_report` reads a sweep's folder (runs.parquet, manifest.json, and when present
timeseries.parquet and sensitivity.csv) and writes the figures and a REPORT.md whose
sentences are generated from the numbers. :func:`barrier_effects` and friends compute
those numbers, so tests can hold each sentence against them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ctsim.analysis import figures
from ctsim.analysis.stats import paired_difference
from ctsim.core.outcomes import bounds_of
from ctsim.errors import ResultsError

HEADLINE_METRIC = "disruption_rate"


@dataclass
class Results:
    """A sweep's stored results."""

    folder: Path
    runs: pd.DataFrame
    manifest: dict
    timeseries: pd.DataFrame | None
    sensitivity: pd.DataFrame | None

    @property
    def factors(self) -> list[str]:
        """The experiment's factor keys, in file order."""
        return list(self.manifest.get("factors", {}))

    @property
    def ok(self) -> pd.DataFrame:
        """Runs that finished."""
        return self.runs[self.runs["status"] == "ok"]


def load_results(folder: str | Path) -> Results:
    """Read a sweep's folder.

    Raises:
        ResultsError: a file is missing, unreadable or not what ctsim writes there.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    for name in ("runs.parquet", "manifest.json"):
        if not (folder / name).is_file():
            raise ResultsError(f"{folder}: no {name} (is this a ctsim results folder?)")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{folder / 'manifest.json'}: unreadable ({type(exc).__name__})"
                           ) from None
    if not isinstance(manifest, dict) or not manifest.get("complete", True):
        raise ResultsError(f"{folder / 'manifest.json'}: not the manifest of finished results "
                           "(resume the sweep first)")
    runs = _read_table(folder / "runs.parquet", pd.read_parquet)
    for column in ("run_id", "status", "scenario", "replication"):
        if column not in runs:
            raise ResultsError(f"{folder / 'runs.parquet'}: no '{column}' column")
    ts_path, sens_path = folder / "timeseries.parquet", folder / "sensitivity.csv"
    ts = _read_table(ts_path, pd.read_parquet) if ts_path.is_file() else None
    sens = _read_table(sens_path, pd.read_csv) if sens_path.is_file() else None
    return Results(folder, runs, manifest, ts, sens)


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
    differences.
    """
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
    return (f"{where}aising {figures.factor_label(e.factor)} (`{e.factor}`) from "
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
            lines.append(f"The costliest barrier {where} is {figures.factor_label(worst.factor)}:"
                         f" from none to severe it takes {abs(worst.diff):.3f} off the "
                         f"{metric.replace('_', ' ')}.")
        if levers:
            best = max(levers, key=lambda e: e.diff)
            lines.append(f"The lever that recovers most {where} is "
                         f"{figures.factor_label(best.factor)}: {best.diff:+.3f} from "
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
    """Write the figures that fit the sweep's design and REPORT.md; return REPORT.md's path."""
    results = load_results(folder)
    out = Path(out) if out else results.folder
    fig_dir = out / "figures"
    m = results.manifest
    name, design = m["experiment"], m["design"]
    metrics = [x for x in m.get("metrics", []) if x in results.runs]
    cross = [f for f, spec in m.get("factors", {}).items() if spec.get("cross")]
    swept = [f for f in results.factors if f not in cross]
    by = cross[0] if cross else ("scenario" if len(m.get("scenarios", [])) > 1 else None)
    lines = [f"# {name}: results", "", m.get("description", "").strip(), "",
             f"Design `{design}`, {m['runs']} runs ({m['ok']} ok, {m['failed']} failed), "
             f"{m['replications']} replications per point, seed {m['seed']}, "
             f"ctsim {m['ctsim_version']}. Intervals are 95% Student-t intervals over "
             "replications; differences are paired by replication (common random numbers).",
             ""]
    if m.get("uncertainty"):
        lines += [f"Each replication ran with its own parameter set drawn from the posterior "
                  f"of `{m['uncertainty']}` (the same set in every scenario), so the intervals "
                  "carry the parameters' uncertainty as well as the runs' chance.", ""]

    def figure(fig, stem: str, caption: str) -> None:
        path = figures.save(fig, fig_dir / stem, fmt)
        lines.extend([f"![{caption}]({path.relative_to(out).as_posix()})", "",
                      f"*{caption}*", ""])

    if (design in ("oat", "lhs", "random") and swept) or (design == "grid" and len(swept) == 1):
        lines += ["## Response curves", ""]
        for metric in [x for x in metrics if x == HEADLINE_METRIC] + \
                      [x for x in metrics if x in ("attacks", "foreign_share", "mean_trust")]:
            figure(figures.response_curves(results.ok, swept, metric, by, name,
                                           _base_values(results)),
                   f"response_{metric}",
                   f"{figures.metric_label(metric)} against each factor"
                   + (f", one line per {figures.factor_label(by)}" if by else ""))
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
                   f"mean {metric.replace('_', ' ')} over {figures.factor_label(x)} and "
                   f"{figures.factor_label(y)}")
        lines += [*grid_sentences(results, x, y), ""]
    if not results.factors and by == "scenario":
        lines += ["## Scenarios side by side", ""]
        values = {s: {mt: results.ok[results.ok["scenario"] == s][mt].tolist()
                      for mt in metrics} for s in m["scenarios"]}
        shown = [x for x in (HEADLINE_METRIC, "attacks", "foreign_share") if x in metrics]
        figure(figures.comparison(values, shown, m["scenarios"][-1], name), "comparison",
               f"{', '.join(shown)} per scenario (mean, 95% interval), "
               f"{m['scenarios'][-1]} dashed")
        lines += [*scenario_sentences(results, m["scenarios"][-1]), ""]
    if results.sensitivity is not None:
        lines += ["## Sensitivity", ""]
        shown = (([x for x in metrics if x == HEADLINE_METRIC] or metrics[:1])
                 if design == "morris" else metrics)
        for metric in shown:
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
    lines += ["## Data", "", "- `runs.parquet`: one row per run (factors, metrics, status).",
              "- `manifest.json`: the experiment, version, seed and counts.", ""]
    text = "\n".join(lines).replace("\n\n\n", "\n\n")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "REPORT.md"
    path.write_text(text)
    return path


def grid_sentences(results: Results, x: str, y: str,
                   metric: str = HEADLINE_METRIC) -> list[str]:
    """The grid's corners and whether the two factors' effects add up."""
    s = figures.summarize_groups(results.ok, [x, y], metric).set_index([x, y])["mean"]
    xs, ys = _levels(results.ok[x]), _levels(results.ok[y])
    a00, a10 = s[(xs[0], ys[0])], s[(xs[-1], ys[0])]
    a01, a11 = s[(xs[0], ys[-1])], s[(xs[-1], ys[-1])]
    inter = a11 - a10 - a01 + a00
    kind = ("roughly add up" if abs(inter) < 0.02 else
            "overlap: together they cost less than the sum of each alone" if inter > 0 else
            "compound: together they cost more than the sum of each alone")
    return [f"- With neither barrier the {metric.replace('_', ' ')} is {a00:.3f}; "
            f"{figures.factor_label(x)} alone at {_num(xs[-1])} gives {a10:.3f}, "
            f"{figures.factor_label(y)} alone at {_num(ys[-1])} gives {a01:.3f}, "
            f"and both give {a11:.3f}.",
            f"- The two effects {kind} (interaction {inter:+.3f})."]


def scenario_sentences(results: Results, baseline: str,
                       metric: str = HEADLINE_METRIC) -> list[str]:
    """Each scenario's metric against the baseline scenario, paired by replication."""
    ok = results.ok
    base = ok[ok["scenario"] == baseline].set_index("replication")[metric]
    lines = []
    for s in results.manifest["scenarios"]:
        if s == baseline:
            continue
        other = ok[ok["scenario"] == s].set_index("replication")[metric]
        both = pd.concat([base, other], axis=1, join="inner")
        d, lo, hi = paired_difference(both.iloc[:, 0], both.iloc[:, 1], bounds=bounds_of(metric))
        lines.append(f"- {s}: {metric.replace('_', ' ')} {other.mean():.3f} against "
                     f"{base.mean():.3f} for {baseline}, a difference of {d:+.3f} "
                     f"(95% interval {lo:+.3f} to {hi:+.3f}).")
    return lines


def sensitivity_sentences(sens: pd.DataFrame, metric: str, design: str) -> list[str]:
    """The factors ranked by Morris mu* or Sobol' total index."""
    s = sens[sens["metric"] == metric]
    key = "mu_star" if design == "morris" else "ST"
    ranked = s.sort_values(key, ascending=False)
    names = [f"{f} ({v:.3f})" for f, v in
             zip(figures.distinct_labels(list(ranked["factor"])), ranked[key], strict=True)]
    what = "mu*" if design == "morris" else "total Sobol' index"
    out = [f"- Ranked by {what} on the {metric.replace('_', ' ')}: " + ", ".join(names) + "."]
    if design == "sobol":
        widest = s.loc[s["ST_conf"].idxmax()]
        first = s["S1"].clip(lower=0).sum()
        rest = ("the rest of the variance comes from interactions and chance" if first < 1
                else "within sampling error of 1: little variance beyond the factors alone")
        out.append(f"- The first-order indices sum to {first:.2f} ({rest}); the median "
                   f"total-order index is {s['ST'].median():.3f}; the widest total-order 95% "
                   f"interval is {2 * widest['ST_conf']:.3f} wide (`{widest['factor']}`), and "
                   f"{int((2 * s['ST_conf'] >= 0.05).sum())} of {len(s)} are 0.05 or wider.")
    return out
