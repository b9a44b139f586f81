"""Shared fixtures: a real Oxigraph server on loopback, and small HTTP servers for failure cases.

The Oxigraph server comes from the ``oxigraph`` package in the ``test`` extra
(``pip install '.[test]'``). It is looked for next to the running Python first,
so the fresh virtual environment of ``.ci/run`` finds its own copy. A missing
executable fails the tests that need it, with a message saying how to install
it: remote support must not silently go untested.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def find_oxigraph() -> str | None:
    """The ``oxigraph`` executable: beside ``sys.executable`` (this venv), else on PATH."""
    beside = shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    return beside or shutil.which("oxigraph")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OxigraphServer:
    """A running ``oxigraph serve``; URLs as the README gives them."""

    base_url: str
    process: subprocess.Popen[bytes]

    @property
    def query_url(self) -> str:
        return f"{self.base_url}/query"

    @property
    def store_url(self) -> str:
        return f"{self.base_url}/store"

    @property
    def update_url(self) -> str:
        return f"{self.base_url}/update"

    def update(self, sparql_update: str) -> None:
        data = urllib.parse.urlencode({"update": sparql_update}).encode()
        with urllib.request.urlopen(
            urllib.request.Request(self.update_url, data=data), timeout=10
        ) as r:
            r.read()

    def clear(self) -> None:
        """Empty every graph, so each test starts from an empty store."""
        self.update("DROP ALL")

    def stop(self) -> None:
        """Stop the server (terminate, then kill if it lingers)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()


def _wait_until_answering(server: OxigraphServer, deadline: float) -> None:
    probe = f"{server.query_url}?query={urllib.parse.quote('ASK {}')}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            err = (
                server.process.stderr.read().decode(errors="replace")
                if server.process.stderr
                else ""
            )
            raise RuntimeError(
                f"oxigraph serve exited with {server.process.returncode}: {err.strip()}"
            )
        try:
            with urllib.request.urlopen(probe, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"oxigraph serve at {server.base_url} did not answer within 20 s")


def start_oxigraph(location: Path) -> OxigraphServer:
    """Start ``oxigraph serve`` on a free loopback port, storing in ``location``, and wait
    until it answers. Started with ``--union-default-graph`` (as the README says), so
    queries see every named graph, as the embedded store does.

    Fails the test (never skips) when the executable is missing.
    """
    exe = find_oxigraph()
    if exe is None:
        pytest.fail(
            "the `oxigraph` executable was not found beside "
            f"{sys.executable} nor on PATH: install the test extra (pip install '.[test]')"
        )
    last_error: Exception | None = None
    for attempt in range(3):  # another process may grab the free port first
        base_url = f"http://127.0.0.1:{free_port()}"
        (location / str(attempt)).mkdir(parents=True, exist_ok=True)
        command = [
            exe,
            "serve",
            "--location",
            str(location / str(attempt)),
            "--bind",
            base_url.removeprefix("http://"),
            "--union-default-graph",
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = OxigraphServer(base_url, process)
        try:
            _wait_until_answering(server, time.monotonic() + 20)
            return server
        except RuntimeError as exc:
            last_error = exc
            server.stop()
    pytest.fail(f"could not start oxigraph serve: {last_error}")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    """A real Oxigraph server on 127.0.0.1 and a free port, for the whole session."""
    server = start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_oxigraph(tmp_path: Path) -> Iterator[OxigraphServer]:
    """A server of this test's own, which the test may stop."""
    server = start_oxigraph(tmp_path / "oxigraph")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oxigraph(oxigraph_server: OxigraphServer) -> OxigraphServer:
    """The session's Oxigraph server, emptied for this test."""
    oxigraph_server.clear()
    return oxigraph_server


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        """The body as an urlencoded form (SPARQL protocol POST)."""
        return urllib.parse.parse_qs(self.body.decode("utf-8"))


#: A responder gets the request and returns (status, content type, body[, extra headers]).
Responder = Callable[[RecordedRequest], tuple]


@dataclass
class RecordingServer:
    """A loopback HTTP server that records every request and answers with ``responder``."""

    url: str
    requests: list[RecordedRequest] = field(default_factory=list)
    responder: Responder = lambda _r: (204, "text/plain", b"")


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    holder: dict[str, RecordingServer] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = RecordedRequest(self.command, self.path, dict(self.headers.items()), body)
            server = holder["server"]
            server.requests.append(request)
            status, content_type, payload, *extra = server.responder(request)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (extra[0] if extra else {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["server"] = RecordingServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield holder["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A base URL whose server accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_forever() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)  # held open, never read from or written to
            except OSError:
                continue

    thread = threading.Thread(target=accept_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL with nothing listening."""
    return f"http://127.0.0.1:{free_port()}"
