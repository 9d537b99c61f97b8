"""Training batched across seeds: the same trajectories as the per-seed ``train`` loop
(numpy and torch, float64 to 1e-12 relative and float32 to its tolerance; two-layer
and MLP of depth 2 and 3, every choice of trained names; checkpoints, eNTK Grams and
outputs), divergence named per seed, chunking, the mpmath and other-model fallback,
and input validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ntkproof.backends import get_backend
from ntkproof.errors import DivergenceError, InvalidArgument, NonFiniteError, ShapeError
from ntkproof.nn import _stacked
from ntkproof.nn.batched import empirical_ntk_seeds, max_learning_rates, train_seeds
from ntkproof.nn.data import sphere_teacher
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.networks import MLP, Linearized, Scaled, TwoLayer
from ntkproof.nn.training import max_learning_rate, train

#: float64: the batched run sums in other orders than the per-seed one (measured gaps
#: 2e-15 to 2e-14); the bound the batched module promises.
RTOL64 = 1e-12
STEPS = 30
KW = dict(steps=STEPS, checkpoints=[5, 10, 20], ntk_at=[0, 15, 30])


def rel(b, got, ref) -> float:
    """max |got - ref| / max |ref| (0 when both vanish)."""
    g, r = b.to_numpy(got), b.to_numpy(ref)
    scale = float(np.max(np.abs(r))) if r.size else 0.0
    gap = float(np.max(np.abs(g - r))) if r.size else 0.0
    return gap / scale if scale else gap


def worst_gap(b, ours, refs) -> float:
    """The largest relative difference over seeds, both trajectories, the losses (each
    entry), the kept parameters, Grams and outputs; the layout must be the same."""
    worst = 0.0
    for res, ref in zip(ours, refs, strict=True):
        assert (res.lr, res.steps) == (ref.lr, ref.steps)
        assert (res.lin is None) == (ref.lin is None)
        for a, r in ((res.net, ref.net), (res.lin, ref.lin)):
            if r is None:
                continue
            assert a.losses.shape == r.losses.shape and a.losses.dtype == np.float64
            assert list(a.params) == list(r.params) and list(a.ntk) == list(r.ntk)
            assert list(a.outputs) == list(r.outputs)
            worst = max(worst, float(np.max(np.abs(a.losses - r.losses) / r.losses)))
            for k in r.params:
                assert list(a.params[k]) == list(r.params[k])
                worst = max([worst] + [rel(b, a.params[k][n], r.params[k][n])
                                       for n in r.params[k]])
            worst = max([worst] + [rel(b, a.ntk[k], r.ntk[k]) for k in r.ntk]
                        + [rel(b, a.outputs[k], r.outputs[k]) for k in r.outputs])
    return worst


def setting(b, S=3, n=10, d=4, seed=0):
    """Per-seed inputs (S, n, d), targets (S, n) and evaluation points (S, n + 4, d)."""
    data = [sphere_teacher(n, 4, d, seed=seed + s, activation="tanh") for s in range(S)]
    X = b.asarray(np.stack([ds.x_train for ds in data]))
    y = b.asarray(np.stack([ds.y_train for ds in data]))
    Xe = b.asarray(np.stack([np.vstack([ds.x_train, ds.x_test]) for ds in data]))
    return X, y, Xe


def per_seed(models, X, y, lrs, Xe=None, **kw):
    return [train(net, X[s], y[s], lr=lrs[s], X_eval=None if Xe is None else Xe[s], **kw)
            for s, net in enumerate(models)]


NETS = {
    "two_layer_W_relu": lambda s, b: TwoLayer(4, 24, "relu", trained="W", seed=s, backend=b),
    "two_layer_a_tanh": lambda s, b: TwoLayer(4, 24, "tanh", trained="a", a_init="normal",
                                              seed=s, backend=b),
    "two_layer_both_tanh_symmetric": lambda s, b: TwoLayer(
        4, 24, "tanh", trained="both", symmetric=True, seed=s, backend=b),
    "mlp2_all_tanh": lambda s, b: MLP(2, 16, "tanh", d=4, seed=s, backend=b),
    "mlp3_all_relu_bias": lambda s, b: MLP(3, 16, "relu", W_std=1.4, b_std=0.2, d=4, seed=s,
                                           backend=b),
    "mlp2_top_layers_erf_bias": lambda s, b: MLP(2, 16, "erf", b_std=0.3, d=4, seed=s,
                                                 trained=("W2", "b2", "W3"), backend=b),
    "mlp3_first_layer_sigmoid": lambda s, b: MLP(3, 12, "sigmoid", W_std=2.0, d=4, seed=s,
                                                 trained="W1", backend=b),
}


@pytest.mark.parametrize("spec", ["numpy", "torch:float64"])
@pytest.mark.parametrize("kind", list(NETS))
def test_batched_equals_per_seed_loop_float64(spec, kind):
    if spec.startswith("torch"):
        pytest.importorskip("torch")
    b = get_backend(spec)
    models = [NETS[kind](s + 5, b) for s in range(3)]
    X, y, Xe = setting(b)
    lrs = [0.5 * max_learning_rate(net, X[s]) for s, net in enumerate(models)]
    ours = train_seeds(models, X, y, lr=lrs, X_eval=Xe, **KW)
    refs = per_seed(models, X, y, lrs, Xe, **KW)
    assert worst_gap(b, ours, refs) < RTOL64
    for res, net in zip(ours, models, strict=True):
        assert res.net.model is net and isinstance(res.lin.model, Linearized)
        assert res.lin.model.base is net
        assert res.net.losses[-1] < res.net.losses[0]
        for params in res.net.params.values():       # untrained names: params0's arrays
            for name in set(net.params0) - set(net.trained):
                assert params[name] is net.params0[name]
            if b.name == "torch":
                assert all(v.device == b.device and v.dtype == b.torch_dtype
                           for v in params.values())


@pytest.mark.parametrize("kind", list(NETS))
def test_batched_equals_per_seed_loop_torch_float32(kind):
    """float32: both runs round at 6e-8 and differ by the order of sums; the backend's
    float32 tolerance (1e-4) bounds the gap (measured: 1.3e-6 to 1.2e-5)."""
    pytest.importorskip("torch")
    b = get_backend("torch:float32")
    models = [NETS[kind](s, b) for s in range(3)]
    X, y, Xe = setting(b)
    lrs = [0.5 * max_learning_rate(net, X[s]) for s, net in enumerate(models)]
    ours = train_seeds(models, X, y, lr=lrs, X_eval=Xe, **KW)
    assert worst_gap(b, ours, per_seed(models, X, y, lrs, Xe, **KW)) < b.tol.rtol
    assert all(v.dtype == b.torch_dtype for v in ours[0].net.params[STEPS].values())


@pytest.mark.parametrize("spec", ["numpy", "torch:float64", "torch:float32"])
def test_symmetric_initialisation_starts_at_exactly_zero(spec):
    """TwoLayer(symmetric=True) sums its two halves apart so that f(θ0) = 0 exactly; the
    stacked forward pass does too (the equivalence claim relies on f_0 = 0)."""
    if spec.startswith("torch"):
        pytest.importorskip("torch")
    b = get_backend(spec)
    models = [TwoLayer(4, 40, "tanh", trained="both", symmetric=True, seed=s, backend=b)
              for s in range(3)]
    X, y, Xe = setting(b)
    for s, res in enumerate(train_seeds(models, X, y, lr=0.1, steps=2, X_eval=Xe)):
        for traj in (res.net, res.lin):
            assert float(np.max(np.abs(b.to_numpy(traj.outputs[0])))) == 0.0
            half_y2 = 0.5 * np.mean(b.to_numpy(y[s]) ** 2)
            assert traj.losses[0] == pytest.approx(half_y2, rel=1e-15)


def test_shared_inputs_one_lr_and_no_linearisation():
    b = get_backend("numpy")
    ds = sphere_teacher(12, 3, 5, seed=1, activation="tanh")
    models = [MLP(2, 20, "tanh", d=5, seed=s) for s in range(4)]
    ours = train_seeds(models, ds.x_train, ds.y_train, lr=0.3, X_eval=ds.x_test,
                       linearized=False, **KW)
    refs = [train(net, ds.x_train, ds.y_train, lr=0.3, X_eval=ds.x_test, linearized=False,
                  **KW) for net in models]
    assert all(r.lin is None for r in ours)
    assert worst_gap(b, ours, refs) < RTOL64
    # per-seed inputs as a list of arrays and targets as (n, 1) are accepted too
    listed = train_seeds(models[:2], [ds.x_train] * 2, ds.y_train[:, None], lr=0.3, **KW)
    assert worst_gap(b, listed, [train(net, ds.x_train, ds.y_train, lr=0.3, **KW)
                                 for net in models[:2]]) < RTOL64


@pytest.mark.parametrize("kind", ["mlp3_all_relu_bias", "scaled"])
def test_keep_params_false_keeps_the_first_and_last_parameters(kind):
    b = get_backend("numpy")
    models = [Scaled(NETS["two_layer_a_tanh"](s, b), 2.0) if kind == "scaled"
              else NETS[kind](s, b) for s in range(3)]
    X, y, Xe = setting(b)
    full = train_seeds(models, X, y, lr=0.05, X_eval=Xe, **KW)
    lean = train_seeds(models, X, y, lr=0.05, X_eval=Xe, keep_params=False, **KW)
    for a, r in zip(lean, full, strict=True):
        for ta, tr in ((a.net, r.net), (a.lin, r.lin)):
            assert list(ta.params) == [0, STEPS] and list(ta.outputs) == list(tr.outputs)
            tr.params = {k: tr.params[k] for k in (0, STEPS)}
    assert worst_gap(b, lean, full) == 0.0


def test_zero_steps_keeps_the_initialisation():
    models = [TwoLayer(3, 8, "tanh", seed=s) for s in range(2)]
    X, y, _ = setting(get_backend("numpy"), S=2, d=3)
    res = train_seeds(models, X, y, lr=1.0, steps=0, ntk_at=[0])
    assert res[1].net.losses.shape == (1,) and list(res[1].net.params) == [0]
    assert np.allclose(res[1].net.ntk[0], empirical_ntk(models[1], X[1]), rtol=1e-13, atol=0)
    assert res[1].lin.ntk[0] is not None


def test_chunks_give_the_same_results(monkeypatch):
    """Seeds run in chunks of at most _CHUNK_BYTES on a CPU; a tiny budget (one seed per
    chunk) and the default (one chunk) agree to roundoff."""
    b = get_backend("numpy")
    models = [MLP(2, 16, "tanh", d=4, seed=s) for s in range(5)]
    X, y, Xe = setting(b, S=5)
    whole = train_seeds(models, X, y, lr=0.2, X_eval=Xe, **KW)
    assert _stacked._chunks(models, 10) == [(0, 5)]
    monkeypatch.setattr(_stacked, "_CHUNK_BYTES", 1)
    assert _stacked._chunks(models, 10) == [(i, i + 1) for i in range(5)]
    monkeypatch.setattr(_stacked, "_CHUNK_BYTES", 3 * 8 * 1000)   # ~1 seed and a bit
    assert _stacked._chunks(models, 10) == [(0, 2), (2, 3), (3, 5)]
    assert worst_gap(b, train_seeds(models, X, y, lr=0.2, X_eval=Xe, **KW), whole) < RTOL64


@pytest.mark.parametrize("kind", ["two_layer_both_tanh_symmetric", "mlp3_all_relu_bias",
                                  "mlp2_top_layers_erf_bias"])
def test_stacked_maths_stays_on_the_backends_device(kind):
    """Nothing assumes the host: every stacked operation runs on torch's "meta" device
    (shapes only; like a GPU, not the CPU) and its results stay there; chunking is off
    there (a GPU takes all seeds at once). No GPU is needed for the check."""
    pytest.importorskip("torch")
    from ntkproof.backends.torch_backend import TorchBackend

    b = TorchBackend("float64", device="meta")
    models = [NETS[kind](s, b) for s in range(3)]
    st, X = _stacked._stack(models), b.asarray(np.zeros((3, 10, 4)))
    f, cache = st.forward(st.P0, X, True)
    factors = st.factors(st.P0, cache)
    K, out = st.ntk(st.P0, factors), st.forward(st.P0, X[0], False)[0]
    neg_lr = -_stacked._col(b.asarray(np.ones(3)), 2)
    P = st.step(st.P0, factors, f, neg_lr, _stacked._NO_WORK, {})
    lin = st.jvp(st.P0, factors, st.vjp(st.P0, factors, f))
    assert (f.shape, K.shape, out.shape, lin.shape) == ((3, 10), (3, 10, 10), (3, 10), (3, 10))
    assert all(v.device.type == "meta" and v.shape == st.P0[k].shape for k, v in P.items())
    assert all(v.device.type == "meta" for v in (f, K, out, lin))
    assert _stacked._chunks(models, 10) == [(0, 3)]


def test_grams_and_step_size_limits_at_init():
    for spec in ("numpy", "torch:float64"):
        if spec.startswith("torch"):
            pytest.importorskip("torch")
        b = get_backend(spec)
        models = [TwoLayer(4, 32, "relu", trained="both", a_init="normal", seed=s, backend=b)
                  for s in range(3)] if spec == "numpy" else \
            [MLP(2, 16, "tanh", b_std=0.1, d=4, seed=s, backend=b) for s in range(3)]
        X, _, _ = setting(b)
        for s, K in enumerate(empirical_ntk_seeds(models, X)):
            assert rel(b, K, empirical_ntk(models[s], X[s])) < RTOL64
        limits = max_learning_rates(models, X)
        ref = [max_learning_rate(net, X[s]) for s, net in enumerate(models)]
        assert np.allclose(limits, ref, rtol=RTOL64, atol=0)


# -- divergence -----------------------------------------------------------------------
def test_divergence_names_the_first_seed_the_loop_would_stop_at():
    b = get_backend("numpy")
    models = [TwoLayer(4, 64, "tanh", trained="both", a_init="normal", seed=s)
              for s in (11, 12, 13)]
    X, y, _ = setting(b)
    lrs = [0.5 * max_learning_rate(net, X[s]) for s, net in enumerate(models)]
    lrs[2] = 20 * max_learning_rate(models[2], X[2])
    with pytest.raises(DivergenceError) as ours:
        train_seeds(models, X, y, lr=lrs, steps=200)
    with pytest.raises(DivergenceError) as ref:
        train(models[2], X[2], y[2], lr=lrs[2], steps=200)
    msg = str(ours.value)
    assert msg.startswith("models[2] (seed 13): gradient descent diverged at step ")
    assert msg.endswith(str(ref.value))            # the same step, loss and limit as train's
    # the same through the per-seed fallback (mpmath, other models)
    scaled = [Scaled(net, 1.0) for net in models]
    with pytest.raises(DivergenceError, match=re.escape("models[2] (seed 13): gradient")):
        train_seeds(scaled, X, y, lr=lrs, steps=200)


def test_divergence_of_the_linearisation_alone_is_named():
    """Just above the limit 2n/λ_max the tanh network still trains (its kernel moves)
    while its linearisation diverges: train raises for the linear model, and so does
    train_seeds, naming it."""
    b = get_backend("numpy")
    models = [TwoLayer(4, 64, "tanh", trained="both", a_init="normal", seed=s)
              for s in range(3)]
    X, y, _ = setting(b)
    lrs = [0.5 * max_learning_rate(net, X[s]) for s, net in enumerate(models)]
    lrs[1] = 1.2 * max_learning_rate(models[1], X[1])
    with pytest.raises(DivergenceError) as ref:
        train(models[1], X[1], y[1], lr=lrs[1], steps=200)
    with pytest.raises(DivergenceError) as ours:
        train_seeds(models, X, y, lr=lrs, steps=200)
    assert str(ours.value) == f"models[1] (seed 1, its linearisation): {ref.value}"
    res = train_seeds(models, X, y, lr=lrs, steps=200, linearized=False)   # the net trains
    assert res[1].net.losses[-1] < 1e-3 * res[1].net.losses[0]


def test_divergence_index_survives_chunking(monkeypatch):
    """One seed per chunk: the error still names the model's index in the whole list.
    (A ReLU network with only "a" trained is linear in its parameters, so it diverges
    itself, at the step its linearisation does; the network's error comes first.)"""
    monkeypatch.setattr(_stacked, "_CHUNK_BYTES", 1)
    b = get_backend("numpy")
    models = [TwoLayer(4, 32, "relu", trained="a", seed=s) for s in range(3)]
    X, y, _ = setting(b)
    lrs = [0.5 * max_learning_rate(net, X[s]) for s, net in enumerate(models)]
    lrs[1] = 1.5 * max_learning_rate(models[1], X[1])
    with pytest.raises(DivergenceError) as ref:
        train(models[1], X[1], y[1], lr=lrs[1], steps=400)
    with pytest.raises(DivergenceError) as ours:
        train_seeds(models, X, y, lr=lrs, steps=400)
    assert str(ours.value) == f"models[1] (seed 1): {ref.value}"


# -- other backends and models: the per-seed loop ------------------------------------------
def test_mpmath_runs_the_per_seed_loop():
    b = get_backend("mpmath")
    models = [TwoLayer(3, 4, "tanh", trained="both", a_init="normal", seed=s, backend=b)
              for s in range(2)]
    X = np.stack([sphere_teacher(3, 0, 3, seed=s).x_train for s in range(2)])
    y = np.stack([sphere_teacher(3, 0, 3, seed=s).y_train for s in range(2)])
    kw = dict(steps=2, checkpoints=[1], ntk_at=[2])
    with b.context():
        ours = train_seeds(models, X, y, lr=0.5, **kw)
        refs = [train(net, X[s], y[s], lr=0.5, **kw) for s, net in enumerate(models)]
    assert worst_gap(b, ours, refs) == 0.0


def test_scaled_models_run_the_per_seed_loop():
    b = get_backend("numpy")
    models = [Scaled(TwoLayer(4, 16, "tanh", trained="both", a_init="normal", seed=s), 4.0)
              for s in range(2)]
    X, y, _ = setting(b, S=2)
    ours = train_seeds(models, X, y, lr=0.01, **KW)
    assert worst_gap(b, ours, per_seed(models, X, y, [0.01, 0.01], **KW)) == 0.0


# -- input validation ---------------------------------------------------------------------
def test_models_must_be_a_nonempty_list_of_one_architecture():
    X, y, _ = setting(get_backend("numpy"), S=2)
    net = TwoLayer(4, 8, seed=0)
    with pytest.raises(InvalidArgument, match="models is empty"):
        train_seeds([], X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match=r"list of networks.*\[net\]"):
        train_seeds(net, X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match=r"models\[1\] must be a network"):
        train_seeds([net, X], X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match=r"models\[1\] has width=16 but models\[0\] "
                                              r"has width=8.*group the models by width"):
        train_seeds([net, TwoLayer(4, 16, seed=1)], X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match=r"has width=\(8, 16\)"):
        train_seeds([MLP(2, 8, "relu", d=4, seed=0), MLP(2, [8, 16], "relu", d=4, seed=1)],
                    X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match="activation"):
        train_seeds([net, TwoLayer(4, 8, "tanh", seed=1)], X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match="trained"):
        train_seeds([net, TwoLayer(4, 8, trained="both", seed=1)], X, y, lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match="type"):
        train_seeds([net, MLP(1, 8, "relu", d=4, seed=1)], X, y, lr=0.1, steps=1)


def test_inputs_are_checked_per_seed():
    b = get_backend("numpy")
    models = [TwoLayer(4, 8, seed=s) for s in range(2)]
    X, y, _ = setting(b, S=2)
    with pytest.raises(ShapeError, match=r"X holds 3 per-seed arrays but there are 2 models"):
        train_seeds(models, np.concatenate([X, X[:1]]), y, lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"X\[0\] must have shape \(n, 4\)"):
        train_seeds(models, X[..., :3], y, lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"X must have shape \(n, 4\) .* or \(2, n, 4\)"):
        train_seeds(models, X[None], y, lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"different numbers of rows \[9, 10\]"):
        train_seeds(models, [X[0], X[1][:9]], y, lr=0.1, steps=1)
    bad = X.copy()
    bad[1, 3, 2] = np.nan
    with pytest.raises(NonFiniteError, match=r"X\[1\] holds 1 NaN/inf entries \(first in row 3"):
        train_seeds(models, bad, y, lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"y must have shape \(10,\) .* or \(2, 10\)"):
        train_seeds(models, X, y[None], lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"y\[0\] must have shape \(10,\) to match X"):
        train_seeds(models, X, y[:, :9], lr=0.1, steps=1)
    with pytest.raises(ShapeError, match=r"y holds 3 per-seed arrays but there are 2 models"):
        train_seeds(models, X, np.concatenate([y, y[:1]]), lr=0.1, steps=1)
    with pytest.raises(NonFiniteError, match=r"y\[0\] holds"):
        train_seeds(models, X, np.where(np.arange(10) == 0, np.inf, y), lr=0.1, steps=1)
    with pytest.raises(InvalidArgument, match=r"lr holds 3 learning rates but there are 2"):
        train_seeds(models, X, y, lr=[0.1] * 3, steps=1)
    with pytest.raises(InvalidArgument, match=r"lr\[1\] must be a finite number and > 0"):
        train_seeds(models, X, y, lr=[0.1, -1.0], steps=1)
    with pytest.raises(InvalidArgument, match="steps"):
        train_seeds(models, X, y, lr=0.1, steps=2.5)
    with pytest.raises(InvalidArgument, match=r"checkpoints \[7\] lie outside 0..5"):
        train_seeds(models, X, y, lr=0.1, steps=5, checkpoints=[7])
    with pytest.raises(ShapeError, match=r"X_eval\[0\] must have shape \(n, 4\)"):
        train_seeds(models, X, y, lr=0.1, steps=1, X_eval=X[..., :2])
    with pytest.raises(ShapeError, match=r"X\[0\] must have shape"):
        train_seeds([Scaled(m, 2.0) for m in models], X[..., :3], y, lr=0.1, steps=1)
