"""Canned query results kept between runs, recomputed per study file after an edit.

The living-review loop is: edit one study file, run the same query again. At
10,000 studies a canned query takes seconds on the warm-start store
(:mod:`kb.store`), though only one study's rows can have changed. So on a
warm-start store the rows of each canned query run are kept in the store's cache
folder, and the next run of the same query reuses them:

* The key of an entry covers everything the rows are computed from except the
  study files: this module's format, the kb and pyoxigraph versions, the bound
  query text (the query file's text with its parameters resolved to IRIs), the
  ontology and vocabularies (paths and SHA-256) and every review file (SHA-256).
  Any change there is another key, so another entry: never a stale row.
* The entry records each study file's digest (the first 64 bits of its SHA-256)
  as of its rows. A query whose header says ``per-study: <column>`` promises
  that each row belongs to the study in that column and depends only on that
  study's file, the files of studies it is linked to, and the above; the rows
  are then kept per study. After an edit, only the studies whose file changed
  (or appeared), with every study linked to them, are evaluated again, on a
  small in-memory store of the ontology, vocabularies, reviews and those files;
  rows of removed studies are dropped. That is only done when every study file
  describes only its own study (:func:`kb.store.study_footprint`) and when the
  new rows all belong to the studies evaluated; otherwise, and for queries that
  are not per-study, any changed study file means the query runs again on the
  whole store.
* Entries hold finished rows (list cells tidied, rows in the query's ORDER BY with
  ties broken by the whole row: :func:`kb.queries.run_query`); a changed study's
  new rows are put in place by binary search in that order (:mod:`kb.query_order`).

``tests/test_query_cache.py`` checks that cached and uncached rows are the same
for every per-study query after edits, additions and removals, and that changed
vocabularies, reviews, query texts and parameters are never served old rows.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kb.namespaces import RES
from kb.query_order import OrderBy, row_comparison
from kb.rdf_terms import XSD_STRING
from kb.store import SCHEMA_GRAPH, EmbeddedStore, KbSnapshot, QueryResult, iri, string_literal

#: Environment variable: ``never`` turns the result cache off (the benchmark's
#: first-run measure; any other value or none leaves it on).
RESULT_CACHE_ENV_VAR = "EKB_RESULT_CACHE"


def enabled(store: EmbeddedStore) -> bool:
    """Whether :func:`select` may serve ``store``'s canned query results."""
    return store.snapshot is not None and os.environ.get(RESULT_CACHE_ENV_VAR) != "never"


#: Part of every key; bump when the entry layout or the rules above change.
CACHE_FORMAT = 4
#: At most this many entries per knowledge base (the oldest used go first).
MAX_ENTRIES = 64
#: Above this many changed study files the whole query runs again: a small store
#: of them would be no faster.
MAX_RECOMPUTED_FILES = 200
#: An entry brought up to date by evaluating at most this many studies again is
#: not written back: the next run evaluates them again instead.
DEFER_WRITE = 8
#: A result that took less than this to compute is not kept: reading an entry
#: (with a digest per study file) would cost more than the query (``pico``).
MIN_SECONDS = 0.1

_STUDY_NAMESPACE = f"{RES}study/"


@dataclass
class _Entry:
    """One cached result. Rows are kept in the query's order as ``cells``: for each
    row, its group (an index into ``graphs``: the row's study graph, or ``""`` in a
    whole entry) and then one term index per column (-1 for unbound), flat."""

    key: str
    columns: list[str]
    per_study: bool
    #: every study file as of the rows: :func:`_file_digests`
    digests: dict[str, str]
    #: study graph -> the other studies its file pointed at (only those with links)
    links: dict[str, list[str]]
    graphs: list[str]
    #: terms, each a string: "i" IRI, "b" blank node, "s" xsd:string text,
    #: "l" language NUL text, "t" datatype NUL text
    terms: list[str]
    cells: list[int]

    @property
    def width(self) -> int:
        return len(self.columns) + 1


