"""Forest plots of a :class:`kb.analysis.meta.MetaReport` with matplotlib (Agg, no display).

One row per study: label, n, a square sized by weight with its CI, the estimate and CI in
text, and the weight; the pooled diamond with its prediction interval; a heterogeneity
line (tau², I², Q, p). Single-arm and open-label studies are marked in the label
(``†`` single arm, ``*`` open label) and drawn with a hollow square. Ratio measures use a
log axis; proportions are drawn on the proportion scale.

:func:`forest_figure` returns the figure (tests count its rows);
:func:`save_forest` writes PNG or SVG, chosen by the file extension, atomically.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import UsageError
from kb.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kb.analysis.meta import MetaReport

#: File extensions :func:`save_forest` writes, and matplotlib's format names for them.
PLOT_FORMATS = {".png": "png", ".svg": "svg"}

_ROW_INCHES = 0.3
_SINGLE_ARM_MARK = "\u2020"  # dagger
_OPEN_LABEL_MARK = "*"


def _scale(report: MetaReport) -> tuple[str, float | None, str]:
    """(axis scale, null-effect line, axis label)."""
    from kb.analysis.effects import MEASURE_LABELS, RATIO_MEASURES

    m = report.measure
    label = MEASURE_LABELS.get(m, m)
    if m in RATIO_MEASURES:
        return "log", 1.0, f"{label} ({m}, log scale)"
    if m in ("PR", "PLO", "PFT"):
        return "linear", None, "proportion"
    return "linear", 0.0, f"{label} ({m})"


def _study_label(row: object) -> str:
    marks = ""
    if getattr(row, "single_arm", False):
        marks += _SINGLE_ARM_MARK
    if getattr(row, "open_label", False):
        marks += _OPEN_LABEL_MARK
    label = str(getattr(row, "label", ""))
    if len(label) > 34:
        label = label[:33] + "\u2026"
    return f"{label}{marks}"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.2f}"


def forest_figure(report: MetaReport) -> Figure:
    """Draw the forest plot; the figure is returned unsaved.

    Study rows carry ``gid`` ``study-row-<i>`` (``<i>`` from 1), the diamond
    ``pooled-diamond``, the heterogeneity text ``heterogeneity`` (also in SVG output).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    from kb.analysis.effects import BACK_TRANSFORMED

    rows = list(report.studies)
    k = len(rows)
    pooled = report.model is not None and report.pooled is not None
    n_lines = k + 3 + (2 if pooled else 1)  # header, studies, gap, pooled, heterogeneity, footnote
    height = max(3.0, 1.2 + _ROW_INCHES * n_lines)
    fig = Figure(figsize=(11.0, height), dpi=100)
    bottom = 0.9 / height
    top = 1 - 0.5 / height
    ax = fig.add_axes((0.40, bottom, 0.33, top - bottom))
    scale, null, xlabel = _scale(report)
    back = report.measure in BACK_TRANSFORMED
    pct = int(round(report.level * 100))

    # y: header at the top, then one row per study, a gap, the pooled row.
    y_header = n_lines - 1
    ys = [y_header - 1 - i for i in range(k)]
    y_pooled = ys[-1] - 2 if k else y_header - 2
    text_tf = blended_transform_factory(fig.transFigure, ax.transData)

    def point(r: object, which: str) -> float:
        return float(
            getattr(r, which if back else {"est": "yi", "lb": "ci_lb", "ub": "ci_ub"}[which])
        )

    xs_all: list[float] = []
    weights = [r.weight for r in rows if r.weight is not None]
    w_max = max(weights) if weights else 1.0
    for i, (r, y) in enumerate(zip(rows, ys, strict=True), start=1):
        est, lb, ub = point(r, "est"), point(r, "lb"), point(r, "ub")
        hollow = r.single_arm or r.open_label
        ax.plot(
            [lb, ub],
            [y, y],
            color="black",
            linewidth=1.0,
            gid=f"study-row-{i}",
            solid_capstyle="butt",
        )
        size = 6.0 if r.weight is None else 4.0 + 10.0 * math.sqrt(r.weight / w_max)
        ax.plot(
            [est],
            [y],
            marker="s",
            markersize=size,
            markerfacecolor="white" if hollow else "#2b5d8a",
            markeredgecolor="#2b5d8a",
            markeredgewidth=1.5,
            linestyle="none",
            gid=f"study-marker-{i}",
        )
        xs_all += [lb, ub]
        fig.text(
            0.01,
            y,
            _study_label(r),
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=9,
            gid=f"label-{i}",
        )
        fig.text(
            0.36,
            y,
            "" if r.n is None else f"{r.n:g}",
            transform=text_tf,
            va="center",
            ha="right",
            fontsize=9,
        )
        fig.text(
            0.75,
            y,
            f"{_fmt(est)} [{_fmt(lb)}, {_fmt(ub)}]",
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=9,
        )
        weight_text = "" if r.weight is None else f"{r.weight:.1f}%"
        fig.text(0.99, y, weight_text, transform=text_tf, va="center", ha="right", fontsize=9)

    est_name = (
        report.measure
        if report.measure in ("RR", "OR")
        else ("proportion" if back or report.measure == "PR" else report.measure)
    )
    for x, text, ha in (
        (0.01, "Study", "left"),
        (0.36, "n", "right"),
        (0.75, f"{est_name} [{pct}% CI]", "left"),
        (0.99, "Weight", "right"),
    ):
        fig.text(
            x, y_header, text, transform=text_tf, va="center", ha=ha, fontsize=9, fontweight="bold"
        )

    m = report.model
    if pooled and m is not None and report.pooled is not None:
        p = report.pooled
        est, lb, ub = (p.est, p.lb, p.ub) if back else (m.estimate, m.ci_lb, m.ci_ub)
        pi_lb, pi_ub = (p.pi_lb, p.pi_ub) if back else (m.pi_lb, m.pi_ub)
        ax.plot(
            [pi_lb, pi_ub],
            [y_pooled, y_pooled],
            color="#888888",
            linewidth=1.0,
            linestyle="--",
            gid="prediction-interval",
        )
        diamond = Polygon(
            [(lb, y_pooled), (est, y_pooled + 0.35), (ub, y_pooled), (est, y_pooled - 0.35)],
            closed=True,
            facecolor="#1f3b57",
            edgecolor="#1f3b57",
            gid="pooled-diamond",
        )
        ax.add_patch(diamond)
        xs_all += [lb, ub, pi_lb, pi_ub]
        fig.text(
            0.01,
            y_pooled,
            f"{report.method} model (k = {m.k})",
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=9,
            fontweight="bold",
        )
        fig.text(
            0.75,
            y_pooled,
            f"{_fmt(est)} [{_fmt(lb)}, {_fmt(ub)}]",
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=9,
            fontweight="bold",
        )
        fig.text(
            0.99,
            y_pooled,
            "100%",
            transform=text_tf,
            va="center",
            ha="right",
            fontsize=9,
            fontweight="bold",
        )
        p_text = "p < 0.0001" if m.q_pval < 0.0001 else f"p = {m.q_pval:.4f}"
        het = (
            f"Heterogeneity: \u03c4\u00b2 = {m.tau2:.4f}, I\u00b2 = {m.i2:.1f}%, "
            f"Q({m.q_df}) = {m.q:.2f}, {p_text}; dashed line: {pct}% prediction interval"
        )
        fig.text(
            0.01,
            y_pooled - 1,
            het,
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=8.5,
            gid="heterogeneity",
        )
    else:
        fig.text(
            0.01,
            y_pooled,
            report.message,
            transform=text_tf,
            va="center",
            ha="left",
            fontsize=9,
            style="italic",
            gid="no-pooling",
        )

    marks = []
    if any(r.single_arm for r in rows):
        marks.append(f"{_SINGLE_ARM_MARK} single-arm study (no comparator)")
    if any(r.open_label for r in rows):
        marks.append(f"{_OPEN_LABEL_MARK} open-label study")
    if marks:
        fig.text(
            0.01,
            0.15 / height,
            "Hollow squares: " + "; ".join(marks),
            fontsize=8,
            ha="left",
            va="bottom",
            gid="marks-legend",
        )

    ax.set_ylim(y_pooled - 1.5, y_header + 0.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    finite = [x for x in xs_all if math.isfinite(x) and (scale != "log" or x > 0)]
    if scale == "log":
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        if finite:
            lo, hi = min(finite), max(finite)
            ax.set_xlim(lo / 1.3, hi * 1.3)
    elif finite:
        lo, hi = min(finite), max(finite)
        if report.measure in ("PR", "PLO", "PFT"):
            lo, hi = max(0.0, lo), min(1.0, hi)
        pad = (hi - lo) * 0.05 or 0.05
        ax.set_xlim(lo - pad, hi + pad)
    if null is not None:
        ax.axvline(null, color="#666666", linewidth=0.8, linestyle=":", zorder=0)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    title = report.title or "Forest plot"
    # The method names the pooling model; one study is shown as reported, with no model.
    how = report.method if report.model is not None else "one study, not pooled"
    fig.suptitle(f"{title} \u2014 {how}", fontsize=10, y=1 - 0.12 / height, va="top")
    return fig


def save_forest(report: MetaReport, path: Path) -> None:
    """Write the forest plot to ``path`` (``.png`` or ``.svg``), atomically.

    :raises UsageError: another extension.
    :raises kb.errors.CouldNotRun: the file cannot be written.
    """
    path = Path(path)
    fmt = PLOT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"{path}: the plot file must end in .png or .svg")
    import matplotlib

    matplotlib.use("Agg", force=False)
    fig = forest_figure(report)
    buf = io.BytesIO()
    # No dates or random ids in the file, so the same data give the same bytes.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context({"svg.hashsalt": "ekb-forest", "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, metadata=metadata, dpi=150 if fmt == "png" else 100)
    atomic_write_bytes(path, buf.getvalue())
