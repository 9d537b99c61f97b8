"""The NTK's RKHS (ntkproof.theory.rkhs): the Gram in ball arithmetic against the float
recursion, pivots, the exact flow from zero, other interpolants."""

from __future__ import annotations

import math

import flint
import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.nn.flow import gradient_flow
from ntkproof.nn.kernels import infinite_width
from ntkproof.rng import generator, unit_vectors
from ntkproof.theory import rkhs


@pytest.mark.parametrize(("depth", "w", "bias"), [(1, 1.0, 0.0), (2, math.sqrt(2), 0.0),
                                                  (3, math.sqrt(2), 0.5), (4, 1.3, 0.2)])
def test_the_ball_gram_encloses_the_float_recursion(depth, w, bias):
    X = unit_vectors(generator(depth), 6, 3) * np.array([[1.0], [0.5], [2.0], [1.0], [1.5], [0.7]])
    K = infinite_width(X, depth=depth, W_std=w, b_std=bias).ntk
    G = rkhs.arb_ntk_gram(X.tolist(), depth=depth, W_std=w, b_std=bias)
    for i in range(6):
        for j in range(6):
            ball = G[i][j]
            assert abs(float(ball.mid()) - K[i, j]) <= 1e-13 * max(1.0, abs(K[i, j]))
            assert float(ball.rad()) < 1e-10


def test_pivots_decide_definiteness():
    X = unit_vectors(generator(7), 5, 3)
    K = infinite_width(X, depth=2, W_std=math.sqrt(2)).ntk
    G = rkhs.arb_ntk_gram(X.tolist(), depth=2, W_std=math.sqrt(2))
    assert rkhs.smallest_pivot(G) > 0
    bad, lam = rkhs.shifted(K, 1.1)
    assert np.linalg.eigvalsh(bad)[0] == pytest.approx(-0.1 * lam, rel=1e-8)
    ball = [[flint.arb(float(bad[i, j])) for j in range(5)] for i in range(5)]
    assert rkhs.smallest_pivot(ball) < 0


def test_circle_points_keep_the_moving_point_away():
    fixed, p, q, (t0, t1) = rkhs.circle_points(6, 3, rng=generator(3))
    assert abs(p @ q) < 1e-12 and t1 - t0 == pytest.approx(np.pi / 3)
    ts = np.linspace(t0, t1, 50)
    arc = np.cos(ts)[:, None] * p + np.sin(ts)[:, None] * q
    assert np.max(np.abs(arc @ fixed.T)) < np.cos(0.3)


@pytest.mark.parametrize("backend", ["numpy", "mpmath", "torch"])
def test_flow_from_zero_matches_the_closed_form(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    b = get_backend(backend)
    X = unit_vectors(generator(1), 6, 3)
    y = generator(2).standard_normal(6)
    K = infinite_width(X, depth=2, W_std=math.sqrt(2)).ntk
    lam, U = np.linalg.eigh(K)
    for t in (0.5, 20.0, 400.0):
        alpha = b.to_numpy(rkhs.flow_coefficients(b.asarray(K), b.asarray(y), t, b))
        closed = U @ (-np.expm1(-t * lam / 6) / lam * (U.T @ y))
        assert alpha == pytest.approx(closed, rel=1e-9, abs=1e-12)
        # the kernel model's training outputs are the flow's (ntkproof.nn.flow)
        assert K @ alpha == pytest.approx(gradient_flow(K, y, t).train, rel=1e-9, abs=1e-12)
        norm = b.to_float(rkhs.rkhs_norm(b.asarray(alpha), b.asarray(K), b))
        assert norm <= float(y @ np.linalg.solve(K, y)) * (1 + 1e-12)


def test_other_interpolants_interpolate_and_are_longer():
    X = unit_vectors(generator(5), 9, 3)
    K_all = infinite_width(X, depth=2, W_std=math.sqrt(2)).ntk
    K, Kxz, Kzz = K_all[:6, :6], K_all[:6, 6:], K_all[6:, 6:]
    y = generator(6).standard_normal(6)
    for beta in (np.zeros(3), np.array([0.3, -1.0, 0.5]), np.array([1e-4, 0.0, 0.0])):
        gamma, g_sq, f_sq, h_sq = rkhs.other_interpolant(K, Kxz, Kzz, y, beta)
        assert np.hstack([K, Kxz]) @ gamma == pytest.approx(y, abs=1e-10)
        assert g_sq == pytest.approx(f_sq + h_sq, rel=1e-10)
        assert h_sq >= 0 and f_sq == pytest.approx(float(y @ np.linalg.solve(K, y)))
