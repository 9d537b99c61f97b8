r"""Smoothness constants β_σ = sup_z |σ''(z)|, derived exactly, as objects.

Prop. 4.1 (Telgarsky's notes) needs |σ''| <= β; theorem files import β from
here (:func:`smoothness_constant`), never a second copy.

Point evaluations in the steps are unevaluated ``Subs`` objects and maxima are
unevaluated ``Max``, so each step shows (and the checker closes) the computation
itself rather than a result sympy already folded to ``0 == 0`` at construction.

Route for sigmoid, tanh, softplus, erf and GELU (critical points). With a
substitution x = φ(z) (φ = sigmoid, tanh or the identity, strictly
increasing), sympy writes σ''' = W(φ(z)) · Π_i (φ(z) - x_i) with W free of
real zeros, ``solveset`` gives the x_i exactly, and z_i = φ^{-1}(x_i). The
derivation's steps check: the factorisation; the constant sign of W; φ' > 0
(together: the z_i are *all* the critical points of σ''); φ(z_i) = x_i;
σ'''(z_i) = 0; the values σ''(z_i); the limits of σ'' at ±∞; and β = the
largest of |σ''(z_i)| and |lim σ''|. The last step is the extreme-value
argument: a continuous σ'' with limits at ±∞ has sup |σ''| either equal to a
limit or attained at an interior extremum, where σ''' = 0.

Route for SiLU (σ''' = 0 is transcendental): by parity (σ'' is even) take
x >= 0; then σ'' <= 2 s(1-s) <= 1/2 (s = sigmoid), and σ'' + 1/2 >= G(x) /
(2 (1+e^x)^2) with G = (e^x - x)^2 + 6 e^x - x^2 + 1 > 0, using the lemma
e^x >= 1 + x + x^2/2 (derivative method); σ''(0) = 1/2 attains the bound.

Certificates (:func:`sup_certificate`): the inputs of ``ntk.certify`` for
sign·σ'' <= β on the whole real line, compiled from the catalogue's sympy
expression (:func:`ntkproof.certify.arb_function`, one source). Branch and bound
on [-10, 10]; around each argmax z* where sign·σ''(z*) = β, a second-order
argument (sign·σ''(z*) = β and σ'''(z*) = 0 checked by sympy, the arb enclosure of
sign·σ'''' <= 0 on the neighbourhood); each tail |z| >= 10 rewritten in a variable
u ∈ (0, U] that tends to 0 as |z| → ∞ (u = e^{-|z|}, e^{-2|z|}, e^{-z²/2} or
e^{-z²}, see ``_TAILS``), where σ'' is a closed form in u extended by continuity
to u = 0 (sympy checks the identity, that z(u) inverts u(z) and that u(z) moves
towards 0 as |z| grows: :func:`tail_identity`), decided by the same branch and
bound.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flint
import sympy as sp

from ..certify import LocalMax, Tail, arb_function, negative_definite, xlogx
from ..derivation import Derivation, Step, chain
from ..errors import InvalidArgument
from ..nn.activations import SMOOTH_ACTIVATIONS, Activation, get_activation

__all__ = ["SmoothnessConstant", "smoothness_constant", "SMOOTHNESS", "Certificate",
           "sup_certificate", "arb_derivative", "attains", "tail_identity", "local_radius",
           "TAIL_START", "LOCAL_RADIUS"]

Z = Activation.z
_X = sp.Symbol("x", real=True)
_XP = sp.Symbol("x", nonnegative=True)
_DOMAIN = {Z: (-8.0, 8.0)}


@dataclass(frozen=True)
class SmoothnessConstant:
    """β = sup_z |σ''(z)| for one activation, with the derivation proving it.

    ``exact`` is a sympy number, ``value`` its float, ``argmax`` the points where
    |σ''| = β (as sympy numbers), ``derivation`` checkable by
    :func:`ntkproof.derivation.check_derivation`.
    """

    activation: str
    exact: sp.Expr
    value: float
    argmax: tuple[sp.Expr, ...]
    derivation: Derivation

    def __repr__(self) -> str:
        return (f"SmoothnessConstant({self.activation!r}, exact={self.exact}, "
                f"value={self.value!r}, argmax={self.argmax})")


def _sigmoid(e: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-e))


#: (φ(z), range of φ, φ^{-1}(x)) for the activations with solvable critical points.
_SUBSTITUTIONS = {
    "sigmoid": (_sigmoid(Z), (0, 1), sp.log(_X / (1 - _X))),
    "softplus": (_sigmoid(Z), (0, 1), sp.log(_X / (1 - _X))),
    "tanh": (sp.tanh(Z), (-1, 1), sp.atanh(_X)),
    "erf": (Z, (-sp.oo, sp.oo), _X),
    "gelu": (Z, (-sp.oo, sp.oo), _X),
}


def _nice(point: sp.Expr) -> sp.Expr:
    """A short closed form of a critical point (e.g. atanh(√3/3) → log(2+√3)/2)."""
    candidates = [point, sp.simplify(point)]
    logs = sp.logcombine(sp.expand_log(point.rewrite(sp.log), force=True), force=True)
    candidates.append(logs.replace(lambda e: isinstance(e, sp.log),
                                   lambda e: sp.log(sp.radsimp(sp.expand(sp.radsimp(
                                       sp.powdenest(e.args[0] ** 2, force=True))))) / 2))
    if isinstance(point, sp.log):
        candidates.append(-sp.log(sp.radsimp(1 / point.args[0])))
    good = [c for c in candidates if abs(sp.N(c - point, 30)) < 1e-25]
    return min(good, key=lambda c: (c.has(sp.atanh), len(str(c))))


def _critical_points(act: Activation) -> tuple[sp.Expr, list[sp.Expr], sp.Expr]:
    """(P(x) with σ''' = P(φ(z)), sorted real roots x_i in φ's range, W = P / Π(x - x_i))."""
    phi, (lo, hi), inverse = _SUBSTITUTIONS[act.name]
    P = sp.factor(sp.simplify(act.derivative_expr(3).subs(Z, inverse)))
    roots = sp.solveset(P, _X, sp.Interval.open(lo, hi))
    if not isinstance(roots, sp.FiniteSet):
        raise InvalidArgument(f"σ''' of {act.name} has critical set {roots}, expected a finite "
                              "set; use a bound-based derivation instead")
    xs = sorted(roots, key=lambda r: float(r))
    W = sp.factor(sp.cancel(P / sp.Mul(*[_X - r for r in xs])))
    return P, xs, W


