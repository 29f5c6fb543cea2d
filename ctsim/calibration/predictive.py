"""Posterior predictive checks: the model run at posterior draws (the sweep's executors),
every target, fitted and held out, compared with its observation."""

from __future__ import annotations

import math

import numpy as np

from ctsim.calibration.files import LoadedCalibration
from ctsim.calibration.particle import particle_seeds, particle_specs, payload_of, target_values
from ctsim.runs.posterior import draw_rows

# ---------------------------------------------------------------- predictive checks


#: The stream of the predictive checks' draws.
PREDICTIVE_STREAM = 0x99C


def posterior_predictive(loaded: LoadedCalibration, posterior, *, workers: int = 2,
                         scheduler: str | None = None):
    """Run the model at ``predictive`` posterior draws (``replications`` runs each, fresh
    seeds) and compare every target, fitted and held out, with its observation.

    One row per target: its role, observed value and sd, the mean and 2.5% and 97.5%
    quantiles of its simulated value over the draws, and ``z`` = (mean - observed) /
    sqrt(sd^2 + simulated variance): a target is ``consistent`` when |z| < 1.96. Runs go
    through the sweeps' executors (serial, process or dask).
    """
    import pandas as pd

    from ctsim.runs.executors import batch_size, execute, in_batches, make_executor

    spec = loaded.spec
    draws = draw_rows(posterior, spec.predictive, spec.seed, PREDICTIVE_STREAM)
    specs_of, all_specs = [], []
    for d, overrides in enumerate(draws):
        seeds = particle_seeds(spec.seed + 1 + d, overrides, spec.replications)
        specs = particle_specs(loaded, overrides, seeds, first_id=len(all_specs))
        specs_of.append(specs)
        all_specs.extend(specs)
    results: dict[int, tuple[dict, dict]] = {}

    def keep(batch: list) -> None:
        for row, tables in batch:
            results[row["run_id"]] = (row, tables)

    kind = "dask" if scheduler else ("serial" if workers <= 1 else "process")
    ex = make_executor(kind, payload_of(loaded), workers, scheduler)
    try:
        execute(ex, in_batches(all_specs, batch_size(len(all_specs), ex.workers)), keep)
    finally:
        ex.close()
    values = {n: [] for n in loaded.used}
    for specs in specs_of:
        got = target_values(loaded, specs, [results[s.run_id] for s in specs], loaded.used)
        for n in loaded.used:
            values[n].append(got[n])
    rows = []
    for n in loaded.used:
        t = loaded.targets[n]
        x = np.asarray([v for v in values[n] if np.isfinite(v)], float)
        mean = float(x.mean()) if len(x) else float("nan")
        var = float(x.var(ddof=1)) if len(x) > 1 else 0.0
        lo, hi = (np.quantile(x, [0.025, 0.975]).tolist() if len(x) else [math.nan] * 2)
        z = (mean - t.observed) / math.sqrt(t.sd ** 2 + var)
        rows.append({"target": n, "role": "fit" if n in spec.fit else "held_out",
                     "metric": t.metric, "observed": t.observed, "sd": t.sd,
                     "simulated_mean": mean, "simulated_lo": lo, "simulated_hi": hi,
                     "z": z, "consistent": bool(abs(z) < 1.96), "draws": len(x)})
    return pd.DataFrame(rows)
