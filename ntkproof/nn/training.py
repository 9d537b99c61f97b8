"""Full-batch gradient descent for a network and its linearisation, in lockstep.

Loss and update (the 1/n convention of Telgarsky, Deep learning theory lecture notes,
§4; Lee et al. 2019, *Wide neural networks of any depth evolve as linear models*, §2)::

    L(θ) = (1/n) Σ_i ½ (f(x_i; θ) - y_i)²,      θ_{k+1} = θ_k - lr ∇L(θ_k)

applied to the trained parameters only (``model.trained``); ``∇L`` is the
model's ``vjp`` with cotangent ``(f - y)/n``. The same steps are run on
``model.linearize()`` (the linear model ``f_lin``), whose training outputs obey
``f_k(S) = y + (I - lr K/n)^k (f_0(S) - y)`` with ``K`` the eNTK Gram at init:
it converges iff ``0 < lr < 2n/λ_max(K)`` (:func:`max_learning_rate`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DivergenceError, InvalidArgument, ShapeError, SingularKernelError
from ._validate import check_finite, check_targets, non_negative_int, real_number, step_indices
from .empirical_ntk import empirical_ntk
from .networks import Model, Params, check_inputs, check_model

__all__ = ["Trajectory", "TrainingResult", "train", "gradient_descent", "max_learning_rate",
           "mse_loss", "divergence_error"]

#: A run whose loss exceeds this multiple of (initial loss + mean ½y²) is diverging.
DIVERGENCE_FACTOR = 1e8


@dataclass
class Trajectory:
    """One GD run. ``losses[k]`` is ``L(θ_k)`` for k = 0..steps (numpy float64).

    ``params[k]``, ``ntk[k]`` (eNTK Gram on the training set) and
    ``outputs[k]`` (``f(X_eval; θ_k)``) are kept at the checkpoint steps asked for.
    """

    model: Model
    losses: np.ndarray
    params: dict[int, Params] = field(default_factory=dict)
    ntk: dict[int, Any] = field(default_factory=dict)
    outputs: dict[int, Any] = field(default_factory=dict)

    @property
    def final_params(self) -> Params:
        return self.params[max(self.params)]


@dataclass
class TrainingResult:
    """The network's trajectory ``net`` and its linearisation's ``lin`` (or None)."""

    net: Trajectory
    lin: Trajectory | None
    lr: float
    steps: int


def mse_loss(model: Model, params: Params, X: Any, y: Any) -> float:
    """``(1/n) Σ ½ (f(x_i) - y_i)²`` as a Python float."""
    check_model(model)
    Xb = check_inputs(X, model.d, model.backend)
    y_np = check_targets(y, Xb, model.backend)
    r = model.backend.to_numpy(model.apply(params, Xb)) - y_np.reshape(-1)
    return float(0.5 * np.mean(r * r))


def max_learning_rate(model: Model, X: Any) -> float:
    """``2n / λ_max(K)``, K the eNTK Gram at ``model.params0`` on the n rows of ``X``.

    GD on the linearised model converges iff ``0 < lr < 2n/λ_max(K)``
    (the linear recursion above: stable iff ``|1 - lr λ/n| < 1`` for every eigenvalue λ;
    neural-tangents' ``predict.max_learning_rate`` with one output).
    """
    check_model(model)
    Xb = check_inputs(X, model.d, model.backend)
    if Xb.shape[0] == 0:
        raise ShapeError("X has no rows; the step-size limit 2n/λ_max(K) needs at least one "
                         "training input")
    K = model.backend.to_numpy(empirical_ntk(model, Xb))
    check_finite("the eNTK Gram K", K, "the network's parameters or activations overflow")
    lam_max = float(np.linalg.eigvalsh(K)[-1])
    if not lam_max > 0:
        raise SingularKernelError(
            f"the eNTK Gram K of {type(model).__name__} on X ({K.shape[0]} rows) has largest "
            f"eigenvalue {lam_max:.3g}, so no step size 2n/λ_max(K) is defined: the gradient "
            "of the network vanishes on X (e.g. ReLU on all-zero inputs); use other inputs or "
            "another initialisation")
    return float(2 * K.shape[0] / lam_max)


def _validate(model: Model, X: Any, y: Any, lr: float, steps: int) -> tuple[Any, Any]:
    check_model(model)
    b = model.backend
    Xb = check_inputs(X, model.d, b)
    y_np = check_targets(y, Xb, model.backend)
    real_number("lr", lr, positive=True)
    non_negative_int("steps", steps)
    return Xb, b.asarray(y_np.reshape(Xb.shape[0]))


def gradient_descent(model: Model, X: Any, y: Any, *, lr: float, steps: int,
                     checkpoints: Iterable[int] = (), ntk_at: Iterable[int] = (),
                     X_eval: Any | None = None) -> Trajectory:
    """Run GD on one model (network or :class:`~ntkproof.nn.networks.Linearized`).

    Stops with :class:`~ntkproof.errors.DivergenceError` when the loss turns
    NaN/inf or exceeds ``DIVERGENCE_FACTOR × (L_0 + mean ½y²)``; the message
    names the step and the stability limit ``2n/λ_max(K)``.
    """
    Xb, yb = _validate(model, X, y, lr, steps)
    b, n, steps = model.backend, Xb.shape[0], int(steps)
    keep = set(step_indices("checkpoints", checkpoints, steps)) | {0, steps}
    keep_ntk = set(step_indices("ntk_at", ntk_at, steps))
    if X_eval is not None:
        X_eval = check_inputs(X_eval, model.d, b, "X_eval")
    params = dict(model.params0)
    traj = Trajectory(model, np.empty(int(steps) + 1))
    scale = None
    for k in range(int(steps) + 1):
        f = model.apply(params, Xb)
        r = b.to_numpy(f) - b.to_numpy(yb)
        traj.losses[k] = loss = float(0.5 * np.mean(r * r)) if np.all(np.isfinite(r)) else np.inf
        scale = loss + 0.5 * float(np.mean(b.to_numpy(yb) ** 2)) if scale is None else scale
        if not np.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(scale, 1e-300):
            raise divergence_error(model, Xb, k, loss, traj.losses[0], lr)
        _record(traj, k, params, Xb, X_eval, keep, keep_ntk)
        if k < steps:
            g = model.vjp(params, Xb, (f - yb) / b.scalar(n))
            params = {key: (params[key] - b.scalar(lr) * g[key]) if key in g else params[key]
                      for key in params}
    return traj


def _record(traj: Trajectory, k: int, params: Params, X: Any, X_eval: Any,
            keep: set[int], keep_ntk: set[int]) -> None:
    if k in keep:
        traj.params[k] = params
        if X_eval is not None:
            traj.outputs[k] = traj.model.apply(params, X_eval)
    if k in keep_ntk:
        traj.ntk[k] = empirical_ntk(traj.model, X, params=params)


def divergence_error(model: Model, X: Any, step: int, loss: float, loss0: float,
                     lr: float) -> DivergenceError:
    """The error that says a run diverged at ``step`` and which step size is stable."""
    try:
        limit = max_learning_rate(model, X)
    except (SingularKernelError, InvalidArgument):
        limit = float("nan")
    return DivergenceError(
        f"gradient descent diverged at step {step}: loss {loss:.3g} (initial {loss0:.3g}) "
        f"with lr={lr:g}; the linearised dynamics are stable only for lr < 2n/λ_max(K) = "
        f"{limit:.6g} (K: eNTK Gram at init on the n={X.shape[0]} training points); "
        f"use lr < {limit:.6g}")


def train(model: Model, X: Any, y: Any, *, lr: float, steps: int,
          checkpoints: Iterable[int] = (), ntk_at: Iterable[int] = (),
          X_eval: Any | None = None, linearized: bool = True) -> TrainingResult:
    """GD with the same ``lr`` and ``steps`` on ``model`` and on ``model.linearize()``.

    ``X`` (n, d), ``y`` (n,); ``checkpoints`` and ``ntk_at`` are step indices in
    ``0..steps`` (0 and ``steps`` are always kept); ``X_eval`` optional points
    where outputs are recorded at the checkpoints. ``linearized=False`` skips
    the linear model.

    >>> from ntkproof.nn.networks import TwoLayer
    >>> from ntkproof.rng import generator, unit_vectors
    >>> X = unit_vectors(generator(0), 8, 3); y = X[:, 0]
    >>> res = train(TwoLayer(3, 64, "tanh", seed=0), X, y, lr=1.0, steps=50)
    >>> bool(res.net.losses[-1] < res.net.losses[0])
    True
    """
    kw: dict[str, Any] = dict(lr=lr, steps=steps, checkpoints=tuple(checkpoints),
                              ntk_at=tuple(ntk_at), X_eval=X_eval)
    net = gradient_descent(model, X, y, **kw)
    lin = gradient_descent(model.linearize(), X, y, **kw) if linearized else None
    return TrainingResult(net, lin, float(lr), int(steps))
