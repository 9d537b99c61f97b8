"""Timing shared by the benchmark files.

Three BLAS thread pools live in one process (numpy's OpenBLAS, scipy's, torch's
MKL); a pool that just ran keeps spinning for about 0.1 s and slows the next
library's call, so every timing starts after ``SETTLE_S`` of sleep.
"""

from __future__ import annotations

import math
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
