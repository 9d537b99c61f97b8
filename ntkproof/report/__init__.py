"""Reports: report.json (schema_version 1), report.md, report.html and plots.

Modules by responsibility: ``build`` (records → report.json, writing the files),
``aggregate`` (per theorem, the claim × backend matrix), ``format`` (shared
phrases), ``markdown`` and ``html`` (renderers), ``plots`` and ``mathtext``
(matplotlib, imported lazily), ``merge`` (several runs → one report), ``diff``
(two reports → changes and regressions).
"""

from .build import (
    build_report,
    load_report,
    load_schema,
    render_files,
    run_failures,
    summarize,
    write_report,
)
from .diff import diff_reports
from .merge import merge_reports, write_merged

__all__ = ["build_report", "write_report", "load_report", "render_files", "load_schema",
           "run_failures", "summarize", "merge_reports", "write_merged", "diff_reports"]
