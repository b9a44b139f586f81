"""The only module that knows the RDF backend.

A knowledge base is a folder of Turtle files (``studies/*.ttl``, optional
``vocab/``). :class:`EmbeddedStore` loads it, with the shipped ontology and
vocabularies, into an Oxigraph store: each file in a named graph of its own
(``file:`` IRI of the study, see :func:`graph_iri_for`), queried as the union
of all graphs. Rows come back as rdflib terms, so callers see the same values
whether the store is embedded or remote (:mod:`kb.remote`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kb import paths
from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.namespaces import RES
from kb.rdf_terms import XSD_STRING, iri, string_literal  # re-exported
from kb.store_api import QueryResult, Store, _reject_updates  # re-exported

#: Graph that holds the ontology and vocabularies.
SCHEMA_GRAPH = "https://w3id.org/evidence-kb/graph/schema"


def graph_iri_for(study_file: Path) -> str:
    """The named graph a study file is loaded into: its study IRI, from the file name.

    A review file (``reviews/<id>.ttl``) goes into the graph of its review IRI.
    """
    if study_file.parent.name == "reviews":
        return f"{RES}review/{study_file.stem}"
    return f"{RES}study/{study_file.stem}"


def read_file(path: Path) -> bytes:
    """The bytes of ``path``.

    :raises CouldNotRun: it cannot be read (names the file and why).
    """
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc


@contextmanager
def turtle_errors(path: Path) -> Iterator[None]:
    """Inside, Oxigraph's SyntaxError for ``path`` becomes :class:`RdfSyntaxError`
    (with the file and line), as every Turtle loader here reports it."""
    try:
        yield
    except SyntaxError as exc:
        raise RdfSyntaxError(str(path), exc.lineno, exc.msg or str(exc)) from exc


def _to_rdflib(term: object) -> Identifier:
    if isinstance(term, ox.NamedNode):
        return iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return string_literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unexpected term {term!r}")


class EmbeddedStore:
    """An in-process Oxigraph store holding the ontology, vocabularies and one KB folder."""

    def __init__(self, oxstore: ox.Store | None = None, *, on_disk: bool = False) -> None:
        self._store = oxstore if oxstore is not None else ox.Store()
        self._on_disk = on_disk
        #: SERVICE clauses make Oxigraph fetch any URL; refused unless this is set.
        self.allow_service = False
        #: The files of a warm-start store and their digests (None for an in-memory
        #: store): what :mod:`kb.query_cache` keys cached results by.
        self.snapshot: KbSnapshot | None = None

    @classmethod
    def open_kb(cls, kb_dir: Path | None = None, *, include_schema: bool = True) -> EmbeddedStore:
        """Load a knowledge base folder (default: ``$EKB_KB`` or the shipped KB).

        :raises CouldNotRun: the folder does not exist or has no ``studies/``.
        :raises RdfSyntaxError: a file is not valid Turtle (names the file and line).
        """
        kb_dir = kb_dir if kb_dir is not None else paths.default_kb_dir()
        if not (kb_dir / "studies").is_dir():
            raise CouldNotRun(
                f"{kb_dir}: not a knowledge base folder (no studies/ inside);"
                " `ekb init DIR` makes one"
            )
        # Reviews sit beside the studies (each in its own graph), so queries can
        # join a review's decisions with the study data (the `review` parameter).
        studies = paths.study_files(kb_dir) + paths.review_files(kb_dir)
        schema = schema_files(kb_dir) if include_schema else []
        if _use_cache(len(studies)):
            cached = _open_cached(kb_dir, schema, studies)
            if cached is not None:
                oxstore, files, keys = cached
                store = cls(oxstore, on_disk=True)
                store.snapshot = _snapshot(kb_dir, schema, keys, files)
                return store
        return cls._load_in_memory(schema, studies)

    @classmethod
    def _load_in_memory(cls, schema: list[Path], studies: list[Path]) -> EmbeddedStore:
        store = cls()
        store.load_files(schema, graph=SCHEMA_GRAPH)
        for f in studies:
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
        data = read_file(path)
        target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        with turtle_errors(path):
            # bulk_load is the fast path for an in-memory store; an on-disk store takes
            # small files faster through ordinary (transactional) loads.
            load = self._store.load if self._on_disk else self._store.bulk_load
            load(
                data, format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(), to_graph=target
            )

    def __len__(self) -> int:
        return len(self._store)

    def select(self, query: str) -> QueryResult:
        _reject_updates(query, self.allow_service)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions):
            raise UsageError("expected a SELECT query")
        columns = [v.value for v in result.variables]
        rows = []
        # Each distinct term becomes an rdflib term once: labels, concepts and
        # study IRIs repeat down a column, and a conversion costs microseconds.
        convert: dict[object, Identifier] = {}
        for solution in result:
            row: dict[str, Identifier] = {}
            for name in columns:
                term = solution[name]
                if term is not None:
                    value = convert.get(term)
                    if value is None:
                        value = convert[term] = _to_rdflib(term)
                    row[name] = value
            rows.append(row)
        return QueryResult(columns, rows)

    def ask(self, query: str) -> bool:
        _reject_updates(query, self.allow_service)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QueryBoolean):
            raise UsageError("expected an ASK query")
        return bool(result)

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]:
        _reject_updates(query, self.allow_service)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QueryTriples):
            raise UsageError("expected a CONSTRUCT or DESCRIBE query")
        return [
            (_to_rdflib(t.subject), _to_rdflib(t.predicate), _to_rdflib(t.object)) for t in result
        ]

    def triples_of_subjects(self, query: str) -> Iterator[tuple[str, str, str, Identifier]]:
        """For a SELECT of ``(?group ?s)`` rows: every triple of each ``?s`` (in any
        graph, the union queries see), as ``(group, s, predicate, object)``.

        A subject in several rows is read once, under its first group. Only the
        objects become rdflib terms (each distinct one once): at 10,000 studies,
        reading an export's records this way takes seconds where one
        ``SELECT ?s ?p ?o`` took minutes (it returned each triple once per path to
        its subject, and made a term of every cell).
        """
        _reject_updates(query, self.allow_service)
        try:
            result = self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions) or len(result.variables) != 2:
            raise UsageError("expected a SELECT of two variables")
        seen: set[object] = set()
        convert: dict[object, Identifier] = {}
        for solution in result:
            group, subject = solution[0], solution[1]
            if group is None or subject is None or subject in seen:
                continue
            seen.add(subject)
            for quad in self._store.quads_for_pattern(subject, None, None, None):
                o = quad.object
                term = convert.get(o)
                if term is None:
                    term = convert[o] = _to_rdflib(o)
                yield group.value, subject.value, quad.predicate.value, term

    def graph_names(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def quads(self) -> Iterator[ox.Quad]:
        """Every quad, for exports and pushes that need the graphs."""
        return iter(self._store)


# --------------------------------------------------------------------------
# Warm start: a persistent on-disk store per knowledge base folder
# --------------------------------------------------------------------------
#
# Loading ten thousand study files takes seconds; opening an on-disk Oxigraph
# store takes milliseconds. The cache lives in the user's cache directory (never
# in the KB folder, which may be read-only), keyed by the KB folder's path, and
# holds a manifest of every file it loaded (size, mtime, SHA-256). On open, only
# files whose content changed are reloaded, each into its own named graph. A
# manifest marked dirty (an update was interrupted), from another version, or
# unreadable means the cache is rebuilt from scratch, never trusted.

#: Environment variable: ``auto`` (default: cache KBs of CACHE_MIN_STUDIES or more
#: study files), ``always`` or ``never``.
CACHE_ENV_VAR = "EKB_CACHE"
#: Environment variable overriding where caches live.
CACHE_DIR_ENV_VAR = "EKB_CACHE_DIR"
#: Below this many study files an in-memory load is as fast as opening a cache.
CACHE_MIN_STUDIES = 200
# 2: each study file's entry says whether the file is self-contained ("local").
_CACHE_FORMAT = 2


def _use_cache(n_studies: int) -> bool:
    mode = os.environ.get(CACHE_ENV_VAR, "auto").lower()
    if mode == "never":
        return False
    if mode == "always":
        return True
    return n_studies >= CACHE_MIN_STUDIES


def cache_root() -> Path:
    """Where warm-start stores live (``$EKB_CACHE_DIR``, else the user's cache directory)."""
    override = os.environ.get(CACHE_DIR_ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("evidence-kb"))


def cache_dir_for(kb_dir: Path) -> Path:
    """The cache folder of one knowledge base folder."""
    key = hashlib.sha256(str(kb_dir.resolve()).encode("utf-8")).hexdigest()[:20]
    return cache_root() / key


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


Manifest = dict[str, dict[str, object]]


def _open_cached(
    kb_dir: Path, schema: list[Path], studies: list[Path]
) -> tuple[ox.Store, Manifest, dict[Path, str]] | None:
    """The up-to-date on-disk store of ``kb_dir``, its manifest's file entries and
    each study file's manifest key (its resolved path), or ``None`` when no cache
    can be used.

    :raises RdfSyntaxError: a changed file is not valid Turtle (the cache stays marked dirty).
    """
    folder = cache_dir_for(kb_dir)
    manifest_path = folder / "manifest.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        store = ox.Store(str(folder / "oxigraph"))
    except OSError:
        # Unwritable cache folder, or another ekb process holds the store: load in memory.
        return None
    manifest = _read_manifest(manifest_path)
    keys = _manifest_keys(studies)
    if manifest is None:
        return store, _rebuild_cache(store, manifest_path, schema, studies, keys), keys
    files: Manifest = manifest["files"]  # type: ignore[assignment]

    wanted: dict[str, tuple[Path, str]] = {keys[p]: (p, graph_iri_for(p)) for p in studies}
    schema_key = _schema_key(schema)
    changed: list[tuple[str, Path, str, dict[str, object]]] = []
    for key, (path, graph) in wanted.items():
        entry = _fresh_entry(path, files.get(key))
        if entry is not None:
            changed.append((key, path, graph, entry))
    schema_entries = [_fresh_entry(p, files.get(f"{schema_key}#{p}")) for p in schema]
    schema_changed = any(e is not None for e in schema_entries) or (
        schema_key not in files and bool(schema)
    )
    removed = [k for k in files if not k.startswith("schema:") and k not in wanted]
    stale_schema = [
        k
        for k in files
        if k.startswith("schema:") and not k.startswith(schema_key + "#") and k != schema_key
    ]

    if not (changed or schema_changed or removed or stale_schema):
        return store, files, keys

    manifest["dirty"] = True
    _write_manifest(manifest_path, manifest)
    for key in removed:
        store.remove_graph(ox.NamedNode(str(files.pop(key)["graph"])))
    for key in stale_schema:
        files.pop(key)
    wrapper = EmbeddedStore(store, on_disk=True)
    if schema_changed:
        store.clear_graph(ox.NamedNode(SCHEMA_GRAPH))
        wrapper.load_files(schema, graph=SCHEMA_GRAPH)
        files[schema_key] = {"graph": SCHEMA_GRAPH}
        for p in schema:
            files[f"{schema_key}#{p}"] = _entry_for(p, SCHEMA_GRAPH)
    for key, path, graph, entry in changed:
        if key in files and entry.get("sha256") == files[key].get("sha256"):
            # touched but not changed: nothing to reload, and still as local as it was
            old = files[key]
            files[key] = {**entry, "local": old.get("local"), "links": old.get("links")}
            continue
        node = ox.NamedNode(graph)
        if store.contains_named_graph(node):
            store.clear_graph(node)
        wrapper.load_file(path, graph=graph)
        own, links = study_footprint(graph, store.quads_for_pattern(None, None, None, node))
        entry["local"], entry["links"] = own, sorted(links)
        files[key] = entry
    manifest["dirty"] = False
    store.flush()
    _write_manifest(manifest_path, manifest)
    return store, files, keys


def _manifest_keys(files: list[Path]) -> dict[Path, str]:
    """Each file's manifest key: its resolved path, as ``Path.resolve`` gives it.

    Resolving costs a system call per path component; the folders are resolved
    once each, and only a file that is itself a symbolic link on its own (a third
    of a warm start at 10,000 studies went to resolving every path in full).
    """
    folders: dict[Path, str] = {}
    keys: dict[Path, str] = {}
    for f in files:
        folder = folders.get(f.parent)
        if folder is None:
            folder = folders[f.parent] = os.path.realpath(f.parent)
        keys[f] = str(f.resolve()) if os.path.islink(f) else os.path.join(folder, f.name)
    return keys


def _rebuild_cache(
    store: ox.Store,
    manifest_path: Path,
    schema: list[Path],
    studies: list[Path],
    keys: dict[Path, str],
) -> Manifest:
    """Fill an empty cache: stream every file's quads into one bulk load.

    Loading thousands of small files into RocksDB one by one is several times
    slower than one bulk load of the same quads; the quads are parsed file by
    file and handed over as they come, so memory stays bounded (an earlier
    version loaded everything in memory and dumped it as one N-Quads string:
    459 MB of text and 2.6 GB peak at 10,000 studies). A file that is not valid
    Turtle stops the load with the manifest still marked dirty, so the half-filled
    store is never trusted.
    """
    _write_manifest(
        manifest_path, {"format": _CACHE_FORMAT, "version": _versions(), "dirty": True, "files": {}}
    )
    store.clear()
    footprints: dict[str, tuple[bool, set[str]]] = {}
    store.bulk_extend(
        _stream_quads(
            [(p, SCHEMA_GRAPH) for p in schema] + [(p, graph_iri_for(p)) for p in studies],
            footprints,
        )
    )
    store.flush()
    schema_key = _schema_key(schema)
    files: Manifest = {}
    for p in studies:
        graph = graph_iri_for(p)
        own, links = footprints.get(graph, (False, set()))
        files[keys[p]] = {**_entry_for(p, graph), "local": own, "links": sorted(links)}
    files[schema_key] = {"graph": SCHEMA_GRAPH}
    for p in schema:
        files[f"{schema_key}#{p}"] = _entry_for(p, SCHEMA_GRAPH)
    _write_manifest(
        manifest_path,
        {"format": _CACHE_FORMAT, "version": _versions(), "dirty": False, "files": files},
    )
    return files


def parse_turtle_file(path: Path) -> Iterator[ox.Quad]:
    """The triples of one Turtle file, parsed as the loader does (its own base IRI,
    blank nodes renamed per file so two files' ``_:b0`` stay apart).

    :raises RdfSyntaxError: with the file and line of the first error.
    :raises CouldNotRun: the file cannot be read.
    """
    data = read_file(path)
    with turtle_errors(path):
        yield from ox.parse(
            data,
            format=ox.RdfFormat.TURTLE,
            base_iri=path.resolve().as_uri(),
            rename_blank_nodes=True,
        )


def _stream_quads(
    files: list[tuple[Path, str]], footprints: dict[str, tuple[bool, set[str]]] | None = None
) -> Iterator[ox.Quad]:
    """Every quad of each ``(file, graph)``, parsed as the loader does (blank nodes
    renamed per file, so two files' ``_:b0`` stay apart).

    With ``footprints``, each study graph's :func:`study_footprint` is put there
    on the way (the checks are written out here: a function call per quad cost
    seconds at 10,000 studies).

    :raises RdfSyntaxError: with the file and line of the first error.
    :raises CouldNotRun: a file cannot be read.
    """
    for path, graph in files:
        node = ox.NamedNode(graph)
        watch = footprints is not None and graph.startswith(_STUDY_NAMESPACE)
        own, links = True, set()
        under = (graph + "/", graph + "#")
        named = ox.NamedNode
        for q in parse_turtle_file(path):
            s, o = q.subject, q.object
            if watch:
                if own and type(s) is named:
                    v = s.value
                    own = v == graph or v.startswith(under)
                if type(o) is named:
                    v = o.value
                    if v.startswith(_STUDY_NAMESPACE) and v != graph and not v.startswith(under):
                        links.add(_study_of(v))
            yield ox.Quad(s, q.predicate, o, node)
        if watch and footprints is not None:
            footprints[graph] = (own, links)


# --------------------------------------------------------------------------
# What a warm-start store was loaded from (for kb.query_cache)
# --------------------------------------------------------------------------


def _in_own_namespace(iri: str, graph: str) -> bool:
    return iri == graph or iri.startswith(graph + "/") or iri.startswith(graph + "#")


def study_footprint(graph: str, quads: Iterable[ox.Quad]) -> tuple[bool, set[str]]:
    """Whether a study file describes only its own study, and which other studies it
    points at.

    The first is true when every IRI subject is the file's study IRI or under it
    (``.../study/<id>/arm/1``); blank nodes are renamed per file, so they are
    always its own. The second is the set of other studies' IRIs that some object
    is, or is under (``ekb:possiblyRelatedTo``, or an arm of another study).
    A study's rows of a per-study query can then depend on its own file and on the
    studies linked to it, directly or not, and on nothing else of the knowledge
    base: what lets :mod:`kb.query_cache` recompute a few studies after an edit.
    """
    own = graph.startswith(_STUDY_NAMESPACE)
    links: set[str] = set()
    for quad in quads:
        s = quad.subject
        if own and isinstance(s, ox.NamedNode) and not _in_own_namespace(s.value, graph):
            own = False
        o = quad.object
        if isinstance(o, ox.NamedNode) and o.value.startswith(_STUDY_NAMESPACE):
            if not _in_own_namespace(o.value, graph):
                links.add(_study_of(o.value))
    return own, links


_STUDY_NAMESPACE = f"{RES}study/"
_STUDY_ID_END = re.compile(r"[/#]")


def _study_of(iri: str) -> str:
    """The study IRI an IRI under ``.../study/`` belongs to."""
    rest = iri[len(_STUDY_NAMESPACE) :]
    end = _STUDY_ID_END.search(rest)
    return _STUDY_NAMESPACE + (rest[: end.start()] if end else rest)


@dataclass(frozen=True)
class SnapshotFile:
    """One study or review file of a warm-start store."""

    path: Path
    graph: str
    sha256: str
    #: every subject is the study's own (see :func:`study_footprint`)
    local: bool
    #: other studies this file points at
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class KbSnapshot:
    """The files a warm-start store holds, with their digests, as of opening it.

    ``schema_digest`` covers the ontology and every vocabulary file (their
    paths and contents), ``studies`` and ``reviews`` map graph IRIs to files.
    """

    cache_folder: Path
    schema_files: tuple[Path, ...]
    schema_digest: str
    studies: dict[str, SnapshotFile]
    reviews: dict[str, SnapshotFile]


def _schema_key(schema: list[Path]) -> str:
    return "schema:" + "|".join(str(p.resolve()) for p in schema)


def _snapshot(
    kb_dir: Path, schema: list[Path], keys: dict[Path, str], manifest: Manifest
) -> KbSnapshot:
    digest = hashlib.sha256()
    schema_key = _schema_key(schema)
    for p in schema:
        entry = manifest.get(f"{schema_key}#{p}") or {"sha256": _file_digest(p)}
        digest.update(f"{p}\0{entry.get('sha256')}\0".encode())
    studies: dict[str, SnapshotFile] = {}
    reviews: dict[str, SnapshotFile] = {}
    for p, key in keys.items():
        entry = manifest[key]
        graph = str(entry["graph"])
        links = entry.get("links")
        record = SnapshotFile(
            p,
            graph,
            str(entry["sha256"]),
            entry.get("local") is True,
            tuple(str(x) for x in links) if isinstance(links, list) else (),
        )
        (reviews if p.parent.name == "reviews" else studies)[graph] = record
    return KbSnapshot(cache_dir_for(kb_dir), tuple(schema), digest.hexdigest(), studies, reviews)


def _versions() -> str:
    from kb import __version__

    return f"kb {__version__}; pyoxigraph {ox.__version__}; cache {_CACHE_FORMAT}"


def _read_manifest(path: Path) -> dict[str, object] | None:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("dirty") is not False
        or manifest.get("version") != _versions()
        or not isinstance(manifest.get("files"), dict)
    ):
        return None
    return manifest


