"""The state the weekly phases work on, in a few named containers of preallocated arrays.

Each container is a ``NamedTuple`` of numpy arrays; compiled code receives it as a
:class:`Table` of the same arrays (:func:`compiled_view`), and the loops read and write
the arrays in place. Tables that grow during a run
(plots, fragments, deliveries, receipts) are allocated with room for a few weeks and
doubled between weeks when the next week might not fit (:func:`grow`); a count in a
one-element array says how many rows are in use.

- :class:`Setting`: the run's scalar parameters (read only).
- :class:`Nations`: the static world (attributes, legal compatibility, channels, hubs).
- :class:`Relations`: trust between nations, members' trust in hubs, post-attack surges.
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
from typing import NamedTuple

import numpy as np
from numba import config as numba_config
from numba import njit
from numba.core import cgutils, types
from numba.experimental import structref
from numba.extending import intrinsic

import ctsim.core._fresh  # noqa: F401  (a stale compiled cache is cleared before use)

ACTIVE, DISRUPTED, ATTACKED = 0, 1, 2  # a plot's status
BILATERAL = -1  # the ``via`` of a bilateral delivery or receipt; hubs are 0..H-1

#: Event counts kept as run totals and per week (columns of ``Tally.total``/``Tally.week``).
COUNTED = (
    "plots", "fragments", "disrupted", "attacks", "shared_bilateral", "shared_institutional",
    "leaks", "plots_alerted", "extraditions_granted", "extraditions_refused", "shocks",
    "relocations", "disrupted_due", "attacks_failed", "sources_burned",
    # MODEL.md B1-B7
    "fragments_financial", "fragments_border", "fragments_online", "shared_direct",
    "mlat_requests", "asset_freezes", "treaties_formed", "treaties_lapsed", "accessions",
    "wrongful_interdictions",
)
(PLOTS, FRAGMENTS, DISRUPTED_N, ATTACKS, SHARED_BILATERAL, SHARED_INSTITUTIONAL, LEAKS,
 PLOTS_ALERTED, EXTRADITIONS_GRANTED, EXTRADITIONS_REFUSED, SHOCKS, RELOCATIONS,
 DISRUPTED_DUE, ATTACKS_FAILED, SOURCES_BURNED, FRAGMENTS_FINANCIAL, FRAGMENTS_BORDER,
 FRAGMENTS_ONLINE, SHARED_DIRECT, MLAT_REQUESTS, ASSET_FREEZES, TREATIES_FORMED,
 TREATIES_LAPSED, ACCESSIONS, WRONGFUL_INTERDICTIONS) = range(len(COUNTED))

#: The per-week record (``Tally.record``, phase 9; row 0 is the start): the disruption rate
#: to date, the running totals and this week's counts named here with the event each reads,
#: then the state. Its columns, in this order, are the DataCollector's table.
RECORDED_TOTALS = (
    ("plots", PLOTS), ("attacks", ATTACKS), ("shared_bilateral", SHARED_BILATERAL),
    ("shared_institutional", SHARED_INSTITUTIONAL), ("leaks", LEAKS),
    ("extraditions_granted", EXTRADITIONS_GRANTED),
    ("extraditions_refused", EXTRADITIONS_REFUSED), ("disrupted", DISRUPTED_DUE),
    ("attacks_failed", ATTACKS_FAILED), ("wrongful_interdictions", WRONGFUL_INTERDICTIONS),
    ("asset_freezes", ASSET_FREEZES), ("treaties_formed", TREATIES_FORMED),
    ("accessions", ACCESSIONS), ("fragments_financial", FRAGMENTS_FINANCIAL),
    ("fragments_border", FRAGMENTS_BORDER), ("fragments_online", FRAGMENTS_ONLINE),
)
RECORDED_WEEK = (
    ("plots_week", PLOTS), ("disrupted_week", DISRUPTED_N), ("attacks_week", ATTACKS),
    ("leaks_week", LEAKS),
)
RECORDED_STATE = ("active_plots", "mean_trust", "haven_concentration", "treaties_in_force")
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
           "finance", "border", "online", "evolve", "alarm")
(SPAWN, COLLECT, SHARE, LEAK, ACT, PROSECUTE, DRIFT, ATTACK, FINANCE, BORDER, ONLINE, EVOLVE,
 ALARM) = range(len(STREAMS))

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


class Setting(NamedTuple):
    """The scalar parameters of a run, as the phases read them (units per week)."""

    width: int  # footprint slots F (the largest footprint)
    groups: int
    plot_rate: float  # plots a week of a group at full strength: plots_per_year / 52
    spawn_bound: int  # plots a week can surely hold (room is kept for this many)
    foot_min: int
    foot_max: int
    lead_min: int
    lead_max: int
    detection_rate: float
    ai_boost: float
    sensitivity: float  # the fixed sensitivity, or the Beta's mean
    sens_a: float  # Beta(a, b) of per-fragment sensitivity; a = 0: fixed
    sens_b: float
    threshold: int
    interdiction: float
    leak_rate: float
    surge: float
    surge_decay: float  # salience kept from one week to the next: 2 ** (-1 / half-life), A4
    mlat_delay: int
    learning_rate: float
    leak_penalty: float
    reversion: float
    shock_rate: float
    shock: float
    n_blocs: int
    relocate: bool  # adaptive groups with a footprint that is not fixed
    relocation_rate: float
    haven_pull: float
    attrition: float
    regrowth: float
    bilateral: bool  # the regime opens bilateral channels
    institutional: bool  # the regime opens hubs (and at least one exists)
    transnational: float  # chance a plot is transnational (else its base alone), A1
    target_adaptation: float  # a: targets drawn by w (1 - r) ** a, A2
    memory: float  # lambda: how fast the groups' view r of a defence moves, A2
    protection: float  # an attack fails with protection * capacity of its target, A3
    source_loss: float  # a leak cuts the sender's detection by this share, A5
    source_weeks: int  # ... for this many weeks, A5
    hub_exposure: float  # chance another hub member reads a post, A6
    # MODEL.md section B (each 0 or False: the mechanism is off)
    financing_detection: float  # weekly chance of a financial fragment at cft 1, B1
    asset_freeze: float  # share of a group's funds frozen by a disruption using one, B1
    fund_regrowth: float  # weekly regrowth of funds toward 1, B1
    border_screening: float  # chance a border check finds a fragment at capacity 1, B2
    database_gap: float  # share of a check's worth lost outside the database hubs, B2
    online_share: float  # chance a plot leaves an online trace with a provider, B3
    provider_detection: float  # weekly chance the provider's records yield a fragment, B3
    training: bool  # some hub runs a training programme, B4
    norms: bool  # some hub moves its members' legal definitions, B5
    treaty_formation: float  # weekly chance scale of a new treaty between partners, B6
    surge_boost: float  # how much recent attacks speed treaty formation, B6
    treaty_lapse: float  # chance a treaty lapses when a shock hits its pair, B6
    accession: float  # weekly chance scale of joining an open hub, B6
    ai_false_alarm: float  # false alarms a week at tech 1, B7
    ai_tie_up: float  # share of interdiction capacity one false alarm ties up, B7
    privacy_gap: float  # admissibility lost per unit of stricter privacy regime, B7
    cooperates: bool  # the regime is not ``none`` (treaties are in force)
    ad_hoc: bool  # any pair may share bilaterally, treaty or not
    treaty_floor: float  # legal compatibility a treaty guarantees (recomputing c, B5/B6)
    harmonization: float  # harmonization raising every pair's compatibility
    tension: float  # share of trust lost across blocs (a joiner's hub trust, B6)


def footprint_arrays(near: np.ndarray, target_weight: np.ndarray) -> dict[str, np.ndarray]:
    """The four footprint arrays of :class:`Nations` from ``near`` (N, N; the weight of j
    in a footprint based at i, phases.footprint_weights) and the target weights (N,)."""
    target_near = near * np.asarray(target_weight, np.float64)[None, :]
    return {"near": near, "target_near": target_near, "near_cum": np.cumsum(near, axis=1),
            "target_cum": np.cumsum(target_near, axis=1)}


class Nations(NamedTuple):
    """The static world of a run: N nations, H hubs, B blocs, O open-border groups.

    What MODEL.md section B lets change during a run (capacity, legal definitions and
    compatibility, treaties, memberships) is in :class:`Relations`.
    """

    sovereignty: np.ndarray  # (N,)
    security: np.ndarray  # (N,)
    tech: np.ndarray  # (N,)
    bloc: np.ndarray  # (N,) int
    near: np.ndarray  # (N, N) footprint weight of nation j for a plot based at i
    target_near: np.ndarray  # (N, N) weight of j as the target: near times target weight
    near_cum: np.ndarray  # (N, N) running sums of each row of near (drawing by weight)
    target_cum: np.ndarray  # (N, N) running sums of each row of target_near
    latency: np.ndarray  # (H,) weeks
    hub_floor: np.ndarray  # (H,) admissibility floor (harmonization)
    trust0: np.ndarray  # (N, N) initial trust
    fixed_foot: np.ndarray  # (F,) a fixed footprint, or empty
    # MODEL.md section B
    cft: np.ndarray  # (N,) counter-financing capacity in [0, 1], B1
    privacy: np.ndarray  # (N,) strictness of the data-protection regime in [0, 1], B7
    family: np.ndarray  # (N, N) compatibility of the legal families (recomputing c)
    hub_kind: np.ndarray  # (H,) HUB_POLICE, HUB_FIU or HUB_FORUM
    hub_databases: np.ndarray  # (H,) bool: members screen borders against its records, B2
    hub_open: np.ndarray  # (H,) bool: non-members may join, B6
    hub_join_trust: np.ndarray  # (H,) a joiner's trust in it, before tension, B6
    hub_training: np.ndarray  # (H,) weekly rate of its training programme (0: none), B4
    hub_standard: np.ndarray  # (H,) the capacity its programme trains toward, B4
    hub_training_trust: np.ndarray  # (H,) weekly pull of members' mutual trust to 1, B4
    hub_norms: np.ndarray  # (H,) weekly pull of members' definitions (0: none), B5
    hub_definition: np.ndarray  # (H,) the definition its norms pull toward, B5
    open_border: np.ndarray  # (O, N) bool: the members of each open-border group, B2
    provider_cum: np.ndarray  # (N,) running sums of the providers' weights, B3
    direct: np.ndarray  # (N, N) bool: i reaches j's providers directly, B3


class Relations(NamedTuple):
    """The dynamic relations: trust ``T``, trust in hubs ``TI``, the salience of attacks,
    and what MODEL.md section B lets change (capacity, definitions, compatibility,
    treaties, memberships); without section B these keep their starting values."""

    trust: np.ndarray  # (N, N) in [0, 1], directed
    hub_trust: np.ndarray  # (N, H) in [0, 1]
    salience: np.ndarray  # (N,) recent attacks on the nation, decaying (A4), >= 0
    source_until: np.ndarray  # (N,) last week its sources are burnt by a leak (-1: none)
    defence: np.ndarray  # (N,) the groups' view r of each target's defence, in [0, 1]
    capacity: np.ndarray  # (N,) in [0, 1]; trained by B4
    definition: np.ndarray  # (N,) legal definition of terrorism on 0..1; moved by B5
    compat: np.ndarray  # (N, N) legal compatibility, diagonal 1 (B5, B6 recompute it)
    treaty: np.ndarray  # (N, N) bool: a treaty in force under this regime (B6)
    channel: np.ndarray  # (N, N) bool: i may send to j bilaterally under this regime
    members: np.ndarray  # (H, N) bool (B6: accession)
    hub_trust0: np.ndarray  # (N, H) the trust in hubs that reversion pulls toward
    hub_bloc_share: np.ndarray  # (H, B) share of a hub's members in each bloc
    pair_week: np.ndarray  # (N, N) last week the pair was offered a treaty, B6 ((0, 0): off)
    alarms: np.ndarray  # (N,) this week's AI false alarms per nation, B7


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


class Tally(NamedTuple):
    """Counts, haven evidence, this week's events and the per-week record."""

    week_no: np.ndarray  # (1,) weeks simulated so far
    total: np.ndarray  # (len(COUNTED),) run totals
    week: np.ndarray  # (len(COUNTED),) this week's counts
    plots_by_base: np.ndarray  # (N,) plots spawned from each nation's territory
    resolved_at: np.ndarray  # (N,) plots based there that were resolved
    undisrupted_at: np.ndarray  # (N,) ... that attacked or whose plotters walked free
    disrupted_by_deadline: np.ndarray  # disruptions by the week their attack was due
    n_events: np.ndarray  # (3,) this week's leaks, hub leaks, joint disruptions
    leak_pairs: np.ndarray  # (E, 2) sender, leaker
    hub_leak_pairs: np.ndarray  # (E, 2) sender, hub
    joint_pairs: np.ndarray  # (E, 2) disrupter, partner whose fragment helped
    record: np.ndarray  # (weeks + 1, len(RECORDED))
    n_treaties: np.ndarray  # (1,) treaty pairs in force now


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


