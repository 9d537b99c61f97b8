import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _library_tests_choose_their_backends(monkeypatch):
    """tox's backend envs set NTKPROOF_BACKEND for the theorem files; the library
    tests name their backends explicitly, so the variable must not leak into them
    (or into the pytest runs that pytester starts)."""
    monkeypatch.delenv("NTKPROOF_BACKEND", raising=False)
