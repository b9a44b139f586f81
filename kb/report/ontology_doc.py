"""The ontology's documentation page, generated from ``ontology/ekb.ttl`` with rdflib.

One entry per class and property, with its label, definition, superclasses or
superproperties, domain and range, and its mappings to other vocabularies (skos match
properties, equivalentClass). Everything is sorted by IRI, so the page is stable.

Why not pyLODE: the newest pyLODE served by PyPI here (3.4.1) installs but cannot be
imported (its ``version`` module opens a ``pyproject.toml`` beside the package, which a
wheel install does not have), and it brings an HTTP client for loading remote
ontologies that a no-network site does not want. The page needs only what rdflib reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, SKOS, Graph, URIRef
from rdflib.namespace import DCTERMS

from kb.namespaces import EKB

_MAPPINGS = (
    SKOS.exactMatch,
    SKOS.closeMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
    SKOS.relatedMatch,
    OWL.equivalentClass,
    OWL.equivalentProperty,
)


@dataclass
class Term:
    iri: str
    curie: str
    anchor: str
    kind: str  # class | object property | datatype property | annotation property
    label: str
    definition: str
    parents: list[tuple[str, str]] = field(default_factory=list)  # (curie, href or "")
    domain: list[tuple[str, str]] = field(default_factory=list)
    range: list[tuple[str, str]] = field(default_factory=list)
    mappings: list[tuple[str, str, str]] = field(default_factory=list)  # (relation, curie, iri)


@dataclass
class OntologyDoc:
    title: str
    description: str
    version: str
    iri: str
    terms: list[Term]

    def of_kind(self, kind: str) -> list[Term]:
        return [t for t in self.terms if t.kind == kind]


def _curie(graph: Graph, iri: URIRef) -> str:
    try:
        prefix, _, local = graph.compute_qname(iri, generate=False)
    except (KeyError, ValueError):
        return str(iri)
    return f"{prefix}:{local}"


def _text(graph: Graph, subject: URIRef, *predicates: URIRef) -> str:
    for predicate in predicates:
        values = sorted(str(v) for v in graph.objects(subject, predicate))
        if values:
            return values[0]
    return ""


def load_ontology_doc(path: Path) -> OntologyDoc:
    """Read the ontology file into a :class:`OntologyDoc`."""
    graph = Graph()
    graph.parse(path, format="turtle")
    ekb = str(EKB)

    def ref(iri: object) -> tuple[str, str]:
        if not isinstance(iri, URIRef):
            return ("(anonymous class expression)", "")
        href = "#" + str(iri)[len(ekb) :] if str(iri).startswith(ekb) else ""
        return (_curie(graph, iri), href)

    kinds = [
        (OWL.Class, "class"),
        (OWL.ObjectProperty, "object property"),
        (OWL.DatatypeProperty, "datatype property"),
        (OWL.AnnotationProperty, "annotation property"),
    ]
    terms: list[Term] = []
    seen: set[str] = set()
    for rdf_type, kind in kinds:
        for subject in sorted(set(graph.subjects(RDF.type, rdf_type)), key=str):
            if not isinstance(subject, URIRef) or not str(subject).startswith(ekb):
                continue
            if str(subject) in seen:
                continue
            seen.add(str(subject))
            parent_predicate = RDFS.subClassOf if kind == "class" else RDFS.subPropertyOf
            terms.append(
                Term(
                    iri=str(subject),
                    curie=_curie(graph, subject),
                    anchor=str(subject)[len(ekb) :],
                    kind=kind,
                    label=_text(graph, subject, RDFS.label),
                    definition=_text(graph, subject, SKOS.definition, RDFS.comment),
                    parents=sorted(ref(o) for o in graph.objects(subject, parent_predicate)),
                    domain=sorted(ref(o) for o in graph.objects(subject, RDFS.domain)),
                    range=sorted(ref(o) for o in graph.objects(subject, RDFS.range)),
                    mappings=sorted(
                        (_curie(graph, p), _curie(graph, o), str(o))
                        for p in _MAPPINGS
                        for o in graph.objects(subject, p)
                        if isinstance(o, URIRef)
                    ),
                )
            )
    ontology = next(iter(sorted(graph.subjects(RDF.type, OWL.Ontology), key=str)), None)
    title = description = version = ""
    if isinstance(ontology, URIRef):
        title = _text(graph, ontology, DCTERMS.title, RDFS.label)
        description = _text(graph, ontology, DCTERMS.description, RDFS.comment)
        version = _text(graph, ontology, OWL.versionInfo)
    return OntologyDoc(
        title=title or "evidence-kb ontology",
        description=description,
        version=version,
        iri=str(ontology) if ontology is not None else ekb,
        terms=terms,
    )


def property_labels(doc: OntologyDoc) -> dict[str, str]:
    """Property IRI -> label, for naming numbers on study pages."""
    return {t.iri: t.label for t in doc.terms if t.kind != "class" and t.label}
