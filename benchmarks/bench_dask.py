"""Time a sweep on a real Dask cluster against the process pool, on the same design.

The cluster is what a user starts on a cluster of machines, here on 127.0.0.1: one
``dask scheduler`` process and ``--workers`` (default 2) ``dask worker --nthreads 1
--nworkers 1 --preload ctsim.runs.dask_preload`` processes, each in a process group of
its own (in the benchmark's session: see :class:`Cluster`), on ports the system picks
(the scheduler's address comes from its ``--scheduler-file``), with every web server on
127.0.0.1 and no dashboard. The benchmark waits until every worker has registered (the
preload warms a worker before it registers) and records how each was warmed
(:func:`ctsim.runs.dask_preload.warm_state`).

The design: the shipped ``ctsim/experiments/sobol_all.yaml`` (the baseline scenario, 48
factors, one run of 156 weeks a point) with ``samples`` set to ``--samples`` (default 400:
400 x 50 = 20,000 runs), written to a temporary folder. Each round runs it

* ``process-2``: ``ctsim.runs.sweeps.run_sweep(loaded, out, executor="process",
  workers=2)``, the default ``ctsim sweep``;
* ``dask-N``: ``run_sweep(loaded, out, executor="dask", scheduler=address)`` on a cluster
  started for the round (its start-up, from starting the scheduler to the last worker
  registered, timed on its own) and stopped after it;

each call in a fresh Python process (the sweep's "main process"), timed there with
``time.perf_counter`` from the call to its return: starting or connecting to the workers,
planning, every run, storing and merging. The rounds are interleaved, the order rotated
from round to round, and medians over ``--repeats`` rounds (default 2) are reported:

* runs/s: runs / the call's wall time; for Dask also with the cluster's start-up added
  (a cluster is usually up before a sweep, so the figure without it is the one to hold
  Dask to);
* first s: seconds from the call to the first stored batch;
* steady runs/s: the runs after the first batch / the time from the first batch to the
  last;
* CPU ms/run: the CPU time of the main process and its descendants (for Dask also the
  scheduler's and the workers' processes, nannies included) per run, and the same by
  process: ``main`` (the sweep's process), ``pool`` (the process pool's workers and
  forkserver), ``scheduler``, ``nannies`` and ``workers`` (the cluster's);
* others: CPU cores that other programs used meanwhile (about 0 on an idle machine; on a
  2-core machine anything above about 0.1 disturbs the figures), with the load average
  (``os.getloadavg``, what ``uptime`` shows) at the start and the end.

Goal (issue 27): Dask's runs/s at least 0.90 of the process pool's on the same design.
This is a benchmark, not a test: it asserts nothing about time. It checks that every
measurement wrote the same ``runs.parquet`` (every column, exactly) and exits 1 when not.
Every process it started is stopped at the end, also on Ctrl-C, SIGTERM or an error.

Run: ``.venv/bin/python benchmarks/bench_dask.py [--samples 400] [--workers 2]
[--repeats 2] [--no-preload] [--json PATH]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_model
from bench_sweep import TreeSampler, _busy_cpu, _own_cpu, child_result

ROOT = Path(__file__).resolve().parent.parent
SOBOL = ROOT / "ctsim" / "experiments" / "sobol_all.yaml"
DASK = str(Path(sys.executable).parent / "dask")
PRELOAD = "ctsim.runs.dask_preload"
GOAL_DASK = 0.90
#: Seconds to wait for the scheduler and every worker to be up (a worker whose compiled
#: weeks are not cached yet compiles them first: about a minute).
START_TIMEOUT = 300.0
PROCESS_WORKERS = 2


# ---------------------------------------------------------------- the measured process


def _child(spec_path: str) -> None:
    """One measurement, in its own process: run the sweep once, write its timings."""
    import warnings

    from ctsim.runs.experiment import load_experiment
    from ctsim.runs.sweeps import run_sweep

    spec = json.loads(Path(spec_path).read_text())
    # Sobol' points lose their balance when the base sample is no power of two (the
    # sampler warns): no matter for timing.
    warnings.filterwarnings("ignore", message=".*power of 2")
    loaded = load_experiment(spec["experiment"])
    marks: list[tuple[float, int]] = []
    start = time.perf_counter()
    run_sweep(loaded, Path(spec["out"]), executor=spec["kind"], workers=spec["workers"],
              scheduler=spec["scheduler"],
              # (0, 0) says the runs start; results are the calls with runs
              on_progress=lambda n, _f: n and marks.append((time.perf_counter(), n)))
    end = time.perf_counter()
    doc = {"seconds": end - start, "marks": [(t - start, n) for t, n in marks]}
    Path(spec["result"]).write_text(json.dumps(doc))


# ---------------------------------------------------------------- the cluster


class Cluster:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1.

    Each process is started in a process group of its own (Ctrl-C at the terminal reaches
    the benchmark alone) and stopped with that group (:meth:`stop`: SIGTERM, then SIGKILL
    after ``grace`` seconds), which takes a worker's nanny and the worker process it
    started. They stay in the benchmark's session: where Linux groups processes by session
    for scheduling (``/proc/sys/kernel/sched_autogroup_enabled``), processes in sessions
    of their own would each get as large a share of a busy machine as a whole other
    session, and Dask's workers would beat the process pool's for the cores.
    """

    def __init__(self, work: Path, workers: int, preload: bool = True):
        self.work = work
        self.workers = workers
        self.preload = preload
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.address = ""
        self.warm: dict[str, Any] = {}

    def _start(self, args: list[str], name: str) -> None:
        log = self.work / f"{name}.log"
        with open(log, "wb") as fh:  # the child keeps its own descriptor
            self.procs.append(subprocess.Popen(
                args, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.work, process_group=0))
        self.logs.append(log)

    def _check_alive(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{log.stem} exited with status {proc.returncode}:\n{tail}")

    def start(self) -> float:
        """Start the scheduler, then the workers; wait until every worker has registered.

        Returns the seconds from starting the scheduler to the last worker registered.
        """
        from dask.distributed import Client

        scratch = self.work / "dask-scratch"
        file = self.work / "scheduler.json"
        file.unlink(missing_ok=True)
        local = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
        t0 = time.perf_counter()
        self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", *local,
                     "--scheduler-file", str(file)], "scheduler")
        deadline = time.monotonic() + START_TIMEOUT
        while not self.address:
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("the scheduler did not write its address in time")
            with contextlib.suppress(OSError, ValueError, KeyError):
                self.address = json.loads(file.read_text())["address"]
            time.sleep(0.02)
        preload = ["--preload", PRELOAD] if self.preload else []
        for i in range(self.workers):
            self._start([DASK, "worker", self.address, "--host", "127.0.0.1", "--nthreads",
                         "1", "--nworkers", "1", "--name", f"w{i}", *local, *preload,
                         "--death-timeout", "60", "--local-directory", str(scratch)],
                        f"worker{i}")
        with Client(self.address, timeout="60s") as client:
            while len(client.scheduler_info()["workers"]) < self.workers:
                self._check_alive()
                if time.monotonic() > deadline:
                    raise RuntimeError("the workers did not register in time")
                time.sleep(0.02)
            seconds = time.perf_counter() - t0
            from ctsim.runs.dask_preload import warm_state

            self.warm = client.run(warm_state)
        return seconds

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) the cluster's processes have used so far, by role:
        ``scheduler``, ``nannies`` (the ``dask worker`` processes) and ``workers`` (the
        worker processes each nanny started, with anything they started)."""
        out = dict.fromkeys(("scheduler", "nannies", "workers"), 0.0)
        for i, proc in enumerate(self.procs):
            with contextlib.suppress(psutil.Error):
                leader = psutil.Process(proc.pid)
                for p in [leader, *leader.children(recursive=True)]:
                    role = "scheduler" if i == 0 else "nannies" if p is leader else "workers"
                    with contextlib.suppress(psutil.Error):
                        t = p.cpu_times()
                        out[role] += t.user + t.system
        return out

    def stop(self, grace: float = 10.0) -> None:
        """Stop every process this cluster started, with their process groups: SIGTERM,
        then SIGKILL to each group once its leader has exited or ``grace`` seconds passed.
        A leader is reaped only after that last signal, so its group id is still ours."""
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        end = time.monotonic() + grace
        for proc in reversed(self.procs):
            while not _exited(proc.pid) and time.monotonic() < end:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # what is left (a nanny's worker)
            proc.wait()
        self.procs.clear()


def _exited(pid: int) -> bool:
    """Whether our child ``pid`` has exited, without reaping it (its id stays ours)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


