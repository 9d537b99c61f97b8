r"""Arc-cosine kernels, the infinite-width ReLU NTK, its convergence, and universality.

Statement
---------
For ``w ~ N(0, I_d)`` and nonzero x, x' in R^d at angle θ = arccos(xᵀx'/(||x|| ||x'||)):

.. math::

    E[σ'(wᵀx) σ'(wᵀx')] = \frac{π - θ}{2π} = \frac12 - \frac{\arccos(xᵀx')}{2π}
    \quad(\|x\| = \|x'\| = 1),\qquad
    E[σ(wᵀx) σ(wᵀx')] = \|x\|\|x'\| \frac{\sin θ + (π - θ)\cos θ}{2π}

for σ = ReLU. Cho & Saul (2009) define k_n = 2·E[...] (a leading factor 2), so their
k_0 = 1 - θ/π and k_1 = ||x|| ||x'|| J_1(θ)/π, J_1 = sin θ + (π - θ) cos θ.
Consequences: the two-layer ReLU NTK of f(x) = m^{-1/2} Σ_j a_j σ(w_jᵀx) (E a² = 1, no
bias) tends to Θ_W = xᵀx'(π - θ)/(2π) when W alone is trained, and Θ_W + E[σσ] when a is
trained too; deeper networks follow the Jacot/Arora recursion; the empirical kernel
converges at the rate m^{-1/2} (Hoeffding: |k_m - k| <= |xᵀx'| √(ln(2/δ)/(2m)) w.p.
>= 1 - δ); and on X = {||x|| = 1, x_d = 1/√2} the kernel xᵀx'(π - arccos xᵀx')/(2π) is
universal (Telgarsky, Thm 4.1), while on the plain sphere it is not.

Claims
------
* ``arccos.order0`` — derivation (rotation to the plane of x, x'; the wedge of angle
  π - θ; polar integration) and identity: :func:`ntkproof.nn.kernels.arccos_kernel`
  (order 0) against an independent quadrature (below), d in {2, 3, 5, 20, 100},
  θ uniform and θ near 0 and near π. Twin ``arccos.order0.twin_pi``: 1/2 - arccos/π.
* ``arccos.order1`` — the same for order 1 and any norms, plus Cho & Saul's
  convention 2·E = ||x|| ||x'|| J_1(θ)/π. Twin ``arccos.order1.twin_cho_saul_factor``:
  Cho & Saul's k_1 (factor 2 kept) taken as the Gaussian expectation.
* ``arccos.two_layer_ntk`` — derivation (gradient inner products, linearity,
  independence of a and w); identities two_layer_relu_ntk = xᵀx'·E[σ'σ'] (+ E[σσ])
  by quadrature, and infinite_width(√d·x, depth=1) = two_layer_relu_ntk(x); Monte
  Carlo over finite networks (``TwoLayer``, trained W or both, a = ±1 or N(0, 1)).
  Twin ``arccos.two_layer_ntk.twin_W_only_for_both``: Θ_W claimed for both layers.
* ``arccos.deep_ntk`` — :func:`ntkproof.nn.kernels.infinite_width` (depth 2 and 3, with and
  without bias, W_std = √2) against Monte Carlo over ``MLP`` networks. Twin
  ``arccos.deep_ntk.twin_no_derivative_factor``: the recursion without the chain-rule
  factor, Θ = Σ_h Σ^{(h)} (a sum of NNGP kernels).
* ``arccos.empirical_convergence`` — rate: |k_m - k| = Θ(m^{-1/2}) over
  m = 64 … 65536 (attained, slack 0.1). Twin ``.twin_rate_m_inverse``: m^{-1}.
* ``arccos.hoeffding`` — probabilistic bound at δ = 0.05, with its tightness (the
  (1-δ)-quantile of |k_m - k| / bound, CLT-predicted ≈ 0.57 at p = 1/4). Twins
  ``.twin_no_sqrt`` (|xᵀx'| ln(2/δ)/(2m)) and ``.twin_small_constant`` (√(ln(2/δ)/(32m))).
* ``arccos.universality`` — derivation (Maclaurin coefficients of f(z) = g(z + 1/2),
  g(s) = s/4 + s arcsin(s)/(2π), positive to order 30, plus the general-term argument);
  Gram matrices on X positive definite (λ_min above its roundoff floor, 50 digits on
  mpmath); kernel interpolation of a fixed target on X converges (upper rate n^{-1/2},
  slack 0.1; measured ≈ n^{-1.3}). Twin ``arccos.universality.twin_sphere``:
  "universal on the sphere without the bias coordinate" — the interpolation error of
  the odd degree-3 harmonic x1 x2 x3 stays at about its norm, so the rate claim is
  FALSIFIED.

Source
------
M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27), §4.3 (kernel at
initialisation) and Theorem 4.1 (universality); Y. Cho & L. Saul, *Kernel Methods for
Deep Learning*, NeurIPS 2009, eqs. (1)-(3); A. Jacot, F. Gabriel, C. Hongler (2018),
Thm 1; S. Arora et al. (2019), eq. (7)-(9) recursion; Steinwart & Christmann (2008),
Cor. 4.57. Notes: ``research/theorems.md`` §1.4, §1.6, §2.

Tolerances and independence
---------------------------
* The quadrature route never sees an arccos: with q = ||x||², k = xᵀx' and
  det = q q' - k² (computed by Lagrange's identity Σ_{i<j}(x_i x'_j - x_j x'_i)², free of
  cancellation), (wᵀx, wᵀx') = (√q z1, a z1 + c z2) with a = k/√q, c = √(det/q), and
  E[1(u>0)1(v>0)] = ∫_0^∞ φ(z) Φ(az/c) dz, E[relu(u) relu(v)] = √q ∫_0^∞ z φ(z)
  (az Φ(az/c) + c φ(az/c)) dz, by tanh-sinh quadrature (mpmath) split at z = c/|a|.
  On numpy/torch it runs at 20 digits and is rounded to float64; on mpmath at 60 digits.
* Scales: order 0 is a difference of π and θ, so roundoff is relative to 1/2 (the
  size of π/(2π)); order 1 relative to ||x|| ||x'|| (1 + 2π)/(2π). float64: θ >= 1e-4
  from 0 and π (arccos amplifies a 1e-16 error in cos θ to 1e-16/sin θ); mpmath: 1e-9.
* Monte Carlo checks are statistical tests written as bounds: for each case, S seeds
  of the eNTK give per-entry t statistics t = (mean - Θ)/(sd/√S); the bound is
  max|t| <= t_{S-1}(1 - α/(2K)) with α = 1e-3 and K the number of entries tested in
  the claim (Bonferroni), so a true kernel is rejected in fewer than 1 run in 1000.
  Deep networks carry an O(1/m) finite-width bias; width and seeds are chosen so that
  the bias stays below about 1.3 standard errors (measured: 2.5 at m = 256, S = 40).
* Rates, Hoeffding and the universality rate are statistical statements about random
  networks/points; float64 roundoff is 1e-12 below their Monte Carlo error, so on
  mpmath they run their networks in float64 (recorded as ``precision_note``).
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import stats

from ntkproof import Fixed, claim
from ntkproof.derivation import Derivation, Step
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.flow import kernel_regression
from ntkproof.nn.kernels import arccos_kernel, infinite_width, two_layer_relu_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.rng import generator, spawn, unit_vectors

SOURCE = ("Telgarsky, DLT notes (2021-10-27), §4.3; Cho & Saul, NeurIPS 2009, eqs. (1)-(3)")
SOURCE_NTK = ("Telgarsky §4.3; Jacot, Gabriel, Hongler 2018, Thm 1; Arora et al. 2019, "
              "arXiv 1904.11955, §3 recursion")
SOURCE_UNIV = ("Telgarsky, DLT notes (2021-10-27), Thm 4.1; Steinwart & Christmann 2008, "
               "Cor. 4.57")
TWIN_CASES = 8  # a twin of an identity fails at every case (gap >= 1e-5 relative)
DERIVATION_POINTS = 8  # 50-digit spot checks per step (quadrature steps cost ~0.1 s each)
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
    """The quadrature route in the backend's precision (a float64 number off mpmath)."""
    xn, yn = b.to_numpy(x), b.to_numpy(y)
    if b.name == "mpmath":
        return gaussian_pair_expectation(order, xn, yn, digits=b.digits + 10)
    return float(gaussian_pair_expectation(order, xn, yn, digits=20))


