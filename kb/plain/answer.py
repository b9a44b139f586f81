"""An answer to a patient's question from the knowledge base (``ekb ask``).

The question is read into conditions, treatments and outcomes (``question``);
each treatment with evidence gets a section: its studies, strongest first,
each with the result closest to the question (the question's condition as a
subgroup of a larger trial, then the study's main outcome with whether it was
met), how sure we can be, serious side effects with every group's figures,
and a one-line bottom line. Treatments without a result that can be told are
listed once at the end. The answer says what the studies tested (and that none
of their outcomes is a cure, when none is) and sends the reader to a doctor.
"""

from __future__ import annotations

import re
from pathlib import Path

from kb.namespaces import TERM
from kb.plain.question import ConceptLabel, ParsedQuestion, concept_labels, parse_question
from kb.plain.records import (
    OneReading,
    Result,
    StudyFacts,
    broader_closure,
    count_studies,
    covered_conditions,
    narrower_closure,
    outcome_texts,
    primary_outcomes,
    read_arms,
    read_claims,
    read_comparisons,
    read_results,
    read_safety,
    read_sources,
    select,
)
from kb.plain.review_sentences import review_bottom_line, review_lines
from kb.plain.reviews import ReviewFindings, concept_names, covering_reviews, review_source
from kb.plain.safety import SafetyLine, main_part_lacks_overall, safety_lines
from kb.plain.selection import (
    InterventionEvidence,
    OutcomeKinds,
    interventions_for,
    is_extension,
    is_primary,
    outcome_kinds,
    placebo_on_top_of_the_same_treatment,
    result_rank,
    role_rank,
    short_extension_label,
)
from kb.plain.sentences import (
    SAME_BACKGROUND,
    reason_words,
    tell_result,
    withdrawal_sentence,
)
from kb.plain.text import PlainText, Sentences
from kb.plain.words import capitalise, count_word, people, with_article
from kb.store import Store

#: The verdict on a trial's main outcome (True met, False not shown, None unknown) and
#: the comparison group's name when that group got another active treatment.
MainVerdict = tuple[bool | None, str | None]

#: At most this many studies of one treatment are described one by one in an answer.
MAX_STUDIES_PER_TREATMENT = 6
#: At most this many safety sentences per treatment (more when the question asks about safety).
MAX_SAFETY_LINES = 4
MAX_SAFETY_LINES_ASKED = 10

SECTION_NOT_TOLD = "Also studied, with no result we can tell"
SECTION_TESTED = "What the studies tested"

#: Words that say an outcome is a cure; none of the KB's outcomes may use them
#: for the answer to say "no outcome in this knowledge base is a cure".
_CURE = re.compile(r"\bcure[sd]?\b|\bcuring\b|\bcured\b", re.IGNORECASE)


