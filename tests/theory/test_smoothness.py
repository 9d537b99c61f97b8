"""Smoothness constants β = sup|σ''|: exact, proved, and equal to numeric maxima.

Reference values (12 digits) from the closed forms: sigmoid 1/(6√3), tanh 4/(3√3),
softplus 1/4, SiLU 1/2 (at 0), GELU √(2/π) (at 0), erf 2√2/√(πe) (at 1/√2).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import sympy as sp

from ntkproof.backends import get_backend
from ntkproof.derivation import check_derivation
from ntkproof.errors import InvalidArgument, UnknownName
from ntkproof.nn.activations import SMOOTH_ACTIVATIONS, Activation, get_activation
from ntkproof.theory.smoothness import SMOOTHNESS, smoothness_constant
from ntkproof.theory.taylor import taylor_bound, taylor_remainder, taylor_remainder_derivation

TABLE = {"sigmoid": 0.096225044865, "tanh": 0.769800358920, "softplus": 0.25,
         "silu": 0.5, "gelu": 0.797884560803, "erf": 0.967882898077}
FAST = {"points": 4, "digits": 30}


@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_smoothness_derivation_is_proved(name):
    result = check_derivation(smoothness_constant(name).derivation, seed=0, **FAST)
    assert result.verdict == "PROVED", result.message


def _numeric_sup(name: str) -> float:
    """max |σ''| by a dense grid, refined by bounded scalar maximisation."""
    act, b = get_activation(name), get_backend("numpy")
    grid = np.linspace(-30.0, 30.0, 600_001)
    values = np.abs(act.d2f(b, grid))
    k = int(np.argmax(values))
    res = scipy.optimize.minimize_scalar(
        lambda t: -abs(float(act.d2f(b, np.array(t)))), bounds=(grid[k - 1], grid[k + 1]),
        method="bounded", options={"xatol": 1e-12})
    return max(float(values[k]), -res.fun)


@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_beta_matches_numeric_maximisation(name):
    c = smoothness_constant(name)
    assert abs(c.value - _numeric_sup(name)) < 1e-10
    assert abs(c.value - TABLE[name]) < 1e-11
    assert abs(float(c.exact) - c.value) == 0


@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_argmax_is_critical_and_attains_beta(name):
    c, act = smoothness_constant(name), get_activation(name)
    assert c.argmax
    for z0 in c.argmax:
        assert abs(sp.N(act.derivative_expr(3).subs(Activation.z, z0), 40)) < 1e-30
        assert abs(sp.N(sp.Abs(act.derivative_expr(2).subs(Activation.z, z0)) - c.exact, 40)) \
            < 1e-30


def test_closed_forms():
    z = sp.sqrt(3)
    assert sp.simplify(smoothness_constant("sigmoid").exact - 1 / (6 * z)) == 0
    assert sp.simplify(smoothness_constant("tanh").exact - 4 / (3 * z)) == 0
    assert sp.simplify(smoothness_constant("erf").exact - 2 * sp.sqrt(2 / (sp.pi * sp.E))) == 0
    assert sp.simplify(smoothness_constant("gelu").exact - sp.sqrt(2 / sp.pi)) == 0
    assert set(smoothness_constant("sigmoid").argmax) == {sp.log(2 + z), sp.log(2 - z)}
    assert sp.log(2 + z) / 2 in smoothness_constant("tanh").argmax


def test_lazy_mapping_and_cache():
    assert SMOOTHNESS["softplus"] is smoothness_constant("softplus")


def test_unknown_activation_names_the_catalogue():
    with pytest.raises(UnknownName, match="sigmoid"):
        smoothness_constant("swish2")
    with pytest.raises(InvalidArgument, match="Lemma 4.1"):
        smoothness_constant("relu")


# --- Taylor remainder bound -------------------------------------------------------------

def test_taylor_special_cases():
    assert float(taylor_remainder("tanh", 0.7, 0.7, "numpy")) == 0.0
    assert taylor_bound(0.0, 3.0, -1.0) == 0.0
    assert taylor_bound(1.0, 0.3, 0.3) == 0.0


@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_taylor_bound_holds_and_is_nearly_tight(name):
    rng = np.random.default_rng(0)
    r, s = rng.uniform(-6, 6, 20_000), rng.uniform(-6, 6, 20_000)
    beta = smoothness_constant(name).value
    rem = np.abs(taylor_remainder(name, r, s, "numpy"))
    bound = taylor_bound(beta, r, s)
    assert np.all(rem <= bound * (1 + 1e-12) + 1e-15)
    assert float(np.max(rem / np.maximum(bound, 1e-300))) > 0.3


def test_taylor_derivation_for_erf_is_proved():
    result = check_derivation(taylor_remainder_derivation("erf"), seed=0, **FAST)
    assert result.verdict == "PROVED", result.message


@pytest.mark.slow
@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_taylor_derivation_per_activation_is_proved(name):
    result = check_derivation(taylor_remainder_derivation(name), seed=1, **FAST)
    assert result.verdict == "PROVED", result.message
