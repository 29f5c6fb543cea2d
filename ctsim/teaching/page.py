"""The teaching page (``ctsim app``): move the barriers, watch cooperation form and break.

The page is ctsim's own (``frontend/page.vue``), served by Solara: a header that always
shows the lesson, Play / Pause, Step, Reset, the week, the speed, the side-by-side switch,
the projector text switch and the link; the lesson's question, things to notice and things
to try one at a time; the sharing strategies (a picker per nation in small worlds, the
strategies' shares in large ones) and, in small worlds, a nation played by hand; the
controls with their values, hints and ranges; the narrator; the trust network(s), the
outcome chart and the chart of nations by strategy, drawn in the browser from the small
data each week sends (:meth:`ctsim.teaching.sessions.Session.frame`).

Each browser tab is one :class:`ctsim.teaching.sessions.Session`: its own runs, nothing shared with
another tab. The browser asks for each week when it has drawn the last one, so a slow tab
or a busy server slows the weeks down instead of queueing them. The page's state lives in
the link (``?lesson=...&seed=...&week=...``), so one link gives every student the same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import solara

from ctsim.teaching import sessions


@solara.component_vue("frontend/page.vue", vuetify=False)
def Stage(ui_json: str, worlds_json: str, frame_json: str, event_act: Callable[[dict], None]):
    """The page's whole view. Its data come as JSON text (the session's ui, worlds and
    frame), which the page parses: text is what the websocket carries anyway, and Solara
    then neither walks nor compares the nested data on every week."""


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def handle(session: sessions.Session, data: dict[str, Any]) -> dict[str, Any] | bool:
    """Do what the page asked (``data["op"]``). A step (``weeks``: how many, the page asks
    for about a second of play) returns its frame; a change of settings, the lesson, the
    page, a strategy or a decision returns True (the page is drawn again); nothing done
    returns False. Changes that replay the runs replay them to ``data["week"]``, the week
    the page shows, and strategies and decisions are made at that week.

    The request comes from a browser, so anything may arrive: a message that is not an
    object, a missing or wrong field, a number too large to be a week (``1e999``) changes
    nothing and returns False; it never raises."""
    if not isinstance(data, dict):
        return False
    op = data.get("op")
    try:
        week = int(data["week"]) if "week" in data else None
        if op == "step":
            return session.advance(int(data.get("weeks", 1)))
        if op == "reset":
            session.reset()
        elif op == "set":
            session.set_value(int(data["side"]), str(data["name"]), data["value"], week)
        elif op == "seed":
            session.set_seed(int(data["value"]), week)
        elif op == "lesson":
            session.set_lesson(str(data["name"]))
        elif op == "split":
            session.set_split(bool(data["on"]), week)
        elif op == "projector":
            session.projector = bool(data["on"])
        elif op == "speed":
            value = int(data["value"])
            if value not in sessions.SPEEDS:
                return False
            session.speed = value
        elif op == "shares":
            shares = data["shares"]
            if not isinstance(shares, dict):
                return False
            return session.set_shares(int(data["side"]), shares, week)
        elif op in ("strategy", "decide", "take", "handover"):
            return _decide(session, op, data, week)
        else:
            return False
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):
        return False  # a malformed request from a page changes nothing
    return True


def _decide(session: sessions.Session, op: str, data: dict[str, Any],
            week: int | None) -> bool:
    """A strategy set for a nation, a decision toward a partner, a nation taken or handed
    back (MODEL.md C3, C6), made at ``week``, the week the page shows (the runs are
    replayed to it first when the server has run ahead)."""
    side = int(data["side"])
    if week is not None and week != session.week:
        session.goto(week)
    if op == "take":
        return session.take(side, int(data["nation"]))
    if op == "strategy":
        return session.set_strategy(side, int(data["nation"]), str(data["value"]))
    if op == "decide":
        return session.decide(side, int(data["nation"]), int(data["partner"]),
                              str(data["value"]))
    return session.hand_over(side, str(data["value"]))


@solara.component
def Page():
    """One tab: a session made from the link it was opened with.

    Weeks (the page's most frequent request by far) are sent straight to the page's
    widget, a second of play at a time; only a change of settings re-renders the page.
    """
    router = solara.use_router()
    session = solara.use_memo(lambda: sessions.Session.from_query(router.search), [])
    revision, set_revision = solara.use_state(0)
    widget = solara.use_ref(None)

    def act(data: dict) -> None:
        done = handle(session, data)
        if isinstance(done, dict):
            if widget.current is not None:
                widget.current.frame_json = _json(done)
        elif done:
            set_revision(lambda r: r + 1)

    ui = solara.use_memo(lambda: _json(session.ui()), [revision])
    worlds = solara.use_memo(lambda: _json(session.worlds()), [revision])
    frame = _json(session.frame())
    solara.Title("ctsim: trust barriers in counter-terrorism cooperation")
    stage = Stage(ui_json=ui, worlds_json=worlds, frame_json=frame, event_act=act)

    def keep_widget():
        widget.current = solara.get_widget(stage)

    solara.use_effect(keep_widget)
