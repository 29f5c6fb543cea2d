"""The article's remaining channels (MODEL.md, Version 2, section B): each mechanism moves
the outcome the way its paragraph says, measured with paired seeds.

Every comparison runs both sides on the same seeds (common random numbers) and asks the
95% Student-t interval of the paired differences to lie on the claimed side of zero (the
paired runs of tests/core/mechanism_contract.py, here from seeds derived from 2026). Each
mechanism's contract (its keys inert at their defaults, its scenario against its
off-switch) is checked in tests/core/test_mechanisms.py; the tests here go further into
what each one does.
"""

from __future__ import annotations

import numpy as np
import pytest

from ctsim.analysis.stats import paired_difference
from ctsim.core.scenario import load_scenario
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from tests.conftest import SCENARIOS
from tests.core import mechanism_contract as contract

RUNS = 12
SEEDS = replication_seeds(2026, RUNS)


def outcomes(name: str, overrides: tuple = (), steps: int | None = None) -> tuple[dict, ...]:
    """The runs of scenario ``name`` with ``overrides`` (key, value pairs), one per seed."""
    return contract.outcomes(name, overrides, steps, SEEDS)


def metric(name: str, key: str, overrides: tuple = (), steps: int | None = None
           ) -> list[float]:
    return contract.metric(name, key, overrides, steps, SEEDS)


def difference(name: str, key: str, changed: tuple, base: tuple = ()) -> tuple[float, ...]:
    """Mean and 95% interval of ``key`` with ``changed`` minus with ``base``, paired."""
    return contract.paired(metric(name, key, changed), metric(name, key, base))


def assert_above_zero(diff: tuple[float, ...]) -> None:
    contract.assert_moves(diff, +1)


def assert_below_zero(diff: tuple[float, ...]) -> None:
    contract.assert_moves(diff, -1)


# ---------------------------------------------------------------- B1 financing


def test_frozen_funds_lower_attacks():
    """Freezing a group's funds after a disruption that used its money trail lowers its
    plot rate, and so the attacks, against the same financial intelligence without freezes."""
    assert_below_zero(difference("financing", "attacks", (), (("threat.asset_freeze", 0.0),)))
    assert max(metric("financing", "mean_funds")) < 1.0
    assert metric("financing", "mean_funds", (("threat.asset_freeze", 0.0),)) == [1.0] * RUNS


def test_an_fiu_network_carries_financial_fragments_and_freezes_more():
    """Financial fragments shared through the financial intelligence units' network reach
    the nation that disrupts: more freezes than when the network carries nothing."""
    no_network = (("cooperation.institutions.3.kind", "forum"),)
    assert_above_zero(difference("financing", "asset_freezes", (), no_network))
    assert_below_zero(difference("financing", "attacks", (), no_network))


def test_financial_fragments_need_counter_financing_capacity():
    assert metric("financing", "fragments_financial", (("world.cft.mean", 0.0),
                                                        ("world.cft.spread", 0.0))) == [0] * RUNS
    assert min(metric("financing", "fragments_financial")) > 0


# ---------------------------------------------------------------- B2 border screening


def test_open_borders_lower_the_disruption_rate_of_transnational_plots():
    screened = (("threat.border_screening", 0.6),)
    regions = [{"region": r} for r in ("north", "south", "east", "west")]
    everywhere = (*screened, ("relations.open_borders", regions))
    assert_below_zero(difference("border_screening", "disruption_rate_transnational",
                                 everywhere, (*screened, ("relations.open_borders", []))))
    assert_below_zero(difference("border_screening", "fragments_border", everywhere, screened))


def test_the_hubs_databases_make_screening_find_more():
    without = (("cooperation.institutions.0.databases", False),)
    assert_above_zero(difference("border_screening", "fragments_border", (), without))


def test_domestic_plots_cross_no_border():
    domestic = (("threat.transnational", 0.0),)
    assert metric("border_screening", "fragments_border", domestic) == [0] * RUNS


# ---------------------------------------------------------------- B3 company data


def test_direct_access_shortens_weeks_to_disruption_of_plots_with_online_traces():
    direct = (("relations.direct_access", "all"),)
    assert_below_zero(difference("company_data", "weeks_to_disruption_online", direct))
    assert_above_zero(difference("company_data", "disruption_rate_online", direct))
    assert metric("company_data", "shared_direct") == [0] * RUNS
    assert min(metric("company_data", "shared_direct", direct)) > 0


def test_without_treaties_or_direct_access_records_reach_only_the_provider():
    alone = (("relations.treaties", "none"),)
    assert metric("company_data", "mlat_requests", alone) == [0] * RUNS
    assert min(metric("company_data", "fragments_online", alone)) > 0


