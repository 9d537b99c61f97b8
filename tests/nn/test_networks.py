"""Networks: closed-form gradients vs autograd and finite differences, doubled init,
linearisation, the backend contract, and argument errors."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from nets_reference import autograd_jacobians, mlp_fn, rel_err, to_torch, two_layer_fn

from ntkproof.backends import get_backend
from ntkproof.errors import InvalidArgument, ShapeError, UnknownName
from ntkproof.nn.networks import MLP, Linearized, Scaled, TwoLayer
from ntkproof.rng import generator, unit_vectors

TOL64 = get_backend("numpy").tol.rtol


def inputs(n, d, seed=0):
    return unit_vectors(generator(seed), n, d)


def perturbation(model, scale, seed=1):
    rng = generator(seed)
    return {k: model.backend.asarray(scale * rng.standard_normal(model.params0[k].shape))
            for k in model.trained}


# -- gradients against torch autograd (float64) -------------------------------------------

@pytest.mark.parametrize("trained", ["W", "a", "both"])
@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_two_layer_grads_match_autograd(trained, act):
    pytest.importorskip("torch")
    net = TwoLayer(4, 24, act, trained=trained, a_init="normal", seed=3)
    X = inputs(6, 4)
    ref = autograd_jacobians(two_layer_fn(act), to_torch(net.params0), X, net.trained)
    mine = net.grads(net.params0, X)
    assert set(mine) == set(net.trained)
    for k in net.trained:
        assert rel_err(mine[k], ref[k]) < TOL64, k
    cot = generator(2).standard_normal(6)
    for k, g in net.vjp(net.params0, X, cot).items():
        assert rel_err(g, np.tensordot(cot, ref[k], axes=1)) < TOL64, k


@pytest.mark.parametrize("depth,act,W_std,b_std", [
    (1, "relu", 1.0, 0.0), (2, "tanh", 1.5, 0.3), (3, "erf", [2.0, 1.2, 1.4, 0.8], 0.1)])
def test_mlp_grads_match_autograd(depth, act, W_std, b_std):
    torch = pytest.importorskip("torch")
    net = MLP(depth, 12, act, W_std=W_std, b_std=b_std, d=5, seed=4)
    X = inputs(7, 5)
    fn = mlp_fn(act, depth, W_std, b_std)
    ref = autograd_jacobians(fn, to_torch(net.params0), X, net.trained)
    mine = net.grads(net.params0, X)
    for k in net.trained:
        assert rel_err(mine[k], ref[k]) < TOL64, k
    out = fn(to_torch(net.params0), torch.as_tensor(X)).numpy()
    assert rel_err(net.apply(net.params0, X), out) < TOL64


def test_jvp_is_gradient_dot_tangent():
    net = MLP(2, 9, "tanh", W_std=1.3, b_std=0.2, d=3, seed=5)
    X, t = inputs(5, 3), perturbation(net, 1.0)
    G = net.grads(net.params0, X)
    expected = sum(np.tensordot(G[k], t[k], axes=t[k].ndim) for k in net.trained)
    assert rel_err(net.jvp(net.params0, X, t), expected) < TOL64


# -- gradients against central finite differences at 50 digits (mpmath) -----------------

def _shifted(params, name, idx, h):
    flat = params[name].reshape(-1).copy()
    flat[idx] += h
    return {**params, name: flat.reshape(params[name].shape)}


def _fd_check(net, X, h="1e-15"):
    """Largest |central difference - closed-form gradient| over all entries (mpmath)."""
    b = net.backend
    with b.context():
        h = b.scalar(h)
        G, worst = net.grads(net.params0, X), mpmath.mpf(0)
        for k in net.trained:
            for idx in range(net.params0[k].size):
                up, dn = _shifted(net.params0, k, idx, h), _shifted(net.params0, k, idx, -h)
                fd = (net.apply(up, X) - net.apply(dn, X)) / (2 * h)
                exact = G[k].reshape(X.shape[0], -1)[:, idx]
                worst = max(worst, max(abs(u - v) for u, v in zip(fd, exact, strict=True)))
        return worst


def test_two_layer_grads_match_finite_differences_mpmath():
    net = TwoLayer(3, 4, "tanh", trained="both", a_init="normal", seed=6, backend="mpmath")
    X = net.backend.asarray(inputs(3, 3))
    # central differences at 50 digits: truncation h^2 |f'''|/6 ~ 1e-31, roundoff
    # 1e-50/h = 1e-35; a wrong gradient is off by >= 1e-10 (test below)
    assert _fd_check(net, X) < mpmath.mpf("1e-25")


def test_mlp_grads_match_finite_differences_mpmath():
    net = MLP(2, 3, "erf", W_std=1.4, b_std=0.5, d=2, seed=7, backend="mpmath")
    X = net.backend.asarray(inputs(2, 2))
    assert _fd_check(net, X) < mpmath.mpf("1e-25")


def test_finite_difference_check_detects_a_wrong_gradient():
    net = TwoLayer(3, 4, "tanh", trained="a", seed=6, backend="mpmath")
    X = net.backend.asarray(inputs(3, 3))
    good = net.grads

    def bad(params, X):
        g = good(params, X)
        g["a"] = g["a"] * mpmath.mpf("1.000001")
        return g

    net.grads = bad
    assert _fd_check(net, X) > mpmath.mpf("1e-10")


# -- doubled initialisation and linearisation ----------------------------------------------

@pytest.mark.parametrize("spec", ["numpy", "torch:float64", "torch:float32", "mpmath"])
@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_doubled_init_output_is_exactly_zero(spec, act):
    if spec.startswith("torch"):
        pytest.importorskip("torch")
    m = 8 if spec == "mpmath" else 512
    net = TwoLayer(5, m, act, a_init="normal", symmetric=True, seed=8, backend=spec)
    out = net.backend.to_numpy(net.apply(net.params0, inputs(9, 5)))
    assert np.all(out == 0.0)
    W = net.params0["W"]
    moved = {**net.params0, "W": W + net.backend.asarray(0.01 * generator(1).standard_normal(
        tuple(W.shape)))}  # breaks the pairing: the output is no longer zero
    assert np.any(net.backend.to_numpy(net.apply(moved, inputs(9, 5))) != 0.0)


def test_symmetric_needs_even_width():
    with pytest.raises(InvalidArgument, match="m must be even"):
        TwoLayer(3, 7, symmetric=True, seed=0)


@pytest.mark.parametrize("model", [
    TwoLayer(4, 32, "tanh", trained="both", a_init="normal", seed=9, backend="numpy"),
    MLP(2, 16, "erf", W_std=1.5, b_std=0.2, d=4, seed=9, backend="numpy")], ids=repr)
def test_linearization_is_first_order_accurate(model):
    X, lin = inputs(6, 4), model.linearize()
    assert isinstance(lin, Linearized)
    assert rel_err(lin.apply(model.params0, X), model.apply(model.params0, X)) == 0.0
    direction = perturbation(model, 1.0)
    errs = []
    for t in (1e-2, 5e-3, 2.5e-3):
        p = {**model.params0, **{k: model.params0[k] + t * direction[k] for k in direction}}
        errs.append(np.max(np.abs(model.apply(p, X) - lin.apply(p, X))))
    ratios = [errs[i + 1] / errs[i] for i in range(2)]
    # halving t divides a second-order remainder by 4 (up to O(t) corrections)
    assert all(0.2 < r < 0.3 for r in ratios), ratios


# -- conventions ----------------------------------------------------------------------------

def test_mlp_with_one_hidden_layer_is_the_two_layer_network():
    d, m = 4, 16
    mlp = MLP(1, m, "tanh", W_std=(math.sqrt(d), 1.0), b_std=0.0, d=d, seed=10)
    two = TwoLayer(d, m, "tanh", trained="both", a_init="normal", seed=0)
    params = {"W": mlp.params0["W1"].T, "a": mlp.params0["W2"][:, 0]}
    X = inputs(5, d)
    assert rel_err(two.apply(params, X), mlp.apply(mlp.params0, X)) < TOL64
    g_two, g_mlp = two.grads(params, X), mlp.grads(mlp.params0, X)
    assert rel_err(g_two["W"], np.swapaxes(g_mlp["W1"], 1, 2)) < TOL64
    assert rel_err(g_two["a"], g_mlp["W2"][:, :, 0]) < TOL64


def test_repr_shows_seed_and_draw_is_replayable():
    a, b = TwoLayer(3, 8, seed=11), TwoLayer(3, 8, seed=11)
    assert "seed=11" in repr(a) and "seed=12" in repr(MLP(1, 4, "relu", d=2, seed=12))
    assert np.array_equal(a.params0["W"], b.params0["W"])
    assert not np.array_equal(a.params0["W"], TwoLayer(3, 8, seed=12).params0["W"])


# -- backend contract: same inputs, same outputs --------------------------------------------

CONTRACT_SPECS = ["numpy", "torch:float64", "torch:float32", "mpmath"]


@pytest.mark.parametrize("spec", CONTRACT_SPECS)
@pytest.mark.parametrize("kind", ["two_layer", "mlp"])
def test_backend_contract_apply_and_vjp(spec, kind):
    if spec.startswith("torch"):
        pytest.importorskip("torch")

    def make(backend):
        if kind == "two_layer":
            return TwoLayer(3, 6, "tanh", trained="both", a_init="normal", seed=13,
                            backend=backend)
        return MLP(2, 5, "erf", W_std=1.2, b_std=0.3, d=3, seed=13, backend=backend)

    ref, net = make("numpy"), make(spec)
    b, X, cot = net.backend, inputs(4, 3), generator(3).standard_normal(4)
    with b.context():
        out = b.to_numpy(net.apply(net.params0, b.asarray(X)))
        g = net.vjp(net.params0, b.asarray(X), b.asarray(cot))
    tol = max(b.tol.rtol, TOL64)
    assert rel_err(out, ref.apply(ref.params0, X)) < tol
    for k, v in ref.vjp(ref.params0, X, cot).items():
        assert rel_err(b.to_numpy(g[k]), v) < tol, k


# -- errors ----------------------------------------------------------------------------------

def test_unknown_activation_is_named():
    with pytest.raises(UnknownName, match="unknown activation 'rleu'"):
        TwoLayer(3, 4, "rleu", seed=0)
    with pytest.raises(UnknownName, match="relu"):
        MLP(1, 4, "rleu", d=3, seed=0)


def test_wrong_input_dimension_is_a_shape_error():
    net = TwoLayer(3, 4, seed=0)
    with pytest.raises(ShapeError, match=r"X must have shape \(n, 3\).*\(5, 2\)"):
        net.apply(net.params0, np.zeros((5, 2)))
    with pytest.raises(ShapeError):
        MLP(1, 4, "relu", d=3, seed=0).apply(None, np.zeros(3))


def test_bad_options_are_rejected():
    with pytest.raises(InvalidArgument, match="trained"):
        TwoLayer(3, 4, trained="first", seed=0)
    with pytest.raises(InvalidArgument, match="a_init"):
        TwoLayer(3, 4, a_init="uniform", seed=0)
    with pytest.raises(InvalidArgument, match="W_std"):
        MLP(2, 4, "relu", W_std=[1.0, 2.0], d=3, seed=0)
    with pytest.raises(InvalidArgument, match="trained"):
        MLP(1, 4, "relu", d=3, seed=0, trained=("W9",))


def test_scaled_model_is_alpha_times_the_centred_network_and_its_gradients():
    rng = np.random.default_rng(3)
    base = TwoLayer(3, 6, "tanh", trained="both", seed=2)
    X = rng.standard_normal((4, 3))
    net = Scaled(base, 7.0)
    p = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in base.params0.items()}
    assert np.allclose(net.apply(net.params0, X), 0.0)
    assert np.allclose(net.apply(p, X), 7.0 * (base.apply(p, X) - base.apply(base.params0, X)))
    assert np.allclose(Scaled(base, 7.0, centred=False).apply(p, X), 7.0 * base.apply(p, X))
    cot = rng.standard_normal(4)
    assert all(np.allclose(net.vjp(p, X, cot)[k], 7.0 * base.vjp(p, X, cot)[k]) for k in p)
    assert np.allclose(net.jvp(p, X, p), 7.0 * base.jvp(p, X, p))
    assert np.allclose(net.grads(p, X)["W"], 7.0 * base.grads(p, X)["W"])
    lin = net.linearize()
    assert np.allclose(lin.apply(p, X), 7.0 * base.jvp(base.params0, X,
                       {k: p[k] - base.params0[k] for k in p}))
    with pytest.raises(InvalidArgument):
        Scaled(base, 0.0)


@pytest.mark.parametrize("trained", ["all", ("W2", "b1")])
def test_linearized_mlp_reuses_factors_at_init_exactly(trained):
    """Linearized(MLP) contracts cached θ0 layer factors; it must equal the base's
    jvp/vjp at θ0 (also when only some layers are trained), for every new X."""
    net = MLP(2, 12, "tanh", W_std=1.4, b_std=0.3, d=3, seed=4, trained=trained)
    lin = net.linearize()
    t = perturbation(net, 1.0)
    for X in (inputs(5, 3), inputs(7, 3) * 0.5):
        assert rel_err(lin.jvp(net.params0, X, t), net.jvp(net.params0, X, t)) < TOL64
        cot = np.linspace(-1.0, 2.0, X.shape[0])
        got, want = lin.vjp(net.params0, X, cot), net.vjp(net.params0, X, cot)
        assert set(got) == set(want) == set(net.trained)
        assert all(rel_err(got[k], want[k]) < TOL64 for k in want)
