"""A tournament's numbers, summary and figures, from its runs (``ctsim tournament``).

A tournament (Axelrod 1984's format, for intelligence sharing; MODEL.md C3) plays sharing
strategies against each other in *cells*, each a world run with the same replication
seeds (common random numbers):

- the pairs: for every two strategies X and Y (X = Y too), a world of two like nations,
  A holding X and B holding Y, that share every transnational plot; X's outcome against Y
  is read on the nations holding X (the metrics ``disruption_rate_X``, ``sent_X``,
  ``received_X`` of :mod:`ctsim.core.outputs`), Y's against X on those holding Y, so one
  game scores both sides;
- the mixed world: the given world, its nations holding the strategies in given shares;
  each strategy's outcome is the same metrics, and with imitation (MODEL.md C5) the shares
  of nations holding each strategy over the weeks (the record's ``nations_<s>``).

This module turns a runs table (one row a run: ``scenario`` naming the cell,
``replication``, ``status`` and the metrics) into the tournament's table, its ranking and
its summary, and draws its figures; it never runs the model (:mod:`ctsim.runs.tournament`
does). Every interval is :func:`ctsim.analysis.stats.mean_ci`'s (or the time series bands'
:func:`~ctsim.analysis.stats.t_halfwidth`), labels come from :mod:`ctsim.core.outputs` and
:mod:`ctsim.core.strategies`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctsim.analysis.stats import mean_ci, t_halfwidth
from ctsim.core.outputs import axis_of, bounds_of
from ctsim.core.strategies import BY_NAME, NAMES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

#: The opponent column's value for the mixed world's rows.
MIXED = "mixed"
#: The opponent column's value for a strategy's round-robin score: per replication, the
#: mean of its outcomes against every strategy (each opponent weighing the same).
ALL = "all"
#: The outcomes of a strategy in every cell, read from the metrics ``<outcome>_<strategy>``:
#: the disruption rate of the settled plots aimed at its nations (share, 0-1), and the
#: fragments they sent to partners and received from them (counts).
OUTCOMES = ("disruption_rate", "sent", "received")
#: What the mixed world adds: the nations holding the strategy at the end (count).
MIXED_OUTCOMES = (*OUTCOMES, "nations")


@dataclass(frozen=True)
class Cell:
    """One world of the tournament, run with every replication seed.

    Attributes:
        name: the cell's scenario name (the runs table's ``scenario``): ``pair-X-Y`` or
            ``mixed``.
        a, b: the strategies of the pair world's first and second nation; both empty for
            the mixed world.
    """

    name: str
    a: str = ""
    b: str = ""

    @property
    def is_pair(self) -> bool:
        """Whether this is a two-nation world of the round-robin (else the mixed world)."""
        return bool(self.a)


def pair_cells(strategies: Sequence[str]) -> list[Cell]:
    """The round-robin's games: every unordered pair of ``strategies`` once, a strategy
    against itself too (k (k + 1) / 2 games for k strategies), the one listed first held
    by the first nation."""
    return [Cell(f"pair-{x}-{y}", x, y) for i, x in enumerate(strategies)
            for y in strategies[i:]]


def game(x: str, y: str, strategies: Sequence[str]) -> str:
    """The name of the cell in which ``x`` plays ``y`` (in either seat)."""
    first, second = sorted((x, y), key=list(strategies).index)
    return f"pair-{first}-{second}"


def _values(runs: pd.DataFrame, cell: str, column: str) -> np.ndarray:
    """Per replication (in order), ``column`` of the cell's runs; NaN for a failed run."""
    rows = runs[runs["scenario"] == cell].sort_values("replication", kind="stable")
    ok = (rows["status"] == "ok").to_numpy() if "status" in rows else np.ones(len(rows), bool)
    return np.where(ok, rows[column].to_numpy(float), np.nan)


def pair_outcome(runs: pd.DataFrame, x: str, y: str, outcome: str,
                 strategies: Sequence[str]) -> np.ndarray:
    """Per replication, ``x``'s ``outcome`` against ``y`` in the pairs: the disruption rate
    of the settled plots aimed at the nation holding ``x`` (share, 0-1; NaN in a run
    where none settled), or the fragments it sent or received (count, per nation: against
    itself, the two nations' mean)."""
    cell = game(x, y, strategies)
    value = _values(runs, cell, f"{outcome}_{x}")
    if outcome == "disruption_rate":
        return value
    return value / _values(runs, cell, f"nations_{x}")


