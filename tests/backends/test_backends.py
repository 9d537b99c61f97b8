"""Backends: selection, errors, tolerance table, and one contract suite."""

from __future__ import annotations

import subprocess
import sys

import mpmath
import numpy as np
import pytest
import scipy.linalg

import ntkproof.backends as backends
from ntkproof.backends import TOLERANCES, get_backend, tolerance_for
from ntkproof.errors import (
    InvalidArgument,
    MissingDependency,
    ShapeError,
    SingularKernelError,
    UnknownName,
)
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
    before = mpmath.mp.dps
    with get_backend("mpmath:dps80").context():
        assert mpmath.mp.dps == 80
    assert mpmath.mp.dps == before


# -- linear algebra and the inverse trigonometric functions ---------------------------
# Every backend against numpy/scipy and against mpmath at 50 digits, on the same
# float64 inputs (asarray converts floats exactly, so the references see what the
# backend saw), each within the backend's rtol from the tolerance table.
_HAS_TORCH = __import__("importlib").util.find_spec("torch") is not None
LINALG_SPECS = ["numpy", "mpmath"] + [
    pytest.param(s, marks=pytest.mark.skipif(not _HAS_TORCH, reason="torch not installed"))
    for s in ("torch", "torch:float32")]
N = 6


def _hilbert_spd(n: int = N) -> np.ndarray:
    """Hilbert matrix plus I/2: SPD, condition number about 5 (fine for float32)."""
    i = np.arange(n)
    return 1.0 / (i[:, None] + i[None, :] + 1.0) + 0.5 * np.eye(n)


def _general(n: int = N) -> np.ndarray:
    """A non-symmetric, well-conditioned matrix (Hilbert-like, skew part added)."""
    i = np.arange(n)
    return _hilbert_spd(n) + np.eye(n) + (i[:, None] - i[None, :]) / (4.0 * n)


def _rhs(n: int = N) -> np.ndarray:
    return np.cos(np.arange(2 * n, dtype=float)).reshape(n, 2)


@pytest.fixture(scope="module")
def mp50():
    return get_backend("mpmath:dps50")


def _mp_ref(mp50, op, *args, **kw):
    """``op`` on the 50-digit backend, rounded to float64 (the reference value)."""
    with mp50.context():
        return mp50.to_numpy(getattr(mp50, op)(*(mp50.asarray(a) for a in args), **kw))


def _close(b, got, want, scale):
    """|got - want| <= rtol · scale entrywise (plus float64 rounding of the reference)."""
    err = np.max(np.abs(np.asarray(got, float) - want)) if np.size(want) else 0.0
    assert err <= b.tol.rtol * scale + 4 * 2.0**-52 * scale, (err, b.tol.rtol * scale)


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_cholesky_against_scipy_and_50_digits(spec, mp50):
    b, A = get_backend(spec), _hilbert_spd()
    with b.context():
        L = b.to_numpy(b.cholesky(b.asarray(A)))
    assert np.all(np.triu(L, 1) == 0)
    if spec == "numpy":  # the same LAPACK routine: bitwise
        assert np.array_equal(L, scipy.linalg.cholesky(A, lower=True))
    _close(b, L, scipy.linalg.cholesky(A, lower=True), scale=np.abs(A).max())
    _close(b, L, _mp_ref(mp50, "cholesky", A), scale=np.abs(A).max())


def test_mpmath_cholesky_reconstructs_at_50_digits(mp50):
    A = mp50.asarray(_hilbert_spd())
    with mp50.context():
        L = mp50.cholesky(A)
        residual = mp50.to_numpy(mp50.matmul(L, mp50.transpose(L)) - A)
    assert np.abs(residual).max() <= mp50.tol.rtol


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_cholesky_reads_the_lower_triangle(spec):
    b, A = get_backend(spec), _hilbert_spd()
    junk = A + np.triu(np.full(A.shape, 7.0), 1)          # upper triangle is not A's
    with b.context():
        L1, L2 = b.to_numpy(b.cholesky(b.asarray(A))), b.to_numpy(b.cholesky(b.asarray(junk)))
    assert np.array_equal(L1, L2)


