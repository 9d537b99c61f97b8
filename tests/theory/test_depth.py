"""The curvature of deep networks at init (ntkproof.theory.depth): the restricted Hessian
against dense Hessians of the library's networks, batched against one at a time."""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.errors import InvalidArgument
from ntkproof.nn.networks import MLP
from ntkproof.rng import generator
from ntkproof.theory.depth import InteriorCurvature, curvatures, interior_layers


def _x(seed: int, d: int = 4) -> np.ndarray:
    x = generator(seed).standard_normal(d)
    return x * np.sqrt(d) / np.linalg.norm(x)


def _dense_hessian(net: MLP, x: np.ndarray, layers, eps: float = 1e-5) -> np.ndarray:
    """The Hessian of f(x; ·) in the weights W{l}, l in layers, by central differences of
    the library's own gradient (MLP.vjp): independent of the R-operator."""
    names = [f"W{k}" for k in layers]
    shapes = [net.params0[k].shape for k in names]
    sizes = [int(np.prod(s)) for s in shapes]
    X, one = x[None, :], np.ones(1)

    def grad(flat):
        P, i = dict(net.params0), 0
        for k, sh, sz in zip(names, shapes, sizes, strict=True):
            P[k] = net.params0[k] + flat[i:i + sz].reshape(sh)
            i += sz
        g = net.vjp(P, X, one)
        return np.concatenate([np.asarray(g[k]).ravel() for k in names])

    n = sum(sizes)
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = eps
        H[:, j] = (grad(e) - grad(-e)) / (2 * eps)
    return (H + H.T) / 2


def test_interior_layers():
    assert interior_layers(3) == (3,)
    assert interior_layers(6) == (3, 4, 5, 6)
    with pytest.raises(InvalidArgument, match="no interior layer"):
        interior_layers(2)


@pytest.mark.parametrize(("depth", "width", "activation"),
                         [(3, 5, "tanh"), (4, 6, "tanh"), (5, 4, "gelu"), (4, 5, "erf")])
def test_top_eigenvalue_matches_the_dense_hessian(depth, width, activation):
    net = MLP(depth, width, activation, d=4, seed=depth * 10 + width)
    x = _x(depth)
    H = _dense_hessian(net, x, interior_layers(depth))
    lam = np.linalg.eigvalsh(H)
    top = lam[np.argmax(np.abs(lam))]
    curv = InteriorCurvature(net, x, interior_layers(depth)).top()
    assert curv.value == pytest.approx(top, rel=1e-6)
    assert curv.residual < 1e-7
    # the Hessian's rank is at most the restricted subspace's dimension
    assert np.sum(np.abs(lam) > 1e-8 * abs(top)) <= curv.dimension


def test_the_top_direction_attains_the_second_order_linearisation_error():
    net = MLP(6, 24, "tanh", d=4, seed=3)
    x = _x(1)
    curv = InteriorCurvature(net, x, interior_layers(6)).top()
    norm = np.sqrt(sum(float(np.sum(v * v)) for v in curv.direction.values()))
    assert norm == pytest.approx(1.0, rel=1e-12)
    X = x[None, :]
    for B in (1e-2, 1e-3):
        P = {k: net.params0[k] + (B * curv.direction[k] if k in curv.direction else 0)
             for k in net.params0}
        gap = float(net.apply(P, X)[0] - net.linearize().apply(P, X)[0])
        assert gap / (B * B * curv.value / 2) == pytest.approx(1.0, abs=20 * B)


def test_batched_lanczos_agrees_with_eigsh():
    x = _x(2)
    nets = [MLP(5, 16, "tanh", d=4, seed=s) for s in range(5)]
    batch = curvatures(nets, x, interior_layers(5), tol=1e-10, chunk=2)
    for net, (lam, res, products) in zip(nets, batch, strict=True):
        ref = InteriorCurvature(net, x, interior_layers(5)).top(tol=1e-12)
        assert lam == pytest.approx(ref.value, rel=1e-9)
        assert res < 1e-7 and products > 1


def test_torch_gives_the_numpy_numbers():
    pytest.importorskip("torch")
    x = _x(4)
    for seed in range(2):
        a = InteriorCurvature(MLP(4, 12, "tanh", d=4, seed=seed), x, (3, 4)).top()
        b = InteriorCurvature(MLP(4, 12, "tanh", d=4, seed=seed, backend="torch"), x, (3, 4)).top()
        assert b.value == pytest.approx(a.value, rel=1e-10)
    nets = [MLP(4, 12, "tanh", d=4, seed=s, backend="torch") for s in range(3)]
    ref = [InteriorCurvature(MLP(4, 12, "tanh", d=4, seed=s), x, (3, 4)).top().value
           for s in range(3)]
    assert [v for v, _, _ in curvatures(nets, x, (3, 4))] == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"activation": "relu"}, "not twice differentiable"),
    ({"activation": "tanh", "b_std": 0.1}, "b_std = 0"),
])
def test_bad_networks_are_refused(kwargs, match):
    act = kwargs.pop("activation")
    net = MLP(4, 6, act, d=4, seed=0, **kwargs)
    with pytest.raises(InvalidArgument, match=match):
        InteriorCurvature(net, _x(0), (3, 4))


def test_layers_out_of_range_are_refused():
    with pytest.raises(InvalidArgument, match="Dense indices"):
        InteriorCurvature(MLP(3, 5, "tanh", d=4, seed=0), _x(0), (7,))
