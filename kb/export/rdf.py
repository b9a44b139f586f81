"""RDF dumps of the selected studies: Turtle, N-Triples, JSON-LD, and TriG with one
named graph per study (the study's IRI).

Only the study data is dumped, not the ontology and vocabularies (they ship in
``ontology/``). Each study's triples are read with a CONSTRUCT on its named
graph, so the same dump works on a remote endpoint loaded by ``ekb push``; when
an endpoint keeps everything in one graph, the study's own resources (IRIs
under the study's IRI) are read instead. Loading a dump back gives a graph
isomorphic to the knowledge base's study graphs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.namespaces import PREFIXES

RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig"}


def _sparql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def study_triples(store: Any, study: str) -> list[tuple[Any, Any, Any]]:
    """The triples of one study: its named graph, else the resources under its IRI."""
    triples = store.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{study}> {{ ?s ?p ?o }} }}"
    )
    if triples:
        return triples
    return store.construct(
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o "
        f"FILTER(?s = <{study}> || STRSTARTS(STR(?s), {_sparql_string(study + '/')})) }}"
    )


def _plain(term: Any) -> Any:
    """``"x"^^xsd:string`` as the plain literal ``"x"`` (the same in RDF 1.1, not to rdflib),
    and decimals in their canonical lexical form."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    if isinstance(term, Literal) and term.datatype == XSD.decimal and "." not in str(term):
        # Oxigraph keeps decimals in a short form ("24"); XSD's canonical form, and what the
        # study files say, is "24.0".
        return Literal(f"{term}.0", datatype=XSD.decimal)
    return term


def _sorted(triples: list[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any]]:
    return sorted(
        set(triples),
        key=lambda t: tuple(
            (
                type(x).__name__,
                str(x),
                str(getattr(x, "datatype", "") or ""),
                str(getattr(x, "language", "") or ""),
            )
            for x in t
        ),
    )


def _trig(per_study: dict[str, list[tuple[Any, Any, Any]]]) -> str:
    """TriG with one named graph per study, the graphs in study order.

    rdflib's TriG writer orders graphs by set iteration, which changes between
    processes (the hash seed), so each study's graph is written on its own and the
    pieces are joined: the union of their ``@prefix`` lines, sorted, then the blocks.
    """
    from rdflib import Dataset, URIRef

    prefix_lines: set[str] = set()
    blocks: list[str] = []
    for study in sorted(per_study):
        ds = Dataset()
        for prefix, iri in PREFIXES.items():
            ds.bind(prefix, iri)
        graph = ds.graph(URIRef(study))
        for t in per_study[study]:
            graph.add(t)
        piece = ds.serialize(format="trig")
        lines = piece.splitlines(keepends=True)
        head = [line for line in lines if line.startswith("@prefix ")]
        body = "".join(lines[len(head) :]).strip("\n")
        if body:
            prefix_lines.update(head)
            blocks.append(body + "\n")
    text = "".join(sorted(prefix_lines)) + "\n" + "\n".join(blocks)
    return text + "\n"


def render(store: Any, selection: Any, *, fmt: str = "ttl", output: Path | None = None) -> Rendered:
    from rdflib import Graph

    per_study = {
        study: _sorted([tuple(_plain(x) for x in t) for t in study_triples(store, study)])
        for study in selection.studies
    }
    if fmt == "trig":
        text = _trig(per_study)
    else:
        graph = Graph()
        for prefix, iri in PREFIXES.items():
            graph.bind(prefix, iri)
        for study in sorted(per_study):
            for t in per_study[study]:
                graph.add(t)
        if fmt == "nt":
            lines = graph.serialize(format="nt").splitlines()
            text = "".join(line + "\n" for line in sorted(set(lines)) if line.strip())
        elif fmt == "jsonld":
            context = dict(PREFIXES.items())
            doc = json.loads(graph.serialize(format="json-ld", context=context))
            # rdflib orders subjects by set iteration, which changes between processes.
            if isinstance(doc, dict) and isinstance(doc.get("@graph"), list):
                doc["@graph"].sort(key=lambda node: str(node.get("@id", "")))
            text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        else:
            text = graph.serialize(format=RDFLIB_FORMATS[fmt])
    return Rendered({"": text.encode("utf-8")})
