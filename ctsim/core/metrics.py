"""Outcome measures (MODEL.md, Outputs) and the DataCollector's reporters.

:class:`Counts` names the run's running totals and this week's counts; the DataCollector's
reporter :func:`recorded` reads each week's record (phase 9, Record; the columns of
:data:`ctsim.core.state.RECORDED`) and :func:`run_metrics` turns the plot table into a run's
outcomes. Rates are NaN where nothing was resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
from numba import njit

from ctsim.core import phases, rules, state
from ctsim.core.outputs import CHANNEL_EVENT_METRICS, METRICS, PER_TARGET, Metric, bounds_of
from ctsim.core.state import ABORTED, ATTACKED, COUNTED, DISRUPTED, Tally
from ctsim.core.strategies import STRATEGIES

__all__ = ["METRICS", "Counts", "Metric", "bounds_of", "recorded_columns", "run_metrics"]



class RunState(Protocol):
    """What the outcome measures read of a run: a :class:`~ctsim.core.simulation.Simulation`
    or the Mesa :class:`~ctsim.core.model.CooperationModel` around one (which forwards
    these attributes to it)."""

    @property
    def steps(self) -> int: ...
    @property
    def trust(self) -> np.ndarray: ...
    @property
    def counts(self) -> Counts: ...
    plots: Any
    world: Any
    tally: Tally
    relations: Any
    groups: Any


class Counts:
    """A view of the run's event counts (:data:`ctsim.core.state.COUNTED`) by name:
    ``total`` (the run so far) and ``week`` (this week), and ``plots_by_base`` (N,)."""

    def __init__(self, tally: Tally) -> None:
        self.total = dict(zip(COUNTED, tally.total.tolist(), strict=True))
        self.week = dict(zip(COUNTED, tally.week.tolist(), strict=True))
        self.plots_by_base: np.ndarray = tally.plots_by_base


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


#: Per column of the record: whether it is a count (read as int) rather than a rate.
IS_COUNT = tuple(name in state.RECORDED_COUNTS for name in state.RECORDED)


def recorded_columns(tally: Tally, first: int, last: int) -> dict[str, list[float | int]]:
    """Rows ``first`` to ``last`` of the record, by column name: the values
    :func:`recorded` gives week by week (ints for counts)."""
    rows = tally.record[first: last + 1]
    if len(rows) == 1:  # one week (step()): one row is quicker read as a list
        return {name: [int(v) if count else v]
                for name, count, v in zip(state.RECORDED, IS_COUNT, rows[0].tolist(),
                                          strict=True)}
    return {name: (rows[:, c].astype(np.int64) if IS_COUNT[c] else rows[:, c]).tolist()
            for c, name in enumerate(state.RECORDED)}


def mean_trust(model: RunState) -> float:
    """Mean directed trust between distinct nations, in [0, 1]."""
    return float(phases.mean_trust(model.trust))


def haven_concentration(model: RunState) -> float:
    """Herfindahl index of the plots spawned so far over their base nations."""
    return float(rules.herfindahl(model.tally.plots_by_base))


def settled(model: RunState) -> np.ndarray:
    """Ids of the plots whose would-be attack week has passed (their fate is settled).

    Every rate and mean over plots in :func:`run_metrics` uses these plots only
    (right-censoring, as in :func:`ctsim.core.phases.record_week`). A plot abandoned after
    an alert (MODEL.md D6) is neither disrupted nor an attack, and is left out.
    """
    p = model.plots
    ids = np.arange(p.n)
    ids = ids[p.spawned[ids] + p.lead[ids] - 1 <= model.steps]
    return ids[p.status[ids] != ABORTED]


def quartile_rates(model: RunState, ids: np.ndarray) -> list[float]:
    """Disruption rate of the plots ``ids`` by their target's capacity quarter (by rank)."""
    p = model.plots
    n = model.world.n
    rank = np.empty(n, np.int64)
    rank[np.argsort(model.world.capacity, kind="stable")] = np.arange(n)
    quarter = (rank * 4) // n
    q = quarter[p.target[ids]]
    hit = p.status[ids] == DISRUPTED
    return [_ratio(hit[q == k].sum(), (q == k).sum()) for k in range(4)]


