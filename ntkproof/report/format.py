"""Small formatting helpers shared by the Markdown and HTML renderers."""

from __future__ import annotations

from typing import Any

__all__ = ["fmt_num", "ratio_text", "tightness_text", "expectation", "banner"]


def fmt_num(x: Any, digits: int = 4) -> str:
    if isinstance(x, bool) or x is None:
        return "—" if x is None else str(x)
    if isinstance(x, (int, float)):
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
        ok = claim["verdict"] == "FALSIFIED"
        return "rejected as expected" if ok else "NOT rejected (framework lost power)"
    return ""


def banner(report: dict[str, Any]) -> str:
    run = report["run"]
    if not run.get("complete", False):
        return ("PARTIAL REPORT: this run did not complete (interrupted or crashed); "
                "it shows the claims recorded before it stopped.")
    return ""
