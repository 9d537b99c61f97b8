"""Collect ``bench_*.py`` here (the default test run does not look in benchmarks/).

Run: ``python -m pytest benchmarks/ --benchmark-only -s``.
"""

from __future__ import annotations

import pytest


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
