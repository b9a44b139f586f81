"""Double extraction: ``ekb diff``, ``ekb diff --summary`` and ``ekb reconcile``.

The fixtures are two extractions of the shipped REGENCY study: ``regency-a.yaml`` holds
the shipped study file's values (only the extractor's name and date are a synthetic
label); ``regency-b.yaml`` is SYNTHETIC, made from it by planting disagreements (listed
in its header). The consensus is only ever written to temporary folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from kb import paths
from kb.kbdir import load_study_graph
from kb.reconciliation import cohen_kappa

DATA = Path(__file__).parent / "data" / "double"
A = DATA / "regency-a.yaml"
B = DATA / "regency-b.yaml"
DECISIONS = DATA / "regency-decisions.yaml"
STUDY = "regency-furie-2025"
EKB = Namespace("https://w3id.org/evidence-kb/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
RDF_TYPE = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: What the planted disagreements must produce, in report order (path, kind).
PLANTED = [
    ("results", "structure"),  # a 6, b 7
    ("comparisons", "structure"),  # a 3, b 2
    ("timepoints (weeks)", "structure"),
    ("results[crr-w52-pbo]", "structure"),
    ("comparisons[upcr-below-08-w76]", "structure"),
    ("arms[placebo].n", "value"),
    ("outcomes[crr-w76].role", "value"),
    ("results[crr-w76-obinutuzumab].percent", "value"),
    ("comparisons[crr-w76].ci_upper", "value"),
    ("comparisons[crr-low-steroid-w76].p_value", "only-a"),
    ("arms[obinutuzumab].interventions[0].route", "only-b"),
    ("arms[placebo]", "renamed"),
]


def ekb(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("ekb")), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


# ---------------------------------------------------------------------------
# Cohen's kappa


def test_kappa_matches_a_hand_computed_example() -> None:
    # Ten studies' designs rated by two extractors (x = RCT, y = cohort, z = case series):
    #   a: x x x x x y y y z z
    #   b: x x x x y y y z z z
    # observed agreement p_o = 8/10 (items 5 and 8 differ)
    # a's marginals x 5, y 3, z 2; b's x 4, y 3, z 3
    # chance agreement p_e = (5*4 + 3*3 + 2*3) / 10^2 = 35/100
    # kappa = (0.80 - 0.35) / (1 - 0.35) = 0.45 / 0.65 = 9/13
    a = list("xxxxxyyyzz")
    b = list("xxxxyyyzzz")
    assert cohen_kappa(a, b) == pytest.approx(float(Fraction(9, 13)), abs=1e-12)
    assert cohen_kappa(a, a) == 1.0
    # both raters always "x": chance agreement is 1, kappa undefined
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None
    # complete disagreement on two categories used equally: kappa -1
    assert cohen_kappa(["x", "y"], ["y", "x"]) == -1.0


def test_kappa_agrees_with_scikit_learn_when_it_is_installed() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")  # not a dependency: skip if absent
    a, b = list("xxxxxyyyzzxy"), list("xxxxyyyzzzyy")
    assert cohen_kappa(a, b) == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b))


# ---------------------------------------------------------------------------
# ekb diff


@pytest.fixture(scope="module")
def diff_json() -> tuple[int, list[dict]]:
    result = ekb("diff", str(A), str(B), "-f", "json")
    return result.returncode, json.loads(result.stdout)


def test_diff_reports_every_planted_disagreement_in_order(diff_json) -> None:
    code, differences = diff_json
    assert code == 1
    assert [(d["path"], d["kind"]) for d in differences] == PLANTED
    by_path = {d["path"]: d for d in differences}
    assert by_path["arms[placebo].n"] == {
        "path": "arms[placebo].n",
        "a": 136,
        "b": 163,
        "kind": "value",
    }
    assert by_path["results"]["a"] == 6 and by_path["results"]["b"] == 7
    assert by_path["timepoints (weeks)"] == {
        "path": "timepoints (weeks)",
        "a": [76],
        "b": [52, 76],
        "kind": "structure",
    }
    assert by_path["comparisons[crr-low-steroid-w76].p_value"]["b"] is None
    assert by_path["arms[obinutuzumab].interventions[0].route"]["a"] is None
    assert by_path["arms[placebo]"]["b"] == "pbo"


def test_diff_normalises_case_spacing_numbers_and_levels(diff_json) -> None:
    # b writes "Randomised   controlled TRIAL", n 135.0, ci_level 95 and percent 42.70
    _, differences = diff_json
    paths_reported = {d["path"] for d in differences}
    for path in (
        "study.design",
        "arms[obinutuzumab].n",
        "comparisons[crr-low-steroid-w76].ci_level",
        "results[crr-low-steroid-w76-obinutuzumab].percent",
    ):
        assert path not in paths_reported
    # ... and extractor names and dates, which always differ, are not compared
    assert not any("extracted_" in p for p in paths_reported)


def test_diff_text_lists_structure_first_and_counts_the_decisions() -> None:
    result = ekb("diff", str(A), str(B))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[2].startswith(
        f"study {STUDY}: 8 disagreements to decide (2 structural, 4 values, 2 filled by one only)"
    )
    headings = [line for line in lines[3:] if not line.startswith("  ")]
    assert headings == [
        "Structure",
        "Values",
        "Filled by one extractor only",
        "Renamed (matched by content; the consensus keeps a's key)",
    ]
    assert "  arms[placebo].n: a 136, b 163" in lines


def test_a_form_a_turtle_file_and_a_study_id_of_the_same_extraction_agree() -> None:
    shipped = paths.shipped_kb_dir() / "studies" / f"{STUDY}.ttl"
    for a, b in ((str(A), STUDY), (str(shipped), STUDY)):
        result = ekb("diff", a, b)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"study {STUDY}: the two extractions agree" in result.stdout


def test_two_extractions_of_different_studies_are_a_usage_error() -> None:
    result = ekb("diff", str(A), "aurora1-rovin-2021")
    assert result.returncode == 2
    assert "different" not in result.stdout
    assert f"{A} is study '{STUDY}' but aurora1-rovin-2021 is study 'aurora1-rovin-2021'" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------
# ekb diff --summary


def test_summary_gives_agreement_and_kappa_per_field(tmp_path: Path) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    (dir_a / A.name).write_bytes(A.read_bytes())
    (dir_b / B.name).write_bytes(B.read_bytes())
    shipped = paths.shipped_kb_dir() / "studies" / "aurora1-rovin-2021.ttl"
    (dir_a / shipped.name).write_bytes(shipped.read_bytes())  # only in a: not compared
    result = ekb("diff", "--summary", str(dir_a), str(dir_b), "-f", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["studies"] == [STUDY]
    assert summary["only_in_a"] == ["aurora1-rovin-2021"]
    assert summary["records_only_one_extractor_has"] == 2
    fields = {f["field"]: f for f in summary["fields"]}
    # outcome roles: a (key secondary, primary, key secondary), b key secondary x3:
    # p_o = 2/3; p_e = (2*3 + 1*0) / 9 = 2/3; kappa = 0 (no better than chance)
    role = fields["outcomes[].role"]
    assert (role["compared"], role["agreed"], role["percent_agreement"]) == (3, 2, 66.7)
    assert role["kappa"] == 0.0
    # arm roles agree (2 categories, one arm each): p_o = 1, p_e = 1/2, kappa = 1
    assert fields["arms[].role"]["kappa"] == 1.0
    # a number is not categorical: agreement only
    n = fields["arms[].n"]
    assert (n["compared"], n["agreed"], n["kappa"]) == (2, 1, None)
    # filled by one only is counted apart, not as a disagreement
    p_value = fields["comparisons[].p_value"]
    assert (p_value["compared"], p_value["filled_by_one_only"]) == (1, 1)
    # the design is the same single category on both sides: kappa undefined
    assert fields["study.design"]["kappa"] is None
    text = ekb("diff", "--summary", str(dir_a), str(dir_b)).stdout
    assert "only in the first (not compared): aurora1-rovin-2021" in text
    role_line = next(line for line in text.splitlines() if line.startswith("outcomes[].role"))
    assert role_line.split()[2:] == ["3", "2", "66.7%", "0.00", "0"]


# ---------------------------------------------------------------------------
# ekb reconcile


def test_reconcile_refuses_to_finish_while_disagreements_are_undecided(tmp_path: Path) -> None:
    out = tmp_path / "consensus.yaml"
    partial = tmp_path / "decisions.yaml"
    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    del decisions["decisions"]["arms[placebo].n"]
    del decisions["decisions"]["results[crr-w52-pbo]"]
    partial.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    for extra in ([], ["--decisions", str(partial)]):
        result = ekb("reconcile", str(A), str(B), *extra, "-o", str(out))
        assert result.returncode == 1
        assert not out.exists()
    assert "2 disagreements without a decision" in result.stderr
    assert "arms[placebo].n (value): a '136', b '163'" in result.stderr
    assert "results[crr-w52-pbo] (structure)" in result.stderr


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (
            {"arms[placebo].num": {"take": "a", "reason": "typo"}},
            "decisions.arms[placebo].num: not a disagreement between the two extractions; "
            "did you mean 'arms[placebo].n'?",
        ),
        (
            {"arms[placebo].n": {"value": "many", "reason": "?"}},
            "decisions.arms[placebo].n.value: must be a positive integer (got 'many')",
        ),
        (
            {"outcomes[crr-w76].role": {"value": "most important", "reason": "?"}},
            "decisions.outcomes[crr-w76].role.value: ",
        ),
        (
            {"arms[placebo].n": {"take": "c", "reason": "?"}},
            "decisions.arms[placebo].n.take: must be a or b (got 'c')",
        ),
        (
            {"results[crr-w52-pbo]": {"value": 25, "reason": "?"}},
            "decisions.results[crr-w52-pbo]: a whole record is taken from a or b",
        ),
        ({"arms[placebo].n": {"take": "a"}}, "decisions.arms[placebo].n.reason: is required"),
    ],
)
def test_a_bad_decision_is_named_and_nothing_is_written(
    tmp_path: Path, decision: dict, message: str
) -> None:
    from kb.errors import CheckFailed
    from kb.reconciliation import reconcile_files

    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    for path in decision:
        decisions["decisions"].pop(path.replace(".num", ".n"), None)
    decisions["decisions"].update(decision)
    bad = tmp_path / "decisions.yaml"
    bad.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    out = tmp_path / "consensus.yaml"
    with pytest.raises(CheckFailed) as caught:
        reconcile_files(str(A), str(B), bad, out)
    assert message in str(caught.value)
    assert not out.exists()


def test_the_cli_exits_1_on_a_bad_decisions_file_and_writes_nothing(tmp_path: Path) -> None:
    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    decisions["decisions"]["arms[placebo].n"] = {"value": 0, "reason": "?"}
    bad = tmp_path / "decisions.yaml"
    bad.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    out = tmp_path / "consensus.yaml"
    result = ekb("reconcile", str(A), str(B), "--decisions", str(bad), "-o", str(out))
    assert result.returncode == 1
    assert "decisions.arms[placebo].n.value: must be a positive integer (got '0')" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory) -> dict[str, Path]:
    """The consensus of the two extractions, added to a fresh knowledge base."""
    root = tmp_path_factory.mktemp("reconciled")
    consensus = root / "consensus.yaml"
    result = ekb("reconcile", str(A), str(B), "--decisions", str(DECISIONS), "-o", str(consensus))
    assert result.returncode == 0, result.stderr
    assert "8 decisions recorded" in result.stderr
    kb = root / "kb"
    assert ekb("init", str(kb)).returncode == 0
    added = ekb("add", str(consensus), "--kb", str(kb))
    assert added.returncode == 0, added.stderr
    return {"consensus": consensus, "kb": kb, "study": kb / "studies" / f"{STUDY}.ttl"}


def _without_reconciliation(graph: Graph) -> Graph:
    out = Graph()
    for s, p, o in graph:
        if "/reconciliation" in str(s) or "/extraction/" in str(s):
            continue
        if p in (EKB.hasReconciliation, EKB.extractedBy, EKB.extractedOn):
            continue
        out.add((s, p, o))
    return out


def test_the_consensus_holds_the_shipped_values_and_validates(reconciled) -> None:
    consensus = load_study_graph(reconciled["study"])
    shipped = load_study_graph(paths.shipped_kb_dir() / "studies" / f"{STUDY}.ttl")
    # every decision chose the value the shipped file records, so apart from the
    # reconciliation and who extracted, the consensus is the shipped study
    assert isomorphic(_without_reconciliation(consensus), _without_reconciliation(shipped))
    result = ekb("validate", "--kb", str(reconciled["kb"]))
    assert result.returncode == 0, result.stdout + result.stderr
    # agreed records were extracted by both; the record only a had, by a alone
    arm = URIRef(f"https://w3id.org/evidence-kb/resource/study/{STUDY}/arm/obinutuzumab")
    assert str(consensus.value(arm, EKB.extractedBy)) == (
        "extractor A (synthetic test label); extractor B (synthetic)"
    )
    kept = URIRef(
        f"https://w3id.org/evidence-kb/resource/study/{STUDY}/comparison/upcr-below-08-w76"
    )
    assert str(consensus.value(kept, EKB.extractedBy)) == "extractor A (synthetic test label)"


def test_the_study_file_records_every_decision_with_its_candidates(reconciled) -> None:
    g = load_study_graph(reconciled["study"])
    decisions = {str(g.value(d, EKB.fieldPath)): d for d in g.subjects(RDF_TYPE, EKB.FieldDecision)}
    planted = [p for p, kind in PLANTED if kind != "renamed" and "[" in p]
    assert sorted(decisions) == sorted(planted)
    extractions = set(g.subjects(RDF_TYPE, EKB.Extraction))
    assert {str(g.value(x, EKB.extractor)) for x in extractions} == {
        "extractor A (synthetic test label)",
        "extractor B (synthetic)",
    }
    study = URIRef(f"https://w3id.org/evidence-kb/resource/study/{STUDY}")
    recon = g.value(study, EKB.hasReconciliation)
    assert str(g.value(recon, EKB.adjudicatedBy)) == "adjudicator C (synthetic test label)"
    assert g.value(recon, EKB.adjudicatedOn) == Literal(
        "2026-12-03", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")
    )
    for path, d in decisions.items():
        assert set(g.objects(d, PROV.wasDerivedFrom)) == extractions, path
        assert g.value(d, EKB.rationale), path
        candidates = {
            str(g.value(g.value(c, EKB.fromExtraction), EKB.extractor)): c
            for c in g.objects(d, EKB.hasCandidate)
        }
        assert len(candidates) == 2, path
        for c in candidates.values():
            assert g.value(c, EKB.extractionDate) is not None, path

    def candidate(path: str, who: str) -> str | None:
        for c in g.objects(decisions[path], EKB.hasCandidate):
            if str(g.value(g.value(c, EKB.fromExtraction), EKB.extractor)).startswith(who):
                value = g.value(c, EKB.candidateValue)
                return None if value is None else str(value)
        raise AssertionError(path)

    n = decisions["arms[placebo].n"]
    assert (
        candidate("arms[placebo].n", "extractor A"),
        candidate("arms[placebo].n", "extractor B"),
    ) == ("136", "163")
    assert str(g.value(n, EKB.chosenSource)) == "a" and str(g.value(n, EKB.chosenValue)) == "136"
    assert g.value(n, EKB.decidedProperty) == EKB.n
    percent = decisions["results[crr-w76-obinutuzumab].percent"]
    assert str(g.value(percent, EKB.chosenSource)) == "new"
    assert str(g.value(percent, EKB.chosenValue)) == "46.4"
    # a field one extraction left blank: its candidate has no value
    assert candidate("comparisons[crr-low-steroid-w76].p_value", "extractor B") is None
    route = decisions["arms[obinutuzumab].interventions[0].route"]
    assert g.value(route, EKB.chosenValue) is None  # kept blank: the source does not say


def test_the_reconciled_study_round_trips_through_show_and_add(reconciled, tmp_path: Path) -> None:
    shown = ekb("show", STUDY, "--kb", str(reconciled["kb"]))
    assert shown.returncode == 0, shown.stderr
    form = yaml.safe_load(shown.stdout)
    assert form["reconciliation"]["decisions"][0]["candidates"][0]["extraction"] == "a"
    again = tmp_path / "again.yaml"
    again.write_text(shown.stdout, encoding="utf-8")
    kb2 = tmp_path / "kb2"
    assert ekb("init", str(kb2)).returncode == 0
    assert ekb("add", str(again), "--kb", str(kb2)).returncode == 0
    assert isomorphic(
        load_study_graph(reconciled["study"]), load_study_graph(kb2 / "studies" / f"{STUDY}.ttl")
    )


def test_show_exports_and_the_provenance_query_mark_reconciled_values(
    reconciled, tmp_path: Path
) -> None:
    kb = str(reconciled["kb"])
    card = ekb("show", STUDY, "-f", "md", "--kb", kb).stdout
    assert (
        "| placebo | placebo + standard therapy | placebo comparator | 136 (reconciled) |" in card
    )
    assert "## Reconciliation" in card
    assert "| arms[placebo].n | 136 | a | a: 136; b: 163 |" in card
    out = tmp_path / "csv"
    assert ekb("export", "csv", "--kb", kb, "-o", str(out)).returncode == 0
    arms = (out / "arms.csv").read_text(encoding="utf-8")
    placebo = next(line for line in arms.splitlines() if ",placebo," in line)
    assert "reconciled: n" in placebo
    assert "intervention reconciled: route" in (out / "arms.csv").read_text(encoding="utf-8")
    assert "reconciled: ciUpper" in (out / "comparisons.csv").read_text(encoding="utf-8")
    rows = json.loads(
        ekb("query", "provenance", "-p", f"study={STUDY}", "--kb", kb, "-f", "json").stdout
    )
    n_row = next(
        r for r in rows if r["record"].endswith("/arm/placebo") and r["property"].endswith("#n")
    )
    assert n_row["reconciled"].startswith("took a: abstract: 136 randomised to placebo")
    assert n_row["candidates"].split(" | ") == [
        "a: 136 (extractor A (synthetic test label), 2026-12-01)",
        "b: 163 (extractor B (synthetic), 2026-12-02)",
    ]
    unreconciled = next(r for r in rows if r["record"].endswith("/arm/obinutuzumab"))
    assert unreconciled.get("reconciled") in (None, "")


def test_each_reconciliation_datatype_shape_reports_a_wrong_datatype(
    reconciled, tmp_path: Path
) -> None:
    # the shapes test generates these cases for the fixture study's records; the
    # reconciliation records live only here (tests/test_shapes.py RECONCILIATION_...)
    from rdflib.namespace import SH

    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    classes = {EKB.Reconciliation, EKB.Extraction, EKB.FieldDecision, EKB.CandidateValue}
    datatype_shapes = {
        "ekb:" + str(prop).rsplit("#", 1)[-1]
        for parent in shapes.subjects(SH.targetClass, None)
        if set(shapes.objects(parent, SH.targetClass)) & classes
        for prop in shapes.objects(parent, SH.property)
        if (prop, SH.datatype, None) in shapes
    }
    assert len(datatype_shapes) == 7

    g = load_study_graph(reconciled["study"])
    recon = next(g.objects(None, EKB.hasReconciliation))
    extraction = next(g.objects(recon, EKB.hasExtraction))
    decision = next(g.objects(recon, EKB.hasDecision))
    candidate = next(
        c for c in g.objects(decision, EKB.hasCandidate) if (c, EKB.candidateValue, None) in g
    )
    wrong = {
        (recon, EKB.adjudicatedBy): Literal(5),
        (recon, EKB.adjudicatedOn): Literal("soon"),
        (extraction, EKB.extractor): Literal(5),
        (extraction, EKB.extractionDate): Literal("soon"),
        (decision, EKB.fieldPath): Literal(5),
        (decision, EKB.rationale): Literal(5),
        (candidate, EKB.candidateValue): Literal(5),
    }
    for (s, p), value in wrong.items():
        g.set((s, p, value))
    kb = tmp_path / "kb"
    assert ekb("init", str(kb)).returncode == 0
    g.serialize(kb / "studies" / f"{STUDY}.ttl", format="turtle")
    result = ekb("validate", "--kb", str(kb))
    assert result.returncode == 1
    fired = {shape for shape in datatype_shapes if f"[{shape}]" in result.stdout}
    assert fired == datatype_shapes, result.stdout


def _reconciliation_property_shapes(shapes: Graph) -> dict[str, bool]:
    """Each property shape of the reconciliation records -> whether it checks a datatype."""
    from rdflib.namespace import SH

    classes = {EKB.Reconciliation, EKB.Extraction, EKB.FieldDecision, EKB.CandidateValue}
    parents = {
        parent
        for parent in shapes.subjects(SH.targetClass, None)
        if set(shapes.objects(parent, SH.targetClass)) & classes
    } | set(shapes.subjects(SH.targetSubjectsOf, EKB.hasDecision))
    return {
        "ekb:" + str(prop).rsplit("#", 1)[-1]: (prop, SH.datatype, None) in shapes
        for parent in parents
        for prop in shapes.objects(parent, SH.property)
    }


def test_each_other_reconciliation_shape_reports_its_invalid_example(
    reconciled, tmp_path: Path
) -> None:
    # the counts, choices and links of a reconciliation (the datatype shapes are the
    # test above); tests/test_shapes.py counts these shapes as exercised here
    from rdflib import RDF

    shapes = Graph().parse(paths.shapes_file(), format="turtle")
    expected = {
        s for s, datatype in _reconciliation_property_shapes(shapes).items() if not datatype
    }
    assert len(expected) == 7

    g = load_study_graph(reconciled["study"])
    recon = next(g.objects(None, EKB.hasReconciliation))
    decisions = sorted(g.objects(recon, EKB.hasDecision))
    assert len(decisions) >= 3
    first, second, third = decisions[:3]
    g.remove((recon, EKB.hasExtraction, sorted(g.objects(recon, EKB.hasExtraction))[0]))
    g.remove((recon, EKB.adjudicatedBy, None))  # who and when: required once decided
    g.remove((recon, EKB.adjudicatedOn, None))
    g.set((first, EKB.chosenSource, Literal("c")))  # not a, b or new
    g.remove((second, EKB.hasCandidate, sorted(g.objects(second, EKB.hasCandidate))[0]))
    prov_derived = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
    g.remove((third, prov_derived, sorted(g.objects(third, prov_derived))[0]))
    candidate = next(s for s in g.subjects(RDF.type, EKB.CandidateValue))
    g.remove((candidate, EKB.fromExtraction, None))
    kb = tmp_path / "kb"
    assert ekb("init", str(kb)).returncode == 0
    g.serialize(kb / "studies" / f"{STUDY}.ttl", format="turtle")
    result = ekb("validate", "--kb", str(kb))
    assert result.returncode == 1
    fired = {shape for shape in expected if f"[{shape}]" in result.stdout}
    assert fired == expected, result.stdout


def test_a_concept_taken_from_either_side_is_written_as_its_concept_label(tmp_path: Path) -> None:
    # b writes the outcome role in another case and spacing; the diff compares it by the
    # concept it resolves to, and the consensus writes that concept's label, not b's wording
    from kb.reconciliation import load_extraction, reconcile
    from kb.reconciliation.__init__ import _vocab
    from kb.reconciliation.decide import read_decisions

    text = B.read_text(encoding="utf-8")
    planted = "role: key secondary\n  definition: UPCR <0.5"
    assert planted in text
    b = tmp_path / "b.yaml"
    b.write_text(text.replace(planted, planted.replace("key secondary", "KEY   Secondary")))
    decisions = yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))
    decisions["decisions"]["outcomes[crr-w76].role"]["take"] = "b"
    decisions["decisions"]["arms[obinutuzumab].interventions[0].route"]["take"] = "b"
    d = tmp_path / "d.yaml"
    d.write_text(yaml.safe_dump(decisions), encoding="utf-8")
    vocab = _vocab(None)
    result = reconcile(
        load_extraction(str(A), None, vocab),
        load_extraction(str(b), None, vocab),
        read_decisions(d),
        vocab,
    )
    [outcome] = [o for o in result.form["outcomes"] if o["key"] == "crr-w76"]
    assert outcome["role"] == "key secondary"
    [arm] = [x for x in result.form["arms"] if x["key"] == "obinutuzumab"]
    assert arm["interventions"][0]["route"] == "intravenous"
    [entry] = [
        e
        for e in result.form["reconciliation"]["decisions"]
        if e["path"] == "outcomes[crr-w76].role"
    ]
    assert entry["value"] == "key secondary"
    # the candidate keeps what b wrote
    assert [c.get("value") for c in entry["candidates"]] == ["primary", "KEY   Secondary"]


def test_a_missing_decisions_file_is_a_usage_error_and_nothing_is_written(tmp_path: Path) -> None:
    from kb.errors import UsageError
    from kb.reconciliation import reconcile_files

    out = tmp_path / "consensus.yaml"
    with pytest.raises(UsageError, match="nowhere.yaml: no such decisions file"):
        reconcile_files(str(A), str(B), tmp_path / "nowhere.yaml", out)
    assert not out.exists()
