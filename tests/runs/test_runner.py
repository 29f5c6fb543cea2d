"""ctsim.runs.runner: one run, replications, and the per-nation tables of their outcomes.

A run from a seed is the same run however it is asked for (alone, among replications, with
fewer tables or reused streams); the per-nation counts add up to the run's metrics.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ctsim.core.outputs import AMONG, PER_TARGET
from ctsim.core.scenario import scenario_from_dict
from ctsim.core.simulation import Streams
from ctsim.runs.runner import (
    disruption_among,
    nations_table,
    pooled_among,
    run_one,
    run_replications,
)
from tests.conftest import SMALL
from tests.test_data import COUNTRIES


def same(a: dict, b: dict) -> bool:
    """Whether two runs' metrics are equal, an undefined rate (NaN) equal to NaN."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_replications_are_the_runs_of_their_seeds_in_order():
    scenario = scenario_from_dict({**SMALL, "steps": 30})
    seen: list[int] = []
    results = run_replications(scenario, [7, 3, 7], on_done=seen.append)
    assert seen == [0, 1, 2]
    assert [r.seed for r in results] == [7, 3, 7]
    assert results[0].model is not None and results[1].model is None  # the first kept
    assert same(results[0].metrics, results[2].metrics)  # the same seed, the same run
    assert not same(results[0].metrics, results[1].metrics)
    alone = run_one(scenario, 3)
    assert same(alone.metrics, results[1].metrics)
    for column, values in alone.timeseries.items():
        np.testing.assert_array_equal(values, results[1].timeseries[column], err_msg=column)
    assert len(alone.timeseries["step"]) == 31  # the start and every week


def test_a_sweep_run_without_per_nation_tables_has_the_same_metrics():
    """run_one(nations=False) leaves out the per-nation counts and nothing else."""
    scenario = scenario_from_dict({**SMALL, "steps": 52})
    full = run_one(scenario, 3, timeseries=False)
    lean = run_one(scenario, 3, timeseries=False, nations=False,
                   metrics=["disruption_rate", "plots"])
    assert lean.plots_by_base is None and lean.targets is None
    assert full.targets.shape == (len(PER_TARGET), len(full.plots_by_base))
    assert lean.metrics == {k: full.metrics[k] for k in ("disruption_rate", "plots")}


def test_a_kept_model_refuses_shared_streams():
    with pytest.raises(ValueError, match="streams of its own"):
        run_one(scenario_from_dict(SMALL), 1, keep_model=True, streams=Streams())


def test_the_nations_table_adds_up_to_each_runs_counts():
    scenario = scenario_from_dict({**SMALL, "steps": 78})
    results = run_replications(scenario, [1, 2], keep_first_model=False)
    table = nations_table(results)
    assert list(table.columns) == ["run_id", "nation", "based", *PER_TARGET]
    assert len(table) == 2 * 8
    for k, r in enumerate(results):
        rows = table[table["run_id"] == k]
        assert rows["nation"].tolist() == list(range(8))
        assert rows["based"].sum() == r.metrics["plots"]
        assert rows["disrupted"].sum() == r.metrics["disrupted"]
        assert (rows["disrupted"] <= rows["targeted"]).all()
        assert rows["attacked"].sum() == r.metrics["attacks"]
        assert (rows["foreign_first"] <= rows["disrupted"]).all()
        everyone = np.ones(8, bool)
        for metric in AMONG:  # among every nation: the run's own metric
            assert pooled_among(r.targets, everyone, metric) == pytest.approx(
                r.metrics[metric], nan_ok=True), metric


def _per_target(targeted, disrupted):
    """A (K, 2) per-target table with only the first two rows set."""
    table = np.zeros((len(PER_TARGET), 2))
    table[0], table[1] = targeted, disrupted
    return table


def test_pooled_disruption_pools_plots_over_runs_not_rates():
    # run 1: 1 of 2 plots aimed at nation 0 disrupted; run 2: 3 of 3; pooled 4 / 5, where
    # the mean of the two rates would be 0.75
    one = _per_target([2, 4], [1, 0])
    two = _per_target([3, 0], [3, 0])
    mask = np.array([True, False])
    assert pooled_among(np.stack([one, two]), mask) == pytest.approx(0.8)
    assert pooled_among(one, mask) == pytest.approx(0.5)
    assert np.isnan(pooled_among(one, np.array([False, False])))
    assert pooled_among(one, np.array([False, True])) == 0.0


def test_the_foreign_first_share_among_nations_divides_by_their_disruptions():
    one = _per_target([4, 4], [2, 3])
    one[PER_TARGET.index("foreign_first")] = [1, 3]
    assert pooled_among(one, np.array([True, False]), "foreign_first_share") == 0.5
    assert pooled_among(one, np.array([True, True]), "foreign_first_share") == 0.8


def test_disruption_among_all_nations_is_the_runs_disruption_rate(world_runs):
    world, results = world_runs
    everyone = np.ones(world.n, bool)
    assert disruption_among(results, everyone) == pytest.approx(
        [r.metrics["disruption_rate"] for r in results], nan_ok=True)
    eu = np.array(["EU" in c.memberships for c in COUNTRIES])
    rates = disruption_among(results, eu)
    assert len(rates) == len(results)
    assert all(np.isnan(x) or 0.0 <= x <= 1.0 for x in rates)
