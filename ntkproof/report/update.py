"""Update a run with claims re-run elsewhere: the published report without an hour of
recomputation.

``ntkproof report --update TARGET --from NEW`` puts the records of the run NEW (the
claims just re-run, e.g. new or changed ones) into the run folder TARGET, replacing
those claims' old records, each record keeping its provenance (run id, commit, theorem
file and its hash). With ``--keep-declared DIR`` the claims that the theorem files in
DIR no longer declare are retired. The two runs must be of the same backend, dtype,
budget and seed: the update must read as one run of that configuration.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..engine.records import (
    now,
    read_records,
    read_run_meta,
    rewrite_records,
    stamp_provenance,
    write_run_meta,
)
from ..errors import InvalidArgument

__all__ = ["update_run"]

_SAME = ("backend", "dtype", "budget", "seed")


def update_run(target: str | os.PathLike[str], new: str | os.PathLike[str], *,
               keep: Iterable[str] | None = None) -> dict[str, Any]:
    """Replace the records of TARGET by NEW's for the claims NEW ran; drop claims not in
    ``keep`` (when given). Returns a summary: updated, added, retired claim ids."""
    old_meta, new_meta = read_run_meta(target), read_run_meta(new)
    differ = [k for k in _SAME if old_meta.get(k) != new_meta.get(k)]
    if differ:
        raise InvalidArgument(
            f"{new} cannot update {target}: they differ in "
            + ", ".join(f"{k} ({old_meta.get(k)!r} vs {new_meta.get(k)!r})" for k in differ)
            + "; re-run the claims with the target's --backend, --budget and --seed")
    if not new_meta.get("complete"):
        raise InvalidArgument(f"{new} did not complete; an update needs a finished run")
    merged: dict[str, dict[str, Any]] = {}
    for rec in read_records(target):
        merged[rec["id"]] = stamp_provenance(rec, old_meta)
    fresh = [stamp_provenance(rec, new_meta) for rec in read_records(new)]
    added = [r["id"] for r in fresh if r["id"] not in merged]
    updated = [r["id"] for r in fresh if r["id"] in merged]
    for rec in fresh:
        merged[rec["id"]] = rec
    retired: list[str] = []
    if keep is not None:
        keep = set(keep)
        retired = sorted(i for i in merged if i not in keep)
        for i in retired:
            del merged[i]
    rewrite_records(target, sorted(merged.values(), key=lambda r: r["id"]))
    entry = {"run": new_meta["id"], "commit": new_meta.get("commit"), "at": now(),
             "updated": sorted(updated), "added": sorted(added), "retired": retired}
    old_meta.setdefault("updates", []).append(entry)
    write_run_meta(target, old_meta)
    return entry
