"""A calibration's outputs: the posterior and population tables read from the ABC history,
the parameter summary with its Monte Carlo precision, the stability of the last populations
(rejection-distance), the simulator's noise in each target, the posterior by mode, and
posterior.csv, populations.csv, predictive.csv, predictive_draws.csv, summary.json, the
figures and REPORT.md (:mod:`ctsim.calibration.report_text`)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ctsim._version import __version__
from ctsim.analysis.stats import weighted_quantiles
from ctsim.calibration.files import LoadedCalibration
from ctsim.calibration.report_text import EDGE, EDGE_FLAG, report_text
from ctsim.runs.posterior import POSTERIOR_FILE

#: The normal quantile of the 95% intervals of this module.
Z95 = 1.959963984540054


def ess(weights) -> float:
    """The effective sample size of weighted particles, (sum w)^2 / sum w^2 (Kong, Liu and
    Wong 1994): the number of unweighted draws with the same variance of a mean."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / np.sum(w * w)) if len(w) and np.sum(w * w) > 0 else 0.0


def populations_table(history):
    """Per population: its index ``t``, epsilon (the stochastic method: the temperature),
    accepted particles, sampled particles, acceptance rate (accepted / sampled) and the
    effective sample size of its weights (``ess``)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    frame = pops[["t", "epsilon", "particles", "samples"]].copy()
    frame["acceptance_rate"] = frame["particles"] / frame["samples"]
    frame["ess"] = [ess(history.get_distribution(m=0, t=int(t))[1]) for t in frame["t"]]
    return frame


def posterior_table(loaded: LoadedCalibration, history, t: int | None = None):
    """Population ``t`` (default: the last): each particle's parameters as the model ran
    them (integers rounded down) and its normalized weight."""
    frame, weights = history.get_distribution(m=0, t=history.max_t if t is None else t)
    names = list(loaded.spec.parameters)
    post = frame[names].reset_index(drop=True).copy()
    for k, prior in loaded.spec.parameters.items():
        post[k] = [prior.value(v) for v in post[k]]
    post["weight"] = np.asarray(weights, float) / float(np.sum(weights))
    return post


def cdf_variance(values, weights, x: float) -> float:
    """The Monte Carlo variance of the weighted share of particles at or below ``x``, the
    importance-sampling (delta-method) variance ``sum(w_i^2 (1[v_i <= x] - F)^2)`` of a
    self-normalized estimate, weights normalized (Owen 2013, ch. 9). With equal weights it
    is F (1 - F) / n; it grows where heavy weights sit on one side of ``x``, which the
    effective sample size alone does not see."""
    v = np.asarray(values, float)
    w = np.asarray(weights, float) / np.sum(weights)
    below = (v <= x).astype(float)
    share = float(np.sum(w * below))
    return float(np.sum(w * w * (below - share) ** 2))


def quantile_precision(values, weights, q: float) -> tuple[float, float]:
    """The 95% Monte Carlo interval of the weighted ``q`` quantile (Woodruff 1952): the
    quantiles at ``q -+ 1.96 sd``, the levels held within [0, 1], ``sd`` the Monte Carlo
    standard deviation of the share at or below the quantile (:func:`cdf_variance`). It
    says how far another calibration's particles could put the same quantile."""
    x = weighted_quantiles(values, weights, [q])[0]
    half = Z95 * math.sqrt(max(cdf_variance(values, weights, x), q * (1 - q) * 1e-12))
    lo, hi = weighted_quantiles(values, weights, [max(q - half, 0.0), min(q + half, 1.0)])
    return lo, hi


def tail_particles(values, weights, q: float) -> float:
    """The effective particles beyond the weighted ``q`` quantile (``q`` < 1/2: below it;
    else above): ``min(q, 1 - q) x q (1 - q) / cdf_variance``, so that with equal weights
    it is the count of particles in the tail, and with weights the count that would give
    the tail's share the same Monte Carlo precision."""
    x = weighted_quantiles(values, weights, [q])[0]
    var = cdf_variance(values, weights, x)
    return min(q, 1 - q) * q * (1 - q) / var if var > 0 else math.inf


