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
  sympy relation in symbolic m and d (sums over the neurons j and the coordinates k of
  undefined functions a(j), w(j, k), v(j, k), x(k)), derived for the **instance m = 2, d = 2**:
  the sums written out, the triangle inequality, the per-neuron Taylor bound
  |σ(r) - σ(s) - σ'(s)(r - s)| <= β(r - s)²/2, |a_j| <= 1, Lagrange's identity
  ((uᵀx)² = ||u||²||x||² - (u_1x_2 - u_2x_1)², i.e. Cauchy–Schwarz), ||x||² <= 1 and the
  Frobenius norm's sum written out. The engine checks each step (sympy, and 50 digits at
  random points with witnesses β sin, β cos/2, β z²/2 for σ) and the proof obligations; an
  instance is evidence (HOLDS), not a proof for all m and d: the numeric spot checks cannot
  evaluate a sum with a symbolic number of terms, so a derivation in symbolic m would stay
  unchecked. The derivation does not depend on the activation, so it is one claim, checked
  once, rather than six copies.
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
* ``linearization_smooth.trained_rate.<activation>.twin_fast_rate`` — m^{-2} (far), on the
  claim's own measurements (the sweep is shared). No near twin is possible for this claim: it
  is loose by about half a power of m (fitted ≈ -1 against the claimed -1/2), so every exponent
  within 0.1 (or three half-widths of the interval) of -1/2 is *true*; the claims this ladder
  rejects are those below the interval's lower end (reported as the rejection edge, ≈ -1.3).

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
from ntkproof.derivation import Derivation, Hypothesis, chain
from ntkproof.nn.activations import SMOOTH_ACTIVATIONS
from ntkproof.nn.data import digits, sphere_teacher
from ntkproof.nn.networks import TwoLayer
from ntkproof.nn.training import gradient_descent, max_learning_rate
from ntkproof.theory.smoothness import smoothness_constant

SOURCE = "Telgarsky, DLT notes (2021-10-27), §4.1, Prop. 4.1"
STATEMENT = (r"|f(x;W)-f(x;V)-\langle\nabla f(x;V),W-V\rangle| \le "
             r"\frac{\beta}{2\sqrt m}\|W-V\|_F^2")
M_SEARCH, D_SEARCH, RHO = 4, 3, 0.05
RATE_ACTIVATIONS = ("tanh",)
SEARCH_CASES, SEARCH_RESTARTS = 64, 3


def _beta(activation: str) -> float:
    return smoothness_constant(activation).value


# -- the statement and its derivation at m = 2, d = 2 --------------------------------------

m_, d_ = sp.symbols("m d", integer=True, positive=True)
j_, k_ = sp.symbols("j k", integer=True, positive=True)
beta_ = sp.Symbol("beta", nonnegative=True)
sigma_ = sp.Function("sigma", real=True)            # generic σ (real-valued)
a_, w_, v_, x_ = (sp.Function(name, real=True) for name in ("a", "w", "v", "x"))
z_ = sp.Symbol("z", real=True)


def dsigma(s: sp.Expr) -> sp.Expr:
    """σ'(s) for an expression s."""
    return sp.Subs(sp.Derivative(sigma_(z_), z_), z_, s)


def prop_4_1_goal() -> sp.Rel:
    """Prop. 4.1 as a sympy relation, for all m, d: f(x;W) = m^{-1/2} Σ_j a(j) σ(Σ_k w(j,k)x(k))."""
    pre_w = sp.Sum(w_(j_, k_) * x_(k_), (k_, 1, d_))
    pre_v = sp.Sum(v_(j_, k_) * x_(k_), (k_, 1, d_))
    f_w = sp.Sum(a_(j_) * sigma_(pre_w), (j_, 1, m_)) / sp.sqrt(m_)
    f_v = sp.Sum(a_(j_) * sigma_(pre_v), (j_, 1, m_)) / sp.sqrt(m_)
    inner = sp.Sum(a_(j_) * dsigma(pre_v) * sp.Sum((w_(j_, k_) - v_(j_, k_)) * x_(k_), (k_, 1, d_)),
                   (j_, 1, m_)) / sp.sqrt(m_)
    frob = sp.Sum((w_(j_, k_) - v_(j_, k_)) ** 2, (k_, 1, d_), (j_, 1, m_))
    return sp.Le(sp.Abs(f_w - f_v - inner), beta_ / (2 * sp.sqrt(m_)) * frob, evaluate=False)


def _hat(i: int, r: sp.Expr) -> sp.Expr:
    """1 at r = i, 0 at the other index of {1, 2} (witnesses without Piecewise)."""
    return 2 - r if i == 1 else r - 1


