"""Reports built from stored records, validated against the shipped JSON Schema."""

from __future__ import annotations

import contextlib
import json
import re
import shutil

import pytest

from ntkproof.engine.records import RecordWriter, new_run_meta, write_run_meta, write_selected
from ntkproof.report import build_report, load_schema, write_report
from ntkproof.report.build import run_failures


def _record(cid, verdict, twin_of=None, **extra):
    rec = {"id": cid, "theorem": cid.split(".")[0], "title": "t", "statement": r"a \le b",
           "source": "s", "kind": "bound", "verdict": verdict, "backend": "numpy:float64",
           "cases": 10, "duration_s": 0.1, "tightness": {"max": 0.9, "median": 0.5, "p90": 0.8},
           "worst_case": {"params": {"x": 1.0}, "lhs": 0.9, "rhs": 1.0, "ratio": 0.9,
                          "seed": 1},
           "reproduce": f"ntkproof verify {cid}", "message": "m", "checks": []}
    if twin_of:
        rec["twin_of"] = twin_of
    rec.update(extra)
    return rec


@pytest.fixture
def run_dir(tmp_path):
    meta = new_run_meta(backend="numpy:float64", budget="quick", seed=0, command="ntkproof verify")
    meta.update(finished_at=meta["started_at"], complete=True)
    write_run_meta(tmp_path, meta)
    w = RecordWriter(tmp_path, "gw0")
    w.write(_record("thm.a", "HOLDS"))
    w.write(_record("thm.twin", "FALSIFIED", twin_of="thm.a"))
    RecordWriter(tmp_path, "gw1").write(_record("other.b", "PROVED", worst_case=None))
    return tmp_path


def test_report_is_valid_against_schema_and_counts(run_dir):
    jsonschema = pytest.importorskip("jsonschema")
    report = build_report(run_dir)
    jsonschema.validate(report, load_schema())
    s = report["summary"]
    assert s["total"] == 3 and s["passed"] is True
    assert s["by_verdict"] == {"PROVED": 1, "HOLDS": 1, "FALSIFIED": 1}
    assert s["twins"] == {"total": 1, "falsified": 1, "rejected": 1, "shows_power": 1,
                          "of_undecided": 0, "skipped": 0}


def test_twin_not_falsified_fails_the_run(run_dir):
    RecordWriter(run_dir, "gw2").write(_record("thm.twin2", "HOLDS", twin_of="thm.a"))
    s = build_report(run_dir)["summary"]
    assert s["passed"] is False
    assert s["failures"] == ["thm.twin2 (twin of thm.a: HOLDS, expected FALSIFIED)"]


def test_torn_last_line_and_unfinished_run_give_a_partial_report(run_dir):
    meta = json.loads((run_dir / "run.json").read_text())
    meta.update(finished_at=None, complete=False)
    write_run_meta(run_dir, meta)
    with (run_dir / "records" / "gw0.jsonl").open("a") as fh:
        fh.write('{"id": "thm.cut", "verd')
    with pytest.warns(UserWarning, match="torn last line"):
        report = write_report(run_dir)
    assert report["run"]["complete"] is False
    assert report["summary"]["total"] == 3
    assert "PARTIAL REPORT" in (run_dir / "report.md").read_text()


def test_html_is_self_contained_and_md_lists_every_claim(run_dir):
    write_report(run_dir)
    html = (run_dir / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)=['\"]https?://", html)
    md = (run_dir / "report.md").read_text()
    for cid in ("thm.a", "thm.twin", "other.b"):
        assert f"`{cid}`" in md and f"id='{cid}'" in html


def test_a_skipped_twin_is_not_a_run_failure_but_an_unrejected_one_is():
    twin = {"id": "x.twin", "twin_of": "x", "verdict": "SKIPPED"}
    assert run_failures([twin]) == []
    assert run_failures([dict(twin, verdict="HOLDS")]) != []
    # a twin skipped while its own claim ran is a loss of power, hence a failure
    claim_ran = {"id": "x", "verdict": "HOLDS"}
    assert run_failures([claim_ran, twin]) == [
        "x.twin (twin of x: SKIPPED, expected FALSIFIED)"]
    assert run_failures([dict(claim_ran, verdict="SKIPPED"), twin]) == []


# -- a run's status never overstates ------------------------------------------

def _finish(run_dir, **changes):
    meta = json.loads((run_dir / "run.json").read_text())
    meta.update(changes)
    write_run_meta(run_dir, meta)


@pytest.mark.parametrize("case", ["crashed", "interrupted", "empty", "missing", "torn"])
def test_a_run_that_did_not_verify_everything_it_selected_is_not_passed(run_dir, case):
    write_selected(run_dir, "gw0", ["thm.a", "thm.twin", "other.b"])
    if case == "crashed":        # pytest's INTERNALERROR: finished, but not complete
        _finish(run_dir, complete=False, exitstatus=3)
    elif case == "interrupted":  # killed before the end: no finished_at
        _finish(run_dir, finished_at=None, complete=False)
    elif case == "empty":        # nothing selected, nothing recorded
        shutil.rmtree(run_dir / "records")
        shutil.rmtree(run_dir / "selected")
    elif case == "missing":      # a claim was selected and never recorded
        write_selected(run_dir, "gw1", ["thm.never"])
    elif case == "torn":         # the last record was cut short
        with (run_dir / "records" / "gw1.jsonl").open("a") as fh:
            fh.write('{"id": "thm.cut", "verd')
        write_selected(run_dir, "gw1", ["other.b", "thm.cut"])
    with pytest.warns(UserWarning, match="torn last line") if case == "torn" else _nothing():
        report = build_report(run_dir)
    s = report["summary"]
    assert s["passed"] is False
    assert s["status"] == ("EMPTY" if case == "empty" else "INCOMPLETE")
    assert s["headline"].startswith(s["status"] + ":") and "PASSED" not in s["headline"]
    if case in ("missing", "torn"):
        assert s["missing"] == (["thm.never"] if case == "missing" else ["thm.cut"])


def _nothing():
    return contextlib.nullcontext()


def test_the_headline_counts_undecided_claims_and_twins_without_power(run_dir):
    w = RecordWriter(run_dir, "gw2")
    w.write(_record("thm.open", "INCONCLUSIVE"))
    w.write(_record("thm.twin_open", "FALSIFIED", twin_of="thm.open"))
    w.write(_record("thm.na", "SKIPPED"))
    s = build_report(run_dir)["summary"]
    assert s["passed"] is True
    assert s["headline"] == (
        "PASSED: 2 verified (1 PROVED, 1 HOLDS), 1 INCONCLUSIVE, 1 SKIPPED (not verified); "
        "2 of 2 falsified twins rejected (1 of them twin undecided claims and show no power)")
    assert s["twins"]["shows_power"] == 1 and s["twins"]["of_undecided"] == 1


def test_markdown_escapes_record_text(run_dir):
    RecordWriter(run_dir, "gw2").write(_record(
        "thm.html", "HOLDS", title="<script>alert(1)</script>", message="<img src=x>```",
        worst_case={"params": {"x": "<b>bold</b>"}, "lhs": 1, "rhs": 2, "ratio": 0.5,
                    "seed": 3320900418859779104}))
    write_report(run_dir)
    md = (run_dir / "report.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md and "<b>bold" not in md
    assert "seed 3320900418859779104" in md and "e+18" not in md
    assert "````\n<img src=x>```\n````" in md  # a message cannot close its fence
