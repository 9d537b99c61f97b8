r"""Arc-cosine kernels, infinite-width NTKs (closed form and quadrature), their
convergence, and universality.

Statement
---------
For ``w ~ N(0, I_d)`` and nonzero x, x' in R^d at angle θ = arccos(xᵀx'/(||x|| ||x'||)),
and σ = ReLU:

.. math::

    E[σ'(wᵀx) σ'(wᵀx')] = \frac{π - θ}{2π},\qquad
    E[σ(wᵀx) σ(wᵀx')] = \|x\|\|x'\| \frac{\sin θ + (π - θ)\cos θ}{2π} .

Cho & Saul (2009) define k_n = 2·E[...] (a leading factor 2), so their k_0 = 1 - θ/π
and k_1 = ||x|| ||x'|| J_1(θ)/π, J_1 = sin θ + (π - θ) cos θ. Consequences: the
two-layer ReLU NTK of f(x) = m^{-1/2} Σ_j a_j σ(w_jᵀx) (E a² = 1, no bias) tends to
Θ_W = xᵀx'(π - θ)/(2π) when W alone is trained, and to Θ_W + E[σσ] when a is
trained too; deeper networks follow the Jacot/Arora recursion; activations without a
closed form (GELU, SiLU) get their kernels by polar quadrature; the empirical kernel
converges at the rate m^{-1/2} (Hoeffding: |k_m - k| <= |xᵀx'| √(ln(2/δ)/(2m)) w.p.
>= 1 - δ); and on X = {||x|| = 1, x_d = 1/√2} the kernel xᵀx'(π - arccos xᵀx')/(2π)
is universal (Telgarsky, Thm 4.1), while on the plain sphere it is not. Every NTK is a
positive semi-definite kernel, so Cauchy–Schwarz bounds it by its diagonal,
|Θ(x, x')| <= √(Θ(x, x) Θ(x', x')): on the unit sphere, as a function of u = xᵀx',
|Θ(u)| <= Θ(1); certified here for the two-layer and the three-layer ReLU NTK.

Claims
------
* ``arccos.order0`` — PROVED: a derivation for every angle θ ∈ (0, π) and every d
  (goal below), and an identity: :func:`ntkproof.nn.kernels.arccos_kernel` (order 0)
  against an independent quadrature (below), d in {2, 3, 5, 20, 100}, θ uniform and
  θ near 0 and near π.
* ``arccos.order1`` — PROVED: the same for order 1 and any norms, plus Cho & Saul's
  convention 2·E = ||x|| ||x'|| J_1(θ)/π as a numeric identity.
* ``arccos.two_layer_ntk`` — PROVED: the eNTK Θ_m = (1/m) Σ_j (a_j² σ'σ' xᵀx' + σσ)
  (the gradient inner products of the m neurons, ∂f/∂w_j = m^{-1/2} a_j σ'(w_jᵀx) x,
  ∂f/∂a_j = m^{-1/2} σ(w_jᵀx)) has E Θ_m = Θ_W + Θ_a for every width m (a Sum to a
  symbolic m; E a_j² = 1 and the two identities above are declared hypotheses, the
  latter citing those claims), so Θ_m → Θ_W + Θ_a a.s. by the strong law; identities
  two_layer_relu_ntk = xᵀx'·E[σ'σ'] (+ E[σσ]) by quadrature and infinite_width(√d·x,
  depth=1) = two_layer_relu_ntk(x); Monte Carlo over finite networks (``TwoLayer``,
  trained W or both, a = ±1 or N(0, 1)).
* ``arccos.deep_ntk`` — HOLDS: :func:`ntkproof.nn.kernels.infinite_width` (depth 2 and
  3, with and without bias, W_std = √2) against Monte Carlo over ``MLP`` networks.
* ``arccos.two_layer_ntk_bound`` — CERTIFIED: the two-layer NTK (both layers trained,
  ``two_layer_relu_ntk``) on the unit sphere, Θ(u) = (2u(π - arccos u) + √(1 - u²))/(2π),
  satisfies -Θ(1) <= Θ(u) <= Θ(1) = 1 for EVERY u ∈ [-1, 1] (two certificates, below).
  It is not non-negative: Θ_W = u(π - θ)/(2π) < 0 outweighs Θ_a near u = -1 (Θ ≈
  -(π - θ)/(2π) there), with minimum -0.0684 at u ≈ -0.794 (Θ(-1) = 0), so the upper
  side is the only attained one. Checks besides the certificates: the closed form is the
  library's kernel (identity, two_layer_relu_ntk against the arb form on the file's pairs
  in R^d, both Θ and the divided form of the certificate below, at the backend's
  precision); on the backend, for random pairs in R^d of any norms, the library's Gram
  satisfies |Θ(x, x')| <= √(Θ(x, x) Θ(x', x')) (bound; known supremum 1 at x' ∥ x:
  quick 0.99997, from pairs 1e-4 from parallel); sympy reduces the identities behind the
  arb kernel (``ARB_FORMS``) to 0 (a precondition: otherwise INCONCLUSIVE).
* ``arccos.deep_ntk_bound`` — CERTIFIED: the same for the three-layer NTK (two hidden
  ReLU layers, no bias; Arora et al.'s Θ^(2) with c_σ = 2, = 4·infinite_width(x·√d,
  depth=2).ntk, = infinite_width(x·√(d/2), depth=2, W_std=√2).ntk): 0 <= Θ^(2)(u) <=
  Θ^(2)(1) = 3 for every u ∈ [-1, 1], i.e. |Θ^(2)(u) - 3/2| <= 3/2. Here the kernel is
  non-negative (minimum 0.2601 at u ≈ -0.850, Θ^(2)(-1) = 1/π): the second layer's
  Σ^(2) = J(θ_1) >= 1/π outweighs Θ^(1)'s negative part. The same identity, bound
  (|Θ - D/2| <= D/2, D = √(Θ(x, x) Θ(x', x')); quick 0.99977) and sympy checks.
* ``arccos.quadrature_kernel`` — HOLDS: the polar quadrature of
  :mod:`ntkproof.nn.quadrature` equals the closed forms where they exist (ReLU's
  E[σσ], E[σ'σ'] and erf's, identity), and the depth-1 NTK of GELU and SiLU (no
  closed form; ``infinite_width(..., method="quadrature")``) equals the mean eNTK of
  finite ``MLP`` networks (Monte Carlo test). Not on mpmath: the quadrature is a
  float64 rule (numpy only), and that rule is what the claim is about.
* ``arccos.empirical_convergence`` — rate: the root-mean-square over the 120 pairs of
  16 fixed unit vectors of |k_m - k| is Θ(m^{-1/2}) over m = 64 … 16384 (attained).
* ``arccos.hoeffding`` — probabilistic bound at δ = 0.05, 3000 draws, with its
  tightness: the (1-δ)-quantile of |k_m - k| / bound, CLT-predicted
  z_{1-δ/2} √(2p(1-p)/ln(2/δ)) with p = (π - θ)/(2π) the probability that both
  units are active: 0.57 at p = 0.19, 0.62 at p = 1/4 (measured 0.64 over the draws;
  the standardized |k_m - k|/(|xᵀx'|√(p(1-p)/m)) has its (1-δ)-quantile at 2.01
  against z_{1-δ/2} = 1.96, the lattice of Bernoulli sums at m = 256 included).
* ``arccos.universality`` — Telgarsky's Thm 4.1 on X, checked as follows (what is
  verified, exactly): (i) the Maclaurin coefficients f_0 … f_40 of f(z) = g(z + 1/2),
  g(s) = s/4 + s·arcsin(s)/(2π), computed exactly by sympy, are at least the
  positive single-term lower bounds L_n of the general argument (below), so positive;
  (ii) Gram matrices of the kernel on random points of X are positive definite
  (λ_min above its roundoff floor); (iii) kernel interpolation of a fixed odd cubic
  on X converges at least like n^{-1/2} (measured ≈ n^{-1.1}, n = 16 … 256). The
  coefficient positivity for EVERY n is the argument of the notes, not checked here
  for n > 40: g's coefficients are g_1 = 1/4, g_{2k+2} = c_k/(2π) with c_k =
  (2k)!/(4^k k!² (2k+1)) > 0 (the arcsin series) and 0 otherwise; f_n = Σ_{j>=n} g_j
  C(j, n) 2^{n-j} is a sum of nonnegative terms, so f_n >= L_n := g_{j*} C(j*, n)
  2^{n-j*} > 0 with j* = n + (n mod 2) for n >= 1 and j* = 2 for n = 0; then
  Steinwart & Christmann (2008), Cor. 4.57, gives universality.

Falsified twins (declared with their claim: the claim's own body with one override,
the claim's seed and cases):

* ``arccos.order0.twin_pi`` (far: 1/2 - arccos/π, relative error up to 1) and
  ``arccos.order0.twin_constant_0_95`` (near: 0.95·(π - θ)/(2π), relative error 0.05);
* ``arccos.order1.twin_cho_saul_factor`` (far: Cho & Saul's k_1 with its factor 2 as
  the Gaussian expectation) and ``arccos.order1.twin_constant_0_95`` (near);
* ``arccos.two_layer_ntk.twin_W_only_for_both`` (Telgarsky's Θ_W claimed for a network
  with both layers trained: off by Θ_a; on the a-trained cases Θ_W is compared with
  Θ_a, which it nearly equals near θ = 0 and θ = π) and ``.twin_constant_0_95`` (near: 0.95·Θ);
* ``arccos.deep_ntk.twin_no_derivative_factor`` (far: Θ = Σ_h Σ^{(h)}, the chain-rule
  factor dropped; 20 seeds suffice) and ``.twin_weight_variance_2_2`` (near: the
  recursion with the weight variance W_std² = 2.2 for 2, a constant 10% off; Θ moves
  by 24-46% at depth 2-3; the Monte Carlo rejects a change of Θ itself reliably only
  above 12-20%, so a twin 10% off in Θ is beyond the quick budget: see the tolerances);
* ``arccos.two_layer_ntk_bound.twin_constant_0_9`` (near: |Θ(u)| <= 0.9·Θ(1), the
  attained upper constant 10% low): the certifier's point u = 0.96875 (Θ = 0.9309 >
  0.9; in the divided form 0.1·Θ^(1)(1)/θ = 0.798 > H_1(θ) = 0.551, re-checked at 160
  bits) after 18 boxes; the backend's bound reaches ratio 1.111 near x' ∥ x;
  ``.twin_nonnegative`` (the lower constant -1 → 0, "0 <= Θ <= Θ(1)": false, see the
  claim): the certifier's point u = -0.5 (Θ = -0.0288 < 0) after 2 boxes, and the bound
  sees |Θ - D/2| > D/2 on pairs at obtuse angles;
* ``arccos.deep_ntk_bound.twin_constant_0_9`` (near: 0 <= Θ^(2)(u) <= 0.9·Θ^(2)(1)):
  the certifier's point u = 0.984375 (Θ^(2) = 2.794 > 2.7; divided form 1.695 > 1.166)
  after 31 boxes; the bound's ratio |Θ - 0.45 D|/(0.45 D) reaches 1.22;
* ``arccos.quadrature_kernel.twin_variance_1_1`` (near: the quadrature's Gaussian at
  1.1 times the covariance, i.e. the radial weight r e^{-r²/2.2}/1.1 for r e^{-r²/2}:
  ReLU's E[σσ] moves by 10%, GELU's and SiLU's NTK by about 6%);
* ``arccos.empirical_convergence.twin_rate_m_inverse`` (far: m^{-1}) and
  ``.twin_rate_m_0_6`` (near: m^{-0.6}, 0.1 away);
* ``arccos.hoeffding.twin_no_sqrt`` and ``.twin_small_constant`` (far: the square
  root dropped; 2m → 32m) and ``.twin_clt_quantile_0_9`` (near: 0.9 times the exact
  asymptotic (1-δ)-quantile z_{1-δ/2}|xᵀx'|√(p(1-p)/m); Hoeffding's bound is loose
  by ≈ 1.6, so 0.9·Hoeffding would be TRUE: the check's resolving power is at the
  quantile, where the twin's violation rate is 2(1 - Φ(0.9·1.96)) ≈ 0.078 against
  δ = 0.05; 3000 draws reject it in more than 99 runs in 100);
* ``arccos.universality.twin_sphere``: "universal on the sphere without the bias
  coordinate" — the one hypothesis of Thm 4.1 removed: g's own coefficients g_0, g_3,
  g_5, … are 0 (below L_n), and the interpolation error of the odd harmonic x1 x2 x3
  stays at about its norm, so the rate claim is FALSIFIED.

Derivations (goals, and why they are the statements)
----------------------------------------------------
In the plane spanned by x and x' take the bisector as first axis: x̂ = (cos(θ/2),
-sin(θ/2)), x̂' = (cos(θ/2), sin(θ/2)). For z, w iid N(0, 1) the pair
(U, V) = (z cos(θ/2) - w sin(θ/2), z cos(θ/2) + w sin(θ/2)) is centred Gaussian with
unit variances and covariance cos²(θ/2) - sin²(θ/2) = cos θ, which is the law of
(wᵀx̂, wᵀx̂') for every d (lemma steps). With s = tan(θ/2) ∈ (0, ∞) (θ = 2 arctan s
runs over (0, π)) both are positive iff z > s|w|, so by conditioning on w

    E[σ'(wᵀx)σ'(wᵀx')] = ∫ φ(w) P(z > s|w|) dw,   P(z > c) = erfc(c/√2)/2,
    E[σ(wᵀx)σ(wᵀx')] = ||x|| ||x'|| (1 + s²)^{-1} ∫ φ(w) E[(z² - s²w²) 1(z > s|w|)] dw,

the integral over w split at 0, the truncated moments over z written in closed form
(lemma steps below). These are the goals' left sides; the right sides are
the statements with θ = 2 arctan s. Steps: the truncated moments ∫_c^∞ φ = erfc(c/√2)/2
and ∫_c^∞ z² φ = c φ(c) + erfc(c/√2)/2 (by equal derivatives in c), arctan(1/s) =
π/2 - arctan s (s > 0), sympy's integral over w, and, in polar coordinates, the
wedge |t| < π/2 - θ/2 of angle π - θ (as Cho & Saul evaluate eq. (1)): (π - θ)·∫_0^∞ r e^{-r²/2}
dr/(2π) and ∫_wedge cos(t + θ/2) cos(t - θ/2) dt · ∫_0^∞ r³ e^{-r²/2} dr/(2π). The
two-layer goal is E Θ_m written by linearity of expectation as the mean over the m
neurons (a sympy Sum to the integer symbol m, which the spot checks draw as an integer)
of E[a_j²] xᵀx' κ_0(θ) + ||x|| ||x'|| κ_1(θ); it takes E a_j² = 1 and the two identities
as declared hypotheses (the statements of ``arccos.order0`` and ``arccos.order1``,
proved there), with witnesses their closed forms.

What is CERTIFIED, and how (python-flint's arb balls, ``ntk.certify``)
------------------------------------------------------------------------
Arora et al.'s recursion on the unit sphere, written in arb in this file
(:func:`arb_relu_ntk`, not the library's code): u = cos θ, Θ^(0) = u, Σ^(h) =
J(θ_{h-1}), Σ̇^(h) = (π - θ_{h-1})/π, Θ^(h) = Σ^(h) + Θ^(h-1) Σ̇^(h), θ_h = arccos Σ^(h),
J(θ) = (sin θ + (π - θ) cos θ)/π; Θ^(L)(1) = L + 1, and two_layer_relu_ntk = Θ^(1)/2 (the
inequalities are invariant under the factor). Per claim two certificates on the
variable u ∈ [-1, 1], at 80 bits:

* the lower side, lo·Θ(1) <= Θ(u), enclosed directly (it is not attained: lo = -1 for
  the two-layer kernel, whose minimum is -0.068, lo = 0 for the three-layer, minimum
  0.26);
* the upper side Θ(u) <= Θ(1), attained at u = 1, where Θ has infinite slope in u (θ ≈
  √(2(1 - u))): no enclosure of a box at u = 1 can separate Θ(u) from Θ(1), and a local
  second-order argument does not apply. So it is certified divided by θ = arccos u > 0
  (the claim at u = 1 is Θ(1) <= Θ(1)): (1 - hi)Θ(1)/θ <= H_L(θ) := (Θ(1) - Θ(u))/θ
  (hi = 1: 0 <= H_L), with H_L written without the division: H_0 = θ sinc²(θ/2)/2 and
  H_h = θ_{h-1} q(θ_{h-1}) R_{h-1} + H_{h-1} + Θ^(h-1) R_{h-1}/π (R_h = θ_h/θ), the three
  parts of h + 1 - Θ^(h) = (1 - Σ^(h)) + (h - Θ^(h-1)) + Θ^(h-1)(1 - Σ̇^(h)) over θ.
  Every piece is entire or smooth at θ = 0: q(t) = (1 - J(t))/t² = sinc²(t/2)/2 -
  t·₀F₁(; 5/2; -t²/4)/(3π), the next angle θ_h = 2 asin(θ_{h-1} √(q/2)) (the half-angle
  form of arccos J, with no arccos near 1) and R_h/R_{h-1} = √(2q)·₂F₁(1/2, 1/2; 3/2;
  x²), x = θ_{h-1}√(q/2). H_L(0) = L(L + 1)/(2π) (1/π and 3/π here) and H_L stays
  away from 0 on [0, π], so few boxes suffice. arccos u is enclosed on the
  ball u ∩ [-1, 1] by its values at the clipped ends (a ball may poke past ±1 by the
  rounding of its radius, where arb's acos is not finite).

Sympy reduces the four identities these forms rest on to 0 (``ARB_FORMS``: the ₀F₁ form
of (sin t - t cos t)/t³, q, asin(x)/x = ₂F₁, and the step of H), and the identities with
the library at every backend's precision check the composed closed form numerically, so
the certificates are about the library's kernel. Measured: two-layer, upper 13 boxes and
lower 3 boxes, about 1 ms each; three-layer, upper 23 and lower 35 boxes, about 4 ms each
(sympy's check of ``ARB_FORMS``, 2.5 s, runs once per process). The certificates do not
depend on the backend and run on every backend.

Source
------
M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27), §4.3 (kernel at
initialisation) and Theorem 4.1 (universality); Y. Cho & L. Saul, *Kernel Methods for
Deep Learning*, NeurIPS 2009, eqs. (1)-(3) (the integral evaluated in polar
coordinates); A. Jacot, F. Gabriel, C. Hongler, *Neural Tangent Kernel*, NeurIPS 2018,
Thm 1; S. Arora et al., *On Exact Computation with an Infinitely Wide Neural Net*,
NeurIPS 2019 (arXiv 1904.11955), §3 recursion; I. Steinwart & A. Christmann, *Support
Vector Machines* (2008), Cor. 4.57; W. Hoeffding (1963), Thm 2.

Tolerances, budgets and independence
------------------------------------
* The quadrature route of the identities never sees an arccos: with q = ||x||²,
  k = xᵀx' and det = q q' - k² (Lagrange's identity Σ_{i<j}(x_i x'_j - x_j x'_i)², free
  of cancellation), (wᵀx, wᵀx') = (√q z1, a z1 + c z2) with a = k/√q, c = √(det/q),
  and E[1(u>0)1(v>0)] = ∫_0^∞ φ(z) Φ(az/c) dz, E[relu(u) relu(v)] = √q ∫_0^∞ z φ(z)
  (az Φ(az/c) + c φ(az/c)) dz, by tanh-sinh quadrature (mpmath) split at z = c/|a|,
  at 4 digits above the backend's precision (20 on float64, 54 on mpmath).
* Scales: order 0 is a difference of π and θ, so roundoff is relative to 1/2; order 1
  relative to ||x|| ||x'|| (1 + 2π)/(2π). float64: θ >= 1e-4 from 0 and π (arccos
  amplifies a 1e-16 error in cos θ to 1e-16/sin θ); mpmath: 1e-9. The identities of
  ``deep_ntk_bound`` keep their pairs 1e-3 (float64) and 1e-4 (mpmath) from parallel:
  the library's depth-2 recursion amplifies rounding by ~1/θ² (√(1 - c²), then the next
  arccos; measured 1.2e-10 relative on float64 at θ = 1.06e-4 and 1.7e-35 on mpmath at
  θ = 1e-9), and there it stays two orders below the tolerances (measured 1.3e-12 over
  512 pairs at standard, 9e-47 on mpmath). The arb reference is computed at 256 bits.
* Monte Carlo checks are statistical tests written as bounds: for each case, S seeds
  of the eNTK give per-entry t statistics t = (mean - Θ)/(sd/√S); the bound is
  max|t| <= t_{S-1}(1 - α/(2K)) with α = 1e-3 and K the number of entries tested in
  the claim (Bonferroni), so a true kernel is rejected in fewer than 1 run in 1000.
  Two-layer networks (and depth-1 MLPs) have E[eNTK] = Θ exactly at every width (an
  average of iid per-neuron terms), so only the CLT is assumed. Deep networks carry
  an O(1/m) bias: measured at m = 128 and 256 with 400-600 seeds, every entry within
  ±1.9% of Θ, within two standard errors (1%) of 0; at the quick size (m = 256,
  S = 60) the standard error is 1.8-3% of Θ, so the bias stays below half a standard
  error; a change of Θ is rejected reliably when it exceeds the Bonferroni critical
  value 4.4 plus two standard errors, 12-20% of Θ (at the standard size, m = 384 and
  S = 120, about 9-14%).
* ``quadrature_kernel``: depth 1, W_std = 1.3, b_std = 0.2, m = 2048, S = 100: the
  standard error is 0.3-1.5% of Θ (0.4% on most entries), so the twin's shifts of
  4-12% sit at |t| ≈ 15 against the critical value 4.3.
* ``empirical_convergence``: the RMS over pairs of one network has the law of
  m^{-1/2} times an m-independent variable, up to the lattice of Bernoulli sums at
  small m. Measured over six run seeds (150 seeds per width): fitted exponents
  -0.511 … -0.494, local slopes -0.535 … -0.467, drift between the ladder's halves
  -0.03 … +0.04, interval half-width 0.015. Slack 0.05 = the largest |drift| plus
  0.01: the claim's interval lies inside -0.5 ± 0.05, and the twin m^{-0.6} (band
  -0.65 … -0.55) is missed by at least 0.025, about four standard deviations of the
  interval's end.
* ``universality``'s rate: an upper rate with slack 0 — over five run seeds the
  fitted exponent is -1.05 … -1.14 (intervals within [-1.23, -0.90]), every local
  slope lies in -0.53 … -1.53 and the ladder's upper half is steeper than its lower
  half (drift -0.32 … -0.57), so finite n understates the decay; the twin's interval
  lies 0.3-0.5 above -1/2.
* Rates, Hoeffding, the universality rate and the Monte Carlo checks are statistical
  statements about random networks/points; float64 roundoff is 1e-12 below their
  Monte Carlo error, so on mpmath they run their networks in float64 (recorded as
  ``precision_note``; ``ntk.pick(mpmath="numpy")`` chooses the network backend), except
  the two-layer Monte Carlo, which runs 12 networks of width 32 at 50 digits.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import flint
import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import stats

from ntkproof import Fixed, Twin, claim, get_backend
from ntkproof.derivation import Derivation, Hypothesis, Step
from ntkproof.nn.activations import get_activation
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.flow import kernel_regression
from ntkproof.nn.kernels import arccos_kernel, gaussian_moments, infinite_width, two_layer_relu_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.rng import generator, spawn, unit_vectors

SOURCE = "Telgarsky, DLT notes (2021-10-27), §4.3; Cho & Saul, NeurIPS 2009, eqs. (1)-(3)"
SOURCE_NTK = ("Telgarsky §4.3; Jacot, Gabriel, Hongler, NeurIPS 2018, Thm 1; Arora et al., "
              "NeurIPS 2019 (arXiv 1904.11955), §3 recursion")
SOURCE_UNIV = ("Telgarsky, DLT notes (2021-10-27), Thm 4.1; Steinwart & Christmann 2008, "
               "Cor. 4.57")
TWIN_CASES = 8  # an identity's twin fails at every case (gap >= 1e-6 relative, 1e4 tolerances)
DERIVATION_POINTS = 4  # 50-digit spot checks per step (an integral over w costs ~0.15 s)
ALPHA = 1e-3      # family-wise false-alarm level of the Monte Carlo tests
DELTA = 0.05      # Hoeffding failure probability
FLOAT_NOTE = ("statistical claim about random networks/points: computed in float64 on the "
              "mpmath backend (roundoff 1e-16 is ~1e-12 of the Monte Carlo error)")


# -- the independent route: 1-D conditional-Gaussian quadrature (no arccos) ----------
def gaussian_pair_expectation(order: int, x, y, *, digits: int):
    """E[1(u>0)1(v>0)] (order 0) or E[relu(u) relu(v)] (order 1), (u, v) = (wᵀx, wᵀy).

    Conditional on z1 = u/||x||, v is Gaussian: v = a z1 + c z2 (module notes).
    ``x``, ``y``: 1-D float arrays. Returns an mpf computed at ``digits`` digits.
    """
    with mpmath.workdps(digits):
        xs, ys = [mpmath.mpf(float(v)) for v in x], [mpmath.mpf(float(v)) for v in y]
        q = mpmath.fsum(v * v for v in xs)
        k = mpmath.fsum(u * v for u, v in zip(xs, ys, strict=True))
        det = mpmath.fsum((xs[i] * ys[j] - xs[j] * ys[i]) ** 2
                          for i in range(len(xs)) for j in range(i + 1, len(xs)))
        a, c = k / mpmath.sqrt(q), mpmath.sqrt(det / q)

        def integrand(z):
            t = a * z / c
            if order == 0:
                return mpmath.npdf(z) * mpmath.ncdf(t)
            return z * mpmath.npdf(z) * (a * z * mpmath.ncdf(t) + c * mpmath.npdf(t))

        pts = [0, c / abs(a), mpmath.inf] if a != 0 else [0, mpmath.inf]
        value = mpmath.quad(integrand, pts)
        return value if order == 0 else mpmath.sqrt(q) * value


def _expectation(b, order: int, x, y):
    """The quadrature route at 4 digits above the backend's precision, as a backend
    scalar (b may be the 50-digit referee of a float64 run)."""
    digits = int(round(-math.log10(b.tol.eps))) + 4
    value = gaussian_pair_expectation(order, b.to_numpy(x), b.to_numpy(y), digits=digits)
    return b.scalar(mpmath.nstr(value, digits))


def _norm(b, v):
    return b.sqrt(b.sum(v * v))


def _cos(b, x, y):
    return b.clip(b.sum(x * y) / (_norm(b, x) * _norm(b, y)), -1.0, 1.0)


def angle_space(closest: float) -> Fixed:
    """Pairs (x, y) in R^d at angle θ: uniform, near 0 or near π (at least ``closest``
    away); norms in [1/√10, √10]."""
    def draw(rng):
        d = int(rng.choice([2, 3, 5, 20, 100]))
        regime = int(rng.integers(3))
        gap = 10 ** rng.uniform(math.log10(closest), -1)
        theta = (rng.uniform(0.05, math.pi - 0.05), gap, math.pi - gap)[regime]
        xh = unit_vectors(rng, 1, d)[0]
        g = rng.standard_normal(d)
        g -= (g @ xh) * xh
        yh = g / np.linalg.norm(g)
        nx, ny = 10 ** rng.uniform(-0.5, 0.5, size=2)
        return {"x": nx * xh, "y": ny * (math.cos(theta) * xh + math.sin(theta) * yh),
                "theta": theta, "d": d}

    return Fixed(draw)


def _angles(ntk) -> Fixed:
    return angle_space(ntk.pick(quick=1e-4, mpmath=1e-9))


def _n_cases(ntk) -> int:
    return ntk.pick(quick=24, standard=256, mpmath=ntk.budget.pick(quick=12, standard=32))


def _network_backend(ntk):
    """Where random networks run: the backend itself, float64 numpy on mpmath (notes)."""
    nb = get_backend(ntk.pick(quick=ntk.backend.spec, mpmath="numpy"))
    if nb.spec != ntk.backend.spec:
        ntk.record(precision_note=FLOAT_NOTE)
    return nb


# -- derivations ---------------------------------------------------------------------
S = sp.Symbol("s", positive=True)          # s = tan(θ/2), θ ∈ (0, π)
W_ = sp.Symbol("w", real=True)
Z_ = sp.Symbol("z", real=True)
C_ = sp.Symbol("c", positive=True)
T_ = sp.Symbol("t", real=True)
R_ = sp.Symbol("r", positive=True)
NX, NY = sp.Symbol("n_x", positive=True), sp.Symbol("n_y", positive=True)
HALF = sp.atan(S)                          # θ/2
THETA_S = 2 * HALF


def _phi(x):
    return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def _tail0(c):
    """P(z > c) = ∫_c^∞ φ."""
    return sp.erfc(c / sp.sqrt(2)) / 2


def _tail2(c):
    """E[z² 1(z > c)] = ∫_c^∞ z² φ."""
    return c * _phi(c) + _tail0(c)


def _over_w(inner):
    """∫ φ(w) inner(s|w|) dw, split at w = 0 (the event z > s|w|, conditioned on w)."""
    return (sp.Integral(_phi(W_) * inner(-S * W_), (W_, -sp.oo, 0))
            + sp.Integral(_phi(W_) * inner(S * W_), (W_, 0, sp.oo)))


def _j1(theta):
    return sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)


E_STEP = _over_w(_tail0)                                          # E[σ'(U)σ'(V)]
E_RELU = NX * NY / (1 + S**2) * _over_w(lambda c: _tail2(c) - c**2 * _tail0(c))
GOAL0 = sp.Eq(E_STEP, (sp.pi - THETA_S) / (2 * sp.pi), evaluate=False)
GOAL1 = sp.Eq(E_RELU, NX * NY * _j1(THETA_S) / (2 * sp.pi), evaluate=False)
_PLANE_DOMAIN = {S: (0.05, 8.0), C_: (0.0, 3.0), NX: (0.3, 3.0), NY: (0.3, 3.0)}


def _radial(k: int):
    """∫_0^∞ r^{2k+1} e^{-r²/2} dr/(2π): the radial part of the planar Gaussian."""
    return sp.Integral(R_**(2 * k + 1) * sp.exp(-R_**2 / 2), (R_, 0, sp.oo)) / (2 * sp.pi)


def _plane_lemmas(order: int) -> list[Step]:
    """Steps 1.. : the law of (U, V) for every d, the truncated Gaussian moments and
    arctan(1/s) = π/2 - arctan s."""
    steps = [
        Step(sp.cos(HALF)**2 + sp.sin(HALF)**2, "==", 1,
             "U = z cos(θ/2) - w sin(θ/2) and V = z cos(θ/2) + w sin(θ/2) have unit variance, "
             "like wᵀx̂ and wᵀx̂' for w ~ N(0, I_d), any d"),
        Step(sp.cos(HALF)**2 - sp.sin(HALF)**2, "==", (1 - S**2) / (1 + S**2),
             "Cov(U, V) = cos²(θ/2) - sin²(θ/2) = cos θ = x̂ᵀx̂' (s = tan(θ/2)): (U, V) has the "
             "law of (wᵀx̂, wᵀx̂'), and U > 0, V > 0 iff z > s|w|"),
        Step(sp.Integral(_phi(Z_), (Z_, C_, sp.oo)), "==", _tail0(C_),
             "the Gaussian tail P(z > c) (equal at c = 0, equal derivatives -φ(c))",
             method="derivative", variable=C_, base=0),
    ]
    if order == 1:
        steps.append(Step(sp.Integral(Z_**2 * _phi(Z_), (Z_, C_, sp.oo)), "==", _tail2(C_),
                          "the truncated second moment E[z² 1(z > c)] (equal at c = 0, equal "
                          "derivatives -c² φ(c))", method="derivative", variable=C_, base=0))
    steps.append(Step(sp.atan(1 / S), "==", sp.pi / 2 - HALF,
                      "arctan(1/s) = π/2 - arctan s for s > 0 (equal at s = 1, equal "
                      "derivatives)", method="derivative", variable=S, base=1))
    return steps


def order0_derivation() -> Derivation:
    """E[σ'(wᵀx)σ'(wᵀx')] = (π - θ)/(2π) for every θ ∈ (0, π) and every d (module notes)."""
    lemmas = _plane_lemmas(0)
    atan_lemma = len(lemmas)
    wedge = (sp.pi - THETA_S) * _radial(0)
    steps = [*lemmas,
             Step(E_STEP, "==", sp.atan(1 / S) / sp.pi,
                  "the integral over w of φ(w) P(z > s|w|) (sympy)", uses=(1, 2, 3)),
             Step(sp.atan(1 / S) / sp.pi, "==", (sp.pi / 2 - HALF) / sp.pi, "arctan(1/s) = "
                  "π/2 - θ/2", method="hypothesis", hypothesis=atan_lemma),
             Step((sp.pi / 2 - HALF) / sp.pi, "==", wedge,
                  "polar coordinates (z, w) = r(cos t, sin t): z > s|w| is the wedge |t| < π/2 - "
                  "θ/2 of angle π - θ, and the radial density is r e^{-r²/2}/(2π) (Cho & Saul, "
                  "eq. (1))"),
             Step(wedge, "==", (sp.pi - THETA_S) / (2 * sp.pi), "∫_0^∞ r e^{-r²/2} dr = 1")]
    return Derivation("E[σ'(wᵀx)σ'(wᵀx')] = (π - θ)/(2π), θ = 2 arctan s", tuple(steps),
                      goal=GOAL0, domain=_PLANE_DOMAIN)


def order1_derivation() -> Derivation:
    """E[relu(wᵀx) relu(wᵀx')] = ||x|| ||x'|| J_1(θ)/(2π) for every θ, norm and d."""
    lemmas = _plane_lemmas(1)
    atan_lemma = len(lemmas)
    mid = NX * NY * (S + (1 - S**2) * sp.atan(1 / S)) / (sp.pi * (1 + S**2))
    mid2 = mid.xreplace({sp.atan(1 / S): sp.pi / 2 - HALF})
    wedge = (NX * NY * sp.Integral(sp.cos(T_ + HALF) * sp.cos(T_ - HALF),
                                   (T_, HALF - sp.pi / 2, sp.pi / 2 - HALF)) * _radial(1))
    steps = [*lemmas,
             Step(E_RELU, "==", mid, "relu(n z) = n relu(z) for n > 0; the integral over w of "
                  "φ(w) E[(z² - s²w²) 1(z > s|w|)] (sympy)", uses=(1, 2, 3, 4)),
             Step(mid, "==", mid2, "arctan(1/s) = π/2 - θ/2", method="hypothesis",
                  hypothesis=atan_lemma),
             Step(mid2, "==", wedge,
                  "polar coordinates: U V = r² cos(t + θ/2) cos(t - θ/2) on the wedge |t| < π/2 "
                  "- θ/2 where both are positive, 0 off it (Cho & Saul, eq. (1))"),
             Step(wedge, "==", NX * NY * _j1(THETA_S) / (2 * sp.pi),
                  "∫_0^∞ r³ e^{-r²/2} dr = 2 and the angular integral (sin θ + (π - θ) cos θ)/2")]
    return Derivation("E[relu(wᵀx) relu(wᵀx')] = ||x|| ||x'|| J_1(θ)/(2π), θ = 2 arctan s",
                      tuple(steps), goal=GOAL1, domain=_PLANE_DOMAIN)


TH = sp.Symbol("theta", positive=True)
J_ = sp.Symbol("j", integer=True, positive=True)
M_ = sp.Symbol("m", integer=True, positive=True)
EA2 = sp.IndexedBase("Ea2")                    # E[a_j²], neuron j
KAPPA0, KAPPA1 = sp.Function("kappa_0"), sp.Function("kappa_1")
THETA_W = NX * NY * sp.cos(TH) * (sp.pi - TH) / (2 * sp.pi)
THETA_A = NX * NY * _j1(TH) / (2 * sp.pi)
_NEURON = NX * NY * sp.cos(TH) * KAPPA0(TH) + NX * NY * KAPPA1(TH)
GOAL_NTK = sp.Eq(sp.Sum(EA2[J_] * NX * NY * sp.cos(TH) * KAPPA0(TH) + NX * NY * KAPPA1(TH),
                        (J_, 1, M_)) / M_, THETA_W + THETA_A, evaluate=False)


def two_layer_derivation() -> Derivation:
    """E[Θ_m(x, x')] = (1/m) Σ_j (E[a_j²] xᵀx' κ_0(θ) + ||x|| ||x'|| κ_1(θ)) = Θ_W + Θ_a for
    every width m (κ_0, κ_1: the unit-norm expectations E[σ'σ'], E[σσ] at angle θ), from
    E a_j² = 1 and the statements of arccos.order0 and arccos.order1."""
    hyps = (Hypothesis("E a_j^2 = 1", EA2[J_], "==", 1, bound=(J_,)),
            Hypothesis("arccos.order0", KAPPA0(TH), "==", (sp.pi - TH) / (2 * sp.pi)),
            Hypothesis("arccos.order1", KAPPA1(TH), "==", _j1(TH) / (2 * sp.pi)))
    mean = sp.Sum(_NEURON, (J_, 1, M_)) / M_
    first = _NEURON.xreplace({KAPPA0(TH): (sp.pi - TH) / (2 * sp.pi)})
    steps = (Step(GOAL_NTK.lhs, "==", mean, "every neuron has E a_j² = 1 (a_j = ±1 or N(0, 1))",
                  method="hypothesis", hypothesis="E a_j^2 = 1"),
             Step(mean, "==", _NEURON, "the m neurons are identically distributed: the mean of "
                  "m equal expectations"),
             Step(_NEURON, "==", first, "the first-layer part: E[σ'(wᵀx)σ'(wᵀx')] = (π - θ)/(2π) "
                  "(arccos.order0; σ' is scale-free, so the norms do not enter)",
                  method="hypothesis", hypothesis="arccos.order0"),
             Step(first, "==", THETA_W + THETA_A, "the second-layer part: E[σσ] = ||x|| ||x'|| "
                  "J_1(θ)/(2π) (arccos.order1; relu is positively homogeneous)",
                  method="hypothesis", hypothesis="arccos.order1"))
    return Derivation("E[Θ_m] = Θ_W + Θ_a for every width m", steps, goal=GOAL_NTK,
                      hypotheses=hyps,
                      witnesses={KAPPA0: [sp.Lambda(TH, (sp.pi - TH) / (2 * sp.pi))],
                                 KAPPA1: [sp.Lambda(TH, _j1(TH) / (2 * sp.pi))],
                                 EA2: [sp.Lambda(J_, 1)]},
                      domain={TH: (0.01, 3.13), NX: (0.3, 3.0), NY: (0.3, 3.0), M_: (1, 64)})


# -- order 0 ---------------------------------------------------------------------------
def _library_order0(b, x, y):
    return arccos_kernel(x[None, :], y[None, :], order=0, backend=b)[0, 0]


def _order0_pi(b, x, y):
    """Twin: 1/2 - arccos(cos θ)/π (π for 2π)."""
    return 0.5 - b.arccos(_cos(b, x, y)) / b.pi()


@claim("arccos.order0", kind="identity", title="arc-cosine kernel of order 0",
       statement=r"E_w[\sigma'(w^\top x)\sigma'(w^\top x')] = \frac{\pi-\theta}{2\pi}"
                 r" = \frac12 - \frac{\arccos(\hat x^\top \hat x')}{2\pi}", source=SOURCE,
       goal=GOAL0,
       twins=[Twin("twin_pi", title="twin: 1/2 - arccos/π",
                   statement=r"E[\sigma'\sigma'] = \frac12 - \frac{\arccos(x^\top x')}{\pi}",
                   formula=_order0_pi, cases=TWIN_CASES),
              Twin("twin_constant_0_95", title="twin: 0.95·(π - θ)/(2π)",
                   statement=r"E[\sigma'\sigma'] = 0.95\,\frac{\pi-\theta}{2\pi}", factor=0.95,
                   cases=TWIN_CASES)])
def test_order0(ntk, formula=None, factor=1.0, cases=None):
    if formula is None and factor == 1.0:
        ntk.derivation(order0_derivation(), points=DERIVATION_POINTS)
    rhs = formula or _library_order0

    def case(b, x, y, theta=None, d=None):
        return _expectation(b, 0, x, y), factor * rhs(b, x, y), 0.5

    ntk.identity(case, _angles(ntk), n=cases or _n_cases(ntk))


# -- order 1 ---------------------------------------------------------------------------
def _order1_scale(b, x, y):
    return _norm(b, x) * _norm(b, y) * (1 + 2 * b.pi()) / (2 * b.pi())


def _library_order1(b, x, y):
    return arccos_kernel(x[None, :], y[None, :], order=1, backend=b)[0, 0]


def _cho_saul_k1(b, x, y):
    """Cho & Saul's k_1 = ||x|| ||y|| J_1(θ)/π (their eq. (3), the factor 2 kept)."""
    th = b.arccos(_cos(b, x, y))
    return _norm(b, x) * _norm(b, y) * (b.sin(th) + (b.pi() - th) * b.cos(th)) / b.pi()


def cho_saul_case(b, x, y, theta=None, d=None):
    """2·E[relu relu] against Cho & Saul's k_1."""
    return 2 * _expectation(b, 1, x, y), _cho_saul_k1(b, x, y), 2 * _order1_scale(b, x, y)


ORDER1_TWINS = (
    Twin("twin_cho_saul_factor", formula=_cho_saul_k1, cases=TWIN_CASES,
         title="twin: Cho-Saul's k_1 (factor 2) as the Gaussian expectation",
         statement=r"E[\mathrm{relu}\,\mathrm{relu}] = \|x\|\|x'\| J_1(\theta)/\pi"),
    Twin("twin_constant_0_95", factor=0.95, cases=TWIN_CASES,
         title="twin: 0.95·||x|| ||x'|| J_1(θ)/(2π)",
         statement=r"E[\mathrm{relu}\,\mathrm{relu}] = 0.95\,\|x\|\|x'\| J_1(\theta)/(2\pi)"))


@claim("arccos.order1", kind="identity", source=SOURCE, goal=GOAL1, twins=ORDER1_TWINS,
       title="arc-cosine kernel of order 1 (= ½ Cho-Saul's k_1)",
       statement=r"E_w[\mathrm{relu}(w^\top x)\mathrm{relu}(w^\top x')] = \|x\|\|x'\|"
                 r"\frac{\sin\theta+(\pi-\theta)\cos\theta}{2\pi}")
def test_order1(ntk, formula=None, factor=1.0, cases=None):
    claim_itself = formula is None and factor == 1.0
    if claim_itself:
        ntk.derivation(order1_derivation(), points=DERIVATION_POINTS)
    rhs = formula or _library_order1
    space, n = _angles(ntk), cases or _n_cases(ntk)

    def case(b, x, y, theta=None, d=None):
        return _expectation(b, 1, x, y), factor * rhs(b, x, y), _order1_scale(b, x, y)

    ntk.identity(case, space, n=n)
    if claim_itself:
        ntk.identity(cho_saul_case, space, n=max(4, n // 4))


# -- two-layer NTK ---------------------------------------------------------------------
def true_two_layer(b, X1, X2, trained):
    return two_layer_relu_ntk(X1, X2, trained=trained, backend=b)


def w_only_limit(b, X1, X2, trained):
    """Twin: Telgarsky's Θ_W whatever is trained."""
    return two_layer_relu_ntk(X1, X2, trained="W", backend=b)


def scaled_two_layer(b, X1, X2, trained):
    """Twin: 0.95·Θ."""
    return 0.95 * two_layer_relu_ntk(X1, X2, trained=trained, backend=b)


def monte_carlo_t(samples: np.ndarray, limit: np.ndarray) -> float:
    """Largest |t| over the upper triangle: t = (mean - limit)/(sd/√S)."""
    iu = np.triu_indices(limit.shape[0])
    s = samples[:, iu[0], iu[1]]
    se = s.std(axis=0, ddof=1) / math.sqrt(s.shape[0])
    gap = np.abs(s.mean(axis=0) - limit[iu])
    return float(np.max(np.where(se > 0, gap / np.where(se > 0, se, 1.0),
                                 np.where(gap > 0, np.inf, 0.0))))


def t_critical(seeds: int, tests: int) -> float:
    """Two-sided Bonferroni critical value at family-wise level ALPHA."""
    return float(stats.t.ppf(1 - ALPHA / (2 * tests), seeds - 1))


N_POINTS = 3  # inputs per Monte Carlo case: 6 Gram entries
N_ENTRIES = N_POINTS * (N_POINTS + 1) // 2


def two_layer_mc(ntk, limit, *, n_cases: int):
    """eNTK of TwoLayer networks averaged over seeds vs ``limit`` (trained as drawn)."""
    m, S_ = ntk.pick(quick=(256, 30), standard=(1024, 60), mpmath=(32, 12))
    d, tcrit = 4, t_critical(S_, n_cases * N_ENTRIES)
    configs = itertools.cycle([("W", "sign"), ("both", "sign"), ("W", "normal"),
                               ("both", "normal")])

    def draw(rng):
        trained, a_init = next(configs)
        return {"trained": trained, "a_init": a_init, "seed": int(rng.integers(2**62))}

    def case(b, trained, a_init, seed):
        X = unit_vectors(generator(seed), N_POINTS, d)
        ks = np.stack([b.to_numpy(empirical_ntk(TwoLayer(d, m, trained=trained, a_init=a_init,
                                                         seed=s, backend=b), X))
                       for s in spawn(seed, S_)])
        return monte_carlo_t(ks, b.to_numpy(limit(b, X, None, trained))), tcrit, tcrit

    ntk.record(mc_width=m, mc_seeds=S_, t_critical=tcrit)
    return ntk.bound(case, Fixed(draw), search=False, n=n_cases)


TWO_LAYER_TWINS = (
    Twin("twin_W_only_for_both", limit=w_only_limit, cases=TWIN_CASES,
         title="twin: Telgarsky's Θ_W for a network with both layers trained",
         statement=r"\lim_m \Theta_m^{W,a} = x^\top x'\frac{\pi-\theta}{2\pi}"),
    Twin("twin_constant_0_95", limit=scaled_two_layer, cases=TWIN_CASES, title="twin: 0.95·Θ",
         statement=r"\lim_m\Theta_m = 0.95\,(\Theta_W + \Theta_a)"))


@claim("arccos.two_layer_ntk", kind="identity", title="infinite-width two-layer ReLU NTK",
       source=SOURCE_NTK, goal=GOAL_NTK, twins=TWO_LAYER_TWINS,
       statement=r"E\,\Theta_m = \frac1m\sum_{j=1}^m \big(E[a_j^2]\,x^\top x'\,E[\sigma'"
                 r"\sigma'] + E[\sigma\sigma]\big) = x^\top x'\frac{\pi-\theta}{2\pi} + \|x\|\|x'\|"
                 r"\frac{\sin\theta+(\pi-\theta)\cos\theta}{2\pi}\ \text{for every } m,\ "
                 r"\Theta_m \to \Theta_W + \Theta_a \text{ a.s.}")
def test_two_layer_ntk(ntk, limit=true_two_layer, cases=None):
    if limit is true_two_layer:
        ntk.derivation(two_layer_derivation(), points=DERIVATION_POINTS)
    base = _angles(ntk)
    trained = itertools.cycle(["W", "a", "both"])
    space = Fixed(lambda rng: {**base.draw(rng), "trained": next(trained)})
    n = cases or _n_cases(ntk)

    def closed_case(b, x, y, trained, theta=None, d=None):
        """limit against xᵀy·E[σ'σ'] (+ E[σσ]) by quadrature."""
        rhs = limit(b, x[None, :], y[None, :], trained)[0, 0]
        w_part = b.sum(x * y) * _expectation(b, 0, x, y) if trained != "a" else 0
        a_part = _expectation(b, 1, x, y) if trained != "W" else 0
        return w_part + a_part, rhs, 2 * _order1_scale(b, x, y)

    def depth1_case(b, x, y, trained=None, theta=None, d=None):
        """infinite_width(√d·x, depth=1) (neural-tangents scaling, both layers) = limit."""
        rd = b.sqrt(b.scalar(x.shape[0]))
        lhs = infinite_width((x * rd)[None, :], (y * rd)[None, :], depth=1, backend=b).ntk[0, 0]
        return lhs, limit(b, x[None, :], y[None, :], "both")[0, 0], 2 * _order1_scale(b, x, y)

    ntk.identity(closed_case, space, n=n)
    ntk.identity(depth1_case, space, n=n)
    two_layer_mc(ntk, limit, n_cases=4)


# -- deep NTK --------------------------------------------------------------------------
DEEP_CONFIGS = [(2, 0.0), (2, 0.5), (3, 0.0), (3, 0.5)]
W_VAR = 2.0  # W_std² = 2: Arora et al.'s c_σ for ReLU


def deep_limit(b, X, depth: int, b_std: float, w_var: float = W_VAR):
    return b.to_numpy(infinite_width(X, depth=depth, W_std=math.sqrt(w_var), b_std=b_std,
                                     backend=b).ntk)


def wrong_weight_variance(b, X, depth: int, b_std: float):
    """Twin: the recursion with W_std² = 2.2 (10% off) for networks drawn with 2."""
    return deep_limit(b, X, depth, b_std, w_var=2.2)


def no_derivative_factor(b, X, depth: int, b_std: float):
    """Twin: Θ = Σ_h Σ^{(h)} (the chain-rule factor W_std² Σ̇ dropped)."""
    d = X.shape[1]
    total = W_VAR * (X @ X.T) / d + b_std**2
    for h in range(1, depth + 1):
        total = total + b.to_numpy(infinite_width(X, depth=h, W_std=math.sqrt(W_VAR),
                                                  b_std=b_std, backend=b).nngp)
    return total


DEEP_TWINS = (
    Twin("twin_no_derivative_factor", limit=no_derivative_factor, seeds=20,
         title="twin: the recursion without the chain-rule factor (Θ = Σ_h Σ^{(h)})",
         statement=r"\Theta^{(L)} = \sum_{h=1}^{L+1}\Sigma^{(h)}"),
    Twin("twin_weight_variance_2_2", limit=wrong_weight_variance,
         title="twin: the recursion with weight variance 2.2 for networks drawn with 2",
         statement=r"\Theta^{(L)}\big|_{W_{std}^2 = 2.2}",
         near="a constant 10% off (W_std² = 2.2 for 2): Θ moves by 24-46%; the check rejects "
              "changes of Θ above 12-20% reliably"))


@claim("arccos.deep_ntk", kind="bound", source=SOURCE_NTK, twins=DEEP_TWINS,
       title="deep ReLU NTK recursion (depth 2, 3; with and without bias) vs finite networks",
       statement=r"\max_{ij}|\bar\Theta^{(m)}_{ij}-\Theta^{(L)}_{ij}|/\mathrm{se}_{ij} \le "
                 r"t_{S-1}(1-\alpha/2K)")
def test_deep_ntk(ntk, limit=deep_limit, seeds=None):
    m = ntk.pick(quick=256, standard=384)
    S_ = seeds or ntk.pick(quick=60, standard=120)
    d, n_cases = 5, len(DEEP_CONFIGS)
    tcrit = t_critical(S_, n_cases * N_ENTRIES)
    configs = itertools.cycle(DEEP_CONFIGS)
    nb = _network_backend(ntk)

    def draw(rng):
        depth, b_std = next(configs)
        return {"depth": depth, "b_std": b_std, "seed": int(rng.integers(2**62))}

    def case(_, depth, b_std, seed):
        depth, b_std = int(depth), float(b_std)
        X = unit_vectors(generator(seed), N_POINTS, d) * math.sqrt(d)
        ks = np.stack([nb.to_numpy(empirical_ntk(MLP(depth, m, "relu", W_std=math.sqrt(W_VAR),
                                                     b_std=b_std, d=d, seed=s, backend=nb), X))
                       for s in spawn(seed, S_)])
        return monte_carlo_t(ks, np.asarray(limit(nb, X, depth, b_std), dtype=float)), tcrit, tcrit

    ntk.record(mc_width=m, mc_seeds=S_, t_critical=tcrit)
    ntk.bound(case, Fixed(draw), search=False, n=n_cases)


# -- |Θ(u)| <= Θ(1): the NTK is bounded by its diagonal, certified ----------------------
# Arora et al.'s ReLU NTK on the unit sphere, no bias (c_σ = 2): with u = x̂ᵀx̂' = cos θ,
# Σ^(0) = u, Σ^(h) = J(θ_{h-1}), Σ̇^(h) = (π - θ_{h-1})/π, θ_h = arccos Σ^(h),
# Θ^(0) = u, Θ^(h) = Σ^(h) + Θ^(h-1) Σ̇^(h), J(θ) = (sin θ + (π - θ) cos θ)/π; Θ^(L)(1) = L + 1.
# It is infinite_width(x·√(d/2), depth=L, W_std=√2).ntk, and two_layer_relu_ntk (both layers
# trained) is Θ^(1)/2; off the sphere both are ||x|| ||x'|| Θ^(L)(cos θ) (relu is
# positively homogeneous). Written out here in arb (python-flint), not with the library.
DIAG_BOX = {"u": (-1.0, 1.0)}
#: Bits of the arb reference in the identities with the library (mpmath checks 1e-40).
REFERENCE_PREC = 256


def _acos_ball(u):
    """arccos on the ball u ∩ [-1, 1] (arccos decreases: its values at the clipped ends).
    u = x̂ᵀx̂' lies in [-1, 1]; a ball may poke past ±1 by the radius' rounding."""
    one = flint.arb(1)
    lo, hi = u.lower(), u.upper()
    lo, hi = (-one if lo < -one else lo), (one if hi > one else hi)
    return lo.acos() if lo == hi else hi.acos().union(lo.acos())


def _arb_j(t):
    """(sin t - t cos t)/t³ = ₀F₁(; 5/2; -t²/4)/3, entire (no division by t)."""
    return (-(t * t) / 4).hypgeom_0f1(2.5) / 3


def _arb_q(t):
    """(1 - J(t))/t² = sinc²(t/2)/2 - t·j(t)/π, entire: 1 - cos t = (t²/2) sinc²(t/2)."""
    s = (t / 2).sinc()
    return s * s / 2 - t * _arb_j(t) / flint.arb.pi()


def _arb_J(t):
    """J(t) = (sin t + (π - t) cos t)/π = 2 E[relu(u) relu(v)] at unit variances, angle t."""
    pi = flint.arb.pi()
    return (t.sin() + (pi - t) * t.cos()) / pi


def _arb_next_angle(t):
    """(θ', θ'/t) with θ' = arccos J(t) = 2 asin(t √(q(t)/2)) (1 - J = t² q, half-angle) and
    θ'/t = √(2q) asin(x)/x, asin(x)/x = ₂F₁(1/2, 1/2; 3/2; x²): both smooth at t = 0."""
    q = _arb_q(t)
    x = t * (q / 2).sqrt()
    return 2 * x.asin(), (2 * q).sqrt() * (x * x).hypgeom_2f1(0.5, 0.5, 1.5)


def arb_relu_ntk(u, depth: int):
    """(Θ^(L)(u), H_L(θ), θ) on the ball u, θ = arccos u, with H_L = (L + 1 - Θ^(L))/θ
    written without the division: H_0 = (1 - cos θ)/θ = θ sinc²(θ/2)/2 and, with R_h =
    θ_h/θ, H_h = θ_{h-1} q(θ_{h-1}) R_{h-1} + H_{h-1} + Θ^(h-1) R_{h-1}/π (the three parts
    of h + 1 - Θ^(h) = (1 - Σ^(h)) + (h - Θ^(h-1)) + Θ^(h-1)(1 - Σ̇^(h)), divided by θ)."""
    pi = flint.arb.pi()
    theta = _acos_ball(u)
    s = (theta / 2).sinc()
    ntk, H, t, R = u, theta * s * s / 2, theta, flint.arb(1)
    for _ in range(depth):
        H = t * _arb_q(t) * R + H + ntk * R / pi
        ntk = _arb_J(t) + ntk * (pi - t) / pi
        t, ratio = _arb_next_angle(t)
        R = R * ratio
    return ntk, H, theta


_TS, _XS, _AS, _HS = sp.symbols("t x a h", positive=True)
_NS = sp.Symbol("T", real=True)
_JS = (sp.sin(_AS) + (sp.pi - _AS) * sp.cos(_AS)) / sp.pi
_QS = sp.sinc(_AS / 2) ** 2 / 2 - _AS * sp.hyper([], [sp.Rational(5, 2)], -_AS**2 / 4) / (3 * sp.pi)
#: What arb_relu_ntk rests on, each checked by sympy (hyperexpand, simplify to 0).
ARB_FORMS = {
    "j(t) = ₀F₁(; 5/2; -t²/4)/3": sp.hyper([], [sp.Rational(5, 2)], -_TS**2 / 4) / 3
    - (sp.sin(_TS) - _TS * sp.cos(_TS)) / _TS**3,
    "q(a) = (1 - J(a))/a²": _QS - (1 - _JS) / _AS**2,
    "asin(x)/x = ₂F₁(1/2, 1/2; 3/2; x²)": sp.hyper([sp.S.Half, sp.S.Half], [sp.Rational(3, 2)],
                                                   _XS**2) - sp.asin(_XS) / _XS,
    # the step of H: with θ R = a (= θ_{h-1}), θ H = h - T (T = Θ^(h-1)) and a² q = 1 - J(a),
    # θ (a q R + H + T R/π) = h + 1 - (J(a) + T (π - a)/π)
    "θ H_h = h + 1 - Θ^(h)": _TS * (_AS * _QS * (_AS / _TS) + (_HS - _NS) / _TS
                                    + _NS * (_AS / _TS) / sp.pi)
    - (_HS + 1 - (_JS + _NS * (sp.pi - _AS) / sp.pi)),
}


@functools.cache
def arb_forms_unproved() -> int:
    """How many of ARB_FORMS sympy could not reduce to 0 (the certificates need none)."""
    return sum(sp.simplify(sp.hyperexpand(e).rewrite(sp.sin)) != 0 for e in ARB_FORMS.values())


def _reference(x, y, depth: int, scale: int) -> tuple[str, str]:
    """(||x|| ||y|| Θ^(L)(c), ||x|| ||y|| θ H_L(θ)), divided by ``scale``, in arb at
    REFERENCE_PREC bits from the float inputs (c = xᵀy/(||x|| ||y||), θ = arccos c), as
    decimal strings of REFERENCE_PREC/4 digits."""
    saved = flint.ctx.prec
    flint.ctx.prec = REFERENCE_PREC
    try:
        xs, ys = [flint.arb(float(v)) for v in x], [flint.arb(float(v)) for v in y]
        nx = sum((v * v for v in xs), flint.arb(0)).sqrt()
        ny = sum((v * v for v in ys), flint.arb(0)).sqrt()
        dot = sum((a * c for a, c in zip(xs, ys, strict=True)), flint.arb(0))
        ntk, H, theta = arb_relu_ntk(dot / (nx * ny), depth)
        return tuple((v / scale).mid().str(REFERENCE_PREC // 4, radius=False)
                     for v in (nx * ny * ntk, nx * ny * theta * H))
    finally:
        flint.ctx.prec = saved


def _library_gram(b, depth: int, X: np.ndarray):
    """The library's kernel on the rows of X (float64), as the claim states it:
    two_layer_relu_ntk (depth 1, both layers trained, = Θ^(1)/2) or Arora's Θ^(L) =
    2^L·infinite_width(X·√d, depth=L, W_std=1).ntk (relu is positively homogeneous, so
    W_std = √2 and inputs X·√(d/2) give the same kernel; W_std = 1 and √d taken on the
    backend keep the inputs exact at 50 digits, where float(√2)² = 2 + 4e-16 would not)."""
    if depth == 1:
        return two_layer_relu_ntk(X, trained="both", backend=b)
    Xb = b.asarray(X) * b.sqrt(b.scalar(X.shape[1]))
    return infinite_width(Xb, depth=depth, W_std=1.0, backend=b).ntk * 2**depth


#: How close to parallel (θ near 0 or π) the identities' pairs come: the file's angles for the
#: two-layer kernel; for depth 2 the library's recursion amplifies rounding by ~1/θ² (√(1 - c²),
#: then the next layer's arccos: measured 1.2e-10 relative on float64 at θ = 1.06e-4, 1.7e-35
#: on mpmath at θ = 1e-9), so its pairs keep 1e-3 (float64) and 1e-4 (mpmath) away, where the
#: rounding stays two orders below the tolerances (1e-10, 1e-40).
def _identity_angles(ntk, depth: int) -> Fixed:
    return _angles(ntk) if depth == 1 else angle_space(ntk.pick(quick=1e-3, mpmath=1e-4))


def _library_matches(ntk, depth: int) -> None:
    """The arb forms are the library's kernel: Θ (identity) and the divided form θ H =
    Θ(1) - Θ (identity, the library's sqrt(Θ(x,x) Θ(y,y)) - Θ(x,y)), at the backend's
    precision, on the file's pairs of points (angles uniform, near 0 and near π)."""
    half = 2 if depth == 1 else 1   # two_layer_relu_ntk = Θ^(1)/2

    def case(b, x, y, theta=None, d=None, form="kernel"):  # noqa: ARG001
        xn, yn = b.to_numpy(x).astype(float), b.to_numpy(y).astype(float)
        K = _library_gram(b, depth, np.stack([xn, yn]))
        ref_ntk, ref_gap = _reference(xn, yn, depth, half)
        diag = b.sqrt(K[0, 0] * K[1, 1])
        if form == "kernel":
            return b.scalar(ref_ntk), K[0, 1], diag
        return b.scalar(ref_gap), diag - K[0, 1], diag

    base, forms = _identity_angles(ntk, depth), itertools.cycle(["kernel", "divided"])
    space = Fixed(lambda rng: {**base.draw(rng), "form": next(forms)})
    ntk.identity(case, space, n=2 * _n_cases(ntk))


def _upper_certificate(depth: int, hi):
    """Θ(u) <= hi·Θ(1), divided by θ = arccos u > 0: (1 - hi)(L + 1)/θ <= H_L(θ) (at u = 1,
    θ = 0, the statement is Θ(1) <= hi Θ(1) itself). For hi = 1 the left side is 0: no
    enclosure meets the equality at u = 1, which the undivided form could never decide."""
    top, gap = flint.arb(depth + 1), 1 - _arb_fraction(hi)

    def evaluate(u):
        _, H, theta = arb_relu_ntk(u, depth)
        return (flint.arb(0) if hi == 1 else gap * top / theta), H
    return evaluate


def _lower_certificate(depth: int, lo):
    """lo·Θ(1) <= Θ(u), as -Θ(u) <= -lo·(L + 1) (not attained: no division needed)."""
    bound = -_arb_fraction(lo) * (depth + 1)
    return lambda u: (-arb_relu_ntk(u, depth)[0], bound)


def _arb_fraction(c):
    c = sp.Rational(c)
    return flint.arb(flint.fmpq(int(c.p), int(c.q)))


def diagonal_bound(ntk, depth: int, lo, hi) -> None:
    """lo·Θ(1) <= Θ(u) <= hi·Θ(1) for every u ∈ [-1, 1] (certified, two ``certify`` calls),
    the library's kernel equal to the certified closed form (identities), and on the
    backend, for pairs in R^d, the library's Gram within the band: |Θ(x,x') - m D| <= w D,
    D = sqrt(Θ(x,x) Θ(x',x')), m = (lo + hi)/2, w = (hi - lo)/2 (bound; known sup 1 at
    x' ∥ x)."""
    ntk.require("arb_forms", arb_forms_unproved(), at_most=0,
                what="identities behind the arb kernel (ARB_FORMS) sympy did not reduce to 0")
    name = "two-layer NTK Θ^(1)" if depth == 1 else f"depth-{depth + 1} NTK Θ^({depth})"
    ntk.certify(_upper_certificate(depth, hi), DIAG_BOX,
                note=f"{name}(u) <= {hi}·Θ(1) = {sp.Rational(hi) * (depth + 1)} on u ∈ [-1, 1], "
                     "certified as (1 - hi)Θ(1)/arccos u <= (Θ(1) - Θ(u))/arccos u, the right "
                     "side written without the division")
    ntk.certify(_lower_certificate(depth, lo), DIAG_BOX,
                note=f"{lo}·Θ(1) <= {name}(u) on u ∈ [-1, 1]")
    if (lo, hi) == DIAG_CLAIMS[depth]:
        _library_matches(ntk, depth)
    mid, width = (sp.Rational(lo) + sp.Rational(hi)) / 2, (sp.Rational(hi) - sp.Rational(lo)) / 2

    def band(b, x, y, theta=None, d=None):  # noqa: ARG001
        X = np.stack([b.to_numpy(x).astype(float), b.to_numpy(y).astype(float)])
        K = _library_gram(b, depth, X)
        D = b.sqrt(K[0, 0] * K[1, 1])
        m, w = (b.scalar(str(sp.N(v, 60))) for v in (mid, width))
        return b.abs(K[0, 1] - m * D), w * D, b.abs(K[0, 1]) + D

    ntk.bound(band, _angles(ntk), search=False, n=ntk.pick(quick=64, standard=256, mpmath=16))


#: (lo, hi) of each claim: the two-layer NTK is bounded by its diagonal on both sides (it is
#: negative for u < 0 near -1); the three-layer NTK is also non-negative.
DIAG_CLAIMS = {1: (-1, 1), 2: (0, 1)}
DIAG_NEAR = "the upper constant 10% below Θ(1), which the kernel attains at u = 1"


@claim("arccos.two_layer_ntk_bound", kind="bound", source=SOURCE_NTK + "; Cho & Saul 2009",
       title="the two-layer ReLU NTK is bounded by its diagonal: |Θ(u)| <= Θ(1) (certified)",
       statement=r"|\Theta(x,x')| \le \Theta(1)\ \text{for } \|x\| = \|x'\| = 1,\ "
                 r"\Theta(u) = \frac{2u(\pi-\arccos u)+\sqrt{1-u^2}}{2\pi},\ \Theta(1) = 1",
       known_sup=1.0,
       twins=[Twin("twin_constant_0_9", title="twin: |Θ(u)| <= 0.9·Θ(1)",
                   statement=r"|\Theta(u)| \le 0.9\,\Theta(1)", near=DIAG_NEAR,
                   lo=sp.Rational(-9, 10), hi=sp.Rational(9, 10)),
              Twin("twin_nonnegative", title="twin: the two-layer NTK is non-negative, "
                                             "0 <= Θ(u) <= Θ(1)",
                   statement=r"0 \le \Theta(u) \le \Theta(1)", lo=0, hi=1)])
def test_two_layer_ntk_bound(ntk, lo=-1, hi=1):
    diagonal_bound(ntk, 1, lo, hi)


@claim("arccos.deep_ntk_bound", kind="bound", source=SOURCE_NTK + "; Cho & Saul 2009",
       title="the three-layer ReLU NTK lies between 0 and its diagonal: 0 <= Θ^(2)(u) <= "
             "Θ^(2)(1) = 3 (certified)",
       statement=r"0 \le \Theta^{(2)}(u) \le \Theta^{(2)}(1) = 3,\ u = \hat x^\top\hat x' \in "
                 r"[-1, 1],\ \text{i.e. } |\Theta^{(2)}(u) - \tfrac32| \le \tfrac32",
       known_sup=1.0,
       twins=[Twin("twin_constant_0_9", title="twin: 0 <= Θ^(2)(u) <= 0.9·Θ^(2)(1)",
                   statement=r"0 \le \Theta^{(2)}(u) \le 0.9\,\Theta^{(2)}(1)", near=DIAG_NEAR,
                   hi=sp.Rational(9, 10))])
def test_deep_ntk_bound(ntk, lo=0, hi=1):
    diagonal_bound(ntk, 2, lo, hi)


# -- quadrature for activations without a closed form ---------------------------------
QUAD_W_STD, QUAD_B_STD, QUAD_D = 1.3, 0.2, 3


def variance_scaled(activation: str, c: float):
    """σ evaluated at √c·u, σ' at √c·u: the Gaussian moments of σ at c times the
    covariance (the quadrature's radial weight r e^{-r²/(2c)}/c for r e^{-r²/2})."""
    act = get_activation(activation)
    if c == 1.0:
        return act
    r = math.sqrt(c)
    return dataclasses.replace(act, name=f"{act.name}_variance_x{c:g}",
                               f=lambda b, x: act.f(b, r * x), df=lambda b, x: act.df(b, r * x),
                               d2f=lambda b, x: act.d2f(b, r * x))


def quadrature_moments_case(b, activation, q1, k, q2, variance=1.0):
    """Quadrature (numpy, float64) against the closed form (backend b) of E[σσ] + E[σ'σ']
    for relu or erf at covariance [[q1, k], [k, q2]]."""
    quad = gaussian_moments(variance_scaled(activation, variance), q1, k, q2,
                            method="quadrature", backend="numpy")
    closed = gaussian_moments(activation, b.scalar(q1), b.scalar(k), b.scalar(q2),
                              method="closed", backend=b)
    lhs = b.scalar(float(quad[0])) + b.scalar(float(quad[1]))
    return lhs, closed[0] + closed[1], abs(closed[0]) + abs(closed[1])


def _covariance_space(ntk) -> Fixed:
    acts = itertools.cycle(["relu", "erf"])

    def draw(rng):
        q1, q2 = 10 ** rng.uniform(-1, 0.5, size=2)
        return {"activation": next(acts), "q1": float(q1), "q2": float(q2),
                "k": float(rng.uniform(-0.999, 0.999) * math.sqrt(q1 * q2))}

    return Fixed(draw)


@claim("arccos.quadrature_kernel", kind="bound",
       title="polar quadrature: closed forms (ReLU, erf) and the NTK of GELU, SiLU vs networks",
       statement=r"\max_{ij}|\bar\Theta^{(m)}_{ij}-\Theta^{\mathrm{quad}}_{ij}|/\mathrm{se}_{ij}"
                 r" \le t_{S-1}(1-\alpha/2K),\ \ E^{\mathrm{quad}}[\sigma\sigma] = "
                 r"E^{\mathrm{closed}}[\sigma\sigma]", source=SOURCE_NTK,
       not_on={"mpmath": "the polar quadrature (ntkproof.nn.quadrature) is a float64 rule, "
                         "numpy only; the claim is about that rule"},
       twins=[Twin("twin_variance_1_1",
                   title="twin: the quadrature's Gaussian at 1.1 times the covariance",
                   statement=r"E^{\mathrm{quad}}_{1.1\Sigma}[\sigma\sigma]",
                   near="the radial weight r e^{-r²/2.2}/1.1 for r e^{-r²/2} (variance 10% off): "
                        "ReLU's E[σσ] moves by 10%, the GELU/SiLU NTK by about 6%",
                   variance=1.1)])
def test_quadrature_kernel(ntk, variance=1.0):
    m, S_ = ntk.pick(quick=(2048, 100), standard=(4096, 200))
    n_cases = 4
    tcrit = t_critical(S_, n_cases * N_ENTRIES)
    acts = itertools.cycle(["gelu", "silu"])
    nb = ntk.backend

    def draw(rng):
        return {"activation": next(acts), "seed": int(rng.integers(2**62))}

    def case(_, activation, seed):
        X = generator(seed).standard_normal((N_POINTS, QUAD_D))
        ks = np.stack([nb.to_numpy(empirical_ntk(MLP(1, m, activation, W_std=QUAD_W_STD,
                                                     b_std=QUAD_B_STD, d=QUAD_D, seed=s,
                                                     backend=nb), X))
                       for s in spawn(seed, S_)])
        limit = infinite_width(X, activation=variance_scaled(activation, variance), depth=1,
                               W_std=QUAD_W_STD, b_std=QUAD_B_STD, method="quadrature").ntk
        return monte_carlo_t(ks, limit), tcrit, tcrit

    ntk.record(mc_width=m, mc_seeds=S_, t_critical=tcrit)
    ntk.bound(case, Fixed(draw), search=False, n=n_cases)
    ntk.identity(lambda b, **p: quadrature_moments_case(b, variance=variance, **p),
                 _covariance_space(ntk), n=ntk.pick(quick=24, standard=128))


# -- convergence rate and Hoeffding ----------------------------------------------------
RATE_D, RATE_POINTS = 5, 16
RATE_WIDTHS = [64, 256, 1024, 4096, 16384]
RATE_SLACK = 0.05
RATE_SLACK_REASON = ("measured over six run seeds: drift between the ladder's halves -0.03 "
                     "… +0.04, local slopes -0.535 … -0.467, fitted -0.511 … -0.494 (√m·RMS "
                     "has an m-free law up to the lattice of Bernoulli sums); 0.05 = the "
                     "largest |drift| + 0.01, with the 99.8% interval ±0.015 inside it")


def rms_kernel_error(b, X, m: int, seed: int, limit: np.ndarray) -> float:
    """RMS over the pairs i < j of |k_m(x_i, x_j) - k(x_i, x_j)|, one TwoLayer network
    trained in W (a = ±1)."""
    km = b.to_numpy(empirical_ntk(TwoLayer(X.shape[1], m, trained="W", seed=seed, backend=b),
                                  X))
    iu = np.triu_indices(X.shape[0], 1)
    return float(np.sqrt(np.mean((km[iu] - limit[iu]) ** 2)))


@claim("arccos.empirical_convergence", kind="rate",
       title="|k_m - k| = Θ(m^{-1/2}) (RMS over the 120 pairs of 16 fixed points)",
       statement=r"\Big(\tfrac{1}{120}\sum_{i<j}|k_m(x_i,x_j) - k(x_i,x_j)|^2\Big)^{1/2} = "
                 r"\Theta(m^{-1/2})", source=SOURCE,
       twins=[Twin("twin_rate_m_inverse", title="twin: |k_m - k| = Θ(m^{-1})",
                   statement=r"|k_m - k| = \Theta(m^{-1})", claimed=-1.0),
              Twin("twin_rate_m_0_6", title="twin: |k_m - k| = Θ(m^{-0.6})",
                   statement=r"|k_m - k| = \Theta(m^{-0.6})", claimed=-0.6)])
def test_empirical_convergence(ntk, claimed=-0.5):
    b = _network_backend(ntk)
    X = unit_vectors(ntk.rng("points"), RATE_POINTS, RATE_D)
    limit = b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b)).astype(float)
    ntk.record(points=RATE_POINTS, d=RATE_D)
    ntk.rate(lambda m, s: rms_kernel_error(b, X, int(m), s, limit), RATE_WIDTHS,
             claimed=claimed, slack=RATE_SLACK, attained=True,
             seeds=ntk.pick(quick=150, standard=400, thorough=1000),
             sweep="arccos.empirical_convergence", slack_reason=RATE_SLACK_REASON)


HOEFFDING_WIDTHS = [256, 1024, 4096]
Z_QUANTILE = float(stats.norm.ppf(1 - DELTA / 2))


def hoeffding_draw(ntk, b, bound, standardized: list[float]):
    """draw(rng) for ntk.probabilistic_bound: (case, |k_m - k|, bound(xᵀy, m)); appends
    |k_m - k| / (|xᵀy| √(p(1-p)/m)) (asymptotically |N(0, 1)|) to ``standardized``. The
    errors are measured once per run (``ntk.measure`` under one sweep): the twins draw
    the same cases with the claim's seed and reuse them."""
    def error(X, m: int, seed: int) -> float:
        limit = float(b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))[0, 1])
        km = float(b.to_numpy(empirical_ntk(TwoLayer(X.shape[1], m, trained="W", seed=seed,
                                                     backend=b), X))[0, 1])
        return abs(km - limit)

    def draw(rng):
        d, m = int(rng.integers(3, 11)), int(rng.choice(HOEFFDING_WIDTHS))
        X = unit_vectors(rng, 2, d)
        seed = int(rng.integers(2**62))
        cos = float(X[0] @ X[1])
        err, = ntk.measure(lambda _key, s: error(X, m, s), [((d, m, cos), seed)],
                           sweep="arccos.hoeffding")
        standardized.append(Z_QUANTILE * err / max(clt_quantile(cos, m), 1e-300))
        return {"d": d, "m": m, "cos": cos, "seed": seed}, err, bound(cos, m)
    return draw


def hoeffding_bound(cos: float, m: int) -> float:
    """|xᵀx'| √(ln(2/δ)/(2m)): Hoeffding for the mean of m terms σ'σ' ∈ {0, 1}."""
    return abs(cos) * math.sqrt(math.log(2 / DELTA) / (2 * m))


def _both_active(cos: float) -> float:
    """p = P(wᵀx > 0, wᵀx' > 0) = (π - θ)/(2π) for unit x, x'."""
    return (math.pi - math.acos(max(-1.0, min(1.0, cos)))) / (2 * math.pi)


def clt_quantile(cos: float, m: int) -> float:
    """The asymptotic (1-δ)-quantile of |k_m - k|: z_{1-δ/2} |xᵀx'| √(p(1-p)/m)."""
    p = _both_active(cos)
    return Z_QUANTILE * abs(cos) * math.sqrt(p * (1 - p) / m)


def no_sqrt(cos: float, m: int) -> float:
    return abs(cos) * math.log(2 / DELTA) / (2 * m)


def quarter_constant(cos: float, m: int) -> float:
    return hoeffding_bound(cos, m) / 4


def clt_quantile_0_9(cos: float, m: int) -> float:
    return 0.9 * clt_quantile(cos, m)


HOEFFDING_NEAR = ("10% below the exact asymptotic (1-δ)-quantile, the tightest bound of this "
                  "form (Hoeffding's is 1.6× above it)")
HOEFFDING_TWINS = (
    Twin("twin_no_sqrt", bound=no_sqrt, draws=300,
         title="twin: Hoeffding with the square root dropped",
         statement=r"|k_m-k| \le |x^\top x'|\ln(2/\delta)/(2m)"),
    Twin("twin_small_constant", bound=quarter_constant, draws=300,
         title="twin: Hoeffding with 2m replaced by 32m (constant 1/4 of the true one)",
         statement=r"|k_m-k| \le |x^\top x'|\sqrt{\ln(2/\delta)/(32m)}"),
    Twin("twin_clt_quantile_0_9", bound=clt_quantile_0_9, near=HOEFFDING_NEAR,
         title="twin: 0.9 times the exact asymptotic (1-δ)-quantile",
         statement=r"|k_m-k| \le 0.9\,z_{1-\delta/2}|x^\top x'|\sqrt{p(1-p)/m}"))


@claim("arccos.hoeffding", kind="probabilistic_bound", twins=HOEFFDING_TWINS,
       title="Hoeffding: |k_m - k| <= |xᵀx'| √(ln(2/δ)/(2m)) w.p. >= 1 - δ",
       statement=r"\Pr\big[|k_m-k| \le |x^\top x'|\sqrt{\ln(2/\delta)/(2m)}\big] \ge 1-\delta",
       source="Telgarsky §4.3 (homework); Hoeffding (1963), Thm 2, for σ'σ' ∈ {0, 1}")
def test_hoeffding(ntk, bound=hoeffding_bound, draws=None):
    b = _network_backend(ntk)
    n = draws or ntk.pick(quick=3000, standard=10000)
    standardized: list[float] = []
    d = ntk.probabilistic_bound(hoeffding_draw(ntk, b, bound, standardized), delta=DELTA,
                                n=n)
    if bound is hoeffding_bound:
        ratios = np.asarray(d.data["ratios"])
        ntk.record(ratio_quantile_1_minus_delta=float(np.quantile(ratios, 1 - DELTA)),
                   standardized_quantile_1_minus_delta=float(np.quantile(standardized,
                                                                         1 - DELTA)),
                   clt_standardized_quantile=Z_QUANTILE)


# -- universality ----------------------------------------------------------------------
UNIV_ORDER = 40
Z_SYM = sp.Symbol("z", real=True)
DARCSIN = (sp.Rational(3, 4) - Z_SYM - Z_SYM**2) ** sp.Rational(-1, 2)


def universality_coefficients(order: int = UNIV_ORDER) -> list[sp.Expr]:
    """Exact Maclaurin coefficients f_0..f_order of f(z) = g(z + 1/2).

    arcsin(z + 1/2) = π/6 + ∫_0^z (3/4 - t - t²)^{-1/2} dt; the algebraic integrand's
    series is cheap for sympy (the direct series of arcsin(z + 1/2) to order 30 is not).
    """
    dy = sp.series(DARCSIN, Z_SYM, 0, order + 1).removeO()
    A = [sp.pi / 6] + [dy.coeff(Z_SYM, n) / (n + 1) for n in range(order)]
    half = sp.Rational(1, 2)
    out = []
    for n in range(order + 1):
        lin = {0: half / 4, 1: sp.Rational(1, 4)}.get(n, 0)
        out.append(sp.expand(lin + (half * A[n] + (A[n - 1] if n else 0)) / (2 * sp.pi)))
    return out


def g_coefficient(j: int) -> sp.Expr:
    """g_j of g(s) = s/4 + s arcsin(s)/(2π): 1/4 at j = 1, c_k/(2π) at j = 2k + 2,
    c_k = (2k)!/(4^k k!² (2k+1)) (the arcsin series), else 0."""
    if j == 1:
        return sp.Rational(1, 4)
    if j >= 2 and j % 2 == 0:
        k = (j - 2) // 2
        return sp.factorial(2 * k) / (4**k * sp.factorial(k)**2 * (2 * k + 1)) / (2 * sp.pi)
    return sp.S.Zero


def coefficient_lower_bound(n: int) -> sp.Expr:
    """L_n = g_{j*} C(j*, n) 2^{n-j*} > 0, one nonnegative term of f_n = Σ_{j>=n} g_j
    C(j, n) 2^{n-j}: j* = n + (n mod 2) for n >= 1, j* = 2 for n = 0."""
    j = 2 if n == 0 else n + n % 2
    return g_coefficient(j) * sp.binomial(j, n) * sp.Rational(1, 2) ** (j - n)


def domain_points(rng, n: int, *, bias: bool) -> tuple[np.ndarray, np.ndarray]:
    """n points of X = {||x|| = 1, x_4 = 1/√2} ⊂ R^4 (bias) or of S^2 ⊂ R^3 (no bias),
    with their underlying s ∈ S^2 (x = (s/√2, 1/√2) or x = s)."""
    s = unit_vectors(rng, n, 3)
    if bias:
        return np.hstack([s / math.sqrt(2), np.full((n, 1), 1 / math.sqrt(2))]), s
    return s, s


def target(s: np.ndarray) -> np.ndarray:
    """√105·s1 s2 s3: an odd degree-3 spherical harmonic of unit L² norm on S^2."""
    return math.sqrt(105) * s[:, 0] * s[:, 1] * s[:, 2]


def interpolation_error(b, n: int, seed: int, *, bias: bool, test) -> float:
    """RMS error on the test points of kernel interpolation of ``target`` from n points."""
    X, s = domain_points(generator(seed), n, bias=bias)
    Xt, st = test
    K = b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))
    Kx = b.to_numpy(two_layer_relu_ntk(Xt, X, trained="W", backend=b))
    pred = kernel_regression(K, target(s), k_test_train=Kx).test
    return float(np.sqrt(np.mean((pred - target(st)) ** 2)))


