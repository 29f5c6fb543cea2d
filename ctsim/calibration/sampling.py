"""pyabc's parts of a calibration, by method: the perturbation kernel, the acceptance
threshold (epsilon or temperature), the acceptor and the kernel or distance.

- ``stochastic`` (the default): pyabc's ``StochasticAcceptor`` with the targets' error
  models as its kernel (:mod:`ctsim.calibration.kernels`), normalized by the kernel's own
  maximum, and a ``Temperature`` schedule (pyabc's default: the lower of an
  acceptance-rate scheme aiming at 30% and an exponential decay that reaches temperature 1
  at the last population allowed) ending at temperature 1 (Schälte and Hasenauer 2020);
  the sampling stops at the first population sampled at temperature 1.
- ``rejection-distance``: the former uniform acceptor on the standardized distance with a
  median epsilon schedule (Beaumont et al. 2009).

Both perturb particles with ``kernel: local`` (:class:`ScaledLocalTransition`, with a
``defensive`` share of the proposals from the prior) or ``global`` (pyabc's
MultivariateNormalTransition).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pyabc.epsilon import Temperature
from pyabc.transition import LocalTransition, MultivariateNormalTransition

from ctsim.calibration.files import LoadedCalibration


class ScaledLocalTransition(LocalTransition):
    """pyabc's LocalTransition (a normal kernel around each particle with the weighted
    covariance of its k nearest neighbours; Filippi et al. 2013) with the neighbours found
    on parameters divided by their prior's width, so that each parameter counts alike in
    the nearest-neighbour distance (the evidence threshold's range is 6, the detection
    rate's 0.28), and with a defensive share of the proposals drawn from the uniform prior
    (Hesterberg 1995): the proposal density is then at least ``defensive`` x the prior's,
    so no particle accepted where the local kernels are thin takes an unbounded weight
    (prior / proposal <= 1 / defensive). The density is that of the unscaled parameters.

    ``lows`` and ``widths``: each parameter's prior, uniform on [low, low + width]."""

    def __init__(self, k: int | None = None, k_fraction: float | None = 1 / 4,
                 scaling: float = 1, widths: dict[str, float] | None = None,
                 lows: dict[str, float] | None = None, defensive: float = 0.0):
        super().__init__(k=k, k_fraction=k_fraction, scaling=scaling)
        self.widths = widths
        self.lows = lows
        self.defensive = defensive

    def _widths(self, columns) -> pd.Series:
        """Each parameter's prior width (1 where none is given), in ``columns`` order."""
        known = self.widths or {}
        return pd.Series([float(known.get(c, 1.0)) for c in columns], index=list(columns))

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Fit the local covariances on the scaled particles ``X`` with weights ``w``."""
        scale = self._widths(X.columns)
        LocalTransition.fit(self, X / scale, w)
        self.X = X  # the column order; the scaled particles are kept in X_arr
        self._scale = scale
        self._jacobian = float(np.prod(scale.to_numpy()))

    def pdf(self, x):
        """The proposal density at ``x`` (a particle or a DataFrame of them)."""
        if isinstance(x, pd.DataFrame):
            scaled = x[self.X.columns] / self._scale
        else:
            scaled = pd.Series({c: float(x[c]) / self._scale[c] for c in self.X.columns})
        local = LocalTransition.pdf(self, scaled) / self._jacobian
        if not self.defensive:
            return local
        lows = pd.Series({c: float((self.lows or {}).get(c, 0.0)) for c in self.X.columns})
        inside = ((scaled - lows / self._scale >= 0) & (scaled - lows / self._scale <= 1))
        inside = inside.all(axis=1).to_numpy() if isinstance(x, pd.DataFrame) else inside.all()
        return (1 - self.defensive) * local + self.defensive * inside / self._jacobian

    def rvs_single(self):
        """One particle drawn from the kernel (or, with probability ``defensive``, from
        the prior), on the parameters' own scale."""
        from pyabc.parameters import Parameter

        if self.defensive and np.random.uniform() < self.defensive:
            lows = self.lows or {}
            return Parameter({c: float(lows.get(c, 0.0)) + self._scale[c] * np.random.uniform()
                              for c in self.X.columns})
        drawn = LocalTransition.rvs_single(self)
        return Parameter({c: float(drawn[c]) * self._scale[c] for c in self.X.columns})


class CappedTemperature(Temperature):
    """pyabc's Temperature with the cap of populations counted from the calibration's
    first population, not from the population a resumed run starts at (pyabc counts its
    ``max_nr_populations`` from there but compares it with the absolute population
    index), and the temperatures of the stored populations kept, so that a resumed run
    continues the schedule rather than starting it again."""

    def __init__(self, cap: int, stored: dict[int, float] | None = None):
        super().__init__()
        self.cap = int(cap)
        self.temperatures.update(stored or {})

    def initialize(self, t: int, get_weighted_distances, get_all_records,
                   max_nr_populations: int, acceptor_config: dict) -> None:
        """As pyabc's, with the cap counted from population 0."""
        super().initialize(t, get_weighted_distances, get_all_records, self.cap,
                           acceptor_config)


@dataclass
class Parts:
    """What ABCSMC is built from, for one method."""

    distance: Any
    eps: Any
    acceptor: Any
    transition: Any
    minimum_epsilon: float
    min_eps_diff: float


def transition_of(loaded: LoadedCalibration):
    """The perturbation kernel of ``kernel:`` (see :class:`ScaledLocalTransition`)."""
    spec = loaded.spec
    if spec.kernel == "global":
        return MultivariateNormalTransition()
    return ScaledLocalTransition(k_fraction=spec.neighbours,
                                 widths={k: p.width for k, p in spec.parameters.items()},
                                 lows={k: p.range[0] for k, p in spec.parameters.items()},
                                 defensive=spec.defensive)


def parts(loaded: LoadedCalibration, stored: dict[int, float] | None = None) -> Parts:
    """The distance or kernel, epsilon or temperature, acceptor and transition of the
    calibration's method; ``stored``: the thresholds of the populations already stored
    (a resumed stochastic calibration continues their temperatures)."""
    import pyabc

    from ctsim.calibration.kernels import targets_kernel
    from ctsim.calibration.particle import standardized_distance

    spec = loaded.spec
    if spec.method == "stochastic":
        kernel = targets_kernel([loaded.targets[n] for n in spec.fit])
        acceptor = pyabc.StochasticAcceptor(
            pdf_norm_method=pyabc.acceptor.pdf_norm_from_kernel)
        return Parts(kernel, CappedTemperature(spec.populations, stored), acceptor,
                     transition_of(loaded), 1.0, 0.0)
    return Parts(_Distance(loaded, standardized_distance), pyabc.MedianEpsilon(),
                 pyabc.UniformAcceptor(), transition_of(loaded), spec.min_epsilon,
                 spec.min_eps_diff)


class _Distance:
    """The standardized distance as pyabc calls it: (simulated, observed) -> distance."""

    def __init__(self, loaded: LoadedCalibration, distance):
        self.loaded, self.distance = loaded, distance

    def __call__(self, x: dict, _x0: dict) -> float:
        return self.distance(self.loaded, x)
