"""The backend interface: one set of array operations, three implementations.

A formula in ntkproof is written once against :class:`Backend` (``b.exp(x)``,
``b.matmul(a, c)``, ...) and runs unchanged on numpy (float64), torch (float64 or
float32, CPU or CUDA) and mpmath (numpy object arrays of ``mpf`` at a chosen
number of digits). Random draws are always made in numpy from the case's seed
and moved onto the backend with :meth:`Backend.asarray`, so every backend sees
the same inputs.

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
        from ..errors import unknown_name

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
    def arccos(self, x: Any) -> Any: raise NotImplementedError
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

    def all_finite(self, x: Any) -> bool:
        return bool(np.all(np.isfinite(self.to_numpy(x))))
