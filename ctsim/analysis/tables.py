"""The tables of a run folder: each metric's mean and interval, and the safe-haven
ranking drawn from the per-nation counts of runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctsim.analysis.stats import mean_ci
from ctsim.core.outputs import METRICS
from ctsim.core.world import World

if TYPE_CHECKING:
    import pandas as pd


def metric_table(runs: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Each metric's mean, 95% interval (clipped to its range) and per-replication values,
    in :data:`METRICS` order, from a runs table (one row a replication, in order)."""
    out: dict[str, dict[str, object]] = {}
    for name, metric in METRICS.items():
        values = runs[name].tolist()
        mean, lo, hi = mean_ci(values, bounds=metric.bounds)
        out[name] = {"mean": _finite(mean), "ci95": [_finite(lo), _finite(hi)],
                     "values": [_finite(v) for v in values]}
    return out



def haven_table(world: World, nations: pd.DataFrame) -> pd.DataFrame:
    """Per nation, largest haven first: its share of all plots based on its territory (mean
    over the runs and 95% interval) and mean plot count; the settled plots aimed at it per
    run and the share of those disrupted (pooled over the runs); capacity, region, bloc.

    ``nations``: the per-nation counts of every run (:func:`nations_table`, or a run
    folder's nations.parquet). The share is each run's ``based / plots``; the Herfindahl
    index of these shares is the ``haven_concentration`` metric (MODEL.md, outcome
    metrics). Its Student-t interval is clipped to [0, 1], the range a share can take.
    """
    import pandas as pd

    n = world.n
    ordered = nations.sort_values(["run_id", "nation"], kind="stable")
    counts = ordered["based"].to_numpy(float).reshape(-1, n)
    runs = len(counts)
    aimed = ordered["targeted"].to_numpy(float).reshape(-1, n).sum(axis=0)
    hit = ordered["disrupted"].to_numpy(float).reshape(-1, n).sum(axis=0)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    rows = []
    for i, name in enumerate(world.names):
        mean, lo, hi = mean_ci(shares[:, i], bounds=(0.0, 1.0))
        rows.append({"nation": name, "iso3": world.codes[i] if world.codes else "",
                     "region": world.region_names[world.region[i]],
                     "bloc": world.bloc_names[world.bloc[i]],
                     "capacity": float(world.capacity[i]), "share": mean,
                     "share_ci95_lo": lo, "share_ci95_hi": hi,
                     "plots": float(counts[:, i].mean()),
                     "targeted": aimed[i] / runs,
                     "target_disruption": hit[i] / aimed[i] if aimed[i] else float("nan")})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["share", "nation"], ascending=[False, True], kind="stable",
                             ignore_index=True)


def _finite(x: float) -> float | None:
    """JSON-safe number: NaN becomes None (null)."""
    return None if x is None or not np.isfinite(x) else float(x)
