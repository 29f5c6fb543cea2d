"""The week's event log (ctsim.core.outputs.LOGGED): the phases write each event as it
happens, one row per counted event, and the narrator reads it."""

from __future__ import annotations

import copy
from collections import Counter

from ctsim.core import outputs, state
from ctsim.core.model import CooperationModel
from ctsim.core.scenario import scenario_from_dict
from ctsim.teaching import narrator
from tests.conftest import SMALL

#: Each logged kind and the counted event(s) it must match, week by week.
MATCHES = {("leak", "hub_leak"): "leaks", ("attack",): "attacks",
           ("refusal",): "extraditions_refused", ("move",): "relocations",
           ("shock",): "shocks"}


def _busy_model() -> CooperationModel:
    """A small world where every kind of event happens within two years."""
    data = copy.deepcopy(SMALL)
    data["steps"] = 104
    data["threat"].update(adaptive=True, relocation_rate=0.2, leak_rate=0.3,
                          plots_per_year=60)
    data["trust_dynamics"] = {"shock_rate": 0.1}
    data["world"]["blocs"] = 2
    return CooperationModel(scenario_from_dict(data), rng=7)


def test_the_log_kinds_are_the_declared_ones_with_index_constants():
    assert tuple(outputs.LOGGED) == state.LOGGED
    assert state.LOG_LEAK == 0 and state.LOGGED[state.LOG_SHOCK] == "shock"
    assert narrator.KINDS == state.LOGGED


def test_every_counted_event_has_its_row_in_the_log_each_week():
    model = _busy_model()
    seen: Counter[str] = Counter()
    for _ in range(104):
        model.step()
        kinds = Counter(e.kind for e in model.week_log)
        seen.update(kinds)
        week = model.counts.week
        for logged, counted in MATCHES.items():
            assert sum(kinds[k] for k in logged) == week[counted], (model.steps, counted)
    # the run is busy enough that the test checks every kind but joint disruptions'
    assert all(seen[k] > 0 for k in ("leak", "attack", "move", "shock")), seen


def test_a_leak_row_names_the_plot_and_the_trust_before_it():
    model = _busy_model()
    for _ in range(104):
        before = model.trust.copy()
        model.step()
        leaks = [e for e in model.week_log if e.kind == "leak"]
        if leaks:
            e = leaks[0]
            assert e.value == before[e.a, e.b]
            assert e.b in model.plots.foot[e.c, : model.plots.size[e.c]]
            assert (e.a, e.b) == model.week_leaks[0]
            return
    raise AssertionError("no leak in two years")


def test_the_narrator_tells_each_logged_event():
    model = _busy_model()
    told: Counter[str] = Counter()
    for _ in range(104):
        model.step()
        events = narrator.week_events(model)
        told.update(e.kind for e in events)
        logged = Counter(e.kind for e in model.week_log)
        for kind in ("leak", "hub_leak", "attack", "move", "shock"):
            assert sum(e.kind == kind for e in events) == logged[kind]
    assert told["shock"] > 0 and told["move"] > 0
