"""The baseline a PyTorch user would write: the PyTorch NTK tutorial's method 1.

``vmap(jacrev(fnet_single))`` gives per-example Jacobians of J(x1) and J(x2)
(computed separately, as in the tutorial, even when x1 = x2), then
``einsum('Naf,Mbf->NMab')`` per parameter tensor, summed (pytorch/tutorials,
``intermediate_source/neural_tangent_kernels.py``). Written here from the
tutorial's description; the networks are torch modules with the same
parameterisation as ntkproof's.
"""

from __future__ import annotations

import math

import numpy as np


def torch_modules():
    import torch
    from torch import nn

    class TwoLayerModule(nn.Module):
        def __init__(self, W, a, act):
            super().__init__()
            self.W = nn.Parameter(torch.as_tensor(np.asarray(W)))
            self.a = nn.Parameter(torch.as_tensor(np.asarray(a)))
            self.act = act

        def forward(self, x):
            return (self.act(x @ self.W.T) @ self.a / math.sqrt(self.W.shape[0]))[:, None]

    class MLPModule(nn.Module):
        def __init__(self, params, depth, W_std, b_std, act):
            super().__init__()
            self.ps = nn.ParameterDict(
                {k: nn.Parameter(torch.as_tensor(np.asarray(v))) for k, v in params.items()})
            self.depth, self.W_std, self.b_std, self.act = depth, W_std, b_std, act

        def forward(self, x):
            h = x
            for layer in range(1, self.depth + 2):
                W = self.ps[f"W{layer}"]
                z = self.W_std / math.sqrt(W.shape[0]) * (h @ W) + self.b_std * self.ps[f"b{layer}"]
                h = self.act(z) if layer <= self.depth else z
            return z

    return TwoLayerModule, MLPModule


def tutorial_jacobians(module, x):
    """Per-example Jacobians, flattened to (N, O, P_l) per parameter tensor."""
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in module.named_parameters()}

    def fnet_single(p, x):
        return functional_call(module, p, (x.unsqueeze(0),)).squeeze(0)

    jac = vmap(jacrev(fnet_single), (None, 0))(params, x)
    return [j.flatten(2) for j in jac.values()]


def tutorial_contract(jac1, jac2):
    """``Σ_l einsum('Naf,Mbf->NMab', J1_l, J2_l)``; returns the (N, M) Gram (O = 1)."""
    import torch

    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2)
                          for j1, j2 in zip(jac1, jac2, strict=True)])
    return result.sum(0)[:, :, 0, 0]


def tutorial_ntk(module, x1, x2):
    """Method 1 of the tutorial: Jacobian contraction, J(x1) and J(x2) separately."""
    return tutorial_contract(tutorial_jacobians(module, x1), tutorial_jacobians(module, x2))
