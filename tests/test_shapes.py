"""Every shape in ontology/shapes.ttl: a valid and an invalid example.

``tests/data/shapes/shape-fixture-2024.ttl`` is a made-up study that conforms
with no finding at all (it is the valid example of every shape, and the
boundary cases below add more). Each invalid case breaks one thing and asserts
exactly which (focus, path, source shape) results come back — nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph, Literal, Namespace, URIRef
from rdflib.namespace import XSD as _XSD

from kb import paths
from kb.namespaces import PREFIXES, shorten
from kb.validation import StudyValidator, validate_files

FIXTURE = Path(__file__).parent / "data" / "shapes" / "shape-fixture-2024.ttl"
STUDY = "https://w3id.org/evidence-kb/resource/study/shape-fixture-2024"
EKB = PREFIXES["ekb"]

# A record of each class in the fixture, used when a shape is tried on a class.
NODE_OF_CLASS = {
    "Study": "",
    "Source": "source/paper",
    "Population": "population",
    "BaselineCharacteristic": "baseline/age",
    "Arm": "arm/drug",
    "Intervention": "arm/drug/intervention",
    "Outcome": "outcome/response",
    "Result": "result/score-drug",
    "Comparison": "comparison/response",
    "SafetyFinding": "safety/sae-drug",
    "Claim": "claim/conclusion",
}


def node(ref: str) -> URIRef:
    """``result/x`` -> the fixture's resource; ``outc:x`` or a full IRI as such."""
    if ref.startswith("http"):
        return URIRef(ref)
    prefix, _, local = ref.partition(":")
    if _ and prefix in PREFIXES:
        return URIRef(PREFIXES[prefix] + local)
    return URIRef(STUDY + ("/" + ref if ref else ""))


def obj(value: object) -> Literal | URIRef:
    if isinstance(value, (Literal, URIRef)):
        return value
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value)  # xsd:integer, like a plain Turtle integer
    if isinstance(value, float):
        return Literal(Decimal(str(value)))  # xsd:decimal, like 12.0 in Turtle
    assert isinstance(value, str)
    if value.startswith("https://"):
        return URIRef(value)
    prefix, sep, _ = value.partition(":")
    if sep and prefix in PREFIXES:
        return node(value)
    if value.startswith("@"):
        return node(value[1:])
    return Literal(value)


def rel(focus: str) -> str:
    if focus == STUDY:
        return ""
    if focus.startswith(STUDY + "/"):
        return focus[len(STUDY) + 1 :]
    return shorten(focus) if focus else "(file)"


@pytest.fixture(scope="module")
def validator() -> StudyValidator:
    return StudyValidator(paths.kb_vocab_files(paths.shipped_kb_dir()))


def edited_fixture(
    tmp_path: Path,
    set_: Iterable[tuple[str, str, object]] = (),
    remove: Iterable[tuple[str, str]] = (),
    add: Iterable[tuple[str, str, object]] = (),
    name: str = "shape-fixture-2024.ttl",
) -> Path:
    """The fixture with (subject, property) removed, values set (replaced) or added."""
    g = Graph().parse(FIXTURE, format="turtle")
    for s, p in remove:
        g.remove((node(s), node(p), None))
    for s, p, o in set_:
        g.set((node(s), node(p), obj(o)))
    for s, p, o in add:
        g.add((node(s), node(p), obj(o)))
    out = tmp_path / name
    g.serialize(out, format="turtle")
    return out


def results(validator: StudyValidator, path: Path) -> set[tuple[str, str, str]]:
    report = validator.validate_file(path)
    return {(rel(f.focus), f.row()[2], shorten(f.source_shape or "")) for f in report.findings}


def test_the_fixture_conforms_with_no_finding_at_all(validator: StudyValidator) -> None:
    report = validator.validate_file(FIXTURE)
    assert report.findings == ()


