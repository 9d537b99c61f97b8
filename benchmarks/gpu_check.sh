#!/usr/bin/env bash
# The torch backend on a GPU, in one short run (docs/gpu.md says how to get the machine
# ready). From the repository root, on the machine with the GPU:
#
#   bash benchmarks/gpu_check.sh OUTDIR          # NTKPROOF_DEVICE defaults to cuda
#   NTKPROOF_DEVICE=cpu bash benchmarks/gpu_check.sh /tmp/check   # a dry run anywhere
#
# 1. benchmarks/gpu_check.py: batched training and eNTKs on the device against numpy on the
#    CPU (same numbers to 1e-10 relative), with the times;
# 2. the library's torch tests with the device as the torch backend's default;
# 3. the quick budget's gradient_flow and lazy_training claims on torch, on the device and
#    on the CPU, compared with `ntkproof diff` (no verdict may change).
# Everything it prints is also written to OUTDIR/log.txt; the exit status is non-zero when
# any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-check}"
mkdir -p "$out"
export NTKPROOF_DEVICE="${NTKPROOF_DEVICE:-cuda}" PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
py="${PYTHON:-python3}"
status=0
exec > >(tee "$out/log.txt") 2>&1
echo "== 1. batched training and eNTKs: device against numpy"
"$py" benchmarks/gpu_check.py || status=1
echo "== 2. torch tests on $NTKPROOF_DEVICE"
# the plugin by name where ntkproof is not installed (its entry point then is missing)
plugin=$("$py" -c "from ntkproof.plugin.invoke import plugin_args; print(*plugin_args())")
"$py" -m pytest tests/nn tests/backends -q -k torch $plugin -p no:cacheprovider || status=1
echo "== 3. quick claims on torch: $NTKPROOF_DEVICE against cpu"
"$py" -m ntkproof.cli verify 'gradient_flow.*' 'lazy_training.*' --backend torch \
    --out "$out/device" || status=1
NTKPROOF_DEVICE=cpu "$py" -m ntkproof.cli verify 'gradient_flow.*' 'lazy_training.*' \
    --backend torch --out "$out/cpu" || status=1
"$py" -m ntkproof.cli diff "$out/cpu" "$out/device" || status=1
"$py" -c "import json, sys; print('devices:', [json.load(open(f + '/run.json'))['machine']
    .get('device') for f in sys.argv[1:]])" "$out/device" "$out/cpu" || status=1
echo "gpu_check: exit status $status"
exit "$status"
