"""Symbolic closers for derivation steps: how sympy shows a step holds.

Every closer returns a :class:`Closure` ``(status, note)`` with status

* ``"closed"``  — sympy showed the step (the note says how);
* ``"open"``    — sympy could not decide (the note says what was tried);
* ``"refuted"`` — sympy showed the step false: an equality whose difference
  is a non-zero *number*, or an inequality whose difference has the wrong sign
  under the symbols' assumptions.

Strategy (cheap first, each stage under a time guard):

* equality ``a == b``: ``a - b`` after evaluating limits, derivatives and
  polynomial integrals, then ``expand``, ``cancel``, the exponential
  substitution (``x = log t`` with ``t > 0`` for each symbol inside ``exp``,
  after rewriting hyperbolic functions as exponentials, then ``cancel``),
  ``trigsimp``, ``simplify`` (skipped above a size limit), and finally
  ``Expr.equals``.
* sign ``d >= 0`` (or ``> 0``): sympy's assumption system on ``d`` and on the
  same rewritten forms, then an exact decision for a rational function of one
  symbol (real roots of each odd-multiplicity factor, isolated exactly, must
  avoid the symbol's interval; the sign is read at one interior point).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sympy as sp

__all__ = ["Closure", "close_equal", "close_sign", "evaluate_cheap", "time_limit"]

#: Above this many operations ``simplify`` is not attempted (it can take minutes).
SIMPLIFY_MAX_OPS = 1500
#: Seconds allowed to one rewriting stage.
STAGE_SECONDS = 8.0


@dataclass(frozen=True)
class Closure:
    status: str  # "closed" | "open" | "refuted"
    note: str = ""


class StageTimeout(Exception):
    """A sympy stage ran past :data:`STAGE_SECONDS`."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`StageTimeout` after ``seconds`` (main thread on Unix only;
    elsewhere the stage simply runs unguarded)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _raise(signum, frame):  # noqa: ARG001
        raise StageTimeout(f"stage exceeded {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _guarded(fn: Callable[[sp.Expr], sp.Expr], expr: sp.Expr) -> sp.Expr | None:
    """``fn(expr)`` or None when it fails or times out."""
    try:
        with time_limit(STAGE_SECONDS):
            return fn(expr)
    except Exception:  # noqa: BLE001 - any sympy failure just means "this stage did not help"
        return None


def zero_empty_integrals(expr: sp.Expr) -> sp.Expr:
    """Replace ``Integral(f, (x, a, a))`` by 0 without integrating ``f``."""
    def empty(e: sp.Basic) -> bool:
        return isinstance(e, sp.Integral) and all(
            len(lim) == 3 and sp.simplify(lim[2] - lim[1]) == 0 for lim in e.limits)
    return expr.replace(empty, lambda e: sp.S.Zero)


def _cheap_integral(e: sp.Basic) -> bool:
    if not isinstance(e, sp.Integral) or len(e.limits) != 1:
        return False
    var = e.limits[0][0]
    return e.function.is_polynomial(var) and not e.function.atoms(sp.Subs, sp.Derivative)


def evaluate_cheap(expr: sp.Expr) -> sp.Expr:
    """Evaluate limits, derivatives, substitutions and polynomial integrals.

    Other integrals stay unevaluated: integrating a concrete activation's
    second derivative can take sympy minutes, and the derivation checker
    handles them by other means (derivative method, quadrature).
    """
    expr = zero_empty_integrals(sp.sympify(expr))
    expr = expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())
    expr = expr.replace(lambda e: isinstance(e, sp.Limit), lambda e: e.doit())
    return expr.replace(_cheap_integral, lambda e: e.doit())


def exp_rational(expr: sp.Expr) -> sp.Expr:
    """Substitute ``x = log t`` (``t > 0``) for every symbol inside ``exp``, then cancel.

    Turns expressions rational in ``e^{kx}`` (sigmoid, tanh, softplus
    derivatives) into rational functions that ``cancel`` decides.
    """
    expr = expr.rewrite(sp.exp)
    inside = set().union(*(e.args[0].free_symbols for e in expr.atoms(sp.exp))) \
        if expr.atoms(sp.exp) else set()
    subs = {x: _log_of_positive(x) for x in inside if x.is_real}
    if not subs:
        return sp.cancel(expr)
    return sp.cancel(sp.powsimp(sp.expand(expr.xreplace(subs)), force=False))


def _log_of_positive(x: sp.Symbol) -> sp.Expr:
    """``log t`` standing for ``x``, with t's assumptions carrying the sign of x:
    x >= 0 ⇔ t = 1 + u (u >= 0); x > 0 ⇔ u > 0; otherwise t > 0."""
    if x.is_positive or x.is_nonnegative:
        u = sp.Dummy(f"u_{x}", positive=bool(x.is_positive), nonnegative=True)
        return sp.log(1 + u)
    return sp.log(sp.Dummy(f"e_{x}", positive=True))


def _simplify(expr: sp.Expr) -> sp.Expr:
    if sp.count_ops(expr) > SIMPLIFY_MAX_OPS:
        raise StageTimeout("expression too large for simplify")
    return sp.simplify(expr)


