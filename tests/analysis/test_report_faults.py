"""``ctsim report`` on results a user edited, damaged or crafted, or cannot write beside:
one ``error:`` line and exit status 2, nothing written, and only declared metric names in
file names; failed runs reported as failed, never as numbers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from ctsim.analysis.report import build_report, load_results
from ctsim.cli import cli
from ctsim.errors import OutputError, ResultsError
from ctsim.runs.experiment import load_experiment
from ctsim.runs.sweeps import run_sweep

TINY = {"name": "tiny", "steps": 20, "world": {"nations": 6, "blocs": 2, "regions": 2},
        "cooperation": {"regime": "hybrid", "institutions": [{"name": "hub"}]},
        "threat": {"groups": 3, "plots_per_year": 40, "detection_rate": 0.15}}


def _sweep(tmp: Path, experiment: dict) -> Path:
    (tmp / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    exp = tmp / "exp.yaml"
    exp.write_text(yaml.safe_dump({"scenario": "tiny.yaml", "seed": 3, **experiment}))
    run_sweep(load_experiment(exp), tmp / "out", executor="serial")
    return tmp / "out"


@pytest.fixture(scope="module")
def grid_results(tmp_path_factory) -> Path:
    return _sweep(tmp_path_factory.mktemp("grid"), {
        "name": "grid", "design": "grid", "replications": 2,
        "factors": {"world.sovereignty.mean": {"values": [0.0, 1.0]},
                    "threat.leak_rate": {"values": [0.0, 0.6]}},
        "metrics": ["disruption_rate", "attacks"]})


@pytest.fixture(scope="module")
def oat_results(tmp_path_factory) -> Path:
    return _sweep(tmp_path_factory.mktemp("oat"), {
        "name": "oat", "design": "oat", "replications": 3,
        "factors": {"threat.leak_rate": {"values": [0.0, 0.5, 1.0]},
                    "threat.ai_boost": {"values": [0.0, 2.0]}},
        "metrics": ["disruption_rate", "attacks"]})


@pytest.fixture
def grid(grid_results, tmp_path) -> Path:
    """A copy of the grid's results, to damage."""
    return Path(shutil.copytree(grid_results, tmp_path / "grid"))


@pytest.fixture
def oat(oat_results, tmp_path) -> Path:
    return Path(shutil.copytree(oat_results, tmp_path / "oat"))


def report(*args: object):
    return CliRunner().invoke(cli, ["report", *map(str, args)])


def one_error_line(result, naming: str = "") -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert naming in lines[0], lines[0]
    return lines[0]


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def edit_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def edit_runs(folder: Path, change) -> None:
    runs = pd.read_parquet(folder / "runs.parquet")
    runs = change(runs)
    runs.to_parquet(folder / "runs.parquet")


# ---------------------------------------------------------------- names that become paths


@pytest.mark.parametrize("design", ["grid", "sobol"])
def test_a_crafted_metric_name_never_becomes_a_path(grid, tmp_path, design):
    crafted = "x/../../../escaped"  # figures/heatmap_x/../../.. is the folder above grid
    edit_runs(grid, lambda r: r.assign(**{crafted: r["disruption_rate"]}))
    edit_manifest(grid, lambda m: m.update(design=design,
                                           metrics=[crafted, *m["metrics"]]))
    if design == "sobol":
        pd.DataFrame([{"metric": crafted, "factor": "threat.leak_rate", "S1": 0.1,
                       "S1_conf": 0.01, "ST": 0.2, "ST_conf": 0.02}]).to_csv(
            grid / "sensitivity.csv", index=False)
    before = files_under(tmp_path)
    result = report(grid)
    assert result.exit_code == 0, result.output
    new = files_under(tmp_path) - before
    assert new and all(p.is_relative_to(grid) for p in new), new
    assert not any("escaped" in str(p) for p in new)
    assert not (tmp_path / "escaped.png").exists()
    if design == "grid":
        assert (grid / "figures" / "heatmap_disruption_rate.png").is_file()


# ---------------------------------------------------------------- places that cannot be written


