"""Calibration: which parameter values are consistent with published patterns.

A calibration file (``experiments/calibrate_*.yaml``, docs/calibration.md) names a
scenario, the parameters to estimate with their priors (each with the reason for its
range), and the targets it fits and those it holds out, picked by name from a targets
file (``experiments/targets.yaml``: each target's observed value, uncertainty, source and
how it maps to the model). :func:`load_calibration` checks both files with the one-line
errors of every ctsim file.

:func:`calibrate` runs approximate Bayesian computation by sequential Monte Carlo
(ABC-SMC; Toni et al. 2009, Beaumont et al. 2009) with pyabc: each particle (one draw of
the parameters) is run ``replications`` times through the sweep's run function
(:func:`ctsim.runner.run_batch`); its summary statistics are the fitted targets' values
over those runs (:func:`target_values`); its distance to the observations is the
Euclidean distance of the standardized differences ``(simulated - observed) / sd``. The
SQLite history of pyabc is the store: a killed calibration resumes from its last complete
population. At the end, :func:`posterior_predictive` runs the model at posterior draws
(the sweep's executors) and compares every target, fitted and held out, with its
observation; :func:`write_outputs` writes posterior.csv, populations.csv, predictive.csv,
summary.json, the figures and REPORT.md.

:func:`posterior_draws` draws parameter sets from a stored posterior for sweeps and runs
(``uncertainty:``), from a numpy Generator seeded by SeedSequence.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_validator

from ctsim import __version__
from ctsim.core.limits import REPLICATIONS_MAX, SEED_MAX, STEPS_MAX
from ctsim.core.outcomes import METRICS
from ctsim.core.scenario import (
    MemberRule,
    Origins,
    ScenarioError,
    _Strict,
    apply_overrides,
    first_error,
    load_raw,
    read_yaml,
    scenario_from_dict,
)
from ctsim.errors import CtsimError, ExperimentError, OutputError, ResultsError
from ctsim.stats import weighted_quantiles

#: The file a calibration's posterior is stored in (one row a particle of the last
#: population: the parameters as the model used them, and the particle's weight).
POSTERIOR_FILE = "posterior.csv"

Name = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=80)]

#: The fields of a target that decide a calibration's particles and distances.
DECIDING = {"metric", "among", "contrast", "observed", "sd"}


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

    The quantity is ``metric`` over a particle's runs: for ``disruption_rate`` with
    ``among`` (a member rule: names, ISO3 codes or ``{membership: ORG}``), the pooled
    disruption rate of the settled plots aimed at those states; with ``contrast`` (a
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
        if self.among is not None and self.metric != "disruption_rate":
            raise ValueError("among: is for the disruption_rate metric only")
        if self.among is not None and self.contrast is not None:
            raise ValueError("give among or contrast, not both")
        if self.verified == "unread":
            if self.observed is not None or self.sd is not None:
                raise ValueError("a figure that could not be read (verified: unread) has no "
                                 "observed value or sd")
        elif self.observed is None or self.sd is None:
            raise ValueError("give observed and sd (or verified: unread if the figure could "
                             "not be read)")
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
    data, lines = read_yaml(path)
    origins = Origins(str(path))
    origins.add(str(path), lines)
    return _validated(TargetsFile, data, origins, ExperimentError)


def load_calibration(path: str | Path) -> LoadedCalibration:
    """Read and check a calibration file, its targets file, its scenario and every
    parameter's range in that scenario (and in each contrast scenario).

    Raises:
        ExperimentError: one line naming the file and key, as for scenarios.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    origins = Origins(str(path))
    origins.add(str(path), lines)
    if "fit" not in data and ({"design", "factors", "scenarios", "targets"} & set(data)):
        raise ExperimentError(str(path), "", "a sweep or targets file, not a calibration "
                              "(no fit: list): run a sweep with ctsim sweep")
    spec: Calibration = _validated(Calibration, data, origins, ExperimentError)

    def fail(key: str, message: str) -> ExperimentError:
        source, line = origins.locate(key)
        return ExperimentError(source, key, message, line)

    targets_path = path.parent / spec.targets_file
    if not targets_path.is_file():
        raise fail("targets_file", f"targets file not found: {spec.targets_file}")
    targets = {t.name: t for t in load_targets(targets_path).targets}
    for key in ("fit", "held_out"):
        for i, name in enumerate(getattr(spec, key)):
            if name not in targets:
                raise fail(f"{key}.{i}", f"no target '{name}' in {spec.targets_file}")
            if targets[name].verified == "unread":
                raise fail(f"{key}.{i}", f"target '{name}' has no observed value (its "
                           "figure could not be read: verified: unread)")

    scenario_file = path.parent / spec.scenario
    if not scenario_file.is_file():
        raise fail("scenario", f"scenario file not found: {spec.scenario}")
    base, _ = load_raw(scenario_file)
    scenario = scenario_from_dict(copy.deepcopy(base), source=str(scenario_file))
    dicts, contrasts = [base], []
    for name in [*spec.fit, *spec.held_out]:
        file = targets[name].contrast
        if file is None or file in contrasts:
            continue
        target_file = targets_path.parent / file
        if not target_file.is_file():
            raise ExperimentError(str(targets_path), f"{name}.contrast",
                                  f"scenario file not found: {file}")
        raw, _ = load_raw(target_file)
        scenario_from_dict(copy.deepcopy(raw), source=str(target_file))
        dicts.append(raw)
        contrasts.append(file)

    for key, prior in spec.parameters.items():
        for value in {prior.value(v) for v in prior.range}:
            for raw in dicts:
                try:
                    scenario_from_dict(apply_overrides(copy.deepcopy(raw), {key: value}))
                except ScenarioError as exc:
                    detail = f"{exc.key}: {exc.message}" if exc.key else exc.message
                    raise fail(f"parameters.{key}", f"value {value!r}: {detail}") from None

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


