"""Writing results to disk: files written whole, and a sweep's crash-safe store.

Files are written under a temporary name and renamed into place, so a reader never sees a
half-written file; they get the permissions the user's umask gives new files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctsim.errors import OutputError

if TYPE_CHECKING:
    import pandas as pd


def _umask_permissions() -> int:
    """The mode new files get under this process's umask (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_PERMISSIONS = _umask_permissions()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a synced temporary file in the same folder and a
    rename, so a reader (or a resumed sweep) sees the whole file or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _PERMISSIONS)  # mkstemp's 0600 would ignore the user's umask
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- one writer a folder


def lock_path(out: Path) -> Path:
    """The lock file of results folder ``out``: beside it, so that it survives the folder
    being replaced by its finished copy."""
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive right to write results folder ``out`` for the ``with`` block.

    Every command that writes a folder takes it before it checks or touches the folder. A
    second writer (another process, or this one) gets :class:`~ctsim.errors.OutputError`
    at once and the first goes on untouched. The lock is an advisory ``flock`` on a file
    beside the folder, so the system releases it when its holder dies, even by SIGKILL;
    the file is removed when the block ends.

    Raises:
        OutputError: another writer holds the folder, or the lock cannot be made there.
    """
    path = lock_path(out)
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{out}: cannot write there ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputError(f"{out}: another ctsim command (process {holder}) is writing "
                              "these results; wait for it to end or choose another --out"
                              ) from None
        # The holder before us may have removed the file after we opened it: then the
        # lock we hold is on a file nobody else sees, and we start again.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)  # closing releases the lock, after the file is gone


# ---------------------------------------------------------------- sweeps


#: The per-run tables a sweep may keep beside runs.parquet: part prefix -> merged file and
#: the columns its rows are ordered by within a run.
EXTRA_TABLES = {"ts": ("timeseries.parquet", "step"), "nat": ("nations.parquet", "nation")}


class SweepStore:
    """Crash-safe sweep results: Parquet part files in ``out/parts``, merged at the end.

    Each finished batch becomes ``ts-NNNNNN.parquet`` (weekly time series, when kept) and
    ``nat-NNNNNN.parquet`` (per-nation counts, when kept), then ``runs-NNNNNN.parquet``,
    each written to a temporary name and renamed, so a part is either whole or absent. A
    runs part is the record that its runs are done: another part without its runs part (a
    kill between the renames) is an orphan, removed on resume. Nothing else holds state,
    so a sweep killed at any moment resumes exactly.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.parts = self.out / "parts"

    def has_results(self) -> bool:
        """Whether the folder already holds parts or merged results."""
        return (self.out / "runs.parquet").exists() or any(self.parts.glob("runs-*.parquet"))

    def _runs_parts(self) -> list[Path]:
        return sorted(self.parts.glob("runs-*.parquet"))

    def prepare(self) -> None:
        """Create the folder; drop temporary files and orphaned parts."""
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        done = {p.name.removeprefix("runs-") for p in self._runs_parts()}
        for prefix in EXTRA_TABLES:
            for part in self.parts.glob(f"{prefix}-*.parquet"):
                if part.name.removeprefix(f"{prefix}-") not in done:
                    part.unlink()

    def done_ids(self) -> set[int]:
        """Run ids already stored."""
        import pyarrow.parquet as pq

        ids: set[int] = set()
        for part in self._runs_parts():
            ids.update(pq.read_table(part, columns=["run_id"]).column(0).to_pylist())
        return ids

    def _next_seq(self) -> int:
        seqs = [int(p.stem.split("-")[1]) for p in self._runs_parts()]
        return max(seqs, default=-1) + 1

    def write(self, rows: list[dict], extra: dict[str, list[dict]] | None = None) -> None:
        """Store one finished batch: its rows (any order) and, for each of
        :data:`EXTRA_TABLES` it kept, the runs' column arrays."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        seq = self._next_seq()
        name = f"{seq:06d}.parquet"
        for prefix, tables in (extra or {}).items():
            if tables:
                cols = {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}
                self._atomic_table(pa.table(cols), self.parts / f"{prefix}-{name}", pq)
        rows = sorted(rows, key=lambda r: r["run_id"])
        self._atomic_table(pa.Table.from_pylist(rows), self.parts / f"runs-{name}", pq)

    @staticmethod
    def _atomic_table(table, path: Path, pq) -> None:
        """Write a Parquet table with :func:`atomic_write`."""
        import io

        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        atomic_write(path, buffer.getvalue())

    def merge(self) -> tuple[pd.DataFrame, int]:
        """Write runs.parquet (rows by run id) and each kept per-run table.

        Returns the merged runs table and the number of time-series rows. Per-run tables
        are streamed part by part (parts hold disjoint, ordered ranges of run ids), so
        memory holds one part at a time.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [pq.read_table(p) for p in self._runs_parts()]
        if tables:
            merged = pa.concat_tables(tables, promote_options="permissive")
            merged = merged.sort_by([("run_id", "ascending")])
        else:
            merged = pa.table({})
        self._atomic_table(merged, self.out / "runs.parquet", pq)
        rows = {}
        for prefix, (filename, within) in EXTRA_TABLES.items():
            rows[prefix] = self._merge_parts(prefix, filename, within, pq)
        return merged.to_pandas(), rows["ts"]

    def _merge_parts(self, prefix: str, filename: str, within: str, pq) -> int:
        """Stream the ``prefix`` parts, in run-id order, into ``filename``; its row count."""
        parts = sorted(self.parts.glob(f"{prefix}-*.parquet"),
                       key=lambda p: pq.read_table(p, columns=["run_id"]).column(0)[0].as_py())
        n = 0
        if not parts:
            return n
        tmp = self.out / f".{filename}.tmp"
        writer = None
        try:
            for part in parts:
                table = pq.read_table(part).sort_by([("run_id", "ascending"),
                                                     (within, "ascending")])
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                n += table.num_rows
        finally:
            if writer is not None:
                writer.close()
        os.replace(tmp, self.out / filename)
        return n