def parameter_summary(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """Per parameter: its prior range, posterior mean, median and 95% credible interval
    (weighted quantiles), each quantile's Monte Carlo interval (:func:`quantile_precision`:
    ``mc_lo`` for the 2.5% quantile, ``mc_median``, ``mc_hi``), the effective particles
    beyond each bound (:func:`tail_particles`: ``tail_lo``, ``tail_hi``), and ``shrinkage`` = 1 -
    interval width / prior width (0: the data say nothing the prior did not; near 1: pinned
    down). A parameter is called ``pinned`` when its interval covers less than half its
    prior's range."""
    w = posterior["weight"].to_numpy(float)
    rows = []
    for k, prior in loaded.spec.parameters.items():
        v = posterior[k].to_numpy(float)
        lo, med, hi = weighted_quantiles(v, w, [0.025, 0.5, 0.975])
        width = (hi + 1 - lo) if prior.integer else (hi - lo)
        shrink = 1.0 - width / prior.width
        rows.append({"parameter": k, "prior_lo": prior.range[0], "prior_hi": prior.range[1],
                     "integer": prior.integer, "mean": float(np.sum(v * w) / np.sum(w)),
                     "median": med, "ci95_lo": lo, "ci95_hi": hi,
                     "mc_lo": list(quantile_precision(v, w, 0.025)),
                     "mc_median": list(quantile_precision(v, w, 0.5)),
                     "mc_hi": list(quantile_precision(v, w, 0.975)),
                     "tail_lo": tail_particles(v, w, 0.025),
                     "tail_hi": tail_particles(v, w, 0.975),
                     "shrinkage": shrink, "pinned": bool(shrink > 0.5)})
    return rows


#: How many of the last populations the report compares, to show whether the posterior
#: settled (the rejection-distance method).
SETTLED_OVER = 3


def stability_table(loaded: LoadedCalibration, history,
                    last: int = SETTLED_OVER) -> list[dict[str, Any]]:
    """Per population among the ``last`` ones and per parameter: the weighted median and
    95% credible interval, and ``moved``, the largest change of the three from the
    population before as a share of the prior's range (NaN for the first one shown).

    Epsilon keeps falling while runs are noisy (each population accepts the particles
    whose runs happened to land closest), so whether the posterior has settled is read
    from these quantiles rather than from epsilon (the rejection-distance method)."""
    rows: list[dict[str, Any]] = []
    first = max(0, history.max_t - last + 1)
    before: dict[str, list[float]] = {}
    for t in range(first, history.max_t + 1):
        post = posterior_table(loaded, history, t)
        w = post["weight"].to_numpy(float)
        for k, prior in loaded.spec.parameters.items():
            q = weighted_quantiles(post[k].to_numpy(float), w, [0.025, 0.5, 0.975])
            moved = (max(abs(a - b) for a, b in zip(q, before[k], strict=True)) / prior.width
                     if k in before else math.nan)
            rows.append({"t": t, "parameter": k, "ci95_lo": q[0], "median": q[1],
                         "ci95_hi": q[2], "moved": moved})
            before[k] = q
    return rows


def noise_table(loaded: LoadedCalibration, history) -> list[dict[str, Any]]:
    """Per fitted target: its stated sd (:attr:`ctsim.calibration.files.Target.spread`),
    the simulator's noise in the particles' pooled values (the square root of the weighted
    median over the last population of each particle's jackknife variance,
    :func:`ctsim.calibration.particle.simulator_noise`), the total sd of the likelihood
    the posterior means, sqrt(sd^2 + noise^2), and the share of its variance from the
    simulator (NaN where the particles' noise could not be measured)."""
    from ctsim.calibration.particle import NOISE

    weights, stats = history.get_weighted_sum_stats(t=history.max_t)
    w = np.asarray(weights, float)
    rows = []
    for name in loaded.spec.fit:
        t = loaded.targets[name]
        v = np.asarray([s.get(NOISE + name, math.nan) for s in stats], float)
        known = np.isfinite(v)
        noise = (math.sqrt(weighted_quantiles(v[known], w[known], [0.5])[0])
                 if known.any() else math.nan)
        total = math.sqrt(t.spread ** 2 + noise ** 2) if math.isfinite(noise) else math.nan
        rows.append({"target": name, "kind": t.kind, "stated_sd": t.spread,
                     "simulator_sd": noise, "total_sd": total,
                     "simulator_share": noise ** 2 / total ** 2 if total else math.nan})
    return rows


# ---------------------------------------------------------------- modes

def mode_key(loaded: LoadedCalibration) -> list[str]:
    """The parameters whose values name a mode: the integer ones (a mode per value, or
    per combination of values)."""
    return [k for k, p in loaded.spec.parameters.items() if p.integer]


def modes_table(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """The posterior by mode, in the order of the integer parameters' values (never by
    weight: along a ridge the data do not close, a mode's weight is the prior's volume
    there as much as the data's preference). One row a mode: its values, particles, share
    of the posterior weight and effective sample size, and per other parameter its median,
    95% credible interval and ``near_lo`` / ``near_hi``, the share of the mode's weight
    within :data:`EDGE` of the prior's range of each bound. ``flags`` names each parameter
    with more than :data:`EDGE_FLAG` of the mode near a bound (the prior, not the data,
    may end the mode there); ``at_end`` the mode-naming values on their prior's end.
    Without an integer parameter the whole posterior is one row."""
    spec = loaded.spec
    keys = mode_key(loaded)
    w_all = posterior["weight"].to_numpy(float)
    groups = (posterior.groupby(keys, sort=True).indices if keys
              else {(): np.arange(len(posterior))})
    rows = []
    for values, index in groups.items():
        values = values if isinstance(values, tuple) else (values,)
        at = np.asarray(index)
        w = w_all[at]
        row: dict[str, Any] = {"mode": dict(zip(keys, (int(v) for v in values), strict=True)),
                               "particles": len(at), "share": float(w.sum() / w_all.sum()),
                               "ess": ess(w), "parameters": {}, "flags": [], "at_end": []}
        for k, v in row["mode"].items():
            if v in (int(spec.parameters[k].range[0]), int(spec.parameters[k].range[1])):
                row["at_end"].append(k)
        for k, prior in spec.parameters.items():
            if k in keys:
                continue
            x = posterior[k].to_numpy(float)[at]
            lo, hi = prior.range
            edge = EDGE * (hi - lo)
            near_lo = float(w[x <= lo + edge].sum() / w.sum())
            near_hi = float(w[x >= hi - edge].sum() / w.sum())
            q = weighted_quantiles(x, w, [0.025, 0.5, 0.975])
            row["parameters"][k] = {"median": q[1], "ci95_lo": q[0], "ci95_hi": q[2],
                                    "near_lo": near_lo, "near_hi": near_hi}
            if max(near_lo, near_hi) > EDGE_FLAG:
                row["flags"].append(k)
        rows.append(row)
    return rows


def predictive_by_mode(loaded: LoadedCalibration, draws) -> list[dict[str, Any]]:
    """The predictive checks of each mode (:func:`modes_table`'s order) over the draws in
    it: per mode its values, the draws and each target's summary row
    (:func:`ctsim.calibration.predictive.predictive_summary`)."""
    from ctsim.calibration.predictive import predictive_summary

    keys = mode_key(loaded)
    groups = draws.groupby(keys, sort=True) if keys else [((), draws)]
    out = []
    for values, part in groups:
        values = values if isinstance(values, tuple) else (values,)
        out.append({"mode": dict(zip(keys, (int(v) for v in values), strict=True)),
                    "draws": len(part),
                    "targets": predictive_summary(loaded, part).to_dict(orient="records")})
    return out


# ---------------------------------------------------------------- outputs


def write_outputs(loaded: LoadedCalibration, out: Path, pops, post, pred,
                  stability: list[dict[str, Any]] | None = None, draws=None,
                  noise: list[dict[str, Any]] | None = None) -> None:
    """posterior.csv, populations.csv, predictive.csv (and predictive_draws.csv, one row a
    draw), summary.json, the figures (posterior marginals and pairs, the threshold and
    acceptance by population, the predictive checks) and REPORT.md, beside history.db.
    ``stability``: :func:`stability_table`; ``draws``: the predictive draws
    (:func:`ctsim.calibration.predictive.predictive_values`); ``noise``:
    :func:`noise_table`."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from ctsim.analysis import figures
    from ctsim.runs.store import atomic_write

    spec = loaded.spec
    atomic_write(out / POSTERIOR_FILE, post.to_csv(index=False, float_format="%.8g").encode())
    atomic_write(out / "populations.csv", pops.to_csv(index=False, float_format="%.6g").encode())
    atomic_write(out / "predictive.csv", pred.to_csv(index=False, float_format="%.6g").encode())
    if draws is not None:
        atomic_write(out / "predictive_draws.csv",
                     draws.to_csv(index=False, float_format="%.6g").encode())
    params = parameter_summary(loaded, post)
    modes = modes_table(loaded, post)
    by_mode = predictive_by_mode(loaded, draws) if draws is not None else []
    doc = {"calibration": spec.name, "ctsim_version": __version__, "seed": spec.seed,
           "method": spec.method, "kernel": spec.kernel, "scenario": spec.scenario,
           "replications": spec.replications, "population": spec.population,
           "populations_run": len(pops), "fit": spec.fit, "held_out": spec.held_out,
           "ess": ess(post["weight"]), "parameters": params, "modes": modes,
           "noise": noise or [], "populations": pops.to_dict(orient="records"),
           "stability": stability or [],
           "predictive": pred.to_dict(orient="records"), "predictive_by_mode": by_mode}
    if spec.method == "stochastic":
        doc["final_temperature"] = float(pops.iloc[-1].epsilon)
    atomic_write(out / "summary.json", (json.dumps(doc, indent=2, default=float) + "\n").encode())
    staging = out / ".figures.partial"
    shutil.rmtree(staging, ignore_errors=True)
    priors = {k: p.range for k, p in spec.parameters.items()}
    figures.save(figures.posterior_marginals(post, priors, spec.name), staging / "marginals")
    figures.save(figures.posterior_pairs(post, priors, spec.name), staging / "pairs")
    sampling = figures.abc_populations(pops, spec.name)
    if spec.method == "stochastic":
        ax = sampling.axes[0]
        ax.set_yscale("log")
        ax.set_ylabel("temperature (1: the stated error model)")
        ax.axhline(1.0, color="0.4", ls=":", lw=1)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    figures.save(sampling, staging / "populations")
    figures.save(figures.predictive_checks(pred, spec.name), staging / "predictive")
    shutil.rmtree(out / "figures", ignore_errors=True)
    staging.rename(out / "figures")
    atomic_write(out / "REPORT.md", report_text(loaded, pops, params, pred, modes, stability,
                                                noise, by_mode).encode())
