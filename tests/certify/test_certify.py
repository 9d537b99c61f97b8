"""The ball-arithmetic certifier: certified, falsified (with a re-checked point) and
inconclusive inequalities, local (second-order) and tail arguments, strictness,
precision scoping, bad inputs; and the sympy-to-arb compiler it evaluates with."""

from __future__ import annotations

from fractions import Fraction

import flint
import pytest
import sympy as sp

from ntkproof.certify import (
    LocalMax,
    NotABall,
    Tail,
    arb_function,
    arb_value,
    arb_xlogx,
    certify,
    negative_definite,
    xlogx,
)
from ntkproof.certify.symbolic import arb_pow, arb_sqrt
from ntkproof.errors import InvalidArgument

QUARTER = flint.arb(1) / 4
HALF = flint.arb(1) / 2


def parabola(x):
    return x * (1 - x), QUARTER


def parabola_max(**overrides):
    """x(1 - x) <= 1/4 is attained at 1/2: f = x(1-x) - 1/4, f(1/2) = 0, f'(1/2) = 0,
    f'' = -2."""
    opts = dict(hessian=lambda x: flint.arb(-2),
                proof="f = -(x - 1/2)^2: f(1/2) = 0, f'(1/2) = 1 - 2x = 0")
    opts.update(overrides)
    return LocalMax({"x": Fraction(1, 2)}, 0.1, **opts)


# -- certified ---------------------------------------------------------------------------

def test_sin_below_identity_is_certified_with_the_second_order_argument_at_0():
    # f = sin x - x: f(0) = 0, f'(0) = cos 0 - 1 = 0, and on N = [0, 1/2] f'' = -sin x
    # <= -sin 0 = 0 (-sin decreases on [0, π/2]): that bound above is what the hessian
    # returns. (An enclosure of -sin on N's ball would not do: arb rounds the ball's
    # radius up, so it reaches below 0, where -sin > 0.)
    local = LocalMax({"x": 0}, 0.5, hessian=lambda x: -flint.arb(0).sin(),
                     proof="f(0) = sin 0 - 0 = 0, f'(0) = cos 0 - 1 = 0; -sin x <= 0 on N")
    res = certify(lambda x: (x.sin(), x), {"x": (0.0, 10.0)}, local=[local])
    assert res.verdict == "CERTIFIED", res.message
    assert res.boxes > 0 and res.undecided_volume == 0.0 and res.counterexample is None
    assert "second-order" in res.arguments[0]
    assert "Taylor's theorem" in res.message
    assert res.prec == 80 and res.box == {"x": (0.0, 10.0)}


def test_sin_below_identity_without_the_local_argument_stays_undecided_at_0():
    res = certify(lambda x: (x.sin(), x), {"x": (0.0, 10.0)}, max_boxes=300)
    assert res.verdict == "INCONCLUSIVE"
    # the sliver at 0, where sin x = x: boxes [a, a + w] decide only when w < a³/6
    assert 0 < res.undecided_volume < 0.05


def test_parabola_is_certified_with_a_local_max_at_one_half_and_reports_tightness():
    res = certify(parabola, {"x": (0.0, 1.0)}, local=[parabola_max()])
    assert res.verdict == "CERTIFIED", res.message
    assert res.arguments == ["|x - x*| ≤ 0.1 around x* = 0.5 by a second-order argument"]
    # max_ratio: a rigorous lower bound of sup lhs/rhs (here attained: 1)
    assert res.max_ratio is not None and 0.99 < res.max_ratio <= 1.0


