"""The Gram matrices of Du et al. on the circle (ntkproof.theory.overparameterized)."""

import flint
import numpy as np
import pytest

from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.kernels import two_layer_relu_ntk
from ntkproof.nn.networks import TwoLayer
from ntkproof.nn.training import gradient_descent
from ntkproof.theory import overparameterized as op


@pytest.fixture(scope="module")
def circle():
    a = op.circle_inputs(5, seed=3, min_gap=0.5)
    X = op.unit_inputs(a)
    return a, X, X @ X.T, two_layer_relu_ntk(X, trained="W")


def test_inputs_are_separated_and_not_parallel(circle):
    a = circle[0]
    d = np.abs((a[:, None] - a[None, :] + np.pi) % (2 * np.pi) - np.pi)
    off = d[~np.eye(5, dtype=bool)]
    assert off.min() > 0.5 and (np.pi - off).min() > 0.5


def test_cell_probabilities_give_the_infinite_width_gram(circle):
    """E[H(0)] = G ⊙ Sᵀ diag(p) S is H^∞'s closed form (the arcs' lengths are the
    Gaussian orthant probabilities)."""
    a, X, G, Hinf = circle
    _, p, S = op.activation_cells(a)
    assert np.isclose(p.sum(), 1.0)
    assert np.allclose(G * ((S.T * p) @ S), Hinf, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_counts_formula_is_the_entk_of_a_network(circle, seed):
    a, X, G, _ = circle
    starts, _, S = op.activation_cells(a)
    net = TwoLayer(2, 300, "relu", seed=seed)
    counts = op.network_cell_counts(net.params0["W"], starts)
    assert counts.sum() == 300
    assert np.allclose(op.gram_from_counts(counts, S, G), empirical_ntk(net, X), atol=1e-14)


def test_clt_quantile_matches_multinomial_draws(circle):
    a, X, G, Hinf = circle
    _, p, S = op.activation_cells(a)
    rng = np.random.default_rng(0)
    m = 100_000
    H0 = op.gram_from_counts(rng.multinomial(m, p, size=4000), S, G)
    dev = np.abs(np.linalg.eigvalsh(H0 - Hinf)).max(axis=1)
    q = op.clt_quantile(p, S, G, 0.1, rng=rng) / np.sqrt(m)
    assert abs(np.quantile(dev, 0.9) / q - 1) < 0.05


def test_hoeffding_width():
    G = np.eye(3)
    m = op.hoeffding_width(G, 0.5, 0.1)
    assert m == int(np.ceil(8 * 3 * np.log(12 / 0.1) / 0.25))
    assert op.hoeffding_width(G, 0.5, 0.01) > m


def test_arb_gram_encloses_the_closed_form(circle):
    a, _, _, Hinf = circle
    H = op.h_infinity_arb([flint.arb(float(t)) for t in a])
    for i in range(5):
        for j in range(5):
            assert H[i][j].contains(flint.arb(float(Hinf[i, j]))) or abs(
                float(H[i][j].mid()) - Hinf[i, j]) < 1e-15


def test_sgd_epoch_is_a_gd_step_to_first_order(circle):
    """With a small step one SGD epoch moves like one GD step on ½Σ(f - y)²."""
    a, X, _, _ = circle
    y = np.linspace(-1, 1, 5)
    net = TwoLayer(2, 256, "relu", symmetric=True, seed=0)
    for eta in (1e-3, 2e-3):
        sgd = op.sgd_epochs(net, X, y, eta=eta, epochs=1, rng=np.random.default_rng(0))
        gd = 10 * gradient_descent(net, X, y, lr=5 * eta, steps=1).losses  # 2n·loss
        assert abs(sgd[1] - gd[1]) < 50 * eta**2