def select(
    store: EmbeddedStore,
    text: str,
    *,
    name: str,
    per_study: str | None,
    order: OrderBy | None,
    finish: Callable[[QueryResult], QueryResult],
) -> QueryResult:
    """The rows of the bound canned query ``text`` on ``store`` (a warm-start store),
    from the cache where they are still valid.

    ``finish`` turns a store's rows into the query's result (tidied list cells, in
    ``order``), and cached rows are kept finished. ``per_study`` (the study column)
    needs an ``order``: rows from several runs are merged in it.
    """
    snapshot = store.snapshot
    assert snapshot is not None
    if order is None:
        per_study = None
    folder = snapshot.cache_folder / "results"
    key = _key(snapshot, text)
    path = folder / f"{name}-{key[:32]}.json"
    digests = _file_digests(snapshot)
    entry = _read(path, key)
    if entry is not None and entry.digests == digests:
        _touch(path)
        return QueryResult(list(entry.columns), _decode(entry, _decode_terms(entry.terms)))
    updated = None
    if entry is not None and entry.per_study and per_study is not None and order is not None:
        updated = _update(snapshot, entry, digests, text, per_study, order, finish)
    if updated is not None:
        result, fresh, recomputed = updated
        if recomputed <= DEFER_WRITE:
            # Rewriting the entry (megabytes at 10,000 studies) would cost more than
            # evaluating these few studies again next time; it is rewritten once
            # more of them have changed.
            _touch(path)
            return result
    else:
        started = time.perf_counter()
        result = finish(store.select(text))
        if time.perf_counter() - started < MIN_SECONDS:
            if entry is not None:
                path.unlink(missing_ok=True)
            return result
        fresh = _encode(key, result, digests, per_study)
    fresh.links = {g: list(f.links) for g, f in snapshot.studies.items() if f.links}
    _write(folder, path, fresh)
    return result


def _short(graph: str) -> str:
    return graph.removeprefix(_STUDY_NAMESPACE)


def _file_digests(snapshot: KbSnapshot) -> dict[str, str]:
    """Study (its IRI without the common namespace) -> the first 64 bits of its
    file's SHA-256, in hex: an entry holds one per study file, so it is kept short
    (a changed file keeps its digest with probability 2**-64)."""
    return {_short(g): f.sha256[:16] for g, f in snapshot.studies.items()}


