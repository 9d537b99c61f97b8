"""Finite networks in NTK parameterisation, with closed-form gradients.

Two families, both written once against the :class:`~ntkproof.backends.Backend`
interface (numpy float64, torch float64/float32, mpmath object arrays):

* :class:`TwoLayer` -- Telgarsky's two-layer network (DLT notes §4, eq. (2)),
  ``f(x; W, a) = m^{-1/2} Σ_j a_j σ(w_jᵀx)``;
* :class:`MLP` -- a deep fully connected network in neural-tangents' ``stax``
  conventions (``Dense(..., parameterization="ntk")``), with biases.

and :class:`Linearized`, the first-order Taylor model of either at its
initialisation (Jacot et al. 2018; Lee et al. 2019), with the same interface.

Parameters are a plain ``dict`` mapping a name to a backend array:
``{"W": (m, d), "a": (m,)}`` for :class:`TwoLayer`;
``{"W1": (d, n1), "b1": (n1,), ..., "W{L+1}": (n_L, 1), "b{L+1}": (1,)}`` for
:class:`MLP`. ``model.params0`` is the initialisation and ``model.trained`` the
tuple of names that training moves; the others stay at their initial value.

Every model offers the same methods, all on a batch ``X`` of shape ``(n, d)``:

* ``apply(params, X) -> (n,)``: the outputs ``f(x_i)``;
* ``jvp(params, X, tangent) -> (n,)``: ``<∇f(x_i), tangent>`` over trained names;
* ``vjp(params, X, cot) -> dict``: ``Σ_i cot_i ∇f(x_i)`` (the loss gradient
  when ``cot = (f - y)/n``), one array per trained name;
* ``grads(params, X) -> dict``: per-example gradients, shape ``(n, *shape)``
  (``O(n P)`` memory: for tests and tiny sizes; the Gram matrices in
  :mod:`ntkproof.nn.empirical_ntk` never build them);
* ``linearize() -> Linearized``.

Random draws are made in numpy from the keyword-only ``seed`` through
:mod:`ntkproof.rng` and moved onto the backend, so all backends see the same
numbers; the seed is part of the repr.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument, ShapeError
from ..rng import generator
from ._validate import check_finite, check_params, non_negative_int, positive_int, real_number
from ._validate import shape_of as _shape_of
from .activations import Activation, get_activation

__all__ = ["Model", "TwoLayer", "MLP", "Linearized", "Scaled", "Params", "check_inputs",
           "check_model"]

Params = dict[str, Any]
_TWO_LAYER_TRAINED = {"W": ("W",), "a": ("a",), "both": ("W", "a")}


def check_inputs(X: Any, d: int, backend: Backend, name: str = "X") -> Any:
    """``X`` as a backend array of shape ``(n, d)`` with finite entries; ShapeError or
    NonFiniteError (naming the first bad row) otherwise."""
    shape = _shape_of(X)
    if len(shape) != 2 or shape[1] != d:
        raise ShapeError(
            f"{name} must have shape (n, {d}) (one input of dimension d={d} per row), "
            f"got shape {shape}; reshape it, e.g. {name}.reshape(-1, {d})")
    Xb = backend.asarray(X)
    check_finite(name, Xb, "drop or impute those rows")
    return Xb


def check_model(model: Any, name: str = "model") -> None:
    """InvalidArgument unless ``model`` is a :class:`Model` (a common slip: arguments swapped)."""
    if not isinstance(model, Model):
        raise InvalidArgument(
            f"{name} must be a network of ntkproof.nn.networks (TwoLayer, MLP, Linearized, "
            f"Scaled), got {type(model).__name__}; pass the model first, then the inputs")


def _inv_sqrt(b: Backend, k: int | float) -> Any:
    return 1 / b.sqrt(b.scalar(k))


class Model:
    """Shared interface of the networks; see the module docstring."""

    backend: Backend
    params0: Params
    trained: tuple[str, ...]
    d: int
    seed: int | None

    def apply(self, params: Params, X: Any) -> Any:
        raise NotImplementedError

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        raise NotImplementedError

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        raise NotImplementedError

    def grads(self, params: Params, X: Any) -> Params:
        raise NotImplementedError

    def __call__(self, X: Any, params: Params | None = None) -> Any:
        return self.apply(self.params0 if params is None else params, X)

    def linearize(self) -> Linearized:
        """The first-order Taylor model at ``params0`` (see :class:`Linearized`)."""
        return Linearized(self)

    def _check_params(self, params: Params, name: str = "params",
                      keys: Sequence[str] | None = None) -> None:
        """``params`` has every name of ``keys`` (default: all of ``params0``), each shaped
        like ``params0``'s; InvalidArgument (missing names) or ShapeError otherwise."""
        p0 = self.params0
        try:                                  # fast path: every array has params0's shape
            if all(params[k].shape == p0[k].shape for k in (p0 if keys is None else keys)):
                return
        except (KeyError, AttributeError, TypeError):
            pass
        check_params(params, {k: _shape_of(v) for k, v in p0.items()}, name=name, keys=keys)

    def num_params(self) -> int:
        """Number of trained scalars P."""
        return int(sum(np.prod(self.params0[k].shape) for k in self.trained))

    def _check_trained(self, trained: Sequence[str]) -> tuple[str, ...]:
        bad = [t for t in trained if t not in self.params0]
        if bad or not trained:
            raise InvalidArgument(
                f"trained={tuple(trained)!r} must be a non-empty subset of the parameter "
                f"names {tuple(self.params0)}; got unknown names {bad}")
        return tuple(trained)


