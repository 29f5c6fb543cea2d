"""A lean compiled kernel of the baseline scenario: the yardstick for ctsim's run time.

:func:`simulate` is one ``numba`` function over flat numpy arrays that does, in one call,
everything a 260-week run of ``scenarios/baseline.yaml`` does in ctsim's model: it draws
the world from the Generator it is given (the nations' capacity, sovereignty, security,
tech and legal definition, their legal families, blocs and regions, the treaties, legal
compatibility, initial trust, hub membership and members' trust in the hubs, the groups'
bases), then runs the weeks of MODEL.md's version 1 in its order, with no Python between
weeks: spawn plots with their footprints and lead times, collect fragments by detection
(each with a Beta sensitivity), share them bilaterally along treaties and through the
hubs (trust, sovereignty, legal compatibility, delays, latencies, admissibility),
deliver, leak (trust penalty, the plot alerted), act on evidence (interdiction, learning
from the fragments used), prosecute (attrition, extradition), attack, and drift (trust
reversion, regrowth, groups relocating to havens). It keeps no records beyond the counts
the compared metrics need: plots spawned, and among the settled plots (those whose attack
week has passed) the attacks, the disruptions and the disruptions that used another
nation's fragment; and the leaks.

Its values are the baseline scenario's, read from the file (:func:`kernel_arguments`),
which refuses a scenario that switches on anything the kernel does not implement. The
keys of MODEL.md's versions 2 and 3 are all at their inert defaults in the baseline, so
they do no work there and the kernel has none of them.

Where the kernel simplifies, and why the comparison keeps the same work:

1. **One Generator for every draw.** ctsim spawns twenty-one Generators from a run's
   seed, one for the world and one for each phase that draws, so that a change in one
   phase leaves the others' draws alone (common random numbers across scenarios). A draw
   costs the same from any Generator; the kernel makes the same kinds of draws, in the
   same numbers (in distribution), in the same phase order, from the Generator it is
   given. Spawning and handing over the streams is part of ctsim's set-up and is charged
   to it.
2. **Footprint nations drawn by index.** ctsim draws a target by weight among the nations
   other than the base (one uniform and a binary search of the running sums of
   ``threat.locality``'s footprint weights times the target weights) and each transit
   nation likewise, drawing again while it is taken. In the baseline ``locality`` is 0 and
   the target weights are equal, so every other nation weighs the same: the kernel maps
   its one uniform to one of the other nations directly and redraws while taken, as
   ctsim does. The distribution and the number of uniforms are the same; what is left out
   is the search over weights that only inert keys make unequal (a few comparisons a draw).
3. **The strategy and bookkeeping of sections B-D.** In ctsim every send goes through the
   decision and strategy dispatch (C3, C6) and the stake (C1); with every nation
   ``trusting``, no decision set and stake 1 these return ``T * (1 - sovereignty * s)``,
   the v1 willingness, which the kernel computes. ctsim's weeks also keep, for inert
   mechanisms, revealed acts, counts by strategy, the first fragment's origin (D11), the
   year's per-target counts (C5, D1), salience (A4), funds (B1), the event log and the
   weekly record (phase 9: totals, mean trust, haven concentration); none of them changes
   a draw or an outcome of the baseline, and the kernel keeps none.
4. **No weekly record.** The kernel counts what the compared metrics need and settles the
   plots once at the end; ctsim's record and its ``metrics()`` (numpy over the plot table)
   are outputs ctsim gives and the kernel does not.
5. **Tables grown inside the compiled call.** Plot, fragment, delivery and receipt
   tables start at about a run's expected size and double inside the call when a week
   might not fit; ctsim checks room before every week and grows its tables in Python.
   Both keep every plot and fragment of the run; the kernel keeps the columns its phases
   read (not, for example, a plot's target, resolution week or disrupter, which only
   ctsim's outputs read).
6. **The inert attributes of sections B and D are not drawn.** ctsim draws one uniform per
   nation for each of ``cft``, ``privacy`` and ``reach`` (constants at their defaults),
   only to keep later draws aligned across scenarios. The five attributes of MODEL.md's
   entities are drawn as ctsim draws them: one uniform per nation through the Beta
   inverse CDF, with ctsim's own compiled quantile function
   (:func:`ctsim.core.special.beta_quantile`), so that work is the same.

Kept on purpose although a leaner program could skip it, to keep the draws the same: the
full N x N matrix of uniforms for the treaties (ctsim uses its upper triangle), the
extradition draw made even where no treaty exists (probability 0), and a leak draw for
every arrival.

Run it with :func:`run` (``run(seed, steps=260)``); ``benchmarks/bench_lean.py`` times it
against ctsim and ``tests/benchmarks/test_lean_kernel.py`` checks it gives ctsim's means.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from ctsim.core.rules import beta_parameters
from ctsim.core.special import beta_quantile

#: The scenario the kernel implements, as shipped.
BASELINE = Path(__file__).resolve().parent.parent / "ctsim" / "scenarios" / "baseline.yaml"

# The scalar parameters, by position in the float64 vector ``par`` (kernel_arguments).
(P_NATIONS, P_BLOCS, P_REGIONS, P_TRUST, P_TENSION, P_TREATIES, P_MLAT_DELAY,
 P_TREATY_FLOOR, P_HARMONIZATION, P_CROSS_FAMILY, P_LEARNING_RATE, P_LEAK_PENALTY,
 P_REVERSION, P_GROUPS, P_PLOT_RATE, P_RELOCATION_RATE, P_HAVEN_PULL, P_ATTRITION,
 P_REGROWTH, P_FOOT_MIN, P_FOOT_MAX, P_LEAD_MIN, P_LEAD_MAX, P_DETECTION_RATE, P_AI_BOOST,
 P_SENS_A, P_SENS_B, P_THRESHOLD, P_INTERDICTION, P_LEAK_RATE) = range(30)
N_PARAMETERS = 30
#: The nation attributes drawn at the start, in ctsim's order (rows of ``attrs``).
ATTRIBUTES = ("capacity", "sovereignty", "security", "tech", "definition")
#: What :func:`simulate` returns, in this order (counts).
COUNTS = ("plots", "attacks", "disrupted", "leaks", "foreign_aided")

ACTIVE, DISRUPTED, ATTACKED = 0, 1, 2
BILATERAL = -1  # the ``via`` of a bilateral delivery or receipt; hubs are 0..H-1
#: ctsim's Setting values (ctsim.core.state) that must be at these for the kernel to do a
#: run's whole work: the mechanisms it does not implement are off.
REQUIRED = {
    "ad_hoc_sharing": False, "treaty_formation": 0.0, "monitoring": 0.0, "client_cost": 0.0,
    "privacy_gap": 0.0, "judicare": 0.0, "hub_exposure": 0.0, "accession": 0.0,
    "exposure_aversion": 0.0, "stake": 1.0, "imitation": 0.0, "shock_rate": 0.0,
    "inquiry": 0.0, "locality": 0.0, "surge": 0.0, "transnational": 1.0,
    "target_adaptation": 0.0, "protection": 0.0, "source_loss": 0.0, "tipoff": 0.0,
    "local_attrition": 0.0, "reach_rate": 0.0, "directed_share": 0.0, "simple_share": 0.0,
    "defence_adaptation": 0.0, "protection_response": 0.0, "financing_detection": 0.0,
    "border_screening": 0.0, "online_share": 0.0, "ai_false_alarm": 0.0, "relocate": True,
    "cooperates": True, "bilateral": True, "institutional": True, "training": False,
    "norms": False, "hierarchy": False, "inquiries": False, "prosecution_gate": False,
    "liaison_by_trust": False, "alert_mode": 0, "notices": False,
}


def kernel_arguments(scenario: Any) -> tuple:
    """The arguments of :func:`simulate` after ``rng`` and ``steps`` for ``scenario`` (a
    validated :class:`ctsim.core.scenario.Scenario`): ``par`` (the scalars, by the
    ``P_*`` positions), ``attrs`` (5, 3: each attribute's Beta a, b and mean; a = 0 for a
    constant), the legal families' running weights and whether each is ``mixed``, and per
    hub its region (-1: every nation), latency in weeks, admissibility floor and trust.

    Raises:
        ValueError: the scenario uses something the kernel does not implement.
    """
    from ctsim.core.scenario import LEGAL_FAMILIES, Dist, labels
    from ctsim.core.state import setting_of
    from ctsim.core.strategies import DEFAULT

    w, th = scenario.world, scenario.threat
    if not isinstance(w.nations, int) or not isinstance(w.regions, int) or not isinstance(
            w.blocs, int):
        raise ValueError("the kernel draws generated nations only (world.nations a count)")
    region_names = labels("regions", w.regions)
    insts = scenario.cooperation.institutions
    shape = SimpleNamespace(n=w.nations, bloc_names=labels("blocs", w.blocs),
                            inst_names=[i.name for i in insts])
    par = setting_of(scenario, shape)
    wrong = [k for k, v in REQUIRED.items() if getattr(par, k) != v]
    if set(w.strategies) - {DEFAULT} or th.targets != "uniform" or isinstance(
            th.footprint, list) or not isinstance(th.sensitivity, Dist):
        wrong.append("world.strategies/threat.targets/footprint/sensitivity")
    if (scenario.relations.open_borders or scenario.relations.treaties_within
            or not isinstance(scenario.relations.treaties, float)):
        wrong.append("relations.treaties/treaties_within/open_borders")
    hub_region = []
    for inst in insts:
        if inst.kind != "police" or not inst.fusion or inst.open or inst.databases:
            wrong.append(f"institution {inst.name}")
        if inst.members == "all":
            hub_region.append(-1)
        elif isinstance(inst.members, dict) and list(inst.members) == ["region"]:
            hub_region.append(region_names.index(inst.members["region"]))
        else:
            wrong.append(f"institution {inst.name}: members")
    if wrong:
        raise ValueError("the lean kernel does not implement: " + ", ".join(wrong))
    values = np.zeros(N_PARAMETERS)
    rel, legal, td = scenario.relations, scenario.legal, scenario.trust_dynamics
    for k, v in ((P_NATIONS, w.nations), (P_BLOCS, w.blocs), (P_REGIONS, w.regions),
                 (P_TRUST, rel.trust), (P_TENSION, rel.tension), (P_TREATIES, rel.treaties),
                 (P_MLAT_DELAY, legal.mlat_delay), (P_TREATY_FLOOR, legal.treaty_floor),
                 (P_HARMONIZATION, legal.harmonization), (P_CROSS_FAMILY, legal.cross_family),
                 (P_LEARNING_RATE, td.learning_rate), (P_LEAK_PENALTY, td.leak_penalty),
                 (P_REVERSION, td.reversion), (P_GROUPS, th.groups),
                 (P_PLOT_RATE, par.plot_rate), (P_RELOCATION_RATE, th.relocation_rate),
                 (P_HAVEN_PULL, th.haven_pull), (P_ATTRITION, th.attrition),
                 (P_REGROWTH, th.regrowth), (P_FOOT_MIN, par.foot_min),
                 (P_FOOT_MAX, par.foot_max), (P_LEAD_MIN, par.lead_min),
                 (P_LEAD_MAX, par.lead_max), (P_DETECTION_RATE, th.detection_rate),
                 (P_AI_BOOST, th.ai_boost), (P_SENS_A, par.sens_a), (P_SENS_B, par.sens_b),
                 (P_THRESHOLD, th.evidence_threshold), (P_INTERDICTION, th.interdiction),
                 (P_LEAK_RATE, th.leak_rate)):
        values[k] = float(v)
    attrs = np.zeros((len(ATTRIBUTES), 3))
    for row, name in enumerate(ATTRIBUTES):
        dist = getattr(w, name)
        ab = beta_parameters(dist.mean, dist.spread)
        attrs[row] = (ab[0], ab[1], dist.mean) if ab else (0.0, 0.0, dist.mean)
    weights = np.array(list(w.legal_families.values()), float)
    mixed = np.array([name == "mixed" for name in w.legal_families], np.bool_)
    assert set(w.legal_families) <= set(LEGAL_FAMILIES)
    return (values, attrs, np.cumsum(weights / weights.sum()), mixed,
            np.array(hub_region, np.int64), np.array([i.latency for i in insts], np.int64),
            np.array([i.harmonization for i in insts], float),
            np.array([i.trust for i in insts], float))


@lru_cache(maxsize=1)
def baseline_arguments() -> tuple:
    """:func:`kernel_arguments` of the shipped baseline scenario (read once a process)."""
    from ctsim.core.scenario import load_scenario

    return kernel_arguments(load_scenario(BASELINE))


def run(seed: int, steps: int = 260) -> dict[str, float]:
    """One run of the baseline from ``seed`` (its Generator ``default_rng(seed)``): the
    counts of :data:`COUNTS`, the disruption rate (disrupted / (disrupted + attacks), NaN
    with neither) and the foreign share (foreign-aided / disrupted, NaN without
    disruptions), as floats."""
    counts = simulate(np.random.default_rng(seed), steps, *baseline_arguments())
    out = {name: float(counts[k]) for k, name in enumerate(COUNTS)}
    settled = out["disrupted"] + out["attacks"]
    out["disruption_rate"] = out["disrupted"] / settled if settled else float("nan")
    out["foreign_share"] = (out["foreign_aided"] / out["disrupted"] if out["disrupted"]
                            else float("nan"))
    return out


@njit(cache=True)
def _grown1(a: NDArray, rows: int) -> NDArray:
    """``a`` (1-D) with room for ``rows`` (new rows unset)."""
    out = np.empty(rows, a.dtype)
    out[: len(a)] = a
    return out


@njit(cache=True)
def _grown2(a: NDArray, rows: int) -> NDArray:
    """``a`` (2-D) with room for ``rows`` rows (new rows unset)."""
    out = np.empty((rows, a.shape[1]), a.dtype)
    out[: a.shape[0]] = a
    return out


@njit(cache=True)
def _other(rng: np.random.Generator, n: int, base: int) -> int:
    """A nation other than ``base``, uniformly (one uniform)."""
    j = int(rng.random() * (n - 1))
    return j + 1 if j >= base else j


@njit(cache=True)
def simulate(rng: np.random.Generator, steps: int, par: NDArray[np.float64],
             attrs: NDArray[np.float64], fam_cum: NDArray[np.float64],
             fam_mixed: NDArray[np.bool_], hub_region: NDArray[np.int64],
             latency: NDArray[np.int64], hub_floor: NDArray[np.float64],
             hub_trust_given: NDArray[np.float64]) -> NDArray[np.int64]:
    """A whole run: the world drawn from ``rng``, then ``steps`` weeks (>= 0).

    Args:
        rng: the run's Generator; every draw comes from it.
        steps: weeks to simulate.
        par: the scalars at the ``P_*`` positions (probabilities per week in [0, 1],
            ``P_MLAT_DELAY`` in weeks, counts as floats).
        attrs: (5, 3) Beta a, b and mean of each of :data:`ATTRIBUTES` (a = 0: constant).
        fam_cum, fam_mixed: the legal families' running weights (the last 1) and whether
            each is ``mixed`` (its compatibility with the others halfway to 1).
        hub_region, latency, hub_floor, hub_trust_given: per hub, its members' region
            (-1: every nation), its latency in weeks, its admissibility floor and the
            trust its members start from, in [0, 1].

    Returns:
        (5,) the counts of :data:`COUNTS`: plots spawned and leaks over the whole run;
        attacks, disruptions and disruptions that used another nation's fragment among
        the settled plots (those whose attack week is at most ``steps``).
    """
    n = int(par[P_NATIONS])
    hubs = len(hub_region)
    groups = int(par[P_GROUPS])

    # ------------------------------------------------------------ the world
    values = np.empty((len(attrs), n))
    for a in range(len(attrs)):
        for i in range(n):
            u = rng.random()
            if attrs[a, 0] > 0.0:
                values[a, i] = min(1.0, max(0.0, beta_quantile(u, attrs[a, 0], attrs[a, 1])))
            else:
                values[a, i] = attrs[a, 2]
    cap, sov, sec, tech, definition = values[0], values[1], values[2], values[3], values[4]
    family = np.empty(n, np.int64)
    for i in range(n):
        u = rng.random()
        f = 0
        while f < len(fam_cum) - 1 and u >= fam_cum[f]:
            f += 1
        family[i] = f
    bloc = rng.permutation(n) % int(par[P_BLOCS])
    region = rng.permutation(n) % int(par[P_REGIONS])
    treaty = np.zeros((n, n), np.bool_)
    for i in range(n):
        for j in range(n):
            u = rng.random()
            if j > i and u < par[P_TREATIES]:
                treaty[i, j] = treaty[j, i] = True
    compat = np.ones((n, n))
    trust0 = np.ones((n, n))
    cross = par[P_CROSS_FAMILY]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            if family[i] == family[j]:
                fam = 1.0
            elif fam_mixed[family[i]] or fam_mixed[family[j]]:
                fam = 0.5 * (1.0 + cross)
            else:
                fam = cross
            c = fam * (1.0 - abs(definition[i] - definition[j]))
            if treaty[i, j]:
                c = max(c, par[P_TREATY_FLOOR])
            compat[i, j] = c + par[P_HARMONIZATION] * (1.0 - c)
            trust0[i, j] = par[P_TRUST] if bloc[i] == bloc[j] else par[P_TRUST] * (
                1.0 - par[P_TENSION])
    trust = trust0.copy()
    gbase = np.empty(groups, np.int64)
    for g in range(groups):
        gbase[g] = rng.integers(0, n)
    strength = np.ones(groups)
    members = np.zeros((hubs, n), np.bool_)
    hub_trust0 = np.zeros((n, hubs))
    for h in range(hubs):
        size = 0
        for i in range(n):
            members[h, i] = hub_region[h] < 0 or region[i] == hub_region[h]
            size += members[h, i]
        for i in range(n):
            if members[h, i]:
                same = 0
                for j in range(n):
                    same += members[h, j] and bloc[j] == bloc[i]
                rival = (size - same) / max(size - 1, 1)
                hub_trust0[i, h] = hub_trust_given[h] * (1.0 - par[P_TENSION] * rival)
    hub_trust = hub_trust0.copy()

    # ------------------------------------------------------------ the tables
    width = min(int(par[P_FOOT_MAX]), n)
    plot_rate, threshold = par[P_PLOT_RATE], par[P_THRESHOLD]
    foot_min, foot_max = int(par[P_FOOT_MIN]), int(par[P_FOOT_MAX])
    lead_min, lead_max = int(par[P_LEAD_MIN]), int(par[P_LEAD_MAX])
    rows = int(1.2 * groups * plot_rate * steps) + 64
    p_group = np.empty(rows, np.int64)
    p_size = np.empty(rows, np.int64)
    p_lead = np.empty(rows, np.int64)
    p_age = np.empty(rows, np.int64)
    p_epoch = np.empty(rows, np.int64)
    p_status = np.empty(rows, np.int64)
    p_spawned = np.empty(rows, np.int64)
    p_foreign = np.empty(rows, np.int64)
    p_foot = np.empty((rows, width), np.int64)
    p_evidence = np.empty((rows, width), np.int64)
    active = np.empty(rows, np.int64)
    n_plots = n_active = 0
    frag_rows = 4 * rows
    f_plot = np.empty(frag_rows, np.int64)
    f_slot = np.empty(frag_rows, np.int64)
    f_nation = np.empty(frag_rows, np.int64)
    f_epoch = np.empty(frag_rows, np.int64)
    f_sens = np.empty(frag_rows)
    f_held = np.empty((frag_rows, width), np.bool_)
    n_frags = 0
    mail_rows = 1024
    m_due = np.empty(mail_rows, np.int64)
    m_frag = np.empty(mail_rows, np.int64)
    m_via = np.empty(mail_rows, np.int64)
    m_to = np.empty(mail_rows, np.int64)
    m_sender = np.empty(mail_rows, np.int64)
    a_frag = np.empty(mail_rows, np.int64)
    a_via = np.empty(mail_rows, np.int64)
    a_to = np.empty(mail_rows, np.int64)
    n_mail = 0
    receipt_rows = 1024
    r_plot = np.empty(receipt_rows, np.int64)
    r_slot = np.empty(receipt_rows, np.int64)
    r_epoch = np.empty(receipt_rows, np.int64)
    r_via = np.empty(receipt_rows, np.int64)
    r_sender = np.empty(receipt_rows, np.int64)
    n_receipts = 0
    resolved_at = np.zeros(n)
    undisrupted_at = np.zeros(n)
    succeeded = np.empty(width, np.int64)
    now_plot = np.empty(rows, np.int64)
    now_nation = np.empty(rows, np.int64)
    weights = np.empty(n)
    leaks = 0
    keep_trust = 1.0 - par[P_LEAK_PENALTY]
    learning, reversion = par[P_LEARNING_RATE], par[P_REVERSION]

    for t in range(1, steps + 1):
        # -------------------------------------------------------- 1. spawn
        for g in range(groups):
            for _ in range(rng.poisson(strength[g] * plot_rate)):
                k = n_plots
                if k == len(p_group):  # the table is full: double it
                    more = 2 * len(p_group)
                    p_group, p_size = _grown1(p_group, more), _grown1(p_size, more)
                    p_lead, p_age = _grown1(p_lead, more), _grown1(p_age, more)
                    p_epoch, p_status = _grown1(p_epoch, more), _grown1(p_status, more)
                    p_spawned, p_foreign = _grown1(p_spawned, more), _grown1(p_foreign, more)
                    p_foot, p_evidence = _grown2(p_foot, more), _grown2(p_evidence, more)
                    active, now_plot = _grown1(active, more), _grown1(now_plot, more)
                    now_nation = _grown1(now_nation, more)
                n_plots += 1
                base = gbase[g]
                size = min(rng.integers(foot_min, foot_max + 1), width)
                p_foot[k, 0] = base
                target = _other(rng, n, base)
                p_foot[k, size - 1] = target
                for b in range(1, size - 1):  # transit nations, none taken twice
                    while True:
                        j = _other(rng, n, base)
                        free = j != target
                        for c in range(1, b):
                            if p_foot[k, c] == j:
                                free = False
                        if free:
                            break
                    p_foot[k, b] = j
                p_group[k] = g
                p_size[k] = size
                p_lead[k] = lead_min if lead_max == lead_min else rng.integers(
                    lead_min, lead_max + 1)
                p_age[k] = p_epoch[k] = p_foreign[k] = 0
                p_status[k] = ACTIVE
                p_spawned[k] = t
                p_evidence[k, :] = 0
                active[n_active] = k
                n_active += 1

        # -------------------------------------------------------- 2. collect
        if n_frags + n_active * width > len(f_plot):
            more = max(2 * len(f_plot), n_frags + n_active * width)
            f_plot, f_slot = _grown1(f_plot, more), _grown1(f_slot, more)
            f_nation, f_epoch = _grown1(f_nation, more), _grown1(f_epoch, more)
            f_sens, f_held = _grown1(f_sens, more), _grown2(f_held, more)
        first_new = n_frags
        for a in range(n_active):
            k = active[a]
            p_age[k] += 1
            for b in range(p_size[k]):
                i = p_foot[k, b]
                p = min(1.0, par[P_DETECTION_RATE] * cap[i] * (1.0 + par[P_AI_BOOST] * tech[i]))
                if rng.random() < p:
                    f = n_frags
                    n_frags += 1
                    f_plot[f], f_slot[f], f_nation[f], f_epoch[f] = k, b, i, p_epoch[k]
                    f_sens[f] = rng.beta(par[P_SENS_A], par[P_SENS_B])
                    f_held[f, :] = False
                    f_held[f, b] = True
                    p_evidence[k, b] += 1

        # -------------------------------------------------------- 3. share
        need = n_mail + (n_frags - first_new) * (width - 1 + hubs)
        if need > len(m_due):
            more = max(2 * len(m_due), need)
            m_due, m_frag, m_via = _grown1(m_due, more), _grown1(m_frag, more), _grown1(m_via, more)
            m_to, m_sender = _grown1(m_to, more), _grown1(m_sender, more)
            a_frag, a_via, a_to = _grown1(a_frag, more), _grown1(a_via, more), _grown1(a_to, more)
        for f in range(first_new, n_frags):
            k, i = f_plot[f], f_nation[f]
            keep = 1.0 - sov[i] * f_sens[f]
            for b in range(p_size[k]):  # bilateral, along treaties
                j = p_foot[k, b]
                if treaty[i, j] and rng.random() < trust[i, j] * keep:
                    m_due[n_mail] = t + int(np.rint(par[P_MLAT_DELAY] * (1.0 - compat[i, j])))
                    m_frag[n_mail], m_via[n_mail], m_to[n_mail], m_sender[n_mail] = (
                        f, BILATERAL, b, i)
                    n_mail += 1
            for h in range(hubs):  # to each hub it belongs to
                if members[h, i] and rng.random() < hub_trust[i, h] * keep:
                    m_due[n_mail] = t + latency[h]
                    m_frag[n_mail], m_via[n_mail], m_to[n_mail], m_sender[n_mail] = (
                        f, h, -1, i)
                    n_mail += 1
        need = n_receipts + n_mail * max(width - 1, 1)
        if need > len(r_plot):
            more = max(2 * len(r_plot), need)
            r_plot, r_slot = _grown1(r_plot, more), _grown1(r_slot, more)
            r_epoch, r_via = _grown1(r_epoch, more), _grown1(r_via, more)
            r_sender = _grown1(r_sender, more)
        n_arrived = kept = 0
        for d in range(n_mail):  # deliveries due this week arrive, in the order sent
            if m_due[d] > t:
                m_due[kept], m_frag[kept], m_via[kept] = m_due[d], m_frag[d], m_via[d]
                m_to[kept], m_sender[kept] = m_to[d], m_sender[d]
                kept += 1
                continue
            f = m_frag[d]
            k = f_plot[f]
            if p_status[k] != ACTIVE or f_epoch[f] != p_epoch[k]:
                continue  # the plot is over, or was alerted since
            via, i = m_via[d], m_sender[d]
            a_frag[n_arrived], a_via[n_arrived], a_to[n_arrived] = f, via, m_to[d]
            n_arrived += 1
            lo, hi = (m_to[d], m_to[d] + 1) if via == BILATERAL else (0, p_size[k])
            for b in range(lo, hi):  # its receivers: one, or the hub's footprint members
                j = p_foot[k, b]
                if via == BILATERAL:
                    p = compat[i, j]
                elif members[via, j] and b != f_slot[f]:
                    p = max(compat[i, j], hub_floor[via])
                else:
                    continue
                if rng.random() < p and not f_held[f, b]:  # admissible, and new to it
                    f_held[f, b] = True
                    p_evidence[k, b] += 1
                    r_plot[n_receipts], r_slot[n_receipts] = k, b
                    r_epoch[n_receipts], r_via[n_receipts] = p_epoch[k], via
                    r_sender[n_receipts] = i
                    n_receipts += 1
        n_mail = kept

        # -------------------------------------------------------- 4. leak
        for a in range(n_arrived):
            f, via = a_frag[a], a_via[a]
            k, i = f_plot[f], f_nation[f]
            j = -1
            if via == BILATERAL:
                j = p_foot[k, a_to[a]]
                p = par[P_LEAK_RATE] * (1.0 - sec[j])
            else:
                p = 0.0
                for b in range(p_size[k]):
                    m = p_foot[k, b]
                    if members[via, m] and b != f_slot[f]:
                        p = 1.0 - (1.0 - p) * (1.0 - par[P_LEAK_RATE] * (1.0 - sec[m]))
            if rng.random() < p:
                leaks += 1
                if via == BILATERAL:
                    trust[i, j] *= keep_trust
                else:
                    hub_trust[i, via] *= keep_trust
                if p_epoch[k] == f_epoch[f]:  # the plot is alerted: evidence discarded
                    p_evidence[k, :] = 0
                    p_epoch[k] += 1

        # -------------------------------------------------------- 5. act
        n_now = 0
        for a in range(n_active):
            k = active[a]
            m = 0
            for b in range(p_size[k]):
                if p_evidence[k, b] >= threshold and rng.random() < (
                        par[P_INTERDICTION] * cap[p_foot[k, b]]):
                    succeeded[m] = b
                    m += 1
            if m == 0:
                continue
            b = succeeded[0] if m == 1 else succeeded[rng.integers(0, m)]
            j = p_foot[k, b]
            p_status[k] = DISRUPTED
            now_plot[n_now], now_nation[n_now] = k, j
            n_now += 1
            resolved_at[p_foot[k, 0]] += 1
            for r in range(n_receipts):  # learn from each partner whose fragment it used
                if r_plot[r] != k or r_slot[r] != b or r_epoch[r] != p_epoch[k]:
                    continue
                p_foreign[k] = 1
                credited = False
                for q in range(r):
                    if (r_plot[q] == k and r_slot[q] == b and r_epoch[q] == p_epoch[k]
                            and r_sender[q] == r_sender[r] and r_via[q] == r_via[r]):
                        credited = True
                        break
                if credited:
                    continue
                if r_via[r] == BILATERAL:
                    trust[j, r_sender[r]] += learning * (1.0 - trust[j, r_sender[r]])
                else:
                    hub_trust[j, r_via[r]] += learning * (1.0 - hub_trust[j, r_via[r]])
        kept = 0
        for r in range(n_receipts):  # keep the receipts of live, unalerted plots
            k = r_plot[r]
            if p_status[k] == ACTIVE and p_epoch[k] == r_epoch[r]:
                r_plot[kept], r_slot[kept], r_epoch[kept] = k, r_slot[r], r_epoch[r]
                r_via[kept], r_sender[kept] = r_via[r], r_sender[r]
                kept += 1
        n_receipts = kept

        # -------------------------------------------------------- 6. prosecute
        for d in range(n_now):
            k, j = now_plot[d], now_nation[d]
            g, base = p_group[k], p_foot[k, 0]
            if base == j:
                strength[g] *= 1.0 - par[P_ATTRITION]
            elif rng.random() < (compat[base, j] if treaty[base, j] else 0.0):
                strength[g] *= 1.0 - par[P_ATTRITION]  # extradited
            else:
                undisrupted_at[base] += 1  # refused: the plotters walked free

        # -------------------------------------------------------- 7. attack
        kept = 0
        for a in range(n_active):
            k = active[a]
            if p_status[k] == ACTIVE and p_age[k] >= p_lead[k]:
                p_status[k] = ATTACKED
                resolved_at[p_foot[k, 0]] += 1
                undisrupted_at[p_foot[k, 0]] += 1
            if p_status[k] == ACTIVE:
                active[kept] = k
                kept += 1
        n_active = kept

        # -------------------------------------------------------- 8. drift
        for i in range(n):
            for j in range(n):
                trust[i, j] += reversion * (trust0[i, j] - trust[i, j])
            for h in range(hubs):
                hub_trust[i, h] += reversion * (hub_trust0[i, h] - hub_trust[i, h])
        weighed = False
        for g in range(groups):
            strength[g] += par[P_REGROWTH] * (1.0 - strength[g])
        for g in range(groups):
            if rng.random() < par[P_RELOCATION_RATE]:
                if not weighed:  # havens: where plots were least often disrupted
                    total = 0.0
                    for i in range(n):
                        safety = ((1.0 - cap[i]) * 4.0 + undisrupted_at[i]) / (
                            4.0 + resolved_at[i])
                        total += min(max(safety, 1e-12), 1.0) ** par[P_HAVEN_PULL]
                        weights[i] = total
                    weighed = True
                j = np.searchsorted(weights, rng.random() * weights[n - 1], side="right")
                gbase[g] = min(j, n - 1)

    # ------------------------------------------------------------ settle the plots
    counts = np.zeros(5, np.int64)
    counts[0], counts[3] = n_plots, leaks
    for k in range(n_plots):
        if p_spawned[k] + p_lead[k] - 1 <= steps:
            if p_status[k] == ATTACKED:
                counts[1] += 1
            elif p_status[k] == DISRUPTED:
                counts[2] += 1
                counts[4] += p_foreign[k]
    return counts
