"""The shipped scenarios move the disruption rate the way their descriptions say.

Each barrier lowers the rate against the baseline, and each lever raises it against the
world it repairs, by more than the 95% interval of the difference: the runs are paired by
seed (common random numbers) and the Student-t interval of the paired differences must
exclude zero. 12 runs of 260 weeks per scenario, seeds derived from 2024.
"""

from __future__ import annotations

from functools import cache

import pytest

from ctsim.analysis.stats import mean_ci
from ctsim.core.scenario import load_scenario
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from tests.conftest import SCENARIOS

RUNS = 12
SEEDS = replication_seeds(2024, RUNS)


@cache
def rates(name: str) -> tuple[float, ...]:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    return tuple(run_one(scenario, s, timeseries=False).metrics["disruption_rate"]
                 for s in SEEDS)


def paired_difference(better: str, worse: str) -> tuple[float, float, float]:
    diff = [a - b for a, b in zip(rates(better), rates(worse), strict=True)]
    return mean_ci(diff)


@pytest.mark.parametrize("barrier", ["sovereignty", "legal_discrepancy", "geopolitical_tension",
                                     "resource_disparity", "leaks"])
def test_each_barrier_lowers_the_disruption_rate(barrier):
    mean, low, _high = paired_difference("baseline", barrier)
    assert low > 0, f"{barrier}: baseline minus barrier = {mean:.3f}, interval low {low:.3f}"


@pytest.mark.parametrize(("lever", "against"), [
    ("legal_harmonization", "legal_discrepancy"),
    ("capacity_building", "resource_disparity"),
    ("secure_channels", "leaks"),
    ("ai_detection", "baseline"),
    ("post_attack_surge", "baseline"),
])
def test_each_lever_raises_the_disruption_rate(lever, against):
    mean, low, _high = paired_difference(lever, against)
    assert low > 0, f"{lever} minus {against} = {mean:.3f}, interval low {low:.3f}"


def test_no_cooperation_is_the_worst_regime():
    none = rates("no_cooperation")
    for regime in ("bilateral_only", "multilateral_hub", "regional_blocs", "baseline"):
        mean, low, _ = mean_ci([a - b for a, b in zip(rates(regime), none, strict=True)])
        assert low > 0, f"{regime} is not above no_cooperation ({mean:.3f})"
