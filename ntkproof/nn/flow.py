"""Gradient flow and gradient descent on a constant kernel, in closed form.

Convention (neural-tangents' ``predict.gradient_descent_mse``; research notes §3)
--------------------------------------------------------------------------------
The loss is half the mean squared error over **all** ``N = n·k`` training outputs,

    L(θ) = (1 / (2N)) Σ_{i ≤ n, c ≤ k} (f_c(x_i; θ) - y_ic)²,

the flow is ``dθ/dt = -η ∇L(θ)`` and the kernel ``K = Θ(S, S)`` (n × n, the same for
every output) is frozen, as for a linearised network or an infinitely wide one
(Jacot et al. 2018; Lee et al. 2019). Then, with ``c = η / N``,

    f_t(S) = y + exp(-c t K) (f_0(S) - y)
    f_t(x) = f_0(x) + Θ(x, S) K⁻¹ (I - exp(-c t K)) (y - f_0(S)).

Time is measured in the same units as in neural-tangents: ``t`` multiplies the
learning rate, so ``(t, η)`` and ``(t η, 1)`` give the same predictions.
**From a sum loss** ``½ Σ (f - y)²`` (Arora et al. 2019; Telgarsky §8): its flow at
time ``s`` is this flow at ``t = N s`` (equivalently, pass ``learning_rate = N η``).

Every time point comes from ONE eigendecomposition ``K = U diag(λ) Uᵀ``: the
exponential is ``U diag(e^{-c t λ}) Uᵀ`` and ``K⁻¹(I - e^{-ctK})`` is
``U diag(-expm1(-c t λ)/λ) Uᵀ``, which stays finite (→ c t) as λ → 0. No matrix
exponential is formed. ``t = ∞`` is kernel regression, solved by Cholesky
(:func:`kernel_regression`, with an optional ridge).

Discrete gradient descent ``θ_{j+1} = θ_j - η ∇L(θ_j)`` on the linear model gives
``(I - cK)^j`` in place of ``exp(-ctK)`` (:func:`gradient_descent`); it converges iff
``η < 2N / λ_max(K)``. :func:`gradient_flow_ode` integrates the flow numerically
(scipy ``solve_ivp``) as an independent reference.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
from scipy.integrate import solve_ivp

from ..backends import tolerance_for
from ..errors import InvalidArgument, NonFiniteError, ShapeError, SingularKernelError

__all__ = ["Predictions", "gradient_flow", "gradient_descent", "kernel_regression",
           "gradient_flow_ode", "max_learning_rate"]

_EPS = np.finfo(np.float64).eps
#: Relative slack for "symmetric" and "positive semi-definite": the float64 row of the
#: tolerance table (kernels arrive from sums of many products and carry that roundoff).
_RTOL = tolerance_for("numpy", "float64").rtol


class Predictions(NamedTuple):
    """Predictions of the linearised model.

    ``train`` has shape ``t.shape + y_train.shape``; ``test`` has shape
    ``t.shape + (n_test,) + y_train.shape[1:]``, or is None without ``k_test_train``.
    """

    train: np.ndarray
    test: np.ndarray | None


class _Problem(NamedTuple):
    k: np.ndarray          # (n, n)
    y: np.ndarray          # (n, k) outputs as columns
    kx: np.ndarray | None  # (n_test, n)
    f0: np.ndarray         # (n, k)
    f0x: np.ndarray | None  # (n_test, k)
    c: float               # learning_rate / N
    squeeze: bool          # y_train was 1-D


# -- validation ----------------------------------------------------------------------
def _finite(name: str, a: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0].tolist()
        raise NonFiniteError(f"{name} holds NaN or infinity (first at index {bad}); "
                             "check the kernel or targets that produced it")
    return a


def _array(name: str, a: Any) -> np.ndarray:
    return _finite(name, np.asarray(a, dtype=np.float64))


def _check_symmetric(k: np.ndarray) -> None:
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ShapeError(f"k_train_train must be a square (n, n) matrix, got shape {k.shape}")
    gap = float(np.max(np.abs(k - k.T))) if k.size else 0.0
    if gap > _RTOL * max(float(np.max(np.abs(k))), 1e-300):
        raise InvalidArgument(f"k_train_train is not symmetric (max |K - Kᵀ| = {gap:.3g}); "
                              "pass a kernel matrix, or symmetrise it with (K + K.T) / 2")


def _outputs(name: str, f: Any, shape: tuple[int, ...]) -> np.ndarray:
    f = _array(name, f)
    try:
        return np.array(np.broadcast_to(f, shape))
    except ValueError:
        raise ShapeError(f"{name} has shape {f.shape}, which does not broadcast to {shape}"
                         ) from None


def _problem(k_train_train: Any, y_train: Any, k_test_train: Any, fx_train_0: Any,
             fx_test_0: Any, learning_rate: float) -> _Problem:
    k = _array("k_train_train", k_train_train)
    _check_symmetric(k)
    y = _array("y_train", y_train)
    if y.ndim not in (1, 2) or y.shape[0] != k.shape[0]:
        raise ShapeError(f"y_train must have shape (n,) or (n, k) with n = {k.shape[0]} "
                         f"(the kernel's size), got {y.shape}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise InvalidArgument(f"learning_rate must be finite and > 0, got {learning_rate!r}")
    squeeze, y2 = y.ndim == 1, y.reshape(y.shape[0], -1)
    f0 = _outputs("fx_train_0", fx_train_0, y.shape).reshape(y2.shape)
    kx = f0x = None
    if k_test_train is not None:
        kx = _array("k_test_train", k_test_train)
        if kx.ndim != 2 or kx.shape[1] != k.shape[0]:
            raise ShapeError(f"k_test_train must have shape (n_test, {k.shape[0]}), got "
                             f"{kx.shape}")
        test_shape = (kx.shape[0],) + y.shape[1:]
        f0x = _outputs("fx_test_0", fx_test_0, test_shape).reshape(kx.shape[0], -1)
    return _Problem(k, y2, kx, f0, f0x, float(learning_rate) / y.size, squeeze)


def _times(name: str, t: Any, *, integer: bool = False) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    if np.any(np.isnan(t)):
        raise NonFiniteError(f"{name} holds NaN")
    if np.any(t < 0):
        raise InvalidArgument(f"{name} must be >= 0, got minimum {float(np.min(t))!r}")
    if integer and (np.any(~np.isfinite(t)) or np.any(t != np.round(t))):
        raise InvalidArgument(f"{name} must hold finite whole numbers of steps")
    return t


def _eigh(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam, u = np.linalg.eigh(k)
    lam_max = max(float(lam[-1]), 0.0) if lam.size else 0.0
    if lam.size and lam[0] < -_RTOL * max(lam_max, 1e-300) * k.shape[0]:
        raise InvalidArgument(
            f"k_train_train is not positive semi-definite: smallest eigenvalue {lam[0]:.3g} "
            f"(largest {lam_max:.3g}); the flow would diverge. Check the kernel")
    return lam, u


def _shape(p: _Problem, t: np.ndarray, out: np.ndarray, rows: int) -> np.ndarray:
    tail = (rows,) if p.squeeze else (rows, p.y.shape[1])
    return out.reshape(t.shape + tail)


def _apply(m: np.ndarray, factor: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``m @ (factor[t, :, None] * a)`` for every t as ONE GEMM: (rows, n) @ (n, T·k)."""
    coef = factor.T[:, :, None] * a[:, None, :]                   # (n, T, k)
    out = m @ coef.reshape(a.shape[0], -1)                         # (rows, T·k)
    return out.reshape(m.shape[0], factor.shape[0], a.shape[1]).transpose(1, 0, 2)