def answer_question(store: Store, question: str, *, kb_dir: Path | None = None) -> PlainText:
    """Answer a patient's question from the knowledge base.

    :param question: free text; conditions, treatments and outcomes are found
        through the vocabularies (labels, synonyms, plain labels, in any case,
        with close misspellings corrected and said so).
    :param kb_dir: the knowledge-base folder the store was loaded from. When
        given, a review of it that covers a treatment of the answer (its
        question's intervention and population) leads that treatment's part
        with the review's per-outcome findings (:mod:`kb.plain.reviews`). Not
        given (e.g. a remote store), no review is read.
    """
    store = OneReading(store)
    parsed = parse_question(store, question)
    sentences = Sentences()
    say = sentences.say
    title = f"Your question: {question.strip()}"
    covered = covered_conditions(store)
    for fix in parsed.corrections:
        say("Answer", f'Did you mean {fix.meant}? We read "{fix.typed}" that way.')

    if not parsed.understood:
        _say_not_held(store, parsed, say)
        say(
            "Talk to your doctor",
            "Please talk with your doctor about your own situation and your choices.",
        )
        return PlainText(
            title,
            sentences,
            {},
            extra={"question": question, "conditions": [], "covered": covered, **parsed.to_json()},
        )

    conditions = _narrowest(store, parsed.conditions)
    scope = narrower_closure(store, [c.concept for c in conditions]) if conditions else None
    scope_labels = (
        [
            label.label
            for label in concept_labels(store, "https://w3id.org/evidence-kb/vocab/condition/")
            if label.concept in set(scope)
        ]
        if scope
        else []
    )
    agent_scope = narrower_closure(store, [a.concept for a in parsed.agents]) or None
    outcome_scope = set(narrower_closure(store, [o.concept for o in parsed.outcomes])) or None
    evidence = interventions_for(store, scope, agent_scope, scope_labels)
    reviews = (
        covering_reviews(store, kb_dir, scope, outcome_scope, {item.agent for item in evidence})
        if kb_dir is not None and evidence
        else []
    )

    sections: list[Sentences] = []
    not_told: list[InterventionEvidence] = []
    tested: set[str] = set()
    for item in evidence:
        covering = [r for r in reviews if r.covers(item.agent)]
        part, concepts = _describe_intervention(store, item, parsed, outcome_scope, covering)
        if part is None:
            not_told.append(item)
            continue
        sections.append(part)
        tested |= concepts

    say("Answer", _looked_for(parsed, conditions))
    if parsed.asks_safety:
        say("Answer", "You asked about safety, so side effects come first for each treatment.")
    if not sections:
        what = " and ".join(sorted({a.name for a in parsed.agents})) or "any treatment"
        where = " and ".join(sorted({c.name for c in conditions})) or "this"
        say("Answer", f"There is no evidence about {what} for {where} in this knowledge base.")
    else:
        n = len(sections)
        say(
            "Answer",
            f"This knowledge base has results on {count_word(n)} "
            f"treatment{'s' if n != 1 else ''}. The strongest evidence comes first.",
        )
    for part in sections:
        sentences.extend(part)
    if not_told:
        names = ", ".join(item.name for item in not_told)
        on = " and ".join(sorted({o.name for o in parsed.outcomes}))
        lacking = f"no result on {on}" if on else "no result we can tell here"
        say(
            SECTION_NOT_TOLD,
            f"These were studied too, but the sources we hold give {lacking}: {names}.",
            sources=[s.source for item in not_told for s in item.studies],
        )
    if tested:
        _say_what_was_tested(store, OutcomeKinds(broader_closure(store, tested)), say)

    n_held = count_studies(store)
    say(
        "What this knowledge base does not cover",
        f"It holds only the {count_word(n_held)} {'study' if n_held == 1 else 'studies'} "
        "put into it. It says nothing about diet, exercise, other medicines "
        "or new research it does not hold.",
    )
    say(
        "Talk to your doctor",
        "This is not medical advice. Please talk with your doctor "
        "before you start, stop or change any treatment.",
    )
    all_sources = {i for s in sentences for i in s.sources}
    sources = read_sources(store, all_sources)
    told_reviews = [r for r in reviews if r.iri in all_sources]
    for review in told_reviews:
        sources[review.iri] = review_source(review)
    return PlainText(
        title,
        sentences,
        sources,
        extra={
            "question": question,
            "conditions": sorted(c.concept for c in conditions),
            "interventions": [item.agent for item in evidence if item not in not_told],
            "not_told": [item.agent for item in not_told],
            "reviews": [r.to_json() for r in told_reviews],
            "covered": covered,
            **{k: v for k, v in parsed.to_json().items() if k != "conditions"},
        },
    )


def _narrowest(store: Store, conditions: list[ConceptLabel]) -> list[ConceptLabel]:
    """The named conditions without those that another named one is narrower than:
    "lupus with kidney disease (lupus nephritis)" asks about lupus nephritis."""
    keep = []
    for c in conditions:
        others = [o.concept for o in conditions if o.concept != c.concept]
        if others and c.concept in set(_broader_of(store, others)):
            continue
        keep.append(c)
    return keep


def _broader_of(store: Store, concepts: list[str]) -> list[str]:
    values = " ".join(f"<{c}>" for c in concepts)
    rows = select(
        store, f"SELECT DISTINCT ?up WHERE {{ VALUES ?c {{ {values} }} ?c skos:broader+ ?up }}"
    ).rows
    return [str(r["up"]) for r in rows]


