"""Input checks shared by the library modules (private).

Each helper raises one of :mod:`ntkproof.errors` with a one-line message that names
the argument, the value received and what is expected. They are cheap: a shape
check reads ``.shape``; a finiteness check is one ``isfinite`` pass with the array's
own library (numpy for numpy arrays, torch for tensors, ``mpmath.isfinite`` per
element for mpmath object arrays), and the slower detail for the message (count,
first bad row) is only computed when the check fails.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from typing import Any

import mpmath
import numpy as np

from ..errors import InvalidArgument, NonFiniteError, ShapeError

__all__ = ["int_at_least", "positive_int", "non_negative_int", "real_number", "shape_of",
           "all_finite", "check_finite", "check_targets", "check_params", "check_square",
           "check_symmetric", "step_indices"]


# -- scalars -------------------------------------------------------------------------
def int_at_least(name: str, value: Any, minimum: int, what: str = "") -> int:
    """``value`` as an ``int`` >= ``minimum``; integral floats (``4.0``) are accepted,
    bools, strings and fractions are not."""
    expected = {0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer >= {minimum}")
    iv: int | None = None
    if not isinstance(value, (bool, str, bytes)):
        try:
            iv = operator.index(value)
        except TypeError:
            try:
                fv = float(value)
            except (TypeError, ValueError):
                fv = float("nan")
            iv = int(fv) if np.isfinite(fv) and fv.is_integer() else None
    if iv is None or iv < minimum:
        raise InvalidArgument(f"{name} must be {expected}{what}, got {value!r}")
    return iv


def positive_int(name: str, value: Any, what: str = "") -> int:
    return int_at_least(name, value, 1, what)


def non_negative_int(name: str, value: Any, what: str = "") -> int:
    return int_at_least(name, value, 0, what)


def real_number(name: str, value: Any, *, positive: bool = False,
                non_negative: bool = False) -> float:
    """``float(value)``, finite (and > 0 or >= 0 when asked); InvalidArgument otherwise."""
    kind = " and > 0" if positive else " and >= 0" if non_negative else ""
    try:
        fv = float(value) if not isinstance(value, (bool, bytes)) else float("nan")
    except (TypeError, ValueError):
        fv = float("nan")
    if not np.isfinite(fv) or (positive and fv <= 0) or (non_negative and fv < 0):
        raise InvalidArgument(f"{name} must be a finite number{kind}, got {value!r}")
    return fv



def step_indices(name: str, values: Iterable[Any], steps: int) -> tuple[int, ...]:
    """Step indices in ``0..steps``; InvalidArgument naming the ones outside."""
    out = tuple(non_negative_int(f"{name} entry", k) for k in values)
    bad = sorted(k for k in out if k > steps)
    if bad:
        raise InvalidArgument(f"{name} {bad} lie outside 0..{steps} (steps={steps})")
    return out


# -- arrays --------------------------------------------------------------------------
def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of a numpy array, torch tensor, mpmath object array or nested list."""
    if isinstance(x, np.ndarray):
        return x.shape
    return tuple(int(s) for s in (x.shape if hasattr(x, "shape") else np.shape(x)))


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _nonfinite_mask(x: Any) -> np.ndarray:
    """Boolean numpy mask of the NaN/inf entries of ``x`` (used on the failure path)."""
    if _is_torch(x):
        import torch  # noqa: PLC0415 - optional dependency (x is a tensor, so it is loaded)

        return (~torch.isfinite(x)).cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == object:
        return np.vectorize(lambda v: not mpmath.isfinite(v), otypes=[bool])(arr) \
            if arr.size else np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in "biu":
        return np.zeros(arr.shape, dtype=bool)
    return ~np.isfinite(arr)


