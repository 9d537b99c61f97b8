"""Statements as mathematics: LaTeX strings to SVG images with matplotlib's mathtext.

mathtext parses a subset of TeX. :func:`normalize` rewrites the common commands
it lacks into ones it knows (``\\le`` → ``\\leq``, ``\\tfrac`` → ``\\frac``,
``\\lVert`` → ``\\Vert``, braces around one-token arguments such as
``\\frac12`` and ``\\sqrt m``, sizing commands such as ``\\big`` and ``\\displaystyle``
dropped); a statement it still cannot parse is shown as its raw text in
``<code>``, and so is every statement when matplotlib is not installed.
"""

from __future__ import annotations

import base64
import html
import io
import re
import warnings
from functools import lru_cache

__all__ = ["normalize", "statement_svg", "statement_html"]

_REPLACE = [
    (r"\\(?:d|t)frac(?![A-Za-z])", r"\\frac"), (r"\\le\b", r"\\leq"), (r"\\ge\b", r"\\geq"),
    (r"\\ne\b", r"\\neq"), (r"\\lVert\b", r"\\Vert"), (r"\\rVert\b", r"\\Vert"),
    (r"\\lvert\b", "|"), (r"\\rvert\b", "|"), (r"\\coloneqq\b", ":="),
    (r"\\(?:big|Big|bigg|Bigg)(?:l|r|m)?\b", ""), (r"\\(?:display|text|script)style\b", ""),
    (r"\\(?:no)?limits\b", ""), (r"\\operatorname\*", r"\\operatorname"),
    # TeX takes one-token arguments without braces (\frac12, \sqrt m, \binom dk,
    # \mathcal X); mathtext wants braces
    (r"\\(frac|binom)(?![A-Za-z])\s*([0-9A-Za-z])\s*([0-9A-Za-z])", r"\\\1{\2}{\3}"),
    (r"\\(frac|binom)(?![A-Za-z])\s*([0-9A-Za-z])\s*\{", r"\\\1{\2}{"),
    (r"\\(sqrt|mathcal|mathrm|mathbf|mathbb|overline)(?![A-Za-z])\s*([0-9A-Za-z])",
     r"\\\1{\2}"),
    (r"\\sqrt(?![A-Za-z])\s*(\\[A-Za-z]+)", r"\\sqrt{\1}"),
]


def normalize(latex: str) -> str:
    """Rewrite ``latex`` into the TeX subset mathtext parses (best effort)."""
    text = latex.strip()
    if text.startswith("$") and text.endswith("$"):
        text = text.strip("$")
    for pattern, repl in _REPLACE:
        text = re.sub(pattern, repl, text)
    return " ".join(text.split())


@lru_cache(maxsize=512)
def statement_svg(latex: str) -> bytes | None:
    """The statement typeset as a standalone SVG, or None (no matplotlib, or
    mathtext cannot parse it)."""
    body = normalize(latex)
    if not body:
        return None
    try:
        from matplotlib import mathtext  # noqa: PLC0415 - optional dependency (plots extra)
        from matplotlib.font_manager import FontProperties  # noqa: PLC0415 - optional dependency
    except ImportError:
        return None
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # zero-height boxes divide by 0
            mathtext.math_to_image(f"${body}$", buf, prop=FontProperties(size=15), format="svg")
    except (ValueError, RuntimeError, KeyError):  # a parse error: the raw text is shown
        return None
    svg = buf.getvalue()
    return svg if b"<svg" in svg else None


def statement_html(latex: str) -> str:
    """An ``<img>`` of the typeset statement (SVG as a data URI, so the glyph ids
    of different statements cannot clash), or the raw text in ``<code>``."""
    svg = statement_svg(latex)
    raw = html.escape(latex, quote=True)
    if svg is None:
        return f"<code class='tex'>{raw}</code>"
    data = base64.b64encode(svg).decode("ascii")
    return f"<img class='math' alt='{raw}' title='{raw}' src='data:image/svg+xml;base64,{data}'>"
