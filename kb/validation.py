"""Check study files against the SHACL shapes (``ontology/shapes.ttl``).

One study file is validated at a time, together with the vocabularies (parsed
once and reused), so a knowledge base of ten thousand studies never has to sit
in one graph, and a file whose bytes have not changed can be answered from a
cache keyed by its hash (see :class:`StudyValidator`). Facts that span files
(``ekb:possiblyRelatedTo`` targets, one file per study id) are checked in a
separate cheap pass over what the per-file runs collected.

The human report is built from pySHACL's report *graph* (focus node, path,
severity, message, source shape, value), never from its text.

Library use::

    from kb.validation import validate_kb
    report = validate_kb()            # the shipped knowledge base
    report.conforms, report.counts()  # (True, {'Violation': 0, ...})
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths
from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.namespaces import shorten

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

#: Severities, most serious first; the names are SHACL's local names.
SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")

_SH = "http://www.w3.org/ns/shacl#"
_EKB = "https://w3id.org/evidence-kb/ontology#"
_RES_STUDY = "https://w3id.org/evidence-kb/resource/study/"

#: The shape (in shapes.ttl) that documents the checks made in Python per file
#: and across files; findings of those checks name it as their source shape.
FILE_SHAPE = _EKB + "StudyFileShape"

#: Bump when the meaning of a cached report changes (part of every cache key).
_CACHE_FORMAT = 1
#: The on-disk cache file, in the user's cache directory (``$EKB_CACHE_DIR``).
DISK_CACHE_NAME = "validation.sqlite"


@dataclass(frozen=True)
class Finding:
    """One validation result.

    ``focus``, ``path``, ``source_shape``, ``component`` and ``value`` are
    full IRIs or literal lexical forms (``None`` when SHACL gives none);
    :meth:`row` renders them short for people.
    """

    severity: str
    focus: str
    path: str | None
    message: str
    source_shape: str | None
    component: str | None
    value: str | None

    def sort_key(self) -> tuple[int, str, str, str, str, str]:
        return (
            SEVERITIES.index(self.severity),
            self.focus,
            self.path or "",
            self.source_shape or "",
            self.message,
            self.value or "",
        )

    def row(self) -> tuple[str, str, str, str, str]:
        """(severity, focus, path, message, [shape]) shortened for the text report."""
        message = self.message
        if self.value is not None:
            shown = shorten(self.value)
            # SPARQL messages quote their numbers already; core ones do not.
            if shown not in message:
                message = f"{message} (found {shown})"
        return (
            self.severity,
            shorten(self.focus) if self.focus else "(file)",
            _short_path(self.path),
            message,
            f"[{shorten(self.source_shape)}]" if self.source_shape else "",
        )


@dataclass(frozen=True)
class FileReport:
    """The findings for one study file."""

    path: str
    sha256: str
    findings: tuple[Finding, ...] = ()
    #: Study IRIs the file declares, and (study, related study) links; used by
    #: the cross-file pass.
    studies: tuple[str, ...] = ()
    related: tuple[tuple[str, str], ...] = ()

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def conforms(self) -> bool:
        """True when there is no Violation (warnings and infos are allowed)."""
        return self.count("Violation") == 0

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in SEVERITIES}


@dataclass(frozen=True)
class ValidationReport:
    """Findings for every validated file, in file order."""

    files: tuple[FileReport, ...] = field(default_factory=tuple)

    @property
    def conforms(self) -> bool:
        return all(f.conforms for f in self.files)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.count(s) for f in self.files) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """A stable, JSON-ready document (keys and order do not change between runs)."""
        return {
            "conforms": self.conforms,
            "files_checked": len(self.files),
            "files_not_conforming": sum(1 for f in self.files if not f.conforms),
            "counts": {s.lower(): n for s, n in self.counts().items()},
            "files": [
                {
                    "path": f.path,
                    "sha256": f.sha256,
                    "conforms": f.conforms,
                    "counts": {s.lower(): n for s, n in f.counts().items()},
                    "findings": [
                        {
                            "severity": x.severity,
                            "focus": x.focus,
                            "focus_short": shorten(x.focus) if x.focus else None,
                            "path": x.path,
                            "path_short": _short_path(x.path) or None,
                            "message": x.message,
                            "source_shape": x.source_shape,
                            "component": x.component,
                            "value": x.value,
                        }
                        for x in f.findings
                    ],
                }
                for f in self.files
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# Reading Turtle


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Turtle file into ``graph`` (a new one by default).

    :raises RdfSyntaxError: the file is not valid Turtle (names file and line).
    :raises CouldNotRun: the file cannot be read.
    """
    from rdflib import Graph
    from rdflib.plugins.parsers.notation3 import BadSyntax

    path = Path(path)
    target = graph if graph is not None else Graph()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        target.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        # rdflib counts the newlines before the error; people count from 1.
        line = int(getattr(exc, "lines", 0)) + 1
        why = str(getattr(exc, "_why", "")) or str(exc).splitlines()[-1]
        raise RdfSyntaxError(str(path), line, why) from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RdfSyntaxError(str(path), line, "not UTF-8 text") from exc
    except Exception as exc:  # rdflib raises plain exceptions for some bad input
        raise RdfSyntaxError(str(path), None, f"{type(exc).__name__}: {exc}") from exc
    return target


