"""The pytest plugin: options, the ``ntk`` fixture, selection, records, summary.

Hooks only; the state of a run lives in :class:`ntkproof.plugin.session.NtkSession`.
Registered through the ``pytest11`` entry point, so ``pytest theorems/`` picks
it up once ntkproof is installed.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..engine.runner import ClaimFailed, ClaimUndecided, register_skip_exception
from .session import NtkSession, claim_info_of

_KEY = pytest.StashKey[NtkSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ntkproof", "ntkproof: verify NTK theorems")
    group.addoption("--ntk-backend", default=None, metavar="B",
                    help="backend: numpy (default; or $NTKPROOF_BACKEND), torch, "
                         "torch:float32, mpmath, mpmath:dps80")
    group.addoption("--ntk-budget", default="quick", metavar="NAME",
                    help="work per claim: quick (default), standard, thorough")
    group.addoption("--ntk-seed", default=0, type=int, metavar="N",
                    help="run seed; each claim's seed is derived from it and the claim id "
                         "(default 0)")
    group.addoption("--ntk-report", default=None, metavar="DIR",
                    help="write records and report.json/.md/.html into DIR")
    group.addoption("--ntk-select", action="append", default=[], metavar="SELECTOR",
                    help="run only claims matching SELECTOR: a claim id, an id prefix "
                         "(e.g. taylor_remainder) or a glob; repeatable")
    group.addoption("--ntk-list", default=None, metavar="FILE",
                    help="write the collected claims as JSON to FILE "
                    "(used by 'ntkproof list')")
    group.addoption("--ntk-dask", default=None, metavar="ADDRESS",
                    help="measure the points of sweeps (rates, separations) on a Dask "
                         "cluster: a scheduler address or local:N (needs the dask extra)")
    group.addoption("--ntk-claim-timeout", default=None, type=float, metavar="SECONDS",
                    help="with --ntk-dask: a claim whose sweep points are not back from the "
                         "cluster SECONDS after the claim started is recorded as ERROR, its "
                         "points cancelled and their workers restarted (default: no limit)")
    group.addoption("--ntk-progress", action="store_true", default=False,
                    help="print one line per finished claim (verdict, tightness, time)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ntk_claim(info): the ntkproof claim a test checks")
    register_skip_exception(pytest.skip.Exception)  # pytest.skip() in a body: SKIPPED
    session = NtkSession.from_config(config)
    config.stash[_KEY] = session
    config.pluginmanager.register(_Progress(session), f"ntkproof-progress-{id(config)}")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist (optional): hand each worker the run's records folder.

    ``optionalhook``: without pytest-xdist installed this hook is unknown to
    pytest, and a plugin that implements an unknown hook breaks every pytest run.
    """
    node.workerinput["ntk_records"] = str(node.config.stash[_KEY].run_dir)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    for item in items:
        info = claim_info_of(item)
        if info is not None:
            item.add_marker(pytest.mark.ntk_claim(info))
            # a claim and a twin written apart run on one xdist worker (--dist loadgroup),
            # so sweeps they share are measured once
            item.add_marker(pytest.mark.xdist_group(info.twin_of or info.id))
    config.stash[_KEY].select(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_KEY].write_list(session.config, session.items)



@pytest.fixture
def ntk(request: pytest.FixtureRequest) -> Any:
    """The engine's run context for the claim this test checks; the claim's body
    receives its :class:`~ntkproof.engine.runner.ClaimRun`."""
    if claim_info_of(request.node) is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the 'ntk' fixture but is not marked with "
            "@ntkproof.claim(...)")
    return request.config.stash[_KEY].context(request.node)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Any:
    """The engine's outcome of a claim as pytest's: a failure without a Python traceback
    (the message is the whole story), or a skip for an undecided claim."""
    # raised outside the except blocks: inside them pytest would print the engine's
    # exception too, as "During handling of the above exception, another occurred"
    try:
        return (yield)
    except ClaimFailed as exc:
        failed, message = True, str(exc)
    except ClaimUndecided as exc:
        failed, message = False, str(exc)
    if failed:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class _Progress:
    """Per-claim progress lines and collection errors (registered per config, so
    nested runs stay apart)."""

    def __init__(self, session: NtkSession) -> None:
        self.session = session

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A theorem file that cannot be collected makes the run incomplete."""
        if report.failed:
            self.session.collection_error(report.nodeid or "a theorem file")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.session.progress(report)

    def pytest_report_teststatus(self, report: pytest.TestReport,
                                 config: pytest.Config) -> tuple[str, str, str] | None:
        """With per-claim progress lines, drop pytest's own progress letter."""
        if not self.session.show_progress or report.when not in ("setup", "call"):
            return None
        if not any(key == "ntk_record" for key, _ in report.user_properties):
            return None
        if report.when == "setup" and not report.skipped:
            return None
        return report.outcome, "", report.outcome.upper()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_KEY].start(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_KEY].finish(session.config, int(exitstatus))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    config.stash[_KEY].terminal_summary(terminalreporter)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _KEY in config.stash:
        config.stash[_KEY].cleanup()
