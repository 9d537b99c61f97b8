"""Small formatting helpers shared by the Markdown and HTML renderers."""

from __future__ import annotations

from typing import Any

from ..engine.verdicts import summarize

__all__ = ["fmt_num", "ratio_text", "tightness_text", "expectation", "banner"]


def fmt_num(x: Any, digits: int = 4) -> str:
    """A number for people: integers in full (seeds, widths), floats to ``digits``
    significant digits.

    >>> fmt_num(3320900418859779104), fmt_num(0.123456789), fmt_num(None)
    ('3320900418859779104', '0.1235', '—')
    """
    if isinstance(x, bool) or x is None:
        return "—" if x is None else str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def ratio_text(x: Any) -> str:
    """A ratio with enough digits to tell 1 - 1e-9 from 1."""
    if isinstance(x, (int, float)) and 0.9999 < x < 1:
        return f"1 - {1 - x:.1e}"
    return fmt_num(x, 8)


def tightness_text(claim: dict[str, Any]) -> str:
    """One short phrase: how tight the bound is, the fitted rate, or the error."""
    kind, t = claim["kind"], claim.get("tightness") or {}
    if claim.get("rate"):
        r = claim["rate"]
        lo, hi = r["ci"]
        return f"slope {r['fitted']:.3f} [{lo:.3f}, {hi:.3f}] vs {r['claimed']:.3g}"
    if claim.get("violations"):
        v = claim["violations"]
        return (f"{v['count']}/{v['n']} violations (δ={v['delta']:g}, "
                f"p ≤ {v['upper_bound']:.3g}); max ratio {fmt_num(t.get('max'))}")
    if kind == "identity" and "max" in t:
        return f"max rel. error {fmt_num(t['max'], 3)}"
    if kind == "bound" and "max" in t:
        text = f"max ratio {ratio_text(t['max'])}"
        if "known_sup" in t and isinstance(t.get("max"), (int, float)):
            text += f" ({100 * t['max'] / t['known_sup']:.1f}% of sup {t['known_sup']:g})"
        return text
    if kind == "separation" and "max" in t:
        return f"gap {fmt_num(t['max'], 3)}"
    if kind == "derivation":
        steps: list[Any] = next((c["data"].get("derivation", {}).get("steps", [])
                      for c in claim.get("checks", []) if c["kind"] == "derivation"), [])
        return f"{len(steps)} steps checked" if steps else ""
    return ""


def expectation(claim: dict[str, Any]) -> str:
    if claim.get("twin_of"):
        if claim["verdict"] == "SKIPPED":
            return "skipped (not applicable here)"
        ok = claim["verdict"] == "FALSIFIED"
        return "rejected as expected" if ok else "NOT rejected (framework lost power)"
    return ""


def banner(report: dict[str, Any]) -> str:
    run = report["run"]
    if not run.get("complete", False):
        return ("PARTIAL REPORT: this run did not complete (interrupted or crashed); "
                "it shows the claims recorded before it stopped.")
    return ""


# -- the reporter's phrases (report.md, report.html) ---------------------------

__all__ += ["detail_lines", "worst_case_text", "derivation_steps", "steps_summary",
            "result_line", "run_passed", "run_device", "PLOTS_OFF"]

#: What the report says when matplotlib is missing.
PLOTS_OFF = "Plots are off: matplotlib is not installed (pip install 'ntkproof[plots]')."


def result_line(report: dict[str, Any]) -> str:
    """The run's headline (:func:`ntkproof.engine.verdicts.headline`), e.g. 'PASSED: 62
    verified (30 PROVED, 32 HOLDS), 2 INCONCLUSIVE (not verified); 58 of 58 falsified
    twins rejected'. Reports written before headlines existed get one computed from
    their claims."""
    s = report["summary"]
    if "headline" not in s:
        s = summarize(report["claims"], complete=bool(report["run"].get("complete")),
                      missing=s.get("missing", ()), problems=s.get("problems", ()))
    return str(s["headline"])


