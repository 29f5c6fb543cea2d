"""One implementation's side of benchmarks/bench_model.py, run in its own process.

``python bench_worker.py ROOT`` imports ``ctsim`` as the interpreter finds it (the caller
sets PYTHONPATH to the checkout being measured), loads the scenarios under ``ROOT``, warms
every workload up once, then answers one line per request on stdin:

- a workload name (``baseline``, ``world``, ``step``, ``boltzmann``): run it once and print
  the wall time in seconds;
- ``memory``: print the peak resident memory of this process in MiB (``ru_maxrss``);
- an empty line: exit.

A run is what a sweep does with one run: construct the model from the loaded scenario and
simulate every week, the way the implementation's runners do it: ``Simulation(scenario,
rng).run(steps)`` where it has :class:`ctsim.core.simulation.Simulation` (the sweeps' run
without Mesa), else ``model.run()`` where the model has it and ``step()`` in a loop where
it does not. ``step`` times 260 calls of ``model.step()`` at 30 nations after
construction (the teaching app's way). The worker prints ``ready`` once warmed up.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(sys.argv[1])
STEP_WEEKS = 260


def main() -> None:
    import ctsim
    from ctsim import CooperationModel
    baseline = ctsim.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    world = ctsim.load_scenario(ROOT / "scenarios" / "world" / "world.yaml", {"steps": 520})
    fast = callable(getattr(CooperationModel, "run", None))

    try:  # the sweeps' own run, without Mesa, where the implementation has one
        import numpy as np

        from ctsim.core.simulation import Simulation
    except ImportError:
        Simulation = None

    def whole(scenario):
        if Simulation is not None:
            Simulation(scenario, np.random.default_rng(1)).run(scenario.steps)
            return
        model = CooperationModel(scenario, rng=1)
        if fast:
            model.run()
        else:
            for _ in range(scenario.steps):
                model.step()

    def steps() -> float:
        model = CooperationModel(baseline, rng=1)
        start = time.perf_counter()
        for _ in range(STEP_WEEKS):
            model.step()
        return time.perf_counter() - start

    def boltzmann() -> None:
        from mesa.examples.basic.boltzmann_wealth_model.model import (
            BoltzmannScenario,
            BoltzmannWealth,
        )

        model = BoltzmannWealth(BoltzmannScenario(n=100, width=10, height=10, rng=1))
        for _ in range(125):
            model.step()

    def timed(run) -> float:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start

    jobs = {"baseline": lambda: timed(lambda: whole(baseline)),
            "world": lambda: timed(lambda: whole(world)),
            "step": steps, "boltzmann": lambda: timed(boltzmann)}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for job in jobs.values():
        job()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ready {rss_before:.1f} {rss_after:.1f}", flush=True)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            break
        if name == "memory":
            print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)
        else:
            print(f"{jobs[name]():.6f}", flush=True)


if __name__ == "__main__":
    main()
