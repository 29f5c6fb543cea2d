"""A sweep's plan as columns (ctsim.runs.plan): the same runs as a run per object, in a
memory that does not grow with the runs; and the scenario of a run made from numbers
without validating the whole scenario again (ctsim.core.scenario.OverrideBase)."""

from __future__ import annotations

import pickle
import random
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from ctsim.core.scenario import OverrideBase, ScenarioError, _validated
from ctsim.files import Origins, apply_overrides, copied_along
from ctsim.runs.experiment import (
    Experiment,
    LoadedExperiment,
    design_of,
    load_experiment,
    plan_runs,
    salib_problem,
)
from ctsim.runs.plan import Plan, RunSpec, SaltelliDesign, Span, TableDesign
from ctsim.runs.seeds import replication_seeds
from tests.conftest import ROOT


def spec(**fields) -> Experiment:
    return Experiment.model_validate({"name": "t", "scenario": "x.yaml", **fields})


def test_a_saltelli_design_gives_salibs_rows_value_for_value():
    """The rows made from the two base matrices are SALib's sobol.sample, bit for bit,
    whole numbers rounded as a factor with integer: true is."""
    from SALib.sample import sobol as sobol_sample

    s = spec(design="sobol", samples=64, seed=11, factors={
        "a": {"range": [0, 1]}, "b": {"range": [2, 9], "integer": True},
        "c": {"range": [-1.5, 4.0]}})
    design = design_of(s)
    assert isinstance(design, SaltelliDesign) and design.size == 64 * 5
    expected = sobol_sample.sample(salib_problem(s), N=64, calc_second_order=False,
                                   seed=11)
    points = np.arange(design.size)
    assert np.array_equal(design.matrix(points), expected)
    values = design.values(points[::-1])
    assert np.array_equal(values["a"], expected[::-1, 0])
    assert values["b"].dtype == np.int64
    assert np.array_equal(values["b"], np.rint(expected[::-1, 1]).astype(np.int64))


def test_a_run_is_told_by_its_number_scenario_point_replication_and_seed():
    """Run i of S scenarios x P points x R replications: scenario i // (P R), point
    i // R (counted over the scenarios), replication i % R with its seed."""
    design = TableDesign({"x": np.array([0.1, 0.2, 0.3])}, 3)
    seeds = np.array(replication_seeds(5, 4), np.int64)
    plan = Plan(2, design, seeds)
    assert len(plan) == 24 and plan.points == 6
    cols = plan.columns(13, 15)
    assert cols["scenario"].tolist() == [1, 1]
    assert cols["point"].tolist() == [3, 3]
    assert cols["replication"].tolist() == [1, 2]
    assert cols["seed"].tolist() == seeds[[1, 2]].tolist()
    assert plan.overrides(13, 15) == [{"x": 0.1}, {"x": 0.1}]
    run = plan.specs(23, 24)[0]
    assert run == RunSpec(23, 5, 3, int(seeds[3]), 1, {"x": 0.3})


def test_an_oat_point_sets_only_the_factors_it_sweeps():
    s = spec(design="oat", levels=2, factors={"a": {"values": [1, 2]},
                                              "b": {"values": ["x", "y", "z"]}})
    plan = Plan(1, design_of(s), np.array([7], np.int64))
    assert [r.overrides for r in plan.specs(0, len(plan))] == [
        {"a": 1}, {"a": 2}, {"b": "x"}, {"b": "y"}, {"b": "z"}]
    assert [r.sweep for r in plan.specs(0, len(plan))] == ["a", "a", "b", "b", "b"]


@pytest.mark.parametrize("size", [1, 7, 64])
def test_spans_cover_the_runs_not_done_once_each_in_order(size):
    plan = Plan(1, TableDesign({}, 1), np.arange(300, dtype=np.int64))
    rng = np.random.default_rng(size)
    done = rng.random(300) < 0.4
    done[100:180] = True
    spans = list(plan.spans(done, size))
    ids = [i for s in spans for i in range(s.start, s.stop)]
    assert ids == np.flatnonzero(~done).tolist()
    assert all(1 <= len(s) <= size for s in spans)
    assert all(not done[s.start:s.stop].any() for s in spans)


