"""Scenario discovery (ctsim/analysis/discover.py, docs/discovery.md): PRIM finds known
boxes, its trajectory moves as peeling must, its quasi-p-values are EMA Workbench's
binomial test, its choices follow the options; the condition parser refuses what it
cannot read; the tree's rules; ``ctsim discover`` on a real sweep and its place in
REPORT.md. Where EMA Workbench is installed, PRIM is held to its trajectory.
"""

from __future__ import annotations

import importlib.util
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

import ctsim
from ctsim.analysis.discover import (
    Condition,
    Discovery,
    Step,
    _Inputs,
    _Prim,
    choose_step,
    classification_tree,
    parse_where,
    prim,
    resolve_where,
    write_discovery,
)
from ctsim.errors import ArgumentError
from tests.conftest import invoke_cli
from tests.runs.sweep_helpers import write_experiment, write_scenario

HAS_EMA = importlib.util.find_spec("ema_workbench") is not None


def known_box(n: int = 2000, seed: int = 7, flip: float = 0.0):
    """x1, x2 and a noise factor uniform on [0, 1]; a case of interest where x1 < 0.3 and
    x2 > 0.6 (a share ``flip`` of the labels flipped at random)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n),
                      "noise": rng.uniform(0, 1, n)})
    y = ((x.x1 < 0.3) & (x.x2 > 0.6)).to_numpy()
    return x, y ^ (rng.random(n) < flip)


# ---------------------------------------------------------------- PRIM


def test_prim_finds_the_two_restrictions_of_a_known_box_and_not_the_noise_factor():
    x, y = known_box()
    box = prim(x, y)[0]
    found = {r["factor"]: r for r in box.restrictions}
    assert set(found) == {"x1", "x2"}
    # a peel takes 5% of the box: near the end about 13 of 260 rows, a slice of x2 about
    # 0.03 wide, so the chosen box (all cases, density >= 0.8) ends within that of 0.6
    assert found["x1"]["upper"] == pytest.approx(0.3, abs=0.03)
    assert found["x2"]["lower"] == pytest.approx(0.6, abs=0.03)
    assert np.isnan(found["x1"]["p_lower"]) and np.isnan(found["x2"]["p_upper"])
    assert found["x1"]["p_upper"] < 1e-10 and found["x2"]["p_lower"] < 1e-10
    assert (box.step.coverage, box.rule) == (1.0, "density") and box.step.density > 0.95


def test_with_noisy_labels_the_box_keeps_the_two_factors_with_small_p_values():
    x, y = known_box(flip=0.05)
    box = prim(x, y, density=0.9)[0]
    found = {r["factor"]: r for r in box.restrictions}
    assert set(found) == {"x1", "x2"}
    assert found["x1"]["p_upper"] < 1e-10 and found["x2"]["p_lower"] < 1e-10
    assert found["x1"]["upper"] == pytest.approx(0.3, abs=0.05)
    assert found["x2"]["lower"] == pytest.approx(0.6, abs=0.05)
    assert box.step.density >= 0.9


def test_the_trajectory_loses_coverage_and_gains_density_as_it_peels():
    x, y = known_box(flip=0.05)
    steps = prim(x, y, boxes=1)[0].trajectory
    start = steps[0]
    assert (start.coverage, start.mass, start.restricted) == (1.0, 1.0, 0)
    assert start.density == pytest.approx(y.mean())
    peels = [s for s in steps if s.phase == "peel"]
    assert len(peels) > 10
    coverage = np.array([start.coverage] + [s.coverage for s in peels])
    mass = np.array([start.mass] + [s.mass for s in peels])
    density = np.array([s.density for s in steps])
    assert (np.diff(coverage) <= 0).all() and (np.diff(mass) < 0).all()
    assert (np.diff(density) > 0).all()
    # each peel takes about alpha of the box, never below the smallest mass
    assert all(s.mass >= 0.05 for s in steps)
    assert mass[1] == pytest.approx(0.95, abs=0.002)


def test_a_whole_valued_factor_is_peeled_by_whole_values():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"level": rng.integers(0, 10, 3000), "noise": rng.uniform(0, 1, 3000)})
    box = prim(x, (x.level >= 6).to_numpy(), density=1.0)[0]
    (r,) = box.restrictions
    assert (r["factor"], r["kind"], r["lower"], r["upper"]) == ("level", "whole", 6.0, 9.0)
    assert box.step.density == 1.0 and box.step.coverage == 1.0
    j = _Inputs.of(x).names.index("level")
    bounds = {b for s in box.trajectory for b in (s.limits.lo[j], s.limits.hi[j])}
    assert all(float(v).is_integer() for v in bounds) and len(bounds) > 2


def test_a_categorical_factor_keeps_the_values_of_interest():
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"regime": rng.choice(["bilateral", "hybrid", "none"], 3000),
                      "noise": rng.uniform(0, 1, 3000)})
    box = prim(x, (x.regime == "hybrid").to_numpy())[0]
    (r,) = box.restrictions
    assert (r["factor"], r["kind"], r["values"]) == ("regime", "category", "hybrid")
    assert r["range_values"] == "bilateral|hybrid|none"
    assert r["p_lower"] < 1e-10 and box.step.density == 1.0


def test_covering_finds_a_second_region_among_the_cases_the_first_left():
    rng = np.random.default_rng(5)
    n = 4000
    x = pd.DataFrame({"a": rng.uniform(0, 1, n), "b": rng.uniform(0, 1, n)})
    y = ((x.a < 0.35) | ((x.b > 0.8) & (x.a > 0.5))).to_numpy()
    first, second = prim(x, y, boxes=2)
    assert not np.intersect1d(first.rows, second.rows).size
    one = {r["factor"]: (r["lower"], r["upper"]) for r in first.restrictions}
    two = {r["factor"]: (r["lower"], r["upper"]) for r in second.restrictions}
    assert set(one) == {"a"} and one["a"][1] == pytest.approx(0.35, abs=0.01)
    assert set(two) == {"a", "b"}
    assert two["a"][0] == pytest.approx(0.5, abs=0.01)
    assert two["b"][0] == pytest.approx(0.8, abs=0.01)
    assert second.remaining == n - len(first.rows)
    assert second.remaining_k == y.sum() - first.step.k
    # coverage counts every case of interest, the first box's too
    assert second.step.coverage == second.step.k / y.sum()


def test_a_quasi_p_value_is_the_binomial_test_of_the_box_against_it_without_that_side():
    x, y = known_box(flip=0.05)
    box = prim(x, y, boxes=1)[0]
    s = box.step
    r = next(r for r in box.restrictions if r["factor"] == "x1")
    # x1's upper side removed: x2's lower side alone holds
    other = next(r for r in box.restrictions if r["factor"] == "x2")
    relaxed = (x.x2 >= other["lower"]).to_numpy() & (x.x2 <= other["upper"]).to_numpy()
    want = binomtest(s.k, s.n, y[relaxed].mean(), alternative="greater").pvalue
    assert r["p_upper"] == pytest.approx(want, rel=1e-12)
    assert r["p_value"] == r["p_upper"]


def test_the_chosen_step_is_the_most_covering_box_of_at_least_the_density():
    def step(i, coverage, density):
        return Step(i, "peel", None, 10, 5, coverage, density, 0.5, 1)

    path = [step(0, 1.0, 0.3), step(1, 0.95, 0.7), step(2, 0.9, 0.82), step(3, 0.6, 0.95)]
    assert choose_step(path, 0.8) == (2, "density")
    assert choose_step(path, 0.9) == (3, "density")
    assert choose_step(path, 0.99) == (3, "highest density")


def test_box_chooses_a_step_of_the_first_trajectory_and_refuses_one_beyond_it():
    x, y = known_box(flip=0.05)
    found = prim(x, y, box=5, boxes=1)
    assert (found[0].chosen, found[0].rule) == (5, "asked")
    last = len(found[0].trajectory) - 1
    with pytest.raises(ArgumentError, match=f"steps 0 to {last}, not {last + 1}"):
        prim(x, y, box=last + 1)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"alpha": 0.5}, "alpha"), ({"alpha": 0}, "alpha"), ({"mass_min": 1.0}, "mass_min"),
    ({"boxes": 0}, "boxes"), ({"density": 1.5}, "density")])
def test_prim_refuses_an_option_out_of_range(kwargs, message):
    x, y = known_box(n=50)
    with pytest.raises(ArgumentError, match=message):
        prim(x, y, **kwargs)


@pytest.mark.skipif(not HAS_EMA, reason="ema_workbench is not installed")
def test_prim_walks_ema_workbench_s_trajectory_with_its_p_values():
    """Same data, same settings: every step's coverage, density, mass, restricted dims
    and counts equal EMA Workbench's (3.0.0), for the first box and the one after it; the
    last box's bounds and quasi-p-values too. With a categorical factor, both boxes with
    their pasting; with integer and categorical factors, the peeling (EMA Workbench's
    pasting of an integer factor fails under pandas 3)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim as ema

    columns = ["coverage", "density", "mass", "res_dim", "n", "k"]
    mine_columns = ["coverage", "density", "mass", "restricted_dims", "n", "k"]
    x, y = known_box(flip=0.05)
    first, second = prim(x, y, boxes=2)
    theirs = ema.Prim(x, y, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
    box = theirs.find_box()
    for mine, i in ((first, 0), (second, 1)):
        if i == 1:
            box.select(first.chosen)
            box = theirs.find_box()
        want = box.peeling_trajectory[columns].to_numpy(float)
        got = mine.table()[mine_columns].to_numpy(float)
        np.testing.assert_array_equal(got, want)
        last = len(want) - 1
        remaining = (np.arange(len(y)) if i == 0
                     else np.setdiff1d(np.arange(len(y)), first.rows))
        search = _Prim(_Inputs.of(x), y, 0.05, 0.05, 0.05)
        for r in search.restrictions(mine.trajectory[last], remaining):
            lo, hi = box.box_lims[last][r["factor"]]
            assert (r["lower"], r["upper"]) == (lo, hi)
            qp = [np.nan if v == -1 else v for v in box.p_values[last][r["factor"]]]
            np.testing.assert_allclose([r["p_lower"], r["p_upper"]], qp, rtol=1e-12)
    # a categorical factor with real-valued ones: both boxes, pasting included
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"x1": rng.uniform(0, 1, 2000), "x2": rng.uniform(0, 1, 2000),
                      "cat": rng.choice(["a", "b", "c", "d"], 2000)})
    y = (((x.x1 < 0.4) & x.cat.isin(["a", "b"])) | ((x.x2 > 0.9) & (x.cat == "c"))
         ).to_numpy() ^ (rng.random(2000) < 0.05)
    first, second = prim(x, y, boxes=2)
    assert (first.table().phase == "paste").sum() == 10
    theirs = ema.Prim(x, y)
    box = theirs.find_box()
    np.testing.assert_array_equal(first.table()[mine_columns].to_numpy(float),
                                  box.peeling_trajectory[columns].to_numpy(float))
    box.select(first.chosen)
    box = theirs.find_box()
    np.testing.assert_array_equal(second.table()[mine_columns].to_numpy(float),
                                  box.peeling_trajectory[columns].to_numpy(float))
    # integer and categorical factors: the peeling (EMA Workbench's integer paste fails)
    x, y = known_box(flip=0.05)
    rng = np.random.default_rng(11)
    x["whole"] = rng.integers(0, 10, len(x))
    x["cat"] = rng.choice(["a", "b", "c"], len(x))
    y = y & (x.cat != "c").to_numpy()
    mine = prim(x, y, boxes=1)[0].table()
    theirs = ema.Prim(x, y)
    theirs._update_yi_remaining(theirs)
    peeled = theirs._peel(ema.PrimBox(theirs, theirs.box_init, theirs.yi_remaining[:]))
    want = peeled.peeling_trajectory[columns].to_numpy(float)
    got = mine[mine.phase != "paste"][mine_columns].to_numpy(float)
    np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- the condition


