"""Proof obligations: a derivation whose every step holds is PROVED only when it
derives the claim's statement, for all values of its symbols."""

from __future__ import annotations

import pytest
import sympy as sp

from ntkproof.derivation import Derivation, Hypothesis, Step, Trichotomy, chain, discharge
from ntkproof.derivation.obligations import check_obligations, compose

x = sp.Symbol("x", positive=True)
m = sp.Symbol("m", positive=True, integer=True)
GOAL = sp.Le(2 * x, x**2 + 1)  # 2x <= x^2 + 1, for all x > 0
DOMAIN = {x: (0.1, 3.0)}


def _chain_to_goal():
    return chain(2 * x, ("==", x**2 + 1 - (x - 1) ** 2, "expand"),
                 ("<=", x**2 + 1, "(x - 1)^2 >= 0"))


def _verdict(derivation, claim_goal=GOAL):
    return discharge(derivation, claim_goal, seed=0, points=6)


def test_a_chain_from_the_goals_left_side_to_its_right_side_proves_the_claim():
    res = _verdict(Derivation("ok", _chain_to_goal(), domain=DOMAIN, goal=GOAL))
    assert res.verdict == "PROVED", res.message
    assert res.obligations["scope"] == "general"
    assert all(o["met"] for o in res.obligations["obligations"])


@pytest.mark.parametrize("case", ["broken_chain", "wrong_direction", "undeclared_hypothesis",
                                  "other_goal", "no_goal", "claim_without_goal", "dangling"])
def test_a_derivation_that_does_not_discharge_its_claim_is_not_proved(case):
    steps, goal, claim_goal, hyps = _chain_to_goal(), GOAL, GOAL, ()
    if case == "broken_chain":       # the second step does not start where the first ended
        steps = (Step(2 * x, "==", x**2 + 1 - (x - 1) ** 2, "expand"),
                 Step(x**2, "<=", x**2 + 1, "1 >= 0"))
    elif case == "wrong_direction":  # x^2 + 1 >= 2x proved, 2x >= x^2 + 1 claimed
        goal = claim_goal = sp.Ge(2 * x, x**2 + 1)
        steps = chain(2 * x, ("<=", x**2 + 1, "(x - 1)^2 >= 0"))
    elif case == "undeclared_hypothesis":
        b = sp.Symbol("b", positive=True)
        hyps = (Hypothesis("x <= b", x, "<=", b),)
        steps = (Step(2 * x, "<=", 2 * b, "x <= b", method="hypothesis", hypothesis="x < b"),)
        goal = claim_goal = sp.Le(2 * x, 2 * b)
    elif case == "other_goal":       # a true derivation of something else
        goal = sp.Le(2 * x, x**2 + 2)
        steps = chain(2 * x, ("<=", x**2 + 2, "(x - 1)^2 + 1 >= 0"))
    elif case == "no_goal":
        goal = None
    elif case == "claim_without_goal":
        claim_goal = None
    elif case == "dangling":         # a side computation nobody uses
        steps = (*_chain_to_goal(), Step(x + 1, "<=", x + 2, "1 <= 2"))
    domain = dict(DOMAIN)
    avoid = None
    if case == "undeclared_hypothesis":
        domain[sp.Symbol("b", positive=True)] = (0.1, 3.0)
        avoid = lambda p: p["x"] > p["b"]  # noqa: E731
    res = _verdict(Derivation(case, steps, domain=domain, goal=goal, hypotheses=hyps,
                              avoid=avoid), claim_goal)
    assert res.verdict != "PROVED", res.message
    assert res.verdict in ("INCONCLUSIVE", "FALSIFIED")


