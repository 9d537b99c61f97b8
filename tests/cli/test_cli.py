"""The ntkproof command line, as a contract: list, verify, report, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from _theorem_fixtures import FALSE_CLAIM, TAYLOR_LIKE

from ntkproof.cli import main
from ntkproof.report import load_schema


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "theorems").mkdir()
    (tmp_path / "theorems" / "test_mini.py").write_text(TAYLOR_LIKE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_help_is_a_contract():
    out = subprocess.run([sys.executable, "-m", "ntkproof.cli", "verify", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for word in ("--backend", "--budget", "--seed", "--out", "--jobs", "SELECTOR"):
        assert word in out


def test_list_shows_claim_ids_and_twins(project, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mini.tanh" in out and "falsified twin of mini.tanh" in out
    assert "2 claims" in out


def test_verify_writes_schema_valid_report_and_exits_zero(project, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    assert main(["verify", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "mini.tanh" in out
    report = json.loads((project / "out" / "report.json").read_text())
    jsonschema.validate(report, load_schema())
    assert report["run"]["command"].startswith("ntkproof verify")
    for name in ("report.md", "report.html", "run.json"):
        assert (project / "out" / name).stat().st_size > 0


def test_verify_false_claim_exits_nonzero_and_reproduce_command_reproduces(project, capsys):
    (project / "theorems" / "test_bad.py").write_text(FALSE_CLAIM)
    assert main(["verify", "--out", "out"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: bad.square_le_x (FALSIFIED)" in out
    report = json.loads((project / "out" / "report.json").read_text())
    bad = next(c for c in report["claims"] if c["id"] == "bad.square_le_x")
    cmd = bad["reproduce"].split()
    assert cmd[:3] == ["ntkproof", "verify", "bad.square_le_x"]
    assert main(cmd[1:] + ["--out", "again"]) == 1
    again = json.loads((project / "again" / "report.json").read_text())
    assert again["claims"][0]["worst_case"] == bad["worst_case"]


def test_a_selector_that_matches_nothing_is_a_usage_error_with_suggestions(project, capsys):
    # one good selector does not excuse a typo in the other: nothing runs
    assert main(["verify", "mini.tanh", "mini.tnah", "--out", "out"]) == 4
    err = capsys.readouterr().err
    assert "selector 'mini.tnah' matches no claim; did you mean mini.tanh" in err
    assert not (project / "out" / "report.json").exists()


def test_report_rerenders_from_records(project, capsys):
    assert main(["verify", "mini.tanh", "--out", "out"]) == 0
    (project / "out" / "report.md").unlink()
    assert main(["report", "out"]) == 0
    assert "mini.tanh" in (project / "out" / "report.md").read_text()


def test_report_on_a_non_run_folder_says_so(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 4
    assert "not an ntkproof run directory" in capsys.readouterr().err


def test_missing_theorem_folder_is_explained(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["verify"]) == 4
    assert "no theorem folder" in capsys.readouterr().err


SLOW_SECOND_CLAIM = '''
import time
from ntkproof import claim


@claim("slow.first", kind="identity", title="1 == 1", statement="1 = 1", source="t")
def test_first(ntk):
    ntk.identity(lambda b, x: (x, x, 1.0), [{"x": 1.0}])


@claim("slow.second", kind="identity", title="waits", statement="1 = 1", source="t")
def test_second(ntk):
    open("second-started", "w").close()
    time.sleep(60)
    ntk.identity(lambda b, x: (x, x, 1.0), [{"x": 1.0}])
'''


def test_sigterm_leaves_partial_report_and_nonzero_exit(project):
    """A terminated verify (CI time limit, kill) ends like Ctrl-C: the finished claim's
    record and a partial report stay, and the exit status says it was interrupted."""
    (project / "theorems" / "test_mini.py").unlink()
    (project / "theorems" / "test_slow.py").write_text(SLOW_SECOND_CLAIM)
    proc = subprocess.Popen([sys.executable, "-m", "ntkproof.cli", "verify", "--out", "out"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    import time

    deadline = time.monotonic() + 120
    while not (project / "second-started").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.2)
    proc.terminate()
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 2, out
    assert out.strip().splitlines()[-1].startswith("INCOMPLETE: the run was interrupted")
    assert "partial" in out
    report = json.loads((project / "out" / "report.json").read_text())
    assert report["run"]["complete"] is False
    assert [c["id"] for c in report["claims"]] == ["slow.first"]
    assert "PARTIAL" in (project / "out" / "report.md").read_text().upper()


ENV_PROBE = '''
import os
from ntkproof import claim


@claim("probe.threads", kind="identity", title="1 == 1", statement="1 = 1", source="t")
def test_threads(ntk):
    with open("threads-" + os.environ.get("PYTEST_XDIST_WORKER", "main"), "w") as f:
        f.write(os.environ.get("OMP_NUM_THREADS", "unset") + " "
                + os.environ.get("OPENBLAS_NUM_THREADS", "unset"))
    ntk.identity(lambda b, x: (x, x, 1.0), [{"x": 1.0}])
'''


def test_parallel_workers_share_the_cores_and_the_env_is_restored(project, monkeypatch):
    pytest.importorskip("xdist")
    import os

    (project / "theorems" / "test_probe.py").write_text(ENV_PROBE)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")           # the user's choice is kept
    assert main(["verify", "probe", "--jobs", "2", "--out", "out"]) == 0
    seen = [p.read_text() for p in project.glob("threads-gw*")]
    assert seen == [f"{max(1, (os.cpu_count() or 1) // 2)} 7"]
    assert "OMP_NUM_THREADS" not in os.environ and os.environ["OPENBLAS_NUM_THREADS"] == "7"
