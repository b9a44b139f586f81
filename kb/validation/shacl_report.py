"""Preparing the shapes for the engines, and reading an engine's report graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kb.validation.model import _SH, Finding

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


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
