"""The gain from cooperation and the sensitivity of it (the "Sensitivity of the gain" issue).

- a ``contrast`` runs every design point and replication again in the world to compare
  with, with the same seed; ``gain_<m>`` is the paired difference, signed so that a
  positive gain is the scenario doing better (``gain_attacks``: the attacks averted);
- points.parquet holds one row a design point: its factors, each metric's mean over the
  replications under the scenario and each gain's mean;
- the dummy factor of a Sobol' design sets no scenario key: every run equals the run of
  the same factor values and seed without it, bit for bit; its indices are those of the
  runs' chance, and a factor whose interval reaches the dummy's is marked;
- an output undefined at some design point is not indexed, and nothing is imputed;
- mistakes in a contrast are one ``error:`` line, before anything runs.

Worlds are tiny (8 nations, 20-30 weeks): every sweep takes a second or two.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from ctsim.cli import cli
from ctsim.core.outputs import METRICS
from ctsim.core.scenario import OverrideBase
from ctsim.errors import ExperimentError
from ctsim.runs.experiment import DUMMY, design_points, load_experiment
from ctsim.runs.gain import AVERTED, POINTS_FILE, Outcomes, gain_name, gain_sign
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from ctsim.runs.sweeps import _within_noise, run_sweep, sensitivity_indices
from tests.runs.sweep_helpers import runs_table, write_experiment, write_scenario

METRIC_NAMES = ["disruption_rate", "attacks", "shared_bilateral"]


def gain_spec(**changes) -> dict:
    """A Sobol' design of two factors on the small world, compared with no cooperation."""
    spec = {"name": "gain", "scenario": "small.yaml", "design": "sobol", "samples": 4,
            "replications": 2, "steps": 30, "seed": 3, "metrics": METRIC_NAMES,
            "contrast": {"cooperation.regime": "none"},
            "factors": {"threat.detection_rate": {"range": [0.05, 0.3]},
                        "relations.trust": {"range": [0.2, 1.0]}}}
    return spec | changes


def sweep(folder: Path, **changes):
    """Write the small world and a :func:`gain_spec` experiment in ``folder``, run it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_scenario(folder)
    loaded = load_experiment(write_experiment(folder, gain_spec(**changes)))
    result = run_sweep(loaded, folder / "out", executor="serial")
    return loaded, result


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """The gain experiment, run once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("paired")
    loaded, result = sweep(folder)
    return loaded, result, runs_table(folder / "out"), pd.read_parquet(
        folder / "out" / POINTS_FILE)


# ---------------------------------------------------------------- the gain


