"""ctsim.analysis.figures: what the figures draw matches the numbers and the world.

The world figures' layouts (:func:`~ctsim.analysis.layout.region_layout`,
:func:`~ctsim.analysis.figures.region_trust`) on dataset worlds of several shapes, and the
comparison figure's points and intervals. The figures drawn from a sweep's stored results
are checked with the report, in tests/analysis/test_report.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from ctsim.analysis import figures, layout
from ctsim.analysis.stats import mean_ci
from ctsim.core import CooperationModel
from ctsim.core.scenario import scenario_from_dict
from tests.conftest import dataset_world as dataset

# ---------------------------------------------------------------- world layouts


LAYOUT_WORLDS = {"oic": {"membership": "OIC"}, "common_law": {"legal_family": "common"},
                 "four": ["FRA", "JPN", "BRA", "KEN"], "europe": {"region": "europe"}}


def layout_of(include):
    model = CooperationModel(scenario_from_dict(dataset(include=include)), rng=3)
    pos, centres = layout.region_layout(model)
    assert sorted(pos) == list(range(model.world.n))
    assert centres.shape == (len(model.world.region_names), 2)
    return model.world, np.array([pos[i] for i in range(model.world.n)]), centres


@pytest.mark.parametrize("include", [pytest.param("all", id="all"),
                                     *(pytest.param(v, id=k) for k, v in LAYOUT_WORLDS.items())])
def test_region_layout_puts_every_nation_nearest_its_own_region_centre(include):
    w, points, centres = layout_of(include)
    for i, p in enumerate(points):
        distance = np.linalg.norm(centres - p, axis=1)
        own = distance[w.region[i]]
        assert (np.delete(distance, w.region[i]) > own).all(), w.names[i]


@pytest.mark.parametrize("include", [pytest.param("all", id="all"),
                                     *(pytest.param(v, id=k) for k, v in LAYOUT_WORLDS.items())])
def test_region_layout_draws_each_region_as_a_separate_disc(include):
    w, points, centres = layout_of(include)
    assert len(np.unique(points.round(9), axis=0)) == w.n
    for r in range(len(centres)):
        distance = np.linalg.norm(points - centres[r], axis=1)
        mine = w.region == r
        assert distance[mine].max() < distance[~mine].min(initial=np.inf), w.region_names[r]


def test_region_trust_is_the_mean_over_pairs_of_distinct_nations():
    model = CooperationModel(scenario_from_dict(dataset(include={"membership": "OIC"})), rng=4)
    w = model.world
    rng = np.random.default_rng(0)
    matrix = rng.random((w.n, w.n))
    got = figures.region_trust(model, matrix)
    mutual = (matrix + matrix.T) / 2
    for a in range(len(w.region_names)):
        for b in range(len(w.region_names)):
            ia, ib = np.flatnonzero(w.region == a), np.flatnonzero(w.region == b)
            values = [mutual[i, j] for i in ia for j in ib if i != j]
            if values:
                assert got[a, b] == pytest.approx(np.mean(values))
            else:
                assert np.isnan(got[a, b])


# ---------------------------------------------------------------- comparisons


def test_comparison_points_and_intervals_match_the_values():
    values = {"baseline": {"disruption_rate": [0.4, 0.5, 0.45]},
              "leaks": {"disruption_rate": [0.2, 0.3, 0.25]}}
    fig = figures.comparison(values, ["disruption_rate"], "baseline")
    ax = fig.axes[0]
    means = [c.lines[0].get_ydata()[0] for c in ax.containers]
    assert means == pytest.approx([0.45, 0.25])
    _, lo, hi = mean_ci([0.2, 0.3, 0.25])
    bars = ax.containers[1].lines[2][0].get_segments()[0]
    assert bars[:, 1] == pytest.approx([lo, hi])
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert dashed[0].get_ydata()[0] == pytest.approx(0.45)
