"""Exports on a knowledge base holding only the IL-2 pilot: golden files, the pilot's
numbers in every format that can carry them, determinism and round trips."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
import rispy
from rdflib import Dataset, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from kb.errors import CheckFailed
from kb.export import FORMATS, render
from kb.export.csv_export import neutralise_formula
from kb.export.tables import extract, select_studies
from kb.store import EmbeddedStore

GOLDEN = Path(__file__).parent / "data" / "golden" / "export"
# A frozen copy of the pilot study: the shipped file is still being extended, and golden
# files must change only when the export code does.
PILOT = GOLDEN / "pilot-study.ttl"
UPDATE = os.environ.get("EKB_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def pilot_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("pilot-kb")
    (kb / "studies").mkdir()
    shutil.copy(PILOT, kb / "studies" / "il2-refractory-ln-2021.ttl")
    return kb


@pytest.fixture(scope="module")
def pilot(pilot_kb: Path):
    store = EmbeddedStore.open_kb(pilot_kb)
    return store, select_studies(store)


def _one(fmt: str, pilot, output: Path | None = None) -> bytes:
    store, sel = pilot
    return render(fmt, store, sel, output=output).files[""]


def _golden(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert data == path.read_bytes(), (
        f"{name} differs from its golden file (EKB_UPDATE_GOLDEN=1 to accept)"
    )


@pytest.mark.parametrize("fmt", ["ris", "fhir", "metafor", "sof", "ttl", "nt", "jsonld", "trig"])
def test_single_file_export_of_the_pilot_matches_its_golden_file(fmt: str, pilot) -> None:
    _golden(f"pilot.{fmt}", _one(fmt, pilot))


def test_csv_export_of_the_pilot_matches_its_golden_files(pilot) -> None:
    store, sel = pilot
    files = render("csv", store, sel).files
    assert sorted(files) == [
        f"{n}.csv"
        for n in sorted(
            ["arms", "characteristics", "claims", "comparisons", "outcomes", "safety", "sources"]
        )
    ]
    for name, data in files.items():
        _golden(f"pilot-csv/{name}", data)


def test_sof_html_matches_its_golden_file(pilot, tmp_path: Path) -> None:
    _golden("pilot.sof.html", _one("sof", pilot, tmp_path / "sof.html"))


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"revman"}))
def test_every_format_gives_the_same_bytes_twice(fmt: str, pilot_kb: Path) -> None:
    runs = []
    for _ in range(2):
        store = EmbeddedStore.open_kb(pilot_kb)  # a fresh store each time
        rendered = render(fmt, store, select_studies(store))
        runs.append(rendered.files)
    assert runs[0] == runs[1]


def _outcome_rows(pilot) -> dict[str, dict[str, str]]:
    store, sel = pilot
    text = render("csv", store, sel).files["outcomes.csv"].decode()
    return {r["outcome"]: r for r in csv.DictReader(io.StringIO(text))}


def test_outcomes_csv_carries_the_pilot_numbers_as_numbers(pilot) -> None:
    rows = _outcome_rows(pilot)
    assert (
        rows["proteinuria-improvement-50-w12"]["events"],
        rows["proteinuria-improvement-50-w12"]["total"],
    ) == ("7", "10")
    assert rows["proteinuria-w12"]["percent_change"] == "-50.3"  # a number, not "'-50.3"
    assert rows["urine-rbc-w12"]["percent_change"] == "-71"
    assert (rows["treg-w12"]["baseline_value"], rows["treg-w12"]["follow_up_value"]) == (
        "9.3",
        "16.6",
    )
    assert rows["anti-dsdna-w12"]["direction"] == "decreased"
    assert "direction only" in rows["anti-dsdna-w12"]["caveats"]


def test_every_outcome_row_carries_caveats_and_provenance(pilot) -> None:
    for row in _outcome_rows(pilot).values():
        for caveat in (
            "single arm: no comparison group",
            "open label",
            "source: plain-language summary",
        ):
            assert caveat in row["caveats"]
        assert row["source_type"] == "plain-language summary"
        assert row["doi"] == "10.1007/s40744-021-00381-1"
        assert row["locator"].startswith("paragraph")


def test_safety_keeps_the_explicit_zero_serious_adverse_events(pilot) -> None:
    store, sel = pilot
    text = render("csv", store, sel).files["safety.csv"].decode()
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (row["affected"], row["serious"], row["reported"]) == ("0", "true", "none occurred")


def test_xlsx_has_a_sheet_per_table_a_frozen_header_and_numeric_numbers(pilot) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(_one("xlsx", pilot)))
    assert wb.sheetnames == [
        "characteristics",
        "arms",
        "outcomes",
        "comparisons",
        "safety",
        "claims",
        "sources",
    ]
    ws = wb["outcomes"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    values = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        values[row[header.index("outcome")]] = dict(zip(header, row, strict=True))
    assert values["proteinuria-w12"]["percent_change"] == pytest.approx(-50.3)
    assert values["proteinuria-improvement-50-w12"]["events"] == 7
    assert ws.column_dimensions["A"].width > len("study_id")


def test_xlsx_zip_entries_carry_a_fixed_date(pilot) -> None:
    with zipfile.ZipFile(io.BytesIO(_one("xlsx", pilot))) as z:
        assert {i.date_time for i in z.infolist()} == {(2000, 1, 1, 0, 0, 0)}


def test_ris_reads_back_with_rispy_as_the_same_records(pilot) -> None:
    from kb.export.ris import records

    store, sel = pilot
    text = _one("ris", pilot).decode()
    assert rispy.loads(text) == records(extract(store, sel))
    types = {r["id"]: r["type_of_reference"] for r in rispy.loads(text)}
    assert types == {
        "study/il2-refractory-ln-2021/source/article": "JOUR",
        "study/il2-refractory-ln-2021/source/pls": "GEN",
    }


def test_fhir_bundle_validates_against_the_r5_models_and_carries_the_pilot(pilot) -> None:
    from fhir.resources.bundle import Bundle

    raw = _one("fhir", pilot)
    bundle = Bundle.model_validate_json(raw)
    kinds = {e.resource.get_resource_type() for e in bundle.entry}
    assert kinds == {"Citation", "EvidenceVariable", "Evidence"}
    data = json.loads(raw)
    ev = {
        e["resource"]["id"]: e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Evidence"
    }
    prop = ev["il2-refractory-ln-2021-result-proteinuria-improvement-50-w12"]["statistic"][0]
    assert prop["statisticType"]["coding"][0]["code"] == "C44256"
    assert (prop["numberOfEvents"], prop["sampleSize"]["numberOfParticipants"]) == (7, 10)
    assert (
        ev["il2-refractory-ln-2021-result-proteinuria-w12"]["statistic"][0]["quantity"]["value"]
        == -50.3
    )
    treg = [
        s["quantity"]["value"] for s in ev["il2-refractory-ln-2021-result-treg-w12"]["statistic"]
    ]
    assert treg == [9.3, 16.6]
    sae = ev["il2-refractory-ln-2021-safety-sae"]["statistic"][0]
    assert sae["numberAffected"] == 0
    cert = ev["il2-refractory-ln-2021-result-proteinuria-w12"]["certainty"][0]
    assert cert["rating"]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/certainty-rating",
        "code": "very-low",
        "display": "Very low quality",
    }
    assert {s["type"]["coding"][0]["code"] for s in cert["subcomponent"] if "type" in s} >= {
        "RiskOfBias",
        "Imprecision",
        "Indirectness",
    }


def test_revman_with_only_the_single_arm_pilot_says_so(pilot) -> None:
    store, sel = pilot
    with pytest.raises(CheckFailed, match="single-arm .*il2-refractory-ln-2021"):
        render("revman", store, sel)


def test_metafor_writes_the_pilot_as_a_single_group_proportion(pilot) -> None:
    (row,) = list(csv.DictReader(io.StringIO(_one("metafor", pilot).decode())))
    assert (row["xi"], row["ni"], row["data_type"]) == ("7", "10", "single-group proportion")
    assert row["ai"] == row["n1i"] == ""
    assert "single arm" in row["caveats"]


def test_sof_gives_the_pilot_numbers_with_very_low_certainty_and_its_reasons(pilot) -> None:
    text = _one("sof", pilot).decode()
    assert "7/10 (70%)" in text
    assert "-50.3% change from baseline" in text
    assert "-71% change from baseline" in text
    assert "9.3% at baseline → 16.6%" in text
    assert "0 participants affected" in text and "none occurred" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("| proteinuria |"))
    assert "very low" in line and "no comparison group" in line and "We are very uncertain" in line


def _store_graph(store: EmbeddedStore, study: str) -> Graph:
    g = Graph()
    for t in store.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{study}> {{ ?s ?p ?o }} }}"
    ):
        g.add(t)
    return g


def _canonical(graph: Graph) -> Graph:
    """Literals as Oxigraph keeps them: derived integer types as xsd:integer, decimals canonical,
    xsd:string as plain."""
    ints = {XSD.positiveInteger, XSD.nonNegativeInteger, XSD.int, XSD.long}
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype in ints:
            o = Literal(str(o), datatype=XSD.integer)
        elif isinstance(o, Literal) and o.datatype == XSD.decimal:
            o = Literal(
                format(o.toPython().normalize(), "f") if "." in str(o) else str(o),
                datatype=XSD.decimal,
            )
            if "." not in str(o):
                o = Literal(f"{o}.0", datatype=XSD.decimal)
        elif isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        out.add((s, p, o))
    return out


@pytest.mark.parametrize("fmt,parser", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_rdf_dump_loads_back_isomorphic_to_the_study_file(fmt: str, parser: str, pilot) -> None:
    dumped = Graph().parse(data=_one(fmt, pilot).decode(), format=parser)
    assert isomorphic(_canonical(dumped), _canonical(Graph().parse(PILOT)))


def test_trig_dump_has_one_named_graph_per_study(pilot) -> None:
    ds = Dataset()
    ds.parse(data=_one("trig", pilot).decode(), format="trig")
    graphs = {str(g.identifier): g for g in ds.graphs() if len(g)}
    assert list(graphs) == ["https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021"]
    assert isomorphic(_canonical(next(iter(graphs.values()))), _canonical(Graph().parse(PILOT)))


def test_formula_text_is_neutralised_in_csv_and_stored_as_text_in_xlsx(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    text = PILOT.read_text(encoding="utf-8")
    evil = '=HYPERLINK(\\"http://example.org\\",\\"x\\")'
    marker = (
        'ekb:title "Low-dose interleukin-2 as add-on therapy for refractory lupus nephritis'
        ' (pilot study)"'
    )
    assert marker in text
    (kb / "studies" / "il2-refractory-ln-2021.ttl").write_text(
        text.replace(marker, f'ekb:title "{evil}"', 1), encoding="utf-8"
    )
    store = EmbeddedStore.open_kb(kb)
    sel = select_studies(store)
    chars = render("csv", store, sel).files["characteristics.csv"].decode()
    (row,) = list(csv.DictReader(io.StringIO(chars)))
    assert row["title"].startswith("'=HYPERLINK(")
    wb = load_workbook(io.BytesIO(render("xlsx", store, sel).files[""]))
    ws = wb["characteristics"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("title") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK(")
    with zipfile.ZipFile(io.BytesIO(render("xlsx", store, sel).files[""])) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


@pytest.mark.parametrize("text", ["=1+1", "+1", "-cmd", "@SUM(A1)", "\tx"])
def test_neutralise_formula_prefixes_every_trigger(text: str) -> None:
    assert neutralise_formula(text) == "'" + text
