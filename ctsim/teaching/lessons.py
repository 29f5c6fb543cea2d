"""Guided lessons: a question, a scenario, what to notice and try, and checked claims.

Each lesson is two files side by side in the lessons' folder (``scenarios/lessons/``,
:func:`ctsim.resources.lesson_dir`): its scenario ``NAME.yaml`` and its texts
``NAME.lesson.yml``, which a teacher edits without touching Python (the ``.yml`` keeps the
texts out of every listing of scenarios, which reads ``*.yaml``). The texts follow the Info
tab of NetLogo's library models (TEACHING.md), with one addition: ``claims`` state what
students will see as comparisons that tests/teaching/test_lessons.py runs against the model
(:mod:`ctsim.teaching.claims` measures them).

This module reads the lesson files for the teaching page (:data:`LESSONS`, :func:`lesson`)
and imports nothing that runs experiments. It also writes docs/lessons.md's lesson sections
and its table of lessons from the files: ``python -m ctsim.teaching.lessons --write-docs``
(``--check-docs`` only checks; the page's other parts are written by hand), and prints a
lesson as the page will show it: ``python -m ctsim.teaching.lessons NAME``.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
)

from ctsim import resources
from ctsim.core import registry
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX
from ctsim.core.outputs import METRICS
from ctsim.core.registry import refresh_generated
from ctsim.errors import ScenarioError
from ctsim.files import first_error, read_file

#: The app's controls and the scenario keys they set (docs/lessons.md names them so), in
#: the app's order; each is declared on its field of the schema (ctsim.core.registry).
CONTROLS: dict[str, str] = registry.control_keys()

LESSON_DIR = resources.lesson_dir()
#: The end of a lesson file's name: ``NAME.lesson.yml`` holds the texts of lesson NAME.
SUFFIX = ".lesson.yml"


@dataclass(frozen=True)
class Claim:
    """What the lesson says students will see: ``metric`` at ``b`` against ``a``.

    The setting ``key`` (an app control name from :data:`CONTROLS`, or any dotted scenario
    key) takes value ``a`` and then ``b`` on the lesson's scenario; ``direction`` says
    whether the metric is ``higher`` or ``lower`` at ``b``, by more than the 95% interval
    of the paired difference over ``replications`` runs (seeds from ``seed``).

    ``extra`` holds further settings (control names or dotted keys) given the same value in
    both runs, for a claim that holds under a stated condition (the hub against treaties
    with the leak rate at 0.5).
    """

    key: str
    a: Any
    b: Any
    metric: str = "disruption_rate"
    direction: Literal["higher", "lower"] = "lower"
    replications: int = 12
    seed: int = 2024
    extra: dict[str, Any] = field(default_factory=dict)

    def scenario_key(self) -> str:
        """The dotted scenario key the claim moves."""
        return CONTROLS.get(self.key, self.key)

    def overrides(self, value: Any) -> dict[str, Any]:
        """The dotted overrides of one side of the comparison: ``extra`` and ``key=value``."""
        fixed = {CONTROLS.get(k, k): v for k, v in self.extra.items()}
        return {**fixed, self.scenario_key(): value}


@dataclass(frozen=True)
class Lesson:
    """One lesson: see TEACHING.md for what each part is for.

    ``claim`` is the lesson's main checked comparison; ``also`` holds further ones that
    ``shows`` states as well (the second half of a crossover, a second outcome of the same
    change). :attr:`claims` lists them all; tests/teaching/test_lessons.py checks every one.

    ``notice`` and ``try_`` are the plain texts the page shows; ``notice_md`` and
    ``try_md`` are the same as written, with their Markdown (``**leak rate**``), for
    docs/lessons.md. ``setup``, ``measured``, ``discussion`` and ``in_short`` appear only
    there: the scenario in words, the measured tables (as ``python -m
    ctsim.teaching.claims`` prints the numbers), what they mean, and the row of the table
    of lessons (the question in short, what students move, what they should see).
    ``folder`` holds the lesson's two files.
    """

    name: str
    title: str
    question: str
    scenario: str  # file name in scenarios/lessons/
    notice: tuple[str, ...]
    try_: tuple[str, ...]
    shows: str
    real_world: str
    limits: str
    claim: Claim
    also: tuple[Claim, ...] = ()
    order: int = 0
    setup: str = ""
    measured: str = ""
    discussion: str = ""
    in_short: tuple[str, str, str] = ("", "", "")
    notice_md: tuple[str, ...] = ()
    try_md: tuple[str, ...] = ()
    folder: Path = LESSON_DIR

    @property
    def path(self) -> Path:
        """The lesson's scenario file."""
        return self.folder / self.scenario

    @property
    def text_path(self) -> Path:
        """The lesson's texts: ``NAME.lesson.yml`` beside the scenario."""
        return self.folder / f"{self.name}{SUFFIX}"

    @property
    def claims(self) -> tuple[Claim, ...]:
        """The main claim and the further ones, in that order."""
        return (self.claim, *self.also)


