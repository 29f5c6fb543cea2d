"""The teaching page's strategies (MODEL.md C3, C5, C6): a picker per nation in small
worlds, the shares of the strategies in large ones, playing a nation by hand through the
decision API, the chart of nations by strategy, and all of it kept through replays and
links (the narrator's sentences are checked in tests/teaching/test_narrator.py)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from ctsim.core import metrics
from ctsim.core.model import CooperationModel
from ctsim.core.strategies import ALWAYS, FOLLOW, FORGIVING, NAMES, NEVER, WITHHOLD_DECIDED
from ctsim.teaching import sessions
from ctsim.teaching.page import handle
from ctsim.teaching.sessions import FREE, Move, Session, Settings, TeachingModel
from tests.teaching import page_driver

TWO = "secrets_two_partners"  # Westria (0) and Borduria (1), both always sharing
SPREAD = "secrets_spread"  # 24 nations, imitation on


def _play(session: Session, weeks: int) -> None:
    for _ in range(weeks):
        session.step()


def _sent(model, strategy: int) -> int:
    """Fragments sent so far by the nations holding ``strategy``."""
    return int(model.tally.by_strategy[strategy, 0])


# ---------------------------------------------------------------- strategies per nation


def test_a_strategy_picked_at_week_0_gives_the_run_the_scenario_key_gives():
    """The picker (Simulation.set_strategy before the first week) and the lesson's claim
    (world.nations.1.strategy) are the same run, so what the class sees is what the
    lesson's claims measured."""
    session = Session(Settings.for_lesson(TWO, seed=3))
    assert session.set_strategy(0, 1, "never") and session.set_strategy(0, 0, "reciprocal")
    _play(session, session.horizon)
    settings = Settings.for_lesson(TWO, seed=3)
    keyed = CooperationModel(settings.path(), rng=3, **settings.overrides(), **{
        "world.nations.0.strategy": "reciprocal", "world.nations.1.strategy": "never"})
    keyed.run()
    picked = session.sides[0].model.metrics()
    assert picked == pytest.approx(keyed.metrics(), nan_ok=True)
    untouched = TeachingModel(settings)
    untouched.run()
    assert picked["sent_never"] == 0 < untouched.metrics()["sent_always"]


def test_a_strategy_changed_mid_run_holds_from_the_next_week_and_survives_a_replay():
    session = Session(Settings.for_lesson(TWO, seed=2))
    _play(session, 20)
    model = session.sides[0].model
    before = _sent(model, NEVER)
    assert session.set_strategy(0, 1, "never")
    assert model.relations.strategy[1] == NEVER
    _play(session, 20)
    assert _sent(session.sides[0].model, NEVER) == before == 0
    trust = session.sides[0].model.trust.copy()
    session.set_value(0, "tension", 0.5)  # a control replays the run to week 40
    assert session.week == 40
    assert session.sides[0].moves == [Move(20, 1, -1, "never")]
    np.testing.assert_array_equal(session.sides[0].model.trust, trust)
    session.reset()  # back to week 0: a change made at week 20 has not happened yet
    assert session.sides[0].moves == []
    assert session.sides[0].model.relations.strategy[1] == ALWAYS  # the lesson's own


def test_unknown_strategies_nations_and_sides_change_nothing():
    session = Session(Settings.for_lesson(TWO))
    assert not session.set_strategy(0, 1, "sometimes")
    assert not session.set_strategy(0, 5, "never")
    assert not session.set_strategy(1, 1, "never")  # no side B
    assert not session.decide(0, 0, 0, "share")  # a nation deciding for itself
    assert not session.decide(0, 0, 1, "maybe")
    assert session.sides[0].moves == []


# ---------------------------------------------------------------- playing by hand


def test_a_decision_by_hand_stops_that_nation_s_sending_from_the_next_week_and_is_recorded():
    """Westria (always) withholds from Borduria (tit for tat) after week 5: its fragments
    stop, Borduria's tit for tat answers once an inquiry reveals the withholding, and the
    decision is kept with its week (MODEL.md C6)."""
    session = Session(Settings.for_lesson(TWO, seed=4))
    session.set_strategy(0, 1, "reciprocal")
    _play(session, 5)
    assert session.take(0, 0)
    assert session.decide(0, 0, 1, "withhold")
    sent = _sent(session.sides[0].model, ALWAYS)
    _play(session, 40)
    model = session.sides[0].model
    assert _sent(model, ALWAYS) == sent
    assert model.counts.total["withholdings_revealed"] > 0
    assert [tuple(d) for d in model.decisions] == [(6, 0, 1, "withhold")]
    frame = session.week_frame()["sides"][0]["strategy"]
    assert frame["decided"] == [FOLLOW, WITHHOLD_DECIDED]
    assert frame["seen"][1][0] == 2  # Borduria defected toward Westria, as far as it saw
    assert session.ui()["strategies"]["sides"][0]["moves"][0] == (
        "from week 6: Westria withholds from Borduria")


