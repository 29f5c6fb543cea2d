"""The Python API's arguments, checked where a call enters (``ctsim.run``, ``compare``,
``sweep``), with the bounds the ``ctsim`` command's options have.

A wrong argument (a type the function cannot use, a number out of range, an empty list of
scenarios) raises :class:`~ctsim.errors.ArgumentError`, a ``CtsimError``, before any
work: the API raises ctsim's own errors only (SCENARIO_FORMAT.md, "Bad input").
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX, WORKERS_MAX
from ctsim.errors import ArgumentError

#: Where runs may execute (``executor=``).
EXECUTORS = ("serial", "process", "dask")
#: The formats figures are drawn in (``figures=``, ``figure=``; ``--format``).
FORMATS = ("png", "svg", "pdf")


def check_arguments(function: str, given: Mapping[str, Any]) -> None:
    """Check the arguments of :func:`ctsim.runs.pipeline.run`, ``compare`` or ``sweep``.

    Args:
        function: "run", "compare" or "sweep".
        given: the call's arguments by name (the function's ``locals()`` on entry); names
            not listed here are not checked.

    Raises:
        ArgumentError: naming the function, the argument and what is wrong.
    """
    from ctsim.core.scenario import Scenario

    def fail(name: str, message: str) -> None:
        raise ArgumentError(f"ctsim.{function}: {name}: expected {message}, got "
                            f"{_shown(given[name])}")

    def whole(name: str, low: int, high: int, optional: bool) -> None:
        value = given[name]
        if value is None and optional:
            return
        if isinstance(value, bool) or not _is_int(value) or not low <= value <= high:
            fail(name, f"a whole number from {low:,} to {high:,}"
                 + (" (or None)" if optional else ""))

    def place(name: str) -> None:
        value = given[name]
        if value is not None and not isinstance(value, str | os.PathLike):
            fail(name, "a folder's path (a str or a Path) or None")

    def scenario(name: str, value: Any) -> None:
        if not isinstance(value, Scenario | str | os.PathLike):
            fail(name, "a Scenario, a scenario file's path or a shipped scenario's name")

    if function == "run":
        scenario("scenario", given["scenario"])
    if function == "compare":
        scenarios = given["scenarios"]
        if isinstance(scenarios, str | bytes | os.PathLike) or not isinstance(scenarios,
                                                                              Sequence):
            fail("scenarios", "a list of scenarios (Scenarios, files or shipped names)")
        if not scenarios:
            fail("scenarios", "at least one scenario")
        for item in scenarios:
            if not isinstance(item, Scenario | str | os.PathLike):
                raise ArgumentError(f"ctsim.compare: scenarios: expected each a Scenario, a "
                                    f"scenario file's path or a shipped scenario's name, got "
                                    f"{_shown(item)}")
        metrics = given["metrics"]
        if (isinstance(metrics, str) or not isinstance(metrics, Sequence) or not metrics
                or not all(isinstance(m, str) for m in metrics)):
            fail("metrics", "a non-empty list of metric names")
    if function == "sweep":
        from ctsim.runs.experiment import LoadedExperiment

        if not isinstance(given["experiment"], str | os.PathLike | LoadedExperiment):
            fail("experiment", "an experiment file's path, a shipped experiment's name or a "
                 "loaded experiment")
    if "replications" in given:
        whole("replications", 1, REPLICATIONS_MAX, optional=function != "compare")
    if "seed" in given:
        whole("seed", 0, SEED_MAX, optional=function == "run")
    if "steps" in given:
        whole("steps", 1, STEPS_MAX, optional=True)
    whole("workers", 1, WORKERS_MAX, optional=False)
    sets = given.get("sets")
    if sets is not None and (not isinstance(sets, Mapping)
                             or not all(isinstance(k, str) for k in sets)):
        fail("sets", "a mapping of dotted scenario keys to values, e.g. "
             "{'threat.leak_rate': 0.1}, or None")
    place("out")
    if "uncertainty" in given:
        place("uncertainty")
    executor = given.get("executor")
    if not (executor is None and function != "sweep") and executor not in EXECUTORS:
        fail("executor", f"one of {', '.join(EXECUTORS)}"
             + (" or None" if function != "sweep" else ""))
    scheduler = given.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        fail("scheduler", "a Dask scheduler's address (tcp://host:8786) or None")
    for flag in ("resume", "overwrite"):
        if flag in given and not isinstance(given[flag], bool):
            fail(flag, "True or False")
    if given.get("on_progress") is not None and not callable(given["on_progress"]):
        fail("on_progress", "a function of (runs done, runs failed) or None")
    for name in ("figures", "figure"):
        if given.get(name) is not None and given[name] not in FORMATS:
            fail(name, f"a figure format ({', '.join(FORMATS)}) or None")


def _is_int(value: Any) -> bool:
    """Whether ``value`` is a whole number of a kind Python or numpy uses (not a bool)."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value as an error shows it: its ``repr``, shortened."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({type(value).__name__})"
