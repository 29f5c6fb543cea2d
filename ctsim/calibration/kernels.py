"""The error models of a calibration's targets as one stochastic kernel for pyabc's
``StochasticAcceptor`` (Wilkinson 2013; Schälte and Hasenauer 2020).

A particle's runs give each fitted target a simulated value ``x`` (its summary statistic,
:func:`ctsim.calibration.particle.target_values`). The kernel is the likelihood of the
observation given ``x``, the product over the fitted targets of:

- ``normal``: the density of N(x, sd^2) at the observed value;
- ``upper`` / ``lower``: the soft bound Phi((observed - x) / sd) / Phi((x - observed) / sd);
- ``series``: the beta-binomial probability of every period's count, with mean share ``x``
  and intra-class correlation rho.

The acceptor accepts a particle with probability ``(kernel / c) ** (1 / T)``, ``c`` the
kernel's largest value (:attr:`TargetsKernel.pdf_max`). At temperature T = 1 the accepted
particles are a sample of the posterior under the model "observation = simulated value +
the target's error" (Wilkinson 2013, Theorem 1). The simulated value is the particle's
pooled runs, so the simulator's noise for those runs enters this likelihood once, by the
simulation: for a normal target the likelihood of the model's expected quantity ``mu`` is
N(observed; mu, sd^2 + v/R) when the pooled value of R runs has variance v/R. Adding an
estimate of v/R to the kernel's variance as well would count that noise twice (the test
on a normal mean shows the difference, tests/calibration/test_stochastic.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ctsim.calibration.files import Target

#: Shares are held within [P_EDGE, 1 - P_EDGE] before a beta-binomial is evaluated at
#: them: its Beta(p (1 - rho) / rho, ...) needs both shape parameters positive. At
#: 1e-9 a count above 0 has a log-probability below -20 (a likelihood ratio of 1e-9).
P_EDGE = 1e-9


def normal_logpdf(x: float, observed: float, sd: float) -> float:
    """log N(observed; x, sd^2): the normal error model (-inf when ``x`` is NaN)."""
    if not math.isfinite(x):
        return -math.inf
    z = (x - observed) / sd
    return -0.5 * (math.log(2 * math.pi * sd * sd) + z * z)


def bound_logprob(x: float, bound: float, sd: float, side: str) -> float:
    """log Phi((bound - x) / sd) for ``side`` "upper" (the quantity is at most ``bound``),
    log Phi((x - bound) / sd) for "lower": a soft edge of width ``sd`` (-inf for NaN)."""
    if not math.isfinite(x):
        return -math.inf
    z = (bound - x) / sd if side == "upper" else (x - bound) / sd
    return float(special.log_ndtr(z))


def betabinomial_logpmf(k: np.ndarray, n: np.ndarray, p: float, rho: float) -> np.ndarray:
    """log P(k | n, p, rho) of the beta-binomial with mean share ``p`` and intra-class
    correlation ``rho`` in (0, 1): Beta(a, b) with a = p (1 - rho) / rho,
    b = (1 - p) (1 - rho) / rho, so Var(k / n) = p (1 - p) (1 + (n - 1) rho) / n
    (Williams 1975). ``p`` is held within [P_EDGE, 1 - P_EDGE]."""
    p = min(max(float(p), P_EDGE), 1.0 - P_EDGE)
    k, n = np.asarray(k, float), np.asarray(n, float)
    a, b = p * (1.0 - rho) / rho, (1.0 - p) * (1.0 - rho) / rho
    choose = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    return choose + special.betaln(k + a, n - k + b) - special.betaln(a, b)


def series_logpmf(x: float, counts: np.ndarray, totals: np.ndarray, rho: float) -> float:
    """The joint log-probability of every period's count at the simulated share ``x``
    (the periods independent given ``x``); -inf when ``x`` is NaN."""
    if not math.isfinite(x):
        return -math.inf
    return float(betabinomial_logpmf(counts, totals, x, rho).sum())


def series_max(counts: np.ndarray, totals: np.ndarray, rho: float) -> float:
    """The largest value of :func:`series_logpmf` over shares in (0, 1): a grid of 2001
    shares, then a bounded search between the best point's neighbours."""
    grid = np.linspace(P_EDGE, 1 - P_EDGE, 2001)
    values = np.array([series_logpmf(p, counts, totals, rho) for p in grid])
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    found = optimize.minimize_scalar(lambda p: -series_logpmf(p, counts, totals, rho),
                                     bounds=(lo, hi), method="bounded",
                                     options={"xatol": 1e-12})
    return max(float(values[i]), -float(found.fun))


