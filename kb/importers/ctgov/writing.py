"""Importing into a knowledge base: validating and writing study files, and the report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths as kb_paths
from kb.errors import CouldNotRun, KbError
from kb.importers.ctgov.base import ImportedStudy
from kb.importers.ctgov.concepts import ConceptIndex
from kb.importers.ctgov.mapper import map_record
from kb.importers.ctgov.reading import RecordRef, input_files, read_records
from kb.importers.ctgov.schema import not_readable, structure_problems

if TYPE_CHECKING:
    from rdflib import Graph


@dataclass
class StudyOutcome:
    """What happened to one study of an import."""

    study_id: str
    nct_id: str
    origin: str
    path: Path
    #: "written", "updated", "unchanged", "would write", "would update", "invalid", "exists"
    status: str
    counts: dict[str, int]
    messages: list[str] = field(default_factory=list)
    warnings: int = 0
    #: The importer's own warnings (results groups matched to no arm), for the summary.
    import_warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of :func:`import_ctgov`: one entry per study, plus files that failed."""

    studies: list[StudyOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.failures:
            return 3
        if any(s.status in {"invalid", "exists"} for s in self.studies):
            return 1
        return 0


def _violations(validator: Any, text: str, study_id: str, display: str) -> tuple[list[str], int]:
    """Violations (as report lines) and the number of warnings for a study file's text.

    The text is validated as the file it will become (same name, same bytes), so
    file-level checks (one study per file, named after it) apply too.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ekb-import-") as tmp:
        candidate = Path(tmp) / f"{study_id}.ttl"
        candidate.write_text(text, encoding="utf-8")
        report = validator.validate_file(candidate, display)
    lines = [
        "  ".join(part for part in finding.row() if part)
        for finding in report.findings
        if finding.severity == "Violation"
    ]
    return lines, report.count("Warning")


def serialise(graph: Graph, study: ImportedStudy | None = None) -> str:
    """The study file's text: canonical Turtle, the same bytes for the same graph."""
    from kb.turtle_format import canonical_turtle

    header = None
    if study is not None:
        header = (
            f"{study.nct_id}, imported from its ClinicalTrials.gov API v2 record by "
            "`ekb import ctgov`.\nEvery value names its JSON path (ekb:locator); re-import the "
            "record rather than editing this file."
        )
    return canonical_turtle(graph, header=header)


def import_ctgov(
    paths: Iterable[Path],
    kb_dir: Path,
    *,
    dry_run: bool = False,
    keep_going: bool = False,
    force: bool = False,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ClinicalTrials.gov v2 JSON files (or folders of them) into ``<kb_dir>/studies``.

    Every file is read and checked before anything is written: unless ``keep_going``,
    a file that is not JSON or not a study stops the import (nothing written). A study
    whose graph violates the shapes is not written. An existing study file with other
    content is only replaced with ``force``.

    :param progress: called with each record's origin as it is processed.
    :param on_total: called once with the number of records.
    :raises CouldNotRun: a file could not be read or is not a study (without ``keep_going``).
    :raises UsageError: a path does not exist.
    """
    from kb.fileio import atomic_write_text

    report = ImportReport()
    refs: list[RecordRef] = []
    seen: dict[str, str] = {}
    for path in input_files(paths):
        try:
            for ref in read_records(path):
                if ref.nct_id in seen:
                    raise CouldNotRun(
                        f"{ref.origin}: {ref.nct_id} was already read from {seen[ref.nct_id]}"
                    )
                seen[ref.nct_id] = ref.origin
                # Checked with every other file before anything is written: a record the
                # mapper would read only in part never replaces a study file.
                problems = structure_problems(ref.record)
                if problems:
                    raise CouldNotRun(f"{ref.origin}: {ref.nct_id}: {not_readable(problems)}")
                refs.append(ref)
        except CouldNotRun as exc:
            if not keep_going:
                raise
            report.failures.append(str(exc))
    if on_total:
        on_total(len(refs))
    concepts = ConceptIndex.from_kb(kb_dir)
    validator = None
    studies_dir = Path(kb_dir) / "studies"
    for ref in refs:
        if progress:
            progress(ref.origin)
        try:
            imported = map_record(ref.record, concepts)
        except KbError as exc:
            if not keep_going:
                raise CouldNotRun(f"{ref.origin}: {exc}") from exc
            report.failures.append(f"{ref.origin}: {exc}")
            continue
        target = studies_dir / f"{imported.study_id}.ttl"
        outcome = StudyOutcome(
            imported.study_id, imported.nct_id, ref.origin, target, "", imported.counts
        )
        outcome.import_warnings = list(imported.warnings)
        report.studies.append(outcome)
        text = serialise(imported.graph, imported)
        if validate:
            if validator is None:
                from kb.validation import StudyValidator

                validator = StudyValidator(kb_paths.kb_vocab_files(Path(kb_dir)))
            violations, outcome.warnings = _violations(
                validator, text, imported.study_id, f"studies/{target.name}"
            )
            if violations:
                outcome.status = "invalid"
                outcome.messages = violations
                continue
        try:
            existing = target.read_text(encoding="utf-8") if target.is_file() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise CouldNotRun(f"{target}: cannot read the existing study file: {exc}") from exc
        if existing == text:
            outcome.status = "unchanged"
            continue
        if existing is not None and not force and not _is_imported(existing, imported.nct_id):
            # A file this importer did not write (hand-curated, or another study with the
            # same id) is never replaced silently.
            outcome.status = "exists"
            outcome.messages = [
                f"{target} exists and was not written by `ekb import ctgov`; "
                "use --force to replace it"
            ]
            continue
        verb = "update" if existing is not None else "write"
        if dry_run:
            outcome.status = f"would {verb}"
        else:
            atomic_write_text(target, text)
            outcome.status = "updated" if existing is not None else "written"
    return report


def _is_imported(text: str, nct_id: str) -> bool:
    """True when a study file's header says this importer wrote it for ``nct_id``."""
    return text.startswith(f"# {nct_id}, imported from its ClinicalTrials.gov API v2 record")


def iter_counts(counts: dict[str, int]) -> Iterator[str]:
    """``"2 arms"``, ``"28 results"``... in a fixed order, for messages."""
    for key in ("arms", "outcomes", "results", "comparisons", "safety", "baseline"):
        label = {"safety": "safety findings", "baseline": "baseline characteristics"}.get(key, key)
        yield f"{counts.get(key, 0)} {label}"
