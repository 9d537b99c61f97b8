"""Training batched across seeds: S networks of one architecture as one computation.

A theorem that measures a rate over a width ladder trains S seeds of each width, and
:func:`~ntkproof.nn.training.train` runs them one after the other: S times the same
few dozen small array operations per step, where the per-operation overhead (and,
on torch, the dispatcher) costs more than the arithmetic. Here the S models' parameters
are stacked along a leading seed axis and each operation runs once on all of them::

    TwoLayer:  W (S, m, d), a (S, m);     Z = X Wᵀ (S, n, m)
    MLP:       W_l (S, fan_in, fan_out), b_l (S, fan_out);   z_l = s_l h_{l-1} W_l + β b_l

with stacked ``matmul`` (numpy's loop of BLAS calls, torch's ``bmm``), so every seed sees
the arithmetic of :func:`train` (loss ``(1/n) Σ ½(f - y)²``, step ``θ ← θ - lr ∇L``, the
1/m^{1/2} and s_l = W_std/fan_in^{1/2} of :mod:`~ntkproof.nn.networks`) up to the order
of floating-point sums: results agree with the per-seed loop to 2e-15 to 2e-14 relative
in float64 (``tests/nn/test_batched.py`` holds them to 1e-12).

What is computed once instead of again (same numbers, less work):

* **network**: one forward pass per step whose activations serve the loss, the
  gradient (explicit backprop, ``δ_l = ∂f/∂z_l``) and, at the ``ntk_at`` steps, the
  structured eNTK Gram ``Σ_l (U Uᵀ + β²) ∘ (C Cᵀ)`` (Novak et al. 2022, eq. 9) from
  the same layer factors ``U = s_l h_{l-1}``, ``C = δ_l`` (``train`` runs the forward
  pass twice per step and the Gram from scratch);
* **linearised model** ``f_lin(θ) = f_0 + J_0 (θ - θ_0)``: GD on it moves the
  outputs by ``f_{k+1} = f_k - lr K_0 (f_k - y)/n`` with ``K_0 = J_0 J_0ᵀ`` the eNTK
  Gram at init (Lee et al. 2019, NeurIPS, eqs. (8)-(9) in discrete time), so the run tracks ``f_k = f_0 - lr K_0 A_k`` with
  ``A_k = Σ_{j<k} (f_j - y)/n`` -- an (S, n, n) product per step instead of a
  Jacobian-vector and a vector-Jacobian product through the network. The parameters
  ``θ_k = θ_0 - lr J_0ᵀ A_k`` (one vector-Jacobian product with the cached θ_0 layer
  factors, as :class:`~ntkproof.nn.networks.Linearized` caches them) and the outputs
  ``f_0(X_eval) + J_0(X_eval)(θ_k - θ_0)`` are formed at the checkpoints only. Its
  Gram at every ``ntk_at`` step is ``K_0`` (one array shared by those steps).

Backends: numpy (float64) and torch (float64, float32) on the backend's device (CUDA
when present or ``NTKPROOF_DEVICE``); the loop keeps everything on the device and reads
the losses back once every ``_SYNC_EVERY`` steps. On a CPU the seeds run in chunks of
at most ``_CHUNK_BYTES`` of parameters and activations (cache-sized, so wide MLPs are
not slowed by their stacked weights); a GPU takes them all at once. mpmath (object
arrays, no stacked BLAS to gain from) and models other than
:class:`~ntkproof.nn.networks.TwoLayer` and :class:`~ntkproof.nn.networks.MLP` (e.g.
:class:`~ntkproof.nn.networks.Scaled`) run the per-seed loop: same checks, results and
errors, no speed-up.

Memory: the results of S seeds, as S calls of ``train`` return them; ``keep_params=False``
drops the parameters kept at the checkpoints between the first and the last step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..backends import Backend
from ..errors import DivergenceError, InvalidArgument, ShapeError, SingularKernelError
from ._stacked import (
    _batchable,
    _chunks,
    _col,
    _mv,
    _Stack,
    _stack,
    _Work,
    _xp,
)
from ._validate import (
    check_finite,
    check_targets,
    non_negative_int,
    real_number,
    shape_of,
    step_indices,
)
from .empirical_ntk import empirical_ntk
from .networks import MLP, Model, Params, TwoLayer, check_inputs, check_model
from .training import DIVERGENCE_FACTOR, TrainingResult, Trajectory, train
from .training import divergence_error as _divergence_error

__all__ = ["train_seeds", "empirical_ntk_seeds", "max_learning_rates"]

#: Steps between two reads of the losses (on torch a device sync) to stop once every
#: seed has diverged.
_SYNC_EVERY = 32


# -- arguments -------------------------------------------------------------------------
def _check_models(models: Any) -> list[Model]:
    """``models`` as a non-empty list of networks; InvalidArgument otherwise."""
    if isinstance(models, Model) or not isinstance(models, (list, tuple)):
        raise InvalidArgument(
            f"models must be a list of networks (one per seed), got {type(models).__name__}; "
            "wrap a single network as [net], or call train(net, ...)")
    if not models:
        raise InvalidArgument("models is empty; pass at least one network (one per seed)")
    for i, model in enumerate(models):
        check_model(model, f"models[{i}]")
    return list(models)


def _signature(model: Model) -> dict[str, Any]:
    """What must agree for two models to be stacked (everything but the seed)."""
    sig: dict[str, Any] = {"type": type(model).__name__, "backend": repr(model.backend),
                           "d": model.d, "trained": tuple(model.trained)}
    if isinstance(model, TwoLayer):
        sig.update(width=model.m, activation=model.activation, symmetric=model.symmetric)
    elif isinstance(model, MLP):
        sig.update(depth=model.depth, width=model.widths, activation=model.activation,
                   W_std=model.W_std, b_std=model.b_std)
    return sig


def _check_same_architecture(models: list[Model]) -> None:
    """InvalidArgument naming the first model and field that differ from models[0]."""
    ref = _signature(models[0])
    for i, model in enumerate(models[1:], start=1):
        sig = _signature(model)
        for key, value in ref.items():
            if sig.get(key) != value:
                raise InvalidArgument(
                    f"models[{i}] has {key}={sig.get(key)!r} but models[0] has {key}={value!r}; "
                    "train_seeds stacks networks of one architecture (only the seed may "
                    f"differ): group the models by {key} and call it once per group")


def _split(name: str, X: Any, S: int, ndim: int) -> list[Any] | None:
    """The S per-seed parts of ``X`` when it carries a seed axis (a list of S arrays, or
    one array with ``ndim + 1`` axes), None when it is shared by the seeds."""
    if isinstance(X, (list, tuple)) and X and hasattr(X[0], "shape"):
        parts = list(X)
    elif len(shape_of(X)) == ndim + 1:
        parts = [X[s] for s in range(shape_of(X)[0])]
    else:
        return None
    if len(parts) != S:
        raise ShapeError(f"{name} holds {len(parts)} per-seed arrays but there are {S} "
                         f"models; pass one per model, or one array shared by all")
    return parts


def _seed_inputs(name: str, X: Any, S: int, d: int, b: Backend) -> tuple[Any, list[Any]]:
    """(the array the batch uses: shared (n, d) or stacked (S, n, d); the S per-seed
    (n, d) arrays), each checked as ``train`` checks its ``X``."""
    parts = _split(name, X, S, 2)
    if parts is None:
        if len(shape_of(X)) not in (1, 2):
            raise ShapeError(
                f"{name} must have shape (n, {d}) (shared by the {S} seeds) or ({S}, n, {d}) "
                f"(one set per seed), got shape {shape_of(X)}")
        Xb = check_inputs(X, d, b, name)
        return Xb, [Xb] * S
    checked = [check_inputs(x, d, b, f"{name}[{s}]") for s, x in enumerate(parts)]
    rows = sorted({x.shape[0] for x in checked})
    if len(rows) > 1:
        raise ShapeError(f"the per-seed {name} have different numbers of rows {rows}; "
                         "stacking needs one n for all seeds (group the seeds by n)")
    return _xp(b).stack(checked), checked


def _seed_targets(y: Any, Xs: list[Any], b: Backend) -> Any:
    """Targets as a stacked (S, n) backend array, each row checked as ``train`` does."""
    S, n = len(Xs), Xs[0].shape[0]
    parts = _split("y", y, S, 1) if shape_of(y) not in ((n,), (n, 1)) else None
    if parts is None and shape_of(y) not in ((n,), (n, 1)):
        raise ShapeError(f"y must have shape ({n},) (shared by the {S} seeds) or ({S}, {n}) "
                         f"(one row per seed), got shape {shape_of(y)}")
    rows = [check_targets(y if parts is None else parts[s], Xs[s], b,
                          "y" if parts is None else f"y[{s}]").reshape(n) for s in range(S)]
    return b.asarray(np.stack(rows))


def _seed_lrs(lr: Any, S: int) -> list[float]:
    """One positive learning rate per seed, from a number or a sequence of S."""
    if isinstance(lr, (list, tuple, np.ndarray)):
        if len(lr) != S:
            raise InvalidArgument(f"lr holds {len(lr)} learning rates but there are {S} "
                                  "models; pass one number or one per model")
        return [real_number(f"lr[{s}]", v, positive=True) for s, v in enumerate(lr)]
    return [real_number("lr", lr, positive=True)] * S


@dataclass
class _Data:
    """The validated arguments: inputs shared ``(n, d)`` or stacked ``(S, n, d)``."""

    X: Any
    Xs: list[Any]
    y: Any                       # (S, n), the backend's dtype
    y64: Any                     # (S, n) float64 on the backend's device (numpy: host)
    lrs: list[float]
    lr: Any                      # (S,), the backend's dtype
    steps: int
    keep: set[int]               # steps whose outputs are kept
    keep_params: set[int]        # steps whose parameters are kept
    keep_ntk: set[int]
    X_eval: Any | None
    Xes: list[Any] | None

    def part(self, lo: int, hi: int) -> _Data:
        """The arguments of the seeds ``lo..hi-1`` (shared inputs stay shared)."""
        def cut(A: Any) -> Any:
            return A if A is None or A.ndim == 2 else A[lo:hi]
        return replace(self, X=cut(self.X), Xs=self.Xs[lo:hi], y=self.y[lo:hi],
                       y64=self.y64[lo:hi], lrs=self.lrs[lo:hi], lr=self.lr[lo:hi],
                       X_eval=cut(self.X_eval), Xes=None if self.Xes is None else self.Xes[lo:hi])


def _validate(models: list[Model], X: Any, y: Any, lr: Any, steps: Any,
              checkpoints: Iterable[int], ntk_at: Iterable[int], X_eval: Any,
              keep_params: bool = True) -> _Data:
    b, S, d = models[0].backend, len(models), models[0].d
    Xb, Xs = _seed_inputs("X", X, S, d, b)
    yb = _seed_targets(y, Xs, b)
    lrs = _seed_lrs(lr, S)
    steps = non_negative_int("steps", steps)
    keep = set(step_indices("checkpoints", checkpoints, steps)) | {0, steps}
    keep_ntk = set(step_indices("ntk_at", ntk_at, steps))
    Xe, Xes = (None, None) if X_eval is None else _seed_inputs("X_eval", X_eval, S, d, b)
    y64 = yb.to(_xp(b).float64) if b.name == "torch" else yb
    return _Data(Xb, Xs, yb, y64, lrs, b.asarray(np.asarray(lrs)), steps, keep,
                 keep if keep_params else {0, steps}, keep_ntk, Xe, Xes)


# -- the runs -------------------------------------------------------------------------
@dataclass
class _Run:
    """One batched GD run, seed axis first: losses (steps + 1, S) float64 and, per kept
    step, stacked parameters, Grams (S, n, n) and outputs (S, n_eval)."""

    losses: Any
    params: dict[int, Params] = field(default_factory=dict)
    ntk: dict[int, Any] = field(default_factory=dict)
    outputs: dict[int, Any] = field(default_factory=dict)


def _loss_row(b: Backend, f: Any, y64: Any) -> Any:
    """Losses ``½ mean (f - y)²`` in float64 of outputs ``f`` (..., S, n) (the last axis
    averaged); inf where a residual is not finite (``gradient_descent``'s rule)."""
    if b.name == "torch":
        xp = _xp(b)
        r = f.to(xp.float64) - y64
        loss = 0.5 * (r * r).mean(-1)
        return xp.where(xp.isfinite(r).all(-1), loss, xp.full_like(loss, np.inf))
    r = f - y64
    loss = 0.5 * np.mean(r * r, axis=-1)
    loss[~np.isfinite(r).all(-1)] = np.inf
    return loss


def _diverged(losses: np.ndarray, y64: np.ndarray) -> list[int | None]:
    """Per seed, the first step where ``gradient_descent`` would stop (loss not finite,
    or above DIVERGENCE_FACTOR × (L_0 + mean ½y²)), or None."""
    return [int(np.argmax(col)) if col.any() else None for col in _bad(losses, y64).T]


def _bad(losses: np.ndarray, y64: np.ndarray, loss0: np.ndarray | None = None) -> np.ndarray:
    """The (steps, S) mask of the losses ``gradient_descent`` stops at."""
    scale = (losses[0] if loss0 is None else loss0) + 0.5 * np.mean(y64 ** 2, axis=-1)
    with np.errstate(invalid="ignore", over="ignore"):
        return ~np.isfinite(losses) | (losses > DIVERGENCE_FACTOR * np.maximum(scale, 1e-300))


class _Losses:
    """The losses of one run, (steps + 1, S) float64 on the host.

    ``set(k, f)`` only keeps the outputs ``f`` (S, n); ``all_diverged(k)`` turns the
    outputs kept since its last call into losses, in one stacked computation every
    ``_SYNC_EVERY`` steps (on torch one device sync), and tells when every seed has
    diverged, so the run can stop. A run ends with ``all_diverged(steps)``, or stops
    after a call that returned True: every loss is then in ``self.values``."""

    def __init__(self, b: Backend, data: _Data) -> None:
        self.b, self.data, self.y64 = b, data, b.to_numpy(data.y)
        self.values = np.empty((data.steps + 1, len(data.Xs)))
        self.dead, self.read, self.kept = np.zeros(len(data.Xs), dtype=bool), 0, list[Any]()

    def set(self, k: int, f: Any) -> None:
        self.kept.append(f)

    def all_diverged(self, k: int) -> bool:
        if k % _SYNC_EVERY and k != self.data.steps:
            return False
        rows = self.b.to_numpy(_loss_row(self.b, _xp(self.b).stack(self.kept), self.data.y64))
        self.values[self.read: k + 1] = rows
        self.dead |= _bad(rows, self.y64, self.values[0]).any(axis=0)
        self.read, self.kept = k + 1, []
        return bool(self.dead.all())


def _run_net(st: _Stack, data: _Data, start: tuple[Any, Any]) -> _Run:
    """GD on the stacked networks; ``start`` is the forward pass at θ0 on X."""
    b, n, neg_lr = st.b, st.b.scalar(data.y.shape[-1]), -_col(data.lr, 2)
    P, losses, work = dict(st.P0), _Losses(b, data), _Work(b.name == "numpy")
    run, spare = _Run(None), dict[str, Any]()
    f, cache = start
    for k in range(data.steps + 1):
        if k:
            f, cache = st.forward(P, data.X, True, work)
        losses.set(k, f)
        factors = st.factors(P, cache, work) if k < data.steps or k in data.keep_ntk \
            else None
        if k in data.keep_params:
            run.params[k] = P
        if k in data.keep and data.X_eval is not None:
            run.outputs[k] = st.forward(P, data.X_eval, False)[0]
        if k in data.keep_ntk:
            run.ntk[k] = st.ntk(P, factors)
        if losses.all_diverged(k):
            break
        if k < data.steps:
            new = st.step(P, factors, (f - data.y) / n, neg_lr, work, spare)
            # θ_k is not kept: its arrays take θ_{k+2}'s largest products (no page faults)
            spare = {} if k in data.keep_params else \
                {nm: v for nm, v in P.items() if nm[0] == "W"}
            P = new
    run.losses = losses.values
    return run


def _run_lin(st: _Stack, data: _Data, f0: Any, factors0: Any, K0: Any) -> _Run:
    """GD on the linearised models, in function space: ``f_k = f_0 - lr K_0 A_k`` with
    ``A_k = Σ_{j<k} (f_j - y)/n``; parameters and outputs at the checkpoints only."""
    b, n = st.b, st.b.scalar(data.y.shape[-1])
    losses, run, lr_K0 = _Losses(b, data), _Run(None), _col(data.lr, 3) * K0
    if data.X_eval is not None:
        f0_eval, cache = st.forward(st.P0, data.X_eval, True)
        factors0_eval = st.factors(st.P0, cache)
    f, A = f0, 0 * f0
    for k in range(data.steps + 1):
        losses.set(k, f)
        if k in data.keep_params or (k in data.keep and data.X_eval is not None):
            g = st.vjp(st.P0, factors0, A)
            delta = {key: -_col(data.lr, v.ndim) * v for key, v in g.items()}
            if k in data.keep_params:      # trained names only; the others are params0
                run.params[k] = {key: st.P0[key] + v for key, v in delta.items()}
            if k in data.keep and data.X_eval is not None:
                run.outputs[k] = f0_eval + st.jvp(st.P0, factors0_eval, delta)
        if k in data.keep_ntk:
            run.ntk[k] = K0
        if losses.all_diverged(k):
            break
        if k < data.steps:
            A += (f - data.y) / n
            f = f0 - _mv(lr_K0, A)
    run.losses = losses.values
    return run


# -- per seed again ------------------------------------------------------------------
def _unstack(A: Any) -> list[Any]:
    """The S per-seed views of a stacked array (one call, not S indexings)."""
    return list(A.unbind(0)) if hasattr(A, "unbind") else list(A)


def _trajectories(models: list[Model], run: _Run, trained: tuple[str, ...]) -> list[Trajectory]:
    """Each seed's part of a batched run, laid out as ``gradient_descent`` returns it
    (untrained names are ``model.params0``'s own arrays, as there)."""
    out = [Trajectory(model, run.losses[:, s].copy()) for s, model in enumerate(models)]
    for k in sorted(run.params):
        parts = {key: _unstack(run.params[k][key]) for key in trained}
        for s, (traj, model) in enumerate(zip(out, models, strict=True)):
            traj.params[k] = {key: parts[key][s] if key in parts else v
                              for key, v in model.params0.items()}
    for kept, into in ((run.ntk, "ntk"), (run.outputs, "outputs")):
        for k in sorted(kept):
            for traj, part in zip(out, _unstack(kept[k]), strict=True):
                getattr(traj, into)[k] = part
    return out


def _raise_first_divergence(models: list[Model], data: _Data, net: _Run,
                            lin: _Run | None, offset: int) -> None:
    """The error ``train`` would raise first in a loop over the models (each network
    before its linearisation), naming the model's index (``offset`` + position) and seed."""
    y64 = models[0].backend.to_numpy(data.y)
    runs = [(net, _diverged(net.losses, y64), False)]
    if lin is not None:
        runs.append((lin, _diverged(lin.losses, y64), True))
    for i, model in enumerate(models):
        for run, first_step, linear in runs:
            step = first_step[i]
            if step is None:
                continue
            err = _divergence_error(model.linearize() if linear else model, data.Xs[i], step,
                                    float(run.losses[step, i]), float(run.losses[0, i]),
                                    data.lrs[i])
            what = ", its linearisation" if linear else ""
            raise DivergenceError(f"models[{offset + i}] (seed {model.seed}{what}): {err}")


def _per_seed(models: list[Model], data: _Data, kw: dict[str, Any]) -> list[TrainingResult]:
    """The loop ``train_seeds`` replaces (mpmath and other models), on the checked
    arguments; a DivergenceError names the model as the batched run does."""
    out = []
    for s, model in enumerate(models):
        X_eval = None if data.Xes is None else data.Xes[s]
        try:
            res = train(model, data.Xs[s], data.y[s], lr=data.lrs[s], X_eval=X_eval, **kw)
        except DivergenceError as err:
            raise DivergenceError(f"models[{s}] (seed {model.seed}): {err}") from err
        for traj in (res.net, res.lin):
            if traj is not None:
                traj.params = {k: v for k, v in traj.params.items() if k in data.keep_params}
        out.append(res)
    return out


def train_seeds(models: Sequence[Model], X: Any, y: Any, *, lr: float | Sequence[float],
                steps: int, checkpoints: Iterable[int] = (), ntk_at: Iterable[int] = (),
                X_eval: Any | None = None, linearized: bool = True,
                keep_params: bool = True) -> list[TrainingResult]:
    """:func:`~ntkproof.nn.training.train` for S networks of one architecture at once.

    ``models``: S :class:`~ntkproof.nn.networks.TwoLayer` or :class:`~ntkproof.nn.networks.MLP`
    that differ only in their seed (same backend, width, depth, activation, ``trained``,
    ...). ``X``: shared ``(n, d)`` or per seed ``(S, n, d)`` (or a list of S ``(n, d)``);
    ``y``: shared ``(n,)`` or per seed ``(S, n)``; ``lr``: one number or one per seed;
    ``X_eval``: None, shared or per seed like ``X``. ``steps``, ``checkpoints``,
    ``ntk_at``, ``linearized`` as in ``train``. Returns ``[train(models[s], X_s, y_s,
    lr=lr_s, ...) for s]``: same trajectories (to float roundoff), same checks and
    errors; a diverging seed raises the DivergenceError ``train`` raises for it, prefixed
    with ``models[i] (seed ...)``, for the first model that loop would stop at.

    ``keep_params=False`` (not in ``train``) keeps the parameters at steps 0 and
    ``steps`` only; outputs, Grams and losses are kept as asked. A wide MLP's
    parameters at every checkpoint of every seed may not fit in memory (width 1024:
    8.5 MB each, 4.2 GB for 12 seeds and 21 checkpoints of both models).

    >>> from ntkproof.rng import generator, unit_vectors
    >>> X = unit_vectors(generator(0), 8, 3); y = X[:, 0]
    >>> nets = [TwoLayer(3, 64, "tanh", seed=s) for s in range(4)]
    >>> res = train_seeds(nets, X, y, lr=1.0, steps=50)
    >>> ref = train(nets[2], X, y, lr=1.0, steps=50)
    >>> bool(np.allclose(res[2].net.losses, ref.net.losses, rtol=1e-12, atol=0))
    True
    """
    models = _check_models(models)
    _check_same_architecture(models)
    kw: dict[str, Any] = dict(steps=steps, checkpoints=tuple(checkpoints),
                              ntk_at=tuple(ntk_at), linearized=linearized)
    data = _validate(models, X, y, lr, steps, kw["checkpoints"], kw["ntk_at"], X_eval,
                     keep_params)
    if not _batchable(models[0]):
        return _per_seed(models, data, kw)
    out: list[TrainingResult] = []
    for lo, hi in _chunks(models, data.y.shape[-1]):
        out += _train_chunk(models[lo:hi], data.part(lo, hi), bool(linearized), lo)
    return out


def _train_chunk(models: list[Model], data: _Data, linearized: bool,
                 first: int) -> list[TrainingResult]:
    """:func:`train_seeds` on one chunk of seeds (``models[0]`` is model ``first``)."""
    st = _stack(models)
    with np.errstate(over="ignore", invalid="ignore"):   # a seed's inf/NaN is a divergence
        start = st.forward(st.P0, data.X, True)
        net = _run_net(st, data, start)
        lin = None
        if linearized:
            factors0 = st.factors(st.P0, start[1])
            lin = _run_lin(st, data, start[0], factors0, st.ntk(st.P0, factors0))
    _raise_first_divergence(models, data, net, lin, first)
    nets = _trajectories(models, net, st.trained)
    lins = [None] * len(models) if lin is None else \
        _trajectories([m.linearize() for m in models], lin, st.trained)
    return [TrainingResult(t, t_lin, data.lrs[s], data.steps)
            for s, (t, t_lin) in enumerate(zip(nets, lins, strict=True))]


# -- Grams and step-size limits at init ---------------------------------------------------
def empirical_ntk_seeds(models: Sequence[Model], X: Any) -> list[Any]:
    """``[empirical_ntk(models[s], X_s) for s]`` (the eNTK Gram at ``params0`` on the
    training inputs, (n, n) each) as one stacked computation; ``X`` shared or per seed."""
    models = _check_models(models)
    _check_same_architecture(models)
    b, S = models[0].backend, len(models)
    Xb, Xs = _seed_inputs("X", X, S, models[0].d, b)
    if not _batchable(models[0]):
        return [empirical_ntk(m, Xs[s]) for s, m in enumerate(models)]
    st = _stack(models)
    K = st.ntk(st.P0, st.factors(st.P0, st.forward(st.P0, Xb, True)[1]))
    return [K[s] for s in range(S)]


def max_learning_rates(models: Sequence[Model], X: Any) -> list[float]:
    """``[max_learning_rate(models[s], X_s) for s]``: ``2n/λ_max(K_s)`` per seed, the
    Grams computed as one stacked computation (:func:`empirical_ntk_seeds`)."""
    Ks = empirical_ntk_seeds(models, X)
    b, out = models[0].backend, []
    for s, K in enumerate(Ks):
        if K.shape[0] == 0:
            raise ShapeError("X has no rows; the step-size limit 2n/λ_max(K) needs at least "
                             "one training input")
        Kn = b.to_numpy(K)
        check_finite(f"the eNTK Gram K of models[{s}]", Kn,
                     "the network's parameters or activations overflow")
        lam = float(np.linalg.eigvalsh(Kn)[-1])
        if not lam > 0:
            raise SingularKernelError(
                f"models[{s}] (seed {models[s].seed}): the eNTK Gram K on X ({Kn.shape[0]} rows) "
                f"has largest eigenvalue {lam:.3g}, so no step size 2n/λ_max(K) is defined; "
                "use other inputs or another initialisation")
        out.append(float(2 * Kn.shape[0] / lam))
    return out
