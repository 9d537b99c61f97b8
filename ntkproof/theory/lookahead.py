r"""NTK look-ahead for active learning (Mohamadi, Bae & Sutherland, NeurIPS 2022).

A network ``f_L`` trained on the labelled inputs ``𝒳`` (n of them) with labels ``𝒴``,
and its empirical NTK ``Θ`` at the trained weights. Adding one labelled point
``(x', y')`` (``L+ = L ∪ {(x', y')}``, ``𝒳+ = 𝒳 ∪ {x'}``), the linearised model
retrained to convergence predicts (the paper's eq. (11))::

    f_{L+}(x) ≈ f_L(x) + Θ(x, 𝒳+) Θ(𝒳+, 𝒳+)⁻¹ (𝒴+ − f_L(𝒳+)).

With ``A = Θ(𝒳, 𝒳) (+ ridge·I)``, ``b = Θ(𝒳, x')``, ``c = Θ(x', x') (+ ridge)``, the
bordered (Schur-complement) inverse gives, for every candidate at once (eq. (12))::

    v = A⁻¹ b,    u = c − bᵀ A⁻¹ b,    r = 𝒴 − f_L(𝒳),    r' = y' − f_L(x'),
    s = (r' − vᵀ r) / u                                   ("innovation" of x')
    f_{L+}(x) = f_L(x) + Θ(x, 𝒳) A⁻¹ r + (Θ(x, x') − Θ(x, 𝒳) v) s.

The submission text prints ``v = Θ(𝒳, 𝒳) Θ(𝒳, x')`` (no inverse); the authors' code
(``block_gradient_descent_mse_staged``) and the derivation have ``A⁻¹``. ``A`` is
factorised once (Cholesky); scoring p candidates at q evaluation points costs
``O(n² p + n q p)`` against ``O(p (n³ + n q))`` for re-solving the (n+1)-system per
candidate. Several outputs share the kernel (``Θ ⊗ I_C``, the "single-logit" eNTK
of Wei, Hu & Steinhardt 2022): residuals are (n, C) and every formula applies per
column.

MLMOC acquisition (eq. (13)): ``A(x') = Σ_{x ∈ U} ||f_L(x) − f_{L+}(x)||₂`` with
``y'`` the most likely label (:func:`most_likely_label`); query the top scores.
The sequential mode (:meth:`LookAhead.add`) adds a point with its true label by
bordering the Cholesky factor, without retraining.

Everything runs on a :class:`~ntkproof.backends.Backend` (numpy/scipy, torch,
mpmath object arrays for small identities). Shapes: kernels ``(rows, cols)``,
outputs ``(n,)`` or ``(n, C)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import Backend, get_backend
from ..errors import InvalidArgument, NonFiniteError, ShapeError, SingularKernelError
from ..nn._validate import check_finite, check_symmetric, non_negative_int, real_number

__all__ = ["KernelFactor", "LookAhead", "Bordered", "most_likely_label", "mlmoc_scores",
           "top_k", "full_solve"]


# -- helpers ------------------------------------------------------------------------
def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in (x.shape if hasattr(x, "shape") else np.shape(x)))


def _grow(b: Backend, M: Any, rows: int, cols: int) -> Any:
    """A (rows, cols) backend array of zeros with M in its top-left corner."""
    out = b.zeros((rows, cols))
    r, c = _shape(M)
    out[:r, :c] = M
    return out


def _as2d(b: Backend, x: Any, name: str, rows: int) -> tuple[Any, bool]:
    x = b.asarray(x)
    shape = _shape(x)
    if len(shape) == 1 and shape[0] == rows:
        out, squeeze = x.reshape(rows, 1), True
    elif len(shape) == 2 and shape[0] == rows:
        out, squeeze = x, False
    else:
        raise ShapeError(f"{name} must have shape ({rows},) or ({rows}, C), got {shape}")
    check_finite(name, out, "check the model outputs or labels that produced it")
    return out, squeeze


def _kernel(b: Backend, k: Any, name: str, rows: int, cols: int) -> Any:
    k = b.asarray(k)
    if _shape(k) != (rows, cols):
        raise ShapeError(f"{name} must have shape ({rows}, {cols}), got {_shape(k)}")
    check_finite(name, k, "check the kernel that produced it")
    return k


def _cell(b: Backend, x: Any) -> Any:
    """A scalar (or a one-element array) as a (1, 1) backend array."""
    v = b.asarray(x)
    out = b.zeros((1, 1))
    out[0, 0] = b.asarray(v.reshape(-1)[0] if hasattr(v, "reshape") else v)
    return out


class KernelFactor:
    """Cholesky factor of ``A + ridge·I`` (A symmetric PSD, shape (n, n)), made once.

    Raises :class:`~ntkproof.errors.SingularKernelError` (naming the smallest
    eigenvalue and a ridge to try) when ``A + ridge·I`` is not positive definite to
    working precision (a pivot below ``n·eps·max diag``).

    >>> f = KernelFactor(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> np.round(f.solve(np.array([[3.0], [3.0]])).ravel(), 12)
    array([1., 1.])
    """

    def __init__(self, A: Any, *, ridge: float = 0.0, backend: str | Backend | None = None,
                 _L: Any = None) -> None:
        self.backend = b = get_backend(backend)
        self.ridge = real_number("ridge", ridge, non_negative=True)
        if _L is not None:
            self.L, self.n = _L, _shape(_L)[0]
            return
        A = b.asarray(A)
        shape = _shape(A)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ShapeError(f"the kernel A = Θ(𝒳, 𝒳) must be a square (n, n) matrix, "
                             f"got shape {shape}")
        check_finite("the kernel A = Θ(𝒳, 𝒳)", A, "check the kernel that produced it")
        check_symmetric("the kernel A = Θ(𝒳, 𝒳)", A, eps=b.tol.eps)
        self.n = shape[0]
        Ar = A + b.scalar(self.ridge) * b.eye(self.n) if self.ridge else A
        try:
            L = b.cholesky(Ar)
            cause = None if self._pivots_ok(L, Ar) else \
                SingularKernelError("a Cholesky pivot below n·eps·max diag")
        except SingularKernelError as exc:
            cause = exc
        if cause is not None:
            lam = b.to_numpy(b.eigvalsh(Ar))
            lo, hi = (float(lam[0]), float(lam[-1])) if lam.size else (0.0, 0.0)
            raise SingularKernelError(
                f"the labelled-set kernel A = Θ(𝒳, 𝒳) (plus ridge {self.ridge:g}) is singular "
                f"or not positive definite: smallest eigenvalue {lo:.3g}, largest {hi:.3g} "
                f"(n = {self.n}); the look-ahead needs A⁻¹. Pass ridge > 0, e.g. "
                f"ridge={max(abs(hi), 1.0) * 1e-6:.1g}, or drop duplicated inputs") from cause
        self.L = L

    def _pivots_ok(self, L: Any, A: Any) -> bool:
        b = self.backend
        diag = np.abs(b.to_numpy(L).diagonal())
        scale = float(np.max(np.abs(b.to_numpy(A).diagonal()))) if self.n else 0.0
        return bool(self.n == 0 or diag.min() ** 2 > self.n * b.tol.eps * max(scale, 1e-300))

    def __repr__(self) -> str:
        return f"KernelFactor(n={self.n}, ridge={self.ridge:g}, backend={self.backend.spec!r})"

    def solve(self, B: Any) -> Any:
        """``(A + ridge·I)⁻¹ B`` for B of shape (n,) or (n, k)."""
        b = self.backend
        B = b.asarray(B)
        one = len(_shape(B)) == 1
        if len(_shape(B)) not in (1, 2) or _shape(B)[0] != self.n:
            raise ShapeError(f"right-hand side must have {self.n} rows, got shape {_shape(B)}")
        B2 = B.reshape(self.n, 1) if one else B
        check_finite("the right-hand side", B2, "check the residuals that produced it")
        X = b.solve_triangular(self.L, b.solve_triangular(self.L, B2), trans=True)
        return X.reshape(self.n) if one else X

    def border(self, col: Any, corner: Any) -> KernelFactor:
        """The factor of ``[[A, col], [colᵀ, corner]]`` (+ ridge on the new diagonal),
        in ``O(n²)``: ``l = L⁻¹ col``, ``d = sqrt(corner + ridge − lᵀl)``."""
        b = self.backend
        col = b.asarray(col)
        if _shape(col) not in ((self.n,), (self.n, 1), (1, self.n)):
            raise ShapeError(f"col = Θ(𝒳, x') must have shape ({self.n},), got {_shape(col)}")
        col = _kernel(b, col.reshape(self.n, 1), "col", self.n, 1)
        if len(_shape(corner)) > 0 and _shape(corner) not in ((1,), (1, 1)):
            raise ShapeError(f"corner = Θ(x', x') must be a scalar, got shape {_shape(corner)}")
        check_finite("corner", b.asarray(corner), "check the kernel that produced it")
        ell = b.solve_triangular(self.L, col)                               # (n, 1)
        d2 = _cell(b, corner) + b.scalar(self.ridge) - b.sum(ell * ell)
        c = b.to_float(_cell(b, corner)) + self.ridge
        if not b.to_float(d2) > self.n * b.tol.eps * max(abs(c), 1e-300):
            raise SingularKernelError(
                f"bordering makes the kernel singular: Schur complement u = {b.to_float(d2):.3g} "
                f"(Θ(x', x') + ridge = {c:.3g}); the new point is (numerically) a duplicate "
                f"of the labelled ones. Pass ridge > 0 (e.g. ridge={max(abs(c), 1.0) * 1e-6:.1g})")
        L = _grow(b, self.L, self.n + 1, self.n + 1)        # [[L, 0], [lᵀ, d]]
        L[self.n:, :self.n] = b.transpose(ell)
        L[self.n:, self.n:] = b.sqrt(d2)
        return KernelFactor(None, ridge=self.ridge, backend=b, _L=L)


# -- the look-ahead -----------------------------------------------------------------
@dataclass
class Bordered:
    """Per-candidate quantities of the bordered update for p candidates.

    ``V = A⁻¹ Θ(𝒳, P)`` (n, p); ``u`` (p,) the Schur complements; ``s`` (p, C) the
    innovations ``(r' − vᵀ r)/u``; ``squeeze``: the outputs were 1-D.
    """

    V: Any
    u: Any
    s: Any
    squeeze: bool


class LookAhead:
    """Look-ahead predictions ``f_{L+}`` for a trained model (module docstring).

    Parameters
    ----------
    k_train_train : (n, n) eNTK Gram ``Θ(𝒳, 𝒳)`` at the trained weights.
    f_train : (n,) or (n, C) the trained model's outputs ``f_L(𝒳)``.
    y_train : labels ``𝒴``, same shape as ``f_train``.
    ridge : added to the diagonal of every kernel that is inverted.
    """

    def __init__(self, k_train_train: Any, f_train: Any, y_train: Any, *, ridge: float = 0.0,
                 backend: str | Backend | None = None) -> None:
        self.backend = b = get_backend(backend)
        self.factor = KernelFactor(k_train_train, ridge=ridge, backend=b)
        self.n = self.factor.n
        f, self.squeeze = _as2d(b, f_train, "f_train", self.n)
        y, _ = _as2d(b, y_train, "y_train", self.n)
        if _shape(f) != _shape(y):
            raise ShapeError(f"f_train has shape {_shape(f)} but y_train {_shape(y)}")
        self.residual = y - f                                   # r = 𝒴 − f_L(𝒳), (n, C)
        self.alpha = self.factor.solve(self.residual)           # A⁻¹ r

    def __repr__(self) -> str:
        return (f"LookAhead(n={self.n}, outputs={_shape(self.residual)[1]}, "
                f"ridge={self.factor.ridge:g}, backend={self.backend.spec!r})")

    @property
    def outputs(self) -> int:
        return _shape(self.residual)[1]

    def border(self, k_cand_train: Any, k_cand_diag: Any, f_cand: Any, y_cand: Any) -> Bordered:
        """The bordered update for p candidates: ``k_cand_train`` (p, n) = Θ(P, 𝒳),
        ``k_cand_diag`` (p,) = Θ(x', x'), ``f_cand``, ``y_cand`` (p,) or (p, C)."""
        b = self.backend
        kc = b.asarray(k_cand_train)
        p = _shape(kc)[0] if len(_shape(kc)) == 2 else -1
        kc = _kernel(b, kc, "k_cand_train", p, self.n)
        diag = b.asarray(k_cand_diag)
        if _shape(diag) != (p,):
            raise ShapeError(f"k_cand_diag must have shape ({p},), got {_shape(diag)}")
        check_finite("k_cand_diag", diag, "check the kernel that produced it")
        fc, _ = _as2d(b, f_cand, "f_cand", p)
        yc, _ = _as2d(b, y_cand, "y_cand", p)
        if _shape(fc)[1] != self.outputs or _shape(yc) != _shape(fc):
            raise ShapeError(f"f_cand {_shape(fc)} and y_cand {_shape(yc)} must both have "
                             f"{self.outputs} output column(s)")
        Bt = b.transpose(kc)                                        # (n, p)
        V = self.factor.solve(Bt)                                   # v = A⁻¹ b per column
        u = diag + b.scalar(self.factor.ridge) - b.sum(Bt * V, axis=0)
        self._check_u(u, diag)
        innov = (yc - fc) - b.matmul(b.transpose(V), self.residual)  # r' − vᵀ r
        return Bordered(V, u, innov / u[:, None], self.squeeze)

    def _check_u(self, u: Any, diag: Any) -> None:
        b = self.backend
        un, dn = b.to_numpy(u), np.abs(b.to_numpy(diag)) + self.factor.ridge
        bad = un <= self.n * b.tol.eps * np.maximum(dn, 1e-300)
        if bad.any():
            i = int(np.argmax(bad))
            raise SingularKernelError(
                f"candidate {i}: the bordered kernel Θ(𝒳+, 𝒳+) is singular (Schur complement "
                f"u = Θ(x',x') − bᵀA⁻¹b = {un[i]:.3g}); the candidate duplicates the span of "
                f"the labelled inputs. Pass ridge > 0 (e.g. ridge={max(dn.max(), 1.0) * 1e-6:.1g})")

    def change(self, bordered: Bordered, k_eval_train: Any, k_eval_cand: Any) -> tuple[Any, Any]:
        """``(base, G)`` with ``f_{L+}(x) − f_L(x) = base[x] + G[x, x'] s[x']``:
        ``base = Θ(E, 𝒳) A⁻¹ r`` (q, C), ``G = Θ(E, P) − Θ(E, 𝒳) V`` (q, p)."""
        b = self.backend
        p = _shape(bordered.u)[0]
        ke = b.asarray(k_eval_train)
        q = _shape(ke)[0]
        ke = _kernel(b, ke, "k_eval_train", q, self.n)
        kp = _kernel(b, k_eval_cand, "k_eval_cand", q, p)
        return b.matmul(ke, self.alpha), kp - b.matmul(ke, bordered.V)

    def predict(self, bordered: Bordered, k_eval_train: Any, k_eval_cand: Any,
                f_eval: Any) -> Any:
        """``f_{L+}(x)`` for every candidate x' (axis 0) at every eval point x (axis 1):
        shape (p, q) or (p, q, C)."""
        b = self.backend
        base, G = self.change(bordered, k_eval_train, k_eval_cand)
        fe, _ = _as2d(b, f_eval, "f_eval", _shape(G)[0])
        out = (fe + base)[None, :, :] + b.transpose(G)[:, :, None] * bordered.s[:, None, :]
        return out[:, :, 0] if bordered.squeeze else out

    def add(self, k_new_train: Any, k_new_new: Any, f_new: Any, y_new: Any) -> LookAhead:
        """Sequential mode: the look-ahead for ``L ∪ {(x', y')}`` with the true label,
        by bordering the Cholesky factor (O(n²), no retraining). ``f_new`` is
        ``f_L(x')`` of the (unchanged) trained model. Returns a new LookAhead."""
        b = self.backend
        out = object.__new__(LookAhead)
        out.backend, out.squeeze = b, self.squeeze
        out.factor = self.factor.border(k_new_train, k_new_new)
        out.n = self.n + 1
        for name, v in (("f_new", f_new), ("y_new", y_new)):
            if _shape(v) not in ((), (self.outputs,), (1, self.outputs)) or \
                    (_shape(v) == () and self.outputs != 1):
                raise ShapeError(f"{name} must have shape ({self.outputs},) (one value per "
                                 f"output), got {_shape(v)}")
            check_finite(name, b.asarray(v), "check the model output or label")
        r_new = (b.asarray(y_new) - b.asarray(f_new)).reshape(1, self.outputs)
        out.residual = _grow(b, self.residual, self.n + 1, self.outputs)
        out.residual[self.n:] = r_new
        out.alpha = out.factor.solve(out.residual)
        return out


def full_solve(k_plus: Any, f_plus: Any, y_plus: Any, k_eval_plus: Any, f_eval: Any, *,
               ridge: float = 0.0, backend: str | Backend | None = None) -> Any:
    """Reference eq. (11) by a fresh solve: ``f(E) + Θ(E, 𝒳+) (Θ(𝒳+, 𝒳+) + ridge)⁻¹
    (𝒴+ − f(𝒳+))``; shapes (N, N), (N[, C]), (N[, C]), (q, N), (q[, C])."""
    la = LookAhead(k_plus, f_plus, y_plus, ridge=ridge, backend=backend)
    b = la.backend
    ke = b.asarray(k_eval_plus)
    ke = _kernel(b, ke, "k_eval_plus", _shape(ke)[0] if len(_shape(ke)) == 2 else -1, la.n)
    fe, _ = _as2d(b, f_eval, "f_eval", _shape(ke)[0])
    out = fe + b.matmul(ke, la.alpha)
    return out[:, 0] if la.squeeze else out


# -- acquisition ----------------------------------------------------------------------
def most_likely_label(f: Any, *, backend: str | Backend | None = None) -> Any:
    """The pseudo-label ``y'`` of MLMOC: ``sign f`` for one output (labels ±1);
    for C outputs the centred one-hot code ``e_{argmax f} − 1/C`` (the coding of
    :func:`ntkproof.nn.data.digits`). Returns a numpy array."""
    f = np.asarray(get_backend(backend).to_numpy(f))
    if f.ndim not in (1, 2):
        raise ShapeError(f"f must have shape (n,) or (n, C), got {f.shape}")
    check_finite("f", f, "check the model outputs")
    if f.ndim == 1 or f.shape[1] == 1:
        return np.where(f >= 0, 1.0, -1.0)
    C = f.shape[1]
    return (np.arange(C)[None, :] == np.argmax(f, axis=1)[:, None]) - 1.0 / C


def mlmoc_scores(lookahead: LookAhead, bordered: Bordered, k_eval_train: Any,
                 k_eval_cand: Any) -> Any:
    """MLMOC scores (eq. (13)) ``A(x') = Σ_{x ∈ E} ||f_{L+}(x) − f_L(x)||₂``, shape (p,).

    With ``d_x = base_x + G_{x x'} s_{x'}`` the squared norm over outputs is
    ``|base_x|² + 2 G_{xx'} (base_x · s_{x'}) + G_{xx'}² |s_{x'}|²``: three (q, p)
    matrices, never a (q, p, C) tensor. ``bordered`` should use ``y' =
    most_likely_label(f_L(x'))``. ``f_L`` here is the trained model; ``base`` is the
    part of the look-ahead that does not depend on x' (zero if f_L interpolates L).
    """
    if not isinstance(lookahead, LookAhead) or not isinstance(bordered, Bordered):
        raise InvalidArgument(f"mlmoc_scores needs a LookAhead and its Bordered update, got "
                              f"{type(lookahead).__name__} and {type(bordered).__name__}")
    b = lookahead.backend
    base, G = lookahead.change(bordered, k_eval_train, k_eval_cand)
    s = bordered.s
    sq = (b.sum(base * base, axis=1)[:, None] + 2 * G * b.matmul(base, b.transpose(s))
          + G * G * b.sum(s * s, axis=1)[None, :])
    return b.sum(b.sqrt(b.maximum(sq, 0 * sq)), axis=0)


def top_k(scores: Any, k: int, *, exclude: Any = ()) -> np.ndarray:
    """Indices of the k largest scores (ties broken by index), skipping ``exclude``."""
    s = np.asarray(scores, dtype=float).copy()
    if s.ndim != 1:
        raise ShapeError(f"scores must be a 1-D array (one score per candidate), got shape "
                         f"{s.shape}")
    if np.isnan(s).any():
        raise NonFiniteError(f"scores holds NaN (first at index {int(np.argmax(np.isnan(s)))}); "
                             "NaN scores cannot be ranked")
    exclude = [non_negative_int("exclude entry", i) for i in exclude]
    if any(i >= s.size for i in exclude):
        raise InvalidArgument(f"exclude {sorted(i for i in exclude if i >= s.size)} are not "
                              f"indices of the {s.size} scores")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer, float)) or int(k) != k \
            or k < 0 or k > s.size - len(set(exclude)):
        raise InvalidArgument(f"k must be an integer in [0, {s.size - len(set(exclude))}], "
                              f"got {k!r}")
    s[exclude] = -np.inf
    return np.argsort(-s, kind="stable")[: int(k)]
