"""Build report.json from a run directory's records (the JSON source of truth).

The report follows schema_version 1 (``ntkproof/report/schema.json``). When a
claim was recorded more than once (a re-run into the same directory), the
last record wins. A run whose ``run.json`` has no ``finished_at``, or that was
interrupted, is marked ``"complete": false``. The aggregates (per theorem, the
claim × backend matrix of merged reports) come from :mod:`.aggregate`.

A merged report (``ntkproof report --merge``) has no records of its own: its
folder holds ``report.json`` only, and :func:`write_report` re-renders it from
that file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from ..claims import PASSING, VERDICTS
from ..records import read_records, read_run_meta
from .aggregate import enrich

__all__ = ["build_report", "write_report", "render_files", "load_report", "load_schema",
           "summarize", "failing_claims", "run_failures"]


def load_schema() -> dict[str, Any]:
    """The JSON Schema of report.json shipped inside the package."""
    text = resources.files("ntkproof.report").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def failing_claims(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claims that make the run fail: a non-twin FALSIFIED or ERROR, or a twin
    that was not FALSIFIED. A SKIPPED twin is accepted only when the claim it
    twins was skipped in the same run too (or not selected): both are not
    applicable on this backend or budget, so no check lost its power."""
    verdicts = {(c["id"], c.get("run_label")): c["verdict"] for c in claims}
    bad = []
    for c in claims:
        if c.get("twin_of"):
            parent = verdicts.get((c["twin_of"], c.get("run_label")))
            skipped_with_parent = c["verdict"] == "SKIPPED" and parent in (None, "SKIPPED")
            if c["verdict"] != "FALSIFIED" and not skipped_with_parent:
                bad.append(c)
        elif c["verdict"] in ("FALSIFIED", "ERROR"):
            bad.append(c)
    return bad


def run_failures(claims: list[dict[str, Any]]) -> list[str]:
    """One line per claim of :func:`failing_claims`, naming its column when merged."""
    lines = []
    for c in failing_claims(claims):
        where = f" on {c['run_label']}" if c.get("run_label") else ""
        if c.get("twin_of"):
            lines.append(f"{c['id']} (twin of {c['twin_of']}: {c['verdict']}, expected "
                         f"FALSIFIED){where}")
        else:
            lines.append(f"{c['id']} ({c['verdict']}){where}")
    return lines


def summarize(claims: list[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(c["verdict"] for c in claims)
    failures = run_failures(claims)
    twins = [c for c in claims if c.get("twin_of")]
    return {"total": len(claims),
            "by_verdict": {v: counts[v] for v in VERDICTS if counts[v]},
            "passing": sum(1 for c in claims if c["verdict"] in PASSING and not c.get("twin_of")),
            "twins": {"total": len(twins),
                      "falsified": sum(1 for c in twins if c["verdict"] == "FALSIFIED")},
            "failures": failures, "passed": not failures}


def build_report(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Assemble the report dictionary of ``run_dir`` from run.json and the records."""
    meta = read_run_meta(run_dir)
    latest: dict[str, dict[str, Any]] = {}
    for rec in read_records(run_dir):
        latest[rec["id"]] = rec
    claims = sorted(latest.values(), key=lambda c: (c["theorem"], c.get("twin_of") or "",
                                                    c["id"]))
    meta = dict(meta)
    if not meta.get("finished_at"):
        meta["complete"] = False
    report = {"schema_version": 1, "run": meta, "claims": claims, "summary": summarize(claims)}
    return enrich(report)


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The report of a run folder (rebuilt from its records), of a merged report
    folder (its report.json), or of a report.json file."""
    p = Path(path)
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8"))
    if (p / "run.json").exists():
        return build_report(p)
    if (p / "report.json").exists():
        return json.loads((p / "report.json").read_text(encoding="utf-8"))
    return build_report(p)  # raises InvalidArgument naming the folder


def render_files(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> None:
    """Write report.json, plots/*.png, report.md and report.html into ``out_dir``."""
    from .html import render_html
    from .markdown import render_markdown
    from .plots import render_plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    plots = render_plots(report, reuse=out / "plots")
    files = plots.write(out / "plots")
    (out / "report.md").write_text(render_markdown(report, plots, files), encoding="utf-8")
    (out / "report.html").write_text(render_html(report, plots), encoding="utf-8")


def write_report(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Rebuild the report of ``run_dir`` and write its files (see :func:`render_files`)."""
    report = load_report(run_dir)
    render_files(report, run_dir)
    return report
