"""Checks made in Python: one study per file, its name, and facts across files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, InvalidOperation
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


SAFETY_DENOMINATOR_SHAPE = _EKB + "SafetyOneDenominatorShape"
_SPARQL_COMPONENT = "http://www.w3.org/ns/shacl#SPARQLConstraintComponent"
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# The properties that make two safety findings "the same event in the same group": a
# difference in any of them (seriousness, timepoint, subgroup) allows a different denominator.
_SAME_EVENT = tuple(_EKB + p for p in ("serious", "timepointText", "timepointWeeks", "subgroup"))
_DENOMINATOR_PROPERTIES = frozenset(
    (_RDF_TYPE, _EKB + "arm", _EKB + "eventTerm", _EKB + "atRisk", *_SAME_EVENT)
)


def one_denominator_findings(triples: Iterable[tuple[str, str, str]]) -> list[Finding]:
    """``ekb:SafetyOneDenominatorShape``: one arm, one at-risk number per event.

    Two safety findings of one arm with the same event term, seriousness,
    timepoint and subgroup but different ``ekb:atRisk`` mean that groups of
    different sizes (an analysis set, an extension cohort) were put under one
    arm. Each finding of such a pair is a Violation naming the other one.

    Made here in one pass over the file, not as a SHACL-SPARQL constraint: the
    constraint ran one query per safety finding, and a registry record with
    4,064 findings (PALLAS, NCT02513394) took 276 s to validate with it against
    34 s without. The results (focus, path, value, message, shape) are those
    the constraint gave.

    :param triples: the file's triples as (subject, predicate, object) text:
        IRIs and literal lexical forms, as ``str()`` of rdflib terms gives them.
    """
    records: dict[str, dict[str, list[str]]] = {}
    for s, p, o in triples:
        if p in _DENOMINATOR_PROPERTIES:
            records.setdefault(s, {}).setdefault(p, []).append(o)
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for subject, props in records.items():
        if _EKB + "SafetyFinding" not in props.get(_RDF_TYPE, ()):
            continue
        same = tuple("|".join(sorted(props.get(p, ()))) for p in _SAME_EVENT)
        for arm in props.get(_EKB + "arm", ()):
            for term in props.get(_EKB + "eventTerm", ()):
                for at_risk in props.get(_EKB + "atRisk", ()):
                    groups.setdefault((arm, term, *same), []).append((subject, at_risk))
    findings: list[Finding] = []
    for members in groups.values():
        if len({_number_or_text(n) for _, n in members}) < 2:
            continue
        for this, value in members:
            for other, other_at_risk in members:
                if other == this or _number_or_text(other_at_risk) == _number_or_text(value):
                    continue
                findings.append(
                    Finding(
                        "Violation",
                        this,
                        _EKB + "atRisk",
                        f"the same arm holds {other} for this event with {other_at_risk}"
                        f" at risk, not {value}: one arm has one denominator per event term",
                        SAFETY_DENOMINATOR_SHAPE,
                        _SPARQL_COMPONENT,
                        value,
                    )
                )
    return findings


def _number_or_text(lexical: str) -> Decimal | str:
    """A count compared as SPARQL compares numbers (``30`` = ``30.0``), else as text."""
    try:
        return Decimal(lexical)
    except InvalidOperation:
        return lexical
