"""Helpers for the sweep tests: tiny scenario and experiment files, result tables, processes.

Kept out of conftest.py so the sweep tests can import them by name and Dask workers started
with the repository on their path can import :func:`scenario_cache_size`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tests.conftest import ROOT, SMALL

#: Console scripts of the running interpreter's environment (.venv/bin).
BIN = Path(sys.executable).parent
CTSIM = str(BIN / "ctsim")
DASK = str(BIN / "dask")


def write_scenario(folder: Path, name: str = "small", **sections: Any) -> Path:
    """Write conftest's SMALL world (8 generated nations) as ``folder/<name>.yaml``.

    ``sections`` replace top-level keys (``steps=20``, ``threat={...}``).
    """
    data = copy.deepcopy(SMALL) | {"name": name} | sections
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_experiment(folder: Path, spec: dict[str, Any], file: str = "exp.yaml") -> Path:
    """Write an experiment mapping to ``folder/file`` (scenario paths relative to it)."""
    path = folder / file
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def tiny_spec(**changes: Any) -> dict[str, Any]:
    """A 2 x 2 grid on the small world: 4 points, 2 replications, 25 weeks, time series."""
    spec: dict[str, Any] = {
        "name": "tiny",
        "scenario": "small.yaml",
        "design": "grid",
        "factors": {
            "threat.detection_rate": {"values": [0.05, 0.3]},
            "cooperation.regime": {"values": ["bilateral", "hybrid"]},
        },
        "replications": 2,
        "steps": 25,
        "seed": 3,
        "timeseries": True,
    }
    spec.update(changes)
    return spec


def make_experiment(folder: Path, **changes: Any) -> Path:
    """The small scenario and a :func:`tiny_spec` experiment in ``folder``; the experiment."""
    folder.mkdir(parents=True, exist_ok=True)
    write_scenario(folder)
    return write_experiment(folder, tiny_spec(**changes))


def runs_table(out: Path) -> pd.DataFrame:
    """``out/runs.parquet`` sorted by run id."""
    frame = pd.read_parquet(out / "runs.parquet")
    return frame.sort_values("run_id", kind="stable").reset_index(drop=True)


def ts_table(out: Path) -> pd.DataFrame:
    """``out/timeseries.parquet`` sorted by run id and step."""
    frame = pd.read_parquet(out / "timeseries.parquet")
    return frame.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def assert_same_results(got: Path, want: Path, timeseries: bool = True) -> None:
    """Two sweep folders hold exactly the same runs (and time series): values and dtypes."""
    a, b = runs_table(got), runs_table(want)
    assert a["run_id"].is_unique, "a run is stored twice"
    assert list(a["run_id"]) == list(b["run_id"])
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    if timeseries:
        ta, tb = ts_table(got), ts_table(want)
        assert not ta.duplicated(["run_id", "step"]).any(), "a time-series row is doubled"
        pd.testing.assert_frame_equal(ta, tb, check_exact=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    """The environment for ctsim and dask subprocesses: the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def start(args: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``args`` in its own session (so :func:`stop` can kill all it spawned)."""
    fh = open(log, "wb")  # noqa: SIM115 - closed with the process by stop()
    proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd,
                            env=child_env(), start_new_session=True)
    proc.log = fh  # type: ignore[attr-defined]
    return proc


def _exited(pid: int) -> bool:
    """Whether ``pid`` (our child) has exited, without reaping it: its id stays ours."""
    info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return info is not None


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Signal the process group of ``proc``; SIGKILL the group if it lingers after ``grace``.

    The leader is reaped only after the last SIGKILL to its group, so the group id cannot
    have been reused by then; children that outlived it (a forkserver, a nanny's worker) go
    with the group.
    """
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        wait_until(lambda: _exited(proc.pid), grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    log = getattr(proc, "log", None)
    if log is not None:
        log.close()


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def scenario_cache_size() -> int:
    """Scenarios cached by ``ctsim.runs.worker`` in this process (run on Dask workers)."""
    from ctsim.runs import worker

    return len(worker._SCENARIO_CACHE)