def all_finite(x: Any) -> bool:
    """True when no entry of ``x`` is NaN or infinite (one pass, in x's own library)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        # one reduction: a NaN or inf entry makes the sum non-finite; a non-finite sum of
        # finite entries (overflow) falls through to the exact check
        return bool(np.isfinite(x.sum())) or bool(np.isfinite(x).all())
    if _is_torch(x):
        import torch  # noqa: PLC0415 - optional dependency (x is a tensor, so it is loaded)

        return bool(torch.isfinite(x).all())
    return not bool(_nonfinite_mask(x).any())


def check_finite(name: str, x: Any, fix: str = "drop or impute those entries") -> None:
    """NonFiniteError naming ``name``, the count and the first bad row when ``x`` holds
    NaN or infinity."""
    if all_finite(x):
        return
    mask = _nonfinite_mask(x)
    where = ""
    if mask.ndim:
        first = np.argwhere(mask)[0]
        where = f" (first in row {int(first[0])})" if mask.ndim <= 2 else \
            f" (first at index {tuple(int(i) for i in first)})"
    raise NonFiniteError(f"{name} holds {int(mask.sum())} NaN/inf entries{where}; "
                         f"finite values are needed: {fix}")


def check_targets(y: Any, X: Any, backend: Any, name: str = "y") -> np.ndarray:
    """``y`` as a finite numpy float64 array of shape (n,) or (n, 1), n = rows of ``X``."""
    n = shape_of(X)[0]
    y_np = np.asarray(backend.to_numpy(y), dtype=np.float64)
    if y_np.shape not in ((n,), (n, 1)):
        raise ShapeError(f"{name} must have shape ({n},) to match X of shape {shape_of(X)}, "
                         f"got {y_np.shape}")
    check_finite(name, y_np, "drop or impute those rows")
    return y_np


def check_params(params: Any, expected: Mapping[str, tuple[int, ...]], *, name: str = "params",
                 keys: Iterable[str] | None = None) -> None:
    """``params`` must map every name of ``keys`` (default: all of ``expected``) to an array
    of the shape in ``expected``; extra names are ignored."""
    need = tuple(expected if keys is None else keys)
    if not isinstance(params, Mapping):
        raise InvalidArgument(f"{name} must be a dict mapping the names {list(need)} to "
                              f"arrays, got {type(params).__name__}")
    missing = [k for k in need if k not in params]
    if missing:
        raise InvalidArgument(
            f"{name} lacks {missing}; expected the keys {list(need)} (shapes "
            f"{', '.join(f'{k}: {expected[k]}' for k in need)}), e.g. those of model.params0")
    for k in need:
        shape = shape_of(params[k])
        if shape != tuple(expected[k]):
            raise ShapeError(
                f"{name}[{k!r}] has shape {shape}, expected {tuple(expected[k])} (the shape of "
                f"model.params0[{k!r}]); were these parameters made for another width or "
                "input dimension?")


def check_square(name: str, A: Any) -> tuple[int, ...]:
    shape = shape_of(A)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{name} must be a square (n, n) matrix, got shape {shape}")
    return shape


def _max_abs(x: Any) -> float:
    if _is_torch(x):
        return float(x.abs().max()) if x.numel() else 0.0
    arr = np.asarray(x)
    if arr.dtype == object:
        arr = np.vectorize(float, otypes=[np.float64])(arr) if arr.size else np.zeros(arr.shape)
    return float(np.max(np.abs(arr))) if arr.size else 0.0


def check_symmetric(name: str, A: Any, *, eps: float = 2.0**-52) -> None:
    """ShapeError unless square; InvalidArgument when ``max |A - Aᵀ|`` exceeds
    ``max(sqrt(eps), 1e-8) · max |A|`` (``eps``: the unit roundoff of A's type)."""
    check_square(name, A)
    gap, scale = _max_abs(A - A.T), _max_abs(A)
    if gap > max(float(np.sqrt(eps)), 1e-8) * max(scale, 1e-300):
        raise InvalidArgument(f"{name} is not symmetric (max |K - Kᵀ| = {gap:.3g}, max |K| = "
                              f"{scale:.3g}); pass a kernel matrix, or symmetrise it with "
                              "(K + K.T) / 2")
