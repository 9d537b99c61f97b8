"""The backend interface: one set of array operations, three implementations.

A formula in ntkproof is written once against :class:`Backend` (``b.exp(x)``,
``b.matmul(a, c)``, ...) and runs unchanged on numpy (float64), torch (float64 or
float32, CPU or CUDA) and mpmath (numpy object arrays of ``mpf`` at a chosen
number of digits). Random draws are always made in numpy from the case's seed
and moved onto the backend with :meth:`Backend.asarray`, so every backend sees
the same inputs.

Linear algebra (:meth:`Backend.cholesky`, :meth:`Backend.solve`,
:meth:`Backend.solve_triangular`, :meth:`Backend.eigvalsh`) follows one contract
on every backend: inputs and results are arrays of the backend's own type and
precision (numpy float64; torch keeps the dtype and device of its inputs; mpmath
works at the backend's digits, whatever the caller's ``mp.dps``); a right-hand side
is ``(n,)`` or ``(n, k)`` and the result has its shape; symmetric inputs are read
from their lower triangle; a matrix that cannot be factorised raises
:class:`~ntkproof.errors.SingularKernelError` naming its size (and, for Cholesky,
the failing pivot), never returns NaN. Each result is accurate to the backend's
``tol.rtol`` relative to the size of the data (times the condition number for
solves), as every other operation.

Tolerances are data: :data:`TOLERANCES` below, keyed by backend and dtype, each
with the reason for its size. A claim that needs more adds declared slack; it
never writes an inline number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ShapeError, SingularKernelError, unknown_name

__all__ = ["Backend", "Tolerance", "TOLERANCES", "tolerance_for"]


@dataclass(frozen=True)
class Tolerance:
    """Relative tolerance of one backend/dtype, with the reason for its size.

    An identity ``lhs == rhs`` holds when ``|lhs - rhs| <= rtol * scale``, where
    ``scale`` is the magnitude of the terms that were added or cancelled to
    form lhs and rhs (by default ``max(|lhs|, |rhs|)``). A bound ``lhs <= rhs``
    holds when ``lhs - rhs <= rtol * scale``.
    """

    rtol: float
    eps: float
    reason: str

    def scaled(self, factor: float) -> Tolerance:
        return Tolerance(self.rtol * factor, self.eps, self.reason + f" (x{factor:g} declared slack)")


#: The tolerance table. ``eps`` is the unit roundoff of the type.
TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("numpy", "float64"): Tolerance(
        1e-10, 2.0**-52, "float64: about 5e5 ulps, room for roundoff accumulated over sums and "
        "products of up to 1e6 terms and a 1e3 condition number"),
    ("torch", "float64"): Tolerance(
        1e-10, 2.0**-52, "float64: same budget as numpy float64"),
    ("torch", "float32"): Tolerance(
        1e-4, 2.0**-23, "float32: about 800 ulps, room for sums of up to 1e4 terms"),
}


def tolerance_for(backend: str, dtype: str) -> Tolerance:
    """Look up the tolerance of ``backend``/``dtype``; mpmath scales with its digits."""
    if backend == "mpmath":
        digits = int(dtype.removeprefix("dps"))
        return Tolerance(
            10.0 ** -(digits - 10), 10.0 ** -digits,
            f"mpmath at {digits} digits: 10 digits kept for roundoff in quadrature and sums")
    try:
        return TOLERANCES[(backend, dtype)]
    except KeyError:
        raise unknown_name("backend/dtype", f"{backend}:{dtype}",
                           [f"{b}:{d}" for b, d in TOLERANCES] + ["mpmath:dps50"]) from None


class Backend:
    """Array operations on one numeric type. Subclasses fill in the operations.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"torch"`` or ``"mpmath"``.
    dtype : str
        ``"float64"``, ``"float32"`` or ``"dps<digits>"`` for mpmath.
    tol : Tolerance
        The row of :data:`TOLERANCES` for this backend and dtype.
    """

    name: str = "abstract"
    dtype: str = "float64"

    @property
    def tol(self) -> Tolerance:
        return tolerance_for(self.name, self.dtype)

    @property
    def spec(self) -> str:
        """The string that selects this backend again, e.g. ``torch:float32``."""
        return f"{self.name}:{self.dtype}"

    def __repr__(self) -> str:
        return f"<ntkproof backend {self.spec}>"

    @contextlib.contextmanager
    def context(self) -> Iterator[Backend]:
        """Scope precision settings (mpmath digits) to a block; restores them after."""
        yield self

    # -- conversion -------------------------------------------------------
    def asarray(self, x: Any) -> Any:
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:
        """Convert to a numpy float64 array (mpmath values are rounded)."""
        raise NotImplementedError

    def to_float(self, x: Any) -> float:
        return float(np.asarray(self.to_numpy(x)).reshape(()))

    def scalar(self, value: float | str) -> Any:
        """A scalar of this backend's type (strings keep full mpmath precision)."""
        return self.asarray(float(value))

    # -- elementwise ------------------------------------------------------
    def exp(self, x: Any) -> Any: raise NotImplementedError
    def log(self, x: Any) -> Any: raise NotImplementedError
    def log1p(self, x: Any) -> Any: raise NotImplementedError
    def tanh(self, x: Any) -> Any: raise NotImplementedError
    def erf(self, x: Any) -> Any: raise NotImplementedError
    def sqrt(self, x: Any) -> Any: raise NotImplementedError
    def abs(self, x: Any) -> Any: raise NotImplementedError
    def sin(self, x: Any) -> Any: raise NotImplementedError
    def cos(self, x: Any) -> Any: raise NotImplementedError
    def arccos(self, x: Any) -> Any:
        """arccos in [0, π]; arguments are clipped to [-1, 1] first, so roundoff just
        past ±1 gives 0 or π instead of NaN."""
        raise NotImplementedError

    def arcsin(self, x: Any) -> Any:
        """arcsin in [-π/2, π/2]; arguments are clipped to [-1, 1] first, as in
        :meth:`arccos`."""
        raise NotImplementedError

    def atan2(self, y: Any, x: Any) -> Any:
        """The angle of the point (x, y) in (-π, π], elementwise with broadcasting
        (numpy's ``arctan2``). mpmath has no signed zero: ``atan2(-0.0, -1)`` is π
        there, -π on numpy and torch."""
        raise NotImplementedError

    def sigmoid(self, x: Any) -> Any: raise NotImplementedError
    def where(self, cond: Any, a: Any, c: Any) -> Any: raise NotImplementedError
    def maximum(self, x: Any, y: Any) -> Any: raise NotImplementedError
    def clip(self, x: Any, lo: float, hi: float) -> Any: raise NotImplementedError

    def relu(self, x: Any) -> Any:
        """max(x, 0) elementwise."""
        return self.where(x > 0, x, 0 * x)

    def step(self, x: Any) -> Any:
        """The Heaviside step 1[x > 0] (0 at 0, as autograd's ReLU derivative)."""
        return self.where(x > 0, 0 * x + 1, 0 * x)

    # -- reductions and linear algebra -----------------------------------
    def sum(self, x: Any, axis: int | None = None) -> Any: raise NotImplementedError
    def matmul(self, a: Any, c: Any) -> Any: return a @ c
    def transpose(self, a: Any) -> Any: return a.T
    def zeros(self, shape: tuple[int, ...]) -> Any: raise NotImplementedError
    def eye(self, n: int) -> Any: raise NotImplementedError
    def pi(self) -> Any: raise NotImplementedError

    def cholesky(self, A: Any) -> Any:
        """The lower-triangular factor L with ``L Lᵀ = A`` (A symmetric, (n, n); only its
        lower triangle is read).

        Raises :class:`~ntkproof.errors.SingularKernelError`, naming n, the first pivot
        that is not positive and its value, when A is not positive definite in the
        backend's precision (mpmath: a pivot below ``eps · max diag``)."""
        raise NotImplementedError

    def solve(self, A: Any, B: Any) -> Any:
        """X with ``A X = B`` for a general square A (LU with partial pivoting); B is
        (n,) or (n, k). Raises :class:`~ntkproof.errors.SingularKernelError` when A is
        (numerically) singular."""
        raise NotImplementedError

    def solve_triangular(self, L: Any, B: Any, lower: bool = True,
                         trans: bool = False) -> Any:
        """X with ``op(L) X = B`` by substitution, ``op(L) = Lᵀ`` when ``trans``. Only
        the triangle named by ``lower`` is read; B is (n,) or (n, k). An exactly zero
        diagonal entry raises :class:`~ntkproof.errors.SingularKernelError` naming it."""
        raise NotImplementedError

    def eigvalsh(self, A: Any) -> Any:
        """The eigenvalues of the symmetric (n, n) A (lower triangle read), ascending,
        shape (n,)."""
        raise NotImplementedError

    def all_finite(self, x: Any) -> bool:
        return bool(np.all(np.isfinite(self.to_numpy(x))))

    # -- helpers for the implementations ------------------------------------------
    @staticmethod
    def _square(name: str, A: Any) -> int:
        shape = tuple(int(s) for s in np.shape(A))
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ShapeError(f"{name} needs a square (n, n) matrix, got shape {shape}")
        return shape[0]

    @staticmethod
    def _rhs(name: str, n: int, B: Any) -> bool:
        """Check that B is (n,) or (n, k); True when it is a vector."""
        shape = tuple(int(s) for s in np.shape(B))
        if len(shape) not in (1, 2) or shape[0] != n:
            raise ShapeError(f"{name}: the right-hand side must have shape ({n},) or ({n}, k) "
                             f"for an ({n}, {n}) matrix, got {shape}")
        return len(shape) == 1

    @staticmethod
    def _zero_diagonal(n: int, i: int) -> SingularKernelError:
        return SingularKernelError(
            f"solve_triangular: the {n} x {n} triangular matrix is singular (diagonal entry "
            f"{i} of 0..{n - 1} is zero)")

    def _not_positive_definite(self, A: Any, k: int) -> SingularKernelError:
        """The error for a Cholesky factorisation of the (n, n) A that failed at the
        0-based pivot k; the pivot's value is the Schur complement of the leading
        k × k block, recomputed here (failure path only)."""
        n = self._square("cholesky", A)
        try:
            if k == 0:
                value = self.to_float(A[0, 0])
            else:
                ell = self.solve_triangular(self.cholesky(A[:k, :k]), A[:k, k])
                value = self.to_float(A[k, k] - self.sum(ell * ell))
        except SingularKernelError:  # roundoff moved the failure to an earlier pivot
            value = float("nan")
        return SingularKernelError(
            f"cholesky of the {n} x {n} matrix failed: it is not positive definite in "
            f"{self.spec} (pivot {k + 1} of {n}, the Schur complement of the leading "
            f"{k} x {k} block, is {value:.6g}); add a ridge to the diagonal or "
            "remove linearly dependent rows")