class TwoLayer(Model):
    """Two-layer network ``f(x) = m^{-1/2} Σ_j a_j σ(w_jᵀ x)`` (Telgarsky DLT §4, eq. 2).

    NTK parameterisation: ``W0`` (m×d) has iid N(0, 1) entries and there is no
    ``1/√d`` (inputs satisfy ``||x|| <= 1``); ``a`` is iid uniform ±1
    (``a_init="sign"``, Telgarsky Remark 4.1) or N(0, 1) (``"normal"``); no bias.

    Parameters
    ----------
    d, m : input dimension and width.
    activation : catalogue name or :class:`~ntkproof.nn.activations.Activation`.
    trained : ``"W"`` (Telgarsky: first layer only), ``"a"`` (random features)
        or ``"both"`` (Jacot et al.).
    symmetric : doubled initialisation: neurons ``j`` and ``j + m/2`` share
        ``w`` and have opposite ``a``, so ``f(x; W0) = 0`` exactly (``m`` even).
        The forward pass sums the two halves separately, so the cancellation
        is exact in floating point too.
    seed : keyword-only; the draw is ``W`` then ``a`` from ``rng.generator(seed)``.

    Gradients (per input ``x``; ``z_j = w_jᵀx``):
    ``∂f/∂w_j = m^{-1/2} a_j σ'(z_j) x``, ``∂f/∂a_j = m^{-1/2} σ(z_j)``.

    >>> net = TwoLayer(3, 8, "relu", seed=0)
    >>> net.apply(net.params0, np.eye(3)).shape
    (3,)
    """

    def __init__(self, d: int, m: int, activation: str | Activation = "relu", *,
                 trained: str = "W", a_init: str = "sign", symmetric: bool = False,
                 seed: int, backend: str | Backend | None = None) -> None:
        self.backend = get_backend(backend)
        self.activation = get_activation(activation)
        self.d, self.m = positive_int("d", d), positive_int("m", m, " (the width)")
        self.seed = non_negative_int("seed", seed)
        self.a_init, self.symmetric = a_init, bool(symmetric)
        if trained not in _TWO_LAYER_TRAINED:
            raise InvalidArgument(
                f"trained must be one of {sorted(_TWO_LAYER_TRAINED)}, got {trained!r}")
        self.trained_option = trained
        W, a = _draw_two_layer(self.d, self.m, a_init, self.symmetric, self.seed)
        self.params0 = {"W": self.backend.asarray(W), "a": self.backend.asarray(a)}
        self.trained = _TWO_LAYER_TRAINED[trained]

    def __repr__(self) -> str:
        return (f"TwoLayer(d={self.d}, m={self.m}, activation={self.activation.name!r}, "
                f"trained={self.trained_option!r}, a_init={self.a_init!r}, "
                f"symmetric={self.symmetric}, seed={self.seed}, backend={self.backend.spec!r})")

    def _halves(self) -> list[slice]:
        if self.symmetric:
            k = self.m // 2
            return [slice(0, k), slice(k, self.m)]
        return [slice(0, self.m)]

    def features(self, params: Params, X: Any, rows: slice = slice(None)) -> tuple[Any, Any]:
        """``(σ(Z), σ'(Z))`` with ``Z = X W[rows]ᵀ`` of shape (n, |rows|)."""
        b = self.backend
        Z = b.matmul(X, b.transpose(params["W"][rows]))
        return self.activation.f(b, Z), self.activation.df(b, Z)

    def apply(self, params: Params, X: Any) -> Any:
        b = self.backend
        X = check_inputs(X, self.d, b)
        self._check_params(params)
        out = None
        for rows in self._halves():
            Z = b.matmul(X, b.transpose(params["W"][rows]))
            part = b.matmul(self.activation.f(b, Z), params["a"][rows])
            out = part if out is None else out + part
        return out * _inv_sqrt(b, self.m)

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        b = self.backend
        X = check_inputs(X, self.d, b)
        self._check_params(params)
        self._check_params(tangent, "tangent", self.trained)
        H, S = self.features(params, X)
        out = 0 * H[:, 0]
        if "W" in self.trained:
            dZ = b.matmul(X, b.transpose(tangent["W"]))
            out = out + b.matmul(S * dZ, params["a"])
        if "a" in self.trained:
            out = out + b.matmul(H, tangent["a"])
        return out * _inv_sqrt(b, self.m)

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        b = self.backend
        X = check_inputs(X, self.d, b)
        self._check_params(params)
        _check_cot(cot, X.shape[0])
        H, S = self.features(params, X)
        c, s = b.asarray(cot), _inv_sqrt(b, self.m)
        out: Params = {}
        if "W" in self.trained:
            G = S * c[:, None] * params["a"][None, :]
            out["W"] = b.matmul(b.transpose(G), X) * s
        if "a" in self.trained:
            out["a"] = b.matmul(b.transpose(H), c) * s
        return out

    def grads(self, params: Params, X: Any) -> Params:
        b = self.backend
        X = check_inputs(X, self.d, b)
        self._check_params(params)
        H, S = self.features(params, X)
        s = _inv_sqrt(b, self.m)
        out: Params = {}
        if "W" in self.trained:
            out["W"] = (S * params["a"][None, :] * s)[:, :, None] * X[:, None, :]
        if "a" in self.trained:
            out["a"] = H * s
        return out