@pytest.mark.parametrize("spec", LINALG_SPECS)
@pytest.mark.parametrize("vector", [False, True], ids=["matrix_rhs", "vector_rhs"])
def test_solve_residual_and_references(spec, vector, mp50):
    b, A = get_backend(spec), _general()
    B = _rhs()[:, 0] if vector else _rhs()
    with b.context():
        X = b.solve(b.asarray(A), b.asarray(B))
        assert tuple(X.shape) == B.shape
        # residual in the backend's own arithmetic, relative to the backend's rtol
        res = b.to_numpy(b.matmul(b.asarray(A), X) - b.asarray(B))
    Xn = b.to_numpy(X)
    scale = np.abs(A).max() * np.abs(Xn).max() + np.abs(B).max()
    assert np.abs(res).max() <= b.tol.rtol * scale
    cond = np.linalg.cond(A)
    _close(b, Xn, np.linalg.solve(A, B), scale=cond * np.abs(Xn).max())
    _close(b, Xn, _mp_ref(mp50, "solve", A, B), scale=cond * np.abs(Xn).max())


@pytest.mark.parametrize("spec", LINALG_SPECS)
@pytest.mark.parametrize("lower", [True, False], ids=["lower", "upper"])
@pytest.mark.parametrize("trans", [False, True], ids=["N", "T"])
def test_solve_triangular_all_four_forms(spec, lower, trans, mp50):
    b = get_backend(spec)
    L = np.linalg.cholesky(_hilbert_spd())
    T = L if lower else L.T.copy()
    for B in (_rhs(), _rhs()[:, 1]):
        with b.context():
            X = b.to_numpy(b.solve_triangular(b.asarray(T), b.asarray(B), lower=lower,
                                              trans=trans))
        ref = scipy.linalg.solve_triangular(T, B, lower=lower, trans="T" if trans else "N")
        assert X.shape == B.shape
        scale = np.linalg.cond(T) * np.abs(ref).max()
        if spec == "numpy":  # the same LAPACK routine as scipy: bitwise
            assert np.array_equal(X, ref)
        _close(b, X, ref, scale)
        _close(b, X, _mp_ref(mp50, "solve_triangular", T, B, lower=lower, trans=trans), scale)


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_eigvalsh_known_eigenvalues(spec, mp50):
    """tridiag(-1, 2, -1) of order n: λ_k = 2 - 2 cos(kπ/(n+1)), k = 1..n (ascending);
    the upper triangle holds junk, which must not be read."""
    b = get_backend(spec)
    n = 7
    T = 2 * np.eye(n) - np.eye(n, k=-1) + 5 * np.eye(n, k=1)
    with mpmath.workdps(50):
        exact = [2 - 2 * mpmath.cos(k * mpmath.pi / (n + 1)) for k in range(1, n + 1)]
    with b.context():
        lam = b.eigvalsh(b.asarray(T))
        err = b.to_numpy(lam - (np.array(exact, dtype=object) if b.name == "mpmath"
                                else b.asarray([float(v) for v in exact])))
    assert np.all(np.diff(b.to_numpy(lam)) > 0)
    assert np.abs(err).max() <= b.tol.rtol * 4
    _close(b, b.to_numpy(lam), np.linalg.eigvalsh(T), scale=4)
    _close(b, b.to_numpy(lam), _mp_ref(mp50, "eigvalsh", T), scale=4)


_SIN_POINTS = np.array([-1.0, -0.75, -0.5, -1e-9, 0.0, 1e-9, 0.3, 0.5, 0.99, 1.0])
# (y, x) in the four quadrants and on the four half-axes
_ATAN2_POINTS = np.array([(1.0, 1.0), (1.0, -2.0), (-3.0, -1.0), (-0.5, 2.0),
                          (0.0, 1.0), (1.0, 0.0), (0.0, -1.0), (-1.0, 0.0)])


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_arcsin_against_numpy_and_50_digits(spec, mp50):
    b = get_backend(spec)
    with b.context():
        got = b.to_numpy(b.arcsin(b.asarray(_SIN_POINTS)))
        past = b.to_numpy(b.arcsin(b.asarray(np.array([-1 - 1e-12, 1 + 1e-12]))))
    _close(b, got, np.arcsin(_SIN_POINTS), scale=np.pi / 2)
    _close(b, got, _mp_ref(mp50, "arcsin", _SIN_POINTS), scale=np.pi / 2)
    _close(b, past, [-np.pi / 2, np.pi / 2], scale=np.pi / 2)  # clipped, not NaN
    assert got[4] == 0.0


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_atan2_four_quadrants(spec, mp50):
    b = get_backend(spec)
    y, x = _ATAN2_POINTS[:, 0], _ATAN2_POINTS[:, 1]
    with b.context():
        got = b.to_numpy(b.atan2(b.asarray(y), b.asarray(x)))
    _close(b, got, np.arctan2(y, x), scale=np.pi)
    _close(b, got, _mp_ref(mp50, "atan2", y, x), scale=np.pi)
    assert np.array_equal(np.sign(got), [1, 1, -1, -1, 0, 1, 1, -1])


