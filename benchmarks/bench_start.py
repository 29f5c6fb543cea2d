"""Time the ``ctsim`` command as a user meets it: whole processes, start-up included.

Commands (each a fresh ``python -m ctsim.cli ...`` process, timed from start to exit):

* ``help``: ``ctsim --help``;
* ``validate``: ``ctsim validate scenarios/baseline.yaml``;
* ``run``: ``ctsim run baseline --replications 1 --steps 52 --no-figures`` (the numbers);
* ``run+figures``: the same run with its four figures.

With ``--against REV`` the ctsim of commit REV (exported with ``git archive`` into a
temporary folder) is timed in the same rounds; a command it does not have (``--no-figures``
before that option existed) is left out for it. Rounds are interleaved (one of each
command and implementation per round, the order rotated) and medians reported; the
machine is shared, so quote the differences measured side by side (per round, then their
median). Each implementation runs every command once before the rounds (numba compiles
on a first use; later processes load the compiled code).

Two floors are timed in the same rounds, so that the goals can be read against what the
machine allows: ``python`` (a process that starts the interpreter and exits) and ``numba``
(a process that imports numba and calls one function compiled with ``cache=True``, loaded
from its cache: what any command that runs the compiled core must spend before its first
week).

Goals (issue 27): ``help`` <= 0.2 s and ``validate`` <= 0.5 s (medians); ``run`` at most
0.3 s more than the ``numba`` floor and ``run+figures`` at most 1 s more than ``run``, each
the median over the rounds of the difference within a round (so that the machine's load,
which moves both, cancels). The goals are wall-clock; each time is also given in CPU
seconds (user and system) of its process, which another job on the machine moves less.

Run: ``.venv/bin/python benchmarks/bench_start.py [--repeats N] [--against REV] [--json PATH]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_model

ROOT = Path(__file__).resolve().parent.parent
#: The commands, in the order they are timed and shown.
NAMES = ("help", "validate", "run", "run+figures")
#: Goals of a command's median, in seconds.
GOALS = {"help": 0.2, "validate": 0.5}
#: Goals of a difference within a round (command, what it is measured against, seconds):
#: a run at most 0.3 s above the numba floor, its figures at most 1 s on top of it.
MARGINS = (("run", "floor numba", 0.3), ("run+figures", "run", 1.0))


def commands(out: Path) -> dict[str, list[str]]:
    """The command lines, by name (arguments after ``python -m ctsim.cli``)."""
    run = ["run", "baseline", "--replications", "1", "--steps", "52", "-q"]
    return {"help": ["--help"], "validate": ["validate", "scenarios/baseline.yaml"],
            "run": [*run, "--no-figures", "--overwrite", "--out", str(out / "run")],
            "run+figures": [*run, "--out", str(out / "fig")]}


#: The floors' programs (``python FILE``): the interpreter alone; numba's import and the
#: first call of a cached compiled function.
FLOORS = {"python": "pass\n",
          "numba": "from numba import njit\n\n\n@njit(cache=True)\ndef one(x):\n"
                   "    return x + 1\n\n\none(1)\n"}


def _child_cpu() -> float:
    """CPU seconds (user and system) of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def floor_timed(program: Path) -> tuple[float, float]:
    """Seconds one ``python PROGRAM`` process takes (a floor: no ctsim), wall-clock and
    CPU."""
    cpu, start = _child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, str(program)], cwd=program.parent, check=True,
                   capture_output=True)
    return time.perf_counter() - start, _child_cpu() - cpu


