r"""Sub-optimal local minima of one-hidden-layer tanh networks: multi-start descent and
rigorous certificates (Ding, Li, Sun 2019/2020, arXiv 1911.01413).

The network and the loss
------------------------
One hidden layer of width m, scalar inputs with a bias (the input x̃ = (x, 1) ∈ R²),
tanh, a trained linear output layer, the squared loss summed over the n data points::

    f(x; θ) = Σ_j v_j tanh(w_j x + b_j),      θ = (w, b, v) ∈ R^{3m},
    L(θ)    = ½ Σ_i (f(x_i; θ) - y_i)².

Parameters are one flat vector ``θ = [w_1..w_m, b_1..b_m, v_1..v_m]``. With
``z_ij = w_j x_i + b_j``, σ = tanh, the Jacobian of the outputs has the columns
``∂f_i/∂w_j = v_j σ'(z_ij) x_i``, ``∂f_i/∂b_j = v_j σ'(z_ij)``, ``∂f_i/∂v_j = σ(z_ij)``,
the gradient is ``Jᵀ r`` (r = f - y) and the Hessian ``JᵀJ + Σ_i r_i ∇²f_i``, where
∇²f_i is block diagonal over neurons: ``v σ'' x²``, ``v σ'' x``, ``v σ''`` in (w, b),
``σ' x``, ``σ'`` in (w, v), (b, v), and 0 in (v, v).

Three implementations of the same formulas: batched numpy (many starts at once, for
the search), one parameter vector on a :class:`~ntkproof.backends.Backend` (numpy,
torch, mpmath: the checks at each backend's precision), and python-flint ``arb`` balls
(the certificates).

Certificates
------------
*Strict minimum* (:func:`curvature_evaluate`, :func:`loss_evaluate`, :func:`polish_arb`).
Let θ_c be a point and B the box θ_c ± r. If λ_min(∇²L) >= μ > 0 on B and
||∇L(θ_c)|| < μ r / 2, then L has exactly one critical point θ* in the ball of radius
r about θ_c, and it is a strict local minimum: L is μ-strongly convex on the ball, and
on its boundary L(θ) >= L(θ_c) - ||∇L(θ_c)|| r + μ r²/2 > L(θ_c), so the minimum of L
over the closed ball is interior. The distance of any other point p (e.g. a float
minimiser) to θ* is at most ||θ_c - p|| + r, and by Weyl's inequality
|λ_min(∇²L(p)) - λ_min(∇²L(θ*))| <= ||∇²L(p) - ∇²L(θ*)||_2. λ_min on B is enclosed by
:func:`~ntkproof.theory.arb_spectrum.lambda_min_enclosure`; θ_c is the float
minimiser polished by Newton's method in arb at 200 bits, so r can be tiny.

*Flat minimum of the constant fit* (:func:`constant_fit_labels`,
:func:`constant_fit_point`, :func:`kappa_evaluate`). Take labels whose least-squares
affine fit is the constant ȳ, i.e. Σ_i (y_i - ȳ) = 0 and Σ_i (y_i - ȳ) x_i = 0
(labels built from any raw labels by removing their slope, exactly, in rationals).
Every θ with w = 0 and Σ_j v_j σ(b_j) = ȳ computes the constant function ȳ; these
points form a set A of dimension 2m - 1, all critical (∂L/∂v_j = σ(b_j) Σ r_i = 0,
∂L/∂w_j = v_j σ'(b_j) Σ r_i x_i = 0, ∂L/∂b_j = v_j σ'(b_j) Σ r_i = 0), all at the loss
L* = ½ Σ (y_i - ȳ)². For every θ (exactly, with c = Σ v_j σ(b_j) - ȳ and
ψ_i = Σ_j v_j (σ(b_j + w_j x_i) - σ(b_j)))::

    L(θ) - L* = Σ_i (ȳ - y_i) ψ_i + ½ Σ_i (c + ψ_i)²
              = ½ Σ_j w_j² κ_j + ½ Σ_i (c + ψ_i)²,
    κ_j = v_j Σ_i (ȳ - y_i) x_i² σ''(ξ_ij),  ξ_ij between b_j and b_j + w_j x_i,

by Taylor's theorem with the Lagrange remainder (the first-order terms vanish because
Σ (ȳ - y_i) x_i = 0). So on any box U around a point of A on which every κ_j >= κ > 0
(an enclosure of σ'' on the balls b_j + w_j x_i covers every ξ_ij), L >= L* on U: the
point is a local minimum, not strict (L = L* on A ∩ U), and L - L* >= ½ κ ||w||²
(quadratic growth in the input weights). It is not global when some θ has L(θ) < L*.
At such a point the Hessian has the 2m - 1 zero eigenvalues of A's tangent space;
restricted to the complement (the input weights and the direction that changes the
constant, :func:`normal_basis`) it is positive definite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import numpy as np

from ..backends import Backend
from .arb_spectrum import lambda_min_enclosure

__all__ = [
    "tanh_teacher_data", "parts", "batch_loss_grad_hess", "levenberg_marquardt", "canonical", "Limit",
    "Multistart", "multistart", "backend_loss", "backend_gradient", "backend_hessian",
    "newton_polish", "arb_state", "arb_loss", "arb_gradient", "arb_hessian", "polish_arb",
    "offset_box", "hessian_variation", "curvature_evaluate", "loss_evaluate", "gradient_ratio",
    "constant_fit_labels", "constant_fit_point", "constant_fit_loss", "kappa_evaluate",
    "kappa_values", "normal_basis", "lower_bound_evaluate", "arb_numbers",
]


def tanh_teacher_data(n: int = 16, *, seed: int = 1089, width: int = 4
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A data set: n inputs uniform on [-1, 1] (sorted) and the labels of a tanh teacher
    of the given width (w ~ N(0, 4²), b ~ N(0, 2²), v ~ N(0, 1)), in float64. The
    default seed is the instance of ``theorems/test_local_minima.py``."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n))
    w, b, v = (rng.standard_normal(width) * s for s in (4.0, 2.0, 1.0))
    return x, np.tanh(np.outer(x, w) + b) @ v


def parts(theta: Any, m: int) -> tuple[Any, Any, Any]:
    """``(w, b, v)`` of a parameter vector (or the last axis of a batch)."""
    return theta[..., :m], theta[..., m:2 * m], theta[..., 2 * m:3 * m]


# -- batched numpy: the search --------------------------------------------------------

def batch_loss_grad_hess(theta: np.ndarray, x: np.ndarray, y: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss (S,), gradient (S, P) and Hessian (S, P, P) of S parameter vectors (S, P)."""
    S, P = theta.shape
    m = P // 3
    w, b, v = parts(theta, m)
    z = x[None, :, None] * w[:, None, :] + b[:, None, :]
    t = np.tanh(z)
    s1 = 1 - t * t
    s2 = -2 * t * s1
    r = np.einsum("snm,sm->sn", t, v) - y[None]
    loss = 0.5 * np.sum(r * r, axis=1)
    vs1 = s1 * v[:, None, :]
    X = x[None, :, None]
    J = np.concatenate([vs1 * X, vs1, t], axis=2)
    g = np.einsum("snp,sn->sp", J, r)
    H = np.einsum("snp,snq->spq", J, J)
    rs2 = r[:, :, None] * s2 * v[:, None, :]
    rs1 = r[:, :, None] * s1
    i = np.arange(m)
    blocks = {(0, 0): np.sum(rs2 * X * X, 1), (0, 1): np.sum(rs2 * X, 1),
              (1, 1): np.sum(rs2, 1), (0, 2): np.sum(rs1 * X, 1), (1, 2): np.sum(rs1, 1)}
    for (p, q), val in blocks.items():
        H[:, p * m + i, q * m + i] += val
        if p != q:
            H[:, q * m + i, p * m + i] += val
    return loss, g, H


