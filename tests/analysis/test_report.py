"""Figures and reports from stored results: the drawn data and the sentences match the numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from ctsim.analysis import figures, layout
from ctsim.analysis.report import (
    barrier_effects,
    build_report,
    effect_sentence,
    headline_sentences,
    load_results,
)
from ctsim.analysis.stats import mean_ci
from ctsim.cli import cli
from ctsim.runs.experiment import load_experiment
from ctsim.runs.seeds import replication_seeds
from ctsim.runs.sweeps import run_sweep

SMALL_WORLD = {"world.nations": 8}


def _scenario(tmp: Path) -> Path:
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny", "steps": 40,
        "world": {"nations": 8, "blocs": 2, "regions": 2},
        "cooperation": {"regime": "hybrid", "institutions": [{"name": "hub"}]},
        "threat": {"groups": 3, "plots_per_year": 40, "detection_rate": 0.15},
    }))
    return path


def _sweep(tmp: Path, experiment: dict) -> Path:
    _scenario(tmp)
    exp = tmp / "exp.yaml"
    exp.write_text(yaml.safe_dump({"scenario": "tiny.yaml", "seed": 3, **experiment}))
    out = tmp / "out"
    run_sweep(load_experiment(exp), out, executor="serial")
    return out


@pytest.fixture(scope="module")
def oat(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("oat")
    return _sweep(tmp, {
        "name": "oat", "design": "oat", "replications": 4, "timeseries": True,
        "factors": {"threat.leak_rate": {"values": [0.0, 0.5, 1.0]},
                    "threat.ai_boost": {"values": [0.0, 2.0]},
                    "cooperation.regime": {"values": ["bilateral", "hybrid"], "cross": True}},
        "metrics": ["disruption_rate", "attacks", "foreign_share", "mean_trust"],
    })


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("grid")
    return _sweep(tmp, {
        "name": "grid", "design": "grid", "replications": 3,
        "factors": {"world.sovereignty.mean": {"values": [0.0, 1.0]},
                    "threat.leak_rate": {"values": [0.0, 0.3, 0.6]}},
        "metrics": ["disruption_rate", "attacks"],
    })


def test_response_curves_draw_the_stored_means(oat):
    res = load_results(oat)
    fig = figures.response_curves(res.ok, ["threat.leak_rate"], "disruption_rate",
                                  "cooperation.regime", "oat")
    lines = [ln for ln in fig.axes[0].lines if ln.get_label() in ("bilateral", "hybrid")]
    assert [ln.get_label() for ln in lines] == ["bilateral", "hybrid"]
    for line in lines:
        rows = res.ok[(res.ok["sweep"] == "threat.leak_rate")
                      & (res.ok["cooperation.regime"] == line.get_label())]
        expected = rows.groupby("threat.leak_rate")["disruption_rate"].mean()
        np.testing.assert_allclose(line.get_xdata(), expected.index.to_numpy())
        np.testing.assert_allclose(line.get_ydata(), expected.to_numpy())
        assert line.get_color() == layout.REGIME_COLOURS[line.get_label()]
    assert "leak rate" in fig.axes[0].get_xlabel()
    assert "disruption rate" in fig.get_supylabel()


def test_heatmap_cells_are_the_grid_means(grid):
    res = load_results(grid)
    fig = figures.heatmap(res.ok, "threat.leak_rate", "world.sovereignty.mean",
                          "disruption_rate", "grid")
    image = fig.axes[0].images[0].get_array()
    expected = res.ok.pivot_table(index="world.sovereignty.mean", columns="threat.leak_rate",
                                  values="disruption_rate", aggfunc="mean")
    np.testing.assert_allclose(np.asarray(image), expected.to_numpy())
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{expected.to_numpy()[0, 0]:.2f}" in texts
    assert len(fig.axes) == 2  # the colour bar


def test_effects_pair_runs_by_replication(oat):
    res = load_results(oat)
    effects = barrier_effects(res, "disruption_rate", "cooperation.regime")
    e = next(x for x in effects if x.factor == "threat.leak_rate" and x.group == "hybrid")
    rows = res.ok[(res.ok["sweep"] == "threat.leak_rate")
                  & (res.ok["cooperation.regime"] == "hybrid")]
    low = rows[rows["threat.leak_rate"] == 0.0].set_index("replication")["disruption_rate"]
    high = rows[rows["threat.leak_rate"] == 1.0].set_index("replication")["disruption_rate"]
    d, lo, hi = mean_ci((high - low).to_numpy())
    assert (e.diff, e.diff_lo, e.diff_hi) == pytest.approx((d, lo, hi))
    assert e.at_low == pytest.approx(low.mean()) and e.at_high == pytest.approx(high.mean())
    assert e.pairs == 4


def test_sentences_state_the_numbers(oat):
    res = load_results(oat)
    effects = barrier_effects(res, "disruption_rate", "cooperation.regime")
    for e in effects:
        text = effect_sentence(e)
        assert f"{e.at_low:.3f} to {e.at_high:.3f}" in text
        assert f"{e.diff:+.3f}" in text
        assert f"{e.diff_lo:+.3f} to {e.diff_hi:+.3f}" in text
        assert ("lowers" in text) == (e.diff < 0)
    heads = headline_sentences(effects)
    for g in ("bilateral", "hybrid"):
        mine = [e for e in effects if e.group == g and e.significant]
        barriers = [e for e in mine if e.diff < 0]
        if barriers:
            worst = min(barriers, key=lambda e: e.diff)
            assert any(f"under the {g} regime is {layout.factor_label(worst.factor)}" in h
                       for h in heads)


def test_report_embeds_existing_figures_and_sentences(oat, tmp_path):
    path = build_report(oat, tmp_path / "rep")
    text = path.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, "the report embeds figures"
    for image in images:
        assert (path.parent / image).is_file()
    assert "## What the numbers say" in text
    res = load_results(oat)
    effects = barrier_effects(res, "disruption_rate", "cooperation.regime")
    for e in effects:
        assert effect_sentence(e) in text
    assert "timeseries_disruption_rate.png" in text


def test_report_for_a_grid_has_a_heatmap_and_interaction(grid, tmp_path):
    path = build_report(grid, tmp_path / "rep")
    text = path.read_text()
    assert "heatmap_disruption_rate.png" in text
    assert "interaction" in text


def test_report_figures_as_svg(grid, tmp_path):
    build_report(grid, tmp_path / "svg", fmt="svg")
    assert list((tmp_path / "svg" / "figures").glob("*.svg"))


def test_report_command_on_a_folder_without_results_is_a_user_error(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:")


def test_compare_uses_the_same_seeds_for_every_scenario(tmp_path, monkeypatch):
    scenario = _scenario(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"name": "other", "extends": "tiny.yaml",
                                     "threat": {"leak_rate": 0.5}}))
    seen: dict[str, list[int]] = {}
    import ctsim.runs.runner as runner

    real = runner.run_one

    def spy(sc, seed, *args, **kwargs):
        seen.setdefault(sc.name, []).append(seed)
        return real(sc, seed, *args, **kwargs)

    monkeypatch.setattr(runner, "run_one", spy)
    out = tmp_path / "cmp"
    result = CliRunner().invoke(cli, ["compare", str(scenario), str(other), "-r", "3",
                                      "--seed", "9", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert seen["tiny"] == seen["other"] == replication_seeds(9, 3)
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"tiny", "other"}
    assert (out / "comparison.png").is_file() and (out / "comparison.md").is_file()
    base = table[table["scenario"] == "tiny"].iloc[0]
    assert base["diff"] == 0


def test_the_channels_figure_draws_only_what_moves_within_a_run():
    import pandas as pd

    from ctsim.analysis import figures
    ts = pd.DataFrame({"replication": [0, 0, 1, 1], "step": [0, 1, 0, 1],
                       "treaties_in_force": [5, 5, 7, 7],  # differs between runs only
                       "asset_freezes": [0, 2, 0, 0], "fragments_border": [0, 0, 0, 0]})
    assert figures.active_channels(ts) == ["asset_freezes"]
    fig = figures.channels_over_time(ts, "demo", ["asset_freezes"])
    assert [a.get_title() for a in fig.axes if a.get_visible()] == ["asset freezes (B1)"]
