"""ctsim.core.phases: the weekly phases' own computations, held against numpy and against
the distributions they draw from.

The footprint weights (:func:`~ctsim.core.phases.footprint_weights`, built from the scalar
rule ``rules.footprint_weight``), the footprints drawn with them
(:func:`~ctsim.core.phases.draw_footprint`: base first, locality, target weights, redraws
of taken nations), and the mean trust the record reads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctsim.core import CooperationModel, phases, state
from ctsim.core.scenario import load_scenario
from tests.conftest import SCENARIOS

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


# ---------------------------------------------------------------- footprint weights


def test_footprint_weights_put_locality_of_the_mass_in_the_base_region():
    region = np.array([0, 0, 0, 1, 1, 1, 1], np.int64)
    w = phases.footprint_weights(region, 0.6)
    assert w.shape == (7, 7)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.diag(w), 0.0)
    # base 0: 2 others in its region, 0.6 / 2 + 0.4 / 6 each; 0.4 / 6 for the rest
    assert w[0, [1, 2]].sum() == pytest.approx(0.6 + 0.4 * 2 / 6)
    assert w[0, 1] == pytest.approx(0.6 / 2 + 0.4 / 6)
    assert w[0, 3] == pytest.approx(0.4 / 6)
    # base 3: 3 others in its region, 0.6 / 3 + 0.4 / 6 each
    assert w[3, 4] == pytest.approx(0.6 / 3 + 0.4 / 6)
    assert w[3, 0] == pytest.approx(0.4 / 6)
    assert w[3, [4, 5, 6]].sum() == pytest.approx(0.6 + 0.4 * 3 / 6)
    uniform = phases.footprint_weights(region, 0.0)
    np.testing.assert_allclose(uniform[0, 1:], 1 / 6)
    np.testing.assert_allclose(uniform + np.eye(7) / 6, 1 / 6)


def test_a_region_of_one_sends_its_whole_footprint_abroad():
    w = phases.footprint_weights(np.array([0, 1, 1, 1], np.int64), 0.9)
    assert w[0, 0] == 0.0
    np.testing.assert_allclose(w[0, 1:], 1 / 3)
    # base 1 has 2 others in its region: 0.9 / 2 + 0.1 / 3 each, 0.1 / 3 for nation 0
    np.testing.assert_allclose(w[1], [0.1 / 3, 0.0, 0.45 + 0.1 / 3, 0.45 + 0.1 / 3])
    np.testing.assert_allclose(w.sum(axis=1), 1.0)


def test_footprint_weights_of_a_single_nation_is_a_zero():
    np.testing.assert_array_equal(phases.footprint_weights(np.array([0], np.int64), 0.5),
                                  [[0.0]])


@settings(max_examples=100, deadline=None)
@given(region=st.lists(st.integers(0, 3), min_size=2, max_size=12), locality=unit)
def test_footprint_weights_rows_sum_to_one_with_locality_in_the_base_region(region, locality):
    region = np.array(region, np.int64)
    n = len(region)
    w = phases.footprint_weights(region, locality)
    assert (w >= 0.0).all()
    np.testing.assert_array_equal(np.diag(w), 0.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    for i in range(n):
        same = (region == region[i]) & (np.arange(n) != i)
        m = same.sum()
        # locality of the mass, and the uniform share of the rest, go to the base's region
        local = locality + (1 - locality) * m / (n - 1) if m else 0.0
        assert w[i, same].sum() == pytest.approx(local)


# ---------------------------------------------------------------- footprints drawn


def footprint_world(region: np.ndarray, locality: float,
                    target_weight: np.ndarray | None = None):
    """A generated model's static world (ctsim.core.state.Nations) with the footprint
    weights of ``region`` and ``locality`` and the given target weights (1 by default)."""
    n = len(region)
    model = CooperationModel(rng=1, **{"world.nations": n})
    weight = np.ones(n) if target_weight is None else np.asarray(target_weight, float)
    near = phases.footprint_weights(region, locality)
    return Footprints(model.setting, model.static._replace(**state.footprint_arrays(
        near, weight)), model.relations)


class Footprints(NamedTuple):
    """What phases.draw_footprint reads: the run's setting, static world and relations."""

    setting: state.Setting
    world: state.Nations
    relations: state.Relations

    @property
    def near(self) -> np.ndarray:
        return self.world.near

    @property
    def target_near(self) -> np.ndarray:
        return self.world.target_near


def draw_footprints(where: Footprints, base: int, size: int, plots: int,
                    seed: int) -> np.ndarray:
    """(plots, size) footprints of plots based at ``base``, drawn by phases.draw_footprint."""
    rng = np.random.default_rng(seed)
    foot = np.full((plots, size), -1, np.int64)
    for row in foot:
        phases.draw_footprint(row, base, size, where.setting, where.world, where.relations,
                              rng)
    return foot


