"""The per-claim runner that theorem files talk to (the ``ntk`` argument), and the
run of a claim with its twins.

A :class:`ClaimRun` knows the claim, the backend, the budget and the claim's
seed. Each check method draws cases, computes observations on the backend,
applies the decision rule of :mod:`ntkproof.engine.decision` and keeps the
:class:`~ntkproof.engine.decision.Decision`. When the body returns, :meth:`finish`
combines the decisions into the claim's verdict and writes the record.

A :class:`RunContext` is what a host (the pytest plugin, :func:`ntkproof.verify`)
gives the engine: backend, budget, run seed, where records go, which claims are
selected, and the sweeps cached in this process. :meth:`RunContext.run_family`
runs a claim and its declared twins and ends in an :class:`Outcome`: nothing for a
claim that passed, :class:`ClaimFailed` (a claim FALSIFIED or ERROR, or a twin not
rejected: the message shows the worst case and the command that reproduces it) or
:class:`ClaimUndecided` (INCONCLUSIVE or SKIPPED). Hosts translate these; the pytest
plugin into a failure or a skip. The engine never imports pytest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np

from ..backends import Backend, get_backend, tolerance_for
from ..certify import certify as certify_box
from ..derivation import discharge
from ..errors import InvalidArgument, NonFiniteError
from ..rng import claim_seed, generator, spawn
from . import decision as dec
from .budgets import Budget, get_budget
from .claims import ClaimInfo, ClaimSpec
from .search import Space, worst_case_search
from .verdicts import claim_problem, worst_verdict

T = TypeVar("T")

__all__ = ["ClaimRun", "ClaimSkipped", "ClaimFailed", "ClaimUndecided", "RunContext",
           "Measured", "as_measured", "Evaluate", "REFEREE_ZONE", "register_skip_exception"]

#: A violation smaller than REFEREE_ZONE tolerances is re-checked at 50 digits.
REFEREE_ZONE = 1e4

Evaluate = Callable[..., Sequence[Any]]


@dataclass(frozen=True, init=False)
class Measured:
    """What a sweep's measure returns when the body needs more of a point than its
    value: ``Measured(error, trained=loss_ratio)``. The check decides on ``value``;
    ``data`` comes back with it (from a cluster's worker too, with ``spread=True``)
    and is cached with it, and the body reads it from the decision's ``points``
    (``d = ntk.rate(...)``; ``max(p.data["trained"] for p in d.points)``). A measure
    that returns a plain number gives ``Measured(value)``. ``data`` must pickle."""

    value: float
    data: dict[str, Any] = field(default_factory=dict)

    def __init__(self, value: float, **data: Any) -> None:
        object.__setattr__(self, "value", float(value))
        object.__setattr__(self, "data", dict(data))


def as_measured(result: Any) -> Measured:
    """A measure's result as a :class:`Measured` (a number becomes ``Measured(number)``)."""
    return result if isinstance(result, Measured) else Measured(float(result))


#: ``map_points(task, [(x, seeds), ...]) -> [task(x, seeds), ...]``: how a run measures a
#: sweep (``task`` a :class:`_Points`: one seed, or every seed of a ladder value, per call).
MapPoints = Callable[[Callable[..., Any], Sequence[tuple[Any, Any]]], list[Any]]


def _map_here(task: Callable[..., Any], args: Sequence[tuple[Any, Any]]) -> list[Any]:
    """Run ``task`` on each argument pair, one after the other, in this process."""
    return [task(x, s) for x, s in args]


class _Points:
    """A sweep's unit of work: ``measure(x, seed)`` as one :class:`Measured`, or, with
    ``batch``, ``measure(x, seeds)`` (every seed of one ladder value in one call) as a
    list of them, one per seed. Picklable, so the work can run on a cluster's worker."""

    def __init__(self, measure: Callable[..., Any], batch: bool) -> None:
        self.measure, self.batch = measure, batch

    def __call__(self, x: Any, seeds: Any) -> Any:
        if not self.batch:
            return as_measured(self.measure(x, seeds))
        got = list(self.measure(x, list(seeds)))
        if len(got) != len(seeds):
            raise InvalidArgument(f"a batch measure returned {len(got)} values for the "
                                  f"{len(seeds)} seeds at x = {x!r}: it must return one "
                                  "value per seed, in the order of the seeds")
        return [as_measured(v) for v in got]


class _SeedOnly:
    """``f(seed)`` as a measurement ``(x, seed) -> value`` (picklable, unlike a lambda)."""

    def __init__(self, f: Callable[[int], Any]) -> None:
        self.f = f

    def __call__(self, _x: Any, seed: int) -> Measured:
        return as_measured(self.f(seed))


class ClaimSkipped(Exception):
    """Raised by :meth:`ClaimRun.skip` to end a claim's body as SKIPPED."""


class ClaimFailed(AssertionError):
    """A claim of the family failed (FALSIFIED, ERROR, or a twin not rejected); the
    message is the whole story: worst case, tolerance, seed, reproduce command."""


class ClaimUndecided(Exception):
    """The claim is INCONCLUSIVE or SKIPPED: neither verified nor failed."""


#: Exception types that end a body as SKIPPED (a host registers its own, e.g. pytest's).
SKIP_EXCEPTIONS: list[type[BaseException]] = [ClaimSkipped]


def register_skip_exception(cls: type[BaseException]) -> None:
    """Treat ``cls`` raised by a claim's body as "not applicable" (SKIPPED)."""
    if cls not in SKIP_EXCEPTIONS:
        SKIP_EXCEPTIONS.append(cls)


class RunContext:
    """One run's settings, handed by a host to every claim it runs.

    ``reproduce(claim_id)`` gives the one-line command that re-runs a claim;
    ``on_record(record)`` stores a finished claim's record; ``selected(claim_id)``
    says whether a member of a family (a claim or one of its twins) is to run;
    ``sweeps`` caches measured sweeps (``ntk.rate(..., sweep=...)``) across the
    claims of this process, so a claim and its twins measure once; ``map_points``
    measures the points of a sweep (on a Dask cluster, :mod:`ntkproof.engine.cluster`;
    by default one after the other here).
    """

    def __init__(self, *, backend: Backend, budget: Budget, run_seed: int,
                 reproduce: Callable[[str], str], on_record: Callable[[dict[str, Any]], None],
                 selected: Callable[[str], bool] | None = None,
                 sweeps: dict[Any, Measured] | None = None,
                 map_points: MapPoints | None = None) -> None:
        self.backend, self.budget, self.run_seed = backend, budget, int(run_seed)
        self.reproduce, self.on_record = reproduce, on_record
        self.selected = selected or (lambda _id: True)
        self.sweeps: dict[Any, Measured] = {} if sweeps is None else sweeps
        self.map_points = map_points

    def claim_run(self, info: ClaimInfo, family: dict[str, Any] | None = None) -> ClaimRun:
        """The runner of one claim (the ``ntk`` its body receives); ``family`` holds
        what the claim and its twins share (:meth:`ClaimRun.shared`)."""
        return ClaimRun(info, backend=self.backend, budget=self.budget,
                        run_seed=self.run_seed, reproduce=self.reproduce(info.id),
                        on_record=self.on_record, sweeps=self.sweeps,
                        map_points=self.map_points, family=family)

    def run_family(self, spec: ClaimSpec, fn: Callable[..., Any], args: Sequence[Any],
                   kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run the claim of ``spec`` and its declared twins (those selected), each with
        its own runner, the twins with their overrides; returns the records.

        Raises :class:`ClaimFailed` when any member fails the run and
        :class:`ClaimUndecided` when the claim (or a lone twin) was not decided.
        """
        records: list[dict[str, Any]] = []
        family: dict[str, Any] = {}   # ClaimRun.shared: lives while the family runs
        for info, overrides in spec.members(kwargs):
            if not self.selected(info.id):
                continue
            run = self.claim_run(info, family)
            why = info.not_applicable(self.backend.name, self.budget.name)
            if why:
                run.decisions.append(dec.Decision(info.kind, "SKIPPED", 0, why))
                records.append(run.finish(None))
            else:
                records.append(run.execute(fn, args, {**kwargs, **overrides}))
        _raise_outcome(spec, records)
        return records


def _raise_outcome(spec: ClaimSpec, records: list[dict[str, Any]]) -> None:
    if not records:
        return
    parent = next((r for r in records if not r.get("twin_of") or r["id"] == spec.info.id),
                  None)
    parent_verdict = parent["verdict"] if parent and not parent.get("twin_of") else None
    problems = []
    for rec in records:
        head = claim_problem(rec, parent_verdict if rec.get("twin_of") else None)
        if head:
            problems.append(head + "\n" + describe(rec))
    if problems:
        raise ClaimFailed("\n\n".join(problems))
    lead = parent or records[0]
    if lead["verdict"] in ("INCONCLUSIVE", "SKIPPED"):
        raise ClaimUndecided(f"{lead['verdict']}: {lead['message']}")


class ClaimRun:
    """Run the checks of one claim on one backend under one budget.

    Attributes
    ----------
    info : ClaimInfo — the claim (id, kind, statement, source, twin).
    backend : Backend — where the numbers are computed.
    budget : Budget — how many cases, draws, seeds.
    seed : int — the claim's seed, derived from the run seed and the claim id.
    """

    def __init__(self, info: ClaimInfo, *, backend: Backend, budget: Budget, run_seed: int,
                 reproduce: str, on_record: Callable[[dict[str, Any]], None],
                 sweeps: dict[Any, Measured] | None = None,
                 map_points: MapPoints | None = None,
                 family: dict[str, Any] | None = None) -> None:
        self.info, self.backend, self.budget = info, backend, budget
        self.run_seed = int(run_seed)
        self.seed = claim_seed(run_seed, info.seed_key)
        self.reproduce = reproduce
        self.decisions: list[dec.Decision] = []
        self.extra: dict[str, Any] = {}
        self._on_record = on_record
        self._sweeps: dict[Any, Measured] = {} if sweeps is None else sweeps
        self._map_points: MapPoints = map_points or _map_here
        self._family: dict[str, Any] = {} if family is None else family
        self._start = time.perf_counter()
        self._finished = False

    def __getstate__(self) -> dict[str, Any]:
        """A claim's runner travels to a cluster's worker inside a measurement closure:
        it keeps what measurements use (claim, backend, budget, seeds) and leaves the
        run's records, caches and decisions at home."""
        state = self.__dict__.copy()
        state.update(backend=self.backend.spec, budget=self.budget.name, decisions=[],
                     extra={}, _on_record=None, _sweeps={}, _map_points=None, _family={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.backend = get_backend(state["backend"])
        self.budget = get_budget(state["budget"])
        self._map_points = _map_here

    def __repr__(self) -> str:
        return f"<ClaimRun {self.info.id} on {self.backend.spec}, seed={self.seed}>"

    # -- randomness --------------------------------------------------------
    def rng(self, salt: str = "") -> np.random.Generator:
        """A generator for this claim (a ``salt`` gives an independent stream)."""
        return generator(claim_seed(self.seed, salt) if salt else self.seed)

    def seeds(self, n: int, salt: str = "") -> list[int]:
        """``n`` independent child seeds of this claim's seed."""
        return spawn(claim_seed(self.seed, salt) if salt else self.seed, n)

    def seed_of(self, claim_id: str) -> int:
        """The seed the claim ``claim_id`` draws with in this run (e.g. a twin written
        as a function of its own that must see its claim's draws)."""
        return claim_seed(self.run_seed, claim_id)

    def pick(self, *, quick: Any, standard: Any = None, thorough: Any = None,
             **by_backend: Any) -> Any:
        """A size for this run: by backend name when given (``mpmath=...`` for a
        reduced size in 50-digit arithmetic), else by budget (see
        :meth:`~ntkproof.engine.budgets.Budget.pick`)."""
        if self.backend.name in by_backend:
            return by_backend[self.backend.name]
        return self.budget.pick(quick=quick, standard=standard, thorough=thorough)

    @property
    def tol(self) -> float:
        return self.backend.tol.rtol

    # -- evaluation helpers -----------------------------------------------
    def _observe(self, evaluate: Evaluate, params: Mapping[str, Any], backend: Backend,
                 seed: int | None = None) -> dec.Observation:
        with backend.context():
            args = {k: _to_backend(backend, v) for k, v in params.items()}
            out = evaluate(backend, **args)
            lhs, rhs = backend.to_float(out[0]), backend.to_float(out[1])
            scale = backend.to_float(out[2]) if len(out) > 2 else max(abs(lhs), abs(rhs))
            gap = backend.to_float(out[0] - out[1])  # in the backend's precision
        return dec.Observation(dict(params), lhs, rhs, scale, seed, gap=gap)

    def _referee(self, evaluate: Evaluate, ob: dec.Observation, identity: bool) -> dec.Observation:
        """Re-evaluate a near-boundary violation at 50 digits (mpmath)."""
        ref = get_backend("mpmath")
        try:
            new = self._observe(evaluate, ob.params, ref, ob.seed)
        except Exception as exc:  # noqa: BLE001 - a referee that cannot run is reported
            ob.note = f"near-boundary violation; the mpmath referee could not run ({exc})"
            return ob
        excess = abs(new.diff) if identity else new.diff
        ok = excess <= ref.tol.rtol * max(new.scale, 1e-300)
        new.note = ("refereed at 50 digits: no violation" if ok else
                    "refereed at 50 digits: violation confirmed")
        return new

    def _referee_all(self, evaluate: Evaluate, obs: list[dec.Observation],
                     identity: bool, rtol: float) -> None:
        if self.backend.name == "mpmath":
            return
        for i, ob in enumerate(obs):
            ex = abs(ob.diff) if identity else ob.diff
            ex /= max(ob.scale, 1e-300)
            # identities: near-boundary violations; bounds: also a ratio above 1
            # inside the tolerance, so the reported tightness is not roundoff
            low = rtol if identity else 0.0
            if low < ex <= REFEREE_ZONE * rtol:
                refereed = self._referee(evaluate, ob, identity)
                if refereed.note.endswith("no violation"):
                    # keep the refereed numbers, in this backend's units
                    obs[i] = refereed
                elif "could not run" in refereed.note:
                    obs[i] = refereed
                    self.extra.setdefault("unrefereed", []).append(i)

    def _tolerance(self, slack: tuple[float, str] | None) -> float:
        if slack is None:
            return self.tol
        factor, why = slack
        if not why:
            raise InvalidArgument(f"{self.info.id}: declared slack x{factor} needs a reason")
        self.extra.setdefault("slack", []).append({"factor": factor, "reason": why})
        return self.tol * factor

    def _keep(self, d: dec.Decision) -> dec.Decision:
        self.decisions.append(d)
        return d

    # -- checks -------------------------------------------------------------
    def identity(self, evaluate: Evaluate, cases: Space | Iterable[Mapping[str, Any]], *,
                 n: int | None = None, slack: tuple[float, str] | None = None) -> dec.Decision:
        """``lhs == rhs`` on every case; ``evaluate(b, **params) -> (lhs, rhs[, scale])``."""
        params_list = self._cases(cases, n)
        obs = [self._observe(evaluate, p, self.backend) for p in params_list]
        rtol = self._tolerance(slack)
        self._referee_all(evaluate, obs, True, rtol)
        d = dec.decide_identity(obs, rtol)
        return self._keep(self._unrefereed(d))

    def bound(self, evaluate: Evaluate, space: Space | Iterable[Mapping[str, Any]], *,
              known_sup: float | None = None,
              search: bool = True, gradient: Callable[..., Mapping[str, Any]] | None = None,
              slack: tuple[float, str] | None = None, n: int | None = None,
              restarts: int | None = None) -> dec.Decision:
        """``lhs <= rhs`` on random cases of ``space`` and on the worst cases a
        search for the largest ``lhs / rhs`` finds.

        ``evaluate(b, **params) -> (lhs, rhs[, scale])`` computes on backend
        ``b``; ``scale`` is the size of the terms whose difference formed lhs
        (roundoff is relative to it). ``gradient(**params) -> {name: array}``
        (of the ratio) enables projected ascent for many free numbers.
        ``space`` may also be an explicit list of cases (e.g. every point of a
        time grid): each is checked, and there is no search.
        """
        known_sup = self.info.known_sup if known_sup is None else known_sup
        rng = self.rng("cases")
        n = n or self.budget.cases
        if not isinstance(space, Space):
            params_list = self._cases(space, None)
        elif search:
            sb = self.backend if self.backend.name != "mpmath" else get_backend("numpy")

            def ratio(p: Mapping[str, Any]) -> float:
                return self._observe(evaluate, p, sb).ratio

            grad = (lambda p: gradient(**p)) if gradient else None
            res = worst_case_search(ratio, space, rng=rng, cases=n,
                                    restarts=restarts or self.budget.restarts,
                                    iters=self.budget.local_iters, gradient=grad)
            params_list = res.random + res.refined
            if res.note:
                self.extra["search_note"] = res.note
        else:
            params_list = [space.project(space.sample(rng)) for _ in range(n)]
        obs = [self._observe(evaluate, p, self.backend) for p in params_list]
        rtol = self._tolerance(slack)
        self._referee_all(evaluate, obs, False, rtol)
        d = dec.decide_bound(obs, rtol, known_sup)
        return self._keep(self._unrefereed(d))

    def probabilistic_bound(self, draw: Callable[[np.random.Generator], tuple[Any, ...]], *,
                            delta: float, n: int | None = None,
                            slack: tuple[float, str] | None = None) -> dec.Decision:
        """``lhs <= rhs`` with probability >= 1 - delta over independent draws;
        ``draw(rng) -> (params, lhs, rhs)`` with lhs, rhs plain floats."""
        n = n or self.budget.draws
        obs = []
        for s in self.seeds(n, "draws"):
            params, lhs, rhs = draw(generator(s))
            obs.append(dec.Observation(dict(params), float(lhs), float(rhs),
                                       max(abs(float(lhs)), abs(float(rhs))), s))
        return self._keep(dec.decide_probabilistic(obs, delta, self._tolerance(slack)))

    def _measure_points(self, sweep: str | None, measure: Callable[..., Any],
                        points: Sequence[tuple[Any, int]], spread: bool = False,
                        batch: bool = False) -> list[Measured]:
        """``measure(x, seed)`` at every point, cached under ``sweep`` for this run and
        backend; the points not cached yet are measured together: in this process, or,
        with ``spread`` (the check's ``spread=True``: the measure is a function of its
        arguments alone, and the body needs nothing else it does), on the run's cluster
        when it has one (:class:`RunContext`'s ``map_points``). A measure that records
        what it saw for the body on the side (losses for a precondition, runs reused
        later) must not spread: on another worker those side effects never reach the
        body. Returning it in a :class:`Measured` instead brings it back from anywhere.

        With ``batch`` the measure is ``measure(x, seeds)``: one call (one task when
        spread) per ladder value for all of its points not cached yet, in their order."""
        keys = [(sweep, self.backend.spec, self.budget.name, self.run_seed, repr(x), s)
                if sweep else None for x, s in points]
        todo = [i for i, k in enumerate(keys) if k is None or k not in self._sweeps]
        mapper = self._map_points if spread else _map_here
        task = _Points(measure, batch)
        fresh: dict[int, Measured] = {}
        if todo and batch:
            groups: dict[str, list[int]] = {}
            for i in todo:
                groups.setdefault(repr(points[i][0]), []).append(i)
            args = [(points[g[0]][0], tuple(points[i][1] for i in g)) for g in groups.values()]
            for g, got in zip(groups.values(), mapper(task, args), strict=True):
                fresh.update(zip(g, got, strict=True))
        elif todo:
            fresh = dict(zip(todo, mapper(task, [points[i] for i in todo]), strict=True))
        for i, value in fresh.items():
            if keys[i] is not None:
                self._sweeps[keys[i]] = value
        return [fresh[i] if i in fresh else self._sweeps[keys[i]] for i in range(len(points))]

    def shared(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()`` once for the claim and its declared twins: the first member of
        the family that asks for ``name`` computes it, the others (run right after it,
        in this process, with the same seed) reuse it; it is dropped when the family
        is done. For what a body builds before it judges (trained runs, traces) when a
        twin changes only the judging: like a sweep's name, give it only to something
        no twin's overrides change."""
        if name not in self._family:
            self._family[name] = compute()
        return cast(T, self._family[name])

    def measure(self, measure: Callable[[Any, int], Any], points: Sequence[tuple[Any, int]],
                *, sweep: str | None = None, spread: bool = False,
                batch: bool = False) -> list[Any]:
        """``measure(x, seed)`` at each ``(x, seed)`` point, without a decision: for
        values a body needs before it decides (a precondition on the same runs). With
        ``sweep`` the values are cached for the run like :meth:`rate`'s, and a later
        check under the same name reuses them; ``spread`` and ``batch`` as in
        :meth:`rate`. Returns the values as floats, or every point as :class:`Measured`
        when any of them carries data."""
        got = self._measure_points(sweep, measure, list(points), spread, batch)
        return list(got) if any(p.data for p in got) else [p.value for p in got]

    def rate(self, measure: Callable[[Any, int], Any], xs: Sequence[float], *,
             claimed: float, slack: float, attained: bool = False, variable: str = "m",
             seeds: int | None = None, sweep: str | None = None,
             slack_reason: str = "", spread: bool = False,
             batch: bool = False) -> dec.Decision:
        """Fit error ~ x^p over the ladder ``xs`` (``measure(x, seed) -> error``)
        and decide against the claimed exponent (upper or attained rate).

        ``sweep`` names the measurement: measured errors are cached under it for the
        run, so a twin that changes only the claimed exponent or the slack reuses
        its claim's sweep. Give a name only when every user of it measures the same
        thing.

        ``spread=True`` declares that ``measure`` is a function of its arguments alone and
        that the body needs nothing else it does: then, on a Dask run, the points run as
        tasks of their own on the cluster's workers. Leave it False (measured in the
        claim's process) when the measure records anything the body reads afterwards;
        or return that as :class:`Measured` data, which comes back in the decision's
        ``points`` wherever the point ran.

        ``batch=True`` makes the measure ``measure(x, seeds) -> [value per seed]``: the
        seeds of one ladder value in one call (networks trained as one stacked
        computation), and with ``spread`` one cluster task per ladder value. A ladder
        value is then always measured as one group, so a local and a Dask run compute
        the same numbers.
        """
        seeds_n = seeds or self.budget.seeds
        points = [(x, s) for x in xs for s in self.seeds(seeds_n, f"rate/{x}")]
        got = self._measure_points(sweep, measure, points, spread, batch)
        flat = [p.value for p in got]
        errors = [flat[i * seeds_n:(i + 1) * seeds_n] for i in range(len(xs))]
        fit = dec.fit_rate(xs, errors, seed=claim_seed(self.seed, "bootstrap"),
                           n_boot=self.budget.bootstrap)
        d = dec.decide_rate(fit, claimed, slack, attained=attained, variable=variable,
                            slack_reason=slack_reason)
        d.points = got
        return self._keep(d)

    def separation(self, run_a: Callable[[int], Any], run_b: Callable[[int], Any], *,
                   margin: float = 0.0, seeds: int | None = None,
                   labels: tuple[str, str] = ("A", "B"),
                   sweep: str | None = None, spread: bool = False) -> dec.Decision:
        """Method A's error is below method B's by more than ``margin`` across seeds
        (``sweep`` caches the per-seed errors and ``spread`` lets them run on a
        cluster's workers, as in :meth:`rate`)."""
        ss = self.seeds(seeds or self.budget.seeds, "separation")
        a = self._measure_points(sweep and f"{sweep}/A", _SeedOnly(run_a), [(0, s) for s in ss],
                                 spread)
        b = self._measure_points(sweep and f"{sweep}/B", _SeedOnly(run_b), [(0, s) for s in ss],
                                 spread)
        d = dec.decide_separation([p.value for p in a], [p.value for p in b], margin=margin,
                                  labels=labels)
        d.points = a + b
        return self._keep(d)

    def derivation(self, derivation: Any, *, goal: Any = None, points: int = 24) -> dec.Decision:
        """Check a symbolic derivation step by step (sympy + 50-digit spot checks) and
        its proof obligations against the claim's goal (the claim's ``goal=``; ``goal``
        here only for a claim that declares none, e.g. one parametrized by the
        activation): PROVED only when it derives the claim's statement for all values
        of its symbols (:func:`ntkproof.derivation.discharge`)."""
        # the claim's own goal, when it declares one, is the statement to reach: a goal
        # passed here that differs from it is a lemma, and cannot make the claim PROVED
        claim_goal = self.info.goal if self.info.goal is not None else goal
        res = discharge(derivation, claim_goal, seed=claim_seed(self.seed, "derivation"),
                        points=points)
        steps = res.to_dict()
        d = dec.Decision("derivation", res.verdict, len(res.steps), res.message,
                         data={"derivation": steps})
        return self._keep(d)

    def certify(self, evaluate: Callable[..., tuple[Any, Any]],
                box: Mapping[str, tuple[float, float]], **options: Any) -> dec.Decision:
        """Prove ``lhs <= rhs`` on every point of ``box`` with rigorous ball arithmetic
        (:func:`ntkproof.certify.certify`; ``evaluate(**balls) -> (lhs, rhs)`` on
        python-flint ``arb`` balls). CERTIFIED, FALSIFIED with a concrete point, or
        INCONCLUSIVE with the volume left undecided."""
        res = certify_box(evaluate, box, **options)
        data = {"certificate": {
            "box": {k: list(v) for k, v in res.box.items()}, "boxes": res.boxes,
            "undecided_volume": res.undecided_volume, "seconds": res.seconds,
            "prec": res.prec, "arguments": list(res.arguments),
            "counterexample": res.counterexample, "max_ratio": res.max_ratio}}
        worst = None
        if res.counterexample:
            ce = res.counterexample
            worst = {"params": ce.get("point", {}), "lhs": ce.get("lhs"), "rhs": ce.get("rhs"),
                     "ratio": ce.get("ratio"), "seed": None}
        tight = {"max": res.max_ratio} if res.max_ratio is not None else {}
        d = dec.Decision("certify", res.verdict, res.boxes, res.message, tightness=tight,
                         worst_case=worst, data=data)
        return self._keep(d)

    def require(self, name: str, measured: float, *, at_most: float | None = None,
                at_least: float | None = None, what: str = "") -> bool:
        """Check a precondition the claim's statement assumes (a network reached its
        training loss, a flow ran long enough, a fit had enough points). When it is
        not met the claim is INCONCLUSIVE with the measured value; returns whether it
        was met, so the body may stop early."""
        d = self._keep(dec.decide_precondition(name, measured, at_most=at_most,
                                               at_least=at_least, what=what))
        self.extra.setdefault("preconditions", []).append(d.data["precondition"])
        return d.verdict == "HOLDS"

    def record(self, **data: Any) -> None:
        """Attach extra data (series for plots, sizes) to the claim's record."""
        self.extra.update(dec._jsonable(data))

    def skip(self, reason: str) -> None:
        """Mark the claim SKIPPED on this backend, with the reason."""
        self._keep(dec.Decision(self.info.kind, "SKIPPED", 0, reason))
        raise ClaimSkipped(reason)

    # -- internals -------------------------------------------------------------
    def _cases(self, cases: Space | Iterable[Mapping[str, Any]], n: int | None) -> list[Any]:
        if isinstance(cases, Space):
            rng = self.rng("cases")
            return [cases.project(cases.sample(rng)) for _ in range(n or self.budget.cases)]
        out = [dict(c) for c in cases]
        if not out:
            raise InvalidArgument(f"{self.info.id}: the list of cases is empty")
        return out

    def _unrefereed(self, d: dec.Decision) -> dec.Decision:
        if d.verdict == "FALSIFIED" and self.extra.get("unrefereed"):
            d.verdict = "INCONCLUSIVE"
            d.message += ("; near-boundary violations could not be re-checked at 50 digits "
                          "(evaluate does not run on mpmath)")
        self.extra.pop("unrefereed", None)
        return d

    def execute(self, fn: Callable[..., Any], args: Sequence[Any],
                kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Run the claim's body with this runner as ``ntk`` and finish; an exception
        of the body is the claim's ERROR (a registered skip exception its SKIPPED)."""
        try:
            fn(*args, ntk=self, **kwargs)
        except ClaimSkipped:
            return self.finish(None)  # the SKIPPED decision is kept
        except (KeyboardInterrupt, SystemExit):
            raise  # an interrupted claim leaves no record; the run is partial
        except BaseException as exc:  # noqa: BLE001 - recorded as the claim's ERROR
            return self.finish(exc)
        return self.finish(None)

    def finish(self, exc: BaseException | None) -> dict[str, Any]:
        """Combine the decisions into the verdict, write the record and return it."""
        if self._finished:
            raise InvalidArgument(f"{self.info.id}: the claim was already finished")
        self._finished = True
        if exc is not None and isinstance(exc, tuple(SKIP_EXCEPTIONS)):
            self.decisions.append(dec.Decision(self.info.kind, "SKIPPED", 0, str(exc)))
        elif exc is not None:
            detail = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, NonFiniteError):
                detail = f"non-finite observation: {exc}"
            self.decisions.append(dec.Decision(self.info.kind, "ERROR", 0, detail))
        record = self.to_record()
        self._on_record(record)
        return record

    def verdict(self) -> str:
        return worst_verdict(d.verdict for d in self.decisions)

    def to_record(self) -> dict[str, Any]:
        info, verdict = self.info, self.verdict()
        primary = next((d for d in self.decisions if d.kind == info.kind and d.worst_case),
                       next((d for d in self.decisions if d.worst_case), None))
        if info.twin_of:  # a twin shows the check that rejected it
            primary = next((d for d in self.decisions if d.verdict == "FALSIFIED"
                            and d.worst_case), primary)
        msgs = [f"[{d.kind}] {d.verdict}: {d.message}" for d in self.decisions if d.message]
        if not self.decisions:
            msgs = ["the claim ran no check (an empty claim): call ntk.bound, ntk.identity, "
                    "ntk.rate, ... inside the test"]
        rec: dict[str, Any] = {
            "id": info.id, "theorem": info.theorem, "title": info.title,
            "statement": info.statement, "source": info.source, "kind": info.kind,
            "verdict": verdict, "backend": self.backend.spec,
            "cases": int(sum(d.cases for d in self.decisions)),
            "duration_s": round(time.perf_counter() - self._start, 4),
            "tightness": primary.tightness if primary else {},
            "worst_case": (dict(primary.worst_case, seed=primary.worst_case.get("seed")
                                or self.seed) if primary and primary.worst_case else None),
            "reproduce": self.reproduce, "seed": self.seed,
            "message": "\n".join(msgs),
            "checks": [{"kind": d.kind, "verdict": d.verdict, "message": d.message,
                        "cases": d.cases, "data": d.data} for d in self.decisions],
        }
        if info.known_sup is not None and "known_sup" not in rec["tightness"]:
            rec["tightness"] = dict(rec["tightness"], known_sup=info.known_sup)
        for key in ("rate", "violations"):
            found = next((getattr(d, key) for d in self.decisions if getattr(d, key)), None)
            if found:
                rec[key] = found
        if info.twin_of:
            rec["twin_of"] = info.twin_of
            if info.near:
                rec["near"] = info.near
        if self.extra:
            rec["data"] = dict(self.extra)
        return dec._jsonable(rec)


def _to_backend(backend: Backend, v: Any) -> Any:
    if isinstance(v, (bool, int, np.integer, str)) or v is None:
        return v
    if isinstance(v, (float, np.floating, np.ndarray)):
        return backend.asarray(v)
    return v


def failure_text(rec: Mapping[str, Any]) -> str:
    """The failure message for a record, or '' when the record is acceptable.

    A test sees its own record only: a SKIPPED twin passes here (its claim is
    judged in the run's summary, :func:`ntkproof.engine.verdicts.failing_claims`, which
    accepts it only when its claim was skipped too).
    """
    head = claim_problem(rec, parent_verdict=None)
    return head + "\n" + describe(rec) if head else ""


def describe(rec: Mapping[str, Any]) -> str:
    """Worst case one argument per line, lhs, rhs, ratio, tolerance, seed, reproduce."""
    lines = [f"  {m}" for m in str(rec.get("message", "")).splitlines()]
    wc = rec.get("worst_case")
    if wc:
        lines.append("  worst case:")
        for k, v in (wc.get("params") or {}).items():
            lines.append(f"    {k} = {v}")
        lines.append(f"  lhs = {wc.get('lhs')!r}, rhs = {wc.get('rhs')!r}, "
                     f"ratio = {wc.get('ratio')!r}")
    tight = rec.get("tightness") or {}
    if "max" in tight:
        lines.append(f"  highest ratio seen: {tight['max']!r}"
                     + (f" (known supremum {tight['known_sup']})" if "known_sup" in tight else ""))
    name, _, dtype = str(rec["backend"]).partition(":")
    try:
        t = tolerance_for(name, dtype)
        lines.append(f"  tolerance: rtol {t.rtol:g} on {rec['backend']} ({t.reason})")
    except Exception:  # noqa: BLE001
        pass
    lines.append(f"  seed: claim seed {rec.get('seed')}")
    lines.append(f"  reproduce: {rec['reproduce']}")
    return "\n".join(lines)
