"""The outcome measures read in one compiled pass over the plot table
(:func:`ctsim.core.metrics.settled_outcomes`) are the numpy expressions they replace, bit
for bit, and asking for a few measures gives what asking for all gives (issue 27)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ctsim.core.metrics import METRICS, run_metrics, settled, settled_outcomes
from ctsim.core.scenario import load_scenario
from ctsim.core.simulation import Simulation
from ctsim.core.state import ABORTED, ACTIVE, ATTACKED, DISRUPTED
from tests.core.test_setup_world import SCENARIOS


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and type(a) is type(b))


def _numpy_outcomes(sim: Simulation) -> dict[str, float]:
    """The measures as numpy computed them before: over the settled plots' ids."""
    p = sim.plots
    ids = settled(sim)
    hit = ids[p.status[ids] == DISRUPTED]
    attacked = p.status[ids] == ATTACKED
    attacks = int(attacked.sum())
    failed = int(p.failed[ids[attacked]].sum())
    nan = float("nan")
    return {
        "disruption_rate": float(len(hit)) / float(len(hit) + attacks)
        if len(hit) + attacks > 0 else nan,
        "disrupted": float(len(hit)), "attacks": float(attacks),
        "weeks_to_disruption": float(p.age[hit].mean()) if len(hit) else nan,
        "foreign_share": float(p.foreign[hit].mean()) if len(hit) else nan,
        "attacks_completed": float(attacks - failed), "attacks_failed": float(failed),
        "plots": float(sim.counts.total["plots"]),
    }


@pytest.mark.parametrize("name", ["baseline.yaml", "failed_attacks.yaml",
                                  "plot_modes.yaml", "lessons/safe_havens.yaml"])
def test_measures_from_the_compiled_pass_equal_numpys(name: str) -> None:
    """Over runs of a few scenarios, seeds and lengths (the censored plots too), every
    measure the pass gives equals numpy's exactly, whether asked alone or with all."""
    scenario = load_scenario(SCENARIOS / name)
    for seed in (1, 2, 3):
        sim = Simulation(scenario, np.random.default_rng(seed))
        for weeks in (1, 12, 60):
            sim.run(weeks)
            want = _numpy_outcomes(sim)
            alone = run_metrics(sim, list(want))
            every = run_metrics(sim)
            for key, value in want.items():
                assert _same(alone[key], value), (name, seed, weeks, key)
                assert _same(every[key], value), (name, seed, weeks, key)


def test_a_few_measures_are_those_of_all() -> None:
    """Asking for a few measures (the compiled pass alone) or for all gives the same
    values, in the order asked."""
    sim = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), np.random.default_rng(4))
    sim.run(80)
    every = run_metrics(sim)
    assert list(every) == list(METRICS)
    few = ["attacks", "foreign_share", "disruption_rate", "leaks", "plots"]
    got = run_metrics(sim, few)
    assert list(got) == few
    assert all(_same(got[k], every[k]) for k in few)


def test_settled_outcomes_of_a_small_table() -> None:
    """Five plots: one active, one disrupted with foreign help at age 3, one attacked that
    failed (due in week 5), one aborted, and one disrupted whose attack week is after the
    last week run: one disrupted, one attack (failed), ages 3, one foreign; by week 4 the
    attack is not settled yet."""
    spawned = np.array([1, 1, 2, 2, 9], np.int64)
    lead = np.array([5, 4, 4, 2, 4], np.int64)
    status = np.array([ACTIVE, DISRUPTED, ATTACKED, ABORTED, DISRUPTED], np.int64)
    age = np.array([2, 3, 3, 1, 1], np.int64)
    foreign = np.array([0, 1, 0, 0, 1], np.int64)
    failed = np.array([0, 0, 1, 0, 0], np.int64)
    got = settled_outcomes(spawned, lead, status, age, foreign, failed, 5, 10,
                           DISRUPTED, ATTACKED, ABORTED)
    assert got == (1, 1, 1, 3, 1)
    assert settled_outcomes(spawned, lead, status, age, foreign, failed, 3, 10,
                            DISRUPTED, ATTACKED, ABORTED) == (1, 1, 1, 3, 1)
    assert settled_outcomes(spawned, lead, status, age, foreign, failed, 5, 4,
                            DISRUPTED, ATTACKED, ABORTED) == (1, 0, 0, 3, 1)
