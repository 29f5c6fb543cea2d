"""The week of MODEL.md, one compiled function per phase.

Each phase is a plain loop over plots, fragments or deliveries that calls the rules of
:mod:`ctsim.core.rules` by name; :func:`week` calls the phases in MODEL.md's order, and
:func:`run_weeks` runs weeks one after another. numba compiles these functions the first
time they are used (``cache=True`` keeps the result on disk, so later processes load it);
with the environment variable ``NUMBA_DISABLE_JIT=1`` the same functions run as ordinary
Python, for reading them in a debugger.

The phases and their helpers are inlined into :func:`week` by LLVM (numba compiles each
once, marked ``forceinline``; :data:`INLINE`): a phase's helpers are called per plot or
per fragment, and a call between compiled functions would cost more than their work.
The containers arrive as StructRefs of their arrays
(:func:`ctsim.core.state.compiled_view`), one reference each, so binding them to a helper's
arguments is cheap. :func:`week` itself is not inlined into :func:`run_weeks`:
its call happens once a week, and inlining it made numba copy the whole week's code
again, about a third of the first compilation.

Every phase that draws random numbers has its own numpy Generator (``rngs[SPAWN]`` ...,
see :data:`ctsim.core.state.STREAMS`), so a change in one phase leaves the draws of the
others where they were. The state the phases work on is described in
:mod:`ctsim.core.state`. ``t`` is the week being simulated, 1 for the first.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numba import njit
from numba.typed import List

import ctsim.core._fresh  # noqa: F401  (a stale compiled cache is cleared before use)
from ctsim.core import rules
from ctsim.core.state import (
    ABORT,
    ABORTED,
    ACCELERATE,
    ACT,
    ACTIVE,
    ALARM,
    ATTACK,
    ATTACKED,
    BILATERAL,
    BORDER,
    COLLECT,
    DIRECT,
    DIRECTED,
    DISRUPTED,
    DRIFT,
    EVOLVE,
    FINANCE,
    FINANCIAL,
    HUB_FIU,
    HUB_POLICE,
    IMITATION,
    INQUIRY,
    JUDICARE,
    LEAK,
    LOG_ATTACK,
    LOG_HUB_LEAK,
    LOG_IMITATION,
    LOG_JOINT,
    LOG_LEAK,
    LOG_MOVE,
    LOG_REFUSAL,
    LOG_SHOCK,
    LOG_WITHHOLDING,
    MODE,
    N_ACCESSIONS,
    N_ACQUITTALS,
    N_ASSET_FREEZES,
    N_ATTACKS,
    N_ATTACKS_FAILED,
    N_CONVICTIONS,
    N_DISRUPTED,
    N_DISRUPTIONS,
    N_EXTRADITIONS_GRANTED,
    N_EXTRADITIONS_REFUSED,
    N_FRAGMENTS,
    N_FRAGMENTS_BORDER,
    N_FRAGMENTS_FINANCIAL,
    N_FRAGMENTS_ONLINE,
    N_FRAGMENTS_REACH,
    N_INQUIRIES,
    N_LEAKS,
    N_MLAT_REQUESTS,
    N_PLOTS,
    N_PLOTS_ABORTED,
    N_PLOTS_ALERTED,
    N_PROSECUTED_AT_HOME,
    N_RELOCATIONS,
    N_SHARED_BILATERAL,
    N_SHARED_DIRECT,
    N_SHARED_INSTITUTIONAL,
    N_SHOCKS,
    N_SOURCES_BURNED,
    N_STRATEGY_CHANGES,
    N_TIPOFFS,
    N_TREATIES_FORMED,
    N_TREATIES_LAPSED,
    N_WITHHOLDINGS_REVEALED,
    N_WRONGFUL_INTERDICTIONS,
    ONLINE,
    ONLINE_TRACE,
    POLICE,
    PROSECUTE,
    REACH,
    SHARE,
    SPAWN,
    STATE_COLUMN,
    TIPOFF,
    TOTAL_SOURCES,
    WEEK_SOURCES,
    has_room,
)
from ctsim.core.strategies import (
    DEFECTED,
    SHARE_DECIDED,
    SHARED,
    STRATEGIES,
    WITHHOLD_DECIDED,
)

#: How many strategies there are (the record's columns of their holders, C3).
N_STRATEGIES = len(STRATEGIES)

#: How the phases and their helpers below are compiled into :func:`week`: "llvm" (the
#: default: each compiled once by numba as a function of its own, marked
#: ``forceinline``, and inlined into its callers by LLVM), "numba" (numba copies and
#: types each helper's code again at every call site, ``inline="always"``; the default
#: until the first compile was measured, benchmarks/README.md, "The first compilation")
#: or "never" (separate functions, called). The same runs bit for bit each way; "llvm"
#: compiles in about 0.85 of "numba"'s CPU time and runs the weeks in about 0.93 of its
#: time. A benchmark switch (``benchmarks/bench_compile.py``), read once from the
#: environment variable ``CTSIM_INLINE``. numba's cache does not tell them apart, so any
#: but the default is refused unless ``NUMBA_CACHE_DIR`` names a cache of its own.
INLINE = os.environ.get("CTSIM_INLINE") or "llvm"
if INLINE not in ("llvm", "numba", "never") or (INLINE != "llvm"
                                                 and not os.environ.get("NUMBA_CACHE_DIR")):
    raise ValueError(f"CTSIM_INLINE={INLINE!r}: expected 'llvm' (the default), 'numba' or "
                     "'never' (either with NUMBA_CACHE_DIR set to a cache folder of its own)")
#: The compile options :data:`INLINE` gives each phase and helper.
INLINING: dict[str, Any] = {"llvm": {"forceinline": True}, "numba": {"inline": "always"},
                            "never": {}}[INLINE]

# ---------------------------------------------------------------- the week


@njit(cache=True)
def run_weeks(until, par, world, rel, plots, frags, mail, groups, tally, rngs):
    """Simulate weeks until ``tally.week_no`` reaches ``until``; returns the weeks done.

    Stops early, before a week, when a table might not hold that week; the caller makes
    room (:func:`ctsim.core.state.grow`) and calls again, so the weeks are the same.
    """
    done = 0
    while tally.week_no[0] < until and has_room(par, len(world.latency), plots, frags,
                                                 mail, tally):
        week(tally.week_no[0] + 1, par, world, rel, plots, frags, mail, groups, tally, rngs)
        done += 1
    return done


@njit(cache=True)
def week(t, par, world, rel, plots, frags, mail, groups, tally, rngs):
    """Week ``t``, in MODEL.md's order."""
    start_week(tally)
    spawn_plots(t, par, world, rel, plots, groups, tally, rngs)  # 1
    collect_fragments(t, par, world, rel, plots, frags, groups, tally, rngs)  # 2
    share_fragments(t, par, world, rel, plots, frags, mail, tally, rngs[SHARE])  # 3
    leak_fragments(t, par, world, rel, plots, frags, mail, tally, rngs[LEAK])  # 4
    act_on_evidence(t, par, world, rel, plots, frags, mail, groups, tally, rngs)  # 5
    prosecute(par, rel, plots, groups, tally, rngs[PROSECUTE], rngs[JUDICARE])  # 6
    attack(t, par, world, rel, plots, groups, tally, rngs[ATTACK], rngs[INQUIRY])  # 7
    drift(t, par, world, rel, plots, groups, tally, rngs)  # 8
    record_week(t, rel, plots, tally)  # 9
    tally.week_no[0] = t


@njit(cache=True, **INLINING)
def start_week(tally):
    """Clear this week's counts and event log."""
    tally.week[:] = 0
    tally.n_logged[0] = 0


# ---------------------------------------------------------------- 1. spawn


