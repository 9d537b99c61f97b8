"""Data sets for the numeric checks: synthetic ones drawn from a seed, and one real one.

Every generator takes a keyword-only ``seed`` and draws through
:mod:`ntkproof.rng`, so a data set is a pure function of its arguments; the seed
is kept on the returned :class:`Dataset` and shown in its repr.

* :func:`sphere_teacher` — inputs uniform on the unit sphere, targets from a random
  two-layer teacher ``(1/√m) Σ a_j σ(w_j·x)``;
* :func:`hypercube_parity` — ``x ∈ {±1}^d / √d`` (on the unit sphere), target the
  parity ``Π_{i<k} x_i √d`` of the first k coordinates (±1);
* :func:`single_neuron` — Gaussian inputs ``x ~ N(0, I_d)``, target ``relu(w*·x)``
  with a unit ``w*`` (Yehudai & Shamir 2019's setting);
* :func:`digits` — scikit-learn's bundled 8×8 digits (no download; needs the extra
  ``ntkproof[data]``), rows scaled to the unit sphere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends import get_backend
from ..errors import InvalidArgument, MissingDependency
from ..rng import generator, unit_vectors
from ._validate import non_negative_int, positive_int, real_number
from .activations import get_activation

__all__ = ["Dataset", "uniform_sphere", "sphere_teacher", "hypercube_parity",
           "single_neuron", "digits"]


@dataclass(frozen=True, repr=False)
class Dataset:
    """A regression data set: float64 arrays, targets of shape (n,) or (n, k).

    ``x_train`` (n_train, d), ``y_train``, ``x_test`` (n_test, d), ``y_test``; ``name``
    says how it was made (with its parameters) and ``seed`` how to make it again.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    seed: int

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, seed={self.seed}, x_train={self.x_train.shape}, "
                f"y_train={self.y_train.shape}, x_test={self.x_test.shape})")


#: Sizes that must be >= 1 (a data set needs a training point and an input dimension).
_POSITIVE = ("n_train", "d", "width", "k")


def _sizes(**sizes: Any) -> list[int]:
    """The sizes as ints, in order: ``n_train``, ``d``, ``width`` and ``k`` >= 1, the others
    (``n``, ``n_test``) >= 0, ``seed`` a non-negative integer; InvalidArgument otherwise."""
    return [positive_int(name, value) if name in _POSITIVE else non_negative_int(name, value)
            for name, value in sizes.items()]


def _split(x: np.ndarray, y: np.ndarray, n_train: int, name: str, seed: int) -> Dataset:
    return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], name, int(seed))