def prop_4_1_derivation() -> Derivation:
    """Prop. 4.1 at the instance m = 2, d = 2 (generic σ with |σ''| <= β): the sums written
    out as a-weighted per-neuron Taylor remainders, the triangle inequality, Taylor per
    neuron, |a_j| <= 1, Lagrange's identity (Cauchy–Schwarz), ||x||² <= 1, and the
    Frobenius norm's sum written out."""
    goal, inst = prop_4_1_goal(), {m_: 2, d_: 2}
    lhs, rhs = goal.lhs.subs(inst), goal.rhs.subs(inst)
    idx = (1, 2)
    s = [v_(i, 1) * x_(1) + v_(i, 2) * x_(2) for i in idx]                 # v_jᵀx
    u = [[w_(i, k) - v_(i, k) for k in idx] for i in idx]                  # rows of W - V
    t = [u[i][0] * x_(1) + u[i][1] * x_(2) for i in range(2)]              # (w_j - v_j)ᵀx
    rem = [sigma_(s[i] + t[i]) - sigma_(s[i]) - dsigma(s[i]) * t[i] for i in range(2)]
    taylor = [beta_ / 2 * t[i] ** 2 for i in range(2)]
    a1, a2 = a_(1), a_(2)
    nx2 = x_(1) ** 2 + x_(2) ** 2
    norms = [u[i][0] ** 2 + u[i][1] ** 2 for i in range(2)]
    lagrange = [(u[i][0] * x_(2) - u[i][1] * x_(1)) ** 2 for i in range(2)]
    c, r2 = beta_ / (2 * sp.sqrt(2)), sp.sqrt(2)
    steps = chain(
        lhs,
        ("==", sp.Abs(a1 * rem[0] + a2 * rem[1]) / r2,
         "the sums over j, k in {1, 2} written out: f(W) - f(V) - <∇f(V), W - V> is the "
         "a-weighted sum of the per-neuron Taylor remainders"),
        ("<=", (sp.Abs(a1) * sp.Abs(rem[0]) + sp.Abs(a2) * sp.Abs(rem[1])) / r2,
         "triangle inequality", {"method": "rule", "rule": "sum_triangle"}),
        ("<=", (sp.Abs(a1) * taylor[0] + sp.Abs(a2) * sp.Abs(rem[1])) / r2,
         "Taylor bound, neuron 1", {"method": "hypothesis", "hypothesis": "taylor, j = 1"}),
        ("<=", (sp.Abs(a1) * taylor[0] + sp.Abs(a2) * taylor[1]) / r2,
         "Taylor bound, neuron 2", {"method": "hypothesis", "hypothesis": "taylor, j = 2"}),
        ("<=", (taylor[0] + sp.Abs(a2) * taylor[1]) / r2, "|a_1| <= 1",
         {"method": "hypothesis", "hypothesis": "|a_1| <= 1"}),
        ("<=", (taylor[0] + taylor[1]) / r2, "|a_2| <= 1",
         {"method": "hypothesis", "hypothesis": "|a_2| <= 1"}),
        ("==", c * (norms[0] + norms[1]) * nx2 - c * (lagrange[0] + lagrange[1]),
         "Lagrange's identity: (uᵀx)² = ||u||²||x||² - (u_1x_2 - u_2x_1)²"),
        ("<=", c * (norms[0] + norms[1]) * nx2, "Cauchy–Schwarz: drop the squares (β >= 0)",
         {"method": "nonnegative"}),
        ("<=", c * (norms[0] + norms[1]), "||x||² <= 1",
         {"method": "hypothesis", "hypothesis": "||x|| <= 1"}),
        ("==", rhs, "the Frobenius norm's sum written out"),
    )
    hyps = (Hypothesis("|a_1| <= 1", sp.Abs(a1), "<=", 1),
            Hypothesis("|a_2| <= 1", sp.Abs(a2), "<=", 1),
            Hypothesis("taylor, j = 1", sp.Abs(rem[0]), "<=", taylor[0]),
            Hypothesis("taylor, j = 2", sp.Abs(rem[1]), "<=", taylor[1]),
            Hypothesis("||x|| <= 1", nx2, "<=", 1))
    # witnesses: σ with |σ''| <= β, and the index functions as random numbers of the domain
    p, q = sp.symbols("p q", integer=True)
    vals = {name: sp.symbols(f"{name}1 {name}2", real=True) for name in ("a", "x")}
    mats = {name: {(i, k): sp.Symbol(f"{name}{i}{k}", real=True) for i in idx for k in idx}
            for name in ("w", "v")}

    def table(entries):
        return sp.Lambda((p, q), sum(val * _hat(i, p) * _hat(k, q)
                                     for (i, k), val in entries.items()))
    witnesses = {sigma_: [sp.Lambda(z_, beta_ * sp.sin(z_)), sp.Lambda(z_, beta_ * sp.cos(z_) / 2),
                          sp.Lambda(z_, beta_ * z_**2 / 2)],
                 a_: [sp.Lambda(p, vals["a"][0] * _hat(1, p) + vals["a"][1] * _hat(2, p))],
                 x_: [sp.Lambda(p, vals["x"][0] * _hat(1, p) + vals["x"][1] * _hat(2, p))],
                 w_: [table(mats["w"])], v_: [table(mats["v"])]}
    dom = {beta_: (0.0, 2.0)}
    dom.update({sym: (-1.0, 1.0) for sym in vals["a"]})
    dom.update({sym: (-0.7, 0.7) for sym in vals["x"]})              # ||x||² <= 0.98
    dom.update({sym: (-2.0, 2.0) for e in mats.values() for sym in e.values()})
    return Derivation("Prop. 4.1: the linearisation error of a smooth two-layer network, "
                      "generic σ with |σ''| <= β, at m = 2, d = 2", steps,
                      goal=sp.Le(lhs, rhs, evaluate=False), instance=inst, hypotheses=hyps,
                      witnesses=witnesses, domain=dom)


@claim("linearization_smooth.derivation", kind="derivation",
       title="Prop. 4.1 for a generic β-smooth σ, derived at m = 2, d = 2",
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
       twins=[Twin("twin_fast_rate",
                   title="twin: the trained linearisation error decays like m^{-2} ({activation})",
                   statement=r"|f-f_0| = O(m^{-2})", claimed=-2.0)])
@pytest.mark.parametrize("activation", RATE_ACTIVATIONS)
def test_trained_rate(ntk, activation, claimed=-0.5):
    _trained_rate(ntk, activation, claimed)
