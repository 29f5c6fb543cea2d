"""Where a sweep's batches run: in this process, a local process pool or a Dask cluster;
the sweep loop (:func:`execute`) is the same for each.

Stopping: when the sweep loop is interrupted (Ctrl-C, or SIGTERM, which the ``ctsim``
command turns into the same interrupt) or fails, it aborts its executor
(:meth:`Executor.abort`): a pool's workers are terminated at once, not waited for, so the
command ends promptly and leaves no process behind (the batches stored so far are kept
for ``--resume``). Ctrl-C at a terminal reaches every process of the command: a pool's
workers and its forkserver do not take it (only the sweep's own process does, and stops
them), so one interrupt gives one line, not a traceback from each worker. A worker whose
sweep process dies without stopping it (SIGKILL) ends by itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing.forkserver
import multiprocessing.popen_forkserver  # what the starting thread uses, imported here: it
import multiprocessing.popen_spawn_posix  # imports nothing (see ProcessExecutor)
import os
import select
import signal
import threading
from collections.abc import Callable, Iterable

from ctsim.errors import CtsimError
from ctsim.runs.worker import Payload, run_batch, run_pooled, set_payload


class Executor:
    """Runs batches somewhere: ``submit(payload, batch)`` returns a future, ``wait`` some.

    The sweep loop is the same for every executor; only where a batch runs differs.
    """

    workers = 1

    def submit(self, batch: list):  # pragma: no cover - interface
        raise NotImplementedError

    def wait(self, pending: set) -> tuple[set, set]:
        """Block until at least one future is done; return (done, still pending).

        The wait returns to Python every :data:`TICK` seconds, so that a signal handler
        (Ctrl-C) runs at once even when the signal reached another thread.
        """
        import concurrent.futures as cf

        while True:
            done, rest = cf.wait(pending, timeout=TICK, return_when=cf.FIRST_COMPLETED)
            if done:
                return set(done), set(rest)

    def result(self, future) -> list:
        return future.result()

    def close(self) -> None:
        """Release workers."""

    def abort(self) -> None:
        """Stop at once (the sweep was interrupted or failed): drop the batches in flight
        and release the workers without waiting for them. :meth:`close` may follow."""
        self.close()


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

    The workers leave interrupts to the sweep's process: the forkserver is started with
    SIGINT blocked (its workers inherit the block) and each worker ignores SIGINT, so a
    Ctrl-C at the terminal reaches the sweep alone, which then terminates them
    (:meth:`abort`). Each worker also watches the sweep's process and exits when it is gone.
    """

    def __init__(self, payload: Payload, workers: int):
        import concurrent.futures as cf
        import multiprocessing as mp

        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["ctsim._warm"])
        self.workers = workers
        self.payload = payload
        self._forkserver = method == "forkserver"
        self._stopping = threading.Event()
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                           initializer=start_worker,
                                           initargs=(payload, os.getpid()))
        # Start every worker now, from a thread (starting one waits for the forkserver's
        # imports), so that they come up while the caller plans the runs.
        self._starting = threading.Thread(target=self._start_workers, daemon=True)
        self._starting.start()

    def _start_workers(self) -> None:
        """Start the forkserver and every worker (in the starting thread). SIGINT is
        blocked in this thread: what it starts inherits the block."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            if self._forkserver:
                multiprocessing.forkserver.ensure_running()
            for _ in range(self.workers):
                if self._stopping.is_set():
                    return
                self.pool.submit(int)
        except (RuntimeError, OSError, EOFError):  # the pool was stopped meanwhile
            return

    def submit(self, batch: list):
        # Every worker is started by the starting thread, none by this one: a process
        # start that Ctrl-C cut short here would leave a worker the pool does not know.
        _join(self._starting)
        return self.pool.submit(run_pooled, batch)

    def close(self) -> None:
        _join(self._starting)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Terminate the workers now (their batches in flight are lost; the stored ones are
        kept), then release the pool: no process of the pool is left when this returns."""
        self._stopping.set()
        if self._starting.is_alive():
            # Still starting: the forkserver may be loading the compiled weeks (a minute
            # when they must be compiled) with a worker's start waiting on it. Stop it,
            # so that no worker is forked after this; a worker it did fork is in the
            # pool once the starting thread (it starts no other) has ended.
            _stop_forkserver()
        _join(self._starting)
        self._terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _terminate(self) -> None:
        """SIGTERM to every worker process of the pool, and wait for each to end."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join()


#: Seconds a wait of the sweep's process lasts at most before Python looks at signals.
TICK = 0.25


def _join(thread: threading.Thread) -> None:
    """Wait for ``thread`` to end, looking at signals every :data:`TICK` seconds."""
    while thread.is_alive():
        thread.join(TICK)


def _stop_forkserver() -> None:
    """Terminate this process's forkserver, if it runs (the next pool starts another)."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


