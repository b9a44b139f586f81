"""Reading the knowledge base: the facts of studies, arms, results, safety findings and claims."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rdflib import Literal

from kb.errors import CheckFailed
from kb.namespaces import DESIGN, TERM, shorten, sparql_prefix_block
from kb.plain.text import SourceRef
from kb.plain.words import schedule_words
from kb.store import QueryResult, Store
from kb.text import escape_controls

PREFIXES = sparql_prefix_block()


def term_value(row: dict[str, Any], name: str) -> Any:
    """The Python value of a bound term.

    :raises CheckFailed: a literal whose text is not of its datatype (``"ten"^^xsd:integer``):
        a sentence must not be built on a number that is not one.
    """
    term = row.get(name)
    if isinstance(term, Literal) and term.ill_typed:
        datatype = shorten(str(term.datatype)) if term.datatype else "its datatype"
        raise CheckFailed(
            f"{escape_controls(str(term))[:60]!r} is not a valid {datatype} ({name}); "
            "ekb validate names the record"
        )
    return None if term is None else term.toPython()


def term_text(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return None if term is None else str(term)


def select(store: Store, body: str) -> QueryResult:
    return store.select(PREFIXES + body)


NAME_PATTERN = """
    OPTIONAL {{ {c} ekb:plainLabel ?{v}_plain }}
    OPTIONAL {{ {c} skos:prefLabel ?{v}_pref }}
