"""Stopping: Ctrl-C and SIGTERM end a command promptly, with one line and no process left.

A sweep's workers and its forkserver leave interrupts to the sweep's own process, which
terminates them (ctsim.runs.executors); a worker whose sweep died outright ends by itself;
a run of any size sees Ctrl-C within a fraction of a second, because the compiled weeks
return to Python between calls of about 0.2 s (Simulation.run), with the same rows.

Every wait here polls against a deadline; none sleeps a fixed time.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ctsim.core.simulation import Simulation
from ctsim.runs.pipeline import as_scenario

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[2]
CTSIM = [sys.executable, "-m", "ctsim.cli"]


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_left():
    """After each test, end the process group of every command it started (a failed test
    must not leave a run of minutes behind)."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    """``ctsim ARGS`` in its own process group, SIGINT handled as at a terminal (a test
    runner may ignore it, and a child would inherit that)."""
    proc = subprocess.Popen([*CTSIM, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _STARTED.append(proc)
    return proc


def wait_for(condition, proc: subprocess.Popen, seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds`` or if ``proc`` ended."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"the command ended before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        time.sleep(0.01)


def family(pid: int) -> list:
    """The process ``pid`` and every process under it."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def gone(processes: list, seconds: float) -> list:
    """Wait up to ``seconds`` for ``processes`` to end (a zombie has ended); those left."""
    deadline = time.monotonic() + seconds
    while True:
        left = []
        for p in processes:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    left.append(p)
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def stopped(proc: subprocess.Popen, seconds: float) -> tuple[float, str]:
    """Wait for ``proc`` to end and its pipes to close (no process of it holds them any
    more); the seconds that took, and its stderr."""
    began = time.monotonic()
    _, err = proc.communicate(timeout=seconds)
    return time.monotonic() - began, err


@pytest.fixture
def long_sweep(tmp_path) -> Path:
    """An experiment of minutes on two workers (stopped long before its end)."""
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump({
        "name": "long", "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "factors": {"threat.leak_rate": {"values": [0.0, 0.1, 0.2, 0.3]}},
        "replications": 400, "steps": 520}))
    return path


@pytest.mark.slow
def test_sigterm_to_a_sweep_stops_it_and_every_process_of_it_promptly(long_sweep, tmp_path):
    out = tmp_path / "out"
    proc = start(["sweep", str(long_sweep), "--out", str(out), "--workers", "2"], tmp_path)
    wait_for(lambda: list((out / "parts").glob("runs-*.parquet")), proc, 300, "batch stored")
    processes = family(proc.pid)
    assert len(processes) >= 5  # the sweep, its resource tracker, forkserver, two workers
    os.kill(proc.pid, signal.SIGTERM)  # to the sweep's process alone, as `kill PID` does
    seconds, err = stopped(proc, 20)  # its pipes close: `ctsim sweep ... | tee` ends
    assert proc.returncode == 143
    assert "Traceback" not in err and "Warning" not in err, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("terminated; ") and "--resume" in lines[-1]
    assert seconds < 10
    assert gone(processes, 5) == []


