"""The exact ReLU linearisation supremum (ntkproof.theory.relu_linearization) and its bounds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from ntkproof.errors import InvalidArgument, ShapeError
from ntkproof.nn.networks import TwoLayer
from ntkproof.rng import generator
from ntkproof.theory.relu_linearization import (
    ascent_sup,
    continuum_constant,
    exact_argmax,
    exact_sup,
    exact_sup_from_projections,
    exact_sups,
    lemma_4_1_bound,
    lemma_4_1_bound_pair,
    lemma_4_2_bound,
    relu_gap,
    sample_exact_sup,
    small_count,
    small_count_quantile,
    smallest_half_normals,
)


def _instance(seed: int, m: int, d: int = 4, x_norm: float = 0.8):
    rng = generator(seed)
    net = TwoLayer(d, m, "relu", seed=seed)
    x = rng.standard_normal(d)
    return net, net.params0["W"], net.params0["a"], x * (x_norm / np.linalg.norm(x)), rng


@pytest.mark.parametrize("seed", range(4))
def test_argmax_attains_exact_sup_on_the_sphere_with_the_networks(seed):
    net, W0, a, x, _ = _instance(seed, 40)
    B = [0.3, 1.0, 3.0, 10.0][seed]
    sup = exact_sup(W0, a, x, B)
    W = exact_argmax(W0, a, x, B)
    X = x[None, :]
    gap = net.apply({"W": W, "a": a}, X)[0] - net.linearize().apply({"W": W, "a": a}, X)[0]
    assert abs(gap) == pytest.approx(sup.value, rel=1e-12)
    assert gap == pytest.approx(relu_gap(W, W0, a, x), rel=1e-12)
    assert np.linalg.norm(W - W0) <= B * (1 + 1e-12)
    assert sup.k >= 1


def test_exact_sup_matches_brute_force_over_sets_and_common_overshoot():
    """For tiny m, enumerate every set S of one sign and solve its KKT point."""
    rng = generator(7)
    for _ in range(30):
        m = 6
        c, a = rng.standard_normal(m) * 0.5, rng.choice([-1.0, 1.0], m)
        B = rng.uniform(0.1, 2.0)
        best = 0.0
        for s in (1, -1):
            idx = np.flatnonzero(a == s)
            for k in range(1, idx.size + 1):
                for S in itertools.combinations(idx, k):
                    u = B / math.sqrt(k)
                    if u >= np.abs(c[list(S)]).max():
                        best = max(best, (B * math.sqrt(k) - np.abs(c[list(S)]).sum()) / math.sqrt(m))
        assert exact_sup_from_projections(c, a, B).value == pytest.approx(best, abs=1e-14)


@pytest.mark.parametrize("m", [8, 60])
def test_ascent_never_exceeds_and_nearly_reaches_the_exact_sup(m):
    _, W0, a, x, rng = _instance(m, m)
    for B in (0.3, 2.0):
        exact = exact_sup(W0, a, x, B).value
        found, W = ascent_sup(W0, a, x, B, rng=rng, restarts=4, iters=300)
        assert found <= exact * (1 + 1e-12)
        assert found >= 0.99 * exact
        assert np.linalg.norm(W - W0) <= B * (1 + 1e-12)


def test_special_cases():
    assert exact_sup_from_projections([0.1, -0.2], [1, -1], 0.0).value == 0.0
    assert exact_sup_from_projections([0.1, -0.2], [1, -1], 1.0, x_norm=0.0).value == 0.0
    # one neuron at c = 0: the whole budget is overshoot, sup = B / sqrt(m)
    assert exact_sup_from_projections([0.0], [1.0], 2.0).value == pytest.approx(2.0)
    with pytest.raises(InvalidArgument):
        exact_sup_from_projections([0.1], [0.5], 1.0)
    with pytest.raises(ShapeError):
        exact_sup(np.zeros((3, 2)), np.ones(3), np.ones(3), 1.0)


def test_bounds_special_cases_and_continuum_constant():
    assert lemma_4_1_bound(0.0, 10.0, 0.5) == 0.0
    assert lemma_4_1_bound_pair(1.0, 1.0, math.exp(-1.0)) == pytest.approx(8.0)
    assert lemma_4_2_bound(50, 0.0, 0.5) == pytest.approx(math.sqrt(25 * math.log(2)))
    with pytest.raises(InvalidArgument):
        lemma_4_1_bound(1.0, 10, 1.0)
    assert small_count(np.array([[0.1, 0.0], [2.0, 0.0]]), np.array([1.0, 0.0]), 0.5) == 1
    assert continuum_constant() == pytest.approx(0.75 * (2 * math.sqrt(2 * math.pi)) ** (-1 / 3))
    # finite m agrees with the continuum limit within a few per cent at m = 1e5
    rng = generator(3)
    vals = [exact_sup_from_projections(rng.standard_normal(10**5),
                                       rng.choice([-1.0, 1.0], 10**5), 1.0).value
            * 10 ** (5 / 6) for _ in range(5)]
    assert np.median(vals) == pytest.approx(continuum_constant(), rel=0.05)


def test_exact_sups_is_exact_sup_row_by_row():
    _, W0, a, _, rng = _instance(5, 50)
    X = rng.standard_normal((7, 4))
    for B in (0.0, 0.4, 3.0):
        want = [exact_sup(W0, a, x, B).value for x in X]
        assert exact_sups(W0, a, X, B) == pytest.approx(want, rel=1e-12, abs=1e-15)
    with pytest.raises(ShapeError):
        exact_sups(W0, a, X[:, :3], 1.0)


def test_smallest_half_normals_are_the_order_statistics_of_half_normals():
    """The k smallest of n |N(0,1)| drawn in O(k) match sorting n draws (KS, per rank)."""
    rng = generator(11)
    n, k, reps = 200, 5, 3000
    fast = np.array([smallest_half_normals(n, k, rng=rng) for _ in range(reps)])
    slow = np.sort(np.abs(rng.standard_normal((reps, n))), axis=1)[:, :k]
    for i in range(k):
        assert stats.ks_2samp(fast[:, i], slow[:, i]).pvalue > 1e-3
    assert smallest_half_normals(3, 10, rng=rng).size == 3
    assert smallest_half_normals(10, 0, rng=rng).size == 0


@pytest.mark.parametrize("m, B", [(30, 1.0), (400, 0.3), (2000, 3.0)])
def test_sampled_exact_sup_has_the_distribution_of_network_draws(m, B):
    """sample_exact_sup (projections and sign counts drawn directly) against exact_sup of
    TwoLayer draws: same law (two-sample KS), including when a block must be extended."""
    rng = generator(m)
    x = rng.standard_normal(10)
    x /= np.linalg.norm(x)
    nets = [exact_sup(p["W"], p["a"], x, B).value
            for p in (TwoLayer(10, m, "relu", seed=s).params0 for s in range(600))]
    fast = [sample_exact_sup(m, B, rng=rng) for _ in range(2000)]
    assert stats.ks_2samp(nets, fast).pvalue > 1e-3
    assert sample_exact_sup(m, 0.0, rng=rng) == 0.0
    # c = W0x and R = B||x|| both scale with ||x||: sup at ||x|| = 2 has the law of 2 sup
    a = [sample_exact_sup(m, B, rng=rng, x_norm=2.0) for _ in range(1000)]
    b = [2 * sample_exact_sup(m, B, rng=rng) for _ in range(1000)]
    assert stats.ks_2samp(a, b).pvalue > 1e-3


def test_small_count_quantile_is_the_binomial_quantile():
    rng = generator(4)
    x = np.array([1.0, 0.0, 0.0])
    counts = [small_count(rng.standard_normal((500, 3)), x, 0.2) for _ in range(2000)]
    q = small_count_quantile(500, 0.2, 0.1)
    assert 0.88 <= np.mean(np.asarray(counts) <= q) <= 0.93
    with pytest.raises(InvalidArgument):
        small_count_quantile(500, 0.2, 0.0)