def test_handing_over_gives_the_nation_a_strategy_and_ends_its_decisions():
    session = Session(Settings.for_lesson(TWO, seed=4))
    _play(session, 3)
    session.take(0, 1)
    session.decide(0, 1, 0, "withhold")
    assert session.hand_over(0, "forgiving")
    model = session.sides[0].model
    assert model.relations.decision[1, 0] == FOLLOW
    assert model.relations.strategy[1] == FORGIVING
    assert session.sides[0].player == -1
    assert not session.hand_over(0, "forgiving")  # nobody is played by hand now
    assert [m.value for m in session.sides[0].moves] == ["withhold", "strategy", "forgiving"]


def test_only_small_worlds_are_played_by_hand():
    large = Session(Settings.for_lesson("trust_and_leaks"))
    assert large.sides[0].model.world.n > sessions.SMALL_WORLD
    assert not large.take(0, 0)
    assert large.ui()["strategies"]["small"] is False
    assert Session(Settings.for_lesson(TWO)).ui()["strategies"]["small"] is True


# ---------------------------------------------------------------- shares in large worlds


def test_shares_set_the_strategies_a_large_world_draws_and_replay_it():
    session = Session(Settings.for_lesson("trust_and_leaks", seed=5))
    _play(session, 10)
    session.set_shares(0, {"reciprocal": 0.5, "grudging": 0.5})
    assert session.week == 10
    held = np.bincount(session.sides[0].model.relations.strategy, minlength=len(NAMES))
    assert held[NAMES.index("reciprocal")] == held[NAMES.index("grudging")] == 12
    assert "shares=reciprocal%3A0.5%2Cgrudging%3A0.5" in session.query()
    again = Session.from_query(session.query() + "&week=10")
    np.testing.assert_array_equal(again.sides[0].model.relations.strategy,
                                  session.sides[0].model.relations.strategy)
    for bad in ({"sometimes": 1.0}, {"always": 0.0}, {"always": "x"}):
        session.set_shares(0, bad)
        assert session.sides[0].settings.strategies["reciprocal"] == 0.5


def test_a_share_is_clamped_to_its_range_and_rounded_to_its_step():
    shares = sessions.bounded_shares({"always": 1.7, "never": -1, "forgiving": 0.33})
    assert shares["always"] == 1.0 and shares["never"] == 0.0
    assert shares["forgiving"] == pytest.approx(0.35)
    assert set(shares) == set(NAMES)  # every strategy named: none is merged from the default


# ---------------------------------------------------------------- links


def test_a_link_carries_the_moves_and_the_nation_played_by_hand():
    session = Session(Settings.for_lesson(TWO, seed=6))
    session.set_strategy(0, 1, "reciprocal")
    _play(session, 8)
    session.take(0, 0)
    session.decide(0, 0, 1, "withhold")
    _play(session, 12)
    query = session.query()
    assert parse_qs(query)["moves"] == ["0.1.reciprocal,8.0.1.withhold"]
    again = Session.from_query(query + f"&week={session.week}")
    assert again.notes == [] and again.sides[0].player == 0
    assert again.sides[0].moves == session.sides[0].moves
    np.testing.assert_array_equal(again.sides[0].model.trust, session.sides[0].model.trust)
    assert again.sides[0].model.decisions == session.sides[0].model.decisions


def test_a_bad_move_in_a_link_is_named_and_left_out():
    session = Session.from_query(f"lesson={TWO}&moves=0.1.never,abc,0.7.never,"
                                 "3.0.1.maybe&play=40&week=5")
    assert session.sides[0].moves == [Move(0, 1, -1, "never")]
    text = " ".join(session.notes)
    assert "'abc'" in text and "'3.0.1.maybe'" in text and "0.7.never" in text
    assert "play 40" in text and session.sides[0].player == -1


def test_split_mode_copies_the_moves_to_b_and_b_changes_alone():
    session = Session(Settings.for_lesson(TWO, seed=2))
    session.set_strategy(0, 1, "never")
    session.set_split(True)
    assert session.sides[1].moves == session.sides[0].moves
    session.set_strategy(1, 0, "reciprocal")
    _play(session, 60)
    a, b = (side.model for side in session.sides)
    assert a.relations.strategy.tolist() == [ALWAYS, NEVER]
    assert b.relations.strategy.tolist() == [NAMES.index("reciprocal"), NEVER]
    assert "b.moves=" in session.query()


# ---------------------------------------------------------------- what is drawn


def test_the_chart_of_nations_by_strategy_shows_when_strategies_differ_or_spread():
    assert not Session(Settings.for_lesson(FREE)).frame()["show_held"]
    two = Session(Settings.for_lesson(TWO))
    assert not two.frame()["show_held"]  # both always share
    two.set_strategy(0, 1, "never")
    frame = two.frame()
    assert frame["show_held"]
    assert {line["strategy"]: line["counts"][0] for line in frame["held"]} == {
        "always": 1, "never": 1}  # week 0 as the run started, after the pick
    spread = Session(Settings.for_lesson(SPREAD))
    _play(spread, 60)
    frame = spread.frame()
    assert frame["show_held"]
    totals = np.sum([line["counts"] for line in frame["held"]], axis=0)
    assert totals.tolist() == [24] * 61
    assert spread.sides[0].model.counts.total["strategy_changes"] > 0


