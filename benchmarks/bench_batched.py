"""Training batched across seeds (ntkproof.nn.batched) against the per-seed loop.

Run (from the repository root; docs/performance.md, "Training batched across seeds", says
why one thread per library on a shared machine, and why ``PYTHONPATH``)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    PYTHONPATH=benchmarks python -m pytest benchmarks/bench_batched.py --benchmark-only -s

The setting is ``gradient_flow.trained_tracks_linear`` (theorems/test_gradient_flow.py):
12 seeds per width, each with its own 16 training points on the unit sphere of R^5 (a
tanh teacher, ``sphere_teacher(16, 16, 5, seed=s)``) and its own ``lr = max_learning_rate
/ 2``; 200 full-batch GD steps on the network and its linearisation, parameters kept every
10 steps, the eNTK Gram every 50. Architectures: ``TwoLayer(5, m, act, trained="both",
a_init="normal")`` and the depth-3 ``MLP(2, m, act, d=5)``, tanh (the slower activation on
both backends; relu is the other one the theorem trains).

For every (architecture, width) the four runs -- per-seed ``train`` loop and
``train_seeds`` on numpy and on torch (float64, the backend's device) -- are timed in
turn, best of ``repeat`` rounds, each after a 0.2 s pause (``_timing.py``), so every ratio
compares runs that saw the same machine load. Printed per row: per-seed / batched on each
backend (target >= 4), torch batched / numpy batched (target <= 1: the torch path is not
slower once batched), the device torch ran on, the thread counts, and the largest relative
difference between batched and per-seed results (two seeds, every kept array; asserted
below 1e-12). Nothing asserts a speed: a slow shared machine reports a miss instead of
failing. ``NTKPROOF_BENCH_WIDTHS=32,128`` limits the widths (e.g. for a quick look).
"""

from __future__ import annotations

import functools
import json
import os

import numpy as np
import pytest
from _timing import best_times_interleaved, record_ratio

from ntkproof.backends import get_backend
from ntkproof.nn.batched import max_learning_rates, train_seeds
from ntkproof.nn.data import sphere_teacher
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.nn.training import train

SEEDS, STEPS = 12, 200
KW = dict(steps=STEPS, checkpoints=range(0, STEPS + 1, 10), ntk_at=range(0, STEPS + 1, 50))
WIDTHS = [int(w) for w in os.environ.get("NTKPROOF_BENCH_WIDTHS", "32,128,1024").split(",")]
CASES = [(arch, m) for arch in ("two_layer", "mlp3") for m in WIDTHS]
RESULTS: list[dict] = []


record = functools.partial(record_ratio, RESULTS)


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    print("\n== batched-seeds benchmark summary ==")
    for row in RESULTS:
        print(json.dumps(row))


def setting(spec, arch, m):
    """The 12 models, per-seed inputs (S, n, d), targets (S, n) and learning rates."""
    b = get_backend(spec)
    if arch == "two_layer":
        models = [TwoLayer(5, m, "tanh", trained="both", a_init="normal", seed=s, backend=b)
                  for s in range(SEEDS)]
    else:
        models = [MLP(2, m, "tanh", d=5, seed=s, backend=b) for s in range(SEEDS)]
    data = [sphere_teacher(16, 16, 5, seed=s, activation="tanh") for s in range(SEEDS)]
    X = b.asarray(np.stack([ds.x_train for ds in data]))
    y = b.asarray(np.stack([ds.y_train for ds in data]))
    lrs = [lr / 2 for lr in max_learning_rates(models, X)]
    return models, X, y, lrs


def eval_points(spec):
    """Per seed, the training and test inputs of :func:`setting`'s data (S, 32, d)."""
    data = [sphere_teacher(16, 16, 5, seed=s, activation="tanh") for s in range(SEEDS)]
    return get_backend(spec).asarray(np.stack([np.vstack([ds.x_train, ds.x_test])
                                               for ds in data]))


def runners(spec, arch, m):
    """The per-seed loop as the theorem runs it (each seed's result dropped before the
    next: at width 1024 the 12 depth-3 results hold 4.2 GB of kept parameters), the
    batched call, and a check of both on two seeds (largest relative difference)."""
    models, X, y, lrs = setting(spec, arch, m)

    def per_seed():
        for s, net in enumerate(models):
            train(net, X[s], y[s], lr=lrs[s], **KW)

    def batched():
        train_seeds(models, X, y, lr=lrs, **KW)

    def check():
        ref = [train(net, X[s], y[s], lr=lrs[s], **KW) for s, net in enumerate(models[:2])]
        return max_rel_diff(models[0].backend, train_seeds(models[:2], X[:2], y[:2],
                                                           lr=lrs[:2], **KW), ref)

    return per_seed, batched, check, models[0].backend


def max_rel_diff(b, ours, ref):
    """Largest max|a - r| / max|r| over seeds, both models, losses, kept parameters and
    Grams."""
    worst = 0.0
    for a, r in zip(ours, ref, strict=True):
        for ta, tr in ((a.net, r.net), (a.lin, r.lin)):
            pairs = [(ta.losses, tr.losses)] + [(ta.ntk[k], tr.ntk[k]) for k in tr.ntk] + [
                (ta.params[k][name], tr.params[k][name]) for k in tr.params
                for name in tr.params[k]]
            for u, v in pairs:
                u, v = b.to_numpy(u), b.to_numpy(v)
                worst = max(worst, float(np.max(np.abs(u - v)) / np.max(np.abs(v))))
    return worst


def threads():
    torch = pytest.importorskip("torch")
    return dict(torch_threads=torch.get_num_threads(),
                omp_num_threads=os.environ.get("OMP_NUM_THREADS", "unset"),
                openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS", "unset"))


@pytest.mark.parametrize("arch,m", CASES, ids=[f"{a}-m{m}" for a, m in CASES])
def test_batched_vs_per_seed(benchmark, arch, m):
    pytest.importorskip("torch")
    np_per, np_bat, np_check, _ = runners("numpy", arch, m)
    t_per, t_bat, t_check, b_t = runners("torch", arch, m)
    diff = max(np_check(), t_check())
    repeat = 3 if m <= 128 else 2 if arch == "two_layer" or m <= 256 else 1
    tn_per, tn_bat, tt_per, tt_bat = best_times_interleaved([np_per, np_bat, t_per, t_bat],
                                                             repeat)
    benchmark.pedantic(np_bat, rounds=1, iterations=1)
    info = dict(arch=arch, width=m, seeds=SEEDS, steps=STEPS, torch_device=str(b_t.device),
                numpy_per_seed_s=round(tn_per, 4), numpy_batched_s=round(tn_bat, 4),
                torch_per_seed_s=round(tt_per, 4), torch_batched_s=round(tt_bat, 4),
                max_rel_diff=float(f"{diff:.2g}"), rounds=repeat, **threads())
    record(benchmark, f"{arch} m={m}, 12 seeds: numpy per-seed / batched", ">= 4",
           tn_per / tn_bat, tn_per / tn_bat >= 4, **info)
    record(benchmark, f"{arch} m={m}, 12 seeds: torch per-seed / batched", ">= 4",
           tt_per / tt_bat, tt_per / tt_bat >= 4, **info)
    record(benchmark, f"{arch} m={m}, 12 seeds: torch batched / numpy batched", "<= 1",
           tt_bat / tn_bat, tt_bat / tn_bat <= 1, **info)
    assert diff < 1e-12
