"""The run outcomes (MODEL.md, Outputs), each described once.

Light on purpose (no Mesa, no numba): experiment files, reports and figures read the
metrics' names, units, labels and ranges without building a model.
:func:`ctsim.core.metrics.run_metrics` computes their values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One outcome of a run, described once: every table, interval, figure and doc reads
    it from here.

    Attributes:
        name: the column name in summaries and tables.
        description: what it measures, in words.
        unit: ``share`` (0..1), ``count``, ``weeks`` or ``index``.
        label: the axis label of figures (with its unit).
        bounds: the values it can take; intervals of its mean are clipped to them.
    """

    name: str
    description: str
    unit: str
    label: str
    bounds: tuple[float, float] = (0.0, math.inf)


def _share(name: str, description: str, label: str) -> Metric:
    return Metric(name, description, "share", label, (0.0, 1.0))


def _count(name: str, description: str, label: str) -> Metric:
    return Metric(name, description, "count", label)


#: The run outcomes every summary holds, in this order.
METRICS: dict[str, Metric] = {m.name: m for m in (
    _share("disruption_rate", "share of settled plots that were disrupted",
           "disruption rate (share of settled plots)"),
    _count("plots", "plots spawned", "plots per run (count)"),
    _count("disrupted", "plots disrupted whose attack week fell within the run",
           "plots disrupted per run (count)"),
    _count("attacks", "plots that reached their attack", "attacks per run (count)"),
    Metric("weeks_to_disruption", "mean weeks from spawn to disruption, settled plots",
           "weeks", "weeks from spawn to disruption"),
    _share("foreign_share", "share of settled disruptions that used another nation's fragment",
           "share of disruptions using foreign intelligence"),
    _count("shared_bilateral", "fragments sent over bilateral channels",
           "fragments sent bilaterally (count)"),
    _count("shared_institutional", "fragments posted to multilateral hubs",
           "fragments posted to hubs (count)"),
    _count("leaks", "deliveries or posts that leaked", "leaks per run (count)"),
    _count("extraditions_granted", "disruptions abroad followed by extradition",
           "extraditions granted (count)"),
    _count("extraditions_refused", "disruptions abroad where extradition failed",
           "extraditions refused (count)"),
    _share("mean_trust", "mean trust between distinct nations at the end",
           "mean trust between nations (0..1)"),
    Metric("haven_concentration", "Herfindahl index of plots over their base nations (1/N..1)",
           "index", "haven concentration (Herfindahl, 1/N..1)", (0.0, 1.0)),
    _share("disruption_rate_q1", "disruption rate of plots targeting the least capable quarter",
           "disruption rate, least capable quarter of targets"),
    _share("disruption_rate_q2", "disruption rate, second capacity quarter of targets",
           "disruption rate, second quarter of targets"),
    _share("disruption_rate_q3", "disruption rate, third capacity quarter of targets",
           "disruption rate, third quarter of targets"),
    _share("disruption_rate_q4", "disruption rate of plots targeting the most capable quarter",
           "disruption rate, most capable quarter of targets"),
    _count("attacks_completed", "attacks that completed (settled plots)",
           "attacks completed (count)"),
    _count("attacks_failed", "attacks that failed against protective security (A3)",
           "attacks failed (count)"),
    _share("disruption_rate_transnational", "disruption rate of transnational plots "
           "(a footprint of two or more nations)", "disruption rate, transnational plots"),
    _count("disrupted_transnational", "transnational plots disrupted (settled)",
           "transnational plots disrupted (count)"),
    _count("attacks_transnational", "transnational plots that attacked (settled)",
           "transnational attacks (count)"),
    _share("disruption_rate_domestic", "disruption rate of domestic plots (the base alone)",
           "disruption rate, domestic plots"),
    _count("disrupted_domestic", "domestic plots disrupted (settled)",
           "domestic plots disrupted (count)"),
    _count("attacks_domestic", "domestic plots that attacked (settled)",
           "domestic attacks (count)"),
)}


def bounds_of(name: str) -> tuple[float, float] | None:
    """The range of the metric called ``name`` (None for a name that is not a metric)."""
    metric = METRICS.get(name)
    return metric.bounds if metric else None
