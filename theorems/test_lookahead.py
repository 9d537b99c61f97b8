r"""NTK look-ahead for active learning (Mohamadi, Bae & Sutherland, NeurIPS 2022).

Statement
---------
A network :math:`f_L` trained on the labelled set :math:`L = (\mathcal X, \mathcal Y)`,
with empirical NTK :math:`Θ` at its trained weights. For :math:`L_+ = L \cup \{(x', y')\}`
the look-ahead prediction (eq. (11)) is

.. math::

    f_{L_+}(x) \approx f_L(x) + Θ(x, \mathcal X_+)\, Θ(\mathcal X_+, \mathcal X_+)^{-1}
    (\mathcal Y_+ - f_L(\mathcal X_+)),

computed for a whole pool by the bordered (Schur-complement) update (eq. (12)) with
:math:`A = Θ(\mathcal X, \mathcal X)`, :math:`b = Θ(\mathcal X, x')`, :math:`v = A^{-1}b`,
:math:`u = Θ(x', x') - b^\top A^{-1} b`, :math:`r = \mathcal Y - f_L(\mathcal X)`:
:math:`f_{L_+}(x) = f_L(x) + Θ(x,\mathcal X)A^{-1}r + (Θ(x,x') - Θ(x,\mathcal X)v)(r' - v^\top r)/u`.
MLMOC (eq. (13)) scores a candidate by :math:`A(x') = \sum_{x\in U}\|f_{L_+}(x) - f_L(x)\|_2`
with the most likely label :math:`y'`. Theorem 3.1 (kernel form): for a fixed kernel,
warm-started :math:`t = \infty` regression through :math:`S_1 \subset \dots \subset S_C`
equals one-shot regression on :math:`S_C`; for networks it holds as the width grows.

Claims
------
* ``lookahead.block_update`` (identity + derivation) — eq. (12) = eq. (11). Derivation,
  for blocks of every size (non-commuting symbols; the spot checks read them as 1×1
  blocks): writing the corner as :math:`Θ(x',x') = u + b^\top A^{-1} b` (the definition
  of u), the blocks P of the Schur-complement inverse satisfy :math:`P\,Θ(\mathcal X_+,
  \mathcal X_+) = I` (four lemma steps), and the bordered prediction regroups into
  :math:`f_L + Θ(x, \mathcal X_+) P (r; r')`. Numerically to the backend's rtol on random
  SPD kernels and on eNTKs of trained two-layer networks (50 digits on mpmath).
* ``lookahead.sequential_equals_union`` (identity + derivation) — Thm 3.1, kernel form,
  for any f_0. Derivation (blocks of every size): stage 1 interpolates S_1, and the
  selection identity :math:`K(S_2,S_2)^{-1}K(S_2,S_1) = E_1` (the first block column of
  :math:`P K = I`) makes the stage-2 solve reproduce the stage-1 increment, so the warm
  start equals one-shot regression on S_2; C stages follow by induction (S_{c-1} ⊂ S_c).
  Cases: PSD kernels (infinite-width NTK, eNTK at init, low-rank features of rank
  N − 2 with K(S_C, S_C) invertible), 2-4 nested stages.
* ``lookahead.mlmoc_score`` (identity + derivation) — the library's MLMOC scores
  (three (q, p) matrices: |base|², 2G⟨base, s⟩, G²|s|²) equal eq. (13) computed
  naively (one fresh LU solve of the (n+1)-system per candidate, its predictions on U,
  the sum of Euclidean norms). Derivation: the per-term identity
  :math:`\|b + Gs\|^2 = |b|^2 + 2G\langle b,s\rangle + G^2|s|^2` for rows of any length C
  (the transpose linear, the inner product symmetric); the sum over U and the square
  root are the same on both sides.
* ``lookahead.sequential_add`` (identity) — ``LookAhead.add`` (sequential queries with
  their true labels, bordering the Cholesky factor, no retraining) equals a fresh
  look-ahead on the enlarged set: predictions ``f + Θ(E, 𝒳_+)α`` against one LU solve
  of the enlarged (ridged) system, 1-4 additions.
* ``lookahead.finite_width`` (rate) — Thm 3.1 at finite width: TwoLayer tanh networks
  trained by GD, sequential (S_1 then S_2, warm start) against one-shot training on
  S_2: :math:`\sup_x|f_{S_1\to S_2} - f_{S_2}| = O(m^{-1/2})`, the rate of the
  linearisation the paper relies on (Lee et al. 2019, its eq. (9)); measured ≈ m^{-0.96}.
* ``lookahead.width_robust`` (rate) — the look-ahead approximation of retraining
  (eq. (11) against GD retraining on L_+, warm start) is accurate at small widths and
  improves as the width grows, the direction of the paper's account (exact in the
  infinite-width limit of Thm 3.1, accurate for the finite networks of §5): the error
  relative to the retrained change, :math:`\overline{|f^{look}_{L_+} - f^{GD}_{L_+}|} /
  \overline{|f^{GD}_{L_+} - f_L|} = O(m^{-1/2})`, averaged over the 5 candidates x';
  measured ≈ m^{-0.94}, and at the narrowest rung (m = 64) the error is already about
  1.5% of the retrained change (the medians are recorded).
* ``lookahead.active_learning`` (separation) — the paper's experiment (§5: pool-based
  active learning, MLMOC acquisition of eq. (13) against random acquisition) on 8×8
  digits 3/5/8/9 (8 initial labels, 8 rounds of 6 queries from a pool of 200, 500 test
  images, one-vs-rest two-layer ReLU heads of width 64 retrained by GD every round):
  MLMOC's test error averaged over the rounds is below random acquisition's, paired
  across seeds; precondition: every network was trained (each training lowered its
  loss at least five-fold).

Falsified twins (declared with their claims; *near* ones within the check's resolving
power, far ones besides):

* ``block_update.twin_authors_ridge`` (near) — eq. (12) with the authors' diagonal
  regulariser (``ntk_diag_reg`` = 1e-5 × mean trace, as in their code) equals the
  unregularised eq. (11): off by ~7e-4 relative, far above the tolerance;
  ``block_update.twin_printed_v`` (far) — the printed v = A b (no inverse).
* ``sequential_equals_union.twin_kernel_drift_small`` (near) — the kernel of every
  stage after the first drifts by a symmetric indefinite perturbation of norm
  0.01·λ_min (every nested block stays positive definite, so the twin fails only
  because the kernel is not fixed): ~1e-2 relative; ``twin_kernel_drift`` (far) the
  same at 0.5·λ_min.
* ``mlmoc_score.twin_interpolation_shortcut`` (near) — the score without the base term
  Θ(x, 𝒳)A⁻¹r, i.e. assuming f_L interpolates L, when it fits L to 1e-3 (a trained
  network): relative error ~3e-3–1e-2.
* ``sequential_add.twin_ridge_first_only`` (near) — the ridge (1e-2 of the mean
  diagonal) added to Θ(𝒳, 𝒳) once but not to the diagonal entries bordered in later:
  relative error ~1e-2.
* ``finite_width.twin_m_minus_1p2`` and ``width_robust.twin_m_minus_1p1`` (near: just
  past what the data resolve; at the standard budget with run seeds 0 and 1 they lay
  0.24/0.19 and 0.17/0.17 from the fitted exponents, within three half-widths of the
  intervals (0.28/0.43 and 0.24/0.31), and the intervals' lower ends lay 0.13/0.07 and
  0.07/0.07 above them); ``twin_m_minus_2`` (far) each.
* ``active_learning.twin_gain_0p045`` (near: MLMOC ahead by at least 0.045, the measured
  gain ≈ 0.02 plus three half-widths of the standard interval) and
  ``twin_random_beats`` (far: random ahead by 0.10; it measures 8 pairs of its own, the
  order of the methods being swapped).

Source
------
M. A. Mohamadi, W. Bae, D. J. Sutherland, "Making look-ahead active learning
strategies feasible with neural tangent kernels", NeurIPS 2022 (arXiv 2206.12569):
§3 (eqs. (11)-(12), the block update, and Thm 3.1), §4 (MLMOC, eq. (13), and the
sequential mode), §5 (experiments: MLMOC against random acquisition; the
look-ahead against SGD retraining). The submission text prints v = Θ(𝒳,𝒳)Θ(𝒳,x')
without the inverse; the authors' public code (github.com/mohamad-amin/
ntk-lookahead-active-learning, ``src/utils/predict.py``) has it. The rate of
the finite-width claims is Lee et al. 2019's (NeurIPS, arXiv 1902.06720, Thm 2.1,
quoted as eq. (9) of the paper): the network stays within O(m^{-1/2}) of its
linearisation. The measured exponents are steeper, ≈ −0.95: for a two-layer network
whose output weights are drawn with mean zero, the O(m^{-1/2}) second-order terms
carry the random signs of the output weights and largely cancel, towards O(m^{-1})
(the 1/width order of the kernel's change found by Dyer & Gur-Ari, ICLR 2020, arXiv
1909.11304); the twins sit just past the measured exponents.

Conventions
-----------
TwoLayer: :math:`f(x) = m^{-1/2}\sum_j a_j σ(w_j\cdot x)`, both layers trained,
:math:`a_j, w_{jk} \sim N(0, 1)`, loss :math:`\frac1n\sum_i \frac12 (f(x_i) - y_i)^2`, GD
at half the stability limit 2n/λ_max(K) (inside Lee et al.'s learning-rate threshold;
at 0.9 of the limit the sequential and one-shot runs part by O(1) at every width: the
networks leave the lazy regime), 700 steps (the loss falls ~10^9-fold).

Tolerances, budgets, slacks
---------------------------
Identities use the backend's rtol relative to the largest predicted value (float64:
1e-10; mpmath: 1e-40). Kernels are drawn exactly symmetric (a Cholesky route reads one
triangle, an LU route both) with condition numbers below ~1e4 (random spectra in
[0.05, 5]; eNTKs on 12 points in d = 6 with m = 256), so float64 roundoff of the solves
stays near 1e-13. The small solves run on one BLAS thread (15x faster on two shared
cores).

The rates are decided at the **standard** budget (widths 64…2048, 32 seeds per width;
measured with run seed 0: finite_width −0.963 [−1.068, −0.881], width_robust −0.935
[−1.026, −0.869]; seed 1: −1.008 [−1.135, −0.850] and −0.927 [−1.033, −0.825]).
At the quick budget they are SKIPPED: with the seeds it affords (≤ 8 per width, widths
to 1024) the interval is ~0.4 wide and its lower end falls at about −1.15, so the near
twins (−1.2, −1.1) would be rejected by luck. No slack: the finite-size drift (upper
minus lower half of the ladder) is −0.01 and −0.16, negative: the local slopes steepen
as m grows (−0.69 and −0.66 from m = 64 to 128, then −0.65…−1.37), so the fitted
exponents lie above the asymptotic ones, on the safe side of an upper rate. GD must
have trained: every run's loss fell at least 10^5-fold (measured: 5e-10 and 5e-13 at
worst).

The active-learning separation is decided at the standard budget: 80 paired seeds
(the gain in test error averaged over the 8 rounds had measured 0.016 and 0.030 on two
sets of 40 and 32 pairs, per-pair spread ≈ 0.025-0.031; with 80 pairs the 99.9% lower
bound is ≈ 0.02 − 3.2 × 0.003 ≈ +0.01). Measured: gain 0.0202, bounds [0.0099, 0.0305]
(run seed 0) and 0.0259 [0.0166, 0.0351] (seed 1); MLMOC's mean accuracy runs above
random's in every round (0.782 against 0.769 after the first, 0.948 against 0.928
after the eighth, seed 0). The error averaged over the rounds is used because
it is the least noisy summary of the learning curve (t ≈ 5.5 with 32 pairs against 4.9
for the last round alone; 8 rounds rather than 4: the per-pair spread of the last round
falls from 0.033 to 0.026). At the quick budget 3 pairs are run (the precondition and
the code path are exercised; t_{0.999, 2} = 22.3 cannot decide), so it is INCONCLUSIVE
there by design, and so are its twins. (With 2 pairs the errors, multiples of 1/4000,
once gave two equal differences: a zero spread and a zero-width interval.)
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import sympy as sp

from ntkproof import Derivation, Hypothesis, Measured, Step, Twin, chain, claim
from ntkproof.nn.batched import max_learning_rates, train_seeds
from ntkproof.nn.data import sphere_teacher
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.kernels import infinite_width
from ntkproof.nn.networks import TwoLayer
from ntkproof.nn.training import gradient_descent, max_learning_rate
from ntkproof.rng import generator, unit_vectors
from ntkproof.theory.active_learning import ALConfig, active_learning_curve, one_blas_thread
from ntkproof.theory.lookahead import LookAhead, full_solve, mlmoc_scores, most_likely_label

SOURCE = "Mohamadi, Bae & Sutherland, NeurIPS 2022 (arXiv 2206.12569)"
RATES_AT_STANDARD = {"quick": "decided from the standard budget on (widths 64…2048, 32 seeds "
                             "per width, about a minute): with the seeds the quick budget "
                             "affords the interval is ~0.4 wide and its lower end falls at "
                             "about -1.15, so the near twins (-1.2, -1.1) would be rejected by "
                             "luck"}
TRAINING = {"mpmath": "GD training of networks up to width 2048 (thousands of steps) is "
                      "out of reach at 50 digits; the look-ahead algebra is checked on "
                      "mpmath by the identities"}

# -- derivations: blocks of any size, as symbols that do not commute -------------------
A, B, C, U, K_E, K_EP, F_E, R, RP = sp.symbols("A B C U K_E K_Ep f_E r rp", commutative=False)


def block_inverse(A11, A12, A21, S):
    """The 2×2 block matrix ``M = [[A11, A12], [A21, S + A21 A11⁻¹ A12]]`` (its corner
    written through the Schur complement S) and the blocks P of its inverse."""
    Ai, Si = A11**-1, S**-1
    M = ((A11, A12), (A21, S + A21 * Ai * A12))
    P = ((Ai + Ai * A12 * Si * A21 * Ai, -Ai * A12 * Si), (-Si * A21 * Ai, Si))
    return M, P


def _inverse_lemmas(M, P, what: str) -> tuple[Step, ...]:
    """Four steps (P M)_ij = δ_ij, built unevaluated so each is a step, not a tautology."""
    out = []
    for i in range(2):
        for j in range(2):
            lhs = sp.Add(sp.Mul(P[i][0], M[0][j], evaluate=False),
                         sp.Mul(P[i][1], M[1][j], evaluate=False), evaluate=False)
            out.append(Step(lhs, "==", sp.S(int(i == j)),
                            f"(P {what})_{i + 1}{j + 1} = δ: P is the inverse of {what}"))
    return tuple(out)


M_PLUS, P_PLUS = block_inverse(A, B, C, U)
#: eq. (12) with v = A⁻¹b (vᵀ = bᵀA⁻¹ = C A⁻¹) and s = (r' − vᵀr)/u ...
BORDERED = F_E + K_E * A**-1 * R + (K_EP - K_E * A**-1 * B) * U**-1 * (RP - C * A**-1 * R)
#: ... and eq. (11): f_L(E) + Θ(E, 𝒳_+) Θ(𝒳_+, 𝒳_+)⁻¹ (r; r'), the inverse in blocks
FULL = F_E + K_E * (P_PLUS[0][0] * R + P_PLUS[0][1] * RP) \
    + K_EP * (P_PLUS[1][0] * R + P_PLUS[1][1] * RP)
BLOCK_GOAL = sp.Eq(BORDERED, FULL, evaluate=False)
_BLOCK_DOMAIN = {s: (-1.0, 1.0) for s in (B, C, K_E, K_EP, F_E, R, RP)} | {A: (0.5, 2.0),
                                                                        U: (0.5, 2.0)}


def block_update_derivation() -> Derivation:
    """eq. (12) = eq. (11) for blocks of every size (module docstring)."""
    lemmas = _inverse_lemmas(M_PLUS, P_PLUS, "Θ(𝒳+,𝒳+)")
    main = chain(
        BORDERED,
        ("==", F_E + K_E * A**-1 * R + K_EP * U**-1 * (RP - C * A**-1 * R)
         - K_E * A**-1 * B * U**-1 * (RP - C * A**-1 * R),
         "distribute Θ(x,x') − Θ(x,𝒳)v over the innovation s = (r' − vᵀr)/u"),
        ("==", FULL, "collect the terms in r and r': they are Θ(x,𝒳+) P (r; r') with P the "
                     "Schur-complement inverse, P = Θ(𝒳+,𝒳+)⁻¹ by steps 1–4",
         {"uses": (1, 2, 3, 4)}))
    return Derivation("eq. (12) = eq. (11): the bordered inverse, blocks of any size",
                      lemmas + main, goal=BLOCK_GOAL, domain=_BLOCK_DOMAIN)


# Thm 3.1, kernel form: S_1 ⊂ S_2 = S_1 ∪ T; K11 = K(S_1,S_1), K12 = K(S_1,T), ...;
# k1 = K(x,S_1), k2 = K(x,T); f0x, f01, f02 = f_0 on x, S_1, T; y1, y2 the labels
K11, K12, K21, U2, K1, K2, F0X, F01, F02, Y1, Y2 = sp.symbols(
    "K11 K12 K21 U2 k1 k2 f0x f01 f02 y1 y2", commutative=False)
M_C, P_C = block_inverse(K11, K12, K21, U2)
BETA = K11**-1 * (Y1 - F01)                       # stage-1 coefficients on S_1
ROW1, ROW2 = K1 * P_C[0][0] + K2 * P_C[1][0], K1 * P_C[0][1] + K2 * P_C[1][1]
SEQUENTIAL = (F0X + K1 * BETA) + ROW1 * (Y1 - (F01 + K11 * BETA)) \
    + ROW2 * (Y2 - (F02 + K21 * BETA))
ONE_SHOT = F0X + ROW1 * (Y1 - F01) + ROW2 * (Y2 - F02)
UNION_GOAL = sp.Eq(SEQUENTIAL, ONE_SHOT, evaluate=False)


def sequential_union_derivation() -> Derivation:
    """Warm-started regression on S_2 ⊇ S_1 = one-shot regression on S_2 (the induction
    step of Thm 3.1's kernel form), for blocks of every size and any f_0."""
    lemmas = _inverse_lemmas(M_C, P_C, "K(S2,S2)")
    main = chain(
        SEQUENTIAL,
        ("==", F0X + K1 * BETA + ROW2 * (Y2 - F02) - ROW2 * K21 * BETA,
         "stage 1 interpolates S_1 (y_1 − f_1(S_1) = 0) and moves T by f_1(T) − f_0(T) = "
         "K(T,S_1)β"),
        ("==", ONE_SHOT, "selection identity P K(S_2,S_1) = E_1 (steps 1 and 3): "
                         "K(x,S_2)P K(S_2,S_1)β = k1 β reproduces the stage-1 increment, "
                         "and K11 β = y_1 − f_0(S_1)", {"uses": (1, 2, 3, 4)}))
    dom = {s: (-1.0, 1.0) for s in (K12, K21, K1, K2, F0X, F01, F02, Y1, Y2)}
    dom.update({K11: (0.5, 2.0), U2: (0.5, 2.0)})
    return Derivation("Thm 3.1, kernel form: sequential = union, blocks of any size",
                      lemmas + main, goal=UNION_GOAL, domain=dom)


# MLMOC, one term of eq. (13): base_x, s_x' rows of length C (any), G_xx' a number
BASE, INNOV = sp.symbols("base s", commutative=False)
G = sp.Symbol("G", real=True)
TR = sp.Function("T", commutative=False)             # the transpose (a row to a column)
SQUARED_CHANGE = (BASE + G * INNOV) * TR(BASE + G * INNOV)   # ||f_{L+}(x) − f_L(x)||²
LIBRARY_FORM = BASE * TR(BASE) + 2 * G * BASE * TR(INNOV) + G**2 * INNOV * TR(INNOV)
MLMOC_GOAL = sp.Eq(SQUARED_CHANGE, LIBRARY_FORM, evaluate=False)
_LINEAR = Hypothesis("the transpose is linear", TR(BASE + G * INNOV), "==",
                     TR(BASE) + G * TR(INNOV))
_SYMMETRIC = Hypothesis("the inner product is symmetric: G⟨s, base⟩ = G⟨base, s⟩",
                        G * INNOV * TR(BASE), "==", G * BASE * TR(INNOV))


def mlmoc_derivation() -> Derivation:
    """||base + G s||² = |base|² + 2G⟨base, s⟩ + G²|s|² for rows of any length."""
    u = sp.Dummy("u")
    steps = chain(
        SQUARED_CHANGE,
        ("==", (BASE + G * INNOV) * (TR(BASE) + G * TR(INNOV)), "(base + G s)ᵀ = baseᵀ + G sᵀ",
         {"method": "hypothesis", "hypothesis": _LINEAR.name}),
        ("==", BASE * TR(BASE) + G * BASE * TR(INNOV) + G * INNOV * TR(BASE)
         + G**2 * INNOV * TR(INNOV), "expand (G is a number)"),
        ("==", LIBRARY_FORM, "⟨s, base⟩ = ⟨base, s⟩: the two cross terms are one, twice",
         {"method": "hypothesis", "hypothesis": _SYMMETRIC.name}))
    # the spot checks read base and s as numbers (C = 1): the transpose is the identity
    return Derivation("one term of eq. (13): the squared norm as three inner products",
                      steps, goal=MLMOC_GOAL, hypotheses=(_LINEAR, _SYMMETRIC),
                      domain={BASE: (-2.0, 2.0), INNOV: (-2.0, 2.0), G: (-2.0, 2.0)},
                      witnesses={TR: [sp.Lambda(u, u)]})


# -- numeric cases: kernels -------------------------------------------------------------
def _spd(rng, N, spectrum=(0.05, 5.0)):
    """A random SPD matrix with eigenvalues in ``spectrum``, exactly symmetric (a
    Cholesky route reads one triangle, an LU route both)."""
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    K = (Q * rng.uniform(*spectrum, N)) @ Q.T
    return (K + K.T) / 2


def _trained_ntk(seed: int, N: int = 22) -> tuple[np.ndarray, np.ndarray]:
    """eNTK (N, N) at GD-trained weights of a TwoLayer relu net (m = 256, d = 6) and its
    outputs; trained on the first 12 points."""
    ds = sphere_teacher(N, 0, 6, seed=seed)
    net = TwoLayer(6, 256, "relu", trained="both", a_init="normal", seed=seed)
    X, y = ds.x_train, ds.y_train
    with one_blas_thread():
        p = gradient_descent(net, X[:12], y[:12], lr=0.5 * max_learning_rate(net, X[:12]),
                             steps=300).final_params
    K = empirical_ntk(net, X, params=p)
    return (K + K.T) / 2, net.apply(p, X)


def _problem(kind: str, seed: int, n: int, C: int, fit: float | None = None):
    """(K, f, y, n, p, q): kernel on n labelled + p candidates + q evaluation points,
    outputs f (N, C) and labels y (n + p, C); ``fit`` makes f_L fit L to that scale."""
    rng = generator(seed)
    if kind == "ntk":                              # eNTK of a trained net on 22 points
        K, f1 = _trained_ntk(seed)
        n, p, q = 12, 4, 6
        f = f1[:, None] + 0.1 * rng.standard_normal((22, C))
    else:
        p, q = 5, 6
        K, f = _spd(rng, n + p + q), rng.standard_normal((n + p + q, C))
    y = rng.standard_normal((n + p, C))
    if fit is not None:
        y[:n] = f[:n] + fit * rng.standard_normal((n, C))
    return K, f, y, n, p, q


def one_thread(evaluate):
    """``evaluate`` run with one BLAS thread: on a shared two-core machine the small
    solves here were ~15x slower with two."""
    @functools.wraps(evaluate)
    def run(*args, **kwargs):
        with one_blas_thread():
            return evaluate(*args, **kwargs)
    return run


def _parts(n, p, q):
    return slice(0, n), slice(n, n + p), slice(n + p, n + p + q)


def _max_abs(b, x) -> float:
    return float(np.max(np.abs(b.to_numpy(x))))


def block_case(printed_v: bool = False, ridge_scale: float = 0.0):
    """``evaluate(b, kind, seed, n, C)``: (max |bordered − full|, 0, max |full|).
    ``printed_v`` and ``ridge_scale`` (× mean diag of Θ(𝒳,𝒳) on the look-ahead only)
    are the twins."""

    def evaluate(b, kind, seed, n, C):
        K, f, y, n, p, q = _problem(kind, seed, n, C)
        tr, ca, ev = _parts(n, p, q)
        ridge = ridge_scale * float(np.mean(np.diag(K)[tr]))
        la = LookAhead(K[tr, tr], f[tr], y[tr], ridge=ridge, backend=b)
        bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca], y[ca])
        if printed_v:                       # the submission's v = Θ(𝒳,𝒳) Θ(𝒳,x')
            Bt = b.asarray(K[tr, ca])
            bo.V = b.matmul(b.asarray(K[tr, tr]), Bt)
            bo.u = b.asarray(np.diag(K)[ca]) - b.sum(Bt * bo.V, axis=0)
            bo.s = ((b.asarray(y[ca] - f[ca]) - b.matmul(b.transpose(bo.V), la.residual))
                    / bo.u[:, None])
        got = la.predict(bo, K[ev, tr], K[ev, ca], f[ev])
        ref = [full_solve(K[np.ix_(idx, idx)], f[idx], y[idx], K[ev][:, idx], f[ev], backend=b)
               for idx in (list(range(n)) + [n + j] for j in range(p))]
        diff = max(b.to_float(b.sum(b.abs(got[j] - r))) for j, r in enumerate(ref))
        return diff, 0.0, max(_max_abs(b, r) for r in ref)

    return one_thread(evaluate)


