"""A review to RDF triples and back (the file format of ``reviews/<id>.ttl``).

:func:`review_to_graph` and :func:`graph_to_review` are inverse: a review read
back from its graph equals the review written (labels aside). The layout of
the triples is the ontology's "Reviews" section; instances sit under
``res:review/<id>/...`` (see :func:`kb.sysreview.model.part_iri`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kb.errors import CheckFailed
from kb.namespaces import EKB, RES
from kb.sysreview.model import (
    BASES,
    DECISIONS,
    IMPORTANCE,
    REMOVALS,
    SEARCH_KINDS,
    Author,
    Decision,
    Eligibility,
    OutcomeOfInterest,
    Question,
    Record,
    Registration,
    Review,
    Search,
    part_iri,
    review_iri,
)

if TYPE_CHECKING:
    from rdflib.term import Node

_STUDY = f"{RES}study/"
_STAGES = (("title_abstract", "title-abstract"), ("full_text", "full-text"))
T = TypeVar("T")


class NotAReview(CheckFailed):
    """A graph that does not hold exactly one well-formed review (exit 1)."""


def _lit(value: object) -> Literal:
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), datatype=XSD.date)
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value)
    if isinstance(value, Decimal):
        from kb.forms import decimal_lexical

        return Literal(decimal_lexical(value), datatype=XSD.decimal)
    return Literal(str(value))


class _Out:
    def __init__(self) -> None:
        self.graph = Graph()

    def add(self, s: str, p: str, o: object) -> None:
        if o is None:
            return
        obj: Node = URIRef(o) if isinstance(o, URIRef) else _lit(o)
        self.graph.add((URIRef(s), URIRef(p), obj))

    def iri(self, s: str, p: str, o: str | None) -> None:
        if o is not None:
            self.graph.add((URIRef(s), URIRef(p), URIRef(o)))

    def a(self, s: str, cls: str) -> None:
        self.graph.add((URIRef(s), RDF.type, URIRef(cls)))


def _e(local: str) -> str:
    return f"{EKB}{local}"


def review_to_graph(review: Review) -> Graph:
    """The triples of a review file."""
    out = _Out()
    rid = review.id
    r = review_iri(rid)
    out.a(r, _e("Review"))
    out.add(r, _e("reviewId"), rid)
    out.add(r, _e("title"), review.title)
    out.add(r, _e("description"), review.description)
    out.add(r, _e("note"), review.note)

    q = review.question
    qi = part_iri(rid, "question")
    out.a(qi, _e("ReviewQuestion"))
    out.iri(r, _e("hasQuestion"), qi)
    out.add(qi, _e("questionText"), q.text)
    for c in q.population:
        out.iri(qi, _e("populationCondition"), c)
    out.add(qi, _e("populationText"), q.population_text)
    for c in q.interventions:
        out.iri(qi, _e("questionIntervention"), c)
    out.add(qi, _e("interventionText"), q.interventions_text)
    for c in q.comparators:
        out.iri(qi, _e("questionComparator"), c)
    out.add(qi, _e("comparatorText"), q.comparators_text)
    for o in q.outcomes:
        oi = part_iri(rid, "outcome", o.key)
        out.a(oi, _e("OutcomeOfInterest"))
        out.iri(qi, _e("hasOutcomeOfInterest"), oi)
        out.iri(oi, _e("outcomeOfInterestConcept"), o.concept)
        out.iri(oi, _e("importance"), IMPORTANCE[o.importance])
        out.add(oi, str(RDFS.label), o.label)
        out.add(oi, _e("minimalImportantDifference"), o.minimal_important_difference)
        out.add(oi, _e("decisionThreshold"), o.decision_threshold)
        out.add(oi, _e("thresholdUnit"), o.threshold_unit)
        out.add(oi, _e("thresholdSource"), o.threshold_source)
        out.add(oi, _e("note"), o.note)

    if review.eligibility is not None:
        el = review.eligibility
        ei = part_iri(rid, "eligibility")
        out.a(ei, _e("EligibilityCriteria"))
        out.iri(r, _e("hasEligibility"), ei)
        out.add(ei, _e("inclusionText"), el.inclusion)
        out.add(ei, _e("exclusionText"), el.exclusion)
        for c in el.designs:
            out.iri(ei, _e("eligibleDesign"), c)
        for c in el.conditions:
            out.iri(ei, _e("eligibleCondition"), c)
        for c in el.interventions:
            out.iri(ei, _e("eligibleIntervention"), c)

    if review.registration is not None:
        reg = review.registration
        gi = part_iri(rid, "registration")
        out.a(gi, _e("ProtocolRegistration"))
        out.iri(r, _e("hasRegistration"), gi)
        out.add(gi, _e("registry"), reg.registry)
        out.add(gi, _e("registrationNumber"), reg.number)
        if reg.url is not None:
            out.graph.add(
                (URIRef(gi), URIRef(_e("registrationUrl")), Literal(reg.url, datatype=XSD.anyURI))
            )
        out.add(gi, _e("registeredOn"), reg.registered_on)

    for au in review.authors:
        ai = part_iri(rid, "author", au.key)
        out.a(ai, _e("ReviewAuthor"))
        out.iri(r, _e("hasAuthor"), ai)
        out.add(ai, _e("authorName"), au.name)
        out.add(ai, _e("orcid"), au.orcid)

    for s in review.searches:
        si = part_iri(rid, "search", s.key)
        out.a(si, _e("Search"))
        out.iri(r, _e("hasSearch"), si)
        out.iri(si, _e("searchSource"), SEARCH_KINDS[s.kind])
        out.add(si, _e("sourceName"), s.source)
        out.add(si, _e("searchedOn"), s.searched_on)
        out.add(si, _e("recordsFound"), s.records_found)
        out.add(si, _e("searchStrategy"), s.strategy)
        out.add(si, _e("note"), s.note)

    for rec in review.records:
        ri = part_iri(rid, "record", rec.key)
        out.a(ri, _e("ScreeningRecord"))
        out.iri(r, _e("hasRecord"), ri)
        if rec.search is not None:
            out.iri(ri, _e("fromSearch"), part_iri(rid, "search", rec.search))
        out.add(ri, _e("citation"), rec.citation)
        out.add(ri, _e("recordRegistryId"), rec.registry_id)
        if rec.study is not None:
            out.iri(ri, _e("reportOf"), f"{_STUDY}{rec.study}")
        if rec.duplicate_of is not None:
            out.iri(ri, _e("duplicateOf"), part_iri(rid, "record", rec.duplicate_of))
        if rec.removed_before_screening is not None:
            out.iri(ri, _e("removedBeforeScreening"), REMOVALS[rec.removed_before_screening])
        out.add(ri, _e("note"), rec.note)
        for attr, segment in _STAGES:
            d: Decision | None = getattr(rec, attr)
            if d is None:
                continue
            di = f"{ri}/{segment}"
            out.a(di, _e("ScreeningDecision"))
            pred = "titleAbstractDecision" if attr == "title_abstract" else "fullTextDecision"
            out.iri(ri, _e(pred), di)
            out.iri(di, _e("decision"), DECISIONS[d.value])
            out.iri(di, _e("exclusionReason"), d.reason)
            for who in d.decided_by:
                out.add(di, _e("decidedBy"), who)
            out.add(di, _e("decidedOn"), d.decided_on)
            if d.basis is not None:
                out.iri(di, _e("decisionBasis"), BASES[d.basis])
            out.add(di, _e("note"), d.note)
    return out.graph


# ---------------------------------------------------------------------------
# Reading


class _In:
    def __init__(self, graph: Graph, origin: str) -> None:
        self.g = graph
        self.origin = origin

    def fail(self, node: str, what: str) -> NotAReview:
        from kb.namespaces import shorten

        return NotAReview(f"{self.origin}: {shorten(node)}: {what}")

    def one(self, s: str, p: str) -> Node | None:
        values = sorted(self.g.objects(URIRef(s), URIRef(p)), key=str)
        if len(values) > 1:
            raise self.fail(s, f"has {len(values)} values of {p.rsplit('#', 1)[-1]}, expected one")
        return values[0] if values else None

    def text(self, s: str, p: str) -> str | None:
        v = self.one(s, p)
        return None if v is None else str(v)

    def iris(self, s: str, p: str) -> tuple[str, ...]:
        return tuple(sorted(str(o) for o in self.g.objects(URIRef(s), URIRef(p))))

    def iri(self, s: str, p: str) -> str | None:
        v = self.one(s, p)
        return None if v is None else str(v)

    def _typed(self, s: str, p: str, parse: Callable[[str], T], what: str) -> T | None:
        """The value of ``p`` read by ``parse``; a value it refuses fails naming ``what``."""
        v = self.one(s, p)
        if v is None:
            return None
        try:
            return parse(str(v))
        except (ValueError, ArithmeticError):
            raise self.fail(s, f"{p.rsplit('#', 1)[-1]} is not {what}: {v}") from None

    def date(self, s: str, p: str) -> dt.date | None:
        return self._typed(s, p, dt.date.fromisoformat, "a date")

    def integer(self, s: str, p: str) -> int | None:
        return self._typed(s, p, int, "a whole number")

    def decimal(self, s: str, p: str) -> Decimal | None:
        return self._typed(s, p, Decimal, "a number")

    def word(self, s: str, p: str, table: dict[str, str], required: bool = False) -> str | None:
        v = self.iri(s, p)
        if v is None:
            if required:
                raise self.fail(s, f"has no {p.rsplit('#', 1)[-1]}")
            return None
        for word, iri in table.items():
            if iri == v:
                return word
        raise self.fail(s, f"{p.rsplit('#', 1)[-1]} {v} is not one of {', '.join(table)}")

    def children(self, s: str, p: str, prefix: str) -> list[tuple[str, str]]:
        """(IRI, key) of the objects of ``p`` whose IRI is ``prefix<key>``."""
        out = []
        for iri in self.iris(s, p):
            if not iri.startswith(prefix) or "/" in iri[len(prefix) :]:
                raise self.fail(iri, f"is not named {prefix}<key>")
            out.append((iri, iri[len(prefix) :]))
        return sorted(out, key=lambda item: item[1])


def _key_after(prefix: str, iri: str | None) -> str | None:
    if iri is None:
        return None
    return iri[len(prefix) :] if iri.startswith(prefix) else iri


def _decision(rd: _In, di: str | None) -> Decision | None:
    if di is None:
        return None
    return Decision(
        value=rd.word(di, _e("decision"), DECISIONS, required=True) or "",
        reason=rd.iri(di, _e("exclusionReason")),
        decided_by=tuple(sorted(str(o) for o in rd.g.objects(URIRef(di), URIRef(_e("decidedBy"))))),
        decided_on=rd.date(di, _e("decidedOn")),
        basis=rd.word(di, _e("decisionBasis"), BASES),
        note=rd.text(di, _e("note")),
    )


def review_ids_in(graph: Graph) -> list[str]:
    """The IRIs of the reviews a graph declares."""
    return sorted(str(s) for s in graph.subjects(RDF.type, URIRef(_e("Review"))))


def graph_to_review(graph: Graph, origin: str = "<graph>") -> Review:
    """The review a graph holds.

    :raises NotAReview: no review, several, or a part the model cannot read
        (a decision that is not include/exclude, a value that is not a date ...).
    """
    rd = _In(graph, origin)
    found = review_ids_in(graph)
    if len(found) != 1:
        raise NotAReview(f"{origin}: expected one ekb:Review, found {len(found)}")
    r = found[0]
    rid = rd.text(r, _e("reviewId"))
    if rid is None or review_iri(rid) != r:
        raise rd.fail(r, "its ekb:reviewId does not match its IRI review/<id>")
    title = rd.text(r, _e("title"))
    if title is None:
        raise rd.fail(r, "has no ekb:title")

    qi = rd.iri(r, _e("hasQuestion"))
    question = Question()
    if qi is not None:
        outcomes = []
        for oi, key in rd.children(qi, _e("hasOutcomeOfInterest"), part_iri(rid, "outcome") + "/"):
            concept = rd.iri(oi, _e("outcomeOfInterestConcept"))
            if concept is None:
                raise rd.fail(oi, "has no ekb:outcomeOfInterestConcept")
            outcomes.append(
                OutcomeOfInterest(
                    key=key,
                    concept=concept,
                    importance=rd.word(oi, _e("importance"), IMPORTANCE, required=True) or "",
                    label=rd.text(oi, str(RDFS.label)),
                    minimal_important_difference=rd.decimal(oi, _e("minimalImportantDifference")),
                    decision_threshold=rd.decimal(oi, _e("decisionThreshold")),
                    threshold_unit=rd.text(oi, _e("thresholdUnit")),
                    threshold_source=rd.text(oi, _e("thresholdSource")),
                    note=rd.text(oi, _e("note")),
                )
            )
        question = Question(
            text=rd.text(qi, _e("questionText")),
            population=rd.iris(qi, _e("populationCondition")),
            population_text=rd.text(qi, _e("populationText")),
            interventions=rd.iris(qi, _e("questionIntervention")),
            interventions_text=rd.text(qi, _e("interventionText")),
            comparators=rd.iris(qi, _e("questionComparator")),
            comparators_text=rd.text(qi, _e("comparatorText")),
            outcomes=tuple(outcomes),
        )

    ei = rd.iri(r, _e("hasEligibility"))
    eligibility = None
    if ei is not None:
        eligibility = Eligibility(
            inclusion=rd.text(ei, _e("inclusionText")),
            exclusion=rd.text(ei, _e("exclusionText")),
            designs=rd.iris(ei, _e("eligibleDesign")),
            conditions=rd.iris(ei, _e("eligibleCondition")),
            interventions=rd.iris(ei, _e("eligibleIntervention")),
        )

    gi = rd.iri(r, _e("hasRegistration"))
    registration = None
    if gi is not None:
        registration = Registration(
            registry=rd.text(gi, _e("registry")),
            number=rd.text(gi, _e("registrationNumber")),
            url=rd.text(gi, _e("registrationUrl")),
            registered_on=rd.date(gi, _e("registeredOn")),
        )

    authors = []
    for ai, key in rd.children(r, _e("hasAuthor"), part_iri(rid, "author") + "/"):
        name = rd.text(ai, _e("authorName"))
        if name is None:
            raise rd.fail(ai, "has no ekb:authorName")
        authors.append(Author(key=key, name=name, orcid=rd.text(ai, _e("orcid"))))

    search_prefix = part_iri(rid, "search") + "/"
    searches = []
    for si, key in rd.children(r, _e("hasSearch"), search_prefix):
        searches.append(
            Search(
                key=key,
                kind=rd.word(si, _e("searchSource"), SEARCH_KINDS, required=True) or "",
                source=rd.text(si, _e("sourceName")),
                searched_on=rd.date(si, _e("searchedOn")),
                records_found=rd.integer(si, _e("recordsFound")),
                strategy=rd.text(si, _e("searchStrategy")),
                note=rd.text(si, _e("note")),
            )
        )

    record_prefix = part_iri(rid, "record") + "/"
    records = []
    for ri, key in rd.children(r, _e("hasRecord"), record_prefix):
        records.append(
            Record(
                key=key,
                search=_key_after(search_prefix, rd.iri(ri, _e("fromSearch"))),
                citation=rd.text(ri, _e("citation")),
                registry_id=rd.text(ri, _e("recordRegistryId")),
                study=_key_after(_STUDY, rd.iri(ri, _e("reportOf"))),
                duplicate_of=_key_after(record_prefix, rd.iri(ri, _e("duplicateOf"))),
                removed_before_screening=rd.word(ri, _e("removedBeforeScreening"), REMOVALS),
                title_abstract=_decision(rd, rd.iri(ri, _e("titleAbstractDecision"))),
                full_text=_decision(rd, rd.iri(ri, _e("fullTextDecision"))),
                note=rd.text(ri, _e("note")),
            )
        )

    return Review(
        id=rid,
        title=title,
        description=rd.text(r, _e("description")),
        note=rd.text(r, _e("note")),
        question=question,
        eligibility=eligibility,
        registration=registration,
        authors=tuple(authors),
        searches=tuple(searches),
        records=tuple(records),
    )
