"""The layout's dependency rules hold (docs/design.md draws the map).

The rules live in ``.importlinter`` and are checked by import-linter (a kept tool, not
a hand-written graph walk): the mathematics (``nn``, ``theory``) never imports the
engine, reports, plugin, CLI or pytest; the engine never imports the mathematics or
a theorem; only the plugin imports pytest; no import cycles at any level. ruff's
PLC0415 (in pyproject.toml) forbids imports inside library functions, except optional
dependencies marked as such.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")
    code = cli.lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True)
    assert code == 0, "an import contract is broken: run lint-imports for the details"


def test_no_import_inside_a_library_function_but_optional_ones():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (tox -e lint runs it)")
    out = subprocess.run([ruff, "check", "--select", "PLC0415", "--output-format", "concise",
                          "ntkproof"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_importing_ntkproof_loads_no_heavy_optional_package():
    code = ("import sys, ntkproof; "
            "print([m for m in ('torch', 'matplotlib', 'pytest', 'dask') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
