"""``kb.validation`` and ``ekb validate``: reports, exit codes, formats, caching."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import paths
from kb.cli import cli
from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.validation import (
    FileReport,
    Finding,
    StudyValidator,
    ValidationReport,
    format_text,
    parse_turtle,
    study_files_in,
    validate_files,
    validate_kb,
)

REPO = Path(__file__).resolve().parent.parent
PILOT = "il2-refractory-ln-2021.ttl"
FIXTURE = Path(__file__).parent / "data" / "shapes" / "shape-fixture-2024.ttl"
BROKEN = (
    '@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n\n<a> ekb:x 1 ;\n   ekb:y "open .\n'
)


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A small knowledge base: the pilot and the congress abstract it is linked to."""
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    for name in (PILOT, "il2-refractory-ln-acr-2018.ttl"):
        shutil.copy(paths.shipped_kb_dir() / "studies" / name, kb / "studies" / name)
    return kb


def break_pilot_counts(kb: Path) -> Path:
    """The pilot's 7/10 responders become 11/10."""
    pilot = kb / "studies" / PILOT
    text = pilot.read_text()
    assert text.count("ekb:events 7 ;") == 1
    pilot.write_text(text.replace("ekb:events 7 ;", "ekb:events 11 ;"))
    return pilot


# --- the shipped knowledge base ---------------------------------------------------


def test_the_shipped_kb_validates_with_exit_0() -> None:
    result = run("validate", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["conforms"] is True
    assert doc["counts"]["violation"] == 0
    assert [f["path"] for f in doc["files"]] == [
        f"studies/{p.name}" for p in paths.study_files(paths.shipped_kb_dir())
    ] + [f"reviews/{p.name}" for p in paths.review_files(paths.shipped_kb_dir())]


def test_the_library_validates_a_kb_folder(kb_copy: Path) -> None:
    report = validate_kb(kb_copy)
    assert report.conforms
    assert [f.path for f in report.files] == [
        "studies/il2-refractory-ln-2021.ttl",
        "studies/il2-refractory-ln-acr-2018.ttl",
    ]
    # The pilot names the congress abstract as possibly related; both are here.
    assert report.files[0].related == (
        (
            "https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021",
            "https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-acr-2018",
        ),
    )


# --- exit codes ---------------------------------------------------------------------


def test_more_events_than_total_exits_1_and_says_so(kb_copy: Path) -> None:
    break_pilot_counts(kb_copy)
    result = run("validate", "--kb", str(kb_copy))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"studies/{PILOT} does not conform: 1 violation" in lines
    finding = next(line for line in lines if "ResultCountsShape" in line)
    assert re.fullmatch(
        r"  Violation  study/il2-refractory-ln-2021/result/proteinuria-improvement-50-w12"
        r"  ekb:events  11 events but only 10 in the total  \[ekb:ResultCountsShape\]",
        finding,
    )
    assert lines[-1].startswith(
        f"1 of {len(list((kb_copy / 'studies').glob('*.ttl')))} files does not conform"
    )


def test_a_path_argument_validates_just_that_file(kb_copy: Path) -> None:
    pilot = break_pilot_counts(kb_copy)
    result = run("validate", str(pilot), "--kb", str(kb_copy))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{pilot} does not conform: 1 violation"
    assert result.output.splitlines()[-1] == "1 of 1 file does not conform: 1 violation"


def test_a_folder_argument_validates_its_turtle_files(kb_copy: Path) -> None:
    result = run("validate", str(kb_copy / "studies"), "--kb", str(kb_copy))
    assert result.exit_code == 0, result.output
    n = len(list((kb_copy / "studies").glob("*.ttl")))
    assert result.output.splitlines()[-1].startswith(f"{n} files conform")


def test_broken_turtle_exits_3_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(BROKEN)
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 3
    assert f"{bad}:4: could not parse Turtle" in result.output
    assert "Traceback" not in result.output


def test_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2


def test_a_folder_without_turtle_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no Turtle (.ttl) files" in result.output


def test_a_kb_without_studies_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "--kb", str(tmp_path)])
    assert result.exit_code == 2
    assert "no study files" in result.output


def test_an_unknown_format_exits_2() -> None:
    assert CliRunner().invoke(cli, ["validate", "-f", "xml"]).exit_code == 2


def test_ekb_kb_environment_variable_picks_the_kb(kb_copy: Path) -> None:
    break_pilot_counts(kb_copy)
    assert run("validate", env={"EKB_KB": str(kb_copy)}).exit_code == 1


# --- formats --------------------------------------------------------------------------


