"""benchmarks/lean_kernel.py: the lean kernel is the baseline's model, reproducibly.

The kernel is a yardstick for ctsim's run time only if it does the same model's work: its
mean outcomes over many seeds must agree with ctsim's ``Simulation`` within sampling error
(a two-sample test on the means; the two draw different random numbers, so they agree in
distribution, not bit for bit), and the same test must tell a changed model apart. A run
is reproducible from its seed.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache

import numpy as np
import pytest

from ctsim.core.scenario import load_scenario
from ctsim.core.simulation import Simulation
from tests.conftest import ROOT

#: The compared measures (ctsim's metric names) and the seeds of each side.
MEASURES = ("plots", "attacks", "disrupted", "disruption_rate")
SEEDS = range(100)
#: How many standard errors two means of one model may differ by: with 100 runs a side, a
#: correct kernel exceeds it with a chance of about 6e-5 per measure.
Z_MAX = 4.0


@cache
def kernel():
    """benchmarks/lean_kernel.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("lean_kernel",
                                                  ROOT / "benchmarks" / "lean_kernel.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lean_kernel"] = module
    spec.loader.exec_module(module)
    return module


@cache
def ctsim_outcomes() -> dict[str, np.ndarray]:
    """ctsim's baseline outcomes over :data:`SEEDS`, by measure."""
    scenario = load_scenario(kernel().BASELINE)
    rows = []
    for seed in SEEDS:
        sim = Simulation(scenario, np.random.default_rng(seed))
        sim.run(260)
        rows.append(sim.metrics(MEASURES))
    return {m: np.array([r[m] for r in rows]) for m in MEASURES}


def kernel_outcomes(arguments: tuple | None = None) -> dict[str, np.ndarray]:
    """The kernel's outcomes over :data:`SEEDS` (the baseline's, or with ``arguments``)."""
    lean = kernel()
    if arguments is None:
        rows = [lean.run(seed) for seed in SEEDS]
    else:
        rows = []
        for seed in SEEDS:
            c = lean.simulate(np.random.default_rng(seed), 260, *arguments)
            rows.append({"plots": c[0], "attacks": c[1], "disrupted": c[2],
                         "disruption_rate": c[2] / (c[1] + c[2])})
    return {m: np.array([r[m] for r in rows], float) for m in MEASURES}


def z_score(a: np.ndarray, b: np.ndarray) -> float:
    """The difference of the means of two independent samples in standard errors."""
    se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return float((a.mean() - b.mean()) / se)


@pytest.mark.slow
@pytest.mark.parametrize("measure", MEASURES)
def test_the_kernels_mean_outcomes_are_ctsims_within_sampling_error(measure):
    """Over 100 seeds each, the kernel's mean plots, attacks, disruptions and disruption
    rate are ctsim's within Z_MAX standard errors (and the runs vary: a kernel that
    returned a constant would not pass)."""
    lean, ctsim = kernel_outcomes()[measure], ctsim_outcomes()[measure]
    assert lean.std() > 0
    assert abs(z_score(lean, ctsim)) < Z_MAX, (measure, lean.mean(), ctsim.mean())


@pytest.mark.slow
def test_the_agreement_test_tells_a_changed_model_apart():
    """The same test on the kernel with the evidence threshold raised from 3 to 4
    fragments finds its disruptions and disruption rate far from ctsim's baseline (so an
    agreement above is not for want of power)."""
    scenario = load_scenario(kernel().BASELINE).with_overrides(
        {"threat.evidence_threshold": 4})
    changed = kernel_outcomes(kernel().kernel_arguments(scenario))
    for measure in ("disrupted", "disruption_rate"):
        assert z_score(changed[measure], ctsim_outcomes()[measure]) < -Z_MAX


def test_a_run_is_reproducible_from_its_seed():
    """Two runs from one seed give the same counts; another seed gives other counts."""
    lean = kernel()
    first, again, other = lean.run(7), lean.run(7), lean.run(8)
    assert first == again
    assert first != other
    assert first["plots"] >= first["attacks"] + first["disrupted"] > 0


def test_the_kernel_refuses_a_mechanism_it_does_not_implement():
    """A scenario with a shock rate (or another key the kernel leaves out) is refused by
    name rather than run as if it were the baseline."""
    scenario = load_scenario(kernel().BASELINE).with_overrides(
        {"trust_dynamics.shock_rate": 0.05})
    with pytest.raises(ValueError, match="shock_rate"):
        kernel().kernel_arguments(scenario)
