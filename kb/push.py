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

Without ``replace`` each graph is added to with ``POST`` in chunks of bounded
size (N-Triples lines sent as ``text/turtle``, which every store accepts;
triples that share a blank node always travel together, because blank node
labels are scoped to one request). Adding is idempotent: an RDF graph is a set,
so re-running a push that stopped half way completes it.

With ``replace`` each graph is sent whole in a single ``PUT``, one graph after
another, so whatever fails, every graph is either entirely old or entirely new;
the error says which graphs were written. Graphs on the store that the
knowledge base does not have (a study deleted locally) are left alone.

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
from collections.abc import Callable, Iterable
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
class GraphPayload:
    """What goes into one target graph, as units that must each travel in one request:
    a single N-Triples line, or every triple of one group of connected blank nodes."""

    graph: str | None  # None: the default graph
    units: list[bytes] = field(default_factory=list)
    triples: int = 0

    @property
    def label(self) -> str:
        return self.graph if self.graph is not None else DEFAULT_GRAPH_LABEL

    @property
    def size(self) -> int:
        return sum(len(unit) for unit in self.units)

    def body(self) -> bytes:
        return b"".join(self.units)

    def chunks(self, limit: int) -> list[bytes]:
        """Bodies of at most ``limit`` bytes each (a single unit longer than that
        travels alone and exceeds it)."""
        out: list[bytes] = []
        current: list[bytes] = []
        size = 0
        for unit in self.units:
            if current and size + len(unit) > limit:
                out.append(b"".join(current))
                current, size = [], 0
            current.append(unit)
            size += len(unit)
        if current:
            out.append(b"".join(current))
        return out


@dataclass
class PushPlan:
    """The graphs to write, in the order they will be written."""

    layout: Layout
    graphs: list[GraphPayload]

    @property
    def total_bytes(self) -> int:
        return sum(g.size for g in self.graphs)

    @property
    def total_triples(self) -> int:
        return sum(g.triples for g in self.graphs)


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
    """Read the knowledge base (ontology, vocabularies, studies) and lay it out into target graphs.

    :param layout: ``default``, ``graph`` (needs ``graph``) or ``per-study``.
    :raises UsageError: ``graph`` missing for the ``graph`` layout, or not an absolute IRI.
    :raises CouldNotRun: the folder is not a knowledge base, or a file is not valid Turtle.
    """
    import pyoxigraph as ox

    from kb.store import EmbeddedStore

    if layout == "graph":
        if not graph:
            raise UsageError("the 'graph' layout needs a graph IRI")
        check_graph_iri(graph)
    store = EmbeddedStore.open_kb(kb_dir)
    plain: dict[str | None, set[ox.Triple]] = {}
    with_bnodes: dict[str | None, set[ox.Triple]] = {}
    for quad in store.quads():
        source = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
        target = _graph_for(layout, graph, source)
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        has_bnode = isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)
        (with_bnodes if has_bnode else plain).setdefault(target, set()).add(triple)
        plain.setdefault(target, set())
    payloads = []
    # The schema first, so a half-finished push still resolves concepts; then graphs by name.
    from kb.store import SCHEMA_GRAPH

    order = sorted(plain, key=lambda g: (g != SCHEMA_GRAPH, g or ""))
    for target in order:
        payload = GraphPayload(target)
        payload.units = sorted(_ntriples_lines(plain[target]))
        payload.units += _blank_node_groups(with_bnodes.get(target, set()))
        payload.triples = len(plain[target]) + len(with_bnodes.get(target, ()))
        payloads.append(payload)
    return PushPlan(layout, payloads)


def _blank_node_groups(triples: set[ox.Triple]) -> list[bytes]:
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
    blocks = [b"".join(sorted(_ntriples_lines(group))) for group in groups.values()]
    return sorted(blocks)


def _ntriples_lines(triples: Iterable[ox.Triple]) -> list[bytes]:
    import pyoxigraph as ox

    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
    # N-Triples escapes line breaks inside literals, so one line is one triple.
    return [line + b"\n" for line in data.split(b"\n") if line.strip()]


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
        from kb import http_client

        # Redirects: same origin with the body kept (307/308) or a failure.
        self.opener = http_client.build_opener("upload", *handlers)

    def send(self, method: str, graph: str | None, body: bytes) -> None:
        """One request; raises :class:`EndpointError` with a clean, secret-free reason."""
        request = urllib.request.Request(graph_store_url(self.url, graph), data=body, method=method)
        request.add_header("Content-Type", CONTENT_TYPE)
        request.add_header("User-Agent", USER_AGENT)
        header = self.credentials.authorization_header()
        if header:
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
    """Write ``plan`` to the graph store at ``store_url``.

    :param replace: PUT each graph whole (old or new, never half), instead of POSTing chunks.
    :param on_progress: called with the number of bytes after each request.
    :returns: what was written.
    :raises UsageError: ``store_url`` is not an http(s) URL.
    :raises PushFailed: a request failed; the message and ``report`` say what was written.
    """
    if chunk_bytes < 1:
        raise UsageError("chunk size must be positive")
    client = _GraphStoreClient(store_url, timeout)
    method = "PUT" if replace else "POST"
    report = PushReport(client.display_url, method, plan.layout)
    for index, payload in enumerate(plan.graphs):
        bodies = [payload.body()] if replace else payload.chunks(chunk_bytes)
        written = GraphWritten(payload.label, payload.triples, 0, complete=False)
        for number, body in enumerate(bodies, start=1):
            try:
                client.send(method, payload.graph, body)
            except EndpointError as exc:
                raise PushFailed(
                    _failure_message(report, plan, index, written, number, len(bodies), str(exc)),
                    report,
                ) from None
            written.requests += 1
            if on_progress is not None:
                on_progress(len(body))
        written.complete = True
        report.graphs.append(written)
    return report


def _names(labels: list[str], limit: int = 5) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _failure_message(
    report: PushReport,
    plan: PushPlan,
    index: int,
    current: GraphWritten,
    number: int,
    of: int,
    reason: str,
) -> str:
    done = [g.label for g in report.graphs]
    total = len(plan.graphs)
    where = f"{report.method} {current.label}" + (f" (chunk {number} of {of})" if of > 1 else "")
    head = f"{report.store}: push stopped at {where}: {reason}."
    if report.method == "PUT":
        if not done:
            return f"{head} Nothing was replaced: all {total} graphs are unchanged."
        return (
            f"{head} Replaced {len(done)} of {total} graphs ({_names(done)}); "
            f"the other {total - len(done)} are unchanged "
            "(each graph is either entirely old or entirely new)."
        )
    if not done and number == 1:
        return f"{head} Nothing was written."
    partial = f"; {number - 1} of {of} chunks of {current.label} were added" if number > 1 else ""
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
