"""Writers for query results: table, csv, tsv, json, jsonl, md.

What each format does with values (the same for every query):

- ``json``/``jsonl``: every column on every row, ``null`` where unbound; numbers
  (xsd:integer, decimal, double, ... ) as JSON numbers, booleans as ``true``/``false``,
  everything else (strings, dates, years) as strings; IRIs in full.
- ``csv``/``tsv``: a header row, then one line per row; the lexical form of each
  value (``-50.3`` stays ``-50.3``), empty where unbound; IRIs in full. Text that
  begins with ``=``, ``+``, ``-`` or ``@`` is written as it is: guarding
  spreadsheets against formulas is the job of the xlsx/csv exports, not of a
  data pipe. TSV escapes tab, newline, carriage return and backslash inside a
  value as ``\\t``, ``\\n``, ``\\r`` and ``\\\\`` (the "linear TSV" convention).
- ``table`` and ``md``: for people; IRIs shortened (``study/x/arm/a``,
  ``agent:belimumab``). ``table`` is drawn with rich on a terminal and as
  plain aligned columns when piped.

Every writer is deterministic: the rows come in the query's ``ORDER BY`` order and
the columns in its projection order.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import UsageError
from kb.fileio import atomic_write_text
from kb.namespaces import XSD_INTEGER_TYPES, shorten

if TYPE_CHECKING:
    from rdflib.term import Identifier

    from kb.store import QueryResult

FORMATS: tuple[str, ...] = ("table", "csv", "tsv", "json", "jsonl", "md")

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = XSD_INTEGER_TYPES
_FLOAT_TYPES = {_XSD + "decimal", _XSD + "double", _XSD + "float"}
_BOOLEAN = _XSD + "boolean"


def _kind(term: Identifier) -> str:
    # rdflib classes are checked by name so this module does not import rdflib.
    return type(term).__name__


def plain_value(term: Identifier | None) -> bool | int | float | str | None:
    """The value of a term as plain JSON data (see the module docstring).

    >>> from rdflib import Literal, URIRef
    >>> plain_value(Literal("-50.3", datatype=URIRef(_XSD + "decimal")))
    -50.3
    >>> plain_value(Literal("7", datatype=URIRef(_XSD + "integer")))
    7
    """
    if term is None:
        return None
    if _kind(term) == "Literal":
        datatype = str(term.datatype) if term.datatype is not None else None  # type: ignore[attr-defined]
        text = str(term)
        try:
            if datatype in _INTEGER_TYPES:
                return int(text)
            if datatype in _FLOAT_TYPES:
                number = float(text)
                return number if math.isfinite(number) else text
        except ValueError:
            return text  # an ill-typed literal keeps its text rather than failing the whole output
        if datatype == _BOOLEAN:
            return text.strip().lower() in ("true", "1")
        return text
    if _kind(term) == "BNode":
        return f"_:{term}"
    return str(term)


def text_value(term: Identifier | None, *, short_iris: bool = False) -> str:
    """The text of a term for csv/tsv/table/md: lexical form, empty when unbound."""
    if term is None:
        return ""
    kind = _kind(term)
    if kind == "URIRef":
        return shorten(str(term)) if short_iris else str(term)
    if kind == "BNode":
        return f"_:{term}"
    if kind == "Literal" and term.datatype is not None and str(term.datatype) == _BOOLEAN:  # type: ignore[attr-defined]
        return "true" if plain_value(term) else "false"
    return str(term)


def _rows_as_text(result: QueryResult, *, short_iris: bool) -> list[list[str]]:
    return [
        [text_value(row.get(c), short_iris=short_iris) for c in result.columns]
        for row in result.rows
    ]


def to_json(result: QueryResult) -> str:
    """A JSON list of objects, one per row, keys in column order."""
    objects = [{c: plain_value(row.get(c)) for c in result.columns} for row in result.rows]
    return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"


def to_jsonl(result: QueryResult) -> str:
    """One compact JSON object per line."""
    return "".join(
        json.dumps({c: plain_value(row.get(c)) for c in result.columns}, ensure_ascii=False) + "\n"
        for row in result.rows
    )


def to_csv(result: QueryResult) -> str:
    """Comma-separated values with a header row (RFC 4180 quoting, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows(_rows_as_text(result, short_iris=False))
    return buffer.getvalue()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def to_tsv(result: QueryResult) -> str:
    """Tab-separated values with a header row; tabs and line breaks in values escaped."""
    lines = ["\t".join(c.translate(_TSV_ESCAPES) for c in result.columns)]
    for row in _rows_as_text(result, short_iris=False):
        lines.append("\t".join(v.translate(_TSV_ESCAPES) for v in row))
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "<br>").replace("\n", "<br>")
    )


