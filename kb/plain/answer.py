"""An answer to a patient's question from the knowledge base (``ekb ask``)."""

from __future__ import annotations

from typing import Any

from kb.plain.question import concept_labels, mentioned, topic_words
from kb.plain.records import (
    StudyFacts,
    count_studies,
    covered_conditions,
    narrower_closure,
    read_arms,
    read_claims,
    read_results,
    read_safety,
    read_sources,
)
from kb.plain.selection import (
    InterventionEvidence,
    interventions_for,
    is_any_serious_event,
    is_death,
    matching_control,
    result_rank,
)
from kb.plain.sentences import control_clause, reason_words, result_sentence
from kb.plain.text import PlainText, Sentences
from kb.plain.words import capitalise, count_word, fmt_number, with_article
from kb.store import Store

#: At most this many studies of one treatment are described one by one in an answer.
MAX_STUDIES_PER_TREATMENT = 6


def answer_question(store: Store, question: str) -> PlainText:
    """Answer a patient's question from the knowledge base.

    Finds the conditions (and, if named, the treatments) the question is about
    through the vocabularies, then lists the interventions the knowledge base
    has evidence for, strongest first, each with one sentence on benefit, one
    on safety and the caveats. A question about something the knowledge base
    does not hold gets a plain "no evidence" answer and the conditions it does
    cover.
    """
    cond_base = "https://w3id.org/evidence-kb/vocab/condition/"
    agent_base = "https://w3id.org/evidence-kb/vocab/agent/"
    conditions = mentioned(concept_labels(store, cond_base), question)
    agents_named = mentioned(concept_labels(store, agent_base), question)
    sentences = Sentences()
    say = sentences.say

    covered = covered_conditions(store)
    if not conditions:
        topic = topic_words(question)
        say("Answer", f"There is no evidence about {topic} in this knowledge base.")
        if covered:
            say(
                "What this knowledge base covers",
                "It holds studies on these conditions: " + ", ".join(covered) + ".",
            )
        say(
            "Talk to your doctor",
            "Please talk with your doctor about your own situation and your choices.",
        )
        return PlainText(
            f"Your question: {question.strip()}",
            sentences,
            {},
            extra={"question": question, "conditions": [], "covered": covered},
        )

    scope = narrower_closure(store, [c.concept for c in conditions])
    agent_scope = (
        narrower_closure(store, [a.concept for a in agents_named]) if agents_named else None
    )
    evidence = interventions_for(store, scope, agent_scope)
    names = sorted({c.name for c in conditions})
    say(
        "Answer",
        f"We looked for studies on {' and '.join(names)}, including its more specific forms.",
    )
    if not evidence:
        what = (
            " and ".join(sorted({a.name for a in agents_named}))
            if agents_named
            else "any treatment"
        )
        say(
            "Answer",
            f"There is no evidence about {what} for {' and '.join(names)} in this knowledge base.",
        )
    else:
        say(
            "Answer",
            f"This knowledge base has evidence on {count_word(len(evidence))} "
            f"treatment{'s' if len(evidence) != 1 else ''}, "
            "listed from the strongest evidence to the weakest.",
        )

    all_sources: set[str] = set()
    for item in evidence:
        describe_intervention(store, item, say)
    for s in sentences:
        all_sources.update(s.sources)

    n_held = count_studies(store)
    say(
        "What this knowledge base does not cover",
        f"It holds only the {count_word(n_held)} {'study' if n_held == 1 else 'studies'} "
        "entered into it. "
        "It says nothing about diet, exercise, other medicines or new research it does not hold.",
    )
    say(
        "Talk to your doctor",
        "This is not medical advice. Please talk with your doctor "
        "before you start, stop or change any treatment.",
    )
    return PlainText(
        f"Your question: {question.strip()}",
        sentences,
        read_sources(store, all_sources),
        extra={
            "question": question,
            "conditions": sorted(c.concept for c in conditions),
            "interventions": [item.agent for item in evidence],
            "covered": covered,
        },
    )


