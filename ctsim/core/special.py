"""The regularized incomplete beta function and its inverse, compiled.

The world draws each nation's attributes from Beta distributions by inverse CDF (one
uniform per nation: :func:`ctsim.core.world.draw_attribute`), and the Student-t intervals
of :mod:`ctsim.analysis.stats` need the t distribution, which is an incomplete beta. Both use these
two functions, so neither needs SciPy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

import ctsim.core._fresh  # noqa: F401  (a stale compiled cache is cleared before use)

_TINY = 1e-300
_EPS = 1e-16


@njit(cache=True)
def _fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (modified Lentz); it converges quickly for
    ``x < (a + 1) / (a + b + 2)``."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    out = d
    for m in range(1, 1000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        step = 1.0
        for numerator in (even, odd):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            out *= step
        if abs(step - 1.0) < _EPS:
            break
    return out


@njit(cache=True)
def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


@njit(cache=True)
def incomplete_beta(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)``: for x in [0, 1] and a, b > 0,
    the chance that a Beta(a, b) variable is at most x."""
    return _incomplete_beta(x, a, b, _log_beta(a, b))


@njit(cache=True)
def _incomplete_beta(x: float, a: float, b: float, log_beta: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - log_beta)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _fraction(x, a, b) / a
    return 1.0 - front * _fraction(1.0 - x, b, a) / b


@njit(cache=True)
def beta_quantile(p: float, a: float, b: float) -> float:
    """The ``p`` quantile of Beta(a, b), for p in [0, 1] and a, b > 0: the x with
    ``I_x(a, b) = p``. Newton's method kept inside a shrinking bracket, to about 1e-15."""
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_beta = _log_beta(a, b)
    lo, hi = 0.0, 1.0
    x = a / (a + b)  # the mean: a start inside the bracket
    for _ in range(200):
        f = _incomplete_beta(x, a, b, log_beta) - p
        if f == 0.0:
            return x
        if f > 0.0:
            hi = x
        else:
            lo = x
        density = math.exp((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) - log_beta)
        nxt = x - f / density if density > 0.0 else 0.5 * (lo + hi)
        if not lo < nxt < hi:  # Newton left the bracket: halve it instead
            nxt = 0.5 * (lo + hi)
        if abs(nxt - x) <= 1e-15 * max(x, 1e-300):
            return nxt
        x = nxt
    return x


@njit(cache=True)
def beta_quantiles(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """:func:`beta_quantile` of each value of ``u``."""
    out = np.empty(len(u))
    for i in range(len(u)):
        out[i] = beta_quantile(u[i], a, b)
    return out
