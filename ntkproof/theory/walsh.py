r"""Dot-product kernels on the hypercube are diagonal in the Walsh basis.

On ``X = {±1}^d / √d`` (the unit sphere's hypercube points, uniform measure) a
kernel ``K(x, x') = κ(x·x')`` depends only on the number j of coordinates where x
and x' differ, through ``t_j = 1 - 2j/d``. Every Walsh character
``χ_S(x) = Π_{i∈S} √d x_i`` is an eigenfunction of the integral operator
``(T f)(x) = E_{x'}[K(x, x') f(x')]`` with an eigenvalue that depends only on
``k = |S|``::

    λ_k = 2^{-d} Σ_{j=0}^{d} κ(t_j) K_j(k; d),   K_j(k; d) = Σ_i (-1)^i C(k, i) C(d-k, j-i)

(``K_j`` the Krawtchouk polynomial: for ``|S| = k``, the sum of ``χ_S`` over the
C(d, j) points at distance j from the all-ones point). So a dot-product kernel
cannot tell the C(d, k) characters of one degree apart, and, since
``Σ_k C(d, k) λ_k = κ(1)`` (the trace) and every ``λ_k >= 0`` for a PSD kernel,
``λ_k <= κ(1) / C(d, k)``.

For a target ``y = χ_S`` the tangent-kernel edge of Malach et al. (2021) at
infinite width is ``E_{x,x'}[y(x) y(x') K(x, x')] = λ_{|S|}``: its square root is
``γ_∞``.

:func:`walsh_eigenvalues` computes the ``λ_k`` (numbers or sympy expressions);
:func:`walsh_diagonal_derivation` checks the diagonalisation for a small d with
sympy, for a generic κ (one symbol per distance).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import comb
from typing import Any

import numpy as np
import sympy as sp

from ..derivation import Derivation, Step
from ..errors import InvalidArgument

__all__ = ["krawtchouk", "hypercube_inner_products", "walsh_eigenvalues",
           "walsh_diagonal_derivation"]


def krawtchouk(k: int, j: int, d: int) -> int:
    """Krawtchouk polynomial ``K_k(j; d) = Σ_i (-1)^i C(j, i) C(d - j, k - i)`` (an integer).

    >>> [krawtchouk(1, j, 3) for j in range(4)]
    [3, 1, -1, -3]
    """
    return sum((-1) ** i * comb(j, i) * comb(d - j, k - i)
               for i in range(0, min(j, k) + 1) if 0 <= k - i <= d - j)


def hypercube_inner_products(d: int) -> np.ndarray:
    """``t_j = 1 - 2j/d`` for j = 0..d: the inner products that occur on ``{±1}^d/√d``."""
    if int(d) != d or d < 1:
        raise InvalidArgument(f"d must be a positive integer, got {d!r}")
    return 1 - 2 * np.arange(d + 1) / d


def walsh_eigenvalues(kappa: Sequence[Any], d: int) -> list[Any]:
    """``[λ_0, ..., λ_d]`` from ``kappa[j] = κ(t_j)`` (j = 0..d), see the module docstring.

    Entries may be floats or sympy expressions (then the result is exact).

    >>> walsh_eigenvalues([1.0, 0.0, 0.0], 2)   # κ(t) = (1 + t)/2 ... at t = 1, 0, -1
    [0.25, 0.25, 0.25]
    """
    if len(kappa) != d + 1:
        raise InvalidArgument(f"kappa needs d + 1 = {d + 1} values (one per distance j), "
                              f"got {len(kappa)}")
    scale = sp.Rational(1, 2**d) if any(isinstance(v, sp.Basic) for v in kappa) else 2.0**-d
    return [scale * sum(krawtchouk(j, k, d) * kappa[j] for j in range(d + 1))
            for k in range(d + 1)]


def walsh_diagonal_derivation(d: int = 4) -> Derivation:
    """Sympy check, for a generic κ on ``{±1}^d/√d``, that the Gram matrix is diagonal
    in the Walsh basis, with the Krawtchouk eigenvalue on every character of a degree,
    and that the eigenvalues weighted by C(d, k) sum to κ(1) (the trace).

    κ is generic: one real symbol ``kappa_j`` per distance j, so the steps hold for
    every dot-product kernel. ``2^d x 2^d`` matrices: keep d small (d <= 5).
    """
    if not 1 <= d <= 5:
        raise InvalidArgument(f"d must lie in 1..5 (the Gram matrix is 2^d x 2^d), got {d}")
    kap = sp.symbols(f"kappa_0:{d + 1}", real=True)
    pts = list(itertools.product((1, -1), repeat=d))
    subsets = [s for k in range(d + 1) for s in itertools.combinations(range(d), k)]
    gram = sp.Matrix(len(pts), len(pts),
                     lambda a, b: kap[sum(u != v for u, v in zip(pts[a], pts[b], strict=True))])
    walsh = sp.Matrix(len(pts), len(subsets),
                      lambda a, s: sp.prod([pts[a][i] for i in subsets[s]]))
    m = walsh.T * gram * walsh / sp.Integer(4) ** d
    lam = walsh_eigenvalues(list(kap), d)
    off = sum(m[s, t] ** 2 for s in range(len(subsets)) for t in range(len(subsets)) if s != t)
    steps = [Step(off, "==", 0, "off-diagonal entries of Hᵀ K H / 4^d vanish: K is diagonal "
                  "in the Walsh basis (translation invariance of the hypercube)")]
    for k in range(d + 1):
        dev = sum((m[s, s] - lam[k]) ** 2 for s in range(len(subsets)) if len(subsets[s]) == k)
        steps.append(Step(dev, "==", 0, f"all C({d},{k}) = {comb(d, k)} characters of degree "
                          f"{k} share the eigenvalue λ_{k} = 2^-d Σ_j K_j({k}) κ_j"))
    steps.append(Step(sum(comb(d, k) * lam[k] for k in range(d + 1)), "==", kap[0],
                      "trace: Σ_k C(d,k) λ_k = κ(1) (Krawtchouk orthogonality)"))
    return Derivation(f"Walsh diagonalisation of a dot-product kernel on {{±1}}^{d}",
                      tuple(steps), domain={s: (-1.0, 1.0) for s in kap})
