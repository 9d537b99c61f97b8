"""The numpy backend (float64): the default, with no optional dependency.

Linear algebra is LAPACK through numpy and scipy: ``potrf`` (Cholesky), ``gesv``
(solve), ``trtrs`` (triangular solve), ``syevd`` (eigenvalues).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
from scipy import special

from ..errors import InvalidArgument, SingularKernelError
from .base import Backend


class NumpyBackend(Backend):
    """numpy float64 arrays; erf from scipy.special."""

    name = "numpy"

    def __init__(self, dtype: str = "float64") -> None:
        if dtype != "float64":
            raise InvalidArgument(
                f"numpy backend runs in float64 only, got dtype={dtype!r}; "
                "use --backend torch:float32 for single precision")
        self.dtype = dtype

    def asarray(self, x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=np.float64)

    def exp(self, x: Any) -> Any:
        return np.exp(x)

    def log(self, x: Any) -> Any:
        return np.log(x)

    def log1p(self, x: Any) -> Any:
        return np.log1p(x)

    def tanh(self, x: Any) -> Any:
        return np.tanh(x)

    def erf(self, x: Any) -> Any:
        return special.erf(x)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x)

    def abs(self, x: Any) -> Any:
        return np.abs(x)

    def sin(self, x: Any) -> Any:
        return np.sin(x)

    def cos(self, x: Any) -> Any:
        return np.cos(x)

    def sigmoid(self, x: Any) -> Any:
        return special.expit(x)

    def maximum(self, x: Any, y: Any) -> Any:
        return np.maximum(x, y)

    def arccos(self, x: Any) -> Any:
        return np.arccos(np.clip(x, -1.0, 1.0))

    def arcsin(self, x: Any) -> Any:
        return np.arcsin(np.clip(x, -1.0, 1.0))

    def atan2(self, y: Any, x: Any) -> Any:
        return np.arctan2(y, x)

    def relu(self, x: Any) -> Any:
        return np.maximum(x, 0.0)

    def step(self, x: Any) -> Any:
        return (np.asarray(x) > 0).astype(np.float64)

    def where(self, cond: Any, a: Any, c: Any) -> Any:
        return np.where(cond, a, c)

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        return np.clip(x, lo, hi)

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return np.sum(x, axis=axis)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return np.zeros(shape)

    def eye(self, n: int) -> Any:
        return np.eye(n)

    def pi(self) -> Any:
        return np.pi

    # -- linear algebra ----------------------------------------------------------
    def cholesky(self, A: Any) -> Any:
        A = np.asarray(A, dtype=np.float64)
        if self._square("cholesky", A) == 0:
            return A.copy()
        # the LAPACK call of scipy.linalg.cholesky(A, lower=True), with its info kept
        L, info = scipy.linalg.lapack.dpotrf(A, lower=True, clean=True)
        if info > 0:
            raise self._not_positive_definite(A, info - 1)
        if info < 0:  # pragma: no cover - an argument error inside LAPACK
            raise InvalidArgument(f"cholesky: LAPACK dpotrf rejected argument {-info}")
        return L

    def solve(self, A: Any, B: Any) -> Any:
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        n = self._square("solve", A)
        self._rhs("solve", n, B)
        try:
            return np.linalg.solve(A, B)
        except np.linalg.LinAlgError:
            raise SingularKernelError(
                f"solve: the {n} x {n} matrix is singular (LU found an exactly zero pivot)"
            ) from None

    def solve_triangular(self, L: Any, B: Any, lower: bool = True,
                         trans: bool = False) -> Any:
        L = np.asarray(L, dtype=np.float64)
        self._rhs("solve_triangular", self._square("solve_triangular", L), B)
        try:
            return scipy.linalg.solve_triangular(L, B, lower=lower, trans="T" if trans else "N",
                                                 check_finite=False)
        except np.linalg.LinAlgError:  # LAPACK trtrs found an exactly zero diagonal entry
            raise self._zero_diagonal(L.shape[0], int(np.flatnonzero(L.diagonal() == 0)[0])) \
                from None

    def eigvalsh(self, A: Any) -> Any:
        A = np.asarray(A, dtype=np.float64)
        self._square("eigvalsh", A)
        return np.linalg.eigvalsh(A)
