"""The first compilation against the speed of the compiled runs, for ways of compiling.

ctsim's weeks are compiled by numba the first time they are used (``cache=True`` keeps the
machine code on disk for later processes). How they are compiled trades the time of that
first use against the time of every later run. This benchmark measures both for each
*variant* of the compilation:

* **cold**: a fresh process with a fresh, empty ``NUMBA_CACHE_DIR`` imports ctsim, loads
  ``scenarios/baseline.yaml`` and runs two weeks (``Simulation(scenario,
  default_rng(1)).run(2)``), as a user's first ``ctsim run`` does. Timed: the whole
  process (s, start to exit, by the wall clock and by its CPU time), the construction
  (``Simulation(...)``, which compiles the set-up's functions) and the first ``run``
  call (which compiles the weeks), and, from numba's own events, the time (wall and CPU)
  spent holding its compiler lock (all compilation) and its LLVM lock (LLVM's
  optimisation and code generation; the rest is numba's typing, inlining and lowering).
* **warm**: a process that loads the cache the cold process wrote (and compiles
  nothing, which it checks) times whole baseline runs of 260 weeks,
  ``Simulation(scenario, default_rng(seed))`` then ``.run(260)``, construction and weeks
  separately (ms, by the wall clock and by the thread's CPU time, which leaves out the
  waits a busy machine adds), seeds 1 to 5 in turn.
* **bits**: the warm process also runs seeds 1 to 5 and digests (SHA-256) every value of
  ``Simulation.metrics()`` and the final trust matrix; a variant gives the same runs as
  the default when its digest is the default's.

Variants (``--variants`` picks some, in this order):

* ``default``: as shipped (numba's ``NUMBA_OPT=3``; the phases and their helpers each
  compiled once with numba's ``forceinline=True``, LLVM's ``alwaysinline``, and inlined
  into the week by LLVM: :data:`ctsim.core.phases.INLINE`);
* ``opt2``, ``opt1``, ``opt0``: ``NUMBA_OPT`` 2, 1, 0 (the LLVM optimisation level of
  every function numba compiles in the process, and of LLVM's code generator);
* ``opt1-ir``: the LLVM passes at level 1 and the code generator at level 3: numba's
  ``config.OPT`` set to 1 after its target is set up, as a setting scoped to ctsim's
  compilation (not the process's environment) would give;
* ``novec``: ``NUMBA_LOOP_VECTORIZE=0`` (numba's loop vectoriser off; its SLP vectoriser
  is off by default);
* ``never``: ``CTSIM_INLINE=never``, the phases and helpers compiled as separate
  functions (:data:`ctsim.core.phases.INLINE`, a benchmark switch);
* ``errnumpy``: every ``njit`` of ctsim with ``error_model="numpy"`` (no check for a
  division by zero; numba's ``njit`` is wrapped before ctsim is imported);
* ``numba-inline``: ``CTSIM_INLINE=numba``, numba copying and typing each helper's code
  again at every call site (``inline="always"``), the default until this benchmark's
  ``llvm-inline`` variant (now the default) was measured.

Each round compiles every variant cold, one after another (the order rotated from round
to round), then starts one warm process per variant and asks them for one run at a time,
interleaved, so the machine's noise hits every variant alike. Ratios to the default are
medians of the ratios within a round. The load average is recorded at the start and end
of each round; the machine is shared, so quote the ratios (and the CPU times). With
``--json`` every figure is written after each round, so a run cut short keeps its
rounds. Figures and the choice made: ``benchmarks/README.md``, "The first compilation".

Run: ``.venv/bin/python benchmarks/bench_compile.py [--repeats 2] [--runs 30]
[--variants default,opt1,...] [--json PATH]``
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

#: Variant name -> (what it is, environment it adds, in-process change or None).
VARIANTS: dict[str, tuple[str, dict[str, str], str | None]] = {
    "default": ("as shipped: NUMBA_OPT=3, phases inlined by LLVM (forceinline)", {}, None),
    "opt2": ("NUMBA_OPT=2", {"NUMBA_OPT": "2"}, None),
    "opt1": ("NUMBA_OPT=1", {"NUMBA_OPT": "1"}, None),
    "opt0": ("NUMBA_OPT=0", {"NUMBA_OPT": "0"}, None),
    "opt1-ir": ("LLVM passes at 1, code generator at 3 (scoped)", {}, "ir_opt1"),
    "novec": ("NUMBA_LOOP_VECTORIZE=0", {"NUMBA_LOOP_VECTORIZE": "0"}, None),
    "never": ("phases not inlined (CTSIM_INLINE=never)", {"CTSIM_INLINE": "never"}, None),
    "errnumpy": ("error_model='numpy'", {}, "errnumpy"),
    "numba-inline": ("phases inlined by numba (CTSIM_INLINE=numba; the default until "
                     "the llvm-inline measurement)", {"CTSIM_INLINE": "numba"}, None),
}
#: The settings this benchmark varies; removed from the inherited environment.
CONTROLLED = ("NUMBA_OPT", "NUMBA_LOOP_VECTORIZE", "NUMBA_SLP_VECTORIZE", "CTSIM_INLINE",
              "NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT", "NUMBA_BOUNDSCHECK")
#: Seeds of the digest and of the timed runs (in turn).
SEEDS = (1, 2, 3, 4, 5)
#: Weeks of a cold process's run and of a warm run.
COLD_WEEKS, WARM_WEEKS = 2, 260
#: Untimed runs of a warm process before the timed ones.
WARM_UP = 3
#: What a warm process reports of each run (ms): wall and CPU time of the construction
#: and of the weeks.
WARM_KEYS = ("construct_ms", "run_ms", "construct_cpu_ms", "run_cpu_ms")


# ---------------------------------------------------------------- the child processes


def apply_change(change: str | None) -> None:
    """Make a variant's in-process change; called before ctsim is imported."""
    if change is None:
        return
    import numba
    from numba.core import config
    if change == "ir_opt1":
        from numba.core.registry import cpu_target
        cpu_target.target_context  # noqa: B018  (sets up the code generator at NUMBA_OPT)
        config.OPT = config._process_opt_level("1")  # what later compilations read
    elif change == "errnumpy":
        plain = numba.njit

        def njit(*args: Any, **options: Any) -> Any:
            options.setdefault("error_model", "numpy")
            return plain(*args, **options)

        numba.njit = njit
    else:
        raise ValueError(f"unknown change {change!r}")


