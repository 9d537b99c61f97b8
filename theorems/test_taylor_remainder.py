r"""Taylor remainder bound for smooth activations, and their smoothness constants.

Statement
---------
Let σ be twice differentiable with :math:`\sup_z |σ''(z)| \le β`. For all real r, s,

.. math::

    |σ(r) - σ(s) - σ'(s)(r - s)| = \Big|\int_s^r σ''(z)(r - z)\,dz\Big| \le \frac{β}{2}(r - s)^2 ,

and β = sup|σ''| is, exactly: sigmoid 1/(6√3) at ±ln(2+√3); tanh 4/(3√3) at
±½ln(2+√3); softplus 1/4 at 0; SiLU 1/2 at 0; GELU (z·Φ(z)) √(2/π) at 0; erf
2√(2/(πe)) at ±1/√2 (each derived here, see below).

Claims
------
* ``taylor_remainder.derivation`` — the inequality for a generic σ, for all real r, s,
  PROVED: by cases r = s + h, r = s - h (h > 0) and r = s (a trichotomy the engine
  checks), each case a chain from |R| to (β/2)(r - s)² (integral remainder by equal
  derivatives in h, triangle inequality for integrals, the declared hypothesis
  |σ''| <= β, the integral of |r - z|), its goal checked to be the statement.
* ``smoothness_constant.<activation>`` — β = sup_z |σ''(z)|: |σ''(z*)| = β at the
  argmax (identity, at the backend's precision), |σ''| <= β on z ∈ [-10, 10] by search
  (bound, supremum 1 reached at z*), and |σ''(z)| <= β for EVERY real z, CERTIFIED (two
  ``certify`` checks, σ'' <= β and -σ'' <= β, below): together sup = β, CERTIFIED.
  How β and z* were found (σ''' = 0 solved, values at the critical points, limits at
  ±∞) is the derivation in ``ntkproof.theory.smoothness``, tested in
  ``tests/theory/test_smoothness.py``: it found the constant; what proves the claim is
  the certificate, so the derivation is not a check of the claim.
* ``taylor_remainder.derivation.<activation>`` — the same derivation instantiated for
  the activation with its exact β, PROVED for all real r, s (its hypothesis
  |σ''| <= β is the claim ``smoothness_constant.<activation>``, CERTIFIED).
* ``taylor_remainder.<activation>`` — the bound on random (r, s) ∈ [-6, 6]² plus a
  worst-case search (the supremum of |R| / ((β/2)(r - s)²) is 1, approached as r → s
  at the argmax of |σ''|), and CERTIFIED at every point of [-6, 6]² (below).
* Falsified twins, each the claim's own body with a smaller constant (declared with
  the claim: same body, same seed):
  ``smoothness_constant.<activation>.twin_small_beta`` (|σ''| <= 0.99·β: violated on
  an interval around z* of half-width about √(0.02 β/|σ''''(z*)|), which both the
  search and the certifier hit; the certifier's local argument is refused there,
  sympy finding |σ''(z*)| ≠ 0.99·β, and it returns a concrete point, re-checked at
  160 bits: z = ∓1.40625 for sigmoid (z* = ∓1.317), ∓0.703125 for tanh (∓0.658) and
  erf (∓0.707), 0 for softplus, SiLU and GELU) and
  ``taylor_remainder.<activation>.twin_small_constant`` (0.9·β/2: violated near
  (z*, z*), where the ratio tends to 1/0.9; the certifier's points (∓1.5, ∓1.5) for
  sigmoid, (∓0.75, ∓0.75) for tanh and erf, (0, 0) for the others). 0.99 and 0.9
  are close enough to 1 to show the checks' power and far enough that each
  violation region has a positive size. (For softplus, SiLU and GELU, σ'' has no
  negative attained extreme, so the twin's -σ'' half is still certified: the twin is
  falsified by its other half.) Separately,
  ``taylor_remainder.twin_sigmoid_beta_for_tanh`` (the sigmoid's β used for tanh:
  the ratio reaches 8; numeric search only).

What is CERTIFIED, and how (python-flint's arb ball arithmetic, branch and bound)
----------------------------------------------------------------------------------
* smoothness, per activation and sign: sign·σ''(z) <= β for all real z. Branch and
  bound on z ∈ [-10, 10]; around each argmax z* with sign·σ''(z*) = β, a
  neighbourhood decided by a second-order argument (f = sign·σ'' - β has f(z*) = 0
  and f'(z*) = 0, checked by sympy; the arb enclosure of f'' = sign·σ'''' on the
  neighbourhood is <= 0; Taylor with the Lagrange remainder gives f <= 0 there); the
  tails |z| >= 10 rewritten in u = e^{-|z|} (e^{-2|z|} for tanh, e^{-z²/2} for GELU,
  e^{-z²} for erf) ∈ (0, U], where σ'' is a closed form in u continuous at u = 0
  (sympy checks the identity, that u ↦ z inverts z ↦ u and that u → 0 monotonically
  as |z| → ∞), decided by the same branch and bound on [0, U].
* the remainder, per activation and sign: sign·R(r, s)/(r - s)² <= β/2 on
  (r, s) ∈ [-6, 6]², which is the claim after multiplying by (r - s)². The quotient
  is never formed from enclosures of nearly equal numbers: R/(r - s)² = ∫_0^1 (1 - t)
  σ''(s + t(r - s)) dt (Taylor's theorem with the integral remainder), enclosed at a
  point by a Taylor form with Lagrange remainder (or, for |r - s| >= 1/4, as a
  point quotient), and on a box in mean value form with σ''' on the hull of [s, r].
  Around (z*, z*) a second-order argument: the gradient there is σ'''(z*)·(1/6, 1/3)
  = 0 and the Hessian is ∫(1 - t) sign·σ''''·v vᵀ dt ≼ (max sign·σ'''')·[[1/12, 1/12],
  [1/12, 1/4]], negative definite on the neighbourhood (arb).
  The constants are the exact ones, no loosening: β·(1 + ε) would be a different
  statement. See ``ntkproof.certify`` for what each argument checks and
  ``ntkproof.theory.smoothness`` / ``ntkproof.theory.taylor`` for the enclosures
  (compiled from the activation catalogue's sympy expressions).

Source
------
Taylor's theorem with the integral (and Lagrange) remainder; used per neuron in the
proof of Proposition 4.1 of M. Telgarsky, *Deep learning theory lecture notes*
(v. 2021-10-27), §4.1 (β-smoothness of the activation). The closed forms of β and
their argmax are derived by sympy (``ntkproof.theory.smoothness``), not taken from a
table, and certified here.

Tolerances
----------
The remainder is a difference of O(1) numbers that nearly cancel when r → s, so each
numeric case reports as its *scale* |σ(r)| + |σ(s)| + |σ'(s)(r - s)|, and the
backend's rtol (float64: 1e-10; float32: 1e-4; mpmath: 1e-40) applies relative to it.
A case whose ratio exceeds 1 inside that tolerance is re-evaluated at 50 digits before
its ratio is reported, so the reported tightness is never roundoff. The certificates
have no tolerance: arb balls at 80 bits enclose every rounding, and a counterexample
is re-checked at 160 bits. They do not depend on the backend.
"""