def test_the_strategy_card_adds_up_to_the_run_s_outcomes():
    """Per nation, the plots aimed at it and stopped add up to the run's disruption rate;
    per strategy, the table is the run's own outcomes by strategy."""
    session = Session(Settings.for_lesson(TWO, seed=8))
    session.set_strategy(0, 1, "never")
    _play(session, 100)
    card = session.week_frame()["sides"][0]["strategy"]
    aimed = np.array(card["aimed"])
    rate = session.sides[0].model.metrics()["disruption_rate"]
    assert aimed[:, 1].sum() / aimed[:, 0].sum() == pytest.approx(rate)
    rows = {NAMES[k]: row for k, *row in card["table"]}
    assert set(rows) == {"always", "never"}
    assert rows["never"][1] == 0 < rows["always"][1]  # never sends, always does
    assert rows["never"][2] == rows["always"][1]  # what always sends, never receives
    ids = metrics.settled(session.sides[0].model)
    assert rows["never"][3] == pytest.approx(round(metrics.decision_metrics(
        session.sides[0].model, ids)["disruption_rate_never"], 3))


def test_the_full_cooperation_reference_always_shares():
    session = Session(Settings.for_lesson(TWO))
    session.set_strategy(0, 1, "never")
    model = session.sides[0].model
    full = model.reference["full cooperation"]
    assert full.relations.strategy.tolist() == [ALWAYS, ALWAYS]
    assert model.relations.strategy.tolist() == [ALWAYS, NEVER]


def test_the_page_makes_strategy_requests_and_ignores_malformed_ones():
    session = Session(Settings.for_lesson(TWO))
    assert handle(session, {"op": "strategy", "side": 0, "nation": 1, "value": "never",
                            "week": 0}) is True
    assert handle(session, {"op": "take", "side": 0, "nation": 0}) is True
    for bad in ({"op": "strategy", "side": 3, "nation": 1, "value": "never"},
                {"op": "strategy", "side": 0, "nation": "x", "value": "never"},
                {"op": "decide", "side": 0, "nation": 0, "partner": 0, "value": "share"},
                {"op": "decide", "side": 0, "nation": 0, "partner": 1},
                {"op": "take", "side": 0, "nation": 99},
                {"op": "handover", "side": 0, "value": "sometimes"},
                {"op": "shares", "side": 0, "shares": "all"},
                {"op": "shares", "side": 0, "shares": {"never": float("nan")}}):
        assert handle(session, bad) is False, bad
    assert session.query() == f"lesson={TWO}&seed=1&moves=0.1.never&play=0"
    handle(session, {"op": "step", "weeks": 4})
    # a decision made at the week the page shows, behind the server, replays to it first
    assert handle(session, {"op": "decide", "side": 0, "nation": 0, "partner": 1,
                            "value": "withhold", "week": 2}) is True
    assert session.week == 2 and session.sides[0].moves[-1] == Move(2, 0, 1, "withhold")


# ---------------------------------------------------------------- in a real browser


PHONE = (390, 844)


@pytest.mark.slow
@pytest.mark.parametrize(("size", "extra"), [
    (PHONE, ""), (page_driver.VIEWPORTS["laptop"], ""),
    (page_driver.VIEWPORTS["projector"], "&projector=1")], ids=["phone", "laptop", "projector"])
def test_the_lessons_on_keeping_secrets_lay_out_on_phones_laptops_and_projectors(
        browser_and_url, size, extra):
    browser, url = browser_and_url
    for query in (f"lesson={TWO}&moves=0.1.never&play=0", "lesson=secrets_noise",
                  f"lesson={SPREAD}", f"lesson={TWO}&split=1&b.moves=0.1.never"):
        with page_driver.opened(browser, url, size, query + extra) as page:
            page_driver.step(page, 2)
            assert page_driver.layout_problems(page) == [], (size, query)


@pytest.mark.slow
def test_a_class_picks_strategies_and_plays_a_nation_by_hand(browser_and_url):
    browser, url = browser_and_url
    with page_driver.opened(browser, url, query=f"lesson={TWO}") as page:
        assert page.locator("[data-layout=held-chart]").count() == 0
        page.locator("[data-layout=strategy-1]").select_option("never")
        page.wait_for_function("() => location.search.includes('moves=0.1.never')")
        page.wait_for_selector("[data-layout=held-chart]")
        page.locator("[data-layout=player]").select_option("0")
        page.wait_for_selector("[data-layout=withhold-from-1]")
        assert page.locator("[data-layout=withhold-from-0]").count() == 0  # not itself
        page.locator("[data-layout=withhold-from-1]").click()
        page.wait_for_selector("[data-layout=withhold-from-1].ct-on")
        assert "from week 1: Westria withholds from Borduria" in page.locator(
            "[data-layout=moves]").inner_text()
        page_driver.step(page, 20)
        query = parse_qs(urlparse(page.url).query)
        assert query["moves"] == ["0.1.never,0.0.1.withhold"] and query["play"] == ["0"]
        assert re.search(r"\d+ of \d+ stopped", page.locator("[data-layout=aimed-1]")
                         .inner_text())
