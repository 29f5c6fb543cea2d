"""Experiment files: factors, designs and the runs they expand to.

An experiment (``experiments/*.yaml``, SCENARIO_FORMAT.md) declares what to vary, not how
to run it: one base scenario or several to compare, ``factors`` (dotted scenario keys with
``values`` or a ``range``), a ``design`` (grid, oat, lhs, random, morris, sobol), the
replications, steps, seed and metrics to keep. A ``contrast`` pairs the scenario with a
world to compare it with (every point and replication run in both with the same seed,
:mod:`ctsim.runs.gain`); ``dummy: true`` adds a Sobol' design's dummy factor.
:func:`load_experiment` validates it with the same one-line error contract as scenarios;
:func:`design_points` expands the design; :func:`plan_runs` gives every run its id and
seed.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ctsim.core.limits import REPLICATIONS_MAX, RUNS_MAX, SEED_MAX, STEPS_MAX
from ctsim.core.outputs import METRICS
from ctsim.core.scenario import SCENARIO_KEYS, _Strict, scenario_from_dict
from ctsim.errors import ExperimentError, ScenarioError
from ctsim.files import Origins, apply_overrides, first_error, follow, load_raw, read_file
from ctsim.runs.plan import Design, Plan, RunSpec, SaltelliDesign, TableDesign, column_of
from ctsim.runs.seeds import replication_seeds

DESIGNS = ("grid", "oat", "lhs", "random", "morris", "sobol")

#: The dummy factor's column (``dummy: true``; :class:`ctsim.runs.plan.SaltelliDesign`).
DUMMY = "dummy"


class Factor(_Strict):
    """One varied scenario key: a list of ``values``, or a numeric ``range: [lo, hi]``.

    ``cross: true`` (oat design) crosses this factor with every one-at-a-time sweep
    instead of sweeping it alone (the regime, typically). ``integer: true`` rounds
    sampled values to whole numbers.
    """

    values: list[Any] | None = None
    range: tuple[float, float] | None = None
    cross: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values: [...] or range: [lo, hi]")
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("range must be [lo, hi] with lo < hi")
        return self

    def levels(self, n: int) -> list[Any]:
        """The values a grid or oat design uses (a range is split into ``n`` even steps)."""
        if self.values is not None:
            return list(self.values)
        lo, hi = self.range  # type: ignore[misc]
        return [self._cast(v) for v in np.linspace(lo, hi, n)]

    def at(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1) (values: picked by index)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        lo, hi = self.range  # type: ignore[misc]
        return self._cast(lo + u * (hi - lo))

    def _cast(self, v: float) -> Any:
        return int(np.rint(v)) if self.integer else float(v)

    def at_all(self, u: np.ndarray) -> np.ndarray:
        """:meth:`at` of every quantile of ``u``, as a column (:func:`ctsim.runs.plan.
        column_of`)."""
        if self.values is not None:
            picked = np.minimum((u * len(self.values)).astype(np.int64), len(self.values) - 1)
            return column_of([self.values[i] for i in picked.tolist()], np.ones(len(u), bool))
        lo, hi = self.range  # type: ignore[misc]
        return self.cast_column(lo + u * (hi - lo))

    def cast_column(self, v: np.ndarray) -> np.ndarray:
        """:meth:`_cast` of every value of ``v``: int64 with ``integer``, else float64."""
        return np.rint(v).astype(np.int64) if self.integer else v.astype(np.float64)


class Experiment(_Strict):
    """A declared sweep. See SCENARIO_FORMAT.md, "Experiment", and docs/sweeps.md."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=80)]
    description: str = ""
    scenario: str | None = None
    scenarios: list[str] | None = None
    design: Literal["grid", "oat", "lhs", "random", "morris", "sobol"] = "grid"
    samples: Annotated[int, Field(ge=1, le=1_000_000)] = 64
    trajectories: Annotated[int, Field(ge=1, le=100_000)] = 10
    levels: Annotated[int, Field(ge=2, le=100)] = 5
    factors: dict[str, Factor] = Field(default_factory=dict)
    #: EMA Workbench's split: what the world may be (barriers, the world's make-up), sampled
    #: by ``design``, and what policy can choose (levers), sampled by ``lever_design``;
    #: every lever point is run at every uncertainty point. Instead of ``factors``.
    uncertainties: dict[str, Factor] = Field(default_factory=dict)
    levers: dict[str, Factor] = Field(default_factory=dict)
    lever_design: Literal["grid", "lhs", "random"] = "grid"
    policies: Annotated[int, Field(ge=1, le=100_000)] = 8
    replications: Annotated[int, Field(ge=1, le=REPLICATIONS_MAX)] = 10
    steps: Annotated[int, Field(ge=1, le=STEPS_MAX)] | None = None
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 7
    metrics: list[str] | None = None
    timeseries: bool = False
    #: A calibration's results folder (``ctsim calibrate``), relative to this file: each
    #: replication draws its parameters from the posterior stored there (by weight, from
    #: the experiment's seed), so every result carries the parameters' uncertainty.
    uncertainty: str | None = None
    #: With ``uncertainty``: how many replications in a row share one posterior draw
    #: (each with its own seed), so that a draw's effect is a mean over runs and the runs'
    #: own chance can be told from the parameters' spread (ctsim.analysis.effects).
    runs_per_draw: Annotated[int, Field(ge=1, le=REPLICATIONS_MAX)] = 1
    #: The world the scenario is compared with, point by point and seed by seed: dotted
    #: scenario keys and their values (``{cooperation.regime: none}``), or a scenario
    #: file relative to this one. Its runs follow the scenario's in runs.parquet, and each
    #: metric's gain (:mod:`ctsim.runs.gain`) is kept per design point in points.parquet.
    contrast: str | dict[str, Any] | None = None
    #: A Sobol' design's dummy factor: sampled as a factor, setting no scenario key, it
    #: picks the set of seeds a row runs with; its indices are the noise floor.
    dummy: bool = False

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in METRICS:
                raise ValueError(f"unknown metric '{name}' (one of {', '.join(METRICS)})")
        return value

    @model_validator(mode="after")
    def _design_fits(self) -> Experiment:
        if (self.scenario is None) == (self.scenarios is None):
            raise ValueError("give either scenario: FILE or scenarios: [FILE, ...]")
        if self.scenarios is not None and not self.scenarios:
            raise ValueError("scenarios is empty")
        if self.runs_per_draw > 1:
            if self.uncertainty is None:
                raise ValueError("runs_per_draw needs uncertainty: a posterior to draw from")
            if self.replications % self.runs_per_draw:
                raise ValueError(f"replications ({self.replications}) is not a whole number "
                                 f"of draws of runs_per_draw ({self.runs_per_draw}) runs")
        if self.uncertainties or self.levers:
            if self.factors:
                raise ValueError("give either factors or uncertainties and levers, not both")
            both = sorted(set(self.uncertainties) & set(self.levers))
            if both:
                raise ValueError(f"'{both[0]}' is both an uncertainty and a lever")
            if self.design not in ("grid", "lhs", "random"):
                raise ValueError(f"uncertainties are sampled by grid, lhs or random, not by "
                                 f"{self.design}")
            if any(f.cross for f in (*self.uncertainties.values(), *self.levers.values())):
                raise ValueError("cross: true belongs to an oat design's factors")
        if self.design in ("morris", "sobol") and not self.factors:
            raise ValueError(f"a {self.design} design needs factors")
        return self

    @field_validator("contrast")
    @classmethod
    def _one_contrast(cls, value: str | dict[str, Any] | None, info: ValidationInfo
                      ) -> str | dict[str, Any] | None:
        if value is not None and info.data.get("scenarios") is not None:
            raise ValueError("a contrast pairs one scenario with the world it is compared "
                             "with: give scenario: FILE, not scenarios")
        if isinstance(value, dict) and not value:
            raise ValueError("empty: give the keys that make the world to compare with, or "
                             "a scenario file")
        return value

    @field_validator("dummy")
    @classmethod
    def _dummy_of_sobol(cls, value: bool, info: ValidationInfo) -> bool:
        design = info.data.get("design")
        if value and design is not None and design != "sobol":
            raise ValueError(f"belongs to a sobol design, not {design} (its indices are the "
                             "floor of chance under Sobol' indices)")
        if value and DUMMY in (info.data.get("factors") or {}):
            raise ValueError(f"a factor is named '{DUMMY}' already")
        return value

    @property
    def varied(self) -> dict[str, Factor]:
        """Every key the experiment varies: its factors, or its uncertainties and levers."""
        return self.factors or {**self.uncertainties, **self.levers}

    @property
    def metric_names(self) -> list[str]:
        """The metrics kept (all of them by default)."""
        return list(self.metrics or METRICS)

    @property
    def indexed_factors(self) -> list[str]:
        """The factors of a morris or sobol design's indices: its factors, then the dummy."""
        return [*self.factors, *([DUMMY] if self.dummy else [])]


