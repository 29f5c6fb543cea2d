"""Calibration: which parameter values are consistent with published patterns.

The room's parts, in the order a calibration goes through them:

- :mod:`~ctsim.calibration.files`: the calibration and targets files, checked with the
  one-line errors of every ctsim file;
- :mod:`~ctsim.calibration.particle`: one particle's runs, summary statistics (with the
  simulator's noise in each) and distance;
- :mod:`~ctsim.calibration.kernels`: the targets' error models as one stochastic kernel;
- :mod:`~ctsim.calibration.sampling`: pyabc's parts by method (acceptor, temperature or
  epsilon, local or global perturbation kernel);
- :mod:`~ctsim.calibration.abc`: ABC-SMC with pyabc, resumable from its history, one
  calibration or one per seed;
- :mod:`~ctsim.calibration.predictive`: posterior predictive checks of every target;
- :mod:`~ctsim.calibration.report` and :mod:`~ctsim.calibration.report_text`: the
  tables, figures, summary.json and REPORT.md;
- :mod:`~ctsim.calibration.compare`: posteriors of several seeds or priors side by side.

A stored posterior is read by :mod:`ctsim.runs.posterior`, which the sweeps use too; the
calibration depends on the runs room, never the other way round.
"""

from ctsim.calibration.abc import (
    calibrate,
    calibrate_seeds,
    compare_finished,
    finished_or_fail,
)
from ctsim.calibration.files import LoadedCalibration, load_calibration, load_targets
from ctsim.calibration.predictive import posterior_predictive
from ctsim.calibration.report import SETTLED_OVER, parameter_summary

__all__ = ["SETTLED_OVER", "LoadedCalibration", "calibrate", "calibrate_seeds",
           "compare_finished", "finished_or_fail", "load_calibration", "load_targets",
           "parameter_summary", "posterior_predictive"]