def _kernel_cases(ntk, salt: str, sizes: int, outputs: int, trained: int) -> list[dict]:
    """Cases for the identities on kernels: random SPD kernels (n labelled points in
    5…4 + ``sizes``, 1…``outputs`` outputs; n = 4 on mpmath) and ``trained`` eNTKs of
    trained networks (none on mpmath)."""
    seeds = ntk.seeds(ntk.pick(quick=12, standard=40, thorough=120), salt)
    small = ntk.pick(quick=False, mpmath=True)
    spd = [dict(kind="spd", seed=s, n=4 if small else 5 + s % sizes, C=1 + s % outputs)
           for s in seeds]
    return spd + [dict(kind="ntk", seed=s, n=12, C=1 + s % outputs)
                  for s in seeds[:0 if small else trained]]


# -- claims: block update ------------------------------------------------------------
@claim("lookahead.block_update", kind="identity",
       title="the bordered (Schur-complement) look-ahead equals the full solve",
       statement=r"f_L + Θ_{x\mathcal X}A^{-1}r + (Θ_{xx'} - Θ_{x\mathcal X}v)\frac{r'-v^\top r}{u}"
                 r" = f_L + Θ(x,\mathcal X_+)Θ(\mathcal X_+,\mathcal X_+)^{-1}(\mathcal Y_+-f_L)"
                 r"\ \text{(blocks of any size)}",
       source=SOURCE + ", §3, eqs. (11)-(12) (with v = A⁻¹b, as in the authors' code)",
       goal=BLOCK_GOAL,
       twins=[Twin("twin_authors_ridge",
                   title="twin: eq. (12) with the authors' diagonal regulariser equals the "
                         "unregularised eq. (11)",
                   statement=r"(12)\text{ with }A + 10^{-5}\,\overline{\mathrm{diag}}\,I "
                             r"= (11)\text{ without}",
                   source="falsified twin: ntk_diag_reg = 1e-5 × mean trace (the authors' "
                          "code) changes the look-ahead", ridge_scale=1e-5),
              Twin("twin_printed_v", title="twin: the block update with the printed "
                                           "v = Θ(𝒳,𝒳)Θ(𝒳,x')",
                   statement=r"v = A b \text{ (no inverse)}",
                   source="falsified twin (submission typo)", printed_v=True)])
