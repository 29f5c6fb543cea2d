"""Imported by a process pool's forkserver before it forks the workers: warms a model up
(:func:`ctsim.runs.worker.warm_up`), so that each worker starts with the compiled weeks
loaded, and keeps quiet a worker whose start the sweep cut short (:func:`_quiet_hook`)."""

import sys

from ctsim.runs.worker import warm_up

#: What a worker meets when the sweep that is starting it stops meanwhile (Ctrl-C, SIGTERM):
#: the pool's pipes closed (EOFError, ConnectionError) or its locks released
#: (FileNotFoundError) before the worker had read its start-up data.
STOPPED_WHILE_STARTING = (EOFError, ConnectionError, FileNotFoundError)


def _quiet_hook(kind, value, traceback) -> None:
    """The forkserver's children report a failed start through ``sys.excepthook``. A start
    the sweep cut short is no error of the worker's (the sweep says it was interrupted),
    so it stays silent; any other failure prints as Python prints it."""
    if issubclass(kind, STOPPED_WHILE_STARTING):
        return
    sys.__excepthook__(kind, value, traceback)


sys.excepthook = _quiet_hook
warm_up()