def test_report_into_a_file_or_an_unwritable_place_is_one_line(grid, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    one_error_line(report(grid, "--out", taken), "not a folder")
    assert taken.read_text() == "mine"
    one_error_line(report(grid, "--out", "/proc/ctsim-report"), "cannot write there")
    with pytest.raises(OutputError):
        build_report(grid, "/proc/ctsim-report")
    assert not (grid / "REPORT.md").exists() and not (grid / "figures").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind the superuser")
def test_report_on_a_read_only_folder_is_one_line(grid):
    os.chmod(grid, 0o555)
    try:
        one_error_line(report(grid), "cannot write there")
    finally:
        os.chmod(grid, 0o755)
    assert not (grid / "REPORT.md").exists()


# ---------------------------------------------------------------- stored files not as written


@pytest.mark.parametrize(("change", "says"), [
    (lambda m: m.pop("design"), "no 'design'"),
    (lambda m: m.pop("experiment"), "no 'experiment'"),
    (lambda m: m.update(replications="three"), "'replications' should be a whole number"),
    (lambda m: m.update(seed=True), "'seed' should be a whole number"),
    (lambda m: m.update(experiment=5), "'experiment' should be text"),
    (lambda m: m.update(factors=["threat.leak_rate"]), "'factors' should be a mapping"),
    (lambda m: m.update(factors={"threat.leak_rate": 3}), "'factors' should map"),
    (lambda m: m.update(metrics="disruption_rate"), "'metrics' should be a list"),
    (lambda m: m.update(metrics=[1, 2]), "'metrics' should be a list of names"),
    (lambda m: m.update(description=["a"]), "'description' should be text"),
])
def test_a_manifest_without_its_keys_or_with_other_types_is_one_line(grid, change, says):
    edit_manifest(grid, change)
    with pytest.raises(ResultsError, match=says):
        load_results(grid)
    one_error_line(report(grid), "manifest.json")
    assert not (grid / "REPORT.md").exists()


@pytest.mark.parametrize(("change", "says"), [
    (lambda r: r.drop(columns=["disruption_rate"]), "no 'disruption_rate' column"),
    (lambda r: r.drop(columns=["threat.leak_rate"]), "no 'threat.leak_rate' column"),
    (lambda r: r.assign(attacks="many"), "'attacks' does not hold numbers"),
])
def test_a_runs_table_without_what_its_manifest_names_is_one_line(grid, change, says):
    edit_runs(grid, change)
    with pytest.raises(ResultsError, match=says):
        load_results(grid)
    one_error_line(report(grid), "runs.parquet")


@pytest.mark.parametrize(("text", "says"), [
    ("", "unreadable"),
    ("garbage text\n", "no 'metric' column"),
    ("metric,factor,mu_star,mu_star_conf\ndisruption_rate,threat.leak_rate,0.1,0.01\n",
     "no 'sigma' column"),
    ("metric,factor,mu_star,mu_star_conf,sigma\ndisruption_rate,threat.leak_rate,high,0,0\n",
     "'mu_star' does not hold numbers"),
])
def test_a_bad_sensitivity_table_is_one_line(grid, text, says):
    edit_manifest(grid, lambda m: m.update(design="morris"))
    (grid / "sensitivity.csv").write_text(text)
    with pytest.raises(ResultsError, match=says):
        load_results(grid)
    one_error_line(report(grid), "sensitivity.csv")


def test_a_sensitivity_table_without_the_reported_metric_reports_none(grid):
    edit_manifest(grid, lambda m: m.update(design="sobol"))
    pd.DataFrame([{"metric": "plots", "factor": "threat.leak_rate", "S1": 0.1,
                   "S1_conf": np.nan, "ST": 0.2, "ST_conf": np.nan}]).to_csv(
        grid / "sensitivity.csv", index=False)
    result = report(grid)
    assert result.exit_code == 0, result.output
    assert "Ranked by" not in (grid / "REPORT.md").read_text()


# ---------------------------------------------------------------- failed and missing runs


def test_an_empty_runs_table_has_nothing_to_report(grid):
    edit_runs(grid, lambda r: r.iloc[0:0])
    line = one_error_line(report(grid), "runs.parquet")
    assert "holds no runs; there is nothing to report" in line
    assert not (grid / "REPORT.md").exists()


def test_runs_that_all_failed_have_nothing_to_report(grid):
    edit_runs(grid, lambda r: r.assign(status="failed", error="ValueError: boom",
                                       disruption_rate=np.nan, attacks=np.nan))
    line = one_error_line(report(grid), "runs.parquet")
    assert "none of its 8 runs finished" in line


def test_failed_runs_are_counted_as_failed_and_never_reported_as_numbers(oat):
    # every run at the top level of the leak rate failed; the manifest still says all ok
    def fail_top(runs):
        top = runs["threat.leak_rate"].eq(1.0) & runs["sweep"].eq("threat.leak_rate")
        runs.loc[top, ["status", "error"]] = ["failed", "ValueError: boom"]
        runs.loc[top, ["disruption_rate", "attacks"]] = np.nan
        return runs

    edit_runs(oat, fail_top)
    runs = pd.read_parquet(oat / "runs.parquet")
    failed = int(runs["status"].ne("ok").sum())
    assert failed == 3
    result = report(oat)
    assert result.exit_code == 0, result.output
    text = (oat / "REPORT.md").read_text()
    assert f"{len(runs)} runs ({len(runs) - failed} ok, {failed} failed)" in text
    assert f"{failed} of the {len(runs)} runs failed" in text
    assert "nan" not in text.lower()
    assert "threat.ai_boost" in text  # the factor whose runs finished is still reported


def test_a_grid_corner_without_finished_runs_is_said_so(grid):
    def fail_corner(runs):
        corner = runs["threat.leak_rate"].eq(0.6) & runs["world.sovereignty.mean"].eq(1.0)
        runs.loc[corner, "status"] = "failed"
        runs.loc[corner, ["disruption_rate", "attacks"]] = np.nan
        return runs

    edit_runs(grid, fail_corner)
    result = report(grid)
    assert result.exit_code == 0, result.output
    text = (grid / "REPORT.md").read_text()
    assert "Not every corner of the grid has finished runs" in text
    assert "interaction" not in text and "nan" not in text.lower()