def new_plots(rows: int, width: int) -> Plots:
    """An empty plot table with room for ``rows`` plots of ``width`` slots."""
    z = lambda: np.zeros(rows, np.int64)  # noqa: E731
    return Plots(count=np.zeros(1, np.int64), active=z(), n_active=np.zeros(1, np.int64),
                 group=z(), base=z(), target=z(), size=z(),
                 foot=np.full((rows, width), -1, np.int64), lead=z(), age=z(), epoch=z(),
                 status=z(), spawned=z(), resolved=z(), disrupter=z(), foreign=z(),
                 failed=z(), provider=z(),
                 evidence=np.zeros((rows, width), np.int64),
                 financial=np.zeros((rows, width), np.int64),
                 crossing=np.zeros((rows, width), np.int64), disrupted_now=z(),
                 n_disrupted_now=np.zeros(1, np.int64))


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
    """Zero counts for ``n`` nations and a record with room for ``weeks`` weeks."""
    return Tally(week_no=np.zeros(1, np.int64), total=np.zeros(len(COUNTED), np.int64),
                 week=np.zeros(len(COUNTED), np.int64), plots_by_base=np.zeros(n),
                 resolved_at=np.zeros(n), undisrupted_at=np.zeros(n),
                 disrupted_by_deadline=np.zeros(weeks + lead_max + 2, np.int64),
                 n_events=np.zeros(3, np.int64),
                 # the week's events: rows are written before they are read (n_events)
                 leak_pairs=np.empty((events, 2), np.int64),
                 hub_leak_pairs=np.empty((events, 2), np.int64),
                 joint_pairs=np.empty((events, 2), np.int64),
                 record=np.full((weeks + 1, len(RECORDED)), np.nan),
                 n_treaties=np.zeros(1, np.int64))


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
    new_frags = (active + par.spawn_bound) * par.width
    deliveries = in_flight + new_frags * (par.width - 1 + hubs)
    return new_frags, deliveries, receipts + deliveries * max(par.width - 1, 1)


