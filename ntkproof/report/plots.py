"""Plots of a report (the ``plots`` extra): one PNG per claim id, from stored JSON only.

* rate — error against width (or the claim's scaling variable) on log–log axes:
  per-seed errors, medians, the fitted line with its confidence band, and the
  claimed rate's line through the same centre;
* bound — the distribution of the tightness ratio lhs/rhs, the bound at 1, the
  known supremum and the largest ratio found;
* probabilistic bound — sorted ratios against the fraction of draws, the bound
  at 1 and the allowed violation fraction 1 - δ, with the violation count;
* separation — per-seed errors of both methods, paired seed by seed.

In a merged report the backends of one claim share a figure, one colour each.
matplotlib is imported here lazily, through the object API and the Agg canvas
(no pyplot, no global backend switch), so ``import ntkproof`` never loads it.
Without matplotlib, :func:`render_plots` returns no images and says why.

Re-rendering reuses a stored PNG when nothing it depends on changed: the folder
keeps ``index.json``, a hash per claim id of the claim's records, this module's
source and the matplotlib version.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .aggregate import column_of

__all__ = ["Plots", "render_plots", "plot_file_name"]

_COLORS = ["#1f5fa8", "#d1641b", "#2a8f4a", "#8a3fa0", "#8c6d1f", "#c2185b"]
_SIZE = (5.2, 3.1)
_DPI = 90

Series = list[tuple[str, str, dict[str, Any], dict[str, Any]]]  # label, colour, claim, data


@dataclass
class Plots:
    """PNG images by claim id, or the reason plots are off."""

    images: dict[str, bytes] = field(default_factory=dict)
    off: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # claim id -> why its plot is missing

    def write(self, folder: Path) -> dict[str, str]:
        """Write the images into ``folder`` (stale PNGs removed); paths relative to
        the report folder by claim id."""
        if folder.is_dir():
            for old in [*folder.glob("*.png"), folder / "index.json"]:
                old.unlink(missing_ok=True)
        if not self.images:
            return {}
        folder.mkdir(parents=True, exist_ok=True)
        out = {}
        for cid, png in self.images.items():
            name = plot_file_name(cid)
            (folder / name).write_bytes(png)
            out[cid] = f"{folder.name}/{name}"
        (folder / "index.json").write_text(json.dumps(self.keys, indent=1), encoding="utf-8")
        return out


def plot_file_name(claim_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", claim_id) + ".png"


def render_plots(report: dict[str, Any], reuse: Path | None = None) -> Plots:
    """One figure per claim id that has data to plot; ``reuse``: a plots folder
    written before, whose images are kept where their inputs did not change."""
    try:
        import matplotlib  # noqa: PLC0415 - optional dependency (plots extra)
    except ImportError:
        return Plots(off="plots are off: matplotlib is not installed "
                         "(pip install 'ntkproof[plots]')")
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in report["claims"]:
        groups.setdefault(c["id"], []).append(c)
    old = _index(reuse)
    plots = Plots()
    salt = hashlib.sha1(Path(__file__).read_bytes() + matplotlib.__version__.encode())
    for cid, claims in groups.items():
        series = _series(claims)
        if claims[0]["kind"] not in _DRAW or not series:
            continue
        h = salt.copy()
        h.update(json.dumps(claims, sort_keys=True, default=str).encode())
        key = plots.keys[cid] = h.hexdigest()
        stored = reuse / plot_file_name(cid) if reuse else None
        if stored and old.get(cid) == key and stored.is_file():
            plots.images[cid] = stored.read_bytes()
        else:
            try:
                plots.images[cid] = _figure_png(_DRAW[claims[0]["kind"]], series)
            except (ValueError, TypeError, KeyError, OverflowError) as exc:
                # odd stored data must cost one plot, never the report
                plots.failed[cid] = f"{type(exc).__name__}: {exc}"
                del plots.keys[cid]
    return plots


def _index(folder: Path | None) -> dict[str, str]:
    try:
        return json.loads((folder / "index.json").read_text(encoding="utf-8")) if folder else {}
    except (OSError, ValueError):
        return {}


def _figure_png(draw: Any, series: Series) -> bytes:
    from matplotlib.backends.backend_agg import (  # noqa: PLC0415 - optional dependency
        FigureCanvasAgg,
    )
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency

    fig = Figure(figsize=_SIZE, dpi=_DPI)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.13, right=0.97, top=0.86, bottom=0.17)
    ax = fig.add_subplot()
    ax.tick_params(labelsize=7)
    draw(ax, series)
    _plain_ticks(ax)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None},
                pil_kwargs={"compress_level": 2})  # level 6 costs a third of a plot
    return buf.getvalue()


def _plain_ticks(ax: Any) -> None:
    """At most five tick labels per axis, as plain text: the default log-axis labels
    go through mathtext, which costs more than the rest of a small figure."""
    from matplotlib.ticker import (  # noqa: PLC0415 - optional dependency
        FixedLocator,
        FuncFormatter,
        LogLocator,
        MaxNLocator,
    )

    for axis in (ax.xaxis, ax.yaxis):
        if isinstance(axis.get_major_locator(), FixedLocator):
            continue  # labelled categories (separation plots)
        log = axis.get_scale() == "log"
        axis.set_major_locator(LogLocator(numticks=5) if log else MaxNLocator(5))
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.minorticks_off()


def _series(claims: list[dict[str, Any]]) -> Series:
    out = []
    for i, c in enumerate(claims):
        data = _plot_data(c)
        if data:
            out.append((column_of(c), _COLORS[i % len(_COLORS)], c, data))
    return out


def _plot_data(c: dict[str, Any]) -> dict[str, Any] | None:
    """The data of the claim's own check kind that a plot needs, if any."""
    need = {"rate": ("xs", "medians", "errors"), "bound": ("ratios",),
            "probabilistic_bound": ("ratios",), "separation": ("a", "b")}.get(c["kind"])
    if need is None:
        return None
    checks = sorted(c.get("checks") or [], key=lambda k: k.get("kind") != c["kind"])
    for check in checks:
        data = check.get("data") or {}
        if all(data.get(k) for k in need):
            return data
    return None


