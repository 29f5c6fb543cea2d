"""Paired effects of a sweep's scenarios against one of them, over the parameters' posterior.

A sweep whose scenarios share seeds (every sweep: common random numbers) pairs each run
of a scenario with the run of the reference scenario at the same design point and
replication. :func:`paired_effects` summarises those paired differences per scenario,
design point and metric, and, when the runs drew their parameters from a posterior
(``uncertainty:``), per posterior draw: the effect of a draw is the mean over its runs
(``runs_per_draw`` replications share a draw), and the table gives

* the mean effect and the Student-t 95% interval of that mean (how well the runs pin
  down the posterior mean: :func:`ctsim.analysis.stats.mean_ci`);
* the posterior quantiles of the draws' effects (2.5%, 50%, 97.5%) and the share of draws
  whose effect has the sign opposite to the mean's (how the effect varies over the values
  the targets leave open);
* the runs' own spread within a draw (the pooled standard deviation of a run's effect
  around its draw's mean), so that a reader can tell how much of the quantiles' spread is
  the runs' chance rather than the parameters: with ``k`` runs a draw, chance alone widens
  each draw's effect by about ``within_sd / sqrt(k)``.

``by`` splits every row by the value of a column (a posterior mode: the evidence
threshold's value; any factor), besides the row over all draws. :func:`effects_markdown`
writes the table a document quotes; ``ctsim effects RESULTS --against SCENARIO`` writes
both (``effects.csv``, ``EFFECTS.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ctsim.analysis.report import design_point
from ctsim.analysis.stats import mean_ci
from ctsim.core.outputs import bounds_of, label_of
from ctsim.errors import ResultsError

if TYPE_CHECKING:
    import pandas as pd

    from ctsim.analysis.report import Results

#: The posterior quantiles of the draws' effects the table gives.
QUANTILES = (0.025, 0.5, 0.975)
#: The columns of :func:`paired_effects`' table, in order.
COLUMNS = ("scenario", "against", "point", "metric", "by", "group", "draws", "runs_per_draw",
           "mean", "mean_lo", "mean_hi", "q025", "q50", "q975", "opposite_share", "within_sd")


def runs_per_draw(results: Results) -> int:
    """How many replications share a posterior draw (1 when the manifest does not say)."""
    value = results.manifest.get("runs_per_draw", 1)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ResultsError(f"{results.folder / 'manifest.json'}: runs_per_draw is not a "
                           "whole number of 1 or more")
    return value


def paired_effects(results: Results, against: str, metrics: Sequence[str],
                   by: str | None = None) -> pd.DataFrame:
    """Each scenario's paired effect on each metric against the scenario ``against``, per
    design point (and per value of the column ``by``): the columns of :data:`COLUMNS`.

    A run pairs with the reference run of the same point and replication; pairs where
    either metric is undefined (NaN: no plot to rate) are left out. Effects are
    ``scenario - against`` in the metric's own unit.

    Raises:
        ResultsError: ``against``, a metric or ``by`` is not in the results, or no other
            scenario is.
    """
    import pandas as pd

    scenarios = list(results.manifest.get("scenarios") or [])
    if against not in scenarios:
        raise ResultsError(f"{results.folder}: no scenario '{against}' (its scenarios: "
                           f"{', '.join(scenarios) or 'none'})")
    if len(scenarios) < 2:
        raise ResultsError(f"{results.folder}: one scenario only; an effect needs two")
    for m in metrics:
        if m not in results.runs:
            raise ResultsError(f"{results.folder}: no metric '{m}' in runs.parquet")
    if by is not None and by not in results.runs:
        raise ResultsError(f"{results.folder}: no column '{by}' in runs.parquet to split by")
    k = runs_per_draw(results)
    ok = results.ok.assign(point=design_point(results))
    key = ["point", "replication"]
    reference = ok[ok["scenario"] == against].set_index(key)
    rows = []
    for scenario in scenarios:
        if scenario == against:
            continue
        treated = ok[ok["scenario"] == scenario].set_index(key)
        common = treated.index.intersection(reference.index)
        for metric in metrics:
            diff = (treated.loc[common, metric] - reference.loc[common, metric]).rename("d")
            table = diff.reset_index()
            table["draw"] = table["replication"] // k
            table["group"] = (treated.loc[common, by].to_numpy() if by is not None
                              else np.nan)
            table = table.dropna(subset=["d"])
            for point, at_point in table.groupby("point", sort=True):
                groups = [("all", at_point)]
                if by is not None:
                    groups += [(_shown(g), part) for g, part in
                               at_point.groupby("group", sort=True)]
                for group, part in groups:
                    rows.append({"scenario": scenario, "against": against,
                                 "point": int(point), "metric": metric, "by": by or "",
                                 "group": group, **_summary(part, metric, k)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _summary(part: pd.DataFrame, metric: str, k: int) -> dict[str, float | int]:
    """The summary of one row's paired differences (``d``, with their ``draw``)."""
    per_draw = part.groupby("draw")["d"]
    effects = per_draw.mean().to_numpy()
    bounds = bounds_of(metric)
    span = None if bounds is None else (bounds[0] - bounds[1], bounds[1] - bounds[0])
    m, lo, hi = mean_ci(effects.tolist(), bounds=span)
    q = np.quantile(effects, QUANTILES) if len(effects) else [np.nan] * len(QUANTILES)
    opposite = float(np.mean(np.sign(effects) == -np.sign(m))) if m != 0 else 0.0
    spread = part["d"] - per_draw.transform("mean")
    dof = len(part) - per_draw.ngroups
    within = float(np.sqrt((spread ** 2).sum() / dof)) if dof > 0 else float("nan")
    return {"draws": int(per_draw.ngroups), "runs_per_draw": k, "mean": m, "mean_lo": lo,
            "mean_hi": hi, "q025": float(q[0]), "q50": float(q[1]), "q975": float(q[2]),
            "opposite_share": opposite, "within_sd": within}


