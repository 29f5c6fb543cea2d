"""What a second referee asks (MODEL.md, Version 3, section D): each mechanism moves what
its source says it moves, measured with paired seeds, and the measures of D11 say what
they claim.

Every comparison runs both sides on the same seeds (common random numbers) and asks the
95% Student-t interval of the paired differences to lie on the claimed side of zero
(tests/core/mechanism_contract.py); "within noise" asks the interval to hold zero. Where
the model makes two runs equal, the test asks for equality, plot for plot. Each
mechanism's contract (keys inert at their defaults, its scenario against its off-switch)
is checked in tests/core/test_mechanisms.py; the tests here go further. The worlds are
small and the runs short (two years, three for the slowest mechanisms): the file takes
about ten seconds on two cores.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import numpy as np
import pytest

from ctsim.core.metrics import settled
from ctsim.core.scenario import Scenario, load_scenario, scenario_from_dict
from ctsim.core.simulation import Simulation
from ctsim.core.state import ABORTED, ATTACKED, BILATERAL, DISRUPTED
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from tests.conftest import SCENARIOS
from tests.core.mechanism_contract import assert_moves, paired

RUNS = 16
SEEDS = tuple(replication_seeds(2026, RUNS))
#: Two years: long enough for groups' views, protection and havens to move.
WEEKS = 104


def scenario(name: str, overrides: tuple[tuple[str, Any], ...] = ()) -> Scenario:
    """Shipped scenario ``name`` (a path under scenarios/, no suffix) with dotted
    ``overrides``."""
    return load_scenario(SCENARIOS / f"{name}.yaml", dict(overrides) or None)


def metric(name: str, key: str, overrides: tuple[tuple[str, Any], ...] = (),
           steps: int = WEEKS, seeds: tuple[int, ...] = SEEDS) -> list[float]:
    """Metric ``key`` of one run of scenario ``name`` with ``overrides`` per seed."""
    return [m[key] for m in _metrics(name, json.dumps(overrides), steps, seeds)]


@cache
def _metrics(name: str, overrides: str, steps: int, seeds: tuple[int, ...]
             ) -> tuple[dict[str, float], ...]:
    config = scenario(name, tuple(tuple(pair) for pair in json.loads(overrides)))
    return tuple(run_one(config, s, steps, timeseries=False, nations=False).metrics
                 for s in seeds)


def contains_zero(diff: tuple[float, float, float], what: str) -> None:
    """Assert that a paired difference's 95% interval holds zero (no change within noise)."""
    mean, low, high = diff
    assert low <= 0.0 <= high, f"{what}: {mean:+.4g} [{low:+.4g}, {high:+.4g}] excludes zero"


def minus(a: list[float], b: list[float]) -> list[float]:
    """Run by run, ``a - b`` (both paired by seed)."""
    return [x - y for x, y in zip(a, b, strict=True)]


# ---------------------------------------------------------------- D1 defence deflects

#: Eight nations alike (capacity 0.6, one region, one bloc); plots of two nations (base and
#: target), no cooperation, groups that stay put, targets that ignore pre-emption (A2 off):
#: what moves a target here is D1 alone. Attacks fail with ``protection * capacity``.
DEFENCE_WORLD: dict[str, Any] = {
    "name": "defence_world",
    "steps": WEEKS,
    "world": {"nations": [{"name": f"N{i}", "capacity": 0.6, "region": "one", "bloc": "one"}
                          for i in range(8)]},
    "cooperation": {"regime": "none", "institutions": []},
    "threat": {"groups": 8, "plots_per_year": 24, "adaptive": False,
               "footprint": {"min": 2, "max": 2}, "protection": 0.1, "memory": 0.2,
               "surge": 0.0},
}


