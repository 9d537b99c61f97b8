"""NTK look-ahead (ntkproof.theory.lookahead) and the active-learning loop (ntkproof.theory.active_learning).

Independent routes: the bordered update against a fresh (n+1)-solve per candidate
(eq. (11)), MLMOC scores against the norm of those predictions, the bordered
Cholesky factor against a fresh one, on numpy, torch and mpmath.
"""

from __future__ import annotations

import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import InvalidArgument, ShapeError, SingularKernelError
from ntkproof.nn.training import gradient_descent, max_learning_rate
from ntkproof.rng import generator, unit_vectors
from ntkproof.theory.active_learning import ALConfig, Heads, active_learning_curve, one_blas_thread
from ntkproof.theory.lookahead import (
    KernelFactor,
    LookAhead,
    full_solve,
    mlmoc_scores,
    most_likely_label,
    top_k,
)


def _problem(seed, n=7, p=4, q=5, C=3, rank=None):
    """A random SPD kernel on train ∪ candidates ∪ eval, outputs and labels."""
    rng = generator(seed)
    N = n + p + q
    phi = rng.standard_normal((N, rank or N + 3))
    K = phi @ phi.T / phi.shape[1]
    f = rng.standard_normal((N, C))
    y = rng.standard_normal((n + p, C))
    return K, f, y, (slice(0, n), slice(n, n + p), slice(n + p, N))


def _reference(K, f, y, parts, ridge=0.0, backend="numpy"):
    tr, ca, ev = parts
    n, p = tr.stop, ca.stop - ca.start
    out = []
    for j in range(p):
        idx = list(range(n)) + [n + j]
        out.append(np.asarray(get_backend(backend).to_numpy(full_solve(
            K[np.ix_(idx, idx)], f[idx], y[idx], K[ev][:, idx], f[ev], ridge=ridge,
            backend=backend))))
    return np.stack(out)


@pytest.mark.parametrize("backend", ["numpy", "torch", "mpmath"])
@pytest.mark.parametrize("C", [1, 3])
def test_bordered_update_equals_full_solve(backend, C):
    if backend == "torch":
        pytest.importorskip("torch")
    K, f, y, parts = _problem(1, C=C)
    tr, ca, ev = parts
    b = get_backend(backend)
    with b.context():
        la = LookAhead(K[tr, tr], f[tr], y[tr], backend=b)
        bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca], y[ca])
        got = b.to_numpy(la.predict(bo, K[ev, tr], K[ev, ca], f[ev]))
        ref = _reference(K, f, y, parts, backend=backend)
    assert got.shape == (4, 5, C)
    assert np.max(np.abs(got - ref)) <= 1e-10 * np.max(np.abs(ref))


def test_one_output_shapes_and_ridge():
    K, f, y, parts = _problem(2, C=1)
    tr, ca, ev = parts
    f1, y1 = f[:, 0], y[:, 0]
    la = LookAhead(K[tr, tr], f1[tr], y1[tr], ridge=0.3)
    bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f1[ca], y1[ca])
    got = la.predict(bo, K[ev, tr], K[ev, ca], f1[ev])
    assert got.shape == (4, 5)
    ref = _reference(K, f, y, parts, ridge=0.3)[:, :, 0]
    assert np.allclose(got, ref, rtol=0, atol=1e-12)


def test_interpolating_model_reduces_to_printed_special_case():
    """r = 0: f_{L+}(x) = f_L(x) + (Θ(x,x') − Θ(x,𝒳)v)(y' − f_L(x'))/u, eq. (12) of
    Mohamadi et al. 2022 for an f_L that interpolates L."""
    K, f, y, (tr, ca, ev) = _problem(3, C=1)
    la = LookAhead(K[tr, tr], f[tr, 0], f[tr, 0])
    bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca, 0], y[ca, 0])
    got = la.predict(bo, K[ev, tr], K[ev, ca], f[ev, 0])
    V = np.linalg.solve(K[tr, tr], K[tr, ca])
    u = np.diag(K)[ca] - np.sum(K[tr, ca] * V, axis=0)
    want = f[ev, 0][None, :] + ((K[ev, ca] - K[ev, tr] @ V) * (y[ca, 0] - f[ca, 0]) / u).T
    assert np.allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_mlmoc_scores_equal_norms_of_the_change(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    K, f, y, parts = _problem(4, C=3)
    tr, ca, ev = parts
    b = get_backend(backend)
    la = LookAhead(K[tr, tr], f[tr], y[tr], backend=b)
    y_ml = most_likely_label(f[ca])
    bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca], y_ml)
    got = b.to_numpy(mlmoc_scores(la, bo, K[ev, tr], K[ev, ca]))
    pred = b.to_numpy(la.predict(bo, K[ev, tr], K[ev, ca], f[ev]))
    want = np.linalg.norm(pred - f[ev][None], axis=2).sum(axis=1)
    assert np.allclose(got, want, rtol=1e-10)