class LockTimer:
    """Seconds (wall, and this process's CPU) spent holding one of numba's locks
    (``numba:compiler_lock``, ``numba:llvm_lock``), outermost acquisitions only, over the
    process's life."""

    def __init__(self, kind: str):
        from numba.core import event
        self.depth, self.began, self.began_cpu = 0, 0.0, 0.0
        self.seconds, self.cpu_seconds = 0.0, 0.0
        listener = self

        class Listener(event.Listener):
            def on_start(self, ev: Any) -> None:
                if listener.depth == 0:
                    listener.began = time.perf_counter()
                    listener.began_cpu = time.process_time()
                listener.depth += 1

            def on_end(self, ev: Any) -> None:
                listener.depth -= 1
                if listener.depth == 0:
                    listener.seconds += time.perf_counter() - listener.began
                    listener.cpu_seconds += time.process_time() - listener.began_cpu

        event.register(kind, Listener())


def child_cold(change: str | None) -> dict[str, Any]:
    """A first use from an empty cache: import, construct, run two weeks (seconds)."""
    began = time.perf_counter()
    apply_change(change)
    import numba
    compiling, llvm = LockTimer("numba:compiler_lock"), LockTimer("numba:llvm_lock")
    import numpy as np

    from ctsim.core.scenario import load_scenario
    from ctsim.core.simulation import Simulation
    scenario = load_scenario(BASELINE)
    imported = time.perf_counter()
    sim = Simulation(scenario, np.random.default_rng(1))
    built, built_cpu = time.perf_counter(), time.process_time()
    sim.run(COLD_WEEKS)
    ran, ran_cpu = time.perf_counter(), time.process_time()
    return {"import_s": imported - began, "construct_s": built - imported,
            "first_run_s": ran - built, "first_run_cpu_s": ran_cpu - built_cpu,
            "compile_s": compiling.seconds,
            "llvm_s": llvm.seconds, "compile_cpu_s": compiling.cpu_seconds,
            "llvm_cpu_s": llvm.cpu_seconds, "opt": str(numba.config.OPT),
            "boundscheck": numba.config.BOUNDSCHECK}


