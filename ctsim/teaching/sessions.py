"""The teaching page's sessions, without the page: settings, links, runs and what is drawn.

A :class:`Session` is one browser tab's state: one run (or two, side by side) of a lesson's
world, each with its two reference runs and the changes made on the page between weeks
(:class:`Move`: a nation's sharing strategy set, or a decision toward a partner taken by
a class playing the nation by hand; MODEL.md C3, C6), the narrator's log, and the page
options. It knows
nothing of Solara; :mod:`ctsim.teaching.page` shows it. What the browser draws each week is
:meth:`Session.frame` (small JSON-ready data: the trust ties, the outcome lines, the
narrator's sentences); what it draws once per world is :meth:`Session.worlds` (node places
and facts); the controls and the lesson are :meth:`Session.ui`.

A session is bounded: every value from a link or a control is clamped to the control's
range, the seed to :data:`SEEDS` and the week to the scenario's horizon, and the worlds are
the shipped lessons' or the one ``ctsim app --scenario`` names, so no visitor can make the
server build a world it was not started with.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import numpy as np

from ctsim import resources
from ctsim.analysis import layout
from ctsim.core import metrics, outputs, registry, rules
from ctsim.core.model import CooperationModel
from ctsim.core.scenario import load_scenario
from ctsim.core.state import RECORDED
from ctsim.core.strategies import ACTS, DECISIONS, FOLLOW, STRATEGIES
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.teaching import narrator
from ctsim.teaching.lessons import LESSONS, lesson

FREE = "free"
FREE_TITLE = "Free exploration"

#: Seeds a page offers (and a link may ask for).
SEEDS = (1, 9999)
#: Speeds of play, weeks per second.
SPEEDS = (1, 2, 4, 8)
#: Sentences the narrator keeps on screen.
LOG_LINES = 8
#: Most weeks one request may run (the page asks for about a second of play at a time).
MAX_BATCH = 8

#: Worlds of at most this many nations get a strategy picker per nation and may be played
#: by hand; larger ones set the shares of the strategies (``world.strategies``).
SMALL_WORLD = 16
#: The page's own controls, which set no scenario key: the strategy pickers and shares,
#: and playing a nation by hand (lessons may name them in their things to try).
PAGE_CONTROLS = ("strategy", "strategies", "by hand")
#: Most changes between weeks (strategies set, decisions made) a run may hold.
MAX_MOVES = 400
#: The step of a strategy's share on the page.
SHARE_STEP = 0.05

#: Overrides that turn any world into the full-cooperation reference (MODEL.md's limit);
#: its nations all share whatever their partners do (:data:`FULL_STRATEGY`).
FULL_COOPERATION = {
    "cooperation.regime": "bilateral", "relations.treaties": "all", "relations.trust": 1.0,
    "relations.tension": 0.0, "world.sovereignty.mean": 0.0, "world.sovereignty.spread": 0.0,
    "legal.harmonization": 1.0, "legal.mlat_delay": 0, "threat.leak_rate": 0.0,
    "trust_dynamics.leak_penalty": 0.0, "cooperation.stake": 1.0,
}
#: The strategy of every nation in the full-cooperation reference (MODEL.md C3).
FULL_STRATEGY = "always"

#: Line colours and dashes of the outcome chart.
STYLE = {"A": ("#1f5fa8", ""), "B": ("#c05a00", ""),
         "no cooperation": ("#6b6b6b", "6 4"), "full cooperation": ("#1a7f3c", "6 4")}


def free_scenario() -> Path:
    """The scenario of free exploration: ``ctsim app --scenario FILE``, else the baseline."""
    return Path(os.environ.get("CTSIM_APP_SCENARIO",
                               resources.shipped("scenarios") / "baseline.yaml"))


def lesson_names() -> list[str]:
    """The page's lesson picker: free exploration, then the lessons in order."""
    return [FREE, *(x.name for x in LESSONS)]


def _title(name: str) -> str:
    return FREE_TITLE if name == FREE else lesson(name).title


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """A run's settings: the lesson, the seed, and a value for every teaching control.

    ``values`` maps each control of :func:`ctsim.core.registry.controls` by name to its value;
    :meth:`for_lesson` fills it from the lesson's scenario. ``strategies`` holds the shares
    of the sharing strategies a run draws (``world.strategies``, every strategy named, in
    [0, 1]), or None for the scenario's own.
    """

    lesson: str = FREE
    seed: int = 1
    values: dict[str, Any] = field(default_factory=dict)
    strategies: dict[str, float] | None = None

    @classmethod
    def for_lesson(cls, name: str, seed: int = 1) -> Settings:
        """The settings of a lesson's scenario (or the free scenario) from ``seed``."""
        data = load_scenario(scenario_path(name)).model_dump(mode="python")
        values = {}
        for control in registry.controls():
            node: Any = data
            for part in control.key.split("."):
                node = node[part]
            values[control.name] = node
        return cls(lesson=name, seed=seed, values=values)

    def path(self) -> Path:
        """The file the settings start from."""
        return scenario_path(self.lesson)

    def overrides(self) -> dict[str, Any]:
        """The controls (and the strategies' shares, when set) as dotted scenario keys."""
        keys = registry.control_keys()
        out = {keys[name]: value for name, value in self.values.items()}
        if self.strategies is not None:
            out["world.strategies"] = dict(self.strategies)
        return out

    def with_value(self, name: str, value: Any) -> Settings:
        """These settings with control ``name`` set to ``value`` (clamped to its range)."""
        return replace(self, values={**self.values, name: bounded(name, value)})

    def with_shares(self, shares: dict[str, Any]) -> Settings:
        """These settings with the strategies' shares ``shares`` (by name; a strategy left
        out has share 0), each clamped to [0, 1] and rounded to :data:`SHARE_STEP`.
        ValueError for an unknown strategy, a value that is not a number, or no share
        above 0."""
        return replace(self, strategies=bounded_shares(shares))


