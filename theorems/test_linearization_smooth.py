r"""Linearisation error of a two-layer network with a β-smooth activation (Proposition 4.1).

Setting
-------
:math:`f(x;W) = m^{-1/2}\sum_j a_j\sigma(w_j^\top x)`, only W trained, |a_j| <= 1 (random ±1),
||x|| <= 1. No randomness is needed: the statement is for all W, V.

Statement
---------
If |σ''| <= β everywhere, then for all W, V ∈ R^{m×d}

.. math::

    |f(x;W) - f(x;V) - \langle\nabla f(x;V), W - V\rangle| \le \frac{\beta}{2\sqrt m}\|W - V\|_F^2 ,

with β = :func:`ntkproof.theory.smoothness.smoothness_constant` (the object proved in
``theorems/test_taylor_remainder.py``): sigmoid, tanh, softplus, SiLU, GELU, erf.

Claims
------
* ``linearization_smooth.derivation`` — the statement for a generic σ with |σ''| <= β, as a
  sympy relation in symbolic m and d (sums over the neurons j = 1..m and the coordinates
  k = 1..d of undefined functions a(j), w(j, k), v(j, k), x(k)), PROVED for all m and d.
  With t_j = (w_j - v_j)ᵀx and R_j = σ(w_jᵀx) - σ(v_jᵀx) - σ'(v_jᵀx) t_j, 13 steps: the
  lemma t_j = w_jᵀx - v_jᵀx (linearity over k); a per-neuron lemma for a symbolic neuron j,
  |a_j||R_j| <= |a_j| β(w_jᵀx - v_jᵀx)²/2 (Taylor) = |a_j| β t_j²/2 <= β t_j²/2 (|a_j| <= 1)
  <= (β/2)||w_j - v_j||²||x||² (Cauchy–Schwarz) <= (β/2)||w_j - v_j||² (||x|| <= 1), composed
  by transitivity; the lemma Σ_j a_j R_j = √m (f(x;W) - f(x;V) - <∇f(x;V), W - V>)
  (linearity over j); then the chain from the goal's left side: |Σ_j a_j R_j|/√m <=
  Σ_j |a_j||R_j|/√m (triangle inequality) <= Σ_j (β/2)||w_j - v_j||²/√m (the per-neuron
  lemma, summed) = β/(2√m)||W - V||_F² (the Frobenius norm as the double sum). Each step is
  closed by sympy and agrees at 50 digits at 8 random points (m drawn from 1..6, d from 1..4,
  a generic neuron j from 1..6; witnesses β sin, β cos/2, β z²/2 for σ and trigonometric
  functions of the indices, with random amplitudes and phases, for a, x, w, v, scaled so that
  |a_j| <= 1 and ||x|| <= 1); the engine checks the proof obligations (chain, relations,
  declared hypotheses, the goal the claim's statement symbol for symbol). Declared
  hypotheses: the Taylor bound |σ(r) - σ(s) - σ'(s)(r - s)| <= β(r - s)²/2 for all r, s —
  the statement of the claim ``taylor_remainder.derivation``, PROVED in
  ``theorems/test_taylor_remainder.py`` (built here from ``taylor_remainder_goal``);
  |a_j| <= 1 and ||x||² <= 1 (the setting); Cauchy–Schwarz per neuron,
  ((w_j - v_j)ᵀx)² <= ||w_j - v_j||²||x||², a family in the symbolic j and d (Lagrange's
  identity in symbolic d needs a double sum with its summation order swapped, which the
  closers do not do); and the triangle inequality for the sum of m terms,
  |Σ_j a_j R_j| <= Σ_j |a_j R_j| (induction on m; the library's ``sum_triangle`` rule
  writes out a fixed number of terms). The derivation does not depend on the activation,
  so it is one claim, checked once, rather than six copies.
* ``linearization_smooth.<activation>`` — the bound (a) under a worst-case search with
  ``known_sup = 1`` (the primary tightness) and (b) at GD-trained W against V = W0 (digits
  0-vs-1 and a sphere teacher, widths 2^6, 2^8, 2^10 quick, to 2^12 standard and 2^14
  thorough, three checkpoints per run, training and test inputs, the largest error over the
  inputs per case). Precondition (``ntk.require``): every run the trained cases use reduced its
  training loss at least tenfold (digits: 100 GD steps, ~100×; teacher: 800 steps, since the
  sigmoid teacher needs ~400 steps for 10×; measured over run seeds and widths).
* ``linearization_smooth.trained_rate.tanh`` (tanh only, for time) — upper rate: at GD-trained
  W (sphere teacher, 100 steps, loss reduced at least tenfold, checked) the mean error over
  test inputs decays at least like m^{-1/2}; the fitted slope is about -1 (random signs a_j
  cancel the second-order terms).

Falsified twins
---------------
* ``linearization_smooth.<activation>.twin_small_constant`` — the bound with 0.9·β (10% below
  the attained constant: near), rejected by the worst-case search, whose ratio reaches
  ≈ 0.9997/0.9 ≈ 1.11. It runs the claim's body with ``factor=0.9`` and without the trained
  cases (their ratios stay below 0.2, far from either constant).
* ``linearization_smooth.trained_rate.<activation>.twin_near_rate`` — m^{-1.45} at quick,
  m^{-1.25} at standard (near), on the claim's own measurements (the sweep is shared). The
  claim is loose by about half a power of m (fitted ≈ -1 against the claimed -1/2), so every
  exponent within reach of -1/2 is *true*; the twin sits just past what the ladder resolves
  instead: below the rejection edge (the interval's lower end, ``rejects_below``) and within
  three half-widths of the fitted exponent (the report's "near"). At quick the edge lay in
  [-1.35, -1.15] over run seeds 0-9, and seed 3 has the narrowest interval, [-1.22, -0.91],
  so the twin must stay above -1.03 - 0.46 = -1.49: at -1.45 the rejection margins (edge
  minus -1.45) over seeds 0-9 are 0.10, 0.21, 0.20, 0.23, 0.21, 0.15, 0.30, 0.22, 0.25, 0.11,
  and the distances to the fitted exponent 0.32-0.46, each within its seed's near radius
  (0.46-0.88). The standard ladder (to m = 16384, 12 seeds) narrows the interval (widths
  0.17-0.26 over run seeds 0-4, edges -1.15 to -1.12, fitted -1.06 to -0.98), so -1.45 would
  no longer be near; at -1.25 the margins over seeds 0-4 are 0.12, 0.11, 0.12, 0.10, 0.13
  and the distances 0.19-0.27, each within its seed's radius (the tightest, seed 4:
  0.24 against 0.26).
* ``linearization_smooth.trained_rate.<activation>.twin_fast_rate`` — m^{-2} (far), on the
  claim's own measurements.

Worst-case search space (why it contains the worst case)
--------------------------------------------------------
The left side depends on W - V only through the projections t_j = (w_j - v_j)ᵀx; the
components orthogonal to x only enlarge ||W - V||_F. At a fixed ||W - V||_F = ρ the
supremum is therefore approached by rows moved along x only, and ||x|| = 1 is the worst
case. The space is: V = V⊥ + p xᵀ with free pre-activations p_j ∈ [-5, 5] (V⊥ a fixed
random matrix orthogonal to x), W = V + ρ·(s/||s||) xᵀ with free directions s_j ∈ [-1, 1]
(so ||W - V||_F = ρ exactly), m = 4, fixed random signs a. The ratio is then the
weighted average Σ_j t_j² [a_j R_σ(p_j + t_j, p_j)/((β/2) t_j²)] / Σ t_j², at most 1, and
it tends to 1 when all weight sits on neurons with p_j at the argmax of a_j σ''. With
ρ = 0.05 the supremum over the space is 1 - O(ρ) >= 0.97 for every activation; L-BFGS-B
over the 8 free numbers reaches it from the best random draws (0.9997 or more).

Source
------
M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27), §4.1, Proposition 4.1 and
its proof (per-neuron Taylor bound, then Cauchy–Schwarz); the aligned construction that
attains the bound follows from the equality cases of those two steps.

Tolerances and slacks
---------------------
The left side is a difference of O(1) numbers; each case reports as scale
|f(W)| + |f(V)| + |<∇f(V), W - V>| and the backend rtol applies relative to it.
The trained rate: widths 64–4096 (×64; to 16384 at standard), 8 seeds at quick (12 at
standard), slack 0: over run seeds 0–9 at quick the fitted exponent lay in [-1.13, -0.99], the
interval's upper end at most at -0.64 and every local slope in [-1.55, -0.60], so no
finite-size bias reaches the claimed -1/2 (the drift between the halves of the ladder, -0.44
to +0.58, is seed noise of the random-sign sums, not a trend).
On mpmath the trained cases run at the documented reduced size (teacher task, width 64).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ntkproof import Box, Fixed, Product, Twin, claim
from ntkproof.derivation import Derivation, Hypothesis, Step, chain
from ntkproof.nn.activations import SMOOTH_ACTIVATIONS
from ntkproof.nn.data import digits, sphere_teacher
from ntkproof.nn.networks import TwoLayer
from ntkproof.nn.training import gradient_descent, max_learning_rate
from ntkproof.theory.smoothness import smoothness_constant
from ntkproof.theory.taylor import GENERIC_SIGMA, taylor_remainder_goal

SOURCE = "Telgarsky, DLT notes (2021-10-27), §4.1, Prop. 4.1"
STATEMENT = (r"|f(x;W)-f(x;V)-\langle\nabla f(x;V),W-V\rangle| \le "
             r"\frac{\beta}{2\sqrt m}\|W-V\|_F^2")
M_SEARCH, D_SEARCH, RHO = 4, 3, 0.05
RATE_ACTIVATIONS = ("tanh",)
SEARCH_CASES, SEARCH_RESTARTS = 64, 3


def _beta(activation: str) -> float:
    return smoothness_constant(activation).value


# -- the statement and its derivation, for all m and d -----------------------------------

m_, d_ = sp.symbols("m d", integer=True, positive=True)
j_, k_ = sp.symbols("j k", integer=True, positive=True)
beta_ = sp.Symbol("beta", nonnegative=True)
sigma_ = sp.Function("sigma", real=True)            # generic σ (real-valued)
a_, w_, v_, x_ = (sp.Function(name, real=True) for name in ("a", "w", "v", "x"))
z_ = sp.Symbol("z", real=True)
r_, s_ = sp.symbols("r s", real=True)               # the Taylor bound's r, s
#: The name of the declared Taylor hypothesis.
TAYLOR = "Taylor bound (taylor_remainder.derivation)"


def dsigma(s: sp.Expr) -> sp.Expr:
    """σ'(s) for an expression s."""
    return sp.Subs(sp.Derivative(sigma_(z_), z_), z_, s)


