"""Symbolic derivations, checked twice: every step closed by sympy and spot-checked
at random points at 50 digits (mpmath).

Modules: ``model`` (:class:`Step`, :class:`Hypothesis`, :class:`Derivation`,
:func:`chain`), ``checker`` (:func:`check_derivation`: one closer per step
method), ``symbolic`` and ``rules`` (how sympy closes a step), ``numeric_check``
and ``evaluate`` (the 50-digit spot checks).
"""

from .checker import check_derivation, close_step, discharge
from .model import (
    METHODS,
    RELATIONS,
    Derivation,
    DerivationResult,
    Hypothesis,
    Step,
    StepResult,
    chain,
    free_symbols,
)
from .obligations import ObligationReport, Trichotomy, check_obligations

__all__ = ["Derivation", "Step", "Hypothesis", "chain", "check_derivation", "close_step",
           "discharge", "check_obligations", "ObligationReport", "Trichotomy",
           "DerivationResult", "StepResult", "free_symbols", "RELATIONS", "METHODS"]
