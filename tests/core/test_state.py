"""ctsim.core.state: the run's tables, sized for the run and grown between weeks.

A run's plot, fragment and mail tables start at the size the run is expected to need
(:func:`~ctsim.core.state.initial_rows`) and grow between weeks when one more week might
not fit (:func:`~ctsim.core.state.grow`, :func:`~ctsim.core.state.has_room`); the weekly
bound on spawned plots (:func:`~ctsim.core.state.spawn_bound`) is what makes "might not
fit" safe.
"""

from __future__ import annotations

import numpy as np
import pandas.testing as pd_testing
import pytest
from scipy import stats

from ctsim import CooperationModel
from ctsim.core import state
from ctsim.core.scenario import scenario_from_dict


def test_tables_grow_without_changing_the_run(small):
    """A run whose tables start tiny (and so grow many times) is the same run."""
    small["steps"] = 80
    small["threat"].update(plots_per_year=200, detection_rate=0.3)
    roomy = CooperationModel(scenario_from_dict(small), rng=4)
    tight = CooperationModel(scenario_from_dict(small), rng=4)
    tight.plots = state.new_plots(1, tight.setting.width)
    tight.fragments = state.new_fragments(1, tight.setting.width)
    tight.mail = state.new_mail(1)
    roomy.run()
    tight.run()
    assert tight.plots.group.shape[0] > 1 and tight.mail.due.shape[0] > 1
    pd_testing.assert_frame_equal(roomy.datacollector.get_model_vars_dataframe(),
                                  tight.datacollector.get_model_vars_dataframe())
    np.testing.assert_array_equal(roomy.trust, tight.trust)


def test_growing_keeps_every_row_and_makes_room_for_one_more_week(small):
    small["threat"].update(plots_per_year=200, detection_rate=0.3)
    model = CooperationModel(scenario_from_dict(small), rng=2)
    model.run(10)
    par, hubs = model.setting, len(model.static.latency)
    n = int(model.plots.count[0])
    assert n > 0
    full = model.plots._replace(**{  # a plot table with no room left
        k: v[:n] for k, v in zip(model.plots._fields, model.plots, strict=True)
        if k not in state.COUNT_FIELDS})
    assert not state.has_room(par, hubs, full, model.fragments, model.mail, model.tally)
    plots, frags, mail, tally = state.grow(par, hubs, full, model.fragments, model.mail,
                                           model.tally)
    assert state.has_room(par, hubs, plots, frags, mail, tally)
    assert plots.group.shape[0] >= max(2 * n, n + par.spawn_bound)
    for name in ("group", "base", "target", "foot", "lead", "status", "spawned"):
        np.testing.assert_array_equal(getattr(plots, name)[:n], getattr(full, name), name)
    assert (plots.foot[n:] == -1).all() and (plots.status[n:] == 0).all()
    assert frags is model.fragments and mail is model.mail  # what had room is kept


@pytest.mark.parametrize("weekly", [0.0, 0.5, 5.0, 50.0, 500.0])
def test_a_weeks_plots_exceed_the_spawn_bound_with_a_chance_below_1e_30(weekly):
    bound = state.spawn_bound(weekly)
    assert bound == int(np.ceil(weekly + 12 * np.sqrt(weekly) + 16))
    if weekly:
        assert stats.poisson.sf(bound, weekly) < 1e-30
        assert stats.poisson.sf(bound // 2, weekly) > 1e-30 or weekly < 1  # not far looser


def test_the_tables_start_with_room_for_the_expected_run(small):
    small.update(steps=104)
    small["threat"].update(plots_per_year=60)
    model = CooperationModel(scenario_from_dict(small), rng=3)
    start = model.plots.group.shape[0]
    model.run()
    assert model.plots.group.shape[0] == start  # a run as expected never grows its plots
    assert int(model.plots.count[0]) <= start