def test_a_condition_reads_numbers_and_shares_of_a_column_s_extremes():
    clauses = parse_where("gain_disruption_rate < 0.333 * max AND attacks>=1e2 and x <= min")
    assert [c.text() for c in clauses] == ["gain_disruption_rate < 0.333 * max",
                                           "attacks >= 100", "x <= 1 * min"]
    table = pd.DataFrame({"gain_disruption_rate": [0.3, -0.1, np.nan], "attacks": [50, 200, 1],
                          "x": [2.0, 1.0, 1.0]})
    cond = resolve_where("gain_disruption_rate < 0.5 * max and attacks >= 100", table)
    assert cond.thresholds == (0.15, 100.0)
    np.testing.assert_array_equal(cond.holds(table), [False, True, False])


def test_a_condition_reads_a_share_of_a_columns_median_or_percentile():
    table = pd.DataFrame({"g": [0.0, 0.1, 0.2, 0.3, 0.4, np.nan, 9.0]})
    cond = resolve_where("g < 0.5 * q90 and g >= median", table)
    # percentiles of the six numbers (NaN left out): q90 4.7, median 0.25
    assert cond.thresholds == pytest.approx((0.5 * np.percentile(
        [0.0, 0.1, 0.2, 0.3, 0.4, 9.0], 90), 0.25))
    np.testing.assert_array_equal(cond.holds(table),
                                  [False, False, False, True, True, False, False])


