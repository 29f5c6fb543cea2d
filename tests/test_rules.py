"""ctsim.core.rules: every decision rule against hand-computed values and MODEL.md's formulas.

Values are worked out by hand in the comments, so a wrong operator, a swapped argument or a
wrong order of operations fails a test. Property tests (hypothesis) check that every
probability and trust value stays in [0, 1] for inputs in range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ctsim.core import rules

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
units = st.lists(unit, min_size=1, max_size=8)

# ---------------------------------------------------------------- step 2: collect


def test_detection_probability_is_rate_times_capacity_times_ai_gain():
    # 0.1 * 0.5 * (1 + 2.0 * 0.4) = 0.05 * 1.8 = 0.09
    assert rules.detection_probability(0.1, 0.5, 0.4, 2.0) == pytest.approx(0.09)


def test_detection_probability_ignores_tech_without_ai_boost():
    p = rules.detection_probability(0.2, [1.0, 0.5], [0.0, 1.0], 0.0)
    np.testing.assert_allclose(p, [0.2, 0.1])


def test_detection_probability_is_capped_at_one():
    # 0.5 * 1.0 * (1 + 3 * 1) = 2.0 -> 1; the second nation stays below the cap: 0.5 * 0.2 * 4
    p = rules.detection_probability(0.5, [1.0, 0.2], [1.0, 1.0], 3.0)
    np.testing.assert_allclose(p, [1.0, 0.4])


def test_detection_probability_broadcasts_over_nations():
    p = rules.detection_probability(0.1, np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.0, 0.0]),
                                    1.0)
    np.testing.assert_allclose(p, [0.0, 0.1, 0.1])
    assert p.shape == (3,)


# ---------------------------------------------------------------- step 3: share


def test_willingness_is_trust_times_one_minus_sovereignty_times_sensitivity():
    # 0.8 * (1 - 0.5 * 0.4) = 0.8 * 0.8 = 0.64
    assert rules.willingness(0.8, 0.5, 0.4) == pytest.approx(0.64)


def test_willingness_is_zero_for_full_sovereignty_on_a_fully_sensitive_fragment():
    assert rules.willingness(1.0, 1.0, 1.0) == pytest.approx(0.0)


def test_willingness_equals_trust_for_a_nation_without_sovereignty_concerns():
    np.testing.assert_allclose(rules.willingness([0.3, 0.9], 0.0, 1.0), [0.3, 0.9])


def test_legal_compatibility_without_treaty_is_family_times_definition_distance():
    # 0.6 * (1 - |0.2 - 0.7|) = 0.6 * 0.5 = 0.3
    c = rules.legal_compatibility(0.6, 0.2, 0.7, False, treaty_floor=0.6, harmonization=0.0)
    assert c == pytest.approx(0.3)


def test_legal_compatibility_treaty_raises_to_the_floor():
    c = rules.legal_compatibility(0.6, 0.2, 0.7, True, treaty_floor=0.6, harmonization=0.0)
    assert c == pytest.approx(0.6)


def test_legal_compatibility_treaty_floor_never_lowers_a_high_compatibility():
    # 1.0 * (1 - 0.1) = 0.9 stays above the 0.6 floor
    c = rules.legal_compatibility(1.0, 0.4, 0.5, True, treaty_floor=0.6, harmonization=0.0)
    assert c == pytest.approx(0.9)


def test_legal_compatibility_applies_the_floor_before_harmonization():
    # floor first: max(0.3, 0.6) = 0.6, then 0.6 + 0.5 * 0.4 = 0.8
    # (the other order would give 0.3 + 0.5 * 0.7 = 0.65, above the floor: 0.65)
    c = rules.legal_compatibility(0.6, 0.2, 0.7, True, treaty_floor=0.6, harmonization=0.5)
    assert c == pytest.approx(0.8)


def test_legal_compatibility_harmonization_raises_every_pair():
    # no treaty: 0.3 + 0.5 * (1 - 0.3) = 0.65; full harmonization makes every pair 1
    c = rules.legal_compatibility(0.6, 0.2, 0.7, False, treaty_floor=0.6, harmonization=0.5)
    assert c == pytest.approx(0.65)
    full = rules.legal_compatibility([0.0, 0.6], [0.0, 0.2], [1.0, 0.7], [False, True], 0.6, 1.0)
    np.testing.assert_allclose(full, [1.0, 1.0])


def test_legal_compatibility_broadcasts_to_a_matrix():
    defs = np.array([0.0, 0.5, 1.0])
    treaty = np.array([[False, True, False], [True, False, False], [False, False, False]])
    c = rules.legal_compatibility(np.ones((3, 3)), defs[:, None], defs[None, :], treaty, 0.8, 0.0)
    expected = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.5], [0.0, 0.5, 1.0]])
    np.testing.assert_allclose(c, expected)
    np.testing.assert_allclose(c, c.T)


@pytest.mark.parametrize(
    ("max_delay", "compatibility", "weeks"),
    [
        (8, 0.0, 8),  # no compatibility: the full delay
        (8, 1.0, 0),  # fully compatible: the same week
        (8, 0.5, 4),
        (8, 0.6875, 2),  # 8 * 0.3125 = 2.5 rounds half to even: 2
        (8, 0.5625, 4),  # 8 * 0.4375 = 3.5 rounds half to even: 4
        (10, 0.74, 3),  # 10 * 0.26 = 2.6 -> 3
        (0, 0.3, 0),
    ],
)
def test_mlat_delay_rounds_max_delay_times_incompatibility(max_delay, compatibility, weeks):
    d = rules.mlat_delay(max_delay, compatibility)
    assert int(d) == weeks
    assert np.asarray(d).dtype == np.int64


def test_mlat_delay_on_an_array():
    np.testing.assert_array_equal(rules.mlat_delay(8, [0.0, 0.25, 1.0]), [8, 6, 0])


def test_admissibility_is_compatibility_bilaterally():
    np.testing.assert_allclose(rules.admissibility([0.3, 0.9]), [0.3, 0.9])


def test_admissibility_through_a_hub_has_the_harmonization_floor():
    np.testing.assert_allclose(rules.admissibility([0.3, 0.9], 0.8), [0.8, 0.9])
    np.testing.assert_allclose(rules.admissibility([0.3, 0.3], [0.0, 0.5]), [0.3, 0.5])


# ---------------------------------------------------------------- step 4: leak


def test_leak_probability_is_rate_times_insecurity():
    # 0.2 * (1 - 0.75) = 0.05
    assert rules.leak_probability(0.2, 0.75) == pytest.approx(0.05)
    np.testing.assert_allclose(rules.leak_probability(0.3, [1.0, 0.0]), [0.0, 0.3])


def test_post_leak_probability_is_at_least_one_member_leaking():
    # 1 - 0.9 * 0.8 = 0.28
    p = rules.post_leak_probability([0.1, 0.2])
    np.testing.assert_allclose(np.ravel(p), [0.28])


def test_post_leak_probability_edge_cases():
    def one(q):
        return float(np.ravel(rules.post_leak_probability(q))[0])

    assert one([]) == 0.0  # nobody receives it
    assert one([0.0, 0.0]) == 0.0
    assert one([0.0, 1.0]) == 1.0
    assert one([0.5]) == pytest.approx(0.5)
    assert one([0.5, 0.5, 0.5]) == pytest.approx(0.875)


def test_post_leak_probability_per_post():
    # receivers 0, 1 belong to post 0, receiver 2 to post 1, post 2 has none:
    # 1 - 0.9 * 0.5 = 0.55, 0.2, 0
    p = rules.post_leak_probability([0.1, 0.5, 0.2], post=[0, 0, 1], n_posts=3)
    np.testing.assert_allclose(p, [0.55, 0.2, 0.0])


# ---------------------------------------------------------------- step 5: act


def test_interdiction_probability_is_interdiction_times_capacity():
    np.testing.assert_allclose(rules.interdiction_probability(0.8, [0.5, 1.0, 0.0]),
                               [0.4, 0.8, 0.0])


def test_trust_after_success_moves_toward_one():
    # 0.6 + 0.05 * 0.4 = 0.62
    assert rules.trust_after_success(0.6, 0.05) == pytest.approx(0.62)
    assert rules.trust_after_success(1.0, 0.05) == pytest.approx(1.0)
    assert rules.trust_after_success(0.0, 0.25) == pytest.approx(0.25)
    assert rules.trust_after_success(0.3, 0.0) == pytest.approx(0.3)


def test_trust_after_leak_loses_a_share_of_its_value():
    # 0.6 * (1 - 0.3) = 0.42: a share, not an absolute drop (0.6 - 0.3 = 0.3)
    assert rules.trust_after_leak(0.6, 0.3) == pytest.approx(0.42)
    assert rules.trust_after_leak(0.1, 0.3) == pytest.approx(0.07)
    assert rules.trust_after_leak(0.6, 1.0) == pytest.approx(0.0)


def test_trust_after_shock_loses_a_share_of_its_value():
    np.testing.assert_allclose(rules.trust_after_shock([0.5, 1.0], 0.2), [0.4, 0.8])


def test_trust_reversion_drifts_toward_initial_trust():
    # below: 0.2 + 0.01 * (0.6 - 0.2) = 0.204; above: 0.9 + 0.1 * (0.6 - 0.9) = 0.87
    assert rules.trust_reversion(0.2, 0.6, 0.01) == pytest.approx(0.204)
    assert rules.trust_reversion(0.9, 0.6, 0.1) == pytest.approx(0.87)
    assert rules.trust_reversion(0.9, 0.6, 1.0) == pytest.approx(0.6)
    assert rules.trust_reversion(0.9, 0.6, 0.0) == pytest.approx(0.9)


def test_initial_trust_is_full_inside_a_bloc_and_reduced_by_tension_across():
    # across blocs: 0.6 * (1 - 0.4) = 0.36
    t = rules.initial_trust([True, False], 0.6, 0.4)
    np.testing.assert_allclose(t, [0.6, 0.36])
    np.testing.assert_allclose(rules.initial_trust([True, False], 0.6, 0.0), [0.6, 0.6])
    np.testing.assert_allclose(rules.initial_trust([True, False], 0.6, 1.0), [0.6, 0.0])


def test_initial_hub_trust_is_lowered_by_rival_members():
    # 0.5 * (1 - 0.4 * 0.5) = 0.4; a hub of one bloc (rival share 0) keeps its trust
    np.testing.assert_allclose(rules.initial_hub_trust(0.5, 0.4, [0.5, 0.0, 1.0]),
                               [0.4, 0.5, 0.3])


def test_effective_sovereignty_drops_by_surge_only_while_surging():
    s = rules.effective_sovereignty([0.5, 0.5], 0.3, [True, False])
    np.testing.assert_allclose(s, [0.2, 0.5])


def test_effective_sovereignty_floors_at_zero():
    s = rules.effective_sovereignty([0.2, 0.0, 0.3], 0.3, [True, True, True])
    np.testing.assert_allclose(s, [0.0, 0.0, 0.0])
    assert (s >= 0).all()


# ---------------------------------------------------------------- step 6: prosecute


def test_extradition_probability_is_compatibility_with_a_treaty_and_zero_without():
    p = rules.extradition_probability([0.7, 0.7, 1.0], [True, False, False])
    np.testing.assert_allclose(p, [0.7, 0.0, 0.0])


def test_strength_after_disruption_loses_attrition_share():
    assert rules.strength_after_disruption(1.0, 0.2) == pytest.approx(0.8)
    assert rules.strength_after_disruption(0.5, 0.2) == pytest.approx(0.4)
    assert rules.strength_after_disruption(0.5, 0.0) == pytest.approx(0.5)


def test_strength_regrowth_moves_toward_one():
    # 0.5 + 0.1 * 0.5 = 0.55
    np.testing.assert_allclose(rules.strength_regrowth([0.5, 1.0, 0.0], 0.1), [0.55, 1.0, 0.1])


# ---------------------------------------------------------------- havens


def test_haven_safety_without_evidence_is_the_prior_one_minus_capacity():
    np.testing.assert_allclose(rules.haven_safety([0.25, 1.0, 0.0], 0, 0), [0.75, 0.0, 1.0])


def test_haven_safety_updates_with_outcomes():
    # prior 0.75 with weight 4: (0.75 * 4 + 0) / (4 + 4) = 3 / 8 after 4 disruptions
    assert rules.haven_safety(0.25, 0, 4) == pytest.approx(0.375)
    # (3 + 4) / 8 after 4 undisrupted plots
    assert rules.haven_safety(0.25, 4, 4) == pytest.approx(0.875)
    # prior weight 2: (0.5 * 2 + 1) / (2 + 2) = 0.5
    assert rules.haven_safety(0.5, 1, 2, prior_weight=2.0) == pytest.approx(0.5)


def test_haven_safety_converges_to_the_observed_undisrupted_share():
    assert rules.haven_safety(0.9, 9_000, 10_000) == pytest.approx(0.9, abs=1e-3)


def test_relocation_weights_are_safety_to_the_pull():
    np.testing.assert_allclose(rules.relocation_weights([0.5, 1.0], 2.0), [0.25, 1.0])
    np.testing.assert_allclose(rules.relocation_weights([0.1, 0.9], 0.0), [1.0, 1.0])


def test_relocation_weights_are_monotone_in_safety_and_sharpen_with_pull():
    safety = np.linspace(0.05, 1.0, 20)
    for pull in (0.5, 1.0, 4.0, 20.0):
        w = rules.relocation_weights(safety, pull)
        assert (np.diff(w) > 0).all()
    ratio = [rules.relocation_weights([0.8], p)[0] / rules.relocation_weights([0.4], p)[0]
             for p in (1.0, 2.0, 8.0)]
    assert ratio == pytest.approx([2.0, 4.0, 256.0])


def test_relocation_weights_stay_positive_and_finite_at_zero_safety():
    w = rules.relocation_weights([0.0, 0.5], 4.0)
    assert np.isfinite(w).all()
    assert w[0] >= 0
    assert w[0] < w[1]


# ---------------------------------------------------------------- outputs


@pytest.mark.parametrize("n", [1, 2, 4, 10])
def test_herfindahl_is_one_over_n_when_spread_evenly(n):
    assert rules.herfindahl([3] * n) == pytest.approx(1.0 / n)


def test_herfindahl_is_one_when_concentrated():
    assert rules.herfindahl([0, 7, 0, 0]) == pytest.approx(1.0)


def test_herfindahl_of_an_uneven_split():
    # shares 0.75, 0.25: 0.5625 + 0.0625
    assert rules.herfindahl([3, 1]) == pytest.approx(0.625)


def test_herfindahl_is_nan_when_empty():
    assert math.isnan(rules.herfindahl([]))
    assert math.isnan(rules.herfindahl([0, 0, 0]))


# ---------------------------------------------------------------- world draws


@pytest.mark.parametrize(("mean", "spread"), [(0.5, 0.2), (0.8, 0.1), (0.2, 0.1), (0.6, 0.15)])
def test_beta_parameters_give_the_requested_mean_and_sd(mean, spread):
    a, b = rules.beta_parameters(mean, spread)
    assert a > 0 and b > 0
    assert stats.beta(a, b).mean() == pytest.approx(mean)
    assert stats.beta(a, b).std() == pytest.approx(spread)


def test_beta_parameters_by_hand():
    # mean 0.5, sd 0.2: var_max 0.25, var 0.04, k = 0.25 / 0.04 - 1 = 5.25
    assert rules.beta_parameters(0.5, 0.2) == pytest.approx((2.625, 2.625))


def test_beta_parameters_none_for_a_constant():
    assert rules.beta_parameters(0.5, 0.0) is None
    assert rules.beta_parameters(0.0, 0.2) is None
    assert rules.beta_parameters(1.0, 0.2) is None


def test_beta_parameters_cap_a_spread_too_large_for_a_beta():
    # mean 0.5 allows sd < 0.5; asked 0.5, capped at 99% of the variance 0.25
    a, b = rules.beta_parameters(0.5, 0.5)
    assert a > 0 and b > 0
    assert stats.beta(a, b).mean() == pytest.approx(0.5)
    assert stats.beta(a, b).var() == pytest.approx(0.99 * 0.25)
    # mean 0.9 allows sd < 0.3
    a, b = rules.beta_parameters(0.9, 0.45)
    assert stats.beta(a, b).var() == pytest.approx(0.99 * 0.09)


# ---------------------------------------------------------------- properties


def in_unit(x) -> bool:
    x = np.asarray(x, float)
    return bool(((x >= 0.0) & (x <= 1.0)).all())


@settings(max_examples=150, deadline=None)
@given(rate=unit, capacity=units, tech=unit, boost=st.floats(0.0, 100.0))
def test_detection_probability_stays_in_unit_interval(rate, capacity, tech, boost):
    p = rules.detection_probability(rate, capacity, tech, boost)
    assert in_unit(p)
    assert (p >= rate * np.asarray(capacity) - 1e-12).all()  # AI never lowers detection


@settings(max_examples=150, deadline=None)
@given(trust=unit, sovereignty=unit, sensitivity=unit)
def test_willingness_stays_in_unit_interval_and_below_trust(trust, sovereignty, sensitivity):
    w = rules.willingness(trust, sovereignty, sensitivity)
    assert in_unit(w)
    assert w <= trust


@settings(max_examples=150, deadline=None)
@given(fam=unit, di=unit, dj=unit, treaty=st.booleans(), floor=unit, h=unit)
def test_legal_compatibility_stays_in_unit_interval(fam, di, dj, treaty, floor, h):
    c = rules.legal_compatibility(fam, di, dj, treaty, floor, h)
    assert in_unit(c)
    if treaty:
        assert c >= floor - 1e-12
    # harmonization never lowers compatibility
    assert c >= rules.legal_compatibility(fam, di, dj, treaty, floor, 0.0) - 1e-12
    assert 0 <= int(rules.mlat_delay(8, c)) <= 8


@settings(max_examples=150, deadline=None)
@given(c=unit, h=unit, rate=unit, security=units, q=st.lists(unit, max_size=8),
       interdiction=unit, capacity=units, treaty=st.booleans())
def test_sharing_probabilities_stay_in_unit_interval(c, h, rate, security, q, interdiction,
                                                     capacity, treaty):
    assert in_unit(rules.admissibility(c, h))
    assert rules.admissibility(c, h) >= rules.admissibility(c)
    assert in_unit(rules.leak_probability(rate, security))
    post = np.ravel(rules.post_leak_probability(q))
    assert len(post) == 1
    assert in_unit(post)
    assert post[0] >= max(q, default=0.0) - 1e-12
    assert in_unit(rules.interdiction_probability(interdiction, capacity))
    assert in_unit(rules.extradition_probability(c, treaty))


@settings(max_examples=200, deadline=None)
@given(t=unit, t0=unit, rate=unit)
def test_trust_updates_stay_in_unit_interval_and_move_the_right_way(t, t0, rate):
    up = rules.trust_after_success(t, rate)
    assert in_unit(up) and up >= t
    down = rules.trust_after_leak(t, rate)
    assert in_unit(down) and down <= t
    shocked = rules.trust_after_shock(t, rate)
    assert in_unit(shocked) and shocked <= t
    back = rules.trust_reversion(t, t0, rate)
    assert in_unit(back)
    assert min(t, t0) - 1e-12 <= back <= max(t, t0) + 1e-12  # never overshoots T0
    assert abs(back - t0) <= abs(t - t0) + 1e-12


@settings(max_examples=150, deadline=None)
@given(trust=unit, tension=unit, share=unit, same=st.booleans(), s=unit, surge=unit,
       surging=st.booleans())
def test_initial_trust_and_sovereignty_stay_in_unit_interval(trust, tension, share, same, s,
                                                             surge, surging):
    t0 = rules.initial_trust(same, trust, tension)
    assert in_unit(t0) and t0 <= trust
    ti0 = rules.initial_hub_trust(trust, tension, share)
    assert in_unit(ti0) and ti0 <= trust
    eff = rules.effective_sovereignty(s, surge, surging)
    assert in_unit(eff) and eff <= s


@settings(max_examples=150, deadline=None)
@given(strength=unit, rate=unit, capacity=unit, resolved=st.integers(0, 1000),
       frac=unit, weight=st.floats(0.1, 100.0))
def test_strength_and_haven_safety_stay_in_unit_interval(strength, rate, capacity, resolved,
                                                         frac, weight):
    assert 0.0 <= rules.strength_after_disruption(strength, rate) <= strength
    grown = rules.strength_regrowth(strength, rate)
    assert strength - 1e-12 <= grown <= 1.0
    undisrupted = math.floor(frac * resolved)
    assert in_unit(rules.haven_safety(capacity, undisrupted, resolved, weight))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30).filter(lambda c: sum(c) > 0))
def test_herfindahl_lies_between_one_over_n_and_one(counts):
    h = rules.herfindahl(counts)
    assert 1.0 / len(counts) - 1e-12 <= h <= 1.0 + 1e-12


@settings(max_examples=150, deadline=None)
@given(mean=st.floats(0.01, 0.99), frac=st.floats(0.01, 0.98))
def test_beta_parameters_match_mean_and_sd_below_the_cap(mean, frac):
    spread = frac * math.sqrt(mean * (1 - mean))  # sd below the cap at sqrt(0.99 var_max)
    a, b = rules.beta_parameters(mean, spread)
    assert a / (a + b) == pytest.approx(mean)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert sd == pytest.approx(spread)
