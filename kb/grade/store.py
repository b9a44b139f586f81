"""A reviewer's final GRADE ratings, stored in the review's file (beside its RoB assessments).

A GRADE form (YAML)::

    outcome: sri-4            # an outcome key of the review's question
    rater: A. Reviewer
    date: 2026-12-02
    ratings:
      imprecision: {final: very serious, reason: "one trial of 60 participants"}
      indirectness: {final: not serious, reason: "population and outcome as in the question"}

Only the final ratings and reasons are stored; the suggestions are recomputed each time
(:mod:`kb.grade.rules`). Layout: ``<review/R> ekb:hasCertaintyAssessment <review/R/grade/O>``;
``<review/R/grade/O/domain/imprecision> ekb:gradeDomain "imprecision" ; ekb:finalRating
"very serious" ; ekb:ratingReason "..."``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed
from kb.grade import rules
from kb.grade.rating import FinalRating, check_finals
from kb.namespaces import EKB

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"


def _e(local: str) -> Any:
    from rdflib import URIRef

    return URIRef(f"{EKB}{local}")


def read_form(data: Any, source: str) -> tuple[str, dict[str, FinalRating]]:
    """Check a GRADE form: outcome, and each rating on its domain's scale with a reason.

    :raises CheckFailed: naming the field.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise CheckFailed(f"{source}: (top): the GRADE form must be a YAML mapping")
    unknown = set(data) - {"outcome", "rater", "date", "ratings"}
    problems += [f"{k}: unknown field" for k in sorted(map(str, unknown))]
    outcome = data.get("outcome")
    if not isinstance(outcome, str) or not outcome.strip():
        problems.append("outcome: required (an outcome key of the review's question)")
    rater = data.get("rater")
    date = data.get("date")
    if isinstance(date, _dt.date):
        date = date.isoformat()
    raw = data.get("ratings")
    finals: dict[str, FinalRating] = {}
    if not isinstance(raw, Mapping) or not raw:
        problems.append("ratings: required: domain -> {final, reason}")
        raw = {}
    for domain, entry in raw.items():
        where = f"ratings.{domain}"
        if not isinstance(entry, Mapping) or "final" not in entry:
            problems.append(f"{where}: give final (and reason)")
            continue
        extra = set(entry) - {"final", "reason"}
        if extra:
            problems.append(f"{where}: unknown field(s): {', '.join(sorted(map(str, extra)))}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}.reason: a final rating needs the reviewer's reason")
            continue
        finals[str(domain)] = FinalRating(
            str(entry["final"]),
            reason.strip(),
            str(rater) if rater else None,
            str(date) if date else None,
        )
    try:
        check_finals(finals, "ratings")
    except CheckFailed as exc:
        problems += str(exc).split("; ")
    if problems:
        raise CheckFailed(
            f"{source}: {len(problems)} problem(s) in the GRADE form:\n  " + "\n  ".join(problems)
        )
    return str(outcome), finals


def _slug(domain: str) -> str:
    return domain.replace(" ", "-")


def grade_iri(review_id: str, outcome: str) -> str:
    from kb.sysreview.model import part_iri

    return part_iri(review_id, "grade", outcome)


def to_triples(review_id: str, outcome: str, finals: Mapping[str, FinalRating]) -> list[Any]:
    from rdflib import Literal, URIRef

    from kb.sysreview.model import part_iri, review_iri

    node = URIRef(grade_iri(review_id, outcome))
    out: list[Any] = [
        (URIRef(review_iri(review_id)), _e("hasCertaintyAssessment"), node),
        (node, URIRef(RDF_TYPE), _e("CertaintyAssessment")),
        (node, _e("ratedOutcome"), URIRef(part_iri(review_id, "outcome", outcome))),
    ]
    for domain, f in finals.items():
        d = URIRef(f"{node}/domain/{_slug(domain)}")
        out += [
            (node, _e("hasDomainRating"), d),
            (d, URIRef(RDF_TYPE), _e("CertaintyDomainRating")),
            (d, _e("gradeDomain"), Literal(domain)),
            (d, _e("finalRating"), Literal(f.rating)),
        ]
        if f.reason:
            out.append((d, _e("ratingReason"), Literal(f.reason)))
        if f.rater:
            out.append((d, _e("ratedBy"), Literal(f.rater)))
        if f.date:
            out.append((d, _e("ratedOn"), Literal(f.date, datatype=URIRef(XSD_DATE))))
    return out


def finals_in(graph: Any, review_id: str) -> dict[str, dict[str, FinalRating]]:
    """outcome key -> domain -> the reviewer's final rating, from a review's graph."""
    from rdflib import URIRef

    from kb.sysreview.model import review_iri

    out: dict[str, dict[str, FinalRating]] = {}
    for node in graph.objects(URIRef(review_iri(review_id)), _e("hasCertaintyAssessment")):
        outcome = str(graph.value(node, _e("ratedOutcome"))).rsplit("/", 1)[-1]
        ratings = {}
        for d in graph.objects(node, _e("hasDomainRating")):

            def v(p: str, d: Any = d) -> str | None:
                x = graph.value(d, _e(p))
                return None if x is None else str(x)

            domain = v("gradeDomain") or ""
            ratings[domain] = FinalRating(
                v("finalRating") or "", v("ratingReason"), v("ratedBy"), v("ratedOn")
            )
        out[outcome] = ratings
    return out


def add_ratings(
    form_file: Path, review_id: str, kb_dir: Path | None = None, *, force: bool = False
) -> tuple[str, dict[str, FinalRating]]:
    """Check a GRADE form against the review and write it into the review's file.

    :raises CheckFailed: the form does not conform, or names an outcome the review lacks.
    """
    from kb.kbdir import resolve_kb
    from kb.rob.assessment import load_yaml
    from kb.rob.store import write_part
    from kb.sysreview.files import find_review_file, read_review_file

    kb = resolve_kb(kb_dir)
    path = find_review_file(kb, review_id)
    review = read_review_file(path)
    outcome, finals = read_form(load_yaml(form_file), str(form_file))
    keys = [o.key for o in review.question.outcomes]
    if outcome not in keys:
        raise CheckFailed(
            f"{form_file}: outcome: {outcome!r} is not an outcome of review {review.id} "
            f"({', '.join(keys)})"
        )
    write_part(
        path,
        grade_iri(review.id, outcome),
        to_triples(review.id, outcome, finals),
        kb,
        force=force,
        what=f"GRADE ratings for {outcome}",
    )
    return outcome, finals


__all__ = ["add_ratings", "finals_in", "read_form", "rules"]
