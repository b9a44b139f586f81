"""Sentences on a review's findings: the pooled effect, how sure we can be, and why.

Every number is a field of the review's Summary of Findings row (:mod:`kb.grade.sof`):
studies, participants, risks per 1,000 with the comparator and with the treatment, and
the range of the difference. The certainty is the row's GRADE rating, told in the words
the knowledge base uses for every certainty (``ekb:plainLabel`` of ``term:certainty-*``)
and in GRADE's informative-statement style (Santesso et al., J Clin Epidemiol
2020;119:126-135: high "reduces", moderate "probably reduces", low "may reduce", very low
"the evidence is very uncertain"), as :func:`kb.grade.evidence.plain_statement` writes it.
An outcome whose certainty is not rated gets no pooled numbers: the answer says a review
covers it and what is still to be judged, never a rating the review does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kb.grade import rules
from kb.plain.reviews import ReviewFindings, ReviewOutcome
from kb.plain.selection import OutcomeKinds
from kb.plain.words import capitalise, count_word, lower_first

#: Why a review's certainty was rated down, by GRADE domain, in everyday words
#: (about a body of studies, where the per-study reasons speak of one study).
DOWN_WORDS = {
    "risk of bias": "the way some studies were done may have skewed the results",
    "inconsistency": "the studies' results differ from each other",
    "indirectness": "the studies did not look at exactly this question",
    "imprecision": "there were too few people or events to be sure",
    "publication bias": "some studies may never have been published",
}
#: What is still to be judged when a domain has no rating yet: (one study, several).
UNJUDGED_WORDS = {
    "risk of bias": ("how well the study was done", "how well the studies were done"),
    "inconsistency": ("whether the studies agree", "whether the studies agree"),
    "indirectness": (
        "whether the study matches the question",
        "whether the studies match the question",
    ),
    "imprecision": ("how precise the result is", "how precise the result is"),
    "publication bias": (
        "whether some studies went unpublished",
        "whether some studies went unpublished",
    ),
}
UP_WORDS = {
    "large effect": "the effect is large",
    "dose-response gradient": "more of the treatment brought more effect",
    "plausible confounding": "other causes would, if anything, hide the effect",
}
NOT_RANDOMISED = "chance did not decide who got the treatment"


@dataclass
class ReviewLine:
    """One sentence on a review, with the review and the studies it rests on."""

    text: str
    review: str  #: the review's IRI
    study_ids: tuple[str, ...] = ()
    starts_paragraph: bool = False
    values: dict[str, Any] | None = None


def review_lines(
    findings: ReviewFindings,
    treatment: str,
    comparator: str,
    outcome_names: dict[str, str],
    kinds: OutcomeKinds,
    certainty_words: dict[str, str],
) -> list[ReviewLine]:
    """What a review says about a treatment, outcome by outcome, before the single studies.

    :param treatment: the treatment's plain name ("low-dose interleukin-2 (IL-2)").
    :param comparator: the review's comparators in plain words ("placebo or usual care").
    :param outcome_names: plain names of outcome concepts by IRI.
    :param certainty_words: the plain words of each GRADE level ("low" ->
        "low: the truth may be quite different").
    """
    lines: list[ReviewLine] = []
    iri = findings.iri
    lines.append(
        ReviewLine(
            f"A review in this knowledge base brings together the studies of {treatment}.",
            iri,
            starts_paragraph=True,
        )
    )
    told_any = False
    unusable: list[str] = []
    for outcome in findings.outcomes:
        name = outcome_names.get(outcome.concept, outcome.label)
        if not outcome.usable:
            unusable.append(name)
            continue
        told = (
            _rated_lines(findings, outcome, name, treatment, comparator, kinds, certainty_words)
            if outcome.rating
            else _unrated_lines(outcome, name, iri)
        )
        told[0].starts_paragraph = told_any
        lines += told
        told_any = True
    if unusable:
        # The review's meta-analysis needs counts (or means) from both groups; a study
        # that reports only percentages, or has one group, gives it nothing to combine.
        these = "this outcome" if len(unusable) == 1 else "these outcomes"
        lines.append(
            ReviewLine(
                f"For {these}, it had no counts from both groups to combine: {_and(unusable)}.",
                iri,
                starts_paragraph=told_any,
            )
        )
    lines.append(ReviewLine("Next come the single studies, one by one.", iri))
    return lines


def _size(outcome: ReviewOutcome) -> str:
    """ "three studies with 620 people", from the Summary of Findings row."""
    n = outcome.row.studies
    studies = f"{count_word(n)} {'study' if n == 1 else 'studies'}"
    people = outcome.row.participants
    return studies if people is None else f"{studies} with {people} people"


def _rated_lines(
    findings: ReviewFindings,
    outcome: ReviewOutcome,
    name: str,
    treatment: str,
    comparator: str,
    kinds: OutcomeKinds,
    certainty_words: dict[str, str],
) -> list[ReviewLine]:
    iri = findings.iri
    row = outcome.row
    ids = tuple(row.study_ids)
    pooled = "pooled" if row.studies > 1 else "looked at"
    lines = [ReviewLine(f"On {name}, it {pooled} {_size(outcome)}.", iri, ids)]
    ab = row.absolute_effect
    if ab:
        had = f"had {name}" if kinds.is_event(outcome.concept) else f"met the goal for {name}"
        lines.append(
            ReviewLine(
                f"With {treatment}, about {ab['intervention_per_1000']} in 1,000 people {had}. "
                f"With {comparator}, {ab['comparator_per_1000']} in 1,000 did.",
                iri,
                ids,
                values={
                    f"{iri}/outcome/{outcome.key}": {
                        "absolute_effect": ab,
                        "relative_effect": row.relative_effect,
                    }
                },
            )
        )
        lines.append(
            ReviewLine(
                f"So the difference is about {_per_1000(ab['difference_per_1000'])} in 1,000. "
                "The true difference is likely to be "
                f"{_range(ab['difference_ci_lower'], ab['difference_ci_upper'])}.",
                iri,
                ids,
            )
        )
    level = outcome.rating or ""
    words = certainty_words.get(level, level)
    lines.append(ReviewLine(f"How sure can we be? {capitalise(words)}.", iri, ids))
    statement = _statement(row.statement, findings, outcome.label, name, treatment)
    if statement:
        lines.append(ReviewLine(statement, iri, ids))
    why = _why(row.certainty)
    if why:
        lines.append(ReviewLine(why, iri, ids))
    return lines


def _unrated_lines(outcome: ReviewOutcome, name: str, iri: str) -> list[ReviewLine]:
    ids = tuple(outcome.row.study_ids)
    lines = [
        ReviewLine(f"On {name}, it looked at {_size(outcome)}.", iri, ids),
        ReviewLine("The review has not yet rated how sure we can be about this.", iri, ids),
        ReviewLine(
            "So we give no rated finding on it here, only the single studies below.", iri, ids
        ),
    ]
    several = outcome.row.studies != 1
    pending = [
        UNJUDGED_WORDS[d.domain][several]
        for d in outcome.row.certainty.domains
        if d.domain in rules.DOWN_DOMAINS
        and d.final not in rules.DOWN_LEVELS
        and d.final != rules.NOT_ASSESSABLE
    ]
    if pending:
        lines.append(ReviewLine(f"Still to be judged: {_and(pending)}.", iri, ids))
    return lines


def _statement(
    statement: str, findings: ReviewFindings, label: str, name: str, treatment: str
) -> str:
    """GRADE's statement of the Summary of Findings, with the plain names of the
    outcome and the treatment in place of the review's labels (the wording, and so
    the judgement it states, stays the Summary of Findings')."""
    if not statement:
        return ""
    text = statement.replace(label, name)
    review_name = findings.intervention_text
    if review_name and review_name != treatment:
        text = text.replace(capitalise(review_name), capitalise(treatment))
        text = text.replace(review_name, treatment)
    return text


