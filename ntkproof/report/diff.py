"""Compare two reports: verdict changes, moved tightness and rates, regressions.

``ntkproof diff OLD NEW`` reads the stored JSON of two runs (run folders,
merged report folders, or report.json files) and lists, per claim,

* a changed verdict — a **regression** when a passing claim (PROVED,
  CERTIFIED, HOLDS) is no longer passing, when a claim becomes FALSIFIED or
  ERROR, or when a falsified twin is no longer FALSIFIED;
* a moved tightness: ``tightness.max`` of bound, probabilistic-bound and
  separation claims whose relative change exceeds the threshold;
* a moved rate: ``rate.fitted`` beyond the threshold (relative);
* claims added or removed.

Identities and derivations have no "moved" entry: their tightness is a
rounding error, and only a verdict change is news. Claims are matched by id;
when either report is merged, by id and column (backend label).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..engine.claims import PASSING
from .aggregate import column_of
from .build import load_report

__all__ = ["Change", "diff_reports", "diff_paths", "is_regression", "format_changes"]

_MOVED_KINDS = ("bound", "probabilistic_bound", "separation")


@dataclass
class Change:
    """One difference between the old and the new report."""

    claim: str
    what: str  # "verdict" | "tightness" | "rate" | "added" | "removed"
    old: Any
    new: Any
    regression: bool = False

    def text(self) -> str:
        tag = "REGRESSION" if self.regression else {"verdict": "changed", "tightness": "moved",
                                                    "rate": "moved"}.get(self.what, self.what)
        if self.what == "verdict":
            body = f"verdict {self.old} -> {self.new}"
        elif self.what in ("tightness", "rate"):
            name = "tightness max" if self.what == "tightness" else "fitted rate"
            body = f"{name} {self.old:.6g} -> {self.new:.6g} ({_relative(self.old, self.new):+.1%})"
        elif self.what == "added":
            body = f"new claim, {self.new}"
        else:
            body = f"no longer reported (was {self.old})"
        return f"{tag:<11} {self.claim:<50} {body}"


def is_regression(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether the verdict change from ``old`` to ``new`` is a regression."""
    if new.get("twin_of"):
        return old["verdict"] == "FALSIFIED" and new["verdict"] != "FALSIFIED"
    if old["verdict"] in PASSING and new["verdict"] not in PASSING:
        return True
    bad = ("FALSIFIED", "ERROR")
    return new["verdict"] in bad and old["verdict"] not in bad


def _relative(old: float, new: float) -> float:
    return (new - old) / max(abs(old), 1e-300)


def _number(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _moved(name: str, old: dict[str, Any], new: dict[str, Any],
           threshold: float) -> list[Change]:
    out: list[Change] = []
    if new["kind"] == "rate":
        a, b = (_number((c.get("rate") or {}).get("fitted")) for c in (old, new))
        what = "rate"
    elif new["kind"] in _MOVED_KINDS:
        a, b = (_number((c.get("tightness") or {}).get("max")) for c in (old, new))
        what = "tightness"
    else:
        return out
    if a is not None and b is not None and abs(_relative(a, b)) > threshold:
        out.append(Change(name, what, a, b))
    return out


def _index(report: dict[str, Any], by_column: bool) -> dict[str, dict[str, Any]]:
    return {(f"{c['id']} [{column_of(c)}]" if by_column else c["id"]): c
            for c in report["claims"]}


def diff_reports(old: dict[str, Any], new: dict[str, Any], *,
                 threshold: float = 0.05) -> list[Change]:
    """Every difference between the two reports (regressions first)."""
    by_column = "merged" in old or "merged" in new
    a, b = _index(old, by_column), _index(new, by_column)
    changes: list[Change] = []
    for name in sorted(a.keys() | b.keys()):
        if name not in b:
            changes.append(Change(name, "removed", a[name]["verdict"], None))
        elif name not in a:
            changes.append(Change(name, "added", None, b[name]["verdict"]))
        elif a[name]["verdict"] != b[name]["verdict"]:
            changes.append(Change(name, "verdict", a[name]["verdict"], b[name]["verdict"],
                                  regression=is_regression(a[name], b[name])))
        else:
            changes += _moved(name, a[name], b[name], threshold)
    return sorted(changes, key=lambda c: not c.regression)


def diff_paths(old: str | os.PathLike[str], new: str | os.PathLike[str], *,
               threshold: float = 0.05) -> list[Change]:
    """:func:`diff_reports` of two stored runs or reports."""
    return diff_reports(load_report(old), load_report(new), threshold=threshold)


def format_changes(changes: list[Change], threshold: float) -> str:
    """The lines ``ntkproof diff`` prints, with a one-line tally."""
    lines = [c.text() for c in changes]
    count = {w: sum(1 for c in changes if c.what == w) for w in
             ("verdict", "tightness", "rate", "added", "removed")}
    regressions = sum(1 for c in changes if c.regression)
    lines.append(f"{regressions} regressions, {count['verdict']} verdict changes, "
                 f"{count['tightness'] + count['rate']} moved beyond {100 * threshold:g}%, "
                 f"{count['added']} added, {count['removed']} removed")
    return "\n".join(lines)
