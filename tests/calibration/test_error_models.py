"""The targets' and calibrations' schema for error models (ctsim.calibration.files): one-sided
and series targets, the method and its settings, one-line errors naming file and key; the
simulator's noise in a particle's pooled value (ctsim.calibration.particle)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

import ctsim.calibration as cal
from ctsim.errors import ExperimentError
from tests.conftest import ROOT, SMALL

pytest.importorskip("pyabc")

SOURCE = {"author": "a", "year": 2000, "title": "t", "where": "p. 1"}
BASE = {"name": "t", "metric": "disruption_rate", "verified": "source", "match": "m",
        "source": SOURCE}
SERIES = {"counts": [{"year": 2019, "count": 14, "of": 21},
                     {"year": 2020, "count": 4, "of": 14}], "overdispersion": 0.1}


def _targets(tmp_path, *targets: dict):
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "targets": list(targets)}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("target", "expected"), [
    (BASE | {"bound": "upper"}, "give observed and sd, or counts and overdispersion"),
    (BASE | {"bound": "left", "observed": 0.2, "sd": 0.1}, "targets.0.bound"),
    (BASE | SERIES | {"overdispersion": None}, "needs overdispersion"),
    (BASE | SERIES | {"overdispersion": 1.0}, "targets.0.overdispersion"),
    (BASE | SERIES | {"observed": 0.5}, "takes its observed value from its counts"),
    (BASE | SERIES | {"counts": [{"year": 2019, "count": 22, "of": 21}]},
     "count 22 is more than of 21"),
    (BASE | SERIES | {"counts": [{"year": 2019, "count": 2, "of": 21},
                                 {"year": 2019, "count": 3, "of": 9}]},
     "the year 2019 is given twice"),
    (BASE | SERIES | {"metric": "weeks_to_disruption"}, "its quantity is a share"),
    (BASE | {"observed": 0.5, "sd": 0.1, "overdispersion": 0.2},
     "overdispersion is for a series target"),
])
def test_a_bad_error_model_is_one_line_naming_the_file_and_key(tmp_path, target, expected):
    target = {k: v for k, v in target.items() if v is not None}
    path = _targets(tmp_path, target)
    with pytest.raises(ExperimentError) as err:
        cal.load_targets(path)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_each_kind_of_target_says_its_error_model(tmp_path):
    path = _targets(tmp_path, BASE | {"name": "normal", "observed": 0.5, "sd": 0.1},
                    BASE | {"name": "upper", "observed": 0.19, "sd": 0.05, "bound": "upper"},
                    BASE | {"name": "series"} | SERIES)
    kinds = {t.name: t for t in cal.load_targets(path).targets}
    assert kinds["normal"].kind == "normal" and kinds["normal"].spread == 0.1
    assert kinds["upper"].kind == "upper" and kinds["upper"].reference == 0.19
    assert kinds["series"].kind == "series"
    assert kinds["series"].reference == pytest.approx(18 / 35)


def _calibration(tmp_path, targets: list[dict], fit: list[str], **spec):
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    _targets(tmp_path, *targets)
    text = yaml.safe_dump({"name": "c", "scenario": "world.yaml", "fit": fit,
                           "parameters": {"threat.detection_rate": {
                               "range": [0.05, 0.3], "why": "t"}}} | spec, sort_keys=False)
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "c.yaml", text


def test_the_distance_method_refuses_to_fit_a_target_it_cannot_weigh(tmp_path):
    path, text = _calibration(tmp_path, [BASE | {"name": "s"} | SERIES], ["s"],
                              method="rejection-distance")
    with pytest.raises(ExperimentError) as err:
        cal.load_calibration(path)
    line = text.splitlines().index("- s") + 1
    assert str(err.value) == (f"{path}: fit.0: target 's' is a series target; the "
                              "standardized distance fits normal ones only (use method: "
                              f"stochastic) (line {line})")
    # held out, it is only compared with the posterior, which the distance method can do
    path, _ = _calibration(tmp_path, [BASE | {"name": "s"} | SERIES,
                                      BASE | {"name": "n", "observed": 0.5, "sd": 0.1}],
                           ["n"], held_out=["s"], method="rejection-distance")
    assert cal.load_calibration(path).spec.held_out == ["s"]


@pytest.mark.parametrize("key", ["min_eps_diff", "min_epsilon"])
def test_a_stochastic_calibration_refuses_the_distance_methods_stopping_rules(tmp_path, key):
    path, text = _calibration(tmp_path, [BASE | {"name": "n", "observed": 0.5, "sd": 0.1}],
                              ["n"], **{key: 0.05})
    with pytest.raises(ExperimentError) as err:
        cal.load_calibration(path)
    line = text.splitlines().index(f"{key}: 0.05") + 1
    assert str(err.value) == (f"{path}: {key}: a setting of method: rejection-distance; "
                              f"the stochastic method ends at temperature 1 (line {line})")


def test_seeds_give_independent_calibrations_each_with_its_own_fingerprint(tmp_path):
    path, _ = _calibration(tmp_path, [BASE | {"name": "n", "observed": 0.5, "sd": 0.1}],
                           ["n"], seeds=[3, 4, 5])
    loaded = cal.load_calibration(path)
    assert loaded.spec.all_seeds == [3, 4, 5]
    one, two = loaded.with_seed(3), loaded.with_seed(4)
    assert one.spec.seed == 3 and one.spec.seeds is None
    assert one.fingerprint() != two.fingerprint()
    assert one.fingerprint() == loaded.with_seed(3).fingerprint()
    with pytest.raises(ExperimentError, match="'4' is listed twice"):
        cal.load_calibration(_calibration(
            tmp_path, [BASE | {"name": "n", "observed": 0.5, "sd": 0.1}], ["n"],
            seeds=[4, 4])[0])


def test_the_shipped_world_calibrations_load_with_their_methods():
    experiments = ROOT / "experiments"
    old = cal.load_calibration(experiments / "calibrate_world.yaml")
    assert (old.spec.method, old.spec.kernel) == ("rejection-distance", "global")
    new = cal.load_calibration(experiments / "calibrate_world_stochastic.yaml")
    wide = cal.load_calibration(experiments / "calibrate_world_wide.yaml")
    for loaded in (new, wide):
        assert (loaded.spec.method, loaded.spec.kernel) == ("stochastic", "local")
    # three independent seeds side by side; the prior-sensitivity run is compared with
    # their pool, so one seed of it can already show a prior that decides
    assert len(new.spec.all_seeds) == 3 and len(wide.spec.all_seeds) >= 1
    # the two fit the same targets, none of them the committed calibration's superseded ones
    assert new.spec.fit == wide.spec.fit and new.spec.held_out == wide.spec.held_out
    assert not set(new.spec.fit + new.spec.held_out) & set(old.spec.fit + old.spec.held_out)
    assert {new.targets[n].kind for n in new.spec.fit} == {"normal", "series", "upper"}
    # the sensitivity variant's priors hold the base's, wider
    for key, prior in new.spec.parameters.items():
        lo, hi = wide.spec.parameters[key].range
        assert lo <= prior.range[0] and hi >= prior.range[1]
    assert any(wide.spec.parameters[k].range != p.range for k, p in new.spec.parameters.items())


def test_a_particles_noise_is_its_pooled_values_jackknife_variance(tmp_path):
    """For a mean over runs the jackknife variance is the sample variance over R; a
    contrast's (a ratio of two scenarios' means, paired by seed) has one as well."""
    from ctsim.calibration.particle import particle_specs, payload_of, simulator_noise
    from ctsim.runs.worker import run_batch

    world = copy.deepcopy(SMALL) | {"steps": 26}
    other = copy.deepcopy(world) | {"name": "other"}
    other["cooperation"] = {"regime": "none"}
    (tmp_path / "world.yaml").write_text(yaml.safe_dump(world), encoding="utf-8")
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other), encoding="utf-8")
    _targets(tmp_path, BASE | {"name": "n", "observed": 0.5, "sd": 0.1},
             BASE | {"name": "c", "observed": 0.3, "sd": 0.1, "metric": "attacks",
                     "contrast": "other.yaml"})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({
        "name": "c", "scenario": "world.yaml", "fit": ["n", "c"], "parameters": {
            "threat.detection_rate": {"range": [0.05, 0.3], "why": "t"}}}), encoding="utf-8")
    loaded = cal.load_calibration(tmp_path / "c.yaml")
    specs = particle_specs(loaded, {"threat.detection_rate": 0.2}, [11, 12, 13, 14, 15])
    results = run_batch(payload_of(loaded), specs)
    noise = simulator_noise(loaded, specs, results, ["n", "c"])
    per_run = np.array([row["disruption_rate"] for (row, _), spec in zip(results, specs,
                                                                          strict=True)
                        if spec.scenario == 0])
    assert len(per_run) == 5
    assert noise["n"] == pytest.approx(per_run.var(ddof=1) / 5, rel=1e-9)
    assert 0 < noise["c"] < np.inf
    one = simulator_noise(loaded, specs[:1], results[:1], ["n"])
    assert np.isnan(one["n"])  # one replication cannot measure it