def test_two_variable_local_max_needs_a_negative_definite_hessian():
    def evaluate(x, y):
        return -(x * x + y * y + x * y), flint.arb(0)

    def bowl(x, y):
        return [[flint.arb(-2), flint.arb(-1)], [flint.arb(-1), flint.arb(-2)]]

    box = {"x": (-1.0, 1.0), "y": (-1.0, 1.0)}
    local = LocalMax({"x": 0, "y": 0}, 0.25, hessian=bowl, proof="f(0) = 0, ∇f(0) = 0")
    res = certify(evaluate, box, local=[local])
    assert res.verdict == "CERTIFIED", res.message
    assert "negative definite" in res.message

    def saddle(x, y):
        return [[flint.arb(-2), flint.arb(0)], [flint.arb(0), flint.arb(1)]]

    wrong = LocalMax({"x": 0, "y": 0}, 0.25, hessian=saddle, proof="f(0) = 0, ∇f(0) = 0")
    res = certify(evaluate, box, local=[wrong], max_boxes=200)
    assert "REJECTED" in res.arguments[0] and res.verdict == "INCONCLUSIVE"


def test_compactified_tail_certifies_the_rest_of_the_line():
    # e^{-z} <= 1/2 for z >= 1: box [1, 10], tail z >= 10 in u = e^{-z} in (0, e^{-10}]
    tail = Tail("z", 10.0, 1, description="u = e^{-z}", evaluate=lambda u: (u, HALF),
                box={"u": (0.0, 4.6e-5)}, to_original=lambda u: -u.log(),
                proof="e^{-z} = u; z = -log u decreases to 10 at u = e^{-10}")
    res = certify(lambda z: ((-z).exp(), HALF), {"z": (1.0, 10.0)}, tails=[tail])
    assert res.verdict == "CERTIFIED", res.message
    assert res.arguments == ["tail z ≥ 10 by u = e^{-z} on u ∈ [0, 4.6e-05] (1 box)"]


def test_tail_that_does_not_reach_the_box_is_not_a_certificate():
    tail = Tail("z", 10.0, 1, evaluate=lambda u: (u, HALF), box={"u": (0.0, 1e-6)},
                to_original=lambda u: -u.log(), proof="u = e^{-z}")
    res = certify(lambda z: ((-z).exp(), HALF), {"z": (1.0, 10.0)}, tails=[tail])
    assert res.verdict == "INCONCLUSIVE"
    assert "does NOT reach" in res.arguments[0]


def test_tail_by_the_callers_argument_runs_its_check():
    passed = Tail("z", 10.0, 1, proof="monotone (sympy)", check=lambda: True)
    failed = Tail("z", 10.0, 1, proof="monotone (sympy)", check=lambda: False)
    ev = lambda z: ((-z).exp(), HALF)  # noqa: E731
    assert certify(ev, {"z": (1.0, 10.0)}, tails=[passed]).verdict == "CERTIFIED"
    res = certify(ev, {"z": (1.0, 10.0)}, tails=[failed])
    assert res.verdict == "INCONCLUSIVE" and "check FAILED" in res.arguments[0]


# -- falsified -----------------------------------------------------------------------------

def _exact_parabola(x: float) -> Fraction:
    q = Fraction(x)
    return q * (1 - q)


def test_parabola_below_024_is_falsified_at_a_concrete_point_that_rechecks():
    res = certify(lambda x: (x * (1 - x), flint.arb(24) / 100), {"x": (0.0, 1.0)})
    assert res.verdict == "FALSIFIED"
    ce = res.counterexample
    x = ce["point"]["x"]
    assert 0.0 <= x <= 1.0
    assert _exact_parabola(x) > Fraction(24, 100)  # exact rational re-check
    assert ce["lhs"] > ce["rhs"] and ce["ratio"] > 1 and ce["prec"] == 160
    assert ce["where"] == "box"
    assert res.max_ratio is not None and res.max_ratio > 1


def test_a_local_max_with_the_wrong_constant_is_rejected_and_the_claim_falsified():
    res = certify(lambda x: (x * (1 - x), flint.arb(24) / 100), {"x": (0.0, 1.0)},
                  local=[parabola_max()])
    assert res.verdict == "FALSIFIED"
    assert "REJECTED" in res.arguments[0] and "not 0" in res.message


