"""Matplotlib figures of runs (named *figures*: a *plot* is a terrorist plot here).

Each function returns a :class:`matplotlib.figure.Figure` and draws nothing on screen;
:func:`save` writes it. Figures use the non-interactive Agg backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ctsim.core import CooperationModel

BLOC_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
DPI = 150


def save(fig: Figure, path: Path, fmt: str = "png") -> Path:
    """Write ``fig`` to ``path`` (suffix set from ``fmt``) at 150 dpi and close it."""
    path = Path(path).with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None}
                if fmt == "png" else None)
    plt.close(fig)
    return path


def _band(ax, x, frame: pd.DataFrame, colour: str, label: str) -> None:
    """Mean line with a 95% band (normal approximation) over the columns of ``frame``."""
    mean = frame.mean(axis=1)
    n = frame.notna().sum(axis=1).clip(lower=1)
    half = 1.96 * frame.std(axis=1, ddof=1).fillna(0) / np.sqrt(n)
    ax.plot(x, mean, color=colour, lw=2, label=label)
    ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.2, lw=0)


def outcomes_over_time(timeseries: pd.DataFrame, scenario: str) -> Figure:
    """Cumulative disruption rate, and attacks and disruptions per 4 weeks, over the run.

    Args:
        timeseries: rows per replication and step with ``replication``, ``step``,
            ``disruption_rate``, ``attacks_week`` and ``disrupted_week`` columns.
        scenario: the scenario's name, for the title.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    ts = timeseries[timeseries["step"] > 0]
    rate = ts.pivot(index="step", columns="replication", values="disruption_rate")
    reps = rate.shape[1]
    _band(top, rate.index, rate, "#1f5fa8", f"mean of {reps} runs, 95% band")
    top.set_ylabel("disruption rate to date\n(share of settled plots)")
    top.set_ylim(0, 1)
    top.legend(loc="upper right", frameon=False)
    top.set_title(f"{scenario}: outcomes over time")
    for col, colour, label in (("attacks_week", "#c0392b", "attacks"),
                               ("disrupted_week", "#1f5fa8", "disruptions")):
        weekly = ts.pivot(index="step", columns="replication", values=col)
        four = weekly.groupby((weekly.index - 1) // 4).sum()
        four.index = four.index * 4 + 4
        _band(bottom, four.index, four, colour, label)
    bottom.set_ylabel("events per 4 weeks\n(count, mean of runs)")
    bottom.set_xlabel("week")
    bottom.set_ylim(bottom=0)
    bottom.legend(loc="upper left", frameon=False, ncols=2)
    fig.tight_layout()
    return fig


def trust_network(model: CooperationModel, scenario: str, min_trust: float = 0.5) -> Figure:
    """The trust network at the start and at the end of one run, side by side.

    Nodes are nations sized by capacity and coloured by bloc; an edge joins two nations
    whose mutual trust (the mean of both directions) is at least ``min_trust``, drawn
    thicker the higher it is. On the right, edges whose trust rose by more than 0.02 are
    green and those that fell are red. Squares mark institutions at their members' centre.
    """
    w = model.world
    n = w.n
    layout_graph = nx.Graph()
    layout_graph.add_nodes_from(range(n))
    t0 = (w.trust0 + w.trust0.T) / 2
    for i in range(n):
        for j in range(i + 1, n):
            layout_graph.add_edge(i, j, weight=float(t0[i, j]) ** 2)
    pos = nx.spring_layout(layout_graph, seed=1, weight="weight", k=1.6 / np.sqrt(n))
    fig, axes = plt.subplots(1, 2, figsize=(12, 6))
    for ax, matrix, when in ((axes[0], w.trust0, "start"), (axes[1], model.trust, "end")):
        mutual = (matrix + matrix.T) / 2
        change = mutual - t0
        for i in range(n):
            for j in range(i + 1, n):
                if mutual[i, j] >= min_trust or abs(change[i, j]) > 0.02:
                    colour = ("#1a9850" if change[i, j] > 0.02 else
                              "#d73027" if change[i, j] < -0.02 else "#555555")
                    ax.plot(*zip(pos[i], pos[j], strict=True), color=colour,
                            lw=0.4 + 3 * max(mutual[i, j] - 0.3, 0.0),
                            alpha=0.6 if colour != "#555555" else 0.3, zorder=1)
        for h, name in enumerate(w.inst_names):
            centre = np.mean([pos[i] for i in np.flatnonzero(w.members[h])], axis=0)
            ax.scatter(*centre, marker="s", s=160, color="black", zorder=3)
            ax.annotate(name, centre, xytext=(0, -14), textcoords="offset points",
                        ha="center", fontsize=7, zorder=4)
        colours = [BLOC_COLOURS[b % len(BLOC_COLOURS)] for b in w.bloc]
        ax.scatter([pos[i][0] for i in range(n)], [pos[i][1] for i in range(n)],
                   s=40 + 360 * w.capacity, c=colours, edgecolors="white", zorder=2)
        if n <= 40:
            for i in range(n):
                ax.annotate(w.names[i], pos[i], xytext=(0, 7), textcoords="offset points",
                            ha="center", fontsize=6, zorder=4)
        ax.set_title(f"trust at the {when} (mean trust {_mean_offdiag(matrix):.2f})")
        ax.set_axis_off()
    handles = [plt.Line2D([], [], marker="o", ls="", color=BLOC_COLOURS[b % len(BLOC_COLOURS)],
                          label=f"bloc {name}") for b, name in enumerate(w.bloc_names)]
    handles.append(plt.Line2D([], [], marker="s", ls="", color="black", label="institution"))
    handles.append(plt.Line2D([], [], color="#1a9850", label="trust gained"))
    handles.append(plt.Line2D([], [], color="#d73027", label="trust lost"))
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False)
    fig.suptitle(f"{scenario}: trust network (grey edges: mutual trust >= {min_trust}; "
                 "node size: capacity)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    return fig


def _mean_offdiag(matrix: np.ndarray) -> float:
    n = matrix.shape[0]
    return float((matrix.sum() - np.trace(matrix)) / max(n * (n - 1), 1))


def safe_havens(model: CooperationModel, scenario: str) -> Figure:
    """Where plots were based against each nation's capacity, for one run.

    Each point is a nation: its intelligence capacity (x) and the share of all plots
    spawned from its territory (y); the ten largest shares are named.
    """
    w = model.world
    counts = model.counts.plots_by_base
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
                 f"{model.metrics()['haven_concentration']:.2f})")
    handles = [plt.Line2D([], [], marker="o", ls="", color=BLOC_COLOURS[b % len(BLOC_COLOURS)],
                          label=f"bloc {name}") for b, name in enumerate(w.bloc_names)]
    ax.legend(handles=handles, loc="upper right", frameon=False)
    fig.tight_layout()
    return fig
