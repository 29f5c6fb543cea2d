"""The targets as they now stand (experiments/targets.yaml) in the world calibration:
each computed as the model's own quantity over the states its source counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ctsim.calibration as cal
from ctsim.calibration.particle import particle_specs, payload_of, target_values
from ctsim.core.outputs import PER_TARGET
from ctsim.runs import worker
from ctsim.runs.runner import pooled_among

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
AT = {"threat.detection_rate": 0.12, "threat.evidence_threshold": 3,
      "threat.interdiction": 0.8, "threat.transnational": 0.6, "threat.simple_share": 0.3}


@pytest.fixture(scope="module")
def particle():
    loaded = cal.load_calibration(EXPERIMENTS / "calibrate_world_stochastic.yaml")
    specs = particle_specs(loaded, AT, [11, 12])
    results = worker.run_batch(payload_of(loaded), specs)
    return loaded, specs, results


def _tables(specs, results, scenario: int) -> np.ndarray:
    return np.stack([np.stack([tables["nat"][c] for c in PER_TARGET])
                     for s, (_, tables) in zip(specs, results, strict=True)
                     if s.scenario == scenario])


def test_the_screening_target_is_the_adopters_relative_fall_in_transnational_attacks(
        particle):
    loaded, specs, results = particle
    values = target_values(loaded, specs, results, ["interpol_screening_effect"])
    adopters = loaded.masks["interpol_screening_effect"]
    assert adopters.sum() == 38  # the OECD's members stand in for the adopters
    k = PER_TARGET.index("attacked_transnational")
    mine = _tables(specs, results, 0)[:, k][:, adopters].sum() / 2
    other = _tables(specs, results, 1)[:, k][:, adopters].sum() / 2
    assert mine > 0 and other > 0
    assert values["interpol_screening_effect"] == pytest.approx((other - mine) / other)
    assert pooled_among(_tables(specs, results, 0), adopters,
                        "attacks_transnational") == pytest.approx(mine)


def test_the_eu_series_pools_the_28_members_of_its_years(particle):
    loaded, specs, results = particle
    from ctsim.core.scenario import scenario_from_dict

    eu = loaded.masks["eu_jihadist_plots_foiled"]
    codes = np.array(scenario_from_dict(loaded.scenario_dicts[0]).roster().codes)
    assert eu.sum() == 28 and {"GBR", "FRA", "HRV"} <= set(codes[eu])
    assert not {"NOR", "CHE"} & set(codes[eu])
    values = target_values(loaded, specs, results, ["eu_jihadist_plots_foiled",
                                                    "tesat_jihadist_foiled"])
    # two targets of the same quantity over the same states: a replicate
    assert values["eu_jihadist_plots_foiled"] == values["tesat_jihadist_foiled"]
    assert 0.0 < values["eu_jihadist_plots_foiled"] < 1.0


def test_simple_plots_are_defined_once_the_world_has_them(particle):
    loaded, specs, results = particle
    values = target_values(loaded, specs, results, ["simple_plots_executed",
                                                    "us_foreign_first_bound"])
    assert values["simple_plots_executed"] > 1.0  # simple plots are carried out more
    assert 0.0 <= values["us_foreign_first_bound"] <= 1.0
