"""The pieces of a run's set-up moved into compiled code (or rewritten to cost less) give
what the numpy expressions they replace give, bit for bit (issue 27, "Set-up at the speed
of the weeks"); ``test_setup_world.py`` checks whole worlds and set-ups against digests."""

from __future__ import annotations

import numpy as np
import pytest

from ctsim.core import phases, rules, state
from ctsim.core.scenario import LEGAL_FAMILIES, load_scenario
from ctsim.core.simulation import _WEEKS, Simulation, Streams
from ctsim.core.world import (
    _legal_families,
    compatibility_matrix,
    family_matrix,
    hub_bloc_shares,
    initial_trust_matrix,
    random_pairs,
    world_matrices,
)
from tests.core.test_setup_world import SCENARIOS

# ---------------------------------------------------------------- the numpy expressions
# that set-up used before it was compiled (kept here as the reference they must equal)


def numpy_family_matrix(families: np.ndarray, cross_family: float) -> np.ndarray:
    mixed = LEGAL_FAMILIES.index("mixed")
    same = families[:, None] == families[None, :]
    either_mixed = (families[:, None] == mixed) | (families[None, :] == mixed)
    out = np.where(either_mixed, 0.5 * (1.0 + cross_family), cross_family)
    return np.where(same, 1.0, out)


def numpy_bloc_counts(members: np.ndarray, bloc: np.ndarray, n_blocs: int) -> np.ndarray:
    counts = np.zeros((members.shape[0], n_blocs))
    for b in range(n_blocs):
        counts[:, b] = (members & (bloc == b)[None, :]).sum(axis=1)
    return counts


def numpy_bloc_shares(members: np.ndarray, bloc: np.ndarray, n_blocs: int) -> np.ndarray:
    counts = numpy_bloc_counts(members, bloc, n_blocs)
    size = members.sum(axis=1, keepdims=True)
    return np.divide(counts, size, out=np.zeros_like(counts), where=size > 0)


def numpy_hub_trust(members: np.ndarray, bloc: np.ndarray, trust: np.ndarray,
                    tension: float) -> np.ndarray:
    members = np.ascontiguousarray(members, np.bool_).reshape(-1, len(bloc))
    size = members.sum(axis=1)
    n_blocs = int(bloc.max()) + 1 if len(bloc) else 0
    same = numpy_bloc_counts(members, bloc, n_blocs)[:, bloc].T
    rival_share = (size[None, :] - same) / np.maximum(size[None, :] - 1, 1)
    ti0 = np.zeros(rival_share.shape)
    for i in range(ti0.shape[0]):
        for h in range(ti0.shape[1]):
            if members[h, i]:
                ti0[i, h] = rules.initial_hub_trust(trust[h], tension, rival_share[i, h])
    return ti0


@pytest.mark.parametrize("seed", range(40))
def test_legal_families_pick_what_numpy_choice_picks(seed: int) -> None:
    """The families drawn as numpy's ``Generator.choice`` with ``p`` draws them: the same
    picks and the stream left in the same state, for shares of one to five families, some
    of them 0, and worlds of 1 to 200 nations."""
    r = np.random.default_rng(1000 + seed)
    names = list(r.permutation(LEGAL_FAMILIES)[: r.integers(1, len(LEGAL_FAMILIES) + 1)])
    weights = r.random(len(names)) * r.choice([0.1, 1.0, 7.0])
    if seed % 5 == 0:
        weights[0] = 0.0
    if weights.sum() == 0:
        weights[-1] = 1.0
    shares = dict(zip(names, weights.tolist(), strict=True))
    n = int(r.integers(1, 201))
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    got = _legal_families(shares, n, ours)
    picks = numpys.choice(len(names), size=n, p=weights / weights.sum())
    expected = np.array([LEGAL_FAMILIES.index(names[k]) for k in picks], np.int64)
    assert np.array_equal(got, expected) and got.dtype == expected.dtype
    assert ours.bit_generator.state == numpys.bit_generator.state


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_legal_families_refuse_shares_that_sum_to_nothing_as_numpy_does() -> None:
    """Shares summing to 0 raise numpy's own error (no silent draw)."""
    with pytest.raises(ValueError):
        _legal_families({"civil": 0.0, "common": 0.0}, 5, np.random.default_rng(1))


