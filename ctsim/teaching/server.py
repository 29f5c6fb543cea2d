"""The web server of ``ctsim app``: the teaching page and the class mode in one ASGI app.

The teaching page (:mod:`ctsim.teaching.page`) is served by Solara, mounted at ``/``; the
class mode (:mod:`ctsim.teaching.classroom`: a class plays one world, every student a
nation) is plain HTML, CSS and JavaScript from ``frontend/class/`` under ``/class`` and a
small JSON API under ``/class/api/``. Nothing a page loads comes from anywhere but this
server (a school network may have no internet).

The API (every body JSON, every answer JSON unless said):

- ``GET  /class/api/worlds``: the worlds a class may play, the strategies of nations nobody
  plays, round lengths, and whether students can reach this server (its address).
- ``POST /class/api/start`` ``{world, round_weeks, others, seed}``: a new class;
  answers ``{code, key}`` (the teacher's key, kept by the teacher's tab alone).
- ``POST /class/api/join`` ``{code, name}`` or ``{code, token}``: a seat (a new one, or
  the seat of ``token`` again): ``{code, token, name, nation}``.
- ``POST /class/api/student`` ``{code, token, since, wait}``: the student's view, or just
  ``{version}`` when it has not moved on from ``since`` within ``wait`` seconds (a long
  poll: an unchanged view costs a few bytes).
- ``POST /class/api/decide`` ``{code, token, partner, decision}``; ``POST
  /class/api/ready`` ``{code, token, ready}``.
- ``POST /class/api/teacher`` ``{code, key, since, wait}``: the projector's view (as the
  student's); ``POST /class/api/control`` ``{code, key, op, value}``; ``POST
  /class/api/round`` ``{code, key, round}``: one past round's ties, for the replay.
- ``POST /class/api/csv`` and ``/class/api/record`` ``{code, key}``: the decisions as CSV,
  the class as a record to replay (downloads).
- ``POST /class/api/replay`` (a record as the body): a new, finished class replaying it;
  answers ``{code, key}``.
- ``GET  /class/api/link/{code}`` and ``/class/qr/{code}.svg``: the join link and its QR
  code.

Keys and tokens travel in bodies, never in a URL (URLs end up in logs and histories). A
:class:`~ctsim.teaching.classroom.ClassError` is a 4xx answer ``{"error": sentence}``; a
body that is not a JSON object is a 400 with a sentence too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import os
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ctsim.core.strategies import STRATEGIES
from ctsim.teaching import classroom, sessions
from ctsim.teaching.classroom import ClassError, Classroom, Registry, dumps

#: The class mode's pages and assets.
FRONTEND = Path(__file__).parent / "frontend" / "class"
#: The world a new class is offered first.
DEFAULT_WORLD = "class_alliance"
#: Longest a poll waits for a change (seconds); the page asks again at once after.
LONGEST_WAIT = 25.0
#: How often a waiting poll looks at the class's version (seconds).
POLL_TICK = 0.05
#: Largest request body taken (bytes): a record of a class of 60 over 52 weeks fits.
MOST_BODY = 4_000_000
#: Environment variables through which ``ctsim app`` tells the app where it listens.
HOST_VAR, PORT_VAR = "CTSIM_APP_HOST", "CTSIM_APP_PORT"
#: The teaching page Solara serves at ``/``.
SOLARA_PAGE = "ctsim.teaching.page:Page"
LOG = logging.getLogger(__name__)


class BadRequestError(Exception):
    """A request that is not one: said in a sentence, answered 400."""


# ---------------------------------------------------------------- where students reach us


def lan_address() -> str | None:
    """This machine's address on its local network, or None. A UDP socket "connected" to
    a private address picks the interface the route to it leaves from; UDP's connect sends
    no packet."""
    for probe in ("10.255.255.255", "192.168.255.255", "172.31.255.255"):
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((probe, 9))
            address = s.getsockname()[0]
            if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
                return address
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            address = info[4][0]
            if not ipaddress.ip_address(address).is_loopback:
                return address
    return None


def _loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def join_link(code: str, host: str, port: int) -> dict[str, Any]:
    """The link students open to join class ``code`` when the server listens on ``host``
    and ``port``: ``{url, reachable, hint}``. On a loopback host only this machine can
    open it, and the hint says how to start the server for a class; on every interface
    (``0.0.0.0``, ``::``) the link uses this machine's LAN address."""
    reachable, hint = True, ""
    if _loopback(host):
        address, reachable = "127.0.0.1", False
        hint = ("This server listens on 127.0.0.1: only this computer can open the link. "
                "For a class, start it with: ctsim app --host 0.0.0.0")
    elif host in ("0.0.0.0", "::"):
        address = lan_address()
        if address is None:
            address, reachable = "127.0.0.1", False
            hint = "This computer has no network address: students cannot reach it."
    else:
        address = host
    if ":" in address:
        address = f"[{address}]"
    return {"url": f"http://{address}:{port}/class?code={code}", "reachable": reachable,
            "hint": hint}