def scenario_path(name: str) -> Path:
    """The scenario file of a lesson, or the free scenario for :data:`FREE`."""
    return free_scenario() if name == FREE else lesson(name).path


def bounded(name: str, value: Any) -> Any:
    """``value`` made a valid value of control ``name``: a number clamped to its range and
    rounded to its step, a choice among its choices, a true / false. Raises ValueError for
    a value that cannot be read (an unknown choice, text for a number)."""
    control = _control(name)
    if control.kind == "checkbox":
        if isinstance(value, str):
            if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(f"{name} is true or false, not {value!r}")
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)
    if control.kind == "select":
        if value not in control.choices:
            raise ValueError(f"{name} is one of {', '.join(control.choices)}, not {value!r}")
        return value
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} is a number, not {value!r}")
    number = min(max(number, control.low), control.high)
    if control.step:
        number = round(round((number - control.low) / control.step) * control.step
                       + control.low, 6)
    return min(number, control.high)


def bounded_shares(shares: dict[str, Any]) -> dict[str, float]:
    """``shares`` made valid shares of the strategies (``world.strategies``): every
    strategy named (0 where left out), each a number in [0, 1] on the page's step
    (:data:`SHARE_STEP`). ValueError for an unknown name, a value that is not a number, or
    shares that are all 0."""
    if not isinstance(shares, dict):
        raise ValueError("the strategies' shares are a mapping from names to numbers")
    unknown = [k for k in shares if k not in STRATEGY_NAMES]
    if unknown:
        raise ValueError(f"no strategy {unknown[0]!r}: one of {', '.join(STRATEGY_NAMES)}")
    out = {}
    for name in STRATEGY_NAMES:
        value = float(shares.get(name, 0.0))
        if not math.isfinite(value):
            raise ValueError(f"the share of {name} is a number, not {value!r}")
        out[name] = round(round(min(max(value, 0.0), 1.0) / SHARE_STEP) * SHARE_STEP, 6)
    if sum(out.values()) <= 0:
        raise ValueError("at least one strategy needs a share above 0")
    return out


def _control(name: str) -> registry.Control:
    for control in registry.controls():
        if control.name == name:
            return control
    raise ValueError(f"no control named {name!r}")


# ---------------------------------------------------------------- one run and its references


class TeachingModel(CooperationModel):
    """A CooperationModel built from :class:`Settings`, stepped with two reference runs.

    ``reference`` holds ``no cooperation`` and ``full cooperation``: the same world from the
    same seed, with no channel open and with every barrier lifted (every nation sharing
    whatever its partners do, :data:`FULL_STRATEGY`), so the page can say how far the
    settings sit between them. Strategies set and decisions made on the page change this
    run only, not its references.
    """

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings.for_lesson(FREE)
        s = self.settings
        super().__init__(scenario=s.path(), rng=s.seed, **s.overrides())
        full = CooperationModel(self.config, rng=s.seed, **FULL_COOPERATION)
        for i in range(full.world.n):
            full.set_strategy(i, FULL_STRATEGY)
        self.reference = {
            "no cooperation": CooperationModel(self.config, rng=s.seed,
                                               **{"cooperation.regime": "none"}),
            "full cooperation": full,
        }

    def step(self) -> None:
        """One week of this run and of both references."""
        super().step()
        for ref in self.reference.values():
            ref.step()

    def run(self, weeks: int | None = None) -> None:
        """``weeks`` more weeks of this run and of both references, in one compiled call."""
        super().run(weeks)
        for ref in self.reference.values():
            ref.run(weeks)

    def rates(self) -> tuple[float, float, float]:
        """The disruption rate to date of this run, no cooperation and full cooperation."""
        return tuple(_last_rate(m) for m in (self, *self.reference.values()))


def _last_rate(model: CooperationModel) -> float:
    value = model.datacollector.model_vars["disruption_rate"][-1]
    return float("nan") if value is None else float(value)


# ---------------------------------------------------------------- what the settings mean