def _pre(u) -> sp.Expr:
    """u_jᵀx = Σ_k u(j, k) x(k) for the row j of a weight matrix u (w or v)."""
    return sp.Sum(u(j_, k_) * x_(k_), (k_, 1, d_))


def _step() -> sp.Expr:
    """t_j = (w_j - v_j)ᵀx = Σ_k (w(j, k) - v(j, k)) x(k)."""
    return sp.Sum((w_(j_, k_) - v_(j_, k_)) * x_(k_), (k_, 1, d_))


def _by(hypothesis: str | int) -> dict:
    """Step options: closed by a declared hypothesis (a name) or an earlier step (its index)."""
    return {"method": "hypothesis", "hypothesis": hypothesis}


def prop_4_1_goal() -> sp.Rel:
    """Prop. 4.1 as a sympy relation, for all m, d: f(x;W) = m^{-1/2} Σ_j a(j) σ(Σ_k w(j,k)x(k))."""
    f_w = sp.Sum(a_(j_) * sigma_(_pre(w_)), (j_, 1, m_)) / sp.sqrt(m_)
    f_v = sp.Sum(a_(j_) * sigma_(_pre(v_)), (j_, 1, m_)) / sp.sqrt(m_)
    inner = sp.Sum(a_(j_) * dsigma(_pre(v_)) * _step(), (j_, 1, m_)) / sp.sqrt(m_)
    frob = sp.Sum((w_(j_, k_) - v_(j_, k_)) ** 2, (k_, 1, d_), (j_, 1, m_))
    return sp.Le(sp.Abs(f_w - f_v - inner), beta_ / (2 * sp.sqrt(m_)) * frob, evaluate=False)


