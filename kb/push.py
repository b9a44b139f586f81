"""Upload a knowledge base to a triple store with the SPARQL 1.1 Graph Store HTTP Protocol.

The knowledge base is read exactly as the embedded store reads it (the
ontology, the vocabularies and every study file), so a store that received a
push answers the canned queries as the embedded store does. Three layouts:

``default`` (no option)
    everything into the store's default graph (``?default``): works on every
    store without configuration. A triple stated in two files is stored once.
``graph`` (``--graph IRI``)
    everything into one named graph (``?graph=IRI``), e.g. to sit beside other
    graphs; the store must query the union of its graphs by default (or the
    user adds ``FROM``).
``per-study`` (``--graph-per-study``)
    the embedded store's own layout: the ontology and vocabularies in
    :data:`kb.store.SCHEMA_GRAPH`, each study file in the named graph of its
    study IRI. Also needs a union default graph.

The push streams: the plan names files, not triples, and each file is read,
turned into N-Triples and sent in turn, so memory stays bounded by the largest
graph of one file (or one request body), whatever the size of the knowledge
base. Each group of files that makes one target graph in the embedded store
(the schema files; one study file) is parsed into a throwaway in-memory store,
which also drops a triple stated twice in it.

Without ``replace`` each graph is added to with ``POST`` in chunks of bounded
size (N-Triples lines sent as ``text/turtle``, which every store accepts;
triples that share a blank node always travel together, because blank node
labels are scoped to one request). Adding is idempotent: an RDF graph is a set,
so re-running a push that stopped half way completes it. In the ``default`` and
``graph`` layouts a triple stated in two files is sent twice (and stored once);
the counts are per file.

With ``replace`` each graph is sent whole in a single ``PUT``, one graph after
another, so whatever fails, every graph is either entirely old or entirely new;
the error says which graphs were written. Graphs on the store that the
knowledge base does not have (a study deleted locally) are left alone. In the
``default`` and ``graph`` layouts the one graph is the whole knowledge base: its
N-Triples are written to a temporary file first and the ``PUT`` body is read
from that file, so it is not held in memory either.

A file that is not valid Turtle stops the push where it is met (the files are
not all parsed before the first request, which would double the time); the
message names the file and line and says which graphs were already written,
as for a network failure.

HTTP goes through :mod:`kb.http_client` on :mod:`urllib.request` (standard
library; a redirected upload fails unless it stays on the same origin with its
body, and the timeout bounds each whole request): SPARQLWrapper
speaks the query and update protocols, not the graph store protocol, and
urllib gives timeouts, Basic and Digest authentication (Virtuoso's graph store
wants Digest) without another dependency.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from kb.errors import EndpointError, UsageError
from kb.remote import USER_AGENT, describe_network_error, redact_url, split_credentials

if TYPE_CHECKING:
    import pyoxigraph as ox

Layout = Literal["default", "graph", "per-study"]

#: Default upper bound of one POST body, in bytes.
DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024

CONTENT_TYPE = "text/turtle"  # N-Triples is Turtle; every graph store reads Turtle

DEFAULT_GRAPH_LABEL = "(default graph)"


@dataclass
class GraphSource:
    """One target graph and the files whose triples go into it, in order.

    ``batches`` groups the files that are parsed together (one throwaway store
    each): the schema files together, each study file alone.
    """

    graph: str | None  # None: the default graph
    batches: list[list[Path]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.graph if self.graph is not None else DEFAULT_GRAPH_LABEL

    @property
    def files(self) -> list[Path]:
        return [f for batch in self.batches for f in batch]

    @property
    def size(self) -> int:
        """Bytes of the source files (what the progress bar counts)."""
        return sum(_file_size(f) for f in self.files)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will fail with the reason


@dataclass
class PushPlan:
    """The graphs to write, in the order they will be written (no triples: those are
    read from the files while pushing)."""

    layout: Layout
    graphs: list[GraphSource]

    @property
    def total_bytes(self) -> int:
        """Bytes of every source file; ``on_progress`` adds up to this."""
        return sum(g.size for g in self.graphs)


@dataclass
class GraphWritten:
    label: str
    triples: int
    requests: int
    complete: bool = True


@dataclass
class PushReport:
    """What a push wrote: one entry per graph, in order."""

    store: str  # redacted URL
    method: str  # "POST" or "PUT"
    layout: Layout
    graphs: list[GraphWritten] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(g.triples for g in self.graphs)

    @property
    def requests(self) -> int:
        return sum(g.requests for g in self.graphs)


class PushFailed(EndpointError):
    """A push stopped part way; ``report`` says what was written before the failure."""

    def __init__(self, message: str, report: PushReport) -> None:
        super().__init__(message)
        self.report = report


def _graph_for(layout: Layout, graph: str | None, source_graph: str | None) -> str | None:
    if layout == "default":
        return None
    if layout == "graph":
        return graph
    return source_graph


def check_graph_iri(iri: str) -> str:
    """``iri`` if it is an absolute IRI usable as a graph name.

    :raises UsageError: it is relative or contains characters an IRI cannot hold.
    """
    bad = set(' <>"{}|\\^`\n\r\t') & set(iri)
    scheme = urllib.parse.urlsplit(iri).scheme if not bad else ""
    if bad or not scheme:
        raise UsageError(
            f"--graph {iri!r}: expected an absolute IRI such as https://example.org/graph/lupus"
        )
    return iri


def plan_push(
    kb_dir: Path | None = None, *, layout: Layout = "default", graph: str | None = None
) -> PushPlan:
    """Lay the knowledge base's files (ontology, vocabularies, studies, reviews) out into
    target graphs. Reads no file: :func:`push` parses each one as it sends it.

    :param layout: ``default``, ``graph`` (needs ``graph``) or ``per-study``.
    :raises UsageError: ``graph`` missing for the ``graph`` layout, or not an absolute IRI.
    :raises CouldNotRun: the folder is not a knowledge base.
    """
    from kb import paths
    from kb.errors import CouldNotRun
    from kb.store import SCHEMA_GRAPH, graph_iri_for, schema_files

    if layout == "graph":
        if not graph:
            raise UsageError("the 'graph' layout needs a graph IRI")
        check_graph_iri(graph)
    kb_dir = kb_dir if kb_dir is not None else paths.default_kb_dir()
    if not (kb_dir / "studies").is_dir():
        raise CouldNotRun(
            f"{kb_dir}: not a knowledge base folder (no studies/ inside); `ekb init DIR` makes one"
        )
    # The same files, in the same graphs, as EmbeddedStore.open_kb loads.
    schema = schema_files(kb_dir)
    studies = paths.study_files(kb_dir) + paths.review_files(kb_dir)
    if layout != "per-study":
        target = graph if layout == "graph" else None
        return PushPlan(layout, [GraphSource(target, [schema] + [[f] for f in studies])])
    by_graph: dict[str, list[Path]] = {}
    for f in studies:
        by_graph.setdefault(graph_iri_for(f), []).append(f)
    # The schema first, so a half-finished push still resolves concepts; then graphs by name.
    graphs = [GraphSource(SCHEMA_GRAPH, [schema])]
    graphs += [GraphSource(g, [by_graph[g]]) for g in sorted(by_graph)]
    return PushPlan(layout, graphs)


@dataclass
class _Batch:
    """One batch of files as N-Triples, ready to send."""

    data: bytes
    triples: int
    source_bytes: int
    store: ox.Store  # kept only until the batch is sent, for splitting it by blank nodes


def _read_batch(files: list[Path]) -> _Batch:
    """Parse ``files`` into a fresh in-memory store, as the embedded store loads them
    (same base IRI; blank nodes get fresh labels, so two files' ``_:b0`` stay apart).

    :raises RdfSyntaxError: with the file and line of the first error.
    :raises CouldNotRun: a file cannot be read.
    """
    import pyoxigraph as ox

    from kb.store import read_file, turtle_errors

    store = ox.Store()
    size = 0
    for path in files:
        data = read_file(path)
        size += len(data)
        with turtle_errors(path):
            store.bulk_load(data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()) or b""
    return _Batch(body, len(store), size, store)


def _split(batch: _Batch, limit: int) -> list[bytes]:
    """A batch larger than ``limit`` as bodies of at most ``limit`` bytes, keeping the
    triples of each group of linked blank nodes together (a group longer than
    ``limit`` travels alone and exceeds it)."""
    import pyoxigraph as ox

    plain: list[ox.Triple] = []
    with_bnodes: list[ox.Triple] = []
    for quad in batch.store:
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        has_bnode = isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)
        (with_bnodes if has_bnode else plain).append(triple)
    units = _ntriples_lines(plain) + _blank_node_groups(with_bnodes)
    out: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for unit in units:
        if current and size + len(unit) > limit:
            out.append(b"".join(current))
            current, size = [], 0
        current.append(unit)
        size += len(unit)
    if current:
        out.append(b"".join(current))
    return out


def _blank_node_groups(triples: list[ox.Triple]) -> list[bytes]:
    """The triples as one N-Triples block per group of blank nodes linked by a triple.

    Blank node labels only mean something inside one request, so ``_:b ex:p _:c``
    and the triples about ``_:b`` and ``_:c`` must all be sent together.
    """
    import pyoxigraph as ox

    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def blank(term: object) -> str | None:
        return term.value if isinstance(term, ox.BlankNode) else None

    for triple in triples:
        ends = [b for b in (blank(triple.subject), blank(triple.object)) if b is not None]
        for end in ends[1:]:
            parent[root(end)] = root(ends[0])
    groups: dict[str, list[ox.Triple]] = {}
    for triple in triples:
        first = blank(triple.subject) or blank(triple.object)
        assert first is not None
        groups.setdefault(root(first), []).append(triple)
    return [b"".join(_ntriples_lines(group)) for group in groups.values()]


def _ntriples_lines(triples: Iterable[ox.Triple]) -> list[bytes]:
    import pyoxigraph as ox

    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
    # N-Triples escapes line breaks inside literals, so one line is one triple.
    return [line + b"\n" for line in data.split(b"\n") if line.strip()]


class _FileBody:
    """A request body read from a file in blocks, from the start each time it is
    iterated (a redirect or a Digest challenge sends the request again)."""

    BLOCK = 1024 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self.length = path.stat().st_size

    def __iter__(self) -> Iterator[bytes]:
        with self.path.open("rb") as f:
            while block := f.read(self.BLOCK):
                yield block


def check_store_url(store_url: str) -> str:
    """The store URL as it will be shown (credentials removed).

    :raises UsageError: not an absolute http(s) URL.
    """
    clean, _ = split_credentials(store_url)
    return redact_url(clean)


def graph_store_url(store_url: str, graph: str | None) -> str:
    """The request URL for one graph (indirect identification: ``?graph=IRI`` or ``?default``).

    >>> graph_store_url("http://localhost:7878/store", None)
    'http://localhost:7878/store?default'
    >>> graph_store_url("http://localhost:7019/?access-token=t", "https://ex.org/g")
    'http://localhost:7019/?access-token=t&graph=https%3A%2F%2Fex.org%2Fg'
    """
    joiner = "&" if urllib.parse.urlsplit(store_url).query else "?"
    if graph is None:
        return f"{store_url}{joiner}default"
    return f"{store_url}{joiner}graph={urllib.parse.quote(graph, safe='')}"


class _BasicRefused(EndpointError):
    """A bare 401 (no challenge) to a request that carried Basic credentials."""


class _GraphStoreClient:
    def __init__(self, store_url: str, timeout: float) -> None:
        self.url, self.credentials = split_credentials(store_url)
        self.display_url = redact_url(self.url)
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = []
        if self.credentials.user is not None and not self.credentials.token:
            # Basic goes up front (below); Digest answers a server that asks for it.
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(
                None, self.url, self.credentials.user, self.credentials.password or ""
            )
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
        #: A Digest handler can answer a challenge if the server sends one.
        self.digest_ready = bool(handlers)
        self.basic_up_front = True
        from kb import http_client

        # Redirects: same origin with the body kept (307/308) or a failure.
        self.opener = http_client.build_opener("upload", *handlers)

    def send(self, method: str, graph: str | None, body: bytes | _FileBody) -> None:
        """One request; raises :class:`EndpointError` with a clean, secret-free reason."""
        try:
            self._send(method, graph, body, basic=self.basic_up_front)
        except _BasicRefused:
            # Virtuoso answers a Basic header with a bare 401 (no challenge): send it
            # again without one, so the Digest challenge comes and is answered, and
            # stop sending Basic up front to this store.
            self.basic_up_front = False
            self._send(method, graph, body, basic=False)

    def _send(self, method: str, graph: str | None, body: bytes | _FileBody, basic: bool) -> None:
        request = urllib.request.Request(graph_store_url(self.url, graph), data=body, method=method)
        request.add_header("Content-Type", CONTENT_TYPE)
        if isinstance(body, _FileBody):  # else urllib would send it chunked
            request.add_header("Content-Length", str(body.length))
        request.add_header("User-Agent", USER_AGENT)
        header = self.credentials.authorization_header()
        if header and (basic or not header.startswith("Basic ")):
            request.add_header("Authorization", header)
        from kb import http_client

        try:
            http_client.send(self.opener, request, timeout=self.timeout)
        except TimeoutError:
            raise EndpointError(f"no answer within {self.timeout:g} s (timed out)") from None
        except http_client.RedirectRefused as exc:
            raise EndpointError(self.credentials.scrub(str(exc.reason))) from None
        except urllib.error.HTTPError as exc:
            try:
                message = exc.read(2000).decode("utf-8", "replace").strip()
            except OSError:
                message = ""
            hint = " (check the credentials)" if exc.code in (401, 403) else ""
            if exc.code in (404, 405):
                hint = " (is this the graph store URL?)"
            reason = f"HTTP {exc.code} {exc.reason}{hint}" + (f": {message}" if message else "")
            unchallenged = exc.code == 401 and not exc.headers.get("WWW-Authenticate")
            if unchallenged and basic and self.digest_ready:
                raise _BasicRefused(reason) from None  # send() tries again without Basic
            raise EndpointError(self.credentials.scrub(reason)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise EndpointError(
                self.credentials.scrub(describe_network_error(exc, self.timeout))
            ) from None
        except ValueError:  # http.client refuses malformed URLs (and echoes them)
            raise EndpointError("not a URL that can be requested") from None


def push(
    plan: PushPlan,
    store_url: str,
    *,
    replace: bool = False,
    timeout: float = 30.0,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_progress: Callable[[int], None] | None = None,
) -> PushReport:
    """Write ``plan`` to the graph store at ``store_url``, reading each file as it goes.

    :param replace: PUT each graph whole (old or new, never half), instead of POSTing chunks.
    :param on_progress: called after each request with the bytes of the source files
        finished since the last call (they add up to ``plan.total_bytes``).
    :returns: what was written.
    :raises UsageError: ``store_url`` is not an http(s) URL.
    :raises PushFailed: a request failed, or a file could not be read or parsed; the
        message and ``report`` say what was written.
    """
    if chunk_bytes < 1:
        raise UsageError("chunk size must be positive")
    client = _GraphStoreClient(store_url, timeout)
    report = PushReport(client.display_url, "PUT" if replace else "POST", plan.layout)
    for source in plan.graphs:
        written = GraphWritten(source.label, 0, 0, complete=False)
        sender = _Sender(client, source, written, report, plan, on_progress)
        if replace:
            _put_graph(sender)
        else:
            _post_graph(sender, chunk_bytes)
        written.complete = True
        report.graphs.append(written)
    return report


class _Sender:
    """Sends the requests of one graph, turning failures into :class:`PushFailed`."""

    def __init__(
        self,
        client: _GraphStoreClient,
        source: GraphSource,
        written: GraphWritten,
        report: PushReport,
        plan: PushPlan,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.client, self.source, self.written = client, source, written
        self.report, self.plan, self.on_progress = report, plan, on_progress

    def read(self, files: list[Path]) -> _Batch:
        from kb.errors import CouldNotRun

        try:
            return _read_batch(files)
        except CouldNotRun as exc:
            raise PushFailed(
                _failure_message(
                    self.report, self.plan, self.written, f"reading {self.source.label}", str(exc)
                ),
                self.report,
            ) from None

    def send(self, body: bytes | _FileBody, source_bytes: int) -> None:
        method = self.report.method
        where = f"{method} {self.source.label}"
        if self.written.requests:
            where += f" (chunk {self.written.requests + 1})"
        try:
            self.client.send(method, self.source.graph, body)
        except EndpointError as exc:
            raise PushFailed(
                _failure_message(self.report, self.plan, self.written, where, str(exc)),
                self.report,
            ) from None
        self.written.requests += 1
        self.progress(source_bytes)

    def progress(self, source_bytes: int) -> None:
        if self.on_progress is not None:
            self.on_progress(source_bytes)


def _post_graph(sender: _Sender, limit: int) -> None:
    """Add the sender's graph's triples with POSTs of at most ``limit`` bytes: whole
    batches are packed together; a batch larger than the limit is split by blank-node
    groups."""
    source, written = sender.source, sender.written
    pending: list[bytes] = []
    pending_size = 0
    pending_source = 0
    for files in source.batches:
        batch = sender.read(files)
        written.triples += batch.triples
        if pending and pending_size + len(batch.data) > limit:
            sender.send(b"".join(pending), pending_source)
            pending, pending_size, pending_source = [], 0, 0
        if len(batch.data) > limit:
            parts = _split(batch, limit)
            for number, part in enumerate(parts, start=1):
                sender.send(part, batch.source_bytes if number == len(parts) else 0)
            continue
        pending.append(batch.data)
        pending_size += len(batch.data)
        pending_source += batch.source_bytes
    if pending_size:
        sender.send(b"".join(pending), pending_source)
    elif pending_source:
        sender.progress(pending_source)  # files without triples: nothing to send


def _put_graph(sender: _Sender) -> None:
    """Replace the sender's graph with one PUT. A graph of one batch (the schema, a
    study) is sent from memory; a graph of many (the whole knowledge base in the
    ``default`` and ``graph`` layouts) is first written to a temporary file."""
    import tempfile

    source, written = sender.source, sender.written
    if len(source.batches) == 1:
        batch = sender.read(source.batches[0])
        written.triples = batch.triples
        sender.send(batch.data, batch.source_bytes)
        return
    with tempfile.TemporaryDirectory(prefix="ekb-push-") as folder:
        path = Path(folder) / "graph.nt"
        source_bytes = 0
        with path.open("wb") as out:
            for files in source.batches:
                batch = sender.read(files)
                written.triples += batch.triples
                source_bytes += batch.source_bytes
                out.write(batch.data)
        sender.send(_FileBody(path), source_bytes)


def _names(labels: list[str], limit: int = 5) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _failure_message(
    report: PushReport, plan: PushPlan, current: GraphWritten, where: str, reason: str
) -> str:
    done = [g.label for g in report.graphs]
    total = len(plan.graphs)
    head = f"{report.store}: push stopped at {where}: {reason}."
    if report.method == "PUT":
        if not done:
            return f"{head} Nothing was replaced: all {total} graphs are unchanged."
        return (
            f"{head} Replaced {len(done)} of {total} graphs ({_names(done)}); "
            f"the other {total - len(done)} are unchanged "
            "(each graph is either entirely old or entirely new)."
        )
    sent = current.requests
    if not done and not sent:
        return f"{head} Nothing was written."
    chunks = "chunk" if sent == 1 else "chunks"
    partial = f"; {sent} {chunks} of {current.label} were added" if sent else ""
    added = f"Added {len(done)} of {total} graphs" + (f" ({_names(done)})" if done else "")
    return (
        f"{head} {added}{partial}; the rest was not sent. "
        "Running the same push again completes it (adding a triple twice has no effect)."
    )


def push_kb(
    store_url: str,
    kb_dir: Path | None = None,
    *,
    layout: Layout = "default",
    graph: str | None = None,
    replace: bool = False,
    timeout: float = 30.0,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_progress: Callable[[int], None] | None = None,
) -> PushReport:
    """:func:`plan_push` then :func:`push`, for library users."""
    plan = plan_push(kb_dir, layout=layout, graph=graph)
    return push(
        plan,
        store_url,
        replace=replace,
        timeout=timeout,
        chunk_bytes=chunk_bytes,
        on_progress=on_progress,
    )
