"""The only module that knows the RDF backend.

A knowledge base is a folder of Turtle files (``studies/*.ttl``, optional
``vocab/``). :class:`EmbeddedStore` loads it, with the shipped ontology and
vocabularies, into an Oxigraph store: each file in a named graph of its own
(``file:`` IRI of the study, see :func:`graph_iri_for`), queried as the union
of all graphs. Rows come back as rdflib terms, so callers see the same values
whether the store is embedded or remote (:mod:`kb.remote`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kb import paths
from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.namespaces import RES

#: Graph that holds the ontology and vocabularies.
SCHEMA_GRAPH = "https://w3id.org/evidence-kb/graph/schema"


@dataclass(frozen=True)
class QueryResult:
    """Rows of a SELECT query: ``columns`` in projection order, each row a dict of rdflib terms.

    A variable left unbound in a row is absent from that row's dict.
    """

    columns: list[str]
    rows: list[dict[str, Identifier]] = field(default_factory=list)

    def values(self, column: str) -> list[Identifier | None]:
        """The column as a list, with ``None`` where unbound."""
        return [row.get(column) for row in self.rows]


class Store(Protocol):
    """What the rest of the library needs from an RDF backend."""

    def select(self, query: str) -> QueryResult: ...

    def ask(self, query: str) -> bool: ...

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]: ...


def graph_iri_for(study_file: Path) -> str:
    """The named graph a study file is loaded into: its study IRI, from the file name."""
    return f"{RES}study/{study_file.stem}"


def _to_rdflib(term: object) -> Identifier:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise TypeError(f"unexpected term {term!r}")


def _reject_updates(query: str) -> None:
    # pyoxigraph's query() refuses updates itself; this gives the clearer message.
    head = " ".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    words = {w.upper() for w in head.replace("{", " ").split()}
    if words & {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"}:
        if not words & {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
            raise UsageError("updates are refused: ekb runs read-only queries (SELECT, ASK, CONSTRUCT, DESCRIBE)")


class EmbeddedStore:
    """An in-process Oxigraph store holding the ontology, vocabularies and one KB folder."""

    def __init__(self, oxstore: ox.Store | None = None) -> None:
        self._store = oxstore if oxstore is not None else ox.Store()

    @classmethod
    def open_kb(cls, kb_dir: Path | None = None, *, include_schema: bool = True) -> EmbeddedStore:
        """Load a knowledge base folder (default: ``$EKB_KB`` or the shipped KB).

        :raises CouldNotRun: the folder does not exist or has no ``studies/``.
        :raises RdfSyntaxError: a file is not valid Turtle (names the file and line).
        """
        kb_dir = kb_dir if kb_dir is not None else paths.default_kb_dir()
        if not (kb_dir / "studies").is_dir():
            raise CouldNotRun(f"{kb_dir}: not a knowledge base folder (no studies/ inside); `ekb init DIR` makes one")
        store = cls()
        if include_schema:
            store.load_files(schema_files(kb_dir), graph=SCHEMA_GRAPH)
        for f in paths.study_files(kb_dir):
            store.load_file(f, graph=graph_iri_for(f))
        return store

    def load_files(self, files: Iterable[Path], *, graph: str | None = None) -> None:
        for f in files:
            self.load_file(f, graph=graph)

    def load_file(self, path: Path, *, graph: str | None = None) -> None:
        """Load one Turtle file, into ``graph`` when given.

        :raises RdfSyntaxError: with the file and line of the first error.
        :raises CouldNotRun: the file cannot be read.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
        target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        try:
            self._store.bulk_load(data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(), to_graph=target)
        except SyntaxError as exc:
            raise RdfSyntaxError(str(path), exc.lineno, exc.msg or str(exc)) from exc

    def __len__(self) -> int:
        return len(self._store)

    def select(self, query: str) -> QueryResult:
        _reject_updates(query)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions):
            raise UsageError("expected a SELECT query")
        columns = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row: dict[str, Identifier] = {}
            for name in columns:
                term = solution[name]
                if term is not None:
                    row[name] = _to_rdflib(term)
            rows.append(row)
        return QueryResult(columns, rows)

    def ask(self, query: str) -> bool:
        _reject_updates(query)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QueryBoolean):
            raise UsageError("expected an ASK query")
        return bool(result)

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]:
        _reject_updates(query)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QueryTriples):
            raise UsageError("expected a CONSTRUCT or DESCRIBE query")
        return [(_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object)) for t in result]

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad, for exports and pushes that need the graphs."""
        return iter(self._store)


def schema_files(kb_dir: Path | None = None) -> list[Path]:
    """The ontology and every vocabulary file (the package's plus the KB's own)."""
    return [paths.ontology_file(), *paths.kb_vocab_files(kb_dir or paths.default_kb_dir())]


def column_strings(result: QueryResult, column: str) -> Sequence[str | None]:
    """A column as plain strings (IRIs and literal values), ``None`` where unbound."""
    return [None if v is None else str(v) for v in result.values(column)]


def open_store(kb_dir: Path | None = None, *, endpoint: str | None = None, timeout: float = 30.0) -> Store:
    """The store a command should query: a remote SPARQL endpoint when ``endpoint`` is given,
    else the embedded store of ``kb_dir`` (default: ``$EKB_KB`` or the shipped KB)."""
    if endpoint:
        from kb.remote import RemoteStore  # SPARQLWrapper only loads for remote use

        return RemoteStore(endpoint, timeout=timeout)
    return EmbeddedStore.open_kb(kb_dir)
