r"""Pool-based active learning on digits with NTK look-ahead (MLMOC) acquisition.

A small, CPU-sized version of the experiments of Mohamadi, Bae & Sutherland
(NeurIPS 2022, §5): a labelled set L, an unlabelled pool U, a test set; each round
trains a network by full-batch gradient descent on L from the same initialisation
(:func:`ntkproof.nn.training.gradient_descent`), measures test accuracy, and queries
``query`` pool points chosen by

* ``"mlmoc"`` — the look-ahead score ``Σ_{x ∈ U} ||f_L(x) − f_{L+}(x)||₂`` with the
  most likely label (:mod:`ntkproof.theory.lookahead`), top scores;
* ``"mlmoc_sequential"`` — the same, one point at a time: the chosen point enters
  the look-ahead with its true label by bordering the kernel (no retraining) and
  the pool is rescored;
* ``"entropy"`` — maximum entropy of ``softmax(f_L(x))``;
* ``"random"`` — uniform without replacement.

The network: C one-vs-rest heads ``f_c(x) = m^{-1/2} Σ_j a_jc σ(w_jc·x)``
(:class:`~ntkproof.nn.networks.TwoLayer`, both layers trained, symmetric
initialisation so ``f_0 = 0``), all heads drawn from the same seed. Targets are
the centred one-hot codes of :func:`ntkproof.nn.data.digits`. The heads have disjoint
parameters, so the exact eNTK is block diagonal ``diag(Θ_1, …, Θ_C)``; the
look-ahead uses ``Θ̄ ⊗ I_C`` with ``Θ̄`` the mean of the heads' eNTKs at the trained
weights (the heads start identical and move by O(m^{-1/2}); the paper uses the
analogous "single-logit" eNTK).

Small matrices dominate, so the loop runs with one BLAS thread
(:func:`one_blas_thread`, through ``threadpoolctl``); on a shared 2-core machine two
threads were up to 15x slower for 60 × 256 products.

Every training records its final/initial loss (``ALCurve.train_loss_ratio``, the
worst head per round), so a claim about the trained networks can check that they
were trained.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import DivergenceError, InvalidArgument, ShapeError
from ..nn._validate import non_negative_int, positive_int, real_number
from ..nn.activations import get_activation
from ..nn.data import digits
from ..nn.empirical_ntk import empirical_ntk
from ..nn.networks import TwoLayer
from ..nn.training import DIVERGENCE_FACTOR, max_learning_rate
from ..rng import claim_seed, generator
from .lookahead import LookAhead, mlmoc_scores, most_likely_label, top_k

__all__ = ["ALConfig", "ALCurve", "Heads", "active_learning_curve", "one_blas_thread", "METHODS"]

METHODS = ("mlmoc", "mlmoc_sequential", "entropy", "random")


@dataclass(frozen=True)
class ALConfig:
    """Sizes of one active-learning experiment (defaults: a few seconds on one core).

    ``classes`` digits used (C of them); ``n_init`` initial labelled points drawn
    at random; ``n_pool`` unlabelled pool; ``n_test`` test points; ``rounds``
    query rounds of ``query`` points; ``width`` hidden units per head; ``steps``
    GD steps per training at ``lr_fraction × 2n/λ_max``; ``ridge`` on the kernel.
    """

    classes: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
    n_init: int = 20
    n_pool: int = 300
    n_test: int = 400
    rounds: int = 4
    query: int = 10
    width: int = 64
    steps: int = 200
    lr_fraction: float = 0.5
    activation: str = "relu"
    ridge: float = 1e-6

    def __post_init__(self) -> None:
        for name in ("n_init", "query", "width"):
            positive_int(f"ALConfig.{name}", getattr(self, name))
        for name in ("n_pool", "n_test", "rounds", "steps"):
            non_negative_int(f"ALConfig.{name}", getattr(self, name))
        real_number("ALConfig.lr_fraction", self.lr_fraction, positive=True)
        real_number("ALConfig.ridge", self.ridge, non_negative=True)
        get_activation(self.activation)
        if self.width % 2:
            raise InvalidArgument(f"ALConfig.width must be even (the heads use the doubled, "
                                  f"symmetric initialisation), got {self.width}; use "
                                  f"{self.width + 1}")
        if self.rounds * self.query > self.n_pool:
            raise InvalidArgument(
                f"ALConfig asks for rounds × query = {self.rounds} × {self.query} = "
                f"{self.rounds * self.query} queries from a pool of n_pool = {self.n_pool}; "
                "raise n_pool or lower rounds/query")


@dataclass
class ALCurve:
    """Test accuracy after each training: ``labelled[k]`` points, ``accuracy[k]``, and
    ``train_loss_ratio[k]``, the largest final/initial training loss over the heads."""

    method: str
    seed: int
    labelled: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    train_loss_ratio: list[float] = field(default_factory=list)

    @property
    def final_error(self) -> float:
        """Test error after the last round."""
        return 1.0 - self.accuracy[-1]

    @property
    def mean_error(self) -> float:
        """Test error averaged over the query rounds 1..R (the area above the learning
        curve; round 0, before any query, is the same for every method and left out)."""
        if len(self.accuracy) < 2:
            raise InvalidArgument("mean_error needs at least one query round (rounds >= 1)")
        return 1.0 - float(np.mean(self.accuracy[1:]))


class Heads:
    """C one-vs-rest :class:`TwoLayer` heads from one seed (module docstring)."""

    def __init__(self, d: int, width: int, n_outputs: int, *, activation: str, seed: int):
        positive_int("n_outputs", n_outputs, " (one head per output)")
        self.nets = [TwoLayer(d, width, activation, trained="both", a_init="normal",
                              symmetric=True, seed=seed) for _ in range(n_outputs)]
        self.params = [net.params0 for net in self.nets]
        self.loss_ratio = float("nan")

    def fit(self, X: np.ndarray, Y: np.ndarray, *, steps: int, lr_fraction: float) -> Heads:
        """GD from the initialisation on every head (``Y`` (n, C)); ``loss_ratio`` is
        then the largest final/initial training loss over the heads.

        The heads' GD runs (loss ``(1/n) Σ ½(f - y)²``, step ``θ ← θ - lr ∇L``, both
        layers, as :func:`~ntkproof.nn.training.gradient_descent` runs each network)
        are one computation over the heads' parameters side by side (``W`` of shape
        (C·m, d), ``a`` (C·m,), so ``X Wᵀ`` is one product): the per-step array
        operations of C small networks cost more than their arithmetic (1.5x faster
        for 4 heads of width 64). ``tests/theory/test_lookahead.py`` holds the result
        to the per-head library runs to 1e-12.
        """
        real_number("lr_fraction", lr_fraction, positive=True)
        non_negative_int("steps", steps)
        if np.ndim(Y) != 2 or np.shape(Y)[1] != len(self.nets):
            raise ShapeError(f"Y must have shape (n, {len(self.nets)}) (one column per head), "
                             f"got {np.shape(Y)}")
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        net, C = self.nets[0], len(self.nets)
        lr = lr_fraction * max_learning_rate(net, X)             # heads start identical
        m, d = net.m, net.d
        # the heads side by side: W (C·m, d), a (C·m,); Z = X Wᵀ is one (n, C·m) product
        W = np.concatenate([np.asarray(p["W"], dtype=float) for p in self.params])
        a = np.concatenate([np.asarray(p["a"], dtype=float) for p in self.params])
        b, act, n = net.backend, net.activation, X.shape[0]
        scale = 1.0 / np.sqrt(m)
        first = last = np.zeros(C)
        for k in range(int(steps) + 1):
            Z = X @ W.T                                           # (n, C·m)
            H = act.f(b, Z)
            R = (H * a).reshape(n, C, m).sum(axis=2) * scale - Y  # (n, C)
            last = 0.5 * np.mean(R * R, axis=0)
            first = last if k == 0 else first
            if not np.all(np.isfinite(last)) or np.any(last > DIVERGENCE_FACTOR * (
                    first + 0.5 * np.mean(Y**2, axis=0))):
                raise DivergenceError(
                    f"GD on the {C} heads diverged at step {k} (losses {last.tolist()}, "
                    f"initially {first.tolist()}) with lr = {lr:.3g} = {lr_fraction:g} × "
                    "the stability limit 2n/λ_max(K); lower lr_fraction")
            if k == steps:
                break
            Rm = np.repeat(R * (scale / n), m, axis=1)            # (n, C·m): head of column
            grad_a = np.sum(H * Rm, axis=0)
            grad_W = (act.df(b, Z) * Rm * a).T @ X
            W, a = W - lr * grad_W, a - lr * grad_a
        W, a = W.reshape(C, m, d), a.reshape(C, m)
        self.params = [{"W": W[c], "a": a[c]} for c in range(len(self.nets))]
        self.loss_ratio = float(np.max(last / np.maximum(first, 1e-300)))
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.stack([net.apply(p, X) for net, p in zip(self.nets, self.params, strict=True)], axis=1)

    def ntk(self, X1: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        """The mean of the heads' eNTKs at the trained weights."""
        ks = [empirical_ntk(net, X1, X2, params=p) for net, p in zip(self.nets, self.params, strict=True)]
        return sum(ks) / len(ks)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread (``threadpoolctl``; a no-op without it).

    Loops of small products (a few hundred × a few hundred) run fastest on one thread:
    on a shared two-core machine the default two threads were up to 15x slower.
    """
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional dependency
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _entropy(F: np.ndarray) -> np.ndarray:
    z = F - F.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -(p * np.log(np.clip(p, 1e-300, None))).sum(axis=1)


def _mlmoc(heads: Heads, X: np.ndarray, Y: np.ndarray, lab: list[int], pool: list[int],
           query: int, ridge: float, sequential: bool) -> list[int]:
    """Query indices (into X) by MLMOC; the evaluation set U is the current pool."""
    XL, XP = X[lab], X[pool]
    K_pp, K_pl = heads.ntk(XP), heads.ntk(XP, XL)
    FP = heads.predict(XP)
    la = LookAhead(heads.ntk(XL), heads.predict(XL), Y[lab], ridge=ridge)
    if not sequential:
        bo = la.border(K_pl, np.diag(K_pp).copy(), FP, most_likely_label(FP))
        return [pool[i] for i in top_k(mlmoc_scores(la, bo, K_pl, K_pp), query)]
    chosen: list[int] = []
    K_pl_plus = K_pl
    for _ in range(query):
        bo = la.border(K_pl_plus, np.diag(K_pp).copy(), FP, most_likely_label(FP))
        i = int(top_k(mlmoc_scores(la, bo, K_pl_plus, K_pp), 1, exclude=chosen)[0])
        chosen.append(i)
        la = la.add(K_pl_plus[i], K_pp[i, i], FP[i], Y[pool[i]])     # true label, no retraining
        K_pl_plus = np.concatenate([K_pl_plus, K_pp[:, i:i + 1]], axis=1)
    return [pool[i] for i in chosen]


def _acquire(method: str, heads: Heads, X: np.ndarray, Y: np.ndarray, lab: list[int],
             pool: list[int], cfg: ALConfig, rng: np.random.Generator) -> list[int]:
    if method == "random":
        return [pool[i] for i in rng.choice(len(pool), size=cfg.query, replace=False)]
    if method == "entropy":
        return [pool[i] for i in top_k(_entropy(heads.predict(X[pool])), cfg.query)]
    return _mlmoc(heads, X, Y, lab, pool, cfg.query, cfg.ridge, method == "mlmoc_sequential")


def active_learning_curve(method: str, *, seed: int, config: ALConfig | None = None
                          ) -> ALCurve:
    """Accuracy per round of pool-based active learning on digits (module docstring).

    ``seed`` fixes the data split, the initial labelled set and the network
    initialisation (shared by all methods); the random method draws its queries
    from a stream of its own.

    >>> c = active_learning_curve("random", seed=0, config=ALConfig(classes=(0, 1),
    ...     n_init=4, n_pool=20, n_test=20, rounds=1, query=2, width=16, steps=20))
    >>> c.labelled
    [4, 6]
    """
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidArgument(f"method must be one of {METHODS}, got {method!r}")
    non_negative_int("seed", seed)
    if config is not None and not isinstance(config, ALConfig):
        raise InvalidArgument(f"config must be an ALConfig, got {type(config).__name__}")
    cfg = config or ALConfig()
    n_all = cfg.n_init + cfg.n_pool
    ds = digits(n_all, seed=seed, classes=cfg.classes, n_test=cfg.n_test)
    X, Y = ds.x_train, ds.y_train.reshape(n_all, -1)
    Xt, labels_t = ds.x_test, np.argmax(ds.y_test.reshape(len(ds.x_test), -1), axis=1)
    if Y.shape[1] == 1:                                  # two classes: ±1, one output
        labels_t = (ds.y_test < 0).astype(int)
    lab, pool = list(range(cfg.n_init)), list(range(cfg.n_init, n_all))
    rng = generator(claim_seed(seed, f"active_learning/{method}"))
    curve = ALCurve(method, int(seed))
    with one_blas_thread():
        for r in range(cfg.rounds + 1):
            heads = Heads(X.shape[1], cfg.width, Y.shape[1], activation=cfg.activation,
                          seed=seed).fit(X[lab], Y[lab], steps=cfg.steps,
                                         lr_fraction=cfg.lr_fraction)
            F = heads.predict(Xt)
            pred = (F[:, 0] < 0).astype(int) if Y.shape[1] == 1 else np.argmax(F, axis=1)
            curve.labelled.append(len(lab))
            curve.accuracy.append(float(np.mean(pred == labels_t)))
            curve.train_loss_ratio.append(heads.loss_ratio)
            if r == cfg.rounds:
                break
            new = _acquire(method, heads, X, Y, lab, pool, cfg, rng)
            lab = lab + new
            pool = [i for i in pool if i not in set(new)]
    return curve
