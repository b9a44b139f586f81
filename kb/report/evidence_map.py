"""The evidence map's bubble chart: interventions (rows) by outcomes (columns), as SVG.

Written by hand rather than with matplotlib: the chart needs a ``<title>`` per bubble (read
by screen readers and shown as a tooltip), a link from each bubble to its row in the text
table, and the same bytes on every run; matplotlib's SVG carries generated ids and none of
those. Bubble area is proportional to participants; colour is the lowest GRADE certainty
of the claims about the cell (grey when no claim rates it), and the certainty is also
written as a letter in the bubble so that colour is never the only cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

#: certainty label -> (fill colour, letter). Colours: the GRADE palette commonly used in
#: summary-of-findings tables, darkened where needed for 3:1 contrast with white text.
CERTAINTY_STYLE: dict[str, tuple[str, str]] = {
    "high": ("#1b7837", "H"),
    "moderate": ("#4d9221", "M"),
    "low": ("#b35806", "L"),
    "very low": ("#b2182b", "VL"),
}
UNRATED_STYLE = ("#6b6b6b", "–")

_CELL = 44  # px per grid cell
_MAX_R = 19
_MIN_R = 4
_CHAR_W = 6.4  # approximate width of one character at 12px, for laying out labels
_FONT = "font-family:system-ui,sans-serif"


@dataclass(frozen=True)
class Cell:
    intervention: str
    outcome: str
    studies: int
    participants: int | None
    certainty: str | None
    anchor: str


def cells_from_rows(rows: list[dict[str, Any]], anchor_for: Any) -> list[Cell]:
    return [
        Cell(
            intervention=str(r["intervention_label"] or r["intervention"]),
            outcome=str(r["outcome_label"] or r["outcome_concept"]),
            studies=int(r["studies"]),
            participants=None if r["participants"] is None else int(r["participants"]),
            certainty=r["certainty"],
            anchor=anchor_for(r),
        )
        for r in rows
    ]


def radius(participants: int | None, largest: int) -> float:
    """Area proportional to participants; a cell without a count gets the smallest bubble."""
    if not participants or largest <= 0:
        return float(_MIN_R)
    return max(_MIN_R, _MAX_R * math.sqrt(participants / largest))


def bubble_chart_svg(cells: list[Cell], title: str, chart_id: str) -> str:
    """The chart as an ``<svg>`` element to inline in the page; ``chart_id`` prefixes its ids."""
    interventions = sorted({c.intervention for c in cells})
    outcomes = sorted({c.outcome for c in cells})
    left = int(max((len(s) for s in interventions), default=10) * _CHAR_W) + 16
    top = int(max((len(s) for s in outcomes), default=10) * _CHAR_W * 0.72) + 24
    # The last column's label leans right of the grid by about its length x cos 45°.
    overhang = int(len(outcomes[-1]) * _CHAR_W * 0.72) if outcomes else 0
    width = left + _CELL * len(outcomes) + max(24, overhang)
    height = top + _CELL * len(interventions) + 16
    largest = max((c.participants or 0 for c in cells), default=0)
    desc = (
        f"Bubble chart of {len(cells)} intervention-outcome cells: {len(interventions)} "
        f"interventions by {len(outcomes)} outcomes. Bubble area is proportional to the "
        "participants of the studies; colour and letter give the lowest certainty of the "
        "claims about the cell. The table after the chart gives the same data as text."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bubble-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">Evidence map: {escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for j, outcome in enumerate(outcomes):
        x = left + _CELL * j + _CELL / 2
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 16}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{top - 8}" transform="rotate(-45 {x:.1f} {top - 8})" '
            f'font-size="12" style="{_FONT}">{escape(outcome)}</text>'
        )
    for i, intervention in enumerate(interventions):
        y = top + _CELL * i + _CELL / 2
        out.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left + _CELL * len(outcomes)}" y2="{y:.1f}" '
            'stroke="#ddd" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" '
            f'style="{_FONT}">{escape(intervention)}</text>'
        )
    for cell in sorted(cells, key=lambda c: (c.intervention, c.outcome)):
        x = left + _CELL * outcomes.index(cell.outcome) + _CELL / 2
        y = top + _CELL * interventions.index(cell.intervention) + _CELL / 2
        fill, letter = CERTAINTY_STYLE.get(cell.certainty or "", UNRATED_STYLE)
        r = radius(cell.participants, largest)
        people = (
            "participants not reported"
            if cell.participants is None
            else f"{cell.participants} participants"
        )
        studies = f"{cell.studies} {'study' if cell.studies == 1 else 'studies'}"
        label = (
            f"{cell.intervention}, {cell.outcome}: {studies}, {people}, "
            f"certainty {cell.certainty or 'not rated'}"
        )
        dash = ' stroke-dasharray="2 2"' if cell.participants is None else ""
        out.append(f'<a href="#{escape(cell.anchor)}"><g><title>{escape(label)}</title>')
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" fill-opacity="0.85" '
            f'stroke="#222" stroke-width="1"{dash}/>'
        )
        if r >= 9:
            out.append(
                f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-size="11" '
                f'fill="#fff" style="{_FONT};font-weight:bold" aria-hidden="true">{letter}</text>'
            )
        out.append("</g></a>")
    out.append("</svg>")
    return "\n".join(out)