# ---------------------------------------------------------------- the benchmark process


@dataclass
class Config:
    """One configuration and its measurements over the rounds."""

    name: str
    kind: str  # process | dask
    workers: int
    seconds: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    steady: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    cpu_roles: list[dict[str, float]] = field(default_factory=list)
    others: list[float] = field(default_factory=list)
    cluster_start: list[float] = field(default_factory=list)
    warm: list[dict[str, Any]] = field(default_factory=list)
    marks: list[list] = field(default_factory=list)
    runs: int = 0

    def rate(self, with_start: bool = False) -> float:
        """Median runs/s (``with_start``: the cluster's start-up added to each call)."""
        starts = self.cluster_start if with_start else [0.0] * len(self.seconds)
        return statistics.median(self.runs / (s + c)
                                 for s, c in zip(self.seconds, starts, strict=True))

    @property
    def steady_rate(self) -> float:
        return statistics.median(self.steady)


def write_design(work: Path, samples: int) -> tuple[Path, int]:
    """sobol_all.yaml with ``samples`` base samples, written to ``work``; (file, runs)."""
    doc = yaml.safe_load(SOBOL.read_text(encoding="utf-8"))
    doc["name"] = "bench-dask"
    doc["samples"] = samples
    doc["scenario"] = str((SOBOL.parent / doc["scenario"]).resolve())
    path = work / "bench-dask.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path, samples * (len(doc["factors"]) + 2) * doc.get("replications", 1)


