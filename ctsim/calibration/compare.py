"""Several calibrations side by side: independent seeds of one calibration (``seeds:``,
``ctsim calibrate --seed``), and calibrations of one model under other priors (a
prior-sensitivity variant, ``--compare-with``).

A seed's calibration is written to ``<out>/seed-<S>/``; the comparison of every posterior
found there and in the folders compared with goes to ``<out>/comparison/``:
``comparison.csv`` (one row a posterior and parameter), ``comparison_values.csv`` (an
integer parameter's share of the weight on each value), ``figures/marginals.png`` and
COMPARISON.md. The seeds' posteriors pooled (each seed a equal share of the weight) go to
``<out>/pooled/posterior.csv``, the posterior to draw from (``uncertainty:``), once every
seed has reached temperature 1.

Whether seeds agree is judged against their Monte Carlo error by Cochran's Q: a
continuous parameter's medians (standard errors from Woodruff 1952 intervals), an integer
parameter's share on each value; every standard error is the importance-sampling one of
the seed's weighted particles.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ctsim.calibration.report import Z95, ess, quantile_precision
from ctsim.errors import OutputError, ResultsError
from ctsim.runs.posterior import POSTERIOR_FILE, read_posterior

#: The folder of one seed's calibration in a calibration's results folder.
SEED_FOLDER = "seed-{seed}"
#: The comparison's folder in a calibration's results folder.
COMPARISON = "comparison"
#: The folder of the seeds' pooled posterior in a calibration's results folder.
POOLED = "pooled"

#: Okabe and Ito's (2008) palette, told apart with every common colour-vision deficiency
#: (black first, yellow left out: too pale on white).
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7")
#: Line styles, a second cue beside the colour (and in print without colour).
STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 2)))

#: Below this p-value seeds are said to differ beyond their Monte Carlo error.
DIFFER = 0.01


def seed_folder(base: Path, seed: int) -> Path:
    """Where seed ``seed``'s calibration is written under ``base``."""
    return Path(base) / SEED_FOLDER.format(seed=int(seed))


def check_base(base: Path) -> None:
    """Refuse a folder for several seeds' calibrations that holds anything but seed
    folders, a comparison and hidden lock or staging files.

    Raises:
        OutputError: one line naming the folder.
    """
    base = Path(base)
    if base.exists() and not base.is_dir():
        raise OutputError(f"{base}: exists and is not a folder")
    if not base.is_dir():
        return
    pattern = re.compile(r"^(seed-\d+|comparison|pooled)$")
    for entry in base.iterdir():
        if not (entry.name.startswith(".") or pattern.match(entry.name)):
            raise OutputError(f"{base}: holds files that are not a calibration's seeds "
                              f"('{entry.name}'); choose an empty or new folder")


@dataclass(frozen=True)
class Stored:
    """One finished calibration's posterior, as a comparison reads it."""

    folder: Path
    calibration: str
    seed: int
    method: str
    final_temperature: float | None
    priors: dict[str, tuple[float, float, bool]]  # parameter -> (lo, hi, integer)
    posterior: Any  # pandas.DataFrame: parameters and weight

    @property
    def label(self) -> str:
        """The posterior in words: ``calibration, seed S``."""
        return f"{self.calibration}, seed {self.seed}"


def read_stored(folder: Path) -> Stored:
    """A finished calibration's posterior.csv and summary.json.

    Raises:
        ResultsError: no finished calibration there.
    """
    folder = Path(folder)
    post = read_posterior(folder)
    try:
        doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        priors = {p["parameter"]: (float(p["prior_lo"]), float(p["prior_hi"]),
                                   bool(p["integer"])) for p in doc["parameters"]}
        stored = Stored(folder, str(doc["calibration"]), int(doc["seed"]),
                        str(doc.get("method", "rejection-distance")),
                        doc.get("final_temperature"), priors, post)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ResultsError(f"{folder}: no readable summary.json of a finished calibration "
                           f"({type(exc).__name__})") from None
    return stored


