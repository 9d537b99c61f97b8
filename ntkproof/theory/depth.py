r"""The curvature of a deep network at its initialisation: the top eigenvalue of the
Hessian of ``f(x; θ)`` in the trained weights, which fixes the linearisation error over
a small ball.

Why the Hessian
---------------
For a smooth activation, Taylor's theorem at θ0 gives

    sup_{||θ - θ0|| <= B} |f(x; θ) - f_lin(x; θ)| = (B²/2) ||∇²_θ f(x; θ0)||_op + O(B³),

``f_lin`` the first-order model at θ0 (Telgarsky's ``f_0``): the operator norm of the
Hessian is the linearisation error over a ball of radius B, to leading order, and the
sup is attained along its top eigenvector.

The network (neural-tangents conventions, :class:`ntkproof.nn.networks.MLP`)
---------------------------------------------------------------------------
``h_0 = x``, ``z_l = s_l h_l W_l`` (``s_l = W_std_l/√fan_in``, no bias), ``h_{l+1} =
σ(z_l)``, ``f = z_L`` with Dense layers numbered ``l = 0..L`` here (``W{l+1}`` in the
MLP's parameter names). Backprop: ``δ_L = 1``, ``g_{l-1} = s_l W_l δ_l``, ``δ_{l-1} =
g_{l-1} ∘ σ'(z_{l-1})``; the gradient in ``W_l`` is ``s_l h_l ⊗ δ_l``.

Forward-over-reverse (Pearlmutter's R-operator) along a direction V = (V_l): ``ż_l =
s_l(ḣ_l W_l + h_l V_l)``, ``ḣ_{l+1} = σ'(z_l) ż_l``; ``δ̇_L = 0``, ``δ̇_{l-1} = s_l(W_l δ̇_l +
V_l δ_l) ∘ σ'(z_{l-1}) + g_{l-1} ∘ σ''(z_{l-1}) ż_{l-1}``; the Hessian-vector product in
``W_l`` is ``s_l(ḣ_l ⊗ δ_l + h_l ⊗ δ̇_l)``.

The Hessian lives on a small subspace
-------------------------------------
Every Hessian-vector product has ``W_l``-block ``s_l(ḣ_l ⊗ δ_l + h_l ⊗ δ̇_l)``: it lies in
``S_l = {ĥ_l ⊗ w + u ⊗ δ̂_l : u ⊥ ĥ_l}`` (hats: unit vectors), a subspace of dimension
``fan_out + fan_in - 1`` of the ``fan_in·fan_out`` weights. The symmetric Hessian's range
is then inside ``⊕ S_l``, so every eigenvector of a nonzero eigenvalue lies there, and
the top eigenvalue of the Hessian restricted to ``⊕ S_l`` (coordinates (w, u), an
isometry: ``||ĥwᵀ + uδ̂ᵀ||_F² = |w|² + |u|²`` for u ⊥ ĥ) is the top eigenvalue of the whole
Hessian. A product costs two matrix-vector products per layer, no outer product, and
the Lanczos vectors have ``O(m ℓ)`` entries instead of ``O(m² ℓ)``.
:class:`InteriorCurvature` computes it for one network by Lanczos (scipy ``eigsh``), and
:func:`curvatures` for many networks of one architecture at once (weights stacked, Lanczos
with full reorthogonalisation in lockstep), on any backend whose arrays support batched
``@``, ``*`` and ``+`` (numpy, torch).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from ..errors import InvalidArgument
from ..nn.networks import MLP

__all__ = ["InteriorCurvature", "Curvature", "interior_layers", "curvatures", "single_thread"]


def single_thread() -> Any:
    """A context with one BLAS thread (threadpoolctl, when installed): the products here
    are matrix-vector products of size 10^2-10^3, several times faster on one thread than
    on two contending for a shared 2-core machine."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional dependency
    except ImportError:  # pragma: no cover - an optional speed-up only
        return nullcontext()
    return threadpool_limits(1)


def interior_layers(depth: int, frozen_head: int = 2) -> tuple[int, ...]:
    """The Dense layers (1-based, as in the MLP's ``W{l}``) trained in the depth claims:
    ``W{frozen_head + 1} .. W{depth}``, the hidden-to-hidden layers after the first
    ``frozen_head`` Dense layers; the readout ``W{depth + 1}`` is frozen too.

    >>> interior_layers(5)
    (3, 4, 5)
    """
    if depth <= frozen_head:
        raise InvalidArgument(f"depth={depth} leaves no interior layer after {frozen_head} "
                              f"frozen ones; use depth >= {frozen_head + 1}")
    return tuple(range(frozen_head + 1, depth + 1))


