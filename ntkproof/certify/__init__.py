"""Rigorous interval (ball) arithmetic certificates: ``lhs <= rhs`` at every point of
a box, by branch and bound with python-flint's arb balls.

:func:`certify` is the whole interface; its result is a :class:`CertResult`. This
package knows no engine, network or pytest (the engine's ``ntk.certify`` calls it).
python-flint is optional (the ``certify`` extra): importing this package does not
import it.
"""

from .bounds import CertResult, LocalMax, Tail, certify

__all__ = ["certify", "CertResult", "LocalMax", "Tail"]
