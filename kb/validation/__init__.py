"""Check study files against the SHACL shapes (``ontology/shapes.ttl``).

One study file is validated at a time, together with the vocabularies (parsed
once and reused), so a knowledge base of ten thousand studies never has to sit
in one graph, and a file whose bytes have not changed can be answered from a
cache keyed by its hash (see :class:`StudyValidator`). Facts that span files
(``ekb:possiblyRelatedTo`` targets, one file per study id) are checked in a
separate cheap pass over what the per-file runs collected.

Two SHACL engines give the same findings (the tests check it on every shape
fixture and on the shipped knowledge base): pySHACL, the reference, one file
at a time; and pySHACL-turbo (a Rust engine with pySHACL's API), which checks
many files in one run. Files are batched only when none of them says anything
about another's records, so each file's findings are those it would get alone.
``engine="auto"`` (the default) uses turbo when it is installed and at least
:data:`AUTO_TURBO_MIN_FILES` files need checking, pySHACL otherwise.

The human report is built from the engine's report *graph* (focus node, path,
severity, message, source shape, value), never from its text.

Library use::

    from kb.validation import validate_kb
    report = validate_kb()            # the shipped knowledge base
    report.conforms, report.counts()  # (True, {'Violation': 0, ...})

One module per step: :mod:`~kb.validation.model` (findings and reports),
:mod:`~kb.validation.turtle` (reading files), :mod:`~kb.validation.validator`
(the per-file validator), :mod:`~kb.validation.turbo` (batched runs),
:mod:`~kb.validation.shacl_report` (shapes in, report graph out),
:mod:`~kb.validation.file_checks` (checks made in Python),
:mod:`~kb.validation.cache` (the on-disk cache), :mod:`~kb.validation.run`
(the entry points) and :mod:`~kb.validation.text` (the text report). The names
below are the public entry points; import them from ``kb.validation``.
"""

from __future__ import annotations

from kb.validation.cache import DISK_CACHE_NAME, DiskCache, open_disk_cache
from kb.validation.model import FILE_SHAPE, SEVERITIES, FileReport, Finding, ValidationReport
from kb.validation.run import (
    ProgressCallback,
    study_files_in,
    validate_files,
    validate_kb,
    validate_paths,
)
from kb.validation.text import format_text
from kb.validation.turbo import _independent_groups, _ParsedFile, turbo_available
from kb.validation.turtle import parse_turtle
from kb.validation.validator import (
    AUTO_TURBO_MIN_FILES,
    ENGINES,
    TURBO_BATCH_SIZE,
    StudyValidator,
)

__all__ = [
    "AUTO_TURBO_MIN_FILES",
    "DISK_CACHE_NAME",
    "ENGINES",
    "FILE_SHAPE",
    "SEVERITIES",
    "TURBO_BATCH_SIZE",
    "DiskCache",
    "FileReport",
    "Finding",
    "ProgressCallback",
    "StudyValidator",
    "ValidationReport",
    "_ParsedFile",
    "_independent_groups",
    "format_text",
    "open_disk_cache",
    "parse_turtle",
    "study_files_in",
    "turbo_available",
    "validate_files",
    "validate_kb",
    "validate_paths",
]
