"""The mpmath backend: numpy object arrays of ``mpf`` at a chosen precision.

Used for identities at 50 digits, spot checks of derivations, small networks,
and as the referee that re-checks a near-boundary numeric failure. Arrays are
numpy object arrays, so ``@``, ``+`` and ``sum`` work unchanged; elementwise
functions are mapped with ``numpy.frompyfunc``. Precision is set only inside
:meth:`MpmathBackend.context`, and restored after; the linear algebra (mpmath
matrices: ``mp.cholesky``, ``mp.lu_solve``, ``mp.eigsy``) sets it itself, so its
results carry the backend's digits whatever the caller's ``mp.dps``. These are
O(n³) Python loops: for small matrices (n up to a few dozen).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import mpmath
import numpy as np

from ..errors import InvalidArgument, SingularKernelError
from .base import Backend


def _vec(fn: Any) -> Any:
    ufunc = np.frompyfunc(fn, 1, 1)

    def apply(x: Any) -> Any:
        out = ufunc(x)
        return out if isinstance(out, np.ndarray) else out

    return apply


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + mpmath.exp(-z))


class MpmathBackend(Backend):
    """Arbitrary precision (default 50 significant digits)."""

    name = "mpmath"

    def __init__(self, dtype: str = "dps50") -> None:
        digits = dtype.removeprefix("dps")
        if not digits.isdigit() or int(digits) < 16:
            raise InvalidArgument(
                f"mpmath dtype must be 'dps<digits>' with at least 16 digits, got {dtype!r}")
        self.digits = int(digits)
        self.dtype = f"dps{self.digits}"

    @contextlib.contextmanager
    def context(self) -> Iterator[Backend]:
        with mpmath.workdps(self.digits):
            yield self

    def asarray(self, x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.dtype == object:
            return x
        if isinstance(x, (mpmath.mpf, int)):
            return mpmath.mpf(x)
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 0:
            return mpmath.mpf(float(arr))
        out = np.empty(arr.shape, dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(arr.reshape(-1)):
            flat[i] = mpmath.mpf(float(v))
        return out

    def scalar(self, value: float | str) -> Any:
        return mpmath.mpf(value)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return np.asarray(np.vectorize(float, otypes=[np.float64])(x)) if x.size else \
                np.zeros(x.shape)
        return np.asarray(float(x))

    exp = staticmethod(_vec(mpmath.exp))
    log = staticmethod(_vec(mpmath.log))
    log1p = staticmethod(_vec(mpmath.log1p))
    tanh = staticmethod(_vec(mpmath.tanh))
    erf = staticmethod(_vec(mpmath.erf))
    sqrt = staticmethod(_vec(mpmath.sqrt))
    abs = staticmethod(_vec(abs))
    sin = staticmethod(_vec(mpmath.sin))
    cos = staticmethod(_vec(mpmath.cos))
    sigmoid = staticmethod(_vec(_sigmoid))

    def arccos(self, x: Any) -> Any:
        return _vec(lambda v: mpmath.acos(max(min(v, 1), -1)))(x)

    def arcsin(self, x: Any) -> Any:
        return _vec(lambda v: mpmath.asin(max(min(v, 1), -1)))(x)

    def atan2(self, y: Any, x: Any) -> Any:
        return np.frompyfunc(mpmath.atan2, 2, 1)(y, x)

    def where(self, cond: Any, a: Any, c: Any) -> Any:
        cond = np.asarray(cond, dtype=bool)
        a_b, c_b = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(c, dtype=object))
        out = np.where(cond, a_b, c_b)
        return out if out.ndim else out.item()

    def maximum(self, x: Any, y: Any) -> Any:
        return np.frompyfunc(max, 2, 1)(x, y)

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        return _vec(lambda v: max(min(v, hi), lo))(x)

    def sum(self, x: Any, axis: int | None = None) -> Any:
        if not isinstance(x, np.ndarray):
            return x
        if axis is None:
            return mpmath.fsum(x.reshape(-1))
        return np.sum(x, axis=axis)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return self.asarray(np.zeros(shape))

    def eye(self, n: int) -> Any:
        return self.asarray(np.eye(n))

    def pi(self) -> Any:
        return mpmath.pi

    # -- linear algebra ----------------------------------------------------------
    def _objects(self, x: Any) -> np.ndarray:
        """``x`` as an object array of mpf (floats converted exactly)."""
        out = self.asarray(x)
        return out if isinstance(out, np.ndarray) else np.array(out, dtype=object)

    @staticmethod
    def _from_matrix(M: Any) -> np.ndarray:
        return np.array(M.tolist(), dtype=object)

    def cholesky(self, A: Any) -> Any:
        A = self._objects(A)
        n = self._square("cholesky", A)
        if n == 0:
            return A.copy()
        with mpmath.workdps(self.digits):
            # mp.cholesky's default tolerance is an absolute eps; make it relative
            scale = max(abs(A[j, j]) for j in range(n))
            tol = mpmath.eps * scale if scale > 0 else mpmath.eps

            def factor(m: int) -> Any:
                L = mpmath.cholesky(mpmath.matrix(A[:m, :m].tolist()), tol=tol)
                # NaN passes mp.cholesky's test (s < tol is False): count it as a failure
                if not all(mpmath.isfinite(L[j, j]) for j in range(m)):
                    raise ValueError("matrix is not positive-definite")
                return L

            try:
                return self._from_matrix(factor(n))
            except ValueError:
                # mp.cholesky does not say which pivot failed: bisect on the leading
                # blocks (pivot j depends on the leading (j+1) x (j+1) block only)
                good, bad = 0, n
                while bad - good > 1:
                    mid = (good + bad) // 2
                    try:
                        factor(mid)
                        good = mid
                    except ValueError:
                        bad = mid
                raise self._not_positive_definite(A, good) from None

    def solve(self, A: Any, B: Any) -> Any:
        A, B = self._objects(A), self._objects(B)
        n = self._square("solve", A)
        vector = self._rhs("solve", n, B)
        B2 = B.reshape(n, 1) if vector else B
        X = np.empty(B2.shape, dtype=object)
        with mpmath.workdps(self.digits):
            M = mpmath.matrix(A.tolist())
            try:  # one mp.lu_solve (10 guard bits, LU with pivoting) per column
                for j in range(B2.shape[1]):
                    X[:, j] = self._from_matrix(
                        mpmath.lu_solve(M, mpmath.matrix(B2[:, j].tolist()))).reshape(n)
            except ZeroDivisionError:
                raise SingularKernelError(
                    f"solve: the {n} x {n} matrix is numerically singular (an LU pivot below "
                    f"eps · ||A||₁ at {self.digits} digits)") from None
        return X.reshape(n) if vector else X

    def solve_triangular(self, L: Any, B: Any, lower: bool = True,
                         trans: bool = False) -> Any:
        L, B = self._objects(L), self._objects(B)
        n = self._square("solve_triangular", L)
        vector = self._rhs("solve_triangular", n, B)
        zero = [i for i in range(n) if L[i, i] == 0]
        if zero:
            raise self._zero_diagonal(n, zero[0])
        M = L.T if trans else L
        upper = lower == trans              # Lᵀ of a lower factor is upper
        X = np.array(B.reshape(n, 1) if vector else B, dtype=object, copy=True)
        with mpmath.workdps(self.digits):
            for i in (range(n - 1, -1, -1) if upper else range(n)):
                rest = slice(i + 1, n) if upper else slice(0, i)
                X[i, :] = (X[i, :] - M[i, rest] @ X[rest, :]) / M[i, i]
        return X.reshape(n) if vector else X

    def eigvalsh(self, A: Any) -> Any:
        A = self._objects(A)
        n = self._square("eigvalsh", A)
        if n == 0:
            return np.empty(0, dtype=object)
        S = np.where(np.tri(n, dtype=bool), A, A.T)     # the lower triangle, mirrored
        with mpmath.workdps(self.digits):
            E = mpmath.eigsy(mpmath.matrix(S.tolist()), eigvals_only=True)
            return np.array(sorted(E[i] for i in range(n)), dtype=object)
