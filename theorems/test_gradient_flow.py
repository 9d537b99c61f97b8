r"""Gradient flow on the squared loss: the ODE solution, trained networks against their
linearisation, kernel constancy, and the trained-net / kernel-regression equivalence.

Statement
---------
Loss :math:`L(w) = \frac1n\sum_i \tfrac12 (f(x_i; w) - y_i)^2`, flow :math:`\dot w = -η∇L(w)`,
empirical NTK :math:`Θ_w(x, x') = \langle ∇_w f(x), ∇_w f(x')\rangle`, :math:`K = Θ(S, S)`.
By the chain rule the outputs obey :math:`\frac{d}{dt} f_t(S) = -\frac{η}{n} K_t (f_t(S) - y)`.
With K constant (the linearised model, or infinite width),

.. math::

    f_t(S) = y + e^{-ηtK/n}(f_0(S) - y), \qquad
    f_t(x) = f_0(x) + Θ(x,S) K^{-1}(I - e^{-ηtK/n})(y - f_0(S)),

:math:`t → ∞` gives kernel regression :math:`f_0(x) + Θ(x,S)K^{-1}(y - f_0(S))`, and discrete GD
gives :math:`(I - ηK/n)^k` in place of the exponential, stable iff :math:`0 < η < 2n/λ_{max}(K)`.
For wide networks (Lee et al. 2019, Thm 2.1; quoted as eq. (9) of Mohamadi et al. 2022) the
trained network tracks its linearisation, :math:`\sup_t \sup_x |f_t(x) - f^{lin}_t(x)| =
O(m^{-1/2})`, and the kernel barely moves, :math:`\sup_t \|Θ_t - Θ_0\|_F = O(m^{-1/2})`.
Arora et al. 2019, Thm 3.2: a fully connected ReLU network of depth L whose output is multiplied
by a small κ, trained by gradient flow to convergence, predicts at a test point what kernel
regression with the depth-L NTK predicts, :math:`f_{ntk}(x) = Θ^{(L)}(x, X)\,Θ^{(L)}(X, X)^{-1}y`,
up to an error that vanishes as κ → 0 with the width m ≥ poly(1/κ).

Claims
------
* ``gradient_flow.ode_solution`` (derivation + identities) — for a constant symmetric kernel
  of any size, the closed form f_t(X) = f_0(X) + Θ(X,S)K^{-1}(I - e^{-ηtK/n})(y - f_0(S)) at any
  inputs X (the training inputs among them, where it reads f_t(S) = y + e^{-ηtK/n}(f_0(S) - y))
  solves d/dt f_t(X) = -(η/n)Θ(X,S)(f_t(S) - y). Derived in the algebra of matrices: K,
  Θ(X,S)K^{-1}, y, f_0(S), f_0(X) are non-commuting symbols (any sizes), e^{-ηtK/n} an undefined
  matrix function with its defining property d/dt e^{-ctK} = -cK e^{-ctK} declared. Numeric:
  closed form == ODE integration (scipy DOP853), which also checks the initial values and the
  approach to kernel regression, == iterated linearised GD with (I - ηK/n)^k (a real
  ``Linearized`` network and the kernel recurrence), on random PSD kernels, the analytic
  two-layer ReLU NTK, and digits.
* ``gradient_flow.trained_tracks_linear.{arch}_{activation}`` (rate, upper m^{-1/2}).
* ``gradient_flow.kernel_constancy.{arch}_{activation}`` (rate, upper m^{-1/2}).
* ``gradient_flow.equivalence`` (two rates, depths L = 2 and 3) — along κ = κ0 (m/m0)^{-1/4}
  (m ∝ κ^{-4}, a width polynomial in 1/κ as the theorem requires), the largest test gap
  |f_nn - f_ntk| of the network trained to convergence is O(m^{-1/8}) = O(κ^{1/2}). **The
  rate is this project's empirical observation** (measured ≈ m^{-0.3}); the theorem states
  only that the gap vanishes in this limit. Precondition: every run trained to convergence
  (training loss below 1e-8 of its initial value).

Falsified twins
---------------
* ``gradient_flow.ode_solution.twin_no_1_over_n`` — the closed form with e^{-ηtK} (the 1/n of
  the mean loss dropped); rejected by the ODE reference and by the 50-digit recurrence.
* ``...trained_tracks_linear.*.twin_rate_m1p5`` (m^{-3/2}) and
  ``...kernel_constancy.*.twin_rate_m2`` (m^{-2}): far twins.
* Near twins of the two-layer ReLU rates, just past the fitted exponents and within three
  half-widths of them: ``...trained_tracks_linear.two_layer_relu.twin_rate_m0p9`` (fitted
  ≈ -0.64 quick, -0.67 standard; m^-0.95 rejected with margin 0.07 … 0.19 over run seeds
  0–4 at quick, but at the standard budget it lay 0.283 from the fitted exponent, past
  three half-widths, 0.264: so m^-0.9, rejected at run seeds 0–4 quick and 0–2 standard
  with margins 0.02 … 0.14, and near in all of them but quick seed 4, whose interval is
  the narrowest) and
  ``...kernel_constancy.two_layer_relu.twin_rate_m0p85`` (fitted ≈ -0.74; margin 0.03 … 0.07).
* ``gradient_flow.equivalence.twin_rate_kappa2`` — the gap O(κ²) = O(m^{-1/2}) along the path:
  near the fitted exponent (≈ -0.3, within three half-widths), rejected over run seeds 0–6
  (margin >= 0.04 on at least one depth); ``...twin_rate_m1p5`` (m^{-3/2}): far.
* Near twins of the two-layer tanh rates, O(m^{-1.2}) (``...trained_tracks_linear.two_layer_tanh.
  twin_rate_m1p2``, ``...kernel_constancy.two_layer_tanh.twin_rate_m1p2``): past the
  asymptotic exponent -1 the kernel's local slopes settle at (fit over 2^11…2^15, 10 data sets
  × 64 seeds: -1.008 [-1.033, -0.987]; the tracking gap's slopes reach -0.95 … -1.05 at
  2^11…2^13) and within three half-widths of the fitted exponent in every run. Over run seeds
  0–4, quick and standard: tracking fitted -0.89 … -0.94, rejected with margin 0.034 … 0.084
  (the interval's lower end above -1.2 + slack), 0.14 … 0.26 inside the near distance; kernel
  fitted -0.93 … -1.01, margin 0.033 … 0.097, 0.029 … 0.108 inside the near distance. Out of
  sample (run seeds 5–9, quick) the kernel twin is rejected and near in all five (rejection
  margin down to 0.003), the tracking twin in all five. What made them possible is the slack,
  not more seeds: "near" is three half-widths of the claim's interval, so more seeds shrink the
  near distance with the interval, and a twin exists only where the interval's width exceeds
  the slack plus the spread between data sets. The old slacks (0.23 and 0.11, drifts of single
  pools of 32 seeds, one data set: per-data-set drifts scatter by ±0.2) left none; measured on
  10 data sets × 64 seeds (batched training makes that 2 × 5760 runs a few minutes) the bias
  is 0.07 for both. The kernel runs on 2^7…2^13 with 12 seeds, where its slopes are nearer
  their asymptote; at 2^5…2^11 its bias (0.07 below -1.008's fit) left a common window only
  for some seed counts. With 12 seeds the window common to run seeds 0–4 is [-1.229, -1.163);
  with 16 it is 0.02 wide, with 24 0.01 (quick): the sizes are fixed at every budget, so
  that one twin serves quick and standard.
* Near twins of the depth-3 rates (module docstring's setup: scaled labels, four data sets
  per ladder, slacks measured on other data sets), past each fitted exponent by more than
  the slack plus the interval's lower half and within three half-widths of it. Over run
  seeds 0–4 at the standard budget (fitted exponent, interval; the twin's margin):
  ReLU tracking ``twin_rate_m0p9`` (fitted -0.63 … -0.71; lower ends -0.81 … -0.76,
  margin 0.09 … 0.14), ReLU kernel ``twin_rate_m0p95`` (-0.76 … -0.82; lower ends
  -0.90 … -0.83, margin 0.05 … 0.12), tanh tracking ``twin_rate_m1p3`` (-0.87 … -1.00;
  lower ends -1.17 … -1.02 at run seeds 0–3, margin 0.02 … 0.17 over the edge
  -1.3 + 0.11; near in all but run seed 2, whose interval is the narrowest: 3
  half-widths 0.38, distance 0.43) and tanh kernel ``twin_rate_m1p2`` (-0.86 … -0.96;
  lower ends -1.10 … -1.06 at run seeds 0–3, margin 0.03 … 0.07 over -1.2 + 0.07). At run
  seed 4 both tanh intervals are twice as wide (half-widths 0.31 and 0.25: the four data
  sets' errors spread apart) and these two twins are not rejected (INCONCLUSIVE, shown as
  lost power); the m^-1.5 tracking twin is then within three half-widths and rejected.
  More seeds would narrow them; 24 keep the depth-3 ladders at about a minute each.

Source
------
Jacot, Gabriel & Hongler 2018 (NeurIPS 2018, arXiv 1806.07572); Lee et al. 2019 (NeurIPS 2019,
arXiv 1902.06720), Thm 2.1, as quoted in Mohamadi, Bae & Sutherland 2022 (arXiv 2206.12569),
eq. (9); S. Arora, S. Du, W. Hu, Z. Li, R. Salakhutdinov, R. Wang, "On exact computation with an
infinitely wide neural net", NeurIPS 2019 (arXiv 1904.11955), §3, Thm 3.2; the placement of 1/n
and η as in neural-tangents ``predict.gradient_descent_mse``.

Setup, tolerances and slacks
----------------------------
Identities: float64 1e-10 relative to the size of the outputs; the ODE reference is integrated
at rtol 1e-12, inside that. scipy's eigh and solve_ivp are float64, so at 50 digits (mpmath) the
identities that use them are not run (``ntk.pick(mpmath=...)``); the network-against-recurrence
identity and the derivations run on every backend.

Tracking and kernel rates: 16 training and 16 test points on the unit sphere of R^5 labelled by
a tanh teacher, one data set per claim (drawn from the claim's seed; the seeds draw the
initialisations), all layers trained, full-batch GD with η = n/λ_max(K_0), half the stability
limit 2n/λ_max and below Lee et al.'s η_crit = 2n/(λ_min + λ_max), 200 steps. Tracking: the
network and its linearisation by the same steps, sup over every 10th step and over train and
test points; kernel: the network alone, sup over every 50th step. Widths 2^5…2^11 with 16
seeds (quick), 2^6…2^12 with 24 (standard), 2^6…2^14 (thorough); the depth-3 MLP (n·m² per
step) from the standard budget on, 2^5…2^10 with 24 seeds on 4 data sets (seed i of a
width's draw on data set i mod 4, ``mlp3_runs``) whose labels are scaled to standard
deviation 1/4 (``MLP3_LABEL_STD``). Why: the depth-3 finite-size bias depends on the data
set, mostly through the size of its labels. With the teacher's labels as drawn (standard
deviation 0.16 … 0.96), one data set per claim gave fitted tanh-tracking exponents from
-0.73 (run seeds 0 and 2, labels of standard deviation 0.96 and 0.62: the network moves
further and the local slopes were still steepening at 2^10) to -0.95 (run seed 1, 0.39);
no slack both covers that and leaves a near twin. Scaled labels and four data sets
per ladder fit the mean behaviour the slack is measured on. The two-layer tanh rates at every budget:
tracking 2^5…2^11 with 16 seeds, kernel 2^7…2^13 with 12 (``TANH_SIZES``; see the near twins).
The seeds of one width train as one batched computation (``train_seeds``: the network, its
linearisation in function space, the eNTK Grams at the kept steps, every seed's own step size
2n/λ_max/2 from one stacked Gram), the same steps as ``train`` per seed to rounding (1e-13
relative in the measured errors): ``ntk.rate(..., batch=True)`` asks for every seed of a width
in one call (one task on a Dask run). Precondition: every run trained (final loss at
most 5e-2 of the initial, 2e-1 for the depth-3 MLP; observed at most 1.0e-2 for the two-layer
nets over run seeds 0–4, 7.8e-2 for the depth-3 tanh MLP over run seeds 0–4, whose runs fit slowest).
Slack of each upper rate: the finite-size bias of the budget's ladder, measured on pooled
runs (two-layer: 32 seeds, 2^5…2^11 for quick and 2^5…2^12 for standard): the drift (slope
of the upper half minus the lower half of the ladder) was -0.01 / -0.06 (two-layer ReLU
tracking, quick / standard), +0.06 / +0.04 (ReLU kernel). The depth-3 slacks are measured
by ``python benchmarks/finite_size_drift.py mlp3 ACT QUANTITY`` on 8 data sets (seeds
10000…10007, apart from every run's draws) × 48 seeds, 2^5…2^10, scaled labels: the drift
of the data sets' mean curve (log median error averaged over the data sets per width)
was -0.105 ± 0.052 (tanh tracking; local slopes -0.79, -0.85, -1.03, -0.95, -0.91),
-0.061 ± 0.046 (tanh kernel; -0.89, -0.89, -1.01, -0.99, -0.91), +0.059 ± 0.017 (ReLU
tracking; mean fit -0.68) and +0.127 ± 0.029 (ReLU kernel; mean fit -0.82),
± one standard error over the data sets; slacks 0.11 and 0.07 (tanh, rounded up), none
for ReLU (flattening). The two-layer tanh rates' slack, 0.07
each, is measured on 10 data sets (run seeds 0–9) × 64 seeds: pooled drift -0.069 (tracking,
2^5…2^11; its pooled fit -0.915 against -0.970 on 2^9…2^13) and -0.074 (kernel, 2^7…2^13;
its pooled fit -0.969 against -1.008 on 2^11…2^15, where the local slopes settle at -1.0). A negative drift means the local slopes steepen
with m, so a fitted interval sits above the asymptotic exponent by about that much: the
slack is its size (for ReLU tracking the larger, 0.06, at both budgets: the quick value is
inside its noise). A positive drift (flattening) gets none: the two-layer intervals lie 0.18
or more below the claimed -1/2, more than the drift could move them; the depth-3 ReLU
tracking interval's upper end lies only 0.004 … 0.13 below it (run seeds 0–4): a ladder
whose slopes flatten further makes it INCONCLUSIVE, never HOLDS by a slack.

Equivalence (Arora et al.'s network): ``MLP(L, m, "relu", W_std=√2, b_std=0)`` applied to
x·sqrt(d/2) is Arora et al.'s f^{(1)} = W^{(1)}x, g^{(h)} = sqrt(2/m)σ(f^{(h)}), output
W^{(L+1)}g^{(L)} with c_σ = 2, all weights N(0, 1) and all trained; the output is multiplied by
κ (``Scaled(..., centred=False)``). Its NTK is Arora et al.'s Θ^{(L)} =
``infinite_width(x·sqrt(d/2), depth=L, W_std=√2).ntk``. n = 8 training and 32 test points on
the unit sphere of R^8, labels from a tanh teacher scaled to max |y| = 1, one data set per claim.
GD on the mean loss at η = n/(κ²λ_max(Θ_m)) (half the stability limit; Arora et al.'s sum loss
rescales time only, the limit t → ∞ is the same) until the loss is below 1e-8 of its initial
value (at most 4000 steps). κ = (1/4)(m/32)^{-1/4}; widths 2^5…2^9 (quick, 16 seeds),
2^5…2^10 (standard, 24 seeds). The gap has two parts: κ(f_0(x) - Θ(x,X)Θ^{-1}f_0(X)) (the
initial function, exactly proportional to κ = O(m^{-1/4})) and what the finite width and the
movement of the weights add (measured to decay faster, ≈ m^{-0.4} along this path). Over run
seeds 1–6 the fitted exponents were -0.26 … -0.39 and the intervals' upper ends -0.16 … -0.25
(both depths); a single run's drift is noise (-0.3 … +0.3), and the asymptote of the slope is
the initial function's exact -1/4. The claimed -1/8 lies 1/8 above that asymptote: no slack.
The seeds of a width train together (``equivalence_runs``): GD on κ·f at step size
n/(κ²λ_max) is GD on f with targets y/κ at step size n/λ_max, which ``train_seeds`` runs for
the whole group; each seed still stops at its own step (read from its losses; its parameters
are kept around the step its linearisation predicts, and a seed that stops elsewhere runs
again to its step), so the gaps and loss ratios equal the per-seed loop's to rounding (1e-11
relative: up to a few hundred steps of GD).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from ntkproof import Measured, Twin, claim
from ntkproof.derivation import Derivation, Hypothesis, chain
from ntkproof.errors import DivergenceError
from ntkproof.nn.batched import empirical_ntk_seeds, max_learning_rates, train_seeds
from ntkproof.nn.data import digits, sphere_teacher
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.flow import gradient_descent as flow_gd
from ntkproof.nn.flow import gradient_flow, gradient_flow_ode, kernel_regression
from ntkproof.nn.kernels import infinite_width, two_layer_relu_ntk
from ntkproof.nn.networks import MLP, Scaled, TwoLayer
from ntkproof.nn.training import gradient_descent as train_gd
from ntkproof.rng import generator, unit_vectors

SOURCE = ("Lee et al. 2019 (NeurIPS 2019, arXiv 1902.06720) Thm 2.1, as quoted in Mohamadi et "
          "al. 2022 (arXiv 2206.12569) eq. (9); Jacot et al. 2018")
ARORA = ("S. Arora, S. Du, W. Hu, Z. Li, R. Salakhutdinov, R. Wang, On exact computation with an "
         "infinitely wide neural net, NeurIPS 2019 (arXiv 1904.11955), §3, Thm 3.2")
NOT_ON_MPMATH = {"mpmath": "hundreds of GD steps on width-32…2048 networks in 50-digit "
                           "arithmetic are out of reach; the rates run on numpy and torch"}

# -- the ODE solution, in the algebra of matrices --------------------------------------
T = sp.Symbol("t", nonnegative=True)
ETA, N = sp.Symbol("eta", positive=True), sp.Symbol("n", positive=True)
C = ETA / N
# K = Θ(S,S) (n×n), B = Θ(X,S)K^{-1} (rows: any inputs X, the training inputs among them, whose
# rows of B are those of I), y and g = f_0(S) (n-vectors), z0 = f_0(X): any sizes, so symbols
# that do not commute; E(t) = e^{-ηtK/n}, an undefined matrix function of t
K, B, Y, G, Z0 = sp.symbols("K B y g z0", commutative=False)
E = sp.Function("E", commutative=False)
F_TRAIN = Y + E(T) * (G - Y)                           # f_t(S)
F_ALL = Z0 + B * (1 - E(T)) * (Y - G)                  # f_t(X)
GOAL_ODE = sp.Eq(sp.Derivative(F_ALL, T), -C * (B * K) * (F_TRAIN - Y), evaluate=False)
ODE_STATEMENT = (r"f_t(X) = f_0(X) + \Theta(X,S)K^{-1}(I - e^{-\eta tK/n})(y - f_0(S))\ "
                 r"\text{solves}\ \tfrac{d}{dt}f_t(X) = -\tfrac{\eta}{n}\Theta(X,S)"
                 r"(f_t(S)-y),\ f_t(S) = y + e^{-\eta tK/n}(f_0(S)-y)")
EXP_HYP = Hypothesis("d/dt e^(-ctK) = -cK e^(-ctK)", sp.Derivative(E(T), T), "==",
                     -C * K * E(T), bound=(T,))


def flow_derivation() -> Derivation:
    """For matrices of any size: the closed form's time derivative is -(η/n)Θ(X,S)(f_t(S) - y).
    The spot checks read the symbols as numbers (a 1×1 instance, E(t) = e^{-ctK} there)."""
    steps = chain(sp.Derivative(F_ALL, T),
                  ("==", -B * sp.Derivative(E(T), T) * (Y - G),
                   "d/dt is linear; f_0(X), B, y and f_0(S) do not depend on t"),
                  ("==", C * B * K * E(T) * (Y - G), "d/dt e^(-ηtK/n) = -(η/n)K e^(-ηtK/n); "
                   "then Θ(X,S) = BK and E(t)(y - f_0(S)) = -(f_t(S) - y)",
                   {"method": "hypothesis", "hypothesis": EXP_HYP.name}))
    return Derivation("the closed form solves the flow's ODE (matrices of any size)", steps,
                      goal=GOAL_ODE, hypotheses=(EXP_HYP,),
                      domain={T: (0.0, 3.0), ETA: (0.1, 2.0), N: (1.0, 8.0), K: (0.1, 2.0),
                              B: (-2.0, 2.0), Y: (-2.0, 2.0), G: (-2.0, 2.0), Z0: (-2.0, 2.0)},
                      witnesses={E: [sp.Lambda(T, sp.exp(-C * K * T))]})


# -- numeric identities -------------------------------------------------------------------
def _problem(kind: str, seed: int) -> dict:
    """Kernel, targets, f_0 for one identity case (numpy float64)."""
    rng = generator(seed)
    if kind == "random_psd":
        n, nt = 8, 5
        A = rng.standard_normal((n + nt, n + nt + 3))
        Kall = A @ A.T / (n + nt)
    elif kind == "analytic_ntk":
        n, nt = 10, 6
        ds = sphere_teacher(n, nt, 4, seed=seed)
        Kall = two_layer_relu_ntk(np.vstack([ds.x_train, ds.x_test]))
    else:
        n, nt = 12, 8
        ds = digits(n, seed=seed, classes=(3, 8), n_test=nt)
        Kall = two_layer_relu_ntk(np.vstack([ds.x_train, ds.x_test]))
    y = rng.standard_normal(n)
    f0 = 0.3 * rng.standard_normal(n + nt)
    K, Kx = Kall[:n, :n], Kall[n:, :n]
    lr = n / np.linalg.eigvalsh(K)[-1]
    return dict(K=(K + K.T) / 2, Kx=Kx, y=y, f0=f0[:n], f0x=f0[n:], lr=lr, n=n)


def closed_vs_ode(drop_1_over_n: bool = False):
    """(max |closed form - ODE integration|, 0, size of the outputs) on train and test."""
    def evaluate(b, kind, seed):
        p = _problem(kind, seed)
        t = np.array([0.5, 3.0, 20.0]) * p["n"] / (p["lr"] * np.linalg.eigvalsh(p["K"])[-1])
        kw = dict(k_test_train=p["Kx"], fx_train_0=p["f0"], fx_test_0=p["f0x"])
        lr_closed = p["lr"] * (p["n"] if drop_1_over_n else 1.0)
        closed = gradient_flow(p["K"], p["y"], t, learning_rate=lr_closed, **kw)
        ode = gradient_flow_ode(p["K"], p["y"], t, learning_rate=p["lr"], **kw)
        gap = max(np.max(np.abs(closed.train - ode.train)), np.max(np.abs(closed.test - ode.test)))
        scale = max(np.max(np.abs(ode.train)), np.max(np.abs(ode.test)))
        return gap, 0.0, scale
    return evaluate


def closed_vs_iterated(b, kind, seed):
    """(max |(I - ηK/n)^k closed form - the kernel recurrence iterated on backend b|, 0, scale)."""
    p = _problem(kind, seed)
    steps = 40
    gd = flow_gd(p["K"], p["y"], steps, k_test_train=p["Kx"], fx_train_0=p["f0"],
                 fx_test_0=p["f0x"], learning_rate=p["lr"])
    K, Kx, y = b.asarray(p["K"]), b.asarray(p["Kx"]), b.asarray(p["y"])
    f, fx, c = b.asarray(p["f0"]), b.asarray(p["f0x"]), b.scalar(p["lr"] / p["n"])
    for _ in range(steps):
        r = f - y
        f, fx = f - c * b.matmul(K, r), fx - c * b.matmul(Kx, r)
    gap = max(np.max(np.abs(b.to_numpy(f) - gd.train)), np.max(np.abs(b.to_numpy(fx) - gd.test)))
    return gap, 0.0, max(np.max(np.abs(gd.train)), np.max(np.abs(gd.test)))


def network_vs_recurrence(closed: bool = True, drop_1_over_n: bool = False):
    """evaluate(b, seed): a real Linearized network trained by GD (training module) against
    the closed form (closed=True, numpy float64) or the kernel recurrence
    f_(k+1) = f_k - (η/n)K(f_k - y) iterated on the same backend (every backend, 50 digits on
    mpmath). ``drop_1_over_n`` is the twin's recurrence, with η in place of η/n."""
    def evaluate(b, seed):
        ds = sphere_teacher(6, 4, 3, seed=seed)
        net = TwoLayer(3, 16, "tanh", trained="both", a_init="normal", seed=seed, backend=b)
        lin = net.linearize()
        X, Xt = b.asarray(ds.x_train), b.asarray(ds.x_test)
        K = empirical_ntk(net, X)
        Kx = empirical_ntk(net, Xt, X)
        lr, steps = 0.5, 12
        traj = train_gd(lin, X, b.asarray(ds.y_train), lr=lr, steps=steps)
        f_net = b.to_numpy(lin.apply(traj.final_params, X))
        fx_net = b.to_numpy(lin.apply(traj.final_params, Xt))
        f0, f0x = net.apply(net.params0, X), net.apply(net.params0, Xt)
        n = X.shape[0] if not drop_1_over_n else 1
        if closed:
            ref = flow_gd(b.to_numpy(K), ds.y_train, steps, k_test_train=b.to_numpy(Kx),
                          fx_train_0=b.to_numpy(f0), fx_test_0=b.to_numpy(f0x),
                          learning_rate=lr * X.shape[0] / n)
            rf, rfx = ref.train, ref.test
        else:
            y, c = b.asarray(ds.y_train), b.scalar(lr) / b.scalar(n)
            f, fx = f0, f0x
            for _ in range(steps):
                r = f - y
                f, fx = f - c * b.matmul(K, r), fx - c * b.matmul(Kx, r)
            rf, rfx = b.to_numpy(f), b.to_numpy(fx)
        gap = max(np.max(np.abs(f_net - rf)), np.max(np.abs(fx_net - rfx)))
        return gap, 0.0, max(np.max(np.abs(rf)), np.max(np.abs(rfx)), 1.0)
    return evaluate