def test_a_plan_of_a_million_runs_takes_megabytes_not_gigabytes():
    """The shipped million-run benchmark design (62 factors) is planned as two base
    matrices: about 16 MB pickled, where a mapping per run took about 3 GB."""
    loaded = load_experiment(ROOT / "benchmarks" / "sobol_million.yaml")
    plan = loaded.plan()
    assert len(plan) == 16384 * 64 and len(loaded.spec.factors) == 62
    assert len(pickle.dumps(plan)) < 20e6
    last = plan.specs(len(plan) - 1, len(plan))[0]
    assert last.point == len(plan) - 1 and len(last.overrides) == 62


def test_plan_runs_lists_the_same_runs_as_the_columns(tmp_path):
    s = spec(design="grid", replications=3, factors={"a": {"values": [1, 2]},
                                                     "b": {"values": [0.5, "all"]}})
    loaded = LoadedExperiment(s, Path("t.yaml"), ["x"], [{}])
    runs = plan_runs(loaded)
    assert [(r.point, r.replication, r.overrides) for r in runs[:4]] == [
        (0, 0, {"a": 1, "b": 0.5}), (0, 1, {"a": 1, "b": 0.5}), (0, 2, {"a": 1, "b": 0.5}),
        (1, 0, {"a": 1, "b": "all"})]
    assert isinstance(runs[0].overrides["a"], int)


# ---------------------------------------------------------------- numbers set directly


def _validated_slowly(base: OverrideBase, overrides: dict):
    data = copied_along(base.filled, overrides)
    apply_overrides(data, overrides)
    return _validated(data, Origins("<scenario>"))


def test_numbers_set_directly_give_the_scenario_validation_gives():
    """Every run of the Sobol' screening and the million-run design: the scenario made
    by setting numbers in the scenario validated once equals the one validated whole."""
    for name in ("ctsim/experiments/sobol_all.yaml", "benchmarks/sobol_million.yaml"):
        loaded = load_experiment(ROOT / name)
        plan = loaded.plan()
        base = OverrideBase(loaded.scenario_dicts[0])
        picked = random.Random(3).sample(range(len(plan)), 150)
        for i in picked:
            overrides = plan.overrides(i, i + 1)[0]
            quick = base._numbers(overrides)
            assert quick is not None, "every factor of these designs is a number"
            slow = _validated_slowly(base, overrides)
            assert quick == slow and repr(quick) == repr(slow)


@pytest.mark.parametrize("overrides", [
    {"threat.lead_time.min": 30, "threat.lead_time.max": 20},  # max below min
    {"threat.detection_rate": 1.5},  # above its bound
    {"threat.groups": 2.5},  # a fraction for a whole number
    {"threat.detection_rate": float("nan")},
    {"threat.groups": True},
])
def test_a_value_validation_refuses_gives_validations_error(overrides):
    base = OverrideBase(load_experiment(ROOT / "ctsim/experiments/sobol_all.yaml")
                        .scenario_dicts[0])
    with pytest.raises(ScenarioError) as slow:
        _validated_slowly(base, overrides)
    with pytest.raises(ScenarioError) as quick:
        base.scenario(overrides)
    assert str(quick.value) == str(slow.value)


def test_an_integer_for_a_float_field_is_stored_as_validation_stores_it():
    base = OverrideBase(load_experiment(ROOT / "ctsim/experiments/sobol_all.yaml")
                        .scenario_dicts[0])
    made = base.scenario({"threat.plots_per_year": 30, "relations.treaties": 1})
    assert type(made.threat.plots_per_year) is float
    assert made == _validated_slowly(base, {"threat.plots_per_year": 30,
                                            "relations.treaties": 1})


