"""The activation catalogue, shared by the symbolic and the numeric side.

Each :class:`Activation` carries its sympy expression (for derivations) and
its value, first and second derivative written once against the backend
interface (for numeric checks on any backend). Both come from this one entry,
so the symbolic and the numeric activation cannot drift apart; a unit test
checks the numeric derivatives against sympy's at random points.

Names: ``relu``, ``tanh``, ``sigmoid``, ``softplus``, ``silu``, ``gelu`` (the
exact z·Φ(z)), ``erf``, ``identity``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..backends import Backend
from ..errors import unknown_name

__all__ = ["Activation", "ACTIVATIONS", "SMOOTH_ACTIVATIONS", "get_activation"]

Z = sp.Symbol("z", real=True)


def _sigmoid_sym(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


def _phi_sym(z: sp.Expr) -> sp.Expr:
    return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)


def _Phi_sym(z: sp.Expr) -> sp.Expr:
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


@dataclass(frozen=True)
class Activation:
    """One activation σ: symbolic expression and backend-generic derivatives.

    Attributes
    ----------
    name : str
        Catalogue name.
    smooth : bool
        True when σ'' exists everywhere and is bounded (Prop. 4.1 applies).
    expr : sympy expression in the real symbol ``z`` (``Activation.z``).
    f, df, d2f : callables ``(backend, x) -> array``
        σ(x), σ'(x), σ''(x) elementwise. For ReLU, σ'(0) = 0 and σ'' = 0
        (the almost-everywhere derivative, as autograd gives it).
    """

    name: str
    smooth: bool
    expr: sp.Expr
    f: Callable[[Backend, Any], Any]
    df: Callable[[Backend, Any], Any]
    d2f: Callable[[Backend, Any], Any]

    z = Z

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, smooth={self.smooth})"

    def derivative_expr(self, order: int) -> sp.Expr:
        """The sympy expression of the ``order``-th derivative of σ."""
        return sp.diff(self.expr, Z, order)


def _relu(b: Backend, x: Any) -> Any:
    return b.relu(x)


def _step(b: Backend, x: Any) -> Any:
    return b.step(x)


def _softplus(b: Backend, x: Any) -> Any:
    return _relu(b, x) + b.log1p(b.exp(-b.abs(x)))


def _silu_d2(b: Backend, x: Any) -> Any:
    s = b.sigmoid(x)
    return s * (1 - s) * (2 + x * (1 - 2 * s))


def _gauss_pdf(b: Backend, x: Any) -> Any:
    return b.exp(-x * x / 2) / b.sqrt(b.scalar(2) * b.pi())


def _gauss_cdf(b: Backend, x: Any) -> Any:
    return (1 + b.erf(x / b.sqrt(b.scalar(2)))) / 2


def _two_over_sqrt_pi(b: Backend) -> Any:
    return 2 / b.sqrt(b.scalar(1) * b.pi())


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation("relu", False, sp.Max(Z, 0), _relu, _step, lambda b, x: 0 * x),
        Activation("identity", True, Z, lambda b, x: x, lambda b, x: 0 * x + 1,
                   lambda b, x: 0 * x),
        Activation(
            "tanh", True, sp.tanh(Z), lambda b, x: b.tanh(x),
            lambda b, x: 1 - b.tanh(x) ** 2,
            lambda b, x: -2 * b.tanh(x) * (1 - b.tanh(x) ** 2)),
        Activation(
            "sigmoid", True, _sigmoid_sym(Z), lambda b, x: b.sigmoid(x),
            lambda b, x: b.sigmoid(x) * (1 - b.sigmoid(x)),
            lambda b, x: b.sigmoid(x) * (1 - b.sigmoid(x)) * (1 - 2 * b.sigmoid(x))),
        Activation(
            "softplus", True, sp.log(1 + sp.exp(Z)), _softplus, lambda b, x: b.sigmoid(x),
            lambda b, x: b.sigmoid(x) * (1 - b.sigmoid(x))),
        Activation(
            "silu", True, Z * _sigmoid_sym(Z), lambda b, x: x * b.sigmoid(x),
            lambda b, x: b.sigmoid(x) * (1 + x * (1 - b.sigmoid(x))), _silu_d2),
        Activation(
            "gelu", True, Z * _Phi_sym(Z), lambda b, x: x * _gauss_cdf(b, x),
            lambda b, x: _gauss_cdf(b, x) + x * _gauss_pdf(b, x),
            lambda b, x: _gauss_pdf(b, x) * (2 - x * x)),
        Activation(
            "erf", True, sp.erf(Z), lambda b, x: b.erf(x),
            lambda b, x: _two_over_sqrt_pi(b) * b.exp(-x * x),
            lambda b, x: -2 * x * _two_over_sqrt_pi(b) * b.exp(-x * x)),
    ]
}

#: Smooth activations with a bounded, non-zero σ'' (those Prop. 4.1 is about).
SMOOTH_ACTIVATIONS = ("sigmoid", "tanh", "softplus", "silu", "gelu", "erf")


def get_activation(name: str | Activation) -> Activation:
    """Look up an activation by name; an unknown name lists the catalogue.

    >>> get_activation("tanh").smooth
    True
    """
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise unknown_name("activation", name, list(ACTIVATIONS)) from None
