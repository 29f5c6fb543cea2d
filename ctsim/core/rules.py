"""The decision rules of ctsim, one small pure function each.

Every rule takes plain numbers and returns a number: it holds no state and draws no random
numbers (the phases in :mod:`ctsim.core.phases` draw; the rules say with which probability).
The rules are compiled with numba, so the weekly loops call them at the cost of an inline
expression; they are just as callable from Python (``rules.willingness(0.8, 0.5, 0.4)``).
Each docstring names the step of MODEL.md (``docs/ODD.md``, "Submodels") it implements, so a
reader can hold the code against the specification line by line. All probabilities are per
weekly step.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

import ctsim.core._fresh  # noqa: F401  (a stale compiled cache is cleared before use)
from ctsim.core.strategies import ALWAYS, DEFECTED, FORGIVING, NEVER, RECIPROCAL, TRUSTING

# ---------------------------------------------------------------- step 2: collect


@njit(cache=True)
def detection_probability(detection_rate: float, capacity: float, tech: float,
                          ai_boost: float) -> float:
    """Chance that a footprint nation collects one fragment about a plot this week.

    MODEL.md step 2 (Collect): ``p = min(1, detection_rate * capacity * (1 + ai_boost * tech))``.
    Poorer states (low ``capacity``) detect less; AI adoption (``tech``) scales it up.

    Args:
        detection_rate: base weekly chance for a fully capable nation, in [0, 1].
        capacity: the nation's intelligence capacity, in [0, 1].
        tech: its adoption of AI / data analysis, in [0, 1].
        ai_boost: relative gain from full AI adoption, >= 0 (1 = doubles detection).

    Returns:
        A probability in [0, 1].
    """
    return min(1.0, detection_rate * capacity * (1.0 + ai_boost * tech))


@njit(cache=True)
def detection_with_burnt_sources(p: float, source_loss: float) -> float:
    """A detection probability while the nation's sources are burnt by a leak.

    MODEL.md A5 (a leak burns a source; Lefebvre 2003, Walsh 2010): for ``source_weeks``
    after a fragment it sent leaked, a nation detects with ``p * (1 - source_loss)``.

    Args:
        p: its detection probability otherwise, in [0, 1].
        source_loss: share of its detection a leak costs, in [0, 1] (0: none, v1).
    """
    return p * (1.0 - source_loss)


# ---------------------------------------------------------------- step 3: share


@njit(cache=True)
def willingness(trust: float, sovereignty: float, sensitivity: float) -> float:
    """Chance that a holder passes a fragment on through a channel.

    MODEL.md step 3 (Share): ``w = trust * (1 - sovereignty * s)``: the more the sender
    trusts the channel and the less the fragment touches its sovereignty, the likelier it
    shares. The same rule serves a bilateral partner (``trust = T[i, j]``) and an
    institution (``trust = TI[i, h]``).

    Args:
        trust: sender's trust in the receiver or hub, in [0, 1].
        sovereignty: sender's (effective) sovereignty sensitivity, in [0, 1].
        sensitivity: the fragment's sensitivity ``s``, in [0, 1].
    """
    return trust * (1.0 - sovereignty * sensitivity)


@njit(cache=True)
def effective_sovereignty(sovereignty: float, surge: float, salience: float) -> float:
    """Sovereignty sensitivity lowered by the salience of recent attacks.

    MODEL.md A4 (a surge that builds and fades; the surge of cooperation after
    11 September 2001): ``sovereignty * (1 - surge * S / (1 + S))``, where ``S`` counts the
    attacks on the nation, each weighing less as it ages (:func:`salience_next_week`).
    One fresh attack halves the full surge; many approach it. Source: MODEL.md A4 itself
    (docs/ODD.md 7.17), which cites no study for the form.

    Args:
        sovereignty: the nation's sovereignty sensitivity, in [0, 1].
        surge: the largest relative drop, in [0, 1] (0: no surge).
        salience: S >= 0.
    """
    return sovereignty * (1.0 - surge * salience / (1.0 + salience))


@njit(cache=True)
def salience_next_week(salience: float, decay: float, attacks: int) -> float:
    """``S <- S * 2 ** (-1 / half_life) + attacks this week`` (MODEL.md A4); ``decay`` is
    ``2 ** (-1 / surge_half_life)``, in (0, 1)."""
    return salience * decay + attacks


@njit(cache=True)
def in_surge(salience: float) -> bool:
    """Whether a nation counts as in surge: salience at least 1/2, the weight one attack
    keeps for one half-life (its sovereignty is then lowered by at least a third of the
    full surge)."""
    return salience >= 0.5


@njit(cache=True)
def legal_compatibility(family_compat: float, definition_i: float, definition_j: float,
                        has_treaty: bool, treaty_floor: float, harmonization: float) -> float:
    """Legal compatibility ``c[i, j]`` of two nations, in [0, 1].

    MODEL.md, Relations: ``c = family_compat * (1 - |definition_i - definition_j|)``;
    a treaty (MLAT) lifts it to at least ``treaty_floor``; harmonization ``h`` then raises
    every pair, ``c <- c + h * (1 - c)``. A nation's compatibility with itself is 1 (set by
    the caller).
    """
    c = family_compat * (1.0 - abs(definition_i - definition_j))
    if has_treaty:
        c = max(c, treaty_floor)
    return c + harmonization * (1.0 - c)


@njit(cache=True)
def bilateral_channel(bilateral: bool, treaty: bool, ad_hoc_sharing: bool) -> bool:
    """Whether two nations can send each other intelligence directly: the regime has a
    bilateral channel (``bilateral`` or ``hybrid``) and the pair has a treaty in force, or
    any pair may share ad hoc (``relations.ad_hoc_sharing``).

    MODEL.md step 3 (bilateral sharing along treaties) and ODD 7.4: without ad hoc sharing a
    treaty is the only bilateral channel. Works on bools or on boolean arrays alike.
    """
    return bilateral & (treaty | ad_hoc_sharing)


@njit(cache=True)
def mlat_delay(max_delay: int, compatibility: float) -> int:
    """Weeks a bilateral delivery takes: ``round(mlat_delay * (1 - c))``, half to even.

    MODEL.md step 3: legal friction (the mutual legal assistance process) delays evidence;
    fully compatible systems exchange it the same week.
    """
    return int(np.rint(max_delay * (1.0 - compatibility)))


@njit(cache=True)
def admissibility(compatibility: float, hub_harmonization: float) -> float:
    """Chance a delivered fragment is usable as evidence by its receiver.

    MODEL.md step 3: ``max(c[i, j], harmonization_h)`` through a hub whose standard
    protocols set an admissibility floor among its members; bilaterally there is no floor
    (``hub_harmonization`` = 0) and the chance is ``c[i, j]``.
    """
    return max(compatibility, hub_harmonization)


# ---------------------------------------------------------------- C: nations that decide


@njit(cache=True)
def strategy_willingness(strategy: int, trust: float, sovereignty: float, sensitivity: float,
                         last_act: int, grudge: bool, forgiveness: float) -> float:
    """Chance that a nation holding ``strategy`` passes a fragment to a partner.

    MODEL.md C3 (sharing strategies; ctsim.core.strategies): with ``base = 1 -
    sovereignty * s``, ``trusting`` is the v1 rule ``trust * base`` (:func:`willingness`);
    ``always`` is ``base``; ``never`` 0; ``reciprocal`` (tit for tat) ``base`` unless the
    partner's last revealed act toward the nation was a defection, then 0; ``forgiving``
    (generous tit for tat) as ``reciprocal`` but ``forgiveness * base`` after a defection;
    ``grudging`` (grim trigger) ``base`` until the partner's first revealed defection, then
    0. Sources: Axelrod (1984); with noise, Wu & Axelrod (1995).

    Args:
        strategy: the nation's strategy (ctsim.core.strategies index).
        trust: its trust in the partner, in [0, 1] (read by ``trusting`` only).
        sovereignty: its (effective) sovereignty sensitivity, in [0, 1].
        sensitivity: the fragment's sensitivity ``s``, in [0, 1].
        last_act: the partner's last revealed act toward it (``strategies.ACTS`` index).
        grudge: whether the partner ever defected toward it, as far as it has seen.
        forgiveness: ``cooperation.forgiveness`` g, in [0, 1].
    """
    if strategy == TRUSTING:
        return willingness(trust, sovereignty, sensitivity)
    base = 1.0 - sovereignty * sensitivity
    if strategy == ALWAYS:
        return base
    if strategy == NEVER:
        return 0.0
    if strategy == RECIPROCAL:
        return 0.0 if last_act == DEFECTED else base
    if strategy == FORGIVING:
        return forgiveness * base if last_act == DEFECTED else base
    return 0.0 if grudge else base  # grudging


@njit(cache=True)
def staked_willingness(willingness: float, stake: float, is_target: bool) -> float:
    """A willingness to share about a plot, given the sender's stake in it.

    MODEL.md C1 (stakes): a nation that is not the plot's target shares with its
    willingness times ``stake`` e; the target keeps it whole. With e < 1 the nations a plot
    only passes through free-ride on its target's effort: intelligence is a transnational
    public good that each state under-supplies (Sandler & Siqueira 2006; Arce & Sandler
    2005).

    Args:
        willingness: the strategy's willingness, in [0, 1].
        stake: ``cooperation.stake`` e, in [0, 1] (1: every nation wants every plot
            stopped equally, v1).
        is_target: whether the sender is the plot's target.
    """
    return willingness if is_target else willingness * stake


@njit(cache=True)
def ceded_sovereignty(sovereignty: float, client_cost: float) -> float:
    """A client's sovereignty sensitivity toward third parties (anyone but its patron).

    MODEL.md C4 (hierarchy; Lake 2009, Walsh 2010): a client cedes autonomy to its patron,
    and toward everyone else it is more guarded: ``sovereignty + k * (1 - sovereignty)``.

    Args:
        sovereignty: the client's sovereignty sensitivity, in [0, 1].
        client_cost: ``relations.client_cost`` k, in [0, 1] (0: no cost).
    """
    return sovereignty + client_cost * (1.0 - sovereignty)


@njit(cache=True)
def monitored_leak_probability(leak_probability: float, monitoring: float) -> float:
    """A client's chance to leak a fragment from its patron: ``p * (1 - m)``.

    MODEL.md C4: a patron monitors what its clients do with its intelligence (liaison
    officers, vetting, audits), which deters and prevents leaks (Walsh 2007, 2010).

    Args:
        leak_probability: the client's chance otherwise (:func:`leak_probability`).
        monitoring: ``relations.monitoring`` m, in [0, 1].
    """
    return leak_probability * (1.0 - monitoring)


@njit(cache=True)
def monitored_trust_floor(initial: float, monitoring: float) -> float:
    """The least trust a patron keeps in a client it monitors: ``T0 + m * (1 - T0)``.

    MODEL.md C4: what a patron can check it need not take on faith (Walsh 2010).

    Args:
        initial: the patron's initial trust in the client ``T0``, in [0, 1].
        monitoring: ``relations.monitoring`` m, in [0, 1].
    """
    return initial + monitoring * (1.0 - initial)


@njit(cache=True)
def trust_after_withholding(trust: float, withhold_penalty: float) -> float:
    """Trust after an inquiry revealed that the partner held back what it knew.

    MODEL.md C2: ``T <- T * (1 - p)``, the share ``withhold_penalty`` lost, as a leak's
    (:func:`trust_after_leak`). Inquiries after an attack are where withholding comes to
    light (Walsh 2010 on the hidden defection of intelligence partners).
    """
    return trust * (1.0 - withhold_penalty)


@njit(cache=True)
def imitation_probability(rate_partner: float, rate_own: float, selection: float) -> float:
    """Chance that a nation adopts a partner's strategy after comparing their last year.

    MODEL.md C5 (strategies that spread; the Fermi rule of evolutionary game theory,
    Szabo & Toke 1998): ``1 / (1 + exp(-b * (rate_partner - rate_own)))``, where the rates
    are the disruption rates of the plots aimed at each in the past year. ``b`` = 0 is a
    coin toss; a large ``b`` copies only a better partner.

    Args:
        rate_partner, rate_own: disruption rates, in [0, 1].
        selection: ``cooperation.selection`` b >= 0.
    """
    return 1.0 / (1.0 + np.exp(-selection * (rate_partner - rate_own)))


# ---------------------------------------------------------------- D: matching the sources


@njit(cache=True)
def deflected_target_weight(weight: float, defence_failed: float,
                            defence_adaptation: float) -> float:
    """A target's weight after the groups' view of its defensive hardening.

    MODEL.md D1 (defence deflects, pre-emption does not; Sandler & Lapan 1988, Enders &
    Sandler 1993, 2006): ``weight * (1 - rD) ** a_D``, where ``rD`` is how often the groups
    have seen attacks on it fail (:func:`defence_after_resolution`, on every attack).
    Hardened targets push attacks to softer ones (transference).

    Args:
        weight: the target's weight otherwise (after A2), >= 0.
        defence_failed: the groups' view rD, in [0, 1].
        defence_adaptation: a_D >= 0 (0: no deflection).
    """
    return weight * (1.0 - defence_failed) ** defence_adaptation


@njit(cache=True)
def protection_after_year(protection: float, attacks: int, response: float) -> float:
    """A nation's protection after a year with ``attacks`` attacks on it.

    MODEL.md D1: ``protection + k * (A / (A + 1) - protection)``, capped at 1: a nation
    that is attacked invests in defence (and lets it lapse when attacks stop; the response
    of target hardening to attacks, Enders & Sandler 2006).

    Args:
        protection: its protection now, in [0, 1] (A3's ``protection``).
        attacks: A, the attacks on it in the past 52 weeks, >= 0.
        response: k, ``threat.protection_response``, in [0, 1].
    """
    return min(1.0, protection + response * (attacks / (attacks + 1.0) - protection))


@njit(cache=True)
def convicts(admissible: int, evidence: int, conviction_share: float) -> bool:
    """Whether a disruption convicts: at least ``conviction_share`` of the disrupter's
    fragments about the plot are admissible in its courts.

    MODEL.md D2 (admissibility decides prosecution, not disruption): inadmissible
    intelligence still lets a service arrest on other charges, deport or watch, but a
    court needs admissible evidence to convict.

    Args:
        admissible: the disrupter's admissible fragments about the plot, >= 0.
        evidence: all its fragments about the plot, >= 1.
        conviction_share: ``legal.conviction_share``, in [0, 1].
    """
    return evidence > 0 and admissible >= conviction_share * evidence


@njit(cache=True)
def liaison_open(trust: float, liaison_trust: float) -> bool:
    """Whether a service passes intelligence to another at all, treaty or not.

    MODEL.md D3 (liaison apart from treaties; Aldrich 2004, Walsh 2010): a channel from
    i to j is open while ``T[i, j] >= liaison_trust``.
    """
    return trust >= liaison_trust


@njit(cache=True)
def noticed_screening_probability(p: float) -> float:
    """A border check's chance when a hub's notice names the plot's group: doubled,
    capped at 1 (MODEL.md D4; INTERPOL's notices alert members' border controls; on
    INTERPOL as a police body of notices and databases, Deflem (2002))."""
    return min(1.0, 2.0 * p)


@njit(cache=True)
def exposure_averse_willingness(willingness: float, sensitivity: float, exposure: float,
                                aversion: float) -> float:
    """A willingness to post to a hub, lowered by the hub's exposure.

    MODEL.md D5 (states keep sensitive material out of large hubs; Aldrich 2004):
    ``w * (1 - s * min(1, x)) ** k``, where x is the expected number of the post's readers
    who would leak it (A6 readers times their leak probabilities).

    Args:
        willingness: the willingness otherwise, in [0, 1].
        sensitivity: the fragment's sensitivity s, in [0, 1].
        exposure: x >= 0.
        aversion: k, ``cooperation.exposure_aversion`` >= 0 (0: no aversion).
    """
    return willingness * (1.0 - sensitivity * min(1.0, exposure)) ** aversion


@njit(cache=True)
def leak_source_loss(source_loss: float, sensitivity: float, scaled: bool) -> float:
    """The share of its detection a nation loses while a leak has burnt its sources.

    MODEL.md D6: ``source_loss`` whatever leaked (A5, ``flat``), or ``source_loss * s`` for
    the leaked fragment's sensitivity (``sensitivity``): a routine report burns little, a
    human source's report much (Lefebvre 2003).
    """
    return source_loss * sensitivity if scaled else source_loss


@njit(cache=True)
def reach_probability(reach_rate: float, reach: float, capacity: float) -> float:
    """Chance that a nation outside a plot's footprint collects a fragment about it this
    week: ``min(1, r * reach * capacity)`` (MODEL.md D9: services with global reach find
    plots abroad, e.g. by signals intelligence)."""
    return min(1.0, reach_rate * reach * capacity)


@njit(cache=True)
def simple_plot_probability(simple_share: float, mode_adaptation: float,
                            view_complex: float, view_simple: float) -> float:
    """Chance that a group's new plot is simple (MODEL.md D10; Enders & Sandler 1993,
    2004: groups substitute simpler attacks when complex ones are stopped more often):
    ``logistic(logit(s0) + b (rC - rS))``, 0 at s0 = 0 and 1 at s0 = 1.

    Args:
        simple_share: s0, in [0, 1].
        mode_adaptation: b >= 0.
        view_complex, view_simple: the group's views rC, rS of how often its complex and
            simple plots were stopped, in [0, 1] (:func:`defence_after_resolution`).
    """
    if simple_share <= 0.0:
        return 0.0
    if simple_share >= 1.0:
        return 1.0
    z = np.log(simple_share / (1.0 - simple_share)) + mode_adaptation * (view_complex
                                                                         - view_simple)
    return 1.0 / (1.0 + np.exp(-z))


@njit(cache=True)
def simple_detection_probability(p: float, simple_detect: float) -> float:
    """A simple plot's detection: ``p * simple_detect`` (MODEL.md D10: fewer plotters and
    less communication to intercept; Strom et al. 2010)."""
    return p * simple_detect


@njit(cache=True)
def accelerated_lead(age: int, lead: int) -> int:
    """An alerted plot's lead time when it hurries (MODEL.md D6, ``accelerate``): its
    remaining weeks halved, rounded up, so ``age + ceil((lead - age) / 2)``."""
    return age + (lead - age + 1) // 2


# ---------------------------------------------------------------- step 4: leak


@njit(cache=True)
def leak_probability(leak_rate: float, security: float) -> float:
    """Chance that a receiver leaks one delivery: ``leak_rate * (1 - security)``.

    MODEL.md step 4 (Leak). ``security`` = 1 means confidentiality protocols that never leak.
    """
    return leak_rate * (1.0 - security)


@njit(cache=True)
def either_leaks(p_so_far: float, p_next: float) -> float:
    """Chance that a post leaks through at least one of its receivers, one more counted.

    MODEL.md step 4: a post leaks with ``1 - prod_j (1 - leak_j)`` over the members in the
    plot's footprint that receive it; folding this rule over the receivers, from 0, gives
    that product.
    """
    return 1.0 - (1.0 - p_so_far) * (1.0 - p_next)


@njit(cache=True)
def exposure_leak_probability(hub_exposure: float, leak_probability: float) -> float:
    """Chance that a hub member outside the plot's footprint reads a post and leaks it.

    MODEL.md A6 (who reads a hub post): every member of the hub other than the footprint's
    reads a post with probability ``hub_exposure`` and then leaks it as any reader would:
    ``hub_exposure * leak_probability``. Folded with the footprint readers' chances by
    :func:`either_leaks` (the post leaks if any reader leaks it). A large hub then carries
    the exposure that makes states keep their most sensitive intelligence bilateral
    (Aldrich 2004; Walsh 2010).

    Args:
        hub_exposure: chance that a member outside the footprint reads the post, in [0, 1].
        leak_probability: that member's chance to leak what it reads (leak_probability).
    """
    return hub_exposure * leak_probability


@njit(cache=True)
def trust_after_leak(trust: float, leak_penalty: float) -> float:
    """Trust after the partner leaked a fragment: it loses ``leak_penalty`` of its value.

    MODEL.md step 4: ``T <- T * (1 - leak_penalty)``. Read as a share lost (not an absolute
    drop) so trust stays in [0, 1] and a leak hurts a close partner most (docs/ODD.md).
    """
    return trust * (1.0 - leak_penalty)


# ---------------------------------------------------------------- step 5: act


@njit(cache=True)
def interdiction_probability(interdiction: float, capacity: float) -> float:
    """Chance that a nation holding enough evidence disrupts the plot this week.

    MODEL.md step 5 (Act): ``interdiction * capacity_j``.
    """
    return interdiction * capacity


@njit(cache=True)
def trust_after_success(trust: float, learning_rate: float) -> float:
    """Trust after a fragment from this partner helped disrupt a plot.

    MODEL.md step 5: ``T += learning_rate * (1 - T)``; trust grows with useful sharing and
    approaches 1 geometrically (reciprocity, Axelrod 1984).
    """
    return trust + learning_rate * (1.0 - trust)


# ---------------------------------------------------------------- step 6: prosecute


@njit(cache=True)
def extradition_probability(compatibility: float, has_treaty: bool) -> float:
    """Chance an extradition request from the disrupting nation to the plot's base succeeds.

    MODEL.md step 6 (Prosecute): ``c[base, j]`` where a treaty exists, 0 without one
    (dual criminality fails where legal definitions diverge). The base is where the plot
    was spawned (docs/ODD.md, choices).
    """
    return compatibility if has_treaty else 0.0


@njit(cache=True)
def strength_after_disruption(strength: float, attrition: float) -> float:
    """A group's strength after one of its members is prosecuted: it loses ``attrition``.

    MODEL.md step 6.
    """
    return strength * (1.0 - attrition)


# ---------------------------------------------------------------- step 7: attack


@njit(cache=True)
def attack_failure_probability(protection: float, capacity: float) -> float:
    """Chance that a plot reaching its attack week fails (it is still an attack).

    MODEL.md A3 (attacks can fail; defensive measures, Arce & Sandler 2005):
    ``protection * capacity_target``. Failed and completed attacks both count as attacks,
    so ``disruption_rate`` keeps its v1 meaning.

    Args:
        protection: the scenario's protective-security level, in [0, 1] (0: none fail).
        capacity: the target's capacity, in [0, 1].
    """
    return protection * capacity


@njit(cache=True)
def defence_after_resolution(defence: float, memory: float, disrupted: bool) -> float:
    """The groups' view of a target's defence after a plot aimed at it resolves.

    MODEL.md A2 (targets and transference; Sandler & Lapan 1988, Enders & Sandler 1993):
    ``r <- (1 - memory) * r + memory * [disrupted]``, an exponential average of how often
    plots against the target were stopped. The same average serves the groups' other views
    (section D): of how often attacks on a target fail (D1) and of how often their complex
    and simple plots are stopped (D10).

    Args:
        defence: the current view r, in [0, 1].
        memory: lambda, the weight of the newest outcome, in (0, 1].
        disrupted: whether this plot was disrupted (else it attacked).
    """
    return (1.0 - memory) * defence + memory * (1.0 if disrupted else 0.0)


@njit(cache=True)
def adapted_target_weight(weight: float, defence: float, adaptation: float) -> float:
    """A nation's weight as a target once groups avoid what they see defended.

    MODEL.md A2: ``w_j * (1 - r_j) ** a``; with ``a = 0`` the weight is ``w_j`` (v1), and
    the larger ``a`` the more plots move from hardened targets to the others.

    Args:
        weight: the target weight w_j (``target_weight``, population or GDP), >= 0.
        defence: the groups' view r_j of its defence, in [0, 1].
        adaptation: a, how strongly targeting follows defence, >= 0.
    """
    return weight * (1.0 - defence) ** adaptation


# ---------------------------------------------------------------- step 8: drift


@njit(cache=True)
def trust_reversion(trust: float, initial: float, reversion: float) -> float:
    """Trust drifting back toward its initial value: ``T += reversion * (T0 - T)``.

    MODEL.md step 8: memory of leaks and successes fades at ``reversion`` per week.
    """
    return trust + reversion * (initial - trust)


@njit(cache=True)
def trust_after_shock(trust: float, shock: float) -> float:
    """Trust across two blocs after a geopolitical shock: it loses ``shock`` of its value.

    MODEL.md step 8 (Drift), read like the leak penalty (docs/ODD.md). A member's trust in
    a hub loses ``shock`` times the other bloc's share of the hub's members.
    """
    return trust * (1.0 - shock)


@njit(cache=True)
def strength_regrowth(strength: float, regrowth: float) -> float:
    """A group's strength regrowing toward 1: ``strength += regrowth * (1 - strength)``.

    MODEL.md step 8 (Drift) and Entities: recruitment rebuilds a weakened group.
    """
    return strength + regrowth * (1.0 - strength)


@njit(cache=True)
def haven_safety(capacity: float, undisrupted: float, resolved: float,
                 prior_weight: float = 4.0) -> float:
    """A group's estimate of how safe a nation is as a base, in (0, 1).

    MODEL.md, Entities ("nations where its plots are least likely to be disrupted"): the
    posterior mean share of plots based there that were *not* disrupted, with a Beta prior
    of weight ``prior_weight`` centred on ``1 - capacity`` (groups first assume weak states
    are safe). A disruption whose extradition was refused counts as undisrupted: the plotters
    walked free (step 6: a haven).
    """
    return ((1.0 - capacity) * prior_weight + undisrupted) / (prior_weight + resolved)


@njit(cache=True)
def relocation_weight(safety: float, pull: float) -> float:
    """Weight of a nation as a group's new base: ``safety ** pull`` (normalised by the caller).

    MODEL.md step 8. ``pull`` = 0 moves at random; larger values move ever more surely to
    the safest haven. Safety is floored at 1e-12 so that a weight is never 0 ** 0.
    """
    return min(max(safety, 1e-12), 1.0) ** pull


# ---------------------------------------------------------------- step 1: spawn


@njit(cache=True)
def transnational_probability(transnational: float) -> float:
    """Chance that a spawned plot is transnational, in [0, 1]: ``transnational``.

    MODEL.md A1 (domestic and transnational plots): a transnational plot draws its
    footprint as in step 1; otherwise, with ``1 - transnational``, it is domestic, its
    base alone and its own target. Domestic incidents outnumber transnational ones several
    times over in the event data (Enders, Sandler & Gaibulloev 2011); the share is for
    calibration. The spawn phase draws only when the chance is below 1 (the default, v1:
    no domestic plots), and a plot is domestic when its uniform draw is at or above it.

    Args:
        transnational: the share of spawned plots that are transnational, in [0, 1].
    """
    return transnational


@njit(cache=True)
def footprint_weight(same_region: bool, region_size: int, nations: int,
                     locality: float) -> float:
    """Weight of a nation as one of a plot's other footprint nations (target or transit).

    An extension for real-world scenarios (docs/ODD.md): each other nation of a footprint
    comes, with chance ``locality`` in [0, 1], from the base's own region, else from all the
    nations: ``w = locality * [same region] / m + (1 - locality) / (N - 1)``, where
    ``region_size`` = m counts the region's nations other than the base. ``locality`` = 0
    is the uniform draw of MODEL.md step 1. A base alone in its region sends its share
    abroad. The base itself weighs 0 (the caller's business).
    """
    local = locality if region_size > 0 else 0.0
    near = local / max(region_size, 1) if same_region else 0.0
    return near + (1.0 - local) / max(nations - 1, 1)


# ---------------------------------------------------------------- relations at the start


@njit(cache=True)
def initial_trust(same_bloc: bool, trust: float, tension: float) -> float:
    """Initial trust ``T0[i, j]``: ``trust`` inside a bloc, ``trust * (1 - tension)`` across.

    SCENARIO_FORMAT.md, ``relations``: geopolitical tension is the share of trust lost
    between nations of different blocs.
    """
    return trust if same_bloc else trust * (1.0 - tension)


@njit(cache=True)
def initial_hub_trust(trust: float, tension: float, rival_share: float) -> float:
    """A member's initial trust in a hub: the hub's ``trust``, less what its rivals cost.

    ``TI0[i, h] = trust_h * (1 - tension * rival_share[i, h])``, where ``rival_share`` is
    the share of the hub's other members that sit in another bloc than ``i``. MODEL.md is
    silent on how tension reaches hubs; a hub is only as trusted as the rivals inside it
    (docs/ODD.md, "Design concepts"). A hub of one bloc keeps its full trust.
    """
    return trust * (1.0 - tension * rival_share)


# ---------------------------------------------------------------- Version 2, section B


@njit(cache=True)
def financial_detection_probability(financing_detection: float, cft: float) -> float:
    """Chance that a footprint nation's financial intelligence unit finds a financial
    fragment about a plot this week.

    MODEL.md B1 (terrorist financing; FATF, financial intelligence units):
    ``financing_detection * cft_i``. Sources: FATF (2012, the Recommendations, updated
    since) on financial intelligence units; the Egmont Group's principles for information
    exchange between units.

    Args:
        financing_detection: the weekly chance at full counter-financing capacity, in [0, 1].
        cft: the nation's counter-financing capacity, in [0, 1].
    """
    return financing_detection * cft


@njit(cache=True)
def funds_after_freeze(funds: float, asset_freeze: float) -> float:
    """A group's funds after a disruption that used financial intelligence: they lose
    ``asset_freeze`` of their value (MODEL.md B1: assets frozen), in [0, 1]. Sources: UN
    Security Council resolution 1373 (2001) on freezing terrorist funds; FATF (2012) on
    targeted financial sanctions."""
    return funds * (1.0 - asset_freeze)


@njit(cache=True)
def screening_probability(border_screening: float, capacity: float, in_databases: bool,
                          database_gap: float) -> float:
    """Chance that a nation's border check yields a fragment when a plot's operatives cross
    into it.

    MODEL.md B2 (INTERPOL's databases, passenger data): ``border_screening * capacity_j *
    db_j``, with ``db_j = 1`` for a member of a hub that shares its databases and
    ``1 - database_gap`` otherwise. Sources: INTERPOL's Stolen and Lost Travel Documents
    and nominal databases, checked at borders (INTERPOL annual reports), whose screening
    Gardeazabal & Sandler (2015) find to cut transnational terrorism in the adopting
    states; the Schengen Borders Code on the absence of internal border checks.

    Args:
        border_screening: the chance at full capacity with the databases, in [0, 1].
        capacity: the screening nation's capacity, in [0, 1].
        in_databases: whether it checks against a database hub's records.
        database_gap: the share of the checks' worth lost without the databases, in [0, 1].
    """
    return border_screening * capacity * (1.0 if in_databases else 1.0 - database_gap)


@njit(cache=True)
def online_trace_probability(online_share: float) -> float:
    """Chance that a spawned plot leaves an online trace held by a company, in [0, 1]:
    ``online_share``.

    MODEL.md B3 (data held by companies): the trace is held by a provider in a nation
    drawn by provider weight (``threat.providers``); at 0 (the default) no plot leaves one
    and the spawn phase draws nothing for it.

    Args:
        online_share: the share of plots with an online trace, in [0, 1].
    """
    return online_share


@njit(cache=True)
def provider_record_probability(provider_detection: float) -> float:
    """Chance that the provider's records of a plot's online trace yield the provider's
    nation a fragment this week, in [0, 1]: ``provider_detection``.

    MODEL.md B3 (data held by companies): the record is the provider's nation's, whether
    or not that nation is in the plot's footprint; the footprint's other nations obtain it
    by :func:`direct_access` or a mutual legal assistance request.

    Args:
        provider_detection: the weekly chance, in [0, 1].
    """
    return provider_detection


@njit(cache=True)
def direct_access(cooperates: bool, agreement: bool) -> bool:
    """Whether a footprint nation obtains a company's record straight from the provider's
    nation: the regime cooperates (it is not ``none``) and a direct-access agreement
    (``relations.direct_access``, ``direct_access_within``) covers the pair.

    MODEL.md B3 (data held by companies): a record obtained directly arrives the same week
    and is admissible (the agreement's purpose is lawful production); without one the
    nation can only send a mutual legal assistance request, where a treaty is in force,
    which takes ``round(mlat_delay * (1 - c))`` weeks (:func:`mlat_delay`) and is admissible
    with ``c``. Sources: Swire & Hemmings (2017) on the delays of mutual legal assistance
    for communications data; the US CLOUD Act (2018) and its executive agreements, and the
    EU's e-evidence regulation (2023), for direct access.

    Args:
        cooperates: whether the regime cooperates at all (``cooperation.regime`` not
            ``none``).
        agreement: whether a direct-access agreement covers the requesting nation and the
            provider's nation.
    """
    return cooperates and agreement


@njit(cache=True)
def privacy_admissibility(p_admissible: float, privacy_gap: float, privacy_receiver: float,
                          privacy_sender: float) -> float:
    """Admissibility of a fragment once the receiver's data-protection regime is weighed.

    MODEL.md B7 (AI with its costs; privacy and civil liberties): ``p * (1 - privacy_gap *
    max(0, privacy_j - privacy_i))``: a court under a stricter regime than the sender's
    rejects more of what the sender collected. ``p`` is ``c[i, j]`` (through a hub, after
    the hub's floor). Source: the EU's data-protection law (the GDPR and the
    law-enforcement directive, 2016) against laxer regimes.

    Args:
        p_admissible: the admissibility before privacy, in [0, 1].
        privacy_gap: how much each unit of stricter regime costs, in [0, 1] (0: nothing).
        privacy_receiver, privacy_sender: the two regimes' strictness, in [0, 1].
    """
    return p_admissible * (1.0 - privacy_gap * max(0.0, privacy_receiver - privacy_sender))


@njit(cache=True)
def tie_up_factor(ai_tie_up: float, false_alarms: int) -> float:
    """The share of a nation's interdiction capacity left for real plots in a week it
    handles ``false_alarms`` AI false alarms: ``max(0, 1 - ai_tie_up * false_alarms)``
    (MODEL.md B7; source: Jonas & Harper 2006 on the false positives of predictive data
    mining)."""
    return max(0.0, 1.0 - ai_tie_up * false_alarms)


@njit(cache=True)
def capacity_after_training(capacity: float, rate: float, standard: float) -> float:
    """A member's capacity after a week of a joint training programme, in [0, 1].

    MODEL.md B4 (joint training): a member below the programme's standard moves toward
    it, ``capacity += rate * (standard - capacity)``; a member at or above it keeps its own.
    Sources: the Global Counterterrorism Forum's capacity-building work and UN
    counter-terrorism technical assistance (Romaniuk 2010).
    """
    if capacity >= standard:
        return capacity
    return capacity + rate * (standard - capacity)


@njit(cache=True)
def toward(value: float, rate: float, target: float) -> float:
    """``value + rate * (target - value)``: one week of a pull toward ``target``.

    MODEL.md B4 (members' trust in one another, toward 1, at ``training_trust``;
    Romaniuk 2010) and B5 (norms: a member's legal definition toward the forum's, at
    ``norms``; Rosand 2003 on the Security Council's Counter-Terrorism Committee, Saul 2006
    on the diverging legal definitions of terrorism).
    """
    return value + rate * (target - value)


@njit(cache=True)
def treaty_formation_probability(treaty_formation: float, trust_ij: float, trust_ji: float,
                                 surge_boost: float, salience_i: float,
                                 salience_j: float) -> float:
    """Chance that two nations sharing a live plot sign a treaty this week, in [0, 1].

    MODEL.md B6 (cooperation that evolves, from isolated efforts to a network):
    ``treaty_formation * T[i, j] * T[j, i] * (1 + surge_boost * (S_i + S_j))``, capped at 1:
    partners who trust each other formalize it, faster after attacks on either (``S``, the
    salience of A4). Sources: the growth of counter-terrorism treaties and bodies after
    2001 (Romaniuk 2010); the EU's European Arrest Warrant (2002).
    """
    return min(1.0, treaty_formation * trust_ij * trust_ji
               * (1.0 + surge_boost * (salience_i + salience_j)))


@njit(cache=True)
def accession_probability(accession: float, partners_inside: int, partners: int) -> float:
    """Chance that a non-member joins an open institution this week (MODEL.md B6; from
    isolated efforts to a network, Romaniuk 2010):
    ``accession * (share of its treaty partners that are members)``; 0 without partners."""
    if partners == 0:
        return 0.0
    return accession * partners_inside / partners


# ---------------------------------------------------------------- outputs


@njit(cache=True)
def herfindahl(counts: NDArray[np.float64]) -> float:
    """Herfindahl index of a count vector: 1/N when spread evenly, 1 when concentrated.

    MODEL.md, Outputs (haven concentration of plots over their base nations). NaN when empty.
    """
    total = 0.0
    for c in counts:
        total += c
    if total <= 0.0:
        return np.nan
    h = 0.0
    for c in counts:
        h += (c / total) * (c / total)
    return h


def beta_parameters(mean: float, spread: float) -> tuple[float, float] | None:
    """Beta(a, b) with the given mean and standard deviation, or None for a constant.

    SCENARIO_FORMAT.md, ``world``: attributes are Beta draws with this mean and spread. A
    spread at or above the largest a Beta allows is capped at 99% of that variance.
    (Used when a world or a run is set up, not inside the weekly loops.)
    """
    var_max = mean * (1.0 - mean)
    if spread <= 0.0 or var_max <= 0.0:
        return None
    var = min(spread * spread, 0.99 * var_max)
    k = var_max / var - 1.0
    return mean * k, (1.0 - mean) * k
