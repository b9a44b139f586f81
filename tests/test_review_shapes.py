"""Every review shape (ekb:Review* in ontology/shapes.ttl): a valid and an invalid example.

``tests/data/reviews/synthetic-shape-fixture.yaml`` is a SYNTHETIC review (made-up
searches, counts and decisions over the shipped study ids) that conforms with no
finding at all: it is the valid example of every shape. Each case below breaks one
thing in its Turtle and asserts exactly which (focus, path, source shape) results
come back -- nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kb import paths
from kb.forms import load_form_file
from kb.kbdir import study_ids
from kb.namespaces import PREFIXES, RES, shorten
from kb.sysreview.files import Concepts, review_text
from kb.sysreview.form import form_to_review
from kb.sysreview.validate import validate_review_file, validate_review_text
from kb.turtle_format import canonical_turtle, parse_turtle

FIXTURE_FORM = Path(__file__).parent / "data" / "reviews" / "synthetic-shape-fixture.yaml"
KB = paths.shipped_kb_dir()
R = f"{RES}review/synthetic-fixture"


@pytest.fixture(scope="module")
def fixture_text() -> str:
    concepts = Concepts(KB)
    review = form_to_review(load_form_file(FIXTURE_FORM), concepts.resolve, set(study_ids(KB)))
    return review_text(review)


def node(ref: str) -> URIRef:
    """``record/r1`` -> the fixture's part; ``term:x``, ``ekb:x`` or ``study/x`` as such."""
    prefix, sep, local = ref.partition(":")
    if sep and prefix in PREFIXES:
        return URIRef(PREFIXES[prefix] + local)
    if ref.startswith("study/"):
        return URIRef(f"{RES}{ref}")
    return URIRef(R + ("/" + ref if ref else ""))


def obj(value: object) -> Literal | URIRef:
    if isinstance(value, Literal | URIRef):
        return value
    if isinstance(value, int):
        return Literal(value)
    assert isinstance(value, str)
    if value.startswith("@"):
        return node(value[1:])
    return Literal(value)


Edit = tuple[str, str, object]


def edited(text: str, remove: list[tuple[str, str]], add: list[Edit]) -> str:
    graph = parse_turtle(text)
    for subject, pred in remove:
        triples = list(graph.triples((node(subject), node(pred), None)))
        assert triples, f"nothing to remove: {subject} {pred}"
        for t in triples:
            graph.remove(t)
    for subject, pred, value in add:
        graph.add((node(subject), node(pred), obj(value)))
    return canonical_turtle(graph)


def rel(focus: str) -> str:
    if focus == R:
        return ""
    return focus[len(R) + 1 :] if focus.startswith(R + "/") else shorten(focus)


def results(text: str) -> set[tuple[str, str, str]]:
    report = validate_review_text(text, KB)
    return {
        (rel(f.focus), shorten(f.path) if f.path else "", shorten(f.source_shape or ""))
        for f in report.findings
    }


