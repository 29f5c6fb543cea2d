"""A class plays one world together: every student a nation, the projector the world.

MODEL.md C6 lets a person set, between weeks, what a nation does with what it learns for
each partner: share, withhold, or follow its strategy. A :class:`Classroom` is one run of
one world played that way by a class. The teacher opens it (:meth:`Registry.open`) and
shows its code; each student joins with the code and a first name (:meth:`Classroom.join`)
and is given a nation, or shares one with a teammate when there are more students than
nations. Nations nobody plays follow the strategy the teacher picks (MODEL.md C3). The
class plays in rounds of a few weeks: students set their decisions toward each partner
(nations with a channel, and hubs they belong to), the teacher starts the next round,
and each student reads what happened to their nation and because of it. At the end the
debrief sets the class's outcome beside the same world, from the same seed, played by
every nation at ``always``, at ``reciprocal``, at ``never``, and by the mix of strategies
the class's own decisions come closest to (:func:`inferred_strategy`).

Everything a page shows is a JSON-ready dict (:meth:`Classroom.student_view`,
:meth:`Classroom.teacher_view`); this module knows nothing of the web server
(:mod:`ctsim.teaching.server`). A classroom is guarded by its own lock: thirty students'
requests may arrive at once, from the server's threads.

Codes, teacher keys and seat tokens come from :mod:`secrets`, not from the run's seed: they
are credentials, not part of the simulation. A class code (6 characters of 24, about 1.9e8
codes) is for typing on a phone; what keeps a class closed is that a wrong code costs a
guess (:data:`GUESSES` a client may make in :data:`GUESS_WINDOW` seconds) and that
steering a class needs the teacher's key, acting for a nation its seat's token (each 128
random bits).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ctsim.core import outputs
from ctsim.core.model import CooperationModel
from ctsim.core.state import ATTACKED, DISRUPTED
from ctsim.core.strategies import ACTS, DECISIONS, HANDOVER, SHARED, STRATEGIES
from ctsim.core.strategies import NAMES as STRATEGY_NAMES
from ctsim.teaching import narrator, sessions

#: Characters of a class code: capital letters and digits that cannot be misread for one
#: another on a projector (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3467"
#: Length of a class code.
CODE_LENGTH = 6
#: Classes one server holds at once; the oldest finished or idle class makes room.
MAX_CLASSES = 20
#: Students one class takes.
MAX_STUDENTS = 60
#: A class nobody has touched for this long (seconds) may be dropped to make room.
IDLE = 3 * 3600.0
#: Wrong class codes a client may send in :data:`GUESS_WINDOW` seconds before it must wait
#: (a client is an address, which a whole school may share: a class's own seats and
#: teacher are never made to wait, :meth:`Registry.find`).
GUESSES = 30
GUESS_WINDOW = 600.0
#: Weeks a round may last.
ROUND_WEEKS = (1, 13)
#: Longest first name kept (characters).
NAME_LENGTH = 20
#: The strategies nations nobody plays may follow (MODEL.md C3), the teacher's choice.
OTHERS = tuple(s.name for s in STRATEGIES)
#: What the debrief compares the class with: every nation at one strategy.
REFERENCES = ("always", "reciprocal", "never")
#: The outcomes the teacher's page and the debrief show (labels from ctsim.core.outputs).
OUTCOMES = ("disruption_rate", "disrupted", "attacks", "leaks", "withholdings_revealed")
#: Seeds of the debrief's "other games": each reference played from seeds 1 to this many,
#: for the spread one game of the same world has by luck alone.
OTHER_GAMES = 20
#: The strategies a nation's decisions are compared with (:func:`inferred_strategy`).
INFERABLE = ("always", "never", "reciprocal", "grudging")


class ClassError(ValueError):
    """A request the class cannot do, said in one plain sentence for the page, with the
    HTTP status a server answers it with (``status``): 400 a request that makes no sense,
    403 a key or seat token that is not the class's, 404 a code no class has, 409 a
    request out of turn (the class is paused, finished, full), 429 too many wrong codes."""

    def __init__(self, sentence: str, status: int = 400):
        super().__init__(sentence)
        self.status = status


# ---------------------------------------------------------------- the people


@dataclass
class Seat:
    """A student: their first name, their nation, the token their device keeps to come
    back as the same student, and when they were last heard from (time.monotonic)."""

    token: str
    name: str
    nation: int
    seen: float = 0.0


@dataclass(frozen=True)
class Choice:
    """A decision a student made: in round ``round`` (before week ``week + 1`` ran),
    ``student`` set what ``nation`` does toward partner ``partner`` (a nation, or
    ``N + h`` for hub h) to ``decision`` (``share`` or ``withhold``), having last seen the
    partner ``seen`` (one of :data:`ctsim.core.strategies.ACTS`) toward it."""

    round: int
    week: int
    student: str
    nation: int
    partner: int
    decision: str
    seen: str


@dataclass
class Round:
    """What one round did: its weeks, who passed pieces to whom (``shared[(p, i)]``: p
    sent i pieces; p may be a hub ``N + h``), leaks, revealed withholdings, attacks and
    disruptions, and the narrator's sentences."""

    number: int
    first: int
    last: int
    shared: dict[tuple[int, int], int] = field(default_factory=dict)
    leaks: list[tuple[int, int]] = field(default_factory=list)  # (sender, leaker)
    hub_leaks: list[tuple[int, int]] = field(default_factory=list)  # (sender, hub)
    withheld: list[tuple[int, int, int]] = field(default_factory=list)  # (i, p, target)
    attacks: list[tuple[int, tuple[int, ...], bool]] = field(default_factory=list)
    disruptions: list[tuple[int, int, bool]] = field(default_factory=list)
    helped: list[tuple[int, int]] = field(default_factory=list)  # (disrupter, partner)
    #: refused extraditions: (base, requester, whether the base's decision refused)
    refused: list[tuple[int, int, bool]] = field(default_factory=list)
    events: list[narrator.Event] = field(default_factory=list)
    #: each played nation's decisions in force during the round: ``held[i]`` lists
    #: ``(partner, decision, last act seen from the partner when the round began)``
    held: dict[int, list[tuple[int, str, str]]] = field(default_factory=dict)


