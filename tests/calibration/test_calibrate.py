"""Calibration (ctsim.calibration.abc): files, recovery of known values, resumption, and runs
that draw their parameters from a stored posterior."""

from __future__ import annotations

import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import ctsim.calibration as cal
from ctsim.errors import ExperimentError, OutputError, ResultsError
from ctsim.runs import pipeline, posterior
from tests.conftest import ROOT, SMALL

pytest.importorskip("pyabc")

EXPERIMENTS = ROOT / "experiments"

#: The known values the synthetic targets are produced at.
TRUE = {"threat.detection_rate": 0.12, "threat.interdiction": 0.55}
PRIORS = {"threat.detection_rate": (0.03, 0.30), "threat.interdiction": (0.2, 1.0)}
FITTED = ("disruption_rate", "weeks_to_disruption", "foreign_share")
REPS = 3  # runs per particle


def _world() -> dict:
    """A small world with enough plots a run that each target is measured in 3 runs."""
    sc = copy.deepcopy(SMALL)
    sc["threat"] = {"groups": 4, "plots_per_year": 40, "detection_rate": 0.1}
    sc["steps"] = 104
    return sc


def _synthetic_targets(scenario: dict) -> dict[str, tuple[float, float]]:
    """Each fitted metric's mean at the known values (over 40 particles' worth of runs)
    and the spread of a particle's mean over REPS runs (its sd)."""
    from ctsim.runs.experiment import RunSpec
    from ctsim.runs.worker import Payload, run_batch

    payload = Payload((scenario,), (scenario["steps"],), FITTED, False, "synthetic")
    specs = [RunSpec(i, 0, i, 9000 + i, 0, dict(TRUE)) for i in range(40 * REPS)]
    rows = pd.DataFrame([row for row, _ in run_batch(payload, specs)])
    means = rows[list(FITTED)].to_numpy(float).reshape(40, REPS, len(FITTED)).mean(axis=1)
    return {m: (float(means[:, j].mean()), float(means[:, j].std(ddof=1)))
            for j, m in enumerate(FITTED)}


def _write_calibration(folder: Path, *, population: int = 60, populations: int = 4,
                       name: str = "synthetic", method: str = "rejection-distance",
                       **more) -> Path:
    scenario = _world()
    (folder / "world.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    targets = []
    for metric, (obs, sd) in _synthetic_targets(scenario).items():
        targets.append({
            "name": f"own_{metric}", "metric": metric, "observed": obs, "sd": sd,
            "verified": "source", "match": "the model's own output at known values",
            "source": {"author": "ctsim test", "year": 2026, "title": "synthetic",
                       "where": "tests/test_calibrate.py"}})
    (folder / "targets.yaml").write_text(yaml.safe_dump(
        {"name": "synthetic", "targets": targets}), encoding="utf-8")
    spec = {"name": name, "scenario": "world.yaml", "fit": [t["name"] for t in targets],
            "parameters": {k: {"range": list(v), "why": "test"} for k, v in PRIORS.items()},
            "replications": REPS, "population": population, "populations": populations,
            "predictive": 6, "seed": 11, "method": method} | more
    path = folder / "calibration.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rejection-distance", "stochastic"])
def test_a_calibration_recovers_known_values_within_its_95_percent_interval(tmp_path,
                                                                            method):
    loaded = cal.load_calibration(_write_calibration(tmp_path, method=method))
    result = cal.calibrate(loaded, tmp_path / "out", workers=1)
    summary = {p["parameter"]: p for p in cal.parameter_summary(loaded, result.posterior)}
    for key, value in TRUE.items():
        p = summary[key]
        assert p["ci95_lo"] <= value <= p["ci95_hi"], (key, value, p)
    # and the data said something: the detection rate's interval is well inside its prior
    assert summary["threat.detection_rate"]["shrinkage"] > 0.4
    eps = result.populations["epsilon"].to_numpy()
    assert (np.diff(eps) < 0).all()  # each population's threshold below the last
    fitted = result.predictive.set_index("target")
    assert fitted["consistent"].all()
    for name in ("REPORT.md", "posterior.csv", "predictive.csv", "populations.csv",
                 "predictive_draws.csv", "summary.json", "figures/marginals.png",
                 "figures/pairs.png", "figures/populations.png", "figures/predictive.png"):
        assert (tmp_path / "out" / name).is_file(), name
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())
    report = (tmp_path / "out" / "REPORT.md").read_text()
    assert "## The posterior by mode" in report
    if method == "stochastic":
        assert eps[-1] == 1.0 and doc["final_temperature"] == 1.0
        assert "reached temperature 1" in report and "## What the posterior means" in report
        noise = {r["target"]: r for r in doc["noise"]}
        assert set(noise) == set(loaded.spec.fit)
        for r in noise.values():  # the noise of a 3-run mean is about its stated sd
            assert 0.3 < r["simulator_sd"] / r["stated_sd"] < 3, r
        return
    # whether the posterior settled: the last populations' quantiles, the last one's
    # the same as the posterior's summary
    stability = doc["stability"]
    shown = sorted({r["t"] for r in stability})
    assert shown == list(range(max(0, len(eps) - cal.SETTLED_OVER), len(eps)))
    for r in (r for r in stability if r["t"] == shown[-1]):
        assert r["median"] == summary[r["parameter"]]["median"]
        assert r["ci95_lo"] == summary[r["parameter"]]["ci95_lo"]
        assert 0 <= r["moved"] <= 1
    assert "How the last populations' quantiles moved" in report