def _row(strategy: str, opponent: str, outcome: str, values: np.ndarray) -> dict:
    mean, lo, hi = mean_ci(values.tolist(), bounds=bounds_of(f"{outcome}_{strategy}"))
    return {"strategy": strategy, "opponent": opponent, "outcome": outcome, "mean": mean,
            "ci95_lo": lo, "ci95_hi": hi, "n": int(np.isfinite(values).sum())}


def tournament_table(runs: pd.DataFrame, strategies: Sequence[str],
                     mixed: Sequence[str] = ()) -> pd.DataFrame:
    """The tournament's table: one row a strategy, an opponent and an outcome, with the
    mean over replications, its 95% Student-t interval (clipped to the outcome's range)
    and ``n``, the replications where the outcome was defined.

    Args:
        runs: the runs table of every cell (``scenario``, ``replication``, ``status``, the
            metrics).
        strategies: the strategies of the round-robin, in order.
        mixed: the strategies of the mixed world (those with a positive share); none
            when it was not played.

    Rows: for each strategy X, its outcomes (:data:`OUTCOMES`) against each opponent Y of
    the round-robin, then against :data:`ALL` (per replication, the mean over the
    opponents where the outcome is defined); then its outcomes in the mixed world
    (opponent :data:`MIXED`, :data:`MIXED_OUTCOMES`: totals over its nations).
    """
    import pandas as pd

    rows = []
    for x in strategies:
        for outcome in OUTCOMES:
            per_opponent = [pair_outcome(runs, x, y, outcome, strategies) for y in strategies]
            for y, values in zip(strategies, per_opponent, strict=True):
                rows.append(_row(x, y, outcome, values))
            rows.append(_row(x, ALL, outcome, _row_means(np.vstack(per_opponent))))
    for x in mixed:
        for outcome in MIXED_OUTCOMES:
            rows.append(_row(x, MIXED, outcome, _values(runs, MIXED, f"{outcome}_{x}")))
    return pd.DataFrame(rows, columns=["strategy", "opponent", "outcome", "mean", "ci95_lo",
                                       "ci95_hi", "n"])


def _row_means(stack: np.ndarray) -> np.ndarray:
    """Per column (replication), the mean of the finite values of ``stack``; NaN where
    there are none."""
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    return np.divide(total, count, out=np.full(total.shape, np.nan), where=count > 0)