# ---------------------------------------------------------------- one particle


def particle_overrides(loaded: LoadedCalibration, params: dict[str, float]
                       ) -> dict[str, float | int]:
    """The scenario overrides of a particle's sampled values (integers rounded down)."""
    return {k: prior.value(float(params[k])) for k, prior in loaded.spec.parameters.items()}


def particle_seeds(seed: int, overrides: dict[str, float | int], count: int) -> list[int]:
    """``count`` run seeds for a particle, derived by SeedSequence from the calibration's
    seed and the particle's values: the same particle always runs the same seeds."""
    digest = hashlib.sha256(json.dumps(overrides, sort_keys=True).encode()).digest()
    words = [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]
    children = np.random.SeedSequence([int(seed), *words]).spawn(count)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


def payload_of(loaded: LoadedCalibration):
    """The runner's payload: every scenario of the calibration, the metrics its targets
    read, per-nation counts kept when a target is about some states' plots."""
    from ctsim.runner import Payload

    metrics = tuple(dict.fromkeys(loaded.targets[n].metric for n in loaded.used))
    return Payload(tuple(loaded.scenario_dicts), (loaded.steps,) * len(loaded.scenario_dicts),
                   metrics, False, loaded.fingerprint(), bool(loaded.masks))


def particle_specs(loaded: LoadedCalibration, overrides: dict[str, Any], seeds: list[int],
                   first_id: int = 0, names: list[str] | None = None) -> list:
    """The runs of one particle: each seed in the calibrated scenario and, when the
    targets ``names`` (default: all used) need them, in their contrast scenarios."""
    from ctsim.experiment import RunSpec

    wanted = names if names is not None else loaded.used
    needed = {loaded.contrasts.index(loaded.targets[n].contrast) + 1 for n in wanted
              if loaded.targets[n].contrast is not None}
    specs, run_id = [], first_id
    for index in [0, *sorted(needed)]:
        for r, seed in enumerate(seeds):
            specs.append(RunSpec(run_id, 0, r, seed, index, dict(overrides)))
            run_id += 1
    return specs


def target_values(loaded: LoadedCalibration, specs: list, results: list,
                  names: list[str]) -> dict[str, float]:
    """Each target's value over one particle's runs (see :class:`Target`); NaN when it is
    undefined (no settled plot aimed at the states, a failed run, a contrast of 0)."""
    from ctsim.runner import pooled_disruption

    by_scenario: dict[int, list[tuple[dict, dict]]] = {}
    for spec, result in zip(specs, results, strict=True):
        by_scenario.setdefault(spec.scenario, []).append(result)
    base = by_scenario[0]
    if any(row["status"] != "ok" for rows in by_scenario.values() for row, _ in rows):
        return dict.fromkeys(names, float("nan"))

    def mean_of(rows: list[tuple[dict, dict]], metric: str) -> float:
        values = [row[metric] for row, _ in rows if np.isfinite(row[metric])]
        return float(np.mean(values)) if values else float("nan")

    out = {}
    for name in names:
        t = loaded.targets[name]
        if t.among is not None:
            targets = np.stack([np.stack([tables["nat"]["targeted"], tables["nat"]["disrupted"]])
                                for _, tables in base])
            out[name] = pooled_disruption(targets, loaded.masks[name])
        elif t.contrast is not None:
            other = mean_of(by_scenario[loaded.contrasts.index(t.contrast) + 1], t.metric)
            mine = mean_of(base, t.metric)
            out[name] = (other - mine) / other if other else float("nan")
        else:
            out[name] = mean_of(base, t.metric)
    return out


