"""The one-denominator check (ekb:SafetyOneDenominatorShape), made in Python in one pass.

The SHACL-SPARQL constraint it replaces ran once per safety finding; these cases pin the
rule it stated: same arm, event term, seriousness, timepoint and subgroup, different
ekb:atRisk compared as numbers.
"""

from __future__ import annotations

from kb.namespaces import EKB
from kb.validation.file_checks import SAFETY_DENOMINATOR_SHAPE, one_denominator_findings

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
S = "https://w3id.org/evidence-kb/resource/study/synthetic-2024/safety/"
ARM = "https://w3id.org/evidence-kb/resource/study/synthetic-2024/arm/drug"


def finding(name: str, at_risk: str, **more: str) -> list[tuple[str, str, str]]:
    triples = [
        (S + name, RDF_TYPE, str(EKB.SafetyFinding)),
        (S + name, str(EKB.arm), more.pop("arm", ARM)),
        (S + name, str(EKB.eventTerm), more.pop("term", "headache")),
        (S + name, str(EKB.atRisk), at_risk),
    ]
    return triples + [(S + name, str(EKB[p]), v) for p, v in more.items()]


def flagged(*findings: list[tuple[str, str, str]]) -> set[tuple[str, str | None]]:
    triples = [t for f in findings for t in f]
    return {(f.focus[len(S) :], f.value) for f in one_denominator_findings(triples)}


def test_two_denominators_for_one_event_in_one_arm_flag_both_findings() -> None:
    (result, *_) = one_denominator_findings(finding("a", "30") + finding("b", "28"))
    assert flagged(finding("a", "30"), finding("b", "28")) == {("a", "30"), ("b", "28")}
    assert result.source_shape == SAFETY_DENOMINATOR_SHAPE
    assert result.path == str(EKB.atRisk)
    assert result.severity == "Violation"
    assert f"{S}b for this event with 28 at risk, not 30" in result.message


def test_equal_numbers_in_different_spellings_are_one_denominator() -> None:
    assert flagged(finding("a", "30"), finding("b", "30.0")) == set()


def test_any_difference_in_seriousness_timepoint_or_subgroup_allows_another_denominator() -> None:
    for prop, value in [
        ("serious", "true"),
        ("timepointText", "week 52"),
        ("timepointWeeks", "52"),
        ("subgroup", "women"),
    ]:
        assert flagged(finding("a", "30"), finding("b", "28", **{prop: value})) == set(), prop
    # The same value on both sides makes them the same event again.
    both = {"serious": "true", "subgroup": "women"}
    assert flagged(finding("a", "30", **both), finding("b", "28", **both)) == {
        ("a", "30"),
        ("b", "28"),
    }


def test_other_arms_terms_and_untyped_records_are_not_compared() -> None:
    other_arm = finding("b", "28", arm=ARM + "-2")
    other_term = finding("c", "28", term="nausea")
    untyped = [t for t in finding("d", "28") if t[1] != RDF_TYPE]
    assert flagged(finding("a", "30"), other_arm, other_term, untyped) == set()


def test_three_findings_name_each_differing_other() -> None:
    results = one_denominator_findings(finding("a", "30") + finding("b", "28") + finding("c", "30"))
    pairs = sorted((f.focus[len(S) :], f.message.split()[4][len(S) :]) for f in results)
    assert pairs == [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]
