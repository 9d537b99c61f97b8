"""report.md: a Markdown rendering of report.json that reads well on a code host.

Statements are ``$$ … $$`` blocks (code hosts typeset them); plots are the PNG
files written next to the report (``plots/<claim id>.png``), linked relatively.
"""

from __future__ import annotations

import html
import re
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
    run_device,
    steps_summary,
    tightness_text,
    worst_case_text,
)
from .power import power_cell, power_table, tightness_cell, twins_cell

__all__ = ["render_markdown"]


def _t(text: Any) -> str:
    """Record text as Markdown text: raw HTML in a title, a message or a parameter
    is shown, never run by a Markdown viewer."""
    return html.escape(str(text), quote=False)


def _code(text: Any) -> str:
    """Inline code that no backtick in ``text`` can end early."""
    body = str(text).replace("\n", " ")
    ticks = "`" * (1 + max((len(r) for r in re.findall("`+", body)), default=0))
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{ticks}{pad}{body}{pad}{ticks}"


def _fence(text: Any) -> list[str]:
    """A fenced block that no backtick run in ``text`` can close."""
    body = str(text)
    ticks = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", body)), default=0))
    return [ticks, body, ticks]


def _math(statement: Any) -> str:
    # '<' and '>' as TeX commands: a statement cannot open an HTML tag
    return str(statement).replace("<", r"\lt ").replace(">", r"\gt ")


def _cell(text: Any) -> str:
    # cells are built by this module: code spans and links stay, text is escaped
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
    lines += ["## Tightness and power", ""] + _power_table(report)
    lines += ["## Summary", ""] + _summary_table(report)
    lines += ["## Theorems", ""] + _theorem_table(report)
    if plots is not None and plots.off:
        lines += [f"_{PLOTS_OFF}_", ""]
    failed = getattr(plots, "failed", {})
    rows = {t["theorem"]: t for t in report.get("theorems", [])}
    for theorem, claims in groupby(report["claims"], key=lambda c: c["theorem"]):
        verdict = (rows.get(theorem) or {}).get("verdict")
        lines += [f"## {_t(theorem)}", ""] + ([f"Theorem verdict: **{verdict}**", ""] if verdict
                                           else [])
        for _cid, group in groupby(claims, key=lambda c: c["id"]):
            lines += _claim_section(list(group), files or {}, failed)
    return "\n".join(lines) + "\n"


def _header(report: dict[str, Any]) -> list[str]:
    run, summary = report["run"], report["summary"]
    lines = [f"Run {_code(run['id'])} · backend **{_t(run['backend'])}:{_t(run['dtype'])}** · "
             f"budget **{_t(run['budget'])}** · seed {_t(run['seed'])} · started "
             f"{_t(run['started_at'])} · finished {_t(run.get('finished_at') or '—')}"
             + (f" · torch device **{_t(device)}**" if (device := run_device(run)) else ""), "",
             f"Command: {_code(run['command'])}", "", f"**Result: {_t(result_line(report))}**",
             ""]
    if summary.get("failures"):
        lines += ["Failing claims: " + ", ".join(_code(f) for f in summary["failures"]), ""]
    if summary.get("missing"):
        lines += ["Selected but never recorded (not verified): "
                  + ", ".join(_code(f) for f in summary["missing"]), ""]
    if "merged" in report:
        lines += ["Merged from these runs:", ""]
        lines += _table(["column", "backend", "budget", "seed", "started", "complete", "folder"],
                        [[_t(r["label"]), _t(f"{r['run']['backend']}:{r['run']['dtype']}"),
                          _t(r["run"]["budget"]), _t(r["run"]["seed"]),
                          _t(r["run"]["started_at"]), r["run"].get("complete"),
                          _code(r["dir"])]
                         for r in report["merged"]["runs"]])
    return lines


