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
