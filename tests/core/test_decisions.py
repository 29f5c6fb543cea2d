"""Nations that decide (MODEL.md, Version 3, section C): each mechanism moves what it
should, the way its sources say, measured with paired seeds; and a decision set from
outside the run (C6, which has no scenario key and so no contract class in
tests/core/test_mechanisms.py) changes that pair alone and is recorded.

Every comparison runs both sides on the same seeds (common random numbers) and asks the
95% Student-t interval of the paired differences to lie on the claimed side of zero
(tests/core/mechanism_contract.py). Where the model makes two runs equal, the test asks
for equality bit for bit. The runs are short (the file takes about ten seconds on two
cores); what a test counts per pair of nations it reads week by week from a
:class:`Simulation` (:func:`traffic`).

``world.strategies`` merges key by key with the shares of the file it overrides, so every
mixture here names each strategy (:func:`mix`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ctsim.core.scenario import Scenario, load_scenario, scenario_from_dict
from ctsim.core.simulation import Decision, Simulation
from ctsim.core.state import ATTACKED, BILATERAL, DISRUPTED
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from tests.conftest import SCENARIOS
from tests.core.mechanism_contract import assert_moves, paired

RUNS = 16
SEEDS = replication_seeds(2025, RUNS)

#: A small world of one bloc (every pair starts at the same trust), every pair with a
#: treaty, intelligence shared bilaterally only (so every delivery has one sender and one
#: receiver), two years.
SMALL_WORLD: dict[str, Any] = {
    "name": "small_decisions",
    "description": "A small world of one bloc, every pair with a treaty, bilateral only.",
    "steps": 104,
    "world": {"nations": 12, "regions": 1, "blocs": 1,
              "capacity": {"mean": 0.6, "spread": 0.15},
              "sovereignty": {"mean": 0.4, "spread": 0.15},
              "security": {"mean": 0.8, "spread": 0.15}},
    "relations": {"trust": 0.6, "treaties": "all"},
    "cooperation": {"regime": "bilateral"},
    "threat": {"groups": 8, "plots_per_year": 30, "detection_rate": 0.12, "surge": 0.0,
               "footprint": {"min": 2, "max": 4}},
}


def mix(**shares: float) -> dict[str, float]:
    """A value of ``world.strategies`` that names every strategy: ``shares``, the rest 0."""
    return {name: float(shares.get(name, 0.0)) for name in STRATEGY_NAMES}


def small(**changes: Any) -> Scenario:
    """:data:`SMALL_WORLD` with ``changes`` (dotted key paths, replacing the value)."""
    data = copy.deepcopy(SMALL_WORLD)
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return scenario_from_dict(data)


def scenario(name: str, **overrides: Any) -> Scenario:
    """Shipped scenario ``name`` with dotted ``overrides``."""
    return load_scenario(SCENARIOS / f"{name}.yaml", overrides or None)


def runs(config: Scenario, seeds: tuple[int, ...] | list[int] = SEEDS,
         steps: int | None = None) -> list[dict[str, float]]:
    """The metrics of one run of ``config`` per seed."""
    return [run_one(config, s, steps, timeseries=False).metrics for s in seeds]


def column(results: list[dict[str, float]], key: str) -> list[float]:
    return [m[key] for m in results]


def contains_zero(diff: tuple[float, float, float], what: str) -> None:
    """Assert that a paired difference's 95% interval holds zero (no change within noise)."""
    mean, low, high = diff
    assert low <= 0.0 <= high, f"{what}: {mean:+.4g} [{low:+.4g}, {high:+.4g}] excludes zero"


# ---------------------------------------------------------------- reading a run by pairs