def _assemble(p: _Problem, t: np.ndarray, lam: np.ndarray, u: np.ndarray,
              decay: np.ndarray, gain: np.ndarray) -> Predictions:
    """Apply per-eigenvalue factors: decay = spectral map of the train error,
    gain = that of K⁻¹(I - decay); both (T, n) over flattened times."""
    a = u.T @ (p.f0 - p.y)                                        # (n, k)
    train = p.y + _apply(u, decay, a)                             # (T, n, k)
    test = None
    if p.kx is not None:
        test = _shape(p, t, p.f0x - _apply(p.kx @ u, gain, a), p.kx.shape[0])
    return Predictions(_shape(p, t, train, p.y.shape[0]), test)


# -- public API ----------------------------------------------------------------------
def max_learning_rate(k_train_train: Any, *, n_outputs: int = 1) -> float:
    """``2 N / λ_max(K)`` with ``N = n · n_outputs``: discrete GD converges below it."""
    k = _array("k_train_train", k_train_train)
    _check_symmetric(k)
    lam_max = float(scipy.linalg.eigvalsh(k, subset_by_index=[k.shape[0] - 1] * 2)[0])
    return 2.0 * k.shape[0] * n_outputs / lam_max


def gradient_flow(k_train_train: Any, y_train: Any, t: Any, *, k_test_train: Any = None,
                  fx_train_0: Any = 0.0, fx_test_0: Any = 0.0,
                  learning_rate: float = 1.0) -> Predictions:
    """Predictions of gradient flow on the MSE with a constant kernel, at times ``t``.

    ``f_t(S) = y + exp(-ηtK/N)(f_0(S) - y)`` and
    ``f_t(x) = f_0(x) + Θ(x,S) K⁻¹(I - exp(-ηtK/N))(y - f_0(S))`` with ``N = y_train.size``
    (the loss is ½·mean over all n·k outputs; see the module docstring for time
    units and the sum-loss conversion). All finite ``t`` share one ``eigh`` of K;
    ``t = inf`` is solved by Cholesky (:func:`kernel_regression`).

    Parameters
    ----------
    k_train_train : (n, n) symmetric PSD kernel on the training inputs.
    y_train : (n,) or (n, k) targets.
    t : scalar or array of times >= 0 (``numpy.inf`` allowed), in units of η.
    k_test_train : (n_test, n) kernel between test and training inputs, optional.
    fx_train_0, fx_test_0 : outputs at t = 0 (scalars or arrays broadcastable to the
        train / test output shapes).
    learning_rate : η > 0.

    Returns
    -------
    Predictions(train, test): ``train`` of shape ``t.shape + y_train.shape``; ``test``
    of shape ``t.shape + (n_test,) + y_train.shape[1:]`` or None.

    Raises ShapeError, NonFiniteError, InvalidArgument (K not symmetric or not PSD),
    SingularKernelError (``t = inf`` with a singular K).

    >>> import numpy as np
    >>> k = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> out = gradient_flow(k, np.array([1.0, -1.0]), [0.0, np.inf])
    >>> np.round(out.train, 12).tolist()
    [[0.0, 0.0], [1.0, -1.0]]
    """
    p = _problem(k_train_train, y_train, k_test_train, fx_train_0, fx_test_0, learning_rate)
    tt = _times("t", t)
    flat = tt.reshape(-1)
    finite = np.isfinite(flat)
    train = np.empty((flat.size,) + p.y.shape)
    test = None if p.kx is None else np.empty((flat.size, p.kx.shape[0], p.y.shape[1]))
    if finite.any():
        lam, u = _eigh(p.k)
        x = p.c * flat[finite][:, None] * lam[None, :]
        gain = np.divide(-np.expm1(-x), lam, out=p.c * np.repeat(flat[finite][:, None],
                         lam.size, axis=1), where=lam != 0)
        part = _assemble(p, flat[finite], lam, u, np.exp(-x), gain)
        train[finite] = part.train.reshape((-1,) + p.y.shape)
        if test is not None and part.test is not None:
            test[finite] = part.test.reshape(test[finite].shape)
    if not finite.all():
        inf = _solve(p, 0.0)
        train[~finite] = p.y
        if test is not None:
            test[~finite] = inf.test
    return Predictions(_shape(p, tt, train, p.y.shape[0]),
                       None if test is None else _shape(p, tt, test, _n_test(p)))


