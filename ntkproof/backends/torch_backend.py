"""The torch backend: float64 by default, float32 selectable; CUDA when present.

Importing this module imports torch; ``import ntkproof`` does not. The device is
``cuda`` when ``torch.cuda.is_available()`` and ``NTKPROOF_DEVICE`` is unset,
otherwise the value of ``NTKPROOF_DEVICE`` (default ``cpu``). Linear algebra is
``torch.linalg`` and keeps the dtype and device of its tensor inputs (other inputs
are converted to the backend's dtype and device first).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import InvalidArgument, MissingDependency, SingularKernelError
from .base import Backend

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise MissingDependency(
        "the torch backend needs PyTorch, which is not installed; "
        "install the extra with: pip install 'ntkproof[torch]'") from exc

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def default_device() -> str:
    env = os.environ.get("NTKPROOF_DEVICE")
    if env:
        return env
    return "cuda" if torch.cuda.is_available() else "cpu"


def _checked_device(device: str | None) -> Any:
    """``device`` (or the default, :func:`default_device`) as a ``torch.device`` that
    this torch can use; a clear error naming where the name came from otherwise."""
    name = device or default_device()
    origin = (f"device {name!r}" if device else
              f"NTKPROOF_DEVICE={name!r}" if os.environ.get("NTKPROOF_DEVICE") else repr(name))
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise InvalidArgument(f"torch backend: {origin} is not a torch device name (e.g. "
                              "'cpu', 'cuda', 'cuda:1', 'mps')") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidArgument(
                f"torch backend: {origin} asks for CUDA, but this torch ({torch.__version__}) "
                "sees no CUDA GPU; unset NTKPROOF_DEVICE or set it to 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InvalidArgument(f"torch backend: {origin}, but only "
                                  f"{torch.cuda.device_count()} CUDA device(s) are visible")
    return dev


class TorchBackend(Backend):
    """torch tensors of the chosen dtype on the chosen device."""

    name = "torch"

    def __init__(self, dtype: str = "float64", device: str | None = None) -> None:
        if dtype not in _DTYPES:
            raise InvalidArgument(
                f"torch backend dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        self.dtype = dtype
        self.torch_dtype = _DTYPES[dtype]
        self.device = _checked_device(device)

    def __repr__(self) -> str:
        return f"<ntkproof backend {self.spec} on {self.device}>"

    def asarray(self, x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return x.to(dtype=self.torch_dtype, device=self.device)
        return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=self.torch_dtype,
                               device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, torch.Tensor):
            return x.detach().to("cpu", torch.float64).numpy()
        return np.asarray(x, dtype=np.float64)

    def _t(self, x: Any) -> Any:
        return x if isinstance(x, torch.Tensor) else self.asarray(x)

    def exp(self, x: Any) -> Any: return torch.exp(self._t(x))
    def log(self, x: Any) -> Any: return torch.log(self._t(x))
    def log1p(self, x: Any) -> Any: return torch.log1p(self._t(x))
    def tanh(self, x: Any) -> Any: return torch.tanh(self._t(x))
    def erf(self, x: Any) -> Any: return torch.erf(self._t(x))
    def sqrt(self, x: Any) -> Any: return torch.sqrt(self._t(x))
    def abs(self, x: Any) -> Any: return torch.abs(self._t(x))
    def sin(self, x: Any) -> Any: return torch.sin(self._t(x))
    def cos(self, x: Any) -> Any: return torch.cos(self._t(x))
    def sigmoid(self, x: Any) -> Any: return torch.sigmoid(self._t(x))

    def arccos(self, x: Any) -> Any:
        return torch.arccos(torch.clamp(self._t(x), -1.0, 1.0))

    def arcsin(self, x: Any) -> Any:
        return torch.arcsin(torch.clamp(self._t(x), -1.0, 1.0))

    def atan2(self, y: Any, x: Any) -> Any:
        return torch.atan2(self._t(y), self._t(x))

    def where(self, cond: Any, a: Any, c: Any) -> Any:
        return torch.where(self._t(cond) > 0 if not isinstance(cond, torch.Tensor) else cond,
                           self._t(a), self._t(c))

    def relu(self, x: Any) -> Any:
        return torch.relu(self._t(x))

    def step(self, x: Any) -> Any:
        t = self._t(x)
        return (t > 0).to(t.dtype)

    def maximum(self, x: Any, y: Any) -> Any:
        return torch.maximum(self._t(x), self._t(y))

    def clip(self, x: Any, lo: float, hi: float) -> Any:
        return torch.clamp(self._t(x), lo, hi)

    def sum(self, x: Any, axis: int | None = None) -> Any:
        return torch.sum(self._t(x)) if axis is None else torch.sum(self._t(x), dim=axis)

    def zeros(self, shape: tuple[int, ...]) -> Any:
        return torch.zeros(shape, dtype=self.torch_dtype, device=self.device)

    def eye(self, n: int) -> Any:
        return torch.eye(n, dtype=self.torch_dtype, device=self.device)

    def pi(self) -> Any:
        return float(np.pi)

    # -- linear algebra ----------------------------------------------------------
    def cholesky(self, A: Any) -> Any:
        A = self._t(A)
        self._square("cholesky", A)
        L, info = torch.linalg.cholesky_ex(A)
        k = int(info)  # LAPACK/cuSOLVER: the order of the first leading minor that fails
        if k > 0:
            raise self._not_positive_definite(A, k - 1)
        return L

    def solve(self, A: Any, B: Any) -> Any:
        A, B = self._t(A), self._t(B)
        n = self._square("solve", A)
        self._rhs("solve", n, B)
        X, info = torch.linalg.solve_ex(A, B)
        if int(info) > 0:
            raise SingularKernelError(
                f"solve: the {n} x {n} matrix is singular (LU pivot {int(info)} is exactly "
                "zero)")
        return X

    def solve_triangular(self, L: Any, B: Any, lower: bool = True,
                         trans: bool = False) -> Any:
        L, B = self._t(L), self._t(B)
        vector = self._rhs("solve_triangular", self._square("solve_triangular", L), B)
        zero = torch.nonzero(torch.diagonal(L) == 0)
        if zero.numel():  # trsm would divide by it silently
            raise self._zero_diagonal(L.shape[0], int(zero[0, 0]))
        B2 = B.unsqueeze(-1) if vector else B
        # Lᵀ of a lower factor is upper (and the reverse)
        X = torch.linalg.solve_triangular(L.mT if trans else L, B2, upper=lower == trans)
        return X.squeeze(-1) if vector else X

    def eigvalsh(self, A: Any) -> Any:
        A = self._t(A)
        self._square("eigvalsh", A)
        return torch.linalg.eigvalsh(A)
