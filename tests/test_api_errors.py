"""The Python API raises ctsim's own errors only (SCENARIO_FORMAT.md, "Bad input"): a wrong
argument of ``ctsim.run``, ``ctsim.compare``, ``ctsim.sweep`` or ``CooperationModel`` is a
:class:`~ctsim.errors.CtsimError` naming the function and the argument, raised before any
work and before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ctsim
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX, WORKERS_MAX
from ctsim.errors import CtsimError
from tests.runs.sweep_helpers import write_scenario


def message_of(call, *args, **kwargs) -> str:
    """The text of the CtsimError a call raises (any other exception fails the test)."""
    with pytest.raises(CtsimError) as info:
        call(*args, **kwargs)
    return str(info.value)


@pytest.fixture
def scenario(tmp_path) -> Path:
    return write_scenario(tmp_path)


@pytest.mark.parametrize("kwargs, expected", [
    ({"replications": 0}, "ctsim.run: replications: expected a whole number from 1 to "
                          f"{REPLICATIONS_MAX:,} (or None), got 0"),
    ({"replications": 2.5}, "ctsim.run: replications: expected a whole number"),
    ({"replications": True}, "ctsim.run: replications: expected a whole number"),
    ({"seed": -1}, f"ctsim.run: seed: expected a whole number from 0 to {SEED_MAX:,}"),
    ({"steps": STEPS_MAX + 1}, "ctsim.run: steps: expected a whole number from 1 to"),
    ({"workers": 0}, f"ctsim.run: workers: expected a whole number from 1 to {WORKERS_MAX}, "
                     "got 0"),
    ({"sets": ["threat.leak_rate=0.1"]}, "ctsim.run: sets: expected a mapping of dotted "
                                         "scenario keys to values"),
    ({"sets": {1: 0.1}}, "ctsim.run: sets: expected a mapping"),
    ({"out": 123}, "ctsim.run: out: expected a folder's path (a str or a Path) or None, "
                   "got 123"),
    ({"executor": "threads"}, "ctsim.run: executor: expected one of serial, process, dask"),
    ({"scheduler": ""}, "ctsim.run: scheduler: expected a Dask scheduler's address"),
    ({"resume": "yes"}, "ctsim.run: resume: expected True or False, got 'yes'"),
    ({"on_progress": 5}, "ctsim.run: on_progress: expected a function"),
    ({"uncertainty": 7}, "ctsim.run: uncertainty: expected a folder's path"),
    ({"figures": "gif"}, "ctsim.run: figures: expected a figure format (png, svg, pdf)"),
])
def test_a_wrong_argument_of_run_is_one_ctsim_error(scenario, tmp_path, kwargs, expected):
    out = tmp_path / "out"
    given = {"out": out} | kwargs
    assert message_of(ctsim.run, scenario, **given).startswith(expected)
    assert not out.exists()


def test_a_wrong_scenario_of_run_is_one_ctsim_error():
    assert message_of(ctsim.run, 5) == ("ctsim.run: scenario: expected a Scenario, a scenario "
                                        "file's path or a shipped scenario's name, got 5")


@pytest.mark.parametrize("scenarios, kwargs, expected", [
    ([], {}, "ctsim.compare: scenarios: expected at least one scenario, got []"),
    ("baseline", {}, "ctsim.compare: scenarios: expected a list of scenarios"),
    ([3], {}, "ctsim.compare: scenarios: expected each a Scenario"),
    (["baseline"], {"replications": 0}, "ctsim.compare: replications: expected a whole "
                                        f"number from 1 to {REPLICATIONS_MAX:,}, got 0"),
    (["baseline"], {"replications": None}, "ctsim.compare: replications: expected"),
    (["baseline"], {"seed": None}, "ctsim.compare: seed: expected a whole number"),
    (["baseline"], {"metrics": "attacks"}, "ctsim.compare: metrics: expected a non-empty list"),
    (["baseline"], {"metrics": []}, "ctsim.compare: metrics: expected a non-empty list"),
    (["baseline"], {"workers": -2}, "ctsim.compare: workers: expected a whole number"),
    (["baseline"], {"out": 1.5}, "ctsim.compare: out: expected a folder's path"),
])
def test_a_wrong_argument_of_compare_is_one_ctsim_error(scenarios, kwargs, expected):
    assert message_of(ctsim.compare, scenarios, **kwargs).startswith(expected)


@pytest.mark.parametrize("kwargs, expected", [
    ({"workers": 0}, f"ctsim.sweep: workers: expected a whole number from 1 to {WORKERS_MAX}"),
    ({"executor": None}, "ctsim.sweep: executor: expected one of serial, process, dask, got"),
    ({"replications": 0}, "ctsim.sweep: replications: expected a whole number"),
    ({"out": ["a"]}, "ctsim.sweep: out: expected a folder's path"),
])
def test_a_wrong_argument_of_sweep_is_one_ctsim_error(kwargs, expected):
    assert message_of(ctsim.sweep, "challenges", **kwargs).startswith(expected)


def test_a_wrong_experiment_of_sweep_is_one_ctsim_error():
    assert message_of(ctsim.sweep, 42).startswith("ctsim.sweep: experiment: expected an "
                                                  "experiment file's path")


def test_numpy_whole_numbers_are_arguments_like_any_other(scenario, tmp_path):
    outcome = ctsim.run(scenario, replications=np.int64(1), steps=np.int32(3),
                        seed=np.uint8(4), out=tmp_path / "out")
    assert outcome.summary["replications"] == 1 and outcome.summary["seed"] == 4


@pytest.mark.parametrize("kwargs, expected", [
    ({"scenario": 5}, "CooperationModel: scenario: expected a Scenario, a scenario file's "
                      "path or None, got int"),
    ({"scenario": ["a.yaml"]}, "CooperationModel: scenario: expected a Scenario"),
    ({"rng": -1}, "CooperationModel: rng: expected a seed (a whole number >= 0), a numpy "
                  "Generator or None, got -1"),
    ({"rng": "7"}, "CooperationModel: rng: expected a seed"),
    ({"rng": 1.5}, "CooperationModel: rng: expected a seed"),
])
def test_a_wrong_argument_of_the_model_is_one_ctsim_error(kwargs, expected):
    assert message_of(ctsim.CooperationModel, **kwargs).startswith(expected)


def test_the_model_takes_a_path_object(scenario):
    model = ctsim.CooperationModel(scenario, rng=np.int64(3))
    assert model.config.name == "small"