@dataclass(frozen=True)
class LoadedExperiment:
    """An experiment with its file and the raw scenario mappings it varies."""

    spec: Experiment
    path: Path
    scenario_names: list[str]
    scenario_dicts: list[dict[str, Any]]
    #: The posterior folder replications draw their parameters from (``uncertainty``,
    #: resolved), or None.
    posterior: Path | None = None
    #: With a contrast (the last of the scenarios): the dotted keys where it differs from
    #: the scenario, as validated (:func:`differing_keys`).
    contrast_keys: tuple[str, ...] = ()
    _plan: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def has_contrast(self) -> bool:
        """Whether the experiment pairs its scenario with a contrast (its second scenario)."""
        return self.spec.contrast is not None

    def plan(self) -> Plan:
        """Every run of the experiment as columns (:func:`plan_of`), planned once."""
        if not self._plan:
            self._plan.append(plan_of(self))
        return self._plan[0]

    def runs(self) -> list[RunSpec]:
        """Every run of the experiment, one :class:`RunSpec` each (:func:`plan_runs`): for
        reading a plan; the sweeps run from :meth:`plan`'s columns."""
        return plan_runs(self)

    @property
    def steps(self) -> list[int]:
        """Weeks per run for each scenario (the experiment's steps, else the scenario's)."""
        return [self.spec.steps or d.get("steps", 260) for d in self.scenario_dicts]


