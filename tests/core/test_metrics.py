"""ctsim.core.metrics: a run's outcomes from its state, over its settled plots.

The rates and means cover the plots whose attack week has passed (right-censoring); the
weekly record's compiled counters and :func:`~ctsim.core.metrics.run_metrics` compute the
disruption rate two ways and must agree; asking for some metrics gives exactly those of the
full computation; the per-target counts add up to the run's.
"""

from __future__ import annotations

import numpy as np
import pytest

from ctsim.core import state
from ctsim.core.metrics import quartile_rates, run_metrics, settled, target_outcomes
from ctsim.core.scenario import load_scenario, scenario_from_dict
from ctsim.core.simulation import Simulation
from ctsim.core.state import ATTACKED, DISRUPTED
from tests.conftest import SCENARIOS, SMALL


def simulation(steps: int = 104, seed: int = 8, **threat) -> Simulation:
    """A run of the small world for ``steps`` weeks (``threat`` keys changed)."""
    data = {**SMALL, "steps": steps, "threat": {**SMALL["threat"], **threat}}
    sim = Simulation(scenario_from_dict(data), np.random.default_rng(seed))
    sim.run(steps)
    return sim


@pytest.mark.parametrize("name", ["baseline", "post_attack_surge", "domestic_plots"])
def test_the_records_disruption_rate_is_the_run_metric_every_week(name):
    """The weekly record (compiled counters) and run_metrics (settled plots) compute the
    disruption rate two ways; they must be the same number, week by week."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    sim = Simulation(scenario, np.random.default_rng(8))
    column = state.RECORDED.index("disruption_rate")
    checked = 0
    for week in range(1, 79):
        sim.run(week)
        recorded = sim.tally.record[week, column]
        metric = sim.metrics()["disruption_rate"]
        if np.isnan(metric):
            assert np.isnan(recorded)
        else:
            assert recorded == metric
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("names", [
    ["foreign_share", "disruption_rate", "attacks"],  # the Sobol screening's, reordered
    ["disruption_rate_q1", "mean_trust"],
    ["attacks_domestic", "treaties_in_force", "haven_concentration"],
])
def test_metrics_asked_by_name_are_the_full_computation_s_in_the_order_asked(names):
    """run_metrics(names) skips the parts only other metrics need: the values asked for
    are those of the full computation, bit for bit, and come in the order asked."""
    sim = simulation()
    every = run_metrics(sim)
    some = run_metrics(sim, names)
    assert list(some) == names
    assert all(np.isnan(some[n]) if np.isnan(every[n]) else some[n] == every[n]
               for n in names)
    assert every["attacks"] > 0 and every["disruption_rate"] > 0  # a run with outcomes


def test_settled_plots_are_those_whose_attack_week_has_passed():
    sim = simulation(steps=60)
    p = sim.plots
    ids = settled(sim)
    due = p.spawned[: p.n] + p.lead[: p.n] - 1
    assert ids.tolist() == np.flatnonzero(due <= 60).tolist()
    assert 0 < len(ids) < p.n  # some plots are still in flight at the end
    assert (p.status[ids] != state.ACTIVE).all()  # a settled plot was disrupted or attacked
    m = run_metrics(sim)
    hit = int((p.status[ids] == DISRUPTED).sum())
    assert m["disrupted"] == hit
    assert m["attacks"] == int((p.status[ids] == ATTACKED).sum())
    assert m["disruption_rate"] == pytest.approx(hit / len(ids))


def test_per_target_counts_and_quarters_add_up_to_the_disruption_rate():
    sim = simulation(steps=156, plots_per_year=60)
    aimed, hit = target_outcomes(sim)[:2]
    ids = settled(sim)
    assert aimed.sum() == len(ids)
    assert (hit <= aimed).all()
    assert hit.sum() / aimed.sum() == pytest.approx(run_metrics(sim)["disruption_rate"])
    quarters = quartile_rates(sim, ids)
    n = sim.world.n
    order = np.argsort(sim.world.capacity, kind="stable")
    for k, rate in enumerate(quarters):  # quarter k: the k-th quarter of targets by capacity
        nations = order[(np.arange(n) * 4) // n == k]
        expected = hit[nations].sum() / aimed[nations].sum()
        assert rate == pytest.approx(expected)