def _looked_for(parsed: ParsedQuestion, conditions: list[ConceptLabel]) -> str:
    what = " and ".join(sorted({a.name for a in parsed.agents}))
    where = " and ".join(sorted({c.name for c in conditions}))
    about = " and ".join(sorted({o.name for o in parsed.outcomes}))
    text = "We looked for studies"
    if what:
        text += f" of {what}"
    if where:
        text += f" on {where}, including its more specific forms"
    if about:
        text += f"{',' if what or where else ''} with results on {about}"
    return text + "."


def _say_not_held(store: Store, parsed: ParsedQuestion, say: object) -> None:
    """The answer to a question about nothing the knowledge base holds."""
    assert callable(say)
    topic = " ".join(parsed.unknown)
    if topic:
        say("Answer", f"There is no evidence about {topic} in this knowledge base.")
    else:
        say("Answer", "We could not tell which illness or treatment you mean.")
    rows = select(
        store,
        """SELECT DISTINCT ?c ?c_plain ?c_pref ?up WHERE {
            ?s a ekb:Study ; ekb:hasPopulation/ekb:condition ?c .
            OPTIONAL { ?c ekb:plainLabel ?c_plain } OPTIONAL { ?c skos:prefLabel ?c_pref }
            OPTIONAL { ?c skos:broader ?up }
        } ORDER BY ?c""",
    ).rows
    names = {str(r["c"]): str(r.get("c_plain") or r.get("c_pref") or r["c"]) for r in rows}
    broader = {str(r["c"]): str(r["up"]) for r in rows if r.get("up") is not None}
    # Name the broadest conditions held, then the ones just below them: a list of
    # every condition's long plain name would be one sentence too long to read.
    tops = sorted({c for c in names if c not in broader or broader[c] not in names})
    for top in tops:
        below = sorted(names[c] for c in names if broader.get(c) == top)
        say("What this knowledge base covers", f"It holds studies on {names[top]}.")
        if below:
            say(
                "What this knowledge base covers",
                f"Some are on more specific kinds: {', '.join(below)}.",
            )
    say(
        "What this knowledge base covers",
        "You can also ask about a treatment by its name.",
    )


def _study_order(item: InterventionEvidence, study: StudyFacts) -> tuple[int, bool, int, str]:
    """Strongest design first; at the same design, studies of the question's
    condition before trials that only report it as a subgroup; then larger ones."""
    return (-study.design_rank, study.iri in item.subgroups, -(study.enrolled or 0), study.iri)


