"""The state the weekly phases work on, in a few named containers of preallocated arrays.

Each container is a ``NamedTuple`` of numpy arrays; compiled code receives it as a
:class:`Table` of the same arrays (:func:`compiled_view`), and the loops read and write
the arrays in place. Tables that grow during a run
(plots, fragments, deliveries, receipts) are allocated with room for a few weeks and
doubled between weeks when the next week might not fit (:func:`grow`); a count in a
one-element array says how many rows are in use.

- :class:`Setting`: the run's scalar parameters (read only), made from the schema: every
  plain key (``bool``, ``int`` or ``float``) of the sections in :data:`COMPILED_SECTIONS`
  under its own name, then the few values of :data:`DERIVED`, each with its reason.
- :class:`Nations`: the static world (the static nation attributes of
  :mod:`ctsim.core.attributes`, legal compatibility, channels, hubs).
- :class:`Relations`: trust between nations, members' trust in hubs, post-attack surges,
  and what section B changes (the dynamic nation attributes among it).
- :class:`Plots`: every plot of the run, indexed by plot id (ids are never reused).
- :class:`Fragments`: every fragment of intelligence, and who counts it as evidence.
- :class:`Mail`: deliveries in flight, this week's arrivals, and the receipts of fragments
  that other nations (or hubs) supplied, for learning.
- :class:`Groups`: the terrorist groups' bases and strengths.
- :class:`Tally`: counts (run totals and this week's), per-nation haven evidence, the
  week's notable events (leaks, joint disruptions) and the per-week record.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import config as numba_config
from numba import njit
from numba.core import cgutils, types
from numba.experimental import structref
from numba.extending import intrinsic

import ctsim.core._fresh  # (a stale compiled cache is cleared before use)
from ctsim.core import outputs
from ctsim.core.attributes import DYNAMIC, STATIC
from ctsim.core.rules import beta_parameters
from ctsim.core.scenario import Dist, Scenario
from ctsim.core.strategies import STRATEGIES

ACTIVE, DISRUPTED, ATTACKED, ABORTED = 0, 1, 2, 3  # a plot's status (ABORTED: D6)
BILATERAL = -1  # the ``via`` of a bilateral delivery or receipt; hubs are 0..H-1

#: The counted events (columns of ``Tally.total``/``Tally.week``), in the order
#: :data:`ctsim.core.outputs.EVENTS` declares them; each has an index constant ``N_<NAME>``
#: (``N_LEAKS`` for ``leaks``), made here from that declaration.
COUNTED: tuple[str, ...] = tuple(outputs.EVENTS)
globals().update({f"N_{name.upper()}": k for k, name in enumerate(COUNTED)})

#: The kinds of the week's event log (:data:`ctsim.core.outputs.LOGGED`), each with an
#: index constant ``LOG_<NAME>`` (``LOG_LEAK`` for ``leak``), made here from that declaration.
LOGGED: tuple[str, ...] = tuple(outputs.LOGGED)
globals().update({f"LOG_{name.upper()}": k for k, name in enumerate(LOGGED)})

#: The per-week record (``Tally.record``, phase 9; row 0 is the start), laid out as
#: :mod:`ctsim.core.outputs` declares it: the disruption rate to date, the running totals
#: (``RECORDED_TOTALS``: column name, event index), this week's counts (``RECORDED_WEEK``),
#: then the state. Its columns, in this order, are the DataCollector's table.
RECORDED_TOTALS = tuple((name, COUNTED.index(name)) for name in outputs.RECORD_TOTALS)
RECORDED_WEEK = tuple((outputs.week_column(name), COUNTED.index(name))
                      for name in outputs.RECORD_WEEK)
RECORDED_STATE = tuple(outputs.STATE)
RECORDED = ("disruption_rate", *(name for name, _ in RECORDED_TOTALS),
            *(name for name, _ in RECORDED_WEEK), *RECORDED_STATE)
#: Where the counted columns read from (indices of COUNTED), for the compiled record.
TOTAL_SOURCES = np.array([k for _, k in RECORDED_TOTALS], np.int64)
WEEK_SOURCES = np.array([k for _, k in RECORDED_WEEK], np.int64)
#: The recorded columns that are counts (reported as ints); the others are rates and means.
RECORDED_COUNTS = frozenset(RECORDED) - {"disruption_rate", "mean_trust", "haven_concentration"}
#: Where the state columns start in a row of the record.
STATE_COLUMN = 1 + len(RECORDED_TOTALS) + len(RECORDED_WEEK)

#: The phases that draw random numbers, each from its own Generator (in this order).
#: A stream added later goes last, so the streams before it stay the same.
STREAMS = ("spawn", "collect", "share", "leak", "act", "prosecute", "drift", "attack",
           "finance", "border", "online", "evolve", "alarm", "inquiry", "imitation", "tipoff",
           "judicare", "reach", "directed", "mode")
(SPAWN, COLLECT, SHARE, LEAK, ACT, PROSECUTE, DRIFT, ATTACK, FINANCE, BORDER, ONLINE, EVOLVE,
 ALARM, INQUIRY, IMITATION, TIPOFF, JUDICARE, REACH, DIRECTED, MODE) = range(len(STREAMS))
#: What an alerted plot does (``threat.alert_effect``, D6), as the phases read it.
ALERT_EFFECTS = ("reset", "accelerate", "abort")
RESET, ACCELERATE, ABORT = range(len(ALERT_EFFECTS))

#: What a fragment is (``Fragments.kind``): police intelligence (collected, or found at a
#: border, B2), a financial intelligence unit's find (B1), or a company's record of a
#: plot's online trace (B3).
POLICE, FINANCIAL, ONLINE_TRACE = 0, 1, 2
#: The ``via`` of a company record reached by a direct-access agreement (B3); it is
#: delivered like a bilateral one, from the provider's nation, and always admissible.
DIRECT = -2
#: What a hub carries (``Nations.hub_kind``): police intelligence, financial intelligence
#: between financial intelligence units (B1), or nothing (a forum of norms or training,
#: B4, B5).
HUB_POLICE, HUB_FIU, HUB_FORUM = 0, 1, 2


# ---------------------------------------------------------------- the run's parameters
#
# ``Setting`` is made from the schema, not written out: every plain key (a field whose
# type is exactly bool, int or float) of the sections in COMPILED_SECTIONS is a field of
# the same name and type, so a phase reads ``par.evidence_threshold`` for the key
# ``threat.evidence_threshold``; then the values of DERIVED, each computed from the
# scenario and its world, with its reason. A new key of those sections is a new field with
# no edit here. Fields come in a fixed order (the schema's, then DERIVED's), so the type
# numba compiles for is the same from one process to the next (and a change of it clears
# the compiled cache: clear_cache_if_layout_changed).

#: The scenario's sections whose plain keys the phases read by their own names.
COMPILED_SECTIONS = ("relations", "legal", "cooperation", "trust_dynamics", "threat")
#: The Python type of a compiled key, and the numba type it is compiled as.
SCALAR_TYPES = {bool: types.boolean, int: types.int64, float: types.float64}


def compiled_keys(root: type[Scenario] = Scenario) -> tuple[tuple[str, str, type], ...]:
    """(section, key, type) of every plain key of :data:`COMPILED_SECTIONS` in the schema
    ``root``, in the schema's order. Ranges, distributions, lists, names and choices are
    not plain: what the phases need of them is in :data:`DERIVED`."""
    return tuple((section, name, info.annotation)
                 for section in COMPILED_SECTIONS
                 for name, info in root.model_fields[section].annotation.model_fields.items()
                 if info.annotation in SCALAR_TYPES)


class Derived(NamedTuple):
    """A compiled value that is not a key's own: name, type, how it is computed from the
    scenario and its world (:class:`ctsim.core.world.World`), and why."""

    name: str
    type: type
    value: Callable[[Scenario, Any], Any]
    reason: str


def _footprint(s: Scenario, w: Any) -> tuple[int, int, int]:
    """(smallest, largest, slots) of a plot's footprint: a fixed footprint's length each
    time, else the range, its largest capped at the number of nations for the slots."""
    foot = s.threat.footprint
    if isinstance(foot, list):
        return len(foot), len(foot), len(foot)
    return foot.min, foot.max, min(foot.max, w.n)


def _lead(s: Scenario) -> tuple[int, int]:
    """(shortest, longest) lead time: the range, or a fixed lead time twice."""
    lead = s.threat.lead_time
    return (lead, lead) if isinstance(lead, int) else (lead.min, lead.max)


def _longest_lead(s: Scenario) -> int:
    """The longest lead time any plot may have: a simple plot's too, when there are
    simple plots (D10)."""
    longest = _lead(s)[1]
    return max(longest, s.threat.simple_lead.max) if s.threat.simple_share > 0 else longest


def _beta(s: Scenario) -> tuple[float, float]:
    """Beta(a, b) of each fragment's sensitivity (rules.beta_parameters); (0, 0): fixed."""
    sens = s.threat.sensitivity
    ab = beta_parameters(sens.mean, sens.spread) if isinstance(sens, Dist) else None
    return (ab[0], ab[1]) if ab else (0.0, 0.0)


