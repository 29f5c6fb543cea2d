"""The teaching page: its sessions and links, and the page in a real browser (the
narrator's words are checked in tests/teaching/test_narrator.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from ctsim.teaching import sessions
from ctsim.teaching.lessons import CONTROLS, LESSONS
from ctsim.teaching.sessions import FREE, Session, Settings, TeachingModel, bounded, explain
from tests.teaching import page_driver

ROOT = Path(__file__).resolve().parents[2]


def _play(session: Session, weeks: int) -> None:
    for _ in range(weeks):
        session.step()


# ---------------------------------------------------------------- settings and bounds


def test_settings_for_free_exploration_show_the_baseline_values():
    s = Settings.for_lesson(FREE)
    assert s.values["regime"] == "hybrid"
    assert s.values["sovereignty"] == pytest.approx(0.4)
    assert set(s.overrides()) == set(CONTROLS.values())


@pytest.mark.parametrize("name", [x.name for x in LESSONS])
def test_each_lesson_loads_into_a_session_and_steps(name):
    session = Session(Settings.for_lesson(name))
    assert session.sides[0].model.config.name == name
    assert session.step() and session.week == 1
    assert session.ui()["card"]["question"].endswith("?")
    import json

    json.dumps([session.frame(), session.ui(), session.worlds()])  # what the page is sent


def test_a_value_is_clamped_to_its_control_and_rounded_to_its_step():
    assert bounded("leak_rate", 0.9) == 0.5  # the slider ends at 0.5
    assert bounded("leak_rate", -1) == 0.0
    assert bounded("leak_rate", "0.33") == pytest.approx(0.35)
    assert bounded("adaptive", "0") is False
    assert bounded("regime", "bilateral") == "bilateral"
    with pytest.raises(ValueError, match="one of none"):
        bounded("regime", "everything")
    with pytest.raises(ValueError):
        bounded("leak_rate", "nan")


def test_controls_reach_the_model_and_references_share_the_world():
    s = Settings.for_lesson(FREE, seed=4).with_value("leak_rate", 0.3)
    model = TeachingModel(s.with_value("regime", "bilateral"))
    assert model.config.threat.leak_rate == 0.3
    assert model.config.cooperation.regime == "bilateral"
    none, full = model.reference["no cooperation"], model.reference["full cooperation"]
    assert none.config.cooperation.regime == "none"
    assert full.config.threat.leak_rate == 0.0
    np.testing.assert_array_equal(none.world.capacity, model.world.capacity)
    for _ in range(3):
        model.step()
    assert none.steps == full.steps == model.steps == 3


def test_every_control_sets_its_key_in_the_run():
    from ctsim.core import registry
    session = Session()
    _play(session, 5)
    for control in registry.controls():
        before = session.sides[0].settings.values[control.name]
        value = (not before if control.kind == "checkbox" else
                 next(c for c in control.choices if c != before) if control.kind == "select"
                 else (control.high if before != control.high else control.low))
        session.set_value(0, control.name, value)
        node = session.sides[0].model.config
        for part in control.key.split("."):
            node = getattr(node, part)
        assert node == value, control.name
        assert session.week == 5


def test_explanations_follow_the_settings():
    base = Settings.for_lesson(FREE).values
    low = " ".join(explain({**base, "sovereignty": 0.1, "leak_rate": 0.0}))
    high = " ".join(explain({**base, "sovereignty": 0.9, "leak_rate": 0.3, "regime": "none"}))
    assert "share almost everything" in low and "leaks are rare" in low
    assert "guard sensitive intelligence" in high and "often leaks" in high
    assert "No cooperation" in high
    assert "money" not in low and "border" not in low
    channels = " ".join(explain({**base, "financing": 0.04, "border_screening": 0.3,
                                 "treaty_formation": 0.01, "ai_false_alarm": 1.0}))
    for words in ("money", "databases", "sign new treaties", "wrongful interdiction"):
        assert words in channels
    assert "free-riding" not in low and "inquiry" not in low and "copy" not in low
    decide = " ".join(explain({**base, "stake": 0.5, "inquiry": 1.0, "imitation": 0.5}))
    assert "free-riding" in decide and "held back" in decide and "copy the partner" in decide


# ---------------------------------------------------------------- runs and links


def test_a_changed_control_replays_the_run_to_the_same_week():
    session = Session()
    _play(session, 40)
    session.set_value(0, "leak_rate", 0.5)
    assert session.week == 40
    fresh = TeachingModel(Settings.for_lesson(FREE).with_value("leak_rate", 0.5))
    for _ in range(40):
        fresh.step()
    np.testing.assert_array_equal(session.sides[0].model.trust, fresh.trust)


def test_a_link_reproduces_the_run_it_was_copied_from():
    session = Session(Settings.for_lesson("trust_and_leaks", seed=7))
    session.set_value(0, "sovereignty", 0.8)
    _play(session, 25)
    link = session.query() + f"&week={session.week}"
    again = Session.from_query(link)
    assert again.week == 25 and again.notes == []
    assert again.query() == session.query()
    np.testing.assert_array_equal(again.sides[0].model.trust, session.sides[0].model.trust)
    assert again.frame()["series"] == session.frame()["series"]


def test_a_bad_link_is_clamped_and_named_not_refused():
    s = Session.from_query("lesson=nope&seed=0&week=99999&leak_rate=7&regime=x&colour=red")
    assert s.sides[0].settings.lesson == FREE
    assert s.sides[0].settings.seed == sessions.SEEDS[0]
    assert s.week == s.horizon
    assert s.sides[0].settings.values["leak_rate"] == 0.5
    text = " ".join(s.notes)
    assert "no lesson named 'nope'" in text and "colour" in text and "regime" in text


def test_side_by_side_runs_share_the_world_and_seed_and_diverge():
    one = Session(Settings.for_lesson(FREE, seed=3))
    split = Session.from_query("lesson=free&seed=3&split=1&b.leak_rate=0.5")
    _play(one, 60)
    _play(split, 60)
    a, b = split.sides[0].model, split.sides[1].model
    np.testing.assert_array_equal(a.world.capacity, b.world.capacity)
    np.testing.assert_array_equal(a.trust, one.sides[0].model.trust)  # A is the same run
    assert b.counts.total["leaks"] > a.counts.total["leaks"]
    frame = split.frame()
    assert [s["label"] for s in frame["series"]][:2] == ["A", "B"]
    assert frame["series"][0]["rate"] != frame["series"][1]["rate"]


def test_sessions_are_independent_of_each_other():
    first, second = Session(), Session()
    _play(first, 30)
    assert second.week == 0
    first.set_value(0, "tension", 0.9)
    assert second.sides[0].settings.values["tension"] == pytest.approx(0.3)
    _play(second, 30)
    np.testing.assert_array_equal(second.sides[0].model.trust, Session.from_query(
        "week=30").sides[0].model.trust)


def test_a_frame_is_small_plain_json():
    session = Session()
    _play(session, session.horizon)
    assert session.step() is False  # nothing past the horizon
    text = json.dumps(session.frame())
    assert len(text) < 60_000
    assert json.loads(text)["weeks"][-1]["week"] == session.horizon


def test_the_page_ignores_malformed_requests():
    from ctsim.teaching.page import handle

    session = Session()
    for bad in ({"op": "set", "side": 5, "name": "leak_rate", "value": 1},
                {"op": "set", "side": 0, "name": "nothing", "value": 1},
                {"op": "seed", "value": "x"}, {"op": "speed", "value": 3}, {"op": "hack"}, {}):
        handle(session, bad)
    assert session.query() == "lesson=free&seed=1"
    frame = handle(session, {"op": "step", "weeks": 3})
    assert [w["week"] for w in frame["weeks"]] == [1, 2, 3] and session.week == 3
    assert handle(session, {"op": "step", "weeks": 1000})["weeks"][-1]["week"] == 3 + \
        sessions.MAX_BATCH


def test_a_batch_of_weeks_is_the_weeks_run_one_by_one():
    batched, single = Session(), Session()
    frame = batched.advance(6)
    for _ in range(6):
        single.step()
    assert frame["advance"] and [w["week"] for w in frame["weeks"]] == list(range(1, 7))
    assert frame["weeks"][-1] == single.week_frame()
    assert frame["series"] == single.frame()["series"]


def test_a_real_world_is_drawn_by_region_with_only_the_ties_that_moved(monkeypatch):
    world = ROOT / "scenarios" / "world" / "world.yaml"
    monkeypatch.setenv("CTSIM_APP_SCENARIO", str(world))
    session = Session()
    _play(session, 60)
    view = session.worlds()[0]
    assert len(view["nodes"]) == 194 and view["labels"] is False
    regions = {g["name"].split(" (")[0]: g for g in view["regions"]}
    assert {"europe", "africa", "south asia"} <= set(regions)
    assert sum(int(g["name"].split("(")[1][:-1]) for g in view["regions"]) == 194
    m = session.sides[0].model
    mutual, start = (m.trust + m.trust.T) / 2, (m.world.trust0 + m.world.trust0.T) / 2
    moved = int(np.triu(np.abs(mutual - start) > 0.02, k=1).sum())
    edges = session.frame()["weeks"][0]["sides"][0]["edges"]
    assert len([e for e in edges if e[3] in (3, 4)]) == moved
    assert 0 < moved < 500


# ---------------------------------------------------------------- in a real browser

pytest_browser = pytest.mark.skipif(not Path(page_driver.CHROMIUM).exists(),
                                    reason="needs Debian's Chromium: apt-get install chromium "
                                           "(Playwright's own download does not work offline)")


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


@pytest.mark.slow
@pytest.mark.parametrize("size", ["projector", "laptop", "full_hd", "tablet"])
def test_nothing_overlaps_scrolls_or_is_clipped(browser_and_url, size):
    browser, url = browser_and_url
    for query in ("lesson=trust_and_leaks", "lesson=trust_and_leaks&split=1&b.leak_rate=0.5",
                  "lesson=safe_havens&projector=1"):
        with page_driver.opened(browser, url, page_driver.VIEWPORTS[size], query) as page:
            page_driver.step(page, 2)
            assert page_driver.layout_problems(page) == [], (size, query)


@pytest.mark.slow
def test_every_control_changes_the_run_and_the_link(browser_and_url):
    browser, url = browser_and_url
    with page_driver.opened(browser, url) as page:
        page_driver.step(page, 3)
        for name, value, shown in (("sovereignty", 0.8, "0.80"), ("harmonization", 0.6, "0.60"),
                                   ("definition_spread", 0.3, "0.30"), ("tension", 0.7, "0.70"),
                                   ("capacity_spread", 0.35, "0.35"), ("leak_rate", 0.3, "0.30"),
                                   ("ai_detection", 1.5, "1.50"), ("surge", 0.6, "0.60")):
            page_driver.set_slider(page, name, value)
            page.wait_for_function(f"() => location.search.includes('{name}={value:g}')")
            assert page_driver.shown_value(page, name) == shown
        page.locator("[data-layout=input-regime]").select_option("bilateral")
        page.wait_for_selector("text=Bilateral treaties only")
        page.locator("[data-layout=input-adaptive]").uncheck()
        page.wait_for_selector("text=Groups stay where they are")
        page.locator("[data-layout=input-seed]").fill("42")
        page.locator("[data-layout=input-seed]").dispatch_event("change")
        page.wait_for_function("() => location.search.includes('seed=42')")
        q = _query(page)
        assert q["regime"] == ["bilateral"] and q["adaptive"] == ["0"]
        assert q["week"] == ["3"]  # a change keeps the week: the run is replayed to it


@pytest.mark.slow
def test_a_link_opens_the_same_run(browser_and_url):
    browser, url = browser_and_url
    link = "lesson=legal_friction&seed=5&tension=0.6"
    with page_driver.opened(browser, url, query=link) as first:
        page_driver.step(first, 4)
        link = urlparse(first.url).query
        counts = first.locator("[data-layout=counts-A]").inner_text()
    with page_driver.opened(browser, url, query=link) as second:
        assert page_driver.week(second) == 4
        assert urlparse(second.url).query == link
        assert second.locator("[data-layout=counts-A]").inner_text() == counts
        assert page_driver.shown_value(second, "tension") == "0.60"


@pytest.mark.slow
def test_split_mode_diverges_and_the_narrator_names_a_leak(browser_and_url):
    browser, url = browser_and_url
    with page_driver.opened(browser, url, query="seed=3&split=1&b.leak_rate=0.5&speed=8") as page:
        page.locator("[data-layout=play]").click()
        page.wait_for_selector(".ct-events li.ct-ev-leak", timeout=60_000)
        assert re.search(r"leaked a fragment it got from", page.locator(
            ".ct-events li.ct-ev-leak").first.inner_text())
        page_driver.wait_week(page, "w >= 40")
        page.locator("[data-layout=play]").click()  # pause
        a = page.locator("[data-layout=counts-A]").inner_text()
        b = page.locator("[data-layout=counts-B]").inner_text()
        assert a != b
        paths = page.locator(".ct-chart path").evaluate_all(
            "ps => ps.map(p => p.getAttribute('d'))")
        assert paths[0] != paths[1]  # the A and B lines of the disruption rate differ


@pytest.mark.slow
def test_the_layout_check_sees_an_overlap_a_scroll_and_a_clipped_label(browser_and_url):
    browser, url = browser_and_url
    with page_driver.opened(browser, url, page_driver.VIEWPORTS["projector"]) as page:
        page.add_style_tag(content=".ct-title { position: absolute; left: 300px; top: 0; }"
                                   ".ct-label { white-space: nowrap; overflow: hidden;"
                                   " width: 2em; display: inline-block; }"
                                   ".ct-bar { width: 1400px; }")
        problems = " | ".join(page_driver.layout_problems(page))
        assert "horizontal scroll" in problems
        assert "title overlaps" in problems or "overlaps title" in problems
        assert "label-sovereignty is clipped" in problems


@pytest.mark.slow
def test_the_page_declares_its_language_passes_axe_and_shows_the_keyboard_focus(
        browser_and_url):
    """Issue 29's measurement of the page: it declared no language (axe-core's one serious
    violation) and the framework's stylesheet unset every outline, so Play and Step showed
    no focus ring. Now: English declared, no serious or critical violation, and the
    control Tab reaches has a visible outline."""
    if page_driver.axe_script() is None:
        pytest.skip("axe-core is missing: pip install 'ctsim[dev]'")
    browser, url = browser_and_url
    with page_driver.opened(browser, url, query="lesson=class_alliance&week=5") as page:
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page_driver.axe_violations(page) == []
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        ring = page_driver.focus_ring(page)
        assert ring is not None and ring["style"] != "none" and ring["width"] >= 2
