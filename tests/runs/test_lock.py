"""One writer a results folder: every command that writes one locks it first
(:func:`ctsim.runs.store.folder_lock`), so a second writer gets one ``error:`` line and
exit status 2 at once, and the first finishes a whole, consistent folder.

The concurrent cases run two real ``ctsim`` processes. The first is made slow by its size
(many weeks), never by a timer; the second starts only once the first's lock file exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import ctsim
from ctsim.errors import OutputError
from ctsim.runs import pipeline
from ctsim.runs.store import folder_lock, lock_path
from tests.conftest import SMALL, invoke_cli

#: Weeks that make a run of the small world last about half a second of CPU, so that the
#: first command's runs (and, for ``ctsim run``, its weekly tables) take many times longer
#: than a second command takes to start and be refused.
SLOW_STEPS = 100_000
SLOW_RUNS = 8
#: A sweep keeps no weekly tables: more runs for the same margin.
SWEEP_RUNS = 24


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def scenarios(tmp_path: Path) -> tuple[Path, Path]:
    """Two scenarios, as in the report of the fault: a baseline and one with leaks."""
    base = write(tmp_path / "small.yaml", SMALL | {"steps": 30})
    leaks = write(tmp_path / "leaks.yaml", SMALL | {
        "name": "leaks", "steps": 30, "threat": SMALL["threat"] | {"leak_rate": 0.5}})
    return base, leaks


def ctsim_process(*args: object, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ctsim.cli", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lock(first: subprocess.Popen, out: Path, within: float = 300.0) -> None:
    """Return once ``first`` holds the lock of ``out`` (its lock file exists)."""
    lock = lock_path(Path(os.path.abspath(out)))
    deadline = time.monotonic() + within
    while not lock.exists():
        if first.poll() is not None:
            pytest.fail(f"the first command ended before it locked {out}: {first.stderr.read()}")
        if time.monotonic() > deadline:
            first.kill()
            pytest.fail(f"no lock on {out} after {within} s")
        time.sleep(0.02)


def refused_while_first_writes(first: subprocess.Popen, second_args: list, out: Path,
                               cwd: Path) -> str:
    """Start the second command once the first holds ``out``; check it is refused with
    one line naming the first's process; return that line after the first has ended."""
    wait_for_lock(first, out)
    second = subprocess.run([sys.executable, "-m", "ctsim.cli", *map(str, second_args)],
                            cwd=cwd, capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), second.stderr
    assert f"another ctsim command (process {first.pid}) is writing" in lines[0]
    assert second.stdout == ""
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    assert not lock_path(Path(os.path.abspath(out))).exists()
    return lines[0]


# ---------------------------------------------------------------- two processes, one folder


