"""Strict input: a record whose fields have other types than the v2 data model is refused
before anything is converted or written (exit 3, the JSON path and what was expected).

The records are real (``tests/data/ctgov/registry``) with one field changed by the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.errors import CouldNotRun
from kb.importers.ctgov import map_record
from kb.importers.ctgov.schema import STUDY_SCHEMA, structure_problems

REGISTRY = Path(__file__).resolve().parent / "data" / "ctgov" / "registry"


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def real(nct: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((REGISTRY / f"{nct}.json").read_text(encoding="utf-8"))
    return record


def write(tmp_path: Path, name: str, record: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(record), encoding="utf-8")
    return path


def snapshot(kb: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((kb / "studies").glob("*"))}


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    return kb


def test_every_real_record_and_page_has_the_structure_the_importer_reads() -> None:
    files = sorted(REGISTRY.rglob("*.json"))
    assert len(files) == 29
    for f in files:
        data = json.loads(f.read_text(encoding="utf-8"))
        for study in data.get("studies", [data]):
            assert structure_problems(study) == [], f.name


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("resultsSection", "outcomeMeasuresModule", "outcomeMeasures"),
            {"0": {}},
            "resultsSection.outcomeMeasuresModule.outcomeMeasures: expected a list, got an object",
        ),
        (
            ("resultsSection", "adverseEventsModule", "seriousEvents", 0, "stats", 1, "numAtRisk"),
            "97",
            "resultsSection.adverseEventsModule.seriousEvents[0].stats[1].numAtRisk: "
            "expected a whole number, got text",
        ),
        (
            ("protocolSection", "armsInterventionsModule", "armGroups", 0),
            "Placebo qw",
            "protocolSection.armsInterventionsModule.armGroups[0]: expected an object, got text",
        ),
        (
            ("resultsSection", "baselineCharacteristicsModule", "measures", 0, "classes"),
            None,
            "resultsSection.baselineCharacteristicsModule.measures[0].classes: "
            "expected a list, got null",
        ),
    ],
)
def test_a_field_of_the_wrong_type_exits_3_with_its_path_and_writes_nothing(
    kb: Path, tmp_path: Path, where: tuple[Any, ...], value: Any, message: str
) -> None:
    good = REGISTRY / "NCT03418623.json"
    record = real("NCT02210780")
    target: Any = record
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    bad = write(tmp_path, "bad.json", record)
    result = run("import", "ctgov", str(good), str(bad), "--kb", str(kb))
    assert result.exit_code == 3
    assert "bad.json: NCT02210780: not a ClinicalTrials.gov v2 study record" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.output and "Error:" not in result.stderr
    assert snapshot(kb) == {}  # not even the good record: every file is checked first


def test_an_existing_study_is_not_replaced_by_a_record_read_only_in_part(
    kb: Path, tmp_path: Path
) -> None:
    assert (
        run("import", "ctgov", str(REGISTRY / "NCT00763412.json"), "--kb", str(kb)).exit_code == 0
    )
    before = snapshot(kb)
    record = real("NCT00763412")
    record["resultsSection"]["participantFlowModule"]["periods"][0]["milestones"] = "STARTED"
    bad = write(tmp_path, "NCT00763412.json", record)
    for extra in ([], ["--keep-going"], ["--force"]):
        result = run("import", "ctgov", str(bad), "--kb", str(kb), *extra)
        assert result.exit_code == 3, extra
        assert "periods[0].milestones: expected a list, got text" in result.stderr
        assert snapshot(kb) == before


def test_map_record_refuses_the_record_too() -> None:
    record = real("NCT03418623")
    record["protocolSection"]["outcomesModule"]["primaryOutcomes"] = {"measure": "x"}
    with pytest.raises(CouldNotRun) as caught:
        map_record(record)
    assert str(caught.value) == (
        "NCT03418623: not a ClinicalTrials.gov v2 study record the importer can read: "
        "protocolSection.outcomesModule.primaryOutcomes: expected a list, got an object"
    )


def test_the_schema_is_a_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(STUDY_SCHEMA)
