"""Time ctsim's sweeps against Mesa's batch_run, across worker counts and executors.

Every measurement runs the same grid of CooperationModel runs: ``scenarios/baseline.yaml``,
two factors with three values each, eight replications, 104 weeks per run (72 runs; with
``--quick`` two values each, three replications and 52 weeks: 12 runs; with ``--large``
1,112 replications of 260 weeks, 10,008 runs, and no batch_run). The replications use
the seeds ``ctsim.runs.runner.replication_seeds(SEED, replications)``, so every configuration does
exactly the same runs, and the benchmark checks that they all return the same results.

Configurations:

* ``batch_run``: ``mesa.batch_run(CooperationModel, parameters={"scenario": [path],
  <factor>: [values]}, rng=seeds, max_steps=STEPS, number_processes=2,
  display_progress=False)``;
* ``process-2`` / ``process-1``: ``ctsim.runs.sweeps.run_sweep(load_experiment(file), out,
  executor="process", workers=2 or 1)`` on an experiment file written for the grid;
* ``dask-2``: the same with ``executor="dask"``, a LocalCluster of two single-threaded
  worker processes.

Each measurement runs in a fresh Python process, the sweep's "main process", as
``ctsim sweep`` would. In it, the call (``batch_run(...)`` or ``run_sweep(...)``) is timed with
``time.perf_counter``, so the time includes starting the workers (and the Dask cluster),
every run, and for ctsim writing and merging the Parquet files: a sweep as a user
experiences it, without the interpreter's start and the imports of the main process. The
time at which each result reaches the main process is recorded too (batch_run: every run,
through its progress bar; ctsim: every batch, through ``on_progress``), which gives

* runs/s: runs / the call's wall time (start-up included);
* first result: seconds from the call to the first result (mostly start-up);
* steady runs/s: runs finished after the first result / the time from the first result to
  the last (start-up left out; the tail, when one worker idles while another ends, kept).

Peak memory: a background thread of this benchmark process samples, every 50 ms, the
resident set size (RSS, psutil ``memory_info().rss``) of the main process and of all its
descendants (pool workers, the forkserver, Dask's worker processes, resource trackers; the
process list is refreshed every 0.5 s) and keeps the largest sum. RSS counts pages shared
between processes once per process, so the sum overstates the memory really used, most of
all for forked workers that share the preloaded modules with the forkserver. So the same
thread also reads, every 2 s (reading it costs about 10 ms per process), each process's
proportional set size (PSS, ``memory_full_info().pss``: every shared page divided among
the processes sharing it) and keeps the largest sum: the fairer figure for comparing a
forked pool with a spawned one, though coarser in time.

CPU time: the same thread also reads each process's user + system CPU time, so the table
gives the CPU seconds the whole sweep cost per run (start-up included). Unlike wall time it
depends little on what else runs on the machine, which makes it the steadier figure on a
shared machine.

Mesa's batch_run sets the multiprocessing start method to "spawn" globally
(``set_start_method("spawn", force=True)``); ctsim's process executor uses its own
forkserver context and Dask its own setting, so neither is affected by it, and here every
measurement has its own process anyway.

Measurements are interleaved (one of each configuration per round, the order rotated from
round to round) and the median over ``--repeats`` rounds (default 2) is reported. Beside
each measurement the benchmark reports how many CPU cores other programs on the machine
used meanwhile (system-wide busy CPU time, less the measured processes' and its own, over
the wall time): on a 2-core machine anything above about 0.1 means the figures are
disturbed.

Goals:

* (a) ctsim's process executor at least 1.25 times batch_run's runs/s (2 workers each);
* (b) parallel efficiency of the process executor, (runs/s with 2 workers) /
  (2 * runs/s with 1), at least 0.95;
* (c) the Dask executor's runs/s within 10% of the process executor's (ratio >= 0.90).

This is a benchmark, not a test: it asserts nothing about time and exits 0.

Run: ``.venv/bin/python benchmarks/bench_sweep.py [--quick | --large] [--repeats N]
[--json PATH]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_model

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
SEED = 7
SAMPLE_S = 0.05
REFRESH_S = 0.5
PSS_S = 2.0
MIB = 1024 * 1024

#: The grid: factor -> values. ``--quick`` keeps the first two values of each.
FACTORS: dict[str, list[Any]] = {
    "threat.detection_rate": [0.08, 0.12, 0.2],
    "relations.tension": [0.1, 0.3, 0.6],
}
FULL = {"replications": 8, "steps": 104}
QUICK = {"replications": 3, "steps": 52}
#: ``--large``: the same nine grid points, 1,112 replications of the baseline's 260 weeks
#: (10,008 runs), without batch_run: the goals (b) and (c) at a sweep's real size.
LARGE = {"replications": 1112, "steps": 260}
#: Metrics that both CooperationModel's DataCollector and ctsim's sweep report: the check
#: that every configuration did the same runs compares them.
CHECKED = ("plots", "attacks", "leaks", "disruption_rate")

LEGEND = (
    "wall s: the call, start-up included; runs/s: runs / wall s; first s: seconds to the first",
    "result; steady: runs/s from the first result to the last; CPU s/run: CPU time of the main",
    "process and its descendants per run; RSS MiB: largest sum of the RSS of the main process",
    "and its descendants (50 ms samples); PSS MiB: the same for PSS (2 s samples); main MiB:",
    "RSS of the main process alone; procs: processes in the tree; others: CPU cores other",
    "programs used meanwhile (about 0 on an idle machine).",
)

CONFIGS = ("batch_run", "process-2", "process-1", "dask-2")
GOAL_VS_BATCH_RUN = 1.25
GOAL_EFFICIENCY = 0.95
#: The efficiency goal at a sweep's real size (``--large``, 10,008 runs): 0.9 of the ideal.
GOAL_EFFICIENCY_LARGE = 0.90
GOAL_DASK = 0.90


# ---------------------------------------------------------------- the measured process


def _child(spec_path: str) -> None:
    """One measurement, in its own process: run the grid once, write timings and results."""
    spec = json.loads(Path(spec_path).read_text())
    kind, workers = spec["kind"], spec["workers"]
    seeds, steps = spec["seeds"], spec["steps"]
    marks: list[tuple[float, int]] = []
    rows: list[dict[str, Any]] = []
    if kind == "batch_run":
        import mesa
        import mesa.batchrunner

        from ctsim import CooperationModel
        class _Marks:
            """Stands in for batch_run's tqdm bar: stamps each result as it arrives."""

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                pass

            def __enter__(self) -> _Marks:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

            def update(self, n: int = 1) -> None:
                marks.append((time.perf_counter(), n))

        mesa.batchrunner.tqdm = _Marks  # type: ignore[attr-defined]
        parameters = {"scenario": [spec["scenario"]], **spec["factors"]}
        start = time.perf_counter()
        results = mesa.batch_run(
            CooperationModel,
            parameters=parameters,
            rng=seeds,
            max_steps=steps,
            number_processes=workers,
            display_progress=False,
        )
        end = time.perf_counter()
        for r in results:
            row = {k: r[k] for k in spec["factors"]} | {"seed": r["rng"], "steps": r["Step"]}
            rows.append(row | {m: float(r[m]) for m in CHECKED})
    else:
        from ctsim.runs.experiment import load_experiment
        from ctsim.runs.sweeps import run_sweep

        loaded = load_experiment(spec["experiment"])
        out = Path(spec["out"])
        start = time.perf_counter()
        res = run_sweep(
            loaded,
            out,
            executor=kind,
            workers=workers,
            # (0, 0) says the runs start; results are the calls with runs
            on_progress=lambda n, _f: n and marks.append((time.perf_counter(), n)),
        )
        end = time.perf_counter()
        for r in res.runs.to_dict("records"):
            row = {k: r[k] for k in spec["factors"]} | {"seed": int(r["seed"]), "steps": steps}
            rows.append(row | {m: float(r[m]) for m in CHECKED} | {"status": r["status"]})
        shutil.rmtree(out, ignore_errors=True)
    doc = {"seconds": end - start, "marks": [(t - start, n) for t, n in marks], "rows": rows}
    Path(spec["result"]).write_text(json.dumps(doc))


