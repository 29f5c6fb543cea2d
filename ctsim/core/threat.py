"""Terrorist groups and their plots: spawning, footprints and the plot table.

Plots live in a :class:`PlotTable`, a structure of numpy arrays indexed by plot id (ids
are never reused, so a plot's row is its id). Each plot has a footprint of at most ``F``
nations (``-1`` pads shorter ones): base first, target last, transit nations between.
Fragments (pieces of intelligence) live in a :class:`FragmentTable`, with ``held[f, b]``
saying whether footprint slot ``b`` of the fragment's plot already counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ctsim.core import rules

ACTIVE, DISRUPTED, ATTACKED = 0, 1, 2

IntArray = NDArray[np.int64]


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with its first axis grown to at least ``size`` (doubling), new rows zero."""
    if size <= array.shape[0]:
        return array
    new = np.zeros((max(size, 2 * array.shape[0]), *array.shape[1:]), dtype=array.dtype)
    new[: array.shape[0]] = array
    return new


class PlotTable:
    """Every plot of a run, as parallel arrays indexed by plot id.

    Columns: ``group``, ``base`` and ``target`` (nation indices), ``foot`` (ids × F nation
    indices, -1 padded), ``lead`` (weeks until the attack), ``age`` (weeks of collection so
    far), ``epoch`` (bumped when a leak alerts the plot), ``status`` (ACTIVE, DISRUPTED,
    ATTACKED), ``evidence`` (ids × F admissible fragments each footprint nation holds),
    ``spawned`` and ``resolved`` (step numbers), ``disrupter`` (nation or -1).
    """

    INT_COLUMNS = ("group", "base", "target", "lead", "age", "epoch", "status", "spawned",
                   "resolved", "disrupter", "foreign")

    def __init__(self, width: int, capacity: int = 256):
        self.width = width
        self.count = 0
        for name in self.INT_COLUMNS:
            setattr(self, name, np.zeros(capacity, np.int64))
        self.foot = np.full((capacity, width), -1, np.int64)
        self.evidence = np.zeros((capacity, width), np.int64)
        self.active_ids: IntArray = np.zeros(0, np.int64)

    def add(self, group: IntArray, foot: IntArray, lead: IntArray, step: int) -> IntArray:
        """Append plots (one row of ``foot`` each); return their ids."""
        k = len(group)
        ids = np.arange(self.count, self.count + k)
        end = self.count + k
        for name in self.INT_COLUMNS:
            setattr(self, name, _grow(getattr(self, name), end))
        if end > self.foot.shape[0]:
            old = self.foot.shape[0]
            self.foot = _grow(self.foot, end)
            self.foot[old:] = -1
            self.evidence = _grow(self.evidence, end)
        sizes = (foot >= 0).sum(axis=1)
        self.group[ids] = group
        self.foot[ids] = foot
        self.base[ids] = foot[:, 0]
        self.target[ids] = foot[np.arange(k), sizes - 1]
        self.lead[ids] = lead
        self.spawned[ids] = step
        self.status[ids] = ACTIVE
        self.resolved[ids] = -1
        self.disrupter[ids] = -1
        self.count = end
        self.active_ids = np.concatenate([self.active_ids, ids])
        return ids

    def resolve(self, ids: IntArray, status: int, step: int) -> None:
        """Mark ``ids`` disrupted or attacked at ``step`` and drop them from the active list."""
        self.status[ids] = status
        self.resolved[ids] = step
        self.active_ids = self.active_ids[self.status[self.active_ids] == ACTIVE]


