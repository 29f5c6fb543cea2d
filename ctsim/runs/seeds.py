"""Run seeds: plain ints derived from a scenario's (or experiment's) seed.

Every run's seed comes from the scenario or experiment seed and the run's index through
:class:`numpy.random.SeedSequence`, so a run can be repeated alone and results do not
depend on the order in which runs finish.
"""

from __future__ import annotations

import numpy as np


def replication_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent run seeds (plain ints in [0, 2**63)) derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(count)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
