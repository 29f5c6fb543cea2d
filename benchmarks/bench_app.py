"""A class at once: 30 sessions playing the teaching page against one ``ctsim app``.

Starts ``ctsim app`` on 127.0.0.1 (tests/teaching/page_driver.py, the page driver the browser tests
use) and opens ``--sessions`` sessions of the page (the free scenario: 30 nations, 260
weeks), each playing at ``--speed`` weeks a second as a tab does: a clock shows one week
per tick when one has arrived, and when at most a second's worth is left the session
asks for another second's worth (``--speed`` weeks) in one request. After a warm-up it
counts the weeks each session shows over ``--seconds``.

Two drivers:

- ``--driver protocol`` (the default): each session is the page's own websocket protocol
  driven directly (the Jupyter widget messages a tab exchanges with Solara: open the app,
  receive its widgets, send the page's ``act`` event, receive each new frame). What is
  measured is the server alone, as in a classroom where every student's browser runs on
  the student's own device.
- ``--driver browser``: each session is a real Chromium tab pressing Play. The tabs draw
  on the same 2 cores as the server, so with many tabs the browser, not the server, sets
  the pace; the browser's CPU is reported beside the server's.

Reported: weeks per second per session (slowest, median, fastest), the server's CPU (cores
of the ``ctsim app`` process and its children) and resident memory, and the time from a
session's request to its weeks (median and 95th percentile, protocol driver).

The goal: every session at least 4 displayed weeks a second with 30 sessions playing.

``--page-loads N`` first opens N Chromium tabs one after another on an idle server and
reports the time from opening a tab to its drawn trust network.

Run: ``.venv/bin/python benchmarks/bench_app.py [--sessions 30] [--seconds 20]
[--driver protocol|browser] [--page-loads N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import statistics
import struct
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.teaching import page_driver

#: Chromium must not slow the tabs it does not show: every tab is a student's screen.
NO_THROTTLING = ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
GOAL = 4.0


def tree_cpu(proc: psutil.Process) -> float:
    """CPU seconds (user + system) of ``proc`` and its children."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and its children."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def browser_processes() -> list[psutil.Process]:
    """This machine's Chromium processes started by this benchmark (children of us)."""
    me = psutil.Process()
    return [p for p in me.children(recursive=True) if "chrom" in p.name().lower()]


# ---------------------------------------------------------------- the page's protocol


def _decode(raw: bytes | str) -> dict:
    """A message from Solara: JSON text, or the binary frame of Jupyter's websocket
    protocol (a count of parts, their offsets, then the JSON message and its buffers)."""
    if isinstance(raw, str):
        return json.loads(raw)
    parts = struct.unpack("!i", raw[:4])[0]
    offsets = list(struct.unpack("!" + "I" * parts, raw[4:4 * (parts + 1)]))
    end = offsets[1] if len(offsets) > 1 else None
    return json.loads(raw[offsets[0]:end].decode())


