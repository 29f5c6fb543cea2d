"""ctsim: an agent-based simulation of international counter-terrorism cooperation.

>>> from ctsim import CooperationModel, load_scenario
>>> model = CooperationModel(rng=7)
>>> for _ in range(52):
...     model.step()
"""

from importlib.metadata import PackageNotFoundError, version

from ctsim.core import CooperationModel, Scenario, ScenarioError, load_scenario

try:
    __version__ = version("ctsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["CooperationModel", "Scenario", "ScenarioError", "__version__", "load_scenario"]
