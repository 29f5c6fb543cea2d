"""Executing runs: seeds derived from a SeedSequence, single runs, replications.

Every run's seed is a plain int derived from the scenario (or experiment) seed and the
run's index with :class:`numpy.random.SeedSequence`, so a run can be repeated alone and
results do not depend on the order in which runs finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ctsim.core import CooperationModel, Scenario
from ctsim.core.metrics import METRICS


def replication_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent run seeds (plain ints in [0, 2**63)) derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(count)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


@dataclass
class RunResult:
    """One run: its seed, outcome metrics and (optionally) its weekly time series."""

    seed: int
    metrics: dict[str, float]
    timeseries: pd.DataFrame | None = None
    model: CooperationModel | None = field(default=None, repr=False)


def run_one(
    scenario: Scenario, seed: int, steps: int | None = None, *, timeseries: bool = True,
    keep_model: bool = False,
) -> RunResult:
    """Run ``scenario`` once from ``seed`` for ``steps`` weeks (default: the scenario's)."""
    model = CooperationModel(scenario, rng=int(seed))
    for _ in range(steps or scenario.steps):
        model.step()
    ts = None
    if timeseries:
        ts = model.datacollector.get_model_vars_dataframe()
        ts.index.name = "step"
        ts = ts.reset_index()
    return RunResult(int(seed), model.metrics(), ts, model if keep_model else None)


def run_replications(
    scenario: Scenario,
    seeds: Iterable[int],
    steps: int | None = None,
    *,
    on_done: Callable[[int], None] | None = None,
    keep_first_model: bool = True,
) -> list[RunResult]:
    """Run ``scenario`` once per seed, in order; ``on_done(i)`` after each run."""
    results = []
    for i, seed in enumerate(seeds):
        results.append(run_one(scenario, seed, steps, keep_model=keep_first_model and i == 0))
        if on_done:
            on_done(i)
    return results


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the finite values (NaN when none).

    With one finite value the interval is that value on both sides (no spread to show).
    """
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    if len(x) == 1:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def metric_table(results: list[RunResult]) -> dict[str, dict[str, object]]:
    """Each metric's mean, 95% interval and per-replication values, in :data:`METRICS` order."""
    out: dict[str, dict[str, object]] = {}
    for name in METRICS:
        values = [r.metrics[name] for r in results]
        mean, lo, hi = mean_ci(values)
        out[name] = {"mean": _finite(mean), "ci95": [_finite(lo), _finite(hi)],
                     "values": [_finite(v) for v in values]}
    return out


def _finite(x: float) -> float | None:
    """JSON-safe number: NaN becomes None (null)."""
    return None if x is None or not np.isfinite(x) else float(x)
