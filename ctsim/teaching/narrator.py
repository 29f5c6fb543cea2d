"""What happened this week, in plain words: the teaching page's narrator.

:func:`week_events` reads the week's event log, which the phases write as things happen
(each kind declared in :data:`ctsim.core.outputs.LOGGED`: a leak, a leaked hub post, an
attack, a refused extradition, a joint disruption, a group moving, a shock, a withholding
an inquiry revealed, a nation copying a partner's strategy), and names each event in a
sentence, most important first; :func:`headline` keeps the one to three a
class should hear about, and :func:`position` says where the run's disruption rate sits
between its no-cooperation and full-cooperation references.

Nothing here draws a random number or changes the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ctsim.core import outputs, rules
from ctsim.core.strategies import (
    FOLLOW,
    FORGIVING,
    GRUDGING,
    RECIPROCAL,
    STRATEGIES,
    TRUSTING,
    WITHHOLD_DECIDED,
)

#: Event kinds, most important first (the order :func:`headline` keeps them in): the kinds
#: of the event log, as :data:`ctsim.core.outputs.LOGGED` declares them.
KINDS = tuple(outputs.LOGGED)


@dataclass(frozen=True)
class Event:
    """One thing that happened in week ``week``: its ``kind`` (one of :data:`KINDS`), a
    sentence, and the nations it names (indices, for highlighting)."""

    kind: str
    week: int
    text: str
    nations: tuple[int, ...] = ()


def week_events(model: Any) -> list[Event]:
    """The events of the week ``model`` (a CooperationModel or Simulation) just ran, most
    important first, from its event log (``model.week_log``)."""
    w, plots, t = model.world, model.plots, int(model.steps)
    names, hubs = w.names, [h.replace("_", " ") for h in w.inst_names]
    blocs = [b.replace("_", " ") for b in w.bloc_names]
    log = model.week_log
    events: list[Event] = []
    told: set[tuple[int, int]] = set()
    for e in log:
        if e.kind == "leak":
            sender, leaker, plot = e.a, e.b, e.c
            events.append(Event("leak", t, (
                f"{names[leaker]} leaked a fragment it got from {names[sender]} about the "
                f"plot against {names[plots.target[plot]]}: the plotters are alerted and all "
                f"evidence on it is lost. {names[sender]}'s trust in {names[leaker]} falls "
                f"from {e.value:.2f} to {model.trust[sender, leaker]:.2f}."
                + answer(model, sender, leaker, names[leaker], "A leak is a defection "
                         f"{names[sender]} sees")),
                (sender, leaker)))
        elif e.kind == "hub_leak":
            sender, hub = e.a, e.b
            events.append(Event("hub_leak", t, (
                f"A fragment {names[sender]} posted to {hubs[hub]} leaked: the plot is "
                f"alerted. {names[sender]}'s trust in {hubs[hub]} falls from {e.value:.2f} "
                f"to {model.inst_trust[sender, hub]:.2f}."
                + answer(model, sender, w.n + hub, hubs[hub], "A leaked post is a "
                         f"defection {names[sender]} sees")), (sender,)))
        elif e.kind == "withholding":
            if (e.a, e.b) in told:  # one sentence a week for each pair
                continue
            told.add((e.a, e.b))
            events.append(_withholding(model, e.a, e.b, e.c, e.value))
        elif e.kind == "imitation":
            nation, old, new = e.a, e.b, e.c
            events.append(Event("imitation", t, (
                f"{names[nation]} compared its year with a partner's and copied the "
                f"partner's strategy: it now plays {STRATEGIES[new].label}, not "
                f"{STRATEGIES[old].label}."), (nation,)))
        elif e.kind == "attack":
            events.append(_attack(model, e.a, e.b, e.c))
        elif e.kind == "joint":
            j, partner, plot = e.a, e.b, e.c
            target = ("a plot against itself" if plots.target[plot] == j
                      else f"the plot against {names[plots.target[plot]]}")
            events.append(Event("joint", t, (
                f"{names[j]} disrupted {target} with a fragment from {names[partner]}, and "
                f"now trusts {names[partner]} more."), (j, partner)))
        elif e.kind == "move":
            old, new = e.b, e.c
            events.append(Event("move", t, (
                f"A group moved its base from {names[old]} to {names[new]}, where about "
                f"{haven_safety(model, new):.0%} of the plots seem to escape disruption."),
                (old, new)))
        elif e.kind == "shock":
            events.append(Event("shock", t, (
                f"A geopolitical shock: trust between the {blocs[e.a]} and {blocs[e.b]} "
                "blocs falls at once.")))
    events += _refusals(model, [e for e in log if e.kind == "refusal"])
    return sorted(events, key=lambda e: KINDS.index(e.kind))


def _withholding(model: Any, finder: int, withheld: int, plot: int, before: float) -> Event:
    """The sentence of an inquiry that showed ``finder`` that ``withheld`` held back a
    fragment about ``plot``, which has just attacked (MODEL.md C2); ``before`` is the
    finder's trust in the partner before it found out."""
    names = model.world.names
    target = int(model.plots.target[plot])
    struck = "it" if target == finder else names[target]
    text = (f"After the attack, an inquiry: {names[finder]} found out that "
            f"{names[withheld]} held back what it knew about the plot that struck {struck}.")
    if model.relations.strategy[finder] == TRUSTING and model.trust[finder, withheld] < before:
        text += (f" {names[finder]}'s trust in {names[withheld]} falls from {before:.2f} to "
                 f"{model.trust[finder, withheld]:.2f}.")
    text += answer(model, finder, withheld, names[withheld], "")
    return Event("withholding", int(model.steps), text, (finder, withheld))