def _critical_derivation(act: Activation) -> tuple[Derivation, sp.Expr, tuple]:
    phi, _, inverse = _SUBSTITUTIONS[act.name]
    d2, d3 = act.derivative_expr(2), act.derivative_expr(3)
    _, xs, W = _critical_points(act)
    zs = [sp.simplify(inverse.subs(_X, r)) for r in xs]
    values = [sp.simplify(d2.subs(Z, z0)) for z0 in zs]
    limits = [sp.limit(d2, Z, sp.oo), sp.limit(d2, Z, -sp.oo)]
    beta = sp.simplify(sp.Max(*[sp.Abs(v) for v in values + limits]))
    w_phi = W.subs(_X, phi)
    w_sign = ">" if sp.N(w_phi.subs(Z, 0)) > 0 else "<"
    crit = ", ".join(map(str, zs))
    steps = [
        Step(d3, "==", w_phi * sp.Mul(*[phi - r for r in xs]),
             f"σ''' factored through x = {phi}: roots x_i = {xs}"),
        Step(w_phi, w_sign, 0, "the cofactor W(φ(z)) has no real zero"),
        Step(sp.diff(phi, Z), ">", 0, "φ is strictly increasing, so φ(z) = x_i iff z = z_i; "
                                      f"with the two steps above, {{{crit}}} is the critical set"),
    ]
    steps += [Step(sp.Subs(phi, Z, z0), "==", r, f"φ(z_i) = x_i at z_i = {z0}")
              for z0, r in zip(zs, xs, strict=True)]
    steps += [Step(sp.Subs(d3, Z, z0), "==", 0, f"σ'''({z0}) = 0") for z0 in zs]
    steps += [Step(sp.Subs(d2, Z, z0), "==", v, f"σ'' at the critical point {z0}")
              for z0, v in zip(zs, values, strict=True)]
    steps += [Step(sp.Limit(d2, Z, sp.oo), "==", limits[0], "limit of σ'' at +∞"),
              Step(sp.Limit(d2, Z, -sp.oo), "==", limits[1], "limit of σ'' at -∞")]
    steps.append(Step(beta, "==", sp.Max(*[sp.Abs(v) for v in values + limits], evaluate=False),
                      "extreme values: σ'' is continuous with limits at ±∞, so sup|σ''| is "
                      "the largest |σ''| at a critical point or at ±∞"))
    argmax = tuple(z0 for z0, v in zip(zs, values, strict=True)
                   if sp.simplify(sp.Abs(v) - beta) == 0)
    nice = tuple(_nice(z0) for z0 in argmax)
    x_of = dict(zip(zs, xs, strict=True))
    steps += [Step(sp.Subs(phi, Z, n0), "==", x_of[z0], f"φ({n0}) = φ({z0}): the closed form is "
                   "the same critical point (φ is injective)")
              for z0, n0 in zip(argmax, nice, strict=True) if z0 != n0]
    title = f"β = sup|σ''| = {beta} for {act.name} (critical points {crit})"
    return Derivation(title, tuple(steps), domain=dict(_DOMAIN)), beta, nice


