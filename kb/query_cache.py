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
* The entry records each study file's SHA-256 as of its rows. A query whose
  header says ``per-study: <column>`` promises that each row belongs to the study
  in that column and depends only on that study's file (plus the above); the
  rows are then kept per study. After an edit, only the studies whose file
  changed (or appeared) are evaluated again, on a small in-memory store of the
  ontology, vocabularies, reviews and those files; rows of removed studies are
  dropped. That is only done when every study file is *local*
  (:func:`kb.store.graph_is_local`: it describes and points at nothing of another
  study) and when the new rows all belong to the changed studies; otherwise, and
  for queries that are not per-study, any changed study file means the query runs
  again on the whole store.
* Rows are ordered by the query's ORDER BY in Python (:mod:`kb.query_order`), the
  same order the engine gives (tested), with ties broken by the whole row.

``tests/test_query_cache.py`` checks that cached and uncached rows are the same
for every per-study query after edits, additions and removals, and that changed
vocabularies, reviews, query texts and parameters are never served old rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from kb.query_order import OrderBy, order_of, sort_rows
from kb.store import SCHEMA_GRAPH, EmbeddedStore, KbSnapshot, QueryResult, string_literal

#: Environment variable: ``never`` turns the result cache off (the benchmark's
#: first-run measure; any other value or none leaves it on).
RESULT_CACHE_ENV_VAR = "EKB_RESULT_CACHE"


def enabled(store: EmbeddedStore) -> bool:
    """Whether :func:`select` may serve ``store``'s canned query results."""
    return store.snapshot is not None and os.environ.get(RESULT_CACHE_ENV_VAR) != "never"


#: Part of every key; bump when the entry layout or the rules above change.
CACHE_FORMAT = 1
#: At most this many entries per knowledge base (the oldest used go first).
MAX_ENTRIES = 64
#: Above this many changed study files the whole query runs again: a small store
#: of them would be no faster.
MAX_RECOMPUTED_FILES = 200

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# A term in an entry: ("i", iri) | ("b", id) | ("l", text, datatype, language)
Encoded = tuple[str, ...]


@dataclass
class _Entry:
    key: str
    columns: list[str]
    terms: list[Encoded]
    #: study graph -> SHA-256 its rows were computed from (all study files)
    digests: dict[str, str]
    #: per-study entries: study graph -> rows (term indexes, -1 for unbound);
    #: whole entries: "" -> every row
    rows: dict[str, list[tuple[int, ...]]]
    per_study: bool
    #: study graph -> the other studies its file pointed at (only those with links)
    links: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def select(store: EmbeddedStore, text: str, *, name: str, per_study: str | None) -> QueryResult:
    """The rows of the bound canned query ``text`` on ``store`` (a warm-start store),
    from the cache where they are still valid, in the query's order."""
    snapshot = store.snapshot
    assert snapshot is not None
    order = order_of(text, _projection(text))
    if order is None:
        per_study = None  # rows of several runs could not be put in the engine's order
    folder = snapshot.cache_folder / "results"
    key = _key(snapshot, text)
    path = folder / f"{name}-{key[:32]}.json"
    digests = {g: f.sha256 for g, f in snapshot.studies.items()}
    entry = _read(path, key)
    if entry is not None and entry.digests == digests:
        _touch(path)
        return _decode(entry, list(entry.rows), order)
    result = None
    if entry is not None and entry.per_study and per_study is not None:
        result = _update(snapshot, entry, digests, text, per_study, order)
    if result is None:
        result = store.select(text)
        if order is not None:
            result = QueryResult(result.columns, sort_rows(result.rows, result.columns, order))
    fresh = _encode(key, result, digests, per_study)
    fresh.links = {g: list(f.links) for g, f in snapshot.studies.items() if f.links}
    _write(folder, path, fresh)
    return result


_SELECT = re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(?P<vars>(?:\?\w+\s*)+)", re.I)


