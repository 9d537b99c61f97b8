"""Exceptions raised by ntkproof.

Every error names the argument, the value it received, what was expected and,
where there is one, the fix. Each class refines the builtin exception a caller
would catch for the same mistake, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "NtkproofError",
    "InvalidArgument",
    "ShapeError",
    "NonFiniteError",
    "UnknownName",
    "MissingDependency",
    "SingularKernelError",
    "DivergenceError",
    "ClaimTimeout",
]


class NtkproofError(Exception):
    """Base class of every error raised on purpose by ntkproof."""


class InvalidArgument(NtkproofError, ValueError):
    """An argument has a value outside what the function accepts."""


class ShapeError(InvalidArgument):
    """Arrays whose shapes do not fit together."""


class NonFiniteError(InvalidArgument):
    """An input or an observation holds NaN or infinity."""


class UnknownName(NtkproofError, KeyError):
    """A name (backend, activation, budget, claim) that is not in its catalogue."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class MissingDependency(NtkproofError, ImportError):
    """An optional package is needed; the message names the extra to install."""


class SingularKernelError(NtkproofError, ValueError):
    """A kernel matrix that must be inverted is singular or not positive definite."""


class DivergenceError(NtkproofError, FloatingPointError):
    """Training diverged (loss became infinite or NaN)."""


class ClaimTimeout(NtkproofError, TimeoutError):
    """A claim ran past its time limit on a cluster (``--ntk-claim-timeout``); its
    unfinished work there was given up."""


def unknown_name(kind: str, value: object, known: list[str] | tuple[str, ...]) -> UnknownName:
    """Build the standard 'unknown X' error listing the valid names."""
    return UnknownName(
        f"unknown {kind} {value!r}; expected one of: {', '.join(sorted(known))}"
    )


class DamagedFile(InvalidArgument):
    """A stored file (records, run.json, report.json) that cannot be read as what it
    should be; the message names the file and, for line files, the line."""


__all__ += ["DamagedFile"]
