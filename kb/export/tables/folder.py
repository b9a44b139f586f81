"""Reading an embedded knowledge base's records straight from its Turtle files.

An embedded store holds exactly the files of its knowledge-base folder (the
ontology and vocabularies, every study and review, each file's blank nodes kept
apart), and :meth:`kb.store.EmbeddedStore.open_kb` has just checked that the
store matches them. Reading the records back out of the on-disk warm-start
store costs tens of microseconds per triple (every term is looked up in
RocksDB): 100 s of a 10,000-study ``export csv``, where parsing the files
takes about 6 s. So an export that opened the embedded store of a folder
(:class:`FolderStore`) parses the folder's files instead, and follows the same
paths from each study as the store read in :mod:`~kb.export.tables.reading`
(the same subjects, each with its triples from every file).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.term import Identifier

from kb import paths
from kb.export.tables.model import _STUDY_LINKS, RDF_TYPE, Selection
from kb.export.tables.reading import Graph
from kb.namespaces import EKB
from kb.rdf_terms import XSD_STRING
from kb.store import _to_rdflib, parse_turtle_file, schema_files, string_literal
from kb.store import iri as iri_term
from kb.store_api import QueryResult


class FolderStore:
    """An embedded store together with the files of the folder it was loaded from.

    Every query goes to ``store``; :func:`read_files` reads the records from ``files``.
    """

    def __init__(self, store: Any, files: Sequence[Path]) -> None:
        self.store = store
        self.files = list(files)

    def select(self, query: str) -> QueryResult:
        result: QueryResult = self.store.select(query)
        return result

    def ask(self, query: str) -> bool:
        return bool(self.store.ask(query))

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]:
        triples: list[tuple[Identifier, Identifier, Identifier]] = self.store.construct(query)
        return triples

    def __getattr__(self, name: str) -> Any:  # anything else a format uses (quads, ...)
        return getattr(self.store, name)


def folder_files(kb_dir: Path | None) -> list[Path]:
    """The files :meth:`kb.store.EmbeddedStore.open_kb` loads for ``kb_dir``, in its order."""
    kb_dir = kb_dir if kb_dir is not None else paths.default_kb_dir()
    return schema_files(kb_dir) + paths.study_files(kb_dir) + paths.review_files(kb_dir)


def read_files(files: Sequence[Path], selection: Selection) -> Graph:
    """The selected studies' records as :func:`~kb.export.tables.reading._read` reads them
    from the store: each study's subjects by the same paths, with all their triples.

    :raises RdfSyntaxError: a file is not valid Turtle (names the file and line).
    :raises CouldNotRun: a file cannot be read.
    """
    index = _index(files)
    ekb = str(EKB)
    empty: dict[str, set[Any]] = {}

    def objects(subjects: list[str], *props: str) -> list[str]:
        found: list[str] = []
        for s in subjects:
            po = index.get(s, empty)
            for p in props:
                for o in po.get(ekb + p, ()):
                    if not isinstance(o, ox.Literal):
                        found.append(o.value)
        return found

    links = _STUDY_LINKS
    records = tuple(p for p in _STUDY_LINKS if p != "reportedIn")
    study_type = ox.NamedNode(ekb + "Study")
    graph = Graph()
    triples: list[tuple[str, dict[str, set[Any]]]] = []
    for study in selection.studies:
        one = [study]
        reached: list[str] = []
        if study_type in index.get(study, empty).get(RDF_TYPE, ()):
            reached.append(study)
        reached += objects(one, *links)
        arms = objects(one, "hasArm")
        interventions = objects(arms, "receives")
        reached += interventions
        reached += objects(objects(one, "hasPopulation"), "hasBaselineCharacteristic")
        reached += objects(one, "source")
        reached += objects(objects(one, *records), "source")
        reached += objects(interventions, "source")
        reached += objects(objects(one, "hasReconciliation"), "hasDecision")
        for s in reached:
            po = index.get(s)
            if po is None or s in graph.study_of:
                continue
            graph.study_of[s] = study
            triples.append((s, po))
    canonical = _canonical_literals(
        o for _, po in triples for values in po.values() for o in values
    )
    # An IRI is the object of many triples, a datatype of most literals: one term each.
    # The terms are the ones kb.store._to_rdflib makes, made with fewer calls.
    iris: dict[str, URIRef] = {}
    strings: dict[str, Literal] = {}

    def term(o: Any) -> Identifier:
        if isinstance(o, ox.NamedNode):
            iri = o.value
            t = iris.get(iri)
            if t is None:
                t = iris[iri] = iri_term(iri)
            return t
        if isinstance(o, ox.Literal):
            c = canonical.get(o)  # (not `or`: a literal 0 or false is falsy)
            if c is not None:
                return c
            if o.language:
                return Literal(o.value, lang=o.language)
            datatype = o.datatype.value
            if datatype == XSD_STRING:  # many texts repeat (units, terms, sites)
                text = o.value
                lit = strings.get(text)
                if lit is None:
                    lit = strings[text] = string_literal(text)
                return lit
            dt = iris.get(datatype)
            if dt is None:
                dt = iris[datatype] = iri_term(datatype)
            return Literal(o.value, datatype=dt)
        return _to_rdflib(o)

    # The sets of pyoxigraph terms are replaced in place, so the two forms of the
    # records are not in memory at once (1.7 GB at 10,000 studies when they were).
    for s, po in triples:
        for p, values in po.items():
            po[p] = {term(o) for o in values}
        graph.props[s] = po
    return graph


def _canonical_literals(objects: Iterable[Any]) -> dict[Any, Identifier]:
    """Each literal that is not a plain string, as the store gives it back.

    Oxigraph keeps numbers, dates, booleans and language tags as values, so it
    returns them in canonical form (``"24.0"^^xsd:decimal`` comes back as
    ``"24"``, ``@en-GB`` as ``@en-gb``). Rather than re-implement its rules, the
    distinct such literals (about 30,000 at 10,000 studies) go through a small
    in-memory Oxigraph store and come back out.
    """
    literals = list(
        {o for o in objects if isinstance(o, ox.Literal) and o.datatype.value != XSD_STRING}
    )
    prefix = "urn:x-ekb:literal:"
    value = ox.NamedNode(prefix + "value")
    store = ox.Store()
    store.extend(
        ox.Quad(ox.NamedNode(f"{prefix}{i}"), value, lit) for i, lit in enumerate(literals)
    )
    return {literals[int(q.subject.value[len(prefix) :])]: _to_rdflib(q.object) for q in store}


def _index(files: Sequence[Path]) -> dict[str, dict[str, set[Any]]]:
    """subject -> predicate -> objects (pyoxigraph terms) over every file, blank nodes
    renamed per file as the store's loader does."""
    index: dict[str, dict[str, set[Any]]] = {}
    for path in files:
        last_subject = None
        po: dict[str, set[Any]] = {}
        for q in parse_turtle_file(path):
            subject = q.subject
            if subject != last_subject:  # Turtle gives a subject's triples together
                last_subject = subject
                # (an RDF 1.2 triple term as subject has no .value; it is keyed by its text)
                key = str(subject) if isinstance(subject, ox.Triple) else subject.value
                po = index.setdefault(key, {})
            p = q.predicate.value
            values = po.get(p)
            if values is None:
                po[p] = {q.object}
            else:
                values.add(q.object)
    return index
