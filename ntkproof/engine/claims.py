"""Claims: the unit a report is keyed on.

A theorem file marks each test with :func:`claim`. The decorator records the
claim's metadata (id, kind, title, statement, source, twin) as a pytest mark,
so claims are known at collection time (for ``ntkproof list`` and selectors),
and wraps the test so that, when it returns, the claim's checks are combined
into one verdict and recorded by the plugin.

Ids are ``<theorem>.<claim>``; a template such as ``"taylor_remainder.{activation}"``
is filled from the test's parametrize arguments.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InvalidArgument
from .verdicts import PASSING, VERDICTS

__all__ = ["ClaimInfo", "claim", "KINDS", "VERDICTS", "PASSING", "matches",
           "unmatched_selectors"]

KINDS = ("derivation", "identity", "bound", "probabilistic_bound", "rate", "separation")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_{}]+)+$")


@dataclass(frozen=True)
class ClaimInfo:
    """Metadata of one claim (one row of the report).

    ``statement`` is LaTeX; ``source`` names the paper with theorem and
    equation numbers; ``twin_of`` marks a falsified twin (expected verdict
    FALSIFIED); ``known_sup`` is the true supremum of the tightness ratio
    where it is known.
    """

    id: str
    kind: str
    title: str
    statement: str
    source: str
    twin_of: str | None = None
    known_sup: float | None = None

    @property
    def theorem(self) -> str:
        return self.id.split(".", 1)[0]

    def resolved(self, params: Mapping[str, Any]) -> ClaimInfo:
        """Fill the ``{name}`` fields of id, title, statement and twin from ``params``."""
        values = {k: v for k, v in params.items()}
        return ClaimInfo(**{k: _fill(v, values) for k, v in asdict(self).items()})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fill(value: Any, params: Mapping[str, Any]) -> Any:
    if not isinstance(value, str) or "{" not in value:
        return value
    names = [f for _, f, _, _ in string.Formatter().parse(value) if f]
    if not all(n in params for n in names):
        return value  # LaTeX braces, not template fields
    return value.format(**params)


def claim(id: str, *, kind: str, title: str, statement: str, source: str,
          twin_of: str | None = None, known_sup: float | None = None) -> Callable[[Any], Any]:
    """Mark a test function as the check of one claim.

    The test must take the ``ntk`` fixture (a :class:`~ntkproof.engine.runner.ClaimRun`)
    and run its checks through it (``ntk.bound(...)``, ``ntk.rate(...)``, ...).
    """
    if kind not in KINDS:
        raise InvalidArgument(f"claim {id!r}: kind must be one of {KINDS}, got {kind!r}")
    if not _ID.match(id):
        raise InvalidArgument(
            f"claim id {id!r} must look like '<theorem>.<claim>' in lower-case words, "
            "e.g. 'taylor_remainder.tanh'")
    info = ClaimInfo(id, kind, title, statement, source, twin_of, known_sup)

    def decorate(fn: Callable[..., Any]) -> Any:
        import pytest

        @functools.wraps(fn)
        def run_claim(*args: Any, **kwargs: Any) -> None:
            ntk = kwargs.get("ntk")
            if ntk is None:
                raise InvalidArgument(
                    f"claim {id!r}: the test {fn.__name__} must take the 'ntk' fixture")
            from .runner import ClaimSkipped

            try:
                fn(*args, **kwargs)
            except ClaimSkipped:
                pass  # the SKIPPED decision is kept; finish() skips the test
            except (KeyboardInterrupt, SystemExit):
                raise  # an interrupted claim leaves no record; the run is partial
            except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised
                ntk.finish(exc)
                raise
            ntk.finish(None)

        run_claim.ntk_claim = info  # type: ignore[attr-defined]
        return pytest.mark.ntk_claim(info)(run_claim)

    return decorate


def matches(claim_id: str, selectors: Iterable[str]) -> bool:
    """True when ``claim_id`` is selected: exact id, id prefix (``arccos``), or glob.

    >>> matches("arccos.order0", ["arccos"]), matches("arccos.order0", ["arc"])
    (True, False)
    >>> matches("taylor_remainder.tanh", ["taylor_*.t*"])
    True
    """
    selectors = list(selectors)
    if not selectors:
        return True
    for sel in selectors:
        if claim_id == sel or claim_id.startswith(sel + "."):
            return True
        if any(ch in sel for ch in "*?[") and fnmatch.fnmatchcase(claim_id, sel):
            return True
    return False


def unmatched_selectors(claim_ids: Iterable[str], selectors: Iterable[str]) -> list[str]:
    """One message per selector that selects none of ``claim_ids``, naming it and the
    nearest claim ids (a typo must not silently verify less than was asked).

    >>> msg, = unmatched_selectors(["arccos.order0", "arccos.order1"], ["arccos.ordr1", "arccos"])
    >>> msg.split(";")[0], "arccos.order1" in msg
    ("selector 'arccos.ordr1' matches no claim", True)
    """
    ids = sorted(set(claim_ids))
    names = ids + sorted({i.split(".", 1)[0] for i in ids})
    out = []
    for sel in selectors:
        if any(matches(i, [sel]) for i in ids):
            continue
        near = difflib.get_close_matches(sel, names, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        out.append(f"selector {sel!r} matches no claim; {hint}('ntkproof list' shows every "
                   "claim id)")
    return out
