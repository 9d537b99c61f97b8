"""Closers that need structure: the derivative method, hypotheses, named rules.

* :func:`close_derivative` — a function with equal values (derivatives) at a
  base point and identically equal n-th derivatives is identically equal
  (Taylor / integration by parts / FTC); for inequalities, non-negative
  derivatives at the base and a non-negative n-th derivative on x >= b.
* :func:`close_by_hypothesis` — monotone substitution of a hypothesis
  ``A <= B`` into the step (see :mod:`ntkproof.derivation`).
* :data:`RULES` — named inference rules; ``sum_triangle`` is
  ``c |t_1 + ... + t_n| <= c (|t_1| + ... + |t_n|)`` (c >= 0); ``integral_triangle`` is
  ``|∫_a^b f| <= ∫_a^b g`` when ``a <= b`` and ``g = |f|`` (or ``g >= |f|``)
  pointwise on the interval; ``integral_monotone`` is ``∫_a^b f <= ∫_a^b g``
  when ``a <= b`` and ``f <= g`` pointwise.

"Pointwise on the interval" is made symbolic by the substitution
``x = a + (b - a)/(1 + q)`` with ``q >= 0``, which sweeps ``(a, b]`` and lets
the assumption system see ``b - x >= 0`` and ``x - a >= 0``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import sympy as sp

from .symbolic import Closure, close_equal, close_sign, zero_empty_integrals

__all__ = ["close_derivative", "close_by_hypothesis", "RULES"]


def _gap(lhs: sp.Expr, rel: str, rhs: sp.Expr) -> sp.Expr:
    """The quantity that must be 0 (``==``) or >= 0 (inequalities)."""
    if rel == "==" or rel in (">=", ">"):
        return lhs - rhs
    return rhs - lhs


def close_derivative(lhs: sp.Expr, rel: str, rhs: sp.Expr, x: sp.Symbol, base: sp.Expr,
                     order: int) -> Closure:
    """g^{(k)}(base) = 0 (k < order) and g^{(order)} ≡ 0 ⇒ g ≡ 0; likewise with >= 0."""
    strict = rel in ("<", ">")
    if rel != "==" and (x - base).is_nonnegative is not True:
        return Closure("open", f"the derivative method for an inequality needs {x} >= {base} "
                               "from the symbols' assumptions")
    g = _gap(lhs, rel, rhs)
    for k in range(order):
        at_base = zero_empty_integrals(g.subs(x, base))
        c = close_equal(at_base, 0) if rel == "==" else close_sign(at_base, strict and k == 0)
        if c.status != "closed":
            status = "refuted" if (c.status == "refuted" and k == 0) else "open"
            return Closure(status, f"derivative {k} in {x} at {x}={base}: {c.note}")
        g = sp.diff(g, x)
    final = close_equal(g, 0) if rel == "==" else close_sign(g, False)
    if final.status != "closed":
        status = "refuted" if (final.status == "refuted" and rel == "==") else "open"
        return Closure(status, f"derivative {order} in {x}: {final.note}")
    return Closure("closed", f"derivatives 0..{order - 1} agree at {x}={base} and "
                             f"derivative {order} closes ({final.note})")


def split_abs(expr: sp.Expr) -> sp.Expr:
    """|a b| -> |a| |b| and |a^n| -> |a|^n (n integer), everywhere: a canonical form in
    which the same factor gives the same ``Abs`` on both sides of a step."""
    def split(e: sp.Abs) -> sp.Expr:
        arg = e.args[0]
        if arg.is_Mul:
            return sp.Mul(*[split_abs(sp.Abs(a)) for a in arg.args])
        if arg.is_Pow and arg.exp.is_integer:
            return split_abs(sp.Abs(arg.base)) ** arg.exp
        return e
    return expr.replace(lambda e: isinstance(e, sp.Abs), split)


def _replace_part(expr: sp.Expr, part: sp.Expr, v: sp.Symbol) -> sp.Expr:
    """``expr`` with ``part`` replaced by ``v``; a product ``part`` may be a sub-product
    of a larger product (sympy flattens ``Abs(σ'')·w`` into one Mul)."""
    out = expr.xreplace({part: v})
    if out != expr or not part.is_Mul:
        return out
    want = Counter(part.args)

    def holds(e: sp.Basic) -> bool:
        return e.is_Mul and not (want - Counter(e.args))

    return expr.replace(holds, lambda e: v * sp.Mul(*(Counter(e.args) - want).elements()))


def _tidy_abs(expr: sp.Expr) -> sp.Expr:
    return expr.replace(lambda e: isinstance(e, sp.Abs), lambda e: sp.Abs(sp.factor(e.args[0])))


def _pointwise(integral: sp.Integral) -> tuple[sp.Symbol, dict] | None:
    """(variable, substitution sweeping (a, b]) for a one-variable ∫_a^b with a <= b."""
    if len(integral.limits) != 1 or len(integral.limits[0]) != 3:
        return None
    x, a, b = integral.limits[0]
    if close_sign(b - a, strict=False).status != "closed":
        return None
    q = sp.Dummy("q", nonnegative=True)
    return x, {x: a + (b - a) / (1 + q)}


def reduce_integrals(lhs: sp.Expr, rhs: sp.Expr) -> tuple[sp.Expr, sp.Expr, dict] | None:
    """``∫_a^b f`` vs ``∫_a^b g`` (a <= b) → ``(f, g, pointwise substitution)``."""
    if not (isinstance(lhs, sp.Integral) and isinstance(rhs, sp.Integral)):
        return None
    if len(rhs.limits) != 1 or len(rhs.limits[0]) != 3:
        return None
    found = _pointwise(lhs)
    if found is None:
        return None
    x, sub = found
    y, c, d = rhs.limits[0]
    _, a, b = lhs.limits[0]
    if sp.simplify(a - c) != 0 or sp.simplify(b - d) != 0:
        return None
    return split_abs(lhs.function), split_abs(rhs.function.xreplace({y: x})), sub


def _at(expr: sp.Expr, sub: dict) -> sp.Expr:
    return _tidy_abs(expr.subs(sub)) if sub else expr


def _find(target: sp.Expr, pattern: sp.Expr, bound: tuple) -> tuple[sp.Expr, dict] | None:
    """An occurrence of ``pattern`` in ``target``: exact first, then with bound symbols wild."""
    for sub in sp.preorder_traversal(target):
        if sub == pattern or (pattern.is_Mul and sub.is_Mul
                              and not (Counter(pattern.args) - Counter(sub.args))):
            return pattern, {}
    if not bound:
        return None
    wild = {b: sp.Wild(f"w_{b.name}") for b in bound}
    pat = pattern.xreplace(wild)
    for sub in sp.preorder_traversal(target):
        m = sub.match(pat) if isinstance(sub, sp.Expr) else None
        if m and all(w in m for w in wild.values()):
            return sub, {b: m[w] for b, w in wild.items()}
    return None


def close_by_hypothesis(lhs: sp.Expr, rel: str, rhs: sp.Expr, hyp: Any) -> Closure:
    """Close ``lhs rel rhs`` by monotone substitution of ``hyp`` (a Hypothesis)."""
    if hyp.relation == "==":
        return _by_equality(lhs, rel, rhs, hyp)
    if rel == "==":
        return Closure("open", f"an inequality hypothesis ({hyp.name}) cannot give an equality")
    strict = rel in ("<", ">")
    if rel in (">=", ">"):
        lhs, rhs = rhs, lhs
    low, high = (hyp.lhs, hyp.rhs) if hyp.relation in ("<=", "<") else (hyp.rhs, hyp.lhs)
    low, high = split_abs(low), split_abs(high)
    reduced = reduce_integrals(lhs, rhs)
    L, R, sub = reduced if reduced is not None else (lhs, rhs, {})
    for side, pattern, mono, other in (("L", low, 1, high), ("L", high, -1, low),
                                       ("R", high, 1, low), ("R", low, -1, high)):
        found = _find(L if side == "L" else R, pattern, hyp.bound)
        if found is None:
            continue
        closure = _monotone_try(L, R, side, found, mono, other, strict, sub)
        if closure is not None:
            return Closure("closed", f"by {hyp.name}: {closure}")
    return Closure("open", f"could not apply {hyp.name} by monotone substitution")


def _monotone_try(L: sp.Expr, R: sp.Expr, side: str, found: tuple, mono: int,
                  other: sp.Expr, strict: bool, sub: dict) -> str | None:
    occurrence, binding = found
    v = sp.Dummy("v", real=True)
    target = L if side == "L" else R
    F = _replace_part(target, occurrence, v)
    slope = _at(mono * sp.diff(F, v), sub)
    if close_sign(slope, strict=False).status != "closed":
        return None
    Fo = F.subs(v, other.xreplace(binding))
    gap = (R - Fo) if side == "L" else (Fo - L)
    c = close_sign(_at(gap, sub), strict)
    if c.status != "closed":
        return None
    direction = "non-decreasing" if mono > 0 else "non-increasing"
    return f"the {'left' if side == 'L' else 'right'} side is {direction} in the hypothesis' " \
           f"term, and the substituted step closes ({c.note})"


def _by_equality(lhs: sp.Expr, rel: str, rhs: sp.Expr, hyp: Any) -> Closure:
    for a, b in ((hyp.lhs, hyp.rhs), (hyp.rhs, hyp.lhs)):
        new_l, new_r = lhs.xreplace({a: b}), rhs.xreplace({a: b})
        if (new_l, new_r) == (lhs, rhs):
            continue
        c = close_equal(new_l, new_r) if rel == "==" else close_sign(
            _gap(new_l, rel, new_r), rel in ("<", ">"))
        if c.status == "closed":
            return Closure("closed", f"substituting {hyp.name}: {c.note}")
    return Closure("open", f"substituting {hyp.name} did not close the step")


def _integral_triangle(lhs: sp.Expr, rel: str, rhs: sp.Expr) -> Closure:
    """|∫_a^b f| <= ∫_a^b g for a <= b and g >= |f| pointwise."""
    if rel in (">=", ">"):
        lhs, rhs = rhs, lhs
    if rel not in ("<=", ">=") or not isinstance(lhs, sp.Abs):
        return Closure("open", "integral_triangle applies to |∫_a^b f| <= ∫_a^b g")
    reduced = reduce_integrals(lhs.args[0], rhs)
    if reduced is None:
        return Closure("open", "integral_triangle needs two integrals over the same [a, b], a <= b")
    f, g, sub = reduced
    c = close_sign(_at(g - split_abs(sp.Abs(f)), sub), strict=False)
    return Closure(c.status if c.status == "closed" else "open",
                   f"triangle inequality for integrals; pointwise: {c.note}")


def _integral_monotone(lhs: sp.Expr, rel: str, rhs: sp.Expr) -> Closure:
    """∫_a^b f <= ∫_a^b g for a <= b and f <= g pointwise."""
    if rel in (">=", ">"):
        lhs, rhs = rhs, lhs
    reduced = reduce_integrals(lhs, rhs) if rel in ("<=", ">=") else None
    if reduced is None:
        return Closure("open", "integral_monotone needs ∫_a^b f <= ∫_a^b g with a <= b")
    f, g, sub = reduced
    c = close_sign(_at(g - f, sub), strict=False)
    return Closure(c.status if c.status == "closed" else "open",
                   f"monotonicity of the integral; pointwise: {c.note}")


def _sum_triangle(lhs: sp.Expr, rel: str, rhs: sp.Expr) -> Closure:
    """c·|Σ_i t_i| <= rhs when c >= 0 and rhs - c·Σ_i |t_i| >= 0 (|a b| split as |a||b|)."""
    if rel in (">=", ">"):
        lhs, rhs = rhs, lhs
    absolutes = [f for f in sp.Mul.make_args(lhs) if isinstance(f, sp.Abs) and f.args[0].is_Add]
    if rel not in ("<=", ">=") or len(absolutes) != 1:
        return Closure("open", "sum_triangle applies to c·|t_1 + ... + t_n| <= rhs")
    c = sp.Mul(*[f for f in sp.Mul.make_args(lhs) if f is not absolutes[0]])
    if close_sign(c, strict=False).status != "closed":
        return Closure("open", f"sum_triangle needs the factor {c} >= 0")
    terms = sp.Add.make_args(absolutes[0].args[0])
    bound = c * sp.Add(*[split_abs(sp.Abs(t)) for t in terms])
    gap = split_abs(rhs) - bound
    closed = close_equal(gap, 0) if close_equal(gap, 0).status == "closed" else \
        close_sign(gap, strict=False)
    return Closure(closed.status if closed.status == "closed" else "open",
                   f"triangle inequality for a sum of {len(terms)} terms; then {closed.note}")


RULES: dict[str, Callable[[sp.Expr, str, sp.Expr], Closure]] = {
    "sum_triangle": _sum_triangle,
    "integral_triangle": _integral_triangle,
    "integral_monotone": _integral_monotone,
}
