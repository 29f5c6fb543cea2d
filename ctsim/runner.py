"""Executing runs: seeds derived from a SeedSequence, single runs, replications.

Every run's seed is a plain int derived from the scenario (or experiment) seed and the
run's index with :class:`numpy.random.SeedSequence`, so a run can be repeated alone and
results do not depend on the order in which runs finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ctsim.core import Scenario
from ctsim.core.metrics import recorded_columns, target_outcomes
from ctsim.core.outcomes import METRICS
from ctsim.core.scenario import OverrideBase
from ctsim.core.simulation import Simulation, Streams
from ctsim.core.world import World
from ctsim.errors import CtsimError
from ctsim.stats import mean_ci

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RunResult:
    """One run: its seed, outcome metrics, (optionally) its weekly time series, the number
    of plots spawned from each nation's territory (``plots_by_base``, length N) and, per
    target nation, its settled plots and those disrupted (``targets``, shape (2, N))."""

    seed: int
    metrics: dict[str, float]
    timeseries: dict[str, np.ndarray] | None = None  # the weekly record, by column
    model: Simulation | None = field(default=None, repr=False)
    plots_by_base: np.ndarray | None = field(default=None, repr=False)
    targets: np.ndarray | None = field(default=None, repr=False)


def run_one(
    scenario: Scenario, seed: int, steps: int | None = None, *, timeseries: bool = True,
    keep_model: bool = False, metrics: Iterable[str] | None = None, nations: bool = True,
    streams: Streams | None = None,
) -> RunResult:
    """Run ``scenario`` once from ``seed`` for ``steps`` weeks (default: the scenario's).

    The run is a :class:`~ctsim.core.simulation.Simulation`: the CooperationModel's run
    without Mesa (the same weeks, bit for bit, at less cost). ``keep_model`` keeps it for
    figures of its world and trust. ``metrics``: only these outcomes (default: all);
    ``nations``: also count each nation's plots and their fates (``plots_by_base`` and
    ``targets``; None without). ``streams``: Generators to start at ``seed`` and reuse
    (:class:`~ctsim.core.simulation.Streams`; the same draws), not with ``keep_model``.
    """
    if streams is not None and keep_model:
        raise ValueError("a kept model needs streams of its own")
    rng = streams.start(int(seed)) if streams is not None else np.random.default_rng(int(seed))
    sim = Simulation(scenario, rng)
    sim.run(steps or scenario.steps)  # every week in one compiled call
    ts = None
    if timeseries:
        ts = {"step": np.arange(sim.steps + 1),
              **{k: np.asarray(v) for k, v in recorded_columns(sim.tally, 0, sim.steps).items()}}
    return RunResult(int(seed), sim.metrics(metrics), ts, sim if keep_model else None,
                     sim.counts.plots_by_base.copy() if nations else None,
                     target_outcomes(sim) if nations else None)


def run_replications(
    scenario: Scenario,
    seeds: Iterable[int],
    steps: int | None = None,
    *,
    on_done: Callable[[int], None] | None = None,
    keep_first_model: bool = True,
) -> list[RunResult]:
    """Run ``scenario`` once per seed, in order, in this process; ``on_done(i)`` after each
    (for tests and notebooks; the commands use :mod:`ctsim.pipeline`)."""
    results = []
    for i, seed in enumerate(seeds):
        results.append(run_one(scenario, seed, steps, keep_model=keep_first_model and i == 0))
        if on_done:
            on_done(i)
    return results


def metric_table(runs: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Each metric's mean, 95% interval (clipped to its range) and per-replication values,
    in :data:`METRICS` order, from a runs table (one row a replication, in order)."""
    out: dict[str, dict[str, object]] = {}
    for name, metric in METRICS.items():
        values = runs[name].tolist()
        mean, lo, hi = mean_ci(values, bounds=metric.bounds)
        out[name] = {"mean": _finite(mean), "ci95": [_finite(lo), _finite(hi)],
                     "values": [_finite(v) for v in values]}
    return out


