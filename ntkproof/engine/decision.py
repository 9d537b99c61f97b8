"""Decision rules: from observations to a verdict, by explicit statistics.

Pure functions over numbers, one per claim kind (DESIGN.md, "Decision rules"):

* :func:`decide_identity` — ``|lhs - rhs| <= tol * scale`` for every case;
* :func:`decide_bound` — ``lhs - rhs <= tol * scale`` for every case;
* :func:`decide_probabilistic` — one-sided exact binomial test of
  ``p <= delta`` at level ``alpha`` with the Clopper–Pearson upper bound on p;
* :func:`fit_rate` / :func:`decide_rate` — least-squares slope of log median
  error against log width, with a bootstrap confidence interval over seeds;
* :func:`decide_separation` — a t confidence interval on the gap between two
  methods' errors across seeds.

Levels are chosen so that a true claim comes out FALSIFIED in fewer than 1 run
in 1000 (``tests/test_decision.py`` checks the error rates exactly and by
simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ..errors import InvalidArgument, NonFiniteError
from ..rng import generator

__all__ = [
    "Observation", "Decision", "RateFit", "decide_identity", "decide_bound",
    "decide_probabilistic", "clopper_pearson_upper", "binomial_critical",
    "fit_rate", "decide_rate", "decide_separation", "tightness_summary", "local_slopes",
    "finite_size_drift", "rejection_edges", "decide_precondition",
    "ALPHA", "RATE_LEVEL", "SEPARATION_LEVEL",
]

#: Level of the binomial test for probabilistic bounds.
ALPHA = 1e-3
#: Two-sided bootstrap level for rates: each tail holds 1e-3.
RATE_LEVEL = 0.998
#: One-sided level of the separation interval.
SEPARATION_LEVEL = 0.999


@dataclass
class Observation:
    """What one case gave: the two sides, their ratio, and the case itself."""

    params: dict[str, Any]
    lhs: float
    rhs: float
    scale: float = 1.0
    seed: int | None = None
    note: str = ""
    #: lhs - rhs computed in the backend's own precision (mpmath keeps digits
    #: that the float lhs and rhs lose); None means lhs - rhs of the floats.
    gap: float | None = None

    @property
    def diff(self) -> float:
        return self.lhs - self.rhs if self.gap is None else self.gap

    @property
    def ratio(self) -> float:
        if self.rhs == 0:
            return 0.0 if self.lhs == 0 else float("inf") * np.sign(self.lhs)
        return self.lhs / self.rhs

    def to_dict(self) -> dict[str, Any]:
        return {"params": _jsonable(self.params), "lhs": self.lhs, "rhs": self.rhs,
                "ratio": _finite_or_str(self.ratio), "seed": self.seed,
                **({"note": self.note} if self.note else {})}


@dataclass
class Decision:
    """The verdict of one check, with what the report shows about it."""

    kind: str
    verdict: str
    cases: int
    message: str = ""
    tightness: dict[str, Any] = field(default_factory=dict)
    worst_case: dict[str, Any] | None = None
    rate: dict[str, Any] | None = None
    violations: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    #: a sweep's points as measured (:class:`Measured`, in point order; a separation's
    #: A points, then its B points): what the measure returned besides each value,
    #: for the body (a precondition on the same runs). Not part of the record.
    points: list[Any] = field(default_factory=list, repr=False, compare=False)


def _finite_or_str(x: float) -> float | str:
    return float(x) if np.isfinite(x) else str(x)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.size > 16:
            return {"shape": list(value.shape), "norm": float(np.linalg.norm(value))}
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (np.floating, float)):
        return _finite_or_str(float(value))
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (int, str, bool)) or value is None:
        return value
    return str(value)


def check_finite(observations: Sequence[Observation]) -> None:
    for i, ob in enumerate(observations):
        if not (np.isfinite(ob.lhs) and np.isfinite(ob.rhs)):
            raise NonFiniteError(
                f"observation {i} is not finite: lhs={ob.lhs!r}, rhs={ob.rhs!r} at "
                f"params={_jsonable(ob.params)}; the computation overflowed or divided by zero")


def tightness_summary(ratios: Sequence[float] | np.ndarray, known_sup: float | None = None) -> dict[str, Any]:
    """max, median and p90 of the ratios (and the known supremum when given)."""
    r = np.asarray([x for x in ratios if np.isfinite(x)], dtype=float)
    out: dict[str, Any] = {}
    if r.size:
        out = {"max": float(r.max()), "median": float(np.median(r)),
               "p90": float(np.quantile(r, 0.9))}
    if known_sup is not None:
        out["known_sup"] = float(known_sup)
    return out


def decide_identity(observations: Sequence[Observation], rtol: float) -> Decision:
    """Every case must satisfy ``|lhs - rhs| <= rtol * scale``; tightness is the
    relative error ``|lhs - rhs| / scale``."""
    if not observations:
        return Decision("identity", "INCONCLUSIVE", 0, "no cases were observed")
    check_finite(observations)
    errs = np.array([abs(o.diff) / max(o.scale, np.finfo(float).tiny)
                     for o in observations])
    worst = int(np.argmax(errs))
    verdict = "HOLDS" if errs[worst] <= rtol else "FALSIFIED"
    msg = (f"largest relative error {errs[worst]:.3g} "
           f"{'<=' if verdict == 'HOLDS' else '>'} tolerance {rtol:.3g}")
    return Decision("identity", verdict, len(observations), msg,
                    tightness={"max": float(errs.max()), "median": float(np.median(errs)),
                               "p90": float(np.quantile(errs, 0.9))},
                    worst_case=_worst(observations[worst], ratio=float(errs[worst])))


def _worst(ob: Observation, ratio: float | None = None) -> dict[str, Any]:
    d = ob.to_dict()
    if ratio is not None:
        d["ratio"] = ratio
    return d


def bound_excess(ob: Observation) -> float:
    """How far a case exceeds its bound, in units of its scale."""
    return ob.diff / max(ob.scale, np.finfo(float).tiny)


def decide_bound(observations: Sequence[Observation], rtol: float,
                 known_sup: float | None = None) -> Decision:
    """Every case must satisfy ``lhs - rhs <= rtol * scale``.

    Tightness is ``lhs / rhs``; the worst case is the one of largest ratio
    (or, when some case violates the bound, the largest violation).
    """
    if not observations:
        return Decision("bound", "INCONCLUSIVE", 0, "no cases were observed")
    check_finite(observations)
    excess = np.array([bound_excess(o) for o in observations])
    ratios = np.array([o.ratio for o in observations], dtype=float)
    violated = excess > rtol
    if violated.any():
        worst = int(np.argmax(np.where(violated, ratios, -np.inf)))
        verdict = "FALSIFIED"
        msg = (f"{int(violated.sum())} of {len(observations)} cases violate the bound; "
               f"largest ratio lhs/rhs = {ratios[worst]:.6g}")
    else:
        worst = int(np.nanargmax(ratios))
        verdict = "HOLDS"
        msg = f"no violation in {len(observations)} cases; largest ratio {ratios[worst]:.6g}"
        if known_sup is not None:
            msg += f" ({100 * ratios[worst] / known_sup:.2f}% of the known supremum {known_sup:g})"
    return Decision("bound", verdict, len(observations), msg,
                    tightness=tightness_summary(ratios, known_sup),
                    worst_case=_worst(observations[worst]),
                    data={"ratios": _sample(ratios)})


def _sample(values: np.ndarray, limit: int = 400) -> list[float]:
    """At most ``limit`` values (evenly strided) for plots."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size > limit:
        v = np.sort(v)[np.linspace(0, v.size - 1, limit).astype(int)]
    return [float(x) for x in v]


