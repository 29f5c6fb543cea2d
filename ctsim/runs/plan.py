"""An experiment's runs as columns: a plan of a million runs in a few megabytes.

A run of an experiment is fixed by its number alone. Run ``i`` of ``S`` scenarios x ``P``
design points x ``R`` replications is scenario ``i // (P R)``, design point ``i // R``
(counted over every scenario, as :class:`~ctsim.runs.experiment.RunSpec` counts it) and
replication ``i % R``, with that replication's seed. A :class:`Plan` holds what it takes
to say the rest (each factor's values by point, the seeds, the posterior's draws by
replication), never one object per run: a batch of runs travels to a worker as the
:class:`Span` of its numbers, and each side reads its runs' columns from the plan.

A Saltelli design (``design: sobol``) is held as its two base matrices, ``A`` and ``B``
(``samples`` x factors each): point ``n (D + 2) + j`` is ``A[n]`` (``j = 0``), ``A[n]``
with factor ``j - 1`` taken from ``B[n]`` (``1 <= j <= D``) or ``B[n]`` (``j = D + 1``),
the rows SALib's ``sobol.sample`` gives, value for value, in a (D + 2)-th of its memory
and without a list of dictionaries. A factor given by ``values`` is sampled there as a
categorical: its column of the base matrices holds quantiles in [0, 1), each value taking
an equal share of them.

With a dummy factor (``dummy: true``) a base sample has D + 3 rows: ``A[n]``, the D rows
that take one factor from ``B[n]``, then ``A[n]`` with the dummy taken from ``B`` and
finally ``B[n]``. The dummy sets no scenario key: its value (0 or 1) is the set of
replication seeds the row runs with, the experiment's (0) or a second set (1), so its
indices are those of the runs' own randomness (:class:`SaltelliDesign`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Columns a plan gives each run before its factors (and, by the design, ``sweep`` and
#: ``policy``), in the order runs.parquet keeps them.
RUN_COLUMNS = ("run_id", "scenario", "point", "replication", "seed")


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its id, design point, replication, seed and overrides."""

    run_id: int
    point: int
    replication: int
    seed: int
    scenario: int
    overrides: dict[str, Any]
    sweep: str = ""
    policy: int = -1  # the lever point (experiments with levers), else -1


@dataclass(frozen=True)
class Span:
    """The runs ``start`` to ``stop - 1`` of a plan: what a batch sends to a worker."""

    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


