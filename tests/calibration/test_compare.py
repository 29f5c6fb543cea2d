"""Several calibrations side by side (ctsim.calibration.compare) and the posterior by mode
(ctsim.calibration.report): seeds that agree or not within their Monte Carlo error, the
comparison figure and table, a prior-sensitivity comparison, flags of modes pressed on a
bound, and two tiny calibrations of a small world compared end to end."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import ctsim.calibration as cal
from ctsim.calibration import compare
from ctsim.calibration.report import modes_table
from tests.conftest import SMALL, invoke_cli

pytest.importorskip("pyabc")

PRIORS = {"threat.detection_rate": (0.02, 0.3, False),
          "threat.evidence_threshold": (1.0, 4.0, True)}


def _stored(seed: int, shift: float = 0.0, n: int = 2000, name: str = "base",
            priors=PRIORS, temperature: float | None = 1.0) -> compare.Stored:
    """A posterior of ``n`` equally weighted particles: detection ~ N(0.15 + shift, 0.03)
    clipped to its prior, the threshold 1 to 4 with shares 0.1, 0.4, 0.4, 0.1."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 77]))
    frame = pd.DataFrame({
        "threat.detection_rate": np.clip(rng.normal(0.15 + shift, 0.03, n), 0.02, 0.3),
        "threat.evidence_threshold": rng.choice([1, 2, 3, 4], size=n,
                                                p=[0.1, 0.4, 0.4, 0.1]),
        "weight": np.full(n, 1.0 / n)})
    return compare.Stored(Path(f"/nowhere/seed-{seed}"), name, seed, "stochastic",
                          temperature, dict(priors), frame)


def test_seeds_of_one_posterior_agree_and_a_shifted_seed_does_not():
    same = [_stored(1), _stored(2), _stored(3)]
    table, values = compare.comparison_tables(same)
    verdict = {a["parameter"]: a for a in compare.seeds_agree(table, values)}
    assert not verdict["threat.detection_rate"]["differ"]
    assert not verdict["threat.evidence_threshold"]["differ"]
    # a median shifted by 0.01: about eight Monte Carlo standard errors of a median of
    # 2,000 particles (1.2533 x 0.03 / sqrt(2000) = 0.0008)
    shifted = [_stored(1), _stored(2), _stored(3, shift=0.01)]
    table, values = compare.comparison_tables(shifted)
    verdict = {a["parameter"]: a for a in compare.seeds_agree(table, values)}
    assert verdict["threat.detection_rate"]["differ"]
    assert verdict["threat.detection_rate"]["p"] < 1e-6
    assert not verdict["threat.evidence_threshold"]["differ"]


def test_an_integer_parameters_shares_that_differ_are_found():
    one, two = _stored(1), _stored(2)
    moved = two.posterior.copy()
    moved.loc[moved.index[:300], "threat.evidence_threshold"] = 4  # 15% moved to 4
    two = compare.Stored(two.folder, two.calibration, two.seed, two.method,
                         two.final_temperature, two.priors, moved)
    table, values = compare.comparison_tables([one, two])
    shares = values[values["seed"] == 1].set_index("value")["share"]
    assert shares.sum() == pytest.approx(1.0)
    verdict = {a["parameter"]: a for a in compare.seeds_agree(table, values)}
    assert verdict["threat.evidence_threshold"]["differ"]