def standardized_distance(loaded: LoadedCalibration, simulated: dict[str, float]) -> float:
    """Euclidean distance of the fitted targets' standardized differences,
    ``sqrt(sum(((simulated - observed) / sd) ** 2))`` (dimensionless, >= 0); infinite when
    a simulated value is undefined."""
    total = 0.0
    for name in loaded.spec.fit:
        t = loaded.targets[name]
        x = simulated.get(name, float("nan"))
        if not np.isfinite(x):
            return math.inf
        total += ((x - t.observed) / t.sd) ** 2
    return math.sqrt(total)


class ParticleModel:
    """The model pyabc calls: a particle's parameters to its fitted targets' values.

    Runs in pyabc's sampler processes (pickled there); the payload is built once per
    process.
    """

    def __init__(self, loaded: LoadedCalibration):
        self.loaded = loaded
        self._payload = None

    def __getstate__(self) -> dict:
        return {"loaded": self.loaded, "_payload": None}

    def __call__(self, params: Any) -> dict[str, float]:
        from ctsim.runner import run_batch

        if self._payload is None:
            self._payload = payload_of(self.loaded)
        spec = self.loaded.spec
        overrides = particle_overrides(self.loaded, dict(params))
        seeds = particle_seeds(spec.seed, overrides, spec.replications)
        specs = particle_specs(self.loaded, overrides, seeds, names=spec.fit)
        results = run_batch(self._payload, specs)
        return target_values(self.loaded, specs, results, spec.fit)


# ---------------------------------------------------------------- ABC-SMC


@dataclass
class CalibrationResult:
    """What a calibration wrote and found."""

    out: Path
    populations: Any  # pandas.DataFrame: t, epsilon, particles, samples, acceptance_rate
    posterior: Any  # pandas.DataFrame: the parameters and weight of each particle
    predictive: Any  # pandas.DataFrame, one row a target (None when not run)
    resumed_from: int  # populations already stored when this call started
    seconds: float


def _prior(loaded: LoadedCalibration):
    import pyabc

    return pyabc.Distribution(**{
        k: pyabc.RV("uniform", p.range[0], p.width) for k, p in loaded.spec.parameters.items()})


def _sampler(workers: int, scheduler: str | None, seed: int):
    import pyabc

    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise CtsimError("the dask executor needs: pip install 'ctsim[dist]'") from None
        try:
            client = Client(scheduler, timeout="30s")
        except Exception as exc:
            text = f"--scheduler {scheduler}: cannot use the cluster ({type(exc).__name__}: {exc})"
            raise CtsimError(text.splitlines()[0]) from None
        return pyabc.sampler.DaskDistributedSampler(dask_client=client), client
    if workers <= 1:
        np.random.seed(np.random.SeedSequence([seed, 0xABC]).generate_state(1)[0])
        return pyabc.sampler.SingleCoreSampler(), None
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers), None


