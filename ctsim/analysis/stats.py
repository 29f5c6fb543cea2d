"""The statistics every table, report, lesson and figure of ctsim uses, in one place.

- :func:`t_quantile`: the Student-t quantile (no SciPy: commands start without it; the
  incomplete beta function is :func:`ctsim.core.special.incomplete_beta`);
- :func:`mean_ci`: a mean and its Student-t interval, clipped to the metric's range;
- :func:`paired_difference`: the mean difference of paired runs (same seeds) and its
  interval, the comparison ``ctsim compare``, the reports and the lessons make;
- :func:`t_halfwidth`: the interval's half-width from a standard deviation and a count,
  for tables of groups;
- :func:`weighted_quantiles`: quantiles of a weighted sample (a calibration's posterior).

Only finite values count (a NaN is a run where the rate is undefined, e.g. no plot
settled); with a single value the interval is that value on both sides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from ctsim.core.special import incomplete_beta

#: The confidence level of every interval ctsim reports.
LEVEL = 0.95


def t_cdf(t: float, df: float) -> float:
    """The Student-t distribution function with ``df`` > 0 degrees of freedom."""
    if t * t < df:  # near the median: the central mass, without cancellation
        centre = 0.5 * incomplete_beta(t * t / (df + t * t), 0.5, 0.5 * df)
        return 0.5 + centre if t > 0 else 0.5 - centre
    tail = 0.5 * incomplete_beta(df / (df + t * t), 0.5 * df, 0.5)
    return 1.0 - tail if t > 0 else tail


def _t_density(t: float, df: float) -> float:
    log_norm = math.lgamma(0.5 * (df + 1)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - 0.5 * (df + 1) * math.log1p(t * t / df))


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of the Student-t distribution with ``df`` > 0 degrees of freedom.

    Exact for 1 and 2 degrees of freedom; from 10,000 on, the Cornish-Fisher expansion
    about the normal quantile (its error is below 1e-15 there); otherwise Newton's method
    on :func:`t_cdf` from the normal quantile, kept inside a bracket, to about 1e-12.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), not {p}")
    if not df > 0:
        raise ValueError(f"df must be > 0, not {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2 * p - 1) * math.sqrt(2.0 / (4 * p * (1 - p)))
    if df >= 1e4:  # Cornish-Fisher expansion about the normal quantile (A&S 26.7.5)
        z = NormalDist().inv_cdf(p)
        g = ((z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96,
             (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
             (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160)
        return z + sum(gk / df ** (k + 1) for k, gk in enumerate(g))
    lo, hi = 0.0, max(1.0, NormalDist().inv_cdf(p))
    while t_cdf(hi, df) < p:
        lo, hi = hi, 2.0 * hi
    t = 0.5 * (lo + hi)
    for _ in range(100):
        f = t_cdf(t, df) - p
        if f > 0:
            hi = t
        else:
            lo = t
        step = f / _t_density(t, df)
        nxt = t - step
        if not lo < nxt < hi:  # Newton left the bracket: bisect instead
            nxt = 0.5 * (lo + hi)
        if abs(nxt - t) <= 1e-13 * max(1.0, abs(t)):
            return nxt
        t = nxt
    return t


def t_halfwidth(std: ArrayLike, count: ArrayLike, level: float = LEVEL) -> np.ndarray:
    """Half-width of the Student-t interval of a mean: ``t(level, n - 1) * sd / sqrt(n)``.

    Works on numbers or arrays (one group each); 0 where a group has a single value.
    """
    n = np.asarray(count, float)
    df = np.maximum(n - 1, 1)
    quantiles = {d: t_quantile(0.5 + level / 2, d) for d in np.unique(df).tolist()}
    t = np.vectorize(quantiles.__getitem__, otypes=[float])(df) if df.ndim else quantiles[
        float(df)]
    half = t * np.nan_to_num(np.asarray(std, float)) / np.sqrt(np.maximum(n, 1))
    return np.where(n > 1, half, 0.0)


def _finite(values: Iterable[float | None]) -> np.ndarray:
    return np.asarray([v for v in values if v is not None and np.isfinite(v)], float)


def mean_ci(values: Iterable[float | None], level: float = LEVEL,
            bounds: tuple[float, float] | None = None) -> tuple[float, float, float]:
    """Mean and Student-t interval of the finite ``values`` (NaN when there are none).

    ``bounds``: the range the quantity can take (a share: (0, 1)); the interval is clipped
    to it, since a mean cannot lie outside it.
    """
    x = _finite(values)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    m = float(x.mean())
    half = float(t_halfwidth(x.std(ddof=1), len(x), level)) if len(x) > 1 else 0.0
    lo, hi = m - half, m + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return m, lo, hi


def paired_difference(base: Iterable[float | None], other: Iterable[float | None],
                      level: float = LEVEL, bounds: tuple[float, float] | None = None
                      ) -> tuple[float, float, float]:
    """Mean of ``other - base`` over the pairs (runs with the same seed) where both are
    finite, and its Student-t interval.

    ``bounds``: the range of the quantity itself; a difference then lies within
    ``[lo - hi, hi - lo]`` and its interval is clipped to that.
    """
    a = np.asarray([np.nan if v is None else v for v in base], float)
    b = np.asarray([np.nan if v is None else v for v in other], float)
    if a.shape != b.shape:
        raise ValueError(f"paired values differ in number: {a.shape[0]} and {b.shape[0]}")
    span = None if bounds is None else (bounds[0] - bounds[1], bounds[1] - bounds[0])
    return mean_ci((b - a).tolist(), level, span)


def weighted_quantiles(values: ArrayLike, weights: ArrayLike, qs: Iterable[float]
                       ) -> list[float]:
    """Quantiles ``qs`` (each in [0, 1]) of the weighted sample: for each q, the smallest
    value whose cumulative share of the weight reaches q."""
    order = np.argsort(np.asarray(values), kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cum = np.cumsum(w) / np.sum(w)
    return [float(v[min(int(np.searchsorted(cum, q, side="left")), len(v) - 1)]) for q in qs]


def sobol_indices(y: ArrayLike, factors: int, seed: int, resamples: int = 100,
                  level: float = 0.95) -> dict[str, np.ndarray]:
    """Sobol' first-order (``S1``) and total-order (``ST``) indices of the outputs ``y`` of
    a Saltelli design without second order (``N (factors + 2)`` values in SALib's row
    order: per base sample, A, the ``factors`` AB rows, B), each with the half-width of
    its ``level`` bootstrap interval (``S1_conf``, ``ST_conf``: ``resamples`` resamples of
    the base samples drawn from ``seed``). Arrays of length ``factors``; an index is
    unitless, about [0, 1] (estimates may stray outside by their error).

    The estimators are Saltelli et al. (2010) for S1 and Jansen's (1999) for ST, each
    over the variance of the A and B outputs, after standardising ``y``: SALib's
    ``sobol.analyze`` (``calc_second_order=False``) to the last bit, with the resamples'
    A and B outputs, their variance and range taken once for every factor instead of
    once per factor (a design of a million runs: seconds, not minutes). A constant output
    has indices 0, as in SALib.
    """
    y = np.asarray(y, np.float64)
    step = factors + 2
    if y.size % step:
        raise ValueError(f"{y.size} outputs are not a Saltelli design of {factors} factors")
    n = y.size // step
    y = (y - y.mean()) / y.std()
    a, b = y[0:y.size:step], y[step - 1:y.size:step]
    ab = np.zeros((n, factors))
    for j in range(factors):
        ab[:, j] = y[j + 1:y.size:step]
    r = np.random.default_rng(seed).integers(n, size=(n, resamples))
    from scipy.stats import norm  # SALib's quantile (the standard library's differs by a bit)

    z = float(norm.ppf(0.5 + level / 2))
    eps = np.finfo(float).eps

    def variance(a: np.ndarray, b: np.ndarray) -> tuple[bool, np.ndarray]:
        both = np.r_[a, b]
        return bool(np.ptp(both) <= eps), np.var(both, axis=0)

    def share(top: np.ndarray, flat_var: tuple[bool, np.ndarray]) -> np.ndarray:
        flat, var = flat_var
        if flat:
            return np.zeros(var.shape, dtype=np.float64)
        return np.divide(top, var, out=np.zeros_like(var, dtype=np.float64),
                         where=var > eps)

    whole, ar, br = variance(a, b), a[r], b[r]
    resampled = variance(ar, br)
    spread = np.ptp(np.r_[ar, br]) != 0.0
    out = {k: np.zeros(factors) for k in ("S1", "S1_conf", "ST", "ST_conf")}
    for j in range(factors):
        abj, abr = ab[:, j], ab[r, j]
        out["S1"][j] = share(np.mean(b * (abj - a), axis=0), whole)
        out["ST"][j] = share(0.5 * np.mean((a - abj) ** 2, axis=0), whole)
        if spread:
            out["S1_conf"][j] = z * share(np.mean(br * (abr - ar), axis=0),
                                          resampled).std(ddof=1)
            out["ST_conf"][j] = z * share(0.5 * np.mean((ar - abr) ** 2, axis=0),
                                          resampled).std(ddof=1)
    return out
