"""Input for a meta-analysis: arm-level rows from the knowledge base, or a CSV.

From the knowledge base (the ``meta-input`` canned query, one row per arm, outcome,
timepoint and subgroup), :func:`from_rows` builds one comparison per study:

1. Rows flagged ``exclude`` or carrying a ``quality_flag`` are set aside; a study left
   with nothing is listed as excluded with that reason.
2. A study may report the outcome several times (timepoints, populations, related
   outcome definitions, subgroups). Exactly one analysis per study enters, so that no
   participant is counted twice: a whole-population analysis (no subgroup) with usable
   data, the one with the most participants, then the latest timepoint; ``timepoint=``
   picks a timepoint instead. A study that reports the outcome only by subgroup enters
   with its single subgroup (noted), but never with one subgroup out of several: it is
   excluded, unless ``combine_subgroups`` adds its subgroups up (for subgroups that split
   the population, such as newly diagnosed + relapsed). The analyses not used are listed
   as excluded, "other timepoint/subgroup".
3. Two-group measures (RR, OR, RD, MD, SMD) compare the experimental arm with the
   comparator arm (placebo, active comparator or standard of care). Several arms of one
   role are combined as the Cochrane Handbook (6.5.2.10) recommends: events and totals
   added; means and SDs pooled. A single-arm study has no comparator: excluded.
4. Proportions (PR, PLO, PFT) take single-arm studies only; a controlled study belongs
   in a two-group analysis and is listed as excluded for this one.

From a CSV, :func:`kb.analysis.csv_input.read_csv` builds the same :class:`MetaInput`
from metafor's column names.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kb.analysis.effects import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURES,
    PROPORTION_MEASURES,
    measure_kind,
)
from kb.errors import CheckFailed, CouldNotRun, UsageError

EXPERIMENTAL_ROLES = frozenset({"experimental"})
COMPARATOR_ROLES = frozenset({"placebo-comparator", "active-comparator", "standard-of-care"})
SINGLE_ARM_ROLES = frozenset({"single-arm"})

#: Why a study (or one of its analyses) was left out; the words users see.
OTHER_ANALYSIS = "other timepoint/subgroup"

_LABEL_COLUMNS = ("study", "label", "slab", "author", "authors", "source", "trial")


@dataclass
class StudyRecord:
    """One study's contribution: metafor-style ``values`` plus what the report shows."""

    study: str
    label: str
    values: dict[str, float | None]
    n: float | None = None
    design: str | None = None
    blinding: str | None = None
    single_arm: bool = False
    open_label: bool = False
    comparison: str | None = None
    timepoint_weeks: float | None = None
    subgroup: str | None = None
    source: str | None = None
    source_type: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The arms (IRIs) on each side of the comparison, for checking them against a
    #: review's question (GRADE indirectness); empty when not read from a knowledge base.
    experimental_arms: tuple[str, ...] = ()
    comparator_arms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exclusion:
    """A study (or one analysis of it) left out, and why."""

    study: str
    reason: str
    detail: str | None = None


@dataclass
class MetaInput:
    """What the model is fitted to: the measure, the studies, and what was left out."""

    measure: str
    studies: list[StudyRecord]
    excluded: list[Exclusion]
    title: str = ""
    source: str = ""


# ---------------------------------------------------------------------------- helpers


def _plain(value: Any) -> Any:
    """rdflib terms and Decimals to plain Python values (IRIs as strings)."""
    if value is None:
        return None
    to_python = getattr(value, "toPython", None)
    if callable(to_python):
        value = to_python()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "n3") and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


def _number(value: Any) -> float | None:
    value = _plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _truthy(value: Any) -> bool:
    value = _plain(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "y"}
    return False