def _stored_populations(db: Path) -> list[tuple[int, float]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT t, epsilon FROM populations WHERE t >= 0 "
                               "ORDER BY t").fetchall()
    except sqlite3.Error:
        return []


@pytest.mark.slow
def test_a_killed_calibration_resumes_from_its_last_population(tmp_path):
    path = _write_calibration(tmp_path, population=30, populations=3, name="killed")
    out = tmp_path / "out"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "ctsim.cli", "calibrate", str(path),
                              "--out", str(out), "--workers", "1", "-q"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _stored_populations(out / "history.db") and time.monotonic() < deadline:
            assert child.poll() is None, "the calibration ended before it was killed"
            time.sleep(0.2)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    before = _stored_populations(out / "history.db")
    assert 1 <= len(before) < 3
    assert not (out / "posterior.csv").exists()
    loaded = cal.load_calibration(path)
    with pytest.raises(OutputError, match="--resume"):
        cal.calibrate(loaded, out, workers=1, predictive=False)
    result = cal.calibrate(loaded, out, workers=1, predictive=False, resume=True)
    assert result.resumed_from == len(before)
    after = _stored_populations(out / "history.db")
    assert [t for t, _ in after] == [0, 1, 2]
    assert after[: len(before)] == before  # the stored populations were kept, not redone


@pytest.mark.slow
def test_a_stopped_stochastic_calibration_resumes_its_temperatures_down_to_1(tmp_path):
    """Stopped by its budget rule after population 0 (an acceptance below 0.99), then
    resumed without it: the stored population is kept and the temperatures go on falling
    from it to 1."""
    path = _write_calibration(tmp_path, population=20, populations=4, method="stochastic",
                              min_acceptance=0.99)
    first = cal.calibrate(cal.load_calibration(path), tmp_path / "out", workers=1,
                          predictive=False)
    before = _stored_populations(tmp_path / "out" / "history.db")
    assert len(before) == 1 and before[0][1] > 1.0
    spec = yaml.safe_load(path.read_text(encoding="utf-8")) | {"min_acceptance": 0.0}
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    result = cal.calibrate(cal.load_calibration(path), tmp_path / "out", workers=1,
                           predictive=False, resume=True)
    assert first.resumed_from == 0 and result.resumed_from == 1
    after = _stored_populations(tmp_path / "out" / "history.db")
    assert after[0] == before[0]
    temps = [e for _, e in after]
    assert temps[-1] == 1.0 and (np.diff(temps) < 0).all()


def test_the_shipped_targets_file_validates_and_cites_every_target():
    targets = cal.load_targets(EXPERIMENTS / "targets.yaml").targets
    assert len(targets) >= 5
    for t in targets:
        assert t.source.author and t.source.year and t.source.where
        if t.verified == "unread":
            assert t.observed is None
        elif t.kind == "series":  # its observed value is its counts' pooled share
            assert t.observed is None and t.counts and t.spread > 0
        else:
            assert t.observed is not None and t.sd > 0
    loaded = cal.load_calibration(EXPERIMENTS / "calibrate_world.yaml")
    assert len(loaded.spec.held_out) >= 2
    assert not set(loaded.spec.fit) & set(loaded.spec.held_out)
    # the US target is about one state, the EU targets about the 27 members
    assert int(loaded.masks["us_foiled_share"].sum()) == 1
    assert int(loaded.masks["eu_jihadist_foiled_share"].sum()) == 27