# ---------------------------------------------------------------------------
# Validating


class StudyValidator:
    """Validates study files one at a time against parsed shapes and vocabularies.

    The shapes and the vocabulary graph are parsed once, in the constructor.
    ``cache`` (any mutable mapping, for example a dict or a persistent store)
    maps a key built from the file's bytes and the shapes/vocabulary
    fingerprint to its :class:`FileReport`, so revalidating a knowledge base
    after one study changed only runs SHACL on that file.

    :param vocab_files: vocabularies that make up the data graph with each study.
    :param shapes_file: the SHACL shapes; default the shipped ``shapes.ttl``.
    :param cache: optional mapping reused across calls.

    Not thread-safe: the concept shapes are retargeted on the shared shapes
    graph for each file. Use one validator per thread, or worker processes
    (``jobs`` in :func:`validate_files`).
    """

    def __init__(
        self,
        vocab_files: Sequence[Path],
        shapes_file: Path | None = None,
        cache: MutableMapping[str, FileReport] | None = None,
    ) -> None:
        from rdflib import Graph

        shapes_file = Path(shapes_file) if shapes_file else paths.shapes_file()
        self.shapes_file = shapes_file
        self.vocab_files = [Path(v) for v in vocab_files]
        self.shapes = parse_turtle(shapes_file)
        _compact_sparql(self.shapes)
        # Concept shapes check the concepts a study file declares; the shared
        # vocabularies are checked once by the tests, not again with every
        # file. So the class target becomes, per file, a list of target nodes.
        self._concept_shapes = _retarget_concept_shapes(self.shapes)
        self.vocab = Graph()
        import pyshacl

        fingerprint = hashlib.sha256(f"{_CACHE_FORMAT}:{pyshacl.__version__}:".encode())
        fingerprint.update(shapes_file.read_bytes())
        for vocab_file in vocab_files:
            parse_turtle(vocab_file, self.vocab)
            fingerprint.update(Path(vocab_file).read_bytes())
        self.fingerprint = fingerprint.hexdigest()
        self.cache = cache
        self._messages = _shape_messages(self.shapes)

    def validate_file(self, path: Path, display: str | None = None) -> FileReport:
        """Validate one study file.

        :param display: how to name the file in the report (default: as given).
        :raises RdfSyntaxError: the file is not valid Turtle.
        :raises CouldNotRun: the file cannot be read.
        """
        path = Path(path)
        display = display if display is not None else str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
        digest = hashlib.sha256(data).hexdigest()
        cached = self.cached(digest, display)
        if cached is not None:
            return cached
        file_graph = parse_turtle(path)
        report = self._validate_graph(file_graph, display, digest, path)
        self.remember(report)
        return report

    def cached(self, digest: str, display: str) -> FileReport | None:
        """The cached report for a file with these bytes, named ``display``; else ``None``."""
        if self.cache is None:
            return None
        report = self.cache.get(f"{self.fingerprint}:{digest}")
        return replace(report, path=display) if report is not None else None

    def remember(self, report: FileReport) -> None:
        """Put a report in the cache (if there is one)."""
        if self.cache is not None:
            self.cache[f"{self.fingerprint}:{report.sha256}"] = report

    def _validate_graph(
        self, file_graph: Graph, display: str, digest: str, path: Path
    ) -> FileReport:
        import pyshacl
        from rdflib import RDF, BNode, URIRef

        data = _QueryCachingGraph()
        for triple in self.vocab:
            data.add(triple)
        for triple in file_graph:
            data.add(triple)
        # Findings are about what this file says; a record of the file that
        # points at a vocabulary concept is reported on the record.
        own_subjects = {str(s) for s in file_graph.subjects() if isinstance(s, URIRef)}
        skos_concept = _term("http://www.w3.org/2004/02/skos/core#Concept")
        declared_concepts = [c for c in file_graph.subjects(RDF.type, skos_concept)]
        target_node = _term(_SH + "targetNode")
        added = [
            (shape, target_node, c) for shape in self._concept_shapes for c in declared_concepts
        ]
        # Options spelled out: no inference (the vocabularies are plain data),
        # SHACL-SPARQL for the arithmetic, warnings and infos do not fail,
        # and the data graph is ours to use in place (no second copy).
        for triple in added:
            self.shapes.add(triple)
        try:
            _conforms, report_graph, _text = pyshacl.validate(
                data,
                shacl_graph=self.shapes,
                inference="none",
                advanced=True,
                allow_warnings=True,
                allow_infos=True,
                inplace=True,
                abort_on_first=False,
                meta_shacl=False,
                js=False,
            )
        except Exception as exc:  # a crash in the engine must not look like a finding
            raise CouldNotRun(f"{display}: validation could not run: {exc}") from exc
        finally:
            for triple in added:
                self.shapes.remove(triple)
        findings = [
            f
            for f in _findings_from_report(report_graph, self._messages)
            if f.focus in own_subjects
        ]
        study_type = _term(_EKB + "Study")
        studies = sorted(str(s) for s in file_graph.subjects(RDF.type, study_type))
        findings += _file_findings(studies, path)
        blank = {s for s in file_graph.subjects() if isinstance(s, BNode)}
        if blank:
            findings.append(
                Finding(
                    "Violation",
                    "",
                    None,
                    f"{len(blank)} blank node(s) as subjects: give every record an IRI",
                    FILE_SHAPE,
                    None,
                    None,
                )
            )
        related = sorted(
            (str(s), str(o))
            for s, o in file_graph.subject_objects(_term(_EKB + "possiblyRelatedTo"))
        )
        return FileReport(
            path=display,
            sha256=digest,
            findings=tuple(sorted(set(findings), key=Finding.sort_key)),
            studies=tuple(studies),
            related=tuple(related),
        )