@dataclass
class Traffic:
    """What one run sent and delivered, week by week, read from its tables.

    ``sends``: (week, sender, receiver, plot) of each fragment sent, the receiver ``-1 - h``
    for a post to hub h; ``delivered``: (week, sender, receiver) of each bilateral
    delivery that arrived; ``log``: each week's event log, as (kind, a, b, c) tuples.
    """

    sim: Simulation
    sends: list[tuple[int, int, int, int]] = field(default_factory=list)
    delivered: list[tuple[int, int, int]] = field(default_factory=list)
    log: list[list[tuple[str, int, int, int]]] = field(default_factory=list)

    def sent(self, sender: int, receiver: int, weeks: range | None = None) -> int:
        """Fragments ``sender`` sent ``receiver`` (in ``weeks``)."""
        return sum(1 for t, i, j, _ in self.sends
                   if i == sender and j == receiver and (weeks is None or t in weeks))

    def leaks(self, sender: int, leaker: int) -> int:
        """Bilateral deliveries from ``sender`` that ``leaker`` leaked."""
        return sum(1 for week in self.log for kind, a, b, _ in week
                   if kind == "leak" and (a, b) == (sender, leaker))

    def deliveries(self, sender: int, receiver: int) -> int:
        return sum(1 for _, i, j in self.delivered if (i, j) == (sender, receiver))


def _this_week(sim: Simulation, t: int, traffic: Traffic) -> None:
    """Add week ``t``'s sends, deliveries and events: a fragment is shared only in the week
    it is collected, so this week's sends are the rows (in flight, or arrived at once)
    whose fragment is new this week."""
    mail, frags, plots = sim.mail, sim.fragments, sim.plots
    first = frags.first_new[0]
    rows = [(mail.frag[d], mail.via[d], mail.to[d]) for d in range(mail.count[0])]
    arrived = [(mail.arrived_frag[a], mail.arrived_via[a], mail.arrived_to[a])
               for a in range(mail.n_arrived[0])]
    for f, via, to in [*rows, *arrived]:
        if f < first:
            continue
        k = frags.plot[f]
        receiver = plots.foot[k, to] if via < 0 else -1 - via  # a nation, or hub `via`
        traffic.sends.append((t, int(frags.nation[f]), int(receiver), int(k)))
    for f, via, to in arrived:
        if via == BILATERAL:
            k = frags.plot[f]
            traffic.delivered.append((t, int(frags.nation[f]), int(plots.foot[k, to])))
    traffic.log.append([(e.kind, e.a, e.b, e.c) for e in sim.week_log])


def traffic(config: Scenario, seed: int, weeks: int,
            before: Callable[[Simulation, int], None] | None = None) -> Traffic:
    """Run ``config`` from ``seed`` one week at a time (the same run as all at once),
    calling ``before(sim, t)`` ahead of week ``t`` (a person's decisions), and keep what
    each week sent, delivered and logged."""
    sim = Simulation(config, np.random.default_rng(seed))
    out = Traffic(sim)
    for t in range(1, weeks + 1):
        if before is not None:
            before(sim, t)
        sim.run(t)
        _this_week(sim, t, out)
    return out


def shared_plots(sim: Simulation, a: int, b: int) -> int:
    """Plots spawned so far whose footprint holds both nations ``a`` and ``b``."""
    p = sim.plots
    return sum(1 for k in range(p.n) if {a, b} <= set(p.foot[k, :p.size[k]].tolist()))


# ---------------------------------------------------------------- C1 stakes