# ---------------------------------------------------------------- memory at a million runs


@pytest.mark.slow
def test_the_main_process_memory_stays_flat_over_a_million_runs(tmp_path, monkeypatch):
    """The million-run design through the sweep's main process (plan, batches, store,
    merge, Sobol' indices), each batch's runs answered at once by a stand-in worker: the
    process's resident memory grows by less than 600 MB in all (a mapping a run held 3.3
    GB at 409,600 runs), and by less than 100 MB from the first tenth of the runs to the
    last."""
    import ctsim.runs.sweeps as sweeps
    from ctsim.runs import executors

    loaded = load_experiment(ROOT / "benchmarks" / "sobol_million.yaml")
    metrics = loaded.spec.metric_names

    class Instant(executors.SerialExecutor):
        def submit(self, batch):
            import concurrent.futures as cf

            assert isinstance(batch, Span)
            ids = np.arange(batch.start, batch.stop)
            value = (ids % 97) / 97.0
            rows = [({"run_id": int(i), "status": "ok", "error": "",
                      **{m: float(v) for m in metrics}}, {}) for i, v in zip(ids, value,
                                                                           strict=True)]
            future: cf.Future = cf.Future()
            future.set_result(rows)
            return future

    monkeypatch.setattr(sweeps, "make_executor", lambda kind, payload, workers, sched:
                        Instant(payload))
    process = psutil.Process()
    start = process.memory_info().rss
    peak = [start]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.05)

    seen: list[tuple[int, int]] = []
    done = [0]

    def progress(n: int, _failed: int) -> None:
        done[0] += n
        seen.append((done[0], process.memory_info().rss))

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        result = sweeps.run_sweep(loaded, tmp_path / "out", executor="process", workers=2,
                                  on_progress=progress)
    finally:
        stop.set()
        watcher.join()
    assert result.ran == len(loaded.plan()) == 1_048_576 and result.failed == 0
    assert result.held is None, "a million runs are not held in memory"
    tenth = next(rss for n, rss in seen if n >= len(loaded.plan()) // 10)
    assert seen[-1][1] - tenth < 100e6
    assert peak[0] - start < 600e6
    assert result.sensitivity is not None and len(result.sensitivity) == 3 * 62


# ---------------------------------------------------------------- the shipped screening


def test_the_committed_sobol_screening_is_what_the_plan_of_columns_runs():
    """Runs of results/sobol_all (made when a run was a mapping) come out of the plan's
    spans bit for bit, with the same descriptive columns; and its sensitivity.csv is
    what the indices give from its runs.parquet, byte for byte."""
    import pandas as pd
    import pyarrow.parquet as pq

    from ctsim.runs.sweeps import RunTable, fingerprint, sensitivity_indices
    from ctsim.runs.worker import Payload, run_batch

    folder = ROOT / "results" / "sobol_all"
    loaded = load_experiment(ROOT / "ctsim" / "experiments" / "sobol_all.yaml")
    plan = loaded.plan()
    stored = pq.read_table(folder / "runs.parquet")
    assert stored.num_rows == len(plan)
    payload = Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                      tuple(loaded.spec.metric_names), False, fingerprint(loaded), plan=plan)
    table = RunTable(loaded, plan)
    for start in (0, 204_793, len(plan) - 6):
        span = Span(start, start + 6)
        rows = run_batch(payload, span)
        old = stored.slice(start, 6).to_pandas()
        for m in loaded.spec.metric_names:
            assert np.array_equal(old[m].to_numpy(), [r[m] for r, _ in rows],
                                  equal_nan=True), (m, start)
        described = table.columns(span.start, span.stop)
        for k, column in described.items():
            assert list(np.asarray(column)) == old[k].tolist(), k
    again = sensitivity_indices(loaded, pd.read_parquet(folder / "runs.parquet"))
    written = again.to_csv(index=False, float_format="%.6g").encode()
    assert written == (folder / "sensitivity.csv").read_bytes()