# ---------------------------------------------------------------- the lesson files

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: A mapping a claim's side may set a key to, such as the shares of ``world.strategies``
#: (``{always: 1}``: every nation always shares): names to numbers.
Mapping = dict[StrictStr, StrictInt | StrictFloat]
Value = StrictBool | StrictInt | StrictFloat | StrictStr | Mapping


class Shares(dict):
    """A claim's mapping value (:data:`Mapping`) as a :class:`Claim` holds it: a dict that
    cannot change, hashes (the tests cache runs by their settings) and prints as the lesson
    file writes it, ``{always: 1, never: 1}``, so that ``shows`` can quote it."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))

    def __str__(self) -> str:
        return "{" + ", ".join(f"{k}: {v}" for k, v in self.items()) + "}"

    def __deepcopy__(self, memo: dict) -> Shares:
        return self  # it cannot change

    def __reduce__(self) -> tuple:
        return Shares, (dict(self),)

    def _frozen(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("a claim's value cannot change")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _frozen
    __ior__ = _frozen  # type: ignore[assignment]


def claim_value(value: Any) -> Any:
    """A side's value as a :class:`Claim` holds it: a mapping as :class:`Shares`."""
    return Shares(value) if isinstance(value, dict) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _setting_name(key: str) -> str:
    """A claim's setting: an app control's name or a dotted scenario key."""
    if key not in CONTROLS and "." not in key:
        raise ValueError(f"'{key}' is neither an app control ({', '.join(CONTROLS)}) nor a "
                         "dotted scenario key")
    return key


class ClaimSpec(_Strict):
    """One claim as a lesson file writes it (the fields of :class:`Claim`)."""

    key: Text = Field(description="an app control's name or a dotted scenario key")
    a: Value = Field(description="the value of the first side")
    b: Value = Field(description="the value of the second side")
    metric: Text = Field("disruption_rate", description="a run metric (ctsim.core.outputs)")
    direction: Literal["higher", "lower"] = Field(
        "lower", description="the metric at b against its value at a")
    replications: int = Field(12, ge=10, le=REPLICATIONS_MAX,
                              description="paired runs per side (at least 10)")
    seed: int = Field(2024, ge=0, le=SEED_MAX, description="the first seed of the runs")
    extra: dict[str, Value] = Field(default_factory=dict,
                                    description="settings both sides share")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _setting_name(value)

    @field_validator("extra")
    @classmethod
    def _extra(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            _setting_name(key)
        return value

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"no metric '{value}' (see ctsim.core.outputs.METRICS)")
        return value


class InShort(_Strict):
    """The lesson's row in docs/lessons.md's table of lessons."""

    question: Text
    move: Text
    see: Text


class _LessonText(_Strict):
    order: int = Field(ge=1, description="the lesson's place in the picker and the docs")
    title: Text
    in_short: InShort
    question: Text = Field(description="one question, ending with '?'")
    setup: Text = Field(description="the scenario in words (docs only)")
    notice: list[Text] = Field(min_length=1, description="what to watch on the page")
    shows: Text = Field(description="the claims in words")
    claims: list[ClaimSpec] = Field(min_length=1)
    measured: Text = Field(description="the measured tables (docs only)")
    discussion: str = Field("", description="what the numbers mean (docs only)")
    real_world: Text
    limits: Text

    @field_validator("question")
    @classmethod
    def _one_question(cls, value: str) -> str:
        if not value.endswith("?") or value.count("?") != 1:
            raise ValueError("must be one question, ending with '?'")
        return value


#: A lesson file's schema: :class:`_LessonText` and ``try`` (a keyword of Python, hence
#: made here rather than written as a class).
LessonFile = create_model(
    "LessonFile", __base__=_LessonText, __doc__="A lesson file (``NAME.lesson.yml``).",
    **{"try": (list[Text], Field(min_length=1, description="controls to move, one by one"))})


