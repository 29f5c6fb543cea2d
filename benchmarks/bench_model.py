"""Time ctsim against Mesa's own BoltzmannWealth example, per step of one agent.

Four workloads, all in this one process:

* ``baseline``: ``scenarios/baseline.yaml`` as shipped (30 generated nations, 260 weeks);
* ``large``: the same scenario with ``world.nations=200`` and ``steps=520``;
* ``world``: ``scenarios/world/world.yaml`` (the 194 real states, INTERPOL and four
  regional hubs, 40 groups) with ``steps=520``;
* ``boltzmann``: Mesa's BoltzmannWealth example, 100 agents on a 10x10 grid, 125 steps.

Each timed run is what a user experiences as one run: model construction plus every step
(``time.perf_counter`` around both). Reading and validating the ctsim scenario file happens
once, before any timing, and the same frozen scenario object is reused; the Boltzmann
scenario object is built inside the timed region (it is a few attributes). Garbage
collection stays on, as in a real run.

Each workload runs once untimed as a warm-up (imports, caches, first allocations), then
``--repeats`` times. The repeats are interleaved (one run of each workload per round, the
order rotated from round to round) so that machine noise hits all three alike, and the
median is reported.

Figures: seconds per nation-step for ctsim (wall time / (nations * steps)), seconds per
agent-step for BoltzmannWealth (wall time / (agents * steps)), and the ratio
ctsim / Boltzmann. The goal is a ratio at or below 1: a ctsim nation-step, which does far
more than a Boltzmann agent-step, should cost no more than one.

This is a benchmark, not a test: it asserts nothing about time and exits 0.

Run: ``.venv/bin/python benchmarks/bench_model.py [--repeats 5] [--json PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

import ctsim
from ctsim import CooperationModel

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
WORLD = ROOT / "scenarios" / "world" / "world.yaml"
LARGE_OVERRIDES = {"world.nations": 200, "steps": 520}
WORLD_OVERRIDES = {"steps": 520}
BOLTZMANN_AGENTS = 100
BOLTZMANN_STEPS = 125
GOAL = 1.0  # ctsim seconds per nation-step / Boltzmann seconds per agent-step


@dataclass
class Workload:
    """One timed workload: a run function and the number of agent-steps it performs."""

    name: str
    label: str
    unit: str  # "nation-step" or "agent-step"
    agents: int
    steps: int
    run: Callable[[], None]
    times: list[float] = field(default_factory=list)

    @property
    def agent_steps(self) -> int:
        return self.agents * self.steps

    def timed(self) -> float:
        start = time.perf_counter()
        self.run()
        return time.perf_counter() - start

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def per_step(self) -> float:
        return self.median / self.agent_steps

    @property
    def best_per_step(self) -> float:
        return self.best / self.agent_steps


def ctsim_workload(name: str, label: str, overrides: dict[str, Any] | None, seed: int,
                   path: Path = BASELINE) -> Workload:
    """A ctsim run: construct CooperationModel from a loaded scenario, step it to the end."""
    scenario = ctsim.load_scenario(path, overrides)
    nations = len(scenario.nation_names())
    steps = scenario.steps

    def run() -> None:
        model = CooperationModel(scenario, rng=seed)
        for _ in range(steps):
            model.step()

    return Workload(name, label, "nation-step", nations, steps, run)


def boltzmann_workload(seed: int) -> Workload:
    """Mesa's BoltzmannWealth example: construct it, step it BOLTZMANN_STEPS times."""

    def run() -> None:
        model = BoltzmannWealth(
            BoltzmannScenario(n=BOLTZMANN_AGENTS, width=10, height=10, rng=seed)
        )
        for _ in range(BOLTZMANN_STEPS):
            model.step()

    label = f"Mesa BoltzmannWealth ({BOLTZMANN_AGENTS} agents, {BOLTZMANN_STEPS} steps)"
    return Workload("boltzmann", label, "agent-step", BOLTZMANN_AGENTS, BOLTZMANN_STEPS, run)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
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


