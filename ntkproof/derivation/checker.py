"""Step-by-step checking of symbolic derivations, twice: sympy and mpmath.

A :class:`Derivation` is an ordered list of :class:`Step` s, each a relation
``lhs R rhs`` (R one of ``== <= < >= >``) with a justification in words and a
*method* saying how sympy should close it:

``"simplify"``
    equality: ``lhs - rhs`` reduces to 0 (cheap-first cascade, see
    :mod:`ntkproof.derivation.symbolic`); inequality: as ``"nonnegative"``.
``"nonnegative"``
    ``rhs - lhs >= 0`` (``> 0`` for ``<``) under the symbols' assumptions.
``"derivative"``
    with ``g = lhs - rhs`` (or ``rhs - lhs``), a ``variable`` x, a ``base``
    point b and an ``order`` n: ``g^{(k)}(b) = 0`` for k < n and
    ``g^{(n)} ≡ 0`` (so g ≡ 0: integration by parts, the fundamental theorem
    of calculus); for an inequality ``g^{(k)}(b) >= 0`` and ``g^{(n)} >= 0`` for
    x >= b, which needs ``x - b >= 0`` from the assumptions.
``"hypothesis"``
    follows from a named hypothesis of the derivation (or an earlier step,
    given by its 1-based index) by monotone substitution: the hypothesis
    ``A <= B`` is matched inside the step, ``A`` is replaced by a fresh
    symbol v, sympy shows the step is monotone in v and that the step holds
    with ``B`` in place of ``A``. Integrals over the same interval are reduced
    to their integrands first (monotonicity of the integral).
``"rule"``
    a named rule of :data:`RULES`, e.g. ``"integral_triangle"``.
``"transitive"``
    the earlier steps ``uses`` (1-based) form a chain from ``lhs`` to ``rhs``
    whose relations compose to the step's relation (transitivity).

:func:`check_derivation` closes each step symbolically *and* evaluates both
sides at random points of the derivation's ``domain`` at ``digits`` digits.
Step status: PROVED (closed, numerically agreeing), INCONCLUSIVE (open but
agreeing, or no usable point), FALSIFIED (numerically disagreeing, or refuted
by sympy). The derivation is FALSIFIED if a step is, else INCONCLUSIVE if a
step is, else PROVED.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument
from .model import Derivation, DerivationResult, Hypothesis, Step, StepResult
from .numeric_check import check_numeric, sample_points, validate
from .obligations import check_obligations, instance_text
from .rules import RULES, close_by_hypothesis, close_derivative
from .symbolic import Closure, close_equal, close_sign

__all__ = ["check_derivation", "close_step", "discharge"]


def close_step(step: Step, derivation: Derivation, index: int) -> Closure:
    """Symbolic closure of one step by its method; sympy exceptions leave it open."""
    try:
        return _close(step, derivation, index)
    except InvalidArgument:
        raise
    except Exception as exc:  # noqa: BLE001 - a sympy failure makes the step open, not a crash
        return Closure("open", f"sympy raised {type(exc).__name__}: {exc}")


def _close(step: Step, derivation: Derivation, index: int) -> Closure:
    lhs, rel, rhs = step.lhs, step.relation, step.rhs
    if step.method == "derivative":
        return close_derivative(lhs, rel, rhs, step.variable, step.base, step.order)
    if step.method == "hypothesis":
        if isinstance(step.hypothesis, str) and step.hypothesis not in {
                h.name for h in derivation.hypotheses}:
            return Closure("open", f"the hypothesis {step.hypothesis!r} is not declared in "
                                   "Derivation.hypotheses")
        return close_by_hypothesis(lhs, rel, rhs, _lemma(step, derivation, index))
    if step.method == "rule":
        if step.rule not in RULES:
            raise InvalidArgument(f"Step.rule {step.rule!r} is unknown; expected one of "
                                  f"{sorted(RULES)}")
        return RULES[step.rule](lhs, rel, rhs)
    if step.method == "transitive":
        return _close_transitive(step, derivation, index)
    if rel == "==":
        return close_equal(lhs, rhs)
    low, high = (lhs, rhs) if rel in ("<=", "<") else (rhs, lhs)
    return close_sign(high - low, strict=rel in ("<", ">"))


def _close_transitive(step: Step, derivation: Derivation, index: int) -> Closure:
    """lhs R1 e1 R2 ... Rn rhs by the earlier steps ``uses``; relations must compose."""
    if any(not 1 <= k < index for k in step.uses):
        raise InvalidArgument(f"step {index}: uses={step.uses} must name earlier steps "
                              f"(1..{index - 1})")
    used = [derivation.steps[k - 1] for k in step.uses]
    links = [used[0].lhs] + [u.rhs for u in used]
    joints_ok = all(a.rhs == b.lhs for a, b in zip(used, used[1:], strict=False)) and \
        used[0].lhs == step.lhs and used[-1].rhs == step.rhs
    if not joints_ok:
        return Closure("open", f"steps {step.uses} do not chain from lhs to rhs "
                               f"({' / '.join(map(str, links))})")
    rels = {u.relation for u in used} - {"=="}
    up, down = rels <= {"<=", "<"}, rels <= {">=", ">"}
    strict = bool(rels & {"<", ">"})
    want = step.relation
    ok = (want == "==" and not rels) or (want in ("<=", "<") and up and rels) or \
        (want in (">=", ">") and down and rels)
    if want in ("<=", ">=") and not rels:
        ok = True
    if not ok or (want in ("<", ">") and not strict):
        return Closure("open", f"relations {[u.relation for u in used]} do not give {want}")
    return Closure("closed", f"transitivity of steps {', '.join(map(str, step.uses))}")


def _lemma(step: Step, derivation: Derivation, index: int) -> Hypothesis:
    ref = step.hypothesis
    if isinstance(ref, int):
        if not 1 <= ref < index:
            raise InvalidArgument(f"step {index}: hypothesis={ref} must name an earlier step "
                                  f"(1..{index - 1})")
        used = derivation.steps[ref - 1]
        return Hypothesis(f"step {ref}", used.lhs, used.relation, used.rhs)
    return derivation.hypothesis(str(ref))


def check_derivation(derivation: Derivation, *, seed: int, points: int = 24,
                     digits: int = 50) -> DerivationResult:
    """Check every step symbolically and at ``points`` random points (``digits`` digits).

    Raises :class:`~ntkproof.errors.InvalidArgument` when a step has a free symbol
    missing from ``domain`` or an undefined function without witnesses.
    """
    validate(derivation)
    samples = sample_points(derivation, seed=seed, points=points)
    results = []
    for i, step in enumerate(derivation.steps, start=1):
        closure = close_step(step, derivation, i)
        results.append(check_numeric(i, step, closure, derivation, samples, digits))
    return _summarise(derivation.title, results)


def _summarise(title: str, results: list[StepResult]) -> DerivationResult:
    failing = next((r for r in results if r.status == "FALSIFIED"), None)
    open_ = next((r for r in results if r.status == "INCONCLUSIVE"), None)
    if failing is not None:
        return DerivationResult(title, "FALSIFIED", results, _describe(failing), failing.index)
    if open_ is not None:
        return DerivationResult(title, "INCONCLUSIVE", results, _describe(open_), open_.index)
    return DerivationResult(title, "PROVED", results,
                            f"all {len(results)} steps closed by sympy and agree numerically",
                            None)


def _describe(r: StepResult) -> str:
    head = f"step {r.index} ({r.statement}, {r.justification!r})"
    where = ", ".join(f"{k}={v:.6g}" for k, v in r.worst_point.items())
    if r.numeric == "disagree":
        return (f"{head} disagrees at {where or 'the constant point'}: lhs={r.worst_lhs:.12g}, "
                f"rhs={r.worst_rhs:.12g} (relative error {r.max_error:.3g}); {r.note}")
    if r.symbolic == "refuted":
        return f"{head} is refuted by sympy: {r.note}"
    return f"{head} is {r.symbolic} symbolically, numeric: {r.numeric}; {r.note}"


def discharge(derivation: Derivation, claim_goal: Any = None, *, seed: int, points: int = 24,
              digits: int = 50) -> DerivationResult:
    """Check the steps (:func:`check_derivation`) and the proof obligations against the
    claim's goal (:mod:`ntkproof.derivation.obligations`); the verdict says what the
    derivation establishes for the claim:

    * FALSIFIED or INCONCLUSIVE — a step is (the steps' verdict);
    * INCONCLUSIVE — every step holds, but an obligation is not met (the chain does not
      reach the goal, the relations do not give it, a hypothesis is undeclared, or the
      goal is not the claim's statement): the steps prove something else;
    * HOLDS — the claim's statement derived for an instance (fixed sizes): evidence,
      not a proof of the claim;
    * PROVED — the claim's statement, for all values of its symbols.
    """
    result = check_derivation(derivation, seed=seed, points=points, digits=digits)
    report = check_obligations(derivation, claim_goal)
    result.obligations = report.to_dict()
    if result.verdict != "PROVED":
        return result
    failed = report.failed()
    if failed:
        result.verdict = "INCONCLUSIVE"
        result.message = ("every step holds, but the derivation does not discharge the "
                          "claim: " + "; ".join(f"{o.name}: {o.detail}" for o in failed))
    elif report.scope == "instance":
        result.verdict = "HOLDS"
        result.message = (f"derived for the instance {instance_text(report.instance)} "
                          f"({len(result.steps)} steps); the claim is for all values, so "
                          "this is evidence, not a proof")
    else:
        result.message = (f"the claim's statement derived for all values of its symbols: "
                          f"{len(result.steps)} steps closed by sympy and agreeing at 50 "
                          "digits; chain, relations, hypotheses and goal checked")
    notes = []
    if report.trivial_steps:
        notes.append(f"trivial steps (both sides the same expression): {report.trivial_steps}")
    if report.trivial_goal:
        notes.append("trivial goal: sympy decides it without any step")
    if notes:
        result.message += "; " + "; ".join(notes)
    return result
