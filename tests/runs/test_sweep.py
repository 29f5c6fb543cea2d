"""Sweeps: determinism across executors, crash-safe resume, failed runs, outputs, memory.

The promises tested here (the sweep issue; SCENARIO_FORMAT.md, "Experiment"):

- the same experiment gives the same ``runs.parquet`` (and ``timeseries.parquet``) whatever
  runs it: serial, a process pool of any size, a local Dask cluster, or a real Dask
  scheduler with workers reached through ``--scheduler``;
- a sweep killed with SIGKILL at any moment and resumed ends with exactly the rows of an
  uninterrupted sweep: none lost, none doubled;
- a run that raises is stored as failed with its error text, the sweep goes on, and the exit
  status (1) and the final table say how many failed;
- morris and sobol sweeps write their sensitivity indices; manifest.json says what ran;
- memory does not grow with the number of runs: results stream to disk batch by batch.

Experiments are tiny (8 generated nations, 20-40 weeks), so each sweep takes seconds.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import gc
import json
import random
import shutil
import signal
import subprocess
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import ctsim
from ctsim.cli import cli
from ctsim.core.metrics import METRICS
from ctsim.core.scenario import ScenarioError, load_scenario
from ctsim.runs import runner
from ctsim.runs.executors import Executor, batch_size, execute, in_batches
from ctsim.runs.experiment import design_points, load_experiment, plan_runs
from ctsim.runs.plan import Plan, Span, TableDesign
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from ctsim.runs.store import SweepStore
from ctsim.runs.sweeps import run_sweep
from tests.runs.sweep_helpers import (
    CTSIM,
    DASK,
    assert_same_results,
    free_port,
    make_experiment,
    runs_table,
    scenario_cache_size,
    start,
    stop,
    tiny_spec,
    ts_table,
    wait_until,
    write_experiment,
    write_scenario,
)

TINY_RUNS = 2 * 2 * 2  # 2 x 2 grid, 2 replications
TINY_STEPS = 25


@pytest.fixture(scope="module", autouse=True)
def one_run_per_part():
    """The kill tests below name parts by run: one run per batch, so one per part."""
    import ctsim.runs.sweeps

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ctsim.runs.sweeps, "batch_size", lambda runs, workers: 1)
        yield


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> SimpleNamespace:
    """The tiny experiment and its uninterrupted serial sweep (the reference results)."""
    folder = tmp_path_factory.mktemp("tiny")
    exp = make_experiment(folder)
    loaded = load_experiment(exp)
    ref = folder / "reference"
    result = run_sweep(loaded, ref, executor="serial")
    return SimpleNamespace(folder=folder, exp=exp, loaded=loaded, ref=ref, result=result)


def copy_of(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def sweep_cli(*args: str):
    return CliRunner().invoke(cli, ["sweep", *args])


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- the output tables


def test_runs_table_has_the_documented_columns(tiny):
    runs = runs_table(tiny.ref)
    assert len(runs) == TINY_RUNS == tiny.result.total
    factors = ["threat.detection_rate", "cooperation.regime"]
    for col in ["run_id", "replication", "seed", *factors, *METRICS, "status", "error"]:
        assert col in runs.columns, col
    assert list(runs["run_id"]) == list(range(TINY_RUNS))
    assert (runs["status"] == "ok").all()
    assert (runs["error"] == "").all()
    seeds = replication_seeds(3, 2)
    assert list(runs["seed"]) == [seeds[r] for r in runs["replication"]]
    assert sorted(set(zip(runs["threat.detection_rate"], runs["cooperation.regime"],
                          strict=True))) == [(0.05, "bilateral"), (0.05, "hybrid"),
                                             (0.3, "bilateral"), (0.3, "hybrid")]
    assert tiny.result.failed == 0 and tiny.result.ran == TINY_RUNS


def test_timeseries_table_has_every_step_of_every_run(tiny):
    ts = ts_table(tiny.ref)
    assert len(ts) == TINY_RUNS * (TINY_STEPS + 1)
    assert sorted(ts["run_id"].unique()) == list(range(TINY_RUNS))
    assert (ts.groupby("run_id")["step"].apply(list)
            == [list(range(TINY_STEPS + 1))] * TINY_RUNS).all()


def test_no_timeseries_file_unless_asked(tmp_path):
    exp = make_experiment(tmp_path, timeseries=False, replications=1, steps=10)
    run_sweep(load_experiment(exp), tmp_path / "out", executor="serial")
    assert (tmp_path / "out" / "runs.parquet").exists()
    assert not (tmp_path / "out" / "timeseries.parquet").exists()
    assert not list((tmp_path / "out" / "parts").glob("ts-*"))


def test_manifest_says_what_ran(tiny):
    manifest = json.loads((tiny.ref / "manifest.json").read_text())
    assert manifest["experiment"] == "tiny"
    assert manifest["ctsim_version"] == ctsim.__version__
    assert manifest["seed"] == 3
    assert manifest["design"] == "grid"
    assert manifest["scenarios"] == ["small"]
    assert manifest["replications"] == 2
    assert manifest["steps"] == [TINY_STEPS]
    assert manifest["points"] == 4
    assert manifest["runs"] == manifest["stored"] == manifest["ok"] == TINY_RUNS
    assert manifest["failed"] == 0
    assert manifest["timeseries_rows"] == TINY_RUNS * (TINY_STEPS + 1)
    assert manifest["metrics"] == list(METRICS)
    assert set(manifest["factors"]) == {"threat.detection_rate", "cooperation.regime"}


def test_any_run_of_a_sweep_repeats_on_its_own(tiny):
    """A row is the run of its scenario, overrides and seed: ``ctsim run`` can repeat it."""
    runs = runs_table(tiny.ref)
    for i in (0, TINY_RUNS - 1):
        row = runs.iloc[i]
        scenario = load_scenario(tiny.folder / "small.yaml", {
            "threat.detection_rate": row["threat.detection_rate"],
            "cooperation.regime": row["cooperation.regime"]})
        alone = run_one(scenario, int(row["seed"]), TINY_STEPS, timeseries=False)
        for m in METRICS:
            np.testing.assert_equal(alone.metrics[m], row[m], err_msg=m)


def test_oat_rows_name_their_sweep_and_fill_the_other_factors_from_the_base(tmp_path):
    exp = make_experiment(tmp_path, design="oat", replications=1, steps=5, timeseries=False,
                          factors={"threat.leak_rate": {"values": [0.0, 0.3]},
                                   "relations.trust": {"values": [0.2, 0.9]}})
    run_sweep(load_experiment(exp), tmp_path / "out", executor="serial")
    runs = runs_table(tmp_path / "out")
    assert list(runs["sweep"]) == ["threat.leak_rate"] * 2 + ["relations.trust"] * 2
    base = load_scenario(tmp_path / "small.yaml")
    assert list(runs["threat.leak_rate"]) == [0.0, 0.3] + [base.threat.leak_rate] * 2
    assert list(runs["relations.trust"]) == [base.relations.trust] * 2 + [0.2, 0.9]


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("executor,workers", [
    ("serial", 1),
    ("process", 1),
    ("process", 2),
    pytest.param("dask", 2, marks=pytest.mark.slow, id="dask-localcluster-2"),
])
def test_every_executor_gives_the_same_tables(tiny, tmp_path, executor, workers):
    out = tmp_path / "out"
    result = run_sweep(tiny.loaded, out, executor=executor, workers=workers)
    assert result.ran == TINY_RUNS and result.failed == 0
    assert_same_results(out, tiny.ref)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    from dask.distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        procs.append(start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                            "--no-dashboard"], logs / "scheduler.log"))
        for i in range(2):
            procs.append(start([DASK, "worker", address, "--nthreads", "1", "--no-dashboard",
                                "--name", f"w{i}", "--death-timeout", "60"],
                               logs / f"worker{i}.log"))
        client = Client(address, timeout="60s")
        try:
            client.wait_for_workers(2, timeout=90)
            assert len(client.scheduler_info()["workers"]) == 2
            yield SimpleNamespace(address=address, client=client)
        finally:
            client.close()
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in sorted(logs.iterdir()):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}")


@pytest.mark.slow
def test_a_real_dask_cluster_through_scheduler_gives_the_same_tables(tiny, tmp_path,
                                                                     dask_cluster):
    out = tmp_path / "out"
    proc = subprocess.run([CTSIM, "sweep", str(tiny.exp), "--scheduler", dask_cluster.address,
                           "--out", str(out), "-q"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_same_results(out, tiny.ref)
    # The runs ran on the cluster's two workers, not in the sweep's own process.
    cached = dask_cluster.client.run(scenario_cache_size)
    assert len(cached) == 2
    assert all(n > 0 for n in cached.values()), cached


# ---------------------------------------------------------------- kill and resume

BIG_RUNS = 6 * 64


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> SimpleNamespace:
    """An experiment of ~10 s on two (busy) workers, and its uninterrupted sweep."""
    folder = tmp_path_factory.mktemp("big")
    write_scenario(folder)
    exp = write_experiment(folder, tiny_spec(
        name="big", replications=64, steps=40, seed=99,
        factors={"threat.detection_rate": {"values": [0.05, 0.15, 0.3]},
                 "cooperation.regime": {"values": ["bilateral", "hybrid"]}}))
    ref = folder / "reference"
    t0 = time.perf_counter()
    result = run_sweep(load_experiment(exp), ref, executor="process", workers=2)
    assert result.total == BIG_RUNS and result.failed == 0
    return SimpleNamespace(folder=folder, exp=exp, ref=ref,
                           seconds=time.perf_counter() - t0)


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_gives_exactly_the_uninterrupted_rows(big, tmp_path):
    out = tmp_path / "out"
    parts = out / "parts"
    proc = start([CTSIM, "sweep", str(big.exp), "--executor", "process", "--workers", "2",
                  "--out", str(out), "-q"], tmp_path / "killed.log", cwd=tmp_path)
    try:
        seen = wait_until(lambda: proc.poll() is not None
                          or any(parts.glob("runs-*.parquet")), timeout=120, interval=0.02)
        assert seen, "no part was written in 120 s"
        assert proc.poll() is None, "the sweep finished before it could be killed"
        stop(proc, signal.SIGKILL)  # the sweep, its forkserver and its workers
    finally:
        stop(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "runs.parquet").exists(), "killed before the merge"
    stored = SweepStore(out).done_ids()
    assert 0 < len(stored) < BIG_RUNS, "killed mid-run"
    print(f"killed with {len(stored)} of {BIG_RUNS} runs stored; the uninterrupted sweep "
          f"took {big.seconds:.1f} s")

    resumed = subprocess.run([CTSIM, "sweep", str(big.exp), "--resume", "--workers", "2",
                              "--out", str(out), "-q"], capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_results(out, big.ref)
    assert not list(parts.glob(".*.tmp"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stored"] == manifest["runs"] == BIG_RUNS
    assert manifest["failed"] == 0
    assert manifest["timeseries_rows"] == BIG_RUNS * 41


def test_resume_of_a_finished_sweep_runs_nothing_and_changes_nothing(tiny, tmp_path):
    out = copy_of(tiny.ref, tmp_path / "out")
    before = tree_bytes(out)
    result = run_sweep(tiny.loaded, out, executor="serial", resume=True)
    assert result.ran == 0 and result.skipped == TINY_RUNS
    assert tree_bytes(out) == before

    cli_result = sweep_cli(str(tiny.exp), "--resume", "--executor", "serial", "--out", str(out))
    assert cli_result.exit_code == 0, cli_result.output
    assert tree_bytes(out) == before


def test_running_again_without_resume_is_a_one_line_error(tiny, tmp_path):
    out = copy_of(tiny.ref, tmp_path / "out")
    before = tree_bytes(out)
    result = sweep_cli(str(tiny.exp), "--executor", "serial", "--out", str(out), "-q")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}: ")
    assert "--resume" in lines[0]
    assert tree_bytes(out) == before

    # Parts alone (a killed sweep) count as results too.
    (out / "runs.parquet").unlink()
    result = sweep_cli(str(tiny.exp), "--executor", "serial", "--out", str(out), "-q")
    assert result.exit_code == 2 and "--resume" in result.stderr


def test_resume_refuses_the_results_of_another_experiment(tiny, tmp_path):
    out = copy_of(tiny.ref, tmp_path / "out")
    other = write_experiment(tiny.folder, tiny_spec(seed=4), "other-seed.yaml")
    with pytest.raises(ScenarioError, match="another experiment"):
        run_sweep(load_experiment(other), out, executor="serial", resume=True)
    result = sweep_cli(str(other), "--resume", "--executor", "serial", "--out", str(out), "-q")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert_same_results(out, tiny.ref)


def _drop(out: Path, *seqs: int, keep_ts: bool = False) -> None:
    """Delete runs parts ``seqs`` (and their time-series parts unless ``keep_ts``)."""
    for seq in seqs:
        (out / "parts" / f"runs-{seq:06d}.parquet").unlink()
        if not keep_ts:
            (out / "parts" / f"ts-{seq:06d}.parquet").unlink()


def _unmerge(out: Path) -> None:
    """Back to the folder of a sweep not merged yet: parts, and the manifest written
    before the first run (``complete: false``, no counts)."""
    for name in ("runs.parquet", "timeseries.parquet"):
        (out / name).unlink()
    _start_manifest(out)


def _start_manifest(out: Path) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    for count in ("stored", "ok", "failed", "timeseries_rows"):
        manifest.pop(count, None)
    (out / "manifest.json").write_text(json.dumps(manifest | {"complete": False}, indent=2))


def _kill_before_merge(out: Path) -> None:
    _unmerge(out)


def _kill_before_last_batches(out: Path) -> None:
    _unmerge(out)
    _drop(out, 5, 6, 7)


def _kill_with_batches_out_of_order(out: Path) -> None:
    _unmerge(out)
    _drop(out, 1, 4)  # later batches finished first, as in a process pool


def _kill_between_ts_and_runs_parts(out: Path) -> None:
    _unmerge(out)
    _drop(out, 6, 7)
    _drop(out, 5, keep_ts=True)  # the time series was renamed into place, the runs not


def _kill_while_writing_parts(out: Path) -> None:
    _unmerge(out)
    _drop(out, 3, 4, 5, 6, 7)
    parts = out / "parts"
    (parts / ".ts-000003.parquet.tmp").write_bytes(b"PAR1 half a file")
    (parts / ".runs-000003.parquet.tmp").write_bytes(b"")


def _kill_before_first_batch(out: Path) -> None:
    _unmerge(out)
    for part in (out / "parts").iterdir():
        part.unlink()


def _kill_during_merge(out: Path) -> None:
    (out / "timeseries.parquet").unlink()
    _start_manifest(out)
    (out / ".timeseries.parquet.tmp").write_bytes(b"PAR1 half a file")


def _kill_at_start(out: Path) -> None:
    shutil.rmtree(out / "parts")
    _unmerge(out)


KILLS = {
    "before-merge": (_kill_before_merge, 0),
    "before-last-batches": (_kill_before_last_batches, 3),
    "batches-out-of-order": (_kill_with_batches_out_of_order, 2),
    "between-ts-and-runs-part": (_kill_between_ts_and_runs_parts, 3),
    "while-writing-parts": (_kill_while_writing_parts, 5),
    "before-first-batch": (_kill_before_first_batch, TINY_RUNS),
    "during-merge": (_kill_during_merge, 0),
    "after-stamp-only": (_kill_at_start, TINY_RUNS),
}


@pytest.mark.parametrize("kill", list(KILLS))
def test_resume_after_a_kill_at_each_point_gives_the_uninterrupted_rows(tiny, tmp_path, kill):
    """Kill points simulated on a finished sweep's folder (one run per part here)."""
    cut, missing = KILLS[kill]
    out = copy_of(tiny.ref, tmp_path / "out")
    assert len(list((out / "parts").glob("runs-*.parquet"))) == TINY_RUNS
    cut(out)
    result = run_sweep(tiny.loaded, out, executor="serial", resume=True)
    assert result.ran == missing
    assert result.skipped == TINY_RUNS - missing
    assert_same_results(out, tiny.ref)
    parts = out / "parts"
    assert not list(parts.glob(".*.tmp")), "temporary files are cleaned up"
    runs_parts = {p.name.removeprefix("runs-") for p in parts.glob("runs-*.parquet")}
    ts_parts = {p.name.removeprefix("ts-") for p in parts.glob("ts-*.parquet")}
    assert ts_parts == runs_parts, "no orphaned time-series part is left"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stored"] == TINY_RUNS and manifest["failed"] == 0
    assert manifest == json.loads((tiny.ref / "manifest.json").read_text())


