"""Data sets: shapes, the sphere, seeds, label encodings, and the missing-extra error."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from ntkproof.errors import InvalidArgument, MissingDependency
from ntkproof.nn import data


def _on_sphere(x):
    return np.allclose(np.linalg.norm(x, axis=1), 1.0, rtol=0, atol=1e-14)


@pytest.mark.parametrize("make", [
    lambda seed: data.sphere_teacher(20, 5, 4, seed=seed),
    lambda seed: data.hypercube_parity(20, 5, 6, 3, seed=seed),
    lambda seed: data.single_neuron(20, 5, 4, seed=seed),
])
def test_synthetic_sets_are_seeded(make):
    a, b, c = make(1), make(1), make(2)
    assert a.x_train.shape[0] == 20 and a.x_test.shape[0] == 5 and a.y_train.shape == (20,)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert "seed=1" in repr(a)


def test_sphere_and_parity_geometry():
    assert _on_sphere(data.uniform_sphere(50, 7, seed=0))
    ds = data.sphere_teacher(30, 10, 5, seed=3)
    assert _on_sphere(ds.x_train) and _on_sphere(ds.x_test)
    par = data.hypercube_parity(40, 0, 9, 2, seed=4)
    assert _on_sphere(par.x_train)
    assert np.array_equal(par.y_train, np.sign(par.x_train[:, 0]) * np.sign(par.x_train[:, 1]))


def test_single_neuron_target_is_a_relu_of_a_unit_direction():
    ds = data.single_neuron(200, 0, 6, seed=5)
    # recover w* from the positive part by least squares; it must be a unit vector
    pos = ds.y_train > 0
    w, *_ = np.linalg.lstsq(ds.x_train[pos], ds.y_train[pos], rcond=None)
    assert abs(np.linalg.norm(w) - 1) < 1e-12
    assert np.allclose(ds.y_train, np.maximum(ds.x_train @ w, 0), atol=1e-12)


def test_digits_encodings():
    pytest.importorskip("sklearn")
    full = data.digits(300, n_test=100, seed=0)
    assert full.x_train.shape == (300, 64) and full.y_train.shape == (300, 10)
    assert _on_sphere(full.x_train)
    assert np.allclose(full.y_train.sum(1), 0.0, atol=1e-14)
    assert np.all(np.isclose(full.y_train.max(1), 0.9))
    pair = data.digits(100, seed=1, classes=(3, 8))
    assert set(np.unique(pair.y_train)) == {-1.0, 1.0}
    assert pair.x_test.shape[0] == pair.y_test.shape[0] > 0
    with pytest.raises(InvalidArgument, match="exceeds"):
        data.digits(400, seed=0, classes=(0, 1))


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("no sklearn")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(MissingDependency, match=r"ntkproof\[data\]"):
        data.digits(10, seed=0)


def test_invalid_sizes():
    with pytest.raises(InvalidArgument, match="k must satisfy"):
        data.hypercube_parity(5, 5, 3, 4, seed=0)
    with pytest.raises(InvalidArgument, match="n_train"):
        data.sphere_teacher(-1, 5, 3, seed=0)