def test_most_likely_label_and_top_k():
    assert most_likely_label(np.array([0.2, -1.0])).tolist() == [1.0, -1.0]
    code = most_likely_label(np.array([[0.1, 0.7, 0.2, 0.0]]))
    assert np.allclose(code, [[-0.25, 0.75, -0.25, -0.25]])
    assert top_k([1.0, 3.0, 2.0, 3.0], 2).tolist() == [1, 3]
    assert top_k([1.0, 3.0, 2.0], 1, exclude=[1]).tolist() == [2]
    with pytest.raises(InvalidArgument, match="k must be"):
        top_k([1.0, 2.0], 3)


@pytest.mark.parametrize("backend", ["numpy", "torch", "mpmath"])
def test_sequential_add_equals_full_solve(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    K, f, y, (tr, ca, ev) = _problem(5, C=2)
    b = get_backend(backend)
    n = tr.stop
    with b.context():
        la = LookAhead(K[tr, tr], f[tr], y[tr], backend=b, ridge=0.01)
        for j in range(3):                                   # add three candidates in turn
            m = n + j
            la = la.add(K[m, :m], K[m, m], f[m], y[m])
        got = b.to_numpy(b.matmul(b.asarray(K[ev, : n + 3]), la.alpha)) + f[ev]
        ref = b.to_numpy(full_solve(K[: n + 3, : n + 3], f[: n + 3], y[: n + 3],
                                    K[ev, : n + 3], f[ev], ridge=0.01, backend=b))
        fresh = KernelFactor(K[: n + 3, : n + 3], ridge=0.01, backend=b)
        assert np.allclose(b.to_numpy(la.factor.L), b.to_numpy(fresh.L), atol=1e-12)
    assert np.allclose(got, ref, atol=1e-11)


def test_singular_kernel_names_smallest_eigenvalue_and_ridge():
    K, f, y, (tr, ca, ev) = _problem(6, rank=3)                  # rank 3 < n = 7
    with pytest.raises(SingularKernelError, match=r"smallest eigenvalue .*ridge="):
        LookAhead(K[tr, tr], f[tr], y[tr])
    la = LookAhead(K[tr, tr], f[tr], y[tr], ridge=1e-3)        # the suggested fix works
    assert la.n == 7
    with pytest.raises(SingularKernelError, match="Schur complement"):
        LookAhead(K[:3, :3], f[:3], y[:3]).border(K[:1, :3], np.diag(K)[:1].copy(), f[:1],
                                                   y[:1])   # a labelled point again
    with pytest.raises(SingularKernelError, match="not positive definite"):
        KernelFactor(-np.eye(3))


@pytest.mark.parametrize("backend", ["numpy", "torch", "mpmath"])
def test_indefinite_kernel_on_every_backend_keeps_the_pivot(backend):
    """The backend's Cholesky (Backend.cholesky) fails; the look-ahead's message names
    the eigenvalues, and the backend's error (size, pivot) is its cause."""
    if backend == "torch":
        pytest.importorskip("torch")
    A = np.diag([2.0, 1.0, -0.5])
    with pytest.raises(SingularKernelError, match=r"smallest eigenvalue -0\.5, largest 2 "
                                                  r"\(n = 3\)") as info:
        KernelFactor(A, backend=backend)
    assert isinstance(info.value.__cause__, SingularKernelError)
    assert "3 x 3 matrix" in str(info.value.__cause__)
    assert "pivot 3 of 3" in str(info.value.__cause__)


def test_shape_errors():
    K, f, y, (tr, ca, ev) = _problem(7)
    with pytest.raises(ShapeError, match="square"):
        LookAhead(K[:3, :4], f[:3], y[:3])
    with pytest.raises(ShapeError, match="f_train"):
        LookAhead(K[tr, tr], f[:3], y[tr])
    la = LookAhead(K[tr, tr], f[tr], y[tr])
    with pytest.raises(ShapeError, match="k_cand_train"):
        la.border(K[ca, :3], np.diag(K)[ca].copy(), f[ca], y[ca])
    with pytest.raises(ShapeError, match="k_cand_diag"):
        la.border(K[ca, tr], np.diag(K)[:2].copy(), f[ca], y[ca])
    with pytest.raises(ShapeError, match="output column"):
        la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca, :1], y[ca, :1])
    bo = la.border(K[ca, tr], np.diag(K)[ca].copy(), f[ca], y[ca])
    with pytest.raises(ShapeError, match="k_eval_cand"):
        la.predict(bo, K[ev, tr], K[ev, :2], f[ev])


