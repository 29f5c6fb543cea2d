"""``ctsim run`` keeps what it computed: the scenario validated once, each replication's
world drawn once, no table read back and no replication run again for the figures; the
first replication's snapshot stored with the results, so that ``ctsim report`` draws the
run's figures from the folder alone; ``--resume`` never replaces another run's results."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import ctsim
from ctsim.analysis.snapshot import SNAPSHOT_FILE, RunSnapshot
from ctsim.cli import cli
from ctsim.core import scenario as scenario_module
from ctsim.core import simulation
from ctsim.errors import OutputError, ResultsError
from ctsim.runs import pipeline, runner
from ctsim.runs.seeds import replication_seeds
from tests.conftest import SMALL, StopAfter

RUN_FIGURES = ["haven_ranking.png", "outcomes.png", "safe_havens.png", "trust_network.png"]


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    return write(tmp_path / "small.yaml", SMALL | {"steps": 30})


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def counted(monkeypatch):
    """Counts of scenario validations, world draws, runs and table reads while a test runs."""
    counts = {"validated": 0, "worlds": 0, "runs": 0, "reads": 0}

    def counting(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(scenario_module, "_validated",
                        counting("validated", scenario_module._validated))
    monkeypatch.setattr(simulation, "build_world", counting("worlds", simulation.build_world))
    monkeypatch.setattr(runner, "run_one", counting("runs", runner.run_one))
    monkeypatch.setattr(pd, "read_parquet", counting("reads", pd.read_parquet))
    monkeypatch.setattr(pd, "read_csv", counting("reads", pd.read_csv))
    return counts


# ---------------------------------------------------------------- what a run computes, once


def test_a_run_validates_its_scenario_once_and_draws_each_world_once(small_file, tmp_path,
                                                                    counted):
    outcome = ctsim.run(small_file, replications=3, out=tmp_path / "out", figures="png")
    assert counted == {"validated": 1, "worlds": 3, "runs": 3, "reads": 0}
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == RUN_FIGURES
    assert len(outcome.runs) == 3


def test_a_scenario_given_as_an_object_is_not_validated_again(small_file, tmp_path, counted):
    scenario = ctsim.load_scenario(small_file)
    assert counted["validated"] == 1
    ctsim.run(scenario, replications=3, seed=11, steps=20, out=tmp_path / "out")
    assert counted == {"validated": 1, "worlds": 3, "runs": 3, "reads": 0}
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert (doc["seed"], doc["steps"], doc["replications"]) == (11, 20, 3)


def test_the_command_validates_once_too(small_file, tmp_path, counted):
    result = CliRunner().invoke(cli, ["run", str(small_file), "-r", "3", "--seed", "4",
                                      "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert counted == {"validated": 1, "worlds": 3, "runs": 3, "reads": 0}


@pytest.mark.parametrize(("setting", "value", "says"), [
    ("steps", 0, "greater than or equal to 1"), ("seed", -1, "greater than or equal to 0"),
    ("replications", 100_001, "less than or equal to 100000")])
def test_a_run_setting_out_of_its_range_is_refused_before_anything_runs(
        small_file, tmp_path, setting, value, says):
    scenario = ctsim.load_scenario(small_file)
    with pytest.raises(ctsim.ScenarioError, match=f"{setting}: input should be {says}"):
        pipeline.with_run_settings(scenario, **{setting: value})
    with pytest.raises(ctsim.CtsimError):
        pipeline.run(scenario, out=tmp_path / "out", **{setting: value})
    assert not (tmp_path / "out").exists()


def test_run_settings_give_what_a_validated_scenario_gives(small_file):
    scenario = ctsim.load_scenario(small_file)
    quick = pipeline.with_run_settings(scenario, seed=9, steps=12, replications=4)
    assert quick == scenario.with_overrides({"seed": 9, "steps": 12, "replications": 4})
    assert pipeline.with_run_settings(scenario) is scenario


def test_the_snapshot_is_the_first_replication_at_its_end(small_file, tmp_path):
    out = tmp_path / "out"
    outcome = ctsim.run(small_file, replications=2, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["snapshot"] == SNAPSHOT_FILE
    stored = RunSnapshot.load(out / SNAPSHOT_FILE)
    seed = replication_seeds(outcome.scenario.seed, 2)[0]
    model = runner.run_one(outcome.scenario, seed, keep_model=True).model
    assert stored.world.names == model.world.names
    assert np.array_equal(stored.world.trust0, model.world.trust0)
    assert np.array_equal(stored.trust, model.trust)
    assert np.array_equal(stored.inst_trust, model.inst_trust)
    assert np.array_equal(stored.plots_by_base, model.counts.plots_by_base)
    assert stored.steps == model.steps == 30
    assert stored.haven_concentration == pytest.approx(
        model.metrics(["haven_concentration"])["haven_concentration"])
    # the one in memory is the one on disk
    assert np.array_equal(outcome.snapshot.trust, stored.trust)


def test_the_snapshot_survives_an_interruption_and_a_resume(small_file, tmp_path):
    fresh = ctsim.run(small_file, replications=4, out=tmp_path / "fresh")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        ctsim.run(small_file, replications=4, out=out, on_progress=StopAfter(2))
    resumed = ctsim.run(small_file, replications=4, out=out, resume=True, figures="png")
    assert (resumed.ran, resumed.resumed) == (2, 2)
    assert np.array_equal(resumed.snapshot.trust, fresh.snapshot.trust)
    assert (out / SNAPSHOT_FILE).read_bytes() == (tmp_path / "fresh" / SNAPSHOT_FILE
                                                  ).read_bytes()
    assert sorted(p.name for p in (out / "figures").iterdir()) == RUN_FIGURES


# ---------------------------------------------------------------- ctsim report of a run


def test_report_draws_the_run_figures_from_the_folder_alone(small_file, tmp_path, monkeypatch):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(small_file), "-r", "2", "--out", str(out),
                                      "-q"])
    assert result.exit_code == 0, result.output
    drawn = {p.name: p.read_bytes() for p in (out / "figures").iterdir()}
    assert sorted(drawn) == RUN_FIGURES
    copied = tmp_path / "copied"
    shutil.copytree(out, copied)
    shutil.rmtree(copied / "figures")

    def no_run(*args, **kwargs):
        raise AssertionError("the report ran a model")

    monkeypatch.setattr(runner, "run_one", no_run)
    monkeypatch.setattr(simulation, "build_world", no_run)
    result = CliRunner().invoke(cli, ["report", str(copied)])
    assert result.exit_code == 0, result.output
    again = {p.name: p.read_bytes() for p in (copied / "figures").iterdir()}
    assert again == drawn  # the same figures, byte for byte
    text = (copied / "REPORT.md").read_text()
    for name in RUN_FIGURES:
        assert f"(figures/{name})" in text
    assert "2 runs (2 ok, 0 failed)" in text


def test_report_of_a_run_folder_with_a_damaged_snapshot_is_one_line(small_file, tmp_path):
    out = tmp_path / "out"
    ctsim.run(small_file, replications=2, out=out)
    (out / SNAPSHOT_FILE).write_bytes(b"PK\x03\x04 torn")
    line = one_error_line(CliRunner().invoke(cli, ["report", str(out)]))
    assert SNAPSHOT_FILE in line
    (out / SNAPSHOT_FILE).unlink()
    line = one_error_line(CliRunner().invoke(cli, ["report", str(out)]))
    assert "missing" in line
    assert not (out / "REPORT.md").exists()


def test_a_snapshot_named_outside_its_folder_is_refused(small_file, tmp_path):
    out = tmp_path / "out"
    ctsim.run(small_file, replications=2, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    (tmp_path / "elsewhere.npz").write_bytes((out / SNAPSHOT_FILE).read_bytes())
    manifest["snapshot"] = "../elsewhere.npz"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ResultsError, match="should name a file in the folder"):
        from ctsim.analysis.report import build_report
        build_report(out)


def test_run_figures_of_an_outcome_in_hand_need_no_run(small_file, tmp_path, counted):
    outcome = ctsim.run(small_file, replications=2, out=tmp_path / "out", figures="svg")
    before = dict(counted)
    folder = pipeline.run_figures(outcome, "png")
    assert counted == before  # nothing read, nothing run
    assert sorted(p.name for p in folder.iterdir()) == RUN_FIGURES


# ---------------------------------------------------------------- --resume over other results


def test_resume_over_another_scenarios_results_is_refused(small_file, tmp_path):
    out = tmp_path / "out"
    first = CliRunner().invoke(cli, ["run", str(small_file), "-r", "2", "--out", str(out),
                                     "-q", "--no-figures"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    leaks = write(tmp_path / "leaks.yaml", SMALL | {"name": "leaks", "steps": 30,
                                                     "threat": SMALL["threat"] | {
                                                         "leak_rate": 0.5}})
    line = one_error_line(CliRunner().invoke(cli, ["run", str(leaks), "-r", "2", "--out",
                                                   str(out), "--resume", "-q"]))
    assert "'small'" in line and "--overwrite" in line
    # the same scenario with other settings is another run too
    one_error_line(CliRunner().invoke(cli, ["run", str(small_file), "-r", "3", "--out",
                                            str(out), "--resume", "-q"]))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the very same run may be resumed: it gives the same results
    again = CliRunner().invoke(cli, ["run", str(small_file), "-r", "2", "--out", str(out),
                                     "--resume", "-q", "--no-figures"])
    assert again.exit_code == 0, again.output
    assert (out / "summary.json").read_bytes() == before["summary.json"]


def test_resume_over_another_comparison_is_refused(small_file, tmp_path):
    other = write(tmp_path / "other.yaml", SMALL | {"name": "other", "steps": 30,
                                                     "cooperation": {"regime": "none"}})
    third = write(tmp_path / "third.yaml", SMALL | {"name": "third", "steps": 30})
    out = tmp_path / "cmp"
    pipeline.compare([small_file, other], replications=2, out=out)
    before = (out / "comparison.csv").read_bytes()
    with pytest.raises(OutputError, match="'small', 'other'"):
        pipeline.compare([small_file, third], replications=2, out=out, resume=True)
    line = one_error_line(CliRunner().invoke(cli, ["compare", str(small_file), str(third),
                                                   "-r", "2", "--out", str(out), "--resume"]))
    assert "--overwrite" in line
    assert (out / "comparison.csv").read_bytes() == before
    same = pipeline.compare([small_file, other], replications=2, out=out, resume=True)
    assert (out / "comparison.csv").read_bytes() == before and same.baseline == "small"


def test_compare_draws_its_figure_before_its_folder_is_in_place(small_file, tmp_path):
    other = write(tmp_path / "other.yaml", copy.deepcopy(SMALL) | {"name": "other",
                                                                   "steps": 30})
    out = tmp_path / "cmp"
    result = CliRunner().invoke(cli, ["compare", str(small_file), str(other), "-r", "2",
                                      "--out", str(out), "--format", "svg"])
    assert result.exit_code == 0, result.output
    assert (out / "comparison.svg").is_file() and (out / "comparison.csv").is_file()
    assert not list(tmp_path.glob(".cmp*"))  # no staging or lock left beside it


def test_a_run_whose_first_replication_fails_is_one_line_and_writes_nothing(
        small_file, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(runner, "run_one", boom)
    result = CliRunner().invoke(cli, ["run", str(small_file), "-r", "2", "--out",
                                      str(tmp_path / "out"), "-q"])
    line = one_error_line(result)
    assert "the first replication failed (ValueError: boom)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]  # nothing beside
