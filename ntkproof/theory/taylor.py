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

:func:`remainder_certificate` gives the inputs of ``ntk.certify`` for the bound on a
box: it certifies ±R/(r - s)² <= β/2, enclosing the quotient through the integral
form (no cancellation near r = s), with a second-order argument at (z*, z*) for
each argmax z* of |σ''|.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import flint
import sympy as sp

from ..backends import Backend, get_backend
from ..certify import LocalMax, arb_function
from ..certify.symbolic import arb_pow
from ..derivation import Derivation, Hypothesis, Step, Trichotomy, chain
from ..errors import InvalidArgument
from ..nn.activations import Activation, get_activation
from .smoothness import (
    Certificate,
    arb_derivative,
    attains,
    local_radius,
    smoothness_constant,
)

__all__ = ["taylor_remainder", "taylor_bound", "taylor_remainder_derivation",
           "taylor_remainder_goal",
           "GENERIC_SIGMA", "BETA", "remainder_quotient", "remainder_certificate"]

Z = Activation.z
S = sp.Symbol("s", real=True)
H = sp.Symbol("h", positive=True)
R = sp.Symbol("r", real=True)
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


def taylor_remainder_goal(activation: str | None = None) -> tuple[sp.Expr, str, sp.Expr]:
    """The statement |σ(r) - σ(s) - σ'(s)(r - s)| <= (β/2)(r - s)², for all real r, s,
    as ``(lhs, "<=", rhs)`` (generic σ when ``activation`` is None, with β a symbol)."""
    f, df, _d2f, beta = _sigma_parts(activation)[:4]
    return sp.Abs(f(R) - f(S) - df(S) * (R - S)), "<=", beta / 2 * (R - S) ** 2


def taylor_remainder_derivation(activation: str | None = None) -> Derivation:
    """The derivation of |R_σ(r, s)| <= (β/2)(r - s)², generic σ when ``activation`` is None.

    By cases (:class:`~ntkproof.derivation.Trichotomy` of r against s): steps 1-5 for
    r = s + h, steps 6-10 for r = s - h (h > 0), and r = s closed by sympy. For a
    catalogue activation β is the exact constant of
    :func:`ntkproof.theory.smoothness.smoothness_constant` (the hypothesis |σ''| <= β is
    certified by interval arithmetic in the theorem file).
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
        witnesses=parts[5], goal=taylor_remainder_goal(activation), split=Trichotomy(R, S, H))


def _refer(step: Step, index: int) -> Step:
    """``step`` with its hypothesis pointing at the 1-based step ``index``."""
    return replace(step, hypothesis=index)


# -- certificates: the remainder quotient, for ntk.certify ---------------------------

#: At a point, the quotient is R / (r - s)² itself where |r - s| >= DIRECT_FROM.
DIRECT_FROM = 0.25
#: Terms of the Taylor form of the quotient, even (the remainder is σ^(2+order) on the
#: hull).
TAYLOR_ORDER = 4
#: Width of the cells of the range table of σ^(2+order) (a power of 2: exact cells).
CELL = 1 / 32
#: The neighbourhood of (z*, z*) decided by the second-order argument starts at this
#: half-width (halved until sign·σ'''' < 0 on it is shown).
REMAINDER_RADIUS = 1.0


class RangeTable:
    """Enclosures of a function of one ball over the hull of a ball, by a table of
    exact cells [a + k·CELL, a + (k+1)·CELL] covering [lo, hi] (filled on first use):
    the union of the cells the ball meets (one more on each side, against the
    rounding of its ends to floats). Outside [lo, hi], the function itself. Tighter
    than one enclosure on a wide ball, where arb's dependency problem inflates it."""

    def __init__(self, f: Callable[[Any], Any], lo: float, hi: float, cell: float = CELL):
        self.f, self.lo, self.cell = f, lo, cell
        self.n = int(round((hi - lo) / cell))
        self.cells: list[Any] = []

    def __call__(self, ball: Any) -> Any:
        if not self.cells:
            self.cells = [self.f(flint.arb(self.lo + k * self.cell).union(
                flint.arb(self.lo + (k + 1) * self.cell))) for k in range(self.n)]
        a = math.floor((float(ball.lower()) - self.lo) / self.cell) - 1
        b = math.floor((float(ball.upper()) - self.lo) / self.cell) + 1
        if a < 0 or b >= self.n:
            return self.f(ball)
        out = self.cells[a]
        for k in range(a + 1, b + 1):
            out = out.union(self.cells[k])
        return out


