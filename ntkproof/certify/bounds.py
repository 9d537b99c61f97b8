"""Branch and bound over a box with arb balls (to be implemented)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CertResult", "LocalMax", "Tail", "certify"]


@dataclass
class CertResult:
    """The outcome of :func:`certify`.

    ``verdict``: ``CERTIFIED`` (every point of the box satisfies the inequality, with
    the local and tail arguments listed in ``arguments``), ``FALSIFIED`` (a concrete
    point, re-checked at high precision, in ``counterexample``) or ``INCONCLUSIVE``
    (the budget ran out with ``undecided_volume`` of the box, as a fraction, left).
    """

    verdict: str
    box: dict[str, tuple[float, float]]
    boxes: int = 0
    undecided_volume: float = 0.0
    counterexample: dict[str, Any] | None = None
    max_ratio: float | None = None
    seconds: float = 0.0
    prec: int = 0
    arguments: list[str] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class LocalMax:
    """A neighbourhood of a point where ``lhs`` attains ``rhs`` (a supremum that is
    attained), decided by a second-order argument instead of enclosures."""

    center: Mapping[str, Any]
    radius: float
    description: str = ""


@dataclass(frozen=True)
class Tail:
    """An unbounded end of a variable's range, decided by a separately checked
    argument (e.g. a monotone tail)."""

    variable: str
    start: float
    side: int
    description: str = ""


def certify(evaluate: Callable[..., tuple[Any, Any]], box: Mapping[str, tuple[float, float]],
            *, strict: bool = False, prec: int = 80, max_boxes: int = 100_000,
            time_limit: float = 60.0, local: Sequence[LocalMax] = (),
            tails: Sequence[Tail] = ()) -> CertResult:
    """Prove ``lhs <= rhs`` (``<`` when ``strict``) at every point of ``box``.

    ``evaluate(**balls) -> (lhs, rhs)`` receives one ``flint.arb`` ball per variable
    of ``box`` and returns enclosures of both sides.
    """
    raise NotImplementedError("ntkproof.certify is being written")