def _silu_derivation(act: Activation) -> tuple[Derivation, sp.Expr, tuple]:
    """The bound route for SiLU; see the module docstring."""
    x = _XP
    d2 = act.derivative_expr(2)
    d2x = d2.subs(Z, x)
    s = _sigmoid(x)
    ex = sp.exp(x)
    G = (ex - x) ** 2 + 6 * ex - x**2 + 1
    half = sp.Rational(1, 2)
    steps: list[Step] = [
        Step(d2.subs(Z, -Z), "==", d2, "σ'' is even, so sup over R = sup over x >= 0"),
        Step(sp.Subs(act.derivative_expr(3), Z, 0), "==", 0, "σ'''(0) = 0 (0 is critical)"),
        Step(sp.Subs(d2, Z, 0), "==", half, "σ''(0) = 1/2 attains the bound"),
        *chain(d2x, ("<=", 2 * s * (1 - s), "x (1 - 2 s(x)) <= 0 for x >= 0", {"method": "nonnegative"}),
               ("<=", half, "s (1 - s) <= 1/4", {"method": "nonnegative"})),
        Step(d2x, "<=", half, "σ'' <= 1/2 on x >= 0", method="transitive", uses=(4, 5)),
        Step(ex, ">=", 1 + x + x**2 / 2, "e^x >= 1 + x + x^2/2 for x >= 0 (third derivative "
             "e^x >= 0, equality of lower derivatives at 0)", method="derivative",
             variable=x, base=0, order=3),
        *chain(G, ("==", (ex - x) ** 2 + (6 * ex - x**2 + 1), "regroup"),
               (">=", 6 * ex - x**2 + 1, "a square is >= 0", {"method": "nonnegative"}),
               (">=", 6 * (1 + x + x**2 / 2) - x**2 + 1, "by step 7",
                {"method": "hypothesis", "hypothesis": 7}),
               (">", 0, "2x^2 + 6x + 7 > 0 for x >= 0", {"method": "nonnegative"})),
        Step(G, ">", 0, "G(x) > 0", method="transitive", uses=(8, 9, 10, 11)),
        *chain(d2x + half,
               (">=", (2 - x) * s * (1 - s) + half, "σ'' - (2 - x) s(1-s) = 2x s(1-s)^2 >= 0",
                {"method": "nonnegative"}),
               ("==", G / (2 * (1 + ex) ** 2), "common denominator"),
               (">=", 0, "by step 12 (G > 0)", {"method": "hypothesis", "hypothesis": 12})),
        Step(d2x + half, ">=", 0, "σ'' >= -1/2 on x >= 0", method="transitive",
             uses=(13, 14, 15)),
        Step(half, "==", sp.Max(sp.Subs(d2, Z, 0), half, evaluate=False), "β = 1/2: |σ''| <= 1/2 (steps 6, 16 "
             "and parity) and σ''(0) = 1/2 (step 3)"),
    ]
    domain = {Z: (-8.0, 8.0), x: (0.0, 8.0)}
    title = "β = sup|σ''| = 1/2 for silu (bound route, attained at 0)"
    return Derivation(title, tuple(steps), domain=domain), half, (sp.S.Zero,)


