"""ctsim.runs.columns: tables between NumPy columns and Arrow without pandas, the same
tables (and Parquet bytes) as pyarrow's own conversions."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ctsim.runs.columns import arrow_array, arrow_table, numpy_column, numpy_columns


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def random_columns(rng: np.random.Generator, n: int) -> dict:
    floats = rng.normal(size=n)
    floats[rng.random(n) < 0.2] = np.nan
    text = [None if rng.random() < 0.2 else "".join(rng.choice(list("ab,é"), size=3))
            for _ in range(n)]
    return {"run_id": np.arange(n, dtype=np.int64), "rate": floats,
            "ok": rng.random(n) < 0.5, "small": rng.integers(0, 200, n).astype(np.uint8),
            "single": rng.normal(size=n).astype(np.float32), "status": ["ok"] * n,
            "note": text, "metric": [float(v) for v in rng.random(n)],
            "count": [None if rng.random() < 0.3 else int(v) for v in rng.integers(0, 9, n)],
            "flag": [None if rng.random() < 0.3 else bool(v) for v in rng.random(n) < 0.5],
            "nothing": [None] * n}


@pytest.mark.parametrize("n", [0, 1, 9, 200])
def test_arrow_table_is_pyarrows_table_and_writes_the_same_parquet(n):
    columns = random_columns(np.random.default_rng(n), n)
    mine, theirs = arrow_table(columns), pa.table(columns)
    assert mine.schema.equals(theirs.schema)
    for name in columns:  # NaN is not equal to itself in Arrow's comparison: by bytes
        assert mine.column(name).null_count == theirs.column(name).null_count, name
    assert parquet(mine) == parquet(theirs)


@pytest.mark.parametrize("n", [0, 1, 9, 200])
def test_numpy_columns_give_back_what_pyarrow_gives(n):
    columns = random_columns(np.random.default_rng(n + 1), n)
    table = pq.read_table(io.BytesIO(parquet(pa.table(columns))))
    back = numpy_columns(table)
    assert list(back) == list(columns)
    for name in columns:
        theirs = table.column(name).to_numpy()
        mine = back[name]
        if theirs.dtype.kind in "iufb":
            assert mine.dtype == theirs.dtype, name
            assert np.array_equal(mine, theirs, equal_nan=theirs.dtype.kind == "f"), name
        else:  # text, or numbers with missing values: as objects, None where missing
            expected = [None if v is None or v != v else v for v in theirs.tolist()]
            assert [None if v is None or v != v else v for v in mine.tolist()] == expected


def test_a_sliced_and_chunked_column_is_read_from_its_own_rows():
    column = pa.chunked_array([pa.array(np.arange(10.0))[3:7], pa.array([1.5, None, 2.5])])
    assert np.array_equal(numpy_column(column), [3, 4, 5, 6, 1.5, np.nan, 2.5],
                          equal_nan=True)
    flags = pa.array(np.array([True, False, True, True, False]))[1:4]
    assert numpy_column(flags).tolist() == [False, True, True]


def test_a_column_of_unstorable_values_is_refused():
    with pytest.raises(TypeError, match="a column of int, str"):
        arrow_array(["text", 1])


def test_writing_and_reading_columns_imports_no_pandas():
    code = ("import io, sys, numpy as np, pyarrow.parquet as pq\n"
            "from ctsim.runs.columns import arrow_table, numpy_columns\n"
            "t = arrow_table({'a': np.arange(3), 'b': ['x', None, 'z'], 'c': [0.5, 1.0, 2]})\n"
            "buffer = io.BytesIO(); pq.write_table(t, buffer)\n"
            "numpy_columns(t.sort_by([('a', 'descending')]))\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
