"""ctsim installed where it cannot write: the compiled core caches in the user's folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOBODY = 65534


def _read_only(path: Path) -> None:
    """Take write permission away from ``path`` and everything below it."""
    for p in [path, *path.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _nobody_can_run(python: str) -> bool:
    """Whether the unprivileged user can start ``python``."""

    def drop() -> None:
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    try:
        subprocess.run([python, "-c", "import numpy"], preexec_fn=drop, check=True,
                       capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def _read_only_mount_works() -> bool:
    """Whether this process may make a read-only bind mount in a mount namespace of its
    own (root in most containers: ``unshare --mount``)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return False
    probe = Path(tempfile.mkdtemp(prefix="ctsim-ro-probe-"))
    try:
        done = subprocess.run(
            ["unshare", "--mount", "sh", "-c",
             f"mount --bind {probe} {probe} && mount -o remount,ro,bind {probe} {probe} "
             f"&& ! touch {probe}/written"],
            capture_output=True, timeout=60, check=False)
        return done.returncode == 0 and not (probe / "written").exists()
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


@pytest.mark.slow
def test_ctsim_run_works_from_a_read_only_install():
    """With the package folder read-only, numba's cache falls back to the user's cache
    folder: `ctsim run` works, announces the one-time compilation, and a second run loads
    the cache without compiling (no notice).

    Root writes through permissions, so as root the install is mounted read-only (a bind
    mount in a mount namespace of the run's own); otherwise its permissions are taken
    away, and as root without mount namespaces the runs are made as an unprivileged user.
    """
    base = Path(tempfile.mkdtemp(prefix="ctsim-ro-"))
    try:
        base.chmod(0o755)
        install, home, out = base / "install", base / "home", base / "out"
        shutil.copytree(ROOT / "ctsim", install / "ctsim",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "scenarios", install / "scenarios")
        home.mkdir()
        out.mkdir()
        _read_only(install)
        as_root = os.geteuid() == 0
        mounted = as_root and _read_only_mount_works()
        unprivileged = as_root and not mounted
        if unprivileged:  # root writes anywhere: run the install as an unprivileged user
            for p in (home, out):
                os.chown(p, NOBODY, NOBODY)

        def drop() -> None:
            if unprivileged:
                os.setgid(NOBODY)
                os.setuid(NOBODY)

        if unprivileged and not _nobody_can_run(sys.executable):
            pytest.skip("root writes anywhere, mount namespaces are not allowed, and the "
                        "unprivileged user cannot run this interpreter (it lies under a "
                        "private folder): no read-only install to test here")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env.update(PYTHONPATH=str(install), HOME=str(home), MPLCONFIGDIR=str(home / "mpl"))
        command = [sys.executable, "-m", "ctsim.cli", "run", "baseline", "--replications", "1",
                   "--steps", "8"]
        runs = []
        for k in range(2):
            run = [*command, "--out", str(out / f"run{k}")]
            if mounted:
                script = (f'mount --bind "{install}" "{install}" && '
                          f'mount -o remount,ro,bind "{install}" "{install}" && exec "$@"')
                run = ["unshare", "--mount", "sh", "-c", script, "sh", *run]
            # from the output folder: ``-m`` puts the working folder first on the path, and
            # the source tree's ctsim must not be found before the install
            runs.append(subprocess.run(run, capture_output=True, text=True, env=env, cwd=out,
                                       preexec_fn=drop, timeout=600, check=False))
        for done in runs:
            assert done.returncode == 0, done.stderr
        assert "compiling the model's weekly phases" in runs[0].stderr
        assert "compiling" not in runs[1].stderr
        first = json.loads((out / "run0" / "summary.json").read_text())
        second = json.loads((out / "run1" / "summary.json").read_text())
        assert first["metrics"] == second["metrics"]
        assert not list((install / "ctsim").rglob("*.nbi"))  # nothing written in the package
        assert list(home.rglob("*.nbi"))  # the cache went to the user's folder
    finally:
        for p in [base, *base.rglob("*")]:
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
