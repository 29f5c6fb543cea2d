"""``ctsim calibrate --out``: checked before any work as every results folder is, locked for
the whole calibration, a full disk told in one line, and no path of the machine stored in
the calibration's history."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml

import ctsim.calibration as cal
from ctsim._version import __version__
from ctsim.calibration import abc
from ctsim.errors import OutputError
from ctsim.runs import store
from ctsim.runs.store import folder_lock
from tests.conftest import invoke_cli

pytest.importorskip("pyabc")

WORLD = {"name": "small", "seed": 5, "steps": 20, "replications": 1,
         "world": {"nations": 6, "regions": 2, "blocs": 2},
         "threat": {"groups": 2, "plots_per_year": 30, "detection_rate": 0.15}}
TARGET = {"name": "own_disruption_rate", "metric": "disruption_rate", "observed": 0.3,
          "sd": 0.1, "verified": "source", "match": "a test target",
          "source": {"author": "ctsim test", "year": 2026, "title": "synthetic",
                     "where": "tests/calibration/test_calibrate_out.py"}}


def invoke(*args: object) -> tuple[int, str]:
    """The ``ctsim`` entry point in this process: (exit status, stderr)."""
    result = invoke_cli(*args)
    return result.exit_code, result.stderr


def one_error_line(code: int, err: str, *words: str) -> str:
    assert code == 2, err
    lines = [x for x in err.strip().splitlines() if not x.startswith("ctsim: compiling")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def calibration(tmp_path, monkeypatch) -> Path:
    """A calibration of one parameter, ten particles, one population (a few seconds),
    in a working folder outside any git repository; the test runs there."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "world.yaml").write_text(yaml.safe_dump(WORLD))
    (work / "targets.yaml").write_text(yaml.safe_dump({"name": "t", "targets": [TARGET]}))
    (work / "calibration.yaml").write_text(yaml.safe_dump({
        "name": "tiny", "scenario": "world.yaml", "fit": [TARGET["name"]],
        "parameters": {"threat.detection_rate": {"range": [0.03, 0.3], "why": "test"}},
        "replications": 1, "population": 10, "populations": 1, "predictive": 2,
        "seed": 11}, sort_keys=False))
    monkeypatch.chdir(work)
    return work / "calibration.yaml"


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the calibration's sampling starts (a check must come first)."""
    def worked(*_args, **_kwargs):
        raise AssertionError("the calibration ran before its --out was checked")

    monkeypatch.setattr(abc, "_calibrate", worked)


def test_calibrate_into_a_runs_results_is_refused_and_leaves_them_untouched(
        calibration, no_work):
    run = calibration.parent / "run"
    run.mkdir()
    (run / "summary.json").write_text('{"scenario": "baseline"}\n')
    (run / "manifest.json").write_text('{"experiment": "baseline"}\n')
    code, err = invoke("calibrate", calibration, "--out", run, "-w", "1", "-q")
    one_error_line(code, err, str(run), "not ctsim results")
    assert (run / "summary.json").read_text() == '{"scenario": "baseline"}\n'
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json", "summary.json"]


@pytest.mark.parametrize(("out", "said"), [
    ("", "give a folder name"),
    ("calibration.yaml", "exists and is not a folder"),
    ("c" * 300, "300 bytes long"),
    ("nothere/..", "'..'"),
])
def test_calibrate_into_a_place_that_cannot_be_used_is_one_line_before_any_work(
        calibration, no_work, out, said):
    before = sorted(p.name for p in calibration.parent.iterdir())
    code, err = invoke("calibrate", calibration, "--out", out, "-w", "1", "-q")
    one_error_line(code, err, said)
    assert sorted(p.name for p in calibration.parent.iterdir()) == before


def test_calibrate_into_a_place_it_cannot_write_is_one_line_before_any_work(
        calibration, no_work, monkeypatch):
    def refused(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(store.tempfile, "mkdtemp", refused)
    code, err = invoke("calibrate", calibration, "--out", "out", "-w", "1", "-q")
    one_error_line(code, err, "cannot write there (Permission denied)")
    assert not (calibration.parent / "out").exists()


def test_a_second_calibration_into_a_locked_folder_is_refused_at_once(calibration, no_work):
    out = calibration.parent / "out"
    with (folder_lock(Path(os.path.abspath(out))),
          pytest.raises(OutputError, match="another ctsim command")):
        cal.calibrate(cal.load_calibration(calibration), out, workers=1)
    assert not out.exists()


def test_a_full_disk_in_a_calibration_is_one_line_naming_the_folder(calibration, monkeypatch):
    monkeypatch.setattr(store.os, "fsync",
                        lambda _fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "full")))
    code, err = invoke("calibrate", calibration, "--out", "out", "-w", "1", "-q")
    one_error_line(code, err, "out: cannot write", "No space left on device")


def test_a_history_that_cannot_be_stored_is_an_output_error(tmp_path):
    class OperationalError(Exception):  # what SQLAlchemy raises for SQLite's failures
        orig = sqlite3.OperationalError("database or disk is full")

    said = r"out: cannot write the calibration's history there \(database or disk is full\)"
    with pytest.raises(OutputError, match=said), abc._history_written(tmp_path / "out"):
        raise OperationalError("(sqlite3.OperationalError) database or disk is full")
    # anything else is not turned into an output error
    with pytest.raises(ValueError), abc._history_written(tmp_path / "out"):
        raise ValueError("a bug")


@pytest.mark.slow
def test_a_calibrations_history_stores_the_ctsim_version_not_the_working_folder(calibration):
    code, err = invoke("calibrate", calibration, "--out", "out", "-w", "1", "-q")
    assert code == 0, err
    db = calibration.parent / "out" / "history.db"
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT * FROM abc_smc").fetchall()
    assert [row[-1] for row in rows] == [f"ctsim {__version__}"]  # pyabc's git_hash column
    stored = json.dumps(rows, default=str)
    assert str(calibration.parent) not in stored and "/tmp" not in stored
    assert not list(calibration.parent.glob(".out.lock"))  # the lock went with the command
