"""Claims declared with their twins and where they apply; the engine run by two hosts
(pytest through the plugin, and ntkproof.verify without pytest) with the same result."""

from __future__ import annotations

import json
import os

import pytest

import ntkproof
from ntkproof.cli import main
from ntkproof.engine.claims import Twin, claim
from ntkproof.errors import InvalidArgument

DECLARED = '''
import pytest
from ntkproof import Box, Twin, claim

CALLS = []


def evaluate_for(c):
    return lambda b, x: (1 - b.cos(x), x * x / c, 1 + b.abs(b.cos(x)))


@claim("toy.cosine_{c0}", kind="bound", title="1 - cos x <= x^2/{c0}",
       statement=r"1-\\\\cos x \\\\le x^2/2", source="Taylor", known_sup=1.0,
       twins=[Twin("twin_small_constant", title="twin: x^2/2.2", statement="x^2/2.2", c=2.2)])
@pytest.mark.parametrize("c0", [2])
def test_cosine(ntk, c0, c=2.0):
    CALLS.append((ntk.info.id, ntk.seed))
    ntk.bound(evaluate_for(c), Box(x=(-3.0, 3.0)))


@claim("toy.rate", kind="rate", title="error ~ m^-1", statement="m^{-1}", source="toy",
       twins=[Twin("twin_fast", title="twin: m^-2", statement="m^{-2}", claimed=-2.0)])
def test_rate(ntk, claimed=-1.0):
    def measure(m, seed):
        CALLS.append(("measure", m, seed))
        return 1.0 / m
    ntk.rate(measure, [8, 16, 32, 64, 128], claimed=claimed, slack=0.1, sweep="toy.rate")


@claim("toy.float_only", kind="identity", title="1 == 1", statement="1 = 1", source="toy",
       not_on={"numpy": "shows the declaration (the numpy run skips it)"},
       twins=[Twin("twin_wrong", title="twin", statement="1 = 2", wrong=1.0)])
def test_float_only(ntk, wrong=0.0):
    raise AssertionError("a claim that does not apply never runs its body")
'''


@pytest.fixture
def declared(tmp_path, monkeypatch):
    (tmp_path / "theorems").mkdir()
    (tmp_path / "theorems" / "test_toy.py").write_text(DECLARED)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _records(folder):
    return {c["id"]: c for c in json.loads((folder / "report.json").read_text())["claims"]}


def test_declared_twins_run_with_their_claim_its_seed_and_its_sweep(declared, capsys):
    assert main(["verify", "--out", "out"]) == 0
    recs = _records(declared / "out")
    assert recs["toy.cosine_2"]["verdict"] == "HOLDS"
    twin = recs["toy.cosine_2.twin_small_constant"]
    assert twin["verdict"] == "FALSIFIED" and twin["twin_of"] == "toy.cosine_2"
    assert twin["seed"] == recs["toy.cosine_2"]["seed"]          # the claim's draws
    assert recs["toy.rate"]["verdict"] == "HOLDS"
    assert recs["toy.rate.twin_fast"]["verdict"] == "FALSIFIED"
    assert recs["toy.rate.twin_fast"]["rate"]["fitted"] == recs["toy.rate"]["rate"]["fitted"]
    # not applicable on numpy: the claim and its twin are SKIPPED with the reason, and the
    # run still passes (neither was checked, so no power was lost)
    for cid in ("toy.float_only", "toy.float_only.twin_wrong"):
        assert recs[cid]["verdict"] == "SKIPPED"
        assert "not applicable on numpy: shows the declaration" in recs[cid]["message"]
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("PASSED: 2 verified")


def test_a_sweep_is_measured_once_for_a_claim_and_its_twin(declared):
    module = ntkproof.engine.collect.load_theorem_file(declared / "theorems" / "test_toy.py")
    report = ntkproof.verify("toy.rate", theorems=declared / "theorems")
    assert report.verdicts() == {"toy.rate": "HOLDS", "toy.rate.twin_fast": "FALSIFIED"}
    measured = [c for c in module.CALLS if c[0] == "measure"]
    assert len(measured) == 5 * 5 == len(set(measured))  # 5 widths x 5 seeds, each once


SHARED = '''
from ntkproof import Box, Twin, claim

CALLS = []


def build():
    CALLS.append("build")
    return 2.0


@claim("share.cosine", kind="bound", title="t", statement="s", source="s", known_sup=1.0,
       twins=[Twin("twin_small", title="t", statement="s", c=2.2)])
def test_cosine(ntk, c=2.0):
    two = ntk.shared("share.two", build)
    ntk.bound(lambda b, x: (1 - b.cos(x), x * x / (c * two / 2), 1 + b.abs(b.cos(x))),
              Box(x=(-3.0, 3.0)))
'''


def test_a_shared_value_is_built_once_per_family(tmp_path):
    (tmp_path / "test_share.py").write_text(SHARED)
    module = ntkproof.engine.collect.load_theorem_file(tmp_path / "test_share.py")
    report = ntkproof.verify(theorems=tmp_path)
    assert report.verdicts() == {"share.cosine": "HOLDS", "share.cosine.twin_small": "FALSIFIED"}
    assert module.CALLS == ["build"]          # the claim built it, its twin reused it
    ntkproof.verify(theorems=tmp_path)
    assert module.CALLS == ["build", "build"]  # dropped when the family was done