def _taylor_hypothesis() -> Hypothesis:
    """|σ(r) - σ(s) - σ'(s)(r - s)| <= (β/2)(r - s)² for all real r, s: the statement of
    ``taylor_remainder.derivation`` (PROVED in theorems/test_taylor_remainder.py), taken from
    :func:`taylor_remainder_goal` with its σ renamed to this file's real-valued σ and σ'(s)
    written as σ'(z) at z = s (the form the goal uses at a pre-activation)."""
    lhs, rel, rhs = taylor_remainder_goal(None)
    lhs = lhs.replace(GENERIC_SIGMA, sigma_).xreplace(
        {sp.Derivative(sigma_(s_), s_): dsigma(s_)})
    return Hypothesis(TAYLOR, lhs, rel, rhs, bound=(r_, s_))


def prop_4_1_derivation() -> Derivation:
    """Prop. 4.1 for all m and d (generic σ with |σ''| <= β), with R_j = σ(w_jᵀx) - σ(v_jᵀx)
    - σ'(v_jᵀx) t_j and t_j = (w_j - v_j)ᵀx = Σ_k (w(j,k) - v(j,k)) x(k):

    * lemma (step 1): t_j = w_jᵀx - v_jᵀx (linearity of the sum over k; sympy);
    * per-neuron lemma (steps 2-7, j symbolic): |a_j||R_j| = |a_j||σ(w_jᵀx) - σ(v_jᵀx) -
      σ'(v_jᵀx)(w_jᵀx - v_jᵀx)| (step 1) <= |a_j| β(w_jᵀx - v_jᵀx)²/2 (Taylor, the bound
      hypothesis matched at r = w_jᵀx, s = v_jᵀx) = |a_j| β t_j²/2 (step 1) <= β t_j²/2
      (|a_j| <= 1) <= (β/2) ||w_j - v_j||² ||x||² (Cauchy–Schwarz) <= (β/2) ||w_j - v_j||²
      (||x|| <= 1); step 8 composes them (transitivity);
    * lemma (step 9): Σ_j a_j R_j = √m (f(x;W) - f(x;V) - <∇f(x;V), W - V>) (linearity of
      the sums over j; sympy);
    * the chain (steps 10-13): the left side = |Σ_j a_j R_j|/√m (step 9) <= Σ_j |a_j||R_j|/√m
      (triangle inequality) <= Σ_j (β/2)||w_j - v_j||²/√m (step 8, summed over j: monotone
      in the summand) = β/(2√m) ||W - V||_F² (the Frobenius norm is the double sum).

    Declared hypotheses: the Taylor bound (for all r, s); |a_j| <= 1 and the per-neuron
    Cauchy–Schwarz (Σ_k u_k x_k)² <= Σ_k u_k² Σ_k x_k² (u = w_j - v_j), each a family in the
    symbolic j and d (Cauchy–Schwarz in symbolic d needs Lagrange's identity as a double sum
    with its summation order swapped, which sympy's closers do not do); ||x||² = Σ_k x_k² <= 1;
    and the triangle inequality for the sum of m terms, |Σ_j a_j R_j| <= Σ_j |a_j R_j|
    (induction on m from |y + y'| <= |y| + |y'|): the library's ``sum_triangle`` rule
    expands a sum with a fixed number of terms, and this one has m.
    """
    goal = prop_4_1_goal()
    pw, pv, t = _pre(w_), _pre(v_), _step()
    rem = sigma_(pw) - sigma_(pv) - dsigma(pv) * t                 # R_j
    rem_r = sigma_(pw) - sigma_(pv) - dsigma(pv) * (pw - pv)       # R_j with t_j = pw - pv
    u2 = sp.Sum((w_(j_, k_) - v_(j_, k_)) ** 2, (k_, 1, d_))        # ||w_j - v_j||²
    x2 = sp.Sum(x_(k_) ** 2, (k_, 1, d_))                          # ||x||²
    abs_a, half = sp.Abs(a_(j_)), beta_ / 2
    total = sp.Sum(a_(j_) * rem, (j_, 1, m_))                      # Σ_j a_j R_j
    sums = [sp.Sum(a_(j_) * e, (j_, 1, m_)) for e in (sigma_(pw), sigma_(pv), dsigma(pv) * t)]
    root = sp.sqrt(m_)
    steps = (
        Step(t, "==", pw - pv, "lemma: t_j = (w_j - v_j)ᵀx = w_jᵀx - v_jᵀx (linearity of the "
                               "sum over k)"),
        *chain(abs_a * sp.Abs(rem),
               ("==", abs_a * sp.Abs(rem_r), "t_j = w_jᵀx - v_jᵀx (step 1)", _by(1)),
               ("<=", abs_a * half * (pw - pv) ** 2,
                "Taylor bound at r = w_jᵀx, s = v_jᵀx (the claim taylor_remainder.derivation)",
                _by(TAYLOR)),
               ("==", abs_a * half * t ** 2, "w_jᵀx - v_jᵀx = t_j (step 1)", _by(1)),
               ("<=", half * t ** 2, "|a_j| <= 1", _by("|a_j| <= 1")),
               ("<=", half * u2 * x2, "Cauchy–Schwarz: ((w_j - v_j)ᵀx)² <= ||w_j - v_j||²||x||²",
                _by("Cauchy–Schwarz")),
               ("<=", half * u2, "||x||² <= 1", _by("||x|| <= 1"))),
        Step(abs_a * sp.Abs(rem), "<=", half * u2,
             "per-neuron lemma: |a_j||R_j| <= (β/2)||w_j - v_j||² (steps 2-7)",
             method="transitive", uses=(2, 3, 4, 5, 6, 7)),
        Step(total, "==", sums[0] - sums[1] - sums[2],
             "lemma: Σ_j a_j R_j = √m (f(x;W) - f(x;V) - <∇f(x;V), W - V>) (linearity of the "
             "sums over j)"),
        *chain(goal.lhs,
               ("==", sp.Abs(total) / root, "the sums over j combined (step 9)", _by(9)),
               ("<=", sp.Sum(abs_a * sp.Abs(rem), (j_, 1, m_)) / root,
                "triangle inequality for the sum of m terms", _by("triangle inequality")),
               ("<=", sp.Sum(half * u2, (j_, 1, m_)) / root,
                "the per-neuron lemma (step 8), summed over j", _by(8)),
               ("==", goal.rhs, "Σ_j ||w_j - v_j||² = ||W - V||_F² (the double sum)")),
    )
    hyps = (_taylor_hypothesis(),
            Hypothesis("|a_j| <= 1", abs_a, "<=", 1),
            Hypothesis("Cauchy–Schwarz", t ** 2, "<=", u2 * x2),
            Hypothesis("||x|| <= 1", x2, "<=", 1),
            Hypothesis("triangle inequality", sp.Abs(total), "<=",
                       sp.Sum(sp.Abs(a_(j_) * rem), (j_, 1, m_))))
    # witnesses: σ with |σ''| <= β; a, x, w, v as functions of the integer indices, with
    # random amplitudes and phases (|a_j| <= 1, and ||x||² <= 1 through the 1/√d)
    p, q = sp.symbols("p q", integer=True)
    c_a, c_x, c_w, c_v = sp.symbols("c_a c_x c_w c_v", real=True)
    ph_a, ph_x, ph_w, ph_v = sp.symbols("phi_a phi_x phi_w phi_v", real=True)
    witnesses = {sigma_: [sp.Lambda(z_, beta_ * sp.sin(z_)), sp.Lambda(z_, beta_ * sp.cos(z_) / 2),
                          sp.Lambda(z_, beta_ * z_**2 / 2)],
                 a_: [sp.Lambda(p, c_a * sp.cos(2 * p + ph_a))],
                 x_: [sp.Lambda(p, c_x * sp.sin(3 * p + ph_x) / sp.sqrt(d_))],
                 w_: [sp.Lambda((p, q), c_w * sp.sin(p + 2 * q + ph_w))],
                 v_: [sp.Lambda((p, q), c_v * sp.cos(2 * p - q + ph_v))]}
    dom = {beta_: (0.0, 2.0), m_: (1, 6), d_: (1, 4), j_: (1, 6),
           c_a: (-1.0, 1.0), c_x: (-1.0, 1.0), c_w: (-2.0, 2.0), c_v: (-2.0, 2.0)}
    dom.update({ph: (0.0, 3.0) for ph in (ph_a, ph_x, ph_w, ph_v)})
    return Derivation("Prop. 4.1: the linearisation error of a smooth two-layer network, "
                      "generic σ with |σ''| <= β, for all m and d", steps, goal=goal,
                      hypotheses=hyps, witnesses=witnesses, domain=dom)


