"""Across features, through the real command line: every real ClinicalTrials.gov record
imported into a fresh knowledge base, then validated, shown as a form, added back into
another fresh knowledge base, queried, exported in every format and meta-analysed.

Expected numbers are read from the real records in ``tests/data/ctgov/registry`` (copied
byte for byte from the public registry data, see its README), never written here. The
round trip runs on the four records the README's table starts with (two-arm RCTs with
results, an observational study with results, a protocol-only record): they cover every
module the importer maps, and the other records' imports (minutes of SHACL validation
for the 1.5 MB PALLAS record alone) are checked in ``test_ctgov.py``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from kb.cli import cli
from kb.export import FORMATS

CTGOV_DIR = Path(__file__).resolve().parent / "data" / "ctgov" / "registry"
ROUND_TRIP = ("NCT00763412", "NCT02210780", "NCT03418623", "NCT05594173")
RECORDS = {
    nct: json.loads((CTGOV_DIR / f"{nct}.json").read_text(encoding="utf-8")) for nct in ROUND_TRIP
}
STUDY_IDS = sorted(nct.lower() for nct in RECORDS)
WITH_RESULTS = sorted(
    nct.lower() for nct, record in RECORDS.items() if record.get("resultsSection")
)


def ekb(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `ekb init` knowledge base holding every real record."""
    kb = tmp_path_factory.mktemp("imported") / "kb"
    assert ekb("init", str(kb)).exit_code == 0
    files = [str(CTGOV_DIR / f"{nct}.json") for nct in ROUND_TRIP]
    result = ekb("import", "ctgov", *files, "--kb", str(kb))
    assert result.exit_code == 0, result.output
    return kb