def explain(values: dict[str, Any]) -> list[str]:
    """Plain sentences on what the control values mean, in the terms of the literature."""
    v = values
    lines = [{
        "none": "No cooperation: each state works only with the intelligence it collects "
                "itself.",
        "bilateral": "Bilateral treaties only: states share with treaty partners, case by case.",
        "multilateral": "Multilateral hubs only: states post intelligence to INTERPOL- or "
                        "Europol-like hubs that pass it to every member concerned.",
        "hybrid": "Treaties and hubs together, as most states cooperate today.",
    }[v["regime"]]]
    s = v["sovereignty"]
    lines.append(f"Sovereignty sensitivity {s:.2f}: " + (
        "states guard sensitive intelligence closely and share little of it." if s >= 0.7 else
        "states weigh each piece before sharing; the most sensitive often stays home."
        if s >= 0.3 else "states share almost everything they learn."))
    h, d = v["harmonization"], v["definition_spread"]
    lines.append(f"Legal harmonization {h:.2f} and definition spread {d:.2f}: " + (
        "laws are aligned, so shared evidence arrives fast, stands up in court, and "
        "extradition works." if h >= 0.6 or d < 0.05 else
        "different laws and definitions of terrorism slow evidence through mutual legal "
        "assistance, make some of it inadmissible, and block extradition."))
    t = v["tension"]
    lines.append(f"Geopolitical tension {t:.2f}: " + (
        "rival blocs barely trust each other; intelligence stops at the bloc's border."
        if t >= 0.6 else "blocs trust each other less than their own members."
        if t > 0.1 else "blocs make no difference to trust."))
    c = v["capacity_spread"]
    lines.append(f"Capacity spread {c:.2f}: " + (
        "some states can barely detect a plot; groups drift to them as safe havens."
        if c >= 0.25 else "states detect plots about equally well."))
    r = v["leak_rate"]
    lines.append(f"Leak rate {r:.2f}: " + (
        "shared intelligence often leaks, alerting the plotters and costing trust."
        if r >= 0.15 else "leaks are rare; trust can grow with useful sharing."))
    if v["surge"] > 0:
        lines.append(f"Post-attack surge {v['surge']:.2f}: after an attack the victim sets its "
                     "sovereignty concerns aside for a while and shares more, as many states "
                     "did after 11 September 2001.")
    lines.append("Groups move toward the states where their plots are least often disrupted "
                 "(crosses mark where groups are based)." if v["adaptive"] else
                 "Groups stay where they are (crosses mark their bases).")
    if v["ai_detection"] > 0:
        lines.append(f"AI detection {v['ai_detection']:.2f}: data analysis tools raise every "
                     "state's detection in proportion to how widely it uses them.")
    if v["ai_false_alarm"] > 0:
        lines.append(f"AI false alarms {v['ai_false_alarm']:.2f} a week at full use: each is "
                     "a wrongful interdiction, and while a state handles them it has less "
                     "capacity for real plots.")
    if v["financing"] > 0:
        lines.append(f"Financial intelligence {v['financing']:.2f}: financial intelligence "
                     "units follow plots' money; a disruption that used a money trail freezes "
                     "part of the group's funds, and a poorer group plots less (only where "
                     "states have counter-financing units).")
    if v["border_screening"] > 0:
        lines.append(f"Border screening {v['border_screening']:.2f}: plotters crossing a "
                     "border may be caught by its checks, best where states use INTERPOL-like "
                     "databases; inside an open-border area nobody checks.")
    if v["treaty_formation"] > 0:
        lines.append(f"Treaty formation {v['treaty_formation']:.2f}: states that share live "
                     "plots and trust each other sign new treaties, faster after attacks.")
    if v["stake"] < 1:
        lines.append(f"Stake of non-targets {v['stake']:.2f}: a state shares less about plots "
                     "aimed at others than about those aimed at itself, and leaves the "
                     "target to carry the effort (free-riding).")
    if v["inquiry"] > 0:
        lines.append(f"Inquiries {v['inquiry']:.2f}: after an attack, an inquiry may show each "
                     "state in the plot's path what its partners knew and held back; a state "
                     "that answers defections (tit for tat, grim trigger) holds back in turn.")
    if v["imitation"] > 0:
        lines.append(f"Imitation {v['imitation']:.2f}: once a year a state may compare how "
                     "well the plots aimed at it were stopped with a partner's record, and copy "
                     "the partner's way of sharing if it did better.")
    return lines


# ---------------------------------------------------------------- the session


@dataclass(frozen=True)
class Move:
    """A change made on the page between weeks, after week ``week`` (0: before the first):
    nation ``nation`` takes the strategy ``value`` (``partner`` -1; MODEL.md C3), or
    decides ``value`` (``share``, ``withhold`` or back to its ``strategy``) toward nation
    ``partner`` (C6). Replaying a run replays its moves at their weeks."""

    week: int
    nation: int
    partner: int
    value: str

    @property
    def is_strategy(self) -> bool:
        """Whether the move sets a strategy (else it is a decision toward a partner)."""
        return self.partner < 0

    def text(self) -> str:
        """The move as a link writes it: ``week.nation.strategy`` or
        ``week.nation.partner.decision``."""
        parts = (self.week, self.nation, self.value) if self.is_strategy else (
            self.week, self.nation, self.partner, self.value)
        return ".".join(str(x) for x in parts)

    @classmethod
    def parse(cls, text: str) -> Move:
        """The move a link writes as ``text`` (:meth:`text`). ValueError when it is not
        one: a wrong number of parts, a negative week or nation, an unknown strategy or
        decision."""
        parts = text.split(".")
        if len(parts) not in (3, 4):
            raise ValueError(f"not a move: {text!r}")
        week, nation = int(parts[0]), int(parts[1])
        partner = int(parts[2]) if len(parts) == 4 else -1
        value = parts[-1]
        allowed = STRATEGY_NAMES if partner < 0 else DECISIONS
        if week < 0 or nation < 0 or (len(parts) == 4 and partner < 0) or value not in allowed:
            raise ValueError(f"not a move: {text!r}")
        return cls(week, nation, partner, value)

    def describe(self, names: list[str]) -> str:
        """The move in words, for the page's list of moves: from the week it holds (the
        week after it was made, as ``Simulation.decisions`` records it)."""
        who = names[self.nation]
        if self.is_strategy:
            return f"from week {self.week + 1}: {who} plays {_strategy_label(self.value)}"
        other = names[self.partner]
        done = {"share": f"shares with {other}", "withhold": f"withholds from {other}",
                "strategy": f"follows its strategy toward {other}"}[self.value]
        return f"from week {self.week + 1}: {who} {done}"


def _strategy_label(name: str) -> str:
    return STRATEGIES[STRATEGY_NAMES.index(name)].label