#: Keys that every run of an experiment shares, set by the experiment itself: a factor
#: (or a calibrated parameter) naming one would be ignored, or overwrite the record.
RESERVED_KEYS = {
    "seed": "each replication's seed comes from the experiment's seed (seed: N), the same "
            "at every point; vary replications instead",
    "steps": "every run of an experiment lasts its steps: (or the scenario's); set it there",
    "replications": "replications is the experiment's own key (replications: N)",
}

#: Where a sampled factor's value is probed inside its range (an irrational share of the
#: width, so that a key that takes whole numbers meets a fraction, as the samples will).
INSIDE = 0.3819660112501051


def load_experiment(path: str | Path, *, replications: int | None = None,
                    steps: int | None = None) -> LoadedExperiment:
    """Read and check an experiment file, its scenarios and every factor's values.

    ``replications`` and ``steps`` replace the file's (``ctsim sweep --replications``),
    checked against the same ranges. Everything a run could trip over is checked here,
    before any run: the design's size (at most :data:`~ctsim.core.limits.RUNS_MAX` runs),
    keys that overlap or that the experiment sets itself, each factor's values (ends,
    levels and a value inside a sampled range) in every scenario, and the memory of the
    design's largest run.

    Raises:
        ExperimentError: one line naming the file and key, as for scenarios.
    """
    path = Path(path)
    data, origins = read_file(path, Experiment.model_fields, "experiment")
    if "targets" in data or "fit" in data:
        raise ExperimentError(str(path), "", "a calibration or targets file, not a sweep: "
                              "run a calibration with ctsim calibrate")
    given = {"replications": replications, "steps": steps}
    data = data | {k: v for k, v in given.items() if v is not None}
    try:
        spec = Experiment.model_validate(data)
    except ValidationError as exc:
        error = first_error(exc, origins, Experiment)
        raise ExperimentError(error.source, error.key, error.message, error.line) from None

    def fail(where: str, message: str) -> ExperimentError:
        source, line = origins.locate(where)
        return ExperimentError(source, where, message, line)

    if spec.design == "morris":
        for name, factor in spec.factors.items():
            if factor.range is None:
                raise fail(f"factors.{name}", "a morris design needs a range: [lo, hi] "
                           "here, not values")
    sections = {name: section for section in ("factors", "uncertainties", "levers")
                for name in getattr(spec, section)}
    problem = varied_key_problem(list(spec.varied))
    if problem:
        name, message = problem
        raise fail(f"{sections[name]}.{name}", message)

    files = [spec.scenario] if spec.scenario is not None else list(spec.scenarios or [])
    key = "scenario" if spec.scenario is not None else "scenarios"
    worlds = len(files) + (spec.contrast is not None)
    total = count_runs(spec, worlds)
    if total > RUNS_MAX:
        where = "replications" if spec.replications > 1 else "design"
        raise fail(where, too_many_runs(spec, worlds, total))
    names, dicts = [], []
    for i, file in enumerate(files):
        where = key if spec.scenario is not None else f"{key}.{i}"
        target = follow(path, file, where, origins.locate(where)[1], ExperimentError,
                        "scenario file")
        raw, _ = load_raw(target, SCENARIO_KEYS)
        sc = scenario_from_dict(copy.deepcopy(raw), source=str(target))
        names.append(sc.name)
        dicts.append(raw)
    contrast_keys: tuple[str, ...] = ()
    if spec.contrast is not None:
        name, raw, contrast_keys = load_contrast(spec, path, dicts[0], origins)
        names.append(name)
        dicts.append(raw)
    if len(set(names)) != len(names):
        where = "contrast" if spec.contrast is not None else key
        raise ExperimentError(str(path), where, "the contrast and the scenario share a name"
                              if spec.contrast is not None else "two scenarios share a name",
                              origins.locate(where)[1])

    for name, factor in spec.varied.items():
        design = spec.lever_design if name in spec.levers else spec.design
        for raw in dicts:
            for value in probe_values(factor, design, spec.levels):
                message = probe(raw, name, value, factor.integer)
                if message:
                    raise fail(f"{sections[name]}.{name}", message)
    posterior = None
    if spec.uncertainty is not None:
        posterior = path.parent / spec.uncertainty
        check_posterior(posterior, dicts, set(spec.varied), origins, "uncertainty")
        if contrast_keys:
            from ctsim.runs.posterior import read_posterior

            drawn = [k for k in read_posterior(posterior).columns if k != "weight"]
            clash = next(((k, c) for k in drawn for c in contrast_keys
                          if k == c or k.startswith(c + ".") or c.startswith(k + ".")), None)
            if clash is not None:
                raise fail("contrast", f"the contrast sets '{clash[1]}' and the posterior "
                           f"draws '{clash[0]}' in both worlds, undoing it; contrast another "
                           "key or drop the uncertainty")
    corner = largest_values(spec)
    for raw in dicts:
        check_largest_run(raw, corner, spec.steps, str(path))
    return LoadedExperiment(spec, path, names, dicts, posterior, contrast_keys)


