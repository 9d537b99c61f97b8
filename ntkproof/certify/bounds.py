r"""Branch and bound over a box with arb balls: ``lhs <= rhs`` at every point, or a
concrete counterexample, or the volume left undecided.

Algorithm
---------
The box (minus the neighbourhoods that local arguments decide, below) is a list of
sub-boxes. A sub-box becomes one ``flint.arb`` ball per variable (the union of the
balls of its two float end points, so it contains the closed interval); ``evaluate``
returns enclosures of both sides. The sub-box is *decided* when ``lhs.upper() <=
rhs.lower()`` (``<`` when ``strict``). Otherwise, when the centre of the enclosure of
lhs - rhs is above 0 (and always for the first sub-boxes), its midpoint (float
coordinates, balls of radius 0: a concrete point of the box) is evaluated; if there
``lhs.lower() > rhs.upper()`` (``>=`` when strict) the inequality fails at that point,
which is re-checked at twice the precision and returned. Then the widest variable is
bisected. Two queues take turns choosing the next sub-box: the largest first (an
interrupted search leaves little volume undecided) and the one whose parent came
closest to a violation first (a false statement is found early). The search stops
when every sub-box is decided (CERTIFIED), at a confirmed counterexample
(FALSIFIED), or when ``max_boxes`` or ``time_limit`` runs out (INCONCLUSIVE, with the
undecided fraction of the box volume).

Attained bounds: :class:`LocalMax`
----------------------------------
Where lhs = rhs exactly at a point z* (an attained supremum), no enclosure of a box
around z* can decide it. A :class:`LocalMax` removes the neighbourhood N = (z* ± radius)
∩ box from the search and decides it by Taylor's theorem with the Lagrange remainder:
for f = lhs - rhs, with f(z*) = 0 and ∇f(z*) = 0, f(x) = ½ (x - z*)ᵀ H(ξ) (x - z*) for
some ξ on the segment [z*, x] ⊂ N, so f <= 0 on N when every Hessian H(ξ), ξ ∈ N, is
negative semidefinite. What is checked, and by whom:

* f(z*) = 0 and ∇f(z*) = 0 are the caller's (a symbolic proof, named in ``proof``);
  ``check()``, when given, runs the caller's symbolic check here and must return True;
  and the enclosure of f at z* must contain 0 (arb, here: a wrong centre or a wrong
  constant is caught whenever the enclosure separates f(z*) from 0);
* z* ∈ N: the ball of z* lies inside N (arb, here);
* the Hessian: ``hessian(**balls)`` bounds it from above on all of N: every H(ξ),
  ξ ∈ N, is ≼ (Loewner order) some symmetric matrix of the returned enclosure (an
  enclosure of H itself is such a bound; so is u·M when H(ξ) = ∫ w σ(ξ, t) v vᵀ dt
  with w >= 0, σ <= u and M = ∫ w v vᵀ). In one variable its upper end must be <= 0,
  in several every pivot of an arb LDLᵀ elimination of its negative must be > 0,
  which makes every symmetric matrix in the enclosure negative definite (arb, here).
  That ``hessian`` bounds the second derivative of lhs - rhs is the caller's.

An argument that fails a check is not used: its neighbourhood stays in the branch and
bound (where a true but attained bound stays undecided, and a false one is
falsified), and the result says why. A strict inequality cannot be certified with a
LocalMax (lhs = rhs at z*).

Unbounded domains: :class:`Tail`
--------------------------------
``box`` is compact; a :class:`Tail` covers ``variable >= start`` (side +1) or ``<=
start`` (side -1), ``start`` being the box's end. Either the tail is compactified: a
new variable w on the compact ``box`` of the tail with ``to_original(w)`` the original
variable, and ``evaluate`` the two sides written in w (e.g. σ''(z) = u(u-1)/(1+u)³ at u
= e^{-z} ∈ (0, e^{-L}], extended by continuity to u = 0); then the same branch and
bound decides it here, and here is checked (arb) that ``to_original`` at one end of
w's range lies at or beyond ``start``, so that the image reaches the box; that the
identity between the two forms holds and that ``to_original`` is monotone with limit
±∞ at the other end are the caller's (``proof``, ``check``). Or the tail is the
caller's argument alone (e.g. a monotone bound proved by sympy): then ``check()`` must
be given, runs here and must return True, and the certificate says the tail is the
caller's.

``max_ratio`` is the largest rigorous lower bound of lhs/rhs (where rhs > 0) at the
points the search evaluated exactly: the midpoints it evaluated (above) and the
centres of the local arguments. It is a lower bound on the
supremum of lhs/rhs over the box: the tightness never overstates.

Precision: ``flint.ctx.prec`` is set to ``prec`` bits inside the call and restored.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import flint
import sympy as sp

from ..errors import InvalidArgument
from .symbolic import arb_value

__all__ = ["CertResult", "LocalMax", "Tail", "certify", "NotABall", "negative_definite"]

Box = tuple[tuple[float, float], ...]


class NotABall(InvalidArgument, TypeError):
    """``evaluate`` (or a hessian, a centre) returned something that is not a
    ``flint.arb`` ball."""


@dataclass
class CertResult:
    """The outcome of :func:`certify`.

    ``verdict``: ``CERTIFIED`` (every point of the box satisfies the inequality, with
    the local and tail arguments listed in ``arguments``), ``FALSIFIED`` (a concrete
    point, re-checked at high precision, in ``counterexample``) or ``INCONCLUSIVE``
    (the budget ran out with ``undecided_volume`` of the box, as a fraction, left).
    ``boxes`` counts the sub-boxes enclosed (box and compactified tails); ``prec`` is
    the working precision in bits; ``max_ratio`` see the module docstring;
    ``arguments`` one short phrase per local and tail argument used (or rejected),
    ``message`` the whole story, including what each argument rests on.
    """

    verdict: str
    box: dict[str, tuple[float, float]]
    boxes: int = 0
    undecided_volume: float = 0.0
    counterexample: dict[str, Any] | None = None
    max_ratio: float | None = None
    seconds: float = 0.0
    prec: int = 0
    arguments: list[str] = field(default_factory=list)
    message: str = ""


@dataclass(frozen=True)
class LocalMax:
    """A neighbourhood of a point z* where ``lhs`` attains ``rhs`` (a supremum that is
    attained), decided by a second-order argument instead of enclosures (see the
    module docstring).

    ``center``: variable -> z* (an int, float or Fraction, taken exactly; a sympy constant,
    enclosed rigorously; an arb ball; or a callable returning one). ``radius``: the
    neighbourhood is z* ± radius in every variable, intersected with the box.
    ``hessian(**balls)``: a bound above, in the Loewner order, of the second
    derivative of lhs - rhs on the neighbourhood (one variable: an arb; several: a
    square nested sequence of arb; an enclosure of the Hessian is one).
    ``proof``: what the caller proved about z* (f(z*) = 0, ∇f(z*) = 0) and how.
    ``check()``: the caller's symbolic check of that proof, run here (optional).
    """

    center: Mapping[str, Any]
    radius: float
    description: str = ""
    hessian: Callable[..., Any] | None = None
    proof: str = ""
    check: Callable[[], bool] | None = None


@dataclass(frozen=True)
class Tail:
    """An unbounded end of a variable's range, decided by a separately checked
    argument (see the module docstring): compactified (``evaluate`` on ``box`` in a
    new variable, with ``to_original``) or the caller's own (``check``).

    ``side`` +1: ``variable >= start``; -1: ``variable <= start``.
    """

    variable: str
    start: float
    side: int
    description: str = ""
    evaluate: Callable[..., tuple[Any, Any]] | None = None
    box: Mapping[str, tuple[float, float]] | None = None
    to_original: Callable[..., Any] | None = None
    proof: str = ""
    check: Callable[[], bool] | None = None


# -- balls and boxes -------------------------------------------------------------

def _ball(lo: float, hi: float) -> Any:
    """A ball containing the closed interval [lo, hi] (exact end points)."""
    if lo == hi:
        return flint.arb(lo)
    return flint.arb(lo).union(flint.arb(hi))


def _balls(names: Sequence[str], box: Box) -> dict[str, Any]:
    return {n: _ball(lo, hi) for n, (lo, hi) in zip(names, box, strict=True)}


def _volume(box: Box) -> float:
    return math.prod(hi - lo for lo, hi in box if hi > lo)


def _width(box: Box) -> float:
    return max(hi - lo for lo, hi in box)


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _interval(x: Any) -> str:
    """An arb ball as [lower, upper] (4 digits)."""
    if not x.is_finite():
        return str(x)
    return f"[{float(x.lower()):.4g}, {float(x.upper()):.4g}]"


def _box_text(names: Sequence[str], box: Box) -> str:
    return ", ".join(f"{n} ∈ [{_fmt(lo)}, {_fmt(hi)}]" for n, (lo, hi) in
                     zip(names, box, strict=True))


def _check_box(box: Mapping[str, tuple[float, float]], what: str = "box"
               ) -> tuple[list[str], Box]:
    if not isinstance(box, Mapping) or not box:
        raise InvalidArgument(f"certify: the {what} must map each variable to (lo, hi), got "
                              f"{box!r}; e.g. {{'z': (-10.0, 10.0)}}")
    names, ends = [], []
    for name, pair in box.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidArgument(f"certify: variable name {name!r} of the {what} must be an "
                                  "identifier (it is passed to evaluate as a keyword)")
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InvalidArgument(f"certify: {what}[{name!r}] = {pair!r} must be a pair of "
                                  "numbers (lo, hi)") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise InvalidArgument(f"certify: {what}[{name!r}] = ({lo}, {hi}) is unbounded; give "
                                  "a compact box and cover the rest with a Tail")
        if lo > hi:
            raise InvalidArgument(f"certify: {what}[{name!r}] = ({lo}, {hi}) is empty (lo > hi);"
                                  f" did you mean ({hi}, {lo})?")
        names.append(name)
        ends.append((lo, hi))
    return names, tuple(ends)


def _subtract(box: Box, hole: Box) -> list[Box]:
    """Closed boxes covering ``box`` minus the interior of ``hole``."""
    if any(hhi <= lo or hlo >= hi for (lo, hi), (hlo, hhi) in zip(box, hole, strict=True)):
        return [box]  # no overlap of positive measure
    out, rest = [], list(box)
    for i, ((lo, hi), (hlo, hhi)) in enumerate(zip(box, hole, strict=True)):
        if lo < hlo:
            out.append(tuple(rest[:i] + [(lo, hlo)] + rest[i + 1:]))
        if hhi < hi:
            out.append(tuple(rest[:i] + [(hhi, hi)] + rest[i + 1:]))
        rest[i] = (max(lo, hlo), min(hi, hhi))
    return out


def _split(box: Box) -> tuple[Box, Box] | None:
    """Bisect the widest variable (None when no variable can be split in floats)."""
    order = sorted(range(len(box)), key=lambda i: box[i][1] - box[i][0], reverse=True)
    for i in order:
        lo, hi = box[i]
        mid = lo / 2 + hi / 2
        if lo < mid < hi:
            left, right = list(box), list(box)
            left[i], right[i] = (lo, mid), (mid, hi)
            return tuple(left), tuple(right)
    return None


def _pair(out: Any, what: str) -> tuple[Any, Any]:
    try:
        lhs, rhs = out
    except (TypeError, ValueError):
        raise NotABall(f"certify: {what} must return (lhs, rhs), two flint.arb balls; got "
                       f"{out!r}") from None
    for side, v in (("lhs", lhs), ("rhs", rhs)):
        if not isinstance(v, flint.arb):
            raise NotABall(f"certify: {what} returned {side} = {v!r} of type "
                           f"{type(v).__name__}, expected a flint.arb ball (build it from the "
                           "balls it receives, e.g. z.exp(); a float is not an enclosure)")
    return lhs, rhs


def _as_ball(value: Any, what: str) -> Any:
    if callable(value) and not isinstance(value, (flint.arb, sp.Basic)):
        value = value()
    if isinstance(value, flint.arb):
        return value
    if isinstance(value, bool):
        raise NotABall(f"certify: {what} = {value!r} is not a number")
    if isinstance(value, Fraction):
        return flint.arb(flint.fmpq(value.numerator, value.denominator))
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidArgument(f"certify: {what} = {value!r} is not finite")
        return flint.arb(value)
    if isinstance(value, sp.Basic):
        return arb_value(value)
    raise NotABall(f"certify: {what} = {value!r} must be a number, a sympy constant, an "
                   "arb ball or a callable returning one")


# -- the search ------------------------------------------------------------------

class _Search:
    """Branch and bound with a shared budget (boxes, deadline) and the running
    tightness; one instance per :func:`certify` call."""

    def __init__(self, *, strict: bool, prec: int, max_boxes: int, deadline: float) -> None:
        self.strict, self.prec = strict, prec
        self.max_boxes, self.deadline = max_boxes, deadline
        self.boxes = 0
        self.max_ratio: float | None = None
        self.counter = itertools.count()
        self.last_excess = -math.inf  # lhs - rhs at the last box (the children's key)

    def decided(self, lhs: Any, rhs: Any) -> bool:
        return bool(lhs.upper() < rhs.lower()) if self.strict else bool(
            lhs.upper() <= rhs.lower())

    def violated(self, lhs: Any, rhs: Any) -> bool:
        return bool(lhs.lower() >= rhs.upper()) if self.strict else bool(
            lhs.lower() > rhs.upper())

    def note_ratio(self, lhs: Any, rhs: Any) -> None:
        if rhs.lower() > 0 and lhs.is_finite():
            low = float((lhs / rhs).lower())
            if math.isfinite(low) and (self.max_ratio is None or low > self.max_ratio):
                self.max_ratio = low

    def out_of_budget(self) -> bool:
        return self.boxes >= self.max_boxes or time.perf_counter() > self.deadline

    def run(self, evaluate: Callable[..., Any], names: Sequence[str], pieces: list[Box]
            ) -> tuple[str, dict[str, Any] | None, list[Box]]:
        """Decide every piece: ('CERTIFIED', None, []), ('FALSIFIED', point, rest) or
        ('INCONCLUSIVE', None, undecided boxes).

        Two queues share the sub-boxes and take turns: the largest first (so that an
        interrupted search leaves little volume undecided) and the one whose parent's
        lhs - rhs came closest to a violation first (so that a false statement is found
        early). A sub-box taken from one queue is skipped in the other."""
        alive: dict[int, Box] = {}
        by_size: list[tuple[float, int]] = []
        by_excess: list[tuple[float, int]] = []

        def push(box: Box, excess: float) -> None:
            k = next(self.counter)
            alive[k] = box
            heapq.heappush(by_size, (-_volume(box) - _width(box), k))
            heapq.heappush(by_excess, (-excess, k))

        for piece in pieces:
            push(piece, -math.inf)
        initial = set(alive)
        stuck: list[Box] = []
        turn = itertools.cycle((by_size, by_excess))
        while alive:
            if self.out_of_budget():
                return "INCONCLUSIVE", None, stuck + list(alive.values())
            queue = next(turn)
            k = heapq.heappop(queue)[1]
            while k not in alive:
                k = heapq.heappop(queue)[1]
            first = k in initial
            box = alive.pop(k)
            self.boxes += 1
            lhs, rhs = _pair(evaluate(**_balls(names, box)), "evaluate")
            if self.decided(lhs, rhs):
                continue
            gap = lhs - rhs
            self.last_excess = float(gap.mid()) if gap.is_finite() else -math.inf
            if first or not gap.is_finite() or gap.mid() > 0:
                point = tuple(lo / 2 + hi / 2 for lo, hi in box)
                found = self.try_point(evaluate, names, point)
                if found is not None:
                    return "FALSIFIED", found, [box, *alive.values()]
            children = _split(box)
            if children is None:
                stuck.append(box)
                continue
            for child in children:
                push(child, self.last_excess)
        return ("INCONCLUSIVE", None, stuck) if stuck else ("CERTIFIED", None, [])

    def try_point(self, evaluate: Callable[..., Any], names: Sequence[str],
                  point: tuple[float, ...]) -> dict[str, Any] | None:
        """Evaluate at a concrete point; a violation is re-checked at 2·prec."""
        balls = {n: flint.arb(x) for n, x in zip(names, point, strict=True)}
        lhs, rhs = _pair(evaluate(**balls), "evaluate")
        self.note_ratio(lhs, rhs)
        excess = float((lhs - rhs).mid()) if (lhs - rhs).is_finite() else -math.inf
        self.last_excess = excess if math.isfinite(excess) else -math.inf
        if not self.violated(lhs, rhs):
            return None
        flint.ctx.prec = 2 * self.prec
        try:
            lhs2, rhs2 = _pair(evaluate(**balls), "evaluate")
            confirmed = self.violated(lhs2, rhs2)
            ratio = float((lhs2 / rhs2).mid()) if not rhs2.contains(0) else None
        finally:
            flint.ctx.prec = self.prec
        if not confirmed:  # cannot happen with rigorous enclosures; never claim it then
            return None
        return {"point": dict(zip(names, point, strict=True)),
                "lhs": float(lhs2.mid()), "rhs": float(rhs2.mid()), "ratio": ratio,
                "lhs_enclosure": lhs2.str(20), "rhs_enclosure": rhs2.str(20),
                "prec": 2 * self.prec}


# -- local (second-order) arguments ------------------------------------------------

def negative_definite(h: Any, d: int) -> tuple[bool, str]:
    """Whether every symmetric matrix in the enclosure ``h`` (an arb for d = 1, else a
    d x d nested sequence of arb) is negative semidefinite (d = 1: its upper end <= 0)
    or negative definite (d > 1: every pivot of an arb LDLᵀ elimination of -h is > 0;
    each point matrix has its pivots inside those balls), with the reason in words."""
    if d == 1:
        h11 = h if isinstance(h, flint.arb) else h[0][0]
        if not isinstance(h11, flint.arb):
            raise NotABall(f"certify: LocalMax.hessian returned {h!r}, expected an arb")
        return bool(h11.upper() <= 0), f"f'' ∈ {_interval(h11)} on the neighbourhood"
    try:
        a = [[-h[i][j] for j in range(d)] for i in range(d)]
    except (TypeError, IndexError):
        a = []
    if len(a) != d or not all(isinstance(x, flint.arb) for row in a for x in row):
        raise NotABall(f"certify: LocalMax.hessian must return a {d}x{d} nested sequence of "
                       f"arb balls, got {h!r}")
    pivots = []
    for k in range(d):
        p = a[k][k]
        pivots.append(p)
        if not p.lower() > 0:
            return False, (f"pivot {k + 1} of -H is {_interval(p)}, not > 0: the enclosure does "
                           "not show H negative definite (shrink the radius?)")
        for i in range(k + 1, d):
            for j in range(k + 1, d):
                a[i][j] = a[i][j] - a[i][k] * a[k][j] / p
    return True, ("every pivot of -H is > 0 (" + ", ".join(_interval(p) for p in pivots)
                  + "): H negative definite on the neighbourhood")


def _local_argument(lm: LocalMax, evaluate: Callable[..., Any], names: Sequence[str],
                    box: Box, search: _Search) -> tuple[Box | None, str, str]:
    """(neighbourhood decided or None, short phrase, full account)."""
    if not isinstance(lm, LocalMax):
        raise InvalidArgument(f"certify: local=... takes LocalMax objects, got {lm!r}")
    if set(lm.center) != set(names):
        raise InvalidArgument(f"certify: LocalMax centre names {sorted(lm.center)}, the box "
                              f"has {list(names)}; give the centre in every variable")
    if lm.hessian is None or not lm.proof:
        raise InvalidArgument("certify: a LocalMax needs hessian=... (an enclosure of the "
                              "second derivative of lhs - rhs) and proof='...' (what was proved "
                              "about f(z*) = 0 and ∇f(z*) = 0, and how)")
    if not float(lm.radius) > 0:
        raise InvalidArgument(f"certify: LocalMax radius must be > 0, got {lm.radius!r}")
    centre = {n: _as_ball(lm.center[n], f"LocalMax centre {n}") for n in names}
    mids = {n: float(centre[n].mid()) for n in names}
    nbhd = tuple((max(lo, mids[n] - lm.radius), min(hi, mids[n] + lm.radius))
                 for n, (lo, hi) in zip(names, box, strict=True))
    where = ", ".join(f"{n}* = {_fmt(mids[n])}" for n in names)
    short = f"|{'|, |'.join(f'{n} - {n}*' for n in names)}| ≤ {lm.radius:g} around {where}"
    if any(lo > hi for lo, hi in nbhd):
        raise InvalidArgument(f"certify: the LocalMax centre {where} lies outside the box "
                              f"{_box_text(names, box)}")
    problems, facts = [], []
    if lm.check is not None:
        ok = bool(lm.check())
        facts.append("the caller's check ran here: " + ("passed" if ok else "FAILED"))
        if not ok:
            problems.append("the caller's check of f(z*) = 0 and ∇f(z*) = 0 returned False")
    inside = all(centre[n].lower() >= lo and centre[n].upper() <= hi
                 for n, (lo, hi) in zip(names, nbhd, strict=True))
    if not inside:
        problems.append("the ball of z* is not inside the neighbourhood")
    lhs, rhs = _pair(evaluate(**centre), "evaluate")
    search.note_ratio(lhs, rhs)
    gap = lhs - rhs
    if not gap.contains(0):
        problems.append(f"lhs - rhs at z* is {gap.str(8)}, not 0: the premise f(z*) = 0 is "
                        "false (a wrong centre, or a constant other than the attained one)")
    hess = lm.hessian(**_balls(names, nbhd))
    ok_h, h_text = negative_definite(hess, len(names))
    facts.append(h_text + " (arb)")
    if not ok_h:
        problems.append(h_text)
    head = (f"neighbourhood {_box_text(names, nbhd)} of z* ({where}): f = lhs - rhs, "
            f"f(z*) = 0 and ∇f(z*) = 0 by the caller ({lm.proof}); "
            + "; ".join(facts))
    if problems:
        return None, f"{short}: local argument REJECTED", (
            head + ". REJECTED, so the neighbourhood stays in the branch and bound: "
            + "; ".join(problems))
    return nbhd, f"{short} by a second-order argument", (
        head + " ⇒ f <= 0 there (Taylor's theorem with the Lagrange remainder)")


# -- tails -----------------------------------------------------------------------------

def _check_tail(tail: Tail, names: Sequence[str], box: Box
                ) -> tuple[str, float, list[str], Box, str]:
    """Validate a tail before anything runs: (what, end, its names, its box, w)."""
    if not isinstance(tail, Tail):
        raise InvalidArgument(f"certify: tails=... takes Tail objects, got {tail!r}")
    if tail.variable not in names or tail.side not in (1, -1):
        raise InvalidArgument(f"certify: Tail({tail.variable!r}, side={tail.side!r}) needs a "
                              f"variable of the box {list(names)} and side +1 or -1")
    lo, hi = box[list(names).index(tail.variable)]
    end = hi if tail.side > 0 else lo
    if float(tail.start) != end:
        raise InvalidArgument(f"certify: the tail {tail.variable} {'>=' if tail.side > 0 else '<='}"
                              f" {tail.start} must start where the box ends ({end})")
    what = f"{tail.variable} {'≥' if tail.side > 0 else '≤'} {_fmt(end)}"
    if tail.evaluate is None:
        if tail.check is None or not tail.proof:
            raise InvalidArgument(f"certify: the tail {what} needs either evaluate=... on a "
                                  "compact box, or proof='...' with check=... (the caller's "
                                  "argument, run here)")
        return what, end, [], (), ""
    if tail.box is None or tail.to_original is None:
        raise InvalidArgument(f"certify: the compactified tail {what} needs box=... (compact, in "
                              "its own variables) and to_original=... (its variable back to "
                              f"{tail.variable})")
    tnames, tbox = _check_box(tail.box, f"box of the tail {what}")
    new = [n for n in tnames if n not in names]
    if len(new) != 1 or tail.variable in tnames or len(tnames) != len(names):
        raise InvalidArgument(f"certify: the tail {what} must replace {tail.variable!r} by one "
                              f"new variable and keep the others; its box has {tnames}")
    for n, (a, b) in zip(tnames, tbox, strict=True):
        if n not in new and (a, b) != box[list(names).index(n)]:
            raise InvalidArgument(f"certify: the tail {what} must keep {n} on the box's range")
    return what, end, tnames, tbox, new[0]


def _tail_argument(tail: Tail, names: Sequence[str], box: Box, search: _Search
                   ) -> tuple[str, str, str, dict[str, Any] | None, float]:
    """(verdict, short phrase, account, counterexample, undecided fraction)."""
    what, end, tnames, tbox, w = _check_tail(tail, names, box)
    if tail.evaluate is None:
        ok = bool(tail.check()) if tail.check is not None else False
        text = f"tail {what} by the caller's argument ({tail.proof}); its check ran here: " + (
            "passed" if ok else "FAILED")
        short = f"tail {what} by the caller's argument" + ("" if ok else " (check FAILED)")
        return ("CERTIFIED" if ok else "INCONCLUSIVE"), short, text, None, 0.0 if ok else 1.0
    assert tail.to_original is not None  # checked by _check_tail
    wlo, whi = tbox[tnames.index(w)]
    images = [_as_ball(tail.to_original(**{w: flint.arb(x)}), f"to_original({w}={x})")
              for x in (wlo, whi)]
    reaches = any((img.upper() <= end) if tail.side > 0 else (img.lower() >= end)
                  for img in images if img.is_finite())
    short = f"tail {what} by {tail.description or w} on {w} ∈ [{_fmt(wlo)}, {_fmt(whi)}]"
    if not reaches:
        text = (f"tail {what}: {tail.variable} = to_original({w}) at the ends of {w}'s range is "
                f"{[i.str(8) for i in images]}, neither reaches {_fmt(end)}: the tail is not "
                "covered")
        return "INCONCLUSIVE", short + " (does NOT reach the box)", text, None, 1.0
    before = search.boxes
    status, found, rest = search.run(tail.evaluate, tnames, [tbox])
    n_boxes = search.boxes - before
    covered = (f"{tail.variable} = to_original({w}) reaches {_fmt(end)} at one end of {w}'s "
               "range (arb)")
    identity = tail.proof or "the rewriting is the caller's"
    text = (f"tail {what}: rewritten in {w} ∈ [{_fmt(wlo)}, {_fmt(whi)}] ({identity}); "
            f"{covered}; branch and bound there: {status}, {n_boxes} boxes")
    if found is not None:
        orig = tail.to_original(**{w: flint.arb(found["point"][w])})
        found = dict(found, where=f"tail {what}",
                     point=dict(found["point"], **{tail.variable: float(orig.mid())}))
    volume = _volume(tbox)
    undecided = sum(_volume(b) for b in rest) / volume if volume else float(bool(rest))
    plural = "box" if n_boxes == 1 else "boxes"
    return status, f"{short} ({n_boxes} {plural})", text, found, undecided


# -- the entry point -----------------------------------------------------------------------

def certify(evaluate: Callable[..., tuple[Any, Any]], box: Mapping[str, tuple[float, float]],
            *, strict: bool = False, prec: int = 80, max_boxes: int = 100_000,
            time_limit: float = 60.0, local: Sequence[LocalMax] = (),
            tails: Sequence[Tail] = (), note: str = "") -> CertResult:
    """Prove ``lhs <= rhs`` (``<`` when ``strict``) at every point of ``box``.

    ``evaluate(**balls) -> (lhs, rhs)`` receives one ``flint.arb`` ball per variable
    of ``box`` and returns enclosures of both sides. ``local``: :class:`LocalMax`
    neighbourhoods of points where the bound is attained; ``tails``: :class:`Tail`
    arguments for the unbounded ends; ``note``: what the inequality is (e.g. the
    reduced form of a claim), put at the head of the message. See the module
    docstring for the algorithm and what each argument proves.

    >>> import flint
    >>> res = certify(lambda x: (x.sin(), x), {"x": (0.5, 10.0)})
    >>> res.verdict, res.boxes > 0
    ('CERTIFIED', True)
    """
    names, root = _check_box(box)
    if not callable(evaluate):
        raise InvalidArgument(f"certify: evaluate must be a function of {names}, got "
                              f"{evaluate!r}")
    if not isinstance(prec, int) or prec < 16:
        raise InvalidArgument(f"certify: prec is in bits, an int >= 16, got {prec!r}")
    if not isinstance(max_boxes, int) or max_boxes < 1:
        raise InvalidArgument(f"certify: max_boxes must be a positive int, got {max_boxes!r}")
    if not time_limit > 0:
        raise InvalidArgument(f"certify: time_limit must be > 0 seconds, got {time_limit!r}")
    if strict and local:
        raise InvalidArgument("certify: strict=True with a LocalMax: lhs = rhs at its centre, so "
                              "the strict inequality fails there")
    for tail in tails:
        _check_tail(tail, names, root)
    start = time.perf_counter()
    saved = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        search = _Search(strict=strict, prec=prec, max_boxes=max_boxes,
                         deadline=start + float(time_limit))
        result = _certify(evaluate, names, root, search, local, tails)
    finally:
        flint.ctx.prec = saved
    result.seconds = round(time.perf_counter() - start, 4)
    result.box = dict(zip(names, root, strict=True))
    result.prec = prec
    if note:
        result.message = f"{note}. {result.message}"
    return result


def _certify(evaluate: Callable[..., Any], names: list[str], root: Box, search: _Search,
             local: Sequence[LocalMax], tails: Sequence[Tail]) -> CertResult:
    arguments, accounts = [], []
    pieces = [root]
    for lm in local:
        nbhd, short, text = _local_argument(lm, evaluate, names, root, search)
        arguments.append(short)
        accounts.append(text)
        if nbhd is not None:
            pieces = [p for piece in pieces for p in _subtract(piece, nbhd)]
    status, found, rest = search.run(evaluate, names, pieces)
    where = _box_text(names, root)
    volume = _volume(root)
    undecided = sum(_volume(b) for b in rest) / volume if volume else float(bool(rest))
    res = CertResult(status, {}, arguments=arguments)
    if status == "FALSIFIED":
        found = dict(found or {}, where="box")
        return _finish(res, search, found, 0.0, accounts,
                       f"FALSIFIED at {_point_text(found)} in {where}")
    tail_undecided = []
    for tail in tails:
        if search.out_of_budget():
            tail_undecided.append(f"tail {tail.variable} {'≥' if tail.side > 0 else '≤'} "
                                  f"{_fmt(tail.start)} not checked (budget spent)")
            continue
        t_status, short, text, t_found, t_left = _tail_argument(tail, names, root, search)
        arguments.append(short)
        accounts.append(text)
        if t_status == "FALSIFIED":
            return _finish(res, search, t_found, 0.0, accounts,
                           f"FALSIFIED in the {t_found and t_found.get('where')} at "
                           f"{_point_text(t_found or {})}", verdict="FALSIFIED")
        if t_status != "CERTIFIED":
            tail_undecided.append(f"{short}: {100 * t_left:.3g}% of its box undecided")
    if status == "CERTIFIED" and not tail_undecided:
        return _finish(res, search, None, 0.0, accounts,
                       f"CERTIFIED: lhs {'<' if search.strict else '<='} rhs on {where}"
                       + (" and its tails" if tails else "") + f", {search.boxes} boxes")
    why = "budget spent (max_boxes or time_limit)" if search.out_of_budget() else \
        "sub-boxes that floats cannot split further"
    msg = (f"INCONCLUSIVE: {100 * undecided:.3g}% of the volume of {where} undecided after "
           f"{search.boxes} boxes ({why})")
    if tail_undecided:
        msg += "; " + "; ".join(tail_undecided)
    return _finish(res, search, None, undecided, accounts, msg, verdict="INCONCLUSIVE")


def _point_text(found: Mapping[str, Any]) -> str:
    point = ", ".join(f"{k} = {v!r}" for k, v in (found.get("point") or {}).items())
    return (f"{point}: lhs = {found.get('lhs')!r} > rhs = {found.get('rhs')!r} (ratio "
            f"{found.get('ratio')!r}; re-checked at {found.get('prec')} bits: lhs ∈ "
            f"{found.get('lhs_enclosure')}, rhs ∈ {found.get('rhs_enclosure')})")


def _finish(res: CertResult, search: _Search, found: dict[str, Any] | None, undecided: float,
            accounts: list[str], head: str, verdict: str | None = None) -> CertResult:
    res.verdict = verdict or res.verdict
    res.counterexample = found
    res.undecided_volume = float(undecided)
    res.boxes = search.boxes
    res.max_ratio = search.max_ratio
    res.message = head + ("; " + "; ".join(accounts) if accounts else "")
    return res
