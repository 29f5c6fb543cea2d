"""Scenario discovery over a stored sweep: which combinations of factors lead to an
outcome of interest, as boxes of factor ranges (PRIM) and as a classification tree.

A question is a condition on the outputs, ``--where "gain_disruption_rate < 0.333 * max"``
("cooperation is worth less than a third of its best"). Each row of the sweep's table (a
design point of ``points.parquet`` or a run of ``runs.parquet``) is a *case of interest*
when it meets the condition. The inputs are the experiment's varied factors, never the
outputs. Two methods answer:

- PRIM, the Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in
  high-dimensional data", Statistics and Computing 9) as scenario discovery uses it
  (Bryant & Lempert 2010, "Thinking inside the box", Technological Forecasting and Social
  Change 77; Kwakkel & Jaxa-Rozen 2016, "Improving scenario discovery for handling
  heterogeneous uncertainties and multinomial classified outcomes", Environmental
  Modelling & Software 79). It peels the box of all cases, step by step, by the slice
  of one factor's range that raises the share of cases of interest most per case
  removed, pastes back what raises it further, and records the *peeling trajectory*:
  coverage (the share of all cases of interest inside the box), density (the share of
  the box's cases that are of interest), mass (the share of all cases inside the box) and
  the number of restricted factors at each step. One box is chosen on the trajectory, its
  cases are removed, and the next box is sought in the rest (covering).
- A classification tree (scikit-learn's CART), depth limited, whose leaves are read as
  rules, with its accuracy against the base rate.

The PRIM here follows EMA Workbench's ``ema_workbench.analysis.prim.Prim`` (version 3.0.0,
Kwakkel 2017, Environmental Modelling & Software 96) step for step: the lenient objective
(gain in density over cases removed), its quantile rule, whole-value peels of integer
factors, one-category peels of categorical ones, ties broken towards fewer restricted
factors and then by the order of the candidates, pasting after peeling, and the
restrictions' quasi-p-values. Two places differ on purpose, both where EMA Workbench 3.0.0
fails or stops early: a whole-valued factor is pasted to a whole value (EMA Workbench
writes the fractional quantile into an integer column, which pandas 3 refuses), and
pasting is tried on every restricted factor (EMA Workbench returns before its integer and
categorical factors when no real-valued factor is restricted). docs/discovery.md says
why ctsim carries its own; tests/analysis/test_discover.py holds the two to the same
trajectory where EMA Workbench is installed.

:func:`discover` reads a results folder and writes ``discovery/`` (boxes.csv,
trajectory.csv, tree.txt, DISCOVERY.md, figures/); :func:`prim` runs PRIM on any table;
:func:`parse_where` reads a condition without ``eval``.
"""

from __future__ import annotations

import difflib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ctsim.analysis import layout
from ctsim.analysis.report import (
    DISCOVERY_DOC,
    DISCOVERY_FOLDER,
    _read_table,
    check_report_place,
    load_results,
)
from ctsim.core import outputs
from ctsim.errors import ArgumentError, ResultsError
from ctsim.writing import atomic_write

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

#: The tables a results folder offers: one row a run, or one row a design point.
TABLES = {"runs": "runs.parquet", "points": "points.parquet"}
#: Columns of a table that say which run or point a row is, never a condition's subject.
BOOKKEEPING = frozenset({"run_id", "point", "replication", "seed", "policy"})
#: The comparison operators a condition may use.
OPERATORS = ("<=", ">=", "<", ">")
#: The longest condition read (characters).
WHERE_MAX = 1000
#: The colour-vision-safe palette of the figures (Okabe & Ito 2008, "Color universal
#: design"): orange, sky blue, bluish green, blue, vermillion, reddish purple, yellow.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
#: Marker shapes, cycled with the colours so that no figure relies on colour alone.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">", "p")


# ---------------------------------------------------------------- the condition


@dataclass(frozen=True)
class Clause:
    """One comparison of a condition: ``column op value``, where the value is a number or
    ``factor * max`` / ``factor * min`` of the column over the table."""

    column: str
    op: str
    factor: float
    relative: str | None = None  # "max", "min", "median", "q90"..., or None for a number

    def text(self) -> str:
        """The clause as written back (numbers in shortest form)."""
        value = f"{self.factor:g}" + (f" * {self.relative}" if self.relative else "")
        return f"{self.column} {self.op} {value}"


_CLAUSE = re.compile(r"\s*(?P<col>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op><=|>=|<|>)\s*"
                     r"(?P<val>.*?)\s*")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_REF = r"max|min|median|q(?:[1-9]\d?)"  # q90: the column's 90th percentile
_VALUE = re.compile(rf"(?P<k>{_NUMBER})(?:\s*\*\s*(?P<ref>{_REF}))?|(?P<alone>{_REF})",
                    re.IGNORECASE)
_AND = re.compile(r"(?:^|\s)and(?:\s|$)", re.IGNORECASE)


def parse_where(text: str) -> list[Clause]:
    """Read a condition: comparisons ``COLUMN OP VALUE`` joined by ``and``.

    ``OP`` is one of ``< <= > >=``; ``VALUE`` is a number, or ``K * REF`` (``K`` a number)
    or ``REF`` alone, where ``REF`` is the column's ``max``, ``min``, ``median`` or a
    percentile ``q1`` to ``q99`` over the table (``0.333 * q90``: a third of what the best
    tenth of the rows reach). Nothing is evaluated: the text is matched against this
    grammar.

    Raises:
        ArgumentError: ``where: ...``: empty, too long, or a part that is not a
            comparison (naming the part and what is expected).
    """
    if not isinstance(text, str) or not text.strip():
        raise ArgumentError("where: give a condition such as "
                            "\"disruption_rate < 0.4\" (COLUMN OP VALUE, joined by 'and')")
    if len(text) > WHERE_MAX:
        raise ArgumentError(f"where: the condition is {len(text)} characters long; at most "
                            f"{WHERE_MAX}")
    clauses = []
    for part in _AND.split(text.strip()):
        match = _CLAUSE.fullmatch(part)
        if not part.strip():
            raise ArgumentError("where: a comparison is missing around 'and'")
        if match is None:
            raise ArgumentError(f"where: cannot read '{part.strip()}': {_why(part)}")
        value = _VALUE.fullmatch(match["val"])
        if value is None:
            why = _why(part)
            if why.startswith("expected"):
                why = "expected a number, or K * max, min, median or qNN (q90)"
            raise ArgumentError(f"where: cannot read the value '{match['val']}' of "
                                f"'{part.strip()}': {why}")
        if value["alone"]:
            factor, relative = 1.0, value["alone"].lower()
        else:
            factor = float(value["k"])
            relative = value["ref"].lower() if value["ref"] else None
        if not math.isfinite(factor):
            raise ArgumentError(f"where: '{part.strip()}': the number must be finite")
        clauses.append(Clause(match["col"], match["op"], factor, relative))
    return clauses


def _why(part: str) -> str:
    """What is wrong with a part of a condition that is not a comparison."""
    stripped = part.strip()
    if re.search(r"\s(or|not)\s|^not\s|\|\||&&", f" {stripped} ", re.IGNORECASE):
        return "only 'and' joins comparisons (no 'or', 'not')"
    if re.search(r"==|!=|(?<![<>])=", stripped):
        return "compare with one of < <= > >= (no = or !=)"
    return "expected COLUMN OP VALUE, with OP one of < <= > >="