def load_contrast(spec: Experiment, path: Path, raw: dict[str, Any], origins: Origins
                  ) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """The contrast of an experiment whose scenario is ``raw``: its name, its raw mapping
    and the dotted keys where it differs from the scenario.

    A mapping of dotted keys is applied to a copy of the scenario (named
    ``<scenario>_contrast`` unless it sets ``name``); a file is read as a scenario. The
    contrast must differ from the scenario, last as many weeks, and leave every varied key
    to the design (a factor inside a key the contrast changes would undo the contrast).

    Raises:
        ExperimentError: one line naming ``contrast`` (and the key).
    """
    def fail(where: str, message: str) -> ExperimentError:
        source, line = origins.locate(where)
        return ExperimentError(source, where, message, line)

    given = spec.contrast
    base = scenario_from_dict(copy.deepcopy(raw))
    if isinstance(given, dict):
        for k in given:
            head = k.split(".")[0]
            if head in RESERVED_KEYS:
                raise fail(f"contrast.{k}", f"cannot be set by a contrast: "
                           f"{RESERVED_KEYS[head]}")
        data = apply_overrides(copy.deepcopy(raw), {"name": f"{base.name[:71]}_contrast"})
        try:
            data = apply_overrides(data, given)
            other = scenario_from_dict(copy.deepcopy(data))
        except ScenarioError as exc:
            where = f"contrast.{exc.key}" if exc.key else "contrast"
            raise fail(where, exc.message) from None
    else:
        line = origins.locate("contrast")[1]
        target = follow(path, given, "contrast", line, ExperimentError, "scenario file")
        data, _ = load_raw(target, SCENARIO_KEYS)
        other = scenario_from_dict(copy.deepcopy(data), source=str(target))
        if spec.steps is None and other.steps != base.steps:
            raise fail("contrast", f"the contrast lasts {other.steps} weeks and the scenario "
                       f"{base.steps}; paired runs last as long: set steps: in the experiment")
    keys = differing_keys(base.model_dump(mode="json"), other.model_dump(mode="json"))
    if not keys:
        raise fail("contrast", "the contrast is the scenario itself: it changes no key")
    for name in spec.varied:
        clash = next((k for k in keys if name == k or name.startswith(k + ".")
                      or k.startswith(name + ".")), None)
        if clash is not None:
            section = next(s for s in ("factors", "uncertainties", "levers")
                           if name in getattr(spec, s))
            raise fail(f"{section}.{name}", f"the contrast sets '{clash}', which this key "
                       "overlaps: the design would undo the contrast; vary another key or "
                       "contrast another")
    return other.name, data, tuple(keys)


