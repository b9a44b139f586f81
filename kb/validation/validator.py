"""The validator: shapes and vocabularies parsed once, one file (or batch) at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb import paths
from kb.errors import CouldNotRun, UsageError
from kb.validation.file_checks import _file_report, foreign_subjects, one_denominator_findings
from kb.validation.model import _EKB, _SH, FileReport
from kb.validation.shacl_report import (
    _compact_sparql,
    _findings_from_report,
    _QueryCachingGraph,
    _retarget_concept_shapes,
    _shape_messages,
    _term,
)
from kb.validation.turbo import _independent_groups, _ParsedFile, _TurboEngine, turbo_available
from kb.validation.turtle import _read_bytes, parse_turtle

if TYPE_CHECKING:
    from rdflib import Graph

#: Bump when the meaning of a cached report changes (part of every cache key).
_CACHE_FORMAT = 3

#: SHACL engines: ``auto`` picks one (see :meth:`StudyValidator.engine_for`).
ENGINES: tuple[str, ...] = ("auto", "pyshacl", "turbo")
#: With ``engine="auto"``, this many files to check (cache misses) or more go to
#: pySHACL-turbo; fewer go to pySHACL, the reference, whose start-up is cheaper.
AUTO_TURBO_MIN_FILES = 50
#: Files checked together in one pySHACL-turbo run (bounded, so memory stays flat
#: and worker processes get a fair share each).
TURBO_BATCH_SIZE = 100


def _engine_versions() -> str:
    import importlib.metadata as md

    found = []
    for dist in ("pyshacl", "pyshacl-turbo"):
        try:
            found.append(f"{dist} {md.version(dist)}")
        except md.PackageNotFoundError:
            found.append(f"{dist} -")
    return "; ".join(found)


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
        findings += one_denominator_findings((str(s), str(p), str(o)) for s, p, o in file_graph)
        study_type = _term(_EKB + "Study")
        studies = sorted(str(s) for s in file_graph.subjects(RDF.type, study_type))
        blank = {s for s in file_graph.subjects() if isinstance(s, BNode)}
        related = sorted(
            (str(s), str(o))
            for s, o in file_graph.subject_objects(_term(_EKB + "possiblyRelatedTo"))
        )
        foreign = foreign_subjects(own_subjects, studies, (str(c) for c in declared_concepts))
        return _file_report(findings, studies, len(blank), related, display, digest, path, foreign)
