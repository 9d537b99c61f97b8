"""Runs on a Dask cluster: the same report as a local run; a long sweep spreads over the
workers; a task that dies is retried, then recorded as ERROR, never lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ntkproof.cli import main

pytest.importorskip("distributed", reason="the dask extra is not installed")

THEOREM = '''
import os
import time
from ntkproof import Box, Measured, Twin, claim


@claim("toy.cosine", kind="bound", title="1 - cos x <= x^2/2", statement="s", source="s",
       known_sup=1.0, twins=[Twin("twin_small", title="t", statement="s", c=2.2)])
def test_cosine(ntk, c=2.0):
    ntk.bound(lambda b, x: (1 - b.cos(x), x * x / c, 1 + b.abs(b.cos(x))), Box(x=(-3.0, 3.0)))


def where(m, seed):
    time.sleep(0.1)  # long enough that the scheduler spreads the points
    with open(os.path.join(os.environ["NTKPROOF_TEST_PIDS"], f"{os.getpid()}-{m}-{seed}"), "w"):
        pass
    return Measured(2.0 / m, pid=os.getpid())


@claim("toy.rate", kind="rate", title="2/m", statement="s", source="s",
       twins=[Twin("twin_fast", title="t", statement="s", claimed=-2.0)])
def test_rate(ntk, claimed=-1.0):
    d = ntk.rate(where, [8, 16, 32, 64, 128], claimed=claimed, slack=0.05, sweep="toy.rate",
                 slack_reason="exact 1/m: no finite-size bias", spread=True)
    # what each point returned besides its value reaches the body, from any worker
    ntk.require("points with their data", float(len({p.data["pid"] for p in d.points})),
                at_least=float(os.environ.get("NTKPROOF_TEST_WORKERS", "1")))


def per_width(m, seeds):
    """Every seed of a width in one call (as networks trained as one stacked computation)."""
    time.sleep(0.1)
    with open(os.path.join(os.environ["NTKPROOF_TEST_PIDS"], f"{os.getpid()}-{m}-all"), "w") as f:
        f.write(str(len(seeds)))
    return [Measured(4.0 / m, pid=os.getpid()) for _ in seeds]


@claim("toy.batched", kind="rate", title="4/m", statement="s", source="s",
       twins=[Twin("twin_fast", title="t", statement="s", claimed=-2.0)])
def test_batched(ntk, claimed=-1.0):
    d = ntk.rate(per_width, [8, 16, 32, 64, 128], claimed=claimed, slack=0.05,
                 sweep="toy.batched", slack_reason="exact 1/m", spread=True, batch=True)
    ntk.require("points with their data", float(len({p.data["pid"] for p in d.points})),
                at_least=float(os.environ.get("NTKPROOF_TEST_WORKERS", "1")))


def made(label):
    """A factory's claim (its function is called ``test`` under another attribute) whose
    measure keeps what it saw for the body: it does not spread, so the body sees it."""
    @claim(f"toy.made_{label}", kind="rate", title="3/m", statement="s", source="s")
    def test(ntk, claimed=-1.0):
        seen = []

        def measure(m, seed):
            seen.append(m)
            return 3.0 / m
        ntk.rate(measure, [8, 16, 32, 64, 128], claimed=claimed, slack=0.05, slack_reason="exact")
        ntk.require("measured in the body's process", float(len(seen)), at_least=4.0)
    return test


test_made_a = made("a")
'''

DIES = '''
import os
from ntkproof import claim


@claim("dies.hard", kind="identity", title="kills its worker", statement="s", source="s")
def test_dies(ntk):
    os._exit(3)
'''


HANGS = '''
import time
from ntkproof import claim


@claim("hangs.forever", kind="rate", title="never returns", statement="s", source="s")
def test_hangs(ntk):
    def point(m, seed):
        time.sleep(3600)   # a sweep's point that hangs, on another task of the cluster
    ntk.rate(point, [8, 16, 32, 64, 128], claimed=-1.0, slack=0.0, slack_reason="s",
             spread=True)
'''


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "theorems").mkdir()
    (tmp_path / "pids").mkdir()
    (tmp_path / "theorems" / "test_toy.py").write_text(THEOREM)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NTKPROOF_TEST_PIDS", str(tmp_path / "pids"))
    return tmp_path


def _claims(folder):
    return {c["id"]: c for c in json.loads((folder / "report.json").read_text())["claims"]}


def test_a_dask_run_gives_the_local_report_and_spreads_a_sweep(project, capsys):
    assert main(["verify", "--out", "local"]) == 0
    for p in (project / "pids").iterdir():
        p.unlink()
    os.environ["NTKPROOF_TEST_WORKERS"] = "2"   # the body sees both workers' points
    try:
        assert main(["verify", "--dask", "local:2", "--out", "dask"]) == 0
    finally:
        del os.environ["NTKPROOF_TEST_WORKERS"]
    local, dask = _claims(project / "local"), _claims(project / "dask")
    assert {k: v["verdict"] for k, v in dask.items()} == {k: v["verdict"] for k, v in
                                                        local.items()}
    assert local["toy.made_a"]["verdict"] == "HOLDS"   # found by its attribute, not "test"
    for cid in local:
        assert dask[cid].get("tightness") == local[cid].get("tightness")
    assert main(["diff", "local", "dask"]) == 0
    assert "0 verdict changes, 0 moved" in capsys.readouterr().out
    points = [p for p in (project / "pids").iterdir() if not p.name.endswith("-all")]
    assert len(points) == 25, "the claim and its twin share one sweep of 5 x 5 points"
    assert len({p.name.split("-")[0] for p in points}) == 2, "both workers measured points"
    widths = [p for p in (project / "pids").iterdir() if p.name.endswith("-all")]
    assert sorted(int(p.name.split("-")[1]) for p in widths) == [8, 16, 32, 64, 128], \
        "a batch measure runs once per width, for the claim and its twin together"
    assert {p.read_text() for p in widths} == {"5"}, "each call measured the width's 5 seeds"
    assert len({p.name.split("-")[0] for p in widths}) == 2, "the widths spread over workers"


def test_pytest_with_ntk_dask_runs_the_claims_here_and_their_sweeps_on_the_cluster(project):
    """``pytest theorems/ --ntk-dask local:2``: pytest runs the claims, and the points of
    the sweeps that spread (one seed, or a width for a batch measure) run on both of
    the cluster's workers; the verdicts are a local run's."""
    env = dict(os.environ, NTKPROOF_TEST_WORKERS="2")
    done = subprocess.run([sys.executable, "-m", "pytest", "theorems", "--ntk-dask", "local:2",
                           "--ntk-report", "out", "-q", "-p", "no:cacheprovider"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = {k: v["verdict"] for k, v in _claims(project / "out").items()}
    assert verdicts["toy.rate"] == verdicts["toy.batched"] == "HOLDS"
    assert verdicts["toy.rate.twin_fast"] == verdicts["toy.batched.twin_fast"] == "FALSIFIED"
    pids = {p.name.split("-")[0] for p in (project / "pids").iterdir()}
    assert len(pids) == 2, "both workers measured points"


def test_a_task_that_kills_its_worker_is_recorded_as_error(project, capsys):
    (project / "theorems" / "test_dies.py").write_text(DIES)
    assert main(["verify", "dies", "--dask", "local:1", "--out", "out"]) == 1
    rec = _claims(project / "out")["dies.hard"]
    assert rec["verdict"] == "ERROR" and "did not come back from the cluster" in rec["message"]


def test_a_claim_past_the_claim_timeout_is_recorded_as_error_and_the_run_goes_on(
        project, capsys):
    """A claim whose sweep hangs on the only worker: given up after --claim-timeout, its
    worker restarted, and the claims after it still run on that worker."""
    (project / "theorems" / "test_hangs.py").write_text(HANGS)
    t = time.monotonic()
    code = main(["verify", "hangs", "toy.cosine", "--dask", "local:1", "--claim-timeout", "3",
                 "--out", "out"])
    assert time.monotonic() - t < 90
    assert code == 1
    claims = _claims(project / "out")
    assert "ran longer than the claim timeout (3 s)" in claims["hangs.forever"]["message"]
    assert claims["hangs.forever"]["verdict"] == "ERROR"
    assert claims["toy.cosine"]["verdict"] in ("HOLDS", "CERTIFIED")
    run = json.loads((project / "out" / "run.json").read_text())
    assert run["complete"] and run["dask"]["claim_timeout_s"] == 3.0


def test_pytest_ntk_claim_timeout_gives_up_points_that_hang_and_the_run_goes_on(project):
    """``pytest --ntk-dask local:1 --ntk-claim-timeout 8``: a claim whose sweep point
    hangs on the only worker is recorded as ERROR after 8 s, the worker is restarted, and
    the next claim's sweep still runs on it."""
    (project / "theorems" / "test_hangs.py").write_text(HANGS)
    t = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "theorems", "--ntk-dask", "local:1",
                           "--ntk-claim-timeout", "8", "--ntk-select", "hangs",
                           "--ntk-select", "toy.batched", "--ntk-report", "out", "-q",
                           "-p", "no:cacheprovider"],
                          cwd=project, capture_output=True, text=True, timeout=300)
    assert time.monotonic() - t < 120
    assert done.returncode == 1, done.stdout + done.stderr
    claims = _claims(project / "out")
    assert claims["hangs.forever"]["verdict"] == "ERROR"
    assert "ClaimTimeout: the claim ran past its claim timeout" in \
        claims["hangs.forever"]["message"]
    assert "were restarted" in claims["hangs.forever"]["message"]
    assert claims["toy.batched"]["verdict"] == "HOLDS", "the restarted worker took new points"
    assert claims["toy.batched.twin_fast"]["verdict"] == "FALSIFIED"
    run = json.loads((project / "out" / "run.json").read_text())
    assert run["dask"]["claim_timeout_s"] == 8.0 and run["dask"]["workers"] == 1


