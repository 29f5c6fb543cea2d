"""The bounds of a run's size that files and command-line options share (one place).

Kept free of imports so that the ``ctsim`` command can build its options from them
without loading the scenario schema.
"""

#: A seed: a non-negative integer below 2**63 (what numpy's SeedSequence and Parquet keep).
SEED_MAX = 2**63 - 1
#: Weeks in one run.
STEPS_MAX = 100_000
#: Replications of one scenario (or of one design point).
REPLICATIONS_MAX = 100_000
#: Runs of one experiment (a sweep, a comparison or a run): every run is planned before the
#: first starts and its row is held while the results are merged, about half a kilobyte a
#: run (0.5 GB a million runs, planned in about 6 s), so a design beyond this would not fit
#: a workstation's memory. The largest shipped design, the Sobol sweep, has 409,600 runs.
RUNS_MAX = 4_000_000
#: Worker processes of one command or call (``--workers``, ``workers=``).
WORKERS_MAX = 512
