"""The guided lessons: valid scenarios, complete texts, and claims that hold in the model.

Every comparison a lesson states (``Lesson.claims``) is run here as docs/lessons.md says:
the lesson's scenario at ``claim.a`` and at ``claim.b`` (with ``claim.extra`` in both), on
the same seeds ``replication_seeds(claim.seed, claim.replications)``, and the Student-t 95%
interval of the paired differences ``b - a`` must lie wholly on the claimed side of zero,
and the means, differences and intervals the lesson quotes (its ``measured`` tables, as
``python -m ctsim.teaching.claims`` prints them) must be what these runs give. Runs shared
by several claims of a lesson are made once (one test per lesson, so that pytest-xdist
keeps them in one worker).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from ctsim.analysis.stats import mean_ci, paired_difference
from ctsim.core.metrics import METRICS
from ctsim.core.outputs import bounds_of
from ctsim.core.scenario import load_scenario
from ctsim.runs.runner import run_one
from ctsim.runs.seeds import replication_seeds
from ctsim.teaching import sessions
from ctsim.teaching.claims import Measurement
from ctsim.teaching.lessons import CONTROLS, LESSON_DIR, LESSONS, SUFFIX, Claim, Lesson, lesson
from tests.conftest import ROOT

DOC = ROOT / "docs" / "lessons.md"
HEADINGS = (
    "The question",
    "The scenario",
    "Things to notice",
    "Things to try",
    "What the model shows",
    "In the real world",
    "Limits",
)
TOPICS = {
    "trust_and_leaks",
    "sovereignty_dilemma",
    "legal_friction",
    "safe_havens",
    "hubs_versus_treaties",
    "surge_after_attack",
    "follow_the_money",
    "cooperation_grows",
    # issue 25: why allies keep secrets, in three steps
    "secrets_two_partners",
    "secrets_noise",
    "secrets_spread",
}

BY_NAME = [pytest.param(item, id=item.name) for item in LESSONS]
#: A number as the measured tables write it (with a minus sign, U+2212, for negatives).
NUMBER = r"[+\u2212-]?\d+(?:\.\d+)?"
#: A quoted difference with its interval: ``+0.094 (+0.079 to +0.110)``.
DIFFERENCE = re.compile(rf"(?P<diff>{NUMBER}) \((?P<low>{NUMBER}) to (?P<high>{NUMBER})\)")


@cache
def run_metrics(name: str, overrides: tuple[tuple[str, Any], ...], seed: int) -> dict:
    """One run's metrics of lesson ``name``'s scenario with ``overrides`` (cached)."""
    scenario = load_scenario(lesson(name).path, dict(overrides))
    return run_one(scenario, seed, timeseries=False).metrics


def side(item: Lesson, claim: Claim, value: Any) -> list[float]:
    """The claim's metric at ``value``, one entry per replication seed."""
    overrides = tuple(sorted(claim.overrides(value).items()))
    return [
        run_metrics(item.name, overrides, s)[claim.metric]
        for s in replication_seeds(claim.seed, claim.replications)
    ]


