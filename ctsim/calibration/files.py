"""Calibration files: a calibration (``experiments/calibrate_*.yaml``) names a scenario,
the parameters to estimate with their priors, and the targets it fits and holds out, picked
by name from a targets file (``experiments/targets.yaml``). :func:`load_calibration` checks
both with the one-line errors of every ctsim file (docs/calibration.md)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from ctsim._version import __version__
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX
from ctsim.core.outputs import AMONG, METRICS
from ctsim.core.scenario import SCENARIO_KEYS, MemberRule, _Strict, scenario_from_dict
from ctsim.errors import ExperimentError, ScenarioError
from ctsim.files import Origins, first_error, follow, load_raw, read_file
from ctsim.runs.experiment import INSIDE, check_largest_run, probe, varied_key_problem

Name = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=80)]

#: The fields of a target that decide a calibration's particles and distances.
DECIDING = {"metric", "among", "contrast", "observed", "sd"}

#: The smallest sd a target may have, as a share of its observed value's size
#: (max(1, |observed|)). A distance divides by sd and squares the quotient
#: (:func:`ctsim.calibration.particle.standardized_distance`): below this, any difference a
#: model can produce (up to about 1e6 on a metric's scale) squares past 1e36, and for sd
#: near 1e-300 past the largest float, so no particle could ever be accepted.
SD_MIN_RELATIVE = 1e-12


# ---------------------------------------------------------------- files


class Source(_Strict):
    """Where a target's figure is printed: author, year, title, table or page, address."""

    author: Annotated[str, Field(min_length=1)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    title: Annotated[str, Field(min_length=1)]
    where: Annotated[str, Field(min_length=1)]
    url: str = ""


class Target(_Strict):
    """One published pattern and the model quantity it is compared with.

    The quantity is ``metric`` over a particle's runs: with ``among`` (a member rule:
    names, ISO3 codes or ``{membership: ORG}``; for the metrics of
    :data:`ctsim.core.outputs.AMONG`), the metric pooled over the settled plots aimed at
    those states; with ``contrast`` (a
    scenario file, relative to the targets file), the relative change
    ``(contrast - scenario) / contrast`` of the metric's mean between that scenario and
    the calibrated one, run with the same parameters and seeds; otherwise the metric's
    mean over the runs. ``observed`` and ``sd`` (one standard deviation) are on the
    quantity's scale. A target whose figure could not be read (``verified: unread``) has no
    observed value, and no calibration may use it.
    """

    name: Name
    metric: str
    among: MemberRule | None = None
    contrast: str | None = None
    observed: float | None = None
    sd: Annotated[float, Field(gt=0.0)] | None = None
    source: Source
    verified: Literal["source", "secondary", "unread"]
    match: Annotated[str, Field(min_length=1)]

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric '{value}' (one of {', '.join(METRICS)})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.among is not None and self.metric not in AMONG:
            raise ValueError(f"among: is for the metrics {', '.join(AMONG)} only")
        if self.among is not None and self.contrast is not None:
            raise ValueError("give among or contrast, not both")
        if self.verified == "unread":
            if self.observed is not None or self.sd is not None:
                raise ValueError("a figure that could not be read (verified: unread) has no "
                                 "observed value or sd")
        elif self.observed is None or self.sd is None:
            raise ValueError("give observed and sd (or verified: unread if the figure could "
                             "not be read)")
        elif self.sd < SD_MIN_RELATIVE * max(1.0, abs(self.observed)):
            raise ValueError(f"sd {self.sd:g} is too small to measure a distance with: at "
                             f"least {SD_MIN_RELATIVE:g} x max(1, |observed|)")
        return self


class TargetsFile(_Strict):
    """A file of published patterns (``experiments/targets.yaml``)."""

    name: Name
    description: str = ""
    targets: list[Target]

    @model_validator(mode="after")
    def _unique(self) -> TargetsFile:
        names = [t.name for t in self.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"two targets are named '{twice[0]}'")
        return self


class Prior(_Strict):
    """A parameter's prior: uniform on ``range``; ``integer: true`` makes it uniform on
    the whole numbers of the range (sampled on [lo, hi + 1) and rounded down). ``why``
    says where the range comes from."""

    range: tuple[float, float]
    integer: bool = False
    why: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Prior:
        lo, hi = self.range
        if not lo < hi:
            raise ValueError("range must be [lo, hi] with lo < hi")
        if self.integer and not (float(lo).is_integer() and float(hi).is_integer()):
            raise ValueError("an integer parameter's range holds whole numbers")
        return self

    @property
    def width(self) -> float:
        """The support's width as sampled (integers: hi + 1 - lo)."""
        lo, hi = self.range
        return hi + 1 - lo if self.integer else hi - lo

    def value(self, x: float) -> float | int:
        """The scenario value of a sampled ``x`` (integers rounded down into the range)."""
        if self.integer:
            return int(min(math.floor(x), self.range[1]))
        return float(x)


class Calibration(_Strict):
    """A declared calibration. See docs/calibration.md."""

    name: Name
    description: str = ""
    scenario: str
    targets_file: str = "targets.yaml"
    fit: Annotated[list[Name], Field(min_length=1)]
    held_out: list[Name] = Field(default_factory=list)
    parameters: Annotated[dict[str, Prior], Field(min_length=1)]
    replications: Annotated[int, Field(ge=1, le=REPLICATIONS_MAX)] = 4
    population: Annotated[int, Field(ge=10, le=100_000)] = 200
    populations: Annotated[int, Field(ge=1, le=100)] = 8
    min_epsilon: Annotated[float, Field(ge=0.0)] = 0.0
    #: Convergence: stop when epsilon falls by less than this from one population to the
    #: next (standardized distance units).
    min_eps_diff: Annotated[float, Field(ge=0.0)] = 0.0
    min_acceptance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    predictive: Annotated[int, Field(ge=2, le=10_000)] = 50
    steps: Annotated[int, Field(ge=1, le=STEPS_MAX)] | None = None
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 7

    @model_validator(mode="after")
    def _apart(self) -> Calibration:
        both = sorted(set(self.fit) & set(self.held_out))
        if both:
            raise ValueError(f"'{both[0]}' is both fitted and held out")
        for group in (self.fit, self.held_out):
            twice = sorted({n for n in group if group.count(n) > 1})
            if twice:
                raise ValueError(f"'{twice[0]}' is listed twice")
        return self


@dataclass(frozen=True)
class LoadedCalibration:
    """A checked calibration: its spec, files, targets and the raw scenarios it runs.

    ``scenario_dicts[0]`` is the calibrated scenario; the others are the contrast
    scenarios of its targets, in ``contrasts`` order.
    """

    spec: Calibration
    path: Path
    targets: dict[str, Target]
    scenario_dicts: list[dict[str, Any]]
    contrasts: list[str]
    masks: dict[str, np.ndarray]

    @property
    def steps(self) -> int:
        """Weeks per run: the file's, else the scenario's."""
        return self.spec.steps or int(self.scenario_dicts[0].get("steps", 260))

    @property
    def used(self) -> list[str]:
        """Every target the calibration uses: fitted first, then held out."""
        return [*self.spec.fit, *self.spec.held_out]

    def fingerprint(self) -> str:
        """A hash of everything that decides the particles and their distances (resume
        checks it); the stopping rules, the predictive checks and the targets' sources
        and notes are left out, so a finished calibration can be continued for more
        populations and a citation corrected without rerunning it."""
        later = {"populations", "min_epsilon", "min_eps_diff", "min_acceptance", "predictive",
                 "description"}
        doc = {"spec": self.spec.model_dump(mode="json", exclude=later),
               "scenarios": self.scenario_dicts,
               "targets": {k: self.targets[k].model_dump(mode="json", include=DECIDING)
                           for k in self.used},
               "version": __version__}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()
                              ).hexdigest()