@pytest.mark.parametrize(("text", "message"), [
    ("", "give a condition"),
    ("attacks == 3", "no = or !="),
    ("attacks < 3 or attacks > 9", "only 'and'"),
    ("attacks < lots", "cannot read the value 'lots'"),
    ("attacks < 3 and", "a comparison is missing around 'and'"),
    ("__import__('os') < 1", "expected COLUMN OP VALUE"),
    ("attacks < 3 * mean", "cannot read the value"),
    ("attacks < 3 * q100", "cannot read the value"),
])
def test_a_condition_that_cannot_be_read_is_one_line_naming_the_part(text, message):
    with pytest.raises(ArgumentError, match=message) as err:
        parse_where(text)
    assert "\n" not in str(err.value) and str(err.value).startswith("where: ")


def test_an_unknown_column_names_the_closest_columns():
    table = pd.DataFrame({"gain_disruption_rate": [0.1], "disruption_rate": [0.2],
                          "attacks": [3], "run_id": [0], "scenario": ["a"]})
    with pytest.raises(ArgumentError) as err:
        resolve_where("gain_disruption_rat < 0.3", table, "points.parquet")
    assert str(err.value) == ("where: no column 'gain_disruption_rat' in points.parquet "
                              "(closest: gain_disruption_rate, disruption_rate)")
    with pytest.raises(ArgumentError, match="'scenario' of t does not hold numbers"):
        resolve_where("scenario < 1", table, "t")


