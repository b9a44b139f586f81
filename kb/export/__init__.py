"""Exports for systematic reviews: one module per format, registered in one table.

:data:`FORMATS` maps a format name to the module that writes it. A module
provides ``render(data_source, *, fmt, output) -> Rendered``; adding a format is
adding a module and one line here. :func:`export` is the one call the command
line makes: select the studies, render, write.

Every format is deterministic: the same knowledge base gives the same bytes on
every run (sorted rows, no timestamps, fixed zip entry dates).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import UsageError

#: format name -> (module, one-line description, writes a folder?)
FORMATS: dict[str, tuple[str, str, bool]] = {
    "csv": (
        "kb.export.csv_export",
        "a folder of CSV tables (characteristics, arms, outcomes, comparisons, safety, claims, "
        "sources)",
        True,
    ),
    "xlsx": ("kb.export.xlsx", "one Excel workbook, one sheet per table", False),
    "ris": ("kb.export.ris", "RIS references, one record per source", False),
    "fhir": (
        "kb.export.fhir",
        "FHIR R5 Bundle of Citation, EvidenceVariable and Evidence (JSON)",
        False,
    ),
    "revman": (
        "kb.export.revman",
        "two-group study data for RevMan (CSV); single-arm studies are skipped and listed",
        False,
    ),
    "metafor": ("kb.export.metafor", "CSV with R metafor escalc() column names", False),
    "sof": (
        "kb.export.sof",
        "GRADE-style summary of findings (Markdown; HTML when -o ends in .html)",
        False,
    ),
    "ttl": ("kb.export.rdf", "RDF Turtle", False),
    "nt": ("kb.export.rdf", "RDF N-Triples", False),
    "jsonld": ("kb.export.rdf", "RDF JSON-LD", False),
    "trig": ("kb.export.rdf", "RDF TriG, one named graph per study", False),
}


@dataclass
class Rendered:
    """What a format produced: file contents by name, and messages for the user.

    A single-file format has one entry under the name ``""``; a folder format
    names each file. ``messages`` go to stderr (for example a summary of what RevMan skipped,
    one line per reason); ``details`` too, when asked for (``ekb export -v``: every item).
    """

    files: dict[str, bytes]
    folder: bool = False
    messages: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


def format_names() -> list[str]:
    return sorted(FORMATS)


def render(fmt: str, store: Any, selection: Any, *, output: Path | None = None) -> Rendered:
    """Render ``selection`` from ``store`` in format ``fmt``.

    :raises UsageError: an unknown format.
    """
    if fmt not in FORMATS:
        from kb.text import did_you_mean

        raise UsageError(
            f"unknown export format {fmt!r}.{did_you_mean(fmt, FORMATS)} Formats: "
            f"{', '.join(format_names())}"
        )
    module = importlib.import_module(FORMATS[fmt][0])
    rendered: Rendered = module.render(store, selection, fmt=fmt, output=output)
    return rendered


def write(rendered: Rendered, output: Path | None) -> list[Path]:
    """Write a rendering atomically: a folder format into ``output`` (a folder), a file
    format to ``output``. Returns the files written (none when ``output`` is ``None``:
    the caller prints the single file to stdout).

    :raises UsageError: a folder format without ``output``, or ``output`` is an existing file.
    """
    from kb.fileio import atomic_write_bytes

    if output is None:
        if rendered.folder:
            raise UsageError("this format writes a folder of files: give it with -o DIR")
        return []
    if rendered.folder:
        if output.exists() and not output.is_dir():
            raise UsageError(f"{output} is a file; this format writes a folder of files")
        written = []
        for name in sorted(rendered.files):
            path = output / name
            atomic_write_bytes(path, rendered.files[name])
            written.append(path)
        return written
    if output.is_dir():
        raise UsageError(f"{output} is a folder; this format writes one file")
    atomic_write_bytes(output, rendered.files[""])
    return [output]


def export(
    fmt: str,
    *,
    kb_dir: Path | None = None,
    endpoint: str | None = None,
    timeout: float = 30.0,
    study_ids: tuple[str, ...] | list[str] = (),
    condition: str | None = None,
    intervention: str | None = None,
    outcome: str | None = None,
    output: Path | None = None,
    review: str | None = None,
) -> Rendered:
    """Select studies, render them in ``fmt`` and write to ``output`` (see :func:`write`).

    :raises UsageError: unknown format, unknown study id, review or concept, or a folder format
        without ``-o``.
    :raises CheckFailed: no study matches the filters.
    :raises CouldNotRun: the knowledge base or endpoint cannot be read.
    """
    if fmt not in FORMATS:
        render(fmt, None, None)  # raises the UsageError with a suggestion
    if FORMATS[fmt][2] and output is None:
        raise UsageError(f"{fmt} writes a folder of files: give it with -o DIR")
    from kb.export.tables import select_studies
    from kb.store import open_store

    store: Any = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    if endpoint is None:
        from kb.export.tables.folder import FolderStore, folder_files

        # The embedded store holds exactly these files: the tables read them (seconds)
        # rather than the records back out of an on-disk store (minutes at 10,000).
        store = FolderStore(store, folder_files(kb_dir))
    selection = select_studies(
        store,
        study_ids=tuple(study_ids),
        condition=condition,
        intervention=intervention,
        outcome=outcome,
        review=review,
    )
    rendered = render(fmt, store, selection, output=output)
    write(rendered, output)
    return rendered
