r"""The tangent-kernel edge of Malach, Kamath, Abbe & Srebro (ICML 2021), and what its
checks need: exact Walsh eigenvalues of two-layer NTKs, a gradient-descent trace with
the quantities of the edge bound, and a model whose edge vanishes at its initialisation.

Edge
----
For a model ``f(θ, x)``, an initialisation ``θ0`` and a distribution D of pairs
``(x, y)``, ``y ∈ {±1}``, the tangent-kernel edge is

.. math:: γ(θ_0) = \sup_{\|v\|\le 1} E_D[y\,\langle v, ∇_θ f(θ_0, x)\rangle]
          = \|E_D[y\,∇_θ f(θ_0, x)]\|,

the correlation with the labels that the best unit-norm linear predictor on the tangent
features reaches (:func:`tangent_edge`; D is the uniform distribution on the rows of
``X``). Its square is ``E_{x,x'}[y y' K_{θ0}(x, x')]`` with ``K_{θ0}`` the empirical
tangent kernel. For a two-layer network with ``w_j ~ N(0, I_d)`` and ``a_j² = 1``,
``E_{θ0} K_{θ0} = Θ`` (the infinite-width NTK) at every width, so ``E_{θ0} γ(θ0)² =
E[y y' Θ(x, x')]``; on the hypercube ``{±1}^d/√d`` with ``y = χ_S`` that is the Walsh
eigenvalue ``λ_{|S|}(d)`` of Θ (:func:`expected_edge_squared`, exact in mpmath).

Edge bound (the forms of Malach et al.'s Theorems 1 and 2 derived in ``theorems/test_malach.py``)
-------------------------------------------------------------------------------------------------
GD on ``L(θ) = E_D ½(f(θ, x) - y)²`` from ``θ0``, step ``η``, ``T`` steps,
``G >= max_{t<T} ||∇L(θ_t)||``, final loss ``ε = L(θ_T)``; for the two-layer network
trained in W (``|a_j| = 1``, ``||x|| <= 1``, ``β = sup|σ''|``), every Hessian of
``u(θ) = E_D[y f(θ, x)]`` has norm at most ``β/√m``, and with ``u_0 = u(θ0)``

.. math:: γ(θ_0) \ge \frac{1 - 2ε - 2u_0}{2ηTG} - \frac{β\,ηTG}{2\sqrt m}
          \qquad (:func:`edge_bound`).

From an unbiased ``θ0`` (``f(θ0, ·) ≡ 0``, so ``u_0 = 0``) this is the form of Theorem 1;
from any other ``θ0`` (a plain random draw) it is the form of Theorem 2, with the
init's own correlation ``u_0`` with the labels.

:func:`descent_trace` runs the GD and records ``ε``, ``||∇L(θ_t)||``, ``||θ_t - θ0||``
and ``u(θ_t)`` at every step, so every prefix of one run is a case of the bound.

Zero edge with a biased initialisation (:class:`GatedNetwork`)
----------------------------------------------------------------
``f(x) = b + s (1 + N(x))`` with ``N`` a two-layer network in the doubled
(sign-symmetric) initialisation, so ``N(θ0, ·) ≡ 0``: at ``s0 = 0`` the tangent features
are ``(∂_b, ∂_s, ∂_N) = (1, 1, 0)``, whose edge is ``|E_D y|`` (0 for balanced labels),
whatever ``b0``. With ``b0 ≠ 0`` the first GD step moves ``s`` by ``-η b0`` without
looking at the labels, which switches on N's gradient.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from typing import Any

import mpmath
import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument
from ..nn.kernels import gaussian_moments
from ..nn.networks import Model, Params, TwoLayer, check_inputs

__all__ = ["hypercube", "parity", "edge_vector", "tangent_edge", "two_layer_kappa",
           "expected_edge_squared", "edge_bound", "DescentTrace", "descent_trace",
           "GatedNetwork", "params_norm", "TANH_BETA", "MAX_CUBE_D"]

#: The largest d for which :func:`hypercube` enumerates all 2^d points.
MAX_CUBE_D = 20
#: β = sup|tanh''| = 4/(3√3), attained at ±artanh(1/√3) (ntkproof.theory.smoothness derives
#: it exactly; tests/theory/test_tangent_edge.py checks it on a grid).
TANH_BETA = 4 / (3 * np.sqrt(3))


def hypercube(d: int) -> np.ndarray:
    """All ``2^d`` points of ``{±1}^d`` (rows, float64); scale by ``1/√d`` for unit norm.

    >>> hypercube(2).tolist()
    [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    """
    if int(d) != d or not 1 <= d <= MAX_CUBE_D:
        raise InvalidArgument(f"d must be an integer in 1..{MAX_CUBE_D} (2^d points are "
                              f"enumerated), got {d!r}")
    return np.array(list(itertools.product([-1.0, 1.0], repeat=int(d))))


def parity(signs: np.ndarray, k: int) -> np.ndarray:
    """``χ_{1..k}(x) = Π_{i<k} x_i`` of sign vectors (rows), in ``{±1}``."""
    signs = np.asarray(signs, dtype=float)
    if not 1 <= k <= signs.shape[1]:
        raise InvalidArgument(f"k must lie in 1..{signs.shape[1]}, got {k!r}")
    return np.prod(signs[:, :k], axis=1)


def _flat(b: Backend, tree: Params) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(b.to_numpy(v), dtype=float))
                           for _, v in sorted(tree.items())])


def params_norm(b: Backend, tree: Params) -> float:
    """Euclidean norm of a parameter dictionary (all names), as a float."""
    return float(np.linalg.norm(_flat(b, tree)))


def edge_vector(model: Model, params: Params, X: Any, y: Any) -> Params:
    """``E_D[y ∇_θ f(θ, x)]`` over the trained names, D uniform on the rows of ``X``."""
    b = model.backend
    Xb = check_inputs(X, model.d, b)
    yv = np.asarray(y, dtype=float).reshape(-1)
    if yv.shape[0] != Xb.shape[0]:
        raise InvalidArgument(f"y has {yv.shape[0]} entries but X has {Xb.shape[0]} rows")
    return model.vjp(params, Xb, b.asarray(yv / yv.shape[0]))


def tangent_edge(model: Model, params: Params, X: Any, y: Any) -> float:
    """The edge ``γ = ||E_D[y ∇_θ f(θ, x)]||`` (module docstring), as a float.

    >>> net = TwoLayer(2, 4, "tanh", trained="W", symmetric=True, seed=0)
    >>> X = hypercube(2) / np.sqrt(2)
    >>> tangent_edge(net, net.params0, X, parity(hypercube(2), 2)) < 1e-15  # odd net, even y
    True
    """
    return params_norm(model.backend, edge_vector(model, params, X, y))


def two_layer_kappa(activation: str, t: Any, *, backend: str | Backend = "mpmath") -> Any:
    """``κ(t) = t E[σ'(u)σ'(v)] + E[σ(u)σ(v)]``, ``(u, v)`` standard normal with
    correlation ``t``: the NTK (both layers trained) of ``m^{-1/2} Σ a_j σ(w_j·x)``,
    ``w_j ~ N(0, I)``, ``a_j² = 1``, at unit inputs with ``x·x' = t``. Closed forms of
    :func:`ntkproof.nn.kernels.gaussian_moments` (relu, erf, identity).

    >>> float(two_layer_kappa("relu", 1.0, backend="numpy"))  # 1/2 + 1/2
    1.0
    """
    b = get_backend(backend)
    nngp, dot, _, _ = gaussian_moments(activation, 1, t, 1, method="closed", backend=b)
    return t * dot + nngp


def _kernel_walsh(kappa: Callable[[Any], Any], k: int, d: int) -> Any:
    """``λ_k(d) = 2^{-d} Σ_j κ(1 - 2j/d) Σ_i (-1)^i C(k, i) C(d-k, j-i)`` in mpmath."""
    total = mpmath.mpf(0)
    for j in range(d + 1):
        kr = sum((-1) ** i * comb(k, i) * comb(d - k, j - i)
                 for i in range(min(j, k) + 1) if 0 <= j - i <= d - k)
        if kr:
            total += kr * kappa(mpmath.mpf(1) - mpmath.mpf(2 * j) / d)
    return total / mpmath.mpf(2) ** d


def expected_edge_squared(activation: str, k: int, d: int) -> float:
    """``E_{θ0} γ(θ0)²`` for ``y = χ_S``, ``|S| = k``, on ``{±1}^d/√d``: the degree-k
    Walsh eigenvalue of the two-layer NTK of ``activation`` (module docstring), summed
    exactly in mpmath with enough digits for the alternating Krawtchouk sums.
    """
    if not 1 <= k <= d:
        raise InvalidArgument(f"need 1 <= k <= d, got k={k!r}, d={d!r}")
    digits = 30 + 2 * len(str(2**d))   # the sum's terms reach 2^d-fold its size, twice over
    b = get_backend(f"mpmath:dps{digits}")
    with mpmath.workdps(digits):
        value = _kernel_walsh(lambda t: two_layer_kappa(activation, t, backend=b), k, d)
        return float(value)


def edge_bound(eps: Any, eta: Any, T: Any, G: Any, beta: float, m: int, *,
               u0: Any = 0.0) -> Any:
    r"""The edge bound ``(1 - 2ε - 2u0)/(2ηTG) - βηTG/(2√m)`` (module docstring;
    elementwise).

    ``eps`` the final loss ``E_D ½(f - y)²``, ``eta`` the step, ``T`` the number of
    steps, ``G`` the largest gradient norm of the run, ``beta = sup|σ''|``, ``m`` the
    width, ``u0 = E_D[y f(θ0, x)]`` the initial network's correlation with the labels
    (0, the default, at an unbiased init: Theorem 1's form; a biased init's measured
    value: Theorem 2's form). As ``m → ∞`` it is the lazy form ``(1 - 2ε - 2u0)/(2ηTG)``;
    at ``ε = 1/2 - u0`` it is ``-βηTG/(2√m) <= 0``.

    >>> float(edge_bound(0.25, 0.5, 2, 1.0, 0.0, 4))  # (1/2) / 2
    0.25
    >>> float(edge_bound(0.25, 0.5, 2, 1.0, 0.0, 4, u0=0.125))  # (1/2 - 1/4) / 2
    0.125
    """
    P = np.asarray(eta, dtype=float) * np.asarray(T, dtype=float) * np.asarray(G, dtype=float)
    if np.any(P <= 0):
        raise InvalidArgument("eta, T and G must be positive (ηTG > 0)")
    u = np.asarray(u0, dtype=float)
    if not np.all(np.isfinite(u)):
        raise InvalidArgument(f"u0 (the initial correlation E_D[y f(θ0, x)]) must be finite, "
                              f"got {u0!r}")
    return (1 - 2 * np.asarray(eps, dtype=float) - 2 * u) / (2 * P) - beta * P / (2 * np.sqrt(m))


@dataclass(frozen=True)
class DescentTrace:
    """One GD run on ``L = E_D ½(f - y)²``: ``losses[t] = L(θ_t)`` and
    ``correlation[t] = E_D[y f(θ_t, x)]`` for t = 0..T, ``grad_norms[t] = ||∇L(θ_t)||``
    and ``distance[t] = ||θ_t - θ0||`` (trained names) for t = 0..T - 1 and 0..T."""

    lr: float
    losses: np.ndarray
    correlation: np.ndarray
    grad_norms: np.ndarray
    distance: np.ndarray

    def max_grad(self) -> np.ndarray:
        """``G_T = max_{t<T} ||∇L(θ_t)||`` for T = 1..steps."""
        return np.maximum.accumulate(self.grad_norms)


def descent_trace(model: Model, X: Any, y: Any, *, lr: float, steps: int,
                  params: Params | None = None) -> DescentTrace:
    """Full-batch GD ``θ_{t+1} = θ_t - lr ∇L(θ_t)`` on ``L = E_D ½(f - y)²`` (D uniform
    on the rows of X), recording what :func:`edge_bound` needs at every step."""
    b = model.backend
    Xb = check_inputs(X, model.d, b)
    yv = np.asarray(y, dtype=float).reshape(-1)
    yb, inv_n, lr_b = b.asarray(yv), 1 / b.scalar(len(yv)), b.scalar(lr)
    theta = dict(model.params0 if params is None else params)
    start = {k: theta[k] for k in model.trained}
    losses, corr, grads, dist = [], [], [], []
    for t in range(int(steps) + 1):
        f = model.apply(theta, Xb)
        fv = np.asarray(b.to_numpy(f), dtype=float)
        losses.append(0.5 * float(np.mean((fv - yv) ** 2)))
        corr.append(float(np.mean(yv * fv)))
        dist.append(params_norm(b, {k: theta[k] - start[k] for k in model.trained}))
        if t == steps:
            break
        g = model.vjp(theta, Xb, (f - yb) * inv_n)
        grads.append(params_norm(b, g))
        theta = {k: (v - lr_b * g[k]) if k in g else v for k, v in theta.items()}
    return DescentTrace(float(lr), np.array(losses), np.array(corr), np.array(grads),
                        np.array(dist))


class GatedNetwork(Model):
    """``f(x) = b + s·(1 + N(x))``: an output bias ``b``, an output gate ``s`` (also the
    weight of a constant hidden unit) and a two-layer network ``N`` (see the module
    docstring). Parameters ``{"b": (1,), "s": (1,), "W": (m, d), "a": (m,)}``, all trained.

    ``base`` must be a doubled (``symmetric=True``) :class:`TwoLayer` with both layers
    trained, so ``N(θ0, ·) ≡ 0``.

    >>> net = GatedNetwork(TwoLayer(3, 4, "relu", trained="both", symmetric=True, seed=0),
    ...                    b0=1.0, s0=0.0)
    >>> net.apply(net.params0, np.eye(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, base: TwoLayer, *, b0: float, s0: float) -> None:
        if not isinstance(base, TwoLayer) or not base.symmetric or base.trained != ("W", "a"):
            raise InvalidArgument("base must be TwoLayer(..., trained='both', symmetric=True) "
                                  f"(so that N(θ0, ·) = 0), got {base!r}")
        self.base, self.backend, self.d, self.seed = base, base.backend, base.d, base.seed
        bk = self.backend
        self.params0 = {"b": bk.asarray(np.array([float(b0)])),
                        "s": bk.asarray(np.array([float(s0)])), **base.params0}
        self.trained = ("b", "s", "W", "a")

    def __repr__(self) -> str:
        b0, s0 = (float(self.backend.to_float(self.params0[k][0])) for k in ("b", "s"))
        return f"GatedNetwork({self.base!r}, b0={b0:g}, s0={s0:g})"

    @staticmethod
    def _inner(params: Params) -> Params:
        return {"W": params["W"], "a": params["a"]}

    def apply(self, params: Params, X: Any) -> Any:
        self._check_params(params)
        return params["b"][0] + params["s"][0] * (1 + self.base.apply(self._inner(params), X))

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        inner = self._inner(params)
        N = self.base.apply(inner, X)
        return tangent["b"][0] + tangent["s"][0] * (1 + N) \
            + params["s"][0] * self.base.jvp(inner, X, self._inner(tangent))

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        bk, inner = self.backend, self._inner(params)
        c = bk.asarray(cot)
        N = self.base.apply(inner, X)
        g = self.base.vjp(inner, X, c * params["s"][0])
        return {"b": bk.sum(c, axis=0) + 0 * params["b"],
                "s": bk.sum(c * (1 + N), axis=0) + 0 * params["s"], **g}

    def grads(self, params: Params, X: Any) -> Params:
        inner = self._inner(params)
        N = self.base.apply(inner, X)
        g = self.base.grads(inner, X)
        one = 0 * N + 1
        return {"b": one[:, None], "s": (1 + N)[:, None],
                **{k: v * params["s"][0] for k, v in g.items()}}
