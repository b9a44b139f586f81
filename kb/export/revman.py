"""RevMan: study data for two-group comparisons, one CSV row per study, outcome,
timepoint and pair of arms, in the order of RevMan's data tables (dichotomous:
events and total per group; continuous: mean, SD and n per group).

A two-group comparison needs two groups. Single-arm studies are skipped and
listed on stderr with the reason; they are never given an invented comparator.
When every selected study is single-arm, nothing is written and the command
says so (exit 1). :func:`two_group_pairs` is shared with the metafor export.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed
from kb.export import Rendered
from kb.export.csv_export import csv_bytes
from kb.export.tables import CAVEAT_SEPARATOR, Row, extract

EXPERIMENTAL_ROLES = {"experimental"}
CONTROL_ROLES = {"placebo comparator", "active comparator", "standard of care"}


#: Why a comparison cannot go into RevMan's two-group tables (one summary line each).
ONE_SIDE = "results for only one side of the comparison"
KEPT_OUT = "marked to be kept out of meta-analysis"
NO_NUMBERS = "neither events/total nor mean/SD/n in both arms"


@dataclass(frozen=True)
class Skipped:
    """A comparison left out of the RevMan table, and why."""

    label: str
    reason: str
    note: str = ""

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}" + (f" ({self.note})" if self.note else "")


@dataclass
class Pair:
    """One experimental arm against one control arm, same outcome, timepoint and subgroup."""

    kind: str  # "dichotomous" or "continuous"
    experimental: Row
    control: Row

    @property
    def caveats(self) -> str | None:
        parts: list[str] = []
        for row in (self.experimental, self.control):
            for c in str(row.get("caveats") or "").split(CAVEAT_SEPARATOR):
                if c and c not in parts:
                    parts.append(c)
        return CAVEAT_SEPARATOR.join(parts) or None


def _has(row: Row, *keys: str) -> bool:
    return all(row.get(k) is not None for k in keys)


def _kind(a: Row, b: Row) -> str | None:
    if _has(a, "events", "total") and _has(b, "events", "total"):
        return "dichotomous"
    if _has(a, "mean", "sd", "n") and _has(b, "mean", "sd", "n"):
        return "continuous"
    return None


def _when(row: Row) -> str:
    tp = row.get("timepoint_weeks")
    return f"week {tp}" if tp is not None else "timepoint not stated"


def two_group_pairs(data: Any) -> tuple[list[Pair], list[str], list[Skipped]]:
    """Experimental-versus-control pairs ready for a two-group analysis.

    :returns: ``(pairs, single_arm_studies, skipped)``: the pairs; the ids of single-arm
        studies (no comparison group); and one line per study/outcome left out, with the reason.
    """
    chars = {r["study_id"]: r for r in data.characteristics.rows}
    groups: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for row in data.outcomes.rows:
        key = (
            row["study_id"],
            row["outcome"],
            str(row["timepoint_weeks"]),
            row["subgroup"] or "",
            row["analysis_population"] or "",
        )
        groups[key].append(row)
    single_arm = sorted(str(s) for s, r in chars.items() if r["single_arm"])
    pairs: list[Pair] = []
    skipped: list[Skipped] = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        study = key[0]
        if study in single_arm:
            continue
        rows = groups[key]
        subgroup = f", {key[3]}" if key[3] else ""
        outcome = rows[0]["outcome_label"] or rows[0]["outcome"]
        label = f"{study}: {outcome} ({_when(rows[0])}{subgroup})"
        exps = [r for r in rows if r["arm_role"] in EXPERIMENTAL_ROLES]
        ctls = [r for r in rows if r["arm_role"] in CONTROL_ROLES]
        if not exps or not ctls:
            skipped.append(Skipped(label, ONE_SIDE))
            continue
        for e in exps:
            for c in ctls:
                if e.get("exclude_from_meta_analysis") or c.get("exclude_from_meta_analysis"):
                    flag = e.get("quality_flag") or c.get("quality_flag") or "see caveats"
                    skipped.append(Skipped(label, KEPT_OUT, str(flag)))
                    continue
                kind = _kind(e, c)
                if kind is None:
                    skipped.append(Skipped(label, NO_NUMBERS))
                    continue
                pairs.append(Pair(kind, e, c))
    return pairs, single_arm, skipped


COLUMNS = [
    "Study ID",
    "Outcome",
    "Outcome concept",
    "Timepoint (weeks)",
    "Subgroup",
    "Data type",
    "Experimental",
    "Control",
    "Experimental events",
    "Experimental total",
    "Control events",
    "Control total",
    "Experimental mean",
    "Experimental SD",
    "Experimental N",
    "Control mean",
    "Control SD",
    "Control N",
    "Caveats",
    "Source type",
    "DOI",
    "Experimental locator",
    "Control locator",
]


def _row(p: Pair) -> dict[str, Any]:
    e, c = p.experimental, p.control
    row: dict[str, Any] = {
        "Study ID": e["study_id"],
        "Outcome": e["outcome_label"] or e["outcome"],
        "Outcome concept": e["outcome_concept"],
        "Timepoint (weeks)": e["timepoint_weeks"],
        "Subgroup": e["subgroup"],
        "Data type": p.kind,
        "Experimental": e["arm_label"] or e["arm"],
        "Control": c["arm_label"] or c["arm"],
        "Caveats": p.caveats,
        "Source type": e["source_type"]
        if e["source_type"] == c["source_type"]
        else f"{e['source_type']} / {c['source_type']}",
        "DOI": e["doi"],
        "Experimental locator": e["locator"],
        "Control locator": c["locator"],
    }
    if p.kind == "dichotomous":
        row.update(
            {
                "Experimental events": e["events"],
                "Experimental total": e["total"],
                "Control events": c["events"],
                "Control total": c["total"],
            }
        )
    else:
        row.update(
            {
                "Experimental mean": e["mean"],
                "Experimental SD": e["sd"],
                "Experimental N": e["n"],
                "Control mean": c["mean"],
                "Control SD": c["sd"],
                "Control N": c["n"],
            }
        )
    return row


def skip_summary(skipped: list[Skipped], written: int) -> tuple[list[str], list[str]]:
    """One line per reason with its count, and the per-comparison lines behind them.

    :returns: ``(summary, details)``, both prefixed ``revman:`` for standard error.
    """
    counts: dict[str, int] = {}
    for item in skipped:
        counts[item.reason] = counts.get(item.reason, 0) + 1
    summary = [f"revman: wrote {written} two-group comparison(s)"]
    summary += [
        f"revman: skipped {n} comparison(s): {reason}"
        for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if skipped:
        summary.append("revman: -v lists each skipped comparison")
    return summary, [f"revman: skipped {item}" for item in skipped]


def single_arm_message(study_ids: list[str]) -> str:
    return (
        "skipped single-arm (no comparison group), never given an invented comparator: "
        + ", ".join(study_ids)
    )


def render(
    store: Any, selection: Any, *, fmt: str = "revman", output: Path | None = None
) -> Rendered:
    """:raises CheckFailed: no selected study has two groups with comparable numbers."""
    data = extract(store, selection)
    pairs, single_arm, skipped = two_group_pairs(data)
    messages = []
    if single_arm:
        messages.append(f"revman: {single_arm_message(single_arm)}")
    summary, details = skip_summary(skipped, len(pairs))
    if not pairs:
        messages += details
        if single_arm and len(single_arm) == len(data.characteristics.rows):
            raise CheckFailed(
                "RevMan two-group comparisons cannot carry the selected studies: every one is "
                "single-arm "
                f"(no comparison group): {', '.join(single_arm)}. Nothing written; "
                "`ekb export metafor` writes single-group proportions (xi, ni)."
            )
        detail = "; ".join(messages) if messages else "no two-group results"
        raise CheckFailed(
            "no two-group comparison with events/total or mean/SD/n in the selected studies "
            f"({detail}). Nothing written."
        )
    return Rendered(
        {"": csv_bytes(COLUMNS, [_row(p) for p in pairs])},
        messages=messages + summary,
        details=details,
    )
