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
    # MODEL.md section B
    _count("fragments_financial", "financial fragments found by financial intelligence "
           "units (B1)", "financial fragments (count)"),
    _count("asset_freezes", "disruptions that used a financial fragment and froze the "
           "group's funds (B1)", "asset freezes (count)"),
    _share("mean_funds", "groups' mean funds at the end, 1 = never frozen (B1)",
           "groups' funds at the end (0..1)"),
    _count("fragments_border", "fragments found by border screening (B2)",
           "border screening hits (count)"),
    _count("fragments_online", "fragments from companies' records of online traces (B3)",
           "company records (count)"),
    _count("shared_direct", "company records obtained through direct access (B3)",
           "records by direct access (count)"),
    _count("mlat_requests", "company records requested by mutual legal assistance (B3)",
           "records by legal assistance (count)"),
    _share("disruption_rate_online", "disruption rate of plots with an online trace (B3)",
           "disruption rate, plots with online traces"),
    Metric("weeks_to_disruption_online", "mean weeks from spawn to disruption of settled "
           "plots with an online trace (B3)", "weeks",
           "weeks to disruption, plots with online traces"),
    _share("mean_capacity", "nations' mean capacity at the end (joint training, B4)",
           "mean capacity at the end (0..1)"),
    _share("mean_compatibility", "mean legal compatibility between distinct nations at the "
           "end (norms, B5; treaties, B6)", "mean legal compatibility at the end (0..1)"),
    _count("treaties_formed", "treaties signed during the run (B6)",
           "treaties formed (count)"),
    _count("treaties_lapsed", "treaties lapsed under shocks during the run (B6)",
           "treaties lapsed (count)"),
    _count("treaties_in_force", "treaty pairs in force at the end (B6)",
           "treaties in force at the end (count)"),
    _count("accessions", "nations that joined an open hub during the run (B6)",
           "accessions (count)"),
    _count("wrongful_interdictions", "AI false alarms acted on: wrongful interdictions (B7)",
           "wrongful interdictions (count)"),
)}


def bounds_of(name: str) -> tuple[float, float] | None:
    """The range of the metric called ``name`` (None for a name that is not a metric)."""
    metric = METRICS.get(name)
    return metric.bounds if metric else None