@functools.cache
def smoothness_constant(activation: str) -> SmoothnessConstant:
    """The exact β = sup|σ''| of a smooth catalogue activation (cached).

    >>> smoothness_constant("softplus").exact
    1/4
    """
    act = get_activation(activation)
    if act.name not in SMOOTH_ACTIVATIONS:
        raise InvalidArgument(f"activation {act.name!r} has no bounded non-zero σ''; expected "
                              f"one of {SMOOTH_ACTIVATIONS} (ReLU: use Lemma 4.1 instead)")
    build = _silu_derivation if act.name == "silu" else _critical_derivation
    derivation, beta, argmax = build(act)
    return SmoothnessConstant(act.name, beta, float(beta), argmax, derivation)


class _Lazy(dict):
    """``SMOOTHNESS[name]``: :func:`smoothness_constant` computed on first access."""

    def __missing__(self, name: str) -> SmoothnessConstant:
        value = smoothness_constant(name)
        self[name] = value
        return value


#: Lazily filled mapping activation name -> :class:`SmoothnessConstant`.
SMOOTHNESS: dict[str, SmoothnessConstant] = _Lazy()


# -- certificates: sign·σ'' <= β on the real line, for ntk.certify ---------------------

#: The branch and bound covers [-TAIL_START, TAIL_START]; the tails cover the rest.
TAIL_START = 10.0
#: Half-width of the neighbourhood of an argmax decided by the second-order argument
#: (the fourth derivative keeps its sign there, with room: checked by the certifier).
LOCAL_RADIUS = 0.1
_U = sp.Symbol("u", positive=True)
_T = sp.Symbol("t", positive=True)


@dataclass(frozen=True)
class Certificate:
    """The inputs of ``ntk.certify(evaluate, box, **options)`` for one inequality,
    and ``statement``, what it certifies (in words)."""

    evaluate: Callable[..., tuple[Any, Any]]
    box: dict[str, tuple[float, float]]
    options: dict[str, Any] = field(default_factory=dict)
    statement: str = ""


_S = sp.Symbol("x", positive=True)


def _substituted(expr: sp.Expr, name: str) -> tuple[sp.Expr, sp.Expr | None]:
    """(form, φ): ``expr`` = form(z, φ(z)), with φ the sigmoid (sigmoid, softplus, SiLU)
    or tanh and form rational in φ; (expr, None) for the others. The form is a
    polynomial in a quantity that arb encloses tightly (φ is monotone), where the
    catalogue's expression in e^{±z} would enclose differences of large terms."""
    phi: sp.Expr
    if name in ("sigmoid", "softplus", "silu"):
        phi = 1 / (1 + sp.exp(-Z))
        form = expr.rewrite(sp.exp).subs({sp.exp(-Z): (1 - _S) / _S, sp.exp(Z): _S / (1 - _S)})
    elif name == "tanh":
        phi, form = sp.tanh(Z), expr.subs(sp.tanh(Z), _S)
    else:
        return expr, None
    form = sp.factor(sp.cancel(form))
    if form.has(sp.exp) or form.has(sp.tanh):
        raise InvalidArgument(f"derivative of {name}: the substitution left {form}")
    return form, phi


@functools.cache
def arb_derivative(activation: str, order: int) -> Callable[..., Any]:
    """σ^(order) as an arb function of one ball, compiled from the catalogue's sympy
    expression (:func:`ntkproof.certify.arb_function`), through x = sigmoid(z) or
    tanh(z) where that applies (sympy checks form(z, φ(z)) = σ^(order)(z) when the
    function is built)."""
    name = get_activation(activation).name
    expr = get_activation(name).derivative_expr(order)
    form, phi = _substituted(expr, name)
    if phi is None:
        return arb_function(expr, [Z])
    if not _is_zero(form.xreplace({_S: phi}) - expr):
        raise InvalidArgument(f"the form {form} of σ^({order}) for {name} does not simplify "
                              "back to the catalogue's expression")
    f, x = arb_function(form, [Z, _S]), arb_function(phi, [Z])
    return lambda z: f(z, x(z))


