"""Verdicts and the rules that turn them into a run's status: one place, one truth.

Every module that asks "is this claim acceptable?", "did this run pass?" or
"what does the headline say?" asks this one. Nothing here knows pytest, a
backend or a theorem; the inputs are claim records (plain dictionaries, as in
report.json).

Rules
-----
* A claim (not a twin) **fails the run** when it is FALSIFIED or ERROR.
* A falsified twin **fails the run** when it is not FALSIFIED: the framework did
  not catch a deliberately wrong claim. A SKIPPED twin is accepted only when the
  claim it twins was skipped in the same run too (or not selected): neither is
  applicable there, so no check lost its power. Likewise an INCONCLUSIVE twin of an
  INCONCLUSIVE claim (e.g. a precondition such as "trained" failed for both): the
  claim's INCONCLUSIVE is counted, and the twin shows no power either way.
* A twin is **evidence of power** only when it was FALSIFIED *and* its claim was
  decided (PROVED, CERTIFIED, HOLDS): rejecting a wrong variant of a claim the run
  could not decide shows nothing.
* A run is **PASSED** only when it is complete (not interrupted, no crash, no
  collection error), recorded every claim it selected, selected at least one,
  and nothing failed. INCONCLUSIVE and SKIPPED claims do not fail a run, but the
  headline counts them as not verified.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "VERDICTS", "PASSING", "DECIDED", "UNDECIDED", "SEVERITY", "worst_verdict",
    "claim_problem", "failing_claims", "run_failures", "twin_power", "run_status",
    "summarize", "headline", "STATUSES",
]

VERDICTS = ("PROVED", "CERTIFIED", "HOLDS", "FALSIFIED", "INCONCLUSIVE", "ERROR", "SKIPPED")
#: Verdicts that verify a claim.
PASSING = ("PROVED", "CERTIFIED", "HOLDS")
#: Verdicts that decide a claim, one way or the other.
DECIDED = ("PROVED", "CERTIFIED", "HOLDS", "FALSIFIED")
#: Verdicts that verify nothing and fail nothing.
UNDECIDED = ("INCONCLUSIVE", "SKIPPED")
#: How bad a verdict is (roll-ups take the maximum). SKIPPED sits between the
#: verified and the undecided: a claim's checks combine to SKIPPED only when one of
#: them declared the claim not applicable and none was worse.
SEVERITY = {"PROVED": 0, "CERTIFIED": 1, "HOLDS": 2, "SKIPPED": 3, "INCONCLUSIVE": 4,
            "FALSIFIED": 5, "ERROR": 6}
#: The statuses of a run, in the order of the CLI's exit codes (see :data:`EXIT_CODES`).
STATUSES = ("PASSED", "FAILED", "INCOMPLETE", "EMPTY")


def worst_verdict(verdicts: Iterable[str]) -> str:
    """The combined verdict of several checks of one claim.

    The worst one wins, except that PROVED or CERTIFIED among otherwise passing
    checks keeps the stronger word (a derivation plus numeric checks that hold is
    PROVED). No check at all is an ERROR (an empty claim verifies nothing).

    >>> worst_verdict(["PROVED", "HOLDS"]), worst_verdict(["HOLDS", "INCONCLUSIVE"])
    ('PROVED', 'INCONCLUSIVE')
    >>> worst_verdict([])
    'ERROR'
    """
    vs = list(verdicts)
    if not vs:
        return "ERROR"
    worst = max(vs, key=SEVERITY.__getitem__)
    if worst not in PASSING:
        return worst
    return next(v for v in ("PROVED", "CERTIFIED", "HOLDS") if v in vs)


def claim_problem(record: Mapping[str, Any], parent_verdict: str | None = None) -> str:
    """Why this one record fails the run ('' when it does not).

    ``parent_verdict`` is the verdict of the claim a twin twins, in the same run
    (None when that claim was not selected).
    """
    verdict, twin = record["verdict"], record.get("twin_of")
    if twin:
        if verdict == "FALSIFIED":
            return ""
        if verdict == "SKIPPED" and parent_verdict in (None, "SKIPPED"):
            return ""
        if verdict == "INCONCLUSIVE" and parent_verdict == "INCONCLUSIVE":
            return ""
        if verdict == "SKIPPED":
            return (f"falsified twin {record['id']} was SKIPPED while its claim {twin} ran "
                    f"({parent_verdict}): the wrong variant was never checked")
        return (f"falsified twin {record['id']} (of {twin}) was NOT rejected: verdict "
                f"{verdict}. The framework failed to catch a deliberately wrong claim; the "
                "check has lost its power (too few cases, a search that misses the worst "
                "case, or a tolerance larger than the gap).")
    if verdict in ("FALSIFIED", "ERROR"):
        return f"claim {record['id']} is {verdict} ({record['kind']}) on {record['backend']}"
    return ""


def _key(c: Mapping[str, Any]) -> tuple[str, Any]:
    return c["id"], c.get("run_label")


def failing_claims(claims: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The records that fail the run (see the module's rules)."""
    verdicts = {_key(c): c["verdict"] for c in claims}
    return [c for c in claims
            if claim_problem(c, verdicts.get((c["twin_of"], c.get("run_label")))
                             if c.get("twin_of") else None)]


