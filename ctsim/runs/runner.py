"""Executing runs: single runs, replications, and the per-nation tables of their outcomes.

Every run's seed is a plain int derived from the scenario (or experiment) seed and the
run's index with :class:`numpy.random.SeedSequence`, so a run can be repeated alone and
results do not depend on the order in which runs finish.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ctsim.core import Scenario
from ctsim.core.metrics import recorded_columns, target_outcomes
from ctsim.core.outputs import AMONG, PER_TARGET
from ctsim.core.simulation import Simulation, Streams

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RunResult:
    """One run: its seed, outcome metrics, (optionally) its weekly time series, the number
    of plots spawned from each nation's territory (``plots_by_base``, length N) and, per
    target nation, its settled plots and those disrupted (``targets``, shape (2, N))."""

    seed: int
    metrics: dict[str, float]
    timeseries: dict[str, np.ndarray] | None = None  # the weekly record, by column
    model: Simulation | None = field(default=None, repr=False)
    plots_by_base: np.ndarray | None = field(default=None, repr=False)
    targets: np.ndarray | None = field(default=None, repr=False)


def run_one(
    scenario: Scenario, seed: int, steps: int | None = None, *, timeseries: bool = True,
    keep_model: bool = False, metrics: Iterable[str] | None = None, nations: bool = True,
    streams: Streams | None = None,
) -> RunResult:
    """Run ``scenario`` once from ``seed`` for ``steps`` weeks (default: the scenario's).

    The run is a :class:`~ctsim.core.simulation.Simulation`: the CooperationModel's run
    without Mesa (the same weeks, bit for bit, at less cost). ``keep_model`` keeps it for
    figures of its world and trust. ``metrics``: only these outcomes (default: all);
    ``nations``: also count each nation's plots and their fates (``plots_by_base`` and
    ``targets``; None without). ``streams``: Generators to start at ``seed`` and reuse
    (:class:`~ctsim.core.simulation.Streams`; the same draws), not with ``keep_model``.
    """
    if streams is not None and keep_model:
        raise ValueError("a kept model needs streams of its own")
    rng = streams.start(int(seed)) if streams is not None else np.random.default_rng(int(seed))
    sim = Simulation(scenario, rng)
    sim.run(steps or scenario.steps)  # every week in one compiled call
    ts = None
    if timeseries:
        ts = {"step": np.arange(sim.steps + 1),
              **{k: np.asarray(v) for k, v in recorded_columns(sim.tally, 0, sim.steps).items()}}
    return RunResult(int(seed), sim.metrics(metrics), ts, sim if keep_model else None,
                     sim.counts.plots_by_base.copy() if nations else None,
                     target_outcomes(sim) if nations else None)


def run_replications(
    scenario: Scenario,
    seeds: Iterable[int],
    steps: int | None = None,
    *,
    on_done: Callable[[int], None] | None = None,
    keep_first_model: bool = True,
) -> list[RunResult]:
    """Run ``scenario`` once per seed, in order, in this process; ``on_done(i)`` after each
    (for tests and notebooks; the commands use :mod:`ctsim.runs.pipeline`)."""
    results = []
    for i, seed in enumerate(seeds):
        results.append(run_one(scenario, seed, steps, keep_model=keep_first_model and i == 0))
        if on_done:
            on_done(i)
    return results


def nations_table(results: list[RunResult]) -> pd.DataFrame:
    """The per-nation counts of runs (the ``nations.parquet`` table of a run folder): per
    run (``run_id``, its index) and ``nation``, the plots ``based`` there, then the counts
    of :data:`ctsim.core.outputs.PER_TARGET` by target (``targeted``, ``disrupted``, ...)."""
    import pandas as pd

    frames = []
    for k, r in enumerate(results):
        n = len(r.plots_by_base)
        frames.append(pd.DataFrame({"run_id": k, "nation": np.arange(n),
                                    "based": r.plots_by_base,
                                    **dict(zip(PER_TARGET, r.targets, strict=True))}))
    return pd.concat(frames, ignore_index=True)


def pooled_among(targets: np.ndarray, mask: np.ndarray, metric: str = "disruption_rate"
                 ) -> float:
    """``metric`` (one of :data:`ctsim.core.outputs.AMONG`) over the settled plots aimed at
    the nations in ``mask`` (bool, length N), pooled over runs: ``targets`` is one run's
    (K, N) per-target counts (:func:`ctsim.core.metrics.target_outcomes`) or a stack
    (R, K, N) of several runs'. A share in [0, 1], NaN when its denominator is 0; a count
    (``attacks_transnational``) is its total over the nations, a run's on average."""
    counts = np.asarray(targets, float).reshape(-1, *np.shape(targets)[-2:])
    top_name, bottom_name = AMONG[metric]
    top = counts[:, PER_TARGET.index(top_name)][:, mask].sum()
    if not bottom_name:
        return float(top / len(counts))
    bottom = counts[:, PER_TARGET.index(bottom_name)][:, mask].sum()
    return float(top / bottom) if bottom else float("nan")


def disruption_among(results: list[RunResult], mask: np.ndarray) -> list[float]:
    """Per run, the disruption rate of the settled plots aimed at the nations in ``mask``
    (bool, length N), e.g. the EU's members; NaN for a run with none aimed at them."""
    return [pooled_among(r.targets, mask) for r in results]