@dataclass(frozen=True)
class Condition:
    """A condition resolved against a table: its clauses and each one's threshold."""

    text: str
    clauses: tuple[Clause, ...]
    thresholds: tuple[float, ...]

    @property
    def columns(self) -> list[str]:
        """The columns the condition reads, each once, in order."""
        return list(dict.fromkeys(c.column for c in self.clauses))

    def resolved(self) -> str:
        """The condition with every ``K * max`` written out as its number."""
        return " and ".join(
            c.text() if c.relative is None else f"{c.column} {c.op} {t:.6g} ({c.text()})"
            for c, t in zip(self.clauses, self.thresholds, strict=True))

    def holds(self, table: pd.DataFrame) -> np.ndarray:
        """Whether each row meets the condition (False where a column is NaN)."""
        ok = np.ones(len(table), bool)
        for clause, threshold in zip(self.clauses, self.thresholds, strict=True):
            values = table[clause.column].to_numpy(float)
            ok &= _compare(values, clause.op, threshold)
        return ok


def _compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return {"<": values < threshold, "<=": values <= threshold,
                ">": values > threshold, ">=": values >= threshold}[op]


def _reference(values: np.ndarray, name: str) -> float:
    """The column's ``max``, ``min``, ``median`` or percentile ``qNN`` (NaN left out)."""
    if name == "max":
        return float(np.nanmax(values))
    if name == "min":
        return float(np.nanmin(values))
    return float(np.nanpercentile(values, 50 if name == "median" else int(name[1:])))