def measure(workloads: list[Workload], repeats: int) -> None:
    """Warm up each workload once, then run ``repeats`` interleaved, rotated rounds."""
    for w in workloads:
        print(f"  warm-up  {w.name:<10} {w.timed():8.3f} s", flush=True)
    k = len(workloads)
    for r in range(repeats):
        order = workloads[r % k :] + workloads[: r % k]
        cells = []
        for w in order:
            t = w.timed()
            w.times.append(t)
            cells.append(f"{w.name} {t:.3f} s")
        print(f"  round {r + 1}/{repeats}  " + "  ".join(cells), flush=True)


def report(workloads: list[Workload], env: dict[str, Any], repeats: int) -> dict[str, Any]:
    """Print the figures and return them as a JSON-ready mapping."""
    boltz = next(w for w in workloads if w.name == "boltzmann")
    print()
    print(
        f"Python {env['python']} ({env['implementation']}), numpy {env['numpy']}, "
        f"Mesa {env['mesa']}, ctsim {env['ctsim']} (git {env['git']})"
    )
    print(f"CPUs: {env['cpu_count']} (usable by this process: {env['cpus_usable']})")
    print(f"Timed: model construction + all steps; median of {repeats} interleaved repeats.")
    print()
    header = (
        f"{'workload':<46} {'agents':>6} {'steps':>5} {'median s':>9} {'min s':>7} "
        f"{'s per step':>10}"
    )
    print(header)
    print("-" * len(header))
    for w in workloads:
        print(
            f"{w.label:<46} {w.agents:>6} {w.steps:>5} {w.median:>9.3f} {w.best:>7.3f} "
            f"{w.per_step:>10.3e}  per {w.unit}"
        )
    print()
    print("s per step is the median run time / (agents * steps).")
    print(f"Goal: ctsim s/nation-step / Boltzmann s/agent-step <= {GOAL:g} (ratio of medians)")
    ratios: dict[str, tuple[float, float, float]] = {}
    for w in workloads:
        if w is boltz:
            continue
        ratio = w.per_step / boltz.per_step
        best_ratio = w.best_per_step / boltz.best_per_step
        # Paired by round: each round ran every workload close together in time, so the
        # median of the per-round ratios is the figure least moved by machine noise.
        paired = statistics.median(
            (a / w.agent_steps) / (b / boltz.agent_steps)
            for a, b in zip(w.times, boltz.times, strict=True)
        )
        ratios[w.name] = (ratio, best_ratio, paired)
        verdict = "meets the goal" if ratio <= GOAL else "above the goal"
        print(
            f"  ratio {w.name:<10} {ratio:6.2f}  ({verdict}; "
            f"ratio of the fastest runs {best_ratio:.2f}; median of per-round ratios "
            f"{paired:.2f})"
        )
    return {
        "environment": env,
        "repeats": repeats,
        "timed": "model construction + all steps (scenario file loaded once, untimed)",
        "goal": {"ratio_at_most": GOAL},
        "workloads": {
            w.name: {
                "label": w.label,
                "unit": w.unit,
                "agents": w.agents,
                "steps": w.steps,
                "times_s": w.times,
                "median_s": w.median,
                "min_s": w.best,
                "seconds_per_step": w.per_step,
                "seconds_per_step_min": w.best_per_step,
            }
            for w in workloads
        },
        "ratios": {
            name: {"ratio": ratio, "ratio_of_fastest": best, "median_round_ratio": paired,
                   "meets_goal": ratio <= GOAL}
            for name, (ratio, best, paired) in ratios.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs of each workload (default 5)"
    )
    parser.add_argument("--seed", type=int, default=1, help="model seed, the same every run")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    workloads = [
        ctsim_workload("baseline", "ctsim baseline (scenarios/baseline.yaml)", None, args.seed),
        ctsim_workload(
            "large",
            f"ctsim baseline, {LARGE_OVERRIDES['world.nations']} nations, "
            f"{LARGE_OVERRIDES['steps']} weeks",
            LARGE_OVERRIDES,
            args.seed,
        ),
        ctsim_workload("world", "ctsim world (scenarios/world/world.yaml), 520 weeks",
                       WORLD_OVERRIDES, args.seed, WORLD),
        boltzmann_workload(args.seed),
    ]
    env = environment()
    print(f"bench_model: {args.repeats} repeats, seed {args.seed}", flush=True)
    measure(workloads, args.repeats)
    figures = report(workloads, env, args.repeats)
    if args.json is not None:
        write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