KERNEL_CASES = ("random_psd", "analytic_ntk", "digits")


@claim("gradient_flow.ode_solution", kind="derivation",
       title="closed-form gradient flow with a constant kernel (1/n from the mean loss)",
       statement=ODE_STATEMENT, source=SOURCE, goal=GOAL_ODE,
       twins=[Twin("twin_no_1_over_n", kind="identity",
                   title="twin: the closed form with exp(-ηtK) (1/n dropped)",
                   statement=r"f_t(S) = y + e^{-\eta tK}(f_0(S)-y)", drop_1_over_n=True)])
def test_ode_solution(ntk, drop_1_over_n=False):
    seeds = ntk.seeds(2, "kernels")
    # scipy's eigh and solve_ivp are float64: those references have no cases at 50 digits
    scipy_cases = ntk.pick(quick=[{"kind": k, "seed": s} for k in KERNEL_CASES for s in seeds],
                           mpmath=[])
    if scipy_cases:
        ntk.identity(closed_vs_ode(drop_1_over_n), scipy_cases)
    ntk.identity(network_vs_recurrence(closed=False, drop_1_over_n=drop_1_over_n),
                 [{"seed": s % 2**31} for s in seeds])
    if scipy_cases:
        ntk.identity(closed_vs_iterated, scipy_cases)
        ntk.identity(network_vs_recurrence(closed=True), [{"seed": s % 2**31} for s in seeds])
    ntk.derivation(flow_derivation(), points=8)


