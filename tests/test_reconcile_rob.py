"""Double risk-of-bias assessment: ``ekb diff``, ``ekb diff --summary`` and ``ekb reconcile``
on two assessors' RoB forms of one result, and the consensus stored by ``ekb rob add``.

Every form here is SYNTHETIC (tests/data/double/rob/): two made-up assessors' RoB 2 forms of
the synthetic review's result (tests/data/sof), with planted disagreements listed in the
first form's header. Consensus forms and knowledge bases are only written to temporary
folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, Namespace, URIRef

from kb.errors import CheckFailed, UsageError
from kb.reconciliation import diff, diff_text, reconcile_files, summary
from kb.rob.assessment import RobFormError, assess, assess_file

HERE = Path(__file__).parent / "data"
DATA = HERE / "double" / "rob"
A = DATA / "synthetic-trial-b-assessor-1.yaml"
B = DATA / "synthetic-trial-b-assessor-2.yaml"
DECISIONS = DATA / "synthetic-trial-b-decisions.yaml"
SOF = HERE / "sof"
EKB = Namespace("https://w3id.org/evidence-kb/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
NODE = "https://w3id.org/evidence-kb/resource/review/synthetic-review/rob/synthetic-trial-b/crr"

#: The planted disagreements, in report order (path, a, b, kind).
PLANTED = [
    ("answers[1.2]", "NI", "PY", "value"),
    (
        "answers[1.2].support",
        "synthetic: the report does not say how allocation was concealed",
        "synthetic: central telephone randomisation",
        "value",
    ),
    ("answers[2.1]", "N", "Y", "value"),
    ("answers[4.3].support", "synthetic: outcome assessors were blinded", None, "only-a"),
    ("answers[2.3]", None, "N", "only-b"),
    (
        "overrides[D5]",
        None,
        "some concerns (synthetic: the analysis plan was registered after the data were unblinded)",
        "only-b",
    ),
    # what follows from the answers: a's 1.2 NI gives D1 some concerns (RoB 2 D1: 1.2 NI
    # with 1.3 N/PN is "some concerns"), b's 1.2 PY low; b overrode D5
    ("proposed[D1]", "some concerns", "low", "derived"),
    ("final[D5]", "low", "some concerns", "derived"),
]


def ekb(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ekb")), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def _form(tmp_path: Path, name: str, base: Path, **changes: object) -> Path:
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# ekb diff


def test_diff_reports_every_planted_disagreement_in_order() -> None:
    run = ekb("diff", A, B, "-f", "json")
    assert run.returncode == 1, run.stderr
    import json

    got = [(d["path"], d["a"], d["b"], d["kind"]) for d in json.loads(run.stdout)]
    assert got == PLANTED


def test_diff_text_counts_the_decisions_and_sets_the_judgements_apart() -> None:
    text = diff_text(diff(str(A), str(B)))
    assert (
        "rob2 (assignment) assessment of synthetic-trial-b for crr: 6 disagreements to decide "
        "(0 structural, 3 values, 3 filled by one only)"
    ) in text
    values, derived = text.index("Values"), text.index("Judgements that follow")
    assert values < text.index("Filled by one assessor only") < derived
    assert "  proposed[D1]: a some concerns, b low" in text[derived:]


def test_a_left_out_answer_and_an_explicit_na_agree_as_rob_check_reads_them(
    tmp_path: Path,
) -> None:
    answers = yaml.safe_load(A.read_text(encoding="utf-8"))["answers"]
    same = _form(tmp_path, "same.yaml", A, answers={**answers, "2.3": "na", "1.1": " y "})
    comparison = diff(str(A), str(same))
    assert comparison.agree
    assert "the two assessments agree" in diff_text(comparison)
    assert ekb("diff", A, same).returncode == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"study": "synthetic-trial-a"}, "has study 'synthetic-trial-b' but"),
        ({"outcome": "other"}, "has outcome 'crr' but"),
        ({"aim": "adherence", "answers": None}, "has RoB 2 aim 'assignment' but"),
    ],
)
def test_forms_of_different_results_or_aims_are_refused(
    tmp_path: Path, change: dict, message: str
) -> None:
    if change.get("aim") == "adherence":  # a complete adherence form (2.1-2.6 differ)
        other = _form(
            tmp_path,
            "other.yaml",
            A,
            aim="adherence",
            answers={"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N"}
            | {"2.4": "N", "2.5": "N", "3.1": "Y", "4.1": "N", "4.2": "N"}
            | {"4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"},
        )
    else:
        other = _form(tmp_path, "other.yaml", A, **change)
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        diff(str(A), str(other))


def test_the_cli_refuses_other_results_tools_and_a_study_form_with_exit_2(
    tmp_path: Path,
) -> None:
    robins = HERE / "rob" / "synthetic-robins-cohort-f.yaml"
    other_tool = _form(tmp_path, "robins.yaml", robins, study="synthetic-trial-b", outcome="crr")
    out = tmp_path / "c.yaml"
    for b in (other_tool, HERE / "double" / "regency-a.yaml"):
        run = ekb("diff", A, b)
        assert run.returncode == 2, run.stderr
        assert "Traceback" not in run.stderr
        run = ekb("reconcile", A, b, "--decisions", DECISIONS, "-o", out)
        assert run.returncode == 2 and not out.exists()
    assert "has tool 'rob2' but" in ekb("diff", A, other_tool).stderr
    missing = ekb("diff", tmp_path / "nowhere.yaml", A)
    assert missing.returncode == 2 and "nowhere.yaml: no such form file" in missing.stderr
    assert "is a risk-of-bias form but" in ekb("diff", A, HERE / "double" / "regency-a.yaml").stderr


def test_a_form_that_does_not_pass_rob_check_is_exit_1(tmp_path: Path) -> None:
    answers = yaml.safe_load(A.read_text(encoding="utf-8"))["answers"]
    bad = _form(tmp_path, "bad.yaml", A, answers={**answers, "1.1": "maybe"})
    with pytest.raises(RobFormError, match=r"answers\.1\.1: 'MAYBE' is not a permitted answer"):
        diff(str(A), str(bad))


# ---------------------------------------------------------------------------
# ekb diff --summary


def test_summary_kappa_of_rob_answers_and_judgements_matches_a_hand_computation(
    tmp_path: Path,
) -> None:
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir()
    db.mkdir()
    (da / A.name).write_text(A.read_text(encoding="utf-8"), encoding="utf-8")
    (db / B.name).write_text(B.read_text(encoding="utf-8"), encoding="utf-8")
    # a study extraction pair in the same folders is summarised alongside
    for folder, name in ((da, "regency-a.yaml"), (db, "regency-b.yaml")):
        (folder / name).write_text((HERE / "double" / name).read_text(encoding="utf-8"))
    result = summary(da, db)
    assert result.pairs == ["regency-furie-2025"]
    assert result.rob_pairs == ["synthetic-trial-b / crr"]
    fields = {f.path: f for f in result.fields}
    # Signalling answers: the 14 questions at least one assessor answered (2.4, 2.5, 3.2-3.4,
    # 4.4 and 4.5 are NA for both, asked of neither, and not counted):
    #   q    1.1 1.2 1.3 2.1 2.2 2.3 2.6 3.1 4.1 4.2 4.3 5.1 5.2 5.3
    #   a    Y   NI  N   N   N   NA  Y   Y   N   N   N   Y   N   N
    #   b    Y   PY  N   Y   N   N   Y   Y   N   N   N   Y   N   N
    # p_o = 11/14 (1.2, 2.1 and 2.3 differ)
    # a: Y 4, N 8, NI 1, NA 1;  b: Y 5, N 8, PY 1
    # p_e = (4*5 + 8*8) / 14^2 = 84/196 = 3/7
    # kappa = (11/14 - 6/14) / (1 - 6/14) = (5/14) / (8/14) = 5/8
    answers = fields["rob2:answers[]"]
    assert (answers.compared, answers.agreed) == (14, 11)
    assert answers.kappa == pytest.approx(float(Fraction(5, 8)), abs=1e-12)
    # Final domain judgements D1-D5:
    #   a: some concerns, low, low, low, low;  b: low, low, low, low, some concerns (override)
    # p_o = 3/5; a: SC 1, low 4; b: SC 1, low 4; p_e = (1*1 + 4*4)/25 = 17/25
    # kappa = (15/25 - 17/25) / (1 - 17/25) = (-2/25) / (8/25) = -1/4
    judged = fields["rob2:judgements[]"]
    assert (judged.compared, judged.agreed) == (5, 3)
    assert judged.kappa == pytest.approx(-0.25, abs=1e-12)
    # one domain: D1's three answers (Y/Y, NI/PY, N/N): p_o 2/3; a Y,NI,N b Y,PY,N:
    # p_e = (1 + 1)/9 = 2/9; kappa = (6/9 - 2/9)/(7/9) = 4/7
    assert fields["rob2:D1.answers[]"].kappa == pytest.approx(4 / 7, abs=1e-12)
    assert fields["rob2:overall.judgement"].agreed == 1
    # the per-kind totals count each answer once (the pooled field is left out)
    kinds = {k.kind: k for k in result.by_kind()}
    assert (kinds["rob-answer"].compared, kinds["rob-answer"].agreed) == (14, 11)
    assert (kinds["rob-judgement"].compared, kinds["rob-judgement"].agreed) == (6, 4)
    # and the concepts of the study pair are counted as before
    assert fields["outcomes[].role"].kappa == pytest.approx(0.0, abs=1e-12)


def test_summary_counts_a_result_only_one_assessor_could_assess_as_one_only(
    tmp_path: Path,
) -> None:
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir()
    db.mkdir()
    (da / A.name).write_text(A.read_text(encoding="utf-8"), encoding="utf-8")
    _form(db, "na.yaml", B, answers=None, overrides=None, not_assessed="synthetic: no full text")
    result = summary(da, db)
    fields = {f.path: f for f in result.fields}
    assert "rob2:answers[]" not in fields
    assert fields["rob2:D1.judgement"].only_one == 1
    assert fields["rob2:D1.judgement"].compared == 0


# ---------------------------------------------------------------------------
# ekb reconcile


def test_reconcile_refuses_while_disagreements_are_undecided(tmp_path: Path) -> None:
    out = tmp_path / "consensus.yaml"
    partial = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    del partial["decisions"]["answers[2.3]"]
    (tmp_path / "d.yaml").write_text(yaml.safe_dump(partial), encoding="utf-8")
    run = ekb("reconcile", A, B, "--decisions", tmp_path / "d.yaml", "-o", out)
    assert run.returncode == 1
    assert "1 disagreement without a decision" in run.stderr
    assert "answers[2.3] (only-b): a (blank), b N" in run.stderr
    assert not out.exists()
    run = ekb("reconcile", A, B, "-o", out)
    assert run.returncode == 1 and "6 disagreements without a decision" in run.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            {"answers[1.2]": {"value": "maybe", "reason": "?"}},
            "decisions.answers[1.2].value: 'maybe' is not a permitted answer to question 1.2 "
            "(permitted: Y PY PN N NI)",
        ),
        (
            {"answers[1.2]": {"value": "NA", "reason": "?"}},
            "'NA' is not a permitted answer to question 1.2",
        ),
        (
            {"overrides[D5]": {"value": "dreadful", "reason": "?"}},
            "decisions.overrides[D5].value: 'dreadful' is not a judgement of rob2",
        ),
        (
            {"answers[1.1]": {"take": "b", "reason": "?"}},
            "decisions.answers[1.1]: both assessors answered the same",
        ),
        (
            {"answers[9.9]": {"take": "b", "reason": "?"}},
            "decisions.answers[9.9]: not a disagreement between the two assessments",
        ),
        (
            {"answers[1.2].suport": {"take": "b", "reason": "?"}},
            "did you mean 'answers[1.2].support'?",
        ),
        ({"answers[2.1]": {"take": "a"}}, "decisions.answers[2.1].reason: is required"),
        # b's 2.1 Y makes 2.3 asked; taking a's blank 2.3 leaves it unanswered
        (
            {"answers[2.1]": {"take": "b", "reason": "?"}},
            "the consensus would not pass ekb rob check:\n  answers.2.3: required",
        ),
    ],
)
def test_a_bad_decision_is_named_and_nothing_is_written(
    tmp_path: Path, decision: dict, message: str
) -> None:
    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    decisions["decisions"].update(decision)
    bad = tmp_path / "decisions.yaml"
    bad.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    out = tmp_path / "consensus.yaml"
    with pytest.raises(CheckFailed) as caught:
        reconcile_files(str(A), str(B), bad, out)
    assert message in str(caught.value)
    assert not out.exists()


def test_a_missing_decisions_file_is_a_usage_error_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "consensus.yaml"
    run = ekb("reconcile", A, B, "--decisions", tmp_path / "nowhere.yaml", "-o", out)
    assert run.returncode == 2
    assert "nowhere.yaml: no such decisions file" in run.stderr
    assert not out.exists()


def test_a_decision_may_set_an_agreed_answer_the_consensus_no_longer_asks(tmp_path: Path) -> None:
    # a: 2.1 Y, 2.2 N, 2.3 N; b: 2.1 N, 2.2 Y, 2.3 N: both answered 2.3 (asked of each).
    # Taking b's 2.1 N and a's 2.2 N leaves 2.3 not asked, so the agreed N must become NA.
    answers = yaml.safe_load(A.read_text(encoding="utf-8"))["answers"]
    fa = _form(tmp_path, "a.yaml", A, answers={**answers, "2.1": "Y", "2.3": "N"})
    fb = _form(tmp_path, "b.yaml", A, answers={**answers, "2.2": "Y", "2.3": "N"})
    decisions = {
        "adjudicated_by": "synthetic adjudicator",
        "decisions": {
            "answers[2.1]": {"take": "b", "reason": "synthetic"},
            "answers[2.2]": {"take": "a", "reason": "synthetic"},
        },
    }
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    out = tmp_path / "c.yaml"
    with pytest.raises(CheckFailed) as caught:
        reconcile_files(str(fa), str(fb), path, out)
    assert "answers.2.3: not asked given the earlier answers" in str(caught.value)
    assert "a decision may also set an answer both assessors agreed on" in str(caught.value)
    decisions["decisions"]["answers[2.3]"] = {"value": "NA", "reason": "synthetic: not asked"}
    path.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    result = reconcile_files(str(fa), str(fb), path, out)
    consensus = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert consensus["answers"]["2.3"] == "NA"
    entry = consensus["reconciliation"]["decisions"][-1]
    assert entry["path"] == "answers[2.3]" and entry["take"] == "new"
    assert [c["value"] for c in entry["candidates"]] == ["N", "N"]
    assert result.decided == 3


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> dict[str, Path]:
    """The consensus of the two synthetic forms, stored in the synthetic review."""
    root = tmp_path_factory.mktemp("rob-reconciled")
    consensus = root / "consensus.yaml"
    run = ekb("reconcile", A, B, "--decisions", DECISIONS, "-o", consensus)
    assert run.returncode == 0, run.stderr
    assert "consensus of rob2 (assignment) assessment of synthetic-trial-b for crr" in run.stderr
    assert "6 decisions recorded" in run.stderr
    kb = root / "kb"
    for args in (
        ("init", kb),
        ("add", *sorted((SOF / "studies").glob("*.yaml")), "--kb", kb),
        ("review", "add", SOF / "review.yaml", "--kb", kb),
        ("rob", "add", consensus, "--review", "synthetic-review", "--kb", kb),
    ):
        run = ekb(*args)
        assert run.returncode == 0, run.stderr
    return {"consensus": consensus, "kb": kb, "review": kb / "reviews" / "synthetic-review.ttl"}


def test_the_consensus_passes_rob_check_with_the_decided_answers(stored) -> None:
    assessment = assess_file(stored["consensus"])
    data = yaml.safe_load(stored["consensus"].read_text(encoding="utf-8"))
    assert data["answers"]["1.2"] == {
        "answer": "PY",
        "support": "synthetic: central telephone randomisation",
    }
    assert data["answers"]["2.1"] == "N" and "2.3" not in data["answers"]
    assert data["answers"]["4.3"]["support"] == "synthetic: outcome assessors were blinded"
    assert data["assessor"] == "assessor 1 (synthetic); assessor 2 (synthetic)"
    assert data["date"] == "2026-12-02"  # the later of the two assessments
    # RoB 2's rules on the consensus answers: D1 1.1 Y, 1.2 PY, 1.3 N -> low; D5 low by
    # rule, overridden to some concerns; overall: no high, one some concerns -> some concerns
    assert assessment.domains["D1"].final == "low"
    assert assessment.domains["D5"].proposed == "low"
    assert assessment.domains["D5"].final == "some concerns"
    assert assessment.overall.final == "some concerns"
    assert ekb("rob", "check", stored["consensus"]).returncode == 0


def test_the_review_file_records_every_decision_with_its_candidates(stored) -> None:
    g = Graph().parse(stored["review"], format="turtle")
    node = URIRef(NODE)
    recon = g.value(node, EKB.hasReconciliation)
    assert recon == URIRef(f"{NODE}/reconciliation")
    assert g.value(recon, EKB.adjudicatedBy) == Literal("adjudicator C (synthetic test label)")
    assert str(g.value(recon, EKB.adjudicatedOn)) == "2026-12-03"
    extractions = set(g.objects(recon, EKB.hasExtraction))
    assert {str(g.value(x, EKB.extractor)) for x in extractions} == {
        "assessor 1 (synthetic)",
        "assessor 2 (synthetic)",
    }
    decisions = {str(g.value(d, EKB.fieldPath)): d for d in g.objects(recon, EKB.hasDecision)}
    assert sorted(decisions) == sorted(
        p for p, *_ in PLANTED if not p.startswith(("proposed", "final"))
    )
    for d in decisions.values():
        assert set(g.objects(d, PROV.wasDerivedFrom)) == extractions
        assert len(set(g.objects(d, EKB.hasCandidate))) == 2
        assert g.value(d, EKB.rationale) is not None
    d1 = decisions["answers[1.2]"]
    assert str(g.value(d1, EKB.chosenSource)) == "b" and str(g.value(d1, EKB.chosenValue)) == "PY"
    assert g.value(d1, EKB.decidedRecord) == URIRef(f"{NODE}/answer/1.2")
    assert g.value(d1, EKB.decidedProperty) == EKB.response
    candidates = {
        str(g.value(g.value(c, EKB.fromExtraction), EKB.extractor)): (
            str(g.value(c, EKB.candidateValue)),
            str(g.value(c, EKB.extractor)),
            str(g.value(c, EKB.extractionDate)),
        )
        for c in g.objects(d1, EKB.hasCandidate)
    }
    assert candidates == {
        "assessor 1 (synthetic)": ("NI", "assessor 1 (synthetic)", "2026-12-01"),
        "assessor 2 (synthetic)": ("PY", "assessor 2 (synthetic)", "2026-12-02"),
    }
    # a decision that left the answer blank points at no stored answer; b's candidate has it
    d5 = decisions["answers[2.3]"]
    assert g.value(d5, EKB.decidedRecord) is None and g.value(d5, EKB.chosenValue) is None
    values = {str(g.value(c, EKB.candidateValue)) for c in g.objects(d5, EKB.hasCandidate)}
    assert values == {"N", "None"}
    over = decisions["overrides[D5]"]
    assert g.value(over, EKB.decidedRecord) == URIRef(f"{NODE}/judgement/D5")
    assert g.value(over, EKB.decidedProperty) == EKB.judgement


def test_the_stored_consensus_validates_and_is_judged_again_from_its_answers(stored) -> None:
    assert ekb("validate", "--kb", stored["kb"]).returncode == 0
    run = ekb("rob", "show", "synthetic-review", "--kb", stored["kb"], "-f", "json")
    assert run.returncode == 0, run.stderr
    import json

    [shown] = json.loads(run.stdout)
    assert shown["domains"]["D1"] == "low" and shown["overall"] == "some concerns"
    assert shown["overrides"]["D5"]["final"] == "some concerns"
    assert shown["reconciliation"]["adjudicated_by"] == "adjudicator C (synthetic test label)"
    assert [d["path"] for d in shown["reconciliation"]["decisions"]][:2] == [
        "answers[1.2]",
        "answers[1.2].support",
    ]
    table = ekb("rob", "show", "synthetic-review", "--kb", stored["kb"]).stdout
    assert (
        "reconciled: consensus of assessor 1 (synthetic); assessor 2 (synthetic); 6 decisions"
        in table
    )
    assert "  answers[1.2]: took b, PY — synthetic: the methods describe" in table


def test_the_stored_reconciliation_reads_back_as_the_consensus_form_wrote_it(stored) -> None:
    from kb.rob.store import form_from_graph

    g = Graph().parse(stored["review"], format="turtle")
    form = form_from_graph(g, URIRef(NODE))
    written = yaml.safe_load(stored["consensus"].read_text(encoding="utf-8"))
    assert form["reconciliation"] == written["reconciliation"]
    assert form["answers"] == written["answers"]


def test_the_reconciliation_shapes_run_on_review_files(stored, tmp_path: Path) -> None:
    from kb.sysreview.validate import validate_review_text

    text = stored["review"].read_text(encoding="utf-8")
    g = Graph().parse(data=text, format="turtle")
    d1 = URIRef(f"{NODE}/reconciliation/decision/d1")
    g.remove((d1, EKB.rationale, None))  # ekb:RationaleShape
    g.remove((d1, EKB.chosenSource, None))
    g.add((d1, EKB.chosenSource, Literal("c")))  # ekb:ChosenSourceShape
    x = URIRef(f"{NODE}/reconciliation/extraction/a")
    g.remove((x, EKB.extractionDate, None))
    g.add((x, EKB.extractionDate, Literal("2026-12-01")))  # ekb:ExtractionDateShape
    report = validate_review_text(g.serialize(format="turtle"), stored["kb"], display="broken")
    shapes = {f.row()[-1] for f in report.findings if f.row()[0] == "Violation"}
    found = " ".join(" ".join(map(str, f.row())) for f in report.findings)
    for shape in ("RationaleShape", "ChosenSourceShape", "ExtractionDateShape"):
        assert shape in found, (shape, shapes)


def test_rob_check_names_a_malformed_reconciliation_part(stored) -> None:
    data = yaml.safe_load(stored["consensus"].read_text(encoding="utf-8"))
    del data["reconciliation"]["decisions"][0]["reason"]
    data["reconciliation"]["decisions"][1]["path"] = "answer[1.2]"
    data["reconciliation"]["decisions"][2]["candidates"][0]["extraction"] = "c"
    with pytest.raises(RobFormError) as caught:
        assess(data, "consensus.yaml")
    problems = caught.value.problems
    assert "reconciliation.decisions.0.reason: required" in problems
    assert (
        "reconciliation.decisions.1.path: 'answer[1.2]' is not a field of a risk-of-bias form"
        in problems
    )
    assert any(
        p.startswith("reconciliation.decisions.2.candidates.0.extraction: no") for p in problems
    )


def test_robins_i_forms_compare_answers_the_reviewers_judgements_and_overall(
    tmp_path: Path,
) -> None:
    base = HERE / "rob" / "synthetic-robins-cohort-f.yaml"
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    other = _form(
        tmp_path,
        "f2.yaml",
        base,
        assessor="synthetic 2",
        answers={**data["answers"], "1.3": "Y"},
        judgements={**data["judgements"], "D4": {"judgement": "serious", "support": "synthetic"}},
        overrides={"overall": {"judgement": "critical", "justification": "synthetic"}},
    )
    got = [(d.path, d.a, d.b, d.kind) for d in diff(str(base), str(other)).differences]
    assert got == [
        ("answers[1.3]", "N", "Y", "value"),
        ("judgements[D4]", "moderate", "serious", "value"),
        ("overrides[overall]", None, "critical (synthetic)", "only-b"),
        ("judgements[D4].support", None, "synthetic", "only-b"),
        # ROBINS-I V2 overall: the worst domain (O.M: moderate; O.S: serious)
        ("proposed[overall]", "moderate", "serious", "derived"),
        ("final[overall]", "moderate", "critical", "derived"),
    ]
    decisions = tmp_path / "d.yaml"
    decisions.write_text(
        yaml.safe_dump(
            {
                "adjudicated_by": "synthetic adjudicator",
                "decisions": {
                    "answers[1.3]": {"take": "a", "reason": "synthetic"},
                    "judgements[D4]": {"value": "low", "reason": "synthetic"},
                    "judgements[D4].support": {"take": "b", "reason": "synthetic"},
                    "overrides[overall]": {"take": "a", "reason": "synthetic"},
                },
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "c.yaml"
    result = reconcile_files(str(base), str(other), decisions, out)
    assert result.decided == 4
    judged = assess_file(out)
    assert judged.domains["D4"].final == "low"
    # every domain low or low-except-confounding (D1) -> O.L
    assert judged.overall.final == "low-except-confounding"


def test_one_assessor_could_not_assess_is_structural_and_one_decision_takes_a_whole_form(
    tmp_path: Path,
) -> None:
    na = _form(
        tmp_path, "na.yaml", A, answers=None, not_assessed="synthetic: full text not available"
    )
    comparison = diff(str(na), str(B))
    assert [(d.path, d.kind) for d in comparison.differences] == [("not_assessed", "structure")]
    assert "1 disagreement to decide (1 structural, 0 values" in diff_text(comparison)
    decisions = tmp_path / "d.yaml"
    for take, overall in (("a", "not assessed"), ("b", "some concerns")):
        decisions.write_text(
            yaml.safe_dump(
                {
                    "adjudicated_by": "synthetic adjudicator",
                    "decisions": {"not_assessed": {"take": take, "reason": "synthetic"}},
                }
            ),
            encoding="utf-8",
        )
        out = tmp_path / f"c-{take}.yaml"
        reconcile_files(str(na), str(B), decisions, out)
        judged = assess_file(out)
        assert judged.overall.final == overall
        assert (judged.not_assessed is None) == (take == "b")
    decisions.write_text(
        yaml.safe_dump(
            {
                "adjudicated_by": "synthetic adjudicator",
                "decisions": {"not_assessed": {"value": "no reason", "reason": "synthetic"}},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(CheckFailed, match="take: a or b \\(one whole form\\), not a new value"):
        reconcile_files(str(na), str(B), decisions, tmp_path / "x.yaml")
    assert not (tmp_path / "x.yaml").exists()