CASES: list[tuple[str, list[tuple[str, str]], list[Edit], set[tuple[str, str, str]]]] = [
    ("no review id", [("", "ekb:reviewId")], [], {("", "ekb:reviewId", "ekb:ReviewIdShape")}),
    ("no title", [("", "ekb:title")], [], {("", "ekb:title", "ekb:ReviewTitleShape")}),
    (
        "two descriptions",
        [],
        [("", "ekb:description", "another")],
        {("", "ekb:description", "ekb:ReviewDescriptionShape")},
    ),
    (
        "no question",
        [("", "ekb:hasQuestion")],
        [],
        {("", "ekb:hasQuestion", "ekb:ReviewHasQuestionShape")},
    ),
    (
        "a record link to nothing",
        [],
        [("", "ekb:hasRecord", "@record/ghost")],
        {("", "ekb:hasRecord", "ekb:ReviewHasRecordShape")},
    ),
    (
        "a search link to nothing",
        [],
        [("", "ekb:hasSearch", "@search/ghost")],
        {("", "ekb:hasSearch", "ekb:ReviewHasSearchShape")},
    ),
    (
        "id that does not match the IRI",
        [("", "ekb:reviewId")],
        [("", "ekb:reviewId", "other")],
        {("", "ekb:reviewId", "ekb:ReviewIriShape")},
    ),
    (
        "population that is not a concept",
        [],
        [("question", "ekb:populationCondition", "@cond:not-a-condition")],
        {("question", "ekb:populationCondition", "ekb:ReviewPopulationShape")},
    ),
    (
        "intervention that is not a concept",
        [],
        [("question", "ekb:questionIntervention", "@agent:not-an-agent")],
        {("question", "ekb:questionIntervention", "ekb:ReviewInterventionShape")},
    ),
    (
        "comparator that is not a concept",
        [],
        [("question", "ekb:questionComparator", "@agent:not-an-agent")],
        {("question", "ekb:questionComparator", "ekb:ReviewComparatorShape")},
    ),
    (
        "outcome link to nothing",
        [],
        [("question", "ekb:hasOutcomeOfInterest", "@outcome/ghost")],
        {("question", "ekb:hasOutcomeOfInterest", "ekb:ReviewHasOutcomeShape")},
    ),
    (
        "outcome without concept",
        [("outcome/crr", "ekb:outcomeOfInterestConcept")],
        [],
        {("outcome/crr", "ekb:outcomeOfInterestConcept", "ekb:ReviewOutcomeConceptShape")},
    ),
    (
        "importance not in the list",
        [("outcome/crr", "ekb:importance")],
        [("outcome/crr", "ekb:importance", "@term:exclude")],
        {("outcome/crr", "ekb:importance", "ekb:ReviewOutcomeImportanceShape")},
    ),
    (
        "MID as text",
        [("outcome/crr", "ekb:minimalImportantDifference")],
        [("outcome/crr", "ekb:minimalImportantDifference", "0.05")],
        {("outcome/crr", "ekb:minimalImportantDifference", "ekb:ReviewOutcomeMidShape")},
    ),
    (
        "threshold as text",
        [("outcome/crr", "ekb:decisionThreshold")],
        [("outcome/crr", "ekb:decisionThreshold", "50")],
        {("outcome/crr", "ekb:decisionThreshold", "ekb:ReviewOutcomeThresholdShape")},
    ),
    (
        "registration date that is not a date",
        [("registration", "ekb:registeredOn")],
        [("registration", "ekb:registeredOn", "soon")],
        {("registration", "ekb:registeredOn", "ekb:ReviewRegisteredOnShape")},
    ),
    (
        "registration URL as plain text",
        [("registration", "ekb:registrationUrl")],
        [("registration", "ekb:registrationUrl", "https://example.org/")],
        {("registration", "ekb:registrationUrl", "ekb:ReviewRegistrationUrlShape")},
    ),
    (
        "search without kind",
        [("search/db", "ekb:searchSource")],
        [],
        {("search/db", "ekb:searchSource", "ekb:ReviewSearchKindShape")},
    ),
    (
        "search date that is not a date",
        [("search/db", "ekb:searchedOn")],
        [("search/db", "ekb:searchedOn", "2026-02")],
        {("search/db", "ekb:searchedOn", "ekb:ReviewSearchDateShape")},
    ),
    (
        "records found as text",
        [("search/db", "ekb:recordsFound")],
        [("search/db", "ekb:recordsFound", "7")],
        {("search/db", "ekb:recordsFound", "ekb:ReviewSearchCountShape")},
    ),
    (
        "records found contradicts the records listed",
        [("search/db", "ekb:recordsFound")],
        [("search/db", "ekb:recordsFound", 8)],
        {("search/db", "ekb:recordsFound", "ekb:ReviewSearchCountsAgreeShape")},
    ),
    (
        "record without search",
        [("record/g1", "ekb:fromSearch")],
        [],
        {("record/g1", "ekb:fromSearch", "ekb:ReviewRecordSearchShape")},
    ),
    (
        "record of a study that does not exist",
        [("record/r5", "ekb:reportOf")],
        [("record/r5", "ekb:reportOf", "@study/not-here")],
        {("record/r5", "ekb:reportOf", "ekb:ReviewRecordStudyShape")},
    ),
    (
        "duplicate of nothing",
        [("record/r2", "ekb:duplicateOf")],
        [("record/r2", "ekb:duplicateOf", "@record/ghost")],
        {("record/r2", "ekb:duplicateOf", "ekb:ReviewRecordDuplicateShape")},
    ),
    (
        "two title-and-abstract decisions",
        [],
        [("record/r1", "ekb:titleAbstractDecision", "@record/r7/title-abstract")],
        {("record/r1", "ekb:titleAbstractDecision", "ekb:ReviewRecordTitleAbstractShape")},
    ),
    (
        "two full-text decisions",
        [],
        [("record/r1", "ekb:fullTextDecision", "@record/r7/full-text")],
        {("record/r1", "ekb:fullTextDecision", "ekb:ReviewRecordFullTextShape")},
    ),
    (
        "removal that is not a removal reason",
        [("record/r3", "ekb:removedBeforeScreening")],
        [("record/r3", "ekb:removedBeforeScreening", "@term:include")],
        {("record/r3", "ekb:removedBeforeScreening", "ekb:ReviewRecordRemovedShape")},
    ),
    (
        "included record without its study",
        [("record/r7", "ekb:reportOf")],
        [],
        {("record/r7", "", "ekb:ReviewIncludedStudyShape")},
    ),
    (
        "excluded full text without reason",
        [("record/r5/full-text", "ekb:exclusionReason")],
        [],
        {("record/r5", "ekb:fullTextDecision", "ekb:ReviewFullTextReasonShape")},
    ),
    (
        "full text assessed after title and abstract were excluded",
        [],
        [("record/r4", "ekb:fullTextDecision", "@record/r5/full-text")],
        {("record/r4", "", "ekb:ReviewExcludedNotAssessedShape")},
    ),
    (
        "a duplicate with a decision",
        [],
        [("record/r2", "ekb:titleAbstractDecision", "@record/r4/title-abstract")],
        {("record/r2", "", "ekb:ReviewDuplicateUndecidedShape")},
    ),
    (
        "a removed record with a decision",
        [],
        [("record/r3", "ekb:titleAbstractDecision", "@record/r4/title-abstract")],
        {("record/r3", "", "ekb:ReviewRemovedUndecidedShape")},
    ),
    (
        "a database record assessed without screening",
        [("record/r7", "ekb:titleAbstractDecision")],
        [],
        {("record/r7", "", "ekb:ReviewScreenedBeforeFullTextShape")},
    ),
    (
        "a decision that is neither include nor exclude",
        [("record/g1/title-abstract", "ekb:decision")],
        [("record/g1/title-abstract", "ekb:decision", "@term:critical")],
        {("record/g1/title-abstract", "ekb:decision", "ekb:ReviewDecisionValueShape")},
    ),
    (
        "two exclusion reasons",
        [],
        [("record/r5/full-text", "ekb:exclusionReason", "@term:wrong-outcome")],
        {("record/r5/full-text", "ekb:exclusionReason", "ekb:ReviewDecisionReasonShape")},
    ),
    (
        "decision date that is not a date",
        [("record/r4/title-abstract", "ekb:decidedOn")],
        [("record/r4/title-abstract", "ekb:decidedOn", "yesterday")],
        {("record/r4/title-abstract", "ekb:decidedOn", "ekb:ReviewDecidedOnShape")},
    ),
    (
        "decided by a number",
        [("record/r4/title-abstract", "ekb:decidedBy")],
        [("record/r4/title-abstract", "ekb:decidedBy", 5)],
        {("record/r4/title-abstract", "ekb:decidedBy", "ekb:ReviewDecidedByShape")},
    ),
    (
        "nobody decided (info)",
        [("record/r4/title-abstract", "ekb:decidedBy")],
        [],
        {("record/r4/title-abstract", "ekb:decidedBy", "ekb:ReviewDecidedByPresentShape")},
    ),
    (
        "basis not in the list",
        [],
        [("record/r4/title-abstract", "ekb:decisionBasis", "@term:include")],
        {("record/r4/title-abstract", "ekb:decisionBasis", "ekb:ReviewDecisionBasisShape")},
    ),
    (
        "reason from another scheme",
        [("record/r5/full-text", "ekb:exclusionReason")],
        [("record/r5/full-text", "ekb:exclusionReason", "@term:critical")],
        {("record/r5/full-text", "ekb:exclusionReason", "ekb:ReviewReasonSchemeShape")},
    ),
    (
        "a reason on an inclusion",
        [],
        [("record/r1/full-text", "ekb:exclusionReason", "@term:wrong-outcome")],
        {("record/r1/full-text", "", "ekb:ReviewReasonOnlyIfExcludedShape")},
    ),
]


