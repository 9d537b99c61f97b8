"""Walsh eigenvalues of dot-product kernels on the hypercube: against the explicit Gram
matrix (numpy, and its spectrum on every backend), the trace identity, exact sympy
values, the sympy Krawtchouk function, and the derivations."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
import sympy as sp

from ntkproof.backends import get_backend
from ntkproof.derivation import check_derivation, discharge
from ntkproof.errors import InvalidArgument
from ntkproof.nn.kernels import two_layer_relu_ntk
from ntkproof.theory.walsh import (
    D,
    Krawtchouk,
    gram_spectrum,
    hypercube,
    hypercube_inner_products,
    kappa_values,
    krawtchouk,
    predicted_spectrum,
    trace_identity,
    trace_identity_derivation,
    walsh_diagonal_derivation,
    walsh_eigenvalues,
)


def relu_ntk_kappa(d):
    t = hypercube_inner_products(d)
    pts = np.stack([t, np.sqrt(np.clip(1 - t * t, 0, None))], axis=1)
    return two_layer_relu_ntk(np.array([[1.0, 0.0]]), pts)[0]


@pytest.mark.parametrize("d", [3, 6])
def test_eigenvalues_match_the_gram_matrix(d):
    X = np.array(list(itertools.product((1.0, -1.0), repeat=d))) / np.sqrt(d)
    K = two_layer_relu_ntk(X)
    lam = walsh_eigenvalues(list(relu_ntk_kappa(d)), d)
    for k in range(d + 1):
        for S in itertools.combinations(range(d), k):
            chi = np.prod(np.sqrt(d) * X[:, list(S)], axis=1)
            # (T χ_S)(x) = E_x'[K(x, x') χ_S(x')] = λ_k χ_S(x)
            np.testing.assert_allclose(K @ chi / len(X), lam[k] * chi, atol=1e-12)
    assert sum(comb(d, k) * lam[k] for k in range(d + 1)) == pytest.approx(1.0, rel=1e-12)
    assert min(lam) > -1e-15  # PSD; the odd degrees >= 3 vanish for the ReLU NTK


def test_exact_values_and_krawtchouk():
    assert [krawtchouk(2, j, 4) for j in range(5)] == [6, 0, -2, 0, 6]
    kap = sp.symbols("k0:3")
    lam = walsh_eigenvalues(list(kap), 2)
    assert sp.simplify(lam[2] - (kap[0] - 2 * kap[1] + kap[2]) / 4) == 0


def test_derivation_is_proved_and_validates_d():
    assert check_derivation(walsh_diagonal_derivation(3), seed=0).verdict == "PROVED"
    with pytest.raises(InvalidArgument, match="1..5"):
        walsh_diagonal_derivation(8)
    with pytest.raises(InvalidArgument, match="d \\+ 1"):
        walsh_eigenvalues([1.0, 2.0], 3)


@pytest.mark.parametrize("backend", ["numpy", "torch", "mpmath"])
def test_gram_spectrum_is_the_walsh_prediction(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    b, d = get_backend(backend), 4
    with b.context():
        lam = walsh_eigenvalues(kappa_values(two_layer_relu_ntk, d, b), d)
        got, want = gram_spectrum(two_layer_relu_ntk, d, b), predicted_spectrum(lam, d)
        assert len(got) == len(want) == 2**d
        gap = max(abs(b.to_float(g - w)) for g, w in zip(got, want, strict=True))
    assert gap <= 100 * b.tol.rtol


def test_spectrum_catches_a_wrong_eigenvalue_or_wrong_inner_products():
    d = 6
    lam = walsh_eigenvalues(kappa_values(two_layer_relu_ntk, d), d)
    got = np.array(gram_spectrum(two_layer_relu_ntk, d))
    assert np.max(np.abs(got - predicted_spectrum(lam, d))) < 1e-12
    wrong = list(lam)
    wrong[2] *= 1.1
    assert np.max(np.abs(got - predicted_spectrum(wrong, d))) > 0.05 * lam[2]
    t = 1 - np.arange(d + 1) / d                       # 1 - j/d instead of 1 - 2j/d
    kap = two_layer_relu_ntk(np.array([[1.0, 0.0]]),
                             np.stack([t, np.sqrt(1 - t * t)], axis=1))[0]
    shifted = walsh_eigenvalues(list(kap), d)
    assert np.max(np.abs(got - predicted_spectrum(shifted, d))) > 1e-2


def test_hypercube_and_inner_products():
    X = hypercube(3)
    assert X.shape == (8, 3) and np.allclose(np.sum(X * X, axis=1), 1.0)
    gram = X @ X.T
    assert set(np.round(gram.ravel(), 12)) == set(np.round(hypercube_inner_products(3), 12))
    b = get_backend("mpmath")
    with b.context():
        t = hypercube_inner_products(3, backend=b)
        assert abs(t[1] - b.scalar(1) / 3) < 1e-45   # 50 digits, not float64's 1/3
    with pytest.raises(InvalidArgument, match="at most"):
        hypercube(20)
    with pytest.raises(InvalidArgument, match="positive integer"):
        hypercube_inner_products(0)
    with pytest.raises(InvalidArgument, match="d \\+ 1"):
        predicted_spectrum([1.0], 2)


def test_krawtchouk_function_and_trace_identity():
    j = sp.Symbol("j", integer=True)
    assert Krawtchouk(2, 1, 4) == krawtchouk(2, 1, 4) == 0
    assert isinstance(Krawtchouk(j, 1, 4), Krawtchouk)
    assert sp.lambdify(j, Krawtchouk(j, 2, 4))(0) == krawtchouk(0, 2, 4)
    general = trace_identity()
    assert D in general.lhs.free_symbols
    at4 = trace_identity(4)
    assert general.lhs.subs(D, 4) == at4.lhs
    assert sp.simplify(at4.lhs.doit() - at4.rhs) == 0


def test_trace_identity_derivation_is_an_instance():
    res = discharge(trace_identity_derivation(3), trace_identity(), seed=0)
    assert res.verdict == "HOLDS"
    assert res.obligations["scope"] == "instance" and res.obligations["instance"] == {"d": "3"}
    with pytest.raises(InvalidArgument, match="positive integer"):
        trace_identity_derivation(0)
