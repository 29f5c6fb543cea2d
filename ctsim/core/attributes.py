"""The nations' numeric attributes, each declared once.

A nation attribute is a number in [0, 1] per nation (MODEL.md, Entities), drawn for
generated nations from a Beta distribution with the declared default mean and spread.
Everything else about it comes from its one :class:`Attribute` in :data:`ATTRIBUTES`:

- the scenario keys (:mod:`ctsim.core.scenario`): ``world.<name>``, the distribution
  generated nations draw from; ``world.nations[].<name>``, a listed nation's own value;
  ``world.shared[].<name>`` and ``world.countries.<state>.<name>``, a dataset state's value
  set by hand (their meanings, labels and defaults are written from the declaration's);
- the world's array ``World.<name>`` (:mod:`ctsim.core.world`): drawn in the order of this
  table, the dataset's column where it has one, then the values the scenario gives;
- the compiled field the phases read (:mod:`ctsim.core.state`): ``Nations.<name>`` for a
  static attribute, ``Relations.<name>`` for a dynamic one (a mechanism changes it during
  a run, so each run starts from a copy of the world's);
- the Mesa agent's property ``Nation.<name>`` (:mod:`ctsim.core.agents`): the value now.

A new attribute is one more entry at the end (``drawn_first`` left False: it is drawn
after everything else, so the worlds of existing scenarios stay the same draw for draw),
then the rule that uses it and the phase line that calls the rule (docs/ODD.md,
"Extending the model").

Declared elsewhere, on purpose: ``legal_family`` is categorical (a weighted choice among
:data:`ctsim.core.scenario.LEGAL_FAMILIES`, entering the rules through the family
compatibility matrix, not as a number); ``bloc`` and ``region`` are labels;
``target_weight`` is a weight >= 0 with bases of its own (``threat.targets``); and
``memberships`` is a set of labels. Each keeps its explicit fields in the schema, the
world and the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: What every attribute measures in: a share, [0, 1] (a Beta draw).
UNIT = "share"


@dataclass(frozen=True)
class Attribute:
    """One numeric attribute of every nation.

    Attributes:
        name: the key and array name, e.g. ``"capacity"``.
        what: what it is, a noun phrase that reads after "its" ("intelligence capacity").
        label: a short plain name for figures and reports (``world.<name>``'s label).
        meaning: what ``world.<name>`` sets and where the value enters the rules (ODD.md
            section numbers), as docs/scenarios.md shows it.
        default: (mean, spread) of the Beta distribution generated nations draw from.
        changes: what changes it during a run (then it is dynamic); empty: static.
        column: the column of ``ctsim/data/nations.csv`` that gives it for a dataset's
            states (None: drawn for them too).
        source: the MODEL.md section that adds it ("B1"); empty for MODEL.md's entities.
        drawn_first: drawn before the rest of the world (the attributes of MODEL.md's
            entities); a new attribute is drawn last, so existing worlds stay the same.
        drawn_last: drawn after everything else, the strategies of MODEL.md C3 included
            (the attributes of section D), so worlds with a mix of strategies stay the same.
        parts: the registry's entries for ``world.<name>.mean`` and ``.spread`` (labels,
            teaching controls; see ``scenario._key``).
    """

    name: str
    what: str
    label: str
    meaning: str
    default: tuple[float, float]
    changes: str = ""
    column: str | None = None
    source: str = ""
    drawn_first: bool = False
    drawn_last: bool = False
    parts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dynamic(self) -> bool:
        """Whether a mechanism changes it during a run (it lives in ``Relations``)."""
        return bool(self.changes)

    @property
    def doc(self) -> str:
        """One line on the value: what it is, its range, and what changes it."""
        now = " now" if self.dynamic else ""
        then = f" ({self.changes})" if self.changes else ""
        return f"{self.what[0].upper()}{self.what[1:]}{now}, in [0, 1]{then}."


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "capacity", "intelligence capacity", "capacity",
        "intelligence capacity; detection (7.2), interdiction (7.10), groups' haven prior "
        "(7.21), quartiles of `disruption_rate_q*`", (0.5, 0.2),
        changes="raised by joint training during a run, MODEL.md B4", column="capacity",
        drawn_first=True,
        parts={"mean": {"label": "mean capacity"},
               "spread": {"label": "capacity spread",
                          "control": {"name": "capacity_spread",
                                      "hint": "how unequal states' capacity is (sd)",
                                      "order": 5, "max": 0.45, "step": 0.05}}}),
    Attribute(
        "sovereignty", "sovereignty sensitivity", "sovereignty",
        "sovereignty sensitivity; willingness to share (7.4, 7.17)", (0.5, 0.2),
        drawn_first=True,
        parts={"mean": {"label": "sovereignty sensitivity",
                        "control": {"name": "sovereignty",
                                    "hint": "mean caution about sharing",
                                    "order": 1, "step": 0.05}}}),
    Attribute(
        "security", "confidentiality protocols", "security",
        "confidentiality protocols; leak probability (7.8, 7.9)", (0.8, 0.1),
        drawn_first=True, parts={"mean": {"label": "confidentiality (security)"}}),
    Attribute(
        "tech", "adoption of AI and data analysis", "AI adoption",
        "adoption of AI and data analysis; detection (7.2)", (0.2, 0.1), drawn_first=True),
    Attribute(
        "definition", "legal definition of terrorism", "legal definition",
        "position of the legal definition of terrorism; legal compatibility (7.5)",
        (0.5, 0.15), changes="moved by norm convergence during a run, MODEL.md B5",
        drawn_first=True,
        parts={"spread": {"label": "spread of legal definitions",
                          "control": {"name": "definition_spread",
                                      "hint": "how far definitions of terrorism differ (sd)",
                                      "order": 3, "max": 0.45, "step": 0.05}}}),
    Attribute(
        "cft", "counter-financing capacity", "counter-financing capacity",
        "counter-financing capacity: how well a nation's financial intelligence unit finds a "
        "plot's money trail (MODEL.md B1: `financing_detection * cft`); dataset worlds set it "
        "by FATF membership in `world.shared`. Drawn after every other attribute, so worlds "
        "without it are unchanged", (0.0, 0.0), source="B1"),
    Attribute(
        "privacy", "data-protection regime's strictness", "privacy regime",
        "strictness of the data-protection regime (MODEL.md B7): a court under a stricter "
        "regime than the sender's admits less of what it receives (`legal.privacy_gap`). "
        "Drawn after every other attribute", (0.0, 0.0), source="B7"),
    Attribute(
        "reach", "reach beyond its borders", "intelligence reach",
        "reach of its foreign intelligence beyond its borders (MODEL.md D9): each week it "
        "collects a fragment about a plot outside its territory with `reach_rate * reach * "
        "capacity`; an assumption to calibrate (large services with global collection have "
        "high reach). Drawn after everything else", (0.0, 0.0), source="D9", drawn_last=True),
)

#: The attributes by name, in the table's order.
BY_NAME: dict[str, Attribute] = {a.name: a for a in ATTRIBUTES}
#: Static attributes (compiled into ``Nations``) and dynamic ones (``Relations``).
STATIC: tuple[Attribute, ...] = tuple(a for a in ATTRIBUTES if not a.dynamic)
DYNAMIC: tuple[Attribute, ...] = tuple(a for a in ATTRIBUTES if a.dynamic)