#: Keys that tell a contrast apart from its scenario without being a difference between
#: the worlds they make (a name, a text, what the experiment sets itself).
_NOT_COMPARED = {"name", "description", "seed", "replications", "steps"}


def differing_keys(a: Any, b: Any, prefix: str = "") -> list[str]:
    """The dotted keys where two scenarios (their ``model_dump(mode="json")``) differ, at
    the deepest level both have (a list of a different length differs as a whole); the
    top-level keys of :data:`_NOT_COMPARED` are left out."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in [*a, *(k for k in b if k not in a)]:
            if not prefix and k in _NOT_COMPARED:
                continue
            where = f"{prefix}.{k}" if prefix else str(k)
            if k not in a or k not in b:
                out.append(where)
            else:
                out += differing_keys(a[k], b[k], where)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [k for i, (x, y) in enumerate(zip(a, b, strict=True))
                for k in differing_keys(x, y, f"{prefix}.{i}")]
    return [] if a == b else [prefix]


def varied_key_problem(keys: list[str]) -> tuple[str, str] | None:
    """The first varied key that cannot be varied, and why: one the experiment sets itself
    (:data:`RESERVED_KEYS`), or one inside another (``threat.lead_time`` and
    ``threat.lead_time.min``: the run would take one and silently drop the other)."""
    given = set(keys)
    for key in keys:
        head = key.split(".")[0]
        if head in RESERVED_KEYS:
            return key, f"cannot be varied: {RESERVED_KEYS[head]}"
        parts = key.split(".")
        for n in range(1, len(parts)):
            outer = ".".join(parts[:n])
            if outer in given:
                return key, (f"overlaps '{outer}', which sets it too; vary '{outer}' or "
                             f"'{key}', not both")
    return None


def probe_values(factor: Factor, design: str, levels: int) -> list[Any]:
    """The values of ``factor`` that stand for all its runs: its values; the levels of a
    grid or oat range, or of a morris range; the ends of a sampled range and a value
    strictly inside it (a whole number only with ``integer: true``)."""
    if factor.values is not None:
        return list(factor.values)
    lo, hi = factor.range  # type: ignore[misc]
    if design in ("grid", "oat"):
        return factor.levels(levels)
    if design == "morris":
        return [factor._cast(v) for v in np.linspace(lo, hi, levels)]
    return [factor._cast(lo), factor._cast(lo + INSIDE * (hi - lo)), factor._cast(hi)]


def probe(raw: dict[str, Any], key: str, value: Any, integer: bool) -> str | None:
    """Why scenario ``raw`` with ``key`` set to ``value`` is not a valid scenario, or None.

    A fraction refused where a whole number would do says to add ``integer: true``.
    """
    try:
        scenario_from_dict(apply_overrides(copy.deepcopy(raw), {key: value}))
        return None
    except ScenarioError as exc:
        detail = f"{exc.key}: {exc.message}" if exc.key else exc.message
        first = f"value {value!r}: {detail}"
    if (not integer and isinstance(value, float) and not value.is_integer()
            and "fractional part" in detail):
        return (f"{first}; the key takes whole numbers and sampled values are fractions: "
                "add integer: true")
    return first


def largest_values(spec: Experiment) -> dict[str, Any]:
    """Each numeric factor's largest value in the design (the corner of the largest runs)."""
    corner: dict[str, Any] = {}
    for name, factor in spec.varied.items():
        design = spec.lever_design if name in spec.levers else spec.design
        numbers = [v for v in probe_values(factor, design, spec.levels)
                   if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers:
            corner[name] = max(numbers)
    return corner


def check_largest_run(raw: dict[str, Any], corner: dict[str, Any], steps: int | None,
                      source: str, what: str = "design") -> None:
    """Refuse, before any run, a ``what`` (a design, a calibration's priors) whose largest
    run would not fit in memory (:func:`ctsim.core.simulation.check_size`): scenario
    ``raw`` with every key of ``corner`` at its largest value and ``steps`` weeks; a run's
    memory grows with each of them. When those values together are not a valid scenario,
    each is checked alone.

    Raises:
        ExperimentError: naming ``source`` and the values of the run that would not fit.
    """
    from ctsim.core.simulation import check_size

    weeks = {"steps": steps} if steps is not None else {}
    tries = [corner] + [{k: v} for k, v in corner.items()] if len(corner) > 1 else [corner]
    for overrides in tries:
        try:
            largest = scenario_from_dict(apply_overrides(copy.deepcopy(raw),
                                                         overrides | weeks))
        except ScenarioError:  # these largest values together are not a scenario
            continue
        try:
            check_size(largest)
        except ScenarioError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in (overrides | weeks).items())
            raise ExperimentError(source, "", f"the {what}'s largest run ({shown or 'the '
                                  f'scenario {largest.name}'}) would not fit: {exc.message}"
                                  ) from None
        if overrides is corner:
            return


