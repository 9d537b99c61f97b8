"""report.html: one self-contained page (inline CSS, no external resources)."""

from __future__ import annotations

import html
from itertools import groupby
from typing import Any

from .format import banner, expectation, fmt_num, tightness_text

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#1d2430;line-height:1.45;padding:0 1em}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border:1px solid #d5d9e0;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f2f6} code,pre{font-family:ui-monospace,Menlo,Consolas,monospace}
pre{background:#f6f7f9;padding:.6em;overflow-x:auto;font-size:.85em;white-space:pre-wrap}
.badge{display:inline-block;padding:.05em .5em;border-radius:.6em;font-weight:600;
font-size:.85em;color:#fff}
.PROVED,.CERTIFIED{background:#1b7f3b}.HOLDS{background:#2f8f4e}.FALSIFIED{background:#b3261e}
.INCONCLUSIVE{background:#b07d00}.ERROR{background:#6d1b7b}.SKIPPED{background:#777}
.twin-ok{background:#35607f}
.banner{background:#fff4ce;border:1px solid #d6b656;padding:.7em;font-weight:600}
.pass{color:#1b7f3b}.fail{color:#b3261e} .claim{margin:1.2em 0;padding:.6em 1em;
border:1px solid #e1e4ea;border-radius:6px}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _badge(c: dict[str, Any]) -> str:
    cls = c["verdict"]
    if c.get("twin_of") and c["verdict"] == "FALSIFIED":
        cls += " twin-ok"
    return f'<span class="badge {cls}">{_e(c["verdict"])}</span>'


def render_html(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>ntkproof report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>ntkproof verification report</h1>"]
    if banner(report):
        parts.append(f"<p class='banner'>{_e(banner(report))}</p>")
    ok = summary.get("passed")
    parts.append(
        f"<p>Run <code>{_e(run['id'])}</code> · backend <b>{_e(run['backend'])}:"
        f"{_e(run['dtype'])}</b> · budget <b>{_e(run['budget'])}</b> · seed {_e(run['seed'])}"
        f" · {_e(run['started_at'])}</p><p>Command: <code>{_e(run['command'])}</code></p>"
        f"<p class='{'pass' if ok else 'fail'}'><b>{'PASSED' if ok else 'FAILED'}</b> — "
        + _e(", ".join(f"{k} {v}" for k, v in summary["by_verdict"].items()))
        + f" ({summary['total']} claims)</p>")
    parts.append("<table><tr><th>claim</th><th>kind</th><th>verdict</th>"
                 "<th>tightness / rate</th><th>cases</th><th>time (s)</th></tr>")
    for c in report["claims"]:
        parts.append(
            f"<tr><td><a href='#{_e(c['id'])}'><code>{_e(c['id'])}</code></a></td>"
            f"<td>{_e(c['kind'])}</td><td>{_badge(c)} {_e(expectation(c))}</td>"
            f"<td>{_e(tightness_text(c))}</td><td>{c['cases']}</td>"
            f"<td>{fmt_num(c['duration_s'], 3)}</td></tr>")
    parts.append("</table>")
    for theorem, claims in groupby(report["claims"], key=lambda c: c["theorem"]):
        parts.append(f"<h2>{_e(theorem)}</h2>")
        parts += [_claim_html(c) for c in claims]
    parts.append("</body></html>")
    return "\n".join(parts)


def _claim_html(c: dict[str, Any]) -> str:
    out = [f"<div class='claim' id='{_e(c['id'])}'><h3><code>{_e(c['id'])}</code> "
           f"{_badge(c)}</h3><p><b>{_e(c['title'])}</b></p>",
           f"<p class='statement'>\\[{_e(c['statement'])}\\]</p>",
           f"<p>Source: {_e(c['source'])}</p>"]
    if c.get("twin_of"):
        out.append(f"<p>Falsified twin of <code>{_e(c['twin_of'])}</code>: "
                   f"{_e(expectation(c))}.</p>")
    t = tightness_text(c)
    if t:
        out.append(f"<p>Tightness: {_e(t)}</p>")
    if c.get("message"):
        out.append(f"<pre>{_e(c['message'])}</pre>")
    wc = c.get("worst_case")
    if wc:
        rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(fmt_num(v, 8))}</td></tr>"
                       for k, v in (wc.get("params") or {}).items())
        out.append(f"<details><summary>worst case: lhs={_e(fmt_num(wc.get('lhs'), 8))}, "
                   f"rhs={_e(fmt_num(wc.get('rhs'), 8))}, ratio={_e(fmt_num(wc.get('ratio'), 8))}"
                   f"</summary><table>{rows}</table></details>")
    out.append(f"<p>Reproduce: <code>{_e(c['reproduce'])}</code></p></div>")
    return "\n".join(out)
