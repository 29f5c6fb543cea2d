"""Guided lessons: a question, a scenario, what to notice and try, and a checked claim.

Each :class:`Lesson` follows the Info tab of NetLogo's library models (TEACHING.md), with
one addition: :attr:`Lesson.claim` states what students will see as a comparison that
tests/test_lessons.py runs against the model. The app's lesson picker lists
:data:`LESSONS`; docs/lessons.md is the printed version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

#: The app's controls and the scenario keys they set (docs/lessons.md names them so).
CONTROLS: dict[str, str] = {
    "regime": "cooperation.regime",
    "sovereignty": "world.sovereignty.mean",
    "harmonization": "legal.harmonization",
    "definition_spread": "world.definition.spread",
    "tension": "relations.tension",
    "capacity_spread": "world.capacity.spread",
    "leak_rate": "threat.leak_rate",
    "ai_detection": "threat.ai_boost",
}

LESSON_DIR = Path(__file__).resolve().parents[1] / "scenarios" / "lessons"


@dataclass(frozen=True)
class Claim:
    """What the lesson says students will see: ``metric`` at ``b`` against ``a``.

    The setting ``key`` (an app control name from :data:`CONTROLS`, or any dotted scenario
    key) takes value ``a`` and then ``b`` on the lesson's scenario; ``direction`` says
    whether the metric is ``higher`` or ``lower`` at ``b``, by more than the 95% interval
    of the paired difference over ``replications`` runs (seeds from ``seed``).
    """

    key: str
    a: Any
    b: Any
    metric: str = "disruption_rate"
    direction: Literal["higher", "lower"] = "lower"
    replications: int = 12
    seed: int = 2024
    extra: dict[str, Any] = field(default_factory=dict)

    def scenario_key(self) -> str:
        """The dotted scenario key the claim moves."""
        return CONTROLS.get(self.key, self.key)


@dataclass(frozen=True)
class Lesson:
    """One lesson: see TEACHING.md for what each part is for."""

    name: str
    title: str
    question: str
    scenario: str  # file name in scenarios/lessons/
    notice: tuple[str, ...]
    try_: tuple[str, ...]
    shows: str
    real_world: str
    limits: str
    claim: Claim

    @property
    def path(self) -> Path:
        """The lesson's scenario file."""
        return LESSON_DIR / self.scenario


LESSONS: tuple[Lesson, ...] = ()


def lesson(name: str) -> Lesson:
    """The lesson called ``name``."""
    for item in LESSONS:
        if item.name == name:
            return item
    raise KeyError(f"no lesson '{name}' (there are: {', '.join(x.name for x in LESSONS)})")
