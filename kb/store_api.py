"""What the library needs from an RDF backend, shared by the embedded and remote stores.

:class:`Store` is the protocol, :class:`QueryResult` the rows both backends
return, and :func:`_reject_updates` the guard both run before a query is
executed or sent. It sits below :mod:`kb.store` and :mod:`kb.remote` so that
neither imports the other for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from rdflib.term import Identifier

from kb.errors import UsageError


@dataclass(frozen=True)
class QueryResult:
    """Rows of a SELECT query: ``columns`` in projection order, each row a dict of rdflib terms.

    A variable left unbound in a row is absent from that row's dict.
    """

    columns: list[str]
    rows: list[dict[str, Identifier]] = field(default_factory=list)

    def values(self, column: str) -> list[Identifier | None]:
        """The column as a list, with ``None`` where unbound."""
        return [row.get(column) for row in self.rows]


class Store(Protocol):
    """What the rest of the library needs from an RDF backend."""

    def select(self, query: str) -> QueryResult: ...

    def ask(self, query: str) -> bool: ...

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]: ...


#: Query forms ekb runs; anything else (INSERT, DELETE, LOAD, CLEAR, WITH ...) is an update.
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

_UPDATES_REFUSED = (
    "updates are refused: ekb runs read-only queries (SELECT, ASK, CONSTRUCT, DESCRIBE)"
)

# SPARQL 1.1, section 19.2: \uXXXX and \UXXXXXXXX are replaced *before* the text
# is parsed, anywhere in it, so "\u0049NSERT" is the keyword INSERT.
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# The tokens of the grammar that can hide a keyword-like word: long and short
# strings, IRIs, comments, variables and prefixed names; then bare words.
_TOKEN = re.compile(
    r'''(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|#[^\n\r]*"
    r"|[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)"
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<pname>(?:[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?:[^\s{}()\[\]<>,;\"'#]*)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<other>\S)",
    re.DOTALL,
)


def unescape_codepoints(text: str) -> str:
    """The query text as a SPARQL parser sees it: ``\\uXXXX`` escapes replaced."""

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group()

    return _CODEPOINT_ESCAPE.sub(char, text)


def _tokens(text: str) -> list[tuple[str, str]]:
    return [
        (m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text) if m.lastgroup != "skip"
    ]


def query_form(text: str, *, allow_service: bool = False) -> str:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``: the form of a read-only query.

    Read as a SPARQL parser reads it: code-point escapes are replaced first,
    then the text is split into the grammar's tokens (strings, IRIs, comments,
    variables and prefixed names cannot hide a keyword), the prologue
    (``BASE`` / ``PREFIX`` declarations) is skipped, and the next keyword is
    the form, as in the grammar's first rule (``Query ::= Prologue (SelectQuery
    | ConstructQuery | DescribeQuery | AskQuery) ValuesClause``). An update
    starts with another keyword (``INSERT``, ``DELETE``, ``LOAD``, ``WITH``...).

    ``SERVICE`` makes the store send a request to any URL the query names; it
    is refused unless ``allow_service``.

    :raises UsageError: an update, a ``SERVICE`` clause, or no query at all.
    """
    tokens = _tokens(unescape_codepoints(text))
    i = 0
    while i < len(tokens) and tokens[i][0] == "word" and tokens[i][1].upper() in ("BASE", "PREFIX"):
        i += 3 if tokens[i][1].upper() == "PREFIX" else 2
    if i >= len(tokens):
        raise UsageError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    kind, word = tokens[i]
    form = word.upper() if kind == "word" else ""
    if form not in QUERY_FORMS:
        if kind == "word" and form in _UPDATE_KEYWORDS:
            raise UsageError(_UPDATES_REFUSED)
        raise UsageError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    if not allow_service and any(k == "word" and w.upper() == "SERVICE" for k, w in tokens):
        raise UsageError(
            "SERVICE is refused: it makes the store fetch data from another server"
            " (ekb sparql --allow-service permits it)"
        )
    # An update request may chain operations with ";": one that is a query
    # never has a top-level update keyword after its form.
    if any(k == "word" and w.upper() in _UPDATE_ONLY for k, w in tokens[i:]):
        raise UsageError(_UPDATES_REFUSED)
    return form


_UPDATE_KEYWORDS = {
    "INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH",
}  # fmt: skip
# Keywords that exist only in the update grammar (never inside a query).
_UPDATE_ONLY = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "MOVE", "COPY"}


def _reject_updates(query: str, allow_service: bool = False) -> None:
    """Raise :class:`UsageError` unless ``query`` is a read-only query (see :func:`query_form`)."""
    query_form(query, allow_service=allow_service)


__all__ = [
    "QUERY_FORMS",
    "QueryResult",
    "Store",
    "_reject_updates",
    "query_form",
    "unescape_codepoints",
]