def _message(page: str, msg_type: str, content: dict) -> str:
    return json.dumps({
        "header": {"msg_id": uuid.uuid4().hex, "username": "", "session": page,
                   "msg_type": msg_type, "version": "5.3",
                   "date": datetime.datetime.now(datetime.UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
        "buffers": []})


async def protocol_session(url: str, speed: int, until: float, weeks: list,
                           waits: list) -> None:
    """One session: open the page's app over its websocket, then play as the page does
    until ``until``: a clock ticks ``speed`` times a second and shows the next week received
    if there is one; when at most a second's worth is left it asks for ``speed`` more.
    Appends (time, week) of every week shown to ``weeks`` and each request's wait for its
    weeks to ``waits``."""
    import websockets

    reply = await asyncio.to_thread(urllib.request.urlopen, url)
    cookie = "; ".join(h.split(";")[0] for h in reply.headers.get_all("Set-Cookie") or [])
    kernel, page = str(uuid.uuid4()), str(uuid.uuid4())
    ws_url = (url.replace("http", "ws", 1)
              + f"jupyter/api/kernels/{kernel}/channels?session_id={page}")
    async with websockets.connect(ws_url, additional_headers={"Cookie": cookie},
                                  max_size=None) as ws:
        control = uuid.uuid4().hex
        await ws.send(_message(page, "comm_open", {"comm_id": control, "data": {},
                                                   "target_name": "solara.control"}))
        await ws.send(_message(page, "comm_msg", {"comm_id": control, "data": {
            "method": "run", "args": {"path": "", "appName": "__default__"}}}))
        stage = None
        while stage is None:  # the page's widget is the one whose state holds the frame
            m = _decode(await ws.recv())
            if (m["header"]["msg_type"] == "comm_open"
                    and "frame_json" in m["content"]["data"].get("state", {})):
                stage = m["content"]["comm_id"]
        step = _message(page, "comm_msg", {"comm_id": stage, "data": {
            "method": "custom", "content": {"event": "act",
                                            "data": {"op": "step", "weeks": speed}}}})
        queue: list[int] = []
        asked: list[float] = []  # when the request in flight was sent (empty: none)

        async def receive():
            while True:
                m = _decode(await ws.recv())
                c = m["content"]
                if (m["header"]["msg_type"] == "comm_msg" and c.get("comm_id") == stage
                        and "frame_json" in c["data"].get("state", {})):
                    batch = json.loads(c["data"]["state"]["frame_json"])
                    queue.extend(w["week"] for w in batch["weeks"])
                    waits.append(time.perf_counter() - asked.pop())

        receiver = asyncio.create_task(receive())
        try:  # the page's clock: one week shown per tick when one is there
            tick = time.perf_counter()
            while tick < until:
                if queue:
                    weeks.append((tick, queue.pop(0)))
                if len(queue) <= speed and not asked:
                    asked.append(time.perf_counter())
                    await ws.send(step)
                tick += 1.0 / speed
                await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        finally:
            receiver.cancel()


def run_protocol(url: str, args) -> tuple[list[float], list[float], float]:
    """Weeks per second of each session over the measured window, the waits, and when
    every session was open (seconds)."""
    start = time.perf_counter()
    measure_from = start + args.open_time + args.warmup
    until = measure_from + args.seconds
    weeks = [[] for _ in range(args.sessions)]
    waits: list[float] = []

    async def all_sessions():
        tasks = []
        for i in range(args.sessions):  # arrive over ``open_time`` seconds, as a class does
            tasks.append(asyncio.create_task(
                protocol_session(url, args.speed, until, weeks[i], waits)))
            await asyncio.sleep(args.open_time / args.sessions)
        await asyncio.gather(*tasks)

    asyncio.run(all_sessions())
    rates = []
    for series in weeks:
        inside = [(t, w) for t, w in series if measure_from <= t <= until]
        rates.append((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])
                     if len(inside) > 1 else 0.0)
    return rates, waits, measure_from


def sample_at(when: float, proc: psutil.Process, out: dict, key: str) -> None:
    """Record the server's CPU seconds at time ``when`` (perf_counter) in ``out[key]``."""
    time.sleep(max(0.0, when - time.perf_counter()))
    out[key] = (time.perf_counter(), tree_cpu(proc), tree_rss(proc))


def run_browser(url: str, args, server: psutil.Process, cpu: dict) -> tuple[list[float], float]:
    """Weeks per second of each of ``args.sessions`` Chromium tabs, and the browser's CPU."""
    from playwright.sync_api import sync_playwright

    page_driver.CHROMIUM_ARGS.extend(NO_THROTTLING)
    with sync_playwright() as p:
        browser = page_driver.launch(p)
        pages = [page_driver.open_page(browser, url, (1280, 800), f"speed={args.speed}")
                 for _ in range(args.sessions)]
        for page in pages:
            page.locator("[data-layout=play]").click()
        time.sleep(args.warmup)
        chrome = browser_processes()
        c_browser = sum(_own_cpu(c) for c in chrome)
        start = [page_driver.week(page) for page in pages]
        sample_at(0, server, cpu, "start")
        time.sleep(args.seconds)
        end = [page_driver.week(page) for page in pages]
        sample_at(0, server, cpu, "end")
        c_browser = sum(_own_cpu(c) for c in chrome) - c_browser
        browser.close()
    elapsed = cpu["end"][0] - cpu["start"][0]
    return [(b - a) / elapsed for a, b in zip(start, end, strict=True)], c_browser / elapsed


def _own_cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return t.user + t.system
    except psutil.NoSuchProcess:
        return 0.0


def page_loads(url: str, count: int) -> list[float]:
    """Seconds from opening a tab to its drawn network, ``count`` tabs one after another
    (the first warms the server and is left out)."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = page_driver.launch(p)
        for _ in range(count + 1):
            start = time.perf_counter()
            with page_driver.opened(browser, url):
                times.append(time.perf_counter() - start)
        browser.close()
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--open-time", type=float, default=10.0,
                        help="seconds over which the sessions arrive (protocol driver)")
    parser.add_argument("--speed", type=int, default=4, choices=(1, 2, 4, 8),
                        help="weeks per second each session asks for")
    parser.add_argument("--driver", choices=("protocol", "browser"), default="protocol")
    parser.add_argument("--page-loads", type=int, default=0, metavar="N",
                        help="first time N tabs opened one after another (Chromium)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    import threading

    if args.page_loads:
        with page_driver.app_server() as (url, _):
            loads = page_loads(url, args.page_loads)
        print(f"opening a tab to its drawn network: median {statistics.median(loads):.2f} s "
              f"over {len(loads)} tabs (fastest {min(loads):.2f} s)")

    with page_driver.app_server() as (url, proc):
        server = psutil.Process(proc.pid)
        rss_idle = tree_rss(server)
        cpu: dict = {}
        waits: list[float] = []
        browser_cores = None
        if args.driver == "protocol":
            t0 = time.perf_counter() + args.open_time + args.warmup
            samplers = [threading.Thread(target=sample_at, args=(t0, server, cpu, "start")),
                        threading.Thread(target=sample_at,
                                         args=(t0 + args.seconds, server, cpu, "end"))]
            for t in samplers:
                t.start()
            rates, waits, _ = run_protocol(url, args)
            for t in samplers:
                t.join()
        else:
            rates, browser_cores = run_browser(url, args, server, cpu)
    elapsed = cpu["end"][0] - cpu["start"][0]
    server_cores = (cpu["end"][1] - cpu["start"][1]) / elapsed
    rates.sort()
    waits.sort()
    result = {
        "driver": args.driver, "sessions": args.sessions,
        "asked_weeks_per_second": args.speed, "seconds": round(elapsed, 2),
        "weeks_per_second_slowest": round(rates[0], 2),
        "weeks_per_second_median": round(statistics.median(rates), 2),
        "weeks_per_second_fastest": round(rates[-1], 2),
        "server_cpu_cores": round(server_cores, 2),
        "browser_cpu_cores": None if browser_cores is None else round(browser_cores, 2),
        "server_rss_mib": round(cpu["end"][2] / 2**20),
        "server_rss_idle_mib": round(rss_idle / 2**20),
        "wait_median_ms": round(1000 * statistics.median(waits), 1) if waits else None,
        "wait_p95_ms": round(1000 * waits[int(0.95 * (len(waits) - 1))], 1) if waits else None,
        "goal_weeks_per_second": GOAL, "goal_met": rates[0] >= GOAL,
    }
    print(f"{args.sessions} sessions ({args.driver}) asking for {args.speed} weeks/s, "
          f"measured over {elapsed:.0f} s")
    print(f"  weeks per second per session: slowest {rates[0]:.2f}, median "
          f"{statistics.median(rates):.2f}, fastest {rates[-1]:.2f}  (goal: >= {GOAL:g})")
    print(f"  server: {server_cores:.2f} cores, {result['server_rss_mib']} MiB resident "
          f"({result['server_rss_idle_mib']} MiB before the sessions)")
    if waits:
        print(f"  a request to its weeks: median {result['wait_median_ms']} ms, "
              f"95th percentile {result['wait_p95_ms']} ms")
    if browser_cores is not None:
        print(f"  browser (same machine): {browser_cores:.2f} cores")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
