"""Benchmarks: infinite-width kernels and the gradient-flow closed form (float64, numpy).

Run with ``python -m pytest benchmarks/ --benchmark-only -s``; not part of the default
test paths. Each benchmark measures its baseline in the same process and reports the
ratio (printed, and stored in pytest-benchmark's ``extra_info``). One process holds
several BLAS pools (numpy's OpenBLAS, scipy's own OpenBLAS): a pool that just ran keeps
spinning for ~0.1 s, so every timing starts after a 0.2 s sleep.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
import scipy.linalg
from _timing import SETTLE_S
from _timing import best_time as _timed

from ntkproof import flow, kernels
from ntkproof.rng import generator, unit_vectors


def _report(benchmark, **info):
    info["load_average_1min"] = round(os.getloadavg()[0], 2)
    benchmark.extra_info.update(info)
    print("\n" + ", ".join(f"{k}={v}" for k, v in info.items()))


@pytest.fixture(scope="module")
def ntk_problem():
    n, n_test, d = 2048, 256, 16
    rng = generator(2026)
    x = unit_vectors(rng, n + n_test, d)
    kall = kernels.infinite_width(x * np.sqrt(d), depth=1).ntk      # two-layer ReLU NTK
    return kall[:n, :n], kall[n:, :n], rng.standard_normal(n)


def test_gradient_flow_100_times_vs_expm(benchmark, ntk_problem):
    """One eigh for 100 t vs one scipy.linalg.expm per t (expm side extrapolated)."""
    k, kx, y = ntk_problem
    n = len(y)
    t = np.logspace(0, 6, 100)

    def closed():
        return flow.gradient_flow(k, y, t, k_test_train=kx)

    time.sleep(SETTLE_S)
    out = benchmark.pedantic(closed, rounds=3, iterations=1)
    closed_s = benchmark.stats.stats.min
    # Baseline: f_t(S) = y - expm(-tK/n) y and f_t(x) = Θ(x,S) K⁻¹ (y - f_t(S)), one expm
    # per t plus one Cholesky; timed at 4 of the 100 t (spread over the range, since
    # scaling-and-squaring grows with ||tK/n||) and extrapolated to 100 by their mean.
    chol = scipy.linalg.cho_factor(k)
    picks = [0, 33, 66, 99]
    per_t, worst = [], 0.0
    for i in picks:
        secs, e = _timed(lambda i=i: scipy.linalg.expm(-t[i] / n * k))
        per_t.append(secs)
        train = y - e @ y
        test = kx @ scipy.linalg.cho_solve(chol, y - e @ y)
        worst = max(worst, np.max(np.abs(train - out.train[i])), np.max(np.abs(test - out.test[i])))
    expm_100 = float(np.mean(per_t)) * len(t)
    ratio = expm_100 / closed_s
    _report(benchmark, n=n, n_test=kx.shape[0], n_times=len(t), closed_form_s=round(closed_s, 3),
            expm_per_t_s=[round(s, 2) for s in per_t], expm_100_extrapolated_s=round(expm_100, 1),
            speedup=round(ratio, 1), max_abs_difference=float(f"{worst:.2g}"))
    assert worst < 1e-9
    assert ratio >= 50


def test_deep_relu_kernel_depth3_vs_gram(benchmark):
    """Depth-3 ReLU NNGP+NTK recursion at n = 4096 next to one n×n×d product."""
    n, d = 4096, 16
    x = unit_vectors(generator(7), n, d)

    def deep():
        return kernels.infinite_width(x, depth=3, W_std=1.4, b_std=0.1)

    time.sleep(SETTLE_S)
    benchmark.pedantic(deep, rounds=3, iterations=1)
    deep_s = benchmark.stats.stats.min
    gram_s, _ = _timed(lambda: x @ x.T, repeat=5)
    _report(benchmark, n=n, d=d, depth=3, recursion_s=round(deep_s, 3),
            gram_s=round(gram_s, 4), recursion_over_gram=round(deep_s / gram_s, 1),
            ns_per_entry=round(deep_s / n**2 * 1e9, 1))
