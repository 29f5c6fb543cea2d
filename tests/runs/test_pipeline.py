"""One pipeline for run, compare and sweep; output places checked before anything runs;
bad options and oversize scenarios refused; results that a reader sees whole.

Runs here are short (a small generated world, few weeks) so the file stays quick.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import ctsim
from ctsim import resources
from ctsim.analysis.report import load_results
from ctsim.errors import CtsimError, ExperimentError, OutputError, ResultsError
from ctsim.runs import pipeline
from tests.conftest import StopAfter, invoke_cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"name": "small", "seed": 5, "steps": 20, "replications": 3,
         "world": {"nations": 8, "regions": 2, "blocs": 2},
         "threat": {"groups": 3, "plots_per_year": 30, "lead_time": {"min": 4, "max": 8}}}


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    return path


invoke = invoke_cli


def one_error_line(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


# ---------------------------------------------------------------- run through the pipeline


def test_a_run_writes_the_sweep_tables_beside_its_summary(small_file, tmp_path):
    out = tmp_path / "out"
    outcome = ctsim.run(small_file, out=out)
    for name in ("summary.json", "timeseries.csv", "havens.csv", "scenario.yaml",
                 "runs.parquet", "timeseries.parquet", "nations.parquet", "manifest.json"):
        assert (out / name).is_file(), name
    assert not (out / "parts").exists()
    runs = pd.read_parquet(out / "runs.parquet")
    doc = json.loads((out / "summary.json").read_text())
    assert doc == outcome.summary
    assert runs["seed"].tolist() == doc["run_seeds"]
    assert doc["metrics"]["plots"]["values"] == runs["plots"].tolist()
    nations = pd.read_parquet(out / "nations.parquet")
    assert len(nations) == 3 * 8
    assert nations.groupby("run_id")["based"].sum().tolist() == runs["plots"].tolist()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["runs"] == 3
    assert load_results(out).runs["status"].eq("ok").all()  # ctsim report can read it


def test_a_runs_tables_in_hand_are_the_tables_it_wrote(small_file, tmp_path):
    from ctsim.analysis.snapshot import RunSnapshot
    from ctsim.analysis.tables import haven_table

    out = tmp_path / "out"
    outcome = ctsim.run(small_file, out=out)
    runs = pd.read_parquet(out / "runs.parquet")
    assert outcome.runs[["run_id", "replication", "seed", "status"]].astype(object).equals(
        runs[["run_id", "replication", "seed", "status"]].astype(object))
    weekly = pd.read_csv(out / "timeseries.csv")
    assert list(outcome.timeseries.columns) == list(weekly.columns)
    assert outcome.timeseries[["replication", "seed", "step", "plots"]].equals(
        weekly[["replication", "seed", "step", "plots"]])
    assert len(outcome.timeseries) == 3 * 21
    stored = haven_table(RunSnapshot.load(out / "snapshot.npz").world,
                         pd.read_parquet(out / "nations.parquet"))
    pd.testing.assert_frame_equal(outcome.havens, stored)
    assert outcome.runs is outcome.runs  # made once


def test_a_run_drawing_its_figures_imports_neither_networkx_nor_mesa(small_file, tmp_path):
    code = ("import sys, ctsim; ctsim.run(sys.argv[1], out=sys.argv[2], replications=1, "
            "figures='png'); print(sorted(m for m in ('networkx', 'mesa') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(small_file), str(tmp_path / "o")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "o" / "figures" / "trust_network.png").is_file()


def test_two_workers_give_the_same_summary_as_one(small_file, tmp_path):
    one = pipeline.run(small_file, out=tmp_path / "one")
    two = pipeline.run(small_file, out=tmp_path / "two", workers=2)
    assert (tmp_path / "one" / "summary.json").read_bytes() == (
        tmp_path / "two" / "summary.json").read_bytes()
    assert one.summary["metrics"]["disruption_rate"]["values"] == two.summary["metrics"][
        "disruption_rate"]["values"]


def test_an_interrupted_run_resumes_to_the_same_results(small_file, tmp_path):
    fresh = pipeline.run(small_file, out=tmp_path / "fresh", replications=4)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(small_file, out=out, replications=4, on_progress=StopAfter(2))
    assert not out.exists()  # nothing half-written where the results go
    resumed = pipeline.run(small_file, out=out, replications=4, resume=True)
    assert (resumed.ran, resumed.resumed) == (2, 2)
    assert resumed.summary == fresh.summary


def test_a_run_refuses_to_replace_earlier_results_without_overwrite(small_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("run", small_file, "--out", out, "-q", "--format", "svg").exit_code == 0
    before = (out / "summary.json").read_bytes()
    line = one_error_line(invoke("run", small_file, "--out", out, "-q", "--seed", "9"))
    assert "--overwrite" in line
    assert (out / "summary.json").read_bytes() == before
    assert invoke("run", small_file, "--out", out, "-q", "--seed", "9",
                  "--overwrite").exit_code == 0
    assert (out / "summary.json").read_bytes() != before
    # the new run's figures only: no svg left over from the first run
    assert sorted(p.suffix for p in (out / "figures").iterdir()) == [".png"] * 4


@pytest.mark.parametrize("where", ["file", "foreign", "empty-name", "unwritable"])
def test_an_unusable_output_place_is_refused_before_anything_runs(small_file, tmp_path,
                                                                  where):
    if where == "file":
        out = tmp_path / "taken"
        out.write_text("mine")
    elif where == "foreign":
        out = tmp_path / "notes"
        out.mkdir()
        (out / "draft.txt").write_text("mine")
    elif where == "empty-name":
        out = Path("")
    else:
        out = Path("/proc/ctsim-out")
    calls = []
    with pytest.raises(OutputError):
        pipeline.run(small_file, out=out, on_progress=lambda n, f: calls.append(n))
    assert calls == []  # refused before the first run
    result = invoke("run", small_file, "--out", str(out), "-q")
    one_error_line(result)
    if where == "file":
        assert out.read_text() == "mine"
    if where == "foreign":
        assert [p.name for p in out.iterdir()] == ["draft.txt"]


def test_written_files_follow_the_umask(small_file, tmp_path):
    old = os.umask(0o022)
    try:
        pipeline.run(small_file, out=tmp_path / "out", replications=1)
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "out" / "summary.json").stat().st_mode)
    assert mode == 0o644


def test_intervals_stay_within_a_metrics_range(small_file, tmp_path):
    outcome = pipeline.run(small_file, out=tmp_path / "out", replications=2)
    for name in ("disruption_rate", "foreign_share", "mean_trust"):
        lo, hi = outcome.summary["metrics"][name]["ci95"]
        assert lo is None or 0.0 <= lo <= hi <= 1.0


# ---------------------------------------------------------------- options and sizes


@pytest.mark.parametrize("option, value", [
    ("--seed", "18446744073709551616"), ("--seed", "-1"), ("--replications", "1000000000"),
    ("--steps", "1000000000"), ("--replications", "0")])
def test_options_obey_the_ranges_of_the_file(small_file, tmp_path, option, value):
    result = invoke("run", small_file, option, value, "--out", tmp_path / "out", "-q")
    line = one_error_line(result)
    assert option in line
    assert not (tmp_path / "out").exists()


def test_the_largest_seed_a_file_allows_is_accepted_and_written_back(small_file, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", small_file, "--seed", str(2**63 - 1), "-r", "1", "--out", out, "-q",
                    "--no-figures")
    assert result.exit_code == 0, result.output
    assert ctsim.load_scenario(out / "scenario.yaml").seed == 2**63 - 1


def test_a_scenario_too_large_for_memory_is_refused_naming_its_keys(small_file, tmp_path):
    result = invoke("run", small_file, "--set", "threat.groups=1000", "--set",
                    "threat.plots_per_year=5200", "--steps", "2000", "--out",
                    tmp_path / "out", "-q")
    line = one_error_line(result)
    assert "threat.groups (1000)" in line and "threat.plots_per_year (5200)" in line
    assert "GiB" in line
    assert not (tmp_path / "out").exists()


def test_a_misspelt_shipped_name_gets_a_suggestion(tmp_path):
    line = one_error_line(invoke("run", "basline", "--out", tmp_path / "out", "-q"))
    assert "did you mean 'baseline'" in line


def test_shipped_scenarios_come_from_the_package():
    folder = resources.shipped("scenarios")
    assert folder.is_relative_to(Path(ctsim.__file__).parent)
    assert "baseline" in resources.names() and "lessons/legal_friction" in resources.names()
    assert resources.resolve("world/world").resolve() == (folder / "world" / "world.yaml").resolve()
    # the source tree's scenarios/ is the same folder, not a copy
    assert (ROOT / "scenarios").resolve() == folder.resolve()


def test_scenarios_copy_writes_editable_copies_and_never_overwrites(tmp_path):
    dest = tmp_path / "mine"
    result = invoke("scenarios", "--copy", dest)
    assert result.exit_code == 0, result.output
    copied = sorted(str(p.relative_to(dest).with_suffix("")) for p in dest.rglob("*.yaml"))
    assert copied == resources.names()
    assert (dest / "baseline.yaml").read_bytes() == (
        resources.shipped() / "baseline.yaml").read_bytes()
    (dest / "baseline.yaml").write_text("name: edited\n")
    line = one_error_line(invoke("scenarios", "--copy", dest))
    assert "already exists" in line
    assert (dest / "baseline.yaml").read_text() == "name: edited\n"


# ---------------------------------------------------------------- compare and sweep


def test_compare_runs_through_the_pipeline_with_any_number_of_workers(small_file, tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(SMALL | {"name": "other",
                                             "cooperation": {"regime": "none"}}))
    serial = pipeline.compare([small_file, other], replications=3, out=tmp_path / "c1")
    pooled = pipeline.compare([small_file, other], replications=3, out=tmp_path / "c2",
                              workers=2)
    assert serial.rows == pooled.rows
    assert (tmp_path / "c1" / "runs.parquet").is_file()
    assert (tmp_path / "c1" / "comparison.csv").read_bytes() == (
        tmp_path / "c2" / "comparison.csv").read_bytes()
    base, none = serial.rows
    assert base["diff"] == 0.0
    runs = pd.read_parquet(tmp_path / "c1" / "runs.parquet")
    by = runs.pivot(index="replication", columns="scenario", values="disruption_rate")
    assert none["diff"] == pytest.approx((by["other"] - by["small"]).mean())


def test_compare_of_two_scenarios_with_one_name_is_a_one_line_error(small_file, tmp_path):
    line = one_error_line(invoke("compare", small_file, small_file, "-r", "2"))
    assert "both named 'small'" in line


def test_resume_refuses_the_results_of_another_experiment(small_file, tmp_path):
    def experiment(name: str, leak: list[float]) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"name": name, "scenario": str(small_file),
                                        "factors": {"threat.leak_rate": {"values": leak}},
                                        "replications": 2}))
        return path

    out = tmp_path / "out"
    first = invoke("sweep", experiment("first", [0.0, 0.1]), "--out", out, "-q",
                   "--executor", "serial")
    assert first.exit_code == 0, first.output
    before = (out / "runs.parquet").read_bytes()
    line = one_error_line(invoke("sweep", experiment("second", [0.0, 0.2]), "--out", out,
                                 "-q", "--resume", "--executor", "serial"))
    assert "cannot resume" in line
    assert (out / "runs.parquet").read_bytes() == before
    # and results with no fingerprint at all are refused too
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["fingerprint"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExperimentError):
        pipeline.sweep(experiment("first", [0.0, 0.1]), out=out, resume=True,
                       executor="serial")


def test_sweep_replications_and_steps_try_a_shipped_experiment_small(tmp_path):
    out = tmp_path / "out"
    result = pipeline.sweep("regimes", out=out, replications=1, steps=3, executor="serial")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 1 and set(manifest["steps"]) == {3}
    assert result.total == len(manifest["scenarios"])


# ---------------------------------------------------------------- results and errors


@pytest.mark.parametrize("damage", ["manifest", "runs", "missing"])
def test_report_on_damaged_results_is_a_one_line_error(small_file, tmp_path, damage):
    out = tmp_path / "out"
    pipeline.run(small_file, out=out, replications=2)
    if damage == "manifest":
        (out / "manifest.json").write_text("{not json")
    elif damage == "runs":
        (out / "runs.parquet").write_bytes(b"PAR1 torn")
    else:
        (out / "runs.parquet").unlink()
    with pytest.raises(ResultsError):
        load_results(out)
    one_error_line(invoke("report", out))


def test_every_user_error_is_a_ctsim_error():
    for kind in (OutputError, ResultsError, ExperimentError, ctsim.ScenarioError):
        assert issubclass(kind, CtsimError)


def test_lessons_command_has_help_and_a_one_line_error_for_an_unknown_lesson():
    run = [sys.executable, "-m", "ctsim.teaching.lessons"]
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "usage:" in helped.stdout
    bad = subprocess.run([*run, "no_such_lesson"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [bad.stderr.strip()]
    assert bad.stderr.startswith("error: no lesson 'no_such_lesson'")


def test_progress_is_printed_as_lines_when_stderr_is_not_a_terminal(small_file, tmp_path):
    out = subprocess.run([sys.executable, "-m", "ctsim.cli", "run", str(small_file), "-r",
                          "3", "--out", str(tmp_path / "out"), "--no-figures"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "small: 3 of 3 runs" in out.stderr


def test_the_command_starts_without_the_model_or_the_tables():
    code = ("import sys, ctsim.cli; heavy = [m for m in ('numpy', 'pandas', 'mesa', 'numba', "
            "'scipy', 'matplotlib', 'pydantic', 'rich', 'pyarrow') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_run_with_its_numbers_imports_neither_mesa_nor_scipys_statistics(small_file,
                                                                          tmp_path):
    code = ("import sys, ctsim; ctsim.run(sys.argv[1], out=sys.argv[2], replications=1); "
            "print(sorted(m for m in ('mesa', 'scipy.stats', 'scipy.special', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(small_file), str(tmp_path / "o")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_stops_says_how_to_resume_and_the_sweep_resumes(tmp_path):
    """A Ctrl-C (SIGINT to the command's process group, workers included) while a sweep
    runs on two workers: exit status 130, one line naming --resume, no traceback, and the
    stored runs resume to the whole sweep."""
    import glob
    import os
    import signal
    import time

    exp = tmp_path / "exp.yaml"
    exp.write_text(yaml.safe_dump({
        "name": "interrupted", "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "factors": {"threat.leak_rate": {"values": [0.0, 0.05, 0.1, 0.15]}},
        "replications": 400, "steps": 260}))  # 1,600 runs: long enough to interrupt
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ctsim.cli", "sweep", str(exp), "--out", str(out),
               "--workers", "2"]
    # A test runner's worker may ignore SIGINT, and a child inherits that; a terminal's
    # command does not, so the child gets the default back.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    start = time.monotonic()
    while not glob.glob(str(out / "parts" / "runs-*.parquet")):
        assert proc.poll() is None and time.monotonic() - start < 300, "no batch stored"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted; ") and "--resume" in last
    assert not list((out / "parts").glob(".*.tmp"))
    resumed = subprocess.run([*command, "--resume", "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["stored"] == manifest["runs"] == 1600
