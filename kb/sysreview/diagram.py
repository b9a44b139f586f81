"""The PRISMA 2020 flow diagram, drawn with matplotlib from :class:`PrismaCounts`.

The layout follows the PRISMA 2020 template for new reviews: a column for
records from databases and registers (identification, screening, retrieval,
eligibility, inclusion) with the exclusions to its right, a second column for
other methods when the review has such records, and the phase labels down the
left side. Every number on it comes from :func:`kb.sysreview.prisma.prisma_counts`.
Written by hand because no maintained Python package draws PRISMA 2020 diagrams
(the reference implementation is the R package PRISMA2020, fed by ``-o flow.csv``).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from kb.errors import UsageError
from kb.sysreview.prisma import PrismaCounts

FORMATS = (".png", ".svg")
_LINE = 2.1  # height of one text line, in data units
_PAD = 1.6
_WRAP = 40


@dataclass
class _Box:
    key: str
    lines: list[str]
    x: float
    w: float
    row: int
    fill: str = "white"
    bold_first: bool = False
    y: float = 0.0
    h: float = 0.0


def _n(value: int) -> str:
    # No-break spaces: a line is never wrapped inside "(n = 12)".
    return f"(n\u00a0=\u00a0{value:,})"


def _wrap(text: str, width: int = _WRAP, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ")


def _reason_lines(items: tuple[tuple[str, int], ...]) -> list[str]:
    out: list[str] = []
    for label, n in items:
        out += _wrap(f"{label} {_n(n)}", indent="  ")
    return out


def _boxes(c: PrismaCounts, with_other: bool) -> list[_Box]:
    # columns: dbr main, dbr side, [other main, other side]
    if with_other:
        cols = {
            "main": (7.0, 24.0),
            "side": (33.0, 22.0),
            "omain": (59.0, 19.0),
            "oside": (80.0, 19.0),
        }
    else:
        cols = {"main": (7.0, 40.0), "side": (53.0, 40.0)}
    wrap_main = 38 if with_other else _WRAP
    b: list[_Box] = []

    def add(key: str, col: str, row: int, lines: list[str], **kw: object) -> None:
        x, w = cols[col]
        b.append(_Box(key, lines, x, w, row, **kw))  # type: ignore[arg-type]

    ident = ["Records identified from:", f"Databases {_n(c['database_results'])}"]
    if len(c.database_specific) > 1:
        ident += _reason_lines(c.database_specific)
    ident.append(f"Registers {_n(c['register_results'])}")
    if len(c.register_specific) > 1:
        ident += _reason_lines(c.register_specific)
    add("identified", "main", 1, ident)
    add(
        "removed",
        "side",
        1,
        [
            "Records removed before screening:",
            f"  Duplicate records {_n(c['duplicates'])}",
            *_wrap(
                f"Records marked as ineligible by automation tools {_n(c['excluded_automatic'])}",
                indent="  ",
            ),
            *_wrap(f"Records removed for other reasons {_n(c['excluded_other'])}", indent="  "),
        ],
    )
    screened = [f"Records screened {_n(c['records_screened'])}"]
    if c["records_awaiting_screening"]:
        screened.append(f"  awaiting screening {_n(c['records_awaiting_screening'])}")
    add("screened", "main", 2, screened)
    add(
        "records_excluded",
        "side",
        2,
        [
            f"Records excluded {_n(c['records_excluded'])}",
            *_reason_lines(c.records_excluded_reasons),
        ],
    )
    sought = [f"Reports sought for retrieval {_n(c['dbr_sought_reports'])}"]
    waiting = c["dbr_sought_reports"] - c["dbr_notretrieved_reports"] - c["dbr_assessed"]
    if waiting:
        sought.append(f"  awaiting assessment {_n(waiting)}")
    add("sought", "main", 3, sought)
    add("notretrieved", "side", 3, [f"Reports not retrieved {_n(c['dbr_notretrieved_reports'])}"])
    assessed = _wrap(f"Reports assessed for eligibility {_n(c['dbr_assessed'])}", wrap_main)
    add("assessed", "main", 4, assessed)
    excluded = (
        ["Reports excluded:", *_reason_lines(c.dbr_excluded)]
        if c.dbr_excluded
        else [f"Reports excluded {_n(0)}"]
    )
    add("excluded", "side", 4, excluded)
    included = [
        f"Studies included in review {_n(c['total_studies'])}",
        f"Reports of included studies {_n(c['total_reports'])}",
    ]
    add("included", "main", 5, [line for text in included for line in _wrap(text, wrap_main)])
    if with_other:
        add(
            "o_identified",
            "omain",
            1,
            [
                "Records identified from:",
                f"  Websites {_n(c['website_results'])}",
                f"  Organisations {_n(c['organisation_results'])}",
                f"  Citation searching {_n(c['citations_results'])}",
            ],
        )
        o_sought = _wrap(f"Reports sought for retrieval {_n(c['other_sought_reports'])}", 30)
        o_waiting = (
            c["other_sought_reports"] - c["other_notretrieved_reports"] - c["other_assessed"]
        )
        if o_waiting:
            o_sought.append(f"  awaiting assessment {_n(o_waiting)}")
        add("o_sought", "omain", 3, o_sought)
        add(
            "o_notretrieved",
            "oside",
            3,
            _wrap(f"Reports not retrieved {_n(c['other_notretrieved_reports'])}", 28),
        )
        add(
            "o_assessed",
            "omain",
            4,
            _wrap(f"Reports assessed for eligibility {_n(c['other_assessed'])}", 30),
        )
        oexcl = (
            ["Reports excluded:", *_reason_lines(c.other_excluded)]
            if c.other_excluded
            else [f"Reports excluded {_n(0)}"]
        )
        add("o_excluded", "oside", 4, oexcl)
    return b


def draw_flow(counts: PrismaCounts, path: Path, title: str | None = None) -> Path:
    """Draw the flow diagram to ``path`` (``.png`` or ``.svg``).

    :raises UsageError: another file type.
    :raises CouldNotRun: the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UsageError(
            f"{path}: the diagram file must end in .png or .svg (or .csv for PRISMA2020)"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    with_other = any(
        counts[k] for k in ("website_results", "organisation_results", "citations_results")
    )
    boxes = _boxes(counts, with_other)
    rows = sorted({bx.row for bx in boxes})
    gap = 4.0
    header_h = 5.0
    y = 0.0
    row_top: dict[int, float] = {}
    for row in rows:
        h = max(len(bx.lines) for bx in boxes if bx.row == row) * _LINE + 2 * _PAD
        row_top[row] = y
        for bx in boxes:
            if bx.row == row:
                bx.y, bx.h = y, h
        y += h + gap
    height = y - gap
    total = header_h + 2.0 + height
    width_units = 100.0
    fig_w = 11.0 if with_other else 9.0
    fig = plt.figure(figsize=(fig_w, fig_w * total / width_units * (100 / 100) * 0.95 + 0.6))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.set_xlim(0, width_units)
    ax.set_ylim(total + 0.5, -0.5 - (4 if title else 0))
    ax.axis("off")
    fontsize = 8.0 if with_other else 9.0

    def draw_box(x: float, top: float, w: float, h: float, fill: str, edge: str = "black") -> None:
        ax.add_patch(
            FancyBboxPatch(
                (x, top), w, h, boxstyle="square,pad=0", facecolor=fill, edgecolor=edge, lw=0.9
            )
        )

    if title:
        ax.text(
            width_units / 2, -2.5, title, ha="center", va="center", fontsize=fontsize + 1, wrap=True
        )
    # headers
    main_x, main_w = boxes[0].x, 0.0
    side = next(bx for bx in boxes if bx.key == "removed")
    main_w = side.x + side.w - main_x
    draw_box(main_x, 0, main_w, header_h, "#FFC000")
    ax.text(
        main_x + main_w / 2,
        header_h / 2,
        "Identification of new studies via databases and registers",
        ha="center",
        va="center",
        fontsize=fontsize,
        weight="bold",
    )
    if with_other:
        o1 = next(bx for bx in boxes if bx.key == "o_identified")
        o2 = next(bx for bx in boxes if bx.key == "o_excluded")
        ow = o2.x + o2.w - o1.x
        draw_box(o1.x, 0, ow, header_h, "#D9D9D9")
        ax.text(
            o1.x + ow / 2,
            header_h / 2,
            "Identification of new studies via other methods",
            ha="center",
            va="center",
            fontsize=fontsize,
            weight="bold",
        )
    offset = header_h + 2.0
    for bx in boxes:
        bx.y += offset
    # phase labels down the left
    phases = (("Identification", (1, 1)), ("Screening", (2, 4)), ("Included", (5, 5)))
    for label, (first, last) in phases:
        top = row_top[first] + offset
        bottom = row_top[last] + offset + max(b.h for b in boxes if b.row == last)
        draw_box(0.5, top, 4.5, bottom - top, "#9DC3E6", edge="#9DC3E6")
        ax.text(
            2.75,
            (top + bottom) / 2,
            label,
            rotation=90,
            ha="center",
            va="center",
            fontsize=fontsize,
            weight="bold",
        )
    for bx in boxes:
        draw_box(bx.x, bx.y, bx.w, bx.h, bx.fill)
        ax.text(
            bx.x + 1.0,
            bx.y + _PAD,
            "\n".join(bx.lines),
            ha="left",
            va="top",
            fontsize=fontsize,
            linespacing=1.35,
        )
    by = {bx.key: bx for bx in boxes}

    def arrow(a: str, b: str, sideways: bool = False) -> None:
        s, t = by[a], by[b]
        if sideways:
            start = (s.x + s.w, s.y + s.h / 2)
            end = (t.x, t.y + t.h / 2) if abs(t.y - s.y) < 0.01 else (t.x, s.y + s.h / 2)
        elif abs(s.x - t.x) < 0.01:
            start, end = (s.x + s.w / 2, s.y + s.h), (t.x + t.w / 2, t.y)
        else:  # other methods into the included box: down, then left
            start, end = (s.x + s.w / 2, s.y + s.h), (t.x + t.w, t.y + t.h / 2)
            ax.plot([start[0], start[0]], [start[1], end[1]], color="black", lw=0.9)
            start = (start[0], end[1])
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>",
                "color": "black",
                "lw": 0.9,
                "shrinkA": 0,
                "shrinkB": 0,
            },
        )

    arrow("identified", "screened")
    arrow("identified", "removed", sideways=True)
    arrow("screened", "sought")
    arrow("screened", "records_excluded", sideways=True)
    arrow("sought", "assessed")
    arrow("sought", "notretrieved", sideways=True)
    arrow("assessed", "included")
    arrow("assessed", "excluded", sideways=True)
    if with_other:
        arrow("o_identified", "o_sought")
        arrow("o_sought", "o_assessed")
        arrow("o_sought", "o_notretrieved", sideways=True)
        arrow("o_assessed", "o_excluded", sideways=True)
        arrow("o_assessed", "included")
    _save(fig, path)
    plt.close(fig)
    return path


def _save(fig: object, path: Path) -> None:
    """Save atomically, with no timestamps, so the same counts give the same bytes."""
    import io

    import matplotlib

    from kb.fileio import atomic_write_bytes

    buf = io.BytesIO()
    if path.suffix.lower() == ".svg":
        matplotlib.rcParams["svg.hashsalt"] = "ekb-prisma"
        fig.savefig(buf, format="svg", metadata={"Date": None})  # type: ignore[attr-defined]
    else:
        fig.savefig(buf, format="png", dpi=150, metadata={"Software": None})  # type: ignore[attr-defined]
    atomic_write_bytes(path, buf.getvalue())