def ranking(table: pd.DataFrame) -> pd.DataFrame:
    """The round-robin's ranking: each strategy's rows against :data:`ALL`, one column per
    outcome (``<outcome>``, ``<outcome>_lo``, ``<outcome>_hi``), highest disruption rate of
    the plots aimed at it first (ties in the table's order)."""
    import pandas as pd

    scores = table[table["opponent"] == ALL]
    out = pd.DataFrame({"strategy": list(dict.fromkeys(scores["strategy"]))})
    for outcome in OUTCOMES:
        part = scores[scores["outcome"] == outcome].set_index("strategy")
        out[outcome] = out["strategy"].map(part["mean"])
        out[f"{outcome}_lo"] = out["strategy"].map(part["ci95_lo"])
        out[f"{outcome}_hi"] = out["strategy"].map(part["ci95_hi"])
    out = out.sort_values("disruption_rate", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def matrix(table: pd.DataFrame, outcome: str = "disruption_rate") -> pd.DataFrame:
    """The pair matrix of ``outcome``: the row strategy's mean against the column's."""
    pairs = table[(table["outcome"] == outcome)
                  & ~table["opponent"].isin([ALL, MIXED])]
    order = list(dict.fromkeys(pairs["strategy"]))
    return pairs.pivot(index="strategy", columns="opponent", values="mean").loc[order, order]


def shares_over_time(timeseries: pd.DataFrame, run_ids: Sequence[int],
                     strategies: Sequence[str]) -> pd.DataFrame:
    """The share of nations holding each strategy by week in the mixed world's runs: the
    mean over the runs, its 95% band (:func:`~ctsim.analysis.stats.t_halfwidth`, clipped to
    [0, 1]) and the runs counted.

    Args:
        timeseries: the weekly record (``run_id``, ``step``, ``nations_<s>`` for every
            strategy of :data:`ctsim.core.strategies.NAMES`).
        run_ids: the mixed world's runs.
        strategies: the strategies to report.
    """
    import pandas as pd

    ts = timeseries[timeseries["run_id"].isin(list(run_ids))]
    total = ts[[f"nations_{s}" for s in NAMES]].sum(axis=1).to_numpy(float)
    frames = []
    for s in strategies:
        share = np.divide(ts[f"nations_{s}"].to_numpy(float), total,
                          out=np.full(len(ts), np.nan), where=total > 0)
        wide = ts.assign(share=share).pivot(index="step", columns="run_id", values="share")
        mean = wide.mean(axis=1)
        count = wide.notna().sum(axis=1)
        half = t_halfwidth(wide.std(axis=1, ddof=1).to_numpy(), count.to_numpy())
        frames.append(pd.DataFrame({"week": wide.index.to_numpy(), "strategy": s,
                                    "mean": mean.to_numpy(),
                                    "ci95_lo": np.clip(mean.to_numpy() - half, 0.0, 1.0),
                                    "ci95_hi": np.clip(mean.to_numpy() + half, 0.0, 1.0),
                                    "n": count.to_numpy()}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- the summary


def label(strategy: str) -> str:
    """A strategy's plain name with its own (``generous tit for tat (forgiving)``)."""
    shown = BY_NAME[strategy].label
    return strategy if shown == strategy else f"{shown} (`{strategy}`)"


def _number(x: float, outcome: str) -> str:
    if not np.isfinite(x):
        return "-"
    return f"{x:.3f}" if outcome == "disruption_rate" else f"{x:,.1f}"


def _interval(lo: float, hi: float, outcome: str) -> str:
    return f"[{_number(lo, outcome)}, {_number(hi, outcome)}]"


def summary(table: pd.DataFrame, *, world: str, strategies: Sequence[str],
            shares: dict[str, float], replications: int, steps: int, seed: int,
            imitation: float, shares_table: pd.DataFrame | None = None) -> str:
    """TOURNAMENT.md: the strategies, the ranking of the round-robin, the pair matrix and
    the mixed world's outcomes (and, with imitation, the shares at the start and the end).
    """
    lines = [f"# Tournament: {world}", "",
             f"{len(strategies)} sharing strategies, {replications} replications of "
             f"{steps} weeks, seed {seed}: every world runs the same replication seeds "
             "(common random numbers). Intervals are 95% Student-t intervals over the "
             "replications; tournament.csv holds every number with its interval and n.", "",
             "| strategy | what it does |", "| --- | --- |"]
    lines += [f"| {label(s)} | {BY_NAME[s].story} |" for s in strategies]
    rank = ranking(table)
    lines += ["", "## The round-robin", "",
              "Every strategy played every strategy (itself too) in a world of two like "
              "nations that share every plot. A strategy's score is the disruption rate of "
              "the plots aimed at its nation, averaged over its opponents (higher is "
              "better); fragments are those its nation sent to the other and received "
              "from it, per run.", "",
              "| rank | strategy | disruption rate of plots aimed at it | 95% interval | "
              "fragments sent | fragments received |",
              "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for i, r in enumerate(rank.itertuples(index=False), start=1):
        rate = "disruption_rate"
        lines.append(f"| {i} | {label(r.strategy)} | {_number(r.disruption_rate, rate)} "
                     f"| {_interval(r.disruption_rate_lo, r.disruption_rate_hi, rate)} "
                     f"| {_number(r.sent, 'sent')} | {_number(r.received, 'received')} |")
    grid = matrix(table)
    lines += ["", "### The pair matrix", "",
              "The disruption rate of the plots aimed at the row's nation when it plays the "
              "column's (mean over the replications).", "",
              "| against: | " + " | ".join(f"`{s}`" for s in grid.columns) + " |",
              "| --- |" + " ---: |" * len(grid.columns)]
    for s, row in grid.iterrows():
        lines.append(f"| `{s}` | " + " | ".join(_number(v, "disruption_rate") for v in row)
                     + " |")
    mixed = table[table["opponent"] == MIXED]
    if len(mixed):
        given = ", ".join(f"`{s}` {v:.3g}" for s, v in shares.items() if v > 0)
        lines += ["", "## The mixed world", "",
                  f"The world itself, its nations holding the strategies in the shares "
                  f"{given}" + (f", imitation {imitation:g} a year" if imitation > 0 else "")
                  + ". Fragments are totals over the nations holding the strategy, per run.",
                  "", "| strategy | nations at the end | disruption rate of plots aimed at "
                  "them | 95% interval | fragments sent | fragments received |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        by = mixed.set_index(["strategy", "outcome"])
        for s in dict.fromkeys(mixed["strategy"]):
            rate = by.loc[(s, "disruption_rate")]
            lines.append(
                f"| {label(s)} | {by.loc[(s, 'nations'), 'mean']:.1f} | "
                f"{_number(rate['mean'], 'disruption_rate')} | "
                f"{_interval(rate['ci95_lo'], rate['ci95_hi'], 'disruption_rate')} | "
                f"{_number(by.loc[(s, 'sent'), 'mean'], 'sent')} | "
                f"{_number(by.loc[(s, 'received'), 'mean'], 'received')} |")
    if shares_table is not None and len(shares_table):
        first = shares_table[shares_table["week"] == shares_table["week"].min()]
        last = shares_table[shares_table["week"] == shares_table["week"].max()]
        lines += ["", "### Strategies that spread", "",
                  "The share of nations holding each strategy at the start and at the end "
                  "(mean over the replications, 95% interval; shares.csv holds every week).",
                  "", "| strategy | at the start | at the end | 95% interval |",
                  "| --- | ---: | ---: | ---: |"]
        for s in dict.fromkeys(shares_table["strategy"]):
            a = first[first["strategy"] == s].iloc[0]
            z = last[last["strategy"] == s].iloc[0]
            lines.append(f"| {label(s)} | {a['mean']:.3f} | {z['mean']:.3f} | "
                         f"[{z['ci95_lo']:.3f}, {z['ci95_hi']:.3f}] |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- figures


def _colour(strategy: str) -> str:
    """One colour per strategy, the same in every figure and on the page."""
    from ctsim.analysis.layout import STRATEGY_COLOURS

    return STRATEGY_COLOURS[strategy]


def _tick(strategy: str) -> str:
    return BY_NAME[strategy].label


def pair_figure(table: pd.DataFrame, title: str) -> Figure:
    """The pair matrix as two heat maps: the disruption rate of the plots aimed at the
    row's nation, and the fragments it received from the column's, per game (labels:
    the outcomes' declarations, :mod:`ctsim.core.outputs`)."""
    import matplotlib.pyplot as plt

    panels = (("disruption_rate", "viridis", "{:.2f}",
               "the plots aimed at the row's nation: share disrupted"),
              ("received", "cividis", "{:.0f}",
               "fragments the row's nation received from the column's"))
    grid0 = matrix(table)
    k = len(grid0)
    fig, axes = plt.subplots(1, 2, figsize=(2 * (0.75 * k + 3.2), 0.62 * k + 2.6))
    for ax, (outcome, cmap, fmt, what) in zip(axes, panels, strict=True):
        grid = matrix(table, outcome)
        name = _axis(outcome, f"{outcome}_{grid.index[0]}")
        values = grid.to_numpy(float)
        image = ax.imshow(values, cmap=cmap, aspect="equal")
        ticks = [_tick(s) for s in grid.columns]
        ax.set_xticks(range(k), ticks, rotation=35, ha="right")
        ax.set_yticks(range(k), [_tick(s) for s in grid.index])
        ax.set_xlabel("opponent (the other nation's strategy)")
        ax.set_ylabel("strategy (this nation's)")
        finite = values[np.isfinite(values)]
        mid = (finite.min() + finite.max()) / 2 if len(finite) else 0.0
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize=8,
                        color="white" if v < mid else "black")
        fig.colorbar(image, ax=ax, shrink=0.8, label=name)
        ax.set_title(what, fontsize=10)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def mixed_figure(table: pd.DataFrame, title: str) -> Figure:
    """The mixed world: each strategy's disruption rate of the plots aimed at its nations,
    and the fragments they sent and received, means with 95% intervals."""
    import matplotlib.pyplot as plt

    mixed = table[table["opponent"] == MIXED]
    order = list(dict.fromkeys(mixed["strategy"]))
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(4.2 * len(OUTCOMES),
                                                        0.35 * len(order) + 3.2))
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        part = mixed[mixed["outcome"] == outcome].set_index("strategy")
        for i, s in enumerate(order):
            r = part.loc[s]
            if not np.isfinite(r["mean"]):
                continue
            ax.errorbar([r["mean"]], [i], xerr=[[r["mean"] - r["ci95_lo"]],
                                                [r["ci95_hi"] - r["mean"]]],
                        fmt="o", ms=7, capsize=4, color=_colour(s))
        ax.set_yticks(range(len(order)), [_tick(s) for s in order])
        ax.set_ylim(len(order) - 0.5, -0.5)
        ax.grid(axis="x", alpha=0.3)
        example = f"{outcome}_{order[0]}" if order else outcome
        ax.set_xlabel(_axis(outcome, example))
        top = float(np.nanmax(part["ci95_hi"].to_numpy(float), initial=0.0))
        ax.set_xlim(0, min(1.0, 1.15 * top) if outcome == "disruption_rate" and top > 0
                    else None)
        if ax is not axes[0]:
            ax.tick_params(labelleft=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _axis(outcome: str, metric: str) -> str:
    """An outcome's axis label: its metric's declared label without the strategy's name."""
    text = axis_of(metric)
    strategy = metric.removeprefix(f"{outcome}_")
    return text.replace(f" {BY_NAME[strategy].label} nations", " its nations") if (
        strategy in BY_NAME) else text


def shares_figure(shares: pd.DataFrame, title: str) -> Figure:
    """The share of nations holding each strategy by week, one panel a strategy (mean of
    the runs, 95% band; dotted: the share at the start)."""
    import matplotlib.pyplot as plt

    order = list(dict.fromkeys(shares["strategy"]))
    cols = min(3, len(order))
    rows = -(-len(order) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols + 0.6, 2.6 * rows + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    top = min(1.0, max(0.5, 1.15 * float(shares["ci95_hi"].max())))
    for ax, s in zip(axes.flat, order, strict=False):
        part = shares[shares["strategy"] == s]
        colour = _colour(s)
        ax.plot(part["week"], part["mean"], color=colour, lw=2)
        ax.fill_between(part["week"], part["ci95_lo"], part["ci95_hi"], color=colour,
                        alpha=0.25, lw=0)
        ax.axhline(part["mean"].iloc[0], color="grey", ls=":", lw=1)
        ax.set_title(_tick(s), fontsize=10)
        ax.set_ylim(0, top)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(order):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    for ax in axes[:, 0]:
        ax.set_ylabel("share of nations")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def draw_figures(table: pd.DataFrame, folder: Path, fmt: str, *, world: str,
                 replications: int, shares: pd.DataFrame | None = None) -> list[Path]:
    """Draw the tournament's figures into ``folder``: ``pairs``, ``mixed`` (when the mixed
    world was played) and ``shares`` (with imitation). Returns the files written."""
    from ctsim.analysis.figures import save

    runs = f"mean of {replications} runs"
    written = [save(pair_figure(table, f"{world}: the round-robin of pairs ({runs})"),
                    folder / "pairs", fmt)]
    if (table["opponent"] == MIXED).any():
        written.append(save(mixed_figure(
            table, f"{world}: the mixed world ({runs}, 95% intervals)"), folder / "mixed", fmt))
    if shares is not None and len(shares):
        written.append(save(shares_figure(
            shares, f"{world}: strategies that spread ({runs}, 95% band; dotted: the "
            "start)"),
            folder / "shares", fmt))
    return written