# -- wide networks against their linearisation --------------------------------------------
ARCHS = [("two_layer", "relu"), ("two_layer", "tanh"), ("mlp3", "relu"), ("mlp3", "tanh")]
#: Slack of each upper rate: the finite-size bias measured on the ladder (module docstring).
SLACK = {("two_layer", "relu", "gap"): (0.06, 0.06), ("two_layer", "relu", "kernel"): (0.0, 0.0),
         ("two_layer", "tanh", "gap"): (0.07, 0.07), ("two_layer", "tanh", "kernel"): (0.07, 0.07),
         ("mlp3", "relu", "gap"): (0.0, 0.0), ("mlp3", "relu", "kernel"): (0.0, 0.0),
         ("mlp3", "tanh", "gap"): (0.11, 0.11), ("mlp3", "tanh", "kernel"): (0.07, 0.07)}
SLACK_REASON = ("the finite-size drift of this budget's ladder pooled over 32 seeds when its "
                "local slopes steepen with m; none when they flatten, which the interval's "
                "distance from -1/2 covers (module docstring)")
MLP3_SLACK_REASON = ("the finite-size drift of the 2^5...2^10 ladder measured on 8 data sets x "
                     "48 seeds outside any run's draws (benchmarks/finite_size_drift.py): mean "
                     "drift -0.105 +- 0.052 (tanh tracking) and -0.061 +- 0.046 (tanh kernel), "
                     "the slack rounded up; ReLU +0.059 and +0.127, flattening: none (module "
                     "docstring)")