def test_json_output_parses_and_carries_every_finding(kb_copy: Path) -> None:
    break_pilot_counts(kb_copy)
    result = run("validate", "--kb", str(kb_copy), "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["conforms"] is False
    assert doc["files_not_conforming"] == 1
    (pilot,) = [f for f in doc["files"] if f["path"] == f"studies/{PILOT}"]
    (violation,) = [x for x in pilot["findings"] if x["severity"] == "Violation"]
    assert violation == {
        "severity": "Violation",
        "focus": "https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021/result/"
        "proteinuria-improvement-50-w12",
        "focus_short": "study/il2-refractory-ln-2021/result/proteinuria-improvement-50-w12",
        "path": "https://w3id.org/evidence-kb/ontology#events",
        "path_short": "ekb:events",
        "message": "11 events but only 10 in the total",
        "source_shape": "https://w3id.org/evidence-kb/ontology#ResultCountsShape",
        "component": "http://www.w3.org/ns/shacl#SPARQLConstraintComponent",
        "value": "11",
    }


def test_json_output_is_stable_between_runs(kb_copy: Path) -> None:
    first = run("validate", "--kb", str(kb_copy), "-f", "json").output
    assert first == run("validate", "--kb", str(kb_copy), "-f", "json").output
    assert json.loads(first)["conforms"] is True


def test_infos_are_counted_but_listed_only_when_asked(
    validator: StudyValidator, tmp_path: Path
) -> None:
    text = FIXTURE.read_text().replace('    ekb:extractedBy "tests" ;\n', "", 1)
    edited = tmp_path / FIXTURE.name
    edited.write_text(text)
    report = ValidationReport(files=(validator.validate_file(edited, "x.ttl"),))
    default = format_text(report)
    assert default == "1 file conforms (1 info; warnings and infos do not fail validation)\n"
    listed = format_text(report, "Info").splitlines()
    assert listed[0] == "x.ttl conforms with 1 info"
    assert listed[1].split()[:3] == ["Info", "study/shape-fixture-2024", "ekb:extractedBy"]


def test_text_lines_are_aligned_per_file() -> None:
    findings = (
        Finding(
            "Violation",
            "https://w3id.org/evidence-kb/resource/study/s/result/a",
            "https://w3id.org/evidence-kb/ontology#events",
            "m1",
            "https://w3id.org/evidence-kb/ontology#X",
            None,
            "3",
        ),
        Finding(
            "Warning",
            "https://w3id.org/evidence-kb/resource/study/s",
            "https://w3id.org/evidence-kb/ontology#sd",
            "m2",
            None,
            None,
            None,
        ),
    )
    report = ValidationReport(files=(FileReport("s.ttl", "0", findings),))
    assert format_text(report).splitlines() == [
        "s.ttl does not conform: 1 violation, 1 warning",
        "  Violation  study/s/result/a  ekb:events  m1 (found 3)  [ekb:X]",
        "  Warning    study/s           ekb:sd      m2",
        "1 of 1 file does not conform: 1 violation, 1 warning",
    ]


def test_complex_paths_are_shown_in_sparql_syntax(
    validator: StudyValidator, tmp_path: Path
) -> None:
    text = FIXTURE.read_text().replace(
        "    ekb:hasClaim res:study\\/shape-fixture-2024\\/claim\\/conclusion ;\n", ""
    )
    edited = tmp_path / FIXTURE.name
    edited.write_text(text)
    (finding,) = validator.validate_file(edited).findings
    assert finding.row()[2] == "^ekb:hasClaim"


def test_an_unknown_severity_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        format_text(ValidationReport(), "Fatal")


# --- reading Turtle ----------------------------------------------------------------------


def test_parse_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(BROKEN)
    with pytest.raises(RdfSyntaxError) as err:
        parse_turtle(bad)
    assert (err.value.path, err.value.line) == (str(bad), 4)
    assert err.value.exit_code == 3


def test_a_file_that_is_not_utf8_is_a_syntax_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.ttl"
    bad.write_bytes(b'<a> <b> "caf\xe9" .\n')
    with pytest.raises(RdfSyntaxError):
        parse_turtle(bad)


def test_an_unreadable_file_could_not_run(tmp_path: Path) -> None:
    with pytest.raises(CouldNotRun):
        parse_turtle(tmp_path / "missing.ttl")


def test_folders_expand_to_their_study_files(kb_copy: Path) -> None:
    files = study_files_in([kb_copy])
    assert [f.name for f in files] == sorted(p.name for p in (kb_copy / "studies").glob("*.ttl"))
    # The same file twice is validated once.
    assert study_files_in([files[0], files[0]]) == [files[0]]


# --- per-file validation and the cache -----------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> StudyValidator:
    return StudyValidator(paths.kb_vocab_files(paths.shipped_kb_dir()))


def test_revalidating_after_one_file_changed_runs_shacl_on_that_file_only(
    kb_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache: dict[str, FileReport] = {}
    validator = StudyValidator(paths.kb_vocab_files(kb_copy), cache=cache)
    files = paths.study_files(kb_copy)[:3]
    ran: list[str] = []
    original = StudyValidator._validate_graph

    def counting(self, file_graph, display, digest, path):  # type: ignore[no-untyped-def]
        ran.append(Path(path).name)
        return original(self, file_graph, display, digest, path)

    monkeypatch.setattr(StudyValidator, "_validate_graph", counting)
    first = validate_files(files, kb_copy, validator)
    assert sorted(ran) == sorted(f.name for f in files)
    ran.clear()
    files[1].write_text(files[1].read_text() + "\n# an edit\n")
    second = validate_files(files, kb_copy, validator)
    assert ran == [files[1].name]
    assert [f.findings for f in first.files] == [f.findings for f in second.files]
    assert first.files[1].sha256 != second.files[1].sha256


def test_findings_are_only_about_what_the_file_says(validator: StudyValidator) -> None:
    report = validator.validate_file(FIXTURE)
    assert report.findings == ()
    assert report.studies == ("https://w3id.org/evidence-kb/resource/study/shape-fixture-2024",)


# --- the real command, as the README runs it --------------------------------------------


def test_ekb_validate_runs_from_another_folder_in_a_subprocess(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("EKB_KB", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from kb.cli import main; main()", "validate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "files conform" in proc.stdout.splitlines()[-1]


# --- worker processes and progress ---------------------------------------------------------


def test_jobs_give_the_same_report_as_one_process(kb_copy: Path) -> None:
    break_pilot_counts(kb_copy)
    one = validate_kb(kb_copy)
    seen: list[tuple[int, int]] = []
    two = validate_kb(kb_copy, jobs=2, progress=lambda done, total: seen.append((done, total)))
    assert two == one
    assert seen == [(1, 2), (2, 2)]


def test_jobs_skip_cached_files_and_report_syntax_errors_with_file_and_line(kb_copy: Path) -> None:
    cache: dict[str, FileReport] = {}
    validator = StudyValidator(paths.kb_vocab_files(kb_copy), cache=cache)
    validate_kb(kb_copy, validator=validator)
    assert len(cache) == 2
    bad = kb_copy / "studies" / "zz-broken.ttl"
    bad.write_text(BROKEN)
    with pytest.raises(RdfSyntaxError) as err:
        validate_kb(kb_copy, jobs=2, validator=validator)
    assert (err.value.path, err.value.line) == (str(bad), 4)


def test_jobs_below_one_are_a_usage_error(kb_copy: Path) -> None:
    with pytest.raises(UsageError):
        validate_kb(kb_copy, jobs=0)
    assert CliRunner().invoke(cli, ["validate", "--kb", str(kb_copy), "-j", "0"]).exit_code == 2


def test_the_cli_accepts_jobs(kb_copy: Path) -> None:
    break_pilot_counts(kb_copy)
    result = run("validate", "--kb", str(kb_copy), "-j", "2")
    assert result.exit_code == 1
    assert "11 events but only 10 in the total" in result.output


# --- the on-disk cache -------------------------------------------------------------------------


@pytest.fixture
def disk_cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("EKB_CACHE", "always")
    monkeypatch.setenv("EKB_CACHE_DIR", str(cache_dir))
    return cache_dir / "validation.sqlite"


def count_shacl_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []
    original = StudyValidator._validate_graph

    def counting(self, file_graph, display, digest, path):  # type: ignore[no-untyped-def]
        ran.append(Path(path).name)
        return original(self, file_graph, display, digest, path)

    monkeypatch.setattr(StudyValidator, "_validate_graph", counting)
    return ran


def test_a_second_run_answers_from_the_disk_cache(
    kb_copy: Path, disk_cache_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = count_shacl_runs(monkeypatch)
    break_pilot_counts(kb_copy)
    first = validate_kb(kb_copy)
    assert len(ran) == 2 and disk_cache_env.is_file()
    ran.clear()
    second = validate_kb(kb_copy)
    assert ran == []
    assert second == first
    assert not second.conforms


def test_a_corrupt_disk_cache_is_rebuilt_not_trusted(
    kb_copy: Path, disk_cache_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk_cache_env.parent.mkdir(parents=True)
    disk_cache_env.write_bytes(b"this is not an SQLite database" * 100)
    ran = count_shacl_runs(monkeypatch)
    report = validate_kb(kb_copy)
    assert report.conforms and len(ran) == 2
    ran.clear()
    validate_kb(kb_copy)
    assert ran == []


def test_no_disk_cache_when_asked_never(
    kb_copy: Path, disk_cache_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKB_CACHE", "never")
    validate_kb(kb_copy)
    assert not disk_cache_env.exists()


def test_small_kbs_use_no_disk_cache_by_default(
    kb_copy: Path, disk_cache_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EKB_CACHE")
    validate_kb(kb_copy)
    assert not disk_cache_env.exists()
