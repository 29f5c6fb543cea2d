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
machine is shared, so quote the ratios measured side by side. Each implementation runs
every command once before the rounds (numba compiles on a first use; later processes
load the compiled code).

Goals (issue: fast start): help <= 0.2 s, validate <= 0.5 s, run <= 0.8 s,
run+figures <= 2 s, medians on this 2-core machine.

Two floors are timed in the same rounds, so that the goals can be read against what the
machine allows: ``python`` (a process that starts the interpreter and exits) and ``numba``
(a process that imports numba and calls one function compiled with ``cache=True``, loaded
from its cache: what any command that runs the compiled core must spend before its first
week).

Run: ``.venv/bin/python benchmarks/bench_start.py [--repeats N] [--against REV] [--json PATH]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_model

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"help": 0.2, "validate": 0.5, "run": 0.8, "run+figures": 2.0}


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


def floor_timed(program: Path) -> float:
    """Seconds one ``python PROGRAM`` process takes (a floor: no ctsim)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, str(program)], cwd=program.parent, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def timed(source: Path, args: list[str], cwd: Path) -> float | None:
    """Seconds one ``python -m ctsim.cli ARGS`` process takes with ``source`` on the path
    (None when the command fails, e.g. an option this implementation lacks)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ctsim.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return seconds if done.returncode == 0 else None


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
        times: dict[str, dict[str, list[float]]] = {s: {} for s in sources}
        floors: dict[str, list[float]] = {name: [] for name in FLOORS}
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
            jobs = [(label, name) for name in GOALS for label in sources]
            jobs = jobs[r % len(jobs):] + jobs[: r % len(jobs)]
            cells = []
            for label, name in jobs:
                out = tmp_path / f"round-{label[:4]}-{r}"
                seconds = timed(sources[label], commands(out)[name], sources[label])
                if seconds is not None:
                    times[label].setdefault(name, []).append(seconds)
                    cells.append(f"{label[:8]}:{name}={seconds:.2f}s")
            for name, program in programs.items():
                floors[name].append(floor_timed(program))
            print(f"  round {r + 1:2d}  " + "  ".join(cells), flush=True)

    env = bench_model.environment(("ctsim", "numpy", "numba", "mesa", "pandas"))
    print(f"\nctsim start-up benchmark, {args.repeats} interleaved rounds, {env['date']}")
    figures: dict = {"environment": env, "repeats": args.repeats, "goals_s": GOALS,
                     "median_s": {}}
    for label in sources:
        print(f"  {label}")
        figures["median_s"][label] = {}
        for name, goal in GOALS.items():
            values = times[label].get(name)
            if not values:
                continue
            med = statistics.median(values)
            figures["median_s"][label][name] = med
            met = "met" if med <= goal else "NOT met"
            print(f"    {name:12s} median {med:5.2f} s (fastest {min(values):.2f})  "
                  f"goal <= {goal}: {met}")
    print("  floors (no ctsim), in the same rounds")
    figures["floor_median_s"] = {}
    for name, values in floors.items():
        med = figures["floor_median_s"][name] = statistics.median(values)
        print(f"    {name:12s} median {med:5.2f} s (fastest {min(values):.2f})")
    if args.against:
        prev = figures["median_s"][f"previous ({args.against})"]
        cur = figures["median_s"]["current"]
        print("  previous / current (how many times faster the current command is)")
        for name in GOALS:
            if name in prev and name in cur:
                print(f"    {name:12s} {prev[name] / cur[name]:.1f}x")
    if args.json:
        bench_model.write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
