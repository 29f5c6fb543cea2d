"""Dask workers that start warm for ctsim's sweeps: a preload for ``dask worker`` and a
worker plugin that the Dask executor registers.

A batch of runs is the same function on a Dask worker as in a process pool's worker
(:func:`ctsim.runs.worker.run_batch`), but a worker that ``dask worker`` started is a new
interpreter: without help, its first batch imports ctsim (numpy, numba, pandas) and loads
the compiled weeks from numba's cache, a second or more before its first run, while the
process pool's workers are forked from a forkserver that did both already
(:mod:`ctsim._warm`). Two ways to warm a Dask worker, which work together:

* **the preload**: ``dask worker ADDRESS --preload ctsim.runs.dask_preload``. Dask imports
  this module as the worker process starts and calls :func:`dask_setup` there before the
  worker registers with the scheduler, which imports ctsim and warms it up: the worker is
  warm by the time the scheduler lists it. The preload also makes the worker a ctsim
  worker: it stops Dask's statistical profiler (:data:`PROFILER`) and lets the C
  allocator keep the memory a run frees (:func:`keep_freed_memory`). (``dask worker``
  also imports this module in its nanny, to check the option; that import is light:
  ctsim is imported by the warm-up.)
* **the plugin** (:class:`WarmUp`): :class:`ctsim.runs.executors.DaskExecutor` registers it
  when it connects, so that every worker, connected then or joining later, warms up before
  it is given a batch, whether or not it was started with the preload. On a worker the
  preload warmed it does nothing. It is registered once per scheduler (idempotent). It
  only warms: a cluster that others use keeps its profiler and its allocator settings.

What each process did is kept (:func:`warm_state`), and ``client.run(warm_state)`` reads it
from every worker.

Why the preload does more than warm up, measured on 2026-12-07 on a 2-core machine with the
same runs of ``sobol_all``'s design timed in a worker that Dask's nanny started and in a
plain process: in the worker a run cost 8 to 15% more CPU time, the difference nearly all
in the kernel (0.2 to 0.7 ms a run against 0.03 to 0.05; 40 to 200 page faults a run
against 4 to 8), because the nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``;
and the profiler's samples kept the worker's event loop busy for about 1.5% of a core.
With both undone, ``benchmarks/bench_dask.py`` measured the workers' CPU time per run at
the process pool's (4.9 ms against 5.0 ms, 20,000 runs).
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from typing import Any

from distributed import WorkerPlugin

#: What this process did: ``by`` ("preload", "plugin" or None: not warmed yet),
#: ``seconds`` (the warm-up's, the imports not counted), ``profiler_stopped`` and
#: ``freed_memory_kept`` (:func:`keep_freed_memory`).
_state: dict[str, Any] = {"by": None, "seconds": 0.0, "profiler_stopped": False,
                          "freed_memory_kept": False}

#: The worker's periodic callbacks of Dask's statistical profiler (every 10 ms it walks the
#: stack of the thread running a task, for the dashboard's profile page), which the
#: preload stops: a run's time is spent in compiled code the profiler cannot see into,
#: and each sample has the worker's event loop take the interpreter lock from the batch.
PROFILER = ("profile", "profile-cycle")

#: glibc's ``mallopt`` parameters and the values :func:`keep_freed_memory` gives them: the
#: largest that glibc's own dynamic thresholds reach on a 64-bit machine (bytes: 32 MiB
#: for ``M_MMAP_THRESHOLD``, twice that for ``M_TRIM_THRESHOLD``).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MALLOC_THRESHOLDS = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 64 << 20}


def warm(by: str) -> str:
    """Warm this process up once (:func:`ctsim.runs.worker.warm_up`: a two-week run of a
    three-nation world, which loads every compiled phase); later calls do nothing.

    Returns who warmed it first (``by`` for the first call).
    """
    if _state["by"] is None:
        from ctsim.runs.worker import warm_up  # here: what only imports this stays light

        start = time.perf_counter()
        warm_up()
        _state["seconds"] = time.perf_counter() - start
        _state["by"] = by
    return _state["by"]


def warm_state() -> dict[str, Any]:
    """What this process did: who warmed it (``by``: "preload", "plugin" or None), the
    warm-up's ``seconds``, ``profiler_stopped`` and ``freed_memory_kept``; for
    ``client.run(warm_state)`` on a cluster's workers."""
    return dict(_state)


def keep_freed_memory() -> bool:
    """Undo, in this process, the eager trimming of freed memory that Dask's nanny asks of
    glibc's allocator (``MALLOC_TRIM_THRESHOLD_`` in the worker's environment, Dask's
    ``distributed.nanny.pre-spawn-environ``).

    With it, memory a run frees goes back to the system at once and comes back through
    page faults in the next run; with the variable set, glibc also stops raising its mmap
    threshold, so every array above 128 KiB is mapped and unmapped anew. Sets both
    thresholds to :data:`MALLOC_THRESHOLDS` (a worker then keeps up to 64 MiB freed for
    reuse). Does nothing where the variable is not set, off Linux or without glibc.

    Returns whether the thresholds were set.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in MALLOC_THRESHOLDS.items())


def dask_setup(worker: Any) -> None:
    """Dask's preload hook (``dask worker --preload ctsim.runs.dask_preload``): runs in the
    worker process after this module's imports and before the worker registers. Warms the
    process up, stops the worker's statistical profiler (:data:`PROFILER`) and keeps freed
    memory for reuse (:func:`keep_freed_memory`)."""
    warm("preload")
    callbacks = getattr(worker, "periodic_callbacks", {})
    for name in PROFILER:
        callback = callbacks.pop(name, None)
        if callback is not None:
            callback.stop()
            _state["profiler_stopped"] = True
    _state["freed_memory_kept"] = keep_freed_memory()


class WarmUp(WorkerPlugin):
    """A worker plugin that warms each worker before its first batch (:func:`warm`).

    Registered by name, once per scheduler (``idempotent``): Dask runs :meth:`setup` on
    every connected worker as it is registered and on each worker that joins later, before
    that worker takes a task.
    """

    name = "ctsim-warm-up"
    idempotent = True

    def setup(self, worker: Any) -> None:
        warm("plugin")
