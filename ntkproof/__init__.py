"""ntkproof: verify Neural Tangent Kernel theorems twice — a symbolic derivation
(sympy) and randomized numeric checks on real networks — and report, per claim,
whether it holds and how tight it is.

The author's API: everything a theorem file needs.

* claims: :func:`claim` (with its twins, :class:`Twin`, and the backends it runs
  on), case spaces :class:`Box`, :class:`Ball`, :class:`Fixed`, :class:`Product`;
  the ``ntk`` fixture a claim's body receives is a :class:`ClaimRun`;
* derivations: :class:`Derivation`, :class:`Step`, :class:`Hypothesis`, :func:`chain`;
* networks and kernels: :class:`TwoLayer`, :class:`MLP`, :class:`Linearized`,
  :class:`Scaled`, :func:`empirical_ntk`, :func:`infinite_width`,
  :func:`arccos_kernel`, :func:`get_activation`;
* training and kernel regression: :func:`train`, :func:`gradient_descent`,
  :func:`max_learning_rate`, :func:`gradient_flow`, :func:`kernel_regression`;
* backends and budgets: :func:`get_backend`, :func:`get_budget`;
* running claims from Python (a notebook): :func:`verify`.

More of the mathematics lives in :mod:`ntkproof.nn` (data sets, descent,
quadrature) and :mod:`ntkproof.theory` (what one theorem file needs);
reports in :mod:`ntkproof.report`. Importing ntkproof imports neither torch nor
matplotlib nor pytest.
"""

import warnings

from . import _compat
from ._version import __version__
from .api import verify as verify
from .backends import Backend as Backend
from .backends import get_backend as get_backend
from .derivation import Derivation as Derivation
from .derivation import Hypothesis as Hypothesis
from .derivation import Step as Step
from .derivation import chain as chain
from .engine.budgets import Budget as Budget
from .engine.budgets import get_budget as get_budget
from .engine.claims import ClaimInfo as ClaimInfo
from .engine.claims import Twin as Twin
from .engine.claims import claim as claim
from .engine.runner import ClaimRun as ClaimRun
from .engine.runner import Measured as Measured
from .engine.search import Ball as Ball
from .engine.search import Box as Box
from .engine.search import Fixed as Fixed
from .engine.search import Product as Product
from .nn import ACTIVATIONS as ACTIVATIONS
from .nn import MLP as MLP
from .nn import SMOOTH_ACTIVATIONS as SMOOTH_ACTIVATIONS
from .nn import Activation as Activation
from .nn import Linearized as Linearized
from .nn import Scaled as Scaled
from .nn import TwoLayer as TwoLayer
from .nn import arccos_kernel as arccos_kernel
from .nn import empirical_ntk as empirical_ntk
from .nn import get_activation as get_activation
from .nn import gradient_descent as gradient_descent
from .nn import gradient_flow as gradient_flow
from .nn import infinite_width as infinite_width
from .nn import kernel_regression as kernel_regression
from .nn import max_learning_rate as max_learning_rate
from .nn import train as train

__all__ = [
    "__version__",
    # claims
    "claim", "Twin", "ClaimInfo", "ClaimRun", "Measured", "Box", "Ball", "Fixed", "Product",
    # derivations
    "Derivation", "Step", "Hypothesis", "chain",
    # networks, kernels, training
    "ACTIVATIONS", "SMOOTH_ACTIVATIONS", "Activation", "get_activation", "TwoLayer", "MLP",
    "Linearized", "Scaled", "empirical_ntk", "infinite_width", "arccos_kernel", "train",
    "gradient_descent", "max_learning_rate", "gradient_flow", "kernel_regression",
    # backends, budgets; verifying from Python
    "Backend", "get_backend", "Budget", "get_budget", "verify",
]

_compat.install()


def __getattr__(name: str) -> object:
    """``from ntkproof import networks`` (an old module path) still works."""
    if f"ntkproof.{name}" in _compat.MOVED:
        return _compat.moved_module(f"ntkproof.{name}")
    if name in ("build_report", "write_report"):  # report internals left the top level
        from . import report  # noqa: PLC0415 - deprecated path, imported only when used

        warnings.warn(f"ntkproof.{name} moved to ntkproof.report.{name}", DeprecationWarning,
                      stacklevel=2)
        return getattr(report, name)
    raise AttributeError(f"module 'ntkproof' has no attribute {name!r}")
