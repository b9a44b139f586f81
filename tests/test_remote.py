"""RemoteStore against a real Oxigraph server on loopback, and against small failing servers."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kb.errors import EndpointError, UsageError
from kb.push import push_kb
from kb.remote import RemoteQueryRejected, RemoteStore, redact_url, split_credentials
from kb.store import EmbeddedStore, QueryResult

XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
EMPTY_SELECT = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": []}}).encode()
HOSTILE_VALUES = [
    'x" } ; DROP ALL ; #',
    "a'b\"c",
    "} UNION { ?s ?p ?o }",
    "# not a comment\n} SELECT * WHERE { ?s ?p ?o",
    "line one\nline two\r\n\ttab \\ backslash",
    "\"\"\" triple quotes '''",
    "<http://example.org/iri> ?var $var",
]


def _normalised(term) -> str:  # type: ignore[no-untyped-def]
    # SPARQL leaves the order inside GROUP_CONCAT to the engine (and Oxigraph in memory
    # and on disk do differ), so "a; b" and "b; a" are the same list of values.
    if isinstance(term, Literal) and term.datatype == XSD_STRING and "; " in str(term):
        return "; ".join(sorted(str(term).split("; ")))
    return term.n3()


def normalised_rows(result: QueryResult) -> list[tuple[tuple[str, str], ...]]:
    """Rows in order, each as sorted (column, term) pairs, concatenated lists sorted."""
    return [tuple(sorted((k, _normalised(v)) for k, v in row.items())) for row in result.rows]


def as_multiset(result: QueryResult) -> list[tuple[tuple[str, str], ...]]:
    """Rows as a sorted list, so rows that tie under ORDER BY compare equal in any order."""
    return sorted(normalised_rows(result))


def _exact_multiset(result: QueryResult) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted((k, v.n3()) for k, v in row.items())) for row in result.rows)


@pytest.fixture(scope="module")
def embedded() -> EmbeddedStore:
    return EmbeddedStore.open_kb()


@pytest.fixture(scope="module")
def pushed(oxigraph_server):  # type: ignore[no-untyped-def]
    """The Oxigraph server holding the shipped KB in the embedded store's own layout
    (pushed once for this module; the tests here only read)."""
    oxigraph_server.clear()
    push_kb(oxigraph_server.store_url, layout="per-study")
    return oxigraph_server


# --- same answers as the embedded store -------------------------------------------------


def test_remote_select_returns_the_same_rdflib_terms_as_the_embedded_store(pushed, embedded):
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    remote = RemoteStore(pushed.query_url, timeout=10).select(query)
    local = embedded.select(query)
    assert remote.columns == local.columns == ["s", "p", "o"]
    assert len(local.rows) > 1000
    assert as_multiset(remote) == as_multiset(local)


def test_remote_plain_literal_is_an_xsd_string_like_the_embedded_one(pushed):
    result = RemoteStore(pushed.query_url).select('SELECT ?x WHERE { BIND("plain" AS ?x) }')
    assert result.rows == [{"x": Literal("plain", datatype=XSD_STRING)}]


def test_remote_ask_and_construct_match_the_embedded_store(pushed, embedded):
    remote = RemoteStore(pushed.query_url, timeout=10)
    ask = "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#> ASK { ?s a ekb:Study }"
    assert remote.ask(ask) is True
    assert remote.ask("ASK { <http://example.org/nothing> ?p ?o }") is False
    construct = (
        "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#> "
        "CONSTRUCT { ?s ekb:studyId ?id } WHERE { ?s ekb:studyId ?id }"
    )
    remote_triples = {tuple(t.n3() for t in triple) for triple in remote.construct(construct)}
    local_triples = {tuple(t.n3() for t in triple) for triple in embedded.construct(construct)}
    assert remote_triples and remote_triples == local_triples


def _parameter_sets(embedded: EmbeddedStore, query) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Values to run a canned query with: every concept of each concept parameter's scheme
    that the studies use (and every study id), one parameter at a time, plus required ones."""
    from kb.concepts import scheme_iri
    from kb.namespaces import EKB

    def values_for(param) -> list[str]:  # type: ignore[no-untyped-def]
        if param.type == "concept":
            scheme = f"<{scheme_iri(param.scheme)}>" if param.scheme else "?scheme"
            rows = embedded.select(
                "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                f"SELECT DISTINCT ?c WHERE {{ ?c skos:inScheme {scheme} . ?x ?p ?c }} ORDER BY ?c"
            )
            return [str(r["c"]) for r in rows.rows][:3]
        if param.type == "study":
            rows = embedded.select(f"SELECT ?id WHERE {{ ?s <{EKB}studyId> ?id }} ORDER BY ?id")
            return [str(r["id"]) for r in rows.rows][:3]
        if param.type == "review":
            rows = embedded.select(f"SELECT ?id WHERE {{ ?r <{EKB}reviewId> ?id }} ORDER BY ?id")
            return [str(r["id"]) for r in rows.rows][:3]
        if param.default is not None:
            return [param.default]
        raise AssertionError(
            f"add test values for parameter {param.name} ({param.type}) of {query.name}"
        )

    required = [p for p in query.params if p.required]
    base_choices = {p.name: values_for(p) for p in required}
    for name, choices in base_choices.items():
        assert choices, f"no value in the KB for required parameter {name} of {query.name}"
    sets = []
    first = {name: choices[0] for name, choices in base_choices.items()}
    for param in query.params:
        for value in values_for(param):
            sets.append({**first, param.name: value})
    if not query.params or not sets:
        sets.append(first)
    return sets


