"""Reports: report.json (schema_version 1), report.md and report.html."""

from .build import build_report, load_schema, run_failures, summarize, write_report

__all__ = ["build_report", "write_report", "load_schema", "run_failures", "summarize"]