def _derived_hierarchy(s: Scenario, w: Any) -> bool:
    """Whether some nation of world ``w`` has a patron (C4); from the scenario alone when
    no world is drawn (a size check)."""
    patrons = getattr(w, "patron_of", None)
    if patrons is None:
        return bool(s.relations.hierarchy)
    return bool(len(patrons) and (patrons >= 0).any())


def _regime(s: Scenario, *regimes: str) -> bool:
    return s.cooperation.regime in regimes


#: The compiled values that are not a key's own, each with why (units per week).
DERIVED: tuple[Derived, ...] = (
    Derived("width", int, lambda s, w: _footprint(s, w)[2],
            "footprint slots F: the largest footprint a plot of this world can have"),
    Derived("foot_min", int, lambda s, w: _footprint(s, w)[0],
            "`threat.footprint` is a range or a list of nations: its smallest size"),
    Derived("foot_max", int, lambda s, w: _footprint(s, w)[1],
            "`threat.footprint` is a range or a list of nations: its largest size"),
    Derived("lead_min", int, lambda s, w: _lead(s)[0],
            "`threat.lead_time` is a range or one number: its shortest"),
    Derived("lead_max", int, lambda s, w: _lead(s)[1],
            "`threat.lead_time` is a range or one number: its longest"),
    Derived("lead_bound", int, lambda s, w: _longest_lead(s),
            "the longest lead time of any plot, a simple one's too (D10): tables hold it"),
    Derived("plot_rate", float, lambda s, w: s.threat.plots_per_year / 52.0,
            "weekly plots of a group at full strength: the key is per year"),
    Derived("spawn_bound", int,
            lambda s, w: spawn_bound(s.threat.groups * s.threat.plots_per_year / 52.0),
            "plots a week surely holds: the tables keep room for this many"),
    Derived("sensitivity", float,
            lambda s, w: s.threat.sensitivity.mean if isinstance(s.threat.sensitivity, Dist)
            else s.threat.sensitivity,
            "`threat.sensitivity` is a number or a distribution: the number, or its mean"),
    Derived("sens_a", float, lambda s, w: _beta(s)[0],
            "the distribution as Beta(a, b), from its mean and spread; a = 0: fixed"),
    Derived("sens_b", float, lambda s, w: _beta(s)[1],
            "the distribution as Beta(a, b), from its mean and spread: its b"),
    Derived("surge_decay", float, lambda s, w: 2.0 ** (-1.0 / s.threat.surge_half_life),
            "salience kept from one week to the next: the key is a half-life (A4)"),
    Derived("relocate", bool, lambda s, w: (s.threat.adaptive and s.threat.groups > 0
                                            and not isinstance(s.threat.footprint, list)),
            "groups relocate: adaptive ones, unless a fixed footprint pins their base"),
    Derived("n_blocs", int, lambda s, w: len(w.bloc_names),
            "blocs of the world: labels, a count or rules (`world.blocs`)"),
    Derived("cooperates", bool, lambda s, w: not _regime(s, "none"),
            "the regime is not `none`: treaties are in force"),
    Derived("bilateral", bool, lambda s, w: _regime(s, "bilateral", "hybrid"),
            "the regime opens bilateral channels"),
    Derived("institutional", bool,
            lambda s, w: _regime(s, "multilateral", "hybrid") and len(w.inst_names) > 0,
            "the regime opens hubs, and at least one exists"),
    Derived("training", bool, lambda s, w: any(i.training > 0 or i.training_trust > 0
                                               for i in s.cooperation.institutions),
            "some hub runs a training programme (B4): hubs are a list"),
    Derived("norms", bool, lambda s, w: any(i.norms > 0 for i in s.cooperation.institutions),
            "some hub moves its members' legal definitions (B5): hubs are a list"),
    Derived("hierarchy", bool, _derived_hierarchy,
            "some nation has a patron (C4): the ties are a list of rules"),
    Derived("inquiries", bool,
            lambda s, w: s.trust_dynamics.inquiry > 0 or _derived_hierarchy(s, w),
            "withholding is tracked (C2): inquiries by chance, or between patron and client"),
    Derived("prosecution_gate", bool,
            lambda s, w: s.legal.admissibility_gates == "prosecution",
            "admissibility decides convictions, not evidence (D2): the key is a name"),
    Derived("liaison_by_trust", bool, lambda s, w: s.cooperation.liaison == "trust",
            "trust opens bilateral channels (D3): the key is a name"),
    Derived("scaled_source_loss", bool,
            lambda s, w: s.threat.source_loss_scaling == "sensitivity",
            "a leak's source loss scales with the fragment's sensitivity (D6): a name"),
    Derived("alert_mode", int, lambda s, w: ALERT_EFFECTS.index(s.threat.alert_effect),
            "what an alerted plot does (D6): RESET, ACCELERATE or ABORT, from the name"),
    Derived("notices", bool, lambda s, w: any(i.notices for i in s.cooperation.institutions),
            "some hub issues notices about groups (D4): hubs are a list"),
    Derived("simple_lead_min", int, lambda s, w: s.threat.simple_lead.min,
            "`threat.simple_lead` is a range (D10): its shortest"),
    Derived("simple_lead_max", int, lambda s, w: s.threat.simple_lead.max,
            "`threat.simple_lead` is a range (D10): its longest"),
    Derived("reach_nations", int,
            lambda s, w: int((getattr(w, "reach", np.zeros(0)) > 0).sum())
            if s.threat.reach_rate > 0 else 0,
            "nations that collect outside their footprints (D9): the table bounds count them"),
    Derived("protected", bool,
            lambda s, w: s.threat.protection > 0 or s.threat.protection_response > 0,
            "attacks may fail (A3), or protection may grow (D1)"),
)