@dataclass
class Curvature:
    """The top eigenpair of the Hessian of ``f(x; ·)`` in the trained weights.

    ``value``: the eigenvalue of largest modulus (signed); ``direction``: its unit
    eigenvector as ``{"W{l}": (fan_in, fan_out) array}`` on the backend; ``residual``:
    ``||Hv - λv|| / |λ|`` from one more product; ``products``: Hessian-vector products
    used; ``dimension``: of the subspace ``⊕ S_l``."""

    value: float
    direction: dict[str, Any]
    residual: float
    products: int
    dimension: int

    @property
    def norm(self) -> float:
        return abs(self.value)


class InteriorCurvature:
    """The Hessian of ``f(x; θ)`` at ``net.params0`` in the weights ``W{l}``, ``l`` in
    ``layers`` (1-based Dense indices), restricted to ``⊕ S_l`` (module docstring).

    ``net``: an :class:`~ntkproof.nn.networks.MLP` without bias (``b_std = 0``) and with a
    twice differentiable activation; ``x``: one input, shape (d,). Computed on
    ``net.backend`` (numpy or torch); :meth:`top` returns a :class:`Curvature`.
    :func:`curvatures` does the same for many networks at once.
    """

    def __init__(self, net: MLP, x: Any, layers: Iterable[int]) -> None:
        _check_network(net, layers)
        self.net = net
        self._op = _Batch([net], x, layers)
        self.dimension = self._op.dimension
        self.products = 0

    def hvp(self, v: np.ndarray) -> np.ndarray:
        """The restricted Hessian applied to coordinates ``v`` (length :attr:`dimension`)."""
        self.products += 1
        return self._op.hvp(np.asarray(v, dtype=float)[None, :])[0]

    def direction(self, v: np.ndarray) -> dict[str, Any]:
        """The weight-space matrices ``ĥ_l wᵀ + u δ̂_lᵀ`` of coordinates ``v``."""
        op, b = self._op, self._op.b
        out = {}
        for k, (w, u) in op.split(b.asarray(np.asarray(v, dtype=float)[None, :])).items():
            out[f"W{k + 1}"] = (b.matmul(op.hhat[k][0][:, None], w[0][None, :])
                                + b.matmul(u[0][:, None], op.dhat[k][0][None, :]))
        return out

    def top(self, *, tol: float = 1e-8) -> Curvature:
        """The top eigenpair by Lanczos (scipy ``eigsh``, largest modulus), started from the
        gradient's own coordinates, and its residual."""
        self.products = 0
        start = self._op.start()[0]
        op = LinearOperator((self.dimension, self.dimension), matvec=self.hvp, dtype=float)
        vals, vecs = eigsh(op, k=1, which="LM", tol=tol, v0=start / np.linalg.norm(start))
        lam, vec = float(vals[0]), vecs[:, 0]
        used = self.products
        res = np.linalg.norm(self.hvp(vec) - lam * vec) / abs(lam)
        return Curvature(lam, self.direction(vec), float(res), used, self.dimension)


def _check_network(net: Any, layers: Iterable[int]) -> None:
    if not isinstance(net, MLP):
        raise InvalidArgument(f"net must be an MLP, got {type(net).__name__}")
    if net.b_std != 0:
        raise InvalidArgument(f"the curvature needs b_std = 0 (biases are not in the "
                              f"subspace S_l), got b_std={net.b_std}")
    if not net.activation.smooth:
        raise InvalidArgument(f"activation {net.activation.name!r} is not twice "
                              "differentiable; its Hessian is not the linearisation error")
    bad = [k for k in layers if not 1 <= int(k) <= net.depth + 1]
    if bad or not list(layers):
        raise InvalidArgument(f"layers must be Dense indices in 1..{net.depth + 1}, got "
                              f"{list(layers)}")


