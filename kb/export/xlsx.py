"""XLSX: one workbook, one sheet per shared table, a frozen bold header and widths
that fit the content (capped), numbers stored as numbers.

Text that begins with ``=``, ``+``, ``-`` or ``@`` is stored as a string cell with
Excel's quote prefix, so it shows as typed and never runs as a formula. The
workbook is byte-for-byte reproducible: document properties carry a fixed date
and every zip entry a fixed timestamp.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.csv_export import FORMULA_TRIGGERS
from kb.export.tables import extract, is_number

#: The date written into the workbook's properties and zip entries (no clock is read).
FIXED_DATE = dt.datetime(2000, 1, 1, 0, 0, 0)
MAX_WIDTH = 60


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with every entry dated :data:`FIXED_DATE`, in the same order."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into dcterms:modified; pin it.
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            dst.writestr(fixed, content)
    return out.getvalue()


def workbook_bytes(tables: list[Any]) -> bytes:
    """A workbook with one sheet per :class:`kb.export.tables.Table`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "evidence-kb"
    wb.properties.lastModifiedBy = "evidence-kb"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(title=table.name[:31])
        widths = [len(c) for c in table.columns]
        for col, name in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=col, value=name)
            cell.font = bold
        for r, row in enumerate(table.rows, start=2):
            for col, name in enumerate(table.columns, start=1):
                value = row.get(name)
                if value is None:
                    continue
                cell = ws.cell(row=r, column=col)
                if isinstance(value, bool) or is_number(value):
                    cell.value = value
                    text = str(value)
                else:
                    text = str(value)
                    cell.value = text
                    if text.startswith(FORMULA_TRIGGERS):
                        # Stored as text, shown as typed; Excel never evaluates it.
                        cell.data_type = "s"
                        cell.quotePrefix = True
                widths[col - 1] = max(widths[col - 1], min(len(text), MAX_WIDTH))
        ws.freeze_panes = "A2"
        for col, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(col)].width = min(width, MAX_WIDTH) + 2
        if table.rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip(buf.getvalue())


def render(
    store: Any, selection: Any, *, fmt: str = "xlsx", output: Path | None = None
) -> Rendered:
    data = extract(store, selection)
    return Rendered({"": workbook_bytes(data.tables())})