def test_resume_twice_in_a_row_after_a_kill(tiny, tmp_path):
    out = copy_of(tiny.ref, tmp_path / "out")
    _kill_with_batches_out_of_order(out)
    run_sweep(tiny.loaded, out, executor="serial", resume=True)
    _drop(out, 0)
    _unmerge(out)
    result = run_sweep(tiny.loaded, out, executor="serial", resume=True)
    assert result.ran == 1
    assert_same_results(out, tiny.ref)


# ---------------------------------------------------------------- failed runs


def _fail_one_run(monkeypatch, target_seed: int) -> None:
    """Make run_one raise for one run of the tiny grid: seed, detection 0.3, hybrid."""
    real = runner.run_one

    def flaky(scenario, seed, steps=None, **kwargs):
        if (seed == target_seed and scenario.threat.detection_rate == 0.3
                and scenario.cooperation.regime == "hybrid"):
            raise RuntimeError("injected failure: the model fell over")
        return real(scenario, seed, steps, **kwargs)

    monkeypatch.setattr(runner, "run_one", flaky)


def test_a_failing_run_is_stored_with_its_error_and_the_sweep_goes_on(tiny, tmp_path,
                                                                      monkeypatch):
    seed = replication_seeds(3, 2)[1]
    _fail_one_run(monkeypatch, seed)
    progress = []
    out = tmp_path / "out"
    result = run_sweep(tiny.loaded, out, executor="serial",
                       on_progress=lambda n, f: progress.append((n, f)))
    assert result.failed == 1 and result.total == TINY_RUNS
    assert sum(n for n, _ in progress) == TINY_RUNS
    assert sum(f for _, f in progress) == 1

    runs, ref = runs_table(out), runs_table(tiny.ref)
    bad = runs[runs["status"] == "failed"]
    assert len(bad) == 1
    row = bad.iloc[0]
    assert (row["seed"], row["threat.detection_rate"], row["cooperation.regime"]) == \
        (seed, 0.3, "hybrid")
    assert row["error"] == "RuntimeError: injected failure: the model fell over"
    assert all(np.isnan(row[m]) for m in METRICS)
    failed_id = int(row["run_id"])

    good = runs["run_id"] != failed_id
    assert (runs.loc[good, "status"] == "ok").all()
    assert (runs.loc[good, "error"] == "").all()
    pd.testing.assert_frame_equal(runs[good], ref[good], check_exact=True)
    ts, ref_ts = ts_table(out), ts_table(tiny.ref)
    assert failed_id not in set(ts["run_id"])
    pd.testing.assert_frame_equal(
        ts, ref_ts[ref_ts["run_id"] != failed_id].reset_index(drop=True), check_exact=True)

    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["failed"], manifest["ok"], manifest["stored"]) == \
        (1, TINY_RUNS - 1, TINY_RUNS)


