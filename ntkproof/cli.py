"""The ``ntkproof`` command line: list, verify, report, diff.

``ntkproof verify`` runs the theorem files through pytest with the plugin and
writes ``report.json``, ``report.md`` and ``report.html`` into ``--out``
(default ``reports/latest``). ``ntkproof report --merge A B --out M`` merges
runs into one report with a claim × backend matrix; ``ntkproof diff OLD NEW``
exits 1 on a verdict regression.

Every argument is checked before any work starts; a bad one is one line on
stderr and exit status 4. The exit statuses (the README has the same table):

====  ======================================================================
0     PASSED: the run is complete, every selected claim recorded, nothing failed
1     FAILED: a claim is FALSIFIED or ERROR, or a falsified twin was not rejected
      (``diff``: a verdict regression)
2     INCOMPLETE: interrupted (Ctrl-C, SIGTERM) or selected claims never recorded;
      the partial report is written
3     internal error: pytest crashed, a theorem file could not be collected, or a
      bug in ntkproof (the message says which)
4     usage error: a bad argument, a selector that matches no claim, a damaged or
      foreign input file
5     nothing to verify: the theorem folder declares no claim
====  ======================================================================
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .backends import get_backend
from .engine import cluster
from .engine.claims import matches, unmatched_selectors
from .engine.collect import collect_calls
from .errors import InvalidArgument, MissingDependency, UnknownName
from .plugin import invoke
from .report import write_report
from .report.diff import diff_paths, format_changes
from .report.format import expectation, result_line, tightness_text
from .report.merge import write_merged
from .report.update import update_run

__all__ = ["main", "collect_claims", "EXIT_CODES"]

#: Exit status by outcome (see the module docstring).
EXIT_CODES = {"PASSED": 0, "FAILED": 1, "INCOMPLETE": 2, "INTERNAL": 3, "USAGE": 4, "EMPTY": 5}


class UsageProblem(Exception):
    """A bad argument or input: printed as one line, exit status 4."""


class InternalProblem(Exception):
    """pytest crashed or a theorem file could not be collected: exit status 3."""


class _Parser(argparse.ArgumentParser):
    """argparse with ntkproof's exit status for usage errors (4, not argparse's 2)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise UsageProblem(f"{self.prog}: {message}")


def _count(name: str, least: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be a whole number >= {least}, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"{name} must be >= {least}, got {value}")
        return value
    return parse


