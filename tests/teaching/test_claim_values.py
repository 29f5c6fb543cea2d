"""A claim's side may set a key to a mapping (``world.strategies: {always: 1}``, every
country at one strategy): read from a lesson file, run by the model, measured through the
sweep (ctsim.teaching.lessons.Shares, ctsim.teaching.claims.measure)."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
import yaml

from ctsim.core.scenario import load_scenario
from ctsim.errors import ScenarioError
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from ctsim.teaching.claims import measure
from ctsim.teaching.lessons import LESSONS, SUFFIX, Shares, lesson, read_lesson


def write_lesson(tmp_path, claim: dict):
    """The first lesson's texts with ``claim`` as its only claim, beside its scenario."""
    data = yaml.safe_load(LESSONS[0].text_path.read_text(encoding="utf-8"))
    data["claims"] = [claim]
    (tmp_path / "demo.yaml").write_text(LESSONS[0].path.read_text(encoding="utf-8"))
    path = tmp_path / f"demo{SUFFIX}"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_mapping_value_is_read_as_a_fixed_mapping_quoted_as_written(tmp_path):
    path = write_lesson(tmp_path, {
        "key": "world.strategies", "a": {"always": 1}, "b": {"always": 1, "never": 0.5},
        "extra": {"world.strategies": {"never": 1}}})
    claim = read_lesson(path).claim
    assert isinstance(claim.a, Shares) and isinstance(claim.extra["world.strategies"], Shares)
    assert (str(claim.a), str(claim.b)) == ("{always: 1}", "{always: 1, never: 0.5}")
    assert claim.a == {"always": 1}
    assert hash(claim.a) == hash(Shares({"always": 1})) != hash(claim.b)
    with pytest.raises(TypeError):
        claim.a["never"] = 1
    with pytest.raises(TypeError):
        claim.a.update(never=1)
    assert claim.a == {"always": 1}
    assert copy.deepcopy(claim.a) is claim.a
    assert pickle.loads(pickle.dumps(claim.b)) == claim.b
    scenario = load_scenario(lesson("class_alliance").path, claim.overrides(claim.b))
    assert scenario.world.strategies == {"always": 1.0, "never": 0.5}


@pytest.mark.parametrize("value", [{"always": "all"}, {"always": [1]}, {1: 1}])
def test_a_mapping_of_other_than_names_to_numbers_is_one_line_naming_its_key(tmp_path,
                                                                            value):
    path = write_lesson(tmp_path, {"key": "world.strategies", "a": value, "b": {"never": 1}})
    with pytest.raises(ScenarioError) as err:
        read_lesson(path)
    assert err.value.key.startswith("claims.0.a") and "\n" not in str(err.value)


def test_a_mapping_claim_is_measured_on_the_sides_it_names():
    """Through the sweep's store (which keeps a mapping as its text): side a is every
    country at always shares, side b every country at never shares, run by run."""
    item = lesson("class_alliance")
    claim = dataclasses.replace(item.claim, replications=10)
    assert (str(claim.a), str(claim.b)) == ("{always: 1}", "{never: 1}")
    m = measure(item, claim)
    for value, measured in ((claim.a, m.values_a), (claim.b, m.values_b)):
        scenario = load_scenario(item.path, {"world.strategies": dict(value)})
        assert measured == tuple(run_one(scenario, s, timeseries=False).metrics[claim.metric]
                                 for s in replication_seeds(claim.seed, 10))
    assert m.values_a != m.values_b