class Side:
    """One of a session's runs: its settings, model, the moves made on the page (in the
    order they were made), the nation played by hand (-1: none) and the narrator's state."""

    def __init__(self, label: str, settings: Settings, moves: list[Move] | None = None,
                 player: int = -1):
        self.label = label
        self.settings = settings
        self.model = TeachingModel(settings)
        self.events: list[narrator.Event] = []
        self.moves: list[Move] = list(moves or [])
        self.player = player
        self.start = self._held()

    def step(self) -> list[narrator.Event]:
        """One week; returns its events, most important first."""
        self.model.step()
        self.events = narrator.week_events(self.model)
        return self.events

    @property
    def small(self) -> bool:
        """Whether its world is small enough for a strategy picker per nation."""
        return self.model.world.n <= SMALL_WORLD

    def _held(self) -> list[int]:
        """How many nations hold each strategy now, in the order of the strategies."""
        return np.bincount(self.model.relations.strategy, minlength=len(STRATEGIES)).tolist()

    def apply(self, move: Move) -> bool:
        """Make ``move`` in the run now; False (and nothing done) when the run refuses it
        (a nation or partner the world does not have, a nation deciding for itself)."""
        try:
            if move.is_strategy:
                self.model.set_strategy(move.nation, move.value)
            else:
                if move.partner >= self.model.world.n:
                    return False
                self.model.decide(move.nation, move.partner, move.value)
        except ValueError:
            return False
        return True

    def replay_until(self, week: int) -> list[Move]:
        """Run to ``week``, making each move at its week (the moves of weeks already run
        are not made again); returns the moves the run refused."""
        model, refused = self.model, []
        for move in self.moves:
            if move.week < model.steps or move.week > week:
                continue
            if move.week > model.steps:
                self._run(move.week - model.steps)
            if not self.apply(move):
                refused.append(move)
        self._run(week - model.steps)
        return refused

    def _run(self, weeks: int) -> None:
        """``weeks`` more weeks in one compiled call; leaving week 0, the strategies held
        then (after the moves of week 0) are kept as the start of the chart."""
        if self.model.steps == 0:
            self.start = self._held()
        if weeks > 0:
            self.model.run(weeks)

    def record(self, move: Move) -> bool:
        """Make ``move`` now and keep it, after the moves made before it (a replay makes
        them all again, in order, so that it counts the same decisions); False when the
        run refuses it or already holds :data:`MAX_MOVES`."""
        if len(self.moves) >= MAX_MOVES or not self.apply(move):
            return False
        self.moves.append(move)
        if move.week == 0:
            self.start = self._held()
        return True


