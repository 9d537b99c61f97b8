r"""The reproducing-kernel Hilbert space of the infinite-width NTK: positive
semi-definiteness certified in ball arithmetic, and the minimum-norm interpolant that
gradient flow from a zero-output initialisation reaches.

Kernel (neural-tangents conventions, :func:`ntkproof.nn.kernels.infinite_width`)
---------------------------------------------------------------------------------
``stax.serial(*[Dense(W_std, b_std), Relu()] * depth, Dense(W_std, b_std))``: with
``K_0 = x·x'/d``, each Dense maps ``K ← W_std² K + b_std²``, ``Θ ← K + W_std² Θ`` (the first
one ``Θ ← K``), each ReLU maps ``K ← E[relu(u) relu(v)]``, ``Θ ← Θ·E[relu'(u) relu'(v)]`` with
``(u, v) ~ N(0, [[q, K], [K, q']])``:

    E[relu relu] = (√(q q' - K²) + (π - θ) K) / (2π),   E[step step] = (π - θ)/(2π),
    θ = arccos(K / √(q q')),

and on the diagonal (θ = 0) ``q/2`` and ``1/2``. :func:`arb_ntk_gram` evaluates this
recursion in python-flint's ``arb`` ball arithmetic, so every entry is a ball that
contains the exact kernel value for every input inside the input balls: it is written
out again here (not :mod:`ntkproof.nn.kernels`' code) so that the certificate does not
rest on the float implementation, which the tests compare with it.

Positive definiteness by pivots
-------------------------------
A symmetric matrix is positive definite iff every pivot of its LDLᵀ elimination is
positive (the pivots are ratios of leading principal minors, Sylvester's criterion).
:func:`smallest_pivot` eliminates in ball arithmetic and stops at the first pivot that
is not certainly positive: when all are certainly positive, every symmetric matrix inside
the balls is positive definite; when the last one is certainly negative, a leading
principal minor is negative while the ones before are positive, so every such matrix has
a negative eigenvalue.

Gradient flow on the kernel model from ``f_0 = 0``
--------------------------------------------------
On ``L = (1/2n) Σ (f(x_i) - y_i)²`` the flow ``∂_t f = -(1/n) K(·, X)(f(X) - y)`` keeps
``f_t = Σ_i α_i(t) K(x_i, ·)`` in the span of the kernel sections, with
``α' = -(1/n)(K α - y)``, ``α(0) = 0``. :func:`flow_coefficients` integrates it exactly
by one matrix exponential of the augmented generator ``[[-K/n, y/n], [0, 0]]`` (no
inverse of K, no eigendecomposition: an independent route to the closed form
``α(t) = K⁻¹(I - e^{-tK/n}) y`` of :mod:`ntkproof.nn.flow`). The RKHS norm of
``Σ α_i K(x_i, ·)`` is ``αᵀKα`` (reproducing property); at ``t = ∞`` it is ``yᵀK⁻¹y``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flint
import numpy as np

from ..backends import Backend

__all__ = ["arb_ntk_gram", "smallest_pivot", "shifted", "flow_coefficients",
           "rkhs_norm", "circle_points", "other_interpolant"]


def _dot(a: Sequence[Any], b: Sequence[Any]) -> Any:
    return sum((u * v for u, v in zip(a, b, strict=True)), flint.arb(0))


def arb_ntk_gram(points: Sequence[Sequence[Any]], *, depth: int, W_std: float = 1.0,
                 b_std: float = 0.0) -> list[list[Any]]:
    """The infinite-width ReLU NTK Gram of ``points`` as nested lists of ``arb`` balls.

    ``points``: n inputs of dimension d, each a sequence of floats (taken exactly) or
    arb balls; distinct, non-antipodal and non-zero (the angle between two inputs must
    stay inside (0, π) over the balls, else the arccos is undefined and the entry is NaN).
    ``depth`` hidden layers; ``W_std`` and ``b_std`` exact floats. Precision: the caller's
    ``flint.ctx.prec``.

    >>> g = arb_ntk_gram([[1.0, 0.0], [0.0, 1.0]], depth=1)  # Θ = x·x'(π-θ)/(2π)/d + NNGP
    >>> [round(float(g[i][j].mid()), 12) for i, j in ((0, 0), (0, 1))]
    [0.5, 0.079577471546]
    """
    pts = [[flint.arb(c) for c in p] for p in points]
    n, d = len(pts), len(pts[0])
    w2, b2 = flint.arb(W_std) ** 2, flint.arb(b_std) ** 2
    pi = flint.arb.pi()
    q = [_dot(p, p) / d for p in pts]
    K = [[_dot(pts[i], pts[j]) / d for j in range(n)] for i in range(n)]
    q = [w2 * v + b2 for v in q]
    K = [[w2 * K[i][j] + b2 for j in range(n)] for i in range(n)]
    T = [row[:] for row in K]
    for _ in range(depth):
        newK = [[flint.arb(0)] * n for _ in range(n)]
        newT = [[flint.arb(0)] * n for _ in range(n)]
        for i in range(n):
            newK[i][i] = w2 * q[i] / 2 + b2
            newT[i][i] = newK[i][i] + w2 * T[i][i] / 2
            for j in range(i):
                s = (q[i] * q[j]).sqrt()
                theta = (K[i][j] / s).acos()
                e = ((q[i] * q[j] - K[i][j] ** 2).sqrt() + (pi - theta) * K[i][j]) / (2 * pi)
                e_dot = (pi - theta) / (2 * pi)
                newK[i][j] = newK[j][i] = w2 * e + b2
                newT[i][j] = newT[j][i] = newK[i][j] + w2 * T[i][j] * e_dot
        q = [newK[i][i] for i in range(n)]
        K, T = newK, newT
    return T


def smallest_pivot(A: Sequence[Sequence[Any]]) -> Any:
    """The smallest LDLᵀ pivot of the symmetric arb matrix ``A`` (an ``arb`` ball).

    The elimination stops at the first pivot that is not certainly positive and returns
    it; otherwise it returns the ball of the smallest pivot (``arb.min``). Its lower end
    > 0 proves every symmetric matrix inside the balls positive definite; its upper end
    < 0 proves every one of them indefinite (see the module docstring).
    """
    a = [list(row) for row in A]
    smallest = None
    while a:   # one Schur complement per pivot: a <- a[1:, 1:] - a[1:, 0] a[0, 1:] / p
        p = a[0][0]
        if not p > 0:
            return p
        smallest = p if smallest is None else smallest.min(p)
        a = [[row[j] - row[0] * a[0][j] / p for j in range(1, len(row))] for row in a[1:]]
    return smallest


def shifted(K: np.ndarray, factor: float) -> tuple[np.ndarray, float]:
    """``K - factor·λ_min v vᵀ`` (``λ_min, v`` the smallest eigenpair of the float ``K``)
    and ``λ_min``. With ``factor = 1.1`` the smallest eigenvalue becomes ``-0.1 λ_min``:
    a kernel that is not PSD (the falsified twin of positive semi-definiteness)."""
    lam, vec = np.linalg.eigh(np.asarray(K, dtype=float))
    v = vec[:, 0]
    return np.asarray(K, dtype=float) - factor * lam[0] * np.outer(v, v), float(lam[0])


def flow_coefficients(K: Any, y: Any, t: float, backend: Backend) -> Any:
    """``α(t)`` of gradient flow on the kernel model from ``f_0 = 0`` (module docstring):
    ``[α(t); 1] = exp(t·[[-K/n, y/n], [0, 0]]) [0; 1]``, on ``backend`` (scipy's
    ``expm`` for numpy, ``torch.linalg.matrix_exp`` for torch, ``mpmath.expm`` for
    mpmath). ``K`` (n, n) and ``y`` (n,) backend arrays; returns (n,)."""
    b = backend
    n = int(np.shape(K)[0])
    if b.name == "mpmath":
        import mpmath  # noqa: PLC0415 - only the mpmath backend needs it

        with mpmath.workdps(int(b.dtype.removeprefix("dps"))):
            A = mpmath.zeros(n + 1, n + 1)
            for i in range(n):
                for j in range(n):
                    A[i, j] = -K[i, j] * t / n
                A[i, n] = y[i] * t / n
            E = mpmath.expm(A)
            return np.array([E[i, n] for i in range(n)], dtype=object)
    Kn, yn = b.to_numpy(K), b.to_numpy(y)
    A = np.zeros((n + 1, n + 1))
    A[:n, :n], A[:n, n] = -Kn * t / n, yn * t / n
    if b.name == "torch":
        import torch  # noqa: PLC0415 - only the torch backend needs it

        At = b.asarray(A)
        return torch.linalg.matrix_exp(At)[:n, n]
    import scipy.linalg  # noqa: PLC0415

    return b.asarray(scipy.linalg.expm(A)[:n, n])


def rkhs_norm(alpha: Any, K: Any, backend: Backend) -> Any:
    """``αᵀKα``: the squared RKHS norm of ``Σ_i α_i K(x_i, ·)`` (reproducing property)."""
    b = backend
    return b.sum(alpha * b.matmul(K, alpha))


def circle_points(n: int, d: int, *, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    """``n - 1`` fixed unit points of R^d and a great circle ``x(t) = cos t·p + sin t·q``
    along which the n-th point moves; returns (fixed points (n-1, d), p, q, (t0, t1)),
    the arc [t0, t1] a sixth of the circle, at angular distance >= 0.3 from every fixed
    point and its antipode (so the Gram stays positive definite along it)."""
    for _ in range(1000):
        X = rng.standard_normal((n - 1, d))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        p, q = rng.standard_normal(d), rng.standard_normal(d)
        p /= np.linalg.norm(p)
        q -= p * (p @ q)
        q /= np.linalg.norm(q)
        t0 = float(rng.uniform(0, 2 * np.pi))
        ts = np.linspace(t0, t0 + np.pi / 3, 200)
        arc = np.cos(ts)[:, None] * p + np.sin(ts)[:, None] * q
        cos = np.abs(arc @ X.T)
        if np.max(cos) < np.cos(0.3) and np.max(np.abs(X @ X.T - np.eye(n - 1))) < np.cos(0.3):
            return X, p, q, (t0, t0 + np.pi / 3)
    raise RuntimeError("no well-separated configuration found in 1000 draws")


def other_interpolant(K_xx: np.ndarray, K_xz: np.ndarray, K_zz: np.ndarray, y: np.ndarray,
                      beta: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Another interpolant of (X, y) in the RKHS: ``g = f* + h`` with ``f* = K(·, X)K⁻¹y``
    and ``h = K(·, Z)β - K(·, X)K_XX⁻¹K_XZβ`` (the part of ``K(·, Z)β`` orthogonal to the
    sections at X, so ``h(X) = 0``). Returns g's coefficients on the centres X ∪ Z,
    ``||g||²``, ``||f*||² = yᵀK⁻¹y`` and ``||h||²``, each from the Gram on X ∪ Z."""
    a_star = np.linalg.solve(K_xx, y)
    gamma = np.concatenate([a_star - np.linalg.solve(K_xx, K_xz @ beta), beta])
    G = np.block([[K_xx, K_xz], [K_xz.T, K_zz]])
    h = np.concatenate([-np.linalg.solve(K_xx, K_xz @ beta), beta])
    return gamma, float(gamma @ G @ gamma), float(y @ a_star), float(h @ G @ h)