def mail_rows(par: Setting, hubs: int, active: int) -> int:
    """Rows of mail that a week surely needs with ``active`` plots alive and an empty post:
    the starting size (see :func:`needed_rows`)."""
    _, deliveries, receipts = _week_bound(par, hubs, active, 0, 0)
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


def run_bytes(par: Setting, nations: int, hubs: int, steps: int) -> int:
    """About how many bytes a run's tables reach: the plot table of the whole run, the
    fragments those plots may yield (each slot of each plot, each week of its lead time,
    with the detection rate), a week's mail, the nation-by-nation arrays and the record."""
    plots, frags, mail = initial_rows(par, hubs, steps)
    frags = max(frags, int(plots * par.lead_max * par.width * min(1.0, par.detection_rate)))
    per_plot = (18 + 4 * par.width) * 8
    per_fragment = 6 * 8 + par.width
    return (plots * per_plot + frags * per_fragment + mail * 16 * 8
            + 14 * nations * nations * 8 + (steps + 1) * len(RECORDED) * 8)


def grow(par: Setting, hubs: int, plots: Plots, frags: Fragments, mail: Mail, tally: Tally
         ) -> tuple[Plots, Fragments, Mail, Tally]:
    """The tables, each doubled (or more) where one more week might not fit."""
    need_p, need_f, need_d, need_r = needed_rows(par, hubs, plots, frags, mail)
    if need_p > plots.group.shape[0]:
        plots = _resized(plots, max(need_p, 2 * plots.group.shape[0]), fill={"foot": -1})
    if need_f > frags.plot.shape[0]:
        frags = _resized(frags, max(need_f, 2 * frags.plot.shape[0]))
    rows = mail.due.shape[0]
    if need_d > rows or need_r > rows:
        mail = _resized(mail, max(need_d, need_r, 2 * rows))
    if mail.due.shape[0] > tally.leak_pairs.shape[0]:
        size = mail.due.shape[0]
        tally = tally._replace(**{k: _grown(getattr(tally, k), size) for k in
                                  ("leak_pairs", "hub_leak_pairs", "joint_pairs")})
    week = int(tally.week_no[0]) + 1
    if week >= tally.record.shape[0]:
        tally = tally._replace(record=_grown(tally.record, 2 * week, np.nan))
    if week + par.lead_max + 1 >= tally.disrupted_by_deadline.shape[0]:
        tally = tally._replace(disrupted_by_deadline=_grown(
            tally.disrupted_by_deadline, 2 * (week + par.lead_max + 1)))
    return plots, frags, mail, tally


@njit(cache=True)
def has_room(par: Setting, hubs: int, plots: Plots, frags: Fragments, mail: Mail,
             tally: Tally) -> bool:
    """Whether one more week fits in the tables as they are (see :func:`needed_rows`)."""
    need_p, need_f, need_d, need_r = needed_rows(par, hubs, plots, frags, mail)
    week = int(tally.week_no[0]) + 1
    return (need_p <= plots.group.shape[0] and need_f <= frags.plot.shape[0]
            and max(need_d, need_r) <= mail.due.shape[0]
            and mail.due.shape[0] <= tally.leak_pairs.shape[0]
            and week < tally.record.shape[0]
            and week + par.lead_max + 1 < tally.disrupted_by_deadline.shape[0])


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
