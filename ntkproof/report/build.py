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
from importlib import resources
from pathlib import Path
from typing import Any

from ..engine.records import read_records, read_run_meta, read_selected, stamp_provenance
from ..engine.verdicts import failing_claims, run_failures, summarize
from ..errors import DamagedFile
from .aggregate import enrich
from .html import render_html
from .markdown import render_markdown
from .plots import render_plots

__all__ = ["build_report", "write_report", "render_files", "load_report", "load_schema",
           "read_report_file", "summarize", "failing_claims", "run_failures", "SCHEMA_VERSION"]

#: The report.json schema version this ntkproof writes and reads.
SCHEMA_VERSION = 1


def load_schema() -> dict[str, Any]:
    """The JSON Schema of report.json shipped inside the package."""
    text = resources.files("ntkproof.report").joinpath("schema.json").read_text("utf-8")
    return json.loads(text)


def build_report(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Assemble the report dictionary of ``run_dir`` from run.json and the records."""
    meta = dict(read_run_meta(run_dir))
    problems: list[str] = []
    latest: dict[str, dict[str, Any]] = {}
    for rec in read_records(run_dir, problems):
        latest[rec["id"]] = stamp_provenance(rec, meta)
    claims = sorted(latest.values(), key=lambda c: (c["theorem"], c.get("twin_of") or "",
                                                    c["id"]))
    if not meta.get("finished_at"):
        meta["complete"] = False
    selected = read_selected(run_dir)
    missing = sorted(set(selected) - set(latest)) if selected is not None else []
    problems = [str(p) for p in meta.get("problems", [])] + problems
    summary = summarize(claims, complete=bool(meta.get("complete")), missing=missing,
                        problems=problems)
    report = {"schema_version": SCHEMA_VERSION, "run": meta, "claims": claims,
              "summary": summary}
    return enrich(report)


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The report of a run folder (rebuilt from its records), of a merged report
    folder (its report.json), or of a report.json file.

    Raises :class:`~ntkproof.errors.DamagedFile` for a file that is not a report
    of a schema version this ntkproof reads.
    """
    p = Path(path)
    if p.is_file():
        return read_report_file(p)
    if (p / "run.json").exists():
        return build_report(p)
    if (p / "report.json").exists():
        return read_report_file(p / "report.json")
    if not p.exists():
        raise DamagedFile(f"{p}: no such file or folder")
    return build_report(p)  # raises DamagedFile naming the folder


def read_report_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A stored report.json, checked to be a report this version can read."""
    p = Path(path)
    try:
        report = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DamagedFile(f"{p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise DamagedFile(f"{p}: not a text file, so not a report.json") from None
    if not isinstance(report, dict) or "schema_version" not in report:
        raise DamagedFile(f"{p}: not an ntkproof report (no schema_version); expected the "
                          "report.json of a run or of a merged report")
    if report["schema_version"] != SCHEMA_VERSION:
        raise DamagedFile(f"{p}: report schema_version {report['schema_version']!r} is not one "
                          f"this ntkproof reads ({SCHEMA_VERSION}); use the ntkproof that "
                          "wrote it")
    if not isinstance(report.get("run"), dict) or not isinstance(report.get("claims"), list) \
            or not isinstance(report.get("summary"), dict):
        raise DamagedFile(f"{p}: not an ntkproof report (expected 'run', 'claims' and "
                          "'summary')")
    for i, c in enumerate(report["claims"]):
        if not isinstance(c, dict) or any(k not in c for k in ("id", "verdict", "kind")):
            raise DamagedFile(f"{p}: claim {i} is not a claim record (expected an object "
                              "with id, verdict, kind)")
    return report


def render_files(report: dict[str, Any], out_dir: str | os.PathLike[str]) -> None:
    """Write report.json, plots/*.png, report.md and report.html into ``out_dir``."""
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
