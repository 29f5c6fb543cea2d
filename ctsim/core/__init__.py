"""The model core: scenario schema, world building, agents, rules, threat and metrics.

This package imports nothing from the rest of ctsim (runners, stores, figures, app, CLI).
"""

from ctsim.core.model import CooperationModel
from ctsim.core.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["CooperationModel", "Scenario", "ScenarioError", "load_scenario"]
