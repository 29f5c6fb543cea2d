"""The teaching page (``ctsim app``): move the barriers, watch cooperation form and break.

The page is ctsim's own (``frontend/page.vue``), served by Solara: a header that always
shows the lesson, Play / Pause, Step, Reset, the week, the speed, the side-by-side switch,
the projector text switch and the link; the lesson's question, things to notice and things
to try one at a time; the controls with their values, hints and ranges; the narrator; the
trust network(s) and the outcome chart, drawn in the browser from the small data each week
sends (:meth:`ctsim.classroom.Session.frame`).

Each browser tab is one :class:`ctsim.classroom.Session`: its own runs, nothing shared with
another tab. The browser asks for each week when it has drawn the last one, so a slow tab
or a busy server slows the weeks down instead of queueing them. The page's state lives in
the link (``?lesson=...&seed=...&week=...``), so one link gives every student the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import solara

from ctsim import classroom

#: What the page sends as is (plain lists and numbers; no widgets to look for inside).
_PLAIN = {name: (lambda value, widget: value) for name in ("ui", "worlds", "frame")}


@solara.component_vue("frontend/page.vue", vuetify=False, to_json=_PLAIN)
def Stage(ui: dict, worlds: list, frame: dict, event_act: Callable[[dict], None]):
    """The page's whole view: the props are the session's ui, worlds and frame."""


def handle(session: classroom.Session, data: dict[str, Any]) -> bool:
    """Do what the page asked (``data["op"]``); True when more than the week changed
    (the controls, the lesson, the worlds), False for a step or nothing."""
    op = data.get("op")
    try:
        if op == "step":
            session.step()
            return False
        if op == "reset":
            session.reset()
        elif op == "set":
            session.set_value(int(data["side"]), str(data["name"]), data["value"])
        elif op == "seed":
            session.set_seed(int(data["value"]))
        elif op == "lesson":
            session.set_lesson(str(data["name"]))
        elif op == "split":
            session.set_split(bool(data["on"]))
        elif op == "projector":
            session.projector = bool(data["on"])
        elif op == "speed":
            value = int(data["value"])
            if value in classroom.SPEEDS:
                session.speed = value
        else:
            return False
    except (KeyError, TypeError, ValueError, IndexError):
        return False  # a malformed request from a page changes nothing
    return True


@solara.component
def Page():
    """One tab: a session made from the link it was opened with."""
    router = solara.use_router()
    session = solara.use_memo(lambda: classroom.Session.from_query(router.search), [])
    week, set_week = solara.use_state(0)
    revision, set_revision = solara.use_state(0)

    def act(data: dict) -> None:
        if handle(session, data):
            set_revision(lambda r: r + 1)
        set_week(lambda w: w + 1)

    ui = solara.use_memo(session.ui, [revision])
    worlds = solara.use_memo(session.worlds, [revision])
    frame = solara.use_memo(session.frame, [week, revision])
    solara.Title("ctsim: trust barriers in counter-terrorism cooperation")
    Stage(ui=ui, worlds=worlds, frame=frame, event_act=act)
