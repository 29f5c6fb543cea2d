"""CooperationModel: nations sharing intelligence about transnational plots (MODEL.md).

A week is MODEL.md's step list, :func:`ctsim.core.phases.week`: nine phases, each a plain
compiled loop that calls the rules of :mod:`ctsim.core.rules` by name. ``step()`` runs one
week (Mesa's interface, used by the teaching app and ``mesa.batch_run``); ``run()`` runs
many weeks in one compiled call (ctsim's own runners). Both give the same results for the
same seed, bit for bit.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time.events import EventGenerator, Priority, Schedule

from ctsim.core import metrics
from ctsim.core.agents import Nation
from ctsim.core.collector import RecordCollector
from ctsim.core.scenario import Scenario, load_scenario
from ctsim.core.simulation import Simulation
from ctsim.errors import ScenarioError


def _check_arguments(scenario: Any, rng: Any) -> None:
    """Refuse, with a :class:`ScenarioError` (one line), a ``scenario`` or ``rng`` that
    :class:`CooperationModel` cannot use, before anything is built."""
    if not (scenario is None or isinstance(scenario, Scenario | str | os.PathLike)):
        raise ScenarioError("CooperationModel", "scenario", "expected a Scenario, a scenario "
                            f"file's path or None, got {type(scenario).__name__}")
    seed = isinstance(rng, numbers.Integral) and not isinstance(rng, bool)
    if not (rng is None or isinstance(rng, np.random.Generator) or (seed and rng >= 0)):
        raise ScenarioError("CooperationModel", "rng", "expected a seed (a whole number >= 0), "
                            f"a numpy Generator or None, got {_shown(rng)}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({type(value).__name__})"


class CooperationModel(mesa.Model):
    """Nations, their trust and laws, hubs, and the groups whose plots they try to disrupt.

    Args:
        scenario: a :class:`~ctsim.core.scenario.Scenario`, a path to a scenario file, or
            None for the built-in defaults.
        rng: seed (a plain int) or numpy Generator; None uses the scenario's ``seed``.
        **overrides: dotted scenario keys, e.g. ``**{"threat.detection_rate": 0.2}``; the
            names that ``mesa.batch_run`` parameters and experiment factors use.

    The ctsim scenario is ``model.config``; ``model.scenario`` stays Mesa's own scenario
    object, which Mesa's visualization expects. The world is ``model.world``; the state
    the weekly phases change lives in ``model.relations`` (trust), ``model.plots``,
    ``model.fragments``, ``model.mail``, ``model.groups`` and ``model.tally``
    (:mod:`ctsim.core.state`).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        rng: int | np.random.Generator | None = None,
        **overrides: Any,
    ):
        _check_arguments(scenario, rng)
        if isinstance(scenario, str | os.PathLike):
            config = load_scenario(scenario, overrides or None)
        else:
            config = (scenario or Scenario()).with_overrides(overrides) if overrides else (
                scenario or Scenario()
            )
        if rng is None:
            rng = config.seed
        if isinstance(rng, np.integer):
            rng = int(rng)
        super().__init__(rng=rng)
        self.config: Scenario = config
        self.sim = Simulation(config, self.rng)
        self.nations: list[Nation] = [Nation(self, i) for i in range(self.world.n)]
        self.datacollector = RecordCollector()
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ the weeks

    def step(self) -> None:
        """One week, in MODEL.md's order (:func:`ctsim.core.phases.week`):

        1. spawn, 2. collect, 3. share, 4. leak, 5. act, 6. prosecute, 7. attack,
        8. drift, 9. record; then the DataCollector reads the week's record.
        """
        self.sim.run(self.steps)
        self.datacollector.collect(self)
        if self.steps >= self.config.steps:
            self.running = False

    def run(self, weeks: int | None = None) -> None:
        """Run ``weeks`` more weeks (default: to the scenario's horizon) in one compiled call.

        The same weeks, with the same draws, as calling :meth:`step` that many times; the
        DataCollector's table, ``model.steps`` and Mesa's clock end where they would.
        """
        if weeks is None:
            weeks = self.config.steps - self.steps
        if weeks <= 0:
            return
        collector = self.datacollector
        if not (isinstance(collector, RecordCollector) and collector.reads_record_only):
            for _ in range(weeks):  # another collector's reporters must see every week
                self.step()
            return
        first = self.steps + 1
        self.sim.run(self.steps + weeks)
        self.steps += weeks
        # Mesa's clock: move time on and schedule the next step where it would be.
        self._default_schedule.stop()
        self.time += weeks
        self._default_schedule = EventGenerator(
            self, self._do_step, Schedule(interval=1.0, start=self.time + 1.0),
            priority=Priority.HIGH).start()
        collector.collect_weeks(self, first, self.steps)
        if self.steps >= self.config.steps:
            self.running = False

    # ------------------------------------------------------------------ reading

    def metrics(self) -> dict[str, float]:
        """The run's outcome measures so far (MODEL.md, Outputs)."""
        return metrics.run_metrics(self.sim)


def _delegate(name: str, doc: str) -> property:
    """A property reading (and setting) the run's ``Simulation`` attribute ``name``."""
    return property(lambda self: getattr(self.sim, name),
                    lambda self, value: setattr(self.sim, name, value), doc=doc)


for _name, _doc in (
    ("world", "The static world (ctsim.core.world.World)."),
    ("streams", "The phases' Generators by name (ctsim.core.state.STREAMS)."),
    ("_rngs", "The phases' Generators as the list the compiled week indexes."),
    ("setting", "The scalar parameters the phases read."),
    ("static", "The static arrays the phases read (ctsim.core.state.Nations)."),
    ("relations", "Trust between nations and in hubs, and the salience of attacks."),
    ("groups", "The groups' bases and strengths."),
    ("plots", "The plot table."),
    ("fragments", "The fragment table."),
    ("mail", "Deliveries in flight, this week's arrivals and the receipts."),
    ("tally", "The counts, the events of the week and the weekly record."),
    ("trust", "(N, N) trust T[i, j]: how far nation i trusts nation j now (the live array)."),
    ("inst_trust", "(N, H) each member's trust in each hub now (the live array)."),
    ("salience", "(N,) the salience of recent attacks on each nation (MODEL.md A4)."),
    ("counts", "The run's event counts so far: total and this week's week, by name."),
    ("week_log", "This week's events, in the order they happened (outputs.LOGGED)."),
    ("week_leaks", "This week's bilateral leaks: (sender, leaker) pairs."),
    ("week_hub_leaks", "This week's leaked hub posts: (sender, hub) pairs."),
    ("week_joint", "This week's joint disruptions: (disrupter, partner whose fragment it used)."),
    ("decisions", "Decisions set from outside the run, in order (MODEL.md C6)."),
    ("decide", "Set a nation's decision toward a partner between weeks (MODEL.md C6)."),
    ("extradite", "Set whether a nation hands over plotters a partner asks for (C6)."),
    ("set_strategy", "Give a nation a sharing strategy between weeks (MODEL.md C3, C6)."),
    ("revealed_toward", "What each partner did toward a nation, as far as it has seen (C2)."),
):
    setattr(CooperationModel, _name, _delegate(_name, _doc))