@njit(cache=True, **INLINING)
def spawn_plots(t, par, world, rel, plots, groups, tally, rngs):
    """Each group spawns Poisson(strength * funds * plots_per_year / 52) plots (MODEL.md
    step 1; funds are B1's, 1 unless frozen).

    A plot is transnational with probability ``transnational`` (A1; else domestic: its
    base alone, which is its target). A transnational plot's footprint is its group's base
    first, its target last and transit nations between (or the scenario's fixed
    footprint); its lead time is drawn uniformly. With border screening (B2) its
    operatives cross into each nation after the base once, in a week drawn uniformly over
    its life; with ``online_share`` (B3) it leaves an online trace with a provider.

    Section D, each from its own stream: a plot is simple with
    rules.simple_plot_probability (D10): a footprint of at most two (base and target), the
    simple lead time; a domestic plot is directed from abroad with ``directed_share`` (D9):
    a handler nation, drawn as a transit nation is, joins its footprint.
    """
    rng, border, online = rngs[SPAWN], rngs[BORDER], rngs[ONLINE]
    directed, mode = rngs[DIRECTED], rngs[MODE]
    for g in range(par.groups):
        for _ in range(rng.poisson(groups.strength[g] * groups.funds[g] * par.plot_rate)):
            k = plots.count[0]
            if k >= plots.group.shape[0]:
                raise RuntimeError("a week spawned more plots than its bound (state.spawn_bound)")
            plots.count[0] += 1
            base = groups.base[g]
            simple = par.simple_share > 0.0 and mode.random() < rules.simple_plot_probability(
                par.simple_share, par.mode_adaptation, groups.view_complex[g],
                groups.view_simple[g])
            handler = -1
            if par.transnational < 1.0 and rng.random() >= rules.transnational_probability(
                    par.transnational):
                size = 1  # a domestic plot
                plots.foot[k, 0] = world.fixed_foot[0] if len(world.fixed_foot) > 0 else base
                if (par.directed_share > 0.0 and par.width > 1
                        and directed.random() < par.directed_share):
                    plots.foot[k, 1] = draw_nation(world.near[plots.foot[k, 0]],
                                                   world.near_cum[plots.foot[k, 0]],
                                                   plots.foot[k], 1, directed)
                    size, handler = 2, 1  # directed from abroad (D9)
            elif len(world.fixed_foot) > 0:
                size = len(world.fixed_foot)
                plots.foot[k, :size] = world.fixed_foot
            else:
                size = min(2, par.width) if simple else min(
                    rng.integers(par.foot_min, par.foot_max + 1), par.width)
                draw_footprint(plots.foot[k], base, size, par, world, rel, rng)
            plots.group[k] = g
            plots.base[k] = plots.foot[k, 0]
            plots.target[k] = plots.foot[k, 0] if handler >= 0 else plots.foot[k, size - 1]
            plots.size[k] = size
            plots.handler[k] = handler
            plots.simple[k] = simple
            if simple:  # D10
                plots.lead[k] = par.simple_lead_min
                if par.simple_lead_max > par.simple_lead_min:
                    plots.lead[k] = rng.integers(par.simple_lead_min, par.simple_lead_max + 1)
            else:
                plots.lead[k] = par.lead_min
                if par.lead_max > par.lead_min:
                    plots.lead[k] = rng.integers(par.lead_min, par.lead_max + 1)
            plots.spawned[k] = t
            plots.aimed_strategy[k] = rel.strategy[plots.target[k]]
            plots.status[k] = ACTIVE
            plots.resolved[k] = -1
            plots.disrupter[k] = -1
            plots.provider[k] = -1
            if par.border_screening > 0.0 and handler < 0:  # a handler does not cross
                for b in range(1, size):
                    plots.crossing[k, b] = t + border.integers(0, plots.lead[k])
            if par.online_share > 0.0 and online.random() < rules.online_trace_probability(
                    par.online_share):
                plots.provider[k] = draw_by_weight(world.provider_cum, online)
            plots.active[plots.n_active[0]] = k
            plots.n_active[0] += 1
            tally.plots_by_base[plots.base[k]] += 1
            tally.week[N_PLOTS] += 1


@njit(cache=True, **INLINING)
def draw_footprint(row, base, size, par, world, rel, rng):
    """Fill ``row[:size]``: the base, transit nations, and the target in the last slot.

    MODEL.md step 1: the target is drawn by target weight among the nations other than the
    base (a footprint of one is domestic: the base is the target); transit nations are
    drawn uniformly from the rest, without repeats. ``threat.locality`` weights both toward
    the base's region (``world.near``, rules.footprint_weight; the target by
    ``world.target_near``, that weight times the target weight). With target adaptation
    (A2) each target's weight is also scaled by ``(1 - r_j) ** a``, the groups' view of its
    defence (rules.adapted_target_weight).
    """
    row[0] = base
    if size == 1:
        return
    if par.target_adaptation > 0.0 or par.defence_adaptation > 0.0:
        weights = np.empty(len(rel.defence))
        for j in range(len(weights)):
            weights[j] = rules.adapted_target_weight(world.target_near[base, j],
                                                     rel.defence[j], par.target_adaptation)
            if par.defence_adaptation > 0.0:  # D1: hardened targets deflect
                weights[j] = rules.deflected_target_weight(
                    weights[j], rel.defence_failed[j], par.defence_adaptation)
        target = draw_nation(weights, np.cumsum(weights), row, 1, rng)
    else:
        target = draw_nation(world.target_near[base], world.target_cum[base], row, 1, rng)
    row[size - 1] = target
    for b in range(1, size - 1):
        row[b] = draw_nation(world.near[base], world.near_cum[base], row, b, rng, target)


@njit(cache=True, **INLINING)
def draw_by_weight(running, rng):
    """An index drawn with chance proportional to its weight (``running``: the running
    sums of the weights, the last one positive)."""
    j = np.searchsorted(running, rng.random() * running[-1], side="right")
    return min(j, len(running) - 1)


#: Draws by weight before :func:`draw_nation` scans the free nations instead.
TRIES = 32


@njit(cache=True, **INLINING)
def draw_nation(weights, running, taken, n_taken, rng, also_taken=-1):
    """A nation drawn with chance proportional to ``weights``, none of ``taken[:n_taken]``
    (nor ``also_taken``); uniformly among the others when they all weigh 0.

    A nation is drawn by weight among all (``running``: the running sums of ``weights``)
    and drawn again while it is taken, which gives the free nations the same chances as
    drawing among them alone; after :data:`TRIES` taken draws (the free nations weigh
    little or nothing), one scan of the free nations decides.
    """
    total = running[-1]
    if total > 0.0:
        for _ in range(TRIES):
            j = np.searchsorted(running, rng.random() * total, side="right")
            if j < len(weights) and not is_taken(j, taken, n_taken, also_taken):
                return j
    free_weight = 0.0
    free = 0
    for j in range(len(weights)):
        if not is_taken(j, taken, n_taken, also_taken):
            free_weight += weights[j]
            free += 1
    if free_weight > 0.0:
        u = rng.random() * free_weight
        last = -1
        for j in range(len(weights)):
            if not is_taken(j, taken, n_taken, also_taken) and weights[j] > 0.0:
                last = j
                u -= weights[j]
                if u < 0.0:
                    return j
        return last  # rounding left a sliver of u: the last nation with weight
    pick = rng.integers(0, free)
    for j in range(len(weights)):
        if not is_taken(j, taken, n_taken, also_taken):
            if pick == 0:
                return j
            pick -= 1
    return -1  # no nation left (the caller never asks for more than there are)


@njit(cache=True, **INLINING)
def is_taken(j, taken, n_taken, also_taken):
    """Whether nation ``j`` is one of ``taken[:n_taken]`` (a footprint, or the part of it
    drawn so far) or is ``also_taken``."""
    if j == also_taken:
        return True
    for b in range(n_taken):  # noqa: SIM110 (a plain loop compiles; a generator does not)
        if taken[b] == j:
            return True
    return False


# ---------------------------------------------------------------- 2. collect


@njit(cache=True, **INLINING)
def collect_fragments(t, par, world, rel, plots, frags, groups, tally, rngs):
    """Every footprint nation of an active plot gains one new fragment with probability
    ``p_i`` (MODEL.md step 2, rules.detection_probability; lower while a leak has burnt
    its sources, A5). The fragment's sensitivity is the scenario's value or a Beta draw per
    fragment; its collector counts it at once.

    Section B adds, each from its own stream: a financial fragment found by the nation's
    financial intelligence unit (B1, rules.financial_detection_probability); a fragment
    found at the border in the week the operatives cross into a nation, unless they come
    from a nation of the same open-border group (B2, rules.screening_probability); and a
    company's record of the plot's online trace, held by the provider's nation (B3).
    """
    rng, finance, border, online = rngs[COLLECT], rngs[FINANCE], rngs[BORDER], rngs[ONLINE]
    frags.first_new[0] = frags.count[0]
    for a in range(plots.n_active[0]):
        k = plots.active[a]
        plots.age[k] += 1
        for b in range(plots.size[k]):
            i = plots.foot[k, b]
            p = rules.detection_probability(par.detection_rate, rel.capacity[i],
                                            world.tech[i], par.ai_boost)
            if plots.simple[k]:  # D10
                p = rules.simple_detection_probability(p, par.simple_detect)
            if par.source_loss > 0.0 and rel.source_until[i] >= t:
                p = rules.detection_with_burnt_sources(p, rules.leak_source_loss(
                    par.source_loss, rel.source_sens[i], par.scaled_source_loss))
            if rng.random() < p:
                new_fragment(k, b, i, POLICE, par, plots, frags, rng)
                tally.week[N_FRAGMENTS] += 1
            if par.financing_detection > 0.0 and finance.random() < (
                    rules.financial_detection_probability(par.financing_detection,
                                                          world.cft[i])):
                new_fragment(k, b, i, FINANCIAL, par, plots, frags, finance)
                tally.week[N_FRAGMENTS_FINANCIAL] += 1
            if (par.border_screening > 0.0 and b > 0 and plots.crossing[k, b] == t
                    and not open_border(world.open_border, plots.foot[k, b - 1], i)
                    and border.random() < screening(t, i, plots.group[k], par, world, rel,
                                                    groups)):
                new_fragment(k, b, i, POLICE, par, plots, frags, border)
                tally.week[N_FRAGMENTS_BORDER] += 1
        if par.reach_nations > 0:
            collect_from_abroad(t, k, par, world, rel, plots, frags, tally, rngs[REACH])
        p = plots.provider[k]
        if p >= 0 and online.random() < rules.provider_record_probability(
                par.provider_detection):
            new_fragment(k, slot_of(p, plots.foot[k], plots.size[k]), p, ONLINE_TRACE, par,
                         plots, frags, online)
            tally.week[N_FRAGMENTS_ONLINE] += 1


