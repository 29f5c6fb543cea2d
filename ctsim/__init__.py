"""ctsim: an agent-based simulation of international counter-terrorism cooperation.

>>> from ctsim import CooperationModel, load_scenario
>>> model = CooperationModel(rng=7)
>>> for _ in range(52):
...     model.step()

The model (and Mesa) are imported on first use, so reading scenario files stays quick.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ctsim.core.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from ctsim.core.model import CooperationModel

try:
    __version__ = version("ctsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["CooperationModel", "Scenario", "ScenarioError", "__version__", "load_scenario"]


def __getattr__(name: str) -> Any:
    if name == "CooperationModel":
        from ctsim.core.model import CooperationModel

        return CooperationModel
    raise AttributeError(f"module 'ctsim' has no attribute {name!r}")