def _projection(text: str) -> list[str]:
    """The variables of the query's first SELECT (canned queries project plain
    variables; any other projection gives ``[]``, so no Python order)."""
    match = _SELECT.search(text)
    return re.findall(r"\?(\w+)", match.group("vars")) if match else []


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
    order: OrderBy | None,
) -> QueryResult | None:
    """The entry brought up to date by evaluating only the changed studies, or
    ``None`` when that cannot be trusted (then the caller runs the whole query)."""
    if not all(f.local for f in snapshot.studies.values()):
        return None
    changed = _linked_to(
        [g for g, d in digests.items() if entry.digests.get(g) != d], snapshot, entry.links
    )
    if len(changed) > MAX_RECOMPUTED_FILES:
        return None
    small = EmbeddedStore()
    small.load_files(snapshot.schema_files, graph=SCHEMA_GRAPH)
    for review in snapshot.reviews.values():
        small.load_file(review.path, graph=review.graph)
    for graph in changed:
        small.load_file(snapshot.studies[graph].path, graph=graph)
    fresh = small.select(text)
    if fresh.columns != entry.columns:
        return None
    by_study: dict[str, list[dict[str, Identifier]]] = {g: [] for g in changed}
    for row in fresh.rows:
        rows = by_study.get(str(row.get(column)))
        if rows is None:
            return None  # a row of a study that did not change: not per-study after all
        rows.append(row)
    kept = [g for g in entry.rows if g in digests and g not in by_study]
    result = _decode(entry, kept, None)
    for graph in changed:
        result.rows.extend(by_study[graph])
    if order is not None:
        result.rows[:] = sort_rows(result.rows, result.columns, order)
    return result


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
    index: dict[Identifier, int] = {}
    terms: list[Encoded] = []
    grouped: dict[str, list[tuple[int, ...]]] = {}
    for row in result.rows:
        group = "" if per_study is None else str(row.get(per_study))
        if per_study is not None and group not in digests:
            # a row not attributable to a study file: keep the entry whole
            return _encode(key, result, digests, None)
        cells = []
        for column in result.columns:
            term = row.get(column)
            if term is None:
                cells.append(-1)
                continue
            i = index.get(term)
            if i is None:
                i = index[term] = len(terms)
                terms.append(_encode_term(term))
            cells.append(i)
        grouped.setdefault(group, []).append(tuple(cells))
    return _Entry(key, list(result.columns), terms, digests, grouped, per_study is not None)


def _encode_term(term: Identifier) -> Encoded:
    if isinstance(term, URIRef):
        return ("i", str(term))
    if isinstance(term, BNode):
        return ("b", str(term))
    if isinstance(term, Literal):
        return ("l", str(term), str(term.datatype or ""), term.language or "")
    raise TypeError(f"unexpected term {term!r}")


def _decode_term(encoded: Encoded) -> Identifier:
    kind = encoded[0]
    if kind == "i":
        return URIRef(encoded[1])
    if kind == "b":
        return BNode(encoded[1])
    _, text, datatype, language = encoded
    if language:
        return Literal(text, lang=language)
    if datatype == _XSD_STRING:
        return string_literal(text)
    return Literal(text, datatype=URIRef(datatype) if datatype else None)


def _decode(entry: _Entry, groups: list[str], order: OrderBy | None) -> QueryResult:
    """The rows of ``groups``; in the query's order when ``order`` is given and the
    entry is per study (a whole entry is kept in order)."""
    terms = [_decode_term(t) for t in entry.terms]
    columns = entry.columns
    rows = [
        {c: terms[i] for c, i in zip(columns, cells, strict=True) if i >= 0}
        for group in groups
        for cells in entry.rows[group]
    ]
    if entry.per_study and order is not None:
        rows = sort_rows(rows, columns, order)
    return QueryResult(list(columns), rows)


def _read(path: Path, key: str) -> _Entry | None:
    """The entry at ``path`` if it is one for ``key``; anything unreadable is a miss."""
    try:
        data: Any = json.loads(path.read_bytes())
        if data["key"] != key:
            return None
        entry = _Entry(
            key,
            [str(c) for c in data["columns"]],
            [tuple(str(part) for part in term) for term in data["terms"]],
            {str(g): str(d) for g, d in data["digests"].items()},
            {str(g): [tuple(cells) for cells in rows] for g, rows in data["rows"].items()},
            data["per_study"] is True,
            {str(g): [str(x) for x in v] for g, v in data.get("links", {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    # Written by this module, but a file can be cut short or edited: check what
    # decoding relies on, so a bad entry is a miss and never a traceback.
    width, n_terms = len(entry.columns), len(entry.terms)
    shapes = {"i": 2, "b": 2, "l": 4}
    if any(len(t) != shapes.get(t[0] if t else "", -1) for t in entry.terms):
        return None
    for rows in entry.rows.values():
        for cells in rows:
            if len(cells) != width or not all(
                isinstance(i, int) and -1 <= i < n_terms for i in cells
            ):
                return None
    return entry


def _write(folder: Path, path: Path, entry: _Entry) -> None:
    """Write ``entry`` atomically; a cache that cannot be written is only slower."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        # JSON, not pickle: reading a cache file must never run code.
        tmp.write_text(json.dumps(dataclasses.asdict(entry)), encoding="utf-8")
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