# (id, set, remove, add, expected {(focus, path, shape)})
CASES: list[tuple[str, list, list, list, set[tuple[str, str, str]]]] = [
    # --- arithmetic on counts
    (
        "events above total",
        [("result/response-drug", "ekb:events", 30)],
        [],
        [],
        {("result/response-drug", "ekb:events", "ekb:ResultCountsShape")},
    ),
    (
        "events above the arm when there is no total",
        [("result/response-placebo", "ekb:events", 31)],
        [("result/response-placebo", "ekb:total")],
        [],
        {("result/response-placebo", "ekb:events", "ekb:ResultCountsShape")},
    ),
    (
        "total above the arm",
        [("result/response-placebo", "ekb:total", 31)],
        [],
        [],
        {("result/response-placebo", "ekb:total", "ekb:ResultCountsShape")},
    ),
    (
        "total above the arm explained by a note is only a warning",
        [
            ("result/response-placebo", "ekb:total", 31),
            ("result/response-placebo", "ekb:note", "ITT"),
        ],
        [],
        [],
        {("result/response-placebo", "ekb:total", "ekb:ResultTotalNotedShape")},
    ),
    (
        "events above the arm explained by a note is only a warning",
        [
            ("result/response-placebo", "ekb:events", 31),
            ("result/response-placebo", "ekb:note", "x"),
        ],
        [("result/response-placebo", "ekb:total")],
        [],
        {("result/response-placebo", "ekb:events", "ekb:ResultTotalNotedShape")},
    ),
    (
        "analysed above enrolled",
        [("population", "ekb:analysed", 61)],
        [],
        [],
        {("population", "ekb:analysed", "ekb:AnalysedWithinEnrolledShape")},
    ),
    (
        "arm sizes that do not add up to the enrolled",
        [("population", "ekb:enrolled", 61)],
        [],
        [],
        {("", "ekb:hasArm", "ekb:ArmSizesShape")},
    ),
    (
        "affected above at risk",
        [("safety/sae-drug", "ekb:affected", 31)],
        [],
        [],
        {("safety/sae-drug", "ekb:affected", "ekb:SafetyCountsShape")},
    ),
    (
        "one arm with two at-risk denominators for one adverse event",
        [],
        [],
        [
            ("", "ekb:hasSafetyFinding", "@safety/sae-drug-again"),
            ("safety/sae-drug-again", "rdf:type", "ekb:SafetyFinding"),
            ("safety/sae-drug-again", "ekb:arm", "@arm/drug"),
            ("safety/sae-drug-again", "ekb:eventTerm", "any serious adverse event"),
            ("safety/sae-drug-again", "ekb:serious", True),
            ("safety/sae-drug-again", "ekb:affected", 2),
            ("safety/sae-drug-again", "ekb:atRisk", 28),
            ("safety/sae-drug-again", "ekb:timepointText", "week 24"),
            ("safety/sae-drug-again", "ekb:source", "@source/paper"),
            ("safety/sae-drug-again", "ekb:extractedBy", "tests"),
            ("safety/sae-drug-again", "ekb:extractedOn", Literal("2024-01-01", datatype=_XSD.date)),
        ],
        {
            ("safety/sae-drug", "ekb:atRisk", "ekb:SafetyOneDenominatorShape"),
            ("safety/sae-drug-again", "ekb:atRisk", "ekb:SafetyOneDenominatorShape"),
        },
    ),
    (
        "a cycle that is not days on plus days off",
        [("arm/drug/intervention", "ekb:daysOffPerCycle", 10.0)],
        [],
        [],
        {("arm/drug/intervention", "ekb:cycleLengthDays", "ekb:CycleArithmeticShape")},
    ),
    # --- ranges
    (
        "percent above 100",
        [("result/response-drug", "ekb:percent", 100.5)],
        [],
        [],
        {("result/response-drug", "ekb:percent", "ekb:PercentShape")},
    ),
    (
        "percent below 0",
        [("safety/sae-drug", "ekb:percent", -1.0)],
        [],
        [],
        {("safety/sae-drug", "ekb:percent", "ekb:PercentShape")},
    ),
    (
        "percent change below -100",
        [("result/score-drug", "ekb:percentChange", -100.5)],
        [],
        [],
        {("result/score-drug", "ekb:percentChange", "ekb:ResultPercentChangeShape")},
    ),
    (
        "p above 1",
        [("comparison/response", "ekb:pValue", 1.5)],
        [],
        [],
        {("comparison/response", "ekb:pValue", "ekb:PValueShape")},
    ),
    (
        "p below 0",
        [("result/response-drug", "ekb:pValue", -0.1)],
        [],
        [],
        {("result/response-drug", "ekb:pValue", "ekb:PValueShape")},
    ),
    (
        "a p comparator that is not one of < <= > >=",
        [("result/response-drug", "ekb:pValueComparator", "=<")],
        [],
        [],
        {("result/response-drug", "ekb:pValueComparator", "ekb:PValueComparatorShape")},
    ),
    (
        "a CI level written as a percentage",
        [("comparison/response", "ekb:ciLevel", 95.0)],
        [],
        [],
        {("comparison/response", "ekb:ciLevel", "ekb:ComparisonCiLevelShape")},
    ),
    (
        "a CI level of 1",
        [("comparison/response", "ekb:ciLevel", 1.0)],
        [],
        [],
        {("comparison/response", "ekb:ciLevel", "ekb:ComparisonCiLevelShape")},
    ),
    (
        "a negative SD",
        [("result/score-drug", "ekb:sd", -0.5)],
        [],
        [],
        {("result/score-drug", "ekb:sd", "ekb:SdShape")},
    ),
    (
        "a negative SE",
        [("result/score-drug", "ekb:se", -0.5)],
        [],
        [],
        {("result/score-drug", "ekb:se", "ekb:SeShape")},
    ),
    (
        "a negative count",
        [("baseline/age", "ekb:n", -1)],
        [],
        [],
        {("baseline/age", "ekb:n", "ekb:CountNShape")},
    ),
    (
        "a count written as a decimal",
        [("result/response-drug", "ekb:events", 16.0)],
        [],
        [],
        {("result/response-drug", "ekb:events", "ekb:ResultEventsShape")},
    ),
    (
        "a percentage written as an integer",
        [("result/response-drug", "ekb:percent", 55)],
        [],
        [],
        {("result/response-drug", "ekb:percent", "ekb:PercentShape")},
    ),
    (
        "zero cycles",
        [("arm/drug/intervention", "ekb:numberOfCycles", 0)],
        [],
        [],
        {("arm/drug/intervention", "ekb:numberOfCycles", "ekb:InterventionCyclesShape")},
    ),
    (
        "cycles as a decimal",
        [("arm/drug/intervention", "ekb:numberOfCycles", 3.0)],
        [],
        [],
        {("arm/drug/intervention", "ekb:numberOfCycles", "ekb:InterventionCyclesShape")},
    ),
    (
        "a start date that is not a date",
        [("", "ekb:startDate", "spring")],
        [],
        [],
        {("", "ekb:startDate", "ekb:StudyStartDateShape")},
    ),
    (
        "a completion date that is not a date",
        [("", "ekb:completionDate", "later")],
        [],
        [],
        {("", "ekb:completionDate", "ekb:StudyCompletionDateShape")},
    ),
    # --- confidence intervals and ratios
    (
        "an upper bound below the estimate",
        [("comparison/response", "ekb:ciUpper", 1.2)],
        [],
        [],
        {("comparison/response", "ekb:ciUpper", "ekb:ConfidenceIntervalShape")},
    ),
    (
        "a lower bound above the estimate",
        [("comparison/response", "ekb:ciLower", 1.6)],
        [],
        [],
        {("comparison/response", "ekb:ciLower", "ekb:ConfidenceIntervalShape")},
    ),
    (
        "a lower bound above the upper bound",
        [("comparison/response", "ekb:ciLower", 2.5)],
        [("comparison/response", "ekb:estimate")],
        [],
        {("comparison/response", "ekb:ciLower", "ekb:ConfidenceIntervalShape")},
    ),
    (
        "a ratio bound of zero",
        [("comparison/response", "ekb:ciLower", 0.0)],
        [],
        [],
        {("comparison/response", "ekb:ciLower", "ekb:RatioMeasureShape")},
    ),
    (
        "a risk difference given in percentage points",
        [
            ("comparison/response", "ekb:effectMeasure", "term:risk-difference"),
            ("comparison/response", "ekb:estimate", 13.4),
            ("comparison/response", "ekb:ciLower", 0.6),
            ("comparison/response", "ekb:ciUpper", 23.2),
        ],
        [],
        [],
        {
            ("comparison/response", "ekb:estimate", "ekb:DifferenceMeasureShape"),
            ("comparison/response", "ekb:ciUpper", "ekb:DifferenceMeasureShape"),
        },
    ),
    (
        "a difference in percentage points above 100",
        [
            ("comparison/response", "ekb:effectMeasure", "term:percentage-point-difference"),
            ("comparison/response", "ekb:ciUpper", 120.0),
        ],
        [],
        [],
        {("comparison/response", "ekb:ciUpper", "ekb:DifferenceMeasureShape")},
    ),
    (
        "two effect measures",
        [],
        [],
        [("comparison/response", "ekb:effectMeasure", "term:risk-ratio")],
        {("comparison/response", "ekb:effectMeasure", "ekb:ComparisonEffectMeasureShape")},
    ),
    (
        "an estimate without its effect measure",
        [],
        [("comparison/response", "ekb:effectMeasure")],
        [],
        {("comparison/response", "ekb:effectMeasure", "ekb:EstimateMeasureShape")},
    ),
    (
        "a comparison with no number at all",
        [],
        [
            ("comparison/response", p)
            for p in ("ekb:estimate", "ekb:ciLower", "ekb:ciUpper", "ekb:pValue")
        ],
        [],
        {("comparison/response", "", "ekb:ComparisonContentShape")},
    ),
    (
        "a comparison of an arm with itself",
        [("comparison/response", "ekb:comparatorArm", "@arm/drug")],
        [],
        [],
        {("comparison/response", "ekb:experimentalArm", "ekb:ComparisonExperimentalArmShape")},
    ),
    (
        "a comparison without a comparator",
        [],
        [("comparison/response", "ekb:comparatorArm")],
        [],
        {("comparison/response", "ekb:comparatorArm", "ekb:ComparisonComparatorArmShape")},
    ),
    (
        "a comparison without an outcome",
        [],
        [("comparison/response", "ekb:outcome")],
        [],
        {("comparison/response", "ekb:outcome", "ekb:ComparisonOutcomeShape")},
    ),
    (
        "a comparison listed by no study",
        [],
        [("", "ekb:hasComparison")],
        [],
        {("comparison/response", "^ekb:hasComparison", "ekb:ComparisonListedShape")},
    ),
    # --- order of summary statistics
    (
        "a first quartile above the median",
        [("result/score-drug", "ekb:q1", 1.45)],
        [],
        [],
        {("result/score-drug", "ekb:q1", "ekb:SummaryOrderShape")},
    ),
    (
        "a median above the third quartile",
        [("result/score-drug", "ekb:median", 2.5)],
        [],
        [],
        {("result/score-drug", "ekb:median", "ekb:SummaryOrderShape")},
    ),
    (
        "a range low above the range high",
        [("baseline/age", "ekb:rangeLow", 70.0)],
        [],
        [],
        {("baseline/age", "ekb:rangeLow", "ekb:SummaryOrderShape")},
    ),
    # --- timepoints
    (
        "a result after the end of follow-up",
        [("result/response-drug", "ekb:timepointWeeks", 30.0)],
        [],
        [],
        {("result/response-drug", "ekb:timepointWeeks", "ekb:TimepointWithinFollowUpShape")},
    ),
    (
        "an outcome after the end of follow-up",
        [("outcome/response", "ekb:timepointWeeks", 30.0)],
        [],
        [],
        {("outcome/response", "ekb:timepointWeeks", "ekb:TimepointWithinFollowUpShape")},
    ),
    # --- membership: records point into their own study
    # --- results
    (
        "a result with neither a number nor a direction",
        [],
        [("result/response-placebo", "ekb:events")],
        [],
        {("result/response-placebo", "", "ekb:ResultContentShape")},
    ),
    (
        "a mean without SD or SE",
        [],
        [("result/score-drug", "ekb:sd"), ("result/score-drug", "ekb:se")],
        [],
        {("result/score-drug", "ekb:sd", "ekb:ContinuousResultShape")},
    ),
    (
        "a result without an arm",
        [],
        [("result/response-drug", "ekb:arm")],
        [],
        {("result/response-drug", "ekb:arm", "ekb:ResultArmShape")},
    ),
    (
        "a result with two outcomes",
        [],
        [],
        [("result/response-drug", "ekb:outcome", "@outcome/score")],
        {("result/response-drug", "ekb:outcome", "ekb:ResultOutcomeShape")},
    ),
    (
        "a summary statistic that is not a concept",
        [("result/score-drug", "ekb:summaryStatistic", "term:no-such-statistic")],
        [],
        [],
        {("result/score-drug", "ekb:summaryStatistic", "ekb:ResultSummaryStatisticShape")},
    ),
    (
        "two directions",
        [],
        [],
        [("result/score-drug", "ekb:direction", "term:increased")],
        {("result/score-drug", "ekb:direction", "ekb:DirectionShape")},
    ),
    # --- provenance
    (
        "a number without a source",
        [],
        [("result/response-drug", "ekb:source")],
        [],
        {("result/response-drug", "ekb:source", "ekb:SourceRequiredShape")},
    ),
    (
        "a source that is not an ekb:Source",
        [("result/response-drug", "ekb:source", "@source/ghost")],
        [],
        [],
        {("result/response-drug", "ekb:source", "ekb:SourceClassShape")},
    ),
    (
        "a source without a source type",
        [],
        [("source/paper", "ekb:sourceType")],
        [],
        {("source/paper", "ekb:sourceType", "ekb:SourceTypeShape")},
    ),
    (
        "a source type that is not a concept",
        [("source/paper", "ekb:sourceType", "srctype:no-such-type")],
        [],
        [],
        {("source/paper", "ekb:sourceType", "ekb:SourceTypeShape")},
    ),
    (
        "a DOI with its URL prefix",
        [("source/paper", "ekb:doi", "https://doi.org/10.1000/x")],
        [],
        [],
        {("source/paper", "ekb:doi", "ekb:SourceDoiShape")},
    ),
    (
        "a PMID with letters",
        [("source/paper", "ekb:pmid", "PMID123")],
        [],
        [],
        {("source/paper", "ekb:pmid", "ekb:SourcePmidShape")},
    ),
    (
        "no extractor is only an info",
        [],
        [("result/response-drug", "ekb:extractedBy")],
        [],
        {("result/response-drug", "ekb:extractedBy", "ekb:ExtractedByPresentShape")},
    ),
    (
        "no extraction date is only an info",
        [],
        [("result/response-drug", "ekb:extractedOn")],
        [],
        {("result/response-drug", "ekb:extractedOn", "ekb:ExtractedOnPresentShape")},
    ),
    # --- study
    (
        "a study without an id",
        [],
        [("", "ekb:studyId")],
        [],
        {("", "ekb:studyId", "ekb:StudyIdShape")},
    ),
    (
        "a study id with spaces",
        [("", "ekb:studyId", "shape fixture")],
        [],
        [],
        {("", "ekb:studyId", "ekb:StudyIdShape"), ("", "ekb:studyId", "ekb:StudyIriShape")},
    ),
    (
        "a study id that does not match the IRI",
        [("", "ekb:studyId", "another-id")],
        [],
        [],
        {("", "ekb:studyId", "ekb:StudyIriShape")},
    ),
    (
        "a study without a title",
        [],
        [("", "ekb:title")],
        [],
        {("", "ekb:title", "ekb:StudyTitleShape")},
    ),
    (
        "a study without a design",
        [],
        [("", "ekb:design")],
        [],
        {("", "ekb:design", "ekb:StudyDesignShape")},
    ),
    (
        "a study with two blindings",
        [],
        [],
        [("", "ekb:blinding", "term:open-label")],
        {("", "ekb:blinding", "ekb:StudyBlindingShape")},
    ),
    (
        "a study without a population",
        [],
        [("", "ekb:hasPopulation")],
        [],
        {
            ("", "ekb:hasPopulation", "ekb:StudyPopulationShape"),
            ("population", "^ekb:hasPopulation", "ekb:PopulationListedShape"),
        },
    ),
    (
        "a related study named by a literal",
        [],
        [],
        [("", "ekb:possiblyRelatedTo", "other-study")],
        {("", "ekb:possiblyRelatedTo", "ekb:StudyPossiblyRelatedToShape")},
    ),
    (
        "hasOutcome pointing at a result",
        [],
        [],
        [("", "ekb:hasOutcome", "@result/score-drug")],
        {("", "ekb:hasOutcome", "ekb:StudyOutcomeShape")},
    ),
    (
        "hasResult pointing at an outcome",
        [],
        [],
        [("", "ekb:hasResult", "@outcome/score")],
        {("", "ekb:hasResult", "ekb:StudyResultShape")},
    ),
    (
        "hasComparison pointing at a result",
        [],
        [],
        [("", "ekb:hasComparison", "@result/score-drug")],
        {("", "ekb:hasComparison", "ekb:StudyComparisonShape")},
    ),
    (
        "hasSafetyFinding pointing at a result",
        [],
        [],
        [("", "ekb:hasSafetyFinding", "@result/score-drug")],
        {("", "ekb:hasSafetyFinding", "ekb:StudySafetyFindingShape")},
    ),
    (
        "hasClaim pointing at a result",
        [],
        [],
        [("", "ekb:hasClaim", "@result/score-drug")],
        {("", "ekb:hasClaim", "ekb:StudyClaimShape")},
    ),
    (
        "reportedIn pointing at a result",
        [],
        [],
        [("", "ekb:reportedIn", "@result/score-drug")],
        {("", "ekb:reportedIn", "ekb:StudyReportedInShape")},
    ),
    # --- population and baseline
    (
        "a population without a condition",
        [],
        [("population", "ekb:condition")],
        [],
        {("population", "ekb:condition", "ekb:PopulationConditionShape")},
    ),
    (
        "a condition that is no concept",
        [("population", "ekb:condition", "cond:no-such-condition")],
        [],
        [],
        {("population", "ekb:condition", "ekb:PopulationConditionShape")},
    ),
    (
        "a baseline pointing at something else",
        [],
        [],
        [("population", "ekb:hasBaselineCharacteristic", "@result/score-drug")],
        {("population", "ekb:hasBaselineCharacteristic", "ekb:PopulationBaselineShape")},
    ),
    (
        "a baseline characteristic that does not say what it is",
        [],
        [("baseline/age", "ekb:characteristic")],
        [],
        {("baseline/age", "ekb:characteristic", "ekb:BaselineCharacteristicTextShape")},
    ),
    (
        "a baseline characteristic listed by no population",
        [],
        [("population", "ekb:hasBaselineCharacteristic")],
        [],
        {("baseline/age", "^ekb:hasBaselineCharacteristic", "ekb:BaselineListedShape")},
    ),
    (
        "a baseline characteristic of a non-arm",
        [("baseline/age", "ekb:arm", "@outcome/score")],
        [],
        [],
        {("baseline/age", "ekb:arm", "ekb:BaselineArmShape")},
    ),
    # --- arms and interventions
    (
        "an arm without a label",
        [],
        [("arm/placebo", "rdfs:label")],
        [],
        {("arm/placebo", "rdfs:label", "ekb:ArmLabelShape")},
    ),
    (
        "an arm without a role is a warning",
        [],
        [("arm/placebo", "ekb:armRole")],
        [],
        {("arm/placebo", "ekb:armRole", "ekb:ArmRolePresentShape")},
    ),
    (
        "an arm with two roles",
        [],
        [],
        [("arm/placebo", "ekb:armRole", "term:single-arm")],
        {("arm/placebo", "ekb:armRole", "ekb:ArmRoleShape")},
    ),
    (
        "an arm receiving a non-intervention",
        [],
        [],
        [("arm/placebo", "ekb:receives", "@outcome/score")],
        {("arm/placebo", "ekb:receives", "ekb:ArmReceivesShape")},
    ),
    (
        "an intervention without an agent",
        [],
        [("arm/drug/intervention", "ekb:agent")],
        [],
        {("arm/drug/intervention", "ekb:agent", "ekb:InterventionAgentShape")},
    ),
    (
        "a route that is no concept",
        [("arm/drug/intervention", "ekb:route", "term:no-such-route")],
        [],
        [],
        {("arm/drug/intervention", "ekb:route", "ekb:InterventionRouteShape")},
    ),
    (
        "a negative dose",
        [("arm/drug/intervention", "ekb:doseValue", -1.0)],
        [],
        [],
        {("arm/drug/intervention", "ekb:doseValue", "ekb:InterventionDoseValueShape")},
    ),
    (
        "a dosing interval of zero",
        [("arm/drug/intervention", "ekb:dosingIntervalDays", 0.0)],
        [],
        [],
        {
            (
                "arm/drug/intervention",
                "ekb:dosingIntervalDays",
                "ekb:InterventionDosingIntervalShape",
            )
        },
    ),
    (
        "an intervention no arm receives",
        [],
        [("arm/drug", "ekb:receives")],
        [],
        {("arm/drug/intervention", "^ekb:receives", "ekb:InterventionListedShape")},
    ),
    # --- outcomes
    (
        "an outcome without a label",
        [],
        [("outcome/score", "rdfs:label")],
        [],
        {("outcome/score", "rdfs:label", "ekb:OutcomeLabelShape")},
    ),
    (
        "an outcome without a concept is a warning",
        [],
        [("outcome/score", "ekb:outcomeConcept")],
        [],
        {("outcome/score", "ekb:outcomeConcept", "ekb:OutcomeConceptPresentShape")},
    ),
    (
        "an outcome concept that is no concept",
        [("outcome/score", "ekb:outcomeConcept", "outc:no-such-outcome")],
        [],
        [],
        {("outcome/score", "ekb:outcomeConcept", "ekb:OutcomeConceptShape")},
    ),
    (
        "an outcome with two roles",
        [],
        [],
        [("outcome/response", "ekb:outcomeRole", "term:secondary")],
        {("outcome/response", "ekb:outcomeRole", "ekb:OutcomeRoleShape")},
    ),
    (
        "an outcome with two timepoints",
        [],
        [],
        [("outcome/response", "ekb:timepointWeeks", 24.0)],
        {("outcome/response", "ekb:timepointWeeks", "ekb:TimepointWeeksShape")},
    ),
    # --- safety
    (
        "a safety finding without an arm",
        [],
        [("safety/sae-drug", "ekb:arm")],
        [],
        {("safety/sae-drug", "ekb:arm", "ekb:SafetyArmShape")},
    ),
    (
        "a safety finding without an event term",
        [],
        [("safety/sae-drug", "ekb:eventTerm")],
        [],
        {("safety/sae-drug", "ekb:eventTerm", "ekb:SafetyEventTermShape")},
    ),
    (
        "a safety finding listed by no study",
        [],
        [("", "ekb:hasSafetyFinding")],
        [],
        {("safety/sae-drug", "^ekb:hasSafetyFinding", "ekb:SafetyListedShape")},
    ),
    # --- claims
    (
        "a claim without a statement",
        [],
        [("claim/conclusion", "ekb:statement")],
        [],
        {("claim/conclusion", "ekb:statement", "ekb:ClaimStatementShape")},
    ),
    (
        "a claim without a certainty",
        [],
        [("claim/conclusion", "ekb:certainty")],
        [],
        {
            ("claim/conclusion", "ekb:certainty", "ekb:ClaimCertaintyShape"),
            ("claim/conclusion", "ekb:certainty/skos:inScheme", "ekb:ClaimCertaintySchemeShape"),
        },
    ),
    (
        "a certainty that is not a GRADE level",
        [("claim/conclusion", "ekb:certainty", "term:decreased")],
        [],
        [],
        {("claim/conclusion", "ekb:certainty/skos:inScheme", "ekb:ClaimCertaintySchemeShape")},
    ),
    (
        "a claim without a certainty reason is a warning",
        [],
        [("claim/conclusion", "ekb:certaintyReason")],
        [],
        {("claim/conclusion", "ekb:certaintyReason", "ekb:ClaimCertaintyReasonPresentShape")},
    ),
    (
        "a certainty reason that is no concept",
        [("claim/conclusion", "ekb:certaintyReason", "term:no-such-reason")],
        [],
        [],
        {("claim/conclusion", "ekb:certaintyReason", "ekb:ClaimCertaintyReasonShape")},
    ),
    (
        "a claim type that is no concept",
        [("claim/conclusion", "ekb:claimType", "term:nope")],
        [],
        [],
        {("claim/conclusion", "ekb:claimType", "ekb:ClaimTypeShape")},
    ),
    (
        "a claim about a non-concept intervention",
        [("claim/conclusion", "ekb:aboutIntervention", "agent:nope")],
        [],
        [],
        {("claim/conclusion", "ekb:aboutIntervention", "ekb:ClaimAboutInterventionShape")},
    ),
    (
        "a claim about a non-concept condition",
        [("claim/conclusion", "ekb:aboutCondition", "cond:nope")],
        [],
        [],
        {("claim/conclusion", "ekb:aboutCondition", "ekb:ClaimAboutConditionShape")},
    ),
    (
        "a claim about a non-concept outcome",
        [("claim/conclusion", "ekb:aboutOutcome", "outc:nope")],
        [],
        [],
        {("claim/conclusion", "ekb:aboutOutcome", "ekb:ClaimAboutOutcomeShape")},
    ),
    (
        "a claim supported by a literal",
        [("claim/conclusion", "ekb:supportedBy", "result 1")],
        [],
        [],
        {("claim/conclusion", "ekb:supportedBy", "ekb:ClaimSupportedByShape")},
    ),
    (
        "a claim resting on an outcome is a warning",
        [("claim/conclusion", "ekb:supportedBy", "@outcome/score")],
        [],
        [],
        {("claim/conclusion", "ekb:supportedBy", "ekb:ClaimSupportShape")},
    ),
    (
        "a claim listed by no study",
        [],
        [("", "ekb:hasClaim")],
        [],
        {("claim/conclusion", "^ekb:hasClaim", "ekb:ClaimListedShape")},
    ),
    # --- concepts a study file declares
    (
        "a declared concept without a label",
        [],
        [("outc:fixture-response", "skos:prefLabel")],
        [],
        {("outc:fixture-response", "skos:prefLabel", "ekb:ConceptPrefLabelShape")},
    ),
    (
        "a declared concept without a scheme",
        [],
        [("outc:fixture-response", "skos:inScheme")],
        [],
        {("outc:fixture-response", "skos:inScheme", "ekb:ConceptInSchemeShape")},
    ),
]

