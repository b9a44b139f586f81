"""Reading Turtle files, with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import CouldNotRun, RdfSyntaxError

if TYPE_CHECKING:
    from rdflib import Graph


def parse_turtle(path: Path, graph: Graph | None = None) -> Graph:
    """Parse a Turtle file into ``graph`` (a new one by default).

    :raises RdfSyntaxError: the file is not valid Turtle (names file and line).
    :raises CouldNotRun: the file cannot be read.
    """
    from rdflib import Graph
    from rdflib.plugins.parsers.notation3 import BadSyntax

    path = Path(path)
    target = graph if graph is not None else Graph()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        target.parse(data=data, format="turtle", publicID=path.resolve().as_uri())
    except BadSyntax as exc:
        # rdflib counts the newlines before the error; people count from 1.
        line = int(getattr(exc, "lines", 0)) + 1
        why = str(getattr(exc, "_why", "")) or str(exc).splitlines()[-1]
        raise RdfSyntaxError(str(path), line, why) from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RdfSyntaxError(str(path), line, "not UTF-8 text") from exc
    except Exception as exc:  # rdflib raises plain exceptions for some bad input
        raise RdfSyntaxError(str(path), None, f"{type(exc).__name__}: {exc}") from exc
    return target


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