def _solve(p: _Problem, ridge: float) -> Predictions:
    """``f_0 + K_· (K + ridge I)⁻¹ (y - f_0)`` by Cholesky, with a singularity check."""
    n = p.k.shape[0]
    kr = p.k + ridge * np.eye(n)
    try:
        factor = scipy.linalg.cho_factor(kr, lower=False)
        rcond, _ = scipy.linalg.lapack.dpocon(factor[0], np.linalg.norm(kr, 1))
    except np.linalg.LinAlgError:
        rcond = 0.0
    if not rcond > n * _EPS:
        lam = scipy.linalg.eigvalsh(kr)
        raise SingularKernelError(
            f"the kernel (plus ridge {ridge:g}) is singular to working precision: smallest "
            f"eigenvalue {lam[0]:.3g}, largest {lam[-1]:.3g} (reciprocal condition "
            f"{rcond:.2g}); the t = inf solve needs it positive definite. Pass ridge > 0 "
            f"to kernel_regression (e.g. ridge={max(lam[-1], 1.0) * 1e-8:.1g}) or use finite t")
    alpha = scipy.linalg.cho_solve(factor, p.y - p.f0)
    train = p.f0 + p.k @ alpha
    test = None if p.kx is None else p.f0x + p.kx @ alpha
    return Predictions(train, test)


def kernel_regression(k_train_train: Any, y_train: Any, *, k_test_train: Any = None,
                      fx_train_0: Any = 0.0, fx_test_0: Any = 0.0,
                      ridge: float = 0.0) -> Predictions:
    """The ``t = ∞`` limit: ``f(x) = f_0(x) + Θ(x,S)(K + ridge·I)⁻¹(y - f_0(S))``.

    With ``ridge = 0`` this is where gradient flow converges (Arora et al. 2019,
    Thm 3.2's ``f_ntk`` when ``f_0 = 0``). Solved by Cholesky; a K that is singular
    to working precision raises SingularKernelError naming its smallest eigenvalue.
    Shapes as :func:`gradient_flow` without the time axis.

    >>> import numpy as np
    >>> kernel_regression(np.eye(2), np.array([1.0, 2.0]), k_test_train=[[0.5, 0.5]]).test
    array([1.5])
    """
    p = _problem(k_train_train, y_train, k_test_train, fx_train_0, fx_test_0, 1.0)
    if not (np.isfinite(ridge) and ridge >= 0):
        raise InvalidArgument(f"ridge must be finite and >= 0, got {ridge!r}")
    out = _solve(p, float(ridge))
    one = np.zeros(())
    return Predictions(_shape(p, one, out.train, p.y.shape[0]),
                       None if out.test is None else _shape(p, one, out.test, _n_test(p)))