"""


def name_of(row: dict[str, Any], var: str) -> str | None:
    """The plain label of a concept bound in a row, else its preferred label."""
    return term_text(row, f"{var}_plain") or term_text(row, f"{var}_pref")


def read_sources(store: Store, iris: set[str]) -> dict[str, SourceRef]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    result = select(
        store,
        f"""SELECT ?src ?title ?type_label ?doi ?url ?pmid ?lower WHERE {{
            VALUES ?src {{ {values} }}
            ?src a ekb:Source .
            OPTIONAL {{ ?src ekb:title ?title }}
            OPTIONAL {{ ?src ekb:doi ?doi }}
            OPTIONAL {{ ?src ekb:url ?url }}
            OPTIONAL {{ ?src ekb:pmid ?pmid }}
            OPTIONAL {{ ?src ekb:sourceType ?type . ?type skos:prefLabel ?type_label .
                        OPTIONAL {{ ?type ekb:lowerConfidence ?lower }} }}
        }} ORDER BY ?src""",
    )
    refs: dict[str, SourceRef] = {}
    for row in result.rows:
        iri = str(row["src"])
        if iri in refs:
            continue
        refs[iri] = SourceRef(
            iri=iri,
            title=term_text(row, "title") or iri,
            source_type=term_text(row, "type_label") or "source",
            doi=term_text(row, "doi"),
            url=term_text(row, "url"),
            pmid=term_text(row, "pmid"),
            lower_confidence=bool(term_value(row, "lower")),
        )
    return refs


@dataclass
class StudyFacts:
    iri: str
    title: str
    design: str | None
    design_rank: int
    open_label: bool
    condition: str | None
    enrolled: int | None
    source: str | None
    design_iri: str | None = None

    @property
    def randomised(self) -> bool:
        return self.design_iri in RANDOMISED_DESIGNS


#: Designs in which chance decided who got the treatment (ontology/vocab/designs.ttl).
RANDOMISED_DESIGNS = {
    str(DESIGN["randomised-controlled-trial"]),
    str(DESIGN["randomised-withdrawal-trial"]),
}


def read_study(store: Store, iri: str) -> StudyFacts | None:
    result = select(
        store,
        f"""SELECT ?title ?design ?design_plain ?design_pref ?rank ?blinding ?cond_plain ?cond_pref
                   ?enrolled ?src WHERE {{
            BIND(<{iri}> AS ?study)
            ?study a ekb:Study ; ekb:title ?title .
            OPTIONAL {{ ?study ekb:design ?design . {NAME_PATTERN.format(c="?design", v="design")}
                        OPTIONAL {{ ?design ekb:rank ?rank }} }}
            OPTIONAL {{ ?study ekb:blinding ?blinding }}
            OPTIONAL {{ ?study ekb:hasPopulation ?pop .
                        OPTIONAL {{ ?pop ekb:condition ?cond .
                                    {NAME_PATTERN.format(c="?cond", v="cond")} }}
                        OPTIONAL {{ ?pop ekb:enrolled ?enrolled }}
                        OPTIONAL {{ ?pop ekb:source ?src }} }}
        }} ORDER BY ?cond LIMIT 1""",
    )
    if not result.rows:
        return None
    row = result.rows[0]
    return StudyFacts(
        iri=iri,
        title=str(row["title"]),
        design=name_of(row, "design"),
        design_rank=int(term_value(row, "rank") or 0),
        design_iri=term_text(row, "design"),
        open_label=term_text(row, "blinding") == str(TERM["open-label"]),
        condition=name_of(row, "cond"),
        enrolled=term_value(row, "enrolled"),
        source=term_text(row, "src"),
    )


@dataclass
class Arm:
    iri: str
    label: str
    role: str | None
    n: int | None
    agent: str | None
    agent_name: str | None
    schedule: list[str]
    held_constant: str | None
    source: str | None
    #: Treatment every patient of the group got besides the one studied (as printed).
    background: str | None = None


def read_arms(store: Store, study: str) -> list[Arm]:
    result = select(
        store,
        f"""SELECT ?arm ?label ?role ?n ?agent ?agent_plain ?agent_pref ?freq ?interval ?on ?off
                   ?cycles ?weeks ?held ?background ?src WHERE {{
            <{study}> ekb:hasArm ?arm .
            OPTIONAL {{ ?arm rdfs:label ?label }}
            OPTIONAL {{ ?arm ekb:armRole ?role }}
            OPTIONAL {{ ?arm ekb:n ?n }}
            OPTIONAL {{ ?arm ekb:heldConstant ?held }}
            OPTIONAL {{ ?arm ekb:backgroundTherapy ?background }}
            OPTIONAL {{ ?arm ekb:source ?src }}
            OPTIONAL {{ ?arm ekb:receives ?iv .
                OPTIONAL {{ ?iv ekb:agent ?agent . {NAME_PATTERN.format(c="?agent", v="agent")} }}
                OPTIONAL {{ ?iv ekb:frequencyText ?freq }}
                OPTIONAL {{ ?iv ekb:dosingIntervalDays ?interval }}
                OPTIONAL {{ ?iv ekb:daysOnPerCycle ?on }}
                OPTIONAL {{ ?iv ekb:daysOffPerCycle ?off }}
                OPTIONAL {{ ?iv ekb:numberOfCycles ?cycles }}
                OPTIONAL {{ ?iv ekb:durationWeeks ?weeks }} }}
        }} ORDER BY ?arm ?agent""",
    )
    arms: dict[str, Arm] = {}
    short_names: dict[str, str | None] = {}
    for row in result.rows:
        iri = str(row["arm"])
        if iri in arms:
            continue
        arms[iri] = Arm(
            iri=iri,
            label=term_text(row, "label") or iri.rsplit("/", 1)[-1],
            role=term_text(row, "role"),
            n=term_value(row, "n"),
            agent=term_text(row, "agent"),
            agent_name=name_of(row, "agent"),
            schedule=schedule_words(
                *(term_value(row, k) for k in ("interval", "on", "off", "cycles"))
            ),
            held_constant=term_text(row, "held"),
            source=term_text(row, "src"),
            background=term_text(row, "background"),
        )
        short_names[iri] = term_text(row, "agent_pref")
    # Call an arm by its agent ("the placebo group") when that tells the arms
    # apart: registry-style labels ("placebo + MMF + low-dose steroids") make
    # sentences long and hard to read.
    # The groups of the randomised part are looked at apart from extension groups
    # (role "other", named "open-label extension: placebo to belimumab"), which
    # keep their labels: their agent is the treatment again.
    main = [a for a in arms if arms[a].role != str(TERM["other-arm"])]
    names = [short_names.get(a) for a in main]
    if main and all(names) and len(set(names)) == len(names):
        for iri in main:
            arms[iri].label = str(short_names[iri])
    return list(arms.values())


@dataclass
class Result:
    iri: str
    arm: str
    outcome: str
    outcome_name: str
    outcome_concept: str | None
    #: The outcome's own label and definition as the study printed them.
    outcome_label: str | None
    outcome_definition: str | None
    events: int | None
    total: int | None
    percent: Decimal | None
    percent_change: Decimal | None
    baseline: Decimal | None
    follow_up: Decimal | None
    unit: str | None
    direction: str | None
    statistic: str | None
    weeks: Decimal | None
    timepoint_text: str | None
    subgroup: str | None
    role: str | None
    source: str | None


def read_results(store: Store, study: str) -> list[Result]:
    result = select(
        store,
        f"""SELECT ?r ?arm ?o ?oc ?oc_plain ?oc_pref ?olabel ?events ?total ?percent ?pc ?base ?fu
                   ?unit ?dir ?stat ?weeks ?tptext ?subgroup ?role ?def ?oalt ?src WHERE {{
            <{study}> ekb:hasResult ?r .
            ?r ekb:arm ?arm ; ekb:outcome ?o .
            OPTIONAL {{ ?o rdfs:label ?olabel }}
            OPTIONAL {{ ?o ekb:outcomeRole ?role }}
            OPTIONAL {{ ?o ekb:definition ?def }}
            OPTIONAL {{ ?o rdfs:label ?olabel2 ; ekb:outcomeConcept/skos:altLabel ?oalt .
                        FILTER(LCASE(STR(?oalt)) = LCASE(STR(?olabel2))) }}
            OPTIONAL {{ ?o ekb:outcomeConcept ?oc . {NAME_PATTERN.format(c="?oc", v="oc")} }}
            OPTIONAL {{ ?r ekb:events ?events }}
            OPTIONAL {{ ?r ekb:total ?total }}
            OPTIONAL {{ ?r ekb:percent ?percent }}
            OPTIONAL {{ ?r ekb:percentChange ?pc }}
            OPTIONAL {{ ?r ekb:baselineValue ?base }}
            OPTIONAL {{ ?r ekb:followUpValue ?fu }}
            OPTIONAL {{ ?r ekb:unit ?unit }}
            OPTIONAL {{ ?r ekb:direction ?dir }}
            OPTIONAL {{ ?r ekb:summaryStatistic ?stat }}
            OPTIONAL {{ ?r ekb:timepointWeeks ?weeks }}
            OPTIONAL {{ ?r ekb:timepointText ?tptext }}
            OPTIONAL {{ ?r ekb:subgroup ?subgroup }}
            OPTIONAL {{ ?r ekb:source ?src }}
        }} ORDER BY ?r""",
    )
    seen: dict[str, Result] = {}
    for row in result.rows:
        iri = str(row["r"])
        if iri in seen:
            continue
        seen[iri] = Result(
            iri=iri,
            arm=str(row["arm"]),
            outcome=str(row["o"]),
            outcome_name=_outcome_name(row),
            outcome_concept=term_text(row, "oc"),
            outcome_label=term_text(row, "olabel"),
            outcome_definition=term_text(row, "def"),
            events=term_value(row, "events"),
            total=term_value(row, "total"),
            percent=term_value(row, "percent"),
            percent_change=term_value(row, "pc"),
            baseline=term_value(row, "base"),
            follow_up=term_value(row, "fu"),
            unit=term_text(row, "unit"),
            direction=term_text(row, "dir"),
            statistic=term_text(row, "stat"),
            weeks=term_value(row, "weeks"),
            timepoint_text=term_text(row, "tptext"),
            subgroup=term_text(row, "subgroup"),
            role=term_text(row, "role"),
            source=term_text(row, "src"),
        )
    return list(seen.values())


def _outcome_name(row: dict[str, Any]) -> str:
    """The words for a result's outcome: the concept's plain label; else the
    outcome's own label when it is one of the concept's synonyms, since it then
    names exactly what was measured ("TFH and TH17 cells" rather than the
    concept "CD4+ T-cell subsets", which also holds the Tregs that went up);
    else the concept's preferred label, else the outcome's label."""
    plain = term_text(row, "oc_plain")
    if plain:
        return plain
    if row.get("oalt") is not None and term_text(row, "olabel"):
        return str(term_text(row, "olabel"))
    return term_text(row, "oc_pref") or term_text(row, "olabel") or "this outcome"


@dataclass
class SafetyFinding:
    iri: str
    arm: str
    term: str
    serious: bool
    affected: int | None
    at_risk: int | None
    percent: Decimal | None
    when: str | None
    source: str | None


def read_safety(store: Store, study: str) -> list[SafetyFinding]:
    result = select(
        store,
        f"""SELECT ?f ?arm ?term ?serious ?affected ?atrisk ?percent ?when ?src WHERE {{
            <{study}> ekb:hasSafetyFinding ?f .
            ?f ekb:arm ?arm ; ekb:eventTerm ?term .
            OPTIONAL {{ ?f ekb:serious ?serious }}
            OPTIONAL {{ ?f ekb:affected ?affected }}
            OPTIONAL {{ ?f ekb:atRisk ?atrisk }}
            OPTIONAL {{ ?f ekb:percent ?percent }}
            OPTIONAL {{ ?f ekb:timepointText ?when }}
            OPTIONAL {{ ?f ekb:source ?src }}
        }} ORDER BY DESC(?serious) ?f""",
    )
    return [
        SafetyFinding(
            iri=str(row["f"]),
            arm=str(row["arm"]),
            term=str(row["term"]),
            serious=bool(term_value(row, "serious")),
            affected=term_value(row, "affected"),
            at_risk=term_value(row, "atrisk"),
            percent=term_value(row, "percent"),
            when=term_text(row, "when"),
            source=term_text(row, "src"),
        )
        for row in result.rows
    ]


@dataclass
class Claim:
    iri: str
    intervention: str | None
    intervention_name: str | None
    condition_name: str | None
    direction: str | None
    certainty: str | None
    certainty_rank: int
    reasons: list[tuple[str, str]]  # (reason IRI, plain words)
    supported_by: list[str]
    source: str | None


def read_claims(store: Store, study: str) -> list[Claim]:
    result = select(
        store,
        f"""SELECT ?c ?iv ?iv_plain ?iv_pref ?cond_plain ?cond_pref ?dir ?cert_plain ?cert_pref
                   ?rank
                   ?reason ?reason_plain ?reason_pref ?support ?src WHERE {{
            <{study}> ekb:hasClaim ?c .
            OPTIONAL {{ ?c ekb:aboutIntervention ?iv . {NAME_PATTERN.format(c="?iv", v="iv")} }}
            OPTIONAL {{ ?c ekb:aboutCondition ?cond . {NAME_PATTERN.format(c="?cond", v="cond")} }}
            OPTIONAL {{ ?c ekb:direction ?dir }}
            OPTIONAL {{ ?c ekb:certainty ?cert . {NAME_PATTERN.format(c="?cert", v="cert")}
                        OPTIONAL {{ ?cert ekb:rank ?rank }} }}
            OPTIONAL {{ ?c ekb:certaintyReason ?reason .
                        {NAME_PATTERN.format(c="?reason", v="reason")} }}
            OPTIONAL {{ ?c ekb:supportedBy ?support }}
            OPTIONAL {{ ?c ekb:source ?src }}
        }} ORDER BY ?c ?reason ?support""",
    )
    claims: dict[str, Claim] = {}
    for row in result.rows:
        iri = str(row["c"])
        claim = claims.get(iri)
        if claim is None:
            claim = claims[iri] = Claim(
                iri=iri,
                intervention=term_text(row, "iv"),
                intervention_name=name_of(row, "iv"),
                condition_name=name_of(row, "cond"),
                direction=term_text(row, "dir"),
                certainty=name_of(row, "cert"),
                certainty_rank=int(term_value(row, "rank") or 0),
                reasons=[],
                supported_by=[],
                source=term_text(row, "src"),
            )
        reason = term_text(row, "reason")
        if reason and reason not in [r for r, _ in claim.reasons]:
            claim.reasons.append((reason, name_of(row, "reason") or reason))
        support = term_text(row, "support")
        if support and support not in claim.supported_by:
            claim.supported_by.append(support)
    return list(claims.values())


def narrower_closure(store: Store, concepts: list[str]) -> list[str]:
    if not concepts:
        return []
    values = " ".join(f"<{c}>" for c in concepts)
    result = select(
        store,
        f"SELECT DISTINCT ?n WHERE {{ VALUES ?top {{ {values} }} ?n skos:broader* ?top }} "
        "ORDER BY ?n",
    )
    return sorted({str(r["n"]) for r in result.rows} | set(concepts))


def covered_conditions(store: Store) -> list[str]:
    result = select(
        store,
        f"""SELECT DISTINCT ?c_plain ?c_pref WHERE {{
            ?study a ekb:Study ; ekb:hasPopulation/ekb:condition ?c .
            {NAME_PATTERN.format(c="?c", v="c")}
        }}""",
    )
    return sorted({name_of(r, "c") or "" for r in result.rows} - {""})


def count_studies(store: Store) -> int:
    result = select(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ekb:Study }")
    return int(term_value(result.rows[0], "n")) if result.rows else 0


@dataclass
class Comparison:
    """An effect between two arms of a study, and what it says about chance."""

    iri: str
    outcome: str
    experimental_arm: str | None
    comparator_arm: str | None
    measure: str | None
    estimate: Decimal | None
    ci_lower: Decimal | None
    ci_upper: Decimal | None
    p_value: Decimal | None
    p_comparator: str | None
    reported_significant: bool | None
    weeks: Decimal | None
    subgroup: str | None
    source: str | None


def read_comparisons(store: Store, study: str) -> list[Comparison]:
    result = select(
        store,
        f"""SELECT ?c ?o ?exp ?cmp ?m ?est ?lo ?hi ?p ?pc ?sig ?weeks ?subgroup ?src WHERE {{
            <{study}> ekb:hasComparison ?c .
            ?c ekb:outcome ?o .
            OPTIONAL {{ ?c ekb:experimentalArm ?exp }}
            OPTIONAL {{ ?c ekb:comparatorArm ?cmp }}
            OPTIONAL {{ ?c ekb:effectMeasure ?m }}
            OPTIONAL {{ ?c ekb:estimate ?est }}
            OPTIONAL {{ ?c ekb:ciLower ?lo }}
            OPTIONAL {{ ?c ekb:ciUpper ?hi }}
            OPTIONAL {{ ?c ekb:pValue ?p }}
            OPTIONAL {{ ?c ekb:pValueComparator ?pc }}
            OPTIONAL {{ ?c ekb:reportedSignificant ?sig }}
            OPTIONAL {{ ?c ekb:timepointWeeks ?weeks }}
            OPTIONAL {{ ?c ekb:subgroup ?subgroup }}
            OPTIONAL {{ ?c ekb:source ?src }}
        }} ORDER BY ?c""",
    )
    seen: dict[str, Comparison] = {}
    for row in result.rows:
        iri = str(row["c"])
        if iri in seen:
            continue
        sig = term_value(row, "sig")
        seen[iri] = Comparison(
            iri=iri,
            outcome=str(row["o"]),
            experimental_arm=term_text(row, "exp"),
            comparator_arm=term_text(row, "cmp"),
            measure=term_text(row, "m"),
            estimate=term_value(row, "est"),
            ci_lower=term_value(row, "lo"),
            ci_upper=term_value(row, "hi"),
            p_value=term_value(row, "p"),
            p_comparator=term_text(row, "pc"),
            reported_significant=None if sig is None else bool(sig),
            weeks=term_value(row, "weeks"),
            subgroup=term_text(row, "subgroup"),
            source=term_text(row, "src"),
        )
    return list(seen.values())


def broader_closure(store: Store, concepts: set[str]) -> dict[str, set[str]]:
    """Each concept with itself and every concept it is narrower than (skos:broader*)."""
    if not concepts:
        return {}
    values = " ".join(f"<{c}>" for c in sorted(concepts))
    result = select(
        store,
        f"SELECT ?c ?up WHERE {{ VALUES ?c {{ {values} }} ?c skos:broader* ?up }}",
    )
    closure: dict[str, set[str]] = {c: {c} for c in concepts}
    for row in result.rows:
        closure[str(row["c"])].add(str(row["up"]))
    return closure


def outcome_texts(store: Store) -> list[str]:
    """Every label and definition of an outcome or outcome concept in the knowledge base."""
    result = select(
        store,
        """SELECT DISTINCT ?text WHERE {
            { ?o a ekb:Outcome . ?o rdfs:label|ekb:definition ?text }
            UNION { ?s ekb:hasOutcome/ekb:outcomeConcept ?c .
                    ?c skos:prefLabel|skos:altLabel|skos:definition|ekb:plainLabel ?text }
        } ORDER BY ?text""",
    )
    return [str(r["text"]) for r in result.rows]


def primary_outcomes(store: Store, study: str) -> list[tuple[str, str]]:
    """The study's primary outcomes: (IRI, label), in IRI order."""
    result = select(
        store,
        f"""SELECT ?o ?label WHERE {{
            <{study}> ekb:hasOutcome ?o . ?o ekb:outcomeRole term:primary .
            OPTIONAL {{ ?o rdfs:label ?label }}
        }} ORDER BY ?o""",
    )
    return [(str(r["o"]), term_text(r, "label") or "its main outcome") for r in result.rows]


def sources_of(store: Store, iris: list[str]) -> list[str]:
    """The sources of the given records (results, comparisons, safety findings), sorted."""
    if not iris:
        return []
    values = " ".join(f"<{i}>" for i in sorted(set(iris)))
    result = select(
        store,
        f"""SELECT DISTINCT ?src WHERE {{ VALUES ?x {{ {values} }} ?x ekb:source ?src }}
            ORDER BY ?src""",
    )
    return [str(r["src"]) for r in result.rows]


class OneReading:
    """A store seen through one summary or answer: each query runs once.

    An answer reads the same study's arms, results and claims for its benefit,
    safety and bottom-line sentences; remembering the rows for the length of one
    text (never longer, so a changed knowledge base is always read afresh) keeps
    an answer over the whole knowledge base under a second.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._rows: dict[str, QueryResult] = {}

    def select(self, query: str) -> QueryResult:
        if query not in self._rows:
            self._rows[query] = self._store.select(query)
        return self._rows[query]

    def ask(self, query: str) -> bool:
        return self._store.ask(query)

    def construct(self, query: str) -> list[tuple[Any, Any, Any]]:
        return self._store.construct(query)
