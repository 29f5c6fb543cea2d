"""Matplotlib figures of runs (named *figures*: a *plot* is a terrorist plot here).

Each function returns a :class:`matplotlib.figure.Figure` and draws nothing on screen;
:func:`save` writes it. Figures use the non-interactive Agg backend.

A run's figures (:func:`outcomes_over_time`, :func:`channels_over_time`,
:func:`haven_ranking`, the network and haven figures) read their tables by column name
only, so they take a pandas DataFrame or a mapping of column arrays alike, and draw
without pandas (``ctsim run`` does not import it); the figures of sweeps, comparisons and
calibrations take DataFrames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ctsim.analysis.layout import (
    BLOC_COLOURS,
    LARGE_WORLD,
    REGION_COLOURS,
    _region_radii,
    colour_for,
    distinct_labels,
    factor_label,
    metric_label,
    network_layout,
    region_layout,
)
from ctsim.analysis.stats import t_halfwidth
from ctsim.core import outputs

if TYPE_CHECKING:
    import pandas as pd

    from ctsim.analysis.snapshot import HasWorld, RunSnapshot
    from ctsim.analysis.tables import Columns

DPI = 150


def save(fig: Figure, path: Path, fmt: str = "png") -> Path:
    """Write ``fig`` to ``path`` (suffix set from ``fmt``) at 150 dpi and close it."""
    path = Path(path).with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None}
                if fmt == "png" else None)
    plt.close(fig)
    return path


def _band(ax, x, frame: pd.DataFrame | np.ndarray, colour: str, label: str,
          bounds: tuple[float, float] | None = None) -> None:
    """Mean line with a 95% band over the columns of ``frame`` (a DataFrame or an array,
    one row an ``x``, one column a run): the Student-t interval of each row's mean
    (:func:`ctsim.analysis.stats.t_halfwidth`, the intervals of every table and report),
    zero wide where a row has a single value. Missing values (NaN) are left out.

    ``bounds`` clips the band to the quantity's range (a share cannot leave [0, 1]).
    """
    values = np.asarray(frame, float)
    mean, std, count = _row_stats(values)
    half = t_halfwidth(std, count)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = _clip(low, *bounds), _clip(high, *bounds)
    ax.plot(np.asarray(x), mean, color=colour, lw=2, label=label)
    ax.fill_between(np.asarray(x), low, high, color=colour, alpha=0.2, lw=0)


def _row_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's mean, sample standard deviation (n - 1; two passes) and count of the
    values that are not NaN; the mean is NaN for a row without any, the deviation for a
    row with fewer than two."""
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    filled = np.where(present, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=1) / count
        squares = np.where(present, (mean[:, np.newaxis] - filled) ** 2, 0.0)
        var = squares.sum(axis=1) / (count - 1)
    mean[count == 0] = np.nan
    var[count <= 1] = np.nan
    return mean, np.sqrt(var), count