from __future__ import annotations

import pytest
import sympy as sp

from ntkproof import Box, Twin, claim, get_activation
from ntkproof.nn.activations import SMOOTH_ACTIVATIONS
from ntkproof.theory.smoothness import smoothness_constant, sup_certificate
from ntkproof.theory.taylor import (
    remainder_certificate,
    taylor_remainder_derivation,
    taylor_remainder_goal,
)

SOURCE = "Taylor's theorem (integral remainder); Telgarsky, DLT notes (2021-10-27), §4.1, Prop. 4.1"
STATEMENT = r"|\sigma(r)-\sigma(s)-\sigma'(s)(r-s)| \le \frac{\beta}{2}(r-s)^2"
RS_BOX = Box(r=(-6.0, 6.0), s=(-6.0, 6.0))
#: A deterministic budget for each certificate (the quick runs need under 2,000).
MAX_BOXES = 50_000


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


def certify_both_signs(ntk, certificate):
    """``ntk.certify`` for sign = +1 and -1 (the two halves of an absolute value)."""
    for sign in (1, -1):
        cert = certificate(sign)
        ntk.certify(cert.evaluate, cert.box, max_boxes=MAX_BOXES, **cert.options)


# -- derivations --------------------------------------------------------------------

@claim("taylor_remainder.derivation", kind="derivation",
       title="Taylor remainder bound for a generic twice-differentiable σ",
       statement=STATEMENT + r"\quad\text{if } |\sigma''| \le \beta", source=SOURCE)