# Membership needs a record that points outside its study's lists; built here
# because it breaks two things at once (the list and the pointer).
CASES += [
    (
        "records pointing at an arm the study does not list",
        [("safety/sae-drug", "ekb:arm", "@arm/placebo")],
        [("", "ekb:hasArm")],
        [("", "ekb:hasArm", "@arm/drug")],
        {
            ("arm/placebo", "^ekb:hasArm", "ekb:ArmListedShape"),
            ("result/response-placebo", "ekb:arm", "ekb:ResultMembershipShape"),
            ("safety/sae-drug", "ekb:arm", "ekb:ResultMembershipShape"),
            ("comparison/response", "ekb:comparatorArm", "ekb:ResultMembershipShape"),
            ("", "ekb:hasArm", "ekb:ArmSizesShape"),
        },
    ),
    (
        "a result pointing at an outcome the study does not list",
        [],
        [("", "ekb:hasOutcome")],
        [("", "ekb:hasOutcome", "@outcome/response")],
        {
            ("outcome/score", "^ekb:hasOutcome", "ekb:OutcomeListedShape"),
            ("result/score-drug", "ekb:outcome", "ekb:ResultMembershipShape"),
        },
    ),
    (
        "a result listed by no study",
        [],
        [("", "ekb:hasResult")],
        [
            ("", "ekb:hasResult", "@result/response-drug"),
            ("", "ekb:hasResult", "@result/response-placebo"),
        ],
        {("result/score-drug", "^ekb:hasResult", "ekb:ResultListedShape")},
    ),
    (
        "a study without arms",
        [],
        [("", "ekb:hasArm")],
        [],
        {
            ("", "ekb:hasArm", "ekb:StudyArmShape"),
            ("arm/drug", "^ekb:hasArm", "ekb:ArmListedShape"),
            ("arm/placebo", "^ekb:hasArm", "ekb:ArmListedShape"),
            ("result/response-drug", "ekb:arm", "ekb:ResultMembershipShape"),
            ("result/response-placebo", "ekb:arm", "ekb:ResultMembershipShape"),
            ("result/score-drug", "ekb:arm", "ekb:ResultMembershipShape"),
            ("safety/sae-drug", "ekb:arm", "ekb:ResultMembershipShape"),
            ("comparison/response", "ekb:experimentalArm", "ekb:ResultMembershipShape"),
            ("comparison/response", "ekb:comparatorArm", "ekb:ResultMembershipShape"),
        },
    ),
]