def spelled(value: Any) -> str:
    """A claim value as the lesson texts write it (YAML spelling for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def quoted_rows(measured: str) -> list[tuple[list[str], list[str]]]:
    """The rows of a lesson's measured tables that quote a difference, in order: the two
    numbers before it (the means at ``a`` and at ``b``) and the difference, low, high."""
    rows = []
    for line in measured.splitlines():
        found = DIFFERENCE.search(line)
        if found:
            means = re.findall(NUMBER, line[: found.start()])[-2:]
            rows.append((means, [found["diff"], found["low"], found["high"]]))
    return rows


def as_quoted(value: float, like: str) -> str:
    """``value`` written as the quoted number ``like`` is: as many decimals, a sign when it
    has one, and the minus sign it uses."""
    decimals = len(like.partition(".")[2])
    text = f"{value:+.{decimals}f}" if like[0] in "+-\u2212" else f"{value:.{decimals}f}"
    return text.replace("-", "\u2212") if "\u2212" in like else text


def doc_sections() -> dict[str, str]:
    """docs/lessons.md split at its level-2 headings: heading text -> section text."""
    parts = re.split(r"^## +(.+?)\s*$", DOC.read_text(encoding="utf-8"), flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_the_issue_s_topics_each_have_a_lesson():
    names = [x.name for x in LESSONS]
    assert len(names) == len(set(names))
    assert set(names) >= TOPICS
    files = {p.name for p in LESSON_DIR.glob("*.yaml")}
    assert files == {x.scenario for x in LESSONS}, "a lesson file without a lesson, or back"
    texts = {p.name.removesuffix(SUFFIX) for p in LESSON_DIR.glob(f"*{SUFFIX}")}
    assert texts == set(names), "a lesson's texts without a scenario, or back"


@pytest.mark.parametrize("item", BY_NAME)
def test_scenario_validates_and_is_small_enough_to_watch(item):
    """At most 260 weeks and 30 countries, so that a class can watch every country; as
    few as two (the first lesson on why allies keep secrets is a game between two)."""
    scenario = load_scenario(item.path)
    assert item.path.stem == item.name == scenario.name
    assert scenario.description.strip()
    assert scenario.steps <= 260
    nations = scenario.world.nations
    assert 2 <= (len(nations) if isinstance(nations, list) else nations) <= 30


@pytest.mark.parametrize("item", BY_NAME)
def test_texts_are_complete(item):
    assert item.title and item.real_world and item.limits and item.shows
    assert item.question.endswith("?") and item.question.count("?") == 1
    assert item.notice and item.try_
    controls = [c.replace("_", " ") for c in CONTROLS] + ["AI detection",
                                                          *sessions.PAGE_CONTROLS]
    for text in item.try_:
        assert any(c in text for c in controls), f"try names no app control: {text!r}"
    for claim in item.claims:
        assert claim.metric in METRICS
        assert claim.direction in ("higher", "lower")
        assert claim.replications >= 10
        for value in (claim.a, claim.b):  # the settings exist and are valid
            load_scenario(item.path, claim.overrides(value))


@pytest.mark.parametrize("item", BY_NAME)
def test_shows_states_the_compared_values(item):
    for claim in item.claims:
        for value in (claim.a, claim.b, *claim.extra.values()):
            assert spelled(value) in item.shows, f"{item.name}: {spelled(value)} not in shows"
    if any(c.metric != "disruption_rate" for c in item.claims):
        names = {c.metric for c in item.claims} - {"disruption_rate"}
        assert all(m in item.shows for m in names)


@pytest.mark.parametrize("item", BY_NAME)
def test_docs_have_a_section_with_the_question(item):
    sections = doc_sections()
    assert item.title in sections, f"docs/lessons.md has no section '## {item.title}'"
    text = " ".join(sections[item.title].split())
    assert " ".join(item.question.split()) in text
    assert f"scenarios/lessons/{item.scenario}" in text
    for heading in HEADINGS:
        assert re.search(rf"^### +{heading}", sections[item.title], flags=re.M), heading


def test_docs_close_with_extending_the_lessons():
    assert list(doc_sections())[-1] == "Extending the lessons"


@pytest.mark.parametrize("item", BY_NAME)
def test_claims_hold_by_more_than_the_95_percent_interval(item):
    """Each of the lesson's claims, in order, and the numbers its measured tables quote (one
    row per claim); one test per lesson so that runs are shared."""
    rows = quoted_rows(item.measured)
    assert len(rows) == len(item.claims), f"{item.name}: one measured row per claim"
    failed = []
    for k, (claim, (means, quoted)) in enumerate(zip(item.claims, rows, strict=True)):
        at_a, at_b = side(item, claim, claim.a), side(item, claim, claim.b)
        mean, low, high = mean_ci([y - x for x, y in zip(at_a, at_b, strict=True)])
        holds = low > 0 if claim.direction == "higher" else high < 0
        if not holds:
            failed.append(
                f"claim {k}: {claim.metric} at {claim.key}={claim.b} minus at {claim.a} "
                f"({claim.extra or 'no condition'}) = {mean:.4f} [{low:.4f}, {high:.4f}], "
                f"stated {claim.direction}"
            )
        # as python -m ctsim.teaching.claims computes them (the interval within the bounds)
        measured = [mean_ci(at_a)[0], mean_ci(at_b)[0],
                    *paired_difference(at_a, at_b, bounds=bounds_of(claim.metric))]
        written = [*means, *quoted]
        if [as_quoted(v, w) for v, w in zip(measured, written, strict=True)] != written:
            failed.append(f"claim {k}: the measured row quotes {written}, the runs give "
                          f"{[round(v, 4) for v in measured]} (python -m ctsim.teaching.claims "
                          f"{item.name})")
    assert not failed, f"{item.name}: " + "; ".join(failed)


def test_the_surge_needs_open_channels():
    """The surge lesson's second try: with regime none the surge changes nothing at all."""
    item = lesson("surge_after_attack")
    for seed in replication_seeds(7, 2):
        runs = [
            load_scenario(item.path, {"cooperation.regime": "none", "threat.surge": s})
            for s in (0.0, 0.6)
        ]
        off, on = (run_one(sc, seed, timeseries=False).metrics for sc in runs)
        assert off["attacks"] > 0
        assert off == pytest.approx(on, nan_ok=True)


def test_agreeing_counts_the_seeds_whose_own_difference_has_the_claimed_sign():
    lower = Claim(key="leak_rate", a=0.0, b=0.3, direction="lower")
    # differences b - a: -0.1, +0.2, -0.3, 0.0 (a tie agrees with neither side)
    m = Measurement(lower, (0.5, 0.4, 0.6, 0.2), (0.4, 0.6, 0.3, 0.2))
    assert m.agreeing() == 2
    higher = Measurement(Claim(key="leak_rate", a=0.0, b=0.3, direction="higher"),
                         m.values_a, m.values_b)
    assert higher.agreeing() == 1