MEASURED = '''
from ntkproof import Measured, Twin, claim

CALLS = []


def run(m, seed):
    CALLS.append((m, seed))
    return Measured(3.0 / m, trained=1.0 / m)


@claim("meas.rate", kind="rate", title="t", statement="s", source="s",
       twins=[Twin("twin_fast", title="t", statement="s", claimed=-2.0)])
def test_rate(ntk, claimed=-1.0):
    d = ntk.rate(run, [8, 16, 32, 64, 128], claimed=claimed, slack=0.05, seeds=3, sweep="meas",
                 slack_reason="exact", spread=True)
    assert all(abs(p.value - 3 * p.data["trained"]) < 1e-12 for p in d.points)
    ntk.require("trained", max(p.data["trained"] for p in d.points), at_most=0.2)


def run_width(m, seeds):
    CALLS.append((m, tuple(seeds)))
    return [Measured(5.0 / m, seed=s) for s in seeds]


@claim("meas.batched", kind="rate", title="t", statement="s", source="s",
       twins=[Twin("twin_fast", title="t", statement="s", claimed=-2.0)])
def test_batched(ntk, claimed=-1.0):
    d = ntk.rate(run_width, [8, 16, 32, 64, 128], claimed=claimed, slack=0.05, seeds=4,
                 sweep="meas.batched", slack_reason="exact", batch=True)
    # the points come back in the rate's order: the width's seeds as ntk.rate draws them
    assert [p.data["seed"] for p in d.points[:4]] == ntk.seeds(4, "rate/8")


@claim("meas.short", kind="rate", title="t", statement="s", source="s")
def test_short(ntk):
    ntk.rate(lambda m, seeds: [1.0 / m], [8, 16, 32, 64, 128], claimed=-1.0, slack=0.0, seeds=3,
             slack_reason="exact", batch=True)


@claim("meas.separation", kind="separation", title="t", statement="s", source="s")
def test_separation(ntk):
    d = ntk.separation(lambda s: Measured(0.1 + s % 7 / 100, side="a"), lambda s: 1.0,
                       seeds=6, margin=0.5)
    assert [p.data.get("side") for p in d.points] == ["a"] * 6 + [None] * 6
    assert ntk.measure(lambda x, s: Measured(x, twice=2 * x), [(1.0, 0)])[0].data == {"twice": 2.0}
    assert ntk.measure(lambda x, s: x, [(1.0, 0)]) == [1.0]
'''


def test_measured_points_bring_their_data_to_the_body_and_to_a_twin(tmp_path):
    """A measure may return ``Measured(value, **data)``: the check decides on the value and
    the body reads the data from the decision's points, also where a twin reuses the
    claim's cached sweep."""
    (tmp_path / "test_meas.py").write_text(MEASURED)
    module = ntkproof.engine.collect.load_theorem_file(tmp_path / "test_meas.py")
    report = ntkproof.verify(theorems=tmp_path)
    assert report.verdicts() == {"meas.rate": "HOLDS", "meas.rate.twin_fast": "FALSIFIED",
                                 "meas.batched": "HOLDS", "meas.batched.twin_fast": "FALSIFIED",
                                 "meas.short": "ERROR", "meas.separation": "HOLDS"}
    singles = [c for c in module.CALLS if not isinstance(c[1], tuple)]
    assert len(singles) == 15                           # measured once for claim and twin
    batches = [c for c in module.CALLS if isinstance(c[1], tuple)]
    assert [(m, len(ss)) for m, ss in batches] == [(m, 4) for m in (8, 16, 32, 64, 128)]  # once a width
    assert ("a batch measure returned 1 values for the 3 seeds at x = 8"
            in report.claim("meas.short")["message"])
    for cid in ("meas.rate", "meas.rate.twin_fast"):    # the narrowest net's 1/8, from the points
        assert "measured 0.125, required <= 0.2" in report.claim(cid)["message"]


def test_a_twin_alone_can_be_selected_and_reproduced(declared):
    assert main(["verify", "toy.cosine_2.twin_small_constant", "--out", "out"]) == 0
    assert list(_records(declared / "out")) == ["toy.cosine_2.twin_small_constant"]
    assert main(["list", "toy.cosine_2"]) == 0


def test_verify_from_python_matches_the_cli(declared, capsys):
    assert main(["verify", "--out", "cli"]) == 0
    report = ntkproof.verify(theorems="theorems", out="py")
    cli = _records(declared / "cli")
    assert report.verdicts() == {cid: r["verdict"] for cid, r in cli.items()}
    for cid, rec in cli.items():  # same seeds, same numbers
        assert report.claim(cid).get("tightness") == rec.get("tightness")
    assert report.passed and "PASSED" in repr(report) and "<html" in report._repr_html_()
    assert (declared / "py" / "report.html").exists()
    with pytest.raises(InvalidArgument, match="selector 'toy.cosin' matches no claim"):
        ntkproof.verify("toy.cosin", theorems="theorems")


