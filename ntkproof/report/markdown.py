"""report.md: a Markdown rendering of report.json that reads well on a code host."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from .format import banner, expectation, fmt_num, tightness_text

__all__ = ["render_markdown"]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    lines = ["# ntkproof verification report", ""]
    if banner(report):
        lines += [f"> **{banner(report)}**", ""]
    lines += [
        f"Run `{run['id']}` · backend **{run['backend']}:{run['dtype']}** · budget "
        f"**{run['budget']}** · seed {run['seed']} · started {run['started_at']} · "
        f"finished {run.get('finished_at') or '—'}", "",
        f"Command: `{run['command']}`", "",
        "**Result: " + ("PASSED" if summary.get("passed") else "FAILED") + "** — "
        + ", ".join(f"{k} {v}" for k, v in summary["by_verdict"].items())
        + f" ({summary['total']} claims"
        + (f"; twins falsified {summary['twins']['falsified']}/{summary['twins']['total']}"
           if summary.get("twins") else "") + ")", "",
    ]
    if summary.get("failures"):
        lines += ["Failing claims: " + ", ".join(f"`{f}`" for f in summary["failures"]), ""]
    lines += ["| claim | kind | verdict | tightness / rate | cases | time (s) |",
              "|---|---|---|---|---|---|"]
    for c in report["claims"]:
        verdict = c["verdict"] + (f" ({expectation(c)})" if c.get("twin_of") else "")
        lines.append(f"| `{c['id']}` | {c['kind']} | {_cell(verdict)} | "
                     f"{_cell(tightness_text(c))} | {c['cases']} | {fmt_num(c['duration_s'], 3)} |")
    lines.append("")
    for theorem, claims in groupby(report["claims"], key=lambda c: c["theorem"]):
        lines += [f"## {theorem}", ""]
        for c in claims:
            lines += _claim_section(c)
    return "\n".join(lines) + "\n"


def _claim_section(c: dict[str, Any]) -> list[str]:
    out = [f"### `{c['id']}` — {c['verdict']}", "", f"**{c['title']}**", "",
           f"$$ {c['statement']} $$", "", f"Source: {c['source']}", ""]
    if c.get("twin_of"):
        out += [f"Falsified twin of `{c['twin_of']}`: {expectation(c)}.", ""]
    t = tightness_text(c)
    if t:
        out += [f"Tightness: {t}", ""]
    if c.get("message"):
        out += ["```", c["message"], "```", ""]
    wc = c.get("worst_case")
    if wc and (c["verdict"] not in ("PROVED",)):
        params = ", ".join(f"{k}={fmt_num(v, 6)}" for k, v in (wc.get("params") or {}).items())
        out += [f"Worst case: {params}; lhs={fmt_num(wc.get('lhs'), 8)}, "
                f"rhs={fmt_num(wc.get('rhs'), 8)}, ratio={fmt_num(wc.get('ratio'), 8)}", ""]
    out += [f"Reproduce: `{c['reproduce']}`", ""]
    return out