class Session:
    """One tab's teaching page state (see the module's docstring).

    Args:
        a: the settings of the run (side A).
        b: the settings of side B, or None for one run.
        week: the week to start at (the runs are replayed to it), clamped to the horizon.
        projector: large text for a projector.
        speed: weeks per second when playing, one of :data:`SPEEDS`.
        moves: each side's moves (:class:`Move`), made again at their weeks as the runs
            are replayed; a move the run refuses is dropped and named in :attr:`notes`.
        players: each side's nation played by hand (-1: none).
    """

    def __init__(self, a: Settings | None = None, b: Settings | None = None, week: int = 0,
                 projector: bool = False, speed: int = 4, notes: list[str] | None = None,
                 moves: list[list[Move]] | None = None, players: list[int] | None = None):
        a = a or Settings.for_lesson(FREE)
        moves = [*(moves or []), [], []]
        players = [*(players or []), -1, -1]
        self.sides = [Side("A", a, moves[0], players[0])] + (
            [Side("B", b, moves[1], players[1])] if b is not None else [])
        self.projector = projector
        self.speed = speed if speed in SPEEDS else 4
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_LINES)
        self.notes = list(notes or [])
        self.serial = 0
        self.goto(week)

    # ------------------------------------------------------------ reading the state

    @property
    def split(self) -> bool:
        """Whether two settings run side by side."""
        return len(self.sides) == 2

    @property
    def week(self) -> int:
        """Weeks run so far."""
        return int(self.sides[0].model.steps)

    @property
    def horizon(self) -> int:
        """The scenario's last week."""
        return int(self.sides[0].model.config.steps)

    # ------------------------------------------------------------ what the buttons do

    def step(self) -> bool:
        """One week of every run; False (and nothing done) at the horizon."""
        if self.week >= self.horizon:
            return False
        for side in self.sides:
            side.step()
        # newest first, and within a week A's before B's, the most important first
        for side in reversed(self.sides):
            for event in reversed(narrator.headline(side.events)):
                self.log.appendleft({"week": event.week, "side": side.label if self.split
                                     else "", "kind": event.kind, "text": event.text})
        return True

    def goto(self, week: int) -> None:
        """Rebuild the runs from their settings and replay them to ``week`` (clamped), each
        side's moves made again at their weeks (moves after ``week`` are dropped: they have
        not happened yet)."""
        for side in self.sides:
            side.model = TeachingModel(side.settings)
            side.events = []
        self.log.clear()
        week = min(max(int(week), 0), self.horizon)
        refused: list[Move] = []
        for side in self.sides:
            side.moves = [m for m in side.moves if m.week <= week]
            if side.player >= side.model.world.n or not side.small:
                side.player = -1
            refused += side.replay_until(max(week - 1, 0))
        if week >= 1:
            self.step()  # the last week step by step, so that the narrator has its events
            for side in self.sides:
                refused += side.replay_until(week)
        for side in self.sides:
            side.moves = [m for m in side.moves if m not in refused]
        self.notes += [f"ignored the move {m.text()}: not a move of this world"
                       for m in refused]

    def reset(self) -> None:
        """Back to week 0 with the current settings (and the strategies set at week 0)."""
        self.goto(0)

    # ------------------------------------------------------------ strategies and decisions

    def _move(self, side: int, move: Move) -> bool:
        """Make ``move`` in side ``side``'s run now and keep it (:meth:`Side.record`)."""
        if not 0 <= side < len(self.sides):
            return False
        return self.sides[side].record(move)

    def set_strategy(self, side: int, nation: int, strategy: str) -> bool:
        """Give ``nation`` of side ``side`` the sharing strategy ``strategy`` from the next
        week on (``Simulation.set_strategy``, MODEL.md C3 and C6); the change is kept and
        made again whenever the run is replayed. False (nothing done) for a side, nation
        or strategy that does not exist."""
        if strategy not in STRATEGY_NAMES or nation < 0:
            return False
        return self._move(side, Move(self.week, nation, -1, strategy))

    def decide(self, side: int, nation: int, partner: int, decision: str) -> bool:
        """Set what ``nation`` of side ``side`` does with what it learns for nation
        ``partner`` from the next week on: ``share``, ``withhold`` or back to its
        ``strategy`` (``Simulation.decide``, MODEL.md C6); kept and made again whenever
        the run is replayed. False (nothing done) for a side, nation, partner or decision
        that does not exist, or a nation deciding for itself."""
        if decision not in DECISIONS or nation < 0 or partner < 0 or nation == partner:
            return False
        return self._move(side, Move(self.week, nation, partner, decision))

    def take(self, side: int, nation: int) -> bool:
        """Play ``nation`` of side ``side`` by hand (-1: nobody): the page then shows what
        each partner last did toward it and lets the class share or withhold per partner.
        Only in small worlds (:data:`SMALL_WORLD`). False when nothing changes."""
        if not 0 <= side < len(self.sides):
            return False
        chosen = self.sides[side]
        if not (-1 <= nation < chosen.model.world.n) or not chosen.small:
            return False
        chosen.player = nation
        return True

    def hand_over(self, side: int, strategy: str) -> bool:
        """End playing by hand on side ``side``: the nation played takes ``strategy``, and
        every decision it made toward a partner goes back to following that strategy."""
        if not 0 <= side < len(self.sides) or strategy not in STRATEGY_NAMES:
            return False
        chosen = self.sides[side]
        nation = chosen.player
        if nation < 0:
            return False
        decided = chosen.model.relations.decision[nation, :chosen.model.world.n]
        for partner in np.flatnonzero(decided != FOLLOW).tolist():
            self.decide(side, nation, partner, "strategy")
        self.set_strategy(side, nation, strategy)
        chosen.player = -1
        return True

    def set_shares(self, side: int, shares: dict[str, Any], week: int | None = None) -> bool:
        """Set the shares of the strategies side ``side``'s run draws (``world.strategies``;
        the strategies of large worlds); the runs are replayed to ``week`` (default: the
        current week). Unreadable shares are ignored (False)."""
        try:
            settings = self.sides[side].settings.with_shares(shares)
        except (ValueError, TypeError, IndexError):
            return False
        self.sides[side].settings = settings
        self.goto(self.week if week is None else week)
        return True

    def set_value(self, side: int, name: str, value: Any, week: int | None = None) -> None:
        """Set control ``name`` of side ``side`` (0 = A, 1 = B); the runs are replayed to
        ``week`` (default: the current week) with the new settings. An unreadable value is
        ignored."""
        try:
            settings = self.sides[side].settings.with_value(name, value)
        except (ValueError, TypeError):
            return
        self.sides[side].settings = settings
        self.goto(self.week if week is None else week)

    def set_seed(self, seed: int, week: int | None = None) -> None:
        """Draw every run's world and weeks from ``seed`` (clamped to :data:`SEEDS`),
        replayed to ``week`` (default: the current week)."""
        seed = min(max(int(seed), SEEDS[0]), SEEDS[1])
        for side in self.sides:
            side.settings = replace(side.settings, seed=seed)
        self.goto(self.week if week is None else week)

    def set_lesson(self, name: str) -> None:
        """Load a lesson (both sides take its settings) at week 0."""
        if name not in lesson_names():
            return
        a = Settings.for_lesson(name, self.sides[0].settings.seed)
        self.sides = [Side("A", a)] + ([Side("B", copy.copy(a))] if self.split else [])
        self.goto(0)

    def set_split(self, on: bool, week: int | None = None) -> None:
        """Show two settings side by side (B starts as a copy of A) or one, replayed to
        ``week`` (default: the current week)."""
        if on == self.split:
            return
        a = self.sides[0]
        self.sides = self.sides[:1] + ([Side("B", a.settings, a.moves)] if on else [])
        self.goto(self.week if week is None else week)

    # ------------------------------------------------------------ links

    def query(self) -> str:
        """The page's state as a link's query string (the week is added by the page)."""
        a = self.sides[0].settings
        base = Settings.for_lesson(a.lesson, a.seed).values
        params: list[tuple[str, Any]] = [("lesson", a.lesson), ("seed", a.seed)]
        params += [(k, _text(v)) for k, v in a.values.items() if v != base.get(k)]
        params += _side_params(self.sides[0], "")
        if self.split:
            params.append(("split", 1))
            b = self.sides[1].settings
            params += [(f"b.{k}", _text(v)) for k, v in b.values.items() if v != a.values[k]]
            params += _side_params(self.sides[1], "b.")
        if self.projector:
            params.append(("projector", 1))
        if self.speed != 4:
            params.append(("speed", self.speed))
        return urlencode(params)

    @classmethod
    def from_query(cls, query: str | None) -> Session:
        """The session a link describes. What cannot be read is left at its default and
        named in :attr:`notes` (the page shows them); nothing raises."""
        params = dict(parse_qsl((query or "").lstrip("?"), keep_blank_values=True))
        notes: list[str] = []
        name = params.pop("lesson", FREE)
        if name not in lesson_names():
            notes.append(f"no lesson named {name!r}: free exploration instead")
            name = FREE
        seed = _int(params.pop("seed", "1"), SEEDS, 1, "seed", notes)
        week = _int(params.pop("week", "0"), (0, 10**6), 0, "week", notes)
        split = params.pop("split", "0") == "1"
        projector = params.pop("projector", "0") == "1"
        speed = _int(params.pop("speed", "4"), (1, 8), 4, "speed", notes)
        a = Settings.for_lesson(name, seed)
        names = {c.name for c in registry.controls()}
        moves: list[list[Move]] = [[], []]
        players = [-1, -1]
        shares: list[dict[str, Any] | None] = [None, None]
        for k, prefix in enumerate(("", "b.")):
            moves[k] = _moves(params.pop(f"{prefix}moves", ""), f"{prefix}moves", notes)
            players[k] = _int(params.pop(f"{prefix}play", "-1"), (-1, SMALL_WORLD - 1), -1,
                              f"{prefix}play", notes)
            shares[k] = _shares(params.pop(f"{prefix}shares", ""), f"{prefix}shares", notes)
        if shares[0] is not None:
            a = replace(a, strategies=shares[0])
        b_changes = {}
        for key, value in params.items():
            side, _, control = key.rpartition(".")
            if control not in names or side not in ("", "b"):
                notes.append(f"ignored {key!r}: not a control of this page")
                continue
            if side == "b":
                b_changes[control] = value
                continue
            try:
                a = a.with_value(control, value)
            except ValueError as exc:
                notes.append(f"ignored {key}: {exc}")
        b = None
        if split:
            b = a if shares[1] is None else replace(a, strategies=shares[1])
            for control, value in b_changes.items():
                try:
                    b = b.with_value(control, value)
                except ValueError as exc:
                    notes.append(f"ignored b.{control}: {exc}")
        return cls(a, b, week=week, projector=projector, speed=speed, notes=notes,
                   moves=moves, players=players)

    # ------------------------------------------------------------ what the page draws

    def ui(self) -> dict[str, Any]:
        """The controls, their values and the lesson card: what changes when a setting
        does, not every week."""
        a = self.sides[0].settings
        controls = []
        for c in registry.controls():
            controls.append({
                "name": c.name, "label": c.label, "kind": c.kind, "hint": c.hint,
                "low": c.low, "high": c.high, "step": c.step, "choices": list(c.choices),
                "values": [side.settings.values[c.name] for side in self.sides]})
        card = None
        if a.lesson != FREE:
            item = lesson(a.lesson)
            card = {"title": item.title, "question": item.question,
                    "notice": list(item.notice), "try": list(item.try_)}
        return {
            "lessons": [{"name": n, "title": _title(n)} for n in lesson_names()],
            "lesson": a.lesson, "card": card, "controls": controls, "split": self.split,
            "seed": a.seed, "seeds": list(SEEDS), "speeds": list(SPEEDS),
            "speed": self.speed, "projector": self.projector, "query": self.query(),
            "explain": explain(a.values), "notes": self.notes,
            "horizon": self.horizon, "strategies": self.strategy_ui(),
        }

    def strategy_ui(self) -> dict[str, Any]:
        """The strategy controls: the strategies (name, label, story, colour), whether the
        world is small (a picker per nation, playing by hand) or large (shares), whether
        strategies spread (imitation), and per side the shares drawn, the moves made (in
        words, newest first) and the nation played by hand."""
        first = self.sides[0].model
        sides = []
        for side in self.sides:
            drawn = side.model.config.world.strategies
            names = side.model.world.names
            sides.append({
                "shares": [round(float(drawn.get(s.name, 0.0)), 4) for s in STRATEGIES],
                "moves": [m.describe(names) for m in reversed(side.moves)],
                "player": side.player})
        return {
            "choices": [{"name": s.name, "label": s.label, "story": s.story,
                         "colour": layout.STRATEGY_COLOURS[s.name]} for s in STRATEGIES],
            "acts": list(ACTS), "decisions": list(DECISIONS),
            "small": self.sides[0].small, "step": SHARE_STEP,
            "imitation": first.config.cooperation.imitation > 0,
            "sides": sides,
        }

    def worlds(self) -> list[dict[str, Any]]:
        """Each side's world to draw (node places and facts), made once per world."""
        return [world_view(side.model) for side in self.sides]

    def week_frame(self) -> dict[str, Any]:
        """This week for the browser: every side's ties, bases, counts and position
        between its references, and the narrator's log."""
        return {"week": self.week, "sides": [_side_frame(side) for side in self.sides],
                "log": list(self.log)}

    def advance(self, weeks: int) -> dict[str, Any]:
        """Run up to ``weeks`` weeks (1 to :data:`MAX_BATCH`) and return them as one frame
        (:meth:`frame` with a ``weeks`` entry per week run), for a page that shows them
        one after the other: one message per batch instead of one per week."""
        frames = []
        for _ in range(min(max(int(weeks), 1), MAX_BATCH)):
            if not self.step():
                break
            frames.append(self.week_frame())
        return self.frame(frames or None, advance=True)

    def frame(self, weeks: list[dict[str, Any]] | None = None,
              advance: bool = False) -> dict[str, Any]:
        """What the browser draws: ``weeks`` (this week's :meth:`week_frame` unless given),
        the outcome lines of every run to the last of them, and whether the weeks follow
        on from the page's last (``advance``) or replace what it shows."""
        self.serial += 1
        series = []
        for side in self.sides:
            series.append(_line(side.label if self.split else "current settings",
                                STYLE[side.label], side.model))
        for label, ref in self.sides[0].model.reference.items():
            series.append(_line(label, STYLE[label], ref))
        attacks = max([1, *(max(s["attacks"], default=0) for s in series)])
        held = [_held_lines(side) for side in self.sides]
        return {"serial": self.serial, "advance": advance, "horizon": self.horizon,
                "weeks": weeks or [self.week_frame()], "series": series,
                "attacks_max": attacks, "held": [x for lines in held for x in lines],
                "show_held": self.shows_strategies()}

    def shows_strategies(self) -> bool:
        """Whether the page charts the nations by strategy: some run holds (or has held)
        more than one strategy, or strategies spread (imitation on)."""
        for side in self.sides:
            m = side.model
            if m.config.cooperation.imitation > 0:
                return True
            data = m.datacollector.model_vars
            ever = [s for s in STRATEGIES if max(data[f"nations_{s.name}"]) > 0
                    or side.start[STRATEGY_NAMES.index(s.name)] > 0]
            if len(ever) > 1:
                return True
        return False