def test_an_instance_is_evidence_not_a_proof():
    general = sp.Le(m * x, m * (x**2 + 1) / 2)      # the claim: for all m
    instance = sp.Le(2 * x, x**2 + 1)                # the derivation: m = 2
    res = _verdict(Derivation("m = 2", _chain_to_goal(), domain=DOMAIN, goal=instance,
                              instance={m: 2}), general)
    assert res.verdict == "HOLDS" and "derived for the instance m = 2" in res.message
    assert res.obligations["scope"] == "instance"
    # the same derivation presented as the general claim is caught
    res = _verdict(Derivation("m = 2", _chain_to_goal(), domain=DOMAIN, goal=instance), general)
    assert res.verdict == "INCONCLUSIVE" and "is not the claim's statement" in res.message


def test_trivial_steps_and_goals_are_flagged():
    X = sp.Symbol("X", positive=True)
    steps = (Step(m * X / m, "==", X, "m X / m = X"),)   # sympy folds the left side to X
    goal = (m * X / m, "==", X)
    res = _verdict(Derivation("fold", steps, domain={X: (0.1, 1.0), m: (1, 5)}, goal=goal), goal)
    assert res.obligations["trivial_steps"] == [1] and res.obligations["trivial_goal"]
    assert "trivial steps" in res.message and "trivial goal" in res.message


def test_cases_by_trichotomy_cover_the_real_line():
    r, s = sp.Symbol("r", real=True), sp.Symbol("s", real=True)
    h = sp.Symbol("h", positive=True)
    goal = (r - s, "<=", (r - s) ** 2 + 1)
    up = chain(h, ("<=", h**2 + 1, "(h - 1/2)^2 + 3/4 > 0"))            # r = s + h
    down = chain(-h, ("<=", 0, "h > 0"), ("<=", h**2 + 1, "h^2 + 1 > 0"))  # r = s - h
    d = Derivation("cases", (*up, *down), domain={s: (-2.0, 2.0), h: (0.0, 3.0)}, goal=goal,
                   split=Trichotomy(r, s, h))
    res = _verdict(d, goal)
    assert res.verdict == "PROVED", res.message
    # the case r < s missing: not proved
    res = _verdict(Derivation("half", up, domain=d.domain, goal=goal, split=d.split), goal)
    assert res.verdict == "INCONCLUSIVE" and "r = s - h" in res.message


def test_relations_compose_in_one_direction_only():
    assert compose(["==", "<=", "=="]) == "<="
    assert compose([">", ">="]) == ">"
    assert compose(["<", ">"]) is None
    goal = (x, "<=", x)
    report = check_obligations(Derivation("mixed", chain(x, ("<=", x + 1, "a"), (">=", x, "b")),
                                          goal=goal), goal)
    assert not report.met and any(o.name == "relation" and not o.met for o in report.obligations)


def test_symbolic_sizes_with_sums_and_indexed_families_are_checked_numerically():
    """A derivation for all m: a Sum with a symbolic upper limit over an indexed family
    w[j]; spot checks draw m as an integer and w from its witnesses."""
    m = sp.Symbol("m", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    t = sp.Symbol("t", real=True)
    w = sp.IndexedBase("w")
    lhs = sp.Sum((w[j] + t) ** 2, (j, 1, m))
    rhs = sp.Sum(w[j] ** 2, (j, 1, m)) + 2 * t * sp.Sum(w[j], (j, 1, m)) + m * t**2
    goal = (lhs, "==", rhs)
    steps = chain(lhs, ("==", sp.Sum(w[j] ** 2 + 2 * t * w[j] + t**2, (j, 1, m)), "square"),
                  ("==", rhs, "linearity of the sum"))
    kw = {"domain": {m: (1, 6), t: (-1.0, 1.0)},
          "witnesses": {w: [sp.Lambda(j, sp.sin(j)), sp.Lambda(j, j**2 / 7)]}}
    res = _verdict(Derivation("for all m", steps, goal=goal, **kw), goal)
    assert res.verdict == "PROVED" and all(s.points > 0 for s in res.steps)
    wrong = (lhs, "==", rhs + t**2)   # off by one term: caught at the sampled m
    res = _verdict(Derivation("wrong", chain(lhs, ("==", rhs + t**2, "?")), goal=wrong, **kw),
                   wrong)
    assert res.verdict == "FALSIFIED"