def test_every_canned_query_gives_the_same_rows_remotely_as_embedded(pushed, embedded):
    from kb.queries import catalogue, run_query

    queries = catalogue()
    assert queries, "no canned queries found"
    remote = RemoteStore(pushed.query_url, timeout=20)
    compared = 0
    for name, query in queries.items():
        for params in _parameter_sets(embedded, query):
            local = run_query(embedded, name, params)
            far = run_query(remote, name, params)
            assert far.columns == local.columns, (name, params)
            # List cells are sorted by run_query, so rows compare term for term.
            assert _exact_multiset(far) == _exact_multiset(local), (name, params)
            compared += 1
    assert compared >= len(queries)


def test_evidence_map_for_lupus_by_label_is_the_same_remotely(pushed, embedded):
    from kb.queries import run_query

    local = run_query(embedded, "evidence-map", {"condition": "lupus"})
    far = run_query(RemoteStore(pushed.query_url), "evidence-map", {"condition": "lupus"})
    assert local.rows, "the shipped KB should have an evidence map for lupus"
    assert far.rows == local.rows  # same order and same list cells: ORDER BY, sorted lists


# --- parameters cannot change the query ---------------------------------------------------


def _echo_query(tmp_path: Path):  # type: ignore[no-untyped-def]
    from kb.queries import load_query_file

    rq = tmp_path / "echo.rq"
    rq.write_text(
        "#+ summary: echo a string parameter beside a count\n"
        "#+ params:\n"
        "#+   - {name: text, type: string, required: true}\n"
        "#+ columns: [text, studies]\n"
        "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>\n"
        "SELECT ?text (COUNT(?study) AS ?studies) WHERE {\n"
        "  ?study a ekb:Study .\n"
        "} GROUP BY ?text ORDER BY ?text\n",
        encoding="utf-8",
    )
    return load_query_file(rq)


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
def test_hostile_string_parameter_reaches_the_server_as_one_literal(
    pushed, embedded, tmp_path, hostile
):
    from kb.queries import bind

    query = _echo_query(tmp_path)
    remote = RemoteStore(pushed.query_url, timeout=10)
    text = bind(remote, query, {"text": hostile})
    result = remote.select(text)
    studies = len(
        embedded.select(
            "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#> "
            "SELECT ?s WHERE { ?s a ekb:Study }"
        ).rows
    )
    # One row, the value back exactly as given, and the count untouched by the value.
    assert result.rows == [
        {
            "text": Literal(hostile, datatype=XSD_STRING),
            "studies": Literal(studies, datatype=XSD_INTEGER),
        }
    ]
    assert remote.last_query == text


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
def test_query_text_sent_is_the_bound_query_byte_for_byte(recording_server, tmp_path, hostile):
    from kb.queries import bind

    recording_server.responder = lambda r: (200, "application/sparql-results+json", EMPTY_SELECT)
    query = _echo_query(tmp_path)
    remote = RemoteStore(recording_server.url + "/sparql", timeout=5)
    benign = bind(remote, query, {"text": "benign"})
    text = bind(remote, query, {"text": hostile})
    remote.select(text)
    (request,) = recording_server.requests
    assert request.method == "POST"
    assert request.form["query"] == [text]
    # Outside its VALUES line, the hostile query is the benign one, character for character,
    # and the VALUES line holds exactly one term.
    assert _without_values(text) == _without_values(benign)
    (values_line,) = [
        line for line in text.splitlines() if line.lstrip().startswith("VALUES ?text")
    ]
    assert values_line.strip().startswith('VALUES ?text { "') and values_line.strip().endswith(
        '" }'
    )


