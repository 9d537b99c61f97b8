"""Decision rules: verdicts and their error rates (exact and by simulation)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ntkproof.engine import decision as dec
from ntkproof.engine.budgets import BUDGETS
from ntkproof.errors import InvalidArgument, NonFiniteError
from ntkproof.rng import generator


def obs(lhs, rhs, scale=None):
    return dec.Observation({}, float(lhs), float(rhs), max(abs(lhs), abs(rhs)) if scale is None
                           else scale)


# -- identity and bound --------------------------------------------------------

def test_identity_holds_within_tolerance_and_fails_beyond():
    assert dec.decide_identity([obs(1.0, 1.0 + 1e-12)], 1e-10).verdict == "HOLDS"
    d = dec.decide_identity([obs(1.0, 1.0), obs(2.0, 2.0 + 1e-6)], 1e-10)
    assert d.verdict == "FALSIFIED"
    assert d.worst_case["lhs"] == 2.0


def test_bound_reports_largest_ratio_and_known_sup():
    d = dec.decide_bound([obs(0.5, 1.0), obs(0.99, 1.0)], 1e-10, known_sup=1.0)
    assert d.verdict == "HOLDS"
    assert d.tightness["max"] == pytest.approx(0.99)
    assert d.tightness["known_sup"] == 1.0
    assert "99.00% of the known supremum" in d.message


def test_bound_violation_is_falsified_and_named():
    d = dec.decide_bound([obs(0.5, 1.0), obs(1.2, 1.0)], 1e-10)
    assert d.verdict == "FALSIFIED"
    assert d.worst_case["ratio"] == pytest.approx(1.2)
    assert "1 of 2 cases violate" in d.message


def test_nan_observation_is_an_error_naming_the_problem():
    with pytest.raises(NonFiniteError, match="observation 1 is not finite"):
        dec.decide_bound([obs(0.5, 1.0), dec.Observation({"r": 1.0}, float("nan"), 1.0)],
                         1e-10)


def test_no_cases_is_inconclusive_never_a_pass():
    assert dec.decide_bound([], 1e-10).verdict == "INCONCLUSIVE"
    assert dec.decide_identity([], 1e-10).verdict == "INCONCLUSIVE"


# -- probabilistic bounds -------------------------------------------------------

def _rejection_probability(n: int, delta: float, p_true: float) -> float:
    """Exact P(reject) of the binomial rule when the true violation rate is p_true."""
    k_crit = dec.binomial_critical(n, delta)
    return float(stats.binom.sf(k_crit - 1, n, p_true))


@pytest.mark.parametrize("budget", ["quick", "standard", "thorough"])
def test_true_probabilistic_claim_is_falsified_in_fewer_than_1_in_1000(budget):
    n = BUDGETS[budget].draws
    assert _rejection_probability(n, 0.05, 0.05) < 1e-3


@pytest.mark.parametrize("budget", ["quick", "standard", "thorough"])
def test_false_probabilistic_claim_at_rate_015_is_rejected_99_in_100(budget):
    n = BUDGETS[budget].draws
    assert _rejection_probability(n, 0.05, 0.15) >= 0.99


def test_binomial_rule_error_rates_by_simulation():
    """Simulate 20000 runs of the quick budget through decide_probabilistic's rule."""
    rng = generator(12345)
    n, delta = BUDGETS["quick"].draws, 0.05
    k_true = rng.binomial(n, 0.05, size=20000)
    k_false = rng.binomial(n, 0.15, size=20000)
    crit = dec.binomial_critical(n, delta)
    assert (k_true >= crit).mean() < 1e-3 * 2  # exact rate is below 1e-3 (test above)
    assert (k_false >= crit).mean() >= 0.99
    # the same rule through the public function, on a handful of simulated runs
    for k in (0, crit - 1, crit, n):
        d = dec.decide_probabilistic([obs(2.0, 1.0)] * k + [obs(0.5, 1.0)] * (n - k), delta,
                                     1e-10)
        assert d.verdict == ("FALSIFIED" if k >= crit else "HOLDS")
        assert d.violations["count"] == k and d.violations["n"] == n


def test_clopper_pearson_upper_bound_covers():
    ub = dec.clopper_pearson_upper(3, 300)
    assert 3 / 300 < ub < 0.06
    assert dec.clopper_pearson_upper(300, 300) == 1.0
    with pytest.raises(InvalidArgument, match="delta"):
        dec.decide_probabilistic([obs(0.1, 1.0)], 1.5, 1e-10)


