"""Sentence writing: one result, one comparison or one reason for caution in plain words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from kb.namespaces import DESIGN, TERM
from kb.plain.records import Arm, Claim, Comparison, Result
from kb.plain.selection import OutcomeKinds, is_primary, matching_control, verdict_of
from kb.plain.words import (
    capitalise,
    count_word,
    fmt_number,
    lower_first,
    timepoint_words,
    whole_percent,
)

UP = {str(TERM["increased"])}


SLIGHTLY_UP = {str(TERM["slightly-increased"])}


DOWN = {str(TERM["decreased"])}

#: Said of a placebo-controlled trial in which both groups got the same other medicines
#: (:func:`kb.plain.selection.placebo_on_top_of_the_same_treatment`).
SAME_BACKGROUND = (
    "Both groups also got the same other medicines, so the placebo group was not left untreated."
)


def withdrawal_sentence(design_iri: str | None, arms: Iterable[Arm]) -> str | None:
    """In a randomised withdrawal trial, who "the placebo group" is: patients already on
    the treatment who were switched to a dummy. Arms are named by their agent in the
    text ("the placebo group"), which alone reads as patients who never had it.
    """
    if design_iri != f"{DESIGN}randomised-withdrawal-trial":
        return None
    arms = list(arms)
    kept = [a for a in arms if a.role == str(TERM["experimental"]) and a.agent_name]
    switched = [a for a in arms if a.role == str(TERM["placebo-comparator"])]
    if len(kept) != 1 or not switched:
        return None
    drug = kept[0].agent_name
    return (
        f"Everyone was taking {drug} at the start. The {switched[0].label} group was "
        f"switched to a dummy treatment; the {kept[0].label} group kept taking {drug}."
    )


def exact_values(result: Result) -> dict[str, str]:
    """The numbers of a result as recorded, for the JSON beside the rounded text."""
    fields = {
        "events": result.events,
        "total": result.total,
        "percent": result.percent,
        "percent_change": result.percent_change,
        "baseline": result.baseline,
        "follow_up": result.follow_up,
    }
    return {k: fmt_number(v) for k, v in fields.items() if v is not None}


def result_sentence(
    result: Result, arm_label: str | None, *, event: bool = True, lead: str = ""
) -> str | None:
    """One result in everyday words, or ``None`` when it holds nothing to say.

    :param event: the outcome is something a patient reaches or has (a
        response, a flare). A count of patients on a measurement (protein in
        the urine) is a count of those who met the study's goal for it, and is
        told that way: "had protein in the urine" would invert its meaning.
    :param lead: words in front of the sentence ("Main result: ").
    """
    name = result.outcome_name
    when = timepoint_words(result.weeks, result.timepoint_text)
    who = f" in the {arm_label} group" if arm_label else ""
    had = f"had {name}" if event else f"met the study's goal for {name}"
    if result.events is not None and result.total is not None:
        pct = f" ({whole_percent(result.percent)})" if result.percent is not None else ""
        text = f"{result.events} of the {result.total} patients{who}{pct} {had}{when}."
    elif result.percent is not None:
        text = f"{whole_percent(result.percent)} of patients{who} {had}{when}."
    elif result.percent_change is not None:
        change = result.percent_change
        verb = "went down" if change < 0 else "went up"
        on_average = "On average, " if result.statistic == str(TERM["mean"]) else ""
        subject = name if on_average else capitalise(name)
        text = f"{on_average}{subject}{who} {verb} by {whole_percent(abs(change))}{when}."
    elif result.baseline is not None and result.follow_up is not None:
        unit = result.unit or ""
        if unit and unit != "%":
            unit = " " + unit
        verb = "went up" if result.follow_up > result.baseline else "went down"
        end = f" at week {fmt_number(result.weeks)}" if result.weeks is not None else " later"
        text = (
            f"{capitalise(name)}{who} {verb} from {fmt_number(result.baseline)}{unit} "
            f"at the start to {fmt_number(result.follow_up)}{unit}{end}."
        )
    elif result.direction in UP | SLIGHTLY_UP | DOWN:
        verb = "went down" if result.direction in DOWN else "went up"
        if result.direction in SLIGHTLY_UP:
            verb = "went up a little"
        text = f"{capitalise(name)}{who} {verb}{when}. No numbers were given for this."
    else:
        return None
    return f"{lead}{lower_first(text)}" if lead else text


def control_clause(result: Result, arm_label: str) -> str | None:
    if result.events is not None and result.total is not None:
        return f"{result.events} of {result.total} in the {arm_label} group"
    if result.percent is not None:
        return f"{whole_percent(result.percent)} in the {arm_label} group"
    return None


def verdict_sentence(
    verdict: bool | None,
    *,
    primary: bool,
    compared: bool,
    against: str | None = None,
    active: tuple[str, str] | None = None,
) -> str | None:
    """What the study's test says about chance, in plain words.

    :param verdict: True (a clear difference), False (not shown), None (no test held).
    :param primary: the result is the study's main outcome, so the sentence
        says whether the study met its main goal.
    :param compared: the text shows a comparison group's figure beside it.
    :param active: (treated group, comparison group) when the comparison group got
        another active treatment. A main goal missed there means the treatment was
        not shown to work better than that one, not that it did not work: "did not
        meet this main goal" would read as a failed treatment.
    """
    if verdict is False and primary and active is not None:
        return (
            f"The study did not show that {active[0]} works better than {active[1]}: "
            "the difference could be chance."
        )
    if verdict is True:
        return (
            "The study met this main goal: the difference is unlikely to be chance."
            if primary
            else "This difference is unlikely to be chance."
        )
    if verdict is False and not compared and against:
        return (
            f"The study compared this with the {against} group "
            "but did not show a clear difference: it could be chance."
        )
    if verdict is False:
        return (
            "The study did not meet this main goal: the difference could be chance."
            if primary
            else "The study did not show a clear difference: it could be chance."
        )
    if compared:
        return "The sources we hold do not say if this difference could be chance."
    return None


def part_of_patients_sentence(result: Result) -> str | None:
    """A caution for results on part of the patients or from later checks."""
    if result.role == str(TERM["post-hoc"]):
        return "This check was chosen after the data were seen, so treat it with care."
    if result.subgroup or result.role == str(TERM["subgroup"]):
        return "This comes from only part of the patients, so treat it with care."
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


@dataclass
class Told:
    """Sentences on one result: the result (with its comparison group's), then
    what the test says about chance, then a caution when it is on part of the patients."""

    sentences: list[tuple[str, list[str], list[str | None], dict[str, dict[str, str]]]]
    results: list[str]
    verdict: bool | None
    primary: bool
    #: A comparison group's figure is shown but no test on it is held.
    untested: bool = False
    #: The comparison group's name when it got another active treatment.
    active_comparator: str | None = None


def tell_result(
    result: Result,
    results: Iterable[Result],
    arms: dict[str, Arm],
    comparisons: list[Comparison],
    kinds: OutcomeKinds,
    *,
    main_label: bool = False,
    say_untested: bool = True,
) -> Told | None:
    """Everything to say about one result of a treated group, or ``None``.

    :param main_label: start with "Main result:" when it is the study's primary outcome.
    :param say_untested: say after the result when no test on the difference is
        held (a summary says it once for all such results instead).
    """
    several = len(arms) > 1
    arm = arms.get(result.arm)
    primary = is_primary(result)
    lead = "Main result: " if main_label and primary else ""
    text = result_sentence(
        result,
        arm.label if several and arm else None,
        event=kinds.is_event(result.outcome_concept),
        lead=lead,
    )
    if not text:
        return None
    iris = [result.iri]
    sources: list[str | None] = [result.source]
    values = {result.iri: exact_values(result)}
    control = matching_control(result, results, arms)
    compared = False
    if control is not None:
        clause = control_clause(control, arms[control.arm].label)
        if clause:
            text = text[:-1] + f", compared with {clause}."
            iris.append(control.iri)
            sources.append(control.source)
            values[control.iri] = exact_values(control)
            compared = True
    if result.subgroup:
        text = f"Among {result.subgroup}: {lower_first(text)}"
    out: list[tuple[str, list[str], list[str | None], dict[str, dict[str, str]]]] = [
        (text, iris, sources, values)
    ]
    verdict, comparison_iris = verdict_of(result, comparisons)
    against = next(
        (
            arms[c.comparator_arm].label
            for c in comparisons
            if c.iri in comparison_iris and c.comparator_arm in arms
        ),
        None,
    )
    untested = verdict is None and compared
    control_arm = arms.get(control.arm) if control is not None else None
    active = (
        (arm.label, control_arm.label)
        if arm is not None
        and control_arm is not None
        and control_arm.role == str(TERM["active-comparator"])
        else None
    )
    srcs: list[str | None] = [c.source for c in comparisons if c.iri in comparison_iris]
    if (
        verdict is True
        and control is not None
        and compared
        and _against_treated(result, control, kinds)
    ):
        # A clear difference meets the main goal only when it favours the treated
        # group, by the outcome's good direction (more responders, fewer flares).
        out.append(
            (
                "This difference is unlikely to be chance, "
                "but it does not favour the treated group.",
                comparison_iris,
                srcs,
                {},
            )
        )
        verdict = False
    else:
        said = verdict_sentence(
            verdict, primary=primary, compared=compared, against=against, active=active
        )
        if said and (say_untested or not untested):
            out.append((said, comparison_iris, srcs, {}))
    caution = part_of_patients_sentence(result)
    if caution:
        out.append((caution, [result.iri], [result.source], {}))
    return Told(out, iris, verdict, primary, untested, active[1] if active else None)


def _against_treated(result: Result, control: Result, kinds: OutcomeKinds) -> bool:
    """True when the treated group did worse than the control by the outcome's good direction."""
    sign = kinds.polarity(result.outcome_concept)
    mine, theirs = _share(result), _share(control)
    return bool(sign and mine is not None and theirs is not None and sign * (mine - theirs) <= 0)


def _share(result: Result) -> Decimal | None:
    """The share of patients with the outcome, in percent, from the counts or the percentage."""
    if result.events is not None and result.total:
        return Decimal(result.events) * 100 / Decimal(result.total)
    return None if result.percent is None else Decimal(result.percent)
