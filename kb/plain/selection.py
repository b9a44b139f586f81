"""Evidence selection: which treatments and results an answer or summary tells, in which order."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kb.namespaces import OUTC, TERM
from kb.plain.records import (
    NAME_PATTERN,
    Arm,
    Comparison,
    Result,
    SafetyFinding,
    StudyFacts,
    broader_closure,
    name_of,
    read_claims,
    read_study,
    select,
)
from kb.store import Store


@dataclass
class InterventionEvidence:
    agent: str
    name: str
    studies: list[StudyFacts] = field(default_factory=list)
    participants: int = 0
    best_rank: int = -1
    best_certainty: int = 0
    #: Studies whose population is broader than the question's condition but
    #: that report a subgroup with it: study IRI -> the subgroup as printed.
    subgroups: dict[str, str] = field(default_factory=dict)


CONTROL_AGENTS = {"placebo", "standard-therapy"}


def mentions_any(text: str, labels: list[str]) -> bool:
    """True when one of the labels appears in the text as whole words (any case)."""
    return any(
        re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text, re.IGNORECASE)
        for label in labels
    )


def interventions_for(
    store: Store,
    conditions: list[str] | None,
    agents: list[str] | None,
    condition_labels: Sequence[str] = (),
) -> list[InterventionEvidence]:
    """The treatments with evidence for the conditions (all when ``None``), strongest first.

    A study counts for a condition when its population has it, or when it
    reports a subgroup of patients who have it (a randomised lupus trial with
    results for its patients with lupus nephritis answers a question about
    lupus nephritis better than any single-arm study).
    """
    agent_filter = f"VALUES ?agent {{ {' '.join(f'<{a}>' for a in agents)} }}" if agents else ""
    result = select(
        store,
        f"""SELECT DISTINCT ?study ?cond ?agent ?agent_plain ?agent_pref WHERE {{
            {agent_filter}
            ?study a ekb:Study ; ekb:hasArm ?arm .
            OPTIONAL {{ ?study ekb:hasPopulation/ekb:condition ?cond }}
            ?arm ekb:armRole ?role ; ekb:receives/ekb:agent ?agent .
            FILTER(?role IN (term:experimental, term:single-arm))
            {NAME_PATTERN.format(c="?agent", v="agent")}
        }} ORDER BY ?agent ?study ?cond""",
    )
    subgroups: dict[str, str] = {}
    if conditions is not None and condition_labels:
        for row in select(
            store,
            """SELECT DISTINCT ?study ?subgroup WHERE {
                ?study ekb:hasResult/ekb:subgroup ?subgroup } ORDER BY ?study ?subgroup""",
        ).rows:
            if mentions_any(str(row["subgroup"]), list(condition_labels)):
                subgroups.setdefault(str(row["study"]), str(row["subgroup"]))
    by_agent: dict[str, InterventionEvidence] = {}
    for row in result.rows:
        agent = str(row["agent"])
        study = str(row["study"])
        if agent.rsplit("/", 1)[-1] in CONTROL_AGENTS:
            continue
        in_scope = conditions is None or str(row.get("cond") or "") in conditions
        if not in_scope and study not in subgroups:
            continue
        item = by_agent.setdefault(
            agent, InterventionEvidence(agent, name_of(row, "agent") or agent)
        )
        facts = read_study(store, study)
        if facts is None or facts.iri in {s.iri for s in item.studies}:
            continue
        if not in_scope:
            item.subgroups[study] = subgroups[study]
        item.studies.append(facts)
        item.participants += facts.enrolled or 0
        item.best_rank = max(item.best_rank, facts.design_rank)
    for item in by_agent.values():
        for facts in item.studies:
            for claim in read_claims(store, facts.iri):
                if claim.intervention in (None, item.agent):
                    item.best_certainty = max(item.best_certainty, claim.certainty_rank)
    return sorted(
        by_agent.values(),
        key=lambda e: (-e.best_rank, -e.best_certainty, -e.participants, e.name),
    )


def result_rank(result: Result) -> tuple[int, int]:
    """Which results to tell first: primary outcomes, then counts, then changes."""
    role_rank = 0 if result.role == str(TERM["primary"]) else 1
    if result.events is not None and result.total is not None:
        kind = 0
    elif result.percent is not None:
        kind = 1
    elif result.percent_change is not None or result.baseline is not None:
        kind = 2
    else:
        kind = 3
    return (role_rank, kind)


def matching_control(result: Result, results: Any, arms: dict[str, Arm]) -> Result | None:
    """The control arm's result on the very same outcome node and timepoint.

    Matching on the outcome concept alone is not enough: one study can measure
    the same concept under two definitions (REGENCY's complete renal response
    with and without a steroid condition), and those must never be paired.
    """
    for other in results:
        arm = arms.get(other.arm)
        if arm is None or other.iri == result.iri:
            continue
        if arm.role in {str(TERM["experimental"]), str(TERM["single-arm"])}:
            continue
        if (
            other.outcome == result.outcome
            and other.weeks == result.weeks
            and other.subgroup == result.subgroup
        ):
            return other
    return None


def _with_own_label(name: str, label: str) -> str:
    """A concept's words with the outcome's own label beside them; a gloss in
    brackets that the label starts with gives way to the label.

    >>> _with_own_label("less lupus activity (BICLA response)", "BICLA response at week 12")
    'less lupus activity (BICLA response at week 12)'
    >>> _with_own_label("full kidney improvement", "complete renal response, low steroid")
    'full kidney improvement (complete renal response, low steroid)'
    """
    head, sep, gloss = name.rpartition(" (")
    if sep and gloss.endswith(")") and label.lower().startswith(gloss[:-1].lower()):
        return f"{head} ({label})"
    return f"{name} ({label})"


def tell_apart_outcomes(results: list[Result], store: Store, study: str) -> None:
    """Name outcomes that share a concept by their own label, so that two
    definitions of one response (REGENCY's complete renal response with and
    without a steroid condition) never read as the same thing twice."""
    by_concept: dict[str | None, set[str]] = defaultdict(set)
    for r in results:
        by_concept[r.outcome_concept].add(r.outcome)
    shared = {c for c, outcomes in by_concept.items() if c is not None and len(outcomes) > 1}
    if not shared:
        return
    labels = {
        str(row["o"]): str(row["label"])
        for row in select(
            store,
            f"""SELECT ?o ?label WHERE {{ <{study}> ekb:hasOutcome ?o . ?o rdfs:label ?label .
                   OPTIONAL {{ ?o ekb:outcomeRole ?role }}
                   FILTER(!BOUND(?role) || ?role != term:primary) }}""",
        ).rows
    }
    for r in results:
        if r.outcome_concept in shared and r.outcome in labels:
            r.outcome_name = _with_own_label(r.outcome_name, labels[r.outcome])


# --------------------------------------------------------------------------
# What a result means: kind of outcome, its good direction, and chance
# --------------------------------------------------------------------------

#: Outcomes that a patient either reaches or has (a response, a flare, a
#: hospital stay): "12 of 40 had X" reads right. Any other outcome is a
#: measurement (protein in the urine, serum creatinine), and a count of
#: patients on it is a count of those who met the study's goal for it.
EVENT_ROOTS = {
    str(OUTC[name])
    for name in (
        "treatment-response",
        "remission",
        "flare",
        "hospitalisation",
        "renal-event-or-death",
        "arthritis",
        "rash",
        "b-cell-depletion",
        "treatment-completion",
    )
}
#: Outcomes where more patients is better (responses) or worse (flares, events).
HIGHER_IS_BETTER = {str(OUTC[n]) for n in ("treatment-response", "remission")}
LOWER_IS_BETTER = {
    str(OUTC[n]) for n in ("flare", "hospitalisation", "renal-event-or-death", "arthritis", "rash")
}
#: What the studies aimed at, told in finding 10's sentence on what the evidence is about.
AIMS = (
    ("less lupus activity", {str(OUTC[n]) for n in ("sri-response", "bicla", "disease-activity")}),
    ("fewer flares", {str(OUTC["flare"])}),
    (
        "better kidneys",
        {str(OUTC[n]) for n in ("renal-response", "proteinuria", "egfr", "renal-remission")},
    ),
)


@dataclass
class OutcomeKinds:
    """The broader concepts of every outcome concept a text is about."""

    closure: dict[str, set[str]]

    def is_event(self, concept: str | None) -> bool:
        return concept is not None and bool(self.closure.get(concept, set()) & EVENT_ROOTS)

    def polarity(self, concept: str | None) -> int:
        """+1 when more patients with the outcome is better, -1 when worse, 0 unknown."""
        up = self.closure.get(concept or "", set())
        if up & LOWER_IS_BETTER:
            return -1
        if up & HIGHER_IS_BETTER:
            return 1
        return 0

    def aims(self, concepts: set[str]) -> list[str]:
        """The aims (from AIMS) that the given outcome concepts fall under, in AIMS order."""
        found = set().union(*(self.closure.get(c, {c}) for c in concepts)) if concepts else set()
        return [words for words, roots in AIMS if found & roots]


def outcome_kinds(store: Store, results: list[Result]) -> OutcomeKinds:
    return OutcomeKinds(
        broader_closure(store, {r.outcome_concept for r in results if r.outcome_concept})
    )


_RATIO_MEASURES = {str(TERM[n]) for n in ("risk-ratio", "odds-ratio", "hazard-ratio")}

#: Below this p-value a difference is called clear (the usual two-sided 5% level).
ALPHA = Decimal("0.05")


def comparison_verdict(comparison: Comparison) -> bool | None:
    """True when the comparison shows a difference beyond chance, False when it
    does not, None when it says nothing about chance.

    The p-value decides when there is one (a bound such as "<0.001" counts as
    below it); else the confidence interval, which shows a difference when it
    leaves out no effect (1 for ratios, 0 for differences); else the source's
    own word (``ekb:reportedSignificant``).
    """
    p = comparison.p_value
    if p is not None:
        if comparison.p_comparator in {"<", "<="}:
            return p <= ALPHA
        if comparison.p_comparator in {">", ">="}:
            return False if p >= ALPHA else None
        return p < ALPHA
    lo, hi = comparison.ci_lower, comparison.ci_upper
    if lo is not None and hi is not None:
        null = Decimal(1) if comparison.measure in _RATIO_MEASURES else Decimal(0)
        return bool(lo > null or hi < null)
    return comparison.reported_significant


def comparisons_of(result: Result, comparisons: list[Comparison]) -> list[Comparison]:
    """The comparisons made on this result's outcome, subgroup and timepoint."""
    return [
        c
        for c in comparisons
        if c.outcome == result.outcome
        and c.subgroup == result.subgroup
        and (c.weeks is None or result.weeks is None or c.weeks == result.weeks)
        and result.arm in {c.experimental_arm, c.comparator_arm, None}
    ]


