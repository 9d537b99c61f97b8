r"""Taylor remainder bound for smooth activations, and their smoothness constants.

Statement
---------
Let σ be twice differentiable with :math:`\sup_z |σ''(z)| \le β`. For all real r, s,

.. math::

    |σ(r) - σ(s) - σ'(s)(r - s)| = \Big|\int_s^r σ''(z)(r - z)\,dz\Big| \le \frac{β}{2}(r - s)^2 ,

and β = sup|σ''| is, exactly: sigmoid 1/(6√3) at ±ln(2+√3); tanh 4/(3√3) at
±½ln(2+√3); softplus 1/4 at 0; SiLU 1/2 at 0; GELU (z·Φ(z)) √(2/π) at 0; erf
2√(2/(πe)) at ±1/√2.

Claims
------
* ``taylor_remainder.derivation`` — the inequality for a generic σ, derived step by
  step (integral remainder by equal derivatives in r, triangle inequality for
  integrals, the hypothesis |σ''| <= β, the integral of |r - z|).
* ``smoothness_constant.<activation>`` — β derived exactly (σ''' = 0 solved, values
  at the critical points, limits at ±∞; SiLU by a chain of sympy-closed bounds),
  then checked numerically: |σ''(z*)| = β at the argmax (identity) and |σ''| <= β
  over z in [-10, 10] by search (bound, supremum 1 reached at z*).
* ``taylor_remainder.derivation.<activation>`` — the same derivation instantiated for
  the activation with its exact β.
* ``taylor_remainder.<activation>`` — the bound on random (r, s) plus a worst-case
  search. The supremum of |R| / ((β/2)(r - s)²) is 1, approached as r → s at the
  argmax of |σ''|.
* Falsified twins: ``taylor_remainder.<activation>.twin_small_constant`` (0.9·β/2:
  the search finds ratio → 1/0.9), ``taylor_remainder.twin_sigmoid_beta_for_tanh``
  (the sigmoid constant used for tanh: ratio → 8), and
  ``smoothness_constant.<activation>.twin_small_beta`` (sup|σ''| <= 0.99·β).

Source
------
Taylor's theorem with the integral remainder; used per neuron in the proof of
Proposition 4.1 of M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27),
§4.1. Constants: ``../shared/research/theorems.md`` §8, re-derived here.

Tolerances
----------
The remainder is a difference of O(1) numbers that nearly cancel when r → s, so each
case reports as its *scale* |σ(r)| + |σ(s)| + |σ'(s)(r - s)|, and the backend's rtol
(float64: 1e-10; float32: 1e-4; mpmath: 1e-40) applies relative to it. A case whose
ratio exceeds 1 inside that tolerance is re-evaluated at 50 digits before its ratio
is reported, so the reported tightness is never roundoff.
"""

from __future__ import annotations

import pytest
import sympy as sp

from ntkproof import Box, claim, get_activation
from ntkproof.nn.activations import SMOOTH_ACTIVATIONS
from ntkproof.theory.smoothness import smoothness_constant
from ntkproof.theory.taylor import taylor_remainder_derivation

SOURCE = "Taylor's theorem (integral remainder); Telgarsky, DLT notes (2021-10-27), §4.1, Prop. 4.1"
STATEMENT = r"|\sigma(r)-\sigma(s)-\sigma'(s)(r-s)| \le \frac{\beta}{2}(r-s)^2"
RS_BOX = Box(r=(-6.0, 6.0), s=(-6.0, 6.0))


def at_precision(b, value):
    """A sympy constant as a scalar of backend ``b`` (60 digits, rounded by ``b``)."""
    return b.scalar(str(sp.N(value, 60)))


def remainder_case(activation: str, beta):
    """``evaluate(b, r, s)`` for ntk.bound: (|R|, (β/2)(r-s)², scale of cancelled terms).
    ``beta`` is a sympy constant, taken at the backend's precision."""
    act = get_activation(activation)

    def evaluate(b, r, s):
        fr, fs, lin = act.f(b, r), act.f(b, s), act.df(b, s) * (r - s)
        bound = at_precision(b, beta) / 2 * (r - s) ** 2
        return b.abs(fr - fs - lin), bound, b.abs(fr) + b.abs(fs) + b.abs(lin)

    return evaluate