def test_mpmath_linear_algebra_keeps_its_digits_outside_context():
    """The linear algebra sets the backend's precision itself (workdps)."""
    b = get_backend("mpmath:dps50")
    A, B = _general(), _rhs()
    with mpmath.workdps(15):
        X = b.solve(b.asarray(A), b.asarray(B))
        L = b.cholesky(b.asarray(_hilbert_spd()))
    with b.context():
        res = b.to_numpy(b.matmul(b.asarray(A), X) - b.asarray(B))
        rec = b.to_numpy(b.matmul(L, b.transpose(L)) - b.asarray(_hilbert_spd()))
    assert np.abs(res).max() <= b.tol.rtol and np.abs(rec).max() <= b.tol.rtol


@pytest.mark.skipif(not _HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("spec", ["torch", "torch:float32"])
def test_torch_linear_algebra_keeps_dtype_and_device(spec):
    b = get_backend(spec)
    A, B = b.asarray(_hilbert_spd()), b.asarray(_rhs())
    outs = [b.cholesky(A), b.solve(A, B), b.solve_triangular(A, B), b.eigvalsh(A),
            b.arcsin(B / 2), b.atan2(B, B + 1)]
    assert {(o.dtype, o.device) for o in outs} == {(b.torch_dtype, b.device)}


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_cholesky_of_indefinite_and_singular_names_size_and_pivot(spec):
    b = get_backend(spec)
    indefinite = _hilbert_spd(4)
    indefinite[2, 2] = -1.0
    with b.context():
        with pytest.raises(SingularKernelError, match=r"4 x 4 matrix .*\(pivot 3 of 4, .* "
                                                      r"is -1\.103"):
            b.cholesky(b.asarray(indefinite))
        with pytest.raises(SingularKernelError,
                           match=r"3 x 3 matrix .*\(pivot 2 of 3, .* is 0\)"):
            b.cholesky(b.asarray(np.ones((3, 3))))
        with pytest.raises(SingularKernelError, match=r"pivot 1 of 2, .* is -2\b"):
            b.cholesky(b.asarray(np.array([[-2.0, 0.0], [0.0, 1.0]])))


@pytest.mark.parametrize("spec", LINALG_SPECS)
def test_singular_solves_raise(spec):
    b = get_backend(spec)
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    L = np.tril(np.ones((3, 3)))
    L[1, 1] = 0.0
    with b.context():
        with pytest.raises(SingularKernelError, match="3 x 3 matrix is .*singular"):
            b.solve(b.asarray(singular), b.asarray(np.ones(3)))
        with pytest.raises(SingularKernelError, match="diagonal entry 1 of 0..2 is zero"):
            b.solve_triangular(b.asarray(L), b.asarray(np.ones(3)))
        with pytest.raises(ShapeError, match=r"square \(n, n\) matrix, got shape \(2, 3\)"):
            b.cholesky(b.asarray(np.ones((2, 3))))
        with pytest.raises(ShapeError, match=r"shape \(3,\) or \(3, k\)"):
            b.solve(b.asarray(singular), b.asarray(np.ones(4)))


def test_the_run_backend_variable_never_changes_the_library_default(monkeypatch):
    """NTKPROOF_BACKEND picks a verification run's backend, as --ntk-backend does; a
    network a theorem file builds without backend= stays numpy either way (else the
    variable and the flag would run different code)."""
    from ntkproof.nn.networks import TwoLayer

    monkeypatch.setenv("NTKPROOF_BACKEND", "mpmath")
    assert get_backend().spec == "numpy:float64"
    assert TwoLayer(3, 4, seed=0).backend.spec == "numpy:float64"


@pytest.mark.skipif(not _HAS_TORCH, reason="torch not installed")
def test_a_device_this_torch_cannot_use_is_named_with_where_it_came_from(monkeypatch):
    import torch

    from ntkproof.backends.torch_backend import TorchBackend

    monkeypatch.setenv("NTKPROOF_DEVICE", "cude")
    with pytest.raises(InvalidArgument, match="NTKPROOF_DEVICE='cude' is not a torch device"):
        TorchBackend()
    with pytest.raises(InvalidArgument, match="device 'gpu' is not a torch device"):
        TorchBackend(device="gpu")
    monkeypatch.setenv("NTKPROOF_DEVICE", "cpu")
    assert TorchBackend().device == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv("NTKPROOF_DEVICE", "cuda")
        with pytest.raises(InvalidArgument, match="asks for CUDA, but this torch .* sees no"):
            TorchBackend()
    else:
        with pytest.raises(InvalidArgument, match="CUDA device.s. are visible"):
            TorchBackend(device=f"cuda:{torch.cuda.device_count()}")
