"""The decision rules of ctsim, one small pure function each.

Every rule works on numbers or numpy arrays (broadcasting), holds no state and draws no
random numbers: the model draws, the rules say with which probability. Each docstring
names the step of MODEL.md (``docs/ODD.md``, "Submodels") it implements, so a reader can
hold the code against the specification line by line. All probabilities are per weekly step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

Float = NDArray[np.float64]


def detection_probability(
    detection_rate: float, capacity: ArrayLike, tech: ArrayLike, ai_boost: float
) -> Float:
    """Chance that a footprint nation collects one fragment about a plot this week.

    MODEL.md step 2 (Collect): ``p = min(1, detection_rate * capacity * (1 + ai_boost * tech))``.
    Poorer states (low ``capacity``) detect less; AI adoption (``tech``) scales it up.

    Args:
        detection_rate: base weekly chance for a fully capable nation, in [0, 1].
        capacity: intelligence capacity per nation, in [0, 1].
        tech: adoption of AI / data analysis per nation, in [0, 1].
        ai_boost: relative gain from full AI adoption, >= 0 (1 = doubles detection).

    Returns:
        Probabilities in [0, 1].
    """
    p = detection_rate * np.asarray(capacity, float) * (1.0 + ai_boost * np.asarray(tech, float))
    return np.minimum(1.0, p)


def willingness(trust: ArrayLike, sovereignty: ArrayLike, sensitivity: ArrayLike) -> Float:
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
    return np.asarray(trust, float) * (
        1.0 - np.asarray(sovereignty, float) * np.asarray(sensitivity, float)
    )


def legal_compatibility(
    family_compat: ArrayLike,
    definition_i: ArrayLike,
    definition_j: ArrayLike,
    has_treaty: ArrayLike,
    treaty_floor: float,
    harmonization: float,
) -> Float:
    """Legal compatibility ``c[i, j]`` of two nations, in [0, 1].

    MODEL.md, Relations: ``c = family_compat * (1 - |definition_i - definition_j|)``;
    a treaty (MLAT) lifts it to at least ``treaty_floor``; harmonization ``h`` then raises
    every pair, ``c <- c + h * (1 - c)``. The diagonal is set to 1 by the caller.
    """
    c = np.asarray(family_compat, float) * (
        1.0 - np.abs(np.asarray(definition_i, float) - np.asarray(definition_j, float))
    )
    c = np.where(np.asarray(has_treaty, bool), np.maximum(c, treaty_floor), c)
    return c + harmonization * (1.0 - c)


def mlat_delay(max_delay: int, compatibility: ArrayLike) -> NDArray[np.int64]:
    """Weeks a bilateral delivery takes: ``round(mlat_delay * (1 - c))``.

    MODEL.md step 3: legal friction (the mutual legal assistance process) delays evidence;
    fully compatible systems exchange it the same week. Rounds half to even (numpy).
    """
    return np.rint(max_delay * (1.0 - np.asarray(compatibility, float))).astype(np.int64)


def admissibility(compatibility: ArrayLike, hub_harmonization: ArrayLike | None = None) -> Float:
    """Chance a delivered fragment is usable as evidence by its receiver.

    MODEL.md step 3: ``c[i, j]`` bilaterally; ``max(c[i, j], harmonization_h)`` through a
    hub whose standard protocols set an admissibility floor among its members.
    """
    c = np.asarray(compatibility, float)
    if hub_harmonization is None:
        return c
    return np.maximum(c, np.asarray(hub_harmonization, float))


def leak_probability(leak_rate: float, security: ArrayLike) -> Float:
    """Chance that a receiver leaks one delivery: ``leak_rate * (1 - security)``.

    MODEL.md step 4 (Leak). ``security`` = 1 means confidentiality protocols that never leak.
    """
    return leak_rate * (1.0 - np.asarray(security, float))


def post_leak_probability(
    receiver_leak: ArrayLike, post: ArrayLike | None = None, n_posts: int = 1
) -> Float:
    """Chance that an institutional post leaks: at least one receiving member leaks it.

    MODEL.md step 4: ``1 - prod_j (1 - leak_j)`` over the members in the plot's footprint
    that receive the post (the sender excluded).

    Args:
        receiver_leak: each receiver's leak probability (rules.leak_probability).
        post: which post each receiver belongs to (0..n_posts-1); None = all one post.
        n_posts: number of posts; a post without receivers never leaks.

    Returns:
        One probability per post, in [0, 1].
    """
    q = np.asarray(receiver_leak, float)
    keep = np.ones(n_posts)
    index = np.zeros(len(q), np.int64) if post is None else np.asarray(post, np.int64)
    np.multiply.at(keep, index, 1.0 - q)
    return 1.0 - keep


def interdiction_probability(interdiction: float, capacity: ArrayLike) -> Float:
    """Chance that a nation holding enough evidence disrupts the plot this week.

    MODEL.md step 5 (Act): ``interdiction * capacity_j``.
    """
    return interdiction * np.asarray(capacity, float)


def trust_after_success(trust: ArrayLike, learning_rate: float) -> Float:
    """Trust after a fragment from this partner helped disrupt a plot.

    MODEL.md step 5: ``T += learning_rate * (1 - T)``; trust grows with useful sharing and
    approaches 1 geometrically (reciprocity, Axelrod 1984).
    """
    t = np.asarray(trust, float)
    return t + learning_rate * (1.0 - t)


def trust_after_leak(trust: ArrayLike, leak_penalty: float) -> Float:
    """Trust after the partner leaked a fragment: it loses ``leak_penalty`` of its value.

    MODEL.md step 4: ``T <- T * (1 - leak_penalty)``. Read as a share lost (not an absolute
    drop) so trust stays in [0, 1] and a leak hurts a close partner most (docs/ODD.md).
    """
    return np.asarray(trust, float) * (1.0 - leak_penalty)


def trust_after_shock(trust: ArrayLike, shock: float) -> Float:
    """Trust across two blocs after a geopolitical shock: it loses ``shock`` of its value.

    MODEL.md step 8 (Drift), read like the leak penalty (docs/ODD.md).
    """
    return np.asarray(trust, float) * (1.0 - shock)


def trust_reversion(trust: ArrayLike, initial: ArrayLike, reversion: float,
                    out: NDArray[np.float64] | None = None) -> Float:
    """Trust drifting back toward its initial value: ``T += reversion * (T0 - T)``.

    MODEL.md step 8: memory of leaks and successes fades at ``reversion`` per week.
    ``out`` (e.g. ``trust`` itself) receives the result in place, with the same rounding.
    """
    t = np.asarray(trust, float)
    step = np.subtract(initial, t)
    step *= reversion
    if out is None:
        return t + step
    return np.add(t, step, out=out)


def initial_trust(same_bloc: ArrayLike, trust: float, tension: float) -> Float:
    """Initial trust ``T0[i, j]``: ``trust`` inside a bloc, ``trust * (1 - tension)`` across.

    SCENARIO_FORMAT.md, ``relations``: geopolitical tension is the share of trust lost
    between nations of different blocs.
    """
    return np.where(np.asarray(same_bloc, bool), trust, trust * (1.0 - tension))


def initial_hub_trust(trust: ArrayLike, tension: float, rival_share: ArrayLike) -> Float:
    """A member's initial trust in a hub: the hub's ``trust``, less what its rivals cost.

    ``TI0[i, h] = trust_h * (1 - tension * rival_share[i, h])``, where ``rival_share`` is
    the share of the hub's other members that sit in another bloc than ``i``. MODEL.md is
    silent on how tension reaches hubs; a hub is only as trusted as the rivals inside it
    (docs/ODD.md, "Design concepts"). A hub of one bloc keeps its full trust.
    """
    return np.asarray(trust, float) * (1.0 - tension * np.asarray(rival_share, float))


def effective_sovereignty(sovereignty: ArrayLike, surge: float, surging: ArrayLike) -> Float:
    """Sovereignty sensitivity after an attack: lowered by ``surge`` while the surge lasts.

    MODEL.md step 7 (Attack): the attacked nation shares more freely for ``surge_weeks``
    (the surge of cooperation after 11 September 2001). Floors at 0.
    """
    s = np.asarray(sovereignty, float)
    return np.where(np.asarray(surging, bool), np.maximum(0.0, s - surge), s)


def extradition_probability(compatibility: ArrayLike, has_treaty: ArrayLike) -> Float:
    """Chance an extradition request from the disrupting nation to the plot's base succeeds.

    MODEL.md step 6 (Prosecute): ``c[base, j]`` where a treaty exists, 0 without one
    (dual criminality fails where legal definitions diverge). The base is where the plot
    was spawned (docs/ODD.md, choices).
    """
    return np.where(np.asarray(has_treaty, bool), np.asarray(compatibility, float), 0.0)


def strength_after_disruption(strength: float, attrition: float) -> float:
    """A group's strength after one of its members is prosecuted: it loses ``attrition`` of it.

    MODEL.md step 6.
    """
    return strength * (1.0 - attrition)


def strength_regrowth(strength: ArrayLike, regrowth: float) -> Float:
    """A group's strength regrowing toward 1: ``strength += regrowth * (1 - strength)``.

    MODEL.md step 8 (Drift) and Entities: recruitment rebuilds a weakened group.
    """
    s = np.asarray(strength, float)
    return s + regrowth * (1.0 - s)


def haven_safety(
    capacity: ArrayLike, undisrupted: ArrayLike, resolved: ArrayLike, prior_weight: float = 4.0
) -> Float:
    """A group's estimate of how safe each nation is as a base, in (0, 1).

    MODEL.md, Entities ("nations where its plots are least likely to be disrupted"): the
    posterior mean share of plots based there that were *not* disrupted, with a Beta prior
    of weight ``prior_weight`` centred on ``1 - capacity`` (groups first assume weak states
    are safe). A disruption whose extradition was refused counts as undisrupted: the plotters
    walked free (step 6: a haven).
    """
    prior = 1.0 - np.asarray(capacity, float)
    return (prior * prior_weight + np.asarray(undisrupted, float)) / (
        prior_weight + np.asarray(resolved, float)
    )


def footprint_weights(region: ArrayLike, bases: ArrayLike, locality: float) -> Float:
    """(plots, N) weights for a plot's other footprint nations (target and transit).

    An extension for real-world scenarios (docs/ODD.md): each other nation of a footprint
    comes, with chance ``locality`` in [0, 1], from the base's own region, else from all the
    nations: ``w_j = locality * [j in region(base)] / (m - 1) + (1 - locality) / (N - 1)``,
    with m the size of the base's region; the base itself weighs 0. ``locality`` = 0 is the
    uniform draw of MODEL.md step 1. A region of one nation sends its share abroad.
    """
    region = np.asarray(region)
    bases = np.asarray(bases)
    n = len(region)
    same = region[None, :] == region[bases][:, None]
    rows = np.arange(len(bases))
    same[rows, bases] = False
    m = same.sum(axis=1, keepdims=True)
    local = np.where(m > 0, locality, 0.0)
    w = local * same / np.maximum(m, 1) + (1.0 - local) / max(n - 1, 1)
    w[rows, bases] = 0.0
    return w


def relocation_weights(safety: ArrayLike, pull: float) -> Float:
    """Weights for choosing a new base: ``safety ** pull`` (normalised by the caller).

    ``pull`` = 0 moves at random; larger values move ever more surely to the safest haven.
    """
    s = np.clip(np.asarray(safety, float), 1e-12, 1.0)
    return s**pull


def herfindahl(counts: ArrayLike) -> float:
    """Herfindahl index of a count vector: 1/N when spread evenly, 1 when concentrated.

    MODEL.md, Outputs (haven concentration of plots over their base nations). NaN when empty.
    """
    c = np.asarray(counts, float)
    total = c.sum()
    if total <= 0:
        return float("nan")
    share = c / total
    return float(np.sum(share * share))


def beta_parameters(mean: float, spread: float) -> tuple[float, float] | None:
    """Beta(a, b) with the given mean and standard deviation, or None for a constant.

    SCENARIO_FORMAT.md, ``world``: attributes are Beta draws with this mean and spread. A
    spread at or above the largest a Beta allows is capped at 99% of that variance.
    """
    var_max = mean * (1.0 - mean)
    if spread <= 0.0 or var_max <= 0.0:
        return None
    var = min(spread * spread, 0.99 * var_max)
    k = var_max / var - 1.0
    return mean * k, (1.0 - mean) * k
