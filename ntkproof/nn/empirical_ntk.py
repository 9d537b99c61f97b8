"""Empirical NTK Gram matrices ``Θ(X1, X2)_{ik} = <∇_θ f(x1_i), ∇_θ f(x2_k)>``.

The sum runs over the *trained* parameters only (Jacot et al. 2018, eq. (2);
Telgarsky DLT §4.3 for the two-layer kernel). Nothing here forms the n × P
Jacobian: every Gram is a sum over dense layers of

    Θ_l(X1, X2) = (U1 U2ᵀ + β_l²) ∘ (C1 C2ᵀ)

where ``U`` are the layer's (scaled) inputs and ``C = ∂f/∂z_l`` its output
cotangents ("structured derivatives", Novak, Sohl-Dickstein & Schoenholz 2022,
eq. (9)); ``β_l`` is the bias scale (0 without bias).

Two-layer network (:class:`~ntkproof.nn.networks.TwoLayer`), with ``S = σ(X Wᵀ)``
and ``S' = σ'(X Wᵀ)`` (n × m)::

    Θ_W = (X1 X2ᵀ) ∘ (S'_1 diag(a²) S'_2ᵀ) / m        (first layer)
    Θ_a = S_1 S_2ᵀ / m                              (second layer)

computed in blocks of ``block`` neurons, so the extra memory is
``O(n1 n2 + (n1 + n2) block)``; with ``X2 = None`` the products are symmetric
rank-k updates (numpy runs ``A @ A.T`` as BLAS SYRK, half the work; torch
accumulates with ``addmm_`` in place).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument, ShapeError
from ._validate import positive_int, shape_of
from .activations import Activation, get_activation
from .networks import MLP, Linearized, Model, Params, TwoLayer, check_inputs, check_model

__all__ = ["empirical_ntk", "two_layer_ntk", "mlp_ntk", "jacobian_ntk", "default_block"]

#: Budget for the per-block work arrays of the two-layer Gram (bytes).
BLOCK_BYTES = 256 * 2**20
#: Elements per row chunk of the numpy elementwise pass (fits in L2 cache).
_CHUNK_ELEMENTS = 2**16


def empirical_ntk(model: Model, X1: Any, X2: Any | None = None, *, params: Params | None = None,
                  per_layer: bool = False, block: int | None = None) -> Any:
    """The eNTK Gram of ``model`` at ``params`` (default ``model.params0``), shape (n1, n2).

    ``X2 = None`` means ``X2 = X1`` (the symmetric Gram, computed with
    symmetric products). ``per_layer=True`` returns ``{name: Gram}`` with one
    entry per trained parameter array; the Gram is their sum. A
    :class:`~ntkproof.nn.networks.Linearized` model has its base's kernel at
    ``θ0`` whatever ``params``.
    """
    check_model(model)
    if isinstance(model, Linearized):
        return empirical_ntk(model.base, X1, X2, per_layer=per_layer, block=block)
    params = model.params0 if params is None else params
    if isinstance(model, TwoLayer):
        model._check_params(params)
        parts = two_layer_ntk(params["W"], params["a"], X1, X2, activation=model.activation,
                              trained=model.trained, backend=model.backend, block=block,
                              per_layer=True)
    elif isinstance(model, MLP):
        parts = mlp_ntk(model, X1, X2, params=params, per_layer=True)
    else:
        return jacobian_ntk(model, X1, X2, params=params, per_layer=per_layer)
    return parts if per_layer else _total(parts)


def _total(parts: dict[str, Any]) -> Any:
    it = iter(parts.values())
    out = next(it)
    for v in it:
        out = out + v
    return out


def default_block(n_rows: int, m: int) -> int:
    """Neurons per block so that ~4 work arrays of ``n_rows × block`` fit BLOCK_BYTES."""
    block = max(256, BLOCK_BYTES // (4 * 8 * max(n_rows, 1)))
    return int(min(m, block))


def two_layer_ntk(W: Any, a: Any, X1: Any, X2: Any | None = None, *,
                  activation: str | Activation, backend: str | Backend,
                  trained: tuple[str, ...] = ("W", "a"),
                  block: int | None = None, per_layer: bool = False) -> Any:
    """Closed-form eNTK of ``f(x) = m^{-1/2} Σ_j a_j σ(w_jᵀx)`` (Telgarsky DLT §4.3).

    ``W`` (m, d), ``a`` (m,), ``X1`` (n1, d), ``X2`` (n2, d) or None (= X1);
    ``trained`` a subset of ``("W", "a")``. Blocks of ``block`` neurons
    (default :func:`default_block`) keep the memory at O(n1 n2 + n block).
    Returns the (n1, n2) Gram, or ``{"W": Θ_W, "a": Θ_a}`` with ``per_layer``.
    """
    b, activation = get_backend(backend), get_activation(activation)
    w_shape, a_shape = shape_of(W), shape_of(a)
    if len(w_shape) != 2 or a_shape != w_shape[:1]:
        raise ShapeError(f"W must have shape (m, d) and a shape (m,), got W {w_shape} and "
                         f"a {a_shape}")
    if isinstance(trained, str):                  # TwoLayer's options "W", "a", "both"
        trained = ("W", "a") if trained == "both" else (trained,)
    if not trained or not set(trained) <= {"W", "a"}:
        raise InvalidArgument(f"trained must be a non-empty subset of ('W', 'a'), "
                              f"got {trained!r}")
    m = w_shape[0]
    X1 = check_inputs(X1, w_shape[1], b, "X1")
    X2 = None if X2 is None else check_inputs(X2, w_shape[1], b, "X2")
    block = default_block(X1.shape[0] + (0 if X2 is None else X2.shape[0]), m) \
        if block is None else positive_int("block", block, " (neurons per block)")
    absa = _abs_weights(b, a)
    acc: dict[str, Any] = {}
    for start in range(0, m, block):
        rows = slice(start, min(start + block, m))
        _accumulate_block(b, activation, W[rows], None if absa is None else absa[rows],
                          X1, X2, trained, acc)
    out = _finish_two_layer(b, acc, X1, X2, m)
    return out if per_layer else _total(out)


def _abs_weights(b: Backend, a: Any) -> Any | None:
    """``|a|``, or None when every ``|a_j| = 1`` (then ``diag(a²) = I`` is skipped)."""
    abs_a = b.abs(a)
    return None if bool(np.all(b.to_numpy(abs_a) == 1.0)) else abs_a


def _accumulate_block(b: Backend, act: Any, Wb: Any, absa: Any, X1: Any, X2: Any | None,
                      trained: tuple[str, ...], acc: dict[str, Any]) -> None:
    H1, S1 = _features(b, act, X1, Wb, absa)
    H2, S2 = (H1, S1) if X2 is None else _features(b, act, X2, Wb, absa)
    if "W" in trained:
        acc["W"] = _add_gram(b, acc.get("W"), S1, None if X2 is None else S2)
    if "a" in trained:
        acc["a"] = _add_gram(b, acc.get("a"), H1, None if X2 is None else H2)


def _features(b: Backend, act: Any, X: Any, Wb: Any, absa: Any | None) -> tuple[Any, Any]:
    """``σ(X Wbᵀ)`` and ``σ'(X Wbᵀ) diag(|a|)`` (``absa = None``: ``|a| = 1``).

    numpy makes one pass over ``Z = X Wbᵀ`` in cache-sized row chunks, writing
    into preallocated arrays; for ReLU, ``σ(Z)`` overwrites ``Z`` in place after
    ``σ'`` is read from it, so the block needs two ``n × block`` arrays, not four.
    """
    Z = b.matmul(X, b.transpose(Wb))
    if b.name != "numpy":
        S = act.df(b, Z)
        return act.f(b, Z), (S if absa is None else S * absa[None, :])
    S = np.empty_like(Z)
    H = Z if act.name == "relu" else np.empty_like(Z)
    step = max(1, _CHUNK_ELEMENTS // max(Z.shape[1], 1))
    for i in range(0, Z.shape[0], step):
        rows = slice(i, i + step)
        if act.name == "relu":
            np.greater(Z[rows], 0.0, out=S[rows])
            np.maximum(Z[rows], 0.0, out=H[rows])
        else:
            S[rows] = act.df(b, Z[rows])
            H[rows] = act.f(b, Z[rows])
        if absa is not None:
            S[rows] *= absa
    return H, S


def _add_gram(b: Backend, acc: Any, A: Any, B: Any | None) -> Any:
    """``acc + A Bᵀ`` (``B = None``: ``A Aᵀ``, symmetric); in place where the backend allows."""
    if b.name == "torch":
        Bt = (A if B is None else B).T
        return A @ Bt if acc is None else acc.addmm_(A, Bt)
    if b.name == "numpy":
        prod = A @ (A.T if B is None else B.T)  # A @ A.T is dispatched to SYRK
        if acc is None:
            return prod
        acc += prod
        return acc
    prod = b.matmul(A, b.transpose(A if B is None else B))
    return prod if acc is None else acc + prod


def _finish_two_layer(b: Backend, acc: dict[str, Any], X1: Any, X2: Any | None,
                      m: int) -> dict[str, Any]:
    inv_m = 1 / b.scalar(m)
    out = {}
    if "W" in acc:
        XX = b.matmul(X1, b.transpose(X1 if X2 is None else X2))
        K = acc.pop("W")
        if b.name == "mpmath":
            out["W"] = K * XX * inv_m
        else:
            K *= XX
            K *= inv_m
            out["W"] = K
        del XX
    if "a" in acc:
        K = acc.pop("a")
        out["a"] = K * inv_m if b.name == "mpmath" else _scale_in_place(K, inv_m)
    return out


def _scale_in_place(K: Any, c: Any) -> Any:
    K *= c
    return K


def _gram(b: Backend, A: Any, B: Any | None) -> Any:
    return _add_gram(b, None, A, B)


def mlp_ntk(model: MLP, X1: Any, X2: Any | None = None, *, params: Params | None = None,
            per_layer: bool = False) -> Any:
    """Structured eNTK of an :class:`~ntkproof.nn.networks.MLP` (Novak et al. 2022, eq. 9).

    For each Dense layer ``l`` with scaled inputs ``U = s_l h_{l-1}`` and
    cotangents ``C = δ_l`` (:meth:`MLP.layer_factors`)::

        Θ_{W_l} = (U1 U2ᵀ) ∘ (C1 C2ᵀ),      Θ_{b_l} = b_std² (C1 C2ᵀ)

    Cost ``O(n² Σ_l (fan_in + fan_out) + n Σ_l fan_in fan_out)``; never the
    n × P Jacobian. Returns the (n1, n2) Gram or ``{name: Gram}``.
    """
    if not isinstance(model, MLP):
        raise InvalidArgument(f"mlp_ntk needs an MLP, got {type(model).__name__}; "
                              "use empirical_ntk for other models")
    b = model.backend
    params = model.params0 if params is None else params
    F1 = model.layer_factors(params, X1, "X1")
    F2 = F1 if X2 is None else model.layer_factors(params, X2, "X2")
    out = {}
    for (layer, U1, C1), (_, U2, C2) in zip(F1, F2, strict=True):
        CC = _gram(b, C1, None if X2 is None else C2)
        if f"W{layer}" in model.trained:
            out[f"W{layer}"] = _gram(b, U1, None if X2 is None else U2) * CC
        if f"b{layer}" in model.trained:
            out[f"b{layer}"] = CC * b.scalar(model.b_std) ** 2
    return out if per_layer else _total(out)


def jacobian_ntk(model: Model, X1: Any, X2: Any | None = None, *,
                 params: Params | None = None, per_layer: bool = False) -> Any:
    """Reference eNTK by explicit Jacobian contraction ``J1 J2ᵀ`` (O(n P) memory).

    Uses ``model.grads`` (per-example gradients); for tests and tiny sizes,
    e.g. on the mpmath backend, where it checks the structured forms.
    """
    check_model(model)
    b = model.backend
    params = model.params0 if params is None else params
    X1 = check_inputs(X1, model.d, b, "X1")
    X2 = None if X2 is None else check_inputs(X2, model.d, b, "X2")
    G1 = model.grads(params, X1)
    G2 = G1 if X2 is None else model.grads(params, X2)
    out = {}
    for name in G1:
        J1 = G1[name].reshape(G1[name].shape[0], -1)
        J2 = G2[name].reshape(G2[name].shape[0], -1)
        out[name] = b.matmul(J1, b.transpose(J2))
    return out if per_layer else _total(out)
