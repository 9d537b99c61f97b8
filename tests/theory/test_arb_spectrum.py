"""Rigorous smallest-eigenvalue enclosures (ntkproof.theory.arb_spectrum)."""

import flint
import numpy as np
import pytest

from ntkproof.theory.arb_spectrum import (
    lambda_min_enclosure,
    ldl_pivots,
    positive_definite,
    rayleigh_upper,
)


def _arb(A, rad=0.0):
    return [[flint.arb(float(a), rad) for a in row] for row in A]


@pytest.mark.parametrize("seed", range(5))
def test_enclosure_contains_the_float_eigenvalue(seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    A = Q @ np.diag(rng.uniform(0.01, 3.0, 6)) @ Q.T
    A = (A + A.T) / 2
    enc = lambda_min_enclosure(_arb(A))
    lam = np.linalg.eigvalsh(A)[0]
    assert enc.lower() <= lam <= enc.upper()
    assert float(enc.rad()) < 1e-8 * np.abs(np.linalg.eigvalsh(A)).max()


def test_balls_cover_every_matrix_inside():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((4, 4))
    A = A @ A.T + 0.5 * np.eye(4)
    enc = lambda_min_enclosure(_arb(A, 1e-6))
    for _ in range(20):
        E = rng.uniform(-1e-6, 1e-6, (4, 4))
        E = (E + E.T) / 2
        lam = np.linalg.eigvalsh(A + E)[0]
        assert enc.lower() <= lam <= enc.upper()


def test_positive_definite_and_pivots():
    A = _arb([[2, 1], [1, 2]])
    assert positive_definite(A)
    assert positive_definite(A, flint.arb(0.99))
    assert not positive_definite(A, flint.arb(1.01))
    assert len(ldl_pivots(_arb([[-1, 0], [0, 1]]))) == 1  # stops at the first bad pivot


def test_rayleigh_quotient_is_an_upper_bound():
    A = _arb([[2, 1], [1, 2]])
    assert rayleigh_upper(A, np.array([1.0, -1.0])).contains(1)
    assert rayleigh_upper(A, np.array([1.0, 0.0])).upper() >= 1


def test_singular_matrix_upper_end_is_zero():
    A = _arb([[0.5, 0.5], [0.5, 0.5]])
    enc = lambda_min_enclosure(A)
    assert enc.upper() < 1e-12