def test_the_contrast_runs_every_point_and_replication_with_the_same_seed(paired):
    loaded, result, runs, _ = paired
    assert loaded.scenario_names == ["small", "small_contrast"]
    assert loaded.contrast_keys == ("cooperation.regime",)
    half = len(runs) // 2
    assert result.total == len(runs) == 2 * 4 * (2 + 2) * 2
    scenario, contrast = runs.iloc[:half], runs.iloc[half:].reset_index(drop=True)
    assert set(scenario["scenario"]) == {"small"} and set(contrast["scenario"]) == {
        "small_contrast"}
    for column in ["replication", "seed", *loaded.spec.factors]:
        assert contrast[column].tolist() == scenario[column].tolist(), column
    assert (contrast["point"] - scenario["point"] == half // 2).all()  # P more: run ids kept


def test_a_contrast_run_is_the_contrast_world_run_alone_with_that_seed(paired, tmp_path):
    """Run the contrast's rows again by hand: the scenario with the contrast's key and the
    point's factors, from the row's seed; the same metrics, bit for bit."""
    loaded, _, runs, _ = paired
    base = OverrideBase(loaded.scenario_dicts[0])
    for _, row in runs[runs["scenario"] == "small_contrast"].iloc[::7].iterrows():
        keys = {k: row[k] for k in loaded.spec.factors} | {"cooperation.regime": "none"}
        alone = run_one(base.scenario(keys), int(row["seed"]), 30, timeseries=False,
                        metrics=METRIC_NAMES, nations=False)
        for m in METRIC_NAMES:
            assert np.array_equal(alone.metrics[m], row[m], equal_nan=True), m


def test_the_gain_is_the_paired_difference_of_the_two_worlds_runs(paired):
    _, _, runs, points = paired
    key = ["point", "replication"]
    size = len(points)
    scenario = runs[runs["scenario"] == "small"].set_index(key)
    contrast = runs[runs["scenario"] == "small_contrast"].assign(
        point=lambda r: r["point"] - size).set_index(key)
    assert (scenario["seed"] == contrast["seed"]).all()
    rate = (scenario["disruption_rate"] - contrast["disruption_rate"]).groupby("point").mean()
    averted = (contrast["attacks"] - scenario["attacks"]).groupby("point").mean()
    shared = (scenario["shared_bilateral"] - contrast["shared_bilateral"]).groupby(
        "point").mean()
    np.testing.assert_array_equal(points["gain_disruption_rate"], rate.to_numpy())
    np.testing.assert_array_equal(points["gain_attacks"], averted.to_numpy())
    np.testing.assert_array_equal(points["gain_shared_bilateral"], shared.to_numpy())
    assert (points["gain_attacks"] > 0).any(), "cooperation averts attacks somewhere"
    assert (points["gain_shared_bilateral"] > 0).all(), "no world shares without cooperation"


def test_points_parquet_holds_each_points_factors_metrics_and_gains(paired):
    loaded, _, runs, points = paired
    factors = list(loaded.spec.factors)
    assert list(points.columns) == ["point", *factors, *METRIC_NAMES,
                                    *(gain_name(m) for m in METRIC_NAMES)]
    assert points["point"].tolist() == list(range(4 * 4))
    scenario = runs[runs["scenario"] == "small"]
    means = scenario.groupby("point")[METRIC_NAMES].mean()
    for m in METRIC_NAMES:
        np.testing.assert_array_equal(points[m], means[m].to_numpy())
    assert points[factors].to_dict("records") == design_points(loaded.spec)
    assert points["point"].dtype == np.int64 and points["relations.trust"].dtype == float


def test_points_parquet_is_the_same_written_a_few_points_at_a_time(paired, tmp_path):
    """A large sweep's points are written a row group at a time, from its outcomes read
    back from runs.parquet: the same table as the sweep wrote."""
    from ctsim.runs.sweeps import RunTable, _read_outcomes, write_points

    loaded, result, _, points = paired
    path = tmp_path / POINTS_FILE
    write_points(path, loaded, RunTable(loaded, loaded.plan()),
                 _read_outcomes(result.out, loaded), group=3)
    pd.testing.assert_frame_equal(pd.read_parquet(path), points, check_exact=True)
    assert [p.name for p in tmp_path.iterdir()] == [POINTS_FILE]


def test_the_manifest_says_what_each_gain_is(paired):
    _, result, _, _ = paired
    manifest = json.loads((result.out / "manifest.json").read_text())
    assert manifest["contrast"] == {"scenario": "small_contrast",
                                    "differs_in": ["cooperation.regime"], "file": None}
    assert manifest["gains"]["gain_attacks"].startswith(
        "attacks under small_contrast minus attacks under small")
    assert manifest["gains"]["gain_disruption_rate"].startswith(
        "disruption_rate under small minus disruption_rate under small_contrast")
    assert manifest["points_file"] == POINTS_FILE
    assert "mean over its 2 replications" in manifest["sensitivity"]


def test_the_gains_are_indexed_beside_the_levels(paired):
    loaded, result, runs, _ = paired
    table = result.sensitivity
    outputs = [*METRIC_NAMES, *(gain_name(m) for m in METRIC_NAMES)]
    assert table["metric"].unique().tolist() == outputs
    assert (table["replications"] == 2).all() and (table["points"] == 16).all()
    again = sensitivity_indices(loaded, runs)
    pd.testing.assert_frame_equal(again, table)
    assert table.loc[table["metric"] == "gain_attacks", "ST"].notna().all()


def test_only_harms_count_their_gain_as_averted():
    assert set(METRICS) >= AVERTED
    assert gain_sign("attacks") == -1 and gain_sign("leaks") == -1
    assert gain_sign("disruption_rate") == 1 and gain_sign("shared_bilateral") == 1


def test_a_grid_with_a_contrast_writes_its_points_and_no_indices(tmp_path):
    loaded, result = sweep(tmp_path, design="grid", replications=1, steps=20, factors={
        "threat.detection_rate": {"values": [0.05, 0.3]},
        "legal.harmonization": {"values": [0.0, 1.0]}})
    points = pd.read_parquet(tmp_path / "out" / POINTS_FILE)
    runs = runs_table(tmp_path / "out")
    assert points[list(loaded.spec.factors)].to_dict("records") == design_points(
        loaded.spec)
    contrast = runs[runs["scenario"] == "small_contrast"]
    np.testing.assert_array_equal(points["gain_attacks"], contrast["attacks"].to_numpy()
                                  - runs.loc[runs["scenario"] == "small", "attacks"].to_numpy())
    assert result.sensitivity is None and not (tmp_path / "out" / "sensitivity.csv").exists()


def test_a_contrast_file_is_compared_key_by_key(tmp_path):
    write_scenario(tmp_path)
    other = copy.deepcopy(yaml.safe_load((tmp_path / "small.yaml").read_text()))
    other |= {"name": "alone", "description": "another text"}
    other["cooperation"]["regime"] = "none"
    other["legal"] = {"mlat_delay": 20}
    (tmp_path / "alone.yaml").write_text(yaml.safe_dump(other))
    loaded = load_experiment(write_experiment(tmp_path, gain_spec(contrast="alone.yaml")))
    assert loaded.scenario_names == ["small", "alone"]
    assert loaded.contrast_keys == ("legal.mlat_delay", "cooperation.regime")
    assert len(loaded.plan()) == 2 * 16 * 2


def test_the_contrast_takes_the_same_posterior_draws_as_the_scenario(tmp_path):
    (tmp_path / "post").mkdir()
    pd.DataFrame({"threat.leak_rate": [0.01, 0.2, 0.3], "weight": [1.0, 2.0, 1.0]}).to_csv(
        tmp_path / "post" / "posterior.csv", index=False)
    write_scenario(tmp_path)
    loaded = load_experiment(write_experiment(tmp_path, gain_spec(uncertainty="post",
                                                                  replications=3)))
    plan = loaded.plan()
    half = len(plan) // 2
    assert plan.overrides(0, half) == plan.overrides(half, len(plan))
    assert {o["threat.leak_rate"] for o in plan.overrides(0, half)} <= {0.01, 0.2, 0.3}
    assert plan.columns(0, half)["seed"].tolist() == plan.columns(half, len(plan))[
        "seed"].tolist()
    clash = write_experiment(tmp_path, gain_spec(uncertainty="post", contrast={
        "threat.leak_rate": 0.0}), "clash.yaml")
    with pytest.raises(ExperimentError, match=r"the posterior draws 'threat\.leak_rate'"):
        load_experiment(clash)


# ---------------------------------------------------------------- per point, no imputation


def test_a_points_value_is_its_mean_over_the_replications_where_it_is_defined():
    nan = np.nan
    ok = np.array([True, True, False, True, True, True, True, True])
    rate = np.array([0.5, nan, 0.9, 0.2, 0.4, 0.1, nan, 0.3])
    outcomes = Outcomes.of(np.arange(8), ok, {"disruption_rate": rate}, 2, 2, 2)
    # scenario: point 0 has 0.5 and nan; point 1 a failed run and 0.2
    np.testing.assert_array_equal(outcomes.per_point("disruption_rate"), [0.5, 0.2])
    # pairs: (0.5 - 0.4), (nan - 0.1), (failed - nan), (0.2 - 0.3)
    np.testing.assert_allclose(outcomes.per_point("gain_disruption_rate"), [0.1, -0.1])
    missing = Outcomes.of(np.array([0, 1, 4, 5]), np.ones(4, bool),
                          {"disruption_rate": np.array([nan, nan, 0.2, 0.3])}, 2, 2, 2)
    assert np.isnan(missing.per_point("disruption_rate")).tolist() == [True, True]
    count, why = missing.why_undefined("disruption_rate")
    assert count == 2
    assert why == ("no replication measured it at 1 (a share or mean of no events: no "
                   "plot settled, or none was disrupted); every run failed at 1")


def test_an_output_undefined_at_some_points_is_not_indexed(tmp_path):
    """No group at about half the points: no plot, so no disruption rate there; attacks
    (0 there) are indexed, the disruption rate and its gain are not."""
    sweep(tmp_path, factors={
        "threat.groups": {"range": [0, 1], "integer": True},
        "relations.trust": {"range": [0.2, 1.0]}})
    points = pd.read_parquet(tmp_path / "out" / POINTS_FILE)
    empty = points["threat.groups"] == 0
    assert 0 < empty.sum() < len(points)
    assert points.loc[empty, "disruption_rate"].isna().all(), "nothing imputed"
    assert points.loc[~empty, "disruption_rate"].notna().all()
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    for output in ("disruption_rate", "gain_disruption_rate"):
        rows = table[table["metric"] == output]
        assert rows[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()
        assert (rows["undefined_points"] == empty.sum()).all()
        assert rows["note"].str.startswith(f"not indexed: undefined at {empty.sum()} of "
                                           f"{len(points)} design points").all()
    attacks = table[table["metric"] == "attacks"]
    assert attacks["ST"].notna().all() and (attacks["undefined_points"] == 0).all()
    assert attacks["note"].isna().all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["not_indexed"]) == {"disruption_rate", "gain_disruption_rate"}


# ---------------------------------------------------------------- the dummy factor


def test_the_dummy_sets_no_key_and_runs_as_without_it_bit_for_bit(tmp_path):
    """With the dummy, each base sample has one more row (the dummy's AB row, before B).
    Rows that take the dummy from A run with the experiment's seeds: the rows of the same
    design row without a dummy. The dummy's AB row and B run with the second seed set:
    the rows of replications R..2R-1 of the design without a dummy (2R replications)."""
    reps, d = 1, 2
    with_dummy, _ = sweep(tmp_path / "with", dummy=True, replications=reps, contrast=None)
    without, _ = sweep(tmp_path / "without", replications=2 * reps, contrast=None)
    a = runs_table(tmp_path / "with" / "out")
    b = runs_table(tmp_path / "without" / "out").set_index(["point", "replication"])
    assert len(a) == 4 * (d + 3) * reps
    assert sorted(set(a[DUMMY])) == [0, 1] and a[DUMMY].dtype == np.int64
    n, j = np.divmod(a["point"].to_numpy(), d + 3)
    row = np.where(j <= d, j, np.where(j == d + 1, 0, d + 1))  # the AB_dummy row is A's
    same = n * (d + 2) + row
    replication = a["replication"].to_numpy() + reps * a[DUMMY].to_numpy()
    expected = b.loc[list(zip(same, replication, strict=True))].reset_index()
    columns = ["seed", *with_dummy.spec.factors, *METRIC_NAMES, "status"]
    pd.testing.assert_frame_equal(a[columns], expected[columns], check_exact=True)
    seeds = replication_seeds(3, 2 * reps)
    assert set(a.loc[a[DUMMY] == 0, "seed"]) == set(seeds[:reps])
    assert set(a.loc[a[DUMMY] == 1, "seed"]) == set(seeds[reps:])
    assert without.spec.dummy is False


def test_the_dummys_indices_measure_chance_and_mark_what_cannot_be_told_from_it(tmp_path):
    loaded, result = sweep(tmp_path, dummy=True)
    table = result.sensitivity
    assert table["factor"].unique().tolist() == [*loaded.spec.factors, DUMMY]
    dummy = table[table["factor"] == DUMMY].set_index("metric")
    assert (dummy.loc[["attacks", "gain_attacks"], "ST"] > 0).all(), \
        "other seeds: the dummy's rows differ by chance alone"
    assert dummy["ST_within_noise"].isna().all()
    points = pd.read_parquet(tmp_path / "out" / POINTS_FILE)
    assert points.columns[1:4].tolist() == [*loaded.spec.factors, DUMMY]
    assert points[[*loaded.spec.factors, DUMMY]].to_dict("records") == design_points(
        loaded.spec)
    assert len(points) == 4 * (2 + 3)


def test_a_factor_is_within_noise_when_its_interval_reaches_the_dummys():
    table = pd.DataFrame({
        "metric": ["m"] * 4 + ["n"] * 2,
        "factor": ["a", "b", "c", DUMMY, "a", DUMMY],
        "ST": [0.50, 0.12, 0.00, 0.10, np.nan, np.nan],
        "ST_conf": [0.10, 0.01, 0.00, 0.03, np.nan, np.nan]})
    marks = _within_noise(table, "ST")
    # a: 0.40 > 0.13 (above); b: 0.11 <= 0.13 (overlaps); c: 0 below the dummy
    assert marks.tolist()[:3] == [False, True, True]
    assert marks.isna().tolist()[3:] == [True, True, True]


# ---------------------------------------------------------------- categorical factors


def test_a_sobol_design_samples_a_values_factor_as_a_categorical(tmp_path):
    write_scenario(tmp_path)
    loaded = load_experiment(write_experiment(tmp_path, gain_spec(samples=16, factors={
        "threat.detection_rate": {"range": [0.05, 0.3]},
        "threat.alert_effect": {"values": ["reset", "accelerate", "abort"]}})))
    design = loaded.plan().design
    a = design.a[:, 1]
    picked = [loaded.spec.factors["threat.alert_effect"].values[int(u * 3)] for u in a]
    points = design_points(loaded.spec)
    assert [p["threat.alert_effect"] for p in points[::4]] == picked  # the A rows
    assert {p["threat.alert_effect"] for p in points} == {"reset", "accelerate", "abort"}


# ---------------------------------------------------------------- mistakes


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"contrast": {"cooperation.regmie": "none"}}, "contrast.cooperation.regmie",
     ["regime"]),
    ({"contrast": {"steps": 10}}, "contrast.steps", ["cannot be set by a contrast"]),
    ({"contrast": {"cooperation.regime": "hybrid"}}, "contrast", ["changes no key"]),
    ({"contrast": {"relations.trust": 0.1}}, "factors.relations.trust",
     ["the contrast sets 'relations.trust'"]),
    ({"contrast": "nowhere.yaml"}, "contrast", ["nowhere.yaml"]),
    ({"contrast": {}}, "contrast", ["empty"]),
    ({"scenario": None, "scenarios": ["small.yaml"]}, "contrast", ["give scenario: FILE"]),
    ({"dummy": True, "design": "lhs"}, "dummy", ["sobol"]),
])
def test_a_contrast_or_dummy_mistake_is_one_error_line(tmp_path, changes, key, words):
    write_scenario(tmp_path)
    spec = {k: v for k, v in (gain_spec() | changes).items() if v is not None}
    path = write_experiment(tmp_path, spec)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    text = str(info.value)
    assert "\n" not in text and info.value.key.startswith(key), text
    assert all(w in text for w in words), text
    result = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not (tmp_path / "o").exists()
