"""Meta-analysis input from a CSV in metafor's column names (``ekb meta --data``).

The columns are metafor's: ``ai, bi, ci, di`` (or ``ai, ci, n1i, n2i``);
``m1i, sd1i, n1i, m2i, sd2i, n2i``; ``xi, ni``; or ``yi, vi``; with an optional label
column and optional ``design`` and ``blinding`` columns for the forest plot marks
(see :mod:`kb.analysis.data`, which builds the same :class:`MetaInput` from the
knowledge base).
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

from kb.analysis import ESCALC_COLUMNS
from kb.analysis.data import _LABEL_COLUMNS, MetaInput, StudyRecord, _readable
from kb.analysis.effects import MEASURES, measure_kind
from kb.errors import CouldNotRun, UsageError


def _csv_measure(columns: set[str]) -> str:
    if {"ai", "ci"} <= columns and ({"bi", "di"} <= columns or {"n1i", "n2i"} <= columns):
        return "RR"
    if {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"} <= columns:
        return "SMD"
    if {"xi", "ni"} <= columns:
        return "PLO"
    if {"yi", "vi"} <= columns:
        return "GEN"
    raise UsageError(
        "the CSV has none of metafor's column sets: ai,bi,ci,di (or ai,ci,n1i,n2i); "
        "m1i,sd1i,n1i,m2i,sd2i,n2i; xi,ni; or yi,vi"
    )


_NEEDED = {
    "binary": ({"ai", "ci"}, "ai, ci and bi, di (or n1i, n2i)"),
    "continuous": ({"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"}, "m1i, sd1i, n1i, m2i, sd2i, n2i"),
    "proportion": ({"xi", "ni"}, "xi, ni"),
    "generic": ({"yi", "vi"}, "yi, vi"),
}

_NUMERIC = (*ESCALC_COLUMNS, "yi", "vi")


def read_csv(path: Path, *, measure: str | None = None) -> MetaInput:
    """A CSV in metafor's column names as a :class:`MetaInput`.

    :raises CouldNotRun: the file cannot be read.
    :raises UsageError: no usable columns, the wrong columns for ``measure``, or a cell
        that is not a number (with its row and column).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not a UTF-8 text file") from exc
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise UsageError(f"{path}: empty CSV (no header)")
    columns = {c.strip().lower() for c in reader.fieldnames if c}
    if measure is not None and measure not in MEASURES:
        raise UsageError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    try:
        chosen = measure or _csv_measure(columns)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    kind = measure_kind(chosen)
    needed, described = _NEEDED[kind]
    missing = needed - columns
    if (
        kind == "binary"
        and not missing
        and not ({"bi", "di"} <= columns or {"n1i", "n2i"} <= columns)
    ):
        missing = {"bi, di or n1i, n2i"}
    if missing:
        raise UsageError(
            f"{path}: measure {chosen} needs columns {described}; "
            f"missing {', '.join(sorted(missing))}"
        )
    label_col = next((c for c in _LABEL_COLUMNS if c in columns), None)

    studies: list[StudyRecord] = []
    for lineno, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        values: dict[str, float | None] = {}
        for col in _NUMERIC:
            if col not in row or row[col] in ("", "NA", "na", "NaN"):
                continue
            try:
                values[col] = float(row[col])
            except ValueError as exc:
                raise UsageError(
                    f"{path}:{lineno}: column {col}: {row[col]!r} is not a number"
                ) from exc
            if not math.isfinite(values[col] or 0.0):  # "inf", "nan", "1e400"
                raise UsageError(
                    f"{path}:{lineno}: column {col}: {row[col]!r} is not a finite number"
                )
        label = row.get(label_col, "") if label_col else ""
        if label_col == "study" and label and "author" in row and row["author"]:
            label = f"{row['author']}" + (f" {row['year']}" if row.get("year") else "")
        elif label_col == "study" and label and "authors" in row and row["authors"]:
            label = row["authors"]
        elif label_col == "study" and label and "source" in row and row["source"]:
            label = row["source"]
        label = label or f"study {len(studies) + 1}"
        design = _readable(row.get("design")) if row.get("design") else None
        blinding = _readable(row.get("blinding")) if row.get("blinding") else None
        if kind == "binary":
            n = None
            try:
                from kb.analysis.effects import two_by_two

                n = sum(two_by_two(values))
            except ValueError:
                n = None
        elif kind == "continuous":
            n = (values.get("n1i") or 0) + (values.get("n2i") or 0) or None
        else:
            n = values.get("ni")
        studies.append(
            StudyRecord(
                study=label,
                label=label,
                values=values,
                n=n,
                design=design,
                blinding=blinding,
                single_arm=kind == "proportion" or (design is not None and "single arm" in design),
                open_label=blinding is not None and "open" in blinding,
                source=str(path),
            )
        )
    if not studies:
        raise UsageError(f"{path}: no data rows")
    # Make repeated labels unique, as metafor does with make.unique().
    seen: dict[str, int] = defaultdict(int)
    for s in studies:
        seen[s.label] += 1
    counts: dict[str, int] = defaultdict(int)
    for s in studies:
        if seen[s.label] > 1:
            counts[s.label] += 1
            s.label = f"{s.label} ({counts[s.label]})"
            s.study = s.label
    return MetaInput(chosen, studies, [], title=path.stem, source=str(path))


__all__ = ["read_csv"]
