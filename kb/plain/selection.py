"""Evidence selection: which treatments and results an answer or summary tells, in which order."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from kb.namespaces import TERM
from kb.plain.records import (
    NAME_PATTERN,
    Arm,
    Result,
    StudyFacts,
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


CONTROL_AGENTS = {"placebo", "standard-therapy"}


def interventions_for(
    store: Store, conditions: list[str], agents: list[str] | None
) -> list[InterventionEvidence]:
    cond_values = " ".join(f"<{c}>" for c in conditions)
    agent_filter = f"VALUES ?agent {{ {' '.join(f'<{a}>' for a in agents)} }}" if agents else ""
    result = select(
        store,
        f"""SELECT DISTINCT ?study ?agent ?agent_plain ?agent_pref WHERE {{
            VALUES ?cond {{ {cond_values} }}
            {agent_filter}
            ?study a ekb:Study ; ekb:hasPopulation/ekb:condition ?cond ; ekb:hasArm ?arm .
            ?arm ekb:armRole ?role ; ekb:receives/ekb:agent ?agent .
            FILTER(?role IN (term:experimental, term:single-arm))
            {NAME_PATTERN.format(c="?agent", v="agent")}
        }} ORDER BY ?agent ?study""",
    )
    by_agent: dict[str, InterventionEvidence] = {}
    for row in result.rows:
        agent = str(row["agent"])
        if agent.rsplit("/", 1)[-1] in CONTROL_AGENTS:
            continue
        item = by_agent.setdefault(
            agent, InterventionEvidence(agent, name_of(row, "agent") or agent)
        )
        facts = read_study(store, str(row["study"]))
        if facts is None or facts.iri in {s.iri for s in item.studies}:
            continue
        item.studies.append(facts)
        item.participants += facts.enrolled or 0
        item.best_rank = max(item.best_rank, facts.design_rank)
    for item in by_agent.values():
        for study in item.studies:
            for claim in read_claims(store, study.iri):
                if claim.intervention in (None, item.agent) or claim.intervention == item.agent:
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
            r.outcome_name = f"{r.outcome_name} ({labels[r.outcome]})"


def is_any_serious_event(term: str) -> bool:
    """True for a finding that counts all serious adverse events, not one kind of them."""
    words = term.lower()
    return "serious adverse event" in words or words in {"serious adverse events", "sae", "saes"}


def is_death(term: str) -> bool:
    return term.lower().strip() in {"death", "deaths", "died", "all-cause mortality", "mortality"}