# ---------------------------------------------------------------- the class


class Classroom:
    """One world played by a class (see the module's docstring).

    Args:
        scenario: the scenario file (a lesson's world, or the app's scenario).
        code: the class code; teacher_key: the key that steers it.
        seed: the run's seed (the references use it too).
        round_weeks: weeks a round runs, in :data:`ROUND_WEEKS`.
        others: the strategy of the nations nobody plays, one of :data:`OTHERS`.
        title: what the pages call the world.
    """

    def __init__(self, scenario: Path, code: str, teacher_key: str, *, seed: int = 1,
                 round_weeks: int = 4, others: str = "reciprocal", title: str = ""):
        if others not in OTHERS:
            raise ClassError(f"nations nobody plays follow one of {', '.join(OTHERS)}")
        low, high = ROUND_WEEKS
        if not low <= int(round_weeks) <= high:
            raise ClassError(f"a round is {low} to {high} weeks")
        self.scenario, self.code, self.teacher_key = Path(scenario), code, teacher_key
        self.seed, self.round_weeks, self.others = int(seed), int(round_weeks), others
        self.model = CooperationModel(self.scenario, rng=self.seed)
        self.title = title or self.model.config.name.replace("_", " ")
        self.lock = threading.RLock()
        self.version = 0
        self.phase = "lobby"  # then "playing", then "finished"
        self.paused = False
        self.reveal = False
        self.seats: dict[str, Seat] = {}
        self.choices: list[Choice] = []
        self.rounds: list[Round] = []
        self.ready: set[int] = set()
        self.played: set[int] = set()
        self.touched = time.monotonic()
        self._debrief: dict[str, Any] | None = None
        self._debrief_lock = threading.Lock()  # the class's lock stays free meanwhile
        n = self.model.world.n
        # the order nations are handed out in: from the class's seed, so a replay hands
        # them out the same way; a nation per student before any is shared
        self._order = np.random.default_rng(
            np.random.SeedSequence(self.seed).spawn(1)[0]).permutation(n).tolist()
        for i in range(n):
            self.model.set_strategy(i, others)

    # ------------------------------------------------------------ reading

    @property
    def n(self) -> int:
        """Nations in the world."""
        return self.model.world.n

    @property
    def week(self) -> int:
        """Weeks played."""
        return int(self.model.steps)

    @property
    def horizon(self) -> int:
        """The world's last week."""
        return int(self.model.config.steps)

    @property
    def total_rounds(self) -> int:
        """Rounds to the horizon."""
        return math.ceil(self.horizon / self.round_weeks)

    def partners(self, i: int) -> list[int]:
        """Nation ``i``'s partners, as decisions name them: the nations it has a channel
        with either way (treaty or ad hoc, MODEL.md phase 3), then ``N + h`` for each hub
        it belongs to."""
        rel = self.model.relations
        nations = [j for j in range(self.n) if j != i and (rel.channel[i, j] or rel.channel[j, i])]
        hubs = [self.n + h for h in range(rel.members.shape[0]) if rel.members[h, i]]
        return nations + hubs

    def partner_name(self, p: int) -> str:
        """A partner's name: a nation's, or a hub's in words."""
        w = self.model.world
        return w.names[p] if p < self.n else w.inst_names[p - self.n].replace("_", " ")

    def students_of(self, i: int) -> list[str]:
        """The first names of the students playing nation ``i``."""
        return [s.name for s in self.seats.values() if s.nation == i]

    def knows(self, credential: Any) -> bool:
        """Whether ``credential`` is one of this class's seat tokens or its teacher key."""
        if not isinstance(credential, str):
            return False
        return credential in self.seats or secrets.compare_digest(credential,
                                                                  self.teacher_key)

    def _seat(self, token: Any) -> Seat:
        seat = self.seats.get(token) if isinstance(token, str) else None
        if seat is None:
            raise ClassError("this device has not joined the class: join with its code", 403)
        seat.seen = self.touched = time.monotonic()
        return seat

    def _teacher(self, key: Any) -> None:
        if not (isinstance(key, str) and secrets.compare_digest(key, self.teacher_key)):
            raise ClassError("only the teacher who started the class can do that", 403)
        self.touched = time.monotonic()

    def _changed(self) -> None:
        self.version += 1
        self.touched = time.monotonic()

    # ------------------------------------------------------------ students

    def join(self, name: Any, token: Any = None) -> Seat:
        """Seat a student called ``name``, or give back the seat of ``token`` (a student
        who reloaded or lost the network rejoins as the same nation). ClassError when the
        class is full or over, or for a name with no letters."""
        with self.lock:
            if isinstance(token, str) and token in self.seats:
                return self._seat(token)
            if self.phase == "finished":
                raise ClassError("this class has finished", 409)
            if len(self.seats) >= MAX_STUDENTS:
                raise ClassError(f"this class is full ({MAX_STUDENTS} students)", 409)
            clean = clean_name(name)
            taken = {s.name for s in self.seats.values()}
            base, k = clean, 2
            while clean in taken:  # two Alexes become Alex and Alex 2
                clean, k = f"{base} {k}", k + 1
            counts = [len(self.students_of(i)) for i in range(self.n)]
            fewest = min(counts)
            nation = next(i for i in self._order if counts[i] == fewest)
            seat = Seat(secrets.token_urlsafe(16), clean, nation, time.monotonic())
            self.seats[seat.token] = seat
            if nation not in self.played:
                self.played.add(nation)
                self._start_playing(nation)
            self._changed()
            return seat

    def _start_playing(self, i: int) -> None:
        """A nation's first student takes it over: from the next week it shares with every
        partner until they decide otherwise (MODEL.md C6)."""
        for p in self.partners(i):
            self._set(i, p, "share")

    def _set(self, i: int, p: int, decision: str) -> None:
        """Nation ``i``'s decision toward partner column ``p`` in the run: what it shares
        (a hub is named: ``Simulation.decide`` reads an index as a nation's), or whether
        it hands over plotters (``Simulation.extradite``)."""
        if decision in HANDOVER:
            self.model.extradite(i, p, decision)
            return
        w = self.model.world
        self.model.decide(i, p if p < self.n else w.inst_names[p - self.n], decision)

    def _handing(self, i: int, p: int) -> str:
        """Whether nation ``i`` hands over to nation ``p`` the plotters ``p`` asks for."""
        return "extradite" if self.model.relations.extradite[i, p] else "refuse"

    def decide(self, token: Any, partner: Any, decision: Any) -> dict[str, Any]:
        """The student of ``token`` sets their nation's ``decision`` toward ``partner``
        from the next week on: ``share`` or ``withhold`` what it learns (a nation or a
        hub), ``extradite`` or ``refuse`` plotters the partner caught and asks for (a
        nation; MODEL.md C6). Returns the partner's row of the student's view.
        ClassError when the class is not playing or is paused, or for a partner the nation
        does not have."""
        with self.lock:
            seat = self._seat(token)
            if self.phase != "playing":
                raise ClassError("decisions are made while the class is playing", 409)
            if self.paused:
                raise ClassError("the teacher has paused the class", 409)
            if decision not in ("share", "withhold", "extradite", "refuse"):
                raise ClassError("a decision is share or withhold, extradite or refuse")
            i = seat.nation
            if not isinstance(partner, int) or partner not in self.partners(i):
                raise ClassError("that is not one of your nation's partners")
            if decision in HANDOVER and partner >= self.n:
                raise ClassError("a hub asks for nobody: extradition is between nations")
            seen = ACTS[int(self.model.relations.revealed[i, partner])]
            held = (self._handing(i, partner) if decision in HANDOVER
                    else self._decision(i, partner))
            if held != decision:
                self._set(i, partner, decision)
                self.choices.append(Choice(len(self.rounds) + 1, self.week, seat.name, i,
                                           partner, decision, seen))
                self._changed()
            return self._partner_row(i, partner)

    def set_ready(self, token: Any, ready: bool = True) -> None:
        """The student of ``token`` says their nation has decided for this round (or not)."""
        with self.lock:
            seat = self._seat(token)
            if self.phase != "playing":
                raise ClassError("the class is not playing", 409)
            before = seat.nation in self.ready
            (self.ready.add if ready else self.ready.discard)(seat.nation)
            if before != bool(ready):
                self._changed()

    def _decision(self, i: int, p: int) -> str:
        """Nation ``i``'s decision toward partner column ``p`` (strategies.DECISIONS)."""
        return DECISIONS[int(self.model.relations.decision[i, p])]

    # ------------------------------------------------------------ the teacher

    def control(self, key: Any, op: Any, value: Any = None) -> None:
        """What the teacher's page asks: ``start``, ``next`` (run the next round),
        ``pause``, ``resume``, ``reveal`` (show students' names on the projector, value
        true or false), ``others`` (the strategy of unplayed nations, value its name),
        ``end`` (finish now). ClassError for anything else or out of turn."""
        with self.lock:
            self._teacher(key)
            if op == "start":
                if self.phase != "lobby":
                    raise ClassError("the class has already started", 409)
                self.phase = "playing"
            elif op == "next":
                self.next_round()
            elif op in ("pause", "resume"):
                self.paused = op == "pause"
            elif op == "reveal":
                self.reveal = bool(value)
            elif op == "others":
                if value not in OTHERS:
                    raise ClassError(f"nations nobody plays follow one of {', '.join(OTHERS)}")
                self.others = str(value)
                for i in range(self.n):
                    if i not in self.played:
                        self.model.set_strategy(i, self.others)
            elif op == "end":
                if self.phase == "finished":
                    raise ClassError("the class has finished", 409)
                self.finish()
            else:
                raise ClassError(f"no such control: {op!r}")
            self._changed()

    def next_round(self) -> Round:
        """Run the next round's weeks (to the horizon at most) and keep what happened;
        the class is finished at the horizon."""
        with self.lock:
            if self.phase == "lobby":
                self.phase = "playing"
            if self.phase != "playing":
                raise ClassError("the class has finished", 409)
            weeks = min(self.round_weeks, self.horizon - self.week)
            done = Round(len(self.rounds) + 1, self.week + 1, self.week + weeks)
            rel = self.model.relations
            done.held = {i: [(p, self._decision(i, p), ACTS[int(rel.revealed[i, p])])
                             for p in self.partners(i)] for i in sorted(self.played)}
            for _ in range(weeks):
                self.model.step()
                self._record_week(done)
            self.rounds.append(done)
            self.ready.clear()
            self.paused = False
            if self.week >= self.horizon:
                self.finish()
            self._changed()
            return done

    def finish(self) -> None:
        """End the class: no more decisions or rounds; the debrief is computed in the
        background (its reference runs take about a second), and the pages show it when
        it is ready (:attr:`version` moves on)."""
        with self.lock:
            if self.phase == "finished":
                return
            self.phase = "finished"
            self._changed()
        threading.Thread(target=self._debrief_later, daemon=True).start()

    def _debrief_later(self) -> None:
        self.debrief()
        with self.lock:
            self._changed()

    def _record_week(self, done: Round) -> None:
        """Add the week just run to ``done``: the pieces that arrived (each partner's
        revealed act "shared" this week, MODEL.md C2), the event log, the plots settled."""
        m, t = self.model, self.week
        rel = m.relations
        got = np.argwhere((rel.revealed_week == t) & (rel.revealed == SHARED))
        for i, p in got.tolist():
            done.shared[(p, i)] = done.shared.get((p, i), 0) + 1
        for e in m.week_log:
            if e.kind == "leak":
                done.leaks.append((e.a, e.b))
            elif e.kind == "hub_leak":
                done.hub_leaks.append((e.a, e.b))
            elif e.kind == "withholding":
                done.withheld.append((e.a, e.b, int(m.plots.target[e.c])))
            elif e.kind == "joint":
                done.helped.append((e.a, e.b))
            elif e.kind == "refusal":
                done.refused.append((e.a, e.b, not m.relations.extradite[e.a, e.b]))
        plots = m.plots
        settled = np.flatnonzero(plots.resolved[: plots.n] == t)
        for k in settled.tolist():
            size = int(plots.size[k])
            foot = plots.foot[k, :size]
            holders = tuple(int(foot[b]) for b in range(size) if plots.evidence[k, b] > 0)
            if plots.status[k] == ATTACKED:
                done.attacks.append((int(plots.target[k]), holders, bool(plots.failed[k])))
            elif plots.status[k] == DISRUPTED:
                done.disruptions.append((int(plots.disrupter[k]), int(plots.target[k]),
                                         bool(plots.foreign[k])))
        done.events.extend(narrator.week_events(m))

    # ------------------------------------------------------------ views

    def student_view(self, token: Any) -> dict[str, Any]:
        """What a student's page shows (see :meth:`_student`)."""
        with self.lock:
            return self._student(self._seat(token))

    def _student(self, seat: Seat) -> dict[str, Any]:
        i, w = seat.nation, self.model.world
        view = self._common()
        view.update({
            "me": {"name": seat.name, "nation": i, "nation_name": w.names[i],
                   "team": [s for s in self.students_of(i) if s != seat.name],
                   "facts": nation_facts(self.model, i)},
            "partners": [self._partner_row(i, p) for p in self.partners(i)],
            "plots": self._plots_held(i),
            "report": student_report(self, i, self.rounds[-1]) if self.rounds else None,
            "ready": i in self.ready,
        })
        return view

    def _common(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "phase": self.phase,
                "paused": self.paused, "round": len(self.rounds),
                "rounds": self.total_rounds, "week": self.week, "horizon": self.horizon,
                "round_weeks": self.round_weeks, "version": self.version}

    def _partner_row(self, i: int, p: int) -> dict[str, Any]:
        rel = self.model.relations
        act, when = ACTS[int(rel.revealed[i, p])], int(rel.revealed_week[i, p])
        nation = p < self.n
        return {"id": p, "name": self.partner_name(p),
                "kind": "nation" if nation else "hub",
                "decision": self._decision(i, p), "seen": act, "seen_week": when,
                "seen_text": seen_text(self.partner_name(p), act, when, not nation),
                "played": nation and p in self.played,
                "extradite": self._handing(i, p) == "extradite" if nation else None}

    def _plots_held(self, i: int) -> list[dict[str, Any]]:
        """The active plots nation ``i`` holds pieces of: whom each threatens, the pieces
        held, and the other nations on its path (a plot's footprint)."""
        plots, w = self.model.plots, self.model.world
        out = []
        for k in plots.active_ids.tolist():
            size = int(plots.size[k])
            foot = plots.foot[k, :size].tolist()
            if i not in foot:
                continue
            held = int(plots.evidence[k, foot.index(i)])
            if held <= 0:
                continue
            target = int(plots.target[k])
            out.append({"target": w.names[target], "threatens_you": target == i,
                        "pieces": held,
                        "path": [w.names[j] for j in foot if j != i]})
        return out

    def teacher_view(self, key: Any) -> dict[str, Any]:
        """What the teacher's page (the projector) shows: the class, every nation (who
        plays it, whether they have decided), the world to draw, the last round's ties and
        events, the outcomes so far; at the end the debrief."""
        with self.lock:
            self._teacher(key)
            m, w = self.model, self.model.world
            view = self._common()
            nations = []
            for i in range(self.n):
                students = self.students_of(i)
                nations.append({
                    "name": w.names[i], "played": i in self.played,
                    "students": len(students),
                    "names": students if self.reveal else [],
                    "ready": i in self.ready,
                    "strategy": None if i in self.played else self.others})
            view.update({
                "reveal": self.reveal, "others": self.others, "strategies": list(OTHERS),
                "students": len(self.seats), "nations": nations,
                "world": sessions.world_view(m),
                **self._round_part(self.rounds[-1] if self.rounds else None),
                "outcomes": outcome_rows(m.metrics()),
                "history": [round_summary(r) for r in self.rounds],
                "debrief": self._debrief,  # None until finished and computed
            })
            return view

    def round_view(self, key: Any, number: Any) -> dict[str, Any]:
        """Round ``number`` (1 to the rounds played) as the teacher's page draws it, for
        stepping through a class (a replay): its ties, the nations attacked and those a
        plot against was stopped, its sentences and its numbers."""
        with self.lock:
            self._teacher(key)
            played = len(self.rounds)
            if not isinstance(number, int) or isinstance(number, bool) or not (
                    1 <= number <= played):
                raise ClassError(f"the class has played rounds 1 to {played}")
            done = self.rounds[number - 1]
            return {"round": number, **self._round_part(done),
                    "summary": round_summary(done)}

    def _round_part(self, done: Round | None) -> dict[str, Any]:
        """A round's part of the teacher's view (nothing yet before the first)."""
        if done is None:
            return {"ties": [], "attacked": [], "stopped": [], "lines": []}
        return {"ties": round_ties(self, done),
                "attacked": sorted({a[0] for a in done.attacks}),
                "stopped": sorted({d[1] for d in done.disruptions}),
                "lines": [e.text for e in narrator.headline(done.events, most=6)]}

    # ------------------------------------------------------------ the end

    def debrief(self) -> dict[str, Any]:
        """The class's outcome beside the same world from the same seed, over the same
        weeks, played by every nation at each of :data:`REFERENCES` and by the class's
        inferred mix (each played nation at :func:`inferred_strategy` of its choices,
        the others at the teacher's strategy). Computed once, when first asked for."""
        with self._debrief_lock:
            if self._debrief is None:
                mix = {i: inferred_strategy([h for r in self.rounds for h in r.held.get(i, [])])
                       for i in sorted(self.played)}
                plans = {f"everyone {strategy_label(name)}": dict.fromkeys(range(self.n), name)
                         for name in REFERENCES}
                plans["your class's strategies"] = {i: mix.get(i, self.others)
                                                    for i in range(self.n)}
                runs = {"your class": self.model.metrics()}
                runs.update({label: self._reference(plan, self.seed)
                             for label, plan in plans.items()})
                other = {label: [self._reference(plan, seed)["disruption_rate"]
                                 for seed in range(1, OTHER_GAMES + 1)]
                         for label, plan in plans.items()}
                self._debrief = {
                    "weeks": self.week,
                    "columns": list(runs),
                    "rows": [[outputs.label_of(k), *(_number(r.get(k)) for r in runs.values())]
                             for k in OUTCOMES],
                    "other_games": [other_games(label, rates) for label, rates in other.items()],
                    "inferred": [{"nation": self.model.world.names[i],
                                  "strategy": strategy_label(s)} for i, s in mix.items()],
                }
            return self._debrief

    def _reference(self, strategies: dict[int, str], seed: int) -> dict[str, float]:
        """The class's world from ``seed``, each nation at ``strategies[i]`` and nobody
        deciding by hand, run for the weeks the class played."""
        ref = CooperationModel(self.scenario, rng=seed)
        for i, name in strategies.items():
            ref.set_strategy(i, name)
        ref.run(self.week)
        return ref.metrics()

    def decisions_csv(self, key: Any) -> str:
        """Every decision of the class as CSV text, one row per decision: round, week,
        student, nation, partner, decision, what the partner had last been seen doing."""
        with self.lock:
            self._teacher(key)
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["round", "week", "student", "nation", "partner", "decision",
                             "partner_last_seen"])
            for c in self.choices:
                writer.writerow([c.round, c.week, c.student, self.model.world.names[c.nation],
                                 self.partner_name(c.partner), c.decision, c.seen])
            return out.getvalue()

    def record(self, key: Any) -> dict[str, Any]:
        """The class as data to replay (:func:`replay`): world, seed, round length, the
        teacher's strategy for the others, the students and every decision with its week."""
        with self.lock:
            self._teacher(key)
            return {"format": "ctsim-class-1", "scenario": self.scenario.name,
                    "title": self.title, "seed": self.seed,
                    "round_weeks": self.round_weeks, "others": self.others,
                    "rounds": len(self.rounds),
                    "students": [[s.name, s.nation] for s in self.seats.values()],
                    "choices": [[c.round, c.week, c.student, c.nation, c.partner, c.decision,
                                 c.seen] for c in self.choices]}


