"""ctsim.runs.store: files written whole, and a sweep's crash-safe store of parts.

A file is written under a temporary name and renamed, so a reader sees all of it or none;
a sweep's batches become part files, a runs part last (the record that its runs are done),
and the parts merge into tables ordered by run id whatever order the batches came in. The
one-writer lock of a results folder is checked in tests/runs/test_lock.py, and whole
sweeps killed and resumed in tests/runs/test_sweep.py.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from ctsim.errors import OutputError
from ctsim.runs import store
from ctsim.runs.store import SweepStore, atomic_write


def batch(ids: list[int], weeks: int = 3) -> tuple[list[dict], dict[str, list[dict]]]:
    """The rows and weekly tables of a finished batch of runs ``ids`` (rows in any order)."""
    rows = [{"run_id": i, "status": "ok", "error": "", "plots": float(10 * i)}
            for i in reversed(ids)]
    ts = [{"run_id": np.full(weeks, i, np.int64), "step": np.arange(weeks),
           "plots": np.arange(weeks) * i} for i in ids]
    return rows, {"ts": ts}


# ---------------------------------------------------------------- whole files


def test_atomic_write_leaves_the_whole_file_with_the_umask_permissions(tmp_path):
    path = tmp_path / "sub" / "table.bin"
    atomic_write(path, b"first")
    atomic_write(path, b"second, longer")
    assert path.read_bytes() == b"second, longer"
    assert sorted(p.name for p in path.parent.iterdir()) == ["table.bin"]  # no temporaries
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "table.bin"
    atomic_write(path, b"old")

    def no_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", no_rename)
    with pytest.raises(OutputError, match="No space left on device") as info:
        atomic_write(path, b"new")  # a user's problem, said in one line
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.bin"]


# ---------------------------------------------------------------- a sweep's parts


def test_batches_stored_out_of_order_merge_by_run_id(tmp_path):
    out = tmp_path / "out"
    parts = SweepStore(out)
    assert not parts.has_results()
    parts.prepare()
    for ids in ([4, 5], [0, 1], [2, 3]):  # as a pool's workers may finish them
        parts.write(*batch(ids))
    assert parts.has_results()
    assert parts.done_ids() == set(range(6))
    assert sorted(p.name for p in parts.parts.glob("runs-*")) == [
        "runs-000000.parquet", "runs-000001.parquet", "runs-000002.parquet"]
    runs, ts_rows = parts.merge(keep=True)
    assert runs["run_id"].tolist() == list(range(6))
    assert runs["plots"].tolist() == [10.0 * i for i in range(6)]
    assert ts_rows == 6 * 3
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["run_id"].tolist() == [i for i in range(6) for _ in range(3)]
    assert ts["step"].tolist() == [0, 1, 2] * 6
    assert pd.read_parquet(out / "runs.parquet")["run_id"].tolist() == list(range(6))


def test_prepare_drops_temporaries_and_parts_whose_runs_part_is_missing(tmp_path):
    """A kill between a batch's renames leaves its weekly part without its runs part: the
    batch is not done, so its weekly part goes and its runs run again."""
    parts = SweepStore(tmp_path / "out")
    parts.prepare()
    parts.write(*batch([0, 1]))
    parts.write(*batch([2, 3]))
    (parts.parts / "runs-000001.parquet").unlink()  # killed before its runs part
    (parts.parts / ".runs-000002.parquet.x.tmp").write_bytes(b"half")
    parts.prepare()
    assert sorted(p.name for p in parts.parts.iterdir()) == [
        "runs-000000.parquet", "ts-000000.parquet"]
    assert parts.done_ids() == {0, 1}
    parts.write(*batch([2, 3]))  # the batch again, under the next free number
    assert parts.done_ids() == {0, 1, 2, 3}
    runs, ts_rows = parts.merge(keep=True)
    assert runs["run_id"].tolist() == [0, 1, 2, 3] and ts_rows == 12