@pytest.mark.parametrize("args, says", [
    (["--ntk-claim-timeout", "5"], "--ntk-claim-timeout needs --ntk-dask"),
    (["--ntk-dask", "local:1", "--ntk-claim-timeout", "0"],
     "--ntk-claim-timeout must be a number of seconds > 0"),
    (["--ntk-dask", "local:1", "--ntk-claim-timeout", "inf"],
     "--ntk-claim-timeout must be a number of seconds > 0, got inf"),
])
def test_pytest_ntk_claim_timeout_is_checked(project, args, says):
    done = subprocess.run([sys.executable, "-m", "pytest", "theorems", *args, "-q",
                           "-p", "no:cacheprovider"],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4 and says in done.stderr, done.stdout + done.stderr


def test_dask_arguments_are_checked(project, capsys):
    assert main(["verify", "--dask", "local:0"]) == 4
    assert "local:N needs a whole number of workers" in capsys.readouterr().err
    assert main(["verify", "--dask", "local:2", "--jobs", "2"]) == 4
    assert main(["verify", "--claim-timeout", "5"]) == 4
    assert "--claim-timeout needs --dask" in capsys.readouterr().err
    assert main(["verify", "--dask", "local:1", "--claim-timeout", "0"]) == 4
    assert "--claim-timeout must be a number of seconds > 0" in capsys.readouterr().err


def test_local_workers_keep_the_adaptive_malloc_and_a_slowed_cluster_is_named(project):
    """Dask's nannies set MALLOC_TRIM_THRESHOLD_, which doubles the claims' time (every
    array above 128 KiB becomes a fresh mmap): ``local:N`` leaves it unset, and a cluster
    started with Dask's default gets a warning that says what to change."""
    import distributed

    from ntkproof.engine import cluster

    client = cluster.connect("local:1")
    try:
        assert set(client.run(cluster._trim_threshold).values()) == {None}
        assert cluster.worker_warnings(client) == []
    finally:
        cluster.disconnect(client)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as default, \
            distributed.Client(default) as slowed:
        (warning,) = cluster.worker_warnings(slowed)
    assert "1 of 1 Dask workers run with MALLOC_TRIM_THRESHOLD_ set" in warning
    assert "MALLOC_TRIM_THRESHOLD_: null" in warning
