"""Check study files against the SHACL shapes (``ontology/shapes.ttl``).

One study file is validated at a time, together with the vocabularies (parsed
once and reused), so a knowledge base of ten thousand studies never has to sit
in one graph, and a file whose bytes have not changed can be answered from a
cache keyed by its hash (see :class:`StudyValidator`). Facts that span files
(``ekb:possiblyRelatedTo`` targets, one file per study id) are checked in a
separate cheap pass over what the per-file runs collected.

Two SHACL engines give the same findings (the tests check it on every shape
fixture and on the shipped knowledge base): pySHACL, the reference, one file
at a time; and pySHACL-turbo (a Rust engine with pySHACL's API), which checks
many files in one run. Files are batched only when none of them says anything
about another's records, so each file's findings are those it would get alone.
``engine="auto"`` (the default) uses turbo when it is installed and at least
:data:`AUTO_TURBO_MIN_FILES` files need checking, pySHACL otherwise.

The human report is built from the engine's report *graph* (focus node, path,
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

#: SHACL engines: ``auto`` picks one (see :meth:`StudyValidator.engine_for`).
ENGINES: tuple[str, ...] = ("auto", "pyshacl", "turbo")
#: With ``engine="auto"``, this many files to check (cache misses) or more go to
#: pySHACL-turbo; fewer go to pySHACL, the reference, whose start-up is cheaper.
AUTO_TURBO_MIN_FILES = 50
#: Files checked together in one pySHACL-turbo run (bounded, so memory stays flat
#: and worker processes get a fair share each).
TURBO_BATCH_SIZE = 100


def turbo_available() -> bool:
    """True when pySHACL-turbo can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyshacl_turbo") is not None


