"""A review as a readable Markdown page (``ekb review show -f md``)."""

from __future__ import annotations

from kb.sysreview.model import Review
from kb.sysreview.prisma import prisma_counts


def _cell(text: object) -> str:
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")


def review_page(review: Review) -> str:
    """Title, description, question, outcomes, eligibility, searches, PRISMA counts and records."""
    q = review.question
    out = [f"# {_cell(review.title)}", "", f"`{review.id}`", ""]
    if review.description:
        out += [review.description, ""]
    if review.note:
        out += [f"> {review.note}", ""]
    out += ["## Question", ""]
    facts = [
        ("Question", q.text),
        ("Population", "; ".join(review.label(c) for c in q.population) or None),
        ("As worded", q.population_text),
        ("Interventions", "; ".join(review.label(c) for c in q.interventions) or None),
        ("As worded", q.interventions_text),
        ("Comparators", "; ".join(review.label(c) for c in q.comparators) or None),
        ("As worded", q.comparators_text),
    ]
    out += [f"- **{k}:** {_cell(v)}" for k, v in facts if v] + [""]
    if q.outcomes:
        out += [
            "## Outcomes of interest",
            "",
            "| outcome | concept | importance | MID | threshold |",
        ]
        out.append("|---|---|---|---|---|")
        for o in q.outcomes:
            unit = f" {o.threshold_unit}" if o.threshold_unit else ""
            mid = (
                f"{o.minimal_important_difference}{unit}" if o.minimal_important_difference else ""
            )
            thr = f"{o.decision_threshold}{unit}" if o.decision_threshold is not None else ""
            out.append(
                f"| {_cell(o.label or o.key)} | {_cell(review.label(o.concept))} | "
                f"{o.importance} | {mid} | {thr} |"
            )
        out.append("")
    if review.eligibility is not None:
        e = review.eligibility
        out += ["## Eligibility", ""]
        for k, v in (("Inclusion", e.inclusion), ("Exclusion", e.exclusion)):
            if v:
                out.append(f"- **{k}:** {_cell(v)}")
        for k, iris in (
            ("Designs", e.designs),
            ("Conditions", e.conditions),
            ("Interventions", e.interventions),
        ):
            if iris:
                out.append(f"- **{k}:** {'; '.join(review.label(i) for i in iris)}")
        out.append("")
    if review.searches:
        out += ["## Searches", "", "| search | kind | source | date | records found |"]
        out.append("|---|---|---|---|---|")
        for s in review.searches:
            found = "not reported" if s.records_found is None else s.records_found
            date = s.searched_on.isoformat() if s.searched_on else ""
            out.append(f"| {s.key} | {s.kind} | {_cell(s.source)} | {date} | {found} |")
        out.append("")
    c = prisma_counts(review)
    out += ["## PRISMA 2020 (derived from the records)", ""]
    for key in (
        "database_results",
        "register_results",
        "duplicates",
        "records_screened",
        "records_excluded",
        "dbr_sought_reports",
        "dbr_notretrieved_reports",
        "dbr_assessed",
        "other_sought_reports",
        "other_assessed",
        "new_studies",
        "new_reports",
    ):
        out.append(f"- {key}: {c[key]}")
    for label, n in c.dbr_excluded + c.other_excluded:
        out.append(f"- reports excluded, {label}: {n}")
    out.append("")
    if review.records:
        out += ["## Records", "", "| record | study | stage | reason | decided by | on |"]
        out.append("|---|---|---|---|---|---|")
        for r in review.records:
            d = r.full_text or r.title_abstract
            reason = review.label(d.reason) if d and d.reason else ""
            who = "; ".join(d.decided_by) if d else ""
            on = d.decided_on.isoformat() if d and d.decided_on else ""
            cells = (r.key, _cell(r.study), r.stage, _cell(reason), _cell(who), on)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
