"""The labels of vocabulary concepts, so that an import reuses concepts the KB already has."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import CouldNotRun
from kb.importers.ctgov.parsing import normalise_label

if TYPE_CHECKING:
    from rdflib import Graph, URIRef


class ConceptIndex:
    """Labels (``skos:prefLabel``/``skos:altLabel``) of condition, agent and outcome concepts."""

    def __init__(self, graph: Graph | None = None) -> None:
        from rdflib import URIRef
        from rdflib.namespace import SKOS

        from kb.namespaces import AGENT, COND, OUTC

        self.schemes = {"condition": URIRef(COND), "agent": URIRef(AGENT), "outcome": URIRef(OUTC)}
        self._labels: dict[str, dict[str, set[URIRef]]] = {k: {} for k in self.schemes}
        self.known: set[URIRef] = set()
        if graph is None:
            return
        by_scheme = {v: k for k, v in self.schemes.items()}
        for concept, scheme in graph.subject_objects(SKOS.inScheme):
            kind = by_scheme.get(scheme)  # type: ignore[call-overload]
            if kind is None or not isinstance(concept, URIRef):
                continue
            self.known.add(concept)
            for prop in (SKOS.prefLabel, SKOS.altLabel):
                for label in graph.objects(concept, prop):
                    self._labels[kind].setdefault(normalise_label(str(label)), set()).add(concept)

    @classmethod
    def from_kb(cls, kb_dir: Path | None) -> ConceptIndex:
        """The shipped vocabularies plus the knowledge base's own ``vocab/``."""
        from rdflib import Graph

        from kb import paths

        graph = Graph()
        kb = kb_dir if kb_dir is not None else paths.default_kb_dir()
        for f in paths.kb_vocab_files(kb):
            try:
                graph.parse(f, format="turtle")
            except Exception as exc:  # rdflib raises many types for bad Turtle
                raise CouldNotRun(f"{f}: could not parse Turtle: {exc}") from exc
        return cls(graph)

    def find(self, kind: str, *labels: str) -> URIRef | None:
        """The one concept of ``kind`` whose label matches one of ``labels`` (in order)."""
        for label in labels:
            hits = self._labels[kind].get(normalise_label(label), set())
            if len(hits) == 1:
                return next(iter(hits))
        return None
