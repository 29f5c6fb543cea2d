"""Output places: every place a command writes (``--out`` of run, compare, sweep and
report, ``scenarios --copy``) is checked before any work and creating nothing; a full disk
is one line naming the folder; a copy is whole or absent; results folders hold no path of
the machine that made them; library warnings do not reach the terminal.

Each refused place is one ``error:`` line, exit status 2, and nothing new on disk: not the
folder, not a parent made for it, not a lock file.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import yaml

from ctsim import resources
from ctsim.errors import OutputError, ScenarioError
from ctsim.runs import store
from ctsim.runs.store import check_place, folder_lock
from tests.conftest import invoke_cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(resources.__file__).resolve().parent
SMALL = {"name": "small", "seed": 5, "steps": 10, "replications": 2,
         "world": {"nations": 6, "regions": 2, "blocs": 2},
         "threat": {"groups": 2, "plots_per_year": 20}}


def invoke(*args: object) -> tuple[int, str, str]:
    """The ``ctsim`` entry point in this process: (exit status, stdout, stderr)."""
    result = invoke_cli(*args)
    return result.exit_code, result.stdout, result.stderr


def one_error_line(code: int, err: str, *words: str) -> str:
    """Exit status 2 and one ``error:`` line holding each of ``words`` (besides the notice
    that the compiled weeks are being compiled, which a fresh cache gives once)."""
    assert code == 2, err
    lines = [x for x in err.strip().splitlines() if not x.startswith("ctsim: compiling")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tree(folder: Path) -> set[str]:
    """Everything under ``folder`` (hidden files too), as relative paths."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A working folder holding a scenario, a sweep's experiment, a file and a link to
    nowhere; the test runs inside it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "small.yaml").write_text(yaml.safe_dump(SMALL))
    (work / "exp.yaml").write_text(yaml.safe_dump({
        "name": "exp", "scenario": "small.yaml", "replications": 2, "seed": 3,
        "factors": {"threat.leak_rate": {"values": [0.0, 0.2]}}}))
    (work / "afile").write_text("not a folder\n")
    (work / "dangling").symlink_to(work / "gone")
    monkeypatch.chdir(work)
    return work


COMMANDS = {
    "run": ("run", "small.yaml", "-r", "2", "--steps", "5", "-q", "--no-figures", "--out"),
    "compare": ("compare", "small.yaml", "baseline", "-r", "2", "--steps", "5", "-q",
                "--out"),
    "sweep": ("sweep", "exp.yaml", "--steps", "5", "-w", "1", "--executor", "serial", "-q",
              "--out"),
    "copy": ("scenarios", "--copy"),
}