TANH_SLACK_REASON = ("the finite-size bias of this ladder measured on 10 data sets x 64 seeds "
                     "(run seeds 0-9): pooled drift -0.069 (tracking, 2^5...2^11) and -0.074 "
                     "(kernel, 2^7...2^13); the kernel's local slopes settle at -1.0 above "
                     "2^11 (fit over 2^11...2^15: -1.008), 0.04 below the ladder's fit "
                     "(module docstring)")
#: The two-layer tanh rates have a ladder and seed count of their own, the same at every
#: budget (log2 of the narrowest and widest network, seeds): sized so that a near twin is
#: rejected (module docstring, "Near twins of the tanh rates").
TANH_SIZES = {"gap": (5, 11, 16), "kernel": (7, 13, 12)}
SKIP_MLP3 = {"quick": "the depth-3 MLP's n·m² steps (widths 2^5…2^10, two trained hidden "
                      "layers) take minutes on two cores; it runs from the standard budget on"}
#: The depth-3 MLP's labels are scaled to this standard deviation, and its ladders run on
#: this many data sets (module docstring).
MLP3_LABEL_STD, MLP3_DATASETS = 0.25, 4
#: The training each rate assumes: the loss falls at least 20-fold in the 200 steps (5-fold
#: for the depth-3 MLP, whose tanh runs at half the stability limit fit more slowly).
TRAINED = {"two_layer": 5e-2, "mlp3": 2e-1}