# ---------------------------------------------------------------- the tree


def test_the_tree_s_rule_for_the_cases_of_interest_is_the_known_box():
    x, y = known_box()
    tree = classification_tree(x, y, depth=3, min_leaf=0.02)
    hits = [r for r in tree.rules if r["predicts"]]
    assert len(hits) == 1
    (rule,) = hits
    assert len(rule["conditions"]) == 2
    cuts = {c.split()[0]: (c.split()[1], float(c.split()[2])) for c in rule["conditions"]}
    assert cuts["x1"][0] == "<=" and cuts["x1"][1] == pytest.approx(0.3, abs=0.01)
    assert cuts["x2"][0] == ">" and cuts["x2"][1] == pytest.approx(0.6, abs=0.01)
    assert rule["k"] == y.sum() and rule["share"] == 1.0
    assert tree.accuracy == 1.0 and tree.baseline == pytest.approx(1 - y.mean())
    assert sum(r["n"] for r in tree.rules) == len(y)


def test_a_categorical_factor_enters_the_tree_as_one_rule_a_value():
    rng = np.random.default_rng(6)
    x = pd.DataFrame({"regime": rng.choice(["bilateral", "hybrid"], 500),
                      "noise": rng.uniform(0, 1, 500)})
    tree = classification_tree(x, (x.regime == "hybrid").to_numpy(), depth=1)
    (rule,) = [r for r in tree.rules if r["predicts"]]
    assert rule["conditions"] in (["regime = hybrid"], ["regime != bilateral"])


