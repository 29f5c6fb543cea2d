"""Paired effects over a posterior (ctsim.analysis.effects)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ctsim.analysis.effects import effects_markdown, paired_effects
from ctsim.analysis.report import Results
from ctsim.errors import ResultsError


def _results(effect_by_draw: list[float], runs_per_draw: int, noise: list[float],
             threshold: list[int]) -> Results:
    """Two scenarios, one point: replication r of the treated scenario is the reference's
    value plus its draw's effect plus the run's own ``noise[r]``."""
    reps = len(effect_by_draw) * runs_per_draw
    base = np.linspace(0.3, 0.5, reps)
    rows = []
    for r in range(reps):
        draw = r // runs_per_draw
        for scenario, value in (("ref", base[r]),
                                ("treated", base[r] + effect_by_draw[draw] + noise[r])):
            rows.append({"run_id": len(rows), "scenario": scenario, "point": 0,
                         "replication": r, "status": "ok", "disruption_rate": value,
                         "threat.evidence_threshold": threshold[draw]})
    manifest = {"scenarios": ["treated", "ref"], "runs_per_draw": runs_per_draw}
    return Results(Path("folder"), pd.DataFrame(rows), manifest, None, None)


def test_a_draws_effect_is_the_mean_of_its_runs_and_the_quantiles_are_over_draws():
    effects = [0.10, -0.02, 0.05, 0.01]
    noise = [0.01, -0.01, 0.02, -0.02, 0.0, 0.0, 0.03, -0.03]  # sums to 0 within each draw
    res = _results(effects, 2, noise, [1, 2, 2, 3])
    table = paired_effects(res, "ref", ["disruption_rate"])
    (row,) = table.itertuples(index=False)
    assert row.draws == 4 and row.runs_per_draw == 2
    assert row.mean == pytest.approx(np.mean(effects))
    assert row.q50 == pytest.approx(np.quantile(effects, 0.5))
    assert row.q025 == pytest.approx(np.quantile(effects, 0.025))
    assert row.opposite_share == pytest.approx(0.25)  # one draw of four below zero
    # the runs' spread around their draw: sum of squares 0.0028 over 8 - 4 = 4 dof
    assert row.within_sd == pytest.approx(np.sqrt(0.0028 / 4))
    sd = np.std(effects, ddof=1)
    assert row.mean_hi - row.mean == pytest.approx(3.182446 * sd / 2, rel=1e-5)


def test_rows_split_by_a_posterior_mode_hold_only_that_modes_draws():
    res = _results([0.10, -0.02, 0.05, 0.01], 1, [0.0] * 4, [1, 2, 2, 3])
    table = paired_effects(res, "ref", ["disruption_rate"], by="threat.evidence_threshold")
    groups = dict(zip(table["group"], table["mean"], strict=True))
    assert groups["all"] == pytest.approx(0.035)
    assert groups["2"] == pytest.approx(0.015)
    assert groups["3"] == pytest.approx(0.01)
    assert table.set_index("group").loc["1", "draws"] == 1


def test_pairs_with_an_undefined_metric_are_left_out():
    res = _results([0.1, 0.2, 0.3], 1, [0.0] * 3, [1, 1, 1])
    res.runs.loc[(res.runs["scenario"] == "ref") & (res.runs["replication"] == 2),
                 "disruption_rate"] = np.nan
    (row,) = paired_effects(res, "ref", ["disruption_rate"]).itertuples(index=False)
    assert row.draws == 2 and row.mean == pytest.approx(0.15)


def test_an_unknown_reference_scenario_is_a_one_line_error():
    res = _results([0.1, 0.2], 1, [0.0, 0.0], [1, 1])
    with pytest.raises(ResultsError, match="no scenario 'none' \\(its scenarios: treated, ref\\)"):
        paired_effects(res, "none", ["disruption_rate"])
    with pytest.raises(ResultsError, match=r"no column 'threat\.nope'"):
        paired_effects(res, "ref", ["disruption_rate"], by="threat.nope")


def test_the_markdown_table_names_points_and_modes():
    res = _results([0.10, -0.02], 1, [0.0, 0.0], [1, 2])
    table = paired_effects(res, "ref", ["disruption_rate"], by="threat.evidence_threshold")
    lines = effects_markdown(table, {0: "defaults"})
    assert lines[2].startswith("| treated − ref | defaults | ")
    assert "| threat.evidence_threshold = 2 |" in lines[4]
    assert "+0.040 (" in lines[2] and "| 50% |" in lines[2]


def test_runs_pair_by_their_point_within_each_scenarios_block():
    # runs.parquet numbers points across scenarios: scenario 1's points follow scenario 0's
    rows = []
    for s, scenario in enumerate(("treated", "ref")):
        for p in range(2):
            for r in range(2):
                value = 0.1 * p + (0.05 if scenario == "treated" and p == 1 else 0.0)
                rows.append({"run_id": len(rows), "scenario": scenario, "point": 2 * s + p,
                             "replication": r, "status": "ok", "disruption_rate": value})
    res = Results(Path("f"), pd.DataFrame(rows),
                  {"scenarios": ["treated", "ref"], "points": 4}, None, None)
    table = paired_effects(res, "ref", ["disruption_rate"])
    assert table["point"].tolist() == [0, 1]
    assert table["mean"].tolist() == pytest.approx([0.0, 0.05])


def test_the_command_writes_the_table_and_refuses_an_unknown_scenario(tmp_path):
    from click.testing import CliRunner

    from ctsim.cli import cli

    res = _results([0.10, -0.02, 0.05], 1, [0.0] * 3, [1, 2, 2])
    res.runs.to_parquet(tmp_path / "runs.parquet")
    manifest = {**res.manifest, "experiment": "x", "design": "grid", "replications": 3,
                "seed": 1, "ctsim_version": "0.1.0", "metrics": ["disruption_rate"]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    ok = CliRunner().invoke(cli, ["effects", str(tmp_path), "--against", "ref"])
    assert ok.exit_code == 0, ok.output
    assert "| treated − ref | as given | disruption rate | all | 3 × 1 | +0.043" in ok.output
    assert (tmp_path / "effects.csv").is_file() and (tmp_path / "EFFECTS.md").is_file()
    bad = CliRunner().invoke(cli, ["effects", str(tmp_path), "--against", "nope"])
    assert bad.exit_code == 2 and "no scenario 'nope'" in bad.output


def test_the_reports_scenario_sentences_pair_runs_by_point_as_well():
    from ctsim.analysis.report import scenario_sentences

    rows = []
    for s, scenario in enumerate(("other", "base")):
        for p in range(2):
            for r in range(3):
                value = 0.2 + 0.3 * p + (0.1 if scenario == "other" else 0.0)
                rows.append({"run_id": len(rows), "scenario": scenario, "point": 2 * s + p,
                             "replication": r, "status": "ok", "disruption_rate": value})
    res = Results(Path("f"), pd.DataFrame(rows),
                  {"scenarios": ["other", "base"], "points": 4}, None, None)
    (line,) = scenario_sentences(res, "base")
    assert "a difference of +0.100 (95% interval +0.100 to +0.100)" in line