def test_block_update_equals_full_solve(ntk, printed_v=False, ridge_scale=0.0):
    if not (printed_v or ridge_scale):
        ntk.derivation(block_update_derivation())
    # the far twin needs no trained network to be rejected
    ntk.identity(block_case(printed_v, ridge_scale),
                 _kernel_cases(ntk, "block", 40, 3, 0 if printed_v else 3))


# -- claims: Theorem 3.1, kernel form -----------------------------------------------------
def _kernel_for(kind: str, rng, X: np.ndarray) -> np.ndarray:
    N, d = X.shape
    if kind == "ntk_inf":
        return infinite_width(X * np.sqrt(d), depth=2, b_std=0.1).ntk
    if kind == "entk":
        net = TwoLayer(d, 128, "tanh", trained="both", a_init="normal",
                       seed=int(rng.integers(10**9)))
        return empirical_ntk(net, X)
    phi = rng.standard_normal((N, N - 2))          # PSD of rank N - 2 on all points
    return phi @ phi.T / N


def union_case(drift: float = 0.0):
    """``evaluate(b, kind, seed, C)``: warm-started regression through C nested sets vs
    one-shot, Σ |difference| over all points. ``drift`` (the twins) perturbs the kernel of
    every stage after the first by ``drift·λ_min(K(S_C,S_C))·E/||E||₂``, E symmetric
    indefinite: every nested block stays positive definite (Weyl, interlacing), so
    the twin fails only because the kernel is not fixed."""

    def evaluate(b, kind, seed, C):
        rng = generator(seed)
        sizes = np.sort(rng.choice(np.arange(1, 9), size=C, replace=False)) + np.arange(C)
        N = sizes[-1] + 5
        X = unit_vectors(rng, N, 4)
        K = _kernel_for(kind, rng, X)
        f0 = np.cos(X @ rng.standard_normal(4))                      # any f_0
        y = rng.standard_normal(N)
        f = b.asarray(f0)
        for stage, s in enumerate(sizes):
            Ks = K
            if drift and stage:
                E = rng.standard_normal((N, N))
                E = (E + E.T) / 2
                lam = np.linalg.eigvalsh(K[: sizes[-1], : sizes[-1]])[0]
                Ks = K + drift * lam * E / np.linalg.norm(E, 2)
            f = full_solve(Ks[:s, :s], f[:s], y[:s], Ks[:, :s], f, backend=b)
        s = sizes[-1]
        one = full_solve(K[:s, :s], f0[:s], y[:s], K[:, :s], f0, backend=b)
        return b.to_float(b.sum(b.abs(f - one))), 0.0, _max_abs(b, one)

    return one_thread(evaluate)