@njit(cache=True)
def collect_from_abroad(t, k, par, world, rel, plots, frags, tally, rng):
    """Each nation with reach outside plot ``k``'s footprint collects a fragment about it
    with rules.reach_probability (D9; a simple plot's, D10, less), held by it alone (slot
    -1): the footprint gets it only through the collector's channels."""
    for i in range(len(world.reach)):
        if world.reach[i] <= 0.0 or is_taken(i, plots.foot[k], plots.size[k], -1):
            continue
        p = rules.reach_probability(par.reach_rate, world.reach[i], rel.capacity[i])
        if plots.simple[k]:
            p = rules.simple_detection_probability(p, par.simple_detect)
        if rng.random() < p:
            new_fragment(k, -1, i, POLICE, par, plots, frags, rng)
            tally.week[N_FRAGMENTS_REACH] += 1


@njit(cache=True, **INLINING)
def screening(t, i, g, par, world, rel, groups):
    """Chance that nation ``i``'s border check finds an operative of group ``g`` crossing
    in (B2, rules.screening_probability), doubled while a notice of a hub ``i`` belongs to
    names the group (D4, rules.noticed_screening_probability)."""
    p = rules.screening_probability(par.border_screening, rel.capacity[i],
                                    par.institutional and in_databases(i, world, rel),
                                    par.database_gap)
    if par.notices and par.institutional:  # notices travel through the hubs (D4)
        for h in range(len(world.hub_notices)):
            if (world.hub_notices[h] and rel.members[h, i]
                    and groups.noticed_until[g, h] >= t):
                return rules.noticed_screening_probability(p)
    return p


@njit(cache=True, **INLINING)
def new_fragment(k, b, i, kind, par, plots, frags, rng):
    """Nation ``i`` (slot ``b`` of plot ``k``'s footprint, -1 if outside it) collects a
    fragment of ``kind``; its sensitivity is the scenario's or a Beta draw from ``rng``."""
    f = frags.count[0]
    frags.count[0] += 1
    frags.plot[f] = k
    frags.slot[f] = b
    frags.nation[f] = i
    frags.epoch[f] = plots.epoch[k]
    frags.kind[f] = kind
    frags.sensitivity[f] = par.sensitivity
    if par.sens_a > 0.0:
        frags.sensitivity[f] = rng.beta(par.sens_a, par.sens_b)
    frags.held[f, :] = False
    if b >= 0:
        frags.held[f, b] = True
        count_evidence(plots, k, b, kind, False, True, par)


@njit(cache=True, **INLINING)
def count_evidence(plots, k, b, kind, foreign, admissible, par):
    """Slot ``b`` of plot ``k`` counts one more fragment (of ``kind``) as evidence: an
    admissible one, or under ``admissibility_gates: prosecution`` any (D2, which also
    counts the ``admissible`` ones apart). The first fragment of the epoch notes whether
    it came from another state (``foreign``; D11)."""
    if plots.evidence[k, b] == 0:
        plots.first_foreign[k, b] = 1 if foreign else 0
    plots.evidence[k, b] += 1
    if kind == FINANCIAL:
        plots.financial[k, b] += 1
    if par.prosecution_gate and admissible:
        plots.admissible[k, b] += 1


@njit(cache=True, **INLINING)
def slot_of(nation, foot, size):
    """The slot of ``nation`` in a footprint, -1 if it is not in it."""
    for b in range(size):
        if foot[b] == nation:
            return b
    return -1


@njit(cache=True)
def open_border(groups, a, b):
    """Whether nations ``a`` and ``b`` are in one open-border group (B2: no checks between
    them)."""
    for g in range(groups.shape[0]):  # noqa: SIM110 (a generator does not compile)
        if groups[g, a] and groups[g, b]:
            return True
    return False


@njit(cache=True)
def in_databases(i, world, rel):
    """Whether nation ``i`` belongs to a hub that shares its databases (B2)."""
    for h in range(len(world.hub_databases)):
        if world.hub_databases[h] and rel.members[h, i]:
            return True
    return False


# ---------------------------------------------------------------- 3. share


@njit(cache=True, **INLINING)
def share_fragments(t, par, world, rel, plots, frags, mail, tally, rng):
    """Each new fragment held by i about plot k may travel (MODEL.md step 3).

    Bilateral: to each other footprint nation j that i has a channel to, sent with
    probability ``w = T[i, j] * (1 - sovereignty_i * s)``, arriving after
    ``round(mlat_delay * (1 - c[i, j]))`` weeks. Institutional: to each hub h that i belongs
    to, posted with probability ``TI[i, h] * (1 - sovereignty_i * s)``, arriving after the
    hub's latency. Sovereignty is lowered by the salience of recent attacks. A hub carries
    police intelligence, or financial intelligence among financial intelligence units
    (B1), or nothing (a forum). A company's record of an online trace (B3) goes instead to
    each footprint nation, at once where it has direct access to the provider's nation,
    else by a mutual legal assistance request where a treaty allows one
    (:func:`request_records`). Then the deliveries due this week arrive (:func:`deliver`).
    """
    trust, compat = rel.trust, rel.compat
    members, hub_trust = rel.members, rel.hub_trust
    hub_kind, latency = world.hub_kind, world.latency
    sent_to = np.zeros(par.width if par.inquiries else 0, np.bool_)
    for f in range(frags.first_new[0], frags.count[0]):
        k, i, s = frags.plot[f], frags.nation[f], frags.sensitivity[f]
        if frags.kind[f] == ONLINE_TRACE:
            request_records(t, f, k, i, par, world, rel, plots, mail, tally)
            continue
        sov = rules.effective_sovereignty(world.sovereignty[i], par.surge, rel.salience[i])
        patron = world.patron_of[i] if par.hierarchy else -1
        third = sov  # toward anyone but its patron (C4: a client is more guarded)
        if patron >= 0:
            third = rules.effective_sovereignty(
                rules.ceded_sovereignty(world.sovereignty[i], par.client_cost), par.surge,
                rel.salience[i])
        is_target = plots.target[k] == i
        if par.inquiries:
            sent_to[:] = False
        if par.bilateral:
            for b in range(plots.size[k]):
                j = plots.foot[k, b]
                if open_to(i, j, par, rel) and rng.random() < share_probability(
                        i, j, trust[i, j], sov if j == patron else third, s, is_target, par,
                        rel):
                    delay = rules.mlat_delay(par.mlat_delay, compat[i, j])
                    send(mail, t + delay, f, BILATERAL, b, i)
                    tally.week[N_SHARED_BILATERAL] += 1
                    tally.by_strategy[rel.strategy[i], 0] += 1
                    if par.inquiries:
                        sent_to[b] = True
        if par.institutional:
            wanted = HUB_FIU if frags.kind[f] == FINANCIAL else HUB_POLICE
            for h in range(len(latency)):
                if (hub_kind[h] == wanted and members[h, i]
                        and rng.random() < post_probability(i, k, h, hub_trust[i, h], third, s,
                                                            is_target, par, world, rel,
                                                            plots)):
                    send(mail, t + latency[h], f, h, -1, i)
                    tally.week[N_SHARED_INSTITUTIONAL] += 1
                    tally.by_strategy[rel.strategy[i], 0] += 1
                    if par.inquiries:
                        for b in range(plots.size[k]):
                            if members[h, plots.foot[k, b]]:
                                sent_to[b] = True
        if par.inquiries:
            note_withheld(k, frags.slot[f], i, frags.kind[f], sent_to, par, world, rel, plots)
    deliver(t, par, world, rel, plots, frags, mail, tally, rng)


@njit(cache=True, **INLINING)
def share_probability(i, p, trust, sovereignty, s, is_target, par, rel):
    """Chance that nation ``i`` sends a fragment of sensitivity ``s`` to partner ``p`` (a
    nation, or ``N + h`` for hub h): its strategy's willingness (rules.strategy_willingness,
    C3), or a person's decision where one is set (C6: share as ``always``, withhold as
    ``never``), times its stake in the plot (rules.staked_willingness, C1: the stake
    multiplies every strategy's willingness, a decision's too). ``trust`` is its trust in
    the partner; ``sovereignty`` its effective sovereignty toward it."""
    decided = rel.decision[i, p]
    if decided == WITHHOLD_DECIDED:
        return 0.0
    if decided == SHARE_DECIDED:
        w = 1.0 - sovereignty * s
    else:
        w = rules.strategy_willingness(rel.strategy[i], trust, sovereignty, s,
                                       rel.revealed[i, p], rel.grudge[i, p], par.forgiveness)
    return rules.staked_willingness(w, par.stake, is_target)


@njit(cache=True, **INLINING)
def open_to(i, j, par, rel):
    """Whether ``i`` may send ``j`` intelligence bilaterally: under the regime's bilateral
    channel, a treaty (or ad hoc sharing; rules.bilateral_channel), or with ``liaison:
    trust`` its trust in ``j`` (D3, rules.liaison_open)."""
    if par.liaison_by_trust:
        return par.bilateral and i != j and rules.liaison_open(rel.trust[i, j],
                                                               par.liaison_trust)
    return rel.channel[i, j]


