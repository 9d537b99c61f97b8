"""Infinite-width kernels: arc-cosine kernels, the two-layer ReLU NTK, deep NNGP/NTK.

Conventions (Cho & Saul 2009, eqs. (1)-(3); Jacot et al. 2018; Arora et al. 2019, §3)
-------------------------------------------------------------------------------------
**Arc-cosine kernels, no factor 2.** Cho & Saul (2009) define
``k_n(x, y) = 2 E_w[Θ(w·x) Θ(w·y) (w·x)^n (w·y)^n]`` with ``w ~ N(0, I)``. We use the
plain Gaussian expectation, i.e. half of theirs, because that is what a network
with ``N(0, 1)`` weights sees:

    order 0:  E[1(w·x > 0) 1(w·y > 0)] = (π - θ) / (2π)
    order 1:  E[relu(w·x) relu(w·y)]   = ||x|| ||y|| (sin θ + (π - θ) cos θ) / (2π)

with ``θ = arccos(x·y / (||x|| ||y||))``. Arora et al. (2019) scale ReLU by
``sqrt(c_σ)``, ``c_σ = 2``, which doubles every kernel below; we do not.

**Two-layer ReLU NTK** of ``f(x) = (1/√m) Σ_j a_j relu(w_j·x)``, ``w_j ~ N(0, I_d)``,
``E a_j² = 1``, no bias, no ``1/√d`` (Telgarsky's notes, Jacot et al. 2018):

    W trained:     Θ_W(x, y) = x·y (π - θ) / (2π)
    a trained:     Θ_a(x, y) = E[relu relu]  (the NNGP / conjugate kernel)
    both trained:  Θ = Θ_W + Θ_a

**Deep kernels, neural-tangents conventions.** :func:`infinite_width` returns the
kernels of ``stax.serial(*[Dense(w, W_std, b_std), Activation()] * depth,
Dense(1, W_std, b_std))`` in NTK parameterisation: a dense layer computes
``z = (W_std / sqrt(fan_in)) W h + b_std b`` with all entries of ``W``, ``b`` iid
``N(0, 1)`` and all of them trained. The recursion (Jacot et al. 2018, Lee et al.
2019, Arora et al. 2019, as implemented by neural-tangents) starts from the input
covariance divided by the input dimension, ``K_0 = x1 x2ᵀ / d``, ``Θ_0 = 0``, and

    Dense:       K ← W_std² K + b_std²,       Θ ← K + W_std² Θ
    Activation:  K ← E[σ(u) σ(v)],            Θ ← Θ · E[σ'(u) σ'(v)]

where ``(u, v) ~ N(0, [[K(x1,x1), K], [K, K(x2,x2)]])``. ``depth`` counts hidden
layers: ``depth = 1`` is the two-layer network, and with ``W_std = 1``,
``b_std = 0`` its NTK at inputs ``√d·x`` equals :func:`two_layer_relu_ntk` at ``x``.
Arora et al.'s (2019) ReLU NTK ``Θ^{(L)}`` (c_σ = 2, no bias, first layer without
``1/√d``) is ``infinite_width(x·sqrt(d/2), depth=L, W_std=sqrt(2)).ntk``.

Numerics: the angle ``arccos(K / sqrt(K11 K22))`` is ill-conditioned next to
``±1`` (a relative error ε in the ratio moves θ by ``sqrt(2ε)``). When ``x2`` is
omitted the diagonal of ``K_0`` is set to the squared norms exactly, so the
diagonal has θ = 0 at every layer; coincident rows passed as separate ``x1`` and
``x2`` can carry an error of order 1e-8 relative on float64.

The Gaussian moments are computed in closed form for ``relu``, ``erf`` and
``identity`` (on any backend: numpy, torch, mpmath), and for every activation of
the catalogue by quadrature (:mod:`ntkproof.nn.quadrature`, numpy only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument, NonFiniteError, ShapeError
from .activations import Activation, get_activation
from .quadrature import gaussian_expectation

__all__ = ["arccos_kernel", "two_layer_relu_ntk", "gaussian_moments", "infinite_width",
           "InfiniteWidthKernel", "CLOSED_FORM_ACTIVATIONS"]

#: Entries per row block of the numpy closed-form recursion. 8192 float64 (64 KiB) per
#: temporary: measured 4-5x faster than 32768 per block, most likely because arrays
#: under glibc's 128 KiB mmap threshold are recycled from the heap, not page-faulted.
_BLOCK_ENTRIES = 2**13

Moments = Callable[[Backend, Any, Any, Any], tuple[Any, Any, Any, Any]]


# -- inputs --------------------------------------------------------------------------
def _inputs(b: Backend, x: Any, name: str) -> Any:
    xn = np.asarray(b.to_numpy(b.asarray(x)))
    if xn.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D array (n, d), got shape {xn.shape}; "
                         f"reshape a single input with {name}[None, :]")
    if not np.all(np.isfinite(xn)):
        raise NonFiniteError(f"{name} holds NaN or infinity at rows "
                             f"{sorted(set(np.argwhere(~np.isfinite(xn))[:, 0].tolist()))[:5]}; "
                             "clean the inputs first")
    return b.asarray(x)


def _pair(b: Backend, x1: Any, x2: Any) -> tuple[Any, Any]:
    x1 = _inputs(b, x1, "x1")
    x2 = x1 if x2 is None else _inputs(b, x2, "x2")
    if x1.shape[1] != x2.shape[1]:
        raise ShapeError(f"x1 has {x1.shape[1]} features but x2 has {x2.shape[1]}; "
                         "both must have the same input dimension d")
    return x1, x2


def _sq_norms(b: Backend, x: Any) -> Any:
    return b.sum(x * x, axis=1)


def _require_nonzero(b: Backend, q: Any, name: str) -> None:
    zero = np.flatnonzero(np.asarray(b.to_numpy(q)) == 0)
    if zero.size:
        raise InvalidArgument(
            f"{name} has all-zero rows {zero[:5].tolist()}; the angle to a zero input is "
            "undefined without a bias; drop those rows or use b_std > 0")


# -- closed-form Gaussian moments ----------------------------------------------------
def _cos_angle(b: Backend, q1: Any, k: Any, q2: Any) -> tuple[Any, Any]:
    s = b.sqrt(q1 * q2)
    return s, b.clip(k / s, -1.0, 1.0)


def _relu_moments(b: Backend, q1: Any, k: Any, q2: Any) -> tuple[Any, Any, Any, Any]:
    """``E[relu relu]``, ``E[step step]``, ``E[relu(u)²]``, ``E[relu(v)²]`` (no factor 2)."""
    s, c = _cos_angle(b, q1, k, q2)
    theta = b.arccos(c)
    pi = b.pi()
    sin = b.sqrt(1 - c * c)  # |c| <= 1 after the clip, so 1 - c² >= 0 exactly
    nngp = s * (sin + (pi - theta) * c) / (2 * pi)
    dot = (pi - theta) / (2 * pi)
    return nngp, dot, q1 / 2, q2 / 2


def _erf_moments(b: Backend, q1: Any, k: Any, q2: Any) -> tuple[Any, Any, Any, Any]:
    """Williams (1997): ``E[erf erf] = (2/π) arcsin(2k / sqrt((1+2q1)(1+2q2)))``."""
    pi = b.pi()
    a1, a2 = 1 + 2 * q1, 1 + 2 * q2
    nngp = 2 / pi * b.arcsin(2 * k / b.sqrt(a1 * a2))  # b.arcsin clips roundoff past ±1
    dot = 4 / pi / b.sqrt(a1 * a2 - 4 * k * k)
    return nngp, dot, 2 / pi * b.arcsin(2 * q1 / a1), 2 / pi * b.arcsin(2 * q2 / a2)


def _identity_moments(b: Backend, q1: Any, k: Any, q2: Any) -> tuple[Any, Any, Any, Any]:
    return k, 0 * k + 1, q1, q2


_CLOSED: dict[str, Moments] = {
    "relu": _relu_moments, "erf": _erf_moments, "identity": _identity_moments}

#: Activations whose Gaussian moments have a closed form (any backend).
CLOSED_FORM_ACTIVATIONS = tuple(sorted(_CLOSED))


def _quadrature_moments(act: Activation) -> Moments:
    def moments(b: Backend, q1: Any, k: Any, q2: Any) -> tuple[Any, Any, Any, Any]:
        if b.name != "numpy":
            raise InvalidArgument(
                f"method='quadrature' runs on numpy only, got backend {b.spec}; use "
                f"method='closed' (available for {', '.join(CLOSED_FORM_ACTIVATIONS)})")
        nb = get_backend("numpy")

        def f(x: np.ndarray) -> np.ndarray:
            return act.f(nb, x)

        def df(x: np.ndarray) -> np.ndarray:
            return act.df(nb, x)

        q1b, kb, q2b = np.broadcast_arrays(q1, k, q2)
        diag1 = gaussian_expectation(f, f, q1, q1, q1)
        diag2 = gaussian_expectation(f, f, q2, q2, q2)
        return (gaussian_expectation(f, f, q1b, kb, q2b),
                gaussian_expectation(df, df, q1b, kb, q2b), diag1, diag2)

    return moments


def _moments_for(act: Activation, method: str) -> tuple[Moments, str]:
    """The moment function for ``act`` and the method actually used."""
    if method not in ("auto", "closed", "quadrature"):
        raise InvalidArgument(f"method must be 'auto', 'closed' or 'quadrature', got {method!r}")
    if method == "quadrature" or (method == "auto" and act.name not in _CLOSED):
        return _quadrature_moments(act), "quadrature"
    if act.name not in _CLOSED:
        raise InvalidArgument(
            f"activation {act.name!r} has no closed form (those with one: "
            f"{', '.join(CLOSED_FORM_ACTIVATIONS)}); use method='quadrature' or 'auto'")
    return _CLOSED[act.name], "closed"


def gaussian_moments(activation: str | Activation, q1: Any, k: Any, q2: Any, *,
                     method: str = "auto", backend: str | Backend | None = None
                     ) -> tuple[Any, Any, Any, Any]:
    """Gaussian moments of an activation σ for ``(u, v) ~ N(0, [[q1, k], [k, q2]])``.

    Returns ``(E[σ(u)σ(v)], E[σ'(u)σ'(v)], E[σ(u)²], E[σ(v)²])`` elementwise over
    the broadcast shape of ``q1``, ``k``, ``q2`` (``E[σ(u)²]`` keeps the shape of q1).
    ``method`` is ``"closed"`` (relu, erf, identity; any backend), ``"quadrature"``
    (any catalogue activation, numpy) or ``"auto"`` (closed form when there is one).

    >>> e, ed, _, _ = gaussian_moments("relu", 1.0, 0.0, 1.0)
    >>> round(float(e) * 2 * 3.141592653589793, 12), float(ed)
    (1.0, 0.25)
    """
    b = get_backend(backend)
    fn, _ = _moments_for(get_activation(activation), method)
    return fn(b, b.asarray(q1), b.asarray(k), b.asarray(q2))


# -- two-layer kernels ---------------------------------------------------------------
def _gram(b: Backend, x1: Any, x2: Any, q1: Any, eye: Any) -> Any:
    """``x1 x2ᵀ``, with ``q1 = ||x1||²`` put exactly where the mask ``eye`` marks x1 = x2."""
    gram = b.matmul(x1, b.transpose(x2))
    if eye is not None:  # the angle there is then exactly 0 (see module notes)
        gram = b.where(eye, q1[:, None], gram)
    return gram


def _gram_and_norms(b: Backend, x1: Any, x2: Any) -> tuple[Any, Any, Any]:
    q1, q2 = _sq_norms(b, x1), _sq_norms(b, x2)
    _require_nonzero(b, q1, "x1")
    _require_nonzero(b, q2, "x2")
    eye = b.eye(x1.shape[0]) > 0 if x2 is x1 else None
    return _gram(b, x1, x2, q1, eye), q1[:, None], q2[None, :]


def arccos_kernel(x1: Any, x2: Any = None, *, order: int,
                  backend: str | Backend | None = None) -> Any:
    """Arc-cosine kernel of order 0 or 1 as a plain Gaussian expectation.

    ``order=0``: ``E_w[1(w·x>0) 1(w·y>0)] = (π - θ)/(2π)``;
    ``order=1``: ``E_w[relu(w·x) relu(w·y)] = ||x|| ||y|| (sin θ + (π - θ) cos θ)/(2π)``,
    with ``w ~ N(0, I_d)``. This is **half** of Cho & Saul's (2009) ``k_0``, ``k_1``.

    Parameters
    ----------
    x1 : (n1, d) array;  x2 : (n2, d) array or None (then x2 = x1). Rows non-zero.
    backend : ``"numpy"`` (default), ``"torch"``, ``"mpmath"`` (e.g. 50 digits).

    Returns
    -------
    (n1, n2) array of the backend's type.

    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> np.round(arccos_kernel(x, order=0), 12).tolist()
    [[0.5, 0.25], [0.25, 0.5]]
    """
    if order not in (0, 1):
        raise InvalidArgument(f"order must be 0 or 1, got {order!r}")
    b = get_backend(backend)
    x1, x2 = _pair(b, x1, x2)
    gram, q1, q2 = _gram_and_norms(b, x1, x2)
    nngp, dot, _, _ = _relu_moments(b, q1, gram, q2)
    return dot if order == 0 else nngp


def two_layer_relu_ntk(x1: Any, x2: Any = None, *, trained: str = "both",
                       backend: str | Backend | None = None) -> Any:
    """Infinite-width NTK of ``f(x) = (1/√m) Σ_j a_j relu(w_j·x)``.

    ``w_j ~ N(0, I_d)`` (no ``1/√d``, no bias), ``E a_j² = 1``. ``trained`` picks the
    parameters that move: ``"W"`` gives ``x·y (π - θ)/(2π)`` (Telgarsky §4.3),
    ``"a"`` the NNGP ``arccos_kernel(order=1)``, ``"both"`` their sum (Jacot et al.).
    Shapes and backends as :func:`arccos_kernel`.

    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0]])
    >>> float(two_layer_relu_ntk(x)[0, 0])  # 1/2 + 1/2
    1.0
    """
    if trained not in ("W", "a", "both"):
        raise InvalidArgument(f"trained must be 'W', 'a' or 'both', got {trained!r}")
    b = get_backend(backend)
    x1, x2 = _pair(b, x1, x2)
    gram, q1, q2 = _gram_and_norms(b, x1, x2)
    nngp, dot, _, _ = _relu_moments(b, q1, gram, q2)
    if trained == "W":
        return gram * dot
    return nngp if trained == "a" else gram * dot + nngp


# -- deep kernels --------------------------------------------------------------------
@dataclass(frozen=True)
class InfiniteWidthKernel:
    """NNGP and NTK of an infinite-width MLP (see :func:`infinite_width`).

    ``nngp`` and ``ntk`` are (n1, n2) arrays of the backend's type (numpy float64
    by default; torch tensors or numpy object arrays of mpmath numbers otherwise).
    """

    nngp: Any
    ntk: Any
    activation: str
    depth: int
    W_std: float
    b_std: float
    method: str

    def __repr__(self) -> str:
        return (f"InfiniteWidthKernel(shape={tuple(self.ntk.shape)}, activation="
                f"{self.activation!r}, depth={self.depth}, W_std={self.W_std}, "
                f"b_std={self.b_std}, method={self.method!r})")


def _check_hyper(depth: int, W_std: float, b_std: float) -> None:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidArgument(f"depth must be an integer >= 1 (hidden layers), got {depth!r}")
    if not np.isfinite(W_std) or W_std <= 0:
        raise InvalidArgument(f"W_std must be finite and > 0, got {W_std!r}")
    if not np.isfinite(b_std) or b_std < 0:
        raise InvalidArgument(f"b_std must be finite and >= 0, got {b_std!r}")


def _recursion(b: Backend, moments: Moments, k: Any, q1: Any, q2: Any, depth: int,
               w2: Any, b2: Any, eye: Any) -> tuple[Any, Any]:
    """Dense → (Activation → Dense) × depth on (cross, diag1, diag2) covariances.

    ``eye`` (a boolean mask, or None) marks the entries where x1 and x2 are the same input: there
    the cross covariance is reset to the marginal variance after every layer, so
    it cannot drift by an ulp and turn θ = 0 into θ ≈ 1e-8 through the arccos.
    """
    def tie(k: Any, q1: Any) -> Any:
        return k if eye is None else b.where(eye, q1, k)

    k, q1, q2 = w2 * k + b2, w2 * q1 + b2, w2 * q2 + b2
    ntk = k
    for _ in range(depth):
        e, e_dot, e1, e2 = moments(b, q1, tie(k, q1), q2)
        k, q1, q2 = w2 * e + b2, w2 * e1 + b2, w2 * e2 + b2
        ntk = k + w2 * (ntk * e_dot)
    return tie(k, q1), ntk


def _row_blocks(b: Backend, n1: int, n2: int, method: str) -> list[slice]:
    """Row blocks: numpy closed forms run block by block so temporaries stay in cache."""
    if b.name != "numpy" or method != "closed":
        return [slice(0, n1)]
    rows = max(1, _BLOCK_ENTRIES // max(n2, 1))
    return [slice(r, min(r + rows, n1)) for r in range(0, n1, rows)]


def _block(b: Backend, moments: Moments, x1: Any, x2: Any, q1: Any, q2: Any, rows: slice,
           depth: int, w2: Any, b2: Any) -> tuple[Any, Any]:
    """NNGP and NTK for the rows ``rows`` of x1 against all of x2."""
    d, eye = x1.shape[1], None
    if x2 is x1:
        eye = b.asarray(np.arange(rows.start, rows.stop)[:, None] == np.arange(x2.shape[0])) > 0
    gram = _gram(b, x1[rows], x2, q1[rows], eye) / d
    return _recursion(b, moments, gram, q1[rows, None] / d, q2[None, :] / d, depth, w2, b2, eye)


def infinite_width(x1: Any, x2: Any = None, *, activation: str | Activation = "relu",
                   depth: int = 1, W_std: float = 1.0, b_std: float = 0.0,
                   method: str = "auto", backend: str | Backend | None = None
                   ) -> InfiniteWidthKernel:
    """NNGP and NTK of an infinitely wide MLP, in neural-tangents' conventions.

    The network is ``stax.serial(*[Dense(w, W_std, b_std), Activation()] * depth,
    Dense(1, W_std, b_std))`` in NTK parameterisation, every weight and bias
    trained; the recursion and its starting point ``K_0 = x1 x2ᵀ / d`` are in the
    module docstring (Jacot et al. 2018; Lee et al. 2019; Arora et al. 2019
    without their ``c_σ = 2``).

    Parameters
    ----------
    x1 : (n1, d) array;  x2 : (n2, d) array or None (then x2 = x1).
    activation : a catalogue name (``relu``, ``erf``, ``tanh``, ...).
    depth : number of hidden layers (>= 1).
    W_std, b_std : weight and bias standard deviations (``b_std = 0``: no bias).
    method : ``"auto"`` (closed form for relu/erf/identity, else quadrature),
        ``"closed"`` or ``"quadrature"``.
    backend : ``"numpy"`` (default), ``"torch"``, ``"mpmath"``; quadrature is numpy-only.

    Returns
    -------
    InfiniteWidthKernel with ``.nngp`` and ``.ntk`` of shape (n1, n2).

    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> k = infinite_width(x * np.sqrt(2), depth=1)
    >>> bool(np.allclose(k.ntk, two_layer_relu_ntk(x)))
    True
    """
    _check_hyper(depth, W_std, b_std)
    act = get_activation(activation)
    moments, used = _moments_for(act, method)
    b = get_backend(backend)
    x1, x2 = _pair(b, x1, x2)
    q1, q2 = _sq_norms(b, x1), _sq_norms(b, x2)
    if b_std == 0:
        _require_nonzero(b, q1, "x1")
        _require_nonzero(b, q2, "x2")
    w2, b2 = b.scalar(W_std) ** 2, b.scalar(b_std) ** 2
    parts = [_block(b, moments, x1, x2, q1, q2, rows, depth, w2, b2)
             for rows in _row_blocks(b, x1.shape[0], x2.shape[0], used)]
    nngp, ntk = parts[0] if len(parts) == 1 else (np.vstack(p) for p in zip(*parts, strict=True))
    return InfiniteWidthKernel(nngp, ntk, act.name, int(depth), float(W_std), float(b_std), used)