def timed(source: Path, args: list[str], cwd: Path) -> tuple[float, float] | None:
    """Seconds one ``python -m ctsim.cli ARGS`` process takes with ``source`` on the path,
    wall-clock and CPU (None when the command fails, e.g. an option this implementation
    lacks)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    cpu, start = _child_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ctsim.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return (seconds, _child_cpu() - cpu) if done.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--against", metavar="REV", help="also time the ctsim of commit REV")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp:
        tmp_path = Path(tmp)
        sources = {"current": ROOT}
        if args.against:
            previous = tmp_path / "previous"
            previous.mkdir()
            sources[f"previous ({args.against})"] = bench_model.export(args.against, previous)
        # seconds per round, wall-clock and CPU (None: the command failed or does not
        # exist there)
        times: dict[str, dict[str, list[float | None]]] = {
            s: {n: [] for n in NAMES} for s in sources}
        cpu: dict[str, dict[str, list[float | None]]] = {
            s: {n: [] for n in NAMES} for s in sources}
        floors: dict[str, list[float]] = {name: [] for name in FLOORS}
        floors_cpu: dict[str, list[float]] = {name: [] for name in FLOORS}
        programs = {}
        for name, text in FLOORS.items():
            programs[name] = tmp_path / f"floor_{name}.py"
            programs[name].write_text(text)
            floor_timed(programs[name])  # compiles `one` into its cache the first time
        print("warming up each implementation (a first run may compile the model)",
              flush=True)
        for label, source in sources.items():
            out = tmp_path / f"out-{len(label)}"
            for name, cmd in commands(out).items():
                if timed(source, cmd, source) is None and name != "run":
                    print(f"  {label}: {name} fails; left out")
        for r in range(args.repeats):
            jobs = [(label, name) for name in NAMES for label in sources]
            jobs = jobs[r % len(jobs):] + jobs[: r % len(jobs)]
            cells = []
            for label, name in jobs:
                out = tmp_path / f"round-{label[:4]}-{r}"
                took = timed(sources[label], commands(out)[name], sources[label])
                times[label][name].append(took[0] if took else None)
                cpu[label][name].append(took[1] if took else None)
                if took is not None:
                    cells.append(f"{label[:8]}:{name}={took[0]:.2f}s")
            for name, program in programs.items():
                wall, used = floor_timed(program)
                floors[name].append(wall)
                floors_cpu[name].append(used)
            print(f"  round {r + 1:2d}  " + "  ".join(cells), flush=True)

    env = bench_model.environment(("ctsim", "numpy", "numba", "mesa", "pandas"))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"\nctsim start-up benchmark, {args.repeats} interleaved rounds, {env['date']}"
          + (f", load average {load[0]:.2f} at the end" if load else ""))
    figures: dict = {"environment": env, "repeats": args.repeats, "goals_s": GOALS,
                     "margins_s": {f"{a} - {b}": goal for a, b, goal in MARGINS},
                     "load_average_end": load, "median_s": {}, "fastest_s": {},
                     "margin_median_s": {}, "times_s": times, "floors_s": floors,
                     "cpu_s": cpu, "floors_cpu_s": floors_cpu}
    print("  floors (no ctsim), in the same rounds")
    figures["floor_median_s"] = {}
    for name, values in floors.items():
        med = figures["floor_median_s"][name] = statistics.median(values)
        print(f"    {name:12s} median {med:5.2f} s (fastest {min(values):.2f}; CPU "
              f"{statistics.median(floors_cpu[name]):.2f} s)")
    for label in sources:
        print(f"  {label}")
        figures["median_s"][label], figures["fastest_s"][label] = {}, {}
        for name in NAMES:
            values = [v for v in times[label][name] if v is not None]
            if not values:
                continue
            med = figures["median_s"][label][name] = statistics.median(values)
            figures["fastest_s"][label][name] = min(values)
            goal = GOALS.get(name)
            said = f"  goal <= {goal} s: {'met' if med <= goal else 'NOT met'}" if goal else ""
            used = statistics.median(v for v in cpu[label][name] if v is not None)
            print(f"    {name:12s} median {med:5.2f} s (fastest {min(values):.2f}; CPU "
                  f"{used:.2f} s){said}")
        figures["margin_median_s"][label] = {}
        for name, base, goal in MARGINS:
            ahead = _per_round(times[label][name], _series(times[label], floors, base))
            if not ahead:
                continue
            med = figures["margin_median_s"][label][f"{name} - {base}"] = statistics.median(ahead)
            used = statistics.median(_per_round(cpu[label][name],
                                                _series(cpu[label], floors_cpu, base)))
            print(f"    {name} - {base}: median {med:+.2f} s over {len(ahead)} rounds "
                  f"(range {min(ahead):+.2f} to {max(ahead):+.2f}; CPU {used:+.2f} s)  "
                  f"goal <= {goal} s: {'met' if med <= goal else 'NOT met'}")
    if args.against:
        prev = f"previous ({args.against})"
        print("  current - previous, per round (negative: the current command is faster)")
        figures["current_minus_previous_median_s"] = {}
        for name in NAMES:
            diff = _per_round(times["current"][name], times[prev][name])
            if diff:
                med = figures["current_minus_previous_median_s"][name] = statistics.median(diff)
                used = statistics.median(_per_round(cpu["current"][name], cpu[prev][name]))
                print(f"    {name:12s} median {med:+.2f} s (range {min(diff):+.2f} to "
                      f"{max(diff):+.2f}; CPU {used:+.2f} s)")
    if args.json:
        bench_model.write_json(args.json, figures)
    return 0


def _series(times: dict[str, list[float | None]], floors: dict[str, list[float]],
            name: str) -> list[float | None]:
    """A command's seconds per round, or a floor's (``floor NAME``)."""
    return list(floors[name.removeprefix("floor ")]) if name.startswith("floor ") else times[name]


def _per_round(a: list[float | None], b: list[float | None]) -> list[float]:
    """``a - b`` in each round where both were timed."""
    return [x - y for x, y in zip(a, b, strict=True) if x is not None and y is not None]


if __name__ == "__main__":
    sys.exit(main())
