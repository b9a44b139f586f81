"""Canonical, deterministic Turtle: the one way a study file is written.

The layout is chosen so that a change to one value is a one-line diff:

* an optional comment header, then ``@base`` and the ``@prefix`` lines that are
  used, in alphabetical order of the prefix;
* subjects: studies first, then every other subject by IRI;
* each subject on a line of its own, then one ``predicate object ;`` per line
  (``a`` first, then predicates by their CURIE; objects sorted), closed by a
  line holding only ``.`` -- so adding or removing the last triple of a
  subject never touches a neighbouring line;
* resource IRIs (``https://w3id.org/evidence-kb/resource/...``) are written
  relative to ``@base`` (``<study/x/arm/a>``): readable, and valid Turtle,
  where ``res:study/x`` would need every ``/`` escaped;
* literals keep their lexical form: integers, decimals and booleans whose
  lexical form is valid Turtle shorthand are written bare (``10``, ``-50.3``,
  ``true``), anything else quoted with its datatype (``"2021"^^xsd:gYear``).

Blank nodes (the data model has none, but a hand-written file might) are
relabelled from a canonical hash, so the output stays deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from kb.namespaces import EKB, PREFIXES, RES
from kb.text import quoted_string

#: The base every resource IRI is written relative to.
BASE = str(RES)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+")
# A conservative PN_LOCAL: no escapes needed, never ends with a dot.
_PN_LOCAL = re.compile(r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?)?")
# What may follow the base in a relative IRI without changing its meaning:
# no scheme-like colon, no dot segments, no query or fragment.
_RELATIVE_SAFE = re.compile(r"[A-Za-z0-9_\-~%]+(?:/[A-Za-z0-9_\-~%.]*)*")
_IRI_ESCAPES = {c: f"\\u{ord(c):04X}" for c in '<>"{}|^`\\ '}


def _prefix_table() -> list[tuple[str, str]]:
    # res: is covered by @base; longest namespace first so the most specific CURIE wins.
    items = [(p, ns) for p, ns in PREFIXES.items() if ns != BASE]
    return sorted(items, key=lambda item: (-len(item[1]), item[0]))


_PREFIX_TABLE = _prefix_table()


class _Writer:
    def __init__(self) -> None:
        self.used_prefixes: set[str] = set()
        self.uses_base = False

    def iri(self, iri: str) -> str:
        if iri.startswith(BASE):
            rest = iri[len(BASE) :]
            if (
                rest
                and _RELATIVE_SAFE.fullmatch(rest)
                and "/./" not in f"/{rest}/"
                and "/../" not in f"/{rest}/"
            ):
                self.uses_base = True
                return f"<{rest}>"
        for prefix, ns in _PREFIX_TABLE:
            if iri.startswith(ns) and _PN_LOCAL.fullmatch(iri[len(ns) :]):
                self.used_prefixes.add(prefix)
                return f"{prefix}:{iri[len(ns) :]}"
        return (
            "<"
            + "".join(_IRI_ESCAPES.get(c, c) if ord(c) > 0x20 else f"\\u{ord(c):04X}" for c in iri)
            + ">"
        )

    def literal(self, lit: Literal) -> str:
        lexical = str(lit)
        dt = lit.datatype
        if dt == XSD.integer and _INTEGER.fullmatch(lexical):
            return lexical
        if dt == XSD.decimal and _DECIMAL.fullmatch(lexical):
            return lexical
        if dt == XSD.boolean and lexical in ("true", "false"):
            return lexical
        quoted = quoted_string(lexical)
        if lit.language:
            return f"{quoted}@{lit.language}"
        if dt is None or dt == XSD.string:
            # RDF 1.1: a simple literal is an xsd:string; writing it bare is the same term.
            return quoted
        return f"{quoted}^^{self.iri(str(dt))}"

    def term(self, node: Node) -> str:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, BNode):
            return f"_:{node}"
        return self.iri(str(node))


def _object_key(node: Node) -> tuple[int, str, str, str]:
    if isinstance(node, URIRef):
        return (0, str(node), "", "")
    if isinstance(node, BNode):
        return (1, str(node), "", "")
    assert isinstance(node, Literal)
    return (2, str(node.datatype or ""), node.language or "", str(node))


def _subject_key(graph: Graph, subject: Node) -> tuple[int, int, str]:
    is_study = (subject, RDF.type, EKB.Study) in graph
    return (0 if is_study else 1, 1 if isinstance(subject, BNode) else 0, str(subject))


def _canonical_bnodes(graph: Graph) -> Graph:
    """The same graph with blank nodes named from a canonical hash (deterministic labels)."""
    if not any(isinstance(t, BNode) for triple in graph for t in triple):
        return graph
    from rdflib.compare import to_canonical_graph

    out = Graph()
    for s, p, o in to_canonical_graph(graph):
        out.add((s, p, o))
    return out


def _comment_lines(header: str | None) -> list[str]:
    if not header:
        return []
    lines = []
    for line in header.splitlines():
        line = line.rstrip()
        lines.append(line if line.startswith("#") else ("# " + line if line else "#"))
    return lines


def canonical_turtle(
    graph: Graph | Iterable[tuple[Node, Node, Node]], header: str | None = None
) -> str:
    """The graph as canonical Turtle text (see the module docstring for the layout).

    :param graph: an rdflib graph, or any iterable of triples.
    :param header: comment text written at the top; lines not starting with ``#`` get ``# ``.
    :returns: the Turtle text, ending with a newline. Parsing it gives an isomorphic graph.

    >>> from rdflib import Graph, Literal, URIRef
    >>> g = Graph()
    >>> _ = g.add((URIRef(BASE + "study/x/arm/a"), URIRef(str(EKB) + "n"), Literal(10)))
    >>> print(canonical_turtle(g), end="")
    @base <https://w3id.org/evidence-kb/resource/> .
    @prefix ekb: <https://w3id.org/evidence-kb/ontology#> .
    <BLANKLINE>
    <study/x/arm/a>
        ekb:n 10 ;
        .
    """
    if not isinstance(graph, Graph):
        g = Graph()
        for triple in graph:
            g.add(triple)
        graph = g
    graph = _canonical_bnodes(graph)
    writer = _Writer()
    blocks: list[str] = []
    for subject in sorted(set(graph.subjects()), key=lambda s: _subject_key(graph, s)):
        pairs = []
        for p, o in graph.predicate_objects(subject):
            if p == RDF.type:
                pred_text, pred_key = "a", (0, "")
            else:
                pred_text = writer.iri(str(p))
                pred_key = (1, pred_text)
            pairs.append((pred_key, _object_key(o), pred_text, o))
        pairs.sort(key=lambda item: (item[0], item[1]))
        lines = [writer.term(subject)]
        lines += [f"    {pred_text} {writer.term(o)} ;" for _, _, pred_text, o in pairs]
        lines.append("    .")
        blocks.append("\n".join(lines))

    head = _comment_lines(header)
    if head:
        head.append("")
    if writer.uses_base:
        head.append(f"@base <{BASE}> .")
    head += [f"@prefix {p}: <{PREFIXES[p]}> ." for p in sorted(writer.used_prefixes)]
    parts = []
    if head:
        parts.append("\n".join(head))
    parts += blocks
    return "\n\n".join(parts) + "\n" if parts else ""


_HEADER_LINE = re.compile(r"\s*(#.*)?$")
_DIRECTIVE = re.compile(r"\s*(@prefix|@base|PREFIX|BASE)\b", re.IGNORECASE)


def header_comment(text: str) -> str | None:
    """The comment lines a Turtle text has before its first triple, to carry over when reformatting.

    Comment lines among the ``@prefix``/``@base`` directives count too; blank lines
    between them are kept as a lone ``#`` so paragraphs survive.
    """
    lines: list[str] = []
    for line in text.splitlines():
        if _DIRECTIVE.match(line):
            continue
        if not _HEADER_LINE.fullmatch(line):
            break
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(stripped)
        elif lines:
            lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return None
    return "\n".join(line if line else "#" for line in lines)


def count_dropped_comments(text: str) -> int:
    """How many comment lines after the header a reformat would drop (comments are not triples)."""
    header = header_comment(text)
    kept = 0 if header is None else sum(1 for line in header.splitlines() if line.strip() != "#")
    total = sum(1 for line in text.splitlines() if line.lstrip().startswith("#"))
    return max(0, total - kept)


def parse_turtle(text: str, source: str = "<string>") -> Graph:
    """Parse Turtle text into an rdflib graph.

    :raises kb.errors.RdfSyntaxError: with the file and line of the problem.
    """
    from kb.errors import RdfSyntaxError

    graph = Graph()
    try:
        graph.parse(data=text, format="turtle", publicID=BASE)
    except Exception as exc:  # rdflib raises several unrelated types for bad input
        line = None
        match = re.search(r"line (\d+)", str(exc))
        if match:
            line = int(match.group(1))
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise RdfSyntaxError(source, line, detail) from exc
    return graph


def format_text(text: str, source: str = "<string>") -> str:
    """Turtle text reformatted canonically, keeping its header comment.

    :raises kb.errors.RdfSyntaxError: the text is not valid Turtle.
    """
    return canonical_turtle(parse_turtle(text, source), header=header_comment(text))
