r"""ReLU linearisation error of a two-layer network: the exact worst case and the bounds.

Setting (Telgarsky, DLT notes v. 2021-10-27, §4.2, Lemmas 4.1 and 4.2)::

    f(x; W)   = m^{-1/2} Σ_j a_j relu(w_jᵀx),          W ∈ R^{m×d}, a ∈ {±1}^m fixed
    f_0(x; W) = f(x; W0) + <∇f(x; W0), W - W0> = m^{-1/2} Σ_j a_j 1[c_j > 0] w_jᵀx

with ``c_j = w0_jᵀx`` (ReLU is positively homogeneous, so the constant term cancels).

Exact supremum over the Frobenius ball (:func:`exact_sup`)
----------------------------------------------------------
Write ``z_j = w_jᵀx``. Per neuron, ``relu(z) - 1[c > 0] z`` equals ``max(-z, 0)``
when ``c > 0`` and ``max(z, 0)`` when ``c <= 0``: it is the *overshoot*
``e_j >= 0`` of ``z_j`` past zero, and non-zero only when the sign flips. So

    f(x; W) - f_0(x; W) = m^{-1/2} Σ_j a_j e_j .

Only the component of ``w_j - w0_j`` along ``x`` changes ``z_j``; flipping neuron j
with overshoot ``e_j`` moves ``z_j`` by ``|c_j| + e_j`` and costs at least
``(|c_j| + e_j)² / ||x||²`` of the budget ``B²``. Hence, with ``R = B ||x||`` and
``u_j = |c_j| + e_j``,

    sup = m^{-1/2} max_s max_{S ⊆ {j: a_j = s}} max { Σ_S (u_j - |c_j|) : Σ_S u_j² <= R², u_j >= |c_j| }.

For a set S of size k, Cauchy–Schwarz gives ``Σ_S u_j <= √k R`` with equality at the
common value ``u_j = R/√k`` (the KKT point), feasible iff ``R/√k >= max_S |c_j|``;
for a given size the k smallest ``|c_j|`` are best. So

    sup = m^{-1/2} max_{s ∈ {±1}} max_{k >= 0} ( R √k - Σ_{i <= k} |c|_(i) ),

the ``|c|_(i)`` sorted ascending among the neurons with ``a_j = s``. Infeasible k
need no exclusion: the increment ``g(k) - g(k-1) = R(√k - √(k-1)) - |c|_(k)`` is
decreasing in k (g is concave), and it is positive only when
``|c|_(k) < R/(√k + √(k-1)) < R/√k``, i.e. only at feasible k; so the maximum over
all k is attained at a feasible one. Cost O(m log m).

The maximiser (:func:`exact_argmax`) moves the rows of the k chosen neurons along
``x`` to ``z_j = -sign(c_j) R/√k`` and leaves the other rows at ``w0_j``.

Continuum limit (random ±1 signs, Gaussian W0, ||x|| = 1, k << m): with
``N ≈ (m/2)·2φ(0)·t`` neurons of one sign below t, the optimum gives
``sup ≈ (3/4) (2√(2π))^{-1/3} B^{4/3} m^{-1/6} ≈ 0.438 B^{4/3} m^{-1/6}``
(:func:`continuum_constant`): Lemma 4.1's exponents are attained, its constant 2
is loose by about 4.5.

Only ``a_j ∈ {-1, +1}`` is supported by the exact formula (with general
``|a_j| <= 1`` the optimal set is no longer "the k smallest |c|").

Sampling the exact supremum at large width (:func:`sample_exact_sup`)
----------------------------------------------------------------------
The supremum depends on W0 only through ``c = W0 x``, which is N(0, ||x||² I_m) for
iid N(0, 1) entries, and on how many ``a_j`` carry each sign (Binomial(m, 1/2)); and
only through the k smallest ``|c_j|`` of each sign, with k about
``(m B/(2√(2π)))^{2/3}`` << m. The k smallest of n iid uniforms are
``U_(i) = S_i / (S_k + G)`` (``S_i`` partial sums of iid Exp(1), ``G`` ~ Gamma(n - k + 1)
independent), and ``|c| = ||x|| √2 erfinv(U)``: the draw is exact in distribution and
costs O(k), so widths of 1e8 cost about a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from ..errors import InvalidArgument, ShapeError

__all__ = ["LinearizationSup", "exact_sup", "exact_sup_from_projections", "exact_sups",
           "exact_argmax", "small_count_quantile",
           "lemma_4_1_bound", "lemma_4_1_bound_pair", "lemma_4_2_bound", "small_count",
           "continuum_constant", "relu_gap", "ascent_sup", "smallest_half_normals",
           "sample_exact_sup"]


@dataclass(frozen=True)
class LinearizationSup:
    """The exact supremum and where it is attained.

    ``value`` = sup |f - f_0| over the ball; ``sign`` the sign s of the a_j used;
    ``k`` how many neurons flip; ``radius`` = R = B ||x||.
    """

    value: float
    sign: int
    k: int
    radius: float


def _check_signs(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float).reshape(-1)
    if not np.all(np.abs(a) == 1.0):
        raise InvalidArgument(
            "exact_sup needs a_j in {-1, +1} (the 'k smallest |c_j|' optimum assumes equal "
            f"weights |a_j| = 1); got values {np.unique(np.abs(a))[:5]}; use a_init='sign'")
    return a


def _best_prefix(abs_c_sorted: np.ndarray, radius: float) -> tuple[float, int]:
    """max_{k>=0} (R √k - Σ_{i<=k} c_(i)) and its k, for ascending c_(i) >= 0."""
    if abs_c_sorted.size == 0 or radius == 0:
        return 0.0, 0
    k = np.arange(1, abs_c_sorted.size + 1, dtype=float)
    g = radius * np.sqrt(k) - np.cumsum(abs_c_sorted)
    i = int(np.argmax(g))
    return (float(g[i]), i + 1) if g[i] > 0 else (0.0, 0)


def exact_sup_from_projections(c: Any, a: Any, B: float, *, x_norm: float = 1.0) -> \
        LinearizationSup:
    """sup over ||W - W0||_F <= B of |f(x;W) - f_0(x;W)| from ``c_j = w0_jᵀx``.

    ``c`` (m,), ``a`` (m,) in {±1}, ``B >= 0``, ``x_norm = ||x||``. See the module
    docstring for the derivation.

    >>> exact_sup_from_projections([0.1, 0.5, -0.2], [1, 1, -1], 1.0).value > 0
    True
    >>> exact_sup_from_projections([0.1, 0.5], [1, -1], 0.0).value
    0.0
    """
    c = np.asarray(c, dtype=float).reshape(-1)
    a = _check_signs(a)
    if c.shape != a.shape:
        raise ShapeError(f"c and a must have the same length m, got {c.shape} and {a.shape}")
    if not B >= 0:
        raise InvalidArgument(f"B must be >= 0, got {B!r}")
    m, radius = c.size, float(B) * float(x_norm)
    best = LinearizationSup(0.0, 1, 0, radius)
    for s in (1, -1):
        value, k = _best_prefix(np.sort(np.abs(c[a == s])), radius)
        if value / math.sqrt(m) > best.value:
            best = LinearizationSup(value / math.sqrt(m), s, k, radius)
    return best


def exact_sup(W0: Any, a: Any, x: Any, B: float) -> LinearizationSup:
    """:func:`exact_sup_from_projections` for ``W0`` (m, d), ``a`` (m,), ``x`` (d,)."""
    W0, x = np.asarray(W0, dtype=float), np.asarray(x, dtype=float).reshape(-1)
    if W0.ndim != 2 or W0.shape[1] != x.size:
        raise ShapeError(f"W0 must have shape (m, {x.size}) to match x, got {W0.shape}")
    return exact_sup_from_projections(W0 @ x, a, B, x_norm=float(np.linalg.norm(x)))


def exact_sups(W0: Any, a: Any, X: Any, B: float) -> np.ndarray:
    """:func:`exact_sup` at every row of ``X`` (n, d) for one ``W0`` (m, d), vectorised.

    >>> W0, a = np.array([[1.0, 0.0], [-0.2, 0.0]]), np.array([1.0, 1.0])
    >>> X = np.eye(2)
    >>> bool(np.allclose(exact_sups(W0, a, X, 1.0), [exact_sup(W0, a, x, 1.0).value for x in X]))
    True
    """
    W0, X = np.asarray(W0, dtype=float), np.asarray(X, dtype=float)
    a = _check_signs(a)
    if W0.ndim != 2 or X.ndim != 2 or W0.shape[1] != X.shape[1] or a.size != W0.shape[0]:
        raise ShapeError(f"W0 (m, d), a (m,) and X (n, d) must agree, got {W0.shape}, "
                         f"{a.shape} and {X.shape}")
    if not B >= 0:
        raise InvalidArgument(f"B must be >= 0, got {B!r}")
    C = np.abs(X @ W0.T)
    radius = float(B) * np.linalg.norm(X, axis=1)[:, None]
    best = np.zeros(X.shape[0])
    for s in (1, -1):
        cs = np.sort(C[:, a == s], axis=1)
        if cs.shape[1]:
            g = radius * np.sqrt(np.arange(1, cs.shape[1] + 1)) - np.cumsum(cs, axis=1)
            best = np.maximum(best, g.max(axis=1))
    return best / math.sqrt(W0.shape[0])


def exact_argmax(W0: Any, a: Any, x: Any, B: float) -> np.ndarray:
    """A W with ||W - W0||_F = B (or less) attaining :func:`exact_sup`.

    The k chosen rows (sign s, smallest |c_j|) move along x to
    ``z_j = -sign(c_j)(R/√k - |c_j|)`` (``sign(0) := +1``): each crosses zero by
    ``|c_j| + e_j = R/√k``, so ``||W - W0||_F = R/||x|| = B``; all other rows stay.
    """
    W0, x = np.asarray(W0, dtype=float), np.asarray(x, dtype=float).reshape(-1)
    a = _check_signs(a)
    res = exact_sup(W0, a, x, B)
    W = W0.copy()
    if res.k == 0:
        return W
    norm = float(np.linalg.norm(x))
    c = W0 @ x
    idx = np.flatnonzero(a == res.sign)
    chosen = idx[np.argsort(np.abs(c[idx]), kind="stable")[: res.k]]
    # u_j = |c_j| + e_j = R/√k: z_j moves across 0 to the overshoot e_j = R/√k - |c_j|
    overshoot = res.radius / math.sqrt(res.k) - np.abs(c[chosen])
    target = -np.where(c[chosen] > 0, 1.0, -1.0) * overshoot
    # Δw_j = (target - c_j) x / ||x||², so ||Δw_j|| = |Δz_j| / ||x|| = u_j / ||x||
    W[chosen] += ((target - c[chosen]) / norm**2)[:, None] * x[None, :]
    return W


def relu_gap(W: Any, W0: Any, a: Any, x: Any) -> float:
    """f(x; W) - f_0(x; W) by the overshoot formula m^{-1/2} Σ_j a_j (relu(z_j) - 1[c_j>0] z_j).

    A closed form for tests; theorem files compute f and f_0 with the networks.
    """
    W, W0 = np.asarray(W, dtype=float), np.asarray(W0, dtype=float)
    x, a = np.asarray(x, dtype=float).reshape(-1), np.asarray(a, dtype=float).reshape(-1)
    z, c = W @ x, W0 @ x
    return float(a @ (np.maximum(z, 0.0) - (c > 0) * z) / math.sqrt(W.shape[0]))


def lemma_4_1_bound(B: Any, m: Any, delta: Any) -> Any:
    """Lemma 4.1 (i): (2 B^{4/3} + B ln(1/δ)^{1/4}) / m^{1/6}.

    >>> lemma_4_1_bound(0.0, 100, 0.1)
    0.0
    >>> round(lemma_4_1_bound(1.0, 1.0, math.exp(-1.0)), 12)
    3.0
    """
    _check_delta(delta)
    return (2 * B ** (4 / 3) + B * math.log(1 / delta) ** 0.25) / m ** (1 / 6)


def lemma_4_1_bound_pair(B: Any, m: Any, delta: Any) -> Any:
    """Lemma 4.1 (ii), any two points of the ball: (6 B^{4/3} + 2 B ln(1/δ)^{1/4}) / m^{1/6}."""
    _check_delta(delta)
    return (6 * B ** (4 / 3) + 2 * B * math.log(1 / delta) ** 0.25) / m ** (1 / 6)


def lemma_4_2_bound(m: Any, tau: Any, delta: Any) -> Any:
    """Lemma 4.2: #{j : |w0_jᵀx| <= τ||x||} <= m τ + sqrt((m/2) ln(1/δ)) w.p. >= 1 - δ.

    >>> lemma_4_2_bound(100, 0.0, math.exp(-2.0))
    10.0
    """
    _check_delta(delta)
    return m * tau + math.sqrt(m / 2 * math.log(1 / delta))


def small_count_quantile(m: int, tau: float, delta: float) -> float:
    """The exact (1 - δ)-quantile of :func:`small_count` for W0 iid N(0, 1): the count is
    Binomial(m, P(|N(0, 1)| <= τ)) = Binomial(m, erf(τ/√2)).

    >>> small_count_quantile(1000, 0.2, 0.1) > 0.798 * 1000 * 0.2
    True
    """
    _check_delta(delta)
    return float(stats.binom.ppf(1 - delta, int(m), math.erf(float(tau) / math.sqrt(2))))


def small_count(W0: Any, x: Any, tau: float) -> int:
    """#{j : |w0_jᵀx| <= τ ||x||}, the left side of Lemma 4.2."""
    x = np.asarray(x, dtype=float).reshape(-1)
    return int(np.sum(np.abs(np.asarray(W0, dtype=float) @ x) <= tau * np.linalg.norm(x)))


