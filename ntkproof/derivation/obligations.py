"""Proof obligations: does a derivation whose steps all hold discharge its claim?

Closing every step proves each step; it does not prove the theorem. A derivation
discharges its claim only when

* **chain** — its steps form chains: each step starts where the previous one ended
  (``lhs`` equal to the previous ``rhs``), or starts a new chain whose steps a later
  step uses (``hypothesis=k`` or ``uses=(...)``: a lemma); no step is left dangling;
* **relation** — along a chain the relations compose (``==`` with ``<=`` gives
  ``<=``, any ``<`` makes it strict; ``<=`` and ``>=`` never mix) into one that
  implies the goal's relation;
* **goal** — one chain runs from the goal's left side to its right side, or, for a
  derivation by cases (:class:`Trichotomy`), one chain per case and the middle case
  closed by sympy;
* **hypotheses** — every hypothesis a step uses is declared (the checker raises
  otherwise);
* **statement** — the goal is the claim's statement (the ``goal`` of the claim, a
  sympy relation), symbol for symbol. A goal that is the claim's statement with
  numbers put in for some symbols (``instance={m: 2, d: 2}``) is an *instance*:
  it is reported as such and does not prove the claim.

It also flags, without changing any verdict, steps whose two sides are the same
expression (trivial steps) and goals that sympy decides without any step (trivial
goals).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .model import Derivation, Step
from .symbolic import close_equal, close_sign

__all__ = ["Obligation", "ObligationReport", "Trichotomy", "check_obligations", "compose",
           "as_goal", "same"]

_FLIP = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}
_REL = {sp.Eq: "==", sp.Le: "<=", sp.Lt: "<", sp.Ge: ">=", sp.Gt: ">"}


@dataclass(frozen=True)
class Trichotomy:
    """Cases ``x = c + h``, ``x = c - h`` (``h > 0``) and ``x = c``: together every
    real ``x``. The derivation proves the goal with ``x`` replaced by ``c + h`` in one
    chain and by ``c - h`` in another; the case ``x = c`` must be closed by sympy."""

    variable: sp.Symbol
    center: sp.Expr
    offset: sp.Symbol

    def cases(self) -> list[tuple[str, sp.Expr]]:
        x, c, h = self.variable, self.center, self.offset
        return [(f"{x} = {c} + {h}", c + h), (f"{x} = {c} - {h}", c - h)]


@dataclass
class Obligation:
    """One proof obligation and whether it was met."""

    name: str
    met: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "met": self.met, "detail": self.detail}


@dataclass
class ObligationReport:
    """What the derivation proves about its claim.

    ``scope``: ``general`` (the claim's statement, for all values of its symbols),
    ``instance`` (the statement at the values in ``instance``) or ``none`` (the goal
    was not shown to be the claim's statement).
    """

    obligations: list[Obligation] = field(default_factory=list)
    scope: str = "none"
    instance: dict[str, str] = field(default_factory=dict)
    goal: str = ""
    chains: list[str] = field(default_factory=list)
    trivial_steps: list[int] = field(default_factory=list)
    trivial_goal: bool = False

    @property
    def met(self) -> bool:
        return all(o.met for o in self.obligations)

    def failed(self) -> list[Obligation]:
        return [o for o in self.obligations if not o.met]

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "instance": dict(self.instance), "goal": self.goal,
                "chains": list(self.chains), "trivial_steps": list(self.trivial_steps),
                "trivial_goal": self.trivial_goal,
                "obligations": [o.to_dict() for o in self.obligations]}


def as_goal(goal: Any) -> tuple[sp.Expr, str, sp.Expr]:
    """``(lhs, relation, rhs)`` of a sympy relation or of such a triple."""
    if isinstance(goal, tuple) and len(goal) == 3:
        return sp.sympify(goal[0]), str(goal[1]), sp.sympify(goal[2])
    for cls, rel in _REL.items():
        if isinstance(goal, cls):
            return goal.lhs, rel, goal.rhs
    raise TypeError(f"a goal must be a sympy relation (Eq, Le, Lt, Ge, Gt) or a triple "
                    f"(lhs, relation, rhs), got {goal!r} (sympy evaluates a relation it can "
                    "decide to True or False: build it with evaluate=False, or as a triple)")


def same(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether two expressions are the same (structurally, or their difference expands
    to 0)."""
    if a == b:
        return True
    try:
        return sp.expand(a - b) == 0
    except Exception:  # noqa: BLE001 - an expression sympy cannot subtract is not the same
        return False


def compose(relations: list[str]) -> str | None:
    """The relation of a chain ``a R1 b R2 c ...`` (None when they do not compose).

    >>> compose(["==", "<=", "<"]), compose(["==", "=="]), compose(["<=", ">="])
    ('<', '==', None)
    """
    kinds = {r for r in relations if r != "=="}
    if not kinds:
        return "=="
    if kinds <= {"<=", "<"}:
        return "<" if "<" in kinds else "<="
    if kinds <= {">=", ">"}:
        return ">" if ">" in kinds else ">="
    return None


def _implies(have: str, want: str) -> bool:
    if want == "==":
        return have == "=="
    if want in ("<=", ">="):
        return have in ("==", want, want[0])
    return have == want  # strict: only strict


@dataclass
class _Chain:
    start: sp.Expr
    end: sp.Expr
    relations: list[str]
    steps: list[int]

    @property
    def relation(self) -> str | None:
        return compose(self.relations)

    def text(self) -> str:
        rel = self.relation or "(relations do not compose: " + ", ".join(self.relations) + ")"
        span = (f"step {self.steps[0]}" if len(self.steps) == 1
                else f"steps {self.steps[0]}–{self.steps[-1]}")
        return f"{span}: {sp.sstr(self.start)} {rel} {sp.sstr(self.end)}"


def _chains(steps: tuple[Step, ...]) -> list[_Chain]:
    chains: list[_Chain] = []
    for i, step in enumerate(steps, start=1):
        last = chains[-1] if chains else None
        if last is not None and step.method != "transitive" and same(step.lhs, last.end):
            last.end = step.rhs
            last.relations.append(step.relation)
            last.steps.append(i)
        else:
            chains.append(_Chain(step.lhs, step.rhs, [step.relation], [i]))
    return chains


def _used(steps: tuple[Step, ...]) -> set[int]:
    used: set[int] = set()
    for step in steps:
        if isinstance(step.hypothesis, int) and not isinstance(step.hypothesis, bool):
            used.add(step.hypothesis)
        used.update(step.uses)
    return used


def _proves(chain: _Chain, lhs: sp.Expr, rel: str, rhs: sp.Expr) -> bool:
    have = chain.relation
    if have is None:
        return False
    if same(chain.start, lhs) and same(chain.end, rhs):
        return _implies(have, rel)
    if same(chain.start, rhs) and same(chain.end, lhs):  # b >= a proves a <= b
        return _implies(_FLIP[have], rel)
    return False


def _closed_directly(lhs: sp.Expr, rel: str, rhs: sp.Expr) -> bool:
    """Whether sympy closes ``lhs rel rhs`` by itself (each stage is time-guarded)."""
    try:
        if rel == "==":
            return close_equal(lhs, rhs).status == "closed"
        low, high = (lhs, rhs) if rel in ("<=", "<") else (rhs, lhs)
        return close_sign(high - low, strict=rel in ("<", ">")).status == "closed"
    except Exception:  # noqa: BLE001 - sympy that cannot decide decides nothing
        return False


def _statement(derivation: Derivation, claim_goal: Any, report: ObligationReport) -> None:
    if derivation.goal is None:
        report.obligations.append(Obligation(
            "statement", False, "the derivation states no goal, so nothing ties it to the "
                                "claim: give Derivation(goal=...)"))
        return
    glhs, grel, grhs = as_goal(derivation.goal)
    if claim_goal is None:
        report.obligations.append(Obligation(
            "statement", False, "the claim declares no goal (a sympy relation), so the "
                                "derivation's goal cannot be shown to be its statement"))
        return
    clhs, crel, crhs = as_goal(claim_goal)
    instance = dict(derivation.instance or {})
    if instance:
        clhs, crhs = (sp.sympify(e).subs(instance) for e in (clhs, crhs))
    if not (crel == grel and same(glhs, clhs) and same(grhs, crhs)):
        report.obligations.append(Obligation(
            "statement", False, f"the goal {sp.sstr(glhs)} {grel} {sp.sstr(grhs)} is not the "
                                f"claim's statement {sp.sstr(clhs)} {crel} {sp.sstr(crhs)}"
                                + (" at the declared instance" if instance else "")))
        return
    report.scope = "instance" if instance else "general"
    report.instance = {str(k): str(v) for k, v in instance.items()}
    what = ("the claim's statement at the instance "
            + ", ".join(f"{k} = {v}" for k, v in report.instance.items())
            if instance else "the claim's statement, for all values of its symbols")
    report.obligations.append(Obligation("statement", True, f"the goal is {what}"))


def _goal_reached(derivation: Derivation, chains: list[_Chain],
                  report: ObligationReport) -> set[int]:
    """Checks that chains reach the goal (or each case); returns their indices."""
    glhs, grel, grhs = as_goal(derivation.goal)
    split = derivation.split
    targets = ([(name, glhs.subs(split.variable, v), grhs.subs(split.variable, v))
                for name, v in split.cases()] if isinstance(split, Trichotomy)
               else [("the goal", glhs, grhs)])
    reached: set[int] = set()
    missing = []
    for name, lhs, rhs in targets:
        hits = {k for k, c in enumerate(chains) if _proves(c, lhs, grel, rhs)}
        if not hits:
            missing.append(f"{name}: no chain runs from {sp.sstr(lhs)} to {sp.sstr(rhs)} "
                           f"with a relation that gives {grel}")
        reached |= hits
    if isinstance(split, Trichotomy):
        v = split.center
        if not _closed_directly(glhs.subs(split.variable, v), grel, grhs.subs(split.variable, v)):
            missing.append(f"case {split.variable} = {v}: sympy could not close the goal there")
    if missing:
        report.obligations.append(Obligation("goal", False, "; ".join(missing)))
    else:
        how = (f"by cases {split.variable} - {split.center} > 0, < 0, = 0"
               if isinstance(split, Trichotomy) else "one chain from its left side to its right")
        report.obligations.append(Obligation("goal", True, f"the goal is reached {how}"))
    return reached


def check_obligations(derivation: Derivation, claim_goal: Any = None) -> ObligationReport:
    """Check the proof obligations of ``derivation`` against the claim's goal."""
    report = ObligationReport()
    steps = derivation.steps
    report.trivial_steps = [i for i, s in enumerate(steps, start=1)
                            if s.relation in ("==", "<=", ">=") and s.lhs == s.rhs]
    _statement(derivation, claim_goal, report)
    if derivation.goal is None:
        return report
    glhs, grel, grhs = as_goal(derivation.goal)
    report.goal = f"{sp.sstr(glhs)} {grel} {sp.sstr(grhs)}"
    # sympy deciding an integral, limit or sum goal directly can take seconds; only plain
    # algebraic goals are tried (an analytic goal that sympy could close is not flagged)
    analytic = any(e.has(sp.Integral, sp.Limit, sp.Sum, sp.Derivative) for e in (glhs, grhs))
    report.trivial_goal = (derivation.split is None and not analytic
                           and _closed_directly(glhs, grel, grhs))
    chains = _chains(steps)
    report.chains = [c.text() for c in chains]
    broken = [c.text() for c in chains if c.relation is None]
    report.obligations.append(Obligation(
        "relation", not broken, "; ".join(broken) if broken
        else "the relations along every chain compose"))
    reached = _goal_reached(derivation, chains, report)
    used = _used(steps)
    dangling = [c.steps for k, c in enumerate(chains)
                if k not in reached and not used.intersection(c.steps)]
    report.obligations.append(Obligation(
        "chain", not dangling,
        "every step continues a chain to the goal or is a lemma a later step uses"
        if not dangling else "steps " + ", ".join(
            f"{s[0]}–{s[-1]}" if len(s) > 1 else str(s[0]) for s in dangling)
        + " neither reach the goal nor are used by a later step"))
    hyps = [s.hypothesis for s in steps if isinstance(s.hypothesis, str)]
    declared = {h.name for h in derivation.hypotheses}
    undeclared = sorted({h for h in hyps if h not in declared})
    report.obligations.append(Obligation(
        "hypotheses", not undeclared,
        f"undeclared: {undeclared}" if undeclared else
        (f"uses the declared hypotheses {sorted(set(hyps))}" if hyps else "uses no hypothesis")))
    return report


def instance_text(instance: Mapping[str, str]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in instance.items())