def setting_fields(root: type[Scenario] = Scenario) -> list[tuple[str, type]]:
    """The fields of :class:`Setting` made from the schema ``root``: its plain keys
    (:func:`compiled_keys`), then :data:`DERIVED`'s values.

    Raises:
        TypeError: two fields would have one name (a key in two sections, or a key and a
            derived value): a phase could not tell them apart.
    """
    fields = [(key, tp) for _, key, tp in compiled_keys(root)]
    fields += [(d.name, d.type) for d in DERIVED]
    names = [name for name, _ in fields]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise TypeError(f"compiled parameters named twice: {', '.join(twice)}")
    return fields


Setting = NamedTuple("Setting", setting_fields())
Setting.__doc__ = """The scalar parameters of a run, as the phases read them (read only).

Every plain key of the sections in :data:`COMPILED_SECTIONS`, by its own name (its meaning,
unit and range: the schema, docs/scenarios.md), then the values of :data:`DERIVED`. Made by
:func:`setting_of`; compiled code receives it as it is (a tuple of numbers).
"""

_KEYS = compiled_keys()


def _section_readers() -> tuple[tuple[str, Callable[[Any], Any], tuple[type, ...]], ...]:
    """Per section of :data:`COMPILED_SECTIONS` with compiled keys: its name, a getter of
    its keys' values (one value for one key, a tuple for more) and their types, in
    ``_KEYS``'s order (which lists the keys section by section), so that
    :func:`setting_of` reads a section in one call."""
    out = []
    for section in COMPILED_SECTIONS:
        keyed = [(key, tp) for sec, key, tp in _KEYS if sec == section]
        if keyed:
            out.append((section, operator.attrgetter(*(key for key, _ in keyed)),
                        tuple(tp for _, tp in keyed)))
    return tuple(out)


_READERS = _section_readers()


def setting_of(config: Scenario, world: Any) -> Setting:
    """The :class:`Setting` of a run of ``config`` in ``world`` (each value of its field's
    Python type, so that numba compiles one type for every run)."""
    values = []
    for section, get, types_ in _READERS:
        got = get(getattr(config, section))
        values += ([tp(v) for tp, v in zip(types_, got, strict=True)] if len(types_) > 1
                   else [types_[0](got)])
    return Setting._make([*values, *(d.type(d.value(config, world)) for d in DERIVED)])


