r"""The NTK class is a reproducing-kernel Hilbert space: the infinite-width NTK is
positive semi-definite, and gradient flow from a zero-output initialisation reaches the
interpolant of least RKHS norm.

Setting (one convention for the whole file)
-------------------------------------------
The infinite-width NTK Θ of the ReLU network ``stax.serial(*[Dense(W_std, b_std), Relu()]
* L, Dense(W_std, b_std))`` in neural-tangents' conventions (every layer trained, K_0 =
x·x'/d; :func:`ntkproof.nn.kernels.infinite_width`, written out in ball arithmetic in
:mod:`ntkproof.theory.rkhs`). Its RKHS :math:`\mathcal H` is the completion of the span of
the sections :math:`Θ(x, ·)` under :math:`\langle Θ(x,·), Θ(x',·)\rangle = Θ(x, x')`, so
:math:`\|\sum_i α_i Θ(x_i, ·)\|^2_{\mathcal H} = α^\top K α` with :math:`K = Θ(X, X)`
(the reproducing property; Telgarsky's notes call the functions :math:`x \mapsto
\langle ∇f(x; W_0), V\rangle` the NTK class, whose kernel at infinite width is Θ).

Statements
----------
* Θ is positive semi-definite: :math:`λ_{\min}(Θ(X, X)) \ge 0` for every finite X (which is
  what makes :math:`\mathcal H` a Hilbert space and the norm above a norm).
* Gradient flow on the kernel model :math:`f_t = \sum_i α_i(t) Θ(x_i, ·)`, on the loss
  :math:`\frac1{2n}\sum_i (f(x_i) - y_i)^2`, from :math:`f_0 = 0`: :math:`α' = -\frac1n(Kα -
  y)`, so :math:`α(t) = K^{-1}(I - e^{-tK/n})y` and, with :math:`K = \sum_k λ_k u_k u_k^\top`,
  :math:`b_k = u_k^\top y`,

  .. math:: \|f_t\|_{\mathcal H}^2 = \sum_k (1 - e^{-tλ_k/n})^2 \frac{b_k^2}{λ_k}
            \le \sum_k \frac{b_k^2}{λ_k} = y^\top K^{-1} y = \|f_\infty\|_{\mathcal H}^2 .

  The norm grows monotonically to that of the limit, the interpolant
  :math:`f_\infty = Θ(·, X)K^{-1}y`.
* Every other interpolant :math:`g ∈ \mathcal H` (:math:`g(X) = y`) is longer: :math:`g =
  f_\infty + h` with :math:`h(X) = 0`, :math:`\langle f_\infty, h\rangle = \sum_i α_i h(x_i) =
  0`, so :math:`\|g\|^2 = \|f_\infty\|^2 + \|h\|^2 \ge \|f_\infty\|^2`.

Claims
------
* ``rkhs.psd_certified`` (bound, CERTIFIED) — for three families of small sets (n = 4, 6,
  8 points of the sphere of R^3, depths 1, 2, 3, with and without bias) whose last point
  moves along an arc of a great circle (a sixth of it, bounded away from the other points
  and their antipodes), every LDLᵀ pivot of the Gram, computed in ball arithmetic from
  the kernel's recursion (80 bits), is certainly positive: positive definite, hence PSD,
  at every point of the arc (:func:`ntkproof.theory.rkhs.smallest_pivot`; branch and
  bound over the arc, ``ntk.certify``). Twin ``.twin_shifted`` (near): the same Gram minus
  1.1·λ_min v vᵀ (λ_min, v its smallest eigenpair in floats at the arc's midpoint),
  whose smallest eigenvalue is -0.1·λ_min: a counterexample at the midpoint.
* ``rkhs.psd`` (bound) — on the backend, for random sets of n = 24 points (16 on mpmath)
  of the sphere of R^4, depths 1–4, with and without bias: λ_max - λ_min <= λ_max, i.e.
  λ_min >= 0 to the backend's tolerance relative to λ_max (tightness 1 - λ_min/λ_max, how
  near singular the set is; known supremum 1, approached by nearly coincident points).
  Eigenvalues by the backend (LAPACK, torch.linalg, mpmath.eigsy at 50 digits). Twin
  ``.twin_shifted`` (near): the shifted Gram as above, ratio 1 + 0.1·λ_min/λ_max > 1.
* ``rkhs.flow_norm`` (identity; derivation PROVED for all n) — the flow from f_0 = 0 on the
  depth-2 NTK (W_std = √2, no bias) with n = 12 points of the sphere of R^3 and labels of a
  random teacher: α(t) by one matrix exponential of the augmented generator (no K⁻¹, no
  eigendecomposition: :func:`ntkproof.theory.rkhs.flow_coefficients`), the RKHS norm
  :math:`α(t)^\top Kα(t)` at 12 times from 1e-5·t_end to t_end, and :math:`y^\top K^{-1}y` by the
  backend's Cholesky solve. Checks: the norm at t_end equals yᵀK⁻¹y (identity); at every
  time it is <= yᵀK⁻¹y (bound, known supremum 1); the derivation in K's eigenbasis (goal
  ``FLOW_NORM_GOAL``: per eigen-direction (1 - e^{-tλ/n})² <= 1, summed with the weights
  b_k²/λ_k >= 0; a Sum to a symbolic n). Precondition: the training residual at t_end,
  ||Kα - y||/||y|| <= 1e-9 (the flow ran long enough; t_end = 40·n/λ_min). Twin
  ``.twin_norm_0p9`` (near): the limit's squared norm is 0.9·yᵀK⁻¹y.
* ``rkhs.min_norm`` (bound) — other interpolants g = f_∞ + h, h the part of Θ(·, Z)β (three
  more centres Z) orthogonal to the sections at X, so h(X) = 0; β drawn and searched
  (worst-case search maximising ||f_∞||²/||g||², which tends to 1 as β → 0: known supremum
  1). Checks: g interpolates (identity, g(X) = y) and ||f_∞||² <= ||g||² (bound), with
  ||f_∞||² the flow's limit norm (``flow_coefficients`` at t_end) and ||g||² from the Gram
  on X ∪ Z. Precondition: the flow's training residual at t_end <= 1e-9 (as above). Twins:
  ``.twin_factor_0p9`` (near): ||f_∞||² <= 0.9·||g||² (every other
  interpolant 11% longer; small β refute it); ``.twin_nonzero_init`` (far): the flow from
  f_0 = c·Θ(z, ·) (z a fourth centre, c = 1) reaches an interpolant no longer than every
  other — it reaches f_0 + Θ(·,X)K⁻¹(y - f_0(X)), longer than f_∞ by the part of f_0
  orthogonal to the sections at X.

Source
------
M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27), §4.3 (the kernel at
initialisation and the NTK class as a kernel space) and §4.1 (the tangent model); the
positive definiteness of the NTK on the sphere for a non-polynomial activation: Jacot,
Gabriel & Hongler 2018 (NeurIPS 2018, arXiv 1806.07572), §4 (positive-definiteness of the
limiting NTK; a proposition there: the restriction to the sphere is positive definite);
the RKHS, its reproducing property and the minimum-norm interpolant: Schölkopf, Herbrich &
Smola 2001 (COLT 2001), Theorem 1 (the representer theorem); gradient flow on the kernel
model: Jacot et al. 2018, the least-squares section (``f_t = f* + e^{-tΠ}(f_0 - f*)``), and
Lee et al. 2019 (NeurIPS 2019, arXiv 1902.06720), §2.2 (the linearised network's flow, in
closed form). The section and equation numbers of Jacot et al. and Lee et al. are quoted
from their arXiv versions as remembered, not re-read for this file; the statements are
derived or checked here.

Tolerances and sizes
--------------------
Identities at the backend's rtol (1e-10 on float64): the flow's limit norm and yᵀK⁻¹y are
computed by different routes (a matrix exponential, a Cholesky solve) of a 12 × 12 Gram
whose condition number is about 70 (recorded), so they agree to ~1e-15. The bound
λ_min >= 0 is relative to λ_max (the scale of the Gram's roundoff); the random sets'
λ_min/λ_max is 1e-3 … 2e-2 (recorded), so the shifted twin exceeds the bound by 1e-4 …
2e-3 of λ_max, 1e6 times the tolerance. The certificates run at 80 bits; each takes
under 0.2 s. Everything runs on numpy, torch and mpmath (50 digits; the random sets have
16 points there).
"""