def measure_once(cfg: Config, work: Path, experiment: Path, cluster: Cluster | None) -> Path:
    """Run one sweep in a fresh process and record its figures; returns its output folder."""
    out = work / f"out-{cfg.name}"
    shutil.rmtree(out, ignore_errors=True)
    result = work / f"{cfg.name}.json"
    spec = {"kind": cfg.kind, "workers": cfg.workers, "experiment": str(experiment),
            "scheduler": cluster.address if cluster else None, "out": str(out),
            "result": str(result)}
    spec_path = work / f"{cfg.name}.spec.json"
    spec_path.write_text(json.dumps(spec))
    me = psutil.Process()
    cluster0 = cluster.cpu() if cluster else {}
    busy0, mine0, wall0 = _busy_cpu(), _own_cpu(me), time.perf_counter()
    child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child",
                              str(spec_path)], cwd=ROOT)
    try:
        sampler = TreeSampler(child.pid)
        sampler.start()
        code = child.wait()
        sampler.stop.set()
        sampler.join()
    finally:
        if child.poll() is None:  # interrupted here: the sweep stops its own workers
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    wall = time.perf_counter() - wall0
    # CPU seconds by role: the sweep's main process, the process pool (its workers and
    # forkserver), and for Dask the cluster's processes.
    roles = {"main": sampler.cpu.get(child.pid, 0.0),
             "pool": sum(t for pid, t in sampler.cpu.items() if pid != child.pid)}
    if cluster is not None:
        roles |= {k: v - cluster0[k] for k, v in cluster.cpu().items()}
    used = sum(roles.values())
    others = (_busy_cpu() - busy0 - (_own_cpu(me) - mine0) - used) / wall
    doc, marks, runs, first, steady = child_result(result, code, cfg.name)
    cfg.runs = runs
    cfg.seconds.append(doc["seconds"])
    cfg.first.append(first)
    cfg.steady.append(steady)
    cfg.cpu.append(used)
    cfg.cpu_roles.append(roles)
    cfg.others.append(max(0.0, others))
    cfg.marks.append(marks)
    return out


def summary(cfg: Config) -> str:
    """One measurement's line (the last one recorded)."""
    s, runs = cfg.seconds[-1], cfg.runs
    text = (f"{cfg.name:<10} {s:6.2f} s  {runs / s:6.1f} runs/s  first result "
            f"{cfg.first[-1]:5.2f} s  steady {cfg.steady[-1]:6.1f} runs/s  "
            f"CPU {cfg.cpu[-1] / runs * 1e3:5.2f} ms/run ({roles(cfg.cpu_roles[-1], runs)})  "
            f"other load {cfg.others[-1]:.2f} cores")
    if cfg.cluster_start:
        text += f"  (cluster start-up {cfg.cluster_start[-1]:.2f} s)"
    return text