def nations_table(results: list[RunResult]) -> pd.DataFrame:
    """The per-nation counts of runs (the ``nations.parquet`` table of a run folder): per
    run (``run_id``, its index) and ``nation``, the plots ``based`` there, the settled plots
    ``targeted`` at it and those ``disrupted``."""
    import pandas as pd

    frames = []
    for k, r in enumerate(results):
        n = len(r.plots_by_base)
        frames.append(pd.DataFrame({"run_id": k, "nation": np.arange(n),
                                    "based": r.plots_by_base, "targeted": r.targets[0],
                                    "disrupted": r.targets[1]}))
    return pd.concat(frames, ignore_index=True)


def haven_table(world: World, nations: pd.DataFrame) -> pd.DataFrame:
    """Per nation, largest haven first: its share of all plots based on its territory (mean
    over the runs and 95% interval) and mean plot count; the settled plots aimed at it per
    run and the share of those disrupted (pooled over the runs); capacity, region, bloc.

    ``nations``: the per-nation counts of every run (:func:`nations_table`, or a run
    folder's nations.parquet). The share is each run's ``based / plots``; the Herfindahl
    index of these shares is the ``haven_concentration`` metric (MODEL.md, outcome
    metrics). Its Student-t interval is clipped to [0, 1], the range a share can take.
    """
    import pandas as pd

    n = world.n
    ordered = nations.sort_values(["run_id", "nation"], kind="stable")
    counts = ordered["based"].to_numpy(float).reshape(-1, n)
    runs = len(counts)
    aimed = ordered["targeted"].to_numpy(float).reshape(-1, n).sum(axis=0)
    hit = ordered["disrupted"].to_numpy(float).reshape(-1, n).sum(axis=0)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    rows = []
    for i, name in enumerate(world.names):
        mean, lo, hi = mean_ci(shares[:, i], bounds=(0.0, 1.0))
        rows.append({"nation": name, "iso3": world.codes[i] if world.codes else "",
                     "region": world.region_names[world.region[i]],
                     "bloc": world.bloc_names[world.bloc[i]],
                     "capacity": float(world.capacity[i]), "share": mean,
                     "share_ci95_lo": lo, "share_ci95_hi": hi,
                     "plots": float(counts[:, i].mean()),
                     "targeted": aimed[i] / runs,
                     "target_disruption": hit[i] / aimed[i] if aimed[i] else float("nan")})
    frame = pd.DataFrame(rows)
    return frame.sort_values(["share", "nation"], ascending=[False, True], kind="stable",
                             ignore_index=True)


def pooled_disruption(targets: np.ndarray, mask: np.ndarray) -> float:
    """The disruption rate of the settled plots aimed at the nations in ``mask`` (bool,
    length N), pooled over runs: ``targets`` is one run's (2, N) per-target counts
    (:func:`ctsim.core.metrics.target_outcomes`: settled plots, disrupted) or a stack
    (R, 2, N) of several runs'. A share in [0, 1]; NaN when no plot was aimed at them."""
    counts = np.asarray(targets, float).reshape(-1, *np.shape(targets)[-2:])
    aimed, hit = counts[:, :, mask].sum(axis=(0, 2))
    return float(hit / aimed) if aimed else float("nan")


def disruption_among(results: list[RunResult], mask: np.ndarray) -> list[float]:
    """Per run, the disruption rate of the settled plots aimed at the nations in ``mask``
    (bool, length N), e.g. the EU's members; NaN for a run with none aimed at them."""
    return [pooled_disruption(r.targets, mask) for r in results]


def _finite(x: float) -> float | None:
    """JSON-safe number: NaN becomes None (null)."""
    return None if x is None or not np.isfinite(x) else float(x)


# ---------------------------------------------------------------- sweeps


@dataclass(frozen=True)
class Payload:
    """What every worker needs to run any run of a sweep: raw scenarios, steps, metrics.

    Sent once per worker (scattered on Dask), so runs need no access to the files.
    """

    scenario_dicts: tuple[dict, ...]
    steps: tuple[int, ...]
    metrics: tuple[str, ...]
    timeseries: bool
    fingerprint: str = ""
    nations: bool = False  # keep each run's per-nation counts (nations.parquet)


