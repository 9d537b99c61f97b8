"""The derivation checker: proved, falsified (naming the step), inconclusive, errors."""

from __future__ import annotations

import json

import pytest
import sympy as sp

from ntkproof.derivation import Derivation, Hypothesis, Step, chain, check_derivation
from ntkproof.derivation import checker as dmod
from ntkproof.derivation.rules import RULES
from ntkproof.errors import InvalidArgument
from ntkproof.theory.taylor import BETA, H, S, taylor_remainder_derivation

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", positive=True)
FAST = {"points": 6, "digits": 30}


def _square_chain(middle: sp.Expr, last: sp.Expr) -> Derivation:
    steps = chain((x + 1) ** 2, ("==", middle, "expand the square"),
                  (">=", last, "x^2 + 1 >= 0"))
    return Derivation("(x+1)^2 >= 2x", steps, domain={x: (-3.0, 3.0)})


def test_correct_chain_is_proved():
    result = check_derivation(_square_chain(x**2 + 2 * x + 1, 2 * x), seed=0)
    assert result.verdict == "PROVED" and result.failing_step is None
    assert [s.status for s in result.steps] == ["PROVED", "PROVED"]


@pytest.mark.parametrize("middle, last, bad", [
    (x**2 + 2 * x + 2, 2 * x, 1),         # wrong constant
    (x**2 - 2 * x + 1, 2 * x, 1),         # sign error
    (x**2 + 2 * x + 1, 2 * (x**2 + 1), 2),  # factor 2 on x^2 + 1
])
def test_one_wrong_step_is_falsified_and_named(middle, last, bad):
    result = check_derivation(_square_chain(middle, last), seed=0)
    assert result.verdict == "FALSIFIED"
    assert result.failing_step == bad
    assert result.message.startswith(f"step {bad} (")
    assert "lhs=" in result.message and "rhs=" in result.message


def test_true_step_sympy_cannot_close_is_inconclusive():
    # atanh(1/sqrt 3) = log(2 + sqrt 3)/2 holds, but no sympy simplification shows it.
    step = Step(sp.atanh(sp.sqrt(3) / 3), "==", sp.log(2 + sp.sqrt(3)) / 2, "closed form")
    result = check_derivation(Derivation("atanh", (step,)), seed=0)
    assert result.verdict == "INCONCLUSIVE" and result.failing_step == 1
    assert result.steps[0].symbolic == "open" and result.steps[0].numeric == "agree"


def test_special_function_bound_is_inconclusive():
    step = Step(sp.besselj(0, y) ** 2, "<=", 1, "|J_0| <= 1")
    result = check_derivation(Derivation("J0", (step,), domain={y: (0.1, 20.0)}), seed=3)
    assert result.verdict == "INCONCLUSIVE"


def test_missing_domain_symbol_is_a_clear_error():
    d = Derivation("no domain", (Step(x * y, ">=", 0, "?"),), domain={x: (0.0, 1.0)})
    with pytest.raises(InvalidArgument, match="'y'.*domain"):
        check_derivation(d, seed=0)


def test_domain_must_respect_assumptions():
    d = Derivation("bad domain", (Step(y, ">", 0, "positive"),), domain={y: (-1.0, 1.0)})
    with pytest.raises(InvalidArgument, match="nonnegative"):
        check_derivation(d, seed=0)