def finished_in(folder: Path) -> list[Path]:
    """The finished calibrations in ``folder``: the folder itself when it holds one, else
    its seed folders that do, by seed."""
    folder = Path(folder)
    if (folder / POSTERIOR_FILE).is_file():
        return [folder]
    found = [f for f in folder.glob("seed-*") if (f / POSTERIOR_FILE).is_file()
             and re.fullmatch(r"seed-\d+", f.name)]
    return sorted(found, key=lambda f: int(f.name.split("-")[1]))


# ---------------------------------------------------------------- tables


def comparison_tables(stored: list[Stored]):
    """(continuous, values): per posterior and parameter its median, 95% credible
    interval, their Monte Carlo intervals, mean and its Monte Carlo standard error, ESS
    and final temperature; per posterior, integer parameter and value its share of the
    weight and that share's Monte Carlo standard error. Standard errors are the
    importance-sampling ones of a self-normalized estimate, sqrt(sum(w_i^2 (f_i -
    estimate)^2)) with normalized weights (``f``: the parameter, or 1 on the value)."""
    import pandas as pd

    rows, values = [], []
    for s in stored:
        w = s.posterior["weight"].to_numpy(float)
        n = ess(w)
        for k, (lo, hi, integer) in s.priors.items():
            if k not in s.posterior:
                continue
            v = s.posterior[k].to_numpy(float)
            q_lo, med, q_hi = _quantiles(v, w)
            m_lo, m_hi = quantile_precision(v, w, 0.5)
            rows.append({"calibration": s.calibration, "seed": s.seed, "parameter": k,
                         "integer": integer, "prior_lo": lo, "prior_hi": hi,
                         "median": med, "median_mc_lo": m_lo, "median_mc_hi": m_hi,
                         "ci95_lo": q_lo, "ci95_hi": q_hi, "ess": n,
                         "final_temperature": s.final_temperature})
            wn = w / w.sum()
            rows[-1]["mean"] = float(np.sum(wn * v))
            rows[-1]["mean_se"] = float(math.sqrt(np.sum(wn ** 2 * (v - rows[-1]["mean"]) ** 2)))
            if integer:
                for value in range(int(lo), int(hi) + 1):
                    at = (v == value).astype(float)
                    p = float(np.sum(wn * at))
                    values.append({"calibration": s.calibration, "seed": s.seed,
                                   "parameter": k, "value": value, "share": p,
                                   "share_se": float(math.sqrt(np.sum(wn ** 2 * (at - p) ** 2)))})
    return pd.DataFrame(rows), pd.DataFrame(values)


def _quantiles(v: np.ndarray, w: np.ndarray) -> list[float]:
    """The weighted 2.5%, 50% and 97.5% quantiles."""
    from ctsim.analysis.stats import weighted_quantiles

    return weighted_quantiles(v, w, [0.025, 0.5, 0.975])