def _text(value: Any) -> str | None:
    value = _plain(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def concept_key(value: Any) -> str | None:
    """The local name of a concept IRI, or a label made into one: ``"placebo-comparator"``.

    >>> concept_key("https://w3id.org/evidence-kb/vocab/term/placebo-comparator")
    'placebo-comparator'
    >>> concept_key("Placebo comparator")
    'placebo-comparator'
    """
    text = _text(value)
    if text is None:
        return None
    if "://" in text or text.startswith("urn:"):
        text = text.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    elif ":" in text and " " not in text:
        text = text.split(":", 1)[1]
    return "-".join(text.lower().replace("_", " ").split())


def _readable(value: Any) -> str | None:
    key = concept_key(value)
    return key.replace("-", " ") if key else None


def study_key(value: Any) -> str:
    """A study's short id from its IRI (``.../study/<id>``) or as given."""
    text = _text(value) or "?"
    if "/study/" in text:
        return text.split("/study/", 1)[1].split("/", 1)[0]
    return text


def _fmt_weeks(weeks: float | None) -> str:
    if weeks is None:
        return "timepoint not stated"
    return f"week {weeks:g}"


# ------------------------------------------------------------------- knowledge base


@dataclass
class _Arm:
    arm: str
    label: str
    role: str | None
    events: float | None
    total: float | None
    mean: float | None
    sd: float | None
    n: float | None


@dataclass
class _Analysis:
    """One study's rows for one (outcome, timepoint, subgroup, population)."""

    outcome: str | None
    timepoint: float | None
    subgroup: str | None
    population: str | None
    arms: list[_Arm]

    def describe(self) -> str:
        parts = [_fmt_weeks(self.timepoint)]
        if self.subgroup:
            parts.append(f"subgroup {self.subgroup}")
        if self.population:
            parts.append(f"population {self.population}")
        return ", ".join(parts)

    def participants(self, kind: str) -> float:
        total = 0.0
        for a in self.arms:
            count = a.total if kind in ("binary", "proportion") else a.n
            total += count or 0.0
        return total


def _combine_binary(arms: Sequence[_Arm]) -> tuple[float, float] | None:
    if any(a.events is None or a.total is None for a in arms):
        return None
    return sum(a.events for a in arms), sum(a.total for a in arms)  # type: ignore[misc]


def _combine_continuous(arms: Sequence[_Arm]) -> tuple[float, float, float] | None:
    """Means and SDs of several arms pooled into one group (Cochrane Handbook table 6.5.a)."""
    if any(a.mean is None or a.sd is None or a.n is None for a in arms):
        return None
    n, mean, sd = arms[0].n, arms[0].mean, arms[0].sd
    for a in arms[1:]:
        n2, m2, s2 = a.n, a.mean, a.sd
        assert n is not None and mean is not None and sd is not None
        assert n2 is not None and m2 is not None and s2 is not None
        total = n + n2
        var = ((n - 1) * sd**2 + (n2 - 1) * s2**2 + n * n2 / total * (mean - m2) ** 2) / (total - 1)
        mean = (n * mean + n2 * m2) / total
        n, sd = total, math.sqrt(var)
    assert n is not None and mean is not None and sd is not None
    return mean, sd, n


def _arm_names(arms: Sequence[_Arm]) -> str:
    return " + ".join(dict.fromkeys(a.label for a in arms))


def _distinct_arms(arms: Sequence[_Arm]) -> int:
    # Arms merged from subgroups share the arm id before '#': one arm, several subgroups.
    return len({a.arm.split("#", 1)[0] for a in arms})


def _pair(
    measure: str, analysis: _Analysis
) -> tuple[dict[str, float | None], str, float, list[str]] | str:
    """The metafor values for one analysis, or the reason it cannot give them."""
    kind = measure_kind(measure)
    notes: list[str] = []
    if kind == "proportion":
        singles = [a for a in analysis.arms if a.role in SINGLE_ARM_ROLES]
        if not singles:
            return (
                "controlled study: it enters two-group analyses (RR, OR, RD), "
                "not a pooled proportion"
                if any(a.role in COMPARATOR_ROLES for a in analysis.arms)
                else "no single-arm group with a role this analysis can use"
            )
        arm = singles[0]
        if arm.events is None or arm.total is None:
            return f"no events/total reported for arm '{arm.label}'"
        return {"xi": arm.events, "ni": arm.total}, arm.label, arm.total, notes

    exp = [a for a in analysis.arms if a.role in EXPERIMENTAL_ROLES]
    comp = [a for a in analysis.arms if a.role in COMPARATOR_ROLES]
    if not comp:
        if any(a.role in SINGLE_ARM_ROLES for a in analysis.arms):
            return "single-arm study: no comparator arm for a two-group measure"
        return "no comparator arm (placebo, active comparator or standard of care)"
    if not exp:
        return "no experimental arm"
    if _distinct_arms(exp) > 1:
        notes.append(f"{len(exp)} experimental arms combined ({_arm_names(exp)})")
    if _distinct_arms(comp) > 1:
        notes.append(f"{len(comp)} comparator arms combined ({_arm_names(comp)})")
    comparison = f"{_arm_names(exp)} vs {_arm_names(comp)}"
    if kind == "binary":
        e, c = _combine_binary(exp), _combine_binary(comp)
        if e is None or c is None:
            missing = [a.label for a in (*exp, *comp) if a.events is None or a.total is None]
            return f"no events/total reported for {', '.join(repr(m) for m in missing)}"
        return {"ai": e[0], "n1i": e[1], "ci": c[0], "n2i": c[1]}, comparison, e[1] + c[1], notes
    e2, c2 = _combine_continuous(exp), _combine_continuous(comp)
    if e2 is None or c2 is None:
        missing = [a.label for a in (*exp, *comp) if a.mean is None or a.sd is None or a.n is None]
        return f"no mean/SD/n reported for {', '.join(repr(m) for m in missing)}"
    values: dict[str, float | None] = {
        "m1i": e2[0],
        "sd1i": e2[1],
        "n1i": e2[2],
        "m2i": c2[0],
        "sd2i": c2[1],
        "n2i": c2[2],
    }
    return values, comparison, e2[2] + c2[2], notes


def _arms_with_role(analyses: Sequence[_Analysis], roles: Collection[str]) -> tuple[str, ...]:
    return tuple(sorted({a.arm for u in analyses for a in u.arms if a.role in roles}))


def _rank(kind: str):  # type: ignore[no-untyped-def]
    def key(a: _Analysis) -> tuple[Any, ...]:
        return (
            -a.participants(kind),
            -(a.timepoint if a.timepoint is not None else -math.inf),
            a.outcome or "",
            a.population or "",
            a.subgroup or "",
        )

    return key


def _merge_subgroups(parts: Sequence[_Analysis]) -> _Analysis:
    """Subgroup analyses of one outcome and timepoint as one analysis, their arms side by side."""
    arms = [
        _Arm(f"{a.arm}#{p.subgroup}", a.label, a.role, a.events, a.total, a.mean, a.sd, a.n)
        for p in parts
        for a in p.arms
    ]
    names = " + ".join(sorted(p.subgroup or "" for p in parts))
    first = parts[0]
    return _Analysis(first.outcome, first.timepoint, f"combined: {names}", first.population, arms)


def _choose_analysis(
    measure: str, kind: str, candidates: Sequence[_Analysis], combine_subgroups: bool
) -> tuple[_Analysis, tuple[dict[str, float | None], str, float, list[str]], list[_Analysis]] | str:
    """The one analysis a study enters with, the pairing, and the analyses it used.

    Whole-population analyses first (most participants, then latest timepoint). A study
    reporting the outcome only by subgroup enters with its single subgroup, or, with
    ``combine_subgroups``, with its subgroups added up; never with one of several.
    """
    paired = [(a, _pair(measure, a)) for a in candidates]
    whole = sorted(
        (a for a, p in paired if a.subgroup is None and not isinstance(p, str)), key=_rank(kind)
    )
    if whole:
        best = whole[0]
        pairing = _pair(measure, best)
        assert not isinstance(pairing, str)
        return best, pairing, [best]
    usable_sub = [a for a, p in paired if a.subgroup is not None and not isinstance(p, str)]
    reasons = sorted({p for a, p in paired if isinstance(p, str)})
    if not usable_sub:
        return "; ".join(reasons) or "no usable result"
    missing_whole = (
        f" (whole-population result: {'; '.join(reasons)})"
        if any(a.subgroup is None for a in candidates) and reasons
        else ""
    )
    if len(usable_sub) == 1:
        best = usable_sub[0]
        pairing = _pair(measure, best)
        assert not isinstance(pairing, str)
        pairing[3].append(f"subgroup only: {best.subgroup}{missing_whole}")
        return best, pairing, [best]
    if not combine_subgroups:
        names = "; ".join(sorted(f"{a.subgroup} ({a.describe()})" for a in usable_sub))
        return (
            f"only subgroup results with counts ({names}){missing_whole}: "
            "one subgroup is not the trial; "
            "--combine-subgroups adds them up when they split the population"
        )
    groups: dict[tuple[Any, ...], list[_Analysis]] = defaultdict(list)
    for a in usable_sub:
        groups[(a.outcome, a.timepoint, a.population)].append(a)
    merged = sorted(
        ((_merge_subgroups(parts), parts) for parts in groups.values()),
        key=lambda mp: _rank(kind)(mp[0]),
    )
    best, parts = merged[0]
    pairing = _pair(measure, best)
    if isinstance(pairing, str):
        return pairing
    pairing[3].append(
        f"subgroups added up: {' + '.join(sorted(p.subgroup or '' for p in parts))} "
        "(assumed to split the population)" + missing_whole
    )
    return best, pairing, list(parts)


def _usable(measure: str, analysis: _Analysis) -> bool:
    return not isinstance(_pair(measure, analysis), str)


def _choose_measure(studies: Mapping[str, list[_Analysis]]) -> str:
    """RR when some study has two arms with counts, SMD for means, else PLO for single arms."""
    for measure in ("RR", "SMD", "PLO"):
        if any(_usable(measure, a) for analyses in studies.values() for a in analyses):
            return measure
    has_comparator = any(
        arm.role in COMPARATOR_ROLES
        for analyses in studies.values()
        for a in analyses
        for arm in a.arms
    )
    return "RR" if has_comparator else "PLO"


def _row_flag(row: Mapping[str, Any]) -> str | None:
    if _truthy(row.get("exclude")):
        flag = _text(row.get("quality_flag"))
        return f"excluded from meta-analysis by the extractor{': ' + flag if flag else ''}"
    flag = _text(row.get("quality_flag"))
    if flag:
        return f"quality flag: {flag}"
    return None


def from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    measure: str | None = None,
    timepoint: float | None = None,
    combine_subgroups: bool = False,
    title: str = "",
) -> MetaInput:
    """Pair arm-level ``meta-input`` rows into one comparison (or proportion) per study.

    :param rows: dicts with the ``meta-input`` columns; values may be rdflib terms.
    :param measure: one of the measures; by default chosen from the data (RR, SMD or PLO).
    :param timepoint: use only this timepoint (weeks) from every study.
    :param combine_subgroups: when a study reports the outcome only by subgroup, add the
        subgroups up (assuming they split the population); off by default.
    :raises UsageError: an unknown measure, or ``GEN`` (it needs ``--data``).
    """
    if measure is not None and measure not in MEASURES:
        raise UsageError(f"unknown measure {measure!r}; choose one of {', '.join(MEASURES)}")
    if measure == "GEN":
        raise UsageError("measure GEN (precomputed yi, vi) is only for --data CSV files")

    by_study: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_study[study_key(row.get("study"))].append(row)

    excluded: list[Exclusion] = []
    meta_by_study: dict[str, dict[str, Any]] = {}
    analyses_by_study: dict[str, list[_Analysis]] = {}
    outcome_labels: dict[str | None, str | None] = {}
    for sid, srows in sorted(by_study.items()):
        first = srows[0]
        meta_by_study[sid] = {
            "design": _readable(first.get("design")),
            "blinding": _readable(first.get("blinding")),
            "single_arm": any(_truthy(r.get("single_arm")) for r in srows)
            or any(concept_key(r.get("arm_role")) in SINGLE_ARM_ROLES for r in srows),
            "source": _text(first.get("source")),
            "source_type": _readable(first.get("source_type")),
            "title": _text(first.get("study_title")),
        }
        flagged = [(r, _row_flag(r)) for r in srows]
        usable_rows = [r for r, flag in flagged if flag is None]
        reasons = sorted({flag for _, flag in flagged if flag is not None})
        if not usable_rows:
            excluded.append(Exclusion(sid, "; ".join(reasons)))
            continue
        if reasons:
            excluded.extend(
                Exclusion(sid, reason, "some rows set aside; the study's other rows were used")
                for reason in reasons
            )
        groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = defaultdict(list)
        for r in usable_rows:
            if r.get("outcome_label") is not None:
                outcome_labels[_text(r.get("outcome"))] = _text(r.get("outcome_label"))
            key = (
                _text(r.get("outcome")),
                _number(r.get("timepoint_weeks")),
                _text(r.get("subgroup")),
                _text(r.get("analysis_population")),
            )
            groups[key].append(r)
        analyses = []
        for (outcome, tp, subgroup, population), grows in groups.items():
            arms: dict[str, _Arm] = {}
            for r in grows:
                arm_id = _text(r.get("arm")) or "?"
                if arm_id in arms:
                    continue  # the same arm twice in one analysis: keep the first row
                arms[arm_id] = _Arm(
                    arm=arm_id,
                    label=_text(r.get("arm_label")) or concept_key(arm_id) or arm_id,
                    role=concept_key(r.get("arm_role")),
                    events=_number(r.get("events")),
                    total=_number(r.get("total")),
                    mean=_number(r.get("mean")),
                    sd=_number(r.get("sd")),
                    n=_number(r.get("n")),
                )
            analyses.append(
                _Analysis(
                    outcome, tp, subgroup, population, sorted(arms.values(), key=lambda a: a.arm)
                )
            )
        analyses_by_study[sid] = analyses

    chosen_measure = measure or _choose_measure(analyses_by_study)
    kind = measure_kind(chosen_measure)
    studies: list[StudyRecord] = []
    for sid, analyses in analyses_by_study.items():
        info = meta_by_study[sid]
        candidates = analyses
        if timepoint is not None:
            candidates = [
                a
                for a in analyses
                if a.timepoint is not None and abs(a.timepoint - timepoint) < 1e-9
            ]
            if not candidates:
                weeks = sorted({a.timepoint for a in analyses if a.timepoint is not None})
                have = ", ".join(f"{w:g}" for w in weeks) or "none stated"
                excluded.append(
                    Exclusion(sid, f"no result at week {timepoint:g} (weeks reported: {have})")
                )
                continue
        choice = _choose_analysis(chosen_measure, kind, candidates, combine_subgroups)
        if isinstance(choice, str):
            excluded.append(Exclusion(sid, choice))
            continue
        best, pairing, used = choice
        values, comparison, n, notes = pairing
        # Name the outcome each study enters with: pooled studies may define
        # "response" differently, and the reader must see it.
        if outcome_labels.get(best.outcome):
            notes = [f"outcome: {outcome_labels[best.outcome]}", *notes]
        for other in candidates:
            if not any(other is u for u in used):
                excluded.append(
                    Exclusion(
                        sid,
                        OTHER_ANALYSIS,
                        f"{other.describe()} not used; the study enters with {best.describe()}",
                    )
                )
        blinding = info["blinding"]
        design = info["design"]
        single_arm = bool(info["single_arm"]) or (design is not None and "single arm" in design)
        studies.append(
            StudyRecord(
                study=sid,
                label=sid,
                values=values,
                n=n,
                design=design,
                blinding=blinding,
                single_arm=single_arm,
                open_label=blinding is not None and "open" in blinding,
                comparison=comparison,
                timepoint_weeks=best.timepoint,
                subgroup=best.subgroup,
                source=info["source"],
                source_type=info["source_type"],
                notes=notes,
                experimental_arms=_arms_with_role(used, EXPERIMENTAL_ROLES),
                comparator_arms=_arms_with_role(used, COMPARATOR_ROLES),
            )
        )
    excluded.sort(key=lambda e: (e.study, e.reason, e.detail or ""))
    return MetaInput(chosen_measure, studies, excluded, title=title, source="knowledge base")


