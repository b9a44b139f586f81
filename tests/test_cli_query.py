"""`ekb queries | query | sparql | stats` through CliRunner, on a KB holding only the pilot."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.paths import shipped_kb_dir

EKB = "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>\n"
PILOT = shipped_kb_dir() / "studies" / "il2-refractory-ln-2021.ttl"
SOURCE_PLS = "https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021/source/pls"


@pytest.fixture(scope="module")
def pilot_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("pilot-kb")
    (kb / "studies").mkdir()
    shutil.copy(PILOT, kb / "studies" / PILOT.name)
    return kb


def ekb(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_evidence_map_for_lupus_lists_low_dose_il2_with_one_study_of_ten(pilot_kb: Path) -> None:
    code, out, _ = ekb(
        "query", "evidence-map", "-p", "condition=lupus", "-f", "json", "--kb", str(pilot_kb)
    )
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 1
    row = rows[0]
    assert row["intervention"] == "https://w3id.org/evidence-kb/vocab/agent/low-dose-interleukin-2"
    assert row["intervention_label"] == "low-dose interleukin-2"
    assert row["condition_label"] == "refractory lupus nephritis"  # found through narrower concepts
    assert row["studies"] == 1
    assert row["participants"] == 10
    assert row["best_design"] == "single-arm trial"
    assert row["best_design_rank"] == 2
    assert row["blinding"] == "open label"
    assert row["certainty"] == "very low"
    assert row["study_ids"] == "il2-refractory-ln-2021"


def test_outcome_results_for_proteinuria_show_7_of_10_and_minus_50_3_with_their_source(
    pilot_kb: Path,
) -> None:
    code, out, _ = ekb(
        "query", "outcome-results", "-p", "outcome=proteinuria", "-f", "json", "--kb", str(pilot_kb)
    )
    assert code == 0
    rows = json.loads(out)
    binary = [r for r in rows if r["events"] is not None]
    change = [r for r in rows if r["percent_change"] is not None]
    assert [(r["events"], r["total"]) for r in binary] == [(7, 10)]
    assert [r["percent_change"] for r in change] == [-50.3]
    for row in binary + change:
        assert row["source"] == SOURCE_PLS
        assert row["source_type"] == "plain-language summary"
        assert row["printed_text"] and row["locator"]
        assert "single arm" in row["caveats"] and "open label" in row["caveats"]


def test_outcome_results_as_a_table_show_the_numbers_and_the_shortened_source(
    pilot_kb: Path,
) -> None:
    code, out, _ = ekb(
        "query", "outcome-results", "-p", "outcome=proteinuria", "--kb", str(pilot_kb)
    )
    assert code == 0
    assert "study/il2-refractory-ln-2021/source/pls" in out
    assert " -50.3 " in out and " 7 " in out and " 10 " in out


def test_csv_output_keeps_the_negative_number(pilot_kb: Path) -> None:
    code, out, _ = ekb(
        "query", "outcome-results", "-p", "outcome=proteinuria", "-f", "csv", "--kb", str(pilot_kb)
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "-50.3" in [r["percent_change"] for r in rows]


def test_output_file_is_written_and_stdout_stays_empty(pilot_kb: Path, tmp_path: Path) -> None:
    target = tmp_path / "map.md"
    code, out, _ = ekb(
        "query",
        "evidence-map",
        "-p",
        "condition=SLE",
        "-f",
        "md",
        "-o",
        str(target),
        "--kb",
        str(pilot_kb),
    )
    assert code == 0 and out == ""
    text = target.read_text(encoding="utf-8")
    assert text.startswith("| condition | condition_label |")
    assert "agent:low-dose-interleukin-2" in text


def test_unknown_query_exits_2_and_suggests_the_nearest_name(pilot_kb: Path) -> None:
    code, out, err = ekb("query", "evidnce-map", "--kb", str(pilot_kb))
    assert code == 2 and out == ""
    assert "Did you mean 'evidence-map'?" in err and "Traceback" not in err


def test_unknown_parameter_exits_2_and_suggests_the_nearest_name(pilot_kb: Path) -> None:
    code, _, err = ekb("query", "evidence-map", "-p", "conditon=lupus", "--kb", str(pilot_kb))
    assert code == 2
    assert "Did you mean 'condition'?" in err


def test_missing_required_parameter_exits_2(pilot_kb: Path) -> None:
    code, _, err = ekb("query", "outcome-results", "--kb", str(pilot_kb))
    assert code == 2 and "needs -p outcome=VALUE" in err


@pytest.mark.parametrize("pair", ["condition", "=lupus"])
def test_a_parameter_without_name_and_value_exits_2(pilot_kb: Path, pair: str) -> None:
    code, _, err = ekb("query", "evidence-map", "-p", pair, "--kb", str(pilot_kb))
    assert code == 2 and "NAME=VALUE" in err


def test_an_unknown_concept_exits_2_with_the_nearest_labels(pilot_kb: Path) -> None:
    code, _, err = ekb("query", "evidence-map", "-p", "condition=lupsu", "--kb", str(pilot_kb))
    assert code == 2 and "'lupus'" in err


def test_a_hostile_parameter_value_exits_2_without_running_anything_else(pilot_kb: Path) -> None:
    code, out, err = ekb(
        "query",
        "outcome-results",
        "-p",
        'outcome=proteinuria" } ?s ?p ?o . #',
        "--kb",
        str(pilot_kb),
    )
    assert code == 2 and out == ""
    assert "no outcome called" in err


def test_an_ambiguous_concept_lists_the_candidates(tmp_path: Path) -> None:
    # A KB's own vocabulary gives a second condition the synonym "LN".
    (tmp_path / "studies").mkdir()
    shutil.copy(PILOT, tmp_path / "studies" / PILOT.name)
    (tmp_path / "vocab").mkdir()
    (tmp_path / "vocab" / "extra.ttl").write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://example.org/lichen-nitidus> a skos:Concept ;\n"
        "    skos:inScheme <https://w3id.org/evidence-kb/vocab/condition/> ;\n"
        '    skos:prefLabel "lichen nitidus"@en ; skos:altLabel "LN"@en .\n',
        encoding="utf-8",
    )
    code, out, err = ekb("query", "evidence-map", "-p", "condition=ln", "--kb", str(tmp_path))
    assert code == 2 and out == ""
    assert "ambiguous" in err
    assert "cond:lupus-nephritis" in err and "https://example.org/lichen-nitidus" in err
    code, out, _ = ekb(
        "query",
        "evidence-map",
        "-p",
        "condition=cond:lupus-nephritis",
        "-f",
        "json",
        "--kb",
        str(tmp_path),
    )
    assert code == 0 and len(json.loads(out)) == 1


def test_a_missing_kb_folder_exits_3(tmp_path: Path) -> None:
    code, _, err = ekb("query", "counts", "--kb", str(tmp_path / "nowhere"))
    assert code == 3 and "not a knowledge base folder" in err


def test_queries_lists_every_query_with_its_parameters() -> None:
    code, out, _ = ekb("queries", "-f", "json")
    assert code == 0
    listed = {row["name"]: row for row in json.loads(out)}
    assert {"evidence-map", "outcome-results", "meta-input", "counts"} <= set(listed)
    assert listed["evidence-map"]["params"] == "condition (concept: condition, required)"


def test_queries_name_describes_one_query() -> None:
    code, out, _ = ekb("queries", "meta-input")
    assert code == 0
    assert out.startswith("meta-input: Meta-analysis input in long format")
    assert "outcome (concept: outcome, required)" in out
    assert "Run: ekb query meta-input -p outcome=VALUE" in out


def test_sparql_runs_a_select_on_the_kb(pilot_kb: Path) -> None:
    code, out, _ = ekb(
        "sparql",
        EKB + "SELECT ?n WHERE { ?p ekb:enrolled ?n }",
        "--format",
        "json",
        "--kb",
        str(pilot_kb),
    )
    assert code == 0 and json.loads(out) == [{"n": 10}]


def test_sparql_reads_a_query_file(pilot_kb: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text(
        "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>\nASK { ?r ekb:events 7 }\n",
        encoding="utf-8",
    )
    code, out, _ = ekb("sparql", "-f", str(query), "--format", "jsonl", "--kb", str(pilot_kb))
    assert code == 0 and json.loads(out) == {"result": True}


@pytest.mark.parametrize(
    "update",
    ["INSERT DATA { <http://a> <http://b> <http://c> }", "DELETE WHERE { ?s ?p ?o }", "DROP ALL"],
)
def test_sparql_refuses_updates_with_exit_2(pilot_kb: Path, update: str) -> None:
    code, out, err = ekb("sparql", update, "--kb", str(pilot_kb))
    assert code == 2 and out == "" and "updates are refused" in err


def test_sparql_syntax_error_exits_2(pilot_kb: Path) -> None:
    code, _, err = ekb("sparql", "SELECT ?s WHERE { ?s ?p }", "--kb", str(pilot_kb))
    assert code == 2 and "syntax" in err.lower()


def test_sparql_needs_exactly_one_of_text_and_file(pilot_kb: Path, tmp_path: Path) -> None:
    assert ekb("sparql", "--kb", str(pilot_kb))[0] == 2
    query = tmp_path / "q.rq"
    query.write_text("ASK {}", encoding="utf-8")
    assert ekb("sparql", "ASK {}", "-f", str(query), "--kb", str(pilot_kb))[0] == 2


def test_sparql_unreadable_file_exits_3(pilot_kb: Path, tmp_path: Path) -> None:
    code, _, err = ekb("sparql", "-f", str(tmp_path / "missing.rq"), "--kb", str(pilot_kb))
    assert code == 3 and "cannot read" in err


def test_stats_counts_studies_arms_results_claims_and_triples(pilot_kb: Path) -> None:
    code, out, _ = ekb("stats", "-f", "json", "--kb", str(pilot_kb))
    assert code == 0
    counts = {row["what"]: row["count"] for row in json.loads(out)}
    assert counts["studies"] == 1 and counts["arms"] == 1 and counts["results"] == 7
    assert counts["claims"] >= 1 and counts["triples"] > 1000
    assert list(counts)[:2] == ["studies", "populations"]


def test_lupus_on_the_shipped_kb_reaches_every_lupus_condition() -> None:
    # Stays true as studies are added: every condition is SLE or narrower; the pilot is there.
    code, out, _ = ekb(
        "query",
        "evidence-map",
        "-p",
        "condition=lupus",
        "-f",
        "json",
        "--kb",
        str(shipped_kb_dir()),
    )
    assert code == 0
    rows = json.loads(out)
    assert any(
        r["study_ids"] == "il2-refractory-ln-2021"
        or "il2-refractory-ln-2021" in r["study_ids"].split("; ")
        for r in rows
    )
    assert all(
        r["condition"].startswith("https://w3id.org/evidence-kb/vocab/condition/") for r in rows
    )
    assert all(r["studies"] >= 1 for r in rows)


def test_evidence_map_sums_only_known_enrolment_and_counts_the_studies_without_it(
    tmp_path: Path,
) -> None:
    # A made-up second study (test data only) with no enrolled number.
    (tmp_path / "studies").mkdir()
    shutil.copy(PILOT, tmp_path / "studies" / PILOT.name)
    (tmp_path / "studies" / "test-no-n.ttl").write_text(
        "@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n"
        "@base <https://w3id.org/evidence-kb/resource/> .\n"
        '<study/test-no-n> a ekb:Study ; ekb:studyId "test-no-n" ;\n'
        "  ekb:design <https://w3id.org/evidence-kb/vocab/design/case-series> ;\n"
        "  ekb:hasPopulation <study/test-no-n/population> ; ekb:hasArm <study/test-no-n/arm/a> .\n"
        "<study/test-no-n/population> a ekb:Population ;\n"
        "  ekb:condition\n"
        "  <https://w3id.org/evidence-kb/vocab/condition/refractory-lupus-nephritis> .\n"
        "<study/test-no-n/arm/a> a ekb:Arm ; ekb:receives <study/test-no-n/arm/a/intervention> .\n"
        "<study/test-no-n/arm/a/intervention> a ekb:Intervention ;\n"
        "  ekb:agent <https://w3id.org/evidence-kb/vocab/agent/low-dose-interleukin-2> .\n",
        encoding="utf-8",
    )
    code, out, _ = ekb(
        "query", "evidence-map", "-p", "condition=LN", "-f", "json", "--kb", str(tmp_path)
    )
    assert code == 0
    [row] = json.loads(out)
    assert (row["studies"], row["participants"], row["studies_without_n"]) == (2, 10, 1)
    assert row["best_design"] == "single-arm trial"  # rank 2 beats the case series' 1
    assert set(row["study_ids"].split("; ")) == {"il2-refractory-ln-2021", "test-no-n"}


def _put_graph(oxigraph: object, graph: str, path: Path) -> None:
    import urllib.parse
    import urllib.request

    url = f"{oxigraph.store_url}?graph={urllib.parse.quote(graph, safe='')}"  # type: ignore[attr-defined]
    request = urllib.request.Request(
        url, data=path.read_bytes(), method="POST", headers={"Content-Type": "text/turtle"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        response.read()


def test_canned_queries_give_the_same_rows_on_a_real_oxigraph_endpoint(
    oxigraph: object, pilot_kb: Path
) -> None:
    from kb.store import graph_iri_for, schema_files

    for i, path in enumerate(schema_files(pilot_kb)):
        _put_graph(oxigraph, f"https://w3id.org/evidence-kb/graph/schema/{i}", path)
    study = pilot_kb / "studies" / PILOT.name
    _put_graph(oxigraph, graph_iri_for(study), study)
    endpoint = oxigraph.query_url  # type: ignore[attr-defined]
    for args in (
        ["evidence-map", "-p", "condition=lupus"],
        ["outcome-results", "-p", "outcome=proteinuria"],
        ["meta-input", "-p", "outcome=proteinuria", "-p", "intervention=IL-2"],
        ["pico", "-p", "study=il2-refractory-ln-2021"],
    ):
        local = ekb("query", *args, "-f", "json", "--kb", str(pilot_kb))
        remote = ekb("query", *args, "-f", "json", "--endpoint", endpoint)
        assert remote[0] == 0, remote[2]
        assert json.loads(local[1]), args
        assert json.loads(remote[1]) == json.loads(local[1]), args