# ---------------------------------------------------------------- replay


def replay(record: Any, scenario: Path, code: str, teacher_key: str) -> Classroom:
    """A finished class rebuilt from its :meth:`Classroom.record`: the same world and seed,
    the same students on the same nations, every decision made again before the week it
    was made in, every round run again. Its rounds, views and debrief are the original's.
    ClassError for a record that is not one."""
    try:
        if record.get("format") != "ctsim-class-1":
            raise ClassError("this file is not a class's record")
        room = Classroom(scenario, code, teacher_key, seed=int(record["seed"]),
                         round_weeks=int(record["round_weeks"]), others=str(record["others"]),
                         title=str(record.get("title", "")))
        students = [(clean_name(name), int(nation)) for name, nation in record["students"]]
        choices = [Choice(int(r), int(wk), str(s), int(i), int(p), str(d), str(seen))
                   for r, wk, s, i, p, d, seen in record["choices"]]
        rounds = int(record["rounds"])
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        if isinstance(exc, ClassError):
            raise
        raise ClassError("this file is not a class's record") from None
    if any(not 0 <= i < room.n for _, i in students):
        raise ClassError("this record is of another world")
    for name, nation in students:
        seat = Seat(secrets.token_urlsafe(16), name, nation)
        room.seats[seat.token] = seat
        if nation not in room.played:
            room.played.add(nation)
            room._start_playing(nation)
    room.phase = "playing"
    pending = deque(choices)
    for _ in range(rounds):
        while pending and pending[0].week <= room.week:
            c = pending.popleft()
            if c.decision not in ("share", "withhold", *HANDOVER) or c.partner not in (
                    room.partners(c.nation)):
                raise ClassError("this record is of another world")
            room._set(c.nation, c.partner, c.decision)
            room.choices.append(c)
        if room.phase != "playing":
            break
        room.next_round()
    room.phase = "finished"
    room.debrief()
    return room


