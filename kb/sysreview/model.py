"""The review model: typed, immutable records of one systematic review.

Everything a person decided (the question, the criteria, each screening
decision with who, when and why) is a field here; everything computed from it
(the included studies, the PRISMA 2020 counts) is a property or a function,
never a stored number. Concepts are held as IRIs; :attr:`Review.labels` maps
the IRIs a review uses to their preferred labels for display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from kb.namespaces import RES, TERM

# ---------------------------------------------------------------------------
# Fixed lists: the form's word <-> the concept IRI in ontology/vocab/review.ttl

#: Final screening decisions (a vote such as "maybe" is not a decision).
DECISIONS: dict[str, str] = {"include": f"{TERM}include", "exclude": f"{TERM}exclude"}
#: GRADE outcome importance.
IMPORTANCE: dict[str, str] = {
    "critical": f"{TERM}critical",
    "important": f"{TERM}important",
    "limited-importance": f"{TERM}limited-importance",
}
#: Kinds of search source; the first two feed PRISMA's "databases and registers"
#: column, the others its "other methods" column.
SEARCH_KINDS: dict[str, str] = {
    "database": f"{TERM}database",
    "register": f"{TERM}register",
    "website": f"{TERM}website",
    "organisation": f"{TERM}organisation",
    "citation-searching": f"{TERM}citation-searching",
}
DATABASES_AND_REGISTERS = ("database", "register")
#: Why a record (not a duplicate) was removed before screening.
REMOVALS: dict[str, str] = {
    "automation": f"{TERM}ineligible-by-automation",
    "other": f"{TERM}removed-other-reason",
}
#: How a decision was reached.
BASES: dict[str, str] = {
    "single-reviewer": f"{TERM}single-reviewer",
    "agreement": f"{TERM}agreement",
    "adjudication": f"{TERM}adjudication",
}
#: The scheme exclusion reasons come from (a knowledge base may add its own).
EXCLUSION_REASON_SCHEME = f"{TERM}exclusion-reason"
#: The reason PRISMA 2020 counts as "reports not retrieved" instead of "excluded".
NOT_RETRIEVED = f"{TERM}not-retrievable"


def review_iri(review_id: str) -> str:
    """The IRI of a review from its id.

    >>> review_iri("il2-sle")
    'https://w3id.org/evidence-kb/resource/review/il2-sle'
    """
    return f"{RES}review/{review_id}"


def part_iri(review_id: str, segment: str, key: str | None = None) -> str:
    """The IRI of a part of a review: ``review/<id>/<segment>[/<key>]``."""
    base = f"{review_iri(review_id)}/{segment}"
    return base if key is None else f"{base}/{key}"


# ---------------------------------------------------------------------------
# The records


@dataclass(frozen=True)
class OutcomeOfInterest:
    """An outcome the question asks about, with its importance and optional thresholds."""

    key: str
    concept: str  #: outcome concept IRI; study outcomes with it or a narrower one answer it
    importance: str  #: a key of :data:`IMPORTANCE`
    label: str | None = None
    minimal_important_difference: Decimal | None = None
    decision_threshold: Decimal | None = None
    threshold_unit: str | None = None
    threshold_source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Question:
    """The PICO question: condition, intervention and comparator concepts (IRIs) and outcomes."""

    text: str | None = None
    population: tuple[str, ...] = ()
    population_text: str | None = None
    interventions: tuple[str, ...] = ()
    interventions_text: str | None = None
    comparators: tuple[str, ...] = ()
    comparators_text: str | None = None
    outcomes: tuple[OutcomeOfInterest, ...] = ()


@dataclass(frozen=True)
class Eligibility:
    """Eligibility criteria: text, and concepts (IRIs) where they help."""

    inclusion: str | None = None
    exclusion: str | None = None
    designs: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registration:
    """Where the protocol is registered."""

    registry: str | None = None
    number: str | None = None
    url: str | None = None
    registered_on: dt.date | None = None


@dataclass(frozen=True)
class Author:
    key: str
    name: str
    orcid: str | None = None


@dataclass(frozen=True)
class Search:
    """One search of one source. ``records_found`` is ``None`` when the count is unknown."""

    key: str
    kind: str  #: a key of :data:`SEARCH_KINDS`
    source: str | None = None
    searched_on: dt.date | None = None
    records_found: int | None = None
    strategy: str | None = None
    note: str | None = None

    @property
    def databases_and_registers(self) -> bool:
        """True for PRISMA's "databases and registers" column, False for "other methods"."""
        return self.kind in DATABASES_AND_REGISTERS


@dataclass(frozen=True)
class Decision:
    """The final decision at one stage: include or exclude, with reason, who, when, how."""

    value: str  #: "include" or "exclude"
    reason: str | None = None  #: exclusion-reason concept IRI
    decided_by: tuple[str, ...] = ()
    decided_on: dt.date | None = None
    basis: str | None = None  #: a key of :data:`BASES`
    note: str | None = None

    @property
    def include(self) -> bool:
        return self.value == "include"


@dataclass(frozen=True)
class Record:
    """One record a search found, and what happened to it."""

    key: str
    search: str | None = None  #: key of the search that found it
    citation: str | None = None
    registry_id: str | None = None
    study: str | None = None  #: id of the knowledge-base study it reports
    duplicate_of: str | None = None  #: key of the record it duplicates
    removed_before_screening: str | None = None  #: a key of :data:`REMOVALS`
    title_abstract: Decision | None = None
    full_text: Decision | None = None
    note: str | None = None

    @property
    def included(self) -> bool:
        """Included in the review: its full text was assessed and included."""
        return self.full_text is not None and self.full_text.include

    @property
    def stage(self) -> str:
        """Where the record stands: duplicate, removed, to-screen, excluded-title-abstract,
        to-assess, not-retrieved, excluded-full-text or included."""
        if self.duplicate_of is not None:
            return "duplicate"
        if self.removed_before_screening is not None:
            return "removed"
        if self.full_text is not None:
            if self.full_text.include:
                return "included"
            if self.full_text.reason == NOT_RETRIEVED:
                return "not-retrieved"
            return "excluded-full-text"
        if self.title_abstract is None:
            return "to-screen"
        if not self.title_abstract.include:
            return "excluded-title-abstract"
        return "to-assess"


@dataclass(frozen=True)
class Review:
    """A systematic review: question, criteria, searches and records with decisions."""

    id: str
    title: str
    description: str | None = None
    note: str | None = None
    question: Question = field(default_factory=Question)
    eligibility: Eligibility | None = None
    registration: Registration | None = None
    authors: tuple[Author, ...] = ()
    searches: tuple[Search, ...] = ()
    records: tuple[Record, ...] = ()
    #: preferred labels of the concepts the review uses (IRI -> label), for display
    labels: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def iri(self) -> str:
        return review_iri(self.id)

    @property
    def included_records(self) -> tuple[Record, ...]:
        return tuple(r for r in self.records if r.included)

    @property
    def included_study_ids(self) -> tuple[str, ...]:
        """The knowledge-base studies the review includes, sorted (derived from the records)."""
        return tuple(sorted({r.study for r in self.included_records if r.study is not None}))

    def search(self, key: str) -> Search | None:
        return next((s for s in self.searches if s.key == key), None)

    def record(self, key: str) -> Record | None:
        return next((r for r in self.records if r.key == key), None)

    def label(self, iri: str | None) -> str:
        """The preferred label of a concept the review uses (its IRI when none is known)."""
        if iri is None:
            return ""
        return self.labels.get(iri, iri)