def query_rows(
    outcome: str,
    *,
    condition: str | None = None,
    intervention: str | None = None,
    kb_dir: Path | None = None,
    endpoint: str | None = None,
    timeout: float = 30.0,
    review: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of the ``meta-input`` canned query for an outcome (and condition, intervention).

    :raises CouldNotRun: the query module or the ``meta-input`` query is not available.
    """
    try:
        from kb import queries
    except ImportError as exc:  # another module of the project, written alongside this one
        raise CouldNotRun(
            "the canned queries (kb.queries) are not available in this installation"
        ) from exc
    from kb.store import open_store

    params = {"outcome": outcome}
    if condition:
        params["condition"] = condition
    if intervention:
        params["intervention"] = intervention
    if review:
        params["review"] = review
    store = open_store(kb_dir, endpoint=endpoint, timeout=timeout)
    result = queries.run_query(store, "meta-input", params)
    return [dict(row) for row in result.rows]


def from_kb(
    outcome: str,
    *,
    condition: str | None = None,
    intervention: str | None = None,
    measure: str | None = None,
    timepoint: float | None = None,
    combine_subgroups: bool = False,
    kb_dir: Path | None = None,
    endpoint: str | None = None,
    timeout: float = 30.0,
    review: str | None = None,
) -> MetaInput:
    """:func:`from_rows` over the ``meta-input`` query's rows.

    :raises CheckFailed: the knowledge base has no result for this outcome.
    """
    rows = query_rows(
        outcome,
        condition=condition,
        intervention=intervention,
        kb_dir=kb_dir,
        endpoint=endpoint,
        timeout=timeout,
        review=review,
    )
    if not rows:
        scope = [f"outcome {outcome!r}"]
        if condition:
            scope.append(f"condition {condition!r}")
        if intervention:
            scope.append(f"intervention {intervention!r}")
        if review:
            scope.append(f"the studies review {review!r} includes")
        raise CheckFailed(f"no results in the knowledge base for {' and '.join(scope)}")
    labels = sorted(
        {str(_plain(r.get("outcome_label"))) for r in rows if r.get("outcome_label") is not None}
    )
    title = labels[0] if len(labels) == 1 else outcome
    return from_rows(
        rows, measure=measure, timepoint=timepoint, combine_subgroups=combine_subgroups, title=title
    )


__all__ = [
    "BINARY_MEASURES",
    "CONTINUOUS_MEASURES",
    "PROPORTION_MEASURES",
    "Exclusion",
    "MetaInput",
    "StudyRecord",
    "from_kb",
    "from_rows",
    "query_rows",
]