def roles(seconds: dict[str, float], runs: int) -> str:
    """CPU milliseconds per run by process role, the roles that used any."""
    return ", ".join(f"{k} {v / runs * 1e3:.2f}" for k, v in seconds.items() if v > 0)


def same_runs(got: Path, reference: Path) -> bool:
    """Whether two sweeps wrote the same ``runs.parquet``: every column, exactly."""
    import pandas as pd

    a, b = pd.read_parquet(got / "runs.parquet"), pd.read_parquet(reference / "runs.parquet")
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return bool((a["status"] == "ok").all())


def load() -> list[float]:
    """The load average over 1, 5 and 15 minutes (what ``uptime`` shows)."""
    return [round(x, 2) for x in os.getloadavg()]


def report(process: Config, dask: Config, env: dict[str, Any], design: dict[str, Any],
           repeats: int, same: str, loads: dict[str, list[float]]) -> dict[str, Any]:
    """Print the table and the ratios; return the figures as a JSON-ready mapping."""
    print()
    print(f"Python {env['python']}, ctsim {env['ctsim']} (git {env['git']}), numpy "
          f"{env['numpy']}, dask {env['dask']}, distributed {env['distributed']}")
    print(f"CPUs: {env['cpu_count']} (usable: {env['cpus_usable']}); load average at start "
          f"{loads['start']}, at end {loads['end']}")
    print(f"Design: sobol_all.yaml with {design['samples']} base samples: {design['runs']} "
          f"runs of {design['steps']} weeks. Median of {repeats} interleaved rounds, each "
          "sweep in a fresh process.")
    print()
    header = (f"{'configuration':<24} {'wall s':>7} {'runs/s':>7} {'first s':>7} "
              f"{'steady':>7} {'CPU ms/run':>10} {'others':>6}")
    print(header)
    print("-" * len(header))
    start = statistics.median(dask.cluster_start)
    rows = [(process.name, process, 0.0), (dask.name, dask, 0.0),
            (f"{dask.name} + cluster start", dask, start)]
    for label, c, extra in rows:
        print(f"{label:<24} {statistics.median(c.seconds) + extra:>7.2f} "
              f"{c.rate(extra > 0):>7.1f} {statistics.median(c.first) + extra:>7.2f} "
              f"{c.steady_rate:>7.1f} {statistics.median(c.cpu) / c.runs * 1e3:>10.2f} "
              f"{statistics.median(c.others):>6.2f}")
    print()
    for c in (process, dask):
        median = {k: statistics.median(r[k] for r in c.cpu_roles) for k in c.cpu_roles[0]}
        print(f"CPU ms/run by process, {c.name}: {roles(median, c.runs)}")
    print("(main: the sweep's process; pool: the process pool's workers and forkserver; "
          "scheduler, nannies, workers: the Dask cluster's processes)")
    how = "warmed by the preload and registered" if design["preload"] else "registered, cold"
    print(f"cluster start-up (scheduler, {dask.workers} workers {how}): {start:.2f} s median "
          f"({', '.join(f'{s:.2f}' for s in dask.cluster_start)})")
    states = [s for w in dask.warm for s in w.values()]
    print("the workers' warm-up: " + ", ".join(sorted({
        f"{s['by'] or 'none before the sweep'}"
        + (", profiler stopped" if s["profiler_stopped"] else "")
        + (", freed memory kept" if s["freed_memory_kept"] else "") for s in states}))
        + f" ({statistics.median(s['seconds'] for s in states):.2f} s median)")
    ratios = {
        "cluster_up": dask.rate() / process.rate(),
        "with_cluster_start": dask.rate(True) / process.rate(),
        "steady_state": dask.steady_rate / process.steady_rate,
    }
    labels = {"cluster_up": "the cluster already up",
              "with_cluster_start": "the cluster's start-up included",
              "steady_state": "steady state (after the first batch)"}
    for key, value in ratios.items():
        verdict = "meets" if value >= GOAL_DASK else "misses"
        print(f"dask / process runs/s, {labels[key]:<38} {value:5.2f}  "
              f"(goal >= {GOAL_DASK:.2f}: {verdict})")
    print(f"same runs: {same}")
    return {
        "environment": env,
        "design": design,
        "repeats": repeats,
        "load_average": loads,
        "timed": "the run_sweep call in a fresh process: start-up, runs, storing and merging; "
                 "not the interpreter start, the imports or (for Dask) the cluster's start",
        "configurations": {
            c.name: {"kind": c.kind, "workers": c.workers, "runs": c.runs,
                     "seconds": c.seconds, "runs_per_s": c.rate(),
                     "first_result_s": c.first, "steady_runs_per_s": c.steady,
                     "steady_runs_per_s_median": c.steady_rate, "cpu_seconds": c.cpu,
                     "cpu_seconds_by_process": c.cpu_roles,
                     "other_load_cores": c.others, "result_times_s": c.marks}
            | ({"cluster_start_s": c.cluster_start, "runs_per_s_with_cluster_start":
                c.rate(True), "warm_state": c.warm} if c.kind == "dask" else {})
            for c in (process, dask)
        },
        "dask_vs_process": {k: {"value": v, "goal_at_least": GOAL_DASK,
                                "meets_goal": v >= GOAL_DASK} for k, v in ratios.items()},
        "same_runs": same,
    }


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM ends the benchmark as Ctrl-C does: through the clean-up of :func:`main`."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=400,
                        help="Sobol' base samples: samples x 50 runs (default 400: 20,000)")
    parser.add_argument("--workers", type=int, default=2,
                        help="dask worker processes, one thread each (default 2)")
    parser.add_argument("--repeats", type=int, default=2, help="rounds (default 2)")
    parser.add_argument("--no-preload", action="store_true",
                        help="start the workers without the preload (the executor's plugin "
                             "then warms them as the sweep connects)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    if args.samples < 1 or args.workers < 1 or args.repeats < 1:
        parser.error("--samples, --workers and --repeats must be at least 1")
    if not Path(DASK).exists():
        parser.error(f"no dask command at {DASK}: pip install 'ctsim[dist]'")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    env = bench_model.environment(("ctsim", "numpy", "pandas", "dask", "distributed"))
    loads = {"start": load()}
    process = Config(f"process-{PROCESS_WORKERS}", "process", PROCESS_WORKERS)
    dask = Config(f"dask-{args.workers}", "dask", args.workers)
    work = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    cluster: Cluster | None = None
    reference: Path | None = None
    differ: list[str] = []
    try:
        experiment, runs = write_design(work, args.samples)
        print(f"bench_dask: {runs} runs per sweep, {args.repeats} round(s); load average "
              f"{loads['start']}", flush=True)
        for r in range(args.repeats):
            order = [process, dask] if r % 2 == 0 else [dask, process]
            for cfg in order:
                if cfg is dask:
                    cluster = Cluster(work, args.workers, preload=not args.no_preload)
                    dask.cluster_start.append(cluster.start())
                    dask.warm.append(cluster.warm)
                out = measure_once(cfg, work, experiment, cluster if cfg is dask else None)
                if cluster is not None:
                    cluster.stop()
                    cluster = None
                print(f"  round {r + 1}/{args.repeats}  {summary(cfg)}", flush=True)
                if reference is None:
                    reference = out.rename(work / "reference")
                else:
                    if not same_runs(out, reference):
                        differ.append(f"{cfg.name} (round {r + 1})")
                    shutil.rmtree(out, ignore_errors=True)
        loads["end"] = load()
        same = (f"every sweep wrote the same runs.parquet ({runs} runs, every column)"
                if not differ else f"runs.parquet differs in {', '.join(differ)}")
        design = {"experiment": str(SOBOL.relative_to(ROOT)), "samples": args.samples,
                  "runs": runs, "steps": yaml.safe_load(experiment.read_text())["steps"],
                  "preload": not args.no_preload}
        figures = report(process, dask, env, design, args.repeats, same, loads)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json is not None:
        bench_model.write_json(args.json, figures)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