def _side_params(side: Side, prefix: str) -> list[tuple[str, Any]]:
    """A side's shares of the strategies (when set), moves and nation played by hand, as
    a link's parameters (named with ``prefix``: ``""`` for A, ``"b."`` for B)."""
    out: list[tuple[str, Any]] = []
    if side.settings.strategies is not None:
        out.append((f"{prefix}shares", ",".join(
            f"{k}:{_text(v)}" for k, v in side.settings.strategies.items() if v > 0)))
    if side.moves:
        out.append((f"{prefix}moves", ",".join(m.text() for m in side.moves)))
    if side.player >= 0:
        out.append((f"{prefix}play", side.player))
    return out


def _moves(text: str, name: str, notes: list[str]) -> list[Move]:
    """The moves a link writes (``week.nation.strategy`` or ``week.nation.partner.decision``,
    separated by commas), in order; what cannot be read is named in ``notes``."""
    out: list[Move] = []
    for item in filter(None, text.split(",")):
        if len(out) >= MAX_MOVES:
            notes.append(f"ignored the moves after the first {MAX_MOVES} in {name}")
            break
        try:
            out.append(Move.parse(item))
        except ValueError:
            notes.append(f"ignored {item!r} in {name}: not a move")
    return out


def _shares(text: str, name: str, notes: list[str]) -> dict[str, float] | None:
    """The shares of the strategies a link writes (``name:share,...``), or None when the
    link gives none or they cannot be read (named in ``notes``)."""
    if not text:
        return None
    try:
        pairs = dict(item.split(":", 1) for item in text.split(","))
        return bounded_shares(pairs)
    except ValueError as exc:
        notes.append(f"ignored {name}: {exc}")
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _int(text: str, bounds: tuple[int, int], default: int, name: str, notes: list[str]) -> int:
    try:
        value = int(text)
    except ValueError:
        notes.append(f"ignored {name}={text!r}: not a whole number")
        return default
    if not bounds[0] <= value <= bounds[1]:
        notes.append(f"{name} {value} is outside {bounds[0]}-{bounds[1]}: clamped")
    return min(max(value, bounds[0]), bounds[1])