def _widths(ntk, arch: str, act: str, quantity: str) -> list[int]:
    if arch == "mlp3":
        return [2 ** k for k in range(5, 11)]
    if act == "tanh":
        low, high, _ = TANH_SIZES[quantity]
        return [2 ** k for k in range(low, high + 1)]
    low = ntk.pick(quick=5, standard=6)
    return [2 ** k for k in range(low, ntk.pick(quick=11, standard=12, thorough=14) + 1)]


def track_seeds(b, arch: str, act: str, m: int, seeds: list[int], data_seed: int,
                quantity: str) -> list[dict]:
    """The GD runs of width m for ``seeds``, trained as one batched computation
    (:func:`~ntkproof.nn.batched.train_seeds`: the same steps as ``train`` per seed, to
    rounding). ``quantity="gap"`` trains each network and its linearisation by the same
    steps and gives sup over every 10th step and over the points of |f - f_lin|;
    ``"kernel"`` trains the networks and gives sup over every 50th step of
    ||Θ_t - Θ_0||_F/||Θ_0||_F. Both give the final/initial training loss (``"trained"``)."""
    ds = sphere_teacher(16, 16, 5, seed=data_seed, activation="tanh")
    if arch == "two_layer":
        nets = [TwoLayer(5, m, act, trained="both", a_init="normal", seed=s, backend=b)
                for s in seeds]
    else:   # depth-3 MLP: two hidden layers, every weight trained
        nets = [MLP(2, m, act, d=5, seed=s, backend=b) for s in seeds]
    X, Xe = b.asarray(ds.x_train), b.asarray(np.vstack([ds.x_train, ds.x_test]))
    y = ds.y_train if arch == "two_layer" else ds.y_train * (MLP3_LABEL_STD / np.std(ds.y_train))
    steps, gap = 200, quantity == "gap"
    lrs = [lr / 2 for lr in max_learning_rates(nets, X)]
    runs = train_seeds(nets, X, b.asarray(y), lr=lrs, steps=steps, linearized=gap,
                       checkpoints=range(0, steps + 1, 10) if gap else (),
                       ntk_at=() if gap else range(0, steps + 1, 50),
                       X_eval=Xe if gap else None, keep_params=False)
    out = []
    for res in runs:
        row = {"trained": float(res.net.losses[-1] / res.net.losses[0])}
        if gap:     # the outputs on Xe at steps 0, 10, ..., 200 of both models
            row["gap"] = max(float(np.max(np.abs(b.to_numpy(res.net.outputs[k])
                                                 - b.to_numpy(res.lin.outputs[k]))))
                             for k in res.net.outputs)
        else:
            K0 = b.to_numpy(res.net.ntk[0])
            dk = max(np.linalg.norm(b.to_numpy(res.net.ntk[k]) - K0) for k in res.net.ntk)
            row["kernel"] = float(dk / np.linalg.norm(K0))
        out.append(row)
    return out


def with_trained(run_width, quantity: str):
    """``ntk.rate``'s batch measure ``(m, seeds) -> [Measured]`` from ``run_width(m, seeds)``'s
    rows: the measured ``quantity``, with the run's final/initial loss as data for the body's
    precondition (it comes back from a cluster's worker too, and with a cached sweep)."""
    def measure(m, seeds):
        return [Measured(row[quantity], trained=row["trained"]) for row in run_width(m, seeds)]
    return measure


