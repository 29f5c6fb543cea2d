"""A sweep's worker process: the payload it was given and a model already warmed up.

The process pool's forkserver imports :mod:`ctsim._warm` before it forks the workers,
which runs :func:`warm_up`, so every worker starts with Python's modules imported and the
compiled weeks loaded (about a second each otherwise). The pool's initializer hands each
worker the sweep's payload once (:func:`set_payload`); a batch then sends only its runs.
"""

from __future__ import annotations

from ctsim import runner

_payload: runner.Payload | None = None


def warm_up() -> None:
    """Run a two-week model of a three-nation world: loads every compiled phase."""
    from ctsim.core.scenario import scenario_from_dict

    scenario = scenario_from_dict({"name": "warm-up", "steps": 2,
                                   "world": {"nations": 3}, "threat": {"groups": 1}})
    runner.run_one(scenario, 1, 2)


def set_payload(payload: runner.Payload) -> None:
    """The pool's initializer: keep the sweep's payload for every batch of this worker."""
    global _payload
    _payload = payload


def run_batch(batch: list) -> list:
    """Run a batch with this worker's payload (:func:`ctsim.runner.run_batch`)."""
    assert _payload is not None, "set_payload runs first (the pool's initializer)"
    return runner.run_batch(_payload, batch)

