"""What an experiment (or calibration) file is checked for before any run, and the stored
results a resumed command reads (SCENARIO_FORMAT.md, "Bad input"): an experiment too large
to plan, numbers that are not finite, keys sampled as fractions that take whole numbers,
keys that overlap or that the experiment sets itself, a run too large for memory, names the
system refuses, damaged parts, histories and posteriors. Each is one ``error:`` line with
exit status 2 and nothing written, found at load time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

from ctsim.cli import cli
from ctsim.core.limits import RUNS_MAX
from ctsim.errors import CtsimError, ExperimentError, ResultsError
from ctsim.runs.experiment import (
    Experiment,
    LoadedExperiment,
    count_runs,
    design_points,
    load_experiment,
    plan_runs,
)
from ctsim.runs.posterior import read_posterior
from tests.runs.sweep_helpers import tiny_spec, write_experiment, write_scenario


def invoke(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error_line(result: Result, out: Path | None = None) -> str:
    """The single ``error:`` line of a command that exited 2 and wrote nothing."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if out is not None:
        assert not out.exists()
    return lines[0]


def experiment(tmp_path: Path, **changes) -> Path:
    """The tiny 2 x 2 grid on the small world, with ``changes`` to its keys."""
    write_scenario(tmp_path)
    return write_experiment(tmp_path, tiny_spec(**changes))


def error_of(path: Path) -> ExperimentError:
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    return info.value


# ---------------------------------------------------------------- 4. the size of a design


def test_a_design_of_10_to_the_11_runs_is_refused_at_once(tmp_path):
    factors = {f"k{i}": {"values": list(range(10))} for i in range(10)}
    path = experiment(tmp_path, factors=factors, replications=10)
    err = error_of(path)
    assert err.key == "replications"
    assert err.message.startswith("the experiment has 100,000,000,000 runs (1 scenario(s) x "
                                  "10,000,000,000 design points x 10 replications), more "
                                  f"than the {RUNS_MAX:,} an experiment may have")


def test_ten_million_sampled_runs_are_refused(tmp_path):
    path = experiment(tmp_path, design="lhs", samples=1_000_000, replications=10,
                      factors={"threat.leak_rate": {"range": [0.0, 0.2]}})
    assert "10,000,000 runs" in error_of(path).message


def test_a_100_level_10_factor_grid_is_one_line_from_the_command(tmp_path):
    factors = {f"k{i}": {"range": [0, 1]} for i in range(10)}
    path = experiment(tmp_path, levels=100, factors=factors)
    out = tmp_path / "out"
    line = one_error_line(invoke("sweep", path, "--out", out, "-w", "1"), out)
    assert "has 200,000,000,000,000,000,000 runs" in line


def test_a_design_at_the_limit_is_accepted(tmp_path):
    path = experiment(tmp_path, design="lhs", samples=1_000_000, replications=4,
                      factors={"threat.leak_rate": {"range": [0.0, 0.2]}})
    loaded = load_experiment(path)
    assert count_runs(loaded.spec, 1) == RUNS_MAX


def test_planning_refuses_a_design_over_the_limit_built_in_python():
    spec = Experiment(name="big", scenario="x.yaml", design="random", samples=1_000_000,
                      replications=5, factors={"threat.leak_rate": {"range": [0, 0.2]}})
    with pytest.raises(ExperimentError, match="5,000,000 runs"):
        plan_runs(LoadedExperiment(spec, Path("big.yaml"), ["x"], [{}]))


