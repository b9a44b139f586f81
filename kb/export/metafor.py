"""metafor: one CSV in the column names of R metafor's ``escalc()``.

- two-group dichotomous: ``ai, bi, ci, di`` (events and non-events, experimental then
  control) with ``n1i, n2i``;
- two-group continuous: ``m1i, sd1i, n1i, m2i, sd2i, n2i``;
- single-group proportions (single-arm studies): ``xi, ni``.

Empty cells are missing values (``read.csv(..., na.strings = "")``). Each row keeps
its study, outcome and timepoint labels, its caveats and its provenance. Results
marked to be kept out of meta-analysis (a quality flag) are left out and listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.analysis import ESCALC_COLUMNS
from kb.errors import CheckFailed
from kb.export import Rendered
from kb.export.csv_export import csv_bytes
from kb.export.revman import two_group_pairs
from kb.export.tables import extract

COLUMNS = [
    "study",
    "outcome",
    "outcome_concept",
    "timepoint_weeks",
    "subgroup",
    "data_type",
    "experimental_arm",
    "comparator_arm",
    *ESCALC_COLUMNS,
    "design",
    "single_arm",
    "open_label",
    "caveats",
    "source_type",
    "doi",
    "locator",
]


def rows(data: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The escalc-ready rows and the lines about results left out."""
    out: list[dict[str, Any]] = []
    messages: list[str] = []
    pairs, single_arm, _skipped = two_group_pairs(data)
    for p in pairs:
        e: Any = p.experimental
        c: Any = p.control
        row = {
            "study": e["study_id"],
            "outcome": e["outcome_label"] or e["outcome"],
            "outcome_concept": e["outcome_concept"],
            "timepoint_weeks": e["timepoint_weeks"],
            "subgroup": e["subgroup"],
            "experimental_arm": e["arm_label"] or e["arm"],
            "comparator_arm": c["arm_label"] or c["arm"],
            "design": e["design"],
            "single_arm": False,
            "open_label": e["open_label"],
            "caveats": p.caveats,
            "source_type": e["source_type"],
            "doi": e["doi"],
            "locator": " / ".join(str(x) for x in (e["locator"], c["locator"]) if x) or None,
        }
        if p.kind == "dichotomous":
            row.update(
                {
                    "data_type": "two-group dichotomous",
                    "ai": e["events"],
                    "bi": e["total"] - e["events"],
                    "ci": c["events"],
                    "di": c["total"] - c["events"],
                    "n1i": e["total"],
                    "n2i": c["total"],
                }
            )
        else:
            row.update(
                {
                    "data_type": "two-group continuous",
                    "m1i": e["mean"],
                    "sd1i": e["sd"],
                    "n1i": e["n"],
                    "m2i": c["mean"],
                    "sd2i": c["sd"],
                    "n2i": c["n"],
                }
            )
        out.append(row)
    for r in data.outcomes.rows:
        if r["study_id"] not in single_arm or r["events"] is None or r["total"] is None:
            continue
        label = f"{r['study_id']}: {r['outcome_label'] or r['outcome']}"
        if r["exclude_from_meta_analysis"]:
            messages.append(f"metafor: left out {label}: marked to be kept out of meta-analysis")
            continue
        out.append(
            {
                "study": r["study_id"],
                "outcome": r["outcome_label"] or r["outcome"],
                "outcome_concept": r["outcome_concept"],
                "timepoint_weeks": r["timepoint_weeks"],
                "subgroup": r["subgroup"],
                "data_type": "single-group proportion",
                "experimental_arm": r["arm_label"] or r["arm"],
                "xi": r["events"],
                "ni": r["total"],
                "design": r["design"],
                "single_arm": True,
                "open_label": r["open_label"],
                "caveats": r["caveats"],
                "source_type": r["source_type"],
                "doi": r["doi"],
                "locator": r["locator"],
            }
        )
    out.sort(
        key=lambda r: (
            str(r["outcome_concept"] or ""),
            str(r["study"]),
            str(r["outcome"]),
            str(r["timepoint_weeks"]),
            str(r["subgroup"] or ""),
            str(r["experimental_arm"]),
            str(r.get("comparator_arm") or ""),
        )
    )
    return out, messages


def render(
    store: Any, selection: Any, *, fmt: str = "metafor", output: Path | None = None
) -> Rendered:
    """:raises CheckFailed: no selected result has escalc-ready numbers."""
    data = extract(store, selection)
    table, messages = rows(data)
    if not table:
        raise CheckFailed(
            "no result in the selected studies has events/total or mean/SD/n for escalc(). "
            "Nothing written."
        )
    return Rendered({"": csv_bytes(COLUMNS, table)}, messages=messages)