def levenberg_marquardt(theta: np.ndarray, x: np.ndarray, y: np.ndarray, *, iters: int = 200,
                        tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """Damped Newton descent (Levenberg–Marquardt on the full Hessian) from each row of
    ``theta`` (S, P): a step ``-(H + μI)⁻¹ g`` is taken only when it lowers the loss, or,
    where the loss is flat to rounding (a flat minimum, whose loss differences fall below
    float64's resolution), keeps the loss within 8 ulps and lowers the gradient (then
    μ /= 3, else μ *= 4), so every run descends; it stops when ||g|| <= tol.
    Returns the final (theta, loss, grad, Hessian)."""
    theta = np.array(theta, dtype=float)
    S, P = theta.shape
    mu = np.ones(S)
    loss, g, H = batch_loss_grad_hess(theta, x, y)
    eye = np.eye(P)
    for _ in range(iters):
        active = np.linalg.norm(g, axis=1) > tol
        if not active.any():
            break
        step = np.linalg.solve(H + mu[:, None, None] * eye, g[..., None])[..., 0]
        new = theta - step
        ln, gn, Hn = batch_loss_grad_hess(new, x, y)
        # a step that lowers the loss, or (where the loss is flat to rounding) leaves it
        # within rounding and lowers the gradient
        flat = (ln <= loss + 8 * np.finfo(float).eps * np.abs(loss)) & (
            np.linalg.norm(gn, axis=1) < np.linalg.norm(g, axis=1))
        ok = active & np.isfinite(ln) & ((ln < loss) | flat)
        theta = np.where(ok[:, None], new, theta)
        loss, g = np.where(ok, ln, loss), np.where(ok[:, None], gn, g)
        H = np.where(ok[:, None, None], Hn, H)
        mu = np.where(ok, np.maximum(mu / 3, 1e-15), mu * 4)
    return theta, loss, g, H


def canonical(theta: np.ndarray) -> np.ndarray:
    """The representative of θ modulo the network's symmetries: tanh is odd, so
    (w_j, b_j, v_j) and (-w_j, -b_j, -v_j) compute the same function (made v_j >= 0),
    and the neurons can be permuted (sorted by w, then b)."""
    m = theta.shape[-1] // 3
    w, b, v = (np.array(a, dtype=float) for a in parts(theta, m))
    s = np.where(v < 0, -1.0, 1.0)
    w, b, v = w * s, b * s, v * s
    order = np.lexsort((b, w))
    return np.concatenate([w[order], b[order], v[order]])


@dataclass
class Limit:
    """One distinct descent limit: its canonical parameters, loss, the smallest and
    largest Hessian eigenvalues (float64), and how many starts reached it."""

    theta: np.ndarray
    loss: float
    lam_min: float
    lam_max: float
    grad_norm: float
    hits: int = 1


@dataclass
class Multistart:
    """The outcome of :func:`multistart`: the distinct strict local minima at finite
    weights (``minima``, by increasing loss), the lowest loss any start reached and its
    parameters (``best``; a descent that runs off to infinite weights still gives a
    valid point), and the counts."""

    m: int
    starts: int
    minima: list[Limit]
    best_theta: np.ndarray
    best_loss: float
    converged: int
    counts: dict[str, int] = field(default_factory=dict)

    def suboptimal(self, margin: float = 1e-6) -> list[Limit]:
        """The minima whose loss is above the best loss found by more than ``margin``."""
        return [lim for lim in self.minima if lim.loss > self.best_loss + margin]


def multistart(x: np.ndarray, y: np.ndarray, m: int, *, starts: int, rng: np.random.Generator,
               iters: int = 200, tol: float = 1e-11, max_weight: float = 30.0,
               init_scale: tuple[float, float, float] = (2.0, 1.0, 1.0)) -> Multistart:
    """Descend from ``starts`` random initialisations (w ~ N(0, 2²), b ~ N(0, 1),
    v ~ N(0, 1) by default) and group the limits that are strict local minima at
    finite weights (||∇L|| <= tol, λ_min(∇²L) > 0, max |θ| <= max_weight) modulo the
    symmetries (:func:`canonical`)."""
    scales = np.repeat(np.asarray(init_scale, dtype=float), m)
    theta0 = rng.standard_normal((starts, 3 * m)) * scales
    theta, loss, g, H = levenberg_marquardt(theta0, x, y, iters=iters, tol=tol)
    gn = np.linalg.norm(g, axis=1)
    evals = np.linalg.eigvalsh(H)
    finite = np.isfinite(loss)
    strict = finite & (gn <= tol) & (evals[:, 0] > 0) & (np.max(np.abs(theta), 1) <= max_weight)
    minima: list[Limit] = []
    for i in np.flatnonzero(strict)[np.argsort(loss[strict])]:
        c = canonical(theta[i])
        for lim in minima:
            if abs(lim.loss - loss[i]) <= 1e-9 * max(1.0, lim.loss) and np.allclose(
                    lim.theta, c, atol=1e-5, rtol=1e-5):
                lim.hits += 1
                break
        else:
            minima.append(Limit(c, float(loss[i]), float(evals[i, 0]), float(evals[i, -1]),
                                float(gn[i])))
    k = int(np.nanargmin(np.where(finite, loss, np.inf)))
    counts = {"strict_minima": int(strict.sum()), "critical": int((gn <= tol).sum()),
              "saddles": int(((gn <= tol) & (evals[:, 0] <= 0)).sum()),
              "not_converged": int((gn > tol).sum())}
    return Multistart(m, starts, minima, theta[k].copy(), float(loss[k]),
                      int((gn <= tol).sum()), counts)


# -- one parameter vector on a backend: the checks -----------------------------------

def _selectors(b: Backend, m: int) -> tuple[Any, Any, Any]:
    eye = np.eye(3 * m)
    return tuple(b.asarray(eye[k * m:(k + 1) * m]) for k in range(3))


def _forward(b: Backend, theta: Any, x: Any, y: Any, m: int) -> dict[str, Any]:
    w, bias, v = theta[:m], theta[m:2 * m], theta[2 * m:3 * m]
    X = x[:, None]
    z = X * w[None, :] + bias[None, :]
    t = b.tanh(z)
    s1 = 1 - t * t
    r = b.matmul(t, v) - y
    return {"t": t, "s1": s1, "s2": -2 * t * s1, "r": r, "v": v, "X": X}


def _jacobian(b: Backend, st: dict[str, Any], m: int) -> Any:
    Pw, Pb, Pv = _selectors(b, m)
    vs1 = st["s1"] * st["v"][None, :]
    return b.matmul(vs1 * st["X"], Pw) + b.matmul(vs1, Pb) + b.matmul(st["t"], Pv)


def backend_loss(b: Backend, theta: Any, x: Any, y: Any) -> Any:
    """½ Σ (f(x_i) - y_i)² on the backend (a backend scalar)."""
    m = int(theta.shape[0]) // 3
    r = _forward(b, theta, x, y, m)["r"]
    return b.sum(r * r) / 2


def backend_gradient(b: Backend, theta: Any, x: Any, y: Any) -> Any:
    """∇L = Jᵀ r on the backend, shape (3m,)."""
    m = int(theta.shape[0]) // 3
    st = _forward(b, theta, x, y, m)
    return b.matmul(b.transpose(_jacobian(b, st, m)), st["r"])


def backend_hessian(b: Backend, theta: Any, x: Any, y: Any) -> Any:
    """∇²L = JᵀJ + Σ r_i ∇²f_i on the backend, shape (3m, 3m) (module docstring)."""
    m = int(theta.shape[0]) // 3
    st = _forward(b, theta, x, y, m)
    J = _jacobian(b, st, m)
    H = b.matmul(b.transpose(J), J)
    rs2 = st["r"][:, None] * st["s2"] * st["v"][None, :]
    rs1 = st["r"][:, None] * st["s1"]
    X = st["X"]
    sel = _selectors(b, m)
    eye = b.eye(m)
    blocks = {(0, 0): b.sum(rs2 * X * X, 0), (0, 1): b.sum(rs2 * X, 0),
              (1, 1): b.sum(rs2, 0), (0, 2): b.sum(rs1 * X, 0), (1, 2): b.sum(rs1, 0)}
    for (p, q), val in blocks.items():
        D = eye * val[None, :]
        C = b.matmul(b.matmul(b.transpose(sel[p]), D), sel[q])
        H = H + C if p == q else H + C + b.transpose(C)
    return H


def newton_polish(b: Backend, theta: Any, x: Any, y: Any, *, steps: int = 8) -> Any:
    """Newton steps θ ← θ - (∇²L)⁻¹ ∇L on the backend (from a point where ∇²L is
    positive definite: a strict minimum found by the search)."""
    for _ in range(steps):
        g = backend_gradient(b, theta, x, y)
        theta = theta - b.solve(backend_hessian(b, theta, x, y), g)
    return theta


# -- arb balls: the certificates -----------------------------------------------------

def arb_numbers(values: Sequence[Any]) -> list[Any]:
    """arb balls of floats (exact) or Fractions (rounded to the working precision)."""
    out = []
    for v in values:
        if isinstance(v, Fraction):
            out.append(flint.arb(flint.fmpq(v.numerator, v.denominator)))
        else:
            out.append(flint.arb(float(v)) if not isinstance(v, flint.arb) else v)
    return out


def arb_state(theta: Sequence[Any], x: Sequence[Any], y: Sequence[Any]) -> dict[str, Any]:
    """Pre-activations' tanh and its derivatives and the residuals, as arb balls."""
    m = len(theta) // 3
    w, b, v = theta[:m], theta[m:2 * m], theta[2 * m:]
    n = len(x)
    t = [[(w[j] * x[i] + b[j]).tanh() for j in range(m)] for i in range(n)]
    s1 = [[1 - t[i][j] * t[i][j] for j in range(m)] for i in range(n)]
    s2 = [[-2 * t[i][j] * s1[i][j] for j in range(m)] for i in range(n)]
    r = [sum((v[j] * t[i][j] for j in range(m)), flint.arb(0)) - y[i] for i in range(n)]
    return {"m": m, "n": n, "w": w, "b": b, "v": v, "t": t, "s1": s1, "s2": s2, "r": r,
            "x": x}


def arb_loss(theta: Sequence[Any], x: Sequence[Any], y: Sequence[Any]) -> Any:
    """½ Σ r_i², enclosed."""
    r = arb_state(theta, x, y)["r"]
    return sum((ri * ri for ri in r), flint.arb(0)) / 2


def _arb_jacobian(st: dict[str, Any]) -> list[list[Any]]:
    m, n, v, x = st["m"], st["n"], st["v"], st["x"]
    return [[v[j] * st["s1"][i][j] * x[i] for j in range(m)]
            + [v[j] * st["s1"][i][j] for j in range(m)] + [st["t"][i][j] for j in range(m)]
            for i in range(n)]


def arb_gradient(theta: Sequence[Any], x: Sequence[Any], y: Sequence[Any]) -> list[Any]:
    """∇L = Jᵀ r, enclosed."""
    st = arb_state(theta, x, y)
    J = _arb_jacobian(st)
    return [sum((J[i][p] * st["r"][i] for i in range(st["n"])), flint.arb(0))
            for p in range(3 * st["m"])]


def arb_hessian(theta: Sequence[Any], x: Sequence[Any], y: Sequence[Any]) -> list[list[Any]]:
    """∇²L, enclosed: every Hessian at a point of the balls lies in the result."""
    st = arb_state(theta, x, y)
    m, n, r, v, x = st["m"], st["n"], st["r"], st["v"], st["x"]
    Jm = flint.arb_mat(_arb_jacobian(st))
    H = [list(row) for row in (Jm.transpose() * Jm).tolist()]
    for j in range(m):
        rs2 = [r[i] * st["s2"][i][j] * v[j] for i in range(n)]
        rs1 = [r[i] * st["s1"][i][j] for i in range(n)]
        add = {(0, 0): sum((rs2[i] * x[i] * x[i] for i in range(n)), flint.arb(0)),
               (0, 1): sum((rs2[i] * x[i] for i in range(n)), flint.arb(0)),
               (1, 1): sum(rs2, flint.arb(0)),
               (0, 2): sum((rs1[i] * x[i] for i in range(n)), flint.arb(0)),
               (1, 2): sum(rs1, flint.arb(0))}
        for (p, q), val in add.items():
            H[p * m + j][q * m + j] += val
            if p != q:
                H[q * m + j][p * m + j] += val
    return H


def polish_arb(theta: Sequence[float], x: Sequence[Any], y: Sequence[Any], *, prec: int = 200,
               steps: int = 6) -> list[Any]:
    """Newton's method in arb at ``prec`` bits from a float minimiser; returns the
    midpoints (exact arb numbers, radius 0) of the last iterate."""
    saved = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        th = [flint.arb(float(t)) for t in theta]
        xs, ys = arb_numbers(x), arb_numbers(y)
        for _ in range(steps):
            g = flint.arb_mat([[gi] for gi in arb_gradient(th, xs, ys)])
            step = flint.arb_mat(arb_hessian(th, xs, ys)).solve(g)
            th = [flint.arb((th[p] - step[p, 0]).mid()) for p in range(len(th))]
        return th
    finally:
        flint.ctx.prec = saved


def hessian_variation(center: Sequence[Any], x: Sequence[Any], y: Sequence[Any],
                      radius: float, *, prec: int = 200) -> float:
    """An upper bound of ||∇²L(p) - ∇²L(q)||_2 over p, q in the box θ_c ± radius: twice
    the Frobenius norm of the radii of the Hessian's enclosure on the box. By Weyl's
    inequality it bounds |λ_min(∇²L(p)) - λ_min(∇²L(q))|, e.g. between a float
    minimiser and the exact critical point within ``radius`` of it."""
    saved = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        ball = flint.arb(0, radius)
        H = arb_hessian([c + ball for c in center], arb_numbers(x), arb_numbers(y))
        total = sum((flint.arb(float(h.rad())) * flint.arb(float(h.rad())) for row in H
                     for h in row), flint.arb(0))
        return float((2 * total.sqrt()).upper())
    finally:
        flint.ctx.prec = saved


def offset_box(P: int, radius: float) -> dict[str, tuple[float, float]]:
    """The box of offsets ``d0..d{P-1}`` in [-radius, radius] (the certificate's
    variables: θ = θ_c + d, with θ_c carried at full precision)."""
    return {f"d{p}": (-radius, radius) for p in range(P)}


def _point(center: Sequence[Any], balls: dict[str, Any]) -> list[Any]:
    return [center[p] + balls[f"d{p}"] for p in range(len(center))]


def curvature_evaluate(center: Sequence[Any], x: Sequence[Any], y: Sequence[Any], mu: float,
                       restrict: Sequence[int] | None = None) -> Callable[..., tuple[Any, Any]]:
    """``evaluate(**offsets) -> (μ, enclosure of λ_min(∇²L))`` over the box of offsets
    around ``center`` (``restrict``: the indices of a principal submatrix)."""
    xs, ys = arb_numbers(x), arb_numbers(y)

    def evaluate(**balls: Any) -> tuple[Any, Any]:
        H = arb_hessian(_point(center, balls), xs, ys)
        if restrict is not None:
            H = [[H[i][j] for j in restrict] for i in restrict]
        return flint.arb(mu), lambda_min_enclosure(H)
    return evaluate


def loss_evaluate(center: Sequence[Any], x: Sequence[Any], y: Sequence[Any], other: float, *,
                  reverse: bool = False) -> Callable[..., tuple[Any, Any]]:
    """``evaluate(**offsets) -> (L(other point), L(θ_c + d))`` (``reverse``: the two
    swapped, the statement "the loss near θ_c is at most the other point's")."""
    xs, ys = arb_numbers(x), arb_numbers(y)

    def evaluate(**balls: Any) -> tuple[Any, Any]:
        here = arb_loss(_point(center, balls), xs, ys)
        there = flint.arb(other) if not isinstance(other, flint.arb) else other
        return (here, there) if reverse else (there, here)
    return evaluate


def gradient_ratio(center: Sequence[Any], x: Sequence[Any], y: Sequence[Any], mu: float,
                   radius: float, *, prec: int = 200) -> float:
    """An upper bound of 2||∇L(θ_c)|| / (μ r): the certificate's existence condition is
    that it is below 1 (module docstring)."""
    saved = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        g = arb_gradient(list(center), arb_numbers(x), arb_numbers(y))
        # the norm's upper bound from the upper ends of |g_p| (a ball around 0 has no sqrt)
        norm = sum((flint.arb(abs(gi).upper()) * flint.arb(abs(gi).upper()) for gi in g),
                   flint.arb(0)).sqrt()
        return float((2 * norm / (flint.arb(mu) * flint.arb(radius))).upper())
    finally:
        flint.ctx.prec = saved


# -- the flat minimum of the constant fit --------------------------------------------

def constant_fit_labels(x: Sequence[float], raw: Sequence[float]) -> list[Fraction]:
    """Labels whose least-squares affine fit is a constant: ``raw`` minus its
    least-squares slope times (x - x̄), in exact rational arithmetic, so that
    Σ (y_i - ȳ) = 0 and Σ (y_i - ȳ) x_i = 0 hold exactly."""
    xs = [Fraction(float(v)) for v in x]
    ys = [Fraction(float(v)) for v in raw]
    xbar, ybar = _mean(xs), _mean(ys)
    slope = _fsum((a - xbar) * (c - ybar) for a, c in zip(xs, ys, strict=True)) / _fsum(
        (a - xbar) ** 2 for a in xs)
    return [c - slope * (a - xbar) for a, c in zip(xs, ys, strict=True)]


def _fsum(values: Any) -> Fraction:
    return sum(values, Fraction(0))


def _mean(values: Sequence[Fraction]) -> Fraction:
    return _fsum(values) / len(values)


def constant_fit_loss(y: Sequence[Fraction]) -> Fraction:
    """L* = ½ Σ (y_i - ȳ)², exactly."""
    ybar = _mean(y)
    return _fsum((c - ybar) ** 2 for c in y) / 2


def constant_fit_point(y: Sequence[Fraction], biases: Sequence[float], weights: Sequence[float],
                       *, prec: int = 200) -> list[Any]:
    """A point of the flat set A: w = 0, the given biases b_j, and output weights
    v_j = s·weights_j with the scale s solving Σ v_j tanh(b_j) = ȳ (in arb at ``prec``
    bits: the point lies on A to that precision; its exact neighbour on A is within the
    certificate's box)."""
    saved = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        ybar = _mean(y)
        yb = flint.arb(flint.fmpq(ybar.numerator, ybar.denominator))
        bs = [flint.arb(float(c)) for c in biases]
        us = [flint.arb(float(c)) for c in weights]
        s = yb / sum((u * c.tanh() for u, c in zip(us, bs, strict=True)), flint.arb(0))
        v = [flint.arb((s * u).mid()) for u in us]
        return [flint.arb(0)] * len(bs) + bs + v
    finally:
        flint.ctx.prec = saved


def _kappa(st_x: Sequence[Any], coef: Sequence[Any], w: Any, b: Any, v: Any) -> Any:
    total = flint.arb(0)
    for xi, ci in zip(st_x, coef, strict=True):
        t = (b + w * xi).tanh()
        total += ci * (-2 * t * (1 - t * t))
    return v * total


def kappa_values(theta: Sequence[Any], x: Sequence[Any], y: Sequence[Fraction]) -> list[Any]:
    """κ_j = v_j Σ_i (ȳ - y_i) x_i² σ''(b_j + w_j x_i) for each neuron (arb; with balls
    for θ the enclosure covers every ξ_ij of the module docstring)."""
    m = len(theta) // 3
    ybar = _mean(y)
    xs = arb_numbers(x)
    coef = [flint.arb(flint.fmpq(*_ratio((ybar - yi) * Fraction(float(xi)) ** 2)))
            for xi, yi in zip(x, y, strict=True)]
    return [_kappa(xs, coef, theta[j], theta[m + j], theta[2 * m + j]) for j in range(m)]


def _ratio(q: Fraction) -> tuple[int, int]:
    return q.numerator, q.denominator


def kappa_evaluate(center: Sequence[Any], x: Sequence[Any], y: Sequence[Fraction], kappa: float
                   ) -> Callable[..., tuple[Any, Any]]:
    """``evaluate(**offsets) -> (κ, enclosure of min_j κ_j)`` over the box around a
    point of A (module docstring: min_j κ_j >= κ > 0 on the box makes it a local
    minimum)."""
    def evaluate(**balls: Any) -> tuple[Any, Any]:
        ks = kappa_values(_point(center, balls), x, y)
        low = min(ks, key=lambda k: float(k.lower()))
        return flint.arb(kappa), low
    return evaluate


def lower_bound_evaluate(center: Sequence[Any], x: Sequence[Any], y: Sequence[Fraction],
                         other: float) -> Callable[..., tuple[Any, Any]]:
    """``evaluate(**offsets) -> (L(other point), L* + ½ Σ_j w_j² κ_j)``: the right side
    is a rigorous lower bound of L on the box (module docstring), so the certificate
    shows that every point of the box has a loss above the other point's."""
    m = len(center) // 3
    lstar = constant_fit_loss(y)
    ls = flint.arb(flint.fmpq(lstar.numerator, lstar.denominator))

    def evaluate(**balls: Any) -> tuple[Any, Any]:
        th = _point(center, balls)
        ks = kappa_values(th, x, y)
        low = ls + sum((th[j] * th[j] * ks[j] for j in range(m)), flint.arb(0)) / 2
        return flint.arb(other), low
    return evaluate


def normal_basis(theta: np.ndarray) -> np.ndarray:
    """An orthonormal basis (columns, (3m, m+1)) of the complement of the tangent space
    of A at a point with w = 0: the m input-weight directions and the gradient of
    φ(b, v) = Σ v_j tanh(b_j) (the direction that changes the constant)."""
    m = theta.shape[0] // 3
    _, b, v = parts(np.asarray(theta, dtype=float), m)
    B = np.zeros((3 * m, m + 1))
    B[:m, :m] = np.eye(m)
    grad = np.concatenate([np.zeros(m), v * (1 - np.tanh(b) ** 2), np.tanh(b)])
    B[:, m] = grad / np.linalg.norm(grad)
    return B
