"""Empirical NTK Grams: closed/structured forms vs autograd Jacobian contraction,
mpmath at 50 digits, blocking, symmetry, backends, and the memory footprint."""

from __future__ import annotations

import tracemalloc

import mpmath
import numpy as np
import pytest
from nets_reference import autograd_ntk, mlp_fn, rel_err, to_torch, two_layer_fn

from ntkproof.backends import get_backend
from ntkproof.errors import ShapeError
from ntkproof.nn.empirical_ntk import empirical_ntk, jacobian_ntk, two_layer_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.rng import generator, unit_vectors

TOL64 = get_backend("numpy").tol.rtol


def inputs(n, d, seed=0):
    return unit_vectors(generator(seed), n, d)


@pytest.mark.parametrize("a_init", ["sign", "normal"])
@pytest.mark.parametrize("trained", ["W", "a", "both"])
@pytest.mark.parametrize("act", ["relu", "tanh", "erf"])
def test_two_layer_closed_form_matches_autograd(act, trained, a_init):
    pytest.importorskip("torch")
    net = TwoLayer(5, 40, act, trained=trained, a_init=a_init, seed=1)
    X1, X2 = inputs(7, 5), inputs(4, 5, seed=1)
    fn, p = two_layer_fn(act), to_torch(net.params0)
    assert rel_err(empirical_ntk(net, X1, block=16),
                   autograd_ntk(fn, p, X1, X1, net.trained)) < TOL64
    assert rel_err(empirical_ntk(net, X1, X2, block=16),
                   autograd_ntk(fn, p, X1, X2, net.trained)) < TOL64


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("act", ["relu", "tanh", "erf"])
def test_mlp_structured_form_matches_autograd(depth, act):
    pytest.importorskip("torch")
    W_std, b_std = 1.4, 0.3
    net = MLP(depth, 10, act, W_std=W_std, b_std=b_std, d=4, seed=depth)
    X1, X2 = inputs(6, 4), inputs(3, 4, seed=2)
    fn, p = mlp_fn(act, depth, W_std, b_std), to_torch(net.params0)
    assert rel_err(empirical_ntk(net, X1), autograd_ntk(fn, p, X1, X1, net.trained)) < TOL64
    assert rel_err(empirical_ntk(net, X1, X2), autograd_ntk(fn, p, X1, X2, net.trained)) < TOL64


def test_mlp_partial_training_sums_only_trained_layers():
    net = MLP(2, 8, "tanh", W_std=1.2, b_std=0.5, d=3, seed=3, trained=("W1", "b3"))
    X = inputs(5, 3)
    parts = empirical_ntk(net, X, per_layer=True)
    assert set(parts) == {"W1", "b3"}
    assert rel_err(parts["b3"], 0.25 * np.ones((5, 5))) < TOL64  # output bias: b_std²
    assert rel_err(empirical_ntk(net, X), jacobian_ntk(net, X)) < TOL64


@pytest.mark.parametrize("model", [
    TwoLayer(3, 5, "tanh", trained="both", a_init="normal", seed=4, backend="mpmath"),
    MLP(2, 3, "erf", W_std=1.3, b_std=0.4, d=3, seed=4, backend="mpmath")], ids=repr)
def test_structured_forms_match_jacobian_contraction_at_50_digits(model):
    b = model.backend
    with b.context():
        X1, X2 = b.asarray(inputs(3, 3)), b.asarray(inputs(2, 3, seed=5))
        for args in ((X1, None), (X1, X2)):
            K, J = empirical_ntk(model, *args), jacobian_ntk(model, *args)
            scale = max(abs(v) for v in J.reshape(-1))
            assert max(abs(u - v) for u, v in zip(K.reshape(-1), J.reshape(-1),
                                                   strict=True)) < b.tol.rtol * scale
            assert b.tol.rtol < 1e-30  # really at high precision
            assert isinstance(K[0, 0], mpmath.mpf)


@pytest.mark.parametrize("block", [1, 7, 64, 1000])
def test_blocking_does_not_change_the_gram(block):
    net = TwoLayer(4, 64, "relu", trained="both", a_init="normal", seed=6)
    X = inputs(9, 4)
    assert rel_err(empirical_ntk(net, X, block=block), jacobian_ntk(net, X)) < TOL64


def test_symmetric_gram_equals_cross_gram_with_itself():
    net = TwoLayer(4, 50, "tanh", trained="both", seed=7)
    X = inputs(8, 4)
    K = empirical_ntk(net, X)
    assert np.array_equal(K, K.T)
    assert rel_err(K, empirical_ntk(net, X, X.copy())) < TOL64
    assert np.all(np.linalg.eigvalsh(K) > -TOL64 * np.abs(K).max())


def test_per_layer_parts_and_linearization_kernel():
    net = TwoLayer(4, 30, "relu", trained="both", seed=8)
    X = inputs(6, 4)
    parts = empirical_ntk(net, X, per_layer=True)
    assert set(parts) == {"W", "a"}
    assert rel_err(parts["W"] + parts["a"], empirical_ntk(net, X)) < TOL64
    H = np.maximum(X @ net.params0["W"].T, 0)
    assert rel_err(parts["a"], H @ H.T / 30) < TOL64  # second layer: σσᵀ/m
    moved = {k: v + 0.3 for k, v in net.params0.items()}
    lin = net.linearize()
    assert rel_err(empirical_ntk(lin, X, params=moved), empirical_ntk(net, X)) == 0.0
    assert rel_err(empirical_ntk(net, X, params=moved), empirical_ntk(net, X)) > 1e-3


@pytest.mark.parametrize("spec", ["numpy", "torch:float64", "torch:float32", "mpmath"])
def test_backend_contract_gram(spec):
    if spec.startswith("torch"):
        pytest.importorskip("torch")
    ref = TwoLayer(3, 6, "erf", trained="both", a_init="normal", seed=9)
    mlp_ref = MLP(2, 4, "tanh", W_std=1.1, b_std=0.2, d=3, seed=9)
    net = TwoLayer(3, 6, "erf", trained="both", a_init="normal", seed=9, backend=spec)
    mlp = MLP(2, 4, "tanh", W_std=1.1, b_std=0.2, d=3, seed=9, backend=spec)
    b, X = net.backend, inputs(5, 3)
    tol = max(b.tol.rtol, TOL64)
    with b.context():
        for model, reference in ((net, ref), (mlp, mlp_ref)):
            K = b.to_numpy(empirical_ntk(model, b.asarray(X), block=4))
            assert rel_err(K, empirical_ntk(reference, X)) < tol


def test_two_layer_gram_memory_is_n_squared_plus_n_block():
    """tracemalloc (which sees numpy's buffers): peak beyond the inputs and the output.

    n = 512, m = 16384, block = 256: one n×m array would take 64 MiB; the bound
    below, 4 Grams (n²) + 8 work arrays (n × block), is 16 MiB.
    """
    n, m, d, block = 512, 16384, 16, 256
    net = TwoLayer(d, m, "relu", trained="both", seed=10)
    X = inputs(n, d)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    K = empirical_ntk(net, X, block=block)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    extra = peak - base - K.nbytes
    assert extra < 8 * (4 * n * n + 8 * n * block), extra / 2**20
    assert current - base - K.nbytes < 8 * n * n  # no large leftovers


def test_bad_inputs_are_shape_errors():
    net = TwoLayer(3, 4, seed=0)
    with pytest.raises(ShapeError, match="X2"):
        empirical_ntk(net, np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ShapeError, match="X1"):
        two_layer_ntk(net.params0["W"], net.params0["a"], np.zeros(3),
                      activation=net.activation, backend=net.backend)
