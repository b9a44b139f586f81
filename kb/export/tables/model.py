"""The shared types of the export tables: cells, rows, tables, a selection, and small helpers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kb.namespaces import RES, XSD_INTEGER_TYPES, shorten, study_iri

#: A cell: text, a number, a truth value, or nothing (unknown stays absent).
Cell = str | int | Decimal | float | bool | None
Row = dict[str, Cell]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Joins the values of a many-valued cell ("NCT01 | NCT02").
LIST_SEPARATOR = " | "
#: Joins the caveats of a row.
CAVEAT_SEPARATOR = "; "

_INT_TYPES = XSD_INTEGER_TYPES

# Record kinds reached from a study, by the property that links them.
_STUDY_LINKS = (
    "hasPopulation",
    "hasArm",
    "hasOutcome",
    "hasResult",
    "hasComparison",
    "hasSafetyFinding",
    "hasClaim",
    "reportedIn",
)


@dataclass(frozen=True)
class Selection:
    """The studies an export covers, and the outcome concepts it is limited to (if any).

    :param studies: study IRIs, sorted.
    :param outcome_concepts: when not ``None``, only outcomes with one of these concepts
        (and the results, comparisons and claims about them) are exported.
    """

    studies: tuple[str, ...]
    outcome_concepts: frozenset[str] | None = None
    description: str = "all studies"


@dataclass
class Table:
    """One table: a name, its columns in order, and its rows (sorted)."""

    name: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


def _iri_values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(set(iris)))


def local_key(iri: str, kind: str) -> str:
    """The key after ``/<kind>/`` in a resource IRI (``arm/il2`` -> ``il2``)."""
    marker = f"/{kind}/"
    return iri.split(marker, 1)[1] if marker in iri else shorten(iri)


def _join(values: Iterable[Any]) -> str | None:
    items = sorted({str(v) for v in values if v is not None and str(v) != ""})
    return LIST_SEPARATOR.join(items) if items else None


def is_number(value: Cell) -> bool:
    """True for real numbers (not booleans, not text)."""
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


def resource_base() -> str:
    """The base of instance IRIs (for formats that need a URL for each record)."""
    return str(RES)


def study_iri_for(study_id: str) -> str:
    return study_iri(study_id)