@dataclass(frozen=True)
class Term:
    """One fitted target's error model, as the kernel evaluates it."""

    name: str
    kind: str  # "normal", "upper", "lower" or "series"
    reference: float  # observed value or bound (series: pooled share, not used)
    sd: float  # normal and bounds: sd; series: 0
    counts: tuple[int, ...] = ()
    totals: tuple[int, ...] = ()
    rho: float = 0.0

    @classmethod
    def of(cls, target: Target) -> Term:
        """The term of a target (see :class:`ctsim.calibration.files.Target`)."""
        if target.kind == "series":
            return cls(target.name, "series", target.reference, 0.0,
                       tuple(c.count for c in target.counts),
                       tuple(c.of for c in target.counts), float(target.overdispersion))
        return cls(target.name, target.kind, float(target.observed), float(target.sd))

    def logpdf(self, x: float) -> float:
        """The log-likelihood of the observation at the simulated value ``x``."""
        if self.kind == "normal":
            return normal_logpdf(x, self.reference, self.sd)
        if self.kind == "series":
            return series_logpmf(x, np.asarray(self.counts), np.asarray(self.totals),
                                 self.rho)
        return bound_logprob(x, self.reference, self.sd, self.kind)

    def log_max(self) -> float:
        """The term's largest value over every ``x``: the normal density's peak,
        0 for a bound (Phi tends to 1 inside it), the series' best share."""
        if self.kind == "normal":
            return -0.5 * math.log(2 * math.pi * self.sd * self.sd)
        if self.kind == "series":
            return series_max(np.asarray(self.counts), np.asarray(self.totals), self.rho)
        return 0.0


def _kernel_base():
    """pyabc's StochasticKernel, the base of :class:`TargetsKernel` (pyabc: the calib extra)."""
    from pyabc.distance import StochasticKernel

    return StochasticKernel


class TargetsKernel(_kernel_base()):
    """pyabc's stochastic kernel of a calibration: the sum over the fitted targets of
    :meth:`Term.logpdf` (a log-likelihood, pyabc's SCALE_LOG), with ``pdf_max`` the sum of
    the terms' maxima, the normalizing constant ``c`` of the acceptance step (every
    kernel value is at most ``c``, so at temperature 1 the acceptance is exact rejection
    sampling, with no correction of weights for values above ``c``)."""

    def __init__(self, terms: Sequence[Term]):
        from pyabc.distance import SCALE_LOG

        self.terms = tuple(terms)
        super().__init__(ret_scale=SCALE_LOG, keys=[t.name for t in self.terms],
                         pdf_max=float(sum(t.log_max() for t in self.terms)))

    def __call__(self, x: dict, x_0: dict, t: int | None = None,
                 par: dict | None = None) -> float:
        """The log-likelihood of the observations given the simulated values ``x``
        (``x_0``, the observed values pyabc passes, is read from the terms instead)."""
        total = 0.0
        for term in self.terms:
            total += term.logpdf(float(x.get(term.name, math.nan)))
            if total == -math.inf:
                break
        return total


def targets_kernel(targets: Sequence[Target]) -> TargetsKernel:
    """The kernel of the fitted ``targets``, in their order."""
    return TargetsKernel([Term.of(t) for t in targets])