# ---------------------------------------------------------------- the benchmark process


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants every SAMPLE_S seconds."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.stop = threading.Event()
        self.peak_total = 0
        self.peak_main = 0
        self.max_procs = 0
        self.samples = 0
        self.cpu: dict[int, float] = {}  # pid -> latest user + system CPU seconds
        self.peak_pss = 0

    def run(self) -> None:
        ps = self.psutil
        procs: list = [self.root]
        refreshed = 0.0
        pss_at = time.monotonic()  # the first PSS sample after PSS_S, once workers exist
        while not self.stop.is_set():
            now = time.monotonic()
            if now - refreshed >= REFRESH_S:
                try:
                    procs = [self.root, *self.root.children(recursive=True)]
                except ps.Error:
                    return
                refreshed = now
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except ps.Error:
                    refreshed = 0.0  # a process ended: refresh the list next time
                    continue
                total += rss
                with contextlib.suppress(ps.Error):
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
                if p is self.root:
                    self.peak_main = max(self.peak_main, rss)
            self.peak_total = max(self.peak_total, total)
            if now - pss_at >= PSS_S:
                pss_at = now
                pss = 0
                for p in procs:
                    with contextlib.suppress(ps.Error):
                        pss += p.memory_full_info().pss
                self.peak_pss = max(self.peak_pss, pss)
            self.max_procs = max(self.max_procs, len(procs))
            self.samples += 1
            self.stop.wait(SAMPLE_S)