def _defended_runs(adaptation: float, hardened: bool) -> list[Simulation]:
    """One run of :data:`DEFENCE_WORLD` per seed, groups deflected by defence at
    ``adaptation``; with ``hardened``, nation N0's protection is 0.9 instead of 0.1.

    The schema has one protection for every nation (``threat.protection``); D1 makes it a
    nation's own during a run (``Relations.protection``, which ``protection_response``
    moves once a year). Raising one state's protection is therefore done on the live array
    before the first week, as a government's decision between weeks would be."""
    config = scenario_from_dict({**DEFENCE_WORLD, "threat": {
        **DEFENCE_WORLD["threat"], "defence_adaptation": adaptation}})
    out = []
    for seed in SEEDS:
        sim = Simulation(config, np.random.default_rng(seed))
        if hardened:
            sim.relations.protection[0] = 0.9
        sim.run(WEEKS)
        out.append(sim)
    return out


def _attacks_on_others(sims: list[Simulation]) -> list[float]:
    """Per run, the settled attacks (completed or failed) aimed at nations other than N0."""
    out = []
    for sim in sims:
        p, ids = sim.plots, settled(sim)
        out.append(float(((p.status[ids] == ATTACKED) & (p.target[ids] != 0)).sum()))
    return out


def test_hardening_one_state_deflects_attacks_to_the_others_only_when_defence_deflects():
    """D1 (Sandler & Lapan 1988; Enders & Sandler 1993, 2006): raising one state's
    protection from 0.1 to 0.9 makes attacks on it fail more often; with defence
    adaptation (a_D = 3) the groups see the failures and aim more plots at the other
    states, whose attacks rise. Without it nothing but the failures changes: the same
    plots, targets and fates, plot for plot."""
    soft = _attacks_on_others(_defended_runs(3.0, False))
    firm = _attacks_on_others(_defended_runs(3.0, True))
    assert_moves(paired(firm, soft), +1, "attacks on the others, N0 hardened minus not")

    plain, hardened = _defended_runs(0.0, False), _defended_runs(0.0, True)
    for a, b in zip(plain, hardened, strict=True):
        n = a.plots.n
        assert n == b.plots.n
        for field in ("target", "base", "status", "resolved"):
            assert np.array_equal(getattr(a.plots, field)[:n], getattr(b.plots, field)[:n])
    failed = [float(s.plots.failed[:s.plots.n].sum()) for s in hardened]
    assert_moves(paired(failed, [float(s.plots.failed[:s.plots.n].sum()) for s in plain]),
                 +1, "failed attacks without adaptation, hardened minus not")


# ---------------------------------------------------------------- D2 admissibility

#: Legal discrepancy without delay: the legal families far apart and low treaty and hub
#: floors (compatibility, hence admissibility and extradition, fall), with the delay of
#: bilateral deliveries at 0 on both sides so that admissibility is all that differs.
NO_DELAY = (("legal.mlat_delay", 0),)
DISCREPANCY = (("legal.cross_family", 0.1), ("legal.treaty_floor", 0.2),
               ("cooperation.institutions", [
                   {"name": "global_hub", "members": "all", "latency": 1,
                    "harmonization": 0.1, "trust": 0.6},
                   {"name": "north_hub", "members": {"region": "north"}, "latency": 0,
                    "harmonization": 0.2, "trust": 0.75},
                   {"name": "south_hub", "members": {"region": "south"}, "latency": 0,
                    "harmonization": 0.2, "trust": 0.75}]))


def _legal(gate: str, key: str) -> tuple[float, float, float]:
    """Paired difference of ``key``, legal discrepancy minus none, under ``gate``."""
    g = (*NO_DELAY, ("legal.admissibility_gates", gate))
    return paired(metric("baseline", key, (*g, *DISCREPANCY)), metric("baseline", key, g))


def test_under_prosecution_gating_a_legal_discrepancy_costs_convictions_not_disruptions():
    """D2 (admissibility decides prosecution, not disruption): where admissibility gates
    disruption, the discrepancy lowers the disruption rate; where it gates prosecution, the
    disruption rate stays within noise (and moves less than a third as far), while
    convictions and granted extraditions fall and acquittals rise."""
    gated = _legal("disruption", "disruption_rate")
    assert_moves(gated, -1, "disruption rate under disruption gating")
    prosecuted = _legal("prosecution", "disruption_rate")
    contains_zero(prosecuted, "disruption rate under prosecution gating")
    assert abs(prosecuted[0]) < abs(gated[0]) / 3
    assert_moves(_legal("prosecution", "convictions"), -1, "convictions")
    assert_moves(_legal("prosecution", "acquittals"), +1, "acquittals")
    assert_moves(_legal("prosecution", "extraditions_granted"), -1, "extraditions granted")


