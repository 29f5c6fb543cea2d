"""ctsim.core.rules: every decision rule against hand-computed values and MODEL.md's formulas.

Values are worked out by hand in the comments, so a wrong operator, a swapped argument or a
wrong order of operations fails a test. Property tests (hypothesis) check that every
probability and trust value stays in [0, 1] for inputs in range. The rules are compiled
(numba) functions of plain numbers; where the model applies a rule to many nations, the
tests call it once per nation, and a last test holds each compiled rule against its
pure-Python version (``rule.py_func``). The (N, N) footprint weights the phases build
from the scalar footprint rule are checked in tests/core/test_phases.py.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ctsim.core import rules, strategies

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def in_unit(x: float) -> bool:
    """Whether ``x`` is a number in [0, 1]."""
    return 0.0 <= x <= 1.0


def fold_leaks(q: list[float]) -> float:
    """The chance a post leaks through at least one receiver: either_leaks folded from 0."""
    return functools.reduce(rules.either_leaks, q, 0.0)


# ---------------------------------------------------------------- step 2: collect


def test_detection_probability_is_rate_times_capacity_times_ai_gain():
    # 0.1 * 0.5 * (1 + 2.0 * 0.4) = 0.05 * 1.8 = 0.09
    assert rules.detection_probability(0.1, 0.5, 0.4, 2.0) == pytest.approx(0.09)


def test_detection_probability_ignores_tech_without_ai_boost():
    # 0.2 * 1.0 * (1 + 0 * 0.0) = 0.2; 0.2 * 0.5 * (1 + 0 * 1.0) = 0.1
    for capacity, tech, expected in [(1.0, 0.0, 0.2), (0.5, 1.0, 0.1)]:
        assert rules.detection_probability(0.2, capacity, tech, 0.0) == pytest.approx(expected)


def test_detection_probability_is_capped_at_one():
    # 0.5 * 1.0 * (1 + 3 * 1) = 2.0 -> 1; a weaker nation stays below the cap: 0.5 * 0.2 * 4
    assert rules.detection_probability(0.5, 1.0, 1.0, 3.0) == 1.0
    assert rules.detection_probability(0.5, 0.2, 1.0, 3.0) == pytest.approx(0.4)


def test_detection_probability_of_each_nation_scales_with_its_capacity_and_tech():
    # 0.1 * 0.0 * 2 = 0; 0.1 * 0.5 * (1 + 1 * 1) = 0.1; 0.1 * 1.0 * (1 + 1 * 0) = 0.1
    capacity, tech = [0.0, 0.5, 1.0], [1.0, 1.0, 0.0]
    p = [rules.detection_probability(0.1, c, t, 1.0) for c, t in zip(capacity, tech, strict=True)]
    assert p == pytest.approx([0.0, 0.1, 0.1])


# ---------------------------------------------------------------- step 3: share


def test_willingness_is_trust_times_one_minus_sovereignty_times_sensitivity():
    # 0.8 * (1 - 0.5 * 0.4) = 0.8 * 0.8 = 0.64
    assert rules.willingness(0.8, 0.5, 0.4) == pytest.approx(0.64)
    # swapped trust and sovereignty: 0.5 * (1 - 0.8 * 0.4) = 0.34
    assert rules.willingness(0.5, 0.8, 0.4) == pytest.approx(0.34)


def test_willingness_is_zero_for_full_sovereignty_on_a_fully_sensitive_fragment():
    assert rules.willingness(1.0, 1.0, 1.0) == pytest.approx(0.0)


def test_willingness_equals_trust_for_a_nation_without_sovereignty_concerns():
    for trust in (0.3, 0.9):
        assert rules.willingness(trust, 0.0, 1.0) == pytest.approx(trust)


def test_effective_sovereignty_falls_with_the_salience_of_attacks():
    # 0.5 * (1 - 0.4 * S / (1 + S)): S = 0 -> 0.5; one fresh attack (S = 1) -> 0.4;
    # S = 3 -> 0.5 * (1 - 0.3) = 0.35; many attacks approach 0.5 * (1 - 0.4) = 0.3
    assert rules.effective_sovereignty(0.5, 0.4, 0.0) == 0.5
    assert rules.effective_sovereignty(0.5, 0.4, 1.0) == pytest.approx(0.4)
    assert rules.effective_sovereignty(0.5, 0.4, 3.0) == pytest.approx(0.35)
    assert rules.effective_sovereignty(0.5, 0.4, 1e9) == pytest.approx(0.3)
    assert rules.effective_sovereignty(0.5, 0.0, 5.0) == 0.5  # no surge


def test_salience_halves_in_a_half_life_and_adds_the_weeks_attacks():
    decay = 2.0 ** (-1.0 / 13.0)
    s = 1.0
    for _ in range(13):
        s = rules.salience_next_week(s, decay, 0)
    assert s == pytest.approx(0.5)
    assert rules.salience_next_week(0.5, decay, 2) == pytest.approx(0.5 * decay + 2)
    assert rules.in_surge(0.5) and not rules.in_surge(0.49)


def test_legal_compatibility_without_treaty_is_family_times_definition_distance():
    # 0.6 * (1 - |0.2 - 0.7|) = 0.6 * 0.5 = 0.3
    c = rules.legal_compatibility(0.6, 0.2, 0.7, False, 0.6, 0.0)
    assert c == pytest.approx(0.3)
    # the distance is symmetric: |0.7 - 0.2| gives the same
    assert rules.legal_compatibility(0.6, 0.7, 0.2, False, 0.6, 0.0) == pytest.approx(0.3)


def test_legal_compatibility_treaty_raises_to_the_floor():
    c = rules.legal_compatibility(0.6, 0.2, 0.7, True, 0.6, 0.0)
    assert c == pytest.approx(0.6)


def test_legal_compatibility_treaty_floor_never_lowers_a_high_compatibility():
    # 1.0 * (1 - 0.1) = 0.9 stays above the 0.6 floor
    c = rules.legal_compatibility(1.0, 0.4, 0.5, True, 0.6, 0.0)
    assert c == pytest.approx(0.9)


def test_legal_compatibility_applies_the_floor_before_harmonization():
    # floor first: max(0.3, 0.6) = 0.6, then 0.6 + 0.5 * 0.4 = 0.8
    # (the other order would give 0.3 + 0.5 * 0.7 = 0.65, above the floor: 0.65)
    c = rules.legal_compatibility(0.6, 0.2, 0.7, True, 0.6, 0.5)
    assert c == pytest.approx(0.8)


def test_legal_compatibility_harmonization_raises_every_pair():
    # no treaty: 0.3 + 0.5 * (1 - 0.3) = 0.65; full harmonization makes every pair 1
    c = rules.legal_compatibility(0.6, 0.2, 0.7, False, 0.6, 0.5)
    assert c == pytest.approx(0.65)
    for fam, di, dj, treaty in [(0.0, 0.0, 1.0, False), (0.6, 0.2, 0.7, True)]:
        assert rules.legal_compatibility(fam, di, dj, treaty, 0.6, 1.0) == pytest.approx(1.0)


def test_legal_compatibility_of_every_pair_of_a_small_world():
    # definitions 0, 0.5, 1 and one treaty (0-1) with floor 0.8:
    # c[0, 1] = max(1 - 0.5, 0.8) = 0.8, c[0, 2] = 1 - 1 = 0, c[1, 2] = 1 - 0.5 = 0.5
    defs = [0.0, 0.5, 1.0]
    treaty = [[False, True, False], [True, False, False], [False, False, False]]
    c = np.array([[rules.legal_compatibility(1.0, defs[i], defs[j], treaty[i][j], 0.8, 0.0)
                   for j in range(3)] for i in range(3)])
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
    assert d == weeks
    assert isinstance(d, int)


def test_mlat_delay_for_several_compatibilities():
    # 8 * (1 - 0) = 8, 8 * (1 - 0.25) = 6, 8 * (1 - 1) = 0
    assert [rules.mlat_delay(8, c) for c in (0.0, 0.25, 1.0)] == [8, 6, 0]


def test_admissibility_is_compatibility_bilaterally():
    # bilateral deliveries pass no floor (0.0)
    for c in (0.3, 0.9):
        assert rules.admissibility(c, 0.0) == pytest.approx(c)


def test_admissibility_through_a_hub_has_the_harmonization_floor():
    # max(0.3, 0.8) = 0.8, max(0.9, 0.8) = 0.9, max(0.3, 0.5) = 0.5
    assert rules.admissibility(0.3, 0.8) == pytest.approx(0.8)
    assert rules.admissibility(0.9, 0.8) == pytest.approx(0.9)
    assert rules.admissibility(0.3, 0.5) == pytest.approx(0.5)


# ---------------------------------------------------------------- step 4: leak


def test_leak_probability_is_rate_times_insecurity():
    # 0.2 * (1 - 0.75) = 0.05; full security never leaks, none leaks at the rate
    assert rules.leak_probability(0.2, 0.75) == pytest.approx(0.05)
    assert rules.leak_probability(0.3, 1.0) == pytest.approx(0.0)
    assert rules.leak_probability(0.3, 0.0) == pytest.approx(0.3)


def test_either_leaks_is_at_least_one_of_two_leaking():
    # 1 - (1 - 0.1) * (1 - 0.2) = 1 - 0.72 = 0.28 (not 0.1 + 0.2 = 0.3, nor 0.1 * 0.2)
    assert rules.either_leaks(0.1, 0.2) == pytest.approx(0.28)


def test_either_leaks_from_zero_over_one_receiver_is_its_leak_probability():
    for q in (0.0, 0.05, 0.5, 1.0):
        assert rules.either_leaks(0.0, q) == pytest.approx(q)
        assert fold_leaks([q]) == pytest.approx(q)


def test_either_leaks_folded_over_receivers_is_one_minus_the_product():
    # 1 - 0.9 * 0.7 * 0.4 = 1 - 0.252 = 0.748
    assert fold_leaks([0.1, 0.3, 0.6]) == pytest.approx(0.748)
    assert fold_leaks([0.1, 0.3, 0.6]) == pytest.approx(1 - np.prod([0.9, 0.7, 0.4]))


def test_either_leaks_folded_edge_cases():
    assert fold_leaks([]) == 0.0  # nobody receives it
    assert fold_leaks([0.0, 0.0]) == 0.0
    assert fold_leaks([0.0, 1.0]) == 1.0
    assert fold_leaks([1.0, 0.3]) == 1.0
    assert fold_leaks([0.5, 0.5, 0.5]) == pytest.approx(0.875)


def test_either_leaks_does_not_depend_on_the_order_of_the_receivers():
    q = [0.1, 0.3, 0.6]
    for order in itertools.permutations(q):
        assert fold_leaks(list(order)) == pytest.approx(0.748)
    assert rules.either_leaks(0.25, 0.4) == pytest.approx(rules.either_leaks(0.4, 0.25))


def test_either_leaks_per_post():
    # post 0 reaches receivers leaking 0.1 and 0.5, post 1 one leaking 0.2, post 2 none:
    # 1 - 0.9 * 0.5 = 0.55, 0.2, 0
    posts = [[0.1, 0.5], [0.2], []]
    assert [fold_leaks(q) for q in posts] == pytest.approx([0.55, 0.2, 0.0])


# ---------------------------------------------------------------- step 5: act


def test_interdiction_probability_is_interdiction_times_capacity():
    # 0.8 * 0.5 = 0.4, 0.8 * 1 = 0.8, 0.8 * 0 = 0
    p = [rules.interdiction_probability(0.8, c) for c in (0.5, 1.0, 0.0)]
    assert p == pytest.approx([0.4, 0.8, 0.0])


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
    # 0.5 * 0.8 = 0.4, 1.0 * 0.8 = 0.8
    assert [rules.trust_after_shock(t, 0.2) for t in (0.5, 1.0)] == pytest.approx([0.4, 0.8])


def test_trust_reversion_drifts_toward_initial_trust():
    # below: 0.2 + 0.01 * (0.6 - 0.2) = 0.204; above: 0.9 + 0.1 * (0.6 - 0.9) = 0.87
    assert rules.trust_reversion(0.2, 0.6, 0.01) == pytest.approx(0.204)
    assert rules.trust_reversion(0.9, 0.6, 0.1) == pytest.approx(0.87)
    assert rules.trust_reversion(0.9, 0.6, 1.0) == pytest.approx(0.6)
    assert rules.trust_reversion(0.9, 0.6, 0.0) == pytest.approx(0.9)


def test_initial_trust_is_full_inside_a_bloc_and_reduced_by_tension_across():
    # across blocs: 0.6 * (1 - 0.4) = 0.36
    assert rules.initial_trust(True, 0.6, 0.4) == pytest.approx(0.6)
    assert rules.initial_trust(False, 0.6, 0.4) == pytest.approx(0.36)
    for same in (True, False):
        assert rules.initial_trust(same, 0.6, 0.0) == pytest.approx(0.6)
    assert rules.initial_trust(False, 0.6, 1.0) == pytest.approx(0.0)
    assert rules.initial_trust(True, 0.6, 1.0) == pytest.approx(0.6)


def test_initial_hub_trust_is_lowered_by_rival_members():
    # 0.5 * (1 - 0.4 * 0.5) = 0.4; a hub of one bloc (rival share 0) keeps its trust;
    # all rivals: 0.5 * (1 - 0.4) = 0.3
    t = [rules.initial_hub_trust(0.5, 0.4, share) for share in (0.5, 0.0, 1.0)]
    assert t == pytest.approx([0.4, 0.5, 0.3])


# ---------------------------------------------------------------- step 6: prosecute


def test_extradition_probability_is_compatibility_with_a_treaty_and_zero_without():
    assert rules.extradition_probability(0.7, True) == pytest.approx(0.7)
    assert rules.extradition_probability(0.7, False) == 0.0
    assert rules.extradition_probability(1.0, False) == 0.0


def test_strength_after_disruption_loses_attrition_share():
    assert rules.strength_after_disruption(1.0, 0.2) == pytest.approx(0.8)
    assert rules.strength_after_disruption(0.5, 0.2) == pytest.approx(0.4)
    assert rules.strength_after_disruption(0.5, 0.0) == pytest.approx(0.5)


def test_strength_regrowth_moves_toward_one():
    # 0.5 + 0.1 * 0.5 = 0.55; 1 stays 1; 0 + 0.1 * 1 = 0.1
    grown = [rules.strength_regrowth(s, 0.1) for s in (0.5, 1.0, 0.0)]
    assert grown == pytest.approx([0.55, 1.0, 0.1])


# ---------------------------------------------------------------- havens


def test_haven_safety_without_evidence_is_the_prior_one_minus_capacity():
    safety = [rules.haven_safety(c, 0, 0) for c in (0.25, 1.0, 0.0)]
    assert safety == pytest.approx([0.75, 0.0, 1.0])


def test_haven_safety_updates_with_outcomes():
    # prior 0.75 with weight 4: (0.75 * 4 + 0) / (4 + 4) = 3 / 8 after 4 disruptions
    assert rules.haven_safety(0.25, 0, 4) == pytest.approx(0.375)
    # (3 + 4) / 8 after 4 undisrupted plots
    assert rules.haven_safety(0.25, 4, 4) == pytest.approx(0.875)
    # prior weight 2: (0.5 * 2 + 1) / (2 + 2) = 0.5
    assert rules.haven_safety(0.5, 1, 2, prior_weight=2.0) == pytest.approx(0.5)
    # 1 undisrupted of 3 resolved: (0.75 * 4 + 1) / (4 + 3) = 4 / 7
    # (undisrupted and resolved swapped would give (3 + 3) / (4 + 1) = 1.2)
    assert rules.haven_safety(0.25, 1, 3) == pytest.approx(4 / 7)


def test_haven_safety_converges_to_the_observed_undisrupted_share():
    assert rules.haven_safety(0.9, 9_000, 10_000) == pytest.approx(0.9, abs=1e-3)


def test_relocation_weight_is_safety_to_the_pull():
    # 0.5 ** 2 = 0.25, 1 ** 2 = 1; pull 0 weighs every nation 1
    assert rules.relocation_weight(0.5, 2.0) == pytest.approx(0.25)
    assert rules.relocation_weight(1.0, 2.0) == pytest.approx(1.0)
    assert rules.relocation_weight(0.1, 0.0) == pytest.approx(1.0)
    assert rules.relocation_weight(0.9, 0.0) == pytest.approx(1.0)
    # not pull ** safety: 2 ** 0.5 = 1.41
    assert rules.relocation_weight(0.25, 0.5) == pytest.approx(0.5)


def test_relocation_weight_is_monotone_in_safety_and_sharpens_with_pull():
    safety = np.linspace(0.05, 1.0, 20)
    for pull in (0.5, 1.0, 4.0, 20.0):
        w = [rules.relocation_weight(s, pull) for s in safety]
        assert (np.diff(w) > 0).all()
    ratio = [rules.relocation_weight(0.8, p) / rules.relocation_weight(0.4, p)
             for p in (1.0, 2.0, 8.0)]
    assert ratio == pytest.approx([2.0, 4.0, 256.0])


def test_relocation_weight_clips_safety_to_between_1e_12_and_one():
    # 0 is floored at 1e-12: 1e-12 ** 4 = 1e-48, positive and finite; never 0 ** 0
    w0 = rules.relocation_weight(0.0, 4.0)
    assert math.isfinite(w0)
    assert w0 == pytest.approx(1e-48)
    assert 0.0 < w0 < rules.relocation_weight(0.5, 4.0)
    assert rules.relocation_weight(-0.5, 1.0) == pytest.approx(1e-12)
    assert rules.relocation_weight(0.0, 0.0) == 1.0
    # above 1 is capped at 1: 1 ** 2, not 1.5 ** 2 = 2.25
    assert rules.relocation_weight(1.5, 2.0) == pytest.approx(1.0)


# ---------------------------------------------------------------- step 1: spawn (A1)


def test_a_plot_is_transnational_with_the_share_itself_and_domestic_otherwise():
    # the spawn phase makes a plot domestic when its draw is at or above this chance; a
    # rule computing 1 - (1 - s) would give 0.09999999999999998 for 0.1
    for share in (0.0, 0.1, 0.3, 1.0):
        assert rules.transnational_probability(share) == share
    # at the default 1 no draw in [0, 1) makes a plot domestic
    draws = np.random.default_rng(7).random(100_000)
    assert not (draws >= rules.transnational_probability(1.0)).any()
    # at 0.3, 1 - 0.3 of the plots are domestic (sd of the share: 0.0014)
    domestic = (draws >= rules.transnational_probability(0.3)).mean()
    assert domestic == pytest.approx(0.7, abs=0.006)


# ---------------------------------------------------------------- footprints (locality)


def test_footprint_weight_puts_locality_on_the_base_region_and_the_rest_on_everyone():
    # 7 nations; the base has 2 others in its region; locality 0.6:
    # same region 0.6 / 2 + 0.4 / 6 = 0.3667, elsewhere 0.4 / 6 = 0.0667
    assert rules.footprint_weight(True, 2, 7, 0.6) == pytest.approx(0.6 / 2 + 0.4 / 6)
    assert rules.footprint_weight(False, 2, 7, 0.6) == pytest.approx(0.4 / 6)
    # 3 others in its region: 0.6 / 3 + 0.4 / 6 = 0.2667
    assert rules.footprint_weight(True, 3, 7, 0.6) == pytest.approx(0.6 / 3 + 0.4 / 6)
    # region size and nations swapped would give 0.6 / 7 + 0.4 / 1
    assert rules.footprint_weight(True, 2, 7, 0.6) < 0.4


def test_footprint_weight_without_locality_is_uniform_over_the_other_nations():
    for same, m in [(True, 2), (False, 2), (True, 5), (False, 0)]:
        assert rules.footprint_weight(same, m, 7, 0.0) == pytest.approx(1 / 6)


def test_footprint_weight_of_a_base_alone_in_its_region_sends_its_whole_share_abroad():
    # no other nation in the base's region: locality counts for nothing, 1 / (4 - 1)
    assert rules.footprint_weight(False, 0, 4, 0.9) == pytest.approx(1 / 3)
    # with full locality, the other regions weigh 0 once the region has others
    assert rules.footprint_weight(False, 2, 4, 1.0) == 0.0
    assert rules.footprint_weight(True, 2, 4, 1.0) == pytest.approx(0.5)


# ---------------------------------------------------------------- outputs


@pytest.mark.parametrize("n", [1, 2, 4, 10])
def test_herfindahl_is_one_over_n_when_spread_evenly(n):
    assert rules.herfindahl(np.full(n, 3.0)) == pytest.approx(1.0 / n)


def test_herfindahl_is_one_when_concentrated():
    assert rules.herfindahl(np.array([0.0, 7.0, 0.0, 0.0])) == pytest.approx(1.0)


def test_herfindahl_of_an_uneven_split():
    # shares 0.75, 0.25: 0.5625 + 0.0625
    assert rules.herfindahl(np.array([3.0, 1.0])) == pytest.approx(0.625)


def test_herfindahl_is_nan_when_empty():
    assert math.isnan(rules.herfindahl(np.zeros(0)))
    assert math.isnan(rules.herfindahl(np.zeros(3)))


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


# ---------------------------------------------------------------- compiled = Python


#: Each compiled rule with a few inputs in range, for the comparison with ``rule.py_func``.
PY_FUNC_CASES = {
    "bilateral_channel": [(True, True, False), (True, False, False), (True, False, True),
                          (False, True, True)],
    "detection_probability": [(0.1, 0.5, 0.4, 2.0), (0.5, 1.0, 1.0, 3.0), (0.3, 0.0, 0.7, 1.0)],
    "willingness": [(0.8, 0.5, 0.4), (1.0, 1.0, 1.0), (0.37, 0.12, 0.93)],
    "effective_sovereignty": [(0.5, 0.3, 1.0), (0.5, 0.3, 0.0), (0.2, 0.3, 7.5)],
    "salience_next_week": [(1.0, 0.95, 0), (0.3, 0.5, 2), (4.2, 0.99, 1)],
    "in_surge": [(0.5,), (0.2,), (3.0,)],
    "detection_with_burnt_sources": [(0.3, 0.8), (0.3, 0.0), (0.77, 1.0)],
    "exposure_leak_probability": [(0.3, 0.2), (0.0, 0.5), (1.0, 0.41)],
    "attack_failure_probability": [(0.5, 0.6), (0.0, 1.0), (0.37, 0.93)],
    "defence_after_resolution": [(0.0, 0.1, True), (0.5, 0.1, False), (0.8, 1.0, True)],
    "adapted_target_weight": [(1.0, 0.5, 2.0), (2.0, 0.0, 3.0), (0.7, 1.0, 0.0)],
    "legal_compatibility": [(0.6, 0.2, 0.7, True, 0.6, 0.5), (0.6, 0.2, 0.7, False, 0.6, 0.5),
                            (0.93, 0.81, 0.17, True, 0.35, 0.0)],
    "mlat_delay": [(8, 0.6875), (8, 0.5625), (10, 0.74), (12, 0.0)],
    "admissibility": [(0.3, 0.0), (0.3, 0.8), (0.9, 0.8)],
    "leak_probability": [(0.2, 0.75), (0.3, 1.0), (0.07, 0.33)],
    "either_leaks": [(0.0, 0.3), (0.1, 0.2), (0.55, 1.0)],
    "trust_after_leak": [(0.6, 0.3), (0.1, 0.3), (0.77, 1.0)],
    "interdiction_probability": [(0.8, 0.5), (0.8, 0.0), (0.31, 0.97)],
    "trust_after_success": [(0.6, 0.05), (1.0, 0.05), (0.13, 0.41)],
    "extradition_probability": [(0.7, True), (0.7, False), (0.123, True)],
    "strength_after_disruption": [(1.0, 0.2), (0.5, 0.0), (0.83, 0.17)],
    "trust_reversion": [(0.2, 0.6, 0.01), (0.9, 0.6, 0.1), (0.41, 0.59, 0.73)],
    "trust_after_shock": [(0.5, 0.2), (1.0, 1.0), (0.66, 0.29)],
    "strength_regrowth": [(0.5, 0.1), (1.0, 0.1), (0.07, 0.93)],
    "haven_safety": [(0.25, 0, 4), (0.25, 4, 4), (0.5, 1, 2, 2.0), (0.9, 9_000, 10_000)],
    "relocation_weight": [(0.5, 2.0), (0.0, 4.0), (0.83, 7.5), (1.5, 2.0)],
    "footprint_weight": [(True, 2, 7, 0.6), (False, 2, 7, 0.6), (False, 0, 4, 0.9),
                         (True, 3, 48, 0.25)],
    "transnational_probability": [(1.0,), (0.3,), (0.0,), (0.1,)],
    "initial_trust": [(True, 0.6, 0.4), (False, 0.6, 0.4), (False, 0.91, 0.37)],
    "initial_hub_trust": [(0.5, 0.4, 0.5), (0.5, 0.4, 0.0), (0.88, 0.63, 0.27)],
    "herfindahl": [(np.array([3.0, 1.0]),), (np.array([0.0, 7.0, 0.0]),),
                   (np.array([2.0, 5.0, 11.0, 1.0]),), (np.zeros(0),)],
    "financial_detection_probability": [(0.04, 0.6), (0.0, 0.9), (0.3, 0.77)],
    "funds_after_freeze": [(1.0, 0.5), (0.37, 0.25), (0.9, 0.0)],
    "screening_probability": [(0.3, 0.8, True, 0.5), (0.3, 0.8, False, 0.5),
                              (0.7, 0.33, False, 0.9)],
    "online_trace_probability": [(0.0,), (0.4,), (0.93,)],
    "provider_record_probability": [(0.0,), (0.25,), (0.77,)],
    "direct_access": [(True, True), (True, False), (False, True), (False, False)],
    "privacy_admissibility": [(0.8, 0.5, 0.9, 0.1), (0.8, 0.5, 0.1, 0.9), (0.61, 0.3, 0.7, 0.2)],
    "tie_up_factor": [(0.2, 0), (0.2, 3), (0.3, 7), (0.15, 2)],
    "capacity_after_training": [(0.3, 0.01, 0.7), (0.8, 0.01, 0.7), (0.7, 0.5, 0.7),
                                (0.12, 0.03, 0.65)],
    "toward": [(0.2, 0.1, 1.0), (0.9, 0.05, 0.5), (0.5, 0.0, 0.1)],
    "treaty_formation_probability": [(0.01, 0.7, 0.6, 2.0, 0.0, 0.0),
                                     (0.01, 0.7, 0.6, 2.0, 1.5, 0.3),
                                     (0.5, 1.0, 1.0, 10.0, 3.0, 3.0)],
    "accession_probability": [(0.02, 1, 4), (0.02, 0, 4), (0.02, 3, 0), (0.5, 2, 2)],
    "strategy_willingness": [(k, 0.6, 0.5, 0.4, act, grudge, 0.3) for k in range(6)
                             for act, grudge in ((0, False), (2, True), (1, True))],
    "staked_willingness": [(0.8, 0.3, True), (0.8, 0.3, False), (0.55, 1.0, False)],
    "ceded_sovereignty": [(0.5, 0.2), (0.0, 1.0), (0.9, 0.0)],
    "monitored_leak_probability": [(0.1, 0.5), (0.3, 0.0), (0.07, 1.0)],
    "monitored_trust_floor": [(0.6, 0.5), (0.36, 0.0), (0.2, 1.0)],
    "trust_after_withholding": [(0.6, 0.3), (0.9, 0.0), (0.41, 1.0)],
    "imitation_probability": [(0.6, 0.4, 5.0), (0.4, 0.6, 5.0), (0.5, 0.5, 0.0),
                              (0.9, 0.1, 1000.0)],
    "deflected_target_weight": [(1.0, 0.5, 2.0), (0.7, 0.0, 3.0), (2.0, 1.0, 1.0),
                                (1.3, 0.4, 0.0)],
    "protection_after_year": [(0.2, 0, 0.5), (0.2, 3, 0.5), (0.9, 10, 1.0), (0.5, 1, 0.0)],
    "convicts": [(2, 4, 0.5), (1, 4, 0.5), (0, 0, 0.5), (3, 3, 1.0)],
    "liaison_open": [(0.6, 0.5), (0.5, 0.5), (0.49, 0.5)],
    "noticed_screening_probability": [(0.2,), (0.6,), (0.0,)],
    "exposure_averse_willingness": [(0.8, 0.5, 0.4, 2.0), (0.8, 0.9, 3.0, 1.0),
                                    (0.6, 0.3, 0.2, 0.0)],
    "leak_source_loss": [(0.5, 0.2, True), (0.5, 0.2, False), (0.8, 1.0, True)],
    "accelerated_lead": [(3, 10), (3, 4), (5, 5), (0, 7)],
    "reach_probability": [(0.02, 0.5, 0.8), (1.0, 1.0, 1.0), (0.0, 0.7, 0.5)],
    "simple_plot_probability": [(0.0, 5.0, 0.5, 0.1), (1.0, 2.0, 0.1, 0.9),
                                (0.2, 0.0, 0.3, 0.3), (0.2, 4.0, 0.6, 0.1)],
    "simple_detection_probability": [(0.1, 0.3), (0.5, 1.0), (0.37, 0.0)],
}


# ---------------------------------------------------------------- D: matching the sources


def test_hardened_targets_weigh_less_and_protection_follows_last_years_attacks():
    assert rules.deflected_target_weight(1.0, 0.5, 2.0) == pytest.approx(0.25)
    assert rules.deflected_target_weight(1.0, 0.5, 0.0) == 1.0  # off: no deflection
    assert rules.protection_after_year(0.2, 3, 0.5) == pytest.approx(0.2 + 0.5 * (0.75 - 0.2))
    assert rules.protection_after_year(0.6, 0, 0.5) == pytest.approx(0.3)  # lapses


def test_a_conviction_needs_its_share_of_admissible_evidence():
    assert rules.convicts(2, 4, 0.5) and not rules.convicts(1, 4, 0.5)
    assert not rules.convicts(0, 0, 0.0)  # no evidence, no conviction


def test_exposure_aversion_and_leaks_scale_with_sensitivity():
    assert rules.exposure_averse_willingness(0.8, 0.5, 0.4, 2.0) == pytest.approx(
        0.8 * 0.8 ** 2)
    assert rules.exposure_averse_willingness(0.8, 0.5, 7.0, 1.0) == pytest.approx(0.4)  # x<=1
    assert rules.leak_source_loss(0.5, 0.2, True) == pytest.approx(0.1)
    assert rules.leak_source_loss(0.5, 0.2, False) == 0.5


def test_a_hurried_plot_keeps_half_its_remaining_weeks_rounded_up():
    assert rules.accelerated_lead(3, 10) == 7
    assert rules.accelerated_lead(3, 4) == 4
    assert rules.accelerated_lead(5, 5) == 5


def test_groups_turn_to_simple_plots_when_complex_ones_are_stopped_more():
    assert rules.simple_plot_probability(0.0, 5.0, 0.9, 0.0) == 0.0
    assert rules.simple_plot_probability(1.0, 5.0, 0.0, 0.9) == 1.0
    assert rules.simple_plot_probability(0.2, 0.0, 0.9, 0.1) == pytest.approx(0.2)
    assert rules.simple_plot_probability(0.2, 4.0, 0.6, 0.1) == pytest.approx(
        1 / (1 + math.exp(-(math.log(0.25) + 2.0))))


# ---------------------------------------------------------------- C: nations that decide

ALWAYS, NEVER, RECIPROCAL, FORGIVING, GRUDGING = (
    strategies.NAMES.index(n) for n in ("always", "never", "reciprocal", "forgiving",
                                        "grudging"))


def test_trusting_is_the_v1_rule_and_ignores_what_the_partner_did():
    for act, grudge in ((0, False), (2, True)):
        assert rules.strategy_willingness(0, 0.6, 0.5, 0.4, act, grudge, 0.3) == \
            rules.willingness(0.6, 0.5, 0.4) == pytest.approx(0.48)


def test_each_strategy_answers_a_defection_as_c3_says():
    base = 1 - 0.5 * 0.4  # 1 - sovereignty * s, whatever the trust
    after = {k: rules.strategy_willingness(k, 0.6, 0.5, 0.4, strategies.DEFECTED, True, 0.3)
             for k in (ALWAYS, NEVER, RECIPROCAL, FORGIVING, GRUDGING)}
    assert after == {ALWAYS: pytest.approx(base), NEVER: 0.0, RECIPROCAL: 0.0,
                     FORGIVING: pytest.approx(0.3 * base), GRUDGING: 0.0}


def test_reciprocity_forgives_a_partner_that_shared_again_but_a_grudge_does_not():
    shared_since = (strategies.SHARED, True)  # defected once, then shared again
    assert rules.strategy_willingness(RECIPROCAL, 0.1, 0.5, 0.4, *shared_since, 0.3) == \
        pytest.approx(0.8)
    assert rules.strategy_willingness(FORGIVING, 0.1, 0.5, 0.4, *shared_since, 0.3) == \
        pytest.approx(0.8)
    assert rules.strategy_willingness(GRUDGING, 0.1, 0.5, 0.4, *shared_since, 0.3) == 0.0


def test_a_stake_scales_only_a_non_target_senders_willingness():
    assert rules.staked_willingness(0.8, 0.25, True) == 0.8
    assert rules.staked_willingness(0.8, 0.25, False) == pytest.approx(0.2)


def test_a_client_is_more_guarded_and_a_monitored_patron_trusts_more():
    assert rules.ceded_sovereignty(0.4, 0.5) == pytest.approx(0.7)
    assert rules.monitored_leak_probability(0.2, 0.75) == pytest.approx(0.05)
    assert rules.monitored_trust_floor(0.36, 0.5) == pytest.approx(0.68)


def test_the_fermi_rule_favours_the_better_partner_and_is_a_coin_without_selection():
    assert rules.imitation_probability(0.5, 0.5, 5.0) == 0.5
    assert rules.imitation_probability(0.9, 0.1, 0.0) == 0.5
    better = rules.imitation_probability(0.7, 0.5, 5.0)
    assert better == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert rules.imitation_probability(0.5, 0.7, 5.0) == pytest.approx(1 - better)


def test_a_bilateral_channel_needs_the_regime_and_a_treaty_or_ad_hoc_sharing():
    assert rules.bilateral_channel(True, True, False)
    assert not rules.bilateral_channel(True, False, False)
    assert rules.bilateral_channel(True, False, True)
    assert not rules.bilateral_channel(False, True, True)
    treaty = np.array([[False, True], [True, False]])
    assert rules.bilateral_channel(True, treaty, False).tolist() == treaty.tolist()
    assert rules.bilateral_channel(True, treaty, True).all()


def test_every_compiled_rule_has_a_py_func_case():
    compiled = {name for name, f in vars(rules).items() if hasattr(f, "py_func")}
    assert compiled == set(PY_FUNC_CASES)


@pytest.mark.parametrize("name", sorted(PY_FUNC_CASES))
def test_each_compiled_rule_gives_the_same_value_as_its_python_version(name):
    rule = getattr(rules, name)
    for args in PY_FUNC_CASES[name]:
        compiled, python = rule(*args), rule.py_func(*args)
        if isinstance(python, float) and math.isnan(python):
            assert math.isnan(compiled), (name, args)
        else:
            assert compiled == pytest.approx(python, rel=1e-15, abs=0.0), (name, args)
        assert isinstance(compiled, int) == isinstance(python, int), (name, args)


# ---------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(rate=unit, capacity=unit, tech=unit, boost=st.floats(0.0, 100.0))
def test_detection_probability_stays_in_unit_interval(rate, capacity, tech, boost):
    p = rules.detection_probability(rate, capacity, tech, boost)
    assert in_unit(p)
    assert p >= rate * capacity - 1e-12  # AI never lowers detection


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
    assert 0 <= rules.mlat_delay(8, c) <= 8


@settings(max_examples=150, deadline=None)
@given(c=unit, h=unit, rate=unit, security=unit, interdiction=unit, capacity=unit,
       treaty=st.booleans())
def test_sharing_probabilities_stay_in_unit_interval(c, h, rate, security, interdiction,
                                                     capacity, treaty):
    assert in_unit(rules.admissibility(c, h))
    assert rules.admissibility(c, h) >= rules.admissibility(c, 0.0)
    assert in_unit(rules.leak_probability(rate, security))
    assert in_unit(rules.interdiction_probability(interdiction, capacity))
    assert in_unit(rules.extradition_probability(c, treaty))


@settings(max_examples=150, deadline=None)
@given(q=st.lists(unit, max_size=8))
def test_either_leaks_folded_stays_in_unit_interval_and_is_one_minus_the_product(q):
    post = fold_leaks(q)
    assert in_unit(post)
    assert post >= max(q, default=0.0) - 1e-12  # never below its leakiest receiver
    assert post == pytest.approx(1.0 - np.prod([1.0 - x for x in q]), abs=1e-12)
    assert post == pytest.approx(fold_leaks(q[::-1]), abs=1e-12)


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
       salience=st.floats(0.0, 1e6))
def test_initial_trust_and_sovereignty_stay_in_unit_interval(trust, tension, share, same, s,
                                                             surge, salience):
    t0 = rules.initial_trust(same, trust, tension)
    assert in_unit(t0) and t0 <= trust
    ti0 = rules.initial_hub_trust(trust, tension, share)
    assert in_unit(ti0) and ti0 <= trust
    eff = rules.effective_sovereignty(s, surge, salience)
    assert in_unit(eff) and eff <= s


@settings(max_examples=150, deadline=None)
@given(strength=unit, rate=unit, capacity=unit, resolved=st.integers(0, 1000),
       frac=unit, weight=st.floats(0.1, 100.0), pull=st.floats(0.0, 50.0))
def test_strength_and_haven_safety_stay_in_unit_interval(strength, rate, capacity, resolved,
                                                         frac, weight, pull):
    assert 0.0 <= rules.strength_after_disruption(strength, rate) <= strength
    grown = rules.strength_regrowth(strength, rate)
    assert strength - 1e-12 <= grown <= 1.0
    undisrupted = math.floor(frac * resolved)
    safety = rules.haven_safety(capacity, undisrupted, resolved, weight)
    assert in_unit(safety)
    assert in_unit(rules.relocation_weight(safety, pull))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30).filter(lambda c: sum(c) > 0))
def test_herfindahl_lies_between_one_over_n_and_one(counts):
    h = rules.herfindahl(np.array(counts, float))
    assert 1.0 / len(counts) - 1e-12 <= h <= 1.0 + 1e-12


@settings(max_examples=150, deadline=None)
@given(mean=st.floats(0.01, 0.99), frac=st.floats(0.01, 0.98))
def test_beta_parameters_match_mean_and_sd_below_the_cap(mean, frac):
    spread = frac * math.sqrt(mean * (1 - mean))  # sd below the cap at sqrt(0.99 var_max)
    a, b = rules.beta_parameters(mean, spread)
    assert a / (a + b) == pytest.approx(mean)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert sd == pytest.approx(spread)


# ---------------------------------------------------------------- Version 2, section B


def test_financial_detection_scales_with_counter_financing_capacity():
    assert rules.financial_detection_probability(0.04, 0.5) == pytest.approx(0.02)
    assert rules.financial_detection_probability(0.04, 0.0) == 0.0


def test_an_asset_freeze_takes_its_share_of_the_funds():
    assert rules.funds_after_freeze(0.8, 0.25) == pytest.approx(0.6)
    assert rules.funds_after_freeze(0.8, 0.0) == 0.8


def test_screening_outside_the_databases_loses_the_gap():
    inside = rules.screening_probability(0.3, 0.8, True, 0.5)
    outside = rules.screening_probability(0.3, 0.8, False, 0.5)
    assert inside == pytest.approx(0.24)
    assert outside == pytest.approx(0.12)
    assert rules.screening_probability(0.3, 0.8, False, 0.0) == inside


def test_a_plot_leaves_an_online_trace_with_the_online_share_itself():
    # the spawn phase compares its draw with the share as it stands: a rule computing
    # 1 - (1 - s) would give 0.09999999999999998 for 0.1 and move the pinned runs
    for share in (0.0, 0.1, 0.4, 1.0):
        assert rules.online_trace_probability(share) == share
    assert rules.online_trace_probability(np.nextafter(0.4, 0.0)) < 0.4


def test_a_providers_records_yield_a_fragment_with_provider_detection_itself():
    for detection in (0.0, 0.1, 0.25, 1.0):
        assert rules.provider_record_probability(detection) == detection
    assert rules.provider_record_probability(np.nextafter(0.25, 1.0)) > 0.25


def test_direct_access_needs_a_cooperating_regime_and_an_agreement():
    assert rules.direct_access(True, True) is True
    assert rules.direct_access(True, False) is False  # no agreement: a request, if a treaty
    assert rules.direct_access(False, True) is False  # regime none: the agreement is idle
    assert rules.direct_access(False, False) is False


def test_only_a_stricter_receiver_rejects_more():
    stricter = rules.privacy_admissibility(0.8, 0.5, 0.9, 0.1)
    assert stricter == pytest.approx(0.8 * (1 - 0.5 * 0.8))
    assert rules.privacy_admissibility(0.8, 0.5, 0.1, 0.9) == 0.8  # laxer receiver
    assert rules.privacy_admissibility(0.8, 0.0, 0.9, 0.1) == 0.8  # no gap: v1


def test_false_alarms_tie_up_capacity_down_to_nothing():
    assert rules.tie_up_factor(0.2, 0) == 1.0
    assert rules.tie_up_factor(0.2, 2) == pytest.approx(0.6)
    assert rules.tie_up_factor(0.2, 9) == 0.0


def test_training_lifts_only_members_below_the_standard():
    assert rules.capacity_after_training(0.3, 0.1, 0.7) == pytest.approx(0.34)
    assert rules.capacity_after_training(0.8, 0.1, 0.7) == 0.8
    assert rules.toward(0.2, 0.1, 1.0) == pytest.approx(0.28)


def test_treaty_formation_needs_trust_both_ways_and_grows_after_attacks():
    calm = rules.treaty_formation_probability(0.01, 0.7, 0.6, 2.0, 0.0, 0.0)
    assert calm == pytest.approx(0.01 * 0.42)
    after = rules.treaty_formation_probability(0.01, 0.7, 0.6, 2.0, 1.0, 0.5)
    assert after == pytest.approx(calm * 4.0)
    assert rules.treaty_formation_probability(0.01, 0.0, 0.9, 2.0, 1.0, 1.0) == 0.0
    assert rules.treaty_formation_probability(0.5, 1.0, 1.0, 10.0, 3.0, 3.0) == 1.0


def test_accession_follows_the_share_of_partners_inside():
    assert rules.accession_probability(0.02, 1, 4) == pytest.approx(0.005)
    assert rules.accession_probability(0.02, 3, 0) == 0.0
