"""Nation agents: the per-nation view of the model's arrays.

A :class:`Nation` is a ``mesa.Agent`` whose attributes are read from the model's arrays
(``model.world`` for static attributes, ``model.relations`` and ``model.trust`` for the
dynamic ones), so the step stays vectorized while a reader can still write
``nation.capacity`` or ``nation.trust_in(other)``. Each numeric attribute of
:data:`ctsim.core.attributes.ATTRIBUTES` is a property of the same name, read from the
world (static) or from the run's relations (dynamic: its value now).
"""

from __future__ import annotations

from typing import Any, Protocol

import mesa

from ctsim.core.attributes import ATTRIBUTES, Attribute
from ctsim.core.scenario import LEGAL_FAMILIES
from ctsim.core.strategies import NAMES as STRATEGY_NAMES


class NationArrays(Protocol):
    """What a :class:`Nation` reads of its model (a :class:`~ctsim.core.model.CooperationModel`,
    a ``mesa.Model``): the world's static arrays and the run's state."""

    world: Any
    relations: Any
    setting: Any
    @property
    def trust(self) -> Any: ...
    @property
    def salience(self) -> Any: ...


class Nation(mesa.Agent):
    """One state: resources, sovereignty sensitivity, legal system, bloc and region.

    Args:
        model: the CooperationModel it belongs to.
        index: its row in the model's arrays (0..N-1).
    """

    model: NationArrays  # type: ignore[assignment]  # a CooperationModel

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    @property
    def name(self) -> str:
        """The nation's name."""
        return self.model.world.names[self.index]

    @property
    def legal_family(self) -> str:
        """Its legal system: common, civil, islamic, customary or mixed."""
        return LEGAL_FAMILIES[int(self.model.world.legal_family[self.index])]

    @property
    def bloc(self) -> str:
        """Its geopolitical bloc."""
        w = self.model.world
        return w.bloc_names[int(w.bloc[self.index])]

    @property
    def region(self) -> str:
        """Its geographic region."""
        w = self.model.world
        return w.region_names[int(w.region[self.index])]

    @property
    def strategy(self) -> str:
        """Its sharing strategy now (MODEL.md C3; imitation may change it, C5)."""
        return STRATEGY_NAMES[int(self.model.relations.strategy[self.index])]

    @property
    def patron(self) -> Nation | None:
        """Its patron under the hierarchy (MODEL.md C4), or None."""
        p = int(self.model.world.patron_of[self.index])
        return None if p < 0 else self.model.nations[p]  # type: ignore[attr-defined]

    @property
    def surging(self) -> bool:
        """Whether recent attacks have lowered its sovereignty sensitivity (post-attack surge:
        salience at least 1/2, rules.in_surge)."""
        from ctsim.core import rules

        return bool(rules.in_surge(self.model.salience[self.index]))

    def trust_in(self, other: Nation) -> float:
        """How far this nation trusts ``other`` now, in [0, 1] (directed)."""
        return float(self.model.trust[self.index, other.index])

    def compatibility_with(self, other: Nation) -> float:
        """Legal compatibility with ``other`` now, in [0, 1] (symmetric)."""
        return float(self.model.relations.compat[self.index, other.index])

    def has_treaty_with(self, other: Nation) -> bool:
        """Whether a bilateral agreement (sharing, legal assistance, extradition) binds the two
        now (treaties may form and lapse during a run, MODEL.md B6; under regime ``none``
        the world's treaties, which that regime leaves unused)."""
        if self.model.setting.cooperates:
            return bool(self.model.relations.treaty[self.index, other.index])
        return bool(self.model.world.treaty[self.index, other.index])

    def __repr__(self) -> str:
        return f"Nation({self.name!r}, capacity={self.capacity:.2f}, bloc={self.bloc!r})"


def _attribute(a: Attribute) -> property:
    """The property of nation attribute ``a``: the world's value, or for a dynamic one the
    run's value now (``model.relations``)."""
    where, name = ("relations" if a.dynamic else "world"), a.name

    def value(self: Nation) -> float:
        return float(getattr(getattr(self.model, where), name)[self.index])

    return property(value, doc=a.doc)


for _a in ATTRIBUTES:
    setattr(Nation, _a.name, _attribute(_a))
