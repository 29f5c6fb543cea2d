"""The model core: scenario schema, world building, agents, rules, threat and metrics.

This package imports nothing from the rest of ctsim (runners, stores, figures, app, CLI).
The model (and so Mesa) is imported on first use of ``CooperationModel``.
"""

from typing import TYPE_CHECKING, Any

from ctsim.core.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from ctsim.core.model import CooperationModel

__all__ = ["CooperationModel", "Scenario", "ScenarioError", "load_scenario"]


def __getattr__(name: str) -> Any:
    if name == "CooperationModel":
        from ctsim.core.model import CooperationModel

        return CooperationModel
    raise AttributeError(f"module 'ctsim.core' has no attribute {name!r}")
