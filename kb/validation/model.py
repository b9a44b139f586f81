"""What validation finds: findings, per-file reports and the whole report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kb.namespaces import shorten

if TYPE_CHECKING:
    pass

#: Severities, most serious first; the names are SHACL's local names.
SEVERITIES: tuple[str, ...] = ("Violation", "Warning", "Info")

_SH = "http://www.w3.org/ns/shacl#"
_EKB = "https://w3id.org/evidence-kb/ontology#"
_RES_STUDY = "https://w3id.org/evidence-kb/resource/study/"

#: The shape (in shapes.ttl) that documents the checks made in Python per file
#: and across files; findings of those checks name it as their source shape.
FILE_SHAPE = _EKB + "StudyFileShape"


@dataclass(frozen=True)
class Finding:
    """One validation result.

    ``focus``, ``path``, ``source_shape``, ``component`` and ``value`` are
    full IRIs or literal lexical forms (``None`` when SHACL gives none);
    :meth:`row` renders them short for people.
    """

    severity: str
    focus: str
    path: str | None
    message: str
    source_shape: str | None
    component: str | None
    value: str | None

    def sort_key(self) -> tuple[int, str, str, str, str, str, str]:
        # The component breaks ties (one shape, one value, two constraints), so
        # the order never depends on an engine or on set iteration.
        return (
            SEVERITIES.index(self.severity),
            self.focus,
            self.path or "",
            self.source_shape or "",
            self.message,
            self.value or "",
            self.component or "",
        )

    def row(self) -> tuple[str, str, str, str, str]:
        """(severity, focus, path, message, [shape]) shortened for the text report."""
        message = self.message
        if self.value is not None:
            shown = shorten(self.value)
            # SPARQL messages quote their numbers already; core ones do not.
            if shown not in message:
                message = f"{message} (found {shown})"
        return (
            self.severity,
            shorten(self.focus) if self.focus else "(file)",
            _short_path(self.path),
            message,
            f"[{shorten(self.source_shape)}]" if self.source_shape else "",
        )


@dataclass(frozen=True)
class FileReport:
    """The findings for one study file."""

    path: str
    sha256: str
    findings: tuple[Finding, ...] = ()
    #: Study IRIs the file declares, and (study, related study) links; used by
    #: the cross-file pass.
    studies: tuple[str, ...] = ()
    related: tuple[tuple[str, str], ...] = ()

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def conforms(self) -> bool:
        """True when there is no Violation (warnings and infos are allowed)."""
        return self.count("Violation") == 0

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in SEVERITIES}


@dataclass(frozen=True)
class ValidationReport:
    """Findings for every validated file, in file order."""

    files: tuple[FileReport, ...] = field(default_factory=tuple)

    @property
    def conforms(self) -> bool:
        return all(f.conforms for f in self.files)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.count(s) for f in self.files) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        """A stable, JSON-ready document (keys and order do not change between runs)."""
        return {
            "conforms": self.conforms,
            "files_checked": len(self.files),
            "files_not_conforming": sum(1 for f in self.files if not f.conforms),
            "counts": {s.lower(): n for s, n in self.counts().items()},
            "files": [
                {
                    "path": f.path,
                    "sha256": f.sha256,
                    "conforms": f.conforms,
                    "counts": {s.lower(): n for s, n in f.counts().items()},
                    "findings": [
                        {
                            "severity": x.severity,
                            "focus": x.focus,
                            "focus_short": shorten(x.focus) if x.focus else None,
                            "path": x.path,
                            "path_short": _short_path(x.path) or None,
                            "message": x.message,
                            "source_shape": x.source_shape,
                            "component": x.component,
                            "value": x.value,
                        }
                        for x in f.findings
                    ],
                }
                for f in self.files
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _short_path(path: str | None) -> str:
    """``ekb:events`` for a plain path; ``^ekb:hasResult`` style for a complex one."""
    import re

    if not path:
        return ""
    if "<" not in path:
        return shorten(path)
    return re.sub(r"<([^>]*)>", lambda m: shorten(m.group(1)), path)