@pytest.mark.slow
def test_ctrl_c_while_the_workers_start_is_one_line_and_leaves_no_process(long_sweep,
                                                                          tmp_path):
    out = tmp_path / "out"
    proc = start(["sweep", str(long_sweep), "--out", str(out), "--workers", "2"], tmp_path)

    def forkserver_loading() -> bool:
        try:
            servers = [p for p in psutil.Process(proc.pid).children()
                       if "multiprocessing.forkserver" in " ".join(p.cmdline())]
            return bool(servers) and not servers[0].children()  # no worker forked yet
        except psutil.Error:
            return False

    wait_for(forkserver_loading, proc, 60, "forkserver")
    processes = family(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals every process
    seconds, err = stopped(proc, 20)
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted")
    assert seconds < 10
    assert gone(processes, 5) == []


@pytest.mark.slow
def test_the_workers_of_a_killed_sweep_end_by_themselves(long_sweep, tmp_path):
    out = tmp_path / "out"
    proc = start(["sweep", str(long_sweep), "--out", str(out), "--workers", "2"], tmp_path)
    wait_for(lambda: list((out / "parts").glob("runs-*.parquet")), proc, 300, "batch stored")
    processes = family(proc.pid)
    proc.kill()  # SIGKILL: the sweep's process cannot stop its workers
    stopped(proc, 20)  # every process holding its pipes ended
    assert gone(processes, 5) == []


@pytest.mark.slow
def test_ctrl_c_stops_a_large_run_within_a_second_or_two(tmp_path):
    _run(as_scenario("baseline", {"steps": 2}), 2)  # the compiled weeks cached, not compiled
    # 1,000 nations for 100,000 weeks: over two minutes of compiled weeks. Without plot
    # groups the tables never grow, so no call returns early to make room: a run in one
    # call would not see the signal before its end.
    proc = start(["run", "baseline", "-r", "1", "--set", "world.nations=1000", "--set",
                  "threat.groups=0", "--steps", "100000", "--no-figures", "--out",
                  str(tmp_path / "big")], tmp_path)
    assert proc.stderr.readline().strip() == "baseline: 1 runs"  # the run starts now
    me = psutil.Process(proc.pid)
    busy = sum(me.cpu_times()[:2])
    # well into the weeks: its world is built in about 0.2 s of this
    wait_for(lambda: sum(me.cpu_times()[:2]) - busy > 1.5, proc, 60, "weeks running")
    os.kill(proc.pid, signal.SIGINT)
    seconds, err = stopped(proc, 30)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted; continue with")
    assert seconds < 2.0, seconds
    assert not (tmp_path / "big").exists()


# ---------------------------------------------------------------- Simulation.run in calls


def _run(config, weeks: int) -> Simulation:
    sim = Simulation(config, np.random.default_rng(7))
    sim.run(weeks)
    return sim


def _calls(monkeypatch) -> list[int]:
    """The week each compiled call of Simulation.run starts from, as the calls happen
    (the run reads its tally's view once before each call)."""
    starts: list[int] = []
    original = Simulation._view

    def watched(self, name):
        if name == "tally":
            starts.append(int(self.tally.week_no[0]))
        return original(self, name)

    monkeypatch.setattr(Simulation, "_view", watched)
    return starts


def test_weeks_run_one_call_at_a_time_give_the_same_run_bit_for_bit(monkeypatch):
    config = as_scenario("baseline", {"steps": 120})
    whole = _run(config, 120)
    week_by_week = Simulation(config, np.random.default_rng(7))
    monkeypatch.setattr(Simulation, "FIRST_WEEKS", 1)
    monkeypatch.setattr(Simulation, "GROWTH", 1)  # every call one week
    starts = _calls(monkeypatch)
    week_by_week.run(120)
    # one call a week (a call that stopped for room in the tables did none; the tables
    # grew, and the same week ran in the next)
    assert sorted(set(starts)) == list(range(120))
    assert all(b - a in (0, 1) for a, b in itertools.pairwise(starts))
    assert week_by_week.steps == whole.steps == 120
    np.testing.assert_equal(week_by_week.metrics(), whole.metrics())  # NaN equal to NaN
    for name in ("record", "total", "plots_by_base"):
        np.testing.assert_array_equal(getattr(week_by_week.tally, name),
                                      getattr(whole.tally, name))
    np.testing.assert_array_equal(week_by_week.trust, whole.trust)


def test_a_run_returns_to_python_from_a_small_first_call_on(monkeypatch):
    config = as_scenario("baseline", {"steps": 400})
    sim = Simulation(config, np.random.default_rng(7))
    monkeypatch.setattr(Simulation, "CALL_SECONDS", 0.002)  # about 50 weeks of baseline
    starts = _calls(monkeypatch)
    sim.run(400)
    assert sim.steps == 400
    weeks = [b - a for a, b in zip(starts, [*starts[1:], 400], strict=True)]
    assert starts[0] == 0 and weeks[0] == Simulation.FIRST_WEEKS
    assert len(starts) > 3  # many calls, not one
    # the k-th call runs at most GROWTH**k times the first call's weeks
    assert all(w <= Simulation.FIRST_WEEKS * Simulation.GROWTH ** k
               for k, w in enumerate(weeks))


def test_a_worker_start_the_sweep_cut_short_is_silent_and_any_other_failure_is_not(capsys):
    import sys

    kept = sys.excepthook
    try:
        from ctsim import _warm  # the forkserver's preload: sets the children's hook
    finally:
        sys.excepthook = kept
    _warm._quiet_hook(FileNotFoundError, FileNotFoundError(2, "No such file"), None)
    _warm._quiet_hook(EOFError, EOFError(), None)
    assert capsys.readouterr().err == ""
    _warm._quiet_hook(ValueError, ValueError("a real failure"), None)
    assert "ValueError: a real failure" in capsys.readouterr().err
