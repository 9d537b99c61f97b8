r"""Sub-optimal local minima exist for networks of any width (Ding, Li, Sun 2019/2020):
certified instances for one-hidden-layer tanh networks at widths 2, 3 and 16.

Statement
---------
Ding, Li and Sun (arXiv 1911.01413, v3 2020; abstract): for multi-layer fully
connected networks with generic input data and a non-linear activation from a class
dense in C(R), the empirical squared loss can have sub-optimal local minima, however
wide the network is, as long as its last hidden layer has at least two neurons. This
refutes the extension of Yu & Chen (1995), who claimed that one-hidden-layer sigmoid
networks with as many hidden neurons as data points have no sub-optimal local minima.
(The paper's precise activation condition, theorem and equation numbers were not
available to check here; nothing below depends on them: each instance is certified
directly.)

The claims are existence statements about concrete instances: *in this instance, a
non-global local minimum exists*, each proved by interval (ball) arithmetic.

Setting (one for the whole file)
--------------------------------
:math:`f(x;\theta) = \sum_j v_j\tanh(w_jx + b_j)` (one hidden layer of width m, scalar
input with a bias: the input (x, 1) ∈ R²; a trained linear output layer), loss
:math:`L(\theta) = \tfrac12\sum_i (f(x_i;\theta) - y_i)^2` (a sum, no 1/n), θ = (w, b, v)
∈ R^{3m} (:mod:`ntkproof.theory.local_minima`). Data: n = 16 inputs uniform on [-1, 1]
(generic) and labels from a width-4 tanh teacher (``numpy.random.default_rng(1089)``;
this seed was chosen among 150 candidate data sets because multi-start descent at widths
2 and 3 finds several distinct strict minima with well-separated losses there; the
certificates hold for the instance as given, whatever the choice).

Claims
------
* ``local_minima.width2``, ``local_minima.width3`` — a strict non-global local minimum
  at width m, found by multi-start descent (64 starts, 256 at standard; damped Newton /
  Levenberg–Marquardt on the full Hessian, which only takes steps that lower the loss,
  run to ||∇L|| <= 1e-11 in float64) and CERTIFIED, for every distinct sub-optimal limit
  found (modulo the network's symmetries: permutations and the sign flip of tanh):

  - *a strict local minimum exists within r = 1e-30 of the limit* — the limit is
    polished by Newton's method in arb at 200 bits to θ_c; on the box θ_c ± r,
    λ_min(∇²L) >= μ = 0.999·λ̂ (λ̂ the float64 smallest Hessian eigenvalue at the float
    limit; LDLᵀ pivots of ∇²L - μI all > 0 in ball arithmetic), and 2||∇L(θ_c)||/(μr) < 1
    (``ntk.require``: measured < 1e-20). L is then μ-strongly convex on the ball and its
    minimum over the closed ball is interior: a critical point θ*, a strict local minimum
    (:mod:`ntkproof.theory.local_minima`);
  - *it is not global* — every point of the box has a loss above the lowest loss any
    start reached (a point, evaluated in arb; descents that run off to infinite weights
    reach lower losses too, and are valid points);
  - on the backend (numpy, torch, mpmath at 50 digits): the limit polished by Newton
    steps at the backend's precision has ||∇L|| <= 1e-10 (``ntk.require``: the descent
    converged; measured ~1e-15 in float64, ~1e-48 at 50 digits), λ_min of the backend's
    Hessian there is >= μ (bound; tightness 0.999 by construction: the backend's
    eigenvalue against numpy's), and the loss does not decrease under random
    perturbations of radius 1e-3 (bound over 256 directions, 4096 at standard, 32 on
    mpmath; the smallest relative increase measured is 9e-7, four orders above the
    float64 tolerance). The float limit's distance to θ* is at most
    ||θ_c - θ̂|| + r, recorded with the Weyl bound it gives on |λ_min(∇²L(θ̂)) - λ_min(∇²L(θ*))|.

  Measured (64 starts): width 2: the minima at L = 0.0746 (the lowest found, about 30 %
  of the starts) and L = 0.1225 (λ_min = 1.0e-2, about 45 %); width 3: L ≈ 1e-9 (a fit,
  about 17 %), L = 0.0497 (λ_min = 2.1e-5, about 5 %: some runs miss it, and then only
  the next one is certified) and 0.0606 (λ_min = 7.4e-4, about 20 %); the rest are
  saddles (λ_min < 0) or runs to infinite weights. The float limits lie within 6e-10 of
  the exact minima; Weyl's bound on the change of λ_min over that distance is at most
  0.3 % of μ (recorded).
  Precondition: at least one sub-optimal strict minimum was found (``ntk.require``).
  Twins: ``.twin_curvature`` (near): λ_min(∇²L) >= 1.1·λ̂ at the minimum — refuted by the
  Rayleigh quotient at θ_c (certify) and by the backend's eigenvalue (bound);
  ``.twin_global`` (far; the Yu–Chen-type statement "every local minimum is global"):
  L(θ*) <= L(θ) for all θ — refuted by the lower-loss point (certify, a concrete point).

* ``local_minima.wide`` — width m = 16 = n (as many hidden neurons as data points, the
  regime of Yu & Chen's claim; 32 at standard): a non-global local minimum with 2m - 1 =
  31 flat directions, CERTIFIED. Construction (:mod:`ntkproof.theory.local_minima`,
  "flat minimum of the constant fit"): the labels are the teacher's shifted by a
  constant and with their least-squares slope removed, exactly in rationals, so that
  the best affine fit is the constant ȳ (Σ(y_i - ȳ) = 0, Σ(y_i - ȳ)x_i = 0; the inputs
  stay generic, the labels are constructed, as in the paper). Every θ with w = 0 and
  Σ_j v_j tanh(b_j) = ȳ computes the constant ȳ: a (2m-1)-dimensional set A of critical
  points at the loss L* = ½Σ(y_i - ȳ)². For every θ,
  L(θ) - L* = ½Σ_j w_j² κ_j + ½Σ_i(c + ψ_i)² with κ_j = v_j Σ_i (ȳ - y_i) x_i² σ''(ξ_ij)
  (Taylor with the Lagrange remainder; the module's docstring). Certificates on the box
  of half-width 1e-6 around a point of A (biases of one sign, output weights of one sign
  scaled onto A at 200 bits):

  - κ_j >= κ = 0.999·min_j κ_j(θ_c) > 0 for every neuron and every point of the box
    (the enclosure of σ'' on the balls b_j + w_j x_i covers every ξ_ij): so L >= L* on
    the box, whose interior contains points of A — local minima, not strict;
  - L >= L* + ½Σ_j w_j² κ_j > L(θ_better) on the box, θ_better the lowest-loss point of
    a width-3 multi-start on the same labels, embedded with zero output weights.

  On the backend: the Hessian at the point has 2m - 1 eigenvalues within 1e-9·λ_max of 0
  (recorded) and, restricted to the complement of A's tangent space (the input weights
  and the direction that changes the constant), λ_min >= 0.999·(numpy's value) (bound,
  the claim's tightness); the loss equals L* at random points of A (identity: constant
  along the flat directions); descent from perturbed starts (radius 1e-2) converges to
  ||∇L|| <= 1e-10 at the loss L* (``ntk.require`` and identity: the flat minimum
  attracts); and the loss does not decrease under random perturbations of radius 1e-2
  (bound; smallest relative increase 2.5e-7 at m = 16, 8e-8 at m = 32). Twins: ``.twin_curvature`` (near): κ >= 1.1·min_j κ_j and the normal block's
  λ_min >= 1.1·(its value); ``.twin_strict`` (far): the full Hessian is positive
  definite with λ_min >= 0.999·(the normal block's) — false, 31 eigenvalues are zero:
  the test must be null-space aware; ``.twin_global`` (far): L* <= L(θ) for all θ.

Source
------
T. Ding, D. Li, R. Sun, "Sub-optimal local minima exist for neural networks with
almost all non-linear activations", arXiv 1911.01413 (v3, Nov 2020), abstract (the main
theorem); X.-H. Yu, G.-A. Chen, "On the local minima free condition of backpropagation
learning", IEEE Trans. Neural Networks 6(5), 1995 (the refuted claim). The certificates
(strong convexity on a ball; the expansion of the constant fit) are derived in
:mod:`ntkproof.theory.local_minima`.

Tolerances
----------
The certificates are rigorous at 200 bits (no tolerance). The backend checks compare
eigenvalues and losses at the backend's rtol; the margins are set so that roundoff is
irrelevant: μ = 0.999·λ̂ (float64 λ̂ is accurate to ~1e-16·λ_max/λ̂ <= 2e-10 relative
here), perturbation radii with increases >= 1e3 times the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof import Twin, claim
from ntkproof.theory.local_minima import (
    arb_loss,
    arb_numbers,
    backend_gradient,
    backend_hessian,
    backend_loss,
    constant_fit_labels,
    constant_fit_loss,
    constant_fit_point,
    curvature_evaluate,
    gradient_ratio,
    hessian_variation,
    kappa_evaluate,
    kappa_values,
    levenberg_marquardt,
    loss_evaluate,
    lower_bound_evaluate,
    multistart,
    newton_polish,
    normal_basis,
    offset_box,
    polish_arb,
    tanh_teacher_data,
)

SOURCE = "Ding, Li, Sun, arXiv 1911.01413 (v3 2020), main theorem (abstract)"
PREC, RADIUS, FLAT_RADIUS = 200, 1e-30, 1e-6
PERTURBATION = 1e-3
#: The certify budget: one box decides each certificate (measured); a few spare.
CERT = {"prec": PREC, "max_boxes": 8, "time_limit": 30.0}
#: The statements (LaTeX) of the two kinds of claim.
STRICT = (r"\exists\,\theta^*: \nabla L(\theta^*)=0,\ \lambda_{\min}(\nabla^2 L) \ge "
          r"0.999\,\hat\lambda > 0 \text{ near }\theta^*,\ L(\theta^*) > \inf_\theta L(\theta)"
          r"\quad(\text{width }{m})")
FLAT = (r"L(\theta) \ge L^* + \tfrac12\kappa\|w\|^2 \text{ near } \theta^* \in A = "
        r"\{w = 0,\ \textstyle\sum_j v_j\tanh b_j = \bar y\},\ \kappa \ge 0.999\min_j"
        r"\kappa_j > 0,\ L^* > \inf L\quad(m = n = 16)")


def _unit(rng: np.random.Generator, k: int, P: int) -> np.ndarray:
    U = rng.standard_normal((k, P))
    return U / np.linalg.norm(U, axis=1, keepdims=True)


# -- strict minima at widths 2 and 3 --------------------------------------------------

def _strict_certificates(ntk, ms, lim, x, y, factor: float, global_claim: bool) -> dict:
    center = polish_arb(lim.theta, x, y, prec=PREC)
    box = offset_box(len(lim.theta), RADIUS)
    best = arb_loss(arb_numbers(ms.best_theta), arb_numbers(x), arb_numbers(y))
    if global_claim:  # the twin: no point has a lower loss than the minimum's neighbourhood
        ntk.certify(loss_evaluate(center, x, y, best, reverse=True), box, **CERT)
        return {}
    mu = factor * lim.lam_min
    ntk.certify(curvature_evaluate(center, x, y, mu), box, **CERT)
    ntk.certify(loss_evaluate(center, x, y, best), box, strict=True, **CERT)
    dist = float(np.linalg.norm(np.array([float(c.mid()) for c in center]) - lim.theta)) + RADIUS
    return {"mu": mu, "ratio": gradient_ratio(center, x, y, mu, RADIUS, prec=PREC),
            "float_distance": dist, "weyl": hessian_variation(center, x, y, dist, prec=PREC)}


def _backend_point(ntk, theta: np.ndarray, x, y):
    b = ntk.backend
    th = newton_polish(b, b.asarray(theta), b.asarray(x), b.asarray(y))
    return th, float(np.linalg.norm(b.to_numpy(backend_gradient(b, th, b.asarray(x),
                                                                  b.asarray(y)))))


def _perturbation_cases(ntk, th, x, y, radius: float, count: int) -> list[dict]:
    """(L at the point, L at a random point at distance ``radius``) on the backend."""
    b = ntk.backend
    xb, yb = b.asarray(x), b.asarray(y)
    here = b.to_float(backend_loss(b, th, xb, yb))
    U = _unit(ntk.rng(f"perturb/{len(b.to_numpy(th))}"), count, len(b.to_numpy(th)))
    return [{"here": here, "there": b.to_float(backend_loss(b, th + b.asarray(radius * u),
                                                            xb, yb))} for u in U]


@pytest.mark.parametrize("m", [2, 3])
@claim("local_minima.width{m}", kind="bound", statement=STRICT,
       title="A strict non-global local minimum at width {m} (certified)",
       source=SOURCE + "; instance certified here (strong convexity on a ball, arb)",
       twins=[Twin("twin_curvature",
                   title="twin: λ_min(∇²L) >= 1.1·λ̂ at the minimum",
                   statement=r"\lambda_{\min}(\nabla^2L(\theta^*)) \ge 1.1\,\hat\lambda",
                   factor=1.1),
              Twin("twin_global", title="twin: every local minimum is global (Yu–Chen type)",
                   statement=r"L(\theta^*) \le L(\theta)\ \forall\theta", global_claim=True)])
def test_strict_minimum(ntk, m, factor=0.999, global_claim=False):
    x, y = tanh_teacher_data()
    ms = multistart(x, y, m, starts=ntk.pick(quick=64, standard=256), rng=ntk.rng("starts"))
    subs = ms.suboptimal()[:3]
    if not ntk.require("found", len(subs), at_least=1,
                       what="distinct sub-optimal strict minima found by the starts"):
        return
    certs = [_strict_certificates(ntk, ms, lim, x, y, factor, global_claim) for lim in subs]
    if global_claim:
        return
    ntk.require("critical point inside the ball", max(c["ratio"] for c in certs), at_most=1.0,
                what="largest 2||∇L(θ_c)||/(μr): below 1 the ball holds a critical point")
    points = [_backend_point(ntk, lim.theta, x, y) for lim in subs]
    ntk.require("converged", max(g for _, g in points), at_most=1e-10,
                what="largest ||∇L|| at the limits polished on the backend")
    b = ntk.backend
    xb, yb = b.asarray(x), b.asarray(y)
    curv = [{"limit": i, "mu": c["mu"],
             "lam": b.to_float(b.eigvalsh(backend_hessian(b, th, xb, yb))[0])}
            for i, (c, (th, _)) in enumerate(zip(certs, points, strict=True))]
    ntk.bound(lambda b, limit, mu, lam: (mu, lam), curv)
    count = ntk.pick(quick=256, standard=4096, mpmath=32)
    cases = [c for th, _ in points for c in _perturbation_cases(ntk, th, x, y, PERTURBATION,
                                                                count)]
    ntk.bound(lambda b, here, there: (here, there), cases)
    ntk.record(starts=ms.starts, counts=ms.counts, best_loss=ms.best_loss,
               minima=[{"loss": lim.loss, "hits": lim.hits, "lam_min": lim.lam_min,
                        "lam_max": lim.lam_max} for lim in ms.minima],
               certified=[{"loss": lim.loss, "mu": c["mu"], "existence_ratio": c["ratio"],
                           "distance_float_to_exact": c["float_distance"],
                           "weyl_bound_over_mu": c["weyl"] / c["mu"]}
                          for lim, c in zip(subs, certs, strict=True)],
               smallest_relative_increase=min((c["there"] - c["here"]) / c["here"]
                                              for c in cases))


# -- a flat minimum at width 16 ---------------------------------------------------------

def _flat_instance(ntk, m: int) -> dict:
    x, teacher = tanh_teacher_data()
    # shift the labels so that sign(ȳ) = -sign(D), D = Σ(ȳ - y_i)x_i²: then biases of one
    # sign and positive output weights put the constant fit on A with every κ_j > 0
    D = float(np.sum((teacher.mean() - teacher) * x * x))
    y = constant_fit_labels(x, teacher - teacher.mean() - np.sign(D) * 0.5)
    rng = ntk.rng("construction")
    biases = -np.sign(D) * rng.uniform(0.3, 1.5, m)
    center = constant_fit_point(y, biases, rng.uniform(0.5, 1.5, m), prec=PREC)
    return {"x": x, "y": y, "yf": np.array([float(c) for c in y]), "center": center,
            "theta": np.array([float(c.mid()) for c in center]), "m": m,
            "lstar": float(constant_fit_loss(y))}


def _better_point(inst: dict, ntk) -> np.ndarray:
    """The lowest-loss point of a width-3 multi-start, embedded at width m."""
    m = inst["m"]
    ms = multistart(inst["x"], inst["yf"], 3, starts=16, rng=ntk.rng("better"))
    out = np.zeros(3 * m)
    for k in range(3):
        out[k * m:k * m + 3] = ms.best_theta[3 * k:3 * k + 3]
    return out


def _flat_points(inst: dict, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Random points of A: w = 0, biases and output weights of the construction's signs,
    scaled onto Σ v_j tanh(b_j) = ȳ."""
    m, ybar = inst["m"], float(np.mean(inst["yf"]))
    sign_b = np.sign(inst["theta"][m])
    out = []
    for _ in range(count):
        bias = sign_b * rng.uniform(0.2, 2.0, m)
        u = rng.uniform(0.2, 2.0, m)
        out.append(np.concatenate([np.zeros(m), bias, u * ybar / np.dot(u, np.tanh(bias))]))
    return out


