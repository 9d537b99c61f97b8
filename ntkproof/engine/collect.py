"""Find the claims of theorem files without pytest.

A theorem file is a Python module whose claim functions carry the metadata
:func:`~ntkproof.engine.claims.claim` attached. Parameters come from pytest's
``parametrize`` marks, read here as plain data (the mark objects are duck-typed:
``name``, ``args``, ``kwargs``; ``pytest.param`` sets by their ``values``), so
the engine can run a claim where pytest does not run: from a notebook
(:func:`ntkproof.verify`) or on a worker of a cluster.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from .claims import ClaimSpec, claim_spec

__all__ = ["ClaimCall", "load_theorem_file", "collect_calls", "parametrizations"]


@dataclass(frozen=True)
class ClaimCall:
    """One runnable instance of a claim function: the function, its spec, and the
    values of its parameters (one parametrization)."""

    spec: ClaimSpec
    fn: Callable[..., Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    file: str = ""
    #: the module attribute the function is found under (a factory's functions share
    #: one ``__name__``, e.g. ``test``, under different attributes)
    name: str = ""

    @property
    def ids(self) -> list[str]:
        """The claim and its declared twins, resolved."""
        return self.spec.ids(self.params)

    def run(self, context: Any) -> None:
        """Run the claim and its twins in ``context`` (a
        :class:`~ntkproof.engine.runner.RunContext`)."""
        self.fn(ntk=context, **self.params)


def load_theorem_file(path: str | Path) -> Any:
    """Import a theorem file by path, under a module name of its own (its folder's path
    in it, so two folders' ``theorems/test_toy.py`` never share a module). A file
    imported before is imported again when it changed since (a notebook that edits a
    theorem file and verifies again runs the new code)."""
    p = Path(path).resolve()
    digest = hashlib.sha1(str(p).encode()).hexdigest()[:10]
    name = f"ntkproof_theorems.{p.parent.name}_{digest}.{p.stem}"
    stamp = p.stat().st_mtime_ns if p.exists() else None
    cached = sys.modules.get(name)
    if cached is not None and getattr(cached, "__ntkproof_stamp__", None) == stamp:
        return cached
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"{p} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    module.__ntkproof_stamp__ = stamp  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def collect_calls(theorems: str | Path) -> list[ClaimCall]:
    """Every claim call of the theorem files ``test_*.py`` in the folder ``theorems``,
    in file order, then definition order, then parametrization order."""
    folder = Path(theorems)
    if not folder.is_dir():
        raise InvalidArgument(f"no theorem folder at {folder.resolve()}")
    calls = []
    for path in sorted(folder.glob("test_*.py")):
        module = load_theorem_file(path)
        for attr, value in vars(module).items():
            spec = claim_spec(value)
            if spec is None or getattr(value, "__module__", None) != module.__name__:
                continue
            calls += [ClaimCall(spec, value, params, str(path.resolve()), attr)
                      for params in parametrizations(value)]
    return calls


def _marks(fn: Any) -> Sequence[Any]:
    marks = getattr(fn, "pytestmark", [])
    return marks if isinstance(marks, list) else [marks]


def _names(argnames: Any) -> list[str]:
    if isinstance(argnames, str):
        return [n.strip() for n in argnames.split(",") if n.strip()]
    return list(argnames)


def _rows(names: list[str], argvalues: Sequence[Any]) -> Iterator[dict[str, Any]]:
    for value in argvalues:
        values = getattr(value, "values", value)  # pytest.param(...) keeps them in .values
        if len(names) == 1 and not hasattr(value, "values"):
            values = (value,)
        yield dict(zip(names, values, strict=True))


def parametrizations(fn: Any) -> list[dict[str, Any]]:
    """The parameter sets of ``fn`` from its ``parametrize`` marks (their product
    when there are several; one empty set when there is none)."""
    groups = [list(_rows(_names(m.args[0]), m.args[1])) for m in _marks(fn)
              if getattr(m, "name", None) == "parametrize"]
    if not groups:
        return [{}]
    return [{k: v for row in combo for k, v in row.items()}
            for combo in itertools.product(*groups)]
