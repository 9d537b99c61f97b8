r"""Rigorous enclosures of the smallest eigenvalue of a symmetric matrix of arb balls.

A certificate that a matrix is positive definite, or that its smallest eigenvalue is
at least c, needs two one-sided facts, each proved in ball arithmetic (python-flint's
``arb``, whose every operation returns a ball that contains the exact result for every
choice of the inputs inside their balls):

* a **lower bound** c: every pivot of an LDLᵀ elimination of ``A - c I`` is > 0. The
  pivots of a symmetric matrix are its leading principal minors' ratios (Sylvester), so
  positive pivots make ``A - c I`` positive definite, i.e. λ_min(A) > c, for every
  symmetric matrix A inside the balls;
* an **upper bound**: the Rayleigh quotient ``vᵀAv / vᵀv`` at any nonzero float vector v
  (the float eigenvector of the midpoint matrix), λ_min(A) <= vᵀAv/vᵀv (Courant–Fischer),
  whose ball's upper end bounds it for every A inside the balls.

:func:`lambda_min_enclosure` returns one arb ball containing [lower, upper]: it contains
λ_min(A) for every symmetric A in the enclosure, so a claimed lower bound below its
lower end is proved and one above its upper end is refuted.

>>> import flint
>>> A = [[flint.arb(2), flint.arb(1)], [flint.arb(1), flint.arb(2)]]
>>> enc = lambda_min_enclosure(A)   # eigenvalues 1 and 3
>>> bool(enc.lower() <= 1 <= enc.upper()) and float(enc.rad()) < 1e-9
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flint
import numpy as np

__all__ = ["ldl_pivots", "positive_definite", "rayleigh_upper", "lambda_min_enclosure",
           "midpoint", "ArbMatrix"]

#: A symmetric matrix of arb balls, as nested lists (row-major).
ArbMatrix = Sequence[Sequence[Any]]


def midpoint(A: ArbMatrix) -> np.ndarray:
    """The float midpoint matrix of an arb matrix (symmetrised)."""
    M = np.array([[float(a.mid()) for a in row] for row in A], dtype=float)
    return (M + M.T) / 2


def ldl_pivots(A: ArbMatrix, shift: Any = 0) -> list[Any]:
    """Pivots of the LDLᵀ elimination of ``A - shift·I`` (arb balls); the elimination
    stops at the first pivot that is not certainly positive (it is the last one
    returned)."""
    n = len(A)
    a = [[A[i][j] - (shift if i == j else 0) for j in range(n)] for i in range(n)]
    pivots = []
    for k in range(n):
        p = a[k][k]
        pivots.append(p)
        if not p > 0:
            break
        for i in range(k + 1, n):
            f = a[i][k] / p
            for j in range(k + 1, i + 1):
                a[i][j] = a[i][j] - f * a[j][k]
                a[j][i] = a[i][j]
    return pivots


def positive_definite(A: ArbMatrix, shift: Any = 0) -> bool:
    """True when every symmetric matrix in the balls of ``A - shift·I`` is positive
    definite (every LDLᵀ pivot certainly > 0)."""
    pivots = ldl_pivots(A, shift)
    return len(pivots) == len(A) and all(p > 0 for p in pivots)


def rayleigh_upper(A: ArbMatrix, v: np.ndarray) -> Any:
    """An arb ball containing vᵀAv / vᵀv (v a float vector, exact in arb): its upper end
    bounds λ_min(A) from above for every A in the balls."""
    n = len(A)
    vb = [flint.arb(float(x)) for x in v]
    num = sum((vb[i] * A[i][j] * vb[j] for i in range(n) for j in range(n)), flint.arb(0))
    den = sum((x * x for x in vb), flint.arb(0))
    return num / den


def lambda_min_enclosure(A: ArbMatrix, *, rel_step: float = 1e-10, tries: int = 24) -> Any:
    """An arb ball containing λ_min(A) for every symmetric matrix A in the balls.

    Upper end: the Rayleigh quotient at the midpoint's float eigenvector. Lower end:
    the largest c = λ̂ - s (λ̂ the float eigenvalue, s = rel_step·scale·4^k, k = 0, 1,
    ...) at which every LDLᵀ pivot of A - cI is certainly > 0; when none is found in
    ``tries`` steps the ball is the whole real line (nothing is proved)."""
    M = midpoint(A)
    evals, evecs = np.linalg.eigh(M)
    lam, vec = float(evals[0]), evecs[:, 0]
    upper = rayleigh_upper(A, vec)
    scale = max(float(np.max(np.abs(evals))), 1e-300)
    lower = None
    for k in range(tries):
        c = lam - rel_step * scale * 4.0**k
        if positive_definite(A, flint.arb(c)):
            lower = flint.arb(c)
            break
    if lower is None:
        return flint.arb(0, float("inf"))  # nothing proved: the whole real line
    return lower.union(upper)
