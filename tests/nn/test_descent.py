"""minimize_loss: agrees with training.gradient_descent on the squared loss, takes
exact logistic/weight-decay gradients (against finite differences), keeps
checkpoints, starts from given parameters, runs on torch, validates inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.errors import InvalidArgument, ShapeError
from ntkproof.nn.descent import loss_value, minimize_loss
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.nn.training import gradient_descent
from ntkproof.rng import generator, unit_vectors


def data(n=10, d=3, seed=0):
    X = unit_vectors(generator(seed), n, d)
    return X, np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)


def test_mse_matches_training_gradient_descent():
    X, y = data()
    model = TwoLayer(3, 16, "tanh", trained="both", seed=2)
    ref = gradient_descent(model, X, y, lr=0.7, steps=25)
    run = minimize_loss(model, X, y, lr=0.7, steps=25)
    np.testing.assert_allclose(run.losses, ref.losses, rtol=1e-12, atol=0)
    for k in ref.final_params:
        np.testing.assert_allclose(run.params[k], ref.final_params[k], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["mse", "logistic"])
def test_one_step_is_minus_lr_times_finite_difference_gradient(loss):
    X, y = data()
    model = MLP(1, 8, "tanh", W_std=(1.5, 1.0), b_std=0.5, d=3, seed=4)
    start = {k: 0.3 * v for k, v in model.params0.items()}
    wd, lr, h = 0.01, 1e-3, 1e-6
    step = minimize_loss(model, X, y, lr=lr, steps=1, loss=loss, weight_decay=wd, params=start)
    for name in model.trained:
        for idx in np.ndindex(start[name].shape):
            up = {k: v.copy() for k, v in start.items()}
            dn = {k: v.copy() for k, v in start.items()}
            up[name][idx] += h
            dn[name][idx] -= h
            fd = (loss_value(model, up, X, y, loss=loss, weight_decay=wd)
                  - loss_value(model, dn, X, y, loss=loss, weight_decay=wd)) / (2 * h)
            got = (start[name][idx] - step.params[name][idx]) / lr
            assert got == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_logistic_learns_and_keeps_checkpoints():
    X, y = data(n=24)
    model = MLP(1, 32, "relu", W_std=(np.sqrt(3), np.sqrt(32)), b_std=1.0, d=3, seed=1)
    small = {k: 0.1 * v for k, v in model.params0.items()}
    before = model.params0["W1"].copy()
    run = minimize_loss(model, X, y, lr=1.0, steps=300, loss="logistic", weight_decay=1e-4,
                        params=small, checkpoints=(0, 150))
    assert sorted(run.checkpoints) == [0, 150]
    np.testing.assert_array_equal(run.checkpoints[0]["W1"], small["W1"])
    assert run.losses[-1] < 0.2 * run.losses[0]
    assert np.mean(np.sign(model.apply(run.params, X)) == y) == 1.0
    # the untouched model: params0 is not modified by the descent
    np.testing.assert_array_equal(model.params0["W1"], before)


def test_untrained_names_do_not_move():
    X, y = data()
    model = TwoLayer(3, 8, "relu", trained="W", seed=0)
    run = minimize_loss(model, X, y, lr=0.5, steps=5, weight_decay=0.1)
    np.testing.assert_array_equal(run.params["a"], model.params0["a"])
    assert not np.allclose(run.params["W"], model.params0["W"])


def test_torch_backend_agrees_with_numpy():
    torch = pytest.importorskip("torch")
    X, y = data()
    runs = [minimize_loss(TwoLayer(3, 8, "relu", trained="both", seed=3, backend=be), X, y,
                          lr=0.5, steps=20, loss="logistic", weight_decay=1e-3)
            for be in ("numpy", "torch")]
    assert isinstance(runs[1].params["W"], torch.Tensor)
    np.testing.assert_allclose(runs[1].losses, runs[0].losses, rtol=1e-10)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(loss="hinge"), InvalidArgument, "loss must be one of"),
    (dict(lr=0.0), InvalidArgument, "lr must be"),
    (dict(steps=-1), InvalidArgument, "steps must be"),
    (dict(weight_decay=-1.0), InvalidArgument, "weight_decay"),
    (dict(checkpoints=(7,)), InvalidArgument, "outside 0..5"),
    (dict(params={"W": 0}), InvalidArgument, "params lacks"),
])
def test_invalid_arguments(kwargs, error, match):
    X, y = data()
    args = dict(lr=0.1, steps=5) | kwargs
    with pytest.raises(error, match=match):
        minimize_loss(TwoLayer(3, 4, seed=0), X, y, **args)


def test_logistic_needs_pm_one_labels_and_shapes_are_checked():
    X, y = data()
    with pytest.raises(InvalidArgument, match="labels in"):
        minimize_loss(TwoLayer(3, 4, seed=0), X, 0.5 * y, lr=0.1, steps=1, loss="logistic")
    with pytest.raises(ShapeError, match="y must have shape"):
        minimize_loss(TwoLayer(3, 4, seed=0), X, y[:-1], lr=0.1, steps=1)
