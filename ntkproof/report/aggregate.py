"""Aggregation of a report: per claim, per theorem, and the claim × backend matrix.

Everything here is a pure function of the report dictionary (the stored JSON);
:func:`enrich` writes the results back into it so that the renderers and
``ntkproof diff`` read them from ``report.json`` rather than recomputing them.

Theorem verdicts roll up the theorem's claims (falsified twins aside) to the
weakest one: ERROR > FALSIFIED > INCONCLUSIVE > HOLDS > CERTIFIED > PROVED. A
SKIPPED claim counts only when every claim was skipped (a claim that does not
apply on a backend does not weaken a theorem whose other claims hold). Twins are
reported next to the verdict (``twins``) and enter ``passed`` exactly as they
enter the run's (see :mod:`ntkproof.engine.verdicts`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..engine.verdicts import SEVERITY, VERDICTS, run_failures
from .power import power_table

__all__ = ["SEVERITY", "column_of", "theorem_verdict", "aggregate_theorems", "backend_matrix",
           "sup_reached", "enrich"]



def column_of(claim: dict[str, Any]) -> str:
    """The column of a claim in a merged report: its run label, else its backend."""
    return str(claim.get("run_label") or claim["backend"])


def theorem_verdict(claims: list[dict[str, Any]]) -> str | None:
    """The weakest verdict among the theorem's non-twin claims (None: only twins)."""
    verdicts = [c["verdict"] for c in claims if not c.get("twin_of")]
    if not verdicts:
        return None
    applicable = [v for v in verdicts if v != "SKIPPED"] or verdicts
    return max(applicable, key=SEVERITY.__getitem__)


def sup_reached(tightness: dict[str, Any]) -> float | None:
    """max / known_sup: how far the search came toward the true supremum."""
    top, sup = tightness.get("max"), tightness.get("known_sup")
    if isinstance(top, (int, float)) and isinstance(sup, (int, float)) and sup != 0:
        return float(top) / float(sup)
    return None


def _theorem_row(name: str, claims: list[dict[str, Any]]) -> dict[str, Any]:
    twins = [c for c in claims if c.get("twin_of")]
    counts = Counter(c["verdict"] for c in claims if not c.get("twin_of"))
    failures = run_failures(claims)
    return {
        "theorem": name, "verdict": theorem_verdict(claims), "passed": not failures,
        "claims": sum(counts.values()),
        "by_verdict": {v: counts[v] for v in VERDICTS if counts[v]},
        "twins": {"total": len(twins),
                  "falsified": sum(1 for c in twins if c["verdict"] == "FALSIFIED")},
        "duration_s": round(sum(float(c.get("duration_s") or 0) for c in claims), 4),
        "columns": sorted({column_of(c) for c in claims}),
        "failures": failures,
    }


def aggregate_theorems(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per theorem, in the order the theorems first appear."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in claims:
        groups.setdefault(c["theorem"], []).append(c)
    return [_theorem_row(name, group) for name, group in groups.items()]


def backend_matrix(claims: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    """Claim × column verdicts; ``agree`` is false when the columns disagree."""
    rows: dict[str, dict[str, Any]] = {}
    for c in claims:
        row = rows.setdefault(c["id"], {"id": c["id"], "theorem": c["theorem"],
                                         "verdicts": {}})
        if c.get("twin_of"):
            row["twin_of"] = c["twin_of"]
        row["verdicts"][column_of(c)] = c["verdict"]
    for row in rows.values():
        row["agree"] = len(set(row["verdicts"].values())) == 1
    return {"columns": list(columns), "rows": list(rows.values())}


def enrich(report: dict[str, Any]) -> dict[str, Any]:
    """Add the aggregates to ``report`` in place (and return it).

    Adds ``tightness.sup_reached`` to bound claims with a known supremum,
    ``theorems`` (one row each), ``power`` (:mod:`.power`: tightness, rejection edges
    and twins per numeric claim), ``summary.duration_s`` and ``summary.theorems``,
    and, for merged reports (``merged`` present), ``merged.matrix``.
    """
    claims = report["claims"]
    for c in claims:
        reached = sup_reached(c.get("tightness") or {})
        if reached is not None:
            c["tightness"]["sup_reached"] = reached
    report["theorems"] = aggregate_theorems(claims)
    report["power"] = power_table(claims)
    summary = report["summary"]
    summary["duration_s"] = round(sum(float(c.get("duration_s") or 0) for c in claims), 4)
    summary["theorems"] = {"total": len(report["theorems"]),
                           "passed": sum(1 for t in report["theorems"] if t["passed"])}
    if "merged" in report:
        columns = [r["label"] for r in report["merged"]["runs"]]
        report["merged"]["matrix"] = backend_matrix(claims, columns)
    return report