def _norm(b, v):
    return b.sqrt(b.sum(v * v))


def angle_space(backend_name: str) -> Fixed:
    """Pairs (x, y) in R^d at angle θ: uniform, near 0 or near π; norms in [1/√10, √10]."""
    closest = 1e-9 if backend_name == "mpmath" else 1e-4

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


def _n_cases(ntk) -> int:
    return ntk.budget.pick(quick=12, standard=32) if ntk.backend.name == "mpmath" else \
        ntk.budget.pick(quick=24, standard=256)


# -- derivations ---------------------------------------------------------------------
THETA = sp.Symbol("theta", positive=True)
R = sp.Symbol("r", positive=True)
T = sp.Symbol("t", real=True)
RHO = sp.Symbol("rho", real=True)
NX, NY = sp.Symbol("n_x", positive=True), sp.Symbol("n_y", positive=True)
GAUSS_POLAR = R * sp.exp(-R**2 / 2) / (2 * sp.pi)   # density of N(0, I_2) times r
J1 = sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)
_ANGLE_DOMAIN = {THETA: (0.01, 3.13), RHO: (-0.99, 0.99), NX: (0.2, 3.0), NY: (0.2, 3.0)}
_WEDGE = sp.Min(sp.pi / 2, THETA + sp.pi / 2) - sp.Max(-sp.pi / 2, THETA - sp.pi / 2)


