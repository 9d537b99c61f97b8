"""report.md: a Markdown rendering of report.json that reads well on a code host.

Statements are ``$$ … $$`` blocks (code hosts typeset them); plots are the PNG
files written next to the report (``plots/<claim id>.png``), linked relatively.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from .format import (
    PLOTS_OFF,
    banner,
    derivation_steps,
    detail_lines,
    expectation,
    fmt_num,
    result_line,
    steps_summary,
    tightness_text,
    worst_case_text,
)

__all__ = ["render_markdown"]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(x) for x in row) + " |" for row in rows]
    return out + [""]


def render_markdown(report: dict[str, Any], plots: Any = None,
                    files: dict[str, str] | None = None) -> str:
    """The Markdown page; ``files`` maps claim ids to plot paths relative to it."""
    lines = ["# ntkproof verification report", ""]
    if banner(report):
        lines += [f"> **{banner(report)}**", ""]
    lines += _header(report)
    lines += ["## Summary", ""] + _summary_table(report)
    lines += ["## Theorems", ""] + _theorem_table(report)
    if plots is not None and plots.off:
        lines += [f"_{PLOTS_OFF}_", ""]
    failed = getattr(plots, "failed", {})
    rows = {t["theorem"]: t for t in report.get("theorems", [])}
    for theorem, claims in groupby(report["claims"], key=lambda c: c["theorem"]):
        verdict = (rows.get(theorem) or {}).get("verdict")
        lines += [f"## {theorem}", ""] + ([f"Theorem verdict: **{verdict}**", ""] if verdict
                                           else [])
        for _cid, group in groupby(claims, key=lambda c: c["id"]):
            lines += _claim_section(list(group), files or {}, failed)
    return "\n".join(lines) + "\n"


def _header(report: dict[str, Any]) -> list[str]:
    run, summary = report["run"], report["summary"]
    lines = [f"Run `{run['id']}` · backend **{run['backend']}:{run['dtype']}** · budget "
             f"**{run['budget']}** · seed {run['seed']} · started {run['started_at']} · "
             f"finished {run.get('finished_at') or '—'}", "",
             f"Command: `{run['command']}`", "", f"**Result: {result_line(report)}**", ""]
    if summary.get("failures"):
        lines += ["Failing claims: " + ", ".join(f"`{f}`" for f in summary["failures"]), ""]
    if "merged" in report:
        lines += ["Merged from these runs:", ""]
        lines += _table(["column", "backend", "budget", "seed", "started", "complete", "folder"],
                        [[r["label"], f"{r['run']['backend']}:{r['run']['dtype']}",
                          r["run"]["budget"], r["run"]["seed"], r["run"]["started_at"],
                          r["run"].get("complete"), f"`{r['dir']}`"]
                         for r in report["merged"]["runs"]])
    return lines


def _summary_table(report: dict[str, Any]) -> list[str]:
    if "merged" in report:
        m = report["merged"]["matrix"]
        rows = [[f"`{r['id']}`"] + [r["verdicts"].get(col, "—") for col in m["columns"]]
                + ["yes" if r["agree"] else "**no**"] for r in m["rows"]]
        return _table(["claim", *m["columns"], "agree"], rows)
    rows = []
    for c in report["claims"]:
        verdict = c["verdict"] + (f" ({expectation(c)})" if c.get("twin_of") else "")
        rows.append([f"`{c['id']}`", c["kind"], verdict, tightness_text(c), c["cases"],
                     fmt_num(c["duration_s"], 3)])
    return _table(["claim", "kind", "verdict", "tightness / rate", "cases", "time (s)"], rows)


def _theorem_table(report: dict[str, Any]) -> list[str]:
    rows = [[f"[{t['theorem']}](#{t['theorem']})", t["verdict"] or "—",
             "yes" if t["passed"] else "**no**", t["claims"],
             ", ".join(f"{k} {v}" for k, v in t["by_verdict"].items()),
             f"{t['twins']['falsified']}/{t['twins']['total']}", fmt_num(t["duration_s"], 3)]
            for t in report.get("theorems", [])]
    return _table(["theorem", "verdict", "passed", "claims", "verdicts", "twins rejected",
                   "time (s)"], rows)


def _claim_section(group: list[dict[str, Any]], files: dict[str, str],
                   failed: dict[str, str]) -> list[str]:
    c = group[0]
    verdicts = ", ".join(f"{x['verdict']} ({x['run_label']})" if x.get("run_label")
                         else x["verdict"] for x in group)
    out = [f"### `{c['id']}` — {verdicts}", "", f"**{c['title']}**", "",
           f"$$ {c['statement']} $$", "", f"Source: {c['source']}", ""]
    for x in group:
        prefix = f"**{x['run_label']}**: " if x.get("run_label") else ""
        out += [f"- {prefix}{line}" for line in detail_lines(x)]
        if worst_case_text(x):
            out.append(f"- {prefix}worst case: {worst_case_text(x)}")
        out.append(f"- {prefix}reproduce: `{x['reproduce']}`")
    out.append("")
    if c["id"] in files:
        out += [f"![plot of {c['id']}]({files[c['id']]})", ""]
    elif c["id"] in failed:
        out += [f"_No plot: {failed[c['id']]}_", ""]
    steps = derivation_steps(c)
    if steps:
        out += [f"<details><summary>{steps_summary(steps)}</summary>", ""]
        out += _table(["step", "statement", "justification", "sympy", "numeric", "status"],
                      [[s.get("index"), f"`{s.get('statement')}`", s.get("justification", ""),
                        s.get("symbolic"), s.get("numeric"), s.get("status")] for s in steps])
        out += ["</details>", ""]
    for x in group:
        if x.get("message"):
            label = f" ({x['run_label']})" if x.get("run_label") else ""
            out += [f"<details><summary>messages{label}</summary>", "", "```", x["message"],
                    "```", "", "</details>", ""]
    return out
