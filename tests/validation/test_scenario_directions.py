"""The shipped scenarios move the disruption rate the way their descriptions say.

Each barrier lowers the rate against the baseline, and each lever raises it against the
world it repairs, by more than the 95% interval of the difference: the runs are paired by
seed (common random numbers) and the Student-t interval of the paired differences must
exclude zero. 12 runs of 260 weeks per scenario, seeds derived from 2024 (the paired runs
of tests/core/mechanism_contract.py, whose mechanisms' scenarios, the post-attack surge
among them, are checked there against their off-switches).
"""

from __future__ import annotations

import pytest

from tests.core.mechanism_contract import assert_moves, metric, paired


def rates(name: str) -> list[float]:
    return metric(name, "disruption_rate")


@pytest.mark.parametrize("barrier", ["sovereignty", "legal_discrepancy", "geopolitical_tension",
                                     "resource_disparity", "leaks"])
def test_each_barrier_lowers_the_disruption_rate(barrier):
    assert_moves(paired(rates(barrier), rates("baseline")), -1, f"{barrier} minus baseline")


@pytest.mark.parametrize(("lever", "against"), [
    ("legal_harmonization", "legal_discrepancy"),
    ("capacity_building", "resource_disparity"),
    ("secure_channels", "leaks"),
    ("ai_detection", "baseline"),
])
def test_each_lever_raises_the_disruption_rate(lever, against):
    assert_moves(paired(rates(lever), rates(against)), +1, f"{lever} minus {against}")


def test_no_cooperation_is_the_worst_regime():
    none = rates("no_cooperation")
    for regime in ("bilateral_only", "multilateral_hub", "regional_blocs", "baseline"):
        assert_moves(paired(rates(regime), none), +1, f"{regime} minus no_cooperation")
