"""Hostile study ids, query parameters, ad-hoc SPARQL and options, through the real
command line. SPARQL that tries to reach a server is pointed at a recording server
on loopback, which must see no request."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RecordingServer
from hostile import PILOT, assert_refused, ekb, make_kb, tree_hash


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


def hostile_ids(url: str) -> list[str]:
    return [
        f"x> a ?t }} SERVICE <{url}/ssrf> {{ ?s ?p ?o",
        f'{PILOT}"}} SERVICE <{url}/ssrf> {{ ?s ?p ?o }} #',
        f"{PILOT}> }} UNION {{ ?s ?p ?o",
        "il2 refractory",
        "../../etc/passwd",
        "res:study/x> ?p ?o } #",
        "",
    ]


@pytest.mark.parametrize("index", range(7))
def test_hostile_study_id_in_summary_is_refused_and_sends_nothing(
    kb: Path, recording_server: RecordingServer, index: int
) -> None:
    study = hostile_ids(recording_server.url)[index]
    before = tree_hash(kb)
    run = ekb("summary", study, "--kb", kb)
    assert_refused(run, 2, kb=kb, before=before)
    assert "study" in run.stderr
    assert recording_server.requests == []


@pytest.mark.parametrize("index", range(3))
def test_hostile_study_parameter_is_refused_and_sends_nothing(
    kb: Path, recording_server: RecordingServer, index: int
) -> None:
    study = hostile_ids(recording_server.url)[index]
    run = ekb("query", "pico", "-p", f"study={study}", "--kb", kb)
    assert_refused(run, 2, "study")
    assert recording_server.requests == []


@pytest.mark.parametrize("study", ["../../etc/passwd", f"{PILOT}\n", "no-such-study"])
def test_hostile_study_id_in_show(kb: Path, study: str) -> None:
    run = ekb("show", study, "--kb", kb)
    assert_refused(run, 2, "no study")
    assert "root:" not in run.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["query", "pico", "-p", "nonsense"], ["NAME=VALUE"]),
        (["query", "pico", "-p", "stud=x"], ["stud"]),
        (["query", "no-such-query"], ["no-such-query"]),
        (["query", "pico"], ["study"]),
        (["query", "pico", "-p", f"study={PILOT}", "-p", f"study={PILOT}"], ["twice"]),
        (["query", "outcome-results", "-p", "outcome=<http://x/> } #"], ["outcome"]),
    ],
    ids=["no-equals", "unknown-param", "unknown-query", "missing-param", "twice", "bad-concept"],
)
def test_hostile_query_parameters(kb: Path, args: list[str], words: list[str]) -> None:
    before = tree_hash(kb)
    run = ekb(*args, "--kb", kb)
    assert_refused(run, 2, *words, kb=kb, before=before)


SPARQL_REFUSED = {
    "insert": ("INSERT DATA { <http://a> <http://b> <http://c> }", "updates are refused"),
    "escaped-insert": (
        "\\u0049NSERT DATA { <http://a> <http://b> <http://c> }",
        "updates are refused",
    ),
    "escaped-delete": ("\\U00000044ELETE WHERE { ?s ?p ?o }", "updates are refused"),
    "drop": ("DROP ALL", "updates are refused"),
    "clear": ("# SELECT\nCLEAR DEFAULT", "updates are refused"),
    "with": ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "updates are refused"),
    "chained": (
        "SELECT * {} ; INSERT DATA { <http://a> <http://b> <http://c> }",
        "updates are refused",
    ),
    "garbage": ("hello world", "not a SPARQL query"),
    "empty": ("", "not a SPARQL query"),
    "syntax": ("SELECT ?s WHERE { ?s ?p", "SPARQL syntax error"),
}


@pytest.mark.parametrize("case", sorted(SPARQL_REFUSED))
def test_hostile_sparql_is_refused(kb: Path, case: str) -> None:
    text, words = SPARQL_REFUSED[case]
    before = tree_hash(kb)
    run = ekb("sparql", text, "--kb", kb)
    assert_refused(run, 2, words, kb=kb, before=before)


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{url}/x> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ SER\\u0056ICE <{url}/x> {{ ?s ?p ?o }} }}",
        "PREFIX e: <{url}/> SELECT * WHERE {{ service silent e:x {{ ?s ?p ?o }} }}",
        "LOAD <{url}/data.ttl>",
        "ASK {{ SERVICE <{url}/x> {{ }} }}",
    ],
    ids=["service", "escaped-service", "service-silent", "load", "ask-service"],
)
def test_sparql_cannot_make_the_store_fetch_a_url(
    kb: Path, recording_server: RecordingServer, template: str
) -> None:
    run = ekb("sparql", template.format(url=recording_server.url), "--kb", kb, timeout=60)
    assert_refused(run, 2)
    assert "SERVICE is refused" in run.stderr or "updates are refused" in run.stderr
    assert recording_server.requests == []


def test_allow_service_is_the_explicit_way_to_use_service(
    kb: Path, recording_server: RecordingServer
) -> None:
    # The control for the refusals above: with the option the request is made.
    recording_server.responder = lambda _r: (
        200,
        "application/sparql-results+json",
        b'{"head": {"vars": ["s"]}, "results": {"bindings": []}}',
    )
    text = f"SELECT * WHERE {{ SERVICE <{recording_server.url}/sparql> {{ ?s ?p ?o }} }}"
    run = ekb("sparql", "--allow-service", text, "--kb", kb, "--timeout", "10", timeout=60)
    assert "Traceback" not in run.output
    assert len(recording_server.requests) >= 1


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["stats", "--timeout", "0"], 2, ["--timeout"]),
        (["stats", "--timeout", "-5"], 2, ["--timeout"]),
        (["stats", "--timeout", "soon"], 2, ["--timeout"]),
        (["stats", "--endpoint", "ftp://example.org/q"], 2, ["http"]),
        (["stats", "--endpoint", "http://user:pw1234@[::1"], 2, []),
        (["validate", "--jobs", "0"], 2, ["jobs"]),
        (["export", "nonsense"], 2, ["nonsense"]),
        (["query", "pico", "-f", "yaml", "-p", f"study={PILOT}"], 2, ["yaml"]),
        (["show", PILOT, "-f", "pdf"], 2, ["pdf"]),
        (["validate", "-s", "loud"], 2, ["loud"]),
    ],
    ids=[
        "timeout-zero",
        "timeout-negative",
        "timeout-word",
        "endpoint-ftp",
        "endpoint-malformed",
        "jobs-zero",
        "export-format",
        "query-format",
        "show-format",
        "severity",
    ],
)
def test_hostile_options(kb: Path, args: list[str], code: int, words: list[str]) -> None:
    before = tree_hash(kb)
    run = ekb(*args, "--kb", kb)
    assert_refused(run, code, *words, kb=kb, before=before)
    assert "pw1234" not in run.output


def test_kb_that_does_not_exist(tmp_path: Path) -> None:
    run = ekb("stats", "--kb", tmp_path / "nowhere")
    assert run.returncode in (2, 3) and "Traceback" not in run.output
    assert "nowhere" in run.stderr


def test_kb_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    run = ekb("stats", "--kb", f)
    assert run.returncode in (2, 3) and "Traceback" not in run.output
    assert "file" in run.stderr
