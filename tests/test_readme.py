"""The README's worked theorem file runs, and its twin is rejected."""

from __future__ import annotations

import re
import subprocess
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


def test_readme_quick_start_is_two_commands_and_ci_runs_them_as_written():
    text = README.read_text()
    quick = re.search(r"## Quick start\n\n```bash\n(.*?)```", text, re.S).group(1)
    lines = [ln for ln in quick.splitlines() if ln.strip()]
    assert len(lines) == 2 and "ntkproof verify" in lines[0] and "pytest" in lines[1]
    ci = (README.parent / ".ci" / "run").read_text()
    # CI reads the two commands out of the README with its readme_command function and
    # runs each in a fresh environment: the function must find exactly these lines
    function = re.search(r"^readme_command\(\) \{\n.*?^\}\n", ci, re.S | re.M)
    assert function, ".ci/run lost its readme_command function"
    assert 'bash -c "$main_cmd"' in ci and 'bash -c "$test_cmd"' in ci
    found = [subprocess.run(["bash", "-c", function.group(0) + f"readme_command {i}"],
                            cwd=README.parent, capture_output=True, text=True,
                            check=True).stdout.strip() for i in (1, 2)]
    assert found == [ln.strip() for ln in lines]
