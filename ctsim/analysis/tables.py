"""The tables of a run folder: each metric's mean and interval, the safe-haven ranking
drawn from the per-nation counts of runs, and the CSV text of a table.

A *table* here is anything that gives a column's values by its name: a pandas DataFrame
(a stored folder read back) or a mapping of column names to NumPy arrays (what ``ctsim
run`` keeps from its runs, so that the command needs no pandas). The CSV text is the one
``DataFrame.to_csv(index=False, float_format=...)`` writes, byte for byte.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ctsim.analysis.stats import mean_ci
from ctsim.core.outputs import METRICS
from ctsim.core.world import World

if TYPE_CHECKING:
    import pandas as pd

#: A table by column: each name to its values (one per row), all of one length.
Columns = Mapping[str, Any]


def metric_table(runs: Columns) -> dict[str, dict[str, object]]:
    """Each metric's mean, 95% interval (clipped to its range) and per-replication values,
    in :data:`METRICS` order, from a runs table (one row a replication, in order; a
    DataFrame or a mapping of column arrays)."""
    out: dict[str, dict[str, object]] = {}
    for name, metric in METRICS.items():
        values = np.asarray(runs[name]).tolist()
        mean, lo, hi = mean_ci(values, bounds=metric.bounds)
        out[name] = {"mean": _finite(mean), "ci95": [_finite(lo), _finite(hi)],
                     "values": [_finite(v) for v in values]}
    return out


#: The haven table's columns, in order (:func:`haven_columns`).
HAVEN_COLUMNS = ("nation", "iso3", "region", "bloc", "capacity", "share", "share_ci95_lo",
                 "share_ci95_hi", "plots", "targeted", "target_disruption")


def haven_columns(world: World, nations: Columns) -> dict[str, list]:
    """Per nation, largest haven first: its share of all plots based on its territory (mean
    over the runs and 95% interval) and mean plot count; the settled plots aimed at it per
    run and the share of those disrupted (pooled over the runs); capacity, region, bloc.
    Returns the columns :data:`HAVEN_COLUMNS` by name, one list each.

    ``nations``: the per-nation counts of every run (columns ``run_id``, ``nation``,
    ``based``, ``targeted`` and ``disrupted``: :func:`nations_table`, a run folder's
    nations.parquet, or the arrays a run kept). The share is each run's ``based / plots``;
    the Herfindahl index of these shares is the ``haven_concentration`` metric (MODEL.md,
    outcome metrics). Its Student-t interval is clipped to [0, 1], the range a share can
    take. Ties in share are ordered by the nation's name.
    """
    n = world.n
    order = np.lexsort((np.asarray(nations["nation"]), np.asarray(nations["run_id"])))
    counts = np.asarray(nations["based"]).astype(float)[order].reshape(-1, n)
    runs = len(counts)
    aimed = np.asarray(nations["targeted"]).astype(float)[order].reshape(-1, n).sum(axis=0)
    hit = np.asarray(nations["disrupted"]).astype(float)[order].reshape(-1, n).sum(axis=0)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    rows = []
    for i, name in enumerate(world.names):
        mean, lo, hi = mean_ci(shares[:, i], bounds=(0.0, 1.0))
        rows.append((name, world.codes[i] if world.codes else "",
                     world.region_names[world.region[i]], world.bloc_names[world.bloc[i]],
                     float(world.capacity[i]), mean, lo, hi, float(counts[:, i].mean()),
                     aimed[i] / runs, hit[i] / aimed[i] if aimed[i] else float("nan")))
    # largest share first (an undefined one last), then by name
    rows.sort(key=lambda r: (bool(np.isnan(r[5])), -r[5] if not np.isnan(r[5]) else 0.0,
                             r[0]))
    return {c: [r[k] for r in rows] for k, c in enumerate(HAVEN_COLUMNS)}


def haven_table(world: World, nations: Columns) -> pd.DataFrame:
    """:func:`haven_columns` as a DataFrame, one row a nation, largest haven first."""
    import pandas as pd

    return pd.DataFrame(haven_columns(world, nations))


def csv_bytes(columns: Columns, float_format: str = "%.6g") -> bytes:
    """A table as CSV (UTF-8): a header of the column names, then one line a row; numbers
    written with ``float_format`` (an undefined one as an empty field), whole numbers and
    text as they are, a field quoted only when it holds a comma, a quote or a line break.

    The bytes are those of ``pandas.DataFrame(columns).to_csv(index=False,
    float_format=float_format)`` (``tests/analysis/test_tables.py`` checks it), without
    pandas.
    """
    cells = [_csv_cells(values, float_format) for values in columns.values()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=os.linesep)
    writer.writerow(list(columns))
    writer.writerows(zip(*cells, strict=True))
    return buffer.getvalue().encode()


def _csv_cells(values: Sequence | np.ndarray, float_format: str) -> list:
    """One column's fields for :func:`csv_bytes`."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return ["" if v != v else float_format % v for v in array.tolist()]
    if array.dtype.kind in "iub":
        return array.tolist()
    return ["" if v is None or (isinstance(v, float) and v != v) else v
            for v in (values.tolist() if isinstance(values, np.ndarray) else list(values))]


def _finite(x: float) -> float | None:
    """JSON-safe number: NaN becomes None (null)."""
    return None if x is None or not np.isfinite(x) else float(x)
