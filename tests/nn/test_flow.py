"""Gradient-flow closed forms against independent routes.

* the ODE integrated by scipy ``solve_ivp`` (DOP853, rtol 1e-12): agreement to 1e-8
  relative (the integrator's own error over ~10 e-foldings is about 1e-10);
* gradient descent run step by step on the parameters of a linear model whose
  kernel is K: agreement to 1e-12 relative (200 steps of roundoff, ~1e-14);
* ``scipy.linalg.expm`` for the sum-loss time conversion.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ntkproof.errors import InvalidArgument, NonFiniteError, ShapeError, SingularKernelError
from ntkproof.nn import flow, kernels
from ntkproof.rng import generator, unit_vectors


def _feature_problem(seed, n=12, n_test=5, p=20, k=2):
    """Random features Φ: K = ΦΦᵀ/p (PSD, rank <= p), targets and initial outputs."""
    rng = generator(seed)
    phi = rng.standard_normal((n + n_test, p))
    return (phi[:n], phi[n:], rng.standard_normal((n, k)), rng.standard_normal((n, k)),
            rng.standard_normal((n_test, k)))


def _ntk_problem(seed, n=10, n_test=4, full=False):
    """The analytic NTK of a depth-2 ReLU MLP on random unit inputs (train ∪ test)."""
    rng = generator(seed)
    x = unit_vectors(rng, n + n_test, 3)
    kall = kernels.infinite_width(x * np.sqrt(3), depth=2, b_std=0.1).ntk
    out = (kall[:n, :n], kall[n:, :n], rng.standard_normal(n), 0.1 * rng.standard_normal(n),
           0.1 * rng.standard_normal(n_test))
    return out + (kall,) if full else out


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("source", ["features", "ntk"])
def test_closed_form_matches_ode(source):
    if source == "features":
        phi, phix, y, f0, f0x = _feature_problem(1)
        k, kx = phi @ phi.T / 20, phix @ phi.T / 20
    else:
        k, kx, y, f0, f0x = _ntk_problem(2)
    lam_max = np.linalg.eigvalsh(k)[-1]
    t = np.array([0.0, 0.5, 3.0, 20.0, 200.0]) * y.size / lam_max
    eta = 0.7
    closed = flow.gradient_flow(k, y, t, k_test_train=kx, fx_train_0=f0, fx_test_0=f0x,
                                learning_rate=eta)
    ode = flow.gradient_flow_ode(k, y, t, k_test_train=kx, fx_train_0=f0, fx_test_0=f0x,
                                 learning_rate=eta)
    assert closed.train.shape == (5,) + y.shape and closed.test.shape == (5, kx.shape[0]) + y.shape[1:]
    assert _rel(closed.train, ode.train) < 1e-8
    assert _rel(closed.test, ode.test) < 1e-8
    assert np.allclose(closed.train[0], f0) and np.allclose(closed.test[0], f0x)


@pytest.mark.parametrize("source", ["features", "ntk"])
def test_discrete_form_matches_iterated_gd_on_linear_model(source):
    if source == "features":
        phi, phix, y, f0, f0x = _feature_problem(3)
    else:  # features of the analytic NTK: Φ Φᵀ = Θ on train ∪ test (symmetric square root)
        k, _, y, f0, f0x, kall = _ntk_problem(4, full=True)
        lam, u = np.linalg.eigh(kall)
        feats = u * np.sqrt(np.clip(lam, 0, None))
        phi, phix = feats[: k.shape[0]], feats[k.shape[0]:]
    k, kx = phi @ phi.T, phix @ phi.T
    n_out = y.size
    eta = 0.9 * flow.max_learning_rate(k, n_outputs=y.size // len(y))
    w = np.zeros((phi.shape[1],) + y.shape[1:])
    steps, seen = [0, 1, 7, 50, 200], {}
    for j in range(201):
        if j in steps:
            seen[j] = (f0 + phi @ w, f0x + phix @ w)
        w -= eta / n_out * phi.T @ (f0 + phi @ w - y)    # ∇ of (1/2N)||f - y||²
    gd = flow.gradient_descent(k, y, steps, k_test_train=kx, fx_train_0=f0, fx_test_0=f0x,
                               learning_rate=eta)
    it_train = np.array([seen[j][0] for j in steps])
    it_test = np.array([seen[j][1] for j in steps])
    assert _rel(gd.train, it_train) < 1e-12
    assert _rel(gd.test, it_test) < 1e-12


def test_time_units_and_sum_loss_conversion():
    phi, phix, y, f0, _ = _feature_problem(5, k=1)
    k = phi @ phi.T / 20
    a = flow.gradient_flow(k, y, [0.3, 2.0], learning_rate=2.5).train
    b = flow.gradient_flow(k, y, [0.75, 5.0], learning_rate=1.0).train
    assert _rel(a, b) < 1e-13
    # sum loss ½||f - y||² at time s: f_s = y + expm(-sK)(f_0 - y) = ours at t = N s
    s = 0.4
    ref = y + scipy.linalg.expm(-s * k) @ (f0 - y)
    ours = flow.gradient_flow(k, y, y.size * s, fx_train_0=f0).train
    assert _rel(ours, ref) < 1e-12


def test_infinite_time_is_kernel_regression():
    k, kx, y, f0, f0x = _ntk_problem(6)
    out = flow.gradient_flow(k, y, [np.inf, 1e9], k_test_train=kx, fx_train_0=f0,
                             fx_test_0=f0x)
    reg = flow.kernel_regression(k, y, k_test_train=kx, fx_train_0=f0, fx_test_0=f0x)
    assert np.array_equal(out.train[0], y)
    assert _rel(out.test[0], reg.test) < 1e-13
    assert _rel(out.test[1], reg.test) < 1e-6       # t = 1e9 is past every time scale
    ridge = flow.kernel_regression(k, y, k_test_train=kx, ridge=0.5)
    assert _rel(ridge.test, kx @ np.linalg.solve(k + 0.5 * np.eye(len(y)), y)) < 1e-12
    assert out.train.shape == (2, len(y)) and reg.test.shape == (kx.shape[0],)


# -- errors ---------------------------------------------------------------------------
def test_singular_kernel_at_infinite_time():
    phi = generator(7).standard_normal((6, 2))
    k = phi @ phi.T                                     # rank 2 of 6
    with pytest.raises(SingularKernelError, match="smallest eigenvalue.*ridge"):
        flow.gradient_flow(k, np.ones(6), np.inf)
    with pytest.raises(SingularKernelError, match="ridge"):
        flow.kernel_regression(k, np.ones(6))
    assert np.isfinite(flow.gradient_flow(k, np.ones(6), [1.0, 1e6]).train).all()
    assert np.isfinite(flow.kernel_regression(k, np.ones(6), ridge=1e-6).train).all()


def test_learning_rate_above_stability_limit():
    phi, _, y, _, _ = _feature_problem(8)
    k = phi @ phi.T
    limit = flow.max_learning_rate(k, n_outputs=y.shape[1])
    assert np.isfinite(flow.gradient_descent(k, y, 10, learning_rate=0.99 * limit).train).all()
    with pytest.raises(InvalidArgument, match=r"2N/λ_max = " + f"{limit:.6g}"):
        flow.gradient_descent(k, y, 10, learning_rate=1.01 * limit)


def test_shape_and_value_errors():
    k = np.eye(3)
    with pytest.raises(ShapeError, match="y_train"):
        flow.gradient_flow(k, np.ones(4), 1.0)
    with pytest.raises(ShapeError, match="square"):
        flow.gradient_flow(np.ones((3, 2)), np.ones(3), 1.0)
    with pytest.raises(ShapeError, match="k_test_train"):
        flow.gradient_flow(k, np.ones(3), 1.0, k_test_train=np.ones((2, 4)))
    with pytest.raises(ShapeError, match="fx_train_0"):
        flow.gradient_flow(k, np.ones(3), 1.0, fx_train_0=np.ones(2))
    with pytest.raises(NonFiniteError, match="k_train_train"):
        flow.gradient_flow(np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones(2), 1.0)
    with pytest.raises(NonFiniteError, match="y_train"):
        flow.gradient_flow(k, np.array([1.0, np.inf, 0.0]), 1.0)
    with pytest.raises(InvalidArgument, match="not symmetric"):
        flow.gradient_flow(np.triu(np.ones((3, 3))), np.ones(3), 1.0)
    with pytest.raises(InvalidArgument, match="positive semi-definite"):
        flow.gradient_flow(-np.eye(3), np.ones(3), 1.0)
    with pytest.raises(InvalidArgument, match=">= 0"):
        flow.gradient_flow(k, np.ones(3), -1.0)
    with pytest.raises(InvalidArgument, match="learning_rate"):
        flow.gradient_flow(k, np.ones(3), 1.0, learning_rate=0.0)
