"""Wall time of verification runs per theorem, as a Markdown table.

Each argument is a run folder (``ntkproof verify --out DIR``) or its report.json,
optionally labelled ``LABEL=PATH``. A column per run: the seconds its claims' checks
took per theorem (the sum of the records' ``duration_s``, over all workers) and, in the
last row, the run's wall time from run.json (start to finish)::

    python benchmarks/theorem_times.py before-numpy=old/numpy after-numpy=reports/standard/runs/numpy

It reads stored JSON only, so it compares runs made at different times; the ratios it
prints are between those runs (one machine, one budget) and are as noisy as the machine.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path


def load(path: str) -> tuple[dict[str, float], float | None]:
    """(seconds per theorem, wall seconds or None) of one run."""
    p = Path(path)
    report = json.loads((p / "report.json" if p.is_dir() else p).read_text())
    per = {t["theorem"]: float(t["duration_s"]) for t in report.get("theorems", [])}
    run = report.get("run", {})
    wall = None
    if run.get("started_at") and run.get("finished_at"):
        wall = (datetime.fromisoformat(run["finished_at"])
                - datetime.fromisoformat(run["started_at"])).total_seconds()
    return per, wall


def table(runs: list[tuple[str, str]]) -> str:
    data = [(label, *load(path)) for label, path in runs]
    theorems = sorted({t for _, per, _ in data for t in per},
                      key=lambda t: -max(per.get(t, 0.0) for _, per, _ in data))
    lines = ["| theorem | " + " | ".join(label for label, _, _ in data) + " |",
             "|---|" + "---:|" * len(data)]
    for t in theorems:
        cells = [f"{per[t]:.0f}" if t in per else "—" for _, per, _ in data]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    lines.append("| **sum of checks (s)** | " + " | ".join(
        f"{sum(per.values()):.0f}" for _, per, _ in data) + " |")
    lines.append("| **wall time (min)** | " + " | ".join(
        f"{wall / 60:.1f}" if wall is not None else "—" for _, _, wall in data) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 4
    runs = [(a.split("=", 1) if "=" in a else (Path(a).name, a)) for a in argv]
    print(table([(label, path) for label, path in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
