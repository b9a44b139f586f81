"""From the command line's filters (``--study``, ``--condition``, ...) to a :class:`Selection`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.export.tables.model import Selection, _iri_values
from kb.namespaces import EKB


def _resolve(store: Any, text: str, scheme: str) -> list[str]:
    """Concept IRIs for ``text`` and everything narrower, through :mod:`kb.concepts`."""
    from kb.concepts import resolve_with_narrower  # written by the concepts module's owner

    return list(resolve_with_narrower(store, text, scheme))


def select_studies(
    store: Any,
    *,
    study_ids: Sequence[str] = (),
    condition: str | None = None,
    intervention: str | None = None,
    outcome: str | None = None,
    review: str | None = None,
) -> Selection:
    """The studies matching every filter given (all studies when none is).

    ``review`` (a review id) keeps the studies the review includes: those of its
    records whose full-text decision is include (read from the store, so it works
    on a remote endpoint that holds the review too).

    Concept filters accept what :func:`kb.concepts.resolve_with_narrower` accepts (a CURIE,
    an IRI, a label or synonym) and include narrower concepts: ``--condition lupus`` covers
    lupus nephritis.

    :raises UsageError: an unknown study id (with the closest ids), or a concept that does
        not resolve.
    :raises CheckFailed: the filters are valid but no study matches them.
    """
    from kb.text import did_you_mean

    rows = store.select(
        f"PREFIX ekb: <{EKB}>\nSELECT ?study ?id WHERE {{ ?study a ekb:Study ; ekb:studyId ?id }}"
    ).rows
    by_id = {str(r["id"]): str(r["study"]) for r in rows if "id" in r}
    selected = set(by_id.values())
    said: list[str] = []

    if study_ids:
        wanted = set()
        for sid in study_ids:
            if sid not in by_id:
                raise UsageError(
                    f"no study with id {sid!r} in this knowledge base.{did_you_mean(sid, by_id)}"
                )
            wanted.add(by_id[sid])
        selected &= wanted
        said.append("studies " + ", ".join(sorted(set(study_ids))))

    if review is not None:
        from kb.queries import resolve_review

        review_iri = resolve_review(store, review)
        hits = store.select(
            f"PREFIX ekb: <{EKB}>\nSELECT DISTINCT ?study WHERE {{ <{review_iri}> ekb:hasRecord"
            " ?record . ?record ekb:reportOf ?study ; ekb:fullTextDecision/ekb:decision"
            " <https://w3id.org/evidence-kb/vocab/term/include> }"
        ).rows
        selected &= {str(r["study"]) for r in hits}
        said.append(f"the studies review {review!r} includes")

    outcome_concepts: frozenset[str] | None = None
    filters = (
        (condition, "condition", "ekb:hasPopulation/ekb:condition", "condition"),
        (intervention, "intervention", "ekb:hasArm/ekb:receives/ekb:agent", "intervention"),
        (outcome, "outcome", "ekb:hasOutcome/ekb:outcomeConcept", "outcome"),
    )
    for text, scheme, path, what in filters:
        if text is None:
            continue
        concepts = _resolve(store, text, scheme)
        if not concepts:
            raise UsageError(f"no {what} concept matches {text!r}")
        hits = store.select(
            f"PREFIX ekb: <{EKB}>\n"
            "SELECT DISTINCT ?study WHERE "
            f"{{ VALUES ?c {{ {_iri_values(concepts)} }} ?study {path} ?c }}"
        ).rows
        selected &= {str(r["study"]) for r in hits}
        said.append(f"{what} {text!r}")
        if what == "outcome":
            outcome_concepts = frozenset(concepts)

    description = " and ".join(said) if said else "all studies"
    if not selected:
        raise CheckFailed(f"no study matches {description}")
    return Selection(tuple(sorted(selected)), outcome_concepts, description)


def selection_for_all(store: Any) -> Selection:
    """Every study in the store."""
    return select_studies(store)
