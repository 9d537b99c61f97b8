"""The objects of a derivation: hypotheses, steps, the derivation, results.

A :class:`Derivation` is an ordered list of :class:`Step` s, each a relation
``lhs R rhs`` (R one of ``== <= < >= >``) with a justification in words and a
*method* saying how sympy should close it (see :mod:`ntkproof.derivation.checker`).
This module only describes; :func:`ntkproof.derivation.checker.check_derivation`
checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import InvalidArgument

__all__ = ["Step", "Hypothesis", "Derivation", "StepResult", "DerivationResult", "chain",
           "free_symbols", "RELATIONS", "METHODS"]

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

    ``goal`` is what the derivation proves (a sympy relation, or ``(lhs, relation,
    rhs)``); ``instance`` maps symbols of the claim's statement to the values this
    derivation fixes (``{m: 2, d: 2}``: a derivation of an instance, which does not
    prove the claim); ``split`` declares a proof by cases
    (:class:`~ntkproof.derivation.obligations.Trichotomy`). See
    :mod:`ntkproof.derivation.obligations` for what ties a derivation to its claim.
    """

    title: str
    steps: tuple[Step, ...]
    domain: Mapping[sp.Symbol, tuple[float, float]] = field(default_factory=dict)
    hypotheses: tuple[Hypothesis, ...] = ()
    witnesses: Mapping[Any, Sequence[Any]] = field(default_factory=dict)
    avoid: Callable[[dict[str, float]], bool] | None = None
    goal: Any = None
    instance: Mapping[Any, Any] | None = None
    split: Any = None

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
    """The steps' verdict (``verdict``) and, once :func:`~ntkproof.derivation.discharge`
    checked them, the proof obligations (``obligations``, a dictionary)."""

    title: str
    verdict: str
    steps: list[StepResult]
    message: str
    failing_step: int | None
    obligations: dict[str, Any] | None = None

    def to_dict(self) -> dict:
        """A JSON-serialisable dictionary of the result."""
        out: dict[str, Any] = {"title": self.title, "verdict": self.verdict,
                               "message": self.message,
               "failing_step": self.failing_step,
               "steps": [vars(s).copy() for s in self.steps]}
        if self.obligations is not None:
            out["obligations"] = self.obligations
        return out


def free_symbols(steps: Iterable[Step]) -> set[sp.Symbol]:
    out: set[sp.Symbol] = set()
    for s in steps:
        out |= s.lhs.free_symbols | s.rhs.free_symbols
    return out