def run_failures(claims: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per failing record, naming its column when merged."""
    lines = []
    for c in failing_claims(claims):
        where = f" on {c['run_label']}" if c.get("run_label") else ""
        if c.get("twin_of"):
            lines.append(f"{c['id']} (twin of {c['twin_of']}: {c['verdict']}, expected "
                         f"FALSIFIED){where}")
        else:
            lines.append(f"{c['id']} ({c['verdict']}){where}")
    return lines


def twin_power(claims: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How many twins show the checks' power.

    ``rejected``: FALSIFIED twins; ``shows_power``: those whose claim was decided
    in the same run (column); ``of_undecided``: rejected twins of claims that were
    INCONCLUSIVE, SKIPPED or not selected, which show nothing.
    """
    verdicts = {_key(c): c["verdict"] for c in claims}
    twins = [c for c in claims if c.get("twin_of")]
    rejected = [c for c in twins if c["verdict"] == "FALSIFIED"]
    power = [c for c in rejected
             if verdicts.get((c["twin_of"], c.get("run_label"))) in DECIDED]
    return {"total": len(twins), "rejected": len(rejected), "shows_power": len(power),
            "of_undecided": len(rejected) - len(power),
            "skipped": sum(1 for c in twins if c["verdict"] == "SKIPPED")}


def run_status(claims: Sequence[Mapping[str, Any]], *, complete: bool,
               missing: Sequence[str] = (), problems: Sequence[str] = ()) -> str:
    """PASSED, FAILED, INCOMPLETE or EMPTY (see the module's rules).

    ``missing``: claims the run selected but never recorded; ``problems``: other
    reasons the run is not whole (a collection error, a damaged file).
    """
    if failing_claims(claims):
        return "FAILED"
    if not complete or missing or problems:
        return "INCOMPLETE"
    if not claims:
        return "EMPTY"
    return "PASSED"


def summarize(claims: Sequence[Mapping[str, Any]], *, complete: bool = True,
              missing: Sequence[str] = (), problems: Sequence[str] = (),
              columns: Sequence[str] = ()) -> dict[str, Any]:
    """The ``summary`` of report.json; ``columns`` names the runs of a merged report
    (each claim is counted once per column)."""
    counts = Counter(c["verdict"] for c in claims)
    plain = Counter(c["verdict"] for c in claims if not c.get("twin_of"))
    status = run_status(claims, complete=complete, missing=missing, problems=problems)
    twins = twin_power(claims)
    summary: dict[str, Any] = {
        "total": len(claims),
        "by_verdict": {v: counts[v] for v in VERDICTS if counts[v]},
        "claims": {"total": sum(plain.values()),
                   "by_verdict": {v: plain[v] for v in VERDICTS if plain[v]},
                   "verified": sum(plain[v] for v in PASSING),
                   "inconclusive": plain["INCONCLUSIVE"], "skipped": plain["SKIPPED"],
                   "failed": plain["FALSIFIED"] + plain["ERROR"]},
        "passing": sum(plain[v] for v in PASSING),
        "twins": dict(twins, falsified=twins["rejected"]),
        "failures": run_failures(claims),
        "missing": sorted(missing), "problems": list(problems),
        "complete": bool(complete), "status": status, "passed": status == "PASSED",
    }
    if columns:
        summary["columns"] = list(columns)
    summary["headline"] = headline(summary)
    return summary


def headline(summary: Mapping[str, Any]) -> str:
    """One line that never says more than the run verified, e.g.
    ``PASSED: 62 verified (30 PROVED, 32 HOLDS), 2 INCONCLUSIVE, 8 SKIPPED (not
    verified); 58 of 60 falsified twins rejected``.

    FAILED names the failing claims first; INCOMPLETE says why the run is not whole.
    """
    c, t, status = summary["claims"], summary["twins"], summary["status"]
    if status == "EMPTY":
        return "EMPTY: no claim was recorded, nothing was verified"
    lead = ""
    if status == "FAILED":
        fails = list(summary.get("failures", []))
        lead = "; ".join(fails[:5]) + (f" and {len(fails) - 5} more" if len(fails) > 5 else "")
    elif status == "INCOMPLETE":
        reasons = []
        if not summary.get("complete", True):
            reasons.append("the run was interrupted or crashed before it finished "
                           "(partial report)")
        if summary.get("missing"):
            reasons.append(f"{len(summary['missing'])} selected claims never recorded")
        reasons += list(summary.get("problems", []))
        lead = "; ".join(reasons)
    by = c["by_verdict"]
    counts = f"{c['verified']} verified"
    kinds = [f"{by[v]} {v}" for v in PASSING if by.get(v)]
    if kinds:
        counts += f" ({', '.join(kinds)})"
    if c["failed"]:
        counts += f", {c['failed']} FALSIFIED or ERROR"
    undecided = [f"{c[k]} {k.upper()}" for k in ("inconclusive", "skipped") if c[k]]
    if undecided:
        counts += ", " + ", ".join(undecided) + " (not verified)"
    if t["total"]:
        counts += f"; {t['rejected']} of {t['total']} falsified twins rejected"
        if t["of_undecided"]:
            counts += (f" ({t['of_undecided']} of them twin undecided claims and show no "
                       "power)")
    if summary.get("columns"):
        counts += f" (counted once per run: {', '.join(summary['columns'])})"
    return f"{status}: " + (f"{lead} | " if lead else "") + counts