def _is_zero(expr: sp.Expr) -> bool:
    """sympy proves ``expr == 0``: first by rational simplification after writing
    tanh and friends in exp (powers denested with force: every base here is positive,
    u > 0 or an exponential), then by ``simplify`` when a symbolic residual is left."""
    expr = sp.sympify(expr)
    e = sp.powdenest(sp.together(expr.rewrite(sp.exp)), force=True)
    fast = sp.cancel(sp.radsimp(sp.together(sp.expand(e))))
    if fast == 0:
        return True
    if not fast.free_symbols:
        return False
    return bool(sp.simplify(expr) == 0)


@functools.cache
def attains(activation: str, point: sp.Expr, sign: int, bound: sp.Expr) -> bool:
    """sympy: sign·σ''(point) = bound and σ'''(point) = 0 (the premises of the
    second-order argument at ``point``)."""
    act = get_activation(activation)
    at = {Z: point}
    return (_is_zero(sign * act.derivative_expr(2).xreplace(at) - bound)
            and _is_zero(act.derivative_expr(3).xreplace(at)))


def _log_forms(name: str) -> dict[int, tuple[sp.Expr, sp.Expr, sp.Expr, str]]:
    """side -> (u(z), z(u), σ''(z(u)) as a closed form in u, u in words)."""
    u, z, lg = _U, Z, sp.log(_U)
    if name == "sigmoid":
        return {1: (sp.exp(-z), -lg, u * (u - 1) / (1 + u) ** 3, "u = e^{-z}"),
                -1: (sp.exp(z), lg, u * (1 - u) / (1 + u) ** 3, "u = e^{z}")}
    if name == "tanh":
        return {1: (sp.exp(-2 * z), -lg / 2, -8 * u * (1 - u) / (1 + u) ** 3, "u = e^{-2z}"),
                -1: (sp.exp(2 * z), lg / 2, 8 * u * (1 - u) / (1 + u) ** 3, "u = e^{2z}")}
    if name == "softplus":
        return {1: (sp.exp(-z), -lg, u / (1 + u) ** 2, "u = e^{-z}"),
                -1: (sp.exp(z), lg, u / (1 + u) ** 2, "u = e^{z}")}
    if name == "silu":
        form = (2 * u * (1 + u) + (1 - u) * xlogx(u)) / (1 + u) ** 3
        return {1: (sp.exp(-z), -lg, form, "u = e^{-z}"),
                -1: (sp.exp(z), lg, form, "u = e^{z}")}
    if name == "gelu":
        form = sp.sqrt(2 / sp.pi) * (u + xlogx(u))
        root = sp.sqrt(-2 * lg)
        return {1: (sp.exp(-z**2 / 2), root, form, "u = e^{-z²/2}"),
                -1: (sp.exp(-z**2 / 2), -root, form, "u = e^{-z²/2}")}
    if name == "erf":
        form = 4 / sp.sqrt(sp.pi) * sp.sqrt(-u * xlogx(u))
        root = sp.sqrt(-lg)
        return {1: (sp.exp(-z**2), root, -form, "u = e^{-z²}"),
                -1: (sp.exp(-z**2), -root, form, "u = e^{-z²}")}
    raise InvalidArgument(f"no tail form for {name!r}; expected one of {SMOOTH_ACTIVATIONS}")


#: The tails' rewritings, per activation: side -> (u(z), z(u), σ'' in u, u in words).
_TAILS = {name: _log_forms(name) for name in SMOOTH_ACTIVATIONS}


@functools.cache
def tail_identity(activation: str, side: int) -> bool:
    """sympy, on the side's half line: σ''(z) = form(u(z)), z(u(z)) = z, u(z) moves
    towards 0 as |z| grows (u' has the sign of -z) and u(z) → 0 as |z| → ∞."""
    u_of_z, z_of_u, form, _ = _TAILS[activation][side]
    z = side * _T  # z > 0 on side +1, z < 0 on side -1
    d2 = get_activation(activation).derivative_expr(2)
    u_at = u_of_z.xreplace({Z: z})
    identity = _is_zero(form.rewrite(sp.log).xreplace({_U: u_at}) - d2.xreplace({Z: z}))
    inverse = _is_zero(z_of_u.xreplace({_U: u_at}) - z)
    moves = bool((side * sp.diff(u_of_z, Z).xreplace({Z: z})).is_negative)
    limit = sp.limit(u_at, _T, sp.oo) == 0
    return bool(identity and inverse and moves and limit)