def is_domestic(plots: Any, ids: np.ndarray) -> np.ndarray:
    """Which of the plots ``ids`` are domestic: their target is their base (MODEL.md A1;
    a plot directed from abroad, D9, too)."""
    return plots.target[ids] == plots.base[ids]


def split_outcomes(status: np.ndarray, mask: np.ndarray) -> tuple[int, int]:
    """(disrupted, attacked) among the settled plots whose ``status`` ``mask`` selects."""
    return int((status[mask] == DISRUPTED).sum()), int((status[mask] == ATTACKED).sum())


def target_outcomes(model: RunState) -> np.ndarray:
    """(K, N): per target nation, the counts of :data:`ctsim.core.outputs.PER_TARGET`
    (its settled plots, disrupted, disrupted with foreign help, first found abroad,
    attacked, attacked from transnational plots), in that order.

    The per-nation breakdown of the disruption rate and of the measures that can be taken
    among a set of nations (``outputs.AMONG``; same right-censoring).
    """
    p, n = model.plots, model.world.n
    ids = settled(model)
    hit = ids[p.status[ids] == DISRUPTED]
    attacked = ids[p.status[ids] == ATTACKED]
    rows = {"targeted": ids, "disrupted": hit, "foreign": hit[p.foreign[hit] == 1],
            "foreign_first": hit[p.foreign_first[hit] == 1], "attacked": attacked,
            "attacked_transnational": attacked[~is_domestic(p, attacked)]}
    return np.stack([np.bincount(p.target[rows[name]], minlength=n)
                     for name in PER_TARGET]).astype(float)


#: The metrics each optional part of :func:`run_metrics` gives; the part is skipped when
#: none of its metrics is asked for. Every other metric comes from the settled plots and
#: the run's totals, which every call reads.
QUARTER_METRICS = tuple(f"disruption_rate_q{k + 1}" for k in range(4))
KIND_METRICS = tuple(f"{m}_{kind}" for kind in ("transnational", "domestic")
                     for m in ("disruption_rate", "disrupted", "attacks"))
#: MODEL.md section B's counts of the run (read from its totals; declared in
#: :mod:`ctsim.core.outputs`).
CHANNEL_COUNTS = CHANNEL_EVENT_METRICS
CHANNEL_METRICS = (*CHANNEL_COUNTS, "mean_funds", "disruption_rate_online",
                   "weeks_to_disruption_online", "mean_capacity", "mean_compatibility",
                   "treaties_in_force")


#: MODEL.md section C's counts of the run, and its outcomes per strategy.
DECISION_COUNTS = ("inquiries", "withholdings_revealed", "strategy_changes", "decisions")
DECISION_METRICS = (*DECISION_COUNTS, *(f"{m}_{s.name}" for s in STRATEGIES
                                        for m in ("nations", "disruption_rate", "sent",
                                                  "received")))


#: MODEL.md section D's counts of the run, and the measures observers use (D11).
OBSERVED_COUNTS = ("convictions", "acquittals", "plots_aborted", "tipoffs",
                   "prosecuted_at_home", "fragments_reach")
OBSERVED_METRICS = (*OBSERVED_COUNTS, "foreign_first_share", "transnational_attack_share",
                    "execution_ratio", "disruption_rate_simple", "attacks_simple",
                    "disruption_rate_complex", "attacks_complex", "simple_attack_share",
                    "execution_ratio_simple")


