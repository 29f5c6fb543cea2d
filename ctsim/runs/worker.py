"""A sweep's worker process: the payload it was given and a model already warmed up.

The process pool's forkserver imports :mod:`ctsim._warm` before it forks the workers,
which runs :func:`warm_up`, so every worker starts with Python's modules imported and the
compiled weeks loaded (about a second each otherwise). The pool's initializer hands each
worker the sweep's payload once (:func:`set_payload`); a batch then sends only its runs.

A batch of runs (:func:`run_batch`) is the same function wherever it runs: in this
process (the serial executor, the calibration), in a pool's worker or on a Dask worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ctsim.analysis.snapshot import RunSnapshot
from ctsim.core import Scenario
from ctsim.core.outputs import PER_TARGET
from ctsim.core.scenario import OverrideBase
from ctsim.core.simulation import Streams
from ctsim.runs import runner
from ctsim.runs.plan import Plan, Span


@dataclass(frozen=True)
class Payload:
    """What every worker needs to run any run of a sweep: raw scenarios, steps, metrics.

    Sent once per worker (scattered on Dask), so runs need no access to the files.
    """

    scenario_dicts: tuple[dict, ...]
    steps: tuple[int, ...]
    metrics: tuple[str, ...]
    timeseries: bool
    fingerprint: str = ""
    nations: bool = False  # keep each run's per-nation counts (nations.parquet)
    #: The run whose end comes back with its results as ``tables["snapshot"]`` (a
    #: :class:`ctsim.analysis.snapshot.RunSnapshot`, for a run folder's figures); -1: none.
    snapshot: int = -1
    #: The scenarios already validated, when the caller has them: a run without overrides
    #: uses its scenario as given, not validated again from ``scenario_dicts``.
    scenarios: tuple[Scenario, ...] = ()
    #: The sweep's plan (:class:`ctsim.runs.plan.Plan`): a batch may then be a
    #: :class:`~ctsim.runs.plan.Span` of run numbers, whose runs the worker reads from it.
    plan: Plan | None = None


_BASES: dict[tuple[str, int], OverrideBase] = {}
_SCENARIO_CACHE: dict[tuple[str, int, str], Scenario] = {}


def _scenario_for(payload: Payload, index: int, overrides: dict) -> Scenario:
    """The validated scenario of a run (base scenarios prepared once per process)."""
    if not overrides and payload.scenarios:
        return payload.scenarios[index]
    # Without a fingerprint (a payload built by hand), the scenario itself tells it apart.
    which = payload.fingerprint or repr(payload.scenario_dicts[index])
    key = (which, index, _override_key(overrides))
    cached = _SCENARIO_CACHE.get(key)
    if cached is None:
        base = _BASES.get(key[:2])
        if base is None:
            if len(_BASES) > 64:
                _BASES.clear()
            base = _BASES[key[:2]] = OverrideBase(payload.scenario_dicts[index])
        cached = base.scenario(overrides)
        if len(_SCENARIO_CACHE) > 4096:
            _SCENARIO_CACHE.clear()
        _SCENARIO_CACHE[key] = cached
    return cached


def _override_key(overrides: dict) -> object:
    """``overrides`` as a cache key: each value with its type (so that 1, 1.0 and True,
    equal in Python, stay apart), or their repr when a value is not hashable (a list)."""
    key = tuple((k, type(v), v) for k, v in sorted(overrides.items()))
    try:
        hash(key)
    except TypeError:
        return repr(sorted(overrides.items()))
    return key


_THIS_THREAD = threading.local()


def _streams() -> Streams:
    """This thread's Streams for sweep runs, made at its first run: a thread runs one run
    at a time (a Dask worker may run batches in several threads at once)."""
    streams = getattr(_THIS_THREAD, "streams", None)
    if streams is None:
        streams = _THIS_THREAD.streams = Streams()
    return streams


def run_batch(payload: Payload, specs: list | Span) -> list[tuple[dict, dict[str, Any]]]:
    """Run a batch of sweep runs (RunSpecs, or a Span of the payload's plan); a run that
    raises is returned as failed, not raised.

    Returns one ``(row, tables)`` per spec: ``row`` holds ``run_id``, ``status``
    ("ok"/"failed"), ``error`` and the metrics (NaN when failed); ``tables`` maps each kept
    per-run table (``ts``: the weekly record; ``nat``: per nation, the plots based there,
    the settled plots aimed at it and those disrupted) to its column arrays, and for the
    run ``payload.snapshot`` names, ``snapshot`` to the RunSnapshot of its end.
    """
    if isinstance(specs, Span):
        assert payload.plan is not None, "a span names runs of the payload's plan"
        specs = payload.plan.specs(specs.start, specs.stop)
    out = []
    for spec in specs:
        row: dict = {"run_id": spec.run_id, "status": "ok", "error": ""}
        tables: dict[str, Any] = {}
        try:
            scenario = _scenario_for(payload, spec.scenario, spec.overrides)
            keep = spec.run_id == payload.snapshot  # a kept run has streams of its own
            result = runner.run_one(scenario, spec.seed, payload.steps[spec.scenario],
                             timeseries=payload.timeseries, metrics=payload.metrics,
                             nations=payload.nations, keep_model=keep,
                             streams=None if keep else _streams())
            row.update({m: float(result.metrics[m]) for m in payload.metrics})
            if result.timeseries is not None:
                weeks = len(result.timeseries["step"])
                tables["ts"] = {"run_id": np.full(weeks, spec.run_id, np.int64),
                                **result.timeseries}
            if payload.nations:
                n = len(result.plots_by_base)
                tables["nat"] = {"run_id": np.full(n, spec.run_id, np.int64),
                                 "nation": np.arange(n, dtype=np.int64),
                                 "based": result.plots_by_base.astype(np.int64),
                                 **{name: row.astype(np.int64) for name, row in
                                    zip(PER_TARGET, result.targets, strict=True)}}
            if keep:
                tables["snapshot"] = RunSnapshot.of(result.model)
        except Exception as exc:  # a failed run is data, the sweep goes on
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
            row.update(dict.fromkeys(payload.metrics, float("nan")))
        out.append((row, tables))
    return out


_payload: Payload | None = None



def warm_up() -> None:
    """Run a two-week model of a three-nation world: loads every compiled phase."""
    from ctsim.core.scenario import scenario_from_dict

    scenario = scenario_from_dict({"name": "warm-up", "steps": 2,
                                   "world": {"nations": 3}, "threat": {"groups": 1}})
    runner.run_one(scenario, 1, 2)


def set_payload(payload: Payload) -> None:
    """The pool's initializer: keep the sweep's payload for every batch of this worker."""
    global _payload
    _payload = payload


def run_pooled(batch: list) -> list:
    """Run a batch with this worker's payload (:func:`run_batch`)."""
    assert _payload is not None, "set_payload runs first (the pool's initializer)"
    return run_batch(_payload, batch)
