r"""Sympy expressions as rigorous arb functions, so a certificate encloses the very
expression a derivation proves things about (one source, no second copy).

:func:`arb_function` compiles an expression once into a closure on ``flint.arb``
balls; every operation is one of arb's, each rigorous, so the result encloses the
expression's value at every point of the argument balls. Constants (π, e, rationals,
√2) are evaluated at the working precision of the call. A sympy ``Float`` is refused:
its value is a decimal that a binary ball would round silently.

:class:`xlogx` is x·log x extended by its limit 0 at x = 0; its enclosure
(:func:`arb_xlogx`) is exact at 0, which ``x * log(x)`` is not (log of a ball that
contains 0 is infinite). Tails written in u = e^{-z} (u → 0 as z → ∞) need it.

>>> import flint, sympy as sp
>>> x = sp.Symbol("x")
>>> f = arb_function(x * (1 - x), [x])
>>> f(flint.arb(0.5)).upper() <= flint.arb(0.25)
True
>>> arb_xlogx(flint.arb(0)).contains(0)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flint
import sympy as sp

from ..errors import InvalidArgument

__all__ = ["arb_function", "arb_value", "arb_xlogx", "arb_pow", "arb_sqrt", "xlogx"]

Node = Callable[[Sequence[Any]], Any]


class xlogx(sp.Function):  # noqa: N801 - sympy's convention for function names
    r"""x·log x, extended continuously by 0 at x = 0 (for tails in u = e^{-z}).

    ``expr.rewrite(sp.log)`` gives ``x*log(x)``, for sympy to check identities.
    """

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_zero:
            return sp.S.Zero
        return None

    def _eval_rewrite_as_log(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return x * sp.log(x)


def arb_xlogx(x: Any) -> Any:
    """An enclosure of {t·log t : t ∈ x, t >= 0} (0 at t = 0, the limit).

    Away from 0 it is arb's ``x * log(x)``. For a ball that reaches 0 (only its
    non-negative part counts: the function is defined on [0, ∞)), with b its upper
    end: t·log t decreases on [0, 1/e] from 0 to -1/e and increases after, so its
    range on [0, b] is [b·log b, 0] for b <= 1/e and [-1/e, max(0, b·log b)] beyond.
    """
    if x.lower() > 0:
        return x * x.log()
    b = x.upper()
    if not b >= 0:
        return flint.arb("nan")
    if b.is_zero():
        return flint.arb(0)
    end = b * b.log()
    out = flint.arb(0).union(end)
    if not b * flint.arb.const_e() <= 1:
        out = out.union(-(-flint.arb(1)).exp())
    return out


def arb_sqrt(x: Any) -> Any:
    """The real square root: an enclosure of √t for the t >= 0 in ``x``.

    A ball that reaches below 0 only through arb's rounded radius (u ∈ [0, U] is the
    ball U/2 ± U/2·(1 + 2^-30)) keeps its non-negative part: the expression is real
    only where its argument is >= 0, and at those points the enclosure holds. A ball
    wholly below 0 gives nan (undecided).
    """
    if x.lower() >= 0:
        return x.sqrt()
    if not x.upper() >= 0:
        return flint.arb("nan")
    return x.nonnegative_part().sqrt()


def arb_pow(x: Any, n: int) -> Any:
    """x**n for an integer n, tight for even n on balls that contain 0 (arb's own
    ``**`` returns nan for a ball with negative values)."""
    if n < 0:
        return 1 / arb_pow(x, -n)
    if n == 0:
        return flint.arb(1)
    if n % 2 == 0:
        lo, hi = x.abs_lower(), x.abs_upper()
        return _power_exact(lo, n).union(_power_exact(hi, n))
    return x * arb_pow(x, n - 1)


def _power_exact(p: Any, n: int) -> Any:
    out = flint.arb(1)
    for _ in range(n):
        out = out * p
    return out


_FUNCTIONS: dict[Any, Callable[[Any], Any]] = {
    sp.exp: lambda a: a.exp(), sp.log: lambda a: a.log(), sp.tanh: lambda a: a.tanh(),
    sp.erf: lambda a: a.erf(), sp.erfc: lambda a: a.erfc(), sp.sin: lambda a: a.sin(),
    sp.cos: lambda a: a.cos(), sp.sinh: lambda a: a.sinh(), sp.cosh: lambda a: a.cosh(),
    sp.atan: lambda a: a.atan(), sp.sech: lambda a: a.sech(), xlogx: arb_xlogx,
    sp.Abs: lambda a: flint.arb(a.abs_lower()).union(a.abs_upper()),
}


def _compile(e: sp.Expr, index: dict[sp.Symbol, int]) -> Node:
    if e.is_Symbol:
        if e not in index:
            raise InvalidArgument(f"arb_function: the expression has the free symbol {e}, "
                                  f"which is not among the variables {list(index)}; add it")
        i = index[e]
        return lambda a: a[i]
    if e.is_Integer:
        n = int(e)
        return lambda a: flint.arb(n)
    if e.is_Rational:
        q = flint.fmpq(int(e.p), int(e.q))
        return lambda a: flint.arb(q)
    if e is sp.pi:
        return lambda a: flint.arb.pi()
    if e is sp.E:
        return lambda a: flint.arb.const_e()
    if e.is_Float:
        raise InvalidArgument(f"arb_function: the Float {e} is a rounded decimal; write the "
                              "constant exactly (sp.Rational, sp.sqrt, sp.pi, ...)")
    parts = [_compile(arg, index) for arg in e.args]
    if e.is_Add:
        return lambda a: _fold(parts, a, lambda x, y: x + y)
    if e.is_Mul:
        return lambda a: _fold(parts, a, lambda x, y: x * y)
    if e.is_Pow:
        return _compile_pow(e, parts)
    fn = _FUNCTIONS.get(e.func)
    if fn is not None and len(parts) == 1:
        (inner,) = parts
        return lambda a: fn(inner(a))
    raise InvalidArgument(f"arb_function: no rigorous enclosure for {e.func.__name__} (in "
                          f"{e}); supported: + * ** and {sorted(f.__name__ for f in _FUNCTIONS)}")


def _fold(parts: list[Node], a: Sequence[Any], op: Callable[[Any, Any], Any]) -> Any:
    out = parts[0](a)
    for p in parts[1:]:
        out = op(out, p(a))
    return out


def _compile_pow(e: sp.Expr, parts: list[Node]) -> Node:
    base, expo = parts
    ex = e.args[1]
    if ex.is_Integer:
        n = int(ex)
        return lambda a: arb_pow(base(a), n)
    if ex.is_Rational and ex.q == 2:
        p = int(ex.p)
        return lambda a: arb_pow(arb_sqrt(base(a)), p)
    return lambda a: (expo(a) * base(a).log()).exp()


def arb_function(expr: Any, variables: Sequence[sp.Symbol]) -> Callable[..., Any]:
    """Compile ``expr`` into ``f(*balls)`` (positional, in the order of ``variables``)
    returning an arb ball that encloses ``expr`` at every point of the balls.

    >>> import flint, sympy as sp
    >>> z = sp.Symbol("z")
    >>> f = arb_function(sp.exp(-z) * z**2, [z])
    >>> f(flint.arb(1)).overlaps(flint.arb(float(sp.exp(-1))))
    True
    """
    expr = sp.sympify(expr)
    index = {v: i for i, v in enumerate(variables)}
    node = _compile(expr, index)
    n = len(index)

    def f(*balls: Any) -> Any:
        if len(balls) != n:
            raise InvalidArgument(f"arb function of {list(index)} called with {len(balls)} "
                                  "balls")
        return node(balls)

    f.__doc__ = f"arb enclosure of {expr} in {list(index)}"
    return f


def arb_value(expr: Any) -> Any:
    """An arb ball enclosing a constant sympy expression at the working precision.

    >>> import sympy as sp
    >>> arb_value(sp.sqrt(3) / 18).overlaps(arb_value(1 / (6 * sp.sqrt(3))))
    True
    """
    expr = sp.sympify(expr)
    if expr.free_symbols:
        raise InvalidArgument(f"arb_value: {expr} is not a constant (free symbols "
                              f"{sorted(map(str, expr.free_symbols))})")
    return arb_function(expr, [])()
