"""One read of the selected studies' records from the store, and literals as Python values."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from kb.export.tables.model import (
    _INT_TYPES,
    _STUDY_LINKS,
    RDF_TYPE,
    SKOS,
    XSD,
    Cell,
    Selection,
    _iri_values,
)
from kb.namespaces import EKB


class Graph:
    """The selected studies' records as ``subject -> predicate -> values`` (rdflib terms)."""

    def __init__(self) -> None:
        self.props: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        self.study_of: dict[str, str] = {}
        #: study -> the records read for it (the inverse of ``study_of``)
        self.subjects_of: dict[str, list[str]] = defaultdict(list)
        self.concepts: dict[str, dict[str, Any]] = {}

    def values(self, subject: str, prop: str) -> list[Any]:
        """Every value of ``ekb:prop`` (or a full IRI) on ``subject``, sorted."""
        po = self.props.get(subject)
        if po is None:
            return []
        vals = po.get(_IRIS.get(prop) or _iri(prop))
        if not vals:
            return []
        return sorted(vals, key=_sort_key) if len(vals) > 1 else list(vals)

    def value(self, subject: str, prop: str) -> Any | None:
        """The first of :meth:`values` (without sorting them all)."""
        # The exports call this millions of times at 10,000 studies: no temporary dicts.
        po = self.props.get(subject)
        if po is None:
            return None
        vals = po.get(_IRIS.get(prop) or _iri(prop))
        if not vals:
            return None
        if len(vals) == 1:
            for v in vals:
                return v
        return min(vals, key=_sort_key)

    def types(self, subject: str) -> set[str]:
        return {str(t) for t in self.props.get(subject, {}).get(RDF_TYPE, ())}

    def label(self, concept: Any) -> str | None:
        """A concept's preferred label, or its local name when the store has no label."""
        if concept is None:
            return None
        iri = str(concept)
        info = self.concepts.get(iri)
        if info and info.get("label"):
            return str(info["label"])
        return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


#: property name or IRI -> IRI, filled as :func:`_iri` is asked
_IRIS: dict[str, str] = {}


def _iri(prop: str) -> str:
    """``ekb:prop`` for a local name, ``prop`` itself for a full IRI."""
    iri = _IRIS[prop] = prop if ":" in prop and "/" in prop else str(EKB) + prop
    return iri


def _sort_key(term: Any) -> tuple[str, str]:
    return (type(term).__name__, str(term))


def _read(store: Any, selection: Selection) -> Graph:
    """The selected studies' records and every concept's label, read from the store."""
    graph = _read_records(store, selection)
    _read_concepts(store, graph)
    return graph


def _read_records(store: Any, selection: Selection) -> Graph:
    graph = Graph()
    links = "|".join(f"ekb:{p}" for p in _STUDY_LINKS)
    records = "|".join(f"ekb:{p}" for p in _STUDY_LINKS if p != "reportedIn")
    # The study VALUES are repeated inside every UNION branch: Oxigraph 0.5 does
    # not push a top-level VALUES into the branches, which made this read grow
    # with the square of the knowledge base.
    values = f"VALUES ?study {{ {_iri_values(selection.studies)} }}"
    branches = [
        "?study a ekb:Study . BIND(?study AS ?s)",
        f"?study {links} ?s",
        "?study ekb:hasArm/ekb:receives ?s",
        "?study ekb:hasPopulation/ekb:hasBaselineCharacteristic ?s",
        "?study ekb:source ?s",
        f"?study ({records})/ekb:source ?s",
        "?study ekb:hasArm/ekb:receives/ekb:source ?s",
        # double extraction (issue 20): decisions, so that decided values carry a caveat
        "?study ekb:hasReconciliation/ekb:hasDecision ?s",
    ]
    union = "\n  UNION ".join(f"{{ {values} {branch} }}" for branch in branches)
    read = getattr(store, "triples_of_subjects", None)
    if read is not None:
        # The embedded store: find the records (each once), then read their
        # triples straight from the store. The one query below returned every
        # triple once per path to its subject (2.6 M rows at 10,000 studies, most
        # of the export's time spent turning them into terms).
        for study, s, p, o in read(
            f"PREFIX ekb: <{EKB}>\nSELECT DISTINCT ?study ?s WHERE {{\n  {union}\n}}"
        ):
            graph.study_of.setdefault(s, study)
            graph.props[s][p].add(o)
    else:
        query = f"""PREFIX ekb: <{EKB}>
SELECT ?study ?s ?p ?o WHERE {{
  {union}
  ?s ?p ?o .
}}"""
        for row in store.select(query).rows:
            s = str(row["s"])
            graph.props[s][str(row["p"])].add(row["o"])
            graph.study_of.setdefault(s, str(row["study"]))
    return graph


def _read_concepts(store: Any, graph: Graph) -> None:
    """Every concept's label, notation, rank and lower-confidence flag, and the records of
    each study (the inverse of ``graph.study_of``)."""
    for s, study in graph.study_of.items():
        graph.subjects_of[study].append(s)
    concept_rows = store.select(
        f"""PREFIX skos: <{SKOS}>
PREFIX ekb: <{EKB}>
SELECT ?c ?label ?notation ?rank ?lower WHERE {{
  ?c a skos:Concept .
  OPTIONAL {{ ?c skos:prefLabel ?label FILTER(lang(?label) = "en" || lang(?label) = "") }}
  OPTIONAL {{ ?c skos:notation ?notation }}
  OPTIONAL {{ ?c ekb:rank ?rank }}
  OPTIONAL {{ ?c ekb:lowerConfidence ?lower }}
}}"""
    ).rows
    for row in sorted(
        concept_rows, key=lambda r: tuple(str(r.get(k, "")) for k in ("c", "label", "notation"))
    ):
        info = graph.concepts.setdefault(str(row["c"]), {})
        for key in ("label", "notation", "rank", "lower"):
            if key in row and key not in info:
                info[key] = py(row[key])


def py(term: Any) -> Cell:
    """A literal as a Python value: integers as ``int``, decimals as ``Decimal``, booleans as
    ``bool``, everything else (dates, years, text, IRIs) as its lexical form."""
    if term is None or isinstance(term, (bool, int, float, Decimal)):
        return term
    datatype = str(getattr(term, "datatype", "") or "")
    text = str(term)
    if datatype in _INT_TYPES:
        try:
            return int(text)
        except ValueError:
            return text
    if datatype == XSD + "decimal":
        try:
            return Decimal(text)
        except ArithmeticError:
            return text
    if datatype in (XSD + "double", XSD + "float"):
        try:
            return float(text)
        except ValueError:
            return text
    if datatype == XSD + "boolean":
        return text.strip().lower() in ("true", "1")
    return text
