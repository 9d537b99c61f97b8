"""The polar quadrature of bivariate Gaussian expectations against closed forms.

``gaussian_expectation(f, g, q1, k, q2)`` is E[f(u) g(v)] for (u, v) ~ N(0, [[q1, k],
[k, q2]]). Every reference below is a closed form derived independently of the rule
(Gaussian moments, the arc-cosine formulas with their angle computed by atan2, Price's
E[sign u sign v] = (2/π) arcsin ρ), so a wrong radial weight, a wrong angular split
or a wrong normalisation fails here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ntkproof.nn.quadrature import gaussian_expectation
from ntkproof.rng import generator


def relu(x):
    return np.maximum(x, 0.0)


def step(x):
    return (x > 0).astype(float)


def ident(x):
    return x


def _covariances(n: int, seed: int):
    rng = generator(seed)
    q1, q2 = 10 ** rng.uniform(-1, 1, size=(2, n))
    rho = rng.uniform(-0.999, 0.999, size=n)
    return q1, rho * np.sqrt(q1 * q2), q2, rho


def _angle(rho):
    """θ = arccos ρ through atan2 (no arccos of the rule's own making)."""
    return np.arctan2(np.sqrt(1 - rho**2), rho)


def test_second_moments_are_the_covariance():
    q1, k, q2, _ = _covariances(50, 1)
    assert np.allclose(gaussian_expectation(ident, ident, q1, k, q2), k, rtol=1e-12,
                       atol=1e-13)
    assert np.allclose(gaussian_expectation(ident, ident, q1, q1, q1), q1, rtol=1e-12)


def test_fourth_moment_is_isserlis():
    """E[u² v²] = q1 q2 + 2k² (Isserlis)."""
    q1, k, q2, _ = _covariances(50, 2)
    sq = np.square
    assert np.allclose(gaussian_expectation(sq, sq, q1, k, q2), q1 * q2 + 2 * k**2,
                       rtol=1e-11)


def test_relu_moments_are_the_arc_cosine_kernels():
    q1, k, q2, rho = _covariances(50, 3)
    th = _angle(rho)
    nngp = np.sqrt(q1 * q2) * (np.sin(th) + (np.pi - th) * np.cos(th)) / (2 * np.pi)
    dot = (np.pi - th) / (2 * np.pi)
    assert np.allclose(gaussian_expectation(relu, relu, q1, k, q2), nngp, rtol=1e-11)
    assert np.allclose(gaussian_expectation(step, step, q1, k, q2), dot, rtol=1e-11)


def test_sign_moment_is_arcsine():
    """E[sign u sign v] = (2/π) arcsin ρ (the orthant probability)."""
    q1, k, q2, rho = _covariances(50, 4)
    assert np.allclose(gaussian_expectation(np.sign, np.sign, q1, k, q2),
                       2 / np.pi * np.arcsin(rho), rtol=1e-11, atol=1e-13)


def test_a_wrong_radial_weight_is_caught():
    """The rule at 1.1 times the covariance (radial weight r e^{-r²/2.2}/1.1) is off
    by 10% on E[relu relu]: the closed-form checks above would fail it."""
    q1, k, q2, rho = _covariances(20, 5)
    good = gaussian_expectation(relu, relu, q1, k, q2)
    wrong = gaussian_expectation(relu, relu, 1.1 * q1, 1.1 * k, 1.1 * q2)
    assert np.allclose(wrong / good, 1.1, rtol=1e-12)


def test_shapes_broadcast_and_zero_variance():
    q1 = np.array([[1.0], [2.0]])
    k = np.array([0.1, 0.2, 0.3])
    out = gaussian_expectation(ident, ident, q1, k, 1.0)
    assert out.shape == (2, 3)
    assert np.allclose(out, np.broadcast_to(k, (2, 3)), rtol=1e-12)
    # a zero variance makes that variable identically 0
    assert gaussian_expectation(relu, relu, 0.0, 0.0, 1.0) == pytest.approx(0.0, abs=1e-300)
    assert gaussian_expectation(np.cos, relu, 0.0, 0.0, 1.0) == pytest.approx(
        1 / math.sqrt(2 * math.pi), rel=1e-12)


def test_chunking_does_not_change_values():
    q1, k, q2, _ = _covariances(200, 6)
    whole = gaussian_expectation(relu, np.tanh, q1, k, q2)
    chunked = gaussian_expectation(relu, np.tanh, q1, k, q2, chunk_points=5 * 40 * 64 * 7)
    assert np.array_equal(whole, chunked)
