"""ntkproof: verify Neural Tangent Kernel theorems twice — a symbolic derivation
(sympy) and randomized numeric checks on real networks — and report, per claim,
whether it holds and how tight it is.

The public API (everything else lives in modules named for their role):

* :func:`claim` — mark a pytest test as the check of a claim;
* :class:`ClaimRun` — the ``ntk`` fixture a claim's test receives
  (``ntk.bound``, ``ntk.identity``, ``ntk.probabilistic_bound``, ``ntk.rate``,
  ``ntk.separation``, ``ntk.derivation``);
* :class:`Box`, :class:`Ball`, :class:`Fixed`, :class:`Product` — case spaces;
* :func:`get_backend`, :func:`get_activation`, :func:`get_budget`;
* :func:`build_report`, :func:`write_report`.

Importing ntkproof imports neither torch nor matplotlib.
"""

from ._version import __version__
from .activations import ACTIVATIONS as ACTIVATIONS
from .activations import Activation as Activation
from .activations import get_activation as get_activation
from .backends import Backend as Backend
from .backends import get_backend as get_backend
from .budgets import Budget as Budget
from .budgets import get_budget as get_budget
from .check import ClaimRun as ClaimRun
from .claims import ClaimInfo as ClaimInfo
from .claims import claim as claim
from .report import build_report as build_report
from .report import write_report as write_report
from .search import Ball as Ball
from .search import Box as Box
from .search import Fixed as Fixed
from .search import Product as Product

__all__ = [
    "__version__", "ACTIVATIONS", "Activation", "get_activation", "Backend", "get_backend",
    "Budget", "get_budget", "ClaimRun", "ClaimInfo", "claim", "build_report", "write_report",
    "Ball", "Box", "Fixed", "Product",
]
