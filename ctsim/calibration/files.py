"""Calibration files: a calibration (``experiments/calibrate_*.yaml``) names a scenario,
the parameters to estimate with their priors, and the targets it fits and holds out, picked
by name from a targets file (``experiments/targets.yaml``). :func:`load_calibration` checks
both with the one-line errors of every ctsim file (docs/calibration.md)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
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
DECIDING = {"metric", "among", "contrast", "observed", "sd", "bound", "counts",
            "overdispersion"}

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


class Count(_Strict):
    """One period's count of a series target: ``count`` of ``of`` events (for example, 14
    foiled of 21 jihadist attacks reported for 2019)."""

    year: Annotated[int, Field(ge=1900, le=2100)]
    count: Annotated[int, Field(ge=0)]
    of: Annotated[int, Field(ge=1, le=10_000_000)]

    @model_validator(mode="after")
    def _within(self) -> Count:
        if self.count > self.of:
            raise ValueError(f"count {self.count} is more than of {self.of}")
        return self


class Target(_Strict):
    """One published pattern and the model quantity it is compared with.

    The quantity is ``metric`` over a particle's runs: with ``among`` (a member rule:
    names, ISO3 codes or ``{membership: ORG}``; for the metrics of
    :data:`ctsim.core.outputs.AMONG`), the metric pooled over the settled plots aimed at
    those states; with ``contrast`` (a
    scenario file, relative to the targets file), the relative change
    ``(contrast - scenario) / contrast`` of the metric's mean between that scenario and
    the calibrated one, run with the same parameters and seeds (with both, the relative
    change of the pooled quantity among the states: a treatment's effect on its
    adopters); otherwise the metric's mean over the runs. ``verified`` says what of the
    source was read: ``source`` (its own text or data), ``abstract`` (its abstract or
    publisher's summary only), ``secondary`` (a report quoting it) or ``unread``.

    Its error model (:attr:`kind`, docs/calibration.md "Error models"):

    - ``normal`` (``observed`` and ``sd``): the observation is the model's quantity plus a
      normal error of standard deviation ``sd``, on the quantity's scale;
    - ``upper`` or ``lower`` (``bound: upper|lower``, ``observed`` and ``sd``): the
      quantity is at most (at least) ``observed``, with a soft edge: the likelihood is the
      normal CDF ``Phi((observed - x) / sd)`` (upper) or ``Phi((x - observed) / sd)``
      (lower), 1 well inside the bound, 1/2 on it, falling off over about ``sd`` beyond;
    - ``series`` (``counts``, a list of ``{year, count, of}``, and ``overdispersion``):
      each period's count is beta-binomial with mean ``of * x`` for a share ``x`` and
      intra-class correlation ``overdispersion`` (rho in (0, 1): the periods' own shares
      vary about ``x`` with variance ``rho x (1 - x)``); the periods are fitted jointly.

    A target whose figure could not be read (``verified: unread``) has no observed value,
    and no calibration may use it.
    """

    name: Name
    metric: str
    among: MemberRule | None = None
    contrast: str | None = None
    observed: float | None = None
    sd: Annotated[float, Field(gt=0.0)] | None = None
    bound: Literal["upper", "lower"] | None = None
    counts: Annotated[list[Count], Field(min_length=1)] | None = None
    overdispersion: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    source: Source
    verified: Literal["source", "abstract", "secondary", "unread"]
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
        if self.verified == "unread":
            if any(v is not None for v in (self.observed, self.sd, self.counts,
                                           self.bound, self.overdispersion)):
                raise ValueError("a figure that could not be read (verified: unread) has no "
                                 "observed value, sd, bound or counts")
        elif self.counts is not None:
            self._series_consistent()
        elif self.overdispersion is not None:
            raise ValueError("overdispersion is for a series target (counts:)")
        elif self.observed is None or self.sd is None:
            raise ValueError("give observed and sd, or counts and overdispersion (or "
                             "verified: unread if the figure could not be read)")
        elif self.sd < SD_MIN_RELATIVE * max(1.0, abs(self.observed)):
            raise ValueError(f"sd {self.sd:g} is too small to measure a distance with: at "
                             f"least {SD_MIN_RELATIVE:g} x max(1, |observed|)")
        return self

    def _series_consistent(self) -> None:
        """The rules of a series target (``counts``)."""
        if self.observed is not None or self.sd is not None or self.bound is not None:
            raise ValueError("a series target (counts:) takes its observed value from its "
                             "counts: give no observed, sd or bound")
        if self.overdispersion is None:
            raise ValueError("a series target (counts:) needs overdispersion (the "
                             "intra-class correlation of its periods' shares, in (0, 1))")
        if METRICS[self.metric].unit != "share" or self.contrast is not None:
            raise ValueError(f"a series target counts events, so its quantity is a share "
                             f"(0..1); '{self.metric}'"
                             + (" with contrast" if self.contrast is not None else "")
                             + " is not")
        years = [c.year for c in self.counts]
        twice = sorted({y for y in years if years.count(y) > 1})
        if twice:
            raise ValueError(f"counts: the year {twice[0]} is given twice")

    @property
    def kind(self) -> Literal["normal", "upper", "lower", "series"]:
        """The target's error model (see the class)."""
        if self.counts is not None:
            return "series"
        return self.bound or "normal"

    @property
    def reference(self) -> float:
        """The observed value (normal), the bound (upper, lower) or the pooled share of the
        counts, sum(count) / sum(of) (series), on the quantity's scale."""
        if self.counts is not None:
            return sum(c.count for c in self.counts) / sum(c.of for c in self.counts)
        return float(self.observed)

    @property
    def spread(self) -> float:
        """One standard deviation on the quantity's scale: ``sd``; for a series, the
        beta-binomial standard deviation of the pooled share at that share,
        ``sqrt(p (1 - p) sum(n (1 + (n - 1) rho)) / (sum n)^2)`` (Williams 1975)."""
        if self.counts is None:
            return float(self.sd)
        p, rho = self.reference, float(self.overdispersion)
        total = sum(c.of for c in self.counts)
        spread = sum(c.of * (1 + (c.of - 1) * rho) for c in self.counts)
        return math.sqrt(max(p * (1 - p), 1e-12) * spread) / total


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


#: The methods of a calibration (``method:``): ABC-SMC with a stochastic acceptor whose
#: kernel is each target's error model, tempered down to temperature 1 (the default), or
#: the former rejection ABC-SMC on the standardized distance with a falling epsilon.
METHODS = ("stochastic", "rejection-distance")

#: The particles of a population by default. A 2.5% quantile of a weighted population rests
#: on about 0.025 x its effective sample size (ESS) of particles; 25 there (a tail share
#: known to about +-20% of itself, sqrt(0.975 / 25)) needs an ESS of 1,000. The stochastic
#: acceptor's last population kept an ESS of 22% to 36% of its particles in two pilots of
#: the world calibration (40 and 200 particles), so 3,000 particles (an ESS of 1,000 at a
#: third); several seeds pooled add their ESS (docs/calibration.md, "How many particles").
POPULATION_DEFAULT = 3000

#: The settings of the rejection-distance method only (epsilon and its stopping rules).
DISTANCE_ONLY = ("min_epsilon", "min_eps_diff")


class Calibration(_Strict):
    """A declared calibration. See docs/calibration.md."""

    name: Name
    description: str = ""
    scenario: str
    targets_file: str = "targets.yaml"
    fit: Annotated[list[Name], Field(min_length=1)]
    held_out: list[Name] = Field(default_factory=list)
    parameters: Annotated[dict[str, Prior], Field(min_length=1)]
    #: ``stochastic`` (the default) or ``rejection-distance`` (see :data:`METHODS`).
    method: Literal["stochastic", "rejection-distance"] = "stochastic"
    #: The perturbation kernel of each population: ``local`` (a normal kernel around each
    #: particle with the covariance of its nearest neighbours; pyabc's LocalTransition,
    #: Filippi et al. 2013), or ``global`` (one multivariate normal fitted to the whole
    #: population, pyabc's MultivariateNormalTransition).
    kernel: Literal["local", "global"] = "local"
    #: The local kernel's neighbours, as a share of the population (pyabc's k_fraction;
    #: at least 10 particles).
    neighbours: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25
    #: The local kernel's defensive share: this share of the proposals is drawn from the
    #: prior, which bounds every importance weight (Hesterberg 1995; docs/calibration.md).
    defensive: Annotated[float, Field(ge=0.0, le=0.5)] = 0.1
    replications: Annotated[int, Field(ge=1, le=REPLICATIONS_MAX)] = 4
    population: Annotated[int, Field(ge=10, le=100_000)] = POPULATION_DEFAULT
    #: At most this many populations; the stochastic method's last one is at temperature 1.
    populations: Annotated[int, Field(ge=1, le=100)] = 8
    min_epsilon: Annotated[float, Field(ge=0.0)] = 0.0
    #: Convergence: stop when epsilon falls by less than this from one population to the
    #: next (standardized distance units).
    min_eps_diff: Annotated[float, Field(ge=0.0)] = 0.0
    min_acceptance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01
    predictive: Annotated[int, Field(ge=2, le=10_000)] = 50
    steps: Annotated[int, Field(ge=1, le=STEPS_MAX)] | None = None
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 7
    #: Independent calibrations, one per seed, compared side by side (``seed`` is then
    #: not used).
    seeds: Annotated[list[Annotated[int, Field(ge=0, le=SEED_MAX)]],
                     Field(min_length=2, max_length=20)] | None = None

    @model_validator(mode="after")
    def _apart(self) -> Calibration:
        both = sorted(set(self.fit) & set(self.held_out))
        if both:
            raise ValueError(f"'{both[0]}' is both fitted and held out")
        for group in (self.fit, self.held_out, self.seeds or []):
            twice = sorted({n for n in group if group.count(n) > 1})
            if twice:
                raise ValueError(f"'{twice[0]}' is listed twice")
        return self

    @property
    def all_seeds(self) -> list[int]:
        """The seeds of the calibration's independent runs: ``seeds``, else ``[seed]``."""
        return list(self.seeds) if self.seeds else [self.seed]


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

    def with_seed(self, seed: int) -> LoadedCalibration:
        """This calibration with one seed: the calibration of ``seed`` among several
        independent ones (``seeds``, ``ctsim calibrate --seed``)."""
        spec = self.spec.model_copy(update={"seed": int(seed), "seeds": None})
        return dataclasses.replace(self, spec=spec)

    def fingerprint(self) -> str:
        """A hash of everything that decides the particles and their distances (resume
        checks it); the stopping rules, the predictive checks and the targets' sources
        and notes are left out, so a finished calibration can be continued for more
        populations and a citation corrected without rerunning it."""
        later = {"populations", "min_epsilon", "min_eps_diff", "min_acceptance", "predictive",
                 "description", "seeds"}
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

    if spec.method == "stochastic":
        for key in DISTANCE_ONLY:
            if key in spec.model_fields_set:
                raise fail(key, "a setting of method: rejection-distance; the stochastic "
                           "method ends at temperature 1")
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
            if (key == "fit" and spec.method == "rejection-distance"
                    and targets[name].kind != "normal"):
                raise fail(f"{key}.{i}", f"target '{name}' is a {targets[name].kind} "
                           "target; the standardized distance fits normal ones only (use "
                           "method: stochastic)")

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
