"""A stored posterior (``posterior.csv`` of a calibration's results folder), read for the
sweeps and runs that draw their parameters from it (``uncertainty:``): draws with a numpy
Generator seeded by SeedSequence, and the digest a sweep's fingerprint includes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ctsim.errors import ResultsError

#: The file a calibration's posterior is stored in (one row a particle of the last
#: population: the parameters as the model used them, and the particle's weight).
POSTERIOR_FILE = "posterior.csv"
# ---------------------------------------------------------------- posterior draws


def draw_rows(posterior, count: int, seed: int, stream: int) -> list[dict[str, Any]]:
    """``count`` particles drawn with replacement by weight from a posterior table, with
    a Generator seeded by ``SeedSequence([seed, stream])``."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(stream)]))
    w = posterior["weight"].to_numpy(float)
    picks = rng.choice(len(posterior), size=count, replace=True, p=w / w.sum())
    names = [c for c in posterior.columns if c != "weight"]
    rows = []
    for i in picks:
        row = {}
        for k in names:
            v = posterior[k].iloc[int(i)]
            row[k] = int(v) if isinstance(v, np.integer) else float(v)
        rows.append(row)
    return rows


#: The stream of posterior draws for sweeps and runs (``uncertainty:``).
DRAW_STREAM = 0xD2A3


def read_posterior(folder: str | Path):
    """A stored posterior (``posterior.csv`` of a calibration's results folder).

    Raises:
        ResultsError: the folder holds no readable posterior: no such file, no weight
            column, a value that is not a finite number, a negative weight or weights that
            sum to zero.
    """
    import pandas as pd

    path = Path(folder) / POSTERIOR_FILE
    try:
        post = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder}: no readable {POSTERIOR_FILE} (a calibration's results "
                           f"folder, from ctsim calibrate): {type(exc).__name__}") from None
    if "weight" not in post.columns or len(post) == 0 or len(post.columns) < 2:
        raise ResultsError(f"{path}: not a posterior (a weight column and one column per "
                           "parameter)")
    for column in post.columns:
        values = pd.to_numeric(post[column], errors="coerce").to_numpy(float)
        if not np.isfinite(values).all():
            raise ResultsError(f"{path}: column {_shown(column)} holds a value that is not a "
                               "finite number; not a posterior ctsim wrote")
    weights = post["weight"].to_numpy(float)
    with np.errstate(over="ignore"):  # a sum past the largest float is refused below
        total = weights.sum()
    if (weights < 0).any() or not 0 < total < np.inf:
        raise ResultsError(f"{path}: the weights must be >= 0 with a positive sum; not a "
                           "posterior ctsim wrote")
    return post


def _shown(column: Any) -> str:
    """A column's name as an error shows it (the name may come from any file)."""
    text = str(column)
    return f"'{text[:40]}...'" if len(text) > 40 else f"'{text}'"


def posterior_draws(folder: str | Path, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` parameter sets drawn by weight from the posterior stored in ``folder``,
    one per replication: the same seed gives the same draws, in the same order."""
    return draw_rows(read_posterior(folder), count, seed, DRAW_STREAM)


def posterior_digest(folder: str | Path) -> str:
    """A hash of a stored posterior (a sweep's fingerprint includes it)."""
    return hashlib.sha256((Path(folder) / POSTERIOR_FILE).read_bytes()).hexdigest()