def test_a_stake_below_one_lowers_what_non_targets_share_and_leaves_domestic_plots_alone():
    """C1 (free-riding; Sandler & Siqueira 2006, Arce & Sandler 2005): with a stake of 0.3
    against 1, the nations a plot only passes through send fewer fragments about it, so
    fewer disruptions rest on foreign intelligence and fewer transnational plots are
    stopped; a domestic plot has nobody to share with, and its disruption rate does not
    move beyond noise (half the plots domestic here)."""
    outcomes = {}
    for stake in (0.3, 1.0):
        config = scenario("free_riding", **{"cooperation.stake": stake,
                                            "threat.transnational": 0.5})
        rows = []
        for seed in SEEDS:
            run = traffic(config, seed, 156)
            target = run.sim.plots.target
            non_target = sum(1 for _, i, j, k in run.sends if j >= 0 and target[k] != i)
            m = run.sim.metrics()
            rows.append((non_target, m["foreign_share"], m["disruption_rate_transnational"],
                         m["disruption_rate_domestic"]))
        outcomes[stake] = np.array(rows, float)
    low, full = outcomes[0.3], outcomes[1.0]
    assert_moves(paired(low[:, 0], full[:, 0]), -1, "bilateral sends by non-targets")
    assert_moves(paired(low[:, 1], full[:, 1]), -1, "foreign share")
    assert_moves(paired(low[:, 2], full[:, 2]), -1, "disruption rate, transnational")
    contains_zero(paired(low[:, 3], full[:, 3]), "disruption rate, domestic")


# ---------------------------------------------------------------- C2 inquiries


def _trust_of_attacked_pairs(sim: Simulation) -> np.ndarray:
    """Trust at the end between the ordered pairs of nations that shared the footprint of
    a plot that attacked."""
    p = sim.plots
    lived = np.zeros_like(sim.trust, bool)
    for k in np.flatnonzero(p.status[:p.n] == ATTACKED):
        foot = p.foot[k, :p.size[k]]
        lived[np.ix_(foot, foot)] = True
    np.fill_diagonal(lived, False)
    return sim.trust[lived]


def test_inquiries_leave_trust_between_partners_of_attacked_plots_lower_and_dispersed():
    """C2 (revealed withholding; Walsh 2010): when an inquiry after an attack shows that a
    partner held back what it knew, the nation that finds out trusts it less. Between the
    nations that lived through attacks together, trust after two years is lower on
    average, and more spread, with inquiries and a penalty than without them."""
    on = scenario("inquiries")
    off = scenario("inquiries", **{"trust_dynamics.inquiry": 0.0,
                                   "trust_dynamics.withhold_penalty": 0.0})

    def trust(config: Scenario) -> list[np.ndarray]:
        return [_trust_of_attacked_pairs(run_one(config, s, 104, timeseries=False,
                                                 keep_model=True).model) for s in SEEDS]

    with_them, without = trust(on), trust(off)
    assert all(len(t) > 50 for t in with_them)
    assert_moves(paired([t.mean() for t in with_them], [t.mean() for t in without]), -1,
                 "mean trust of attacked pairs")
    assert_moves(paired([t.std() for t in with_them], [t.std() for t in without]), +1,
                 "spread of trust of attacked pairs")


# ---------------------------------------------------------------- C3 strategies


def _as(metrics: dict[str, float], strategy: str) -> dict[str, float]:
    """A run's metrics with the per-strategy ones of ``strategy`` named ``<m>_held`` and
    those of the other strategies left out."""
    out = {}
    for key, value in metrics.items():
        head, _, tail = key.rpartition("_")
        if tail in STRATEGY_NAMES:
            if tail == strategy:
                out[f"{head}_held"] = value
        else:
            out[key] = value
    return out


