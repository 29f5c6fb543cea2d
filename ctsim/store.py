"""Writing results to disk: the output folder of ``ctsim run``.

Files are written under a temporary name and renamed into place, so a reader never sees a
half-written file. Same scenario, seed and replications give byte-identical summary.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from ctsim import __version__
from ctsim.core import Scenario
from ctsim.runner import RunResult, metric_table


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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
