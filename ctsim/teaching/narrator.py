"""What happened this week, in plain words: the teaching page's narrator.

:class:`Before` keeps the little a week changes that the run does not record as an event
(each plot's alert epoch, the groups' bases, trust, the bases' walk-free counts);
:func:`week_events` compares it with the run after the week and names the week's events,
most important first (a leak, an attack, a refused extradition, a joint disruption, a group
moving, a shock); :func:`headline` keeps the one to three a class should hear about, and
:func:`position` says where the run's disruption rate sits between its no-cooperation and
full-cooperation references.

Nothing here draws a random number or changes the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ctsim.core import rules
from ctsim.core.state import ATTACKED, DISRUPTED, EXTRADITIONS_REFUSED, SHOCKS

#: Event kinds, most important first (the order :func:`headline` keeps them in).
KINDS = ("leak", "hub_leak", "attack", "refusal", "joint", "move", "shock")


@dataclass(frozen=True)
class Event:
    """One thing that happened in week ``week``: its ``kind`` (one of :data:`KINDS`), a
    sentence, and the nations it names (indices, for highlighting)."""

    kind: str
    week: int
    text: str
    nations: tuple[int, ...] = ()


@dataclass(frozen=True)
class Before:
    """What a run looked like before a week (see the module's docstring)."""

    week: int
    epoch: np.ndarray
    bases: np.ndarray
    trust: np.ndarray
    hub_trust: np.ndarray
    undisrupted_at: np.ndarray

    @classmethod
    def of(cls, model: Any) -> Before:
        """The state of ``model`` (a CooperationModel or Simulation) now."""
        plots = model.plots
        return cls(week=int(model.steps), epoch=plots.epoch[: plots.n].copy(),
                   bases=model.groups.base.copy(), trust=model.trust.copy(),
                   hub_trust=model.inst_trust.copy(),
                   undisrupted_at=model.tally.undisrupted_at.copy())


def week_events(before: Before, model: Any) -> list[Event]:
    """The events of the week ``model`` just ran after ``before``, most important first."""
    w, plots, t = model.world, model.plots, int(model.steps)
    names, hubs = w.names, [h.replace("_", " ") for h in w.inst_names]
    events: list[Event] = []
    n_before = len(before.epoch)
    alerted = [int(k) for k in np.flatnonzero(plots.epoch[:n_before] != before.epoch)]

    def footprint(k: int) -> list[int]:
        return [int(x) for x in plots.foot[k, : plots.size[k]]]

    for sender, leaker in model.week_leaks:
        plot = next((k for k in alerted if {sender, leaker} <= set(footprint(k))),
                    alerted[0] if alerted else None)
        was, now = before.trust[sender, leaker], model.trust[sender, leaker]
        about = (f" about the plot against {names[plots.target[plot]]}: the plotters are "
                 "alerted and all evidence on it is lost" if plot is not None else "")
        events.append(Event("leak", t, (
            f"{names[leaker]} leaked a fragment it got from {names[sender]}{about}. "
            f"{names[sender]}'s trust in {names[leaker]} falls from {was:.2f} to {now:.2f}."),
            (sender, leaker)))
    for sender, hub in model.week_hub_leaks:
        was, now = before.hub_trust[sender, hub], model.inst_trust[sender, hub]
        events.append(Event("hub_leak", t, (
            f"A fragment {names[sender]} posted to {hubs[hub]} leaked: the plot is alerted. "
            f"{names[sender]}'s trust in {hubs[hub]} falls from {was:.2f} to {now:.2f}."),
            (sender,)))

    settled = np.flatnonzero(plots.resolved[: plots.n] == t)
    surge = model.config.threat.surge > 0
    attacked = settled[plots.status[settled] == ATTACKED]
    for k in attacked:
        target, base = int(plots.target[k]), int(plots.base[k])
        where = ("a plot hatched at home" if target == base
                 else f"a plot from a group based in {names[base]}")
        if plots.failed[k]:
            text = f"An attack on {names[target]} failed ({where}): its defences held."
        else:
            text = f"An attack struck {names[target]} ({where})."
        if surge:
            text += (f" {names[target]} now shares more: its salience is "
                     f"{model.salience[target]:.2f} and fades by half every "
                     f"{model.config.threat.surge_half_life:g} weeks.")
        events.append(Event("attack", t, text, (target, base)))

    disrupted = settled[plots.status[settled] == DISRUPTED]
    if model.counts.week["extraditions_refused"]:
        events += _refusals(before, model, attacked, disrupted)
    helped = dict(model.week_joint)
    for k in disrupted:
        j = int(plots.disrupter[k])
        if plots.foreign[k] and j in helped:
            partner = helped[j]
            target = ("a plot against itself" if plots.target[k] == j
                      else f"the plot against {names[plots.target[k]]}")
            events.append(Event("joint", t, (
                f"{names[j]} disrupted {target} with a fragment from {names[partner]}, and "
                f"now trusts {names[partner]} more."), (j, partner)))
    for g in np.flatnonzero(model.groups.base != before.bases):
        old, new = int(before.bases[g]), int(model.groups.base[g])
        safety = haven_safety(model, new)
        events.append(Event("move", t, (
            f"A group moved its base from {names[old]} to {names[new]}, where about "
            f"{safety:.0%} of the plots seem to escape disruption."), (old, new)))
    if model.tally.week[SHOCKS]:
        events.append(Event("shock", t, "A geopolitical shock: trust between two rival blocs "
                                        "falls at once."))
    return sorted(events, key=lambda e: KINDS.index(e.kind))


def _refusals(before: Before, model: Any, attacked: np.ndarray,
              disrupted: np.ndarray) -> list[Event]:
    """The week's refused extraditions: a base whose walk-free count rose by more than the
    week's attacks from it (``attacked``: this week's attacking plots) refused to hand over
    plotters a foreign state had caught (``disrupted``: this week's disrupted plots)."""
    w, plots = model.world, model.plots
    attacked_from = np.bincount(plots.base[attacked], minlength=w.n)
    refused = model.tally.undisrupted_at - before.undisrupted_at - attacked_from
    events = []
    for base in np.flatnonzero(refused > 0.5):
        asked = sorted({int(plots.disrupter[k]) for k in disrupted
                        if plots.base[k] == base and plots.disrupter[k] != base})
        if not asked:
            continue
        who = " and ".join(w.names[j] for j in asked)
        treaty = all(model.relations.treaty[base, j] for j in asked)  # in force now
        why = ("their legal systems are too far apart" if treaty
               else "there is no extradition treaty")
        events.append(Event("refusal", int(model.steps), (
            f"{w.names[base]} refused to extradite plotters {who} had caught ({why}): they "
            f"walk free, and groups see {w.names[base]} as a safer haven."),
            (int(base), *asked)))
    if not events and model.tally.week[EXTRADITIONS_REFUSED]:
        events.append(Event("refusal", int(model.steps),
                            "An extradition was refused: the plotters walk free."))
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