def verdict_of(result: Result, comparisons: list[Comparison]) -> tuple[bool | None, list[str]]:
    """What the study's comparisons on this result say about chance, and their IRIs.

    Several comparisons on one result (a difference without an interval and a
    p-value printed apart) agree or the verdict is unknown.
    """
    found = comparisons_of(result, comparisons)
    verdicts = {v for v in (comparison_verdict(c) for c in found) if v is not None}
    verdict = verdicts.pop() if len(verdicts) == 1 else None
    return verdict, [c.iri for c in found]


#: Outcome roles in the order a reader needs them: the main outcome first.
ROLE_ORDER = [
    str(TERM[n])
    for n in (
        "primary",
        "key-secondary",
        "secondary",
        "long-term-extension",
        "exploratory",
        "subgroup",
        "post-hoc",
        "disposition",
    )
]


def role_rank(role: str | None) -> int:
    if role is None:
        return ROLE_ORDER.index(str(TERM["secondary"]))
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def is_primary(result: Result) -> bool:
    return result.role == str(TERM["primary"])


def is_part_of_patients(result: Result) -> bool:
    """A result on part of the patients or from checks decided after the data were seen."""
    return bool(result.subgroup) or result.role in {str(TERM["subgroup"]), str(TERM["post-hoc"])}