class FragmentTable:
    """Every intelligence fragment of a run: its plot, origin slot and nation, sensitivity.

    ``held[f, b]`` is True once footprint slot ``b`` of fragment ``f``'s plot counts it as
    evidence, so a nation counts each fragment at most once, whichever way it came;
    ``stamp`` is scratch space that finds duplicates within one week's deliveries.
    """

    def __init__(self, width: int, capacity: int = 1024):
        self.count = 0
        self.plot = np.zeros(capacity, np.int64)
        self.slot = np.zeros(capacity, np.int64)
        self.nation = np.zeros(capacity, np.int64)
        self.epoch = np.zeros(capacity, np.int64)
        self.sensitivity = np.zeros(capacity, float)
        self.held = np.zeros((capacity, width), bool)
        self.stamp = np.zeros((capacity, width), np.int64)  # scratch for de-duplication

    def add(self, plot: IntArray, slot: IntArray, nation: IntArray, epoch: IntArray,
            sensitivity: NDArray[np.float64]) -> IntArray:
        """Append fragments, held by their collector; return their ids."""
        k = len(plot)
        ids = np.arange(self.count, self.count + k)
        end = self.count + k
        for name in ("plot", "slot", "nation", "epoch", "sensitivity", "held", "stamp"):
            setattr(self, name, _grow(getattr(self, name), end))
        self.plot[ids], self.slot[ids], self.nation[ids] = plot, slot, nation
        self.epoch[ids], self.sensitivity[ids] = epoch, sensitivity
        self.held[ids, slot] = True
        self.count = end
        return ids


@dataclass
class Groups:
    """Terrorist groups: current base nation and strength in (0, 1] (1 = full plot rate)."""

    base: IntArray
    strength: NDArray[np.float64]


_LAST = 1e300  # sort keys after every weighted key (-log(u) / w < 1e300)


def draw_footprints(
    bases: IntArray,
    sizes: IntArray,
    target_weight: NDArray[np.float64],
    width: int,
    rng: np.random.Generator,
    region: IntArray | None = None,
    locality: float = 0.0,
) -> IntArray:
    """Footprints for new plots: base first, target last, distinct transit nations between.

    MODEL.md step 1: the target is drawn by target weight among nations other than the
    base (a plot of size 1 is domestic: its base is its target); transit nations are drawn
    uniformly from the rest. Returns an array (plots × ``width``), -1 padded.

    Args:
        bases: base nation of each plot.
        sizes: footprint size of each plot, 1 <= size <= min(width, nations).
        target_weight: relative chance of each nation being a target, >= 0.
        width: the table's footprint width.
        rng: the model's generator.
        region, locality: with ``locality`` > 0, target and transit nations are drawn with
            :func:`~ctsim.core.rules.footprint_weights` (near the base's region) instead
            of uniformly; ``region`` gives each nation's region.
    """
    p, n = len(bases), len(target_weight)
    foot = np.full((p, width), -1, np.int64)
    foot[:, 0] = bases
    if n == 1 or p == 0:
        return foot
    rows = np.arange(p)
    # A random order of the other nations: the base sorts last (key 2).
    keys = rng.random((p, n))
    keys[rows, bases] = 2.0
    w = np.asarray(target_weight, float)
    near = None
    if locality > 0 and region is not None:
        near = rules.footprint_weights(region, bases, locality)
        # Weighted order without replacement (Efraimidis-Spirakis keys, smallest first)
        # from the same uniforms; nations of weight 0 come next, the base and target last.
        with np.errstate(divide="ignore"):
            keys = np.where(near > 0, -np.log(keys) / np.where(near > 0, near, 1.0),
                            _LAST * (1.0 + keys))
        keys[rows, bases] = 3 * _LAST
    if near is None and np.all(w == w[0]) and w[0] > 0:
        # Equal weights: the first of the random order is the target, the next are transit.
        order = np.argsort(keys, axis=1)[:, : max(width - 1, 1)]
        target = order[:, 0]
        transit = order[:, 1:]
    else:
        # Weighted target by exponential keys (argmax of log(u) / w; w = 0 never chosen),
        # then transit in the random order with the target moved out of the way.
        u = rng.random((p, n))
        wt = np.tile(w, (p, 1)) if near is None else w[None, :] * near
        wt[rows, bases] = 0.0
        empty = wt.sum(axis=1) <= 0
        if empty.any():  # nobody else carries weight: choose uniformly among the others
            wt[empty] = 1.0
            wt[empty, bases[empty]] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            tkeys = np.where(wt > 0, np.log(u) / np.where(wt > 0, wt, 1.0), -np.inf)
        target = tkeys.argmax(axis=1)
        keys[rows, target] = 3.0 if near is None else 4 * _LAST
        transit = np.argsort(keys, axis=1)[:, : max(width - 2, 0)]
    for b in range(1, width):
        col = transit[:, b - 1] if b - 1 < transit.shape[1] else target
        foot[:, b] = np.where(b < sizes - 1, col, np.where(b == sizes - 1, target, -1))
    return foot
