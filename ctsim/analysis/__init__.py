"""Turning stored results into numbers, figures and reports: the analysis room.

- :mod:`~ctsim.analysis.stats`: every interval and paired difference ctsim reports;
- :mod:`~ctsim.analysis.tables`: a run folder's metric table and safe-haven ranking;
- :mod:`~ctsim.analysis.snapshot`: what a run's figures need, stored with its results;
- :mod:`~ctsim.analysis.layout`: positions, colours and labels, without matplotlib (the
  teaching page reads them too);
- :mod:`~ctsim.analysis.figures`: the matplotlib figures;
- :mod:`~ctsim.analysis.report`: REPORT.md and the figures that fit a results folder.

It reads :mod:`ctsim.core` (the declared outputs, the key registry) and nothing else of
ctsim; it never runs the model.
"""
