"""A class playing one world together (ctsim.teaching.classroom): seats, decisions, rounds,
the teacher's controls and views, the debrief, replays, and the registry of classes.

The class world (scenarios/lessons/class_alliance.yaml) runs a round in milliseconds; the
one finished class the debrief tests share is played once per module (its debrief, about
a second, is computed once)."""

from __future__ import annotations

import csv
import io
import json
import math
import time

import pytest

from ctsim import resources
from ctsim.core.model import CooperationModel
from ctsim.core.strategies import DECISIONS
from ctsim.teaching import classroom
from ctsim.teaching.classroom import (
    GUESSES,
    OUTCOMES,
    ClassError,
    Classroom,
    Registry,
    inferred_strategy,
    replay,
)

WORLD = resources.shipped("scenarios") / "lessons" / "class_alliance.yaml"
KEY = "teacher-key"


def new_class(**settings) -> Classroom:
    return Classroom(WORLD, "CODE23", KEY, **settings)


def same_metrics(a: dict[str, float], b: dict[str, float]) -> bool:
    """Two runs' metrics equal, NaN equal to NaN (a rate with no plot settled)."""
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def stranger(room: Classroom, i: int) -> int:
    """A nation that is not one of nation ``i``'s partners (no channel either way)."""
    partners = room.partners(i)
    return next(j for j in range(room.n) if j != i and j not in partners)