def _seconds(text: str) -> float:
    try:
        return cluster.check_timeout("--claim-timeout", text)
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:
        raise argparse.ArgumentTypeError(
            f"--threshold must be a relative change >= 0 (0.05 = 5%), got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="ntkproof",
        description="Verify NTK theorems: symbolic derivations plus randomized numeric checks, "
                    "with a report of verdicts and tightness.")
    p.add_argument("--version", action="version", version=f"ntkproof {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    ls = sub.add_parser("list", help="list theorems and claim ids with statements and sources")
    ls.add_argument("selectors", nargs="*", metavar="SELECTOR")
    ls.add_argument("--theorems", default="theorems", metavar="DIR",
                    help="folder of theorem files (default: ./theorems)")
    v = sub.add_parser("verify", help="run claims and write a report",
                       description="Run the selected claims (all by default) and write "
                                   "report.json/.md/.html. Exit status: 0 passed, 1 a claim "
                                   "failed, 2 incomplete (interrupted), 3 internal error, "
                                   "4 usage error, 5 no claim to verify.")
    v.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="claim id (arccos.order0), id prefix (arccos) or glob; none = all")
    v.add_argument("--backend", default=None,
                   help="numpy (default), torch, torch:float32, mpmath, mpmath:dps80")
    v.add_argument("--budget", default="quick", choices=["quick", "standard", "thorough"])
    v.add_argument("--seed", type=_count("--seed", 0), default=0,
                   help="run seed, a whole number >= 0 (default 0)")
    v.add_argument("--out", default="reports/latest", metavar="DIR",
                   help="report folder (default: reports/latest)")
    v.add_argument("--jobs", "-j", type=_count("--jobs", 1), default=1, metavar="N",
                   help="parallel pytest-xdist workers (default 1); each gets cores/N BLAS and "
                        "OpenMP threads unless OMP_NUM_THREADS etc. are set")
    v.add_argument("--theorems", default="theorems", metavar="DIR",
                   help="folder of theorem files (default: ./theorems)")
    v.add_argument("--dask", metavar="ADDRESS",
                   help="run the claims on a Dask cluster: a scheduler address "
                        "(tcp://host:8786) or local:N for a local cluster of N workers; "
                        "needs the dask extra")
    v.add_argument("--claim-timeout", type=_seconds, metavar="SECONDS",
                   help="with --dask: give up a claim (and its twins) that runs longer than "
                        "this, record it as ERROR and restart the workers it ran on")
    r = sub.add_parser("report", help="re-render report.json/.md/.html from stored records, "
                                      "or merge runs (--merge)",
                       description="ntkproof report DIR re-renders a run (or merged report) "
                                   "folder; ntkproof report --merge DIR DIR ... --out DIR merges "
                                   "runs of several backends into one report with a claim x "
                                   "backend matrix.")
    r.add_argument("dir", metavar="DIR", nargs="?", help="run folder to re-render")
    r.add_argument("--update", metavar="RUN", help="run folder to update with the claims of "
                   "--from (same backend, budget, seed)")
    r.add_argument("--from", dest="source", metavar="RUN",
                   help="with --update: the run whose claims replace or join RUN's")
    r.add_argument("--keep-declared", metavar="DIR",
                   help="with --update: retire the claims the theorem files in DIR no longer "
                        "declare")
    r.add_argument("--merge", nargs="+", metavar="DIR",
                   help="run folders to merge into one report with a claim x backend matrix")
    r.add_argument("--out", metavar="DIR", help="folder of the merged report (with --merge)")
    d = sub.add_parser("diff", help="claims whose verdict, tightness or rate changed; "
                                    "exit 1 on a verdict regression",
                       description="List claims whose verdict changed, or whose tightness (max) "
                                   "or fitted rate moved by more than --threshold (relative). "
                                   "Exit 1 on a verdict regression: a passing claim no longer "
                                   "passing, a claim becoming FALSIFIED or ERROR, or a falsified "
                                   "twin no longer FALSIFIED; else 0.")
    d.add_argument("old", metavar="OLD", help="run folder, merged report folder or report.json")
    d.add_argument("new", metavar="NEW", help="run folder, merged report folder or report.json")
    d.add_argument("--threshold", type=_fraction, default=0.05, metavar="REL",
                   help="relative change of tightness (max) or fitted rate worth listing "
                        "(default 0.05)")
    return p


def _theorems_dir(path: str) -> Path:
    d = Path(path)
    if not d.is_dir():
        raise UsageProblem(
            f"ntkproof: no theorem folder at {d.resolve()}; run from the project root or pass "
            "--theorems DIR")
    return d


def collect_claims(theorems: str | Path = "theorems",
                   selectors: Sequence[str] = ()) -> list[dict]:
    """The claims the theorem files in ``theorems`` declare (id, kind, title, source,
    twin_of, ...), as ``ntkproof list`` prints them; collection only, nothing runs.

    Raises :class:`InternalProblem` with pytest's output when the files cannot be
    collected.
    """
    try:
        return invoke.collect(_theorems_dir(str(theorems)), selectors)
    except invoke.CollectionFailed as exc:
        raise InternalProblem(str(exc)) from None


def _check_selectors(theorems: Path, selectors: Sequence[str]) -> list[dict]:
    """The claims of ``theorems``; a selector that matches none is a usage error."""
    rows = collect_claims(theorems)
    problems = unmatched_selectors([r["id"] for r in rows], selectors)
    if problems:
        raise UsageProblem("ntkproof: " + "; ".join(problems))
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    rows = [r for r in _check_selectors(_theorems_dir(args.theorems), args.selectors)
            if matches(r["id"], args.selectors)]
    theorem = None
    for row in rows:
        if row["id"].split(".")[0] != theorem:
            theorem = row["id"].split(".")[0]
            print(f"\n{theorem}  ({row['source']})")
        twin = f"  [falsified twin of {row['twin_of']}]" if row.get("twin_of") else ""
        print(f"  {row['id']:<48} {row['kind']:<20} {row['title']}{twin}")
    print(f"\n{len(rows)} claims")
    return 0