@pytest.mark.parametrize("fields", [
    {},
    {"design": "grid", "levels": 3, "factors": {"a": {"range": [0, 1]},
                                                "b": {"values": [1, 2]}}},
    {"design": "oat", "levels": 4, "factors": {"a": {"range": [0, 1]}, "b": {"values": [1, 2]},
                                               "c": {"values": ["x", "y", "z"], "cross": True}}},
    {"design": "oat", "factors": {"c": {"values": ["x", "y"], "cross": True}}},
    {"design": "lhs", "samples": 7, "factors": {"a": {"range": [0, 1]}}},
    {"design": "random", "samples": 5, "factors": {"a": {"range": [0, 1]}}},
    {"design": "morris", "trajectories": 3, "levels": 4,
     "factors": {"a": {"range": [0, 1]}, "b": {"range": [1, 2]}}},
    {"design": "sobol", "samples": 8, "factors": {"a": {"range": [0, 1]},
                                                  "b": {"range": [1, 2]}}},
    {"design": "lhs", "samples": 4, "lever_design": "grid", "levels": 3,
     "uncertainties": {"a": {"range": [0, 1]}}, "levers": {"b": {"range": [0, 1]},
                                                           "c": {"values": [1, 2]}}},
    {"design": "grid", "lever_design": "random", "policies": 6,
     "uncertainties": {"a": {"values": [1, 2, 3]}}, "levers": {"b": {"range": [0, 1]}}},
])
@pytest.mark.parametrize("scenarios", [1, 3])
def test_the_counted_runs_are_the_planned_runs(fields, scenarios):
    pytest.importorskip("SALib")
    spec = Experiment.model_validate({"name": "t", "scenario": "x.yaml", "replications": 3}
                                     | fields)
    loaded = LoadedExperiment(spec, Path("t.yaml"), [f"s{i}" for i in range(scenarios)],
                              [{} for _ in range(scenarios)])
    assert count_runs(spec, scenarios) == len(plan_runs(loaded))
    assert count_runs(spec, 1) == len(design_points(spec)) * 3


# ---------------------------------------------------------------- 7. finite numbers


def test_an_infinite_factor_value_is_one_error_naming_the_factor(tmp_path):
    path = experiment(tmp_path, factors={"threat.detection_rate": {"values": [0.1, ".inf"]}})
    text = path.read_text(encoding="utf-8").replace("'.inf'", ".inf")
    path.write_text(text, encoding="utf-8")
    err = error_of(path)
    assert err.key == "factors.threat.detection_rate"
    assert err.message == ("value inf: threat.detection_rate: input should be a finite "
                           "number, got inf")


def test_an_infinite_range_is_refused(tmp_path):
    path = experiment(tmp_path, design="lhs", factors={"threat.ai_boost": {"range": [0, 1]}})
    path.write_text(path.read_text(encoding="utf-8").replace("- 1\n", "- .inf\n", 1),
                    encoding="utf-8")
    err = error_of(path)
    assert err.key == "factors.threat.ai_boost.range.1"
    assert "finite number" in err.message


# ---------------------------------------------------------------- 8. mistakes found at load


def test_a_whole_number_key_sampled_as_fractions_asks_for_integer(tmp_path):
    path = experiment(tmp_path, design="lhs", samples=4,
                      factors={"threat.groups": {"range": [1, 10]}})
    err = error_of(path)
    assert err.key == "factors.threat.groups"
    assert err.message.endswith("the key takes whole numbers and sampled values are "
                                "fractions: add integer: true")
    path = experiment(tmp_path, design="lhs", samples=4,
                      factors={"threat.groups": {"range": [1, 10], "integer": True}})
    assert load_experiment(path).spec.factors["threat.groups"].integer


def test_a_grid_whose_levels_are_whole_numbers_needs_no_integer(tmp_path):
    path = experiment(tmp_path, levels=4, factors={"threat.groups": {"range": [1, 10]}})
    assert [p["threat.groups"] for p in design_points(load_experiment(path).spec)] == [
        1.0, 4.0, 7.0, 10.0]
    path = experiment(tmp_path, levels=5, factors={"threat.groups": {"range": [1, 10]}})
    assert "value 3.25" in error_of(path).message


