"""pySHACL-turbo: many files per run, grouped so each gets its own findings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import CouldNotRun, RdfSyntaxError
from kb.validation.file_checks import _file_report, foreign_subjects, one_denominator_findings
from kb.validation.model import _EKB, _SH, FileReport, Finding
from kb.validation.shacl_report import _findings_from_report
from kb.validation.turtle import _read_bytes

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


def turbo_available() -> bool:
    """True when pySHACL-turbo can be imported."""
    import importlib.util

    return importlib.util.find_spec("pyshacl_turbo") is not None


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
        triples = ((_ox_text(q.subject), q.predicate.value, _ox_text(q.object)) for q in self.quads)
        return _file_report(
            findings + one_denominator_findings(triples),
            self.studies,
            self.blank_subjects,
            self.related,
            self.display,
            self.digest,
            self.path,
            foreign_subjects(self.subjects, self.studies, self.declared_concepts),
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