def test_failed_runs_make_exit_status_1_and_are_counted(tiny, tmp_path, monkeypatch):
    _fail_one_run(monkeypatch, replication_seeds(3, 2)[0])
    out = tmp_path / "out"
    result = sweep_cli(str(tiny.exp), "--executor", "serial", "--out", str(out))
    assert result.exit_code == 1, result.output
    assert f"1 of {TINY_RUNS} runs failed" in result.stderr
    assert "Traceback" not in result.output
    # The final table's "failed" column says 1.
    header = next(line for line in result.stdout.splitlines() if "failed" in line)
    cells = [c.strip() for c in header.replace("┃", "│").split("│") if c.strip()]
    row_line = next(line for line in result.stdout.splitlines()
                    if line.strip("│ ").startswith(str(TINY_RUNS)))
    row = [c.strip() for c in row_line.split("│") if c.strip()]
    assert row[cells.index("failed")] == "1"
    assert json.loads((out / "manifest.json").read_text())["failed"] == 1

    # Quiet still says it on stderr, and still exits 1.
    result = sweep_cli(str(tiny.exp), "--executor", "serial", "--out",
                       str(tmp_path / "quiet"), "-q")
    assert result.exit_code == 1
    assert f"1 of {TINY_RUNS} runs failed" in result.stderr