def qr_svg(text: str) -> str:
    """``text`` as a QR code in SVG (segno), black on white, with a title for readers."""
    import io

    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=8, border=2, dark="#000000",
                                      light="#ffffff", xmldecl=False, svgns=True,
                                      title=f"QR code of {text}", svgclass="qr")
    return out.getvalue().decode()


# ---------------------------------------------------------------- the API


class ClassApi:
    """The class mode's handlers around one :class:`Registry`.

    Args:
        registry: the classes; by default the lessons' worlds and the app's scenario.
        host, port: where the server listens (for the join link); by default
            :data:`HOST_VAR` and :data:`PORT_VAR`, else the request's own address.
    """

    def __init__(self, registry: Registry | None = None, host: str | None = None,
                 port: int | None = None):
        self.registry = registry or Registry(default_worlds(), titles=world_titles())
        self.host = host if host is not None else os.environ.get(HOST_VAR)
        port_text = os.environ.get(PORT_VAR)
        self.port = port if port is not None else (int(port_text) if port_text else None)

    # ------------------------------------------------------------ plumbing

    @staticmethod
    async def body(request: Request) -> dict[str, Any]:
        """The request's JSON object; BadRequestError for anything else."""
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > MOST_BODY):
            raise BadRequestError("the request is too large")
        raw = await request.body()
        if len(raw) > MOST_BODY:
            raise BadRequestError("the request is too large")
        try:
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadRequestError("the request's body is not JSON") from None
        if not isinstance(data, dict):
            raise BadRequestError("the request's body is not a JSON object")
        return data

    def find(self, request: Request, data: dict[str, Any]) -> Classroom:
        """The class the request names, wrong codes counted against the client's address
        (a request with a seat's token or the teacher's key of that class always passes)."""
        client = request.client.host if request.client else ""
        credential = data.get("token") or data.get("key")
        return self.registry.find(data.get("code"), client, credential)

    @staticmethod
    def _wait(data: dict[str, Any]) -> tuple[Any, float]:
        since = data.get("since")
        try:
            wait = min(max(float(data.get("wait", 0) or 0), 0.0), LONGEST_WAIT)
        except (TypeError, ValueError):
            raise BadRequestError("wait is a number of seconds") from None
        return since, wait if wait == wait else 0.0

    @staticmethod
    async def _until_changed(request: Request, room: Classroom, since: Any, wait: float) -> None:
        """Return when the class's version differs from ``since``, ``wait`` seconds have
        passed, or the client has gone."""
        if since != room.version or wait <= 0:
            return
        deadline = time.monotonic() + wait
        checked = time.monotonic()
        while since == room.version and time.monotonic() < deadline:
            await asyncio.sleep(POLL_TICK)
            if time.monotonic() - checked > 1.0:
                checked = time.monotonic()
                if await request.is_disconnected():
                    return

    # ------------------------------------------------------------ handlers

    async def _long_poll(self, request: Request, room: Classroom, data: dict[str, Any],
                         view_of: Callable[[Any], dict[str, Any]], credential: Any) -> Response:
        """A page's view (``view_of(credential)``, which checks the credential), or, when
        the page already has this version (``since``), the view once it changes, or just
        ``{"version": v}`` when nothing changed within the wait."""
        since, wait = self._wait(data)
        view = await run_in_threadpool(view_of, credential)
        if since == view["version"]:
            await self._until_changed(request, room, since, wait)
            if since == room.version:
                return _json({"version": since})
            view = await run_in_threadpool(view_of, credential)
        return _raw(dumps(view))

    async def worlds(self, request: Request) -> Response:
        names = list(self.registry.worlds)
        link = join_link("CODE", *self._where(request))
        return _json({
            "worlds": [{"name": n, "title": self.registry.title(n)} for n in names],
            "default": DEFAULT_WORLD if DEFAULT_WORLD in names else names[0],
            "strategies": [{"name": s.name, "label": s.label} for s in STRATEGIES],
            "others": "reciprocal", "round_weeks": list(classroom.ROUND_WEEKS),
            "default_round_weeks": 4, "reachable": link["reachable"], "hint": link["hint"]})

    async def start(self, request: Request) -> Response:
        data = await self.body(request)
        if not isinstance(data.get("world", DEFAULT_WORLD), str):
            raise BadRequestError("the world is named by its name")
        for name in ("round_weeks", "seed"):
            value = data.get(name)
            if isinstance(value, float) and not math.isfinite(value):
                raise BadRequestError(f"{name} is a whole number")
        room = await run_in_threadpool(
            self.registry.open, data.get("world", DEFAULT_WORLD),
            round_weeks=data.get("round_weeks", 4), others=data.get("others", "reciprocal"),
            seed=data.get("seed", 1))
        return _json({"code": room.code, "key": room.teacher_key})

    async def join(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        token = data.get("token")
        if token is not None and not isinstance(token, str):
            raise BadRequestError("a seat token is text")
        if token and not data.get("name"):
            # rejoining: the token must be this class's
            view = await run_in_threadpool(room.student_view, token)
            return _json({"code": room.code, "token": token, "name": view["me"]["name"],
                          "nation": view["me"]["nation_name"]})
        seat = await run_in_threadpool(room.join, data.get("name"), token)
        return _json({"code": room.code, "token": seat.token, "name": seat.name,
                      "nation": room.model.world.names[seat.nation]})

    async def student(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        return await self._long_poll(request, room, data, room.student_view,
                                     data.get("token"))  # the view checks the token

    async def decide(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        row = await run_in_threadpool(room.decide, data.get("token"), data.get("partner"),
                                      data.get("decision"))
        return _json({"partner": row, "version": room.version})

    async def ready(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        await run_in_threadpool(room.set_ready, data.get("token"), bool(data.get("ready", True)))
        return _json({"ready": bool(data.get("ready", True)), "version": room.version})

    async def teacher(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        return await self._long_poll(request, room, data, room.teacher_view,
                                     data.get("key"))  # the view checks the key

    async def control(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        op = data.get("op")
        if not isinstance(op, str):
            raise BadRequestError("say which control: op")
        await run_in_threadpool(room.control, data.get("key"), op, data.get("value"))
        return _json({"version": room.version, "phase": room.phase, "week": room.week})

    async def round(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)

        return _json(await run_in_threadpool(room.round_view, data.get("key"),
                                             data.get("round")))

    async def csv(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        text = await run_in_threadpool(room.decisions_csv, data.get("key"))
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="class-{room.code}-decisions.csv"',
            "Cache-Control": "no-store"})

    async def record(self, request: Request) -> Response:
        data = await self.body(request)
        room = self.find(request, data)
        record = await run_in_threadpool(room.record, data.get("key"))
        return Response(json.dumps(record, indent=1), media_type="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="class-{room.code}-record.json"',
                                 "Cache-Control": "no-store"})

    async def replay(self, request: Request) -> Response:
        record = await self.body(request)
        wanted = record.get("scenario")
        scenario = next((p for p in self.registry.worlds.values()
                         if isinstance(wanted, str) and p.name == wanted), None)
        if scenario is None:
            raise ClassError("this record is of a world this server does not offer")
        try:
            room = await run_in_threadpool(
                self.registry.adopt,
                lambda code, key: classroom.replay(record, scenario, code, key))
        except OverflowError:  # a number too large to be a seed or a week
            raise ClassError("this file is not a class's record") from None
        return _json({"code": room.code, "key": room.teacher_key})

    async def link(self, request: Request) -> Response:
        code = _code(request.path_params["code"])
        return _json(join_link(code, *self._where(request)))

    async def qr(self, request: Request) -> Response:
        code = _code(request.path_params["code"])
        link = join_link(code, *self._where(request))
        return Response(qr_svg(link["url"]), media_type="image/svg+xml",
                        headers={"Cache-Control": "no-cache"})

    def _where(self, request: Request) -> tuple[str, int]:
        host = self.host if self.host is not None else (request.url.hostname or "127.0.0.1")
        port = self.port if self.port is not None else (request.url.port or 80)
        return host, port

    def routes(self) -> list[Any]:
        """The API's routes (under ``/class/api``) and the QR code's."""
        def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                try:
                    return await handler(request)
                except BadRequestError as exc:
                    return _error(str(exc), 400)
                except ClassError as exc:
                    return _error(str(exc), exc.status)
                except Exception:  # a slip of ours: said in a sentence, logged in full
                    LOG.exception("class API %s", request.url.path)
                    return _error("the server could not do that; try again", 500)
            return endpoint

        posts = {"start": self.start, "join": self.join, "student": self.student,
                 "decide": self.decide, "ready": self.ready, "teacher": self.teacher,
                 "control": self.control, "round": self.round, "csv": self.csv,
                 "record": self.record, "replay": self.replay}
        routes = [Route(f"/class/api/{name}", guarded(h), methods=["POST"])
                  for name, h in posts.items()]
        routes += [Route("/class/api/worlds", guarded(self.worlds), methods=["GET"]),
                   Route("/class/api/link/{code}", guarded(self.link), methods=["GET"]),
                   Route("/class/qr/{code}.svg", guarded(self.qr), methods=["GET"])]
        return routes


def _code(text: str) -> str:
    code = "".join(text.split()).upper()
    if not re.fullmatch(f"[{classroom.CODE_ALPHABET}]{{{classroom.CODE_LENGTH}}}", code):
        raise BadRequestError("that is not a class code")
    return code


def _json(data: Any, status: int = 200) -> Response:
    return _raw(dumps(data), status)


def _raw(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _error(sentence: str, status: int) -> Response:
    return _json({"error": sentence}, status)


def _lessons() -> list[Any]:
    from ctsim.teaching.lessons import LESSONS

    return list(LESSONS)


def world_titles() -> dict[str, str]:
    """What the pages call each world a class may play: a lesson's title, and the app's
    scenario by its file's name."""
    titles = {x.name: x.title for x in _lessons()}
    titles["free"] = f"the app's scenario ({sessions.free_scenario().stem.replace('_', ' ')})"
    return titles


def default_worlds() -> dict[str, Path]:
    """The worlds a class may play: the class world beside the lessons, every lesson's,
    and ``free``, the app's scenario (``ctsim app --scenario``)."""
    worlds: dict[str, Path] = {}
    lessons = _lessons()
    if lessons:
        class_world = lessons[0].path.parent / f"{DEFAULT_WORLD}.yaml"
        if class_world.is_file():
            worlds[DEFAULT_WORLD] = class_world
    for lesson in lessons:
        worlds[lesson.name] = lesson.path
    worlds["free"] = sessions.free_scenario()
    return worlds


# ---------------------------------------------------------------- pages


PAGES = {"/class": "index.html", "/class/play": "play.html", "/class/teach": "teach.html"}


def _page(name: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return FileResponse(FRONTEND / name, media_type="text/html",
                            headers={"Cache-Control": "no-cache"})
    return endpoint


class _Assets(StaticFiles):
    """The class pages' CSS and JavaScript: revalidated, so a warm load is a 304."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def class_routes(api: ClassApi) -> list[Any]:
    """The class mode's pages, assets and API."""
    routes: list[Any] = [Route(path, _page(name), methods=["GET"]) for path, name in PAGES.items()]
    routes.append(Route("/class/", lambda request: RedirectResponse("/class"), methods=["GET"]))
    routes += api.routes()
    routes.append(Mount("/class/static", app=_Assets(directory=FRONTEND), name="class-static"))
    return routes


def _warm_up() -> None:
    """Run a week of a small world once, so the first class's first round does not pay for
    loading the compiled model (a few seconds)."""
    with contextlib.suppress(Exception):
        from ctsim.core.model import CooperationModel

        worlds = default_worlds()
        CooperationModel(worlds.get(DEFAULT_WORLD, next(iter(worlds.values()))), rng=1).run(1)


def make_app(*, page: bool = True, registry: Registry | None = None,
             host: str | None = None, port: int | None = None) -> Starlette:
    """The app ``ctsim app`` serves: the class mode, and with ``page`` the teaching page
    (Solara, :data:`SOLARA_PAGE`) at ``/``. Solara reads its settings from the
    environment (``SOLARA_*``) as ``ctsim app`` sets them."""
    api = ClassApi(registry, host, port)
    routes = class_routes(api)
    solara_app = None
    if page:
        os.environ.setdefault("SOLARA_APP", SOLARA_PAGE)
        import solara.server.starlette as solara_server

        solara_app = solara_server.app
        routes.append(Mount("/", app=solara_app))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=_warm_up, daemon=True).start()
        if solara_app is None:
            yield
        else:
            async with solara_server.lifespan(solara_app):
                yield

    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(GZipMiddleware, minimum_size=1000)])
    app.state.api = api
    return app
