"""Benchmarks: ``bench_*.py`` files (pyproject's ``python_files`` collects them).

Run: ``python -m pytest benchmarks/ --benchmark-only -s``. The default test run
(testpaths tests/ and theorems/) does not look here.
"""