def gradient_descent(k_train_train: Any, y_train: Any, steps: Any, *,
                     k_test_train: Any = None, fx_train_0: Any = 0.0, fx_test_0: Any = 0.0,
                     learning_rate: float = 1.0) -> Predictions:
    """Discrete gradient descent on the linearised model after ``steps`` steps.

    ``f_j(S) = y + (I - ηK/N)^j (f_0(S) - y)``,
    ``f_j(x) = f_0(x) + Θ(x,S) K⁻¹(I - (I - ηK/N)^j)(y - f_0(S))``, ``N = y_train.size``,
    from one ``eigh``. Requires ``η < 2N/λ_max(K)`` (else InvalidArgument naming the
    limit). Shapes as :func:`gradient_flow` with ``steps`` in place of ``t``.
    """
    p = _problem(k_train_train, y_train, k_test_train, fx_train_0, fx_test_0, learning_rate)
    tt = _times("steps", steps, integer=True)
    lam, u = _eigh(p.k)
    limit = 2.0 / (p.c * lam[-1]) * learning_rate if lam[-1] > 0 else np.inf
    if not learning_rate < limit:
        raise InvalidArgument(
            f"learning_rate={learning_rate!r} is at or above the stability limit "
            f"2N/λ_max = {limit:.6g} (N = {p.y.size}, λ_max = {lam[-1]:.6g}); discrete GD "
            f"diverges there. Use learning_rate < {limit:.6g}")
    j = tt.reshape(-1)[:, None]
    cl = p.c * lam[None, :]
    base = 1.0 - cl
    decay = base ** j
    small = (cl >= 0) & (cl < 1)   # 1 - base^j without cancellation via expm1/log1p
    one_minus = np.where(small, -np.expm1(j * np.log1p(-np.where(small, cl, 0.0))), 1 - decay)
    gain = np.divide(one_minus, lam, out=p.c * np.repeat(j, lam.size, axis=1),
                     where=lam != 0)
    return _assemble(p, tt, lam, u, decay, gain)


def gradient_flow_ode(k_train_train: Any, y_train: Any, t: Any, *, k_test_train: Any = None,
                      fx_train_0: Any = 0.0, fx_test_0: Any = 0.0, learning_rate: float = 1.0,
                      rtol: float = 1e-12, atol: float = 1e-14) -> Predictions:
    """Reference: integrate ``df(S)/dt = -(η/N) K (f(S) - y)``, ``df(x)/dt = -(η/N)
    Θ(x,S)(f(S) - y)`` with scipy ``solve_ivp`` (DOP853). Finite ``t`` only; slow;
    for testing :func:`gradient_flow`. Shapes as :func:`gradient_flow`.
    """
    p = _problem(k_train_train, y_train, k_test_train, fx_train_0, fx_test_0, learning_rate)
    tt = _times("t", t)
    if not np.all(np.isfinite(tt)):
        raise InvalidArgument("gradient_flow_ode needs finite t; use kernel_regression for t = inf")
    n, k = p.y.shape
    kall = p.k if p.kx is None else np.vstack([p.k, p.kx])
    start = p.f0 if p.kx is None or p.f0x is None else np.vstack([p.f0, p.f0x])

    def rhs(_s: float, z: np.ndarray) -> np.ndarray:
        return (-p.c * (kall @ (z.reshape(-1, k)[:n] - p.y))).reshape(-1)

    flat = tt.reshape(-1)
    order = np.argsort(flat)
    sol = solve_ivp(rhs, (0.0, float(flat.max(initial=0.0))), start.reshape(-1),
                    method="DOP853", t_eval=flat[order], rtol=rtol, atol=atol)
    z = np.empty((flat.size,) + start.shape)
    z[order] = sol.y.T.reshape((flat.size,) + start.shape)
    test = None if p.kx is None else _shape(p, tt, z[:, n:], p.kx.shape[0])
    return Predictions(_shape(p, tt, z[:, :n], n), test)


def _n_test(p: Any) -> int:
    """Number of test inputs of a problem (0 without a test kernel)."""
    return 0 if p.kx is None else int(p.kx.shape[0])