def count_runs(spec: Experiment, scenarios: int) -> int:
    """How many runs the experiment has (:func:`plan_runs`' length), computed from the
    design alone, without planning it: scenarios x design points x replications."""
    return scenarios * _count_points(spec) * spec.replications


def _count_points(spec: Experiment) -> int:
    """The number of :func:`design_points` of ``spec``."""
    if spec.uncertainties or spec.levers:
        worlds = _count(spec.uncertainties, spec.design, spec.samples, spec)
        policies = _count(spec.levers, spec.lever_design, spec.policies, spec)
        return worlds * policies
    return _count(spec.factors, spec.design, spec.samples, spec)


def _count(factors: dict[str, Factor], design: str, samples: int, spec: Experiment) -> int:
    """The number of points :func:`_points` gives (exact, as Python integers)."""
    if not factors:
        return 1
    sizes = {k: len(f.values) if f.values is not None else spec.levels
             for k, f in factors.items()}
    if design == "grid":
        return math.prod(sizes.values())
    if design == "oat":
        crossed = math.prod(n for k, n in sizes.items() if factors[k].cross)
        swept = sum(n for k, n in sizes.items() if not factors[k].cross)
        return crossed * (swept or 1)
    if design in ("lhs", "random"):
        return samples
    if design == "morris":
        return spec.trajectories * (len(factors) + 1)
    # sobol, first order and total indices (the dummy is one more factor)
    return samples * (len(factors) + 2 + spec.dummy)


def too_many_runs(spec: Experiment, scenarios: int, total: int) -> str:
    """The message for a design of ``total`` runs, more than RUNS_MAX (``scenarios``
    counts a contrast)."""
    points = _count_points(spec)
    return (f"the experiment has {total:,} runs ({scenarios} scenario(s) x {points:,} design "
            f"points x {spec.replications:,} replications), more than the {RUNS_MAX:,} an "
            "experiment may have (its analysis reads every run's results at once); use fewer "
            "levels, samples or replications, or split the experiment")


def check_posterior(folder: Path, dicts: list[dict[str, Any]], varied: set[str],
                    origins: Origins | None, where: str) -> None:
    """Check that ``folder`` holds a posterior whose every parameter is a key of each
    scenario (with the posterior's values) and not also varied by the design, nor inside
    or around a varied key.

    Raises:
        ExperimentError: naming ``where`` (the file's key, or an option).
    """
    from ctsim.errors import ResultsError
    from ctsim.runs.posterior import read_posterior

    source, line = origins.locate(where) if origins else (where, None)
    key = where if origins else ""
    try:
        post = read_posterior(folder)
    except ResultsError as exc:
        raise ExperimentError(source, key, str(exc), line) from None
    keys = [c for c in post.columns if c != "weight"]
    for k in keys:
        head = k.split(".")[0]
        if head in RESERVED_KEYS:
            raise ExperimentError(source, key, f"the posterior's parameter '{k}' cannot be "
                                  f"drawn: {RESERVED_KEYS[head]}", line)
        if k in varied:
            raise ExperimentError(source, key, f"'{k}' is drawn from the posterior and also "
                                  "varied; vary it or draw it, not both", line)
        inside = sorted(v for v in varied if v.startswith(k + ".") or k.startswith(v + "."))
        if inside:
            raise ExperimentError(source, key, f"'{k}' is drawn from the posterior and "
                                  f"'{inside[0]}', which overlaps it, is varied; vary one or "
                                  "draw it, not both", line)
    for k in keys:
        for value in (post[k].min(), post[k].max()):
            v = value.item() if hasattr(value, "item") else value
            for raw in dicts:
                try:
                    scenario_from_dict(apply_overrides(copy.deepcopy(raw), {k: v}))
                except ScenarioError as exc:
                    detail = f"{exc.key}: {exc.message}" if exc.key else exc.message
                    raise ExperimentError(source, key, f"posterior value {k}={v!r}: "
                                          f"{detail}", line) from None