def _clip(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` held within [low, high]; NaN stays NaN."""
    kept = np.where(np.isnan(values) | (values >= low), values, low)
    return np.where(np.isnan(kept) | (kept <= high), kept, high)


def _pivot(table: Columns, column: str, rows: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The weeks of ``table`` (rows per replication and step) and ``column`` by week and
    replication: (steps, values of shape (steps, replications)), both in ascending order,
    NaN where a replication lacks a week. ``rows``: only these rows of the table (a mask)."""
    step = np.asarray(table["step"])
    replication = np.asarray(table["replication"])
    values = np.asarray(table[column], float)
    if rows is not None:
        step, replication, values = step[rows], replication[rows], values[rows]
    steps, at_step = np.unique(step, return_inverse=True)
    reps, at_rep = np.unique(replication, return_inverse=True)
    grid = np.full((len(steps), len(reps)), np.nan)
    grid[at_step, at_rep] = values
    return steps, grid


def outcomes_over_time(timeseries: Columns, scenario: str) -> Figure:
    """Cumulative disruption rate, and attacks and disruptions per 4 weeks, over the run.

    Args:
        timeseries: rows per replication and step with ``replication``, ``step``,
            ``disruption_rate``, ``attacks_week`` and ``disrupted_week`` columns (a
            DataFrame or a mapping of column arrays).
        scenario: the scenario's name, for the title.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    later = np.asarray(timeseries["step"]) > 0
    steps, rate = _pivot(timeseries, "disruption_rate", later)
    reps = rate.shape[1]
    _band(top, steps, rate, "#1f5fa8", f"mean of {reps} runs, 95% band", (0.0, 1.0))
    top.set_ylabel("disruption rate to date\n(share of settled plots)")
    top.set_ylim(0, 1)
    top.legend(loc="upper right", frameon=False)
    top.set_title(f"{scenario}: outcomes over time")
    for col, colour, label in (("attacks_week", "#c0392b", "attacks"),
                               ("disrupted_week", "#1f5fa8", "disruptions")):
        steps, weekly = _pivot(timeseries, col, later)
        block = (steps - 1) // 4  # weeks 1-4, 5-8, ...
        blocks = np.unique(block)
        four = np.stack([np.where(np.isnan(weekly[block == b]), 0.0, weekly[block == b])
                         .sum(axis=0) for b in blocks]) if len(blocks) else weekly[:0]
        _band(bottom, blocks * 4 + 4, four, colour, label, (0.0, np.inf))
    bottom.set_ylabel("events per 4 weeks\n(count, mean of runs)")
    bottom.set_xlabel("week")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", frameon=False, ncols=2)
    fig.tight_layout()
    return fig


#: The weekly record's columns of MODEL.md section B's channels, in the order
#: :func:`channels_over_time` draws them, with their panel titles (declared in
#: :mod:`ctsim.core.outputs` with the ``channels`` surface).
CHANNEL_COLUMNS = {o.name: o.title for o in outputs.shown_on("channels", outputs.EVENTS)
                   + outputs.shown_on("channels", outputs.STATE)}


def active_channels(timeseries: Columns) -> list[str]:
    """The channel columns (:data:`CHANNEL_COLUMNS`) that move during some replication of
    a run's time series (rows per replication and step: a DataFrame or a mapping of
    column arrays)."""
    present = [c for c in CHANNEL_COLUMNS if c in timeseries]
    _, run = np.unique(np.asarray(timeseries["replication"]), return_inverse=True)
    moving = []
    for c in present:
        values = np.asarray(timeseries[c], float)
        high = np.full(run.max(initial=-1) + 1, -np.inf)
        low = np.full(len(high), np.inf)
        np.fmax.at(high, run, values)  # NaN (a week not recorded) left out
        np.fmin.at(low, run, values)
        if (high > low).any():
            moving.append(c)
    return moving


def channels_over_time(timeseries: Columns, scenario: str,
                       columns: list[str]) -> Figure:
    """The section B channels a run uses, each in its own panel: the running count (or,
    for treaties in force, the count now), mean of the replications with a 95% band.

    Args:
        timeseries: rows per replication and step with ``replication``, ``step`` and the
            ``columns`` (a DataFrame or a mapping of column arrays).
        scenario: the scenario's name, for the title.
        columns: the record columns to draw (:func:`active_channels`).
    """
    rows = (len(columns) + 1) // 2
    fig, axes = plt.subplots(rows, 2 if len(columns) > 1 else 1, squeeze=False,
                             figsize=(8, 2.6 * rows + 0.6), sharex=True)
    for ax, col in zip(axes.flat, columns, strict=False):
        steps, series = _pivot(timeseries, col)
        _band(ax, steps, series, "#1f5fa8", "mean of runs, 95% band", (0.0, np.inf))
        ax.set_title(CHANNEL_COLUMNS[col], fontsize=9)
        ax.set_ylabel("count" if col in outputs.STATE else "count to date")
        ax.set_ylim(bottom=0)
    for ax in axes.flat[len(columns):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    fig.suptitle(f"{scenario}: the article's further channels over time")
    fig.tight_layout()
    return fig


def label_regions(ax, snap: HasWorld, fontsize: float = 8) -> None:
    """Write each region's name beside its disc of a :func:`region_layout`, and frame the
    axes so that every name shows."""
    w = snap.world
    _, centres = region_layout(snap)
    radii = _region_radii(w.region, len(w.region_names))
    sizes = np.bincount(w.region, minlength=len(w.region_names))
    for r, name in enumerate(w.region_names):
        ax.annotate(f"{name.replace('_', ' ')} ({sizes[r]})", centres[r] * (1 + radii[r] + 0.14),
                    ha="center", va="center", fontsize=fontsize)
    ax.set_xlim(-1.8, 1.8)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")


GAINED, LOST, STEADY = "#1a9850", "#d73027", "#555555"


def trust_edges(snap: HasWorld, pos: dict, matrix: np.ndarray, min_trust: float = 0.5,
                compare_with: np.ndarray | None = None) -> tuple[list, list, list]:
    """Segments, colours and widths of the trust network's edges (see draw_trust_network)."""
    n = snap.world.n
    mutual = (matrix + matrix.T) / 2
    change = mutual - (compare_with + compare_with.T) / 2 if compare_with is not None else None
    segments, colours, widths = [], [], []
    for i in range(n):
        for j in range(i + 1, n):
            moved = change is not None and abs(change[i, j]) > 0.02
            if mutual[i, j] >= min_trust or moved:
                colour = STEADY
                if moved:
                    colour = GAINED if change[i, j] > 0 else LOST
                segments.append((pos[i], pos[j]))
                colours.append(colour)
                widths.append(0.4 + 3 * max(mutual[i, j] - 0.3, 0.0))
    return segments, colours, widths


@dataclass
class NetworkArtists:
    """The parts of a drawn trust network that change from week to week."""

    edges: LineCollection
    leaks: LineCollection
    joint: LineCollection

    def update(self, snap: HasWorld, pos: dict, matrix: np.ndarray, leaks=(),
               joint=(), min_trust: float = 0.5,
               compare_with: np.ndarray | None = None) -> None:
        """Redraw edges for ``matrix`` and this week's leaks and joint disruptions."""
        segments, colours, widths = trust_edges(snap, pos, matrix, min_trust, compare_with)
        self.edges.set_segments(segments)
        self.edges.set_color(colours)
        self.edges.set_linewidths(widths)
        self.leaks.set_segments([(pos[a], pos[b]) for a, b in leaks])
        self.joint.set_segments([(pos[a], pos[b]) for a, b in joint])


def draw_trust_network(ax, snap: HasWorld, pos: dict, matrix: np.ndarray,
                       min_trust: float = 0.5, leaks=(), joint=(), labels: bool = True,
                       compare_with: np.ndarray | None = None) -> NetworkArtists:
    """Draw one trust network on ``ax``; return the artists that change week to week.

    Args:
        ax: the axes.
        snap: what holds the world (nations, blocs, capacities, institutions): a
            :class:`~ctsim.analysis.snapshot.RunSnapshot` or a live model.
        pos: node positions (:func:`network_layout`).
        matrix: the directed trust matrix to draw; an edge joins two nations whose mutual
            trust (mean of both directions) is at least ``min_trust``, thicker when higher.
        leaks: (sender, leaker) pairs to mark in red (this week's leaks).
        joint: (disrupter, partner) pairs to mark in green (this week's joint disruptions).
        labels: whether to write nation names (only up to 40 nations).
        compare_with: an earlier trust matrix: edges that gained more than 0.02 are
            green, those that lost are red.
    """
    w = snap.world
    n = w.n
    segments, colours, widths = trust_edges(snap, pos, matrix, min_trust, compare_with)
    edges = LineCollection(segments, colors=colours, linewidths=widths, alpha=0.35, zorder=1)
    ax.add_collection(edges)
    marked = []
    for pairs, colour in ((leaks, LOST), (joint, GAINED)):
        lc = LineCollection([(pos[a], pos[b]) for a, b in pairs], colors=colour,
                            linewidths=3.5, alpha=0.9, zorder=2)
        ax.add_collection(lc)
        marked.append(lc)
    for h, name in enumerate(w.inst_names):
        members = np.flatnonzero(w.members[h])
        if len(members) == 0:
            continue
        centre = np.mean([pos[i] for i in members], axis=0)
        ax.scatter(*centre, marker="s", s=160, color="black", zorder=3)
        ax.annotate(name, centre, xytext=(0, -14), textcoords="offset points",
                    ha="center", fontsize=7, zorder=4)
    node_colours = [BLOC_COLOURS[b % len(BLOC_COLOURS)] for b in w.bloc]
    shrink = min(1.0, 30 / max(n, 1))  # the same sizes up to 30 nations, smaller beyond
    ax.scatter([pos[i][0] for i in range(n)], [pos[i][1] for i in range(n)],
               s=(40 + 360 * w.capacity) * shrink, c=node_colours, edgecolors="white",
               linewidths=0.5 if n > LARGE_WORLD else 1.0, zorder=2.5)
    if labels and n <= 40:
        for i in range(n):
            ax.annotate(w.names[i], pos[i], xytext=(0, 7), textcoords="offset points",
                        ha="center", fontsize=6, zorder=4)
    ax.autoscale_view()
    ax.set_axis_off()
    return NetworkArtists(edges, *marked)


def network_legend(snap: HasWorld, extra: list[tuple[str, str]]) -> list:
    """Legend handles: blocs, institutions and the coloured edge kinds in ``extra``."""
    w = snap.world
    handles = [plt.Line2D([], [], marker="o", ls="", color=BLOC_COLOURS[b % len(BLOC_COLOURS)],
                          label=f"bloc {name}") for b, name in enumerate(w.bloc_names)]
    handles.append(plt.Line2D([], [], marker="s", ls="", color="black", label="institution"))
    handles += [plt.Line2D([], [], color=colour, lw=2.5, label=label) for colour, label in extra]
    return handles


def trust_network(snap: RunSnapshot, scenario: str, min_trust: float = 0.5) -> Figure:
    """The trust network at the start and at the end of one run (``snap``), side by side.

    Nodes are nations sized by capacity and coloured by bloc; an edge joins two nations
    whose mutual trust (the mean of both directions) is at least ``min_trust``, drawn
    thicker the higher it is. On the right, edges whose trust rose by more than 0.02 are
    green and those that fell are red. Squares mark institutions at their members' centre.
    """
    w = snap.world
    pos = network_layout(snap)
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    draw_trust_network(axes[0], snap, pos, w.trust0, min_trust)
    axes[0].set_title(f"trust at the start (mean trust {_mean_offdiag(w.trust0):.2f})")
    draw_trust_network(axes[1], snap, pos, snap.trust, min_trust, compare_with=w.trust0)
    axes[1].set_title(f"trust at the end (mean trust {_mean_offdiag(snap.trust):.2f})")
    handles = network_legend(snap, [(GAINED, "trust gained"), (LOST, "trust lost")])
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False)
    fig.suptitle(f"{scenario}: trust network (grey edges: mutual trust >= {min_trust}; "
                 "node size: capacity)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def _mean_offdiag(matrix: np.ndarray) -> float:
    n = matrix.shape[0]
    return float((matrix.sum() - np.trace(matrix)) / max(n * (n - 1), 1))


def safe_havens(snap: RunSnapshot, scenario: str) -> Figure:
    """Where plots were based against each nation's capacity, for one run (``snap``).

    Each point is a nation: its intelligence capacity (x) and the share of all plots
    spawned from its territory (y); the ten largest shares are named.
    """
    w = snap.world
    counts = snap.plots_by_base
    share = counts / counts.sum() if counts.sum() > 0 else counts
    fig, ax = plt.subplots(figsize=(7.5, 5))
    colours = [BLOC_COLOURS[b % len(BLOC_COLOURS)] for b in w.bloc]
    ax.scatter(w.capacity, share, s=50, c=colours, edgecolors="white")
    for i in np.argsort(-share)[:10]:
        if share[i] > 0:
            ax.annotate(w.names[i], (w.capacity[i], share[i]), xytext=(4, 3),
                        textcoords="offset points", fontsize=7)
    ax.set_xlabel("nation's intelligence capacity (0..1)")
    ax.set_ylabel("share of plots based there (0..1)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{scenario}: safe havens (Herfindahl index "
                 f"{snap.haven_concentration:.2f})")
    handles = [plt.Line2D([], [], marker="o", ls="", color=BLOC_COLOURS[b % len(BLOC_COLOURS)],
                          label=f"bloc {name}") for b, name in enumerate(w.bloc_names)]
    ax.legend(handles=handles, loc="upper right", frameon=False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- the real world

def region_trust(snap: HasWorld, matrix: np.ndarray) -> np.ndarray:
    """(R, R) mean mutual trust between the nations of two regions (within, on the diagonal)."""
    w = snap.world
    mutual = (matrix + matrix.T) / 2
    onehot = np.eye(len(w.region_names))[w.region]  # (N, R)
    total = onehot.T @ mutual @ onehot
    self_pairs = onehot.T @ np.diag(np.diag(mutual)) @ onehot
    size = onehot.sum(axis=0)
    pairs = np.outer(size, size) - np.diag(size)
    return np.divide(total - self_pairs, pairs, out=np.full_like(total, np.nan), where=pairs > 0)


def world_trust_network(snap: RunSnapshot, scenario: str, changed: float = 0.02) -> Figure:
    """The trust network of a large (real-world) run (``snap``), laid out by region, at its end.

    Left: region to region, a chord's colour and width give the mean mutual trust between
    the two regions' nations, and a ring around each region its mean trust inside. Right:
    the single ties whose mutual trust moved by more than ``changed`` since the start
    (green gained, red lost), and each institution at the centre of its members, labelled
    with its members' mean trust in it at the start and at the end. Nations
    are dots sized by capacity and coloured by bloc in both panels.
    """
    w = snap.world
    pos, centres = region_layout(snap)
    fig, axes = plt.subplots(1, 2, figsize=(15, 7.6))
    cmap = plt.get_cmap("viridis")
    end = region_trust(snap, snap.trust)
    finite = end[np.isfinite(end)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    high = max(high, low + 1e-6)
    ax = axes[0]
    n_regions = len(w.region_names)
    for a in range(n_regions):
        for b in range(a + 1, n_regions):
            if np.isfinite(end[a, b]):
                level = (end[a, b] - low) / (high - low)
                ax.plot(*zip(centres[a], centres[b], strict=True), color=cmap(level),
                        lw=0.5 + 5 * level, alpha=0.8, zorder=1, solid_capstyle="round")
    radii = _region_radii(w.region, n_regions)
    for r in range(n_regions):
        radius = radii[r] + 0.03
        inside = end[r, r]
        ring = cmap((inside - low) / (high - low)) if np.isfinite(inside) else "#cccccc"
        ax.add_patch(plt.Circle(centres[r], radius, fill=False, lw=4, color=ring, zorder=1.5))
    _world_nodes(ax, snap, pos)
    mappable = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(low, high))
    fig.colorbar(mappable, ax=ax, shrink=0.6, pad=0.01, label="mean mutual trust (0..1)")
    ax.set_title("mean trust between regions (chords) and within them (rings)")

    ax = axes[1]
    mutual, start = (snap.trust + snap.trust.T) / 2, (w.trust0 + w.trust0.T) / 2
    moved = np.triu(np.abs(mutual - start) > changed, k=1)
    gained, lost = moved & (mutual > start), moved & (mutual < start)
    for mask, colour in ((lost, LOST), (gained, GAINED)):
        segs = [(pos[i], pos[j]) for i, j in zip(*np.nonzero(mask), strict=True)]
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=1.2, alpha=0.6,
                                         zorder=1))
    for h, name in enumerate(w.inst_names):
        members = np.flatnonzero(w.members[h])
        if len(members):
            centre = np.mean([pos[i] for i in members], axis=0)
            ax.scatter(*centre, marker="s", s=110, color="black", zorder=3)
            t0, t1 = w.inst_trust0[members, h].mean(), snap.inst_trust[members, h].mean()
            ax.annotate(f"{name} {t0:.2f}→{t1:.2f}", centre, xytext=(0, -12),
                        textcoords="offset points",
                        ha="center", fontsize=7, zorder=4,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.7})
    _world_nodes(ax, snap, pos)
    ax.set_title(f"ties that moved by more than {changed}: {int(gained.sum())} gained, "
                 f"{int(lost.sum())} lost\n(institutions: members' mean trust, start→end)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=BLOC_COLOURS[b % len(BLOC_COLOURS)],
                          label=f"bloc {name}") for b, name in enumerate(w.bloc_names)]
    handles += [plt.Line2D([], [], marker="s", ls="", color="black", label="institution"),
                plt.Line2D([], [], color=GAINED, lw=2, label="trust gained"),
                plt.Line2D([], [], color=LOST, lw=2, label="trust lost")]
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False)
    fig.suptitle(f"{scenario}: trust among {w.n} nations after {snap.steps} weeks, by "
                 "region (one run; node size: capacity)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def _world_nodes(ax, snap: HasWorld, pos: dict) -> None:
    """Nation dots (bloc colour, capacity size) and region names outside the ring."""
    w = snap.world
    xy = np.array([pos[i] for i in range(w.n)])
    ax.scatter(xy[:, 0], xy[:, 1], s=6 + 60 * w.capacity ** 2,
               c=[BLOC_COLOURS[b % len(BLOC_COLOURS)] for b in w.bloc],
               edgecolors="white", linewidths=0.3, zorder=2.5)
    label_regions(ax, snap)
    ax.set_axis_off()


def haven_ranking(table: Columns, scenario: str, runs: int, top: int = 20) -> Figure:
    """The ``top`` nations by share of plots based on their territory, largest first.

    Args:
        table: :func:`ctsim.analysis.tables.haven_columns` (nation, region, capacity,
            share and its 95% interval; a DataFrame or a mapping of columns).
        scenario: the scenario's name, for the title.
        runs: how many runs the means are over.
        top: how many nations to show.
    """
    def column(name: str) -> np.ndarray:  # the top rows, the largest at the top
        return np.asarray(table[name])[:top][::-1]

    share, lo, hi = column("share"), column("share_ci95_lo"), column("share_ci95_hi")
    region, everywhere = column("region").tolist(), np.asarray(table["region"]).tolist()
    regions = sorted(set(everywhere))  # the same colour for a region in every run
    colours = [REGION_COLOURS[regions.index(r) % len(REGION_COLOURS)] for r in region]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(share) + 1.8))
    y = np.arange(len(share))
    err = np.vstack([share - lo, hi - share])
    ax.barh(y, share, color=colours, xerr=np.clip(err, 0, None), capsize=2,
            error_kw={"lw": 0.8, "zorder": 3})
    ax.set_yticks(y, [f"{n} ({c})" if c else n for n, c in zip(
        column("nation").tolist(), column("iso3").tolist(), strict=True)], fontsize=8)
    for k, (upper, cap) in enumerate(zip(hi.tolist(), column("capacity").tolist(),
                                         strict=True)):
        ax.annotate(f"capacity {cap:.2f}", (upper, k), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7, color="#444444")
    ax.set_xlabel("share of all plots based there (0..1; mean and 95% interval)")
    ax.set_xlim(0, float(hi.max()) * 1.3 + 1e-9)
    shown = [r for r in regions if r in set(region)]
    handles = [plt.Rectangle((0, 0), 1, 1, color=REGION_COLOURS[regions.index(r) %
                                                                len(REGION_COLOURS)],
                             label=r.replace("_", " ")) for r in shown]
    ax.legend(handles=handles, loc="lower right", frameon=False, fontsize=8)
    total = float(np.asarray(table["share"])[:top].sum())
    ax.set_title(f"{scenario}: where plots are based, the top {len(share)} of "
                 f"{len(everywhere)} nations\n({total:.0%} of all plots; mean of {runs} runs)",
                 fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- comparisons and sweeps

def summarize_groups(runs: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    """Mean, 95% interval (Student t) and count of ``metric`` per group of ``keys``.

    Failed runs and NaN values are left out.
    """
    ok = runs[(runs.get("status", "ok") == "ok") & runs[metric].notna()]
    g = ok.groupby(keys, sort=True)[metric]
    out = g.agg(["mean", "std", "count"]).reset_index()
    half = t_halfwidth(out["std"], out["count"])
    out["lo"], out["hi"] = out["mean"] - half, out["mean"] + half
    return out


def _order(values) -> list:
    """Sort numbers numerically and anything else in first-seen order."""
    vals = list(dict.fromkeys(values))
    try:
        return sorted(vals)
    except TypeError:
        return vals


def response_curves(runs: pd.DataFrame, factors: list[str], metric: str = "disruption_rate",
                    by: str | None = None, title: str = "",
                    base_values: dict | None = None) -> Figure:
    """One panel per factor: ``metric`` against the factor, mean with a 95% band per group.

    Args:
        runs: a sweep's runs (for an oat design, rows whose ``sweep`` is the factor are
            used for its panel).
        factors: the factors to draw, one panel each.
        metric: the outcome on the y axis.
        by: the column that splits lines (e.g. ``cooperation.regime``); None for one line.
        title: the figure's title (the experiment).
        base_values: the baseline value of each factor, marked with a dotted line.
    """
    import pandas as pd

    cols = min(3, len(factors))
    rows = -(-len(factors) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False,
                             sharey=True)
    groups = _order(runs[by]) if by else [None]
    for ax, factor in zip(axes.flat, factors, strict=False):
        data = runs[runs["sweep"] == factor] if "sweep" in runs else runs
        for i, g in enumerate(groups):
            sub = data[data[by] == g] if by else data
            s = summarize_groups(sub, [factor], metric)
            if s.empty:
                continue
            colour = colour_for(str(g), i) if g is not None else "#1f78b4"
            ax.plot(s[factor], s["mean"], marker="o", ms=3.5, lw=1.8, color=colour,
                    label=str(g) if g is not None else metric)
            ax.fill_between(s[factor], s["lo"], s["hi"], color=colour, alpha=0.18, lw=0)
        if base_values and base_values.get(factor) is not None:
            ax.axvline(base_values[factor], color="black", ls=":", lw=1)
        ax.set_xlabel(f"{factor_label(factor)}\n({factor})", fontsize=9)
        if pd.api.types.is_numeric_dtype(data[factor]) and not pd.api.types.is_bool_dtype(
                data[factor]):
            # At most six intervals: a small range (0 to 0.02) would get nine long labels.
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        ax.grid(alpha=0.3)
    # One y label for the figure: a long label per row would run into the rows above.
    fig.supylabel(metric_label(metric))
    for ax in list(axes.flat)[len(factors):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if by:
        handles.append(plt.Line2D([], [], color="black", ls=":", lw=1))
        labels.append("baseline value")
        fig.legend(handles, labels, loc="lower center", ncols=len(labels), frameon=False,
                   title=factor_label(by))
    fig.suptitle(f"{title}: {metric_label(metric)} (mean of runs, 95% band)" if title else
                 metric_label(metric))
    # The legend's strip: about 0.9 inch whatever the number of rows.
    fig.tight_layout(rect=(0, min(0.08, 0.9 / fig.get_figheight()) if by else 0, 1, 0.97))
    return fig


def heatmap(runs: pd.DataFrame, x: str, y: str, metric: str = "disruption_rate",
            title: str = "") -> Figure:
    """Mean ``metric`` over a two-factor grid, with a colour bar and each cell's value."""
    s = summarize_groups(runs, [y, x], metric)
    table = s.pivot(index=y, columns=x, values="mean")
    fig, ax = plt.subplots(figsize=(7, 5.6))
    im = ax.imshow(table.to_numpy(), origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v)
                                          for v in table.index])
    ax.set_xlabel(f"{factor_label(x)} ({x})")
    ax.set_ylabel(f"{factor_label(y)} ({y})")
    values = table.to_numpy()
    mid = np.nanmean(values)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=9,
                color="white" if v < mid else "black")
    fig.colorbar(im, ax=ax, label=metric_label(metric))
    ax.set_title(f"{title}: mean {metric.replace('_', ' ')}" if title else metric)
    fig.tight_layout()
    return fig


def morris_figure(sensitivity: pd.DataFrame, metric: str = "disruption_rate",
                  title: str = "") -> Figure:
    """Morris screening: mu_star (overall effect) against sigma (interactions, non-linearity)."""
    s = sensitivity[sensitivity["metric"] == metric].sort_values("mu_star", ascending=False)
    fig, ax = plt.subplots(figsize=(8.5, 5.5))
    ax.errorbar(s["mu_star"], s["sigma"], xerr=s["mu_star_conf"], fmt="o", color="#1f78b4",
                ecolor="#a6cee3", capsize=3)
    # Numbers at the points and a key beside the axes: names never overlap, however close.
    key = []
    for rank, row in enumerate(s.itertuples(), start=1):
        ax.annotate(str(rank), (row.mu_star, row.sigma), xytext=(4, 4),
                    textcoords="offset points", fontsize=8)
        key.append(f"{rank}  {factor_label(row.factor)}  (mu* {row.mu_star:.3f})")
    ax.text(1.02, 1.0, "\n".join(key), transform=ax.transAxes, va="top", fontsize=8,
            family="monospace")
    positive = s["mu_star"][s["mu_star"] > 0]
    if len(positive) and positive.max() / positive.min() > 20:
        ax.set_xscale("log")
        ax.set_yscale("log")
    else:
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
    top = max(s["mu_star"].max(), s["sigma"].max()) * 1.1 if len(s) else 1
    low = min(positive.min(), s["sigma"][s["sigma"] > 0].min()) * 0.9 if len(positive) else 0
    ax.plot([low, top], [low, top], color="grey", ls=":", lw=1, label="sigma = mu*")
    ax.set_xlabel(f"mu* (mean absolute elementary effect on {metric.replace('_', ' ')})")
    ax.set_ylabel("sigma (spread of elementary effects)")
    ax.legend(loc="upper left", frameon=False)
    ax.set_title(f"{title}: Morris screening, 95% intervals of mu*" if title else "Morris")
    fig.tight_layout()
    return fig


def sobol_figure(sensitivity: pd.DataFrame, metric: str = "disruption_rate",
                 title: str = "") -> Figure:
    """Sobol' first-order (S1) and total (ST) indices per factor with 95% intervals,
    largest total index on top; with a dummy factor (a design's ``dummy: true``), the
    upper end of its total index's interval as a dotted line: the floor chance alone
    reaches, below which a factor is not told apart from it."""
    s = sensitivity[sensitivity["metric"] == metric].sort_values(
        "ST", ascending=True, kind="stable").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * len(s) + 1.6))
    y = np.arange(len(s))
    dummy = s[s["factor"] == "dummy"]
    if not dummy.empty:
        floor = float(dummy["ST"].iloc[0] + dummy["ST_conf"].iloc[0])
        ax.axvline(floor, color="#4d4d4d", lw=1.0, ls=":",
                   label=f"dummy's ST, upper 95% ({floor:.3f})")
    ax.barh(y + 0.2, s["ST"], 0.4, xerr=s["ST_conf"], capsize=2, color="#e66101", label="ST")
    ax.barh(y - 0.2, s["S1"], 0.4, xerr=s["S1_conf"], capsize=2, color="#1f78b4", label="S1")
    ax.set_yticks(y, distinct_labels(list(s["factor"])), fontsize=8)
    ax.set_xlabel(f"share of variance in {metric.replace('_', ' ')}")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_ylim(-0.7, len(s) - 0.3)
    ax.legend(frameon=False, loc="lower right")
    ax.set_title(f"{title}: Sobol' indices, 95% intervals" if title else "Sobol' indices")
    fig.tight_layout()
    return fig


def comparison(values: dict[str, dict[str, list[float]]], metrics: list[str],
               baseline: str, title: str = "") -> Figure:
    """Each metric's mean with its 95% interval, one point per scenario, baseline marked.

    Args:
        values: scenario -> metric -> one value per replication.
        metrics: metrics to draw, one panel each.
        baseline: the scenario the others are compared with (its mean: a dashed line).
    """
    import pandas as pd

    names = list(values)
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(5.5, 0.55 * len(names) + 2.5) *
                                                       len(metrics), 4.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = []
        for name in names:
            frame = pd.DataFrame({metric: values[name][metric]})
            s = summarize_groups(frame.assign(g=0), ["g"], metric)
            rows.append(s.iloc[0] if len(s) else None)
        for i, (name, row) in enumerate(zip(names, rows, strict=True)):
            if row is None:
                continue
            colour = colour_for(name, i)
            ax.errorbar([i], [row["mean"]], yerr=[[row["mean"] - row["lo"]],
                                                  [row["hi"] - row["mean"]]],
                        fmt="D" if name == baseline else "o", ms=7, color=colour, capsize=4)
        base = rows[names.index(baseline)]
        if base is not None:
            ax.axhline(base["mean"], color="black", ls="--", lw=1,
                       label=f"{baseline} mean")
        ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
        ax.set_ylabel(metric_label(metric))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="best", frameon=False)
    fig.suptitle(title or "scenario comparison (mean, 95% interval)")
    fig.tight_layout()
    return fig


def timeseries_by_group(ts: pd.DataFrame, group: pd.Series, column: str = "disruption_rate",
                        title: str = "") -> Figure:
    """``column`` over the weeks, mean with a 95% band per group of runs.

    Args:
        ts: weekly rows with ``run_id``, ``step`` and ``column``.
        group: the group of each run, indexed by run id (e.g. its scenario).
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    data = ts[ts["step"] > 0].assign(group=lambda d: d["run_id"].map(group))
    for i, g in enumerate(_order(data["group"])):
        wide = data[data["group"] == g].pivot(index="step", columns="run_id", values=column)
        bounds = (0.0, 1.0) if column in ("disruption_rate", "mean_trust") else (0.0, np.inf)
        _band(ax, wide.index, wide, colour_for(str(g), i), str(g), bounds)
    ax.set_xlabel("week")
    ax.set_ylabel(metric_label(column) if column != "disruption_rate" else
                  "disruption rate to date (share of settled plots)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="lower right")
    ax.set_title(f"{title}: {column.replace('_', ' ')} over time (mean, 95% band)")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- calibration


def _weighted_hist(ax, values: np.ndarray, weights: np.ndarray, lo: float, hi: float,
                   integer: bool) -> None:
    edges = (np.arange(np.floor(lo), np.floor(hi) + 2) - 0.5 if integer
             else np.linspace(lo, hi, 21))
    ax.hist(values, bins=edges, weights=weights, density=True, color="#1b9e77", alpha=0.75)


def posterior_marginals(posterior: pd.DataFrame, priors: dict[str, tuple[float, float]],
                        title: str) -> Figure:
    """Each parameter's posterior (weighted histogram of the last population) over its
    prior's range, the uniform prior's density dashed."""
    names = list(priors)
    fig, axes = plt.subplots(1, len(names), figsize=(3.4 * len(names), 3.0), squeeze=False)
    w = posterior["weight"].to_numpy(float)
    for ax, k in zip(axes[0], names, strict=True):
        lo, hi = priors[k]
        v = posterior[k].to_numpy(float)
        integer = bool(np.all(np.mod(v, 1) == 0)) and float(lo).is_integer()
        _weighted_hist(ax, v, w, lo, hi, integer)
        width = (hi + 1 - lo) if integer else (hi - lo)
        ax.axhline(1.0 / width, color="0.3", ls="--", lw=1, label="prior")
        ax.set_xlim(lo - (0.5 if integer else 0), hi + (0.5 if integer else 0))
        ax.set_xlabel(k)
        ax.set_ylabel("density")
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.suptitle(f"{title}: posterior marginals (last population)")
    fig.tight_layout()
    return fig


def posterior_pairs(posterior: pd.DataFrame, priors: dict[str, tuple[float, float]],
                    title: str) -> Figure:
    """Every pair of parameters in the last population, point area by weight (integer
    parameters jittered by up to 0.2 so that their particles do not hide each other)."""
    names = list(priors)
    n = len(names)
    fig, axes = plt.subplots(n, n, figsize=(2.4 * n, 2.4 * n), squeeze=False)
    w = posterior["weight"].to_numpy(float)
    size = 4 + 60 * w / w.max()
    rng = np.random.default_rng(np.random.SeedSequence(0x9A1))
    shown = {}
    for k in names:
        v = posterior[k].to_numpy(float)
        integer = bool(np.all(np.mod(v, 1) == 0)) and float(priors[k][0]).is_integer()
        shown[k] = v + (rng.uniform(-0.2, 0.2, len(v)) if integer else 0.0)
    for i, ky in enumerate(names):
        for j, kx in enumerate(names):
            ax = axes[i][j]
            if i == j:
                v = posterior[kx].to_numpy(float)
                integer = bool(np.all(np.mod(v, 1) == 0)) and float(priors[kx][0]).is_integer()
                _weighted_hist(ax, v, w, *priors[kx], integer)
            else:
                ax.scatter(shown[kx], shown[ky], s=size, color="#7570b3", alpha=0.4, lw=0)
                ax.set_ylim(priors[ky][0] - 0.05 * (priors[ky][1] - priors[ky][0]),
                            priors[ky][1] + 0.05 * (priors[ky][1] - priors[ky][0]))
            ax.set_xlim(priors[kx][0] - 0.05 * (priors[kx][1] - priors[kx][0]),
                        priors[kx][1] + 0.05 * (priors[kx][1] - priors[kx][0]))
            if i == n - 1:
                ax.set_xlabel(kx, fontsize=8)
            else:
                ax.set_xticklabels([])
            if j == 0 and i != 0:
                ax.set_ylabel(ky, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(f"{title}: posterior pairs (point area: particle weight)")
    fig.tight_layout()
    return fig


def abc_populations(populations: pd.DataFrame, title: str) -> Figure:
    """Epsilon (the acceptance threshold, standardized distance) and the acceptance rate
    of each ABC-SMC population."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    a.plot(populations["t"], populations["epsilon"], "o-", color="#d95f02")
    a.set_xlabel("population")
    a.set_ylabel("epsilon (standardized distance)")
    b.plot(populations["t"], populations["acceptance_rate"], "o-", color="#1b9e77")
    b.set_yscale("log")
    b.set_xlabel("population")
    b.set_ylabel("acceptance rate")
    for ax in (a, b):
        ax.set_xticks(populations["t"])
    fig.suptitle(f"{title}: ABC-SMC by population (acceptance rate: accepted / sampled)")
    fig.tight_layout()
    return fig


def predictive_checks(predictive: pd.DataFrame, title: str) -> Figure:
    """Each target's observation (point, 95% interval from its sd) against the model's
    posterior predictive interval (bar: 2.5% to 97.5% of the draws; tick: mean); fitted
    targets in green, held-out in purple."""
    n = len(predictive)
    fig, ax = plt.subplots(figsize=(8, 0.7 * n + 1.4))
    for i, r in enumerate(predictive.itertuples()):
        y = n - 1 - i
        colour = "#1b9e77" if r.role == "fit" else "#7570b3"
        ax.plot([r.simulated_lo, r.simulated_hi], [y + 0.12] * 2, color=colour, lw=6,
                alpha=0.6, solid_capstyle="butt")
        ax.plot([r.simulated_mean], [y + 0.12], "|", color=colour, ms=14, mew=2)
        ax.errorbar([r.observed], [y - 0.12], xerr=[[1.96 * r.sd]], fmt="o", color="k",
                    capsize=3, ms=5)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{r.target} ({'fit' if r.role == 'fit' else 'held out'})"
                        for r in predictive.iloc[::-1].itertuples()], fontsize=8)
    ax.set_xlabel("value (share or relative change)")
    ax.set_ylim(-0.7, n - 0.3)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color="#1b9e77", lw=6, alpha=0.6, label="model, fitted"),
                       Line2D([], [], color="#7570b3", lw=6, alpha=0.6,
                              label="model, held out"),
                       Line2D([], [], color="k", marker="o", ls="", label="observed, 95%")],
              frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14),
              ncol=3)
    fig.suptitle(f"{title}: posterior predictive checks")
    fig.tight_layout()
    return fig