INTERP_NS = [16, 32, 64, 128, 256]
INTERP_SLACK_REASON = ("none needed: measured local slopes -0.53 … -1.53, all below -1/2, "
                       "and the ladder's upper half steeper than its lower half (drift -0.32 "
                       "… -0.57 over five run seeds): finite n understates the decay")


@claim("arccos.universality", kind="rate",
       title="Telgarsky Thm 4.1 on X = {||x|| = 1, x_d = 1/√2}: positive coefficients (n <= 40), "
             "positive definite Grams, interpolation converges",
       statement=r"f(z) = g(z+\tfrac12):\ f_n \ge L_n > 0\ (n \le 40);\ \lambda_{\min}(K_X) > 0;\ "
                 r"\|s_n - f^\star\|_{L^2(X)} = O(n^{-1/2})", source=SOURCE_UNIV,
       twins=[Twin("twin_sphere",
                   title="twin: the same kernel is universal on the plain sphere (no bias "
                         "coordinate)",
                   statement=r"g_n \ge L_n\ (n \le 40);\ \text{interpolation of } \sqrt{105}\,"
                             r"x_1x_2x_3 \text{ on } S^2 \text{ converges like } n^{-1/2}",
                   near="Thm 4.1 with its one hypothesis (the bias coordinate) removed",
                   bias=False)])