def _midpoint_weights(n: int) -> list[Any]:
    """m_j = ∫_0^1 (1 - t)(t - 1/2)^j / j! dt for j <= n (exact rationals)."""
    def moment(k: int) -> Any:  # ∫_{-1/2}^{1/2} u^k du
        return flint.fmpq(0) if k % 2 else flint.fmpq(2, (k + 1) * 2 ** (k + 1))
    return [(moment(j) / 2 - moment(j + 1)) / math.factorial(j) for j in range(n + 1)]


def remainder_quotient(activation: str, order: int = TAYLOR_ORDER) -> Callable[[Any, Any], Any]:
    r"""``F(r, s)`` on arb balls: an enclosure of

    .. math:: F(r, s) = \frac{R_σ(r, s)}{(r - s)^2} = \int_0^1 (1 - t)\,σ''(s + t(r - s))\,dt

    (Taylor's theorem with the integral remainder, t = (z - s)/(r - s); F(s, s) =
    σ''(s)/2), for all r, s in the balls, in mean value form around the centres
    (r₀, s₀):

    * F(r, s) = F(r₀, s₀) + ∂_r F(ξ)(r - r₀) + ∂_s F(ξ)(s - s₀) for a ξ of the box, and
      ∂_r F = ∫_0^1 (1 - t) t σ'''(z_t) dt ∈ σ'''(hull)/6, ∂_s F = ∫_0^1 (1 - t)² σ'''(z_t)
      dt ∈ σ'''(hull)/3 (weights >= 0, z_t in the hull of the balls; σ''' there from a
      :class:`RangeTable`);
    * F(r₀, s₀) at the point: where |h| = |r₀ - s₀| >= :data:`DIRECT_FROM`, the
      quotient R / h² itself (a point: no cancellation of enclosures); nearer r = s,
      with c = (r₀ + s₀)/2, the Taylor form expanding σ'' at c to n = ``order`` (even)
      terms with the Lagrange remainder inside the integral,
      F = Σ_{j<n} m_j σ^{(2+j)}(c) h^j + m_n σ^{(2+n)}(ξ) h^n, ξ between s₀ and r₀,
      m_j = ∫_0^1 (1 - t)(t - 1/2)^j / j! dt (1/2, -1/12, 1/48, -1/480, 1/3840, ...;
      the remainder by the mean value theorem for integrals, its weight
      (1 - t)(t - 1/2)^n being >= 0 for even n).
    """
    if order % 2:
        raise InvalidArgument(f"remainder_quotient: order must be even, got {order}")
    ds = [arb_derivative(activation, k) for k in range(order + 2)]
    top = RangeTable(arb_derivative(activation, order + 2), -8.0, 8.0)
    third = RangeTable(arb_derivative(activation, 3), -8.0, 8.0)
    weights = [flint.arb(m) for m in _midpoint_weights(order)]
    sixth, third_w = flint.arb(flint.fmpq(1, 6)), flint.arb(flint.fmpq(1, 3))

    def at_point(r: Any, s: Any) -> Any:
        h = r - s
        if h.abs_lower() >= DIRECT_FROM:
            return (ds[0](r) - ds[0](s) - ds[1](s) * h) / arb_pow(h, 2)
        c = (r + s) / 2
        out = weights[order] * top(r.union(s)) * arb_pow(h, order)
        for j in range(order):
            out += weights[j] * ds[2 + j](c) * arb_pow(h, j)
        return out

    def quotient(r: Any, s: Any) -> Any:
        if r.rad() == 0 and s.rad() == 0:
            return at_point(r, s)
        r0, s0 = flint.arb(r.mid()), flint.arb(s.mid())
        slope = third(r.union(s))
        return at_point(r0, s0) + slope * (r - r0) * sixth + slope * (s - s0) * third_w

    return quotient


