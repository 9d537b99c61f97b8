"""Stacked arithmetic for :mod:`ntkproof.nn.batched`: S networks of one architecture as
arrays with a leading seed axis (numpy's loop of BLAS calls, torch's ``bmm``), their
forward pass, backprop, eNTK factors and the linear model's products.

Private: :mod:`ntkproof.nn.batched` is the interface (``train_seeds``).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..backends import Backend
from ._validate import shape_of
from .activations import ACTIVATIONS, Activation
from .networks import MLP, Model, Params, TwoLayer

#: On a CPU the seeds run in chunks whose parameters and two (n, width) activations per
#: layer take at most this many bytes, so that one step's passes over them stay in cache:
#: with the parameters of all 12 seeds in one stack (100 MB for the depth-3 MLP of width
#: 1024) a step ran slower than the per-seed loop (6.0 s against 5.0 s for 10 steps),
#: one seed per chunk 2.4x faster; 2 MiB was best or within 15% of the best from width
#: 128 to 1024 (two-layer up to 4096). A GPU takes all seeds at once.
_CHUNK_BYTES = 2 * 2**20


# -- array helpers -----------------------------------------------------------------------
def _xp(b: Backend) -> ModuleType:
    """The array module behind a numpy or torch backend."""
    if b.name == "torch":
        import torch  # noqa: PLC0415 - optional dependency (a torch backend is in use)

        return torch
    return np


def _T(A: Any) -> Any:
    """Swap the last two axes (numpy and torch alike)."""
    return A.swapaxes(-1, -2)


def _col(v: Any, ndim: int) -> Any:
    """A per-seed vector (S,) shaped to broadcast against an array of ``ndim`` axes."""
    return v.reshape((v.shape[0],) + (1,) * (ndim - 1))


def _mm(xp: ModuleType, A: Any, B: Any, out: Any = None) -> Any:
    """Stacked matrix product ``A @ B`` (a 2-D operand broadcasts), into ``out`` if given
    (a hint: a one-column product on torch returns a new array).

    torch (MKL on a CPU) is slow on small stacked products with a one-column result
    (``(S, m, n) @ (S, n, 1)``: 460 µs at m = 1024 against 25 µs for the transposed
    ``(S, 1, n) @ (S, n, m)``), so those run transposed, and 3-D pairs call ``bmm``
    (``matmul`` spends ~2 µs a call reshaping)."""
    if xp is np or A.dim() != 3 or B.dim() != 3:
        return xp.matmul(A, B, out=out)
    if B.shape[-1] == 1:
        return xp.bmm(_T(B), _T(A)).swapaxes(-1, -2)
    return xp.bmm(A, B, out=out)


def _mtm(xp: ModuleType, A: Any, B: Any) -> Any:
    """``Aᵀ @ B`` for ``A`` (S, n, p), ``B`` (S or broadcast, n, q) with q small; on
    torch as ``(Bᵀ A)ᵀ``, which MKL runs 2-3x faster for these shapes."""
    if xp is np or B.dim() != 3:
        return _mm(xp, _T(A), B)
    return xp.bmm(_T(B), A).swapaxes(-1, -2)


def _mv(A: Any, v: Any) -> Any:
    """Stacked matrix-vector product: (S, p, q) @ (S, q) -> (S, p) (torch: as
    ``(vᵀ Aᵀ)ᵀ``, see :func:`_mm`)."""
    if isinstance(A, np.ndarray) or A.dim() != 3:
        return (A @ v[..., None])[..., 0]
    return v.unsqueeze(1).bmm(_T(A)).squeeze(1)


class _Work:
    """Arrays reused from one training step to the next as ``out=`` of the loop's
    largest temporaries, the (S, n, width) activations; numpy only (None elsewhere:
    numpy and torch then allocate).

    Why: glibc hands blocks over its mmap threshold (128 KiB to a few MiB) back to the
    kernel when freed, so every fresh (12, 16, 1024) float64 array (1.5 MiB) is
    page-faulted in again; on the 2-core development box two live ones cost 4 ms
    against 0.03 ms of arithmetic. torch's CPU and CUDA allocators cache blocks.
    Only the network's own steps use it: what the run keeps (θ0 factors, outputs,
    Grams, parameters) is never a work array.
    """

    def __init__(self, on: bool) -> None:
        self.on, self.arrays = on, dict[str, np.ndarray]()

    def __call__(self, key: str, shape: tuple[int, ...]) -> np.ndarray | None:
        if not self.on:
            return None
        out = self.arrays.get(key)
        if out is None or out.shape != shape:
            out = self.arrays[key] = np.empty(shape)
        return out


_NO_WORK = _Work(False)


def _tanh(b: Backend, Z: Any) -> Any:
    """``tanh(Z)`` for a fresh ``Z`` (overwritten). On torch CPU tensors through numpy's
    ufunc on the same memory: torch 2.13's CPU tanh kernel takes 90 µs for 6144 float64
    entries where numpy's SIMD tanh takes 5 µs (measured on the development box), and
    it is the one activation the theorem files train with that shows it. Both are
    accurate to about an ulp, so the results agree with ``b.tanh`` to ~1e-16 relative;
    on CUDA ``b.tanh`` runs."""
    if b.name == "torch" and Z.device.type == "cpu":
        np.tanh(Z.numpy(), out=Z.numpy())
        return Z
    return b.tanh(Z)


def _f(b: Backend, act: Activation, Z: Any) -> Any:
    """``σ(Z)`` for a fresh ``Z`` (tanh through :func:`_tanh`)."""
    return _tanh(b, Z) if act is ACTIVATIONS["tanh"] else act.f(b, Z)


def _f_and_df(b: Backend, act: Activation, Z: Any, work: _Work = _NO_WORK,
              key: str = "") -> tuple[Any, Any]:
    """``(σ(Z), σ'(Z))`` with the catalogue's formulas. tanh and sigmoid derivatives
    are written in σ itself (``1 - tanh²``, ``s(1 - s)``), so they are formed from σ(Z),
    not recomputed; with a numpy ``work``, σ overwrites ``Z`` (a work array) and σ'
    goes to ``work(key)``, same values."""
    D = work(key, Z.shape)
    if D is None or act not in (ACTIVATIONS["tanh"], ACTIVATIONS["relu"]):
        H = _f(b, act, Z)
        if act is ACTIVATIONS["tanh"]:
            return H, 1 - H ** 2
        if act is ACTIVATIONS["sigmoid"]:
            return H, H * (1 - H)
        return H, act.df(b, Z)
    if act is ACTIVATIONS["relu"]:          # step(Z) = 1[Z > 0], relu(Z) = max(Z, 0)
        np.greater(Z, 0.0, out=D)
        return np.maximum(Z, 0.0, out=Z), D
    H = np.tanh(Z, out=Z)
    np.multiply(H, H, out=D)
    return H, np.subtract(1.0, D, out=D)


# -- the architectures, stacked ----------------------------------------------------------
class _Stack:
    """S models' ``params0`` stacked on a leading seed axis, and their maths on it.

    ``forward(P, X, df, work)`` returns ``(f (S, n), cache)``; ``factors(P, cache,
    work)`` what the gradient and the Gram need; ``vjp``/``jvp``/``ntk`` work from those
    factors with the formulas of :mod:`~ntkproof.nn.networks` and
    :mod:`~ntkproof.nn.empirical_ntk`.
    """

    def __init__(self, models: list[Model]) -> None:
        self.b, self.trained = models[0].backend, models[0].trained
        self.xp = _xp(self.b)
        self.P0 = {k: self.xp.stack([m.params0[k] for m in models]) for k in models[0].params0}

    def step(self, P: Params, factors: Any, cot: Any, neg_lr: Any, work: _Work,
             spare: Params) -> Params:
        """``θ - lr ∇L`` with ``∇L = Jᵀ cot``: the vector-Jacobian product of ``-lr cot``
        (``neg_lr`` (S, 1)), added to θ in place of the product's own fresh arrays (or
        the ``spare`` ones, which the caller no longer needs); the θ arrays stay as they
        are (checkpoints keep them). Same numbers as ``θ - lr (Jᵀ cot)`` up to rounding."""
        g = self.vjp(P, factors, cot * neg_lr, work, spare)
        for k, v in g.items():
            v += P[k]
        return {k: g.get(k, v) for k, v in P.items()}

    def forward(self, P: Params, X: Any, df: bool,
                work: _Work = _NO_WORK) -> tuple[Any, Any]:
        raise NotImplementedError

    def factors(self, P: Params, cache: Any, work: _Work = _NO_WORK) -> Any:
        return cache

    def vjp(self, P: Params, factors: Any, cot: Any, work: _Work = _NO_WORK,
            spare: Params | None = None) -> Params:
        """``Jᵀ cot`` per trained name; ``spare`` may hold arrays to write it into."""
        raise NotImplementedError

    def jvp(self, P: Params, factors: Any, tangent: Params) -> Any:
        raise NotImplementedError

    def ntk(self, P: Params, factors: Any) -> Any:
        raise NotImplementedError


class _TwoLayerStack(_Stack):
    """:class:`TwoLayer`: ``f = m^{-1/2} Σ_j a_j σ(w_jᵀx)``; factors ``(X, σ(Z), σ'(Z))``."""

    def __init__(self, models: list[Model]) -> None:
        super().__init__(models)
        net = models[0]
        assert isinstance(net, TwoLayer)
        self.act, self.m = net.activation, net.m
        self.s = 1 / self.b.sqrt(self.b.scalar(net.m))
        self.inv_m = 1 / self.b.scalar(net.m)
        half = net.m // 2
        # symmetric init: the two halves are summed apart, so f(θ0) = 0 exactly (as there)
        self.halves = [slice(0, half), slice(half, net.m)] if net.symmetric else []

    def _features(self, X: Any, W: Any, df: bool, work: _Work, key: str) -> tuple[Any, Any]:
        """``(σ(X Wᵀ), σ'(X Wᵀ) or None)``, (S, n, rows of W)."""
        Z = _mm(self.xp, X, _T(W), work(f"Z{key}", (W.shape[0], X.shape[-2], W.shape[1])))
        return _f_and_df(self.b, self.act, Z, work, f"D{key}") if df \
            else (_f(self.b, self.act, Z), None)

    def forward(self, P: Params, X: Any, df: bool,
                work: _Work = _NO_WORK) -> tuple[Any, Any]:
        W, a = P["W"], P["a"]
        if not self.halves:
            H, D = self._features(X, W, df, work, "")
            return _mv(H, a) * self.s, (X, H, D)
        # symmetric: each half on its own, as TwoLayer.apply does, so f(θ0) = 0 exactly
        (H0, D0), (H1, D1) = (self._features(X, W[:, r], df, work, str(i))
                              for i, r in enumerate(self.halves))
        f = (_mv(H0, a[:, self.halves[0]]) + _mv(H1, a[:, self.halves[1]])) * self.s
        H = self.xp.concatenate((H0, H1), -1, out=work("H", H0.shape[:-1] + (self.m,)))
        D = None if D0 is None else \
            self.xp.concatenate((D0, D1), -1, out=work("D", H0.shape[:-1] + (self.m,)))
        return f, (X, H, D)

    def vjp(self, P: Params, factors: Any, cot: Any, work: _Work = _NO_WORK,
            spare: Params | None = None) -> Params:
        X, H, D = factors
        out: Params = {}
        if "W" in self.trained:
            # Gᵀ X with G = σ'(Z) ∘ (cot aᵀ), as diag(a) σ'(Z)ᵀ (cot ∘ X): no (S, n, m) pass
            out["W"] = (P["a"][..., None] * _mtm(self.xp, D, cot[..., None] * X)) * self.s
        if "a" in self.trained:
            out["a"] = _mv(_T(H), cot) * self.s
        return out

    def jvp(self, P: Params, factors: Any, tangent: Params) -> Any:
        X, H, D = factors
        out = 0 * H[..., 0]
        if "W" in self.trained:
            out = out + _mv(D * (X @ _T(tangent["W"])), P["a"])
        if "a" in self.trained:
            out = out + _mv(H, tangent["a"])
        return out * self.s

    def ntk(self, P: Params, factors: Any) -> Any:
        """``Θ_W = (X Xᵀ) ∘ (S' diag(a²) S'ᵀ)/m`` and ``Θ_a = σ(Z) σ(Z)ᵀ/m`` (DLT §4.3)."""
        X, H, D = factors
        K = None
        if "W" in self.trained:
            Da = D * self.b.abs(P["a"])[:, None, :]
            K = ((Da @ _T(Da)) * (X @ _T(X))) * self.inv_m
        if "a" in self.trained:
            Ka = (H @ _T(H)) * self.inv_m
            K = Ka if K is None else K + Ka
        return K


class _MLPStack(_Stack):
    """:class:`MLP` in NTK parameterisation; factors ``[(l, s_l h_{l-1}, δ_l)]``."""

    def __init__(self, models: list[Model]) -> None:
        super().__init__(models)
        net = models[0]
        assert isinstance(net, MLP)
        self.act, self.depth, b = net.activation, net.depth, self.b
        self.dims = (net.d, *net.widths, 1)
        self.scale = {l: b.scalar(net.W_std[l - 1]) / b.sqrt(b.scalar(self.dims[l - 1]))
                      for l in range(1, net.depth + 2)}
        self.b_std, self.has_bias = b.scalar(net.b_std), net.b_std != 0
        # backprop stops at the lowest layer that is trained
        self.lowest = min(int(k[1:]) for k in self.trained)

    def _dense(self, P: Params, layer: int, h: Any, work: _Work) -> Any:
        W = P[f"W{layer}"]
        z = _mm(self.xp, h, W, work(f"z{layer}", (W.shape[0], h.shape[-2], W.shape[2])))
        z *= self.scale[layer]
        if self.has_bias:       # + β b_l; with β = 0 the term is an exact zero, skipped
            z += self.b_std * P[f"b{layer}"][:, None, :]
        return z

    def forward(self, P: Params, X: Any, df: bool,
                work: _Work = _NO_WORK) -> tuple[Any, Any]:
        hs, dfs = [X], []
        for layer in range(1, self.depth + 1):
            z = self._dense(P, layer, hs[-1], work)
            h, d = _f_and_df(self.b, self.act, z, work, f"D{layer}") if df \
                else (_f(self.b, self.act, z), None)
            hs.append(h)
            dfs.append(d)
        # f (S, n) outlives the step (the losses read it later): not a work array
        return self._dense(P, self.depth + 1, hs[-1], _NO_WORK)[..., 0], (hs, dfs)

    def factors(self, P: Params, cache: Any,
                work: _Work = _NO_WORK) -> list[tuple[int, Any, Any]]:
        """``δ_{L+1} = 1``, ``δ_l = (s_{l+1} δ_{l+1} W_{l+1}ᵀ) ∘ σ'(z_l)`` (explicit backprop,
        as :meth:`MLP.layer_factors`), down to the lowest trained layer."""
        hs, dfs = cache
        delta = self.xp.ones_like(hs[-1][..., :1])
        out = []
        for layer in range(self.depth + 1, self.lowest - 1, -1):
            s, h = self.scale[layer], hs[layer - 1]
            out.append((layer, self.xp.multiply(h, s, out=work(f"U{layer}", h.shape)), delta))
            if layer > self.lowest:
                W = P[f"W{layer}"]
                back = _mm(self.xp, delta, _T(W), work(
                    f"B{layer}", (W.shape[0], delta.shape[-2], W.shape[1])))
                back *= s
                back *= dfs[layer - 2]
                delta = back
        return out[::-1]

    def vjp(self, P: Params, factors: Any, cot: Any, work: _Work = _NO_WORK,
            spare: Params | None = None) -> Params:
        out: Params = {}
        spare = {} if spare is None else spare
        for layer, U, C in factors:
            Cc = self.xp.multiply(C, cot[..., None], out=work(f"C{layer}", C.shape))
            if f"W{layer}" in self.trained:
                out[f"W{layer}"] = _mm(self.xp, _T(U), Cc, spare.pop(f"W{layer}", None))
            if f"b{layer}" in self.trained:
                out[f"b{layer}"] = Cc.sum(-2) * self.b_std
        return out

    def jvp(self, P: Params, factors: Any, tangent: Params) -> Any:
        out = None
        for layer, U, C in factors:
            for name in (f"W{layer}", f"b{layer}"):
                if name not in self.trained:
                    continue
                part = ((U @ tangent[name]) * C).sum(-1) if name[0] == "W" \
                    else _mv(C, tangent[name]) * self.b_std
                out = part if out is None else out + part
        return out

    def ntk(self, P: Params, factors: Any) -> Any:
        """``Σ_l (U Uᵀ) ∘ (C Cᵀ) + β² C Cᵀ`` over the trained layers (Novak et al. 2022)."""
        K = None
        for layer, U, C in factors:
            CC = C @ _T(C)
            parts = []
            if f"W{layer}" in self.trained:
                parts.append((U @ _T(U)) * CC)
            if f"b{layer}" in self.trained:
                parts.append(CC * self.b_std ** 2)
            for part in parts:
                K = part if K is None else K + part
        return K


def _chunks(models: list[Model], n: int) -> list[tuple[int, int]]:
    """Seed ranges ``[lo, hi)`` of near-equal sizes within ``_CHUNK_BYTES`` each (one
    range on a GPU)."""
    b, net, S = models[0].backend, models[0], len(models)
    device = getattr(b, "device", None)
    if device is not None and device.type != "cpu":
        return [(0, S)]
    widths = (net.m,) if isinstance(net, TwoLayer) else tuple(getattr(net, "widths", ()))
    scalars = sum(int(np.prod(shape_of(v))) for v in net.params0.values()) + 2 * n * sum(widths)
    per_chunk = max(1, _CHUNK_BYTES // ((4 if b.dtype == "float32" else 8) * scalars))
    k = -(-S // per_chunk)
    bounds = [round(i * S / k) for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _batchable(model: Model) -> bool:
    """Whether models like ``model`` run stacked (else the per-seed loop)."""
    return model.backend.name in ("numpy", "torch") and isinstance(model, (TwoLayer, MLP))


def _stack(models: list[Model]) -> _Stack:
    """The stacked form of :func:`_batchable` models."""
    return _TwoLayerStack(models) if isinstance(models[0], TwoLayer) else _MLPStack(models)
