"""Writing results to disk: output places checked first, one writer a folder, files
written whole, and a sweep's crash-safe store.

An output place (``--out``, ``--copy``) is checked before any work, creating nothing
(:func:`check_place`); the folder is locked for its one writer (:func:`folder_lock`).
Files are written under a temporary name and renamed into place, so a reader never sees a
half-written file; they get the permissions the user's umask gives new files. A place
that cannot take them (a full disk, a quota, a read-only file system) is one
:class:`~ctsim.errors.OutputError` naming the folder (:func:`atomic_write`,
:func:`writing`), not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctsim.errors import OutputError, ResultsError
from ctsim.writing import atomic_write, cannot_write

if TYPE_CHECKING:
    import pandas as pd




#: The errors of a place that takes no more data: a full disk or quota, a file grown past
#: the system's limit, a read-only file system. They come from writing, never from a bug.
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


@contextlib.contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Turn a place that takes no more data (:data:`FULL`), met anywhere in the block
    (a table, a figure, a database), into :class:`~ctsim.errors.OutputError` naming
    ``folder``, the results folder being written."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in FULL:
            raise
        raise cannot_write(folder, exc) from None


# ---------------------------------------------------------------- output places


#: The bytes ctsim adds to an output folder's name for what it keeps beside the folder
#: while writing it: ``.NAME.partial``, ``.NAME.lock``, ``.NAME.probe-XXXXXXXX``.
BESIDE = 16
#: Bytes left for the files ctsim writes under an output folder (``parts/``, figures,
#: temporary names), so that a folder whose own path fits still holds them.
BELOW = 64
#: What a system that does not say allows: a name's and a path's bytes (POSIX, Linux).
NAME_MAX, PATH_MAX = 255, 4096


def _installed_package() -> Path:
    """The folder of the ctsim package itself (its shipped scenarios live there)."""
    return Path(__file__).resolve().parent.parent


def check_place(out: Path, option: str = "--out") -> None:
    """Check, before any work and creating nothing, that a folder can be made and
    written at ``out`` (given as ``option``).

    Refused: an empty name or the current folder (also spelt another way, such as
    ``x/..``); a last component ``..``; a ``..`` after a folder that does not exist (the
    system cannot follow it); a name longer than the system allows (less the
    :data:`BESIDE` bytes of what ctsim keeps beside the folder) or a path too long to hold
    its files; a NUL character; a symbolic link to nowhere, or a file, on the way; a place
    inside the installed ctsim package (it would show up among the shipped files); a
    place this user cannot write (tried with a temporary folder, removed at once).

    Raises:
        OutputError: one line, naming ``option`` and what is wrong.
    """
    text = str(out)
    if text.strip() in ("", "."):
        raise OutputError(f"{option}: give a folder name (the current folder is not allowed)")
    if "\0" in text:
        raise OutputError(f"{option}: a folder name cannot hold a NUL character")
    shown = _short(text)
    if len(os.fsencode(os.path.abspath(text))) + BELOW > _limit(Path("/"), "PC_PATH_MAX",
                                                                 PATH_MAX):
        raise OutputError(f"{option} {shown}: the path is too long for the files ctsim "
                          "writes there; choose a shorter one")
    parts = out.parts
    if parts[-1] == "..":
        raise OutputError(f"{option} {shown}: name the folder itself, not '..'")
    here = Path(parts[0]) if out.is_absolute() else Path(".")
    existing = here
    for i, part in enumerate(parts[1:] if out.is_absolute() else parts):
        last = i == len(parts) - (2 if out.is_absolute() else 1)
        if part == "..":
            if not here.is_dir():
                raise OutputError(f"{option} {shown}: '..' after {_short(str(here))}, "
                                  "which is not a folder")
        else:
            limit = _limit(existing, "PC_NAME_MAX", NAME_MAX) - (BESIDE if last else 0)
            size = len(os.fsencode(part))
            if size > limit:
                raise OutputError(f"{option}: the name '{_short(part)}' is {size} bytes "
                                  f"long; at most {limit} here" + (
                                      " (ctsim keeps files named after it beside it)"
                                      if last else ""))
        here = here / part
        if os.path.lexists(here):
            if not os.path.exists(here):
                raise OutputError(f"{option} {_short(str(here))}: a link to a place that "
                                  f"does not exist ({_short(os.readlink(here))})")
            if not last and not here.is_dir():
                raise OutputError(f"{option} {shown}: {_short(str(here))} is a file, not a "
                                  "folder")
            if here.is_dir():
                existing = here
    full = Path(os.path.realpath(out))
    if full == Path(os.path.realpath(os.getcwd())):
        raise OutputError(f"{option}: give a folder name (the current folder is not allowed)")
    package = _installed_package()
    if full == package or package in full.parents:
        raise OutputError(f"{option} {shown}: inside the installed ctsim package "
                          f"({package}); choose a folder outside it")
    for folder in ([existing.parent, existing] if existing == here and here.is_dir()
                   else [existing]):
        try:
            os.rmdir(tempfile.mkdtemp(dir=folder, prefix=".ctsim-probe-"))
        except OSError as exc:
            raise OutputError(f"{option} {shown}: cannot write there "
                              f"({exc.strerror or exc})") from None


def _limit(folder: Path, name: str, default: int) -> int:
    """The system's ``pathconf`` limit ``name`` in ``folder`` (``default`` if it does not
    say)."""
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError):
        return default
    return value if value > 0 else default


def _short(text: str, most: int = 60) -> str:
    """``text`` cut to ``most`` characters for a message."""
    return text if len(text) <= most else text[: most - 1] + "…"


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
    the file is removed when the block ends, and so are the folders made to hold it when
    the block left nothing in them.

    Raises:
        OutputError: another writer holds the folder, or the lock cannot be made there.
    """
    path = lock_path(out)
    made = _missing_folders(path.parent)
    try:
        while True:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(f"{out}: cannot write there ({exc.strerror or exc})"
                                  ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise OutputError(f"{out}: another ctsim command (process {holder}) is "
                                  "writing these results; wait for it to end or choose "
                                  "another --out") from None
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
    finally:
        # The folders made for the lock go again when nothing was written into them (a
        # command refused after its lock was taken leaves no trace).
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist, deepest first."""
    missing = []
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


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
        #: Whether :meth:`prepare` made the folder (it did not exist before).
        self.made = False
        #: The merged per-run tables by file name, after :meth:`merge` with ``keep``.
        self.kept: dict[str, pd.DataFrame] = {}
        #: Runs in runs.parquet, and how many of them failed, after :meth:`merge`.
        self.stored = 0
        self.failed = 0
        self._seq: int | None = None  # the next part's number, once known

    def has_results(self) -> bool:
        """Whether the folder already holds parts or merged results."""
        return (self.out / "runs.parquet").exists() or any(self.parts.glob("runs-*.parquet"))

    def _runs_parts(self) -> list[Path]:
        return sorted(self.parts.glob("runs-*.parquet"))

    def prepare(self) -> None:
        """Create the folder; drop temporary files and orphaned parts.

        Raises:
            OutputError: the folder cannot be made or changed.
        """
        try:
            self.made = self.made or not os.path.lexists(self.out)
            self.parts.mkdir(parents=True, exist_ok=True)
            for tmp in self.parts.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
            done = {p.name.removeprefix("runs-") for p in self._runs_parts()}
            for prefix in EXTRA_TABLES:
                for part in self.parts.glob(f"{prefix}-*.parquet"):
                    if part.name.removeprefix(f"{prefix}-") not in done:
                        part.unlink()
        except OSError as exc:
            raise cannot_write(self.out, exc) from None

    def discard(self) -> None:
        """Remove the folder :meth:`prepare` made when no run is stored in it yet (a sweep
        stopped before its first batch, by Ctrl-C or a full disk, leaves nothing)."""
        if self.made and not self._runs_parts():
            import shutil

            shutil.rmtree(self.out, ignore_errors=True)
            self.made = False

    def done_ids(self) -> set[int]:
        """Run ids already stored.

        Raises:
            ResultsError: a part that cannot be read (parts are written whole, so it was cut
                short or changed by something else), naming what to remove to redo its runs.
        """
        import pyarrow.parquet as pq

        ids: set[int] = set()
        for part in self._runs_parts():
            try:
                ids.update(pq.read_table(part, columns=["run_id"]).column(0).to_pylist())
            except (OSError, ValueError, KeyError) as exc:  # pyarrow's errors are among them
                raise self._damaged(part, exc) from None
        self._check_extra_parts()
        return ids

    def done_mask(self, total: int) -> np.ndarray:
        """Which of runs 0 to ``total - 1`` are already stored (a bool array; the memory of
        a byte a run, where :meth:`done_ids` holds a Python int a run).

        Raises:
            ResultsError: as :meth:`done_ids`.
        """
        import pyarrow.parquet as pq

        done = np.zeros(total, bool)
        for part in self._runs_parts():
            try:
                ids = pq.read_table(part, columns=["run_id"]).column(0).to_numpy()
            except (OSError, ValueError, KeyError) as exc:
                raise self._damaged(part, exc) from None
            done[ids[ids < total]] = True
        self._check_extra_parts()
        return done

    def _check_extra_parts(self) -> None:
        """Raise the one-line error of the first per-run table's part that cannot be read."""
        import pyarrow.parquet as pq

        for prefix in EXTRA_TABLES:
            for part in self.parts.glob(f"{prefix}-*.parquet"):
                try:
                    pq.read_metadata(part)
                except (OSError, ValueError) as exc:
                    raise self._damaged(part, exc) from None

    def _damaged(self, part: Path, exc: Exception) -> ResultsError:
        """The one-line error of a part that cannot be read: remove it and the runs part of
        its batch, and the resumed sweep runs that batch again."""
        runs = self.parts / f"runs-{part.name.split('-', 1)[1]}"
        also = f" and {runs.name}" if runs != part else ""
        return ResultsError(f"{part}: a damaged part of the stored results "
                            f"({type(exc).__name__}); remove it{also} and resume again to "
                            "run those runs again")

    def _next_seq(self) -> int:
        """The next free part number: after the stored parts' at the first write, then
        counted (a sweep writes its parts one at a time, under its folder's lock)."""
        if self._seq is None:
            self._seq = max((int(p.stem.split("-")[1]) for p in self._runs_parts()),
                            default=-1) + 1
        self._seq += 1
        return self._seq - 1

    def write(self, rows: list[dict], extra: dict[str, list[dict]] | None = None) -> None:
        """Store one finished batch: its rows (any order; one mapping a run) and, for each
        of :data:`EXTRA_TABLES` it kept, the runs' column arrays."""
        import pyarrow as pa

        rows = sorted(rows, key=lambda r: r["run_id"])
        self.write_table(pa.Table.from_pylist(rows), extra)

    def write_table(self, table, extra: dict[str, list[dict]] | None = None) -> None:
        """Store one finished batch: its runs.parquet rows as an Arrow table in run-id order
        and, for each of :data:`EXTRA_TABLES` it kept, the runs' column arrays; the runs
        part last (it records that the batch is done)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        seq = self._next_seq()
        name = f"{seq:06d}.parquet"
        for prefix, tables in (extra or {}).items():
            if tables:
                cols = {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}
                self._atomic_table(pa.table(cols), self.parts / f"{prefix}-{name}", pq)
        self._atomic_table(table, self.parts / f"runs-{name}", pq)

    @staticmethod
    def _atomic_table(table, path: Path, pq) -> None:
        """Write a Parquet table with :func:`atomic_write`."""
        import io

        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        atomic_write(path, buffer.getvalue())

    def merge(self, keep: bool = False) -> tuple[pd.DataFrame | None, int]:
        """Write runs.parquet (rows by run id) and each kept per-run table.

        Returns the merged runs table (None without ``keep``) and the number of time-series
        rows; sets :attr:`stored` and :attr:`failed`. Every table is streamed part by part
        (parts hold disjoint, ordered ranges of run ids), so memory holds at most
        :data:`ROW_GROUP` runs at a time; with ``keep``, each merged table is also kept (the
        runs table returned, the others in :attr:`kept`), for a caller that uses it next
        (``ctsim run``'s few replications) instead of reading the file back.
        """
        import pyarrow.parquet as pq

        self.kept = {}
        self.stored = self.failed = 0
        runs: list = []
        self._merge_parts("runs", "runs.parquet", "", pq, keep, runs)
        rows = {}
        for prefix, (filename, within) in EXTRA_TABLES.items():
            rows[prefix] = self._merge_parts(prefix, filename, within, pq, keep)
        if not keep:
            return None, rows["ts"]
        import pyarrow as pa

        merged = pa.concat_tables(runs) if runs else pa.table({})
        return merged.to_pandas(), rows["ts"]

    def _merge_parts(self, prefix: str, filename: str, within: str, pq,
                     keep: bool = False, into: list | None = None) -> int:
        """Stream the ``prefix`` parts, in run-id order, into ``filename`` (rows sorted by
        run id, then by ``within``), in row groups of at most :data:`ROW_GROUP` runs;
        returns its row count. With ``keep``, the merged table goes to :attr:`kept` (or to
        the list ``into``); the runs table also counts :attr:`stored` and :attr:`failed`.
        """
        import pyarrow as pa

        firsts = []
        for part in self.parts.glob(f"{prefix}-*.parquet"):
            ids = pq.read_table(part, columns=["run_id"]).column(0)
            firsts.append((ids[0].as_py() if len(ids) else -1, part))
        parts = [p for _, p in sorted(firsts, key=lambda x: x[0])]
        if not parts and prefix != "runs":
            return 0
        tmp = self.out / f".{filename}.tmp"
        writer = None
        merged, group, n = [], [], 0
        order = [("run_id", "ascending")] + ([(within, "ascending")] if within else [])

        def flush() -> None:
            nonlocal writer
            table = pa.concat_tables(group, promote_options="permissive")
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
            group.clear()

        try:
            with writing(self.out):  # a full disk: one line naming the folder
                try:
                    for part in parts:
                        table = pq.read_table(part).sort_by(order)
                        if prefix == "runs":
                            self._count(table)
                        group.append(table)
                        n += table.num_rows
                        if keep:
                            merged.append(table)
                        # the runs in row groups of about ROW_GROUP, the weeks and nations
                        # a part a row group
                        if prefix != "runs" or sum(t.num_rows for t in group) >= ROW_GROUP:
                            flush()
                    if group:
                        flush()
                    elif writer is None:  # no part: an empty table
                        pq.write_table(pa.table({}), tmp)
                finally:
                    if writer is not None:
                        writer.close()
                os.replace(tmp, self.out / filename)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        if keep:
            if into is not None:
                into.extend(merged)
            else:
                self.kept[filename] = pa.concat_tables(merged).to_pandas()
        return n


    def _count(self, table) -> None:
        """Add a runs part's rows to :attr:`stored` and its failed runs to :attr:`failed`."""
        import pyarrow.compute as pc

        ok = pc.sum(pc.equal(table.column("status"), "ok")).as_py() if table.num_rows else 0
        self.stored += table.num_rows
        self.failed += table.num_rows - (ok or 0)


#: Runs in one row group of runs.parquet: about the most a merge holds in memory at once.
ROW_GROUP = 131_072
