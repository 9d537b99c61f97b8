"""Backend selection: ``get_backend("numpy")``, ``get_backend("torch:float32")``.

A spec is ``name`` or ``name:dtype``: ``numpy`` (float64), ``torch`` (float64,
or ``torch:float32``), ``mpmath`` (50 digits, or ``mpmath:dps80``). The library's
default (a network or kernel built without ``backend=``) is always ``numpy``:
``NTKPROOF_BACKEND`` chooses the backend of a verification run (as ``--backend`` and
``--ntk-backend`` do), never the library's default, so a theorem file runs the same
code whichever way its run's backend was chosen. torch is imported only when the
torch backend is asked for.
"""

from __future__ import annotations

from ..errors import unknown_name
from .base import TOLERANCES, Backend, Tolerance, tolerance_for
from .mpmath_backend import MpmathBackend
from .numpy_backend import NumpyBackend

__all__ = ["Backend", "Tolerance", "TOLERANCES", "tolerance_for", "get_backend",
           "BACKEND_NAMES", "default_backend_spec"]

BACKEND_NAMES = ("numpy", "torch", "mpmath")
_DEFAULT_DTYPE = {"numpy": "float64", "torch": "float64", "mpmath": "dps50"}
_CACHE: dict[str, Backend] = {}


def default_backend_spec() -> str:
    """The library's default backend: numpy (module docstring)."""
    return "numpy"


def get_backend(spec: str | Backend | None = None) -> Backend:
    """Return the backend named by ``spec`` (``name`` or ``name:dtype``).

    Raises :class:`~ntkproof.errors.UnknownName` for an unknown name and
    :class:`~ntkproof.errors.MissingDependency` (naming the extra) when the
    backend's package is not installed.

    >>> get_backend("numpy").spec
    'numpy:float64'
    """
    if isinstance(spec, Backend):
        return spec
    spec = (spec or default_backend_spec()).strip().lower()
    name, _, dtype = spec.partition(":")
    if name not in BACKEND_NAMES:
        raise unknown_name("backend", name, BACKEND_NAMES)
    dtype = dtype or _DEFAULT_DTYPE[name]
    key = f"{name}:{dtype}"
    if key not in _CACHE:
        if name == "numpy":
            _CACHE[key] = NumpyBackend(dtype)
        elif name == "torch":
            from .torch_backend import TorchBackend  # noqa: PLC0415 - optional dependency

            _CACHE[key] = TorchBackend(dtype)
        else:
            _CACHE[key] = MpmathBackend(dtype)
    return _CACHE[key]