def _write_manifest(path: Path, manifest: dict[str, object]) -> None:
    from kb.fileio import atomic_write_text

    atomic_write_text(path, json.dumps(manifest, sort_keys=True))


def _entry_for(path: Path, graph: str) -> dict[str, object]:
    stat = path.stat()
    return {
        "graph": graph,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": _file_digest(path),
    }


def _fresh_entry(path: Path, old: dict[str, object] | None) -> dict[str, object] | None:
    """``None`` when ``path`` is unchanged since ``old`` was recorded, else its new entry."""
    graph = graph_iri_for(path) if old is None else str(old["graph"])
    try:
        stat = path.stat()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    if (
        old is not None
        and old.get("size") == stat.st_size
        and old.get("mtime_ns") == stat.st_mtime_ns
    ):
        return None
    return _entry_for(path, graph)


def schema_files(kb_dir: Path | None = None) -> list[Path]:
    """The ontology and every vocabulary file (the package's plus the KB's own)."""
    return [paths.ontology_file(), *paths.kb_vocab_files(kb_dir or paths.default_kb_dir())]


def column_strings(result: QueryResult, column: str) -> Sequence[str | None]:
    """A column as plain strings (IRIs and literal values), ``None`` where unbound."""
    return [None if v is None else str(v) for v in result.values(column)]


def open_store(
    kb_dir: Path | None = None,
    *,
    endpoint: str | None = None,
    timeout: float = 30.0,
    allow_service: bool = False,
) -> Store:
    """The store a command should query: a remote SPARQL endpoint when ``endpoint`` is given,
    else the embedded store of ``kb_dir`` (default: ``$EKB_KB`` or the shipped KB)."""
    if endpoint:
        from kb.remote import RemoteStore  # SPARQLWrapper only loads for remote use

        remote = RemoteStore(endpoint, timeout=timeout)
        remote.allow_service = allow_service
        return remote
    store = EmbeddedStore.open_kb(kb_dir)
    store.allow_service = allow_service
    return store