# ---------------------------------------------------------------- the words


def clean_name(name: Any) -> str:
    """A first name as the class shows it: letters, digits, spaces, hyphens and
    apostrophes, at most :data:`NAME_LENGTH` characters. ClassError when nothing is left."""
    text = re.sub(r"[^\w '\-]", "", str(name or ""), flags=re.UNICODE).replace("_", " ")
    text = " ".join(text.split())[:NAME_LENGTH].strip()
    if not any(ch.isalpha() for ch in text):
        raise ClassError("type your first name to join")
    return text


def strategy_label(name: str) -> str:
    """A strategy's label (ctsim.core.strategies)."""
    return STRATEGIES[STRATEGY_NAMES.index(name)].label


def seen_text(partner: str, act: str, week: int, hub: bool) -> str:
    """What a nation last saw a partner do toward it, in words."""
    if act == "none":
        return f"{partner} has not passed you anything yet"
    if act == "shared":
        return f"{partner} passed you a piece in week {week}"
    return (f"a piece you posted to {partner} leaked in week {week}" if hub else
            f"{partner} let you down in week {week} (a leak, or held back a piece)")


def nation_facts(model: CooperationModel, i: int) -> list[str]:
    """A nation's facts in words: capacity, legal system, bloc, hubs."""
    from ctsim.core.world import LEGAL_FAMILIES

    w = model.world
    hubs = [w.inst_names[h].replace("_", " ") for h in range(len(w.inst_names))
            if model.relations.members[h, i]]
    return [f"intelligence capacity {w.capacity[i]:.2f} (of 1)",
            f"security {w.security[i]:.2f} (of 1: how well it keeps what it is given)",
            f"legal system: {LEGAL_FAMILIES[w.legal_family[i]].replace('_', ' ')}",
            f"bloc: {w.bloc_names[w.bloc[i]].replace('_', ' ')}",
            "member of " + (", ".join(hubs) if hubs else "no hub")]