def _compact_sparql(shapes: Graph) -> None:
    """Put each SPARQL constraint on one line, without its comment lines.

    pySHACL screens every query for forbidden clauses with regular expressions
    that backtrack from each line start to the end of the text, once per focus
    node; on a multi-line query that is most of the validation time. Joining
    the lines keeps the query's meaning (newlines are whitespace in SPARQL) as
    long as no code line carries a trailing comment, so those are left alone.
    """
    from rdflib import Literal, URIRef

    select = URIRef(_SH + "select")
    for node, text in list(shapes.subject_objects(select)):
        lines = [line.strip() for line in str(text).splitlines()]
        code = [line for line in lines if line and not line.startswith("#")]
        if any("#" in line for line in code):
            continue
        shapes.set((node, select, Literal(" ".join(code))))


def _retarget_concept_shapes(shapes: Graph) -> list[Node]:
    """Drop ``sh:targetClass skos:Concept`` from the shapes; return those shapes."""
    from rdflib import URIRef

    target_class = URIRef(_SH + "targetClass")
    concept = URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    found = list(shapes.subjects(target_class, concept))
    for shape in found:
        shapes.remove((shape, target_class, concept))
    return found


def _term(iri: str) -> Node:
    from rdflib import URIRef

    return URIRef(iri)