def _rotation_step() -> Step:
    return Step(sp.cos(THETA)**2 + sp.sin(THETA)**2, "==", 1,
                "rotational invariance: rotate x to e1 and x' into span(e1, e2); then "
                "(wᵀx, wᵀx') = (w1, w1 cos θ + w2 sin θ), whose covariance [[1, cos θ], "
                "[cos θ, 1]] is that of (wᵀx, wᵀx') because cos²θ + sin²θ = 1; w3..wd integrate to 1")


def _wedge_step() -> Step:
    return Step(_WEDGE, "==", sp.pi - THETA,
                "in polar coordinates w = r(cos t, sin t), w1 > 0 iff |t| < π/2 and "
                "w1 cos θ + w2 sin θ = r cos(t - θ) > 0 iff |t - θ| < π/2: their intersection "
                "is the wedge (θ - π/2, π/2) of angle π - θ (0 <= θ <= π)")


def order0_derivation() -> Derivation:
    steps = (
        _rotation_step(),
        _wedge_step(),
        Step(_WEDGE * sp.Integral(GAUSS_POLAR, (R, 0, sp.oo)), "==", (sp.pi - THETA) / (2 * sp.pi),
             "the 2-D Gaussian integral over the wedge in polar coordinates: "
             "(wedge angle)·∫_0^∞ r e^{-r²/2}/(2π) dr"),
        Step((sp.pi - sp.acos(RHO)) / (2 * sp.pi), "==", sp.Rational(1, 2) - sp.acos(RHO) / (2 * sp.pi),
             "unit x, x': θ = arccos(xᵀx')"),
        Step(2 * (sp.pi - THETA) / (2 * sp.pi), "==", 1 - THETA / sp.pi,
             "Cho & Saul's k_0 carries a leading 2: k_0 = 2·E = 1 - θ/π"),
    )
    return Derivation("E[σ'(wᵀx)σ'(wᵀx')] = (π - θ)/(2π) for ReLU", steps, domain=_ANGLE_DOMAIN)


def order1_derivation() -> Derivation:
    angular = sp.Integral(sp.cos(T) * sp.cos(T - THETA), (T, THETA - sp.pi / 2, sp.pi / 2))
    radial = sp.Integral(R**2 * GAUSS_POLAR, (R, 0, sp.oo))
    steps = (
        _rotation_step(),
        _wedge_step(),
        Step(radial, "==", 1 / sp.pi,
             "relu(wᵀx) relu(wᵀx') = r² cos t cos(t - θ) on the wedge, 0 off it: radial part "
             "∫_0^∞ r² · r e^{-r²/2}/(2π) dr"),
        Step(angular, "==", J1 / 2, "angular part over the wedge (θ - π/2, π/2)"),
        Step(NX * NY * radial * angular, "==", NX * NY * J1 / (2 * sp.pi),
             "relu is positively homogeneous: relu(||x|| z) = ||x|| relu(z), so the norms factor out"),
        Step(2 * NX * NY * J1 / (2 * sp.pi), "==", NX * NY * J1 / sp.pi,
             "Cho & Saul's k_1 = 2·E = ||x|| ||x'|| J_1(θ)/π (their leading factor 2)"),
    )
    return Derivation("E[relu(wᵀx) relu(wᵀx')] = ||x|| ||x'|| (sin θ + (π - θ) cos θ)/(2π)",
                      steps, domain=_ANGLE_DOMAIN)


def two_layer_derivation() -> Derivation:
    m = sp.Symbol("m", positive=True, integer=True)
    ea2, p0, p1 = sp.Symbol("Ea2", positive=True), sp.Symbol("p0", positive=True), \
        sp.Symbol("p1", positive=True)
    theta_w = RHO * (sp.pi - sp.acos(RHO)) / (2 * sp.pi)
    theta_a = (sp.sqrt(1 - RHO**2) + (sp.pi - sp.acos(RHO)) * RHO) / (2 * sp.pi)
    steps = (
        Step(m * (RHO * ea2 * p0) / m, "==", RHO * ea2 * p0,
             "Θ_W,m = xᵀx' (1/m) Σ_j a_j² σ'(w_jᵀx) σ'(w_jᵀx') (∂f/∂w_j = m^{-1/2} a_j σ' x); "
             "the mean of m terms with equal means, by linearity and independence of a_j and w_j each term has mean "
             "xᵀx' E[a²] E[σ'σ'] (p0 = E[σ'σ'])"),
        Step(m * p1 / m, "==", p1,
             "Θ_a,m = (1/m) Σ_j σ(w_jᵀx) σ(w_jᵀx'), a mean of m terms, has mean p1 = E[σσ] (∂f/∂a_j = m^{-1/2} σ)"),
        Step((RHO * ea2 * p0).subs({ea2: 1, p0: (sp.pi - sp.acos(RHO)) / (2 * sp.pi)}), "==",
             theta_w, "E a² = 1 and order 0 (unit inputs): Θ_W = xᵀx'(π - θ)/(2π)"),
        Step(theta_w + theta_a, "==",
             (RHO * (sp.pi - sp.acos(RHO)) + sp.sqrt(1 - RHO**2) + (sp.pi - sp.acos(RHO)) * RHO)
             / (2 * sp.pi),
             "both layers trained: Θ = Θ_W + Θ_a with order 1 (sin θ = √(1 - ρ²))"),
    )
    return Derivation("two-layer ReLU NTK: Θ_W = xᵀx'(π-θ)/(2π), Θ = Θ_W + E[σσ]", steps,
                      domain={**_ANGLE_DOMAIN, m: (1, 50), ea2: (0.5, 2.0), p0: (0.1, 0.5),
                              p1: (0.1, 0.5)})


