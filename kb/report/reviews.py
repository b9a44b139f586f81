"""Review pages: the question, PRISMA 2020 flow, included studies, the Summary of Findings,
a forest plot per outcome of interest, the risk-of-bias traffic lights, and the
plain-language answer to the review's question.

Everything is derived here from what the review file records (:mod:`kb.sysreview`) and
what the studies record (the canned queries): PRISMA counts by
:func:`kb.sysreview.prisma_counts`, the flow diagram by :func:`kb.sysreview.draw_flow`,
pooled effects by :func:`kb.analysis.meta.analyse` over the ``meta-input`` rows of the
review's included studies, the forest plots by :func:`kb.analysis.forest.save_forest`, the
answer by :func:`kb.plain.answer_question`, the Summary of Findings and the risk-of-bias
table and plot by :mod:`kb.report.review_evidence` (over ``kb.grade.sof`` and
``kb.rob.robvis``). Nothing is computed for the page alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import KbError
from kb.report.figures import svg_bytes
from kb.store import Store

if TYPE_CHECKING:
    from kb.report.model import SiteData
    from kb.report.review_evidence import RobView, SofView


#: The boxes of the PRISMA 2020 flow for databases and registers, in the template's order
#: and wording; the other-methods boxes are listed only when a record came that way.
PRISMA_ROWS = (
    ("database_results", "Records identified from databases"),
    ("register_results", "Records identified from registers"),
    ("duplicates", "Duplicate records removed"),
    ("excluded_automatic", "Records marked as ineligible by automation tools"),
    ("excluded_other", "Records removed for other reasons"),
    ("records_screened", "Records screened"),
    ("records_awaiting_screening", "Records awaiting screening"),
    ("records_excluded", "Records excluded"),
    ("dbr_sought_reports", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "Reports not retrieved"),
    ("dbr_assessed", "Reports assessed for eligibility"),
    ("reports_awaiting_assessment", "Reports awaiting assessment"),
    ("new_studies", "Studies included in review"),
    ("new_reports", "Reports of included studies"),
)


def prisma_rows(counts: Any) -> list[tuple[str, int]]:
    """(label, n) for the flow's boxes, exclusion reasons after their box."""
    c = counts.counts
    rows: list[tuple[str, int]] = []
    for key, label in PRISMA_ROWS:
        rows.append((label, c.get(key, 0)))
        if key == "records_excluded":
            rows += [(f"  excluded: {r}", n) for r, n in counts.records_excluded_reasons]
        if key == "dbr_assessed":
            rows += [(f"  reports excluded: {r}", n) for r, n in counts.dbr_excluded]
    known = {k for k, _ in PRISMA_ROWS} | {"total_studies", "total_reports"}
    for key, value in c.items():
        if key not in known and value:
            rows.append((f"Other methods: {key.replace('_', ' ')}", value))
    return rows


@dataclass
class OutcomePanel:
    """One outcome of interest of the review's question, and what the data give for it."""

    key: str
    label: str
    importance: str
    concept: str
    mid: str | None
    studies: list[str]  # ids of included studies with a result for it
    forest: str | None = None  # file name of the forest plot (SVG), beside the page
    forest_alt: str = ""
    pooled: str | None = None  # the pooled estimate in words, when there is a model
    why_no_plot: str | None = None
    forest_svg: bytes | None = None
    #: per study: (label, effect with its CI as text), the plot's numbers as a table
    effects: list[tuple[str, str]] = field(default_factory=list)
    effect_header: str = "Effect (CI)"  # the measure and CI level of ``effects``
    excluded: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ReviewPage:
    review_id: str
    title: str
    review: Any  # kb.sysreview.Review
    counts: list[tuple[str, int]]
    included: list[str]
    outcomes: list[OutcomePanel]
    answer: dict[str, Any] | None
    figures: dict[str, bytes]
    flow_alt: str
    population: list[str] = field(default_factory=list)
    interventions: list[str] = field(default_factory=list)
    comparators: list[str] = field(default_factory=list)
    sof: SofView | None = None
    rob: RobView | None = None


def _fmt(x: float) -> str:
    return f"{x:.2f}"