def continuum_constant(one_sign: bool = False) -> float:
    """lim sup·m^{1/6}/B^{4/3} for ||x|| = 1 and Gaussian W0 (k << m).

    Random ±1 signs: (3/4)(2√(2π))^{-1/3} ≈ 0.438; all a_j of one sign:
    (3/4)(2π)^{-1/6} ≈ 0.552. (Density of |c| at 0 is ρ = 2φ(0) per neuron,
    a fraction q of neurons has the chosen sign: c_(k) ≈ k/(q m ρ); maximising
    R√k - k²/(2 q m ρ) over k gives (3/4)(q ρ/2)^{1/3} R^{4/3} m^{1/3} / √m.)

    >>> round(continuum_constant(), 3), round(continuum_constant(True), 3)
    (0.438, 0.552)
    """
    q = 1.0 if one_sign else 0.5
    rho = 2 / math.sqrt(2 * math.pi)
    return 0.75 * (q * rho / 2) ** (1 / 3)


def smallest_half_normals(n: int, k: int, *, rng: np.random.Generator) -> np.ndarray:
    """The ``min(k, n)`` smallest of ``n`` iid |N(0, 1)|, ascending, exact in distribution.

    Uniform order statistics ``U_(i) = S_i / (S_k + G)`` (``S_i`` partial sums of iid
    Exp(1), ``G ~ Gamma(n - k + 1)``) mapped by the half-normal quantile
    ``√2 erfinv(u)``; O(k) work whatever n.

    >>> v = smallest_half_normals(10**9, 5, rng=np.random.default_rng(0))
    >>> bool(np.all(np.diff(v) >= 0)) and bool(v[-1] < 1e-7)
    True
    """
    n, k = int(n), int(min(k, n))
    if n < 0 or k < 0:
        raise InvalidArgument(f"n and k must be >= 0, got n={n}, k={k}")
    if k == 0:
        return np.zeros(0)
    partial = np.cumsum(rng.standard_exponential(k))
    total = partial[-1] + (rng.standard_gamma(n - k + 1) if n > k else rng.standard_exponential())
    return math.sqrt(2) * special.erfinv(partial / total)


