"""Checks made in Python: one study per file, its name, and facts across files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from kb.namespaces import shorten
from kb.validation.model import _EKB, _RES_STUDY, FILE_SHAPE, FileReport, Finding

if TYPE_CHECKING:
    from collections.abc import Iterable


def _file_report(
    findings: list[Finding],
    studies: list[str],
    blank_subjects: int,
    related: list[tuple[str, str]],
    display: str,
    digest: str,
    path: Path,
    foreign: Sequence[str] = (),
) -> FileReport:
    """A file's report: its SHACL findings plus the checks made on the file itself.

    :param foreign: subjects outside the file's own study (see :func:`foreign_subjects`).
    """
    findings = findings + _file_findings(studies, path)
    findings += [
        Finding(
            "Violation",
            subject,
            None,
            "a study file may only describe its own study's records"
            f" ({shorten(studies[0]) if len(studies) == 1 else 'its study'}/...)",
            FILE_SHAPE,
            None,
            None,
        )
        for subject in foreign
    ]
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
            # A Warning, not a Violation: the related study can be added later (a reviewer adds
            # the pilot's form before the abstract it may share patients with).
            extra.append(
                Finding(
                    "Warning",
                    study,
                    _EKB + "possiblyRelatedTo",
                    f"the related study {shorten(target)} is not (yet) in the knowledge base",
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


def foreign_subjects(
    subjects: Iterable[str], studies: Sequence[str], concepts: Iterable[str]
) -> list[str]:
    """IRI subjects a file describes that are not its own study's.

    A study file describes its study (``.../study/<id>``) and the records under
    it (``.../study/<id>/...``), and may declare concepts of its own (a
    ``skos:Concept`` outside the resource namespace). Anything else — another
    study's enrolled number, a shared vocabulary concept's label — is a claim
    about records the file does not own. Nothing is reported unless the file
    declares exactly one study (other findings say what is wrong then).
    """
    if len(studies) != 1:
        return []
    (own,) = studies
    declared = {c for c in concepts if not c.startswith(_RES_BASE)}
    return sorted(
        s for s in set(subjects) if s != own and not s.startswith(own + "/") and s not in declared
    )


_RES_BASE = _RES_STUDY.rsplit("study/", 1)[0]