# ---------------------------------------------------------------- B4 joint training


def test_training_never_lowers_a_capacity_above_the_standard():
    scenario = load_scenario(SCENARIOS / "joint_training.yaml")
    run = run_one(scenario, SEEDS[0], 104, timeseries=False, keep_model=True).model
    start, end = run.world.capacity, run.relations.capacity
    above = start >= 0.7
    assert above.any() and (~above).any()
    assert np.array_equal(end[above], start[above])
    assert (end[~above] > start[~above]).all() and (end[~above] < 0.7).all()


# ---------------------------------------------------------------- B5 norms


def test_a_forum_carries_no_intelligence():
    """The norms forum posts nothing: with its norms off, the run is the baseline's
    (the same hubs carry the same posts)."""
    forum_off = metric("norms", "shared_institutional", (("cooperation.institutions.3.norms",
                                                          0.0),))
    no_forum = metric("norms", "shared_institutional", (
        ("cooperation.institutions", load_scenario(SCENARIOS / "baseline.yaml").model_dump(
            mode="python")["cooperation"]["institutions"]),))
    assert forum_off == no_forum


# ---------------------------------------------------------------- B6 cooperation evolves


def test_treaties_form_only_between_nations_that_share_a_plot():
    fixed = (("threat.footprint", ["Avalon", "Borduria", "Carpania"]),
             ("relations.treaties", "none"), ("relations.treaty_formation", 0.2))
    scenario = load_scenario(SCENARIOS / "evolving_cooperation.yaml", dict(fixed))
    run = run_one(scenario, SEEDS[0], 104, timeseries=False, keep_model=True).model
    signed = np.argwhere(np.triu(run.relations.treaty, 1))
    assert len(signed) >= 1
    assert set(signed.ravel().tolist()) <= {0, 1, 2}


def test_attacks_speed_treaty_formation():
    assert_above_zero(difference("evolving_cooperation", "treaties_formed",
                                 (("relations.surge_boost", 10.0),),
                                 (("relations.surge_boost", 0.0),)))


def test_treaties_lapse_only_under_shocks():
    calm = (("trust_dynamics.shock_rate", 0.0),)
    assert metric("evolving_cooperation", "treaties_lapsed", calm) == [0] * RUNS
    assert sum(metric("evolving_cooperation", "treaties_lapsed")) > 0


def test_nations_join_open_hubs_as_their_partners_are_members():
    assert min(metric("evolving_cooperation", "accessions")) > 0
    closed = (("cooperation.institutions.1.open", False),
              ("cooperation.institutions.2.open", False))
    assert metric("evolving_cooperation", "accessions", closed) == [0] * RUNS


def test_no_treaty_forms_without_cooperation():
    none = (("cooperation.regime", "none"),)
    assert metric("evolving_cooperation", "treaties_formed", none) == [0] * RUNS


def test_the_treaty_count_follows_formation_and_lapse():
    for m in outcomes("evolving_cooperation"):
        start = m["treaties_in_force"] - m["treaties_formed"] + m["treaties_lapsed"]
        assert start == pytest.approx(start)  # finite
    scenario = load_scenario(SCENARIOS / "evolving_cooperation.yaml")
    run = run_one(scenario, SEEDS[1], 156, timeseries=False, keep_model=True).model
    assert run.tally.n_treaties[0] == np.triu(run.relations.treaty, 1).sum()
    assert np.array_equal(run.relations.treaty, run.relations.treaty.T)
    assert np.array_equal(run.relations.channel, run.relations.treaty)  # hybrid, no ad hoc


# ---------------------------------------------------------------- B7 AI with its costs


def test_false_alarms_make_the_ai_levers_net_effect_smaller_than_its_uplift():
    """Adopting AI tools (world.tech, which scales both the detection gain and the false
    alarms) gains less when the tools also raise false alarms that tie up interdiction:
    the paired effect with alarms is below the effect without."""
    low = (("world.tech.mean", 0.1),)
    quiet = (("threat.ai_false_alarm", 0.0),)
    net = np.subtract(metric("ai_costs", "disruption_rate"),
                      metric("ai_costs", "disruption_rate", low))
    uplift = np.subtract(metric("ai_costs", "disruption_rate", quiet),
                         metric("ai_costs", "disruption_rate", quiet + low))
    assert_above_zero(paired_difference([0.0] * RUNS, list(net)))  # still a lever
    assert_below_zero(paired_difference(list(uplift), list(net)))
    assert min(metric("ai_costs", "wrongful_interdictions")) > 0


def test_a_stricter_privacy_regime_admits_less_foreign_intelligence():
    assert_below_zero(difference("ai_costs", "foreign_share", (),
                                 (("legal.privacy_gap", 0.0),)))