def _describe_intervention(
    store: Store,
    item: InterventionEvidence,
    parsed: ParsedQuestion,
    outcome_scope: set[str] | None,
    reviews: list[ReviewFindings],
) -> tuple[Sentences | None, set[str]]:
    """The section of one treatment, or ``None`` when it has nothing to tell.

    A review that covers the treatment comes first (its pooled findings and
    their certainty), then the single studies.

    :returns: the sentences and the outcome concepts of the results told.
    """
    section = capitalise(item.name)
    part = Sentences()
    say = part.say
    review_bottom: str | None = None
    for review in reviews:
        said, bottom = _review_part(store, item, review)
        part.extend(said)
        review_bottom = review_bottom or bottom
    studies = sorted(item.studies, key=lambda s: _study_order(item, s))
    concepts: set[str] = set()
    benefit = Sentences()
    told_studies: list[StudyFacts] = []
    verdicts: list[MainVerdict] = []
    for study in studies:
        if len(told_studies) >= MAX_STUDIES_PER_TREATMENT:
            break
        told = _tell_study(store, item, study, outcome_scope, several=len(studies) > 1)
        if told is None:
            continue
        lines, study_concepts, verdict = told
        benefit.extend(lines)
        concepts |= study_concepts
        told_studies.append(study)
        if study.randomised:
            verdicts.append(verdict)
    safety = _safety_sentences(store, item, studies, parsed)
    if (
        not told_studies
        and not reviews
        and (outcome_scope is not None or not any(results for _, results, _, _ in safety))
    ):
        # A question about one outcome is not answered by a treatment's side effects.
        return None, set()

    n_studies = len(item.studies)
    known = [s for s in item.studies if s.enrolled is not None]
    who = f" with {item.participants} patients in all" if known else ""
    unknown = n_studies - len(known)
    if known and unknown:
        are = "study is" if unknown == 1 else "studies is"
        who += f" (the size of {count_word(unknown)} {are} not given)"
    say(
        section,
        f"There {'is' if n_studies == 1 else 'are'} {count_word(n_studies)} "
        f"{'study' if n_studies == 1 else 'studies'}{who}.",
        sources=[s.source for s in item.studies],
        paragraph=bool(reviews),
    )
    untold = n_studies - len(told_studies)
    safety_part = Sentences()
    for i, (text, iris, sources, values) in enumerate(safety):
        safety_part.say(
            section, text, results=iris, sources=sources, paragraph=i == 0, values=values
        )
    if parsed.asks_safety:
        part.extend(safety_part)
        part.extend(benefit)
    else:
        part.extend(benefit)
        part.extend(safety_part)
    if untold:
        say(
            section,
            f"{capitalise(count_word(untold))} more "
            f"{'study gives' if untold == 1 else 'studies give'} no result we can tell here.",
            sources=[s.source for s in item.studies if s not in told_studies],
            paragraph=True,
        )
    if review_bottom:
        # A review's rated finding is the bottom line, not a count of single trials.
        say(
            section,
            review_bottom,
            sources=[reviews[0].iri],
            reviews=[reviews[0].iri],
            paragraph=True,
        )
    elif not outcome_scope:
        say(
            section,
            _bottom_line(item, studies, verdicts),
            sources=[s.source for s in studies if s.randomised] or [s.source for s in studies],
            paragraph=True,
        )
    return part, concepts


def _review_part(
    store: Store, item: InterventionEvidence, review: ReviewFindings
) -> tuple[Sentences, str | None]:
    """A review's findings on a treatment, in the treatment's section, and the
    bottom line from its most important rated outcome (None if none is rated)."""
    from kb.grade.rules import LEVELS

    concepts = [o.concept for o in review.outcomes]
    certainty_terms = {level: f"{TERM}certainty-{level.replace(' ', '-')}" for level in LEVELS}
    names = concept_names(store, [*concepts, *review.comparators, *certainty_terms.values()])
    words = {level: names.get(iri, level) for level, iri in certainty_terms.items()}
    comparators = [names.get(c, c) for c in review.comparators]
    comparator = " or ".join(comparators) if comparators else "the comparison"
    kinds = OutcomeKinds(broader_closure(store, set(concepts)))
    part = Sentences()
    section = capitalise(item.name)
    for line in review_lines(review, item.name, comparator, names, kinds, words):
        part.say(
            section,
            line.text,
            sources=[review.iri],
            reviews=[review.iri],
            paragraph=line.starts_paragraph,
            values=line.values,
        )
    return part, review_bottom_line(review, item.name, names)


