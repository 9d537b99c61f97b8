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
  half-widths of them: ``...trained_tracks_linear.two_layer_relu.twin_rate_m0p95`` (fitted
  ≈ -0.64; rejected with margin 0.07 … 0.19 over run seeds 0–4) and
  ``...kernel_constancy.two_layer_relu.twin_rate_m0p85`` (fitted ≈ -0.74; margin 0.03 … 0.07).
* ``gradient_flow.equivalence.twin_rate_kappa2`` — the gap O(κ²) = O(m^{-1/2}) along the path:
  near the fitted exponent (≈ -0.3, within three half-widths), rejected over run seeds 0–6
  (margin >= 0.04 on at least one depth); ``...twin_rate_m1p5`` (m^{-3/2}): far.
* No near twin for the tanh and depth-3 rates at this budget. The theorem's m^{-1/2} is loose
  there (fitted -0.75 … -0.95), so a near twin must sit just past the fitted exponent; with
  the tanh slacks (0.23, 0.11) and interval widths (0.27 … 0.35 tracking, 0.12 … 0.21 kernel,
  16 seeds) no exponent within three half-widths of the fitted one is rejected in every run
  seed 0–4 (tanh kernel: lower ends -1.05 … -0.99, so a twin must lie below -1.16, 0.22 …
  0.27 from the fitted exponent, while three half-widths are 0.18 … 0.31). The report's power
  column shows each one's rejection edge instead.

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
step) from the standard budget on, 2^5…2^10. Precondition: every run trained (final loss at
most 5e-2 of the initial, 2e-1 for the depth-3 MLP; observed at most 1.0e-2 for the two-layer
nets over run seeds 0–4, 7e-2 for the depth-3 tanh MLP, whose runs fit slowest).
Slack of each upper rate: the finite-size bias of the budget's ladder, measured on pooled
runs (two-layer: 32 seeds, 2^5…2^11 for quick and 2^5…2^12 for standard; depth-3 MLP,
2^5…2^10: 24 seeds for ReLU, for tanh 7 seeds and the 12-seed standard ladder of the
published report, which agree within 0.11): the drift (slope of the upper half minus the
lower half of the ladder) was -0.01 / -0.06 (two-layer ReLU tracking, quick / standard),
+0.06 / +0.04 (ReLU kernel), -0.23 / -0.20 (tanh tracking), -0.11 / -0.20 (tanh kernel),
-0.16 (depth-3 ReLU tracking), +0.05 (depth-3 ReLU kernel), -0.45 and -0.35 (depth-3 tanh
tracking and kernel). A negative drift means the local slopes steepen
with m, so a fitted interval sits above the asymptotic exponent by about that much: the
slack is its size (for ReLU tracking the larger, 0.06, at both budgets: the quick value is
inside its noise). A positive drift (flattening) gets none: the intervals lie 0.18 or more
below the claimed -1/2, more than the drift could move them.

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
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from ntkproof import Twin, claim
from ntkproof.derivation import Derivation, Hypothesis, chain
from ntkproof.nn.data import digits, sphere_teacher
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.flow import gradient_descent as flow_gd
from ntkproof.nn.flow import gradient_flow, gradient_flow_ode, kernel_regression
from ntkproof.nn.kernels import infinite_width, two_layer_relu_ntk
from ntkproof.nn.networks import MLP, Scaled, TwoLayer
from ntkproof.nn.training import gradient_descent as train_gd
from ntkproof.nn.training import max_learning_rate, train
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
         ("two_layer", "tanh", "gap"): (0.23, 0.2), ("two_layer", "tanh", "kernel"): (0.11, 0.2),
         ("mlp3", "relu", "gap"): (0.16, 0.16), ("mlp3", "relu", "kernel"): (0.0, 0.0),
         ("mlp3", "tanh", "gap"): (0.45, 0.45), ("mlp3", "tanh", "kernel"): (0.35, 0.35)}
SLACK_REASON = ("the finite-size drift of this budget's ladder pooled over 32 seeds (two-layer; "
                "depth-3: 24 seeds) when its local slopes steepen with m; none when they "
                "flatten, which the interval's distance from -1/2 covers (module docstring)")
SKIP_MLP3 = {"quick": "the depth-3 MLP's n·m² steps (widths 2^5…2^10, two trained hidden "
                      "layers) take minutes on two cores; it runs from the standard budget on"}
#: The training each rate assumes: the loss falls at least 20-fold in the 200 steps (5-fold
#: for the depth-3 MLP, whose tanh runs at half the stability limit fit more slowly).
TRAINED = {"two_layer": 5e-2, "mlp3": 2e-1}


def _widths(ntk, arch: str) -> list[int]:
    if arch == "mlp3":
        return [2 ** k for k in range(5, 11)]
    low = ntk.pick(quick=5, standard=6)
    return [2 ** k for k in range(low, ntk.pick(quick=11, standard=12, thorough=14) + 1)]