@dataclass
class Config:
    """One configuration and its measurements over the rounds."""

    name: str
    kind: str  # batch_run | process | dask
    workers: int
    seconds: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    steady: list[float] = field(default_factory=list)
    peak_total: list[int] = field(default_factory=list)
    peak_main: list[int] = field(default_factory=list)
    peak_pss: list[int] = field(default_factory=list)
    procs: list[int] = field(default_factory=list)
    others: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    marks: list[list] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    runs: int = 0

    @property
    def rate(self) -> float:
        return statistics.median(self.runs / s for s in self.seconds)

    @property
    def steady_rate(self) -> float:
        return statistics.median(self.steady)



def child_result(result: Path, code: int, name: str) -> tuple[dict, list, int, float, float]:
    """The measured child's result file, read and removed: its document, its progress
    marks (seconds, runs), the runs they count, the seconds to its first result and the
    steady rate after it (runs/s; NaN with one mark).

    Raises:
        RuntimeError: the child exited with a status other than 0.
    """
    if code != 0:
        raise RuntimeError(f"{name}: the measured process exited with status {code}")
    doc = json.loads(result.read_text())
    result.unlink()
    marks = doc["marks"]
    runs = sum(n for _t, n in marks)
    first, last = marks[0][0], marks[-1][0]
    steady = (runs - marks[0][1]) / (last - first) if last > first else float("nan")
    return doc, marks, runs, first, steady

def measure_once(cfg: Config, work: Path, grid: dict[str, Any]) -> str:
    """Run one configuration in a fresh process; record its figures; return a summary."""
    result = work / f"{cfg.name}.json"
    spec = {
        "kind": cfg.kind,
        "workers": cfg.workers,
        "seeds": grid["seeds"],
        "steps": grid["steps"],
        "factors": grid["factors"],
        "scenario": str(BASELINE),
        "experiment": str(grid["experiment"]),
        "out": str(work / f"out-{cfg.name}"),
        "result": str(result),
    }
    spec_path = work / f"{cfg.name}.spec.json"
    spec_path.write_text(json.dumps(spec))
    me = psutil.Process()
    busy0, mine0, wall0 = _busy_cpu(), _own_cpu(me), time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(spec_path)], cwd=ROOT
    )
    sampler = TreeSampler(child.pid)
    sampler.start()
    code = child.wait()
    sampler.stop.set()
    sampler.join()
    wall = time.perf_counter() - wall0
    others = (_busy_cpu() - busy0 - (_own_cpu(me) - mine0) - sum(sampler.cpu.values())) / wall
    doc, marks, runs, first, steady = child_result(result, code, cfg.name)
    cfg.runs = runs
    cfg.seconds.append(doc["seconds"])
    cfg.first.append(first)
    cfg.steady.append(steady)
    cfg.peak_total.append(sampler.peak_total)
    cfg.peak_main.append(sampler.peak_main)
    cfg.peak_pss.append(sampler.peak_pss)
    cfg.procs.append(sampler.max_procs)
    cfg.others.append(max(0.0, others))
    cfg.cpu.append(sum(sampler.cpu.values()))
    cfg.marks.append(marks)
    cfg.rows = doc["rows"]
    return (
        f"{cfg.name:<10} {doc['seconds']:6.2f} s  {runs / doc['seconds']:5.2f} runs/s  "
        f"first result {first:5.2f} s  steady {steady:5.2f} runs/s  "
        f"peak {sampler.peak_total / MIB:4.0f} MiB  other load {max(0.0, others):.2f} cores"
    )


def _busy_cpu() -> float:
    """CPU seconds the whole machine has spent busy (not idle or waiting) since boot."""
    t = psutil.cpu_times()
    return (
        sum(t)
        - t.idle
        - getattr(t, "iowait", 0.0)
        - getattr(t, "guest", 0.0)
        - getattr(t, "guest_nice", 0.0)
    )


def _own_cpu(me: psutil.Process) -> float:
    """CPU seconds of this benchmark process (the sampler thread, mostly)."""
    t = me.cpu_times()
    return t.user + t.system