@pytest.fixture(scope="module")
def round_tripped(imported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every imported study shown as a form and added into another fresh knowledge base."""
    base = tmp_path_factory.mktemp("round-trip")
    forms = []
    for study_id in STUDY_IDS:
        shown = ekb("show", study_id, "-f", "yaml", "--kb", str(imported))
        assert shown.exit_code == 0, shown.output
        form = base / f"{study_id}.yaml"
        form.write_text(shown.stdout, encoding="utf-8")
        forms.append(str(form))
    kb = base / "kb"
    assert ekb("init", str(kb)).exit_code == 0
    added = ekb("add", *forms, "--kb", str(kb))
    assert added.exit_code == 0, added.output
    return kb


def _rows(*args: str) -> list[dict[str, Any]]:
    result = ekb("query", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


# --- import, validate, fmt -----------------------------------------------------------------


def test_every_record_becomes_one_study_file(imported: Path) -> None:
    assert sorted(p.stem for p in (imported / "studies").glob("*.ttl")) == STUDY_IDS


def test_the_imported_kb_validates_without_violations(imported: Path) -> None:
    result = ekb("validate", "--kb", str(imported))
    assert result.exit_code == 0, result.output
    assert f"{len(STUDY_IDS)} files conform" in result.output
    assert "Violation " not in result.output


def test_importer_output_is_canonical_for_ekb_fmt(imported: Path) -> None:
    result = ekb("fmt", "--check", "--kb", str(imported))
    assert result.exit_code == 0, result.output
    assert f"{len(STUDY_IDS)} file(s) canonical" in result.output


# --- show -> add ----------------------------------------------------------------------------


@pytest.mark.parametrize("study_id", STUDY_IDS)
def test_show_then_add_gives_an_isomorphic_graph(
    study_id: str, imported: Path, round_tripped: Path
) -> None:
    original = Graph().parse(imported / "studies" / f"{study_id}.ttl", format="turtle")
    again = Graph().parse(round_tripped / "studies" / f"{study_id}.ttl", format="turtle")
    assert len(original) > 50
    assert isomorphic(original, again)


def test_the_form_has_a_field_for_every_property_the_importer_names() -> None:
    # A coarse guard beyond the records at hand: a property the importer starts writing
    # that no form section has at all. (Per class, the round trips here are the check.)
    import re

    import kb.forms as forms
    import kb.importers.ctgov as importer

    package = Path(importer.__file__).parent
    source = "".join(f.read_text() for f in sorted(package.glob("*.py")))
    written = set(re.findall(r"EKB\.([a-z][A-Za-z0-9]*)", source))
    held = set()
    for section in vars(forms).values():
        if isinstance(section, forms.Section):
            held |= {str(f.predicate).rsplit("#", 1)[-1] for f in section.all_fields if f.predicate}
            held.add(str(section.link).rsplit("#", 1)[-1])
    assert len(written) > 40
    assert written <= held, sorted(written - held)


def test_the_synthetic_edge_records_also_round_trip_through_show_and_add(
    tmp_path: Path,
) -> None:
    edge = Path(__file__).resolve().parent / "data" / "ctgov"
    first, second = tmp_path / "first", tmp_path / "second"
    for kb in (first, second):
        assert ekb("init", str(kb)).exit_code == 0
    files = [str(edge / "edge-cases.json"), str(edge / "wrapped.json")]
    assert ekb("import", "ctgov", *files, "--kb", str(first)).exit_code == 0
    forms = []
    for study in sorted((first / "studies").glob("*.ttl")):
        shown = ekb("show", study.stem, "-f", "yaml", "--kb", str(first))
        assert shown.exit_code == 0, shown.output
        (tmp_path / f"{study.stem}.yaml").write_text(shown.stdout, encoding="utf-8")
        forms.append(str(tmp_path / f"{study.stem}.yaml"))
    assert len(forms) >= 2
    assert ekb("add", *forms, "--kb", str(second)).exit_code == 0
    for study in sorted((first / "studies").glob("*.ttl")):
        again = second / "studies" / study.name
        assert isomorphic(Graph().parse(study), Graph().parse(again)), study.name


def test_ekb_add_writes_canonical_files(round_tripped: Path) -> None:
    # (ekb add validated them before writing; isomorphic to the imported files above.)
    assert ekb("fmt", "--check", "--kb", str(round_tripped)).exit_code == 0


# --- canned queries -------------------------------------------------------------------------


def test_query_studies_lists_every_imported_study_with_its_registration(imported: Path) -> None:
    rows = _rows("studies", "--kb", str(imported))
    assert sorted(r["study_id"] for r in rows) == STUDY_IDS
    assert {r["registration"] for r in rows} == set(RECORDS)


def _withdrawals(record: dict[str, Any], reason: str) -> list[int]:
    flow = record["resultsSection"]["participantFlowModule"]
    return sorted(
        int(r["numSubjects"])
        for period in flow["periods"]
        for drop in period.get("dropWithdraws", [])
        if drop["type"] == reason
        for r in drop["reasons"]
    )


def test_query_outcome_results_shows_imported_withdrawals_as_in_the_record(
    imported: Path,
) -> None:
    rows = _rows(
        "outcome-results", "-p", "outcome=outc:withdrawal-adverse-event", "--kb", str(imported)
    )
    by_study: dict[str, list[int]] = {}
    for row in rows:
        by_study.setdefault(row["study_id"], []).append(int(row["events"]))
    assert "nct02210780" in by_study
    for study_id, events in by_study.items():
        assert sorted(events) == _withdrawals(RECORDS[study_id.upper()], "Adverse Event")


def test_query_safety_shows_the_findings_of_every_record_with_results(imported: Path) -> None:
    rows = _rows("safety", "--kb", str(imported))
    assert sorted({r["study_id"] for r in rows}) == WITH_RESULTS
    record = RECORDS["NCT02210780"]["resultsSection"]["adverseEventsModule"]
    serious_terms = {e["term"] for e in record.get("seriousEvents", [])}
    shown = {r["event_term"] for r in rows if r["study_id"] == "nct02210780"}
    assert serious_terms and serious_terms <= shown


# --- exports --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_export_format_runs_on_the_imported_kb(
    fmt: str, imported: Path, tmp_path: Path
) -> None:
    target = tmp_path / ("csv" if fmt == "csv" else f"out.{fmt}")
    result = ekb("export", fmt, "--kb", str(imported), "-o", str(target))
    assert result.exit_code == 0, result.output
    written = sorted(target.iterdir()) if target.is_dir() else [target]
    assert written and all(p.stat().st_size > 0 for p in written)


def test_revman_export_of_the_imported_kb_keeps_the_two_group_study_and_reports_skips(
    imported: Path, tmp_path: Path
) -> None:
    target = tmp_path / "revman.csv"
    result = ekb("export", "revman", "--kb", str(imported), "-o", str(target))
    assert result.exit_code == 0
    assert "skipped" in result.stderr
    studies = {row["Study ID"] for row in csv.DictReader(io.StringIO(target.read_text()))}
    assert "nct02210780" in studies
    assert "nct05594173" not in studies  # one cohort of seven groups, no comparator


# --- meta-analysis --------------------------------------------------------------------------


def test_meta_on_an_imported_outcome_reports_the_single_study_without_pooling(
    imported: Path,
) -> None:
    outcome = "outc:withdrawal-adverse-event"
    result = ekb("meta", outcome, "--kb", str(imported), "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["measure"] == "RR" and report["k"] == 1 and report["model"] is None
    assert "without pooling" in report["message"]
    (study,) = report["studies"]
    assert study["study"] == "nct02210780"
    assert study["comparison"] == "Dupilumab 300 mg qw vs Placebo qw"
    # The risk ratio from the arm counts the KB holds (checked against the record above),
    # with metafor's default correction: 1/2 added to every cell when one is zero.
    arms = {
        r["arm_label"]: (int(r["events"]), int(r["total"]))
        for r in _rows("outcome-results", "-p", f"outcome={outcome}", "--kb", str(imported))
        if r["study_id"] == "nct02210780"
    }
    (a, n1), (c, n2) = arms["Dupilumab 300 mg qw"], arms["Placebo qw"]
    add = 0.5 if 0 in (a, c, n1 - a, n2 - c) else 0.0
    expected = ((a + add) / (n1 + 2 * add)) / ((c + add) / (n2 + 2 * add))
    assert study["estimate"] == pytest.approx(expected)
    assert study["continuity_correction"] is bool(add)
    assert {e["study"] for e in report["excluded"]} == {"nct05594173"}


def test_meta_on_an_outcome_with_only_percentages_says_why_and_exits_1(imported: Path) -> None:
    graph = Graph().parse(imported / "studies" / "nct02210780.ttl", format="turtle")
    concept = next(
        str(o)
        for o in graph.objects(None, None)
        if "percentage-of-participants-achieving-an-investigato" in str(o)
    )
    result = ekb("meta", concept, "--kb", str(imported))
    assert result.exit_code == 1
    assert "nothing to pool" in result.stderr and "no events/total reported" in result.stderr
    assert "Traceback" not in result.output
