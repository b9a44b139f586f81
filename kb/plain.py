"""Plain-language study summaries and answers to patients' questions.

Every sentence is generated from the triples of the knowledge base and keeps
the IRIs of the results, claims and sources it states, so a reader (or a test)
can trace each one back to its evidence. Nothing is said that the knowledge
base does not hold: no recommendation without a claim or result behind it.

Words come from the vocabularies: a concept's ``ekb:plainLabel`` when it has
one, else its ``skos:prefLabel``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kb.errors import UsageError
from kb.namespaces import RES, TERM, sparql_prefix_block, study_iri
from kb.store import QueryResult, Store

_PREFIXES = sparql_prefix_block()

#: Sections of a study summary, in reading order.
SUMMARY_SECTIONS = (
    "What was studied",
    "Who took part",
    "What they received",
    "What happened",
    "Side effects",
    "How far can we trust this?",
)


@dataclass
class Sentence:
    """One sentence and the evidence it states."""

    text: str
    section: str
    results: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: True when the sentence opens a new paragraph within its section.
    starts_paragraph: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "starts_paragraph": self.starts_paragraph,
            "text": self.text,
            "results": self.results,
            "claims": self.claims,
            "sources": self.sources,
        }


class _Sentences(list[Sentence]):
    """The sentences of a text being written, with one way to add one."""

    def say(
        self,
        section: str,
        text: str,
        *,
        results: Sequence[str] = (),
        claims: Sequence[str] = (),
        sources: Sequence[str | None] = (),
        paragraph: bool = False,
    ) -> None:
        """Add a sentence with the evidence it states (unknown sources are skipped)."""
        self.append(
            Sentence(
                text,
                section,
                list(results),
                list(claims),
                sorted({s for s in sources if s}),
                paragraph,
            )
        )


@dataclass
class SourceRef:
    iri: str
    title: str
    source_type: str
    doi: str | None
    url: str | None
    lower_confidence: bool


@dataclass
class PlainText:
    """A summary or an answer: a title, sentences in sections, and the sources they cite."""

    title: str
    sentences: list[Sentence]
    sources: dict[str, SourceRef]
    extra: dict[str, Any] = field(default_factory=dict)

    def cited_sources(self) -> list[SourceRef]:
        """Sources in order of first citation (the numbering of the Markdown)."""
        order: list[str] = []
        for sentence in self.sentences:
            for iri in sentence.sources:
                if iri not in order and iri in self.sources:
                    order.append(iri)
        return [self.sources[i] for i in order]

    def plain_text(self) -> str:
        """All sentences as running text (what readability is measured on)."""
        return " ".join(s.text for s in self.sentences)

    def to_json(self) -> dict[str, Any]:
        numbers = {s.iri: n for n, s in enumerate(self.cited_sources(), start=1)}
        return {
            "title": self.title,
            **self.extra,
            "sentences": [
                {**s.to_json(), "source_numbers": [numbers[i] for i in s.sources if i in numbers]}
                for s in self.sentences
            ],
            "sources": [
                {
                    "number": numbers[s.iri],
                    "iri": s.iri,
                    "title": s.title,
                    "source_type": s.source_type,
                    "doi": s.doi,
                    "url": s.url,
                    "lower_confidence": s.lower_confidence,
                }
                for s in self.cited_sources()
            ],
        }

    def to_markdown(self) -> str:
        numbers = {s.iri: n for n, s in enumerate(self.cited_sources(), start=1)}
        lines = [f"# {self.title}", ""]
        section = None
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                lines.append(" ".join(paragraph))
                lines.append("")
                paragraph.clear()

        for sentence in self.sentences:
            if sentence.section != section:
                flush()
                section = sentence.section
                lines.append(f"## {section}")
                lines.append("")
            elif sentence.starts_paragraph:
                flush()
            refs = sorted({numbers[i] for i in sentence.sources if i in numbers})
            marks = "".join(f"[{n}]" for n in refs)
            paragraph.append(f"{sentence.text}{' ' + marks if marks else ''}")
        flush()
        cited = self.cited_sources()
        if cited:
            lines.append("## Sources")
            lines.append("")
            for n, src in enumerate(cited, start=1):
                where = f"https://doi.org/{src.doi}" if src.doi else (src.url or src.iri)
                flag = " (lower-confidence source)" if src.lower_confidence else ""
                lines.append(f"{n}. {src.title} ({src.source_type}){flag}. {where}")
            lines.append("")
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Reading the knowledge base
# --------------------------------------------------------------------------


def _py(row: dict[str, Any], name: str) -> Any:
    term = row.get(name)
    return None if term is None else term.toPython()


def _str(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return None if term is None else str(term)


def _select(store: Store, body: str) -> QueryResult:
    return store.select(_PREFIXES + body)


_NAME = """
    OPTIONAL {{ {c} ekb:plainLabel ?{v}_plain }}
    OPTIONAL {{ {c} skos:prefLabel ?{v}_pref }}