def check_same_runs(configs: list[Config], factors: list[str]) -> str:
    """Whether every configuration returned the same runs with the same results."""

    def table(cfg: Config) -> dict[tuple, tuple]:
        return {
            (*(r[k] for k in factors), r["seed"]): tuple(r[m] for m in CHECKED) for r in cfg.rows
        }

    failed = [c.name for c in configs for r in c.rows if r.get("status", "ok") != "ok"]
    if failed:
        return f"runs failed in {', '.join(sorted(set(failed)))}"
    ref = table(configs[0])
    differ = [c.name for c in configs[1:] if table(c) != ref]
    if differ:
        return f"results differ from {configs[0].name} in {', '.join(differ)}"
    return (
        f"all {len(configs)} configurations returned the same {len(ref)} runs with "
        f"identical {', '.join(CHECKED)}"
    )


def environment() -> dict[str, Any]:
    """The machine and versions, with the sweep's own packages."""
    return bench_model.environment(
        ("ctsim", "mesa", "numpy", "pandas", "pyarrow", "dask", "distributed", "psutil"))


def write_grid(work: Path, quick: bool, large: bool = False) -> dict[str, Any]:
    """The grid's factors, seeds and steps, and the experiment file that declares it."""
    from ctsim.runs.seeds import replication_seeds

    size = QUICK if quick else LARGE if large else FULL
    factors = {k: (v[:2] if quick else v) for k, v in FACTORS.items()}
    lines = [
        "name: bench-sweep",
        f"scenario: {json.dumps(str(BASELINE))}",
        "design: grid",
        "factors:",
    ]
    lines += [f"  {k}: {{values: {json.dumps(v)}}}" for k, v in factors.items()]
    lines += [
        f"replications: {size['replications']}",
        f"steps: {size['steps']}",
        f"seed: {SEED}",
        "timeseries: false",
    ]
    experiment = work / "bench-sweep.yaml"
    experiment.write_text("\n".join(lines) + "\n")
    runs = size["replications"]
    for v in factors.values():
        runs *= len(v)
    return {
        "factors": factors,
        "seeds": replication_seeds(SEED, size["replications"]),
        "steps": size["steps"],
        "replications": size["replications"],
        "runs": runs,
        "experiment": experiment,
        "efficiency_goal": GOAL_EFFICIENCY_LARGE if large else GOAL_EFFICIENCY,
    }


def _verdict(ok: bool) -> str:
    return "meets the goal" if ok else "misses the goal"