@njit(cache=True, **INLINING)
def post_probability(i, k, h, trust, sovereignty, s, is_target, par, world, rel, plots):
    """Chance that ``i`` posts a fragment about plot ``k`` to hub ``h``: as to any partner
    (:func:`share_probability`), less with exposure aversion where many would read it
    (D5, rules.exposure_averse_willingness)."""
    w = share_probability(i, len(rel.strategy) + h, trust, sovereignty, s, is_target, par,
                          rel)
    if par.exposure_aversion > 0.0 and w > 0.0:
        w = rules.exposure_averse_willingness(w, s, post_exposure(i, k, h, par, world, rel,
                                                                  plots),
                                              par.exposure_aversion)
    return w


@njit(cache=True)
def post_exposure(i, k, h, par, world, rel, plots):
    """The expected number of the readers of ``i``'s post about plot ``k`` to hub ``h``
    who would leak it (D5): the hub's members in the footprint (but ``i``), each with its
    leak probability, and with ``hub_exposure`` (A6) each other member, with its chance
    to read the post times its leak probability."""
    x = 0.0
    for m in range(len(world.security)):
        if m == i or not rel.members[h, m]:
            continue
        p = reader_leak_probability(i, m, par, world)
        if is_taken(m, plots.foot[k], plots.size[k], -1):
            x += p
        elif par.hub_exposure > 0.0:
            x += rules.exposure_leak_probability(par.hub_exposure, p)
    return x


@njit(cache=True, **INLINING)
def note_withheld(k, slot, i, kind, sent_to, par, world, rel, plots):
    """Slot ``slot`` (nation ``i``) of plot ``k`` held back its new fragment (of ``kind``)
    from each footprint partner it has a channel to and did not send it to (C2), for an
    inquiry to find if the plot attacks."""
    if slot < 0:
        return
    wanted = HUB_FIU if kind == FINANCIAL else HUB_POLICE
    for b in range(plots.size[k]):
        if b != slot and not sent_to[b] and has_channel(i, plots.foot[k, b], wanted, par,
                                                         world, rel):
            plots.withheld[k, slot, b] = True


@njit(cache=True, **INLINING)
def has_channel(i, j, hub_kind, par, world, rel):
    """Whether ``i`` could have sent ``j`` a fragment: a bilateral channel under the
    regime, or a hub of ``hub_kind`` (the kind that carries the fragment) with both as
    members."""
    if open_to(i, j, par, rel):
        return True
    if par.institutional:
        for h in range(len(world.latency)):
            if world.hub_kind[h] == hub_kind and rel.members[h, i] and rel.members[h, j]:
                return True
    return False


@njit(cache=True, **INLINING)
def request_records(t, f, k, p, par, world, rel, plots, mail, tally):
    """Each footprint nation j other than the provider's nation ``p`` obtains the company
    record ``f`` (B3): the same week through a direct-access agreement with ``p``, or, where
    a treaty is in force, by a mutual legal assistance request that takes
    ``round(mlat_delay * (1 - c[j, p]))`` weeks (admissible with ``c[j, p]``)."""
    for b in range(plots.size[k]):
        j = plots.foot[k, b]
        if j == p:
            continue
        if rules.direct_access(par.cooperates, world.direct[j, p]):
            send(mail, t, f, DIRECT, b, p)
            tally.week[N_SHARED_DIRECT] += 1
        elif rel.treaty[j, p]:
            send(mail, t + rules.mlat_delay(par.mlat_delay, rel.compat[j, p]), f, BILATERAL,
                 b, p)
            tally.week[N_MLAT_REQUESTS] += 1


@njit(cache=True, **INLINING)
def send(mail, due, f, via, slot, sender):
    """Put fragment ``f`` in flight, due in week ``due``, through ``via`` (to ``slot``)."""
    d = mail.count[0]
    mail.count[0] += 1
    mail.due[d] = due
    mail.frag[d] = f
    mail.via[d] = via
    mail.to[d] = slot
    mail.sender[d] = sender


@njit(cache=True, **INLINING)
def deliver(t, par, world, rel, plots, frags, mail, tally, rng):
    """The deliveries due this week arrive, in the order they were sent.

    A delivery about a plot that is over, or alerted since it was sent, is dropped. A
    bilateral delivery reaches its one receiver; a post reaches every hub member in the
    footprint but the sender. Each receiver finds it admissible with probability
    ``c[i, j]`` (through a hub ``max(c[i, j], harmonization_h)``; a company record reached
    directly, always), less what a stricter privacy regime rejects (B7,
    :func:`admissible`), and counts it once, however many ways it came. Arrivals are kept
    for the leak phase.
    """
    mail.n_arrived[0] = 0
    kept = 0
    for d in range(mail.count[0]):
        if mail.due[d] > t:  # still in flight
            keep_in_flight(mail, d, kept)
            kept += 1
            continue
        f = mail.frag[d]
        k = frags.plot[f]
        if plots.status[k] != ACTIVE or frags.epoch[f] != plots.epoch[k]:
            continue
        arrive(mail, f, mail.via[d], mail.to[d])
        i, via = mail.sender[d], mail.via[d]
        if via < 0:  # BILATERAL or DIRECT: one receiver
            b = mail.to[d]
            j = plots.foot[k, b]
            if via == BILATERAL:  # a nation's act, seen by its receiver (C2)
                reveal(rel, j, i, SHARED, t)
                tally.by_strategy[rel.strategy[j], 1] += 1
            p = admissible(i, j, via, par, world, rel)
            receive(plots, frags, mail, k, b, f, via, i, p, par, rng)
        else:
            for b in range(plots.size[k]):
                j = plots.foot[k, b]
                if rel.members[via, j] and b != frags.slot[f]:
                    reveal(rel, j, len(rel.strategy) + via, SHARED, t)
                    tally.by_strategy[rel.strategy[j], 1] += 1
                    p = admissible(i, j, via, par, world, rel)
                    receive(plots, frags, mail, k, b, f, via, i, p, par, rng)
    mail.count[0] = kept


@njit(cache=True, **INLINING)
def admissible(i, j, via, par, world, rel):
    """Chance that a fragment from ``i`` reaching ``j`` through ``via`` is admissible:
    ``c[i, j]`` bilaterally, ``max(c[i, j], harmonization_h)`` through hub h, 1 for a
    company record reached directly (B3); then times the privacy factor (B7)."""
    if via == DIRECT:
        p = 1.0
    else:
        p = rules.admissibility(rel.compat[i, j], 0.0 if via == BILATERAL
                                else world.hub_floor[via])
    if par.privacy_gap > 0.0:
        p = rules.privacy_admissibility(p, par.privacy_gap, world.privacy[j],
                                        world.privacy[i])
    return p


@njit(cache=True, **INLINING)
def keep_in_flight(mail, d, kept):
    """Move delivery ``d`` to row ``kept`` of the deliveries still in flight."""
    mail.due[kept] = mail.due[d]
    mail.frag[kept] = mail.frag[d]
    mail.via[kept] = mail.via[d]
    mail.to[kept] = mail.to[d]
    mail.sender[kept] = mail.sender[d]


@njit(cache=True, **INLINING)
def arrive(mail, f, via, slot):
    """Note that fragment ``f`` arrived through ``via`` (at ``slot``) this week."""
    a = mail.n_arrived[0]
    mail.n_arrived[0] += 1
    mail.arrived_frag[a] = f
    mail.arrived_via[a] = via
    mail.arrived_to[a] = slot


@njit(cache=True, **INLINING)
def receive(plots, frags, mail, k, b, f, via, sender, p_admissible, par, rng):
    """Slot ``b`` of plot ``k`` receives fragment ``f``: admissible with ``p_admissible``,
    counted as evidence if it does not count it yet, with a receipt for learning. Under
    ``admissibility_gates: prosecution`` (D2) an inadmissible fragment counts as evidence
    too, and only the admissible ones count toward a conviction."""
    admissible = rng.random() < p_admissible
    if (admissible or par.prosecution_gate) and not frags.held[f, b]:
        frags.held[f, b] = True
        count_evidence(plots, k, b, frags.kind[f], True, admissible, par)
        r = mail.n_receipts[0]
        mail.n_receipts[0] += 1
        mail.receipt_plot[r] = k
        mail.receipt_slot[r] = b
        mail.receipt_epoch[r] = plots.epoch[k]
        mail.receipt_via[r] = via
        mail.receipt_sender[r] = sender


@njit(cache=True, **INLINING)
def reveal(rel, i, p, act, t):
    """Nation ``i`` sees partner ``p`` (a nation, or ``N + h`` for hub h) act toward it this
    week (C2): ``act`` becomes p's last revealed act, and a defection is remembered for
    good (C3's grudge)."""
    rel.revealed[i, p] = act
    rel.revealed_week[i, p] = t
    if act == DEFECTED:
        rel.grudge[i, p] = True


# ---------------------------------------------------------------- 4. leak


