"""Walsh eigenvalues of dot-product kernels on the hypercube: against the explicit Gram
matrix (numpy), the trace identity, exact sympy values, and the derivation."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
import sympy as sp

from ntkproof.derivation import check_derivation
from ntkproof.errors import InvalidArgument
from ntkproof.nn.kernels import two_layer_relu_ntk
from ntkproof.theory.walsh import (
    hypercube_inner_products,
    krawtchouk,
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