def start_worker(payload: Payload, sweep_pid: int) -> None:
    """A pool worker's initializer: leave SIGINT to the sweep's process, end this worker
    when that process is gone (:func:`_exit_with`), keep the payload
    (:func:`ctsim.runs.worker.set_payload`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with(sweep_pid)
    set_payload(payload)


def _exit_with(pid: int) -> None:
    """End this process as soon as process ``pid`` ends (a daemon thread waits on a
    process file descriptor; where there is none, it looks once a second)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here (before Linux 5.3, not Linux)
        fd = None

    def wait() -> None:
        if fd is not None:
            poll = select.poll()
            poll.register(fd, select.POLLIN)
            while not poll.poll():  # readable when the process has ended
                pass
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:  # alive, another user's: not ours to watch
                    pass
                threading.Event().wait(1.0)
        os._exit(1)

    threading.Thread(target=wait, name="ctsim-sweep-watch", daemon=True).start()


class DaskExecutor(Executor):
    """A Dask cluster: an existing scheduler at ``address``, or a LocalCluster.

    Every worker is warm before its first batch: a LocalCluster's workers start with the
    preload :mod:`ctsim.runs.dask_preload`, as a real cluster's may (``dask worker
    --preload ctsim.runs.dask_preload``), and on connecting the executor registers that
    module's :class:`~ctsim.runs.dask_preload.WarmUp` plugin, which warms any worker started
    without it (and each that joins later) before it is given a batch. The payload is
    scattered to every worker once; batches are plain tasks that name it.
    """

    #: The module a LocalCluster's workers preload (``dask worker --preload`` on a cluster).
    PRELOAD = "ctsim.runs.dask_preload"

    def __init__(self, payload: Payload, workers: int, address: str | None = None):
        try:
            from dask.distributed import Client, LocalCluster

            from ctsim.runs.dask_preload import WarmUp
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
                                            processes=True, dashboard_address=None,
                                            preload=[self.PRELOAD])
                self.client = Client(self.cluster)
            # Waits until every connected worker is warm (at once where the preload ran).
            self.client.register_plugin(WarmUp())
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
        """Block until at least one batch is done, looking at signals every :data:`TICK`
        seconds (as :meth:`Executor.wait`)."""
        from dask.distributed import wait

        while True:
            try:
                done, rest = wait(list(pending), timeout=TICK, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
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


def batch_size(runs: int, workers: int, cap: int = 1000) -> int:
    """Runs per batch: about four batches per worker (so that a worker seldom idles while
    another ends), at most ``cap`` runs each (a batch's results are held in memory until
    they are stored, and a killed sweep loses at most the batches in flight)."""
    return max(1, min(cap, -(-runs // (workers * 4))))


def in_batches(runs: list, size: int) -> list[list]:
    """``runs`` (RunSpecs in run-id order) in batches of at most ``size`` runs of
    consecutive ids (a resumed sweep's gaps split batches), so that stored parts cover
    disjoint ranges."""
    batches: list[list] = []
    for run in runs:
        if batches and len(batches[-1]) < size and batches[-1][-1].run_id + 1 == run.run_id:
            batches[-1].append(run)
        else:
            batches.append([run])
    return batches


def execute(executor: Executor, batches: Iterable, on_batch: Callable[[list], None]) -> None:
    """Run ``batches`` (each a :class:`ctsim.runs.plan.Span` or a list of RunSpecs, see
    :func:`in_batches`) with at most two batches per worker in flight.

    ``batches`` is read as the loop goes (a plan's spans are made as they are asked for),
    so a million runs never sit in memory. ``on_batch`` gets each finished batch's results
    as it arrives (any order), so the caller can store it and let it go: memory holds a
    bounded number of batches. When anything interrupts the loop (Ctrl-C, an error while
    storing a batch), the executor is aborted (:meth:`Executor.abort`) before the
    exception goes on.
    """
    waiting = iter(batches)
    window = max(2, 2 * executor.workers)
    pending: set = set()
    more = True
    try:
        while more or pending:
            while more and len(pending) < window:
                batch = next(waiting, None)
                if batch is None:
                    more = False
                    break
                pending.add(executor.submit(batch))
            if not pending:
                break
            done, pending = executor.wait(pending)
            for future in done:
                on_batch(executor.result(future))
    except BaseException:  # interrupted, or a batch could not be stored: stop the rest now
        executor.abort()
        raise
