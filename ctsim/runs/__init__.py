"""Running the model many times: the runs room.

- :mod:`~ctsim.runs.experiment`: experiment files (factors, designs) and the runs they
  expand to; :mod:`~ctsim.runs.seeds`: run seeds from a SeedSequence;
  :mod:`~ctsim.runs.posterior`: a calibration's stored posterior, read for runs that draw
  their parameters from it;
- :mod:`~ctsim.runs.runner`: one run, replications, per-nation counts;
- :mod:`~ctsim.runs.worker`: a batch of runs, the same function wherever it runs;
  :mod:`~ctsim.runs.executors`: where batches run (this process, a process pool, Dask);
- :mod:`~ctsim.runs.store`: output places checked, one writer a folder, files written
  whole, a sweep's crash-safe parts;
- :mod:`~ctsim.runs.sweeps` and :mod:`~ctsim.runs.pipeline`: the one path every command
  takes, from a scenario or experiment to a results folder;
  :mod:`~ctsim.runs.arguments`: the Python API's arguments, checked where a call enters.

It builds on :mod:`ctsim.core` and :mod:`ctsim.analysis`; nothing in those imports it.
"""