def mlp3_runs(ntk, act: str, quantity: str, seeds: int):
    """``run_width(m, seeds)`` for the depth-3 MLP: the seeds of a width split over
    ``MLP3_DATASETS`` data sets by their place in the width's draw (seed i on data set
    i mod k), each group trained as one batched computation."""
    k = MLP3_DATASETS
    data_seeds = [s % 2**31 for s in ntk.seeds(k, "data")]

    def run_width(m, ss):
        order = ntk.seeds(seeds, f"rate/{m}")
        groups: dict[int, list[int]] = {}
        for s in ss:
            groups.setdefault(order.index(s) % k if s in order else s % k, []).append(s)
        out = {}
        for j, group in groups.items():
            rows = track_seeds(ntk.backend, "mlp3", act, int(m), [g % 2**31 for g in group],
                               data_seeds[j], quantity)
            out.update(zip(group, rows, strict=True))
        return [out[s] for s in ss]
    return run_width


def _rate_claim(ntk, arch: str, act: str, quantity: str, claimed: float) -> None:
    tanh = (arch, act) == ("two_layer", "tanh")
    seeds = TANH_SIZES[quantity][2] if tanh else ntk.pick(quick=16, standard=24)
    if arch == "mlp3":
        run_width = mlp3_runs(ntk, act, quantity, seeds)
    else:
        data_seed = ntk.seeds(1, "data")[0] % 2**31
        backend = ntk.backend

        def run_width(m, ss):
            return track_seeds(backend, arch, act, int(m), [s % 2**31 for s in ss], data_seed,
                               quantity)

    quick, standard = SLACK[arch, act, quantity]
    d = ntk.rate(with_trained(run_width, quantity), _widths(ntk, arch, act, quantity),
                 claimed=claimed, slack=ntk.pick(quick=quick, standard=standard),
                 slack_reason=(TANH_SLACK_REASON if tanh else MLP3_SLACK_REASON
                               if arch == "mlp3" else SLACK_REASON), variable="m", seeds=seeds,
                 sweep=f"gradient_flow.track/{arch}/{act}/{quantity}", batch=True, spread=True)
    ntk.require("trained", max(p.data["trained"] for p in d.points), at_most=TRAINED[arch],
                what="largest final/initial training loss over the ladder")


def tracking_claim(extra_twins=(), **where):
    """``sup_t sup_x |f_t - f_t^lin| = O(m^{-1/2})``; ``where``: not_on / skip_at."""
    return claim(
        "gradient_flow.trained_tracks_linear.{arch}_{activation}", kind="rate",
        title="sup_t sup_x |f_t - f_t^lin| = O(m^-1/2), {arch}, {activation}",
        statement=r"\sup_t\sup_x|f_t(x)-f^{lin}_t(x)| = O(m^{-1/2})", source=SOURCE, **where,
        twins=[Twin("twin_rate_m1p5", title="twin: sup |f_t - f_t^lin| = O(m^-1.5), {arch}, "
                    "{activation}", statement=r"\sup_t\sup_x|f_t(x)-f^{lin}_t(x)| = O(m^{-3/2})",
                    claimed=-1.5), *extra_twins])


def kernel_claim(extra_twins=(), **where):
    """``sup_t ||Θ_t - Θ_0||_F/||Θ_0||_F = O(m^{-1/2})``; ``where``: not_on / skip_at."""
    return claim(
        "gradient_flow.kernel_constancy.{arch}_{activation}", kind="rate",
        title="sup_t ||Θ_t - Θ_0||_F / ||Θ_0||_F = O(m^-1/2), {arch}, {activation}",
        statement=r"\sup_t\|\Theta_t-\Theta_0\|_F/\|\Theta_0\|_F = O(m^{-1/2})",
        source=SOURCE, **where,
        twins=[Twin("twin_rate_m2", title="twin: kernel movement O(m^-2), {arch}, {activation}",
                    statement=r"\sup_t\|\Theta_t-\Theta_0\|_F/\|\Theta_0\|_F = O(m^{-2})",
                    claimed=-2.0), *extra_twins])


def rate_test(quantity: str, archs: list, **where):
    """The test of the tracking (``"gap"``) or kernel (``"kernel"``) rate for ``archs``."""
    @(tracking_claim if quantity == "gap" else kernel_claim)(not_on=NOT_ON_MPMATH, **where)
    @pytest.mark.parametrize("arch,activation", archs)
    def test(ntk, arch, activation, claimed=-0.5):
        _rate_claim(ntk, arch, activation, quantity, claimed)
    return test


def _track_twin(name: str, exponent: str) -> Twin:
    """A twin of the tracking rate claiming sup |f_t - f_t^lin| = O(m^-exponent)."""
    return Twin(name, title=f"twin: sup |f_t - f_t^lin| = O(m^-{exponent}), {{arch}}, "
                "{activation}", claimed=-float(exponent),
                statement=rf"\sup_t\sup_x|f_t(x)-f^{{lin}}_t(x)| = O(m^{{-{exponent}}})")


def _kernel_twin(name: str, exponent: str) -> Twin:
    """A twin of the kernel-movement rate claiming O(m^-exponent)."""
    return Twin(name, title=f"twin: kernel movement O(m^-{exponent}), {{arch}}, "
                "{activation}", claimed=-float(exponent),
                statement=rf"\sup_t\|\Theta_t-\Theta_0\|_F/\|\Theta_0\|_F = O(m^{{-{exponent}}})")


#: Near twins of the two-layer ReLU rates: exponents just past what the data show (fitted
#: ≈ -0.64 tracking, ≈ -0.74 kernel), rejected by the whole interval over run seeds 0–4
#: (lower ends -0.82 … -0.70 and -0.82 … -0.78). The tanh rates' near twins claim m^-1.2,
#: past the asymptotic -1 the kernel's slopes settle at (module docstring).
TRACK_RELU_NEAR = _track_twin("twin_rate_m0p9", "0.9")
KERNEL_RELU_NEAR = _kernel_twin("twin_rate_m0p85", "0.85")
TRACK_TANH_NEAR = _track_twin("twin_rate_m1p2", "1.2")
KERNEL_TANH_NEAR = _kernel_twin("twin_rate_m1p2", "1.2")
#: Near twins of the depth-3 rates, past the fitted exponents by more than the slack and
#: within three half-widths of them (module docstring, "Near twins of the depth-3 rates").
TRACK_MLP3_RELU_NEAR = _track_twin("twin_rate_m0p9", "0.9")
KERNEL_MLP3_RELU_NEAR = _kernel_twin("twin_rate_m0p95", "0.95")
TRACK_MLP3_TANH_NEAR = _track_twin("twin_rate_m1p3", "1.3")
KERNEL_MLP3_TANH_NEAR = _kernel_twin("twin_rate_m1p2", "1.2")
test_trained_tracks_linear = rate_test("gap", ARCHS[:1], extra_twins=[TRACK_RELU_NEAR])
test_trained_tracks_linear_tanh = rate_test("gap", ARCHS[1:2], extra_twins=[TRACK_TANH_NEAR])
test_trained_tracks_linear_mlp3_relu = rate_test("gap", ARCHS[2:3], skip_at=SKIP_MLP3,
                                                 extra_twins=[TRACK_MLP3_RELU_NEAR])