def second_derivative_case(activation: str, beta):
    """``evaluate(b, z)``: (|σ''(z)|, β), β a sympy constant at the backend's precision."""
    act = get_activation(activation)
    return lambda b, z: (b.abs(act.d2f(b, z)), at_precision(b, beta) + 0 * z)


def second_derivative_at_argmax(activation: str, sc):
    """``evaluate(b, i)``: (|σ''(z_i*)|, β) with z_i* and β at the backend's precision
    (60 digits from sympy, rounded by the backend), so mpmath checks it at 50 digits."""
    act = get_activation(activation)

    def evaluate(b, i):
        z = at_precision(b, sc.argmax[int(i)])
        return b.abs(act.d2f(b, z)), at_precision(b, sc.exact)

    return evaluate


# -- derivations --------------------------------------------------------------------

@claim("taylor_remainder.derivation", kind="derivation",
       title="Taylor remainder bound for a generic twice-differentiable σ",
       statement=STATEMENT + r"\quad\text{if } |\sigma''| \le \beta", source=SOURCE)
def test_taylor_remainder_derivation_of_generic_sigma(ntk):
    ntk.derivation(taylor_remainder_derivation(None))


@claim("smoothness_constant.{activation}", kind="derivation",
       title="sup |σ''| for {activation}, derived exactly",
       statement=r"\beta_{{\mathrm{{{activation}}}}} = \sup_z |\sigma''(z)|",
       source="Telgarsky, DLT notes §4.1 (β-smoothness); closed forms re-derived with sympy",
       known_sup=1.0)
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_smoothness_constant_of_activation(ntk, activation):
    sc = smoothness_constant(activation)
    ntk.derivation(sc.derivation)
    ntk.identity(second_derivative_at_argmax(activation, sc), [{"i": i} for i in
                                                              range(len(sc.argmax))])
    ntk.bound(second_derivative_case(activation, sc.exact), Box(z=(-10.0, 10.0)))
    ntk.record(beta=str(sc.exact), beta_value=sc.value, argmax=[str(z) for z in sc.argmax])


@claim("smoothness_constant.{activation}.twin_small_beta", kind="bound",
       title="twin: sup |σ''| <= 0.99·β for {activation}",
       statement=r"|\sigma''| \le 0.99\,\beta", source="falsified twin",
       twin_of="smoothness_constant.{activation}")
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_twin_small_beta(ntk, activation):
    beta = smoothness_constant(activation).exact
    ntk.bound(second_derivative_case(activation, sp.Rational(99, 100) * beta),
              Box(z=(-10.0, 10.0)))


# -- the bound, per activation ----------------------------------------------------

@claim("taylor_remainder.derivation.{activation}", kind="derivation",
       title="Taylor remainder bound for {activation}, derived with its exact β",
       statement=STATEMENT, source=SOURCE)
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_taylor_remainder_derivation_of_activation(ntk, activation):
    ntk.derivation(taylor_remainder_derivation(activation))


@claim("taylor_remainder.{activation}", kind="bound",
       title="Taylor remainder bound for {activation}", statement=STATEMENT, source=SOURCE,
       known_sup=1.0)
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_taylor_remainder_of_activation(ntk, activation):
    beta = smoothness_constant(activation).exact
    ntk.bound(remainder_case(activation, beta), RS_BOX)


@claim("taylor_remainder.{activation}.twin_small_constant", kind="bound",
       title="twin: the bound with 0.9·β/2 for {activation}",
       statement=r"|R| \le 0.9\,\frac{\beta}{2}(r-s)^2", source="falsified twin",
       twin_of="taylor_remainder.{activation}")
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_twin_small_constant(ntk, activation):
    beta = smoothness_constant(activation).exact
    ntk.bound(remainder_case(activation, sp.Rational(9, 10) * beta), RS_BOX)


@claim("taylor_remainder.twin_sigmoid_beta_for_tanh", kind="bound",
       title="twin: tanh's remainder bounded with the sigmoid's β",
       statement=r"|R_{\tanh}| \le \frac{\beta_{\mathrm{sigmoid}}}{2}(r-s)^2",
       source="falsified twin", twin_of="taylor_remainder.tanh")
def test_twin_sigmoid_beta_for_tanh(ntk):
    ntk.bound(remainder_case("tanh", smoothness_constant("sigmoid").exact), RS_BOX)
