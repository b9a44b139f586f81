"""What the library needs from an RDF backend, shared by the embedded and remote stores.

:class:`Store` is the protocol, :class:`QueryResult` the rows both backends
return, and :func:`_reject_updates` the guard both run before a query is
executed or sent. It sits below :mod:`kb.store` and :mod:`kb.remote` so that
neither imports the other for them.
"""

from __future__ import annotations

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


def _reject_updates(query: str) -> None:
    # pyoxigraph's query() refuses updates itself; this gives the clearer message.
    head = " ".join(line for line in query.splitlines() if not line.lstrip().startswith("#"))
    words = {w.upper() for w in head.replace("{", " ").split()}
    if words & {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"}:
        if not words & {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}:
            raise UsageError(
                "updates are refused: ekb runs read-only queries (SELECT, ASK, CONSTRUCT, DESCRIBE)"
            )


__all__ = ["QueryResult", "Store", "_reject_updates"]