@pytest.mark.parametrize(("change", "expected"), [
    ({"metric": "disruption_rte"}, "targets.0.metric: unknown metric 'disruption_rte'"),
    ({"verified": "unread"}, "has no observed value, sd, bound or counts"),
    ({"sd": 0}, "targets.0.sd"),
    ({"among": ["USA"], "metric": "attacks"}, "among: is for the metrics disruption_rate, "),
])
def test_a_bad_target_is_one_line_naming_the_file_and_key(tmp_path, change, expected):
    target = {"name": "t", "metric": "disruption_rate", "observed": 0.5, "sd": 0.1,
              "verified": "source", "match": "m",
              "source": {"author": "a", "year": 2000, "title": "t", "where": "p. 1"}}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "targets": [target | change]}),
                    encoding="utf-8")
    with pytest.raises(ExperimentError) as err:
        cal.load_targets(path)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_calibration_file_naming_an_unknown_target_fails_in_one_line(tmp_path):
    path = _write_calibration(tmp_path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["held_out"] = ["nowhere"]
    text = yaml.safe_dump(spec)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("- nowhere") + 1
    proc = subprocess.run([sys.executable, "-m", "ctsim.cli", "calibrate", str(path),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: held_out.0: no target 'nowhere' in targets.yaml (line {line})"]


def test_a_sweep_given_to_calibrate_says_to_sweep_it():
    with pytest.raises(ExperimentError, match=r"not a calibration .*run a sweep with ctsim"):
        cal.load_calibration(EXPERIMENTS / "challenges.yaml")


def _posterior(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame({"threat.detection_rate": [0.05, 0.1, 0.15, 0.2, 0.25],
                  "threat.evidence_threshold": [1, 2, 3, 4, 5],
                  "weight": [0.1, 0.2, 0.3, 0.2, 0.2]}).to_csv(folder / posterior.POSTERIOR_FILE,
                                                              index=False)
    return folder


def test_runs_drawn_from_a_posterior_differ_by_replication_and_repeat_by_seed(tmp_path):
    post = _posterior(tmp_path / "post")
    scenario = pipeline.as_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(
        {"steps": 26})
    first = pipeline.run(scenario, replications=8, seed=3, out=tmp_path / "a",
                         uncertainty=post).runs
    again = pipeline.run(scenario, replications=8, seed=3, out=tmp_path / "b",
                         uncertainty=post).runs
    other = pipeline.run(scenario, replications=8, seed=4, out=tmp_path / "c",
                         uncertainty=post).runs
    cols = ["threat.detection_rate", "threat.evidence_threshold"]
    drawn = first[cols].to_numpy(float)
    assert len({tuple(r) for r in drawn}) >= 3  # replications draw different parameters
    assert (first[cols].to_numpy(float) == again[cols].to_numpy(float)).all()
    assert (first["disruption_rate"] == again["disruption_rate"]).all()
    assert not (drawn == other[cols].to_numpy(float)).all()
    # the drawn values are the posterior's rows, with their types
    rows = {(0.05, 1), (0.1, 2), (0.15, 3), (0.2, 4), (0.25, 5)}
    assert {tuple(r) for r in drawn} <= {tuple(map(float, r)) for r in rows}
    assert first["threat.evidence_threshold"].dtype.kind == "i"


def test_posterior_draws_follow_the_weights():
    table = pd.DataFrame({"a": [0.0, 1.0], "weight": [0.9, 0.1]})
    draws = posterior.draw_rows(table, 4000, 5, posterior.DRAW_STREAM)
    share = np.mean([d["a"] == 1.0 for d in draws])
    assert 0.08 < share < 0.12
    assert draws == posterior.draw_rows(table, 4000, 5, posterior.DRAW_STREAM)


def test_an_experiment_drawing_from_a_missing_posterior_fails_in_one_line(tmp_path):
    from ctsim.runs.experiment import load_experiment

    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({
        "name": "e", "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "uncertainty": "nowhere", "replications": 2}), encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"uncertainty: .*no readable posterior.csv"):
        load_experiment(path)
    with pytest.raises(ResultsError):
        posterior.posterior_draws(tmp_path, 2, 1)


def test_a_posterior_key_the_design_also_varies_is_refused(tmp_path):
    from ctsim.runs.experiment import load_experiment

    _posterior(tmp_path / "post")
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({
        "name": "e", "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "uncertainty": "post", "replications": 2,
        "factors": {"threat.detection_rate": {"values": [0.1, 0.2]}}}), encoding="utf-8")
    with pytest.raises(ExperimentError, match="drawn from the posterior and also varied"):
        load_experiment(path)


def test_a_sweep_with_uncertainty_draws_per_replication_the_same_in_every_scenario(tmp_path):
    _posterior(tmp_path / "post")
    scenario = copy.deepcopy(SMALL)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(scenario | {"name": "other"}),
                                     encoding="utf-8")
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump({"name": "e", "scenarios": ["a.yaml", "b.yaml"],
                                    "uncertainty": "post", "replications": 6, "seed": 9}),
                    encoding="utf-8")
    result = pipeline.sweep(path, out=tmp_path / "out", workers=1, executor="serial")
    runs = result.runs.sort_values(["scenario", "replication"])
    cols = ["threat.detection_rate", "threat.evidence_threshold"]
    a = runs[runs["scenario"] == "small"][cols].to_numpy(float)
    b = runs[runs["scenario"] == "other"][cols].to_numpy(float)
    assert (a == b).all()  # replication r draws the same parameters in every scenario
    expected = posterior.posterior_draws(tmp_path / "post", 6, 9)
    assert a.tolist() == [[d[c] for c in cols] for d in expected]
    manifest = yaml.safe_load((tmp_path / "out" / "manifest.json").read_text())
    assert Path(manifest["uncertainty"]).name == "post"
