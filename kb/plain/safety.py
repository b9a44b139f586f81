"""Safety sentences: which group, which event, which period, with both groups' figures.

A safety record counts one event in one group (``ekb:SafetyFinding``). The
sentences here put the records of one event and period together, so that the
treated group's figure is told beside the comparison group's, and a group
with no record is named as such rather than left out. Only a record whose
event is the count of all serious adverse events speaks for "a serious side
effect"; one kind of serious event (a serious infection) is told by its name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kb.namespaces import TERM
from kb.plain.records import Arm, SafetyFinding
from kb.plain.selection import is_death, is_extension, is_overall_serious
from kb.plain.words import whole_percent

#: Arm roles of the randomised (or single-arm) part of a study.
MAIN_ROLES = {
    str(TERM[n]) for n in ("experimental", "single-arm", "placebo-comparator", "active-comparator")
} | {str(TERM["standard-of-care"])}


#: Event terms that count every adverse event, serious or not.
ANY_EVENT_TERMS = {"any adverse event", "any adverse events", "adverse events"}


@dataclass
class SafetyLine:
    """One sentence on one event and period, with the records it states."""

    text: str
    findings: list[str]
    sources: list[str | None]
    overall: bool = False
    values: dict[str, dict[str, str]] = field(default_factory=dict)


def _key(finding: SafetyFinding) -> tuple[int, str, str]:
    if is_overall_serious(finding):
        kind = 0
    elif is_death(finding.term):
        kind = 1
    elif finding.serious:
        kind = 2
    else:
        kind = 3
    return (kind, finding.term.lower().strip(), (finding.when or "").strip())


def _role_rank(arm: Arm | None) -> int:
    if arm is None:
        return 3
    if arm.role in {str(TERM["experimental"]), str(TERM["single-arm"])}:
        return 0
    return 1 if arm.role in MAIN_ROLES else 2


def _figure(finding: SafetyFinding) -> str | None:
    """How many had the event, in words, or ``None`` when no number was given."""
    if finding.affected == 0:
        return f"none of the {finding.at_risk}" if finding.at_risk is not None else "no one"
    if finding.affected is not None and finding.at_risk is not None:
        return f"{finding.affected} of the {finding.at_risk}"
    if finding.affected is not None:
        return f"{finding.affected} {'person' if finding.affected == 1 else 'people'}"
    if finding.percent is not None:
        return whole_percent(finding.percent)
    return None


def _values(finding: SafetyFinding) -> dict[str, str]:
    fields = {"affected": finding.affected, "at_risk": finding.at_risk, "percent": finding.percent}
    return {k: str(v) for k, v in fields.items() if v is not None}


def _when(text: str | None) -> str:
    if not text:
        return ""
    first = text.split(" ", 1)[0].lower()
    return f" {text}" if first in {"during", "after", "by", "at", "in", "over"} else f" ({text})"


def safety_lines(
    findings: list[SafetyFinding],
    arms: dict[str, Arm],
    *,
    only_arms: set[str] | None = None,
    overall_and_deaths_only: bool = False,
) -> list[SafetyLine]:
    """The study's safety records as sentences, one per event and period.

    :param only_arms: tell only events recorded in one of these arms (the
        treatment an answer is about); the other groups' figures on the same
        event and period are still told beside them.
    :param overall_and_deaths_only: leave out single kinds of events.
    """
    several = len(arms) > 1
    groups: dict[tuple[int, str, str], list[SafetyFinding]] = {}
    for finding in findings:
        groups.setdefault(_key(finding), []).append(finding)
    # A group with an explicit zero for all serious events had none of any kind.
    no_serious = {f.arm for f in findings if is_overall_serious(f) and f.affected == 0}
    lines: list[SafetyLine] = []
    for key in sorted(groups):
        kind, term, when_text = key
        group = groups[key]
        if overall_and_deaths_only and kind > 1:
            continue
        if only_arms is not None and not any(f.arm in only_arms for f in group):
            continue
        if kind == 0:
            event = "had a serious side effect"
        elif term in ANY_EVENT_TERMS:
            event = "had a side effect of any kind"
        elif kind == 1:
            event = "died"
        else:
            event = f"had {group[0].term}"
        when = _when(group[0].when)
        # The treated groups first, then their comparison, as a reader expects.
        group.sort(key=lambda f: (_role_rank(arms.get(f.arm)), f.iri))
        numbered = [(f, _figure(f)) for f in group]
        told = [(f, fig) for f, fig in numbered if fig is not None]
        unnumbered = [f for f, fig in numbered if fig is None]
        parts = []
        for finding, figure in told:
            arm = arms.get(finding.arm)
            if several and arm is not None:
                parts.append(f"{figure} in the {arm.label} group")
            else:
                parts.append(f"{figure} {'patients' if figure[0].isdigit() else ''}".strip())
        texts = []
        if parts:
            subject = " and ".join(parts)
            if not several and told[0][0].affected == 0:
                subject = "No patient"
            texts.append(f"{subject[:1].upper()}{subject[1:]} {event}{when}.")
        for finding in unnumbered:
            arm = arms.get(finding.arm)
            where = f" in the {arm.label} group" if several and arm is not None else ""
            texts.append(f"The sources report {finding.term}{where}{when}, without numbers.")
        # Name the groups of the same part of the study that have no record of this event.
        in_extension = any(is_extension(arms.get(f.arm), f.when) for f in group)
        recorded = {f.arm for f in group}
        missing = [
            arm
            for arm in arms.values()
            if arm.iri not in recorded
            and arm.role in MAIN_ROLES
            and not in_extension
            and not is_extension(arm, None)
            and not (kind == 2 and arm.iri in no_serious)
        ]
        if several and missing:
            names = " and ".join(f"the {a.label} group" for a in missing)
            texts.append(f"The sources we hold give no figure for {names}.")
        lines.append(
            SafetyLine(
                " ".join(texts),
                [f.iri for f in group],
                [f.source for f in group],
                overall=kind == 0,
                values={f.iri: _values(f) for f in group},
            )
        )
    return lines


def main_part_lacks_overall(findings: list[SafetyFinding], arms: dict[str, Arm]) -> bool:
    """True when only an extension, not the study's main part, has overall serious counts."""
    overall = [f for f in findings if is_overall_serious(f)]
    in_main = [f for f in overall if not is_extension(arms.get(f.arm), f.when) and f.arm in arms]
    return bool(overall) and not in_main
