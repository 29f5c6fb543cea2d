"""The relative fall in transnational attacks aimed at the adopters of INTERPOL's border
databases, at the world scenario's own values (docs/world.md, "Holding the results against
real figures"; experiments/targets.yaml, ``interpol_screening_effect``).

Runs ``world/world_screening.yaml`` (the databases at the OECD members' borders, who stand
in for the adopters) and ``world/world_screening_none.yaml`` with the same seeds and
prints the adopters' transnational attacks a run in both and the relative fall,
``(without - with) / without``, the quantity Gardeazabal and Sandler (2015) estimate at
about 30%::

    .venv/bin/python scripts/screening_effect.py [RUNS]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(runs: int = 20) -> None:
    from ctsim.core.outputs import PER_TARGET
    from ctsim.core.scenario import load_scenario
    from ctsim.runs.runner import run_one
    from ctsim.runs.seeds import replication_seeds

    world = ROOT / "scenarios" / "world"
    with_db = load_scenario(world / "world_screening.yaml")
    without = load_scenario(world / "world_screening_none.yaml")
    adopters = np.array(with_db.roster().select({"membership": "OECD"}), bool)
    column = PER_TARGET.index("attacked_transnational")
    counts = {"with": [], "without": []}
    for seed in replication_seeds(5, runs):
        for name, scenario in (("with", with_db), ("without", without)):
            result = run_one(scenario, seed, nations=True, timeseries=False)
            counts[name].append(result.targets[column][adopters].sum())
    a, b = np.mean(counts["with"]), np.mean(counts["without"])
    print(f"adopters' transnational attacks a run over {runs} paired runs: "
          f"{b:.1f} without the databases, {a:.1f} with them; relative fall "
          f"{(b - a) / b:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