def _why(certainty: Any) -> str:
    """The main reason the certainty was rated down (the domain that took most
    levels, GRADE's order breaking ties), then the others; and what rated it up."""
    downs = sorted(
        (d for d in certainty.domains if d.domain in rules.DOWN_DOMAINS and d.levels < 0),
        key=lambda d: (d.levels, rules.DOWN_DOMAINS.index(d.domain)),
    )
    ups = [UP_WORDS[d.domain] for d in certainty.domains if d.domain in UP_WORDS and d.levels > 0]
    reasons = [DOWN_WORDS[d.domain] for d in downs]
    if certainty.start == "low":
        reasons.insert(0, NOT_RANDOMISED)
    text = ""
    if reasons:
        text = f"Why: mainly because {reasons[0]}"
        if len(reasons) > 1:
            text += f"; also because {_and(reasons[1:])}"
        text += "."
    if ups:
        text += f"{' ' if text else ''}In its favour: {_and(ups)}."
    return text


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _per_1000(diff: int) -> str:
    """ "86 more", "12 fewer", "no more and no fewer"."""
    if diff == 0:
        return "the same"
    return f"{abs(diff)} {'more' if diff > 0 else 'fewer'}"


def _range(lo: int, hi: int) -> str:
    """The difference's 95% confidence interval in words.

    >>> _range(17, 176), _range(-29, 833)
    ('between 17 and 176 more', 'between 29 fewer and 833 more')
    >>> _range(-40, -5), _range(0, 12)
    ('between 5 and 40 fewer', 'between none and 12 more')
    """
    if lo >= 0:
        return f"between {lo if lo else 'none'} and {hi} more"
    if hi <= 0:
        return f"between {abs(hi) if hi else 'none'} and {abs(lo)} fewer"
    return f"between {abs(lo)} fewer and {hi} more"