def track(b, arch: str, act: str, m: int, seed: int, data_seed: int, quantity: str) -> dict:
    """One GD run of width m: ``quantity="gap"`` trains the network and its linearisation by
    the same steps and gives sup over every 10th step and over the points of |f - f_lin|;
    ``"kernel"`` trains the network and gives sup over every 50th step of
    ||Θ_t - Θ_0||_F/||Θ_0||_F. Both give the final/initial training loss (``"trained"``)."""
    ds = sphere_teacher(16, 16, 5, seed=data_seed, activation="tanh")
    if arch == "two_layer":
        net = TwoLayer(5, m, act, trained="both", a_init="normal", seed=seed, backend=b)
    else:   # depth-3 MLP: two hidden layers, every weight trained
        net = MLP(2, m, act, d=5, seed=seed, backend=b)
    X, Xe = b.asarray(ds.x_train), b.asarray(np.vstack([ds.x_train, ds.x_test]))
    steps, gap = 200, quantity == "gap"
    lr = max_learning_rate(net, X) / 2
    res = train(net, X, b.asarray(ds.y_train), lr=lr, steps=steps, linearized=gap,
                checkpoints=range(0, steps + 1, 10) if gap else (),
                ntk_at=() if gap else range(0, steps + 1, 50))
    out = {"trained": float(res.net.losses[-1] / res.net.losses[0])}
    if gap:
        lin = net.linearize()
        out["gap"] = max(float(np.max(np.abs(b.to_numpy(net.apply(res.net.params[k], Xe))
                                             - b.to_numpy(lin.apply(res.lin.params[k], Xe)))))
                         for k in res.net.params)
    else:
        K0 = b.to_numpy(res.net.ntk[0])
        dk = max(np.linalg.norm(b.to_numpy(res.net.ntk[k]) - K0) for k in res.net.ntk)
        out["kernel"] = float(dk / np.linalg.norm(K0))
    return out


def _rate_claim(ntk, arch: str, act: str, quantity: str, claimed: float) -> None:
    data_seed = ntk.seeds(1, "data")[0] % 2**31
    losses: list[float] = []   # this body's runs (a twin reuses the claim's sweep)

    def measure(m, seed):
        out = track(ntk.backend, arch, act, int(m), seed % 2**31, data_seed, quantity)
        losses.append(out["trained"])
        return out[quantity]

    quick, standard = SLACK[arch, act, quantity]
    ntk.rate(measure, _widths(ntk, arch), claimed=claimed, slack=ntk.pick(quick=quick,
                                                                          standard=standard),
             slack_reason=SLACK_REASON, variable="m", seeds=ntk.pick(quick=16, standard=24),
             sweep=f"gradient_flow.track/{arch}/{act}/{quantity}")
    if losses:
        ntk.require("trained", max(losses), at_most=TRAINED[arch],
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


#: Near twins of the two-layer ReLU rates: exponents just past what the data show (fitted
#: ≈ -0.64 tracking, ≈ -0.74 kernel), rejected by the whole interval over run seeds 0–4
#: (lower ends -0.82 … -0.70 and -0.82 … -0.78). The tanh rates have none (module docstring).
TRACK_RELU_NEAR = Twin("twin_rate_m0p95", title="twin: sup |f_t - f_t^lin| = O(m^-0.95), {arch}, "
                       "{activation}", claimed=-0.95,
                       statement=r"\sup_t\sup_x|f_t(x)-f^{lin}_t(x)| = O(m^{-0.95})")
KERNEL_RELU_NEAR = Twin("twin_rate_m0p85", title="twin: kernel movement O(m^-0.85), {arch}, "
                        "{activation}", claimed=-0.85,
                        statement=r"\sup_t\|\Theta_t-\Theta_0\|_F/\|\Theta_0\|_F = O(m^{-0.85})")
test_trained_tracks_linear = rate_test("gap", ARCHS[:1], extra_twins=[TRACK_RELU_NEAR])
test_trained_tracks_linear_tanh = rate_test("gap", ARCHS[1:2])
test_trained_tracks_linear_mlp3 = rate_test("gap", ARCHS[2:], skip_at=SKIP_MLP3)
test_kernel_constancy = rate_test("kernel", ARCHS[:1], extra_twins=[KERNEL_RELU_NEAR])
test_kernel_constancy_tanh = rate_test("kernel", ARCHS[1:2])
test_kernel_constancy_mlp3 = rate_test("kernel", ARCHS[2:], skip_at=SKIP_MLP3)


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
    al.'s depth-L ReLU network of width m, output scale κ(m), trained to convergence."""
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
    trained: list[float] = []   # this body's runs (a twin reuses the claim's sweeps)
    for depth in (2, 3):
        Kall = np.asarray(infinite_width(np.vstack([X, Xt]) * np.sqrt(EQ_D / 2), depth=depth,
                                         W_std=np.sqrt(2)).ntk)
        f_ntk = kernel_regression(Kall[:EQ_N, :EQ_N], y, k_test_train=Kall[EQ_N:, :EQ_N]).test

        def measure(m, seed, depth=depth, f_ntk=f_ntk):
            gap, ratio = equivalence_gap(ntk.backend, depth, int(m), seed % 2**31, data, f_ntk)
            trained.append(ratio)
            return gap

        ntk.rate(measure, xs, claimed=claimed, slack=0.0,
                 slack_reason="none: the drift is positive (local slopes flatten towards the "
                              "initial function's exact κ = O(m^-1/4)), and the claim lies 1/8 "
                              "above that asymptote", variable="m",
                 seeds=ntk.pick(quick=16, standard=24), sweep=f"gradient_flow.equivalence/L{depth}")
    if trained:
        ntk.require("trained to convergence", max(trained), at_most=CONVERGED,
                    what="largest final/initial training loss over depths, widths and seeds")
