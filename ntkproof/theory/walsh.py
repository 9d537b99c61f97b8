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

:func:`walsh_eigenvalues` computes the ``λ_k`` (numbers, backend scalars or sympy
expressions); :func:`kappa_values` evaluates a kernel at the inner products ``t_j``,
:func:`gram_spectrum` diagonalises the explicit ``2^d x 2^d`` Gram matrix and
:func:`predicted_spectrum` lists the ``λ_k`` with their multiplicities ``C(d, k)``, so
the two can be compared. :func:`trace_identity` is the trace identity as a sympy
relation in a symbolic ``d`` (the Krawtchouk numbers as the sympy function
:class:`Krawtchouk`), :func:`trace_identity_derivation` derives it at one d for a
generic κ, and :func:`walsh_diagonal_derivation` checks the diagonalisation for a small
d with sympy, for a generic κ (one symbol per distance).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from math import comb
from typing import Any

import numpy as np
import sympy as sp

from ..backends import Backend, get_backend
from ..derivation import Derivation, Step
from ..errors import InvalidArgument

__all__ = ["krawtchouk", "Krawtchouk", "hypercube_inner_products", "hypercube",
           "walsh_eigenvalues", "kappa_values", "gram_spectrum", "predicted_spectrum",
           "trace_identity", "trace_identity_derivation", "walsh_diagonal_derivation",
           "D", "KAPPA"]

#: Largest d whose 2^d x 2^d Gram matrix :func:`gram_spectrum` builds (4096 x 4096).
MAX_GRAM_D = 12


def krawtchouk(k: int, j: int, d: int) -> int:
    """Krawtchouk polynomial ``K_k(j; d) = Σ_i (-1)^i C(j, i) C(d - j, k - i)`` (an integer).

    >>> [krawtchouk(1, j, 3) for j in range(4)]
    [3, 1, -1, -3]
    """
    return sum((-1) ** i * comb(j, i) * comb(d - j, k - i)
               for i in range(0, min(j, k) + 1) if 0 <= k - i <= d - j)


class Krawtchouk(sp.Function):
    """``Krawtchouk(j, k, d)`` = ``K_j(k; d)`` = :func:`krawtchouk` ``(j, k, d)`` as a sympy
    function: an integer at integer arguments, symbolic otherwise, and evaluated by
    :func:`krawtchouk` when lambdified (the derivation checker's numeric spot checks).

    >>> Krawtchouk(2, 1, 4), Krawtchouk(sp.Symbol("j"), 1, 4).func.__name__
    (0, 'Krawtchouk')
    """

    nargs = 3
    _imp_ = staticmethod(lambda j, k, d: krawtchouk(int(j), int(k), int(d)))

    @classmethod
    def eval(cls, j: sp.Expr, k: sp.Expr, d: sp.Expr) -> sp.Expr | None:
        if all(isinstance(a, sp.Integer) for a in (j, k, d)):
            return sp.Integer(krawtchouk(int(j), int(k), int(d)))
        return None


def _dimension(d: Any) -> int:
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise InvalidArgument(f"d must be a positive integer, got {d!r}")
    return int(d)


def hypercube_inner_products(d: int, backend: str | Backend | None = None) -> Any:
    """``t_j = 1 - 2j/d`` for j = 0..d: the inner products that occur on ``{±1}^d/√d``.

    A numpy array by default; with ``backend`` an array of that backend's type, computed
    in its precision (mpmath: ``2j/d`` to the working digits, not rounded to float64).

    >>> hypercube_inner_products(4).tolist()
    [1.0, 0.5, 0.0, -0.5, -1.0]
    """
    d = _dimension(d)
    if backend is None:
        return 1 - 2 * np.arange(d + 1) / d
    b = get_backend(backend)
    return 1 - 2 * b.asarray(np.arange(d + 1, dtype=float)) / b.scalar(d)


def hypercube(d: int, backend: str | Backend | None = None) -> Any:
    """All ``2^d`` points of ``{±1}^d/√d`` (the unit sphere's hypercube), shape (2^d, d),
    on ``backend`` (numpy by default), the first coordinate varying slowest.

    >>> hypercube(2).tolist() == (np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) / np.sqrt(2)).tolist()
    True
    """
    d = _dimension(d)
    if d > MAX_GRAM_D:
        raise InvalidArgument(f"hypercube(d) lists 2^d points; d must be at most {MAX_GRAM_D}, "
                              f"got {d}")
    b = get_backend(backend)
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=d)))
    return b.asarray(signs) / b.sqrt(b.scalar(d))


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