def _legend(ax: Any) -> None:
    ax.legend(fontsize=7, frameon=False, loc="best")


def _centre(d: dict[str, Any]) -> tuple[Any, float, float]:
    """A grid over the ladder and the point (mean log x, mean log median) that the
    least-squares line passes through: fitted, interval and claimed lines pivot there."""
    xs = np.asarray(d["xs"], float)
    grid = np.geomspace(xs.min(), xs.max(), 40)
    return grid, float(np.log(xs).mean()), float(np.log(np.asarray(d["medians"], float)).mean())


def _line(slope: float, grid: Any, lx: float, ly: float) -> Any:
    return np.exp(ly + slope * (np.log(grid) - lx))


def _plot_rate(ax: Any, series: Series) -> None:
    for label, color, c, d in series:
        for x, errs in zip(d["xs"], d["errors"], strict=True):
            ax.scatter([x] * len(errs), errs, s=7, color=color, alpha=0.3, linewidths=0)
        ax.plot(d["xs"], d["medians"], "o", color=color, ms=4, label=f"{label}: median error")
        r, (grid, lx, ly) = c["rate"], _centre(d)
        lo, hi = r["ci"]
        a, b = _line(lo, grid, lx, ly), _line(hi, grid, lx, ly)
        ax.fill_between(grid, np.minimum(a, b), np.maximum(a, b), color=color, alpha=0.15,
                        linewidth=0)
        ax.plot(grid, _line(r["fitted"], grid, lx, ly), "-", color=color, lw=1.2,
                label=f"fit: slope {r['fitted']:.3f} [{lo:.3f}, {hi:.3f}]")
    _, _, c, d = series[0]
    r, (grid, lx, ly) = c["rate"], _centre(d)
    ax.plot(grid, _line(r["claimed"], grid, lx, ly), "--", color="black", lw=1,
            label=f"claimed slope {r['claimed']:g}" + (" (attained)" if r.get("attained") else ""))
    var = r.get("variable", "m")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("width m" if var == "m" else var, fontsize=8)
    ax.set_ylabel("error", fontsize=8)
    ax.set_title(f"error against {var} (log–log)", fontsize=9)
    _legend(ax)


def _ratios_log_scale(all_ratios: list[list[float]]) -> bool:
    flat = [x for rs in all_ratios for x in rs]
    return bool(flat) and min(flat) > 0 and max(flat) / min(flat) > 100