def to_markdown(result: QueryResult) -> str:
    """A GitHub-flavoured Markdown table; IRIs shortened."""
    lines = [
        "| " + " | ".join(_md_cell(c) for c in result.columns) + " |",
        "|" + "|".join("---" for _ in result.columns) + "|",
    ]
    for row in _rows_as_text(result, short_iris=True):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split()) if ("\n" in text or "\r" in text or "\t" in text) else text


def to_plain_table(result: QueryResult) -> str:
    """Aligned columns separated by two spaces, a rule under the header; IRIs shortened."""
    header = list(result.columns)
    rows = [[_one_line(v) for v in row] for row in _rows_as_text(result, short_iris=True)]
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(header), line(["-" * w for w in widths])]
    out.extend(line(row) for row in rows)
    return "\n".join(out) + "\n"


#: Narrowest a column may be drawn before the table turns into records (see below).
_MIN_CELL = 8


def table_fits(result: QueryResult, width: int) -> bool:
    """Whether a table of ``result`` can be drawn in ``width`` columns with every header whole.

    Each column needs its header's width (a header is never split) or, where cells are longer,
    :data:`_MIN_CELL` (cells wrap), plus rich's borders and padding (3 per column, 1 at the edge).
    """
    rows = _rows_as_text(result, short_iris=True)
    needed = 1
    for i, column in enumerate(result.columns):
        longest_cell = max((len(r[i]) for r in rows), default=0)
        needed += max(len(column), min(longest_cell, _MIN_CELL)) + 3
    return needed <= width


def print_rich_table(result: QueryResult, file: Any = None) -> None:
    """Draw the result on a terminal: a rich table when it fits the terminal's width, else one
    record per row (``column  value`` lines, as ``psql``'s expanded display), so that a wide
    result on a narrow terminal stays readable instead of splitting headers mid-word."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file or sys.stdout)
    rows = _rows_as_text(result, short_iris=True)
    count = f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    if not table_fits(result, console.width):
        label_width = max((len(c) for c in result.columns), default=0)
        for number, row in enumerate(rows, 1):
            console.rule(f"record {number}", align="left", style="dim")
            record = Table.grid(padding=(0, 2))
            record.add_column(style="bold", no_wrap=True, min_width=label_width)
            record.add_column(overflow="fold")
            for column, value in zip(result.columns, row, strict=True):
                record.add_row(column, value)
            console.print(record)
        console.print(count, style="dim")
        return
    table = Table(show_lines=False, header_style="bold")
    for column in result.columns:
        # min_width: a header is never split; cells wrap at spaces, long words fold.
        table.add_column(column, overflow="fold", min_width=len(column))
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(count, style="dim")


_RENDERERS = {
    "table": to_plain_table,
    "csv": to_csv,
    "tsv": to_tsv,
    "json": to_json,
    "jsonl": to_jsonl,
    "md": to_markdown,
}


def render(result: QueryResult, fmt: str) -> str:
    """The result as text in ``fmt`` (``table`` gives the plain aligned form).

    :raises UsageError: an unknown format.
    """
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(result)


def write_result(result: QueryResult, fmt: str, output: Path | None = None) -> None:
    """Write to ``output`` (atomically) or to standard output.

    ``table`` on an interactive terminal is drawn with rich; everywhere else the
    text of :func:`render` is written.
    """
    if output is None and fmt == "table" and sys.stdout.isatty():
        print_rich_table(result)
        return
    text = render(result, fmt)
    if output is not None:
        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