def _tell_study(
    store: Store,
    item: InterventionEvidence,
    study: StudyFacts,
    outcome_scope: set[str] | None,
    *,
    several: bool,
) -> tuple[Sentences, set[str], MainVerdict] | None:
    """A study's paragraph: its design, the results closest to the question and
    how sure we can be; with the verdict on its main outcome (None if unknown)
    and the comparison group's name when that group got another active treatment."""
    section = capitalise(item.name)
    arms = {a.iri: a for a in read_arms(store, study.iri)}
    results = read_results(store, study.iri)
    comparisons = read_comparisons(store, study.iri)
    kinds = outcome_kinds(store, results)
    treated = [
        r
        for r in results
        if arms.get(r.arm) is not None
        and arms[r.arm].agent == item.agent
        and arms[r.arm].role in {str(TERM["experimental"]), str(TERM["single-arm"])}
        and r.role != str(TERM["disposition"])
        and (outcome_scope is None or r.outcome_concept in outcome_scope)
    ]
    picks: list[Result] = []
    subgroup = item.subgroups.get(study.iri)
    if subgroup:
        picks += sorted((r for r in treated if r.subgroup == subgroup), key=result_rank)[:1]
    main = sorted((r for r in treated if is_primary(r) and not r.subgroup), key=result_rank)
    picks += main[:1]
    # Without a subgroup or a main outcome, the first result that can be told
    # (those the study's claims rest on first) stands for the study.
    fallback = not picks
    if fallback:
        claims = read_claims(store, study.iri)
        supported = {i for c in claims for i in c.supported_by}
        picks = sorted(
            (r for r in treated if not r.subgroup),
            key=lambda r: (r.iri not in supported, role_rank(r.role), result_rank(r), r.iri),
        )
    lines = Sentences()
    concepts: set[str] = set()
    verdict: MainVerdict = (None, None)
    for result in picks:
        told = tell_result(result, results, arms, comparisons, kinds, main_label=True)
        if told is None:
            continue
        if not lines:
            design = with_article(study.design) if study.design else "A study"
            size = f" in {study.enrolled} people" if study.enrolled is not None else ""
            with_ = " with" if study.enrolled is not None else " on people with"
            cond = f"{with_} {study.condition}" if study.condition else ""
            lines.say(
                section,
                f"{capitalise(design)}{size}{cond}.",
                sources=[study.source],
                paragraph=True,
            )
            if placebo_on_top_of_the_same_treatment(list(arms.values())):
                lines.say(section, SAME_BACKGROUND, sources=[study.source])
            withdrawal = withdrawal_sentence(study.design_iri, arms.values())
            if withdrawal:
                lines.say(section, withdrawal, sources=[study.source])
        claim_iris = [
            c.iri for c in read_claims(store, study.iri) if c.intervention in (None, item.agent)
        ]
        for i, (text, iris, sources, values) in enumerate(told.sentences):
            lines.say(
                section,
                text,
                results=iris,
                claims=claim_iris if i == 0 else (),
                sources=sources,
                values=values,
            )
        if result.outcome_concept:
            concepts.add(result.outcome_concept)
        if told.primary and not result.subgroup:
            verdict = (told.verdict, told.active_comparator)
        if fallback:
            break
    if not lines:
        return None
    if not main and outcome_scope is None:
        held = {r.outcome for r in results}
        if any(o not in held for o, _ in primary_outcomes(store, study.iri)):
            lines.say(
                section,
                "The sources we hold give no result for its main outcome.",
                sources=[study.source],
            )
    for claim in read_claims(store, study.iri):
        if claim.intervention not in (None, item.agent) or not claim.certainty:
            continue
        reasons = reason_words(claim, study.enrolled, other_studies=several)
        why = f" Why: {'; '.join(reasons)}." if reasons else ""
        strengths = reason_words(claim, study.enrolled, strengths=True)
        why += f" In its favour: {'; '.join(strengths)}." if strengths else ""
        lines.say(
            section,
            f"How sure can we be? {capitalise(claim.certainty)}.{why}",
            claims=[claim.iri],
            sources=[claim.source],
        )
        break
    return lines, concepts, verdict


def _bottom_line(
    item: InterventionEvidence, studies: list[StudyFacts], verdicts: list[MainVerdict]
) -> str:
    """One line per treatment, counted from the verdicts on the randomised trials'
    main outcomes: how many met it, and what that leaves us knowing.

    A trial against another active treatment that missed its main goal did not
    show the treatment works better than that one; it is told so, not as a miss.
    """
    randomised = [s for s in studies if s.randomised]
    name = item.name
    if not randomised:
        return (
            f"Bottom line: no randomised trial of {name} is held, "
            "so we cannot tell if it works better than other care."
        )
    met = sum(1 for v, _ in verdicts if v is True)
    n = len(randomised)
    not_better = sorted({c for v, c in verdicts if v is False and c})
    if n == 1:
        if met:
            return "Bottom line: the one randomised trial we hold met its main goal."
        if verdicts and verdicts[0][0] is False and not_better:
            return (
                f"Bottom line: the one randomised trial we hold compared it with "
                f"{not_better[0]} and did not show that it works better."
            )
        if verdicts and verdicts[0][0] is False:
            return "Bottom line: the one randomised trial we hold did not meet its main goal."
        return "Bottom line: the one randomised trial we hold does not say if it met its main goal."
    how_many = ("neither" if n == 2 else "none") if met == 0 else count_word(met)
    its = "its" if met <= 1 else "their"
    # A trial whose main result is not held (or not tested) is not counted as missing it.
    unknown = n - met - sum(1 for v, _ in verdicts if v is False)
    rest = f" For {count_word(unknown)}, the sources we hold do not say." if unknown else ""
    if not_better:
        rest += f" Trials against {' and '.join(not_better)} did not show that it works better."
    return (
        f"Bottom line: {how_many} of the {count_word(n)} randomised trials we hold "
        f"met {its} main goal.{rest}"
    )


