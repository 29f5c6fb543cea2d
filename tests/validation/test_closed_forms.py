"""Closed-form limiting cases of MODEL.md, reproduced by simulation.

With capacity 1, tech 0, interdiction 1, no leaks, no group dynamics, a fixed footprint of
``m`` nations, lead time ``D``, detection ``p`` and threshold ``theta``:

- regime none:        P(disrupt) = 1 - P(Binomial(D, p) < theta) ** m
- full cooperation:   P(disrupt) = P(Binomial(m * D, p) >= theta)
- anything between lies between those bounds.

Tolerance: the simulated rate must lie within 4 binomial standard errors of the closed
form (a false alarm about once in 16,000 checks); each point pools 10 runs of 70 weeks
with 10 plots a week (about 6,000 settled plots). Seeds are fixed, so the test is exact
to repeat.
"""

from __future__ import annotations

import pytest
from scipy.stats import binom

from ctsim import CooperationModel
from ctsim.core.scenario import scenario_from_dict
from ctsim.runs.seeds import replication_seeds

NAMES = ["Avalon", "Borduria", "Carpania", "Dravonia"]
Z_TOLERANCE = 4.0


def closed_none(m: int, D: int, p: float, theta: int) -> float:
    """MODEL.md: regime none, each nation alone."""
    return 1.0 - binom.cdf(theta - 1, D, p) ** m


def closed_full(m: int, D: int, p: float, theta: int) -> float:
    """MODEL.md: full cooperation, every fragment pooled at once."""
    return 1.0 - binom.cdf(theta - 1, m * D, p)


def limit_world(m, D, p, theta, regime, *, trust=1.0, defs=None, mlat=8, sovereignty=0.0,
                institutions=()):
    names = NAMES[:m]
    defs = defs or [0.5] * m
    return {
        "name": "limit", "steps": 70,
        "world": {"nations": [
            {"name": n, "capacity": 1.0, "sovereignty": sovereignty, "security": 1.0,
             "tech": 0.0, "legal_family": "civil", "definition": d, "bloc": "one",
             "region": "one"} for n, d in zip(names, defs, strict=True)]},
        "relations": {"trust": trust, "tension": 0.0, "treaties": "all"},
        "legal": {"mlat_delay": mlat, "treaty_floor": 0.0, "harmonization": 0.0},
        "cooperation": {"regime": regime, "institutions": list(institutions)},
        "trust_dynamics": {"learning_rate": 0.0, "leak_penalty": 0.0, "reversion": 0.0,
                           "shock_rate": 0.0},
        "threat": {"groups": 1, "plots_per_year": 520, "adaptive": False, "attrition": 0.0,
                   "regrowth": 0.0, "footprint": names, "lead_time": D, "detection_rate": p,
                   "ai_boost": 0.0, "sensitivity": 1.0, "evidence_threshold": theta,
                   "interdiction": 1.0, "leak_rate": 0.0, "surge": 0.0},
    }


def simulate(data: dict, runs: int = 10, seed: int = 99) -> tuple[float, float, int]:
    """Pooled disruption rate, its binomial standard error, and the plots it rests on."""
    scenario = scenario_from_dict(data)
    disrupted = attacks = 0
    for s in replication_seeds(seed, runs):
        model = CooperationModel(scenario, rng=s)
        for _ in range(scenario.steps):
            model.step()
        m = model.metrics()
        disrupted += m["disrupted"]
        attacks += m["attacks"]
    n = disrupted + attacks
    rate = disrupted / n
    return rate, (rate * (1 - rate) / n) ** 0.5, int(n)


POINTS = [(1, 10, 0.2, 2), (2, 8, 0.15, 2), (3, 10, 0.2, 3), (3, 12, 0.08, 4), (4, 6, 0.1, 1)]


@pytest.mark.parametrize(("m", "D", "p", "theta"), POINTS)
def test_no_cooperation_matches_the_closed_form(m, D, p, theta):
    rate, se, n = simulate(limit_world(m, D, p, theta, "none"))
    assert n > 4000
    assert abs(rate - closed_none(m, D, p, theta)) < Z_TOLERANCE * se


@pytest.mark.parametrize(("m", "D", "p", "theta"), POINTS)
def test_full_cooperation_matches_the_closed_form(m, D, p, theta):
    rate, se, n = simulate(limit_world(m, D, p, theta, "bilateral"))
    assert n > 4000
    assert abs(rate - closed_full(m, D, p, theta)) < Z_TOLERANCE * se


@pytest.mark.parametrize("regime", ["multilateral", "hybrid"])
def test_full_cooperation_through_a_hub_matches_the_closed_form(regime):
    """A hub with no latency, full harmonization and full trust pools fragments at once."""
    m, D, p, theta = 3, 10, 0.1, 3
    hub = [{"name": "hub", "members": "all", "latency": 0, "harmonization": 1.0, "trust": 1.0}]
    rate, se, _ = simulate(limit_world(m, D, p, theta, regime, institutions=hub))
    assert abs(rate - closed_full(m, D, p, theta)) < Z_TOLERANCE * se


@pytest.mark.parametrize(
    ("label", "barrier"),
    [
        ("half trust", {"trust": 0.5}),
        ("sovereignty", {"sovereignty": 0.7}),
        ("legal distance and MLAT delay", {"defs": [0.0, 0.5, 1.0], "mlat": 8}),
        ("slow hub", {"regime": "multilateral", "institutions": [
            {"name": "hub", "members": "all", "latency": 4, "harmonization": 0.5,
             "trust": 0.8}]}),
    ],
)
def test_partial_cooperation_lies_between_the_bounds(label, barrier):
    m, D, p, theta = 3, 10, 0.1, 3
    regime = barrier.pop("regime", "bilateral")
    rate, se, _ = simulate(limit_world(m, D, p, theta, regime, **barrier))
    low, high = closed_none(m, D, p, theta), closed_full(m, D, p, theta)
    assert low + Z_TOLERANCE * se < rate < high - Z_TOLERANCE * se, label
