"""Sentence writing: one result, one comparison or one reason for caution in plain words."""

from __future__ import annotations

from kb.namespaces import TERM
from kb.plain.records import Claim, Result
from kb.plain.words import capitalise, count_word, fmt_number, timepoint_words

UP = {str(TERM["increased"])}


SLIGHTLY_UP = {str(TERM["slightly-increased"])}


DOWN = {str(TERM["decreased"])}


def result_sentence(result: Result, arm_label: str | None) -> str | None:
    """One result in everyday words, or ``None`` when it holds nothing to say."""
    name = result.outcome_name
    when = timepoint_words(result.weeks, result.timepoint_text)
    who = f" in the {arm_label} group" if arm_label else ""
    if result.events is not None and result.total is not None:
        pct = f" ({fmt_number(result.percent)}%)" if result.percent is not None else ""
        return f"{result.events} of the {result.total} patients{who}{pct} had {name}{when}."
    if result.percent is not None:
        return f"{fmt_number(result.percent)}% of patients{who} had {name}{when}."
    if result.percent_change is not None:
        change = result.percent_change
        verb = "went down" if change < 0 else "went up"
        lead = "On average, " if result.statistic == str(TERM["mean"]) else ""
        subject = name if lead else capitalise(name)
        return f"{lead}{subject}{who} {verb} by {fmt_number(abs(change))}%{when}."
    if result.baseline is not None and result.follow_up is not None:
        unit = result.unit or ""
        if unit and unit != "%":
            unit = " " + unit
        verb = "went up" if result.follow_up > result.baseline else "went down"
        end = f" at week {fmt_number(result.weeks)}" if result.weeks is not None else " later"
        return (
            f"{capitalise(name)}{who} {verb} from {fmt_number(result.baseline)}{unit} at the start "
            f"to {fmt_number(result.follow_up)}{unit}{end}."
        )
    if result.direction in UP | SLIGHTLY_UP | DOWN:
        verb = "went down" if result.direction in DOWN else "went up"
        if result.direction in SLIGHTLY_UP:
            verb = "went up a little"
        return f"{capitalise(name)}{who} {verb}{when}. No numbers were given for this."
    return None


def control_clause(result: Result, arm_label: str) -> str | None:
    if result.events is not None and result.total is not None:
        return f"{result.events} of {result.total} in the {arm_label} group"
    if result.percent is not None:
        return f"{fmt_number(result.percent)}% in the {arm_label} group"
    return None


#: The order in which reasons for caution are told: the plainest first.
REASON_ORDER = [
    str(TERM[name])
    for name in (
        "small-sample",
        "no-comparator",
        "open-label-design",
        "surrogate-outcome",
        "single-study",
        "non-final-source",
        "post-hoc-analysis",
        "primary-endpoint-not-met",
        "imprecision",
        "risk-of-bias",
        "indirectness",
        "inconsistency",
    )
]


#: Reasons that rate certainty up rather than down.
STRENGTHS = {str(TERM["randomised-double-blind"])}


def reason_words(
    claim: Claim, enrolled: int | None, *, strengths: bool = False, other_studies: bool = False
) -> list[str]:
    """The claim's reasons for caution (or, with ``strengths``, in its favour), in
    everyday words and a fixed order. With ``other_studies`` (an answer that
    lists several studies of the treatment) "only one study" is left out: it
    was true of the claim alone, not of the evidence shown beside it."""

    def order(item: tuple[str, str]) -> tuple[int, str]:
        iri = item[0]
        return (REASON_ORDER.index(iri) if iri in REASON_ORDER else len(REASON_ORDER), iri)

    words = []
    for iri, text in sorted(claim.reasons, key=order):
        if (iri in STRENGTHS) != strengths or (other_studies and iri == str(TERM["single-study"])):
            continue
        if iri == str(TERM["small-sample"]) and enrolled is not None:
            text = f"only {count_word(enrolled)} patients took part"
        words.append(text)
    return words