def _without_values(text: str) -> str:
    return "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("VALUES ?text")
    )


@pytest.mark.parametrize("hostile", HOSTILE_VALUES)
def test_hostile_concept_label_is_a_usage_error_not_a_syntax_error(pushed, hostile):
    from kb.queries import run_query

    remote = RemoteStore(pushed.query_url, timeout=10)
    with pytest.raises(UsageError) as info:
        run_query(remote, "evidence-map", {"condition": hostile})
    # The server parsed every query it was sent: the value never broke out of its literal.
    assert not isinstance(info.value, RemoteQueryRejected)


# --- failures are clear and bounded -------------------------------------------------------


def test_nothing_listening_is_an_endpoint_error_naming_url_and_reason(dead_url):
    store = RemoteStore(dead_url + "/query", timeout=2)
    started = time.monotonic()
    with pytest.raises(EndpointError) as info:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    assert time.monotonic() - started < 2 + 1
    assert str(info.value) == f"{dead_url}/query: connection refused (is the server running?)"
    assert info.value.exit_code == 3


def test_server_that_never_answers_times_out_within_the_timeout(silent_server):
    store = RemoteStore(silent_server + "/query", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EndpointError) as info:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1.5
    assert str(info.value) == f"{silent_server}/query: no answer within 0.5 s (timed out)"


def test_syntax_error_shows_the_servers_explanation_and_is_a_usage_error(oxigraph_server):
    oxigraph = oxigraph_server
    with pytest.raises(RemoteQueryRejected) as info:
        RemoteStore(oxigraph.query_url).select("SELECT * WHERE { ?s ?p ")
    message = str(info.value)
    assert message.startswith(f"{oxigraph.query_url} rejected the query (HTTP 400): ")
    assert len(message) > len(f"{oxigraph.query_url} rejected the query (HTTP 400): ") + 10
    assert info.value.exit_code == 2


def test_wrong_path_shows_status_and_server_message(oxigraph_server):
    oxigraph = oxigraph_server
    with pytest.raises(EndpointError) as info:
        RemoteStore(oxigraph.base_url + "/no-such-path").select("SELECT * WHERE { ?s ?p ?o }")
    assert str(info.value).startswith(f"{oxigraph.base_url}/no-such-path: HTTP 404 Not Found")
    assert "/no-such-path is not supported by this server" in str(info.value)
    assert info.value.exit_code == 3


def test_http_error_status_and_body_reach_the_message(recording_server):
    recording_server.responder = lambda r: (503, "text/plain", b"store is overloaded, retry later")
    with pytest.raises(EndpointError) as info:
        RemoteStore(recording_server.url + "/q").select("SELECT * WHERE { ?s ?p ?o }")
    assert str(info.value) == (
        f"{recording_server.url}/q: HTTP 503 Service Unavailable: store is overloaded, retry later"
    )


def test_answer_that_is_not_sparql_json_is_an_endpoint_error(recording_server):
    recording_server.responder = lambda r: (200, "text/html", b"<html>login page</html>")
    with pytest.raises(EndpointError, match="not SPARQL JSON results"):
        RemoteStore(recording_server.url + "/q").select("SELECT * WHERE { ?s ?p ?o }")


