"""Merge the reports of several runs (e.g. the numpy and torch backends) into one.

Each claim of each run keeps its record and gains ``run_label``, the column of
its run in the claim × backend matrix: ``<backend>:<dtype>``, with `` seed N``
(then `` run <id>``) appended when two runs would otherwise share a label. The
merged report's ``run`` describes the union (earliest start, latest finish,
complete iff every run completed, backends and dtypes joined with ``+``) and
``merged.runs`` keeps every source run's own metadata. Runs of different
budgets are not merged: their matrix would compare different experiments.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine.verdicts import summarize
from ..errors import InvalidArgument
from .aggregate import enrich
from .build import SCHEMA_VERSION, load_report, render_files

__all__ = ["merge_reports", "write_merged", "run_labels"]


def run_labels(runs: Sequence[dict[str, Any]]) -> list[str]:
    """One distinct column label per run (see the module docstring)."""
    labels = [f"{r['backend']}:{r['dtype']}" if r.get("dtype") else str(r["backend"])
              for r in runs]
    for extra in (lambda r: f" seed {r['seed']}", lambda r: f" run {r['id']}"):
        counts = Counter(labels)
        labels = [lab + extra(r) if counts[lab] > 1 else lab for lab, r in zip(labels, runs,
                                                                               strict=True)]
    return labels


def _check_mergeable(dirs: Sequence[str], reports: Sequence[dict[str, Any]]) -> None:
    if len(reports) < 2:
        raise InvalidArgument(f"--merge needs at least two run folders, got {len(reports)}")
    for d, rep in zip(dirs, reports, strict=True):
        if "merged" in rep:
            raise InvalidArgument(f"{d} is already a merged report; merge its source runs "
                                  f"({', '.join(r['dir'] for r in rep['merged']['runs'])})")
    budgets = {rep["run"]["budget"] for rep in reports}
    if len(budgets) > 1:
        raise InvalidArgument(
            f"the runs have different budgets ({', '.join(sorted(budgets))}); a claim × backend "
            "matrix compares runs of one budget: re-run them with the same --budget")


def _joined(values: Sequence[Any]) -> str:
    return "+".join(dict.fromkeys(str(v) for v in values))


def _merged_run(runs: list[dict[str, Any]], command: str) -> dict[str, Any]:
    finished = [r.get("finished_at") for r in runs]
    digest = hashlib.sha1("".join(r["id"] for r in runs).encode()).hexdigest()[:8]
    first = runs[0]
    return {"id": f"merged-{digest}", "started_at": min(r["started_at"] for r in runs),
            "finished_at": None if None in finished else max(str(f) for f in finished),
            "complete": all(r.get("complete", False) for r in runs),
            "backend": _joined([r["backend"] for r in runs]),
            "dtype": _joined([r.get("dtype", "") for r in runs]), "budget": first["budget"],
            "seed": first["seed"], "command": command, "versions": first["versions"],
            "machine": _merged_machine(runs)}


def _merged_machine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run's machine, with the devices the torch runs computed on."""
    machine = dict(runs[0].get("machine", {}))
    devices = [r["machine"]["device"] for r in runs if r.get("machine", {}).get("device")]
    if devices:
        machine["device"] = _joined(devices)
    return machine


def merge_reports(dirs: Sequence[str | os.PathLike[str]], *,
                  command: str = "ntkproof report --merge") -> dict[str, Any]:
    """The merged report of the runs in ``dirs`` (run folders or report.json files)."""
    names = [str(d) for d in dirs]
    reports = [load_report(d) for d in names]
    _check_mergeable(names, reports)
    runs = [rep["run"] for rep in reports]
    labels = run_labels(runs)
    order = {lab: i for i, lab in enumerate(labels)}
    claims = []
    for label, rep in zip(labels, reports, strict=True):
        for c in rep["claims"]:
            claims.append(dict(c, run_label=label))
    claims.sort(key=lambda c: (c["theorem"], c.get("twin_of") or "", c["id"],
                               order[c["run_label"]]))
    run = _merged_run(runs, command)
    missing = [f"{m} [{label}]" for label, rep in zip(labels, reports, strict=True)
               for m in rep["summary"].get("missing", [])]
    problems = [f"{p} [{label}]" for label, rep in zip(labels, reports, strict=True)
                for p in rep["summary"].get("problems", [])]
    report = {"schema_version": SCHEMA_VERSION, "run": run, "claims": claims,
              "summary": summarize(claims, complete=run["complete"], missing=missing,
                                   problems=problems, columns=labels),
              "merged": {"runs": [{"label": lab, "dir": d, "run": r}
                                  for lab, d, r in zip(labels, names, runs, strict=True)]}}
    return enrich(report)


def write_merged(dirs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                 command: str = "ntkproof report --merge") -> dict[str, Any]:
    """Merge ``dirs`` and write the report files into ``out`` (not a run folder)."""
    if (Path(out) / "run.json").exists():
        raise InvalidArgument(f"--out {out} is a run folder (it holds run.json); write the "
                              "merged report to a folder of its own")
    report = merge_reports(dirs, command=command)
    render_files(report, out)
    return report
