"""Where a sweep run's time goes: each step of the runs of an experiment's design, timed in
one process.

For the first ``--runs`` runs of the experiment (in run-id order, as a worker meets them)
it times, per run: validating the run's scenario from the prepared base (``scenario``),
building its world (``world``), spawning the phases' streams (``streams``), the rest of the
model's set-up (``set-up``: ``Simulation(...)`` less the world and the streams, which it
draws again), the compiled weeks (``weeks``) and the metrics the experiment keeps
(``metrics``). Medians
of per-step totals over ``--repeats`` passes, in milliseconds a run. The model is warmed
up first (compiled code loaded). A pass's first run of each step is not special: the
scenarios are validated again each pass (the worker's cache is cleared).

Run: ``.venv/bin/python benchmarks/bench_design_run.py [--experiment PATH] [--runs N]
[--repeats K]`` (default: experiments/sobol_all.yaml, 1,500 runs, 3 passes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", type=Path,
                        default=ROOT / "experiments" / "sobol_all.yaml")
    parser.add_argument("--runs", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from ctsim import runner, worker
    from ctsim.core import state
    from ctsim.core.simulation import Simulation
    from ctsim.core.world import build_world
    from ctsim.experiment import load_experiment
    from ctsim.sweeps import fingerprint

    loaded = load_experiment(args.experiment)
    specs = loaded.runs()[: args.runs]
    spec = loaded.spec
    payload = runner.Payload(tuple(loaded.scenario_dicts), tuple(loaded.steps),
                             tuple(spec.metric_names), spec.timeseries, fingerprint(loaded))
    worker.warm_up()
    steps = ("scenario", "world", "streams", "set-up", "weeks", "metrics")
    passes: dict[str, list[float]] = {k: [] for k in (*steps, "total")}
    for _ in range(args.repeats):
        runner._SCENARIO_CACHE.clear()
        totals = dict.fromkeys(steps, 0.0)
        for s in specs:
            t0 = time.perf_counter()
            sc = runner._scenario_for(payload, s.scenario, s.overrides)
            t1 = time.perf_counter()
            rng = np.random.default_rng(int(s.seed))
            build_world(sc, rng.spawn(1)[0])
            t2 = time.perf_counter()
            rng.spawn(len(state.STREAMS))
            t3 = time.perf_counter()
            sim = Simulation(sc, np.random.default_rng(int(s.seed)))
            t4 = time.perf_counter()
            sim.run(payload.steps[s.scenario])
            t5 = time.perf_counter()
            sim.metrics(payload.metrics)
            t6 = time.perf_counter()
            for k, dt in zip(steps, (t1 - t0, t2 - t1, t3 - t2, (t4 - t3) - (t3 - t1),
                                     t5 - t4, t6 - t5), strict=True):
                totals[k] += dt
        for k in steps:
            passes[k].append(totals[k] / len(specs) * 1e3)
        passes["total"].append(sum(totals.values()) / len(specs) * 1e3)
    print(f"{args.experiment.name}: {len(specs)} runs, {args.repeats} passes "
          "(ms a run, median over passes)")
    for k, values in passes.items():
        print(f"  {k:9s} {statistics.median(values):6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