def _power_table(report: dict[str, Any]) -> list[str]:
    rows = report.get("power") or power_table(report["claims"])
    if not rows:
        return ["_No numeric claim in this run._", ""]
    intro = ["One row per numeric claim; **no** in the last column: the claim shows no power "
             "(it was not decided, or no twin within its resolving power, a constant off by at "
             "most 10% or an exponent by at most max(0.1, three interval half-widths), was "
             "rejected).", ""]
    body = [[_code(r["id"]) + (f" ({_t(r['run_label'])})" if r.get("run_label") else ""),
             r["verdict"], _t(tightness_cell(r)), _t(power_cell(r)), _t(twins_cell(r)),
             "yes" if r["shows_power"] else "**no**"] for r in rows]
    return intro + _table(["claim", "verdict", "tightness", "rejection edge", "twins",
                           "power"], body)


def _summary_table(report: dict[str, Any]) -> list[str]:
    if "merged" in report:
        m = report["merged"]["matrix"]
        rows = [[_code(r["id"])] + [r["verdicts"].get(col, "—") for col in m["columns"]]
                + ["yes" if r["agree"] else "**no**"] for r in m["rows"]]
        return _table(["claim", *map(_t, m["columns"]), "agree"], rows)
    rows = []
    for c in report["claims"]:
        verdict = c["verdict"] + (f" ({expectation(c)})" if c.get("twin_of") else "")
        rows.append([_code(c["id"]), _t(c["kind"]), verdict, _t(tightness_text(c)), c["cases"],
                     fmt_num(c["duration_s"], 3)])
    return _table(["claim", "kind", "verdict", "tightness / rate", "cases", "time (s)"], rows)


def _theorem_table(report: dict[str, Any]) -> list[str]:
    rows = [[f"[{_t(t['theorem'])}](#{_t(t['theorem'])})", t["verdict"] or "—",
             "yes" if t["passed"] else "**no**", t["claims"],
             ", ".join(f"{k} {v}" for k, v in t["by_verdict"].items()),
             f"{t['twins']['falsified']}/{t['twins']['total']}", fmt_num(t["duration_s"], 3)]
            for t in report.get("theorems", [])]
    return _table(["theorem", "verdict", "passed", "claims", "verdicts", "twins rejected",
                   "time (s)"], rows)


def _claim_section(group: list[dict[str, Any]], files: dict[str, str],
                   failed: dict[str, str]) -> list[str]:
    c = group[0]
    verdicts = ", ".join(f"{x['verdict']} ({_t(x['run_label'])})" if x.get("run_label")
                         else x["verdict"] for x in group)
    out = [f"### {_code(c['id'])} — {verdicts}", "", f"**{_t(c['title'])}**", "",
           f"$$ {_math(c['statement'])} $$", "", f"Source: {_t(c['source'])}", ""]
    for x in group:
        prefix = f"**{_t(x['run_label'])}**: " if x.get("run_label") else ""
        out += [f"- {prefix}{_t(line)}" for line in detail_lines(x)]
        if worst_case_text(x):
            out.append(f"- {prefix}worst case: {_t(worst_case_text(x))}")
        out.append(f"- {prefix}reproduce: {_code(x['reproduce'])}")
    out.append("")
    if c["id"] in files:
        out += [f"![plot of {_t(c['id'])}]({files[c['id']]})", ""]
    elif c["id"] in failed:
        out += [f"_No plot: {_t(failed[c['id']])}_", ""]
    steps = derivation_steps(c)
    if steps:
        out += [f"<details><summary>{_t(steps_summary(steps))}</summary>", ""]
        out += _table(["step", "statement", "justification", "sympy", "numeric", "status"],
                      [[s.get("index"), _code(s.get("statement")),
                        _t(s.get("justification", "")), _t(s.get("symbolic")),
                        _t(s.get("numeric")), _t(s.get("status"))] for s in steps])
        out += ["</details>", ""]
    for x in group:
        if x.get("message"):
            label = f" ({_t(x['run_label'])})" if x.get("run_label") else ""
            out += [f"<details><summary>messages{label}</summary>", "", *_fence(x["message"]),
                    "", "</details>", ""]
    return out