UNIV_ORDER = 30
S_SYM, Z_SYM = sp.Symbol("s", real=True), sp.Symbol("z", real=True)
K_SYM = sp.Symbol("k", integer=True, nonnegative=True)
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


def universality_derivation(order: int = UNIV_ORDER) -> Derivation:
    g = S_SYM / 4 + S_SYM * sp.asin(S_SYM) / (2 * sp.pi)
    c_k = sp.factorial(2 * K_SYM) / (4**K_SYM * sp.factorial(K_SYM)**2 * (2 * K_SYM + 1))
    steps = [
        Step(sp.acos(S_SYM), "==", sp.pi / 2 - sp.asin(S_SYM),
             "arccos = π/2 - arcsin: equal at s = 0, with equal derivatives",
             method="derivative", variable=S_SYM, base=0, order=1),
        Step(S_SYM * (sp.pi - (sp.pi / 2 - sp.asin(S_SYM))) / (2 * sp.pi), "==", g,
             "k(x, x') = g(xᵀx') with g(s) = s(π - arccos s)/(2π) = s/4 + s arcsin(s)/(2π)"),
        Step(c_k, ">", 0,
             "general term: arcsin(s) = Σ_k c_k s^{2k+1}, c_k = (2k)!/(4^k k!² (2k+1)) > 0, so "
             "g = s/4 + Σ_k c_k s^{2k+2}/(2π) has g_1 = 1/4, g_{2k+2} = c_k/(2π) > 0 and all other "
             "coefficients 0 (constant term and odd powers >= 3: why the bias is needed)",
             method="nonnegative"),
        Step(c_k * (2 * K_SYM + 2) / (4 * sp.pi), ">", 0,
             "x = (u, 1/√2) gives xᵀx' = uᵀu' + 1/2, k = f(uᵀu'), f(z) = g(z + 1/2); "
             "f_n = Σ_{j>=n} g_j C(j, n) 2^{n-j} (every term >= 0). n = 2k+2 even: f_n >= "
             "g_n > 0; n = 2k+1 odd: f_n >= g_{n+1}(n+1)/2 = c_k(2k+2)/(4π) > 0; n = 0: "
             "f_0 = g(1/2) > 0. So every coefficient of f is positive",
             method="nonnegative"),
        Step(g.subs(S_SYM, 1), "==", sp.Rational(1, 2),
             "Σ_n f_n (1/2)^n = f(1/2) = g(1) = 1/2 < ∞: the series converges on the boundary "
             "||u||² = 1/2 of X, so the feature map of Steinwart-Christmann Cor. 4.57 is defined "
             "on X and its RKHS contains every polynomial: universal (Stone-Weierstrass)"),
    ]
    steps.append(Step(sp.diff(sp.asin(Z_SYM + sp.Rational(1, 2)), Z_SYM), "==", DARCSIN,
                      "d/dz arcsin(z + 1/2) = (1 - (z + 1/2)²)^{-1/2}: the series of f below "
                      "integrates this algebraic function's series term by term"))
    arcsin = sp.series(sp.asin(S_SYM), S_SYM, 0, 2 * 8 + 2).removeO()
    for kk in range(0, 9):
        steps.append(Step(arcsin.coeff(S_SYM, 2 * kk + 1), "==", c_k.subs(K_SYM, kk),
                          f"the general arcsin coefficient at k = {kk}, against sympy's series"))
    for n, fn in enumerate(universality_coefficients(order)):
        steps.append(Step(fn, ">", 0, f"Maclaurin coefficient f_{n} of f(z) = g(z + 1/2), "
                          "from sympy's series, is positive", method="nonnegative"))
    return Derivation(f"Telgarsky Thm 4.1: f(z) = g(z + 1/2) has positive coefficients "
                      f"(checked to order {order} and in general)", tuple(steps),
                      domain={S_SYM: (-0.99, 0.99), Z_SYM: (-0.45, 0.45), K_SYM: (0, 40)})


# -- order 0 ---------------------------------------------------------------------------
def order0_case(b, x, y, theta=None, d=None):
    """(quadrature E[σ'σ'], arccos_kernel order 0, scale 1/2)."""
    rhs = arccos_kernel(x[None, :], y[None, :], order=0, backend=b)[0, 0]
    return _expectation(b, 0, x, y), rhs, 0.5


@claim("arccos.order0", kind="identity", title="arc-cosine kernel of order 0",
       statement=r"E_w[\sigma'(w^\top x)\sigma'(w^\top x')] = \frac{\pi-\theta}{2\pi}"
                 r" = \frac12 - \frac{\arccos(x^\top x')}{2\pi}", source=SOURCE)
