"""Experiment files: the schema, each design's points, run plans and the one-line errors.

The contract is /work/shared/SCENARIO_FORMAT.md ("Experiment" and "Bad input"): an
experiment names one scenario or several, factors (dotted scenario keys with ``values`` or
a ``range``), a design, replications, steps, seed and metrics; every mistake is a
:class:`ScenarioError` naming the file and the key path, and ``ctsim sweep`` prints it as one
line ``error: ...`` with exit status 2 and writes nothing.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from ctsim.cli import cli
from ctsim.core.metrics import METRICS
from ctsim.core.scenario import ScenarioError
from ctsim.errors import ExperimentError
from ctsim.runs.experiment import (
    DESIGNS,
    Experiment,
    design_points,
    load_experiment,
    plan_runs,
)
from ctsim.runs.seeds import replication_seeds
from tests.conftest import ROOT
from tests.runs.sweep_helpers import write_experiment, write_scenario

EXPERIMENTS = ROOT / "experiments"
#: The shipped sweeps (the calibration and targets files beside them are not sweeps).
SHIPPED = sorted(p for p in EXPERIMENTS.glob("*.yaml")
                 if p.stem != "targets" and not p.stem.startswith("calibrate_"))


def spec(**fields) -> Experiment:
    """An experiment schema object (design_points needs no scenario file)."""
    return Experiment.model_validate({"name": "t", "scenario": "x.yaml"} | fields)


def expected_points(s: Experiment) -> int:
    """The number of design points, from the formulas in docs/SCENARIO_FORMAT.md."""
    f = s.factors
    levels = {k: len(v.levels(s.levels)) for k, v in f.items()}
    if not f:
        return 1
    if s.design == "grid":
        return math.prod(levels.values())
    if s.design == "oat":
        crossed = math.prod(n for k, n in levels.items() if f[k].cross)
        swept = sum(n for k, n in levels.items() if not f[k].cross)
        return (swept or 1) * crossed
    if s.design in ("lhs", "random"):
        return s.samples
    if s.design == "morris":
        return (len(f) + 1) * s.trajectories
    return s.samples * (len(f) + 2 + s.dummy)  # sobol, first and total order only


# ---------------------------------------------------------------- designs


def test_designs_are_the_documented_six():
    assert DESIGNS == ("grid", "oat", "lhs", "random", "morris", "sobol")


def test_no_factors_is_one_point():
    for design in ("grid", "oat", "lhs", "random"):
        assert design_points(spec(design=design)) == [{}]


def test_grid_is_the_full_factorial():
    s = spec(design="grid", levels=4, factors={
        "a": {"values": [1, 2, 3]},
        "b": {"values": ["x", "y"]},
        "c": {"range": [0.0, 1.0]},
    })
    points = design_points(s)
    assert len(points) == 3 * 2 * 4 == expected_points(s)
    combos = {(p["a"], p["b"], p["c"]) for p in points}
    assert len(combos) == len(points), "a grid point repeats"
    assert sorted({p["c"] for p in points}) == pytest.approx(list(np.linspace(0, 1, 4)))
    assert {p["a"] for p in points} == {1, 2, 3}
    assert {p["b"] for p in points} == {"x", "y"}


def test_grid_splits_a_range_into_levels_and_rounds_integers():
    s = spec(design="grid", levels=4, factors={
        "threat.groups": {"range": [0, 10], "integer": True},
        "threat.leak_rate": {"range": [0.0, 0.3]},
    })
    points = design_points(s)
    assert len(points) == 16
    groups = sorted({p["threat.groups"] for p in points})
    assert groups == [0, 3, 7, 10]  # round(linspace(0, 10, 4))
    assert all(type(p["threat.groups"]) is int for p in points)
    leaks = sorted({p["threat.leak_rate"] for p in points})
    assert leaks == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert all(type(p["threat.leak_rate"]) is float for p in points)


@pytest.mark.parametrize("levels", [2, 3, 7])
def test_grid_levels_of_a_range_include_both_ends(levels):
    s = spec(design="grid", levels=levels, factors={"x": {"range": [0.2, 0.9]}})
    values = [p["x"] for p in design_points(s)]
    assert len(values) == levels
    assert values[0] == pytest.approx(0.2) and values[-1] == pytest.approx(0.9)
    assert np.all(np.diff(values) > 0)


def test_oat_sweeps_each_factor_alone_crossed_with_the_cross_factors():
    s = spec(design="oat", levels=4, factors={
        "a": {"values": [1, 2, 3]},
        "b": {"range": [0.0, 1.0]},
        "r": {"values": ["bilateral", "hybrid"], "cross": True},
        "s": {"values": [10, 20, 30], "cross": True},
    })
    points = design_points(s)
    assert len(points) == (3 + 4) * (2 * 3) == expected_points(s)
    assert {p["sweep"] for p in points} == {"a", "b"}
    for p in points:
        swept = p["sweep"]
        other = "b" if swept == "a" else "a"
        assert swept in p and other not in p, "oat moves one factor at a time"
        assert "r" in p and "s" in p, "every point carries the crossed factors"
    for name, n in (("a", 3), ("b", 4)):
        mine = [p for p in points if p["sweep"] == name]
        assert len(mine) == n * 6
        assert len({(p[name], p["r"], p["s"]) for p in mine}) == n * 6


def test_oat_without_cross_factors_is_the_sum_of_levels():
    s = spec(design="oat", levels=3, factors={
        "a": {"values": [1, 2, 3, 4, 5]}, "b": {"range": [0.0, 1.0]}, "c": {"values": [True]},
    })
    points = design_points(s)
    assert len(points) == 5 + 3 + 1 == expected_points(s)
    assert [p["sweep"] for p in points] == ["a"] * 5 + ["b"] * 3 + ["c"]


def test_oat_with_only_cross_factors_is_their_product_tagged_with_no_sweep():
    s = spec(design="oat", factors={
        "r": {"values": ["bilateral", "hybrid"], "cross": True},
        "s": {"values": [1, 2, 3], "cross": True},
    })
    points = design_points(s)
    assert len(points) == 6
    assert all(p["sweep"] == "" for p in points)


@pytest.mark.parametrize("n", [1, 7, 40])
def test_lhs_puts_one_sample_in_each_stratum_of_each_factor(n):
    bounds = {"a": (0.0, 1.0), "b": (-2.0, 3.0), "c": (0.05, 0.2)}
    s = spec(design="lhs", samples=n, seed=11,
             factors={k: {"range": list(v)} for k, v in bounds.items()})
    points = design_points(s)
    assert len(points) == n == expected_points(s)
    for k, (lo, hi) in bounds.items():
        x = np.array([p[k] for p in points])
        assert np.all((x >= lo) & (x < hi))
        strata = np.floor((x - lo) / (hi - lo) * n).astype(int)
        assert sorted(strata) == list(range(n)), f"{k}: not one sample per stratum"


def test_lhs_spreads_a_values_factor_evenly():
    s = spec(design="lhs", samples=12, factors={
        "r": {"values": ["none", "bilateral", "multilateral", "hybrid"]},
        "x": {"range": [0.0, 1.0]},
    })
    points = design_points(s)
    counts = {v: sum(p["r"] == v for p in points) for v in ("none", "bilateral",
                                                             "multilateral", "hybrid")}
    assert counts == dict.fromkeys(counts, 3)


def test_random_design_draws_samples_inside_the_ranges():
    s = spec(design="random", samples=50, factors={
        "a": {"range": [1.0, 2.0]}, "n": {"range": [3, 9], "integer": True},
        "v": {"values": ["p", "q"]},
    })
    points = design_points(s)
    assert len(points) == 50 == expected_points(s)
    assert all(1.0 <= p["a"] < 2.0 for p in points)
    assert all(type(p["n"]) is int and 3 <= p["n"] <= 9 for p in points)
    assert {p["v"] for p in points} == {"p", "q"}


@pytest.mark.parametrize("design", ["lhs", "random", "morris", "sobol"])
def test_sampled_designs_follow_the_seed(design):
    factors = {"a": {"range": [0.0, 1.0]}, "b": {"range": [5.0, 6.0]}}
    fields = {"design": design, "samples": 8, "trajectories": 3, "levels": 4,
              "factors": factors}
    one = design_points(spec(seed=1, **fields))
    assert design_points(spec(seed=1, **fields)) == one
    assert design_points(spec(seed=2, **fields)) != one


@pytest.mark.parametrize("k,trajectories", [(1, 2), (3, 5), (4, 1)])
def test_morris_is_k_plus_one_points_per_trajectory_moving_one_factor_at_a_time(
        k, trajectories):
    names = [f"f{i}" for i in range(k)]
    s = spec(design="morris", trajectories=trajectories, levels=4,
             factors={n: {"range": [0.0, 10.0]} for n in names})
    points = design_points(s)
    assert len(points) == (k + 1) * trajectories == expected_points(s)
    for t in range(trajectories):
        traj = points[t * (k + 1):(t + 1) * (k + 1)]
        moved = []
        for before, after in itertools.pairwise(traj):
            changed = [n for n in names if before[n] != after[n]]
            assert len(changed) == 1, "a Morris step moves exactly one factor"
            moved += changed
        assert sorted(moved) == names, "each factor moves once per trajectory"
    assert all(0.0 <= p[n] <= 10.0 for p in points for n in names)


def test_morris_rounds_integer_factors():
    s = spec(design="morris", trajectories=4, levels=4, factors={
        "threat.groups": {"range": [1, 9], "integer": True}, "x": {"range": [0.0, 1.0]}})
    points = design_points(s)
    assert all(type(p["threat.groups"]) is int for p in points)
    assert all(type(p["x"]) is float for p in points)


@pytest.mark.parametrize("k,samples", [(1, 4), (2, 8), (3, 16)])
def test_sobol_is_samples_times_k_plus_two(k, samples):
    s = spec(design="sobol", samples=samples,
             factors={f"f{i}": {"range": [0.0, 1.0]} for i in range(k)})
    points = design_points(s)
    assert len(points) == samples * (k + 2) == expected_points(s)
    assert all(0.0 <= p[f"f{i}"] <= 1.0 for p in points for i in range(k))


# ---------------------------------------------------------------- run plans


@pytest.fixture
def folder(tmp_path) -> Path:
    write_scenario(tmp_path, "small")
    write_scenario(tmp_path, "other", steps=30)
    return tmp_path


def test_plan_runs_numbers_runs_and_shares_seeds_across_points(folder):
    path = write_experiment(folder, {
        "name": "plan", "scenario": "small.yaml", "replications": 4, "seed": 123,
        "factors": {"threat.detection_rate": {"values": [0.1, 0.2, 0.3]},
                    "cooperation.regime": {"values": ["bilateral", "hybrid"]}},
    })
    loaded = load_experiment(path)
    runs = plan_runs(loaded)
    seeds = replication_seeds(123, 4)
    assert len(runs) == 3 * 2 * 4
    assert [r.run_id for r in runs] == list(range(len(runs)))
    assert {r.point for r in runs} == set(range(6))
    for r in runs:
        assert r.seed == seeds[r.replication], "common random numbers: one seed per replication"
        assert r.scenario == 0
        assert set(r.overrides) == {"threat.detection_rate", "cooperation.regime"}
    by_point = {}
    for r in runs:
        by_point.setdefault(r.point, []).append(r)
    for reps in by_point.values():
        assert [r.replication for r in reps] == [0, 1, 2, 3]
        assert len({repr(r.overrides) for r in reps}) == 1
    assert len({repr(sorted(reps[0].overrides.items())) for reps in by_point.values()}) == 6


def test_replication_seeds_are_what_ctsim_run_uses():
    seeds = replication_seeds(7, 5)
    assert seeds == replication_seeds(7, 5)
    assert replication_seeds(7, 3) == seeds[:3], "adding replications keeps the first seeds"
    assert len(set(seeds)) == 5
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)


def test_several_scenarios_multiply_the_runs(folder):
    path = write_experiment(folder, {
        "name": "two", "scenarios": ["small.yaml", "other.yaml"], "replications": 3,
        "factors": {"threat.leak_rate": {"values": [0.0, 0.1]}},
    })
    loaded = load_experiment(path)
    assert loaded.scenario_names == ["small", "other"]
    runs = plan_runs(loaded)
    assert len(runs) == 2 * 2 * 3
    assert [r.run_id for r in runs] == list(range(12))
    assert [r.scenario for r in runs] == [0] * 6 + [1] * 6
    first, second = runs[:6], runs[6:]
    assert [(r.overrides, r.replication, r.seed) for r in first] == \
        [(r.overrides, r.replication, r.seed) for r in second]
    assert loaded.steps == [52, 30], "each scenario keeps its own steps"


def test_experiment_steps_override_every_scenario(folder):
    path = write_experiment(folder, {"name": "s", "scenarios": ["small.yaml", "other.yaml"],
                                     "steps": 9})
    assert load_experiment(path).steps == [9, 9]


def test_oat_runs_carry_their_sweep(folder):
    path = write_experiment(folder, {
        "name": "oat", "scenario": "small.yaml", "design": "oat", "replications": 2,
        "factors": {"threat.leak_rate": {"values": [0.0, 0.1]},
                    "relations.trust": {"values": [0.2, 0.5, 0.9]},
                    "cooperation.regime": {"values": ["bilateral", "hybrid"], "cross": True}},
    })
    runs = plan_runs(load_experiment(path))
    assert len(runs) == (2 + 3) * 2 * 2
    assert {r.sweep for r in runs} == {"threat.leak_rate", "relations.trust"}
    for r in runs:
        assert "sweep" not in r.overrides
        assert set(r.overrides) == {r.sweep, "cooperation.regime"}


def test_defaults(folder):
    s = load_experiment(write_experiment(folder, {"name": "d", "scenario": "small.yaml"})).spec
    assert s.design == "grid"
    assert s.timeseries is False
    assert s.metric_names == list(METRICS)
    assert s.steps is None


# ---------------------------------------------------------------- shipped experiments


def test_a_calibration_file_given_to_sweep_says_to_calibrate_it():
    with pytest.raises(ExperimentError, match="not a sweep: run a calibration with ctsim "
                       "calibrate"):
        load_experiment(EXPERIMENTS / "calibrate_world.yaml")


def test_the_four_experiments_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {"challenges", "morris", "regimes", "sovereignty_x_legal"} <= names


@pytest.mark.parametrize("path", [  # the Sobol' designs plan 10^5 runs: seconds, not ms
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem.startswith("sobol")
                 else [])
    for p in SHIPPED])
def test_every_shipped_experiment_loads_with_its_run_count(path):
    loaded = load_experiment(path)
    s = loaded.spec
    assert s.name == path.stem
    assert s.description.strip()
    runs = plan_runs(loaded)
    n_points = expected_points(s)
    assert len(design_points(s)) == n_points
    assert len(runs) == len(loaded.scenario_dicts) * n_points * s.replications
    assert [r.run_id for r in runs] == list(range(len(runs)))


# ---------------------------------------------------------------- bad files

BAD = {
    "unknown-key": (
        "name: x\nscenario: small.yaml\nreplicatons: 3\n",
        "replicatons", ["unknown key 'replicatons'", "did you mean 'replications'"], 3),
    "both-scenario-and-scenarios": (
        "name: x\nscenario: small.yaml\nscenarios: [small.yaml]\n",
        None, ["scenario", "scenarios"], None),
    "neither-scenario-nor-scenarios": (
        "name: x\nreplications: 3\n", None, ["scenario", "scenarios"], None),
    "missing-scenario-file": (
        "name: x\nscenario: nope.yaml\n", "scenario", ["not found", "nope.yaml"], 2),
    "missing-file-in-scenarios": (
        "name: x\nscenarios: [small.yaml, nope.yaml]\n", "scenarios.1",
        ["not found", "nope.yaml"], 2),
    "factor-path-does-not-exist": (
        "name: x\nscenario: small.yaml\nfactors:\n  threat.detection_rat: {values: [0.1]}\n",
        "factors.threat.detection_rat",
        ["unknown key 'detection_rat'", "did you mean 'threat.detection_rate'"], 4),
    "factor-value-out-of-range": (
        "name: x\nscenario: small.yaml\nfactors:\n  threat.leak_rate: {values: [0.1, 2.0]}\n",
        "factors.threat.leak_rate", ["2.0", "less than or equal to 1"], 4),
    "factor-range-out-of-range": (
        "name: x\nscenario: small.yaml\ndesign: lhs\nfactors:\n"
        "  threat.leak_rate: {range: [0.0, 1.5]}\n",
        "factors.threat.leak_rate", ["1.5", "less than or equal to 1"], 5),
    "factor-value-of-wrong-type": (
        "name: x\nscenario: small.yaml\nfactors:\n  cooperation.regime: {values: [hybird]}\n",
        "factors.cooperation.regime", ["hybird"], 4),
    "morris-with-a-values-factor": (
        "name: x\nscenario: small.yaml\ndesign: morris\nfactors:\n"
        "  threat.leak_rate: {range: [0.0, 0.2]}\n"
        "  cooperation.regime: {values: [bilateral, hybrid]}\n",
        "factors.cooperation.regime", ["morris", "range"], 6),
    "morris-with-numbers-as-values": (  # sobol samples values as categories; morris not
        "name: x\nscenario: small.yaml\ndesign: morris\nfactors:\n"
        "  threat.leak_rate: {values: [0.0, 0.2]}\n",
        "factors.threat.leak_rate", ["morris", "range"], 5),
    "typo-inside-a-factor": (
        "name: x\nscenario: small.yaml\nfactors:\n  threat.leak_rate: {valuse: [0.1]}\n",
        "factors.threat.leak_rate.valuse",
        ["unknown key 'valuse'", "did you mean 'factors.threat.leak_rate.values'"], 4),
    "sobol-without-factors": (
        "name: x\nscenario: small.yaml\ndesign: sobol\n", None, ["sobol", "factors"], None),
    "unknown-metric": (
        "name: x\nscenario: small.yaml\nmetrics: [attacks, atacks]\n",
        "metrics", ["unknown metric 'atacks'"], 3),
    "unknown-design": (
        "name: x\nscenario: small.yaml\ndesign: gird\n", "design", ["gird"], 3),
    "range-upside-down": (
        "name: x\nscenario: small.yaml\nfactors:\n  threat.leak_rate: {range: [0.3, 0.1]}\n",
        "factors.threat.leak_rate", ["lo < hi"], 4),
    "values-and-range": (
        "name: x\nscenario: small.yaml\nfactors:\n"
        "  threat.leak_rate: {range: [0.0, 0.1], values: [0.1]}\n",
        "factors.threat.leak_rate", ["either values", "or range"], 4),
    "empty-values": (
        "name: x\nscenario: small.yaml\nfactors:\n  threat.leak_rate: {values: []}\n",
        "factors.threat.leak_rate", ["empty"], 4),
    "zero-replications": (
        "name: x\nscenario: small.yaml\nreplications: 0\n", "replications",
        ["greater than or equal to 1"], 3),
    "bad-name": ("name: Big Sweep\nscenario: small.yaml\n", "name", ["Big Sweep"], 1),
    "two-scenarios-one-name": (
        "name: x\nscenarios: [small.yaml, small.yaml]\n", "scenarios", ["share a name"], 2),
    "not-yaml": ("name: x\nscenario: [small.yaml\n", None, ["not valid YAML"], None),
    "not-a-mapping": ("- name: x\n- scenario: small.yaml\n", None, ["mapping"], None),
}


def _write_bad(folder: Path, case: str) -> Path:
    path = folder / f"{case}.yaml"
    path.write_text(BAD[case][0], encoding="utf-8")
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_bad_experiment_is_one_error_naming_file_and_key(folder, case):
    _text, key, fragments, line = BAD[case]
    path = _write_bad(folder, case)
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    err = info.value
    text = str(err)
    assert err.source == str(path), text
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    if key is not None:
        assert err.key == key, text
        assert text.startswith(f"{path}: {key}: ")
    for fragment in fragments:
        assert fragment in text
    if line is not None:
        assert err.line == line, text
        assert text.endswith(f"(line {line})")


def test_a_bad_scenario_named_by_an_experiment_is_reported_in_the_scenario_file(folder):
    (folder / "broken.yaml").write_text("name: broken\nthreat: {detection_rat: 0.1}\n")
    path = write_experiment(folder, {"name": "b", "scenario": "broken.yaml"})
    with pytest.raises(ScenarioError) as info:
        load_experiment(path)
    assert info.value.source.endswith("broken.yaml")
    assert info.value.key == "threat.detection_rat"
    assert "did you mean 'threat.detection_rate'" in str(info.value)


def test_missing_experiment_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_experiment(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(info.value)
    assert "not found" in str(info.value)


# ---------------------------------------------------------------- through the CLI


def _sweep(*args: str):
    return CliRunner().invoke(cli, ["sweep", *args])


@pytest.mark.parametrize("case", list(BAD))
def test_cli_prints_one_error_line_exits_2_and_writes_nothing(folder, case):
    path = _write_bad(folder, case)
    out = folder / "out"
    result = _sweep(str(path), "--out", str(out), "--executor", "serial", "-q")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ")
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not out.exists(), "a bad experiment must write nothing"


def test_cli_missing_experiment_file(tmp_path):
    result = _sweep(str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- uncertainties and levers


def _robust(tmp_path, **extra):
    (tmp_path / "s.yaml").write_text("name: s\nsteps: 3\nworld: {nations: 5}\n")
    doc = {"name": "robust", "scenario": "s.yaml", "replications": 2, "design": "lhs",
           "samples": 3,
           "uncertainties": {"relations.tension": {"range": [0.0, 0.8]},
                             "threat.leak_rate": {"range": [0.0, 0.2]}},
           "levers": {"cooperation.regime": {"values": ["bilateral", "hybrid"]}}} | extra
    path = tmp_path / "robust.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_experiment(path)


def test_every_lever_point_runs_at_every_uncertainty_point(tmp_path):
    loaded = _robust(tmp_path)
    points = design_points(loaded.spec)
    assert len(points) == 3 * 2
    worlds = [{k: p[k] for k in ("relations.tension", "threat.leak_rate")} for p in points]
    assert worlds[:3] == worlds[3:]  # the same uncertainty sample under both policies
    assert [p["cooperation.regime"] for p in points] == ["bilateral"] * 3 + ["hybrid"] * 3
    assert [p["policy"] for p in points] == [0, 0, 0, 1, 1, 1]
    runs = plan_runs(loaded)
    assert len(runs) == 12 and {r.policy for r in runs} == {0, 1}
    assert all("policy" not in r.overrides for r in runs)
    assert loaded.spec.varied.keys() == {"relations.tension", "threat.leak_rate",
                                         "cooperation.regime"}


def test_lever_samples_leave_the_uncertainty_sample_alone(tmp_path):
    one = design_points(_robust(tmp_path).spec)
    other = design_points(_robust(tmp_path, levers={"threat.interdiction": {
        "range": [0.5, 1.0]}}, lever_design="lhs", policies=4).spec)
    assert [p["relations.tension"] for p in one[:3]] == [p["relations.tension"]
                                                         for p in other[:3]]
    assert len({p["threat.interdiction"] for p in other}) == 4


@pytest.mark.parametrize("extra, message", [
    ({"factors": {"threat.leak_rate": {"values": [0.1]}}}, "not both"),
    ({"levers": {"relations.tension": {"values": [0.1]}}}, "both an uncertainty and a lever"),
    ({"design": "morris"}, "sampled by grid, lhs or random"),
])
def test_uncertainties_and_levers_are_checked(tmp_path, extra, message):
    with pytest.raises(ScenarioError, match=message):
        _robust(tmp_path, **extra)


def test_a_bad_lever_value_names_its_key(tmp_path):
    with pytest.raises(ScenarioError, match=r"levers\.cooperation\.regime"):
        _robust(tmp_path, levers={"cooperation.regime": {"values": ["telepathy"]}})


def test_a_sweep_over_uncertainties_and_levers_stores_the_policy(tmp_path):
    from ctsim.runs.sweeps import run_sweep

    loaded = _robust(tmp_path)
    result = run_sweep(loaded, tmp_path / "out", executor="serial")
    runs = result.runs
    assert len(runs) == 12 and runs["status"].eq("ok").all()
    assert runs.groupby("policy")["cooperation.regime"].unique().map(list).tolist() == [
        ["bilateral"], ["hybrid"]]
    # paired: the same uncertainty point and seed under each policy
    by_policy = [g.sort_values("run_id")[["relations.tension", "seed"]].to_numpy().tolist()
                 for _, g in runs.groupby("policy")]
    assert by_policy[0] == by_policy[1]
