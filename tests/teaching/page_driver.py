"""Driving the teaching page in a real browser: the tests', the screenshots' and the
benchmark's one way of starting ``ctsim app`` and reading what a visitor sees.

Needs Playwright (the ``dev`` extra) and Debian's Chromium at :data:`CHROMIUM`
(Playwright cannot download its own browser here).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]
VIEWPORTS = {"projector": (1024, 768), "laptop": (1280, 800), "full_hd": (1920, 1080),
             "tablet": (768, 1024)}


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(extra: list[str] | None = None, env: dict[str, str] | None = None,
               timeout: float = 180) -> Iterator[tuple[str, subprocess.Popen]]:
    """``ctsim app`` on a free localhost port: yields its URL and process, stops it after."""
    port = free_port()
    ctsim = shutil.which("ctsim", path=str(Path(sys.executable).parent)) or "ctsim"
    proc = subprocess.Popen([ctsim, "app", "--port", str(port), *(extra or [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, env={**os.environ, **(env or {})},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("ctsim app did not start") from None
                time.sleep(0.5)
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def launch(playwright: Any):
    """Chromium, headless."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def open_page(browser: Any, url: str, size: tuple[int, int] = (1280, 800), query: str = ""):
    """A new tab of ``size`` on the page at ``url?query``, once the page has drawn."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url + (f"?{query}" if query else ""), timeout=120_000)
    page.wait_for_selector(".ct .ct-week", timeout=120_000)
    page.wait_for_selector(".ct-network svg circle", timeout=60_000)
    return page


@contextlib.contextmanager
def opened(browser: Any, url: str, size: tuple[int, int] = (1280, 800),
           query: str = "") -> Iterator[Any]:
    """:func:`open_page` as a context: the tab is closed after, whatever happens."""
    page = open_page(browser, url, size, query)
    try:
        yield page
    finally:
        page.close()


def week(page: Any) -> int:
    """The week the page shows."""
    return int(page.locator(".ct-week b").inner_text())


def wait_week(page: Any, condition: str, timeout: float = 60_000) -> None:
    """Wait until the shown week ``w`` makes the JavaScript ``condition`` true."""
    page.wait_for_function(
        f"() => {{ const e = document.querySelector('.ct-week b');"
        f" if (!e) return false; const w = +e.textContent; return {condition}; }}",
        timeout=timeout)


def step(page: Any, times: int = 1) -> None:
    """Press Step ``times`` times, each time waiting for the week to move on."""
    for _ in range(times):
        now = week(page)
        page.locator("[data-layout=step]").click()
        wait_week(page, f"w > {now}")


def set_slider(page: Any, name: str, value: float) -> None:
    """Set slider ``name`` to ``value`` as a visitor would (the change event fires)."""
    page.locator(f"[data-layout=input-{name}]").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true}));"
        " el.dispatchEvent(new Event('change', {bubbles: true})); }", value)


def shown_value(page: Any, name: str) -> str:
    """The value a control shows beside its label."""
    return page.locator(f"[data-layout=value-{name}]").inner_text()


LAYOUT_PROBLEMS = """
() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > vw + 1)
    problems.push(`horizontal scroll: ${document.documentElement.scrollWidth} > ${vw}`);
  const visible = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const boxes = [...document.querySelectorAll('[data-layout]')].filter(visible);
  for (const el of boxes) {
    const r = el.getBoundingClientRect();
    const name = el.getAttribute('data-layout');
    if (r.left < -1 || r.right > vw + 1) problems.push(`${name} is outside the page`);
    const wide = el.scrollWidth > el.clientWidth + 1;
    if (wide && (getComputedStyle(el).overflowX !== 'visible' || el.children.length === 0))
      problems.push(`${name} is clipped (${el.scrollWidth} > ${el.clientWidth})`);
  }
  // a select must show its whole choice
  const ctx = document.createElement('canvas').getContext('2d');
  for (const sel of document.querySelectorAll('.ct select')) {
    if (!visible(sel)) continue;
    const st = getComputedStyle(sel);
    ctx.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
    const text = sel.options[sel.selectedIndex] ? sel.options[sel.selectedIndex].text : '';
    const room = sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    if (ctx.measureText(text).width > room + 1) problems.push(`the choice of ${sel.id ||
      sel.closest('[data-layout]').getAttribute('data-layout')} is cut: ${text}`);
  }
  // no two boxes overlap unless one holds the other
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.contains(b) || b.contains(a)) continue;
    const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    const [na, nb] = [a.getAttribute('data-layout'), b.getAttribute('data-layout')];
    if (w > 1 && h > 1) problems.push(`${na} overlaps ${nb}`);
  }
  // the names drawn on the networks
  for (const svg of document.querySelectorAll('.ct-network svg')) {
    const labels = [...svg.querySelectorAll('text[data-svg-label]')]
      .filter(t => t.getAttribute('visibility') !== 'hidden');
    const rs = labels.map(t => t.getBoundingClientRect());
    const frame = svg.getBoundingClientRect();
    for (let i = 0; i < rs.length; i++) {
      if (rs[i].left < frame.left - 1 || rs[i].right > frame.right + 1)
        problems.push(`label ${labels[i].textContent} leaves its network`);
      for (let j = i + 1; j < rs.length; j++) {
        const w = Math.min(rs[i].right, rs[j].right) - Math.max(rs[i].left, rs[j].left);
        const h = Math.min(rs[i].bottom, rs[j].bottom) - Math.max(rs[i].top, rs[j].top);
        if (w > 1 && h > 1)
          problems.push(`labels ${labels[i].textContent} and ${labels[j].textContent} overlap`);
      }
    }
  }
  // nothing of Solara's own chrome on top of the page
  for (const sel of ['.v-navigation-drawer', '.v-overlay--active', '.solara-banner'])
    for (const el of document.querySelectorAll(sel))
      if (visible(el)) problems.push(`${sel} is shown`);
  return problems;
}
"""


def layout_problems(page: Any) -> list[str]:
    """What is wrong with the layout as shown: horizontal scrolling, a box outside the
    page or clipped, two boxes (labels, controls, charts) or two network names that
    overlap, an overlay."""
    return page.evaluate(LAYOUT_PROBLEMS)


# ---------------------------------------------------------------- the class mode (/class)

#: axe-core, as the ``axe-playwright-python`` package ships it (the ``dev`` extra): loaded
#: from this file into the page, never from the network.
def axe_script() -> Path | None:
    """The path of ``axe.min.js``, or None when the package is missing."""
    try:
        import axe_playwright_python
    except ImportError:
        return None
    path = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    return path if path.is_file() else None


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of WCAG 2.2 A and AA (and its best practices) on the page as
    shown, of the given impacts: ``rule: target`` for each node."""
    script = axe_script()
    if script is None:
        raise RuntimeError("axe-core is missing: pip install 'ctsim[dev]'")
    page.add_script_tag(path=str(script))
    result = page.evaluate("""async () => await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})""")
    return [f"{v['id']} ({v['impact']}): {', '.join(map(str, n['target']))}"
            for v in result["violations"] if v["impact"] in impacts for n in v["nodes"]]


FOCUS_RING = """() => { const el = document.activeElement; if (!el || el === document.body)
  return null; const s = getComputedStyle(el);
  return {id: el.id, cls: el.className, style: s.outlineStyle,
          width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; }"""


def focus_ring(page: Any) -> dict[str, Any] | None:
    """The focused element's id, class and outline (style, width in px, box shadow)."""
    return page.evaluate(FOCUS_RING)


SMALL_TARGETS = """(least) => [...document.querySelectorAll(
  'button, a[href], input, select, summary, [role=switch]')].filter(el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (!r.width || !r.height || s.visibility === 'hidden') return false;
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') return false;
    return r.width < least || r.height < least; }).map(el => el.id || el.textContent.trim()
    || el.tagName)"""


def small_targets(page: Any, least: float = 24) -> list[str]:
    """Controls shown smaller than ``least`` px either way (inline links in text are
    exempt, as WCAG 2.5.8 allows)."""
    return page.evaluate(SMALL_TARGETS, least)