def _union_cases(ntk, kinds):
    seeds = ntk.seeds(ntk.pick(quick=8, standard=32, thorough=96), "union")
    return [{"kind": kinds[i % len(kinds)], "seed": s, "C": 2 + s % 3}
            for i, s in enumerate(seeds)]


@claim("lookahead.sequential_equals_union", kind="identity",
       title="Thm 3.1 (kernel form): warm-started regression through nested sets = one-shot",
       statement=r"f_{S_1\to\dots\to S_C} = f_0 + K(\cdot,S_C)K(S_C,S_C)^{-1}(y_C - f_0(S_C))",
       source=SOURCE + ", §3, Thm 3.1 (exact for a fixed kernel)", goal=UNION_GOAL,
       twins=[Twin("twin_kernel_drift_small",
                   title="twin: sequential = union when the kernel drifts by 1% of λ_min "
                         "between stages",
                   statement=r"K_{\text{stage }k} = K + 0.01\lambda_{\min}E_k/\|E_k\|,\ E_k "
                             r"\text{ symmetric indefinite}", drift=0.01),
              Twin("twin_kernel_drift",
                   title="twin: sequential = union when the kernel drifts between stages",
                   statement=r"K_{\text{stage }k} = K + \tfrac12\lambda_{\min}E_k/\|E_k\|,\ "
                             r"E_k \text{ symmetric indefinite}", drift=0.5)])
