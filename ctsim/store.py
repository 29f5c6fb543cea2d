"""Writing results to disk: the output folder of ``ctsim run``.

Files are written under a temporary name and renamed into place, so a reader never sees a
half-written file. Same scenario, seed and replications give byte-identical summary.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ctsim import __version__
from ctsim.core import Scenario
from ctsim.runner import RunResult, metric_table


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def summary(scenario: Scenario, seed: int, steps: int, results: list[RunResult]) -> dict:
    """The summary.json document of a set of replications."""
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "ctsim_version": __version__,
        "seed": int(seed),
        "replications": len(results),
        "steps": int(steps),
        "run_seeds": [r.seed for r in results],
        "metrics": metric_table(results),
    }


def timeseries_frame(results: list[RunResult]) -> pd.DataFrame:
    """All replications' weekly rows in one frame: ``replication``, ``seed``, ``step``, ..."""
    frames = []
    for i, r in enumerate(results):
        if r.timeseries is not None:
            frames.append(r.timeseries.assign(replication=i, seed=r.seed))
    ts = pd.concat(frames, ignore_index=True)
    first = ["replication", "seed", "step"]
    return ts[first + [c for c in ts.columns if c not in first]]


def write_run(out: Path, scenario: Scenario, seed: int, steps: int,
              results: list[RunResult]) -> dict:
    """Write summary.json, timeseries.csv and scenario.yaml (the resolved scenario) to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    doc = summary(scenario, seed, steps, results)
    atomic_write(out / "summary.json", (json.dumps(doc, indent=2) + "\n").encode())
    atomic_write(out / "timeseries.csv", timeseries_frame(results).to_csv(
        index=False, float_format="%.6g").encode())
    atomic_write(out / "scenario.yaml", yaml.safe_dump(
        scenario.model_dump(mode="json"), sort_keys=False).encode())
    return doc


def write_comparison(out: Path, rows: list[dict], baseline: str) -> None:
    """Write a comparison's table as comparison.csv and comparison.md (differences vs baseline)."""
    frame = pd.DataFrame(rows)
    atomic_write(out / "comparison.csv", frame.to_csv(index=False, float_format="%.6g").encode())
    lines = []
    for metric, sub in frame.groupby("metric", sort=False):
        lines += [f"### {metric}", "",
                  f"| scenario | mean | 95% interval | difference vs {baseline} | 95% interval |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for r in sub.itertuples():
            base = r.scenario == baseline
            lines.append(
                f"| {r.scenario} | {r.mean:.3f} | [{r.ci95_lo:.3f}, {r.ci95_hi:.3f}] | "
                + ("" if base else f"{r.diff:+.3f}") + " | "
                + ("" if base else f"[{r.diff_ci95_lo:+.3f}, {r.diff_ci95_hi:+.3f}]") + " |")
        lines.append("")
    atomic_write(out / "comparison.md", "\n".join(lines).encode())


# ---------------------------------------------------------------- sweeps


class SweepStore:
    """Crash-safe sweep results: Parquet part files in ``out/parts``, merged at the end.

    Each finished batch becomes ``ts-NNNNNN.parquet`` (when time series are kept) and then
    ``runs-NNNNNN.parquet``, each written to a temporary name and renamed, so a part is
    either whole or absent. A runs part is the record that its runs are done: a time-series
    part without its runs part (a kill between the two renames) is an orphan, removed on
    resume. Nothing else holds state, so a sweep killed at any moment resumes exactly.
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
        """Create the folder; drop temporary files and orphaned time-series parts."""
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        done = {p.name.removeprefix("runs-") for p in self._runs_parts()}
        for ts in self.parts.glob("ts-*.parquet"):
            if ts.name.removeprefix("ts-") not in done:
                ts.unlink()

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

    def write(self, rows: list[dict], timeseries: list[dict]) -> None:
        """Store one finished batch (rows sorted by run id)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        seq = self._next_seq()
        name = f"{seq:06d}.parquet"
        if timeseries:
            cols = {k: np.concatenate([t[k] for t in timeseries]) for k in timeseries[0]}
            self._atomic_table(pa.table(cols), self.parts / f"ts-{name}", pq)
        frame = pd.DataFrame(sorted(rows, key=lambda r: r["run_id"]))
        self._atomic_table(pa.Table.from_pandas(frame, preserve_index=False),
                           self.parts / f"runs-{name}", pq)

    @staticmethod
    def _atomic_table(table, path: Path, pq) -> None:
        """Write a Parquet table with :func:`atomic_write`."""
        import io

        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        atomic_write(path, buffer.getvalue())

    def merge(self) -> tuple[pd.DataFrame, int]:
        """Write runs.parquet (rows by run id) and timeseries.parquet when parts have any.

        Returns the merged runs table and the number of time-series rows. Time series are
        streamed part by part (parts hold disjoint, ordered ranges of run ids), so memory
        holds one part at a time.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        frames = [pd.read_parquet(p) for p in self._runs_parts()]
        runs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if len(runs):
            runs = runs.sort_values("run_id", kind="stable").reset_index(drop=True)
        self._atomic_table(pa.Table.from_pandas(runs, preserve_index=False),
                           self.out / "runs.parquet", pq)
        ts_parts = sorted(self.parts.glob("ts-*.parquet"),
                          key=lambda p: pq.read_table(p, columns=["run_id"]).column(0)[0].as_py())
        n_ts = 0
        if ts_parts:
            tmp = self.out / ".timeseries.parquet.tmp"
            writer = None
            for part in ts_parts:
                table = pq.read_table(part).sort_by([("run_id", "ascending"),
                                                     ("step", "ascending")])
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                n_ts += table.num_rows
            writer.close()
            os.replace(tmp, self.out / "timeseries.parquet")
        return runs, n_ts