def test_the_comparison_figure_draws_each_posterior_in_its_own_colour_and_style(tmp_path):
    stored = [_stored(1), _stored(2), _stored(3),
              _stored(1, shift=0.05, name="wide", priors=PRIORS | {
                  "threat.detection_rate": (0.02, 0.6, False)})]
    fig = compare.comparison_figure(stored, "test")
    continuous, integer = fig.axes[0], fig.axes[1]
    looks = [(line.get_color(), str(line.get_linestyle()))
             for line in continuous.get_lines() if line.get_label() in
             {s.label for s in stored}]
    assert len(looks) == 4 and len(set(looks)) == 4
    # several calibrations: a colour per calibration, a style per seed within it
    assert len({c for c, _ in looks[:3]}) == 1 and looks[3][0] != looks[0][0]
    assert continuous.get_xlim()[1] >= 0.6  # the widest prior's range is shown
    shares = [line for line in integer.get_lines() if line.get_label() == stored[0].label]
    assert sum(shares[0].get_ydata()) == pytest.approx(1.0)
    # each density integrates to about one over its prior
    line = next(x for x in continuous.get_lines() if x.get_label() == stored[0].label)
    x, y = line.get_xdata(), line.get_ydata()
    assert np.sum(y[:-1] * np.diff(x)) == pytest.approx(1.0, abs=0.03)


def test_a_prior_sensitivity_comparison_says_how_far_each_parameter_moved(tmp_path):
    stored = [_stored(1), _stored(2),
              _stored(1, shift=0.05, name="wide"), _stored(2, shift=0.05, name="wide")]
    out = compare.write_comparison(stored, tmp_path / "comparison", "test", "a note")
    text = (out / "COMPARISON.md").read_text()
    assert "a note" in text
    assert "## How the posterior moves with the prior" in text
    row = next(r for r in text.splitlines() if r.startswith("| `threat.detection_rate` |")
               and "% of the range" in r)
    # means 0.05 apart (the clipping at the prior's bounds moves them by less than 0.001),
    # in a range of 0.28: +18%
    assert "+18% of the range" in row
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 8 and set(table["calibration"]) == {"base", "wide"}
    assert (out / "figures" / "marginals.png").stat().st_size > 10_000


def test_a_seed_not_at_temperature_1_is_said_and_not_pooled():
    hot = [_stored(1), _stored(2, temperature=2.5)]
    assert "not at temperature 1" in compare.pool_reason(hot)
    assert compare.pool_reason([_stored(1), _stored(2)]) is None
    pooled = compare.pooled_posterior([_stored(1, n=100), _stored(2, n=300)])
    assert len(pooled) == 400 and pooled["weight"].sum() == pytest.approx(1.0)
    assert pooled["weight"].iloc[:100].sum() == pytest.approx(0.5)


def test_seeds_that_disagree_are_not_pooled():
    reason = compare.pool_reason([_stored(1), _stored(2), _stored(3, shift=0.01)])
    assert reason is not None and "disagree" in reason
    assert "threat.detection_rate" in reason and "threat.evidence_threshold" not in reason


def test_modes_are_listed_by_value_and_one_pressed_on_a_bound_is_flagged(tmp_path):
    loaded = _loaded(tmp_path)
    rows = []
    # value 1: 30% of the weight, detection near 0.05; value 3: most of the weight, with
    # 40% of it within 5% of the prior's range of the upper bound (0.3 - 0.014)
    rows += [(1, 0.05, 1.0)] * 30
    rows += [(3, 0.15, 1.0)] * 42 + [(3, 0.295, 1.0)] * 28
    post = pd.DataFrame(rows, columns=["threat.evidence_threshold", "threat.detection_rate",
                                       "weight"])
    post["weight"] /= post["weight"].sum()
    modes = modes_table(loaded, post)
    assert [m["mode"]["threat.evidence_threshold"] for m in modes] == [1, 3]
    assert modes[0]["share"] == pytest.approx(0.3) and modes[1]["share"] == pytest.approx(0.7)
    assert modes[0]["flags"] == []
    assert modes[1]["flags"] == ["threat.detection_rate"]
    assert modes[1]["parameters"]["threat.detection_rate"]["near_hi"] == pytest.approx(0.4)
    assert modes[0]["at_end"] == ["threat.evidence_threshold"]


