"""The pytest plugin, run through pytester as a user would run it."""

from __future__ import annotations

import json

import pytest
from _theorem_fixtures import BROKEN, FALSE_CLAIM, TAYLOR_LIKE

pytest_plugins = ["pytester"]


def test_help_lists_the_ntk_options(pytester):
    result = pytester.runpytest("--help")
    for opt in ("--ntk-backend", "--ntk-budget", "--ntk-seed", "--ntk-report", "--ntk-select"):
        result.stdout.fnmatch_lines([f"*{opt}*"])


def test_true_claim_holds_and_twin_is_rejected(pytester, tmp_path):
    pytester.makepyfile(test_mini=TAYLOR_LIKE)
    result = pytester.runpytest(f"--ntk-report={tmp_path}")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*ntkproof claims by verdict*", "FALSIFIED (1)",
                                 "*mini.twin_small_constant*rejected as expected*",
                                 "HOLDS (1)", "*mini.tanh*max ratio*"])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["complete"] is True
    verdicts = {c["id"]: c["verdict"] for c in report["claims"]}
    assert verdicts == {"mini.tanh": "HOLDS", "mini.twin_small_constant": "FALSIFIED"}
    assert report["summary"]["passed"] is True


def test_false_claim_message_shows_worst_case_and_command(pytester):
    pytester.makepyfile(test_bad=FALSE_CLAIM)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*claim bad.square_le_x is FALSIFIED (bound) on numpy:float64*",
        "*worst case:*", "*x = *", "*lhs = *, rhs = *, ratio = *", "*tolerance: rtol*",
        "*seed: claim seed*",
        "*reproduce: ntkproof verify bad.square_le_x --backend numpy:float64 --budget quick "
        "--seed 0 --theorems*"])
    # the failure is the message alone, not chained to the engine's exception
    assert "During handling of the above exception" not in result.stdout.str()


def test_broken_claims_are_errors_or_inconclusive_with_reasons(pytester, tmp_path):
    pytester.makepyfile(test_broken=BROKEN)
    result = pytester.runpytest(f"--ntk-report={tmp_path}", "-rs")
    report = json.loads((tmp_path / "report.json").read_text())
    by_id = {c["id"]: c for c in report["claims"]}
    assert by_id["broken.nan"]["verdict"] == "ERROR"
    assert "not finite" in by_id["broken.nan"]["message"]
    assert by_id["broken.empty"]["verdict"] == "ERROR"
    assert "ran no check" in by_id["broken.empty"]["message"]
    assert by_id["broken.activation"]["verdict"] == "ERROR"
    assert "unknown activation 'swishy'" in by_id["broken.activation"]["message"]
    assert by_id["broken.inconclusive"]["verdict"] == "INCONCLUSIVE"
    result.stdout.fnmatch_lines(["*INCONCLUSIVE*"])
    assert report["summary"]["passed"] is False


def test_unknown_backend_is_a_usage_error(pytester):
    pytester.makepyfile(test_mini=TAYLOR_LIKE)
    result = pytester.runpytest("--ntk-backend=jax")
    result.stderr.fnmatch_lines(["*unknown backend 'jax'; expected one of: mpmath, numpy, torch*"])
    assert result.ret != 0


def test_selection_by_prefix_and_glob(pytester, tmp_path):
    pytester.makepyfile(test_mini=TAYLOR_LIKE, test_bad=FALSE_CLAIM)
    result = pytester.runpytest("--ntk-select=mini.tanh")
    result.assert_outcomes(passed=1, deselected=2)
    result = pytester.runpytest("--ntk-select=mini")
    result.assert_outcomes(passed=2, deselected=1)
    result = pytester.runpytest("--ntk-select=*.twin_*")
    result.assert_outcomes(passed=1, deselected=2)


def test_same_seed_same_report_and_seed_changes_cases(pytester, tmp_path):
    pytester.makepyfile(test_mini=TAYLOR_LIKE)
    outs = []
    for i, seed in enumerate([3, 3, 4]):
        pytester.runpytest(f"--ntk-report={tmp_path / str(i)}", f"--ntk-seed={seed}")
        rep = json.loads((tmp_path / str(i) / "report.json").read_text())
        outs.append([(c["id"], c["worst_case"]) for c in rep["claims"]])
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_xdist_workers_records_end_up_in_one_report(pytester, tmp_path):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_mini=TAYLOR_LIKE, test_bad=FALSE_CLAIM)
    pytester.runpytest_subprocess("-n", "2", f"--ntk-report={tmp_path}")
    report = json.loads((tmp_path / "report.json").read_text())
    assert {c["id"] for c in report["claims"]} == {"mini.tanh", "mini.twin_small_constant",
                                                   "bad.square_le_x"}
    assert len(list((tmp_path / "records").glob("*.jsonl"))) >= 2


def test_interrupted_run_leaves_records_and_partial_report(pytester, tmp_path):
    pytester.makepyfile(test_mini=TAYLOR_LIKE, test_zstop='''
from ntkproof import claim
@claim("zstop.interrupt", kind="identity", title="stop", statement="x", source="t")
def test_stop(ntk):
    raise KeyboardInterrupt
''')
    pytester.runpytest_subprocess(f"--ntk-report={tmp_path}")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["complete"] is False
    assert {c["id"] for c in report["claims"]} == {"mini.tanh", "mini.twin_small_constant"}
    assert "PARTIAL REPORT" in (tmp_path / "report.md").read_text()
    assert "PARTIAL REPORT" in (tmp_path / "report.html").read_text()


def test_mpmath_identity_is_decided_at_50_digits(pytester, tmp_path):
    """1 + 1e-30 == 1 is true in float64 and false at 50 digits."""
    pytester.makepyfile(test_digits='''
from ntkproof import claim

@claim("digits.tiny", kind="identity", title="1 + 1e-30 == 1", statement="x", source="t")
def test_tiny(ntk):
    ntk.identity(lambda b, x: (x + b.scalar("1e-30"), x), [{"x": 1.0}])
''')
    pytester.runpytest("--ntk-backend=mpmath", f"--ntk-report={tmp_path / 'mp'}")
    pytester.runpytest(f"--ntk-report={tmp_path / 'np'}")
    verdict = {name: json.loads((tmp_path / name / "report.json").read_text())["claims"][0][
        "verdict"] for name in ("mp", "np")}
    assert verdict == {"mp": "FALSIFIED", "np": "HOLDS"}
