"""Reviews that cover a question, and what their Summary of Findings says per outcome.

A review speaks for a treatment of an answer when its question (PICO) names that treatment
among its interventions (or a broader one) and, when the question names a condition, its
population overlaps the question's condition (one is the other, or narrower or broader than
it). Its findings are the rows of its Summary of Findings, built by :func:`kb.grade.sof.build`:
the pooled relative effect of ``ekb meta``, the absolute effects per 1,000 and the GRADE
certainty (suggested by rule, final by the reviewer). Nothing is pooled or rated here; an
outcome whose certainty cannot be rated stays "not rated".

Reviews are read from the knowledge-base folder (the review files), so an answer only
uses them when it is told which folder its store was loaded from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.namespaces import RES
from kb.plain.records import NAME_PATTERN, name_of, narrower_closure, select
from kb.plain.text import SourceRef
from kb.store import Store

#: Outcomes of greater importance are told first.
IMPORTANCE_ORDER = {"critical": 0, "important": 1, "limited-importance": 2}


@dataclass
class ReviewOutcome:
    """One outcome of a review's question, as its Summary of Findings gives it."""

    key: str
    concept: str
    label: str  #: the review's own label ("complete renal response")
    importance: str
    row: Any  #: the :class:`kb.grade.sof.SofRow`

    @property
    def usable(self) -> bool:
        return bool(self.row.usable)

    @property
    def rating(self) -> str | None:
        """The GRADE certainty (high, moderate, low, very low), or None when not rated."""
        cert = self.row.certainty
        return None if cert is None else cert.rating


@dataclass
class ReviewFindings:
    """A review that covers the question, with the outcomes the question is about."""

    review_id: str
    title: str
    interventions: list[str]  #: the review's intervention concepts and all narrower ones
    intervention_text: str  #: as the Summary of Findings names them
    comparators: list[str]  #: comparator concept IRIs
    outcomes: list[ReviewOutcome] = field(default_factory=list)

    @property
    def iri(self) -> str:
        return f"{RES}review/{self.review_id}"

    def covers(self, agent: str) -> bool:
        return agent in self.interventions

    def to_json(self) -> dict[str, Any]:
        return {
            "review": self.review_id,
            "title": self.title,
            "outcomes": [
                {
                    "outcome": o.key,
                    "concept": o.concept,
                    "label": o.label,
                    "importance": o.importance,
                    "usable_data": o.usable,
                    "studies": o.row.studies,
                    "participants": o.row.participants,
                    "study_ids": list(o.row.study_ids),
                    "relative_effect": o.row.relative_effect,
                    "absolute_effect": o.row.absolute_effect,
                    "certainty": o.rating,
                    "statement": o.row.statement,
                }
                for o in self.outcomes
            ],
        }


def covering_reviews(
    store: Store,
    kb_dir: Path,
    conditions: list[str] | None,
    outcomes: set[str] | None,
    agents: set[str],
) -> list[ReviewFindings]:
    """The reviews of ``kb_dir`` whose population overlaps the question's conditions.

    :param conditions: the question's conditions with their narrower ones (None: any).
    :param outcomes: the question's outcomes with their narrower ones (None: every
        outcome of the review's question).
    :param agents: the treatments the answer tells; a review of none of them is skipped.
    :returns: one entry per review, its outcomes ordered by importance; the Summary of
        Findings is built only for reviews whose population matches.
    :raises CheckFailed: a review's recorded ratings do not conform (names the field).
    """
    from kb.sysreview import list_reviews

    found = []
    for review in sorted(list_reviews(kb_dir), key=lambda r: r.id):
        q = review.question
        if not q.interventions or not q.outcomes:
            continue
        interventions = narrower_closure(store, list(q.interventions))
        if not set(interventions) & agents:
            continue
        if conditions is not None:
            # ``conditions`` holds the narrower ones of the question's, the closure
            # below those of the review's: they meet when either is narrower.
            if not set(narrower_closure(store, list(q.population))) & set(conditions):
                continue
        wanted = [
            o
            for o in q.outcomes
            if outcomes is None or set(narrower_closure(store, [o.concept])) & outcomes
        ]
        if not wanted:
            continue
        found.append(_findings(store, kb_dir, review.id, [o.key for o in wanted]))
    return found


def reviews_including(store: Store, kb_dir: Path, study_id: str) -> list[ReviewFindings]:
    """The reviews of ``kb_dir`` that include the study, with every outcome of their question.

    :raises CheckFailed: a review's recorded ratings do not conform (names the field).
    """
    from kb.sysreview import list_reviews

    return [
        _findings(store, kb_dir, review.id, [o.key for o in review.question.outcomes])
        for review in sorted(list_reviews(kb_dir), key=lambda r: r.id)
        if study_id in review.included_study_ids and review.question.outcomes
    ]


def _findings(store: Store, kb_dir: Path, review_id: str, keys: list[str]) -> ReviewFindings:
    """A review's Summary of Findings rows for the outcomes ``keys``, most important first."""
    from kb.grade.sof import build
    from kb.sysreview import load_review

    review = load_review(kb_dir, review_id)  # with the labels of its concepts
    q = review.question
    rows = {r.outcome: r for r in build(review.id, kb_dir).rows}
    items = [
        ReviewOutcome(
            o.key, o.concept, o.label or review.label(o.concept), o.importance, rows[o.key]
        )
        for o in q.outcomes
        if o.key in keys and o.key in rows
    ]
    items.sort(key=lambda o: (not o.usable, IMPORTANCE_ORDER.get(o.importance, 3), o.key))
    return ReviewFindings(
        review_id=review.id,
        title=review.title,
        interventions=narrower_closure(store, list(q.interventions)),
        intervention_text=", ".join(review.label(i) for i in q.interventions),
        comparators=list(q.comparators),
        outcomes=items,
    )


def review_source(findings: ReviewFindings) -> SourceRef:
    """The review as a numbered source of a text: where its table of findings is."""
    return SourceRef(
        findings.iri,
        findings.title,
        "systematic review in this knowledge base",
        None,
        None,
        False,
        where=f"Its table of findings: ekb sof {findings.review_id}",
    )


def concept_names(store: Store, concepts: list[str]) -> dict[str, str]:
    """Plain labels (else preferred labels) of concepts, by IRI."""
    if not concepts:
        return {}
    values = " ".join(f"<{c}>" for c in sorted(set(concepts)))
    rows = select(
        store,
        f"""SELECT ?c ?c_plain ?c_pref WHERE {{
            VALUES ?c {{ {values} }} {NAME_PATTERN.format(c="?c", v="c")}
        }} ORDER BY ?c""",
    ).rows
    return {str(r["c"]): name_of(r, "c") or str(r["c"]) for r in rows}
