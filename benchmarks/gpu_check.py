"""The torch backend on a GPU against numpy on the CPU: same numbers, and the times.

Run by ``benchmarks/gpu_check.sh`` (docs/gpu.md), or alone from the repository root::

    NTKPROOF_DEVICE=cuda python benchmarks/gpu_check.py

For each architecture the gradient-flow claims train (``TwoLayer(5, m, tanh)`` with both
layers trained, the depth-3 ``MLP(2, m, tanh)``) and widths 32, 128, 1024 (and 4096 for
the two-layer network), 12 seeds train as one batched computation on the torch backend's
device (``train_seeds``: the network, its linearisation, outputs every 10 steps, eNTK
Grams every 50; ``bench_batched.py``'s setting) and, independently, one seed at a time with numpy's ``train`` on the
CPU. Printed per row: the device, the largest relative difference over every kept array
of seeds 0 and 11 (losses, outputs of both models, Grams), and the time of the batched
run on the device and of numpy's batched run (best of 2, the first call on the device
warms it up). The eNTK of a wide two-layer network and of the MLP on 512 points is
compared the same way. Exit status 1 when any difference exceeds ``TOL``, or when a GPU
was asked for (``NTKPROOF_DEVICE=cuda``) and torch runs elsewhere.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch
from bench_batched import KW, SEEDS, eval_points, setting

from ntkproof.backends import get_backend
from ntkproof.nn.batched import train_seeds
from ntkproof.nn.empirical_ntk import empirical_ntk
from ntkproof.nn.networks import MLP, TwoLayer
from ntkproof.nn.training import train

#: float64 on both sides: what differs is the order of the sums (cuBLAS against
#: OpenBLAS) over 200 steps; the CPU's own batched/per-seed agreement is ~2e-15.
TOL = 1e-10
ROWS = [("two_layer", m) for m in (32, 128, 1024, 4096)] + [("mlp3", m) for m in (32, 128, 1024)]


def setting_with_eval(spec: str, arch: str, m: int):
    """:func:`bench_batched.setting` (the benchmark's 12 seeds) with the backend and
    the evaluation points."""
    models, X, y, lrs = setting(spec, arch, m)
    return models[0].backend, models, X, eval_points(spec), y, lrs


def kept(b, res) -> list[np.ndarray]:
    """Every array a run keeps, as numpy, in a fixed order."""
    out = [np.asarray(res.net.losses), np.asarray(res.lin.losses)]
    for traj in (res.net, res.lin):
        out += [b.to_numpy(traj.outputs[k]) for k in sorted(traj.outputs)]
        out += [b.to_numpy(traj.ntk[k]) for k in sorted(traj.ntk)]
    return out


def rel_diff(a: list[np.ndarray], c: list[np.ndarray]) -> float:
    assert len(a) == len(c), "the runs kept different arrays"
    return max(float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1e-300))
               for x, y in zip(a, c, strict=True))


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(run) -> float:
    best = float("inf")
    for _ in range(2):
        sync()
        t = time.perf_counter()
        run()
        sync()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    dev = get_backend("torch")
    name = torch.cuda.get_device_name(dev.device) if dev.device.type == "cuda" else "-"
    print(f"torch {torch.__version__}, device {dev.device} ({name}), numpy {np.__version__}")
    failed = False
    if os.environ.get("NTKPROOF_DEVICE", "").startswith("cuda") and dev.device.type != "cuda":
        print("FAIL: NTKPROOF_DEVICE asks for CUDA but the torch backend is on", dev.device)
        failed = True
    print("arch, width | max rel. diff (device batched vs numpy per seed) | "
          "device batched s | numpy batched s | numpy / device")
    for arch, m in ROWS:
        b, models, X, Xe, y, lrs = setting_with_eval("torch", arch, m)
        nb, nmodels, nX, nXe, ny, nlrs = setting_with_eval("numpy", arch, m)

        def on_device(models=models, X=X, Xe=Xe, y=y, lrs=lrs):
            return train_seeds(models, X, y, lr=lrs, X_eval=Xe, keep_params=False, **KW)

        def on_numpy(models=nmodels, X=nX, Xe=nXe, y=ny, lrs=nlrs):
            return train_seeds(models, X, y, lr=lrs, X_eval=Xe, keep_params=False, **KW)

        got = on_device()
        diff = 0.0
        for s in (0, SEEDS - 1):
            ref = train(nmodels[s], nX[s], ny[s], lr=nlrs[s], X_eval=nXe[s], **KW)
            diff = max(diff, rel_diff(kept(b, got[s]), kept(nb, ref)))
        t_dev, t_np = timed(on_device), timed(on_numpy)
        ok = diff <= TOL
        failed |= not ok
        print(f"{arch}, {m} | {diff:.1e}{'' if ok else ' FAIL'} | {t_dev:.3f} | {t_np:.3f} | "
              f"{t_np / t_dev:.2f}")
    for label, make in (("two-layer eNTK, m = 16384", lambda b: TwoLayer(64, 16384, "relu",
                                                                        seed=3, backend=b)),
                        ("MLP eNTK, depth 3, m = 1024", lambda b: MLP(3, 1024, "relu", d=64,
                                                                     seed=3, backend=b))):
        Xn = np.random.default_rng(5).standard_normal((512, 64))
        Xn /= np.linalg.norm(Xn, axis=1, keepdims=True)
        K_dev = dev.to_numpy(empirical_ntk(make(dev), dev.asarray(Xn)))
        K_np = np.asarray(empirical_ntk(make(get_backend("numpy")), Xn))
        diff = rel_diff([K_dev], [K_np])
        failed |= diff > TOL
        print(f"{label} | {diff:.1e}{'' if diff <= TOL else ' FAIL'}")
    print("FAILED" if failed else "PASSED")
    return int(failed)


if __name__ == "__main__":
    sys.exit(main())