#: Thread-count variables of the BLAS/OpenMP runtimes numpy, scipy and torch use.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _share_cores(jobs: int) -> dict[str, str | None]:
    """Give each of ``jobs`` workers ``cores // jobs`` BLAS/OpenMP threads.

    The xdist workers inherit the environment; without a limit every worker starts
    one thread per core, and on 2 cores two workers run 4 spinning threads. Variables
    the user has set are left alone. Returns the previous values, for
    :func:`_restore_env`.
    """
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    previous = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, threads)
    return previous


def _restore_env(previous: dict[str, str | None]) -> None:
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _writable_folder(path: str, flag: str) -> Path:
    """``path`` as a folder this process can write into (created if needed)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"ntkproof: {flag} {path} is an existing file; give a folder "
                           "for the report")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageProblem(f"ntkproof: {flag} {path} cannot be created "
                           f"({exc.strerror or exc}); give a folder you can write to") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageProblem(f"ntkproof: {flag} {path} is not writable; give a folder you can "
                           "write to")
    return out


def _check_backend(spec: str | None) -> None:
    try:
        get_backend(spec or os.environ.get("NTKPROOF_BACKEND") or "numpy")
    except (UnknownName, MissingDependency, ValueError) as exc:
        raise UsageProblem(f"ntkproof: --backend: {exc}") from None


def _check_jobs(jobs: int) -> None:
    # found, not imported: imported before pytest starts, pytest warns that it cannot
    # rewrite xdist's asserts ("Module already imported so cannot be rewritten")
    if jobs > 1 and not _has_plugin("xdist"):
        raise UsageProblem(
            f"ntkproof: --jobs {jobs} needs pytest-xdist, which is not installed; "
            "pip install 'ntkproof[parallel]', or run without --jobs")


def _clear_run_files(out: Path) -> None:
    for name in ("records", "selected", "report.json", "report.md", "report.html",
                 "run.json"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def cmd_verify(args: argparse.Namespace) -> int:
    d = _theorems_dir(args.theorems)
    if args.dask:
        return _verify_on_dask(args, d)
    if args.claim_timeout is not None:
        raise UsageProblem("ntkproof: --claim-timeout needs --dask (a pytest-xdist run has no "
                           "per-claim time limit)")
    _check_jobs(args.jobs)
    _check_backend(args.backend)
    out = _writable_folder(args.out, "--out")
    claims = _check_selectors(d, args.selectors)
    if not claims:
        print(f"ntkproof: {d}/ declares no claim: nothing to verify", file=sys.stderr)
        return EXIT_CODES["EMPTY"]
    _clear_run_files(out)
    pargs = [str(d), "-p", "no:cacheprovider", "-q", "--no-header", "-rN",
             "--import-mode=importlib",
             f"--ntk-report={out}", f"--ntk-budget={args.budget}", f"--ntk-seed={args.seed}",
             "--ntk-progress", "-W", "ignore::pytest.PytestUnraisableExceptionWarning",
             # this process imported ntkproof (the plugin's package) before pytest starts,
             # as it must: nothing of ntkproof relies on pytest's assert rewriting
             "-W", "ignore:Module already imported so cannot be rewritten; ntkproof"
                   ":pytest.PytestAssertRewriteWarning"]
    if args.backend:
        pargs.append(f"--ntk-backend={args.backend}")
    for s in args.selectors:
        pargs += ["--ntk-select", s]
    if args.jobs > 1:
        # a claim and a twin written apart share a group, hence a worker and its sweeps
        pargs += ["-n", str(args.jobs), "--dist", "loadgroup"]
    # theorem files time nothing; pytest-benchmark (a test extra) would only warn
    # that xdist disables it
    if _has_plugin("pytest_benchmark"):
        pargs += ["-p", "no:benchmark"]
    pargs += invoke.plugin_args()
    os.environ["NTKPROOF_COMMAND"] = "ntkproof " + " ".join(shlex.quote(a) for a in args.argv)
    print(f"ntkproof: verifying {' '.join(args.selectors) or 'all claims'} from {d}/ "
          f"(budget {args.budget}, seed {args.seed}) -> {out}/", flush=True)
    env_before = _share_cores(args.jobs) if args.jobs > 1 else {}
    try:
        code = invoke.run(pargs, theorems=d)
    finally:
        _restore_env(env_before)
    report_path = out / "report.json"
    if not report_path.exists():
        print(f"ntkproof: pytest stopped before the run started (pytest exit code {code}); "
              "no report was written (see pytest's output above)", file=sys.stderr)
        return EXIT_CODES["INTERNAL"]
    report = json.loads(report_path.read_text())
    _print_summary(report, out)
    return _exit_code(report, code)


def _verify_on_dask(args: argparse.Namespace, d: Path) -> int:
    """``verify --dask``: the engine runs the claims on a Dask cluster (no pytest)."""
    if args.jobs > 1:
        raise UsageProblem("ntkproof: --dask and --jobs do not combine: the cluster's workers "
                           "are the parallel jobs (use --dask local:N)")
    _check_backend(args.backend)
    out = _writable_folder(args.out, "--out")
    claims = _check_selectors(d, args.selectors)
    if not claims:
        print(f"ntkproof: {d}/ declares no claim: nothing to verify", file=sys.stderr)
        return EXIT_CODES["EMPTY"]
    backend = get_backend(args.backend or os.environ.get("NTKPROOF_BACKEND") or "numpy").spec
    local = args.dask.startswith("local:")
    env_before = _share_cores(max(1, int(args.dask.split(":")[1]))) \
        if local and args.dask.split(":")[1].isdigit() else {}
    try:
        client = cluster.connect(args.dask)
    except MissingDependency as exc:
        raise UsageProblem(f"ntkproof: {exc}") from None
    _clear_run_files(out)
    for warning in cluster.worker_warnings(client):
        print(f"ntkproof: warning: {warning}", file=sys.stderr)
    command = "ntkproof " + " ".join(shlex.quote(a) for a in args.argv)
    print(f"ntkproof: verifying {' '.join(args.selectors) or 'all claims'} from {d}/ on Dask "
          f"({args.dask}; budget {args.budget}, seed {args.seed}) -> {out}/", flush=True)
    try:
        cluster.run_calls_on_dask(collect_calls(d), out, client=client,
                                  selectors=args.selectors, backend=backend,
                                  budget=args.budget, seed=args.seed, theorems=args.theorems,
                                  command=command, claim_timeout=args.claim_timeout,
                                  on_record=_progress_line)
    except KeyboardInterrupt:
        print("ntkproof: interrupted; the report is partial", file=sys.stderr)
    finally:
        cluster.disconnect(client)
        _restore_env(env_before)
    report = write_report(out)
    _print_summary(report, out)
    return _exit_code(report)


def _progress_line(rec: dict) -> None:
    twin = "  (twin: rejected)" if rec.get("twin_of") and rec["verdict"] == "FALSIFIED" else ""
    print(f"  {rec['verdict']:<12} {rec['id']:<48} {tightness_text(rec)}  "
          f"[{rec.get('duration_s', 0):.2f}s]{twin}", flush=True)


def _has_plugin(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _exit_code(report: dict, pytest_code: int | None = None) -> int:
    """The exit status of a report's run (see the module docstring)."""
    summary = report["summary"]
    status = summary.get("status") or ("PASSED" if summary.get("passed") else "FAILED")
    if status == "FAILED":
        return EXIT_CODES["FAILED"]
    if pytest_code == 3 or any("could not be collected" in p
                               for p in summary.get("problems", [])):
        return EXIT_CODES["INTERNAL"]
    return EXIT_CODES[status]


