"""A class at once: a teacher and 30 students playing the class mode against one ``ctsim app``.

Starts ``ctsim app`` on 127.0.0.1 (tests/teaching/page_driver.py, as the browser tests do)
and opens a class on the class world. ``--students`` protocol clients (threads speaking the
class API with urllib, no browser) join and play as the student's page does: each keeps a
long poll open (``since`` its last version, waiting up to 20 s for a change) and, at a
student's pace (a decision every ``--think`` seconds on average, the gaps drawn from an
exponential distribution by a numpy Generator from ``--seed``), flips one partner's
decision, and says it is done once a round. The teacher lets each round run
``--round-seconds`` and then asks for the next.

Reported:

- the time a decision takes to be answered (POST decide to its answer): median and 95th
  percentile (goal: p95 at most 200 ms);
- the time a round takes to advance for the class: from the teacher's ``next`` to the
  moment every client's poll has brought the new round (goal: at most 1 s);
- the server's CPU (cores of the ``ctsim app`` process and its children) while the class
  plays;
- warm page loads in Chromium of the student's and the teacher's page (open to drawn: the
  student's switches, the teacher's network), on the idle server and with the class playing
  (goals: 2 s quiet, 3 s with 30 students). "Warm": the browser has loaded the page once.

Run: ``.venv/bin/python benchmarks/bench_class.py [--students 30] [--rounds 5]
[--round-seconds 8] [--think 3] [--page-loads 5] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import tree_cpu

from tests.teaching import page_driver

GOALS = {"decision_p95_s": 0.2, "advance_s": 1.0, "load_quiet_s": 2.0, "load_busy_s": 3.0}




def post(url: str, path: str, body: dict, timeout: float = 40) -> dict:
    """POST a JSON object to the class API; its answer (raises on an HTTP error)."""
    request = urllib.request.Request(f"{url}class/api/{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


class Student(threading.Thread):
    """One student's device: a long poll (this thread) and a decision loop (another)."""

    def __init__(self, url: str, code: str, name: str, think: float, rng: np.random.Generator,
                 stop: threading.Event):
        super().__init__(daemon=True)
        self.url, self.code, self.name, self.think, self.rng, self.stop = (
            url, code, name, think, rng, stop)
        self.token = post(url, "join", {"code": code, "name": name})["token"]
        self.view: dict | None = None
        self.seen_round: dict[int, float] = {}  # round -> when this client first saw it
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.deciding = threading.Thread(target=self.decide_loop, daemon=True)

    def run(self) -> None:
        since = None
        self.deciding.start()
        while not self.stop.is_set():
            try:
                data = post(self.url, "student", {"code": self.code, "token": self.token,
                                                  "since": since, "wait": 20})
            except (OSError, urllib.error.HTTPError) as exc:
                if not self.stop.is_set():  # not the server stopping after the run
                    self.errors.append(_why(exc))
                time.sleep(0.5)
                continue
            if len(data) == 1:
                continue
            since = data["version"]
            self.view = data
            self.seen_round.setdefault(data["round"], time.perf_counter())

    def decide_loop(self) -> None:
        ready_round = -1
        while not self.stop.wait(float(self.rng.exponential(self.think))):
            view = self.view
            if not view or view["phase"] != "playing" or view["paused"]:
                continue
            if view["round"] == ready_round:
                continue
            partners = view["partners"]
            if partners and self.rng.random() < 0.8:
                p = partners[int(self.rng.integers(len(partners)))]
                decision = "withhold" if p["decision"] == "share" else "share"
                start = time.perf_counter()
                try:
                    answer = post(self.url, "decide", {"code": self.code, "token": self.token,
                                                       "partner": p["id"], "decision": decision})
                    self.latencies.append(time.perf_counter() - start)
                    p.update(answer["partner"])
                except (OSError, urllib.error.HTTPError) as exc:
                    self.errors.append(_why(exc))
            else:
                try:
                    post(self.url, "ready", {"code": self.code, "token": self.token,
                                             "ready": True})
                    ready_round = view["round"]
                except (OSError, urllib.error.HTTPError) as exc:
                    self.errors.append(_why(exc))


def _why(exc: Exception) -> str:
    """An error in a few words: the server's sentence, or the exception's."""
    if isinstance(exc, urllib.error.HTTPError):
        try:
            return f"{exc.code}: {json.loads(exc.read())['error']}"
        except (ValueError, KeyError, OSError):
            return f"{exc.code}"
    return type(exc).__name__


def warm_loads(page, link: str, drawn: str, count: int) -> list[float]:
    """Seconds from opening ``link`` in ``page`` to the element ``drawn`` shown, ``count``
    times (the page already loaded once: warm)."""
    out = []
    for _ in range(count):
        start = time.perf_counter()
        page.goto(link)
        page.wait_for_selector(drawn, timeout=60_000)
        out.append(time.perf_counter() - start)
    return out


