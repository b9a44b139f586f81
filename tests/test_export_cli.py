"""``ekb export`` through the command line, and every format on the full shipped KB
(which grows as studies are added, so these tests check properties, not bytes)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
import rispy
from click.testing import CliRunner
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SKOS

from kb.cli import cli
from kb.export import FORMATS, render
from kb.export.ris import records
from kb.export.tables import extract, select_studies
from kb.paths import shipped_kb_dir, vocab_dir
from kb.store import EmbeddedStore

EKB = Namespace("https://w3id.org/evidence-kb/ontology#")
PILOT_ID = "il2-refractory-ln-2021"


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def pilot_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("pilot-only")
    (kb / "studies").mkdir()
    frozen = Path(__file__).parent / "data" / "golden" / "export" / "pilot-study.ttl"
    shutil.copy(frozen, kb / "studies" / f"{PILOT_ID}.ttl")
    return kb


@pytest.fixture(scope="module")
def shipped():
    store = EmbeddedStore.open_kb(shipped_kb_dir())
    return store, select_studies(store)


@pytest.fixture(scope="module")
def shipped_graph() -> Graph:
    g = Graph()
    for f in sorted((shipped_kb_dir() / "studies").glob("*.ttl")):
        g.parse(f)
    for f in sorted(vocab_dir().glob("*.ttl")):
        g.parse(f)
    return g


def test_unknown_format_exits_2_and_suggests_the_closest() -> None:
    result = run("revmen")
    assert result.exit_code == 2
    assert "Did you mean 'revman'?" in result.output


def test_csv_without_an_output_folder_exits_2(pilot_kb: Path) -> None:
    result = run("csv", "--kb", str(pilot_kb))
    assert result.exit_code == 2
    assert "-o DIR" in result.output


def test_unknown_study_id_exits_2_and_suggests(pilot_kb: Path) -> None:
    result = run("ris", "--kb", str(pilot_kb), "--study", "il2-refractory-ln-2020")
    assert result.exit_code == 2
    assert PILOT_ID in result.output


def test_revman_on_a_single_arm_only_kb_exits_1_and_says_why(pilot_kb: Path) -> None:
    result = run("revman", "--kb", str(pilot_kb))
    assert result.exit_code == 1
    assert "single-arm" in result.output and PILOT_ID in result.output


def test_csv_export_writes_every_table_into_the_folder(pilot_kb: Path, tmp_path: Path) -> None:
    result = run("csv", "--kb", str(pilot_kb), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{t}.csv"
        for t in (
            "characteristics",
            "arms",
            "outcomes",
            "comparisons",
            "safety",
            "claims",
            "sources",
        )
    )


def test_sof_to_an_html_file_writes_html(pilot_kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "sof.html"
    assert run("sof", "--kb", str(pilot_kb), "-o", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_revman_on_the_shipped_kb_lists_the_pilot_as_skipped_and_never_writes_it() -> None:
    result = CliRunner().invoke(cli, ["export", "revman"], catch_exceptions=False)
    if result.exit_code == 1:  # the shipped KB may not yet hold a two-group study with numbers
        assert "single-arm" in result.output or "no two-group" in result.output
        return
    assert result.exit_code == 0
    assert "never given an invented comparator: " in result.stderr and PILOT_ID in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(r["Study ID"] != PILOT_ID for r in rows)
    assert all(r["Control"] for r in rows)


def _narrower_closure(g: Graph, concept: URIRef) -> set[URIRef]:
    found = {concept}
    while True:
        more = {s for s, _, o in g.triples((None, SKOS.broader, None)) if o in found} - found
        if not more:
            return found
        found |= more


def _studies_with(g: Graph, path: list[URIRef], concepts: set[URIRef]) -> set[str]:
    out = set()
    for study in g.subjects(RDF.type, EKB.Study):
        nodes = {study}
        for p in path:
            nodes = {o for n in nodes for o in g.objects(n, p)}
        if nodes & concepts:
            out.add(str(g.value(study, EKB.studyId)))
    return out


def _exported_ids(*args: str) -> set[str]:
    result = CliRunner().invoke(cli, ["export", "ris", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {
        k.split(": ", 1)[1]
        for r in rispy.loads(result.stdout)
        for k in r["keywords"]
        if k.startswith("evidence-kb study: ")
    }


def test_condition_filter_selects_exactly_the_studies_of_that_condition_or_narrower(
    shipped_graph: Graph,
) -> None:
    concepts = _narrower_closure(
        shipped_graph, URIRef("https://w3id.org/evidence-kb/vocab/condition/lupus-nephritis")
    )
    expected = _studies_with(shipped_graph, [EKB.hasPopulation, EKB.condition], concepts)
    assert PILOT_ID in expected
    assert _exported_ids("--condition", "lupus nephritis") == expected


def test_intervention_filter_selects_exactly_the_studies_giving_that_agent(
    shipped_graph: Graph,
) -> None:
    concepts = _narrower_closure(
        shipped_graph, URIRef("https://w3id.org/evidence-kb/vocab/agent/low-dose-interleukin-2")
    )
    expected = _studies_with(shipped_graph, [EKB.hasArm, EKB.receives, EKB.agent], concepts)
    assert PILOT_ID in expected
    assert _exported_ids("--intervention", "agent:low-dose-interleukin-2") == expected


def test_outcome_filter_keeps_only_that_outcome_or_narrower_in_the_outcome_table(
    tmp_path: Path, shipped_graph: Graph
) -> None:
    concepts = _narrower_closure(
        shipped_graph, URIRef("https://w3id.org/evidence-kb/vocab/outcome/proteinuria")
    )
    labels = {str(shipped_graph.value(c, SKOS.prefLabel)) for c in concepts}
    result = run("csv", "--outcome", "outc:proteinuria", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    rows = list(
        csv.DictReader(io.StringIO((tmp_path / "outcomes.csv").read_text(encoding="utf-8")))
    )
    assert rows and {r["outcome_concept"] for r in rows} <= labels
    assert "proteinuria" in {r["outcome_concept"] for r in rows}
    studies = {
        r["study_id"]
        for r in csv.DictReader(
            io.StringIO((tmp_path / "characteristics.csv").read_text(encoding="utf-8"))
        )
    }
    assert studies == _studies_with(shipped_graph, [EKB.hasOutcome, EKB.outcomeConcept], concepts)


def test_study_filter_selects_only_that_study() -> None:
    assert _exported_ids("--study", PILOT_ID) == {PILOT_ID}


def test_every_shipped_outcome_row_has_caveats_and_a_source_type(shipped) -> None:
    data = extract(*shipped)
    for table in (data.outcomes, data.comparisons, data.safety, data.claims):
        for row in table.rows:
            assert row["caveats"], (table.name, row)
            assert row["source_type"], (table.name, row)


def test_shipped_fhir_bundle_validates_against_the_r5_models(shipped) -> None:
    from fhir.resources.bundle import Bundle

    bundle = Bundle.model_validate_json(render("fhir", *shipped).files[""])
    assert len({(e.resource.get_resource_type(), e.resource.id) for e in bundle.entry}) == len(
        bundle.entry
    )


def test_shipped_ris_reads_back_with_rispy_as_the_same_records(shipped) -> None:
    store, sel = shipped
    assert rispy.loads(render("ris", store, sel).files[""].decode()) == records(extract(store, sel))


def test_shipped_turtle_dump_is_isomorphic_to_the_stores_study_graphs(shipped) -> None:
    store, sel = shipped
    dumped = Graph().parse(data=render("ttl", store, sel).files[""].decode(), format="turtle")
    from kb.export.rdf import _plain, study_triples

    expected = Graph()
    for study in sel.studies:
        for t in study_triples(store, study):
            expected.add(tuple(_plain(x) for x in t))
    assert isomorphic(dumped, expected)


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"revman", "csv"}))
def test_every_format_runs_on_the_shipped_kb(fmt: str, shipped, tmp_path: Path) -> None:
    rendered = render(fmt, *shipped, output=tmp_path / f"out.{fmt}")
    assert rendered.files[""]


def _readme_export_python_blocks() -> list[str]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- section: export -->")
    nxt = readme.find("<!-- section:", start + 1)
    section = readme[start : nxt if nxt != -1 else len(readme)]
    return [b.split("```", 1)[0] for b in section.split("```python\n")[1:]]


def test_readme_python_snippet_fits_a_random_effects_model_on_a_fresh_metafor_export(
    tmp_path: Path,
) -> None:
    import contextlib
    import os

    snippet = next(b for b in _readme_export_python_blocks() if "tau2" in b)
    assert run("metafor", "-o", str(tmp_path / "metafor.csv")).exit_code == 0
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with contextlib.redirect_stdout(out):
            exec(compile(snippet, "README-snippet", "exec"), {})
    finally:
        os.chdir(cwd)
    assert out.getvalue().startswith("k=") and "OR " in out.getvalue()


def test_readme_library_example_writes_the_metafor_file(tmp_path: Path, monkeypatch) -> None:
    snippet = next(b for b in _readme_export_python_blocks() if "from kb.export import export" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README-snippet", "exec"), {})
    assert (tmp_path / "metafor.csv").read_text(encoding="utf-8").startswith("study,outcome,")


RDF_DUMPS = ("trig", "ttl", "nt", "jsonld")


def _dumps_in_a_fresh_process(tmp_path: Path, seed: str) -> dict[str, bytes]:
    # A separate interpreter with its own hash seed: rdflib orders some things (TriG
    # graphs, JSON-LD nodes) by set iteration, which only shows across processes.
    import os
    import subprocess
    import sys

    out = tmp_path / f"seed-{seed}"
    out.mkdir()
    script = (
        "import sys\nfrom kb.cli import cli\n"
        "for fmt in sys.argv[2:]:\n"
        "    cli.main(['export', fmt, '-o', f'{sys.argv[1]}/out.{fmt}'], standalone_mode=False)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-c", script, str(out), *RDF_DUMPS], cwd=root, env=env, check=True
    )
    return {fmt: (out / f"out.{fmt}").read_bytes() for fmt in RDF_DUMPS}


def test_rdf_dumps_of_the_shipped_kb_are_the_same_bytes_in_two_processes(tmp_path: Path) -> None:
    first = _dumps_in_a_fresh_process(tmp_path, "1")
    second = _dumps_in_a_fresh_process(tmp_path, "2")
    for fmt in RDF_DUMPS:
        assert first[fmt] == second[fmt], f"{fmt} differs between two runs"


def test_trig_dump_of_the_shipped_kb_has_each_study_graph_once_in_study_order(shipped) -> None:
    from rdflib import Dataset

    from kb.export.rdf import _plain, study_triples

    store, sel = shipped
    text = render("trig", store, sel).files[""].decode()
    headers = [line[1:-3] for line in text.splitlines() if line.endswith("> {")]
    assert headers == sorted(sel.studies) and len(headers) > 1
    ds = Dataset()
    ds.parse(data=text, format="trig")
    for study in sel.studies:
        expected = Graph()
        for t in study_triples(store, study):
            expected.add(tuple(_plain(x) for x in t))
        assert isomorphic(ds.graph(URIRef(study)), expected), study
