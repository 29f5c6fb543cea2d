"""ctsim.analysis.stats: the Student-t quantile without SciPy, intervals clipped to a
metric's range, and the paired difference every comparison uses."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ctsim.analysis import stats


@pytest.mark.parametrize("df", [1, 2, 3, 4, 5, 9, 19, 29, 99, 999, 2.5, 0.7, 1e5])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.025, 0.3])
def test_t_quantile_matches_scipy(df, p):
    assert stats.t_quantile(p, df) == pytest.approx(scipy_stats.t.ppf(p, df), rel=1e-10)


def test_t_quantile_known_values():
    # the 97.5% points every table prints: 12.706 (1 df), 2.093 (19 df), 1.960 (normal)
    assert stats.t_quantile(0.975, 1) == pytest.approx(12.7062047, rel=1e-7)
    assert stats.t_quantile(0.975, 19) == pytest.approx(2.0930241, rel=1e-7)
    assert stats.t_quantile(0.975, 1e7) == pytest.approx(1.9599640, rel=1e-6)
    assert stats.t_quantile(0.5, 7) == 0.0


def test_t_cdf_inverts_the_quantile():
    for df in (1, 3, 10, 50):
        for p in (0.01, 0.2, 0.5, 0.8, 0.99):
            assert stats.t_cdf(stats.t_quantile(p, df), df) == pytest.approx(p, abs=1e-12)


def test_t_quantile_rejects_impossible_arguments():
    with pytest.raises(ValueError):
        stats.t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        stats.t_quantile(0.9, 0)


def test_mean_ci_is_the_student_t_interval():
    x = [0.2, 0.3, 0.25, 0.4]
    mean, lo, hi = stats.mean_ci(x)
    half = scipy_stats.t.ppf(0.975, 3) * np.std(x, ddof=1) / math.sqrt(4)
    assert mean == pytest.approx(0.2875)
    assert (lo, hi) == pytest.approx((0.2875 - half, 0.2875 + half), rel=1e-10)


def test_mean_ci_leaves_out_nan_and_handles_one_or_no_value():
    assert stats.mean_ci([0.5, float("nan"), None]) == (0.5, 0.5, 0.5)
    assert all(math.isnan(v) for v in stats.mean_ci([float("nan")]))


def test_an_interval_is_clipped_to_the_metrics_range():
    # two replications of a rate: the raw interval runs far below 0
    mean, lo, hi = stats.mean_ci([0.05, 0.5], bounds=(0.0, 1.0))
    assert mean == pytest.approx(0.275)
    assert (lo, hi) == (0.0, 1.0)  # unclipped: about [-2.58, 3.13]
    # a narrow interval inside the range is left alone
    assert stats.mean_ci([0.4, 0.5, 0.45], bounds=(0.0, 1.0)) == stats.mean_ci([0.4, 0.5, 0.45])


def test_paired_difference_uses_pairs_where_both_runs_are_defined():
    base = [0.1, 0.2, float("nan"), 0.4]
    other = [0.2, 0.4, 0.9, 0.5]
    mean, lo, hi = stats.paired_difference(base, other)
    d = np.array([0.1, 0.2, 0.1])
    half = scipy_stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert mean == pytest.approx(d.mean())
    assert (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half))
    with pytest.raises(ValueError):
        stats.paired_difference([1.0], [1.0, 2.0])


def test_a_paired_difference_of_shares_stays_within_minus_one_and_one():
    mean, lo, hi = stats.paired_difference([0.0, 0.0], [1.0, 0.2], bounds=(0.0, 1.0))
    assert mean == pytest.approx(0.6)
    assert lo >= -1.0 and hi == 1.0


def test_t_halfwidth_works_on_arrays_of_groups():
    half = stats.t_halfwidth(np.array([1.0, 2.0, 0.5]), np.array([4, 10, 1]))
    assert half[0] == pytest.approx(scipy_stats.t.ppf(0.975, 3) / 2)
    assert half[1] == pytest.approx(scipy_stats.t.ppf(0.975, 9) * 2 / math.sqrt(10))
    assert half[2] == 0.0


def test_importing_the_statistics_does_not_import_scipys_statistics():
    code = ("import sys, ctsim.analysis.stats; "
            "print(any(m in sys.modules for m in ('scipy.stats', 'scipy.special')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_weighted_quantiles_take_the_smallest_value_whose_weight_reaches_q():
    from ctsim.analysis.stats import weighted_quantiles

    # sorted: 1 (weight 1), 2 (weight 2), 3 (weight 1): cumulative shares 0.25, 0.75, 1
    assert weighted_quantiles([3.0, 1.0, 2.0], [1.0, 1.0, 2.0], [0.25, 0.5, 0.8, 1.0]) == [
        1.0, 2.0, 3.0, 3.0]
    # equal weights: the plain lower median
    assert weighted_quantiles([4.0, 1.0, 3.0, 2.0], [1, 1, 1, 1], [0.5]) == [2.0]


@pytest.mark.parametrize(("factors", "samples"), [(3, 16), (12, 128)])
def test_sobol_indices_are_salibs_to_the_last_bit(factors, samples):
    """The Sobol' indices and their bootstrap half-widths equal SALib's sobol.analyze
    (calc_second_order=False) exactly, on outputs with a real first-order effect."""
    from SALib.analyze import sobol

    from ctsim.analysis.stats import sobol_indices

    rng = np.random.default_rng(factors)
    y = rng.random(samples * (factors + 2)) ** 3 + np.repeat(rng.random(samples),
                                                             factors + 2)
    problem = {"num_vars": factors, "names": [f"x{i}" for i in range(factors)],
               "bounds": [[0, 1]] * factors}
    expected = sobol.analyze(problem, y, calc_second_order=False, seed=23)
    got = sobol_indices(y, factors, 23)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        assert np.array_equal(got[key], expected[key]), key
    assert got["ST_conf"].min() > 0


def test_sobol_indices_refuse_outputs_that_are_not_a_saltelli_design():
    from ctsim.analysis.stats import sobol_indices

    with pytest.raises(ValueError, match="not a Saltelli design"):
        sobol_indices(np.zeros(11), 3, 1)