def student_report(room: Classroom, i: int, done: Round) -> dict[str, Any]:
    """What round ``done`` did to nation ``i`` and because of it, in plain words."""
    names = [room.partner_name(p) for p in range(room.n + len(room.model.world.inst_names))]
    lines: list[str] = []
    aimed = [a for a in done.attacks if a[0] == i]
    stopped = [d for d in done.disruptions if d[1] == i]
    if aimed or stopped:
        lines.append(f"Plots aimed at you: {len(stopped)} stopped, {len(aimed)} struck"
                     + (f" ({sum(a[2] for a in aimed)} of them failed)" if any(
                         a[2] for a in aimed) else "") + ".")
    else:
        lines.append("No plot aimed at you ended this round.")
    got = sorted((p for (p, j) in done.shared if j == i), key=names.__getitem__)
    if got:
        lines.append("You received pieces from " + _and(names[p] for p in got) + ".")
    sent = sorted((j for (p, j) in done.shared if p == i), key=names.__getitem__)
    if sent:
        lines.append("Your pieces reached " + _and(names[j] for j in sent) + ".")
    # who stopped what: plots aimed at you that others stopped, plots you stopped for others
    for d, n in sorted(Counter(d for d, target, _ in done.disruptions
                               if target == i and d != i).items()):
        lines.append(f"{names[d]} stopped {_count(n, 'a plot', 'plots')} aimed at you.")
    for target, n in sorted(Counter(target for d, target, _ in done.disruptions
                                    if d == i and target != i).items()):
        lines.append(f"You stopped {_count(n, 'a plot', 'plots')} aimed at {names[target]}.")
    helped_by = Counter(partner for d, partner in done.helped if d == i and partner != i)
    helped = Counter(d for d, partner in done.helped if partner == i and d != i)
    for d, n in sorted(helped.items()):
        lines.append(f"{names[d]} stopped {_count(n, 'a plot', 'plots')} with a piece you "
                     "sent.")
    for partner, n in sorted(helped_by.items()):
        lines.append(f"You stopped {_count(n, 'a plot', 'plots')} with a piece from "
                     f"{names[partner]}.")
    struck = Counter(target for target, holders, _ in done.attacks
                     if target != i and i in holders)
    for target, n in sorted(struck.items()):
        lines.append(f"{_count(n, 'A plot', 'plots')} you held pieces of struck "
                     f"{names[target]}.")
    for sender, leaker in done.leaks:
        if leaker == i:
            lines.append(f"A piece {names[sender]} sent you leaked: the plotters were "
                         f"warned, and {names[sender]} saw it.")
        elif sender == i:
            lines.append(f"A piece you sent {names[leaker]} leaked: the plotters were warned.")
    for sender, hub in done.hub_leaks:
        if sender == i:
            lines.append(f"A piece you posted to {names[room.n + hub]} leaked.")
    for (b, a, chosen), n in sorted(Counter(done.refused).items()):
        times = _count(n, "once", "times")
        if b == i:
            who = "You" if chosen else "Your courts (no treaty, or laws too far apart)"
            lines.append(f"{who} refused {times} to hand over plotters {names[a]} had "
                         "caught: they walk free, and groups see your country as a safer "
                         "haven.")
        elif a == i:
            lines.append(f"{names[b]} refused {times} to hand over plotters you had "
                         "caught: they walk free.")
    for seer, partner, target in dict.fromkeys(done.withheld):  # once a pair and plot target
        where = "you" if target == i else names[target]
        if partner == i:
            lines.append(f"After the attack on {where}, an inquiry showed "
                         f"{names[seer]} that you held back a piece about it.")
        elif seer == i:
            lines.append(f"After the attack on {where}, an inquiry showed you that "
                         f"{names[partner]} held back a piece about it.")
    return {"round": done.number, "weeks": [done.first, done.last],
            "lines": list(dict.fromkeys(lines))}