test_trained_tracks_linear_mlp3_tanh = rate_test("gap", ARCHS[3:], skip_at=SKIP_MLP3,
                                                 extra_twins=[TRACK_MLP3_TANH_NEAR])
test_kernel_constancy = rate_test("kernel", ARCHS[:1], extra_twins=[KERNEL_RELU_NEAR])
test_kernel_constancy_tanh = rate_test("kernel", ARCHS[1:2], extra_twins=[KERNEL_TANH_NEAR])
test_kernel_constancy_mlp3_relu = rate_test("kernel", ARCHS[2:3], skip_at=SKIP_MLP3,
                                             extra_twins=[KERNEL_MLP3_RELU_NEAR])
test_kernel_constancy_mlp3_tanh = rate_test("kernel", ARCHS[3:], skip_at=SKIP_MLP3,
                                             extra_twins=[KERNEL_MLP3_TANH_NEAR])


# -- Arora et al. Thm 3.2: the trained net is kernel regression with the depth-L NTK -------
EQ_D, EQ_N, EQ_NT = 8, 8, 32
KAPPA0, M0, KAPPA_EXPONENT = 0.25, 32, 0.25
CONVERGED, MAX_STEPS = 1e-8, 4000


def kappa_of(m: int) -> float:
    """The output scale on the joint path κ = κ0 (m/m0)^{-1/4}, i.e. m = m0 (κ0/κ)^4."""
    return KAPPA0 * (m / M0) ** (-KAPPA_EXPONENT)


def arora_data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n training and n_test test points on the unit sphere of R^d, bounded labels
    (a tanh teacher scaled to max |y| = 1)."""
    rng = generator(seed)
    x = unit_vectors(rng, EQ_N + EQ_NT, EQ_D)
    w, a = rng.standard_normal((32, EQ_D)), rng.standard_normal(32)
    y = np.tanh(x[:EQ_N] @ w.T) @ a
    return x[:EQ_N], y / np.max(np.abs(y)), x[EQ_N:]


def descend_to_convergence(model, X, y, lr: float) -> tuple[dict, float]:
    """Full-batch GD on (1/n)Σ½(f - y)² until the loss is below CONVERGED × its initial value
    (or MAX_STEPS); returns the parameters and the final/initial loss."""
    b, n = model.backend, X.shape[0]
    params, c, loss0 = dict(model.params0), b.scalar(lr), None
    for _ in range(MAX_STEPS + 1):
        r = model.apply(params, X) - y
        loss = 0.5 * float(np.mean(b.to_numpy(r) ** 2))
        loss0 = loss if loss0 is None else loss0
        if not np.isfinite(loss) or loss <= CONVERGED * loss0:
            break
        g = model.vjp(params, X, r / b.scalar(n))
        params = {k: params[k] - c * g[k] if k in g else params[k] for k in params}
    return params, (loss / loss0 if np.isfinite(loss) else float("inf"))


def equivalence_gap(b, depth: int, m: int, seed: int, data: tuple, f_ntk: np.ndarray
                    ) -> tuple[float, float]:
    """(max over test points of |f_nn - f_ntk|, final/initial training loss) for Arora et
    al.'s depth-L ReLU network of width m, output scale κ(m), trained to convergence: one
    seed on its own (what :func:`equivalence_runs` batches; its fallback)."""
    X, y, Xt = data
    s = np.sqrt(EQ_D / 2)
    base = MLP(depth, m, "relu", W_std=np.sqrt(2), b_std=0.0, d=EQ_D, seed=seed, backend=b)
    kappa = kappa_of(m)
    model = Scaled(base, kappa, centred=False)
    Xb, Xtb = b.asarray(X * s), b.asarray(Xt * s)
    lam_max = float(np.linalg.eigvalsh(b.to_numpy(empirical_ntk(base, Xb)))[-1]) * kappa**2
    params, trained = descend_to_convergence(model, Xb, b.asarray(y), EQ_N / lam_max)
    f_nn = b.to_numpy(model.apply(params, Xtb))
    return float(np.max(np.abs(f_nn - f_ntk))), trained


def linear_stop(K: np.ndarray, r0: np.ndarray, lr: float) -> int:
    """The step at which GD on the linearised model (Gram K at init, training residual
    r0 = f_0 - y, mean loss) first has loss <= CONVERGED × its initial loss
    (MAX_STEPS + 1 if never): where :func:`equivalence_runs` expects a network's run to
    stop (the network converges a little faster: 0 to 16 steps earlier from width 512 on,
    measured; the guess only decides where test outputs are kept, never the result)."""
    lam, V = np.linalg.eigh(K)
    c2, q = (V.T @ r0) ** 2, (1 - lr * lam / len(r0)) ** 2
    for lo in range(0, MAX_STEPS + 1, 128):   # the loss Σ c_i² q_i^k, 128 steps at a time
        ks = np.arange(lo, min(lo + 128, MAX_STEPS + 1))
        hit = np.flatnonzero((c2 * q ** ks[:, None]).sum(1) <= CONVERGED * c2.sum())
        if hit.size:
            return int(ks[hit[0]])
    return MAX_STEPS + 1


def _stop(losses: np.ndarray) -> tuple[int, float] | None:
    """(the step :func:`descend_to_convergence` stops at, its final/initial loss) from a
    run's losses, or None when the run is too short to tell."""
    last = min(len(losses) - 1, MAX_STEPS)
    hit = np.flatnonzero(losses[:last + 1] <= CONVERGED * losses[0])
    if hit.size:
        return int(hit[0]), float(losses[hit[0]] / losses[0])
    if len(losses) - 1 > MAX_STEPS:   # never converged: it returns θ after MAX_STEPS + 1 steps
        return MAX_STEPS + 1, float(losses[MAX_STEPS] / losses[0])
    return None


#: Bytes of parameters one train_seeds call of :func:`equivalence_runs` keeps around the
#: expected stopping steps (a group of seeds; one seed alone may exceed it: width 1024,
#: depth 3, 19 steps take 320 MB).
KEEP_BYTES = 2**28


def _around(k: int) -> set[int]:
    """The steps kept around an expected stop k: the network's stop lay 22 steps before to
    9 after its linearisation's (widths 512 and 1024, three data sets, 24 seeds each), most
    within 12 before to 6 after."""
    return set(range(max(k - 12, 0), min(k + 6, MAX_STEPS + 1) + 1))


