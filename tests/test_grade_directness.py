"""GRADE indirectness from the recorded concepts (kb.grade.directness, rule IND.PICO).

The studies are the SYNTHETIC trials of tests/data/sof (population lupus nephritis, drug
arm low-dose interleukin-2, placebo arm placebo) and, for the subgroup case, the shipped
he-2020 trial (population active SLE, beside lupus nephritis under SLE; renal result in its
lupus nephritis subgroup). Each
case changes the question, so the expected verdict follows from the vocabulary's
skos:broader links by hand: lupus nephritis -> SLE; active SLE -> SLE;
refractory lupus nephritis -> lupus nephritis; low-dose IL-2 -> interleukin-2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.analysis.data import StudyRecord, from_kb
from kb.cli import cli
from kb.grade import rules
from kb.grade.directness import compare
from kb.namespaces import VOCAB
from kb.paths import shipped_kb_dir
from kb.sysreview.model import Question

SOF = Path(__file__).parent / "data" / "sof"
COND, AGENT, OUTC = (f"{VOCAB}condition/", f"{VOCAB}agent/", f"{VOCAB}outcome/")
SLE, LN, REFRACTORY_LN = (
    COND + "systemic-lupus-erythematosus",
    COND + "lupus-nephritis",
    COND + "refractory-lupus-nephritis",
)
LOW_DOSE_IL2, IL2, PLACEBO, BELIMUMAB = (
    AGENT + "low-dose-interleukin-2",
    AGENT + "interleukin-2",
    AGENT + "placebo",
    AGENT + "belimumab",
)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[StudyRecord]]:
    kb = tmp_path_factory.mktemp("directness") / "kb"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(kb)]).exit_code == 0
    added = runner.invoke(
        cli, ["add", *map(str, sorted((SOF / "studies").glob("*.yaml"))), "--kb", str(kb)]
    )
    assert added.exit_code == 0, added.output
    studies = from_kb(OUTC + "complete-renal-response", kb_dir=kb).studies
    assert [s.study for s in studies] == [
        "synthetic-trial-a",
        "synthetic-trial-b",
        "synthetic-trial-c",
    ]
    return kb, studies


def question(
    population: tuple[str, ...] = (SLE, LN),
    interventions: tuple[str, ...] = (LOW_DOSE_IL2,),
    comparators: tuple[str, ...] = (PLACEBO,),
) -> Question:
    return Question(population=population, interventions=interventions, comparators=comparators)


def test_concepts_equal_to_or_narrower_than_the_question_are_direct(synthetic) -> None:
    kb, studies = synthetic
    # lupus nephritis is the question's and narrower than SLE; low-dose IL-2 is narrower
    # than interleukin-2, so a question about IL-2 in SLE is answered directly too.
    for q in (question(), question(population=(SLE,), interventions=(IL2,))):
        found = compare(q, studies, kb)
        assert found.mismatches == [] and found.unknown == []
        assert found.for_rule == []
        assert rules.indirectness(found.for_rule, found.detail()).rating == rules.NOT_SERIOUS


def test_a_broader_study_population_is_a_mismatch(synthetic) -> None:
    kb, studies = synthetic
    found = compare(question(population=(REFRACTORY_LN,)), studies, kb)
    assert [s for s, _ in found.mismatches] == [s.study for s in studies]
    assert "population lupus nephritis is broader than the question's" in found.mismatches[0][1]
    suggestion = rules.indirectness(found.for_rule, found.detail())
    assert (suggestion.rating, suggestion.rule) == (rules.SERIOUS, "IND.PICO")


def test_another_intervention_or_comparator_is_a_mismatch(synthetic) -> None:
    kb, studies = synthetic
    other_drug = compare(question(interventions=(BELIMUMAB,)), studies, kb)
    assert len(other_drug.mismatches) == 3
    assert (
        "intervention arm synthetic drug receives low-dose interleukin-2"
        in (other_drug.mismatches[0][1])
    )
    other_comparator = compare(question(comparators=(BELIMUMAB,)), studies, kb)
    assert all(
        "comparator arm placebo receives placebo" in w for _, w in other_comparator.mismatches
    )
    assert len(other_comparator.mismatches) == 3


def test_a_part_the_question_does_not_name_is_not_compared(synthetic) -> None:
    kb, studies = synthetic
    found = compare(question(comparators=()), studies, kb)
    assert found.compared == ("population", "intervention")
    assert (
        compare(question(population=(), interventions=(), comparators=()), studies, kb).for_rule
        is None
    )


def test_a_subgroup_of_another_population_is_left_to_the_reviewer() -> None:
    kb = shipped_kb_dir()
    [he] = from_kb(
        OUTC + "complete-renal-response", review="il2-sle-ln-worked-example", kb_dir=kb
    ).studies
    assert he.study == "he-2020-ard-il2-rct" and he.subgroup == "patients with lupus nephritis"
    found = compare(question(population=(LN,)), [he], kb)
    assert found.mismatches == []
    [(study, why)] = found.unknown
    assert study == he.study and "subgroup 'patients with lupus nephritis'" in why
    suggestion = rules.indirectness(found.for_rule, found.detail())
    assert (suggestion.rating, suggestion.rule) == (rules.REVIEWER, "IND.REV")
    # The question's own population (SLE or LN) contains active SLE: direct.
    assert compare(question(), [he], kb).for_rule == []


def test_records_without_arms_cannot_be_compared(synthetic) -> None:
    kb, studies = synthetic
    bare = StudyRecord(study=studies[0].study, label="a", values={})
    found = compare(question(), [bare], kb)
    assert {w for _, w in found.unknown} == {
        "the intervention arms of the comparison are not known",
        "the comparator arms of the comparison are not known",
    }
    assert found.for_rule is None