def round_ties(room: Classroom, done: Round) -> list[list[Any]]:
    """The projector's ties for a round: ``[from, to, kind, count]`` with kind ``shared``
    (a nation passed pieces to another, or a hub to a member: from is ``N + h``),
    ``leak`` and ``withheld`` (an inquiry revealed it)."""
    ties = [[p, i, "shared", c] for (p, i), c in sorted(done.shared.items())]
    leaks: dict[tuple[int, int], int] = {}
    for s, leaker in done.leaks:
        leaks[(s, leaker)] = leaks.get((s, leaker), 0) + 1
    ties += [[s, leaker, "leak", c] for (s, leaker), c in sorted(leaks.items())]
    held: dict[tuple[int, int], int] = {}
    for seer, partner, _ in done.withheld:
        held[(partner, seer)] = held.get((partner, seer), 0) + 1
    ties += [[p, seer, "withheld", c] for (p, seer), c in sorted(held.items())]
    return ties


def round_summary(done: Round) -> dict[str, Any]:
    """A round in numbers, for the teacher's history."""
    return {"round": done.number, "weeks": [done.first, done.last],
            "stopped": len(done.disruptions), "struck": len(done.attacks),
            "shared": sum(done.shared.values()), "leaks": len(done.leaks) + len(done.hub_leaks),
            "withheld": len(done.withheld)}


