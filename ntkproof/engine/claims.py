"""Claims: the unit a report is keyed on.

A theorem file marks each check with :func:`claim`. The decorator records the
claim's metadata (id, kind, title, statement, source), its falsified twins and
where it applies, and wraps the function so that calling it with a run context
(the ``ntk`` argument) runs the claim and its twins and records their verdicts
(:mod:`ntkproof.engine.runner`). Nothing here imports pytest: the pytest plugin
and :func:`ntkproof.verify` are two hosts of the same engine.

Ids are ``<theorem>.<claim>``; a template such as ``"taylor_remainder.{activation}"``
is filled from the function's parameters (pytest's ``parametrize``).

Twins declared with their claim
-------------------------------
``@claim(..., twins=[Twin("twin_small_constant", title=..., statement=...,
factor=0.9)])`` declares the falsified twin ``<claim id>.twin_small_constant``. It
runs the claim's own body, right after the claim, with ``factor=0.9`` passed as a
keyword argument (the body gives it a default, e.g. ``factor=1``), with the claim's
seed and with the sweeps the claim cached (``ntk.rate(..., sweep=...)``). A twin
written as a separate function with ``twin_of=`` keeps working; it has a seed of
its own.

Where a claim applies
---------------------
``not_on={"mpmath": "why"}`` skips the claim (and its twins) on a backend, and
``skip_at={"quick": "why"}`` at a budget, with the reason in the report, before
its body runs.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import inspect
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import InvalidArgument
from .verdicts import PASSING, VERDICTS

__all__ = ["ClaimInfo", "Twin", "claim", "KINDS", "VERDICTS", "PASSING", "matches",
           "unmatched_selectors", "claim_spec", "ClaimSpec"]

KINDS = ("derivation", "identity", "bound", "probabilistic_bound", "rate", "separation")
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_{}]+)+$")
_SUFFIX = re.compile(r"^[A-Za-z0-9_{}]+$")


@dataclass(frozen=True)
class ClaimInfo:
    """Metadata of one claim (one row of the report).

    ``statement`` is LaTeX; ``source`` names the paper with theorem and
    equation numbers; ``twin_of`` marks a falsified twin (expected verdict
    FALSIFIED); ``known_sup`` is the true supremum of the tightness ratio
    where it is known. ``seed_id`` is the id whose seed the claim draws with (a
    declared twin draws with its claim's); ``not_on`` and ``skip_at`` map a
    backend name or a budget to the reason the claim does not apply there.
    ``goal`` is the statement as a sympy relation, what a derivation must reach to
    prove the claim (:mod:`ntkproof.derivation.obligations`).
    """

    id: str
    kind: str
    title: str
    statement: str
    source: str
    twin_of: str | None = None
    known_sup: float | None = None
    seed_id: str | None = None
    not_on: Mapping[str, str] = field(default_factory=dict)
    skip_at: Mapping[str, str] = field(default_factory=dict)
    goal: Any = None
    near: str | None = None

    @property
    def theorem(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def seed_key(self) -> str:
        """The id the claim's seed derives from."""
        return self.seed_id or self.id

    def resolved(self, params: Mapping[str, Any]) -> ClaimInfo:
        """Fill the ``{name}`` fields of id, title, statement and twin from ``params``."""
        return ClaimInfo(**{k: _fill(v, params) for k, v in asdict(self).items()})

    def not_applicable(self, backend: str, budget: str) -> str | None:
        """Why the claim does not run on ``backend`` at ``budget`` (None: it runs)."""
        if backend in self.not_on:
            return f"not applicable on {backend}: {self.not_on[backend]}"
        if budget in self.skip_at:
            return f"not run at the {budget} budget: {self.skip_at[budget]}"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The fields ``ntkproof list`` and the report show."""
        out = asdict(self)
        for key in ("seed_id", "not_on", "skip_at", "goal", "near"):
            if out[key] is None or (isinstance(out[key], Mapping) and not out[key]):
                out.pop(key)
            elif isinstance(out[key], Mapping):
                out[key] = dict(out[key])
        if "goal" in out:
            out["goal"] = str(out["goal"])
        return out


@dataclass(frozen=True)
class Twin:
    """A falsified twin declared with its claim (see the module docstring).

    ``name`` is appended to the claim id (``<claim id>.<name>``); ``overrides`` are
    the keyword arguments the claim's body runs with for the twin; ``kind`` and
    ``known_sup`` default to the claim's; ``source`` says why the variant is wrong.
    ``near`` says, in words, why the twin sits within the check's resolving power
    (e.g. "constant 0.9·β: 10% off") when the report cannot tell it from the numbers
    (:mod:`ntkproof.report.power` measures it for bounds, rates and identities).
    """

    name: str
    title: str
    statement: str
    source: str = "falsified twin"
    kind: str | None = None
    known_sup: float | None = None
    near: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, name: str, *, title: str, statement: str, source: str = "falsified twin",
                 kind: str | None = None, known_sup: float | None = None, near: str | None = None,
                 **overrides: Any) -> None:
        if not _SUFFIX.match(name):
            raise InvalidArgument(f"Twin name {name!r} must be one word of letters, digits and "
                                  "underscores (it is appended to the claim id)")
        if kind is not None and kind not in KINDS:
            raise InvalidArgument(f"Twin {name!r}: kind must be one of {KINDS}, got {kind!r}")
        for key, value in dict(name=name, title=title, statement=statement, source=source,
                               kind=kind, known_sup=known_sup, near=near,
                               overrides=dict(overrides)).items():
            object.__setattr__(self, key, value)

    def info(self, parent: ClaimInfo) -> ClaimInfo:
        """The twin's metadata, derived from its (unresolved) claim's."""
        return replace(parent, id=f"{parent.id}.{self.name}", kind=self.kind or parent.kind,
                       title=self.title, statement=self.statement, source=self.source,
                       twin_of=parent.id, known_sup=self.known_sup, seed_id=parent.id,
                       near=self.near, goal=None)


@dataclass(frozen=True)
class ClaimSpec:
    """What :func:`claim` attaches to the function: the claim and its declared twins.

    ``members(params)`` gives each member's resolved metadata and the keyword
    arguments its run adds to the body's.
    """

    info: ClaimInfo
    twins: tuple[Twin, ...] = ()

    def members(self, params: Mapping[str, Any] | None = None
                ) -> list[tuple[ClaimInfo, Mapping[str, Any]]]:
        params = params or {}
        out: list[tuple[ClaimInfo, Mapping[str, Any]]] = [(self.info.resolved(params), {})]
        out += [(t.info(self.info).resolved(params), t.overrides) for t in self.twins]
        return out

    def ids(self, params: Mapping[str, Any] | None = None) -> list[str]:
        return [info.id for info, _ in self.members(params)]


def _fill(value: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(value, Mapping):
        return {k: _fill(v, params) for k, v in value.items()}
    if not isinstance(value, str) or "{" not in value or not params:
        return value
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(value) if f]
    except ValueError:
        return value  # LaTeX braces that are no template
    if not all(n in params for n in names):
        return value  # LaTeX braces, not template fields
    return value.format(**params)


def claim(id: str, *, kind: str, title: str, statement: str, source: str,
          twin_of: str | None = None, known_sup: float | None = None,
          twins: Iterable[Twin] = (), not_on: Mapping[str, str] | None = None,
          skip_at: Mapping[str, str] | None = None, goal: Any = None,
          near: str | None = None) -> Callable[[Any], Any]:
    """Mark a function as the check of one claim (and of its declared twins).

    The function takes the ``ntk`` argument (a :class:`~ntkproof.engine.runner.ClaimRun`
    once the engine runs it) and runs its checks through it (``ntk.bound(...)``,
    ``ntk.rate(...)``, ...). See the module docstring for ``twins``, ``not_on`` and
    ``skip_at``; ``goal`` is the statement as a sympy relation, which a derivation
    must reach, symbol for symbol, to make the claim PROVED.
    """
    if kind not in KINDS:
        raise InvalidArgument(f"claim {id!r}: kind must be one of {KINDS}, got {kind!r}")
    if not _ID.match(id):
        raise InvalidArgument(
            f"claim id {id!r} must look like '<theorem>.<claim>' in lower-case words, "
            "e.g. 'taylor_remainder.tanh'")
    for name, table in (("not_on", not_on or {}), ("skip_at", skip_at or {})):
        for key, why in table.items():
            if not why or not isinstance(why, str):
                raise InvalidArgument(f"claim {id!r}: {name}[{key!r}] needs the reason in words")
    twins = tuple(twins)
    if twins and twin_of:
        raise InvalidArgument(f"claim {id!r} is a twin itself (twin_of={twin_of!r}); a twin has "
                              "no twins")
    names = [t.name for t in twins]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"claim {id!r}: twin names repeat: {names}")
    info = ClaimInfo(id, kind, title, statement, source, twin_of, known_sup,
                     not_on=dict(not_on or {}), skip_at=dict(skip_at or {}), goal=goal,
                     near=near)
    spec = ClaimSpec(info, twins)

    def decorate(fn: Callable[..., Any]) -> Any:
        _check_signature(fn, spec)

        @functools.wraps(fn)
        def run_claim(*args: Any, **kwargs: Any) -> None:
            context = kwargs.pop("ntk", None)
            if not hasattr(context, "run_family"):
                raise InvalidArgument(
                    f"claim {id!r}: {fn.__name__} must be called with ntk=<a run context> "
                    "(the pytest plugin's 'ntk' fixture, or ntkproof.verify)")
            context.run_family(spec, fn, args, kwargs)

        run_claim.ntk_claim = info  # type: ignore[attr-defined]
        run_claim.ntk_spec = spec  # type: ignore[attr-defined]
        return run_claim

    return decorate


def _check_signature(fn: Callable[..., Any], spec: ClaimSpec) -> None:
    params = inspect.signature(fn).parameters
    if "ntk" not in params:
        raise InvalidArgument(f"claim {spec.info.id!r}: {fn.__name__} must take the 'ntk' "
                              "argument (the claim's runner)")
    for twin in spec.twins:
        unknown = [k for k in twin.overrides if k not in params]
        if unknown:
            raise InvalidArgument(
                f"claim {spec.info.id!r}: twin {twin.name!r} overrides {unknown}, which "
                f"{fn.__name__} does not take; add them as keyword arguments with the claim's "
                "values as defaults")


def claim_spec(fn: Any) -> ClaimSpec | None:
    """The :class:`ClaimSpec` a function was decorated with (None for other functions)."""
    return getattr(fn, "ntk_spec", None)


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