def test_active_learning_curve_is_replayable_and_sized():
    cfg = ALConfig(classes=(3, 8), n_init=6, n_pool=30, n_test=40, rounds=2, query=3,
                   width=16, steps=30)
    for method in ("mlmoc", "mlmoc_sequential", "entropy", "random"):
        c1 = active_learning_curve(method, seed=3, config=cfg)
        assert c1.labelled == [6, 9, 12]
        assert all(0.0 <= a <= 1.0 for a in c1.accuracy)
        assert len(c1.train_loss_ratio) == 3
        assert c1.mean_error == pytest.approx(1 - (c1.accuracy[1] + c1.accuracy[2]) / 2)
        assert c1.final_error == pytest.approx(1 - c1.accuracy[2])
        assert all(0.0 <= r < 1.0 for r in c1.train_loss_ratio)    # every training helped
        again = active_learning_curve(method, seed=3, config=cfg)
        assert again.accuracy == c1.accuracy
        assert again.train_loss_ratio == c1.train_loss_ratio
    with pytest.raises(InvalidArgument, match="method"):
        active_learning_curve("bald", seed=0, config=cfg)
    no_query = active_learning_curve("random", seed=3, config=ALConfig(
        classes=(3, 8), n_init=6, n_pool=30, n_test=40, rounds=0, query=3, width=16, steps=30))
    with pytest.raises(InvalidArgument, match="at least one query round"):
        _ = no_query.mean_error


def test_heads_record_the_worst_training_loss_ratio():
    """Heads.fit keeps the largest final/initial loss over the heads: the ratio of the
    trajectories it trained, recomputed here from the heads' own predictions."""
    rng = generator(8)
    X = unit_vectors(rng, 10, 5)
    Y = rng.standard_normal((10, 3))
    heads = Heads(5, 32, 3, activation="relu", seed=2)
    assert np.isnan(heads.loss_ratio)
    before = np.mean((heads.predict(X) - Y) ** 2, axis=0)
    heads.fit(X, Y, steps=200, lr_fraction=0.5)
    after = np.mean((heads.predict(X) - Y) ** 2, axis=0)
    assert heads.loss_ratio == pytest.approx(float(np.max(after / before)), rel=1e-9)
    assert heads.loss_ratio < 0.5


def test_one_blas_thread_limits_blas_and_restores_it():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p["user_api"] == "blas"]
    with one_blas_thread():
        inside = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                  if p["user_api"] == "blas"]
        assert all(n == 1 for n in inside)
        assert np.allclose(np.eye(3) @ np.ones(3), 1.0)
    after = [p["num_threads"] for p in threadpoolctl.threadpool_info()
             if p["user_api"] == "blas"]
    assert after == before


def test_heads_fit_equals_the_library_gd_per_head():
    """The stacked GD of Heads.fit against gradient_descent on each head alone."""
    rng = generator(9)
    X = unit_vectors(rng, 12, 6)
    Y = rng.standard_normal((12, 3))
    for activation in ("relu", "tanh"):
        heads = Heads(6, 16, 3, activation=activation, seed=4).fit(X, Y, steps=150,
                                                                   lr_fraction=0.5)
        lr = 0.5 * max_learning_rate(heads.nets[0], X)
        for c, net in enumerate(heads.nets):
            run = gradient_descent(net, X, Y[:, c], lr=lr, steps=150)
            for key in ("W", "a"):
                assert np.allclose(heads.params[c][key], run.final_params[key], rtol=0,
                                   atol=1e-12)
        ratios = [run.losses[-1] / run.losses[0] for run in
                  (gradient_descent(net, X, Y[:, c], lr=lr, steps=150)
                   for c, net in enumerate(heads.nets))]
        assert heads.loss_ratio == pytest.approx(max(ratios), rel=1e-9)