def test_a_sweep_without_failures_exits_0(tiny, tmp_path):
    result = sweep_cli(str(tiny.exp), "--executor", "serial", "--out", str(tmp_path / "o"),
                       "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert_same_results(tmp_path / "o", tiny.ref)


# ---------------------------------------------------------------- sensitivity


def _sensitivity_sweep(tmp_path: Path, **spec):
    exp = make_experiment(tmp_path, replications=2, steps=20, timeseries=False,
                          metrics=["disruption_rate", "attacks", "mean_trust"],
                          factors={"threat.detection_rate": {"range": [0.05, 0.3]},
                                   "relations.trust": {"range": [0.2, 1.0]}}, **spec)
    loaded = load_experiment(exp)
    result = run_sweep(loaded, tmp_path / "out", executor="serial")
    table = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    return loaded, result, table


def _check_indices(loaded, result, table, columns):
    assert set(columns) <= set(table.columns)
    pairs = list(zip(table["metric"], table["factor"], strict=True))
    assert sorted(pairs) == sorted((m, f) for m in loaded.spec.metric_names
                                   for f in loaded.spec.factors)
    assert len(set(pairs)) == len(pairs)
    pd.testing.assert_frame_equal(table[columns], result.sensitivity[columns],
                                  check_exact=False, rtol=1e-5)
    runs = runs_table(result.out)
    points = design_points(loaded.spec)
    by_point = runs.groupby("point")[list(loaded.spec.factors)].first()
    assert by_point.to_dict("records") == points, "rows carry their design point's values"


def test_morris_writes_mu_star_and_sigma_per_factor_and_metric(tmp_path):
    loaded, result, table = _sensitivity_sweep(tmp_path, design="morris", trajectories=3,
                                               levels=4)
    assert result.total == (2 + 1) * 3 * 2
    _check_indices(loaded, result, table, ["mu_star", "mu_star_conf", "sigma"])
    assert (table["mu_star"].dropna() >= 0).all()
    assert table["mu_star"].notna().any()


def test_sobol_writes_first_and_total_order_indices_per_factor_and_metric(tmp_path):
    loaded, result, table = _sensitivity_sweep(tmp_path, design="sobol", samples=4)
    assert result.total == 4 * (2 + 2) * 2
    _check_indices(loaded, result, table, ["S1", "S1_conf", "ST", "ST_conf"])
    assert table["ST"].notna().any()


def test_grid_writes_no_sensitivity(tiny):
    assert not (tiny.ref / "sensitivity.csv").exists()
    assert tiny.result.sensitivity is None


# ---------------------------------------------------------------- memory


class _SlowExecutor(Executor):
    """Futures that finish only when waited for, one at a time in random order."""

    def __init__(self, workers: int, seed: int):
        self.workers = workers
        self.rng = random.Random(seed)
        self.in_flight = 0
        self.most = 0

    def submit(self, batch):
        future: cf.Future = cf.Future()
        future.batch = batch  # type: ignore[attr-defined]
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        return future

    def wait(self, pending):
        pick = self.rng.choice(sorted(pending, key=id))
        ids = (range(pick.batch.start, pick.batch.stop) if isinstance(pick.batch, Span)
               else [r.run_id for r in pick.batch])
        pick.set_result([({"run_id": i}, None) for i in ids])
        return {pick}, set(pending) - {pick}

    def result(self, future):
        self.in_flight -= 1
        return future.result()


@pytest.mark.parametrize("workers", [1, 2, 4])
@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("from_plan", [False, True])
def test_execute_holds_at_most_two_batches_per_worker(workers, gaps, from_plan):
    runs = [SimpleNamespace(run_id=i) for i in range(500)
            if not (gaps and (i % 37 == 5 or 100 <= i < 130))]
    size = batch_size(len(runs), workers)
    ex = _SlowExecutor(workers, seed=workers)
    seen: list[int] = []
    held = []

    def on_batch(results):
        held.append(ex.in_flight)
        ids = [row["run_id"] for row, _ in results]
        assert 1 <= len(ids) <= size
        assert ids == list(range(ids[0], ids[0] + len(ids))), "a batch spans a gap"
        seen.extend(ids)

    if from_plan:  # the same runs as a plan's spans, the runs not listed marked done
        plan = Plan(1, TableDesign({}, 1), np.arange(500, dtype=np.int64))
        done = np.ones(500, bool)
        done[[r.run_id for r in runs]] = False
        execute(ex, plan.spans(done, size), on_batch)
    else:
        execute(ex, in_batches(runs, size), on_batch)
    assert sorted(seen) == [r.run_id for r in runs], "every run once"
    assert ex.most <= max(2, 2 * workers)
    assert max(held) < max(2, 2 * workers)


def test_batch_size():
    assert batch_size(100_000, 2) == 1000  # capped
    assert batch_size(160, 2) == 20  # four batches per worker
    assert batch_size(3, 4) == 1
    assert batch_size(1, 1) == 1


#: Runs in each half of the measured sweep of the memory tests.
HALF = 64


def _growth_per_run(folder: Path, monkeypatch, leak: bool = False) -> tuple[float, float]:
    """Live traced memory gained per run over the second half of a sweep, and what keeping
    a batch's results costs per run (both in bytes); with ``leak``, the store keeps each
    batch it is given, as a leak would.

    A sweep of 2 x HALF two-week runs, batches of 4 (time series kept), runs three times
    into fresh folders, traced from the start. The first two fill every cache the runs
    touch (a seed's initial stream states, a world's Beta quantiles, a run's validated
    scenario: each bounded, each keyed by what the runs share), so the third finds all it
    needs; and a cache that turns over replaces traced memory by traced memory, whatever
    ran before in this process. After each batch of the third the cyclic garbage is
    collected (a finished model is a reference cycle) and the live traced memory noted.
    What a batch's results cost is measured too: the traced size of a copy of the first
    batch the store is given, per run.
    """
    import ctsim.runs.sweeps

    monkeypatch.setattr(ctsim.runs.sweeps, "batch_size", lambda runs, workers: 4)
    write_scenario(folder)
    exp = write_experiment(folder, {"name": "mem", "scenario": "small.yaml",
                                    "replications": 2 * HALF, "steps": 2, "seed": 1,
                                    "timeseries": True}, "mem.yaml")
    loaded = load_experiment(exp)
    kept: list = []
    per_run: list[float] = []
    write = SweepStore.write_table

    def write_and_weigh(self, table, extra=None):
        # A batch's rows as Python objects, which tracemalloc sees (Arrow's own memory
        # pool it does not).
        rows = table.to_pylist()
        if not per_run:
            before = tracemalloc.get_traced_memory()[0]
            copied = copy.deepcopy((rows, extra))
            per_run.append((tracemalloc.get_traced_memory()[0] - before) / len(rows))
            del copied
        if leak:
            kept.append((rows, extra))
        return write(self, table, extra)

    live: list[int] = []

    def after_batch(n: int, _failed: int) -> None:
        if n:  # n == 0: the call that says the runs start
            gc.collect()
            live.append(tracemalloc.get_traced_memory()[0])

    tracemalloc.start()
    try:
        for warm in ("warm-1", "warm-2"):
            assert run_sweep(loaded, folder / warm, executor="serial").ran == 2 * HALF
        monkeypatch.setattr(SweepStore, "write_table", write_and_weigh)
        result = run_sweep(loaded, folder / "measured", executor="serial",
                           on_progress=after_batch)
    finally:
        tracemalloc.stop()
    assert result.ran == 2 * HALF and result.failed == 0
    assert len(live) == 2 * HALF // 4
    growth = (live[-1] - live[HALF // 4 - 1]) / HALF
    print(f"live traced memory: {growth:.0f} B more per run over the last {HALF} runs; "
          f"a batch's results: {per_run[0]:.0f} B per run")
    return growth, per_run[0]


@pytest.mark.slow
def test_memory_stays_flat_as_runs_grow(tmp_path, monkeypatch):
    """Memory does not grow with the number of runs: results go to disk batch by batch.

    Over the last half of a sweep the live memory grows by less than a quarter of what
    keeping each batch's results would add (measured: about 0.1 kB a run against 6 kB a
    run of results; see :func:`_growth_per_run`)."""
    growth, results = _growth_per_run(tmp_path, monkeypatch)
    assert results > 2_000  # a row of metrics and two weeks of the record, at least
    assert growth < results / 4


@pytest.mark.slow
def test_the_memory_measure_sees_a_store_that_keeps_each_batch(tmp_path, monkeypatch):
    """The measure above can fail: with a store that keeps every batch it writes, the
    growth a run is about the results' size (measured: 7.3 kB a run against 6 kB), far
    above the bound."""
    growth, results = _growth_per_run(tmp_path, monkeypatch, leak=True)
    assert growth > results / 2


# ---------------------------------------------------------------- awkward input


def test_a_factor_mixing_numbers_and_names_is_stored_as_text(tmp_path):
    """relations.treaties takes a share or "all": one column, both values, as text."""
    exp = make_experiment(tmp_path, replications=1, steps=5, timeseries=False,
                          factors={"relations.treaties": {"values": [0.3, "all"]}})
    result = run_sweep(load_experiment(exp), tmp_path / "out", executor="serial")
    assert result.failed == 0
    assert list(runs_table(tmp_path / "out")["relations.treaties"]) == ["0.3", "all"]


def test_a_bad_scheduler_address_is_a_one_line_error_that_writes_nothing(tiny, tmp_path):
    """An address Dask cannot use fails at once (an unreachable one after 30 s: not tried)."""
    out = tmp_path / "out"
    result = sweep_cli(str(tiny.exp), "--scheduler", "bogus://nowhere", "--out", str(out),
                       "-q")
    assert result.exit_code == 2, result.exception
    assert result.stderr.startswith("error: ")
    assert "bogus://nowhere" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_plan_matches_what_was_stored(tiny):
    runs = runs_table(tiny.ref)
    plan = plan_runs(tiny.loaded)
    assert [(r.run_id, r.point, r.replication, r.seed) for r in plan] == list(zip(
        runs["run_id"], runs["point"], runs["replication"], runs["seed"], strict=True))
