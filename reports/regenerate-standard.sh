#!/usr/bin/env bash
# Regenerate the published verification report, reports/standard/:
# the standard budget on the numpy and the torch (float64) backends, seed 0,
# merged into one claim x backend report.
#
#   bash reports/regenerate-standard.sh            # from the repository root
#   JOBS=1 bash reports/regenerate-standard.sh     # fewer parallel workers
#
# Needs the project installed with the torch and plots extras, e.g.
#   python -m pip install torch==2.13.0 && python -m pip install -e ".[test,torch]"
# On 2 cores: about 4.3 minutes for numpy and 5.0 for torch, 10.4 for the whole script
# (measured 2026-12-02; 21 and 45 minutes on 2026-11-28, docs/performance.md).
# A run that finds a failure still writes its report (the merge shows it);
# the script's exit status is non-zero when either run did not pass.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs="${JOBS:-2}"
out=reports/standard
status=0
for backend in numpy torch; do
    rm -rf "$out/runs/$backend"
    python -m ntkproof.cli verify --budget standard --seed 0 --backend "$backend" \
        --jobs "$jobs" --out "$out/runs/$backend" || status=$?
done
python -m ntkproof.cli report --merge "$out/runs/numpy" "$out/runs/torch" --out "$out" \
    || status=$?
exit "$status"
