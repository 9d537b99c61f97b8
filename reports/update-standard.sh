#!/usr/bin/env bash
# Update the published report, reports/standard/, with some claims re-run at the standard
# budget (seed 0) on numpy and torch, instead of regenerating all of it:
#
#   bash reports/update-standard.sh arccos.order0 'lazy_training.*'   # new or changed claims
#   bash reports/update-standard.sh                                   # retire undeclared only
#
# Each claim keeps its provenance (run, commit, theorem file and its hash) in the report;
# tests/test_published_report.py says which claims are stale (their file changed since).
# Needs the project installed with the torch and plots extras.
set -uo pipefail
cd "$(dirname "$0")/.."

jobs="${JOBS:-2}"
out=reports/standard
status=0
for backend in numpy torch; do
    tmp="reports/tmp-update-$backend"
    rm -rf "$tmp"
    if [ "$#" -gt 0 ]; then
        python -m ntkproof.cli verify "$@" --budget standard --seed 0 --backend "$backend" \
            --jobs "$jobs" --out "$tmp" || status=$?
        python -m ntkproof.cli report --update "$out/runs/$backend" --from "$tmp" \
            --keep-declared theorems || status=$?
        rm -rf "$tmp"
    else
        python -m ntkproof.cli report --update "$out/runs/$backend" --from "$out/runs/$backend" \
            --keep-declared theorems || status=$?
    fi
done
python -m ntkproof.cli report --merge "$out/runs/numpy" "$out/runs/torch" --out "$out" \
    || status=$?
exit "$status"