def test_a_second_run_into_the_same_new_folder_is_refused_at_once(scenarios, tmp_path):
    base, leaks = scenarios
    out = tmp_path / "out"
    first = ctsim_process("run", base, "--steps", SLOW_STEPS, "-r", SLOW_RUNS, "--out", out,
                          "-q", "--no-figures", cwd=tmp_path)
    refused_while_first_writes(first, ["run", leaks, "--out", out, "-q"], out, tmp_path)
    doc = json.loads((out / "summary.json").read_text())
    runs = pd.read_parquet(out / "runs.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert doc["scenario"] == manifest["experiment"] == "small"
    assert doc["steps"] == SLOW_STEPS
    assert runs["run_id"].tolist() == list(range(SLOW_RUNS))  # each run once
    assert runs["scenario"].eq("small").all()
    assert runs["seed"].tolist() == doc["run_seeds"]
    assert doc["metrics"]["plots"]["values"] == runs["plots"].tolist()
    assert manifest["complete"] is True and manifest["stored"] == SLOW_RUNS
    assert not list(tmp_path.glob(".out*"))  # no staging, no lock left


def test_a_second_overwrite_waits_for_nothing_and_breaks_nothing(scenarios, tmp_path):
    base, leaks = scenarios
    out = tmp_path / "out"
    earlier = ctsim_process("run", leaks, "-r", "2", "--out", out, "-q", "--no-figures",
                            cwd=tmp_path)
    assert earlier.wait(timeout=300) == 0, earlier.stderr.read()
    first = ctsim_process("run", base, "--steps", SLOW_STEPS, "-r", SLOW_RUNS, "--out", out,
                          "--overwrite", "-q", "--no-figures", cwd=tmp_path)
    refused_while_first_writes(first, ["run", leaks, "--out", out, "--overwrite", "-q"],
                               out, tmp_path)
    doc = json.loads((out / "summary.json").read_text())
    assert doc["scenario"] == "small" and doc["steps"] == SLOW_STEPS
    assert len(pd.read_parquet(out / "runs.parquet")) == SLOW_RUNS
    assert not list(tmp_path.glob(".out*"))


def test_a_second_sweep_into_the_same_folder_is_refused_at_once(scenarios, tmp_path):
    base, _ = scenarios
    experiment = write(tmp_path / "exp.yaml", {
        "name": "leak_sweep", "scenario": base.name, "replications": SWEEP_RUNS // 2,
        "steps": SLOW_STEPS, "factors": {"threat.leak_rate": {"values": [0.0, 0.2]}}})
    out = tmp_path / "out"
    first = ctsim_process("sweep", experiment, "--out", out, "--executor", "serial", "-q",
                          cwd=tmp_path)
    refused_while_first_writes(first, ["sweep", experiment, "--out", out, "--resume",
                                       "--executor", "serial", "-q"], out, tmp_path)
    runs = pd.read_parquet(out / "runs.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(runs) == manifest["runs"] == manifest["stored"] == SWEEP_RUNS
    assert runs["run_id"].is_unique


# ---------------------------------------------------------------- every writer takes the lock


def invoke(*args: object) -> tuple[int, str]:
    result = invoke_cli(*args)
    return result.exit_code, result.output


def test_every_command_that_writes_a_folder_is_refused_while_it_is_locked(scenarios,
                                                                          tmp_path):
    base, leaks = scenarios
    done = tmp_path / "done"
    ctsim.run(base, replications=2, out=done)
    before = {p.name: p.read_bytes() for p in done.iterdir()}
    calls: list[int] = []
    with folder_lock(done.resolve()):
        for call in (
            lambda: pipeline.run(leaks, out=done, overwrite=True,
                                 on_progress=lambda n, f: calls.append(n)),
            lambda: pipeline.compare([base, leaks], replications=2, out=done, overwrite=True),
            lambda: pipeline.sweep(write(tmp_path / "e.yaml", {
                "name": "e", "scenario": "small.yaml", "replications": 1,
                "factors": {"threat.leak_rate": {"values": [0.0, 0.1]}}}), out=done,
                resume=True, executor="serial"),
        ):
            with pytest.raises(OutputError, match=f"process {os.getpid()}"):
                call()
        for args in (("run", leaks, "--out", done, "--overwrite", "-q"),
                     ("report", done), ("report", base.parent / "elsewhere", "--out", done)):
            code, text = invoke(*args)
            assert code == 2 and text.startswith("error: ") and text.count("\n") == 1, text
            assert "is writing these results" in text
    assert calls == []  # refused before the first run
    assert {p.name: p.read_bytes() for p in done.iterdir()} == before
    assert not lock_path(done.resolve()).exists()


def test_the_lock_is_the_same_whatever_the_folder_is_called(scenarios, tmp_path, monkeypatch):
    base, _ = scenarios
    monkeypatch.chdir(tmp_path)
    with folder_lock(tmp_path / "out"), pytest.raises(OutputError):
        pipeline.run(base, out="out")
    with folder_lock(tmp_path / "out"), pytest.raises(OutputError):
        pipeline.run(base, out="./sub/../out")
    assert not (tmp_path / "out").exists()