def kappa_values(kernel: Callable[..., Any], d: int,
                 backend: str | Backend | None = None) -> list[Any]:
    """``[κ(t_0), ..., κ(t_d)]`` for a dot-product kernel on the unit sphere, read off
    ``kernel(x1, x2, backend=b)`` (e.g. :func:`ntkproof.nn.kernels.two_layer_relu_ntk`)
    at the unit vectors ``(1, 0)`` and ``(t_j, sqrt(1 - t_j²))`` of R², ``t_j`` from
    :func:`hypercube_inner_products` in the backend's precision.

    >>> from ntkproof.nn.kernels import two_layer_relu_ntk
    >>> [round(float(v), 6) for v in kappa_values(two_layer_relu_ntk, 2)]
    [1.0, 0.159155, 0.0]
    """
    b = get_backend(backend)
    t = hypercube_inner_products(d, backend=b)
    s = b.sqrt(b.clip(1 - t * t, 0.0, 1.0))
    e1, e2 = b.asarray(np.array([[1.0, 0.0]])), b.asarray(np.array([[0.0, 1.0]]))
    row = kernel(e1, t[:, None] * e1 + s[:, None] * e2, backend=b)[0]
    return [row[j] for j in range(d + 1)]


def gram_spectrum(kernel: Callable[..., Any], d: int,
                  backend: str | Backend | None = None) -> list[Any]:
    """The eigenvalues of the integral operator ``(T f)(x) = E_{x'}[K(x, x') f(x')]`` on
    ``{±1}^d/√d``, i.e. of the explicit Gram matrix ``K`` of all ``2^d`` points divided by
    ``2^d``, ascending, computed on ``backend`` (its ``eigvalsh``): the independent side
    of :func:`predicted_spectrum`.
    """
    b = get_backend(backend)
    X = hypercube(d, backend=b)
    values = b.eigvalsh(kernel(X, backend=b)) / b.scalar(2**d)
    return [values[i] for i in range(2**d)]


def predicted_spectrum(lam: Sequence[Any], d: int) -> list[Any]:
    """The Walsh prediction of :func:`gram_spectrum`: each ``λ_k`` repeated ``C(d, k)``
    times, ascending.

    >>> predicted_spectrum([0.5, 0.25, 0.0], 2)
    [0.0, 0.25, 0.25, 0.5]
    """
    if len(lam) != d + 1:
        raise InvalidArgument(f"lam needs d + 1 = {d + 1} values (one per degree), "
                              f"got {len(lam)}")
    return sorted((v for k in range(d + 1) for v in [lam[k]] * comb(d, k)), key=float)


#: The symbols of :func:`trace_identity`: the dimension d and κ_j = κ(t_j) as a function
#: of the distance j.
D = sp.Symbol("d", integer=True, positive=True)
KAPPA = sp.Function("kappa")
_J, _K = sp.symbols("j k", integer=True, nonnegative=True)


def trace_identity(d: Any = D) -> sp.Eq:
    r"""The trace identity ``Σ_{k=0}^{d} C(d, k) λ_k = κ(1)``, ``λ_k = 2^{-d} Σ_j κ_j
    K_j(k; d)``, as an unevaluated sympy relation (``kappa(j)`` stands for ``κ(t_j)``,
    ``kappa(0) = κ(1)``). With the default symbolic :data:`D` it is the statement for every
    d; at an integer d its instance (the same expression with d substituted).
    """
    lam = sp.Sum(KAPPA(_J) * Krawtchouk(_J, _K, d), (_J, 0, d)) / 2**d
    return sp.Eq(sp.Sum(sp.binomial(d, _K) * lam, (_K, 0, d)), KAPPA(0), evaluate=False)


def trace_identity_derivation(d: int) -> Derivation:
    """The trace identity at one ``d`` (an *instance*, ``instance={D: d}``) for a generic
    κ: sympy evaluates the finite sums, and the step is spot-checked at 50 digits with the
    witnesses κ_j = κ(t_j) of the two-layer ReLU NTK and two other sequences."""
    d = _dimension(d)
    goal = trace_identity(d)
    x = sp.Symbol("x", real=True)
    t = 1 - 2 * x / d
    relu_ntk = (2 * t * (sp.pi - sp.acos(t)) + sp.sqrt(1 - t**2)) / (2 * sp.pi)
    step = Step(goal.lhs, "==", goal.rhs,
                "the finite sums evaluated: Σ_k C(d,k) K_j(k; d) = 2^d [j = 0] "
                "(Krawtchouk orthogonality), so only κ_0 = κ(1) survives")
    return Derivation(f"trace identity of the Walsh eigenvalues at d = {d}", (step,),
                      goal=goal, instance={D: d},
                      witnesses={KAPPA: [sp.Lambda(x, relu_ntk), sp.Lambda(x, sp.exp(-x)),
                                         sp.Lambda(x, x**2 - 3 * x + 1)]})


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
