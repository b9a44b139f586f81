"""A plain-language summary of one study (``ekb summary --plain``)."""

from __future__ import annotations

from kb.errors import UsageError
from kb.namespaces import RES, TERM, study_iri
from kb.plain.records import (
    PREFIXES,
    read_arms,
    read_claims,
    read_results,
    read_safety,
    read_sources,
    read_study,
    select,
)
from kb.plain.selection import (
    is_any_serious_event,
    is_death,
    matching_control,
    result_rank,
    tell_apart_outcomes,
)
from kb.plain.sentences import control_clause, reason_words, result_sentence
from kb.plain.text import PlainText, Sentences
from kb.plain.words import capitalise, count_word, fmt_number, lower_first
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


def summarise_study(store: Store, study: str) -> PlainText:
    """A plain-language summary of one study, generated from its triples.

    :param study: the study id (``il2-refractory-ln-2021``) or IRI.
    :raises UsageError: the study is not in the knowledge base.
    """
    iri = resolve_study(store, study)
    facts = read_study(store, iri)
    assert facts is not None  # resolve_study checked it exists
    arms = read_arms(store, iri)
    results = read_results(store, iri)
    safety = read_safety(store, iri)
    claims = read_claims(store, iri)
    arm_by_iri = {a.iri: a for a in arms}
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

    # What they received
    for arm in arms:
        if arm.agent_name is None:
            continue
        who = "All patients" if not several_arms else f"Patients in the {arm.label} group"
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

    # What happened: experimental arms first, each with its control on the same outcome.
    # Subgroup detail is left to the full data when the whole population has a result.
    whole_concepts = {r.outcome_concept for r in results if not r.subgroup}
    results = [r for r in results if not (r.subgroup and r.outcome_concept in whole_concepts)]
    tell_apart_outcomes(results, store, iri)
    controls = {
        a.iri for a in arms if a.role not in {str(TERM["experimental"]), str(TERM["single-arm"])}
    }
    told: set[str] = set()
    for result in sorted(results, key=lambda r: (result_rank(r), r.arm in controls, r.iri)):
        if result.iri in told:
            continue
        label = arm_by_iri[result.arm].label if several_arms and result.arm in arm_by_iri else None
        told_text = result_sentence(result, label)
        if not told_text:
            continue
        text = told_text
        told.add(result.iri)
        iris, srcs = [result.iri], [result.source]
        control = (
            matching_control(result, results, arm_by_iri) if result.arm not in controls else None
        )
        if control is not None and control.iri not in told:
            clause = control_clause(control, arm_by_iri[control.arm].label)
            if clause:
                text = text[:-1] + f", compared with {clause}."
                iris.append(control.iri)
                srcs.append(control.source)
                told.add(control.iri)
        if result.subgroup:
            text = f"Among {result.subgroup}: {lower_first(text)}"
        say("What happened", text, results=iris, sources=srcs)
    if not any(s.section == "What happened" for s in sentences):
        say("What happened", "The sources we hold give no results for this study.")

    # Side effects
    serious = [f for f in safety if f.serious]
    for finding in serious or safety:
        arm_label = (
            arm_by_iri[finding.arm].label if several_arms and finding.arm in arm_by_iri else None
        )
        who = f" in the {arm_label} group" if arm_label else ""
        when = ""
        if finding.when:
            when = (
                f" {finding.when}"
                if finding.when.split(" ", 1)[0] in {"during", "after", "by", "at", "in"}
                else f" ({finding.when})"
            )
        what = (
            "a serious side effect"
            if finding.serious and is_any_serious_event(finding.term)
            else finding.term
        )
        if finding.affected == 0 and is_death(finding.term):
            text = f"No patient{who} died{when}."
        elif finding.affected == 0:
            text = f"No patient{who} had {what}{when}."
        elif finding.affected is not None and finding.at_risk is not None:
            verb = "died" if is_death(finding.term) else f"had {what}"
            text = f"{finding.affected} of {finding.at_risk} patients{who} {verb}{when}."
        elif finding.affected is not None:
            verb = "died" if is_death(finding.term) else f"had {what}"
            people = "patient" if finding.affected == 1 else "patients"
            text = f"{finding.affected} {people}{who} {verb}{when}."
        elif finding.percent is not None:
            text = f"{fmt_number(finding.percent)}% of patients{who} had {what}{when}."
        else:
            continue
        say("Side effects", text, results=[finding.iri], sources=[finding.source])
    if not any(s.section == "Side effects" for s in sentences):
        say("Side effects", "The sources we hold give no numbers on side effects.")

    # How far can we trust this?
    for claim in claims:
        if (
            claim.direction == str(TERM["benefit"])
            and claim.intervention_name
            and claim.condition_name
        ):
            say(
                "How far can we trust this?",
                f"The researchers think {claim.intervention_name} "
                f"may help people with {claim.condition_name}.",
                claims=[claim.iri],
                sources=[claim.source],
            )
        if claim.certainty:
            say(
                "How far can we trust this?",
                f"We rate how sure we can be of this as {claim.certainty}.",
                claims=[claim.iri],
                sources=[claim.source],
            )
        cautions = reason_words(claim, facts.enrolled, strengths=False)
        if cautions:
            say(
                "How far can we trust this?", "There are reasons to be careful.", claims=[claim.iri]
            )
        for words in cautions:
            say("How far can we trust this?", f"{capitalise(words)}.", claims=[claim.iri])
        for words in reason_words(claim, facts.enrolled, strengths=True):
            say("How far can we trust this?", f"In its favour: {words}.", claims=[claim.iri])
    if not claims:
        say(
            "How far can we trust this?",
            "Nobody has rated how sure we can be of these results yet, so treat them with care.",
        )

    sources = read_sources(store, {i for s in sentences for i in s.sources})
    title = f"{facts.title}: a summary in plain words"
    return PlainText(title, sentences, sources, extra={"study": iri})
