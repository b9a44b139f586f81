"""Hostile files inside a knowledge base (Turtle), registry records (JSON) and
``meta --data`` tables (CSV), through the real command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile import PILOT, assert_refused, ekb, make_kb, tree_hash

from kb import paths


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def pilot_text() -> str:
    return (paths.shipped_kb_dir() / "studies" / f"{PILOT}.ttl").read_text(encoding="utf-8")


# --- Turtle in studies/ ---------------------------------------------------------

BROKEN_TURTLE = {
    "syntax-error": '@prefix ekb: <https://w3id.org/evidence-kb/ontology#> .\n<a> ekb:x "open .\n',
    "binary": "\x00\x01\x02\x7f garbage \x1b[2J",
    "unknown-prefix": "nope:a nope:b nope:c .\n",
    "long-line": "<a> <b> " + "x" * 100_000 + " .\n",
}


@pytest.mark.parametrize("command", [["validate"], ["stats"], ["query", "counts"]])
@pytest.mark.parametrize("case", sorted(BROKEN_TURTLE))
def test_unparseable_study_file_is_named_with_a_short_excerpt(
    kb: Path, case: str, command: list[str]
) -> None:
    bad = kb / "studies" / f"broken-{case}.ttl"
    bad.write_text(BROKEN_TURTLE[case], encoding="utf-8")
    before = tree_hash(kb)
    run = ekb(*command, "--kb", kb)
    assert_refused(run, 3, f"broken-{case}.ttl", kb=kb, before=before)
    assert len(run.stderr) < 600, "more than a short excerpt of the file was echoed"
    assert "\x1b" not in run.stderr and "x" * 200 not in run.stderr


@pytest.mark.parametrize("command", [["validate"], ["stats"], ["show", "passwd"]])
def test_link_leaving_the_knowledge_base_is_refused(kb: Path, command: list[str]) -> None:
    os.symlink("/etc/passwd", kb / "studies" / "passwd.ttl")
    before = tree_hash(kb)
    run = ekb(*command, "--kb", kb)
    assert_refused(run, 3, "passwd.ttl", "leads out of the knowledge base", kb=kb, before=before)
    assert "root:" not in run.output


def test_link_inside_the_knowledge_base_is_read(kb: Path) -> None:
    (kb / "spare").mkdir()
    (kb / "studies" / f"{PILOT}.ttl").rename(kb / "spare" / f"{PILOT}.ttl")
    os.symlink(kb / "spare" / f"{PILOT}.ttl", kb / "studies" / f"{PILOT}.ttl")
    run = ekb("validate", "--kb", kb)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("command", [["validate"], ["stats"]])
def test_fifo_named_ttl_does_not_block(kb: Path, command: list[str]) -> None:
    os.mkfifo(kb / "studies" / "pipe.ttl")
    before = tree_hash(kb)
    run = ekb(*command, "--kb", kb, timeout=60)
    assert_refused(run, 3, "pipe.ttl", "not a regular file", kb=kb, before=before)


def test_folder_named_ttl_is_refused(kb: Path) -> None:
    (kb / "studies" / "folder.ttl").mkdir()
    before = tree_hash(kb)
    run = ekb("stats", "--kb", kb)
    assert_refused(run, 3, "folder.ttl", kb=kb, before=before)


def test_a_study_file_may_not_describe_another_studys_records(kb: Path) -> None:
    intruder = pilot_text().replace(PILOT, "intruder-2024")
    intruder += (
        f"\n<https://w3id.org/evidence-kb/resource/study/{PILOT}/population>"
        " <https://w3id.org/evidence-kb/ontology#enrolled> 999 .\n"
    )
    (kb / "studies" / "intruder-2024.ttl").write_text(intruder, encoding="utf-8")
    before = tree_hash(kb)
    run = ekb("validate", "--kb", kb)
    assert run.returncode == 1 and "Traceback" not in run.output
    assert "intruder-2024.ttl" in run.stdout
    assert f"study/{PILOT}/population" in run.stdout
    assert "only describe its own study's records" in run.stdout
    assert tree_hash(kb) == before


def test_ill_typed_integer_is_a_finding_not_a_traceback(kb: Path) -> None:
    pilot = kb / "studies" / f"{PILOT}.ttl"
    pilot.write_text(
        pilot.read_text().replace("ekb:enrolled 10 ;", 'ekb:enrolled "ten"^^xsd:integer ;')
    )
    before = tree_hash(kb)
    run = ekb("validate", "--kb", kb)
    assert run.returncode == 1 and "Traceback" not in run.output
    assert "ekb:enrolled" in run.stdout and "ten" in run.stdout
    shown = ekb("show", PILOT, "-f", "md", "--kb", kb)
    assert "Traceback" not in shown.output and shown.returncode in (0, 1, 3)
    summary = ekb("summary", PILOT, "--kb", kb)  # no sentence is built on a number that is not
    assert summary.returncode == 1 and "Traceback" not in summary.output
    assert "'ten' is not a valid xsd:integer" in summary.stderr
    assert tree_hash(kb) == before


def test_terminal_escapes_in_a_title_are_shown_escaped(kb: Path) -> None:
    pilot = kb / "studies" / f"{PILOT}.ttl"
    text = pilot.read_text()
    assert 'ekb:title "Low-dose' in text
    pilot.write_text(
        text.replace('ekb:title "Low-dose', 'ekb:title "\\u001B[2J\\u001B]0;owned\\u0007Low-dose')
    )
    for args in (["show", PILOT, "-f", "md"], ["summary", PILOT], ["query", "studies"]):
        run = ekb(*args, "--kb", kb)
        assert run.returncode == 0, (args, run.stderr)
        assert "\x1b" not in run.stdout and "\x07" not in run.stdout, args
        assert "\\x1b[2J" in run.stdout, args


# --- registry records -------------------------------------------------------------

JSON_CASES = {
    "nan": ('{"protocolSection": {"x": NaN}}', "NaN"),
    "infinity": ('{"protocolSection": {"x": -Infinity}}', "-Infinity"),
    "1e400": ('{"protocolSection": {"x": 1e400}}', "too large"),
    "5000-digits": ('{"protocolSection": {"x": ' + "7" * 5000 + "}}", "more than 19 digits"),
    "deep": ("[" * 100_000 + "]" * 100_000, "nested more than"),
    "not-json": ("{'single': 'quotes'}", "not valid JSON"),
    "truncated": ('{"protocolSection": {"identificationModule": ', "not valid JSON"),
    "empty": ("", "not valid JSON"),
    "array-of-numbers": ("[1, 2, 3]", ""),
    "no-study": ('{"studies": []}', "holds no study"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_hostile_registry_record_is_refused(kb: Path, tmp_path: Path, case: str) -> None:
    text, words = JSON_CASES[case]
    record = tmp_path / f"{case}.json"
    record.write_text(text, encoding="utf-8")
    before = tree_hash(kb)
    run = ekb("import", "ctgov", record, "--kb", kb)
    assert_refused(run, 3, f"{case}.json", *([words] if words else []), kb=kb, before=before)


def test_registry_record_not_utf8(kb: Path, tmp_path: Path) -> None:
    record = tmp_path / "latin1.json"
    record.write_bytes(b'{"x": "caf\xe9"}')
    before = tree_hash(kb)
    run = ekb("import", "ctgov", record, "--kb", kb)
    assert_refused(run, 3, "latin1.json", "UTF-8", kb=kb, before=before)


def test_import_refuses_the_shipped_knowledge_base(tmp_path: Path) -> None:
    record = tmp_path / "r.json"
    record.write_text('{"x": 1}', encoding="utf-8")
    shipped = paths.shipped_kb_dir() / "studies"
    before = tree_hash(shipped)
    run = ekb("import", "ctgov", record)
    assert_refused(run, 2, "read-only", "ekb init")
    assert tree_hash(shipped) == before


# --- meta --data tables --------------------------------------------------------------

CSV_CASES = {
    "infinity": ("study,ai,bi,ci,di\na,1,2,3,4\nb,inf,2,3,4\n", 2, ["column ai", "not finite"]),
    "nan": ("study,ai,bi,ci,di\na,1,nan,3,4\nb,1,2,3,4\n", 2, ["column bi", "not finite"]),
    "1e400": ("study,ai,bi,ci,di\na,1,2,3,4\nb,1e400,2,3,4\n", 2, ["not finite"]),
    "text": ("study,ai,bi,ci,di\na,one,2,3,4\n", 2, ["column ai", "not a number"]),
    "no-columns": ("study,x,y\na,1,2\n", 2, []),
    "empty": ("", 2, []),
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_hostile_meta_data_is_refused(tmp_path: Path, case: str) -> None:
    text, code, words = CSV_CASES[case]
    data = tmp_path / f"{case}.csv"
    data.write_text(text, encoding="utf-8")
    run = ekb("meta", "--data", data)
    assert_refused(run, code, f"{case}.csv", *words)


def test_meta_data_binary_file(tmp_path: Path) -> None:
    data = tmp_path / "binary.csv"
    data.write_bytes(b"\xff\xfe\x00\x01\x02")
    run = ekb("meta", "--data", data)
    assert run.returncode in (2, 3) and "Traceback" not in run.output
    assert "binary.csv" in run.stderr
