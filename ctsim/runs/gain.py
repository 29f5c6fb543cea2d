"""The gain from cooperation: each metric under the scenario against its contrast, paired.

An experiment with a ``contrast`` (:mod:`ctsim.runs.experiment`) runs every design point
and replication twice with the same seed: under its scenario and under the contrast (the
world without cooperation, say). Both halves are stored in runs.parquet as any two
scenarios are; this module pairs them and reduces them to one row a design point.

The gain of a metric is what the scenario improves over its contrast, in the metric's own
unit, per point and replication (so the seed's luck cancels):

- ``gain_<m> = m(scenario) - m(contrast)`` for every metric, except
- the harms of :data:`AVERTED`, whose gain is the harm averted:
  ``gain_<m> = m(contrast) - m(scenario)``; ``gain_attacks`` is the attacks the
  contrast has and the scenario does not.

So a positive gain always means the scenario does better (more plots disrupted, fewer
attacks) where the metric has a better direction; for a metric without one (fragments
shared, mean trust) it is simply the scenario's value less the contrast's.

A gain is undefined (NaN) in a pair where either run failed or left its metric undefined
(a rate with no settled plot). A point's value is the mean over the replications where it
is defined; a point where none is stays undefined, and nothing is imputed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctsim.core.outputs import HARMS as AVERTED  # a harm's gain is the harm averted

#: The file of one row a design point of an experiment with a contrast: ``point`` (the
#: scenario's point number), the factor columns as runs.parquet has them, then
#: :func:`point_means`' columns.
POINTS_FILE = "points.parquet"


def gain_name(metric: str) -> str:
    """The column of ``metric``'s gain: ``gain_<metric>``."""
    return f"gain_{metric}"


def gain_sign(metric: str) -> int:
    """+1 when a metric's gain is scenario minus contrast, -1 when it is the harm averted
    (contrast minus scenario, :data:`AVERTED`)."""
    return -1 if metric in AVERTED else 1


def gain_meaning(metric: str, scenario: str, contrast: str) -> str:
    """What ``gain_<metric>`` is, in words (the manifest records it)."""
    if metric in AVERTED:
        return (f"{metric} under {contrast} minus {metric} under {scenario}, per design point "
                f"and seed: the {metric.replace('_', ' ')} averted")
    return (f"{metric} under {scenario} minus {metric} under {contrast}, per design point "
            "and seed")


@dataclass(frozen=True)
class Outcomes:
    """Every run's metrics as (worlds, points, replications) arrays, NaN where a run failed
    or its metric is undefined (or the run is missing); world 0 is the scenario, world 1
    the contrast when there is one."""

    values: dict[str, np.ndarray]
    failed: np.ndarray  # (worlds, points, replications) bool: the run failed or is missing

    @classmethod
    def of(cls, run_id: np.ndarray, ok: np.ndarray, metrics: dict[str, np.ndarray],
           worlds: int, points: int, replications: int) -> Outcomes:
        """The arrays from runs.parquet's columns: ``run_id``, whether each run is ``ok``,
        and each metric's column (any order; run ``i`` is world ``i // (P R)``, point
        ``i // R % P`` and replication ``i % R``)."""
        shape = (worlds, points, replications)
        failed = np.ones(worlds * points * replications, bool)
        failed[run_id] = ~ok
        values = {}
        for m, column in metrics.items():
            v = np.full(failed.size, np.nan)
            v[run_id] = np.where(ok, np.asarray(column, float), np.nan)
            values[m] = v.reshape(shape)
        return cls(values, failed.reshape(shape))

    def gain(self, metric: str) -> np.ndarray:
        """``gain_<metric>`` per point and replication, (points, replications)."""
        v = self.values[metric]
        return gain_sign(metric) * (v[0] - v[1])

    def per_point(self, output: str) -> np.ndarray:
        """An output's mean over the replications where it is defined, per point (NaN where
        none is): a metric under the scenario, or ``gain_<metric>``."""
        if output.startswith("gain_"):
            return _mean(self.gain(output[len("gain_"):]))
        return _mean(self.values[output][0])

    def why_undefined(self, output: str) -> tuple[int, str]:
        """How many design points the output is undefined at, and why, in a phrase ("" when
        it is defined at every point)."""
        undefined = ~np.isfinite(self.per_point(output))
        count = int(undefined.sum())
        if not count:
            return 0, ""
        paired = output.startswith("gain_")
        failed = (self.failed.any(axis=0) if paired else self.failed[0]).all(axis=1)
        all_failed = int((failed & undefined).sum())
        parts = []
        if count > all_failed:
            whose = "replication's pair of runs" if paired else "replication"
            parts.append(f"no {whose} measured it at {count - all_failed:,} (a share or mean "
                         "of no events: no plot settled, or none was disrupted)")
        if all_failed:
            parts.append(f"every run failed at {all_failed:,}")
        return count, "; ".join(parts)


def _mean(values: np.ndarray) -> np.ndarray:
    """The mean of each row over its finite values (NaN for a row with none), quietly."""
    finite = np.isfinite(values)
    count = finite.sum(axis=1)
    total = np.where(finite, values, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(values), np.nan), where=count > 0)


def point_means(outcomes: Outcomes, metrics: list[str], contrast: bool
                ) -> dict[str, np.ndarray]:
    """points.parquet's outcome columns, one value a design point: each metric's mean over
    the replications under the scenario, then with a contrast each ``gain_<metric>``'s
    (module text)."""
    out = {m: outcomes.per_point(m) for m in metrics}
    if contrast:
        out |= {gain_name(m): outcomes.per_point(gain_name(m)) for m in metrics}
    return out
