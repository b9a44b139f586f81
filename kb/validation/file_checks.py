"""Checks made in Python: one study per file, its name, and facts across files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb.namespaces import shorten
from kb.validation.model import _EKB, _RES_STUDY, FILE_SHAPE, FileReport, Finding

if TYPE_CHECKING:
    pass


def _file_report(
    findings: list[Finding],
    studies: list[str],
    blank_subjects: int,
    related: list[tuple[str, str]],
    display: str,
    digest: str,
    path: Path,
) -> FileReport:
    """A file's report: its SHACL findings plus the checks made on the file itself."""
    findings = findings + _file_findings(studies, path)
    if blank_subjects:
        findings.append(
            Finding(
                "Violation",
                "",
                None,
                f"{blank_subjects} blank node(s) as subjects: give every record an IRI",
                FILE_SHAPE,
                None,
                None,
            )
        )
    return FileReport(
        path=display,
        sha256=digest,
        findings=tuple(sorted(set(findings), key=Finding.sort_key)),
        studies=tuple(studies),
        related=tuple(related),
    )


def _file_findings(studies: list[str], path: Path) -> list[Finding]:
    """Checks SHACL cannot make on one graph: exactly one study, named after its file."""
    if not studies:
        return [
            Finding("Violation", "", None, "the file declares no ekb:Study", FILE_SHAPE, None, None)
        ]
    if len(studies) > 1:
        return [
            Finding(
                "Violation",
                s,
                None,
                f"the file declares {len(studies)} studies; keep one study per file",
                FILE_SHAPE,
                None,
                None,
            )
            for s in studies
        ]
    (study,) = studies
    if study.startswith(_RES_STUDY):
        expected = study[len(_RES_STUDY) :] + ".ttl"
        if path.name != expected:
            return [
                Finding(
                    "Warning",
                    study,
                    None,
                    f"the file of this study should be named {expected}",
                    FILE_SHAPE,
                    None,
                    path.name,
                )
            ]
    return []


def _cross_file_findings(reports: Sequence[FileReport], kb_dir: Path | None) -> list[FileReport]:
    """Related studies must exist; a study id must not be declared by two files."""
    declared: dict[str, list[str]] = {}
    for report in reports:
        for study in report.studies:
            declared.setdefault(study, []).append(report.path)
    out: list[FileReport] = []
    for report in reports:
        extra: list[Finding] = []
        for study in report.studies:
            others = [p for p in declared[study] if p != report.path]
            if others:
                extra.append(
                    Finding(
                        "Violation",
                        study,
                        None,
                        f"this study is also declared in {', '.join(sorted(others))}",
                        FILE_SHAPE,
                        None,
                        None,
                    )
                )
        for study, target in report.related:
            if target in declared:
                continue
            local = target[len(_RES_STUDY) :] if target.startswith(_RES_STUDY) else None
            if local and kb_dir is not None and (kb_dir / "studies" / f"{local}.ttl").is_file():
                continue
            extra.append(
                Finding(
                    "Violation",
                    study,
                    _EKB + "possiblyRelatedTo",
                    f"the related study {shorten(target)} is not in the knowledge base",
                    FILE_SHAPE,
                    None,
                    target,
                )
            )
        if extra:
            findings = tuple(sorted(set(report.findings) | set(extra), key=Finding.sort_key))
            report = replace(report, findings=findings)
        out.append(report)
    return out