def _stored_fingerprint(out: Path) -> str | None:
    try:
        return json.loads((out / "calibration.json").read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def calibrate(loaded: LoadedCalibration, out: Path, *, workers: int = 2,
              scheduler: str | None = None, resume: bool = False, predictive: bool = True,
              on_population=None) -> CalibrationResult:
    """Run (or resume) ABC-SMC for ``loaded`` into ``out``, then its predictive checks.

    Args:
        loaded: the checked calibration.
        out: the results folder; holds ``history.db`` (pyabc's SQLite store) and, at the
            end, the tables, figures and REPORT.md.
        workers: sampler processes (1: pyabc's single-core sampler, seeded from the
            calibration's seed, so the whole calibration repeats exactly).
        scheduler: a Dask scheduler address: pyabc's Dask sampler on that cluster.
        resume: continue the populations stored in ``out`` (a killed calibration loses
            only the population it was sampling).
        predictive: run the posterior predictive checks and write every output.
        on_population: called with (population index, epsilon, acceptance rate) after
            each population.

    The sampling stops after ``populations`` populations, or when epsilon falls to
    ``min_epsilon``, or by less than ``min_eps_diff`` from one population to the next
    (converged), or when the acceptance rate falls below ``min_acceptance``.

    Raises:
        OutputError: ``out`` holds a calibration and no ``resume``.
        ExperimentError: ``resume`` over another calibration's results.
    """
    import time

    import pyabc

    start = time.perf_counter()
    spec = loaded.spec
    db = out / "history.db"
    key = loaded.fingerprint()
    if db.exists() and not resume:
        raise OutputError(f"{out} already holds a calibration; add --resume to continue it "
                          "or choose another --out")
    if resume and db.exists() and _stored_fingerprint(out) != key:
        raise ExperimentError(str(out), "", "holds another calibration, other settings or "
                              "another ctsim version; cannot resume it there")
    out.mkdir(parents=True, exist_ok=True)
    for name in ("ABC", "ABC.Epsilon", "ABC.Population", "ABC.Sampler", "ABC.Distance",
                 "ABC.Acceptor", "ABC.History", "ABC.Transition", "ABC.Predictor"):
        logging.getLogger(name).setLevel(logging.INFO if name == "ABC" else logging.WARNING)
    logging.getLogger("ABC").propagate = False

    sampler, client = _sampler(workers, scheduler, spec.seed)
    try:
        abc = pyabc.ABCSMC(ParticleModel(loaded), _prior(loaded),
                           lambda x, _x0: standardized_distance(loaded, x),
                           population_size=spec.population, sampler=sampler)
        observed = {n: float(loaded.targets[n].observed) for n in spec.fit}
        if resume and db.exists():
            history = abc.load(f"sqlite:///{db}", 1)
            done = history.max_t + 1
        else:
            (out / "calibration.json").write_text(json.dumps(
                {"calibration": spec.name, "file": loaded.path.name, "fingerprint": key,
                 "ctsim_version": __version__}, indent=2) + "\n", encoding="utf-8")
            history = abc.new(f"sqlite:///{db}", observed)
            done = 0
        if not (done and _stopped(history, spec)) and done < spec.populations:
            abc_log = logging.getLogger("ABC")
            own = abc_log.handlers[:]  # pyabc's own handler prints every line: set aside
            abc_log.handlers = [_PopulationLog(on_population)]
            try:
                history = abc.run(max_nr_populations=spec.populations - done,
                                  minimum_epsilon=spec.min_epsilon,
                                  min_acceptance_rate=spec.min_acceptance,
                                  min_eps_diff=spec.min_eps_diff)
            finally:
                abc_log.handlers = own
    finally:
        if client is not None:
            client.close()
    pops = populations_table(history)
    post = posterior_table(loaded, history)
    pred = None
    if predictive:
        pred = posterior_predictive(loaded, post, workers=workers, scheduler=scheduler)
        write_outputs(loaded, out, pops, post, pred, stability_table(loaded, history))
    return CalibrationResult(out, pops, post, pred, done, time.perf_counter() - start)


class _PopulationLog(logging.Handler):
    """Turns pyabc's log lines of each population (``t: t, eps: e.`` at its start,
    ``Accepted: n / m = r, ...`` at its end) into ``on_population(t, epsilon, rate)``."""

    def __init__(self, on_population):
        super().__init__(logging.INFO)
        self.on_population = on_population
        self.t, self.eps = -1, math.nan

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        started = re.match(r"t: (\d+), eps: ([0-9.eE+-]+?|inf)\.?$", text)
        if started:
            self.t, self.eps = int(started.group(1)), float(started.group(2))
        done = re.match(r"Accepted: (\d+) / (\d+)", text)
        if done and self.on_population:
            self.on_population(self.t, self.eps, int(done.group(1)) / int(done.group(2)))


def _stopped(history, spec: Calibration) -> bool:
    """Whether the last stored population met a stopping rule (epsilon or acceptance)."""
    pops = populations_table(history)
    if not len(pops):
        return False
    last = pops.iloc[-1]
    converged = len(pops) > 1 and abs(pops.iloc[-2].epsilon - last.epsilon) < spec.min_eps_diff
    return bool(last.epsilon <= spec.min_epsilon or last.acceptance_rate < spec.min_acceptance
                or converged)


def populations_table(history):
    """Per population: its index ``t``, epsilon, accepted particles, sampled particles
    and acceptance rate (accepted / sampled)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    frame = pops[["t", "epsilon", "particles", "samples"]].copy()
    frame["acceptance_rate"] = frame["particles"] / frame["samples"]
    return frame


def posterior_table(loaded: LoadedCalibration, history, t: int | None = None):
    """Population ``t`` (default: the last): each particle's parameters as the model ran
    them (integers rounded down) and its normalized weight."""
    frame, weights = history.get_distribution(m=0, t=history.max_t if t is None else t)
    names = list(loaded.spec.parameters)
    post = frame[names].reset_index(drop=True).copy()
    for k, prior in loaded.spec.parameters.items():
        post[k] = [prior.value(v) for v in post[k]]
    post["weight"] = np.asarray(weights, float) / float(np.sum(weights))
    return post


# ---------------------------------------------------------------- posterior draws


def draw_rows(posterior, count: int, seed: int, stream: int) -> list[dict[str, Any]]:
    """``count`` particles drawn with replacement by weight from a posterior table, with
    a Generator seeded by ``SeedSequence([seed, stream])``."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(stream)]))
    w = posterior["weight"].to_numpy(float)
    picks = rng.choice(len(posterior), size=count, replace=True, p=w / w.sum())
    names = [c for c in posterior.columns if c != "weight"]
    rows = []
    for i in picks:
        row = {}
        for k in names:
            v = posterior[k].iloc[int(i)]
            row[k] = int(v) if isinstance(v, np.integer) else float(v)
        rows.append(row)
    return rows


#: The stream of posterior draws for sweeps and runs (``uncertainty:``).
DRAW_STREAM = 0xD2A3


def read_posterior(folder: str | Path):
    """A stored posterior (``posterior.csv`` of a calibration's results folder).

    Raises:
        ResultsError: the folder holds no readable posterior.
    """
    import pandas as pd

    path = Path(folder) / POSTERIOR_FILE
    try:
        post = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder}: no readable {POSTERIOR_FILE} (a calibration's results "
                           f"folder, from ctsim calibrate): {type(exc).__name__}") from None
    if "weight" not in post.columns or len(post) == 0 or len(post.columns) < 2:
        raise ResultsError(f"{path}: not a posterior (a weight column and one column per "
                           "parameter)")
    return post