def test_the_synthetic_fixture_conforms_with_no_finding(fixture_text: str) -> None:
    assert results(fixture_text) == set()


@pytest.mark.parametrize(
    ("remove", "add", "expected"), [pytest.param(r, a, e, id=name) for name, r, a, e in CASES]
)
def test_each_invalid_example_reports_exactly_its_shape(
    fixture_text: str, remove: list, add: list, expected: set
) -> None:
    assert results(edited(fixture_text, remove, add)) == expected


def test_the_shipped_worked_example_conforms_with_no_finding() -> None:
    (review,) = paths.review_files(KB)
    assert validate_review_file(review, KB).findings == ()


# --- the checks made in Python (ekb:ReviewFileShape) ---------------------------------


def _file_rows(text: str, name: str, tmp_path: Path) -> list[tuple[str, str, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = validate_review_file(path, KB)
    return [(f.severity, rel(f.focus), f.message) for f in report.findings]


def test_a_review_file_named_after_another_id_is_a_warning(fixture_text: str, tmp_path) -> None:
    assert _file_rows(fixture_text, "other-name.ttl", tmp_path) == [
        ("Warning", "", "the file of this review should be named synthetic-fixture.ttl")
    ]


def test_a_file_with_two_reviews_or_none_is_a_violation(fixture_text: str, tmp_path) -> None:
    two = fixture_text + f"\n<{RES}review/second> a <{PREFIXES['ekb']}Review> .\n"
    rows = _file_rows(two, "synthetic-fixture.ttl", tmp_path)
    assert ("Violation", "", "the file declares 2 reviews; keep one per file") in rows
    none = f'<{RES}study/x> <{PREFIXES["ekb"]}note> "n" .\n'
    assert _file_rows(none, "none.ttl", tmp_path) == [
        ("Violation", "", "the file declares no ekb:Review")
    ]


def test_parts_named_outside_the_review_and_blank_nodes_are_violations(
    fixture_text: str, tmp_path
) -> None:
    extra = fixture_text + (
        f'\n<{RES}review/elsewhere/record/x> <{PREFIXES["ekb"]}note> "n" .\n'
        f'[] <{PREFIXES["ekb"]}note> "blank" .\n'
    )
    rows = _file_rows(extra, "synthetic-fixture.ttl", tmp_path)
    assert ("Violation", "", "1 blank node(s) as subjects: give every record an IRI") in rows
    assert (
        "Violation",
        "review/elsewhere/record/x",
        f"every part of the review is named under {R}/",
    ) in rows


# --- every review shape is exercised -------------------------------------------------


def test_every_review_shape_has_an_invalid_example_here() -> None:
    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    declared = {
        shorten(str(s))
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in shapes.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and shorten(str(s)).startswith("ekb:Review")
    }
    covered = {shape for *_, expected in CASES for _, _, shape in expected}
    covered.add("ekb:ReviewFileShape")  # the file-level tests above
    # Reported through ekb:ReviewReasonSchemeShape (sh:node), not on its own.
    covered.add("ekb:ReviewReasonConceptShape")
    # Node shapes that only group property shapes report nothing themselves.
    grouping = {
        shorten(str(s))
        for s in shapes.subjects(RDF.type, SH.NodeShape)
        if isinstance(s, URIRef)
        and not any(True for p in (SH.sparql, SH["or"]) for _ in shapes.objects(s, p))
        and any(True for _ in shapes.objects(s, SH.property))
    }
    assert sorted(declared - covered - grouping) == []
    assert XSD  # the datatypes above are XSD's
