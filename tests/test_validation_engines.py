"""The two SHACL engines of ``kb.validation`` give the same findings.

pySHACL is the reference; pySHACL-turbo checks many files per run. Every
invalid example of ``tests/test_shapes.py`` must give turbo exactly pySHACL's
findings (severity, focus, path, message, shape, component, value), every valid
one none, and files validated together must get what each gets alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_shapes import (
    CASES,
    VALID,
    _datatype_cases_by_record,
    edited_fixture,
    results,
)

from kb import paths
from kb.bench.generate import generate_kb
from kb.cli import cli
from kb.errors import RdfSyntaxError, UsageError
from kb.validation import (
    AUTO_TURBO_MIN_FILES,
    StudyValidator,
    _independent_groups,
    _ParsedFile,
    validate_files,
    validate_kb,
)

pytestmark = pytest.mark.skipif(
    not __import__("kb.validation").validation.turbo_available(),
    reason="pyshacl-turbo is not installed",
)

VOCAB = paths.kb_vocab_files(paths.shipped_kb_dir())


@pytest.fixture(scope="module")
def reference() -> StudyValidator:
    return StudyValidator(VOCAB, engine="pyshacl")


@pytest.fixture(scope="module")
def turbo() -> StudyValidator:
    return StudyValidator(VOCAB, engine="turbo")


@pytest.mark.parametrize(
    ("set_", "remove", "add"),
    [pytest.param(s, r, a, id=name) for name, s, r, a, _e in CASES],
)
def test_turbo_gives_exactly_pyshacls_findings_for_every_invalid_example(
    reference: StudyValidator,
    turbo: StudyValidator,
    tmp_path: Path,
    set_: list,
    remove: list,
    add: list,
) -> None:
    path = edited_fixture(tmp_path, set_, remove, add)
    expected = reference.validate_file(path)
    assert expected.findings, "an invalid example must have findings"
    assert turbo.validate_file(path) == expected


@pytest.mark.parametrize(
    ("set_", "remove", "add"), [pytest.param(s, r, a, id=name) for name, s, r, a in VALID]
)
def test_turbo_reports_nothing_on_every_valid_boundary_example(
    turbo: StudyValidator, tmp_path: Path, set_: list, remove: list, add: list
) -> None:
    assert turbo.validate_file(edited_fixture(tmp_path, set_, remove, add)).findings == ()


@pytest.mark.parametrize(
    "cases",
    [pytest.param(c, id=f or "study") for f, c in sorted(_datatype_cases_by_record().items())],
)
def test_turbo_reports_every_wrong_datatype_by_its_shape(
    turbo: StudyValidator, tmp_path: Path, cases: list
) -> None:
    edited = edited_fixture(
        tmp_path, set_=[(focus, path, wrong) for _, focus, path, wrong in cases]
    )
    assert results(turbo, edited) == {(focus, path, shape) for shape, focus, path, _ in cases}


def test_both_engines_give_the_same_report_on_the_shipped_kb() -> None:
    reference = validate_kb(paths.shipped_kb_dir(), engine="pyshacl")
    assert validate_kb(paths.shipped_kb_dir(), engine="turbo") == reference


def _broken_synthetic_kb(tmp_path: Path, n: int) -> Path:
    """Synthetic studies, a few broken in different ways, one pointing into another."""
    kb = tmp_path / "kb"
    generate_kb(n, kb, seed=7)
    studies = kb / "studies"
    first = studies / "syn-000001.ttl"
    text = first.read_text()
    first.write_text(text.replace("ekb:atRisk ", "ekb:affected 100000 ;\n    ekb:atRisk ", 1))
    second = studies / "syn-000002.ttl"
    second.write_text(second.read_text().replace('"ekb bench generator"', "42", 1))
    # A result of study 3 whose arm is study 4: only a run that sees both
    # files together could hide (or invent) a finding about it.
    third = studies / "syn-000003.ttl"
    third.write_text(
        third.read_text().replace(
            "ekb:arm <study/syn-000003/arm/",
            "ekb:arm <study/syn-000004> , <study/syn-000003/arm/",
            1,
        )
    )
    return kb


def test_files_checked_together_get_what_each_gets_alone(tmp_path: Path) -> None:
    kb = _broken_synthetic_kb(tmp_path, 12)
    files = paths.study_files(kb)
    vocab = paths.kb_vocab_files(kb)
    together = StudyValidator(vocab, engine="turbo").validate_many([(f, f.name) for f in files])
    alone_turbo = [StudyValidator(vocab, engine="turbo").validate_file(f, f.name) for f in files]
    assert together == alone_turbo
    reference = StudyValidator(vocab, engine="pyshacl")
    for f, report in zip(files[:4], together[:4], strict=True):
        assert report == reference.validate_file(f, f.name)
    broken = {r.path for r in together if not r.conforms}
    assert {"syn-000001.ttl", "syn-000002.ttl", "syn-000003.ttl"} <= broken


def test_a_file_that_points_into_another_is_never_batched_with_it(tmp_path: Path) -> None:
    kb = _broken_synthetic_kb(tmp_path, 6)
    parsed = []
    for i, f in enumerate(paths.study_files(kb)):
        one = _ParsedFile.parse(f, f.name, f.read_bytes(), str(i))
        assert one is not None
        one.index = i
        parsed.append(one)
    groups = _independent_groups(parsed)
    for group in groups:
        names = {one.display for one in group}
        assert not {"syn-000003.ttl", "syn-000004.ttl"} <= names
    assert sorted(one.display for g in groups for one in g) == sorted(p.display for p in parsed)
    assert len(groups) == 2


def test_auto_uses_turbo_only_for_many_files() -> None:
    auto = StudyValidator(VOCAB)
    assert auto.engine_for(AUTO_TURBO_MIN_FILES) == "turbo"
    assert auto.engine_for(AUTO_TURBO_MIN_FILES - 1) == "pyshacl"
    assert StudyValidator(VOCAB, engine="pyshacl").engine_for(10_000) == "pyshacl"
    assert StudyValidator(VOCAB, engine="turbo").engine_for(1) == "turbo"


def test_an_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown SHACL engine"):
        StudyValidator(VOCAB, engine="fast")
    result = CliRunner().invoke(cli, ["validate", "--engine", "fast"])
    assert result.exit_code == 2


def test_the_cli_with_turbo_exits_1_and_says_what_is_wrong(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    pilot = paths.shipped_kb_dir() / "studies" / "il2-refractory-ln-2021.ttl"
    text = pilot.read_text()
    assert text.count("ekb:events 7 ;") == 1
    (kb / "studies" / pilot.name).write_text(text.replace("ekb:events 7 ;", "ekb:events 11 ;"))
    shutil.copy(pilot.parent / "il2-refractory-ln-acr-2018.ttl", kb / "studies")
    result = CliRunner().invoke(cli, ["validate", "--kb", str(kb), "--engine", "turbo"])
    assert result.exit_code == 1
    assert "11 events but only 10 in the total" in result.output
    same = CliRunner().invoke(cli, ["validate", "--kb", str(kb), "--engine", "pyshacl"])
    assert same.output == result.output


def test_turbo_names_file_and_line_of_broken_turtle(tmp_path: Path) -> None:
    bad = tmp_path / "broken.ttl"
    bad.write_text(
        "@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n\n"
        '<a> ekb:x 1 ;\n   ekb:y "open .\n'
    )
    with pytest.raises(RdfSyntaxError) as err:
        validate_files([bad], tmp_path, engine="turbo")
    assert (err.value.path, err.value.line) == (str(bad), 4)


def test_jobs_with_turbo_give_the_same_report_as_one_process(tmp_path: Path) -> None:
    kb = _broken_synthetic_kb(tmp_path, 8)
    one = validate_kb(kb, engine="turbo")
    assert validate_kb(kb, engine="turbo", jobs=2) == one
    assert not one.conforms