def _cochran(estimates: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Cochran's Q of independent estimates with standard errors ``se`` (their
    inverse-variance mean as the common value) and its chi-square p-value."""
    from scipy import stats

    wi = 1 / np.maximum(se, 1e-12) ** 2
    mean = float(np.sum(wi * estimates) / np.sum(wi))
    q = float(np.sum(wi * (estimates - mean) ** 2))
    return q, float(stats.chi2.sf(q, len(estimates) - 1))


def seeds_agree(table, values) -> list[dict[str, Any]]:
    """Per calibration with several seeds and per parameter: whether its seeds agree
    within their Monte Carlo error (Cochran 1954). Continuous: Cochran's Q of the medians
    (standard errors: the Monte Carlo interval's width / 3.92), chi-square with (seeds - 1)
    degrees of freedom. Integer: Cochran's Q of each value's share, the smallest p-value
    times the number of values (Bonferroni). ``p`` is the test's p-value; the seeds
    ``differ`` when p < :data:`DIFFER`."""
    out = []
    for (cal, k), part in table.groupby(["calibration", "parameter"], sort=False):
        if len(part) < 2:
            continue
        if bool(part["integer"].iloc[0]):
            sub = values[(values["calibration"] == cal) & (values["parameter"] == k)]
            tests = []
            for _, rows in sub.groupby("value"):
                if rows["share"].max() > 0:
                    tests.append(_cochran(rows["share"].to_numpy(float),
                                          rows["share_se"].to_numpy(float)))
            q, p = max(tests, key=lambda t: t[0]) if tests else (0.0, 1.0)
            p = min(1.0, p * max(len(tests), 1))
            test = "Cochran's Q of each value's share (Bonferroni)"
        else:
            se = ((part["median_mc_hi"] - part["median_mc_lo"]).to_numpy(float) / (2 * Z95))
            se = np.maximum(se, 1e-12 * (part["prior_hi"] - part["prior_lo"]).to_numpy(float))
            q, p = _cochran(part["median"].to_numpy(float), se)
            test = "Cochran's Q of the medians"
        out.append({"calibration": cal, "parameter": k, "seeds": len(part),
                    "test": test, "statistic": float(q), "p": float(p),
                    "differ": bool(p < DIFFER)})
    return out


# ---------------------------------------------------------------- figure


def _styles(stored: list[Stored]) -> list[tuple[str, Any]]:
    """(colour, line style) of each posterior: one calibration: each seed its own colour
    and style; several: a colour per calibration, a style per seed within it."""
    names = list(dict.fromkeys(s.calibration for s in stored))
    out = []
    if len(names) == 1:
        for i, _ in enumerate(stored):
            out.append((PALETTE[i % len(PALETTE)], STYLES[i % len(STYLES)]))
        return out
    seen: dict[str, int] = {}
    for s in stored:
        j = seen.get(s.calibration, 0)
        seen[s.calibration] = j + 1
        out.append((PALETTE[names.index(s.calibration) % len(PALETTE)],
                    STYLES[j % len(STYLES)]))
    return out


def _density(v: np.ndarray, w: np.ndarray, lo: float, hi: float, grid: np.ndarray
             ) -> np.ndarray:
    """A weighted Gaussian kernel density of ``v`` on ``grid`` (Scott's bandwidth from
    the ESS), reflected at the prior's bounds so that no mass leaks past them; 0 outside
    [lo, hi]."""
    from scipy.stats import gaussian_kde

    if len(np.unique(v)) < 2:
        dens = np.zeros_like(grid)
        dens[np.argmin(np.abs(grid - v[0]))] = 1.0 / (grid[1] - grid[0])
        return dens
    kde = gaussian_kde(v, weights=w)
    dens = kde(grid) + kde(2 * lo - grid) + kde(2 * hi - grid)
    dens[(grid < lo) | (grid > hi)] = 0.0
    return dens


def comparison_figure(stored: list[Stored], title: str):
    """Each parameter's marginal posterior, one line (a colour and a line style) per
    posterior: a reflected weighted density for a continuous parameter, the share of the
    weight on each value for an integer one; each calibration's prior range marked by
    short ticks of its colour below the axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ctsim.analysis.layout import factor_label

    names = list(dict.fromkeys(k for s in stored for k in s.priors))
    cols = min(len(names), 3)
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    styles = _styles(stored)
    for ax, k in zip(axes.flat, names, strict=False):
        known = [s for s in stored if k in s.priors]
        lo = min(s.priors[k][0] for s in known)
        hi = max(s.priors[k][1] for s in known)
        integer = known[0].priors[k][2]
        for i, s in enumerate(stored):
            if k not in s.priors:
                continue
            colour, style = styles[i]
            v = s.posterior[k].to_numpy(float)
            w = s.posterior["weight"].to_numpy(float)
            plo, phi, _ = s.priors[k]
            if integer:
                xs = np.arange(int(plo), int(phi) + 1)
                share = [float(w[v == x].sum() / w.sum()) for x in xs]
                offset = (i - (len(stored) - 1) / 2) * 0.06
                ax.plot(xs + offset, share, color=colour, ls=style, lw=1.6, marker="o",
                        ms=3.5, label=s.label)
            else:  # drawn over its own prior only: outside it there is no posterior
                grid = np.linspace(plo, phi, 400)
                ax.plot(grid, _density(v, w, plo, phi, grid), color=colour, ls=style,
                        lw=1.6, label=s.label)
            ax.plot([plo, phi], [0, 0], ls="", marker="|", ms=10, mew=2, color=colour,
                    clip_on=False, zorder=5)
        ax.set_xlabel(f"{factor_label(k)}\n({k})", fontsize=8)
        ax.set_ylabel("share of the weight" if integer else "density")
        if integer:
            ax.set_xticks(range(int(lo), int(hi) + 1))
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3),
               frameon=False, fontsize=8, bbox_to_anchor=(0.5, -0.02),
               handlelength=3.5)
    fig.suptitle(f"{title}: posterior marginals by calibration and seed "
                 "(ticks on the axis: each prior's range)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06 + 0.025 * math.ceil(len(labels) / 3), 1, 1))
    return fig


# ---------------------------------------------------------------- writing


def comparison_text(stored: list[Stored], table, values, agree: list[dict],
                    note: str = "") -> str:
    """COMPARISON.md: the posteriors' medians, intervals and Monte Carlo precision side by
    side, whether each calibration's seeds agree within their Monte Carlo error, and how
    the posterior moves between calibrations (priors)."""
    lines = ["# Posteriors compared", "",
             "Independent calibrations side by side: " + "; ".join(
                 f"`{s.label}` ({s.folder.name}"
                 + (f", final temperature {s.final_temperature:.3g}"
                    if s.final_temperature is not None else ", rejection-distance")
                 + ")" for s in stored) + ".", ""]
    if note:
        lines += [note, ""]
    hot = [s.label for s in stored if s.final_temperature is not None
           and s.final_temperature > 1.0]
    if hot:
        lines += [f"**Not at temperature 1** (tempered, wider than the stated errors imply): "
                  f"{', '.join(hot)}.", ""]
    lines += ["![marginals](figures/marginals.png)", "",
              "| parameter | calibration, seed | prior | median [Monte Carlo 95%] | 95% "
              "credible interval | ESS |", "| --- | --- | --- | ---: | ---: | ---: |"]
    order = {k: i for i, k in enumerate(dict.fromkeys(table["parameter"]))}
    shown = table.assign(_at=table["parameter"].map(order)).sort_values("_at", kind="stable")
    for r in shown.itertuples():
        fmt = (lambda v: f"{v:.0f}") if r.integer else (lambda v: f"{v:.3f}")
        lines.append(f"| `{r.parameter}` | {r.calibration}, {r.seed} | [{fmt(r.prior_lo)}, "
                     f"{fmt(r.prior_hi)}] | {fmt(r.median)} [{fmt(r.median_mc_lo)}, "
                     f"{fmt(r.median_mc_hi)}] | [{fmt(r.ci95_lo)}, {fmt(r.ci95_hi)}] | "
                     f"{r.ess:.0f} |")
    if len(values):
        lines += ["", "Integer parameters, share of the weight on each value (Monte Carlo "
                  "standard error):", ""]
        for k, part in values.groupby("parameter", sort=False):
            vals = sorted(part["value"].unique())
            lines += [f"| `{k}` | " + " | ".join(str(v) for v in vals) + " |",
                      "| --- | " + " | ".join("---:" for _ in vals) + " |"]
            for (cal, seed), rows in part.groupby(["calibration", "seed"], sort=False):
                got = rows.set_index("value")
                lines.append(f"| {cal}, {seed} | " + " | ".join(
                    f"{got.loc[v, 'share']:.2f} ({got.loc[v, 'share_se']:.2f})"
                    if v in got.index else "outside the prior" for v in vals) + " |")
            lines.append("")
    if agree:
        lines += ["", "## Do the seeds agree?", "",
                  "| calibration | parameter | seeds | test | statistic | p | agree |",
                  "| --- | --- | ---: | --- | ---: | ---: | --- |"]
        for a in agree:
            lines.append(f"| {a['calibration']} | `{a['parameter']}` | {a['seeds']} | "
                         f"{a['test']} | {a['statistic']:.2f} | {a['p']:.3f} | "
                         f"{'no' if a['differ'] else 'yes'} |")
        differ = [a for a in agree if a["differ"]]
        lines += ["", f"Seeds differ beyond their Monte Carlo error (p < {DIFFER:g}) for "
                  + ", ".join(f"`{a['parameter']}` ({a['calibration']})" for a in differ)
                  + ": the sampler has not mixed across the posterior there (more particles, "
                  "or another kernel)." if differ else
                  "The seeds of each calibration agree within their Monte Carlo error."]
    calibrations = list(dict.fromkeys(s.calibration for s in stored))
    if len(calibrations) > 1:
        lines += ["", "## How the posterior moves with the prior", "",
                  "Each calibration's posterior mean pooled over its seeds (inverse-variance "
                  "weights of their Monte Carlo standard errors, sd / sqrt(ESS)), and the "
                  "move from the first calibration as a share of the first one's prior "
                  "range and in standard errors.", "",
                  "| parameter | " + " | ".join(calibrations) + " | move |",
                  "| --- | " + " | ".join("---:" for _ in calibrations) + " | --- |"]
        for k in dict.fromkeys(table["parameter"]):
            pooled = []
            for cal in calibrations:
                part = table[(table["calibration"] == cal) & (table["parameter"] == k)]
                if not len(part):
                    pooled.append(None)
                    continue
                se = np.maximum(part["mean_se"].to_numpy(float), 1e-12)
                wi = 1 / se ** 2
                pooled.append((float(np.sum(wi * part["mean"]) / np.sum(wi)),
                               float(1 / math.sqrt(np.sum(wi))), part.iloc[0]))
            first = pooled[0]
            cells, moves = [], []
            for got in pooled:
                cells.append("n/a" if got is None else f"{got[0]:.3g}")
                if got is not None and first is not None and got is not first:
                    width = first[2].prior_hi - first[2].prior_lo
                    sigmas = abs(got[0] - first[0]) / math.hypot(got[1], first[1])
                    moves.append(f"{100 * (got[0] - first[0]) / width:+.0f}% of the range, "
                                 f"{sigmas:.1f} se")
            lines.append(f"| `{k}` | " + " | ".join(cells) + " | " + "; ".join(moves) + " |")
    return "\n".join(lines) + "\n"


def write_comparison(stored: list[Stored], out: Path, title: str, note: str = "") -> Path:
    """Write the comparison of ``stored`` (at least two posteriors) to ``out``
    (comparison.csv, comparison_values.csv, agreement.csv, figures/marginals.png,
    COMPARISON.md with ``note`` after its first paragraph), replacing an earlier
    comparison there whole."""
    from ctsim.analysis import figures
    from ctsim.runs.store import atomic_write

    out = Path(out)
    table, values = comparison_tables(stored)
    agree = seeds_agree(table, values)
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    atomic_write(staging / "comparison.csv",
                 table.to_csv(index=False, float_format="%.6g").encode())
    atomic_write(staging / "comparison_values.csv",
                 values.to_csv(index=False, float_format="%.6g").encode())
    import pandas as pd

    atomic_write(staging / "agreement.csv",
                 pd.DataFrame(agree).to_csv(index=False, float_format="%.6g").encode())
    figures.save(comparison_figure(stored, title), staging / "figures" / "marginals")
    atomic_write(staging / "COMPARISON.md",
                 comparison_text(stored, table, values, agree, note).encode())
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def pooled_posterior(stored: list[Stored]):
    """The posteriors of several seeds of one calibration as one: every particle, each
    seed's weights scaled to sum to 1 / seeds (independent samplers of the same posterior,
    so the pool is a sample of it with the seeds' effective sizes added)."""
    import pandas as pd

    parts = []
    for s in stored:
        part = s.posterior.copy()
        part["weight"] = part["weight"] / part["weight"].sum() / len(stored)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def pool_reason(stored: list[Stored]) -> str | None:
    """Why the seeds of ``stored`` cannot be pooled (None when they can): fewer than two,
    several calibrations, a seed not at temperature 1, or seeds that disagree on a
    parameter beyond their Monte Carlo error (:func:`seeds_agree`)."""
    if len(stored) < 2:
        return "fewer than two seeds"
    if len({s.calibration for s in stored}) > 1:
        return "several calibrations"
    hot = [s.label for s in stored if s.final_temperature is not None
           and s.final_temperature > 1.0]
    if hot:
        return f"not at temperature 1: {', '.join(hot)}"
    differ = [a["parameter"] for a in seeds_agree(*comparison_tables(stored)) if a["differ"]]
    if differ:
        return (f"the seeds disagree beyond their Monte Carlo error on {', '.join(differ)}: "
                "run more particles, or read each seed's posterior")
    return None