def _shown(value: object) -> str:
    """A group's value as the table shows it (a whole number without its ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def point_names(results: Results) -> dict[int, str]:
    """Each design point named by what it sets: under an oat design the key it sweeps and
    its value (``cooperation.hub_exposure = 0.1``), otherwise every factor's value; the
    crossed factors of an oat design follow (``, threat.border_screening = 0.2``). A sweep
    without factors has one point, named "as given"."""
    runs = results.runs.assign(point=design_point(results))
    factors = [f for f in results.factors if f in runs]
    names: dict[int, str] = {}
    if results.manifest.get("design") not in (None, "grid", "oat"):
        return names  # a sampled design's points keep their numbers: a name would list
        # every factor's value
    for point, rows in runs.groupby("point", sort=True):
        first = rows.iloc[0]
        swept = str(first["sweep"]) if "sweep" in runs and first["sweep"] else ""
        shown = [swept] if swept else [f for f in factors if f not in ("sweep",)]
        if swept:
            shown += [f for f in factors if f != swept
                      and results.manifest["factors"].get(f, {}).get("cross")]
        names[int(point)] = ", ".join(f"{f} = {_shown(first[f])}" for f in shown) or "as given"
    return names


def effects_markdown(table: pd.DataFrame, points: dict[int, str] | None = None,
                     posterior: bool = True) -> list[str]:
    """The effects table as Markdown lines: one row per scenario, point, metric and group.

    ``points`` names the design points (``{0: "defaults", 1: "hub exposure 0.1"}``);
    unnamed points show their number. Without a ``posterior`` each run is its own draw:
    the quantiles are the runs' and there is no spread within a draw.
    """
    spread = "posterior 2.5% / 50% / 97.5%" if posterior else "runs' 2.5% / 50% / 97.5%"
    lines = [f"| scenario | point | metric | group | draws × runs | mean (95% interval) | "
             f"{spread} | other sign | run sd |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in table.itertuples(index=False):
        where = (points or {}).get(r.point, str(r.point))
        group = r.group if r.by == "" or r.group == "all" else f"{r.by} = {r.group}"
        lines.append(
            f"| {r.scenario} − {r.against} | {where} | {label_of(r.metric)} | {group} | "
            f"{r.draws} × {r.runs_per_draw} | {r.mean:+.3f} ({r.mean_lo:+.3f} to "
            f"{r.mean_hi:+.3f}) | {r.q025:+.3f} / {r.q50:+.3f} / {r.q975:+.3f} | "
            f"{r.opposite_share:.0%} | "
            f"{'-' if np.isnan(r.within_sd) else format(r.within_sd, '.3f')} |")
    return lines