def _loaded(tmp_path, **spec):
    world = copy.deepcopy(SMALL) | {"steps": 26}
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(world), encoding="utf-8")
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump({"name": "t", "targets": [
        {"name": "dr", "metric": "disruption_rate", "observed": 0.45, "sd": 0.1,
         "verified": "source", "match": "m",
         "source": {"author": "a", "year": 2000, "title": "t", "where": "p"}}]}),
        encoding="utf-8")
    doc = {"name": "tiny", "scenario": "world.yaml", "fit": ["dr"],
           "parameters": {"threat.detection_rate": {"range": [0.02, 0.3], "why": "t"},
                          "threat.evidence_threshold": {"range": [1, 4], "integer": True,
                                                        "why": "t"}},
           "replications": 2, "population": 20, "populations": 3, "predictive": 2} | spec
    (tmp_path / f"{doc['name']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False),
                                                  encoding="utf-8")
    return cal.load_calibration(tmp_path / f"{doc['name']}.yaml")


@pytest.mark.slow
def test_two_seeds_and_a_wider_prior_are_compared_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _loaded(tmp_path, seeds=[1, 2])
    code = invoke_cli("calibrate", "tiny.yaml", "--out", "base", "-w", "1", "-q")
    assert code.exit_code == 0, code.stderr
    for seed in (1, 2):
        summary = json.loads((tmp_path / "base" / f"seed-{seed}" / "summary.json").read_text())
        assert summary["seed"] == seed and summary["final_temperature"] == 1.0
    table = pd.read_csv(tmp_path / "base" / "comparison" / "comparison.csv")
    assert sorted(table["seed"].unique()) == [1, 2]
    pooled = pd.read_csv(tmp_path / "base" / "pooled" / "posterior.csv")
    assert len(pooled) == 40 and pooled["weight"].sum() == pytest.approx(1.0)
    assert "pooled" in (tmp_path / "base" / "comparison" / "COMPARISON.md").read_text()
    # the same calibration with a wider prior, compared with the first
    _loaded(tmp_path, name="tiny_wide", parameters={
        "threat.detection_rate": {"range": [0.02, 0.6], "why": "t"},
        "threat.evidence_threshold": {"range": [1, 6], "integer": True, "why": "t"}})
    code = invoke_cli("calibrate", "tiny_wide.yaml", "--out", "wide", "--seed", "5",
                      "--compare-with", "base", "-w", "1", "-q")
    assert code.exit_code == 0, code.stderr
    text = (tmp_path / "wide" / "comparison" / "COMPARISON.md").read_text()
    assert "tiny_wide, seed 5" in text and "tiny, seed 2" in text
    assert "How the posterior moves with the prior" in text
    assert (tmp_path / "wide" / "seed-5" / "REPORT.md").is_file()
    # a folder to compare with that holds no calibration is refused before any work
    code = invoke_cli("calibrate", "tiny_wide.yaml", "--out", "w2", "--compare-with",
                      "nowhere", "-w", "1", "-q")
    assert code.exit_code == 2 and "nowhere: no finished calibration" in code.stderr
    assert not (tmp_path / "w2").exists()


def test_monte_carlo_errors_of_weighted_particles_are_the_importance_sampling_ones():
    """Equal weights: the share below a quantile has variance q (1 - q) / n and the tail
    holds q n particles. Heavy weights in one tail raise that tail's variance, and the
    tail's effective particles fall, while the effective sample size alone cannot tell
    which tail."""
    from ctsim.calibration.report import cdf_variance, ess, tail_particles

    v = np.arange(1000, dtype=float)
    w = np.ones(1000)
    assert cdf_variance(v, w, 24.0) == pytest.approx(0.025 * 0.975 / 1000)
    assert tail_particles(v, w, 0.025) == pytest.approx(25.0, rel=0.01)
    heavy = w.copy()
    heavy[:10] = 20.0  # the ten lowest values carry much of the weight
    assert tail_particles(v, heavy, 0.025) < 5
    assert tail_particles(v, heavy, 0.975) > 15
    mirrored = heavy[::-1]  # the same weights on the other tail: the same ESS
    assert ess(mirrored) == pytest.approx(ess(heavy))
    assert tail_particles(v, mirrored, 0.025) > 15
