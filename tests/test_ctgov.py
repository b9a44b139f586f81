"""ekb import ctgov: ClinicalTrials.gov API v2 records into study files.

The real records are in ``tests/data/ctgov/registry`` (public ClinicalTrials.gov records,
copied byte for byte, with their provenance in its README); the hand-made edge cases in
``tests/data/ctgov`` are synthetic (see its README). Expected
numbers are read from the JSON by the locator the importer wrote, never copied here.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from kb.cli import cli
from kb.importers.ctgov import (
    ConceptIndex,
    map_record,
    normalise_label,
    parse_decimal,
    parse_p_value,
    parse_weeks,
    read_records,
)
from kb.namespaces import EKB, RES, TERM

EDGE_DIR = Path(__file__).resolve().parent / "data" / "ctgov"
REAL_DIR = EDGE_DIR / "registry"
REAL_FILES = sorted(REAL_DIR.glob("*.json"))
PAGE_FILES = sorted((REAL_DIR / "pages").glob("*.json"))
# PALLAS (1.5 MB, 4,064 adverse-event findings) takes minutes of SHACL validation: it is
# mapped (and cross-checked) like every other record, and imported with validation in
# one test of its own.
BIG = {"NCT02513394"}
VALIDATED_FILES = [f for f in REAL_FILES if f.stem not in BIG]
WITH_RESULTS = [f for f in REAL_FILES if json.loads(f.read_text()).get("resultsSection")]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def new_kb(tmp_path: Path, name: str = "kb") -> Path:
    kb = tmp_path / name
    (kb / "studies").mkdir(parents=True)
    return kb


def load(kb: Path, study_id: str) -> Graph:
    return Graph().parse(kb / "studies" / f"{study_id}.ttl", format="turtle")


def at_path(record: dict[str, Any], path: str) -> Any:
    """The value of a record at a locator such as ``a.b[0].c[2]``."""
    value: Any = record
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        value = value[name] if name else value[int(index)]
    return value


def by_locator(graph: Graph, locator: str) -> URIRef | None:
    return next(graph.subjects(EKB.locator, Literal(locator)), None)


def number(graph: Graph, node: URIRef, prop: URIRef) -> Decimal | None:
    value = graph.value(node, prop)
    return None if value is None else Decimal(str(value))


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All real records imported once into a fresh knowledge base."""
    kb = new_kb(tmp_path_factory.mktemp("real"))
    result = run("import", "ctgov", *map(str, VALIDATED_FILES), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    return kb


_MAPPED: dict[str, Graph] = {}


def real_graph(real_kb: Path, record_file: Path) -> Graph:
    """The study graph of a real record: its imported file, or (for BIG) the mapped graph."""
    if record_file.stem not in BIG:
        return load(real_kb, record_file.stem.lower())
    if record_file.stem not in _MAPPED:
        record = json.loads(record_file.read_text(encoding="utf-8"))
        _MAPPED[record_file.stem] = map_record(record, ConceptIndex.from_kb(real_kb)).graph
    return _MAPPED[record_file.stem]


@pytest.fixture(scope="module")
def edge_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = new_kb(tmp_path_factory.mktemp("edge"))
    result = run("import", "ctgov", str(EDGE_DIR / "edge-cases.json"), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    return kb


# ---------------------------------------------------------------------------------------
# Real records


def test_every_real_record_imports_into_a_fresh_kb_and_validates(real_kb: Path) -> None:
    from kb.validation import validate_kb

    names = sorted(p.name for p in (real_kb / "studies").glob("*.ttl"))
    assert names == sorted(f"{f.stem.lower()}.ttl" for f in VALIDATED_FILES)
    report = validate_kb(real_kb)
    assert report.conforms, [
        f.row() for r in report.files for f in r.findings if f.severity == "Violation"
    ]


@pytest.mark.parametrize("record_file", REAL_FILES, ids=lambda p: p.stem)
def test_study_carries_registry_provenance_and_version_date(
    real_kb: Path, record_file: Path
) -> None:
    record = json.loads(record_file.read_text())
    nct = record["protocolSection"]["identificationModule"]["nctId"]
    graph = real_graph(real_kb, record_file)
    study = URIRef(f"{RES}study/{nct.lower()}")
    source = graph.value(study, EKB.reportedIn)
    assert graph.value(source, EKB.sourceType) == URIRef(
        "https://w3id.org/evidence-kb/vocab/source-type/registry-record"
    )
    assert str(graph.value(source, EKB.url)) == f"https://clinicaltrials.gov/study/{nct}"
    assert (
        str(graph.value(source, EKB.versionDate))
        == record["derivedSection"]["miscInfoModule"]["versionHolder"]
    )
    assert str(graph.value(study, EKB.registrationId)) == nct
    # Every extracted record names the registry source.
    for cls in (EKB.Study, EKB.Population, EKB.Arm, EKB.Outcome, EKB.Result, EKB.SafetyFinding):
        for node in graph.subjects(RDF.type, cls):
            assert graph.value(node, EKB.source) == source, node


def _check_numbers(graph: Graph, record: dict[str, Any]) -> int:
    """Compare every imported outcome value, denominator and AE count with the JSON; count them."""
    checked = 0
    simple = {
        "events": EKB.events,
        "percent": EKB.percent,
        "mean": EKB.mean,
        "median": EKB.median,
        "followUpValue": EKB.followUpValue,
    }
    for node in graph.subjects(RDF.type, EKB.Result):
        locator = str(graph.value(node, EKB.locator))
        if not locator.startswith("resultsSection.outcomeMeasuresModule"):
            continue
        meas = at_path(record, locator)
        values = [number(graph, node, p) for p in simple.values() if (node, p, None) in graph]
        assert values == [Decimal(meas["value"])], locator
        checked += 1
        for prop, key in (
            (EKB.sd, "spread"),
            (EKB.se, "spread"),
            (EKB.rangeLow, "lowerLimit"),
            (EKB.rangeHigh, "upperLimit"),
            (EKB.q1, "lowerLimit"),
            (EKB.q3, "upperLimit"),
        ):
            if (node, prop, None) in graph:
                assert number(graph, node, prop) == Decimal(meas[key]), (locator, prop)
                checked += 1
        denominator = re.search(
            r"Denominator (\d+) from (\S+?)\.( |$)", str(graph.value(node, EKB.note))
        )
        if denominator:
            denom_json = at_path(record, denominator.group(2))
            assert Decimal(denom_json["value"]) == Decimal(denominator.group(1))
            stored = number(graph, node, EKB.total)
            if stored is None:  # (a denominator of 0 is a number, not a missing one)
                stored = number(graph, node, EKB.n)
            assert stored == Decimal(denom_json["value"]), locator
            checked += 1
    for node in graph.subjects(RDF.type, EKB.SafetyFinding):
        locator = str(graph.value(node, EKB.locator))
        stat = at_path(record, locator)
        if ".stats[" in locator:
            pairs = (
                (EKB.affected, "numAffected"),
                (EKB.atRisk, "numAtRisk"),
                (EKB.eventCount, "numEvents"),
            )
        else:
            prefix = re.search(r"/safety/eg\d+-(\w+)-total$", str(node)).group(1)
            pairs = ((EKB.affected, f"{prefix}NumAffected"), (EKB.atRisk, f"{prefix}NumAtRisk"))
        for prop, key in pairs:
            if key in stat:
                assert number(graph, node, prop) == Decimal(stat[key]), (locator, key)
                checked += 1
            else:
                assert (node, prop, None) not in graph, (locator, key)
    return checked


@pytest.mark.parametrize("record_file", WITH_RESULTS, ids=lambda p: p.stem)
def test_imported_numbers_match_the_json_at_their_locators(
    real_kb: Path, record_file: Path
) -> None:
    record = json.loads(record_file.read_text())
    graph = real_graph(real_kb, record_file)
    assert _check_numbers(graph, record) >= 10


@pytest.mark.parametrize("record_file", WITH_RESULTS, ids=lambda p: p.stem)
def test_every_posted_measurement_and_adverse_event_stat_is_imported(
    real_kb: Path, record_file: Path
) -> None:
    record = json.loads(record_file.read_text())
    graph = real_graph(real_kb, record_file)
    results = record["resultsSection"]
    for i, m in enumerate(results.get("outcomeMeasuresModule", {}).get("outcomeMeasures", [])):
        for c, cls in enumerate(m.get("classes", [])):
            for k, cat in enumerate(cls.get("categories", [])):
                for j, meas in enumerate(cat.get("measurements", [])):
                    path = (
                        f"resultsSection.outcomeMeasuresModule.outcomeMeasures[{i}]"
                        f".classes[{c}].categories[{k}].measurements[{j}]"
                    )
                    if by_locator(graph, path) is not None:
                        continue
                    # A value that is no number ("NA") is kept, as printed, on its outcome.
                    assert parse_decimal(meas.get("value")) is None, path
                    outcome = URIRef(f"{RES}study/{record_file.stem.lower()}/outcome/om{i}")
                    assert f"No number at {path} " in str(graph.value(outcome, EKB.note)), path
    ae = results.get("adverseEventsModule", {})
    for key in ("seriousEvents", "otherEvents"):
        for n, event in enumerate(ae.get(key, [])):
            for s, _ in enumerate(event.get("stats", [])):
                assert (
                    by_locator(graph, f"resultsSection.adverseEventsModule.{key}[{n}].stats[{s}]")
                    is not None
                )


def test_statistical_analyses_become_comparisons_with_ci_level_and_p_as_printed(
    real_kb: Path,
) -> None:
    record = json.loads((REAL_DIR / "NCT02210780.json").read_text())
    graph = load(real_kb, "nct02210780")
    comparisons = list(graph.subjects(RDF.type, EKB.Comparison))
    analyses = [
        (i, a)
        for i, m in enumerate(record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"])
        for a, _ in enumerate(m.get("analyses", []))
    ]
    assert len(comparisons) == len(analyses)
    for node in comparisons:
        analysis = at_path(record, str(graph.value(node, EKB.locator)))
        assert number(graph, node, EKB.estimate) == Decimal(analysis["paramValue"])
        assert number(graph, node, EKB.ciLower) == Decimal(analysis["ciLowerLimit"])
        assert number(graph, node, EKB.ciUpper) == Decimal(analysis["ciUpperLimit"])
        assert number(graph, node, EKB.ciLevel) == Decimal(analysis["ciPctValue"]) / 100
        value, comparator = parse_p_value(analysis["pValue"])
        assert number(graph, node, EKB.pValue) == value
        assert str(graph.value(node, EKB.pValueComparator)) == comparator
        assert str(graph.value(node, EKB.method)) == analysis["statisticalMethod"]
        # "Dupilumab 300 mg qw vs. Placebo qw": the placebo arm is the comparator.
        assert str(graph.value(graph.value(node, EKB.comparatorArm), RDFS.label)) == "Placebo qw"


def test_groups_with_other_titles_are_matched_to_arms_and_the_match_is_noted(real_kb: Path) -> None:
    graph = load(real_kb, "nct00763412")
    arms = set(graph.objects(URIRef(f"{RES}study/nct00763412"), EKB.hasArm))
    assert len(arms) == 2  # "Placebo", "Patients Who Received Placebo" all map to "1 Placebo"
    node = by_locator(
        graph,
        "resultsSection.baselineCharacteristicsModule.measures[0].classes[0].categories[0].measurements[0]",
    )
    assert str(graph.value(graph.value(node, EKB.arm), RDFS.label)) == "1 Placebo"
    assert "'Patients Who Received Placebo' matched to arm '1 Placebo'" in str(
        graph.value(node, EKB.note)
    )


def test_an_arm_registered_as_experimental_that_receives_only_placebo_is_the_comparator(
    real_kb: Path,
) -> None:
    record = json.loads((REAL_DIR / "NCT02210780.json").read_text(encoding="utf-8"))
    groups = record["protocolSection"]["armsInterventionsModule"]["armGroups"]
    placebo = next(g for g in groups if g["interventionNames"] == ["Drug: Placebo"])
    assert placebo["type"] == "EXPERIMENTAL"  # the registry's own word
    graph = load(real_kb, "nct02210780")
    arm = next(graph.subjects(RDFS.label, Literal(placebo["label"])))
    assert graph.value(arm, EKB.armRole) == TERM["placebo-comparator"]
    note = str(graph.value(arm, EKB.note))
    assert "Registered arm type: EXPERIMENTAL." in note and "only placebo" in note
    other = next(graph.subjects(RDFS.label, Literal("Dupilumab 300 mg qw")))
    assert graph.value(other, EKB.armRole) == TERM["experimental"]


def test_titled_classes_become_subgroups_with_class_level_denominators(real_kb: Path) -> None:
    record = json.loads((REAL_DIR / "NCT02210780.json").read_text())
    graph = load(real_kb, "nct02210780")
    measures = record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"]
    i = next(
        i for i, m in enumerate(measures) if any(c.get("denoms") for c in m.get("classes", []))
    )
    cls = measures[i]["classes"][0]
    path = (
        f"resultsSection.outcomeMeasuresModule.outcomeMeasures[{i}]"
        ".classes[0].categories[0].measurements[0]"
    )
    node = by_locator(graph, path)
    assert str(graph.value(node, EKB.subgroup)) == cls["title"]
    group = cls["categories"][0]["measurements"][0]["groupId"]
    class_denom = next(c["value"] for c in cls["denoms"][0]["counts"] if c["groupId"] == group)
    measure_denom = next(
        c["value"] for c in measures[i]["denoms"][0]["counts"] if c["groupId"] == group
    )
    assert class_denom != measure_denom
    assert number(graph, node, EKB.n) == Decimal(class_denom)


def test_canned_queries_show_the_imported_studies(real_kb: Path) -> None:
    from kb.queries import run_query
    from kb.store import open_store

    store = open_store(real_kb)
    studies = {str(v) for v in run_query(store, "studies").values("study_id")}
    assert {f.stem.lower() for f in VALIDATED_FILES} <= studies
    safety = run_query(store, "safety")
    assert "nct02210780" in {str(v) for v in safety.values("study_id")}
    results = run_query(store, "outcome-results", {"outcome": "outc:withdrawal-adverse-event"})
    assert {"nct02210780", "nct05594173"} <= {str(v) for v in results.values("study_id")}


# ---------------------------------------------------------------------------------------
# Idempotence, dry run, files


def test_importing_twice_gives_byte_identical_files(real_kb: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in (real_kb / "studies").glob("*.ttl")}
    again = run("import", "ctgov", *map(str, VALIDATED_FILES), "--kb", str(real_kb))
    assert again.exit_code == 0
    assert "unchanged" in again.output
    assert {p.name: p.read_bytes() for p in (real_kb / "studies").glob("*.ttl")} == before
    other = new_kb(tmp_path)
    some = [REAL_DIR / f"{nct}.json" for nct in ("NCT00763412", "NCT03418623", "NCT06326047")]
    for record_file in some:  # one by one, in another folder
        assert run("import", "ctgov", str(record_file), "--kb", str(other)).exit_code == 0
    assert {p.name: p.read_bytes() for p in (other / "studies").glob("*.ttl")} == {
        name: data
        for name, data in before.items()
        if name in {f"{f.stem.lower()}.ttl" for f in some}
    }


def test_dry_run_lists_what_would_be_written_and_writes_nothing(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    result = run(
        "import", "ctgov", str(REAL_DIR / "NCT02210780.json"), "--kb", str(kb), "--dry-run"
    )
    assert result.exit_code == 0
    assert re.search(
        r"would write\s+studies/nct02210780\.ttl\s+NCT02210780: "
        r"2 arms, \d+ outcomes, \d+ results, 7 comparisons",
        result.stdout,
    )
    assert list((kb / "studies").iterdir()) == []


def test_a_file_that_is_not_json_exits_3_naming_it_and_writes_nothing(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    bad = EDGE_DIR / "not-json.json"
    result = run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), str(bad), "--kb", str(kb))
    assert result.exit_code == 3
    assert str(bad) in result.stderr and "not valid JSON" in result.stderr
    assert "Traceback" not in result.output
    assert list((kb / "studies").iterdir()) == []


def test_json_that_is_not_a_study_exits_3_naming_it(tmp_path: Path) -> None:
    result = run(
        "import", "ctgov", str(EDGE_DIR / "not-a-study.json"), "--kb", str(new_kb(tmp_path))
    )
    assert result.exit_code == 3
    assert "not-a-study.json: not a ClinicalTrials.gov study" in result.stderr


def test_keep_going_imports_the_others_and_summarises_failures(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    result = run(
        "import",
        "ctgov",
        str(EDGE_DIR / "not-json.json"),
        str(EDGE_DIR / "not-a-study.json"),
        str(REAL_DIR / "NCT03418623.json"),
        "--kb",
        str(kb),
        "--keep-going",
    )
    assert result.exit_code == 3
    assert (kb / "studies" / "nct03418623.ttl").is_file()
    assert "2 file(s) could not be imported" in result.stderr
    assert "not-json.json" in result.stderr and "not-a-study.json" in result.stderr


def test_a_studies_wrapper_imports_every_study_in_it(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    result = run("import", "ctgov", str(EDGE_DIR / "wrapped.json"), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (kb / "studies").iterdir()) == [
        "nct99999902.ttl",
        "nct99999903.ttl",
    ]
    graph = load(kb, "nct99999902")
    study = URIRef(f"{RES}study/nct99999902")
    assert graph.value(study, EKB.design) == URIRef(
        "https://w3id.org/evidence-kb/vocab/design/single-arm-trial"
    )
    arm = graph.value(study, EKB.hasArm)
    assert graph.value(arm, EKB.armRole) == TERM["single-arm"]
    # "Systemic Lupus Erythematosus" is the vocabulary's concept, not a new one.
    population = graph.value(study, EKB.hasPopulation)
    assert graph.value(population, EKB.condition) == URIRef(
        "https://w3id.org/evidence-kb/vocab/condition/systemic-lupus-erythematosus"
    )


def test_a_hand_written_study_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    target = kb / "studies" / "nct03418623.ttl"
    target.write_text("# curated by hand\n")
    result = run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(kb))
    assert result.exit_code == 1
    assert "use --force" in result.stderr
    assert target.read_text() == "# curated by hand\n"
    forced = run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(kb), "--force")
    assert forced.exit_code == 0
    assert target.read_text().startswith("# NCT03418623, imported from")


def test_an_older_import_is_updated_without_force(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    assert (
        run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(kb)).exit_code == 0
    )
    target = kb / "studies" / "nct03418623.ttl"
    target.write_text(
        target.read_text().replace('ekb:status "COMPLETED"', 'ekb:status "RECRUITING"')
    )
    result = run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(kb))
    assert result.exit_code == 0 and "updated" in result.stderr
    assert 'ekb:status "COMPLETED"' in target.read_text()


def test_a_missing_kb_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = run(
        "import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(tmp_path / "nope")
    )
    assert result.exit_code == 2


def test_a_study_with_violations_is_not_written_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.importers import ctgov
    from kb.importers.ctgov import writing

    real_map = ctgov.map_record

    def broken(record: dict[str, Any], concepts: Any = None) -> Any:
        imported = real_map(record, concepts)
        study = URIRef(f"{RES}study/{imported.study_id}")
        imported.graph.remove((study, EKB.design, None))  # a design is required
        return imported

    monkeypatch.setattr(writing, "map_record", broken)
    kb = new_kb(tmp_path)
    result = run("import", "ctgov", str(REAL_DIR / "NCT03418623.json"), "--kb", str(kb))
    assert result.exit_code == 1
    assert "invalid" in result.stderr and "ekb:design" in result.stderr
    assert list((kb / "studies").iterdir()) == []


# ---------------------------------------------------------------------------------------
# Edge cases (synthetic records)


def edge_graph(edge_kb: Path) -> tuple[Graph, dict[str, Any]]:
    return load(edge_kb, "nct99999901"), json.loads((EDGE_DIR / "edge-cases.json").read_text())


def test_na_values_are_kept_with_their_comment_and_do_not_stop_import(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    path = (
        "resultsSection.outcomeMeasuresModule.outcomeMeasures[0]"
        ".classes[0].categories[0].measurements[2]"
    )
    assert by_locator(graph, path) is None  # a result needs a number
    outcome = URIRef(f"{RES}study/nct99999901/outcome/om0")
    note = str(graph.value(outcome, EKB.note))
    assert (
        f"No number at {path} "
        "(printed 'value: NA; comment: No participants were analysed at week 12')" in note
    )
    # A numeric value next to an "NA" spread keeps the value and notes the spread.
    node = by_locator(
        graph,
        "resultsSection.outcomeMeasuresModule.outcomeMeasures[1].classes[0].categories[0].measurements[1]",
    )
    assert number(graph, node, EKB.mean) == Decimal("-3.25")
    assert (node, EKB.sd, None) not in graph
    assert "SD not estimable" in str(graph.value(node, EKB.note))
    # An analysis with no number is kept on the outcome.
    assert "analyses[2] gives no number" in note and "not estimable" in note


def test_a_group_matching_no_arm_becomes_its_own_arm(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    node = by_locator(
        graph,
        "resultsSection.outcomeMeasuresModule.outcomeMeasures[0].classes[1].categories[0].measurements[2]",
    )
    arm = graph.value(node, EKB.arm)
    assert str(graph.value(arm, RDFS.label)) == "Open-label extension cohort"
    assert graph.value(arm, EKB.armRole) == TERM["other-arm"]
    assert (URIRef(f"{RES}study/nct99999901"), EKB.hasArm, arm) in graph
    assert number(graph, node, EKB.events) == 1


def test_og_ids_are_resolved_within_their_own_measure(edge_kb: Path) -> None:
    graph, record = edge_graph(edge_kb)
    for i in (0, 1):
        measure = record["resultsSection"]["outcomeMeasuresModule"]["outcomeMeasures"][i]
        titles = {g["id"]: g["title"] for g in measure["groups"]}
        node = by_locator(
            graph,
            f"resultsSection.outcomeMeasuresModule.outcomeMeasures[{i}].classes[0].categories[0].measurements[0]",
        )
        assert str(graph.value(graph.value(node, EKB.arm), RDFS.label)) == titles["OG000"]
    assert titles["OG000"] == "Placebo"  # OG000 is "Drug A" in the first measure


def test_class_level_denominators_override_the_measure_level_ones(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    base = "resultsSection.outcomeMeasuresModule.outcomeMeasures[0]"
    in_class = by_locator(graph, f"{base}.classes[0].categories[0].measurements[1]")
    no_class_denoms = by_locator(graph, f"{base}.classes[1].categories[0].measurements[1]")
    assert (number(graph, in_class, EKB.events), number(graph, in_class, EKB.total)) == (1, 5)
    assert (
        number(graph, no_class_denoms, EKB.events),
        number(graph, no_class_denoms, EKB.total),
    ) == (0, 6)
    assert str(graph.value(in_class, EKB.subgroup)) == "Class III/IV"


def test_adverse_event_zero_is_kept_apart_from_not_reported(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    base = "resultsSection.adverseEventsModule"
    zero = by_locator(graph, f"{base}.seriousEvents[0].stats[1]")
    assert graph.value(zero, EKB.affected) == Literal(0)
    assert graph.value(zero, EKB.eventCount) == Literal(0)
    missing = by_locator(graph, f"{base}.otherEvents[0].stats[1]")
    assert (missing, EKB.affected, None) not in graph
    assert graph.value(missing, EKB.atRisk) == Literal(6)
    assert "not reported" in str(graph.value(missing, EKB.note))
    # A group with no stats entry for an event gets no finding at all.
    nausea = [n for n in graph.subjects(EKB.eventTerm, Literal("Nausea"))]
    assert len(nausea) == 1
    # Group totals: deaths only where the record gives them; an explicit 0 stays 0.
    deaths = URIRef(f"{RES}study/nct99999901/safety/eg000-deaths-total")
    assert graph.value(deaths, EKB.affected) == Literal(0)
    assert (URIRef(f"{RES}study/nct99999901/safety/eg001-deaths-total"), None, None) not in graph
    pneumonia = by_locator(graph, f"{base}.seriousEvents[0].stats[0]")
    assert str(graph.value(pneumonia, EKB.eventVocabulary)) == "MedDRA (23.0)"
    assert str(graph.value(pneumonia, EKB.organSystem)) == "Infections and infestations"
    assert graph.value(pneumonia, EKB.serious) == Literal(True)


def test_comparator_follows_the_arm_types_when_the_record_does_not_say(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    node = by_locator(graph, "resultsSection.outcomeMeasuresModule.outcomeMeasures[0].analyses[0]")
    assert str(graph.value(graph.value(node, EKB.experimentalArm), RDFS.label)) == "Drug A"
    assert str(graph.value(graph.value(node, EKB.comparatorArm), RDFS.label)) == "Placebo"
    assert graph.value(node, EKB.effectMeasure) == TERM["risk-ratio"]
    assert number(graph, node, EKB.ciLevel) == Decimal("0.95")


def test_an_analysis_of_three_groups_is_kept_on_the_outcome(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    assert (
        by_locator(graph, "resultsSection.outcomeMeasuresModule.outcomeMeasures[0].analyses[1]")
        is None
    )
    note = str(graph.value(URIRef(f"{RES}study/nct99999901/outcome/om0"), EKB.note))
    assert "analyses[1] of groups OG000, OG001, OG002 is not a comparison of two arms" in note
    assert "pValue: 0.30" in note


def test_participant_flow_gives_arm_sizes_and_withdrawals(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    arm = URIRef(f"{RES}study/nct99999901/arm/drug-a")
    assert graph.value(arm, EKB.n) == Literal(6)
    withdrawn = by_locator(
        graph, "resultsSection.participantFlowModule.periods[0].dropWithdraws[0].reasons[0]"
    )
    assert (number(graph, withdrawn, EKB.events), number(graph, withdrawn, EKB.total)) == (1, 6)
    outcome = graph.value(withdrawn, EKB.outcome)
    assert graph.value(outcome, EKB.outcomeRole) == TERM["disposition"]


def test_conditions_reuse_vocabulary_concepts_or_declare_new_ones(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    population = URIRef(f"{RES}study/nct99999901/population")
    conditions = set(graph.objects(population, EKB.condition))
    lupus_nephritis = URIRef("https://w3id.org/evidence-kb/vocab/condition/lupus-nephritis")
    new = URIRef("https://w3id.org/evidence-kb/vocab/condition/rare-synthetic-condition")
    assert conditions == {lupus_nephritis, new}
    assert (lupus_nephritis, SKOS.prefLabel, None) not in graph  # not redeclared
    assert graph.value(new, SKOS.prefLabel) == Literal("rare synthetic condition", lang="en")
    assert graph.value(new, SKOS.inScheme) == URIRef(
        "https://w3id.org/evidence-kb/vocab/condition/"
    )


def test_percentages_of_participants_keep_their_interval_as_printed(edge_kb: Path) -> None:
    graph, _ = edge_graph(edge_kb)
    node = by_locator(
        graph,
        "resultsSection.outcomeMeasuresModule.outcomeMeasures[2].classes[0].categories[0].measurements[0]",
    )
    assert (number(graph, node, EKB.percent), number(graph, node, EKB.total)) == (
        Decimal("50.0"),
        6,
    )
    assert (node, EKB.events, None) not in graph  # never back-calculated
    assert "lowerLimit '11.8', upperLimit '88.2'" in str(graph.value(node, EKB.note))


# ---------------------------------------------------------------------------------------
# Small pure functions


def test_mapping_is_pure_and_deterministic() -> None:
    record = json.loads((REAL_DIR / "NCT00763412.json").read_text())
    from rdflib.compare import isomorphic

    first, second = map_record(record, ConceptIndex()), map_record(record, ConceptIndex())
    assert isomorphic(first.graph, second.graph)
    assert first.counts == second.counts


def test_read_records_accepts_compact_json_and_a_byte_order_mark(tmp_path: Path) -> None:
    record = json.loads((REAL_DIR / "NCT03418623.json").read_text())
    compact = tmp_path / "compact.json"
    compact.write_bytes(b"\xef\xbb\xbf" + json.dumps(record, separators=(",", ":")).encode())
    (ref,) = read_records(compact)
    assert ref.nct_id == "NCT03418623" and ref.index is None


@pytest.mark.parametrize(
    ("text", "weeks"),
    [
        ("Week 16", Decimal(16)),
        ("Baseline to Week 16", Decimal(16)),
        ("up to 52 weeks", Decimal(52)),
        ("Weeks 4, 8 and 16", None),
        ("2 year/end of study", None),
        (None, None),
    ],
)
def test_timepoint_weeks_are_read_only_when_unambiguous(
    text: str | None, weeks: Decimal | None
) -> None:
    assert parse_weeks(text) == weeks


def test_labels_match_across_case_and_punctuation() -> None:
    assert normalise_label("Lupus  Nephritis") == normalise_label("lupus-nephritis")


def test_import_is_listed_in_ekb_help() -> None:
    result = run("--help")
    assert "import" in result.output


def test_a_count_above_its_denominator_is_flagged_and_still_imported(tmp_path: Path) -> None:
    record = json.loads((EDGE_DIR / "edge-cases.json").read_text())
    stat = record["resultsSection"]["adverseEventsModule"]["otherEvents"][1]["stats"][0]
    stat["numAffected"] = stat["numAtRisk"] + 1  # a registry error, kept as printed
    record["protocolSection"]["designModule"]["phases"] = ["EARLY_PHASE1"]
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(record))
    kb = new_kb(tmp_path)
    result = run("import", "ctgov", str(changed), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    graph = load(kb, "nct99999901")
    node = by_locator(graph, "resultsSection.adverseEventsModule.otherEvents[1].stats[0]")
    assert graph.value(node, EKB.affected) == Literal(stat["numAffected"])
    assert (node, EKB.atRisk, None) not in graph
    assert "above its printed denominator" in str(graph.value(node, EKB.qualityFlag))
    assert graph.value(node, EKB.excludeFromMetaAnalysis) == Literal(True)
    study = URIRef(f"{RES}study/nct99999901")
    assert str(graph.value(study, EKB.phase)) == "early 1"


def test_a_record_with_fields_of_the_wrong_type_exits_3_without_a_traceback(tmp_path: Path) -> None:
    record = json.loads((REAL_DIR / "NCT03418623.json").read_text())
    record["protocolSection"]["designModule"]["designInfo"] = "NA"  # an object in the data model
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(record))
    result = run("import", "ctgov", str(odd), "--kb", str(new_kb(tmp_path)))
    assert result.exit_code == 3
    assert (
        "odd.json: NCT03418623: not a ClinicalTrials.gov v2 study record the importer can "
        "read: protocolSection.designModule.designInfo: expected an object, got text"
        in result.stderr
    )
    assert "Traceback" not in result.output


def test_every_search_result_page_imports_one_file_per_study(tmp_path: Path) -> None:
    kb = new_kb(tmp_path)
    result = run("import", "ctgov", *map(str, PAGE_FILES), "--kb", str(kb))
    assert result.exit_code == 0, result.output
    expected = {
        study["protocolSection"]["identificationModule"]["nctId"].lower()
        for page in PAGE_FILES
        for study in json.loads(page.read_text(encoding="utf-8"))["studies"]
    }
    assert len(PAGE_FILES) == 6 and len(expected) >= 6
    assert {p.stem for p in (kb / "studies").glob("*.ttl")} == expected


def test_the_test_records_are_the_public_registry_files_unchanged() -> None:
    # 23 records and 6 pages, as listed (with where each came from) in the README next to them.
    assert len(REAL_FILES) == 23 and len(PAGE_FILES) == 6
    readme = (REAL_DIR / "README.md").read_text(encoding="utf-8")
    for record_file in REAL_FILES:
        assert record_file.stem in readme, record_file.name