def setting_layout() -> str:
    """Setting's fields and types, one ``name:type`` each, in order."""
    return ",".join(f"{name}:{tp.__name__}" for name, tp in Setting.__annotations__.items())


#: Where the layout the cached compiled code was made for is kept: in the core's cache
#: folder, beside :data:`ctsim.core._fresh.STAMP`.
LAYOUT_STAMP = Path(__file__).resolve().parent / "__pycache__" / "ctsim-core-setting.txt"


def clear_cache_if_layout_changed(stamp: Path = LAYOUT_STAMP) -> bool:
    """Clear the compiled core's cache when Setting's fields changed since it was written;
    True if it cleared it.

    numba finds a cached function by its arguments' types, and a NamedTuple's type is its
    class and its fields' types, not their names: two layouts with the same types in
    another order would share cached code that reads each field at the other's place.
    Setting's fields come from the schema, which has no compiled code and so is not among
    the sources :mod:`ctsim.core._fresh` compares; its layout is compared here instead.
    """
    return ctsim.core._fresh.clear_cache(stamp, setting_layout())


clear_cache_if_layout_changed()


# ---------------------------------------------------------------- the world and relations


def footprint_arrays(near: np.ndarray, target_weight: np.ndarray) -> dict[str, np.ndarray]:
    """The four footprint arrays of :class:`Nations` from ``near`` (N, N; the weight of j
    in a footprint based at i, phases.footprint_weights) and the target weights (N,)."""
    target_near, near_cum, target_cum = _footprint_tables(
        np.ascontiguousarray(near, np.float64),
        np.ascontiguousarray(target_weight, np.float64))
    return {"near": near, "target_near": target_near, "near_cum": near_cum,
            "target_cum": target_cum}


