"""The wheel works on its own: built from this tree, installed into a fresh virtual
environment that cannot see the source tree, the shipped scenarios, lessons and data are
there, and the commands a newcomer types first work from an empty folder.

The fresh environment reuses the dependencies already installed for the tests (a path
file points at them) but not ctsim itself, which comes from the wheel alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 600):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder, empty working folder, environment) of a wheel-only install."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to copy the tree the wheel is built from")
    work = tmp_path_factory.mktemp("wheel")
    # Build from a copy of the committed and working files, so that no build output lands
    # in the source tree.
    tree = work / "tree"
    shutil.copytree(ROOT, tree, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "results", "__pycache__",
                                                  "*.egg-info", "build", ".pytest_cache",
                                                  ".hypothesis", ".ruff_cache"))
    dist = work / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--quiet", "-w", str(dist), str(tree)], work, dict(os.environ))
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(dist.glob("ctsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ctsim/scenarios/baseline.yaml" in names
    assert "ctsim/scenarios/lessons/legal_friction.yaml" in names
    assert "ctsim/experiments/challenges.yaml" in names
    assert "ctsim/data/nations.csv" in names

    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work,
                dict(os.environ))
    assert made.returncode == 0, made.stderr
    bin_dir = venv / "bin"
    py = bin_dir / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     work, dict(os.environ)).stdout.strip())
    deps = Path(sysconfig.get_path("purelib"))
    # the test environment's packages, minus ctsim's editable install: a plain path entry
    # (path files in a directory added this way are not run, so its finder stays out)
    (site / "test-dependencies.pth").write_text(f"{deps}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    installed_ = _run([sys.executable, "-m", "pip", "--python", str(py), "install",
                       "--no-deps", "--no-index", "--quiet", str(wheel)], work, env)
    assert installed_.returncode == 0, installed_.stderr[-2000:]
    empty = work / "empty"
    empty.mkdir()
    where = _run([str(py), "-c", "import ctsim; print(ctsim.__file__)"], empty, env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout
    return bin_dir, empty, env


def test_the_wheel_lists_the_shipped_scenarios(installed):
    bin_dir, empty, env = installed
    out = _run([str(bin_dir / "ctsim"), "scenarios"], empty, env)
    assert out.returncode == 0, out.stderr
    assert "baseline" in out.stdout and "lessons/legal_friction" in out.stdout


@pytest.mark.slow
def test_the_wheel_runs_a_shipped_scenario_by_name(installed):
    bin_dir, empty, env = installed
    out = _run([str(bin_dir / "ctsim"), "run", "baseline", "--replications", "2",
                "--steps", "26", "--out", "res", "-q"], empty, env, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    summary = json.loads((empty / "res" / "summary.json").read_text())
    assert summary["replications"] == 2 and summary["steps"] == 26
    assert len(list((empty / "res" / "figures").glob("*.png"))) == 4


def test_the_wheel_validates_a_shipped_lesson(installed):
    bin_dir, empty, env = installed
    out = _run([str(bin_dir / "ctsim"), "validate", "lessons/legal_friction"], empty, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ")


def test_the_wheel_has_the_app_and_the_lessons(installed):
    bin_dir, empty, env = installed
    out = _run([str(bin_dir / "ctsim"), "app", "--help"], empty, env)
    assert out.returncode == 0, out.stderr
    assert "--port" in out.stdout
    lessons = _run([str(bin_dir / "python"), "-c",
                    "from ctsim.teaching.lessons import LESSONS; print(len(LESSONS), "
                    "all(x.path.is_file() for x in LESSONS))"], empty, env)
    shipped = len(list((ROOT / "ctsim" / "scenarios" / "lessons").glob("*.lesson.yml")))
    assert shipped >= 12
    assert lessons.stdout.split() == [str(shipped), "True"], lessons.stderr
    # the class mode's pages, served from the package (no network at a school)
    pages = _run([str(bin_dir / "python"), "-c",
                  "import json; from importlib.resources import files; d = "
                  "files('ctsim.teaching') / 'frontend' / 'class'; "
                  "print(json.dumps([p.name for p in d.iterdir()]))"], empty, env)
    assert pages.returncode == 0, pages.stderr
    names = set(json.loads(pages.stdout))
    assert {"index.html", "play.html", "teach.html", "class.css", "common.js"} <= names


def test_the_wheel_copies_its_scenarios_for_editing(installed):
    bin_dir, empty, env = installed
    out = _run([str(bin_dir / "ctsim"), "scenarios", "--copy", "mine"], empty, env)
    assert out.returncode == 0, out.stderr
    assert (empty / "mine" / "baseline.yaml").is_file()
    assert (empty / "mine" / "world" / "world.yaml").is_file()