def _tail(activation: str, side: int, sign: int, bound: sp.Expr, start: float) -> Tail:
    u_of_z, z_of_u, form, words = _TAILS[activation][side]
    # an upper end of u's range at least u(±start): z(U) then reaches the box (arb-checked)
    top = float(sp.N(u_of_z.xreplace({Z: side * sp.Integer(round(start))}), 30)) * (1 + 1e-9)
    lhs, rhs = arb_function(sign * form, [_U]), arb_function(bound, [])
    original = arb_function(z_of_u, [_U])
    rel = "≥" if side > 0 else "≤"
    return Tail("z", side * start, side, description=words,
                evaluate=lambda u: (lhs(u), rhs()), box={"u": (0.0, top)},
                to_original=lambda u: original(u),
                proof=(f"{words}: σ''(z) = {form} for z {rel} {side * start:g}, z = {z_of_u}, "
                       "u → 0 monotonically as |z| → ∞ (sympy)"),
                check=functools.partial(tail_identity, activation, side))


def _sign_text(sign: int) -> str:
    return "" if sign > 0 else "-"


def local_radius(hessian: Callable[..., Any], center: dict[str, float], radius: float
                 ) -> float:
    """The largest of radius, 0.8·radius, 0.8²·radius, ... (down to radius/64) on which the enclosure
    ``hessian(**balls)`` of the Hessian of lhs - rhs is negative definite around
    ``center`` (:func:`ntkproof.certify.negative_definite`). The certifier checks it
    again; this only picks a radius where that check will pass."""
    r = radius
    while r >= radius / 64:
        balls = {k: flint.arb(c, r) for k, c in center.items()}
        if negative_definite(hessian(**balls), len(center))[0]:
            return r
        r *= 0.8
    return radius


def sup_certificate(activation: str, bound: sp.Expr, sign: int = 1, *,
                    start: float = TAIL_START, radius: float = LOCAL_RADIUS) -> Certificate:
    """The certificate of sign·σ''(z) <= ``bound`` for every real z (``bound`` a sympy
    constant; sign ±1 covers the two halves of |σ''| <= bound).

    Box z ∈ [-start, start] by branch and bound; a :class:`~ntkproof.certify.LocalMax`
    at each exact argmax z* of |σ''| (from :func:`smoothness_constant`) where σ'' has
    the sign ``sign``, with sympy's check (:func:`attains`) that sign·σ''(z*) = bound
    and σ'''(z*) = 0, so that a bound below the attained value is refused there and the
    branch and bound falsifies it; the tails |z| >= start by :data:`_TAILS`.
    """
    act = get_activation(activation)
    sc = smoothness_constant(act.name)
    d2, d4 = arb_derivative(act.name, 2), arb_derivative(act.name, 4)
    rhs = arb_function(bound, [])
    sg = _sign_text(sign)
    local = []
    for z0 in sc.argmax:
        if sp.sign(sp.N(act.derivative_expr(2).xreplace({Z: z0}))) != sign:
            continue
        rad = local_radius(lambda z: sign * d4(z), {"z": float(z0)}, radius)
        local.append(LocalMax(
            {"z": z0}, rad, hessian=lambda z: sign * d4(z),
            proof=(f"f = {sg}σ'' - bound: f(z*) = 0 and f'(z*) = {sg}σ'''(z*) = 0 at z* = {z0} "
                   f"(sympy), f'' = {sg}σ''''"),
            check=functools.partial(attains, act.name, z0, sign, bound)))
    tails = [_tail(act.name, side, sign, bound, start) for side in (1, -1)]
    text = f"{sg}σ''(z) <= {bound} for all real z ({act.name})"
    return Certificate(lambda z: (sign * d2(z), rhs()), {"z": (-start, start)},
                       {"local": local, "tails": tails, "note": text}, text)