def _sign_class_sup(n: int, radius: float, rng: np.random.Generator) -> float:
    """max_k (R √k - Σ_{i<=k} |c|_(i)) over n iid |N(0, 1)| (scaled by R), exactly.

    Draws the smallest order statistics in blocks and stops once the increment
    ``R(√k - √(k-1)) - |c|_(k)`` is negative: g is concave, so the maximum lies
    before. A further block is drawn conditionally on the last value (the remaining
    uniforms are iid on (U_(k), 1)), so the sample stays exact.
    """
    if n == 0 or radius == 0:
        return 0.0
    k_guess = (radius * n / math.sqrt(2 * math.pi)) ** (2 / 3)
    block = int(min(n, 64 + 2 * k_guess))
    values = np.zeros(0)
    u_last, drawn = 0.0, 0
    while True:
        size = min(block, n - drawn)
        partial = np.cumsum(rng.standard_exponential(size))
        rest = n - drawn - size
        total = partial[-1] + (rng.standard_gamma(rest + 1) if rest > 0
                               else rng.standard_exponential())
        u = u_last + (1 - u_last) * partial / total
        values = np.concatenate([values, math.sqrt(2) * special.erfinv(u)])
        drawn += size
        k = values.size
        last_increment = radius * (math.sqrt(k) - math.sqrt(k - 1)) - values[-1]
        if drawn == n or last_increment < 0:
            return _best_prefix(values, radius)[0]
        u_last, block = float(u[-1]), 2 * block


