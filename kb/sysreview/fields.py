"""The one description of the review form: every field with its kind and comment.

The JSON Schema (:func:`json_schema`), the blank form (:func:`blank_form`) and the
checks and conversions of :mod:`kb.sysreview.form` are all derived from
:data:`SECTIONS`, so they cannot drift apart (the study forms' idea, kept small).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kb.sysreview.model import (
    BASES,
    DECISIONS,
    EXCLUSION_REASON_SCHEME,
    IMPORTANCE,
    REMOVALS,
    SEARCH_KINDS,
)

#: Review ids and keys become parts of IRIs and file names: no '/', no leading '.',
#: so an id can never name a file outside ``reviews/``.
KEY_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$"
_KEY_RE = re.compile(KEY_PATTERN)
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass(frozen=True)
class Field:
    """One YAML field: its name, kind, the comment the blank form shows, and checks."""

    name: str
    kind: str  # text | key | ref | date | count | decimal | url | concept | choice | decision
    help: str
    required: bool = False
    multi: bool = False
    scheme: str | None = None  # concept scheme (short name or IRI)
    choices: tuple[str, ...] = ()


def _key(what: str) -> Field:
    return Field("key", "key", f"short id of this {what}, unique in the review (e.g. r1)", True)


DECISION_FIELDS: tuple[Field, ...] = (
    Field("decision", "choice", "include or exclude", True, choices=tuple(DECISIONS)),
    Field(
        "reason",
        "concept",
        "why excluded: wrong population, wrong intervention, wrong comparator, wrong outcome, "
        "wrong study design, wrong publication type, duplicate report, not retrievable, ongoing "
        "study (required at full text)",
        scheme=EXCLUSION_REASON_SCHEME,
    ),
    Field("decided_by", "text", "who decided: [name, name]", multi=True),
    Field("decided_on", "date", "when, YYYY-MM-DD"),
    Field("basis", "choice", "single-reviewer, agreement or adjudication", choices=tuple(BASES)),
    Field("note", "text", "anything a reader should know about the decision"),
)

#: section name -> (is a list of records, fields, the comment above the section)
SECTIONS: dict[str, tuple[bool, tuple[Field, ...], str]] = {
    "review": (
        False,
        (
            Field(
                "id",
                "key",
                "the review's id, lowercase words joined by '-'; also its file name "
                "reviews/<id>.ttl",
                True,
            ),
            Field("title", "text", "the review's title", True),
            Field("description", "text", "what this review is (and is not), in a few sentences"),
            Field("note", "text", "anything else a reader should know"),
        ),
        "the review itself",
    ),
    "question": (
        False,
        (
            Field("text", "text", "the question in words"),
            Field(
                "population",
                "concept",
                "condition(s) of the population: [lupus nephritis]; labels, synonyms or CURIEs",
                multi=True,
                scheme="condition",
            ),
            Field("population_text", "text", "the population in words, with qualifiers"),
            Field(
                "interventions",
                "concept",
                "intervention agent(s): [low-dose interleukin-2]",
                multi=True,
                scheme="agent",
            ),
            Field("interventions_text", "text", "the interventions in words (dose, schedule)"),
            Field(
                "comparators",
                "concept",
                "comparator agent(s): [placebo, standard therapy]",
                multi=True,
                scheme="agent",
            ),
            Field("comparators_text", "text", "the comparators in words ('none' if uncontrolled)"),
        ),
        "the question (PICO); the outcomes of interest are under outcomes:",
    ),
    "outcomes": (
        True,
        (
            _key("outcome"),
            Field(
                "outcome",
                "concept",
                "the outcome concept (label, synonym or CURIE)",
                True,
                scheme="outcome",
            ),
            Field("label", "text", "how the review names it"),
            Field(
                "importance",
                "choice",
                "critical, important or limited-importance (GRADE)",
                True,
                choices=tuple(IMPORTANCE),
            ),
            Field(
                "minimal_important_difference",
                "decimal",
                "smallest difference that matters to patients, in threshold_unit",
            ),
            Field(
                "decision_threshold",
                "decimal",
                "effect at which the decision changes, in threshold_unit",
            ),
            Field("threshold_unit", "text", 'unit of both: "points SLEDAI-2K", "per 1000"'),
            Field("threshold_source", "text", "where the threshold comes from"),
            Field("note", "text", "a caveat"),
        ),
        "outcomes of interest, each with its importance",
    ),
    "eligibility": (
        False,
        (
            Field("inclusion", "text", "inclusion criteria in words"),
            Field("exclusion", "text", "exclusion criteria in words"),
            Field("designs", "concept", "eligible designs (concepts)", multi=True, scheme="design"),
            Field(
                "conditions",
                "concept",
                "conditions a population must have",
                multi=True,
                scheme="condition",
            ),
            Field(
                "interventions",
                "concept",
                "agents some arm must receive",
                multi=True,
                scheme="agent",
            ),
        ),
        "eligibility criteria",
    ),
    "registration": (
        False,
        (
            Field("registry", "text", "PROSPERO, OSF, ..."),
            Field("number", "text", "e.g. CRD42020123456"),
            Field("url", "url", "web address of the protocol"),
            Field("registered_on", "date", "YYYY-MM-DD"),
        ),
        "protocol registration (leave blank if none)",
    ),
    "authors": (
        True,
        (
            _key("author"),
            Field("name", "text", "the author's name", True),
            Field("orcid", "text", "ORCID iD, 0000-0000-0000-0000"),
        ),
        "review authors",
    ),
    "searches": (
        True,
        (
            _key("search"),
            Field(
                "kind",
                "choice",
                "database, register, website, organisation or citation-searching",
                True,
                choices=tuple(SEARCH_KINDS),
            ),
            Field("source", "text", 'name of the source: "MEDLINE via PubMed"'),
            Field("searched_on", "date", "when the search was run, YYYY-MM-DD"),
            Field(
                "records_found",
                "count",
                "records the source returned; leave blank if unknown (must equal the records "
                "listed from this search)",
            ),
            Field("strategy", "text", "the search as run"),
            Field("note", "text", "a caveat"),
        ),
        "searches: one per source",
    ),
    "records": (
        True,
        (
            _key("record"),
            Field("search", "ref", "key of the search that found it", True),
            Field("citation", "text", "authors, title, journal, year, DOI"),
            Field("registry_id", "text", "registry id (NCT...)"),
            Field(
                "study",
                "ref",
                "id of the study in this knowledge base that the record reports "
                "(required when included)",
            ),
            Field("duplicate_of", "ref", "key of the record this one duplicates"),
            Field(
                "removed_before_screening",
                "choice",
                "automation or other (not for duplicates)",
                choices=tuple(REMOVALS),
            ),
            Field("title_abstract", "decision", "title and abstract screening"),
            Field("full_text", "decision", "full-text assessment"),
            Field("note", "text", "a caveat"),
        ),
        "every record identified, with its decisions",
    ),
}


# ---------------------------------------------------------------------------
# JSON Schema


def _field_schema(f: Field) -> dict[str, Any]:
    one: dict[str, Any]
    if f.kind in ("key", "ref"):
        one = {
            "type": "string",
            "pattern": KEY_PATTERN,
            "x-expect": "a key of letters, digits, '-', '_' or '.' (no spaces, no '/')",
        }
    elif f.kind == "date":
        one = {"type": "string", "pattern": _DATE_RE, "x-expect": "a date written YYYY-MM-DD"}
    elif f.kind == "count":
        one = {"type": "integer", "minimum": 0, "x-expect": "a whole number, 0 or more"}
    elif f.kind == "decimal":
        one = {"type": "number", "x-expect": "a number"}
    elif f.kind == "url":
        one = {
            "type": "string",
            "pattern": r"^https?://\S+$",
            "x-expect": "a web address starting with http:// or https://",
        }
    elif f.kind == "choice":
        one = {
            "type": "string",
            "enum": list(f.choices),
            "x-expect": "one of " + ", ".join(f.choices),
        }
    elif f.kind == "decision":
        return _record_schema(DECISION_FIELDS)
    else:
        one = {"type": "string", "minLength": 1, "x-expect": "text"}
    if f.multi:
        return {"type": "array", "items": one, "x-expect": f"a list of {one['x-expect']}"}
    return one


def _record_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
        "x-expect": "a mapping of fields",
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a review form (generated from :data:`SECTIONS`)."""
    props: dict[str, Any] = {}
    for name, (many, fields, _help) in SECTIONS.items():
        rec = _record_schema(fields)
        props[name] = (
            {"type": "array", "items": rec, "x-expect": "a list of mappings (- key: ...)"}
            if many
            else rec
        )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "evidence-kb review form",
        "type": "object",
        "properties": props,
        "required": ["review"],
        "additionalProperties": False,
    }


