"""The tangent-kernel edge and its tools, each against an independent route: the edge
against per-example gradients and the empirical NTK, the exact Walsh eigenvalues against
ntkproof.theory.walsh and the deep-kernel recursion, the GD trace against
ntkproof.nn.descent, the gated network's derivatives against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import InvalidArgument
from ntkproof.nn.data import sphere_teacher
from ntkproof.nn.descent import minimize_loss
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.kernels import infinite_width, two_layer_relu_ntk
from ntkproof.nn.networks import TwoLayer
from ntkproof.theory.tangent_edge import (
    TANH_BETA,
    GatedNetwork,
    descent_trace,
    edge_bound,
    expected_edge_squared,
    hypercube,
    parity,
    tangent_edge,
    two_layer_kappa,
)
from ntkproof.theory.walsh import hypercube_inner_products, walsh_eigenvalues


def _cube(d):
    s = hypercube(d)
    return s / np.sqrt(d), s


def test_hypercube_and_parity():
    s = hypercube(3)
    assert s.shape == (8, 3) and set(np.unique(s)) == {-1.0, 1.0}
    assert len({tuple(r) for r in s}) == 8
    y = parity(s, 2)
    assert np.all(y == s[:, 0] * s[:, 1]) and y.sum() == 0
    with pytest.raises(InvalidArgument):
        hypercube(0)
    with pytest.raises(InvalidArgument):
        parity(s, 4)


@pytest.mark.parametrize("trained", ["W", "both"])
def test_edge_is_the_norm_of_the_mean_gradient(trained):
    X, s = _cube(4)
    y = parity(s, 1) * 0.5 + parity(s, 3)
    net = TwoLayer(4, 6, "tanh", trained=trained, seed=3)
    g = net.grads(net.params0, X)
    mean = np.concatenate([np.mean(y[:, None, None] * g["W"], axis=0).ravel()]
                          + ([np.mean(y[:, None] * g["a"], axis=0)] if "a" in g else []))
    assert tangent_edge(net, net.params0, X, y) == pytest.approx(np.linalg.norm(mean), rel=1e-12)


def test_edge_squared_is_the_kernel_quadratic_form():
    X, s = _cube(5)
    y = parity(s, 2)
    net = TwoLayer(5, 8, "relu", trained="both", seed=1)
    K = empirical_ntk(net, X)
    n = len(y)
    assert tangent_edge(net, net.params0, X, y) ** 2 == pytest.approx(y @ K @ y / n**2,
                                                                      rel=1e-10)


def test_odd_network_has_no_edge_on_even_parity_and_back():
    X, s = _cube(4)
    net = TwoLayer(4, 6, "tanh", trained="both", symmetric=True, seed=0)
    assert tangent_edge(net, net.params0, X, parity(s, 2)) < 1e-15   # roundoff only
    assert tangent_edge(net, net.params0, X, parity(s, 3)) > 1e-3


@pytest.mark.parametrize("d, k", [(4, 2), (6, 2), (8, 4)])
def test_expected_edge_matches_walsh_module(d, k):
    t = hypercube_inner_products(d)
    kappa = two_layer_relu_ntk(np.array([[1.0, 0.0]]),
                               np.stack([t, np.sqrt(np.clip(1 - t * t, 0, None))], axis=1))[0]
    ref = walsh_eigenvalues(list(kappa), d)[k]
    assert expected_edge_squared("relu", k, d) == pytest.approx(ref, rel=1e-9)


def test_relu_ntk_has_no_odd_eigenvalue_above_one():
    # κ(t) of the bias-free ReLU NTK has no odd Taylor coefficient beyond t¹
    for d in (6, 9):
        assert abs(expected_edge_squared("relu", 3, d)) < 1e-15


def test_kappa_matches_the_deep_kernel_recursion():
    t = np.array([-0.6, 0.0, 0.3, 0.9])
    X = np.stack([np.ones_like(t), np.zeros_like(t)], axis=1)[:1]
    Y = np.stack([t, np.sqrt(1 - t * t)], axis=1)
    for act in ("relu", "erf"):
        ref = infinite_width(X * np.sqrt(2), Y * np.sqrt(2), activation=act).ntk[0]
        got = [float(two_layer_kappa(act, float(v), backend="numpy")) for v in t]
        assert np.allclose(got, ref, rtol=1e-10)


def test_expected_edge_is_the_mean_of_finite_networks():
    X, s = _cube(6)
    y = parity(s, 3)
    vals = [tangent_edge(n, n.params0, X, y) ** 2 for n in
            (TwoLayer(6, 512, "erf", trained="both", seed=i) for i in range(12))]
    assert np.mean(vals) == pytest.approx(expected_edge_squared("erf", 3, 6), rel=0.15)


def test_tanh_beta_on_a_grid():
    z = np.linspace(-4, 4, 200001)
    t = np.tanh(z)
    assert np.max(np.abs(-2 * t * (1 - t * t))) == pytest.approx(TANH_BETA, rel=1e-9)


def test_edge_bound_special_cases():
    assert edge_bound(0.5, 1.0, 3, 2.0, 0.7, 16) == pytest.approx(-0.7 * 6 / 8)
    assert edge_bound(0.0, 0.5, 2, 1.0, 1.0, 10**12) == pytest.approx(0.5, rel=1e-5)
    assert np.allclose(edge_bound([0.1, 0.2], 1.0, [1, 2], 1.0, 0.0, 4), [0.4, 0.15])
    with pytest.raises(InvalidArgument):
        edge_bound(0.1, 0.0, 1, 1.0, 0.5, 4)


def _problem(seed=0, d=5, n=10, m=64):
    ds = sphere_teacher(n, 0, d, seed=seed)
    y = np.where(ds.y_train >= 0, 1.0, -1.0)
    return TwoLayer(d, m, "tanh", trained="W", symmetric=True, seed=seed), ds.x_train, y


def test_descent_trace_matches_minimize_loss_and_starts_at_the_edge():
    net, X, y = _problem()
    tr = descent_trace(net, X, y, lr=0.5, steps=20)
    ref = minimize_loss(net, X, y, lr=0.5, steps=20)
    assert np.allclose(tr.losses, ref.losses, rtol=1e-12)
    assert tr.losses[0] == pytest.approx(0.5) and tr.correlation[0] == 0.0
    # f(θ0) = 0, so ∇L(θ0) = -E[y ∇f(θ0, x)]: its norm is the edge
    assert tr.grad_norms[0] == pytest.approx(tangent_edge(net, net.params0, X, y), rel=1e-12)
    assert tr.distance[1] == pytest.approx(0.5 * tr.grad_norms[0], rel=1e-12)
    assert np.all(np.diff(tr.max_grad()) >= 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_edge_bound_holds_on_every_prefix(seed):
    net, X, y = _problem(seed, m=32)
    gamma = tangent_edge(net, net.params0, X, y)
    for lr, steps in ((0.05, 5), (2.0, 60)):
        tr = descent_trace(net, X, y, lr=lr, steps=steps)
        T = np.arange(1, steps + 1)
        bound = edge_bound(tr.losses[1:], lr, T, tr.max_grad(), TANH_BETA, 32)
        assert np.all(bound <= gamma * (1 + 1e-12))
    # the bound is nearly attained by one small step
    tr = descent_trace(net, X, y, lr=0.01, steps=1)
    assert edge_bound(tr.losses[1], 0.01, 1, tr.grad_norms[0], TANH_BETA, 32) / gamma > 0.98


def test_edge_bound_with_u0_by_hand():
    # ηTG = 0.5·4·0.5 = 1: (1 - 0.2 + 0.4)/2 - 0.8·1/(2·4) = 0.6 - 0.1
    assert edge_bound(0.1, 0.5, 4, 0.5, 0.8, 16, u0=-0.2) == pytest.approx(0.5, rel=1e-14)
    # ηTG = 1: (1 - 0.6 - 0.3)/2
    assert edge_bound(0.3, 0.25, 2, 2.0, 0.0, 9, u0=0.15) == pytest.approx(0.05, rel=1e-13)
    # elementwise: ηTG = 1, 2; (1 - 0.2 - 0.2)/2 and (1 - 0.4 + 0.2)/4
    assert np.allclose(edge_bound([0.1, 0.2], 1.0, [1, 2], 1.0, 0.0, 4, u0=[0.1, -0.1]),
                       [0.3, 0.2], rtol=1e-14)
    # at ε = 1/2 - u0 only the Hessian term is left: -βηTG/(2√m) = -0.7·6/8
    assert edge_bound(0.25, 1.0, 3, 2.0, 0.7, 16, u0=0.25) == pytest.approx(-0.7 * 6 / 8)
    for bad in (float("nan"), float("inf"), [0.0, float("-inf")]):
        with pytest.raises(InvalidArgument):
            edge_bound(0.1, 1.0, 1, 1.0, 0.5, 4, u0=bad)


def test_edge_bound_u0_zero_is_theorem_1():
    # (1 - 2ε)/(2ηTG) - βηTG/(2√m) by hand: 0.6/6 - 0.6·3/10 = 0.1 - 0.18
    assert edge_bound(0.2, 0.5, 3, 2.0, 0.6, 25, u0=0.0) == pytest.approx(-0.08, rel=1e-13)
    eps, T, G = np.array([0.4, 0.1, 0.02]), np.array([1, 5, 50]), np.array([0.3, 0.5, 0.9])
    assert np.array_equal(edge_bound(eps, 0.1, T, G, TANH_BETA, 64, u0=0.0),
                          edge_bound(eps, 0.1, T, G, TANH_BETA, 64))


def _biased(seed=0, d=5, n=10, m=32, sign=1.0):
    """A plain (biased) random TwoLayer and, for sign = -1, its mirror a -> -a."""
    ds = sphere_teacher(n, 0, d, seed=seed)
    y = np.where(ds.y_train >= 0, 1.0, -1.0)
    net = TwoLayer(d, m, "tanh", trained="W", symmetric=False, seed=seed)
    params = dict(net.params0, a=sign * net.params0["a"])
    f0 = net.apply(params, ds.x_train)
    return net, params, ds.x_train, y, float(np.mean(y * f0))


def test_mirror_init_flips_u0_and_keeps_the_edge():
    net, p, X, y, u0 = _biased(3)
    _, q, _, _, v0 = _biased(3, sign=-1.0)
    assert abs(u0) > 0.05 and v0 == -u0   # f(θ0) is odd in a, exactly
    # ∂f/∂w_j = m^{-1/2} a_j σ'(w_j·x) x: the mean gradient flips sign, its norm stays
    g = net.grads(p, X)["W"]
    mean = np.mean(y[:, None, None] * g, axis=0)
    assert tangent_edge(net, q, X, y) == pytest.approx(np.linalg.norm(mean), rel=1e-12)
    assert tangent_edge(net, p, X, y) == pytest.approx(np.linalg.norm(mean), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_edge_bound_with_u0_holds_on_every_prefix_from_biased_inits(seed, sign):
    net, p, X, y, u0 = _biased(seed, sign=sign)
    gamma = tangent_edge(net, p, X, y)
    for lr, steps in ((0.05, 5), (2.0, 60)):
        tr = descent_trace(net, X, y, lr=lr, steps=steps, params=p)
        assert tr.correlation[0] == pytest.approx(u0, abs=1e-15)
        T = np.arange(1, steps + 1)
        bound = edge_bound(tr.losses[1:], lr, T, tr.max_grad(), TANH_BETA, 32, u0=u0)
        assert np.all(bound <= gamma * (1 + 1e-12))


def test_theorem_1_form_fails_at_a_biased_init_below_loss_one_half():
    # the mirror of seed 2 starts at loss 0.27 < 1/2 (u0 = 0.58): without u0 the bound is
    # (1 - 2ε)/(2ηG) > 0 after one tiny step, far above γ; with u0 it holds
    net, p, X, y, u0 = _biased(2, sign=-1.0)
    gamma = tangent_edge(net, p, X, y)
    tr = descent_trace(net, X, y, lr=0.01, steps=1, params=p)
    assert tr.losses[0] < 0.5 and u0 > 0.5
    assert edge_bound(tr.losses[1], 0.01, 1, tr.grad_norms[0], TANH_BETA, 32) > 100 * gamma
    assert edge_bound(tr.losses[1], 0.01, 1, tr.grad_norms[0], TANH_BETA, 32, u0=u0) < gamma


def _gated(s0=0.0, b0=1.0, backend=None):
    return GatedNetwork(TwoLayer(3, 6, "relu", trained="both", symmetric=True, seed=2,
                                 backend=backend), b0=b0, s0=s0)


def test_gated_network_starts_at_its_bias_with_zero_edge():
    X, s = _cube(3)
    net = _gated()
    assert np.all(net.apply(net.params0, X) == 1.0)
    assert tangent_edge(net, net.params0, X, parity(s, 2)) == 0.0
    assert tangent_edge(net, net.params0, X, parity(s, 1)) == 0.0   # balanced: |E y| = 0
    with pytest.raises(InvalidArgument):
        GatedNetwork(TwoLayer(3, 6, "relu", trained="both", seed=2), b0=1.0, s0=0.0)


def test_gated_network_derivatives_against_finite_differences():
    X, _ = _cube(3)
    net = _gated(s0=0.7)
    p = net.params0
    rng = np.random.default_rng(0)
    tangent = {k: rng.standard_normal(np.shape(v)) for k, v in p.items()}
    h = 1e-6
    fd = (net.apply({k: v + h * tangent[k] for k, v in p.items()}, X)
          - net.apply({k: v - h * tangent[k] for k, v in p.items()}, X)) / (2 * h)
    assert np.allclose(net.jvp(p, X, tangent), fd, atol=1e-7)
    cot = rng.standard_normal(len(X))
    vjp = net.vjp(p, X, cot)
    lhs = float(cot @ net.jvp(p, X, tangent))
    assert lhs == pytest.approx(sum(float(np.sum(vjp[k] * tangent[k])) for k in vjp), rel=1e-10)
    g = net.grads(p, X)
    assert np.allclose(np.einsum("i,i...->...", cot, g["W"]), vjp["W"])
    assert np.allclose(cot @ g["s"][:, 0], vjp["s"][0])


@pytest.mark.parametrize("spec", ["torch", "mpmath"])
def test_gated_edge_on_other_backends(spec):
    if spec == "torch":
        pytest.importorskip("torch")
    X, s = _cube(3)
    b = get_backend(spec)
    net = _gated(backend=b)
    y = parity(s, 2)
    assert tangent_edge(net, net.params0, b.asarray(X), y) == 0.0
    opened, opened_ref = _gated(s0=0.5, backend=b), _gated(s0=0.5)
    assert tangent_edge(opened, opened.params0, b.asarray(X), y) == pytest.approx(
        tangent_edge(opened_ref, opened_ref.params0, X, y), rel=1e-12)
