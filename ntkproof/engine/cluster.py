"""Runs on a Dask cluster: claims spread over workers, and a long sweep's points too.

``ntkproof verify --dask ADDRESS`` sends each claim (with its declared twins) to a
worker of a running Dask scheduler (``tcp://host:8786``); ``--dask local:N`` starts a
``LocalCluster`` of N single-threaded worker processes. Inside a claim, the points of
a sweep (width × seed of ``ntk.rate``, or a width with all its seeds for a ``batch``
measure; seeds of ``ntk.separation``) whose check declares ``spread=True`` are
submitted to the cluster as tasks of their own, so one expensive rate claim spreads
over many workers (the claim's task secedes while it waits:
``distributed.worker_client``).

The records come back to this process and go into the same run folder as a local
run's, with the same seeds, hence the same report. A task whose worker dies or
fails is retried (``retries``); after that its claims are recorded as ERROR with the
reason, never lost silently.

Dask and distributed are the optional extra ``dask``; importing this module does not
import them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..backends import get_backend
from ..errors import ClaimTimeout, InvalidArgument, MissingDependency
from .budgets import get_budget
from .claims import matches
from .collect import ClaimCall, load_theorem_file
from .execute import reproduce_command
from .records import RecordWriter, file_origin, new_run_meta, now, write_run_meta, write_selected
from .runner import ClaimFailed, ClaimUndecided, RunContext

__all__ = ["connect", "disconnect", "check_timeout", "dask_meta", "run_calls_on_dask", "map_points_on_cluster",
           "worker_warnings"]

#: How often a claim's task is retried when its worker dies or it fails to run.
RETRIES = 2

#: Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536. Setting it turns
#: off glibc's adaptive mmap threshold, so every array above 128 KiB is a fresh mmap
#: whose pages fault in again: the suite's claims ran 2x slower (a third of it system
#: time) than in a plain process. ``local:N`` starts its workers without it.
TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def _distributed() -> Any:
    try:
        import distributed  # noqa: PLC0415 - optional dependency (the dask extra)
    except ImportError:
        raise MissingDependency("--dask needs dask and distributed: pip install "
                                "'ntkproof[dask]'") from None
    return distributed


def connect(address: str) -> Any:
    """A Dask client: ``local:N`` starts a LocalCluster of N single-threaded worker
    processes; anything else is a scheduler address (``tcp://host:8786``)."""
    distributed = _distributed()
    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise InvalidArgument(f"--dask {address!r}: local:N needs a whole number of "
                                  "workers N >= 1, e.g. local:2")
        import dask  # noqa: PLC0415 - comes with distributed

        with dask.config.set({TRIM_KEY: None}):
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1,
                                               processes=True, dashboard_address=None)
        return distributed.Client(cluster)
    try:
        return distributed.Client(address, timeout="20s")
    except OSError as exc:
        raise InvalidArgument(f"--dask {address!r}: no Dask scheduler answers there "
                              f"({exc})") from None


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def worker_warnings(client: Any) -> list[str]:
    """What in the workers' environment slows the claims down (one line each)."""
    try:
        seen = client.run(_trim_threshold)
    except Exception:  # noqa: BLE001 - a check, never a reason to fail the run
        return []
    slowed = sorted(w for w, v in seen.items() if v is not None)
    if not slowed:
        return []
    return [f"{len(slowed)} of {len(seen)} Dask workers run with MALLOC_TRIM_THRESHOLD_ set "
            "(Dask's nanny default), which makes numpy-heavy claims about 2x slower; start "
            "them with the config 'distributed.nanny.pre-spawn-environ."
            "MALLOC_TRIM_THRESHOLD_: null' (docs/cluster.md)"]


