"""ctsim: an agent-based simulation of international counter-terrorism cooperation.

>>> import ctsim
>>> outcome = ctsim.run("baseline", replications=2, steps=26, out="results/try")  # doctest: +SKIP
>>> model = ctsim.CooperationModel(rng=7)  # the Mesa model, one week per step()
>>> for _ in range(52):
...     model.step()

Everything is imported on first use, so ``import ctsim`` and the ``ctsim`` command start
at once; the model (and Mesa) load when a model is built.
"""

from typing import TYPE_CHECKING, Any

from ctsim._version import __version__

if TYPE_CHECKING:
    from ctsim.core.model import CooperationModel
    from ctsim.core.scenario import Scenario, load_scenario
    from ctsim.errors import CtsimError, ScenarioError
    from ctsim.runs.pipeline import compare, run, sweep
    from ctsim.runs.tournament import tournament

__all__ = ["CooperationModel", "CtsimError", "Scenario", "ScenarioError", "__version__",
           "compare", "load_scenario", "run", "sweep", "tournament"]

_WHERE = {
    "CooperationModel": "ctsim.core.model",
    "Scenario": "ctsim.core.scenario",
    "load_scenario": "ctsim.core.scenario",
    "CtsimError": "ctsim.errors",
    "ScenarioError": "ctsim.errors",
    "run": "ctsim.runs.pipeline",
    "compare": "ctsim.runs.pipeline",
    "sweep": "ctsim.runs.pipeline",
    "tournament": "ctsim.runs.tournament",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'ctsim' has no attribute {name!r}")