def test_a_local_max_whose_symbolic_check_fails_is_rejected():
    res = certify(parabola, {"x": (0.0, 1.0)}, local=[parabola_max(check=lambda: False)],
                  max_boxes=100)
    assert res.verdict == "INCONCLUSIVE"
    assert "returned False" in res.message


def test_a_violation_in_a_tail_is_reported_in_the_original_variable():
    # 1/20 <= 1/(1 + z) fails for z > 19; tail z >= 10 with u = 1/z in (0, 0.1]
    tail = Tail("z", 10.0, 1, evaluate=lambda u: (flint.arb(1) / 20, u / (1 + u)),
                box={"u": (0.0, 0.1)}, to_original=lambda u: 1 / u, proof="u = 1/z")
    res = certify(lambda z: (flint.arb(1) / 20, 1 / (1 + z)), {"z": (0.0, 10.0)},
                  tails=[tail])
    assert res.verdict == "FALSIFIED"
    point = res.counterexample["point"]
    assert point["z"] > 19 and "tail" in res.counterexample["where"]


# -- inconclusive and strict ---------------------------------------------------------------

def test_a_tiny_budget_is_inconclusive_with_the_undecided_volume():
    res = certify(parabola, {"x": (0.0, 1.0)}, max_boxes=20)
    assert res.verdict == "INCONCLUSIVE" and res.boxes == 20
    assert 0 < res.undecided_volume < 1
    assert "budget spent" in res.message


def test_strict_inequality_fails_where_the_sides_are_equal():
    def zero(x):
        return 0 * x, flint.arb(0)

    assert certify(zero, {"x": (0.0, 1.0)}).verdict == "CERTIFIED"
    res = certify(zero, {"x": (0.0, 1.0)}, strict=True)
    assert res.verdict == "FALSIFIED" and res.counterexample["point"] == {"x": 0.5}
    assert certify(lambda x: (x, flint.arb(2)), {"x": (0.0, 1.0)}, strict=True).verdict == \
        "CERTIFIED"


def test_strict_with_a_local_max_is_refused():
    with pytest.raises(InvalidArgument, match="strict"):
        certify(parabola, {"x": (0.0, 1.0)}, strict=True, local=[parabola_max()])


# -- precision ------------------------------------------------------------------------------

def test_precision_is_set_inside_the_call_and_restored_after_it():
    seen = []

    def evaluate(x):
        seen.append(flint.ctx.prec)
        return x * (1 - x), flint.arb(24) / 100

    before = flint.ctx.prec
    res = certify(evaluate, {"x": (0.0, 1.0)}, prec=96)
    assert flint.ctx.prec == before
    assert seen[0] == 96 and 192 in seen  # the counterexample is re-checked at 2·prec
    assert res.prec == 96


def test_precision_is_restored_when_evaluate_raises():
    before = flint.ctx.prec

    def broken(x):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        certify(broken, {"x": (0.0, 1.0)}, prec=120)
    assert flint.ctx.prec == before


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("box, match", [
    ({}, "must map each variable"),
    ({"x": (1.0, 0.0)}, "empty"),
    ({"x": (0.0, float("inf"))}, "unbounded"),
    ({"x": (0.0,)}, "pair of numbers"),
    ({"not a name": (0.0, 1.0)}, "identifier"),
])
def test_bad_boxes_are_refused_with_the_reason(box, match):
    with pytest.raises(InvalidArgument, match=match):
        certify(parabola, box)


def test_evaluate_must_return_two_arb_balls():
    with pytest.raises(NotABall, match="flint.arb"):
        certify(lambda x: (0.25, QUARTER), {"x": (0.0, 1.0)})
    with pytest.raises(NotABall, match="two flint.arb"):
        certify(lambda x: x, {"x": (0.0, 1.0)})
    assert issubclass(NotABall, TypeError) and issubclass(NotABall, ValueError)