_BASES: dict[tuple[str, int], OverrideBase] = {}
_SCENARIO_CACHE: dict[tuple[str, int, str], Scenario] = {}


def _scenario_for(payload: Payload, index: int, overrides: dict) -> Scenario:
    """The validated scenario of a run (base scenarios prepared once per process)."""
    # Without a fingerprint (a payload built by hand), the scenario itself tells it apart.
    which = payload.fingerprint or repr(payload.scenario_dicts[index])
    key = (which, index, repr(sorted(overrides.items())))
    cached = _SCENARIO_CACHE.get(key)
    if cached is None:
        base = _BASES.get(key[:2])
        if base is None:
            if len(_BASES) > 64:
                _BASES.clear()
            base = _BASES[key[:2]] = OverrideBase(payload.scenario_dicts[index])
        cached = base.scenario(overrides)
        if len(_SCENARIO_CACHE) > 4096:
            _SCENARIO_CACHE.clear()
        _SCENARIO_CACHE[key] = cached
    return cached


_THIS_THREAD = threading.local()


def _streams() -> Streams:
    """This thread's Streams for sweep runs, made at its first run: a thread runs one run
    at a time (a Dask worker may run batches in several threads at once)."""
    streams = getattr(_THIS_THREAD, "streams", None)
    if streams is None:
        streams = _THIS_THREAD.streams = Streams()
    return streams


def run_batch(payload: Payload, specs: list) -> list[tuple[dict, dict[str, dict]]]:
    """Run a batch of sweep runs; a run that raises is returned as failed, not raised.

    Returns one ``(row, tables)`` per spec: ``row`` holds ``run_id``, ``status``
    ("ok"/"failed"), ``error`` and the metrics (NaN when failed); ``tables`` maps each kept
    per-run table (``ts``: the weekly record; ``nat``: per nation, the plots based there,
    the settled plots aimed at it and those disrupted) to its column arrays.
    """
    out = []
    for spec in specs:
        row: dict = {"run_id": spec.run_id, "status": "ok", "error": ""}
        tables: dict[str, dict] = {}
        try:
            scenario = _scenario_for(payload, spec.scenario, spec.overrides)
            result = run_one(scenario, spec.seed, payload.steps[spec.scenario],
                             timeseries=payload.timeseries, metrics=payload.metrics,
                             nations=payload.nations, streams=_streams())
            row.update({m: float(result.metrics[m]) for m in payload.metrics})
            if result.timeseries is not None:
                weeks = len(result.timeseries["step"])
                tables["ts"] = {"run_id": np.full(weeks, spec.run_id, np.int64),
                                **result.timeseries}
            if payload.nations:
                n = len(result.plots_by_base)
                tables["nat"] = {"run_id": np.full(n, spec.run_id, np.int64),
                                 "nation": np.arange(n, dtype=np.int64),
                                 "based": result.plots_by_base.astype(np.int64),
                                 "targeted": result.targets[0].astype(np.int64),
                                 "disrupted": result.targets[1].astype(np.int64)}
        except Exception as exc:  # a failed run is data, the sweep goes on
            row.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
            row.update(dict.fromkeys(payload.metrics, float("nan")))
        out.append((row, tables))
    return out


class Executor:
    """Runs batches somewhere: ``submit(payload, batch)`` returns a future, ``wait`` some.

    The sweep loop is the same for every executor; only where a batch runs differs.
    """

    workers = 1

    def submit(self, batch: list):  # pragma: no cover - interface
        raise NotImplementedError

    def wait(self, pending: set) -> tuple[set, set]:
        """Block until at least one future is done; return (done, still pending)."""
        import concurrent.futures as cf

        done, rest = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return set(done), set(rest)

    def result(self, future) -> list:
        return future.result()

    def close(self) -> None:
        """Release workers."""


class SerialExecutor(Executor):
    """Runs each batch at once in this process (debugging, tiny sweeps, exact tracebacks)."""

    def __init__(self, payload: Payload):
        self.payload = payload

    def submit(self, batch: list):
        import concurrent.futures as cf

        future: cf.Future = cf.Future()
        future.set_result(run_batch(self.payload, batch))
        return future


