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


def predictive_values(loaded: LoadedCalibration, posterior, *, workers: int = 2,
                      scheduler: str | None = None):
    """Run the model at ``predictive`` posterior draws (``replications`` runs each, fresh
    seeds; the sweeps' executors: serial, process or dask) and return one row per draw:
    its parameters and every target's value (fitted and held out) over its runs."""
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
    rows = []
    for overrides, specs in zip(draws, specs_of, strict=True):
        got = target_values(loaded, specs, [results[s.run_id] for s in specs], loaded.used)
        rows.append(dict(overrides) | got)
    return pd.DataFrame(rows)


def predictive_summary(loaded: LoadedCalibration, values):
    """One row per target from :func:`predictive_values` (or some of its rows): its role
    and error model (``kind``), observed value (the bound of a one-sided target, the pooled
    share of a series) and sd (a series: its beta-binomial sd,
    :attr:`ctsim.calibration.files.Target.spread`), the mean and 2.5% and 97.5% quantiles
    of its simulated value over the draws, and ``z`` = (mean - observed) / sqrt(sd^2 +
    simulated variance). A target is ``consistent`` when |z| < 1.96; a one-sided one when
    z < 1.96 (upper bound) or z > -1.96 (lower): within the bound or not clearly past it."""
    import pandas as pd

    spec = loaded.spec
    rows = []
    for n in loaded.used:
        t = loaded.targets[n]
        x = values[n].to_numpy(float) if n in values else np.array([])
        x = x[np.isfinite(x)]
        mean = float(x.mean()) if len(x) else float("nan")
        var = float(x.var(ddof=1)) if len(x) > 1 else 0.0
        lo, hi = (np.quantile(x, [0.025, 0.975]).tolist() if len(x) else [math.nan] * 2)
        z = (mean - t.reference) / math.sqrt(t.spread ** 2 + var)
        ok = {"upper": z < 1.96, "lower": z > -1.96}.get(t.kind, abs(z) < 1.96)
        rows.append({"target": n, "role": "fit" if n in spec.fit else "held_out",
                     "metric": t.metric, "kind": t.kind, "observed": t.reference,
                     "sd": t.spread, "simulated_mean": mean, "simulated_lo": lo,
                     "simulated_hi": hi, "z": z, "consistent": bool(ok), "draws": len(x)})
    return pd.DataFrame(rows)


def posterior_predictive(loaded: LoadedCalibration, posterior, *, workers: int = 2,
                         scheduler: str | None = None):
    """Run the model at ``predictive`` posterior draws and compare every target, fitted
    and held out, with its observation: :func:`predictive_summary` of
    :func:`predictive_values`."""
    return predictive_summary(loaded, predictive_values(loaded, posterior, workers=workers,
                                                        scheduler=scheduler))