def run_passed(report: dict[str, Any]) -> bool:
    """Whether the run passed (recomputed for reports without a status)."""
    s = report["summary"]
    if "status" not in s:
        s = summarize(report["claims"], complete=bool(report["run"].get("complete")))
    return bool(s["passed"])


def _bound_lines(t: dict[str, Any]) -> list[str]:
    if not isinstance(t.get("max"), (int, float)):
        return []
    line = (f"ratio lhs/rhs: max {ratio_text(t['max'])}, median {fmt_num(t.get('median'))}, "
            f"p90 {fmt_num(t.get('p90'))}")
    if t.get("known_sup"):
        reached = t["max"] / t["known_sup"]
        line += f"; known supremum {t['known_sup']:g}: " + (
            f"the search reached {100 * reached:.2f}% of it" if not 0.9999 < reached < 1
            else f"the search reached it to within {1 - reached:.1e} (relative)")
    return [line]


def _rate_lines(r: dict[str, Any]) -> list[str]:
    lo, hi = r["ci"]
    var = r.get("variable", "m")
    kind = "attained (two-sided)" if r.get("attained") else "upper"
    widths = r.get("widths") or []
    span = f" over {var} = {fmt_num(min(widths))} … {fmt_num(max(widths))}" if widths else ""
    slack = f", slack {r['slack']:g}" if "slack" in r else ""
    return [f"fitted exponent of {var}: {r['fitted']:.4f}, 99.8% bootstrap interval "
            f"[{lo:.4f}, {hi:.4f}]; claimed {r['claimed']:g} ({kind} rate{slack}){span}"]


def _violation_lines(v: dict[str, Any]) -> list[str]:
    conf = 1 - float(v.get("alpha", 1e-3))
    line = (f"{v['count']} violations in {v['n']} draws (allowed rate δ = {v['delta']:g}); "
            f"Clopper–Pearson upper bound on the violation rate {v['upper_bound']:.4g} "
            f"at {100 * conf:g}% confidence")
    if "p_value" in v:
        line += f"; binomial p-value {v['p_value']:.3g}"
    return [line]


def _separation_lines(c: dict[str, Any]) -> list[str]:
    for check in c.get("checks") or []:
        d = check.get("data") or {}
        if d.get("gap_ci"):
            la, lb = (d.get("labels") or ["A", "B"])[:2]
            lo, hi = d["gap_ci"]
            gap = (c.get("tightness") or {}).get("max")
            return [f"gap {lb} − {la}: {fmt_num(gap)} (one-sided 99.9% bounds "
                    f"[{fmt_num(lo)}, {fmt_num(hi)}]) over {len(d.get('a', []))} seeds"]
    return []


def certificate_lines(claim: dict[str, Any]) -> list[str]:
    """One line per ``certify`` check of the claim (``data["certificate"]`` of the
    check): where it certified, with which local and tail arguments, how many boxes
    at what precision in how long; or the counterexample; or the volume left undecided.

    >>> cert = {"box": {"z": [-10.0, 10.0]}, "boxes": 7012, "prec": 80, "seconds": 0.02,
    ...         "arguments": ["tail z ≥ 10 by u = e^{-z}"], "undecided_volume": 0.0,
    ...         "counterexample": None}
    >>> certificate_lines({"checks": [{"kind": "certify", "verdict": "CERTIFIED",
    ...                                "data": {"certificate": cert}}]})
    ['certified on z ∈ [-10, 10] (tail z ≥ 10 by u = e^{-z}): 7,012 boxes at 80 bits in 0.02 s']
    """
    lines = []
    for check in claim.get("checks") or []:
        cert = (check.get("data") or {}).get("certificate")
        if check.get("kind") != "certify" or not cert:
            continue
        where = ", ".join(f"{k} ∈ [{fmt_num(lo, 6)}, {fmt_num(hi, 6)}]"
                          for k, (lo, hi) in (cert.get("box") or {}).items())
        args = f" ({'; '.join(cert['arguments'])})" if cert.get("arguments") else ""
        n = int(cert.get("boxes") or 0)
        cost = (f"{n:,} {'box' if n == 1 else 'boxes'} at {cert.get('prec')} bits in "
                f"{fmt_num(cert.get('seconds'), 2)} s")
        ce, verdict = cert.get("counterexample"), check.get("verdict")
        if verdict == "FALSIFIED" and ce:
            point = ", ".join(f"{k} = {fmt_num(v, 10)}" for k, v in (ce.get("point") or {}).items())
            lines.append(f"falsified at {point}: lhs {fmt_num(ce.get('lhs'), 8)} > rhs "
                         f"{fmt_num(ce.get('rhs'), 8)} (ratio {fmt_num(ce.get('ratio'), 8)}, "
                         f"re-checked at {ce.get('prec')} bits); {cost}")
        elif verdict == "CERTIFIED":
            lines.append(f"certified on {where}{args}: {cost}")
        else:
            vol = 100 * float(cert.get("undecided_volume") or 0)
            lines.append(f"{verdict}: {fmt_num(vol, 3)}% of the volume of {where} undecided"
                         f"{args}; {cost}")
    return lines


