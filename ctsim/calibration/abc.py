"""Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC; Toni et al. 2009,
Beaumont et al. 2009) with pyabc, by the calibration's method
(:mod:`ctsim.calibration.sampling`): a stochastic acceptor at temperature 1 (the default)
or the former rejection on the standardized distance. The SQLite history of pyabc is the
store: a killed calibration resumes from its last complete population. Several seeds run
as independent calibrations and are compared (:mod:`ctsim.calibration.compare`)."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ctsim._version import __version__
from ctsim.calibration.files import Calibration, LoadedCalibration, check_history
from ctsim.calibration.particle import ParticleModel
from ctsim.calibration.predictive import predictive_summary, predictive_values
from ctsim.calibration.report import (
    ess,
    noise_table,
    populations_table,
    posterior_table,
    stability_table,
    write_outputs,
)
from ctsim.errors import CtsimError, ExperimentError, OutputError
from ctsim.runs.posterior import POSTERIOR_FILE
from ctsim.runs.store import atomic_write, cannot_write, folder_lock, writing

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


#: What SQLite says when the place of its database takes no more writes.
_CANNOT_STORE = ("disk is full", "disk i/o error", "readonly database",
                 "unable to open database file")


@contextlib.contextmanager
def _history_written(out: Path) -> Iterator[None]:
    """Turn SQLite's failure to write ``out/history.db`` (a full disk, a read-only place:
    pyabc reports it as SQLAlchemy's OperationalError) into OutputError naming ``out``."""
    try:
        yield
    except Exception as exc:
        text = str(getattr(exc, "orig", None) or exc).lower()
        if type(exc).__name__ != "OperationalError" or not any(
                s in text for s in _CANNOT_STORE):
            raise
        raise OutputError(f"{out}: cannot write the calibration's history there "
                          f"({text.splitlines()[0]})") from None