# ---------------------------------------------------------------- designs


def design_points(spec: Experiment) -> list[dict[str, Any]]:
    """The design's points: one mapping of factor values each (empty for no factors).

    - grid: every combination of every factor's levels (full factorial);
    - oat: each factor swept alone while the others stay at the base scenario's value,
      crossed with every combination of the ``cross: true`` factors; each point names
      the factor it sweeps under the key ``"sweep"``;
    - lhs / random: ``samples`` Latin hypercube or independent uniform points;
    - morris: ``trajectories`` Morris trajectories on ``levels`` levels (SALib);
    - sobol: Saltelli/Sobol' samples with ``samples`` base points (SALib); a ``values``
      factor is sampled as a categorical, and ``dummy: true`` adds the dummy's column.

    With uncertainties and levers, the uncertainties are sampled by ``design`` (``samples``
    points) and the levers by ``lever_design`` (``policies`` points, or a grid), each from
    its own stream, and crossed: every policy at every uncertainty point, the policy's
    index under the key ``"policy"``.

    A sobol design's dummy factor is listed last, under ``"dummy"`` (0 or 1, the seed set
    of the point; it sets no scenario key). The sweeps read the same points as columns
    (:func:`design_of`); this list is for reading a design, not for running a large one.
    """
    design = design_of(spec)
    own = design.labels(np.arange(1))
    runs = Plan(1, design, np.zeros(1, np.int64), (), np.zeros(1, np.int64)).specs(
        0, design.size)
    inert = {k: v.tolist() for k, v in design.values(np.arange(design.size)).items()
             if k in design.inert}
    return [({"sweep": r.sweep} if "sweep" in own else {}) | r.overrides
            | ({"policy": r.policy} if "policy" in own else {})
            | {k: v[i] for k, v in inert.items()} for i, r in enumerate(runs)]


def design_of(spec: Experiment) -> Design:
    """The design's points as columns (:mod:`ctsim.runs.plan`): what
    :func:`design_points` lists, without a mapping per point."""
    if spec.uncertainties or spec.levers:
        worlds = _design(spec.uncertainties, spec.design, spec.samples, spec, 0)
        policies = _design(spec.levers, spec.lever_design, spec.policies, spec, 1)
        w, p = worlds.size, policies.size
        at_w, at_p = np.arange(w), np.arange(p)
        columns = ({k: np.tile(v, p) for k, v in worlds.values(at_w).items()}
                   | {k: np.repeat(v, w) for k, v in policies.values(at_p).items()})
        return TableDesign(columns, w * p, {}, {"policy": np.repeat(at_p, w)})
    return _design(spec.factors, spec.design, spec.samples, spec, 0)


def _design(factors: dict[str, Factor], design: str, samples: int, spec: Experiment,
            stream: int) -> Design:
    """The points of ``design`` over ``factors`` (see :func:`design_points`); ``stream``
    tells the sampled designs' random streams apart."""
    if not factors:
        return TableDesign({}, 1)
    salt = [spec.seed, 0x5EED] if stream == 0 else [spec.seed, 0x5EED, stream]
    rng = np.random.default_rng(np.random.SeedSequence(salt))
    names = list(factors)
    if design == "grid":
        levels = [factors[k].levels(spec.levels) for k in names]
        return TableDesign.of([dict(zip(names, combo, strict=True))
                               for combo in itertools.product(*levels)], names)
    if design == "oat":
        crossed = [k for k in names if factors[k].cross]
        swept = [k for k in names if not factors[k].cross]
        cross_combos = [dict(zip(crossed, c, strict=True)) for c in
                        itertools.product(*(factors[k].levels(spec.levels) for k in crossed))]
        points = []
        for k in swept or [None]:
            for combo in cross_combos:
                values = factors[k].levels(spec.levels) if k else [None]
                for v in values:
                    point = {"sweep": k or ""} | combo
                    if k:
                        point[k] = v
                    points.append(point)
        return TableDesign.of(points, names)
    if design in ("lhs", "random"):
        n, d = samples, len(names)
        if design == "lhs":
            u = (rng.permuted(np.tile(np.arange(n), (d, 1)), axis=1).T + rng.random((n, d))) / n
        else:
            u = rng.random((n, d))
        return TableDesign({k: factors[k].at_all(u[:, j]) for j, k in enumerate(names)}, n)
    problem = salib_problem(spec)
    if design == "sobol":
        a, b = _saltelli_bases(spec, problem)
        choices = {k: tuple(f.values) for k, f in factors.items() if f.values is not None}
        return SaltelliDesign(tuple(names), a, b,
                              np.array([factors[k].integer for k in names], bool), choices,
                              DUMMY if spec.dummy else None)
    x = _salib_sample(spec, problem)
    return TableDesign({k: factors[k].cast_column(x[:, j]) for j, k in enumerate(names)},
                       len(x))


