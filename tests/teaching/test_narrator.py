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


# ---------------------------------------------------------------- nations that decide (C2-C6)


def test_an_inquiry_tells_who_held_back_about_which_plot_and_how_the_finder_answers():
    """MODEL.md C2: the event log's ``withholding`` (a found out that b withheld about plot
    c) in words, with the finder's answer by its strategy (tit for tat holds back)."""
    session = Session(Settings.for_lesson("secrets_two_partners", seed=2))
    session.set_strategy(0, 0, "reciprocal")
    session.set_strategy(0, 1, "never")
    told = _events_until(session, "withholding")
    assert told
    m = session.sides[0].model
    e = next(x for x in m.week_log if x.kind == "withholding")
    finder, withheld = m.world.names[e.a], m.world.names[e.b]
    target = m.plots.target[e.c]
    struck = "it" if target == e.a else m.world.names[target]
    assert told[0].text.startswith(
        f"After the attack, an inquiry: {finder} found out that {withheld} held back what "
        f"it knew about the plot that struck {struck}.")
    assert (finder, withheld) == ("Westria", "Borduria")  # a never-sharer hides nothing
    assert told[0].text.endswith("Playing tit for tat, it now holds back from Borduria until "
                                 "Borduria shares with it again.")


def test_a_trusting_nation_is_told_losing_trust_and_a_hand_played_one_as_played():
    session = Session(Settings.for_lesson("secrets_two_partners", seed=2))
    session.set_strategy(0, 0, "trusting")
    session.set_strategy(0, 1, "never")
    found = []
    while not found and session.step():
        found = [e.text for e in session.sides[0].events if e.kind == "withholding"
                 and e.text.startswith("After the attack, an inquiry: Westria found out")]
    assert found and re.search(
        r"Westria's trust in Borduria falls from 0\.\d\d to 0\.\d\d\.$", found[0])
    session = Session(Settings.for_lesson("secrets_two_partners", seed=2))
    session.set_strategy(0, 1, "never")
    session.decide(0, 0, 1, "share")
    told = _events_until(session, "withholding")
    assert told[0].text.endswith("Westria is played by hand and shares for now.")


def test_a_leak_is_a_defection_its_sender_answers_by_its_strategy():
    session = Session(Settings.for_lesson("secrets_noise", seed=1))  # both tit for tat
    leaks = _events_until(session, "leak")
    assert leaks and leaks[0].text.endswith(
        "A leak is a defection Westria sees; playing tit for tat, it now holds back from "
        "Borduria until Borduria shares with it again.")
    session = Session(Settings.for_lesson("secrets_noise", seed=1))
    session.set_strategy(0, 0, "grudging")
    assert _events_until(session, "leak")[0].text.endswith(
        "playing grim trigger, it will never share with Borduria again.")


def test_a_nation_copying_a_partner_s_strategy_is_told_with_both_strategies():
    session = Session(Settings.for_lesson("secrets_spread", seed=1))
    copied = _events_until(session, "imitation", weeks=52)
    assert session.week == 52 and copied
    m = session.sides[0].model
    e = next(x for x in m.week_log if x.kind == "imitation")
    from ctsim.core.strategies import STRATEGIES
    assert copied[0].text == (
        f"{m.world.names[e.a]} compared its year with a partner's and copied the partner's "
        f"strategy: it now plays {STRATEGIES[e.c].label}, not {STRATEGIES[e.b].label}.")
    assert m.relations.strategy[e.a] == e.c


def test_a_group_that_stays_at_its_base_is_not_told_as_a_move():
    session = Session(Settings.for_lesson("secrets_noise", seed=1))
    for _ in range(156):
        session.step()
        for e in session.sides[0].events:
            if e.kind == "move":
                old, new = re.search(r"from (\w+) to (\w+),", e.text).groups()
                assert old != new
