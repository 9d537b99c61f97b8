"""Random ReLU features against one neuron: the population Gram against Monte Carlo, the
prefix errors against direct solves (and the blocked factor against the one-shot one),
the leave-one-out shortcut against refitting, the kernel limit against many features."""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import InvalidArgument
from ntkproof.rng import generator, unit_vectors
from ntkproof.theory.random_features import (
    PLATEAU,
    RELU_SECOND_MOMENT,
    RELU_VARIANCE,
    _PrefixErrors,
    feature_gram,
    features_needed,
    kernel_limit,
    loo_ridge,
    population_error_curve,
    quadratic_dimension,
    relu_features,
    ridge_fit,
)


def test_relu_moments_and_plateau_by_monte_carlo():
    z = generator(0).standard_normal(2_000_000)
    r = np.maximum(z, 0)
    assert np.mean(r * r) == pytest.approx(RELU_SECOND_MOMENT, rel=5e-3)
    assert np.var(r) == pytest.approx(RELU_VARIANCE, rel=5e-3)
    A = np.stack([np.ones_like(z), z], axis=1)
    resid = r - A @ np.linalg.lstsq(A, r, rcond=None)[0]
    assert np.mean(resid**2) / np.var(r) == pytest.approx(PLATEAU, rel=1e-2)


def test_feature_gram_by_monte_carlo():
    W = unit_vectors(generator(1), 3, 4) * np.array([[1.0], [2.0], [0.5]])
    x = generator(2).standard_normal((400_000, 4))
    F = np.maximum(x @ W.T, 0)
    assert np.allclose(F.T @ F / len(x), feature_gram(W), atol=1e-2)


def _direct(W, ws, r):
    G, b = feature_gram(W[:r]), feature_gram(W[:r], ws[None])[:, 0]
    return (RELU_SECOND_MOMENT - b @ np.linalg.solve(G, b)) / RELU_VARIANCE


def test_population_curve_against_direct_solves():
    W = unit_vectors(generator(3), 40, 5)
    ws = unit_vectors(generator(4), 1, 5)[0]
    curve = population_error_curve(W, ws)
    for r in (1, 7, 40):
        assert curve[r - 1] == pytest.approx(_direct(W, ws, r), abs=1e-9)
    assert np.all(np.diff(curve) <= 1e-12) and curve[-1] >= -1e-9


def test_population_curve_exact_when_the_target_is_spanned():
    W = np.array([[1.0, 0.0], [-1.0, 0.0]])   # relu(z) and relu(-z): z = relu(z) - relu(-z)
    assert population_error_curve(W, np.array([1.0, 0.0]))[0] == pytest.approx(0.0, abs=1e-9)
    assert population_error_curve(np.array([[0.0, 1.0]]), np.array([1.0, 0.0]))[0] > 0.5


@pytest.mark.parametrize("spec", ["numpy", "torch"])
def test_blocked_prefix_errors_match_the_one_shot_curve(spec):
    if spec == "torch":
        pytest.importorskip("torch")
    d = 6
    run = _PrefixErrors(d, 11, get_backend(spec))
    blocked = np.concatenate([run.extend(k) for k in (5, 13, 30)])
    # the run draws its rows block by block from one stream: the one-shot curve of the
    # same rows
    assert np.allclose(blocked, population_error_curve(run.W, np.eye(d)[0]), atol=1e-10)


def test_features_needed_is_the_first_crossing():
    res = features_needed(6, 0.3, seed=5, draws=3, block=8)
    runs = [_PrefixErrors(6, int(s), get_backend("numpy"))
            for s in np.random.SeedSequence(5).generate_state(3)]
    mean = np.mean([np.concatenate([r.extend(8) for _ in range(8)]) for r in runs], axis=0)
    assert mean[res.r - 1] <= 0.3 < mean[res.r - 2]
    assert res.weights_norm >= res.weights_max > 0
    with pytest.raises(InvalidArgument):
        features_needed(6, -1.0, seed=5, draws=1, block=8, r_limit=16)


def test_quadratic_dimension():
    assert [quadratic_dimension(d) for d in (1, 2, 4)] == [3, 6, 15]


def test_loo_shortcut_matches_refitting():
    rng = generator(7)
    X, y = rng.standard_normal((12, 3)), rng.standard_normal(12)
    K = X @ X.T + 0.5 * (X @ X.T) ** 2
    ridges = (1e-3, 1e-1, 1.0)

    def loo(r):
        errs = []
        for i in range(12):
            keep = np.arange(12) != i
            Kk = K[np.ix_(keep, keep)]
            # the shortcut scales the ridge by tr(K)/n of the full set: refit with it
            a = np.linalg.solve(Kk + r * np.trace(K) / 12 * np.eye(11), y[keep])
            errs.append((y[i] - K[i, keep] @ a) ** 2)
        return np.mean(errs)

    assert loo_ridge(K, y, ridges) == min(ridges, key=loo)


def test_random_features_tend_to_the_kernel_limit():
    rng = generator(8)
    X, Xt = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    K, Kt = kernel_limit(X, Xt)
    W = unit_vectors(generator(9), 200_000, 4)
    F, Ft = relu_features(X, W), relu_features(Xt, W)
    assert np.allclose(F @ F.T, K, rtol=2e-2, atol=2e-3)
    assert np.allclose(Ft @ F.T, Kt, rtol=2e-2, atol=2e-3)
    y = rng.standard_normal(6)
    assert np.allclose(ridge_fit(F @ F.T, y, Ft @ F.T, 0.1).test,
                       ridge_fit(K, y, Kt, 0.1).test, atol=5e-2)
