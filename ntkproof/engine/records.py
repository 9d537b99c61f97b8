"""Records: the JSON source of truth of a run.

A run directory holds

* ``run.json`` — the run's metadata (id, times, backend, budget, seed,
  command, versions, machine, commit), written when the run starts and
  rewritten when it ends (``finished_at`` set, ``complete`` true or false);
* ``records/<worker>.jsonl`` — one JSON line per claim, appended and flushed as
  soon as the claim finishes, one file per process (pytest-xdist workers
  included), so an interrupted or crashed run keeps everything it finished;
* ``selected/<worker>.json`` — the claim ids each process selected, so the
  report can name the claims that never recorded (a crash, an interrupt).

Renderers and ``ntkproof report`` / ``diff`` read only these files.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import uuid
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import mpmath
import numpy
import sympy

from .._version import __version__
from ..errors import DamagedFile
from .verdicts import VERDICTS

__all__ = ["RecordWriter", "read_records", "new_run_meta", "write_run_meta", "read_run_meta",
           "now", "write_selected", "read_selected", "RECORD_KEYS", "file_origin",
           "stamp_provenance", "rewrite_records"]


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


#: Keys every claim record must carry to be read back.
RECORD_KEYS = ("id", "theorem", "kind", "verdict", "backend")


def read_records(run_dir: str | os.PathLike[str],
                 problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Every record line of the run, in file order.

    A torn last line of a file (a write cut short by a kill: no newline at its end,
    not JSON) is dropped with a warning, and noted in ``problems`` when given (the
    claim it held then counts as missing). Any other line that is not a JSON object
    with the record keys raises :class:`~ntkproof.errors.DamagedFile` naming the file
    and the line: a damaged file is never read silently.
    """
    out: list[dict[str, Any]] = []
    for path in sorted((Path(run_dir) / "records").glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            last = number == len(lines)  # the text after the final newline
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                if last:
                    note = (f"{path}, line {number}: a torn last line (a write cut short) "
                            "was dropped")
                    warnings.warn(note, stacklevel=2)
                    if problems is not None:
                        problems.append(note)
                    continue
                raise DamagedFile(f"{path}, line {number}: not valid JSON ({exc.msg}); the "
                                  "records file is damaged") from None
            _check_record(rec, path, number)
            out.append(rec)
    return out


def _check_record(rec: Any, path: Path, number: int) -> None:
    if not isinstance(rec, dict):
        raise DamagedFile(f"{path}, line {number}: a record must be a JSON object, got "
                          f"{type(rec).__name__}; the records file is damaged")
    lacking = [k for k in RECORD_KEYS if k not in rec]
    if lacking:
        raise DamagedFile(f"{path}, line {number}: the record lacks {', '.join(lacking)}; "
                          "the records file is damaged")
    if rec["verdict"] not in VERDICTS:
        raise DamagedFile(f"{path}, line {number}: unknown verdict {rec['verdict']!r}; "
                          f"expected one of {', '.join(VERDICTS)}")


def file_origin(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None
                ) -> dict[str, str]:
    """Where a claim's code lives: the theorem file (relative to ``root`` when it is
    inside it) and the sha256 of its bytes, so a report can tell whether the file
    changed since the claim was verified."""
    p = Path(path).resolve()
    try:
        name = str(p.relative_to(Path(root or Path.cwd()).resolve()))
    except ValueError:
        name = str(p)
    return {"file": name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


def stamp_provenance(record: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``provenance`` naming the run it comes from (id, commit, start),
    keeping what the record already says (its file and the file's hash)."""
    prov = dict(record.get("provenance") or {})
    for key, value in (("run", meta.get("id")), ("commit", meta.get("commit")),
                       ("started_at", meta.get("started_at"))):
        if value is not None:
            prov.setdefault(key, value)
    return dict(record, provenance=prov)


def rewrite_records(run_dir: str | os.PathLike[str], records: list[dict[str, Any]]) -> None:
    """Replace a run's records by ``records`` (one file) and its selected claims by their
    ids: used when a run is updated with claims re-run in another run."""
    folder = Path(run_dir)
    for old in (folder / "records").glob("*.jsonl"):
        old.unlink()
    for old in (folder / "selected").glob("*.json"):
        old.unlink()
    writer = RecordWriter(folder, "main")
    for rec in records:
        writer.write(rec)
    write_selected(folder, "main", [r["id"] for r in records])


def write_selected(run_dir: str | os.PathLike[str], worker: str, ids: list[str]) -> None:
    """Store the claim ids a process selected (``selected/<worker>.json``), so that
    the report can tell a claim that never recorded from one that was not selected."""
    path = Path(run_dir) / "selected" / f"{worker}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(sorted(ids)), encoding="utf-8")
    tmp.replace(path)


def read_selected(run_dir: str | os.PathLike[str]) -> list[str] | None:
    """The union of the selected claim ids of every process, or None for a run that
    did not store them (written by an older ntkproof)."""
    folder = Path(run_dir) / "selected"
    if not folder.is_dir():
        return None
    ids: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DamagedFile(f"{path}: not valid JSON ({exc.msg})") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DamagedFile(f"{path}: expected a JSON list of claim ids")
        ids.update(value)
    return sorted(ids)


def _versions() -> dict[str, str]:
    v = {"python": platform.python_version(), "ntkproof": __version__,
         "numpy": numpy.__version__, "sympy": sympy.__version__, "mpmath": mpmath.__version__}
    if "torch" in sys.modules:
        v["torch"] = sys.modules["torch"].__version__
    else:
        try:
            v["torch"] = metadata.version("torch")
        except metadata.PackageNotFoundError:  # torch is optional
            pass
    return v


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _device(backend: str) -> dict[str, str]:
    """Where a torch run computes (``NTKPROOF_DEVICE`` or CUDA when present), with the
    GPU's name; nothing for the other backends, which run on the CPU."""
    if backend != "torch":
        return {}
    try:
        import torch  # noqa: PLC0415 - a torch run imports it anyway

        from ..backends.torch_backend import default_device  # noqa: PLC0415
        device = torch.device(default_device())
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else ""
    except Exception:  # noqa: BLE001 - the run itself reports a torch it cannot use
        return {}
    return {"device": str(device) + (f" ({name})" if name else "")}


def new_run_meta(*, backend: str, budget: str, seed: int, command: str) -> dict[str, Any]:
    name, _, dtype = backend.partition(":")
    meta: dict[str, Any] = {
        "id": uuid.uuid4().hex[:12], "started_at": now(), "finished_at": None,
        "complete": False, "backend": name, "dtype": dtype, "budget": budget, "seed": seed,
        "command": command, "versions": _versions(),
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpu_count": os.cpu_count(), **_device(name)},
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


#: Keys every run.json must carry.
RUN_KEYS = ("id", "started_at", "backend", "budget", "seed")


def read_run_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The run's metadata; :class:`~ntkproof.errors.DamagedFile` when run.json is
    missing, not JSON, or not a run's metadata."""
    path = Path(run_dir) / "run.json"
    if not path.exists():
        raise DamagedFile(
            f"{run_dir} holds no run.json: it is not an ntkproof run directory "
            "(expected the --out/--ntk-report directory of a run)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DamagedFile(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); the "
                          "run's metadata is damaged") from None
    if not isinstance(meta, dict) or any(k not in meta for k in RUN_KEYS):
        raise DamagedFile(f"{path}: not an ntkproof run's metadata (expected a JSON object "
                          f"with {', '.join(RUN_KEYS)})")
    return meta
