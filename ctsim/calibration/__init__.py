"""Calibration: which parameter values are consistent with published patterns.

The room's parts, in the order a calibration goes through them:

- :mod:`~ctsim.calibration.files`: the calibration and targets files, checked with the
  one-line errors of every ctsim file;
- :mod:`~ctsim.calibration.particle`: one particle's runs, summary statistics and distance;
- :mod:`~ctsim.calibration.abc`: ABC-SMC with pyabc, resumable from its history;
- :mod:`~ctsim.calibration.predictive`: posterior predictive checks of every target;
- :mod:`~ctsim.calibration.report`: the tables, figures, summary.json and REPORT.md.

A stored posterior is read by :mod:`ctsim.runs.posterior`, which the sweeps use too; the
calibration depends on the runs room, never the other way round.
"""

from ctsim.calibration.abc import calibrate
from ctsim.calibration.files import LoadedCalibration, load_calibration, load_targets
from ctsim.calibration.predictive import posterior_predictive
from ctsim.calibration.report import SETTLED_OVER, parameter_summary

__all__ = ["SETTLED_OVER", "LoadedCalibration", "calibrate", "load_calibration",
           "load_targets", "parameter_summary", "posterior_predictive"]