def digest(sims: list[Any]) -> str:
    """SHA-256 over the runs' metrics (names and exact float values) and trust matrices."""
    h = hashlib.sha256()
    for sim in sims:
        for name, value in sorted(sim.metrics().items()):
            h.update(f"{name}={float(value).hex()};".encode())
        h.update(sim.trust.tobytes())
    return h.hexdigest()


def child_warm(change: str | None) -> None:
    """Load the variant's cache, check the bits, then time one run per line of stdin
    (``SEED``; an empty line ends it), printing ``{"construct_ms", "run_ms",
    "construct_cpu_ms", "run_cpu_ms"}`` (wall and this thread's CPU time)."""
    apply_change(change)
    compiling = LockTimer("numba:compiler_lock")
    import numpy as np

    from ctsim.core import phases
    from ctsim.core.scenario import load_scenario
    from ctsim.core.simulation import Simulation
    scenario = load_scenario(BASELINE)
    for k in range(WARM_UP):
        Simulation(scenario, np.random.default_rng(SEEDS[k % len(SEEDS)])).run(WARM_WEEKS)
    sims = []
    for seed in SEEDS:
        sim = Simulation(scenario, np.random.default_rng(seed))
        sim.run(WARM_WEEKS)
        sims.append(sim)
    misses = dict(phases.run_weeks.stats.cache_misses)
    print(json.dumps({"ready": True, "digest": digest(sims), "cache_misses": len(misses),
                      "load_s": compiling.seconds}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        rng = np.random.default_rng(int(line))
        start, start_cpu = time.perf_counter(), time.thread_time()
        sim = Simulation(scenario, rng)
        built, built_cpu = time.perf_counter(), time.thread_time()
        sim.run(WARM_WEEKS)
        done, done_cpu = time.perf_counter(), time.thread_time()
        print(json.dumps({"construct_ms": 1e3 * (built - start),
                          "run_ms": 1e3 * (done - built),
                          "construct_cpu_ms": 1e3 * (built_cpu - start_cpu),
                          "run_cpu_ms": 1e3 * (done_cpu - built_cpu)}), flush=True)


# ---------------------------------------------------------------- the parent


def variant_env(name: str, cache: Path) -> dict[str, str]:
    """The environment of a variant's processes, with its own cache folder."""
    env = {k: v for k, v in os.environ.items() if k not in CONTROLLED}
    env.update(VARIANTS[name][1], NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    return env


def child_command(mode: str, name: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--variants", name]


def cold(name: str, cache: Path) -> dict[str, Any]:
    """One cold process of variant ``name`` compiling into ``cache``; its figures plus the
    whole process's wall time (``process_s``) and CPU time (``process_cpu_s``: user and
    system, less inflated than the wall time by other programs on the machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(child_command("cold", name), env=variant_env(name, cache),
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: cold process failed:\n{done.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_s": seconds,
            "process_cpu_s": cpu}


class Warm:
    """A warm process of one variant, answering one timed run at a time."""

    def __init__(self, name: str, cache: Path):
        self.name = name
        self.proc = subprocess.Popen(child_command("warm", name), env=variant_env(name, cache),
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.ready: dict[str, Any] | None = None

    def wait_ready(self) -> dict[str, Any]:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: warm process ended before it was ready")
        self.ready = json.loads(line)
        return self.ready

    def run(self, seed: int) -> dict[str, float]:
        self.proc.stdin.write(f"{seed}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def one_round(names: list[str], runs: int, shift: int) -> dict[str, Any]:
    """Every variant compiled cold in turn, then its warm runs interleaved with the
    others'; the order rotated by ``shift``."""
    order = names[shift % len(names):] + names[:shift % len(names)]
    figures: dict[str, Any] = {"order": order, "load_start": os.getloadavg(), "variants": {}}
    caches = {name: Path(tempfile.mkdtemp(prefix=f"ctsim-bc-{name}-")) for name in order}
    try:
        for name in order:
            c = cold(name, caches[name])
            figures["variants"][name] = {"cold": c}
            print(f"  cold {name:>10}: process {c['process_s']:.1f} s "
                  f"(CPU {c['process_cpu_s']:.1f}), first run "
                  f"{c['first_run_s']:.1f} s, construct {c['construct_s']:.1f} s, "
                  f"compiling {c['compile_s']:.1f} s (LLVM {c['llvm_s']:.1f}; CPU "
                  f"{c['compile_cpu_s']:.1f}, LLVM {c['llvm_cpu_s']:.1f})", flush=True)
        warm: list[Warm] = []
        try:
            for name in order:  # one at a time, so that their warm-ups do not overlap
                warm.append(Warm(name, caches[name]))
                figures["variants"][name]["ready"] = warm[-1].wait_ready()
            times: dict[str, list[dict[str, float]]] = {w.name: [] for w in warm}
            for k in range(runs):
                turn = warm[k % len(warm):] + warm[:k % len(warm)]
                for w in turn:
                    times[w.name].append(w.run(SEEDS[k % len(SEEDS)]))
        finally:
            for w in warm:
                w.close()
        for name in order:
            v = figures["variants"][name]
            for key in WARM_KEYS:
                v[key] = [t[key] for t in times[name]]
            print(f"  warm {name:>10}: weeks {statistics.median(v['run_ms']):.2f} ms "
                  f"(CPU {statistics.median(v['run_cpu_ms']):.2f}), construction "
                  f"{statistics.median(v['construct_ms']):.2f} ms (CPU "
                  f"{statistics.median(v['construct_cpu_ms']):.2f}), digest "
                  f"{v['ready']['digest'][:12]}, cache misses {v['ready']['cache_misses']}",
                  flush=True)
    finally:
        for cache in caches.values():
            shutil.rmtree(cache, ignore_errors=True)
    figures["load_end"] = os.getloadavg()
    return figures


def summary(names: list[str], rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant: medians over the rounds, and ratios to the default within rounds."""
    rows = []
    for name in names:
        per = [r["variants"][name] for r in rounds]
        base = [r["variants"].get(names[0]) for r in rounds]

        def med(values: list[float]) -> float:
            return statistics.median(values)

        def ratio(pick: Any, per: list[Any] = per, base: list[Any] = base) -> float:
            return med([pick(p) / pick(b) for p, b in zip(per, base, strict=True)])

        def weeks(v: dict[str, Any], clock: str = "") -> float:
            return med(v[f"run{clock}_ms"])

        def whole(v: dict[str, Any], clock: str = "") -> float:
            return med([a + b for a, b in zip(v[f"run{clock}_ms"], v[f"construct{clock}_ms"],
                                              strict=True)])

        rows.append({
            "variant": name, "what": VARIANTS[name][0],
            "process_s": med([p["cold"]["process_s"] for p in per]),
            "process_cpu_s": med([p["cold"]["process_cpu_s"] for p in per]),
            "cpu_ratio": ratio(lambda v: v["cold"]["process_cpu_s"]),
            "first_run_s": med([p["cold"]["first_run_s"] for p in per]),
            "construct_s": med([p["cold"]["construct_s"] for p in per]),
            "compile_s": med([p["cold"]["compile_s"] for p in per]),
            "llvm_s": med([p["cold"]["llvm_s"] for p in per]),
            "compile_cpu_s": med([p["cold"]["compile_cpu_s"] for p in per]),
            "llvm_cpu_s": med([p["cold"]["llvm_cpu_s"] for p in per]),
            "process_ratio": ratio(lambda v: v["cold"]["process_s"]),
            "weeks_ms": med([x for p in per for x in p["run_ms"]]),
            "whole_ms": med([a + b for p in per
                             for a, b in zip(p["run_ms"], p["construct_ms"], strict=True)]),
            "weeks_cpu_ms": med([x for p in per for x in p["run_cpu_ms"]]),
            "whole_cpu_ms": med([a + b for p in per for a, b in
                                 zip(p["run_cpu_ms"], p["construct_cpu_ms"], strict=True)]),
            "weeks_ratio": ratio(weeks), "whole_ratio": ratio(whole),
            "weeks_cpu_ratio": ratio(lambda v: weeks(v, "_cpu")),
            "whole_cpu_ratio": ratio(lambda v: whole(v, "_cpu")),
            "same_bits": all(p["ready"]["digest"] == b["ready"]["digest"]
                             for p, b in zip(per, base, strict=True)),
            "cache_misses": max(p["ready"]["cache_misses"] for p in per)})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The summary as a Markdown table (medians over the rounds; ratios to the first
    variant, medians of the ratios within a round)."""
    lines = ["| variant | cold process: wall s (CPU s) | CPU in LLVM s | cold CPU ratio "
             "| warm 260 weeks: CPU ms (wall) | whole run CPU ms | ratio weeks CPU (whole) "
             "| same bits |",
             "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        lines.append(f"| `{r['variant']}`: {r['what']} | {r['process_s']:.1f} "
                     f"({r['process_cpu_s']:.1f}) | {r['llvm_cpu_s']:.1f} | {r['cpu_ratio']:.2f} "
                     f"| {r['weeks_cpu_ms']:.2f} ({r['weeks_ms']:.2f}) | {r['whole_cpu_ms']:.2f} "
                     f"| {r['weeks_cpu_ratio']:.2f} ({r['whole_cpu_ratio']:.2f}) "
                     f"| {'yes' if r['same_bits'] else 'NO'} |")
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    from importlib.metadata import version
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "numba": version("numba"),
            "llvmlite": version("llvmlite"), "numpy": version("numpy"),
            "platform": platform.platform(), "cpu_count": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--runs", type=int, default=30, help="warm runs per variant a round")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated, the first is the reference (default first)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure")
    parser.add_argument("--child", choices=("cold", "warm"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        print(f"error: unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}",
              file=sys.stderr)
        return 2
    if args.child:
        change = VARIANTS[names[0]][2]
        if args.child == "cold":
            print(json.dumps(child_cold(change)))
        else:
            child_warm(change)
        return 0

    env = environment()
    print(f"{env['date']}, numba {env['numba']}, load {os.getloadavg()}", flush=True)
    rounds: list[dict[str, Any]] = []
    for r in range(args.repeats):
        print(f"round {r + 1} of {args.repeats}", flush=True)
        rounds.append(one_round(names, args.runs, r))
        print(f"  load average {rounds[-1]['load_start']} -> {rounds[-1]['load_end']}",
              flush=True)
        if args.json:  # after every round, so that a run cut short keeps its rounds
            write(args.json, {"environment": env, "rounds": rounds})
    rows = summary(names, rounds)
    print("\n" + table(rows))
    if args.json:
        write(args.json, {"environment": env, "rounds": rounds, "summary": rows})
        print(f"\nwrote {args.json}")
    return 0


def write(path: Path, figures: dict[str, Any]) -> None:
    """Write the figures so far to ``path`` as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
