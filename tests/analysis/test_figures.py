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


# ---------------------------------------------------------------- a run's figures


def _png(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60, metadata={"Software": None})
    figures.plt.close(fig)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def run_outcome(tmp_path_factory):
    """A short three-replication run of a small world following the money (MODEL.md B1:
    its weekly record has moving channels, and an undefined disruption rate early on)."""
    import ctsim
    from ctsim import resources
    from ctsim.core.scenario import load_scenario

    scenario = load_scenario(resources.resolve("financing"), {"steps": 30, "world.nations": 10})
    return ctsim.run(scenario, replications=3, out=tmp_path_factory.mktemp("run") / "out",
                     figures="png")


def test_a_runs_figures_draw_the_same_from_column_arrays_as_from_dataframes(run_outcome):
    columns, frame = run_outcome.tables["timeseries"], run_outcome.timeseries
    assert isinstance(columns, dict)
    assert np.isnan(columns["disruption_rate"]).any()
    assert figures.active_channels(columns) == figures.active_channels(frame)
    moving = figures.active_channels(columns)
    assert moving  # the channel figure is drawn too
    assert _png(figures.outcomes_over_time(columns, "demo")) == _png(
        figures.outcomes_over_time(frame, "demo"))
    assert _png(figures.channels_over_time(columns, "demo", moving)) == _png(
        figures.channels_over_time(frame, "demo", moving))
    havens = run_outcome.tables["havens"]
    assert _png(figures.haven_ranking(havens, "demo", 3)) == _png(
        figures.haven_ranking(run_outcome.havens, "demo", 3))


def test_the_band_is_the_mean_and_interval_pandas_computes():
    import pandas as pd

    from ctsim.analysis.stats import t_halfwidth

    rng = np.random.default_rng(5)
    for runs in (1, 2, 7, 30):
        values = rng.normal(3.0, 2.0, size=(40, runs))
        values[rng.random(values.shape) < 0.15] = np.nan
        values[0] = np.nan  # a week no run has
        mean, std, count = figures._row_stats(values)
        frame = pd.DataFrame(values)
        np.testing.assert_allclose(mean, frame.mean(axis=1), rtol=1e-13)
        np.testing.assert_allclose(std, frame.std(axis=1, ddof=1), rtol=1e-12)
        assert count.tolist() == frame.notna().sum(axis=1).tolist()
        assert np.isnan(mean[0]) and np.isnan(std[0])
        half = t_halfwidth(std, count)
        assert (half[count <= 1] == 0).all() and (half[count > 1] > 0).all()


def test_a_runs_figures_need_neither_pandas_nor_networkx(run_outcome, tmp_path):
    import pickle
    import subprocess
    import sys

    from ctsim.runs.pipeline import _run_inputs

    inputs = tmp_path / "inputs.pickle"
    inputs.write_bytes(pickle.dumps(_run_inputs(run_outcome)))
    code = ("import pickle, sys\n"
            "from pathlib import Path\n"
            "from ctsim.analysis.report import draw_run_figures\n"
            "inputs = pickle.loads(Path(sys.argv[1]).read_bytes())\n"
            "drawn = draw_run_figures(inputs, Path(sys.argv[2]))\n"
            "print(sorted(drawn), sorted(m for m in ('pandas', 'networkx') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(inputs), str(tmp_path / "f")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("['channels', 'haven_ranking', 'outcomes', 'safe_havens', "
                                  "'trust_network'] []")
    for name in ("channels", "outcomes", "trust_network"):  # the same as drawn in the run
        assert ((tmp_path / "f" / f"{name}.png").read_bytes()
                == (run_outcome.out / "figures" / f"{name}.png").read_bytes()), name


def test_a_sobol_figure_marks_the_dummy_factors_floor():
    import pandas as pd

    sens = pd.DataFrame({"metric": ["m"] * 3, "factor": ["a", "dummy", "b"],
                         "S1": [0.5, 0.0, 0.1], "S1_conf": [0.05, 0.01, 0.02],
                         "ST": [0.6, 0.03, 0.1], "ST_conf": [0.05, 0.01, 0.02]})
    fig = figures.sobol_figure(sens, "m", "t")
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
    assert len(lines) == 1 and lines[0].get_xdata()[0] == pytest.approx(0.04)
    assert "0.040" in lines[0].get_label()
    plain = figures.sobol_figure(sens[sens["factor"] != "dummy"], "m", "t")
    assert not [ln for ln in plain.axes[0].get_lines() if ln.get_linestyle() == ":"]