def test_sequential_equals_union(ntk, drift=0.0):
    if not drift:
        ntk.derivation(sequential_union_derivation())
    kinds = ntk.pick(quick=["ntk_inf", "entk", "lowrank"], mpmath=["lowrank", "ntk_inf"])
    ntk.identity(union_case(drift), _union_cases(ntk, kinds if not drift else
                                                 ["ntk_inf", "lowrank"]))


# -- claims: MLMOC scores (eq. (13)) -------------------------------------------------------
def mlmoc_case(drop_base: bool = False):
    """``evaluate(b, kind, seed, n, C)``: the library's scores (``mlmoc_scores``) against
    eq. (13) computed naively: per candidate one LU solve of the (n+1)-system with the
    most likely label, predictions on U, Σ_x ||f_{L+}(x) − f_L(x)||₂. f_L fits L to 1e-3
    (as a trained network does). ``drop_base`` (the twin) leaves out Θ(x,𝒳)A⁻¹r."""

    def evaluate(b, kind, seed, n, C):
        K, f, y, n, p, q = _problem(kind, seed, n, C, fit=1e-3)
        tr, ca, ev = _parts(n, p, q)
        la = LookAhead(K[tr, tr], f[tr], y[tr], backend=b)
        y_ml = most_likely_label(f[ca])
        y_ml = y_ml.reshape(p, -1)
        bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca], y_ml)
        if drop_base:
            _, Gm = la.change(bo, K[ev, tr], K[ev, ca])
            got = b.sum(b.abs(Gm) * b.sqrt(b.sum(bo.s * bo.s, axis=1))[None, :], axis=0)
        else:
            got = mlmoc_scores(la, bo, K[ev, tr], K[ev, ca])
        naive = []
        for j in range(p):
            idx = list(range(n)) + [n + j]
            res = b.asarray(np.vstack([y[tr], y_ml[j:j + 1]])) - b.asarray(f[idx])
            alpha = b.solve(b.asarray(K[np.ix_(idx, idx)]), res)
            change = b.matmul(b.asarray(K[ev][:, idx]), alpha)        # f_{L+} − f_L on U
            naive.append(b.sum(b.sqrt(b.sum(change * change, axis=1))))
        diff = max(abs(b.to_float(got[j] - naive[j])) for j in range(p))
        return diff, 0.0, max(abs(b.to_float(v)) for v in naive)

    return one_thread(evaluate)