# -- probabilistic bounds ----------------------------------------------------

def clopper_pearson_upper(k: int, n: int, confidence: float = 1 - ALPHA) -> float:
    """One-sided Clopper–Pearson upper confidence bound on p after k of n."""
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(confidence, k + 1, n - k))


def binomial_critical(n: int, delta: float, alpha: float = ALPHA) -> int:
    """Smallest k with P(Bin(n, delta) >= k) <= alpha: at or above it, reject p <= delta."""
    return int(stats.binom.isf(alpha, n, delta)) + 1


def decide_probabilistic(observations: Sequence[Observation], delta: float, rtol: float,
                         alpha: float = ALPHA) -> Decision:
    """N independent draws, k violations; FALSIFIED when the exact one-sided
    binomial test rejects ``p <= delta`` at level ``alpha``."""
    if not 0 < delta < 1:
        raise InvalidArgument(f"delta must lie in (0, 1), got {delta!r}")
    n = len(observations)
    if n == 0:
        return Decision("probabilistic_bound", "INCONCLUSIVE", 0, "no draws were observed")
    check_finite(observations)
    excess = np.array([bound_excess(o) for o in observations])
    ratios = np.array([o.ratio for o in observations], dtype=float)
    k = int((excess > rtol).sum())
    p_value = float(stats.binom.sf(k - 1, n, delta)) if k > 0 else 1.0
    upper = clopper_pearson_upper(k, n, 1 - alpha)
    verdict = "FALSIFIED" if p_value <= alpha else "HOLDS"
    msg = (f"{k} violations in {n} draws (allowed rate delta={delta:g}); one-sided binomial "
           f"p-value {p_value:.3g} {'<=' if verdict == 'FALSIFIED' else '>'} alpha={alpha:g}; "
           f"Clopper-Pearson upper bound on the violation rate {upper:.3g}")
    worst = int(np.nanargmax(ratios))
    return Decision("probabilistic_bound", verdict, n, msg,
                    tightness=tightness_summary(ratios),
                    worst_case=_worst(observations[worst]),
                    violations={"count": k, "n": n, "delta": delta, "upper_bound": upper,
                                "p_value": p_value, "alpha": alpha},
                    data={"ratios": _sample(ratios)})


