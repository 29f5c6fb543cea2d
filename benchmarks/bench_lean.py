"""A baseline run of ctsim against the lean kernel, in one process, interleaved.

Times, in rounds of ``--runs`` runs each (``--repeats`` rounds, each round's runs from
new seeds, the two sides' order swapped from round to round so that the machine's noise
hits both alike):

- **lean**: ``benchmarks/lean_kernel.py``'s ``run(seed, steps)``, one compiled call that
  draws the world from ``numpy.random.default_rng(seed)`` and runs every week;
- **ctsim**: a run the way one-process users and sweeps make it,
  ``Simulation(scenario, numpy.random.default_rng(seed))`` (the *set-up*: the world, the
  streams, the state), ``.run(steps)`` (the *weeks*), ``.metrics(...)`` of the same
  measures the kernel gives (plots, attacks, disrupted, disruption rate, leaks, foreign
  share) and freeing the Simulation (*teardown*: a loop of runs frees each run's tables
  and Generators, as the kernel frees its arrays inside its call).

Each run is timed on its own, twice over: wall-clock (``time.perf_counter``) and the
thread's CPU time (``time.thread_time``), which leaves out the time the process waits
while other programs run: on a shared machine a ctsim run, about three times longer than a
lean one, is more often cut by another program's time slice, so its wall-clock median is
inflated more than the lean kernel's. Both sides are warmed up first (the compiled code
loaded from numba's cache, or compiled). Reported, for each clock: the medians over every
run (milliseconds a run; the fastest in brackets), the ratio of ctsim's whole run to the
lean kernel's (goal: at most 1.5) from the medians and as the median of the rounds'
ratios, and the set-up's share of ctsim's whole run (goal: at most a quarter), with the
load average before and after.

Run: ``.venv/bin/python benchmarks/bench_lean.py [--repeats 7] [--runs 50] [--steps 260]
[--json PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The measures both sides give, as ctsim names them (ctsim.core.outputs).
MEASURES = ("plots", "attacks", "disrupted", "disruption_rate", "leaks", "foreign_share")
#: The goals of the issue: ctsim's whole run over the lean kernel's, and the set-up's share.
RATIO_GOAL, SETUP_GOAL = 1.5, 0.25
#: The two clocks every part is timed with: wall-clock, and the thread's CPU time.
CLOCKS = ("wall", "cpu")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--runs", type=int, default=50,
                        help="runs of each side per round (default 50)")
    parser.add_argument("--steps", type=int, default=260, help="weeks a run (default 260)")
    parser.add_argument("--seed", type=int, default=1_000_000,
                        help="the first seed; each run has its own (default 1000000)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="write every time, the medians and the environment here")
    return parser.parse_args(argv)


def _load() -> tuple[float, float, float]:
    """The load averages (1, 5, 15 minutes)."""
    return os.getloadavg()


def measure(repeats: int, runs: int, steps: int, first_seed: int) -> dict:
    """Every run's times in seconds, by clock (:data:`CLOCKS`), side and part, and each
    round's seeds and order."""
    import lean_kernel

    from ctsim.core.scenario import load_scenario
    from ctsim.core.simulation import Simulation

    scenario = load_scenario(lean_kernel.BASELINE)

    def now() -> tuple[float, float]:
        return time.perf_counter(), time.thread_time()

    def since(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
        return b[0] - a[0], b[1] - a[1]

    def lean(seed: int) -> tuple[float, float]:
        began = now()
        lean_kernel.run(seed, steps)
        return since(began, now())

    def ctsim(seed: int) -> tuple[tuple[float, float], ...]:
        began = now()
        sim = Simulation(scenario, np.random.default_rng(seed))
        built = now()
        sim.run(steps)
        ran = now()
        sim.metrics(MEASURES)
        measured = now()
        del sim  # its tables and Generators freed, as a loop of runs frees them
        return (since(began, built), since(built, ran), since(ran, measured),
                since(measured, now()))

    for seed in range(3):  # warm-up: the compiled code loaded (or compiled), caches filled
        lean(seed)
        ctsim(seed)
    out: dict = {clock: {"lean": [], "setup": [], "weeks": [], "metrics": [], "teardown": []}
                 for clock in CLOCKS}
    out["rounds"] = []
    for r in range(repeats):
        seeds = range(first_seed + r * runs, first_seed + (r + 1) * runs)
        lean_first = r % 2 == 0
        for side in (("lean", "ctsim") if lean_first else ("ctsim", "lean")):
            for seed in seeds:
                parts = {"lean": lean(seed)} if side == "lean" else dict(
                    zip(("setup", "weeks", "metrics", "teardown"), ctsim(seed), strict=True))
                for part, pair in parts.items():
                    for k, clock in enumerate(CLOCKS):
                        out[clock][part].append(pair[k])
        out["rounds"].append({"seeds": [seeds.start, seeds.stop - 1],
                              "first": "lean" if lean_first else "ctsim"})
    return out


def summary(times: dict, runs: int) -> dict:
    """Medians (ms), fastest (ms), the ratios and the set-up's share, overall and by round,
    of one clock's ``times`` (seconds by part: lean, setup, weeks, metrics, teardown)."""
    whole = [sum(parts) for parts in zip(times["setup"], times["weeks"], times["metrics"],
                                          times["teardown"], strict=True)]
    parts = {"lean": times["lean"], "ctsim": whole, "setup": times["setup"],
             "weeks": times["weeks"], "metrics": times["metrics"],
             "teardown": times["teardown"]}
    median = {k: 1e3 * statistics.median(v) for k, v in parts.items()}
    fastest = {k: 1e3 * min(v) for k, v in parts.items()}
    rounds = []
    for r in range(len(times["lean"]) // runs):
        cut = slice(r * runs, (r + 1) * runs)
        lean, ctsim = statistics.median(parts["lean"][cut]), statistics.median(whole[cut])
        setup = statistics.median(parts["setup"][cut])
        rounds.append({"lean_ms": 1e3 * lean, "ctsim_ms": 1e3 * ctsim,
                       "setup_ms": 1e3 * setup,
                       "weeks_ms": 1e3 * statistics.median(parts["weeks"][cut]),
                       "ratio": ctsim / lean, "setup_share": setup / ctsim})
    return {"median_ms": median, "fastest_ms": fastest,
            "ratio": median["ctsim"] / median["lean"],
            "ratio_by_round": statistics.median(r["ratio"] for r in rounds),
            "setup_share": median["setup"] / median["ctsim"],
            "setup_share_by_round": statistics.median(r["setup_share"] for r in rounds),
            "rounds": rounds}


def environment() -> dict:
    """Versions, the machine and the time (UTC)."""
    import numba

    import ctsim

    return {"utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "python": platform.python_version(), "numpy": np.__version__,
            "numba": numba.__version__, "ctsim": ctsim.__version__,
            "machine": f"{platform.system()} {platform.machine()}",
            "cores": os.cpu_count()}


def report(result: dict) -> str:
    """The tables printed at the end: each clock's medians, ratios and rounds."""
    env = result["environment"]
    lines = [f"bench_lean: {result['repeats']} rounds of {result['runs']} runs of "
             f"{result['steps']} weeks, {env['utc']} UTC, load average "
             f"{result['load_before'][0]:.2f} before, {result['load_after'][0]:.2f} after"]
    met = lambda ok: "met" if ok else "not met"  # noqa: E731
    for clock, title in (("wall", "wall-clock"), ("cpu", "the thread's CPU time")):
        s = result["summary"][clock]
        med, fast = s["median_ms"], s["fastest_ms"]
        lines += ["", f"{title}:", f"{'':30s}{'median ms':>10s}{'(fastest)':>11s}"]
        for key, label in (("lean", "lean kernel, whole run"), ("ctsim", "ctsim, whole run"),
                           ("setup", "  set-up (Simulation(...))"),
                           ("weeks", "  weeks (.run)"), ("metrics", "  metrics"),
                           ("teardown", "  freeing the Simulation")):
            lines.append(f"{label:30s}{med[key]:10.3f}{f'({fast[key]:.3f})':>11s}")
        lines += [f"ctsim / lean: {s['ratio']:.2f} (median of the rounds' ratios "
                  f"{s['ratio_by_round']:.2f}); goal <= {RATIO_GOAL}: "
                  f"{met(s['ratio_by_round'] <= RATIO_GOAL)}",
                  f"set-up's share of ctsim's run: {s['setup_share']:.2f} (by round "
                  f"{s['setup_share_by_round']:.2f}); goal <= {SETUP_GOAL}: "
                  f"{met(s['setup_share_by_round'] <= SETUP_GOAL)}",
                  "by round: lean, ctsim, set-up, weeks (ms); ratio; set-up share"]
        for k, r in enumerate(s["rounds"]):
            lines.append(f"  {k + 1:2d} ({result['rounds'][k]['first']} first): "
                         f"{r['lean_ms']:.3f} {r['ctsim_ms']:.3f} {r['setup_ms']:.3f} "
                         f"{r['weeks_ms']:.3f}; {r['ratio']:.2f}; {r['setup_share']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    for name in ("repeats", "runs", "steps"):
        if getattr(args, name) < 1:
            print(f"error: --{name} must be at least 1", file=sys.stderr)
            return 2
    if args.seed < 0:
        print("error: --seed must be at least 0", file=sys.stderr)
        return 2
    load_before = _load()
    times = measure(args.repeats, args.runs, args.steps, args.seed)
    result = {"repeats": args.repeats, "runs": args.runs, "steps": args.steps,
              "load_before": load_before, "load_after": _load(),
              "environment": environment(), "rounds": times["rounds"],
              "summary": {clock: summary(times[clock], args.runs) for clock in CLOCKS},
              "times_s": {clock: times[clock] for clock in CLOCKS}}
    print(report(result))
    if args.json is not None:
        try:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
        except OSError as e:
            print(f"error: cannot write {args.json}: {e.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