# --------------------------------------------------------------------------
# Safety records
# --------------------------------------------------------------------------

#: Event terms that name the count of all serious adverse events, not one kind of them.
OVERALL_SERIOUS_TERMS = {
    "any serious adverse event",
    "any serious adverse events",
    "serious adverse event",
    "serious adverse events",
    "patients with serious adverse events",
    "any sae",
    "sae",
    "saes",
}


def is_overall_serious(finding: SafetyFinding) -> bool:
    """True only for a record that counts all serious adverse events.

    "Serious infection (the most common serious adverse event)" or "pneumonia
    (serious adverse event)" are one kind of serious event and never stand for
    the total.
    """
    return finding.serious and finding.term.lower().strip() in OVERALL_SERIOUS_TERMS


def is_death(term: str) -> bool:
    return term.lower().strip() in {"death", "deaths", "died", "all-cause mortality", "mortality"}


def is_extension(arm: Arm | None, when: str | None) -> bool:
    """True for a group or a period of an open-label extension after the randomised part."""
    words = f"{arm.label if arm else ''} {when or ''}".lower()
    return "extension" in words


def placebo_on_top_of_the_same_treatment(arms: Sequence[Arm]) -> bool:
    """True when a placebo group got the same background treatment as the treated
    group(s): the same text, or one that says "same". Naming it "the placebo group"
    alone would read as if those patients were left untreated.

    Extension groups are left out: they are not the randomised comparison.
    """
    main = [a for a in arms if a.role != str(TERM["other-arm"])]
    placebo = [a for a in main if a.role == str(TERM["placebo-comparator"])]
    treated = [a for a in main if a.role == str(TERM["experimental"])]
    if not placebo or not treated:
        return False
    texts = {a.background for a in treated}
    if None in texts or len(texts) != 1:
        return False
    return all(
        a.background is not None
        and (a.background in texts or a.background.lower().startswith("same"))
        for a in placebo
    )


def short_extension_label(arm: Arm) -> Arm:
    """An extension group's label without its "open-label extension:" head, for
    sentences that already say they are about the extension ("placebo to belimumab")."""
    head, sep, tail = arm.label.partition(": ")
    if sep and "extension" in head.lower():
        return replace(arm, label=tail)
    return arm
