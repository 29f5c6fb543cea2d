"""What a sweep run costs: the runs of an experiment's design as a worker runs them, and
where their time goes.

By default it times, for the first ``--runs`` runs of the experiment (in run-id order, as
a worker meets them), each step of a run: validating its scenario from the prepared base
(``scenario``), starting the reused streams at its seed (``streams``), building its world
(``world``), the rest of the model's set-up (``set-up``: ``Simulation(...)`` less the
world), the compiled weeks (``weeks``) and the metrics the experiment keeps
(``metrics``); medians over ``--repeats`` passes, in milliseconds a run. The scenarios
are validated again in each pass (the worker's cache is cleared).

With ``--against REV`` it instead times whole batches (``ctsim.runs.worker.run_batch``,
what a worker does with its runs) of the current code and of commit REV's (exported with
``git archive``; or of the tree in the folder REV, one holding a ``ctsim`` package: the
current tree with some files as they were, say), each in its own process, the two
alternated for ``--repeats`` rounds; it prints the medians (wall-clock time, and the
process's CPU time, which leaves out the waits a shared machine adds; and the CPU time of
the set-up alone, ``Simulation(...)`` with the reused streams, over the same runs), their
ratio, the median of the rounds' own ratios, and whether both gave the same rows.

Run: ``.venv/bin/python benchmarks/bench_design_run.py [--experiment NAME|PATH] [--runs N]
[--repeats K] [--against REV]`` (default: sobol_all, 1,500 runs, 3 passes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parent.parent


def experiment_path(experiment: str, package: Path) -> Path:
    """The experiment file ``experiment`` names: a shipped experiment's name (looked up in
    ``package``/experiments, the ctsim being timed), or a path to a design file
    (``benchmarks/sobol_million.yaml``; relative to the current folder)."""
    if experiment.endswith((".yaml", ".yml")) or os.sep in experiment:
        return Path(experiment).resolve()
    return package / "experiments" / f"{experiment}.yaml"


def _prepared(experiment: str, runs: int):
    """The experiment's first ``runs`` runs and the workers' payload, the model warmed up
    (from the ctsim the interpreter finds)."""
    import ctsim
    from ctsim.runs import worker
    from ctsim.runs.experiment import load_experiment
    from ctsim.runs.sweeps import fingerprint

    loaded = load_experiment(experiment_path(experiment, Path(ctsim.__file__).parent))
    spec = loaded.spec
    payload = worker.Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                             tuple(spec.metric_names), spec.timeseries, fingerprint(loaded))
    worker.warm_up()
    if hasattr(loaded, "plan"):  # a plan of columns: read only the runs timed
        return loaded.plan().specs(0, runs), payload
    return loaded.runs()[:runs], payload


def batches(experiment: str, runs: int, repeats: int) -> None:
    """Print one line of JSON: ms a run of ``run_batch`` over the runs (median of
    ``repeats``) and a digest of the rows it returned."""
    from ctsim.runs import worker

    specs, payload = _prepared(experiment, runs)
    worker.run_batch(payload, specs[:20])
    times, cpu = [], []
    for _ in range(repeats):
        worker._SCENARIO_CACHE.clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        rows = worker.run_batch(payload, specs)
        times.append((time.perf_counter() - start) / len(specs) * 1e3)
        cpu.append((time.process_time() - start_cpu) / len(specs) * 1e3)
    digest = hashlib.sha256(json.dumps([r for r, _ in rows], sort_keys=True,
                                       default=str).encode()).hexdigest()
    print(json.dumps({"ms": statistics.median(times), "cpu_ms": statistics.median(cpu),
                      "setup_cpu_ms": setup_cpu(specs, payload, repeats),
                      "rows": digest}))


def setup_cpu(specs: list, payload, repeats: int) -> float:
    """CPU ms a run of the set-up alone (the reused streams started at the run's seed,
    then ``Simulation(...)``: the world and the containers), over ``specs`` with their
    scenarios already made; median of ``repeats`` passes."""
    from ctsim.core.simulation import Simulation, Streams
    from ctsim.runs import worker

    streams = Streams()
    scenarios = [worker._scenario_for(payload, s.scenario, s.overrides) for s in specs]
    cpu = []
    for _ in range(repeats):
        start = time.process_time()
        for s, scenario in zip(specs, scenarios, strict=True):
            Simulation(scenario, streams.start(s.seed))
        cpu.append((time.process_time() - start) / len(specs) * 1e3)
    return statistics.median(cpu)


def steps(experiment: str, runs: int, repeats: int) -> None:
    """Print the per-step breakdown (the default mode)."""
    import numpy as np

    from ctsim.core.simulation import Simulation, Streams, spawn_streams
    from ctsim.core.world import build_world
    from ctsim.runs import worker

    specs, payload = _prepared(experiment, runs)
    streams = Streams()
    names = ("scenario", "streams", "world", "set-up", "weeks", "metrics")
    passes: dict[str, list[float]] = {k: [] for k in (*names, "total")}
    for _ in range(repeats):
        worker._SCENARIO_CACHE.clear()
        totals = dict.fromkeys(names, 0.0)
        for s in specs:
            world_rng = spawn_streams(np.random.default_rng(int(s.seed)))[0]
            t0 = time.perf_counter()
            sc = worker._scenario_for(payload, s.scenario, s.overrides)
            t1 = time.perf_counter()
            streams.start(s.seed)
            t2 = time.perf_counter()
            build_world(sc, world_rng)  # timed alone, from a stream of its own
            t3 = time.perf_counter()
            streams.start(s.seed)
            t4 = time.perf_counter()
            sim = Simulation(sc, streams)
            t5 = time.perf_counter()
            sim.run(payload.steps[s.scenario])
            t6 = time.perf_counter()
            sim.metrics(payload.metrics)
            t7 = time.perf_counter()
            for k, dt in zip(names, (t1 - t0, t2 - t1, t3 - t2, (t5 - t4) - (t3 - t2),
                                     t6 - t5, t7 - t6), strict=True):
                totals[k] += dt
        for k in names:
            passes[k].append(totals[k] / len(specs) * 1e3)
        passes["total"].append(sum(totals.values()) / len(specs) * 1e3)
    print(f"{experiment}: {len(specs)} runs, {repeats} passes (ms a run, median over passes)")
    for k, values in passes.items():
        print(f"  {k:9s} {statistics.median(values):6.3f}")


def against(rev: str, experiment: str, runs: int, repeats: int) -> None:
    """Alternate whole-batch timings of the current code and of commit ``rev`` (or of the
    tree in the folder ``rev``, one holding a ``ctsim`` package)."""
    import bench_model

    if experiment.endswith((".yaml", ".yml")) or os.sep in experiment:
        experiment = str(Path(experiment).resolve())  # the same file for both trees
    with tempfile.TemporaryDirectory(prefix="bench-design-") as tmp:
        tree = Path(rev)
        sources = {"current": ROOT,
                   rev: tree.resolve() if (tree / "ctsim").is_dir()
                   else bench_model.export(rev, Path(tmp))}
        times: dict[str, list[float]] = {label: [] for label in sources}
        cpu: dict[str, list[float]] = {label: [] for label in sources}
        setup: dict[str, list[float]] = {label: [] for label in sources}
        digests: dict[str, set[str]] = {label: set() for label in sources}
        for r in range(repeats):
            order = list(sources) if r % 2 == 0 else list(sources)[::-1]
            for label in order:
                env = {**os.environ, "PYTHONPATH": str(sources[label])}
                done = subprocess.run(
                    [sys.executable, __file__, "--batches", "--experiment", experiment,
                     "--runs", str(runs)], env=env, cwd=sources[label], check=True,
                    capture_output=True, text=True)
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                times[label].append(figures["ms"])
                cpu[label].append(figures["cpu_ms"])
                setup[label].append(figures["setup_cpu_ms"])
                digests[label].add(figures["rows"])
            print(f"  round {r + 1}: " + "  ".join(
                f"{k}={times[k][-1]:.3f} ms (CPU {cpu[k][-1]:.3f})" for k in sources)
                + f"  ratio {times[rev][-1] / times['current'][-1]:.2f}", flush=True)
    print(f"{experiment}: {runs} runs a batch, {repeats} rounds (ms a run, medians)")
    for what, figures in (("wall", times), ("CPU", cpu), ("set-up CPU", setup)):
        now, then = (statistics.median(figures[k]) for k in sources)
        ratios = statistics.median(b / a for a, b in zip(figures["current"], figures[rev],
                                                         strict=True))
        print(f"  {what:10s} current {now:.3f}   {rev} {then:.3f}   {rev} / current = "
              f"{then / now:.2f}x (median of the rounds' ratios {ratios:.2f}x)")
    same = len(digests["current"] | digests[rev]) == 1
    print(f"  rows: {'the same' if same else 'DIFFERENT'} in every round")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="sobol_all",
                        help="a shipped experiment's name, or a design file's path "
                             "(benchmarks/sobol_million.yaml)")
    parser.add_argument("--runs", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", metavar="REV",
                        help="a commit, or a folder holding another ctsim tree")
    parser.add_argument("--batches", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.batches:
        batches(args.experiment, args.runs, 3)
    elif args.against:
        against(args.against, args.experiment, args.runs, args.repeats)
    else:
        steps(args.experiment, args.runs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
