"""The tables every review export is built from, read once from the store.

:func:`select_studies` turns the command line's filters (``--study``,
``--condition``, ``--intervention``, ``--outcome``) into a :class:`Selection`;
:func:`extract` reads the selected studies and returns an :class:`ExportData`
holding the shared tables (characteristics, arms, outcomes in long format,
comparisons, safety, claims, sources). Every row of every table carries its
caveats (design, single arm, open label, model-based, quality flag, source
type and lower confidence) and its provenance (source, source type, DOI/URL,
locator, printed text), so no export can drop them by accident.

The store is used only through :class:`kb.store.Store` (``select``), so the
same exports run on the embedded store and on a remote SPARQL endpoint. Rows
are sorted; nothing depends on the order a store returns solutions in.

The package, one module per step: :mod:`~kb.export.tables.model` (cells, rows, tables, the
selection), :mod:`~kb.export.tables.selection` (filters to studies),
:mod:`~kb.export.tables.reading` (one read from the store), :mod:`~kb.export.tables.columns`,
:mod:`~kb.export.tables.provenance` (caveats and provenance of a record) and
:mod:`~kb.export.tables.build` (the tables). This module holds the public entry points.
"""

from __future__ import annotations

from kb.export.tables.build import ExportData, extract
from kb.export.tables.columns import (
    ARMS_COLUMNS,
    CHARACTERISTICS_COLUMNS,
    CLAIMS_COLUMNS,
    COMPARISONS_COLUMNS,
    OUTCOMES_COLUMNS,
    SAFETY_COLUMNS,
    SOURCES_COLUMNS,
)
from kb.export.tables.model import (
    CAVEAT_SEPARATOR,
    LIST_SEPARATOR,
    Cell,
    Row,
    Selection,
    Table,
    is_number,
    local_key,
    resource_base,
    study_iri_for,
)
from kb.export.tables.reading import Graph, py
from kb.export.tables.selection import select_studies, selection_for_all

__all__ = [
    "ARMS_COLUMNS",
    "CAVEAT_SEPARATOR",
    "CHARACTERISTICS_COLUMNS",
    "CLAIMS_COLUMNS",
    "COMPARISONS_COLUMNS",
    "LIST_SEPARATOR",
    "OUTCOMES_COLUMNS",
    "SAFETY_COLUMNS",
    "SOURCES_COLUMNS",
    "Cell",
    "ExportData",
    "Graph",
    "Row",
    "Selection",
    "Table",
    "extract",
    "is_number",
    "local_key",
    "py",
    "resource_base",
    "select_studies",
    "selection_for_all",
    "study_iri_for",
]
