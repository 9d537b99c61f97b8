"""Budgets: how much work a run spends per claim.

A budget scales case counts, search restarts, draw counts and width ladders;
it never changes a decision rule. ``quick`` is the default and what CI runs.
Claims pick sizes per budget with :meth:`Budget.pick`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from ..errors import unknown_name

__all__ = ["Budget", "BUDGETS", "get_budget"]

T = TypeVar("T")


@dataclass(frozen=True)
class Budget:
    """Work per claim.

    Attributes
    ----------
    cases : random cases drawn for an identity or a bound.
    restarts : local optimisations started from the best random cases.
    local_iters : iterations of each local optimisation.
    draws : independent draws N for a probabilistic bound. 300 is the least
        that rejects a violation rate of 3·δ (δ = 0.05) in at least 99 runs
        in 100 at α = 1e-3; ``tests/test_decision.py`` computes this exactly.
    seeds : seeds per width (or per scaling value) for a rate or separation.
    bootstrap : bootstrap resamples for a rate's confidence interval.
    """

    name: str
    cases: int
    restarts: int
    local_iters: int
    draws: int
    seeds: int
    bootstrap: int

    def pick(self, *, quick: T, standard: T | None = None, thorough: T | None = None) -> T:
        """The value for this budget; larger budgets fall back to smaller ones."""
        table = {"quick": quick, "standard": standard, "thorough": thorough}
        for name in ("thorough", "standard", "quick")[("thorough", "standard", "quick").index(
                self.name):]:
            if table[name] is not None:
                return table[name]  # type: ignore[return-value]
        return quick


BUDGETS: dict[str, Budget] = {
    "quick": Budget("quick", cases=256, restarts=6, local_iters=200, draws=300, seeds=5,
                    bootstrap=4000),
    "standard": Budget("standard", cases=2048, restarts=16, local_iters=500, draws=1000,
                       seeds=8, bootstrap=8000),
    "thorough": Budget("thorough", cases=8192, restarts=48, local_iters=1000, draws=3000,
                       seeds=16, bootstrap=20000),
}


def get_budget(name: str | Budget) -> Budget:
    """The budget called ``name`` (quick, standard, thorough)."""
    if isinstance(name, Budget):
        return name
    try:
        return BUDGETS[name]
    except KeyError:
        raise unknown_name("budget", name, list(BUDGETS)) from None