def _print_summary(report: dict, out: Path) -> None:
    width = max([len(c["id"]) for c in report["claims"]] + [48]) + 2
    print("\n" + "claim".ljust(width) + "verdict".ljust(14) + "tightness / rate")
    for c in report["claims"]:
        extra = f"  ({expectation(c)})" if c.get("twin_of") else ""
        extra += f"  [{c['run_label']}]" if c.get("run_label") else ""
        print(f"{c['id']:<{width}}{c['verdict']:<14}{tightness_text(c)}{extra}")
    s = report["summary"]
    print("\n" + ", ".join(f"{k}: {v}" for k, v in s["by_verdict"].items())
          + f"  ({s['total']} claims)")
    if s.get("failures"):
        print("failing: " + "; ".join(s["failures"]))
    if s.get("missing"):
        print(f"never recorded ({len(s['missing'])}): " + ", ".join(s["missing"][:20])
              + (" ..." if len(s["missing"]) > 20 else ""))
    if not report["run"].get("complete", True):
        print("note: the run did not complete; the report is partial (records of finished "
              "claims are kept; re-run to finish)")
    print(f"report: {out}/report.json, {out}/report.md, {out}/report.html")
    print(result_line(report))


def cmd_report(args: argparse.Namespace) -> int:
    if args.update or args.source:
        return _update(args)
    if bool(args.merge) == bool(args.dir) or bool(args.merge) != bool(args.out):
        raise UsageProblem("ntkproof: use 'ntkproof report DIR' or 'ntkproof report --merge "
                           "DIR DIR ... --out DIR'")
    command = "ntkproof " + " ".join(shlex.quote(a) for a in args.argv)
    if args.merge:
        _writable_folder(args.out, "--out")
        report = write_merged(args.merge, args.out, command=command)
    else:
        report = write_report(args.dir)
    _print_summary(report, Path(args.out or args.dir))
    return _exit_code(report)