# -- rates ------------------------------------------------------------------

@dataclass
class RateFit:
    """Least-squares slope of log(median error) on log(x) with a bootstrap CI."""

    slope: float
    intercept: float
    ci: tuple[float, float]
    xs: list[float]
    medians: list[float]
    errors: list[list[float]]


def _slope(logx: np.ndarray, logy: np.ndarray) -> np.ndarray:
    """Slopes of the least-squares lines through each row of ``logy`` (…, k)."""
    xc = logx - logx.mean()
    return ((logy - logy.mean(axis=-1, keepdims=True)) * xc).sum(axis=-1) / (xc @ xc)


def fit_rate(xs: Sequence[float], errors: Sequence[Sequence[float]], *, seed: int,
             n_boot: int = 4000, level: float = RATE_LEVEL) -> RateFit:
    """Fit error ~ C·x^slope over a ladder ``xs`` with several seeds each.

    The slope is fitted on log medians; the percentile bootstrap resamples the
    seeds within each x (independently per x) and refits, ``n_boot`` times.
    """
    xs_a = np.asarray(xs, dtype=float)
    if xs_a.ndim != 1 or len(xs_a) != len(errors):
        raise InvalidArgument(f"rate: {len(xs_a)} x values but {len(errors)} error lists")
    if len(xs_a) < 4 or xs_a.max() / xs_a.min() < 16 - 1e-9:
        raise InvalidArgument(
            f"rate: need at least 4 values spanning at least 16x, got {list(xs_a)}")
    errs = [np.asarray(e, dtype=float) for e in errors]
    for x, e in zip(xs_a, errs, strict=True):
        if e.size == 0 or not np.all(np.isfinite(e)) or np.any(e <= 0):
            raise NonFiniteError(
                f"rate: errors at x={x:g} must be finite and positive, got {e.tolist()}")
    logx = np.log(xs_a)
    med = np.array([np.median(e) for e in errs])
    slope = float(_slope(logx, np.log(med)))
    intercept = float(np.log(med).mean() - slope * logx.mean())
    rng = generator(seed)
    boot_meds = np.stack([
        np.median(e[rng.integers(0, e.size, size=(n_boot, e.size))], axis=1) for e in errs
    ], axis=1)
    boots = _slope(logx, np.log(boot_meds))
    lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return RateFit(slope, intercept, (float(lo), float(hi)), xs_a.tolist(), med.tolist(),
                   [e.tolist() for e in errs])


#: An upper-rate HOLDS also needs the interval narrower than this (in exponent units).
MAX_CI_WIDTH = 1.0


def local_slopes(fit: RateFit) -> list[float]:
    """Slopes between consecutive rungs of the ladder (log median error on log x)."""
    lx, ly = np.log(fit.xs), np.log(fit.medians)
    return (np.diff(ly) / np.diff(lx)).tolist()