def test_order0(ntk):
    ntk.derivation(order0_derivation(), points=DERIVATION_POINTS)
    ntk.identity(order0_case, angle_space(ntk.backend.name), n=_n_cases(ntk))


@claim("arccos.order0.twin_pi", kind="identity", title="twin: 1/2 - arccos/π",
       statement=r"E[\sigma'\sigma'] = \frac12 - \frac{\arccos(x^\top x')}{\pi}",
       source="falsified twin", twin_of="arccos.order0")
def test_order0_twin_pi(ntk):
    def case(b, x, y, theta=None, d=None):
        rho = b.clip(b.sum(x * y) / (_norm(b, x) * _norm(b, y)), -1.0, 1.0)
        return _expectation(b, 0, x, y), 0.5 - b.arccos(rho) / b.pi(), 0.5

    ntk.identity(case, angle_space(ntk.backend.name), n=TWIN_CASES)


# -- order 1 ---------------------------------------------------------------------------
def _order1_scale(b, x, y):
    return _norm(b, x) * _norm(b, y) * (1 + 2 * b.pi()) / (2 * b.pi())


def order1_case(b, x, y, theta=None, d=None):
    rhs = arccos_kernel(x[None, :], y[None, :], order=1, backend=b)[0, 0]
    return _expectation(b, 1, x, y), rhs, _order1_scale(b, x, y)


def cho_saul_case(b, x, y, theta=None, d=None):
    """2·E[relu relu] against Cho & Saul's k_1 = ||x|| ||y|| J_1(θ)/π (their eq. (3))."""
    nx, ny = _norm(b, x), _norm(b, y)
    th = b.arccos(b.clip(b.sum(x * y) / (nx * ny), -1.0, 1.0))
    k1 = nx * ny * (b.sin(th) + (b.pi() - th) * b.cos(th)) / b.pi()
    return 2 * _expectation(b, 1, x, y), k1, 2 * _order1_scale(b, x, y)


@claim("arccos.order1", kind="identity", title="arc-cosine kernel of order 1 (and Cho-Saul's 2)",
       statement=r"E_w[\mathrm{relu}(w^\top x)\mathrm{relu}(w^\top x')] = \|x\|\|x'\|"
                 r"\frac{\sin\theta+(\pi-\theta)\cos\theta}{2\pi} = \tfrac12 k_1^{\mathrm{CS}}",
       source=SOURCE)