def _plot_bound(ax: Any, series: Series) -> None:
    logx = _ratios_log_scale([d["ratios"] for _, _, _, d in series])
    flat = [x for _, _, _, d in series for x in d["ratios"]] + [1.0]
    lo, hi = min(flat), max(flat)
    if hi - lo < 1e-9 * max(abs(hi), 1.0):  # every ratio equal to 1: give the bins a width
        lo, hi = lo - 0.05, hi + 0.05
    bins = np.geomspace(lo, hi, 31) if logx else np.linspace(lo, hi, 31)
    for label, color, c, d in series:
        t = c.get("tightness") or {}
        ax.hist(d["ratios"], bins=bins, histtype="stepfilled", alpha=0.45, color=color,
                label=f"{label}: {len(d['ratios'])} ratios, max {t.get('max', float('nan')):.8g}")
        if isinstance(t.get("max"), (int, float)):
            ax.axvline(t["max"], color=color, lw=1, ls=":")
    sup = (series[0][2].get("tightness") or {}).get("known_sup")
    same = isinstance(sup, (int, float)) and abs(sup - 1.0) < 1e-12
    ax.axvline(1.0, color="#b3261e", lw=1.4,
               label="bound (ratio 1) = known supremum" if same else "bound (ratio 1)")
    if isinstance(sup, (int, float)) and not same:
        ax.axvline(sup, color="black", lw=1, ls="--", label=f"known supremum {sup:g}")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("tightness ratio lhs / rhs", fontsize=8)
    ax.set_ylabel("cases", fontsize=8)
    ax.set_title("distribution of the tightness ratio", fontsize=9)
    _legend(ax)


def _plot_probabilistic(ax: Any, series: Series) -> None:
    for label, color, c, d in series:
        r = np.sort(np.asarray(d["ratios"], float))
        q = (np.arange(r.size) + 0.5) / r.size
        v = c.get("violations") or {}
        ax.plot(q, r, ".", ms=3, color=color,
                label=f"{label}: {v.get('count', '?')}/{v.get('n', '?')} violations, "
                      f"p ≤ {v.get('upper_bound', math.nan):.3g}")
        over = r > 1
        ax.plot(q[over], r[over], "x", ms=4, color="#b3261e")
    ax.axhline(1.0, color="#b3261e", lw=1.2, label="bound (ratio 1)")
    delta = (series[0][2].get("violations") or {}).get("delta")
    if isinstance(delta, (int, float)):
        ax.axvline(1 - delta, color="black", ls="--", lw=1, label=f"1 − δ = {1 - delta:g}")
    ax.set_xlabel("fraction of draws (sorted by ratio)", fontsize=8)
    ax.set_ylabel("observed / bound", fontsize=8)
    ax.set_title("observed against the bound, per draw", fontsize=9)
    _legend(ax)


def _plot_separation(ax: Any, series: Series) -> None:
    ticks, names = [], []
    for i, (label, color, _c, d) in enumerate(series):
        a, b = np.asarray(d["a"], float), np.asarray(d["b"], float)
        x0 = 3 * i
        la, lb = (d.get("labels") or ["A", "B"])[:2]
        if a.size == b.size:
            for ya, yb in zip(a, b, strict=True):
                ax.plot([x0, x0 + 1], [ya, yb], "-", color=color, alpha=0.35, lw=0.8)
        ax.plot([x0] * a.size, a, "o", color=color, ms=3)
        ax.plot([x0 + 1] * b.size, b, "s", color=color, ms=3)
        lo, hi = d.get("gap_ci") or [math.nan, math.nan]
        ax.plot([], [], "-", color=color, label=f"{label}: gap {lb}−{la} in [{lo:.3g}, {hi:.3g}]")
        ticks += [x0, x0 + 1]
        names += [la, lb]
    ax.set_xticks(ticks, names, fontsize=7)
    ax.set_xlim(-0.6, 3 * len(series) - 1.4)
    flat = [y for _, _, _, d in series for y in list(d["a"]) + list(d["b"])]
    if flat and min(flat) > 0 and max(flat) / min(flat) > 100:
        ax.set_yscale("log")
    ax.set_ylabel("error per seed", fontsize=8)
    ax.set_title("per-seed errors, paired by seed", fontsize=9)
    _legend(ax)


_DRAW = {"rate": _plot_rate, "bound": _plot_bound, "probabilistic_bound": _plot_probabilistic,
         "separation": _plot_separation}
