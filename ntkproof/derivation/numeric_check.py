"""Numeric half of :func:`ntkproof.derivation.check_derivation`.

Points are drawn uniformly from the derivation's ``domain`` with
:func:`ntkproof.rng.generator` (skipping points where ``avoid`` is true);
undefined functions are replaced by their witnesses (point k uses witness
k mod n); both sides are evaluated by :mod:`ntkproof.derivation.evaluate` at
``digits`` digits inside ``mpmath.workdps``.

Decision at one point, with ``tol = 10^-(digits-10)``, ``scale = max(|lhs|, |rhs|)``
and ``err`` the quadrature/limit error estimates of both sides:

* ``==`` agrees when ``|lhs - rhs| <= tol * scale + err``;
* ``<=`` (``<``) agrees when ``lhs - rhs <= tol * scale + err`` (strictness is
  not decidable numerically; sympy decides it);
* before a point is called a disagreement, the referee widens ``scale`` to the
  largest additive term of either side (cancellation between large terms is
  rounding, not falsity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import InvalidArgument
from ..rng import generator
from .evaluate import NumericFailure, compile_expr
from .model import Derivation, Step, StepResult, free_symbols
from .symbolic import Closure

__all__ = ["validate", "sample_points", "check_numeric"]

_EVAL_ERRORS = (NumericFailure, ZeroDivisionError, ValueError, OverflowError, TypeError,
                mpmath.libmp.NoConvergence)


def _sorted(symbols: set[sp.Symbol]) -> list[sp.Symbol]:
    return sorted(symbols, key=lambda s: s.name)


def validate(derivation: Derivation) -> None:
    """Every free symbol has a domain interval consistent with its assumptions,
    and every undefined function has witnesses."""
    indexed = _indexed_labels(derivation)
    for i, step in enumerate(derivation.steps, start=1):
        for x in _sorted(step.lhs.free_symbols | step.rhs.free_symbols):
            if x not in derivation.domain and x not in indexed and not (
                    isinstance(x, sp.Indexed) and x.base.label in indexed):
                raise InvalidArgument(
                    f"step {i} ({step.statement}) uses the symbol {x.name!r}, but "
                    f"Derivation.domain has no interval for it (domain symbols: "
                    f"{[s.name for s in _sorted(set(derivation.domain))]}); add "
                    f"domain={{{x.name}: (lo, hi)}}")
        for fn in (step.lhs.atoms(AppliedUndef) | step.rhs.atoms(AppliedUndef)):
            if not derivation.witnesses.get(fn.func):
                raise InvalidArgument(
                    f"step {i} uses the undefined function {fn.func}, but Derivation.witnesses "
                    f"has none for it; pass witnesses={{{fn.func}: [sympy.Lambda(...)]}}")
    for fn, lams in derivation.witnesses.items():
        for lam in lams:
            missing = _as_lambda(lam).free_symbols - set(derivation.domain)
            if missing:
                raise InvalidArgument(
                    f"a witness of {fn} uses {sorted(map(str, missing))}, which Derivation.domain "
                    "does not sample; add an interval for each")
    for x, (lo, hi) in derivation.domain.items():
        if not lo <= hi:
            raise InvalidArgument(f"domain of {x}: expected lo <= hi, got ({lo}, {hi})")
        if (x.is_nonnegative and lo < 0) or (x.is_nonpositive and hi > 0):
            raise InvalidArgument(
                f"domain of {x} is ({lo}, {hi}) but {x} is declared "
                f"{'nonnegative' if x.is_nonnegative else 'nonpositive'}; shrink the interval")


def _indexed_labels(derivation: Derivation) -> set[sp.Symbol]:
    """The label symbols of the IndexedBase objects that have witnesses (``w`` of
    ``w[j]``): they are functions of the index, not numbers to sample."""
    return {base.label for base in derivation.witnesses if isinstance(base, sp.IndexedBase)}


def _draw(rng: Any, x: sp.Symbol, lo: float, hi: float) -> float | int:
    """A uniform value of ``x`` on [lo, hi]; an integer for an integer symbol (sizes such
    as m or k, which a symbolic ``Sum`` needs as whole numbers)."""
    if x.is_integer:
        return int(rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1))
    return float(rng.uniform(lo, hi))


def sample_points(derivation: Derivation, *, seed: int, points: int) -> list[dict]:
    """``points`` random points ``{Symbol: value}`` of the domain, skipping ``avoid``
    (integer symbols get integers)."""
    rng = generator(seed)
    symbols = _sorted(set(derivation.domain))
    out: list[dict] = []
    for _ in range(50 * max(points, 1)):
        if len(out) >= points:
            break
        point = {x: _draw(rng, x, *derivation.domain[x]) for x in symbols}
        if any(v == 0 and x.is_positive for x, v in point.items()):
            continue
        if derivation.avoid is not None and derivation.avoid({x.name: v for x, v in point.items()}):
            continue
        out.append(point)
    return out


def _as_lambda(witness: Any) -> sp.Lambda:
    if isinstance(witness, sp.Lambda):
        return witness
    d = sp.Dummy("w", real=True)
    return sp.Lambda(d, sp.sympify(witness(d)))


def instantiate(expr: sp.Expr, choice: Mapping[Any, sp.Lambda]) -> sp.Expr:
    """``expr`` with undefined functions (and indexed families ``w[j]``) replaced by their
    witnesses and derivatives evaluated."""
    for fn, lam in choice.items():
        if isinstance(fn, sp.IndexedBase):
            expr = expr.replace(lambda e, fn=fn: isinstance(e, sp.Indexed) and e.base == fn,
                                lambda e, lam=lam: lam(*e.indices))
            continue
        expr = expr.replace(fn, lam)
    return expr.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)), lambda e: e.doit())


class _Side:
    """Compiled evaluators of one expression, per witness choice, plus its terms."""

    def __init__(self, expr: sp.Expr, symbols: list[sp.Symbol]) -> None:
        self.expr, self.symbols = expr, symbols
        self.cache: dict[Any, Any] = {}

    def evaluator(self, key: tuple, choice: Mapping) -> Any:
        if key not in self.cache:
            inst = instantiate(self.expr, choice)
            self.cache[key] = (compile_expr(inst, self.symbols),
                               [compile_expr(t, self.symbols) for t in sp.Add.make_args(inst)])
        return self.cache[key]


def _witness_choice(derivation: Derivation, k: int) -> tuple[tuple, dict]:
    fns = sorted(derivation.witnesses, key=str)
    idx = tuple(k % len(derivation.witnesses[f]) for f in fns)
    return idx, {f: _as_lambda(derivation.witnesses[f][i]) for f, i in zip(fns, idx, strict=True)}


def _gap(rel: str, lv: Any, rv: Any) -> Any:
    if rel == "==":
        return abs(lv - rv)
    return lv - rv if rel in ("<=", "<") else rv - lv


def _term_scale(terms: list, values: list) -> Any:
    return max((abs(t(values)[0]) for t in terms), default=mpmath.mpf(0))


def check_numeric(index: int, step: Step, closure: Closure, derivation: Derivation,
                  samples: Sequence[dict], digits: int) -> StepResult:
    """Evaluate ``step`` at ``samples`` and combine with its symbolic ``closure``."""
    symbols = _sorted(set(derivation.domain)) if free_symbols([step]) or derivation.witnesses \
        else []
    pts = list(samples) if symbols else [{}]
    with mpmath.workdps(digits):
        stats = _evaluate(step, derivation, symbols, pts, digits)
    return _result(index, step, closure, stats)


def _evaluate(step: Step, derivation: Derivation, symbols: list, pts: Sequence[dict],
              digits: int) -> dict:
    tol = mpmath.mpf(10) ** (-(digits - 10))
    tiny = mpmath.mpf(10) ** (-digits)
    sides = (_Side(step.lhs, symbols), _Side(step.rhs, symbols))
    stats: dict[str, Any] = {"used": 0, "skipped": 0, "bad": 0, "worst": None, "err": 0.0,
                             "note": ""}
    for k, point in enumerate(pts):
        key, choice = _witness_choice(derivation, k)
        values = [point[x] if x.is_integer else mpmath.mpf(point[x]) for x in symbols]
        try:
            (lf, lterms), (rf, rterms) = (s.evaluator(key, choice) for s in sides)
            (lv, le), (rv, re) = lf(values), rf(values)
            gap = _gap(step.relation, lv, rv)
            scale = max(abs(lv), abs(rv))
            if gap > tol * scale + le + re + tiny:
                scale = max(scale, _term_scale(lterms, values), _term_scale(rterms, values))
        except _EVAL_ERRORS as exc:
            stats["skipped"] += 1
            stats["note"] = f"{stats['skipped']} point(s) skipped ({type(exc).__name__}: {exc})"
            continue
        stats["used"] += 1
        bad = gap > tol * scale + le + re + tiny
        rel_err = float(max(gap, 0) / scale) if scale > 0 else float(max(gap, 0))
        stats["bad"] += int(bad)
        if stats["worst"] is None or (bad, rel_err) > (stats["worst"][0], stats["err"]):
            stats["err"] = rel_err
            stats["worst"] = (bad, {x.name: point[x] for x in symbols}, float(lv), float(rv))
    return stats


def _result(index: int, step: Step, closure: Closure, stats: dict) -> StepResult:
    numeric = "skipped" if stats["used"] == 0 else ("disagree" if stats["bad"] else "agree")
    if closure.status == "refuted" or numeric == "disagree":
        status = "FALSIFIED"
    elif closure.status == "closed" and numeric == "agree":
        status = "PROVED"
    else:
        status = "INCONCLUSIVE"
    note = closure.note
    if numeric == "skipped":
        note += "; no point could be evaluated numerically: " + stats["note"]
    elif stats["note"]:
        note += "; " + stats["note"]
    worst: Any = stats["worst"] or (False, {}, None, None)
    return StepResult(index=index, statement=step.statement, justification=step.justification,
                      method=step.method, symbolic=closure.status, numeric=numeric,
                      max_error=stats["err"], worst_point=worst[1], status=status, note=note,
                      points=stats["used"], worst_lhs=worst[2], worst_rhs=worst[3])