def test_order1(ntk):
    ntk.derivation(order1_derivation(), points=DERIVATION_POINTS)
    space, n = angle_space(ntk.backend.name), _n_cases(ntk)
    ntk.identity(order1_case, space, n=n)
    ntk.identity(cho_saul_case, space, n=max(4, n // 4))


@claim("arccos.order1.twin_cho_saul_factor", kind="identity",
       title="twin: Cho-Saul's k_1 (factor 2) as the Gaussian expectation",
       statement=r"E[\mathrm{relu}\,\mathrm{relu}] = \|x\|\|x'\| J_1(\theta)/\pi",
       source="falsified twin", twin_of="arccos.order1")
def test_order1_twin_cho_saul(ntk):
    def case(b, x, y, theta=None, d=None):
        lhs, rhs, scale = order1_case(b, x, y)
        return lhs, 2 * rhs, scale

    ntk.identity(case, angle_space(ntk.backend.name), n=TWIN_CASES)


# -- two-layer NTK ---------------------------------------------------------------------
def two_layer_closed_case(b, x, y, trained, theta=None, d=None):
    """two_layer_relu_ntk against xᵀy·E[σ'σ'] (+ E[σσ]) by quadrature."""
    rhs = two_layer_relu_ntk(x[None, :], y[None, :], trained=trained, backend=b)[0, 0]
    w_part = b.sum(x * y) * _expectation(b, 0, x, y) if trained != "a" else 0
    a_part = _expectation(b, 1, x, y) if trained != "W" else 0
    return w_part + a_part, rhs, 2 * _order1_scale(b, x, y)


def depth1_case(b, x, y, trained=None, theta=None, d=None):
    """infinite_width(√d·x, depth=1) (neural-tangents scaling) = two_layer_relu_ntk(x)."""
    rd = b.sqrt(b.scalar(x.shape[0]))
    lhs = infinite_width((x * rd)[None, :], (y * rd)[None, :], depth=1, backend=b).ntk[0, 0]
    rhs = two_layer_relu_ntk(x[None, :], y[None, :], backend=b)[0, 0]
    return lhs, rhs, 2 * _order1_scale(b, x, y)


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


def two_layer_mc(ntk, *, claimed: str, n_cases: int):
    """eNTK of TwoLayer networks averaged over seeds vs two_layer_relu_ntk(trained=claimed)."""
    b = ntk.backend
    m, S = (32, 12) if b.name == "mpmath" else (ntk.budget.pick(quick=256, standard=1024),
                                                  ntk.budget.pick(quick=30, standard=60))
    d, tcrit = 4, t_critical(S, n_cases * N_POINTS * (N_POINTS + 1) // 2)
    configs = itertools.cycle([("W", "sign"), ("both", "sign"), ("W", "normal"),
                               ("both", "normal")])

    def draw(rng):
        trained, a_init = next(configs)
        return {"trained": trained, "a_init": a_init, "seed": int(rng.integers(2**62))}

    def case(b, trained, a_init, seed):
        X = unit_vectors(generator(seed), N_POINTS, d)
        ks = np.stack([b.to_numpy(empirical_ntk(TwoLayer(d, m, trained=trained, a_init=a_init,
                                                         seed=s, backend=b), X))
                       for s in spawn(seed, S)])
        limit = b.to_numpy(two_layer_relu_ntk(X, trained=claimed if claimed != "same" else
                                              trained, backend=b))
        return monte_carlo_t(ks, limit), tcrit, tcrit

    ntk.record(mc_width=m, mc_seeds=S, t_critical=tcrit)
    return ntk.bound(case, Fixed(draw), search=False, n=n_cases)


@claim("arccos.two_layer_ntk", kind="identity", title="infinite-width two-layer ReLU NTK",
       statement=r"\Theta_W = x^\top x'\frac{\pi-\theta}{2\pi},\quad \Theta = \Theta_W + "
                 r"\|x\|\|x'\|\frac{\sin\theta+(\pi-\theta)\cos\theta}{2\pi}", source=SOURCE_NTK)
def test_two_layer_ntk(ntk):
    ntk.derivation(two_layer_derivation(), points=DERIVATION_POINTS)
    base = angle_space(ntk.backend.name)
    trained = itertools.cycle(["W", "a", "both"])
    space = Fixed(lambda rng: {**base.draw(rng), "trained": next(trained)})
    n = _n_cases(ntk)
    ntk.identity(two_layer_closed_case, space, n=n)
    ntk.identity(depth1_case, space, n=n)
    two_layer_mc(ntk, claimed="same", n_cases=4)


@claim("arccos.two_layer_ntk.twin_W_only_for_both", kind="bound",
       title="twin: Telgarsky's Θ_W for a network with both layers trained",
       statement=r"\lim_m \Theta_m^{W,a} = x^\top x'\frac{\pi-\theta}{2\pi}",
       source="falsified twin", twin_of="arccos.two_layer_ntk")
def test_two_layer_twin(ntk):
    b = ntk.backend
    m, S = (32, 12) if b.name == "mpmath" else (256, 30)
    d, tcrit = 4, t_critical(S, 2 * 6)

    def case(b, seed):
        X = unit_vectors(generator(seed), N_POINTS, d)
        ks = np.stack([b.to_numpy(empirical_ntk(TwoLayer(d, m, trained="both", seed=s,
                                                         backend=b), X))
                       for s in spawn(seed, S)])
        return monte_carlo_t(ks, b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))), \
            tcrit, tcrit

    ntk.bound(case, Fixed(lambda rng: {"seed": int(rng.integers(2**62))}), search=False, n=2)


# -- deep NTK --------------------------------------------------------------------------
DEEP_CONFIGS = [(2, 0.0), (2, 0.5), (3, 0.0), (3, 0.5)]
W_STD = math.sqrt(2.0)


def wrong_recursion(X, depth: int, b_std: float):
    """Twin: Θ = Σ_h Σ^{(h)} (the chain-rule factor W_std² Σ̇ dropped)."""
    d = X.shape[1]
    total = W_STD**2 * (X @ X.T) / d + b_std**2
    for h in range(1, depth + 1):
        total = total + infinite_width(X, depth=h, W_std=W_STD, b_std=b_std).nngp
    return total


def deep_mc(ntk, *, wrong: bool):
    m = ntk.budget.pick(quick=512, standard=1024)
    S = ntk.budget.pick(quick=20, standard=40)
    d, n_cases = 5, len(DEEP_CONFIGS)
    tcrit = t_critical(S, n_cases * N_POINTS * (N_POINTS + 1) // 2)
    configs = itertools.cycle(DEEP_CONFIGS)
    nb = _float_backend(ntk)  # float64 networks on the mpmath backend (module notes)

    def draw(rng):
        depth, b_std = next(configs)
        return {"depth": depth, "b_std": b_std, "seed": int(rng.integers(2**62))}

    def case(_, depth, b_std, seed):
        b = nb
        depth, b_std = int(depth), float(b_std)
        X = unit_vectors(generator(seed), N_POINTS, d) * math.sqrt(d)
        ks = np.stack([b.to_numpy(empirical_ntk(MLP(depth, m, "relu", W_std=W_STD, b_std=b_std,
                                                    d=d, seed=s, backend=b), X))
                       for s in spawn(seed, S)])
        limit = wrong_recursion(X, depth, b_std) if wrong else \
            b.to_numpy(infinite_width(X, depth=depth, W_std=W_STD, b_std=b_std, backend=b).ntk)
        return monte_carlo_t(ks, limit), tcrit, tcrit

    ntk.record(mc_width=m, mc_seeds=S, t_critical=tcrit)
    ntk.bound(case, Fixed(draw), search=False, n=n_cases)


@claim("arccos.deep_ntk", kind="bound",
       title="deep ReLU NTK recursion (depth 2, 3; with and without bias) vs finite networks",
       statement=r"\max_{ij}|\bar\Theta^{(m)}_{ij}-\Theta^{(L)}_{ij}|/\mathrm{se}_{ij} \le "
                 r"t_{S-1}(1-\alpha/2K)", source=SOURCE_NTK)
def test_deep_ntk(ntk):
    deep_mc(ntk, wrong=False)


@claim("arccos.deep_ntk.twin_no_derivative_factor", kind="bound",
       title="twin: the recursion without the chain-rule factor (Θ = Σ_h Σ^{(h)})",
       statement=r"\Theta^{(L)} = \sum_{h=1}^{L+1}\Sigma^{(h)}", source="falsified twin",
       twin_of="arccos.deep_ntk")
def test_deep_ntk_twin(ntk):
    deep_mc(ntk, wrong=True)


# -- convergence rate and Hoeffding ----------------------------------------------------
RATE_D = 5
RATE_WIDTHS = [64, 256, 1024, 4096, 16384, 65536]


def _float_backend(ntk):
    from ntkproof import get_backend

    if ntk.backend.name == "mpmath":
        ntk.record(precision_note=FLOAT_NOTE)
        return get_backend("numpy")
    return ntk.backend


def kernel_error(b, X, m: int, seed: int, limit: float) -> float:
    """|k_m(x, y) - k(x, y)| for a TwoLayer network trained in W (a = ±1)."""
    km = b.to_numpy(empirical_ntk(TwoLayer(X.shape[1], m, trained="W", seed=seed, backend=b),
                                  X))[0, 1]
    return abs(float(km) - limit)


def _rate(ntk, claimed: float):
    b = _float_backend(ntk)
    X = unit_vectors(ntk.rng("pair"), 2, RATE_D)
    limit = float(b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))[0, 1])
    seeds = ntk.budget.pick(quick=100, standard=300, thorough=1000)
    ntk.record(pair_cosine=float(X[0] @ X[1]), limit=limit)
    ntk.rate(lambda m, s: kernel_error(b, X, int(m), s, limit), RATE_WIDTHS, claimed=claimed,
             slack=0.1, attained=True, seeds=seeds)


