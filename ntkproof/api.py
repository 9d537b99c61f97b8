"""Verify claims from Python (a notebook, a script) with the engine, without pytest.

>>> report = ntkproof.verify("taylor_remainder.tanh", budget="quick")  # doctest: +SKIP
>>> report.passed, report.claim("taylor_remainder.tanh")["verdict"]    # doctest: +SKIP
(True, 'HOLDS')

In a notebook the returned :class:`~ntkproof.report.view.Report` shows itself as
the HTML report. The run is the one ``ntkproof verify`` makes, with the same
seeds, records and verdicts, in this process, one claim after the other.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .backends import get_backend
from .engine.budgets import get_budget
from .engine.claims import unmatched_selectors
from .engine.collect import collect_calls
from .engine.execute import run_calls
from .errors import InvalidArgument
from .report.build import build_report, render_files
from .report.view import Report

__all__ = ["verify"]


def verify(*selectors: str, backend: str | None = None, budget: str = "quick", seed: int = 0,
           theorems: str | os.PathLike[str] = "theorems",
           out: str | os.PathLike[str] | None = None) -> Report:
    """Run the claims matching ``selectors`` (all when none) and return their report.

    ``backend`` (default ``$NTKPROOF_BACKEND`` or numpy), ``budget`` and ``seed`` are
    those of ``ntkproof verify``; ``theorems`` is the folder of theorem files; with
    ``out`` the records and report.json/.md/.html are written there (else into a
    temporary folder that is removed). A selector that matches no claim raises
    :class:`~ntkproof.errors.InvalidArgument` with the nearest ids.
    """
    spec = get_backend(backend or os.environ.get("NTKPROOF_BACKEND") or "numpy").spec
    budget_name = get_budget(budget).name
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidArgument(f"seed must be a whole number >= 0, got {seed!r}")
    theorems = Path(theorems)
    calls = collect_calls(theorems)
    problems = unmatched_selectors([i for c in calls for i in c.ids], selectors)
    if problems:
        raise InvalidArgument("; ".join(problems))
    command = "ntkproof.verify(" + ", ".join(
        [repr(s) for s in selectors] + [f"backend={spec!r}", f"budget={budget_name!r}",
                                        f"seed={seed}"]) + ")"
    with tempfile.TemporaryDirectory(prefix="ntkproof-") as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            run_calls(calls, folder, selectors=selectors, backend=spec, budget=budget_name,
                      seed=seed, theorems=theorems, command=command)
        except KeyboardInterrupt:
            pass  # the partial run is reported (complete: false)
        report = build_report(folder)
        if out is not None:
            render_files(report, folder)
        return Report(report, folder if out is not None else None)