@njit(cache=True)
def _footprint_tables(near: np.ndarray, target_weight: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``near * target_weight[None, :]`` and the running sums of each row of ``near`` and
    of that product, in one compiled call: the same products, and the sums in the same
    order (numpy's ``cumsum`` adds a row from left to right), so the same values."""
    n, m = near.shape
    target_near = np.empty((n, m))
    near_cum = np.empty((n, m))
    target_cum = np.empty((n, m))
    for i in range(n):
        a = 0.0
        b = 0.0
        for j in range(m):
            t = near[i, j] * target_weight[j]
            target_near[i, j] = t
            a += near[i, j]
            b += t
            near_cum[i, j] = a
            target_cum[i, j] = b
    return target_near, near_cum, target_cum


def _arrays(name: str, doc: str, columns: tuple[tuple[str, str], ...]) -> Any:
    """A NamedTuple class ``name`` of numpy arrays, one per (column, meaning) of
    ``columns``; its docstring is ``doc`` followed by the columns and their meanings."""
    cls = NamedTuple(name, [(column, np.ndarray) for column, _ in columns])
    cls.__doc__ = doc + "\n\nColumns:\n\n" + "\n".join(f"- ``{c}``: {m}" for c, m in columns)
    cls.__module__ = __name__
    return cls


Nations = _arrays("Nations", """The static world of a run: N nations, H hubs, B blocs, O
open-border groups.

Its first columns are the static nation attributes (:data:`ctsim.core.attributes.STATIC`).
What MODEL.md section B lets change during a run (capacity, legal definitions and
compatibility, treaties, memberships) is in :class:`Relations`.""", (
    *((a.name, f"(N,) {a.doc}") for a in STATIC),
    ("bloc", "(N,) int"),
    ("near", "(N, N) footprint weight of nation j for a plot based at i"),
    ("target_near", "(N, N) weight of j as the target: near times target weight"),
    ("near_cum", "(N, N) running sums of each row of near (drawing by weight)"),
    ("target_cum", "(N, N) running sums of each row of target_near"),
    ("latency", "(H,) weeks"),
    ("hub_floor", "(H,) admissibility floor (harmonization)"),
    ("trust0", "(N, N) initial trust"),
    ("fixed_foot", "(F,) a fixed footprint, or empty"),
    # MODEL.md section B
    ("family", "(N, N) compatibility of the legal families (recomputing c)"),
    ("hub_kind", "(H,) HUB_POLICE, HUB_FIU or HUB_FORUM"),
    ("hub_databases", "(H,) bool: members screen borders against its records, B2"),
    ("hub_open", "(H,) bool: non-members may join, B6"),
    ("hub_join_trust", "(H,) a joiner's trust in it, before tension, B6"),
    ("hub_training", "(H,) weekly rate of its training programme (0: none), B4"),
    ("hub_standard", "(H,) the capacity its programme trains toward, B4"),
    ("hub_training_trust", "(H,) weekly pull of members' mutual trust to 1, B4"),
    ("hub_norms", "(H,) weekly pull of members' definitions (0: none), B5"),
    ("hub_definition", "(H,) the definition its norms pull toward, B5"),
    ("open_border", "(O, N) bool: the members of each open-border group, B2"),
    ("provider_cum", "(N,) running sums of the providers' weights, B3"),
    ("direct", "(N, N) bool: i reaches j's providers directly, B3"),
    ("patron_of", "(N,) int: the nation's patron, -1 for none, C4"),
    ("hub_notices", "(H,) bool: a disruption by a member issues a notice about the group, D4"),
    ("hub_notice_weeks", "(H,) weeks a notice holds, D4"),
))


Relations = _arrays("Relations", """The dynamic relations: trust ``T``, trust in hubs ``TI``,
the salience of attacks, and what MODEL.md section B lets change (the dynamic nation attributes,
:data:`ctsim.core.attributes.DYNAMIC`: capacity and definitions; compatibility, treaties,
memberships); without section B these keep their starting values.""", (
    ("trust", "(N, N) in [0, 1], directed"),
    ("hub_trust", "(N, H) in [0, 1]"),
    ("salience", "(N,) recent attacks on the nation, decaying (A4), >= 0"),
    ("source_until", "(N,) last week its sources are burnt by a leak (-1: none)"),
    ("defence", "(N,) the groups' view r of each target's defence, in [0, 1]"),
    *((a.name, f"(N,) {a.doc}") for a in DYNAMIC),
    ("compat", "(N, N) legal compatibility, diagonal 1 (B5, B6 recompute it)"),
    ("treaty", "(N, N) bool: a treaty in force under this regime (B6)"),
    ("channel", "(N, N) bool: i may send to j bilaterally under this regime"),
    ("members", "(H, N) bool (B6: accession)"),
    ("hub_trust0", "(N, H) the trust in hubs that reversion pulls toward"),
    ("hub_bloc_share", "(H, B) share of a hub's members in each bloc"),
    ("pair_week", "(N, N) last week the pair was offered a treaty, B6 ((0, 0): off)"),
    ("alarms", "(N,) this week's AI false alarms per nation, B7"),
    # MODEL.md section C: a partner p is a nation (p < N) or a hub (p = N + h)
    ("strategy", "(N,) int: the nation's sharing strategy now (strategies index), C3, C5"),
    ("revealed", "(N, N + H) int8: partner p's last revealed act toward i (strategies.ACTS), "
                 "C2"),
    ("revealed_week", "(N, N + H) int32: the week of it (0: none)"),
    ("grudge", "(N, N + H) bool: p has defected toward i at least once, as i has seen, C3"),
    ("decision", "(N, N + H) int8: a person's decision for i toward p (strategies."
                 "DECISIONS), C6"),
    ("extradite", "(N, N) bool: i hands over to j the plotters j caught and asks for, where "
                  "the law allows (a person may refuse, C6; all true by default)"),
    ("year_aimed", "(N,) plots aimed at the nation resolved this year (C5 imitation)"),
    ("year_hit", "(N,) ... of them disrupted"),
    # MODEL.md section D
    ("defence_failed", "(N,) the groups' view rD of how often attacks on the nation fail, D1"),
    ("protection", "(N,) the nation's protection now (A3; D1 moves it), in [0, 1]"),
    ("year_attacks", "(N,) attacks on the nation this year (D1 protection response)"),
    ("source_sens", "(N,) sensitivity of the leak that burnt its sources (D6), in [0, 1]"),
))


class Plots(NamedTuple):
    """Every plot of the run; a footprint is base first, target last, ``-1`` padded."""

    count: np.ndarray  # (1,) rows in use
    active: np.ndarray  # ids of the active plots, in increasing order
    n_active: np.ndarray  # (1,)
    group: np.ndarray
    base: np.ndarray
    target: np.ndarray
    size: np.ndarray  # footprint size
    foot: np.ndarray  # (P, F) nation per slot
    lead: np.ndarray  # weeks until the attack
    age: np.ndarray  # weeks of collection so far
    epoch: np.ndarray  # bumped when a leak alerts the plot
    status: np.ndarray  # ACTIVE, DISRUPTED, ATTACKED
    spawned: np.ndarray  # week
    resolved: np.ndarray  # week, -1 while active
    disrupter: np.ndarray  # nation, -1 if none
    foreign: np.ndarray  # 1 if its disruption used another nation's fragment
    failed: np.ndarray  # 1 if its attack failed (protection, A3)
    provider: np.ndarray  # the nation whose company holds its online trace, -1: none (B3)
    evidence: np.ndarray  # (P, F) admissible fragments each footprint nation holds
    financial: np.ndarray  # (P, F) how many of them are financial fragments (B1)
    crossing: np.ndarray  # (P, F) the week its operatives cross into slot b's nation (B2)
    aimed_strategy: np.ndarray  # its target's strategy when it was spawned (C3)
    admissible: np.ndarray  # (P, F) of the evidence, the admissible fragments (D2), or (P, 0)
    first_foreign: np.ndarray  # (P, F) int8: whether slot b's first fragment of the
    #                            epoch came from another state, -1 before any (D11)
    foreign_first: np.ndarray  # 1 if its disrupter's first fragment was another's (D11)
    handler: np.ndarray  # the slot of the nation directing it from abroad, -1: none (D9)
    simple: np.ndarray  # 1 if a simple plot (D10)
    withheld: np.ndarray  # (P, F, F) bool: slot b held back a fragment from slot c (C2),
    #                       (P, 0, 0) when nothing tracks withholding
    disrupted_now: np.ndarray  # ids disrupted this week (for step 6)
    n_disrupted_now: np.ndarray  # (1,)

    @property
    def n(self) -> int:
        """Number of plots spawned so far."""
        return int(self.count[0])

    @property
    def active_ids(self) -> np.ndarray:
        """Ids of the plots still active, in increasing order (a copy)."""
        return self.active[: self.n_active[0]].copy()


class Fragments(NamedTuple):
    """Every fragment: its plot and epoch, the footprint slot and nation that collected it,
    its sensitivity; ``held[f, b]`` once slot ``b`` of its plot counts it as evidence."""

    count: np.ndarray  # (1,)
    first_new: np.ndarray  # (1,) the first fragment collected this week
    plot: np.ndarray
    slot: np.ndarray
    nation: np.ndarray
    epoch: np.ndarray
    sensitivity: np.ndarray
    kind: np.ndarray  # POLICE, FINANCIAL or ONLINE_TRACE
    held: np.ndarray  # (Fr, F) bool


class Mail(NamedTuple):
    """Deliveries in flight (sent, not yet arrived), this week's arrivals, and receipts."""

    count: np.ndarray  # (1,) deliveries in flight
    due: np.ndarray  # week it arrives
    frag: np.ndarray
    via: np.ndarray  # BILATERAL or the hub
    to: np.ndarray  # the receiving footprint slot (bilateral), -1 for a post to a hub
    sender: np.ndarray
    n_arrived: np.ndarray  # (1,) this week's arrivals
    arrived_frag: np.ndarray
    arrived_via: np.ndarray
    arrived_to: np.ndarray  # the receiving slot (bilateral), -1 for a post
    n_receipts: np.ndarray  # (1,) fragments received from others that count as evidence
    receipt_plot: np.ndarray
    receipt_slot: np.ndarray
    receipt_epoch: np.ndarray
    receipt_via: np.ndarray
    receipt_sender: np.ndarray


class Groups(NamedTuple):
    """Terrorist groups: current base nation, strength and funds, each in (0, 1] (the plot
    rate is ``strength * funds`` of the full rate; funds are cut by asset freezes, B1)."""

    base: np.ndarray
    strength: np.ndarray
    funds: np.ndarray
    noticed_until: np.ndarray  # (G, H) last week hub h's notice about the group holds (D4)
    view_complex: np.ndarray  # (G,) its view of how often its complex plots are stopped (D10)
    view_simple: np.ndarray  # (G,) ... its simple plots


class Tally(NamedTuple):
    """Counts, haven evidence, this week's events and the per-week record."""

    week_no: np.ndarray  # (1,) weeks simulated so far
    total: np.ndarray  # (len(COUNTED),) run totals
    week: np.ndarray  # (len(COUNTED),) this week's counts
    plots_by_base: np.ndarray  # (N,) plots spawned from each nation's territory
    resolved_at: np.ndarray  # (N,) plots based there that were resolved
    undisrupted_at: np.ndarray  # (N,) ... that attacked or whose plotters walked free
    disrupted_by_deadline: np.ndarray  # disruptions by the week their attack was due
    n_logged: np.ndarray  # (1,) this week's events (rows of log written, if they fit)
    log: np.ndarray  # (E, 4) this week's events: kind (LOG_*), a, b, c (outputs.LOGGED)
    log_value: np.ndarray  # (E,) each event's number (outputs.LOGGED), NaN where unused
    record: np.ndarray  # (weeks + 1, len(RECORDED))
    n_treaties: np.ndarray  # (1,) treaty pairs in force now
    by_strategy: np.ndarray  # (S, 2) fragments sent and received by the holders of each
    #                          strategy (C3), run totals


def _grown(array: np.ndarray, rows: int, fill: int | float = 0) -> np.ndarray:
    """``array`` with its first axis grown to ``rows``, new rows set to ``fill``."""
    new = np.full((rows, *array.shape[1:]), fill, dtype=array.dtype)
    new[: array.shape[0]] = array
    return new


#: The one-element counts of the tables (not grown with the rows).
COUNT_FIELDS = frozenset({"count", "n_active", "first_new", "n_disrupted_now", "n_arrived",
                          "n_receipts"})


def _resized(table, rows: int, fill: dict[str, int] | None = None):
    """``table`` with every column but its counts grown to ``rows`` (new rows: 0 or ``fill``)."""
    fill = fill or {}
    return table._replace(**{name: _grown(col, rows, fill.get(name, 0))
                             for name, col in zip(table._fields, table, strict=True)
                             if name not in COUNT_FIELDS})


def filled(shape: int | tuple[int, ...], value: int | float, dtype: Any) -> np.ndarray:
    """A new array of ``shape`` and ``dtype`` with every element ``value``: what
    ``np.full`` makes, for a few microseconds less (a run's set-up makes a dozen)."""
    out = np.empty(shape, dtype)
    out.fill(value)
    return out


def new_plots(rows: int, width: int, pairs: bool = False, gated: bool = False) -> Plots:
    """An empty plot table with room for ``rows`` plots of ``width`` slots (with
    ``pairs``, the table of who withheld from whom, MODEL.md C2; with ``gated``, the count
    of admissible evidence, D2)."""
    z = lambda: np.zeros(rows, np.int64)  # noqa: E731
    return Plots(count=np.zeros(1, np.int64), active=z(), n_active=np.zeros(1, np.int64),
                 group=z(), base=z(), target=z(), size=z(),
                 foot=filled((rows, width), -1, np.int64), lead=z(), age=z(), epoch=z(),
                 status=z(), spawned=z(), resolved=z(), disrupter=z(), foreign=z(),
                 failed=z(), provider=z(),
                 evidence=np.zeros((rows, width), np.int64),
                 financial=np.zeros((rows, width), np.int64),
                 crossing=np.zeros((rows, width), np.int64), disrupted_now=z(),
                 n_disrupted_now=np.zeros(1, np.int64), aimed_strategy=z(),
                 admissible=np.zeros((rows, width) if gated else (rows, 0), np.int64),
                 first_foreign=filled((rows, width), -1, np.int8), foreign_first=z(),
                 handler=filled(rows, -1, np.int64), simple=z(),
                 withheld=np.zeros((rows, width, width) if pairs else (rows, 0, 0),
                                   np.bool_))


def new_fragments(rows: int, width: int) -> Fragments:
    """An empty fragment table with room for ``rows`` fragments (rows are left unset: the
    collect phase writes every column of a fragment's row before anything reads it)."""
    z = lambda: np.empty(rows, np.int64)  # noqa: E731
    return Fragments(count=np.zeros(1, np.int64), first_new=np.zeros(1, np.int64), plot=z(),
                     slot=z(), nation=z(), epoch=z(), sensitivity=np.empty(rows), kind=z(),
                     held=np.empty((rows, width), np.bool_))


def new_mail(rows: int) -> Mail:
    """Empty mail: room for ``rows`` deliveries, arrivals and receipts each (rows are left
    unset: each is written in full before it is read, below the counts)."""
    z = lambda: np.empty(rows, np.int64)  # noqa: E731
    one = lambda: np.zeros(1, np.int64)  # noqa: E731
    return Mail(count=one(), due=z(), frag=z(), via=z(), to=z(), sender=z(),
                n_arrived=one(), arrived_frag=z(), arrived_via=z(), arrived_to=z(),
                n_receipts=one(), receipt_plot=z(), receipt_slot=z(), receipt_epoch=z(),
                receipt_via=z(), receipt_sender=z())


def new_tally(n: int, weeks: int, lead_max: int, events: int) -> Tally:
    """Zero counts for ``n`` nations, a record with room for ``weeks`` weeks and an event
    log with room for ``events`` events a week (:func:`log_rows`)."""
    return Tally(week_no=np.zeros(1, np.int64), total=np.zeros(len(COUNTED), np.int64),
                 week=np.zeros(len(COUNTED), np.int64), plots_by_base=np.zeros(n),
                 resolved_at=np.zeros(n), undisrupted_at=np.zeros(n),
                 disrupted_by_deadline=np.zeros(weeks + lead_max + 2, np.int64),
                 n_logged=np.zeros(1, np.int64),
                 # the week's events: rows are written before they are read (n_logged)
                 log=np.empty((events, 4), np.int64), log_value=np.empty(events),
                 record=filled((weeks + 1, len(RECORDED)), np.nan, np.float64),
                 n_treaties=np.zeros(1, np.int64),
                 by_strategy=np.zeros((len(STRATEGIES), 2), np.int64))


def spawn_bound(weekly_plots: float) -> int:
    """Plots a week surely holds: the Poisson mean plus 12 standard deviations plus 16.

    A week's plots are Poisson with mean at most ``weekly_plots`` (groups at full
    strength); exceeding this bound has a chance below 1e-30 a week.
    """
    return math.ceil(weekly_plots + 12.0 * math.sqrt(weekly_plots) + 16.0)


@njit(cache=True)
def needed_rows(par: Setting, hubs: int, plots: Plots, frags: Fragments, mail: Mail
                ) -> tuple[int, int, int, int]:
    """Rows the plot, fragment, delivery and receipt tables need so that one more week fits.

    A week spawns at most ``spawn_bound`` plots; each active plot gives at most one fragment
    per slot; each new fragment is sent to at most ``F - 1`` partners and ``H`` hubs; each
    arrival gives at most ``F - 1`` receipts.
    """
    new_frags, deliveries, receipts = _week_bound(par, hubs, int(plots.n_active[0]),
                                                  int(mail.count[0]), int(mail.n_receipts[0]))
    return (int(plots.count[0]) + par.spawn_bound, int(frags.count[0]) + new_frags,
            deliveries, receipts)


@njit(cache=True)
def _week_bound(par: Setting, hubs: int, active: int, in_flight: int,
                receipts: int) -> tuple[int, int, int]:
    """New fragments, deliveries and receipts that one more week may leave, at most, with
    ``active`` plots alive, ``in_flight`` deliveries and ``receipts`` receipts now."""
    new_frags = (active + par.spawn_bound) * (par.width + par.reach_nations)
    outside = 1 if par.reach_nations > 0 else 0  # a collector outside the footprint (D9)
    deliveries = in_flight + new_frags * (par.width - 1 + outside + hubs)
    return new_frags, deliveries, receipts + deliveries * max(par.width - 1 + outside, 1)


def mail_rows(par: Setting, hubs: int, active: int) -> int:
    """Rows of mail that a week surely needs with ``active`` plots alive and an empty post:
    the starting size (see :func:`needed_rows`)."""
    # the bound's plain Python (integer arithmetic): a compiled call would first unbox
    # the whole Setting
    _, deliveries, receipts = getattr(_week_bound, "py_func", _week_bound)(
        par, hubs, active, 0, 0)
    return max(64, deliveries, receipts)


def initial_rows(par: Setting, hubs: int, steps: int) -> tuple[int, int, int]:
    """Starting rows of the plot, fragment and mail tables of a run of ``steps`` weeks:
    room for the plots the run is expected to spawn (and a fifth more), the fragments of
    the plots alive at once over their lives, and a week's mail (:func:`mail_rows`). The
    tables grow between weeks if a run needs more (:func:`grow`)."""
    weekly = par.groups * par.plot_rate
    active = int(weekly * par.lead_max) + par.spawn_bound  # plots alive at once, at most
    plots = int(1.2 * weekly * steps) + par.spawn_bound + 64
    frags = int(min(1.0, 2 * par.detection_rate) * active * par.lead_max * par.width) + 256
    return plots, frags, mail_rows(par, hubs, active)


def run_bytes(par: Setting, nations: int, hubs: int, steps: int,
              rows: tuple[int, int, int] | None = None) -> int:
    """About how many bytes a run's tables reach: the plot table of the whole run, the
    fragments those plots may yield (each slot of each plot, each week of its lead time,
    with the detection rate), a week's mail, the nation-by-nation arrays and the record.
    ``rows``: :func:`initial_rows` of the run, when the caller has them already."""
    plots, frags, mail = rows if rows is not None else initial_rows(par, hubs, steps)
    frags = max(frags, int(plots * par.lead_max * par.width * min(1.0, par.detection_rate)))
    per_plot = (19 + 4 * par.width) * 8 + (par.width ** 2 if par.inquiries else 0)
    per_fragment = 6 * 8 + par.width
    return (plots * per_plot + frags * per_fragment + mail * 16 * 8
            + 14 * nations * nations * 8 + (steps + 1) * len(RECORDED) * 8)


class LogEntry(NamedTuple):
    """One event of the week's event log: its ``kind`` (a name of
    :data:`ctsim.core.outputs.LOGGED`, which says what ``a``, ``b``, ``c`` and ``value``
    are)."""

    kind: str
    a: int
    b: int
    c: int
    value: float


def week_log(tally: Tally) -> list[LogEntry]:
    """This week's events, in the order the phases wrote them."""
    n = min(int(tally.n_logged[0]), tally.log.shape[0])
    rows, values = tally.log[:n].tolist(), tally.log_value[:n].tolist()
    return [LogEntry(LOGGED[k], a, b, c, v) for (k, a, b, c), v in zip(rows, values,
                                                                        strict=True)]


@njit(cache=True)
def log_rows(par: Setting, plots: Plots, mail: Mail) -> int:
    """Events a week surely holds: at most one leak per delivery and one hub leak per post
    (both rows of the mail), one attack, refusal or joint disruption per plot of the table,
    one move per group and one shock."""
    return 2 * mail.due.shape[0] + plots.group.shape[0] + par.groups + 1


def grow(par: Setting, hubs: int, plots: Plots, frags: Fragments, mail: Mail, tally: Tally
         ) -> tuple[Plots, Fragments, Mail, Tally]:
    """The tables, each doubled (or more) where one more week might not fit."""
    need_p, need_f, need_d, need_r = needed_rows(par, hubs, plots, frags, mail)
    if need_p > plots.group.shape[0]:
        plots = _resized(plots, max(need_p, 2 * plots.group.shape[0]),
                         fill={"foot": -1, "first_foreign": -1, "handler": -1})
    if need_f > frags.plot.shape[0]:
        frags = _resized(frags, max(need_f, 2 * frags.plot.shape[0]))
    rows = mail.due.shape[0]
    if need_d > rows or need_r > rows:
        mail = _resized(mail, max(need_d, need_r, 2 * rows))
    events = log_rows(par, plots, mail)
    if events > tally.log.shape[0]:
        tally = tally._replace(log=_grown(tally.log, events),
                               log_value=_grown(tally.log_value, events))
    week = int(tally.week_no[0]) + 1
    if week >= tally.record.shape[0]:
        tally = tally._replace(record=_grown(tally.record, 2 * week, np.nan))
    if week + par.lead_bound + 1 >= tally.disrupted_by_deadline.shape[0]:
        tally = tally._replace(disrupted_by_deadline=_grown(
            tally.disrupted_by_deadline, 2 * (week + par.lead_bound + 1)))
    return plots, frags, mail, tally


@njit(cache=True)
def has_room(par: Setting, hubs: int, plots: Plots, frags: Fragments, mail: Mail,
             tally: Tally) -> bool:
    """Whether one more week fits in the tables as they are (see :func:`needed_rows`)."""
    need_p, need_f, need_d, need_r = needed_rows(par, hubs, plots, frags, mail)
    week = int(tally.week_no[0]) + 1
    return (need_p <= plots.group.shape[0] and need_f <= frags.plot.shape[0]
            and max(need_d, need_r) <= mail.due.shape[0]
            and log_rows(par, plots, mail) <= tally.log.shape[0]
            and week < tally.record.shape[0]
            and week + par.lead_bound + 1 < tally.disrupted_by_deadline.shape[0])


# ---------------------------------------------------------------- the compiled boundary
#
# A container is a NamedTuple in Python; compiled code receives it as a ``Table``, a
# numba StructRef holding the same arrays (the same memory: what the phases write, the
# NamedTuple's arrays show). Passing a NamedTuple to a compiled helper counts a reference
# to each of its arrays, at every call; a Table is one reference. The phases read a
# Table's fields as they would the NamedTuple's (``plots.foot[k, b]``).


@structref.register
class Table(types.StructRef):
    """The numba type of a container passed to compiled code: its fields, as the
    NamedTuple's."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class TableProxy(structref.StructRefProxy):
    """A Table as Python sees it (only passed back into compiled code)."""


structref.define_boxing(Table, TableProxy)


@intrinsic
def _table_of(typingctx, tup):
    """A Table with the fields and values of the NamedTuple ``tup``."""
    from numba.experimental.jitclass.base import imp_dtor

    if not isinstance(tup, types.BaseNamedTuple):
        return None
    inst_type = Table(list(zip(tup.fields, tup.types, strict=True)))

    def codegen(context, builder, signature, args):
        # allocated as numba's own structref.new allocates an empty StructRef, then each
        # field set to the tuple's value (one more reference to it)
        model = context.data_model_manager[inst_type.get_data_type()]
        alloc_type = model.get_value_type()
        meminfo = context.nrt.meminfo_alloc_dtor(
            builder, context.get_constant(types.uintp, context.get_abi_sizeof(alloc_type)),
            imp_dtor(context, builder.module, inst_type))
        data_pointer = builder.bitcast(context.nrt.meminfo_data(builder, meminfo),
                                       alloc_type.as_pointer())
        builder.store(cgutils.get_null_value(alloc_type), data_pointer)
        inst = context.make_helper(builder, inst_type)
        inst.meminfo = meminfo
        data = context.make_data_helper(builder, inst_type.get_data_type(), ref=data_pointer)
        for k, (name, ty) in enumerate(zip(tup.fields, tup.types, strict=True)):
            value = builder.extract_value(args[0], k)
            context.nrt.incref(builder, ty, value)
            setattr(data, name, value)
        return inst._getvalue()

    return inst_type(tup), codegen


@njit(cache=True)
def _to_table(tup):
    return _table_of(tup)


def compiled_view(container):
    """``container`` as compiled code receives it: a Table of the same arrays (the
    NamedTuple itself with ``NUMBA_DISABLE_JIT``, whose plain Python reads it alike)."""
    if numba_config.DISABLE_JIT:
        return container
    return _to_table(container)