def _line(label: str, style: tuple[str, str], model: CooperationModel) -> dict[str, Any]:
    data = model.datacollector.model_vars
    rate = [None if v is None or not math.isfinite(v) else round(v, 3)
            for v in data["disruption_rate"]]
    return {"label": label, "colour": style[0], "dash": style[1], "rate": rate,
            "attacks": [int(x) for x in data["attacks"]]}


def _held_lines(side: Side) -> list[dict[str, Any]]:
    """The chart of nations by strategy of one run (``side``: its label): the nations
    holding each strategy held at some week, week by week (the weekly record's
    ``nations_<strategy>``; week 0 as the run started, after the strategies set at week
    0), in the order of the strategies (the page stacks them)."""
    data = side.model.datacollector.model_vars
    lines = []
    for k, s in enumerate(STRATEGIES):
        counts = [int(x) for x in data[f"nations_{s.name}"]]
        counts[0] = int(side.start[k])
        if max(counts) == 0:
            continue
        lines.append({"side": side.label, "label": s.label, "strategy": s.name,
                      "colour": layout.STRATEGY_COLOURS[s.name], "counts": counts})
    return lines


def _strategy_frame(side: Side) -> dict[str, Any]:
    """One side's strategies this week: each nation's strategy; per strategy held (or
    that sent or received anything) its nations now, fragments sent and received and the
    disruption rate of the settled plots aimed at its holders; in small worlds the settled
    plots aimed at each nation and how many were stopped; for the nation played by hand,
    each nation partner's last revealed act toward it (``ACTS`` index, week) and its
    decision toward each (``DECISIONS`` index)."""
    m = side.model
    n = m.world.n
    out: dict[str, Any] = {"held": m.relations.strategy.tolist()}
    c = metrics.decision_metrics(m, metrics.settled(m))
    table = []
    for k, s in enumerate(STRATEGIES):
        held, sent, got = (int(c[f"{x}_{s.name}"]) for x in ("nations", "sent", "received"))
        if held or sent or got:
            rate = c[f"disruption_rate_{s.name}"]
            table.append([k, held, sent, got, None if not math.isfinite(rate) else
                          round(rate, 3)])
    out["table"] = table
    if side.small:
        aimed, stopped = metrics.target_outcomes(m)[:2]
        out["aimed"] = [[int(x), int(y)] for x, y in zip(aimed, stopped, strict=True)]
    if side.player >= 0:
        i = side.player
        rel = m.relations
        out["seen"] = [[int(rel.revealed[i, j]), int(rel.revealed_week[i, j])]
                       for j in range(n)]
        out["decided"] = [int(x) for x in rel.decision[i, :n]]
    return out


def _side_frame(side: Side) -> dict[str, Any]:
    """One side's week: ties, bases, per-nation facts that change, counts, position."""
    m = side.model
    n = m.world.n
    mutual = (m.trust + m.trust.T) / 2
    leaks = {tuple(sorted(p)) for p in m.week_leaks}
    joint = {tuple(sorted(p)) for p in m.week_joint}
    if n > layout.LARGE_WORLD:  # only the ties whose trust moved
        start = (m.world.trust0 + m.world.trust0.T) / 2
        pairs = np.argwhere(np.triu(np.abs(mutual - start) > 0.02, k=1))
        kinds = np.where(mutual[pairs[:, 0], pairs[:, 1]] > start[pairs[:, 0], pairs[:, 1]],
                         3, 4)
    else:
        pairs = np.argwhere(np.triu(mutual >= 0.5, k=1))
        kinds = np.zeros(len(pairs), np.int64)
    values = np.round(mutual[pairs[:, 0], pairs[:, 1]], 2)
    edges = [[int(i), int(j), float(v), int(k)]
             for (i, j), v, k in zip(pairs.tolist(), values.tolist(), kinds.tolist(),
                                     strict=True)]
    marked = {(e[0], e[1]): e for e in edges}
    for events, kind in ((leaks, 1), (joint, 2)):
        for i, j in events:
            if i == j:
                continue
            e = marked.get((i, j))
            if e is None:
                e = marked[(i, j)] = [i, j, round(float(mutual[i, j]), 2), kind]
                edges.append(e)
            e[3] = kind
    t = m.trust.copy()
    np.fill_diagonal(t, -np.inf)
    most = t.argmax(axis=1)
    np.fill_diagonal(t, np.inf)
    least = t.argmin(axis=1)
    rows = np.arange(n)
    tally = m.tally
    safety = rules.haven_safety(m.relations.capacity, tally.undisrupted_at, tally.resolved_at)
    best, worst = (np.where(np.isfinite(x), x, 0.0) for x in (t[rows, most], t[rows, least]))
    nodes = np.column_stack([m.counts.plots_by_base, np.round(safety, 2), most, least,
                             np.round(best, 2), np.round(worst, 2)]).tolist()
    rate, none, full = m.rates()
    counts = page_counters(m)
    return {"label": side.label, "edges": edges,
            "bases": sorted({int(b) for b in m.groups.base}),
            "hub_leaks": sorted({int(h) for _, h in m.week_hub_leaks}),
            "nodes": nodes, "counts": counts,
            "rate": None if not math.isfinite(rate) else round(rate, 3),
            "position": narrator.position(rate, none, full),
            "events": [e.text for e in narrator.headline(side.events)],
            "strategy": _strategy_frame(side)}