@pytest.mark.parametrize("n", [1, 2, 3, 12, 30, 77])
def test_random_pairs_are_the_mirrored_upper_triangle(n: int) -> None:
    """``random_pairs(u, p)`` is ``triu(u < p, 1) | its transpose``, no diagonal."""
    u = np.random.default_rng(n).random((n, n))
    for chance in (0.0, 0.3, 0.5, 1.0):
        upper = np.triu(u < chance, k=1)
        assert np.array_equal(random_pairs(u, chance), upper | upper.T)


@pytest.mark.parametrize("seed", range(12))
def test_world_matrices_equal_the_numpy_ones(seed: int) -> None:
    """family, compat, trust0 and each member's trust in its hubs, from one compiled
    call, equal the functions they replace exactly (random families, blocs, members)."""
    r = np.random.default_rng(seed)
    n, hubs = int(r.integers(1, 40)), int(r.integers(0, 5))
    families = r.integers(0, len(LEGAL_FAMILIES), n).astype(np.int64)
    bloc = r.integers(0, int(r.integers(1, 5)), n).astype(np.int64)
    definition = r.random(n)
    treaty = r.random((n, n)) < 0.3
    treaty = treaty | treaty.T
    members = r.random((hubs, n)) < 0.6
    hub_trust = r.random(hubs)
    cross, floor, harm, trust, tension = r.random(5)
    fam, compat, trust0, ti0 = world_matrices(
        families, LEGAL_FAMILIES.index("mixed"), cross, definition, treaty, floor, harm,
        bloc, trust, tension, members, hub_trust)
    old_fam = numpy_family_matrix(families, cross)
    assert np.array_equal(fam, old_fam)
    assert np.array_equal(family_matrix(families, LEGAL_FAMILIES.index("mixed"), cross),
                          old_fam)
    assert np.array_equal(compat, compatibility_matrix(old_fam, definition, treaty, floor,
                                                       harm))
    assert np.array_equal(trust0, initial_trust_matrix(bloc, trust, tension))
    assert np.array_equal(ti0, numpy_hub_trust(members, bloc, hub_trust, tension))
    blocs = int(bloc.max()) + 1
    assert np.array_equal(hub_bloc_shares(members, bloc, blocs),
                          numpy_bloc_shares(members, bloc, blocs))


def test_footprint_tables_equal_numpy_products_and_running_sums() -> None:
    """The products with the target weights and both running sums, as numpy makes them."""
    r = np.random.default_rng(3)
    region = r.integers(0, 4, 30).astype(np.int64)
    near = phases.footprint_weights(region, 0.7)
    weight = r.random(30) * 5
    got = state.footprint_arrays(near, weight)
    product = near * weight[None, :]
    assert np.array_equal(got["target_near"], product)
    assert np.array_equal(got["near_cum"], np.cumsum(near, axis=1))
    assert np.array_equal(got["target_cum"], np.cumsum(product, axis=1))


def test_filled_is_numpys_full() -> None:
    """``state.filled`` makes np.full's array: shape, dtype and values (NaN too)."""
    for shape, value, dtype in (((3, 4), -1, np.int8), (5, -1, np.int64),
                                ((2, 3), np.nan, np.float64), (0, 0.4, np.float64)):
        got, want = state.filled(shape, value, dtype), np.full(shape, value, dtype)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want, equal_nan=True)


def test_runs_of_one_layout_share_one_binding_of_the_weeks() -> None:
    """Two runs (of two scenarios whose containers have the same types) use one binding of
    the compiled weeks, and run as a run with a binding of its own does."""
    streams = Streams()
    first = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), streams.start(1))
    first.run(6)
    before = len(_WEEKS)
    second = Simulation(load_scenario(SCENARIOS / "inquiries.yaml"), streams.start(2))
    second.run(6)
    assert second._weeks is first._weeks and len(_WEEKS) == before
    alone = Simulation(load_scenario(SCENARIOS / "inquiries.yaml"), np.random.default_rng(2))
    alone._weeks = phases.compiled_for(phases.run_weeks, (
        6, alone.setting, *(alone._view(k) for k in ("static", "relations", "plots",
                                                       "fragments", "mail", "groups",
                                                       "tally")), alone._rngs))
    alone.run(6)
    assert np.array_equal(alone.tally.record[:7], second.tally.record[:7], equal_nan=True)
