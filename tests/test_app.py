"""The teaching app: its model and texts, and the page driven in a real browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the app needs its extra: pip install 'ctsim[viz]'")

from ctsim.app import (
    FREE,
    Settings,
    TeachingModel,
    explain,
    network_figure,
    outcomes_figure,
)
from ctsim.lessons import CONTROLS, LESSONS

CHROMIUM = "/usr/bin/chromium"


def test_settings_for_free_exploration_show_the_baseline_values():
    s = Settings.for_lesson(FREE)
    assert s.regime == "hybrid"
    assert s.sovereignty == pytest.approx(0.4)
    assert set(s.overrides()) == set(CONTROLS.values())


@pytest.mark.parametrize("name", [x.name for x in LESSONS])
def test_each_lesson_loads_into_the_app(name):
    s = Settings.for_lesson(name)
    model = TeachingModel(s)
    assert model.config.name == name
    model.step()
    assert model.steps == 1


def test_controls_reach_the_model_and_references_share_the_world():
    s = Settings(leak_rate=0.3, regime="bilateral", seed=4)
    model = TeachingModel(s)
    assert model.config.threat.leak_rate == 0.3
    assert model.config.cooperation.regime == "bilateral"
    none, full = model.reference["no cooperation"], model.reference["full cooperation"]
    assert none.config.cooperation.regime == "none"
    assert full.config.threat.leak_rate == 0.0
    np.testing.assert_array_equal(none.world.capacity, model.world.capacity)
    for _ in range(3):
        model.step()
    assert none.steps == full.steps == model.steps == 3


def test_the_outcomes_figure_draws_each_run():
    model = TeachingModel(Settings(seed=2))
    for _ in range(30):
        model.step()
    fig = outcomes_figure(model)
    top = fig.axes[0]
    labels = [ln.get_label() for ln in top.lines]
    assert labels == ["current settings", "no cooperation", "full cooperation"]
    rates = model.datacollector.model_vars["disruption_rate"]
    np.testing.assert_allclose(top.lines[0].get_ydata(), np.array(rates, float))


def test_the_network_marks_this_weeks_leaks():
    model = TeachingModel(Settings(leak_rate=0.5, seed=3))
    while not model.week_leaks and model.steps < 200:
        model.step()
    assert model.week_leaks
    fig = network_figure(model)
    red = [c for c in fig.axes[0].collections
           if getattr(c, "get_segments", None) and len(c.get_segments()) ==
           len(model.week_leaks) and c.get_linewidths()[0] == 3.5]
    assert red, "this week's leaks are drawn as thick edges"


def test_a_real_world_is_drawn_by_region_with_only_the_ties_that_moved(monkeypatch):
    from ctsim import figures

    world = Path(__file__).resolve().parent.parent / "scenarios" / "world" / "world.yaml"
    monkeypatch.setenv("CTSIM_APP_SCENARIO", str(world))
    model = TeachingModel(Settings.for_lesson(FREE))
    assert model.world.n == 194
    layout, _ = figures.region_layout(model)
    assert all(np.array_equal(model.layout[i], layout[i]) for i in range(model.world.n))
    for _ in range(60):
        model.step()
    ax = network_figure(model).axes[0]
    edges = ax.collections[0]  # the trust edges, drawn first
    mutual = (model.trust + model.trust.T) / 2
    start = (model.world.trust0 + model.world.trust0.T) / 2
    moved = int(np.triu(np.abs(mutual - start) > 0.02, k=1).sum())
    assert len(edges.get_segments()) == moved
    assert moved < 500  # not the thousands of ties above a threshold
    names = {t.get_text().split(" (")[0] for t in ax.texts}
    assert {"europe", "africa", "south asia"} <= names


def test_explanations_follow_the_settings():
    low = " ".join(explain(Settings(sovereignty=0.1, leak_rate=0.0)))
    high = " ".join(explain(Settings(sovereignty=0.9, leak_rate=0.3, regime="none")))
    assert "share almost everything" in low and "leaks are rare" in low
    assert "guard sensitive intelligence" in high and "often leaks" in high
    assert "No cooperation" in high


# ---------------------------------------------------------------- in a real browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_server():
    """``ctsim app`` on a free localhost port, stopped after the test."""
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's Chromium: apt-get install chromium "
                    "(Playwright's own browser download does not work offline)")
    port = _free_port()
    ctsim = shutil.which("ctsim", path=str(Path(sys.executable).parent)) or "ctsim"
    proc = subprocess.Popen([ctsim, "app", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("ctsim app did not start") from None
                time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_the_page_steps_and_redraws_in_chromium(app_server, tmp_path):
    """Move a control, step the model: the week counter and the chart change."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-quic"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(app_server, timeout=120_000)
            page.wait_for_selector("text=Time: 0.0", timeout=120_000)
            page.wait_for_selector("text=Lesson and controls", timeout=60_000)
            # Move a control: the regime, from hybrid to bilateral (the run restarts).
            page.locator(".v-select").filter(has_text="cooperation regime").click()
            page.locator(".v-list-item-title").filter(
                has_text=re.compile(r"^\s*bilateral\s*$")).first.click()
            page.wait_for_selector("text=Bilateral treaties only", timeout=60_000)
            charts = page.locator(".solara-content-main img")
            charts.nth(1).wait_for(timeout=60_000)
            before = charts.nth(1).get_attribute("src")
            page.get_by_role("button", name="Step").click()
            page.wait_for_selector("text=Time: 1.0", timeout=60_000)
            page.wait_for_selector("text=Week 1", timeout=60_000)
            page.wait_for_function(
                "([i, old]) => { const im = document.querySelectorAll("
                "'.solara-content-main img')[i]; return im && im.src !== old; }",
                arg=[1, before], timeout=60_000)
            assert charts.nth(1).get_attribute("src") != before
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 1280, "no horizontal scrolling at 1280 x 800"
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()
    assert (tmp_path / "app.png").stat().st_size > 10_000
