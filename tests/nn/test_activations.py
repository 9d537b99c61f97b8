"""The activation catalogue: numeric derivatives agree with sympy's."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from ntkproof.backends import get_backend
from ntkproof.errors import UnknownName
from ntkproof.nn.activations import ACTIVATIONS, get_activation


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numeric_derivatives_match_symbolic(name):
    act = get_activation(name)
    b = get_backend("mpmath")
    pts = [-3.3, -0.7, 0.4, 1.1, 2.9]
    with b.context():
        for k, fn in enumerate((act.f, act.df, act.d2f)):
            # away from 0, ReLU's DiracDelta terms vanish; evaluate them as 0
            sym = act.derivative_expr(k).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
            expr = sp.lambdify(act.z, sym, [{"Heaviside": lambda v, h=0: 1 if v > 0 else 0},
                                            "mpmath"])
            for x in pts:
                got = fn(b, b.scalar(x))
                want = expr(b.scalar(x))
                assert abs(got - want) <= 1e-40 * max(1, abs(want)), (name, k, x)


def test_unknown_activation_lists_the_catalogue():
    with pytest.raises(UnknownName, match="unknown activation 'swish2'; expected one of: erf"):
        get_activation("swish2")


def test_softplus_does_not_overflow():
    b = get_backend("numpy")
    x = np.array([-800.0, 800.0])
    assert np.all(np.isfinite(get_activation("softplus").f(b, x)))