def _safety_sentences(
    store: Store,
    item: InterventionEvidence,
    studies: list[StudyFacts],
    parsed: ParsedQuestion,
) -> list[tuple[str, list[str], list[str | None], dict[str, dict[str, str]]]]:
    """Serious side effects of the treatment, strongest study first, every group named.

    Only records that count all serious adverse events speak for "a serious side
    effect"; deaths are told as deaths. An open-label extension, where everyone
    got the treatment, is called so, and when only it has overall numbers the
    answer says the main trial's are not held. A question about safety also
    gets the other side effects recorded.
    """
    out: list[tuple[str, list[str], list[str | None], dict[str, dict[str, str]]]] = []
    limit = MAX_SAFETY_LINES_ASKED if parsed.asks_safety else MAX_SAFETY_LINES
    for study in studies:
        arms = {a.iri: short_extension_label(a) for a in read_arms(store, study.iri)}
        findings = read_safety(store, study.iri)
        treated = {a.iri for a in arms.values() if a.agent == item.agent}
        design = study.design or "study"
        size = f" ({people(study.enrolled)})" if study.enrolled is not None else ""
        main_lines: list[SafetyLine] = []
        extension_lines: list[SafetyLine] = []
        for line in safety_lines(
            findings, arms, only_arms=treated, overall_and_deaths_only=not parsed.asks_safety
        ):
            extension = any(
                is_extension(arms.get(f.arm), f.when) for f in findings if f.iri in line.findings
            )
            (extension_lines if extension else main_lines).append(line)
        # One opening sentence names the study (or its extension) for the lines after
        # it, so that each line can be short and still say which groups it is about.
        for lines, opening in (
            (main_lines, f"{capitalise(with_article(design))}{size} gave these numbers."),
            (
                extension_lines,
                # Not "a randomised trial with a comparison group": in the
                # extension there was none.
                f"In the open-label extension that followed "
                f"{'this randomised trial' if study.randomised else 'this study'}, "
                f"everyone got {item.name}.",
            ),
        ):
            if lines:
                out.append((opening, [], [study.source], {}))
            for line in lines:
                out.append((line.text, line.findings, line.sources, line.values))
        if main_part_lacks_overall(findings, arms) and any(f.arm in treated for f in findings):
            out.append(
                (
                    "The main, randomised part of this trial has no numbers on serious "
                    "side effects in this knowledge base.",
                    [],
                    [study.source],
                    {},
                )
            )
    if not any("serious side effect" in text for text, _, _, _ in out):
        out.insert(
            0,
            (
                "The sources we hold give no overall numbers on serious side effects.",
                [],
                [s.source for s in studies],
                {},
            ),
        )
    return out[:limit]


def _say_what_was_tested(store: Store, kinds: OutcomeKinds, say: object) -> None:
    """What the studies in the answer measured, and that none of it is a cure when
    no outcome in the knowledge base is described as one."""
    assert callable(say)
    aims = kinds.aims(set(kinds.closure))
    if aims:
        listed = aims[0] if len(aims) == 1 else ", ".join(aims[:-1]) + " or " + aims[-1]
        say(SECTION_TESTED, f"The studies above tested whether treatments bring {listed}.")
    if not any(_CURE.search(text) for text in outcome_texts(store)):
        say(
            SECTION_TESTED,
            "None of them tested a cure: no outcome in this knowledge base is a cure. "
            "They looked at keeping the illness under control, "
            "not at making it go away for good.",
        )
