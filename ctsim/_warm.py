"""Imported by a process pool's forkserver before it forks the workers: warms a model up
(:func:`ctsim.runs.worker.warm_up`), so that each worker starts with the compiled weeks loaded."""

from ctsim.runs.worker import warm_up

warm_up()