def report(
    configs: dict[str, Config], env: dict[str, Any], grid: dict[str, Any], repeats: int, same: str
) -> dict[str, Any]:
    """Print the table and the goals; return the figures as a JSON-ready mapping."""
    print()
    print(
        f"Python {env['python']}, Mesa {env['mesa']}, ctsim {env['ctsim']} "
        f"(git {env['git']}), numpy {env['numpy']}, dask {env['dask']}, "
        f"distributed {env['distributed']}"
    )
    print(
        f"CPUs: {env['cpu_count']} (usable: {env['cpus_usable']}); load average at start "
        f"{env['load_average_at_start']}"
    )
    fact = " x ".join(f"{len(v)} {k}" for k, v in grid["factors"].items())
    print(
        f"Grid: baseline scenario, {fact}, {grid['replications']} replications, "
        f"{grid['steps']} weeks: {grid['runs']} runs. Median of {repeats} interleaved "
        "rounds, each measurement in a fresh process."
    )
    print()
    header = (
        f"{'configuration':<13} {'workers':>7} {'wall s':>7} {'runs/s':>7} {'first s':>7} "
        f"{'steady':>7} {'CPU s/run':>9} {'RSS MiB':>7} {'PSS MiB':>7} {'main MiB':>8} "
        f"{'procs':>5} "
        f"{'others':>6}"
    )
    print(header)
    print("-" * len(header))
    for c in configs.values():
        print(
            f"{c.name:<13} {c.workers:>7} {statistics.median(c.seconds):>7.2f} "
            f"{c.rate:>7.2f} {statistics.median(c.first):>7.2f} {c.steady_rate:>7.2f} "
            f"{statistics.median(c.cpu) / c.runs:>9.3f} "
            f"{statistics.median(c.peak_total) / MIB:>7.0f} "
            f"{statistics.median(c.peak_pss) / MIB:>7.0f} "
            f"{statistics.median(c.peak_main) / MIB:>8.0f} {max(c.procs):>5} "
            f"{statistics.median(c.others):>6.2f}"
        )
    print()
    for line in LEGEND:
        print(line)
    print()
    b = configs.get("batch_run")
    p2, p1, d2 = (configs[k] for k in CONFIGS[1:])
    figures = {} if b is None else {
        "ctsim_vs_batch_run": (p2.rate / b.rate, p2.steady_rate / b.steady_rate, GOAL_VS_BATCH_RUN),
    }
    figures |= {
        "parallel_efficiency": (
            p2.rate / (2 * p1.rate),
            p2.steady_rate / (2 * p1.steady_rate),
            grid["efficiency_goal"],
        ),
        "dask_vs_process": (d2.rate / p2.rate, d2.steady_rate / p2.steady_rate, GOAL_DASK),
    }
    labels = {
        "ctsim_vs_batch_run": "(a) ctsim process-2 / batch_run runs/s",
        "parallel_efficiency": "(b) efficiency process-2 / (2 x process-1)",
        "dask_vs_process": "(c) dask-2 / process-2 runs/s",
    }
    for key, (value, steady, goal) in figures.items():
        print(
            f"{labels[key]:<46} {value:5.2f}  goal >= {goal:.2f}: {_verdict(value >= goal)}"
            f"  (steady state {steady:.2f})"
        )
    if b is not None:
        cpu_b, cpu_p = statistics.median(b.cpu) / b.runs, statistics.median(p2.cpu) / p2.runs
        print(
            f"CPU time per run (start-up included): batch_run {cpu_b:.3f} s, ctsim process-2 "
            f"{cpu_p:.3f} s (batch_run / ctsim {cpu_b / cpu_p:.2f})"
        )
        print(
            f"peak memory, RSS (PSS): batch_run {statistics.median(b.peak_total) / MIB:.0f} "
            f"({statistics.median(b.peak_pss) / MIB:.0f}) MiB, ctsim process-2 "
            f"{statistics.median(p2.peak_total) / MIB:.0f} "
            f"({statistics.median(p2.peak_pss) / MIB:.0f}) MiB"
        )
    print(f"same runs: {same}")
    return {
        "environment": env,
        "grid": {k: grid[k] for k in ("factors", "seeds", "steps", "replications", "runs")}
        | {"scenario": str(BASELINE.relative_to(ROOT))},
        "repeats": repeats,
        "timed": "the batch_run / run_sweep call in a fresh process: start-up, runs, and "
        "for ctsim writing Parquet; not the interpreter start or main imports",
        "memory": "peak over 50 ms samples of the summed RSS of the main process and all "
        "its descendants",
        "configurations": {
            c.name: {
                "kind": c.kind,
                "workers": c.workers,
                "runs": c.runs,
                "seconds": c.seconds,
                "runs_per_s": c.rate,
                "first_result_s": c.first,
                "steady_runs_per_s": c.steady,
                "steady_runs_per_s_median": c.steady_rate,
                "peak_rss_tree_bytes": c.peak_total,
                "peak_rss_main_bytes": c.peak_main,
                "peak_pss_tree_bytes": c.peak_pss,
                "max_processes": max(c.procs),
                "other_load_cores": c.others,
                "cpu_seconds": c.cpu,
                "result_times_s": c.marks,
            }
            for c in configs.values()
        },
        "figures": {
            k: {"value": v, "steady_state": s, "goal_at_least": g, "meets_goal": v >= g}
            for k, (v, s, g) in figures.items()
        },
        "same_runs": same,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a 12-run grid of 52 weeks, one round (a smoke test)"
    )
    parser.add_argument(
        "--large", action="store_true",
        help="10,008 runs of 260 weeks, one round, without batch_run: efficiency and Dask "
        "at a sweep's real size"
    )
    parser.add_argument("--repeats", type=int,
                        help="rounds (default 2; 1 with --quick or --large)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    parser.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    repeats = args.repeats or (1 if args.quick or args.large else 2)
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    env = environment()
    configs = {
        name: Config(name, name.split("-")[0], int(name.split("-")[1]) if "-" in name else 2)
        for name in CONFIGS
        if not (args.large and name == "batch_run")
    }
    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        grid = write_grid(work, args.quick, args.large)
        print(
            f"bench_sweep: {grid['runs']} runs of {grid['steps']} weeks per measurement, "
            f"{repeats} round(s)",
            flush=True,
        )
        order = list(configs.values())
        for r in range(repeats):
            rotated = order[r % len(order) :] + order[: r % len(order)]
            for c in rotated:
                print(f"  round {r + 1}/{repeats}  {measure_once(c, work, grid)}", flush=True)
        same = check_same_runs(order, list(grid["factors"]))
        figures = report(configs, env, grid, repeats, same)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json is not None:
        bench_model.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