@njit(cache=True, **INLINING)
def leak_fragments(t, par, world, rel, plots, frags, mail, tally, rng):
    """Each bilateral arrival leaks with probability ``leak_rate * (1 - security_j)``; each
    post with the probability that at least one reader leaks it: the receiving footprint
    members, and each other member of the hub with ``hub_exposure`` (A6) (MODEL.md
    step 4). A leak alerts the plot: all evidence about it, everywhere, is discarded. The
    sender loses ``leak_penalty`` of its trust in the leaker (in the hub, for a post), and
    its sources are burnt for ``source_weeks`` (A5)."""
    for a in range(mail.n_arrived[0]):
        f, via = mail.arrived_frag[a], mail.arrived_via[a]
        k, i = frags.plot[f], frags.nation[f]
        if via < 0:  # one receiver: a bilateral delivery or a company record (B3)
            j = plots.foot[k, mail.arrived_to[a]]
            p = reader_leak_probability(i, j, par, world)
        else:
            p = 0.0
            for b in range(plots.size[k]):
                j = plots.foot[k, b]
                if rel.members[via, j] and b != frags.slot[f]:
                    p = rules.either_leaks(p, reader_leak_probability(i, j, par, world))
            if par.hub_exposure > 0.0:
                for m in range(len(world.security)):
                    if rel.members[via, m] and not is_taken(m, plots.foot[k],
                                                              plots.size[k], i):
                        p = rules.either_leaks(p, rules.exposure_leak_probability(
                            par.hub_exposure,
                            reader_leak_probability(i, m, par, world)))
        if rng.random() < p:
            tally.week[N_LEAKS] += 1
            if par.source_loss > 0.0:
                if rel.source_until[i] < t:
                    tally.week[N_SOURCES_BURNED] += 1
                rel.source_until[i] = t + par.source_weeks  # a second leak restarts it
                rel.source_sens[i] = frags.sensitivity[f]  # D6: what the leak burnt
            if via < 0:
                j = plots.foot[k, mail.arrived_to[a]]
                log_event(tally, LOG_LEAK, i, j, k, rel.trust[i, j])
                rel.trust[i, j] = rules.trust_after_leak(rel.trust[i, j], par.leak_penalty)
                reveal(rel, i, j, DEFECTED, t)  # a leak is a defection the sender sees (C2)
            else:
                log_event(tally, LOG_HUB_LEAK, i, via, k, rel.hub_trust[i, via])
                rel.hub_trust[i, via] = rules.trust_after_leak(rel.hub_trust[i, via],
                                                               par.leak_penalty)
                reveal(rel, i, len(rel.strategy) + via, DEFECTED, t)
            if plots.epoch[k] == frags.epoch[f]:  # not yet alerted by another leak this week
                alert(t, k, par, plots, tally)


@njit(cache=True, **INLINING)
def alert(t, k, par, plots, tally):
    """Plot ``k`` is alerted (by a leak, or a tip-off, D7): all evidence about it,
    everywhere, is discarded (v1) and, by ``alert_effect`` (D6), its remaining lead time
    halved (rules.accelerated_lead) or the plot abandoned."""
    plots.evidence[k, :] = 0
    plots.financial[k, :] = 0
    if par.prosecution_gate:
        plots.admissible[k, :] = 0
    plots.epoch[k] += 1
    tally.week[N_PLOTS_ALERTED] += 1
    if par.alert_mode == ACCELERATE:
        plots.lead[k] = rules.accelerated_lead(plots.age[k], plots.lead[k])
    elif par.alert_mode == ABORT and plots.status[k] == ACTIVE:
        plots.status[k] = ABORTED
        plots.resolved[k] = t
        tally.week[N_PLOTS_ABORTED] += 1


@njit(cache=True, **INLINING)
def reader_leak_probability(i, j, par, world):
    """Chance that nation ``j`` leaks a fragment it read from ``i``
    (rules.leak_probability), less where ``i`` is its patron and watches it (C4,
    rules.monitored_leak_probability)."""
    p = rules.leak_probability(par.leak_rate, world.security[j])
    if par.hierarchy and world.patron_of[j] == i:
        p = rules.monitored_leak_probability(p, par.monitoring)
    return p


@njit(cache=True, **INLINING)
def log_event(tally, kind, a, b, c=-1, value=np.nan):
    """Write an event of ``kind`` (``LOG_*``, declared in :data:`ctsim.core.outputs.LOGGED`
    with what ``a``, ``b``, ``c`` and ``value`` are) to this week's event log. The log has
    room for every event a week can hold (:func:`ctsim.core.state.log_rows`); one that
    would not fit is counted, not written."""
    e = tally.n_logged[0]
    if e < tally.log.shape[0]:
        tally.log[e, 0] = kind
        tally.log[e, 1] = a
        tally.log[e, 2] = b
        tally.log[e, 3] = c
        tally.log_value[e] = value
    tally.n_logged[0] = e + 1


# ---------------------------------------------------------------- 5. act


@njit(cache=True, **INLINING)
def act_on_evidence(t, par, world, rel, plots, frags, mail, groups, tally, rngs):
    """Each footprint nation whose admissible evidence about a plot reaches
    ``evidence_threshold`` attempts interdiction, succeeding with ``interdiction *
    capacity_j`` (MODEL.md step 5), less what the week's AI false alarms tie up (B7,
    :func:`raise_false_alarms`). Where several succeed in one week, one of them, chosen
    at random, disrupts the plot, and raises its trust in each partner (hub) whose fragment
    it used; a hub with notices that the disrupter belongs to names the plot's group (D4).
    Where every attempt failed, each failure may have tipped the cell off (``tipoff``,
    D7, from its own stream): the plot is alerted as by a leak."""
    rng, tip = rngs[ACT], rngs[TIPOFF]
    if par.ai_false_alarm > 0.0:
        raise_false_alarms(par, world, rel, tally, rngs[ALARM])
    plots.n_disrupted_now[0] = 0
    succeeded = np.empty(par.width, np.int64)
    for a in range(plots.n_active[0]):
        k = plots.active[a]
        n = 0
        tipped = False
        for b in range(plots.size[k]):
            if plots.evidence[k, b] >= par.evidence_threshold and b != plots.handler[k]:
                j = plots.foot[k, b]  # (a handler abroad collects, but cannot arrest: D9)
                p = rules.interdiction_probability(par.interdiction, rel.capacity[j])
                if par.ai_false_alarm > 0.0:
                    p *= rules.tie_up_factor(par.ai_tie_up, rel.alarms[j])
                if rng.random() < p:
                    succeeded[n] = b
                    n += 1
                elif par.tipoff > 0.0 and tip.random() < par.tipoff:
                    tipped = True
        if n == 0 and tipped:
            tally.week[N_TIPOFFS] += 1
            alert(t, k, par, plots, tally)
        if n > 0:
            b = succeeded[0] if n == 1 else succeeded[rng.integers(0, n)]
            disrupt(t, k, b, par, plots, rel, groups, tally)
            if par.notices and par.institutional:
                issue_notices(t, plots.group[k], plots.foot[k, b], world, rel, groups)
            if par.target_adaptation > 0.0:
                j = plots.target[k]
                rel.defence[j] = rules.defence_after_resolution(rel.defence[j], par.memory,
                                                                True)
            learn_from(k, b, par, rel, plots, mail, tally)
    forget_stale_receipts(plots, mail)


@njit(cache=True)
def issue_notices(t, g, j, world, rel, groups):
    """Nation ``j`` disrupted a plot of group ``g``: every hub with notices that ``j``
    belongs to names the group for its ``notice_weeks`` (D4)."""
    for h in range(len(world.hub_notices)):
        if world.hub_notices[h] and rel.members[h, j]:
            groups.noticed_until[g, h] = max(groups.noticed_until[g, h],
                                             t + world.hub_notice_weeks[h])


@njit(cache=True)
def raise_false_alarms(par, world, rel, tally, rng):
    """Each nation raises Poisson(``ai_false_alarm * tech_i``) false alarms this week and
    acts on each: every one is a wrongful interdiction (B7)."""
    for i in range(len(rel.alarms)):
        rel.alarms[i] = rng.poisson(par.ai_false_alarm * world.tech[i])
        tally.week[N_WRONGFUL_INTERDICTIONS] += rel.alarms[i]


@njit(cache=True, **INLINING)
def disrupt(t, k, b, par, plots, rel, groups, tally):
    """Plot ``k`` is disrupted this week by the nation in its slot ``b``."""
    if par.mode_adaptation > 0.0:
        see_outcome(k, True, par, plots, groups)
    rel.year_aimed[plots.target[k]] += 1  # the year's record of its target (C5)
    rel.year_hit[plots.target[k]] += 1
    plots.foreign_first[k] = plots.first_foreign[k, b] == 1  # D11
    plots.status[k] = DISRUPTED
    plots.resolved[k] = t
    plots.disrupter[k] = plots.foot[k, b]
    plots.disrupted_now[plots.n_disrupted_now[0]] = k
    plots.n_disrupted_now[0] += 1
    tally.week[N_DISRUPTIONS] += 1
    # Rates count a disruption once its would-be attack week has passed (right-censoring).
    tally.disrupted_by_deadline[plots.spawned[k] + plots.lead[k] - 1] += 1
    tally.resolved_at[plots.base[k]] += 1