def run_metrics(model: RunState, names: Iterable[str] | None = None
                ) -> dict[str, float]:
    """The run's outcomes (see :data:`METRICS`) from the model's state now.

    Counts of plots, disruptions and attacks, and every rate or mean over plots, cover the
    settled plots (:func:`settled`); the sharing, leak and extradition counts cover every
    event of the run.

    Args:
        names: only these metrics, in this order (default: all of :data:`METRICS`, in
            its order); the parts that only other metrics need are not computed.
    """
    wanted = None if names is None else list(names)
    ask = None if wanted is None else set(wanted)

    def needed(group: tuple[str, ...]) -> bool:
        return ask is None or not ask.isdisjoint(group)

    total = model.tally.total
    p = model.plots
    n_hit, attacks, failed, age_sum, foreign_sum = settled_outcomes(
        p.spawned, p.lead, p.status, p.age, p.foreign, p.failed, p.n, model.steps,
        DISRUPTED, ATTACKED, ABORTED)
    out = {
        "disruption_rate": _ratio(n_hit, n_hit + attacks),
        "plots": float(total[N_PLOTS]),
        "disrupted": float(n_hit),
        "attacks": float(attacks),
        # means of whole numbers: their sums are exact, so sum / count is numpy's mean
        "weeks_to_disruption": float(age_sum) / n_hit if n_hit else float("nan"),
        "foreign_share": float(foreign_sum) / n_hit if n_hit else float("nan"),
        **{name: float(total[k]) for name, k in TOTALS},
        "mean_trust": mean_trust(model) if needed(("mean_trust",)) else float("nan"),
        "haven_concentration": (haven_concentration(model)
                                if needed(("haven_concentration",)) else float("nan")),
        "attacks_completed": float(attacks - failed), "attacks_failed": float(failed),
    }
    if not needed((*QUARTER_METRICS, *KIND_METRICS, *CHANNEL_METRICS, *DECISION_METRICS,
                   *OBSERVED_METRICS)):
        return {name: out[name] for name in (METRICS if wanted is None else wanted)}
    ids = settled(model)
    if needed(QUARTER_METRICS):
        q = quartile_rates(model, ids)
        out.update({name: q[k] for k, name in enumerate(QUARTER_METRICS)})
    if needed(KIND_METRICS):
        domestic = is_domestic(p, ids)
        for kind, mask in (("transnational", ~domestic), ("domestic", domestic)):
            hit_k, att_k = split_outcomes(p.status[ids], mask)
            out.update({f"disruption_rate_{kind}": _ratio(hit_k, hit_k + att_k),
                        f"disrupted_{kind}": float(hit_k), f"attacks_{kind}": float(att_k)})
    if needed(CHANNEL_METRICS):
        out.update(channel_metrics(model, ids))
    if needed(DECISION_METRICS):
        out.update(decision_metrics(model, ids))
    if needed(OBSERVED_METRICS):
        out.update(observed_metrics(model, ids))
    return {name: out[name] for name in (METRICS if wanted is None else wanted)}


#: The run totals :func:`run_metrics` reports as they are: (metric, index of COUNTED).
TOTALS = tuple((name, COUNTED.index(name)) for name in (
    "shared_bilateral", "shared_institutional", "leaks", "extraditions_granted",
    "extraditions_refused"))
N_PLOTS = COUNTED.index("plots")


@njit(cache=True)
def settled_outcomes(spawned: np.ndarray, lead: np.ndarray, status: np.ndarray,
                     age: np.ndarray, foreign: np.ndarray, failed: np.ndarray, count: int,
                     steps: int, disrupted: int, attacked: int, aborted: int
                     ) -> tuple[int, int, int, int, int]:
    """Over the settled plots (:func:`settled`: the first ``count`` rows of the plot
    table whose attack week ``spawned + lead - 1`` is at most ``steps``, less those
    ``aborted``), in one pass: (disrupted, attacked, attacked but failed, the sum of the
    disrupted plots' ``age`` (weeks), the number of them with ``foreign`` help). The
    status codes are arguments (``state.DISRUPTED``, ...), so that this compiled code
    holds no copy of them."""
    n_hit = n_attacked = n_failed = age_sum = foreign_sum = 0
    for k in range(count):
        if spawned[k] + lead[k] - 1 > steps or status[k] == aborted:
            continue
        if status[k] == disrupted:
            n_hit += 1
            age_sum += age[k]
            foreign_sum += foreign[k]
        elif status[k] == attacked:
            n_attacked += 1
            n_failed += failed[k]
    return n_hit, n_attacked, n_failed, age_sum, foreign_sum