def _later(losses: np.ndarray) -> set[int]:
    """The steps to keep when a run of len(losses) - 1 steps has not stopped yet: around
    where its loss, falling on at the rate of its last 10 steps, would reach CONVERGED of
    the initial loss (twice as far when it no longer falls)."""
    n = len(losses) - 1
    rate = (losses[-1] / losses[-11]) ** 0.1 if n >= 10 else 0.0
    if 0 < rate < 1 and losses[-1] > 0:
        est = n + int(np.ceil(np.log(CONVERGED * losses[0] / losses[-1]) / np.log(rate)))
    else:
        est = 2 * n + 1
    return {k for k in _around(est) if k > n} or {min(n + 1, MAX_STEPS + 1)}


def equivalence_runs(b, depth: int, m: int, seeds: list[int], data: tuple,
                     f_ntk: np.ndarray) -> list[tuple[float, float]]:
    """:func:`equivalence_gap` for every seed of width m, trained as batched computations
    (:func:`~ntkproof.nn.batched.train_seeds`), with the same numbers to rounding.

    GD on κ·f at step size η = n/(κ²λ_max) is GD on f with targets y/κ at step size
    κ²η = n/λ_max (θ ← θ - ηκJᵀ(κf - y)/n, the same step), and the loss ratio the stopping
    rule reads is the same. train_seeds runs its seeds the same number of steps, so each
    seed's stopping step is read from its losses and its parameters are kept around the
    step its linearisation predicts (:func:`linear_stop`, :func:`_around`): the seeds,
    sorted by that step, go in groups whose kept parameters stay under KEEP_BYTES (all
    seeds at once for narrow networks; one at a time at width 1024, where train_seeds runs
    one seed per chunk anyway). A seed that stopped outside its window runs again to its
    stop; one that had not stopped runs longer (:func:`_later`). A run that diverges
    (train_seeds raises) is left to :func:`equivalence_gap`, seed by seed."""
    X, y, Xt = data
    s, kappa = np.sqrt(EQ_D / 2), kappa_of(m)
    bases = [MLP(depth, m, "relu", W_std=np.sqrt(2), b_std=0.0, d=EQ_D, seed=sd, backend=b)
             for sd in seeds]
    Xb, Xtb, yk = b.asarray(X * s), b.asarray(Xt * s), b.asarray(y / kappa)
    grams = [b.to_numpy(K) for K in empirical_ntk_seeds(bases, Xb)]
    lrs = [EQ_N / float(np.linalg.eigvalsh(K)[-1]) for K in grams]
    keep = {i: _around(linear_stop(K, b.to_numpy(net.apply(net.params0, Xb)) - y / kappa, lr))
            for i, (K, net, lr) in enumerate(zip(grams, bases, lrs, strict=True))}
    size = 8 * sum(int(np.prod(v.shape)) for v in bases[0].params0.values())
    stop: dict[int, tuple[int, float] | None] = dict.fromkeys(keep)
    out: dict[int, tuple[float, float]] = {}
    try:
        while len(out) < len(seeds):
            groups: list[list[int]] = []
            for i in sorted(set(keep) - set(out), key=lambda i: max(keep[i])):
                grown = [*groups[-1], i] if groups else [i]
                if groups and len(grown) * len(set().union(*(keep[j] for j in grown))) * size \
                        <= KEEP_BYTES:
                    groups[-1] = grown
                else:
                    groups.append([i])
            for grp in groups:
                steps = sorted(set().union(*(keep[i] for i in grp)))
                runs = train_seeds([bases[i] for i in grp], Xb, yk, lr=[lrs[i] for i in grp],
                                   steps=steps[-1], checkpoints=steps, linearized=False)
                for i, res in zip(grp, runs, strict=True):
                    stop[i] = stop[i] or _stop(res.net.losses)
                    if stop[i] is None:
                        keep[i] = _later(res.net.losses)
                    elif stop[i][0] in res.net.params:
                        f_nn = kappa * b.to_numpy(bases[i].apply(res.net.params[stop[i][0]], Xtb))
                        out[i] = float(np.max(np.abs(f_nn - f_ntk))), stop[i][1]
                    else:
                        keep[i] = {stop[i][0]}
    except DivergenceError:
        return [equivalence_gap(b, depth, m, sd, data, f_ntk) for sd in seeds]
    return [out[i] for i in range(len(seeds))]


@claim("gradient_flow.equivalence", kind="rate",
       title="Arora et al. Thm 3.2: κ-scaled depth-2 and depth-3 ReLU nets trained to "
             "convergence vs depth-L NTK regression, gap O(m^-1/8) along κ ∝ m^-1/4",
       statement=r"|f_{nn}(x) - \Theta^{(L)}(x,X)\Theta^{(L)}(X,X)^{-1}y| = O(m^{-1/8})\ "
                 r"\text{along}\ \kappa = \kappa_0 (m/m_0)^{-1/4},\ L = 2, 3",
       source=ARORA + "; the rate is this project's empirical observation",
       not_on=NOT_ON_MPMATH,
       twins=[Twin("twin_rate_kappa2", title="twin: the gap O(κ²) = O(m^-1/2) along κ ∝ m^-1/4",
                   statement=r"|f_{nn}(x) - f_{ntk}(x)| = O(\kappa^2) = O(m^{-1/2})",
                   claimed=-0.5),
              Twin("twin_rate_m1p5", title="twin: the gap O(m^-1.5) along κ ∝ m^-1/4",
                   statement=r"|f_{nn}(x) - f_{ntk}(x)| = O(m^{-3/2})", claimed=-1.5)])
def test_equivalence(ntk, claimed=-0.125):
    data = arora_data(ntk.seeds(1, "data")[0] % 2**31)
    X, y, Xt = data
    xs = [2 ** k for k in range(5, ntk.pick(quick=9, standard=10, thorough=11) + 1)]
    trained: list[float] = []   # the runs' loss ratios (also from a twin's cached sweeps)
    seeds = ntk.pick(quick=16, standard=24)
    for depth in (2, 3):
        Kall = np.asarray(infinite_width(np.vstack([X, Xt]) * np.sqrt(EQ_D / 2), depth=depth,
                                         W_std=np.sqrt(2)).ntk)
        f_ntk = kernel_regression(Kall[:EQ_N, :EQ_N], y, k_test_train=Kall[EQ_N:, :EQ_N]).test

        def measure(m, ss, depth=depth, f_ntk=f_ntk, backend=ntk.backend):
            return [Measured(gap, trained=ratio) for gap, ratio in equivalence_runs(
                backend, depth, int(m), [s % 2**31 for s in ss], data, f_ntk)]

        d = ntk.rate(measure, xs, claimed=claimed, slack=0.0,
                 slack_reason="none: the drift is positive (local slopes flatten towards the "
                              "initial function's exact κ = O(m^-1/4)), and the claim lies 1/8 "
                              "above that asymptote", variable="m",
                 seeds=seeds, sweep=f"gradient_flow.equivalence/L{depth}", batch=True,
                 spread=True)
        trained += [p.data["trained"] for p in d.points]
    ntk.require("trained to convergence", max(trained), at_most=CONVERGED,
                what="largest final/initial training loss over depths, widths and seeds")