@njit(cache=True, **INLINING)
def learn_from(k, b, par, rel, plots, mail, tally):
    """The disrupter of plot ``k`` (slot ``b``) raises its trust in each nation or hub
    whose fragment about the plot it used, once per partner: ``T += learning_rate * (1 -
    T)`` (rules.trust_after_success). A partner that helped with two plots this week is
    trusted more twice over."""
    j = plots.foot[k, b]
    epoch = plots.epoch[k]
    # The receipts slot b of plot k holds as evidence now, read in place (a disruption
    # makes no array); an earlier one from the same partner by the same way credits it.
    plot, slot, when = mail.receipt_plot, mail.receipt_slot, mail.receipt_epoch
    vias, senders = mail.receipt_via, mail.receipt_sender
    for r in range(mail.n_receipts[0]):
        if plot[r] != k or slot[r] != b or when[r] != epoch:
            continue
        plots.foreign[k] = 1
        via, i = vias[r], senders[r]
        credited = seen = False  # by an earlier receipt of the same evidence
        for q in range(r):
            if plot[q] == k and slot[q] == b and when[q] == epoch and senders[q] == i:
                seen = True
                if vias[q] == via:
                    credited = True
                    break
        if credited:
            continue  # this partner has been credited for this plot already
        if via == BILATERAL:
            rel.trust[j, i] = rules.trust_after_success(rel.trust[j, i], par.learning_rate)
        else:
            rel.hub_trust[j, via] = rules.trust_after_success(rel.hub_trust[j, via],
                                                              par.learning_rate)
        if not seen:
            log_event(tally, LOG_JOINT, j, i, k)


@njit(cache=True, **INLINING)
def forget_stale_receipts(plots, mail):
    """Keep only the receipts about plots still active and not alerted since."""
    kept = 0
    for r in range(mail.n_receipts[0]):
        k = mail.receipt_plot[r]
        if plots.status[k] == ACTIVE and plots.epoch[k] == mail.receipt_epoch[r]:
            mail.receipt_plot[kept] = k
            mail.receipt_slot[kept] = mail.receipt_slot[r]
            mail.receipt_epoch[kept] = mail.receipt_epoch[r]
            mail.receipt_via[kept] = mail.receipt_via[r]
            mail.receipt_sender[kept] = mail.receipt_sender[r]
            kept += 1
    mail.n_receipts[0] = kept


# ---------------------------------------------------------------- 6. prosecute


@njit(cache=True, **INLINING)
def prosecute(par, rel, plots, groups, tally, rng, judicare):
    """A disruption removes ``attrition`` of the group's strength if the group's base is
    the disrupting nation, or extradites to it: granted with probability ``c[base, j]``
    where a treaty exists, never without one (MODEL.md step 6), and never where a person
    deciding for the base refuses (C6, ``Relations.extradite``). A refused extradition
    leaves the group whole and counts its base as a haven (the plotters walked free).
    A disruption that used a financial fragment also freezes ``asset_freeze`` of the
    group's funds, wherever its plotters end up (B1).

    Section D: under ``admissibility_gates: prosecution`` a disruption convicts only with
    enough admissible evidence (rules.convicts), else the operatives go free and the group
    loses nothing (D2). After a refusal the disrupter's own arrests still remove
    ``local_attrition`` of ``attrition``, and the base prosecutes the plotters itself with
    ``judicare`` (aut dedere aut judicare, D8, from its own stream; it needs the case the
    disrupter hands over, so not under the regime ``none``): then the group loses
    ``attrition`` and the base is no haven."""
    for d in range(plots.n_disrupted_now[0]):
        k = plots.disrupted_now[d]
        g, base, j = plots.group[k], plots.base[k], plots.disrupter[k]
        slot = slot_of(j, plots.foot[k], plots.size[k])
        if par.asset_freeze > 0.0 and plots.financial[k, slot] > 0:
            groups.funds[g] = rules.funds_after_freeze(groups.funds[g], par.asset_freeze)
            tally.week[N_ASSET_FREEZES] += 1
        if par.prosecution_gate:
            if not rules.convicts(plots.admissible[k, slot], plots.evidence[k, slot],
                                  par.conviction_share):
                tally.week[N_ACQUITTALS] += 1
                continue
            tally.week[N_CONVICTIONS] += 1
        if base == j:
            groups.strength[g] = rules.strength_after_disruption(groups.strength[g],
                                                                 par.attrition)
        elif (rng.random() < rules.extradition_probability(rel.compat[base, j],
                                                           rel.treaty[base, j])
              and rel.extradite[base, j]):  # drawn first: a refusal (C6) moves no draw
            groups.strength[g] = rules.strength_after_disruption(groups.strength[g],
                                                                 par.attrition)
            tally.week[N_EXTRADITIONS_GRANTED] += 1
        else:
            tally.week[N_EXTRADITIONS_REFUSED] += 1
            log_event(tally, LOG_REFUSAL, base, j, k)
            if par.local_attrition > 0.0:  # D8: the arrests made where it happened
                groups.strength[g] = rules.strength_after_disruption(
                    groups.strength[g], par.local_attrition * par.attrition)
            if par.judicare > 0.0 and par.cooperates and judicare.random() < par.judicare:
                groups.strength[g] = rules.strength_after_disruption(groups.strength[g],
                                                                     par.attrition)
                tally.week[N_PROSECUTED_AT_HOME] += 1
            else:
                tally.undisrupted_at[base] += 1


# ---------------------------------------------------------------- 7. attack


@njit(cache=True, **INLINING)
def attack(t, par, world, rel, plots, groups, tally, rng, inquiry):
    """A plot that has lived its lead time without disruption attacks its target; the
    attack fails with ``protection_j * capacity_target`` (A3; D1 lets protection respond),
    and the groups see the failure (D1's view of defence); either way the target's
    attack adds to its salience, which lowers its sovereignty sensitivity (A4) and
    the groups see the target as less defended (A2); an inquiry may reveal who withheld
    what about it (C2, :func:`inquire`, from its own stream). Resolved plots leave the
    active list."""
    salient = par.surge > 0.0 or par.treaty_formation > 0.0  # A4 and B6 read the salience
    if salient:  # last weeks' attacks weigh less (A4)
        for n in range(len(rel.salience)):
            rel.salience[n] = rules.salience_next_week(rel.salience[n], par.surge_decay, 0)
    kept = 0
    for a in range(plots.n_active[0]):
        k = plots.active[a]
        if plots.status[k] == ACTIVE and plots.age[k] >= plots.lead[k]:
            j = plots.target[k]
            plots.status[k] = ATTACKED
            plots.resolved[k] = t
            tally.week[N_ATTACKS] += 1
            tally.resolved_at[plots.base[k]] += 1
            tally.undisrupted_at[plots.base[k]] += 1
            if par.protected and rng.random() < rules.attack_failure_probability(
                    rel.protection[j], rel.capacity[j]):
                plots.failed[k] = 1
                tally.week[N_ATTACKS_FAILED] += 1
            if par.defence_adaptation > 0.0:  # D1: the groups see hardening
                rel.defence_failed[j] = rules.defence_after_resolution(
                    rel.defence_failed[j], par.memory, plots.failed[k] == 1)
            rel.year_attacks[j] += 1  # the year's attacks on j (D1's protection response)
            if par.mode_adaptation > 0.0:
                see_outcome(k, False, par, plots, groups)
            log_event(tally, LOG_ATTACK, j, plots.base[k], k)
            rel.year_aimed[j] += 1  # the year's record of its target (C5)
            if par.inquiries:
                inquire(t, k, par, world, rel, plots, tally, inquiry)
            if salient:
                rel.salience[j] += 1.0  # this week's attacks on j (A4)
            if par.target_adaptation > 0.0:
                rel.defence[j] = rules.defence_after_resolution(rel.defence[j], par.memory,
                                                                False)
        if plots.status[k] == ACTIVE:
            plots.active[kept] = k
            kept += 1
    plots.n_active[0] = kept


@njit(cache=True, **INLINING)
def see_outcome(k, stopped, par, plots, groups):
    """Plot ``k``'s group updates its view of how often plots of its mode (simple or
    complex) are stopped (D10, rules.defence_after_resolution with ``memory``)."""
    g = plots.group[k]
    if plots.simple[k]:
        groups.view_simple[g] = rules.defence_after_resolution(groups.view_simple[g],
                                                               par.memory, stopped)
    else:
        groups.view_complex[g] = rules.defence_after_resolution(groups.view_complex[g],
                                                                par.memory, stopped)


@njit(cache=True)
def inquire(t, k, par, world, rel, plots, tally, rng):
    """After plot ``k`` attacked, an inquiry (with ``inquiry``, C2) reveals, for every
    ordered pair (i, j) of its footprint where j could have sent i a fragment about it and
    held one back, that j withheld: i's trust in j loses ``withhold_penalty``
    (rules.trust_after_withholding) and j's last revealed act toward i is a defection.
    Between a patron and its client every inquiry happens (C4)."""
    size = plots.size[k]
    if size < 2:
        return
    held = par.inquiry > 0.0 and rng.random() < par.inquiry
    examined = held
    for bj in range(size):  # the partner that may have withheld
        j = plots.foot[k, bj]
        for bi in range(size):  # the nation that finds out
            if bi == bj:
                continue
            i = plots.foot[k, bi]
            tied = par.hierarchy and (world.patron_of[i] == j or world.patron_of[j] == i)
            if not (held or tied):
                continue
            examined = True
            if plots.withheld[k, bj, bi]:
                log_event(tally, LOG_WITHHOLDING, i, j, k, rel.trust[i, j])
                rel.trust[i, j] = rules.trust_after_withholding(rel.trust[i, j],
                                                                par.withhold_penalty)
                reveal(rel, i, j, DEFECTED, t)
                tally.week[N_WITHHOLDINGS_REVEALED] += 1
    if examined:
        tally.week[N_INQUIRIES] += 1