@pytest.fixture(scope="module")
def finished():
    """A class of three, rounds of 13 weeks, played to its end through the teacher's
    controls: Ana withholds from her first partner in round 1 and shares again in round 3,
    Ben withholds from every partner from round 2 on. Waits for the debrief."""
    room = new_class(round_weeks=13)
    ana, ben, _ = (room.join(n) for n in ("Ana", "Ben", "Cleo"))
    room.control(KEY, "start")
    first = room.partners(ana.nation)[0]
    room.decide(ana.token, first, "withhold")
    room.control(KEY, "next")
    for p in room.partners(ben.nation):
        room.decide(ben.token, p, "withhold")
    room.control(KEY, "next")
    room.decide(ana.token, first, "share")
    while room.phase == "playing":
        room.control(KEY, "next")
    deadline = time.monotonic() + 60
    while room.teacher_view(KEY)["debrief"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return room, ana, ben


# ---------------------------------------------------------------- joining


def test_each_student_gets_a_nation_of_their_own_before_any_is_shared():
    room = new_class()
    seats = [room.join(f"Kid {k}") for k in range(room.n)]
    assert sorted(s.nation for s in seats) == list(range(room.n))
    thirteenth = room.join("Zoe")
    assert sum(s.nation == thirteenth.nation for s in seats) == 1
    assert room.students_of(thirteenth.nation) == [
        next(s.name for s in seats if s.nation == thirteenth.nation), "Zoe"]


def test_the_same_name_twice_becomes_name_2_and_a_name_needs_a_letter():
    room = new_class()
    assert [room.join(n).name for n in ("Alex", "Alex", " Alex ")] == ["Alex", "Alex 2",
                                                                       "Alex 3"]
    for bad in ("", "   ", "1234", "!!", None):
        with pytest.raises(ClassError, match="first name"):
            room.join(bad)
    assert len(room.seats) == 3


def test_rejoining_with_the_seat_s_token_gives_back_the_same_nation():
    room = new_class()
    seat = room.join("Ana")
    others = [room.join(n) for n in ("Ben", "Cleo")]
    again = room.join("Someone else", token=seat.token)
    assert (again.token, again.name, again.nation) == (seat.token, "Ana", seat.nation)
    assert len(room.seats) == 3
    assert seat.nation not in {s.nation for s in others}


# ---------------------------------------------------------------- decisions


def test_a_decision_sets_the_run_s_decision_and_is_one_csv_row():
    room = new_class()
    seat = room.join("Ana")
    room.control(KEY, "start")
    i = seat.nation
    partner = room.partners(i)[0]
    assert DECISIONS[room.model.relations.decision[i, partner]] == "share"  # from joining
    row = room.decide(seat.token, partner, "withhold")
    assert row["decision"] == "withhold"
    assert DECISIONS[room.model.relations.decision[i, partner]] == "withhold"
    room.decide(seat.token, partner, "withhold")  # no change, no new row
    rows = list(csv.reader(io.StringIO(room.decisions_csv(KEY))))
    assert rows[0][:6] == ["round", "week", "student", "nation", "partner", "decision"]
    assert rows[1:] == [["1", "0", "Ana", room.model.world.names[i],
                         room.partner_name(partner), "withhold", "none"]]


def test_a_partner_the_nation_does_not_have_is_refused():
    room = new_class()
    seat = room.join("Ana")
    room.control(KEY, "start")
    i = seat.nation
    for partner in (stranger(room, i), i, room.n + 5, "1", None):
        with pytest.raises(ClassError, match="not one of your nation's partners"):
            room.decide(seat.token, partner, "withhold")
    with pytest.raises(ClassError, match="share or withhold"):
        room.decide(seat.token, room.partners(i)[0], "strategy")
    assert room.choices == []
    assert (room.model.relations.decision[i] != DECISIONS.index("withhold")).all()


def test_decisions_are_refused_in_the_lobby_when_paused_and_when_finished():
    room = new_class()
    seat = room.join("Ana")
    partner = room.partners(seat.nation)[0]
    with pytest.raises(ClassError, match="while the class is playing"):
        room.decide(seat.token, partner, "withhold")
    room.control(KEY, "start")
    room.control(KEY, "pause")
    with pytest.raises(ClassError, match="paused"):
        room.decide(seat.token, partner, "withhold")
    room.control(KEY, "resume")
    room.decide(seat.token, partner, "withhold")
    room.phase = "finished"  # as finish() leaves it, without its debrief
    with pytest.raises(ClassError, match="while the class is playing"):
        room.decide(seat.token, partner, "share")
    assert len(room.choices) == 1


def test_next_runs_a_round_s_weeks_and_the_last_round_finishes_the_class(finished):
    room, _, _ = finished
    assert [(r.first, r.last) for r in room.rounds] == [(1, 13), (14, 26), (27, 39),
                                                        (40, 40)]
    assert room.week == room.horizon == 40 and room.total_rounds == 4
    assert room.phase == "finished"
    view = room.teacher_view(KEY)
    assert view["debrief"] is not None and view["debrief"]["weeks"] == 40
    with pytest.raises(ClassError, match="finished"):
        room.control(KEY, "next")


def test_next_advances_the_week_by_the_round_length():
    room = new_class(round_weeks=3)
    room.join("Ana")
    room.control(KEY, "start")
    weeks = []
    for _ in range(3):
        room.control(KEY, "next")
        weeks.append(room.week)
    assert weeks == [3, 6, 9] and room.phase == "playing"


# ---------------------------------------------------------------- the teacher


def test_the_teacher_s_key_is_needed_to_steer_and_to_read_the_class():
    room = new_class()
    room.join("Ana")
    for wrong in ("", "teacher-kez", None, 7):
        with pytest.raises(ClassError, match="only the teacher"):
            room.control(wrong, "start")
        for read in (room.decisions_csv, room.record, room.teacher_view):
            with pytest.raises(ClassError, match="only the teacher"):
                read(wrong)
    assert room.phase == "lobby"
    room.control(KEY, "start")
    assert room.phase == "playing"


def test_names_appear_on_the_projector_only_when_revealed():
    room = new_class()
    seat = room.join("Ana")
    nation = room.teacher_view(KEY)["nations"][seat.nation]
    assert nation["names"] == [] and nation["students"] == 1
    room.control(KEY, "reveal", True)
    assert room.teacher_view(KEY)["nations"][seat.nation]["names"] == ["Ana"]
    room.control(KEY, "reveal", False)
    assert room.teacher_view(KEY)["nations"][seat.nation]["names"] == []


# ---------------------------------------------------------------- the debrief


@pytest.mark.parametrize(("held", "strategy"), [
    ([(1, "withhold", "none"), (2, "withhold", "shared"), (1, "withhold", "shared")],
     "never"),
    ([(1, "share", "defected"), (2, "share", "none"), (1, "share", "defected")], "always"),
    # withholds exactly after a defection seen, shares again after a share
    ([(1, "share", "none"), (1, "withhold", "defected"), (1, "share", "shared"),
      (2, "withhold", "defected")], "reciprocal"),
    # after one defection, withholds for good though the partner shares again
    ([(1, "share", "none"), (1, "withhold", "defected"), (1, "withhold", "shared"),
      (1, "withhold", "shared")], "grudging"),
    ([], "always"),
])
def test_the_inferred_strategy_is_the_one_whose_rule_made_the_decisions(held, strategy):
    assert inferred_strategy(held) == strategy


def test_the_debrief_s_everyone_always_is_the_world_run_at_always(finished):
    room, _, _ = finished
    debrief = room.debrief()
    ref = CooperationModel(WORLD, rng=room.seed)
    for i in range(room.n):
        ref.set_strategy(i, "always")
    ref.run(room.week)
    metrics = ref.metrics()
    column = 1 + debrief["columns"].index("everyone always shares")  # after the label
    assert [row[column] for row in debrief["rows"]] == [
        classroom._number(metrics[k]) for k in OUTCOMES]
    assert debrief["columns"][0] == "your class"
    assert [row[1] for row in debrief["rows"]] == [
        classroom._number(room.model.metrics()[k]) for k in OUTCOMES]


def test_the_debrief_names_each_played_nation_s_inferred_strategy(finished):
    room, ana, ben = finished
    inferred = {x["nation"]: x["strategy"] for x in room.debrief()["inferred"]}
    names = room.model.world.names
    assert len(inferred) == 3
    assert inferred[names[ben.nation]] == "never shares"  # withheld from round 2 on
    assert inferred[names[ana.nation]] == "always shares"  # one partner, one round


def test_a_record_replays_to_the_same_run_and_debrief(finished):
    room, _, _ = finished
    record = json.loads(json.dumps(room.record(KEY)))
    again = replay(record, WORLD, "OTHER3", "k2")
    assert again.phase == "finished" and len(again.rounds) == len(room.rounds)
    assert again.choices == room.choices
    assert same_metrics(again.model.metrics(), room.model.metrics())
    assert again.debrief() == room.debrief()
    with pytest.raises(ClassError, match="not a class's record"):
        replay({"format": "something else"}, WORLD, "X", "k")


# ---------------------------------------------------------------- the registry


def test_wrong_codes_are_throttled_and_a_seat_token_works_in_its_class_only():
    reg = Registry({"class_alliance": WORLD})
    one, two = reg.open("class_alliance"), reg.open("class_alliance")
    assert one.code != two.code and one.teacher_key != two.teacher_key
    assert reg.find(f" {one.code.lower()} ", "a") is one
    for _ in range(GUESSES):
        with pytest.raises(ClassError, match="no class has that code"):
            reg.find("AAAAAA", "a")
    with pytest.raises(ClassError, match="too many wrong codes"):
        reg.find(one.code, "a")
    assert reg.find(one.code, "b") is one  # another device is not held back
    seat = one.join("Ana")
    # a student seated behind the throttled address (one school, one address) plays on,
    # and so does the teacher; another class's token does not open the way
    assert reg.find(one.code, "a", seat.token) is one
    assert reg.find(one.code, "a", one.teacher_key) is one
    with pytest.raises(ClassError, match="too many wrong codes"):
        reg.find(one.code, "a", two.teacher_key)
    with pytest.raises(ClassError, match="too many wrong codes"):
        reg.find("AAAAAA", "a", seat.token)
    with pytest.raises(ClassError, match="has not joined"):
        two.student_view(seat.token)
    with pytest.raises(ClassError, match="only the teacher"):
        two.control(one.teacher_key, "start")
    assert two.join("Ana", token=seat.token).token != seat.token  # a new seat there
    assert one.seats[seat.token].name == "Ana" and len(one.seats) == 1


def test_a_class_is_opened_only_on_a_world_offered():
    reg = Registry({"class_alliance": WORLD})
    for world in ("baseline", "../baseline", str(WORLD), None):
        with pytest.raises(ClassError, match="worlds offered"):
            reg.open(world)
    assert reg.classes == {}


def test_a_full_registry_drops_a_finished_class_to_make_room():
    reg = Registry({"class_alliance": WORLD}, limit=2)
    old, live = reg.open("class_alliance"), reg.open("class_alliance")
    with pytest.raises(ClassError, match="already runs 2 classes"):
        reg.open("class_alliance")
    old.phase = "finished"  # as finish() leaves it, without its debrief
    new = reg.open("class_alliance")
    assert set(reg.classes) == {live.code, new.code}


def test_a_refusal_carries_the_status_a_server_answers_it_with():
    """403 for a key or token not the class's, 409 out of turn, 404 and 429 for codes,
    400 for a request that makes no sense."""
    room = new_class()
    seat = room.join("Ana")
    with pytest.raises(ClassError) as wrong_key:
        room.control("not-the-key", "start")
    with pytest.raises(ClassError) as lobby:
        room.decide(seat.token, room.partners(seat.nation)[0], "withhold")
    with pytest.raises(ClassError) as nonsense:
        room.control(KEY, "fly")
    registry = Registry({"class_alliance": WORLD})
    with pytest.raises(ClassError) as unknown:
        registry.find("AAAAAA", "client")
    assert (wrong_key.value.status, lobby.value.status, nonsense.value.status,
            unknown.value.status) == (403, 409, 400, 404)


def test_opening_a_class_refuses_what_is_not_a_world_or_a_number():
    """A world given as a list, a round length too large to be a number: the one
    sentence, not an exception of Python's."""
    registry = Registry({"class_alliance": WORLD}, titles={"class_alliance": "The class"})
    with pytest.raises(ClassError, match="worlds offered"):
        registry.open(["class_alliance"])
    with pytest.raises(ClassError, match="whole numbers"):
        registry.open("class_alliance", round_weeks=1e999)
    assert registry.open("class_alliance").title == "The class"


def test_a_round_s_view_is_the_teacher_s_view_of_that_round(finished):
    """Stepping through a finished class: round k's ties and sentences; the last round's
    are what the teacher's view shows; a round not played is refused."""
    room, _, _ = finished
    last = len(room.rounds)
    view = room.teacher_view(KEY)
    shown = room.round_view(KEY, last)
    assert {k: shown[k] for k in ("ties", "attacked", "stopped", "lines")} == {
        k: view[k] for k in ("ties", "attacked", "stopped", "lines")}
    first = room.round_view(KEY, 1)
    assert first["summary"]["weeks"] == [1, room.round_weeks]
    assert first["summary"]["shared"] == sum(c for *_, kind, c in first["ties"]
                                            if kind == "shared")
    with pytest.raises(ClassError, match="rounds 1 to"):
        room.round_view(KEY, last + 1)
    with pytest.raises(ClassError):
        room.round_view("not-the-key", 1)


def test_a_student_may_refuse_to_hand_over_plotters_to_a_nation_partner_not_a_hub():
    """The third decision of a student's page: refusing a nation partner's requests for
    plotters sets the run's ``relations.extradite`` for that pair (and is a CSV row);
    handing over again sets it back; a hub asks for nobody."""
    room = new_class()
    seat = room.join("Ana")
    room.control(KEY, "start")
    i = seat.nation
    nation = next(p for p in room.partners(i) if p < room.n)
    row = room.decide(seat.token, nation, "refuse")
    assert row["extradite"] is False and not room.model.relations.extradite[i, nation]
    assert room.model.relations.extradite[nation, i]  # the partner's own stays
    rows = list(csv.DictReader(io.StringIO(room.decisions_csv(KEY))))
    assert [r["decision"] for r in rows] == ["refuse"]
    assert room.decide(seat.token, nation, "extradite")["extradite"] is True
    hubs = [p for p in room.partners(i) if p >= room.n]
    if hubs:
        with pytest.raises(ClassError, match="extradition is between nations"):
            room.decide(seat.token, hubs[0], "refuse")


def test_a_record_with_refusals_replays_to_the_same_run():
    """Refusals are decisions like the others: a class whose students refuse every
    partner's requests replays to the same metrics from its record."""
    room = new_class(round_weeks=10)
    seats = [room.join(n) for n in ("Ana", "Ben", "Cleo", "Dev")]
    room.control(KEY, "start")
    for seat in seats:
        for p in room.partners(seat.nation):
            if p < room.n:
                room.decide(seat.token, p, "refuse")
    while room.phase == "playing":
        room.control(KEY, "next")
    again = replay(json.loads(json.dumps(room.record(KEY))), WORLD, "CODE34", KEY)
    assert same_metrics(again.model.metrics(), room.model.metrics())
    assert again.model.metrics()["decisions"] == room.model.metrics()["decisions"] > 0
