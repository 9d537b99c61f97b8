r"""The Taylor remainder bound behind Prop. 4.1 (smooth activations), as objects.

For σ twice differentiable with :math:`|σ''| <= β`,

.. math::

    R_σ(r, s) := σ(r) - σ(s) - σ'(s)(r - s) = \int_s^r σ''(z)(r - z)\,dz,
    \qquad |R_σ(r, s)| <= \frac{β}{2}(r - s)^2 .

:func:`taylor_remainder` computes the left side on any backend (through the
activation catalogue), :func:`taylor_bound` the right side, and
:func:`taylor_remainder_derivation` the derivation that proves one from the
other, for a generic σ (an undefined sympy function with witnesses β sin z,
β z²/2, β cos z) or for a catalogue activation with its exact β from
:mod:`ntkproof.theory.smoothness`.

The derivation treats r > s (r = s + h, h > 0) and r < s (r = s - h) as two
cases; r = s is the trivial case R = 0 = bound.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sympy as sp

from ..backends import Backend, get_backend
from ..derivation import Derivation, Hypothesis, Step, chain
from ..nn.activations import Activation, get_activation
from .smoothness import smoothness_constant

__all__ = ["taylor_remainder", "taylor_bound", "taylor_remainder_derivation",
           "GENERIC_SIGMA", "BETA"]

Z = Activation.z
S = sp.Symbol("s", real=True)
H = sp.Symbol("h", positive=True)
BETA = sp.Symbol("beta", nonnegative=True)
#: The generic activation σ of the derivation (an undefined function).
GENERIC_SIGMA = sp.Function("sigma")
_DOMAIN = {S: (-3.0, 3.0), H: (0.0, 3.0)}


def taylor_remainder(activation: str | Activation, r: Any, s: Any,
                     backend: str | Backend | None = None) -> Any:
    """R_σ(r, s) = σ(r) - σ(s) - σ'(s)(r - s), elementwise on ``backend``.

    >>> float(taylor_remainder("identity", 2.0, 1.0, "numpy"))
    0.0
    """
    b, act = get_backend(backend), get_activation(activation)
    with b.context():
        r, s = b.asarray(r), b.asarray(s)
        return act.f(b, r) - act.f(b, s) - act.df(b, s) * (r - s)


def taylor_bound(beta: Any, r: Any, s: Any) -> Any:
    """(β/2)(r - s)², the bound on |R_σ(r, s)| when |σ''| <= β.

    >>> taylor_bound(0.5, 3.0, 1.0)
    1.0
    """
    return beta / 2 * (r - s) ** 2


def _sigma_parts(activation: str | None) -> tuple[Any, Any, Any, sp.Expr, dict, dict, str]:
    """(σ, σ', σ'' as callables of an expression, β, extra domain, witnesses, name)."""
    if activation is None:
        sig = GENERIC_SIGMA
        witnesses = {sig: [sp.Lambda(Z, BETA * sp.sin(Z)), sp.Lambda(Z, BETA * Z**2 / 2),
                           sp.Lambda(Z, BETA * sp.cos(Z))]}
        return (sig, lambda e: sp.Derivative(sig(e), e) if e.is_Symbol else
                sp.Subs(sp.Derivative(sig(Z), Z), Z, e),
                lambda e: sp.Derivative(sig(e), (e, 2)), BETA, {BETA: (0.0, 2.0)}, witnesses,
                "generic σ")
    act = get_activation(activation)
    exprs = [act.derivative_expr(k) for k in range(3)]
    f, df, d2f = (lambda e, k=k: exprs[k].xreplace({Z: e}) for k in range(3))
    return f, df, d2f, smoothness_constant(act.name).exact, {}, {}, act.name


def _case(parts: tuple, sign: int) -> tuple[Step, ...]:
    """Steps for r = s + sign*h: the identity, then the chain of bounds."""
    f, df, d2f, beta = parts[:4]
    r = S + sign * H
    lo, hi, weight = (S, r, r - Z) if sign > 0 else (r, S, Z - r)
    remainder = f(r) - f(S) - df(S) * (r - S)
    integral = sp.Integral(d2f(Z) * weight, (Z, lo, hi))
    side = "r > s" if sign > 0 else "r < s"
    identity = Step(remainder, "==", integral,
                    f"Taylor with integral remainder ({side}): both sides and their first "
                    "derivatives in h vanish at h = 0, and their second derivatives in h agree",
                    method="derivative", variable=H, base=0, order=2)
    bounds = chain(
        sp.Abs(remainder),
        ("==", sp.Abs(integral), "the identity above", {"method": "hypothesis", "hypothesis": 0}),
        ("<=", sp.Integral(sp.Abs(d2f(Z)) * weight, (Z, lo, hi)),
         "triangle inequality for integrals", {"method": "rule", "rule": "integral_triangle"}),
        ("<=", sp.Integral(beta * weight, (Z, lo, hi)), "by |σ''| <= β",
         {"method": "hypothesis", "hypothesis": "|σ''| <= β"}),
        ("==", beta / 2 * (r - S) ** 2, "∫ of a linear function"),
    )
    return (identity, *bounds)


def taylor_remainder_derivation(activation: str | None = None) -> Derivation:
    """The derivation of |R_σ(r, s)| <= (β/2)(r - s)², generic σ when ``activation`` is None.

    Steps 1-5: case r = s + h; steps 6-10: case r = s - h (h > 0). For a catalogue
    activation β is the exact constant of :func:`ntkproof.theory.smoothness.smoothness_constant`
    (whose own derivation proves the hypothesis |σ''| <= β).
    """
    parts = _sigma_parts(activation)
    steps: list[Step] = []
    for sign in (1, -1):
        case = _case(parts, sign)
        offset = len(steps)
        steps += [case[0], _refer(case[1], offset + 1), *case[2:]]
    d2f, beta = parts[2], parts[3]
    hyp = Hypothesis("|σ''| <= β", sp.Abs(d2f(Z)), "<=", beta, bound=(Z,))
    return Derivation(
        title=f"Taylor remainder bound |σ(r)-σ(s)-σ'(s)(r-s)| <= (β/2)(r-s)^2 ({parts[6]})",
        steps=tuple(steps), domain={**_DOMAIN, **parts[4]}, hypotheses=(hyp,),
        witnesses=parts[5])


def _refer(step: Step, index: int) -> Step:
    """``step`` with its hypothesis pointing at the 1-based step ``index``."""
    return replace(step, hypothesis=index)
