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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.tables import Cell, extract, is_number

#: First characters that make a spreadsheet treat a text cell as a formula (OWASP list).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula.

    >>> neutralise_formula("=HYPERLINK(\\"x\\")")
    '\\'=HYPERLINK("x")'
    >>> neutralise_formula("low-dose IL-2")
    'low-dose IL-2'
    """
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell_text(value: Cell) -> str:
    """One cell as CSV text: numbers stay numbers (``-50.3``), text is protected."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return str(value)
    return neutralise_formula(str(value))


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV file with a header row and one line per row, deterministic."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell_text(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def render(store: Any, selection: Any, *, fmt: str = "csv", output: Path | None = None) -> Rendered:
    data = extract(store, selection)
    files = {f"{t.name}.csv": csv_bytes(t.columns, t.rows) for t in data.tables()}
    return Rendered(files, folder=True)