def uniform_sphere(n: int, d: int, *, seed: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of R^d, shape (n, d).

    >>> uniform_sphere(3, 4, seed=0).shape
    (3, 4)
    """
    n, d, seed = _sizes(n=n, d=d, seed=seed)
    return unit_vectors(generator(seed), n, d)


def sphere_teacher(n_train: int, n_test: int, d: int, *, seed: int, width: int = 64,
                   activation: str = "relu", noise: float = 0.0) -> Dataset:
    """Unit-sphere inputs labelled by a random two-layer teacher.

    ``y = (1/√m) Σ_j a_j σ(w_j·x) + noise·ε`` with ``w_j ~ N(0, I_d)``, ``a_j ~ N(0, 1)``,
    ``m = width``, ``ε ~ N(0, 1)``; targets have shape (n,).

    >>> sphere_teacher(8, 2, 3, seed=1)
    Dataset('sphere_teacher(d=3, width=64, relu, noise=0.0)', seed=1, x_train=(8, 3), y_train=(8,), x_test=(2, 3))
    """
    n_train, n_test, d, width, seed = _sizes(n_train=n_train, n_test=n_test, d=d, width=width,
                                             seed=seed)
    noise = real_number("noise", noise, non_negative=True)
    act = get_activation(activation)
    rng = generator(seed)
    x = unit_vectors(rng, n_train + n_test, d)
    w, a = rng.standard_normal((width, d)), rng.standard_normal(width)
    y = act.f(get_backend("numpy"), x @ w.T) @ a / np.sqrt(width)
    y = y + noise * rng.standard_normal(y.shape)
    return _split(x, y, n_train, f"sphere_teacher(d={d}, width={width}, {act.name}, "
                  f"noise={noise})", seed)


def hypercube_parity(n_train: int, n_test: int, d: int, k: int, *, seed: int) -> Dataset:
    """Uniform ``x ∈ {±1}^d``, scaled by ``1/√d`` onto the unit sphere; ``y = Π_{i<k} sign(x_i)``.

    The k-sparse parity: degree k in the inputs, hard for kernels of the NTK class
    when ``n`` is below about ``d^k``. Targets (n,) in {±1}.
    """
    n_train, n_test, d, k, seed = _sizes(n_train=n_train, n_test=n_test, d=d, k=k, seed=seed)
    if not 1 <= k <= d:
        raise InvalidArgument(f"k must satisfy 1 <= k <= d = {d}, got {k}")
    rng = generator(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_train + n_test, d))
    y = np.prod(signs[:, :k], axis=1)
    return _split(signs / np.sqrt(d), y, n_train, f"hypercube_parity(d={d}, k={k})", seed)


def single_neuron(n_train: int, n_test: int, d: int, *, seed: int) -> Dataset:
    """Gaussian inputs ``x ~ N(0, I_d)`` and targets ``relu(w*·x)``, ``||w*|| = 1``.

    The best predictor of degree <= 1 has relative MSE ``(π - 2)/(2(π - 1))``
    (research notes §5.1). ``w*`` is drawn uniformly on the sphere from the seed.
    """
    n_train, n_test, d, seed = _sizes(n_train=n_train, n_test=n_test, d=d, seed=seed)
    rng = generator(seed)
    w_star = unit_vectors(rng, 1, d)[0]
    x = rng.standard_normal((n_train + n_test, d))
    return _split(x, np.maximum(x @ w_star, 0.0), n_train, f"single_neuron(d={d})", seed)


def _load_digits() -> Any:
    try:
        from sklearn.datasets import load_digits  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise MissingDependency(
            "the digits data set needs scikit-learn, which is not installed; "
            "install the extra with: pip install 'ntkproof[data]'") from None
    return load_digits()


def digits(n_train: int = 1000, *, seed: int, classes: tuple[int, ...] | None = None,
           n_test: int | None = None) -> Dataset:
    """scikit-learn's 8×8 digits (1797 images, bundled: no download), as regression.

    Each image (64 pixel intensities) is divided by its Euclidean norm, so inputs
    lie on the unit sphere of R^64. The rows are shuffled by ``seed`` and split
    into ``n_train`` and ``n_test`` (default: all the rest).

    Labels: with ``classes=(a, b)`` (a binary subset) the target is ``+1`` for a and
    ``-1`` for b, shape (n,). Otherwise (all ten classes, or a larger subset of C
    classes) the target is the centred one-hot code ``e_label - 1/C``, shape (n, C),
    whose rows sum to 0; predict with the arg-max.
    """
    n_train, seed = _sizes(n_train=n_train, seed=seed)
    if n_test is not None:
        n_test = non_negative_int("n_test", n_test)
    try:
        chosen = tuple(range(10)) if classes is None else tuple(
            non_negative_int("classes entry", c) for c in classes)
    except (TypeError, InvalidArgument):
        chosen = ()
    if len(set(chosen)) != len(chosen) or len(chosen) < 2 or not set(chosen) <= set(range(10)):
        raise InvalidArgument(f"classes must be at least two distinct digits 0-9, got {classes!r}")
    raw = _load_digits()
    x, labels = np.asarray(raw.data, dtype=np.float64), np.asarray(raw.target)
    keep = np.isin(labels, chosen)
    x, labels = x[keep], labels[keep]
    n_test = max(len(x) - n_train, 0) if n_test is None else n_test
    if n_train + n_test > len(x):
        raise InvalidArgument(f"n_train + n_test = {n_train + n_test} exceeds the {len(x)} "
                              f"images of classes {chosen}; ask for fewer")
    order = generator(seed).permutation(len(x))[: n_train + n_test]
    x, labels = x[order], labels[order]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    if len(chosen) == 2:
        y = np.where(labels == chosen[0], 1.0, -1.0)
    else:
        y = (labels[:, None] == np.array(chosen)[None, :]) - 1.0 / len(chosen)
    return _split(x, y, n_train, f"digits(classes={chosen})", seed)
