r"""Gradient descent on over-parameterised two-layer ReLU networks (Du, Zhai, Póczos,
Singh 2019, ICLR, "Gradient descent provably optimizes over-parameterized neural
networks"): the Gram matrices, their exact law at initialisation on the circle, and SGD.

Setting (Du et al. §3)
----------------------
``f(x; W) = m^{-1/2} Σ_r a_r relu(w_rᵀx)``, a_r ∈ {±1} fixed, only W trained, w_r(0) iid
N(0, I_d), unit inputs x_i (no two parallel), the summed loss ``½ Σ_i (f(x_i) - y_i)²``.
The Gram matrices are

    H(W)_ij = x_iᵀx_j · (1/m) Σ_r 1{w_rᵀx_i >= 0, w_rᵀx_j >= 0}   (the eNTK of f in W),
    H^∞_ij  = E_w[H(W)_ij] = x_iᵀx_j (π - θ_ij) / (2π),            θ_ij = ∠(x_i, x_j),

(:func:`ntkproof.nn.kernels.two_layer_relu_ntk` with ``trained="W"``), λ0 = λ_min(H^∞).

Inputs on the circle (d = 2): the law of H(0)
---------------------------------------------
In d = 2 a neuron's activation pattern (1{w_rᵀx_i >= 0})_i depends only on the angle of
w_r, which is uniform on the circle. The 2n points a_i ± π/2 cut the circle into K = 2n
arcs ("cells"), and neuron r's pattern is that of its cell. So H(0) depends on the
weights only through the cell counts N ∈ N^K, which are Multinomial(m, p) with p the
arcs' lengths over 2π (:func:`activation_cells`):

    H(0) = G ⊙ (Sᵀ diag(N) S) / m,       G = X Xᵀ,  S ∈ {0,1}^{K×n} the cells' patterns,

(:func:`gram_from_counts`; checked against the eNTK of real networks in the tests and in
the claim). Draws of H(0) at width 10⁵ therefore cost O(n²), not O(m). By the central
limit theorem √m (H(0) - H^∞) → G ⊙ (Sᵀ diag(Z) S) with Z ~ N(0, diag(p) - ppᵀ);
:func:`clt_quantile` gives the quantiles of its spectral norm by Monte Carlo.

Lemma 3.1 with an explicit width
--------------------------------
Each entry H_ij(0) is an average of m iid terms in an interval of length |x_iᵀx_j|, so by
Hoeffding's inequality |H_ij(0) - H^∞_ij| <= |x_iᵀx_j| √(ln(2/δ')/(2m)) with probability
>= 1 - δ'. A union bound over the n(n+1)/2 entries (δ' = 2δ/(n(n+1))) and
||·||_2 <= ||·||_F give, with probability >= 1 - δ,

    ||H(0) - H^∞||_2 <= √(Σ_ij (x_iᵀx_j)²) · √(ln(n(n+1)/δ) / (2m)),

which is <= λ0/4 once m >= m* = 8 Σ_ij (x_iᵀx_j)² ln(n(n+1)/δ) / λ0² (:func:`hoeffding_width`;
Du et al. state it as m = Ω(n² log(n/δ)/λ0²)). Then λ_min(H(0)) >= 3λ0/4 (Weyl).

SGD (:func:`sgd_epochs`)
------------------------
One example per step, each epoch a fresh random permutation of the n examples; a step
on example i is ``W ← W - η (f(x_i) - y_i) ∇_W f(x_i)`` (the summed loss's i-th term),
so one epoch applies the same total step η as one full-batch GD step on ½Σ(f - y)².
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flint
import numpy as np

from ..nn.networks import Model, check_inputs

__all__ = ["circle_inputs", "unit_inputs", "activation_cells", "gram_from_counts",
           "network_cell_counts", "hoeffding_width", "clt_quantile", "h_infinity_arb",
           "sgd_epochs"]


def circle_inputs(n: int, *, seed: int, min_gap: float = 0.25) -> np.ndarray:
    """``n`` angles on the circle, drawn uniformly (by rejection) until every two inputs
    are at least ``min_gap`` apart and at least ``min_gap`` away from antipodal (no two
    inputs parallel, Du et al.'s assumption; the gap keeps λ0 away from 0)."""
    rng = np.random.default_rng(seed)
    while True:
        a = np.sort(rng.uniform(0, 2 * np.pi, n))
        d = np.abs((a[:, None] - a[None, :] + np.pi) % (2 * np.pi) - np.pi)
        off = d[~np.eye(n, dtype=bool)]
        if off.min() > min_gap and (np.pi - off).min() > min_gap:
            return a


def unit_inputs(angles: np.ndarray) -> np.ndarray:
    """The unit vectors (cos a, sin a), shape (n, 2)."""
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def activation_cells(angles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The arcs of neuron angles with one activation pattern each: (starts (K,), p (K,),
    S (K, n)), K = 2n, p the arcs' probabilities (lengths / 2π), S[k, i] = 1 when a
    neuron in arc k is active on input i (w·x_i >= 0, i.e. its angle within π/2 of a_i)."""
    a = np.asarray(angles, dtype=float)
    starts = np.sort(np.concatenate([a + np.pi / 2, a - np.pi / 2]) % (2 * np.pi))
    ends = np.concatenate([starts[1:], [starts[0] + 2 * np.pi]])
    p = (ends - starts) / (2 * np.pi)
    mids = (starts + ends) / 2
    S = (np.cos(mids[:, None] - a[None, :]) >= 0).astype(float)
    return starts, p, S


def gram_from_counts(counts: np.ndarray, S: np.ndarray, G: np.ndarray) -> np.ndarray:
    """H(0) = G ⊙ (Sᵀ diag(N) S) / m from cell counts N (..., K) with m = Σ N."""
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=-1)[..., None, None]
    return G * np.einsum("...k,ki,kj->...ij", counts, S, S) / m


def network_cell_counts(W: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The cell counts of a network's first layer W (m, 2): each row's angle, located
    among the arcs' start angles."""
    phi = np.arctan2(W[:, 1], W[:, 0]) % (2 * np.pi)
    k = (np.searchsorted(starts, phi, side="right") - 1) % len(starts)
    return np.bincount(k, minlength=len(starts))


def hoeffding_width(G: np.ndarray, lam0: float, delta: float) -> int:
    """m* = ⌈8 Σ_ij G_ij² ln(n(n+1)/δ) / λ0²⌉: at m >= m*, ||H(0) - H^∞||_2 <= λ0/4 with
    probability >= 1 - δ (module docstring)."""
    n = G.shape[0]
    return int(np.ceil(8 * float(np.sum(G * G)) * np.log(n * (n + 1) / delta) / lam0**2))


def clt_quantile(p: np.ndarray, S: np.ndarray, G: np.ndarray, delta: float, *,
                 rng: np.random.Generator, samples: int = 20000) -> float:
    """The (1 - δ)-quantile of ||G ⊙ (Sᵀ diag(Z) S)||_2, Z ~ N(0, diag(p) - ppᵀ): the
    limit law of √m ||H(0) - H^∞||_2 (module docstring), by Monte Carlo."""
    xi = rng.standard_normal((samples, len(p)))
    sp = np.sqrt(p)
    Z = sp * xi - p * (xi @ sp)[:, None]      # covariance diag(p) - ppᵀ (Σ p = 1)
    dev = G * np.einsum("sk,ki,kj->sij", Z, S, S)
    norms = np.abs(np.linalg.eigvalsh(dev)).max(axis=1)
    return float(np.quantile(norms, 1 - delta))


def h_infinity_arb(angles: Sequence[Any]) -> list[list[Any]]:
    """H^∞ of unit inputs at the given angles (arb balls): x_iᵀx_j = cos(a_i - a_j) and
    θ_ij = arccos of it; the diagonal (and a pair given the same ball object: a
    duplicated input) is exactly 1/2."""
    n = len(angles)
    pi = flint.arb.pi()
    H = [[flint.arb(0)] * n for _ in range(n)]
    for i in range(n):
        H[i][i] = flint.arb(1) / 2
        for j in range(i):
            if angles[i] is angles[j]:  # one ball for both: the same input (θ = 0)
                H[i][j] = H[j][i] = flint.arb(1) / 2
                continue
            c = (angles[i] - angles[j]).cos()
            H[i][j] = H[j][i] = c * (pi - c.acos()) / (2 * pi)
    return H


def sgd_epochs(model: Model, X: Any, y: Any, *, eta: float, epochs: int,
               rng: np.random.Generator) -> np.ndarray:
    """Run SGD with random reshuffling (module docstring) from ``model.params0`` and
    return ||f(X) - y||² at the start and after each epoch, shape (epochs + 1,)."""
    b = model.backend
    Xb = check_inputs(X, model.d, b)
    yb = b.asarray(np.asarray(y, dtype=float))
    n = Xb.shape[0]
    params = dict(model.params0)
    step = b.scalar(eta)

    def sq_residual(p: dict[str, Any]) -> float:
        r = b.to_numpy(model.apply(p, Xb) - yb)
        return float(np.sum(r * r))

    out = [sq_residual(params)]
    for _ in range(epochs):
        for i in rng.permutation(n):
            xi = Xb[i:i + 1]
            g = model.vjp(params, xi, model.apply(params, xi) - yb[i:i + 1])
            params = {k: (params[k] - step * g[k]) if k in g else params[k] for k in params}
        out.append(sq_residual(params))
    return np.asarray(out)