@claim("lookahead.mlmoc_score", kind="identity",
       title="MLMOC scores (eq. (13)) by the bordered update equal their naive definition",
       statement=r"\mathtt{mlmoc\_scores}(x') = \sum_{x\in U}\|f_{L_+}(x)-f_L(x)\|_2,\ "
                 r"\|b_x + G_{xx'}s_{x'}\|^2 = |b_x|^2 + 2G_{xx'}\langle b_x,s_{x'}\rangle"
                 r" + G_{xx'}^2|s_{x'}|^2",
       source=SOURCE + ", §4, eq. (13) (MLMOC with the most likely label)", goal=MLMOC_GOAL,
       twins=[Twin("twin_interpolation_shortcut",
                   title="twin: the MLMOC score without the base term (f_L assumed to "
                         "interpolate L)",
                   statement=r"A(x') = \sum_{x\in U} |G_{xx'}|\,\|s_{x'}\|",
                   drop_base=True)])
def test_mlmoc_score(ntk, drop_base=False):
    if not drop_base:
        ntk.derivation(mlmoc_derivation())
    ntk.identity(mlmoc_case(drop_base), _kernel_cases(ntk, "mlmoc", 30, 4, 2))


# -- claims: sequential mode (LookAhead.add) -------------------------------------------------
def add_case(ridge_first_only: bool = False):
    """``evaluate(b, seed, n, k, C)``: k calls of ``LookAhead.add`` (true labels) against
    one LU solve of the enlarged ridged system; predictions on 6 evaluation points.
    ``ridge_first_only`` (the twin) borders without the ridge on the new diagonal."""

    def evaluate(b, seed, n, k, C):
        rng = generator(seed)
        N = n + k + 6
        K, f, y = _spd(rng, N), rng.standard_normal((N, C)), rng.standard_normal((N, C))
        ridge = 1e-2 * float(np.mean(np.diag(K)))
        la = LookAhead(K[:n, :n], f[:n], y[:n], ridge=ridge, backend=b)
        for i in range(n, n + k):
            corner = K[i, i] - (ridge if ridge_first_only else 0.0)
            la = la.add(K[i, :i], corner, f[i], y[i])
        ev, plus = slice(n + k, N), slice(0, n + k)
        got = b.asarray(f[ev]) + b.matmul(b.asarray(K[ev, plus]), la.alpha)
        Kp = b.asarray(K[plus, plus]) + b.scalar(ridge) * b.eye(n + k)
        alpha = b.solve(Kp, b.asarray(y[plus]) - b.asarray(f[plus]))
        ref = b.asarray(f[ev]) + b.matmul(b.asarray(K[ev, plus]), alpha)
        return _max_abs(b, got - ref), 0.0, _max_abs(b, ref)

    return one_thread(evaluate)


def _add_cases(ntk):
    seeds = ntk.seeds(ntk.pick(quick=12, standard=40, thorough=120), "add")
    small = ntk.pick(quick=False, mpmath=True)
    return [{"seed": s, "n": 3 if small else 3 + s % 30, "k": 1 + s % 4, "C": 1 + s % 3}
            for s in seeds]


@claim("lookahead.sequential_add", kind="identity",
       title="LookAhead.add (sequential queries, bordered Cholesky factor) equals a fresh "
             "look-ahead on the enlarged set",
       statement=r"\mathtt{add}^{k}(L) \text{ predicts } f + Θ(E,\mathcal X_+)(Θ(\mathcal X_+,"
                 r"\mathcal X_+)+λI)^{-1}(\mathcal Y_+ - f(\mathcal X_+))",
       source=SOURCE + ", §4 (the sequential mode: true labels added by bordering the "
                       "kernel, no retraining)",
       twins=[Twin("twin_ridge_first_only",
                   title="twin: bordering without the ridge on the new diagonal entries",
                   statement=r"\mathtt{add}\text{ with }Θ(x',x')\text{ unridged} = "
                             r"\text{fresh ridged solve}",
                   ridge_first_only=True)])
def test_sequential_add(ntk, ridge_first_only=False):
    ntk.identity(add_case(ridge_first_only), _add_cases(ntk))


# -- claims: finite width -------------------------------------------------------------
STEPS, LR_FRACTION = 700, 0.5
#: the loss must fall at least 10^5-fold in every run (700 steps at half the stability
#: limit: 1e-10 at the median, 1e-6 at worst over 144 runs of the standard ladder); the
#: rate is fitted on medians over seeds, which a slow run cannot move
TRAINED = 1e-5
SLACK = 0.0
SLACK_REASON = ("none: the finite-size drift measured on the standard ladder is negative "
                "(-0.01 for the sequential gap, -0.16 for the look-ahead error: the local "
                "slopes steepen as m grows, the flattening sits at the bottom rung, 64 to "
                "128), so the fitted exponent lies above the asymptotic one, on the safe "
                "side of an upper rate")


