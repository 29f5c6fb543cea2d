"""The stochastic acceptor and its kernels (ctsim.calibration.kernels, .sampling): the
targets' error models against scipy's densities, the posterior of a normal mean against
its conjugate closed form, the local perturbation kernel and the temperature schedule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pytest.importorskip("pyabc")

import pyabc

from ctsim.calibration import kernels, sampling
from ctsim.calibration.files import Target

SOURCE = {"author": "ctsim test", "year": 2026, "title": "synthetic", "where": "here"}


def target(**fields) -> Target:
    """A target of the disruption rate with ``fields`` (observed, sd, bound, counts...)."""
    return Target.model_validate({"name": "t", "metric": "disruption_rate",
                                  "verified": "source", "match": "m", "source": SOURCE}
                                 | fields)


# ---------------------------------------------------------------- error models


@pytest.mark.parametrize("x", [0.1, 0.45, 0.5, 0.93])
def test_the_normal_error_model_is_scipys_normal_density(x):
    term = kernels.Term.of(target(observed=0.5, sd=0.07))
    assert term.kind == "normal"
    assert term.logpdf(x) == pytest.approx(stats.norm.logpdf(0.5, loc=x, scale=0.07),
                                           rel=1e-12)
    assert term.log_max() == pytest.approx(stats.norm.logpdf(0.0, scale=0.07), rel=1e-12)


@pytest.mark.parametrize("x", [0.0, 0.15, 0.19, 0.25, 0.6])
def test_a_one_sided_target_is_scipys_normal_cdf_on_the_right_side(x):
    upper = kernels.Term.of(target(observed=0.19, sd=0.03, bound="upper"))
    lower = kernels.Term.of(target(observed=0.19, sd=0.03, bound="lower"))
    assert upper.logpdf(x) == pytest.approx(stats.norm.logcdf((0.19 - x) / 0.03), rel=1e-10)
    assert lower.logpdf(x) == pytest.approx(stats.norm.logcdf((x - 0.19) / 0.03), rel=1e-10)
    assert upper.log_max() == 0.0 and lower.log_max() == 0.0
    # on the bound, one half; far inside, all but 1; past it by 3 sd, about 0.00135
    assert math.exp(upper.logpdf(0.19)) == pytest.approx(0.5)


COUNTS = [{"year": 2019, "count": 14, "of": 21}, {"year": 2020, "count": 4, "of": 14},
          {"year": 2022, "count": 4, "of": 6}, {"year": 2023, "count": 9, "of": 14}]


@pytest.mark.parametrize(("p", "rho"), [(0.3, 0.05), (0.55, 0.2), (0.9, 0.5), (0.02, 0.1)])
def test_a_series_target_is_scipys_beta_binomial_over_its_years(p, rho):
    term = kernels.Term.of(target(counts=COUNTS, overdispersion=rho))
    assert term.kind == "series"
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    expected = sum(stats.betabinom.logpmf(c["count"], c["of"], a, b) for c in COUNTS)
    assert term.logpdf(p) == pytest.approx(expected, rel=1e-10)
    # its maximum over shares is at least every value on a fine grid, and attained
    grid = np.linspace(0.001, 0.999, 999)
    best = max(term.logpdf(q) for q in grid)
    assert best <= term.log_max() + 1e-12
    assert term.log_max() - best < 1e-3


def test_a_series_targets_observed_share_and_sd_are_the_pooled_beta_binomials():
    t = target(counts=COUNTS, overdispersion=0.2)
    n = np.array([c["of"] for c in COUNTS])
    p = sum(c["count"] for c in COUNTS) / n.sum()
    assert t.reference == pytest.approx(31 / 55)
    # Var(sum k) = sum n p (1 - p) (1 + (n - 1) rho), by simulation of the beta-binomial
    rng = np.random.default_rng(np.random.SeedSequence(5))
    a, b = p * 0.8 / 0.2, (1 - p) * 0.8 / 0.2
    shares = rng.beta(a, b, size=(200_000, len(n)))
    pooled = rng.binomial(n, shares).sum(axis=1) / n.sum()
    se = pooled.std() / math.sqrt(2 * len(pooled))  # of a standard deviation
    assert abs(t.spread - pooled.std()) < 4 * se


def test_the_kernel_sums_its_targets_and_is_never_above_its_normalizing_constant():
    kern = kernels.TargetsKernel([
        kernels.Term.of(target(observed=0.5, sd=0.1).model_copy(update={"name": "a"})),
        kernels.Term.of(target(observed=0.2, sd=0.05, bound="upper").model_copy(
            update={"name": "b"})),
        kernels.Term.of(target(counts=COUNTS, overdispersion=0.1).model_copy(
            update={"name": "c"}))])
    rng = np.random.default_rng(np.random.SeedSequence(3))
    for _ in range(200):
        x = dict(zip("abc", rng.uniform(0, 1, 3), strict=True))
        parts = sum(term.logpdf(x[term.name]) for term in kern.terms)
        assert kern(x, {}) == pytest.approx(parts)
        assert kern(x, {}) <= kern.pdf_max
    assert kern({"a": float("nan"), "b": 0.1, "c": 0.5}, {}) == -math.inf


# ---------------------------------------------------------------- a known posterior

#: A normal mean: prior uniform on [-5, 5]; a run is theta + N(0, SIGMA^2); a particle
#: pools REPS runs; the target's stated sd is SD; the observation is Y.
SIGMA, REPS, SD, Y = 1.0, 4, 0.3, 0.8


def _toy_model(rng: np.random.Generator):
    def model(par) -> dict[str, float]:
        return {"t": float(np.mean(par["theta"] + SIGMA * rng.standard_normal(REPS)))}
    return model


@pytest.mark.slow
def test_the_stochastic_acceptor_samples_the_posterior_the_stated_error_implies(tmp_path):
    """With a flat prior the posterior of theta is N(Y, SD^2 + SIGMA^2 / REPS): the stated
    error plus the simulator's noise in the pooled runs, once (Wilkinson 2013). The ABC
    posterior's mean and sd are compared with it within their Monte Carlo standard errors,
    the importance-sampling (delta-method) ones of the weighted particles."""
    np.random.seed(np.random.SeedSequence([20, 0xABC]).generate_state(1)[0])  # pyabc's
    kern = kernels.targets_kernel([target(observed=Y, sd=SD)])
    temperature = sampling.CappedTemperature(cap=6)
    abc = pyabc.ABCSMC(_toy_model(np.random.default_rng(np.random.SeedSequence(21))),
                       pyabc.Distribution(theta=pyabc.RV("uniform", -5, 10)), kern,
                       population_size=1000, eps=temperature,
                       acceptor=pyabc.StochasticAcceptor(
                           pdf_norm_method=pyabc.acceptor.pdf_norm_from_kernel),
                       transitions=sampling.ScaledLocalTransition(
                           widths={"theta": 10.0}, lows={"theta": -5.0}, defensive=0.1),
                       sampler=pyabc.sampler.SingleCoreSampler())
    abc.new(f"sqlite:///{tmp_path / 'toy.db'}", {"t": Y})
    history = abc.run(max_nr_populations=6, minimum_epsilon=1.0)
    pops = history.get_all_populations()
    temps = pops[pops["t"] >= 0]["epsilon"].to_numpy()
    assert temps[-1] == 1.0 and (temps[:-1] > 1.0).all()  # it stopped at temperature 1
    frame, w = history.get_distribution()
    theta, w = frame["theta"].to_numpy(), np.asarray(w) / np.sum(w)
    mean = float(np.sum(w * theta))
    var = float(np.sum(w * (theta - mean) ** 2))
    sd = math.sqrt(var)
    se_mean = math.sqrt(np.sum(w ** 2 * (theta - mean) ** 2))
    se_sd = math.sqrt(np.sum(w ** 2 * ((theta - mean) ** 2 - var) ** 2)) / (2 * sd)
    true_sd = math.sqrt(SD ** 2 + SIGMA ** 2 / REPS)
    assert 1 / np.sum(w ** 2) > 400  # the effective sample size
    assert abs(mean - Y) < 4 * se_mean, (mean, se_mean)
    assert abs(sd - true_sd) < 4 * se_sd, (sd, true_sd, se_sd)
    # the test tells the right model from two wrong ones: the simulator's noise counted
    # twice (an estimate of it added to the kernel) or not at all
    for wrong in (math.sqrt(SD ** 2 + 2 * SIGMA ** 2 / REPS), SD):
        assert abs(sd - wrong) > 4 * se_sd, wrong


# ---------------------------------------------------------------- kernels and schedule


def _fitted_kernel(seed: int, pyabc_seed: int, sds: tuple[float, float], n: int,
                   defensive: float) -> tuple[pd.DataFrame, sampling.ScaledLocalTransition]:
    """``n`` equally weighted particles about (0.2, 40) with sds ``sds``, from ``seed``,
    and the local kernel fitted to them in a prior box of a in [0.05, 0.35] and b in
    [10, 70] (numpy's global generator, which pyabc draws from, seeded by
    ``pyabc_seed``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    np.random.seed(np.random.SeedSequence(pyabc_seed).generate_state(1)[0])  # pyabc's draws
    particles = pd.DataFrame({"a": rng.normal(0.2, sds[0], n),
                              "b": rng.normal(40.0, sds[1], n)})
    kernel = sampling.ScaledLocalTransition(k_fraction=0.2, widths={"a": 0.3, "b": 60.0},
                                            lows={"a": 0.05, "b": 10.0},
                                            defensive=defensive)
    kernel.fit(particles, np.full(n, 1 / n))
    return particles, kernel


@pytest.mark.parametrize("defensive", [0.0, 0.1])
def test_the_local_kernels_density_integrates_to_one_on_the_parameters_own_scale(defensive):
    particles, kernel = _fitted_kernel(8, 10, (0.03, 8.0), 200, defensive)
    xa, xb = np.linspace(0.0, 0.4, 161), np.linspace(0.0, 80.0, 161)
    grid = pd.DataFrame([(a, b) for a in xa for b in xb], columns=["a", "b"])
    density = kernel.pdf(grid)
    mass = density.sum() * (xa[1] - xa[0]) * (xb[1] - xb[0])
    assert mass == pytest.approx(1.0, abs=0.01)
    # never below the defensive share of the prior's density inside the prior's box
    inside = grid["a"].between(0.05, 0.35) & grid["b"].between(10.0, 70.0)
    assert (density[inside.to_numpy()] >= defensive / (0.3 * 60.0) - 1e-15).all()
    if defensive == 0.0:
        drawn = pd.DataFrame([kernel.rvs_single() for _ in range(400)])
        assert drawn["b"].std() == pytest.approx(particles["b"].std(), rel=0.3)
        assert drawn["a"].mean() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("defensive", [0.0, 0.1, 0.3])
def test_the_defensive_share_of_proposals_comes_from_the_prior(defensive):
    """Particles in a small corner of the prior's box: the local kernels stay near them,
    the prior's draws land outside that corner with probability 0.96."""
    _, kernel = _fitted_kernel(18, 19, (0.005, 1.0), 300, defensive)
    drawn = pd.DataFrame([kernel.rvs_single() for _ in range(2000)])
    away = ~(drawn["a"].between(0.17, 0.23) & drawn["b"].between(34.0, 46.0))
    expected = defensive * (1 - (0.06 / 0.3) * (12.0 / 60.0))
    assert abs(away.mean() - expected) < 4 * math.sqrt(max(expected * (1 - expected),
                                                             1e-4) / 2000)
    assert drawn["a"].between(0.05, 0.35).all() and drawn["b"].between(10.0, 70.0).all()


def test_the_neighbours_are_found_on_the_scaled_parameters():
    """Two clusters apart in `a` (its width 1) but not in `b` (width 1000): scaled, a
    particle's nearest neighbours are its own cluster's, so its kernel is narrow in `a`."""
    rng = np.random.default_rng(np.random.SeedSequence(9))
    a = np.concatenate([rng.normal(0.2, 0.01, 50), rng.normal(0.8, 0.01, 50)])
    particles = pd.DataFrame({"a": a, "b": rng.uniform(0, 1000, 100)})
    scaled = sampling.ScaledLocalTransition(k=10, k_fraction=None,
                                            widths={"a": 1.0, "b": 1000.0})
    scaled.fit(particles, np.full(100, 0.01))
    plain = pyabc.transition.LocalTransition(k=10, k_fraction=None)
    plain.fit(particles, np.full(100, 0.01))
    sd_scaled = math.sqrt(scaled.covs[0][0, 0]) * 1.0
    sd_plain = math.sqrt(plain.covs[0][0, 0])
    assert sd_scaled < 0.05 < sd_plain


def _loaded(tmp_path, **spec):
    import yaml

    import ctsim.calibration as cal
    from tests.conftest import SMALL

    (tmp_path / "world.yaml").write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    (tmp_path / "targets.yaml").write_text(yaml.safe_dump({"name": "t", "targets": [
        {"name": "dr", "metric": "disruption_rate", "observed": 0.5, "sd": 0.1,
         "verified": "source", "match": "m", "source": SOURCE}]}), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({
        "name": "c", "scenario": "world.yaml", "fit": ["dr"],
        "parameters": {"threat.detection_rate": {"range": [0.05, 0.3], "why": "t"},
                       "threat.evidence_threshold": {"range": [1, 4], "integer": True,
                                                     "why": "t"}}} | spec),
        encoding="utf-8")
    return cal.load_calibration(tmp_path / "c.yaml")


def test_a_new_calibration_is_stochastic_with_the_local_kernel_and_ends_at_temperature_1(
        tmp_path):
    loaded = _loaded(tmp_path)
    assert loaded.spec.method == "stochastic"
    parts = sampling.parts(loaded)
    assert isinstance(parts.acceptor, pyabc.StochasticAcceptor)
    assert isinstance(parts.eps, sampling.CappedTemperature)
    assert parts.minimum_epsilon == 1.0  # the run stops at temperature 1
    assert isinstance(parts.transition, sampling.ScaledLocalTransition)
    assert parts.transition.k_fraction == 0.25
    assert parts.transition.widths == {"threat.detection_rate": pytest.approx(0.25),
                                       "threat.evidence_threshold": 4.0}
    other = sampling.parts(_loaded(tmp_path, kernel="global", neighbours=0.1,
                                   method="rejection-distance"))
    assert isinstance(other.transition, pyabc.transition.MultivariateNormalTransition)
    assert isinstance(other.acceptor, pyabc.UniformAcceptor)


def test_a_resumed_temperature_schedule_counts_its_cap_from_the_first_population():
    """Resumed at population 2 of at most 5, the decay continues from the stored
    temperature 3 and reaches 1 at population 4, not at population 2 (pyabc counts the
    cap from where a run starts)."""
    def distances():
        return pd.DataFrame({"distance": [0.0], "w": [1.0]})

    config = {"pdf_norm": 0.0, "kernel_scale": "SCALE_LOG"}
    temperature = sampling.CappedTemperature(cap=5, stored={0: 8.0, 1: 3.0})
    temperature.schemes = [pyabc.epsilon.ExpDecayFixedIterScheme()]
    temperature.initialize(2, distances, list, max_nr_populations=3, acceptor_config=config)
    assert temperature(2) == pytest.approx(3.0 ** (2 / 3))
    temperature.update(3, distances, list, 0.3, config)
    assert temperature(3) == pytest.approx(3.0 ** (1 / 3))
    temperature.update(4, distances, list, 0.3, config)
    assert temperature(4) == 1.0