# Valid boundary cases: each must give no finding at all.
VALID: list[tuple[str, list, list, list]] = [
    (
        "percent of exactly 100 and 0",
        [("result/response-drug", "ekb:percent", 100.0), ("safety/sae-drug", "ekb:percent", 0.0)],
        [],
        [],
    ),
    (
        "a p-value of exactly 1 and 0",
        [("comparison/response", "ekb:pValue", 1.0), ("result/response-drug", "ekb:pValue", 0.0)],
        [],
        [],
    ),
    (
        "a percent change of exactly -100",
        [("result/score-drug", "ekb:percentChange", -100.0)],
        [],
        [],
    ),
    (
        "events equal to total equal to the arm",
        [("result/response-placebo", "ekb:events", 30)],
        [],
        [],
    ),
    ("an estimate on a CI bound", [("comparison/response", "ekb:ciUpper", 1.5)], [], []),
    (
        "a risk difference within [-1, 1] and percentage points within [-100, 100]",
        [
            ("comparison/response", "ekb:effectMeasure", "term:risk-difference"),
            ("comparison/response", "ekb:estimate", 0.134),
            ("comparison/response", "ekb:ciLower", -1.0),
            ("comparison/response", "ekb:ciUpper", 1.0),
        ],
        [],
        [],
    ),
    (
        "a difference of -100 percentage points",
        [
            ("comparison/response", "ekb:effectMeasure", "term:percentage-point-difference"),
            ("comparison/response", "ekb:ciLower", -100.0),
        ],
        [],
        [],
    ),
    (
        "a comparison with only a p-value (as printed in an abstract)",
        [],
        [
            ("comparison/response", p)
            for p in (
                "ekb:estimate",
                "ekb:ciLower",
                "ekb:ciUpper",
                "ekb:effectMeasure",
                "ekb:ciLevel",
            )
        ],
        [],
    ),
    ("a mean with an SE but no SD", [], [("result/score-drug", "ekb:sd")], []),
    (
        "a result with only a direction",
        [],
        [
            ("result/score-drug", p)
            for p in (
                "ekb:n",
                "ekb:mean",
                "ekb:sd",
                "ekb:se",
                "ekb:median",
                "ekb:q1",
                "ekb:q3",
                "ekb:rangeLow",
                "ekb:rangeHigh",
                "ekb:percentChange",
                "ekb:baselineValue",
                "ekb:followUpValue",
            )
        ],
        [],
    ),
    (
        "cycles typed as xsd:positiveInteger (the ontology's range)",
        [
            (
                "arm/drug/intervention",
                "ekb:numberOfCycles",
                Literal("3", datatype=_XSD.positiveInteger),
            )
        ],
        [],
        [],
    ),
    (
        "an extension arm of role other is not added to the enrolled count",
        [],
        [],
        [
            ("", "ekb:hasArm", "@arm/extension"),
            ("arm/extension", "rdf:type", "ekb:Arm"),
            ("arm/extension", "rdfs:label", "extension"),
            ("arm/extension", "ekb:armRole", "term:other-arm"),
            ("arm/extension", "ekb:n", 55),
            ("arm/extension", "ekb:source", "@source/paper"),
            ("arm/extension", "ekb:extractedBy", "tests"),
            ("arm/extension", "ekb:extractedOn", Literal("2024-01-01", datatype=_XSD.date)),
        ],
    ),
    (
        "a total above the arm is not checked when the arm has no n",
        [],
        [("arm/placebo", "ekb:n")],
        [],
    ),
    (
        "a timepoint at the end of follow-up",
        [("result/response-drug", "ekb:timepointWeeks", 24.0)],
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("set_", "remove", "add", "expected"),
    [pytest.param(s, r, a, e, id=name) for name, s, r, a, e in CASES],
)
def test_each_invalid_example_reports_exactly_its_results(
    validator: StudyValidator,
    tmp_path: Path,
    set_: list,
    remove: list,
    add: list,
    expected: set[tuple[str, str, str]],
) -> None:
    assert results(validator, edited_fixture(tmp_path, set_, remove, add)) == expected


@pytest.mark.parametrize(
    ("set_", "remove", "add"), [pytest.param(s, r, a, id=name) for name, s, r, a in VALID]
)
def test_each_valid_boundary_example_reports_nothing(
    validator: StudyValidator, tmp_path: Path, set_: list, remove: list, add: list
) -> None:
    assert results(validator, edited_fixture(tmp_path, set_, remove, add)) == set()


# --- datatypes, generated from the shapes themselves ---------------------------

_WRONG_VALUE = {
    _XSD.string: Literal(5),
    _XSD.decimal: Literal("1.5"),  # a quoted number: a string, not a decimal
    _XSD.integer: Literal("10"),  # a quoted number: a string, not a count
    _XSD.boolean: Literal("yes"),
    _XSD.date: Literal("soon"),
    _XSD.gYear: Literal(2024),
    _XSD.anyURI: Literal("https://example.org/"),
}
# Shapes whose wrong datatype also trips another shape; they have hand-written cases.
_NOT_GENERATED = {"ekb:StudyIdShape"}
# The reconciliation records are not in the fixture study (it is single-extraction);
# tests/test_reconcile.py gives each of these shapes a wrong datatype on a reconciled study.
RECONCILIATION_DATATYPE_SHAPES = {
    "ekb:AdjudicatedByDatatypeShape",
    "ekb:AdjudicatedOnDatatypeShape",
    "ekb:ExtractorShape",
    "ekb:ExtractionDateShape",
    "ekb:FieldPathShape",
    "ekb:RationaleShape",
    "ekb:CandidateValueDatatypeShape",
}
_NOT_GENERATED |= RECONCILIATION_DATATYPE_SHAPES


def _datatype_cases() -> list[tuple[str, str, str, Literal]]:
    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    cases = []
    for prop_shape, datatype in sorted(shapes.subject_objects(SH.datatype)):
        if not isinstance(prop_shape, URIRef) or shorten(str(prop_shape)) in _NOT_GENERATED:
            continue
        if shorten(str(prop_shape)).startswith("ekb:Review"):
            continue  # review shapes: tests/test_review_shapes.py
        path = shapes.value(prop_shape, SH.path)
        if not isinstance(path, URIRef):
            continue
        for parent in sorted(shapes.subjects(SH.property, prop_shape)):
            targets = sorted(shorten(str(t)) for t in shapes.objects(parent, SH.targetClass))
            focus = next((NODE_OF_CLASS[t[4:]] for t in targets if t[4:] in NODE_OF_CLASS), None)
            assert focus is not None, f"no fixture record for {parent}"
            cases.append(
                (shorten(str(prop_shape)), focus, shorten(str(path)), _WRONG_VALUE[datatype])
            )
    return cases


DATATYPE_CASES = _datatype_cases()


def _datatype_cases_by_record() -> dict[str, list[tuple[str, str, str, Literal]]]:
    # One wrong value per property, all on the same record in one run: each
    # shape reports only its own (focus, path), so the expected set is still
    # exact, and the suite runs one validation per record instead of per shape.
    grouped: dict[str, list[tuple[str, str, str, Literal]]] = {}
    for case in DATATYPE_CASES:
        grouped.setdefault(case[1], []).append(case)
    return grouped


@pytest.mark.parametrize(
    "cases",
    [
        pytest.param(c, id=focus or "study")
        for focus, c in sorted(_datatype_cases_by_record().items())
    ],
)
def test_a_value_of_the_wrong_datatype_is_reported_by_its_shape(
    validator: StudyValidator, tmp_path: Path, cases: list[tuple[str, str, str, Literal]]
) -> None:
    edited = edited_fixture(
        tmp_path, set_=[(focus, path, wrong) for _, focus, path, wrong in cases]
    )
    assert results(validator, edited) == {(focus, path, shape) for shape, focus, path, _ in cases}


# --- messages quote the numbers -------------------------------------------------


@pytest.mark.parametrize(
    ("set_", "remove", "message"),
    [
        ([("result/response-drug", "ekb:events", 30)], [], "30 events but only 29 in the total"),
        (
            [("result/response-placebo", "ekb:events", 61)],
            [("result/response-placebo", "ekb:total")],
            "61 events but only 30 in the arm",
        ),
        (
            [("comparison/response", "ekb:ciUpper", 1.2)],
            [],
            "upper bound 1.2 is below the estimate 1.5",
        ),
        ([("population", "ekb:analysed", 61)], [], "61 analysed but only 60 enrolled"),
        ([("population", "ekb:enrolled", 61)], [], "arm sizes add up to 60, but 61 were enrolled"),
        ([("safety/sae-drug", "ekb:affected", 31)], [], "31 affected but only 30 at risk"),
        (
            [("result/score-drug", "ekb:q1", 1.45)],
            [],
            "first quartile 1.45 is above the median 1.4",
        ),
        (
            [("result/response-drug", "ekb:timepointWeeks", 30.0)],
            [],
            "timepoint week 30.0 is after the end of the study's follow-up (week 24.0)",
        ),
        (
            [],
            [("result/score-drug", "ekb:sd"), ("result/score-drug", "ekb:se")],
            "no SD: this result cannot enter a meta-analysis",
        ),
        ([], [("result/response-drug", "ekb:source")], "a number without provenance is invalid"),
        (
            [("claim/conclusion", "ekb:supportedBy", "@outcome/score")],
            [],
            "the claim rests on study/shape-fixture-2024/outcome/score, which is not a result",
        ),
    ],
)
def test_messages_say_what_is_wrong_with_the_numbers(
    validator: StudyValidator, tmp_path: Path, set_: list, remove: list, message: str
) -> None:
    report = validator.validate_file(edited_fixture(tmp_path, set_, remove))
    assert len(report.findings) == 1
    assert message in report.findings[0].message


def test_severities_are_those_of_the_shapes(validator: StudyValidator, tmp_path: Path) -> None:
    edited = edited_fixture(
        tmp_path,
        set_=[("result/response-drug", "ekb:events", 30), ("population", "ekb:enrolled", 61)],
        remove=[("result/response-drug", "ekb:extractedBy")],
    )
    report = validator.validate_file(edited)
    by_shape = {shorten(f.source_shape or ""): f.severity for f in report.findings}
    assert by_shape == {
        "ekb:ResultCountsShape": "Violation",
        "ekb:ArmSizesShape": "Warning",
        "ekb:ExtractedByPresentShape": "Info",
    }
    assert not report.conforms
    assert report.counts() == {"Violation": 1, "Warning": 1, "Info": 1}


# --- checks across the file and across files -----------------------------------


def test_a_file_without_a_study_is_a_violation(validator: StudyValidator, tmp_path: Path) -> None:
    empty = tmp_path / "empty.ttl"
    empty.write_text("@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n")
    assert results(validator, empty) == {("(file)", "", "ekb:StudyFileShape")}


def test_a_file_not_named_after_its_study_is_a_warning(
    validator: StudyValidator, tmp_path: Path
) -> None:
    renamed = edited_fixture(tmp_path, name="renamed.ttl")
    report = validator.validate_file(renamed)
    assert [(rel(f.focus), f.severity, shorten(f.source_shape or "")) for f in report.findings] == [
        ("", "Warning", "ekb:StudyFileShape")
    ]


def test_a_file_with_two_studies_is_a_violation(validator: StudyValidator, tmp_path: Path) -> None:
    other = "https://w3id.org/evidence-kb/resource/study/other"
    edited = edited_fixture(tmp_path, add=[(other, "rdf:type", "ekb:Study")])
    file_level = {
        shorten(f.focus)
        for f in validator.validate_file(edited).findings
        if f.source_shape and shorten(f.source_shape) == "ekb:StudyFileShape"
    }
    assert file_level == {"study/other", "study/shape-fixture-2024"}


def test_a_related_study_outside_the_kb_is_a_warning(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    related = "https://w3id.org/evidence-kb/resource/study/not-here"
    edited = edited_fixture(kb / "studies", add=[("", "ekb:possiblyRelatedTo", related)])
    report = validate_files([edited], kb)
    assert [
        (rel(f.focus), f.row()[2], f.value, f.severity, f.message) for f in report.files[0].findings
    ] == [
        (
            "",
            "ekb:possiblyRelatedTo",
            related,
            "Warning",
            "the related study study/not-here is not (yet) in the knowledge base",
        )
    ]
    # Once the related study's file exists, the link resolves.
    (kb / "studies" / "not-here.ttl").write_text("")
    assert validate_files([edited], kb).files[0].findings == ()


def test_two_files_declaring_one_study_are_both_violations(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = edited_fixture(tmp_path / "a")
    b = edited_fixture(tmp_path / "b")
    report = validate_files([a, b], tmp_path)
    assert [[shorten(f.source_shape or "") for f in r.findings] for r in report.files] == [
        ["ekb:StudyFileShape"],
        ["ekb:StudyFileShape"],
    ]
    assert not report.conforms


# --- every shape is exercised ----------------------------------------------------


def test_every_shape_has_an_invalid_example_here() -> None:
    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    declared = {
        shorten(str(s))
        for kind in (SH.NodeShape, SH.PropertyShape)
        for s in shapes.subjects(RDF.type, kind)
        if isinstance(s, URIRef)
    }
    covered = {shape for *_, expected in CASES for _, _, shape in expected}
    covered |= {c[0] for c in DATATYPE_CASES}
    covered.add("ekb:StudyFileShape")  # the file-level tests above
    # The review shapes (ekb:Review*) have their examples in tests/test_review_shapes.py.
    covered |= {shape for shape in declared if shape.startswith("ekb:Review")}
    # The reconciliation records' property shapes have theirs in tests/test_reconcile.py
    # (a wrong datatype, or a count, choice or link broken, on a reconciled study).
    ekb = Namespace(EKB)
    reconciliation_classes = {
        ekb.Reconciliation,
        ekb.Extraction,
        ekb.FieldDecision,
        ekb.CandidateValue,
    }
    decided = (SH.targetSubjectsOf, ekb.hasDecision)
    for parent in set(shapes.subjects(SH.targetClass, None)) | set(shapes.subjects(*decided)):
        targets = set(shapes.objects(parent, SH.targetClass))
        if targets & reconciliation_classes or (parent, *decided) in shapes:
            covered |= {shorten(str(p)) for p in shapes.objects(parent, SH.property)}
    # Node shapes that only group property shapes report nothing themselves.
    grouping = {
        shorten(str(s))
        for s in declared_nodes(shapes)
        if not any(True for p in (SH.sparql, SH["or"]) for _ in shapes.objects(s, p))
    }
    assert sorted(declared - covered - grouping) == []


def declared_nodes(shapes: Graph) -> list[URIRef]:
    return [s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)]


def test_every_shape_has_an_iri_a_severity_and_a_message() -> None:
    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    for kind in (SH.NodeShape, SH.PropertyShape):
        for s in shapes.subjects(RDF.type, kind):
            assert isinstance(s, URIRef), f"a {kind} without an IRI"
            assert shapes.value(s, SH.severity) in (SH.Violation, SH.Warning, SH.Info), s
            assert shapes.value(s, SH.message) is not None, s


def test_the_shapes_conform_to_the_shacl_shapes_for_shacl() -> None:
    from pyshacl.entrypoints import meta_validate

    conforms, _graph, text = meta_validate(
        Graph().parse(paths.shapes_file(), format="turtle"), inference="none"
    )
    assert conforms, text
