"""CSV: a folder with one file per shared table (``characteristics.csv``, ``arms.csv``,
``outcomes.csv``, ``comparisons.csv``, ``safety.csv``, ``claims.csv``, ``sources.csv``).

Also the CSV writer the other tabular formats use (:func:`csv_bytes`): UTF-8,
``\\n`` line ends, empty cell for unknown, ``true``/``false`` for truth values,
numbers as numbers, and text that a spreadsheet would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.tables import Cell, extract, is_number

#: First characters that make a spreadsheet treat a text cell as a formula (OWASP list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula.

    Spreadsheets skip leading spaces and line breaks before looking for a
    formula, so those do not hide one. Line breaks become ``\\n`` (a bare
    ``\\r`` would end the record for some readers); the cell is then quoted.

    >>> neutralise_formula("=HYPERLINK(\\"x\\")")
    '\\'=HYPERLINK("x")'
    >>> neutralise_formula(" @SUM(A1)")
    "' @SUM(A1)"
    >>> neutralise_formula("low-dose IL-2")
    'low-dose IL-2'
    """
    text = normalise_line_breaks(text)
    stripped = text.lstrip(" \n\u00a0")
    if text.startswith(FORMULA_TRIGGERS) or stripped.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def normalise_line_breaks(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` (and Unicode line separators) as ``\\n``."""
    return (
        text.replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\u2028", "\n")
        .replace("\u2029", "\n")
        .replace("\x85", "\n")
    )


def cell_text(value: Cell) -> str:
    """One cell as CSV text: numbers stay numbers (``-50.3``), text is protected."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return str(value)
    return neutralise_formula(str(value))


#: A text cell starting with one of these may need :func:`neutralise_formula`.
_MAYBE_FORMULA = frozenset(FORMULA_TRIGGERS) | {" ", "\n", "\u00a0"}
#: A text cell holding one of these needs :func:`normalise_line_breaks`.
_LINE_BREAK = re.compile("[\r\u2028\u2029\x85]")


def _fast_cell_text(value: Cell) -> str:
    """:func:`cell_text`, quicker for the common cell (text that needs no change): an
    export writes millions of cells at 10,000 studies."""
    if type(value) is str and (
        not value or (value[0] not in _MAYBE_FORMULA and _LINE_BREAK.search(value) is None)
    ):
        return value
    return cell_text(value)


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV file with a header row and one line per row, deterministic."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    text = _fast_cell_text
    writer.writerows([text(row.get(c)) for c in columns] for row in rows)
    return buf.getvalue().encode("utf-8")


def render(store: Any, selection: Any, *, fmt: str = "csv", output: Path | None = None) -> Rendered:
    data = extract(store, selection)
    files = {f"{t.name}.csv": csv_bytes(t.columns, t.rows) for t in data.tables()}
    return Rendered(files, folder=True)
