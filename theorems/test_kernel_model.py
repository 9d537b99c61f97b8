r"""The kernel model of a two-layer network: homogeneity, the Gram at init, the residual fit.

Setting
-------
:math:`f(x;W) = m^{-1/2}\sum_j a_j\sigma(w_j^\top x)`, only W trained, ``a`` fixed (±1, and
N(0, 1) where the a_j² factor matters), W0 iid N(0, 1), ||x|| = 1;
:math:`f_0(x;W) = f(x;W_0) + \langle\nabla f(x;W_0), W-W_0\rangle` (``TwoLayer(...).linearize()``).
In matrix form, with :math:`D = \mathrm{diag}(\sigma'(W_0x))`,
:math:`\nabla_W f(x;W_0) = m^{-1/2} D a x^\top` and
:math:`\langle\nabla f(x;W_0), V\rangle = m^{-1/2} a^\top D V x`.

Statements
----------
* Homogeneity (Remark 4.8): for ReLU, σ(z) = zσ'(z), so f(x;W0) = <∇f(x;W0), W0> and
  :math:`f_0(x;W) = \langle\nabla f(x;W_0), W\rangle`; for a general σ,
  :math:`f_0(x;W) = f(x;W_0) - \langle\nabla f(x;W_0), W_0\rangle + \langle\nabla f(x;W_0), W\rangle`.
* Gram at init (§4.3): :math:`\langle\nabla f(x;W_0),\nabla f(x';W_0)\rangle =
  x^\top x'\cdot\frac1m\sum_j a_j^2\sigma'(w_{0,j}^\top x)\sigma'(w_{0,j}^\top x')`.
* Residual fit: gradient descent on the linearisation, run to convergence from W0, is
  minimum-norm kernel regression of the residual y - f(x;W0):
  :math:`f_0(x;W_\infty) = f(x;W_0) + k(x,S)K^{-1}(y - f(S;W_0))`, and
  :math:`\|W_\infty - W_0\|_F^2 = r^\top K^{-1} r` with r = y - f(S;W0).

Claims
------
* ``kernel_model.relu_homogeneity`` — one derivation of the ReLU form, for any width m,
  input dimension and weights (a, D, W0, W, x are non-commuting symbols of compatible sizes:
  the algebra of matrices of any size): the lemma relu(z) = z·relu'(z) for every real z
  (relu(z) = (z + |z|)/2, relu'(z) = (1 + sign z)/2; the value of relu'(0) never matters, it
  multiplies z = 0), then f_0 = f(x;W0) - <∇f, W0> + <∇f, W> (the general-σ form, by
  linearity of <∇f(x;W0), ·>) = <∇f(x;W0), W> (the lemma entrywise, a declared hypothesis
  that uses the lemma's steps). Identities on real networks (ReLU: Linearized.apply =
  <∇f(x;W0), W>; tanh and ReLU: the general form).
* ``kernel_model.gram`` — identity: the Gram of the network's gradients computed by automatic
  differentiation of ``TwoLayer.apply`` (torch autograd: on the torch backend, and on numpy
  when torch is installed) or by central finite differences of ``apply`` (on mpmath at 80
  digits with step 1e-25, so the truncation error h²σ'''/6 ~ 1e-50 and the rounding 1e-80/h
  ~ 1e-55 are far below the 50-digit tolerance; on numpy without torch in float64 with step
  1e-6, declared slack ×1e3 for its ~1e-9 relative error) — never the library's closed-form
  gradients — against the formula, and against the library's closed form
  (:func:`ntkproof.nn.empirical_ntk.two_layer_ntk`); ReLU, tanh and GELU, a ±1 and N(0, 1).
  The relative error is measured against the size of the summands,
  (1/m)Σ_j a_j²|σ'σ'| · Σ_k |x_k x'_k|.
* ``kernel_model.residual_fit`` — identity: GD on the linearised network (first layer,
  lr = 2n/(λ_min + λ_max), steps until the contraction factor is below 1e-13) against
  :func:`ntkproof.nn.flow.kernel_regression` with f(·; W0) as offset, on training and test
  points, and the minimum norm.

Falsified twins
---------------
* ``kernel_model.relu_homogeneity.twin_tanh`` — the ReLU form claimed for tanh.
* ``kernel_model.gram.twin_no_input_kernel`` — the Gram without xᵀx' (far).
* ``kernel_model.gram.twin_wrong_derivative`` — the formula and the closed form with a wrong
  σ' = √1.1·σ' (4.9% off), so every Gram entry is 10% too large: a constant off by 10%
  (near); the autodiff route is independent of the catalogue's σ', so it rejects it.
* ``kernel_model.residual_fit.twin_no_offset`` — the regression of y itself (f(x;W0) not
  subtracted; far).
* ``kernel_model.residual_fit.twin_norm_0p9`` — ||W∞ - W0||² = 0.9 rᵀK⁻¹r: GD reaching an
  interpolant 10% shorter than the minimum-norm one (a constant off by 10%; near).

Source
------
M. Telgarsky, *Deep learning theory lecture notes* (v. 2021-10-27), §4.1 (f_0, Remark 4.8),
§4.3 (the kernel at initialisation); the residual-fit form as in Arora et al. 2019 (NeurIPS
2019, arXiv 1904.11955, §3: Thm 3.2's f_ntk, here with the f_0 correction) and Lee et al. 2019
(NeurIPS 2019, arXiv 1902.06720, §2).

Tolerances
----------
Homogeneity and the Gram are sums of m products: the backend rtol (float64 1e-10) relative
to the size of the summands. The residual fit compares an iterative solution with a
Cholesky solve; GD runs until its contraction factor ((κ-1)/(κ+1))^k is below 1e-13, so
the backend rtol needs no slack (observed relative error ~1e-13). It does not run on mpmath
(10³ GD steps at 50 digits take minutes). Width 64 (8 on mpmath for the finite-difference
Gram: 2·m·d evaluations of the network per input at 80 digits).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp

from ntkproof import Twin, claim
from ntkproof.backends import get_backend
from ntkproof.derivation import Derivation, Hypothesis, chain
from ntkproof.nn.activations import get_activation
from ntkproof.nn.empirical_ntk import two_layer_ntk
from ntkproof.nn.flow import kernel_regression
from ntkproof.nn.networks import TwoLayer
from ntkproof.nn.training import gradient_descent
from ntkproof.rng import generator, unit_vectors

SOURCE = "Telgarsky, DLT notes (2021-10-27), §4.1 (Remark 4.8) and §4.3"
D, M = 6, 64

# -- homogeneity, in the algebra of matrices --------------------------------------------
# aT (1×m), D (m×m, diag σ'(W0x)), W0 and W (m×d), x (d×1): any sizes
A_T, DIAG, W0, W, X = sp.symbols("aT D W0 W x", commutative=False)
WIDTH = sp.Symbol("m", positive=True)
SIGMA = sp.Function("sigma", commutative=False)       # σ applied entrywise
S = 1 / sp.sqrt(WIDTH)
F_W0 = S * A_T * SIGMA(W0 * X)                         # f(x; W0)


def grad_dot(V):
    """<∇_W f(x;W0), V> = m^{-1/2} aᵀ D V x."""
    return S * A_T * DIAG * V * X


F_LIN = F_W0 + grad_dot(W - W0)                        # f_0(x; W)
GOAL_RELU = sp.Eq(F_LIN, grad_dot(W), evaluate=False)
HOMOGENEITY_STATEMENT = (
    r"\mathrm{relu}(z) = z\,\mathrm{relu}'(z)\ \Rightarrow\ f_0(x;W) = f(x;W_0) - "
    r"\langle\nabla f(x;W_0),W_0\rangle + \langle\nabla f(x;W_0),W\rangle = "
    r"\langle\nabla f(x;W_0), W\rangle\ (\mathrm{ReLU})")
Z = sp.Symbol("z", real=True)
RELU, RELU_PRIME = (Z + sp.Abs(Z)) / 2, (1 + sp.sign(Z)) / 2
HOMOGENEOUS = Hypothesis("relu(z) = z·relu'(z) entrywise", SIGMA(W0 * X), "==", DIAG * W0 * X)
MATRIX_DOMAIN = {A_T: (-2.0, 2.0), DIAG: (0.0, 1.0), W0: (-2.0, 2.0), W: (-2.0, 2.0),
                 X: (-1.0, 1.0), WIDTH: (1.0, 100.0)}
u = sp.Dummy("u", real=True)


def homogeneity_derivation() -> Derivation:
    """For any width and dimension: the lemma relu(z) = z·relu'(z) (every real z), then the
    chain f_0 = f(x;W0) - <∇f, W0> + <∇f, W> (linearity of <∇f(x;W0), ·>: the general-σ
    form) = <∇f(x;W0), W> (the lemma entrywise: f(x;W0) = <∇f, W0>)."""
    lemma = chain(RELU, ("==", (Z + Z * sp.sign(Z)) / 2, "|z| = z·sign(z)"),
                  ("==", Z * RELU_PRIME, "factor z"))
    relu_form = chain(F_LIN,
                      ("==", F_W0 - grad_dot(W0) + grad_dot(W),
                       "general σ: <∇f(x;W0), ·> is linear, so it splits W - W0"),
                      ("==", grad_dot(W), "relu(W0x) = D W0x, the lemma (steps 1-2) entrywise: "
                       "f(x;W0) = <∇f(x;W0), W0> cancels -<∇f(x;W0), W0>",
                       {"method": "hypothesis", "hypothesis": HOMOGENEOUS.name, "uses": (1, 2)}))
    # the spot checks read the symbols as numbers (a 1×1 instance): σ(u) = D·u there
    return Derivation("ReLU: f_0(x;W) = <∇f(x;W0), W> for any width and dimension",
                      (*lemma, *relu_form), goal=GOAL_RELU, hypotheses=(HOMOGENEOUS,),
                      domain={Z: (-3.0, 3.0), **MATRIX_DOMAIN},
                      witnesses={SIGMA: [sp.Lambda(u, DIAG * u)]})


def _homogeneity_case(activation: str, form: str, m: int = M):
    """evaluate(b, seed): (f_0(x;W) by the network's linearisation, the claimed form, scale)."""
    def evaluate(b, seed):
        net = TwoLayer(D, m, activation, seed=seed, backend=b)
        rng = generator(seed)
        X = b.asarray(unit_vectors(rng, 3, D))
        W = b.asarray(rng.standard_normal((m, D)))
        P = {"W": W, "a": net.params0["a"]}
        g = net.grads(net.params0, X)["W"]                     # (n, m, d)
        dot = lambda V: b.sum(b.sum(g * V[None], axis=2), axis=1)  # noqa: E731
        lin = net.linearize().apply(P, X)
        claimed = dot(W) if form == "relu" else net.apply(net.params0, X) - dot(
            net.params0["W"]) + dot(W)
        err = b.abs(lin - claimed)
        i = int(np.argmax(b.to_numpy(err)))
        return lin[i], claimed[i], b.abs(lin[i]) + b.sqrt(b.sum(g[i] * g[i])) * b.sqrt(
            b.sum(W * W))
    return evaluate


@claim("kernel_model.relu_homogeneity", kind="derivation", goal=GOAL_RELU,
       title="ReLU homogeneity: the linearisation is the gradient feature map applied to W",
       statement=HOMOGENEITY_STATEMENT, source=SOURCE + ", Remark 4.8",
       twins=[Twin("twin_tanh", kind="identity",
                   title="twin: f_0(x;W) = <∇f(x;W0), W> claimed for tanh",
                   statement=r"f_0(x;W) = \langle\nabla f(x;W_0), W\rangle\ (\tanh)",
                   relu_form_for="tanh")])
def test_relu_homogeneity(ntk, relu_form_for="relu"):
    seeds = [{"seed": s % 2**31} for s in ntk.seeds(8, "cases")]
    ntk.identity(_homogeneity_case(relu_form_for, "relu"), seeds)
    ntk.identity(_homogeneity_case("tanh", "general"), seeds)
    ntk.identity(_homogeneity_case("relu", "general"), seeds)
    ntk.derivation(homogeneity_derivation(), points=8)


# -- the Gram at initialisation ------------------------------------------------------
SQRT_1P1 = math.sqrt(1.1)
FD_DIGITS, FD_STEP = 80, "1e-25"            # mpmath: central differences at 80 digits
FD64_STEP, FD64_SLACK = 1e-6, 1e3           # float64 fallback (numpy without torch)


def gradient_route(b) -> str:
    """How the Gram of gradients is computed independently of the library's gradients."""
    if b.name == "torch":
        return "autograd"
    if b.name == "mpmath":
        return "finite differences at 80 digits"
    try:
        import torch  # noqa: F401, PLC0415 - optional dependency: autograd when installed
    except ImportError:
        return "finite differences in float64"
    return "autograd"


def _autograd_jacobian(net, X):
    """∂f(x_i)/∂W for each row of X by torch autograd through ``net.apply`` (n, m·d)."""
    import torch  # noqa: PLC0415 - optional dependency

    a = net.params0["a"]
    jac = torch.autograd.functional.jacobian(lambda W: net.apply({"W": W, "a": a}, X),
                                             net.params0["W"])
    return jac.reshape(jac.shape[0], -1)


def _fd_jacobian(net, X, h):
    """∂f(x_i)/∂W_jk by central differences of ``net.apply`` (n, m·d), in net's backend
    (numpy or mpmath)."""
    b, W0, a = net.backend, net.params0["W"], net.params0["a"]
    step, cols = b.scalar(h), []
    for j in range(W0.shape[0]):
        for k in range(W0.shape[1]):
            E = np.zeros(W0.shape)
            E[j, k] = 1.0
            shift = b.asarray(E) * step
            up, down = net.apply({"W": W0 + shift, "a": a}, X), \
                net.apply({"W": W0 - shift, "a": a}, X)
            cols.append((up - down) / (2 * step))
    return np.stack(cols, axis=1)     # numpy: float64; mpmath: an object array of mpf


def independent_gram(b, activation: str, a_init: str, m: int, seed: int, X1, X2):
    """<∇f(x;W0), ∇f(x';W0)> without the library's closed-form gradients (see the module)."""
    route = gradient_route(b)
    x1, x2 = np.asarray(b.to_numpy(X1), dtype=float), np.asarray(b.to_numpy(X2), dtype=float)
    if route == "autograd":
        tb = b if b.name == "torch" else get_backend("torch:float64")
        net = TwoLayer(D, m, activation, a_init=a_init, seed=seed, backend=tb)
        J1 = _autograd_jacobian(net, tb.asarray(x1) if tb is not b else X1)
        J2 = _autograd_jacobian(net, tb.asarray(x2) if tb is not b else X2)
        G = J1 @ J2.T
        return G if tb is b else b.asarray(tb.to_numpy(G))
    if route == "finite differences at 80 digits":
        hb = get_backend(f"mpmath:dps{FD_DIGITS}")
        with hb.context():
            net = TwoLayer(D, m, activation, a_init=a_init, seed=seed, backend=hb)
            import mpmath  # noqa: PLC0415 - only the mpmath route needs it

            J1 = _fd_jacobian(net, hb.asarray(x1), mpmath.mpf(FD_STEP))
            J2 = _fd_jacobian(net, hb.asarray(x2), mpmath.mpf(FD_STEP))
            return b.asarray(J1 @ J2.T)
    net = TwoLayer(D, m, activation, a_init=a_init, seed=seed, backend=b)
    return b.asarray(_fd_jacobian(net, X1, FD64_STEP) @ _fd_jacobian(net, X2, FD64_STEP).T)


def _derivative(activation: str, scale: float):
    """The catalogue's activation, with σ' multiplied by ``scale`` (1: the true one)."""
    act = get_activation(activation)
    if scale == 1.0:
        return act
    return dataclasses.replace(act, df=lambda b, z: act.df(b, z) * b.scalar(scale))


def _summand_size(b, act, W, a, X1, X2, m):
    """(1/m)Σ_j a_j²|σ'σ'| · Σ_k |x_k x'_k|: the size of the terms the Gram adds up."""
    S1 = b.abs(act.df(b, b.matmul(X1, b.transpose(W))))
    S2 = b.abs(act.df(b, b.matmul(X2, b.transpose(W))))
    return b.matmul(S1 * (a * a)[None, :], b.transpose(S2)) / b.scalar(m) * \
        b.matmul(b.abs(X1), b.transpose(b.abs(X2)))


def _gram_case(activation: str, a_init: str, m: int, grams: dict, *, input_kernel: bool = True,
               derivative_scale: float = 1.0, closed_form: bool = False):
    """evaluate(b, seed): the independent Gram against the formula (or the library's closed
    form, ``closed_form=True``), at the entry of largest error; σ' scaled for the twin.
    ``grams`` keeps the body's independent Grams (the formula and the closed form share them)."""
    def evaluate(b, seed):
        net = TwoLayer(D, m, activation, a_init=a_init, seed=seed, backend=b)
        rng = generator(seed)
        X1, X2 = b.asarray(unit_vectors(rng, 4, D)), b.asarray(unit_vectors(rng, 3, D))
        W, a = net.params0["W"], net.params0["a"]
        act = _derivative(activation, derivative_scale)
        if closed_form:
            rhs = two_layer_ntk(W, a, X1, X2, activation=act, backend=b, trained=("W",))
        else:
            S1 = act.df(b, b.matmul(X1, b.transpose(W)))
            S2 = act.df(b, b.matmul(X2, b.transpose(W)))
            rhs = b.matmul(S1 * (a * a)[None, :], b.transpose(S2)) / b.scalar(m)
            if input_kernel:
                rhs = rhs * b.matmul(X1, b.transpose(X2))
        key = (b.spec, activation, a_init, int(seed))
        if key not in grams:
            grams[key] = independent_gram(b, activation, a_init, m, seed, X1, X2)
        lhs = grams[key]
        size = _summand_size(b, net.activation, W, a, X1, X2, m)
        err = b.to_numpy(b.abs(lhs - rhs)) / np.maximum(b.to_numpy(size), 1e-300)
        i, j = np.unravel_index(int(np.argmax(err)), err.shape)
        return lhs[i, j], rhs[i, j], size[i, j]
    return evaluate


GRAM_SETTINGS = [("relu", "sign"), ("tanh", "sign"), ("gelu", "normal"), ("relu", "normal")]


@claim("kernel_model.gram", kind="identity",
       title="The first-layer kernel at init: x·x' times the mean of a²σ'σ'",
       statement=r"\langle\nabla f(x;W_0),\nabla f(x';W_0)\rangle = x^\top x'\,\frac1m"
                 r"\sum_j a_j^2\sigma'(w_{0,j}^\top x)\sigma'(w_{0,j}^\top x')",
       source=SOURCE,
       twins=[Twin("twin_no_input_kernel", title="twin: the Gram without the factor xᵀx'",
                   statement=r"\langle\nabla f(x),\nabla f(x')\rangle = \frac1m\sum_j a_j^2"
                             r"\sigma'\sigma'", input_kernel=False),
              Twin("twin_wrong_derivative",
                   title="twin: the formula and the closed form with σ' off by 4.9% "
                         "(every Gram entry 10% too large)",
                   statement=r"\langle\nabla f(x),\nabla f(x')\rangle = x^\top x'\,\frac{1.1}{m}"
                             r"\sum_j a_j^2\sigma'\sigma'",
                   near="a constant off by 10%: σ' scaled by √1.1", derivative_scale=SQRT_1P1)])
def test_gram(ntk, input_kernel=True, derivative_scale=1.0):
    m = ntk.pick(quick=M, mpmath=8)
    route = gradient_route(ntk.backend)
    slack = (FD64_SLACK, "central differences in float64 (step 1e-6) carry a ~1e-9 relative "
                         "error") if route == "finite differences in float64" else None
    seeds = [{"seed": s % 2**31} for s in ntk.seeds(4, "cases")]
    grams: dict = {}
    for activation, a_init in GRAM_SETTINGS:
        ntk.identity(_gram_case(activation, a_init, m, grams, input_kernel=input_kernel,
                                derivative_scale=derivative_scale), seeds, slack=slack)
    for activation, a_init in GRAM_SETTINGS:
        ntk.identity(_gram_case(activation, a_init, m, grams, closed_form=True,
                                derivative_scale=derivative_scale), seeds, slack=slack)
    ntk.record(gradient_route=route, width=m)


# -- residual fit -------------------------------------------------------------------

N_TRAIN, N_TEST, M_FIT = 8, 5, 128


def _fit(b, seed: int) -> dict:
    """GD on the linearised network to convergence, and the kernel-regression solution."""
    rng = generator(seed)
    X = unit_vectors(rng, N_TRAIN + N_TEST, D)
    Xs, Xt = X[:N_TRAIN], X[N_TRAIN:]
    y = np.sin(3 * Xs[:, 0]) + Xs[:, 1]
    net = TwoLayer(D, M_FIT, "tanh", seed=seed, backend=b)
    K = b.to_numpy(two_layer_ntk(net.params0["W"], net.params0["a"], Xs, activation=net.activation,
                                 backend=b, trained=("W",)))
    lam = np.linalg.eigvalsh(K)
    lr = 2 * N_TRAIN / (lam[0] + lam[-1])
    rate = (lam[-1] - lam[0]) / (lam[-1] + lam[0])
    steps = int(math.ceil(math.log(1e-13) / math.log(rate)))
    traj = gradient_descent(net.linearize(), b.asarray(Xs), b.asarray(y), lr=lr, steps=steps)
    P = traj.final_params
    lin = net.linearize()
    f0s, f0t = b.to_numpy(net.apply(net.params0, b.asarray(Xs))), \
        b.to_numpy(net.apply(net.params0, b.asarray(Xt)))
    Kt = b.to_numpy(two_layer_ntk(net.params0["W"], net.params0["a"], Xt, Xs,
                                  activation=net.activation, backend=b, trained=("W",)))
    return {"gd_train": b.to_numpy(lin.apply(P, b.asarray(Xs))),
            "gd_test": b.to_numpy(lin.apply(P, b.asarray(Xt))),
            "norm2": float(np.sum(b.to_numpy(P["W"] - net.params0["W"]) ** 2)),
            "K": K, "Kt": Kt, "y": y, "f0s": f0s, "f0t": f0t, "steps": steps,
            "cond": float(lam[-1] / lam[0])}


def _fit_case(fits: dict, offset: bool = True, norm_factor: float = 1.0):
    def evaluate(b, seed, which):
        r = fits[seed]
        f0s, f0t = (r["f0s"], r["f0t"]) if offset else (0.0 * r["f0s"], 0.0 * r["f0t"])
        pred = kernel_regression(r["K"], r["y"], k_test_train=r["Kt"], fx_train_0=f0s,
                                 fx_test_0=f0t)
        if which == "norm":
            res = r["y"] - f0s
            return r["norm2"], norm_factor * float(res @ np.linalg.solve(r["K"], res)), \
                r["norm2"]
        gd, kr = (r["gd_train"], pred.train) if which == "train" else (r["gd_test"], pred.test)
        i = int(np.argmax(np.abs(gd - kr)))
        return float(gd[i]), float(kr[i]), abs(float(kr[i])) + 1.0
    return evaluate


RESIDUAL_FIT_STATEMENT = (r"f_0(x;W_\infty) = f(x;W_0) + k(x,S)K^{-1}(y - f(S;W_0)),\quad "
                          r"\|W_\infty - W_0\|_F^2 = r^\top K^{-1} r")
RESIDUAL_FIT_SOURCE = ("Telgarsky DLT §4.3; Lee et al. 2019 (NeurIPS 2019) §2; Arora et al. "
                       "2019 (NeurIPS 2019) §3, Thm 3.2")


@claim("kernel_model.residual_fit", kind="identity", statement=RESIDUAL_FIT_STATEMENT,
       title="GD on the linearisation to convergence = min-norm kernel regression of y - f(x;W0)",
       source=RESIDUAL_FIT_SOURCE,
       not_on={"mpmath": "about 10^3 GD steps at 50 digits take minutes; run on numpy or torch"},
       twins=[Twin("twin_no_offset",
                   title="twin: the kernel regression of y itself (f(x;W0) not subtracted)",
                   statement=r"f_0(x;W_\infty) = k(x,S)K^{-1}y", offset=False),
              Twin("twin_norm_0p9", title="twin: GD reaches an interpolant 10% shorter than "
                                          "the minimum-norm one",
                   statement=r"\|W_\infty - W_0\|_F^2 = 0.9\,r^\top K^{-1} r",
                   near="a constant off by 10% (0.9·rᵀK⁻¹r)", norm_factor=0.9)])
def test_residual_fit(ntk, offset=True, norm_factor=1.0):
    seeds = [s % 2**31 for s in ntk.seeds(3, "cases")]
    fits = {s: _fit(ntk.backend, s) for s in seeds}      # each seed's run, once
    cases = [{"seed": s, "which": w} for s in seeds for w in ("train", "test", "norm")]
    ntk.identity(_fit_case(fits, offset, norm_factor), cases)
    ntk.record(steps=[fits[s]["steps"] for s in seeds],
               condition_numbers=[fits[s]["cond"] for s in seeds])