# ---------------------------------------------------------------- D3 liaison

#: Three nations of one family and definition (compatibility 1: no delay), sovereignty 0,
#: full capacity and security, no leaks; every plot passes through A, B and C; trust moves
#: only when the test sets it (no learning, reversion, shocks or surge). A and C have a
#: treaty, A and B none.
LIAISON_WORLD: dict[str, Any] = {
    "name": "liaison_world",
    "steps": 52,
    "world": {"nations": [{"name": n, "capacity": 1.0, "sovereignty": 0.0, "security": 1.0,
                           "definition": 0.5, "legal_family": "civil", "region": "one",
                           "bloc": "one"} for n in "ABC"]},
    "relations": {"trust": 0.7, "tension": 0.0, "treaties": [["A", "C"]]},
    "cooperation": {"regime": "bilateral", "institutions": [], "liaison": "trust",
                    "liaison_trust": 0.5},
    "trust_dynamics": {"learning_rate": 0.0, "reversion": 0.0, "leak_penalty": 0.0},
    "threat": {"groups": 4, "plots_per_year": 30, "adaptive": False,
               "footprint": ["A", "B", "C"], "detection_rate": 0.3, "leak_rate": 0.0,
               "surge": 0.0},
}


def _bilateral_sends(config: Scenario, seed: int, weeks: int,
                     before: dict[int, dict[tuple[int, int], float]]) -> dict[tuple, int]:
    """Bilateral fragments sent per (sender, receiver, half of the run), the run stepped a
    week at a time; ``before[t]`` sets trust between nations ahead of week ``t``. A
    fragment is shared only in the week it is collected, so a week's sends are the
    deliveries (in flight or arrived at once) whose fragment is new that week."""
    sim = Simulation(config, np.random.default_rng(seed))
    sent: dict[tuple, int] = {}
    for t in range(1, weeks + 1):
        for pair, trust in before.get(t, {}).items():
            sim.relations.trust[pair] = trust
        sim.run(t)
        mail, frags, plots = sim.mail, sim.fragments, sim.plots
        rows = [(mail.frag[d], mail.via[d], mail.to[d]) for d in range(mail.count[0])]
        rows += [(mail.arrived_frag[a], mail.arrived_via[a], mail.arrived_to[a])
                 for a in range(mail.n_arrived[0])]
        for f, via, to in rows:
            if f >= frags.first_new[0] and via == BILATERAL:
                key = (int(frags.nation[f]), int(plots.foot[frags.plot[f], to]),
                       t > weeks // 2)
                sent[key] = sent.get(key, 0) + 1
    return sent


def test_under_liaison_by_trust_a_channel_opens_and_closes_with_trust_treaty_or_not():
    """D3 (liaison apart from treaties; Aldrich 2004, Walsh 2010): under ``liaison: trust``
    A sends to B (no treaty) while it trusts B at 0.7 and stops the week its trust falls to
    0.3; it sends nothing to C (a treaty partner) while it trusts C at 0.4, and starts once
    its trust reaches 0.6. Under ``liaison: treaties`` A sends to C all along and never to
    B."""
    a, b, c = 0, 1, 2
    by_trust = scenario_from_dict(LIAISON_WORLD)
    sent = _bilateral_sends(by_trust, 3, 52, {1: {(a, c): 0.4},
                                             27: {(a, b): 0.3, (a, c): 0.6}})
    assert sent.get((a, b, False), 0) >= 5 and sent.get((a, b, True), 0) == 0
    assert sent.get((a, c, False), 0) == 0 and sent.get((a, c, True), 0) >= 5
    assert sent.get((b, a, True), 0) >= 5  # B's trust in A never changed
    world = copy.deepcopy(LIAISON_WORLD)
    world["cooperation"]["liaison"] = "treaties"
    sent = _bilateral_sends(scenario_from_dict(world), 3, 52,
                            {1: {(a, c): 0.4}, 27: {(a, b): 0.3, (a, c): 0.6}})
    assert sent.get((a, c, False), 0) >= 5 and sent.get((a, c, True), 0) >= 5
    assert not any(sent.get((a, b, half), 0) for half in (False, True))


def test_under_liaison_by_trust_the_world_loses_less_without_interpol():
    """D3: in the world scenario two states without a treaty cannot exchange intelligence
    under ``liaison: treaties``, which inflates the value of a hub that connects them. Under
    ``liaison: trust`` the disruption rate still falls without INTERPOL, but by less."""
    def gain(liaison: str) -> list[float]:
        li = (("cooperation.liaison", liaison),)
        return minus(metric("world/world", "disruption_rate", li, seeds=SEEDS[:10]),
                     metric("world/world_no_interpol", "disruption_rate", li,
                            seeds=SEEDS[:10]))

    by_treaty, by_trust = gain("treaties"), gain("trust")
    assert_moves(paired(by_trust, [0.0] * len(by_trust)), +1, "INTERPOL's gain, liaison "
                 "by trust")
    assert_moves(paired(by_trust, by_treaty), -1, "INTERPOL's gain, trust minus treaties")


# ---------------------------------------------------------------- D4 police hubs


def test_a_hub_without_fusion_carries_nothing_and_its_notices_double_border_checks():
    """D4: a hub without fusion is a forum for sharing: the baseline with every hub
    ``fusion: false`` is the baseline with every hub ``kind: forum``, plot for plot. With
    border screening, a police hub's notices raise the fragments found at borders."""
    hubs = scenario("baseline").cooperation.institutions

    def every_hub(**change: Any) -> tuple[tuple[str, Any], ...]:
        return (("cooperation.institutions",
                 [{**h.model_dump(mode="json"), **change} for h in hubs]),)

    no_fusion = every_hub(fusion=False)
    as_forum = _metrics("baseline", json.dumps(every_hub(kind="forum")), WEEKS, SEEDS[:4])
    assert (json.dumps(_metrics("baseline", json.dumps(no_fusion), WEEKS, SEEDS[:4]))
            == json.dumps(as_forum))
    assert all(m["shared_institutional"] == 0 for m in as_forum)
    assert any(v > 0 for v in metric("baseline", "shared_institutional", seeds=SEEDS[:4]))
    assert_moves(paired(metric("police_hub", "fragments_border"),
                        metric("police_hub", "fragments_border",
                               (("cooperation.institutions.0.notices", False),))),
                 +1, "border fragments with notices minus without")


# ---------------------------------------------------------------- D5 exposure aversion

#: A leaky world (security 0.5, leak rate 0.3) where every hub member may read a post
#: (exposure 0.3): a global hub of 30 members and two regional hubs of about 8.
LEAKY = (("threat.leak_rate", 0.3), ("world.security", {"mean": 0.5, "spread": 0.15}),
         ("cooperation.hub_exposure", 0.3))


def _sensitivity_by_channel(aversion: float) -> np.ndarray:
    """Per run (ten seeds, two years), the mean sensitivity of the fragments sent
    bilaterally, posted to the global hub, and posted to the regional hubs (the rows of the
    run's deliveries, read a week at a time as they are sent)."""
    config = scenario("baseline", (*LEAKY, ("cooperation.exposure_aversion", aversion)))
    out = []
    for seed in SEEDS[:10]:
        sim = Simulation(config, np.random.default_rng(seed))
        by = {"bilateral": [], "global": [], "regional": []}
        for t in range(1, WEEKS + 1):
            sim.run(t)
            mail, frags = sim.mail, sim.fragments
            rows = [(mail.frag[d], mail.via[d]) for d in range(mail.count[0])]
            rows += [(mail.arrived_frag[a], mail.arrived_via[a])
                     for a in range(mail.n_arrived[0])]
            for f, via in rows:
                if f >= frags.first_new[0]:
                    channel = ("bilateral" if via < 0 else "global" if via == 0
                               else "regional")
                    by[channel].append(frags.sensitivity[f])
        out.append([np.mean(by[c]) for c in ("bilateral", "global", "regional")])
    return np.array(out)


def test_exposure_aversion_keeps_sensitive_fragments_out_of_hubs_the_more_the_larger():
    """D5 (Aldrich 2004): with aversion (k = 2) the fragments posted to a hub are less
    sensitive than those sent bilaterally, and those posted to the global hub (30 members,
    more readers who would leak) less sensitive than those posted to a regional hub.
    Without aversion the channels carry fragments of the same mean sensitivity, within
    noise."""
    averse, plain = _sensitivity_by_channel(2.0), _sensitivity_by_channel(0.0)
    bilateral, global_, regional = averse.T
    assert_moves(paired(regional, bilateral), -1, "regional posts minus bilateral sends")
    assert_moves(paired(global_, regional), -1, "global posts minus regional posts")
    contains_zero(paired(plain[:, 1], plain[:, 0]), "without aversion, global minus bilateral")
    contains_zero(paired(plain[:, 2], plain[:, 0]),
                  "without aversion, regional minus bilateral")


#: Seeds of the world runs behind the hub's value under exposure: its changes are a few
#: thousandths, so these comparisons take thirty pairs.
WORLD_SEEDS = tuple(replication_seeds(2027, 30))


def _interpol_effect(exposure: float, aversion: float, seeds: tuple[int, ...] = SEEDS[:10]
                     ) -> list[float]:
    """Per run (three years), the world's disruption rate without INTERPOL minus with
    it."""
    ov = (("cooperation.hub_exposure", exposure), ("cooperation.exposure_aversion", aversion))
    return minus(metric("world/world_no_interpol", "disruption_rate", ov, 156, seeds),
                 metric("world/world", "disruption_rate", ov, 156, seeds))


def test_exposure_aversion_shrinks_the_cost_of_an_exposed_hub():
    """D5: without aversion, removing INTERPOL lowers the world's disruption rate at
    exposure 0 and raises it at exposure 0.6 (exposure turns the hub into a liability: the
    flip the referee found). With aversion (k = 4) states keep their sensitive material out
    of the exposed hub, and at exposure 0.6 removing it gains much less than without."""
    zero = [0.0] * 10
    assert_moves(paired(_interpol_effect(0.0, 0.0), zero), -1, "removal, no exposure")
    assert_moves(paired(_interpol_effect(0.6, 0.0), zero), +1, "removal, exposure 0.6")
    assert_moves(paired(_interpol_effect(0.6, 4.0), _interpol_effect(0.6, 0.0)), -1,
                 "removal at exposure 0.6, with aversion minus without")


@pytest.mark.xfail(strict=True, reason=(
    "MODEL.md D5 expects that with exposure aversion removing a hub is no longer a gain as "
    "exposure rises; in the world scenario it still is, a little: these thirty paired "
    "three-year runs give +0.004 [+0.0005, +0.008] at exposure 0.6 with k = 4 (+0.054 "
    "without aversion; +0.0035 [-0.0006, +0.008] with k = 8). The aversion weighs a post "
    "by its sensitivity, but a leaked post alerts its plot whatever the sensitivity, so the "
    "low-sensitivity posts a state still makes keep costing plots"))
def test_with_exposure_aversion_removing_interpol_is_never_a_gain():
    """D5: with aversion (k = 4), removing INTERPOL does not raise the world's disruption
    rate at exposure 0.3 or 0.6: the interval of the paired difference does not lie above
    zero."""
    zero = [0.0] * len(WORLD_SEEDS)
    for exposure in (0.3, 0.6):
        mean, low, high = paired(_interpol_effect(exposure, 4.0, WORLD_SEEDS), zero)
        assert low <= 0.0, (f"with aversion, removing INTERPOL at exposure {exposure} "
                            f"gains {mean:+.4f} [{low:+.4f}, {high:+.4f}]")


# ---------------------------------------------------------------- D6 what a leak does


def _fragments_lost(scaling: str, sensitivity: float) -> list[float]:
    """Per run, the fragments collected without source loss minus with it (0.8), in a
    leaky baseline where sovereignty is 0 (so sensitivity enters nothing but the loss)."""
    common = (("world.sovereignty", {"mean": 0.0, "spread": 0.0}), *LEAKY[:2],
              ("threat.sensitivity", sensitivity), ("threat.source_loss_scaling", scaling))
    counts = {}
    for loss in (0.0, 0.8):
        config = scenario("baseline", (*common, ("threat.source_loss", loss)))
        counts[loss] = [float(run_one(config, s, WEEKS, timeseries=False, keep_model=True)
                              .model.counts.total["fragments"]) for s in SEEDS[:12]]
    return minus(counts[0.0], counts[0.8])


def test_sensitivity_scaled_source_loss_makes_a_routine_leak_cost_less():
    """D6 (Lefebvre 2003): under ``sensitivity`` scaling a leak of fragments of
    sensitivity 0.2 burns less detection than a leak of fragments of sensitivity 0.9; under
    ``flat`` the two cost the same, run for run (sensitivity enters nothing else here)."""
    assert_moves(paired(_fragments_lost("sensitivity", 0.2),
                        _fragments_lost("sensitivity", 0.9)), -1,
                 "fragments lost, sensitivity 0.2 minus 0.9")
    assert _fragments_lost("flat", 0.2) == _fragments_lost("flat", 0.9)


def test_an_abandoned_plot_is_neither_attack_nor_disruption():
    """D6: under ``alert_effect: abort`` every alerted plot is abandoned, counted in
    ``plots_aborted`` and left out of the settled plots behind every rate; under
    ``accelerate`` no plot is abandoned, and a plot alerted early attacks sooner than any
    plot's drawn lead time allows (8 weeks), which never happens under ``reset``."""
    sim = run_one(scenario("leak_effects"), SEEDS[0], WEEKS, timeseries=False,
                  keep_model=True).model
    p = sim.plots
    aborted = p.status[:p.n] == ABORTED
    assert aborted.sum() == sim.counts.total["plots_aborted"] > 0
    assert (p.epoch[:p.n][aborted] > 0).all()  # only an alert abandons a plot
    ids = settled(sim)
    assert not (p.status[ids] == ABORTED).any()
    m = sim.metrics()
    assert m["disrupted"] + m["attacks"] == len(ids)
    for effect, early in (("accelerate", True), ("reset", False)):
        sim = run_one(scenario("leak_effects", (("threat.alert_effect", effect),)),
                      SEEDS[0], WEEKS, timeseries=False, keep_model=True).model
        p = sim.plots
        assert sim.counts.total["plots_aborted"] == 0
        alerted = p.epoch[:p.n] > 0
        assert alerted.sum() > 20
        assert bool((p.lead[:p.n][alerted] < 8).any()) is early, effect


# ---------------------------------------------------------------- D7 tip-offs


def test_tipoffs_lower_the_disruption_rate_and_make_interdiction_success_matter_more():
    """D7: when a failed arrest may alert the cell (0.5 a failure), the disruption rate
    falls, and raising interdiction success from 0.4 to 0.9 gains more than it does when
    a failure costs nothing (then the service simply tries again next week)."""
    def rate(tipoff: float, interdiction: float) -> list[float]:
        return metric("baseline", "disruption_rate", (("threat.tipoff", tipoff),
                                                      ("threat.interdiction", interdiction)))

    assert_moves(paired(rate(0.5, 0.8), rate(0.0, 0.8)), -1, "disruption rate, tip-offs")
    gain_tipped = minus(rate(0.5, 0.9), rate(0.5, 0.4))
    gain_plain = minus(rate(0.0, 0.9), rate(0.0, 0.4))
    assert_moves(paired(gain_tipped, gain_plain), +1, "gain from interdiction success, "
                 "tip-offs minus none")


# ---------------------------------------------------------------- D8 judicare


def test_judicare_lowers_haven_concentration_where_groups_seek_havens():
    """D8 (aut dedere aut judicare): a base that prosecutes the plotters it refuses to
    extradite is no haven, so adaptive groups gather less in the states that refuse: the
    haven concentration falls with judicare 1 against 0. Groups that stay put are hardly
    moved (the prosecutions only weaken them), less than adaptive ones."""
    def change(adaptive: bool) -> list[float]:
        a = (("threat.adaptive", adaptive),)
        return minus(metric("baseline", "haven_concentration", (*a, ("legal.judicare", 1.0))),
                     metric("baseline", "haven_concentration", a))

    adaptive, staying = change(True), change(False)
    assert_moves(paired(adaptive, [0.0] * RUNS), -1, "haven concentration, adaptive groups")
    assert_moves(paired(adaptive, staying), -1, "adaptive minus staying groups")


# ---------------------------------------------------------------- D9 reach

#: A few nations with reach (a Beta of mean 0.1 and spread 0.25: most near 0, two or three
#: near 1) and a small collection rate, in the world where most plots are domestic.
REACH = (("world.reach", {"mean": 0.1, "spread": 0.25}), ("threat.reach_rate", 0.02))


@pytest.mark.parametrize("regime", ["hybrid", "multilateral"])
def test_reach_raises_the_foreign_share_and_the_domestic_disruption_rate(regime):
    """D9: intelligence found outside a plot's footprint reaches the footprint through the
    finder's channels: more disruptions use a foreign fragment, and domestic plots, which
    no other state could help before, are stopped more often."""
    r = (("cooperation.regime", regime),)
    for key in ("foreign_share", "disruption_rate_domestic"):
        assert_moves(paired(metric("domestic_plots", key, (*r, *REACH)),
                            metric("domestic_plots", key, r)), +1, f"{key}, {regime}")


def test_reach_changes_nothing_without_cooperation():
    """D9: under regime ``none`` a fragment found abroad stays with its finder, who is not
    in the footprint and cannot act: every plot has the same target, fate and week as
    without reach, and every metric but ``fragments_reach`` is the same."""
    none = (("cooperation.regime", "none"),)
    for seed in SEEDS[:6]:
        a = run_one(scenario("domestic_plots", (*none, *REACH)), seed, WEEKS,
                    timeseries=False, keep_model=True)
        b = run_one(scenario("domestic_plots", none), seed, WEEKS, timeseries=False,
                    keep_model=True)
        pa, pb = a.model.plots, b.model.plots
        assert pa.n == pb.n
        for field in ("base", "target", "size", "lead", "status", "resolved", "disrupter"):
            assert np.array_equal(getattr(pa, field)[:pa.n], getattr(pb, field)[:pb.n])
        assert a.metrics["fragments_reach"] > 0 == b.metrics["fragments_reach"]
        changed = {k for k in a.metrics
                   if json.dumps(a.metrics[k]) != json.dumps(b.metrics[k])}
        assert changed == {"fragments_reach"}


def test_a_directed_plot_is_domestic_and_its_handler_never_arrests():
    """D9: a plot directed from abroad has its handler in its footprint, collecting, but
    its target is its base (it counts as domestic) and its handler never disrupts it."""
    sim = run_one(scenario("reach"), SEEDS[1], WEEKS, timeseries=False,
                  keep_model=True).model
    p = sim.plots
    k = np.flatnonzero(p.handler[:p.n] >= 0)
    assert len(k) > 20
    assert (p.handler[k] == 1).all() and (p.size[k] == 2).all()
    assert (p.target[k] == p.base[k]).all()
    stopped = k[p.status[k] == DISRUPTED]
    assert len(stopped) > 0
    assert (p.disrupter[stopped] == p.base[stopped]).all()


# ---------------------------------------------------------------- D10 plot modes


def test_with_mode_adaptation_cooperation_moves_groups_to_simple_plots():
    """D10 (Enders & Sandler 1993, 2004): with a fifth of the plots simple at first and
    mode adaptation b = 4, better cooperation (regime hybrid against none; three years)
    raises the share of simple plots among attacks and lowers total attacks by less than
    complex ones: simple attacks rise as groups substitute. Without adaptation (b = 0)
    simple attacks do not rise as much."""
    def attacks(key: str, b: float, regime: str) -> list[float]:
        return metric("baseline", key, (("threat.simple_share", 0.2),
                                        ("threat.mode_adaptation", b),
                                        ("cooperation.regime", regime)), 156)

    assert_moves(paired(attacks("simple_attack_share", 4.0, "hybrid"),
                        attacks("simple_attack_share", 4.0, "none")), +1,
                 "simple share of attacks, hybrid minus none")
    fall_total = minus(attacks("attacks", 4.0, "none"), attacks("attacks", 4.0, "hybrid"))
    fall_complex = minus(attacks("attacks_complex", 4.0, "none"),
                         attacks("attacks_complex", 4.0, "hybrid"))
    assert_moves(paired(fall_complex, [0.0] * RUNS), +1, "fall in complex attacks")
    assert_moves(paired(fall_total, fall_complex), -1, "fall in attacks minus complex")
    rise = {b: minus(attacks("attacks_simple", b, "hybrid"), attacks("attacks_simple", b,
                                                                      "none"))
            for b in (0.0, 4.0)}
    assert_moves(paired(rise[4.0], rise[0.0]), +1, "rise in simple attacks, b 4 minus 0")


# ---------------------------------------------------------------- D11 observed measures

#: Scenarios whose runs the measures of D11 are checked on, and those of them whose plots
#: are all transnational (``threat.transnational`` 1; a simple plot has base and target).
OBSERVED = ("baseline", "domestic_plots", "reach", "plot_modes", "leak_effects",
            "prosecution_gate")
ALL_TRANSNATIONAL = ("baseline", "plot_modes", "leak_effects", "prosecution_gate")


@pytest.mark.parametrize("name", OBSERVED)
def test_the_observed_measures_say_what_they_claim(name):
    """D11: a disruption whose first fragment came from abroad used foreign intelligence,
    so ``foreign_first_share`` never exceeds ``foreign_share``; the transnational share of
    attacks and the execution ratio are the counts of A1's split by kind; without domestic
    plots every attack is transnational."""
    for m in _metrics(name, "[]", WEEKS, SEEDS[:4]):
        assert 0.0 <= m["foreign_first_share"] <= m["foreign_share"] <= 1.0
        assert m["transnational_attack_share"] == pytest.approx(
            m["attacks_transnational"] / m["attacks"])
        domestic = m["attacks_domestic"] + m["disrupted_domestic"]
        assert (domestic == 0) == (name in ALL_TRANSNATIONAL)
        trans = m["attacks_transnational"] / (m["attacks_transnational"]
                                              + m["disrupted_transnational"])
        if domestic == 0:  # every plot transnational (threat.transnational 1)
            assert m["transnational_attack_share"] == 1.0
            assert m["execution_ratio"] != m["execution_ratio"]  # NaN
        else:
            assert m["execution_ratio"] == pytest.approx(
                m["attacks_domestic"] / domestic / trans)


def test_the_simple_execution_ratio_is_the_ratio_of_the_modes_execution_rates():
    """D11: ``execution_ratio_simple`` is attacks per settled simple plot over attacks per
    settled complex plot; in plot_modes simple plots are harder to find and quicker to
    strike, so they are carried out more often than complex ones (a ratio above 1)."""
    for m in _metrics("plot_modes", "[]", WEEKS, SEEDS[:4]):
        simple = m["attacks_simple"] / (m["attacks_simple"] + _disrupted(m, "simple"))
        complex_ = m["attacks_complex"] / (m["attacks_complex"] + _disrupted(m, "complex"))
        assert m["execution_ratio_simple"] == pytest.approx(simple / complex_)
        assert m["execution_ratio_simple"] > 1.0


def _disrupted(m: dict, mode: str) -> float:
    """The settled plots of ``mode`` that were disrupted, from its rate and its attacks."""
    rate, attacks = m[f"disruption_rate_{mode}"], m[f"attacks_{mode}"]
    return rate * attacks / (1.0 - rate)


def test_nothing_is_first_found_abroad_without_cooperation():
    """D11: under regime ``none`` no fragment crosses a border, so no disruption's first
    fragment came from another state; with cooperation some do, and fewer than used any
    foreign fragment."""
    none = metric("baseline", "foreign_first_share", (("cooperation.regime", "none"),),
                  seeds=SEEDS[:4])
    assert all(v == 0.0 for v in none)
    first = metric("baseline", "foreign_first_share", seeds=SEEDS[:4])
    used = metric("baseline", "foreign_share", seeds=SEEDS[:4])
    assert all(0.0 < f < u for f, u in zip(first, used, strict=True))