def _new_query_caching_graph_class() -> type:
    from rdflib import Graph
    from rdflib.plugins.sparql import prepareQuery

    prepared: dict[str, Any] = {}

    class QueryCachingGraph(Graph):
        """A Graph that parses each SPARQL text once.

        pySHACL sends the same constraint query text for every focus node;
        rdflib would parse it again each time, which is most of the cost of
        validating a study. The parsed query is reused with new bindings.
        """

        def query(self, query_object: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            if isinstance(query_object, str):
                parsed = prepared.get(query_object)
                if parsed is None:
                    parsed = prepared[query_object] = prepareQuery(query_object)
                query_object = parsed
            return super().query(query_object, *args, **kwargs)

    return QueryCachingGraph


_query_caching_graph_class: type | None = None


def _QueryCachingGraph() -> Graph:  # noqa: N802 - behaves like a class
    global _query_caching_graph_class
    if _query_caching_graph_class is None:
        _query_caching_graph_class = _new_query_caching_graph_class()
    graph: Graph = _query_caching_graph_class()
    return graph


def _shape_messages(shapes: Graph) -> dict[str, str]:
    """Each shape's own sh:message, used when pySHACL reports none."""
    from rdflib import URIRef

    return {
        str(s): str(o)
        for s, o in shapes.subject_objects(URIRef(_SH + "message"))
        if isinstance(s, URIRef)
    }


def _render_path(graph: Graph, node: Node, nested: bool = False) -> str:
    """A SHACL property path: a plain IRI, or SPARQL path syntax with ``<IRI>``s."""
    from rdflib import RDF, BNode
    from rdflib.collection import Collection

    if not isinstance(node, BNode):
        return f"<{node}>" if nested else str(node)
    inverse = graph.value(node, _term(_SH + "inversePath"))
    if inverse is not None:
        return "^" + _render_path(graph, inverse, True)
    if graph.value(node, RDF.first) is not None:
        return "/".join(_render_path(graph, n, True) for n in Collection(graph, node))
    for name, mark in (("zeroOrMorePath", "*"), ("oneOrMorePath", "+"), ("zeroOrOnePath", "?")):
        inner = graph.value(node, _term(_SH + name))
        if inner is not None:
            return _render_path(graph, inner, True) + mark
    alternatives = graph.value(node, _term(_SH + "alternativePath"))
    if alternatives is not None:
        return "|".join(_render_path(graph, n, True) for n in Collection(graph, alternatives))
    return str(node)


def _short_path(path: str | None) -> str:
    """``ekb:events`` for a plain path; ``^ekb:hasResult`` style for a complex one."""
    import re

    if not path:
        return ""
    if "<" not in path:
        return shorten(path)
    return re.sub(r"<([^>]*)>", lambda m: shorten(m.group(1)), path)


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1]


def _value_text(value: Node) -> str:
    from rdflib import BNode

    return f"_:{value}" if isinstance(value, BNode) else str(value)


def _findings_from_report(report: Graph, messages: dict[str, str]) -> list[Finding]:
    from rdflib import URIRef

    sh = {
        name: URIRef(_SH + name)
        for name in (
            "result",
            "focusNode",
            "resultPath",
            "resultSeverity",
            "resultMessage",
            "sourceShape",
            "sourceConstraintComponent",
            "value",
        )
    }
    findings: list[Finding] = []
    for result in report.objects(None, sh["result"]):
        focus = report.value(result, sh["focusNode"])
        path_node = report.value(result, sh["resultPath"])
        severity = report.value(result, sh["resultSeverity"])
        shape = report.value(result, sh["sourceShape"])
        component = report.value(result, sh["sourceConstraintComponent"])
        value = report.value(result, sh["value"])
        shape_iri = str(shape) if isinstance(shape, URIRef) else None
        texts = sorted(str(m) for m in report.objects(result, sh["resultMessage"]))
        message = texts[0] if texts else messages.get(shape_iri or "", "does not conform")
        findings.append(
            Finding(
                severity=_local(str(severity)) if severity is not None else "Violation",
                focus=str(focus) if focus is not None else "",
                path=_render_path(report, path_node) if path_node is not None else None,
                message=message,
                source_shape=shape_iri,
                component=str(component) if component is not None else None,
                value=None if value is None else _value_text(value),
            )
        )
    return findings


def _file_findings(studies: list[str], path: Path) -> list[Finding]:
    """Checks SHACL cannot make on one graph: exactly one study, named after its file."""
    if not studies:
        return [
            Finding("Violation", "", None, "the file declares no ekb:Study", FILE_SHAPE, None, None)
        ]
    if len(studies) > 1:
        return [
            Finding(
                "Violation",
                s,
                None,
                f"the file declares {len(studies)} studies; keep one study per file",
                FILE_SHAPE,
                None,
                None,
            )
            for s in studies
        ]
    (study,) = studies
    if study.startswith(_RES_STUDY):
        expected = study[len(_RES_STUDY) :] + ".ttl"
        if path.name != expected:
            return [
                Finding(
                    "Warning",
                    study,
                    None,
                    f"the file of this study should be named {expected}",
                    FILE_SHAPE,
                    None,
                    path.name,
                )
            ]
    return []


