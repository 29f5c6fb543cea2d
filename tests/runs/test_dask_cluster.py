"""A sweep on a real Dask cluster whose workers start warm (issue 27).

A ``dask scheduler`` and two ``dask worker`` processes, started as a user starts them on a
cluster, on 127.0.0.1: ``w-preload`` with ``--preload ctsim.runs.dask_preload``, which
warms it before it registers (and stops its profiler, and keeps freed memory), and
``w-cold`` without, which the executor's worker plugin
(:class:`ctsim.runs.dask_preload.WarmUp`) warms when the sweep connects, before its first
batch, and otherwise leaves alone. The sweep through ``--scheduler`` gives the serial
executor's rows bit for bit.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import SCENARIOS
from tests.runs.sweep_helpers import (
    DASK,
    assert_same_results,
    start,
    stop,
    wait_until,
    write_experiment,
)

pytest.importorskip("dask.distributed")
if not Path(DASK).exists():
    pytest.skip(f"no dask command at {DASK}", allow_module_level=True)

from dask.distributed import Client

from ctsim.runs.dask_preload import WarmUp, keep_freed_memory, warm_state
from ctsim.runs.experiment import load_experiment
from ctsim.runs.sweeps import run_sweep

#: Seconds to wait for the cluster (a worker compiles the weeks first when they are not
#: cached yet: about a minute).
START_TIMEOUT = 240.0
#: Web servers on this machine only, no dashboard.
LOCAL = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A real scheduler and two single-threaded workers, one started with the preload."""
    work = tmp_path_factory.mktemp("dask-cluster")
    file = work / "scheduler.json"
    procs = []

    def address() -> str | None:
        try:
            return json.loads(file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            return None

    try:
        procs.append(start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", *LOCAL,
                            "--scheduler-file", str(file)], work / "scheduler.log", cwd=work))
        assert wait_until(lambda: address() is not None, START_TIMEOUT), "no scheduler"
        for name, extra in (("w-preload", ["--preload", "ctsim.runs.dask_preload"]),
                            ("w-cold", [])):
            procs.append(start([DASK, "worker", address(), "--host", "127.0.0.1",
                                "--nthreads", "1", "--nworkers", "1", "--name", name, *LOCAL,
                                *extra, "--death-timeout", "60",
                                "--local-directory", str(work / "scratch")],
                               work / f"{name}.log", cwd=work))
        with Client(address(), timeout="60s") as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT)
            yield SimpleNamespace(address=address(), client=client)
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in sorted(work.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}")


#: Whether this is glibc's Linux, where a worker can be told to keep freed memory.
GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def by_name(client: Client, states: dict[str, dict]) -> dict[str, dict]:
    """Per-worker answers of ``client.run`` keyed by the workers' names."""
    names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
    return {names[a]: s for a, s in states.items()}


def experiment(folder: Path) -> Path:
    """Six runs of eight weeks of the baseline: three tension levels, two replications."""
    return write_experiment(folder, {
        "name": "dask-tiny",
        "scenario": str(SCENARIOS / "baseline.yaml"),
        "design": "grid",
        "factors": {"relations.tension": {"values": [0.1, 0.3, 0.6]}},
        "replications": 2,
        "steps": 8,
        "seed": 11,
        "timeseries": True,
    })


@pytest.mark.slow
def test_a_sweep_on_a_real_cluster_runs_on_warm_workers_and_gives_the_serial_rows(
        cluster, tmp_path):
    client = cluster.client
    # The preload warmed its worker before it registered; the other is still cold.
    before = by_name(client, client.run(warm_state))
    assert before["w-preload"]["by"] == "preload" and before["w-preload"]["seconds"] > 0
    assert before["w-preload"]["profiler_stopped"] is True
    assert before["w-preload"]["freed_memory_kept"] is GLIBC
    assert before["w-cold"]["by"] is None, before

    loaded = load_experiment(experiment(tmp_path))
    serial = run_sweep(loaded, tmp_path / "serial", executor="serial")
    result = run_sweep(loaded, tmp_path / "dask", executor="dask", scheduler=cluster.address)
    assert result.ran == serial.ran == 6 and result.failed == 0
    assert_same_results(tmp_path / "dask", tmp_path / "serial")

    # The executor registered its warm-up plugin, which warmed the cold worker and left
    # the preloaded one as the preload had made it.
    plugins = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    assert WarmUp.name in plugins
    after = by_name(client, client.run(warm_state))
    assert after["w-preload"] == before["w-preload"], after
    assert after["w-cold"]["by"] == "plugin" and after["w-cold"]["seconds"] > 0, after
    assert not after["w-cold"]["profiler_stopped"] and not after["w-cold"]["freed_memory_kept"]
    profiled = by_name(client, client.run(
        lambda dask_worker: sorted(set(dask_worker.periodic_callbacks) & {"profile"})))
    assert profiled == {"w-preload": [], "w-cold": ["profile"]}


def test_freed_memory_is_kept_only_where_dask_asked_to_trim_it(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert keep_freed_memory() is False
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert keep_freed_memory() is GLIBC
