"""Timing shared by the benchmark files.

Three BLAS thread pools live in one process (numpy's OpenBLAS, scipy's, torch's
MKL); a pool that just ran keeps spinning for about 0.1 s and slows the next
library's call, so every timing starts after ``SETTLE_S`` of sleep.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from typing import Any

SETTLE_S = 0.2


def best_time(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, each after a pause; and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        time.sleep(SETTLE_S)
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_times_interleaved(fns: list[Callable[[], Any]], repeat: int = 5) -> list[float]:
    """Best wall time of each function over ``repeat`` rounds that call them in turn.

    A ratio of two best times taken minutes apart mixes two machine loads; calling
    the functions alternately lets both see the same load, so the ratio is what the
    targets compare.
    """
    best = [math.inf] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            time.sleep(SETTLE_S)
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def record_ratio(results: list[dict], benchmark: Any, name: str, target: str, ratio: float,
                 met: bool, **info: Any) -> None:
    """Keep one measured ratio: in ``results`` (the file's summary), in the benchmark's
    ``extra_info`` (pytest-benchmark's JSON), and printed as a JSON line, with the
    machine's 1-minute load beside it (absolute times here are noisy)."""
    row = dict(name=name, target=target, ratio=round(ratio, 3), met=bool(met),
               load_avg_1min=os.getloadavg()[0], **info)
    results.append(row)
    benchmark.extra_info.update(row)
    print("\n" + json.dumps(row))