class Design:
    """Each factor's value at every design point of one scenario: ``names``, the factors
    in the experiment's order, and ``size``, the design points (per scenario).

    ``inert`` names the columns a design records but no run applies (the dummy factor).
    """

    inert: tuple[str, ...] = ()

    def seed_sets(self, points: np.ndarray) -> np.ndarray | None:
        """Which set of replication seeds each of ``points`` runs with (0: the experiment's,
        1: the second set, :attr:`Plan.other_seeds`); None: every point the first."""
        return None

    def values(self, points: np.ndarray) -> dict[str, np.ndarray]:  # pragma: no cover
        """Each factor's values at ``points`` (indices in ``[0, size)``), one array each."""
        raise NotImplementedError

    def present(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Whether each factor is set at ``points`` (an oat point leaves most alone)."""
        return {}

    def types(self, name: str) -> tuple[set[type], bool]:  # pragma: no cover
        """The types of factor ``name``'s values over every point, and whether some point
        leaves it unset; without listing the points."""
        raise NotImplementedError

    def labels(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """The design's own columns at ``points``: ``sweep`` (oat), ``policy`` (levers)."""
        return {}


@dataclass(frozen=True, eq=False)
class TableDesign(Design):
    """A design held as one column a factor (grid, oat, lhs, random, morris, levers).

    A column is ``int64`` or ``float64`` when every value is of that one type, else an
    object array holding the values as given (names, booleans, lists). ``set`` marks,
    per factor, the points that set it (absent: every point does).
    """

    columns: dict[str, np.ndarray]
    size: int
    set: dict[str, np.ndarray] = field(default_factory=dict)
    own: dict[str, np.ndarray] = field(default_factory=dict)  # sweep, policy

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @classmethod
    def of(cls, points: list[dict[str, Any]], names: list[str]) -> TableDesign:
        """The columns of ``points`` (one mapping of factor values each; ``sweep`` and
        ``policy`` are the design's own columns)."""
        own = {k: np.array([p[k] for p in points], dtype=object if k == "sweep" else np.int64)
               for k in ("sweep", "policy") if points and k in points[0]}
        columns, given = {}, {}
        for name in names:
            flags = np.array([name in p for p in points], bool)
            values = [p.get(name) for p in points]
            columns[name] = column_of([v for v, f in zip(values, flags, strict=True) if f],
                                      flags)
            if not flags.all():
                given[name] = flags
        return cls(columns, len(points), given, own)

    def values(self, points: np.ndarray) -> dict[str, np.ndarray]:
        return {k: c[points] for k, c in self.columns.items()}

    def present(self, points: np.ndarray) -> dict[str, np.ndarray]:
        return {k: f[points] for k, f in self.set.items()}

    def types(self, name: str) -> tuple[set[type], bool]:
        column = self.columns[name]
        if column.dtype != object:
            return {int if column.dtype.kind == "i" else float}, name in self.set
        given = column[self.set[name]] if name in self.set else column
        return {type(v) for v in given}, name in self.set

    def labels(self, points: np.ndarray) -> dict[str, np.ndarray]:
        return {k: c[points] for k, c in self.own.items()}


def column_of(given: list[Any], flags: np.ndarray) -> np.ndarray:
    """A column of ``len(flags)`` values, ``given`` at the flagged places (0 or None
    elsewhere): int64 or float64 when every given value is a Python int, or every one a
    float; else objects (so that each value keeps its type)."""
    kinds = {type(v) for v in given}
    dtype: Any = object
    if kinds == {int}:
        dtype = np.int64
    elif kinds == {float}:
        dtype = np.float64
    out = np.zeros(len(flags), dtype) if dtype is not object else np.full(len(flags), None,
                                                                          object)
    if dtype is object:
        for i, v in zip(np.flatnonzero(flags), given, strict=True):
            out[i] = v
    else:
        out[flags] = np.asarray(given, dtype)
    return out


@dataclass(frozen=True, eq=False)
class SaltelliDesign(Design):
    """Saltelli's design for Sobol' indices (first and total order), held as its two base
    matrices ``a`` and ``b`` (base samples x factors each, already scaled to the ranges);
    ``integer`` marks the factors rounded to whole numbers, ``choices`` gives the values of
    each categorical factor (its columns of ``a`` and ``b`` hold quantiles in [0, 1)).

    ``dummy``: the name of a dummy factor, or None. The dummy is the last factor of the
    Sobol' analysis and sets no scenario key (:attr:`inert`): its value at a row is 0 when
    the row takes it from ``a`` and 1 when from ``b``, and it picks the row's replication
    seeds (:meth:`seed_sets`). Every row that takes the dummy from ``a`` (``A`` and each
    factor's ``AB`` row) runs with the experiment's seeds, as without a dummy; its own
    ``AB`` row and ``B`` run with a second set. Its first and total indices then measure
    what the runs' randomness alone does to an output: the floor below which a factor's
    index cannot be told from chance. (A dummy that changed nothing at all would give
    ``AB`` rows identical to ``A`` under common random numbers, and indices of exactly 0.)
    """

    names: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    integer: np.ndarray
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    dummy: str | None = None

    @property
    def step(self) -> int:
        """Rows a base sample makes: ``A``, one ``AB`` row a factor (the dummy too), ``B``."""
        return self.a.shape[1] + 2 + (self.dummy is not None)

    @property
    def size(self) -> int:
        return self.a.shape[0] * self.step

    @property
    def inert(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.dummy,) if self.dummy is not None else ()

    def matrix(self, points: np.ndarray) -> np.ndarray:
        """The (len(points), factors) rows of the design at ``points``, as SALib gives them
        (the dummy's column left out)."""
        d, step = self.a.shape[1], self.step
        n, j = np.divmod(np.asarray(points, np.int64), step)
        rows = np.where((j == step - 1)[:, None], self.b[n], self.a[n])
        swap = (j >= 1) & (j <= d)
        rows[swap, j[swap] - 1] = self.b[n[swap], j[swap] - 1]
        return rows

    def seed_sets(self, points: np.ndarray) -> np.ndarray | None:
        if self.dummy is None:
            return None
        j = np.asarray(points, np.int64) % self.step
        return (j > self.a.shape[1]).astype(np.int64)  # the dummy's AB row and B

    def types(self, name: str) -> tuple[set[type], bool]:
        if name == self.dummy:
            return {int}, False
        if name in self.choices:
            return {type(v) for v in self.choices[name]}, False
        return {int if self.integer[self.names.index(name)] else float}, False

    def values(self, points: np.ndarray) -> dict[str, np.ndarray]:
        rows = self.matrix(points)
        out = {}
        for i, k in enumerate(self.names):
            if k in self.choices:
                values = self.choices[k]
                picked = np.minimum((rows[:, i] * len(values)).astype(np.int64),
                                    len(values) - 1)
                out[k] = column_of([values[p] for p in picked.tolist()],
                                   np.ones(len(picked), bool))
            elif self.integer[i]:
                out[k] = np.rint(rows[:, i]).astype(np.int64)
            else:
                out[k] = rows[:, i]
        if self.dummy is not None:
            out[self.dummy] = self.seed_sets(points)  # type: ignore[assignment]
        return out


@dataclass(frozen=True, eq=False)
class Plan:
    """Every run of an experiment, as columns (see the module's text).

    ``draws`` holds, per replication, the parameters drawn from a posterior (empty
    mappings without one); a drawn parameter is set in every run of its replication,
    under the design's factors. ``other_seeds`` holds a second seed per replication, for
    the design points the design sends to the second set (:meth:`Design.seed_sets`: a
    Sobol' design's dummy factor).
    """

    scenarios: int
    design: Design
    seeds: np.ndarray  # (R,) int64, one per replication
    draws: tuple[dict[str, Any], ...] = ()
    other_seeds: np.ndarray | None = None  # (R,) int64, or None

    def __len__(self) -> int:
        return self.scenarios * self.design.size * len(self.seeds)

    @property
    def points(self) -> int:
        """Design points over every scenario."""
        return self.scenarios * self.design.size

    def columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Runs ``start`` to ``stop - 1``: :data:`RUN_COLUMNS` (``scenario`` as the
        scenario's index) and the design's own columns (``sweep``, ``policy``)."""
        ids = np.arange(start, stop, dtype=np.int64)
        reps = len(self.seeds)
        point, replication = np.divmod(ids, reps)
        scenario = point // self.design.size
        seed = self.seeds[replication]
        sets = self.design.seed_sets(point % self.design.size)
        if sets is not None:
            assert self.other_seeds is not None, "a design with two seed sets needs both"
            seed = np.where(sets == 1, self.other_seeds[replication], seed)
        return {"run_id": ids, "scenario": scenario, "point": point,
                "replication": replication, "seed": seed,
                **self.design.labels(point % self.design.size)}

    def overrides(self, start: int, stop: int) -> list[dict[str, Any]]:
        """The scenario keys each run of ``start`` to ``stop - 1`` sets: the posterior's
        draws of its replication, then its design point's factor values (Python numbers,
        as a file would give them; the design's inert columns, the dummy, set nothing)."""
        ids = np.arange(start, stop, dtype=np.int64)
        reps = len(self.seeds)
        point = ids // reps % self.design.size
        values = {k: v.tolist() for k, v in self.design.values(point).items()
                  if k not in self.design.inert}
        given = {k: f.tolist() for k, f in self.design.present(point).items()}
        out = []
        for i in range(len(ids)):
            row = {k: v[i] for k, v in values.items() if k not in given or given[k][i]}
            draw = self.draws[int(ids[i]) % reps] if self.draws else None
            out.append(draw | row if draw else row)
        return out

    def specs(self, start: int, stop: int) -> list[RunSpec]:
        """Runs ``start`` to ``stop - 1``, one :class:`RunSpec` each."""
        cols = {k: v.tolist() for k, v in self.columns(start, stop).items()}
        sweep, policy = cols.get("sweep"), cols.get("policy")
        return [RunSpec(cols["run_id"][i], cols["point"][i], cols["replication"][i],
                        cols["seed"][i], cols["scenario"][i], overrides,
                        sweep[i] if sweep else "", policy[i] if policy else -1)
                for i, overrides in enumerate(self.overrides(start, stop))]

    def spans(self, done: np.ndarray | None, size: int) -> Iterator[Span]:
        """The runs not ``done`` (a bool mask over run ids, or None: none done) in spans of
        consecutive runs, at most ``size`` each, in run-id order; made as they are asked
        for."""
        total = len(self)
        if done is None or not done.any():
            for start in range(0, total, size):
                yield Span(start, min(total, start + size))
            return
        todo = np.flatnonzero(~done)
        if not len(todo):
            return
        breaks = np.flatnonzero(np.diff(todo) != 1) + 1
        for run in np.split(todo, breaks):
            first, last = int(run[0]), int(run[-1]) + 1
            for start in range(first, last, size):
                yield Span(start, min(last, start + size))
