"""The review page's Summary of Findings and risk-of-bias traffic lights.

Both are read from the libraries that answer ``ekb sof`` and ``ekb rob``, never computed
here: the Summary of Findings is :func:`kb.grade.sof.build` (the same table, numbers and
footnotes as ``ekb sof REVIEW -f json``), the risk-of-bias table is
:func:`kb.rob.robvis.robvis_table` and its plot :func:`kb.rob.robvis.traffic_light`, over
the assessments stored in the review (:func:`kb.rob.store.review_assessments`). This module
only turns them into the words and cells the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.report.figures import svg_bytes

#: The tools' names as the page prints them (the assessments' ``tool`` values as keys).
TOOL_NAMES = {"rob2": "RoB 2", "robins-i": "ROBINS-I V2"}


def _num(x: float) -> str:
    return f"{x:.2f}"


@dataclass
class SofLine:
    """One outcome's row of the Summary of Findings, as the page prints it."""

    outcome: str
    label: str
    importance: str
    usable: bool
    message: str
    #: ``message`` split at its first colon: "no usable data" and the reasons
    message_head: str = ""
    message_rest: str = ""
    participants: str = "—"
    relative: str = "—"
    absolute: str = "—"
    certainty: str = "not rated"
    certainty_rating: str | None = None
    footnotes: list[int] = field(default_factory=list)
    statement: str = ""
    how: str = ""
    domains: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SofView:
    """The Summary of Findings of one review: rows, numbered footnotes, and the raw table."""

    comparison: str
    lines: list[SofLine]
    footnotes: list[tuple[int, str]]
    table: dict[str, Any]  # kb.grade.sof.SofTable.as_dict(): what `ekb sof -f json` prints


def relative_text(rel: dict[str, Any] | None) -> str:
    """``RR 3.23 (95% CI 0.83 to 12.61)``, or a dash when there is no estimate.

    >>> relative_text({"measure": "RR", "estimate": 3.2307, "ci_lower": 0.8279,
    ...                "ci_upper": 12.6075, "pooled": False})
    'RR 3.23 (95% CI 0.83 to 12.61), not pooled (one study)'
    """
    if not rel:
        return "—"
    text = (
        f"{rel['measure']} {_num(rel['estimate'])} "
        f"(95% CI {_num(rel['ci_lower'])} to {_num(rel['ci_upper'])})"
    )
    return text if rel.get("pooled", True) else text + ", not pooled (one study)"


def absolute_text(ab: dict[str, Any] | None) -> str:
    """The anticipated absolute effects per 1,000, as ``ekb sof -f md`` words them."""
    if not ab:
        return "—"
    diff = ab["difference_per_1000"]
    sign = "more" if diff >= 0 else "fewer"
    return (
        f"{ab['comparator_per_1000']} per 1,000 with the comparator; "
        f"{ab['intervention_per_1000']} per 1,000 with the intervention "
        f"({abs(diff)} {sign} per 1,000; 95% CI {ab['difference_ci_lower']} to "
        f"{ab['difference_ci_upper']}). Assumed comparator risk: {ab['comparator_basis']}"
    )


def sof_view(review_id: str, kb_dir: Path | None) -> SofView:
    """The review's Summary of Findings, by :func:`kb.grade.sof.build`.

    Footnotes are numbered in order of first use over the table, one number per distinct
    text, as ``ekb sof -f md`` numbers them.
    """
    from kb.grade.sof import build

    table = build(review_id, kb_dir).as_dict()
    notes: dict[str, int] = {}
    lines = []
    for row in table["outcomes"]:
        line = SofLine(
            outcome=row["outcome"],
            label=row["label"],
            importance=str(row["importance"]).replace("-", " "),
            usable=bool(row["usable_data"]),
            message=row["message"],
        )
        head, _, rest = line.message.partition(": ")
        line.message_head, line.message_rest = (head, rest) if rest else ("", line.message)
        if line.usable:
            n = row["participants"]
            line.participants = (
                f"{n if n is not None else 'not known'} "
                f"({row['studies']} {'study' if row['studies'] == 1 else 'studies'})"
            )
            line.relative = relative_text(row["relative_effect"])
            line.absolute = absolute_text(row["absolute_effect"])
            line.statement = row["statement"]
        cert = row["certainty"]
        if cert is not None:
            line.certainty_rating = cert["rating"]
            line.certainty = cert["rating"] or "not rated"
            line.how = str(cert["how"]).removeprefix("not rated: ")
            line.domains = cert["domains"]
            for text in cert["footnotes"]:
                notes.setdefault(text, len(notes) + 1)
                line.footnotes.append(notes[text])
        lines.append(line)
    footnotes = [(n, text) for text, n in notes.items()]
    return SofView(table["comparison"], lines, footnotes, table)


