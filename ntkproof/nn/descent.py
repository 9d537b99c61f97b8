r"""Full-batch gradient descent on any model, with a choice of loss and weight decay.

:mod:`ntkproof.nn.training` runs GD on the squared loss from ``model.params0``, in
lockstep with the linearised model (the NTK regime). The separation theorems
need the *other* regime as well: a network started from a small initialisation,
trained on the logistic loss with weight decay, far from its linearisation.
:func:`minimize_loss` is that loop, written once against the model interface
(``apply``, ``vjp``) so it runs on every model and backend::

    L(θ) = (1/n) Σ_i ℓ(f(x_i; θ), y_i) + (λ/2) Σ_{trained} ||θ||²,
    θ_{k+1} = θ_k - lr ∇L(θ_k)

with ``ℓ`` one of :data:`LOSSES`:

* ``"mse"``: ``ℓ(f, y) = ½ (f - y)²``, ``∂ℓ/∂f = f - y`` (the convention of
  :mod:`ntkproof.nn.training`; with ``weight_decay=0`` and ``params=None`` the two
  loops take the same steps);
* ``"logistic"``: ``ℓ(f, y) = log(1 + exp(-y f))`` for labels ``y ∈ {±1}``,
  ``∂ℓ/∂f = -y σ(-y f)``.

Only the names in ``model.trained`` move (and only they are decayed). ``params``
starts the descent somewhere other than ``model.params0``, e.g. at a small
initialisation ``{k: 0.1 * v for k, v in model.params0.items()}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DivergenceError, InvalidArgument
from ._validate import check_targets, non_negative_int, real_number, step_indices
from .networks import Model, Params, check_inputs, check_model

__all__ = ["LOSSES", "Descent", "minimize_loss", "loss_value"]

#: Loss names accepted by :func:`minimize_loss`.
LOSSES = ("mse", "logistic")


@dataclass
class Descent:
    """One descent run: ``losses[k] = L(θ_k)`` (penalty included) for k = 0..steps,
    the final parameters, and the parameters at the requested checkpoints."""

    params: Params
    losses: np.ndarray
    checkpoints: dict[int, Params] = field(default_factory=dict)


def _loss_and_slope(b: Any, loss: str, f: Any, y: Any) -> tuple[float, Any]:
    """``(1/n) Σ ℓ(f_i, y_i)`` as a float and ``∂ℓ/∂f`` (backend array, (n,))."""
    if loss == "mse":
        r = f - y
        return float(0.5 * np.mean(b.to_numpy(r) ** 2)), r
    margin = y * f
    # log(1 + e^{-z}) = max(-z, 0) + log1p(e^{-|z|}), stable for either sign of z
    mz = np.asarray(b.to_numpy(margin), dtype=float)
    value = float(np.mean(np.maximum(-mz, 0.0) + np.log1p(np.exp(-np.abs(mz)))))
    return value, -y * b.sigmoid(-margin)


def _penalty(b: Any, params: Params, names: Iterable[str], weight_decay: float) -> float:
    if weight_decay == 0:
        return 0.0
    return 0.5 * weight_decay * float(sum(np.sum(b.to_numpy(params[k]) ** 2) for k in names))


def loss_value(model: Model, params: Params, X: Any, y: Any, *, loss: str = "mse",
               weight_decay: float = 0.0) -> float:
    """``L(θ)`` of the module docstring at ``params``, as a Python float."""
    Xb, yb = _validate(model, X, y, loss, 1.0, 0, weight_decay)
    model._check_params(params)
    b = model.backend
    value, _ = _loss_and_slope(b, loss, model.apply(params, Xb), yb)
    return value + _penalty(b, params, model.trained, weight_decay)


def _validate(model: Model, X: Any, y: Any, loss: str, lr: float, steps: int,
              weight_decay: float) -> tuple[Any, Any]:
    if not isinstance(loss, str) or loss not in LOSSES:
        raise InvalidArgument(f"loss must be one of {LOSSES}, got {loss!r}")
    check_model(model)
    b = model.backend
    Xb = check_inputs(X, model.d, b)
    y_np = check_targets(y, Xb, b)
    if loss == "logistic" and not np.all(np.abs(y_np) == 1):
        raise InvalidArgument("the logistic loss needs labels in {-1, +1}; got values "
                              f"{sorted(set(np.unique(y_np).tolist()))[:5]}; map them to ±1")
    real_number("lr", lr, positive=True)
    non_negative_int("steps", steps)
    real_number("weight_decay", weight_decay, non_negative=True)
    return Xb, b.asarray(y_np.reshape(Xb.shape[0]))


def minimize_loss(model: Model, X: Any, y: Any, *, lr: float, steps: int, loss: str = "mse",
                  weight_decay: float = 0.0, params: Params | None = None,
                  checkpoints: Iterable[int] = ()) -> Descent:
    """Run ``steps`` full-batch GD steps on ``L`` (module docstring) from ``params``.

    Parameters
    ----------
    model : a network of :mod:`ntkproof.nn.networks` (or its linearisation).
    X : (n, d) inputs;  y : (n,) targets (±1 labels for ``loss="logistic"``).
    lr : step size > 0;  steps : number of steps >= 0.
    loss : ``"mse"`` or ``"logistic"``;  weight_decay : λ >= 0.
    params : starting parameters (default ``model.params0``); every name of
        ``model.params0`` must be present.
    checkpoints : step indices at which to keep the parameters (0..steps).

    Returns
    -------
    Descent with ``params`` (after the last step), ``losses`` (steps + 1,) and
    ``checkpoints`` {step: params}.

    Raises DivergenceError when the loss becomes NaN/inf.

    >>> from ntkproof.nn.networks import TwoLayer
    >>> from ntkproof.rng import generator, unit_vectors
    >>> X = unit_vectors(generator(0), 16, 3); y = np.sign(X[:, 0])
    >>> run = minimize_loss(TwoLayer(3, 32, seed=0), X, y, lr=1.0, steps=100, loss="logistic")
    >>> bool(run.losses[-1] < run.losses[0])
    True
    """
    Xb, yb = _validate(model, X, y, loss, lr, steps, weight_decay)
    b, n, steps = model.backend, Xb.shape[0], int(steps)
    if params is not None:
        model._check_params(params)
    params = dict(model.params0 if params is None else params)
    keep = set(step_indices("checkpoints", checkpoints, steps))
    losses, stored = np.empty(int(steps) + 1), {}
    lr_b, wd_b, inv_n = b.scalar(lr), b.scalar(weight_decay), 1 / b.scalar(n)
    for k in range(int(steps) + 1):
        value, slope = _loss_and_slope(b, loss, model.apply(params, Xb), yb)
        losses[k] = value + _penalty(b, params, model.trained, weight_decay)
        if not np.isfinite(losses[k]):
            raise DivergenceError(f"gradient descent diverged at step {k} (loss {losses[k]}) "
                                  f"with lr={lr:g}; lower the step size")
        if k in keep:
            stored[k] = dict(params)
        if k == steps:
            break
        g = model.vjp(params, Xb, slope * inv_n)
        params = {name: (p - lr_b * (g[name] + wd_b * p)) if name in g else p
                  for name, p in params.items()}
    return Descent(params, losses, stored)
