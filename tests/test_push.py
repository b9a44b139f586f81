"""``ekb push`` and :mod:`kb.push` against a real Oxigraph server and small failing servers."""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import paths
from kb.cli import cli
from kb.errors import EndpointError, UsageError
from kb.push import PushFailed, graph_store_url, plan_push, push, push_kb
from kb.remote import RemoteStore
from kb.store import SCHEMA_GRAPH, EmbeddedStore, graph_iri_for

STUDY = "https://w3id.org/evidence-kb/resource/study/"
EX = "http://example.org/test#"


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def graph_counts(server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Triples per named graph on the server, and under "" those of the default graph."""
    remote = RemoteStore(server.query_url, timeout=10)
    named = remote.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    counts = {str(r["g"]): int(r["n"]) for r in named.rows}
    # With --union-default-graph the default graph is the union; count the real default
    # graph as what the union holds beyond the named graphs.
    everything = remote.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    counts[""] = int(everything.rows[0]["n"]) - sum(counts.values())
    return {g: n for g, n in counts.items() if n}


def embedded_graph_counts() -> dict[str, int]:
    store = EmbeddedStore.open_kb()
    rows = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {str(r["g"]): int(r["n"]) for r in rows.rows}


def distinct_triples() -> int:
    store = EmbeddedStore.open_kb()
    return int(
        store.select(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
        ).rows[0]["n"]
    )


# --- layouts ---------------------------------------------------------------------------------


def test_push_per_study_recreates_the_embedded_graphs_on_the_server(oxigraph):
    result = run("push", "--store", oxigraph.store_url, "--graph-per-study")
    assert result.exit_code == 0, result.output
    expected = embedded_graph_counts()
    assert SCHEMA_GRAPH in expected
    assert {graph_iri_for(f) for f in paths.study_files(paths.shipped_kb_dir())} <= set(expected)
    assert graph_counts(oxigraph) == expected
    first_line = result.stdout.splitlines()[0]
    assert first_line == (
        f"added {sum(expected.values())} triples in {len(expected)} graphs at "
        f"{oxigraph.store_url} ({len(expected)} POST requests)"
    )


def test_push_without_layout_puts_everything_in_the_default_graph(oxigraph):
    result = run("push", "--store", oxigraph.store_url)
    assert result.exit_code == 0, result.output
    assert graph_counts(oxigraph) == {"": distinct_triples()}
    assert "(default graph)" in result.stdout


def test_push_into_one_named_graph(oxigraph):
    graph = "https://example.org/graph/lupus-kb"
    result = run("push", "--store", oxigraph.store_url, "--graph", graph)
    assert result.exit_code == 0, result.output
    assert graph_counts(oxigraph) == {graph: distinct_triples()}


def test_small_chunks_send_many_bounded_requests_and_lose_nothing(oxigraph, recording_server):
    plan = plan_push(layout="per-study")
    report = push(plan, oxigraph.store_url, chunk_bytes=4000)
    assert report.requests > len(plan.graphs)
    assert graph_counts(oxigraph) == embedded_graph_counts()
    # The same plan to a recording server: every body within the bound (no line is longer).
    push(plan, recording_server.url + "/store", chunk_bytes=4000)
    assert len(recording_server.requests) == report.requests
    assert all(len(r.body) <= 4000 for r in recording_server.requests)
    assert all(r.method == "POST" for r in recording_server.requests)
    assert all(r.headers["Content-Type"] == "text/turtle" for r in recording_server.requests)


def _kb_with_blank_nodes(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    # Test data only (example.org terms): many blank nodes, each with two facts that
    # mean nothing unless they stay together.
    lines = [f"@prefix ex: <{EX}> ."]
    for i in range(60):
        lines.append(f"ex:thing{i} ex:part [ ex:key {i} ; ex:twice {2 * i} ] .")
    (kb / "studies" / "blank-nodes.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return kb


def test_triples_sharing_a_blank_node_travel_in_one_request(oxigraph, tmp_path):
    kb = _kb_with_blank_nodes(tmp_path)
    report = push_kb(oxigraph.store_url, kb, layout="per-study", chunk_bytes=500)
    assert report.requests > 3
    rows = RemoteStore(oxigraph.query_url).select(
        f"PREFIX ex: <{EX}> SELECT ?k ?t WHERE {{ ?x ex:part ?b . ?b ex:key ?k ; ex:twice ?t }}"
    )
    pairs = sorted((int(r["k"]), int(r["t"])) for r in rows.rows)
    assert pairs == [(i, 2 * i) for i in range(60)]


def test_progress_callback_counts_every_byte(recording_server):
    plan = plan_push(layout="per-study")
    sent: list[int] = []
    push(plan, recording_server.url + "/store", chunk_bytes=10_000, on_progress=sent.append)
    assert sum(sent) == plan.total_bytes
    assert len(sent) == len(recording_server.requests)


def test_graph_store_url_uses_indirect_identification():
    assert graph_store_url("http://h:7878/store", None) == "http://h:7878/store?default"
    assert (
        graph_store_url("http://h:7878/store", "urn:x:g") == "http://h:7878/store?graph=urn%3Ax%3Ag"
    )


# --- replace ----------------------------------------------------------------------------------


def _add(server, graph: str, triple: str) -> None:  # type: ignore[no-untyped-def]
    server.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {triple} }} }}")


def test_replace_puts_each_graph_and_drops_stale_triples_but_not_other_graphs(oxigraph):
    study_graph = graph_iri_for(paths.study_files(paths.shipped_kb_dir())[0])
    _add(oxigraph, study_graph, f"<{EX}stale> <{EX}p> 1 .")
    _add(oxigraph, "https://example.org/other", f"<{EX}kept> <{EX}p> 2 .")
    result = run("push", "--store", oxigraph.store_url, "--graph-per-study", "--replace")
    assert result.exit_code == 0, result.output
    counts = graph_counts(oxigraph)
    assert counts.pop("https://example.org/other") == 1
    assert counts == embedded_graph_counts()
    assert result.stdout.startswith("replaced ")
    assert "PUT request" in result.stdout.splitlines()[0]


def test_adding_again_keeps_stale_triples_and_duplicates_nothing(oxigraph):
    study_graph = graph_iri_for(paths.study_files(paths.shipped_kb_dir())[0])
    assert run("push", "--store", oxigraph.store_url, "--graph-per-study").exit_code == 0
    _add(oxigraph, study_graph, f"<{EX}stale> <{EX}p> 1 .")
    assert run("push", "--store", oxigraph.store_url, "--graph-per-study").exit_code == 0
    expected = embedded_graph_counts()
    expected[study_graph] += 1
    assert graph_counts(oxigraph) == expected


def test_replace_failure_reports_written_graphs_and_leaves_the_rest_untouched(recording_server):
    def fail_second_put(request):  # type: ignore[no-untyped-def]
        puts = [r for r in recording_server.requests if r.method == "PUT"]
        return (500, "text/plain", b"disk full") if len(puts) == 2 else (204, "text/plain", b"")

    recording_server.responder = fail_second_put
    store = recording_server.url + "/store"
    result = run("push", "--store", store, "--graph-per-study", "--replace")
    assert result.exit_code == 3
    plan = plan_push(layout="per-study")
    first, second = plan.graphs[0].label, plan.graphs[1].label
    assert first == SCHEMA_GRAPH
    total = len(plan.graphs)
    assert result.stderr == (
        f"ekb: {store}: push stopped at PUT {second}: HTTP 500 Internal Server Error: disk full. "
        f"Replaced 1 of {total} graphs ({first}); the other {total - 1} are unchanged "
        "(each graph is either entirely old or entirely new).\n"
    )
    assert [r.method for r in recording_server.requests] == ["PUT", "PUT"]  # stopped at once
    assert result.stdout == ""


def test_post_failure_mid_graph_says_how_far_it_got(recording_server):
    def fail_third(request):  # type: ignore[no-untyped-def]
        return (
            (503, "text/plain", b"busy")
            if len(recording_server.requests) == 3
            else (
                204,
                "text/plain",
                b"",
            )
        )

    recording_server.responder = fail_third
    plan = plan_push(layout="default")
    with pytest.raises(PushFailed) as info:
        push(plan, recording_server.url + "/store", chunk_bytes=4000)
    message = str(info.value)
    assert "push stopped at POST (default graph) (chunk 3): " in message
    assert "HTTP 503 Service Unavailable: busy" in message
    assert "; 2 chunks of (default graph) were added; the rest was not sent." in message
    assert "Running the same push again completes it" in message
    assert info.value.report.graphs == []
    assert info.value.exit_code == 3


# --- failures are bounded -----------------------------------------------------------------------


def test_store_with_nothing_listening_exits_3_naming_url_and_reason(dead_url):
    started = time.monotonic()
    result = run("push", "--store", dead_url + "/store", "--timeout", "2")
    assert time.monotonic() - started < 2 + 3  # reading the KB is part of it
    assert result.exit_code == 3
    assert result.stderr == (
        f"ekb: {dead_url}/store: push stopped at POST (default graph): "
        "connection refused (is the server running?). Nothing was written.\n"
    )


def test_store_that_never_answers_exits_3_within_the_timeout(silent_server):
    plan = plan_push()
    started = time.monotonic()
    with pytest.raises(EndpointError) as info:
        push(plan, silent_server + "/store", timeout=0.5)
    assert time.monotonic() - started < 0.5 + 1.5
    assert "no answer within 0.5 s (timed out)" in str(info.value)


def test_wrong_graph_store_url_shows_status_and_server_message(oxigraph):
    result = run("push", "--store", oxigraph.query_url)
    assert result.exit_code == 3
    assert "HTTP 415" in result.stderr or "HTTP 4" in result.stderr
    assert oxigraph.query_url in result.stderr


# --- usage errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--graph", "https://ex.org/g", "--graph-per-study"], "exclude each other"),
        (["--graph", "relative/graph"], "expected an absolute IRI"),
        (["--graph", "https://ex.org/a b"], "expected an absolute IRI"),
    ],
)
def test_bad_layout_options_exit_2(args, message, dead_url):
    result = run("push", "--store", dead_url + "/store", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_non_http_store_url_exits_2():
    result = run("push", "--store", "file:///tmp/store")
    assert result.exit_code == 2
    assert "expected an http:// or https:// URL" in result.stderr


def test_missing_store_option_exits_2():
    result = run("push")
    assert result.exit_code == 2


def test_plan_rejects_graph_layout_without_graph():
    with pytest.raises(UsageError):
        plan_push(layout="graph")


def test_kb_folder_that_is_not_a_kb_exits_3(tmp_path, dead_url):
    result = run("push", "--store", dead_url + "/store", "--kb", str(tmp_path))
    assert result.exit_code == 3
    assert "not a knowledge base folder" in result.stderr


def test_pushing_a_researchers_own_kb_folder(oxigraph, tmp_path):
    kb = tmp_path / "kb"
    shutil.copytree(paths.shipped_kb_dir() / "studies", kb / "studies")
    shutil.copytree(paths.shipped_kb_dir() / "reviews", kb / "reviews")
    result = run("push", "--store", oxigraph.store_url, "--kb", str(kb), "--graph-per-study")
    assert result.exit_code == 0, result.output
    assert graph_counts(oxigraph) == embedded_graph_counts()


# --- credentials --------------------------------------------------------------------------------


def _echo_authorization(request):  # type: ignore[no-untyped-def]
    return 401, "text/plain", f"denied: {request.headers.get('Authorization')}".encode()


def test_credentials_from_environment_are_sent_and_never_printed(recording_server):
    recording_server.responder = _echo_authorization
    env = {"EKB_STORE_USER": "bob", "EKB_STORE_PASSWORD": "hunter2-SECRET", "EKB_STORE_TOKEN": ""}
    result = run("push", "--store", recording_server.url + "/store", env=env)
    assert result.exit_code == 3
    sent = recording_server.requests[0].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"bob:hunter2-SECRET").decode()
    assert "401" in result.stderr
    for secret in ("hunter2-SECRET", sent.split()[1]):
        assert secret not in result.output


def test_userinfo_in_store_url_is_used_and_redacted(recording_server):
    recording_server.responder = _echo_authorization
    host = recording_server.url.removeprefix("http://")
    env = {"EKB_STORE_USER": "", "EKB_STORE_TOKEN": ""}
    result = run("push", "--store", f"http://alice:s3cret-PW@{host}/store", env=env)
    assert result.exit_code == 3
    assert (
        recording_server.requests[0].headers["Authorization"]
        == "Basic " + base64.b64encode(b"alice:s3cret-PW").decode()
    )
    assert "s3cret-PW" not in result.output
    assert base64.b64encode(b"alice:s3cret-PW").decode() not in result.output
    assert f"http://{host}/store" in result.stderr


def test_bearer_token_is_sent_on_every_request_and_never_printed(recording_server):
    env = {"EKB_STORE_TOKEN": "tok-SECRET-42", "EKB_STORE_USER": ""}
    result = run("push", "--store", recording_server.url + "/store", "--graph-per-study", env=env)
    assert result.exit_code == 0, result.output
    assert recording_server.requests
    assert {r.headers["Authorization"] for r in recording_server.requests} == {
        "Bearer tok-SECRET-42"
    }
    assert "tok-SECRET-42" not in result.output


def test_digest_challenge_is_answered_with_digest(recording_server):
    challenge = {"WWW-Authenticate": 'Digest realm="SPARQL", nonce="abc123", qop="auth"'}

    def digest_only(request):  # type: ignore[no-untyped-def]
        if request.headers.get("Authorization", "").startswith("Digest "):
            return 201, "text/plain", b""
        return 401, "text/plain", b"", challenge

    recording_server.responder = digest_only
    env = {"EKB_STORE_USER": "dba", "EKB_STORE_PASSWORD": "dba-SECRET", "EKB_STORE_TOKEN": ""}
    result = run("push", "--store", recording_server.url + "/sparql-graph-crud-auth", env=env)
    assert result.exit_code == 0, result.output
    digest = recording_server.requests[-1].headers["Authorization"]
    assert digest.startswith('Digest username="dba", realm="SPARQL"')
    assert "dba-SECRET" not in digest


# --- a broken file met part way -------------------------------------------------------------------


def test_broken_study_file_stops_the_push_naming_file_line_and_what_was_written(oxigraph, tmp_path):
    kb = tmp_path / "kb"
    studies = sorted(paths.study_files(paths.shipped_kb_dir()))
    (kb / "studies").mkdir(parents=True)
    for f in studies[:2]:
        shutil.copy(f, kb / "studies" / f.name)
    broken = kb / "studies" / "zz-broken.ttl"  # sorts last: met after the others were sent
    broken.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b .\n", encoding="utf-8")
    result = run("push", "--store", oxigraph.store_url, "--kb", str(kb), "--graph-per-study")
    assert result.exit_code == 3
    assert str(broken) in result.stderr and ":2" in result.stderr
    assert f"push stopped at reading {STUDY}zz-broken" in result.stderr
    assert "Added 3 of 4 graphs" in result.stderr  # the schema and two studies
    assert "Running the same push again completes it" in result.stderr
    assert "Traceback" not in result.output
    assert set(graph_counts(oxigraph)) == {SCHEMA_GRAPH} | {graph_iri_for(f) for f in studies[:2]}