# ---------------------------------------------------------------- 8. drift


@njit(cache=True, **INLINING)
def drift(t, par, world, rel, plots, groups, tally, rngs):
    """Trust reverts toward its initial value; with ``shock_rate`` a geopolitical shock cuts
    trust between two blocs by ``shock``; groups regrow, and adaptive groups may relocate
    (MODEL.md step 8).

    Section B: a group's frozen funds regrow (B1); hubs with a training programme train
    their members (B4) and forums move their members' legal definitions (B5); treaties
    form between partners who share live plots, lapse under shocks, and nations join open
    hubs (B6).
    """
    rng = rngs[DRIFT]
    if par.reversion > 0.0:
        # the arrays read from their containers once: every cell of both matrices, weekly
        trust, trust0, reversion = rel.trust, world.trust0, par.reversion
        hub_trust, hub_trust0 = rel.hub_trust, rel.hub_trust0
        n, hubs = hub_trust.shape
        for i in range(n):
            for j in range(n):
                trust[i, j] = rules.trust_reversion(trust[i, j], trust0[i, j], reversion)
            for h in range(hubs):
                hub_trust[i, h] = rules.trust_reversion(hub_trust[i, h], hub_trust0[i, h],
                                                        reversion)
    if par.shock_rate > 0.0 and par.n_blocs > 1 and rng.random() < par.shock_rate:
        a = rng.integers(0, par.n_blocs)
        b = rng.integers(0, par.n_blocs - 1)
        if b >= a:
            b += 1
        shock_blocs(a, b, par, world, rel, tally, rngs[EVOLVE])
        tally.week[N_SHOCKS] += 1
        log_event(tally, LOG_SHOCK, a, b)
    for g in range(par.groups):
        groups.strength[g] = rules.strength_regrowth(groups.strength[g], par.regrowth)
        if groups.funds[g] < 1.0:
            groups.funds[g] = rules.strength_regrowth(groups.funds[g], par.fund_regrowth)
    if par.training:
        train_members(world, rel)
    if par.norms:
        converge_definitions(par, world, rel)
    if par.treaty_formation > 0.0:
        form_treaties(t, par, world, rel, plots, tally, rngs[EVOLVE])
    if par.accession > 0.0:
        join_open_hubs(par, world, rel, tally, rngs[EVOLVE])
    if par.relocate:
        relocate_groups(par, world, rel, groups, tally, rng)
    if par.hierarchy and par.monitoring > 0.0:
        hold_monitored_trust(par, world, rel)
    if par.imitation > 0.0 and t % 52 == 0:
        imitate(par, world, rel, tally, rngs[IMITATION])
    if par.protection_response > 0.0 and t % 52 == 0:
        respond_with_protection(par, rel)


@njit(cache=True)
def respond_with_protection(par, rel):
    """Once a year each nation's protection moves toward what last year's attacks on it
    call for (rules.protection_after_year, D1); the year's count starts again."""
    for j in range(len(rel.protection)):
        rel.protection[j] = rules.protection_after_year(rel.protection[j],
                                                        rel.year_attacks[j],
                                                        par.protection_response)
        rel.year_attacks[j] = 0


@njit(cache=True)
def hold_monitored_trust(par, world, rel):
    """A patron's trust in each client it monitors stays at or above
    rules.monitored_trust_floor (C4), whatever leaks, inquiries, shocks and reversion did
    this week."""
    for c in range(len(world.patron_of)):
        p = world.patron_of[c]
        if p >= 0:
            floor = rules.monitored_trust_floor(world.trust0[p, c], par.monitoring)
            if rel.trust[p, c] < floor:
                rel.trust[p, c] = floor


@njit(cache=True)
def imitate(par, world, rel, tally, rng):
    """Once a year (C5), each nation with ``imitation`` compares the disruption rate of the
    plots aimed at it in the past year with a random partner's (a nation it has a treaty
    with or shares a hub with) and adopts the partner's strategy with
    rules.imitation_probability (the Fermi rule). A nation without partners, or where
    either has no plot aimed at it resolved in the year, has nothing to compare. All
    compare last year's strategies: the changes apply together, then the year's record
    starts again."""
    n = len(rel.strategy)
    before = rel.strategy.copy()
    partners = np.empty(n, np.int64)
    for i in range(n):
        if rng.random() >= par.imitation:
            continue
        m = 0
        for j in range(n):
            if j != i and (rel.treaty[i, j] or shares_hub(i, j, rel)):
                partners[m] = j
                m += 1
        if m == 0:
            continue
        j = partners[rng.integers(0, m)]
        u = rng.random()
        if rel.year_aimed[i] == 0 or rel.year_aimed[j] == 0 or before[j] == before[i]:
            continue
        own = rel.year_hit[i] / rel.year_aimed[i]
        other = rel.year_hit[j] / rel.year_aimed[j]
        if u < rules.imitation_probability(other, own, par.selection):
            rel.strategy[i] = before[j]
            tally.week[N_STRATEGY_CHANGES] += 1
            log_event(tally, LOG_IMITATION, i, before[i], before[j])
    rel.year_aimed[:] = 0
    rel.year_hit[:] = 0


@njit(cache=True)
def shares_hub(i, j, rel):
    """Whether nations ``i`` and ``j`` belong to one hub (of any kind)."""
    for h in range(rel.members.shape[0]):  # noqa: SIM110 (a generator does not compile)
        if rel.members[h, i] and rel.members[h, j]:
            return True
    return False


@njit(cache=True)
def shock_blocs(a, b, par, world, rel, tally, rng):
    """A shock between blocs ``a`` and ``b``: trust across them loses ``shock`` of its value
    both ways, and each side's trust in a hub loses ``shock`` times the other side's share
    of the hub's members. Each treaty across them lapses with ``treaty_lapse`` (B6)."""
    n, hubs = rel.hub_trust.shape
    for i in range(n):
        for j in range(n):
            if ((world.bloc[i] == a and world.bloc[j] == b)
                    or (world.bloc[i] == b and world.bloc[j] == a)):
                rel.trust[i, j] = rules.trust_after_shock(rel.trust[i, j], par.shock)
                if (par.treaty_lapse > 0.0 and i < j and rel.treaty[i, j]
                        and rng.random() < par.treaty_lapse):
                    set_treaty(i, j, False, par, world, rel, tally)
                    tally.week[N_TREATIES_LAPSED] += 1
        if world.bloc[i] == a or world.bloc[i] == b:
            other = b if world.bloc[i] == a else a
            for h in range(hubs):
                rel.hub_trust[i, h] = rules.trust_after_shock(
                    rel.hub_trust[i, h], par.shock * rel.hub_bloc_share[h, other])


@njit(cache=True)
def set_treaty(i, j, signed, par, world, rel, tally):
    """Nations ``i`` and ``j`` sign (``signed``) a treaty or see theirs lapse (B6): the
    bilateral channel opens or closes with it (unless any pair may share ad hoc) and their
    legal compatibility is recomputed with or without the treaty's floor."""
    rel.treaty[i, j] = rel.treaty[j, i] = signed
    rel.channel[i, j] = rel.channel[j, i] = rules.bilateral_channel(
        par.bilateral, signed, par.ad_hoc_sharing)
    rel.compat[i, j] = rel.compat[j, i] = compatibility(i, j, par, world, rel)
    tally.n_treaties[0] += 1 if signed else -1


@njit(cache=True, **INLINING)
def compatibility(i, j, par, world, rel):
    """``c[i, j]`` from the legal families, the current definitions and treaty
    (rules.legal_compatibility), as at the start of the run."""
    return rules.legal_compatibility(world.family[i, j], rel.definition[i],
                                     rel.definition[j], rel.treaty[i, j], par.treaty_floor,
                                     par.harmonization)


@njit(cache=True)
def train_members(world, rel):
    """Each hub's training programme raises its members' capacity toward its standard
    (rules.capacity_after_training) and their trust in one another toward 1 (B4)."""
    n = len(rel.capacity)
    for h in range(len(world.hub_training)):
        if world.hub_training[h] > 0.0:
            for i in range(n):
                if rel.members[h, i]:
                    rel.capacity[i] = rules.capacity_after_training(
                        rel.capacity[i], world.hub_training[h], world.hub_standard[h])
        if world.hub_training_trust[h] > 0.0:
            for i in range(n):
                if rel.members[h, i]:
                    for j in range(n):
                        if j != i and rel.members[h, j]:
                            rel.trust[i, j] = rules.toward(rel.trust[i, j],
                                                           world.hub_training_trust[h], 1.0)