def plain(text: str) -> str:
    """A lesson text as the page shows it: without Markdown's ``**``, backticks and links."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    return text.replace("**", "").replace("`", "")


def _claim(spec: ClaimSpec) -> Claim:
    return Claim(spec.key, claim_value(spec.a), claim_value(spec.b), spec.metric,
                 spec.direction, spec.replications, spec.seed,
                 {k: claim_value(v) for k, v in spec.extra.items()})


def read_lesson(path: Path) -> Lesson:
    """The lesson whose texts are in ``path`` (``NAME.lesson.yml``, beside ``NAME.yaml``).

    Raises:
        ScenarioError: one line naming the file, the key and its line: not a lesson file,
            an unknown or missing key, a value of the wrong kind, or no scenario beside it.
    """
    data, origins = read_file(path, LessonFile.model_fields, "lesson")
    try:
        spec = LessonFile.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, origins, LessonFile) from None
    name = path.name.removesuffix(SUFFIX)
    if not (path.parent / f"{name}.yaml").is_file():
        raise ScenarioError(str(path), "", f"no scenario {name}.yaml beside it")
    notice, tries = tuple(spec.notice), tuple(getattr(spec, "try"))
    first, *more = (_claim(c) for c in spec.claims)
    return Lesson(
        name=name, title=spec.title, question=spec.question, scenario=f"{name}.yaml",
        notice=tuple(plain(t) for t in notice), try_=tuple(plain(t) for t in tries),
        shows=spec.shows, real_world=spec.real_world, limits=spec.limits, claim=first,
        also=tuple(more), order=spec.order, setup=spec.setup, measured=spec.measured,
        discussion=spec.discussion.strip(),
        in_short=(spec.in_short.question, spec.in_short.move, spec.in_short.see),
        notice_md=notice, try_md=tries, folder=path.parent)


def read_lessons(folder: Path = LESSON_DIR) -> tuple[Lesson, ...]:
    """Every lesson of ``folder`` (its ``*.lesson.yml`` files), in their ``order``.

    Raises:
        ScenarioError: a lesson file is wrong (:func:`read_lesson`), or two share an order.
    """
    lessons = [read_lesson(p) for p in sorted(folder.glob(f"*{SUFFIX}"))]
    seen: dict[int, Lesson] = {}
    for item in lessons:
        if item.order in seen:
            raise ScenarioError(str(item.text_path), "order", f"{item.order} is also the "
                                f"order of {seen[item.order].text_path.name}")
        seen[item.order] = item
    return tuple(sorted(lessons, key=lambda x: x.order))


LESSONS: tuple[Lesson, ...] = read_lessons()


def lesson(name: str) -> Lesson:
    """The lesson called ``name``."""
    for item in LESSONS:
        if item.name == name:
            return item
    raise KeyError(f"no lesson '{name}' (there are: {', '.join(x.name for x in LESSONS)})")


# ---------------------------------------------------------------- docs/lessons.md

DOC = Path(__file__).resolve().parents[2] / "docs" / "lessons.md"
#: The width docs/lessons.md's paragraphs are wrapped to.
WIDTH = 90
_MADE = "generated by python -m ctsim.teaching.lessons --write-docs; do not edit"
#: The two generated regions of docs/lessons.md: (name, first line, last line).
REGIONS = (
    ("table", f"<!-- table of lessons: {_MADE} -->", "<!-- end of the table of lessons -->"),
    ("lessons", f"<!-- lessons: {_MADE} -->", "<!-- end of the lessons -->"),
)
#: A word that would open a list, a heading, a quote or a table at the start of a line.
_OPENS_BLOCK = re.compile(r"^(?:[-+*=]+|#{1,6}|\d{1,9}[.)])$|^[>|]")
_GLUE = "\x00"


def _wrap(text: str, indent: str = "", first: str = "") -> str:
    """One paragraph wrapped to :data:`WIDTH`, no line starting with a word that Markdown
    would read as the start of a list, a heading or a quote (such a word stays on the line
    before)."""
    words = text.split()
    glued: list[str] = []
    for word in words:
        if glued and _OPENS_BLOCK.match(word):
            glued[-1] += _GLUE + word
        else:
            glued.append(word)
    lines = textwrap.wrap(" ".join(glued), WIDTH, initial_indent=first or indent,
                          subsequent_indent=indent, break_long_words=False,
                          break_on_hyphens=False)
    return "\n".join(line.replace(_GLUE, " ") for line in lines)


def _paragraphs(text: str) -> str:
    """A folded text's paragraphs (one per line), wrapped and separated by blank lines."""
    return "\n\n".join(_wrap(p) for p in text.split("\n") if p.strip())


def _bullets(items: tuple[str, ...]) -> str:
    return "\n".join(_wrap(" ".join(x.split()), "  ", "- ") for x in items)


def anchor(title: str) -> str:
    """The link anchor of a heading, as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def lessons_table(lessons: tuple[Lesson, ...] = LESSONS) -> str:
    """docs/lessons.md's table of lessons: one row each, linking to its section."""
    rows = ["| lesson | question in short | what students move | what they should see |",
            "| --- | --- | --- | --- |"]
    rows += [f"| [{x.title}](#{anchor(x.title)}) | {' | '.join(x.in_short)} |"
             for x in lessons]
    return "\n".join(rows)


#: The week the lessons' screenshots show (scripts/screenshots.py): a year and a week in.
SHOT_WEEK = 53


