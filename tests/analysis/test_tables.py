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


# ---------------------------------------------------------------- CSV text without pandas


def test_csv_text_is_what_pandas_writes_for_every_kind_of_column():
    from ctsim.analysis.tables import csv_bytes

    columns = {
        "nation": ["Ruritania", "Bordu, ria", 'say "no"', "two\nlines", "", "Élan"],
        "count": np.array([0, -3, 2**62, 7, 1, 12], np.int64),
        "share": np.array([0.1234567, np.nan, -0.0, np.inf, 1e-300, 123456789.0]),
        "ok": np.array([True, False, True, True, False, False]),
        "small": np.arange(6, dtype=np.uint8),
        "mixed, name": [0.5, 1.0, 2.0, float("nan"), 3.25, 4.0],
    }
    expected = pd.DataFrame(columns).to_csv(index=False, float_format="%.6g").encode()
    assert csv_bytes(columns) == expected
    assert csv_bytes(columns, "%.3f") == pd.DataFrame(columns).to_csv(
        index=False, float_format="%.3f").encode()


def test_csv_text_of_random_tables_is_what_pandas_writes():
    from ctsim.analysis.tables import csv_bytes

    rng = np.random.default_rng(11)
    letters = list('ab, "\n\r;é\t')
    for n in (0, 1, 7, 40):
        values = rng.normal(size=n) * 10.0 ** rng.integers(-9, 9, size=n)
        values[rng.random(n) < 0.2] = np.nan
        columns = {"x": values, "k": rng.integers(-99, 99, size=n),
                   "t": ["".join(rng.choice(letters, size=rng.integers(0, 5))) for _ in range(n)]}
        assert csv_bytes(columns) == pd.DataFrame(columns).to_csv(
            index=False, float_format="%.6g").encode(), n


def test_haven_columns_are_the_haven_table(world_runs):
    from ctsim.analysis.tables import HAVEN_COLUMNS, haven_columns

    world, results = world_runs
    nations = nations_table(results)
    columns = haven_columns(world, {k: nations[k].to_numpy() for k in nations.columns})
    assert tuple(columns) == HAVEN_COLUMNS
    table = haven_table(world, nations)
    pd.testing.assert_frame_equal(pd.DataFrame(columns), table)
    # the rows of the nations table may come in any order
    shuffled = nations.sample(frac=1.0, random_state=2)
    pd.testing.assert_frame_equal(haven_table(world, shuffled), table)