@claim("linearization_smooth.derivation", kind="derivation",
       title="Prop. 4.1 for a generic β-smooth σ, derived for all m and d",
       statement=STATEMENT, source=SOURCE + " (proof: Taylor per neuron, Cauchy–Schwarz)",
       goal=prop_4_1_goal())
def test_prop_4_1_derivation(ntk):
    ntk.derivation(prop_4_1_derivation(), points=8)


# -- worst-case search ----------------------------------------------------------------

def _search_space(ntk) -> Product:
    rng = ntk.rng("fixed")
    x = rng.standard_normal(D_SEARCH)
    x /= np.linalg.norm(x)
    a = rng.choice([-1.0, 1.0], M_SEARCH)
    Vp = rng.standard_normal((M_SEARCH, D_SEARCH))
    Vp -= np.outer(Vp @ x, x)
    fixed = Fixed(lambda _rng: {"x": x, "a": a, "Vp": Vp, "rho": RHO})
    free = Box(**{f"p{j}": (-5.0, 5.0) for j in range(M_SEARCH)},
               **{f"s{j}": (-1.0, 1.0) for j in range(M_SEARCH)})
    return Product(fixed, free)


def _search_case(nets, beta: float):
    """evaluate(b, x, a, Vp, rho, p_j, s_j) with the network on b: (lhs, rhs, scale)."""
    def evaluate(b, x, a, Vp, rho, **ps):
        p = b.asarray(np.array([b.to_float(ps[f"p{j}"]) for j in range(M_SEARCH)]))
        s = np.array([b.to_float(ps[f"s{j}"]) for j in range(M_SEARCH)])
        s = b.asarray(s / max(np.linalg.norm(s), 1e-300))
        V = Vp + p[:, None] * x[None, :]
        W = V + rho * s[:, None] * x[None, :]
        return _remainder(nets(b, M_SEARCH, D_SEARCH), W, V, a, x[None, :], beta)
    return evaluate


