"""Pin what every shipped scenario gives, so that a change meant to be inert can prove it.

Writes ``tests/validation/pinned_runs.json``: for each scenario under ``scenarios/``,
``scenarios/world/`` and ``scenarios/lessons/``, one run of 104 weeks from seed 11, its
metrics and a SHA-256 of each column of its weekly record (the DataCollector's columns).
``tests/validation/test_inert.py`` runs them again and requires the same numbers, column
for column, for every metric and record column the file holds (columns added later are not
compared).

Rerun it only when a change is meant to change results, and say so in CHANGELOG.md::

    .venv/bin/python scripts/pin_scenarios.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "validation" / "pinned_runs.json"
SEED, WEEKS = 11, 104


def shipped() -> list[Path]:
    """Every shipped scenario file, in a fixed order."""
    folder = ROOT / "scenarios"
    return [path for sub in ("", "world", "lessons")
            for path in sorted((folder / sub).glob("*.yaml"))]


def column_digest(values: np.ndarray) -> str:
    """SHA-256 of a record column's float64 bytes."""
    return hashlib.sha256(np.ascontiguousarray(values, np.float64).tobytes()).hexdigest()


def pinned(path: Path) -> dict:
    """One run of the scenario at ``path``: its metrics and its record's column digests."""
    from ctsim.core.scenario import load_scenario
    from ctsim.runs.runner import run_one

    result = run_one(load_scenario(path), SEED, WEEKS)
    assert result.timeseries is not None
    return {"metrics": {k: (None if v != v else v) for k, v in result.metrics.items()},
            "record": {k: column_digest(v) for k, v in result.timeseries.items()}}


def main() -> None:
    runs = {str(p.relative_to(ROOT / "scenarios")): pinned(p) for p in shipped()}
    OUT.write_text(json.dumps({"seed": SEED, "weeks": WEEKS, "runs": runs}, indent=1,
                              sort_keys=True) + "\n")
    print(f"pinned {len(runs)} scenarios in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
