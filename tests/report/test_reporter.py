"""The reporter: aggregation, Markdown/HTML rendering, plots, merge and diff.

Everything renders from stored records (``_report_fixtures.write_run``), never
from a re-run. One rendered run is shared by the module to keep the suite fast.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _report_fixtures import write_run

from ntkproof.cli import main
from ntkproof.report import build_report, load_schema, write_report
from ntkproof.report.diff import diff_reports, is_regression
from ntkproof.report.html import render_html
from ntkproof.report.mathtext import normalize, statement_html, statement_svg
from ntkproof.report.merge import merge_reports, run_labels
from ntkproof.report.plots import render_plots

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
PLOTTED = {"thm0.bound", "thm0.probabilistic_bound", "thm0.rate", "thm0.separation",
           "thm0.twin_bound"}

#: plots and mathtext need the optional matplotlib (the ``plots`` extra)
needs_matplotlib = pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    run = write_run(tmp_path_factory.mktemp("run"), theorems=1)
    return run, write_report(run)


def _validate(report):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(report, load_schema())


# -- aggregation -------------------------------------------------------------

def test_report_json_carries_the_aggregates_and_validates(rendered):
    run, report = rendered
    _validate(report)
    assert report == json.loads((run / "report.json").read_text())
    (row,) = report["theorems"]
    assert row["theorem"] == "thm0" and row["verdict"] == "HOLDS" and row["passed"]
    assert row["claims"] == 6 and row["twins"] == {"total": 1, "falsified": 1}
    bound = next(c for c in report["claims"] if c["id"] == "thm0.bound")
    assert bound["tightness"]["sup_reached"] == pytest.approx(bound["tightness"]["max"])
    assert report["summary"]["duration_s"] == pytest.approx(0.25 * 7)


def test_theorem_verdict_is_the_weakest_non_twin_claim(tmp_path):
    write_run(tmp_path, theorems=1, bad=("thm0.rate",))
    (row,) = build_report(tmp_path)["theorems"]
    assert row["verdict"] == "FALSIFIED" and not row["passed"]
    assert row["failures"] == ["thm0.rate (FALSIFIED)"]


# -- rendering ---------------------------------------------------------------

class _Balance(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "input", "link", "col", "area", "base", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_html_is_well_formed_and_offline(rendered):
    html = (rendered[0] / "report.html").read_text()
    parser = _Balance()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert not re.search(r"""(src|href)\s*=\s*['"]?\s*(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert html.index("id='summary'") < html.index("id='thm-thm0'")


@needs_matplotlib
def test_plots_are_embedded_pngs_and_statements_typeset(rendered):
    run, _ = rendered
    html = (run / "report.html").read_text()
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert len(pngs) == len(PLOTTED)
    for data in pngs:
        raw = base64.b64decode(data)
        assert raw.startswith(PNG) and len(raw) > 2000
    svgs = re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html)
    assert svgs and all(b"<svg" in base64.b64decode(s) for s in svgs)
    assert sorted(p.name for p in (run / "plots").glob("*.png")) == sorted(
        f"{cid}.png" for cid in PLOTTED)


@needs_matplotlib
def test_rerendering_reuses_unchanged_plots_and_redraws_changed_ones(tmp_path):
    write_run(tmp_path, theorems=1)
    write_report(tmp_path)
    rate, bound = tmp_path / "plots" / "thm0.rate.png", tmp_path / "plots" / "thm0.bound.png"
    rate.write_bytes(rate.read_bytes() + b"kept")
    bound.write_bytes(bound.read_bytes() + b"kept")
    index = json.loads((tmp_path / "plots" / "index.json").read_text())
    index["thm0.bound"] = "stale"
    (tmp_path / "plots" / "index.json").write_text(json.dumps(index))
    write_report(tmp_path)
    assert rate.read_bytes().endswith(b"kept") and not bound.read_bytes().endswith(b"kept")


@needs_matplotlib
def test_odd_stored_data_costs_at_most_its_own_plot(tmp_path):
    report = build_report(write_run(tmp_path, theorems=1))
    claims = {c["id"]: c for c in report["claims"]}
    claims["thm0.bound"]["checks"][0]["data"]["ratios"] = [1.0] * 5  # zero-width histogram
    claims["thm0.rate"]["checks"][0]["data"]["medians"][1] = "nan?"
    report["claims"] = [claims["thm0.bound"], claims["thm0.rate"]]
    plots = render_plots(report)
    assert plots.images["thm0.bound"].startswith(PNG)
    assert "thm0.rate" not in plots.images and "thm0.rate" in plots.failed
    assert "No plot: " in render_html(report, plots)


def test_markdown_lists_claims_with_math_and_linked_plots(rendered):
    run, report = rendered
    md = (run / "report.md").read_text()
    for c in report["claims"]:
        assert f"`{c['id']}`" in md
    assert md.index("## Summary") < md.index("## Theorems") < md.index("## thm0")
    assert "$$ |R(r,s)| \\le" in md and "reached 9" in md
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (run / link).read_bytes().startswith(PNG)
    assert "Clopper–Pearson upper bound" in md and "99.8% bootstrap interval" in md


