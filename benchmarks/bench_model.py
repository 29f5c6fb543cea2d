"""Time ctsim's model against its previous implementation and Mesa's BoltzmannWealth.

Each implementation runs in its own process (``benchmarks/bench_worker.py``): the current
checkout, and with ``--against REV`` the ctsim of commit ``REV``, exported with ``git
archive`` into a temporary folder (its own scenarios beside it). Both workers import,
load their scenarios and warm every workload up (the compiled core loads its cache or
compiles), then the parent asks them for one run at a time, **interleaved**: each round
runs every workload on every implementation, in an order rotated from round to round, so
that the machine's noise hits all of them alike. Medians are reported, with the ratio of
the two implementations' medians and the median of the per-round ratios.

Workloads (construction plus every week, the way a sweep makes a run):

* ``baseline``: ``scenarios/baseline.yaml`` as shipped (30 generated nations, 260 weeks);
* ``world``: ``scenarios/world/world.yaml`` (194 real states, 40 groups, five hubs),
  ``steps=520``;
* ``step``: 260 calls of ``model.step()`` at 30 nations (Mesa's interface, with the
  DataCollector recording every week), reported per week;
* ``boltzmann``: Mesa's BoltzmannWealth example, 100 agents on a 10x10 grid, 125 steps.

Memory: each worker's peak resident memory after its warm-up runs, less its resident memory
after imports and loading the scenarios (one run of each workload, the world run the largest).

Goals (issue "the core as a compiled week"): baseline run <= 10 ms, world run <= 60 ms,
``step()`` <= 100 us per week, memory of a run < 100 MiB above the interpreter. This is a
benchmark, not a test: it asserts nothing about time and exits 0.

Run: ``.venv/bin/python benchmarks/bench_model.py [--repeats 9] [--against 8ff841e]
[--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "bench_worker.py"
WORKLOADS = ("baseline", "world", "step", "boltzmann")
GOALS = {"baseline": 0.010, "world": 0.060, "step": 100e-6}  # seconds (step: per week)
STEP_WEEKS = 260
BOLTZMANN_AGENT_STEPS = 100 * 125
NATION_WEEKS = {"baseline": 30 * 260, "world": 194 * 520, "step": 30 * 260}


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def git_revision() -> str:
    """The commit measured, with ``+dirty`` when ctsim/ has uncommitted changes."""
    try:
        rev = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--", "ctsim")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def environment(packages: tuple[str, ...] = ("numpy", "mesa", "ctsim")) -> dict[str, Any]:
    """The machine and versions a measurement was made with (shared by the benchmarks)."""
    from importlib.metadata import PackageNotFoundError, version

    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    versions = {}
    for pkg in packages:
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        **versions,
        "git": git_revision(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def write_json(path: Path, figures: dict[str, Any]) -> None:
    """Write a benchmark's figures to ``path`` as indented JSON (shared by the benchmarks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")


class Worker:
    """One implementation in its own process (bench_worker.py), answering run requests."""

    def __init__(self, label: str, source: Path):
        self.label = label
        env = {**os.environ, "PYTHONPATH": str(source)}
        self.proc = subprocess.Popen([sys.executable, str(WORKER), str(source)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self._read().split()
        if not ready or ready[0] != "ready":
            raise SystemExit(f"error: the {label} worker did not start")
        self.memory_mib = float(ready[2]) - float(ready[1])
        self.times: dict[str, list[float]] = {w: [] for w in WORKLOADS}

    def _read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def run(self, workload: str) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(workload + "\n")
        self.proc.stdin.flush()
        seconds = float(self._read())
        self.times[workload].append(seconds)
        return seconds

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)

    def median(self, workload: str) -> float:
        return statistics.median(self.times[workload])


def export(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` written into ``into`` (ctsim/ and scenarios/)."""
    archive = subprocess.run(["git", "archive", rev, "ctsim", "scenarios"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(workers: list[Worker], repeats: int) -> None:
    """``repeats`` rounds; each runs every workload on every worker, the order rotated."""
    jobs = [(w, name) for name in WORKLOADS for w in workers]
    for r in range(repeats):
        order = jobs[r % len(jobs):] + jobs[: r % len(jobs)]
        for worker, name in order:
            worker.run(name)
        cells = "  ".join(f"{w.label[:8]}:{n}={w.times[n][-1] * 1e3:.1f}ms" for w, n in jobs)
        print(f"  round {r + 1:2d}  {cells}", flush=True)


def _per(name: str, seconds: float) -> float:
    return seconds / STEP_WEEKS if name == "step" else seconds


def report(workers: list[Worker], env: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Print the medians, goals and ratios; return them for --json."""
    print(f"\nctsim model benchmark, {repeats} interleaved rounds, {env['date']}")
    print(f"  {env['implementation']} {env['python']}, numpy {env['numpy']}, "
          f"numba {env['numba']}, Mesa {env['mesa']}, {env['cpus_usable']} CPUs, "
          f"commit {env['git']}")
    figures: dict[str, Any] = {"environment": env, "repeats": repeats, "workers": {}}
    for w in workers:
        med = {n: w.median(n) for n in WORKLOADS}
        boltz = med["boltzmann"] / BOLTZMANN_AGENT_STEPS
        figures["workers"][w.label] = {
            "times": w.times, "median": med, "memory_mib": w.memory_mib,
            "per_nation_week_over_boltzmann_agent_step": {
                n: (med[n] / NATION_WEEKS[n]) / boltz for n in NATION_WEEKS},
        }
        print(f"\n  {w.label}")
        for n in WORKLOADS:
            unit = "us a week" if n == "step" else "ms a run"
            scale = 1e6 if n == "step" else 1e3
            goal = GOALS.get(n)
            mark = "" if goal is None else (
                f"  goal <= {goal * scale:g}: {'met' if _per(n, med[n]) <= goal else 'NOT met'}")
            print(f"    {n:<10} median {_per(n, med[n]) * scale:9.2f} {unit}"
                  f"  (fastest {_per(n, min(w.times[n])) * scale:.2f}){mark}")
        print(f"    memory     {w.memory_mib:9.1f} MiB above the interpreter (goal < 100)")
        print("    seconds per nation-week / Boltzmann seconds per agent-step: " + ", ".join(
            f"{n} {v:.2f}" for n, v in
            figures["workers"][w.label]["per_nation_week_over_boltzmann_agent_step"].items()))
    if len(workers) == 2:
        new, old = workers
        figures["speedup"] = {}
        print(f"\n  {old.label} / {new.label} (how many times faster the current code is)")
        for n in WORKLOADS[:3]:
            ratio = old.median(n) / new.median(n)
            per_round = statistics.median(
                o / c for o, c in zip(old.times[n], new.times[n], strict=True))
            figures["speedup"][n] = {"of_medians": ratio, "median_per_round": per_round}
            print(f"    {n:<10} {ratio:7.1f}x (median of per-round ratios {per_round:.1f}x)")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds (9)")
    parser.add_argument("--against", metavar="REV",
                        help="also measure the ctsim of commit REV, side by side")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    env = environment(("numpy", "numba", "mesa", "ctsim"))
    with tempfile.TemporaryDirectory(prefix="ctsim-bench-") as tmp:
        print("starting the workers (imports, scenarios, one warm-up run of each workload)")
        workers = [Worker(f"current ({env['git']})", ROOT)]
        if args.against:
            workers.append(Worker(f"previous ({args.against})", export(args.against, Path(tmp))))
        try:
            measure(workers, args.repeats)
        finally:
            for w in workers:
                w.close()
        figures = report(workers, env, args.repeats)
    if args.json is not None:
        write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