#: Places no command may write, and a word of what each refusal says.
BAD_PLACES = {
    "empty": ("", "give a folder name"),
    "current folder spelt x/..": ("nothere/..", "'..'"),
    "through a missing folder": ("nothere/../out", "'..' after nothere"),
    "a link to nowhere": ("dangling", "a link to a place that does not exist"),
    "under a link to nowhere": ("dangling/out", "a link to a place that does not exist"),
    "under a file": ("afile/out", "afile is a file"),
    "a name of 300 bytes": ("x" * 300, "300 bytes long"),
    "a name of 250 bytes (its lock's would be too long)": ("y" * 250, "at most 239"),
    "a folder name of 256 bytes on the way": ("a/" + "z" * 256 + "/out", "at most 255"),
    "inside the installed package": (str(PACKAGE / "scenarios" / "mine"),
                                     "inside the installed ctsim package"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", list(BAD_PLACES))
def test_a_place_that_cannot_be_used_is_one_line_before_any_work(place, command, case):
    where, said = BAD_PLACES[case]
    before = tree(place)
    package_before = tree(PACKAGE / "scenarios")
    code, out, err = invoke(*COMMANDS[command], where)
    one_error_line(code, err, said)
    assert "Traceback" not in out + err
    assert tree(place) == before  # no folder, no parent made for it, no lock file
    assert tree(PACKAGE / "scenarios") == package_before


def test_report_out_over_long_is_one_line_before_reading(place):
    code, _, err = invoke("report", "nowhere", "--out", "r" * 300)
    one_error_line(code, err, "300 bytes long")


def test_sweep_out_of_x_dotdot_writes_nothing_in_the_working_folder(place):
    before = tree(place)
    code, _, err = invoke(*COMMANDS["sweep"], "nothere/..")
    one_error_line(code, err, "nothere/..")
    assert tree(place) == before
    assert not (place / "parts").exists() and not (place / "manifest.json").exists()


def test_check_place_accepts_a_new_folder_and_creates_nothing(tmp_path):
    target = tmp_path / "new" / "deeper" / "out"
    check_place(target)
    assert list(tmp_path.iterdir()) == []


def test_check_place_refuses_a_place_it_cannot_write(tmp_path, monkeypatch):
    def refused(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(store.tempfile, "mkdtemp", refused)
    with pytest.raises(OutputError, match=r"cannot write there \(Permission denied\)"):
        check_place(tmp_path / "out")


def test_a_lock_leaves_no_folder_it_made_when_nothing_was_written(tmp_path):
    with folder_lock(tmp_path / "a" / "b" / "out"):
        assert (tmp_path / "a" / "b").is_dir()  # the lock file lives beside the folder
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- created nothing on failure


def test_a_failing_uncertainty_leaves_no_folder(place):
    code, _, err = invoke(*COMMANDS["run"], "new/deeper/out", "--uncertainty", "missing")
    one_error_line(code, err, "--uncertainty")
    assert not (place / "new").exists()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_failing_scheduler_leaves_no_folder(place, command):
    pytest.importorskip("dask.distributed")
    code, _, err = invoke(*[a for a in COMMANDS[command] if a not in ("--executor", "serial")],
                          "new/deeper/out", "--scheduler", "nothere://x")
    one_error_line(code, err, "--scheduler")
    assert not (place / "new").exists()


# ---------------------------------------------------------------- a full disk


def _full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("command", ["run", "sweep", "compare"])
def test_a_full_disk_while_writing_results_is_one_line_naming_the_folder(place, monkeypatch,
                                                                         command):
    monkeypatch.setattr(store.os, "fsync", _full_disk)  # every file is synced, then renamed
    code, out, err = invoke(*COMMANDS[command], "results/out")
    line = one_error_line(code, err, "No space left on device", "cannot write the results")
    assert "results" in line
    assert "Traceback" not in out + err
    assert not (place / "results" / "out").exists()


def test_a_full_disk_while_drawing_the_figures_is_one_line(place, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "savefig", _full_disk)
    run = [a for a in COMMANDS["run"] if a != "--no-figures"]
    code, _, err = invoke(*run, "results/out")
    line = one_error_line(code, err, "No space left on device")
    assert line.startswith("error: results/out: ")
    assert not (place / "results" / "out").exists()


def test_a_full_disk_through_the_python_api_is_an_output_error(place, monkeypatch):
    from matplotlib.figure import Figure

    import ctsim

    monkeypatch.setattr(Figure, "savefig", _full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        ctsim.run("small.yaml", replications=2, steps=5, out="results/out", figures="png")
    monkeypatch.setattr(store.os, "fsync", _full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        ctsim.sweep("exp.yaml", steps=5, workers=1, executor="serial", out="swept")
    assert not (place / "results" / "out").exists()


def test_a_full_disk_while_writing_a_report_is_one_line(place, monkeypatch):
    from matplotlib.figure import Figure

    code, _, err = invoke(*COMMANDS["sweep"], "swept")
    assert code == 0, err
    monkeypatch.setattr(Figure, "savefig", _full_disk)
    monkeypatch.setattr(store.os, "fsync", _full_disk)
    code, out, err = invoke("report", "swept", "--out", "report")
    one_error_line(code, err, "report: ", "No space left on device")
    assert "Traceback" not in out + err


def test_a_full_disk_while_merging_a_sweep_is_an_output_error(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    sweep = store.SweepStore(tmp_path / "out")
    sweep.prepare()
    sweep.write([{"run_id": 0, "status": "ok", "x": 1.0}],
                {"ts": [{"run_id": [0, 0], "step": [0, 1], "y": [0.0, 1.0]}]})

    class Full(pq.ParquetWriter):
        def write_table(self, *_args, **_kwargs):
            _full_disk()

    monkeypatch.setattr(pq, "ParquetWriter", Full)
    with pytest.raises(OutputError, match=r"out: cannot write the results there \(No space"):
        sweep.merge()
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no half-written table left


def test_atomic_write_on_a_full_disk_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store.os, "fsync", _full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        store.atomic_write(tmp_path / "a.csv", b"x,y\n")
    assert list(tmp_path.iterdir()) == []


def test_a_copy_that_fills_the_disk_leaves_nothing(place, monkeypatch):
    synced = []

    def fifth_fails(fd):
        synced.append(fd)
        if len(synced) == 5:
            _full_disk()

    monkeypatch.setattr(store.os, "fsync", fifth_fails)
    code, _, err = invoke("scenarios", "--copy", "mine/scenarios")
    one_error_line(code, err, "No space left on device")
    assert len(synced) == 5
    assert not (place / "mine").exists()  # no 0-byte file, no half copy, no folder


def test_a_copy_is_every_shipped_scenario_byte_for_byte(place):
    code, out, err = invoke("scenarios", "--copy", "mine")
    assert code == 0, err
    shipped = resources.shipped("scenarios")
    sources = sorted(shipped.rglob("*.yaml"))
    assert f"copied {len(sources)} scenarios" in out
    for source in sources:
        assert (place / "mine" / source.relative_to(shipped)).read_bytes() == \
            source.read_bytes()
    assert not list((place / "mine").rglob(".*"))  # no temporary file left


# ---------------------------------------------------------------- scenarios --dir


def test_scenarios_of_a_folder_with_an_unreadable_subfolder_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "closed").mkdir()
    scandir = os.scandir

    def refusing(path="."):
        if Path(path).name == "closed":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    code, _, err = invoke("scenarios", "--dir", tmp_path)
    one_error_line(code, err, "closed", "cannot read: Permission denied")


def test_scenario_files_refuses_a_folder_of_too_many_yaml_files(tmp_path):
    for i in range(4):
        (tmp_path / f"{i}.yaml").write_text("name: x\n")
    assert len(resources.scenario_files(tmp_path, most=4)) == 4
    with pytest.raises(ScenarioError, match="more than 3 YAML files"):
        resources.scenario_files(tmp_path, most=3)


def test_scenarios_of_an_over_long_folder_name_is_one_line(place):
    code, _, err = invoke("scenarios", "--dir", "d" * 300)
    one_error_line(code, err, "cannot read")


# ---------------------------------------------------------------- no machine paths


def test_a_sweep_manifest_names_its_file_without_the_machine_path(tmp_path, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere" / "small.yaml").write_text(yaml.safe_dump(SMALL))
    exp = {"name": "exp", "scenario": "small.yaml", "replications": 1, "seed": 3, "steps": 3,
           "factors": {"threat.leak_rate": {"values": [0.0]}}}
    (tmp_path / "elsewhere" / "exp.yaml").write_text(yaml.safe_dump(exp))
    (tmp_path / "work" / "sub" / "small.yaml").write_text(yaml.safe_dump(SMALL))
    (tmp_path / "work" / "sub" / "exp.yaml").write_text(yaml.safe_dump(exp))
    monkeypatch.chdir(tmp_path / "work")
    shown = {}
    for name, path in {"outside": tmp_path / "elsewhere" / "exp.yaml",
                       "inside": Path("sub/exp.yaml"), "shipped": "morris"}.items():
        args = ["sweep", path, "--out", f"out-{name}", "-w", "1", "--executor", "serial",
                "-q", "--steps", "2"]
        if name == "shipped":
            args += ["-r", "1"]
        code, _, err = invoke(*args)
        assert code == 0, err
        manifest = json.loads((tmp_path / "work" / f"out-{name}" / "manifest.json").read_text())
        shown[name] = manifest["file"]
        assert str(tmp_path) not in json.dumps(manifest)
    assert shown == {"outside": "exp.yaml", "inside": "sub/exp.yaml",
                     "shipped": "experiments/morris.yaml"}


def test_the_committed_results_hold_no_machine_path():
    for manifest in sorted((ROOT / "results").rglob("manifest.json")):
        doc = json.loads(manifest.read_text())
        for key in ("file", "uncertainty"):
            value = doc.get(key)
            assert value is None or not Path(value).is_absolute(), (manifest, key, value)


# ---------------------------------------------------------------- library warnings


def test_a_comparison_of_a_metric_no_run_measured_prints_no_library_warning(place):
    # one week: no plot settles, so weeks_to_disruption is undefined in every run and its
    # panel of the figure is empty (matplotlib and numpy warn about both)
    code, _, err = invoke("compare", "small.yaml", "baseline", "-r", "2", "--steps", "1",
                          "--metric", "weeks_to_disruption", "-q", "--out", "cmp")
    assert code == 0, err
    assert "Warning" not in err and "warning" not in err, err
    assert (place / "cmp" / "comparison.png").is_file()


def test_a_sweep_of_a_metric_no_run_measured_writes_empty_indices_without_warning(place):
    (place / "sob.yaml").write_text(yaml.safe_dump({
        "name": "sob", "scenario": "small.yaml", "design": "sobol", "samples": 4, "seed": 3,
        "replications": 1, "steps": 1, "metrics": ["weeks_to_disruption"],
        "factors": {"threat.leak_rate": {"range": [0.0, 0.4]},
                    "relations.trust": {"range": [0.2, 1.0]}}}))
    code, _, err = invoke("sweep", "sob.yaml", "--out", "sob", "-w", "1", "--executor",
                          "serial", "-q")
    assert code == 0, err
    assert "Warning" not in err, err
    import pandas as pd

    indices = pd.read_csv(place / "sob" / "sensitivity.csv")
    assert len(indices) == 2
    assert indices[["S1", "S1_conf", "ST", "ST_conf"]].isna().all().all()  # not 0: undefined