def test_without_leaks_reciprocal_and_always_are_the_same_run():
    """C3 (Axelrod 1984): tit for tat holds back only after a partner's revealed defection.
    With no leaks and no inquiries no defection is ever revealed, and a world of
    `reciprocal` nations is a world of `always` nations bit for bit (every coin drawn for
    every channel either way): every metric, every weekly record column and every plot.
    Once leaks reveal defections, the two worlds part."""
    quiet = {"threat.leak_rate": 0.0}
    for seed in SEEDS[:3]:
        a = run_one(scenario("baseline", **quiet, **{"world.strategies": mix(always=1)}), seed,
                    260, keep_model=True)
        r = run_one(scenario("baseline", **quiet, **{"world.strategies": mix(reciprocal=1)}),
                    seed, 260, keep_model=True)
        assert json.dumps(_as(a.metrics, "always"), sort_keys=True) == json.dumps(
            _as(r.metrics, "reciprocal"), sort_keys=True)
        assert a.metrics["sent_always"] > 0
        for name, values in a.timeseries.items():
            if not name.startswith("nations_"):
                assert np.array_equal(values, r.timeseries[name], equal_nan=True), name
        n = a.model.plots.n
        for name in ("status", "resolved", "disrupter", "foot", "epoch"):
            assert np.array_equal(getattr(a.model.plots, name)[:n],
                                  getattr(r.model.plots, name)[:n]), name
    leaky = [run_one(scenario("baseline", **{"world.strategies": mix(**{s: 1})}), SEEDS[0],
                     260, timeseries=False).metrics["shared_bilateral"]
             for s in ("always", "reciprocal")]
    assert leaky[0] != leaky[1]


#: A small world where poorly secured partners leak now and then by accident (noise):
#: security 0.8 on average, spread 0.15, so a few nations leak far more than the rest.
NOISY = {"threat.leak_rate": 0.3, "steps": 260}


def _homogeneous(inquiry: float) -> dict[str, list[dict[str, float]]]:
    """Runs of the noisy small world held entirely by each reciprocating strategy."""
    return {s: runs(small(**NOISY, **{"trust_dynamics.inquiry": inquiry,
                                      "world.strategies": mix(**{s: 1.0})}))
            for s in ("forgiving", "reciprocal", "grudging")}


def test_with_noise_forgiving_keeps_fragments_flowing_and_stops_more_plots():
    """C3 with noise (the iterated prisoner's dilemma with errors: Axelrod 1984; Wu &
    Axelrod 1995): leaks by poorly secured partners are defections nobody meant, and an
    inquiry after each attack shows who held back. Tit for tat answers a leak by holding
    back, the partner sees it held back and answers in kind, and the pair can stay
    locked; generous tit for tat shares now and then after a defection and unlocks the
    pair; the grudge never does. So a world of `forgiving` nations sends more fragments
    and stops more plots than one of `reciprocal` nations, and `grudging` the fewest."""
    worlds = _homogeneous(1.0)
    f, r, g = (worlds[s] for s in ("forgiving", "reciprocal", "grudging"))
    for key in ("shared_bilateral", "disruption_rate"):
        assert_moves(paired(column(f, key), column(r, key)), +1, f"{key}: forgiving - tit for tat")
        assert_moves(paired(column(r, key), column(g, key)), +1, f"{key}: tit for tat - grudge")


def test_with_noise_but_no_inquiries_the_grudge_still_loses():
    """C3 with noise and withholding unseen (Axelrod 1984; Wu & Axelrod 1995): without
    inquiries a nation's holding back is never revealed, so nobody answers it, and tit
    for tat resumes at its partner's next fragment, which comes soon; the grudge never
    resumes, so a world of `grudging` nations sends fewer fragments and stops fewer plots
    than one of `reciprocal` nations. (Generous and plain tit for tat then differ only in
    the short pauses, by little: forgiveness pays where withholding comes to light.)"""
    worlds = _homogeneous(0.0)
    r, g = worlds["reciprocal"], worlds["grudging"]
    for key in ("shared_bilateral", "disruption_rate"):
        assert_moves(paired(column(r, key), column(g, key)), +1, f"{key}: tit for tat - grudge")


def test_never_nations_free_ride_the_plots_aimed_at_them_are_stopped_less():
    """C3 (free-riding on a public good; Sandler & Siqueira 2006): in a world where half
    the nations never share and half always do, the `never` nations receive fragments and
    send none, and the plots aimed at them are stopped less often than those aimed at
    `always` nations of the same world: their own fragments help no partner stop them."""
    results = runs(scenario("baseline", **{"world.strategies": mix(never=0.5, always=0.5)}))
    assert column(results, "sent_never") == [0.0] * RUNS
    assert min(column(results, "received_never")) > 0
    assert_moves(paired(column(results, "disruption_rate_never"),
                        column(results, "disruption_rate_always")), -1,
                 "disruption rate: plots aimed at never - at always nations")