@dataclass
class RobPanel:
    """The risk-of-bias judgements of one outcome by one tool: plot, table, not assessed."""

    outcome: str
    outcome_label: str
    tool: str
    tool_name: str
    header: list[str]
    rows: list[list[str]]
    domain_names: dict[str, str]
    not_assessed: list[tuple[str, str]]  # (study, reason)
    figure: str | None = None  # file name of the traffic-light plot, beside the page
    figure_svg: bytes | None = None
    alt: str = ""


@dataclass
class RobView:
    panels: list[RobPanel]
    recorded: int  # assessments recorded in the review (assessed or not)
    assessed: int
    #: labels of the question's outcomes for which no assessment is recorded at all
    unrecorded: list[str] = field(default_factory=list)


def rob_view(
    review_id: str,
    kb_dir: Path | None,
    outcome_labels: dict[str, str],
    weights: dict[str, dict[str, float]],
) -> RobView:
    """One panel per (outcome, tool) of the review's stored RoB assessments.

    :param weights: outcome key -> study -> meta-analysis weight (%), from the Summary of
        Findings; the table's ``Weight`` column is shown only where an outcome has them.
    """
    from kb.rob import rob2, robins_i
    from kb.rob.robvis import robvis_table, traffic_light
    from kb.rob.store import review_assessments

    found = review_assessments(kb_dir, review_id)
    groups: dict[tuple[str, str], list[Any]] = {}
    for a in found:
        groups.setdefault((a.outcome, a.tool), []).append(a)
    order = list(outcome_labels)
    panels = []
    for (outcome, tool), group in sorted(
        groups.items(),
        key=lambda item: (
            order.index(item[0][0]) if item[0][0] in order else len(order),
            item[0],
        ),
    ):
        assessed = [a for a in group if a.assessed]
        label = outcome_labels.get(outcome, outcome)
        panel = RobPanel(
            outcome=outcome,
            outcome_label=label,
            tool=tool,
            tool_name=TOOL_NAMES.get(tool, tool),
            header=[],
            rows=[],
            domain_names=dict(rob2.DOMAIN_NAMES if tool == "rob2" else robins_i.DOMAIN_NAMES),
            not_assessed=[(a.study, a.not_assessed or "") for a in group if not a.assessed],
        )
        if assessed:
            w = weights.get(outcome) or None
            panel.header, panel.rows, _ = robvis_table(assessed, weights=w)
            panel.figure = f"{review_id}--rob-{outcome}-{tool}.svg"
            panel.figure_svg = svg_bytes(lambda path, a=assessed: traffic_light(a, path))
            cols = panel.header[1:-1] if w else panel.header[1:]
            panel.alt = (
                f"Risk-of-bias traffic-light plot ({panel.tool_name}) for {label}: "
                + "; ".join(
                    f"{row[0]}: "
                    + ", ".join(f"{c} {v}" for c, v in zip(cols, row[1:], strict=False))
                    for row in panel.rows
                )
                + ". The same judgements are listed in the table below the plot."
            )
        panels.append(panel)
    unrecorded = [
        label for key, label in outcome_labels.items() if key not in {a.outcome for a in found}
    ]
    return RobView(panels, len(found), sum(1 for a in found if a.assessed), unrecorded)
