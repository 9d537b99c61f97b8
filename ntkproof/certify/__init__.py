"""Rigorous interval (ball) arithmetic certificates: ``lhs <= rhs`` at every point of
a box, by branch and bound with python-flint's arb balls.

:func:`certify` is the whole interface; its result is a :class:`CertResult`. This
package knows no engine, network or pytest (the engine's ``ntk.certify`` calls it).
python-flint is a core dependency; :mod:`.symbolic` compiles sympy expressions into
arb functions (the enclosures a certificate evaluates).
"""

from .bounds import CertResult, LocalMax, NotABall, Tail, certify, negative_definite
from .symbolic import arb_function, arb_value, arb_xlogx, xlogx

__all__ = ["certify", "CertResult", "LocalMax", "Tail", "NotABall", "negative_definite",
           "arb_function", "arb_value", "arb_xlogx", "xlogx"]