def remainder_certificate(activation: str, bound: sp.Expr, sign: int = 1, *,
                          box: dict[str, tuple[float, float]] | None = None,
                          radius: float = REMAINDER_RADIUS) -> Certificate:
    r"""The certificate of sign·F(r, s) <= bound/2 on ``box`` (default [-6, 6]²), F as
    in :func:`remainder_quotient`; with sign ±1 this is |R_σ(r, s)| <= (bound/2)(r - s)²
    at every point of the box (multiply by (r - s)² >= 0).

    At each exact argmax z* of |σ''| where σ'' has the sign ``sign``, the point (z*,
    z*) attains it: a :class:`~ntkproof.certify.LocalMax` there, with f = sign·F -
    bound/2: f(z*, z*) = (sign·σ''(z*) - bound)/2 and ∇f(z*, z*) = sign·σ'''(z*)·(1/6,
    1/3) vanish (sympy, :func:`~ntkproof.theory.smoothness.attains`). The Hessian is
    H = ∫_0^1 (1 - t) sign·σ''''(s + t(r - s)) v vᵀ dt with v = (t, 1 - t), so where
    sign·σ'''' <= u on the hull of the neighbourhood, H ≼ u·M, M = ∫_0^1 (1 - t) v vᵀ dt
    = [[1/12, 1/12], [1/12, 1/4]] (positive definite): the Loewner bound handed to
    the certifier, negative definite when u < 0.
    """
    act = get_activation(activation)
    box = dict(box or {"r": (-6.0, 6.0), "s": (-6.0, 6.0)})
    quotient = remainder_quotient(act.name)
    d4 = RangeTable(arb_derivative(act.name, 4), -8.0, 8.0)
    rhs = arb_function(bound / 2, [])
    sg = "" if sign > 0 else "-"
    weights = [[flint.fmpq(1, 12), flint.fmpq(1, 12)], [flint.fmpq(1, 12), flint.fmpq(1, 4)]]

    def hessian(r: Any, s: Any) -> list[list[Any]]:
        u = flint.arb((sign * d4(r.union(s))).upper())
        return [[u * flint.arb(w) for w in row] for row in weights]

    local = []
    for z0 in smoothness_constant(act.name).argmax:
        if sp.sign(sp.N(act.derivative_expr(2).xreplace({Z: z0}))) != sign:
            continue
        rad = local_radius(hessian, {"r": float(z0), "s": float(z0)}, radius)
        local.append(LocalMax(
            {"r": z0, "s": z0}, rad, hessian=hessian,
            proof=(f"f = {sg}F - bound/2, F(r, s) = ∫_0^1 (1-t) σ''(s+t(r-s)) dt: f(z*, z*) = "
                   f"({sg}σ''(z*) - bound)/2 = 0 and ∇f = {sg}σ'''(z*)(1/6, 1/3) = 0 at z* = "
                   f"{z0} (sympy); H = ∫(1-t) {sg}σ''''(z_t) v vᵀ dt ≼ u·[[1/12, 1/12], "
                   f"[1/12, 1/4]], u = max {sg}σ'''' on the hull"),
            check=functools.partial(attains, act.name, z0, sign, bound)))
    text = (f"{sg}R(r, s)/(r - s)² <= ({bound})/2 on r, s ∈ [{box['r'][0]:g}, {box['r'][1]:g}] "
            f"× [{box['s'][0]:g}, {box['s'][1]:g}] ({act.name}; R/(r-s)² = "
            "∫_0^1 (1-t) σ''(s+t(r-s)) dt)")
    return Certificate(lambda r, s: (sign * quotient(r, s), rhs()), box,
                       {"local": local, "note": text}, text)