def _evaluators(activation: str):
    """nets(b, m, d): a TwoLayer on backend b, used only for apply/jvp at given weights;
    built once per (backend, m, d) within one claim's body."""
    made: dict[tuple, TwoLayer] = {}

    def nets(b, m: int, d: int) -> TwoLayer:
        if (b.spec, m, d) not in made:
            made[b.spec, m, d] = TwoLayer(d, m, activation, seed=0, backend=b)
        return made[b.spec, m, d]
    return nets


def _remainder(net, W, V, a, X, beta):
    """(max over rows of X of |f(W) - f(V) - <∇f(V), W - V>|, β||W-V||²/(2√m), scale)."""
    b = net.backend
    fW, fV = net.apply({"W": W, "a": a}, X), net.apply({"W": V, "a": a}, X)
    lin = net.jvp({"W": V, "a": a}, X, {"W": W - V})
    err = b.abs(fW - fV - lin)
    i = int(np.argmax(b.to_numpy(err)))
    rhs = beta * b.sum(b.sum((W - V) ** 2, axis=1), axis=0) / (2 * math.sqrt(W.shape[0]))
    return err[i], rhs, b.abs(fW[i]) + b.abs(fV[i]) + b.abs(lin[i])


# -- trained networks -----------------------------------------------------------------