def _key(snapshot: KbSnapshot, text: str) -> str:
    from kb import __version__

    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}\0{__version__}\0{ox.__version__}\0".encode())
    digest.update(snapshot.schema_digest.encode())
    for graph in sorted(snapshot.reviews):
        digest.update(f"\0{graph}\0{snapshot.reviews[graph].sha256}".encode())
    digest.update(b"\0query\0" + text.encode("utf-8"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Recomputing the changed studies


def _update(
    snapshot: KbSnapshot,
    entry: _Entry,
    digests: dict[str, str],
    text: str,
    column: str,
    order: OrderBy,
    finish: Callable[[QueryResult], QueryResult],
) -> tuple[QueryResult, _Entry, int] | None:
    """The result, the entry brought up to date and how many studies were evaluated
    again (only the changed ones), or ``None`` when that cannot be trusted (then the
    caller runs the whole query). The kept rows keep their place and their encoded
    cells; the new rows are put in place by binary search."""
    if not all(f.local for f in snapshot.studies.values()):
        return None
    changed = _linked_to(
        [g for g in snapshot.studies if entry.digests.get(_short(g)) != digests[_short(g)]],
        snapshot,
        entry.links,
    )
    if len(changed) > MAX_RECOMPUTED_FILES:
        return None
    small = EmbeddedStore()
    small.load_files(snapshot.schema_files, graph=SCHEMA_GRAPH)
    for review in snapshot.reviews.values():
        small.load_file(review.path, graph=review.graph)
    for graph in changed:
        small.load_file(snapshot.studies[graph].path, graph=graph)
    fresh = finish(small.select(text))
    if fresh.columns != entry.columns:
        return None
    wanted = set(changed)
    for row in fresh.rows:
        if str(row.get(column)) not in wanted:
            return None  # a row of a study that did not change: not per-study after all
    # The kept rows: neither changed nor of a removed study.
    gone = {i for i, g in enumerate(entry.graphs) if g in wanted or _short(g) not in digests}
    width = entry.width
    kept_cells = [
        entry.cells[i : i + width]
        for i in range(0, len(entry.cells), width)
        if entry.cells[i] not in gone
    ]
    terms = _decode_terms(entry.terms)
    rows = _decode_cells(entry.columns, kept_cells, terms)
    # The new rows, in order, each inserted where the order puts it.
    compare = functools.cmp_to_key(row_comparison(entry.columns, order))
    encoded_index = {s: i for i, s in enumerate(entry.terms)}
    graph_index = {g: i for i, g in enumerate(entry.graphs)}
    for row in fresh.rows:  # in order already
        graph = str(row[column])
        group = graph_index.get(graph)
        if group is None:
            group = graph_index[graph] = len(entry.graphs)
            entry.graphs.append(graph)
        cells = [group]
        for name in entry.columns:
            term = row.get(name)
            if term is None:
                cells.append(-1)
                continue
            encoded = _encode_term(term)
            i = encoded_index.get(encoded)
            if i is None:
                i = encoded_index[encoded] = len(entry.terms)
                entry.terms.append(encoded)
                terms.append(term)
            cells.append(i)
        at = bisect.bisect_right(rows, compare(row), key=compare)
        rows.insert(at, row)
        kept_cells.insert(at, cells)
    entry.cells = [i for cells in kept_cells for i in cells]
    entry.digests = digests
    result = QueryResult(list(entry.columns), rows)
    if len(entry.terms) > 2 * len(set(i for i in entry.cells if i >= 0)) + 1000:
        # Terms of removed rows pile up over many edits: start the table afresh.
        return result, _encode(entry.key, result, digests, column), len(changed)
    return result, entry, len(changed)


def _linked_to(
    changed: list[str], snapshot: KbSnapshot, old_links: dict[str, list[str]]
) -> list[str]:
    """``changed`` with every study linked to one of them, directly or not, in either
    direction, now or when the entry was computed (a study's rows may follow a link
    either way), limited to studies the knowledge base still has."""
    neighbours: dict[str, set[str]] = {}
    links = [(g, f.links) for g, f in snapshot.studies.items() if f.links]
    for graph, targets in [*links, *old_links.items()]:
        for target in targets:
            neighbours.setdefault(graph, set()).add(target)
            neighbours.setdefault(target, set()).add(graph)
    seen = set(changed)
    todo = list(changed)
    while todo:
        for other in neighbours.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return sorted(g for g in seen if g in snapshot.studies)


# ---------------------------------------------------------------------------
# Entries on disk


def _encode(
    key: str, result: QueryResult, digests: dict[str, str], per_study: str | None
) -> _Entry:
    """A new entry of ``result`` (rows in their order); ``per_study`` names the
    column that gives each row's study, or ``None`` for a whole entry."""
    index: dict[str, int] = {}
    # Rows share term objects (a store's select converts each distinct term once):
    # each object is encoded once, found again by identity (they are alive in rows).
    by_object: dict[int, int] = {}
    terms: list[str] = []
    graphs: list[str] = []
    graph_index: dict[str, int] = {}
    cells: list[int] = []
    for row in result.rows:
        group = "" if per_study is None else str(row.get(per_study))
        if per_study is not None and _short(group) not in digests:
            # a row not attributable to a study file: keep the entry whole
            return _encode(key, result, digests, None)
        g = graph_index.get(group)
        if g is None:
            g = graph_index[group] = len(graphs)
            graphs.append(group)
        cells.append(g)
        for column in result.columns:
            term = row.get(column)
            if term is None:
                cells.append(-1)
                continue
            i = by_object.get(id(term))
            if i is None:
                encoded = _encode_term(term)
                i = index.get(encoded)
                if i is None:
                    i = index[encoded] = len(terms)
                    terms.append(encoded)
                by_object[id(term)] = i
            cells.append(i)
    return _Entry(
        key, list(result.columns), per_study is not None, digests, {}, graphs, terms, cells
    )


def _encode_term(term: Identifier) -> str:
    if isinstance(term, Literal):
        if term.language:
            return f"l{term.language}\0{term}"
        datatype = str(term.datatype) if term.datatype is not None else ""
        return f"s{term}" if datatype == XSD_STRING else f"t{datatype}\0{term}"
    if isinstance(term, URIRef):
        return f"i{term}"
    if isinstance(term, BNode):
        return f"b{term}"
    raise TypeError(f"unexpected term {term!r}")


def _decode_term(encoded: str) -> Identifier:
    kind, rest = encoded[0], encoded[1:]
    if kind == "s":
        return string_literal(rest)
    if kind == "i":
        return iri(rest)
    if kind == "b":
        return BNode(rest)
    tag, _, text = rest.partition("\0")
    if kind == "l":
        return Literal(text, lang=tag)
    return Literal(text, datatype=URIRef(tag) if tag else None)


def _decode_terms(encoded: list[str]) -> list[Identifier]:
    return [_decode_term(s) for s in encoded]


def _decode_cells(
    columns: list[str], rows: list[list[int]], terms: list[Identifier]
) -> list[dict[str, Identifier]]:
    return [
        {c: terms[i] for c, i in zip(columns, cells[1:], strict=True) if i >= 0} for cells in rows
    ]


def _decode(entry: _Entry, terms: list[Identifier]) -> list[dict[str, Identifier]]:
    width = entry.width
    rows = [entry.cells[i : i + width] for i in range(0, len(entry.cells), width)]
    return _decode_cells(entry.columns, rows, terms)


def _read(path: Path, key: str) -> _Entry | None:
    """The entry at ``path`` if it is one for ``key``; anything unreadable is a miss."""
    try:
        data: Any = json.loads(path.read_bytes())
        if data["key"] != key:
            return None
        entry = _Entry(
            key,
            [str(c) for c in data["columns"]],
            data["per_study"] is True,
            {str(g): str(d) for g, d in data["digests"].items()},
            {str(g): [str(x) for x in v] for g, v in data["links"].items()},
            [str(g) for g in data["graphs"]],
            [str(s) for s in data["terms"]],
            list(data["cells"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    # Written by this module, but a file can be cut short or edited: check what
    # decoding relies on, so a bad entry is a miss and never a traceback.
    cells, width = entry.cells, entry.width
    if len(cells) % width or any(not s or s[0] not in "sibtl" for s in entry.terms):
        return None
    if not cells:
        return entry
    groups = cells[::width]
    term_cells = list(cells)
    del term_cells[::width]
    if (
        set(map(type, cells)) != {int}
        or min(groups) < 0
        or max(groups) >= len(entry.graphs)
        or (term_cells and (min(term_cells) < -1 or max(term_cells) >= len(entry.terms)))
    ):
        return None
    return entry


def _write(folder: Path, path: Path, entry: _Entry) -> None:
    """Write ``entry`` atomically; a cache that cannot be written is only slower."""
    data = {
        "key": entry.key,
        "columns": entry.columns,
        "per_study": entry.per_study,
        "digests": entry.digests,
        "links": entry.links,
        "graphs": entry.graphs,
        "terms": entry.terms,
        "cells": entry.cells,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # JSON, not pickle: reading a cache file must never run code.
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
        _prune(folder)
    except OSError:
        pass


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