@njit(cache=True)
def converge_definitions(par, world, rel):
    """Each forum with norms moves its members' legal definitions toward its own
    (rules.toward), and legal compatibility follows (B5)."""
    n = len(rel.definition)
    for h in range(len(world.hub_norms)):
        if world.hub_norms[h] > 0.0:
            for i in range(n):
                if rel.members[h, i]:
                    rel.definition[i] = rules.toward(rel.definition[i], world.hub_norms[h],
                                                     world.hub_definition[h])
    for i in range(n):
        for j in range(i + 1, n):
            rel.compat[i, j] = rel.compat[j, i] = compatibility(i, j, par, world, rel)


@njit(cache=True)
def form_treaties(t, par, world, rel, plots, tally, rng):
    """Each pair without a treaty that shares the footprint of a live plot signs one this
    week with rules.treaty_formation_probability (B6), once per pair a week however many
    plots it shares."""
    if not par.cooperates:
        return
    for a in range(plots.n_active[0]):
        k = plots.active[a]
        for b in range(plots.size[k]):
            for c in range(b + 1, plots.size[k]):
                i, j = plots.foot[k, b], plots.foot[k, c]
                if rel.treaty[i, j] or rel.pair_week[i, j] == t:
                    continue
                rel.pair_week[i, j] = rel.pair_week[j, i] = t
                if rng.random() < rules.treaty_formation_probability(
                        par.treaty_formation, rel.trust[i, j], rel.trust[j, i],
                        par.surge_boost, rel.salience[i], rel.salience[j]):
                    set_treaty(i, j, True, par, world, rel, tally)
                    tally.week[N_TREATIES_FORMED] += 1


@njit(cache=True)
def join_open_hubs(par, world, rel, tally, rng):
    """Each non-member of an open hub joins it with rules.accession_probability (B6). A
    new member trusts the hub as its first members did, less the tension toward the
    rival blocs among its members (rules.initial_hub_trust)."""
    if not par.cooperates:
        return
    n = len(rel.capacity)
    for h in range(len(world.hub_open)):
        if not world.hub_open[h]:
            continue
        for i in range(n):
            if rel.members[h, i]:
                continue
            partners = inside = 0
            for j in range(n):
                if rel.treaty[i, j]:
                    partners += 1
                    if rel.members[h, j]:
                        inside += 1
            p = rules.accession_probability(par.accession, inside, partners)
            if p > 0.0 and rng.random() < p:
                admit(h, i, par, world, rel)
                tally.week[N_ACCESSIONS] += 1


@njit(cache=True)
def admit(h, i, par, world, rel):
    """Nation ``i`` joins hub ``h``: its trust in the hub, and the bloc shares of the hub's
    members that shocks read."""
    size = 0
    same = 0
    for j in range(len(rel.capacity)):
        if rel.members[h, j]:
            size += 1
            if world.bloc[j] == world.bloc[i]:
                same += 1
    rival_share = (size - same) / max(size, 1)
    rel.members[h, i] = True
    trust = rules.initial_hub_trust(world.hub_join_trust[h], par.tension, rival_share)
    rel.hub_trust[i, h] = rel.hub_trust0[i, h] = trust
    size += 1
    for b in range(rel.hub_bloc_share.shape[1]):
        rel.hub_bloc_share[h, b] = 0.0
    for j in range(len(rel.capacity)):
        if rel.members[h, j]:
            rel.hub_bloc_share[h, world.bloc[j]] += 1.0 / size


@njit(cache=True)
def relocate_groups(par, world, rel, groups, tally, rng):
    """Each adaptive group moves, with ``relocation_rate`` a week, to a new base drawn with
    weight ``safety ** haven_pull`` (rules.haven_safety, rules.relocation_weight); a group
    that draws its own base stays, and only a real move is counted and logged."""
    weights = running = np.empty(0)
    for g in range(par.groups):
        if rng.random() < par.relocation_rate:
            if len(weights) == 0:
                weights = np.empty(len(rel.capacity))
                for i in range(len(weights)):
                    safety = rules.haven_safety(rel.capacity[i], tally.undisrupted_at[i],
                                                tally.resolved_at[i])
                    weights[i] = rules.relocation_weight(safety, par.haven_pull)
                running = np.cumsum(weights)
            old = groups.base[g]
            groups.base[g] = draw_nation(weights, running, groups.base, 0, rng)
            if groups.base[g] != old:  # drawing its own base again, it stays
                tally.week[N_RELOCATIONS] += 1
                log_event(tally, LOG_MOVE, g, old, groups.base[g])


# ---------------------------------------------------------------- 9. record


@njit(cache=True, **INLINING)
def record_week(t, rel, plots, tally):
    """Add this week's counts to the run's totals, and write row ``t`` of the record: the
    disruption rate to date, the running totals, this week's counts and the state (the
    columns of ``state.RECORDED``).

    The rate and ``disrupted`` are right-censored: a disruption counts from the week its
    plot's attack was due (``disrupted_by_deadline``), as an attack would, so that plots
    still in flight do not bias the rate toward disruption (disruptions come earlier).
    """
    tally.week[N_DISRUPTED] += tally.disrupted_by_deadline[t]
    tally.total[:] += tally.week
    total, row = tally.total, tally.record[t]
    settled = total[N_DISRUPTED] + total[N_ATTACKS]
    row[0] = total[N_DISRUPTED] / settled if settled > 0 else np.nan
    for c in range(len(TOTAL_SOURCES)):
        row[1 + c] = total[TOTAL_SOURCES[c]]
    for c in range(len(WEEK_SOURCES)):
        row[1 + len(TOTAL_SOURCES) + c] = tally.week[WEEK_SOURCES[c]]
    row[STATE_COLUMN] = plots.n_active[0]
    row[STATE_COLUMN + 1] = mean_trust(rel.trust)
    row[STATE_COLUMN + 2] = rules.herfindahl(tally.plots_by_base)
    row[STATE_COLUMN + 3] = tally.n_treaties[0]
    for c in range(N_STRATEGIES):
        row[STATE_COLUMN + 4 + c] = 0
    for i in range(len(rel.strategy)):
        row[STATE_COLUMN + 4 + rel.strategy[i]] += 1


@njit(cache=True)
def mean_trust(trust):
    """Mean directed trust between distinct nations, in [0, 1] (NaN with one nation).

    Each row is summed with four running sums (columns 0, 4, 8, ... in the first, 1, 5,
    9, ... in the second, and so on), which a processor adds side by side, and the diagonal
    is taken off the row's sum: the same sums in the same order on every machine.
    """
    n = trust.shape[0]
    if n < 2:
        return np.nan
    total = 0.0
    whole = n - n % 4
    for i in range(n):
        row = trust[i]
        s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
        for j in range(0, whole, 4):
            s0 += row[j]
            s1 += row[j + 1]
            s2 += row[j + 2]
            s3 += row[j + 3]
        for j in range(whole, n):
            s0 += row[j]
        total += ((s0 + s1) + (s2 + s3)) - row[i]
    return total / (n * (n - 1))


# ---------------------------------------------------------------- set-up


def compiled_for(function, args):
    """``function`` (a compiled phase function) as compiled for the types of ``args``: the
    same code, called without numba's type check of every argument at every call (most of
    the cost of a call with these containers). Plain ``function`` without the JIT.

    The binding is kept per function and argument layout (:func:`_layout`), so a new model
    whose containers have the same layout reuses it without numba typing them again.
    """
    overloads = getattr(function, "overloads", None)
    if overloads is None:  # NUMBA_DISABLE_JIT: a plain Python function
        return function
    key = (function, _layout(args))
    bound = _BOUND.get(key)
    if bound is None:
        signature = tuple(function.typeof_pyval(a) for a in args)
        if signature not in overloads:
            function.compile(signature)  # from the cache, or compiled now
        bound = _BOUND[key] = overloads[signature].entry_point
    return bound


_BOUND: dict = {}


def _layout(value):
    """What numba's type of ``value`` depends on, cheaply: an array's dtype, dimensions,
    memory order, writability and alignment; a tuple's class and its items' layouts; the
    class of anything else (a number, a Generator) or its numba type (a typed List)."""
    if isinstance(value, np.ndarray):
        f = value.flags
        return (value.dtype.str, value.ndim, f.c_contiguous, f.f_contiguous, f.writeable,
                f.aligned)
    if isinstance(value, tuple):
        return (type(value), tuple(_layout(v) for v in value))
    return getattr(value, "_numba_type_", type(value))


@njit(cache=True)
def stream_list(rngs):
    """The phases' Generators (a tuple, in ``state.STREAMS`` order) as the list the compiled
    week indexes: built once per model, so later calls pass one list, not seven
    Generators to unbox."""
    out = List()
    for k in range(len(rngs)):
        out.append(rngs[k])
    return out


@njit(cache=True)
def footprint_weights(region, locality):
    """(N, N): weight of nation j in the footprint of a plot based at i
    (rules.footprint_weight); 0 on the diagonal."""
    n = len(region)
    out = np.zeros((n, n))
    for i in range(n):
        others = 0
        for j in range(n):
            if j != i and region[j] == region[i]:
                others += 1
        for j in range(n):
            if j != i:
                out[i, j] = rules.footprint_weight(region[j] == region[i], others, n,
                                                   locality)
    return out
