"""One particle of a calibration: its parameters as scenario overrides, its runs (the
sweep's run function, :func:`ctsim.runs.worker.run_batch`), its summary statistics (the
fitted targets' values over those runs, and the simulator's noise in each of them) and its
standardized distance to the observations (the rejection-distance method)."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np

from ctsim.calibration.files import LoadedCalibration

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
    from ctsim.runs.worker import Payload

    metrics = tuple(dict.fromkeys(loaded.targets[n].metric for n in loaded.used))
    return Payload(tuple(loaded.scenario_dicts), (loaded.steps,) * len(loaded.scenario_dicts),
                   metrics, False, loaded.fingerprint(), bool(loaded.masks))


def particle_specs(loaded: LoadedCalibration, overrides: dict[str, Any], seeds: list[int],
                   first_id: int = 0, names: list[str] | None = None) -> list:
    """The runs of one particle: each seed in the calibrated scenario and, when the
    targets ``names`` (default: all used) need them, in their contrast scenarios."""
    from ctsim.runs.experiment import RunSpec

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
    from ctsim.runs.runner import pooled_among

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
            mine = pooled_among(_per_target(base), loaded.masks[name], t.metric)
            if t.contrast is None:
                out[name] = mine
                continue
            rows = by_scenario[loaded.contrasts.index(t.contrast) + 1]
            other = pooled_among(_per_target(rows), loaded.masks[name], t.metric)
            out[name] = (other - mine) / other if other else float("nan")
        elif t.contrast is not None:
            other = mean_of(by_scenario[loaded.contrasts.index(t.contrast) + 1], t.metric)
            mine = mean_of(base, t.metric)
            out[name] = (other - mine) / other if other else float("nan")
        else:
            out[name] = mean_of(base, t.metric)
    return out


def _per_target(rows: list[tuple[dict, dict]]) -> np.ndarray:
    """The (R, K, N) per-target counts of a particle's runs of one scenario."""
    from ctsim.core.outputs import PER_TARGET

    return np.stack([np.stack([tables["nat"][c] for c in PER_TARGET]) for _, tables in rows])


#: The prefix of a summary statistic that holds the simulator's noise in a target's value
#: (``noise:<target>``; a target's name has no colon).
NOISE = "noise:"


def simulator_noise(loaded: LoadedCalibration, specs: list, results: list,
                    names: list[str]) -> dict[str, float]:
    """The jackknife variance of each target's value over a particle's runs (Efron and
    Stein 1981): with the value recomputed leaving out each replication r in turn (in every
    scenario of the particle, so a contrast stays paired), ``(R - 1) / R * sum((v_r -
    mean v)^2)``. For a mean over runs it equals the sample variance over R (the variance
    of the pooled value); it holds as well for the pooled shares of ``among`` and the
    ratio of a ``contrast``. NaN with one replication or an undefined value.

    The variance of the value the kernel is evaluated at, on the quantity's scale: the
    simulator's own noise for the particle's pooled runs (what the stochastic acceptor's
    likelihood adds to each target's stated variance, :mod:`ctsim.calibration.kernels`)."""
    replications = sorted({s.replication for s in specs})
    out = dict.fromkeys(names, float("nan"))
    if len(replications) < 2:
        return out
    left = []
    for r in replications:
        kept = [(s, x) for s, x in zip(specs, results, strict=True) if s.replication != r]
        left.append(target_values(loaded, [s for s, _ in kept], [x for _, x in kept], names))
    count = len(replications)
    for name in names:
        v = np.asarray([row[name] for row in left], float)
        if np.isfinite(v).all():
            out[name] = float((count - 1) / count * np.sum((v - v.mean()) ** 2))
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
        total += ((x - t.reference) / t.spread) ** 2
    return math.sqrt(total)


class ParticleModel:
    """The model pyabc calls: a particle's parameters to its fitted targets' values and,
    under ``noise:<target>``, the simulator's noise in each (:func:`simulator_noise`).

    Runs in pyabc's sampler processes (pickled there); the payload is built once per
    process.
    """

    def __init__(self, loaded: LoadedCalibration):
        self.loaded = loaded
        self._payload = None

    def __getstate__(self) -> dict:
        return {"loaded": self.loaded, "_payload": None}

    def __call__(self, params: Any) -> dict[str, float]:
        from ctsim.runs.worker import run_batch

        if self._payload is None:
            self._payload = payload_of(self.loaded)
        spec = self.loaded.spec
        overrides = particle_overrides(self.loaded, dict(params))
        seeds = particle_seeds(spec.seed, overrides, spec.replications)
        specs = particle_specs(self.loaded, overrides, seeds, names=spec.fit)
        results = run_batch(self._payload, specs)
        values = target_values(self.loaded, specs, results, spec.fit)
        noise = simulator_noise(self.loaded, specs, results, spec.fit)
        return values | {NOISE + k: v for k, v in noise.items()}
