"""A plain-language summary of one study (``ekb summary --plain``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.errors import UsageError
from kb.namespaces import RES, TERM, study_iri
from kb.plain.records import (
    PREFIXES,
    Arm,
    Claim,
    OneReading,
    primary_outcomes,
    read_arms,
    read_claims,
    read_comparisons,
    read_results,
    read_safety,
    read_sources,
    read_study,
    select,
    sources_of,
)
from kb.plain.review_sentences import study_review_lines
from kb.plain.reviews import ReviewFindings, concept_names, review_source, reviews_including
from kb.plain.safety import main_part_lacks_overall, safety_lines
from kb.plain.selection import (
    comparisons_of,
    outcome_kinds,
    placebo_on_top_of_the_same_treatment,
    result_rank,
    role_rank,
    short_extension_label,
    tell_apart_outcomes,
)
from kb.plain.sentences import (
    SAME_BACKGROUND,
    reason_words,
    tell_result,
    withdrawal_sentence,
)
from kb.plain.text import PlainText, Sentences
from kb.plain.words import capitalise, count_word
from kb.store import Store


def resolve_study(store: Store, study: str) -> str:
    """The IRI of a study given its id, its IRI or a ``res:``-relative name.

    :raises UsageError: no such study (with the nearest ids).
    """
    candidates = [study] if study.startswith("http") else [study_iri(study), f"{RES}{study}"]
    for iri in candidates:
        if store.ask(f"{PREFIXES}ASK {{ <{iri}> a ekb:Study }}"):
            return iri
    ids = [
        str(r["id"])
        for r in select(
            store, "SELECT ?id WHERE { ?s a ekb:Study ; ekb:studyId ?id } ORDER BY ?id"
        ).rows
    ]
    from difflib import get_close_matches

    close = get_close_matches(study, ids, n=3, cutoff=0.4)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UsageError(f"no study {study!r} in this knowledge base.{hint}")


def summarise_study(store: Store, study: str, *, kb_dir: Path | None = None) -> PlainText:
    """A plain-language summary of one study, generated from its triples.

    :param study: the study id (``il2-refractory-ln-2021``) or IRI.
    :param kb_dir: the knowledge-base folder the store was loaded from; when given,
        the reviews of it that include the study say, under "How far can we trust
        this?", which pooled results the study is part of and their certainty.
    :raises UsageError: the study is not in the knowledge base.
    :raises CheckFailed: such a review's recorded ratings do not conform.
    """
    iri = resolve_study(store, study)
    store = OneReading(store)
    facts = read_study(store, iri)
    assert facts is not None  # resolve_study checked it exists
    arms = read_arms(store, iri)
    results = read_results(store, iri)
    safety = read_safety(store, iri)
    claims = read_claims(store, iri)
    arm_by_iri = {a.iri: a for a in arms}
    # Extension groups are named without their "open-label extension:" head in the
    # results and side effects, whose periods already say "open-label extension".
    short_arms = {a.iri: short_extension_label(a) for a in arms}
    several_arms = len(arms) > 1
    sentences = Sentences()
    say = sentences.say

    # What was studied
    experimental = [
        a for a in arms if a.role in {str(TERM["experimental"]), str(TERM["single-arm"])}
    ]
    agents = sorted({a.agent_name for a in experimental if a.agent_name})
    condition = facts.condition or "the condition studied"
    if agents:
        say(
            "What was studied",
            f"This study looked at {' and '.join(agents)} for people with {condition}.",
            sources=[facts.source],
        )
    else:
        say(
            "What was studied",
            f"This study looked at treatment for people with {condition}.",
            sources=[facts.source],
        )
    if facts.design:
        say("What was studied", f"It was a {facts.design}.", sources=[facts.source])

    # Who took part
    if facts.enrolled is not None:
        say(
            "Who took part",
            f"{capitalise(count_word(facts.enrolled))} patients took part.",
            sources=[facts.source],
        )
    else:
        say("Who took part", "The sources we hold do not say how many patients took part.")

    # What they received. Extension groups that all got the same treatment are
    # told in one sentence ("In the open-label extension, everyone got belimumab").
    extension_heads: dict[str, list[Arm]] = {}
    for arm in arms:
        head, sep, _ = arm.label.partition(": ")
        if several_arms and sep and "extension" in head.lower():
            extension_heads.setdefault(head, []).append(arm)
    told_heads: set[str] = set()
    for arm in arms:
        if arm.agent_name is None:
            continue
        who = "All patients" if not several_arms else f"Patients in the {arm.label} group"
        head = arm.label.partition(": ")[0]
        if head in extension_heads:
            ext_group = extension_heads[head]
            if len({a.agent_name for a in ext_group}) == 1 and not any(
                a.schedule for a in ext_group
            ):
                if head not in told_heads:
                    told_heads.add(head)
                    say(
                        "What they received",
                        f"In the {head}, everyone got {arm.agent_name}.",
                        sources=[a.source for a in ext_group],
                    )
                continue
            who = f"In the {head}, patients in the {short_extension_label(arm).label} group"
        text = f"{who} got {arm.agent_name}"
        if arm.schedule:
            text += ": " + ", ".join(arm.schedule)
        say("What they received", text + ".", sources=[arm.source])
        if arm.held_constant:
            say(
                "What they received",
                "Their other medicines and steroids were not increased during the study."
                if "steroid" in arm.held_constant.lower()
                else f"The study kept this the same: {arm.held_constant}.",
                sources=[arm.source],
            )
    withdrawal = withdrawal_sentence(facts.design_iri, arms)
    if withdrawal:
        say("What they received", withdrawal, sources=[facts.source])
    if placebo_on_top_of_the_same_treatment(arms):
        say(
            "What they received",
            SAME_BACKGROUND,
            sources=[a.source for a in arms if a.background],
        )

    # What happened: the main outcome first (with whether it was met), then the
    # rest by role; treated groups first, each with its control on the same outcome.
    # Subgroup detail is left to the full data when the whole population has a result.
    whole_concepts = {r.outcome_concept for r in results if not r.subgroup}
    results = [r for r in results if not (r.subgroup and r.outcome_concept in whole_concepts)]
    # Values at week 0 are where patients started, not what happened to them.
    results = [r for r in results if r.weeks is None or r.weeks != 0]
    tell_apart_outcomes(results, store, iri)
    comparisons = read_comparisons(store, iri)
    kinds = outcome_kinds(store, results)
    controls = {
        a.iri for a in arms if a.role not in {str(TERM["experimental"]), str(TERM["single-arm"])}
    }
    with_results = {r.outcome for r in results}
    for outcome, label in primary_outcomes(store, iri):
        if outcome not in with_results:
            say(
                "What happened",
                f"The sources we hold give no result for the study's main outcome ({label}).",
            )
    told: set[str] = set()
    untested = False
    order = sorted(
        results,
        key=lambda r: (
            role_rank(r.role),
            r.arm in controls,
            not comparisons_of(r, comparisons),
            result_rank(r),
            r.iri,
        ),
    )
    for result in order:
        if result.iri in told:
            continue
        if result.arm in controls:
            told_one = tell_result(result, [], short_arms, [], kinds)
        else:
            told_one = tell_result(
                result,
                [r for r in results if r.iri not in told],
                short_arms,
                comparisons,
                kinds,
                main_label=True,
                say_untested=False,
            )
        if told_one is None:
            continue
        told.update(told_one.results)
        untested = untested or told_one.untested
        for text, iris, srcs, values in told_one.sentences:
            say("What happened", text, results=iris, sources=srcs, values=values)
    if untested:
        say(
            "What happened",
            "For the other differences above, the sources we hold give no test of chance.",
        )
    if not any(s.section == "What happened" for s in sentences):
        say("What happened", "The sources we hold give no results for this study.")

    # Side effects: one sentence per event and period, with every group's figure.
    for line in safety_lines(safety, short_arms):
        say(
            "Side effects",
            line.text,
            results=line.findings,
            sources=line.sources,
            values=line.values,
        )
    if main_part_lacks_overall(safety, arm_by_iri):
        say(
            "Side effects",
            "The sources we hold give no numbers on serious side effects "
            "for the main, randomised part of the study.",
        )
    if not any(s.section == "Side effects" for s in sentences):
        say("Side effects", "The sources we hold give no numbers on side effects.")

    # How far can we trust this? One paragraph per distinct judgement (certainty
    # and reasons): two claims with the same rating are told once, cited to the
    # sources of the numbers the rating is about.
    section = "How far can we trust this?"
    judgements: dict[tuple[str | None, tuple[str, ...]], list[Claim]] = {}
    for claim in claims:
        key = (claim.certainty, tuple(sorted(r for r, _ in claim.reasons)))
        judgements.setdefault(key, []).append(claim)
    for group in judgements.values():
        first = group[0]
        claim_iris = [c.iri for c in group]
        helped = [
            c
            for c in group
            if c.direction == str(TERM["benefit"]) and c.intervention_name and c.condition_name
        ]
        if helped:
            say(
                section,
                f"The researchers think {helped[0].intervention_name} "
                f"may help people with {helped[0].condition_name}.",
                claims=[c.iri for c in helped],
                sources=[c.source for c in helped],
                paragraph=True,
            )
        rated_sources: list[str | None] = list(
            sources_of(store, [i for c in group for i in c.supported_by])
        ) or [c.source for c in group]
        if first.certainty:
            say(
                section,
                f"We rate how sure we can be of this as {first.certainty}.",
                claims=claim_iris,
                sources=rated_sources,
                paragraph=not helped,
            )
        cautions = reason_words(first, facts.enrolled, strengths=False)
        if cautions:
            say(section, "There are reasons to be careful.", claims=claim_iris)
        for words in cautions:
            say(section, f"{capitalise(words)}.", claims=claim_iris)
        for words in reason_words(first, facts.enrolled, strengths=True):
            say(section, f"In its favour: {words}.", claims=claim_iris)
    reviews = (
        reviews_including(store, kb_dir, iri.removeprefix(f"{RES}study/"))
        if kb_dir is not None
        else []
    )
    if not claims:
        # A review's rating is about the combined result, not about this study's own.
        say(
            section,
            "Nobody has rated how sure we can be of this study's own results, "
            "so treat them with care."
            if reviews
            else "Nobody has rated how sure we can be of these results yet, "
            "so treat them with care.",
        )
    for review in reviews:
        _say_review(store, review, iri.removeprefix(f"{RES}study/"), say)

    sources = read_sources(store, {i for s in sentences for i in s.sources})
    for review in reviews:
        sources[review.iri] = review_source(review)
    title = f"{facts.title}: a summary in plain words"
    extra: dict[str, object] = {"study": iri}
    if reviews:
        extra["reviews"] = [r.to_json() for r in reviews]
    return PlainText(title, sentences, sources, extra=extra)


def _say_review(store: Store, review: ReviewFindings, study_id: str, say: Any) -> None:
    """The review that includes the study, in the trust section: the study's part in
    its pooled results and their GRADE certainty (a body-of-evidence rating, which
    belongs to the review's outcome rather than to the study)."""
    from kb.grade.rules import LEVELS

    certainty_terms = {level: f"{TERM}certainty-{level.replace(' ', '-')}" for level in LEVELS}
    names = concept_names(store, [*(o.concept for o in review.outcomes), *certainty_terms.values()])
    words = {level: names.get(i, level) for level, i in certainty_terms.items()}
    for line in study_review_lines(review, study_id, names, words):
        say(
            "How far can we trust this?",
            line.text,
            sources=[review.iri],
            reviews=[review.iri],
            paragraph=line.starts_paragraph,
        )
