"""The state of one pytest run with ntkproof: settings, records, report.

One :class:`NtkSession` per pytest process. On the controlling process it
writes ``run.json`` at the start and the report at the end; on every process
(xdist workers included) it hands each claim a :class:`~ntkproof.engine.runner.ClaimRun`
whose records go to ``records/<worker>.jsonl`` in the run directory.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ..backends import get_backend
from ..engine import cluster
from ..engine.budgets import get_budget
from ..engine.claims import ClaimInfo, claim_spec, matches, unmatched_selectors
from ..engine.records import (
    RecordWriter,
    file_origin,
    new_run_meta,
    now,
    read_records,
    write_run_meta,
    write_selected,
)
from ..engine.runner import Measured, RunContext, describe
from ..engine.verdicts import failing_claims
from ..errors import InvalidArgument, MissingDependency, UnknownName
from ..report import write_report
from ..report.format import tightness_text

__all__ = ["NtkSession", "claim_info_of", "members_of"]


def _params(item: Any) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec else {}


def members_of(item: Any) -> list[ClaimInfo]:
    """The resolved claims a pytest item runs: its claim and the twins declared with it
    (parametrize values filled in); empty for a test that is not a claim."""
    spec = claim_spec(getattr(item, "obj", None))
    if spec is None:
        return []
    return [info for info, _ in spec.members(_params(item))]


def claim_info_of(item: Any) -> ClaimInfo | None:
    """The resolved claim of a pytest item (None for a test that is not a claim)."""
    members = members_of(item)
    return members[0] if members else None


class NtkSession:
    """Settings and records of one run."""

    def __init__(self, *, backend: str, budget: str, seed: int, report_dir: str | None,
                 selectors: Sequence[str], list_file: str | None, progress: bool,
                 worker: str | None, records_dir: str | None) -> None:
        self.backend_spec, self.budget_name, self.seed = backend, budget, seed
        self.report_dir = Path(report_dir) if report_dir else None
        self.selectors, self.list_file, self.show_progress = list(selectors), list_file, progress
        self.worker = worker
        self._tmp: str | None = None
        if records_dir:
            self.run_dir = Path(records_dir)
        elif self.report_dir:
            self.run_dir = self.report_dir
        else:
            self._tmp = tempfile.mkdtemp(prefix="ntkproof-")
            self.run_dir = Path(self._tmp)
        self.writer = RecordWriter(self.run_dir, worker or "main")
        self.records: list[dict[str, Any]] = []
        self.meta: dict[str, Any] | None = None
        self.problems: list[str] = []
        self.sweeps: dict[Any, Measured] = {}  # measured sweeps shared by claims and twins
        self.client: Any = None  # a Dask client (--ntk-dask)
        self.map_points: Any = None
        self.claim_timeout: float | None = None  # --ntk-claim-timeout (seconds)
        if self.is_controller:
            # a fresh list of selected claims per run (workers write theirs later)
            shutil.rmtree(self.run_dir / "selected", ignore_errors=True)

    def use_dask(self, config: pytest.Config, address: str | None,
                 claim_timeout: float | None = None) -> None:
        """``--ntk-dask``: the claims run here, their sweeps' points on the cluster;
        ``--ntk-claim-timeout``: how long a claim may wait for them (seconds from its
        start)."""
        if claim_timeout is not None:
            if not address:
                raise pytest.UsageError("ntkproof: --ntk-claim-timeout needs --ntk-dask (it "
                                        "gives up sweep points that hang on the cluster; for a "
                                        "claim that hangs in pytest's process use "
                                        "pytest-timeout)")
            try:
                claim_timeout = cluster.check_timeout("--ntk-claim-timeout", claim_timeout)
            except InvalidArgument as exc:
                raise pytest.UsageError(f"ntkproof: {exc}") from None
        if not address or not self.is_controller:
            return
        if getattr(config.option, "numprocesses", None):
            raise pytest.UsageError("ntkproof: --ntk-dask and -n (pytest-xdist) do not combine; "
                                    "the cluster's workers are the parallel jobs")
        try:
            self.client = cluster.connect(address)
        except (MissingDependency, InvalidArgument) as exc:
            raise pytest.UsageError(f"ntkproof: {exc}") from None
        self.map_points, self.claim_timeout = cluster.map_points_on_cluster, claim_timeout

    @classmethod
    def from_config(cls, config: pytest.Config) -> NtkSession:
        opt = config.option
        spec = opt.ntk_backend or os.environ.get("NTKPROOF_BACKEND") or "numpy"
        try:
            backend = get_backend(spec)
            budget = get_budget(opt.ntk_budget)
        except (UnknownName, MissingDependency, ValueError) as exc:
            raise pytest.UsageError(f"ntkproof: {exc}") from None
        workerinput = getattr(config, "workerinput", None)
        session = cls(backend=backend.spec, budget=budget.name, seed=int(opt.ntk_seed),
                      report_dir=opt.ntk_report, selectors=opt.ntk_select,
                      list_file=opt.ntk_list, progress=opt.ntk_progress,
                      worker=workerinput["workerid"] if workerinput else None,
                      records_dir=workerinput.get("ntk_records") if workerinput else None)
        session.use_dask(config, getattr(opt, "ntk_dask", None),
                         getattr(opt, "ntk_claim_timeout", None))
        return session

    @property
    def is_controller(self) -> bool:
        return self.worker is None

    # -- collection ----------------------------------------------------------
    def select(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.selectors:
            return
        ids = [info.id for item in items for info in members_of(item)]
        unmatched = unmatched_selectors(ids, self.selectors)
        if unmatched and not config.option.collectonly:
            raise pytest.UsageError(unmatched[0])
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            chosen = any(matches(info.id, self.selectors) for info in members_of(item))
            (keep if chosen else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def write_list(self, config: pytest.Config, items: Sequence[pytest.Item]) -> None:
        """The collected claims: into the --ntk-list file (``ntkproof list``), and, for
        a run, into ``selected/`` of the run folder (every process writes its own)."""
        infos = [(info, item) for item in items for info in members_of(item)
                 if self.is_selected(info.id)]
        if not config.option.collectonly:
            write_selected(self.run_dir, self.worker or "main", [i.id for i, _ in infos])
        if not self.list_file or not self.is_controller:
            return
        rows = [dict(info.to_dict(), file=str(item.path)) for info, item in infos]
        Path(self.list_file).write_text(json.dumps(rows, indent=2), encoding="utf-8")

    def is_selected(self, claim_id: str) -> bool:
        return matches(claim_id, self.selectors)

    def collection_error(self, where: str) -> None:
        self.problems.append(f"{where} could not be collected (see pytest's output), so its "
                             "claims did not run")

    # -- running ---------------------------------------------------------------
    def start(self, config: pytest.Config) -> None:
        if not self.is_controller:
            return
        command = "pytest " + " ".join(shlex.quote(a) for a in config.invocation_params.args)
        if os.environ.get("NTKPROOF_COMMAND"):
            command = os.environ["NTKPROOF_COMMAND"]
        self.meta = new_run_meta(backend=self.backend_spec, budget=self.budget_name,
                                 seed=self.seed, command=command)
        if self.client is not None:
            self.meta["dask"] = cluster.dask_meta(self.client, self.claim_timeout)
        write_run_meta(self.run_dir, self.meta)

    def reproduce(self, claim_id: str, item: Any) -> str:
        cmd = (f"ntkproof verify {claim_id} --backend {self.backend_spec} "
               f"--budget {self.budget_name} --seed {self.seed}")
        folder = Path(item.path).parent
        try:
            rel = folder.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            rel = folder
        if str(rel) != "theorems":
            cmd += f" --theorems {shlex.quote(str(rel))}"
        return cmd

    def context(self, item: Any) -> RunContext:
        """The engine's run context for one item (its records go to this run's files
        and to the item's report, for the progress lines)."""
        origin = file_origin(item.path)

        def on_record(rec: dict[str, Any]) -> None:
            rec["provenance"] = dict(origin)
            self.writer.write(rec)
            self.records.append(rec)
            item.user_properties.append(("ntk_record", json.dumps(
                {k: rec.get(k) for k in ("id", "verdict", "kind", "tightness", "rate",
                                         "duration_s", "twin_of", "violations")})))

        return RunContext(backend=get_backend(self.backend_spec),
                          budget=get_budget(self.budget_name), run_seed=self.seed,
                          reproduce=lambda claim_id: self.reproduce(claim_id, item),
                          on_record=on_record, selected=self.is_selected, sweeps=self.sweeps,
                          map_points=self._map_points())

    def _map_points(self) -> Any:
        """How a claim starting now measures its sweeps: on the cluster (by a deadline
        ``claim_timeout`` seconds from now, if set) or, without ``--ntk-dask``, here."""
        if self.map_points is None or self.claim_timeout is None:
            return self.map_points
        return functools.partial(self.map_points,
                                 deadline=time.monotonic() + self.claim_timeout)

    def progress(self, report: pytest.TestReport) -> None:
        if not self.show_progress or not self.is_controller or report.when != "call" and not (
                report.when == "setup" and report.skipped):
            return
        for key, value in report.user_properties:
            if key == "ntk_record":
                rec = json.loads(str(value))
                rec.setdefault("checks", [])
                text = tightness_text(rec)
                twin = "  (twin: rejected)" if rec.get("twin_of") and rec[
                    "verdict"] == "FALSIFIED" else ""
                sys.stdout.write(f"  {rec['verdict']:<12} {rec['id']:<48} {text}"
                                 f"  [{rec['duration_s']:.2f}s]{twin}\n")
                sys.stdout.flush()

    # -- end of run -----------------------------------------------------------
    def finish(self, config: pytest.Config, exitstatus: int) -> None:
        if not self.is_controller or self.meta is None:
            return
        interrupted = exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
        self.meta.update(finished_at=now(), complete=not interrupted and not self.problems,
                         exitstatus=int(exitstatus))
        if self.problems:
            self.meta["problems"] = list(self.problems)
        write_run_meta(self.run_dir, self.meta)
        if self.report_dir:
            write_report(self.run_dir)

    def all_records(self) -> list[dict[str, Any]]:
        latest: dict[str, dict[str, Any]] = {}
        for rec in read_records(self.run_dir):
            latest[rec["id"]] = rec
        return list(latest.values())

    def terminal_summary(self, tr: Any) -> None:
        if not self.is_controller:
            return
        records = self.all_records()
        if not records:
            return
        tr.section("ntkproof claims by verdict")
        order = ["FALSIFIED", "ERROR", "INCONCLUSIVE", "SKIPPED", "PROVED", "CERTIFIED", "HOLDS"]
        for verdict in order:
            group = [r for r in records if r["verdict"] == verdict]
            if not group:
                continue
            tr.write_line(f"{verdict} ({len(group)})")
            for r in sorted(group, key=lambda r: r["id"]):
                twin = ""
                if r.get("twin_of"):
                    twin = {"FALSIFIED": "  [falsified twin: rejected as expected]",
                            "SKIPPED": "  [falsified twin: skipped]"}.get(
                                verdict, "  [falsified twin NOT rejected]")
                tr.write_line(f"  {r['id']:<50} {tightness_text(r)}{twin}")
        for bad in failing_claims(records):
            tr.write_line("")
            tr.write_line(f"{bad['id']}: {bad['verdict']}")
            tr.write_line(describe(bad))
        if self.report_dir:
            tr.write_line(f"\nreport written to {self.report_dir}/report.{{json,md,html}}")
            report_file = self.report_dir / "report.json"
            if report_file.exists():
                tr.write_line(json.loads(report_file.read_text())["summary"]["headline"])

    def cleanup(self) -> None:
        if self.client is not None:
            cluster.disconnect(self.client)
            self.client = None
        if self._tmp and self.is_controller:
            shutil.rmtree(self._tmp, ignore_errors=True)
