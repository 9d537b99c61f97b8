"""Backends: selection, errors, tolerance table, and one contract suite."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ntkproof.backends import TOLERANCES, get_backend, tolerance_for
from ntkproof.errors import InvalidArgument, MissingDependency, UnknownName
from ntkproof.nn.activations import ACTIVATIONS, get_activation

SPECS = ["numpy", "mpmath"] + (["torch", "torch:float32"] if
                               __import__("importlib").util.find_spec("torch") else [])


def test_unknown_backend_names_the_choices():
    with pytest.raises(UnknownName, match="unknown backend 'jax'; expected one of: mpmath, "
                                          "numpy, torch"):
        get_backend("jax")


def test_bad_dtype_is_explained():
    with pytest.raises(InvalidArgument, match="float64 only"):
        get_backend("numpy:float32")
    with pytest.raises(InvalidArgument, match="dps<digits>"):
        get_backend("mpmath:lots")


def test_missing_torch_names_the_extra(monkeypatch):
    import ntkproof.backends as backends

    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "ntkproof.backends.torch_backend", raising=False)
    monkeypatch.setattr(backends, "_CACHE", {})
    with pytest.raises(MissingDependency, match=r"pip install 'ntkproof\[torch\]'"):
        get_backend("torch")


def test_import_ntkproof_imports_neither_torch_nor_matplotlib():
    code = ("import sys, ntkproof; "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_tolerances_are_data_with_reasons():
    for (name, dtype), tol in TOLERANCES.items():
        assert tol.reason and tol.rtol > 100 * tol.eps
        assert tolerance_for(name, dtype) is tol
    assert tolerance_for("mpmath", "dps50").rtol == pytest.approx(1e-40)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_contract_same_inputs_same_outputs(spec, name):
    """Every backend computes σ, σ', σ'' like numpy, within its own tolerance."""
    b, ref = get_backend(spec), get_backend("numpy")
    act = get_activation(name)
    x = np.linspace(-5, 5, 11) + 0.0123
    for fn in (act.f, act.df, act.d2f):
        want = fn(ref, x)
        with b.context():
            got = b.to_numpy(fn(b, b.asarray(x)))
        scale = np.maximum(np.abs(want), 1.0)
        assert np.all(np.abs(got - want) <= 10 * b.tol.rtol * scale + 1e-15)


@pytest.mark.parametrize("spec", SPECS)
def test_matmul_sum_where(spec):
    b = get_backend(spec)
    a = np.arange(6.0).reshape(2, 3) / 7
    with b.context():
        A = b.asarray(a)
        prod = b.to_numpy(b.matmul(A, b.transpose(A)))
        total = b.to_float(b.sum(A))
        picked = b.to_numpy(b.where(a > 0.3, A, 0 * A))
    assert np.allclose(prod, a @ a.T, rtol=10 * b.tol.rtol)
    assert total == pytest.approx(a.sum(), rel=10 * b.tol.rtol)
    assert np.allclose(picked, np.where(a > 0.3, a, 0))


def test_mpmath_context_restores_precision():
    import mpmath

    before = mpmath.mp.dps
    with get_backend("mpmath:dps80").context():
        assert mpmath.mp.dps == 80
    assert mpmath.mp.dps == before