def finite_size_drift(fit: RateFit) -> float:
    """How much the fitted slope depends on where the ladder sits: the slope of the
    upper half of the ladder minus that of the lower half (each half at least 3
    rungs when the ladder has them). Its size is the finite-size bias a slack must
    cover; it is reported with every rate."""
    n = len(fit.xs)
    k = max(2, (n + 1) // 2)
    lx, ly = np.log(fit.xs), np.log(fit.medians)
    low = float(_slope(lx[:k], ly[:k]))
    high = float(_slope(lx[n - k:], ly[n - k:]))
    return high - low


def rejection_edges(fit: RateFit, slack: float, attained: bool) -> tuple[float, float | None]:
    """The claimed exponents this fit would declare FALSIFIED: every exponent below
    the first value (an upper rate claiming faster decay than the data show), and,
    for an attained rate, every exponent above the second."""
    lo, hi = fit.ci
    return lo - slack, (hi + slack if attained else None)


def decide_rate(fit: RateFit, claimed: float, slack: float, *, attained: bool = False,
                variable: str = "m", max_ci_width: float = MAX_CI_WIDTH,
                slack_reason: str = "") -> Decision:
    """Upper rate (error = O(x^claimed)) or attained rate (Θ(x^claimed)), decided on
    the bootstrap interval, never on the point estimate alone.

    ``claimed`` is the exponent as a signed number (``-0.5`` for m^{-1/2}).
    Upper: HOLDS if the whole interval lies at or below claimed + slack (and is
    narrower than ``max_ci_width``), FALSIFIED if it lies wholly above, else
    INCONCLUSIVE. Attained: HOLDS if the interval lies within claimed ± slack,
    FALSIFIED if it misses that band. The decision carries the rejection edges
    (:func:`rejection_edges`), the local slopes and the finite-size drift, so the
    report can say what the ladder could have caught.
    """
    lo, hi = fit.ci
    if attained:
        band = (claimed - slack, claimed + slack)
        if band[0] <= lo and hi <= band[1]:
            verdict = "HOLDS"
        elif hi < band[0] or lo > band[1]:
            verdict = "FALSIFIED"
        else:
            verdict = "INCONCLUSIVE"
        rule = f"interval within [{band[0]:.3g}, {band[1]:.3g}]"
    else:
        edge = claimed + slack
        verdict = "HOLDS" if hi <= edge else ("FALSIFIED" if lo > edge else "INCONCLUSIVE")
        rule = f"interval at or below {edge:.3g}"
        if verdict == "HOLDS" and hi - lo > max_ci_width:
            verdict = "INCONCLUSIVE"
            rule += f", interval narrower than {max_ci_width:g} (it is {hi - lo:.3g} wide)"
    low_edge, high_edge = rejection_edges(fit, slack, attained)
    drift = finite_size_drift(fit)
    msg = (f"fitted exponent of {variable}: {fit.slope:.3f} (CI [{lo:.3f}, {hi:.3f}]); "
           f"claimed {claimed:.3g} ({'attained' if attained else 'upper'} rate, slack {slack:g}"
           + (f": {slack_reason}" if slack_reason else "") + f"; rule: {rule}); "
           f"finite-size drift (upper minus lower half of the ladder) {drift:+.3f}; "
           f"this ladder rejects claimed exponents below {low_edge:.3f}"
           + (f" and above {high_edge:.3f}" if high_edge is not None else ""))
    worst_i = int(np.argmax(np.asarray(fit.medians) * np.asarray(fit.xs) ** (-claimed)))
    return Decision(
        "rate", verdict, sum(len(e) for e in fit.errors), msg,
        tightness={"max": fit.slope, "median": fit.slope, "p90": fit.slope},
        worst_case={"params": {variable: fit.xs[worst_i]}, "lhs": fit.medians[worst_i],
                    "rhs": float(np.exp(fit.intercept) * fit.xs[worst_i] ** claimed),
                    "ratio": fit.slope, "seed": None},
        rate={"claimed": claimed, "fitted": fit.slope, "ci": [lo, hi], "widths": fit.xs,
              "variable": variable, "slack": slack, "attained": attained,
              "slack_reason": slack_reason, "rejects_below": low_edge,
              "rejects_above": high_edge, "drift": drift,
              "local_slopes": local_slopes(fit)},
        data={"xs": fit.xs, "medians": fit.medians, "errors": fit.errors,
              "intercept": fit.intercept})


# -- separations -------------------------------------------------------------

def decide_separation(err_a: Sequence[float], err_b: Sequence[float], *, margin: float = 0.0,
                      level: float = SEPARATION_LEVEL, labels: tuple[str, str] = ("A", "B"),
                      paired: bool = True) -> Decision:
    """Method A beats method B (lower error) by more than ``margin``.

    The gap ``B - A`` gets a one-sided t interval at ``level`` across seeds
    (paired when the seeds match). HOLDS when its lower end exceeds ``margin``,
    FALSIFIED when its upper end lies below ``margin``, else INCONCLUSIVE.
    """
    a, b = np.asarray(err_a, dtype=float), np.asarray(err_b, dtype=float)
    if a.size < 2 or b.size < 2:
        return Decision("separation", "INCONCLUSIVE", int(a.size + b.size),
                        "a separation needs at least 2 seeds per method")
    if paired and a.size == b.size:
        gap = b - a
        mean, se, df = gap.mean(), gap.std(ddof=1) / np.sqrt(gap.size), gap.size - 1
        if se == 0 and gap.size < 5:
            return Decision("separation", "INCONCLUSIVE", int(a.size + b.size),
                            f"the gap is the same on all {gap.size} seeds: too few to estimate "
                            "its noise (a zero-width interval would overstate); use at least 5")
    else:
        mean = b.mean() - a.mean()
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / max(va**2 / (a.size - 1) + vb**2 / (b.size - 1), 1e-300)
    t = stats.t.ppf(level, df) if se > 0 else 0.0
    lo, hi = mean - t * se, mean + t * se
    verdict = "HOLDS" if lo > margin else ("FALSIFIED" if hi < margin else "INCONCLUSIVE")
    la, lb = labels
    msg = (f"{la}: {a.mean():.4g} ± {a.std(ddof=1):.2g}, {lb}: {b.mean():.4g} ± "
           f"{b.std(ddof=1):.2g} over {a.size}/{b.size} seeds; gap {lb}-{la} = {mean:.4g}, "
           f"{100 * level:g}% one-sided bounds [{lo:.4g}, {hi:.4g}] vs margin {margin:g}")
    return Decision("separation", verdict, int(a.size + b.size), msg,
                    tightness={"max": float(mean), "median": float(np.median(b - a) if
                               a.size == b.size else mean), "p90": float(mean)},
                    worst_case={"params": {"margin": margin}, "lhs": float(a.mean()),
                                "rhs": float(b.mean()), "ratio": float(mean), "seed": None},
                    data={"labels": list(labels), "a": a.tolist(), "b": b.tolist(),
                          "gap_ci": [float(lo), float(hi)]})


# -- preconditions -------------------------------------------------------------

def decide_precondition(name: str, measured: float, *, at_most: float | None = None,
                        at_least: float | None = None, what: str = "") -> Decision:
    """A precondition of the claim's statement (trained, converged, enough points):
    met, or INCONCLUSIVE with the measured value. Never FALSIFIED: an experiment whose
    premise failed says nothing about the theorem."""
    if at_most is None and at_least is None:
        raise InvalidArgument(f"precondition {name!r}: give at_most=... or at_least=...")
    value = float(measured)
    ok = np.isfinite(value) and (at_most is None or value <= at_most) and \
        (at_least is None or value >= at_least)
    want = " and ".join(p for p in (f"<= {at_most:g}" if at_most is not None else "",
                                    f">= {at_least:g}" if at_least is not None else "") if p)
    text = f"precondition '{name}'{f' ({what})' if what else ''}: measured {value:.6g}, " \
        f"required {want}"
    return Decision("precondition", "HOLDS" if ok else "INCONCLUSIVE", 1,
                    text + ("" if ok else " — not met, so the claim is not decided"),
                    data={"precondition": {"name": name, "measured": value, "at_most": at_most,
                                           "at_least": at_least, "met": bool(ok),
                                           "what": what}})