def page_loads(url: str, code: str, key: str, count: int) -> dict[str, list[float]]:
    """Seconds from opening to drawn, ``count`` warm loads each of the student's page (a
    watcher who joined in the browser) and of the teacher's page (its key put where the
    teacher's tab keeps it)."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = page_driver.launch(p)
        ctx = browser.new_context(viewport={"width": 390, "height": 844})
        page = ctx.new_page()
        page.goto(f"{url}class?code={code}")
        page.fill("#name", "Watcher")
        page.click("#join-button")
        page.wait_for_selector("#partners .switch")
        out["student"] = warm_loads(page, f"{url}class/play?code={code}", "#partners .switch",
                                    count)
        ctx.close()
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        ctx.add_init_script(f"sessionStorage.setItem('ctsim-class-key:{code}', '{key}')")
        page = ctx.new_page()
        page.goto(f"{url}class/teach?code={code}")  # the cold load, left out
        page.wait_for_selector("#network svg circle", timeout=60_000)
        out["teacher"] = warm_loads(page, f"{url}class/teach?code={code}",
                                    "#network svg circle", count)
        ctx.close()
        browser.close()
    return out


def _q(values: list[float], q: float) -> float:
    return float(np.quantile(np.array(values), q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5, help="rounds played and measured")
    parser.add_argument("--round-seconds", type=float, default=8.0,
                        help="seconds the teacher lets a round run")
    parser.add_argument("--think", type=float, default=3.0,
                        help="mean seconds between a student's decisions")
    parser.add_argument("--page-loads", type=int, default=5, metavar="N",
                        help="warm loads of each page, quiet and busy (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures: dict = {"students": args.students, "rounds": args.rounds}
    with page_driver.app_server() as (url, proc):
        server = psutil.Process(proc.pid)
        opened = post(url, "start", {"world": "class_alliance", "round_weeks": 4})
        code, key = opened["code"], opened["key"]
        if args.page_loads:
            figures["loads_quiet"] = page_loads(url, code, key, args.page_loads)
        stop = threading.Event()
        rngs = np.random.default_rng(args.seed).spawn(args.students)
        students = [Student(url, code, f"Student {k + 1}", args.think, rngs[k], stop)
                    for k in range(args.students)]
        for s in students:
            s.start()
        post(url, "control", {"code": code, "key": key, "op": "start"})
        busy: dict = {}
        loader = None
        if args.page_loads:
            def load_busy() -> None:
                time.sleep(args.round_seconds / 2)
                busy.update(page_loads(url, code, key, args.page_loads))

            loader = threading.Thread(target=load_busy, daemon=True)
        cpu0, wall0 = tree_cpu(server), time.perf_counter()
        if loader:
            loader.start()
        advances = []
        for r in range(1, args.rounds + 1):
            time.sleep(args.round_seconds)
            start = time.perf_counter()
            post(url, "control", {"code": code, "key": key, "op": "next"})
            deadline = start + 30
            while (any(r not in s.seen_round for s in students)
                   and time.perf_counter() < deadline):
                time.sleep(0.01)
            advances.append(max(s.seen_round.get(r, float("inf")) for s in students) - start)
        cpu1, wall1 = tree_cpu(server), time.perf_counter()
        if loader:
            loader.join(timeout=120)
        stop.set()
        errors = sorted({e: sum(x == e for s in students for x in s.errors)
                         for s in students for e in s.errors}.items())
    latencies = [x for s in students for x in s.latencies]
    figures.update({
        "decisions": len(latencies),
        "decision_median_s": _q(latencies, 0.5), "decision_p95_s": _q(latencies, 0.95),
        "decision_max_s": max(latencies) if latencies else float("nan"),
        "advance_s": advances, "advance_max_s": max(advances),
        "server_cores": (cpu1 - cpu0) / (wall1 - wall0),
        "errors": errors})
    if busy:
        figures["loads_busy"] = busy
    print(f"{args.students} students, {args.rounds} rounds of {args.round_seconds:g} s, "
          f"a decision every {args.think:g} s per student")
    print(f"decisions: {len(latencies)}; answered in median "
          f"{figures['decision_median_s'] * 1e3:.0f} ms, "
          f"p95 {figures['decision_p95_s'] * 1e3:.0f} ms, max "
          f"{figures['decision_max_s'] * 1e3:.0f} ms (goal p95 <= 200 ms)")
    print("round advanced for the whole class in " + ", ".join(f"{a:.2f}" for a in advances)
          + f" s (goal <= {GOALS['advance_s']:g} s)")
    print(f"server CPU while playing: {figures['server_cores']:.2f} cores; "
          f"client errors: {figures['errors'] or 'none'}")
    for label, key_ in (("quiet", "loads_quiet"), ("with the class playing", "loads_busy")):
        for page, times in figures.get(key_, {}).items():
            print(f"warm load of the {page}'s page, {label}: median "
                  f"{statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