@pytest.mark.parametrize("options, match", [
    ({"prec": 8}, "prec"),
    ({"max_boxes": 0}, "max_boxes"),
    ({"time_limit": 0}, "time_limit"),
    ({"local": [LocalMax({"x": 0.5}, 0.1)]}, "hessian"),
    ({"local": [LocalMax({"y": 0.5}, 0.1, hessian=lambda x: x, proof="p")]}, "centre"),
    ({"tails": [Tail("x", 5.0, 1, proof="p", check=lambda: True)]}, "start where the box"),
    ({"tails": [Tail("x", 1.0, 1)]}, "needs either"),
])
def test_bad_options_are_refused(options, match):
    with pytest.raises(InvalidArgument, match=match):
        certify(parabola, {"x": (0.0, 1.0)}, **options)


def test_negative_definite_test_of_interval_matrices():
    ok, _ = negative_definite([[flint.arb(-2), flint.arb(1)], [flint.arb(1), flint.arb(-2)]], 2)
    assert ok
    wide = flint.arb(0, 3)  # the entry may be anything in [-3, 3]
    ok, why = negative_definite([[flint.arb(-2), wide], [wide, flint.arb(-2)]], 2)
    assert not ok and "pivot 2" in why
    assert negative_definite(flint.arb(-1), 1)[0] and not negative_definite(flint.arb(0, 1), 1)[0]


# -- the sympy-to-arb compiler ---------------------------------------------------------------

def test_compiled_expressions_enclose_their_values():
    z = sp.Symbol("z")
    expr = sp.exp(-z**2 / 2) * (2 - z**2) / sp.sqrt(2 * sp.pi) + sp.tanh(z) * sp.erf(z) / 3
    f = arb_function(expr, [z])
    for x in (-2.5, 0.0, 0.7):
        exact = sp.N(expr.subs(z, sp.Float(x, 60)), 40)
        assert f(flint.arb(x)).contains(flint.arb(str(exact)).mid())
    ball = flint.arb(0.5, 0.25)
    sample = float(sp.N(expr.subs(z, sp.Rational(3, 8))))
    assert f(ball).contains(sample)


def test_compiler_refuses_floats_and_unknown_functions():
    z = sp.Symbol("z")
    with pytest.raises(InvalidArgument, match="Float"):
        arb_function(sp.Float(0.1) * z, [z])
    with pytest.raises(InvalidArgument, match="no rigorous enclosure"):
        arb_function(sp.gamma(z), [z])
    with pytest.raises(InvalidArgument, match="free symbol"):
        arb_function(z + sp.Symbol("w"), [z])
    with pytest.raises(InvalidArgument, match="not a constant"):
        arb_value(z)


def test_xlogx_is_enclosed_at_zero_and_checks_symbolically():
    u = sp.Symbol("u", positive=True)
    assert xlogx(u).rewrite(sp.log) == u * sp.log(u)
    assert xlogx(0) == 0
    near_zero = arb_xlogx(flint.arb(1e-3).union(flint.arb(0)))
    assert near_zero.contains(0) and near_zero.contains(flint.arb(1e-3) * flint.arb(1e-3).log())
    assert near_zero.upper() <= 1e-9  # x log x <= 0 on [0, 1] (the ball's radius rounds up)
    wide = arb_xlogx(flint.arb(0).union(flint.arb(2)))
    assert wide.contains(-(-flint.arb(1)).exp())  # the minimum -1/e at 1/e
    assert arb_xlogx(flint.arb(0)).is_zero()


def test_even_powers_and_square_roots_of_balls_across_zero():
    ball = flint.arb(-1).union(flint.arb(2))
    sq = arb_pow(ball, 2)
    assert sq.lower() >= -1e-6 and sq.contains(4) and sq.contains(0)  # not [-4, 4]
    assert arb_pow(ball, 3).contains(-1) and arb_pow(ball, 3).contains(8)
    rounded = flint.arb(0.5, 0.5)  # [0, 1], reaching below 0 by arb's rounded radius
    assert rounded.lower() < 0 and arb_sqrt(rounded).is_finite()
    assert arb_sqrt(flint.arb(-2, 1)).is_nan()