def test_overlapping_factors_are_refused(tmp_path):
    path = experiment(tmp_path, factors={"threat.lead_time": {"values": [10, 12]},
                                         "threat.lead_time.min": {"values": [5]}})
    err = error_of(path)
    assert err.key == "factors.threat.lead_time.min"
    assert err.message == ("overlaps 'threat.lead_time', which sets it too; vary "
                           "'threat.lead_time' or 'threat.lead_time.min', not both")


def test_an_uncertainty_inside_a_lever_is_refused(tmp_path):
    path = experiment(tmp_path, factors={},
                      uncertainties={"threat.footprint.max": {"values": [2, 3]}},
                      levers={"threat.footprint": {"values": [{"min": 1, "max": 2}]}})
    assert error_of(path).key == "uncertainties.threat.footprint.max"


@pytest.mark.parametrize("key, words", [
    ("seed", "each replication's seed comes from the experiment's seed"),
    ("steps", "every run of an experiment lasts its steps"),
    ("replications", "replications is the experiment's own key"),
])
def test_a_factor_the_experiment_sets_itself_is_refused(tmp_path, key, words):
    path = experiment(tmp_path, factors={key: {"values": [1, 2]}})
    err = error_of(path)
    assert err.key == f"factors.{key}"
    assert err.message.startswith(f"cannot be varied: {words}")


def test_a_design_whose_largest_run_does_not_fit_is_refused_before_the_sweep(tmp_path):
    path = experiment(tmp_path, steps=100_000, factors={
        "threat.groups": {"values": [2, 1000]}, "threat.plots_per_year": {"values": [10, 5200]}})
    out = tmp_path / "out"
    line = one_error_line(invoke("sweep", path, "--out", out, "-w", "1"), out)
    assert "the design's largest run (threat.groups=1000, threat.plots_per_year=5200, " \
           "steps=100000) would not fit: a run would need about" in line


# ---------------------------------------------------------------- 12. names refused


def test_an_over_long_scenario_of_an_experiment_is_one_error(tmp_path):
    path = experiment(tmp_path, scenario="x" * 300 + ".yaml")
    err = error_of(path)
    assert (err.key, err.line) == ("scenario", 2)
    assert err.message.endswith("(305 characters): File name too long")


def test_a_scenario_of_an_experiment_must_be_a_yaml_file(tmp_path):
    path = experiment(tmp_path, scenario="/etc/hostname")
    assert error_of(path).message == "must name a .yaml or .yml file"


def test_an_over_long_experiment_name_is_one_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(invoke("sweep", "e" * 300))
    assert line.endswith("cannot read: File name too long")


# ---------------------------------------------------------------- 14. stored results


@pytest.fixture
def swept(tmp_path) -> tuple[Path, Path]:
    """A finished tiny sweep (serial): its experiment file and results folder."""
    path = experiment(tmp_path)
    out = tmp_path / "res"
    result = invoke("sweep", path, "--out", out, "-w", "1", "--executor", "serial", "-q")
    assert result.exit_code == 0, result.output
    return path, out