# ---------------------------------------------------------------------------
# The blank form


def blank_form() -> str:
    """A blank review form: every field with a comment, one example record per list."""
    lines = [
        "# evidence-kb review form. Fill it in, then: ekb review add FORM.yaml",
        "# Leave a field blank when it is unknown: blank means absent, never zero.",
        "# Every record a search found is listed under records:, with its decisions;",
        "# the PRISMA 2020 counts are derived from them (ekb review prisma).",
        "",
    ]
    width = 34
    for name, (many, fields, help_text) in SECTIONS.items():
        lines.append(f"# {help_text}")
        lines.append(f"{name}:")
        indent = "  - " if many else "  "
        for j, f in enumerate(fields):
            lead = indent if j == 0 else "    " if many else "  "
            need = " (required)" if f.required else ""
            if f.kind == "decision":
                lines.append(f"{lead}{f.name}:".ljust(width) + f"# {f.help}")
                for df in DECISION_FIELDS:
                    sub = ("      " if many else "    ") + f"{df.name}:"
                    dneed = " (required)" if df.required else ""
                    lines.append(sub.ljust(width) + f"# {df.help}{dneed}")
                continue
            lines.append(f"{lead}{f.name}:".ljust(width) + f"# {f.help}{need}")
        lines.append("")
    return "\n".join(lines)
