"""Updating a run with claims re-run in another run (the published report's incremental
update): replaced, added and retired claims, provenance per claim, and refusals."""

from __future__ import annotations

import json

import pytest

from ntkproof.cli import main
from ntkproof.engine.records import RecordWriter, new_run_meta, write_run_meta, write_selected
from ntkproof.errors import InvalidArgument
from ntkproof.report import build_report
from ntkproof.report.update import update_run


def _run(folder, verdicts, *, seed=0, budget="standard"):
    meta = new_run_meta(backend="numpy:float64", budget=budget, seed=seed, command="t")
    meta.update(finished_at=meta["started_at"], complete=True)
    write_run_meta(folder, meta)
    w = RecordWriter(folder, "main")
    for cid, verdict in verdicts.items():
        w.write({"id": cid, "theorem": cid.split(".")[0], "title": "t", "statement": "s",
                 "source": "s", "kind": "bound", "verdict": verdict, "backend": "numpy:float64",
                 "cases": 1, "duration_s": 0.1, "tightness": {}, "reproduce": "r",
                 "provenance": {"file": "theorems/test_t.py", "sha256": "abc"}})
    write_selected(folder, "main", list(verdicts))
    return meta


def test_an_update_replaces_adds_and_retires_claims_keeping_provenance(tmp_path):
    old = _run(tmp_path / "old", {"t.a": "HOLDS", "t.b": "HOLDS", "t.gone": "HOLDS"})
    new = _run(tmp_path / "new", {"t.b": "PROVED", "t.c": "HOLDS"})
    entry = update_run(tmp_path / "old", tmp_path / "new", keep=["t.a", "t.b", "t.c"])
    assert (entry["updated"], entry["added"], entry["retired"]) == (["t.b"], ["t.c"], ["t.gone"])
    report = build_report(tmp_path / "old")
    claims = {c["id"]: c for c in report["claims"]}
    assert sorted(claims) == ["t.a", "t.b", "t.c"]
    assert claims["t.b"]["verdict"] == "PROVED"
    assert claims["t.a"]["provenance"]["run"] == old["id"]
    assert claims["t.b"]["provenance"]["run"] == new["id"]
    assert claims["t.b"]["provenance"]["sha256"] == "abc"
    assert report["summary"]["status"] == "PASSED" and not report["summary"]["missing"]
    meta = json.loads((tmp_path / "old" / "run.json").read_text())
    assert meta["updates"][0]["run"] == new["id"]


def test_an_update_must_match_backend_budget_and_seed(tmp_path):
    _run(tmp_path / "old", {"t.a": "HOLDS"})
    _run(tmp_path / "new", {"t.a": "HOLDS"}, seed=3, budget="quick")
    with pytest.raises(InvalidArgument, match="differ in budget .*seed"):
        update_run(tmp_path / "old", tmp_path / "new")


def test_the_cli_updates_and_re_renders(tmp_path, capsys):
    _run(tmp_path / "old", {"t.a": "HOLDS"})
    _run(tmp_path / "new", {"t.a": "HOLDS", "t.b": "HOLDS"})
    assert main(["report", "--update", str(tmp_path / "old"), "--from",
                 str(tmp_path / "new")]) == 0
    assert "0 claims replaced" not in capsys.readouterr().out
    assert (tmp_path / "old" / "report.md").exists()
    assert main(["report", "--update", str(tmp_path / "old")]) == 4