class _Batch:
    """The restricted Hessians of S networks of one architecture at one input, applied
    together: the weights stacked to (S, fan_in, fan_out), every vector (S, ·). The same
    formulas as :class:`InteriorCurvature`, one batched matrix product per layer."""

    def __init__(self, nets: list[MLP], x: Any, layers: Iterable[int]) -> None:
        net0 = nets[0]
        b, act, L = net0.backend, net0.activation, net0.depth
        self.b, self.L = b, L
        self.W = [_stack(b, [n.params0[f"W{k}"] for n in nets]) for k in range(1, L + 2)]
        self.s = [b.scalar(net0.W_std[k]) / b.sqrt(b.scalar(self.W[k].shape[1]))
                  for k in range(L + 1)]
        self.layers = sorted(int(k) - 1 for k in layers)
        S = len(nets)
        h = b.asarray(np.tile(np.asarray(x, dtype=float).reshape(1, -1), (S, 1)))
        hs, zs = [h], []
        for k in range(L + 1):
            zs.append(self.s[k] * _bmv(b, hs[-1], self.W[k]))
            if k < L:
                hs.append(act.f(b, zs[-1]))
        d = b.asarray(np.ones((S, 1)))
        ds: list[Any] = [None] * (L + 1)
        gs: list[Any] = [None] * (L + 1)
        ds[L] = d
        for k in range(L, 0, -1):
            gs[k - 1] = self.s[k] * _bmv_t(b, ds[k], self.W[k])
            ds[k - 1] = gs[k - 1] * act.df(b, zs[k - 1])
        self.hs, self.ds, self.gs = hs, ds, gs
        self.d1 = [act.df(b, z) for z in zs[:L]]
        self.d2 = [act.d2f(b, z) for z in zs[:L]]
        self.hn = {k: b.sqrt(b.sum(hs[k] * hs[k], axis=1))[:, None] for k in self.layers}
        self.dn = {k: b.sqrt(b.sum(ds[k] * ds[k], axis=1))[:, None] for k in self.layers}
        self.hhat = {k: hs[k] / self.hn[k] for k in self.layers}
        self.dhat = {k: ds[k] / self.dn[k] for k in self.layers}
        self.sizes = [(int(self.W[k].shape[2]), int(self.W[k].shape[1])) for k in self.layers]
        self.dimension = sum(a + c for a, c in self.sizes)

    def _dot(self, a: Any, c: Any) -> Any:
        return self.b.sum(a * c, axis=1)[:, None]

    def start(self) -> np.ndarray:
        b = self.b
        return np.concatenate([np.concatenate([b.to_numpy(self.ds[k] * self.hn[k]),
                                               np.zeros((self.ds[k].shape[0], nu))], axis=1)
                               for k, (_, nu) in zip(self.layers, self.sizes, strict=True)],
                              axis=1)

    def split(self, V: Any) -> dict[int, tuple[Any, Any]]:
        """Coordinates (S, dimension) on the backend -> per layer (w, u ⊥ ĥ)."""
        coords, i = {}, 0
        for k, (nw, nu) in zip(self.layers, self.sizes, strict=True):
            w, u = V[:, i:i + nw], V[:, i + nw:i + nw + nu]
            i += nw + nu
            coords[k] = (w, u - self.hhat[k] * self._dot(self.hhat[k], u))
        return coords

    def hvp(self, v: np.ndarray) -> np.ndarray:
        """The restricted Hessians applied to coordinates ``v`` (S, dimension), numpy in and
        out, computed on the networks' backend."""
        b, L, s = self.b, self.L, self.s
        coords = self.split(b.asarray(v))
        hd: list[Any] = [None] * (L + 1)
        zd: list[Any] = [None] * (L + 1)
        for k in range(L + 1):
            z = _bmv(b, hd[k], self.W[k]) if hd[k] is not None else None
            if k in coords:
                part = self.hn[k] * coords[k][0]
                z = part if z is None else z + part
            if z is None:
                continue
            zd[k] = s[k] * z
            if k < L:
                hd[k + 1] = self.d1[k] * zd[k]
        out: dict[int, Any] = {}
        dd = None
        for k in range(L, -1, -1):
            if k in coords:
                hh, ds_k = self.hhat[k], self.ds[k]
                hdk = hd[k] if hd[k] is not None else 0 * hh
                ddk = dd if dd is not None else 0 * ds_k
                out[k] = (s[k] * (self._dot(hdk, hh) * ds_k + self.hn[k] * ddk),
                          s[k] * self.dn[k] * (hdk - hh * self._dot(hh, hdk)))
            if k == 0:
                break
            back = _bmv_t(b, dd, self.W[k]) if dd is not None else None
            if k in coords:
                w, u = coords[k]
                part = self.hhat[k] * self._dot(w, self.ds[k]) + u * self._dot(self.dhat[k],
                                                                               self.ds[k])
                back = part if back is None else back + part
            new = None if back is None else s[k] * back * self.d1[k - 1]
            if zd[k - 1] is not None:
                curv = self.gs[k - 1] * self.d2[k - 1] * zd[k - 1]
                new = curv if new is None else new + curv
            dd = new
        return np.concatenate([b.to_numpy(part) for k in self.layers for part in out[k]],
                              axis=1)


