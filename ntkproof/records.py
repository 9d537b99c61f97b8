"""Records: the JSON source of truth of a run.

A run directory holds

* ``run.json`` — the run's metadata (id, times, backend, budget, seed,
  command, versions, machine, commit), written when the run starts and
  rewritten when it ends (``finished_at`` set, ``complete`` true or false);
* ``records/<worker>.jsonl`` — one JSON line per claim, appended and flushed as
  soon as the claim finishes, one file per process (pytest-xdist workers
  included), so an interrupted or crashed run keeps everything it finished.

Renderers and ``ntkproof report`` / ``diff`` read only these files.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["RecordWriter", "read_records", "new_run_meta", "write_run_meta", "read_run_meta",
           "now"]


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class RecordWriter:
    """Append claim records to ``DIR/records/<worker>.jsonl``, one line each."""

    def __init__(self, run_dir: str | os.PathLike[str], worker: str = "main") -> None:
        self.path = Path(run_dir) / "records" / f"{worker}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=False, allow_nan=False, default=str)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()


def read_records(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every complete record line of the run (a torn last line is skipped)."""
    out: list[dict[str, Any]] = []
    for path in sorted((Path(run_dir) / "records").glob("*.jsonl")):
        for line in _lines(path):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a kill: everything before it is kept
    return out


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield line


def _versions() -> dict[str, str]:
    import mpmath
    import numpy
    import sympy

    from . import __version__

    v = {"python": platform.python_version(), "ntkproof": __version__,
         "numpy": numpy.__version__, "sympy": sympy.__version__, "mpmath": mpmath.__version__}
    if "torch" in sys.modules:
        v["torch"] = sys.modules["torch"].__version__
    else:
        try:
            from importlib.metadata import version

            v["torch"] = version("torch")
        except Exception:  # noqa: BLE001 - torch is optional
            pass
    return v


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def new_run_meta(*, backend: str, budget: str, seed: int, command: str) -> dict[str, Any]:
    name, _, dtype = backend.partition(":")
    meta: dict[str, Any] = {
        "id": uuid.uuid4().hex[:12], "started_at": now(), "finished_at": None,
        "complete": False, "backend": name, "dtype": dtype, "budget": budget, "seed": seed,
        "command": command, "versions": _versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count()},
    }
    commit = _commit()
    if commit:
        meta["commit"] = commit
    return meta


def write_run_meta(run_dir: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    path = Path(run_dir) / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp.replace(path)


def read_run_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(run_dir) / "run.json"
    if not path.exists():
        from .errors import InvalidArgument

        raise InvalidArgument(
            f"{run_dir} holds no run.json: it is not an ntkproof run directory "
            "(expected the --out/--ntk-report directory of a run)")
    return json.loads(path.read_text(encoding="utf-8"))
