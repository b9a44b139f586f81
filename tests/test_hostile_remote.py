"""Slow, lying and redirecting servers on loopback, and secrets that must not be shown,
through the real command line (``--endpoint`` queries and ``ekb push``)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RecordedRequest, RecordingServer
from hostile import PILOT, assert_refused, ekb, make_kb, tree_hash

EMPTY_SELECT = b'{"head": {"vars": ["s"]}, "results": {"bindings": []}}'


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Answers 200 with a SPARQL JSON body, one byte every 0.3 s (for at most 30 s)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(1)
            try:
                conn.recv(65536)
                payload = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(EMPTY_SELECT) + EMPTY_SELECT
                )
                deadline = time.monotonic() + 30
                for byte in payload:
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(0.3)
            except OSError:
                return

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def test_trickling_endpoint_is_bounded_by_the_timeout(trickling_server: str) -> None:
    started = time.monotonic()
    run = ekb("stats", "--endpoint", f"{trickling_server}/query", "--timeout", "1.5")
    elapsed = time.monotonic() - started
    assert_refused(run, 3, "/query", "timed out")
    assert elapsed < 20, f"took {elapsed:.1f} s for a 1.5 s timeout"


def test_silent_endpoint_times_out(silent_server: str) -> None:
    run = ekb("stats", "--endpoint", f"{silent_server}/query", "--timeout", "0.5")
    assert_refused(run, 3, "timed out")


LIES = {
    "html": (200, "text/html", b"<html>hello</html>", "not SPARQL JSON results"),
    "json-list": (200, "application/sparql-results+json", b"[1, 2, 3]", "not a SPARQL result"),
    "truncated": (200, "application/sparql-results+json", b'{"head": {"vars"', "not SPARQL JSON"),
    "nan-json": (200, "application/json", b'{"head": {}, "boolean": NaN}', ""),
    "deep-json": (200, "application/json", b"[" * 50000 + b"]" * 50000, ""),
    # The rows' depth is bounded by the shape required of them; the rest is still checked.
    "deep-head": (
        200,
        "application/json",
        b'{"head": {"vars": ' + b"[" * 100 + b"]" * 100 + b'}, "results": {"bindings": []}}',
        "not SPARQL JSON",
    ),
    "rows-not-a-list": (
        200,
        "application/sparql-results+json",
        b'{"head": {"vars": ["n"]}, "results": {"bindings": {"n": 1}}}',
        "not a list of rows",
    ),
    "term-not-text": (
        200,
        "application/sparql-results+json",
        b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", "value": '
        + b"[" * 100
        + b"]" * 100
        + b"}}]}}",
        "unexpected term",
    ),
    "binary": (200, "application/octet-stream", b"\xff\xfe\x00\x1b[2J", "not SPARQL JSON"),
    "500": (500, "text/plain", b"internal trouble", "HTTP 500"),
    "503": (503, "text/plain", b"busy", "HTTP 503"),
    "404": (404, "text/plain", b"", "HTTP 404"),
    "401": (401, "text/plain", b"", "HTTP 401"),
}


@pytest.mark.parametrize("case", sorted(LIES))
def test_lying_endpoint(recording_server: RecordingServer, case: str) -> None:
    status, ctype, body, words = LIES[case]
    recording_server.responder = lambda _r: (status, ctype, body)
    run = ekb("stats", "--endpoint", f"{recording_server.url}/q", "--timeout", "10")
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.output
    assert f"{recording_server.url}/q" in run.stderr
    assert words in run.stderr
    assert "\x1b" not in run.stderr


def test_escaped_update_never_reaches_the_endpoint(recording_server: RecordingServer) -> None:
    run = ekb(
        "sparql",
        "\\u0049NSERT DATA { <http://a> <http://b> <http://c> }",
        "--endpoint",
        f"{recording_server.url}/q",
    )
    assert_refused(run, 2, "updates are refused")
    assert recording_server.requests == []


def test_service_never_reaches_the_endpoint(recording_server: RecordingServer) -> None:
    run = ekb(
        "sparql",
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "--endpoint",
        f"{recording_server.url}/q",
    )
    assert_refused(run, 2, "SERVICE is refused")
    assert recording_server.requests == []


def test_study_id_is_bound_not_pasted_on_a_remote_endpoint(
    recording_server: RecordingServer,
) -> None:
    recording_server.responder = lambda _r: (
        200,
        "application/sparql-results+json",
        b'{"head":{},"boolean":false}',
    )
    study = 'x" } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #'
    run = ekb("summary", study, "--endpoint", f"{recording_server.url}/q")
    assert_refused(run, 2, "study")
    for request in recording_server.requests:
        assert "SERVICE" not in request.form.get("query", [""])[0]


@pytest.fixture
def second_server() -> Iterator[RecordingServer]:
    """Another origin (another port) that records what reaches it."""
    holder: dict[str, RecordingServer] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            holder["s"].requests.append(
                RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(EMPTY_SELECT)))
            self.end_headers()
            self.wfile.write(EMPTY_SELECT)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["s"] = RecordingServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield holder["s"]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("code", [301, 302, 307])
def test_query_redirect_to_another_host_carries_no_credentials(
    recording_server: RecordingServer, second_server: RecordingServer, code: int
) -> None:
    recording_server.responder = lambda _r: (
        code,
        "text/plain",
        b"",
        {"Location": f"{second_server.url}/q"},
    )
    run = ekb(
        "stats",
        "--endpoint",
        f"{recording_server.url}/q",
        env={"EKB_STORE_TOKEN": "tok-SECRET-123"},
    )
    assert "Traceback" not in run.output
    assert "tok-SECRET-123" not in run.output
    assert recording_server.requests and recording_server.requests[0].headers.get("Authorization")
    for request in second_server.requests:
        assert "Authorization" not in request.headers, "a credential crossed to another host"


def test_push_redirected_elsewhere_is_a_failure(
    kb: Path, recording_server: RecordingServer, second_server: RecordingServer
) -> None:
    recording_server.responder = lambda _r: (
        307,
        "text/plain",
        b"",
        {"Location": f"{second_server.url}/store"},
    )
    before = tree_hash(kb)
    run = ekb(
        "push", "--store", f"{recording_server.url}/store", "--kb", kb,
        env={"EKB_STORE_TOKEN": "tok-SECRET-456"},
    )  # fmt: skip
    assert_refused(run, 3, "redirected", kb=kb, before=before)
    assert "tok-SECRET-456" not in run.output
    assert second_server.requests == [], "the upload followed a redirect to another host"


@pytest.mark.parametrize("code", [301, 302, 303])
def test_push_redirect_that_drops_the_body_is_a_failure(
    kb: Path, recording_server: RecordingServer, code: int
) -> None:
    recording_server.responder = lambda r: (
        (code, "text/plain", b"", {"Location": "/elsewhere"})
        if r.path.startswith("/store")
        else (200, "text/plain", b"")
    )
    run = ekb("push", "--store", f"{recording_server.url}/store", "--kb", kb)
    assert_refused(run, 3, "redirected")
    assert all(r.path.startswith("/store") for r in recording_server.requests)


def test_push_same_origin_307_keeps_the_body(kb: Path, recording_server: RecordingServer) -> None:
    # The control: a redirect that keeps the method, the body and the origin is followed.
    recording_server.responder = lambda r: (
        (307, "text/plain", b"", {"Location": r.path.replace("/old", "/new", 1)})
        if r.path.startswith("/old") else (204, "text/plain", b"")
    )  # fmt: skip
    run = ekb("push", "--store", f"{recording_server.url}/old", "--kb", kb)
    assert run.returncode == 0, run.stderr
    moved = [r for r in recording_server.requests if r.path.startswith("/new")]
    assert moved and all(r.body for r in moved)


def test_push_to_a_trickling_store_is_bounded(kb: Path, trickling_server: str) -> None:
    started = time.monotonic()
    run = ekb("push", "--store", f"{trickling_server}/store", "--kb", kb, "--timeout", "1.5")
    assert_refused(run, 3, "timed out")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "url",
    [
        "{base}/q?access-token=SECRETTOKEN99",
        "{base}/q?x=1&token=SECRETTOKEN99",
        "http://alice:SECRETTOKEN99@127.0.0.1:{port}/q",
    ],
    ids=["access-token", "token", "userinfo"],
)
def test_secrets_in_the_endpoint_url_are_never_shown(
    recording_server: RecordingServer, url: str
) -> None:
    recording_server.responder = lambda r: (
        500,
        "text/plain",
        b"echo: " + r.path.encode() + b" " + str(r.headers).encode(),
    )
    port = recording_server.url.rsplit(":", 1)[1]
    run = ekb("stats", "--endpoint", url.format(base=recording_server.url, port=port))
    assert run.returncode == 3 and "Traceback" not in run.output
    assert "SECRETTOKEN99" not in run.output
    assert "***" in run.stderr


def test_secret_in_a_refused_connection_is_never_shown(dead_url: str) -> None:
    host = dead_url.split("//", 1)[1]
    run = ekb("stats", "--endpoint", f"http://bob:SECRETPW77@{host}/q?access-token=SECRETTOKEN99")
    assert run.returncode == 3 and "Traceback" not in run.output
    assert "SECRETPW77" not in run.output and "SECRETTOKEN99" not in run.output


def test_malformed_netrc_is_not_printed(tmp_path: Path, recording_server: RecordingServer) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password NETRCSECRET42 bogus NETRCSECRET43\n")
    netrc.chmod(0o600)
    run = ekb("stats", "--endpoint", f"{recording_server.url}/q", env={"NETRC": str(netrc)})
    assert run.returncode == 3 and "Traceback" not in run.output
    assert "netrc" in run.stderr
    assert "NETRCSECRET" not in run.output


def test_hostile_values_from_a_lying_endpoint_are_escaped_in_tables(
    recording_server: RecordingServer,
) -> None:
    body = (
        b'{"head": {"vars": ["id"]}, "results": {"bindings": '
        b'[{"id": {"type": "literal", "value": "\\u001b[2Jowned"}}]}}'
    )
    recording_server.responder = lambda _r: (200, "application/sparql-results+json", body)
    run = ekb("sparql", "SELECT ?id WHERE { ?s ?p ?id }", "--endpoint", f"{recording_server.url}/q")
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "\\x1b[2Jowned" in run.stdout


def test_summary_against_lying_endpoint(recording_server: RecordingServer) -> None:
    recording_server.responder = lambda _r: (200, "text/html", b"<html></html>")
    run = ekb("summary", PILOT, "--endpoint", f"{recording_server.url}/q")
    assert_refused(run, 3, "not SPARQL JSON")