# ---------------------------------------------------------------- a real sweep


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """An lhs sweep of 40 one-year-short runs on the small world: detection rate, the
    number of groups (whole) and the regime (categorical)."""
    folder = tmp_path_factory.mktemp("discover")
    write_scenario(folder)
    experiment = write_experiment(folder, {
        "name": "tiny_lhs", "scenario": "small.yaml", "design": "lhs", "samples": 40,
        "factors": {"threat.detection_rate": {"range": [0.02, 0.4]},
                    "threat.groups": {"range": [1, 6], "integer": True},
                    "cooperation.regime": {"values": ["bilateral", "hybrid"]}},
        "replications": 2, "steps": 20, "seed": 3})
    out = folder / "out"
    ctsim.sweep(experiment, workers=1, executor="serial", out=out)
    return out


def test_discover_writes_its_files_and_report_includes_them(sweep, tmp_path):
    results = tmp_path / "r"
    shutil.copytree(sweep, results)
    done = invoke_cli("discover", results, "--where", "disruption_rate > 0.5")
    assert done.exit_code == 0, done.output
    out = results / "discovery"
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert names == {"boxes.csv", "trajectory.csv", "tree.txt", "DISCOVERY.md", "figures",
                     "figures/discovery_trajectory.png", "figures/discovery_box.png"}
    runs = pd.read_parquet(results / "runs.parquet")
    boxes = pd.read_csv(out / "boxes.csv")
    trajectory = pd.read_csv(out / "trajectory.csv")
    factors = {"threat.detection_rate", "threat.groups", "cooperation.regime"}
    assert set(boxes["factor"].dropna()) <= factors
    first = trajectory[trajectory.box == 1]
    assert first.iloc[0][["coverage", "mass"]].tolist() == [1.0, 1.0]
    assert first.iloc[0]["n"] == len(runs) == 80
    assert first.iloc[0]["k"] == (runs.disruption_rate > 0.5).sum()
    chosen = first[first.chosen]
    assert len(chosen) == 1 and (boxes[boxes.box == 1].step == chosen.step.iloc[0]).all()
    assert f"{first.iloc[0]['k']} of 80 rows of runs.parquet" in done.stdout
    text = (out / "DISCOVERY.md").read_text()
    assert "](figures/discovery_box.png)" in text and "## Box 1" in text
    report = invoke_cli("report", results)
    assert report.exit_code == 0, report.output
    full = (results / "REPORT.md").read_text()
    assert "## Scenario discovery: `disruption_rate > 0.5`" in full
    assert "](discovery/figures/discovery_trajectory.png)" in full
    assert not list(results.rglob("*.tmp"))