def _outcome_panel(store: Store, review: Any, outcome: Any, label_of: Any) -> OutcomePanel:
    from kb.analysis.data import from_rows
    from kb.analysis.effects import MEASURE_LABELS
    from kb.analysis.forest import save_forest
    from kb.analysis.meta import analyse
    from kb.queries import run_query

    label = outcome.label or label_of(outcome.concept)
    panel = OutcomePanel(
        key=outcome.key,
        label=label,
        importance=str(outcome.importance).replace("-", " "),
        concept=outcome.concept,
        mid=None
        if outcome.minimal_important_difference is None
        else f"{outcome.minimal_important_difference} {outcome.threshold_unit or ''}".strip(),
        studies=[],
    )
    rows = run_query(store, "meta-input", {"outcome": outcome.concept, "review": review.id}).rows
    panel.studies = sorted({str(r["study"]).rsplit("/", 1)[-1] for r in rows if "study" in r})
    if not rows:
        panel.why_no_plot = "no included study reports this outcome"
        return panel
    try:
        report = analyse(from_rows(rows, title=label))
    except KbError as exc:
        panel.why_no_plot = str(exc)
        return panel
    panel.excluded = [(str(e[0]), str(e[1])) for e in report.excluded]
    measure = MEASURE_LABELS.get(report.measure, report.measure)
    if report.pooled is not None and report.model is not None:
        p = report.pooled
        panel.pooled = (
            f"{measure} {_fmt(p.est)} ({int(report.level * 100)}% CI {_fmt(p.lb)} to "
            f"{_fmt(p.ub)}), {report.k} studies, I² {report.model.i2:.0f}% ({report.method})"
        )
    elif report.k == 1:
        panel.pooled = f"One study, so nothing is pooled; measure: {measure}"
    panel.forest = f"{review.id}--forest-{outcome.key}.svg"
    panel.forest_svg = svg_bytes(lambda path: save_forest(report, path))
    panel.forest_alt = (
        f"Forest plot of {label}: {report.k} "
        f"{'study' if report.k == 1 else 'studies'} ({measure}). "
        + (f"Pooled: {panel.pooled}. " if report.pooled is not None else "")
        + "The same numbers are listed in the table below the plot."
    )
    panel.effect_header = f"{measure} ({int(report.level * 100)}% CI)"
    panel.effects = [
        (s.label, f"{_fmt(s.est)} ({_fmt(s.lb)} to {_fmt(s.ub)})") for s in report.studies
    ]
    return panel


def gather_reviews(
    store: Store, kb_dir: Path | None, *, review: str | None, site: SiteData
) -> list[ReviewPage]:
    """The review pages: every review of the knowledge base, or the one asked for.

    :raises UsageError: ``review`` names no review of the knowledge base.
    """
    from kb.plain import answer_question
    from kb.report.review_evidence import rob_view, sof_view
    from kb.sysreview import list_reviews, load_review, prisma_counts
    from kb.sysreview.diagram import draw_flow

    ids = [review] if review else [r.id for r in list_reviews(kb_dir)]
    reviews = [load_review(kb_dir, i) for i in ids]  # load_review fills the labels
    pages = []
    for rv in sorted(reviews, key=lambda r: r.id):
        counts = prisma_counts(rv)
        figures: dict[str, bytes] = {}
        flow_name = f"{rv.id}--prisma.svg"
        figures[flow_name] = svg_bytes(lambda path, c=counts, t=rv.title: draw_flow(c, path, t))
        outcomes = []
        for outcome in rv.question.outcomes:
            panel = _outcome_panel(store, rv, outcome, rv.label)
            if panel.forest and panel.forest_svg is not None:
                figures[panel.forest] = panel.forest_svg
            outcomes.append(panel)
        sof = sof_view(rv.id, kb_dir)
        weights = {r["outcome"]: r["weights"] for r in sof.table["outcomes"] if r["weights"]}
        rob = rob_view(rv.id, kb_dir, {o.key: o.label for o in outcomes}, weights)
        for rob_panel in rob.panels:
            if rob_panel.figure and rob_panel.figure_svg is not None:
                figures[rob_panel.figure] = rob_panel.figure_svg
        answer = (
            answer_question(store, rv.question.text, kb_dir=kb_dir).to_json()
            if rv.question.text
            else None
        )
        rows = prisma_rows(counts)
        flow_alt = "PRISMA 2020 flow diagram: " + "; ".join(
            f"{label.strip()} {n}" for label, n in rows
        )
        pages.append(
            ReviewPage(
                review_id=rv.id,
                title=rv.title,
                review=rv,
                counts=rows,
                included=[i for i in rv.included_study_ids],
                outcomes=outcomes,
                answer=answer,
                figures=figures,
                flow_alt=flow_alt,
                population=[rv.label(c) for c in rv.question.population],
                interventions=[rv.label(c) for c in rv.question.interventions],
                comparators=[rv.label(c) for c in rv.question.comparators],
                sof=sof,
                rob=rob,
            )
        )
    return pages