def test_a_world_that_never_shares_is_the_world_without_cooperation():
    """C3, against MODEL.md's limiting case (regime `none`): when no nation ever shares,
    each holds only the evidence it collected itself, for every plot, as under regime
    `none`, and every plot meets the same fate in the same week, bit for bit (a `never`
    nation still draws its coins, from the share phase's own stream, which no other phase
    reads). What cooperation keeps without sharing is the treaties' extraditions; with
    no attrition and no relocation they change no group, so the plots are the same."""
    same = {"threat.attrition": 0.0, "threat.adaptive": False}
    for seed in SEEDS[:4]:
        never = run_one(scenario("baseline", **same, **{"world.strategies": mix(never=1)}),
                        seed, 260, timeseries=False, keep_model=True)
        alone = run_one(scenario("baseline", **same, **{"cooperation.regime": "none"}), seed,
                        260, timeseries=False, keep_model=True)
        n = never.model.plots.n
        assert n == alone.model.plots.n > 100
        for name in ("status", "resolved", "disrupter", "target", "foot", "lead"):
            assert np.array_equal(getattr(never.model.plots, name)[:n],
                                  getattr(alone.model.plots, name)[:n]), name
        for key in ("disruption_rate", "disrupted", "attacks", "weeks_to_disruption"):
            assert never.metrics[key] == alone.metrics[key], key
        assert never.metrics["shared_bilateral"] == never.metrics["shared_institutional"] == 0
        assert never.metrics["foreign_share"] == 0


# ---------------------------------------------------------------- C4 hierarchy

PATRON, CLIENTS = "Avalon", ("Borduria", "Carpania", "Dravonia")


def test_a_patron_shares_more_per_plot_with_its_clients_and_they_leak_less():
    """C4 (Walsh 2007, 2010): a patron that monitors its clients keeps trusting them, so
    it sends them more fragments per plot they share than it sends the other nations,
    whom it trusted as much at the start (one bloc); and the clients leak fewer of the
    deliveries they get from it. Leaky world: every nation's security 0.5."""
    hierarchy = [{"patron": PATRON, "clients": list(CLIENTS)}]
    config = small(**{"relations.hierarchy": hierarchy, "relations.monitoring": 0.8,
                      "relations.client_cost": 0.3, "threat.leak_rate": 0.3,
                      "world.security": {"mean": 0.5, "spread": 0.0}})
    per_plot, leak_rate = [], []
    for seed in SEEDS[:12]:
        run = traffic(config, seed, 104)
        w = run.sim.world
        p = w.index(PATRON)
        clients = [w.index(c) for c in CLIENTS]
        others = [j for j in range(w.n) if j != p and j not in clients]
        assert (w.patron_of[clients] == p).all() and (w.patron_of[others] < 0).all()
        assert len({w.trust0[p, j] for j in range(w.n) if j != p}) == 1

        def fragments_per_plot(group: list[int], run: Traffic = run, p: int = p) -> float:
            return (sum(run.sent(p, j) for j in group)
                    / sum(shared_plots(run.sim, p, j) for j in group))

        def leaks_per_delivery(group: list[int], run: Traffic = run, p: int = p) -> float:
            return (sum(run.leaks(p, j) for j in group)
                    / sum(run.deliveries(p, j) for j in group))

        per_plot.append((fragments_per_plot(clients), fragments_per_plot(others)))
        leak_rate.append((leaks_per_delivery(clients), leaks_per_delivery(others)))
    per_plot, leak_rate = np.array(per_plot), np.array(leak_rate)
    assert_moves(paired(per_plot[:, 0], per_plot[:, 1]), +1,
                 "fragments per shared plot: patron to clients - patron to others")
    assert_moves(paired(leak_rate[:, 0], leak_rate[:, 1]), -1,
                 "leaks per delivery: clients - others")


