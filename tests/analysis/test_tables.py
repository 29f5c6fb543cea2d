"""ctsim.analysis.tables: the havens table, the share of plots each nation hosts over
runs of the real world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ctsim.analysis.tables import haven_table
from ctsim.runs.runner import nations_table
from tests.test_data import COUNTRIES


def test_haven_shares_sum_to_one_in_every_run(world_runs):
    world, results = world_runs
    for r in results:
        total = r.plots_by_base.sum()
        assert total > 0
        table = haven_table(world, nations_table([r])).set_index("iso3")
        assert table["share"].sum() == pytest.approx(1.0)
        expected = pd.Series(r.plots_by_base / total, index=world.codes)
        assert np.allclose(table.loc[world.codes, "share"], expected)
        assert float((table["share"] ** 2).sum()) == pytest.approx(
            r.metrics["haven_concentration"])


def test_haven_table_is_the_mean_over_runs_largest_first(world_runs):
    world, results = world_runs
    table = haven_table(world, nations_table(results))
    assert len(table) == 194
    assert set(table["iso3"]) == {c.iso3 for c in COUNTRIES}
    assert table["share"].sum() == pytest.approx(1.0)
    shares = table["share"].to_numpy()
    assert (np.diff(shares) <= 0).all()
    for _, tied in table.groupby("share"):
        assert tied["nation"].tolist() == sorted(tied["nation"])
    counts = np.stack([r.plots_by_base for r in results])
    per_run = counts / counts.sum(axis=1, keepdims=True)
    by_code = table.set_index("iso3")
    assert np.allclose(by_code.loc[world.codes, "share"], per_run.mean(axis=0))
    assert np.allclose(by_code.loc[world.codes, "plots"], counts.mean(axis=0))
    assert (table["share_ci95_lo"] <= table["share"] + 1e-12).all()
    assert (table["share"] <= table["share_ci95_hi"] + 1e-12).all()