def sample_exact_sup(m: int, B: float, *, rng: np.random.Generator,
                     x_norm: float = 1.0) -> float:
    """One draw of :func:`exact_sup` for W0 iid N(0, 1), a iid uniform on {±1}, ||x|| given.

    Exact in distribution (see the module docstring); O(k) instead of O(m d) work.

    >>> rng = np.random.default_rng(1)
    >>> v = np.median([sample_exact_sup(10**6, 1.0, rng=rng) for _ in range(20)])
    >>> bool(0.9 < v * 10**(6/6) / continuum_constant() < 1.1)
    True
    """
    m = int(m)
    if m < 1:
        raise InvalidArgument(f"m must be a positive integer, got {m!r}")
    if not B >= 0 or not x_norm >= 0:
        raise InvalidArgument(f"B and x_norm must be >= 0, got B={B!r}, x_norm={x_norm!r}")
    radius = float(B) * float(x_norm)
    n_plus = int(rng.binomial(m, 0.5))
    # |c_j| = ||x|| |N(0,1)|: scale the radius instead of the values
    best = max(_sign_class_sup(n, radius / x_norm if x_norm > 0 else 0.0, rng)
               for n in (n_plus, m - n_plus))
    return best * x_norm / math.sqrt(m)


def _check_delta(delta: Any) -> None:
    if not 0 < float(delta) < 1:
        raise InvalidArgument(f"delta must lie in (0, 1), got {delta!r}")


