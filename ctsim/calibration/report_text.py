"""A calibration's REPORT.md: what was fitted and held out, under which error models, how
the sampling went and how precise its particles are, what the posterior says by mode, and
how every target compares with the model."""

from __future__ import annotations

import math

from ctsim._version import __version__
from ctsim.calibration.files import Calibration, LoadedCalibration

#: A bound counts as near when within this share of the prior's range of it.
EDGE = 0.05
#: A mode is flagged when more than this share of its posterior lies near a bound.
EDGE_FLAG = 0.10

#: A 2.5% quantile is called well resting when at least this many effective particles lie
#: beyond it (0.025 x ESS): the tail's share is then known to about +-20% of itself.
TAIL_PARTICLES = 25

#: The share of a target's likelihood variance from the simulator above which the report
#: says the posterior means more the simulator's noise than the stated error.
NOISY = 0.5


def mode_name(mode: dict[str, int]) -> str:
    """A mode in words: ``threat.evidence_threshold = 2`` (``all`` for no integer)."""
    return ", ".join(f"{k} = {v}" for k, v in mode.items()) or "all"


def _fmt(integer: bool):
    """A value's format: whole numbers for an integer parameter, else three decimals."""
    return (lambda v: f"{v:.0f}") if integer else (lambda v: f"{v:.3f}")


def _error_model(t) -> str:
    """A target's error model in words."""
    if t.kind == "normal":
        return f"normal, sd {t.sd:.3g}"
    if t.kind in ("upper", "lower"):
        side = "at most" if t.kind == "upper" else "at least"
        return f"{side} {t.observed:.3g}, soft edge {t.sd:.3g}"
    counts = ", ".join(f"{c.year}: {c.count}/{c.of}" for c in t.counts)
    return f"beta-binomial series ({counts}), overdispersion {t.overdispersion:.3g}"


def _stop_reason(spec: Calibration, pops) -> str:
    """Which stopping rule ended the sampling, in words."""
    last = pops.iloc[-1]
    if spec.method == "stochastic":
        if last.epsilon <= 1.0:
            return (f"The sampling reached temperature 1 at population {int(last.t)}: its "
                    "particles are a sample of the posterior the targets' error models "
                    "imply.")
        reason = ("the acceptance rate fell below `min_acceptance` "
                  f"({spec.min_acceptance:g})" if last.acceptance_rate < spec.min_acceptance
                  else f"it reached its cap of {spec.populations} populations")
        return (f"**The sampling stopped at temperature {last.epsilon:.3g}, not 1**, because "
                f"{reason}: the posterior is tempered, wider than the stated errors imply. "
                "Continue it with `--resume` (a lower `min_acceptance` or a larger "
                "`populations`) before reading it.")
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
    """The rejection-distance report's table of the last populations' quantiles."""
    if not stability:
        return []
    ts = sorted({r["t"] for r in stability})
    lines = ["How the last populations' quantiles moved: each parameter's weighted median "
             "and 95% credible interval, and the largest move of the three from the "
             "population before, as a share of the prior's range. Compare the moves with "
             "the Monte Carlo intervals of the table of parameters below: a move within "
             "them says nothing about convergence.", "",
             "| parameter | " + " | ".join(f"population {t}" for t in ts) + " | moved |",
             "| --- | " + " | ".join("---:" for _ in ts) + " | ---: |"]
    for k, prior in spec.parameters.items():
        rows = [r for r in stability if r["parameter"] == k]
        fmt = _fmt(prior.integer)
        cells = [f"{fmt(r['median'])} [{fmt(r['ci95_lo'])}, {fmt(r['ci95_hi'])}]"
                 for r in rows]
        moved = rows[-1]["moved"]
        lines.append(f"| `{k}` | " + " | ".join(cells)
                     + (" | |" if math.isnan(moved) else f" | {100 * moved:.0f}% |"))
    return [*lines, ""]


