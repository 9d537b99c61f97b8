"""High-precision numeric evaluation of derivation expressions (mpmath).

A derivation step is spot-checked by evaluating both sides at random points.
This module turns a sympy expression into an mpmath evaluator that also
reports an error estimate:

* ordinary sub-expressions are compiled with ``sympy.lambdify(..., "mpmath")``
  and are exact to the working precision;
* an unevaluated ``Integral(f, (x, a, b))`` becomes ``mpmath.quad`` over
  ``[a, b]`` (either limit may be ``±oo``), split on a finite interval at the sign
  changes of every ``Abs(g)`` in ``f`` (a kink inside the interval would cost
  tanh-sinh quadrature most of its digits); the quadrature's own error estimate is
  returned;
* an unevaluated ``Limit(f, x, ±oo)`` is read off at ``x = ±L`` for
  ``L = 10^3`` with an error estimate ``10 |f(L) - f(2L)|``; a finite limit
  point uses ``mpmath.limit``.

Precision is whatever ``mpmath.mp.dps`` is when the evaluator runs; callers
scope it with ``mpmath.workdps``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

__all__ = ["Evaluator", "compile_expr", "NumericFailure"]

_LIMIT_FAR = 1000
_GRID = 32


class NumericFailure(ArithmeticError):
    """A point where an expression has no finite real value."""


@dataclass
class Evaluator:
    """``evaluator(values) -> (value, error_estimate)`` for one expression.

    ``values`` is a sequence of mpmath numbers in the order of ``symbols``.
    """

    symbols: tuple[sp.Symbol, ...]
    body: Callable[..., Any]
    parts: tuple[Callable[[Sequence[Any]], tuple[Any, Any]], ...]

    def raw(self) -> Callable[..., Any] | None:
        """The bare mpmath function ``f(*values)`` when no node needs quadrature or limits."""
        return None if self.parts else self.body

    def __call__(self, values: Sequence[Any]) -> tuple[Any, Any]:
        extra, err = [], mpmath.mpf(0)
        for part in self.parts:
            v, e = part(values)
            extra.append(v)
            err += e
        return _real(self.body(*values, *extra)), err


def _real(value: Any) -> Any:
    """``value`` as a finite mpf, or :class:`NumericFailure`."""
    v = mpmath.mpmathify(value)
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > abs(v.real) * mpmath.mpf(10) ** (-mpmath.mp.dps + 5) + \
                mpmath.mpf(10) ** (-mpmath.mp.dps):
            raise NumericFailure(f"complex value {v}")
        v = v.real
    if not mpmath.isfinite(v):
        raise NumericFailure(f"non-finite value {v}")
    return v


def _outer_nodes(expr: sp.Basic) -> list[sp.Basic]:
    """Integral and Limit nodes of ``expr`` not nested inside another one."""
    if isinstance(expr, (sp.Integral, sp.Limit)):
        return [expr]
    found: list[sp.Basic] = []
    for arg in expr.args:
        for node in _outer_nodes(arg):
            if node not in found:
                found.append(node)
    return found


def compile_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> Evaluator:
    """Compile ``expr`` (free symbols among ``symbols``) into an :class:`Evaluator`."""
    symbols = tuple(symbols)
    nodes = _outer_nodes(expr)
    holders = [sp.Dummy(f"node{i}") for i in range(len(nodes))]
    body_expr = expr.xreplace(dict(zip(nodes, holders, strict=True)))
    body = sp.lambdify(symbols + tuple(holders), body_expr, modules="mpmath")
    parts = tuple(_compile_node(node, symbols) for node in nodes)
    return Evaluator(symbols, body, parts)


def _compile_node(node: sp.Basic, symbols: tuple[sp.Symbol, ...]) -> Callable:
    if isinstance(node, sp.Integral):
        return _compile_integral(node, symbols)
    return _compile_limit(node, symbols)


def _compile_integral(node: sp.Integral, symbols: tuple[sp.Symbol, ...]) -> Callable:
    """``∫_a^b f(x) dx`` by tanh-sinh quadrature, split at kinks of ``Abs``."""
    if len(node.limits) != 1 or len(node.limits[0]) != 3:
        raise NumericFailure(f"only definite one-variable integrals are evaluated: {node}")
    var, lo_expr, hi_expr = node.limits[0]
    bound = sp.Dummy(var.name, real=True)  # the bound variable may share a domain symbol's name
    function = node.function.xreplace({var: bound})
    inner = (bound,) + symbols
    integrand = compile_expr(function, inner)
    lo, hi = _bound(lo_expr, symbols), _bound(hi_expr, symbols)
    kinks = [compile_expr(a.args[0], inner) for a in function.atoms(sp.Abs)
             if a.args[0].has(bound)]

    def evaluate(values: Sequence[Any]) -> tuple[Any, Any]:
        a, b = lo(values)[0], hi(values)[0]
        sign, (a, b) = (1, (a, b)) if a <= b else (-1, (b, a))
        if a == b:
            return mpmath.mpf(0), mpmath.mpf(0)
        pts = [a, *_sign_changes(kinks, values, a, b), b] if mpmath.isfinite(b - a) else [a, b]
        raw = integrand.raw()
        f = (lambda x: raw(x, *values)) if raw else (lambda x: integrand([x, *values])[0])
        value, err = mpmath.quad(f, pts, error=True)
        return sign * _real(value), abs(err)

    return evaluate


def _bound(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]) -> Callable:
    """An integration limit; ``±oo`` becomes ``±mpmath.inf`` (tanh-sinh maps it)."""
    if expr in (sp.oo, -sp.oo):
        value = mpmath.inf if expr == sp.oo else -mpmath.inf
        return lambda values: (value, mpmath.mpf(0))
    return compile_expr(expr, symbols)


def _sign_changes(kinks: list[Evaluator], values: Sequence[Any], a: Any, b: Any) -> list[Any]:
    """Sorted roots in (a, b) of the arguments of ``Abs``, found on a grid and refined."""
    roots: list[Any] = []
    grid = [a + (b - a) * k / _GRID for k in range(_GRID + 1)]
    for g in kinks:
        raw = g.raw()
        h = (lambda x, r=raw: r(x, *values)) if raw else (lambda x, g=g: g([x, *values])[0])
        signs = [mpmath.sign(h(x)) for x in grid]
        for k in range(_GRID):
            if signs[k] * signs[k + 1] < 0:
                roots.append(_bracketed_root(h, grid[k], grid[k + 1]))
            elif signs[k + 1] == 0 and 0 < k + 1 < _GRID:
                roots.append(grid[k + 1])
    return sorted(set(roots))


def _bracketed_root(h: Callable[[Any], Any], x0: Any, x1: Any) -> Any:
    try:
        return mpmath.findroot(h, (x0, x1), solver="anderson")
    except (ValueError, ZeroDivisionError):
        return (x0 + x1) / 2


def _compile_limit(node: sp.Limit, symbols: tuple[sp.Symbol, ...]) -> Callable:
    """``lim_{x -> x0} f``: far-field value at ±oo, ``mpmath.limit`` otherwise."""
    f_expr, var, x0, direction = node.args
    bound = sp.Dummy(var.name, real=True)  # the bound variable may share a domain symbol's name
    inner = (bound,) + symbols
    f = compile_expr(f_expr.xreplace({var: bound}), inner)
    at_inf = x0 in (sp.oo, -sp.oo)
    # at ±oo the side is the sign of the point (sympy records dir='-' for +oo);
    # at a finite point, dir='-' means from the left
    if at_inf:
        sgn = 1 if x0 == sp.oo else -1
    else:
        sgn = -1 if str(direction) == "-" else 1

    def evaluate(values: Sequence[Any]) -> tuple[Any, Any]:
        g = lambda x: f([x, *values])[0]  # noqa: E731
        if at_inf:
            near, far = g(sgn * _LIMIT_FAR), g(sgn * 2 * _LIMIT_FAR)
            return far, 10 * abs(far - near)
        point = compile_expr(x0, symbols)(values)[0]
        value = mpmath.limit(g, point, direction=sgn)
        return _real(value), mpmath.mpf(10) ** (-mpmath.mp.dps // 2)

    return evaluate