def _forget_working_folder(db: Path, history_id: int) -> None:
    """Store this ctsim's version where pyabc stores the git commit of the working folder
    (or, outside a git repository, the working folder's absolute path): a calibration's
    folder says which ctsim made it, not where on the machine it was started."""
    try:
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            con.execute("UPDATE abc_smc SET git_hash = ? WHERE id = ?",
                        (f"ctsim {__version__}", int(history_id)))
    except sqlite3.Error as exc:
        raise OutputError(f"{db.parent}: cannot write the calibration's history there "
                          f"({exc})") from None


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

    The stochastic method stops at the first population sampled at temperature 1 (at the
    latest the ``populations``-th), or when the acceptance rate falls below
    ``min_acceptance`` (a budget rule: the report then says the posterior is tempered).
    The rejection-distance method stops after ``populations`` populations, or when epsilon
    falls to ``min_epsilon``, or by less than ``min_eps_diff`` from one population to the
    next (converged), or when the acceptance rate falls below ``min_acceptance``.

    ``out`` is checked before any work, as every results folder is
    (:func:`ctsim.runs.pipeline.check_output`: a new or empty folder, or a calibration's),
    and locked for the whole calibration (:func:`ctsim.runs.store.folder_lock`): a second
    command writing it is refused at once.

    Raises:
        OutputError: ``out`` cannot be used (a file, another command's results, a place
            that cannot be written, a full disk), is being written by another command, or
            holds a calibration and no ``resume``.
        ExperimentError: ``resume`` over another calibration's results.
    """
    from ctsim.runs.pipeline import check_output
    from ctsim.runs.store import check_place

    out = Path(out)
    check_place(out)
    with folder_lock(Path(os.path.abspath(out))), writing(out):
        check_output(out, resume=True, marker=CALIBRATION_FILE)  # resume: decided below
        return _calibrate(loaded, out, workers=workers, scheduler=scheduler, resume=resume,
                          predictive=predictive, on_population=on_population)


#: The file that says which calibration a results folder holds (its fingerprint).
CALIBRATION_FILE = "calibration.json"


def _calibrate(loaded: LoadedCalibration, out: Path, *, workers: int, scheduler: str | None,
               resume: bool, predictive: bool, on_population) -> CalibrationResult:
    """:func:`calibrate` once ``out`` is checked and locked."""
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
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    for name in ("ABC", "ABC.Epsilon", "ABC.Population", "ABC.Sampler", "ABC.Distance",
                 "ABC.Acceptor", "ABC.History", "ABC.Transition", "ABC.Predictor"):
        logging.getLogger(name).setLevel(logging.INFO if name == "ABC" else logging.WARNING)
    logging.getLogger("ABC").propagate = False

    from ctsim.calibration.sampling import parts as method_parts

    sampler, client = _sampler(workers, scheduler, spec.seed)
    try:
        stored = _stored_thresholds(db) if resume and db.exists() else {}
        parts = method_parts(loaded, stored)
        abc = pyabc.ABCSMC(ParticleModel(loaded), _prior(loaded), parts.distance,
                           population_size=spec.population, sampler=sampler,
                           transitions=parts.transition, eps=parts.eps,
                           acceptor=parts.acceptor)
        observed = {n: float(loaded.targets[n].reference) for n in spec.fit}
        with _history_written(out):
            if resume and db.exists():
                check_history(db)
                history = abc.load(f"sqlite:///{db}", 1)
                done = history.max_t + 1
            else:
                atomic_write(out / CALIBRATION_FILE, (json.dumps(
                    {"calibration": spec.name, "file": loaded.path.name, "fingerprint": key,
                     "ctsim_version": __version__}, indent=2) + "\n").encode())
                history = abc.new(f"sqlite:///{db}", observed)
                _forget_working_folder(db, history.id)
                done = 0
            if not (done and _stopped(history, spec)) and done < spec.populations:
                abc_log = logging.getLogger("ABC")
                own = abc_log.handlers[:]  # pyabc's own handler prints every line: set aside
                abc_log.handlers = [_PopulationLog(on_population)]
                try:
                    history = abc.run(max_nr_populations=spec.populations - done,
                                      minimum_epsilon=parts.minimum_epsilon,
                                      min_acceptance_rate=spec.min_acceptance,
                                      min_eps_diff=parts.min_eps_diff)
                finally:
                    abc_log.handlers = own
    finally:
        if client is not None:
            client.close()
    pops = populations_table(history)
    post = posterior_table(loaded, history)
    pred = None
    if predictive:
        draws = predictive_values(loaded, post, workers=workers, scheduler=scheduler)
        pred = predictive_summary(loaded, draws)
        stability = stability_table(loaded, history) if spec.method != "stochastic" else []
        write_outputs(loaded, out, pops, post, pred, stability, draws,
                      noise_table(loaded, history))
    return CalibrationResult(out, pops, post, pred, done, time.perf_counter() - start)


def _stored_thresholds(db: Path) -> dict[int, float]:
    """The threshold (epsilon or temperature) of each population stored in ``db``."""
    try:
        with contextlib.closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro",
                                                uri=True)) as con:
            return {int(t): float(e) for t, e in con.execute(
                "SELECT t, epsilon FROM populations WHERE t >= 0")}
    except sqlite3.Error:
        return {}


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
    """Whether the last stored population met a stopping rule (temperature 1, epsilon or
    acceptance)."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    if not len(pops):
        return False
    pops["acceptance_rate"] = pops["particles"] / pops["samples"]
    last = pops.iloc[-1]
    if spec.method == "stochastic":
        return bool(last.epsilon <= 1.0 or last.acceptance_rate < spec.min_acceptance)
    converged = len(pops) > 1 and abs(pops.iloc[-2].epsilon - last.epsilon) < spec.min_eps_diff
    return bool(last.epsilon <= spec.min_epsilon or last.acceptance_rate < spec.min_acceptance
                or converged)


# ---------------------------------------------------------------- several seeds


def calibrate_seeds(loaded: LoadedCalibration, base: Path, seeds: list[int], *,
                    workers: int = 2, scheduler: str | None = None, resume: bool = False,
                    predictive: bool = True, on_population=None,
                    compare_with: list[Path] | tuple[Path, ...] = ()
                    ) -> tuple[list[CalibrationResult], Path | None]:
    """Independent calibrations of ``loaded``, one per seed, each into
    ``base/seed-<S>/`` (:func:`calibrate`, one after the other), then the comparison of
    every finished one under ``base`` and in ``compare_with`` (:func:`compare_finished`).

    Returns:
        The seeds' results and the comparison's folder (None with fewer than two
        posteriors or without ``predictive``).

    Raises:
        OutputError, ExperimentError: as :func:`calibrate`; ``base`` holding anything but
            seed folders and a comparison.
        ResultsError: a folder of ``compare_with`` holds no finished calibration.
    """
    from ctsim.calibration.compare import check_base, seed_folder

    base = Path(base)
    check_base(base)
    for other in compare_with:
        finished_or_fail(Path(other))
    results = [calibrate(loaded.with_seed(s), seed_folder(base, s), workers=workers,
                         scheduler=scheduler, resume=resume, predictive=predictive,
                         on_population=on_population) for s in seeds]
    if not predictive:
        return results, None
    return results, compare_finished(base, compare_with, loaded.spec.name)


def finished_or_fail(folder: Path) -> list[Path]:
    """The finished calibrations in ``folder`` (itself, or its seed folders).

    Raises:
        ResultsError: none there.
    """
    from ctsim.calibration.compare import finished_in
    from ctsim.errors import ResultsError

    found = finished_in(folder) if folder.is_dir() else []
    if not found:
        raise ResultsError(f"{folder}: no finished calibration to compare with (a "
                           "calibration's results folder, or one of several seeds)")
    return found


def compare_finished(base: Path, compare_with: list[Path] | tuple[Path, ...] = (),
                     title: str = "") -> Path | None:
    """Write ``base/comparison/`` (:func:`ctsim.calibration.compare.write_comparison`)
    from the finished calibrations of ``compare_with`` (first: the reference a
    prior-sensitivity variant is compared with) and of ``base``; None when fewer than two
    posteriors are found.

    Raises:
        ResultsError: a folder of ``compare_with`` holds no finished calibration.
    """
    from ctsim.calibration import compare

    own = [compare.read_stored(f) for f in compare.finished_in(Path(base))]
    others = [compare.read_stored(f) for other in compare_with
              for f in finished_or_fail(Path(other))]
    stored = list({s.folder.resolve(): s for s in [*others, *own]}.values())
    if len(stored) < 2:
        return None
    out = Path(base) / compare.COMPARISON
    seeds = [s for s in own if s.folder != Path(base)]
    reason = compare.pool_reason(seeds)
    pooled = compare.pooled_posterior(seeds) if reason is None else None
    if pooled is not None:
        pooled_ess = ess(pooled["weight"])
        note = (f"The seeds of `{seeds[0].calibration}` pooled (each seed an equal share of "
                f"the weight): `{compare.POOLED}/{POSTERIOR_FILE}`, the posterior to draw from "
                f"(`uncertainty:`), with an ESS of {pooled_ess:.0f}: about "
                f"{0.025 * pooled_ess:.0f} effective particles beyond each 2.5% quantile.")
    else:
        note = f"No pooled posterior ({reason})."
    with folder_lock(Path(os.path.abspath(out))), writing(out):
        written = compare.write_comparison(stored, out, title or stored[-1].calibration,
                                           note)
    if pooled is not None:
        folder = Path(base) / compare.POOLED
        with folder_lock(Path(os.path.abspath(folder))), writing(folder):
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / POSTERIOR_FILE, pooled.to_csv(
                index=False, float_format="%.8g").encode())
    return written
