"""The sharing strategies a nation can hold, what a partner's acts are, and what a person at
the controls can decide (MODEL.md C2, C3, C6), each declared once.

Light on purpose (no numba): the schema (:mod:`ctsim.core.scenario`) validates
``world.strategies`` against these names, the rules (:mod:`ctsim.core.rules`) compile the
index constants, the outputs (:mod:`ctsim.core.outputs`) name a column per strategy, and
the page and the tournament show the meanings.

A strategy says what nation i does with a fragment for partner j (a nation, or a hub,
for which "defected" means a post that leaked from it), given j's last revealed act
toward i (:data:`ACTS`). Its willingness is then multiplied by the stake (C1) when i is not
the plot's target. Sources: the iterated prisoner's dilemma and its tournaments (Axelrod
1984), with noise (Wu & Axelrod 1995); intelligence sharing as a repeated game between
states that cannot see each other's withholding (Walsh 2010).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Strategy:
    """One sharing strategy.

    Attributes:
        name: the value of ``world.strategies`` and of a nation's ``strategy``.
        label: its plain name for people (the page, the tournament's figures).
        rule: the willingness it gives, as MODEL.md C3 writes it.
        story: what it is, in a sentence a class can read.
    """

    name: str
    label: str
    rule: str
    story: str


#: The strategies, in the order of their index (``TRUSTING`` = 0 ...). A new one goes last.
STRATEGIES: tuple[Strategy, ...] = (
    Strategy("trusting", "trusting", "`T[i, j] * (1 - sovereignty_i * s)` (v1, default)",
             "shares as far as it trusts the partner, which grows with useful sharing and "
             "breaks with leaks"),
    Strategy("always", "always shares", "`1 - sovereignty_i * s`",
             "shares whatever the partner did"),
    Strategy("never", "never shares", "0", "keeps everything it learns to itself"),
    Strategy("reciprocal", "tit for tat",
             "`1 - sovereignty_i * s`, or 0 if the partner's last revealed act was a "
             "defection",
             "shares until it sees the partner defect, then holds back until the partner "
             "shares again"),
    Strategy("forgiving", "generous tit for tat",
             "as `reciprocal`, but after a defection `forgiveness * (1 - sovereignty_i * s)`",
             "like tit for tat, but now and then shares again after a defection"),
    Strategy("grudging", "grim trigger",
             "`1 - sovereignty_i * s` until the partner's first revealed defection, then 0",
             "shares until the partner's first defection, then never again"),
)
NAMES: tuple[str, ...] = tuple(s.name for s in STRATEGIES)
BY_NAME: dict[str, Strategy] = {s.name: s for s in STRATEGIES}
TRUSTING, ALWAYS, NEVER, RECIPROCAL, FORGIVING, GRUDGING = range(len(STRATEGIES))
#: The default of ``world.strategies``: every nation trusting (the v1 rule).
DEFAULT = "trusting"

#: A partner's last revealed act toward a nation (``Relations.revealed``, MODEL.md C2):
#: nothing seen yet, a fragment received from it, a defection (a leak of what the nation
#: sent it, or a withholding an inquiry revealed).
ACTS: tuple[str, ...] = ("none", "shared", "defected")
NO_ACT, SHARED, DEFECTED = range(len(ACTS))

#: A person's decision for a partner (``Relations.decision``, MODEL.md C6): follow the
#: nation's strategy, share (as ``always``) or withhold (as ``never``).
DECISIONS: tuple[str, ...] = ("strategy", "share", "withhold")
FOLLOW, SHARE_DECIDED, WITHHOLD_DECIDED = range(len(DECISIONS))
#: What a person may decide for a nation about plotters a partner caught and asks for
#: (MODEL.md step 6, C6): hand them over where the law allows, or refuse.
HANDOVER: tuple[str, ...] = ("extradite", "refuse")