def _normal_min(b, H, theta: np.ndarray) -> float:
    B = b.asarray(normal_basis(theta))
    return b.to_float(b.eigvalsh(b.matmul(b.transpose(B), b.matmul(H, B)))[0])


@claim("local_minima.wide", kind="bound", statement=FLAT,
       title="A non-global local minimum at width 16 = n, with 31 flat directions (certified)",
       source=SOURCE + "; instance (the constant fit on slope-free labels) certified here",
       twins=[Twin("twin_curvature", title="twin: the curvature κ and the normal block's "
                                           "λ_min are 10% larger",
                   statement=r"\kappa \ge 1.1\min_j\kappa_j", factor=1.1),
              Twin("twin_strict", title="twin: the minimum is strict (the full Hessian is "
                                        "positive definite)",
                   statement=r"\lambda_{\min}(\nabla^2 L(\theta^*)) \ge 0.999\,"
                             r"\lambda_{\min}(B^\top\nabla^2L\,B) > 0", strict=True),
              Twin("twin_global", title="twin: the constant fit is a global minimum",
                   statement=r"L^* \le L(\theta)\ \forall\theta", global_claim=True)])
def test_flat_minimum(ntk, factor=0.999, strict=False, global_claim=False):
    m = ntk.pick(quick=16, standard=32, mpmath=16)
    inst = _flat_instance(ntk, m)
    x, y, center, theta = inst["x"], inst["y"], inst["center"], inst["theta"]
    box = offset_box(3 * m, FLAT_RADIUS)
    better = _better_point(inst, ntk)
    l_better = arb_loss(arb_numbers(better), arb_numbers(x), arb_numbers(y))
    if global_claim:
        ntk.certify(loss_evaluate(center, x, y, l_better, reverse=True), box, **CERT)
        return
    kappas = [float(k.mid()) for k in kappa_values(center, x, y)]
    if not strict:
        ntk.certify(kappa_evaluate(center, x, y, factor * min(kappas)), box, **CERT)
        ntk.certify(lower_bound_evaluate(center, x, y, l_better), box, strict=True, **CERT)
    b = ntk.backend
    xb, yb = b.asarray(x), b.asarray(inst["yf"])
    th = b.asarray(theta)
    H = backend_hessian(b, th, xb, yb)
    H64 = np.asarray(backend_hessian(_numpy(), theta, x, inst["yf"]))
    lam_n = float(np.linalg.eigvalsh(normal_basis(theta).T @ H64 @ normal_basis(theta))[0])
    rhs = b.to_float(b.eigvalsh(H)[0]) if strict else _normal_min(b, H, theta)
    ntk.bound(lambda b, mu, lam: (mu, lam), [{"mu": factor * lam_n, "lam": rhs}])
    if strict:
        return
    # constant along the flat directions: L = L* at random points of A
    flat = _flat_points(inst, ntk.rng("flat"), ntk.pick(quick=16, standard=64, mpmath=4))
    lstar = inst["lstar"]

    def on_a(b, i):
        return backend_loss(b, b.asarray(flat[i]), b.asarray(x), b.asarray(inst["yf"])), \
            lstar + 0 * b.scalar(1), lstar
    ntk.identity(on_a, [{"i": i} for i in range(len(flat))], slack=_float64_slack(ntk))
    # descent from perturbed starts returns to the flat minimum
    starts = theta + 1e-2 * _unit(ntk.rng("restarts"), 8, 3 * m)
    limits, losses, grads, _ = levenberg_marquardt(starts, x, inst["yf"], iters=100,
                                                   tol=1e-12)
    gnorm = max(float(np.linalg.norm(b.to_numpy(backend_gradient(b, b.asarray(t), xb, yb))))
                for t in limits)
    ntk.require("converged", gnorm, at_most=1e-10,
                what="largest ||∇L|| at the descent limits from perturbed starts")
    ntk.identity(lambda b, i: (backend_loss(b, b.asarray(limits[i]), b.asarray(x),
                                            b.asarray(inst["yf"])),
                               lstar + 0 * b.scalar(1), lstar),
                 [{"i": i} for i in range(len(limits))], slack=_float64_slack(ntk))
    count = ntk.pick(quick=256, standard=4096, mpmath=32)
    cases = _perturbation_cases(ntk, th, x, inst["yf"], 1e-2, count)
    ntk.bound(lambda b, here, there: (here, there), cases)
    ev = np.linalg.eigvalsh(H64)
    ntk.record(width=m, lstar=lstar, better_loss=float(l_better.mid()),
               kappa_min=min(kappas), kappa_max=max(kappas), normal_lambda_min=lam_n,
               zero_eigenvalues=int(np.sum(np.abs(ev) <= 1e-9 * ev[-1])),
               expected_zero_eigenvalues=2 * m - 1,
               limits_max_abs_w=float(np.max(np.abs(limits[:, :m]))),
               smallest_relative_increase=min((c["there"] - c["here"]) / c["here"]
                                              for c in cases))


def _float64_slack(ntk):
    """On mpmath the points of A and the labels are float64 numbers (the labels rounded
    from the exact rationals), so L = L* holds to float64's precision there, not 50
    digits."""
    factor = max(1.0, 1e-13 / ntk.tol)
    return None if factor == 1.0 else (
        factor, "the labels and the points of A are float64 (rounded from exact rationals)")


def _numpy():
    from ntkproof.backends import get_backend  # noqa: PLC0415 - float64 reference values

    return get_backend("numpy")