def test_taylor_remainder_derivation_of_generic_sigma(ntk):
    ntk.derivation(taylor_remainder_derivation(None), goal=taylor_remainder_goal(None))


@claim("smoothness_constant.{activation}", kind="bound",
       title="sup |σ''| for {activation}, derived exactly",
       statement=r"\beta_{{\mathrm{{{activation}}}}} = \sup_z |\sigma''(z)|",
       source="Telgarsky, DLT notes §4.1 (β-smoothness); closed forms re-derived with sympy",
       known_sup=1.0,
       twins=[Twin("twin_small_beta", title="twin: sup |σ''| <= 0.99·β for {activation}",
                   statement=r"|\sigma''| \le 0.99\,\beta", kind="bound",
                   factor=sp.Rational(99, 100))])
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_smoothness_constant_of_activation(ntk, activation, factor=1):
    sc = smoothness_constant(activation)
    beta = factor * sc.exact
    if factor == 1:  # the value at the argmax is about β itself
        ntk.identity(second_derivative_at_argmax(activation, sc),
                     [{"i": i} for i in range(len(sc.argmax))])
    ntk.bound(second_derivative_case(activation, beta), Box(z=(-10.0, 10.0)))
    certify_both_signs(ntk, lambda sign: sup_certificate(activation, beta, sign))
    if factor == 1:
        ntk.record(beta=str(sc.exact), beta_value=sc.value, argmax=[str(z) for z in sc.argmax])


# -- the bound, per activation ----------------------------------------------------

@claim("taylor_remainder.derivation.{activation}", kind="derivation",
       title="Taylor remainder bound for {activation}, derived with its exact β",
       statement=STATEMENT, source=SOURCE)
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_taylor_remainder_derivation_of_activation(ntk, activation):
    ntk.derivation(taylor_remainder_derivation(activation), goal=taylor_remainder_goal(activation))


@claim("taylor_remainder.{activation}", kind="bound",
       title="Taylor remainder bound for {activation}", statement=STATEMENT, source=SOURCE,
       known_sup=1.0,
       twins=[Twin("twin_small_constant", title="twin: the bound with 0.9·β/2 for {activation}",
                   statement=r"|R| \le 0.9\,\frac{\beta}{2}(r-s)^2",
                   factor=sp.Rational(9, 10),
                   near="the constant β/2 10% low (0.9·β/2); the ratio measured on the twin's "
                        "own worst case (a certifier's point) may exceed 1/0.9 slightly")])
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_taylor_remainder_of_activation(ntk, activation, factor=1):
    beta = factor * smoothness_constant(activation).exact
    ntk.bound(remainder_case(activation, beta), RS_BOX)
    certify_both_signs(ntk, lambda sign: remainder_certificate(activation, beta, sign,
                                                                box=RS_BOX.bounds))


@claim("taylor_remainder.twin_sigmoid_beta_for_tanh", kind="bound",
       title="twin: tanh's remainder bounded with the sigmoid's β",
       statement=r"|R_{\tanh}| \le \frac{\beta_{\mathrm{sigmoid}}}{2}(r-s)^2",
       source="falsified twin", twin_of="taylor_remainder.tanh")
def test_twin_sigmoid_beta_for_tanh(ntk):
    ntk.bound(remainder_case("tanh", smoothness_constant("sigmoid").exact), RS_BOX)
