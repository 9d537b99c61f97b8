"""The README's worked theorem file runs, and its twin is rejected."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_theorem_example_runs(pytester):
    text = README.read_text()
    block = re.search(r"```python\n(\"\"\"Toy theorem.*?)```", text, re.S)
    assert block, "the README lost its worked theorem example"
    pytester.makepyfile(test_toy=block.group(1))
    result = pytester.runpytest()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*toy.twin_small_constant*rejected as expected*",
                                 "*toy.cosine*max ratio*% of sup 1)*"])


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_command():
    text = README.read_text()
    quick = re.search(r"## Quick start\n\n```bash\n(.*?)```", text, re.S).group(1)
    lines = [ln for ln in quick.splitlines() if ln.strip()]
    assert len(lines) == 2 and "ntkproof verify" in lines[0]
    ci = (README.parent / ".ci" / "run").read_text()
    assert lines[1].strip() in ci
