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
        start, end = self.count, self.count + k
        ids = np.arange(start, end)
        if end > self.foot.shape[0]:
            for name in self.INT_COLUMNS:
                setattr(self, name, _grow(getattr(self, name), end))
            old = self.foot.shape[0]
            self.foot = _grow(self.foot, end)
            self.foot[old:] = -1
            self.evidence = _grow(self.evidence, end)
        sizes = (foot >= 0).sum(axis=1)
        new = slice(start, end)
        self.group[new] = group
        self.foot[new] = foot
        self.base[new] = foot[:, 0]
        self.target[new] = foot[np.arange(k), sizes - 1]
        self.lead[new] = lead
        self.spawned[new] = step
        self.status[new] = ACTIVE
        self.resolved[new] = -1
        self.disrupter[new] = -1
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
        start, end = self.count, self.count + k
        ids = np.arange(start, end)
        if end > len(self.plot):
            for name in ("plot", "slot", "nation", "epoch", "sensitivity", "held", "stamp"):
                setattr(self, name, _grow(getattr(self, name), end))
        new = slice(start, end)
        self.plot[new], self.slot[new], self.nation[new] = plot, slot, nation
        self.epoch[new], self.sensitivity[new] = epoch, sensitivity
        self.held[ids, slot] = True
        self.count = end
        return ids


@dataclass
class Groups:
    """Terrorist groups: current base nation and strength in (0, 1] (1 = full plot rate)."""

    base: IntArray
    strength: NDArray[np.float64]


#: Inverse weight standing for weight 0: its keys (an exponential draw, below 1e3, times
#: 1e290) sort after every key of a positive weight and before the base and target (_LAST).
ZERO_WEIGHT = 1e290
_LAST = 1e300


def inverse_weights(weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """``1 / weights`` for :func:`draw_footprints`, :data:`ZERO_WEIGHT` where a weight is 0."""
    positive = weights > 0
    return np.where(positive, 1.0 / np.where(positive, weights, 1.0), ZERO_WEIGHT)


def smallest(keys: NDArray[np.float64], k: int) -> IntArray:
    """Column indices of the ``k`` smallest keys of each row, smallest first.

    The same as ``np.argsort(keys, axis=1)[:, :k]`` for distinct keys; for the few columns
    a footprint needs, ``k`` passes of argmin are much faster than sorting whole rows.
    """
    if k > 8:
        return np.argsort(keys, axis=1)[:, :k]
    out = np.empty((keys.shape[0], k), np.int64)
    if k == 0:
        return out
    work = keys.copy()
    rows = np.arange(keys.shape[0])
    for j in range(k):
        out[:, j] = work.argmin(axis=1)
        if j + 1 < k:
            work[rows, out[:, j]] = np.inf
    return out


def draw_footprints(
    bases: IntArray,
    sizes: IntArray,
    target_weight: NDArray[np.float64],
    width: int,
    rng: np.random.Generator,
    inverse_near: NDArray[np.float64] | None = None,
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
        inverse_near: (plots, N) inverse weights for the other footprint nations of each
            plot, ``1 / w`` with ``w`` the rows of
            :func:`~ctsim.core.rules.footprint_weights` (``threat.locality``) and
            :data:`ZERO_WEIGHT` where ``w`` is 0 (see :func:`inverse_weights`); None draws
            them uniformly. The target is drawn by ``target_weight * w``.
    """
    p, n = len(bases), len(target_weight)
    foot = np.full((p, width), -1, np.int64)
    foot[:, 0] = bases
    if n == 1 or p == 0:
        return foot
    rows = np.arange(p)
    if inverse_near is None:
        # A random order of the other nations: the base sorts last (key 2).
        keys = rng.random((p, n))
        keys[rows, bases] = 2.0
    else:
        # Weighted order without replacement (Efraimidis-Spirakis keys E / w with E an
        # exponential draw, smallest first); weight 0 next, the base and target last.
        keys = rng.standard_exponential((p, n))
        keys *= inverse_near
        keys[rows, bases] = _LAST
    w = np.asarray(target_weight, float)
    if w[0] > 0 and (w == w[0]).all():
        # Equal weights: the first of the (weighted) random order is the target, the next
        # are transit.
        order = smallest(keys, max(width - 1, 1))
        target = order[:, 0]
        transit = order[:, 1:]
    else:
        # Weighted target by exponential keys (argmax of log(u) / w; w = 0 never chosen),
        # then transit in the random order with the target moved out of the way.
        u = rng.random((p, n))
        wt = np.tile(w, (p, 1))
        if inverse_near is not None:
            wt[inverse_near >= ZERO_WEIGHT] = 0.0
            wt /= np.where(inverse_near >= ZERO_WEIGHT, 1.0, inverse_near)
        wt[rows, bases] = 0.0
        empty = wt.sum(axis=1) <= 0
        if empty.any():  # nobody else carries weight: choose uniformly among the others
            wt[empty] = 1.0
            wt[empty, bases[empty]] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            tkeys = np.where(wt > 0, np.log(u) / np.where(wt > 0, wt, 1.0), -np.inf)
        target = tkeys.argmax(axis=1)
        keys[rows, target] = 3.0 if inverse_near is None else 2 * _LAST
        transit = smallest(keys, max(width - 2, 0))
    if width > 1:
        # Slot b (1..width-1): transit b-1 while b < size - 1, the target at b = size - 1.
        middle = np.concatenate([transit[:, : width - 2], target[:, None]], axis=1)
        slot = np.arange(1, width)[None, :]
        last = (sizes - 1)[:, None]
        foot[:, 1:] = np.where(slot < last, middle, np.where(slot == last, target[:, None], -1))
    return foot
