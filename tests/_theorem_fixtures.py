"""Small theorem files used by the plugin and CLI tests (written by pytester)."""

TAYLOR_LIKE = '''
"""A tiny theorem file for the plugin tests."""
import pytest
from ntkproof import Box, claim, get_activation

BETA_TANH = 0.7698003589195010  # 4/(3*sqrt(3))

def evaluate_for(beta):
    a = get_activation("tanh")
    def evaluate(b, r, s):
        rem = a.f(b, r) - a.f(b, s) - a.df(b, s) * (r - s)
        scale = b.abs(a.f(b, r)) + b.abs(a.f(b, s)) + b.abs(a.df(b, s) * (r - s))
        return b.abs(rem), beta / 2 * (r - s) ** 2, scale
    return evaluate

@claim("mini.tanh", kind="bound", title="Taylor bound for tanh",
       statement=r"|R| \\\\le \\\\tfrac{\\\\beta}{2}(r-s)^2", source="test", known_sup=1.0)
def test_mini(ntk):
    ntk.bound(evaluate_for(BETA_TANH), Box(r=(-4, 4), s=(-4, 4)), n=64, restarts=2)

@claim("mini.twin_small_constant", kind="bound", title="twin: 0.9 beta",
       statement="x", source="test", twin_of="mini.tanh")
def test_twin(ntk):
    ntk.bound(evaluate_for(0.9 * BETA_TANH), Box(r=(-4, 4), s=(-4, 4)), n=64, restarts=2)
'''

FALSE_CLAIM = '''
from ntkproof import Box, claim

@claim("bad.square_le_x", kind="bound", title="x^2 <= x on [0, 2]", statement="x^2 \\\\le x",
       source="test")
def test_bad(ntk):
    ntk.bound(lambda b, x: (x * x, x), Box(x=(0.0, 2.0)), n=32)
'''

BROKEN = '''
import math
from ntkproof import Box, claim, get_activation

@claim("broken.nan", kind="bound", title="nan", statement="x", source="test")
def test_nan(ntk):
    ntk.bound(lambda b, x: (x * math.nan, x), Box(x=(0.0, 1.0)), n=4, search=False)

@claim("broken.empty", kind="identity", title="empty", statement="x", source="test")
def test_empty(ntk):
    pass

@claim("broken.activation", kind="identity", title="unknown activation", statement="x",
       source="test")
def test_unknown_activation(ntk):
    get_activation("swishy")

@claim("broken.inconclusive", kind="rate", title="noisy rate", statement="x", source="test")
def test_inconclusive(ntk):
    import numpy as np
    rng = np.random.default_rng(0)
    ntk.rate(lambda m, s: float(np.exp(rng.normal(0, 2.0))), [16, 32, 64, 256],
             claimed=-0.5, slack=0.05, seeds=3)
'''
