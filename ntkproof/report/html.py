"""report.html: one self-contained page that works offline.

Inline CSS; plots as base64 PNG; statements typeset by matplotlib's mathtext as
SVG data URIs (:mod:`.mathtext`), the raw LaTeX in ``<code>`` when it cannot
be parsed. No scripts, no external resources. Layout: the run, a summary table
(or the claim × backend matrix of a merged report), the theorems table, then
one section per theorem with its claims.
"""

from __future__ import annotations

import base64
import html
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
    run_passed,
    steps_summary,
    tightness_text,
    worst_case_text,
)
from .mathtext import statement_html
from .power import power_cell, power_table, tightness_cell, twins_cell

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#1d2430;line-height:1.45;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #d5d9e0;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f2f6} code,pre{font-family:ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f7f9;padding:.6em;overflow-x:auto;font-size:.85em;white-space:pre-wrap}
.badge{display:inline-block;padding:.05em .5em;border-radius:.6em;font-weight:600;
font-size:.85em;color:#fff;white-space:nowrap}
.PROVED,.CERTIFIED{background:#1b7f3b}.HOLDS{background:#2f8f4e}.FALSIFIED{background:#b3261e}
.INCONCLUSIVE{background:#b07d00}.ERROR{background:#6d1b7b}.SKIPPED{background:#777}
.twin-ok{background:#35607f}.none{background:#bbb}
.banner{background:#fff4ce;border:1px solid #d6b656;padding:.7em;font-weight:600}
.note{color:#555;font-style:italic}
.pass{color:#1b7f3b}.fail{color:#b3261e} .claim{margin:1.2em 0;padding:.6em 1em;
border:1px solid #e1e4ea;border-radius:6px} .disagree{background:#fff1f0}
.statement{margin:.6em 0;overflow-x:auto} img.math{vertical-align:middle;max-width:100%}
img.plot{max-width:100%;height:auto;display:block;margin:.5em 0}
ul.facts{margin:.3em 0;padding-left:1.2em} .label{font-weight:600;color:#35607f}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _badge(verdict: str | None, twin_ok: bool = False) -> str:
    if verdict is None:
        return "<span class='badge none'>—</span>"
    cls = verdict + (" twin-ok" if twin_ok else "")
    return f"<span class='badge {cls}'>{_e(verdict)}</span>"


def _claim_badge(c: dict[str, Any]) -> str:
    return _badge(c["verdict"], bool(c.get("twin_of")) and c["verdict"] == "FALSIFIED")


def _matrix_badge(row: dict[str, Any], column: str) -> str:
    verdict = row["verdicts"].get(column)
    return _badge(verdict, bool(row.get("twin_of")) and verdict == "FALSIFIED")


def _table(head: list[str], rows: list[str]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(report: dict[str, Any], plots: Any = None) -> str:
    """The page; ``plots`` (a :class:`~.plots.Plots`) supplies the PNG images."""
    parts = ["<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<title>ntkproof report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>ntkproof verification report</h1>"]
    if banner(report):
        parts.append(f"<p class='banner'>{_e(banner(report))}</p>")
    parts += _header(report)
    parts += ["<h2 id='power'>Tightness and power</h2>", _power_table(report),
              "<h2 id='summary'>Summary</h2>", _summary_table(report),
              "<h2 id='theorems'>Theorems</h2>", _theorem_table(report)]
    if plots is None or plots.off:
        parts.append(f"<p class='note'>{_e(PLOTS_OFF if plots is not None else 'No plots.')}</p>")
    images = plots.images if plots is not None else {}
    failed = plots.failed if plots is not None else {}
    rows = {t["theorem"]: t for t in report.get("theorems", [])}
    for theorem, claims in groupby(report["claims"], key=lambda c: c["theorem"]):
        verdict = (rows.get(theorem) or {}).get("verdict")
        parts.append(f"<section id='thm-{_e(theorem)}'><h2>{_e(theorem)} {_badge(verdict)}</h2>")
        for _cid, group in groupby(claims, key=lambda c: c["id"]):
            parts.append(_claim_html(list(group), images, failed))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _header(report: dict[str, Any]) -> list[str]:
    run, summary = report["run"], report["summary"]
    ok = run_passed(report)
    out = [f"<p>Run <code>{_e(run['id'])}</code> · backend <b>{_e(run['backend'])}:"
           f"{_e(run['dtype'])}</b> · budget <b>{_e(run['budget'])}</b> · seed "
           f"{_e(run['seed'])} · started {_e(run['started_at'])} · finished "
           f"{_e(run.get('finished_at') or '—')}"
           + (f" · torch device <b>{_e(device)}</b>" if (device := run_device(run)) else "")
           + "</p>",
           f"<p>Command: <code>{_e(run['command'])}</code></p>",
           f"<p class='{'pass' if ok else 'fail'}'><b>{_e(result_line(report))}</b></p>"]
    if summary.get("failures"):
        out.append("<p class='fail'>Failing claims: "
                   + ", ".join(f"<code>{_e(f)}</code>" for f in summary["failures"]) + "</p>")
    if summary.get("missing"):
        out.append("<p class='fail'>Selected but never recorded (not verified): "
                   + ", ".join(f"<code>{_e(f)}</code>" for f in summary["missing"]) + "</p>")
    if "merged" in report:
        rows = [f"<tr><td>{_e(r['label'])}</td><td>{_e(r['run']['backend'])}:"
                f"{_e(r['run']['dtype'])}</td><td>{_e(r['run']['budget'])}</td>"
                f"<td>{_e(r['run']['seed'])}</td><td>{_e(r['run']['started_at'])}</td>"
                f"<td>{_e(r['run'].get('complete'))}</td><td><code>{_e(r['dir'])}</code></td></tr>"
                for r in report["merged"]["runs"]]
        out += ["<p>Merged from these runs:</p>",
                _table(["column", "backend", "budget", "seed", "started", "complete", "folder"],
                       rows)]
    return out


def _power_table(report: dict[str, Any]) -> str:
    rows = report.get("power") or power_table(report["claims"])
    if not rows:
        return "<p class='note'>No numeric claim in this run.</p>"
    body = [f"<tr class='{'' if r['shows_power'] else 'disagree'}'><td><a href='#{_e(r['id'])}'>"
            f"<code>{_e(r['id']).replace('.', '.<wbr>')}</code></a>"
            + (f" <span class='label'>{_e(r['run_label'])}</span>" if r.get("run_label") else "")
            + f"</td><td>{_badge(r['verdict'])}</td><td>{_e(tightness_cell(r))}</td>"
            f"<td>{_e(power_cell(r))}</td><td>{_e(twins_cell(r))}</td></tr>" for r in rows]
    note = ("<p class='note'>One row per numeric claim. A row is highlighted when the claim "
            "shows no power: it was not decided, or no twin within its resolving power (a "
            "constant off by at most 10%, an exponent by at most max(0.1, three interval "
            "half-widths)) was rejected.</p>")
    return note + _table(["claim", "verdict", "tightness", "rejection edge", "twins"], body)


def _summary_table(report: dict[str, Any]) -> str:
    if "merged" in report:
        m = report["merged"]["matrix"]
        rows = [f"<tr class='{'' if r['agree'] else 'disagree'}'><td><a href='#{_e(r['id'])}'>"
                f"<code>{_e(r['id'])}</code></a></td>"
                + "".join(f"<td>{_matrix_badge(r, col)}</td>" for col in m["columns"])
                + f"<td>{'yes' if r['agree'] else '<b>no</b>'}</td></tr>" for r in m["rows"]]
        return _table(["claim", *m["columns"], "agree"], rows)
    # <wbr> after each dot lets long claim ids wrap at their dots, leaving room for the
    # tightness column
    rows = [f"<tr><td><a href='#{_e(c['id'])}'><code>{_e(c['id']).replace('.', '.<wbr>')}"
            "</code></a></td>"
            f"<td>{_e(c['kind'])}</td><td>{_claim_badge(c)} {_e(expectation(c))}</td>"
            f"<td>{_e(tightness_text(c))}</td><td>{_e(c['cases'])}</td>"
            f"<td>{_e(fmt_num(c['duration_s'], 3))}</td></tr>" for c in report["claims"]]
    return _table(["claim", "kind", "verdict", "tightness / rate", "cases", "time (s)"], rows)


def _theorem_table(report: dict[str, Any]) -> str:
    rows = [f"<tr><td><a href='#thm-{_e(t['theorem'])}'>{_e(t['theorem'])}</a></td>"
            f"<td>{_badge(t['verdict'])}</td>"
            f"<td class='{'pass' if t['passed'] else 'fail'}'>{'yes' if t['passed'] else 'no'}"
            f"</td><td>{t['claims']}</td><td>"
            + _e(", ".join(f"{k} {v}" for k, v in t["by_verdict"].items()))
            + f"</td><td>{t['twins']['falsified']}/{t['twins']['total']}</td>"
            f"<td>{_e(fmt_num(t['duration_s'], 3))}</td></tr>"
            for t in report.get("theorems", [])]
    return _table(["theorem", "verdict", "passed", "claims", "verdicts", "twins rejected",
                   "time (s)"], rows)


def _claim_html(group: list[dict[str, Any]], images: dict[str, bytes],
               failed: dict[str, str]) -> str:
    c = group[0]
    badges = " ".join(_claim_badge(x) + (f" <span class='label'>{_e(x['run_label'])}</span>"
                                         if x.get("run_label") else "") for x in group)
    out = [f"<div class='claim' id='{_e(c['id'])}'><h3><code>{_e(c['id'])}</code> {badges}</h3>",
           f"<p><b>{_e(c['title'])}</b></p>",
           f"<div class='statement'>{statement_html(c['statement'])}</div>",
           f"<p>Source: {_e(c['source'])}</p>"]
    for x in group:
        out.append(_facts(x))
    if c["id"] in images:
        data = base64.b64encode(images[c["id"]]).decode("ascii")
        out.append(f"<img class='plot' alt='plot of {_e(c['id'])}' "
                   f"src='data:image/png;base64,{data}'>")
    elif c["id"] in failed:
        out.append(f"<p class='note'>No plot: {_e(failed[c['id']])}</p>")
    steps = derivation_steps(c)
    if steps:
        out.append(f"<details><summary>{_e(steps_summary(steps))}</summary>")
        out.append(_table(["step", "statement", "justification", "sympy", "numeric", "status"], [
            f"<tr><td>{_e(s.get('index'))}</td><td><code>{_e(s.get('statement'))}</code></td>"
            f"<td>{_e(s.get('justification', ''))}</td><td>{_e(s.get('symbolic'))}</td>"
            f"<td>{_e(s.get('numeric'))}</td><td>{_badge(s.get('status'))}</td></tr>"
            for s in steps]) + "</details>")
    for x in group:
        if x.get("message"):
            label = f" ({x['run_label']})" if x.get("run_label") else ""
            out.append(f"<details><summary>messages{_e(label)}</summary>"
                       f"<pre>{_e(x['message'])}</pre></details>")
    out.append("</div>")
    return "\n".join(out)


def _facts(x: dict[str, Any]) -> str:
    head = f"<span class='label'>{_e(x['run_label'])}</span> " if x.get("run_label") else ""
    items = [f"<li>{_e(line)}</li>" for line in detail_lines(x)]
    wc = worst_case_text(x)
    if wc:
        items.append(f"<li>worst case: {_e(wc)}</li>")
    items.append(f"<li>reproduce: <code>{_e(x['reproduce'])}</code></li>")
    return f"{head}<ul class='facts'>{''.join(items)}</ul>"
