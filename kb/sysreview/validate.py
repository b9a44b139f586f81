"""Check review files against the "Reviews" shapes of ``ontology/shapes.ttl``.

A review file is checked with pySHACL in a data graph of its own triples, the
vocabularies, and one triple ``<study/id> a ekb:Study`` per study of the
knowledge base (so "an included record points to a study that exists" is a
plain ``sh:class`` check, without loading every study). Only the shapes that
target review classes run. Findings come back as
:class:`kb.validation.FileReport`, so ``ekb validate`` reports reviews and
studies in one list, in one style, with one exit code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kb import paths
from kb.errors import CouldNotRun
from kb.namespaces import EKB, RES

if TYPE_CHECKING:
    from rdflib import Graph

    from kb.validation.model import FileReport, Finding, ValidationReport

_SH = "http://www.w3.org/ns/shacl#"
#: Findings of the checks made here in Python name this shape.
REVIEW_FILE_SHAPE = f"{EKB}ReviewFileShape"
REVIEW_CLASSES = tuple(
    f"{EKB}{c}"
    for c in (
        "Review",
        "ReviewQuestion",
        "OutcomeOfInterest",
        "EligibilityCriteria",
        "ProtocolRegistration",
        "ReviewAuthor",
        "Search",
        "ScreeningRecord",
        "ScreeningDecision",
        # a consensus risk-of-bias assessment's record of two assessors (kb.rob.reconciliation)
        "Reconciliation",
        "Extraction",
        "FieldDecision",
        "CandidateValue",
    )
)


@lru_cache(maxsize=4)
def _review_shapes(shapes_file: str, _mtime: float) -> Graph:
    """The shapes that target review classes, with everything they refer to."""
    from rdflib import RDF, BNode, Graph, URIRef

    from kb.turtle_format import parse_turtle

    full = parse_turtle(Path(shapes_file).read_text(encoding="utf-8"), shapes_file)
    sh = {n: URIRef(_SH + n) for n in ("NodeShape", "targetClass", "property", "prefixes")}
    roots = [
        s
        for s in full.subjects(RDF.type, sh["NodeShape"])
        if any(str(c) in REVIEW_CLASSES for c in full.objects(s, sh["targetClass"]))
    ]
    out = Graph()
    seen: set[object] = set()
    todo: list[object] = list(roots)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in full.predicate_objects(node):  # type: ignore[arg-type]
            out.add((node, p, o))  # type: ignore[arg-type]
            # Follow blank nodes (lists, sh:or members), named shapes and the prefixes.
            if isinstance(o, BNode) or p == sh["prefixes"] or (o, RDF.type, None) in full:
                todo.append(o)
    return out


def _vocab_graph(kb_dir: Path) -> Graph:
    return _cached_vocab(tuple(str(p) for p in paths.kb_vocab_files(kb_dir)))


@lru_cache(maxsize=4)
def _cached_vocab(files: tuple[str, ...]) -> Graph:
    from rdflib import Graph

    from kb.validation.turtle import parse_turtle

    graph = Graph()
    for f in files:
        parse_turtle(Path(f), graph)
    return graph


def _finding(severity: str, focus: str, message: str, value: str | None = None) -> Finding:
    from kb.validation.model import Finding

    return Finding(severity, focus, None, message, REVIEW_FILE_SHAPE, None, value)


def _file_findings(graph: Graph, path_name: str | None) -> list[Finding]:
    from rdflib import RDF, BNode, URIRef

    reviews = sorted(str(s) for s in graph.subjects(RDF.type, URIRef(f"{EKB}Review")))
    found: list[Finding] = []
    blank = {s for s in graph.subjects() if isinstance(s, BNode)}
    if blank:
        found.append(
            _finding(
                "Violation", "", f"{len(blank)} blank node(s) as subjects: give every record an IRI"
            )
        )
    if not reviews:
        return found + [_finding("Violation", "", "the file declares no ekb:Review")]
    if len(reviews) > 1:
        return found + [
            _finding("Violation", r, f"the file declares {len(reviews)} reviews; keep one per file")
            for r in reviews
        ]
    (review,) = reviews
    prefix = f"{RES}review/"
    if path_name is not None and review.startswith(prefix):
        expected = review[len(prefix) :] + ".ttl"
        if path_name != expected:
            found.append(
                _finding(
                    "Warning",
                    review,
                    f"the file of this review should be named {expected}",
                    path_name,
                )
            )
    for s in sorted({str(s) for s in graph.subjects() if isinstance(s, URIRef)}):
        if s != review and not s.startswith(review + "/"):
            found.append(
                _finding("Violation", s, f"every part of the review is named under {review}/")
            )
    return found


def _shacl_findings(graph: Graph, kb_dir: Path, display: str) -> list[Finding]:
    import pyshacl
    from rdflib import RDF, Graph, URIRef

    from kb.validation.model import Finding

    shapes_file = paths.shapes_file()
    shapes = _review_shapes(str(shapes_file), shapes_file.stat().st_mtime)
    data = Graph()
    for triple in _vocab_graph(kb_dir):
        data.add(triple)
    study = URIRef(f"{EKB}Study")
    for study_file in paths.study_files(kb_dir):
        data.add((URIRef(f"{RES}study/{study_file.stem}"), RDF.type, study))
    for triple in graph:
        data.add(triple)
    own = {str(s) for s in graph.subjects()}
    try:
        _conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
            allow_infos=True,
            inplace=True,
            meta_shacl=False,
            js=False,
        )
    except Exception as exc:  # a crash in the engine must not look like a finding
        raise CouldNotRun(f"{display}: validation could not run: {exc}") from exc
    sh = {
        n: URIRef(_SH + n)
        for n in (
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
    messages = {str(s): str(m) for s, m in shapes.subject_objects(URIRef(_SH + "message"))}
    findings: list[Finding] = []
    for result in report.objects(None, sh["result"]):
        focus = report.value(result, sh["focusNode"])
        if focus is None or str(focus) not in own:
            continue
        shape = report.value(result, sh["sourceShape"])
        texts = sorted(str(m) for m in report.objects(result, sh["resultMessage"]))
        path_node = report.value(result, sh["resultPath"])
        severity = report.value(result, sh["resultSeverity"])
        component = report.value(result, sh["sourceConstraintComponent"])
        value = report.value(result, sh["value"])
        findings.append(
            Finding(
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
                focus=str(focus),
                path=str(path_node) if isinstance(path_node, URIRef) else None,
                message=texts[0] if texts else messages.get(str(shape), "does not conform"),
                source_shape=str(shape) if isinstance(shape, URIRef) else None,
                component=str(component) if component is not None else None,
                value=None if value is None else str(value),
            )
        )
    return findings


def _report(graph: Graph, data: bytes, kb_dir: Path, display: str, name: str | None) -> FileReport:
    from kb.validation.model import FileReport, Finding

    findings = _file_findings(graph, name) + _shacl_findings(graph, kb_dir, display)
    from rdflib import RDF, URIRef

    reviews = tuple(sorted(str(s) for s in graph.subjects(RDF.type, URIRef(f"{EKB}Review"))))
    return FileReport(
        path=display,
        sha256=hashlib.sha256(data).hexdigest(),
        findings=tuple(sorted(set(findings), key=Finding.sort_key)),
        studies=reviews,
    )


def validate_review_text(text: str, kb_dir: Path, display: str = "<review>") -> FileReport:
    """Validate review Turtle text (not yet a file) against the review shapes.

    :raises kb.errors.RdfSyntaxError: the text is not Turtle.
    """
    from kb.turtle_format import parse_turtle

    return _report(parse_turtle(text, display), text.encode("utf-8"), kb_dir, display, None)


def validate_review_file(path: Path, kb_dir: Path, display: str | None = None) -> FileReport:
    """Validate one review file of (or for) the knowledge base ``kb_dir``.

    :raises CouldNotRun: unreadable; :raises kb.errors.RdfSyntaxError: not Turtle.
    """
    from kb.turtle_format import parse_turtle

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text") from exc
    shown = display if display is not None else str(path)
    return _report(parse_turtle(text, shown), data, kb_dir, shown, path.name)


def validate_review_files(
    files: Sequence[Path], kb_dir: Path, display: Sequence[str] | None = None
) -> list[FileReport]:
    """:func:`validate_review_file` for each file, in order."""
    names = list(display) if display is not None else [str(f) for f in files]
    return [validate_review_file(f, kb_dir, n) for f, n in zip(files, names, strict=True)]


def is_review_file(path: Path) -> bool:
    """True for a file in a ``reviews/`` folder, or one that declares an ``ekb:Review``."""
    path = Path(path)
    if path.parent.name == "reviews":
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "ekb:Review " in head or "ekb:Review ;" in head or f"<{EKB}Review>" in head


# ---------------------------------------------------------------------------
# The hook into ``ekb validate`` (kb.validation.run)


def split_review_files(
    files: Sequence[Path], given: Sequence[Path]
) -> tuple[list[Path], list[Path]]:
    """(study files, review files) among the files to validate: a file in a
    ``reviews/`` folder or declaring an ``ekb:Review`` is a review; a knowledge
    base folder given on the command line brings its ``reviews/*.ttl`` too."""
    reviews = [f for f in files if is_review_file(f)]
    studies = [f for f in files if f not in reviews]
    for folder in map(Path, given):
        if folder.is_dir() and (folder / "studies").is_dir():
            reviews += [f for f in paths.review_files(folder) if f not in reviews]
    return studies, reviews


def _kb_of(review_file: Path, kb_dir: Path | None) -> Path:
    parent = Path(review_file).resolve().parent
    if parent.name == "reviews" and (parent.parent / "studies").is_dir():
        return parent.parent
    return Path(kb_dir) if kb_dir is not None else paths.default_kb_dir()


def with_review_reports(
    report: ValidationReport,
    review_paths: Sequence[Path],
    kb_dir: Path | None,
    display: Sequence[str] | None = None,
) -> ValidationReport:
    """``report`` with the reports of ``review_paths`` appended (each checked
    against the studies of its own knowledge base)."""
    from kb.validation.model import ValidationReport

    names = list(display) if display is not None else [str(f) for f in review_paths]
    extra = [
        validate_review_file(f, _kb_of(f, kb_dir), n)
        for f, n in zip(review_paths, names, strict=True)
    ]
    return ValidationReport(files=tuple(report.files) + tuple(extra))