#: The counters the page shows, in order: the state first, then the counted events
#: (declared with the ``page`` surface in :mod:`ctsim.core.outputs`).
PAGE_COUNTERS = tuple(outputs.shown_on("page", outputs.STATE)
                      + outputs.shown_on("page", outputs.EVENTS))


def counter_labels() -> list[str]:
    """The labels of every counter the page can show (lessons quote only these)."""
    return [o.label for o in PAGE_COUNTERS]


def page_counters(model: CooperationModel) -> list[list[Any]]:
    """The page's counters of a run now: ``[label, value]`` for each declared page counter
    that the run's scenario switches on (a lesson without a channel shows no idle
    counter). Events are run totals; state columns are this week's record."""
    total = model.counts.total
    row = model.tally.record[model.steps]
    out: list[list[Any]] = []
    for o in PAGE_COUNTERS:
        if not o.is_active(model.config):
            continue
        value = total[o.name] if o.name in outputs.EVENTS else row[RECORDED.index(o.name)]
        out.append([o.label, int(value)])
    return out


# ---------------------------------------------------------------- the world to draw

_LAYOUTS: dict[str, dict[str, Any]] = {}


def world_view(model: CooperationModel) -> dict[str, Any]:
    """Nodes (place in a unit square, radius in that square, colour, facts), hubs and the
    legend of one world; cached by the world's contents (the spring layout is the cost)."""
    w = model.world
    digest = hashlib.blake2b(
        w.trust0.tobytes() + w.capacity.tobytes() + w.members.tobytes()
        + "|".join(w.names).encode(), digest_size=16).hexdigest()
    if digest not in _LAYOUTS:
        if len(_LAYOUTS) > 64:
            _LAYOUTS.clear()
        _LAYOUTS[digest] = _world_view(model)
    return _LAYOUTS[digest]


def _world_view(model: CooperationModel) -> dict[str, Any]:
    w = model.world
    large = w.n > layout.LARGE_WORLD
    pos = layout.network_positions(model)
    xy = np.array([pos[i] for i in range(w.n)], float).reshape(w.n, 2)
    low, high = xy.min(axis=0), xy.max(axis=0)
    span = np.where(high - low > 0, high - low, 1.0)
    xy = 0.06 + 0.88 * (xy - low) / span
    from ctsim.core.world import LEGAL_FAMILIES

    shrink = min(1.0, 30 / max(w.n, 1))
    nodes = []
    for i in range(w.n):
        hubs_of = [h for h in range(len(w.inst_names)) if w.members[h, i]]
        member_of = [w.inst_names[h].replace("_", " ") for h in hubs_of]
        family = LEGAL_FAMILIES[w.legal_family[i]].replace("_", " ")
        nodes.append({
            "name": w.names[i], "x": round(float(xy[i, 0]), 4),
            "y": round(float(1 - xy[i, 1]), 4),
            "r": round((0.012 + 0.026 * float(w.capacity[i])) * (shrink ** 0.5), 4),
            "colour": _bloc_colour(w.bloc[i]), "hubs": hubs_of,
            "facts": [f"capacity {w.capacity[i]:.2f}", f"sovereignty {w.sovereignty[i]:.2f}",
                      f"legal system: {family}", f"bloc {w.bloc_names[w.bloc[i]]}",
                      "member of " + (", ".join(member_of) if member_of else "no hub")],
        })
    hubs = [{"name": name, "members": int(w.members[h].sum())}
            for h, name in enumerate(w.inst_names)]
    blocs = [{"name": name, "colour": _bloc_colour(b)}
             for b, name in enumerate(w.bloc_names)]
    return {"nodes": nodes, "hubs": hubs, "blocs": blocs, "large": large,
            "labels": w.n <= 40, "regions": _region_labels(w, nodes) if large else []}


def _bloc_colour(bloc: int) -> str:
    """A bloc's colour, as the figures draw it."""
    return layout.BLOC_COLOURS[bloc % len(layout.BLOC_COLOURS)]


def _region_labels(w: Any, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each region's name and size, centred above its cluster of nodes (below it when
    there is no room above), in the nodes' unit square."""
    labels = []
    for r, name in enumerate(w.region_names):
        members = [nodes[i] for i in np.flatnonzero(w.region == r)]
        if not members:
            continue
        x = float(np.mean([m["x"] for m in members]))
        top = min(m["y"] - m["r"] for m in members) - 0.035
        y = top if top > 0.04 else max(m["y"] + m["r"] for m in members) + 0.06
        labels.append({"name": f"{name.replace('_', ' ')} ({len(members)})",
                       "x": round(min(max(x, 0.12), 0.88), 4), "y": round(y, 4)})
    return labels
