r"""Random ReLU features against a single ReLU neuron (Yehudai & Shamir, NeurIPS 2019).

Setting
-------
Inputs ``x ~ N(0, I_d)``, target ``y = relu(w*·x)`` with ``||w*|| = 1``; features
``relu(w_i·x)``, ``i = 1..r``, with the ``w_i`` uniform on the unit sphere (ReLU is
positively homogeneous, so only directions matter; scales go into the output weights).
A random-features predictor is ``Σ_i u_i relu(w_i·x)``.

Population (infinite data)
--------------------------
``E_x[relu(w·x) relu(w'·x)] = ||w|| ||w'|| (sin θ + (π - θ) cos θ)/(2π)`` (the arc-cosine
kernel of order 1 in the *weights*, :func:`feature_gram`), ``E y² = 1/2``,
``Var y = 1/2 - 1/(2π)``. The best output weights for the first r features are
``u = G_r^{-1} b_r`` with ``G`` the features' Gram matrix and ``b_i = E[relu(w_i·x) y]``,
and the error is ``E y² - b_rᵀ G_r^{-1} b_r``. One Cholesky factor ``G = L Lᵀ`` gives
it for every prefix r at once: with ``z = L^{-1} b``, ``error(r) = E y² - Σ_{i<=r} z_i²``
(:func:`population_error_curve`). :func:`features_needed` is the first r at which the
expected curve (averaged over feature draws) reaches a relative error ε.

Samples (regression)
--------------------
With n samples, features ``relu(w_i·x)/√r``: ridge regression in the dual,
``α = (F Fᵀ + λ tr(F Fᵀ)/n I)^{-1} y``, output weights ``u = Fᵀ α``. As ``r → ∞``,
``F Fᵀ → K`` with ``K(x, x') = E_{w ~ unif(S^{d-1})}[relu(w·x) relu(w·x')] =
arccos_1(x, x')/d`` (``w = g/|g|``, ``g ~ N(0, I)``, ``E|g|² = d``): RF regression tends
to kernel ridge regression with the same samples and ridge (:func:`kernel_limit`).

Degree <= 1 plateau (Hermite expansion of relu under N(0, 1))
-------------------------------------------------------------
``E relu = 1/√(2π)``, ``E[z relu] = 1/2``: the best predictor of degree <= 1 leaves the
relative error ``(π - 2)/(2(π - 1)) ≈ 0.2665`` (:data:`PLATEAU`); degree 2 carries
``(1/(4π))/Var y ≈ 0.234`` of it and needs the ``d(d+1)/2`` quadratic directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument
from ..nn.kernels import arccos_kernel
from ..rng import generator, unit_vectors

__all__ = ["PLATEAU", "RELU_SECOND_MOMENT", "RELU_VARIANCE", "feature_gram",
           "population_error_curve", "features_needed", "FeaturesNeeded", "RidgeFit",
           "ridge_fit", "loo_ridge",
           "kernel_limit", "relu_features", "quadratic_dimension"]

#: Relative error of the best predictor of degree <= 1 of relu(z), z ~ N(0, 1).
PLATEAU = (np.pi - 2) / (2 * (np.pi - 1))
#: E relu(z)² = 1/2 and Var relu(z) = 1/2 - 1/(2π), z ~ N(0, 1).
RELU_SECOND_MOMENT = 0.5
RELU_VARIANCE = 0.5 - 1 / (2 * np.pi)


def quadratic_dimension(d: int) -> int:
    """Dimension ``(d + 1)(d + 2)/2`` of the polynomials of degree <= 2 in d variables.

    >>> quadratic_dimension(3)
    10
    """
    return (int(d) + 1) * (int(d) + 2) // 2


def feature_gram(W1: Any, W2: Any = None, *, backend: str | Backend | None = None) -> Any:
    """``E_{x~N(0,I)}[relu(w_i·x) relu(w'_j·x)]`` for the rows of ``W1`` and ``W2``."""
    return arccos_kernel(W1, W2, order=1, backend=backend)


def population_error_curve(W: Any, w_star: Any, *,
                           backend: str | Backend | None = None) -> np.ndarray:
    """Relative population error ``error(r)/Var y`` of the best output weights on the
    first r rows of ``W`` (features ``relu(w_i·x)``), for r = 1..len(W) (module docstring).

    >>> w = np.eye(3)
    >>> bool(population_error_curve(w, w[0])[0] < 1e-9)  # the target is feature 1
    True
    """
    b = get_backend(backend)
    W, ws = np.asarray(W, dtype=float), np.asarray(w_star, dtype=float).reshape(1, -1)
    # a jitter of 1e-12 (relative to the unit diagonal) keeps the factor defined when
    # features nearly repeat; it moves the errors by O(1e-12)
    G = b.asarray(b.to_numpy(feature_gram(W, backend=b)) + 1e-12 * np.eye(len(W)))
    rhs = b.asarray(b.to_numpy(feature_gram(W, ws, backend=b)))
    z = b.to_numpy(b.solve_triangular(b.cholesky(G), rhs, lower=True)).reshape(-1)
    return (RELU_SECOND_MOMENT - np.cumsum(z * z)) / RELU_VARIANCE


class _PrefixErrors:
    """The relative population errors of the prefixes of one growing feature draw: the
    Cholesky factor of the Gram matrix is extended block by block (``L21 = G21 L11^{-T}``,
    ``L22 = chol(G22 - L21 L21ᵀ)``), so reaching r features costs about r³/3 once."""

    def __init__(self, d: int, seed: int, b: Backend) -> None:
        self.rng, self.b, self.d = generator(seed), b, d
        self.w_star = np.eye(d)[:1]
        self.W = np.zeros((0, d))
        self.L = np.zeros((0, 0))
        self.z = np.zeros(0)          # L^{-1} b of the features so far
        self.captured = 0.0

    def extend(self, block: int) -> np.ndarray:
        """Add ``block`` features; the errors of the new prefixes, shape (block,)."""
        b, Wn = self.b, unit_vectors(self.rng, block, self.d)
        g = lambda A, B: np.asarray(b.to_numpy(feature_gram(A, B, backend=b)))  # noqa: E731
        G22 = g(Wn, Wn) + 1e-12 * np.eye(block)   # jitter: see population_error_curve
        rhs = g(Wn, self.w_star).reshape(-1)
        if len(self.W):
            L21 = np.asarray(b.to_numpy(b.solve_triangular(
                b.asarray(self.L), b.asarray(g(self.W, Wn)), lower=True))).T
            G22, rhs = G22 - L21 @ L21.T, rhs - L21 @ self.z
        else:
            L21 = np.zeros((block, 0))
        L22 = np.asarray(b.to_numpy(b.cholesky(b.asarray(G22))))
        z2 = np.asarray(b.to_numpy(b.solve_triangular(b.asarray(L22), b.asarray(rhs),
                                                      lower=True))).reshape(-1)
        r = len(self.W)
        self.L = np.block([[self.L, np.zeros((r, block))], [L21, L22]])
        self.W, self.z = np.vstack([self.W, Wn]), np.concatenate([self.z, z2])
        errors = (RELU_SECOND_MOMENT - self.captured - np.cumsum(z2 * z2)) / RELU_VARIANCE
        self.captured += float(z2 @ z2)
        return errors


@dataclass(frozen=True)
class FeaturesNeeded:
    """``r``: the features needed; ``weights_norm`` and ``weights_max``: ``||u||₂`` and
    ``max_i |u_i|`` of the best output weights on the first r features of the first draw
    (features ``relu(w_i·x)``, unit ``w_i``)."""

    r: int
    weights_norm: float
    weights_max: float


def features_needed(d: int, eps: float, *, seed: int, draws: int, block: int = 128,
                    r_limit: int = 8192, backend: str | Backend | None = None
                    ) -> FeaturesNeeded:
    """The first r at which the mean of ``draws`` population error curves (independent
    feature draws, target ``w* = e_1``: the problem is rotation invariant) is <= ``eps``.

    The draws grow in lockstep, ``block`` features at a time; InvalidArgument when
    ``r_limit`` features do not reach ``eps``.
    """
    b = get_backend(backend)
    runs = [_PrefixErrors(d, int(s), b)
            for s in np.random.SeedSequence(int(seed)).generate_state(draws)]
    r = 0
    while r < r_limit:
        mean = np.mean([run.extend(block) for run in runs], axis=0)
        hit = np.nonzero(mean <= eps)[0]
        if hit.size:
            r += int(hit[0]) + 1
            first = runs[0]
            u = np.asarray(b.to_numpy(b.solve_triangular(
                b.asarray(first.L[:r, :r]), b.asarray(first.z[:r]), lower=True, trans=True)))
            return FeaturesNeeded(r, float(np.linalg.norm(u)), float(np.max(np.abs(u))))
        r += block
    raise InvalidArgument(f"{r_limit} features do not reach relative error {eps:g} at d={d}; "
                          "raise r_limit")


def relu_features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``relu(X Wᵀ)/√r``, shape (n, r)."""
    return np.maximum(np.asarray(X) @ np.asarray(W).T, 0.0) / np.sqrt(len(W))


@dataclass(frozen=True)
class RidgeFit:
    """A ridge fit in the dual: ``alpha`` (n,), the ridge, and test predictions."""

    alpha: np.ndarray
    ridge: float
    test: np.ndarray


def ridge_fit(K: np.ndarray, y: np.ndarray, K_test: np.ndarray, ridge: float) -> RidgeFit:
    """``α = (K + ridge·tr(K)/n I)^{-1} y`` and the predictions ``K_test α``."""
    n = len(y)
    A = K + ridge * np.trace(K) / n * np.eye(n)
    alpha = np.linalg.solve(A, y)
    return RidgeFit(alpha, float(ridge), K_test @ alpha)


def loo_ridge(K: np.ndarray, y: np.ndarray, ridges: Any) -> float:
    """The ridge of ``ridges`` with the least leave-one-out error on the training set
    (closed form: residual_i = α_i / (A^{-1})_ii)."""
    n, best, out = len(y), np.inf, None
    for r in ridges:
        Ainv = np.linalg.inv(K + r * np.trace(K) / n * np.eye(n))
        err = float(np.mean((Ainv @ y / np.diag(Ainv)) ** 2))
        if err < best:
            best, out = err, float(r)
    if out is None:
        raise InvalidArgument("ridges must hold at least one value")
    return out


def kernel_limit(X: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(K, K_test)`` of the r → ∞ limit of :func:`relu_features` with unit-sphere
    weights: ``arccos_1(x, x')/d`` (module docstring)."""
    d = X.shape[1]
    return (np.asarray(arccos_kernel(X, order=1)) / d,
            np.asarray(arccos_kernel(X_test, X, order=1)) / d)