def answer(model: Any, nation: int, partner: int, name: str, lead: str) -> str:
    """What ``nation`` does now about ``partner`` (a nation, or ``N + h`` for hub h, called
    ``name``) after seeing it defect, by its strategy (MODEL.md C3) or the decision a
    person set for it (C6), as a sentence starting with ``lead`` (or ``""`` when its
    strategy does not answer defections: trusting, always, never)."""
    names = model.world.names
    who = names[nation]
    if model.relations.decision[nation, partner] != FOLLOW:
        doing = ("withholds" if model.relations.decision[nation, partner] == WITHHOLD_DECIDED
                 else "shares")
        return f" {lead + ': ' if lead else ''}{who} is played by hand and {doing} for now."
    strategy = int(model.relations.strategy[nation])
    label = STRATEGIES[strategy].label
    reply = {
        RECIPROCAL: f"it now holds back from {name} until {name} shares with it again",
        FORGIVING: f"it now shares with {name} only now and then, until {name} shares "
                   "with it again",
        GRUDGING: f"it will never share with {name} again",
    }.get(strategy)
    if reply is None:
        return ""
    head = f"{lead}; playing {label}" if lead else f"Playing {label}"
    return f" {head}, {reply}."


def _attack(model: Any, target: int, base: int, plot: int) -> Event:
    """The sentence of an attack on ``target`` by a plot hatched in ``base``."""
    names = model.world.names
    where = ("a plot hatched at home" if target == base
             else f"a plot from a group based in {names[base]}")
    if model.plots.failed[plot]:
        text = f"An attack on {names[target]} failed ({where}): its defences held."
    else:
        text = f"An attack struck {names[target]} ({where})."
    if model.config.threat.surge > 0:
        text += (f" {names[target]} now shares more: its salience is "
                 f"{model.salience[target]:.2f} and fades by half every "
                 f"{model.config.threat.surge_half_life:g} weeks.")
    return Event("attack", int(model.steps), text, (target, base))


def _refusals(model: Any, refused: list) -> list[Event]:
    """One sentence per base that refused this week to hand over plotters that other
    states had caught (``refused``: the week's ``refusal`` events)."""
    names = model.world.names
    asked: dict[int, list[int]] = {}
    for e in refused:
        asked.setdefault(e.a, [])
        if e.b not in asked[e.a]:
            asked[e.a].append(e.b)
    events = []
    for base, who in asked.items():
        treaty = all(model.relations.treaty[base, j] for j in who)  # in force now
        why = ("their legal systems are too far apart" if treaty
               else "there is no extradition treaty")
        events.append(Event("refusal", int(model.steps), (
            f"{names[base]} refused to extradite plotters "
            f"{' and '.join(names[j] for j in who)} had caught ({why}): they walk free, and "
            f"groups see {names[base]} as a safer haven."), (base, *who)))
    return events


def haven_safety(model: Any, nation: int) -> float:
    """How safe groups think ``nation`` is as a base (rules.haven_safety), in (0, 1)."""
    tally = model.tally
    return float(rules.haven_safety(float(model.relations.capacity[nation]),
                                    float(tally.undisrupted_at[nation]),
                                    float(tally.resolved_at[nation])))


def headline(events: list[Event], most: int = 3) -> list[Event]:
    """The one to ``most`` events a class should hear about: the first of each kind, in
    the order of :data:`KINDS`, then more of the same kinds if there is room."""
    first, rest, seen = [], [], set()
    for e in events:
        (rest if e.kind in seen else first).append(e)
        seen.add(e.kind)
    return (first + rest)[:most]


def position(rate: float, none: float, full: float) -> str:
    """Where a disruption rate sits between the no-cooperation (``none``) and the
    full-cooperation (``full``) references, in one or two sentences (rates in [0, 1])."""
    if not np.isfinite(rate) or not np.isfinite(none) or not np.isfinite(full):
        return ("No plot has reached its attack week yet: the disruption rate is not known "
                "until plots are settled.")
    gap = full - none
    head = (f"Disruption rate {rate:.2f}, against {none:.2f} with no cooperation and "
            f"{full:.2f} with every barrier lifted.")
    if abs(gap) < 0.02:
        return head + " The two references are still too close to tell the settings apart."
    share = (rate - none) / gap
    if share <= 0.05:
        verdict = "Cooperation is doing almost nothing here: the barriers block it."
    elif share >= 0.95:
        verdict = "The current settings get as much from cooperation as a world without barriers."
    else:
        verdict = (f"The current settings recover {share:.0%} of what cooperation without "
                   "barriers would add.")
    return f"{head} {verdict}"