def _update(args: argparse.Namespace) -> int:
    if not (args.update and args.source) or args.merge or args.dir:
        raise UsageProblem("ntkproof: use 'ntkproof report --update RUN --from RUN "
                           "[--keep-declared DIR]'")
    keep = None
    if args.keep_declared:
        keep = [r["id"] for r in collect_claims(args.keep_declared)]
    entry = update_run(args.update, args.source, keep=keep)
    print(f"ntkproof: {args.update} updated from {args.source}: {len(entry['updated'])} "
          f"claims replaced, {len(entry['added'])} added, {len(entry['retired'])} retired")
    report = write_report(args.update)
    _print_summary(report, Path(args.update))
    return _exit_code(report)


def cmd_diff(args: argparse.Namespace) -> int:
    changes = diff_paths(args.old, args.new, threshold=args.threshold)
    print(f"ntkproof diff {args.old} -> {args.new} (threshold {100 * args.threshold:g}%)")
    print(format_changes(changes, args.threshold))
    return EXIT_CODES["FAILED"] if any(c.regression for c in changes) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ntkproof command; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
        args.argv = argv
        if args.command is None:
            _parser().print_help()
            return EXIT_CODES["USAGE"]
        handler = {"list": cmd_list, "verify": cmd_verify, "report": cmd_report,
                   "diff": cmd_diff}[args.command]
        return handler(args)
    except UsageProblem as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CODES["USAGE"]
    except InvalidArgument as exc:  # damaged or foreign files, bad values
        print(f"ntkproof: {exc}", file=sys.stderr)
        return EXIT_CODES["USAGE"]
    except InternalProblem as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CODES["INTERNAL"]
    except BrokenPipeError:  # output piped into a reader that stopped (| head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0
    except KeyboardInterrupt:
        print("ntkproof: interrupted", file=sys.stderr)
        return EXIT_CODES["INCOMPLETE"]
    except Exception as exc:  # noqa: BLE001 - a bug: show it, and say it is one
        traceback.print_exc()
        print(f"ntkproof: internal error ({type(exc).__name__}: {exc}); this is a bug in "
              "ntkproof, please report it with the traceback above", file=sys.stderr)
        return EXIT_CODES["INTERNAL"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
