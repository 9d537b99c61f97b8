"""Run claim calls into a run folder, without pytest.

:func:`run_calls` writes what a pytest run writes (``run.json``, ``selected/``,
``records/``), so the same report pipeline reads it. Used by
:func:`ntkproof.verify`; one process, claims one after the other, twins right
after their claim (sharing its seed and cached sweeps).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..backends import get_backend
from .budgets import get_budget
from .claims import matches
from .collect import ClaimCall
from .records import (
    RecordWriter,
    file_origin,
    new_run_meta,
    now,
    write_run_meta,
    write_selected,
)
from .runner import ClaimFailed, ClaimUndecided, Measured, RunContext

__all__ = ["run_calls", "reproduce_command"]


def reproduce_command(claim_id: str, *, backend: str, budget: str, seed: int,
                      theorems: str | Path = "theorems") -> str:
    """The one-line command that re-runs one claim with the same seed."""
    cmd = f"ntkproof verify {claim_id} --backend {backend} --budget {budget} --seed {seed}"
    if Path(theorems) != Path("theorems"):
        cmd += f" --theorems {theorems}"
    return cmd


def run_calls(calls: Sequence[ClaimCall], run_dir: str | os.PathLike[str], *,
              selectors: Sequence[str] = (), backend: str = "numpy", budget: str = "quick",
              seed: int = 0, theorems: str | Path = "theorems", command: str = "",
              on_record: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run every selected claim of ``calls``; returns the run's metadata.

    An interrupt (Ctrl-C) ends the run with ``complete: false`` and the records of
    the claims that finished; the interrupt is then raised again.
    """
    b, bud = get_backend(backend), get_budget(budget)
    out = Path(run_dir)
    meta = new_run_meta(backend=b.spec, budget=bud.name, seed=seed, command=command)
    write_run_meta(out, meta)
    chosen = [c for c in calls if any(matches(i, selectors) for i in c.ids)]
    write_selected(out, "main", [i for c in chosen for i in c.ids if matches(i, selectors)])
    writer = RecordWriter(out, "main")
    sweeps: dict[Any, Measured] = {}

    def record(rec: dict[str, Any]) -> None:
        writer.write(rec)
        if on_record is not None:
            on_record(rec)

    complete = False
    try:
        for call in chosen:
            origin = file_origin(call.file) if call.file else {}

            def stamped(rec: dict[str, Any], origin: dict[str, str] = origin) -> None:
                rec["provenance"] = dict(origin)
                record(rec)

            context = RunContext(
                backend=b, budget=bud, run_seed=seed, on_record=stamped, sweeps=sweeps,
                selected=lambda i: matches(i, selectors),
                reproduce=lambda i: reproduce_command(i, backend=b.spec, budget=bud.name,
                                                      seed=seed, theorems=theorems))
            try:
                call.run(context)
            except (ClaimFailed, ClaimUndecided):
                pass  # recorded; the report says it
        complete = True
    finally:
        meta.update(finished_at=now(), complete=complete)
        write_run_meta(out, meta)
    return meta
