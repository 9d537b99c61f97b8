"""pytest runs started by ntkproof itself (``ntkproof list`` and ``ntkproof verify``):
collection only, or a whole run with SIGTERM handled like Ctrl-C. The CLI calls
these; it never imports pytest itself."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CollectionFailed", "plugin_args", "collect", "run"]


class CollectionFailed(RuntimeError):
    """The theorem files could not be collected; the message holds pytest's output."""


def plugin_args() -> list[str]:
    """Load the plugin explicitly when its entry point is not installed."""
    eps = metadata.entry_points(group="pytest11")
    if any(ep.value.startswith("ntkproof.plugin") for ep in eps):
        return []
    return ["-p", "ntkproof.plugin"]


def collect(theorems: Path, selectors: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The claims the theorem files in ``theorems`` declare, twins included (one row
    each: id, kind, title, statement, source, twin_of, ..., file); nothing runs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "claims.json"
        sel = [a for s in selectors for a in ("--ntk-select", s)]
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), _fresh_imports([theorems]):
            code = pytest.main([str(theorems), "--collect-only", "-qq", "-p", "no:cacheprovider",
                                "--import-mode=importlib", f"--ntk-list={out}", *sel,
                                *plugin_args()], plugins=[])
        if not out.exists() or code not in (0, 5):
            raise CollectionFailed(f"ntkproof: collecting {theorems} failed (pytest exit "
                                   f"{int(code)}):\n{captured.getvalue()}")
        return list(json.loads(out.read_text()))


@contextlib.contextmanager
def _fresh_imports(roots: Sequence[str | Path]) -> Any:
    """Forget, after the run, the modules it imported from files under ``roots`` (the
    theorem folder). pytest's importlib mode reuses a module already in
    ``sys.modules`` under the same name, so without this a second run in the same
    process (a notebook, a test) would run a stale or another folder's
    ``theorems/test_x.py``."""
    folders = [Path(r).resolve() for r in roots]
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            file = getattr(sys.modules.get(name), "__file__", None)
            if file and any(Path(file).resolve().is_relative_to(f) for f in folders):
                del sys.modules[name]


def run(pargs: list[str], theorems: str | Path | None = None) -> int:
    """``pytest.main(pargs)`` with SIGTERM handled like Ctrl-C; the modules imported
    from the folder ``theorems`` are forgotten afterwards (:func:`_fresh_imports`).

    A terminated run (a CI time limit, ``kill``) then ends the way an interrupted
    one does: pytest stops its xdist workers and the plugin writes the partial
    report from the records finished so far, instead of the process dying with
    its workers orphaned and no report.json.
    """
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"ntkproof verify received signal {signum}")

    with _fresh_imports([theorems] if theorems is not None else []):
        try:
            previous = signal.signal(signal.SIGTERM, interrupt)
        except ValueError:  # not the main thread: leave signals alone
            return int(pytest.main(pargs, plugins=[]))
        try:
            return int(pytest.main(pargs, plugins=[]))
        finally:
            signal.signal(signal.SIGTERM, previous)