def ascent_sup(W0: Any, a: Any, x: Any, B: float, *, rng: np.random.Generator,
               restarts: int = 64, iters: int = 400,
               t0: float = 1.0) -> tuple[float, np.ndarray]:
    """Largest |f(x;W) - f_0(x;W)| found by projected gradient ascent over the ball.

    An independent check of :func:`exact_sup` that does not use its structure: the
    ascent runs on the full W (m × d), projected onto ``||W - W0||_F <= B``, from
    ``restarts`` random starts in the ball (run as one batch), half of them
    maximising the gap and half its negative. The gap is piecewise linear with zero
    gradient for rows that have not flipped, so the ascent follows a smoothed gap
    (relu replaced by ``T softplus(z/T)``, whose gradient reaches neurons near the
    kink) with T annealed from 1 to 1e-4 over the first two thirds, then polishes at
    T = 1e-6 with geometrically shrinking steps; the *true* gap is tracked and the
    best iterate kept. Returns ``(best |gap|, its W)``; never above the exact
    supremum (up to roundoff).
    """
    W0, x = np.asarray(W0, dtype=float), np.asarray(x, dtype=float).reshape(-1)
    a = np.asarray(a, dtype=float).reshape(-1)
    m = W0.shape[0]
    c_pos = (W0 @ x) > 0
    sign = np.where(np.arange(restarts) % 2 == 0, 1.0, -1.0)[:, None]
    D = rng.standard_normal((restarts, *W0.shape))
    D *= (B * rng.uniform(size=restarts) / np.maximum(
        np.linalg.norm(D, axis=(1, 2)), 1e-300))[:, None, None]
    n_anneal = (2 * iters) // 3
    temps = np.concatenate([np.geomspace(t0, 1e-4, n_anneal), np.full(iters - n_anneal, 1e-6)])
    steps = np.concatenate([np.maximum(0.1 * B * 0.995 ** np.arange(n_anneal), 1e-3 * B),
                            1e-3 * B * np.geomspace(1.0, 1e-3, iters - n_anneal)])
    best, best_W = 0.0, W0.copy()
    for T, step in zip(temps, steps, strict=True):
        z = (W0[None] + D) @ x                                     # (R, m)
        g_rows = sign * a * (_sigmoid(z / T) - c_pos) / math.sqrt(m)
        G = g_rows[:, :, None] * x[None, None, :]
        norm = np.maximum(np.linalg.norm(G, axis=(1, 2)), 1e-300)[:, None, None]
        D = D + step * G / norm
        scale = np.maximum(np.linalg.norm(D, axis=(1, 2)) / B, 1.0) if B > 0 else \
            np.full(restarts, np.inf)
        D = D / scale[:, None, None]
        z = (W0[None] + D) @ x
        gaps = np.abs((np.maximum(z, 0.0) - c_pos * z) @ a) / math.sqrt(m)
        i = int(np.argmax(gaps))
        if gaps[i] > best:
            best, best_W = float(gaps[i]), W0 + D[i]
    return best, best_W


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(t / 2))


def _project(D: np.ndarray, B: float) -> np.ndarray:
    n = np.linalg.norm(D)
    return D if n <= B else D * (B / n)
