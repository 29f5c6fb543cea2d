"""A calibration's outputs: the posterior and population tables read from
the ABC history, the parameter summary, the stability of the last populations,
the integer parameters' modes, and posterior.csv, populations.csv, predictive.csv,
summary.json, the figures and REPORT.md."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ctsim._version import __version__
from ctsim.analysis.stats import weighted_quantiles
from ctsim.calibration.files import Calibration, LoadedCalibration
from ctsim.runs.posterior import POSTERIOR_FILE


def populations_table(history):
    """Per population: its index ``t``, epsilon, accepted particles, sampled particles
    and acceptance rate (accepted / sampled)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    frame = pops[["t", "epsilon", "particles", "samples"]].copy()
    frame["acceptance_rate"] = frame["particles"] / frame["samples"]
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


def parameter_summary(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """Per parameter: its prior range, posterior mean, median and 95% credible interval
    (weighted quantiles), and ``shrinkage`` = 1 - interval width / prior width (0: the
    data say nothing the prior did not; near 1: pinned down). A parameter is called
    ``pinned`` when its interval covers less than half its prior's range."""
    w = posterior["weight"].to_numpy(float)
    rows = []
    for k, prior in loaded.spec.parameters.items():
        v = posterior[k].to_numpy(float)
        lo, med, hi = weighted_quantiles(v, w, [0.025, 0.5, 0.975])
        width = (hi + 1 - lo) if prior.integer else (hi - lo)
        shrink = 1.0 - width / prior.width
        rows.append({"parameter": k, "prior_lo": prior.range[0], "prior_hi": prior.range[1],
                     "integer": prior.integer, "mean": float(np.sum(v * w) / np.sum(w)),
                     "median": med, "ci95_lo": lo, "ci95_hi": hi, "shrinkage": shrink,
                     "pinned": bool(shrink > 0.5)})
    return rows


#: How many of the last populations the report compares, to show whether the posterior
#: settled.
SETTLED_OVER = 3


def stability_table(loaded: LoadedCalibration, history,
                    last: int = SETTLED_OVER) -> list[dict[str, Any]]:
    """Per population among the ``last`` ones and per parameter: the weighted median and
    95% credible interval, and ``moved``, the largest change of the three from the
    population before as a share of the prior's range (NaN for the first one shown).

    Epsilon keeps falling while runs are noisy (each population accepts the particles
    whose runs happened to land closest), so whether the posterior has settled is read
    from these quantiles rather than from epsilon."""
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


def integer_modes(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """For each integer parameter and each of its values in the posterior: the share of
    the posterior weight on that value and the other parameters' weighted medians there,
    so that ridges along which the targets trade one parameter for another show."""
    w = posterior["weight"].to_numpy(float)
    rows = []
    for k, prior in loaded.spec.parameters.items():
        if not prior.integer:
            continue
        values = posterior[k].to_numpy()
        for v in sorted(set(values.tolist())):
            at = values == v
            row: dict[str, Any] = {"parameter": k, "value": int(v),
                                   "weight": float(w[at].sum() / w.sum())}
            for other in loaded.spec.parameters:
                if other != k:
                    row[other] = weighted_quantiles(posterior[other].to_numpy(float)[at],
                                                    w[at], [0.5])[0]
            rows.append(row)
    return rows


# ---------------------------------------------------------------- outputs


def write_outputs(loaded: LoadedCalibration, out: Path, pops, post, pred,
                  stability: list[dict[str, Any]] | None = None) -> None:
    """posterior.csv, populations.csv, predictive.csv, summary.json, the figures
    (posterior marginals and pairs, epsilon and acceptance by population, the predictive
    checks) and REPORT.md, beside history.db. ``stability``: :func:`stability_table`."""
    from ctsim.analysis import figures
    from ctsim.runs.store import atomic_write

    spec = loaded.spec
    atomic_write(out / POSTERIOR_FILE, post.to_csv(index=False, float_format="%.8g").encode())
    atomic_write(out / "populations.csv", pops.to_csv(index=False, float_format="%.6g").encode())
    atomic_write(out / "predictive.csv", pred.to_csv(index=False, float_format="%.6g").encode())
    params = parameter_summary(loaded, post)
    doc = {"calibration": spec.name, "ctsim_version": __version__, "seed": spec.seed,
           "scenario": spec.scenario, "replications": spec.replications,
           "population": spec.population, "populations_run": len(pops),
           "fit": spec.fit, "held_out": spec.held_out,
           "parameters": params, "modes": integer_modes(loaded, post),
           "populations": pops.to_dict(orient="records"),
           "stability": stability or [],
           "predictive": pred.to_dict(orient="records")}
    atomic_write(out / "summary.json", (json.dumps(doc, indent=2, default=float) + "\n").encode())
    staging = out / ".figures.partial"
    shutil.rmtree(staging, ignore_errors=True)
    priors = {k: p.range for k, p in spec.parameters.items()}
    figures.save(figures.posterior_marginals(post, priors, spec.name), staging / "marginals")
    figures.save(figures.posterior_pairs(post, priors, spec.name), staging / "pairs")
    figures.save(figures.abc_populations(pops, spec.name), staging / "populations")
    figures.save(figures.predictive_checks(pred, spec.name), staging / "predictive")
    shutil.rmtree(out / "figures", ignore_errors=True)
    staging.rename(out / "figures")
    atomic_write(out / "REPORT.md", report_text(loaded, pops, params, pred,
                                                integer_modes(loaded, post),
                                                stability).encode())


def _stop_reason(spec: Calibration, pops) -> str:
    """Which stopping rule ended the sampling, in words."""
    last = pops.iloc[-1]
    if len(pops) > 1 and abs(pops.iloc[-2].epsilon - last.epsilon) < spec.min_eps_diff:
        return (f"The sampling converged: epsilon fell by less than {spec.min_eps_diff:g} "
                "from one population to the next.")
    if last.acceptance_rate < spec.min_acceptance:
        return (f"The sampling stopped when the acceptance rate fell below "
                f"{spec.min_acceptance:g}.")
    if last.epsilon <= spec.min_epsilon:
        return f"The sampling stopped when epsilon reached {spec.min_epsilon:g}."
    return (f"The sampling stopped at its cap of {spec.populations} populations with epsilon "
            "still falling, so the posterior may narrow with more populations (raise "
            "`populations` and continue with `--resume`).")


def _stability_lines(spec: Calibration, stability: list[dict]) -> list[str]:
    """The report's paragraph and table on whether the posterior settled over the last
    populations (:func:`stability_table`)."""
    if not stability:
        return []
    ts = sorted({r["t"] for r in stability})
    lines = ["Whether the posterior settled: each parameter's weighted median and 95% "
             "credible interval in the last populations, and the largest move of the three "
             "from the population before, as a share of the prior's range. Epsilon keeps "
             "falling while each particle's runs are noisy (a population keeps the "
             "particles whose runs landed closest), so this, not epsilon, says whether more "
             "populations would change the posterior.", "",
             "| parameter | " + " | ".join(f"population {t}" for t in ts) + " | moved |",
             "| --- | " + " | ".join("---:" for _ in ts) + " | ---: |"]
    moves = []
    for k, prior in spec.parameters.items():
        rows = [r for r in stability if r["parameter"] == k]
        fmt = (lambda v: f"{v:.0f}") if prior.integer else (lambda v: f"{v:.3f}")
        cells = [f"{fmt(r['median'])} [{fmt(r['ci95_lo'])}, {fmt(r['ci95_hi'])}]"
                 for r in rows]
        moved = rows[-1]["moved"]
        moves.append(moved)
        lines.append(f"| `{k}` | " + " | ".join(cells)
                     + (" | |" if math.isnan(moved) else f" | {100 * moved:.0f}% |"))
    known = [m for m in moves if not math.isnan(m)]
    if known:
        lines += ["", f"From population {ts[-2]} to {ts[-1]} no median or interval bound "
                  f"moved by more than {100 * max(known):.0f}% of its prior's range."]
    return [*lines, ""]


def report_text(loaded: LoadedCalibration, pops, params: list[dict], pred,
                modes: list[dict] | None = None,
                stability: list[dict] | None = None) -> str:
    """REPORT.md: what was fitted and held out, how the sampling went, which parameters
    the data pin down, and how every target compares with the model."""
    spec = loaded.spec
    last = pops.iloc[-1]
    lines = [f"# {spec.name}", "", spec.description.strip(), "",
             f"Written by `ctsim calibrate {loaded.path.name}` (ctsim {__version__}, seed "
             f"{spec.seed}): ABC-SMC with {spec.population} particles a population, "
             f"{spec.replications} runs a particle, {len(pops)} populations; predictive "
             f"checks at {spec.predictive} posterior draws.", "",
             "## Sampling", "",
             "| population | epsilon | accepted | sampled | acceptance rate |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for r in pops.itertuples():
        lines.append(f"| {r.t} | {r.epsilon:.3f} | {r.particles} | {r.samples} | "
                     f"{r.acceptance_rate:.3f} |")
    if len(pops) > 1:
        prev = pops.iloc[-2].epsilon
        drop = 1 - last.epsilon / prev if prev > 0 else 0.0
        lines += ["", f"The last population lowered epsilon by {100 * drop:.0f}% "
                  f"({prev:.3f} to {last.epsilon:.3f}) at an acceptance rate of "
                  f"{last.acceptance_rate:.3f}. " + _stop_reason(spec, pops)]
    lines += ["", "![epsilon and acceptance](figures/populations.png)", ""]
    lines += _stability_lines(spec, stability or [])
    lines += ["## Parameters", "",
              "| parameter | prior | posterior median | 95% credible interval | shrinkage |"
              " pinned down |", "| --- | --- | ---: | ---: | ---: | --- |"]
    for p in params:
        fmt = (lambda v: f"{v:.0f}") if p["integer"] else (lambda v: f"{v:.3f}")
        lines.append(f"| `{p['parameter']}` | uniform [{fmt(p['prior_lo'])}, "
                     f"{fmt(p['prior_hi'])}] | {fmt(p['median'])} | [{fmt(p['ci95_lo'])}, "
                     f"{fmt(p['ci95_hi'])}] | {p['shrinkage']:.2f} | "
                     f"{'yes' if p['pinned'] else 'no'} |")
    pinned = [p["parameter"] for p in params if p["pinned"]]
    loose = [p["parameter"] for p in params if not p["pinned"]]
    lines += ["", "Shrinkage is 1 - (credible interval width / prior width); a parameter "
              "counts as pinned down when its interval covers less than half its prior. "
              + (f"The targets pin down {', '.join(f'`{k}`' for k in pinned)}. "
                 if pinned else "The targets pin down no parameter on its own. ")
              + (f"They leave {', '.join(f'`{k}`' for k in loose)} wide (95% intervals "
                 "over at least half the prior; the modes below show how they trade off): "
                 "results that depend on these should be reported under the posterior "
                 "(`uncertainty:`), not at one value." if loose else ""),
              "", "![posterior marginals](figures/marginals.png)", ""]
    for k in dict.fromkeys(m["parameter"] for m in modes or []):
        others = [o for o in spec.parameters if o != k]
        lines += [f"The posterior by value of `{k}` (share of the weight, and the other "
                  "parameters' medians at that value):", "",
                  f"| `{k}` | weight | " + " | ".join(f"`{o}`" for o in others) + " |",
                  "| ---: | ---: | " + " | ".join("---:" for _ in others) + " |"]
        for m in (m for m in modes or [] if m["parameter"] == k):
            lines.append(f"| {m['value']} | {m['weight']:.2f} | "
                         + " | ".join(f"{m[o]:.3g}" for o in others) + " |")
        lines.append("")
    lines += ["![posterior pairs](figures/pairs.png)", "",
              "## Targets: posterior predictive checks", "",
              "| target | role | observed (sd) | simulated mean | 95% predictive interval "
              "| z | consistent |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in pred.itertuples():
        lines.append(f"| `{r.target}` | {r.role.replace('_', ' ')} | {r.observed:.3f} "
                     f"({r.sd:.3f}) | {r.simulated_mean:.3f} | [{r.simulated_lo:.3f}, "
                     f"{r.simulated_hi:.3f}] | {r.z:+.2f} | {'yes' if r.consistent else 'no'} |")
    lines += ["", "z = (simulated mean - observed) / sqrt(sd^2 + simulated variance); a "
              "target is consistent when |z| < 1.96. Held-out targets took no part in the "
              "fit.", "", "![predictive checks](figures/predictive.png)", "",
              "## What each target is", ""]
    for n in loaded.used:
        t = loaded.targets[n]
        s = t.source
        lines.append(f"- `{n}` ({'fitted' if n in spec.fit else 'held out'}): {s.author} "
                     f"({s.year}), *{s.title}*, {s.where}. Read: {t.verified}. "
                     f"{' '.join(t.match.split())}")
    return "\n".join(lines) + "\n"