@pytest.mark.parametrize("prefix", ["runs", "ts"])
def test_a_truncated_part_on_resume_is_one_error(swept, prefix):
    path, out = swept
    part = sorted((out / "parts").glob(f"{prefix}-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    before = (out / "runs.parquet").read_bytes()
    result = invoke("sweep", path, "--out", out, "-w", "1", "--executor", "serial",
                    "--resume", "-q")
    line = one_error_line(result)
    assert line.startswith(f"error: {part}: a damaged part of the stored results")
    assert line.endswith("resume again to run those runs again")
    assert (out / "runs.parquet").read_bytes() == before


def _posterior(folder: Path, weights: list[float]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"threat.detection_rate": [0.1, 0.2, 0.3][: len(weights)],
                  "weight": weights}).to_csv(folder / "posterior.csv", index=False)
    return folder


@pytest.mark.parametrize("weights, words", [
    ([0.5, float("nan"), 0.5], "column 'weight' holds a value that is not a finite number"),
    ([0.5, float("inf"), 0.5], "column 'weight' holds a value that is not a finite number"),
    ([0.5, -0.1, 0.6], "the weights must be >= 0 with a positive sum"),
    ([0.0, 0.0, 0.0], "the weights must be >= 0 with a positive sum"),
    ([1e308, 1e308, 1e308], "the weights must be >= 0 with a positive sum"),
])
def test_a_posterior_with_unusable_weights_is_refused(tmp_path, weights, words):
    folder = _posterior(tmp_path / "post", weights)
    with pytest.raises(ResultsError, match=words):
        read_posterior(folder)


def test_a_posterior_with_a_nan_parameter_is_refused_by_run(tmp_path):
    folder = _posterior(tmp_path / "post", [0.5, 0.5])
    frame = pd.read_csv(folder / "posterior.csv")
    frame.loc[1, "threat.detection_rate"] = np.nan
    frame.to_csv(folder / "posterior.csv", index=False)
    scenario = write_scenario(tmp_path)
    out = tmp_path / "out"
    line = one_error_line(invoke("run", scenario, "-r", "2", "--steps", "5", "-q",
                                 "--uncertainty", folder, "--out", out), out)
    assert "column 'threat.detection_rate' holds a value that is not a finite number" in line


def test_good_weights_are_read(tmp_path):
    post = read_posterior(_posterior(tmp_path / "post", [0.0, 2.0, 1.0]))
    assert post["weight"].tolist() == [0.0, 2.0, 1.0]


def _draws_spec(**changes) -> dict:
    """tiny_spec without the detection rate factor (the posterior draws it)."""
    return tiny_spec(factors={"cooperation.regime": {"values": ["bilateral", "hybrid"]}},
                     uncertainty="post", **changes)


def test_runs_of_one_draw_share_its_parameters_and_not_their_seeds(tmp_path):
    _posterior(tmp_path / "post", [1.0, 1.0, 1.0])
    write_scenario(tmp_path)
    loaded = load_experiment(write_experiment(tmp_path, _draws_spec(replications=6,
                                                                    runs_per_draw=3)))
    plan = loaded.plan()
    rates = [o["threat.detection_rate"] for o in plan.overrides(0, 6)]  # point 0
    seeds = plan.columns(0, 6)["seed"].tolist()
    assert rates[0] == rates[1] == rates[2] and rates[3] == rates[4] == rates[5]
    assert len(set(seeds)) == 6
    # the draws are those of an experiment of 2 replications, one run a draw
    alone = load_experiment(write_experiment(tmp_path, _draws_spec(replications=2),
                                             "alone.yaml")).plan()
    assert [o["threat.detection_rate"] for o in alone.overrides(0, 2)] == rates[::3]


@pytest.mark.parametrize("changes, words", [
    ({"replications": 5, "runs_per_draw": 2}, "replications (5) is not a whole number of "
                                              "draws of runs_per_draw (2) runs"),
    ({"replications": 4, "runs_per_draw": 2, "uncertainty": None},
     "runs_per_draw needs uncertainty"),
])
def test_runs_per_draw_is_checked(tmp_path, changes, words):
    _posterior(tmp_path / "post", [1.0, 1.0, 1.0])
    write_scenario(tmp_path)
    spec = _draws_spec()
    spec.update(changes)
    if spec["uncertainty"] is None:
        del spec["uncertainty"]
    with pytest.raises(ExperimentError) as caught:
        load_experiment(write_experiment(tmp_path, spec))
    assert words in str(caught.value)


# ---------------------------------------------------------------- calibration files


def _calibration(folder: Path, parameters: dict | None = None, **target) -> Path:
    write_scenario(folder, "world")
    one = {"name": "rate", "metric": "disruption_rate", "observed": 0.4, "sd": 0.05,
           "verified": "source", "match": "test", "source": {
               "author": "ctsim test", "year": 2026, "title": "t", "where": "here"}} | target
    (folder / "targets.yaml").write_text(yaml.safe_dump({"name": "t", "targets": [one]}),
                                         encoding="utf-8")
    spec = {"name": "c", "scenario": "world.yaml", "fit": ["rate"], "replications": 2,
            "population": 10, "populations": 1, "predictive": 2, "parameters": parameters or {
                "threat.detection_rate": {"range": [0.05, 0.3], "why": "test"}}}
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _calibration_error(path: Path) -> ExperimentError:
    pytest.importorskip("pyabc")
    from ctsim.calibration import load_calibration

    with pytest.raises(ExperimentError) as info:
        load_calibration(path)
    return info.value


@pytest.mark.parametrize("field, value, words", [
    ("observed", ".inf", "input should be a finite number, got inf"),
    ("sd", ".inf", "input should be a finite number, got inf"),
    ("sd", ".nan", "input should be a finite number, got nan"),
    ("sd", "1.0e-300", "sd 1e-300 is too small to measure a distance with: at least 1e-12 x "
                       "max(1, |observed|)"),
])
def test_a_target_that_cannot_be_measured_against_is_refused(tmp_path, field, value, words):
    path = _calibration(tmp_path, **{field: 12345.0})
    targets = tmp_path / "targets.yaml"
    targets.write_text(targets.read_text(encoding="utf-8").replace("12345.0", value),
                       encoding="utf-8")
    err = _calibration_error(path)
    assert err.source == str(targets)
    assert words in err.message


def test_a_whole_number_parameter_without_integer_is_refused(tmp_path):
    path = _calibration(tmp_path, {"threat.groups": {"range": [1, 6], "why": "test"}})
    err = _calibration_error(path)
    assert err.key == "parameters.threat.groups"
    assert err.message.endswith("add integer: true")


@pytest.mark.parametrize("parameters, key", [
    ({"threat.lead_time": {"range": [5, 9], "integer": True, "why": "t"},
      "threat.lead_time.max": {"range": [9, 20], "integer": True, "why": "t"}},
     "parameters.threat.lead_time.max"),
    ({"seed": {"range": [1, 9], "integer": True, "why": "t"}}, "parameters.seed"),
])
def test_parameters_that_overlap_or_are_set_by_the_calibration_are_refused(tmp_path,
                                                                           parameters, key):
    assert _calibration_error(_calibration(tmp_path, parameters)).key == key


def test_priors_whose_largest_run_does_not_fit_are_refused(tmp_path):
    path = _calibration(tmp_path, {
        "threat.groups": {"range": [1, 1000], "integer": True, "why": "t"},
        "threat.plots_per_year": {"range": [10, 5200], "why": "t"}})
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) | {"steps": 100_000}
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    err = _calibration_error(path)
    assert err.message.startswith("the calibration's largest run (threat.groups=1000, "
                                  "threat.plots_per_year=5200.0, steps=100000) would not fit")


def test_a_targets_file_outside_yaml_is_not_followed(tmp_path):
    path = _calibration(tmp_path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) | {"targets_file": "/etc/passwd"}
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    err = _calibration_error(path)
    assert (err.key, err.message) == ("targets_file", "must name a .yaml or .yml file")


def test_a_garbage_history_on_resume_is_one_error(tmp_path):
    pytest.importorskip("pyabc")
    import ctsim.calibration as cal

    loaded = cal.load_calibration(_calibration(tmp_path))
    out = tmp_path / "res"
    out.mkdir()
    (out / "history.db").write_bytes(b"this is not SQLite at all" * 100)
    (out / "calibration.json").write_text(json.dumps({"fingerprint": loaded.fingerprint()}),
                                          encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        cal.calibrate(loaded, out, workers=1, resume=True)
    assert str(info.value) == (f"{out / 'history.db'}: not a calibration's history "
                               "(DatabaseError); choose another --out, or remove the folder "
                               "to start again")
    assert isinstance(info.value, CtsimError)
    assert sorted(p.name for p in out.iterdir()) == ["calibration.json", "history.db"]