def test_sympy_exception_makes_step_open(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("sympy exploded")

    monkeypatch.setattr(dmod, "close_equal", boom)
    result = check_derivation(Derivation("boom", (Step(x, "==", x, "trivial"),),
                                         domain={x: (0.0, 1.0)}), seed=0)
    assert result.steps[0].symbolic == "open" and "sympy exploded" in result.steps[0].note
    assert result.verdict == "INCONCLUSIVE"


def test_derivative_method_proves_ftc_identity():
    t = sp.Symbol("t", real=True)
    step = Step(sp.sin(y), "==", sp.Integral(sp.cos(t), (t, 0, y)), "FTC",
                method="derivative", variable=y, base=0)
    result = check_derivation(Derivation("FTC", (step,), domain={y: (0.0, 3.0)}), seed=1)
    assert result.verdict == "PROVED"


def test_hypothesis_method_and_unknown_hypothesis():
    b = sp.Symbol("b", nonnegative=True)
    hyp = Hypothesis("x <= b", x, "<=", b)
    good = Step(3 * x + 1, "<=", 3 * b + 1, "by x <= b", method="hypothesis", hypothesis="x <= b")
    # numeric witnesses of the hypothesis: sample b >= x via avoid
    d = Derivation("hyp", (good,), domain={x: (-2.0, 2.0), b: (0.0, 2.0)}, hypotheses=(hyp,),
                   avoid=lambda p: p["x"] > p["b"])
    assert check_derivation(d, seed=0).verdict == "PROVED"
    # an undeclared hypothesis leaves its step open: never PROVED (and the proof
    # obligations name it, see tests/derivation/test_obligations.py)
    bad = Step(3 * x + 1, "<=", 3 * b + 1, "?", method="hypothesis", hypothesis="nope")
    res = check_derivation(Derivation("hyp", (bad,), domain=d.domain, hypotheses=(hyp,),
                                      avoid=d.avoid), seed=0)
    assert res.verdict == "INCONCLUSIVE" and "'nope' is not declared" in res.message


def test_invalid_relation_and_method():
    with pytest.raises(InvalidArgument, match="relation"):
        Step(x, "=<", 1, "?")
    with pytest.raises(InvalidArgument, match="method"):
        Step(x, "<=", 1, "?", method="magic")
    with pytest.raises(InvalidArgument, match="variable"):
        Step(x, "<=", 1, "?", method="derivative")


def test_result_is_json_serialisable():
    result = check_derivation(_square_chain(x**2 + 2 * x + 2, 2 * x), seed=0)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["verdict"] == "FALSIFIED" and data["steps"][0]["status"] == "FALSIFIED"


def test_generic_taylor_derivation_is_proved():
    result = check_derivation(taylor_remainder_derivation(), seed=0, **FAST)
    assert result.verdict == "PROVED", result.message
    assert len(result.steps) == 10


def test_taylor_derivation_with_wrong_constant_is_falsified():
    d = taylor_remainder_derivation()
    steps = list(d.steps)
    last = steps[4]
    steps[4] = Step(last.lhs, "==", BETA / 4 * H**2, "∫ of a linear function (wrong: β/4)")
    result = check_derivation(Derivation(d.title, tuple(steps), d.domain, d.hypotheses,
                                         d.witnesses), seed=0, **FAST)
    assert result.verdict == "FALSIFIED" and result.failing_step == 5
    assert S in d.domain


def test_limit_at_plus_infinity_is_read_on_the_right_side():
    """sympy records Limit(f, t, oo) with dir='-'; the numeric check must still
    evaluate near +oo (a wrong side turns pi/2 into -pi/2 and refutes a true step)."""
    t, a = sp.Symbol("t", real=True), sp.Symbol("a", positive=True)
    steps = (Step(sp.Limit(sp.atan(a * t), t, sp.oo), "==", sp.pi / 2, "lim at +oo"),
             Step(sp.Limit(sp.atan(a * t), t, -sp.oo), "==", -sp.pi / 2, "lim at -oo"),
             Step(sp.Limit(sp.atan(a * t), t, sp.oo), "==", -sp.pi / 2, "wrong side"))
    res = check_derivation(Derivation("limits", steps, domain={a: (0.5, 2.0)}), seed=0)
    assert [s.numeric for s in res.steps] == ["agree", "agree", "disagree"]
    assert res.verdict == "FALSIFIED" and res.failing_step == 3


def test_sum_triangle_rule_closes_and_refuses():
    a, b, c = sp.symbols("a b c", real=True)
    lhs = sp.sqrt(2) * sp.Abs(a * b + c) / 2
    good = sp.sqrt(2) * (sp.Abs(a) * sp.Abs(b) + sp.Abs(c)) / 2
    assert RULES["sum_triangle"](lhs, "<=", good).status == "closed"
    assert RULES["sum_triangle"](lhs, "<=", sp.Abs(c)).status == "open"
    assert RULES["sum_triangle"](sp.Abs(a), "<=", sp.Abs(a)).status == "open"


def test_integrals_over_infinite_intervals_are_checked_numerically():
    r = sp.Symbol("r", positive=True)
    good = Step(sp.Integral(r**3 * sp.exp(-r**2 / 2), (r, 0, sp.oo)), "==", 2, "Gaussian moment")
    bad = Step(sp.Integral(sp.exp(-r**2), (r, -sp.oo, sp.oo)), "==", 2, "wrong constant")
    res = check_derivation(Derivation("infinite limits", (good,)), seed=0, points=2)
    assert res.verdict == "PROVED" and res.steps[0].numeric == "agree"
    res = check_derivation(Derivation("infinite limits", (bad,)), seed=0, points=2)
    assert res.verdict == "FALSIFIED" and res.steps[0].numeric == "disagree"
