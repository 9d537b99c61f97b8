"""Independent torch implementations of the networks, for autograd cross-checks.

Written directly in torch (not through the Backend interface), so a mistake in
ntkproof's closed-form gradients cannot be copied into the reference. Gradients
and Jacobians come from ``torch.func``.
"""

from __future__ import annotations

import math

import numpy as np

TORCH_ACT = {"relu": "relu", "tanh": "tanh", "erf": "erf", "sigmoid": "sigmoid"}


def torch_act(name):
    import torch

    return getattr(torch, TORCH_ACT[name])


def two_layer_fn(act_name):
    """``(params, X) -> m^{-1/2} σ(X Wᵀ) a``."""
    act = torch_act(act_name)

    def f(params, X):
        m = params["W"].shape[0]
        return act(X @ params["W"].T) @ params["a"] / math.sqrt(m)

    return f


def mlp_fn(act_name, depth, W_std, b_std):
    """``stax``-style Dense/activation stack with NTK parameterisation."""
    act = torch_act(act_name)
    W_std = W_std if isinstance(W_std, (list, tuple)) else [W_std] * (depth + 1)

    def f(params, X):
        h = X
        for layer in range(1, depth + 2):
            W = params[f"W{layer}"]
            z = W_std[layer - 1] / math.sqrt(W.shape[0]) * (h @ W) + b_std * params[f"b{layer}"]
            h = act(z) if layer <= depth else z
        return z[:, 0]

    return f


def to_torch(params, names=None):
    import torch

    names = names or list(params)
    return {k: torch.as_tensor(np.asarray(params[k], dtype=np.float64)) for k in names}


def autograd_jacobians(fn, params, X, trained):
    """Per-example Jacobians ``{name: (n, *shape)}`` of ``fn`` w.r.t. ``trained``."""
    import torch
    from torch.func import jacrev

    Xt = torch.as_tensor(np.asarray(X, dtype=np.float64))
    fixed = {k: v for k, v in params.items() if k not in trained}

    def g(p):
        return fn({**fixed, **p}, Xt)

    return {k: v.numpy() for k, v in jacrev(g)({k: params[k] for k in trained}).items()}


def autograd_ntk(fn, params, X1, X2, trained):
    """``Σ_name J1 J2ᵀ`` from autograd Jacobians (the Jacobian-contraction reference)."""
    J1 = autograd_jacobians(fn, params, X1, trained)
    J2 = autograd_jacobians(fn, params, X2, trained)
    n1, n2 = np.shape(X1)[0], np.shape(X2)[0]
    return sum(J1[k].reshape(n1, -1) @ J2[k].reshape(n2, -1).T for k in trained)


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