"""


def _name_of(row: dict[str, Any], var: str) -> str | None:
    """The plain label of a concept bound in a row, else its preferred label."""
    return _str(row, f"{var}_plain") or _str(row, f"{var}_pref")


def _sources(store: Store, iris: set[str]) -> dict[str, SourceRef]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    result = _select(
        store,
        f"""SELECT ?src ?title ?type_label ?doi ?url ?lower WHERE {{
            VALUES ?src {{ {values} }}
            ?src a ekb:Source .
            OPTIONAL {{ ?src ekb:title ?title }}
            OPTIONAL {{ ?src ekb:doi ?doi }}
            OPTIONAL {{ ?src ekb:url ?url }}
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
            title=_str(row, "title") or iri,
            source_type=_str(row, "type_label") or "source",
            doi=_str(row, "doi"),
            url=_str(row, "url"),
            lower_confidence=bool(_py(row, "lower")),
        )
    return refs


@dataclass
class _Study:
    iri: str
    title: str
    design: str | None
    design_rank: int
    open_label: bool
    condition: str | None
    enrolled: int | None
    source: str | None


def _study(store: Store, iri: str) -> _Study | None:
    result = _select(
        store,
        f"""SELECT ?title ?design_plain ?design_pref ?rank ?blinding ?cond_plain ?cond_pref
                   ?enrolled ?src WHERE {{
            BIND(<{iri}> AS ?study)
            ?study a ekb:Study ; ekb:title ?title .
            OPTIONAL {{ ?study ekb:design ?design . {_NAME.format(c="?design", v="design")}
                        OPTIONAL {{ ?design ekb:rank ?rank }} }}
            OPTIONAL {{ ?study ekb:blinding ?blinding }}
            OPTIONAL {{ ?study ekb:hasPopulation ?pop .
                        OPTIONAL {{ ?pop ekb:condition ?cond . {_NAME.format(c="?cond", v="cond")} }}
                        OPTIONAL {{ ?pop ekb:enrolled ?enrolled }}
                        OPTIONAL {{ ?pop ekb:source ?src }} }}
        }} ORDER BY ?cond LIMIT 1""",
    )
    if not result.rows:
        return None
    row = result.rows[0]
    return _Study(
        iri=iri,
        title=str(row["title"]),
        design=_name_of(row, "design"),
        design_rank=int(_py(row, "rank") or 0),
        open_label=_str(row, "blinding") == str(TERM["open-label"]),
        condition=_name_of(row, "cond"),
        enrolled=_py(row, "enrolled"),
        source=_str(row, "src"),
    )


@dataclass
class _Arm:
    iri: str
    label: str
    role: str | None
    n: int | None
    agent: str | None
    agent_name: str | None
    schedule: list[str]
    held_constant: str | None
    source: str | None


def _arms(store: Store, study: str) -> list[_Arm]:
    result = _select(
        store,
        f"""SELECT ?arm ?label ?role ?n ?agent ?agent_plain ?agent_pref ?freq ?interval ?on ?off
                   ?cycles ?weeks ?held ?src WHERE {{
            <{study}> ekb:hasArm ?arm .
            OPTIONAL {{ ?arm rdfs:label ?label }}
            OPTIONAL {{ ?arm ekb:armRole ?role }}
            OPTIONAL {{ ?arm ekb:n ?n }}
            OPTIONAL {{ ?arm ekb:heldConstant ?held }}
            OPTIONAL {{ ?arm ekb:source ?src }}
            OPTIONAL {{ ?arm ekb:receives ?iv .
                OPTIONAL {{ ?iv ekb:agent ?agent . {_NAME.format(c="?agent", v="agent")} }}
                OPTIONAL {{ ?iv ekb:frequencyText ?freq }}
                OPTIONAL {{ ?iv ekb:dosingIntervalDays ?interval }}
                OPTIONAL {{ ?iv ekb:daysOnPerCycle ?on }}
                OPTIONAL {{ ?iv ekb:daysOffPerCycle ?off }}
                OPTIONAL {{ ?iv ekb:numberOfCycles ?cycles }}
                OPTIONAL {{ ?iv ekb:durationWeeks ?weeks }} }}
        }} ORDER BY ?arm ?agent""",
    )
    arms: dict[str, _Arm] = {}
    short_names: dict[str, str | None] = {}
    for row in result.rows:
        iri = str(row["arm"])
        if iri in arms:
            continue
        arms[iri] = _Arm(
            iri=iri,
            label=_str(row, "label") or iri.rsplit("/", 1)[-1],
            role=_str(row, "role"),
            n=_py(row, "n"),
            agent=_str(row, "agent"),
            agent_name=_name_of(row, "agent"),
            schedule=_schedule_words(row),
            held_constant=_str(row, "held"),
            source=_str(row, "src"),
        )
        short_names[iri] = _str(row, "agent_pref")
    # Call an arm by its agent ("the placebo group") when that tells the arms
    # apart: registry-style labels ("placebo + MMF + low-dose steroids") make
    # sentences long and hard to read.
    names = [short_names.get(a) for a in arms]
    if all(names) and len(set(names)) == len(names):
        for iri, arm in arms.items():
            arm.label = str(short_names[iri])
    return list(arms.values())


def _schedule_words(row: dict[str, Any]) -> list[str]:
    words: list[str] = []
    interval, on, off, cycles = (_py(row, k) for k in ("interval", "on", "off", "cycles"))
    if interval == 2:
        words.append("an injection every other day" if on else "a dose every other day")
    elif interval == 1:
        words.append("a dose every day")
    if on and off:
        words.append(f"for {_days_as_words(on)}, then a break of {_days_as_words(off)}")
    if cycles:
        words.append(f"{_count_word(int(cycles))} rounds in all" if cycles > 1 else "one round")
    return words


def _days_as_words(days: Decimal | float | int) -> str:
    days = float(days)
    if days % 7 == 0:
        weeks = int(days // 7)
        return f"{_count_word(weeks)} week{'s' if weeks != 1 else ''}"
    return f"{_fmt(days)} days"


@dataclass
class _Result:
    iri: str
    arm: str
    outcome: str
    outcome_name: str
    outcome_concept: str | None
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


def _results(store: Store, study: str) -> list[_Result]:
    result = _select(
        store,
        f"""SELECT ?r ?arm ?o ?oc ?oc_plain ?oc_pref ?olabel ?events ?total ?percent ?pc ?base ?fu
                   ?unit ?dir ?stat ?weeks ?tptext ?subgroup ?role ?src WHERE {{
            <{study}> ekb:hasResult ?r .
            ?r ekb:arm ?arm ; ekb:outcome ?o .
            OPTIONAL {{ ?o rdfs:label ?olabel }}
            OPTIONAL {{ ?o ekb:outcomeRole ?role }}
            OPTIONAL {{ ?o ekb:outcomeConcept ?oc . {_NAME.format(c="?oc", v="oc")} }}
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
    seen: dict[str, _Result] = {}
    for row in result.rows:
        iri = str(row["r"])
        if iri in seen:
            continue
        seen[iri] = _Result(
            iri=iri,
            arm=str(row["arm"]),
            outcome=str(row["o"]),
            outcome_name=_name_of(row, "oc") or _str(row, "olabel") or "this outcome",
            outcome_concept=_str(row, "oc"),
            events=_py(row, "events"),
            total=_py(row, "total"),
            percent=_py(row, "percent"),
            percent_change=_py(row, "pc"),
            baseline=_py(row, "base"),
            follow_up=_py(row, "fu"),
            unit=_str(row, "unit"),
            direction=_str(row, "dir"),
            statistic=_str(row, "stat"),
            weeks=_py(row, "weeks"),
            timepoint_text=_str(row, "tptext"),
            subgroup=_str(row, "subgroup"),
            role=_str(row, "role"),
            source=_str(row, "src"),
        )
    return list(seen.values())


@dataclass
class _Safety:
    iri: str
    arm: str
    term: str
    serious: bool
    affected: int | None
    at_risk: int | None
    percent: Decimal | None
    when: str | None
    source: str | None


def _safety(store: Store, study: str) -> list[_Safety]:
    result = _select(
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
        _Safety(
            iri=str(row["f"]),
            arm=str(row["arm"]),
            term=str(row["term"]),
            serious=bool(_py(row, "serious")),
            affected=_py(row, "affected"),
            at_risk=_py(row, "atrisk"),
            percent=_py(row, "percent"),
            when=_str(row, "when"),
            source=_str(row, "src"),
        )
        for row in result.rows
    ]


@dataclass
class _Claim:
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


def _claims(store: Store, study: str) -> list[_Claim]:
    result = _select(
        store,
        f"""SELECT ?c ?iv ?iv_plain ?iv_pref ?cond_plain ?cond_pref ?dir ?cert_plain ?cert_pref ?rank
                   ?reason ?reason_plain ?reason_pref ?support ?src WHERE {{
            <{study}> ekb:hasClaim ?c .
            OPTIONAL {{ ?c ekb:aboutIntervention ?iv . {_NAME.format(c="?iv", v="iv")} }}
            OPTIONAL {{ ?c ekb:aboutCondition ?cond . {_NAME.format(c="?cond", v="cond")} }}
            OPTIONAL {{ ?c ekb:direction ?dir }}
            OPTIONAL {{ ?c ekb:certainty ?cert . {_NAME.format(c="?cert", v="cert")}
                        OPTIONAL {{ ?cert ekb:rank ?rank }} }}
            OPTIONAL {{ ?c ekb:certaintyReason ?reason . {_NAME.format(c="?reason", v="reason")} }}
            OPTIONAL {{ ?c ekb:supportedBy ?support }}
            OPTIONAL {{ ?c ekb:source ?src }}
        }} ORDER BY ?c ?reason ?support""",
    )
    claims: dict[str, _Claim] = {}
    for row in result.rows:
        iri = str(row["c"])
        claim = claims.get(iri)
        if claim is None:
            claim = claims[iri] = _Claim(
                iri=iri,
                intervention=_str(row, "iv"),
                intervention_name=_name_of(row, "iv"),
                condition_name=_name_of(row, "cond"),
                direction=_str(row, "dir"),
                certainty=_name_of(row, "cert"),
                certainty_rank=int(_py(row, "rank") or 0),
                reasons=[],
                supported_by=[],
                source=_str(row, "src"),
            )
        reason = _str(row, "reason")
        if reason and reason not in [r for r, _ in claim.reasons]:
            claim.reasons.append((reason, _name_of(row, "reason") or reason))
        support = _str(row, "support")
        if support and support not in claim.supported_by:
            claim.supported_by.append(support)
    return list(claims.values())


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------

_COUNT_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _count_word(n: int) -> str:
    """Small counts in words, larger ones in digits.

    >>> _count_word(3), _count_word(12)
    ('three', '12')
    """
    return _COUNT_WORDS[n] if 0 <= n < len(_COUNT_WORDS) else str(n)


def _fmt(value: Decimal | float | int) -> str:
    """A number as printed for people: no needless trailing zeros.

    >>> _fmt(Decimal("50.30")), _fmt(Decimal("70.0")), _fmt(12)
    ('50.3', '70', '12')
    """
    d = Decimal(str(value))
    text = format(d.normalize(), "f")
    return text


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an abbreviation ("C3", "SRI-4").

    >>> _lower_first("On average, x"), _lower_first("C3 went up")
    ('on average, x', 'C3 went up')
    """
    first = text.split(" ", 1)[0]
    if len(first) > 1 and (first[1].isupper() or first[1].isdigit()):
        return text
    return text[:1].lower() + text[1:]


def _when(weeks: Decimal | None, printed: str | None = None) -> str:
    """ " by week 12", or the timepoint as printed when weeks are not whole ("42 months")."""
    if weeks is None:
        return f" ({printed})" if printed else ""
    if printed and Decimal(weeks) != Decimal(weeks).to_integral_value():
        return f" after {printed}"
    return f" by week {_fmt(weeks)}"


_UP = {str(TERM["increased"])}
_SLIGHTLY_UP = {str(TERM["slightly-increased"])}
_DOWN = {str(TERM["decreased"])}


def _result_sentence(result: _Result, arm_label: str | None) -> str | None:
    """One result in everyday words, or ``None`` when it holds nothing to say."""
    name = result.outcome_name
    when = _when(result.weeks, result.timepoint_text)
    who = f" in the {arm_label} group" if arm_label else ""
    if result.events is not None and result.total is not None:
        pct = f" ({_fmt(result.percent)}%)" if result.percent is not None else ""
        return f"{result.events} of the {result.total} patients{who}{pct} had {name}{when}."
    if result.percent is not None:
        return f"{_fmt(result.percent)}% of patients{who} had {name}{when}."
    if result.percent_change is not None:
        change = result.percent_change
        verb = "went down" if change < 0 else "went up"
        lead = "On average, " if result.statistic == str(TERM["mean"]) else ""
        subject = name if lead else _capitalise(name)
        return f"{lead}{subject}{who} {verb} by {_fmt(abs(change))}%{when}."
    if result.baseline is not None and result.follow_up is not None:
        unit = result.unit or ""
        if unit and unit != "%":
            unit = " " + unit
        verb = "went up" if result.follow_up > result.baseline else "went down"
        end = f" at week {_fmt(result.weeks)}" if result.weeks is not None else " later"
        return (
            f"{_capitalise(name)}{who} {verb} from {_fmt(result.baseline)}{unit} at the start "
            f"to {_fmt(result.follow_up)}{unit}{end}."
        )
    if result.direction in _UP | _SLIGHTLY_UP | _DOWN:
        verb = "went down" if result.direction in _DOWN else "went up"
        if result.direction in _SLIGHTLY_UP:
            verb = "went up a little"
        return f"{_capitalise(name)}{who} {verb}{when}. No numbers were given for this."
    return None


#: The order in which reasons for caution are told: the plainest first.
_REASON_ORDER = [
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
_STRENGTHS = {str(TERM["randomised-double-blind"])}


def _reason_words(
    claim: _Claim, enrolled: int | None, *, strengths: bool = False, other_studies: bool = False
) -> list[str]:
    """The claim's reasons for caution (or, with ``strengths``, in its favour), in
    everyday words and a fixed order. With ``other_studies`` (an answer that
    lists several studies of the treatment) "only one study" is left out: it
    was true of the claim alone, not of the evidence shown beside it."""

    def order(item: tuple[str, str]) -> tuple[int, str]:
        iri = item[0]
        return (_REASON_ORDER.index(iri) if iri in _REASON_ORDER else len(_REASON_ORDER), iri)

    words = []
    for iri, text in sorted(claim.reasons, key=order):
        if (iri in _STRENGTHS) != strengths or (other_studies and iri == str(TERM["single-study"])):
            continue
        if iri == str(TERM["small-sample"]) and enrolled is not None:
            text = f"only {_count_word(enrolled)} patients took part"
        words.append(text)
    return words


def _result_rank(result: _Result) -> tuple[int, int]:
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


# --------------------------------------------------------------------------
# Study summaries
# --------------------------------------------------------------------------


def _tell_apart_outcomes(results: list[_Result], store: Store, study: str) -> None:
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
        for row in _select(
            store,
            f"""SELECT ?o ?label WHERE {{ <{study}> ekb:hasOutcome ?o . ?o rdfs:label ?label .
                   OPTIONAL {{ ?o ekb:outcomeRole ?role }}
                   FILTER(!BOUND(?role) || ?role != term:primary) }}""",
        ).rows
    }
    for r in results:
        if r.outcome_concept in shared and r.outcome in labels:
            r.outcome_name = f"{r.outcome_name} ({labels[r.outcome]})"


def resolve_study(store: Store, study: str) -> str:
    """The IRI of a study given its id, its IRI or a ``res:``-relative name.

    :raises UsageError: no such study (with the nearest ids).
    """
    candidates = [study] if study.startswith("http") else [study_iri(study), f"{RES}{study}"]
    for iri in candidates:
        if store.ask(f"{_PREFIXES}ASK {{ <{iri}> a ekb:Study }}"):
            return iri
    ids = [
        str(r["id"])
        for r in _select(
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
    facts = _study(store, iri)
    assert facts is not None  # resolve_study checked it exists
    arms = _arms(store, iri)
    results = _results(store, iri)
    safety = _safety(store, iri)
    claims = _claims(store, iri)
    arm_by_iri = {a.iri: a for a in arms}
    several_arms = len(arms) > 1
    sentences = _Sentences()
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
            f"{_capitalise(_count_word(facts.enrolled))} patients took part.",
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
    _tell_apart_outcomes(results, store, iri)
    controls = {
        a.iri for a in arms if a.role not in {str(TERM["experimental"]), str(TERM["single-arm"])}
    }
    told: set[str] = set()
    for result in sorted(results, key=lambda r: (_result_rank(r), r.arm in controls, r.iri)):
        if result.iri in told:
            continue
        label = arm_by_iri[result.arm].label if several_arms and result.arm in arm_by_iri else None
        told_text = _result_sentence(result, label)
        if not told_text:
            continue
        text = told_text
        told.add(result.iri)
        iris, srcs = [result.iri], [result.source]
        control = (
            _matching_control(result, results, arm_by_iri) if result.arm not in controls else None
        )
        if control is not None and control.iri not in told:
            clause = _control_clause(control, arm_by_iri[control.arm].label)
            if clause:
                text = text[:-1] + f", compared with {clause}."
                iris.append(control.iri)
                srcs.append(control.source)
                told.add(control.iri)
        if result.subgroup:
            text = f"Among {result.subgroup}: {_lower_first(text)}"
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
            if finding.serious and _is_any_serious_event(finding.term)
            else finding.term
        )
        if finding.affected == 0 and _is_death(finding.term):
            text = f"No patient{who} died{when}."
        elif finding.affected == 0:
            text = f"No patient{who} had {what}{when}."
        elif finding.affected is not None and finding.at_risk is not None:
            verb = "died" if _is_death(finding.term) else f"had {what}"
            text = f"{finding.affected} of {finding.at_risk} patients{who} {verb}{when}."
        elif finding.affected is not None:
            verb = "died" if _is_death(finding.term) else f"had {what}"
            people = "patient" if finding.affected == 1 else "patients"
            text = f"{finding.affected} {people}{who} {verb}{when}."
        elif finding.percent is not None:
            text = f"{_fmt(finding.percent)}% of patients{who} had {what}{when}."
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
                f"The researchers think {claim.intervention_name} may help people with {claim.condition_name}.",
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
        cautions = _reason_words(claim, facts.enrolled, strengths=False)
        if cautions:
            say(
                "How far can we trust this?", "There are reasons to be careful.", claims=[claim.iri]
            )
        for words in cautions:
            say("How far can we trust this?", f"{_capitalise(words)}.", claims=[claim.iri])
        for words in _reason_words(claim, facts.enrolled, strengths=True):
            say("How far can we trust this?", f"In its favour: {words}.", claims=[claim.iri])
    if not claims:
        say(
            "How far can we trust this?",
            "Nobody has rated how sure we can be of these results yet, so treat them with care.",
        )

    sources = _sources(store, {i for s in sentences for i in s.sources})
    title = f"{facts.title}: a summary in plain words"
    return PlainText(title, sentences, sources, extra={"study": iri})


# --------------------------------------------------------------------------
# Answers to questions
# --------------------------------------------------------------------------


@dataclass
class _ConceptLabel:
    concept: str
    label: str
    name: str


def _concept_labels(store: Store, scheme_prefix: str) -> list[_ConceptLabel]:
    result = _select(
        store,
        f"""SELECT ?c ?label ?c_plain ?c_pref WHERE {{
            ?c a skos:Concept ; skos:prefLabel|skos:altLabel ?label .
            FILTER(STRSTARTS(STR(?c), "{scheme_prefix}"))
            {_NAME.format(c="?c", v="c")}
        }} ORDER BY ?c ?label""",
    )
    return [
        _ConceptLabel(str(r["c"]), str(r["label"]), _name_of(r, "c") or str(r["label"]))
        for r in result.rows
    ]


def _mentioned(labels: list[_ConceptLabel], question: str) -> list[_ConceptLabel]:
    """Concepts whose label or synonym appears in the question as whole words.

    All-capital abbreviations ("SLE", "LN") must match in capitals, so that the
    word "ln" inside ordinary text does not count.
    """
    found: dict[str, _ConceptLabel] = {}
    for item in sorted(labels, key=lambda x: -len(x.label)):
        flags = 0 if item.label.isupper() else re.IGNORECASE
        if re.search(rf"(?<![\w-]){re.escape(item.label)}(?![\w-])", question, flags):
            found.setdefault(item.concept, item)
    return list(found.values())


def _narrower_closure(store: Store, concepts: list[str]) -> list[str]:
    if not concepts:
        return []
    values = " ".join(f"<{c}>" for c in concepts)
    result = _select(
        store,
        f"SELECT DISTINCT ?n WHERE {{ VALUES ?top {{ {values} }} ?n skos:broader* ?top }} ORDER BY ?n",
    )
    return sorted({str(r["n"]) for r in result.rows} | set(concepts))


_STOPWORDS = set(
    """a an and are be can could do does for from have help helps how i in is it its me my of on or
    should stop the there this to treat treatment treatments what which with would you your about
    any anything get good best cure is are was were will""".split()
)


def _topic_words(question: str) -> str:
    words = [
        w for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", question) if w.lower() not in _STOPWORDS
    ]
    return " ".join(words) if words else question.strip()


@dataclass
class _InterventionEvidence:
    agent: str
    name: str
    studies: list[_Study] = field(default_factory=list)
    participants: int = 0
    best_rank: int = -1
    best_certainty: int = 0


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
    conditions = _mentioned(_concept_labels(store, cond_base), question)
    agents_named = _mentioned(_concept_labels(store, agent_base), question)
    sentences = _Sentences()
    say = sentences.say

    covered = _covered_conditions(store)
    if not conditions:
        topic = _topic_words(question)
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

    scope = _narrower_closure(store, [c.concept for c in conditions])
    agent_scope = (
        _narrower_closure(store, [a.concept for a in agents_named]) if agents_named else None
    )
    evidence = _interventions_for(store, scope, agent_scope)
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
            f"This knowledge base has evidence on {_count_word(len(evidence))} "
            f"treatment{'s' if len(evidence) != 1 else ''}, listed from the strongest evidence to the weakest.",
        )

    all_sources: set[str] = set()
    for item in evidence:
        _describe_intervention(store, item, say)
    for s in sentences:
        all_sources.update(s.sources)

    n_held = _count_studies(store)
    say(
        "What this knowledge base does not cover",
        f"It holds only the {_count_word(n_held)} {'study' if n_held == 1 else 'studies'} entered into it. "
        "It says nothing about diet, exercise, other medicines or new research it does not hold.",
    )
    say(
        "Talk to your doctor",
        "This is not medical advice. Please talk with your doctor before you start, stop or change any treatment.",
    )
    return PlainText(
        f"Your question: {question.strip()}",
        sentences,
        _sources(store, all_sources),
        extra={
            "question": question,
            "conditions": sorted(c.concept for c in conditions),
            "interventions": [item.agent for item in evidence],
            "covered": covered,
        },
    )


def _covered_conditions(store: Store) -> list[str]:
    result = _select(
        store,
        f"""SELECT DISTINCT ?c_plain ?c_pref WHERE {{
            ?study a ekb:Study ; ekb:hasPopulation/ekb:condition ?c .
            {_NAME.format(c="?c", v="c")}
        }}""",
    )
    return sorted({_name_of(r, "c") or "" for r in result.rows} - {""})


def _count_studies(store: Store) -> int:
    result = _select(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ekb:Study }")
    return int(_py(result.rows[0], "n")) if result.rows else 0


_CONTROL_AGENTS = {"placebo", "standard-therapy"}


def _interventions_for(
    store: Store, conditions: list[str], agents: list[str] | None
) -> list[_InterventionEvidence]:
    cond_values = " ".join(f"<{c}>" for c in conditions)
    agent_filter = f"VALUES ?agent {{ {' '.join(f'<{a}>' for a in agents)} }}" if agents else ""
    result = _select(
        store,
        f"""SELECT DISTINCT ?study ?agent ?agent_plain ?agent_pref WHERE {{
            VALUES ?cond {{ {cond_values} }}
            {agent_filter}
            ?study a ekb:Study ; ekb:hasPopulation/ekb:condition ?cond ; ekb:hasArm ?arm .
            ?arm ekb:armRole ?role ; ekb:receives/ekb:agent ?agent .
            FILTER(?role IN (term:experimental, term:single-arm))
            {_NAME.format(c="?agent", v="agent")}
        }} ORDER BY ?agent ?study""",
    )
    by_agent: dict[str, _InterventionEvidence] = {}
    for row in result.rows:
        agent = str(row["agent"])
        if agent.rsplit("/", 1)[-1] in _CONTROL_AGENTS:
            continue
        item = by_agent.setdefault(
            agent, _InterventionEvidence(agent, _name_of(row, "agent") or agent)
        )
        facts = _study(store, str(row["study"]))
        if facts is None or facts.iri in {s.iri for s in item.studies}:
            continue
        item.studies.append(facts)
        item.participants += facts.enrolled or 0
        item.best_rank = max(item.best_rank, facts.design_rank)
    for item in by_agent.values():
        for study in item.studies:
            for claim in _claims(store, study.iri):
                if claim.intervention in (None, item.agent) or claim.intervention == item.agent:
                    item.best_certainty = max(item.best_certainty, claim.certainty_rank)
    return sorted(
        by_agent.values(),
        key=lambda e: (-e.best_rank, -e.best_certainty, -e.participants, e.name),
    )


#: At most this many studies of one treatment are described one by one in an answer.
MAX_STUDIES_PER_TREATMENT = 6


def _with_article(text: str) -> str:
    """``text`` with "a" or "an" in front.

    >>> _with_article("randomised trial"), _with_article("open study")
    ('a randomised trial', 'an open study')
    """
    return ("an " if text[:1].lower() in "aeiou" else "a ") + text


def _describe_intervention(store: Store, item: _InterventionEvidence, say: Any) -> None:
    """One section of an answer: the treatment's studies, strongest first, each with
    its headline result and how sure we can be, then what is known about safety."""
    section = _capitalise(item.name)
    n_studies = len(item.studies)
    known = [s for s in item.studies if s.enrolled is not None]
    people = f" with {item.participants} patients in all" if known else ""
    unknown = n_studies - len(known)
    if known and unknown:
        people += f" (the size of {_count_word(unknown)} {'study is' if unknown == 1 else 'studies is'} not given)"
    say(
        section,
        f"There {'is' if n_studies == 1 else 'are'} {_count_word(n_studies)} "
        f"{'study' if n_studies == 1 else 'studies'}{people}.",
        sources=[s.source for s in item.studies],
    )

    studies = sorted(item.studies, key=lambda s: (-s.design_rank, -(s.enrolled or 0), s.iri))
    silent: list[_Study] = []
    told = 0
    for study in studies:
        benefit = _benefit_sentence(store, item, study)
        if benefit is None or told >= MAX_STUDIES_PER_TREATMENT:
            silent.append(study)
            continue
        told += 1
        design = _with_article(study.design) if study.design else "A study"
        size = f" in {study.enrolled} people" if study.enrolled is not None else " in people"
        who = f" with {study.condition}" if study.condition else ""
        say(section, f"{_capitalise(design)}{size}{who}.", sources=[study.source], paragraph=True)
        text, result_iris, claim_iris, sources = benefit
        say(section, text, results=result_iris, claims=claim_iris, sources=sources)
        for claim in _claims(store, study.iri):
            if claim.intervention not in (None, item.agent) or not claim.certainty:
                continue
            reasons = _reason_words(claim, study.enrolled, other_studies=n_studies > 1)
            why = f" Why: {'; '.join(reasons)}." if reasons else ""
            strengths = _reason_words(claim, study.enrolled, strengths=True)
            why += f" In its favour: {'; '.join(strengths)}." if strengths else ""
            say(
                section,
                f"How sure can we be? {_capitalise(claim.certainty)}.{why}",
                claims=[claim.iri],
                sources=[claim.source],
            )
            break
    if silent:
        say(
            section,
            paragraph=True,
            text=(
                f"{_capitalise(_count_word(len(silent)))} more "
                f"{'study gives' if len(silent) == 1 else 'studies give'} no result we can put in plain words here."
            ),
            sources=[s.source for s in silent],
        )

    for i, (text, iris, sources) in enumerate(_safety_sentences(store, item, studies)):
        say(section, text, results=iris, sources=sources, paragraph=i == 0)


def _benefit_sentence(
    store: Store,
    item: _InterventionEvidence,
    study: _Study,
) -> tuple[str, list[str], list[str], list[str | None]] | None:
    """The headline result of ``study`` for the treatment, with the control arm's
    result on the same outcome when there is one."""
    arms = {a.iri: a for a in _arms(store, study.iri)}
    several = len(arms) > 1
    claims = [c for c in _claims(store, study.iri) if c.intervention in (None, item.agent)]
    results = {r.iri: r for r in _results(store, study.iri)}
    supported = [results[i] for c in claims for i in c.supported_by if i in results]
    whole = [r for r in results.values() if not r.subgroup]
    for candidates in (supported, whole):
        experimental = [
            r for r in candidates if arms.get(r.arm) and arms[r.arm].agent == item.agent
        ]
        for result in sorted(experimental, key=lambda r: (_result_rank(r), r.iri)):
            text = _result_sentence(result, arms[result.arm].label if several else None)
            if not text:
                continue
            iris = [result.iri]
            sources: list[str | None] = [result.source]
            control = _matching_control(result, results.values(), arms)
            if control is not None:
                clause = _control_clause(control, arms[control.arm].label)
                if clause:
                    text = text[:-1] + f", compared with {clause}."
                    iris.append(control.iri)
                    sources.append(control.source)
            return text, iris, [c.iri for c in claims], sources
    return None


def _matching_control(result: _Result, results: Any, arms: dict[str, _Arm]) -> _Result | None:
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


def _control_clause(result: _Result, arm_label: str) -> str | None:
    if result.events is not None and result.total is not None:
        return f"{result.events} of {result.total} in the {arm_label} group"
    if result.percent is not None:
        return f"{_fmt(result.percent)}% in the {arm_label} group"
    return None


def _is_any_serious_event(term: str) -> bool:
    """True for a finding that counts all serious adverse events, not one kind of them."""
    words = term.lower()
    return "serious adverse event" in words or words in {"serious adverse events", "sae", "saes"}


def _is_death(term: str) -> bool:
    return term.lower().strip() in {"death", "deaths", "died", "all-cause mortality", "mortality"}


def _safety_sentences(
    store: Store,
    item: _InterventionEvidence,
    studies: list[_Study],
) -> list[tuple[str, list[str], list[str | None]]]:
    """What the studies say about serious side effects of the treatment, strongest study first.

    Only findings that count all serious adverse events speak for "serious side
    effects"; a zero for one kind of event (deaths, say) says nothing about others.
    """
    sentences: list[tuple[str, list[str], list[str | None]]] = []
    for study in studies:
        arms = {a.iri: a for a in _arms(store, study.iri)}
        for finding in _safety(store, study.iri):
            arm = arms.get(finding.arm)
            if not finding.serious or arm is None or arm.agent != item.agent:
                continue
            what = "a serious side effect" if _is_any_serious_event(finding.term) else finding.term
            design = study.design or "study"
            where = f"In {_with_article(design)}"
            if finding.affected == 0 and _is_death(finding.term):
                text = f"{where}, no patient on this treatment died"
            elif finding.affected == 0:
                text = f"{where}, no patient on this treatment had {what}"
            elif finding.affected is not None and finding.at_risk is not None:
                text = f"{where}, {finding.affected} of {finding.at_risk} patients on this treatment had {what}"
            elif finding.percent is not None:
                text = f"{where}, {_fmt(finding.percent)}% of patients on this treatment had {what}"
            else:
                continue
            when = f" ({finding.when})" if finding.when else ""
            sentences.append((text + when + ".", [finding.iri], [finding.source]))
    if not any("serious side effect" in text for text, _, _ in sentences):
        sentences.insert(
            0, ("The studies we hold give no overall numbers on serious side effects.", [], [])
        )
    return sentences[:3]


def readability_grade(text: str) -> float:
    """The Flesch-Kincaid school grade of a text (textstat)."""
    import textstat

    return float(textstat.flesch_kincaid_grade(text))
