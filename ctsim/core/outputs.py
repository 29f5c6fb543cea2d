"""What a run puts out, each thing declared once: the events the phases count, the columns
of the weekly record and the run's metrics (MODEL.md, Outputs).

Every count, column and metric is one :class:`Output`: its name, its meaning, its unit,
its plain label and axis label, the values it can take, the MODEL.md section that makes
it, the scenario key that switches it on, and the surfaces that show it. Everything else
reads it from here: the compiled state's index constants and record layout
(:mod:`ctsim.core.state`), the metrics (:mod:`ctsim.core.metrics`), the CLI's table, the
report and figures (:mod:`ctsim.analysis`), the page's counters and the lessons
(:mod:`ctsim.teaching`).

Light on purpose (no Mesa, no numba): experiment files, reports and figures read these
declarations without building a model.

"Disrupted" has one meaning in every output that says it: a plot disrupted whose attack
week has passed (a *settled* plot; right-censoring, MODEL.md phase 9). A disruption
counted the week it happens, whatever the plot's attack week, is a *disruption*
(the ``disruptions`` event and the page's "disruptions so far").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ctsim.core.strategies import STRATEGIES

Unit = Literal["share", "count", "weeks", "index"]
#: Where an output is shown: the CLI's end-of-run table (``headline``), the report's
#: side-by-side comparison of scenarios (``report``) and its response curves
#: (``curves``), the teaching page's counters (``page``), the figure and page panel of the
#: article's further channels (``channels``).
Surface = Literal["headline", "report", "curves", "page", "channels"]
SURFACES: tuple[str, ...] = ("headline", "report", "curves", "page", "channels")


@dataclass(frozen=True)
class Output:
    """One thing a run puts out, described once.

    Attributes:
        name: its column or key in every table (``snake_case``).
        meaning: what it measures, in words (docs and reports).
        unit: ``share`` (0..1), ``count``, ``weeks`` or ``index``.
        label: its plain name for people (the page's counters, panel titles, lessons).
        axis: the axis label of figures, with its unit (default: ``label (count)`` for a
            count, else the label).
        bounds: the values it can take; intervals of its mean are clipped to them.
        section: the MODEL.md section that makes it (``Outputs`` for the core's).
        active: the dotted scenario key that switches it on (it moves only when that key
            is above zero); empty when every run has it.
        shows: the surfaces that show it (:data:`SURFACES`).
    """

    name: str
    meaning: str
    unit: Unit
    label: str
    axis: str = ""
    bounds: tuple[float, float] = (0.0, math.inf)
    section: str = "Outputs"
    active: str = ""
    shows: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.axis:  # a count says its unit; a rate, mean or index says it in words
            axis = f"{self.label} (count)" if self.unit == "count" else self.label
            object.__setattr__(self, "axis", axis)
        unknown = set(self.shows) - set(SURFACES)
        if unknown:
            raise ValueError(f"{self.name}: unknown surfaces {sorted(unknown)}")

    @property
    def title(self) -> str:
        """A panel's title: the label with the section that makes it (``... (B1)``)."""
        return self.label if self.section == "Outputs" else f"{self.label} ({self.section})"

    def is_active(self, scenario: Any) -> bool:
        """Whether this output can move in a run of ``scenario`` (a validated
        :class:`~ctsim.core.scenario.Scenario`): its switch key is above zero."""
        if not self.active:
            return True
        value = scenario
        for part in self.active.split("."):
            value = getattr(value, part)
        return bool(value) and float(value) > 0


#: Kept for the name older code and docs use: a metric is an :class:`Output`.
Metric = Output


def _o(name: str, meaning: str, unit: Unit, label: str, *shows: str, axis: str = "",
       section: str = "Outputs", active: str = "",
       bounds: tuple[float, float] | None = None) -> Output:
    if bounds is None:
        bounds = (0.0, 1.0) if unit == "share" else (0.0, math.inf)
    return Output(name, meaning, unit, label, axis, bounds, section, active, frozenset(shows))


def _table(outputs: Iterable[Output]) -> dict[str, Output]:
    table: dict[str, Output] = {}
    for o in outputs:
        if o.name in table:
            raise ValueError(f"{o.name} is declared twice")
        table[o.name] = o
    return table


# ---------------------------------------------------------------- counted events

#: The events the phases count, as run totals and this week's counts (the columns of
#: ``Tally.total`` and ``Tally.week``, in this order; :mod:`ctsim.core.state` makes an
#: index constant of each, ``PLOTS`` for ``plots``). A new event goes last.
EVENTS: dict[str, Output] = _table((
    _o("plots", "plots spawned", "count", "plots", axis="plots per run (count)"),
    _o("fragments", "fragments of intelligence collected", "count", "fragments collected"),
    _o("disruptions", "disruptions, counted the week they happen", "count",
       "disruptions so far", "page"),
    _o("attacks", "plots that reached their attack", "count", "attacks", "page",
       axis="attacks per run (count)"),
    _o("shared_bilateral", "fragments sent over bilateral channels", "count",
       "fragments shared bilaterally", "page", axis="fragments sent bilaterally (count)"),
    _o("shared_institutional", "fragments posted to multilateral hubs", "count",
       "fragments posted to hubs", "page", axis="fragments posted to hubs (count)"),
    _o("leaks", "deliveries or posts that leaked", "count", "leaks", "page",
       axis="leaks per run (count)"),
    _o("plots_alerted", "plots whose target was alerted", "count", "plots alerted"),
    _o("extraditions_granted", "disruptions abroad followed by extradition", "count",
       "extraditions granted"),
    _o("extraditions_refused", "disruptions abroad where extradition failed", "count",
       "extraditions refused", "page"),
    _o("shocks", "trust shocks (diplomatic incidents)", "count", "trust shocks"),
    _o("relocations", "groups that moved their base", "count", "group relocations"),
    _o("disrupted", "plots disrupted whose attack week has passed (settled plots), counted "
       "in that week", "count", "plots disrupted", axis="plots disrupted per run (count)"),
    _o("attacks_failed", "attacks that failed against protective security (A3)", "count",
       "attacks failed", "page", section="A3"),
    _o("sources_burned", "sources lost to leaks (A5)", "count", "sources burned",
       section="A5"),
    _o("fragments_financial", "financial fragments found by financial intelligence units",
       "count", "financial fragments", "channels", section="B1",
       active="threat.financing_detection"),
    _o("fragments_border", "fragments found by border screening", "count",
       "border screening hits", "page", "channels", section="B2",
       active="threat.border_screening"),
    _o("fragments_online", "fragments from companies' records of online traces", "count",
       "company records", "page", "channels", section="B3", active="threat.online_share"),
    _o("shared_direct", "company records obtained through direct access", "count",
       "records by direct access", section="B3", active="threat.online_share"),
    _o("mlat_requests", "company records requested by mutual legal assistance", "count",
       "records by legal assistance", section="B3", active="threat.online_share"),
    _o("asset_freezes", "disruptions that used a financial fragment and froze the group's "
       "funds", "count", "asset freezes", "page", "channels", section="B1",
       active="threat.financing_detection"),
    _o("treaties_formed", "treaties signed during the run", "count", "treaties signed",
       "page", "channels", section="B6", active="relations.treaty_formation"),
    _o("treaties_lapsed", "treaties lapsed under shocks during the run", "count",
       "treaties lapsed", section="B6", active="relations.treaty_formation"),
    _o("accessions", "nations that joined an open hub during the run", "count",
       "nations joining open hubs", "channels", section="B6",
       active="cooperation.accession"),
    _o("wrongful_interdictions", "AI false alarms acted on: wrongful interdictions", "count",
       "wrongful interdictions", "page", "channels", section="B7",
       active="threat.ai_false_alarm"),
    # MODEL.md section C
    _o("inquiries", "inquiries after attacks (by chance, or between a patron and its client)",
       "count", "inquiries held", "page", section="C2", active="trust_dynamics.inquiry"),
    _o("withholdings_revealed", "withholdings an inquiry revealed: a partner held back a "
       "fragment about a plot that then struck", "count", "withholdings revealed", "page",
       section="C2", active="trust_dynamics.inquiry"),
    _o("strategy_changes", "nations that adopted a partner's strategy", "count",
       "strategies copied", "page", section="C5", active="cooperation.imitation"),
    _o("decisions", "decisions set from outside the run (share, withhold, or back to the "
       "strategy) for a nation toward a partner", "count", "decisions made", section="C6"),
    # MODEL.md section D
    _o("convictions", "disruptions whose evidence convicted (admissibility gates "
       "prosecution)", "count", "convictions", section="D2"),
    _o("acquittals", "disruptions whose evidence was too little admissible to convict: the "
       "operatives go free", "count", "acquittals", section="D2"),
    _o("plots_aborted", "plots abandoned after an alert", "count", "plots abandoned",
       section="D6"),
    _o("tipoffs", "failed arrests that alerted the plot", "count", "tip-offs",
       section="D7", active="threat.tipoff"),
    _o("prosecuted_at_home", "refused extraditions after which the base prosecuted the "
       "plotters itself", "count", "prosecuted at home", section="D8",
       active="legal.judicare"),
    _o("fragments_reach", "fragments collected by nations outside a plot's footprint",
       "count", "fragments found abroad", section="D9", active="threat.reach_rate"),
))


# ---------------------------------------------------------------- the weekly record

#: The state read each week besides the counts (the last columns of the record).
STATE: dict[str, Output] = _table((
    _o("active_plots", "plots in flight", "count", "plots active", "page"),
    _o("mean_trust", "mean trust between distinct nations", "share", "mean trust",
       "headline", axis="mean trust between nations (0..1)"),
    _o("haven_concentration", "Herfindahl index of plots over their base nations (1/N..1)",
       "index", "haven concentration", "headline",
       axis="haven concentration (Herfindahl, 1/N..1)", bounds=(0.0, 1.0)),
    _o("treaties_in_force", "treaty pairs in force", "count", "treaties in force", "page",
       "channels", section="B6", active="relations.treaty_formation"),
    # MODEL.md C3, C5: how many nations hold each strategy
    *(_o(f"nations_{s.name}", f"nations holding the strategy `{s.name}` ({s.label})",
         "count", f"nations {s.label}", section="C3") for s in STRATEGIES),
))

#: The weekly record (``Tally.record``, phase 9; row 0 is the start), its columns in this
#: order (the DataCollector's table, timeseries.csv): the disruption rate to date, the
#: running totals of these events, this week's counts of these events (columns
#: ``<event>_week``), then :data:`STATE`.
RECORD_TOTALS: tuple[str, ...] = (
    "plots", "attacks", "shared_bilateral", "shared_institutional", "leaks",
    "extraditions_granted", "extraditions_refused", "disrupted", "attacks_failed",
    "wrongful_interdictions", "asset_freezes", "treaties_formed", "accessions",
    "fragments_financial", "fragments_border", "fragments_online")
RECORD_WEEK: tuple[str, ...] = ("plots", "disruptions", "attacks", "leaks")


def week_column(event: str) -> str:
    """The record's column of this week's count of ``event`` (``disrupted_week`` counts the
    week's disruptions, as the column has always been called)."""
    return "disrupted_week" if event == "disruptions" else f"{event}_week"


# ---------------------------------------------------------------- the week's event log


@dataclass(frozen=True)
class Logged:
    """One kind of event the phases write to the week's event log (``Tally.log``: a row
    ``kind, a, b, c`` and a number ``value``), for the narrator and anyone watching a run.

    Attributes:
        name: the kind's name; :mod:`ctsim.core.state` makes ``LOG_<NAME>`` its index.
        meaning: what happened, in words.
        a, b, c: what the row's three integers are (nation, hub, plot, group or bloc
            indices; ``-`` where unused, written as -1).
        value: what the row's number is (``-`` where unused, written as NaN).
        section: the MODEL.md section or phase that writes it.
    """

    name: str
    meaning: str
    a: str
    b: str
    c: str = "-"
    value: str = "-"
    section: str = "Outputs"


#: The kinds of the week's event log, most important first (the order in which the
#: narrator tells them). A new kind goes last.
LOGGED: dict[str, Logged] = {k.name: k for k in (
    Logged("leak", "a bilateral delivery leaked: the plot is alerted", "sender", "leaker",
           "plot", "the sender's trust in the leaker before the leak", "phase 4"),
    Logged("hub_leak", "a hub post leaked: the plot is alerted", "sender", "hub", "plot",
           "the sender's trust in the hub before the leak", "phase 4"),
    Logged("attack", "a plot attacked its target (failed if its plot's ``failed`` is set)",
           "target", "base", "plot", section="phase 7"),
    Logged("refusal", "an extradition was refused: the plotters walk free", "base",
           "requesting nation", "plot", section="phase 6"),
    Logged("joint", "a nation disrupted a plot with a partner's fragment", "disrupter",
           "partner", "plot", section="phase 5"),
    Logged("move", "a group moved its base", "group", "old base", "new base",
           section="phase 8"),
    Logged("shock", "a geopolitical shock between two blocs", "bloc", "other bloc",
           section="phase 8"),
    Logged("withholding", "an inquiry after an attack revealed that a partner held back a "
           "fragment about the plot", "nation that found out", "partner that withheld",
           "plot", "the nation's trust in the partner before it found out", "C2"),
    Logged("imitation", "a nation adopted a partner's sharing strategy", "nation",
           "strategy before (index)", "strategy now (index)", section="C5"),
)}


# ---------------------------------------------------------------- metrics


def _event_metric(name: str, *shows: str) -> Output:
    """A metric that is an event's run total: the event's own declaration."""
    e = EVENTS[name]
    return Output(e.name, e.meaning, e.unit, e.label, e.axis, e.bounds, e.section, e.active,
                  e.shows | frozenset(shows))


def _by_kind(kind: str, footprint: str) -> tuple[Output, ...]:
    """The disruption rate, disruptions and attacks of one kind of plot (MODEL.md A1)."""
    return (_o(f"disruption_rate_{kind}", f"disruption rate of {kind} plots ({footprint})",
               "share", f"disruption rate, {kind} plots", section="A1"),
            _o(f"disrupted_{kind}", f"{kind} plots disrupted (settled)", "count",
               f"{kind} plots disrupted", section="A1"),
            _o(f"attacks_{kind}", f"{kind} plots that attacked (settled)", "count",
               f"{kind} attacks", section="A1"))


def _by_mode(mode: str, what: str) -> tuple[Output, ...]:
    """The disruption rate and attacks of one mode of plot (MODEL.md D10)."""
    return (_o(f"disruption_rate_{mode}", f"disruption rate of {mode} plots ({what})",
               "share", f"disruption rate, {mode} plots", section="D10",
               active="threat.simple_share"),
            _o(f"attacks_{mode}", f"{mode} plots that attacked (settled)", "count",
               f"{mode} attacks", section="D10", active="threat.simple_share"))


def _by_strategy(name: str, label: str) -> tuple[Output, ...]:
    """The outcomes of the nations holding one strategy (MODEL.md C3)."""
    return (_o(f"nations_{name}", f"nations holding `{name}` at the end", "count",
               f"nations {label}", section="C3"),
            _o(f"disruption_rate_{name}", f"disruption rate of the settled plots aimed at "
               f"nations holding `{name}` when the plot was hatched", "share",
               f"disruption rate, plots aimed at {label} nations", section="C3"),
            _o(f"sent_{name}", f"fragments sent (to partners and hubs) by nations holding "
               f"`{name}`", "count", f"fragments sent by {label} nations", section="C3"),
            _o(f"received_{name}", f"fragments that reached nations holding `{name}` from "
               "partners and hubs", "count", f"fragments received by {label} nations",
               section="C3"))


#: The run outcomes every summary holds, in this order. Counts of plots, disruptions and
#: attacks, and every rate or mean over plots, cover the settled plots; the sharing, leak
#: and extradition counts cover every event of the run.
METRICS: dict[str, Output] = _table((
    _o("disruption_rate", "share of settled plots that were disrupted", "share",
       "disruption rate", "headline", "report", "curves",
       axis="disruption rate (share of settled plots)"),
    _event_metric("plots", "headline"),
    _event_metric("disrupted", "headline"),
    _event_metric("attacks", "headline", "report", "curves"),
    _o("weeks_to_disruption", "mean weeks from spawn to disruption, settled plots", "weeks",
       "weeks to disruption", "headline", axis="weeks from spawn to disruption"),
    _o("foreign_share", "share of settled disruptions that used another nation's fragment",
       "share", "share using foreign intelligence", "headline", "report", "curves",
       axis="share of disruptions using foreign intelligence"),
    _event_metric("shared_bilateral"),
    _event_metric("shared_institutional"),
    _event_metric("leaks", "headline"),
    _event_metric("extraditions_granted"),
    _event_metric("extraditions_refused"),
    _o("mean_trust", "mean trust between distinct nations at the end", "share",
       "mean trust", "headline", "curves", axis="mean trust between nations (0..1)"),
    _o("haven_concentration", "Herfindahl index of plots over their base nations (1/N..1)",
       "index", "haven concentration", "headline",
       axis="haven concentration (Herfindahl, 1/N..1)", bounds=(0.0, 1.0)),
    _o("disruption_rate_q1", "disruption rate of plots targeting the least capable quarter",
       "share", "disruption rate, least capable quarter of targets"),
    _o("disruption_rate_q2", "disruption rate, second capacity quarter of targets", "share",
       "disruption rate, second quarter of targets"),
    _o("disruption_rate_q3", "disruption rate, third capacity quarter of targets", "share",
       "disruption rate, third quarter of targets"),
    _o("disruption_rate_q4", "disruption rate of plots targeting the most capable quarter",
       "share", "disruption rate, most capable quarter of targets"),
    _o("attacks_completed", "attacks that completed (settled plots)", "count",
       "attacks completed"),
    _event_metric("attacks_failed"),
    *_by_kind("transnational", "a footprint of two or more nations"),
    *_by_kind("domestic", "the base alone"),
    # MODEL.md section B
    _event_metric("fragments_financial"),
    _event_metric("asset_freezes"),
    _o("mean_funds", "groups' mean funds at the end, 1 = never frozen", "share",
       "groups' funds at the end", axis="groups' funds at the end (0..1)", section="B1",
       active="threat.financing_detection"),
    _event_metric("fragments_border"),
    _event_metric("fragments_online"),
    _event_metric("shared_direct"),
    _event_metric("mlat_requests"),
    _o("disruption_rate_online", "disruption rate of plots with an online trace", "share",
       "disruption rate, plots with online traces", section="B3",
       active="threat.online_share"),
    _o("weeks_to_disruption_online", "mean weeks from spawn to disruption of settled plots "
       "with an online trace", "weeks", "weeks to disruption, plots with online traces",
       section="B3", active="threat.online_share"),
    _o("mean_capacity", "nations' mean capacity at the end (joint training)", "share",
       "mean capacity at the end", axis="mean capacity at the end (0..1)", section="B4"),
    _o("mean_compatibility", "mean legal compatibility between distinct nations at the end "
       "(norms, B5; treaties, B6)", "share", "mean legal compatibility at the end",
       axis="mean legal compatibility at the end (0..1)", section="B5"),
    _event_metric("treaties_formed"),
    _event_metric("treaties_lapsed"),
    _o("treaties_in_force", "treaty pairs in force at the end", "count",
       "treaties in force at the end", section="B6", active="relations.treaty_formation"),
    _event_metric("accessions"),
    _event_metric("wrongful_interdictions"),
    # MODEL.md section C
    _event_metric("inquiries"),
    _event_metric("withholdings_revealed"),
    _event_metric("strategy_changes"),
    _event_metric("decisions"),
    *(o for s in STRATEGIES for o in _by_strategy(s.name, s.label)),
    # MODEL.md section D
    _event_metric("convictions"),
    _event_metric("acquittals"),
    _event_metric("plots_aborted"),
    _event_metric("tipoffs"),
    _event_metric("prosecuted_at_home"),
    _o("foreign_first_share", "share of settled disruptions whose disrupter's first piece of "
       "intelligence about the plot came from another state", "share",
       "share first found abroad", axis="share of disruptions first found abroad",
       section="D11"),
    _o("transnational_attack_share", "share of settled attacks that came from transnational "
       "plots", "share", "transnational share of attacks", section="D11"),
    _o("execution_ratio", "execution rate (attacks per settled plot) of domestic plots over "
       "that of transnational plots", "index", "domestic / transnational execution rate",
       section="D11", bounds=(0.0, math.inf)),
    _event_metric("fragments_reach"),
    *_by_mode("simple", "a footprint of at most two, a short lead, harder to detect"),
    *_by_mode("complex", "every other plot"),
    _o("simple_attack_share", "share of settled attacks that came from simple plots",
       "share", "simple share of attacks", section="D10", active="threat.simple_share"),
    _o("execution_ratio_simple", "execution rate (attacks per settled plot) of simple plots "
       "over that of complex plots (the observers' lone or low-tech plots against group "
       "plots)", "index", "simple / complex execution rate", section="D11",
       bounds=(0.0, math.inf), active="threat.simple_share"),
))

#: MODEL.md section B's metrics that are an event's run total.
CHANNEL_EVENT_METRICS: tuple[str, ...] = tuple(
    n for n, m in METRICS.items() if n in EVENTS and m.section.startswith("B"))


# ---------------------------------------------------------------- by target nation

#: What a run counts per target nation (``metrics.target_outcomes``; the columns of a run
#: folder's nations.parquet after ``based``): its settled plots, those disrupted, those
#: whose disruption used another state's fragment, those whose disrupter's first fragment
#: came from another state (D11), its attacks, and the attacks of transnational plots.
PER_TARGET: tuple[str, ...] = ("targeted", "disrupted", "foreign", "foreign_first", "attacked",
                               "attacked_transnational")

#: The metrics that count harms, where less is better: an experiment's gain from
#: cooperation in one of them is the harm averted (contrast minus scenario,
#: :mod:`ctsim.runs.gain`); for every other metric with a direction (rates of disruption,
#: fragments shared) more is better.
HARMS: frozenset[str] = frozenset({
    "attacks", "attacks_completed", "attacks_failed", "attacks_transnational",
    "attacks_domestic", "attacks_simple", "attacks_complex", "leaks",
    "wrongful_interdictions"})

#: The metrics that can be computed among a set of target nations (a calibration target's
#: ``among``, D11): metric -> (numerator, denominator), columns of :data:`PER_TARGET`,
#: pooled over the nations and the runs; a count (no denominator, "") is the numerator's
#: total over the nations, a run's on average.
AMONG: dict[str, tuple[str, str]] = {
    "disruption_rate": ("disrupted", "targeted"),
    "foreign_share": ("foreign", "disrupted"),
    "foreign_first_share": ("foreign_first", "disrupted"),
    "transnational_attack_share": ("attacked_transnational", "attacked"),
    "attacks_transnational": ("attacked_transnational", ""),
}


def shown_on(surface: str, table: dict[str, Output] | None = None) -> list[Output]:
    """The outputs of ``table`` (default: every declared one, events, state and metrics)
    that ``surface`` shows, in declaration order."""
    if surface not in SURFACES:
        raise ValueError(f"unknown surface {surface!r}")
    tables = [table] if table is not None else [EVENTS, STATE, METRICS]
    seen: dict[str, Output] = {}
    for t in tables:
        for o in t.values():
            if surface in o.shows and o.name not in seen:
                seen[o.name] = o
    return list(seen.values())


def output(name: str) -> Output | None:
    """The declaration of ``name``: a metric, a state column, an event, or a column of the
    weekly record (``<event>_week``); None for a name declared nowhere."""
    for table in (METRICS, STATE, EVENTS):
        if name in table:
            return table[name]
    for event in RECORD_WEEK:
        if week_column(event) == name:
            e = EVENTS[event]
            return Output(name, f"{e.meaning}, this week", e.unit, f"{e.label} this week",
                          section=e.section, active=e.active)
    return None


def label_of(name: str) -> str:
    """The plain label of an output (its name in words when it is declared nowhere)."""
    o = output(name)
    return o.label if o else name.replace("_", " ")


def axis_of(name: str) -> str:
    """The axis label (with unit) of an output (its name in words when declared nowhere)."""
    o = output(name)
    return o.axis if o else name.replace("_", " ")


def bounds_of(name: str) -> tuple[float, float] | None:
    """The range of the metric called ``name`` (None for a name that is not a metric)."""
    metric = METRICS.get(name)
    return metric.bounds if metric else None