def _cross_file_findings(reports: Sequence[FileReport], kb_dir: Path | None) -> list[FileReport]:
    """Related studies must exist; a study id must not be declared by two files."""
    declared: dict[str, list[str]] = {}
    for report in reports:
        for study in report.studies:
            declared.setdefault(study, []).append(report.path)
    out: list[FileReport] = []
    for report in reports:
        extra: list[Finding] = []
        for study in report.studies:
            others = [p for p in declared[study] if p != report.path]
            if others:
                extra.append(
                    Finding(
                        "Violation",
                        study,
                        None,
                        f"this study is also declared in {', '.join(sorted(others))}",
                        FILE_SHAPE,
                        None,
                        None,
                    )
                )
        for study, target in report.related:
            if target in declared:
                continue
            local = target[len(_RES_STUDY) :] if target.startswith(_RES_STUDY) else None
            if local and kb_dir is not None and (kb_dir / "studies" / f"{local}.ttl").is_file():
                continue
            extra.append(
                Finding(
                    "Violation",
                    study,
                    _EKB + "possiblyRelatedTo",
                    f"the related study {shorten(target)} is not in the knowledge base",
                    FILE_SHAPE,
                    None,
                    target,
                )
            )
        if extra:
            findings = tuple(sorted(set(report.findings) | set(extra), key=Finding.sort_key))
            report = replace(report, findings=findings)
        out.append(report)
    return out


# ---------------------------------------------------------------------------
# The on-disk cache