from __future__ import annotations

import math

import flint
import numpy as np
import sympy as sp

from ntkproof import Box, Twin, claim
from ntkproof.derivation import Derivation, Step
from ntkproof.nn.data import sphere_teacher
from ntkproof.nn.kernels import infinite_width
from ntkproof.theory.rkhs import (
    arb_ntk_gram,
    circle_points,
    flow_coefficients,
    other_interpolant,
    rkhs_norm,
    shifted,
    smallest_pivot,
)

SOURCE = ("Telgarsky, DLT notes (2021-10-27), §4.3; Jacot, Gabriel & Hongler 2018 (NeurIPS), "
          "§4 (positive-definiteness of the limiting NTK)")
SHIFT_NEAR = ("the Gram minus 1.1·λ_min v vᵀ: its smallest eigenvalue is -0.1·λ_min, 10% of "
              "λ_min past the PSD boundary")


# -- positive semi-definiteness, certified ----------------------------------------------

#: (points, depth, W_std, b_std) of the certified families.
CERT_FAMILIES = ((4, 1, 1.0, 0.0), (6, 2, math.sqrt(2), 0.0), (8, 3, math.sqrt(2), 0.5))


def _arc_gram(fixed: np.ndarray, p: np.ndarray, q: np.ndarray, t, depth: int, w: float,
              bias: float) -> list[list]:
    moving = [t.cos() * flint.arb(float(a)) + t.sin() * flint.arb(float(c))
              for a, c in zip(p, q, strict=True)]
    pts = [[float(v) for v in row] for row in fixed] + [moving]
    return arb_ntk_gram(pts, depth=depth, W_std=w, b_std=bias)


