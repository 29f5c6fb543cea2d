"""Shared fixtures: paths and small scenarios that run in a fraction of a second."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

#: A small generated world: 8 nations, 2 blocs, a hub, one year. Copy before changing.
SMALL = {
    "name": "small",
    "description": "A small test world.",
    "seed": 5,
    "steps": 52,
    "replications": 2,
    "world": {"nations": 8, "regions": 2, "blocs": 2},
    "cooperation": {
        "regime": "hybrid",
        "institutions": [{"name": "hub", "members": "all", "latency": 1}],
    },
    "threat": {"groups": 3, "plots_per_year": 30, "detection_rate": 0.15},
}


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def small() -> dict:
    """A fresh copy of the SMALL scenario mapping."""
    return copy.deepcopy(SMALL)
