"""One-hidden-layer tanh networks, multi-start descent and certificates
(ntkproof.theory.local_minima)."""

from fractions import Fraction

import flint
import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.certify import certify
from ntkproof.theory import local_minima as lm


def _theta(rng, m):
    return np.concatenate([rng.standard_normal(m) * 2, rng.standard_normal(m),
                           rng.standard_normal(m)])


@pytest.fixture(scope="module")
def data():
    return lm.tanh_teacher_data()


def test_gradient_and_hessian_match_finite_differences(data):
    x, y = data
    rng = np.random.default_rng(0)
    th = _theta(rng, 3)
    L, g, H = (a[0] for a in lm.batch_loss_grad_hess(th[None], x, y))
    h = 1e-6
    E = np.eye(th.size) * h
    Lp = lm.batch_loss_grad_hess(th[None] + E, x, y)
    Lm = lm.batch_loss_grad_hess(th[None] - E, x, y)
    assert np.allclose((Lp[0] - Lm[0]) / (2 * h), g, rtol=1e-6, atol=1e-6)
    assert np.allclose((Lp[1] - Lm[1]) / (2 * h), H, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["numpy", "mpmath"])
def test_backend_formulas_agree_with_the_batch(data, name):
    x, y = data
    th = _theta(np.random.default_rng(1), 2)
    L, g, H = (a[0] for a in lm.batch_loss_grad_hess(th[None], x, y))
    b = get_backend(name)
    tb, xb, yb = b.asarray(th), b.asarray(x), b.asarray(y)
    assert np.isclose(b.to_float(lm.backend_loss(b, tb, xb, yb)), L, rtol=1e-12)
    assert np.allclose(b.to_numpy(lm.backend_gradient(b, tb, xb, yb)), g, rtol=1e-10, atol=1e-12)
    assert np.allclose(b.to_numpy(lm.backend_hessian(b, tb, xb, yb)), H, rtol=1e-10, atol=1e-12)


def test_arb_hessian_encloses_the_float_hessian(data):
    x, y = data
    th = _theta(np.random.default_rng(2), 2)
    H = lm.batch_loss_grad_hess(th[None], x, y)[2][0]
    Ha = lm.arb_hessian(lm.arb_numbers(th), lm.arb_numbers(x), lm.arb_numbers(y))
    for i in range(6):
        for j in range(6):
            assert abs(float(Ha[i][j].mid()) - H[i, j]) <= 1e-9 * (1 + abs(H[i, j]))


def test_canonical_is_invariant_under_the_symmetries():
    rng = np.random.default_rng(3)
    th = _theta(rng, 3)
    w, b, v = lm.parts(th, 3)
    flipped = np.concatenate([-w * [1, -1, 1][0], -b * 1, -v])  # every neuron flipped
    perm = np.concatenate([w[[2, 0, 1]], b[[2, 0, 1]], v[[2, 0, 1]]])
    assert np.allclose(lm.canonical(th), lm.canonical(perm))
    assert np.allclose(lm.canonical(th), lm.canonical(flipped))


def test_multistart_finds_the_two_width2_minima(data):
    x, y = data
    ms = lm.multistart(x, y, 2, starts=64, rng=np.random.default_rng(0))
    losses = [round(lim.loss, 5) for lim in ms.minima]
    assert 0.07455 in losses and 0.12251 in losses
    assert all(lim.lam_min > 0 and lim.grad_norm <= 1e-11 for lim in ms.minima)
    assert [round(lim.loss, 5) for lim in ms.suboptimal()] == [0.12251]


def test_strict_certificate_of_the_width2_minimum(data):
    x, y = data
    ms = lm.multistart(x, y, 2, starts=64, rng=np.random.default_rng(0))
    lim = ms.suboptimal()[0]
    c = lm.polish_arb(lim.theta, x, y)
    box = lm.offset_box(6, 1e-30)
    res = certify(lm.curvature_evaluate(c, x, y, 0.999 * lim.lam_min), box, prec=200)
    assert res.verdict == "CERTIFIED"
    assert lm.gradient_ratio(c, x, y, 0.999 * lim.lam_min, 1e-30) < 1e-10
    res = certify(lm.curvature_evaluate(c, x, y, 1.1 * lim.lam_min), box, prec=200)
    assert res.verdict == "FALSIFIED"


def test_constant_fit_labels_are_exactly_slope_free(data):
    x, y = data
    yc = lm.constant_fit_labels(x, y)
    ybar = sum(yc) / len(yc)
    assert sum(yc) - len(yc) * ybar == 0
    assert sum((c - ybar) * Fraction(float(a)) for a, c in zip(x, yc, strict=True)) == 0
    assert lm.constant_fit_loss(yc) == sum((c - ybar) ** 2 for c in yc) / 2


def test_the_constant_fit_point_computes_the_mean(data):
    x, y = data
    yc = lm.constant_fit_labels(x, y - y.mean() + 0.5)
    c = lm.constant_fit_point(yc, [0.5, 1.0, 1.5], [1.0, 2.0, 0.5])
    f = lm.arb_state(c, lm.arb_numbers(x), [flint.arb(0)] * len(x))["r"]
    ybar = float(sum(yc) / len(yc))
    assert all(abs(float(fi.mid()) - ybar) < 1e-14 for fi in f)  # arb at 53 bits here


def test_lower_bound_holds_near_the_flat_set(data):
    """L(θ) >= L* + ½ Σ w_j² κ_j (the expansion of the module docstring) at random points
    near A."""
    x, y = data
    yc = lm.constant_fit_labels(x, y - y.mean() + 0.5)
    c = lm.constant_fit_point(yc, [0.5, 1.0, 1.5], [1.0, 2.0, 0.5])
    lstar = flint.arb(flint.fmpq(*(lambda q: (q.numerator, q.denominator))(
        lm.constant_fit_loss(yc))))
    rng = np.random.default_rng(4)
    for _ in range(5):
        th = [ci + flint.arb(float(d)) for ci, d in zip(c, rng.uniform(-1e-2, 1e-2, 9), strict=True)]
        ks = lm.kappa_values(th, x, yc)
        low = lstar + sum((th[j] * th[j] * ks[j] for j in range(3)), flint.arb(0)) / 2
        loss = lm.arb_loss(th, lm.arb_numbers(x), lm.arb_numbers(yc))
        assert loss.upper() >= low.lower()


def test_normal_basis_is_orthonormal_and_normal_to_the_flat_set():
    th = np.concatenate([np.zeros(3), [0.5, 1.0, 1.5], [1.0, 2.0, 0.5]])
    B = lm.normal_basis(th)
    assert np.allclose(B.T @ B, np.eye(4))
    tangent = np.concatenate([np.zeros(3), [1.0, 0, 0], [0, 0, 0]])
    tangent[6] = -tangent[3] * 1.0 * (1 - np.tanh(0.5) ** 2) / np.tanh(0.5)  # dφ = 0
    assert np.allclose(B.T @ tangent, 0)
