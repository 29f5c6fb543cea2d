"""ctsim.analysis.layout: the trust network's spring layout, computed without networkx,
puts every nation where ``networkx.spring_layout`` puts it, to the last bit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from ctsim.analysis import layout


def networkx_positions(trust0: np.ndarray) -> dict:
    """The positions the figures drew with networkx: a graph weighted by the square of
    mutual initial trust, ``spring_layout(seed=1, k=1.6 / sqrt(n))``."""
    nx = pytest.importorskip("networkx")
    n = len(trust0)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    t0 = (trust0 + trust0.T) / 2
    graph.add_weighted_edges_from((i, j, float(t0[i, j]) ** 2)
                                  for i in range(n) for j in range(i + 1, n))
    return nx.spring_layout(graph, seed=1, weight="weight", k=1.6 / np.sqrt(max(n, 1)))


@pytest.mark.parametrize("n", [0, 1, 2, 5, 12, 40, 60])
@pytest.mark.parametrize("kind", ["random", "blocs", "none", "full"])
def test_network_layout_is_networkx_spring_layout_bit_for_bit(n, kind):
    rng = np.random.default_rng(n)
    trust0 = {"random": rng.random((n, n)),
              "blocs": np.where(np.equal.outer(np.arange(n) % 3, np.arange(n) % 3), 0.8, 0.1)
              + 0.05 * rng.random((n, n)),
              "none": np.zeros((n, n)), "full": np.ones((n, n))}[kind]
    snap = SimpleNamespace(world=SimpleNamespace(n=n, trust0=trust0))
    expected = networkx_positions(trust0)
    positions = layout.network_layout(snap)
    assert list(positions) == list(expected)
    for i in expected:
        assert positions[i].tobytes() == np.asarray(expected[i]).tobytes(), i


def test_spring_layout_is_centred_and_fills_the_unit_square():
    rng = np.random.default_rng(3)
    weights = rng.random((20, 20))
    weights = (weights + weights.T) / 2
    np.fill_diagonal(weights, 0.0)
    pos = np.array(list(layout.spring_layout(weights, k=0.3, seed=4).values()))
    assert np.allclose(pos.mean(axis=0), 0.0, atol=1e-12)
    assert np.abs(pos).max() == pytest.approx(1.0)
    # nodes that attract each other strongly end nearer each other than the rest
    weights[:5, :5] = 5.0
    np.fill_diagonal(weights, 0.0)
    pos = np.array(list(layout.spring_layout(weights, k=0.3, seed=4).values()))
    inside = np.linalg.norm(pos[:5, None] - pos[None, :5], axis=-1).mean()
    across = np.linalg.norm(pos[:5, None] - pos[None, 5:], axis=-1).mean()
    assert inside < across / 2