def posterior_draws(folder: str | Path, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` parameter sets drawn by weight from the posterior stored in ``folder``,
    one per replication: the same seed gives the same draws, in the same order."""
    return draw_rows(read_posterior(folder), count, seed, DRAW_STREAM)


def posterior_digest(folder: str | Path) -> str:
    """A hash of a stored posterior (a sweep's fingerprint includes it)."""
    return hashlib.sha256((Path(folder) / POSTERIOR_FILE).read_bytes()).hexdigest()


# ---------------------------------------------------------------- predictive checks


#: The stream of the predictive checks' draws.
PREDICTIVE_STREAM = 0x99C


def posterior_predictive(loaded: LoadedCalibration, posterior, *, workers: int = 2,
                         scheduler: str | None = None):
    """Run the model at ``predictive`` posterior draws (``replications`` runs each, fresh
    seeds) and compare every target, fitted and held out, with its observation.

    One row per target: its role, observed value and sd, the mean and 2.5% and 97.5%
    quantiles of its simulated value over the draws, and ``z`` = (mean - observed) /
    sqrt(sd^2 + simulated variance): a target is ``consistent`` when |z| < 1.96. Runs go
    through the sweeps' executors (serial, process or dask).
    """
    import pandas as pd

    from ctsim.runner import batch_size, execute, make_executor

    spec = loaded.spec
    draws = draw_rows(posterior, spec.predictive, spec.seed, PREDICTIVE_STREAM)
    specs_of, all_specs = [], []
    for d, overrides in enumerate(draws):
        seeds = particle_seeds(spec.seed + 1 + d, overrides, spec.replications)
        specs = particle_specs(loaded, overrides, seeds, first_id=len(all_specs))
        specs_of.append(specs)
        all_specs.extend(specs)
    results: dict[int, tuple[dict, dict]] = {}

    def keep(batch: list) -> None:
        for row, tables in batch:
            results[row["run_id"]] = (row, tables)

    kind = "dask" if scheduler else ("serial" if workers <= 1 else "process")
    ex = make_executor(kind, payload_of(loaded), workers, scheduler)
    try:
        execute(ex, all_specs, batch_size(len(all_specs), ex.workers), keep)
    finally:
        ex.close()
    values = {n: [] for n in loaded.used}
    for specs in specs_of:
        got = target_values(loaded, specs, [results[s.run_id] for s in specs], loaded.used)
        for n in loaded.used:
            values[n].append(got[n])
    rows = []
    for n in loaded.used:
        t = loaded.targets[n]
        x = np.asarray([v for v in values[n] if np.isfinite(v)], float)
        mean = float(x.mean()) if len(x) else float("nan")
        var = float(x.var(ddof=1)) if len(x) > 1 else 0.0
        lo, hi = (np.quantile(x, [0.025, 0.975]).tolist() if len(x) else [math.nan] * 2)
        z = (mean - t.observed) / math.sqrt(t.sd ** 2 + var)
        rows.append({"target": n, "role": "fit" if n in spec.fit else "held_out",
                     "metric": t.metric, "observed": t.observed, "sd": t.sd,
                     "simulated_mean": mean, "simulated_lo": lo, "simulated_hi": hi,
                     "z": z, "consistent": bool(abs(z) < 1.96), "draws": len(x)})
    return pd.DataFrame(rows)


def parameter_summary(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """Per parameter: its prior range, posterior mean, median and 95% credible interval
    (weighted quantiles), and ``shrinkage`` = 1 - interval width / prior width (0: the
    data say nothing the prior did not; near 1: pinned down). A parameter is called
    ``pinned`` when its interval covers less than half its prior's range."""
    w = posterior["weight"].to_numpy(float)
    rows = []
    for k, prior in loaded.spec.parameters.items():
        v = posterior[k].to_numpy(float)
        lo, med, hi = weighted_quantiles(v, w, [0.025, 0.5, 0.975])
        width = (hi + 1 - lo) if prior.integer else (hi - lo)
        shrink = 1.0 - width / prior.width
        rows.append({"parameter": k, "prior_lo": prior.range[0], "prior_hi": prior.range[1],
                     "integer": prior.integer, "mean": float(np.sum(v * w) / np.sum(w)),
                     "median": med, "ci95_lo": lo, "ci95_hi": hi, "shrinkage": shrink,
                     "pinned": bool(shrink > 0.5)})
    return rows


#: How many of the last populations the report compares, to show whether the posterior
#: settled.
SETTLED_OVER = 3


def stability_table(loaded: LoadedCalibration, history,
                    last: int = SETTLED_OVER) -> list[dict[str, Any]]:
    """Per population among the ``last`` ones and per parameter: the weighted median and
    95% credible interval, and ``moved``, the largest change of the three from the
    population before as a share of the prior's range (NaN for the first one shown).

    Epsilon keeps falling while runs are noisy (each population accepts the particles
    whose runs happened to land closest), so whether the posterior has settled is read
    from these quantiles rather than from epsilon."""
    rows: list[dict[str, Any]] = []
    first = max(0, history.max_t - last + 1)
    before: dict[str, list[float]] = {}
    for t in range(first, history.max_t + 1):
        post = posterior_table(loaded, history, t)
        w = post["weight"].to_numpy(float)
        for k, prior in loaded.spec.parameters.items():
            q = weighted_quantiles(post[k].to_numpy(float), w, [0.025, 0.5, 0.975])
            moved = (max(abs(a - b) for a, b in zip(q, before[k], strict=True)) / prior.width
                     if k in before else math.nan)
            rows.append({"t": t, "parameter": k, "ci95_lo": q[0], "median": q[1],
                         "ci95_hi": q[2], "moved": moved})
            before[k] = q
    return rows


def integer_modes(loaded: LoadedCalibration, posterior) -> list[dict[str, Any]]:
    """For each integer parameter and each of its values in the posterior: the share of
    the posterior weight on that value and the other parameters' weighted medians there,
    so that ridges along which the targets trade one parameter for another show."""
    w = posterior["weight"].to_numpy(float)
    rows = []
    for k, prior in loaded.spec.parameters.items():
        if not prior.integer:
            continue
        values = posterior[k].to_numpy()
        for v in sorted(set(values.tolist())):
            at = values == v
            row: dict[str, Any] = {"parameter": k, "value": int(v),
                                   "weight": float(w[at].sum() / w.sum())}
            for other in loaded.spec.parameters:
                if other != k:
                    row[other] = weighted_quantiles(posterior[other].to_numpy(float)[at],
                                                    w[at], [0.5])[0]
            rows.append(row)
    return rows


# ---------------------------------------------------------------- outputs


def write_outputs(loaded: LoadedCalibration, out: Path, pops, post, pred,
                  stability: list[dict[str, Any]] | None = None) -> None:
    """posterior.csv, populations.csv, predictive.csv, summary.json, the figures
    (posterior marginals and pairs, epsilon and acceptance by population, the predictive
    checks) and REPORT.md, beside history.db. ``stability``: :func:`stability_table`."""
    from ctsim import figures
    from ctsim.store import atomic_write

    spec = loaded.spec
    atomic_write(out / POSTERIOR_FILE, post.to_csv(index=False, float_format="%.8g").encode())
    atomic_write(out / "populations.csv", pops.to_csv(index=False, float_format="%.6g").encode())
    atomic_write(out / "predictive.csv", pred.to_csv(index=False, float_format="%.6g").encode())
    params = parameter_summary(loaded, post)
    doc = {"calibration": spec.name, "ctsim_version": __version__, "seed": spec.seed,
           "scenario": spec.scenario, "replications": spec.replications,
           "population": spec.population, "populations_run": len(pops),
           "fit": spec.fit, "held_out": spec.held_out,
           "parameters": params, "modes": integer_modes(loaded, post),
           "populations": pops.to_dict(orient="records"),
           "stability": stability or [],
           "predictive": pred.to_dict(orient="records")}
    atomic_write(out / "summary.json", (json.dumps(doc, indent=2, default=float) + "\n").encode())
    staging = out / ".figures.partial"
    shutil.rmtree(staging, ignore_errors=True)
    priors = {k: p.range for k, p in spec.parameters.items()}
    figures.save(figures.posterior_marginals(post, priors, spec.name), staging / "marginals")
    figures.save(figures.posterior_pairs(post, priors, spec.name), staging / "pairs")
    figures.save(figures.abc_populations(pops, spec.name), staging / "populations")
    figures.save(figures.predictive_checks(pred, spec.name), staging / "predictive")
    shutil.rmtree(out / "figures", ignore_errors=True)
    staging.rename(out / "figures")
    atomic_write(out / "REPORT.md", report_text(loaded, pops, params, pred,
                                                integer_modes(loaded, post),
                                                stability).encode())


def _stop_reason(spec: Calibration, pops) -> str:
    """Which stopping rule ended the sampling, in words."""
    last = pops.iloc[-1]
    if len(pops) > 1 and abs(pops.iloc[-2].epsilon - last.epsilon) < spec.min_eps_diff:
        return (f"The sampling converged: epsilon fell by less than {spec.min_eps_diff:g} "
                "from one population to the next.")
    if last.acceptance_rate < spec.min_acceptance:
        return (f"The sampling stopped when the acceptance rate fell below "
                f"{spec.min_acceptance:g}.")
    if last.epsilon <= spec.min_epsilon:
        return f"The sampling stopped when epsilon reached {spec.min_epsilon:g}."
    return (f"The sampling stopped at its cap of {spec.populations} populations with epsilon "
            "still falling, so the posterior may narrow with more populations (raise "
            "`populations` and continue with `--resume`).")


def _stability_lines(spec: Calibration, stability: list[dict]) -> list[str]:
    """The report's paragraph and table on whether the posterior settled over the last
    populations (:func:`stability_table`)."""
    if not stability:
        return []
    ts = sorted({r["t"] for r in stability})
    lines = ["Whether the posterior settled: each parameter's weighted median and 95% "
             "credible interval in the last populations, and the largest move of the three "
             "from the population before, as a share of the prior's range. Epsilon keeps "
             "falling while each particle's runs are noisy (a population keeps the "
             "particles whose runs landed closest), so this, not epsilon, says whether more "
             "populations would change the posterior.", "",
             "| parameter | " + " | ".join(f"population {t}" for t in ts) + " | moved |",
             "| --- | " + " | ".join("---:" for _ in ts) + " | ---: |"]
    moves = []
    for k, prior in spec.parameters.items():
        rows = [r for r in stability if r["parameter"] == k]
        fmt = (lambda v: f"{v:.0f}") if prior.integer else (lambda v: f"{v:.3f}")
        cells = [f"{fmt(r['median'])} [{fmt(r['ci95_lo'])}, {fmt(r['ci95_hi'])}]"
                 for r in rows]
        moved = rows[-1]["moved"]
        moves.append(moved)
        lines.append(f"| `{k}` | " + " | ".join(cells)
                     + (" | |" if math.isnan(moved) else f" | {100 * moved:.0f}% |"))
    known = [m for m in moves if not math.isnan(m)]
    if known:
        lines += ["", f"From population {ts[-2]} to {ts[-1]} no median or interval bound "
                  f"moved by more than {100 * max(known):.0f}% of its prior's range."]
    return [*lines, ""]


def report_text(loaded: LoadedCalibration, pops, params: list[dict], pred,
                modes: list[dict] | None = None,
                stability: list[dict] | None = None) -> str:
    """REPORT.md: what was fitted and held out, how the sampling went, which parameters
    the data pin down, and how every target compares with the model."""
    spec = loaded.spec
    last = pops.iloc[-1]
    lines = [f"# {spec.name}", "", spec.description.strip(), "",
             f"Written by `ctsim calibrate {loaded.path.name}` (ctsim {__version__}, seed "
             f"{spec.seed}): ABC-SMC with {spec.population} particles a population, "
             f"{spec.replications} runs a particle, {len(pops)} populations; predictive "
             f"checks at {spec.predictive} posterior draws.", "",
             "## Sampling", "",
             "| population | epsilon | accepted | sampled | acceptance rate |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for r in pops.itertuples():
        lines.append(f"| {r.t} | {r.epsilon:.3f} | {r.particles} | {r.samples} | "
                     f"{r.acceptance_rate:.3f} |")
    if len(pops) > 1:
        prev = pops.iloc[-2].epsilon
        drop = 1 - last.epsilon / prev if prev > 0 else 0.0
        lines += ["", f"The last population lowered epsilon by {100 * drop:.0f}% "
                  f"({prev:.3f} to {last.epsilon:.3f}) at an acceptance rate of "
                  f"{last.acceptance_rate:.3f}. " + _stop_reason(spec, pops)]
    lines += ["", "![epsilon and acceptance](figures/populations.png)", ""]
    lines += _stability_lines(spec, stability or [])
    lines += ["## Parameters", "",
              "| parameter | prior | posterior median | 95% credible interval | shrinkage |"
              " pinned down |", "| --- | --- | ---: | ---: | ---: | --- |"]
    for p in params:
        fmt = (lambda v: f"{v:.0f}") if p["integer"] else (lambda v: f"{v:.3f}")
        lines.append(f"| `{p['parameter']}` | uniform [{fmt(p['prior_lo'])}, "
                     f"{fmt(p['prior_hi'])}] | {fmt(p['median'])} | [{fmt(p['ci95_lo'])}, "
                     f"{fmt(p['ci95_hi'])}] | {p['shrinkage']:.2f} | "
                     f"{'yes' if p['pinned'] else 'no'} |")
    pinned = [p["parameter"] for p in params if p["pinned"]]
    loose = [p["parameter"] for p in params if not p["pinned"]]
    lines += ["", "Shrinkage is 1 - (credible interval width / prior width); a parameter "
              "counts as pinned down when its interval covers less than half its prior. "
              + (f"The targets pin down {', '.join(f'`{k}`' for k in pinned)}. "
                 if pinned else "The targets pin down no parameter on its own. ")
              + (f"They leave {', '.join(f'`{k}`' for k in loose)} wide (95% intervals "
                 "over at least half the prior; the modes below show how they trade off): "
                 "results that depend on these should be reported under the posterior "
                 "(`uncertainty:`), not at one value." if loose else ""),
              "", "![posterior marginals](figures/marginals.png)", ""]
    for k in dict.fromkeys(m["parameter"] for m in modes or []):
        others = [o for o in spec.parameters if o != k]
        lines += [f"The posterior by value of `{k}` (share of the weight, and the other "
                  "parameters' medians at that value):", "",
                  f"| `{k}` | weight | " + " | ".join(f"`{o}`" for o in others) + " |",
                  "| ---: | ---: | " + " | ".join("---:" for _ in others) + " |"]
        for m in (m for m in modes or [] if m["parameter"] == k):
            lines.append(f"| {m['value']} | {m['weight']:.2f} | "
                         + " | ".join(f"{m[o]:.3g}" for o in others) + " |")
        lines.append("")
    lines += ["![posterior pairs](figures/pairs.png)", "",
              "## Targets: posterior predictive checks", "",
              "| target | role | observed (sd) | simulated mean | 95% predictive interval "
              "| z | consistent |", "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in pred.itertuples():
        lines.append(f"| `{r.target}` | {r.role.replace('_', ' ')} | {r.observed:.3f} "
                     f"({r.sd:.3f}) | {r.simulated_mean:.3f} | [{r.simulated_lo:.3f}, "
                     f"{r.simulated_hi:.3f}] | {r.z:+.2f} | {'yes' if r.consistent else 'no'} |")
    lines += ["", "z = (simulated mean - observed) / sqrt(sd^2 + simulated variance); a "
              "target is consistent when |z| < 1.96. Held-out targets took no part in the "
              "fit.", "", "![predictive checks](figures/predictive.png)", "",
              "## What each target is", ""]
    for n in loaded.used:
        t = loaded.targets[n]
        s = t.source
        lines.append(f"- `{n}` ({'fitted' if n in spec.fit else 'held out'}): {s.author} "
                     f"({s.year}), *{s.title}*, {s.where}. Read: {t.verified}. "
                     f"{' '.join(t.match.split())}")
    return "\n".join(lines) + "\n"
