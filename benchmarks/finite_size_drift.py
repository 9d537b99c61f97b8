"""Measure the finite-size drift behind a rate claim's slack, on data the claim never sees.

A rate claim fits log(median error) on log(width) over a ladder. When the local slopes
steepen with the width, the fitted exponent sits above the asymptotic one by about the
drift (slope over the upper half of the ladder minus that over the lower half), and a
twin claiming a faster decay may only be rejected by more than that: the drift is the
slack. One run's drift is too noisy to be that slack (it moves by ±0.2 between run
seeds on the depth-3 MLP), so this script pools many data sets × seeds.

The data sets are drawn from seeds 10000, 10001, ... (a claim's own data set comes from
its run seed through ``ntk.seeds``, a different stream), so the slack is not tuned on the
runs it is used in. Usage::

    python benchmarks/finite_size_drift.py mlp3 relu gap --datasets 8 --seeds 48 --out drift.json

It appends one entry per data set to ``--out`` as it goes (an interrupted run keeps what
it measured) and prints, after each one, the drift of the data sets' mean curve (their
log median errors averaged per width), its standard error and range over the data sets.
``--summary`` prints that for a finished file without measuring.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from ntkproof.backends import get_backend
from ntkproof.engine.decision import RateFit, finite_size_drift, fit_rate, local_slopes

ROOT = Path(__file__).resolve().parents[1]


def theorem_module():
    """theorems/test_gradient_flow.py, imported by path (it is a pytest file)."""
    spec = importlib.util.spec_from_file_location(
        "_gradient_flow_for_drift", ROOT / "theorems" / "test_gradient_flow.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def pooled(entries: list[dict], widths: list[int]) -> dict:
    """The ladder's bias over data sets: each data set's log median error per width,
    averaged over the data sets (pooling the raw errors instead would mix data sets
    whose errors differ in size), and the drift, slope and local slopes of that mean
    curve, with the standard error of the drift over the data sets."""
    logs = np.array([[np.log(np.median(e["errors"][str(m)])) for m in widths] for e in entries])
    mean = RateFit(0.0, 0.0, (0.0, 0.0), list(map(float, widths)), np.exp(logs.mean(0)).tolist(),
                   [])
    drifts = np.array([e["drift"] for e in entries])
    slopes = np.array([e["slope"] for e in entries])
    return {"drift": finite_size_drift(mean), "local_slopes": local_slopes(mean),
            "slope": float(slopes.mean()),
            "drift_se": float(drifts.std(ddof=1) / np.sqrt(len(drifts))) if len(drifts) > 1
            else float("nan"),
            "drift_range": [float(drifts.min()), float(drifts.max())]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("arch", choices=["two_layer", "mlp3"])
    p.add_argument("activation", choices=["relu", "tanh"])
    p.add_argument("quantity", choices=["gap", "kernel"])
    p.add_argument("--datasets", type=int, default=8)
    p.add_argument("--seeds", type=int, default=48, help="initialisations per width and data set")
    p.add_argument("--log2", type=int, nargs=2, default=(5, 10), metavar=("LOW", "HIGH"))
    p.add_argument("--batch", type=int, default=24, help="seeds trained as one computation")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--summary", action="store_true", help="only summarise --out")
    a = p.parse_args(argv)
    widths = [2 ** k for k in range(a.log2[0], a.log2[1] + 1)]
    entries = json.loads(a.out.read_text()) if a.out.exists() else []
    if a.summary:
        print(json.dumps(pooled(entries, widths), indent=1))
        return 0
    mod, b = theorem_module(), get_backend("numpy")
    for i in range(len(entries), a.datasets):
        data_seed, t0 = 10000 + i, time.perf_counter()
        errors, worst_loss = {}, 0.0
        for m in widths:
            seeds = [1_000_000 * (i + 1) + 1000 * m + s for s in range(a.seeds)]
            rows = []
            for j in range(0, len(seeds), a.batch):
                rows += mod.track_seeds(b, a.arch, a.activation, m, seeds[j:j + a.batch],
                                        data_seed, a.quantity)
            errors[str(m)] = [r[a.quantity] for r in rows]
            worst_loss = max(worst_loss, *(r["trained"] for r in rows))
        fit = fit_rate(widths, [errors[str(m)] for m in widths], seed=0, n_boot=2000)
        entries.append({"arch": a.arch, "activation": a.activation, "quantity": a.quantity,
                        "data_seed": data_seed, "widths": widths, "errors": errors,
                        "slope": fit.slope, "drift": finite_size_drift(fit),
                        "worst_trained": worst_loss, "seconds": time.perf_counter() - t0})
        a.out.write_text(json.dumps(entries))
        p = pooled(entries, widths)
        print(f"data set {data_seed}: slope {fit.slope:+.3f} drift {entries[-1]['drift']:+.3f} "
              f"({entries[-1]['seconds']:.0f} s) | over {len(entries)} data sets: mean slope "
              f"{p['slope']:+.3f}, drift of the mean curve {p['drift']:+.3f} (se "
              f"{p['drift_se']:.3f}, range {p['drift_range'][0]:+.3f} ... "
              f"{p['drift_range'][1]:+.3f}), local slopes "
              f"{np.round(p['local_slopes'], 3).tolist()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