def test_updates_are_refused_before_anything_is_sent(recording_server):
    with pytest.raises(UsageError, match="updates are refused"):
        RemoteStore(recording_server.url + "/q").select("DROP ALL")
    assert recording_server.requests == []


def test_non_http_endpoint_is_a_usage_error():
    with pytest.raises(UsageError, match="expected an http"):
        RemoteStore("ftp://example.org/sparql")


# --- credentials ----------------------------------------------------------------------------


def _echo_authorization(request):  # type: ignore[no-untyped-def]
    # A careless server that echoes the credentials it was sent into its error page.
    return 401, "text/plain", f"denied: {request.headers.get('Authorization')}".encode()


def test_bearer_token_from_environment_is_sent_and_never_shown(recording_server, monkeypatch):
    monkeypatch.setenv("EKB_STORE_TOKEN", "tok-SECRET-123")
    recording_server.responder = _echo_authorization
    with pytest.raises(EndpointError) as info:
        RemoteStore(recording_server.url + "/q").select("SELECT * WHERE { ?s ?p ?o }")
    assert recording_server.requests[0].headers["Authorization"] == "Bearer tok-SECRET-123"
    assert "tok-SECRET-123" not in str(info.value)
    assert "401" in str(info.value) and "***" in str(info.value)


def test_userinfo_in_the_url_becomes_basic_auth_and_is_redacted(recording_server, monkeypatch):
    monkeypatch.delenv("EKB_STORE_TOKEN", raising=False)
    recording_server.responder = _echo_authorization
    host = recording_server.url.removeprefix("http://")
    store = RemoteStore(f"http://alice:pa%3Ass@{host}/q")
    with pytest.raises(EndpointError) as info:
        store.select("SELECT * WHERE { ?s ?p ?o }")
    sent = recording_server.requests[0].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"alice:pa:ss").decode()
    assert "pa:ss" not in str(info.value) and "pa%3Ass" not in str(info.value)
    assert sent.split()[1] not in str(info.value)
    assert "pa%3Ass" not in repr(store)


def test_environment_user_and_password_are_used(recording_server, monkeypatch):
    monkeypatch.delenv("EKB_STORE_TOKEN", raising=False)
    monkeypatch.setenv("EKB_STORE_USER", "bob")
    monkeypatch.setenv("EKB_STORE_PASSWORD", "hunter2")
    recording_server.responder = lambda r: (200, "application/sparql-results+json", EMPTY_SELECT)
    RemoteStore(recording_server.url + "/q").select("SELECT ?x WHERE { }")
    assert (
        recording_server.requests[0].headers["Authorization"]
        == "Basic " + base64.b64encode(b"bob:hunter2").decode()
    )