def _error_lines(loaded: LoadedCalibration, noise: list[dict]) -> list[str]:
    """What the posterior means: each fitted target's error model, stated sd and the
    simulator's noise in the pooled runs (the stochastic method)."""
    spec = loaded.spec
    lines = ["## What the posterior means", "",
             "Each fitted target's error model is the likelihood of its observation given "
             f"the model's value over a particle's {spec.replications} pooled runs; the "
             "last population, at temperature 1, samples the posterior under it (Wilkinson "
             "2013). The simulator's noise in the pooled value is therefore part of the "
             "likelihood: for a normal target the observation's variance about the "
             "model's expected value is the stated sd^2 plus that noise^2.", "",
             "| target | error model | stated sd | simulator's noise (sd of the pooled "
             "runs) | total sd | share of the variance from the simulator |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    noisy = []
    for r in noise:
        t = loaded.targets[r["target"]]
        known = math.isfinite(r["simulator_sd"])
        lines.append(f"| `{r['target']}` | {_error_model(t)} | {r['stated_sd']:.3f} | "
                     + (f"{r['simulator_sd']:.3f} | {r['total_sd']:.3f} | "
                        f"{100 * r['simulator_share']:.0f}% |" if known else "n/a | n/a | n/a |"))
        if known and r["simulator_share"] > NOISY:
            noisy.append(r["target"])
    lines += ["", "The simulator's noise is each particle's jackknife estimate over its "
              "replications (the weighted median over the last population). For a one-sided "
              "or series target the stated sd is its edge's width or the beta-binomial sd "
              "of its pooled share."]
    if noisy:
        lines += ["", f"For {', '.join(f'`{n}`' for n in noisy)} more than half the "
                  "likelihood's variance is the simulator's: the posterior there means the "
                  "model's run-to-run noise more than the published figure's error. Raise "
                  "`replications` to narrow it (the noise variance falls as 1/replications)."]
    return [*lines, ""]


def _sampling_lines(loaded: LoadedCalibration, pops, params: list[dict]) -> list[str]:
    """The populations table and the stopping rule."""
    spec = loaded.spec
    threshold = "temperature" if spec.method == "stochastic" else "epsilon"
    lines = ["## Sampling", "",
             f"| population | {threshold} | accepted | sampled | acceptance rate | ESS |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in pops.itertuples():
        lines.append(f"| {r.t} | {r.epsilon:.4g} | {r.particles} | {r.samples} | "
                     f"{r.acceptance_rate:.3f} | {r.ess:.0f} |")
    lines += ["", _stop_reason(spec, pops)]
    last = pops.iloc[-1]
    lines += ["", f"The last population's {int(last.particles)} particles have an effective "
              f"sample size (ESS) of {last.ess:.0f}."]
    continuous = [p for p in params if not p["integer"]]
    if continuous:
        tail = min(min(p["tail_lo"], p["tail_hi"]) for p in continuous)
        lines[-1] += (
            " The fewest effective particles beyond a bound of a continuous parameter's 95% "
            "credible interval (from the Monte Carlo variance of the tail's share, which "
            f"heavy weights in a tail raise) are {tail:.0f}"
            + (f": fewer than {TAIL_PARTICLES}, so the intervals' bounds are rough (raise "
               "`population`, or pool several seeds)." if tail < TAIL_PARTICLES else
               f" (at least {TAIL_PARTICLES}: each tail's share is known to about "
               f"+-{100 * math.sqrt(0.975 / tail):.0f}% of itself)."))
    lines += ["", "![threshold and acceptance](figures/populations.png)", ""]
    return lines


def _parameter_lines(params: list[dict]) -> list[str]:
    """The parameters' table: prior, median, interval and their Monte Carlo precision."""
    lines = ["## Parameters", "",
             "| parameter | prior | posterior median | 95% credible interval | Monte Carlo "
             "95% intervals of the 2.5% and 97.5% quantiles | shrinkage | pinned down |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for p in params:
        fmt = _fmt(p["integer"])
        lines.append(f"| `{p['parameter']}` | uniform [{fmt(p['prior_lo'])}, "
                     f"{fmt(p['prior_hi'])}] | {fmt(p['median'])} | [{fmt(p['ci95_lo'])}, "
                     f"{fmt(p['ci95_hi'])}] | [{fmt(p['mc_lo'][0])}, {fmt(p['mc_lo'][1])}]; "
                     f"[{fmt(p['mc_hi'][0])}, {fmt(p['mc_hi'][1])}] | {p['shrinkage']:.2f} | "
                     f"{'yes' if p['pinned'] else 'no'} |")
    pinned = [p["parameter"] for p in params if p["pinned"]]
    loose = [p["parameter"] for p in params if not p["pinned"]]
    lines += ["", "Shrinkage is 1 - (credible interval width / prior width); a parameter "
              "counts as pinned down when its interval covers less than half its prior. The "
              "Monte Carlo intervals (Woodruff 1952, from the Monte Carlo variance of the "
              "weighted share below each quantile) say where another calibration's "
              "particles could put the same quantile. "
              + (f"The targets pin down {', '.join(f'`{k}`' for k in pinned)}. "
                 if pinned else "The targets pin down no parameter on its own. ")
              + (f"They leave {', '.join(f'`{k}`' for k in loose)} wide: results that depend "
                 "on these should be reported under the posterior (`uncertainty:`), not at "
                 "one value." if loose else ""),
              "", "![posterior marginals](figures/marginals.png)", ""]
    return lines


def _mode_lines(loaded: LoadedCalibration, modes: list[dict],
                by_mode: list[dict]) -> list[str]:
    """The posterior per mode, by value, with the flags of modes pressed on a bound."""
    spec = loaded.spec
    if not modes:
        return []
    others = [k for k in spec.parameters if k not in modes[0]["mode"]]
    lines = ["## The posterior by mode", "",
             ("Each value of the integer parameters is a mode, listed by value. "
              if modes[0]["mode"] else "No parameter is an integer: the posterior is one "
              "group. ")
             + "Modes are not ranked: where the targets leave a ridge open, a mode's "
             "share of the weight is the prior's volume along it as much as anything the "
             "data prefer, so the share is shown for reference and carries no ranking.", "",
             "| mode | particles | share of the weight | ESS | "
             + " | ".join(f"`{k}` median [95%]" for k in others) + " |",
             "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in others) + " |"]
    flagged = []
    for m in modes:
        cells = []
        for k in others:
            p = m["parameters"][k]
            fmt = _fmt(spec.parameters[k].integer)
            mark = " (!)" if k in m["flags"] else ""
            cells.append(f"{fmt(p['median'])} [{fmt(p['ci95_lo'])}, {fmt(p['ci95_hi'])}]{mark}")
        lines.append(f"| {mode_name(m['mode'])} | {m['particles']} | {m['share']:.2f} | "
                     f"{m['ess']:.0f} | " + " | ".join(cells) + " |")
        for k in m["flags"]:
            p = m["parameters"][k]
            side, share = (("lower", p["near_lo"]) if p["near_lo"] >= p["near_hi"]
                           else ("upper", p["near_hi"]))
            bound = spec.parameters[k].range[0 if side == "lower" else 1]
            flagged.append(f"- **{mode_name(m['mode'])}**: {100 * share:.0f}% of the mode's "
                           f"weight has `{k}` within {100 * EDGE:.0f}% of the prior's range "
                           f"of its {side} bound ({bound:g}). The prior, not the data, may "
                           "end this mode: widen it (a prior-sensitivity calibration) "
                           "before reading the mode's extent or share.")
    lines += ["", f"(!): more than {100 * EDGE_FLAG:.0f}% of the mode's weight lies within "
              f"{100 * EDGE:.0f}% of the prior's range of a bound."]
    ends = [mode_name(m["mode"]) for m in modes if m["at_end"] and m["share"] > EDGE_FLAG]
    if ends:
        one = len(ends) == 1
        lines += ["", f"{' and '.join(ends)} {'lies' if one else 'lie'} at the end of the "
                  f"prior's range and {'holds' if one else 'each hold'} more than "
                  f"{100 * EDGE_FLAG:.0f}% of the weight: values beyond were not allowed, "
                  "so the posterior may continue past the prior there."]
    if flagged:
        lines += ["", *flagged]
    else:
        lines += ["", "No mode presses against a bound of its prior."]
    lines += ["", "![posterior pairs](figures/pairs.png)", ""]
    if by_mode and len(by_mode) > 1:
        lines += ["Each mode's predictive checks (the posterior draws that fell in it): the "
                  "targets' simulated mean and 95% interval.", "",
                  "| target | observed | " + " | ".join(
                      f"{mode_name(b['mode'])} ({b['draws']} draws)" for b in by_mode) + " |",
                  "| --- | ---: | " + " | ".join("---:" for _ in by_mode) + " |"]
        for n in loaded.used:
            cells = []
            for b in by_mode:
                row = next(r for r in b["targets"] if r["target"] == n)
                cells.append("n/a" if not row["draws"] else
                             f"{row['simulated_mean']:.3f} [{row['simulated_lo']:.3f}, "
                             f"{row['simulated_hi']:.3f}]")
            lines.append(f"| `{n}` | {loaded.targets[n].reference:.3f} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    return lines


def report_text(loaded: LoadedCalibration, pops, params: list[dict], pred,
                modes: list[dict] | None = None, stability: list[dict] | None = None,
                noise: list[dict] | None = None, by_mode: list[dict] | None = None) -> str:
    """REPORT.md: what was fitted and held out under which error models, how the sampling
    went, which parameters the data pin down and by mode, and how every target compares
    with the model."""
    spec = loaded.spec
    method = ("ABC-SMC with a stochastic acceptor (each target's error model as its "
              "kernel, tempered to temperature 1)" if spec.method == "stochastic" else
              "ABC-SMC on the standardized distance with a falling epsilon")
    kernel = (f"a local perturbation kernel ({spec.neighbours:g} of the population as "
              "neighbours)" if spec.kernel == "local" else "one global perturbation kernel")
    lines = [f"# {spec.name}", "", spec.description.strip(), "",
             f"Written by `ctsim calibrate {loaded.path.name}` (ctsim {__version__}, seed "
             f"{spec.seed}): {method}, {kernel}, {spec.population} particles a population, "
             f"{spec.replications} runs a particle, {len(pops)} populations; predictive "
             f"checks at {spec.predictive} posterior draws.", ""]
    if spec.method == "stochastic":
        lines += _error_lines(loaded, noise or [])
    lines += _sampling_lines(loaded, pops, params)
    lines += _stability_lines(spec, stability or [])
    lines += _parameter_lines(params)
    lines += _mode_lines(loaded, modes or [], by_mode or [])
    lines += ["## Targets: posterior predictive checks", "",
              "| target | role | error model | observed (sd) | simulated mean | 95% "
              "predictive interval | z | consistent |",
              "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in pred.itertuples():
        lines.append(f"| `{r.target}` | {r.role.replace('_', ' ')} | {r.kind} | "
                     f"{r.observed:.3f} ({r.sd:.3f}) | {r.simulated_mean:.3f} | "
                     f"[{r.simulated_lo:.3f}, {r.simulated_hi:.3f}] | {r.z:+.2f} | "
                     f"{'yes' if r.consistent else 'no'} |")
    lines += ["", "z = (simulated mean - observed) / sqrt(sd^2 + simulated variance); a "
              "target is consistent when |z| < 1.96 (a one-sided one: not past its bound "
              "by 1.96 or more). A series is shown by its pooled share and the "
              "beta-binomial sd of it. Held-out targets took no part in the fit.", "",
              "![predictive checks](figures/predictive.png)", "",
              "## What each target is", ""]
    for n in loaded.used:
        t = loaded.targets[n]
        s = t.source
        lines.append(f"- `{n}` ({'fitted' if n in spec.fit else 'held out'}; "
                     f"{_error_model(t)}): {s.author} ({s.year}), *{s.title}*, {s.where}. "
                     f"Read: {t.verified}. {' '.join(t.match.split())}")
    return "\n".join(lines) + "\n"
