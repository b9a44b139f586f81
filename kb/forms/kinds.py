"""Value kinds of form fields: how a value is checked, written as RDF and described."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Keys (study ids, arm/outcome/... keys) become parts of IRIs and file names.
KEY_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$"
KEY_RE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class Kind:
    """How a field's value is checked, written as RDF, and described to the reviewer."""

    name: str
    expect: str  # "must be <expect>" in error messages
    schema: dict[str, Any]
    datatype: str | None = None  # XSD datatype of the literal; None for IRIs


TEXT = Kind("text", "text", {"type": "string", "minLength": 1})
COUNT = Kind(
    "count", "a whole number, 0 or more", {"type": "integer", "minimum": 0}, XSD + "integer"
)
POSITIVE = Kind(
    "positive", "a positive integer", {"type": "integer", "minimum": 1}, XSD + "integer"
)
CYCLES = Kind(
    "cycles", "a positive integer", {"type": "integer", "minimum": 1}, XSD + "positiveInteger"
)
DECIMAL = Kind("decimal", "a number", {"type": "number"}, XSD + "decimal")
NONNEG = Kind("nonneg", "a number, 0 or more", {"type": "number", "minimum": 0}, XSD + "decimal")
PERCENT = Kind(
    "percent",
    "a percentage from 0 to 100",
    {"type": "number", "minimum": 0, "maximum": 100},
    XSD + "decimal",
)
PROBABILITY = Kind(
    "probability",
    "a number from 0 to 1",
    {"type": "number", "minimum": 0, "maximum": 1},
    XSD + "decimal",
)
LEVEL = Kind(
    "level",
    "a fraction between 0 and 1 (0.95 for a 95% interval)",
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    XSD + "decimal",
)
BOOL = Kind("bool", "true or false", {"type": "boolean"}, XSD + "boolean")
DATE = Kind(
    "date",
    "a date written YYYY-MM-DD",
    {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    XSD + "date",
)
YEAR = Kind(
    "year",
    "a year such as 2021",
    {"type": "integer", "minimum": 1000, "maximum": 9999},
    XSD + "gYear",
)
PARTIAL_DATE = Kind(
    "partial-date",
    "a date written YYYY-MM-DD, YYYY-MM or YYYY",
    {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    None,  # the datatype follows the precision: xsd:date, xsd:gYearMonth or xsd:gYear
)
URL = Kind(
    "url",
    "a web address starting with http:// or https://",
    {"type": "string", "pattern": r"^https?://\S+$"},
    XSD + "anyURI",
)
COMPARATOR = Kind(
    "comparator",
    'one of "<", "<=", ">", ">="',
    {"type": "string", "enum": ["<", "<=", ">", ">="]},
    XSD + "string",
)
CONCEPT = Kind(
    "concept", "a concept: its label, a synonym or a CURIE", {"type": "string", "minLength": 1}
)
REF = Kind("ref", "a key defined elsewhere in the form", {"type": "string", "pattern": KEY_PATTERN})
KEY = Kind(
    "key",
    "a key of letters, digits, '-', '_' or '.' (no spaces)",
    {"type": "string", "pattern": KEY_PATTERN},
)
RECORD_REF = Kind(
    "record-ref",
    "a reference such as result/KEY, comparison/KEY or safety/KEY",
    {"type": "string", "pattern": r"^(?:[a-z]+/)?[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$"},
)
SCHEME = Kind(
    "scheme",
    "a concept scheme: condition, agent, outcome, design, ... or its CURIE (cond:)",
    {"type": "string", "pattern": r"^\S+$"},
)
IRI = Kind(
    "iri", "a CURIE (cond:my-condition) or a full IRI", {"type": "string", "pattern": r"^\S+:\S*$"}
)
