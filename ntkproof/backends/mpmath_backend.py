"""The mpmath backend: numpy object arrays of ``mpf`` at a chosen precision.

Used for identities at 50 digits, spot checks of derivations, small networks,
and as the referee that re-checks a near-boundary numeric failure. Arrays are
numpy object arrays, so ``@``, ``+`` and ``sum`` work unchanged; elementwise
functions are mapped with ``numpy.frompyfunc``. Precision is set only inside
:meth:`MpmathBackend.context`, and restored after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import mpmath
import numpy as np

from ..errors import InvalidArgument
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