def describe_intervention(store: Store, item: InterventionEvidence, say: Any) -> None:
    """One section of an answer: the treatment's studies, strongest first, each with
    its headline result and how sure we can be, then what is known about safety."""
    section = capitalise(item.name)
    n_studies = len(item.studies)
    known = [s for s in item.studies if s.enrolled is not None]
    people = f" with {item.participants} patients in all" if known else ""
    unknown = n_studies - len(known)
    if known and unknown:
        studies_are = "study is" if unknown == 1 else "studies is"
        people += f" (the size of {count_word(unknown)} {studies_are} not given)"
    say(
        section,
        f"There {'is' if n_studies == 1 else 'are'} {count_word(n_studies)} "
        f"{'study' if n_studies == 1 else 'studies'}{people}.",
        sources=[s.source for s in item.studies],
    )

    studies = sorted(item.studies, key=lambda s: (-s.design_rank, -(s.enrolled or 0), s.iri))
    silent: list[StudyFacts] = []
    told = 0
    for study in studies:
        benefit = benefit_sentence(store, item, study)
        if benefit is None or told >= MAX_STUDIES_PER_TREATMENT:
            silent.append(study)
            continue
        told += 1
        design = with_article(study.design) if study.design else "A study"
        size = f" in {study.enrolled} people" if study.enrolled is not None else " in people"
        who = f" with {study.condition}" if study.condition else ""
        say(section, f"{capitalise(design)}{size}{who}.", sources=[study.source], paragraph=True)
        text, result_iris, claim_iris, sources = benefit
        say(section, text, results=result_iris, claims=claim_iris, sources=sources)
        for claim in read_claims(store, study.iri):
            if claim.intervention not in (None, item.agent) or not claim.certainty:
                continue
            reasons = reason_words(claim, study.enrolled, other_studies=n_studies > 1)
            why = f" Why: {'; '.join(reasons)}." if reasons else ""
            strengths = reason_words(claim, study.enrolled, strengths=True)
            why += f" In its favour: {'; '.join(strengths)}." if strengths else ""
            say(
                section,
                f"How sure can we be? {capitalise(claim.certainty)}.{why}",
                claims=[claim.iri],
                sources=[claim.source],
            )
            break
    if silent:
        say(
            section,
            paragraph=True,
            text=(
                f"{capitalise(count_word(len(silent)))} more "
                f"{'study gives' if len(silent) == 1 else 'studies give'} "
                "no result we can put in plain words here."
            ),
            sources=[s.source for s in silent],
        )

    for i, (text, iris, sources) in enumerate(safety_sentences(store, item, studies)):
        say(section, text, results=iris, sources=sources, paragraph=i == 0)


def benefit_sentence(
    store: Store,
    item: InterventionEvidence,
    study: StudyFacts,
) -> tuple[str, list[str], list[str], list[str | None]] | None:
    """The headline result of ``study`` for the treatment, with the control arm's
    result on the same outcome when there is one."""
    arms = {a.iri: a for a in read_arms(store, study.iri)}
    several = len(arms) > 1
    claims = [c for c in read_claims(store, study.iri) if c.intervention in (None, item.agent)]
    results = {r.iri: r for r in read_results(store, study.iri)}
    supported = [results[i] for c in claims for i in c.supported_by if i in results]
    whole = [r for r in results.values() if not r.subgroup]
    for candidates in (supported, whole):
        experimental = [
            r for r in candidates if arms.get(r.arm) and arms[r.arm].agent == item.agent
        ]
        for result in sorted(experimental, key=lambda r: (result_rank(r), r.iri)):
            text = result_sentence(result, arms[result.arm].label if several else None)
            if not text:
                continue
            iris = [result.iri]
            sources: list[str | None] = [result.source]
            control = matching_control(result, results.values(), arms)
            if control is not None:
                clause = control_clause(control, arms[control.arm].label)
                if clause:
                    text = text[:-1] + f", compared with {clause}."
                    iris.append(control.iri)
                    sources.append(control.source)
            return text, iris, [c.iri for c in claims], sources
    return None


def safety_sentences(
    store: Store,
    item: InterventionEvidence,
    studies: list[StudyFacts],
) -> list[tuple[str, list[str], list[str | None]]]:
    """What the studies say about serious side effects of the treatment, strongest study first.

    Only findings that count all serious adverse events speak for "serious side
    effects"; a zero for one kind of event (deaths, say) says nothing about others.
    """
    sentences: list[tuple[str, list[str], list[str | None]]] = []
    for study in studies:
        arms = {a.iri: a for a in read_arms(store, study.iri)}
        for finding in read_safety(store, study.iri):
            arm = arms.get(finding.arm)
            if not finding.serious or arm is None or arm.agent != item.agent:
                continue
            what = "a serious side effect" if is_any_serious_event(finding.term) else finding.term
            design = study.design or "study"
            where = f"In {with_article(design)}"
            if finding.affected == 0 and is_death(finding.term):
                text = f"{where}, no patient on this treatment died"
            elif finding.affected == 0:
                text = f"{where}, no patient on this treatment had {what}"
            elif finding.affected is not None and finding.at_risk is not None:
                text = (
                    f"{where}, {finding.affected} of {finding.at_risk} "
                    f"patients on this treatment had {what}"
                )
            elif finding.percent is not None:
                pct = fmt_number(finding.percent)
                text = f"{where}, {pct}% of patients on this treatment had {what}"
            else:
                continue
            when = f" ({finding.when})" if finding.when else ""
            sentences.append((text + when + ".", [finding.iri], [finding.source]))
    if not any("serious side effect" in text for text, _, _ in sentences):
        sentences.insert(
            0, ("The studies we hold give no overall numbers on serious side effects.", [], [])
        )
    return sentences[:3]