def salib_problem(spec: Experiment) -> dict[str, Any]:
    """The SALib problem dictionary of a morris or sobol design's factors (a categorical
    factor of a sobol design is sampled on [0, 1), as quantiles; the dummy is not in it)."""
    names = list(spec.factors)
    return {"num_vars": len(names), "names": names,
            "bounds": [list(spec.factors[k].range or (0, 1)) for k in names]}


def _saltelli_bases(spec: Experiment, problem: dict[str, Any]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The two base matrices of SALib's Saltelli design (``sobol.sample`` without second
    order), scaled to the factors' ranges: its rows are made of theirs
    (:class:`ctsim.runs.plan.SaltelliDesign`)."""
    try:
        from SALib.util import scale_samples
        from scipy.stats import qmc
    except ImportError:
        raise ExperimentError("<experiment>", "design",
                              "sobol needs SALib: pip install 'ctsim[sa]'") from None
    d = problem["num_vars"]
    base = qmc.Sobol(d=2 * d, scramble=True, seed=spec.seed % 2**32).random(spec.samples)
    return (scale_samples(np.ascontiguousarray(base[:, :d]), dict(problem)),
            scale_samples(np.ascontiguousarray(base[:, d:]), dict(problem)))


def _salib_sample(spec: Experiment, problem: dict[str, Any]) -> np.ndarray:
    try:
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        raise ExperimentError("<experiment>", "design",
                            f"{spec.design} needs SALib: pip install 'ctsim[sa]'") from None
    if spec.design == "morris":
        return morris_sample.sample(problem, N=spec.trajectories, num_levels=spec.levels,
                                    seed=spec.seed % 2**32)
    return sobol_sample.sample(problem, N=spec.samples, calc_second_order=False,
                               seed=spec.seed % 2**32)


# ---------------------------------------------------------------- runs


def plan_of(loaded: LoadedExperiment) -> Plan:
    """Every run of the experiment, as columns: scenarios x points x replications, in
    run-id order (:class:`ctsim.runs.plan.Plan`).

    Replication ``r`` uses the same seed at every point and in every scenario (common
    random numbers), the seed ``ctsim run --seed <experiment seed>`` gives replication
    ``r``: any run of a sweep can be repeated on its own.

    With ``uncertainty`` (a stored posterior), replication ``r`` also takes the
    ``r // runs_per_draw``-th parameter set drawn from the posterior
    (:func:`ctsim.runs.posterior.posterior_draws` from the experiment's seed), the same at
    every point and in every scenario.

    With a contrast, it is the last scenario: its runs pair with the scenario's by seed.
    With a dummy factor, the points that take the dummy from Saltelli's ``B`` matrix run
    replication ``r`` with the seed replication ``R + r`` of ``2 R`` replications would
    have (:class:`ctsim.runs.plan.SaltelliDesign`), the same in the contrast.
    """
    spec = loaded.spec
    total = count_runs(spec, len(loaded.scenario_dicts))
    if total > RUNS_MAX:
        raise ExperimentError(str(loaded.path), "", too_many_runs(
            spec, len(loaded.scenario_dicts), total))
    seeds = np.array(replication_seeds(spec.seed, spec.replications), np.int64)
    other = None
    if spec.dummy:  # the first R of 2R seeds are the R seeds (SeedSequence.spawn)
        other = np.array(replication_seeds(spec.seed, 2 * spec.replications)
                         [spec.replications:], np.int64)
    draws: tuple[dict[str, Any], ...] = ()
    if loaded.posterior is not None:
        from ctsim.runs.posterior import posterior_draws

        k = spec.runs_per_draw
        draws = tuple(d for d in posterior_draws(loaded.posterior, spec.replications // k,
                                                 spec.seed) for _ in range(k))
    return Plan(len(loaded.scenario_dicts), design_of(spec), seeds, draws, other)


def plan_runs(loaded: LoadedExperiment) -> list[RunSpec]:
    """Every run of the experiment (:func:`plan_of`), one :class:`RunSpec` each, in run-id
    order: for reading a plan, not for running a large one."""
    plan = loaded.plan()
    return plan.specs(0, len(plan))
