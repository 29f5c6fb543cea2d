"""The class mode in real Chromium: a teacher and three students (their own browsers, one a
phone at 390x844) play the class world to the end against ``ctsim app``; axe-core checks
the landing, student and teacher pages; a keyboard alone joins and sets a decision."""

from __future__ import annotations

import os
import re

import pytest

from tests.teaching import page_driver

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(page_driver.CHROMIUM),
                       reason=f"needs Chromium at {page_driver.CHROMIUM}"),
    pytest.mark.skipif(page_driver.axe_script() is None,
                       reason="needs axe-core (axe-playwright-python, the dev extra)"),
]

PHONE = (390, 844)
PROJECTOR = (1280, 720)


@pytest.fixture(scope="module")
def app_url():
    with page_driver.app_server() as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = page_driver.launch(p)
        yield b
        b.close()


#: Every URL the class's pages asked for, by any page of these tests.
REQUESTS: list[str] = []


def new_page(browser, size):
    """A page in a browser context of its own (its own storage: another device)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.on("request", lambda request: REQUESTS.append(request.url))
    return context.new_page()


def open_class(browser, url):
    """The teacher's page of a new class on the class world: (page, code)."""
    teacher = new_page(browser, PROJECTOR)
    teacher.goto(url + "class")
    teacher.locator("#teacher summary").click()
    teacher.wait_for_function("document.querySelectorAll('#world option').length > 0")
    assert teacher.locator("#world").input_value() == "class_alliance"
    teacher.locator("#start button[type=submit]").click()
    teacher.wait_for_selector("#network svg circle")
    code = teacher.locator("#code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    return teacher, code


def join(browser, url, code, name, size):
    page = new_page(browser, size)
    page.goto(f"{url}class?code={code}")
    page.fill("#name", name)
    page.click("#join-button")
    page.wait_for_selector("#partners .switch")
    return page


def test_a_class_plays_to_the_debrief(app_url, browser):
    teacher, code = open_class(browser, app_url)
    assert page_driver.axe_violations(teacher) == []
    names = ["Ana", "Ben", "Cleo"]
    students = [join(browser, app_url, code, name, PHONE if k == 0 else (1024, 768))
                for k, name in enumerate(names)]
    phone = students[0]
    nations = [s.locator("#nation").inner_text() for s in students]
    assert len(set(nations)) == 3  # a nation each while nations are left
    teacher.wait_for_function("document.querySelector('#count').textContent.startsWith('3 ')")
    assert page_driver.axe_violations(phone) == []
    teacher.click("#start")
    for s in students:
        s.wait_for_selector("#partners .switch:not([disabled])")
    # the phone's student holds back from a partner, and says they are done
    switch = phone.locator("#partners .switch").first
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    phone.wait_for_function(
        "document.querySelector('#partners .switch').getAttribute('aria-checked') === 'false'")
    phone.click("#done")
    phone.wait_for_function(
        "document.querySelector('#done').getAttribute('aria-pressed') === 'true'")
    teacher.wait_for_function("document.querySelector('#decided-count').textContent === '(1 of 3)'")
    assert page_driver.axe_violations(phone) == []
    assert page_driver.axe_violations(teacher) == []
    assert page_driver.small_targets(phone, 44) == []
    assert phone.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # a reload comes back as the same nation, with the decision kept
    phone.reload()
    phone.wait_for_selector("#partners .switch")
    assert phone.locator("#nation").inner_text() == nations[0]
    assert phone.locator("#partners .switch").first.get_attribute("aria-checked") == "false"
    # the teacher runs the rounds to the end; the students read each round's report
    rounds = 0
    while teacher.locator("#next").is_enabled():
        rounds += 1
        teacher.click("#next")
        teacher.wait_for_function(
            f"() => document.querySelectorAll('#history tbody tr').length >= {rounds}")
        if rounds == 1:
            phone.wait_for_selector("#report h2")
            assert phone.locator("#report h2").inner_text().startswith("Round 1")
    assert rounds == 10  # 40 weeks in rounds of 4
    teacher.wait_for_selector("#debrief-table", timeout=120_000)
    header = teacher.locator("#debrief-table thead").inner_text()
    assert "your class" in header and "everyone" in header
    assert teacher.locator("#other-games tbody tr").count() == 4
    assert teacher.locator("#inferred li").count() == 3
    for s in students:
        s.wait_for_function(
            "document.querySelector('#status').textContent.startsWith('finished')")
    assert page_driver.axe_violations(teacher) == []
    assert page_driver.small_targets(teacher, 24) == []
    # the replay steps back a round
    teacher.click("#replay-prev")
    teacher.wait_for_function(
        "document.querySelector('#replay-at').textContent === 'round 9 of 10'")
    assert teacher.locator("#round-title").inner_text().startswith("Round 9")
    # nothing the pages asked for came from another server
    assert len(REQUESTS) > 50
    assert [u for u in REQUESTS if not u.startswith((app_url, "data:", "blob:"))] == []


def test_the_landing_page_passes_axe(app_url, browser):
    page = new_page(browser, PHONE)
    page.goto(app_url + "class")
    page.wait_for_function("document.querySelectorAll('#world option').length > 0")
    assert page_driver.axe_violations(page) == []
    page.locator("#teacher summary").click()
    assert page_driver.axe_violations(page) == []
    assert page_driver.small_targets(page, 44) == []
    assert page.evaluate("document.documentElement.lang") == "en"


def test_a_keyboard_alone_joins_and_sets_a_decision(app_url, browser):
    teacher, code = open_class(browser, app_url)
    teacher.click("#start")
    page = new_page(browser, PHONE)
    page.goto(app_url + "class")
    page.keyboard.press("Tab")
    assert page_driver.focus_ring(page)["id"] == "code"
    page.keyboard.type(code.lower())
    page.keyboard.press("Tab")
    page.keyboard.type("Kai")
    page.keyboard.press("Tab")
    ring = page_driver.focus_ring(page)
    assert ring["id"] == "join-button"
    assert ring["style"] != "none" and ring["width"] >= 2
    page.keyboard.press("Enter")
    page.wait_for_selector("#partners .switch:not([disabled])")
    for _ in range(30):  # Tab to the first partner's switch
        page.keyboard.press("Tab")
        ring = page_driver.focus_ring(page)
        if ring and "switch" in str(ring["cls"]):
            break
    assert ring and "switch" in str(ring["cls"]), ring
    assert ring["style"] != "none" and ring["width"] >= 2
    focused = "document.activeElement"
    assert page.evaluate(f"{focused}.getAttribute('aria-checked')") == "true"
    page.keyboard.press("Space")
    page.wait_for_function(f"{focused}.getAttribute('aria-checked') === 'false'")
    page.keyboard.press("Enter")
    page.wait_for_function(f"{focused}.getAttribute('aria-checked') === 'true'")
