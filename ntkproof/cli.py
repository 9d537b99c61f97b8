"""The ``ntkproof`` command line: list, verify, report, diff.

``ntkproof verify`` runs the theorem files through pytest with the plugin and
writes ``report.json``, ``report.md`` and ``report.html`` into ``--out``
(default ``reports/latest``). Exit status 0 iff no claim other than a
falsified twin is FALSIFIED or ERROR and every falsified twin is FALSIFIED.
``ntkproof report --merge A B --out M`` merges runs into one report with a
claim × backend matrix; ``ntkproof diff OLD NEW`` exits 1 on a verdict
regression.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["main", "collect_claims"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ntkproof",
        description="Verify NTK theorems: symbolic derivations plus randomized numeric checks, "
                    "with a report of verdicts and tightness.")
    p.add_argument("--version", action="version", version=f"ntkproof {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    ls = sub.add_parser("list", help="list theorems and claim ids with statements and sources")
    ls.add_argument("selectors", nargs="*", metavar="SELECTOR")
    ls.add_argument("--theorems", default="theorems", metavar="DIR",
                    help="folder of theorem files (default: ./theorems)")
    v = sub.add_parser("verify", help="run claims and write a report")
    v.add_argument("selectors", nargs="*", metavar="SELECTOR",
                   help="claim id (arccos.order0), id prefix (arccos) or glob; none = all")
    v.add_argument("--backend", default=None,
                   help="numpy (default), torch, torch:float32, mpmath, mpmath:dps80")
    v.add_argument("--budget", default="quick", choices=["quick", "standard", "thorough"])
    v.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    v.add_argument("--out", default="reports/latest", metavar="DIR",
                   help="report folder (default: reports/latest)")
    v.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="parallel pytest-xdist workers (default 1); each gets cores/N BLAS and "
                        "OpenMP threads unless OMP_NUM_THREADS etc. are set")
    v.add_argument("--theorems", default="theorems", metavar="DIR",
                   help="folder of theorem files (default: ./theorems)")
    r = sub.add_parser("report", help="re-render report.json/.md/.html from stored records, "
                                      "or merge runs (--merge)",
                       description="ntkproof report DIR re-renders a run (or merged report) "
                                   "folder; ntkproof report --merge DIR DIR ... --out DIR merges "
                                   "runs of several backends into one report with a claim x "
                                   "backend matrix.")
    r.add_argument("dir", metavar="DIR", nargs="?", help="run folder to re-render")
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
    d.add_argument("--threshold", type=float, default=0.05, metavar="REL",
                   help="relative change of tightness (max) or fitted rate worth listing "
                        "(default 0.05)")
    return p


def _version() -> str:
    from . import __version__

    return __version__


def _plugin_args() -> list[str]:
    """Load the plugin explicitly when the entry point is not installed."""
    eps = metadata.entry_points(group="pytest11")
    if any(ep.value.startswith("ntkproof.plugin") for ep in eps):
        return []
    return ["-p", "ntkproof.plugin"]


def _theorems_dir(path: str) -> Path:
    d = Path(path)
    if not d.is_dir():
        raise SystemExit(
            f"ntkproof: no theorem folder at {d.resolve()}; run from the project root or pass "
            "--theorems DIR")
    return d


def collect_claims(theorems: str | Path = "theorems",
                   selectors: Sequence[str] = ()) -> list[dict]:
    """The claims the theorem files in ``theorems`` declare (id, kind, title, source,
    twin_of, ...), as ``ntkproof list`` prints them; collection only, nothing runs.

    Raises SystemExit with pytest's output when the files cannot be collected.
    """
    import contextlib
    import io

    import pytest

    d = _theorems_dir(str(theorems))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "claims.json"
        sel = [a for s in selectors for a in ("--ntk-select", s)]
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured):
            code = pytest.main([str(d), "--collect-only", "-qq", "-p", "no:cacheprovider",
                                "--import-mode=importlib",
                                f"--ntk-list={out}", *sel, *_plugin_args()], plugins=[])
        if not out.exists() or code not in (0, 5):
            raise SystemExit(f"ntkproof: collecting {d} failed (pytest exit {int(code)}):\n"
                             f"{captured.getvalue()}")
        return list(json.loads(out.read_text()))


def cmd_list(args: argparse.Namespace) -> int:
    rows = collect_claims(args.theorems, args.selectors)
    theorem = None
    for row in rows:
        if row["id"].split(".")[0] != theorem:
            theorem = row["id"].split(".")[0]
            print(f"\n{theorem}  ({row['source']})")
        twin = f"  [falsified twin of {row['twin_of']}]" if row.get("twin_of") else ""
        print(f"  {row['id']:<48} {row['kind']:<20} {row['title']}{twin}")
    print(f"\n{len(rows)} claims")
    return 0


def _run_interruptible(pargs: list[str]) -> Any:
    """``pytest.main(pargs)`` with SIGTERM handled like Ctrl-C.

    A terminated run (a CI time limit, ``kill``) then ends the way an interrupted
    one does: pytest stops its xdist workers and the plugin writes the partial
    report from the records finished so far, instead of the process dying with
    its workers orphaned and no report.json.
    """
    import signal

    import pytest

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"ntkproof verify received signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return pytest.main(pargs, plugins=[])
    try:
        return pytest.main(pargs, plugins=[])
    finally:
        signal.signal(signal.SIGTERM, previous)


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


def cmd_verify(args: argparse.Namespace) -> int:
    d = _theorems_dir(args.theorems)
    out = Path(args.out)
    if out.exists():
        for name in ("records", "report.json", "report.md", "report.html", "run.json"):
            target = out / name
            if target.is_dir():
                import shutil

                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    pargs = [str(d), "-p", "no:cacheprovider", "-q", "--no-header", "-rN",
             "--import-mode=importlib",
             f"--ntk-report={out}", f"--ntk-budget={args.budget}", f"--ntk-seed={args.seed}",
             "--ntk-progress", "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]
    if args.backend:
        pargs.append(f"--ntk-backend={args.backend}")
    for s in args.selectors:
        pargs += ["--ntk-select", s]
    if args.jobs and args.jobs > 1:
        pargs += ["-n", str(args.jobs)]
    # theorem files time nothing; pytest-benchmark (a test extra) would only warn
    # that xdist disables it
    pargs += ["-p", "no:benchmark", *_plugin_args()]
    os.environ["NTKPROOF_COMMAND"] = "ntkproof " + " ".join(shlex.quote(a) for a in args.argv)
    print(f"ntkproof: verifying {' '.join(args.selectors) or 'all claims'} from {d}/ "
          f"(budget {args.budget}, seed {args.seed}) -> {out}/", flush=True)
    env_before = _share_cores(args.jobs) if args.jobs and args.jobs > 1 else {}
    try:
        code = _run_interruptible(pargs)
    finally:
        _restore_env(env_before)
    report_path = out / "report.json"
    if not report_path.exists():
        print(f"ntkproof: no report was written (pytest exit code {int(code)})", file=sys.stderr)
        return int(code) or 1
    report = json.loads(report_path.read_text())
    if int(code) in (2, 3, 4) and report["summary"]["total"] == 0:
        print(f"ntkproof: pytest stopped before any claim ran (exit code {int(code)}: "
              "a collection or usage error, shown above)", file=sys.stderr)
        return int(code)
    if report["summary"]["total"] == 0:
        print(f"ntkproof: no claim matched the selectors {args.selectors}; "
              "'ntkproof list' shows the claim ids", file=sys.stderr)
        return 5
    _print_summary(report, out)
    if not report["run"].get("complete", True):
        return int(code) or 2  # pytest's "interrupted"
    return 0 if report["summary"]["passed"] else 1


def _print_summary(report: dict, out: Path) -> None:
    from .report.format import expectation, tightness_text

    width = max([len(c["id"]) for c in report["claims"]] + [48]) + 2
    print("\n" + "claim".ljust(width) + "verdict".ljust(14) + "tightness / rate")
    for c in report["claims"]:
        extra = f"  ({expectation(c)})" if c.get("twin_of") else ""
        extra += f"  [{c['run_label']}]" if c.get("run_label") else ""
        print(f"{c['id']:<{width}}{c['verdict']:<14}{tightness_text(c)}{extra}")
    s = report["summary"]
    print("\n" + ", ".join(f"{k}: {v}" for k, v in s["by_verdict"].items())
          + f"  ({s['total']} claims)")
    complete = report["run"].get("complete", True)
    if s["failures"]:
        print("FAILED: " + "; ".join(s["failures"]))
    elif complete:
        print("PASSED: every claim holds or is proved, and every falsified twin was rejected")
    else:
        print(f"INTERRUPTED: the {s['total']} claims that finished pass, but the run did not "
              "complete")
    if not complete:
        print("note: the run did not complete; the report is partial (records of finished "
              "claims are kept; re-run to finish)")
    print(f"report: {out}/report.json, {out}/report.md, {out}/report.html")


def cmd_report(args: argparse.Namespace) -> int:
    from .errors import InvalidArgument
    from .report import write_report
    from .report.merge import write_merged

    if bool(args.merge) == bool(args.dir) or bool(args.merge) != bool(args.out):
        print("ntkproof: use 'ntkproof report DIR' or 'ntkproof report --merge DIR DIR ... "
              "--out DIR'", file=sys.stderr)
        return 2
    command = "ntkproof " + " ".join(shlex.quote(a) for a in args.argv)
    try:
        report = (write_merged(args.merge, args.out, command=command) if args.merge
                  else write_report(args.dir))
    except InvalidArgument as exc:
        print(f"ntkproof: {exc}", file=sys.stderr)
        return 2
    _print_summary(report, Path(args.out or args.dir))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .errors import InvalidArgument
    from .report.diff import diff_paths, format_changes

    if not args.threshold >= 0:
        print(f"ntkproof: --threshold must be a relative change >= 0 (0.05 = 5%), got "
              f"{args.threshold}", file=sys.stderr)
        return 2
    try:
        changes = diff_paths(args.old, args.new, threshold=args.threshold)
    except InvalidArgument as exc:
        print(f"ntkproof: {exc}", file=sys.stderr)
        return 2
    print(f"ntkproof diff {args.old} -> {args.new} (threshold {100 * args.threshold:g}%)")
    print(format_changes(changes, args.threshold))
    return 1 if any(c.regression for c in changes) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command is None:
        parser.print_help()
        return 2
    handler = {"list": cmd_list, "verify": cmd_verify, "report": cmd_report,
               "diff": cmd_diff}[args.command]
    try:
        return handler(args)
    except BrokenPipeError:  # output piped into a reader that stopped (| head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