def _arc_family(ntk, i: int, n: int, depth: int, w: float, bias: float, shift: float):
    """evaluate(t) -> (0, smallest LDLᵀ pivot of the Gram at x(t)) and the arc; with
    ``shift`` the Gram minus shift·λ_min v vᵀ (λ_min, v at the arc's midpoint, floats)."""
    fixed, p, q, (t0, t1) = circle_points(n, 3, rng=ntk.rng(f"arc{i}"))
    correction = None
    if shift:
        tm = flint.arb((t0 + t1) / 2)
        mid = np.array([[float(g.mid()) for g in row]
                        for row in _arc_gram(fixed, p, q, tm, depth, w, bias)])
        K_shift, _ = shifted(mid, shift)
        correction = K_shift - mid     # exact floats, added in ball arithmetic

    def evaluate(t):
        G = _arc_gram(fixed, p, q, t, depth, w, bias)
        if correction is not None:
            G = [[G[a][c] + float(correction[a, c]) for c in range(n)] for a in range(n)]
        return flint.arb(0), smallest_pivot(G)
    return evaluate, (t0, t1)


@claim("rkhs.psd_certified", kind="bound",
       title="The infinite-width ReLU NTK is positive definite on small sets (certified along arcs)",
       statement=r"λ_{\min}\big(Θ^{(L)}(X_t, X_t)\big) > 0\ \text{for every } t \text{ of the "
                 r"arc: every LDL}^\top\text{ pivot certainly} > 0",
       source=SOURCE + "; certified here in ball arithmetic (python-flint arb)",
       twins=[Twin("twin_shifted", title="twin: the Gram minus 1.1·λ_min v vᵀ is PSD",
                   statement=r"λ_{\min}\big(Θ - 1.1\,λ_{\min} v v^\top\big) \ge 0",
                   near=SHIFT_NEAR, shift=1.1)])
def test_psd_certified(ntk, shift=0.0):
    for i, (n, depth, w, bias) in enumerate(CERT_FAMILIES):
        evaluate, arc = _arc_family(ntk, i, n, depth, w, bias, shift)
        ntk.certify(evaluate, {"t": arc}, prec=80, time_limit=20.0,
                    note=f"n = {n} points, depth {depth}, W_std = {w:.4g}, b_std = {bias:g}: "
                         "0 <= the smallest LDLᵀ pivot of the Gram")


# -- positive semi-definiteness on random sets, on the backend -----------------------------

