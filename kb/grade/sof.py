"""The Summary of Findings of a review: one row per outcome of its question.

For each outcome: the included studies' data (the meta-input ``ekb meta OUTCOME --review REVIEW``
reads), the pooled relative effect from :func:`kb.analysis.meta.analyse`
(REML, as ``ekb meta``'s default), the anticipated absolute effects per 1,000 (assumed
comparator risk = median comparator-group risk of the studies, see :mod:`kb.grade.evidence`),
the certainty (suggested by rule, final by the reviewer, footnote per change of level) and
GRADE's plain-language statement. An outcome with no usable comparative data says so, with
the reasons from the meta-analysis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.grade import directness, evidence, rules
from kb.grade.rating import Certainty, rate

FORMATS = ("md", "html", "xlsx", "json", "fhir")


@dataclass
class SofRow:
    outcome: str
    label: str
    importance: str
    usable: bool
    message: str
    studies: int = 0
    participants: int | None = None
    relative_effect: dict[str, Any] | None = None
    absolute_effect: dict[str, Any] | None = None
    certainty: Certainty | None = None
    statement: str = ""
    study_ids: list[str] = field(default_factory=list)
    rob: list[tuple[str, str | None, str]] = field(default_factory=list)
    pooled_method: str | None = None
    weights: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        cert = None
        if self.certainty is not None:
            c = self.certainty
            cert = {
                "rating": c.rating,
                "start": c.start,
                "how": c.how,
                "domains": [
                    {
                        "domain": d.domain,
                        "suggested": d.suggested,
                        "rule": d.rule,
                        "final": d.final,
                        "reason": d.reason,
                        "changed_by_reviewer": d.changed_by_reviewer,
                    }
                    for d in c.domains
                ],
                "footnotes": c.footnotes(),
            }
        return {
            "outcome": self.outcome,
            "label": self.label,
            "importance": self.importance,
            "usable_data": self.usable,
            "message": self.message,
            "studies": self.studies,
            "study_ids": self.study_ids,
            "weights": self.weights,
            "participants": self.participants,
            "relative_effect": self.relative_effect,
            "absolute_effect": self.absolute_effect,
            "certainty": cert,
            "statement": self.statement,
            "risk_of_bias": [{"study": s, "overall": j, "tool": t} for s, j, t in self.rob],
        }


@dataclass
class SofTable:
    review: str
    title: str
    comparison: str
    rows: list[SofRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "title": self.title,
            "comparison": self.comparison,
            "outcomes": [r.as_dict() for r in self.rows],
        }


def _rob_by_study(
    assessments: list[Any], outcome: str
) -> dict[str, tuple[str | None, str, str | None]]:
    out: dict[str, tuple[str | None, str, str | None]] = {}
    for a in assessments:
        if a.outcome != outcome:
            continue
        tool = "RoB 2" if a.tool == "rob2" else "ROBINS-I V2"
        if a.assessed:
            out[a.study] = (a.overall.final, tool, None)
        else:
            out[a.study] = (None, tool, a.not_assessed)
    return out


def build(
    review_id: str,
    kb_dir: Path | None = None,
    outcome: str | None = None,
    method: str = "REML",
) -> SofTable:
    """The Summary of Findings of a review (or of one of its outcomes).

    :raises UsageError: no such review, or ``outcome`` is not one of its outcomes (exit 2).
    """
    from kb.analysis.data import MetaInput, from_kb
    from kb.analysis.meta import analyse
    from kb.grade.store import finals_in
    from kb.kbdir import resolve_kb
    from kb.rob.store import assessments
    from kb.sysreview.files import find_review_file, load_review
    from kb.turtle_format import parse_turtle

    kb = resolve_kb(kb_dir)
    path = find_review_file(kb, review_id)
    review = load_review(kb, str(path))
    graph = parse_turtle(path.read_text(encoding="utf-8"), str(path))
    rob_all = assessments(graph, review.id)
    finals_all = finals_in(graph, review.id)
    outcomes = list(review.question.outcomes)
    keys = [o.key for o in outcomes]
    if outcome is not None:
        if outcome not in keys:
            raise UsageError(
                f"--outcome: {outcome!r} is not an outcome of review {review.id} "
                f"({', '.join(keys)})"
            )
        outcomes = [o for o in outcomes if o.key == outcome]
    included = set(review.included_study_ids)
    q = review.question
    interventions = ", ".join(review.label(i) for i in q.interventions) or "the intervention"
    comparators = ", ".join(review.label(c) for c in q.comparators) or "the comparator"
    rows = []
    for o in outcomes:
        label = o.label or review.label(o.concept)
        row = SofRow(o.key, label, o.importance, False, "")
        try:
            # The same selection as `ekb meta OUTCOME --review REVIEW`.
            inp = from_kb(o.concept, review=review.id, kb_dir=kb)
        except CheckFailed as exc:
            row.message = f"no usable data: {exc}"
            rows.append(row)
            continue
        kept = [s for s in inp.studies if s.study in included]
        dropped = [e for e in inp.excluded if e.study in included]
        inp = MetaInput(inp.measure, kept, dropped, inp.title, inp.source)
        if not kept:
            why = "; ".join(f"{e.study}: {e.reason}" for e in dropped)
            row.message = "no usable data" + (f": {why}" if why else " in the included studies")
            rows.append(row)
            continue
        if inp.measure not in evidence.RATIO_MEASURES | {"RD", "MD", "SMD"}:
            row.message = (
                f"no comparative data: only single-arm proportions ({inp.measure}) from "
                + ", ".join(s.study for s in kept)
            )
            rows.append(row)
            continue
        try:
            report = analyse(inp, method=method)
        except CheckFailed as exc:
            row.message = f"no usable data: {exc}"
            rows.append(row)
            continue
        rob_map = _rob_by_study(rob_all, o.key)
        rob = {s: v[0] for s, v in rob_map.items()}
        reasons = {s: (v[2] or "") for s, v in rob_map.items() if v[0] is None}
        for s in report.studies:
            if s.study not in rob_map:
                reasons[s.study] = "no risk-of-bias assessment recorded in the review"
        ev = evidence.from_meta(inp, report, rob=rob, rob_reasons=reasons)
        thresholds = _thresholds(o, ev.measure)
        entered = {s.study for s in report.studies}
        direct = directness.compare(q, [s for s in kept if s.study in entered], kb)
        start, sugg, _ois = evidence.suggest(
            ev,
            thresholds,
            o.threshold_source or "review question",
            mismatches=direct.for_rule,
            indirectness_detail=direct.detail(),
        )
        cert = rate(start, sugg, finals_all.get(o.key), where=f"grade[{o.key}]")
        row.usable = True
        row.message = report.message
        row.studies = len(report.studies)
        row.study_ids = [s.study for s in report.studies]
        row.weights = {
            s.study: (s.weight if s.weight is not None else 100.0) for s in report.studies
        }
        row.participants = ev.participants
        row.pooled_method = report.method
        if ev.estimate is not None and ev.ci is not None:
            row.relative_effect = {
                "measure": ev.measure,
                "estimate": ev.estimate,
                "ci_lower": ev.ci[0],
                "ci_upper": ev.ci[1],
                "method": report.method,
                "pooled": report.model is not None,
            }
        ab = evidence.absolute_effect(ev)
        if ab is not None:
            row.absolute_effect = {
                "comparator_per_1000": round(ab.comparator_per_1000),
                "intervention_per_1000": round(ab.intervention_per_1000),
                "difference_per_1000": round(ab.difference_per_1000),
                "difference_ci_lower": round(ab.difference_ci_lower),
                "difference_ci_upper": round(ab.difference_ci_upper),
                "comparator_basis": ab.comparator_basis,
            }
        row.certainty = cert
        row.statement = evidence.plain_statement(cert.rating, interventions, label, ev, thresholds)
        row.rob = [
            (s.label, s.rob, rob_map.get(s.study, (None, "not assessed", None))[1])
            for s in ev.studies
        ]
        rows.append(row)
    return SofTable(review.id, review.title, f"{interventions} vs {comparators}", rows)


def _thresholds(o: Any, measure: str) -> tuple[float, float] | None:
    """The review's MID / decision threshold as a (lower, upper) band on the effect's scale.

    A ratio threshold t (e.g. 0.8) gives the band (t, 1/t); a difference d gives (-d, d).
    None when the question records neither (the rules then use GRADE 6's defaults).
    """
    value = o.minimal_important_difference or o.decision_threshold
    if value is None:
        return None
    v = float(value)
    if measure in evidence.RATIO_MEASURES:
        if not 0 < v < 1:
            v = 1 / v if v > 1 else v
        return (v, 1 / v)
    return (-abs(v), abs(v))


# --------------------------------------------------------------------------- formats


def _num(x: float | None, digits: int = 2) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _cells(row: SofRow, notes: dict[str, int]) -> list[str]:
    if not row.usable:
        return [row.label, row.importance, "—", "—", "—", "—", row.message]
    rel = row.relative_effect or {}
    rel_txt = (
        f"{rel['measure']} {_num(rel['estimate'])} ({_num(rel['ci_lower'])} to "
        f"{_num(rel['ci_upper'])})"
        if rel
        else "—"
    )
    ab = row.absolute_effect
    if ab:
        sign = "more" if ab["difference_per_1000"] >= 0 else "fewer"
        abs_txt = (
            f"{ab['comparator_per_1000']} per 1,000 with comparator; "
            f"{ab['intervention_per_1000']} per 1,000 with intervention "
            f"({abs(ab['difference_per_1000'])} {sign}; 95% CI {ab['difference_ci_lower']} to "
            f"{ab['difference_ci_upper']})"
        )
    else:
        abs_txt = "—"
    n = f"{row.participants if row.participants is not None else '?'} ({row.studies})"
    cert = row.certainty
    marks = ""
    if cert is not None:
        for f in cert.footnotes():
            notes.setdefault(f, len(notes) + 1)
            marks += f"[{notes[f]}]"
    level = (cert.rating if cert and cert.rating else "not rated") + (f" {marks}" if marks else "")
    return [row.label, row.importance, n, rel_txt, abs_txt, level, row.statement]


HEADER = [
    "Outcome",
    "Importance",
    "Participants (studies)",
    "Relative effect (95% CI)",
    "Anticipated absolute effects",
    "Certainty (GRADE)",
    "What happens",
]


def format_md(table: SofTable) -> str:
    notes: dict[str, int] = {}
    lines = [
        f"## Summary of findings: {table.title}",
        "",
        f"Comparison: {table.comparison}. Review `{table.review}`.",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in table.rows:
        cells = [c.replace("|", "\\|") for c in _cells(row, notes)]
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Footnotes:", ""]
        lines += [f"{n}. {text}" for text, n in notes.items()]
    lines += [
        "",
        "Assumed comparator risk: the median comparator-group risk of the included studies. "
        "Relative effects: ekb meta (REML). Certainty: GRADE, suggested by rule and final by the "
        "reviewer (see the footnotes for every change of level).",
    ]
    return "\n".join(lines) + "\n"


def format_html(table: SofTable) -> str:
    from html import escape

    notes: dict[str, int] = {}
    body = []
    for row in table.rows:
        cells = _cells(row, notes)
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in HEADER)
    foot = "".join(f'<li value="{n}">{escape(t)}</li>' for t, n in notes.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Summary of findings: {escape(table.title)}</title>"
        "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;"
        "vertical-align:top}</style></head><body>"
        f"<h1>Summary of findings</h1><p>{escape(table.title)}</p>"
        f"<p>Comparison: {escape(table.comparison)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + (f"<h2>Footnotes</h2><ol>{foot}</ol>" if foot else "")
        + "</body></html>\n"
    )


def format_json(table: SofTable) -> str:
    return json.dumps(table.as_dict(), indent=2, ensure_ascii=False) + "\n"


def format_fhir(table: SofTable) -> str:
    """A FHIR R5 Bundle (collection) with one Evidence per outcome that has an estimate."""
    from kb.grade.fhir import outcome_evidence

    entries = []
    for row in table.rows:
        if not row.usable or row.certainty is None or row.relative_effect is None:
            continue
        rel = row.relative_effect
        res = outcome_evidence(
            id=f"{table.review}-{row.outcome}"[:64],
            title=f"{row.label}: {table.comparison}",
            measure=rel["measure"],
            estimate=rel["estimate"],
            ci=(rel["ci_lower"], rel["ci_upper"]),
            studies=row.studies,
            participants=row.participants,
            cert=row.certainty,
            rob=row.rob,
            variables={"measuredVariable": row.label, "exposure": table.comparison},
        )
        entries.append({"fullUrl": f"urn:evidence-kb:{res['id']}", "resource": res})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def xlsx_bytes(table: SofTable) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary of findings"
    ws.append([f"Summary of findings: {table.title}"])
    ws.append([f"Comparison: {table.comparison}"])
    ws.append(HEADER)
    notes: dict[str, int] = {}
    for row in table.rows:
        ws.append(_cells(row, notes))
    if notes:
        ws.append([])
        ws.append(["Footnotes"])
        for text, n in notes.items():
            ws.append([f"{n}. {text}"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = [
    "FORMATS",
    "SofRow",
    "SofTable",
    "build",
    "format_html",
    "format_json",
    "format_md",
    "rules",
    "xlsx_bytes",
]