class ProcessExecutor(Executor):
    """A local process pool (``concurrent.futures``), workers started by forkserver.

    The forkserver imports :mod:`ctsim._warm` (modules and compiled weeks loaded once,
    inherited by every worker); each worker gets the payload once, at its start; the
    workers are started at once, so they come up while the caller plans the runs.
    """

    def __init__(self, payload: Payload, workers: int):
        import concurrent.futures as cf
        import multiprocessing as mp

        from ctsim import worker

        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["ctsim._warm"])
        self.workers = workers
        self.payload = payload
        self._run = worker.run_batch
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                           initializer=worker.set_payload,
                                           initargs=(payload,))
        # Start every worker now, from a thread (starting one waits for the forkserver's
        # imports), so that they come up while the caller plans the runs.
        self._starting = threading.Thread(
            target=lambda: [self.pool.submit(int) for _ in range(workers)], daemon=True)
        self._starting.start()

    def submit(self, batch: list):
        return self.pool.submit(self._run, batch)

    def close(self) -> None:
        self._starting.join()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A Dask cluster: an existing scheduler at ``address``, or a LocalCluster.

    The payload is scattered to every worker once; batches are plain tasks.
    """

    def __init__(self, payload: Payload, workers: int, address: str | None = None):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise CtsimError("the dask executor needs: pip install 'ctsim[dist]'") from None
        self.cluster = None
        self.client = None
        where = f"--scheduler {address}" if address else "local Dask cluster"
        try:
            if address:
                self.client = Client(address, timeout="30s")
            else:
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None)
                self.client = Client(self.cluster)
            info = self.client.scheduler_info()
            self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
            self.payload = self.client.scatter(payload, broadcast=True, timeout=60)
        except Exception as exc:  # any failure to reach or use the cluster: one line, no trace
            self.close()
            text = f"{where}: cannot use the cluster ({type(exc).__name__}: {exc})"
            raise CtsimError(text.splitlines()[0]) from None

    def submit(self, batch: list):
        return self.client.submit(run_batch, self.payload, batch, pure=False)

    def wait(self, pending: set) -> tuple[set, set]:
        from dask.distributed import wait

        done, rest = wait(list(pending), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, payload: Payload, workers: int,
                  scheduler: str | None = None) -> Executor:
    """The executor named ``kind``: serial, process or dask."""
    if kind == "serial":
        return SerialExecutor(payload)
    if kind == "process":
        return ProcessExecutor(payload, workers)
    if kind == "dask":
        return DaskExecutor(payload, workers, scheduler)
    raise ValueError(f"unknown executor '{kind}'")


def batch_size(runs: int, workers: int, cap: int = 250) -> int:
    """Runs per batch: about four batches per worker (so that a worker seldom idles while
    another ends), at most ``cap`` runs each (a batch's results are held in memory until
    they are stored, and a killed sweep loses at most the batches in flight)."""
    return max(1, min(cap, -(-runs // (workers * 4))))


def execute(executor: Executor, runs: list, size: int,
            on_batch: Callable[[list], None]) -> None:
    """Run ``runs`` in batches of ``size`` with at most two batches per worker in flight.

    A batch holds consecutive run ids only (a resumed sweep's gaps split batches), so
    stored parts cover disjoint ranges. ``on_batch`` gets each finished batch's results as
    it arrives (any order), so the caller can store it and let it go: memory holds a
    bounded number of batches.
    """
    batches: list[list] = []
    for run in runs:
        if batches and len(batches[-1]) < size and batches[-1][-1].run_id + 1 == run.run_id:
            batches[-1].append(run)
        else:
            batches.append([run])
    window = max(2, 2 * executor.workers)
    pending: set = set()
    nxt = 0
    while nxt < len(batches) or pending:
        while nxt < len(batches) and len(pending) < window:
            pending.add(executor.submit(batches[nxt]))
            nxt += 1
        done, pending = executor.wait(pending)
        for future in done:
            on_batch(executor.result(future))
