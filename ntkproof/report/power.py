"""Tightness and power: how close each numeric check came to the worst case, and which
wrong variants it would have caught.

A pure function of the claim records (:func:`power_table`), stored in report.json as
``power`` and shown first in report.md and report.html. One row per numeric claim:

* **tightness** — bounds: the largest ratio lhs/rhs found, against the known
  supremum where there is one, and the looseness factor 1/max (how far the right
  side could shrink before a case the search found violates it); rates: the fitted
  exponent and its interval against the claimed one; identities: the largest
  relative error against the tolerance; probabilistic bounds: violations against δ;
  separations: the gap against the margin;
* **power** — rates: the rejection edge (every claimed exponent below it, and for an
  attained rate above the upper edge, would be FALSIFIED by this ladder and budget);
  others: what the twins show;
* **twins** — each falsified twin with its verdict, how far it sits from the claim
  (``distance``), whether that is within the check's resolving power (``near``: a
  constant off by at most 10%, an exponent off by at most max(0.1, three interval
  half-widths) from the claimed or the fitted exponent — a loose upper rate shows its
  power with a twin just past what the data resolve — or the twin's own declaration)
  and by how much it was rejected.

A claim has power only when it was decided and a near twin was rejected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..engine.verdicts import DECIDED

__all__ = ["power_table", "tightness_cell", "power_cell", "twins_cell", "NEAR_CONSTANT",
           "NEAR_EXPONENT", "NUMERIC_KINDS"]

#: A constant off by at most 10% (0.9 moves a ratio by 1/0.9 - 1 = 0.111...), with room
#: for the ratio being measured on the twin's own worst case.
NEAR_CONSTANT = 1 / 0.9 - 1 + 5e-4
#: An exponent off by at most max(NEAR_EXPONENT, three interval half-widths).
NEAR_EXPONENT = 0.1
NUMERIC_KINDS = ("identity", "bound", "probabilistic_bound", "rate", "separation")


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _key(c: Mapping[str, Any]) -> tuple[str, Any]:
    return c["id"], c.get("run_label")


def _tightness(c: Mapping[str, Any]) -> dict[str, Any]:
    t, kind = c.get("tightness") or {}, c["kind"]
    out: dict[str, Any] = {}
    if c.get("rate"):
        r = c["rate"]
        out.update(claimed=r["claimed"], fitted=r["fitted"], ci=r["ci"],
                   attained=bool(r.get("attained")), slack=r.get("slack"),
                   slack_reason=r.get("slack_reason", ""), drift=r.get("drift"))
    elif kind in ("bound", "probabilistic_bound") and _num(t.get("max")) is not None:
        top = float(t["max"])
        out.update(max_ratio=top, known_sup=t.get("known_sup"),
                   looseness=(1 / top if top > 0 else None))
        if _num(t.get("known_sup")):
            out["sup_reached"] = top / float(t["known_sup"])
        if c.get("violations"):
            v = c["violations"]
            out.update(violations=v["count"], draws=v["n"], delta=v["delta"],
                       upper_bound=v["upper_bound"])
    elif kind == "identity" and _num(t.get("max")) is not None:
        out.update(max_error=float(t["max"]))
    elif kind == "separation":
        gap_ci = next((ch.get("data", {}).get("gap_ci") for ch in c.get("checks") or []
                       if ch.get("data", {}).get("gap_ci")), None)
        margin = ((c.get("worst_case") or {}).get("params") or {}).get("margin")
        out.update(gap=_num(t.get("max")), gap_ci=gap_ci, margin=margin)
    return out


def _edge(c: Mapping[str, Any]) -> dict[str, Any]:
    r = c.get("rate") or {}
    if "rejects_below" in r:
        return {"rejects_below": r["rejects_below"], "rejects_above": r.get("rejects_above")}
    return {}


def _distance(twin: Mapping[str, Any], claim: Mapping[str, Any]) -> tuple[float | None, str]:
    """How far the twin's statement sits from the claim's, in the check's own unit."""
    kind = claim["kind"]
    if twin.get("rate") and claim.get("rate"):
        # an exponent just past what the data resolve is near even when the claim itself
        # is loose: the distance is to the nearer of the claimed and the fitted exponent
        t = float(twin["rate"]["claimed"])
        d = min(abs(t - float(claim["rate"]["claimed"])), abs(t - float(claim["rate"]["fitted"])))
        return d, f"exponent {d:.3g} from the claim's or the fitted one"
    tt, ct = twin.get("tightness") or {}, claim.get("tightness") or {}
    if kind in ("bound", "probabilistic_bound") and _num(tt.get("max")) and _num(ct.get("max")):
        if float(ct["max"]) > 0 and twin.get("kind") == kind:
            d = abs(float(tt["max"]) / float(ct["max"]) - 1)
            return d, f"the same cases' ratio moves by {100 * d:.3g}%"
    if kind == "identity" and _num(tt.get("max")):
        d = float(tt["max"])
        return d, f"relative error {d:.3g} where the claim is exact"
    return None, ""


def _near(twin: Mapping[str, Any], claim: Mapping[str, Any], distance: float | None) -> bool:
    if twin.get("near"):
        return True
    if distance is None:
        return False
    if twin.get("rate") and claim.get("rate"):
        lo, hi = claim["rate"]["ci"]
        return distance <= max(NEAR_EXPONENT, 1.5 * (float(hi) - float(lo))) + 1e-9
    return distance <= NEAR_CONSTANT