@needs_matplotlib
def test_mathtext_normalizes_and_falls_back_to_code():
    assert normalize(r"a \le \tfrac{1}{2} \big( x \big)") == r"a \leq \frac{1}{2} ( x )"
    assert statement_svg(r"\|x\|_2 \le \tfrac{\beta}{2}") is not None
    fallback = statement_html(r"\begin{cases} x & y \end{cases}")
    assert fallback.startswith("<code") and "\\begin{cases}" in fallback


@pytest.mark.parametrize("tex,braced", [
    (r"\frac12", r"\frac{1}{2}"), (r"\tfrac12 k", r"\frac{1}{2} k"), (r"\frac1m", r"\frac{1}{m}"),
    (r"\frac1{m}", r"\frac{1}{m}"), (r"\sqrt m", r"\sqrt{m}"), (r"\sqrt2", r"\sqrt{2}"),
    (r"\sqrt\pi", r"\sqrt{\pi}"), (r"\binom dk", r"\binom{d}{k}"),
    (r"\mathcal X_+", r"\mathcal{X}_+"), (r"\frac{a}{b}", r"\frac{a}{b}"),
    (r"\sqrtx", r"\sqrtx")])
def test_mathtext_braces_one_token_arguments(tex, braced):
    """TeX's unbraced one-token arguments (as the theorem files write them) are braced
    for mathtext, which otherwise refuses them and shows raw LaTeX."""
    assert normalize(tex) == braced
    if braced != r"\sqrtx":
        pytest.importorskip("matplotlib")
        assert statement_svg(tex) is not None


def test_partial_run_has_a_banner_in_both_renderings(tmp_path):
    write_run(tmp_path, theorems=1, complete=False)
    report = write_report(tmp_path)
    assert report["run"]["complete"] is False
    assert "PARTIAL REPORT" in (tmp_path / "report.md").read_text()
    assert "class='banner'>PARTIAL REPORT" in (tmp_path / "report.html").read_text()