def _engine_versions() -> str:
    import importlib.metadata as md

    found = []
    for dist in ("pyshacl", "pyshacl-turbo"):
        try:
            found.append(f"{dist} {md.version(dist)}")
        except md.PackageNotFoundError:
            found.append(f"{dist} -")
    return "; ".join(found)


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

    def sort_key(self) -> tuple[int, str, str, str, str, str, str]:
        # The component breaks ties (one shape, one value, two constraints), so
        # the order never depends on an engine or on set iteration.
        return (
            SEVERITIES.index(self.severity),
            self.focus,
            self.path or "",
            self.source_shape or "",
            self.message,
            self.value or "",
            self.component or "",
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
    :param engine: ``auto``, ``pyshacl`` or ``turbo`` (see the module docstring).
        The cache is shared by both engines, whose findings are the same.
    :raises UsageError: an unknown engine.
    :raises CouldNotRun: ``turbo`` asked for but pySHACL-turbo is not installed.

    Not thread-safe: the concept shapes are retargeted on the shared shapes
    graph for each file. Use one validator per thread, or worker processes
    (``jobs`` in :func:`validate_files`).
    """

    def __init__(
        self,
        vocab_files: Sequence[Path],
        shapes_file: Path | None = None,
        cache: MutableMapping[str, FileReport] | None = None,
        engine: str = "auto",
    ) -> None:
        from rdflib import Graph

        if engine not in ENGINES:
            raise UsageError(f"unknown SHACL engine {engine!r}; use one of {', '.join(ENGINES)}")
        if engine == "turbo" and not turbo_available():
            raise CouldNotRun(
                "the turbo engine needs pySHACL-turbo: pip install pyshacl-turbo"
                " (or use --engine pyshacl)"
            )
        self.engine = engine
        self._turbo: _TurboEngine | None = None
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
        # Both engines' versions are in the key: a report is reused whichever
        # engine made it (their findings are the same), never across versions.
        fingerprint = hashlib.sha256(f"{_CACHE_FORMAT}:{_engine_versions()}:".encode())
        fingerprint.update(shapes_file.read_bytes())
        for vocab_file in vocab_files:
            parse_turtle(vocab_file, self.vocab)
            fingerprint.update(Path(vocab_file).read_bytes())
        self.fingerprint = fingerprint.hexdigest()
        self.cache = cache
        self._messages = _shape_messages(self.shapes)

    def engine_for(self, n_files: int) -> str:
        """The engine that checks ``n_files`` files (cache misses): ``pyshacl`` or ``turbo``."""
        if self.engine != "auto":
            return self.engine
        return "turbo" if n_files >= AUTO_TURBO_MIN_FILES and turbo_available() else "pyshacl"

    def validate_many(
        self,
        items: Sequence[tuple[Path, str]],
        progress: Callable[[int], None] | None = None,
    ) -> list[FileReport]:
        """Validate (path, display name) pairs; reports in the same order.

        Cached files are answered from the cache; the rest are checked by
        :meth:`engine_for` their number: pySHACL one by one, or turbo in batches.

        :param progress: called with the number of files finished so far.
        :raises RdfSyntaxError: a file is not valid Turtle.
        :raises CouldNotRun: a file cannot be read, or the engine failed.
        """
        reports: list[FileReport | None] = [None] * len(items)
        todo: list[tuple[int, Path, str, bytes, str]] = []
        done = 0
        for i, (path, display) in enumerate(items):
            path = Path(path)
            data = _read_bytes(path)
            digest = hashlib.sha256(data).hexdigest()
            cached = self.cached(digest, display)
            if cached is not None:
                reports[i] = cached
                done += 1
            else:
                todo.append((i, path, display, data, digest))
        if progress and done:
            progress(done)
        if self.engine_for(len(todo)) == "turbo":
            for start in range(0, len(todo), TURBO_BATCH_SIZE):
                batch = todo[start : start + TURBO_BATCH_SIZE]
                for (i, *_rest), report in zip(batch, self._validate_turbo(batch), strict=True):
                    self.remember(report)
                    reports[i] = report
                done += len(batch)
                if progress:
                    progress(done)
        else:
            for i, path, display, _data, digest in todo:
                report = self._validate_graph(parse_turtle(path), display, digest, path)
                self.remember(report)
                reports[i] = report
                done += 1
                if progress:
                    progress(done)
        return [r for r in reports if r is not None]

    def _validate_turbo(
        self, batch: Sequence[tuple[int, Path, str, bytes, str]]
    ) -> list[FileReport]:
        """Check files with pySHACL-turbo, together where that cannot change a finding."""
        if self._turbo is None:
            self._turbo = _TurboEngine(self.shapes, self._concept_shapes, self.vocab_files)
        parsed: list[_ParsedFile] = []
        out: dict[int, FileReport] = {}
        for i, path, display, data, digest in batch:
            one = _ParsedFile.parse(path, display, data, digest)
            if one is None:
                # pyoxigraph refused what rdflib may accept (or rdflib names the
                # error as every other path does): the reference engine decides.
                out[i] = self._validate_graph(parse_turtle(path), display, digest, path)
            else:
                one.index = i
                parsed.append(one)
        for group in _independent_groups(parsed):
            findings = self._turbo.run(group, self._messages, display=group[0].display)
            for one in group:
                out[one.index] = one.report(findings.get(one.index, []))
        return [out[i] for i, *_rest in batch]

    def validate_file(self, path: Path, display: str | None = None) -> FileReport:
        """Validate one study file.

        :param display: how to name the file in the report (default: as given).
        :raises RdfSyntaxError: the file is not valid Turtle.
        :raises CouldNotRun: the file cannot be read.
        """
        path = Path(path)
        display = display if display is not None else str(path)
        if self.engine_for(1) == "turbo":
            return self.validate_many([(path, display)])[0]
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
        blank = {s for s in file_graph.subjects() if isinstance(s, BNode)}
        related = sorted(
            (str(s), str(o))
            for s, o in file_graph.subject_objects(_term(_EKB + "possiblyRelatedTo"))
        )
        return _file_report(findings, studies, len(blank), related, display, digest, path)


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc


def _file_report(
    findings: list[Finding],
    studies: list[str],
    blank_subjects: int,
    related: list[tuple[str, str]],
    display: str,
    digest: str,
    path: Path,
) -> FileReport:
    """A file's report: its SHACL findings plus the checks made on the file itself."""
    findings = findings + _file_findings(studies, path)
    if blank_subjects:
        findings.append(
            Finding(
                "Violation",
                "",
                None,
                f"{blank_subjects} blank node(s) as subjects: give every record an IRI",
                FILE_SHAPE,
                None,
                None,
            )
        )
    return FileReport(
        path=display,
        sha256=digest,
        findings=tuple(sorted(set(findings), key=Finding.sort_key)),
        studies=tuple(studies),
        related=tuple(related),
    )


# ---------------------------------------------------------------------------
# pySHACL-turbo: many files per run


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SKOS_CONCEPT = "http://www.w3.org/2004/02/skos/core#Concept"


@dataclass
class _ParsedFile:
    """One study file parsed by pyoxigraph, with what batching and the report need."""

    path: Path
    display: str
    digest: str
    quads: list[Any]
    subjects: set[str]
    objects: set[str]
    studies: list[str]
    declared_concepts: list[str]
    blank_subjects: int
    related: list[tuple[str, str]]
    index: int = -1

    @classmethod
    def parse(cls, path: Path, display: str, data: bytes, digest: str) -> _ParsedFile | None:
        """``None`` when pyoxigraph cannot parse the file."""
        import pyoxigraph as ox

        try:
            quads = list(
                ox.parse(
                    data,
                    format=ox.RdfFormat.TURTLE,
                    base_iri=path.resolve().as_uri(),
                    rename_blank_nodes=True,
                )
            )
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return None
        subjects: set[str] = set()
        objects: set[str] = set()
        studies: list[str] = []
        concepts: list[str] = []
        blank: set[str] = set()
        related: list[tuple[str, str]] = []
        named = ox.NamedNode
        for q in quads:
            s, p, o = q.subject, q.predicate.value, q.object
            if isinstance(s, named):
                subjects.add(s.value)
                if p == _RDF_TYPE and isinstance(o, named):
                    if o.value == _EKB + "Study":
                        studies.append(s.value)
                    elif o.value == _SKOS_CONCEPT:
                        concepts.append(s.value)
            else:
                blank.add(str(s))
            if isinstance(o, named):
                objects.add(o.value)
            if p == _EKB + "possiblyRelatedTo":
                related.append((_ox_text(s), _ox_text(o)))
        return cls(
            path=path,
            display=display,
            digest=digest,
            quads=quads,
            subjects=subjects,
            objects=objects,
            studies=sorted(set(studies)),
            declared_concepts=sorted(set(concepts)),
            blank_subjects=len(blank),
            related=sorted(set(related)),
        )

    def report(self, findings: list[Finding]) -> FileReport:
        return _file_report(
            findings,
            self.studies,
            self.blank_subjects,
            self.related,
            self.display,
            self.digest,
            self.path,
        )


def _ox_text(term: Any) -> str:
    """A pyoxigraph term as rdflib's ``str()`` gives it (IRI, lexical form or blank id)."""
    return str(term.value)


def _independent_groups(files: Sequence[_ParsedFile]) -> list[list[_ParsedFile]]:
    """Split files into groups that can share one SHACL run.

    Validating files together gives each the findings it would get alone when
    no file states anything about another's subjects nor points at them: then
    the only nodes they share are vocabulary concepts, whose descriptions come
    from the vocabularies alone. A file that overlaps with the group so far
    starts a group of its own later (in practice: files that link studies, or
    declare the same concept, are checked alone).
    """
    groups: list[list[_ParsedFile]] = []
    pending = list(files)
    while pending:
        group: list[_ParsedFile] = []
        subjects: set[str] = set()
        objects: set[str] = set()
        later: list[_ParsedFile] = []
        for one in pending:
            if group and (
                not one.subjects.isdisjoint(subjects)
                or not one.objects.isdisjoint(subjects)
                or not one.subjects.isdisjoint(objects)
            ):
                later.append(one)
                continue
            group.append(one)
            subjects |= one.subjects
            objects |= one.objects
        groups.append(group)
        pending = later
    return groups


class _TurboEngine:
    """Compiled shapes and the vocabularies, ready for pySHACL-turbo runs."""

    def __init__(
        self, shapes: Graph, concept_shapes: list[Node], vocab_files: Sequence[Path]
    ) -> None:
        import pyshacl_turbo

        self._compile = pyshacl_turbo.compile_shapes
        self._shapes = shapes
        self._concept_shapes = concept_shapes
        self._program = pyshacl_turbo.compile_shapes(shapes, advanced=True)
        import pyoxigraph as ox

        vocab: list[Any] = []
        for f in vocab_files:
            try:
                vocab += ox.parse(
                    _read_bytes(f),
                    format=ox.RdfFormat.TURTLE,
                    base_iri=Path(f).resolve().as_uri(),
                    rename_blank_nodes=True,
                )
            except SyntaxError as exc:
                raise RdfSyntaxError(str(f), exc.lineno, exc.msg or str(exc)) from exc
        self._vocab_nt: bytes = ox.serialize(vocab, format=ox.RdfFormat.N_QUADS) or b""
        try:
            # The engine's own wrapper for serialised input: N-Triples text goes
            # straight to the Rust parser. Plain text would first be decoded into
            # an rdflib Graph and serialised again, which is most of the time.
            from pyshacl_turbo.rdf import Input

            self._input: Callable[[str], Any] = lambda text: Input(text, "nt", None, {})
        except ImportError:  # another version: the public (slower) path
            self._input = lambda text: text

    def _program_for(self, concepts: list[str]) -> Any:
        """The compiled shapes, with the concepts the files declare as extra targets."""
        if not concepts:
            return self._program
        from rdflib import Graph, URIRef

        shapes = Graph()
        for prefix, namespace in self._shapes.namespaces():
            shapes.bind(prefix, namespace)
        shapes += self._shapes
        target_node = URIRef(_SH + "targetNode")
        for shape in self._concept_shapes:
            for concept in concepts:
                shapes.add((shape, target_node, URIRef(concept)))
        return self._compile(shapes, advanced=True)

    def run(
        self, files: Sequence[_ParsedFile], messages: dict[str, str], display: str
    ) -> dict[int, list[Finding]]:
        """Validate ``files`` together; their findings by file index."""
        import pyoxigraph as ox

        owner: dict[str, int] = {}
        concepts: list[str] = []
        parts = [self._vocab_nt]
        for one in files:
            parts.append(ox.serialize(one.quads, format=ox.RdfFormat.N_QUADS) or b"")
            for subject in one.subjects:
                owner[subject] = one.index
            concepts.extend(one.declared_concepts)
        # Handed over as N-Triples text with every literal as written: a
        # pyoxigraph Store would canonicalise 30.0 to 30 (messages quote the
        # numbers as the file gives them), and pySHACL-turbo 0.6.5 reads a
        # Store's plain literals as typed ones, so an sh:in of strings never matches.
        text = b"".join(parts).decode("utf-8")
        try:
            _conforms, report_graph, _text = self._program_for(sorted(set(concepts))).validate(
                self._input(text),
                inference="none",
                _normalize_report_literals=False,
                allow_warnings=True,
                allow_infos=True,
                abort_on_first=False,
            )
        except Exception as exc:  # a crash in the engine must not look like a finding
            where = display if len(files) == 1 else f"{display} and {len(files) - 1} more"
            raise CouldNotRun(f"{where}: validation could not run: {exc}") from exc
        found: dict[int, list[Finding]] = {}
        for finding in _findings_from_report(report_graph, messages):
            index = owner.get(finding.focus)
            if index is not None:
                found.setdefault(index, []).append(finding)
        return found


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
    return paths.expand_inputs(
        paths_given,
        lambda folder: (
            paths.study_files(folder)
            if (folder / "studies").is_dir()
            else sorted(folder.glob("*.ttl"))
        ),
        "no Turtle (.ttl) files to validate",
    )


#: Called after each file with (files done, files in all).
ProgressCallback = Callable[[int, int], None]


def validate_files(
    files: Sequence[Path],
    kb_dir: Path | None = None,
    validator: StudyValidator | None = None,
    display: Sequence[str] | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    engine: str = "auto",
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
    :param engine: ``auto``, ``pyshacl`` or ``turbo`` (see :class:`StudyValidator`);
        ignored when ``validator`` is given.
    :raises RdfSyntaxError: a file is not valid Turtle.
    :raises UsageError: ``jobs`` is below 1, or an unknown engine.
    """
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, not {jobs}")
    kb_dir = Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()
    disk_cache = None
    if validator is None:
        disk_cache = open_disk_cache(len(files))
        validator = StudyValidator(paths.kb_vocab_files(kb_dir), cache=disk_cache, engine=engine)
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
    pairs = [(Path(f), n) for f, n in zip(files, names, strict=True)]
    total = len(pairs)
    if jobs == 1:
        step = (lambda done: progress(done, total)) if progress else None
        final = validator.validate_many(pairs, progress=step)
        return ValidationReport(files=tuple(_cross_file_findings(final, kb_dir)))
    reports: list[FileReport | None] = [None] * total
    done = 0
    todo: list[int] = []
    for i, (path, name) in enumerate(pairs):
        digest = hashlib.sha256(_read_bytes(path)).hexdigest()
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

        engine = validator.engine_for(len(todo))
        # pySHACL: one file per task; turbo: batches, at most TURBO_BATCH_SIZE,
        # and small enough that every worker gets some.
        size = 1 if engine == "pyshacl" else min(TURBO_BATCH_SIZE, -(-len(todo) // jobs))
        chunks = [todo[k : k + size] for k in range(0, len(todo), size)]
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(chunks)),
            initializer=_worker_init,
            initargs=(validator.vocab_files, validator.shapes_file, engine),
        ) as pool:
            outcomes = pool.map(
                _worker_validate_many,
                [[pairs[i] for i in chunk] for chunk in chunks],
                chunksize=4 if engine == "pyshacl" else 1,
            )
            for chunk, outcome in zip(chunks, outcomes, strict=True):
                for i, report in zip(chunk, _unwrap_worker_outcome(outcome), strict=True):
                    validator.remember(report)
                    reports[i] = report
                    done += 1
                    if progress:
                        progress(done, total)
    final = [r for r in reports if r is not None]
    return ValidationReport(files=tuple(_cross_file_findings(final, kb_dir)))


_worker_validator: StudyValidator | None = None


def _worker_init(vocab_files: list[Path], shapes_file: Path, engine: str = "pyshacl") -> None:
    global _worker_validator
    _worker_validator = StudyValidator(vocab_files, shapes_file, engine=engine)


def _worker_validate_many(
    pairs: list[tuple[Path, str]],
) -> list[FileReport] | tuple[str, ...]:
    # Errors travel back as plain tuples: RdfSyntaxError does not pickle.
    assert _worker_validator is not None
    try:
        if len(pairs) == 1:
            return [_worker_validator.validate_file(*pairs[0])]
        return _worker_validator.validate_many(pairs)
    except RdfSyntaxError as exc:
        return ("syntax", exc.path, "" if exc.line is None else str(exc.line), exc.detail)
    except CouldNotRun as exc:
        return ("could-not-run", str(exc))


def _unwrap_worker_outcome(outcome: list[FileReport] | tuple[str, ...]) -> list[FileReport]:
    if isinstance(outcome, list):
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
    engine: str = "auto",
) -> ValidationReport:
    """Validate the files and folders given (see :func:`study_files_in`).

    :raises UsageError: a path does not exist or a folder holds no Turtle file.
    :raises RdfSyntaxError: a file is not valid Turtle.
    """
    return validate_files(
        study_files_in(paths_given),
        kb_dir,
        validator,
        jobs=jobs,
        progress=progress,
        engine=engine,
    )


def validate_kb(
    kb_dir: Path | None = None,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    validator: StudyValidator | None = None,
    engine: str = "auto",
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
        engine=engine,
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
    "ENGINES",
    "turbo_available",
]