N = 24
#: GD steps per task (the sigmoid teacher needs ~400 steps to reduce its loss tenfold).
STEPS = {"digits": 100, "teacher": 800}
#: The training every trained case assumes: the final loss at most this fraction of the first.
TRAINED = 0.1


def _task(task: str, activation: str, seed: int):
    if task == "digits":
        return digits(N, seed=seed, classes=(0, 1), n_test=N)
    return sphere_teacher(N, N, 5, seed=seed, activation=activation)


def train(activation: str, task: str, m: int, seed: int, steps: int) -> dict:
    """GD on the first layer (lr = half the stability limit, numpy); weights at a quarter,
    half and all of the steps, and the loss reduction final/initial."""
    ds = _task(task, activation, seed)
    net = TwoLayer(ds.x_train.shape[1], m, activation, seed=seed)
    lr = 0.5 * max_learning_rate(net, ds.x_train)
    marks = (steps // 4, steps // 2, steps)
    traj = gradient_descent(net, ds.x_train, ds.y_train, lr=lr, steps=steps, checkpoints=marks)
    return {"W0": net.params0["W"], "a": net.params0["a"], "ds": ds,
            "W": {k: traj.params[k]["W"] for k in marks},
            "loss_ratio": float(traj.losses[-1] / traj.losses[0])}


def _trained_check(ntk, activation: str, beta: float, nets) -> None:
    """The bound at every checkpoint of GD runs (digits and teacher, a width ladder), on
    training and test inputs; requires that every run reduced its loss tenfold."""
    widths = ntk.pick(quick=[64, 256, 1024], standard=[64, 256, 1024, 4096],
                      thorough=[64, 256, 1024, 4096, 16384], mpmath=[64])
    tasks = ntk.pick(quick=("digits", "teacher"), mpmath=("teacher",))
    seed = ntk.seeds(1, "train")[0] % 2**31
    runs = {(t, m): train(activation, t, m, seed, STEPS[t]) for t in tasks for m in widths}
    ntk.require("trained", max(r["loss_ratio"] for r in runs.values()), at_most=TRAINED,
                what="largest final/initial training loss over the GD runs")

    def evaluate(b, task, m, step, inputs):
        r = runs[task, m]
        X = r["ds"].x_train if inputs == "train" else r["ds"].x_test
        return _remainder(nets(b, m, X.shape[1]), b.asarray(r["W"][step]), b.asarray(r["W0"]),
                          b.asarray(r["a"]), b.asarray(X), beta)
    cases = [{"task": t, "m": m, "step": k, "inputs": inp}
             for (t, m), r in runs.items() for k in r["W"] for inp in ("train", "test")]
    d = ntk.bound(evaluate, cases)
    ntk.record(trained_max_ratio=d.tightness.get("max"),
               loss_ratios={f"{t}/{m}": r["loss_ratio"] for (t, m), r in runs.items()})


@claim("linearization_smooth.{activation}", kind="bound",
       title="Prop. 4.1: linearisation error of a {activation} two-layer network",
       statement=STATEMENT, source=SOURCE, known_sup=1.0,
       twins=[Twin("twin_small_constant", title="twin: Prop. 4.1 with 0.9·β for {activation}",
                   statement=r"|\cdot| \le 0.9\,\frac{\beta}{2\sqrt m}\|W-V\|_F^2",
                   near="constant 0.9·β: 10% below the attained supremum 1 of the ratio",
                   factor=0.9, trained_cases=False)])
@pytest.mark.parametrize("activation", SMOOTH_ACTIVATIONS)
def test_linearization_smooth(ntk, activation, factor=1.0, trained_cases=True):
    beta, nets = factor * _beta(activation), _evaluators(activation)
    # the worst-case search first: its ratio is the claim's reported tightness
    ntk.bound(_search_case(nets, beta), _search_space(ntk), n=SEARCH_CASES,
              restarts=SEARCH_RESTARTS)
    if trained_cases:
        _trained_check(ntk, activation, beta, nets)
    ntk.record(beta=str(smoothness_constant(activation).exact), factor=factor)


# -- rate at trained weights ------------------------------------------------------------

#: The near twin's exponent per budget: just below the rejection edge (the interval's lower
#: end) of every run seed checked, and within three half-widths of the fitted exponent on
#: each (see the module docstring). The longer ladder at standard narrows the interval, so
#: its twin sits closer.
NEAR_RATE = {"quick": -1.45, "standard": -1.25}


def _trained_rate(ntk, activation: str, claimed: float) -> None:
    ratios: list[float] = []    # the claim's runs (its twins reuse the sweep and train nothing)

    def measure(m, seed):
        r = train(activation, "teacher", int(m), seed % 2**31, 100)
        ratios.append(r["loss_ratio"])
        W, W0, a = r["W"][100], r["W0"], r["a"]
        net = TwoLayer(W.shape[1], int(m), activation, seed=0)
        X = r["ds"].x_test
        err = net.apply({"W": W, "a": a}, X) - net.apply({"W": W0, "a": a}, X) \
            - net.jvp({"W": W0, "a": a}, X, {"W": W - W0})
        return float(np.mean(np.abs(err)))

    ntk.rate(measure, ntk.pick(quick=[64, 256, 1024, 4096], standard=[64, 256, 1024, 4096, 16384]),
             claimed=claimed, slack=0.0, variable="m", seeds=ntk.pick(quick=8, standard=12),
             sweep=f"linearization_smooth/trained_rate/{activation}",
             slack_reason="no finite-size bias toward slower decay: over run seeds 0-9 the "
                          "fitted exponent lay in [-1.13, -0.99], the interval's upper end at "
                          "most at -0.64 and every local slope in [-1.55, -0.60] (the drift, "
                          "-0.44 to +0.58, is seed noise of the random-sign sums)")
    if ratios:
        ntk.require("trained", max(ratios), at_most=TRAINED,
                    what="largest final/initial training loss over the GD runs")


@claim("linearization_smooth.trained_rate.{activation}", kind="rate",
       title="Prop. 4.1 at GD-trained weights: the error decays at least like m^{-1/2} ({activation})",
       statement=r"|f(x;W_T)-f_0(x;W_T)| = O(m^{-1/2})", source=SOURCE,
       twins=[Twin("twin_near_rate",
                   title="twin: the trained linearisation error decays like m^{-1.45} "
                         "(m^{-1.25} at standard) ({activation})",
                   statement=r"|f-f_0| = O(m^{p}),\ p = -1.45\ (\mathrm{quick}),\ "
                             r"-1.25\ (\mathrm{standard})", claimed=NEAR_RATE),
              Twin("twin_fast_rate",
                   title="twin: the trained linearisation error decays like m^{-2} ({activation})",
                   statement=r"|f-f_0| = O(m^{-2})", claimed=-2.0)])
@pytest.mark.parametrize("activation", RATE_ACTIVATIONS)
def test_trained_rate(ntk, activation, claimed=-0.5):
    if isinstance(claimed, dict):       # an exponent per budget (the near twin)
        claimed = ntk.pick(**claimed)
    _trained_rate(ntk, activation, claimed)