@claim("arccos.empirical_convergence", kind="rate", title="|k_m - k| = Θ(m^{-1/2})",
       statement=r"|k_m(x,x') - k(x,x')| = \Theta(m^{-1/2})", source=SOURCE)
def test_empirical_convergence(ntk):
    _rate(ntk, -0.5)


@claim("arccos.empirical_convergence.twin_rate_m_inverse", kind="rate",
       title="twin: |k_m - k| = Θ(m^{-1})", statement=r"|k_m - k| = \Theta(m^{-1})",
       source="falsified twin", twin_of="arccos.empirical_convergence")
def test_empirical_convergence_twin(ntk):
    _rate(ntk, -1.0)


HOEFFDING_WIDTHS = [256, 1024, 4096]


def hoeffding_draw(b, bound):
    """draw(rng) for ntk.probabilistic_bound: (case, |k_m - k|, bound(|xᵀy|, m))."""
    def draw(rng):
        d, m = int(rng.integers(3, 11)), int(rng.choice(HOEFFDING_WIDTHS))
        X = unit_vectors(rng, 2, d)
        seed = int(rng.integers(2**62))
        limit = float(b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))[0, 1])
        err = kernel_error(b, X, m, seed, limit)
        cos = float(X[0] @ X[1])
        return {"d": d, "m": m, "cos": cos, "seed": seed}, err, bound(abs(cos), m)
    return draw


def hoeffding_bound(c: float, m: int) -> float:
    return c * math.sqrt(math.log(2 / DELTA) / (2 * m))


@claim("arccos.hoeffding", kind="probabilistic_bound",
       title="Hoeffding: |k_m - k| <= |xᵀx'| √(ln(2/δ)/(2m)) w.p. >= 1 - δ",
       statement=r"\Pr\big[|k_m-k| \le |x^\top x'|\sqrt{\ln(2/\delta)/(2m)}\big] \ge 1-\delta",
       source="Telgarsky §4.3 (homework); Hoeffding's inequality for σ'σ' ∈ {0, 1}")
def test_hoeffding(ntk):
    b = _float_backend(ntk)
    d = ntk.probabilistic_bound(hoeffding_draw(b, hoeffding_bound), delta=DELTA)
    ratios = np.asarray(d.data["ratios"])
    p = 0.25  # orthogonal-ish pairs: P(w·x > 0, w·y > 0) ≈ 1/4
    predicted = 2 * math.sqrt(p * (1 - p)) * stats.norm.ppf(1 - DELTA / 2) / \
        math.sqrt(2 * math.log(2 / DELTA))
    ntk.record(ratio_quantile_1_minus_delta=float(np.quantile(ratios, 1 - DELTA)),
               clt_predicted_quantile_at_p_quarter=predicted)


