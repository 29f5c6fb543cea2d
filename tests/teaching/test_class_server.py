"""The class mode's web server (ctsim.teaching.server) through Starlette's TestClient: no
browser, no Solara page (``make_app(page=False)``), the class world of the lessons."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from ctsim.teaching import classroom, server


@pytest.fixture(scope="module")
def client():
    app = server.make_app(page=False, host="127.0.0.1", port=8765)
    with TestClient(app) as c:
        yield c


def start(client, **settings):
    answer = client.post("/class/api/start", json={"world": "class_alliance", **settings})
    assert answer.status_code == 200, answer.text
    return answer.json()["code"], answer.json()["key"]


def join(client, code, name):
    answer = client.post("/class/api/join", json={"code": code, "name": name})
    assert answer.status_code == 200, answer.text
    return answer.json()


def control(client, code, key, op, value=None):
    return client.post("/class/api/control", json={"code": code, "key": key, "op": op,
                                                   "value": value})


def student(client, code, token, since=None):
    return client.post("/class/api/student", json={"code": code, "token": token,
                                                   "since": since})


def test_rejoining_with_the_seat_token_keeps_the_nation(client):
    code, _ = start(client)
    first = join(client, code, "Ana")
    join(client, code, "Ben")
    again = client.post("/class/api/join", json={"code": code, "token": first["token"]})
    assert again.status_code == 200
    assert again.json()["nation"] == first["nation"]
    assert again.json()["name"] == "Ana"
    view = student(client, code, first["token"]).json()
    assert view["me"]["nation_name"] == first["nation"]


def test_another_class_token_or_key_cannot_read_or_steer_a_class(client):
    code_a, key_a = start(client)
    code_b, key_b = start(client)
    seat_b = join(client, code_b, "Cleo")
    # B's seat token and teacher key, sent to class A
    assert student(client, code_a, seat_b["token"]).status_code == 403
    assert client.post("/class/api/teacher", json={"code": code_a, "key": key_b}).status_code == 403
    assert control(client, code_a, key_b, "start").status_code == 403
    assert client.post("/class/api/csv", json={"code": code_a, "key": key_b}).status_code == 403
    view = client.post("/class/api/teacher", json={"code": code_a, "key": key_a}).json()
    assert view["phase"] == "lobby"  # B's key started nothing
    assert view["students"] == 0


def test_wrong_codes_are_throttled_after_the_allowed_guesses():
    app = server.make_app(page=False, host="127.0.0.1", port=8765)
    with TestClient(app) as c:
        code, _ = start(c)
        wrong = "".join(ch for ch in classroom.CODE_ALPHABET if ch not in code)[:6]
        for _ in range(classroom.GUESSES):
            answer = c.post("/class/api/join", json={"code": wrong, "name": "Eve"})
            assert answer.status_code == 404
        # now even the right code must wait
        answer = c.post("/class/api/join", json={"code": code, "name": "Eve"})
        assert answer.status_code == 429
        assert "wait" in answer.json()["error"]


def test_a_decision_changes_the_student_view(client):
    code, key = start(client)
    seat = join(client, code, "Dev")
    control(client, code, key, "start")
    before = student(client, code, seat["token"]).json()
    partner = before["partners"][0]
    assert partner["decision"] == "share"
    answer = client.post("/class/api/decide", json={
        "code": code, "token": seat["token"], "partner": partner["id"], "decision": "withhold"})
    assert answer.status_code == 200
    after = student(client, code, seat["token"], since=before["version"]).json()
    assert after["version"] > before["version"]
    assert after["partners"][0]["decision"] == "withhold"


def test_an_unchanged_view_is_just_its_version(client):
    code, _ = start(client)
    seat = join(client, code, "Fay")
    view = student(client, code, seat["token"]).json()
    again = client.post("/class/api/student", json={"code": code, "token": seat["token"],
                                                    "since": view["version"], "wait": 0.2})
    assert again.json() == {"version": view["version"]}


def test_next_round_advances_the_week_by_the_round_length(client):
    code, key = start(client, round_weeks=3)
    seat = join(client, code, "Gus")
    control(client, code, key, "start")
    assert student(client, code, seat["token"]).json()["week"] == 0
    assert control(client, code, key, "next").json()["week"] == 3
    assert student(client, code, seat["token"]).json()["week"] == 3
    assert control(client, code, key, "next").json()["week"] == 6


def test_downloads_need_the_teacher_key(client):
    code, key = start(client)
    seat = join(client, code, "Hal")
    control(client, code, key, "start")
    view = student(client, code, seat["token"]).json()
    client.post("/class/api/decide", json={"code": code, "token": seat["token"],
                                           "partner": view["partners"][0]["id"],
                                           "decision": "withhold"})
    for path in ("csv", "record"):
        assert client.post(f"/class/api/{path}", json={"code": code}).status_code == 403
        assert client.post(f"/class/api/{path}", json={"code": code,
                                                       "key": seat["token"]}).status_code == 403
    csv_text = client.post("/class/api/csv", json={"code": code, "key": key})
    assert csv_text.status_code == 200
    assert csv_text.text.splitlines()[1].split(",")[2:4] == ["Hal", view["me"]["nation_name"]]
    record = client.post("/class/api/record", json={"code": code, "key": key}).json()
    assert record["format"] == "ctsim-class-1"
    assert record["students"] == [["Hal", view["me"]["nation"]]]


def test_an_uploaded_record_replays_as_a_finished_class(client):
    code, key = start(client, round_weeks=13)
    join(client, code, "Ivy")
    control(client, code, key, "start")
    for _ in range(2):
        control(client, code, key, "next")
    record = client.post("/class/api/record", json={"code": code, "key": key}).json()
    answer = client.post("/class/api/replay", content=json.dumps(record))
    assert answer.status_code == 200
    new_code, new_key = answer.json()["code"], answer.json()["key"]
    assert new_code != code
    view = client.post("/class/api/teacher", json={"code": new_code, "key": new_key}).json()
    assert (view["phase"], view["round"], view["week"]) == ("finished", 2, 26)
    first = client.post("/class/api/round", json={"code": new_code, "key": new_key, "round": 1})
    assert first.json()["summary"]["weeks"] == [1, 13]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b"null"])
def test_malformed_bodies_are_a_400_with_a_sentence(client, body):
    for path in ("start", "join", "student", "decide", "control", "replay"):
        answer = client.post(f"/class/api/{path}", content=body,
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"].startswith("the request")


def test_wrong_fields_are_a_4xx_sentence_not_a_traceback(client):
    code, key = start(client)
    seat = join(client, code, "Jo")
    answers = [
        client.post("/class/api/start", json={"world": "nowhere"}),
        client.post("/class/api/start", json={"round_weeks": "many"}),
        client.post("/class/api/join", json={"code": code, "name": "!!!"}),
        client.post("/class/api/decide", json={"code": code, "token": seat["token"],
                                               "partner": "x", "decision": "share"}),
        control(client, code, key, "explode"),
        client.post("/class/api/student", json={"code": code, "token": seat["token"],
                                                "wait": "soon"}),
        client.post("/class/api/replay", json={"format": "nothing"}),
        client.post("/class/api/start", content=b'{"seed": 1e999}'),
        client.post("/class/api/start", json={"world": ["class_alliance"]}),
        client.post("/class/api/join", content=b"[" * 100_000 + b"]" * 100_000),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        assert isinstance(answer.json()["error"], str) and answer.json()["error"]


def test_the_join_link_and_qr_code_name_the_class():
    api = server.ClassApi(classroom.Registry({}), host="127.0.0.1", port=8765)
    app = server.Starlette(routes=api.routes())
    with TestClient(app) as c:
        link = c.get("/class/api/link/ACDEFG").json()
        assert link["url"] == "http://127.0.0.1:8765/class?code=ACDEFG"
        assert not link["reachable"] and "--host 0.0.0.0" in link["hint"]
        svg = c.get("/class/qr/ACDEFG.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert svg.text.lstrip().startswith("<svg") and "<path" in svg.text
        assert c.get("/class/qr/nope!.svg").status_code == 400


def test_every_interface_links_by_the_lan_address(monkeypatch):
    monkeypatch.setattr(server, "lan_address", lambda: "192.168.1.23")
    link = server.join_link("ACDEFG", "0.0.0.0", 9000)
    assert link == {"url": "http://192.168.1.23:9000/class?code=ACDEFG", "reachable": True,
                    "hint": ""}


#: XML namespaces name a vocabulary; nothing is fetched from them.
NAMESPACES = {"http://www.w3.org/2000/svg"}


def test_no_page_or_asset_fetches_anything_from_another_server(client):
    seen = []
    for path in server.PAGES:
        page = client.get(path)
        assert page.status_code == 200
        seen.append((path, page.text))
        for asset in re.findall(r'(?:src|href)="(/class/static/[^"]+)"', page.text):
            answer = client.get(asset)
            assert answer.status_code == 200, asset
            seen.append((asset, answer.text))
    assert any(p.endswith(".css") for p, _ in seen) and any(p.endswith(".js") for p, _ in seen)
    for path, text in seen:
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text, re.I))
        assert not {u for u in urls if u not in NAMESPACES}, (path, urls)
        assert "@import" not in text