EQUALITY_STAGES: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("expand", sp.expand),
    ("cancel", lambda e: sp.cancel(sp.together(e))),
    ("exp substitution", exp_rational),
    ("trigsimp", sp.trigsimp),
    ("simplify", _simplify),
)


def close_equal(lhs: sp.Expr, rhs: sp.Expr) -> Closure:
    """Show ``lhs == rhs`` by the cheap-first cascade, then ``equals``."""
    diff = _guarded(lambda e: evaluate_cheap(e), lhs - rhs)
    if diff is None:
        return Closure("open", "evaluating limits/derivatives failed or timed out")
    forms = []
    for name, stage in (("evaluation", lambda e: e), *EQUALITY_STAGES):
        form = _guarded(stage, diff)
        if form is None:
            continue
        if form == 0:
            return Closure("closed", f"difference is 0 after {name}")
        forms.append(form)
    if forms and diff.is_number and not diff.has(sp.Integral, sp.Limit):
        simplest = min(forms, key=sp.count_ops)
        if _guarded(lambda e: e.is_zero, simplest) is False:
            return Closure("refuted", f"difference is the non-zero number {simplest}")
    verdict = _guarded(lambda e: e.equals(0), diff)
    if verdict is True:
        return Closure("closed", "sympy Expr.equals(0) proved the difference zero")
    return Closure("open", "expand, cancel, exp substitution, trigsimp, simplify and "
                           f"equals did not reduce the difference to 0 (equals: {verdict})")


def close_sign(diff: sp.Expr, strict: bool) -> Closure:
    """Show ``diff > 0`` (strict) or ``diff >= 0`` under the symbols' assumptions."""
    base = _guarded(evaluate_cheap, diff)
    if base is None:
        return Closure("open", "evaluating limits/derivatives failed or timed out")
    forms: list[sp.Expr] = []
    for name, stage in (("evaluation", lambda e: e), ("factor", sp.factor), *EQUALITY_STAGES):
        form = _guarded(stage, base)
        new = [] if form is None else [form]
        if form is not None and name in ("cancel", "exp substitution"):
            new += [f for f in [_guarded(sp.factor, form)] if f is not None]
        forms += new
        result = _sign_of_forms(new, strict, name)
        if result is not None:
            return result
    for form in forms:
        result = _univariate_sign(form, strict)
        if result is not None:
            return result
    want = "> 0" if strict else ">= 0"
    return Closure("open", f"could not show {want} for {sp.sstr(base)[:200]}")


def _sign_of_forms(forms: list[sp.Expr], strict: bool, stage: str) -> Closure | None:
    for form in forms:
        good = form.is_positive if strict else form.is_nonnegative
        if good:
            return Closure("closed", f"sign {'> 0' if strict else '>= 0'} from assumptions "
                                     f"after {stage}")
        bad = form.is_nonpositive if strict else form.is_negative
        if bad and not form.has(sp.Integral, sp.Limit):
            return Closure("refuted", f"{sp.sstr(form)[:200]} has the wrong sign everywhere")
    return None


def _interval_of(x: sp.Symbol) -> tuple[sp.Expr, sp.Expr, bool]:
    """(lo, hi, lo_included) from the assumptions of ``x``."""
    if x.is_positive:
        return sp.S.Zero, sp.oo, False
    if x.is_nonnegative:
        return sp.S.Zero, sp.oo, True
    if x.is_negative:
        return -sp.oo, sp.S.Zero, False
    return -sp.oo, sp.oo, False


def _univariate_sign(form: sp.Expr, strict: bool) -> Closure | None:
    """Exact sign of a rational function of one real symbol on its interval."""
    syms = form.free_symbols
    if len(syms) != 1 or form.has(sp.Integral, sp.Limit):
        return None
    (x,) = syms
    if not x.is_real:
        return None
    num, den = sp.fraction(sp.cancel(sp.together(form)))
    if not (num.is_polynomial(x) and den.is_polynomial(x)):
        return None
    lo, hi, closed_lo = _interval_of(x)
    sample = _interior_point(lo, hi)
    sign, touches = 1, False
    for poly, is_den in ((num, False), (den, True)):
        coeff, factors = sp.factor_list(poly, x)
        sign *= 1 if coeff > 0 else -1
        for fac, mult in factors:
            roots_inside = [r for r in sp.real_roots(sp.Poly(fac, x))
                            if (r > lo or (closed_lo and r == lo)) and r < hi]
            if roots_inside and (is_den or mult % 2 == 1):
                return None
            touches = touches or bool(roots_inside)
            sign *= 1 if (mult % 2 == 0 or fac.subs(x, sample) > 0) else -1
    if sign > 0 and not (strict and touches):
        return Closure("closed", f"exact sign of a rational function of {x} on its interval "
                                 "(real roots isolated)")
    return None


def _interior_point(lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    if lo.is_finite and hi.is_finite:
        return (lo + hi) / 2
    if lo.is_finite:
        return lo + 1
    if hi.is_finite:
        return hi - 1
    return sp.S.Zero