# ---------------------------------------------------------------- C5 strategies that spread


def test_forgiveness_spreads_from_a_minority_where_a_grudge_does_not():
    """C5 (strategies that spread by imitation, the Fermi rule of Szabo & Toke 1998; with
    noise, generous tit for tat does best: Axelrod 1984, Wu & Axelrod 1995). In
    scenarios/evolving_strategies.yaml a fifth of the nations start `forgiving`; after
    twenty years of yearly imitation there are more of them than at the start. The same
    world with a fifth `grudging` and the rest tit for tat or forgiving: the grudge does
    not spread, and forgiveness gains more than the grudge does."""
    start = 6.0  # a fifth of 30 nations

    def change(minority: str, rest: dict[str, float]) -> tuple[float, float, float]:
        strategies = mix(**{minority: 0.2}, **rest)
        on = runs(scenario("evolving_strategies", **{"world.strategies": strategies}))
        off = runs(scenario("evolving_strategies", **{"world.strategies": strategies,
                                                      "cooperation.imitation": 0.0}))
        assert column(off, f"nations_{minority}") == [start] * RUNS
        assert min(column(on, "strategy_changes")) > 0
        return paired(column(on, f"nations_{minority}"), column(off, f"nations_{minority}"))

    forgiving = change("forgiving", {"reciprocal": 0.4, "grudging": 0.4})
    grudging = change("grudging", {"reciprocal": 0.4, "forgiving": 0.4})
    assert_moves(forgiving, +1, "forgiving nations: end - start")
    assert grudging[0] <= 0.0, f"the grudge spread: {grudging}"
    assert forgiving[1] > grudging[0], (forgiving, grudging)


# ---------------------------------------------------------------- C6 a person decides


def _busiest_pair(run: Traffic) -> tuple[int, int]:
    """The (sender, receiver) pair of nations that carried the most fragments."""
    pairs = [(i, j) for _, i, j, _ in run.sends if j >= 0]
    return max(set(pairs), key=lambda pair: (pairs.count(pair), pair))


def _first_week_with(run: Traffic, sender: int, receiver: int, after: int) -> int:
    return min(t for t, i, j, _ in run.sends if (i, j) == (sender, receiver) and t >= after)


def test_a_decision_to_withhold_stops_that_pair_from_its_week_and_is_recorded():
    """C6 (MODEL.md C6: a person at the controls decides between weeks): the run with a
    decision that nation i withholds from nation j, set before week w, is the run without
    it, event for event, until week w; in week w every other fragment goes where it went
    without the decision and none goes from i to j; from then on i sends j nothing,
    though without the decision it kept sending, while j still sends i what its own
    strategy gives. The decision is kept with its week and counted."""
    config = small()
    seed = SEEDS[0]
    free = traffic(config, seed, 104)
    i, j = _busiest_pair(free)
    w = _first_week_with(free, i, j, after=20)

    def withhold(sim: Simulation, t: int) -> None:
        if t == w:
            sim.decide(i, j, "withhold")

    held = traffic(config, seed, 104, withhold)
    assert [s for s in held.sends if s[0] < w] == [s for s in free.sends if s[0] < w]
    assert held.log[:w - 1] == free.log[:w - 1]
    in_week = [s for s in free.sends if s[0] == w]
    assert any(s[1:3] == (i, j) for s in in_week)
    assert [s for s in held.sends if s[0] == w] == [s for s in in_week if s[1:3] != (i, j)]
    later = range(w, 105)
    assert held.sent(i, j, later) == 0 < free.sent(i, j, later)
    assert held.sent(j, i, later) > 0  # the partner's sharing is its own
    assert held.sim.decisions == [Decision(w, i, j, "withhold")]
    assert held.sim.metrics()["decisions"] == 1.0
    assert free.sim.metrics()["decisions"] == 0.0


