"""Where things go and what colour they are, without matplotlib: node positions of a
trust network, the palettes of blocs, regions and regimes, and the plain labels of factors
and outputs. The figures (:mod:`ctsim.analysis.figures`) and the teaching page both read
them; the page draws its own SVG and never imports matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ctsim.core import outputs, registry

if TYPE_CHECKING:
    from ctsim.analysis.snapshot import HasWorld

BLOC_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


#: Above this many nations a trust network is laid out by region and shows only the ties
#: whose trust moved (every tie above a threshold would hide the nations).
LARGE_WORLD = 60


def network_positions(snap: HasWorld) -> dict[int, np.ndarray]:
    """Node positions for a trust network (of a snapshot, or of the page's live model):
    by region above :data:`LARGE_WORLD` nations (:func:`region_layout`), else the spring
    layout (:func:`network_layout`)."""
    if snap.world.n > LARGE_WORLD:
        return region_layout(snap)[0]
    return network_layout(snap)


def network_layout(snap: HasWorld) -> dict[int, np.ndarray]:
    """Node positions for the trust network: a spring layout on initial trust (seeded).

    Nations that trust each other from the start sit close together, so blocs form
    visible clusters; the layout stays fixed while trust changes. Reads ``snap.world``
    only (a :class:`~ctsim.analysis.snapshot.RunSnapshot` or a live model). Each pair of
    nations is pulled together by the square of its mutual initial trust (mean of both
    directions, in [0, 1]); see :func:`spring_layout`.
    """
    w = snap.world
    n = w.n
    t0 = (w.trust0 + w.trust0.T) / 2
    weights = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            weights[i, j] = weights[j, i] = float(t0[i, j]) ** 2
    return spring_layout(weights, k=1.6 / np.sqrt(max(n, 1)), seed=1)


def spring_layout(weights: np.ndarray, k: float, seed: int, iterations: int = 50,
                  threshold: float = 1e-4) -> dict[int, np.ndarray]:
    """Force-directed positions of ``n`` nodes in 2-D (Fruchterman and Reingold 1991,
    "Graph drawing by force-directed placement", Software: Practice and Experience
    21(11)), centred on 0 and scaled so that the largest coordinate is 1.

    Args:
        weights: (n, n) symmetric attraction between nodes (>= 0, zero diagonal).
        k: the distance at which repulsion and a unit attraction balance (layout units).
        seed: the legacy :class:`numpy.random.RandomState` seed of the start positions
            (uniform on the unit square).
        iterations: at most this many steps; each moves a node at most the current
            temperature, which starts at a tenth of the start positions' extent and
            falls linearly.
        threshold: stop early once the mean step is shorter than this.

    The steps are those of ``networkx.spring_layout`` (its dense form, below 500 nodes)
    with the same seed, operation for operation, so the positions equal that function's
    to the last bit (``tests/analysis/test_layout.py`` checks it) without importing
    networkx.
    """
    n = weights.shape[0]
    if n == 0:
        return {}
    if n == 1:
        return {0: np.zeros(2)}
    pos = np.asarray(np.random.RandomState(seed).rand(n, 2), dtype=weights.dtype)
    t = max(max(pos.T[0]) - min(pos.T[0]), max(pos.T[1]) - min(pos.T[1])) * 0.1
    dt = t / (iterations + 1)
    for _ in range(iterations):
        delta = pos[:, np.newaxis, :] - pos[np.newaxis, :, :]
        distance = np.linalg.norm(delta, axis=-1)
        np.clip(distance, 0.01, None, out=distance)
        displacement = np.einsum("ijk,ij->ik", delta,
                                 (k * k / distance**2 - weights * distance / k))
        length = np.linalg.norm(displacement, axis=-1)
        length = np.clip(length, a_min=0.01, a_max=None)
        delta_pos = np.einsum("ij,i->ij", displacement, t / length)
        pos += delta_pos
        t -= dt
        if (np.linalg.norm(delta_pos) / n) < threshold:
            break
    pos -= pos.mean(axis=0)
    lim = np.abs(pos).max()
    if lim > 0:
        pos *= 1 / lim
    pos = pos + np.zeros(2)
    return dict(enumerate(pos))


#: One colour per region of a world (by index), for the world figures.
REGION_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def region_layout(snap: HasWorld) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Node positions grouped by region, and each region's centre.

    Regions sit on a circle of radius 1, each taking an arc in proportion to the square
    root of its size; a region's nations fill a disc around its centre (a sunflower
    pattern), its highest-capacity nations in the middle. Reads ``snap.world`` only.
    """
    w = snap.world
    n_regions = len(w.region_names)
    radii = _region_radii(w.region, n_regions)
    # Neighbouring centres sit far enough apart that each disc stays on its own side of
    # the halfway line (chord >= 2 * larger radius + margin); spare angle is shared out.
    bigger = np.maximum(radii, np.roll(radii, -1))
    steps = 2 * np.arcsin(np.minimum(bigger + 0.02, 0.999)) if n_regions > 1 else np.zeros(1)
    steps += max(2 * np.pi - steps.sum(), 0.0) / n_regions
    angles = np.pi / 2 - np.concatenate([[0.0], np.cumsum(steps)[:-1]])
    centres = np.column_stack([np.cos(angles), np.sin(angles)])
    golden = np.pi * (3 - np.sqrt(5))
    pos: dict[int, np.ndarray] = {}
    for r in range(n_regions):
        members = np.flatnonzero(w.region == r)
        order = members[np.argsort(-w.capacity[members], kind="stable")]
        for k, i in enumerate(order):
            rho = radii[r] * np.sqrt((k + 0.5) / max(len(order), 1))
            pos[int(i)] = centres[r] + rho * np.array([np.cos(k * golden), np.sin(k * golden)])
    return pos, centres


def _region_radii(region: np.ndarray, n_regions: int) -> np.ndarray:
    """Disc radius per region: proportional to sqrt(size), at most 0.12 * sqrt(size), and
    small enough that neighbouring discs fit around the unit circle the centres sit on."""
    root = np.sqrt(np.maximum(np.bincount(region, minlength=n_regions), 1))
    scale = 0.12
    # Shrink until neighbouring discs fit around the circle (see region_layout).
    while n_regions > 1 and (2 * np.arcsin(np.minimum(
            np.maximum(root, np.roll(root, -1)) * scale + 0.02, 0.999))).sum() > 2 * np.pi:
        scale *= 0.95
    return root * scale


#: One colour per cooperation regime, the same in every figure.
REGIME_COLOURS = {"none": "#7f7f7f", "bilateral": "#e66101", "multilateral": "#5e3c99",
                  "hybrid": "#1f78b4", "regional": "#4dac26"}
#: Shipped scenario names that stand for a regime.
SCENARIO_REGIMES = {"no_cooperation": "none", "bilateral_only": "bilateral",
                    "multilateral_hub": "multilateral", "baseline": "hybrid",
                    "regional_blocs": "regional"}
_OTHER_COLOURS = ("#1b9e77", "#d95f02", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                  "#666666", "#a6cee3", "#b2df8a", "#fb9a99")


def factor_label(key: str) -> str:
    """A factor's plain name from the key registry (its dotted key when it names no key)."""
    return registry.label(key)


def distinct_labels(keys: list[str]) -> list[str]:
    """Each factor's plain name; keys whose names coincide (the same key of different list
    items, e.g. each hub's latency) add their item, ``hub latency, institution 2``."""
    labels = [factor_label(k) for k in keys]
    out = []
    for key, text in zip(keys, labels, strict=True):
        parts = key.split(".")
        items = [i for i, p in enumerate(parts) if p.isdigit()]
        if labels.count(text) > 1 and items:
            owner = parts[items[0] - 1].removesuffix("s")
            text = f"{text}, {owner} {int(parts[items[0]]) + 1}"
        out.append(text)
    return out


def metric_label(name: str) -> str:
    """An output's axis label with its unit (declared in :mod:`ctsim.core.outputs`)."""
    return outputs.axis_of(name)


#: The colour of each sharing strategy (MODEL.md C3), by name, wherever one is drawn: the
#: page's network and chart of nations by strategy, the tournament's figures; ``trusting``
#: (the v1 rule) is grey.
STRATEGY_COLOURS = {"trusting": "#7a7a7a", "always": "#1a7f3c", "never": "#b2182b",
                    "reciprocal": "#1f5fa8", "forgiving": "#8e44ad", "grudging": "#e08214"}


def colour_for(label: str, index: int = 0) -> str:
    """The colour of a regime (or of a scenario standing for one), else a stable palette."""
    regime = SCENARIO_REGIMES.get(label, label)
    if regime in REGIME_COLOURS:
        return REGIME_COLOURS[regime]
    return _OTHER_COLOURS[index % len(_OTHER_COLOURS)]

