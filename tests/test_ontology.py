"""The ontology declares every ``ekb:`` term in use; the vocabularies are well formed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, SH, SKOS, Graph, Literal, URIRef

from kb import paths
from kb.validation import parse_turtle

EKB = "https://w3id.org/evidence-kb/ontology#"
PILOT_FILE = "il2-refractory-ln-2021.ttl"
DECLARATIONS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
# A term in SPARQL text: ekb:local (after PREFIX ekb:) or the full IRI.
_CURIE = re.compile(r"(?<![\w-])ekb:([A-Za-z_][\w-]*)")
_FULL = re.compile(re.escape("<" + EKB) + r"([\w-]+)>")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return parse_turtle(paths.ontology_file())


def _terms_in_sparql(text: str) -> set[str]:
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return {EKB + m for m in _CURIE.findall(code)} | {EKB + m for m in _FULL.findall(code)}


def _terms_in_graph(graph: Graph, skip: set[URIRef] = frozenset()) -> set[str]:  # type: ignore[assignment]
    terms = {
        str(t)
        for triple in graph
        for t in triple
        if isinstance(t, URIRef) and str(t).startswith(EKB) and t not in skip
    }
    # SPARQL constraints inside shapes name terms in their query text.
    for text in graph.objects(None, SH.select):
        terms |= _terms_in_sparql(str(text))
    return terms


def _used_terms() -> dict[str, set[str]]:
    """term -> the files that use it."""
    used: dict[str, set[str]] = {}
    files = [
        *paths.study_files(paths.shipped_kb_dir()),
        paths.shapes_file(),
        *sorted(paths.vocab_dir().glob("*.ttl")),
    ]
    for path in files:
        graph = parse_turtle(path)
        # The shapes are named in the ekb: namespace too; they are declared by
        # being shapes, not ontology terms.
        shapes = {
            s
            for kind in (SH.NodeShape, SH.PropertyShape)
            for s in graph.subjects(RDF.type, kind)
            if isinstance(s, URIRef)
        }
        for term in _terms_in_graph(graph, shapes):
            used.setdefault(term, set()).add(path.name)
    for query in sorted(paths.queries_dir().glob("*.rq")):
        for term in _terms_in_sparql(query.read_text()):
            used.setdefault(term, set()).add(query.name)
    return used


def test_every_ekb_term_in_use_is_declared_with_a_label_and_a_definition(ontology: Graph) -> None:
    missing = []
    for term, files in sorted(_used_terms().items()):
        iri = URIRef(term)
        kinds = set(ontology.objects(iri, RDF.type)) & set(DECLARATIONS)
        problems = []
        if not kinds:
            problems.append("not declared")
        if ontology.value(iri, RDFS.label) is None:
            problems.append("no rdfs:label")
        if ontology.value(iri, SKOS.definition) is None:
            problems.append("no skos:definition")
        if problems:
            missing.append(
                f"ekb:{term[len(EKB) :]} ({', '.join(problems)}) used in {sorted(files)}"
            )
    assert missing == []


def test_the_term_scan_finds_terms_in_data_shapes_and_queries() -> None:
    used = _used_terms()
    # One known term from each kind of file: the scan itself works.
    assert PILOT_FILE in used[EKB + "events"]
    assert "shapes.ttl" in used[EKB + "events"]
    assert "source-types.ttl" in used[EKB + "lowerConfidence"]
    assert any(name.endswith(".rq") for name in used[EKB + "Study"])
    # Shape names are not ontology terms.
    assert EKB + "ResultCountsShape" not in used


def test_every_declared_term_has_a_label_and_a_definition(ontology: Graph) -> None:
    bad = [
        str(s)
        for kind in DECLARATIONS
        for s in ontology.subjects(RDF.type, kind)
        if str(s).startswith(EKB)
        and (ontology.value(s, RDFS.label) is None or ontology.value(s, SKOS.definition) is None)
    ]
    assert bad == []


@pytest.fixture(scope="module")
def vocabularies() -> Graph:
    graph = Graph()
    for path in sorted(paths.vocab_dir().glob("*.ttl")):
        parse_turtle(path, graph)
    return graph


def test_every_vocabulary_concept_has_a_preferred_label_and_a_scheme(vocabularies: Graph) -> None:
    concepts = sorted(set(vocabularies.subjects(RDF.type, SKOS.Concept)))
    assert len(concepts) > 50
    bad = []
    for concept in concepts:
        labels = list(vocabularies.objects(concept, SKOS.prefLabel))
        if not labels or not all(isinstance(x, Literal) and str(x).strip() for x in labels):
            bad.append(f"{concept}: no skos:prefLabel")
        schemes = list(vocabularies.objects(concept, SKOS.inScheme))
        if not schemes:
            bad.append(f"{concept}: no skos:inScheme")
        for scheme in schemes:
            if (scheme, RDF.type, SKOS.ConceptScheme) not in vocabularies:
                bad.append(f"{concept}: scheme {scheme} is not a skos:ConceptScheme")
    assert bad == []


def test_every_broader_concept_exists(vocabularies: Graph) -> None:
    dangling = sorted(
        f"{narrower} -> {broader}"
        for narrower, broader in vocabularies.subject_objects(SKOS.broader)
        if (broader, RDF.type, SKOS.Concept) not in vocabularies
    )
    assert dangling == []


def test_the_broader_hierarchy_has_no_cycle(vocabularies: Graph) -> None:
    for concept in set(vocabularies.subjects(SKOS.broader, None)):
        seen = set()
        stack = [concept]
        while stack:
            node = stack.pop()
            for broader in vocabularies.objects(node, SKOS.broader):
                assert broader != concept, f"{concept} is broader than itself"
                if broader not in seen:
                    seen.add(broader)
                    stack.append(broader)


def test_concepts_that_study_files_declare_have_a_label_and_a_scheme() -> None:
    bad = []
    for path in paths.study_files(paths.shipped_kb_dir()):
        graph = parse_turtle(path)
        for concept in graph.subjects(RDF.type, SKOS.Concept):
            if graph.value(concept, SKOS.prefLabel) is None:
                bad.append(f"{path.name}: {concept} has no skos:prefLabel")
            if graph.value(concept, SKOS.inScheme) is None:
                bad.append(f"{path.name}: {concept} has no skos:inScheme")
    assert bad == []


def test_the_scan_would_notice_an_undeclared_term(tmp_path: Path, ontology: Graph) -> None:
    rq = "PREFIX ekb: <" + EKB + ">\nSELECT ?s WHERE { ?s ekb:noSuchTerm/ekb:events ?e }\n"
    terms = _terms_in_sparql(rq)
    assert terms == {EKB + "noSuchTerm", EKB + "events"}
    assert (URIRef(EKB + "noSuchTerm"), None, None) not in ontology