# -- rates --------------------------------------------------------------------------

def _ladder(slope: float, seed: int, noise: float = 0.15, seeds: int = 5):
    rng = generator(seed)
    xs = [64, 128, 256, 512, 1024]
    errs = [list(3.0 * x**slope * np.exp(noise * rng.standard_normal(seeds))) for x in xs]
    return xs, errs


def test_true_upper_rate_is_not_rejected_and_wrong_claim_is():
    xs, errs = _ladder(-0.5, seed=1)
    fit = dec.fit_rate(xs, errs, seed=2)
    lo, hi = fit.ci
    assert lo < fit.slope < hi
    # HOLDS needs the whole interval under the edge, not just the point estimate
    assert dec.decide_rate(fit, -0.5, hi + 0.5 + 1e-9).verdict == "HOLDS"
    assert dec.decide_rate(fit, -0.5, (fit.slope + hi) / 2 + 0.5).verdict == "INCONCLUSIVE"
    assert dec.decide_rate(fit, -0.5, 0.1).verdict in ("HOLDS", "INCONCLUSIVE")
    assert dec.decide_rate(fit, -1.0, 0.1).verdict == "FALSIFIED"
    d = dec.decide_rate(fit, -0.5, 0.1)
    assert d.rate["rejects_below"] == pytest.approx(lo - 0.1)
    assert dec.decide_rate(fit, d.rate["rejects_below"] - 1e-6, 0.1).verdict == "FALSIFIED"
    assert dec.decide_rate(fit, d.rate["rejects_below"] + 1e-6, 0.1).verdict != "FALSIFIED"
    assert len(d.rate["local_slopes"]) == len(xs) - 1 and "drift" in d.rate


def test_rate_error_rates_by_simulation():
    """Over 300 simulated ladders with true slope -1/2: a true claim is never
    falsified, the claim -1 is always rejected."""
    falsified_true = rejected_false = 0
    for s in range(300):
        xs, errs = _ladder(-0.5, seed=1000 + s)
        fit = dec.fit_rate(xs, errs, seed=s, n_boot=2000)
        falsified_true += dec.decide_rate(fit, -0.5, 0.1).verdict == "FALSIFIED"
        rejected_false += dec.decide_rate(fit, -1.0, 0.1).verdict == "FALSIFIED"
    assert falsified_true == 0
    assert rejected_false >= 297


def test_attained_rate_two_sided():
    xs, errs = _ladder(-1 / 6, seed=3, noise=0.05)
    fit = dec.fit_rate(xs, errs, seed=4)
    assert dec.decide_rate(fit, -1 / 6, 0.08, attained=True).verdict == "HOLDS"
    assert dec.decide_rate(fit, -0.5, 0.08, attained=True).verdict == "FALSIFIED"


def test_rate_needs_a_ladder_of_4_widths_spanning_16x():
    with pytest.raises(InvalidArgument, match="at least 4 values spanning at least 16x"):
        dec.fit_rate([64, 128, 256], [[1.0], [0.7], [0.5]], seed=0)
    with pytest.raises(NonFiniteError, match="finite and positive"):
        dec.fit_rate([1, 2, 4, 16], [[1.0], [0.7], [0.0], [0.5]], seed=0)


# -- separations ---------------------------------------------------------------------

def test_separation_holds_falsified_inconclusive():
    a = [0.01, 0.012, 0.009, 0.011, 0.010]
    b = [0.30, 0.29, 0.31, 0.30, 0.28]
    assert dec.decide_separation(a, b, margin=0.1).verdict == "HOLDS"
    assert dec.decide_separation(b, a, margin=0.0).verdict == "FALSIFIED"
    noisy_a, noisy_b = [0.1, 0.3, 0.2, 0.4, 0.1], [0.2, 0.1, 0.3, 0.2, 0.4]
    assert dec.decide_separation(noisy_a, noisy_b).verdict == "INCONCLUSIVE"
    assert dec.decide_separation([0.1], [0.2]).verdict == "INCONCLUSIVE"


def test_identity_uses_the_backend_precision_gap():
    """On mpmath, lhs and rhs may agree as floats and still differ at 1e-30:
    the decision must use the difference computed at the backend's precision."""
    same_as_floats = dec.Observation({}, 1.0, 1.0, 1.0, gap=1e-30)
    assert dec.decide_identity([same_as_floats], 1e-40).verdict == "FALSIFIED"
    assert dec.decide_identity([same_as_floats], 1e-20).verdict == "HOLDS"
