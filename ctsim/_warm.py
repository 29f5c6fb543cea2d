"""Imported by a process pool's forkserver before it forks the workers: warms a model up
(:func:`ctsim.worker.warm_up`), so that each worker starts with the compiled weeks loaded."""

from ctsim.worker import warm_up

warm_up()