#: The tables of pyabc's SQLite store that a calibration resumes from.
HISTORY_TABLES = {"abc_smc", "populations", "particles", "parameters"}


def check_history(db: Path) -> None:
    """Check, before a calibration resumes from it, that ``db`` (a results folder's
    ``history.db``) is pyabc's SQLite store and not a file damaged or put there by
    something else; it is opened read-only.

    Raises:
        ResultsError: one line naming the file.
    """
    import sqlite3

    from ctsim.errors import ResultsError

    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro",
                                                uri=True)) as con:
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise ResultsError(f"{db}: not a calibration's history ({type(exc).__name__}); "
                           "choose another --out, or remove the folder to start again"
                           ) from None
    if not tables >= HISTORY_TABLES:
        raise ResultsError(f"{db}: not a calibration's history (tables missing); choose "
                           "another --out, or remove the folder to start again")


def _validated(model: type, data: dict, origins: Origins, error: type[ScenarioError]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        e = first_error(exc, origins, model)
        raise error(e.source, e.key, e.message, e.line) from None


def load_targets(path: str | Path) -> TargetsFile:
    """Read and check a targets file.

    Raises:
        ExperimentError: one line naming the file, the key and what is wrong.
    """
    path = Path(path)
    data, origins = read_file(path, TargetsFile.model_fields, "targets")
    return _validated(TargetsFile, data, origins, ExperimentError)


def load_calibration(path: str | Path) -> LoadedCalibration:
    """Read and check a calibration file, its targets file, its scenario and every
    parameter's range in that scenario (and in each contrast scenario).

    Raises:
        ExperimentError: one line naming the file and key, as for scenarios.
    """
    path = Path(path)
    data, origins = read_file(path, Calibration.model_fields, "calibration")
    if "fit" not in data and ({"design", "factors", "scenarios", "targets"} & set(data)):
        raise ExperimentError(str(path), "", "a sweep or targets file, not a calibration "
                              "(no fit: list): run a sweep with ctsim sweep")
    spec: Calibration = _validated(Calibration, data, origins, ExperimentError)

    def fail(key: str, message: str) -> ExperimentError:
        source, line = origins.locate(key)
        return ExperimentError(source, key, message, line)

    problem = varied_key_problem(list(spec.parameters))
    if problem:
        raise fail(f"parameters.{problem[0]}", problem[1])
    targets_path = follow(path, spec.targets_file, "targets_file",
                          origins.locate("targets_file")[1], ExperimentError, "targets file")
    targets = {t.name: t for t in load_targets(targets_path).targets}
    for key in ("fit", "held_out"):
        for i, name in enumerate(getattr(spec, key)):
            if name not in targets:
                raise fail(f"{key}.{i}", f"no target '{name}' in {spec.targets_file}")
            if targets[name].verified == "unread":
                raise fail(f"{key}.{i}", f"target '{name}' has no observed value (its "
                           "figure could not be read: verified: unread)")

    scenario_file = follow(path, spec.scenario, "scenario", origins.locate("scenario")[1],
                           ExperimentError, "scenario file")
    base, _ = load_raw(scenario_file, SCENARIO_KEYS)
    scenario = scenario_from_dict(copy.deepcopy(base), source=str(scenario_file))
    dicts, contrasts = [base], []
    for name in [*spec.fit, *spec.held_out]:
        file = targets[name].contrast
        if file is None or file in contrasts:
            continue
        target_file = follow(targets_path, file, f"{name}.contrast", None, ExperimentError,
                             "scenario file")
        raw, _ = load_raw(target_file, SCENARIO_KEYS)
        scenario_from_dict(copy.deepcopy(raw), source=str(target_file))
        dicts.append(raw)
        contrasts.append(file)

    for key, prior in spec.parameters.items():
        lo, hi = prior.range
        inside = prior.value(lo + INSIDE * (hi - lo))  # a fraction, as most draws are
        for value in dict.fromkeys([prior.value(lo), inside, prior.value(hi)]):
            for raw in dicts:
                message = probe(raw, key, value, prior.integer)
                if message:
                    raise fail(f"parameters.{key}", message)
    corner = {key: prior.value(prior.range[1]) for key, prior in spec.parameters.items()}
    for raw in dicts:
        check_largest_run(raw, corner, spec.steps, str(path), "calibration")

    masks = {}
    roster = scenario.roster()
    for name in [*spec.fit, *spec.held_out]:
        rule = targets[name].among
        if rule is None:
            continue
        if roster is None:
            raise fail("scenario", f"target '{name}' is about the plots aimed at some "
                       "states, so the scenario must name its nations (a dataset or a list)")
        mask = np.asarray(roster.select(rule), bool)
        if not mask.any():
            raise ExperimentError(str(targets_path), f"{name}.among",
                                  f"no nation of {scenario.name} matches {rule!r}")
        masks[name] = mask
    return LoadedCalibration(spec, path, targets, dicts, contrasts, masks)