def check_timeout(name: str, value: Any) -> float:
    """``value`` as a finite number of seconds > 0; InvalidArgument naming ``name`` (the
    option or argument it came from) otherwise."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise InvalidArgument(f"{name} must be a number of seconds > 0, got {value!r}")
    return seconds


def dask_meta(client: Any, claim_timeout: float | None = None) -> dict[str, Any]:
    """What run.json says of the cluster a run used: scheduler address, number of
    workers, warnings on their environment, and the claim timeout if one was set."""
    info: dict[str, Any] = dict(client.scheduler_info()) if hasattr(client, "scheduler_info") \
        else {}
    meta: dict[str, Any] = {"scheduler": str(info.get("address", "")),
                            "workers": len(info.get("workers", {})),
                            "warnings": worker_warnings(client)}
    if claim_timeout is not None:
        meta["claim_timeout_s"] = claim_timeout
    return meta


def disconnect(client: Any) -> None:
    """Close the client, and the LocalCluster it started (a scheduler given by address
    stays up)."""
    local = getattr(client, "cluster", None)
    client.close()
    if local is not None:
        local.close()


def _theorem_modules() -> list[Any]:
    """Loaded theorem modules: their functions travel by value (a worker cannot import
    them by name)."""
    return [m for name, m in list(sys.modules.items())
            if name.startswith("ntkproof_theorems.")
            or Path(str(getattr(m, "__file__", "") or "")).parent.name == "theorems"]


def _dumps(obj: Any) -> bytes:
    import cloudpickle  # noqa: PLC0415 - comes with the optional dask extra

    modules = _theorem_modules()
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(obj)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


#: The event topic on which a task says it started running (worker, task key, the claim
#: task it serves), so that the client can time claims (``claim_timeout``).
STARTED = "ntkproof-started"


def _started(claim_key: str | None = None) -> str:
    """Log that this task runs now; return its key ('' outside a worker's task)."""
    try:
        import distributed  # noqa: PLC0415 - comes with the optional dask extra

        worker = distributed.get_worker()
        key = str(worker.get_current_task())
        worker.log_event(STARTED, {"key": key, "worker": worker.address,
                                   "claim": claim_key or key})
    except Exception:  # noqa: BLE001 - timing is a service, never a reason to fail
        return ""
    return key


def _point(payload: bytes, x: Any, seeds: Any, claim_key: str = "") -> Any:
    import cloudpickle  # noqa: PLC0415 - comes with the optional dask extra

    _started(claim_key or None)
    return cloudpickle.loads(payload)(x, seeds)


def map_points_on_cluster(task: Callable[..., Any], points: Sequence[tuple[Any, Any]],
                          deadline: float | None = None) -> list[Any]:
    """``task(x, seeds)`` for each point (a seed, or every seed of one ladder value) as
    tasks of the cluster this code runs on (from inside a worker's task, or from a
    process holding a client); falls back to running here when ``task`` cannot travel
    (its measure's closure holds something unpicklable).

    ``deadline`` (a ``time.monotonic()`` instant; the pytest plugin's
    ``--ntk-claim-timeout``): points not back by then are cancelled, the workers running
    them restarted, and :class:`~ntkproof.errors.ClaimTimeout` raised (the claim's
    ERROR). Inside a worker's task the claim as a whole is timed instead
    (:func:`run_calls_on_dask`'s ``claim_timeout``)."""
    distributed = _distributed()
    try:
        payload = _dumps(task)
    except Exception:  # noqa: BLE001 - an unpicklable closure is measured here
        return [task(x, s) for x, s in points]
    xs, seeds = [p[0] for p in points], [p[1] for p in points]
    try:
        worker = distributed.get_worker()
    except ValueError:  # a client process (the pytest plugin's controller)
        worker = None
    if worker is None:
        if deadline is not None and time.monotonic() >= deadline:
            raise ClaimTimeout(_past_deadline(len(points), None))
        client = distributed.get_client()
        futures = client.map(_point, [payload] * len(points), xs, seeds, pure=False,
                             retries=RETRIES)
        return _gather_by(distributed, client, futures, deadline)
    claim_key = [str(worker.get_current_task())] * len(points)
    with distributed.worker_client() as client:
        return list(client.gather(client.map(
            _point, [payload] * len(points), xs, seeds, claim_key, pure=False,
            retries=RETRIES)))


def _gather_by(distributed: Any, client: Any, futures: list[Any],
               deadline: float | None) -> list[Any]:
    """The futures' results; ClaimTimeout if they are not all done by ``deadline``
    (the unfinished ones are cancelled and the workers running them restarted)."""
    if deadline is not None:
        try:
            distributed.wait(futures, timeout=max(deadline - time.monotonic(), 0.01))
        except (TimeoutError, asyncio.TimeoutError):   # two classes before Python 3.11
            late = {f.key for f in futures if not f.done()}
            workers = sorted(w for w, keys in client.processing().items() if late & set(keys))
            client.cancel(futures, force=True)
            _restart(client, workers)
            raise ClaimTimeout(_past_deadline(len(late), workers)) from None
    return list(client.gather(futures))


def _past_deadline(late: int, workers: Sequence[str] | None) -> str:
    """Why a claim was given up: ``late`` points not back (``workers`` None: not sent)."""
    if workers is None:
        return (f"the claim was past its claim timeout (--ntk-claim-timeout) before its "
                f"sweep's {late} points were sent to the cluster")
    restarted = f"; the workers running them ({', '.join(workers)}) were restarted" \
        if workers else ""
    return (f"the claim ran past its claim timeout (--ntk-claim-timeout) with {late} of its "
            f"sweep's points not back from the cluster{restarted}")


def _restart(client: Any, workers: Sequence[str]) -> None:
    """Restart ``workers`` (those running given-up tasks), so they take new work."""
    if workers:
        try:
            client.restart_workers(list(workers), raise_for_error=False)
        except Exception:  # noqa: BLE001 - a worker that will not restart stays busy
            pass


def _run_remote(file: str, name: str, params: dict[str, Any], config: dict[str, Any]
                ) -> list[dict[str, Any]]:
    """A worker's task: import the theorem file, run one claim call, return its records."""
    _started()
    module = load_theorem_file(file)
    fn = getattr(module, name)
    records: list[dict[str, Any]] = []
    origin = file_origin(file)
    selectors = config["selectors"]
    context = RunContext(
        backend=get_backend(config["backend"]), budget=get_budget(config["budget"]),
        run_seed=config["seed"], on_record=lambda r: records.append(dict(r, provenance=origin)),
        selected=lambda i: matches(i, selectors), map_points=map_points_on_cluster,
        reproduce=lambda i: reproduce_command(i, backend=config["backend"],
                                              budget=config["budget"], seed=config["seed"],
                                              theorems=config["theorems"]))
    try:
        fn(ntk=context, **params)
    except (ClaimFailed, ClaimUndecided):
        pass  # recorded
    return records


def _lost(call: ClaimCall, selectors: Sequence[str], backend: str, exc: BaseException,
          reason: str = "") -> list[dict[str, Any]]:
    """ERROR records for the claims of a task that did not come back (``reason``: why,
    else the retries and the task's exception)."""
    reason = reason or (f"the task did not come back from the cluster after {RETRIES} "
                        f"retries: {type(exc).__name__}: {exc}")
    out: list[dict[str, Any]] = []
    for info, _ in call.spec.members(call.params):
        if not matches(info.id, selectors):
            continue
        out.append({"id": info.id, "theorem": info.theorem, "title": info.title,
                    "statement": info.statement, "source": info.source, "kind": info.kind,
                    "verdict": "ERROR", "backend": backend, "cases": 0, "duration_s": 0.0,
                    "tightness": {}, "worst_case": None, "reproduce": "",
                    "message": reason,
                    "checks": [], **({"twin_of": info.twin_of} if info.twin_of else {})})
    return out


def run_calls_on_dask(calls: Sequence[ClaimCall], run_dir: str | os.PathLike[str], *,
                      client: Any, selectors: Sequence[str] = (), backend: str = "numpy",
                      budget: str = "quick", seed: int = 0, theorems: str | Path = "theorems",
                      command: str = "", claim_timeout: float | None = None,
                      on_record: Callable[[dict[str, Any]], None] | None = None
                      ) -> dict[str, Any]:
    """Like :func:`ntkproof.engine.execute.run_calls`, with every selected claim call a
    task of ``client``'s cluster; returns the run's metadata.

    ``claim_timeout`` (seconds): a claim task running longer than this (counted from when
    this process first sees it start) is given up: its claims are recorded as ERROR with
    the reason, and the workers running it or its sweep's points are restarted, so a
    claim that hangs never holds up the run."""
    distributed = _distributed()
    b, bud = get_backend(backend), get_budget(budget)
    out = Path(run_dir)
    meta = new_run_meta(backend=b.spec, budget=bud.name, seed=seed, command=command)
    meta["dask"] = dask_meta(client, claim_timeout)
    write_run_meta(out, meta)
    chosen = [c for c in calls if any(matches(i, selectors) for i in c.ids)]
    write_selected(out, "main", [i for c in chosen for i in c.ids if matches(i, selectors)])
    writer = RecordWriter(out, "main")
    config = {"backend": b.spec, "budget": bud.name, "seed": seed, "selectors": list(selectors),
              "theorems": str(theorems)}
    futures = {client.submit(_run_remote, c.file, c.name or c.fn.__name__, dict(c.params), config,
                             pure=False, retries=RETRIES): c for c in chosen}
    clock = _ClaimClock(client, claim_timeout)
    complete = False
    try:
        pending = set(futures)
        while pending:
            done, pending = _wait_some(distributed, pending, clock.poll_s)
            records: list[dict[str, Any]] = []
            for future in done:
                try:
                    records += future.result()
                except Exception as exc:  # noqa: BLE001 - a lost task is recorded, not dropped
                    records += _lost(futures[future], selectors, b.spec, exc)
            for future, reason in clock.overdue(pending):
                pending.discard(future)
                records += _lost(futures[future], selectors, b.spec, TimeoutError(), reason)
            for rec in records:
                writer.write(rec)
                if on_record is not None:
                    on_record(rec)
        complete = True
    finally:
        if not complete:
            client.cancel(list(futures))
        meta.update(finished_at=now(), complete=complete)
        write_run_meta(out, meta)
    return meta


def _wait_some(distributed: Any, pending: set[Any], timeout: float | None
               ) -> tuple[set[Any], set[Any]]:
    """The futures done within ``timeout`` seconds (at least one when None), and the rest."""
    try:
        done, rest = distributed.wait(list(pending), timeout=timeout,
                                      return_when="FIRST_COMPLETED")
    except (TimeoutError, asyncio.TimeoutError):   # two classes before Python 3.11
        return set(), pending
    return set(done), set(rest)


class _ClaimClock:
    """Times the claim tasks of a Dask run from the start events they log (``STARTED``)."""

    def __init__(self, client: Any, timeout: float | None) -> None:
        self.client = client
        self.timeout = None if timeout is None else check_timeout("claim_timeout", timeout)
        self.poll_s = None if timeout is None else min(5.0, max(0.2, timeout / 10))
        self.first_seen: dict[str, float] = {}     # claim task key -> when seen running
        self.workers: dict[str, set[str]] = {}     # claim task key -> workers it runs on

    def overdue(self, pending: set[Any]) -> list[tuple[Any, str]]:
        """The pending claim futures past the timeout, with the reason; their tasks are
        cancelled and the workers that run them restarted."""
        if self.timeout is None or not pending:
            return []
        t = time.monotonic()
        for _, msg in self.client.get_events(STARTED):
            if msg["claim"] == msg["key"]:       # the claim's own task, not a point of it
                self.first_seen.setdefault(msg["key"], t)
            self.workers.setdefault(msg["claim"], set()).add(msg["worker"])
        late = [f for f in pending if f.key in self.first_seen
                and t - self.first_seen[f.key] > self.timeout]
        if not late:
            return []
        workers = sorted(set().union(*(self.workers.get(f.key, set()) for f in late)))
        self.client.cancel(late, force=True)
        _restart(self.client, workers)
        return [(f, f"ran longer than the claim timeout ({self.timeout:g} s) on the "
                    f"cluster; given up, and its workers ({', '.join(workers)}) restarted")
                for f in late]
