"""Systematic reviews as data: the question, screening with reasons, PRISMA 2020.

Why the name: the shipped knowledge base is the package folder, so its review
*files* live in ``kb/reviews/*.ttl`` (like ``kb/studies/*.ttl``). The *code*
is ``kb.sysreview`` ("systematic review"), a name that cannot be mistaken for
that data folder, on disk or in an import.

A review lives in ``<kb>/reviews/<review-id>.ttl`` (canonical Turtle), written
from a YAML review form (``ekb review new`` prints a blank one). It holds what
people decided: the PICO question with outcomes of interest (importance and
optional MID / decision threshold), eligibility, registration, authors,
searches, and every record with its title/abstract and full-text decisions
(include/exclude, reason, who, when). What follows from those decisions --
the included studies and the PRISMA 2020 counts -- is derived, never stored.

Library use (the API other modules build on)::

    from kb.sysreview import load_review, prisma_counts

    review = load_review(None, "il2-sle-worked-example")  # None: $EKB_KB or the shipped KB
    review.question.population          # ('https://w3id.org/evidence-kb/vocab/condition/...', ...)
    review.label(review.question.population[0])            # 'lupus nephritis'
    for o in review.question.outcomes:  # OutcomeOfInterest
        o.key, o.concept, o.importance, o.minimal_important_difference, o.decision_threshold
    review.included_study_ids           # ('he-2016-natmed-il2-open-label', ...)
    for r in review.records:            # Record: key, search, study, title_abstract, full_text
        r.stage                          # 'included', 'excluded-title-abstract', 'to-screen', ...
    prisma_counts(review)["new_studies"]  # every box by its PRISMA2020 CSV key

Entry points:

:func:`load_review` (kb_dir, review_id) -> :class:`Review`
    one review, with :attr:`Review.labels` filled for the concepts it uses;
:func:`list_reviews` (kb_dir) -> list of :class:`Review`;
:func:`review_files` (kb_dir) -> the review files of a knowledge base;
:func:`add_review` (form_file, kb_dir, force=False)
    check a form (schema, meaning, SHACL) and write its file, or write nothing;
:func:`show_review` (kb_dir, review_id, fmt) -> yaml form, md page or ttl;
:func:`prisma_counts` (review) -> :class:`PrismaCounts`; :func:`prisma_csv` for PRISMA2020;
:func:`review_status` (review, store) -> :class:`ReviewStatus`;
:func:`validate_review_file` (path, kb_dir) -> :class:`kb.validation.FileReport`.

The model (all frozen dataclasses, in :mod:`kb.sysreview.model`): :class:`Review`,
:class:`Question`, :class:`OutcomeOfInterest`, :class:`Eligibility`,
:class:`Registration`, :class:`Author`, :class:`Search`, :class:`Record`,
:class:`Decision`. Concepts are IRIs; fixed choices (decision, importance,
search kind, removal, basis) are short words whose IRIs are in
:data:`kb.sysreview.model.DECISIONS` and its neighbours.

In SPARQL (reviews are loaded into the store beside the studies, each file in
the named graph ``res:review/<id>``), the included studies of a review are::

    ?review ekb:hasRecord ?record .
    ?record ekb:reportOf ?study ; ekb:fullTextDecision/ekb:decision term:include .

Modules: ``model`` (dataclasses), ``rdf`` (review <-> triples), ``fields`` (the form's
one field table: schema, blank form), ``form`` (YAML
form: schema, checks, blank form), ``files`` (the reviews/ folder: load, add,
show), ``validate`` (SHACL), ``prisma`` (counts, CSV), ``diagram`` (the flow
drawing), ``status`` (what is left to do), ``report`` (the Markdown page).
"""

from __future__ import annotations

from kb.sysreview.files import (
    add_review,
    find_review_file,
    list_reviews,
    load_review,
    review_files,
    show_review,
)
from kb.sysreview.model import (
    Author,
    Decision,
    Eligibility,
    OutcomeOfInterest,
    Question,
    Record,
    Registration,
    Review,
    Search,
)
from kb.sysreview.prisma import PrismaCounts, prisma_counts, prisma_csv

__all__ = [
    "Author",
    "Decision",
    "Eligibility",
    "OutcomeOfInterest",
    "PrismaCounts",
    "Question",
    "Record",
    "Registration",
    "Review",
    "Search",
    "add_review",
    "find_review_file",
    "list_reviews",
    "load_review",
    "prisma_counts",
    "prisma_csv",
    "review_files",
    "review_status",
    "show_review",
    "validate_review_file",
]


def __getattr__(name: str) -> object:
    # status and validate pull in the store and pySHACL: import them on first use.
    if name == "review_status":
        from kb.sysreview.status import review_status

        return review_status
    if name == "validate_review_file":
        from kb.sysreview.validate import validate_review_file

        return validate_review_file
    raise AttributeError(name)