def test_universality(ntk, bias=True):
    b = _network_backend(ntk)
    coeffs = universality_coefficients() if bias else \
        [g_coefficient(n) for n in range(UNIV_ORDER + 1)]

    def coefficient_case(bk, n):
        """(L_n, f_n): f_n >= L_n > 0 (g_n for the sphere)."""
        low, fn = (bk.scalar(sp.N(e, 60).__str__()) for e in
                   (coefficient_lower_bound(int(n)), coeffs[int(n)]))
        return low, fn, abs(fn) + low

    ntk.bound(coefficient_case, [{"n": n} for n in range(UNIV_ORDER + 1)])
    sizes = ntk.pick(quick=[8, 32, 128], mpmath=[6, 10])

    def gram_case(bk, seed, n):
        """(roundoff floor n·eps·||K||_F, λ_min(K)) for the Gram of n random points."""
        X, _ = domain_points(generator(int(seed)), int(n), bias=bias)
        K = two_layer_relu_ntk(X, trained="W", backend=bk)
        lam = bk.eigvalsh(K)[0]
        frob = bk.sqrt(bk.sum(K * K))
        return int(n) * bk.tol.eps * frob, lam

    ntk.bound(gram_case, Fixed(lambda rng: {"seed": int(rng.integers(2**62)),
                                            "n": int(rng.choice(sizes))}),
              search=False, n=ntk.pick(quick=6, standard=24))
    test = domain_points(ntk.rng("test"), ntk.pick(quick=1000, standard=3000), bias=bias)
    ntk.rate(lambda n, s: interpolation_error(b, int(n), s, bias=bias, test=test), INTERP_NS,
             claimed=-0.5, slack=0.0, variable="n", slack_reason=INTERP_SLACK_REASON)


@pytest.mark.parametrize("order", [8])
def test_universality_coefficients_are_pinned(order):
    """Pinned: f_0..f_3 ≈ 0.1667, 0.4252, 0.2144, 0.1021 (Telgarsky Thm 4.1's f, by hand)."""
    got = [float(c) for c in universality_coefficients(order)[:4]]
    assert np.allclose(got, [0.1667, 0.4252, 0.2144, 0.1021], atol=5e-5)
