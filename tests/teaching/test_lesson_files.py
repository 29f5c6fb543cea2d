"""The lessons as files: read with one-line errors, written into docs/lessons.md, quoting
only counters the page shows, and read by a page that runs no experiments."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml

from ctsim import resources
from ctsim.errors import ScenarioError
from ctsim.teaching import lessons, sessions
from ctsim.teaching.lessons import (
    LESSON_DIR,
    LESSONS,
    REGIONS,
    SUFFIX,
    plain,
    read_lesson,
    read_lessons,
    update_doc,
)
from tests.conftest import ROOT

DOC = ROOT / "docs" / "lessons.md"
BY_NAME = [pytest.param(item, id=item.name) for item in LESSONS]

#: A quoted label, and a counter cited the way the lessons cite one: one or more quoted
#: labels followed by "counter(s)" (the "leaks" counter; the "a" and "b" counters), or
#: after "counted in".
QUOTED = r'"[^"]+"'
CITATION = re.compile(rf"((?:{QUOTED}(?:,? and |,? or |, )?)+) counters?\b(?!-)")
COUNTED_IN = re.compile(rf"counted in ({QUOTED})")
COUNTER_WORD = re.compile(r"\bcounters?\b(?!-)")


def cited(text: str) -> list[str]:
    """The counter labels ``text`` quotes, in order."""
    text = " ".join(text.split())
    spans = sorted([(m.start(1), m.group(1)) for m in CITATION.finditer(text)]
                   + [(m.start(1), m.group(1)) for m in COUNTED_IN.finditer(text)])
    return [q[1:-1] for _, group in spans for q in re.findall(QUOTED, group)]


def texts(item: lessons.Lesson) -> list[str]:
    """Every text of a lesson, as its file writes it."""
    return [item.question, item.setup, *item.notice_md, *item.try_md, item.shows,
            item.measured, item.discussion, item.real_world, item.limits]


# ---------------------------------------------------------------- counters


def test_the_check_reads_counters_as_the_lessons_quote_them():
    assert cited('Compare the "fragments shared (hubs)" counter at week 156.') == [
        "fragments shared (hubs)"]
    assert cited('The "leaks" counter against the "a", "b" and "c"\n  counters: see') == [
        "leaks", "a", "b", "c"]
    assert cited('What the units post is counted in "fragments posted to hubs", with') == [
        "fragments posted to hubs"]
    assert cited('The "What these settings mean" panel; counter-terrorism') == []
    # the label the lessons quoted before their texts were checked is not on the page
    assert "fragments shared (hubs)" not in sessions.counter_labels()


@pytest.mark.parametrize("item", BY_NAME)
def test_every_counter_a_lesson_quotes_is_one_the_page_shows(item):
    shown = set(sessions.counter_labels())
    quoted = [label for text in texts(item) for label in cited(text)]
    missing = [label for label in quoted if label not in shown]
    assert not missing, (f"{item.text_path.name} quotes counters the page does not show: "
                         f"{missing} (it shows: {', '.join(sorted(shown))})")


@pytest.mark.parametrize("item", BY_NAME)
def test_a_lesson_names_a_counter_only_by_quoting_its_label(item):
    """So that the check above sees every counter a lesson mentions."""
    for text in texts(item):
        flat = " ".join(text.split())
        ends = {m.end() for m in CITATION.finditer(flat)}
        for word in COUNTER_WORD.finditer(flat):
            assert word.end() in ends, (
                f"{item.text_path.name}: a counter not named by its quoted label: "
                f"...{flat[max(0, word.start() - 60):word.end()]}")


@pytest.mark.parametrize("item", BY_NAME)
def test_the_counters_a_lesson_asks_students_to_watch_are_on_its_page(item):
    """What "Things to notice" quotes is on the page at the lesson's own settings (the
    page hides the counter of a mechanism that is off)."""
    session = sessions.Session(sessions.Settings.for_lesson(item.name))
    on_page = {label for label, _ in session.week_frame()["sides"][0]["counts"]}
    watched = {label for text in item.notice_md for label in cited(text)}
    assert watched <= on_page, f"{item.name}: not on its page: {watched - on_page}"


def test_the_docs_name_every_counter_the_page_shows_and_no_other():
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    so_far = re.search(r"- \*\*So far\*\*: (.+?) - \*\*", text)
    assert so_far, "docs/lessons.md has no '- **So far**:' item"
    assert set(cited(so_far.group(1))) == set(sessions.counter_labels())
    assert set(cited(text)) <= set(sessions.counter_labels())


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("module", ["ctsim.teaching.sessions", "ctsim.teaching.lessons"])
def test_the_page_imports_no_experiment_machinery(module):
    """The page (page -> sessions -> lessons) runs one model in memory: neither the runner,
    the sweeps and their store, nor the claim checks or calibration are imported, nor
    matplotlib (positions and colours come from ctsim.analysis.layout)."""
    code = (f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith("
            "('ctsim.runs', 'ctsim.calibration', 'ctsim.teaching.claims', 'matplotlib', "
            "'ctsim.analysis.figures'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("item", BY_NAME)
def test_the_page_shows_the_texts_without_their_markdown(item):
    assert item.notice == tuple(plain(t) for t in item.notice_md)
    assert item.try_ == tuple(plain(t) for t in item.try_md)
    for text in (*item.notice, *item.try_):
        assert not re.search(r"\*\*|`|\]\(", text), text
    assert plain("Set the **leak rate** (`threat.leak_rate`, see [below](#x)).") == (
        "Set the leak rate (threat.leak_rate, see below).")


def test_the_commands_have_help_and_a_one_line_error_for_an_unknown_lesson():
    for module in ("ctsim.teaching.claims", "ctsim.teaching.lessons"):
        run = [sys.executable, "-m", module]
        helped = subprocess.run([*run, "--help"], capture_output=True, text=True, cwd=ROOT)
        assert helped.returncode == 0 and "usage:" in helped.stdout
        bad = subprocess.run([*run, "no_such_lesson"], capture_output=True, text=True,
                             cwd=ROOT)
        assert bad.returncode == 2
        assert bad.stderr.startswith("error: no lesson 'no_such_lesson'")
        assert len(bad.stderr.strip().splitlines()) == 1


def test_a_lesson_is_printed_as_the_page_shows_it(capsys):
    assert lessons.main(["safe_havens"]) == 0
    out = capsys.readouterr().out
    assert out == lessons.lesson_section(lessons.lesson("safe_havens")) + "\n\n---\n"


# ---------------------------------------------------------------- docs/lessons.md


def test_docs_lessons_md_is_written_from_the_lesson_files():
    text = DOC.read_text(encoding="utf-8")
    assert update_doc(text) == text, (
        "docs/lessons.md is out of date: run python -m ctsim.teaching.lessons --write-docs")
    for item in LESSONS:
        assert lessons.lesson_section(item) in text


def test_a_stale_page_is_found_and_rewritten(tmp_path, capsys):
    page = tmp_path / "lessons.md"
    text = DOC.read_text(encoding="utf-8")
    heading = f"## {LESSONS[0].title}\n"
    assert text.count(heading) == 1
    page.write_text(text.replace(heading, f"## {LESSONS[0].title}, edited by hand\n"))
    assert lessons.main(["--check-docs", "--doc", str(page)]) == 1
    assert lessons.main(["--write-docs", "--doc", str(page)]) == 0
    assert page.read_text(encoding="utf-8") == text
    assert lessons.main(["--check-docs", "--doc", str(page)]) == 0
    page.write_text(text.replace(REGIONS[1][2], ""))
    assert lessons.main(["--check-docs", "--doc", str(page)]) == 2
    assert "error:" in capsys.readouterr().err


def test_the_hand_written_parts_of_the_page_are_kept():
    text = DOC.read_text(encoding="utf-8")
    assert update_doc(text.replace("## Before the class", "## Before the lesson")) == (
        text.replace("## Before the class", "## Before the lesson"))


def test_every_test_the_page_cites_exists():
    source = (ROOT / "tests" / "teaching" / "test_lessons.py").read_text(encoding="utf-8")
    cited_tests = set(re.findall(r"tests/teaching/test_lessons\.py::(\w+)",
                                 DOC.read_text(encoding="utf-8")))
    assert cited_tests
    for name in cited_tests:
        assert re.search(rf"^def {name}\(", source, flags=re.M), name


@pytest.mark.parametrize("item", BY_NAME)
def test_every_lesson_has_its_screenshot(item):
    assert (ROOT / "docs" / "images" / f"app_{item.name}.png").is_file()


# ---------------------------------------------------------------- the files


def test_lesson_texts_are_not_listed_as_scenarios():
    assert not [n for n in resources.names() if "lesson." in n]
    assert "lessons/trust_and_leaks" in resources.names()
    out = subprocess.run([sys.executable, "-m", "ctsim.cli", "scenarios"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "lessons/trust_and_leaks" in out.stdout and ".lesson" not in out.stdout


def test_the_lessons_are_in_their_order_not_their_files(tmp_path):
    folder = tmp_path / "lessons"
    shutil.copytree(LESSON_DIR, folder)
    copied = read_lessons(folder)
    assert [x.name for x in copied] == [x.name for x in LESSONS]
    assert [x.order for x in LESSONS] == sorted(x.order for x in LESSONS)
    assert [x.name for x in LESSONS] != sorted(x.name for x in LESSONS)
    assert copied[0].path == folder / "trust_and_leaks.yaml"


@pytest.fixture
def lesson_file(tmp_path):
    """Write a lesson ``demo`` (the first lesson's texts, changed by ``change``) beside an
    empty scenario, and read it."""
    raw = yaml.safe_load(LESSONS[0].text_path.read_text(encoding="utf-8"))

    def write(change=None, name: str = "demo", scenario: bool = True):
        data = yaml.safe_load(yaml.safe_dump(raw))
        if change:
            change(data)
        if scenario:
            (tmp_path / f"{name}.yaml").write_text("name: demo\n")
        path = tmp_path / f"{name}{SUFFIX}"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return read_lesson(path)

    return write


def test_a_lesson_file_is_read_as_written(lesson_file):
    item = lesson_file()
    first = LESSONS[0]
    assert item.name == "demo" and item.scenario == "demo.yaml"
    assert (item.title, item.question, item.claims) == (first.title, first.question,
                                                        first.claims)
    assert item.try_md == first.try_md and item.in_short == first.in_short


def _rename(old, new):
    def change(data):
        data[new] = data.pop(old)
    return change


def _set(path, value):
    def change(data):
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return change


@pytest.mark.parametrize(("change", "key", "message"), [
    (_rename("question", "questoin"), "questoin",
     "unknown key 'questoin'; did you mean 'question'?"),
    (_rename("limits", "limit"), "limit", "unknown key 'limit'; did you mean 'limits'?"),
    (lambda d: d.pop("measured"), "measured", "required"),
    (_set(["question"], "Why do allies keep secrets."), "question",
     "must be one question, ending with '?'"),
    (_set(["notice"], []), "notice", "at least 1 item"),
    (_set(["claims", 0, "metric"], "disruption"), "claims.0.metric",
     "no metric 'disruption'"),
    (_set(["claims", 0, "key"], "leaks"), "claims.0.key", "'leaks' is neither an app "
     "control"),
    (_set(["claims", 0, "direction"], "up"), "claims.0.direction", "'higher' or 'lower'"),
    (_set(["claims", 0, "a"], "0.0"), None, None),  # a text value is a value (a regime)
    (_set(["claims", 0, "replications"], 3), "claims.0.replications", "10"),
    (_set(["claims", 1, "extra"], {"leak": 0.1}), "claims.1.extra", "'leak'"),
    (_set(["order"], "first"), "order", "integer"),
])
def test_a_mistake_in_a_lesson_file_is_one_line_naming_its_key(lesson_file, change, key,
                                                               message):
    if key is None:
        assert lesson_file(change).claim.a == "0.0"
        return
    with pytest.raises(ScenarioError) as err:
        lesson_file(change)
    assert err.value.key == key and message in err.value.message
    assert err.value.source.endswith(f"demo{SUFFIX}")
    assert (err.value.line is None) == (message == "required")  # the line of a key written
    assert "\n" not in str(err.value)


def test_a_lesson_file_needs_its_scenario_beside_it(lesson_file):
    with pytest.raises(ScenarioError, match=r"no scenario demo\.yaml beside it"):
        lesson_file(scenario=False)


def test_a_scenario_is_not_read_as_a_lesson(tmp_path):
    path = tmp_path / f"demo{SUFFIX}"
    (tmp_path / "demo.yaml").write_text("name: demo\n")
    path.write_text("cooperation:\n  regime: none\nlegal:\n  harmonization: 0.5\n")
    with pytest.raises(ScenarioError, match="not a lesson file"):
        read_lesson(path)
    shutil.copyfile(LESSONS[0].path, path)  # a lesson's own scenario, in the wrong file
    with pytest.raises(ScenarioError) as err:
        read_lesson(path)
    assert err.value.source == str(path) and "\n" not in str(err.value)


def test_two_lessons_cannot_share_a_place(tmp_path):
    for name in ("one", "two"):
        shutil.copyfile(LESSONS[0].text_path, tmp_path / f"{name}{SUFFIX}")
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\n")
    with pytest.raises(ScenarioError, match=f"order: 1 is also the order of one{SUFFIX}"):
        read_lessons(tmp_path)


def test_a_wrapped_paragraph_starts_no_line_that_markdown_would_read_as_a_block():
    import textwrap

    for token in ("+", "-", "*", ">", "#", "1.", "2)"):
        text = "word " * 18 + f"{token} 2.0 more words"  # the token falls at a line's start
        assert textwrap.wrap(text, lessons.WIDTH)[1].startswith(f"{token} ")
        lines = lessons._wrap(text).splitlines()
        assert not [line for line in lines if line.startswith(f"{token} ")], token
        assert " ".join(lessons._wrap(text).split()) == " ".join(text.split())
    assert lessons._wrap("word " * 18 + "0.04 more").splitlines()[1].startswith("0.04")