@claim("arccos.hoeffding.twin_no_sqrt", kind="probabilistic_bound",
       title="twin: Hoeffding with the square root dropped",
       statement=r"|k_m-k| \le |x^\top x'|\ln(2/\delta)/(2m)", source="falsified twin",
       twin_of="arccos.hoeffding")
def test_hoeffding_twin_no_sqrt(ntk):
    b = _float_backend(ntk)
    ntk.probabilistic_bound(hoeffding_draw(b, lambda c, m: c * math.log(2 / DELTA) / (2 * m)),
                            delta=DELTA)


@claim("arccos.hoeffding.twin_small_constant", kind="probabilistic_bound",
       title="twin: Hoeffding with 2m replaced by 32m (constant 1/4 of the true one)",
       statement=r"|k_m-k| \le |x^\top x'|\sqrt{\ln(2/\delta)/(32m)}", source="falsified twin",
       twin_of="arccos.hoeffding")
def test_hoeffding_twin_small_constant(ntk):
    b = _float_backend(ntk)
    ntk.probabilistic_bound(hoeffding_draw(b, lambda c, m: hoeffding_bound(c, m) / 4),
                            delta=DELTA)


# -- universality ----------------------------------------------------------------------
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


def gram_eigen_case(b, seed, n):
    """(roundoff floor n·eps·||K||_F, λ_min(K)) for the Gram of n random points of X."""
    X, _ = domain_points(generator(int(seed)), int(n), bias=True)
    K = two_layer_relu_ntk(X, trained="W", backend=b)
    if b.name == "mpmath":
        lam = min(mpmath.eigsy(mpmath.matrix(K.tolist()), eigvals_only=True))
        frob = mpmath.sqrt(mpmath.fsum(v * v for v in K.reshape(-1)))
    else:
        Kn = b.to_numpy(K)
        lam, frob = float(np.linalg.eigvalsh(Kn)[0]), float(np.linalg.norm(Kn))
    return int(n) * b.tol.eps * frob, lam


def interpolation_error(b, n: int, seed: int, *, bias: bool, test) -> float:
    """RMS error on the test points of kernel interpolation of ``target`` from n points."""
    X, s = domain_points(generator(seed), n, bias=bias)
    Xt, st = test
    K = b.to_numpy(two_layer_relu_ntk(X, trained="W", backend=b))
    Kx = b.to_numpy(two_layer_relu_ntk(Xt, X, trained="W", backend=b))
    pred = kernel_regression(K, target(s), k_test_train=Kx).test
    return float(np.sqrt(np.mean((pred - target(st)) ** 2)))


INTERP_NS = [16, 32, 64, 128, 256]


def _interpolation_rate(ntk, *, bias: bool):
    b = _float_backend(ntk)
    test = domain_points(ntk.rng("test"), ntk.budget.pick(quick=1000, standard=3000), bias=bias)
    ntk.rate(lambda n, s: interpolation_error(b, int(n), s, bias=bias, test=test), INTERP_NS,
             claimed=-0.5, slack=0.1, variable="n")


@claim("arccos.universality", kind="derivation",
       title="Telgarsky Thm 4.1: xᵀx'(π - arccos xᵀx')/(2π) is universal on {||x|| = 1, x_d = 1/√2}",
       statement=r"\overline{\mathrm{span}}\{k(\cdot,x_j)\} = C(X),\ "
                 r"X=\{\|x\|=1,\ x_d=1/\sqrt2\}", source=SOURCE_UNIV)
def test_universality(ntk):
    ntk.derivation(universality_derivation(), points=DERIVATION_POINTS)
    sizes = [6, 10] if ntk.backend.name == "mpmath" else [8, 32, 128]
    ntk.bound(gram_eigen_case, Fixed(lambda rng: {"seed": int(rng.integers(2**62)),
                                                  "n": int(rng.choice(sizes))}),
              search=False, n=ntk.budget.pick(quick=6, standard=24))
    _interpolation_rate(ntk, bias=True)


@claim("arccos.universality.twin_sphere", kind="rate",
       title="twin: the same kernel is universal on the plain sphere (no bias coordinate)",
       statement=r"\text{interpolation of } \sqrt{105}\,x_1x_2x_3 \text{ on } S^2 "
                 r"\text{ converges like } n^{-1/2}", source="falsified twin",
       twin_of="arccos.universality")
def test_universality_twin_sphere(ntk):
    _interpolation_rate(ntk, bias=False)


@pytest.mark.parametrize("order", [8])
def test_universality_coefficients_match_theorems_md(order):
    """Pinned: f_0..f_3 ≈ 0.1667, 0.4252, 0.2144, 0.1021 (research/theorems.md §1.6)."""
    got = [float(c) for c in universality_coefficients(order)[:4]]
    assert np.allclose(got, [0.1667, 0.4252, 0.2144, 0.1021], atol=5e-5)
