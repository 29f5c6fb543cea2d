"""The model core: scenario schema, world building, state, rules, phases and metrics.

This package imports nothing from the rest of ctsim (runners, stores, figures, app, CLI).
Its names are imported on first use, so reading a bound (:mod:`ctsim.core.limits`) does
not load the schema, and the model (and so Mesa) loads when ``CooperationModel`` is used.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ctsim.core.model import CooperationModel
    from ctsim.core.scenario import Scenario, ScenarioError, load_scenario
    from ctsim.core.simulation import Simulation

__all__ = ["CooperationModel", "Scenario", "ScenarioError", "Simulation", "load_scenario"]

_WHERE = {"CooperationModel": "ctsim.core.model", "Scenario": "ctsim.core.scenario",
          "ScenarioError": "ctsim.core.scenario", "load_scenario": "ctsim.core.scenario",
          "Simulation": "ctsim.core.simulation"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ctsim.core' has no attribute {name!r}")