def test_discover_reads_points_by_default_and_counts_the_rows_it_leaves_out(sweep, tmp_path):
    results = tmp_path / "r"
    shutil.copytree(sweep, results)
    runs = pd.read_parquet(results / "runs.parquet")
    factors = ["threat.detection_rate", "threat.groups", "cooperation.regime"]
    points = runs.groupby("point").agg({**dict.fromkeys(factors, "first"),
                                        "disruption_rate": "mean"}).reset_index()
    points["gain_disruption_rate"] = points["disruption_rate"] - 0.2
    points.loc[:2, "gain_disruption_rate"] = np.nan
    points.to_parquet(results / "points.parquet")
    done = invoke_cli("discover", results, "--where", "gain_disruption_rate < 0.5 * max",
                      "--out", tmp_path / "d")
    assert done.exit_code == 0, done.output
    top = points["gain_disruption_rate"].max()
    k = int((points["gain_disruption_rate"] < 0.5 * top).sum())
    assert f"{k} of 37 rows of points.parquet" in done.stdout
    text = (tmp_path / "d" / "DISCOVERY.md").read_text()
    assert "3 rows where `gain_disruption_rate` or a factor has no value (NaN)" in text
    assert f"gain_disruption_rate < {0.5 * top:.6g} (gain_disruption_rate < 0.5 * max)" in text
    runs_only = invoke_cli("discover", results, "--where", "disruption_rate > 0.5",
                           "--table", "runs", "--out", tmp_path / "e")
    assert "of 80 rows of runs.parquet" in runs_only.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--where", "disruption_rat > 0.5"],
     "error: where: no column 'disruption_rat' in runs.parquet (closest: disruption_rate"),
    (["--where", "disruption_rate > 2"], "error: where: no row of the 80 in runs.parquet"),
    (["--where", "disruption_rate > 0.5", "--table", "points"], "error: "),
    (["--where", "disruption_rate > 0.5", "--box", "999"], "error: box: the first box's"),
])
def test_discover_s_mistakes_are_one_line_and_exit_2(sweep, tmp_path, args, message):
    results = tmp_path / "r"
    shutil.copytree(sweep, results)
    done = invoke_cli("discover", results, *args)
    assert done.exit_code == 2
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
    assert "--table" not in args or "no points.parquet (use the runs table" in done.stderr
    assert not (results / "discovery").exists()


def test_the_figures_draw_categorical_and_numeric_restrictions(tmp_path):
    rng = np.random.default_rng(8)
    n = 1500
    x = pd.DataFrame({"threat.detection_rate": rng.uniform(0, 0.4, n),
                      "threat.groups": rng.integers(1, 7, n),
                      "cooperation.regime": rng.choice(["bilateral", "hybrid", "none"], n)})
    y = ((x["threat.detection_rate"] > 0.2) & (x["cooperation.regime"] != "none")).to_numpy()
    found = prim(x, y, boxes=2)
    table = x.assign(out=y.astype(float))
    result = Discovery(tmp_path, tmp_path / "d", "runs", resolve_where("out > 0.5", table),
                       list(x.columns), [], n, int(y.sum()), 0, 0, found,
                       classification_tree(x, y),
                       {"alpha": 0.05, "density": 0.8, "box": None, "boxes": 2,
                        "mass_min": 0.05, "depth": 3, "min_leaf": 0.05})
    written = write_discovery(result)
    pngs = [p for p in written if p.suffix == ".png"]
    assert len(pngs) == 2 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    kinds = {r["factor"]: r["kind"] for r in found[0].restrictions}
    assert kinds.get("cooperation.regime") == "category"
    assert kinds.get("threat.detection_rate") == "real"
    assert isinstance(result.condition, Condition)


def test_discover_on_a_folder_that_does_not_exist_says_so_and_makes_nothing(tmp_path):
    done = invoke_cli("discover", tmp_path / "none", "--where", "disruption_rate < 0.4")
    assert done.exit_code == 2
    assert done.stderr == f"error: {tmp_path / 'none'}: no such folder\n"
    assert list(tmp_path.iterdir()) == []


def test_a_factor_the_condition_reads_is_not_an_input(sweep, tmp_path):
    from ctsim.analysis.discover import discover

    found = discover(sweep, "threat.detection_rate < 0.2 and disruption_rate > 0.3",
                     table="runs", out=tmp_path / "d")
    assert set(found.factors) == {"threat.groups", "cooperation.regime"}
    assert "the condition reads them: `threat.detection_rate`" in (
        tmp_path / "d" / "DISCOVERY.md").read_text()


def test_a_condition_on_a_bookkeeping_column_says_so():
    table = pd.DataFrame({"point": np.arange(5), "disruption_rate": np.linspace(0, 1, 5)})
    with pytest.raises(ArgumentError, match="numbers the rows"):
        resolve_where("point < 3", table, "points.parquet")