SAME_NAME = '''
from ntkproof import Box, claim


@claim("same.cosine", kind="bound", title="1 - cos x <= x^2/c", statement="s", source="s",
       known_sup=1.0)
def test_cosine(ntk):
    ntk.bound(lambda b, x: (1 - b.cos(x), x * x / {c}, 1 + b.abs(b.cos(x))), Box(x=(-3.0, 3.0)))
'''


def test_runs_in_one_process_run_the_files_they_name(tmp_path, monkeypatch, capsys):
    """Two folders' theorems/test_same.py (one true, one false), then an edited file:
    each run, CLI or Python, runs the file it names as it is now, never a module an
    earlier run of the same process imported under the same name."""
    for name, c in (("true", 2.0), ("false", 2.5)):
        (tmp_path / name / "theorems").mkdir(parents=True)
        (tmp_path / name / "theorems" / "test_same.py").write_text(SAME_NAME.format(c=c))
    for name, code in (("true", 0), ("false", 1), ("true", 0)):
        monkeypatch.chdir(tmp_path / name)
        assert main(["verify", "--out", "out"]) == code, name
        assert ntkproof.verify(theorems="theorems").passed is (code == 0), name
    edited = tmp_path / "true" / "theorems" / "test_same.py"
    edited.write_text(SAME_NAME.format(c=2.5))
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a coarse clock
    assert main(["verify", "--out", "edited"]) == 1
    assert not ntkproof.verify(theorems="theorems").passed


def test_a_twin_override_the_body_does_not_take_is_an_error_at_decoration():
    with pytest.raises(InvalidArgument, match="overrides \\['factor'\\], which body does not"):
        @claim("toy.x", kind="bound", title="t", statement="s", source="s",
               twins=[Twin("twin", title="t", statement="s", factor=0.9)])
        def body(ntk):
            pass


LEGACY = '''
"""A theorem file written against the public API before the layout moved."""
import pytest
from ntkproof import Box, claim
from ntkproof.activations import get_activation
from ntkproof.networks import TwoLayer


@claim("legacy.tanh_bound", kind="bound", title="tanh' <= 1", statement="x", source="s",
       known_sup=1.0)
def test_bound(ntk):
    act = get_activation("tanh")
    ntk.bound(lambda b, z: (b.abs(act.df(b, z)), 1.0 + 0 * z), Box(z=(-3.0, 3.0)))


@claim("legacy.twin_half", kind="bound", title="twin", statement="x", source="falsified twin",
       twin_of="legacy.tanh_bound")
def test_twin(ntk):
    act = get_activation("tanh")
    ntk.bound(lambda b, z: (b.abs(act.df(b, z)), 0.5 + 0 * z), Box(z=(-3.0, 3.0)))


@claim("legacy.mpmath_only", kind="identity", title="x", statement="x", source="s")
def test_skip(ntk):
    if ntk.backend.name != "mpmath":
        ntk.skip("runs on mpmath only")
    ntk.identity(lambda b, x: (x, x, 1.0), [{"x": 1.0}])


@claim("legacy.network", kind="identity", title="f(0) = 0", statement="x", source="s")
def test_network(ntk):
    net = TwoLayer(3, 8, "relu", seed=0)
    ntk.identity(lambda b, x: (b.asarray(net([[0.0, 0.0, 0.0]]))[0], 0.0 * x, 1.0),
                 [{"x": 1.0}])
'''


def test_a_theorem_file_written_against_the_old_api_still_runs(pytester):
    pytester.makepyfile(test_legacy=LEGACY)
    result = pytester.runpytest("-W", "default::DeprecationWarning")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*ntkproof.activations moved to ntkproof.nn.activations*"])
    result.stdout.fnmatch_lines(["*legacy.twin_half*rejected as expected*"])


PRECONDITION = '''
from ntkproof import Twin, claim


@claim("pre.trained", kind="identity", title="needs training", statement="x", source="s",
       twins=[Twin("twin_off", title="twin", statement="y", offset=1.0)])
def test_trained(ntk, offset=0.0):
    final_loss = 0.05                       # the "training" stopped early
    if not ntk.require("trained", final_loss, at_most=1e-3, what="final training loss"):
        return
    ntk.identity(lambda b, x: (x + offset, x, 1.0), [{"x": 1.0}])
'''


def test_a_failed_precondition_makes_claim_and_twin_inconclusive_with_the_value(pytester):
    pytester.makepyfile(test_pre=PRECONDITION)
    result = pytester.runpytest("--ntk-report", "out")
    result.assert_outcomes(skipped=1)
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    recs = {c["id"]: c for c in report["claims"]}
    assert recs["pre.trained"]["verdict"] == "INCONCLUSIVE"
    assert "measured 0.05, required <= 0.001" in recs["pre.trained"]["message"]
    assert recs["pre.trained.twin_off"]["verdict"] == "INCONCLUSIVE"
    assert report["summary"]["status"] == "PASSED" and not report["summary"]["failures"]
    assert "1 INCONCLUSIVE" in report["summary"]["headline"]
