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
#: Runs of one experiment (a sweep, a comparison or a run). The plan and the store hold no
#: row a run (a plan is columns, results go to disk batch by batch), but a sweep's analysis
#: reads each kept output of every run at once, and a reader of runs.parquet its every
#: column (about 0.6 kB a run with 60 factors: 2.4 GB at this limit). The largest shipped
#: designs: the Sobol sweep, 409,600 runs; the throughput benchmark's, 1,048,576.
RUNS_MAX = 4_000_000
#: Worker processes of one command or call (``--workers``, ``workers=``).
WORKERS_MAX = 512