def observed_metrics(model: RunState, ids: np.ndarray) -> dict[str, float]:
    """MODEL.md D: the counts of section D over the whole run, and what observers measure,
    over the settled plots ``ids``: the share of disruptions whose first piece of
    intelligence came from another state, the transnational share of attacks, and the
    ratio of the execution rates (attacks per settled plot) of domestic and transnational
    plots, and of simple and complex plots (D11)."""
    t = model.counts.total
    p = model.plots
    hit = ids[p.status[ids] == DISRUPTED]
    status, domestic = p.status[ids], is_domestic(p, ids)
    attacked = status == ATTACKED
    simple = p.simple[ids] == 1
    by_mode = {}
    for mode, mask in (("simple", simple), ("complex", ~simple)):
        hit_m, att_m = split_outcomes(status, mask)
        by_mode.update({f"disruption_rate_{mode}": _ratio(hit_m, hit_m + att_m),
                        f"attacks_{mode}": float(att_m)})
    executed = {kind: _ratio((attacked & mask).sum(), mask.sum())
                for kind, mask in (("domestic", domestic), ("transnational", ~domestic),
                                   ("simple", simple), ("complex", ~simple))}
    return {
        **{name: float(t[name]) for name in OBSERVED_COUNTS},
        "foreign_first_share": float(p.foreign_first[hit].mean()) if len(hit) else float("nan"),
        "transnational_attack_share": _ratio((attacked & ~domestic).sum(), attacked.sum()),
        "execution_ratio": _ratio(executed["domestic"], executed["transnational"]),
        **by_mode,
        "simple_attack_share": _ratio((attacked & simple).sum(), attacked.sum()),
        "execution_ratio_simple": _ratio(executed["simple"], executed["complex"]),
    }


def decision_metrics(model: RunState, ids: np.ndarray) -> dict[str, float]:
    """The outcomes of MODEL.md section C: its counts over the whole run, and per strategy
    the nations holding it at the end, the disruption rate of the settled plots ``ids``
    aimed at its holders (as they were when each plot was hatched) and the fragments its
    holders sent and received."""
    t = model.counts.total
    p, tally = model.plots, model.tally
    held = np.bincount(model.relations.strategy, minlength=len(STRATEGIES))
    aimed = p.aimed_strategy[ids]
    hit = p.status[ids] == DISRUPTED
    out = {name: float(t[name]) for name in DECISION_COUNTS}
    for k, s in enumerate(STRATEGIES):
        mine = aimed == k
        out[f"nations_{s.name}"] = float(held[k])
        out[f"disruption_rate_{s.name}"] = _ratio(hit[mine].sum(), mine.sum())
        out[f"sent_{s.name}"] = float(tally.by_strategy[k, 0])
        out[f"received_{s.name}"] = float(tally.by_strategy[k, 1])
    return out


def channel_metrics(model: RunState, ids: np.ndarray) -> dict[str, float]:
    """The outcomes of MODEL.md section B's channels, over the settled plots ``ids`` where
    they are rates or means over plots (otherwise over the whole run, or at its end)."""
    t = model.counts.total
    p, rel = model.plots, model.relations
    online = ids[p.provider[ids] >= 0]
    hit = online[p.status[online] == DISRUPTED]
    attacked = int((p.status[online] == ATTACKED).sum())
    n = len(rel.capacity)
    compat = (float((rel.compat.sum() - np.trace(rel.compat)) / (n * (n - 1))) if n > 1
              else float("nan"))
    funds = model.groups.funds
    return {
        **{name: float(t[name]) for name in CHANNEL_COUNTS},
        "mean_funds": float(funds.mean()) if len(funds) else float("nan"),
        "disruption_rate_online": _ratio(len(hit), len(hit) + attacked),
        "weeks_to_disruption_online": float(p.age[hit].mean()) if len(hit) else float("nan"),
        "mean_capacity": float(rel.capacity.mean()),
        "mean_compatibility": compat,
        "treaties_in_force": float(model.tally.n_treaties[0]),
    }