def test_netrc_entry_for_the_host_is_used(recording_server, monkeypatch, tmp_path):
    for var in ("EKB_STORE_TOKEN", "EKB_STORE_USER", "EKB_STORE_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine 127.0.0.1 login carol password from-netrc\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    recording_server.responder = lambda r: (200, "application/sparql-results+json", EMPTY_SELECT)
    RemoteStore(recording_server.url + "/q").select("SELECT ?x WHERE { }")
    assert (
        recording_server.requests[0].headers["Authorization"]
        == "Basic " + base64.b64encode(b"carol:from-netrc").decode()
    )


def test_credentials_repr_never_shows_secrets(monkeypatch):
    monkeypatch.setenv("EKB_STORE_TOKEN", "tok-SECRET-123")
    _, credentials = split_credentials("https://db.example.org/sparql")
    assert "tok-SECRET-123" not in repr(credentials)


def test_redact_url_masks_userinfo_and_token_parameters():
    assert redact_url("https://u:p@h.example/x?access-token=abc&graph=g") == (
        "https://***@h.example/x?access-token=***&graph=g"
    )
    assert redact_url("http://h.example/sparql") == "http://h.example/sparql"


def test_plain_literal_without_datatype_in_results_becomes_xsd_string(recording_server):
    body = json.dumps(
        {
            "head": {"vars": ["a", "b", "c", "d"]},
            "results": {
                "bindings": [
                    {
                        "a": {"type": "literal", "value": "x"},
                        "b": {"type": "literal", "value": "y", "xml:lang": "en"},
                        "c": {"type": "typed-literal", "value": "3", "datatype": str(XSD_INTEGER)},
                        "d": {"type": "uri", "value": "http://example.org/d"},
                    }
                ]
            },
        }
    ).encode()
    recording_server.responder = lambda r: (200, "application/sparql-results+json", body)
    result = RemoteStore(recording_server.url + "/q").select("SELECT * WHERE { ?s ?p ?o }")
    assert result.rows == [
        {
            "a": Literal("x", datatype=XSD_STRING),
            "b": Literal("y", lang="en"),
            "c": Literal(3),
            "d": URIRef("http://example.org/d"),
        }
    ]


def test_result_terms_are_rdflibs_own_and_each_distinct_term_is_built_once(recording_server):
    # Each cell as rdflib's constructors build it (compared on everything a term
    # carries); a term met again is the same object, not a copy.
    xsd = "http://www.w3.org/2001/XMLSchema#"
    cells = [
        ({"type": "literal", "value": "a b"}, Literal("a b", datatype=URIRef(xsd + "string"))),
        (
            {"type": "literal", "value": " x", "datatype": xsd + "string"},
            Literal(" x", datatype=URIRef(xsd + "string")),
        ),
        ({"type": "literal", "value": "oui", "xml:lang": "fr"}, Literal("oui", lang="fr")),
        (
            {"type": "literal", "value": "010", "datatype": xsd + "integer"},
            Literal("010", datatype=URIRef(xsd + "integer")),
        ),
        (
            {"type": "typed-literal", "value": "2.50", "datatype": xsd + "decimal"},
            Literal("2.50", datatype=URIRef(xsd + "decimal")),
        ),
        (
            {"type": "literal", "value": "true", "datatype": xsd + "boolean"},
            Literal("true", datatype=URIRef(xsd + "boolean")),
        ),
        ({"type": "uri", "value": "http://example.org/s"}, URIRef("http://example.org/s")),
    ]
    rows = [{f"c{i}": cell for i, (cell, _term) in enumerate(cells)}] * 2
    body = json.dumps(
        {"head": {"vars": [f"c{i}" for i in range(len(cells))]}, "results": {"bindings": rows}}
    ).encode()
    recording_server.responder = lambda r: (200, "application/sparql-results+json", body)
    first, second = RemoteStore(recording_server.url + "/q").select("SELECT * {}").rows
    for i, (_cell, expected) in enumerate(cells):
        got = first[f"c{i}"]
        assert got is second[f"c{i}"]
        assert (type(got), got, got.n3(), hash(got)) == (
            type(expected),
            expected,
            expected.n3(),
            hash(expected),
        )
        if isinstance(expected, Literal):
            assert (got.value, got.datatype, got.language, got.ill_typed) == (
                expected.value,
                expected.datatype,
                expected.language,
                expected.ill_typed,
            )


# --- the commands with --endpoint -------------------------------------------------------------


def _ekb(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from kb.cli import cli

    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _cells_sorted(tsv: str) -> list[list[str]]:
    # Cells that are GROUP_CONCAT lists ("a; b") with their items sorted.
    return [
        ["; ".join(sorted(cell.split("; "))) for cell in line.split("\t")]
        for line in tsv.splitlines()
    ]


def test_ekb_query_evidence_map_gives_the_same_rows_with_endpoint(pushed):
    args = ("query", "evidence-map", "-p", "condition=lupus", "-f", "tsv")
    local = _ekb(*args)
    far = _ekb(*args, "--endpoint", pushed.query_url)
    assert local.exit_code == 0 and far.exit_code == 0, far.output
    assert len(local.stdout.splitlines()) > 3
    assert _cells_sorted(far.stdout) == _cells_sorted(local.stdout)


@pytest.mark.parametrize("fmt", ["table", "tsv", "json"])
def test_ekb_query_evidence_map_is_byte_identical_with_endpoint(pushed, fmt):
    # List cells (study ids, directions, certainty...) are sorted by run_query, so the
    # engine's GROUP_CONCAT order no longer shows.
    args = ("query", "evidence-map", "-p", "condition=lupus", "-f", fmt)
    far = _ekb(*args, "--endpoint", pushed.query_url)
    assert far.exit_code == 0, far.output
    assert "; " in far.stdout
    assert far.stdout == _ekb(*args).stdout


def test_ekb_stats_and_sparql_agree_with_endpoint(pushed):
    assert _ekb("stats", "--endpoint", pushed.query_url).stdout == _ekb("stats").stdout
    query = (
        "SELECT ?id WHERE { ?s <https://w3id.org/evidence-kb/ontology#studyId> ?id } ORDER BY ?id"
    )
    far = _ekb("sparql", query, "--endpoint", pushed.query_url)
    assert far.exit_code == 0
    assert far.stdout == _ekb("sparql", query).stdout


def test_ekb_query_against_a_stopped_server_exits_3_within_the_timeout(own_oxigraph):
    url = own_oxigraph.query_url
    assert _ekb("query", "studies", "--endpoint", url).exit_code == 0
    own_oxigraph.stop()
    started = time.monotonic()
    result = _ekb("query", "studies", "--endpoint", url, "--timeout", "2")
    assert time.monotonic() - started < 2 + 1
    assert result.exit_code == 3
    assert result.stderr == f"ekb: {url}: connection refused (is the server running?)\n"


def test_ekb_query_against_a_silent_server_exits_3_within_the_timeout(silent_server):
    started = time.monotonic()
    result = _ekb("query", "studies", "--endpoint", silent_server + "/query", "--timeout", "0.5")
    assert time.monotonic() - started < 0.5 + 1.5
    assert result.exit_code == 3
    assert result.stderr == f"ekb: {silent_server}/query: no answer within 0.5 s (timed out)\n"


def test_ekb_sparql_syntax_error_on_the_server_exits_2_with_its_explanation(oxigraph_server):
    result = _ekb("sparql", "SELECT * WHERE { ?s ", "--endpoint", oxigraph_server.query_url)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"ekb: {oxigraph_server.query_url} rejected the query (HTTP 400): "
    )


def test_ekb_query_never_prints_credentials_from_the_url(recording_server):
    recording_server.responder = _echo_authorization
    host = recording_server.url.removeprefix("http://")
    result = _ekb(
        "query",
        "studies",
        "--endpoint",
        f"http://eve:pw-SECRET-9@{host}/q",
        env={"EKB_STORE_TOKEN": "", "EKB_STORE_USER": ""},
    )
    assert result.exit_code == 3
    assert "pw-SECRET-9" not in result.output
    assert base64.b64encode(b"eve:pw-SECRET-9").decode() not in result.output
    assert f"http://{host}/q: HTTP 401" in result.stderr


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False)])
def test_virtuoso_shaped_ask_answer_is_read_as_a_boolean(recording_server, value, expected):
    # Virtuoso 7.2 answers ASK with a one-variable SELECT result, not {"boolean": ...}
    # (seen on the real server in tests/test_engine_virtuoso.py).
    body = json.dumps(
        {
            "head": {"link": [], "vars": ["__ASK_RETVAL"]},
            "results": {
                "bindings": [
                    {
                        "__ASK_RETVAL": {
                            "type": "typed-literal",
                            "value": value,
                            "datatype": str(XSD_INTEGER),
                        }
                    }
                ]
            },
        }
    ).encode()
    recording_server.responder = lambda r: (200, "application/sparql-results+json", body)
    assert RemoteStore(recording_server.url + "/q").ask("ASK { ?s ?p ?o }") is expected


def test_query_form_has_only_the_query_so_accept_decides_the_format(recording_server):
    # A format=xml field (SPARQLWrapper's default) makes Virtuoso ignore Accept: HTTP 406.
    body = json.dumps({"head": {"vars": []}, "results": {"bindings": []}}).encode()
    recording_server.responder = lambda r: (200, "application/sparql-results+json", body)
    RemoteStore(recording_server.url + "/q").select("SELECT * WHERE { ?s ?p ?o }")
    assert set(recording_server.requests[0].form) == {"query"}