def test_a_decision_to_share_opens_only_that_pair_until_it_is_taken_back():
    """C6 (MODEL.md C6): in a world where every nation follows `never`, a decision that
    nation 0 shares with nation 2 from week 20 makes 0-to-2 the only pair that carries
    anything, from week 20, until the decision is handed back to the strategy in week 60;
    both decisions are kept with their weeks."""
    config = small(**{"world.strategies": mix(never=1)})
    seed = SEEDS[1]

    def decide(sim: Simulation, t: int) -> None:
        if t == 20:
            sim.decide(0, 2, "share")
        if t == 60:
            sim.decide(0, 2, "strategy")

    silent = traffic(config, seed, 104)
    opened = traffic(config, seed, 104, decide)
    assert silent.sends == []
    assert opened.log[:19] == silent.log[:19]
    assert {s[1:3] for s in opened.sends} == {(0, 2)}
    weeks = [s[0] for s in opened.sends]
    assert min(weeks) >= 20 and max(weeks) < 60
    assert opened.sim.decisions == [Decision(20, 0, 2, "share"), Decision(60, 0, 2, "strategy")]
    assert opened.sim.metrics()["decisions"] == 2.0


def test_a_decision_to_share_is_the_always_strategy_stake_included():
    """C6 with C1 (MODEL.md: a decision to share is the strategy `always`, and the stake
    multiplies every strategy's willingness): at a stake of 0.5, a world whose nations all
    follow `never` but decide, before the first week, to share with every partner is the
    world whose nations all follow `always`, event for event; a decision that skipped the
    stake would make the non-targets send more."""
    config = small(**{"cooperation.stake": 0.5, "world.strategies": mix(never=1)})
    always = small(**{"cooperation.stake": 0.5, "world.strategies": mix(always=1)})
    seed = SEEDS[2]

    def share_all(sim: Simulation, t: int) -> None:
        if t == 1:
            for i in range(sim.world.n):
                for j in range(sim.world.n):
                    if i != j:
                        sim.decide(i, j, "share")

    decided = traffic(config, seed, 52, share_all)
    following = traffic(always, seed, 52)
    assert following.sends  # the comparison is not between two silent worlds
    assert decided.sends == following.sends
    assert decided.log == following.log


def test_a_refusal_to_extradite_grants_nothing_and_moves_no_draw():
    """C6 with step 6: when every nation decides, before the first week, to refuse every
    partner's requests, no extradition is granted where the law would have granted some;
    since the draw is made before the decision is read, the run's random numbers stay
    where they were: the plots spawned up to the first grant of the free run are the same.
    The decisions are kept with their week and counted."""
    config = small(**{"legal.harmonization": 1.0})
    seed = SEEDS[3]
    free = Simulation(config, np.random.default_rng(seed))
    free.run(104)
    refusing = Simulation(config, np.random.default_rng(seed))
    n = refusing.world.n
    made = [refusing.extradite(i, j, "refuse") for i in range(n) for j in range(n) if i != j]
    refusing.run(104)
    assert free.metrics()["extraditions_granted"] > 0
    assert refusing.metrics()["extraditions_granted"] == 0
    assert refusing.metrics()["extraditions_refused"] > free.metrics()["extraditions_refused"]
    asked = [k for k in range(free.plots.n) if free.plots.status[k] == DISRUPTED
             and free.plots.disrupter[k] != free.plots.base[k]]
    first = min(int(free.plots.resolved[k]) for k in asked)
    early = np.flatnonzero(free.plots.spawned[: free.plots.n] <= first)
    assert len(early) > 0
    assert (refusing.plots.base[early] == free.plots.base[early]).all()
    assert (refusing.plots.target[early] == free.plots.target[early]).all()
    assert all(d.decision == "refuse" and d.week == 1 for d in refusing.decisions)
    assert refusing.metrics()["decisions"] == float(len(made))