class DiskCache(MutableMapping[str, FileReport]):
    """File reports by cache key in one SQLite file.

    Keys hold the file's SHA-256 and the fingerprint of the shapes,
    vocabularies and pySHACL version, so a report is reused only for the same
    bytes checked by the same rules, whichever knowledge base the file is in.
    A cache that cannot be read is deleted and rebuilt, never trusted; one
    that cannot be written is simply not used.
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        for _attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path)
                db.execute("CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, value TEXT)")
                db.execute("SELECT count(*) FROM reports").fetchone()
                self._db = db
                return
            except sqlite3.DatabaseError:
                self.path.unlink(missing_ok=True)  # corrupt: start again
            except OSError:
                return

    @property
    def usable(self) -> bool:
        return self._db is not None

    def __getitem__(self, key: str) -> FileReport:
        import sqlite3

        if self._db is None:
            raise KeyError(key)
        try:
            row = self._db.execute("SELECT value FROM reports WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:  # locked by another process, or damaged
            raise KeyError(key) from exc
        if row is None:
            raise KeyError(key)
        try:
            return _report_from_json(row[0])
        except (ValueError, KeyError, TypeError) as exc:
            del self[key]
            raise KeyError(key) from exc

    def __setitem__(self, key: str, report: FileReport) -> None:
        import sqlite3

        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO reports (key, value) VALUES (?, ?)",
                (key, _report_to_json(report)),
            )
        except sqlite3.DatabaseError:
            self._db = None  # full disk, read-only, locked: go on without it

    def __delitem__(self, key: str) -> None:
        if self._db is not None:
            self._db.execute("DELETE FROM reports WHERE key = ?", (key,))

    def __iter__(self) -> Iterator[str]:
        if self._db is None:
            return iter(())
        return iter([row[0] for row in self._db.execute("SELECT key FROM reports ORDER BY key")])

    def __len__(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT count(*) FROM reports").fetchone()[0])

    def close(self) -> None:
        """Write what was added and close the file."""
        import sqlite3

        if self._db is not None:
            try:
                self._db.commit()
            except sqlite3.DatabaseError:
                pass
            self._db.close()
            self._db = None


def _report_to_json(report: FileReport) -> str:
    return json.dumps(
        {
            "sha256": report.sha256,
            "findings": [asdict(f) for f in report.findings],
            "studies": list(report.studies),
            "related": [list(pair) for pair in report.related],
        },
        sort_keys=True,
    )


def _report_from_json(text: str) -> FileReport:
    data = json.loads(text)
    return FileReport(
        path="",
        sha256=data["sha256"],
        findings=tuple(Finding(**f) for f in data["findings"]),
        studies=tuple(data["studies"]),
        related=tuple((a, b) for a, b in data["related"]),
    )


def open_disk_cache(n_files: int) -> DiskCache | None:
    """The on-disk cache when the settings ask for one, else ``None``.

    Follows the warm-start store's settings: ``$EKB_CACHE`` = ``auto``
    (default: only for knowledge bases of ``CACHE_MIN_STUDIES`` files or
    more), ``always`` or ``never``; ``$EKB_CACHE_DIR`` moves the cache.
    """
    import os

    from kb.store import CACHE_ENV_VAR, CACHE_MIN_STUDIES, cache_root

    mode = os.environ.get(CACHE_ENV_VAR, "auto").lower()
    if mode == "never" or (mode != "always" and n_files < CACHE_MIN_STUDIES):
        return None
    cache = DiskCache(cache_root() / DISK_CACHE_NAME)
    return cache if cache.usable else None


# ---------------------------------------------------------------------------
# Entry points


def study_files_in(paths_given: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the Turtle files to validate.

    A knowledge-base folder (one with ``studies/``) stands for its study files;
    any other folder for the ``*.ttl`` files directly in it.

    :raises UsageError: a path does not exist, or a folder holds no Turtle file.
    """
    files: list[Path] = []
    for given in paths_given:
        given = Path(given)
        if given.is_dir():
            found = (
                paths.study_files(given)
                if (given / "studies").is_dir()
                else sorted(given.glob("*.ttl"))
            )
            if not found:
                raise UsageError(f"{given}: no Turtle (.ttl) files to validate")
            files.extend(found)
        elif given.exists():
            files.append(given)
        else:
            raise UsageError(f"{given}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


#: Called after each file with (files done, files in all).
ProgressCallback = Callable[[int, int], None]


def validate_files(
    files: Sequence[Path],
    kb_dir: Path | None = None,
    validator: StudyValidator | None = None,
    display: Sequence[str] | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
) -> ValidationReport:
    """Validate study files (each with the vocabularies of ``kb_dir``), then the cross-file facts.

    :param kb_dir: the knowledge base whose vocabularies and studies resolve
        references; default ``$EKB_KB`` or the shipped one.
    :param validator: reuse a :class:`StudyValidator` (and its cache).
    :param display: names for the files in the report (default: as given).
    :param jobs: worker processes; files are independent, so more jobs
        validate a large knowledge base faster (each worker parses the shapes
        and vocabularies once). Cached files are not sent to workers.
    :param progress: called after each file with (done, total).
    :raises RdfSyntaxError: a file is not valid Turtle.
    :raises UsageError: ``jobs`` is below 1.
    """
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    kb_dir = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    disk_cache = None
    if validator is None:
        disk_cache = open_disk_cache(len(files))
        validator = StudyValidator(paths.kb_vocab_files(kb_dir), cache=disk_cache)
    try:
        return _validate_files(files, kb_dir, validator, display, jobs, progress)
    finally:
        if disk_cache is not None:
            disk_cache.close()


def _validate_files(
    files: Sequence[Path],
    kb_dir: Path,
    validator: StudyValidator,
    display: Sequence[str] | None,
    jobs: int,
    progress: ProgressCallback | None,
) -> ValidationReport:
    names = list(display) if display is not None else [str(f) for f in files]
    pairs = list(zip(files, names, strict=True))
    total = len(pairs)
    reports: list[FileReport | None] = [None] * total
    done = 0
    todo: list[int] = []
    for i, (path, name) in enumerate(pairs):
        if jobs == 1:
            reports[i] = validator.validate_file(path, name)
            done += 1
            if progress:
                progress(done, total)
            continue
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError as exc:
            raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
        cached = validator.cached(digest, name)
        if cached is not None:
            reports[i] = cached
            done += 1
            if progress:
                progress(done, total)
        else:
            todo.append(i)
    if todo:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(
            max_workers=min(jobs, len(todo)),
            initializer=_worker_init,
            initargs=(validator.vocab_files, validator.shapes_file),
        ) as pool:
            outcomes = pool.map(_worker_validate, [pairs[i] for i in todo], chunksize=4)
            for i, outcome in zip(todo, outcomes, strict=True):
                report = _unwrap_worker_outcome(outcome)
                validator.remember(report)
                reports[i] = report
                done += 1
                if progress:
                    progress(done, total)
    final = [r for r in reports if r is not None]
    return ValidationReport(files=tuple(_cross_file_findings(final, kb_dir)))


_worker_validator: StudyValidator | None = None


def _worker_init(vocab_files: list[Path], shapes_file: Path) -> None:
    global _worker_validator
    _worker_validator = StudyValidator(vocab_files, shapes_file)


def _worker_validate(pair: tuple[Path, str]) -> FileReport | tuple[str, ...]:
    # Errors travel back as plain tuples: RdfSyntaxError does not pickle.
    assert _worker_validator is not None
    path, name = pair
    try:
        return _worker_validator.validate_file(path, name)
    except RdfSyntaxError as exc:
        return ("syntax", exc.path, "" if exc.line is None else str(exc.line), exc.detail)
    except CouldNotRun as exc:
        return ("could-not-run", str(exc))


def _unwrap_worker_outcome(outcome: FileReport | tuple[str, ...]) -> FileReport:
    if isinstance(outcome, FileReport):
        return outcome
    if outcome[0] == "syntax":
        _, path, line, detail = outcome
        raise RdfSyntaxError(path, int(line) if line else None, detail)
    raise CouldNotRun(outcome[1])


def validate_paths(
    paths_given: Sequence[Path],
    kb_dir: Path | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    validator: StudyValidator | None = None,
) -> ValidationReport:
    """Validate the files and folders given (see :func:`study_files_in`).

    :raises UsageError: a path does not exist or a folder holds no Turtle file.
    :raises RdfSyntaxError: a file is not valid Turtle.
    """
    return validate_files(
        study_files_in(paths_given), kb_dir, validator, jobs=jobs, progress=progress
    )


def validate_kb(
    kb_dir: Path | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    validator: StudyValidator | None = None,
) -> ValidationReport:
    """Validate every study of a knowledge base (default ``$EKB_KB`` or the shipped one).

    Files are named relative to the knowledge base folder (``studies/x.ttl``).

    :raises UsageError: the folder has no ``studies/`` with Turtle files.
    """
    kb_dir = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    files = paths.study_files(kb_dir)
    if not files:
        raise UsageError(f"{kb_dir}: no study files in {kb_dir / 'studies'}")
    return validate_files(
        files,
        kb_dir,
        validator,
        display=[f"studies/{f.name}" for f in files],
        jobs=jobs,
        progress=progress,
    )


# ---------------------------------------------------------------------------
# Text report (STYLE.md, "A validation failure, as a user sees it")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _counts_text(counts: dict[str, int], keep_zero_violations: bool) -> str:
    parts = []
    for severity in SEVERITIES:
        n = counts[severity]
        if n or (severity == "Violation" and keep_zero_violations):
            parts.append(_plural(n, severity.lower()))
    return ", ".join(parts)


def format_text(report: ValidationReport, min_severity: str = "Warning") -> str:
    """The text report: per file a header and one line per finding, then a summary.

    :param min_severity: the least serious severity listed line by line
        (all are counted): ``Violation``, ``Warning`` (default) or ``Info``.
    """
    if min_severity not in SEVERITIES:
        raise UsageError(f"unknown severity {min_severity!r}; use one of {', '.join(SEVERITIES)}")
    shown = set(SEVERITIES[: SEVERITIES.index(min_severity) + 1])
    lines: list[str] = []
    for f in report.files:
        listed = [x for x in f.findings if x.severity in shown]
        if not listed:
            continue
        if f.conforms:
            lines.append(f"{f.path} conforms with {_counts_text(f.counts(), False)}")
        else:
            lines.append(f"{f.path} does not conform: {_counts_text(f.counts(), False)}")
        rows = [x.row() for x in listed]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for sev, focus, path, message, shape in rows:
            cells = [sev.ljust(widths[0]), focus.ljust(widths[1]), path.ljust(widths[2]), message]
            lines.append(("  " + "  ".join(cells) + ("  " + shape if shape else "")).rstrip())
    total = len(report.files)
    counts = report.counts()
    if report.conforms:
        summary = f"{_plural(total, 'file')} conform" if total != 1 else "1 file conforms"
        extra = _counts_text(counts, False)
        if extra:
            summary += f" ({extra}; warnings and infos do not fail validation)"
    else:
        bad = sum(1 for f in report.files if not f.conforms)
        verb = "does" if bad == 1 else "do"
        summary = (
            f"{bad} of {_plural(total, 'file')} {verb} not conform: {_counts_text(counts, False)}"
        )
    lines.append(summary)
    return "\n".join(lines) + "\n"


__all__ = [
    "SEVERITIES",
    "Finding",
    "FileReport",
    "ValidationReport",
    "StudyValidator",
    "parse_turtle",
    "study_files_in",
    "validate_files",
    "validate_paths",
    "validate_kb",
    "format_text",
]
