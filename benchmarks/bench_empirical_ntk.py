"""Empirical NTK benchmarks: ntkproof's closed/structured forms against baselines.

Run (from the repository root)::

    python -m pytest benchmarks/ --benchmark-only -s

Every ratio is measured in one process, float64, on the same inputs: each
timing is the best of ``repeat`` calls after a 0.2 s sleep (three BLAS pools
share the cores; see docs/performance.md). Targets are printed with the
measured ratio and whether they were met; nothing here asserts a speed, so a
slow shared machine reports a miss instead of failing.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from _timing import best_time, best_times_interleaved, record_ratio
from tutorial_baseline import torch_modules, tutorial_contract, tutorial_jacobians

from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.rng import generator, unit_vectors

RESULTS: list[dict] = []


record = functools.partial(record_ratio, RESULTS)


def rel_err(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    print("\n== empirical NTK benchmark summary ==")
    for row in RESULTS:
        print(json.dumps(row))


def test_two_layer_vs_tutorial_n256(benchmark):
    torch = pytest.importorskip("torch")
    n, d, m = 256, 64, 8192
    net = TwoLayer(d, m, "relu", trained="both", a_init="normal", seed=0)
    X = unit_vectors(generator(1), n, d)
    ours, K = best_time(lambda: empirical_ntk(net, X), 5)
    module = torch_modules()[0](net.params0["W"], net.params0["a"], torch.relu)
    Xt = torch.as_tensor(X)
    base, B = best_time(lambda: tutorial_contract(tutorial_jacobians(module, Xt),
                                                  tutorial_jacobians(module, Xt)), 2)
    benchmark.pedantic(lambda: empirical_ntk(net, X), rounds=3, iterations=1)
    record(benchmark, "two-layer n=256 d=64 m=8192 both: tutorial / ntkproof", ">= 30",
           base / ours, base / ours >= 30, ours_s=ours, tutorial_s=base,
           rel_err=rel_err(K, B.numpy()))


def test_two_layer_vs_its_products_n1024(benchmark):
    n, d, m = 1024, 64, 8192
    net = TwoLayer(d, m, "relu", trained="both", a_init="normal", seed=0)
    X = unit_vectors(generator(1), n, d)
    A = generator(2).standard_normal((n, m))
    Bm = generator(3).standard_normal((n, m))
    ours, syrk, gemm = best_times_interleaved(
        [lambda: empirical_ntk(net, X), lambda: (A @ A.T, A @ A.T),
         lambda: (A @ Bm.T, A @ Bm.T)], 5)
    benchmark.pedantic(lambda: empirical_ntk(net, X), rounds=2, iterations=1)
    record(benchmark, "two-layer n=1024 d=64 m=8192 both: ntkproof / (2 x A@A.T, numpy SYRK)",
           "<= 1.5", ours / syrk, ours / syrk <= 1.5, ours_s=ours, two_syrk_s=syrk,
           two_gemm_s=gemm, ours_over_two_gemm=round(ours / gemm, 3))


def test_two_layer_torch_backend_n1024(benchmark):
    torch = pytest.importorskip("torch")
    n, d, m = 1024, 64, 8192
    net = TwoLayer(d, m, "relu", trained="both", a_init="normal", seed=0, backend="torch")
    X = net.backend.asarray(unit_vectors(generator(1), n, d))
    A = torch.as_tensor(generator(2).standard_normal((n, m)))
    ours, _ = best_time(lambda: empirical_ntk(net, X), 3)
    mm, _ = best_time(lambda: (torch.mm(A, A.T), torch.mm(A, A.T)), 3)
    C = torch.zeros(n, n, dtype=torch.float64)
    addmm, _ = best_time(lambda: (C.addmm_(A, A.T), C.addmm_(A, A.T)), 3)
    benchmark.pedantic(lambda: empirical_ntk(net, X), rounds=2, iterations=1)
    record(benchmark, "two-layer n=1024 torch:float64: ntkproof / (2 x torch.mm(A, A.T))",
           "info", ours / mm, True, ours_s=ours, two_mm_s=mm, two_addmm_s=addmm)


def test_mlp_vs_tutorial(benchmark):
    """Baseline measured at n = 128 (its Jacobians alone take 4.4 GiB there, 17.7 GiB
    at n = 512); at n = 512 the baseline is extrapolated from its measured parts:
    Jacobians linear in n, contraction quadratic."""
    torch = pytest.importorskip("torch")
    depth, width, d, W_std, b_std = 3, 1024, 64, math.sqrt(2), 0.1
    net = MLP(depth, width, "relu", W_std=W_std, b_std=b_std, d=d, seed=0)
    X = unit_vectors(generator(1), 512, d)
    module = torch_modules()[1](net.params0, depth, W_std, b_std, torch.relu)
    Xs = torch.as_tensor(X[:128])
    jac_s, _ = best_time(lambda: tutorial_jacobians(module, Xs), 1)
    total_s, B = best_time(lambda: tutorial_contract(tutorial_jacobians(module, Xs),
                                                     tutorial_jacobians(module, Xs)), 1)
    con_s = max(total_s - 2 * jac_s, 0.0)  # the tutorial computes J(x1) and J(x2)
    small, K = best_time(lambda: empirical_ntk(net, X[:128]), 5)
    ours, _ = best_time(lambda: empirical_ntk(net, X), 5)
    base512 = 2 * jac_s * 4 + con_s * 16
    benchmark.pedantic(lambda: empirical_ntk(net, X), rounds=3, iterations=1)
    record(benchmark, "MLP depth 3 width 1024 n=128 (measured): tutorial / ntkproof", "info",
           total_s / small, True, ours_s=small, tutorial_s=total_s,
           rel_err=rel_err(K, B.numpy()))
    record(benchmark, "MLP depth 3 width 1024 n=512: tutorial (extrapolated) / ntkproof",
           ">= 10", base512 / ours, base512 / ours >= 10, ours_s=ours,
           tutorial_extrapolated_s=base512, jacobian_only_lower_bound=round(8 * jac_s / ours, 1))


MEMORY_SCRIPT = """
import json, time, tracemalloc
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.networks import TwoLayer
from ntkproof.rng import generator, unit_vectors
net = TwoLayer(64, 16384, "relu", trained="both", a_init="normal", seed=0)
X = unit_vectors(generator(1), 4096, 64)
tracemalloc.start()
base = tracemalloc.get_traced_memory()[0]
t0 = time.perf_counter()
K = empirical_ntk(net, X)
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(json.dumps(dict(extra_peak_MiB=(peak - base - K.nbytes) / 2**20,
                      output_MiB=K.nbytes / 2**20, seconds=seconds)))
"""


def test_two_layer_memory_n4096(benchmark):
    """tracemalloc peak (numpy registers its buffers with it) in a fresh process."""
    def run():
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], capture_output=True,
                             text=True, check=True, cwd=root,
                             env={**os.environ, "PYTHONPATH": root})
        return json.loads(out.stdout.strip().splitlines()[-1])

    res = benchmark.pedantic(run, rounds=1, iterations=1)
    record(benchmark, "two-layer n=4096 d=64 m=16384 both: peak memory beyond X and K (MiB)",
           "< 1024", res["extra_peak_MiB"], res["extra_peak_MiB"] < 1024, **res)
