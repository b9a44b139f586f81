"""The text report (STYLE.md, "A validation failure, as a user sees it")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.errors import UsageError
from kb.validation.model import SEVERITIES, ValidationReport

if TYPE_CHECKING:
    pass


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _counts_text(counts: dict[str, int], keep_zero_violations: bool) -> str:
    parts = []
    for severity in SEVERITIES:
        n = counts[severity]
        if n or (severity == "Violation" and keep_zero_violations):
            parts.append(_plural(n, severity.lower()))
    return ", ".join(parts)


def format_text(report: ValidationReport, min_severity: str = "Warning") -> str:
    """The text report: per file a header and one line per finding, then a summary.

    :param min_severity: the least serious severity listed line by line
        (all are counted): ``Violation``, ``Warning`` (default) or ``Info``.
    """
    if min_severity not in SEVERITIES:
        raise UsageError(f"unknown severity {min_severity!r}; use one of {', '.join(SEVERITIES)}")
    shown = set(SEVERITIES[: SEVERITIES.index(min_severity) + 1])
    lines: list[str] = []
    for f in report.files:
        listed = [x for x in f.findings if x.severity in shown]
        if not listed:
            continue
        if f.conforms:
            lines.append(f"{f.path} conforms with {_counts_text(f.counts(), False)}")
        else:
            lines.append(f"{f.path} does not conform: {_counts_text(f.counts(), False)}")
        rows = [x.row() for x in listed]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for sev, focus, path, message, shape in rows:
            cells = [sev.ljust(widths[0]), focus.ljust(widths[1]), path.ljust(widths[2]), message]
            lines.append(("  " + "  ".join(cells) + ("  " + shape if shape else "")).rstrip())
    total = len(report.files)
    counts = report.counts()
    if report.conforms:
        summary = f"{_plural(total, 'file')} conform" if total != 1 else "1 file conforms"
        extra = _counts_text(counts, False)
        if extra:
            summary += f" ({extra}; warnings and infos do not fail validation)"
    else:
        bad = sum(1 for f in report.files if not f.conforms)
        verb = "does" if bad == 1 else "do"
        summary = (
            f"{bad} of {_plural(total, 'file')} {verb} not conform: {_counts_text(counts, False)}"
        )
    lines.append(summary)
    return "\n".join(lines) + "\n"
