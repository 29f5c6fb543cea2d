"""ctsim.teaching.narrator: the week's events in plain words, as the teaching page's
sessions hear them: who leaked, who was attacked, who refused an extradition, which group
moved; the few a class should hear first; where a run sits between its references."""

from __future__ import annotations

import re

import pytest

from ctsim.teaching import narrator
from ctsim.teaching.sessions import FREE, Session, Settings


def _events_until(session: Session, kind: str, weeks: int = 260) -> list[narrator.Event]:
    for _ in range(weeks):
        session.step()
        found = [e for e in session.sides[0].events if e.kind == kind]
        if found:
            return found
    return []


def test_the_narrator_names_a_leak_who_leaked_and_the_trust_lost():
    session = Session(Settings.for_lesson(FREE, seed=3).with_value("leak_rate", 0.5))
    leaks = _events_until(session, "leak")
    assert leaks
    m = session.sides[0].model
    sender, leaker = m.week_leaks[0]
    text = leaks[0].text
    names = m.world.names
    assert text.startswith(f"{names[leaker]} leaked a fragment it got from {names[sender]}")
    now = float(re.search(r"to (\d\.\d\d)\.$", text).group(1))
    assert now == pytest.approx(m.trust[sender, leaker], abs=0.005)
    assert session.log[0]["kind"] == "leak"  # the most important event comes first


def test_the_narrator_names_attacks_refusals_and_moves():
    session = Session(Settings.for_lesson("safe_havens", seed=2))
    assert "An attack" in _events_until(session, "attack")[0].text
    moves = _events_until(session, "move")
    assert moves and "moved its base from" in moves[0].text
    refusal = _events_until(Session(Settings.for_lesson("legal_friction", seed=2)), "refusal")
    assert refusal and "refused to extradite" in refusal[0].text


def test_headline_keeps_one_of_each_kind_first():
    e = [narrator.Event(k, 1, k) for k in ("leak", "leak", "attack", "joint", "move")]
    assert [x.kind for x in narrator.headline(e)] == ["leak", "attack", "joint"]
    assert [x.kind for x in narrator.headline(e[:2])] == ["leak", "leak"]


def test_position_says_how_much_of_the_gap_is_recovered():
    assert "recover 50%" in narrator.position(0.4, 0.3, 0.5)
    assert "almost nothing" in narrator.position(0.3, 0.3, 0.5)
    assert "too close" in narrator.position(0.3, 0.3, 0.31)
    assert "not known" in narrator.position(float("nan"), 0.3, 0.5)


def test_a_weeks_events_come_most_important_first_and_name_nations_of_the_world():
    session = Session(Settings.for_lesson(FREE, seed=5).with_value("leak_rate", 0.4))
    seen = 0
    for _ in range(120):
        session.step()
        events = session.sides[0].events
        kinds = [narrator.KINDS.index(e.kind) for e in events]
        assert kinds == sorted(kinds)
        n = len(session.sides[0].model.world.names)
        for e in events:
            assert e.week == session.week and e.text.endswith(".")
            assert all(0 <= i < n for i in e.nations)
        seen += len(events)
    assert seen > 10  # a leaky free world has a story to tell
