"""``ekb discrepancies``: a publication study against the registry record of its trial.

The registry side is a real record (NCT02210780, imported with ``ekb import ctgov`` into a
temporary knowledge base). The publication side is **synthetic**: study files written
here that report the record's own registered outcome texts with roles, time points and
enrolment changed on purpose (and two outcomes invented for the test, named as such), so
that each kind of discrepancy is present once and known in advance.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kb.cli import cli
from kb.discrepancies import KINDS, similarity
from kb.namespaces import EKB, RES, SRCTYPE, TERM

RECORD = Path(__file__).resolve().parent / "data" / "ctgov" / "registry" / "NCT02210780.json"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def registered() -> dict[str, Any]:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    module: dict[str, Any] = record["protocolSection"]["outcomesModule"]
    return module


def publication(kb: Path, study_id: str, outcomes: list[dict[str, Any]], enrolled: int) -> None:
    """A synthetic publication study of NCT02210780."""
    g = Graph()
    study = URIRef(f"{RES}study/{study_id}")
    source = URIRef(f"{study}/source/paper")
    population = URIRef(f"{study}/population")
    g.add((study, RDF.type, EKB.Study))
    g.add((study, EKB.studyId, Literal(study_id)))
    g.add((study, EKB.title, Literal("Synthetic publication of NCT02210780 (test data)")))
    g.add((study, EKB.registrationId, Literal("NCT02210780")))
    g.add((study, EKB.reportedIn, source))
    g.add((source, RDF.type, EKB.Source))
    g.add((source, EKB.sourceType, SRCTYPE["journal-article"]))
    g.add((study, EKB.hasPopulation, population))
    g.add((population, RDF.type, EKB.Population))
    g.add((population, EKB.enrolled, Literal(enrolled)))
    for i, o in enumerate(outcomes):
        node = URIRef(f"{study}/outcome/o{i}")
        g.add((study, EKB.hasOutcome, node))
        g.add((node, RDF.type, EKB.Outcome))
        g.add((node, RDFS.label, Literal(o["label"])))
        g.add((node, EKB.outcomeRole, TERM[o["role"]]))
        g.add((node, EKB.locator, Literal(f"table {i + 1}")))
        if "weeks" in o:
            g.add((node, EKB.timepointWeeks, Literal(Decimal(o["weeks"]), datatype=XSD.decimal)))
        if "concept" in o:
            g.add((node, EKB.outcomeConcept, o["concept"]))
    g.serialize(kb / "studies" / f"{study_id}.ttl", format="turtle")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("discrepancies") / "kb"
    assert run("init", str(kb)).exit_code == 0
    assert run("import", "ctgov", str(RECORD), "--kb", str(kb)).exit_code == 0
    module = registered()
    primary, secondary = module["primaryOutcomes"], module["secondaryOutcomes"]
    imported = Graph().parse(kb / "studies" / "nct02210780.ttl", format="turtle")
    iga = secondary[2]["measure"]
    iga_node = next(imported.subjects(RDFS.label, Literal(iga)))
    publication(
        kb,
        "synthetic-publication-a",
        [
            # the registered secondary IGA outcome, published as primary, by its concept
            # under a label of the paper's own
            {
                "label": "IGA 0/1 response",
                "role": "primary",
                "weeks": 16,
                "concept": imported.value(iga_node, EKB.outcomeConcept),
            },
            {"label": primary[0]["measure"], "role": "secondary", "weeks": 16},
            {"label": "Serum IgE concentration (invented for this test)", "role": "primary"},
            {"label": secondary[4]["measure"], "role": "secondary", "weeks": 12},
            {"label": "Sleep quality score (invented for this test)", "role": "secondary"},
        ],
        enrolled=190,
    )
    publication(
        kb,
        "synthetic-publication-b",
        [{"label": secondary[3]["measure"], "role": "secondary", "weeks": 16}],
        enrolled=194,
    )
    return kb


def kinds(result: Any) -> list[str]:
    return [d["kind"] for d in json.loads(result.stdout)]


def test_each_kind_is_reported_with_both_sides_and_its_basis(kb: Path) -> None:
    result = run("discrepancies", "synthetic-publication-a", "-f", "json", "--kb", str(kb))
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in found:
        assert set(d) == {"kind", "registered", "published", "basis"}
        by_kind.setdefault(d["kind"], []).append(d)
    module = registered()
    primary, secondary = module["primaryOutcomes"], module["secondaryOutcomes"]
    (switched_up,) = by_kind["secondary_to_primary"]
    assert switched_up["registered"]["label"] == secondary[2]["measure"]
    assert switched_up["registered"]["role"] == "secondary"
    assert switched_up["published"]["label"] == "IGA 0/1 response"
    assert switched_up["basis"]["method"] == "outcome concept"
    (switched_down,) = by_kind["primary_to_secondary"]
    assert switched_down["registered"]["label"] == primary[0]["measure"]
    assert switched_down["registered"]["locator"] == (
        "protocolSection.outcomesModule.primaryOutcomes[0]"
    )
    assert switched_down["basis"]["method"] == "text similarity"
    assert switched_down["basis"]["score"] == 1.0
    (new,) = by_kind["new_primary"]
    assert new["registered"] is None and new["published"]["label"].startswith("Serum IgE")
    assert new["basis"]["method"] == "no match"
    assert new["basis"]["best_score"] < new["basis"]["threshold"]
    (later,) = by_kind["timeframe_changed"]
    assert later["registered"]["label"] == secondary[4]["measure"]
    assert (later["basis"]["registered_weeks"], later["basis"]["published_weeks"]) == (16.0, 12.0)
    (added,) = by_kind["outcome_added"]
    assert added["published"]["label"].startswith("Sleep quality")
    # Registered secondaries the paper does not report: all but the two it does.
    omitted = {d["registered"]["label"] for d in by_kind["outcome_omitted"]}
    assert omitted == {o["measure"] for o in secondary} - {
        secondary[2]["measure"],
        secondary[4]["measure"],
    }
    assert len(by_kind["enrollment_changed"]) == 1  # its content: the next test


def test_enrolment_change_names_the_registry_enrolment_type(kb: Path) -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    info = record["protocolSection"]["designModule"]["enrollmentInfo"]
    result = run("discrepancies", "synthetic-publication-a", "-f", "json", "--kb", str(kb))
    (enrolment,) = [d for d in json.loads(result.stdout) if d["kind"] == "enrollment_changed"]
    assert enrolment["registered"]["enrolment"] == info["count"]
    assert enrolment["registered"]["enrolment_type"] == info["type"]
    assert enrolment["published"]["enrolled"] == 190
    assert enrolment["basis"]["difference"] == 190 - info["count"]


def test_a_registered_primary_not_reported_is_primary_omitted(kb: Path) -> None:
    result = run(
        "discrepancies", "synthetic-publication-b", "nct02210780", "-f", "json", "--kb", str(kb)
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    (omitted,) = [d for d in found if d["kind"] == "primary_omitted"]
    assert omitted["registered"]["label"] == registered()["primaryOutcomes"][0]["measure"]
    assert "enrollment_changed" not in kinds(result)  # 194 on both sides


def test_the_text_report_names_each_kind_and_basis(kb: Path) -> None:
    result = run("discrepancies", "synthetic-publication-a", "--kb", str(kb))
    assert result.exit_code == 0
    assert result.stdout.startswith("synthetic-publication-a vs registry record nct02210780: ")
    for kind in KINDS:
        if kind != "primary_omitted":
            assert f"\n{kind} " in result.stdout, kind
    assert "basis: outcome concept 1.0" in result.stdout


def test_the_kb_report_counts_each_kind_per_study(kb: Path) -> None:
    result = run("discrepancies", "--all", "-f", "json", "--kb", str(kb))
    assert result.exit_code == 0, result.output
    rows = {r["study_id"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"synthetic-publication-a", "synthetic-publication-b"}
    a = rows["synthetic-publication-a"]
    assert a["registry_study_id"] == "nct02210780"
    assert (a["new_primary"], a["secondary_to_primary"], a["primary_omitted"]) == (1, 1, 0)
    assert rows["synthetic-publication-b"]["primary_omitted"] == 1
    # Which studies have a registry record: the canned query behind the report.
    links = run("query", "registry-links", "-f", "json", "--kb", str(kb))
    assert links.exit_code == 0
    by_study = {r["study_id"]: r for r in json.loads(links.stdout)}
    assert by_study["synthetic-publication-a"]["registry_study_id"] == "nct02210780"
    assert by_study["nct02210780"]["is_registry_record"] in (True, "true")


def test_unknown_study_or_missing_registry_record_is_a_usage_error(kb: Path) -> None:
    result = run("discrepancies", "no-such-study", "--kb", str(kb))
    assert result.exit_code == 2 and "no study 'no-such-study'" in result.stderr
    shipped = run("discrepancies", "tulip2-morand-2020")
    assert shipped.exit_code == 2
    assert "no registry record of NCT02446899 in the knowledge base" in shipped.stderr
    itself = run("discrepancies", "nct02210780", "--kb", str(kb))
    assert itself.exit_code == 2 and "is itself a registry record" in itself.stderr
    assert "Traceback" not in result.output + shipped.output + itself.output


def test_similarity_ignores_case_punctuation_and_word_order() -> None:
    assert similarity("EASI-75 response at Week 16", "at week 16: easi 75 response") == 1.0
    assert similarity("EASI-75 response", "Serum IgE") < 0.5


def test_the_text_basis_of_an_unmatched_outcome_says_why_it_is_unmatched() -> None:
    from kb.discrepancies import Discrepancy, describe

    side = {"role": "primary", "label": "synthetic outcome", "locator": "x", "outcome": "o"}

    def basis(**b: Any) -> str:
        d = Discrepancy("omitted", side, None, {"method": "no match", **b})
        return describe(d).split("basis: ", 1)[1]

    assert basis(best_score=0.41, threshold=0.75) == "no match (best 0.41 below 0.75)"
    # Outcomes pair one to one: a close candidate can be taken by a closer outcome.
    assert basis(best_score=0.992, threshold=0.75) == (
        "no match (best 0.992, matched to another outcome)"
    )
    assert basis(best_score=None, threshold=0.75) == "no match (nothing to compare with)"
