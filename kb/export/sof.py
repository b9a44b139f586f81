"""A GRADE-style summary of findings, in Markdown (default) or HTML (``-o FILE.html``).

One table per condition and intervention, one line per outcome (and per safety
event): participants (studies), the effect as reported, the certainty of the
evidence with its reasons, a plain-language line in GRADE's wording ("We are very
uncertain whether ..."), the caveats and the sources. Certainty comes from the
claims that cite a result (``ekb:supportedBy``) or are about the same
intervention, condition and outcome; with no such claim the line says "not rated"
instead of guessing.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.tables import CAVEAT_SEPARATOR, LIST_SEPARATOR, ExportData, Row, extract

COLUMNS = [
    "Outcome",
    "Participants (studies)",
    "Effect",
    "Certainty",
    "Reasons",
    "What this means",
    "Caveats",
    "Sources",
]


@dataclass
class Line:
    outcome: str
    studies: set[str] = field(default_factory=set)
    participants: dict[str, int] = field(default_factory=dict)
    effects: list[str] = field(default_factory=list)
    records: set[str] = field(default_factory=set)
    directions: set[str] = field(default_factory=set)
    caveats: list[str] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    single_arm: bool = True
    safety: bool = False


def _fmt(value: Any) -> str:
    return str(value)


def _effect(row: Row) -> str:
    """The effect of one result as reported."""
    parts = []
    if row.get("events") is not None and row.get("total") is not None:
        pct = f" ({row['percent']}%)" if row.get("percent") is not None else ""
        parts.append(f"{row['events']}/{row['total']}{pct}")
    if row.get("mean") is not None:
        sd = f", SD {row['sd']}" if row.get("sd") is not None else ""
        parts.append(f"mean {row['mean']}{sd}")
    if row.get("median") is not None:
        iqr = (
            f" (IQR {row['q1']} to {row['q3']})"
            if row.get("q1") is not None and row.get("q3") is not None
            else ""
        )
        parts.append(f"median {row['median']}{iqr}")
    if row.get("percent_change") is not None:
        stat = row.get("summary_statistic")
        stat = f" ({stat})" if stat and stat != "not stated" else ""
        parts.append(f"{row['percent_change']}% change from baseline{stat}")
    if row.get("baseline_value") is not None and row.get("follow_up_value") is not None:
        unit = row.get("unit") or ""
        parts.append(f"{row['baseline_value']}{unit} at baseline → {row['follow_up_value']}{unit}")
    if not parts:
        parts.append(f"{row.get('direction') or 'no result'} (no number reported)")
    when = f" at week {row['timepoint_weeks']}" if row.get("timepoint_weeks") is not None else ""
    return "; ".join(parts) + when


class _Builder:
    def __init__(self, data: ExportData) -> None:
        self.d = data
        self.g = data.graph
        self.chars = {r["study_id"]: r for r in data.characteristics.rows}
        self.arm_agent: dict[tuple[Any, Any], str] = {}
        for arm in data.arms.rows:
            if arm["agent"] or arm["agent_text"]:
                self.arm_agent.setdefault(
                    (arm["study_id"], arm["arm"]), str(arm["agent"] or arm["agent_text"])
                )
        self.groups: dict[tuple[str, str], dict[str, Line]] = defaultdict(dict)

    def _line(self, study: Any, arm: Any, outcome: str, safety: bool = False) -> Line | None:
        agent = self.arm_agent.get((study, arm))
        if agent is None:
            return None
        condition = str(self.chars[study]["conditions"] or "condition not stated")
        lines = self.groups[(condition, agent)]
        key = ("safety: " if safety else "") + outcome
        if key not in lines:
            lines[key] = Line(outcome=outcome, safety=safety)
        return lines[key]

    def _add(self, line: Line, row: Row, effect: str, n: Any, record: str) -> None:
        study = str(row["study_id"])
        line.studies.add(study)
        if isinstance(n, int):
            line.participants[f"{study}/{row.get('arm') or row.get('experimental_arm')}"] = n
        multi = len(self.chars) > 1
        line.effects.append(f"{study}: {effect}" if multi else effect)
        line.records.add(record)
        if row.get("direction"):
            line.directions.add(str(row["direction"]))
        for c in str(row.get("caveats") or "").split(CAVEAT_SEPARATOR):
            if c and c not in line.caveats:
                line.caveats.append(c)
        if row.get("doi"):
            line.sources.add(f"doi:{row['doi']} ({row.get('source_type')})")
        elif row.get("url"):
            line.sources.add(f"{row['url']} ({row.get('source_type')})")
        if not row.get("single_arm"):
            line.single_arm = False

    def build(self) -> None:
        for row in self.d.outcomes.rows:
            if row["arm_role"] not in ("experimental", "single arm"):
                continue
            line = self._line(
                row["study_id"], row["arm"], str(row["outcome_concept"] or row["outcome_label"])
            )
            if line is None:
                continue
            n = (
                row["total"]
                if row["total"] is not None
                else row["n"]
                if row["n"] is not None
                else row["arm_n"]
            )
            self._add(line, row, _effect(row), n, str(row["result_iri"]))
        for row in self.d.comparisons.rows:
            line = self._line(
                row["study_id"],
                row["experimental_arm"],
                str(row["outcome_concept"] or row["outcome_label"]),
            )
            if line is None or row["estimate"] is None:
                continue
            ci = ""
            if row["ci_lower"] is not None and row["ci_upper"] is not None:
                level: Any = row["ci_level"]
                pct = (
                    (level * 100 if level is not None and level <= 1 else level)
                    if level is not None
                    else None
                )
                level_text = _fmt(pct).rstrip("0").rstrip(".") + "% " if pct is not None else ""
                ci = f" ({level_text}CI {row['ci_lower']} to {row['ci_upper']})"
            when = (
                f" at week {row['timepoint_weeks']}" if row["timepoint_weeks"] is not None else ""
            )
            measure = row["measure_code"] or row["effect_measure"]
            effect = (
                f"{measure} {row['estimate']}{ci}, "
                f"{row['experimental_label']} vs {row['comparator_label']}{when}"
            )
            self._add(line, row, effect, None, str(row["comparison_iri"]))
            # participants of a comparison: both arms
            study = str(self.g.study_of.get(str(row["comparison_iri"]), ""))
            for arm_key in (row["experimental_arm"], row["comparator_arm"]):
                n = self.g.value(f"{study}/arm/{arm_key}", "n")
                if n is not None:
                    line.participants[f"{row['study_id']}/{arm_key}"] = int(str(n))
        experimental_arms: dict[Any, list[Any]] = defaultdict(list)
        for arm in self.d.arms.rows:
            if arm["arm_role"] in ("experimental", "single arm"):
                experimental_arms[arm["study_id"]].append(arm["arm"])
        for row in self.d.safety.rows:
            # A control arm's harms are shown beside the experimental arm's, never as a
            # summary of findings for the control treatment itself.
            control = row["arm_role"] not in ("experimental", "single arm")
            targets = experimental_arms[row["study_id"]] if control else [row["arm"]]
            for target in sorted(set(targets)):
                line = self._line(row["study_id"], target, str(row["event_term"]), safety=True)
                if line is not None:
                    self._safety(line, row, control)

    def _safety(self, line: Line, row: Row, control: bool) -> None:
        if True:
            arm_n = self.g.value(str(self.g.value(str(row["safety_iri"]), "arm")), "n")
            n = (
                row["at_risk"]
                if row["at_risk"] is not None
                else (int(str(arm_n)) if arm_n is not None else None)
            )
            if row["affected"] is not None:
                of = (
                    f" of {row['at_risk']}"
                    if row["at_risk"] is not None
                    else (f" (arm of {n})" if n is not None else "")
                )
                effect = f"{row['affected']} participants affected{of}: {row['reported']}"
            else:
                effect = str(row["reported"])
            if control:
                effect = f"comparator {row['arm_label'] or row['arm']}: {effect}"
            self._add(line, row, str(effect), n, str(row["safety_iri"]))

    def certainty(self, condition: str, agent: str, line: Line) -> tuple[str, list[str]]:
        best: tuple[int, str] | None = None
        reasons: list[str] = []
        for claim in self.d.claims.rows:
            iri = str(claim["claim_iri"])
            cited = {str(s) for s in self.g.values(iri, "supportedBy")}
            about = (
                agent in str(claim["interventions"] or "").split(LIST_SEPARATOR)
                and line.outcome in str(claim["outcomes"] or "").split(LIST_SEPARATOR)
                and condition in str(claim["conditions"] or "").split(LIST_SEPARATOR)
            )
            if not (cited & line.records or about) or claim["certainty"] is None:
                continue
            rank = claim["certainty_rank"] if isinstance(claim["certainty_rank"], int) else 99
            if best is None or rank < best[0]:
                best = (rank, str(claim["certainty"]))
            for r in str(claim["certainty_reasons"] or "").split(LIST_SEPARATOR):
                if r and r not in reasons:
                    reasons.append(r)
        return (best[1] if best else "not rated"), reasons

    def plain(self, agent: str, condition: str, line: Line, certainty: str) -> str:
        dirs = {d.replace("slightly ", "") for d in line.directions}
        if line.safety:
            what = f"how often {line.outcome} happens"
            verb3, verb = "changes", "change"
        elif dirs == {"decreased"}:
            what, verb3, verb = line.outcome, "lowers", "lower"
        elif dirs == {"increased"}:
            what, verb3, verb = line.outcome, "raises", "raise"
        else:
            what, verb3, verb = line.outcome, "changes", "change"
        n = len(line.studies)
        basis = f"{n} {'study' if n == 1 else 'studies'}" + (
            ", no comparison group" if line.single_arm else ""
        )
        sentence = {
            "high": f"{agent} {verb3} {what} in {condition}.",
            "moderate": f"{agent} probably {verb3} {what} in {condition}.",
            "low": f"{agent} may {verb} {what} in {condition}.",
            "very low": f"We are very uncertain whether {agent} {verb3} {what} in {condition}.",
        }.get(
            certainty,
            f"Not rated: what was reported for {what} with {agent} in {condition} has not been "
            "graded.",
        )
        return f"{sentence[0].upper()}{sentence[1:]} ({basis})"

    def tables(self) -> list[tuple[str, str, list[dict[str, str]]]]:
        out = []
        for condition, agent in sorted(self.groups):
            rows = []
            lines = self.groups[(condition, agent)]
            for key in sorted(lines, key=lambda k: (lines[k].safety, k)):
                line = lines[key]
                certainty, reasons = self.certainty(condition, agent, line)
                participants = sum(line.participants.values())
                n = len(line.studies)
                rows.append(
                    {
                        "Outcome": ("Safety: " if line.safety else "") + line.outcome,
                        "Participants (studies)": (
                            f"{participants if participants else 'not stated'}"
                            f" ({n} {'study' if n == 1 else 'studies'})"
                        ),
                        "Effect": "; ".join(line.effects),
                        "Certainty": certainty,
                        "Reasons": ", ".join(reasons) if reasons else "",
                        "What this means": self.plain(agent, condition, line, certainty),
                        "Caveats": "; ".join(line.caveats),
                        "Sources": ", ".join(sorted(line.sources)),
                    }
                )
            out.append((condition, agent, rows))
        return out


def _studies(n: int) -> str:
    return f"{n} study" if n == 1 else f"{n} studies"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(data: ExportData) -> str:
    b = _Builder(data)
    b.build()
    out = [
        "# Summary of findings",
        "",
        f"Selection: {data.selection.description}; {_studies(len(data.characteristics.rows))}.",
        "",
    ]
    for condition, agent, rows in b.tables():
        out += [f"## {agent} for {condition}", ""]
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|" + "|".join("---" for _ in COLUMNS) + "|")
        for row in rows:
            out.append("| " + " | ".join(_md_cell(row[c]) for c in COLUMNS) + " |")
        out.append("")
    out.append(
        "Certainty: GRADE (high, moderate, low, very low) as rated in the knowledge base's "
        'claims; "not rated" where no claim rates it.'
    )
    return "\n".join(out) + "\n"


def html_page(data: ExportData) -> str:
    b = _Builder(data)
    b.build()
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>Summary of findings</title>",
        "<style>table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:4px;vertical-align:top}</style>",
        "</head>",
        "<body>",
        "<h1>Summary of findings</h1>",
        f"<p>Selection: {e(data.selection.description)}; "
        f"{_studies(len(data.characteristics.rows))}.</p>",
    ]
    for condition, agent, rows in b.tables():
        out.append(f"<h2>{e(agent)} for {e(condition)}</h2>")
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f"<td>{e(row[c])}</td>" for c in COLUMNS) + "</tr>")
        out.append("</table>")
    out.append(
        "<p>Certainty: GRADE (high, moderate, low, very low) as rated in the knowledge base's "
        "claims; &quot;not rated&quot; where no claim rates it.</p>"
    )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render(store: Any, selection: Any, *, fmt: str = "sof", output: Path | None = None) -> Rendered:
    data = extract(store, selection)
    as_html = output is not None and output.suffix.lower() in (".html", ".htm")
    text = html_page(data) if as_html else markdown(data)
    return Rendered({"": text.encode("utf-8")})