@pytest.mark.parametrize("locality", [0.0, 0.5, 1.0])
def test_locality_draws_footprints_near_the_base(locality):
    region = np.array([0] * 8 + [1] * 40)
    foot = draw_footprints(footprint_world(region, locality), 0, 4, 4000, seed=5)
    others = foot[:, 1:]
    assert (foot[:, 0] == 0).all()  # the base first
    assert all(len(set(row)) == 4 for row in foot)
    assert not (others == 0).any()
    share = (region[others] == 0).mean()
    uniform = 7 / 47
    if locality == 0.0:
        assert share == pytest.approx(uniform, abs=0.02)
    elif locality == 1.0:
        assert share == 1.0
    else:
        assert uniform + 0.2 < share < 1.0


def test_locality_zero_keeps_the_uniform_draw_bit_for_bit():
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    plain = CooperationModel(scenario, rng=4)
    zero = CooperationModel(scenario.with_overrides({"threat.locality": 0.0}), rng=4)
    off = ~np.eye(plain.world.n, dtype=bool)
    np.testing.assert_allclose(plain.static.near[off], 1 / (plain.world.n - 1))  # uniform
    np.testing.assert_array_equal(plain.static.near, zero.static.near)
    for _ in range(30):
        plain.step()
        zero.step()
    assert np.array_equal(plain.plots.foot, zero.plots.foot)


def test_weighted_targets_follow_target_weight_times_locality():
    region = np.array([0] * 5 + [1] * 5)
    weight = np.array([1.0] * 9 + [0.0])  # nation 9 is never a target
    foot = draw_footprints(footprint_world(region, 1.0, weight), 0, 3, 3000, seed=2)
    assert (foot[:, 0] == 0).all()  # the base first
    assert set(foot[:, 2]) <= {1, 2, 3, 4}  # targets in the base's region
    assert set(foot[:, 1]) <= {1, 2, 3, 4}  # and so are the transit nations
    assert all(len(set(row)) == 3 for row in foot)
    # the only nation with target weight in the base's region is the target, in the last slot
    only_3 = np.array([0.0, 0.0, 0.0, 1.0, 0.0] + [1.0] * 5)
    foot = draw_footprints(footprint_world(region, 1.0, only_3), 0, 4, 500, seed=3)
    assert (foot[:, 0] == 0).all()
    assert (foot[:, 3] == 3).all()
    assert not (foot[:, 1:3] == 3).any()
    assert set(foot[:, 1:3].ravel()) <= {1, 2, 4}


def test_redrawing_taken_nations_gives_the_chances_of_drawing_among_the_free_ones():
    # Unequal weights: the second slot's nation follows weight among those not yet drawn.
    region = np.array([0, 0, 0, 0, 1, 1])
    weight = np.array([1.0, 4.0, 2.0, 1.0, 0.5, 0.5])
    world = footprint_world(region, 0.7, weight)
    foot = draw_footprints(world, 0, 3, 20000, seed=11)
    target, transit = foot[:, 2], foot[:, 1]
    w_target = world.target_near[0]
    np.testing.assert_allclose(np.bincount(target, minlength=6) / len(foot),
                               w_target / w_target.sum(), atol=0.012)
    # given the target, the transit nation is drawn by `near` among the other free nations
    expected = np.zeros(6)
    for t in range(1, 6):
        free = world.near[0].copy()
        free[t] = 0.0
        expected += (w_target[t] / w_target.sum()) * free / free.sum()
    np.testing.assert_allclose(np.bincount(transit, minlength=6) / len(foot), expected,
                               atol=0.012)


def test_when_the_free_nations_weigh_nothing_the_rest_of_the_footprint_is_uniform():
    # locality 1: only the base's region weighs, and it has two other nations
    region = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    foot = draw_footprints(footprint_world(region, 1.0), 0, 5, 3000, seed=4)
    assert all(len(set(row)) == 5 for row in foot)
    assert set(foot[:, 4]) <= {1, 2}  # the target has weight: in the base's region
    inside = np.isin(foot[:, 1:4], [1, 2]).sum(axis=1)
    assert (inside == 1).all()  # the region's other nation, then two drawn uniformly
    outside = foot[:, 1:4][~np.isin(foot[:, 1:4], [1, 2])]
    np.testing.assert_allclose(np.bincount(outside, minlength=8)[3:] / len(outside), 0.2,
                               atol=0.02)


def test_a_footprint_of_one_nation_is_its_base_alone():
    where = footprint_world(np.array([0] * 5 + [1] * 5), 0.5)
    row = np.full(3, -1, np.int64)
    phases.draw_footprint(row, 7, 1, where.setting, where.world, where.relations,
                          np.random.default_rng(0))
    assert row.tolist() == [7, -1, -1]


# ---------------------------------------------------------------- the record's mean trust


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 30, 194])
def test_mean_trust_is_the_mean_off_the_diagonal(n):
    """phases.mean_trust (four running sums a row) against numpy, for every remainder mod 4."""
    trust = np.random.default_rng(n).random((n, n))
    if n < 2:
        assert np.isnan(phases.mean_trust(trust))
        return
    off = ~np.eye(n, dtype=bool)
    assert phases.mean_trust(trust) == pytest.approx(trust[off].mean(), rel=1e-12)
    trust[0, 0] = 50.0  # the diagonal never counts
    assert phases.mean_trust(trust) == pytest.approx(trust[off].mean(), rel=1e-12)
