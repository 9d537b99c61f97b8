"""The numpy backend (float64): the default, with no optional dependency."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from .base import Backend


class NumpyBackend(Backend):
    """numpy float64 arrays; erf from scipy.special."""

    name = "numpy"

    def __init__(self, dtype: str = "float64") -> None:
        if dtype != "float64":
            from ..errors import InvalidArgument

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
