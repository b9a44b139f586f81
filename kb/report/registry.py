"""Study pages: what the trial registered against what its publication reported.

Read from :mod:`kb.discrepancies` (``ekb discrepancies``): :func:`kb.discrepancies.kb_report`
says, per study with a registration id, whether the knowledge base holds a registry record
of it, and :func:`kb.discrepancies.compare` lists the discrepancies with both sides and the
basis of each outcome match. This module only puts them into words; it tells apart "no
registration id recorded", "no registry record held" (nothing could be compared) and "no
discrepancy found" (compared, and the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb.store import Store

#: Each kind of ``ekb discrepancies`` in words (the codes follow COMPare and Holst et al.).
KIND_WORDS = {
    "new_primary": "new primary outcome: published as primary, not registered",
    "primary_omitted": "registered primary outcome not reported",
    "primary_to_secondary": "registered primary outcome reported as secondary",
    "secondary_to_primary": "registered secondary outcome reported as primary",
    "outcome_added": "outcome reported that was not registered",
    "outcome_omitted": "registered outcome not reported",
    "timeframe_changed": "the same outcome at another time point",
    "enrollment_changed": "enrolment differs from the registered number",
}


@dataclass
class DiscrepancyLine:
    """One discrepancy as the page shows it: kind, both sides with their source, basis."""

    kind: str
    words: str
    registered: str | None
    registered_source: str | None  # where in the registry record
    registered_study: str | None  # the registry study it was read from
    published: str | None
    published_source: str | None  # locator in the publication
    basis: str


@dataclass
class RegistryComparison:
    registry_study: str
    lines: list[DiscrepancyLine]


@dataclass
class RegistryView:
    """What one study page says about registry discrepancies."""

    registrations: list[str]
    is_registry_record: bool = False
    #: one per registry record held of this study's registration ids (none: none held)
    comparisons: list[RegistryComparison] = field(default_factory=list)
    #: for a registry record: the publication studies compared with it
    compared_by: list[str] = field(default_factory=list)


def _outcome_side(side: dict[str, Any] | None) -> tuple[str | None, str | None]:
    if side is None:
        return None, None
    if "enrolment" in side:
        return (
            f"{side['enrolment']} participants ({side['enrolment_type']})",
            side.get("locator"),
        )
    if "enrolled" in side:
        return f"{side['enrolled']} enrolled", None
    when = f", {side['timepoint']}" if side.get("timepoint") else ""
    if not when and side.get("timepoint_weeks") is not None:
        when = f", week {side['timepoint_weeks']:g}"
    return f"{side['role'] or 'role not stated'}: {side['label']}{when}", side.get("locator")


def basis_text(basis: dict[str, Any]) -> str:
    """How the two sides were matched, with its score.

    >>> basis_text({"method": "text similarity", "score": 0.912, "threshold": 0.75})
    'text similarity 0.912 (at least 0.75)'
    >>> basis_text({"method": "no match", "best_score": 0.41, "threshold": 0.75,
    ...             "best_candidate": "IGA response"})
    "no match: best candidate 'IGA response' scored 0.41, below 0.75"

    Outcomes are matched one to one, so a candidate over the threshold can be taken by a
    better match; the words then say so rather than "below":

    >>> basis_text({"method": "no match", "best_score": 0.99, "threshold": 0.75,
    ...             "best_candidate": "IGA response"})
    "no match: best candidate 'IGA response' scored 0.99 but is matched to another outcome"
    """
    method = str(basis.get("method"))
    if method == "no match":
        score, threshold = basis.get("best_score"), basis.get("threshold")
        if score is None:
            return "no match: nothing on the other side to compare with"
        head = f"no match: best candidate '{basis.get('best_candidate')}' scored {score}"
        if threshold is not None and score >= threshold:
            return head + " but is matched to another outcome"
        return f"{head}, below {threshold}"
    if method == "text similarity":
        return f"text similarity {basis['score']} (at least {basis.get('threshold')})"
    if method == "outcome concept":
        return f"same outcome concept ({basis.get('concept')})"
    if method == "registration id":
        return f"registration id (difference {basis.get('difference'):+d})"
    return method


def _line(d: Any) -> DiscrepancyLine:
    reg = d.registered
    reg_text, reg_source = _outcome_side(reg)
    pub_text, pub_source = _outcome_side(d.published)
    basis = basis_text(d.basis)
    if d.kind == "timeframe_changed":
        basis += (
            f"; registered week {d.basis['registered_weeks']:g}, "
            f"published week {d.basis['published_weeks']:g}"
        )
    return DiscrepancyLine(
        kind=d.kind,
        words=KIND_WORDS.get(d.kind, d.kind),
        registered=reg_text,
        registered_source=reg_source,
        registered_study=None if reg is None else reg.get("study"),
        published=pub_text,
        published_source=pub_source,
        basis=basis,
    )


def gather_registry(store: Store) -> dict[str, RegistryView]:
    """Study id -> what its page says about registry discrepancies (every study)."""
    from kb import discrepancies
    from kb.queries import run_query

    views: dict[str, RegistryView] = {}
    for row in run_query(store, "registry-links").rows:
        sid = str(row["study_id"])
        view = views.setdefault(sid, RegistryView([]))
        reg = row.get("registration")
        if reg is not None and str(reg) not in view.registrations:
            view.registrations.append(str(reg))
        if str(row.get("is_registry_record")) == "true":
            view.is_registry_record = True
    for report in discrepancies.kb_report(store):
        sid = report["study_id"]
        view = views[sid]
        for registry in sorted(filter(None, str(report["registry_study_id"] or "").split("; "))):
            lines = [_line(d) for d in discrepancies.compare(store, sid, registry)]
            view.comparisons.append(RegistryComparison(registry, lines))
            if registry in views:
                views[registry].compared_by.append(sid)
    return views