def other_games(label: str, rates: list[float]) -> dict[str, Any]:
    """The disruption rates of one reference over :data:`OTHER_GAMES` seeds: their mean
    and the range of the middle 90% (the 5th and 95th percentiles), which one game of the
    world lands in by luck alone nine times in ten; games with no plot settled left out."""
    known = np.array([r for r in rates if math.isfinite(r)], float)
    if not len(known):
        return {"label": label, "games": 0, "mean": None, "low": None, "high": None}
    low, high = np.percentile(known, [5, 95])
    return {"label": label, "games": len(known), "mean": _number(known.mean()),
            "low": _number(low), "high": _number(high)}


def outcome_rows(values: dict[str, float]) -> list[list[Any]]:
    """``[label, value]`` for each of :data:`OUTCOMES`."""
    return [[outputs.label_of(k), _number(values.get(k))] for k in OUTCOMES]


def inferred_strategy(held: list[tuple[int, str, str]]) -> str:
    """The strategy of :data:`INFERABLE` whose rule would have made most of a nation's
    decisions (MODEL.md C3). ``held`` lists, round by round, each partner's decision in
    force and what the nation had last seen the partner do when the round began
    (:attr:`Round.held`): ``always`` shares, ``never`` withholds, ``reciprocal``
    withholds exactly from partners last seen defecting, ``grudging`` from a partner
    once it has been seen defecting, for good. Ties go to the strategy listed first; a
    nation that played no round is ``always`` (it shares until it decides)."""
    best, score = "always", -1
    for name in INFERABLE:
        grudge: set[int] = set()
        agree = 0
        for partner, decision, seen in held:
            if seen == "defected":
                grudge.add(partner)
            predicted = {"always": "share", "never": "withhold",
                         "reciprocal": "withhold" if seen == "defected" else "share",
                         "grudging": "withhold" if partner in grudge else "share"}[name]
            agree += predicted == decision
        if agree > score:
            best, score = name, agree
    return best