def detail_lines(claim: dict[str, Any]) -> list[str]:
    """The aggregate facts of one claim, one phrase per line (no markup)."""
    t, kind = claim.get("tightness") or {}, claim["kind"]
    lines: list[str] = []
    if claim.get("rate"):
        lines += _rate_lines(claim["rate"])
    elif claim.get("violations"):
        lines += _violation_lines(claim["violations"]) + _bound_lines(t)
    elif kind == "bound":
        lines += _bound_lines(t)
    elif kind == "identity" and isinstance(t.get("max"), (int, float)):
        lines.append(f"relative error: max {fmt_num(t['max'], 3)}, median "
                     f"{fmt_num(t.get('median'), 3)}, p90 {fmt_num(t.get('p90'), 3)}")
    elif kind == "separation":
        lines += _separation_lines(claim)
    lines += certificate_lines(claim)
    if claim.get("twin_of"):
        lines.append(f"falsified twin of {claim['twin_of']}: {expectation(claim)}")
    lines.append(f"{claim['cases']} cases in {fmt_num(claim['duration_s'], 3)} s on "
                 f"{claim['backend']}")
    return lines


def worst_case_text(claim: dict[str, Any]) -> str:
    wc = claim.get("worst_case")
    if not wc or claim["verdict"] == "PROVED":
        return ""
    params = ", ".join(f"{k}={fmt_num(v, 6)}" for k, v in (wc.get("params") or {}).items())
    return (f"{params}; lhs={fmt_num(wc.get('lhs'), 8)}, rhs={fmt_num(wc.get('rhs'), 8)}, "
            f"ratio={fmt_num(wc.get('ratio'), 8)}"
            + (f", seed {wc['seed']}" if wc.get("seed") is not None else ""))


def derivation_steps(claim: dict[str, Any]) -> list[dict[str, Any]]:
    """The derivation steps stored with the claim (empty when it has none)."""
    for check in claim.get("checks") or []:
        steps = ((check.get("data") or {}).get("derivation") or {}).get("steps")
        if steps:
            return list(steps)
    return []


def steps_summary(steps: list[dict[str, Any]]) -> str:
    """'derivation: 10 steps; sympy closed 10, numerically agree 10'."""
    closed = sum(1 for s in steps if s.get("symbolic") == "closed")
    agree = sum(1 for s in steps if s.get("numeric") == "agree")
    return (f"derivation: {len(steps)} steps; closed by sympy {closed}, "
            f"agree numerically {agree}")


def run_device(run: dict[str, Any]) -> str:
    """Where a torch run computed (run.json's ``machine.device``), or ''."""
    machine = run.get("machine")
    return str(machine.get("device") or "") if isinstance(machine, dict) else ""
