"""A canned query's ORDER BY, applied in Python to rows of rdflib terms.

:mod:`kb.query_cache` puts together rows from several runs (cached studies and
re-evaluated ones), so it must put them in the order the engine would have given.
Canned queries order by plain variables (``?a DESC(?b)``), and for those the
SPARQL 1.1 order (§15.1) is: unbound, then blank nodes, then IRIs, then
literals; numbers by value, strings by code point. Where the engine leaves an
order open (ties, and mixed kinds of literal), this module fixes one: ties are
broken by the whole row, column by column, so a result has one order whatever
the engine and whichever rows came from a cache. ``tests/test_query_order.py``
checks that on every canned query the order agrees with Oxigraph's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

#: ``[(variable, descending), ...]``
OrderBy = list[tuple[str, bool]]

_XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {
    _XSD + name
    for name in (
        "integer decimal double float int long short byte nonNegativeInteger "
        "positiveInteger nonPositiveInteger negativeInteger unsignedLong unsignedInt "
        "unsignedShort unsignedByte"
    ).split()
}
_STRINGS = {_XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}

_ORDER_BY = re.compile(r"\bORDER\s+BY\s+(?P<keys>[^{}]*?)\s*\Z", re.IGNORECASE | re.DOTALL)
_KEY = re.compile(r"\s*(?:(?P<dir>ASC|DESC)\s*\(\s*\?(?P<v1>\w+)\s*\)|\?(?P<v2>\w+))", re.I)


def parse_order_by(text: str) -> OrderBy | None:
    """The final ORDER BY of a query, or ``None`` when the query has none, orders by
    an expression, or has a LIMIT or OFFSET (its rows could not be merged).

    >>> parse_order_by("SELECT ?a WHERE { } ORDER BY DESC(?b) ?a")
    [('b', True), ('a', False)]
    >>> parse_order_by("SELECT ?a WHERE { } ORDER BY STR(?a)") is None
    True
    """
    body = _strip_comments(text)
    match = _ORDER_BY.search(body)
    if match is None:
        return None
    keys = match.group("keys")
    order: OrderBy = []
    pos = 0
    while pos < len(keys):
        step = _KEY.match(keys, pos)
        if step is None:
            return None
        direction = (step.group("dir") or "").upper()
        order.append((step.group("v1") or step.group("v2"), direction == "DESC"))
        pos = step.end()
        while pos < len(keys) and keys[pos].isspace():
            pos += 1
    return order or None


def order_of(text: str, columns: Sequence[str]) -> OrderBy | None:
    """:func:`parse_order_by`, when every variable it orders by is a column of the
    result (a query may order by a variable it does not project: then only the
    engine knows the order)."""
    order = parse_order_by(text)
    if order is None or any(v not in columns for v, _ in order):
        return None
    return order


def _strip_comments(text: str) -> str:
    # Comments start with # outside IRIs and strings; canned queries keep # out of
    # their strings, and IRIs end before it is read here (we only need the tail).
    lines = []
    for line in text.splitlines():
        cut = _comment_start(line)
        lines.append(line if cut < 0 else line[:cut])
    return "\n".join(lines).rstrip()


def _comment_start(line: str) -> int:
    in_iri = in_string = False
    quote = ""
    for i, ch in enumerate(line):
        if in_string:
            if ch == quote and line[i - 1] != "\\":
                in_string = False
        elif in_iri:
            in_iri = ch != ">"
        elif ch in "\"'":
            in_string, quote = True, ch
        elif ch == "<" and i + 1 < len(line) and not line[i + 1].isspace():
            in_iri = True
        elif ch == "#":
            return i
    return -1


def term_key(term: Identifier | None) -> tuple[object, ...]:
    """Sort key of one term in SPARQL's ascending order (see the module docstring)."""
    if term is None:
        return (0,)
    if isinstance(term, BNode):
        return (1, str(term))
    if isinstance(term, URIRef):
        return (2, str(term))
    if isinstance(term, Literal):
        datatype = str(term.datatype) if term.datatype is not None else _XSD + "string"
        if datatype in _NUMERIC:
            try:
                number = Decimal(str(term).strip())
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return (3, 0, number, str(term))
        if datatype in _STRINGS:
            return (3, 1, str(term), term.language or "")
        return (3, 2, datatype, str(term))
    return (4, str(term))


def sort_rows(
    rows: Sequence[dict[str, Identifier]], columns: Sequence[str], order: OrderBy
) -> list[dict[str, Identifier]]:
    """``rows`` in ``order``, ties broken by every column in turn."""

    def key(row: dict[str, Identifier]) -> tuple[object, ...]:
        return tuple(term_key(row.get(c)) for c in columns)

    result = sorted(rows, key=key)
    for variable, descending in reversed(order):

        def by(row: dict[str, Identifier], v: str = variable) -> tuple[object, ...]:
            return term_key(row.get(v))

        result.sort(key=by, reverse=descending)
    return result
