"""Resolve what a user types ("lupus", "IL-2", ``cond:lupus-nephritis``) to a concept IRI.

Concepts live in SKOS schemes (``ontology/vocab/*.ttl``, plus any a KB or a study
file declares) that are loaded into the store. Everything here goes through
SPARQL on the :class:`kb.store.Store` protocol (``select``/``ask``), so it works the
same on the embedded store and on a remote endpoint. User text only reaches a
query as an escaped literal or a checked IRI (:mod:`kb.queries`).

>>> # resolve(store, "lupus", "condition")
>>> # 'https://w3id.org/evidence-kb/vocab/condition/systemic-lupus-erythematosus'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.errors import UsageError
from kb.namespaces import AGENT, COND, DESIGN, OUTC, SRCTYPE, TERM, shorten
from kb.sparql_terms import expand_curie, looks_like_iri, sparql_iri, sparql_string, to_iri

if TYPE_CHECKING:
    from kb.store import Store

SKOS = "http://www.w3.org/2004/02/skos/core#"
_PREFIX = f"PREFIX skos: <{SKOS}>\n"

#: Short scheme names accepted by :func:`resolve` and by query headers (``scheme:``).
SCHEMES: dict[str, str] = {
    "condition": str(COND),
    "agent": str(AGENT),
    "intervention": str(AGENT),
    "outcome": str(OUTC),
    "design": str(DESIGN),
    "source-type": str(SRCTYPE),
    **{
        name: f"{TERM}{name}"
        for name in (
            "arm-role",
            "outcome-role",
            "blinding",
            "route",
            "effect-measure",
            "summary-statistic",
            "direction",
            "claim-type",
            "certainty",
            "certainty-reason",
        )
    },
}


@dataclass(frozen=True)
class Match:
    """A concept whose label matched, with the label and whether it is the preferred one."""

    iri: str
    label: str
    preferred: bool


def scheme_iri(scheme: str) -> str:
    """The IRI of a scheme given by short name (``condition``), CURIE or IRI.

    :raises UsageError: an unknown short name (suggests the nearest).
    """
    if scheme in SCHEMES:
        return SCHEMES[scheme]
    if looks_like_iri(scheme) or expand_curie(scheme):
        return to_iri(scheme)
    close = difflib.get_close_matches(scheme, list(SCHEMES), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UsageError(f"no concept scheme {scheme!r}.{hint} Known: {', '.join(sorted(SCHEMES))}")


def _scheme_name(scheme: str | None) -> str:
    return scheme if scheme else "concept"


def _scheme_pattern(scheme: str | None) -> str:
    if scheme is None:
        return ""
    return f"?concept skos:inScheme {sparql_iri(scheme_iri(scheme))} .\n"


def find_by_label(store: Store, text: str, scheme: str | None = None) -> list[Match]:
    """Concepts with a prefLabel or altLabel equal to ``text`` (trimmed, case-insensitive).

    Sorted by IRI, preferred labels first for each concept.
    """
    needle = text.strip().lower()
    query = (
        _PREFIX
        + "SELECT DISTINCT ?concept ?label ?preferred WHERE {\n"
        + f"  VALUES ?needle {{ {sparql_string(needle)} }}\n"
        + "  { ?concept skos:prefLabel ?label . BIND(true AS ?preferred) }\n"
        + "  UNION { ?concept skos:altLabel ?label . BIND(false AS ?preferred) }\n"
        + "  FILTER(LCASE(STR(?label)) = ?needle)\n"
        + "  FILTER NOT EXISTS { ?concept a skos:ConceptScheme }\n"
        + "  "
        + _scheme_pattern(scheme)
        + "} ORDER BY ?concept DESC(?preferred) ?label"
    )
    result = store.select(query)
    return [
        Match(str(row["concept"]), str(row["label"]), str(row["preferred"]).lower() == "true")
        for row in result.rows
    ]


def all_labels(store: Store, scheme: str | None = None) -> dict[str, str]:
    """Every label (pref and alt) of the concepts in ``scheme`` -> its concept IRI."""
    query = (
        _PREFIX
        + "SELECT DISTINCT ?concept ?label WHERE {\n"
        + "  ?concept skos:prefLabel|skos:altLabel ?label .\n"
        + "  FILTER NOT EXISTS { ?concept a skos:ConceptScheme }\n  "
        + _scheme_pattern(scheme)
        + "} ORDER BY ?label ?concept"
    )
    return {str(row["label"]): str(row["concept"]) for row in store.select(query).rows}


def pref_label(store: Store, iri: str) -> str | None:
    """The preferred label of a concept, or ``None``."""
    query = (
        _PREFIX
        + f"SELECT ?label WHERE {{ {sparql_iri(iri)} skos:prefLabel ?label }}"
        + " ORDER BY ?label LIMIT 1"
    )
    rows = store.select(query).rows
    return str(rows[0]["label"]) if rows else None


def _nearest_labels(store: Store, text: str, scheme: str | None, n: int = 5) -> list[str]:
    labels = all_labels(store, scheme)
    lowered: dict[str, str] = {}
    for label in labels:
        lowered.setdefault(label.lower(), label)
    close = difflib.get_close_matches(text.strip().lower(), list(lowered), n=n, cutoff=0.6)
    if not close:
        # a word inside a longer label ("nephritis" -> "lupus nephritis")
        words = text.strip().lower()
        close = [low for low in lowered if words and words in low][:n]
    return [lowered[c] for c in close]


def _check_iri(store: Store, iri: str, text: str, scheme: str | None) -> str:
    term = sparql_iri(iri)
    is_concept = store.ask(
        _PREFIX
        + f"ASK {{ {{ {term} a skos:Concept }} UNION {{ {term} skos:inScheme ?s }}"
        + f" UNION {{ {term} skos:prefLabel ?l }} }}"
    )
    if not is_concept:
        raise UsageError(f"{text!r} is not a concept in the knowledge base's vocabularies")
    if scheme is not None:
        in_scheme = store.ask(
            _PREFIX + f"ASK {{ {term} skos:inScheme {sparql_iri(scheme_iri(scheme))} }}"
        )
        if not in_scheme:
            raise UsageError(f"{shorten(iri)} is not a {_scheme_name(scheme)} concept")
    return iri


def resolve(store: Store, text: str, scheme: str | None = None) -> str:
    """The IRI of the concept ``text`` names: a CURIE (``cond:lupus-nephritis``), a full
    IRI, or a prefLabel/altLabel (case-insensitive, exact after trimming).

    :param scheme: restrict to one scheme: a short name from :data:`SCHEMES`
        (``condition``, ``agent``, ``outcome``, ``design``...), a CURIE or an IRI.
    :raises UsageError: unknown text (lists the nearest labels), an ambiguous label
        (lists the candidates), or a concept outside ``scheme``.
    """
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"empty {_scheme_name(scheme)}: give a label, a CURIE or an IRI")
    if looks_like_iri(stripped) or expand_curie(stripped):
        return _check_iri(store, to_iri(stripped), stripped, scheme)
    matches = find_by_label(store, stripped, scheme)
    concepts = sorted({m.iri for m in matches})
    if len(concepts) == 1:
        return concepts[0]
    if len(concepts) > 1:
        listing = "; ".join(f"{shorten(iri)} ({pref_label(store, iri) or iri})" for iri in concepts)
        where = f" among {_scheme_name(scheme)} concepts" if scheme else ""
        raise UsageError(
            f"{stripped!r} is ambiguous{where}: it could be {listing}. Give a CURIE to choose."
        )
    near = _nearest_labels(store, stripped, scheme)
    hint = f" Nearest labels: {', '.join(repr(label) for label in near)}." if near else ""
    raise UsageError(f"no {_scheme_name(scheme)} called {stripped!r}.{hint}")


def expand_narrower(store: Store, iri: str) -> list[str]:
    """The concept and every concept narrower than it, transitively.

    Follows ``skos:broader`` and, inversely, ``skos:narrower``. The concept comes
    first, the others sorted.
    """
    term = sparql_iri(iri)
    query = (
        _PREFIX
        + "SELECT DISTINCT ?concept WHERE {"
        + f" ?concept (skos:broader|^skos:narrower)* {term} }} ORDER BY ?concept"
    )
    found = {str(row["concept"]) for row in store.select(query).rows}
    found.discard(iri)
    return [iri, *sorted(found)]


def resolve_with_narrower(store: Store, text: str, scheme: str | None = None) -> list[str]:
    """:func:`resolve`, then :func:`expand_narrower`: the concept and all narrower ones."""
    return expand_narrower(store, resolve(store, text, scheme))