def _count(n: int, one: str, many: str) -> str:
    """``one`` for a single thing, else ``n`` and ``many`` ("a plot", "3 plots")."""
    return one if n == 1 else f"{n} {many}"


def _and(items: Any) -> str:
    words = list(dict.fromkeys(items))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _number(value: Any) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), 3)


# ---------------------------------------------------------------- the server's classes


class Registry:
    """Every class one server holds, by code, and the wrong codes each client has sent.

    Args:
        worlds: the worlds a class may be played on, by name (the lessons' and the app's
            scenario): a visitor can start no other.
        limit: classes held at once.
    """

    def __init__(self, worlds: dict[str, Path], limit: int = MAX_CLASSES,
                 titles: dict[str, str] | None = None):
        self.worlds = dict(worlds)
        self.titles = dict(titles or {})
        self.limit = limit
        self.classes: dict[str, Classroom] = {}
        self.lock = threading.Lock()
        self._misses: dict[str, deque[float]] = {}

    def open(self, world: Any, *, round_weeks: Any = 4, others: Any = "reciprocal",
             seed: Any = 1) -> Classroom:
        """Start a class on ``world`` (a name of :attr:`worlds`); its code and teacher key
        are new. ClassError for an unknown world or settings, or a server full of live
        classes."""
        if not isinstance(world, str) or world not in self.worlds:
            raise ClassError("choose one of the worlds offered")
        try:
            weeks, seed_value = int(round_weeks), int(seed)
        except (TypeError, ValueError, OverflowError):
            raise ClassError("a round's weeks and the seed are whole numbers") from None
        low, high = sessions.SEEDS
        seed_value = min(max(seed_value, low), high)
        with self.lock:
            self._make_room()
            code = self._new_code()
            room = Classroom(self.worlds[world], code, secrets.token_urlsafe(16),
                             seed=seed_value, round_weeks=weeks, others=str(others),
                             title=self.title(world))
            self.classes[code] = room
            return room

    def title(self, world: str) -> str:
        """What the pages call ``world``: its title (a lesson's), else its name in words."""
        return self.titles.get(world) or world.replace("_", " ")

    def adopt(self, make: Any) -> Classroom:
        """Hold the class ``make(code, teacher_key)`` builds (a replay) under a new code."""
        with self.lock:
            self._make_room()
            code = self._new_code()
            room = make(code, secrets.token_urlsafe(16))
            self.classes[code] = room
            return room

    def find(self, code: Any, client: str = "", credential: Any = None) -> Classroom:
        """The class of ``code`` (any case, spaces ignored). ClassError for a code no class
        has, and for a client that has sent :data:`GUESSES` wrong codes in the last
        :data:`GUESS_WINDOW` seconds: it must wait, even with the right code, unless it
        also brings a ``credential`` of that class (a seat's token or the teacher's key).
        So a guesser learns nothing more once throttled, while students already seated
        behind the same address (a school's one public address) keep playing."""
        now = time.monotonic()
        key = "".join(str(code or "").split()).upper()
        with self.lock:
            misses = self._misses.setdefault(client, deque())
            while misses and now - misses[0] > GUESS_WINDOW:
                misses.popleft()
            room = self.classes.get(key)
            if len(misses) >= GUESSES and not (room is not None and room.knows(credential)):
                raise ClassError("too many wrong codes from this device: wait ten minutes", 429)
            if room is None:
                misses.append(now)
                if len(self._misses) > 10_000:  # forget the quiet clients
                    self._misses = {c: q for c, q in self._misses.items() if q}
                raise ClassError("no class has that code: check it on the projector", 404)
            if not misses:
                self._misses.pop(client, None)
            return room

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.classes:
                return code

    def _make_room(self) -> None:
        """Drop finished or idle classes, oldest first, until one more fits."""
        if len(self.classes) < self.limit:
            return
        now = time.monotonic()
        spare = sorted((r.touched, code) for code, r in self.classes.items()
                       if r.phase == "finished" or now - r.touched > IDLE)
        for _, code in spare[: len(self.classes) - self.limit + 1]:
            del self.classes[code]
        if len(self.classes) >= self.limit:
            raise ClassError(f"this server already runs {self.limit} classes: "
                             "finish one first", 409)


def dumps(data: Any) -> str:
    """JSON text of a view (compact, no NaN)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False)