def review_bottom_line(
    findings: ReviewFindings, treatment: str, outcome_names: dict[str, str]
) -> str | None:
    """The bottom line from a review's most important rated outcome: its GRADE statement
    with the certainty; None when no outcome of the review is rated."""
    for outcome in findings.outcomes:
        if outcome.usable and outcome.rating:
            name = outcome_names.get(outcome.concept, outcome.label)
            statement = _statement(outcome.row.statement, findings, outcome.label, name, treatment)
            return (
                f"Bottom line, from the review: {lower_first(statement.rstrip('.'))} "
                f"({outcome.rating} certainty)."
            )
    return None


def study_review_lines(
    findings: ReviewFindings,
    study_id: str,
    outcome_names: dict[str, str],
    certainty_words: dict[str, str],
) -> list[ReviewLine]:
    """What a review that includes a study makes of it, for the study's summary: the
    outcomes whose pooled result the study is part of, and the certainty of each
    (or that it is not rated yet)."""
    iri = findings.iri
    lines: list[ReviewLine] = []
    for outcome in findings.outcomes:
        row = outcome.row
        if not outcome.usable or study_id not in row.study_ids:
            continue
        name = outcome_names.get(outcome.concept, outcome.label)
        others = row.studies - 1
        if others:
            text = (
                f"A review in this knowledge base combined this study with "
                f"{count_word(others)} other{'s' if others > 1 else ''} on {name}."
            )
        else:
            text = f"A review in this knowledge base looked at {name} in this study alone."
        lines.append(ReviewLine(text, iri, tuple(row.study_ids), starts_paragraph=not lines))
        if outcome.rating:
            words = certainty_words.get(outcome.rating, outcome.rating)
            lines.append(
                ReviewLine(f"It rates how sure we can be of the combined result as {words}.", iri)
            )
        else:
            lines.append(ReviewLine("It has not yet rated how sure we can be of this.", iri))
    if not lines:
        lines.append(
            ReviewLine(
                "A review in this knowledge base includes this study, "
                "but it could not use the study's numbers to compare groups.",
                iri,
                starts_paragraph=True,
            )
        )
    return lines
