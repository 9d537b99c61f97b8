"""Step-by-step checking of symbolic derivations, twice: sympy and mpmath.

A :class:`Derivation` is an ordered list of :class:`Step` s, each a relation
``lhs R rhs`` (R one of ``== <= < >= >``) with a justification in words and a
*method* saying how sympy should close it:

``"simplify"``
    equality: ``lhs - rhs`` reduces to 0 (cheap-first cascade, see
    :mod:`ntkproof.derivation_symbolic`); inequality: as ``"nonnegative"``.
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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .derivation_rules import RULES, close_by_hypothesis, close_derivative
from .derivation_symbolic import Closure, close_equal, close_sign
from .errors import InvalidArgument

__all__ = ["Step", "Hypothesis", "Derivation", "StepResult", "DerivationResult",
           "check_derivation", "chain", "RELATIONS", "METHODS"]

RELATIONS = ("==", "<=", "<", ">=", ">")
METHODS = ("simplify", "nonnegative", "derivative", "hypothesis", "rule", "transitive")
_SYMBOL = {"==": "=", "<=": "≤", "<": "<", ">=": "≥", ">": ">"}


def _sstr(e: sp.Basic) -> str:
    return sp.sstr(e)


@dataclass(frozen=True)
class Hypothesis:
    """A named assumption ``lhs R rhs``, for all values of the ``bound`` symbols.

    >>> z, b = sp.Symbol("z", real=True), sp.Symbol("beta", nonnegative=True)
    >>> s = sp.Function("sigma")
    >>> str(Hypothesis("|σ''| <= β", sp.Abs(s(z).diff(z, 2)), "<=", b, bound=(z,)))
    "|σ''| <= β: Abs(Derivative(sigma(z), (z, 2))) <= beta"
    """

    name: str
    lhs: sp.Expr
    relation: str
    rhs: sp.Expr
    bound: tuple[sp.Symbol, ...] = ()

    def __post_init__(self) -> None:
        _check_relation(self.relation, "Hypothesis.relation")
        object.__setattr__(self, "lhs", sp.sympify(self.lhs))
        object.__setattr__(self, "rhs", sp.sympify(self.rhs))

    def __str__(self) -> str:
        return f"{self.name}: {_sstr(self.lhs)} {self.relation} {_sstr(self.rhs)}"


@dataclass(frozen=True)
class Step:
    """One step ``lhs relation rhs`` with its justification and closing method.

    ``variable``, ``base`` and ``order`` configure ``method="derivative"``;
    ``hypothesis`` (a hypothesis name or a 1-based earlier step index) configures
    ``"hypothesis"``; ``rule`` names a rule of :data:`RULES` for ``"rule"``.
    """

    lhs: sp.Expr
    relation: str
    rhs: sp.Expr
    justification: str
    method: str = "simplify"
    variable: sp.Symbol | None = None
    base: sp.Expr = sp.S.Zero
    order: int = 1
    hypothesis: str | int | None = None
    rule: str | None = None
    uses: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _check_relation(self.relation, "Step.relation")
        object.__setattr__(self, "lhs", sp.sympify(self.lhs))
        object.__setattr__(self, "rhs", sp.sympify(self.rhs))
        object.__setattr__(self, "base", sp.sympify(self.base))
        if self.method not in METHODS:
            raise InvalidArgument(f"Step.method must be one of {METHODS}, got {self.method!r}; "
                                  "pick the way sympy should close the step")
        needs = {"derivative": ("variable", self.variable),
                 "hypothesis": ("hypothesis", self.hypothesis), "rule": ("rule", self.rule),
                 "transitive": ("uses", self.uses or None)}
        if self.method in needs and needs[self.method][1] is None:
            name = needs[self.method][0]
            raise InvalidArgument(f"Step(method={self.method!r}) needs {name}=..., got None; "
                                  f"pass the {name} the step relies on")

    @property
    def statement(self) -> str:
        return f"{_sstr(self.lhs)} {self.relation} {_sstr(self.rhs)}"


def _check_relation(relation: str, where: str) -> None:
    if relation not in RELATIONS:
        raise InvalidArgument(f"{where} must be one of {RELATIONS}, got {relation!r}")


def chain(start: sp.Expr, *links: tuple) -> tuple[Step, ...]:
    """Steps of a chain ``start R1 e1 R2 e2 ...``: one Step per consecutive pair.

    Each link is ``(relation, expr, justification)`` or
    ``(relation, expr, justification, {Step options})``.

    >>> x = sp.Symbol("x", positive=True)
    >>> [s.statement for s in chain((x + 1)**2, ("==", x**2 + 2*x + 1, "expand"),
    ...                                          (">=", 2*x + 1, "x^2 >= 0"))]
    ['(x + 1)**2 == x**2 + 2*x + 1', 'x**2 + 2*x + 1 >= 2*x + 1']
    """
    steps, left = [], sp.sympify(start)
    for link in links:
        if len(link) not in (3, 4):
            raise InvalidArgument(f"chain link must be (relation, expr, justification[, options]),"
                                  f" got {link!r}")
        relation, expr, why = link[:3]
        options = link[3] if len(link) == 4 else {}
        steps.append(Step(left, relation, sp.sympify(expr), why, **options))
        left = sp.sympify(expr)
    return tuple(steps)


@dataclass(frozen=True)
class Derivation:
    """A titled list of steps plus what numeric spot checks need.

    ``domain`` maps every free symbol to the interval sampled; ``witnesses`` maps
    each undefined function (e.g. a generic σ) to concrete ``sympy.Lambda`` s (or
    callables ``f(symbol) -> expr``) satisfying the hypotheses; ``avoid(point)``
    (point: ``{name: float}``) marks points to skip (singular sets).
    """

    title: str
    steps: tuple[Step, ...]
    domain: Mapping[sp.Symbol, tuple[float, float]] = field(default_factory=dict)
    hypotheses: tuple[Hypothesis, ...] = ()
    witnesses: Mapping[Any, Sequence[Any]] = field(default_factory=dict)
    avoid: Callable[[dict[str, float]], bool] | None = None

    def hypothesis(self, name: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.name == name:
                return h
        known = [h.name for h in self.hypotheses]
        raise InvalidArgument(f"hypothesis {name!r} is not declared; declared: {known}; "
                              "add it to Derivation.hypotheses")


@dataclass
class StepResult:
    index: int
    statement: str
    justification: str
    method: str
    symbolic: str  # "closed" | "open" | "refuted"
    numeric: str  # "agree" | "disagree" | "skipped"
    max_error: float
    worst_point: dict[str, float]
    status: str  # "PROVED" | "INCONCLUSIVE" | "FALSIFIED"
    note: str = ""
    points: int = 0
    worst_lhs: float | None = None
    worst_rhs: float | None = None


@dataclass
class DerivationResult:
    title: str
    verdict: str
    steps: list[StepResult]
    message: str
    failing_step: int | None

    def to_dict(self) -> dict:
        """A JSON-serialisable dictionary of the result."""
        return {"title": self.title, "verdict": self.verdict, "message": self.message,
                "failing_step": self.failing_step,
                "steps": [vars(s).copy() for s in self.steps]}


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
    from .derivation_check import check_numeric, sample_points, validate

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


def free_symbols(steps: Iterable[Step]) -> set[sp.Symbol]:
    out: set[sp.Symbol] = set()
    for s in steps:
        out |= s.lhs.free_symbols | s.rhs.free_symbols
    return out