def _note_numpy(ntk) -> None:
    """The training experiments run in numpy float64 whatever the backend (the networks,
    GD and the active-learning loop are numpy code); say so in the record."""
    if ntk.backend.name != "numpy":
        ntk.record(note=f"the training experiment runs in numpy float64, not on "
                        f"{ntk.backend.spec}")


def _warm(net: TwoLayer, params) -> TwoLayer:
    """The same network started at ``params`` (warm start)."""
    w = copy.copy(net)
    w.params0 = dict(params)
    return w


def _setup(m: int, seeds: list[int], data_seed: int):
    """The data (fixed by ``data_seed``), one network per seed and each one's step size."""
    ds = sphere_teacher(10, 200, 6, seed=data_seed, activation="tanh")
    nets = [TwoLayer(6, m, "tanh", trained="both", a_init="normal", seed=s) for s in seeds]
    return ds, nets, [LR_FRACTION * lr for lr in max_learning_rates(nets, ds.x_train)]


def _descend(nets: list[TwoLayer], X, y, lrs: list[float]) -> list:
    """``gradient_descent(net, X, y, lr=lr, steps=STEPS)`` for each network, as one
    batched computation (``train_seeds``: the same steps to rounding)."""
    runs = train_seeds(nets, X, y, lr=lrs, steps=STEPS, linearized=False, keep_params=False)
    return [r.net for r in runs]


def _loss_ratio(run) -> float:
    return float(run.losses[-1] / max(run.losses[0], 1e-300))


def sequential_gap(m: int, seeds: list[int], data_seed: int) -> list[tuple[float, float]]:
    """Per seed: (sup over 200 test points of |f_{S_1→S_2} − f_{S_2}|, worst final/initial
    loss).

    Data: 10 points on the sphere of R^6 with a tanh teacher (fixed by ``data_seed``),
    S_1 = the first 5, S_2 all 10; network TwoLayer(6, m, tanh, both layers) from
    the seed; GD at half the stability limit for 700 steps on S_1, then from there on
    S_2 (sequential), and from the initialisation on S_2 (one-shot). The seeds of a
    width train together (:func:`_descend`)."""
    ds, nets, lrs = _setup(m, seeds, data_seed)
    X, y, Xt = ds.x_train, ds.y_train, ds.x_test
    with one_blas_thread():
        s1 = _descend(nets, X[:5], y[:5], lrs)
        seq = _descend([_warm(net, r.final_params) for net, r in zip(nets, s1, strict=True)],
                       X, y, lrs)
        one = _descend(nets, X, y, lrs)
        out = []
        for net, runs in zip(nets, zip(s1, seq, one, strict=True), strict=True):
            gap = np.max(np.abs(net.apply(runs[1].final_params, Xt)
                                - net.apply(runs[2].final_params, Xt)))
            out.append((float(gap), max(_loss_ratio(r) for r in runs)))
    return out


def lookahead_error(m: int, seeds: list[int], data_seed: int) -> list[tuple[float, float]]:
    """Per seed: (look-ahead error relative to the retrained change, worst final/initial
    loss).

    f_L: the network trained on L = the first 5 points (as in :func:`sequential_gap`).
    For each of the 5 other points x' in turn, L_+ = L ∪ {x'}: the look-ahead is eq. (11)
    with the eNTK at f_L's weights, the retraining GD from f_L's weights on L_+; the
    error is the mean over 200 test points of |look − retrained| divided by the mean of
    |retrained − f_L|, averaged over the 5 candidates (one candidate alone spreads the
    per-seed errors by ~0.8 in log, five by ~0.55). The seeds of a width train together
    (:func:`_descend`)."""
    ds, nets, lrs = _setup(m, seeds, data_seed)
    X, y, Xt = ds.x_train, ds.y_train, ds.x_test
    with one_blas_thread():
        s1 = _descend(nets, X[:5], y[:5], lrs)
        p1 = [r.final_params for r in s1]
        warm = [_warm(net, p) for net, p in zip(nets, p1, strict=True)]
        K = [empirical_ntk(net, X, params=p) for net, p in zip(nets, p1, strict=True)]
        K_t = [empirical_ntk(net, Xt, X, params=p) for net, p in zip(nets, p1, strict=True)]
        f_X = [net.apply(p, X) for net, p in zip(nets, p1, strict=True)]
        f_l = [net.apply(p, Xt) for net, p in zip(nets, p1, strict=True)]
        losses = [[_loss_ratio(r)] for r in s1]
        errors: list[list[float]] = [[] for _ in seeds]
        for j in range(5, 10):
            idx = [0, 1, 2, 3, 4, j]
            retrained = _descend(warm, X[idx], y[idx], lrs)
            for i, (net, re) in enumerate(zip(nets, retrained, strict=True)):
                look = full_solve(K[i][np.ix_(idx, idx)], f_X[i][idx], y[idx], K_t[i][:, idx],
                                  f_l[i])
                f_re = net.apply(re.final_params, Xt)
                errors[i].append(np.mean(np.abs(look - f_re)) / np.mean(np.abs(f_re - f_l[i])))
                losses[i].append(_loss_ratio(re))
    return [(float(np.mean(e)), max(ls)) for e, ls in zip(errors, losses, strict=True)]


def _width_rate(ntk, experiment, name: str, claimed: float) -> None:
    """The rate of ``experiment``'s first value over the width ladder; every run must
    have trained (``TRAINED``)."""
    data_seed = ntk.seeds(1, "data")[0] % 2**31

    def measure(m, seeds):
        return [Measured(value, trained=loss)
                for value, loss in experiment(int(m), [s % 2**31 for s in seeds], data_seed)]

    _note_numpy(ntk)
    low, high = ntk.pick(quick=(6, 11), thorough=(6, 12))
    widths = [2**k for k in range(low, high + 1)]
    # the seeds of a width train as one batched computation; a width is a function of
    # (m, seeds) alone and brings its losses back with it, so on a Dask run the widths
    # spread over the workers (docs/cluster.md)
    d = ntk.rate(measure, widths, claimed=claimed, slack=SLACK, slack_reason=SLACK_REASON,
                 seeds=ntk.pick(quick=32, thorough=64),
                 sweep=f"lookahead.{name}", batch=True, spread=True)
    ntk.require("trained", max(p.data["trained"] for p in d.points), at_most=TRAINED,
                what="largest final/initial training loss over the ladder's GD runs")
    ntk.record(medians=d.data["medians"], widths=widths)