def shot_week(item: Lesson) -> int:
    """The week a lesson's screenshot shows: :data:`SHOT_WEEK`, or its scenario's last
    week when it ends before."""
    from ctsim.core.scenario import load_scenario

    return min(SHOT_WEEK, int(load_scenario(item.path).steps))


def lesson_section(item: Lesson) -> str:
    """One lesson as docs/lessons.md shows it, under the seven headings of TEACHING.md."""
    checked = ("Checked by\n`tests/teaching/test_lessons.py::"
               f"test_claims_hold_by_more_than_the_95_percent_interval[{item.name}]`.")
    parts = [
        f"## {item.title}",
        "### The question", _wrap(item.question),
        "### The scenario",
        _wrap(f"`scenarios/lessons/{item.scenario}`; in the app's lesson picker: "
              f"**{item.title}**."),
        _paragraphs(item.setup),
        f"![{item.title} on the page at week {shot_week(item)} (1280x800)]"
        f"(images/app_{item.name}.png)",
        "### Things to notice", _bullets(item.notice_md),
        "### Things to try", _bullets(item.try_md),
        "### What the model shows", _wrap(item.shows), item.measured.strip(), checked,
    ]
    if item.discussion:
        parts.append(_paragraphs(item.discussion))
    parts += ["### In the real world", _paragraphs(item.real_world),
              "### Limits", _paragraphs(item.limits)]
    return "\n\n".join(parts)


def lesson_sections(lessons: tuple[Lesson, ...] = LESSONS) -> str:
    """Every lesson's section, in order, each closed by a rule."""
    return "\n\n".join(f"{lesson_section(x)}\n\n---" for x in lessons)


def _region(name: str, lessons: tuple[Lesson, ...]) -> str:
    start, end = next((s, e) for n, s, e in REGIONS if n == name)
    body = lessons_table(lessons) if name == "table" else lesson_sections(lessons)
    return f"{start}\n{body}\n{end}"


def update_doc(text: str, lessons: tuple[Lesson, ...] = LESSONS) -> str:
    """docs/lessons.md (``text``) with its generated regions rewritten from ``lessons``.

    Raises:
        ValueError: a region's markers are missing, repeated or out of order.
    """
    for name, start, end in REGIONS:
        if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(
                end):
            raise ValueError(f"the {name} region needs one '{start}' line and one '{end}' "
                             "line after it")
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        text = head + _region(name, lessons) + tail
    return text


def unknown_lesson(names: Iterable[str]) -> str:
    """What is wrong with a list of lesson names, in one line ("" when each is a lesson)."""
    known = {x.name for x in LESSONS}
    unknown = [n for n in names if n not in known]
    if not unknown:
        return ""
    return f"no lesson '{unknown[0]}' (there are: {', '.join(sorted(known))})"


def main(argv: list[str] | None = None) -> int:
    """``python -m ctsim.teaching.lessons [NAME ...]`` prints lessons as docs/lessons.md
    shows them (all without a name), to read a lesson file's texts as the page will;
    ``--write-docs`` rewrites the page's lessons from the lesson files, ``--check-docs``
    only checks them. (The claim checks are ``python -m ctsim.teaching.claims``.)

    Returns the exit status: 0 when the page is (now) up to date or the lessons are
    printed; with ``--check-docs``, 1 when the page is out of date (nothing is written);
    2 for an unknown lesson name or a page whose markers are wrong (one ``error:`` line).
    """
    parser = argparse.ArgumentParser(
        prog="python -m ctsim.teaching.lessons",
        description="Print lessons as docs/lessons.md shows them, or rewrite the page's "
                    f"lessons from the lesson files (scenarios/lessons/*{SUFFIX}). The "
                    "lessons' claims are checked by python -m ctsim.teaching.claims.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="lessons to print (default: all: "
                             f"{', '.join(x.name for x in LESSONS)})")
    parser.add_argument("--write-docs", action="store_true",
                        help="rewrite the lessons and the table of lessons in the page")
    parser.add_argument("--check-docs", action="store_true",
                        help="only check the page; exit 1 when it is out of date")
    parser.add_argument("--doc", type=Path, default=DOC, help=f"the page (default: {DOC})")
    args = parser.parse_args(argv)
    unknown = unknown_lesson(args.names)
    if unknown:
        print(f"error: {unknown}", file=sys.stderr)
        return 2
    if not (args.write_docs or args.check_docs):
        chosen = tuple(lesson(n) for n in args.names) if args.names else LESSONS
        print(lesson_sections(chosen))
        return 0
    if args.names:
        parser.error("--write-docs and --check-docs take no lesson names")
    return refresh_generated(args.doc, update_doc, "the lessons", args.check_docs,
                             "python -m ctsim.teaching.lessons --write-docs")

if __name__ == "__main__":
    sys.exit(main())
