"""Every output declared once (ctsim.core.outputs): the compiled state, the metrics, the
record, the CLI, the report, the figures and the page read their names, labels and
on-switches from the declarations, and "disrupted" means one thing everywhere."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ctsim.analysis import figures, layout, report
from ctsim.cli import HEADLINE
from ctsim.core import outputs, state
from ctsim.core.metrics import run_metrics
from ctsim.core.model import CooperationModel
from ctsim.core.scenario import scenario_from_dict
from ctsim.core.simulation import Simulation
from ctsim.teaching import sessions
from tests.conftest import SMALL


def _run(overrides: dict | None = None, steps: int = 78) -> Simulation:
    data = copy.deepcopy(SMALL)
    for key, value in (overrides or {}).items():
        section, name = key.split(".")
        data.setdefault(section, {})[name] = value
    sim = Simulation(scenario_from_dict(data), np.random.default_rng(11))
    sim.run(steps)
    return sim


def test_the_compiled_counts_are_the_declared_events_in_order():
    assert tuple(outputs.EVENTS) == state.COUNTED
    # the index constants are made from the declaration, one per event
    assert state.N_PLOTS == 0
    last = list(outputs.EVENTS)[-1]  # the last declared has the last index
    assert getattr(state, f"N_{last.upper()}") == len(outputs.EVENTS) - 1
    assert state.COUNTED[state.N_LEAKS] == "leaks"


def test_every_record_column_and_metric_is_declared_with_a_label_and_unit():
    for name in (*state.RECORDED, *outputs.METRICS):
        o = outputs.output(name)
        assert o is not None, name
        assert o.label and o.axis and o.unit in ("share", "count", "weeks", "index"), name


def test_run_metrics_gives_exactly_the_declared_metrics_in_order():
    sim = _run()
    assert list(run_metrics(sim)) == list(outputs.METRICS)


def test_disrupted_means_settled_plots_in_the_record_and_the_metrics():
    # the record's running "disrupted" at the end is the metric "disrupted" (settled
    # plots), and every disruption counted when it happens is at least as many
    sim = _run(steps=104)
    metrics = run_metrics(sim)
    last = sim.tally.record[sim.steps]
    assert last[state.RECORDED.index("disrupted")] == metrics["disrupted"]
    total = sim.counts.total
    assert total["disrupted"] == metrics["disrupted"]
    assert total["disruptions"] >= total["disrupted"]
    assert metrics["disrupted"] > 0


def test_a_name_declared_twice_is_refused():
    o = outputs.EVENTS["leaks"]
    with pytest.raises(ValueError, match="declared twice"):
        outputs._table([o, o])


def test_an_unknown_surface_is_refused():
    with pytest.raises(ValueError, match="unknown surfaces"):
        outputs.Output("x", "an x", "count", "x", shows=frozenset({"poster"}))


def test_a_count_says_its_unit_on_its_axis_and_a_rate_in_words():
    assert outputs.axis_of("asset_freezes") == "asset freezes (count)"
    assert outputs.axis_of("disruption_rate_domestic") == "disruption rate, domestic plots"
    assert outputs.axis_of("no_such_output") == "no such output"


def test_the_surfaces_read_the_declarations():
    assert tuple(n for n, m in outputs.METRICS.items() if "headline" in m.shows) == HEADLINE
    assert "disruption_rate" in HEADLINE and "mean_funds" not in HEADLINE
    assert report.REPORTED[0] == "disruption_rate"
    assert figures.CHANNEL_COLUMNS["asset_freezes"] == "asset freezes (B1)"
    assert layout.metric_label("leaks") == outputs.METRICS["leaks"].axis
    assert sessions.counter_labels() == [o.label for o in sessions.PAGE_COUNTERS]
    # one label per output: the page and the channel panel say the same words
    assert figures.CHANNEL_COLUMNS["treaties_formed"].startswith(
        outputs.EVENTS["treaties_formed"].label)


def test_the_page_shows_a_channel_counter_only_when_the_scenario_switches_it_on():
    plain = CooperationModel(scenario_from_dict(copy.deepcopy(SMALL)), rng=3)
    data = copy.deepcopy(SMALL)
    data["threat"]["financing_detection"] = 0.3
    financed = CooperationModel(scenario_from_dict(data), rng=3)
    for model in (plain, financed):
        model.run(10)
    plain_labels = [label for label, _ in sessions.page_counters(plain)]
    financed_labels = [label for label, _ in sessions.page_counters(financed)]
    assert "asset freezes" not in plain_labels
    assert "asset freezes" in financed_labels
    assert "leaks" in plain_labels and "plots active" in plain_labels
    counters = dict(sessions.page_counters(plain))
    assert counters["leaks"] == plain.counts.total["leaks"]
    assert counters["plots active"] == int(plain.plots.n_active[0])