def resolve_where(text: str, table: pd.DataFrame, name: str = "the table") -> Condition:
    """Parse ``text`` (:func:`parse_where`) and check it against ``table``: each column
    must exist and hold numbers; ``K * max`` becomes ``K`` times the column's largest value
    over the table (NaN left out).

    Raises:
        ArgumentError: a condition that cannot be read, an unknown column (naming the
            closest columns), a column that does not hold numbers or holds no number.
    """
    import pandas as pd

    clauses = parse_where(text)
    numeric = [c for c in table.columns if c not in BOOKKEEPING
               and pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    thresholds = []
    for clause in clauses:
        if clause.column not in table.columns:
            close = difflib.get_close_matches(clause.column, numeric, n=3, cutoff=0.5)
            hint = (f"closest: {', '.join(close)}" if close
                    else f"columns: {', '.join(numeric[-8:])}")
            raise ArgumentError(f"where: no column '{clause.column}' in {name} ({hint})")
        if clause.column in BOOKKEEPING:
            raise ArgumentError(f"where: column '{clause.column}' of {name} numbers the "
                                "rows; a condition reads an output or a factor")
        if clause.column not in numeric:
            raise ArgumentError(f"where: column '{clause.column}' of {name} does not hold "
                                "numbers")
        values = table[clause.column].to_numpy(float)
        if clause.relative is None:
            thresholds.append(clause.factor)
            continue
        if not np.isfinite(values).any():
            raise ArgumentError(f"where: column '{clause.column}' of {name} holds no number "
                                f"to take the {clause.relative} of")
        thresholds.append(clause.factor * _reference(values, clause.relative))
    return Condition(text.strip(), tuple(clauses), tuple(thresholds))


# ---------------------------------------------------------------- PRIM


@dataclass
class _Inputs:
    """The inputs of PRIM as columns: real-valued, whole-valued or categorical."""

    names: list[str]
    kinds: list[str]  # "real", "whole" or "category"
    columns: list[np.ndarray]  # float64 values; a category column holds its codes
    categories: dict[int, list]  # a categorical column's values, by code
    lo: np.ndarray  # the box of all cases (min, max; NaN for categories)
    hi: np.ndarray

    @classmethod
    def of(cls, x: pd.DataFrame) -> _Inputs:
        """Read a table: float columns are real-valued, integer columns whole-valued, any
        other (text, booleans) categorical."""
        import pandas as pd

        names, kinds, columns, categories = [], [], [], {}
        # EMA Workbench's order: real-valued, whole-valued, categorical (ties keep it)
        groups: dict[str, list[str]] = {"real": [], "whole": [], "category": []}
        for name in x.columns:
            s = x[name]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                groups["category"].append(name)
            elif pd.api.types.is_integer_dtype(s):
                groups["whole"].append(name)
            else:
                groups["real"].append(name)
        for kind, group in groups.items():
            for name in group:
                s = x[name]
                if kind == "category":
                    values = sorted(pd.unique(s), key=lambda v: (str(type(v)), v))
                    codes = {v: i for i, v in enumerate(values)}
                    categories[len(names)] = values
                    column = np.array([codes[v] for v in s], float)
                else:
                    column = s.to_numpy(float)
                names.append(str(name))
                kinds.append(kind)
                columns.append(column)
        lo = np.array([np.nan if k == "category" else c.min()
                       for k, c in zip(kinds, columns, strict=True)])
        hi = np.array([np.nan if k == "category" else c.max()
                       for k, c in zip(kinds, columns, strict=True)])
        return cls(names, kinds, columns, categories, lo, hi)


@dataclass
class Limits:
    """A box: each numeric factor's bounds (inclusive) and each categorical factor's kept
    values (a bool a category)."""

    lo: np.ndarray
    hi: np.ndarray
    keep: dict[int, np.ndarray]

    def copy(self) -> Limits:
        return Limits(self.lo.copy(), self.hi.copy(), {j: k.copy() for j, k in
                                                       self.keep.items()})


@dataclass
class Step:
    """One box on the trajectory."""

    step: int
    phase: str  # "start", "peel" or "paste"
    limits: Limits
    n: int  # cases in the box
    k: int  # cases of interest in the box
    coverage: float
    density: float
    mass: float
    restricted: int


@dataclass
class PrimBox:
    """One box found by PRIM: its trajectory, the step chosen on it, the chosen box's
    restrictions with their quasi-p-values, and the rows inside it."""

    number: int
    trajectory: list[Step]
    chosen: int
    #: How the step was chosen: "density" (the threshold met), "highest density" (not met:
    #: the densest box) or "asked" (``box=``).
    rule: str
    restrictions: list[dict[str, Any]]
    rows: np.ndarray
    remaining: int  # cases left when this box was sought
    remaining_k: int  # cases of interest among them

    @property
    def step(self) -> Step:
        """The chosen step."""
        return self.trajectory[self.chosen]

    def table(self) -> pd.DataFrame:
        """The trajectory as a table (step, phase, coverage, density, mass, restricted
        dims, n, k)."""
        import pandas as pd

        return pd.DataFrame([{"box": self.number, "step": s.step, "phase": s.phase,
                              "coverage": s.coverage, "density": s.density, "mass": s.mass,
                              "restricted_dims": s.restricted, "n": s.n, "k": s.k,
                              "chosen": s.step == self.chosen} for s in self.trajectory])


def _quantile(data: np.ndarray, q: float) -> float:
    """The quantile rule of EMA Workbench's ``prim_util.get_quantile`` (after sdtoolkit):
    the midpoint of the two order statistics around ``(n - 1) q``, moved to the next
    distinct value on ties (upwards for a lower quantile, downwards for an upper one), so
    that a peel removes at least one value."""
    n = len(data)
    i = (n - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    part = np.partition(data, (lo, hi)) if lo != hi else np.partition(data, lo)
    a, b = part[lo], part[hi]
    if a != b:
        return (a + b) / 2
    if q > 0.5:
        below = data[data < b]
        return (below.max() + b) / 2 if below.size else b
    above = data[data > a]
    return (a + above.min()) / 2 if above.size else a


def _objective(k_old: int, n_old: int, k_new: int, n_new: int) -> float:
    """EMA Workbench's default (``LENIENT1``) objective: the change in density over the
    number of cases removed (or added); 0 when the density does not change."""
    mean_old = k_old / n_old
    mean_new = k_new / n_new if n_new > 0 else 0
    if mean_new == mean_old:
        return 0.0
    return (mean_new - mean_old) / abs(n_old - n_new)


class _Prim:
    """PRIM on one table; :meth:`find_box` finds one box among the remaining rows."""

    def __init__(self, inputs: _Inputs, y: np.ndarray, alpha: float, paste_alpha: float,
                 mass_min: float):
        self.x, self.y = inputs, np.asarray(y, bool)
        self.alpha, self.paste_alpha, self.mass_min = alpha, paste_alpha, mass_min
        self.n = len(self.y)
        self.total_k = int(self.y.sum())
        self.d = len(inputs.names)
        self.init = Limits(inputs.lo.copy(), inputs.hi.copy(),
                           {j: np.ones(len(c), bool) for j, c in inputs.categories.items()})

    # the box's bookkeeping

    def is_restricted(self, limits: Limits, j: int) -> bool:
        if self.x.kinds[j] == "category":
            return not limits.keep[j].all()
        return bool(limits.lo[j] != self.init.lo[j] or limits.hi[j] != self.init.hi[j])

    def restricted(self, limits: Limits) -> list[int]:
        return [j for j in range(self.d) if self.is_restricted(limits, j)]

    def inside(self, limits: Limits, rows: np.ndarray, dims: list[int] | None = None
               ) -> np.ndarray:
        """Which of ``rows`` lie in the box (on ``dims``, default its restricted ones)."""
        ok = np.ones(len(rows), bool)
        for j in self.restricted(limits) if dims is None else dims:
            xj = self.x.columns[j][rows]
            if self.x.kinds[j] == "category":
                ok &= limits.keep[j][xj.astype(np.intp)]
            else:
                ok &= (xj >= limits.lo[j]) & (xj <= limits.hi[j])
        return ok

    def _step(self, number: int, phase: str, limits: Limits, rows: np.ndarray) -> Step:
        k = int(np.count_nonzero(self.y[rows]))
        n = len(rows)
        return Step(number, phase, limits, n, k, k / max(self.total_k, 1), k / n,
                    n / self.n, len(self.restricted(limits)))

    # the search

    def find_box(self, remaining: np.ndarray) -> list[Step]:
        """Peel, then paste, from the box of all cases, over the ``remaining`` rows; the
        trajectory (every box the search passed through, the start first)."""
        limits, rows = self.init.copy(), remaining
        trajectory = [self._step(0, "start", limits, rows)]
        while True:
            found = self._peel(limits, rows)
            if found is None:
                break
            limits, rows = found
            trajectory.append(self._step(len(trajectory), "peel", limits, rows))
        while True:
            found = self._paste(limits, rows, remaining)
            if found is None:
                break
            limits, rows = found
            trajectory.append(self._step(len(trajectory), "paste", limits, rows))
        return trajectory

    def _best(self, candidates, limits: Limits, y_base: np.ndarray, n_old: int,
              k_old: int):
        """The candidate with the largest objective, then the fewest restricted factors;
        the first in order among equals (EMA Workbench sorts them stably). Each candidate
        is (factor, change of the limits, mask over the rows of ``y_base``)."""
        restricted = set(self.restricted(limits))
        best, best_key = None, None
        for j, change, mask in candidates:
            n_new = int(np.count_nonzero(mask))
            k_new = int(np.count_nonzero(mask & y_base))
            obj = _objective(k_old, n_old, k_new, n_new)
            new = limits.copy()
            change(new)
            now = (restricted - {j}) | ({j} if self.is_restricted(new, j) else set())
            key = (obj, self.d - len(now))
            if best_key is None or key > best_key:
                best, best_key = (new, mask, n_new, k_new, obj), key
        return best

    def _peel(self, limits: Limits, rows: np.ndarray):
        """One peel: the box shrunk by the best peel, or None when none is worth it."""
        y_in = self.y[rows]
        candidates = []
        a = self.alpha
        for j, kind in enumerate(self.x.kinds):
            xj = self.x.columns[j][rows]
            if kind == "real":
                q = _quantile(xj, 1 - a)
                candidates.append((j, _setter("hi", j, q), xj <= q))
                q = _quantile(xj, a)
                candidates.append((j, _setter("lo", j, q), xj >= q))
            elif kind == "whole":
                lo, hi = limits.lo[j], limits.hi[j]
                q = int(_quantile(xj, 1 - a))
                mask = ((xj < hi) if q == hi else (xj <= q)) & (xj >= lo)
                value = xj[mask].max() if mask.any() else xj.max()
                candidates.append((j, _setter("hi", j, value), mask))
                q = int(_quantile(xj, a))
                mask = ((xj > lo) if q == lo else (xj >= q)) & (xj <= hi)
                value = xj[mask].min() if mask.any() else xj.min()
                candidates.append((j, _setter("lo", j, value), mask))
            else:
                kept = np.flatnonzero(limits.keep[j])
                if len(kept) > 1:
                    for c in kept:
                        candidates.append((j, _dropper(j, c), xj != c))
        if not candidates:
            return None
        new, mask, n_new, _, obj = self._best(candidates, limits, y_in, len(rows),
                                              int(np.count_nonzero(y_in)))
        mass_old, mass_new = len(rows) / self.n, n_new / self.n
        if mass_new >= self.mass_min and mass_new < mass_old and obj > 0:
            return new, rows[mask]
        return None

    def _paste(self, limits: Limits, rows: np.ndarray, remaining: np.ndarray):
        """One paste: the box grown by the best paste over the remaining rows, or None."""
        restricted = self.restricted(limits)
        if not restricted:
            return None
        candidates = []
        pa = self.paste_alpha
        for j in restricted:
            kind = self.x.kinds[j]
            others = [i for i in restricted if i != j]
            near = self.inside(limits, remaining, others)
            xj = self.x.columns[j][remaining]
            if kind == "category":
                kept = limits.keep[j][xj.astype(np.intp)]
                for c in np.flatnonzero(~limits.keep[j]):
                    candidates.append((j, _adder(j, c), near & (kept | (xj == c))))
                continue
            lo0, hi0 = self.init.lo[j], self.init.hi[j]
            slab = xj[near & (xj >= lo0) & (xj <= limits.lo[j])]
            value = _quantile(slab, 1 - pa) if slab.size else lo0
            if kind == "whole":
                value = math.ceil(value)
            candidates.append((j, _setter("lo", j, value),
                               near & (xj >= value) & (xj <= limits.hi[j])))
            slab = xj[near & (xj >= limits.hi[j]) & (xj <= hi0)]
            value = _quantile(slab, pa) if slab.size else hi0
            if kind == "whole":
                value = math.floor(value)
            candidates.append((j, _setter("hi", j, value),
                               near & (xj >= limits.lo[j]) & (xj <= value)))
        # pasting scores the new box against the old one, over the remaining rows
        n_old, k_old = len(rows), int(np.count_nonzero(self.y[rows]))
        best = self._best(candidates, limits, self.y[remaining], n_old, k_old)
        new, mask, n_new, k_new, obj = best
        mass_old, mass_new = n_old / self.n, n_new / self.n
        mean_old, mean_new = k_old / n_old, (k_new / n_new if n_new else 0)
        if mass_new >= self.mass_min and mass_new > mass_old and obj > 0 and \
                mean_new > mean_old:
            return new, remaining[mask]
        return None

    # the restrictions of a chosen box

    def restrictions(self, step: Step, remaining: np.ndarray) -> list[dict[str, Any]]:
        """Each restricted factor of ``step``'s box: its bounds (or kept values), its full
        range, and the quasi-p-value of each restricted side.

        A side's quasi-p-value (Bryant & Lempert 2010) is EMA Workbench's one-sided
        binomial test: with that side set back to the factor's full range, the box holds
        ``T`` of the remaining cases, ``H`` of them of interest; the p-value is the chance
        of at least the chosen box's ``k`` cases of interest among its ``n`` cases when
        each is of interest with chance ``H / T`` (``scipy.stats.binomtest``, alternative
        "greater"). A small value says the restriction adds density beyond chance. A
        categorical factor's whole restriction is removed at once.
        """
        from scipy.stats import binomtest

        limits = step.limits
        dims = self.restricted(limits)
        # One pass: which restricted sides each remaining case breaks; a case breaking
        # exactly one side is the extra case that side's removal lets in.
        sides: list[tuple[int, str]] = []
        broken = []
        for j in dims:
            xj = self.x.columns[j][remaining]
            if self.x.kinds[j] == "category":
                sides.append((j, "values"))
                broken.append(~limits.keep[j][xj.astype(np.intp)])
                continue
            if limits.lo[j] != self.init.lo[j]:
                sides.append((j, "lower"))
                broken.append(xj < limits.lo[j])
            if limits.hi[j] != self.init.hi[j]:
                sides.append((j, "upper"))
                broken.append(xj > limits.hi[j])
        matrix = np.column_stack(broken) if broken else np.zeros((len(remaining), 0), bool)
        count = matrix.sum(axis=1)
        inside = count == 0
        y_rem = self.y[remaining]
        t0, h0 = int(inside.sum()), int(np.count_nonzero(inside & y_rem))
        only = count == 1
        p: dict[tuple[int, str], float] = {}
        for c, side in enumerate(sides):
            extra = only & matrix[:, c]
            t = t0 + int(extra.sum())
            h = h0 + int(np.count_nonzero(extra & y_rem))
            p[side] = float(binomtest(step.k, step.n, h / t, alternative="greater").pvalue)
        out = []
        for j in dims:
            name, kind = self.x.names[j], self.x.kinds[j]
            row: dict[str, Any] = {"factor": name, "kind": kind}
            if kind == "category":
                values = self.x.categories[j]
                row |= {"lower": np.nan, "upper": np.nan,
                        "values": "|".join(str(values[c]) for c in
                                           np.flatnonzero(limits.keep[j])),
                        "range_lower": np.nan, "range_upper": np.nan,
                        "range_values": "|".join(str(v) for v in values),
                        "p_lower": p[(j, "values")], "p_upper": np.nan}
            else:
                row |= {"lower": float(limits.lo[j]), "upper": float(limits.hi[j]),
                        "values": "", "range_lower": float(self.init.lo[j]),
                        "range_upper": float(self.init.hi[j]), "range_values": "",
                        "p_lower": p.get((j, "lower"), np.nan),
                        "p_upper": p.get((j, "upper"), np.nan)}
            row["p_value"] = float(np.nanmax([row["p_lower"], row["p_upper"]]))
            out.append(row)
        return out


def _setter(side: str, j: int, value: float):
    def change(limits: Limits) -> None:
        getattr(limits, side)[j] = value
    return change


def _dropper(j: int, c: int):
    def change(limits: Limits) -> None:
        limits.keep[j][c] = False
    return change


def _adder(j: int, c: int):
    def change(limits: Limits) -> None:
        limits.keep[j][c] = True
    return change


def choose_step(trajectory: list[Step], density: float) -> tuple[int, str]:
    """The step chosen on a trajectory: of the boxes whose density is at least
    ``density``, the one that covers most (the densest among equals); when none reaches
    it, the densest box (the most covering among equals). Returns the step and the rule
    that chose it ("density" or "highest density")."""
    reached = [s for s in trajectory if s.density >= density]
    if reached:
        return max(reached, key=lambda s: (s.coverage, s.density)).step, "density"
    return max(trajectory, key=lambda s: (s.density, s.coverage)).step, "highest density"


def prim(x: pd.DataFrame, y: np.ndarray, *, alpha: float = 0.05, paste_alpha: float = 0.05,
         mass_min: float = 0.05, density: float = 0.8, box: int | None = None,
         boxes: int = 2) -> list[PrimBox]:
    """PRIM with covering: up to ``boxes`` boxes, each sought among the cases the boxes
    before it left out.

    Args:
        x: the inputs, one column a factor (float: real-valued; integer: whole-valued,
            peeled by whole values; anything else, booleans too: categorical).
        y: whether each row is a case of interest (bool, one per row of ``x``).
        alpha: the share of a box's cases one peel removes (0 < alpha < 0.5; Friedman
            and Fisher suggest 0.05 to 0.10).
        paste_alpha: the share of the cases next to a side that one paste adds back.
        mass_min: the smallest share of all cases a box may hold (0 to 1).
        density: the density a chosen box should reach (:func:`choose_step`).
        box: the step chosen on the first box's trajectory instead (0 is the box of all
            cases); later boxes are chosen by ``density``.
        boxes: the most boxes sought (at least 1). Covering stops earlier when no case of
            interest remains or a search finds no restriction.

    Raises:
        ArgumentError: an argument out of its range, ``x`` and ``y`` of different
            lengths, or ``box`` beyond the first trajectory's last step.
    """
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise ArgumentError(f"prim: y should hold one value a row of x ({len(x)}), not "
                            f"{y.shape}")
    if len(x) == 0 or x.shape[1] == 0:
        raise ArgumentError("prim: x needs at least one row and one column")
    _within("alpha", alpha, 0.0, 0.5)
    _within("paste_alpha", paste_alpha, 0.0, 0.5)
    _within("mass_min", mass_min, 0.0, 1.0)
    if not 0.0 <= density <= 1.0:
        raise ArgumentError(f"prim: density should be from 0 to 1, not {density}")
    if isinstance(boxes, bool) or not isinstance(boxes, int) or boxes < 1:
        raise ArgumentError(f"prim: boxes should be a whole number of at least 1, not "
                            f"{boxes!r}")
    if box is not None and (isinstance(box, bool) or not isinstance(box, int | np.integer)):
        raise ArgumentError(f"box: expected a step's number (a whole number), not {box!r}")
    search = _Prim(_Inputs.of(x), y.astype(bool), alpha, paste_alpha, mass_min)
    remaining = np.arange(len(y))
    found: list[PrimBox] = []
    while len(found) < boxes:
        k_left = int(np.count_nonzero(search.y[remaining]))
        if len(remaining) == 0 or k_left == 0:
            break
        trajectory = search.find_box(remaining)
        if box is not None and not found:
            if not 0 <= box < len(trajectory):
                raise ArgumentError(f"box: the first box's trajectory has steps 0 to "
                                    f"{len(trajectory) - 1}, not {box}")
            chosen, rule = box, "asked"
        else:
            chosen, rule = choose_step(trajectory, density)
        step = trajectory[chosen]
        if step.restricted == 0 and found:
            break  # nothing left that a box can single out
        rows = remaining[search.inside(step.limits, remaining)]
        found.append(PrimBox(len(found) + 1, trajectory, chosen, rule,
                             search.restrictions(step, remaining), rows, len(remaining),
                             k_left))
        if step.restricted == 0:
            break
        remaining = np.setdiff1d(remaining, rows, assume_unique=True)
    return found


def _within(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or \
            not low < value < high:
        raise ArgumentError(f"prim: {name} should be a number between {low:g} and {high:g} "
                            f"(both left out), not {value!r}")


# ---------------------------------------------------------------- the tree


@dataclass
class Tree:
    """A classification tree of the cases of interest: its rules and how well it sorts."""

    text: str  # the tree as scikit-learn draws it
    rules: list[dict[str, Any]]  # one per leaf: conditions, n, k, share, predicts
    accuracy: float  # share of rows it classifies right
    base_rate: float  # share of cases of interest
    depth: int
    leaves: int

    @property
    def baseline(self) -> float:
        """The accuracy of calling every row by the larger class."""
        return max(self.base_rate, 1 - self.base_rate)


def classification_tree(x: pd.DataFrame, y: np.ndarray, depth: int = 3,
                        min_leaf: float = 0.05) -> Tree:
    """Fit a CART classification tree (scikit-learn's ``DecisionTreeClassifier``, Gini
    impurity) of ``y`` on ``x``: at most ``depth`` levels, every leaf holding at least
    ``min_leaf`` of the rows (a share, 0 to 0.5). A categorical factor enters as one
    indicator column a value (``factor = value``). The tree's chance tie-breaks use the
    fixed seed 0, so the same table gives the same tree.

    Raises:
        ArgumentError: depth or min_leaf out of range.
        ResultsError: scikit-learn is not installed.
    """
    import pandas as pd

    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 20:
        raise ArgumentError(f"depth: expected a whole number from 1 to 20, not {depth!r}")
    if not 0 < min_leaf <= 0.5:
        raise ArgumentError(f"min_leaf: expected a share above 0 and at most 0.5, not "
                            f"{min_leaf!r}")
    try:
        from sklearn.tree import DecisionTreeClassifier, export_text
    except ImportError:
        raise ResultsError("the classification tree needs scikit-learn: "
                           "pip install scikit-learn") from None
    columns: dict[str, Any] = {}
    for name in x.columns:
        s = x[name]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            for value in sorted(pd.unique(s), key=lambda v: (str(type(v)), v)):
                columns[f"{name} = {value}"] = (s == value).to_numpy(float)
        else:
            columns[str(name)] = s.to_numpy(float)
    names = list(columns)
    matrix = np.column_stack(list(columns.values()))
    y = np.asarray(y, bool)
    model = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=min_leaf,
                                   random_state=0)
    model.fit(matrix, y)
    accuracy = float((model.predict(matrix) == y).mean())
    text = export_text(model, feature_names=names, show_weights=True, decimals=3)
    return Tree(text, _leaf_rules(model, names, model.apply(matrix), y), accuracy,
                float(y.mean()),
                int(model.get_depth()), int(model.get_n_leaves()))


def _simplified(path: list[str]) -> list[str]:
    """A leaf's conditions with each numeric factor's cuts merged into one (``a > 2.5``
    then ``a > 3.5`` is ``a > 3.5``; with an upper cut, ``2.5 < a <= 3.5``), in the order
    each factor first appears; conditions on indicator columns as they are."""
    bounds: dict[str, list[float]] = {}
    order: list[str] = []
    for condition in path:
        name, op, value = condition.rsplit(" ", 2)
        if op in ("<=", ">"):
            if name not in bounds:
                bounds[name] = [-math.inf, math.inf]
                order.append(name)
            side = 1 if op == "<=" else 0
            cut = float(value)
            bounds[name][side] = min(bounds[name][1], cut) if side else max(bounds[name][0],
                                                                              cut)
        elif condition not in order:
            order.append(condition)
    out = []
    for item in order:
        if item not in bounds:
            out.append(item)
            continue
        lo, hi = bounds[item]
        out.append(f"{lo:.4g} < {item} <= {hi:.4g}" if np.isfinite(lo) and np.isfinite(hi)
                   else f"{item} > {lo:.4g}" if np.isfinite(lo) else f"{item} <= {hi:.4g}")
    return out


def _leaf_rules(model, names: list[str], leaf_of: np.ndarray, y: np.ndarray
                ) -> list[dict[str, Any]]:
    """Each leaf of a fitted tree as the conditions on the path to it, its rows (n), its
    cases of interest (k) and what it predicts; leaves with most cases of interest first.
    An indicator column (``factor = value``) reads as ``factor = value`` or ``!=``."""
    tree = model.tree_
    rules = []

    def walk(node: int, path: list[str]) -> None:
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            here = leaf_of == node
            n, k = int(here.sum()), int(np.count_nonzero(here & y))
            rules.append({"conditions": _simplified(path), "n": n, "k": k, "share": k / n,
                          "predicts": bool(model.classes_[int(np.argmax(tree.value[node][0]))])})
            return
        name, cut = names[tree.feature[node]], float(tree.threshold[node])
        if " = " in name:
            walk(left, [*path, name.replace(" = ", " != ")])
            walk(right, [*path, name])
        else:
            walk(left, [*path, f"{name} <= {cut:.4g}"])
            walk(right, [*path, f"{name} > {cut:.4g}"])

    walk(0, [])
    return sorted(rules, key=lambda r: (-r["k"], -r["share"]))


# ---------------------------------------------------------------- a results folder


@dataclass
class Discovery:
    """What :func:`discover` found and wrote."""

    folder: Path
    out: Path
    table: str  # "runs" or "points"
    condition: Condition
    factors: list[str]
    constant: list[str]  # factors left out: they never vary in the table, or the condition
    # reads them
    rows: int  # rows PRIM read
    interest: int  # of them, cases of interest
    failed: int  # runs left out because they failed
    missing: int  # rows left out because a column of the condition (or a factor) is NaN
    boxes: list[PrimBox]
    tree: Tree | None
    settings: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)

    @property
    def base_rate(self) -> float:
        """The share of the rows that are cases of interest."""
        return self.interest / self.rows if self.rows else float("nan")


def chosen_inputs(factors: list[str], inputs: Sequence[str]) -> list[str]:
    """The factors ``inputs`` names (keys, or prefixes ending in a dot), in the factors'
    order; all of them when ``inputs`` is empty.

    Raises:
        ArgumentError: an input that names no factor (with the closest factors).
    """
    if not inputs:
        return factors
    chosen = set()
    for pattern in inputs:
        hit = [f for f in factors if f == pattern
               or (pattern.endswith(".") and f.startswith(pattern))]
        if not hit:
            close = difflib.get_close_matches(pattern, factors, n=3, cutoff=0.5)
            raise ArgumentError(f"inputs: '{pattern}' names no factor of the experiment"
                                + (f" (closest: {', '.join(close)})" if close else
                                   " (a key, or a prefix ending in a dot such as 'world.')"))
        chosen.update(hit)
    return [f for f in factors if f in chosen]


def discover(results: str | Path, where: str, *, table: str | None = None,
             alpha: float = 0.05, density: float = 0.8, box: int | None = None,
             boxes: int = 2, mass_min: float = 0.05, depth: int = 3, min_leaf: float = 0.05,
             out: str | Path | None = None, fmt: str = "png",
             inputs: Sequence[str] = ()) -> Discovery:
    """Scenario discovery over a results folder: PRIM boxes and a classification tree of
    the rows meeting ``where``; writes them into ``out`` (default ``results/discovery``).

    Args:
        results: a sweep's results folder (``ctsim sweep``).
        where: the condition (:func:`parse_where`), e.g. ``"disruption_rate < 0.4"``.
        table: "points" (one row a design point, points.parquet) or "runs" (one row a
            run, runs.parquet); default: points when the folder has points.parquet.
        alpha, density, box, boxes, mass_min: as :func:`prim`.
        depth, min_leaf: as :func:`classification_tree`.
        out: the folder written (boxes.csv, trajectory.csv, tree.txt, DISCOVERY.md,
            figures/).
        fmt: the figures' format (png, svg or pdf).
        inputs: only these factors as PRIM's and the tree's inputs: each a factor's key or
            a prefix ending in a dot (``world.``: every nation attribute); default all.

    Rows of failed runs, and rows where a column of the condition or a factor is NaN, are
    left out and counted. The inputs are the experiment's varied factors (the manifest's
    ``factors``) that vary in the table, and the scenario when the experiment has several.

    Raises:
        ResultsError: the folder does not hold finished results, or not the table asked.
        ArgumentError: a condition that cannot be read or names an unknown column, a
            condition that no row (or every row) meets, an option out of range.
        OutputError: ``out`` cannot be written.
    """
    import pandas as pd

    if fmt not in ("png", "svg", "pdf"):
        raise ArgumentError(f"fmt: expected png, svg or pdf, not {fmt!r}")
    loaded = load_results(results)
    folder = loaded.folder
    points_path = folder / TABLES["points"]
    chosen = table or ("points" if points_path.is_file() else "runs")
    if chosen not in TABLES:
        raise ArgumentError(f"table: expected runs or points, not {chosen!r}")
    failed = 0
    if chosen == "points":
        if not points_path.is_file():
            raise ResultsError(f"{folder}: no {TABLES['points']} (use the runs table: "
                               "--table runs)")
        frame = _read_table(points_path, pd.read_parquet)
        if "point" not in frame:
            raise ResultsError(f"{points_path}: no 'point' column")
    else:
        frame = loaded.runs
        failed = int((frame["status"] != "ok").sum())
        frame = frame[frame["status"] == "ok"]
    name = TABLES[chosen]
    factors = list(loaded.factors)
    if len(loaded.manifest.get("scenarios") or []) > 1 and "scenario" in frame:
        factors.append("scenario")
    factors = chosen_inputs(factors, inputs)
    absent = [f for f in factors if f not in frame]
    if absent:
        raise ResultsError(f"{folder / name}: no '{absent[0]}' column (its manifest.json "
                           "names it)")
    condition = resolve_where(where, frame, name)
    # a factor the condition reads would find itself: it is not an input (the report
    # names it among the factors left out)
    read = [f for f in factors if f in condition.columns]
    factors = [f for f in factors if f not in read]
    used = frame[list(dict.fromkeys([*factors, *condition.columns]))]
    known = used[condition.columns].notna().all(axis=1) & used[factors].notna().all(axis=1)
    missing = int((~known).sum())
    frame = frame[known.to_numpy()].reset_index(drop=True)
    constant = [f for f in factors if frame[f].nunique() <= 1] + read
    varied = [f for f in factors if f not in constant]
    if not varied:
        raise ResultsError(f"{folder}: the experiment varies no factor in {name} "
                           "(nothing to tell cases apart by)")
    y = condition.holds(frame)
    interest = int(y.sum())
    if interest == 0 or interest == len(y):
        every = "no row" if interest == 0 else "every row"
        raise ArgumentError(f"where: {every} of the {len(y):,} in {name} meets "
                            f"'{condition.resolved()}'; choose a condition that splits them")
    x = frame[varied]
    found = prim(x, y, alpha=alpha, mass_min=mass_min, density=density, box=box,
                 boxes=boxes)
    import importlib.util

    tree = (classification_tree(x, y, depth, min_leaf)
            if importlib.util.find_spec("sklearn") is not None else None)
    target = Path(out) if out is not None else folder / DISCOVERY_FOLDER
    result = Discovery(folder, target, chosen, condition, varied, constant, len(y),
                       interest, failed, missing, found, tree,
                       {"alpha": alpha, "density": density, "box": box, "boxes": boxes,
                        "mass_min": mass_min, "depth": depth, "min_leaf": min_leaf,
                        "inputs": ", ".join(inputs) or "every factor"})
    write_discovery(result, fmt)
    return result


# ---------------------------------------------------------------- the files


def boxes_table(found: list[PrimBox]) -> pd.DataFrame:
    """boxes.csv: one row a restriction of each chosen box (one row for a box without
    any), with the box's step, coverage, density, mass, restricted dims, n and k."""
    import pandas as pd

    rows = []
    for b in found:
        s = b.step
        head = {"box": b.number, "step": s.step, "rule": b.rule, "coverage": s.coverage,
                "density": s.density, "mass": s.mass, "restricted_dims": s.restricted,
                "n": s.n, "k": s.k}
        for r in b.restrictions or [{"factor": ""}]:
            rows.append(head | r)
    columns = ["box", "step", "rule", "coverage", "density", "mass", "restricted_dims", "n",
               "k", "factor", "kind", "lower", "upper", "values", "range_lower",
               "range_upper", "range_values", "p_lower", "p_upper", "p_value"]
    return pd.DataFrame(rows).reindex(columns=columns)


def trajectory_table(found: list[PrimBox]) -> pd.DataFrame:
    """trajectory.csv: every step of every box's search."""
    import pandas as pd

    return pd.concat([b.table() for b in found], ignore_index=True)


def _label(column: str) -> str:
    """A column's plain name: a factor's from the registry, an output's declared label,
    ``gain_<metric>`` as the gain in that metric from cooperation."""
    if column.startswith("gain_") and outputs.output(column[5:]) is not None:
        return f"gain in {outputs.output(column[5:]).label.lower()} from cooperation"
    o = outputs.output(column)
    return o.label if o is not None else layout.factor_label(column)


def _p(value: float) -> str:
    if not np.isfinite(value):
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _p_is(value: float) -> str:
    """A p-value after its name: ``< 0.001`` or ``= 0.024``."""
    text = _p(value)
    return text if text.startswith("<") else f"= {text}"


def _bound(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{value:.0f}" if kind == "whole" else f"{value:.4g}"


def restriction_rows(b: PrimBox) -> list[tuple[str, ...]]:
    """A box's restrictions as text rows: factor, its range in the box, the full range,
    and the quasi-p-values of the lower and upper side."""
    rows = []
    for r in b.restrictions:
        if r["kind"] == "category":
            rows.append((r["factor"], "{" + r["values"].replace("|", ", ") + "}",
                         "{" + r["range_values"].replace("|", ", ") + "}",
                         _p(r["p_lower"]), "-"))
        else:
            rows.append((r["factor"],
                         f"{_bound(r['lower'], r['kind'])} to {_bound(r['upper'], r['kind'])}",
                         f"{_bound(r['range_lower'], r['kind'])} to "
                         f"{_bound(r['range_upper'], r['kind'])}",
                         _p(r["p_lower"]), _p(r["p_upper"])))
    return rows


def write_discovery(result: Discovery, fmt: str = "png") -> list[Path]:
    """Write boxes.csv, trajectory.csv, tree.txt, the two figures and DISCOVERY.md into
    ``result.out``, each file whole (a temporary file renamed into place).

    Raises:
        OutputError: the folder cannot be made or written.
    """
    out = result.out
    check_report_place(out)
    written = []

    def put(name: str, data: bytes) -> None:
        path = out / name
        atomic_write(path, data)
        written.append(path)

    put("boxes.csv", boxes_table(result.boxes).to_csv(index=False).encode())
    put("trajectory.csv", trajectory_table(result.boxes).to_csv(index=False).encode())
    if result.tree is not None:
        put("tree.txt", tree_text(result).encode())
    figures = {}
    for stem, fig in (("discovery_trajectory", trajectory_figure(result)),
                      ("discovery_box", box_figure(result))):
        name = f"figures/{stem}.{fmt}"
        put(name, _figure_bytes(fig, fmt))
        figures[stem] = name
    put(DISCOVERY_DOC, discovery_markdown(result, figures).encode())
    result.written = written
    return written


def tree_text(result: Discovery) -> str:
    """tree.txt: the tree as drawn by scikit-learn, its rules and its accuracy."""
    t = result.tree
    assert t is not None
    lines = [f"Classification tree of: {result.condition.resolved()}",
             f"{result.rows:,} rows of {TABLES[result.table]}, {result.interest:,} cases of "
             f"interest (base rate {t.base_rate:.3f})",
             f"depth {t.depth}, {t.leaves} leaves; accuracy {t.accuracy:.3f} on these rows "
             f"against {t.baseline:.3f} for calling every row by the larger class", "",
             "Leaves predicting a case of interest (rows, cases of interest, share):"]
    hits = [r for r in t.rules if r["predicts"]]
    for r in hits:
        lines.append(f"  IF {' AND '.join(r['conditions']) or 'always'} THEN of interest "
                     f"({r['n']:,} rows, {r['k']:,} of interest, {r['share']:.3f})")
    if not hits:
        lines.append("  none: no leaf holds more cases of interest than not")
    lines += ["", "The tree (class False / True as weights: rows in each):", "", t.text]
    return "\n".join(lines)


def discovery_markdown(result: Discovery, figures: dict[str, str]) -> str:
    """DISCOVERY.md: the question, the boxes with their restrictions and p-values, the
    tree, with every number from ``result``; figure links relative to its folder."""
    c = result.condition
    lines = [f"# Scenario discovery: `{c.text}`", "",
             f"Which combinations of the experiment's factors lead to `{c.resolved()}`? "
             f"The rows are {result.rows:,} "
             + ("design points" if result.table == "points" else "finished runs")
             + f" of `{TABLES[result.table]}`; {result.interest:,} of them meet the condition "
             f"(base rate {result.base_rate:.3f}). The inputs are the "
             f"{len(result.factors)} factors the experiment varies."]
    left = []
    if result.failed:
        left.append(f"{result.failed:,} failed runs")
    if result.missing:
        left.append(f"{result.missing:,} rows where {', '.join(f'`{x}`' for x in c.columns)}"
                    " or a factor has no value (NaN)")
    if left:
        lines[-1] += f" Left out: {' and '.join(left)}."
    if result.constant:
        lines[-1] += (" Left out as inputs because they never vary here or the condition "
                      "reads them: "
                      + ", ".join(f"`{f}`" for f in result.constant) + ".")
    st = result.settings
    if st.get("inputs", "every factor") != "every factor":
        lines[-1] += f" Inputs asked for: {st['inputs']} (`--inputs`)."
    lines += ["", f"PRIM peeled {st['alpha']:g} of a box's cases a step and kept every box "
              f"above {st['mass_min']:g} of all cases; each box below is the one of highest "
              f"coverage whose density is at least {st['density']:g}"
              + (f" (the first box: step {st['box']} as asked)" if st["box"] is not None
                 else "") + ". Coverage is the share of all cases of interest inside the box, "
              "density the share of the box's cases that are of interest, mass the share of "
              "all cases inside it. A restriction's quasi-p-value is the one-sided binomial "
              "test of the box against the box without that side of the restriction: small "
              "values (below 0.05) mark restrictions that add density beyond chance.", ""]
    for b in result.boxes:
        s = b.step
        how = {"density": f"density at least {st['density']:g}",
               "highest density": f"no box reached density {st['density']:g}; the densest",
               "asked": "step asked for"}[b.rule]
        lines += [f"## Box {b.number}", "",
                  f"Step {s.step} of {len(b.trajectory) - 1} ({how}), sought among "
                  f"{b.remaining:,} rows ({b.remaining_k:,} of interest): coverage "
                  f"{s.coverage:.3f}, density {s.density:.3f}, mass {s.mass:.3f}, "
                  f"{s.n:,} rows of which {s.k:,} of interest, {s.restricted} restricted "
                  f"factor{'' if s.restricted == 1 else 's'}.", ""]
        if b.restrictions:
            lines += ["| factor | in the box | full range | p (lower) | p (upper) |",
                      "|---|---|---|---|---|"]
            for row, r in zip(restriction_rows(b), b.restrictions, strict=True):
                lines.append(f"| {_label(r['factor'])} (`{row[0]}`) | " + " | ".join(row[1:])
                             + " |")
            weak = [r["factor"] for r in b.restrictions if r["p_value"] >= 0.05]
            if weak:
                lines += ["", "Not distinguishable from chance at 0.05: "
                          + ", ".join(f"`{w}`" for w in weak) + " (dropping them loses "
                          "little density)."]
        else:
            lines.append("PRIM found no restriction that raises the density: the cases of "
                         "interest are spread over the whole range of every factor.")
        lines.append("")
    lines += [f"![PRIM's peeling trajectory]({figures['discovery_trajectory']})", "",
              "*Coverage against density along each box's peeling trajectory; colour and "
              "shape give the number of restricted factors, the ring the chosen box.*", "",
              f"![The chosen boxes]({figures['discovery_box']})", "",
              "*Each restriction of the chosen boxes against the factor's full range, with "
              "the quasi-p-values of its bounds (filled end: p < 0.05).*", ""]
    t = result.tree
    if t is not None:
        lines += ["## Classification tree", "",
                  f"A tree of depth {t.depth} ({t.leaves} leaves, each at least "
                  f"{st['min_leaf']:g} of the rows) classifies {t.accuracy:.3f} of the rows "
                  f"right, against {t.baseline:.3f} for calling every row by the larger class. "
                  "Its leaves that predict a case of interest:", ""]
        hits = [r for r in t.rules if r["predicts"]]
        for r in hits:
            lines.append(f"- {' and '.join(f'`{x}`' for x in r['conditions']) or 'every row'}"
                         f": {r['n']:,} rows, {r['share']:.3f} of them of interest.")
        if not hits:
            lines.append("- none: no leaf holds more cases of interest than not.")
        lines += ["", "The whole tree is in `tree.txt`.", ""]
    else:
        lines += ["## Classification tree", "", "Not drawn: the tree needs scikit-learn "
                  "(`pip install scikit-learn`).", ""]
    lines += ["## Files", "",
              "- `boxes.csv`: each chosen box's statistics and one row per restriction "
              "(bounds or kept values, full range, p-values).",
              "- `trajectory.csv`: every step of each box's search (phase, coverage, density, "
              "mass, restricted dims, rows, cases of interest, the chosen step).",
              "- `tree.txt`: the classification tree and its rules.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- figures


def trajectory_figure(result: Discovery) -> Figure:
    """Coverage against density along each box's trajectory, one panel a box: colour and
    marker shape by the number of restricted factors, the chosen box ringed, the density
    threshold dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    found = result.boxes
    fig, axes = plt.subplots(1, len(found), figsize=(5.2 * len(found) + 1.6, 4.8),
                             squeeze=False)
    dims = sorted({s.restricted for b in found for s in b.trajectory})
    cmap = plt.get_cmap("viridis")
    colour = {d: cmap(i / max(len(dims) - 1, 1) * 0.9) for i, d in enumerate(dims)}
    marker = {d: MARKERS[i % len(MARKERS)] for i, d in enumerate(dims)}
    for ax, b in zip(axes[0], found, strict=True):
        cov = [s.coverage for s in b.trajectory]
        den = [s.density for s in b.trajectory]
        ax.plot(cov, den, color="#bbbbbb", lw=0.8, zorder=1)
        for s in b.trajectory:
            ax.scatter(s.coverage, s.density, color=colour[s.restricted],
                       marker=marker[s.restricted], s=34, edgecolor="black", linewidth=0.3,
                       zorder=2)
        c = b.step
        ax.scatter(c.coverage, c.density, s=260, facecolor="none", edgecolor="black",
                   linewidth=1.6, zorder=3)
        high, right = c.density > 0.5, c.coverage > 0.6
        ax.annotate(f"box {b.number}: step {c.step}\ncoverage {c.coverage:.2f}, "
                    f"density {c.density:.2f}", (c.coverage, c.density),
                    xytext=(-14 if right else 14, -34 if high else 16),
                    textcoords="offset points", fontsize=8, ha="right" if right else "left",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                          "alpha": 0.8})
        ax.axhline(result.settings["density"], color="#555555", ls="--", lw=0.8)
        ax.set_xlim(-0.02, 1.05)
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("coverage (share of all cases of interest in the box)")
        ax.set_ylabel("density (share of the box's cases of interest)")
        ax.set_title(f"box {b.number}: {len(b.trajectory) - 1} steps among "
                     f"{b.remaining:,} rows" + (" left" if b.number > 1 else ""),
                     fontsize=10)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], ls="", marker=marker[d], color=colour[d], markeredgecolor="black",
                      markeredgewidth=0.3, label=str(d)) for d in dims]
    handles += [Line2D([], [], ls="", marker="o", markerfacecolor="none", markersize=12,
                       markeredgecolor="black", label="chosen"),
                Line2D([], [], ls="--", color="#555555",
                       label=f"density {result.settings['density']:g}")]
    fig.legend(handles=handles, title="restricted\nfactors", loc="center right",
               frameon=False, fontsize=8, title_fontsize=8)
    fig.suptitle(f"PRIM trajectory: {result.condition.text}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    return fig


def box_figure(result: Discovery) -> Figure:
    """Each restriction of each chosen box drawn against its factor's full range (0 to 1
    across), labelled with its bounds and their quasi-p-values; an end with p < 0.05 is a
    filled marker, others hollow. A categorical restriction shows every value, the kept
    ones filled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = result.boxes
    heights = [max(len(b.restrictions), 1) for b in found]
    fig, axes = plt.subplots(len(found), 1, figsize=(8.6, 0.55 * sum(heights)
                                                     + 1.1 * len(found) + 0.4),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, b in zip(axes[:, 0], found, strict=True):
        colour = OKABE_ITO[(b.number - 1) % len(OKABE_ITO)]
        rs = b.restrictions
        names = layout.distinct_labels([r["factor"] for r in rs]) if rs else []
        for i, r in enumerate(rs):
            yv = len(rs) - 1 - i
            ax.plot([0, 1], [yv, yv], color="#d9d9d9", lw=7, solid_capstyle="butt")
            if r["kind"] == "category":
                values = r["range_values"].split("|")
                kept = set(r["values"].split("|"))
                xs = np.linspace(0, 1, len(values)) if len(values) > 1 else np.array([0.5])
                for xv, v in zip(xs, values, strict=True):
                    inside = v in kept
                    ax.plot(xv, yv, marker="s" if inside else "X", ms=9,
                            color=colour if inside else "#777777",
                            markeredgecolor="black", markeredgewidth=0.5)
                    ax.annotate(v, (xv, yv), xytext=(0, 7), textcoords="offset points",
                                ha="center", fontsize=7)
                note = f"p {_p_is(r['p_lower'])}"
            else:
                span = r["range_upper"] - r["range_lower"]
                a = (r["lower"] - r["range_lower"]) / span if span else 0.0
                z = (r["upper"] - r["range_lower"]) / span if span else 1.0
                ax.plot([a, z], [yv, yv], color=colour, lw=7, solid_capstyle="butt")
                for xv, p, side, shape in ((a, r["p_lower"], "lower", ">"),
                                           (z, r["p_upper"], "upper", "<")):
                    if not np.isfinite(p):
                        continue
                    filled = p < 0.05
                    ax.plot(xv, yv, marker="|", ms=16, color="black")
                    ax.plot(xv, yv + 0.3, marker=shape, ms=6,
                            markerfacecolor="black" if filled else "white",
                            markeredgecolor="black")
                    ax.annotate(f"{_bound(r[side], r['kind'])}", (xv, yv),
                                xytext=(0, -13), textcoords="offset points", ha="center",
                                fontsize=7)
                note = ", ".join(f"p {s} {_p_is(r[f'p_{s}'])}" for s in ("lower", "upper")
                                 if np.isfinite(r[f"p_{s}"]))
            ax.text(1.03, yv, note, va="center", fontsize=7.5, transform=ax.transData)
            ax.text(-0.03, yv, f"{names[i]}\n[{_range_text(r)}]", va="center", ha="right",
                    fontsize=7.5)
        if not rs:
            ax.text(0.5, 0, "no restriction", ha="center", va="center", fontsize=9)
        s = b.step
        ax.set_title(f"box {b.number} (step {s.step}): coverage {s.coverage:.2f}, density "
                     f"{s.density:.2f}, mass {s.mass:.2f}", fontsize=9, loc="left")
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.8, max(len(rs), 1) - 0.2)
        ax.set_yticks([])
        ax.set_xticks([0, 0.5, 1], ["range min", "middle", "range max"], fontsize=7)
        for spine in ("top", "right", "left"):
            ax.spines[spine].set_visible(False)
    fig.tight_layout()
    height = fig.get_figheight()  # inches: the title keeps its own strip above the boxes
    fig.suptitle(f"Chosen boxes: {result.condition.text}", fontsize=10,
                 y=1 - 0.12 / height, va="top")
    fig.subplots_adjust(left=0.3, right=0.8, bottom=0.6 / height, top=1 - 0.95 / height)
    fig.text(0.5, 0.05 / fig.get_figheight(), "bounds: triangle pointing into the box, filled "
             "when its quasi-p-value is below 0.05, hollow otherwise; values: square kept, "
             "cross left out", ha="center", fontsize=7, color="#444444")
    return fig


def _range_text(r: dict[str, Any]) -> str:
    if r["kind"] == "category":
        return f"{len(r['range_values'].split('|'))} values"
    return f"{_bound(r['range_lower'], r['kind'])} to {_bound(r['range_upper'], r['kind'])}"


def _figure_bytes(fig: Figure, fmt: str) -> bytes:
    """A figure's file as bytes (150 dpi, as the other figures), the figure closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=150, bbox_inches="tight",
                metadata={"Software": None} if fmt == "png" else None)
    plt.close(fig)
    return buffer.getvalue()