def test_report_renders_without_matplotlib(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    statement_svg.cache_clear()
    try:
        write_run(tmp_path, theorems=1)
        write_report(tmp_path)
    finally:
        statement_svg.cache_clear()
    md, html = (tmp_path / "report.md").read_text(), (tmp_path / "report.html").read_text()
    assert "Plots are off: matplotlib is not installed" in md and "Plots are off" in html
    assert "data:image" not in html and "<code class='tex'>" in html
    assert not (tmp_path / "plots").exists()


def test_importing_ntkproof_and_the_reporter_does_not_import_matplotlib():
    code = ("import sys, ntkproof, ntkproof.report, ntkproof.report.merge, "
            "ntkproof.report.diff, ntkproof.cli; assert 'matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# -- merge -------------------------------------------------------------------

@pytest.fixture
def two_backends(tmp_path):
    a = write_run(tmp_path / "numpy", backend="numpy:float64", theorems=1)
    b = write_run(tmp_path / "torch", backend="torch:float64", theorems=1, bad=("thm0.rate",))
    return a, b


def test_merge_builds_the_claim_by_backend_matrix(two_backends):
    report = merge_reports(two_backends)
    _validate(report)
    m = report["merged"]["matrix"]
    assert m["columns"] == ["numpy:float64", "torch:float64"]
    rate = next(r for r in m["rows"] if r["id"] == "thm0.rate")
    assert rate["verdicts"] == {"numpy:float64": "HOLDS", "torch:float64": "FALSIFIED"}
    assert rate["agree"] is False
    assert sum(r["agree"] for r in m["rows"]) == len(m["rows"]) - 1
    assert report["summary"]["failures"] == ["thm0.rate (FALSIFIED) on torch:float64"]
    assert report["run"]["backend"] == "numpy+torch" and report["summary"]["total"] == 14


def test_merge_cli_writes_a_rerenderable_report(two_backends, tmp_path, capsys):
    out = tmp_path / "merged"
    # the merged run holds a FALSIFIED claim: the report is written, the status is FAILED
    assert main(["report", "--merge", *map(str, two_backends), "--out", str(out)]) == 1
    html = (out / "report.html").read_text()
    assert "numpy:float64</th><th>torch:float64" in html and "class='disagree'" in html
    assert "| `thm0.rate` | HOLDS | FALSIFIED | **no** |" in (out / "report.md").read_text()
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 1  # a merged folder re-renders from report.json
    assert (out / "report.md").exists()


def test_the_header_says_which_device_a_torch_run_computed_on(two_backends, tmp_path):
    """run.json keeps a torch run's device (here as a GPU run would write it); the merged
    report's header names it, and a numpy run's header names none."""
    numpy_run, torch_run = two_backends
    meta = json.loads((torch_run / "run.json").read_text())
    assert "device" not in json.loads((numpy_run / "run.json").read_text())["machine"]
    meta["machine"]["device"] = "cuda:0 (NVIDIA H200)"
    (torch_run / "run.json").write_text(json.dumps(meta))
    out = tmp_path / "merged"
    main(["report", "--merge", str(numpy_run), str(torch_run), "--out", str(out)])
    assert "torch device **cuda:0 (NVIDIA H200)**" in (out / "report.md").read_text()
    assert "torch device <b>cuda:0 (NVIDIA H200)</b>" in (out / "report.html").read_text()
    assert main(["report", str(numpy_run)]) == 0
    assert "torch device" not in (numpy_run / "report.md").read_text()


def test_merge_refuses_mixed_budgets_and_a_run_folder_as_output(two_backends, capsys):
    a, b = two_backends
    assert main(["report", "--merge", str(a), str(b), "--out", str(a)]) == 4
    assert "is a run folder" in capsys.readouterr().err
    meta = json.loads((b / "run.json").read_text())
    (b / "run.json").write_text(json.dumps(dict(meta, budget="standard")))
    assert main(["report", "--merge", str(a), str(b), "--out", str(b.parent / "m")]) == 4
    assert "different budgets" in capsys.readouterr().err
    assert main(["report", "--merge", str(a)]) == 4  # --out missing


def test_run_labels_disambiguate_same_backend():
    runs = [{"backend": "numpy", "dtype": "float64", "seed": s, "id": i}
            for s, i in ((0, "a"), (1, "b"), (1, "c"))]
    assert run_labels(runs) == ["numpy:float64 seed 0", "numpy:float64 seed 1 run b",
                                "numpy:float64 seed 1 run c"]


# -- diff --------------------------------------------------------------------

@pytest.mark.parametrize("old,new,twin,expected", [
    ("HOLDS", "INCONCLUSIVE", False, True), ("PROVED", "SKIPPED", False, True),
    ("INCONCLUSIVE", "FALSIFIED", False, True), ("INCONCLUSIVE", "HOLDS", False, False),
    ("FALSIFIED", "HOLDS", False, False), ("HOLDS", "PROVED", False, False),
    ("FALSIFIED", "INCONCLUSIVE", True, True), ("HOLDS", "FALSIFIED", True, False),
])
def test_what_counts_as_a_regression(old, new, twin, expected):
    extra = {"twin_of": "x.y"} if twin else {}
    assert is_regression({"verdict": old, **extra}, {"verdict": new, **extra}) is expected


def test_diff_exits_nonzero_on_an_injected_regression(tmp_path, capsys):
    old = write_run(tmp_path / "old", theorems=1)
    new = write_run(tmp_path / "new", theorems=1, bad=("thm0.bound", "thm0.twin_bound"))
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"REGRESSION\s+thm0.bound\s+verdict HOLDS -> FALSIFIED", out)
    assert re.search(r"REGRESSION\s+thm0.twin_bound\s+verdict FALSIFIED -> HOLDS", out)
    assert main(["diff", str(old), str(old)]) == 0
    assert "0 regressions" in capsys.readouterr().out
    assert main(["diff", str(old), str(tmp_path)]) == 4
    assert "not an ntkproof run directory" in capsys.readouterr().err
    assert main(["diff", str(old), str(new), "--threshold", "-1"]) == 4
    assert "--threshold must be a relative change >= 0" in capsys.readouterr().err


def test_diff_lists_moved_tightness_and_rates_beyond_the_threshold(tmp_path):
    old = build_report(write_run(tmp_path / "old", theorems=1))
    new = json.loads(json.dumps(old))
    claims = {c["id"]: c for c in new["claims"]}
    claims["thm0.bound"]["tightness"]["max"] *= 0.9
    claims["thm0.rate"]["rate"]["fitted"] *= 1.02
    claims["thm0.identity"]["tightness"]["max"] *= 50  # rounding noise: not listed
    new["claims"].remove(claims["thm0.separation"])
    changes = {(c.claim, c.what) for c in diff_reports(old, new, threshold=0.05)}
    assert changes == {("thm0.bound", "tightness"), ("thm0.separation", "removed")}
    changes = {(c.claim, c.what) for c in diff_reports(old, new, threshold=0.01)}
    assert ("thm0.rate", "rate") in changes
    assert not any(c.regression for c in diff_reports(old, new))


@pytest.mark.parametrize("command,words", [
    ("diff", ("--threshold", "OLD", "NEW", "regression")), ("report", ("--merge", "--out")),
])
def test_help_documents_merge_and_diff(command, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(w in out for w in words)


# -- a real browser, where one is installed -----------------------------------

def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_chromium() is None, reason="no Chromium on this machine")
def test_html_screenshot_in_headless_chromium_is_not_blank(rendered, tmp_path):
    image = pytest.importorskip("PIL.Image")
    shot = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={shot}", "--window-size=1200,1400",
           (rendered[0] / "report.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=90, check=False)
    assert shot.exists(), "Chromium wrote no screenshot"
    pixels = image.open(shot).convert("L")
    lo, hi = pixels.getextrema()
    assert hi - lo > 100  # text and badges on a light page, not a blank one
    assert sum(1 for n in pixels.histogram() if n) > 20
