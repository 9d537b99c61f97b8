"""A report as a Python object: what :func:`ntkproof.verify` returns.

It wraps the report dictionary (the same JSON as report.json) and shows itself in
a notebook as the HTML report (``_repr_html_``) and in a terminal as its headline
and one line per claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .format import result_line, run_passed, tightness_text
from .html import render_html

__all__ = ["Report"]


class Report(Mapping[str, Any]):
    """A verification report: ``report["claims"]``, ``report.passed``,
    ``report.headline``, ``report.claim(id)``; ``folder`` is where its files are."""

    def __init__(self, data: dict[str, Any], folder: str | Path | None = None) -> None:
        self.data = data
        self.folder = Path(folder) if folder is not None else None

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def passed(self) -> bool:
        return run_passed(self.data)

    @property
    def status(self) -> str:
        return str(self.data["summary"].get("status", "PASSED" if self.passed else "FAILED"))

    @property
    def headline(self) -> str:
        return result_line(self.data)

    def claim(self, claim_id: str) -> dict[str, Any]:
        """The record of one claim (KeyError naming the known ids otherwise)."""
        for c in self.data["claims"]:
            if c["id"] == claim_id:
                return c
        known = ", ".join(c["id"] for c in self.data["claims"][:10])
        raise KeyError(f"no claim {claim_id!r} in this report; it has {known}, ...")

    def verdicts(self) -> dict[str, str]:
        """Claim id -> verdict."""
        return {c["id"]: c["verdict"] for c in self.data["claims"]}

    def to_json(self) -> str:
        return json.dumps(self.data, indent=2)

    def __repr__(self) -> str:
        width = max([len(c["id"]) for c in self.data["claims"]] + [20]) + 2
        lines = [f"{c['id']:<{width}}{c['verdict']:<14}{tightness_text(c)}"
                 for c in self.data["claims"]]
        where = f"\n(files in {self.folder})" if self.folder else ""
        return "\n".join([*lines, self.headline]) + where

    def _repr_html_(self) -> str:
        return render_html(self.data)
