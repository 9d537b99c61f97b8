"""Old module paths keep working (with a DeprecationWarning) after the layout moved
into subpackages: a theorem file written against ``ntkproof.networks`` or
``ntkproof.check`` still imports. New code imports from the new paths."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install"]

#: Old module path -> its home since the layout has subpackages.
MOVED = {
    "ntkproof.claims": "ntkproof.engine.claims",
    "ntkproof.check": "ntkproof.engine.runner",
    "ntkproof.verdicts": "ntkproof.engine.verdicts",
    "ntkproof.decision": "ntkproof.engine.decision",
    "ntkproof.search": "ntkproof.engine.search",
    "ntkproof.budgets": "ntkproof.engine.budgets",
    "ntkproof.records": "ntkproof.engine.records",
    "ntkproof.session": "ntkproof.plugin.session",
    "ntkproof.derivation_check": "ntkproof.derivation.numeric_check",
    "ntkproof.derivation_numeric": "ntkproof.derivation.evaluate",
    "ntkproof.derivation_rules": "ntkproof.derivation.rules",
    "ntkproof.derivation_symbolic": "ntkproof.derivation.symbolic",
    "ntkproof.activations": "ntkproof.nn.activations",
    "ntkproof.networks": "ntkproof.nn.networks",
    "ntkproof.empirical_ntk": "ntkproof.nn.empirical_ntk",
    "ntkproof.kernels": "ntkproof.nn.kernels",
    "ntkproof.quadrature": "ntkproof.nn.quadrature",
    "ntkproof.training": "ntkproof.nn.training",
    "ntkproof.descent": "ntkproof.nn.descent",
    "ntkproof.flow": "ntkproof.nn.flow",
    "ntkproof.data": "ntkproof.nn.data",
    "ntkproof.smoothness": "ntkproof.theory.smoothness",
    "ntkproof.taylor": "ntkproof.theory.taylor",
    "ntkproof.walsh": "ntkproof.theory.walsh",
    "ntkproof.relu_linearization": "ntkproof.theory.relu_linearization",
    "ntkproof.lookahead": "ntkproof.theory.lookahead",
    "ntkproof.active_learning": "ntkproof.theory.active_learning",
}


def moved_module(old: str) -> ModuleType:
    """The module now at ``MOVED[old]``, with a DeprecationWarning naming the new path."""
    new = MOVED[old]
    warnings.warn(f"{old} moved to {new}; import it from there (the old path will be "
                  "removed in a later release)", DeprecationWarning, stacklevel=3)
    return importlib.import_module(new)


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old module path to the module at its new path."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> ModuleType:
        return moved_module(spec.name)

    def exec_module(self, module: ModuleType) -> None:
        """The module is the new one, already executed."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