def _check_cot(cot: Any, n: int) -> None:
    shape = _shape_of(cot)
    if shape != (n,):
        raise ShapeError(f"cot must have shape ({n},) (one cotangent per row of X), "
                         f"got shape {shape}")


def _draw_two_layer(d: int, m: int, a_init: str, symmetric: bool,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    if a_init not in ("sign", "normal"):
        raise InvalidArgument(f"a_init must be 'sign' or 'normal', got {a_init!r}")
    if symmetric and m % 2:
        raise InvalidArgument(
            f"symmetric=True pairs neurons, so m must be even; got m={m}; use m={m + 1}")
    rng = generator(seed)
    k = m // 2 if symmetric else m
    W = rng.standard_normal((k, d))
    a = rng.choice([-1.0, 1.0], size=k) if a_init == "sign" else rng.standard_normal(k)
    if symmetric:
        W, a = np.concatenate([W, W]), np.concatenate([a, -a])
    return W, a


class MLP(Model):
    """Fully connected network in NTK parameterisation, neural-tangents ``stax`` style.

    ``depth`` = L hidden layers of ``width`` units, then a Dense layer to 1 output::

        h_0 = x,   z_l = (W_std_l / sqrt(fan_in_l)) h_{l-1} W_l + b_std b_l,   h_l = σ(z_l)
        f(x) = z_{L+1}                      (no activation after the last Dense)

    with ``W_l`` of shape (fan_in_l, fan_out_l) and ``W_l, b_l`` iid N(0, 1): exactly
    ``stax.serial(Dense(width, W_std, b_std), act, ..., Dense(1, W_std, b_std))``
    with ``parameterization="ntk"`` (Jacot et al. 2018, eq. (1), β = b_std).
    ``W_std`` is one number or one per Dense layer (L + 1 values).

    Mapping to other conventions:

    * Telgarsky (DLT §4): ``MLP(1, m, σ, W_std=(sqrt(d), 1), b_std=0)`` is
      :class:`TwoLayer` with ``a ~ N(0, 1)`` and ``trained="both"``
      (``W = W_1ᵀ``, ``a = W_2[:, 0]``). With ``W_std=1`` the first layer
      divides by ``sqrt(d)``: the same network applied to ``x / sqrt(d)``.
    * Arora et al. 2019 (``g_h = sqrt(c_σ / d_h) σ(f_h)``, first layer without
      normalisation, all layers trained, no bias): ``W_std = (sqrt(d), sqrt(c_σ),
      ..., sqrt(c_σ))``, ``b_std = 0``; c_σ = 2 for ReLU, i.e. ``W_std = √2`` on
      every layer that follows an activation.

    Gradients by explicit backprop: with ``δ_l = ∂f/∂z_l`` (``δ_{L+1} = 1``,
    ``δ_l = (s_{l+1} δ_{l+1} W_{l+1}ᵀ) ∘ σ'(z_l)``, ``s_l = W_std_l/sqrt(fan_in_l)``),
    ``∂f/∂W_l = s_l h_{l-1} ⊗ δ_l`` and ``∂f/∂b_l = b_std δ_l``.

    >>> net = MLP(2, 16, "tanh", W_std=1.5, b_std=0.1, d=3, seed=1)
    >>> sorted(net.params0)
    ['W1', 'W2', 'W3', 'b1', 'b2', 'b3']
    """

    def __init__(self, depth: int, width: int | Sequence[int], activation: str | Activation,
                 W_std: float | Sequence[float] = 1.0, b_std: float = 0.0, *, d: int,
                 seed: int, trained: str | Sequence[str] = "all",
                 backend: str | Backend | None = None) -> None:
        self.backend = get_backend(backend)
        self.activation = get_activation(activation)
        self.depth, self.d = positive_int("depth", depth, " (hidden layers)"), \
            positive_int("d", d)
        self.seed = non_negative_int("seed", seed)
        self.widths = _per_layer("width", width, self.depth, positive_int,
                                 " (hidden units)")
        self.W_std = _per_layer("W_std", W_std, self.depth + 1, _positive_real)
        self.b_std = real_number("b_std", b_std, non_negative=True)
        self.params0 = {k: self.backend.asarray(v) for k, v in self._draw().items()}
        names = tuple(self.params0)
        self.trained = names if trained == "all" else self._check_trained(
            (trained,) if isinstance(trained, str) else tuple(trained))

    def __repr__(self) -> str:
        return (f"MLP(depth={self.depth}, width={self.widths}, activation="
                f"{self.activation.name!r}, W_std={self.W_std}, b_std={self.b_std}, d={self.d}, "
                f"seed={self.seed}, backend={self.backend.spec!r})")

    def _draw(self) -> dict[str, np.ndarray]:
        rng, out = generator(int(self.seed or 0)), {}
        dims = (self.d, *self.widths, 1)
        for layer in range(1, self.depth + 2):
            out[f"W{layer}"] = rng.standard_normal((dims[layer - 1], dims[layer]))
            out[f"b{layer}"] = rng.standard_normal(dims[layer])
        return out

    def _scale(self, layer: int, fan_in: int) -> Any:
        b = self.backend
        return b.scalar(self.W_std[layer - 1]) * _inv_sqrt(b, fan_in)

    def _dense(self, params: Params, layer: int, h: Any) -> Any:
        W = params[f"W{layer}"]
        z = self.backend.matmul(h, W) * self._scale(layer, W.shape[0])
        return z + self.backend.scalar(self.b_std) * params[f"b{layer}"][None, :]

    def _forward(self, params: Params, X: Any, name: str = "X"
                 ) -> tuple[list[Any], list[Any], Any]:
        """Layer inputs ``h_0..h_L``, pre-activations ``z_1..z_L`` and ``f`` (n,)."""
        hs, zs = [check_inputs(X, self.d, self.backend, name)], []
        self._check_params(params)
        for layer in range(1, self.depth + 1):
            zs.append(self._dense(params, layer, hs[-1]))
            hs.append(self.activation.f(self.backend, zs[-1]))
        return hs, zs, self._dense(params, self.depth + 1, hs[-1])[:, 0]

    def apply(self, params: Params, X: Any) -> Any:
        return self._forward(params, X)[2]

    def layer_factors(self, params: Params, X: Any, name: str = "X"
                      ) -> list[tuple[int, Any, Any]]:
        """Per Dense layer ``l``: ``(l, s_l h_{l-1}, δ_l)``, shapes (n, fan_in), (n, fan_out);
        ``name`` is how error messages call ``X``.

        The structured form of the gradient (Novak et al. 2022, eq. 9):
        ``∂f(x_i)/∂W_l = U_i ⊗ C_i`` and ``∂f(x_i)/∂b_l = b_std C_i``.
        """
        b = self.backend
        hs, zs, _ = self._forward(params, X, name)
        delta = 0 * hs[-1][:, :1] + 1
        out = []
        for layer in range(self.depth + 1, 0, -1):
            s = self._scale(layer, hs[layer - 1].shape[1])
            out.append((layer, hs[layer - 1] * s, delta))
            if layer > 1:
                back = b.matmul(delta, b.transpose(params[f"W{layer}"])) * s
                delta = back * self.activation.df(b, zs[layer - 2])
        return out[::-1]

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        h = check_inputs(X, self.d, self.backend)
        self._check_params(params)
        self._check_params(tangent, "tangent", self.trained)
        b, zero = self.backend, {k: 0 * v for k, v in params.items()}
        t = {k: tangent[k] if k in self.trained else zero[k] for k in params}
        dh = 0 * h
        for layer in range(1, self.depth + 2):
            W, s = params[f"W{layer}"], self._scale(layer, params[f"W{layer}"].shape[0])
            z = self._dense(params, layer, h)
            dz = (b.matmul(dh, W) + b.matmul(h, t[f"W{layer}"])) * s \
                + b.scalar(self.b_std) * t[f"b{layer}"][None, :]
            if layer <= self.depth:
                h, dh = self.activation.f(b, z), self.activation.df(b, z) * dz
        return dz[:, 0]

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        factors = self.layer_factors(params, X)
        _check_cot(cot, factors[0][1].shape[0])
        return self.vjp_from_factors(factors, cot)

    def vjp_from_factors(self, factors: list[tuple[int, Any, Any]], cot: Any) -> Params:
        """``Jᵀ cot`` from :meth:`layer_factors`: ``∂/∂W_l = Uᵀ (C ∘ cot)``, ``∂/∂b_l =
        b_std Σ_i cot_i C_i``; one ``fan_in × n × fan_out`` product per trained layer."""
        b, c, out = self.backend, self.backend.asarray(cot), {}
        for layer, U, C in factors:
            Cc = C * c[:, None]
            if f"W{layer}" in self.trained:
                out[f"W{layer}"] = b.matmul(b.transpose(U), Cc)
            if f"b{layer}" in self.trained:
                out[f"b{layer}"] = b.sum(Cc, axis=0) * b.scalar(self.b_std)
        return {k: out[k] for k in self.trained}

    def jvp_from_factors(self, factors: list[tuple[int, Any, Any]], tangent: Params) -> Any:
        """``J t`` from :meth:`layer_factors`: ``Σ_l rowsum((U t_{W_l}) ∘ C) + b_std C t_{b_l}``
        over the trained names (the others' tangents count as zero)."""
        b = self.backend
        out = 0 * factors[0][1][:, 0]
        for layer, U, C in factors:
            if f"W{layer}" in self.trained:
                out = out + b.sum(b.matmul(U, tangent[f"W{layer}"]) * C, axis=1)
            if f"b{layer}" in self.trained:
                out = out + b.matmul(C, tangent[f"b{layer}"]) * b.scalar(self.b_std)
        return out

    def grads(self, params: Params, X: Any) -> Params:
        out = {}
        for layer, U, C in self.layer_factors(params, X):
            out[f"W{layer}"] = U[:, :, None] * C[:, None, :]
            out[f"b{layer}"] = C * self.backend.scalar(self.b_std)
        return {k: out[k] for k in self.trained}


def _cached_for(owner: Any, attr: str, X: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept on ``owner.attr`` for the last ``X`` object: training calls a
    model on one ``X`` every step, and what depends only on ``θ0`` and ``X`` is reused."""
    cached = getattr(owner, attr, None)
    if cached is None or cached[0] is not X:
        cached = (X, compute())
        setattr(owner, attr, cached)
    return cached[1]


def _per_layer(name: str, value: Any, count: int, kind: Callable[..., Any],
               *extra: Any) -> tuple[Any, ...]:
    """One value per layer: ``value`` repeated or a list of ``count`` values, each checked
    and converted by ``kind(label, v, *extra)``."""
    many = isinstance(value, (list, tuple))
    values = tuple(value) if many else (value,) * count
    if len(values) != count:
        raise InvalidArgument(
            f"{name} must be one value or {count} values (one per layer), got {value!r}")
    return tuple(kind(f"{name}[{i}]" if many else name, v, *extra)
                 for i, v in enumerate(values))


def _positive_real(name: str, value: Any) -> float:
    return real_number(name, value, positive=True)


class Linearized(Model):
    """First-order Taylor model of ``base`` at its initialisation ``θ0 = base.params0``::

        f_lin(x; θ) = f(x; θ0) + <∇f(x; θ0), θ - θ0>        (sum over trained names)

    (Telgarsky DLT §4 writes it ``f_0``; Lee et al. 2019 ``f^lin``.) It has the
    interface of a network: ``apply``, ``jvp``, ``vjp`` and ``grads`` (the last
    three do not depend on ``θ``); its empirical NTK is the base's at ``θ0``.
    """

    def __init__(self, base: Model) -> None:
        if isinstance(base, Linearized):
            raise InvalidArgument("base is already a Linearized model; linearise the network")
        self.base, self.backend = base, base.backend
        self.params0, self.trained = dict(base.params0), base.trained
        self.d, self.seed = base.d, base.seed

    def __repr__(self) -> str:
        return f"Linearized({self.base!r})"

    def apply(self, params: Params, X: Any) -> Any:
        self._check_params(params, keys=self.trained)
        delta = {k: params[k] - self.params0[k] for k in self.trained}
        return self._f0(X) + self.jvp(params, X, delta)

    def _f0(self, X: Any) -> Any:
        """``f(X; θ0)``, cached for the last ``X`` object (training reuses one ``X``)."""
        return _cached_for(self, "_f0_cache", X, lambda: self.base.apply(self.params0, X))

    def _factors0(self, X: Any) -> list[tuple[int, Any, Any]] | None:
        """The base's :meth:`MLP.layer_factors` at ``θ0``, cached for the last ``X``
        object; None for a base without them (then the base's jvp/vjp run)."""
        base = self.base
        if not isinstance(base, MLP):
            return None
        return _cached_for(self, "_factors0_cache", X,
                           lambda: base.layer_factors(self.params0, X))

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        factors = self._factors0(X)
        if factors is None:
            return self.base.jvp(self.params0, X, tangent)
        return self.base.jvp_from_factors(factors, tangent)  # type: ignore[attr-defined]

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        factors = self._factors0(X)
        if factors is None:
            return self.base.vjp(self.params0, X, cot)
        _check_cot(cot, factors[0][1].shape[0])
        return self.base.vjp_from_factors(factors, cot)  # type: ignore[attr-defined]

    def grads(self, params: Params, X: Any) -> Params:
        return self.base.grads(self.params0, X)


class Scaled(Model):
    """The model ``α·h(w)`` of lazy training (Chizat, Oyallon & Bach 2019), with
    ``h(w) = f(w) - f(w0)`` when ``centred`` (so ``h(w0) = 0``) or ``h = f``.

    Training it with :mod:`ntkproof.nn.training` on the loss ``(1/n) Σ ½(αh - y)²`` at
    learning rate ``lr/α²`` is GD on Chizat–Bach's ``F_α(w) = R(αh(w))/α²`` at
    learning rate ``lr``; at learning rate ``lr`` with a sum loss it is Telgarsky's
    §8 flow ``ẇ = -α J_wᵀ(αf(w) - y)``. Same parameters, ``params0`` and ``trained``
    as ``base``; ``jvp``, ``vjp`` and ``grads`` are ``α`` times the base's.

    >>> net = Scaled(TwoLayer(3, 8, "tanh", seed=0), 10.0)
    >>> float(np.max(np.abs(net.apply(net.params0, np.eye(3)))))
    0.0
    """

    def __init__(self, base: Model, alpha: float, *, centred: bool = True) -> None:
        if isinstance(base, (Linearized, Scaled)):
            raise InvalidArgument("base must be a network (TwoLayer or MLP), not "
                                  f"{type(base).__name__}; scale the network, then linearise")
        self.base, self.backend, self.alpha, self.centred = base, base.backend, \
            real_number("alpha", alpha, positive=True), bool(centred)
        self.params0, self.trained = dict(base.params0), base.trained
        self.d, self.seed = base.d, base.seed

    def __repr__(self) -> str:
        return f"Scaled({self.base!r}, alpha={self.alpha:g}, centred={self.centred})"

    def _a(self) -> Any:
        return self.backend.scalar(self.alpha)

    def _f0(self, X: Any) -> Any:
        """``f(X; w0)``, cached for the last ``X`` object."""
        return _cached_for(self, "_f0_cache", X, lambda: self.base.apply(self.params0, X))

    def apply(self, params: Params, X: Any) -> Any:
        f = self.base.apply(params, X)
        return self._a() * (f - self._f0(X) if self.centred else f)

    def jvp(self, params: Params, X: Any, tangent: Params) -> Any:
        return self._a() * self.base.jvp(params, X, tangent)

    def vjp(self, params: Params, X: Any, cot: Any) -> Params:
        return self.base.vjp(params, X, self._a() * self.backend.asarray(cot))

    def grads(self, params: Params, X: Any) -> Params:
        return {k: self._a() * v for k, v in self.base.grads(params, X).items()}
