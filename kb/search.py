"""Free-text search over the studies: titles, conditions, interventions, outcomes, claims, notes.

The store does the matching (one SPARQL query: every text of those fields that contains one of
the search words, case-insensitively), so the same search runs on the embedded store and on a
remote endpoint; Python ranks what comes back, by a rule simple enough to check by hand:

- texts and the search are compared lower-cased, with every run of characters other than
  letters and digits read as one space ("low-dose IL-2" reads "low dose il 2");
- the search is split into words (words of one letter and a few very common English words are
  dropped); a word *matches* a text that has a word starting with it ("nephr" matches
  "nephritis", "il" does not match "Plaquenil");
- each field has a weight: title 3, condition 2, intervention 2, outcome 1.5, claim 1, note 0.5;
- a study's score is, for every search word, the largest weight of a field of the study whose
  text contains it, summed over the words; plus, when the whole search text (lower-cased, spaces
  read as above) occurs in a text, that field's weight once more;
- studies with a higher score come first, then by study id; each row names the field and the
  text that scored highest (ties: the heavier field, then the shorter text).

Full-text engines (Oxigraph has none; a remote store may have its own) would rank by term
statistics; with tens to thousands of studies a weighted match is enough, and explains itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kb.errors import UsageError
from kb.namespaces import EKB
from kb.sparql_terms import sparql_string
from kb.store_api import QueryResult

#: field -> weight (see the module docstring).
FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "condition": 2.0,
    "intervention": 2.0,
    "outcome": 1.5,
    "claim": 1.0,
    "note": 0.5,
}
FIELDS = tuple(FIELD_WEIGHTS)
COLUMNS = ["rank", "study_id", "score", "field", "match", "title"]
_STOPWORDS = frozenset("a an and as at by for from in is it of on or the to with".split())
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SNIPPET = 100

# One UNION branch per field; ?text is what is matched.
_BRANCHES = {
    # A UNION branch is evaluated on its own: it cannot see ?title from outside, so it reads it.
    "title": "?study ekb:title ?text",
    "condition": "?study ekb:hasPopulation ?pop ."
    " { ?pop ekb:conditionText ?text } UNION { ?pop ekb:condition/skos:prefLabel ?text }"
    " UNION { ?pop ekb:condition/skos:altLabel ?text }",
    "intervention": "?study ekb:hasArm ?arm ."
    " { ?arm rdfs:label ?text } UNION { ?arm ekb:receives/ekb:agentText ?text }"
    " UNION { ?arm ekb:receives/ekb:agent/skos:prefLabel ?text }"
    " UNION { ?arm ekb:receives/ekb:agent/skos:altLabel ?text }",
    "outcome": "?study ekb:hasOutcome ?out ."
    " { ?out rdfs:label ?text } UNION { ?out ekb:outcomeConcept/skos:prefLabel ?text }",
    "claim": "?study ekb:hasClaim/ekb:statement ?text",
    "note": "?study (ekb:hasPopulation|ekb:hasArm|ekb:hasOutcome|ekb:hasResult"
    "|ekb:hasComparison|ekb:hasSafetyFinding|ekb:hasClaim)? ?rec . ?rec ekb:note ?text",
}


@dataclass(frozen=True)
class Hit:
    """One study found: its score, and the field and text that scored highest."""

    study_id: str
    title: str
    score: float
    field: str
    text: str


def normalise(text: str) -> str:
    """Lower case, each run of non-letters-or-digits one space, a space at both ends."""
    return " " + " ".join(_NOT_WORD.sub(" ", text.lower()).split()) + " "


def search_words(text: str) -> list[str]:
    """The words a search looks for, lower-cased, in order, without repeats or stopwords."""
    words: list[str] = []
    for word in normalise(text).split():
        if (len(word) > 1 or word.isdigit()) and word not in _STOPWORDS and word not in words:
            words.append(word)
    return words


def _query(words: list[str], fields: tuple[str, ...]) -> str:
    union = "\n  UNION ".join(f'{{ {_BRANCHES[f]} BIND("{f}" AS ?field) }}' for f in fields)
    contains = " || ".join(f"CONTAINS(LCASE(STR(?text)), {sparql_string(w)})" for w in words)
    return f"""PREFIX ekb: <{EKB}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?id ?title ?field ?text WHERE {{
  ?study a ekb:Study ; ekb:studyId ?id ; ekb:title ?title .
  {union}
  FILTER({contains})
}}"""


def _snippet(text: str, words: list[str]) -> str:
    """The text on one line, cut to about 100 characters around the first word found."""
    text = " ".join(text.split())
    if len(text) <= _SNIPPET:
        return text
    lowered = text.lower()
    first = min((lowered.find(w) for w in words if w in lowered), default=0)
    start = max(0, min(first - 30, len(text) - _SNIPPET))
    cut = text[start : start + _SNIPPET]
    return ("…" if start else "") + cut + ("…" if start + _SNIPPET < len(text) else "")


def rank(texts: list[tuple[str, str, str, str]], query_text: str, words: list[str]) -> list[Hit]:
    """Rank ``(study_id, title, field, text)`` rows by the rule of the module docstring."""
    phrase = normalise(query_text).rstrip()  # " low dose il 2": starts at a word
    starts = [" " + w for w in words]
    by_study: dict[str, list[tuple[str, str, str]]] = {}
    titles: dict[str, str] = {}
    for study_id, title, field, text in texts:
        by_study.setdefault(study_id, []).append((field, text, normalise(text)))
        titles[study_id] = title
    hits = []
    for study_id, rows in by_study.items():
        score = 0.0
        for start in starts:
            score += max((FIELD_WEIGHTS[f] for f, _, low in rows if start in low), default=0.0)
        phrase_fields = [FIELD_WEIGHTS[f] for f, _, low in rows if len(words) > 1 and phrase in low]
        score += max(phrase_fields, default=0.0)

        def text_score(row: tuple[str, str, str]) -> tuple[float, float, int]:
            field, text, low = row
            matched = sum(1 for w in starts if w in low) + (len(words) > 1 and phrase in low)
            return (matched * FIELD_WEIGHTS[field], FIELD_WEIGHTS[field], -len(text))

        best_field, best_text, _ = max(sorted(rows), key=text_score)
        if score > 0:
            hits.append(
                Hit(study_id, titles[study_id], score, best_field, _snippet(best_text, words))
            )
    hits.sort(key=lambda h: (-h.score, h.study_id))
    return hits


def search(
    store: Any, text: str, *, fields: tuple[str, ...] = FIELDS, limit: int | None = 20
) -> list[Hit]:
    """Studies whose fields contain the words of ``text``, best first.

    :param store: any :class:`kb.store_api.Store` (embedded or remote).
    :param fields: the fields to search (default: all of :data:`FIELDS`).
    :param limit: at most this many studies (``None``: all).
    :raises UsageError: no word to search for, or an unknown field.
    """
    words = search_words(text)
    if not words:
        raise UsageError(f"nothing to search for in {text!r}: give one or more words")
    unknown = [f for f in fields if f not in FIELD_WEIGHTS]
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r}; choose from {', '.join(FIELDS)}")
    rows = store.select(_query(words, tuple(dict.fromkeys(fields)))).rows
    texts = [(str(r["id"]), str(r["title"]), str(r["field"]), str(r["text"])) for r in rows]
    hits = rank(texts, text, words)
    return hits if limit is None else hits[:limit]


def as_result(hits: list[Hit]) -> QueryResult:
    """The hits as a :class:`~kb.store_api.QueryResult`, for the shared output formats."""
    from decimal import Decimal

    from rdflib import Literal
    from rdflib.term import Identifier

    rows: list[dict[str, Identifier]] = [
        {
            "rank": Literal(i),
            "study_id": Literal(h.study_id),
            "score": Literal(Decimal(str(h.score)).quantize(Decimal("0.1"))),
            "field": Literal(h.field),
            "match": Literal(h.text),
            "title": Literal(h.title),
        }
        for i, h in enumerate(hits, 1)
    ]
    return QueryResult(list(COLUMNS), rows)
