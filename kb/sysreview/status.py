"""Where a review stands: what is screened, what is left, what is included, and
which included studies have no result for an outcome the question asks about.

"Has data" means: the study file holds at least one ``ekb:Result`` whose
outcome concept is the outcome of interest or a narrower one (the same rule
``outcome-results`` uses). It does not judge whether the data can be pooled
(``ekb query missing-data`` does that).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kb.sysreview.model import Review

if TYPE_CHECKING:
    from kb.store import Store

#: Stages in the order a record passes them.
STAGES = (
    "to-screen",
    "excluded-title-abstract",
    "to-assess",
    "not-retrieved",
    "excluded-full-text",
    "included",
    "duplicate",
    "removed",
)


@dataclass(frozen=True)
class OutcomeCoverage:
    key: str
    label: str
    importance: str
    with_data: tuple[str, ...]
    without_data: tuple[str, ...]


@dataclass(frozen=True)
class ReviewStatus:
    review_id: str
    title: str
    records: int
    by_stage: dict[str, int]
    to_screen: tuple[str, ...]
    to_assess: tuple[str, ...]
    included_studies: tuple[str, ...]
    outcomes: tuple[OutcomeCoverage, ...] = field(default_factory=tuple)

    @property
    def screened(self) -> int:
        """Records with a final decision (or removed before screening)."""
        return self.records - len(self.to_screen) - len(self.to_assess)

    def to_dict(self) -> dict[str, object]:
        return {
            "review": self.review_id,
            "title": self.title,
            "records": self.records,
            "decided": self.screened,
            "by_stage": self.by_stage,
            "to_screen": list(self.to_screen),
            "to_assess": list(self.to_assess),
            "included_studies": list(self.included_studies),
            "outcomes": [
                {
                    "key": o.key,
                    "label": o.label,
                    "importance": o.importance,
                    "studies_with_data": list(o.with_data),
                    "studies_without_data": list(o.without_data),
                }
                for o in self.outcomes
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        lines = [f"{self.review_id}: {self.title}", ""]
        lines.append(f"{'records':<27}{self.records}")
        lines.append(f"{'decided':<27}{self.screened}")
        for stage in STAGES:
            n = self.by_stage.get(stage, 0)
            if n:
                lines.append(f"  {stage:<25}{n}")
        left = self.to_screen + self.to_assess
        lines.append(
            f"{'left to decide':<27}{len(left)}" + (f": {', '.join(left)}" if left else "")
        )
        lines.append(f"{'included studies':<27}{len(self.included_studies)}")
        for sid in self.included_studies:
            lines.append(f"  {sid}")
        if self.outcomes:
            lines += ["", "outcomes of interest (included studies with a result / without)"]
            width = max(len(o.label) for o in self.outcomes)
            for o in self.outcomes:
                lines.append(
                    f"  {o.label:<{width}}  {o.importance:<18}  {len(o.with_data)} with data, "
                    f"{len(o.without_data)} without"
                )
                if o.without_data:
                    lines.append(f"  {'':<{width}}  missing: {', '.join(o.without_data)}")
        return "\n".join(lines) + "\n"


def _studies_with_results(store: Store, concepts: list[str], studies: tuple[str, ...]) -> set[str]:
    from kb.namespaces import EKB, RES
    from kb.queries import sparql_iri

    if not concepts or not studies:
        return set()
    values_c = " ".join(sparql_iri(c) for c in concepts)
    values_s = " ".join(sparql_iri(f"{RES}study/{s}") for s in studies)
    query = (
        f"SELECT DISTINCT ?id WHERE {{ VALUES ?c {{ {values_c} }} VALUES ?study {{ {values_s} }}"
        f" ?study <{EKB}hasResult> ?r ; <{EKB}studyId> ?id . ?r <{EKB}outcome> ?o ."
        f" ?o <{EKB}outcomeConcept> ?c }}"
    )
    return {str(row["id"]) for row in store.select(query).rows if "id" in row}


def review_status(review: Review, store: Store) -> ReviewStatus:
    """The status of a review, its outcome coverage read from the studies in ``store``."""
    from kb.concepts import expand_narrower

    stages = Counter(r.stage for r in review.records)
    included = review.included_study_ids
    coverage = []
    for o in review.question.outcomes:
        have = _studies_with_results(store, expand_narrower(store, o.concept), included)
        coverage.append(
            OutcomeCoverage(
                key=o.key,
                label=o.label or review.label(o.concept),
                importance=o.importance,
                with_data=tuple(s for s in included if s in have),
                without_data=tuple(s for s in included if s not in have),
            )
        )
    return ReviewStatus(
        review_id=review.id,
        title=review.title,
        records=len(review.records),
        by_stage={s: stages[s] for s in STAGES if stages[s]},
        to_screen=tuple(r.key for r in review.records if r.stage == "to-screen"),
        to_assess=tuple(r.key for r in review.records if r.stage == "to-assess"),
        included_studies=included,
        outcomes=tuple(coverage),
    )