def curvatures(nets: list[MLP], x: Any, layers: Iterable[int], *, tol: float = 1e-8,
               max_iter: int = 80, chunk: int = 8) -> list[tuple[float, float, int]]:
    """``(top eigenvalue, residual, products)`` of each network's restricted Hessian (the
    networks share one architecture), by Lanczos with full reorthogonalisation run in
    lockstep over ``chunk`` networks at a time (:class:`InteriorCurvature` does one network
    with scipy's ``eigsh``; both are exact up to ``tol``). The residual is ``‖Hv - λv‖/|λ|``
    of the Ritz vector, from one more product; iteration stops when every network's
    Lanczos estimate ``|β_k y_k|/|λ|`` is below ``tol``."""
    layers = tuple(layers)
    for net in nets:
        _check_network(net, layers)
    out: list[tuple[float, float, int]] = []
    for start in range(0, len(nets), chunk):
        out += _lanczos(_Batch(nets[start:start + chunk], x, layers), tol, max_iter)
    return out


def _lanczos(op: _Batch, tol: float, max_iter: int) -> list[tuple[float, float, int]]:
    q = op.start()
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    S, n = q.shape
    Q = [q]
    alpha, beta = [], []
    prev, b_prev = np.zeros_like(q), np.zeros(S)
    for it in range(min(max_iter, n)):
        w = op.hvp(Q[-1])
        a = np.sum(w * Q[-1], axis=1)
        w = w - a[:, None] * Q[-1] - b_prev[:, None] * prev
        basis = np.stack(Q, axis=1)                              # (S, j, n)
        for _ in range(2):                                       # full reorthogonalisation
            w -= np.einsum("sj,sjn->sn", np.einsum("sjn,sn->sj", basis, w), basis)
        bn = np.linalg.norm(w, axis=1)
        alpha.append(a)
        beta.append(bn)
        T = _tridiagonal(alpha, beta[:-1])
        lam, Y = np.linalg.eigh(T)
        top = np.argmax(np.abs(lam), axis=1)
        lam_top = lam[np.arange(S), top]
        y_top = Y[np.arange(S), :, top]
        est = np.abs(bn * y_top[:, -1]) / np.maximum(np.abs(lam_top), 1e-300)
        if np.all(est <= tol) or it + 1 >= min(max_iter, n) or np.any(bn == 0):
            break
        prev, b_prev = Q[-1], bn
        Q.append(w / bn[:, None])
    basis = np.stack(Q, axis=1)
    ritz = np.einsum("sj,sjn->sn", y_top, basis)
    res = np.linalg.norm(op.hvp(ritz) - lam_top[:, None] * ritz, axis=1) / np.abs(lam_top)
    return [(float(lam_top[i]), float(res[i]), len(Q) + 1) for i in range(S)]


def _tridiagonal(alpha: list[np.ndarray], beta: list[np.ndarray]) -> np.ndarray:
    a = np.stack(alpha, axis=1)
    S, k = a.shape
    T = np.zeros((S, k, k))
    idx = np.arange(k)
    T[:, idx, idx] = a
    if k > 1:
        bb = np.stack(beta, axis=1)
        T[:, idx[:-1], idx[1:]] = bb
        T[:, idx[1:], idx[:-1]] = bb
    return T


def _stack(b: Any, arrays: list[Any]) -> Any:
    if b.name == "torch":
        import torch  # noqa: PLC0415 - only the torch backend needs it

        return torch.stack(arrays)
    return np.stack(arrays)


def _bmv(b: Any, h: Any, W: Any) -> Any:
    """Row vectors times matrices, batched: (S, a) @ (S, a, c) -> (S, c)."""
    return b.matmul(h[:, None, :], W)[:, 0, :]


def _bmv_t(b: Any, d: Any, W: Any) -> Any:
    """Matrices times column vectors, batched: (S, a, c) @ (S, c) -> (S, a)."""
    return b.matmul(W, d[:, :, None])[:, :, 0]
