"""Infinite-width kernels against Monte Carlo over finite networks, quadrature and mpmath.

Monte Carlo decision rule: an estimate ``mean`` with standard error ``se`` computed
from its own samples agrees with the infinite-width value when
``|mean - value| <= Z * se`` (Z = 5: a two-sided normal tail of 6e-7 per entry; with
32 replicates the t_31 tail is about 2e-5). The finite-width bias, O(1/m) with
m = 2^14, is below 1% of ``Z * se`` in these settings and is not budgeted for.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import InvalidArgument, NonFiniteError, ShapeError, UnknownName
from ntkproof.nn import kernels
from ntkproof.nn.activations import get_activation
from ntkproof.rng import generator, spawn, unit_vectors

Z = 5.0
NP = get_backend("numpy")


def _agrees(mean: np.ndarray, se: np.ndarray, value: np.ndarray) -> bool:
    return bool(np.all(np.abs(mean - value) <= Z * se + 1e-12))


# -- finite networks -----------------------------------------------------------------
def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    lam, u = np.linalg.eigh(s)
    return (u * np.sqrt(np.clip(lam, 0.0, None))) @ u.T


def _mlp_kernels(x, act, depth, w_std, b_std, m, rng):
    """One draw of the empirical NNGP and NTK of a width-m MLP in NTK parameterisation.

    Layer 1 and the readout are drawn directly. A hidden m×m weight W acting on
    h (m×n) is drawn only through what the n inputs see: W h has iid rows
    N(0, hᵀh), and W = (W h)(hᵀh)⁺hᵀ + W'(I - P_h) with W' an independent copy,
    so Wᵀδ = h(hᵀh)⁺(W h)ᵀδ + (I - P_h) W'ᵀδ, where W'ᵀδ has iid rows N(0, δᵀδ).
    This is exact in distribution (``test_conditional_sampler_matches_direct``).
    The returned NNGP is the readout's conditional covariance w²/m hᵀh + b².
    """
    n, d = x.shape

    def phi(z):
        return act.f(NP, z)

    def dphi(z):
        return act.df(NP, z)

    hs = [x.T]
    zs = [w_std / np.sqrt(d) * rng.standard_normal((m, d)) @ x.T
          + b_std * rng.standard_normal((m, 1))]
    cache = []
    for _ in range(1, depth):
        h = phi(zs[-1])
        g = h.T @ h
        wh = rng.standard_normal((m, n)) @ _sqrt_psd(g)
        hs.append(h)
        cache.append((h, np.linalg.pinv(g), wh))
        zs.append(w_std / np.sqrt(m) * wh + b_std * rng.standard_normal((m, 1)))
    h = phi(zs[-1])
    nngp = w_std**2 / m * h.T @ h + b_std**2
    ntk = nngp.copy()
    delta = w_std / np.sqrt(m) * rng.standard_normal((m, 1)) * dphi(zs[-1])
    for layer in reversed(range(depth)):
        fan = d if layer == 0 else m
        ntk += (w_std**2 / fan * hs[layer].T @ hs[layer] + b_std**2) * (delta.T @ delta)
        if layer:
            hp, ginv, wh = cache[layer - 1]
            y = rng.standard_normal((m, n)) @ _sqrt_psd(delta.T @ delta)
            wt_delta = hp @ (ginv @ (wh.T @ delta)) + y - hp @ (ginv @ (hp.T @ y))
            delta = dphi(zs[layer - 1]) * (w_std / np.sqrt(m) * wt_delta)
    return nngp, ntk


def _mlp_kernels_direct(x, act, depth, w_std, b_std, m, rng):
    """The same draw with every weight matrix materialised (small m only)."""
    n, d = x.shape
    ws = [rng.standard_normal((m, d))] + [rng.standard_normal((m, m)) for _ in range(depth - 1)]
    hs, zs = [x.T], []
    for w in ws:
        fan = w.shape[1]
        zs.append(w_std / np.sqrt(fan) * w @ hs[-1] + b_std * rng.standard_normal((m, 1)))
        hs.append(act.f(NP, zs[-1]))
    nngp = w_std**2 / m * hs[-1].T @ hs[-1] + b_std**2
    ntk = nngp.copy()
    delta = w_std / np.sqrt(m) * rng.standard_normal((m, 1)) * act.df(NP, zs[-1])
    for layer in reversed(range(depth)):
        fan = ws[layer].shape[1]
        ntk += (w_std**2 / fan * hs[layer].T @ hs[layer] + b_std**2) * (delta.T @ delta)
        if layer:
            delta = act.df(NP, zs[layer - 1]) * (w_std / np.sqrt(m) * ws[layer].T @ delta)
    return nngp, ntk


def _replicates(sampler, x, act, depth, w_std, b_std, m, reps, seed):
    draws = [sampler(x, act, depth, w_std, b_std, m, generator(s)) for s in spawn(seed, reps)]
    nngp, ntk = (np.array([d[i] for d in draws]) for i in (0, 1))
    return [(a.mean(0), a.std(0, ddof=1) / np.sqrt(reps)) for a in (nngp, ntk)]


# -- Monte Carlo checks --------------------------------------------------------------
@pytest.mark.parametrize("trained", ["W", "a", "both"])
def test_two_layer_relu_ntk_matches_wide_network(trained):
    rng = generator(11)
    x = unit_vectors(rng, 6, 5) * rng.uniform(0.5, 1.5, (6, 1))
    m = 2**16
    w, a = rng.standard_normal((m, 5)), rng.choice([-1.0, 1.0], m)
    pre = x @ w.T                                                  # (n, m)
    terms = np.zeros((m, 6, 6))
    if trained in ("W", "both"):
        s = (pre > 0) * a
        terms += (x @ x.T)[None] * (s.T[:, :, None] * s.T[:, None, :])
    if trained in ("a", "both"):
        r = np.maximum(pre, 0)
        terms += r.T[:, :, None] * r.T[:, None, :]
    mean, se = terms.mean(0), terms.std(0, ddof=1) / np.sqrt(m)
    value = kernels.two_layer_relu_ntk(x, trained=trained)
    assert _agrees(mean, se, value)
    # Falsified twin: Cho–Saul's normalisation (twice the Gaussian expectation).
    assert not _agrees(mean, se, 2 * value)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("w_std,b_std", [(1.0, 0.0), (1.5, 0.4)])
def test_infinite_width_matches_monte_carlo(activation, depth, w_std, b_std):
    rng = generator(100 + depth)
    x = rng.standard_normal((4, 3))
    k = kernels.infinite_width(x, activation=activation, depth=depth, W_std=w_std, b_std=b_std)
    (nngp, nngp_se), (ntk, ntk_se) = _replicates(
        _mlp_kernels, x, get_activation(activation), depth, w_std, b_std, 2**14, 32, seed=depth)
    assert _agrees(nngp, nngp_se, k.nngp), (nngp - k.nngp) / nngp_se
    assert _agrees(ntk, ntk_se, k.ntk), (ntk - k.ntk) / ntk_se
    # Falsified twin: forgetting neural-tangents' 1/d on the input covariance.
    wrong = kernels.infinite_width(x * np.sqrt(3), activation=activation, depth=depth,
                                   W_std=w_std, b_std=b_std)
    assert not _agrees(ntk, ntk_se, wrong.ntk)


def test_conditional_sampler_matches_direct():
    """At width 24 the conditional sampler and materialised weights agree in mean."""
    x = generator(5).standard_normal((3, 4))
    act = get_activation("tanh")
    fast = _replicates(_mlp_kernels, x, act, 3, 1.3, 0.2, 24, 800, seed=1)
    slow = _replicates(_mlp_kernels_direct, x, act, 3, 1.3, 0.2, 24, 800, seed=2)
    for (mf, sf), (ms, ss) in zip(fast, slow, strict=True):
        assert np.all(np.abs(mf - ms) <= Z * np.hypot(sf, ss))


# -- closed forms against quadrature -------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("b_std", [0.0, 0.3])
def test_quadrature_matches_closed_form(activation, depth, b_std):
    rng = generator(7)
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    for a, b in [(x1, None), (x1, x2)]:
        closed = kernels.infinite_width(a, b, activation=activation, depth=depth, W_std=1.3,
                                        b_std=b_std, method="closed")
        quad = kernels.infinite_width(a, b, activation=activation, depth=depth, W_std=1.3,
                                      b_std=b_std, method="quadrature")
        assert quad.method == "quadrature" and closed.method == "closed"
        for c, q in [(closed.nngp, quad.nngp), (closed.ntk, quad.ntk)]:
            assert np.max(np.abs(c - q)) <= 1e-8 * np.max(np.abs(c))


def test_two_layer_is_depth_one_of_the_general_recursion():
    x = unit_vectors(generator(3), 7, 5)
    general = kernels.infinite_width(x * np.sqrt(5), depth=1)
    assert np.allclose(general.ntk, kernels.two_layer_relu_ntk(x), rtol=1e-13, atol=0)
    assert np.allclose(general.nngp, kernels.arccos_kernel(x, order=1), rtol=1e-13, atol=0)
    both = kernels.two_layer_relu_ntk(x)
    parts = kernels.two_layer_relu_ntk(x, trained="W") + kernels.two_layer_relu_ntk(x, trained="a")
    assert np.allclose(both, parts, rtol=1e-15, atol=0)


def test_diagonal_of_deep_kernel_is_exact():
    """K(x, x) through the arccos stays at θ = 0: relu NNGP diagonal = (W²/2)^L W² q."""
    x = generator(4).standard_normal((5, 3))
    k = kernels.infinite_width(x, depth=3, W_std=1.2)
    q = (x * x).sum(1) / 3
    assert np.allclose(np.diag(k.nngp), q * 1.44 * (1.44 / 2) ** 3, rtol=1e-14, atol=0)


# -- high precision -------------------------------------------------------------------
def _angular_integral(x, y, order, same):
    """(1/2π)·∫ over the wedge {cos φ > 0, cos(φ-θ) > 0} of (2 ||x|| ||y|| cos φ cos(φ-θ))^order.

    The polar form of the Gaussian expectation (∫ r³ e^{-r²/2} dr = 2), independent of
    the closed form. On the diagonal θ = 0 is passed exactly: acos(1 - ε) would carry
    an error of sqrt(2ε) ~ 1e-25 into the reference itself.
    """
    nx, ny = mpmath.norm(x), mpmath.norm(y)
    cos = mpmath.fsum(a * b for a, b in zip(x, y, strict=True)) / (nx * ny)
    theta = mpmath.mpf(0) if same else mpmath.acos(cos)
    f = (lambda p: 1) if order == 0 else (lambda p: 2 * nx * ny * mpmath.cos(p)
                                          * mpmath.cos(p - theta))
    return mpmath.quad(f, [theta - mpmath.pi / 2, mpmath.pi / 2]) / (2 * mpmath.pi)


@pytest.mark.parametrize("order", [0, 1])
def test_arccos_kernel_at_50_digits(order):
    b = get_backend("mpmath:dps50")
    x = generator(9).standard_normal((3, 4))
    with b.context():
        xm = b.asarray(x)
        got = kernels.arccos_kernel(xm, order=order, backend=b)
        for i in range(3):
            for j in range(3):
                ref = _angular_integral(list(xm[i]), list(xm[j]), order, i == j)
                assert abs(got[i, j] - ref) <= mpmath.mpf(10) ** -40 * abs(ref)
    assert np.allclose(b.to_numpy(got), kernels.arccos_kernel(x, order=order), rtol=1e-14)


def test_deep_kernel_on_mpmath_matches_numpy():
    b = get_backend("mpmath:dps50")
    x = generator(2).standard_normal((3, 4))
    with b.context():
        k = kernels.infinite_width(x, activation="erf", depth=2, b_std=0.2, backend=b)
    ref = kernels.infinite_width(x, activation="erf", depth=2, b_std=0.2)
    assert np.allclose(b.to_numpy(k.ntk), ref.ntk, rtol=1e-13, atol=0)


# -- errors ---------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = np.ones((3, 2))
    with pytest.raises(ShapeError, match="same input dimension"):
        kernels.infinite_width(x, np.ones((2, 3)))
    with pytest.raises(ShapeError, match="2-D"):
        kernels.arccos_kernel(np.ones(3), order=0)
    with pytest.raises(NonFiniteError, match="x1"):
        kernels.infinite_width(np.array([[1.0, np.nan]]))
    with pytest.raises(InvalidArgument, match="all-zero rows"):
        kernels.infinite_width(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(InvalidArgument, match="depth"):
        kernels.infinite_width(x, depth=0)
    with pytest.raises(InvalidArgument, match="no closed form"):
        kernels.infinite_width(x, activation="tanh", method="closed")
    with pytest.raises(InvalidArgument, match="numpy only"):
        kernels.infinite_width(x, activation="tanh", backend="mpmath")
    with pytest.raises(UnknownName, match="relu"):
        kernels.infinite_width(x, activation="rleu")
    # a zero input is fine with a bias
    assert np.isfinite(kernels.infinite_width(np.zeros((1, 2)), b_std=0.5).ntk).all()


def test_torch_backend_matches_numpy():
    pytest.importorskip("torch")
    x = generator(12).standard_normal((5, 3))
    for act in ("relu", "erf"):
        ref = kernels.infinite_width(x, activation=act, depth=2, b_std=0.1)
        got = kernels.infinite_width(x, activation=act, depth=2, b_std=0.1, backend="torch")
        assert np.allclose(got.ntk.numpy(), ref.ntk, rtol=1e-13, atol=0)


def test_modules_do_not_import_torch():
    code = ("import sys, ntkproof.nn.kernels, ntkproof.nn.flow, ntkproof.nn.data, ntkproof.nn.quadrature; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("activation", ["sigmoid", "softplus", "silu", "gelu", "identity"])
def test_every_catalogue_activation_matches_monte_carlo(activation):
    """Depth 1 (quadrature for all but identity) against 32 networks of width 2^14."""
    x = generator(21).standard_normal((4, 3))
    k = kernels.infinite_width(x, activation=activation, depth=1, W_std=1.2, b_std=0.3)
    (nngp, nngp_se), (ntk, ntk_se) = _replicates(
        _mlp_kernels, x, get_activation(activation), 1, 1.2, 0.3, 2**14, 32, seed=21)
    assert _agrees(nngp, nngp_se, k.nngp) and _agrees(ntk, ntk_se, k.ntk)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_arora_normalisation_is_a_rescaling(depth):
    """Arora et al. 2019's unit-input ReLU recursion (c_σ = 2), written out independently:
    ρ_h = κ1(ρ_{h-1}), Θ_h = Θ_{h-1} κ0(ρ_{h-1}) + ρ_h, equals infinite_width at
    inputs x·sqrt(d/2) with W_std = sqrt(2)."""
    x = unit_vectors(generator(30), 5, 4)

    def kappa0(u):
        return (np.pi - np.arccos(u)) / np.pi

    def kappa1(u):
        return (np.sqrt(1 - u * u) + (np.pi - np.arccos(u)) * u) / np.pi

    rho = np.clip(x @ x.T, -1, 1)
    np.fill_diagonal(rho, 1.0)
    theta = rho.copy()
    for _ in range(depth):
        theta, rho = theta * kappa0(rho) + kappa1(rho), np.clip(kappa1(rho), -1, 1)
    ours = kernels.infinite_width(x * np.sqrt(2), depth=depth, W_std=np.sqrt(2)).ntk
    assert np.allclose(ours, theta, rtol=1e-13, atol=0)
    assert not np.allclose(kernels.infinite_width(x * 2, depth=depth).ntk, theta, rtol=1e-3)