@claim("lookahead.finite_width", kind="rate",
       title="Thm 3.1 at finite width: sequential vs one-shot GD training decays in m",
       statement=r"\sup_x|f_{S_1\to S_2}(x)-f_{S_2}(x)| = O(m^{-1/2})",
       source=SOURCE + ", §3, Thm 3.1 (its infinite-width limit); the rate: Lee et al. 2019 "
                       "Thm 2.1 (the paper's eq. (9))",
       not_on=TRAINING, skip_at=RATES_AT_STANDARD,
       twins=[Twin("twin_m_minus_1p2", title="twin: sequential vs one-shot decays like "
                                             "m^-1.2",
                   statement=r"\sup_x|f_{S_1\to S_2}-f_{S_2}| = O(m^{-1.2})", claimed=-1.2),
              Twin("twin_m_minus_2", title="twin: sequential vs one-shot decays like m^-2",
                   statement=r"\sup_x|f_{S_1\to S_2}-f_{S_2}| = O(m^{-2})", claimed=-2.0)])
def test_finite_width(ntk, claimed=-0.5):
    _width_rate(ntk, sequential_gap, "finite_width", claimed)


#: the look-ahead's error relative to the retrained change
LOOKAHEAD_ERROR = r"\overline{|f^{look}_{L_+}-f^{GD}_{L_+}|}\,/\,\overline{|f^{GD}_{L_+}-f_L|}"


@claim("lookahead.width_robust", kind="rate", not_on=TRAINING, skip_at=RATES_AT_STANDARD,
       title="the look-ahead approximation of retraining improves with width",
       statement=LOOKAHEAD_ERROR + r" = O(m^{-1/2})",
       source=SOURCE + ", §3 (eq. (11), justified by Thm 3.1's infinite-width limit) and §5 "
                       "(the look-ahead against SGD retraining); the rate: Lee et al. 2019",
       twins=[Twin("twin_m_minus_1p1", title="twin: the look-ahead error decays like m^-1.1",
                   statement=r"O(m^{-1.1})", claimed=-1.1),
              Twin("twin_m_minus_2", title="twin: the look-ahead error decays like m^-2",
                   statement=r"O(m^{-2})", claimed=-2.0)])
def test_width_robust(ntk, claimed=-0.5):
    _width_rate(ntk, lookahead_error, "width_robust", claimed)


# -- claims: active learning ------------------------------------------------------------
AL_CONFIG = ALConfig(classes=(3, 5, 8, 9), n_init=8, n_pool=200, n_test=500, rounds=8,
                     query=6, width=64, steps=500, lr_fraction=0.7)
#: every training must lower its loss at least five-fold. 500 GD steps at 0.7 of the
#: stability limit reach 1e-6…1e-1 of the initial loss on 8…56 digits (the slowest modes
#: of the digits' kernel set the last rounds' ratio); the look-ahead carries the
#: remaining training residual exactly (eq. (12)'s base term Θ(x,𝒳)A⁻¹r)
AL_TRAINED = 0.2
NEAR_GAIN = ("0.045: the measured gain (≈0.02) plus three half-widths (≈0.009 each) of "
             "the standard budget's interval")


def _al_body(ntk, first: str, second: str, margin: float) -> None:
    """Paired runs of the experiment (the seed fixes the data split, the initial labelled
    set and the initialisation, shared by both methods); each run's test error averaged
    over the R query rounds. The claim and its same-order twin share one sweep; the
    swapped twin measures its own, smaller one (what it must reject is far)."""
    swapped = first != "mlmoc"
    n = ntk.pick(quick=3, standard=8) if swapped else ntk.pick(quick=3, standard=80,
                                                                thorough=160)

    def run(method):
        def mean_error(seed):
            c = active_learning_curve(method, seed=seed % 2**31, config=AL_CONFIG)
            return Measured(c.mean_error, curve=c)
        return mean_error

    _note_numpy(ntk)
    # a run is a function of its seed alone and brings its curve back: on a Dask run the
    # seeds spread over the workers (docs/cluster.md)
    d = ntk.separation(run(first), run(second), margin=margin, seeds=n, labels=(first, second),
                       sweep="lookahead.active_learning" + ("/swapped" if swapped else ""),
                       spread=True)
    curves = {first: [p.data["curve"] for p in d.points[:n]],
              second: [p.data["curve"] for p in d.points[n:]]}
    ntk.require("trained", max(max(c.train_loss_ratio) for cs in curves.values() for c in cs),
                at_most=AL_TRAINED,
                what="largest final/initial training loss over every head, round and seed")
    if not swapped:
        pairs = list(zip(curves["mlmoc"], curves["random"], strict=True))
        ntk.record(labelled=curves["mlmoc"][0].labelled, config=str(AL_CONFIG),
                   accuracy_mean={m: np.mean([c.accuracy for c in cs], axis=0).round(4).tolist()
                                  for m, cs in curves.items()},
                   accuracy_sd={m: np.std([c.accuracy for c in cs], axis=0, ddof=1).round(4)
                                .tolist() for m, cs in curves.items()},
                   final_error_gain=float(np.mean([r.final_error - m.final_error
                                                   for m, r in pairs])))


@claim("lookahead.active_learning", kind="separation",
       title="MLMOC's test error over R acquisition rounds is below random acquisition's "
             "(digits 3/5/8/9)",
       statement=r"rac1R\sum_{k=1}^R\mathrm{err}_{\mathrm{MLMOC}}(k) < rac1R\sum_{k=1}^R"
                 r"\mathrm{err}_{\mathrm{random}}(k)",
       source=SOURCE + ", §5 (MNIST/SVHN/CIFAR; here 8x8 digits, CPU scale)", not_on=TRAINING,
       twins=[Twin("twin_gain_0p045", title="twin: MLMOC beats random by at least 0.045 in "
                                            "test error",
                   statement=r"\overline{\mathrm{err}}_{\mathrm{random}} - \overline{\mathrm{err}}"
                             r"_{\mathrm{MLMOC}} > 0.045",
                   near=NEAR_GAIN, margin=0.045),
              Twin("twin_random_beats",
                   title="twin: random acquisition beats MLMOC by 0.10 in test error",
                   statement=r"\overline{\mathrm{err}}_{\mathrm{random}} < \overline{\mathrm{err}}"
                             r"_{\mathrm{MLMOC}} - 0.1", first="random", second="mlmoc",
                   margin=0.10)])
def test_active_learning(ntk, first="mlmoc", second="random", margin=0.0):
    _al_body(ntk, first, second, margin)


pytestmark = pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
