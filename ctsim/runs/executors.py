"""Where a sweep's batches run: in this process, a local process pool or a Dask cluster;
the sweep loop (:func:`execute`) is the same for each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ctsim.errors import CtsimError

if TYPE_CHECKING:
    pass

from ctsim.runs.worker import Payload, run_batch


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

        from ctsim.runs import worker
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["ctsim._warm"])
        self.workers = workers
        self.payload = payload
        self._run = worker.run_pooled
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