def _rejected_by(twin: Mapping[str, Any]) -> str:
    if twin["verdict"] != "FALSIFIED":
        return ""
    if twin.get("rate"):
        r = twin["rate"]
        lo, hi = r["ci"]
        edge = float(r["claimed"]) + float(r.get("slack") or 0)
        if r.get("attained") and hi < float(r["claimed"]) - float(r.get("slack") or 0):
            return f"interval {hi - (float(r['claimed']) - float(r['slack'])):+.3g} past its band"
        return f"interval lies {float(lo) - edge:.3g} above its edge {edge:.3g}"
    t = twin.get("tightness") or {}
    if twin.get("violations"):
        v = twin["violations"]
        return f"{v['count']}/{v['n']} violations (δ = {v['delta']:g})"
    if twin["kind"] in ("bound", "probabilistic_bound") and _num(t.get("max")) \
            and float(t["max"]) > 1:
        return f"largest ratio {float(t['max']):.6g} (> 1 by {float(t['max']) - 1:.3g})"
    if twin["kind"] == "identity" and _num(t.get("max")):
        return f"relative error {float(t['max']):.3g}"
    for ch in twin.get("checks") or []:
        cert = (ch.get("data") or {}).get("certificate")
        if cert and cert.get("counterexample"):
            return f"counterexample at {cert['counterexample'].get('point')}"
    # another check than the primary one rejected it: quote that check
    for ch in twin.get("checks") or []:
        if ch.get("verdict") == "FALSIFIED" and ch.get("message"):
            text = str(ch["message"]).split(";")[0]
            return f"[{ch.get('kind')}] " + (text if len(text) <= 90 else text[:87] + "...")
    return "FALSIFIED"


def power_table(claims: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per numeric claim (twins listed under their claim; see the module)."""
    twins: dict[tuple[str, Any], list[Mapping[str, Any]]] = {}
    for c in claims:
        if c.get("twin_of"):
            twins.setdefault((c["twin_of"], c.get("run_label")), []).append(c)
    rows = []
    for c in claims:
        if c.get("twin_of") or c["kind"] not in NUMERIC_KINDS:
            continue
        row: dict[str, Any] = {"id": c["id"], "kind": c["kind"], "verdict": c["verdict"],
                               "tightness": _tightness(c), "power": _edge(c), "twins": []}
        if c.get("run_label"):
            row["run_label"] = c["run_label"]
        for tw in twins.get(_key(c), []):
            distance, unit = _distance(tw, c)
            row["twins"].append({
                "id": tw["id"], "verdict": tw["verdict"], "distance": distance,
                "distance_text": tw.get("near") or unit, "near": _near(tw, c, distance),
                "rejected_by": _rejected_by(tw)})
        row["has_near_twin"] = any(t["near"] and t["verdict"] == "FALSIFIED"
                                   for t in row["twins"])
        row["shows_power"] = row["has_near_twin"] and c["verdict"] in DECIDED
        rows.append(row)
    return rows


# -- the table's cells, shared by report.md and report.html ---------------------

def _g(x: Any, digits: int = 4) -> str:
    return f"{x:.{digits}g}" if isinstance(x, (int, float)) else "—"


def tightness_cell(row: Mapping[str, Any]) -> str:
    t, kind = row["tightness"], row["kind"]
    if "fitted" in t:
        lo, hi = t["ci"]
        return f"exponent {t['fitted']:.3f} [{lo:.3f}, {hi:.3f}] vs claimed {t['claimed']:.3g}"
    if "max_ratio" in t:
        text = f"max ratio {_g(t['max_ratio'], 6)}"
        if t.get("sup_reached") is not None:
            text += f" ({100 * t['sup_reached']:.2f}% of the known sup {_g(t['known_sup'])})"
        elif t.get("looseness"):
            text += f"; bound loose by ×{_g(t['looseness'], 3)} on the cases found"
        if "violations" in t:
            text += f"; {t['violations']}/{t['draws']} violations (δ = {_g(t['delta'])})"
        return text
    if "max_error" in t:
        return f"max relative error {_g(t['max_error'], 3)}"
    if kind == "separation":
        ci = t.get("gap_ci") or [None, None]
        return f"gap {_g(t.get('gap'), 3)} (bounds [{_g(ci[0], 3)}, {_g(ci[1], 3)}]) vs " \
               f"margin {_g(t.get('margin'), 3)}"
    return ""


def power_cell(row: Mapping[str, Any]) -> str:
    p = row["power"]
    if "rejects_below" in p:
        text = f"rejects claimed exponents < {p['rejects_below']:.3f}"
        if p.get("rejects_above") is not None:
            text += f" or > {p['rejects_above']:.3f}"
        return text
    return ""


def twins_cell(row: Mapping[str, Any]) -> str:
    if not row["twins"]:
        return "no twin"
    parts = []
    for t in row["twins"]:
        near = "near" if t["near"] else "far"
        how = f", {t['rejected_by']}" if t["rejected_by"] else ""
        dist = f" ({t['distance_text']})" if t["distance_text"] else ""
        parts.append(f"{t['id'].rsplit('.', 1)[-1]}: {t['verdict']}, {near}{dist}{how}")
    return "; ".join(parts)