def _psd_cases(ntk, shift: float) -> list[dict]:
    rng = ntk.rng("sets")
    n = ntk.pick(quick=24, standard=48, mpmath=16)
    cases = []
    for i in range(ntk.pick(quick=8, standard=24, mpmath=4)):
        X = rng.standard_normal((n, 4))
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        depth, bias = 1 + i % 4, (0.0, 0.5)[(i // 4) % 2]
        K = ntk.backend.asarray(infinite_width(X, depth=depth, W_std=math.sqrt(2), b_std=bias,
                                               backend=ntk.backend).ntk)
        if shift:
            K_np, _ = shifted(ntk.backend.to_numpy(K), shift)
            K = K + ntk.backend.asarray(K_np - ntk.backend.to_numpy(K))
        cases.append({"i": i, "depth": depth, "b_std": bias, "K": K})
    return cases


@claim("rkhs.psd", kind="bound",
       title="The infinite-width ReLU NTK is positive semi-definite on random sets",
       statement=r"λ_{\max}(K) - λ_{\min}(K) \le λ_{\max}(K),\ K = Θ^{(L)}(X, X)",
       source=SOURCE, known_sup=1.0,
       twins=[Twin("twin_shifted", title="twin: the Gram minus 1.1·λ_min v vᵀ is PSD",
                   statement=r"λ_{\min}\big(K - 1.1\,λ_{\min} v v^\top\big) \ge 0",
                   near=SHIFT_NEAR, shift=1.1)])
def test_psd(ntk, shift=0.0):
    cases = _psd_cases(ntk, shift)
    Ks = {c["i"]: c["K"] for c in cases}

    def evaluate(b, i, depth, b_std):  # noqa: ARG001 - depth, b_std shown in the report
        lam = b.eigvalsh(Ks[i])
        lo, hi = lam[0], lam[-1]
        return hi - lo, hi, hi
    d = ntk.bound(evaluate, [{k: c[k] for k in ("i", "depth", "b_std")} for c in cases])
    ntk.record(lambda_min_over_max=[1 - r for r in d.data["ratios"]])


# -- gradient flow from zero reaches the minimum-norm interpolant -------------------------

n_, k_ = sp.Symbol("n", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
s_ = sp.Symbol("s", nonnegative=True)              # t/n
LAM, B = sp.IndexedBase("lambda", positive=True), sp.IndexedBase("b", real=True)
_DECAY = 1 - sp.exp(-s_ * LAM[k_])
#: ||f_t||² <= ||f_∞||² in K's eigenbasis (λ_k its eigenvalues, b_k = u_kᵀy, s = t/n).
FLOW_NORM_GOAL = sp.Le(sp.Sum(_DECAY**2 * B[k_] ** 2 / LAM[k_], (k_, 1, n_)),
                       sp.Sum(B[k_] ** 2 / LAM[k_], (k_, 1, n_)), evaluate=False)


def flow_norm_derivation() -> Derivation:
    """For all n: per eigen-direction (1 - e^{-sλ})² <= 1 (a lemma), then the sum, term by
    term with the weights b_k²/λ_k >= 0."""
    j = sp.Symbol("j", integer=True, positive=True)
    steps = (
        Step(_DECAY**2, "<=", 1, "per eigen-direction: 1 - (1 - e^{-sλ_k})² = e^{-sλ_k}(2 - "
                                 "e^{-sλ_k}) >= 0 since sλ_k >= 0", method="nonnegative"),
        Step(FLOW_NORM_GOAL.lhs, "<=", FLOW_NORM_GOAL.rhs,
             "term by term, by step 1, with the weights b_k²/λ_k >= 0 (the sum is monotone in "
             "each factor)", method="hypothesis", hypothesis=1))
    return Derivation(
        "The RKHS norm along the flow from f_0 = 0 stays below that of its limit (all n)",
        steps, goal=FLOW_NORM_GOAL,
        domain={n_: (1, 8), k_: (1, 8), s_: (0.0, 5.0)},
        witnesses={LAM: [sp.Lambda(j, j**2 / 3 + sp.Rational(1, 10)), sp.Lambda(j, 1 / (j + 1))],
                   B: [sp.Lambda(j, sp.sin(j)), sp.Lambda(j, j - 2)]})


FLOW_N, FLOW_D, FLOW_TIMES = 12, 3, 12


def _flow_problem(ntk):
    """The depth-2 NTK Gram on n = 12 points of the sphere of R^3, labels of a teacher."""
    b = ntk.backend
    data = sphere_teacher(FLOW_N, 3, FLOW_D, seed=ntk.seeds(1, "data")[0])
    X = np.vstack([data.x_train, data.x_test])
    K_all = infinite_width(X, depth=2, W_std=math.sqrt(2), backend=b).ntk
    K = b.asarray(K_all)[:FLOW_N, :FLOW_N]
    return data, b.asarray(K_all), K, b.asarray(data.y_train)


def _flow_end(K_np: np.ndarray) -> float:
    """t_end = 40·n/λ_min: the slowest mode decays by e^{-40} < 1e-17."""
    return 40.0 * FLOW_N / float(np.linalg.eigvalsh(K_np)[0])


def _min_norm(b, K, y):
    """yᵀK⁻¹y by the backend's Cholesky factor."""
    Lc = b.cholesky(K)
    z = b.solve_triangular(Lc, y, lower=True)
    return b.sum(z * z)


FLOW_NORM_SOURCE = ("Telgarsky DLT §4.3; Jacot et al. 2018 (NeurIPS), least-squares flow; "
                    "Lee et al. 2019 (NeurIPS) §2.2; the norm bound derived here")
FLOW_NORM_STATEMENT = (r"\|f_t\|_{\mathcal H}^2 = \sum_k (1-e^{-tλ_k/n})^2 \tfrac{b_k^2}{λ_k} "
                       r"\le \|f_\infty\|_{\mathcal H}^2 = y^\top K^{-1} y")


@claim("rkhs.flow_norm", kind="identity", goal=FLOW_NORM_GOAL, source=FLOW_NORM_SOURCE,
       statement=FLOW_NORM_STATEMENT,
       title="Gradient flow from f_0 = 0 on the NTK model: the RKHS norm rises to yᵀK⁻¹y",
       twins=[Twin("twin_norm_0p9", title="twin: the flow's limit has squared norm 0.9·yᵀK⁻¹y",
                   statement=r"\|f_\infty\|_{\mathcal H}^2 = 0.9\,y^\top K^{-1} y",
                   factor=0.9, derive=False)])
def test_flow_norm(ntk, factor=1.0, derive=True):
    if derive:
        ntk.derivation(flow_norm_derivation())
    b = ntk.backend
    _, _, K, y = _flow_problem(ntk)
    K_np = b.to_numpy(K)
    t_end = _flow_end(K_np)
    alpha_end = flow_coefficients(K, y, t_end, b)
    resid = b.to_numpy(b.matmul(K, alpha_end) - y)
    ntk.require("converged", float(np.linalg.norm(resid) / np.linalg.norm(b.to_numpy(y))),
                at_most=1e-9, what="training residual ||Kα - y||/||y|| at t_end = 40 n/λ_min")
    target = factor * _min_norm(b, K, y)
    times = np.geomspace(t_end * 1e-5, t_end, FLOW_TIMES)
    norms = {i: rkhs_norm(flow_coefficients(K, y, float(t), b), K, b)
             for i, t in enumerate(times[:-1])}
    norms[FLOW_TIMES - 1] = rkhs_norm(alpha_end, K, b)

    def limit(b, i):  # noqa: ARG001
        return norms[i], target, target
    ntk.identity(limit, [{"i": FLOW_TIMES - 1}])
    ntk.bound(lambda b, i: (norms[i], target), [{"i": i} for i in range(FLOW_TIMES)])
    lam = np.linalg.eigvalsh(K_np)
    ntk.record(condition_number=float(lam[-1] / lam[0]), t_end=t_end,
               norm_over_limit=[b.to_float(norms[i]) / b.to_float(target)
                                for i in range(FLOW_TIMES)],
               times=times.tolist())


# -- every other interpolant is longer ---------------------------------------------------

N_EXTRA = 3


def _interpolant_cases(ntk, init: float):
    """The Grams on X and X ∪ Z (floats), the labels, and the squared RKHS norm of the flow's
    limit from f_0 = init·Θ(z, ·) (``flow_coefficients`` at t_end; its convergence checked)."""
    b = ntk.backend
    data, K_all, K, y = _flow_problem(ntk)
    K_np, Kall = b.to_numpy(K), b.to_numpy(K_all)
    n = FLOW_N
    Kxz, Kzz = Kall[:n, n:], Kall[n:, n:]
    y_np = data.y_train
    t_end = _flow_end(K_np)
    f0 = init * Kxz[:, -1]   # f_0 = init·Θ(z, ·), z the last extra centre (0: f_0 = 0)
    alpha = flow_coefficients(K, b.asarray(y_np - f0), t_end, b)
    resid = np.linalg.norm(K_np @ b.to_numpy(alpha) + f0 - y_np) / np.linalg.norm(y_np)
    ntk.require("converged", float(resid), at_most=1e-9,
                what="training residual ||f_t(X) - y||/||y|| of the flow at t_end = 40 n/λ_min")
    if init:   # the flow's limit: f_0 + Θ(·, X)α, on the centres X and z
        coef = np.concatenate([b.to_numpy(alpha), [init]])
        idx = list(range(n)) + [n + N_EXTRA - 1]
        flow_sq = float(coef @ Kall[np.ix_(idx, idx)] @ coef)
    else:
        flow_sq = b.to_float(rkhs_norm(alpha, K, b))
    return K_np, Kxz, Kzz, y_np, flow_sq


def _float64_slack(ntk):
    """On a backend finer than float64 (mpmath) the interpolants' norms, computed in
    float64, cannot be compared more finely than float64 allows."""
    factor = max(1.0, 1e-13 / ntk.tol)
    return None if factor == 1.0 else (
        factor, "the other interpolants' norms are computed in float64 on every backend")


MIN_NORM_SOURCE = ("Schölkopf, Herbrich & Smola 2001 (COLT), Thm 1 (representer theorem); "
                   "Telgarsky DLT §4.3")
NONZERO_INIT = Twin("twin_nonzero_init",
                    title="twin: the flow from f_0 = Θ(z, ·) also reaches the least-norm interpolant",
                    statement=r"\|f_\infty^{(f_0)}\|^2 \le \|g\|^2,\ f_0 = Θ(z, \cdot)", init=1.0)


@claim("rkhs.min_norm", kind="bound", known_sup=1.0, source=MIN_NORM_SOURCE,
       title="Among interpolants, the flow's limit from f_0 = 0 has the least RKHS norm",
       statement=r"g(X) = y,\ g \in \mathcal H \implies \|f_\infty\|_{\mathcal H}^2 \le "
                 r"\|g\|_{\mathcal H}^2",
       twins=[Twin("twin_factor_0p9", title="twin: every other interpolant is 11% longer",
                   statement=r"\|f_\infty\|^2 \le 0.9\,\|g\|^2", factor=0.9), NONZERO_INIT])
def test_min_norm(ntk, factor=1.0, init=0.0):
    K, Kxz, Kzz, y, flow_sq = _interpolant_cases(ntk, init)

    def evaluate(b, beta0, beta1, beta2):  # noqa: ARG001 - the Gram is float64 here
        beta = np.array([beta0, beta1, beta2], dtype=float)
        _, g_sq, _, _ = other_interpolant(K, Kxz, Kzz, y, beta)
        return flow_sq, factor * g_sq
    ntk.bound(evaluate, Box(beta0=(-1.0, 1.0), beta1=(-1.0, 1.0), beta2=(-1.0, 1.0)),
              n=ntk.pick(quick=64, standard=256), restarts=ntk.pick(quick=3, standard=8),
              slack=_float64_slack(ntk))
    rng = ntk.rng("interpolants")
    betas = rng.uniform(-1, 1, size=(ntk.pick(quick=8, standard=32), N_EXTRA))

    def interpolates(b, i):  # noqa: ARG001
        gamma, _, _, _ = other_interpolant(K, Kxz, Kzz, y, betas[i])
        g_x = np.hstack([K, Kxz]) @ gamma
        return float(np.max(np.abs(g_x - y))), 0.0, float(np.max(np.abs(y)))
    ntk.identity(interpolates, [{"i": i} for i in range(len(betas))], slack=_float64_slack(ntk))
    ntk.record(flow_limit_norm_sq=flow_sq, min_norm_sq=float(y @ np.linalg.solve(K, y)))
