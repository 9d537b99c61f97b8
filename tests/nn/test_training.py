"""Gradient descent: the linear model against its closed form, the stability limit
2n/λ_max, checkpoints, and input validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import DivergenceError, InvalidArgument, NonFiniteError, ShapeError
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.nn.training import gradient_descent, max_learning_rate, mse_loss, train
from ntkproof.rng import generator, unit_vectors

TOL64 = get_backend("numpy").tol.rtol


def data(n=12, d=4, seed=0):
    X = unit_vectors(generator(seed), n, d)
    return X, np.sin(2 * X[:, 0]) + X[:, 1]


@pytest.mark.parametrize("model", [
    TwoLayer(4, 64, "relu", trained="both", a_init="normal", seed=1, backend="numpy"),
    MLP(2, 16, "tanh", W_std=1.3, b_std=0.2, d=4, seed=1, backend="numpy")], ids=repr)
def test_linearized_gd_matches_closed_form(model):
    """f_k(S) = y + (I - lr K/n)^k (f_0(S) - y) for the linear model (Lee et al. 2019, eq. (9), discrete time)."""
    X, y = data()
    n, steps = len(y), 30
    lr = 0.5 * max_learning_rate(model, X)
    traj = gradient_descent(model.linearize(), X, y, lr=lr, steps=steps)
    K, f0 = empirical_ntk(model, X), model.apply(model.params0, X)
    closed = y + np.linalg.matrix_power(np.eye(n) - lr * K / n, steps) @ (f0 - y)
    got = model.linearize().apply(traj.final_params, X)
    assert np.max(np.abs(got - closed)) < TOL64 * np.max(np.abs(f0 - y))
    assert traj.losses[-1] == pytest.approx(mse_loss(model.linearize(), traj.final_params, X, y))


def test_train_runs_both_models_with_checkpoints_and_kernels():
    X, y = data()
    net = TwoLayer(4, 256, "tanh", trained="both", a_init="normal", seed=2)
    res = train(net, X, y, lr=1.0, steps=40, checkpoints=[10, 20], ntk_at=[0, 40],
                X_eval=X[:3])
    for traj in (res.net, res.lin):
        assert sorted(traj.params) == [0, 10, 20, 40] and sorted(traj.outputs) == [0, 10, 20, 40]
        assert traj.losses.shape == (41,) and traj.losses[-1] < 0.5 * traj.losses[0]
    assert sorted(res.net.ntk) == [0, 40]
    assert np.array_equal(res.net.ntk[0], empirical_ntk(net, X))
    assert np.array_equal(res.lin.ntk[40], res.lin.ntk[0])  # the linear model's kernel is frozen
    assert not np.array_equal(res.net.ntk[40], res.net.ntk[0])
    assert np.array_equal(res.net.outputs[0], res.lin.outputs[0])
    assert not np.array_equal(res.net.params[0]["W"], res.net.params[40]["W"])


def test_only_the_trained_layer_moves():
    X, y = data()
    net = TwoLayer(4, 32, "relu", trained="W", seed=3)
    res = train(net, X, y, lr=1.0, steps=5, linearized=False)
    assert res.lin is None
    assert np.array_equal(res.net.final_params["a"], net.params0["a"])
    assert not np.array_equal(res.net.final_params["W"], net.params0["W"])


def test_learning_rate_limit_is_sharp_for_the_linear_model():
    X, y = data()
    net = TwoLayer(4, 64, "tanh", trained="both", a_init="normal", seed=4)
    limit = max_learning_rate(net, X)
    stable = gradient_descent(net.linearize(), X, y, lr=0.95 * limit, steps=400)
    assert stable.losses[-1] < stable.losses[0]
    with pytest.raises(DivergenceError):
        gradient_descent(net.linearize(), X, y, lr=1.05 * limit, steps=3000)


def test_divergence_error_names_step_and_limit():
    X, y = data()
    net = TwoLayer(4, 64, "tanh", trained="both", a_init="normal", seed=5)
    limit = max_learning_rate(net, X)
    with pytest.raises(DivergenceError) as info:
        train(net, X, y, lr=20 * limit, steps=200)
    msg = str(info.value)
    step = int(re.search(r"diverged at step (\d+)", msg).group(1))
    assert 0 < step < 200
    assert "2n/λ_max(K)" in msg and f"{limit:.6g}" in msg


@pytest.mark.parametrize("spec", ["torch:float64", "mpmath"])
def test_training_on_other_backends_agrees_with_numpy(spec):
    if spec.startswith("torch"):
        pytest.importorskip("torch")
    X, y = data(n=4, d=3)
    kw = dict(trained="both", a_init="normal", seed=6)
    ref = train(TwoLayer(3, 6, "tanh", **kw), X, y, lr=0.5, steps=5)
    net = TwoLayer(3, 6, "tanh", backend=spec, **kw)
    with net.backend.context():
        res = train(net, X, y, lr=0.5, steps=5)
    for a, b in ((res.net, ref.net), (res.lin, ref.lin)):
        assert np.max(np.abs(a.losses - b.losses)) < TOL64 * b.losses[0]
        W = net.backend.to_numpy(a.final_params["W"])
        assert np.max(np.abs(W - b.final_params["W"])) < TOL64


def test_input_validation():
    X, y = data()
    net = TwoLayer(4, 8, seed=7)
    with pytest.raises(ShapeError, match=r"y must have shape \(12,\).*\(11,\)"):
        train(net, X, y[:-1], lr=0.1, steps=1)
    with pytest.raises(ShapeError, match="X must have shape"):
        train(net, X[:, :3], y, lr=0.1, steps=1)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(NonFiniteError, match="X holds 1 NaN/inf"):
        train(net, bad, y, lr=0.1, steps=1)
    with pytest.raises(NonFiniteError, match="y holds"):
        train(net, X, np.where(np.arange(12) == 0, np.inf, y), lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match="lr"):
        train(net, X, y, lr=-1.0, steps=1)
    with pytest.raises(InvalidArgument, match="steps"):
        train(net, X, y, lr=0.1, steps=2.5)
