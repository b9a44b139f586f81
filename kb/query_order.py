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
from collections.abc import Callable, Sequence
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
    if type(term) is Literal or isinstance(term, Literal):  # the common case first
        datatype = _XSD + "string" if term.datatype is None else str(term.datatype)
        if datatype in _STRINGS:
            return (3, 1, str(term), term.language or "")
        if datatype in _NUMERIC:
            try:
                number = Decimal(str(term).strip())
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return (3, 0, number, str(term))
        return (3, 2, datatype, str(term))
    if isinstance(term, BNode):
        return (1, str(term))
    if isinstance(term, URIRef):
        return (2, str(term))
    return (4, str(term))


def _row_key(row: dict[str, Identifier], columns: Sequence[str]) -> tuple[object, ...]:
    return tuple(term_key(row.get(c)) for c in columns)


def sort_rows(
    rows: Sequence[dict[str, Identifier]], columns: Sequence[str], order: OrderBy
) -> list[dict[str, Identifier]]:
    """``rows`` in ``order``, ties broken by every column in turn (ascending)."""
    keyed = [(tuple(term_key(r.get(v)) for v, _ in order), r) for r in rows]
    for i in reversed(range(len(order))):
        keyed.sort(key=lambda pair, i=i: pair[0][i], reverse=order[i][1])  # type: ignore[misc]
    result: list[dict[str, Identifier]] = []
    start = 0
    while start < len(keyed):
        end = start + 1
        while end < len(keyed) and keyed[end][0] == keyed[start][0]:
            end += 1
        run = [r for _, r in keyed[start:end]]
        if len(run) > 1:
            run.sort(key=lambda r: _row_key(r, columns))
        result.extend(run)
        start = end
    return result


def row_comparison(
    columns: Sequence[str], order: OrderBy
) -> Callable[[dict[str, Identifier], dict[str, Identifier]], int]:
    """The order of :func:`sort_rows` as a comparison function (for inserting a few
    rows into many sorted ones with :mod:`bisect`)."""

    def compare(a: dict[str, Identifier], b: dict[str, Identifier]) -> int:
        for variable, descending in order:
            ka, kb = term_key(a.get(variable)), term_key(b.get(variable))
            if ka != kb:
                return (1 if ka > kb else -1) * (-1 if descending else 1)  # type: ignore[operator]
        ra, rb = _row_key(a, columns), _row_key(b, columns)
        return 0 if ra == rb else (1 if ra > rb else -1)  # type: ignore[operator]

    return compare
