"""Shared fixtures: paths and small scenarios that run in a fraction of a second."""

from __future__ import annotations

import copy
import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
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


def dataset_world(**world) -> dict:
    """A scenario mapping of real nations (``world.dataset: world``, 194 states) with a
    small threat, ten weeks, and ``world`` keys added (``include=...``, ``countries=...``)."""
    return {"name": "ds", "steps": 10, "world": {"dataset": "world", **world},
            "threat": {"groups": 4, "plots_per_year": 20}}


@pytest.fixture
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def small() -> dict:
    """A fresh copy of the SMALL scenario mapping."""
    return copy.deepcopy(SMALL)


@pytest.fixture(scope="session")
def world_runs():
    """Three 20-week runs of scenarios/world/world.yaml (194 nations), with the world."""
    from ctsim.core.scenario import load_scenario
    from ctsim.runs.runner import run_replications
    from ctsim.runs.seeds import replication_seeds

    scenario = load_scenario(SCENARIOS / "world" / "world.yaml")
    results = run_replications(scenario, replication_seeds(3, 3), 20)
    return results[0].model.world, results


@dataclass
class CliResult:
    """What the ``ctsim`` command did when run in this process (:func:`invoke_cli`)."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Everything it printed, stdout then stderr."""
        return self.stdout + self.stderr


def invoke_cli(*args: object) -> CliResult:
    """Run the ``ctsim`` command's entry point (``ctsim.cli.main``) in this process with
    ``args``, catching its exit status and what it prints."""
    from ctsim.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return CliResult(code, out.getvalue(), err.getvalue())


class StopAfter:
    """An ``on_progress`` callback that interrupts a command, as Ctrl-C would, once at
    least ``runs`` runs are done; ``stored`` is how many were done by then."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.done: list[int] = []

    def __call__(self, n: int, failed: int) -> None:
        self.done.append(n)
        if self.stored >= self.runs:
            raise KeyboardInterrupt

    @property
    def stored(self) -> int:
        """Runs done when it stopped the command (or so far)."""
        return sum(self.done)
