"""The tables every review export is built from, read once from the store.

:func:`select_studies` turns the command line's filters (``--study``,
``--condition``, ``--intervention``, ``--outcome``) into a :class:`Selection`;
:func:`extract` reads the selected studies and returns an :class:`ExportData`
holding the shared tables (characteristics, arms, outcomes in long format,
comparisons, safety, claims, sources). Every row of every table carries its
caveats (design, single arm, open label, model-based, quality flag, source
type and lower confidence) and its provenance (source, source type, DOI/URL,
locator, printed text), so no export can drop them by accident.

The store is used only through :class:`kb.store.Store` (``select``), so the
same exports run on the embedded store and on a remote SPARQL endpoint. Rows
are sorted; nothing depends on the order a store returns solutions in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.namespaces import EKB, RES, XSD_INTEGER_TYPES, shorten, study_iri

#: A cell: text, a number, a truth value, or nothing (unknown stays absent).
Cell = str | int | Decimal | float | bool | None
Row = dict[str, Cell]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Joins the values of a many-valued cell ("NCT01 | NCT02").
LIST_SEPARATOR = " | "
#: Joins the caveats of a row.
CAVEAT_SEPARATOR = "; "

_INT_TYPES = XSD_INTEGER_TYPES

# Record kinds reached from a study, by the property that links them.
_STUDY_LINKS = (
    "hasPopulation",
    "hasArm",
    "hasOutcome",
    "hasResult",
    "hasComparison",
    "hasSafetyFinding",
    "hasClaim",
    "reportedIn",
)


@dataclass(frozen=True)
class Selection:
    """The studies an export covers, and the outcome concepts it is limited to (if any).

    :param studies: study IRIs, sorted.
    :param outcome_concepts: when not ``None``, only outcomes with one of these concepts
        (and the results, comparisons and claims about them) are exported.
    """

    studies: tuple[str, ...]
    outcome_concepts: frozenset[str] | None = None
    description: str = "all studies"


@dataclass
class Table:
    """One table: a name, its columns in order, and its rows (sorted)."""

    name: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


# --------------------------------------------------------------------------- selection


def _iri_values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(set(iris)))


def _resolve(store: Any, text: str, scheme: str) -> list[str]:
    """Concept IRIs for ``text`` and everything narrower, through :mod:`kb.concepts`."""
    from kb.concepts import resolve_with_narrower  # written by the concepts module's owner

    return list(resolve_with_narrower(store, text, scheme))


def select_studies(
    store: Any,
    *,
    study_ids: Sequence[str] = (),
    condition: str | None = None,
    intervention: str | None = None,
    outcome: str | None = None,
    review: str | None = None,
) -> Selection:
    """The studies matching every filter given (all studies when none is).

    ``review`` (a review id) keeps the studies the review includes: those of its
    records whose full-text decision is include (read from the store, so it works
    on a remote endpoint that holds the review too).

    Concept filters accept what :func:`kb.concepts.resolve_with_narrower` accepts (a CURIE,
    an IRI, a label or synonym) and include narrower concepts: ``--condition lupus`` covers
    lupus nephritis.

    :raises UsageError: an unknown study id (with the closest ids), or a concept that does
        not resolve.
    :raises CheckFailed: the filters are valid but no study matches them.
    """
    from kb.text import did_you_mean

    rows = store.select(
        f"PREFIX ekb: <{EKB}>\nSELECT ?study ?id WHERE {{ ?study a ekb:Study ; ekb:studyId ?id }}"
    ).rows
    by_id = {str(r["id"]): str(r["study"]) for r in rows if "id" in r}
    selected = set(by_id.values())
    said: list[str] = []

    if study_ids:
        wanted = set()
        for sid in study_ids:
            if sid not in by_id:
                raise UsageError(
                    f"no study with id {sid!r} in this knowledge base.{did_you_mean(sid, by_id)}"
                )
            wanted.add(by_id[sid])
        selected &= wanted
        said.append("studies " + ", ".join(sorted(set(study_ids))))

    if review is not None:
        from kb.queries import resolve_review

        review_iri = resolve_review(store, review)
        hits = store.select(
            f"PREFIX ekb: <{EKB}>\nSELECT DISTINCT ?study WHERE {{ <{review_iri}> ekb:hasRecord"
            " ?record . ?record ekb:reportOf ?study ; ekb:fullTextDecision/ekb:decision"
            " <https://w3id.org/evidence-kb/vocab/term/include> }"
        ).rows
        selected &= {str(r["study"]) for r in hits}
        said.append(f"the studies review {review!r} includes")

    outcome_concepts: frozenset[str] | None = None
    filters = (
        (condition, "condition", "ekb:hasPopulation/ekb:condition", "condition"),
        (intervention, "intervention", "ekb:hasArm/ekb:receives/ekb:agent", "intervention"),
        (outcome, "outcome", "ekb:hasOutcome/ekb:outcomeConcept", "outcome"),
    )
    for text, scheme, path, what in filters:
        if text is None:
            continue
        concepts = _resolve(store, text, scheme)
        if not concepts:
            raise UsageError(f"no {what} concept matches {text!r}")
        hits = store.select(
            f"PREFIX ekb: <{EKB}>\n"
            "SELECT DISTINCT ?study WHERE "
            f"{{ VALUES ?c {{ {_iri_values(concepts)} }} ?study {path} ?c }}"
        ).rows
        selected &= {str(r["study"]) for r in hits}
        said.append(f"{what} {text!r}")
        if what == "outcome":
            outcome_concepts = frozenset(concepts)

    description = " and ".join(said) if said else "all studies"
    if not selected:
        raise CheckFailed(f"no study matches {description}")
    return Selection(tuple(sorted(selected)), outcome_concepts, description)


def selection_for_all(store: Any) -> Selection:
    """Every study in the store."""
    return select_studies(store)


# --------------------------------------------------------------------------- reading


class Graph:
    """The selected studies' records as ``subject -> predicate -> values`` (rdflib terms)."""

    def __init__(self) -> None:
        self.props: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
        self.study_of: dict[str, str] = {}
        self.concepts: dict[str, dict[str, Any]] = {}

    def values(self, subject: str, prop: str) -> list[Any]:
        """Every value of ``ekb:prop`` (or a full IRI) on ``subject``, sorted."""
        iri = prop if ":" in prop and "/" in prop else str(EKB) + prop
        return sorted(self.props.get(subject, {}).get(iri, ()), key=_sort_key)

    def value(self, subject: str, prop: str) -> Any | None:
        vals = self.values(subject, prop)
        return vals[0] if vals else None

    def types(self, subject: str) -> set[str]:
        return {str(t) for t in self.props.get(subject, {}).get(RDF_TYPE, ())}

    def label(self, concept: Any) -> str | None:
        """A concept's preferred label, or its local name when the store has no label."""
        if concept is None:
            return None
        iri = str(concept)
        info = self.concepts.get(iri)
        if info and info.get("label"):
            return str(info["label"])
        return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _sort_key(term: Any) -> tuple[str, str]:
    return (type(term).__name__, str(term))


def _read(store: Any, selection: Selection) -> Graph:
    graph = Graph()
    links = "|".join(f"ekb:{p}" for p in _STUDY_LINKS)
    records = "|".join(f"ekb:{p}" for p in _STUDY_LINKS if p != "reportedIn")
    # The study VALUES are repeated inside every UNION branch: Oxigraph 0.5 does
    # not push a top-level VALUES into the branches, which made this read grow
    # with the square of the knowledge base.
    values = f"VALUES ?study {{ {_iri_values(selection.studies)} }}"
    branches = [
        "?study a ekb:Study . BIND(?study AS ?s)",
        f"?study {links} ?s",
        "?study ekb:hasArm/ekb:receives ?s",
        "?study ekb:hasPopulation/ekb:hasBaselineCharacteristic ?s",
        "?study ekb:source ?s",
        f"?study ({records})/ekb:source ?s",
        "?study ekb:hasArm/ekb:receives/ekb:source ?s",
    ]
    union = "\n  UNION ".join(f"{{ {values} {branch} }}" for branch in branches)
    query = f"""PREFIX ekb: <{EKB}>
SELECT ?study ?s ?p ?o WHERE {{
  {union}
  ?s ?p ?o .
}}"""
    for row in store.select(query).rows:
        s = str(row["s"])
        graph.props[s][str(row["p"])].add(row["o"])
        graph.study_of.setdefault(s, str(row["study"]))
    concept_rows = store.select(
        f"""PREFIX skos: <{SKOS}>
PREFIX ekb: <{EKB}>
SELECT ?c ?label ?notation ?rank ?lower WHERE {{
  ?c a skos:Concept .
  OPTIONAL {{ ?c skos:prefLabel ?label FILTER(lang(?label) = "en" || lang(?label) = "") }}
  OPTIONAL {{ ?c skos:notation ?notation }}
  OPTIONAL {{ ?c ekb:rank ?rank }}
  OPTIONAL {{ ?c ekb:lowerConfidence ?lower }}
}}"""
    ).rows
    for row in sorted(
        concept_rows, key=lambda r: tuple(str(r.get(k, "")) for k in ("c", "label", "notation"))
    ):
        info = graph.concepts.setdefault(str(row["c"]), {})
        for key in ("label", "notation", "rank", "lower"):
            if key in row and key not in info:
                info[key] = py(row[key])
    return graph


def py(term: Any) -> Cell:
    """A literal as a Python value: integers as ``int``, decimals as ``Decimal``, booleans as
    ``bool``, everything else (dates, years, text, IRIs) as its lexical form."""
    if term is None or isinstance(term, (bool, int, float, Decimal)):
        return term
    datatype = str(getattr(term, "datatype", "") or "")
    text = str(term)
    if datatype in _INT_TYPES:
        try:
            return int(text)
        except ValueError:
            return text
    if datatype == XSD + "decimal":
        try:
            return Decimal(text)
        except ArithmeticError:
            return text
    if datatype in (XSD + "double", XSD + "float"):
        try:
            return float(text)
        except ValueError:
            return text
    if datatype == XSD + "boolean":
        return text.strip().lower() in ("true", "1")
    return text


# --------------------------------------------------------------------------- extraction


@dataclass
class ExportData:
    """Everything an export needs: the selection, the raw records and the shared tables."""

    selection: Selection
    graph: Graph
    characteristics: Table
    arms: Table
    outcomes: Table
    comparisons: Table
    safety: Table
    claims: Table
    sources: Table

    def tables(self) -> list[Table]:
        """The tables in the order every tabular export writes them."""
        return [
            self.characteristics,
            self.arms,
            self.outcomes,
            self.comparisons,
            self.safety,
            self.claims,
            self.sources,
        ]


CHARACTERISTICS_COLUMNS = [
    "study_id",
    "title",
    "year",
    "design",
    "design_text",
    "blinding",
    "phase",
    "registration_ids",
    "countries",
    "status",
    "start_date",
    "completion_date",
    "follow_up_weeks",
    "follow_up_text",
    "conditions",
    "condition_text",
    "eligibility",
    "screened",
    "enrolled",
    "analysed",
    "analysed_text",
    "age",
    "sex",
    "number_of_arms",
    "interventions",
    "funding",
    "conflicts_of_interest",
    "possibly_related_to",
    "single_arm",
    "open_label",
    "sources",
    "source_types",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "study_iri",
]
ARMS_COLUMNS = [
    "study_id",
    "arm",
    "arm_label",
    "arm_role",
    "n",
    "agent",
    "agent_text",
    "dose_value",
    "dose_unit",
    "dose_text",
    "route",
    "frequency",
    "dosing_interval_days",
    "cycle_length_days",
    "days_on_per_cycle",
    "days_off_per_cycle",
    "number_of_cycles",
    "duration_weeks",
    "schedule",
    "background_therapy",
    "held_constant",
    "design",
    "single_arm",
    "open_label",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "printed_text",
    "arm_iri",
]
OUTCOMES_COLUMNS = [
    "study_id",
    "arm",
    "arm_label",
    "arm_role",
    "arm_n",
    "outcome",
    "outcome_label",
    "outcome_concept",
    "outcome_role",
    "definition",
    "timepoint_weeks",
    "timepoint_text",
    "subgroup",
    "analysis_population",
    "events",
    "total",
    "percent",
    "mean",
    "sd",
    "se",
    "n",
    "median",
    "q1",
    "q3",
    "range_low",
    "range_high",
    "is_change_from_baseline",
    "percent_change",
    "baseline_value",
    "follow_up_value",
    "summary_statistic",
    "unit",
    "direction",
    "p_value",
    "p_value_comparator",
    "reported_significant",
    "design",
    "single_arm",
    "open_label",
    "model_based",
    "quality_flag",
    "exclude_from_meta_analysis",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "printed_text",
    "note",
    "result_iri",
]
COMPARISONS_COLUMNS = [
    "study_id",
    "comparison",
    "experimental_arm",
    "experimental_label",
    "comparator_arm",
    "comparator_label",
    "outcome",
    "outcome_label",
    "outcome_concept",
    "timepoint_weeks",
    "subgroup",
    "analysis_population",
    "effect_measure",
    "measure_code",
    "estimate",
    "ci_lower",
    "ci_upper",
    "ci_level",
    "p_value",
    "p_value_comparator",
    "method",
    "adjusted",
    "design",
    "single_arm",
    "open_label",
    "model_based",
    "quality_flag",
    "exclude_from_meta_analysis",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "printed_text",
    "comparison_iri",
]
SAFETY_COLUMNS = [
    "study_id",
    "finding",
    "arm",
    "arm_label",
    "arm_role",
    "event_term",
    "organ_system",
    "event_vocabulary",
    "serious",
    "affected",
    "at_risk",
    "event_count",
    "percent",
    "reported",
    "timepoint_text",
    "assessment_type",
    "design",
    "single_arm",
    "open_label",
    "model_based",
    "quality_flag",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "printed_text",
    "note",
    "safety_iri",
]
CLAIMS_COLUMNS = [
    "study_id",
    "claim",
    "statement",
    "claim_type",
    "interventions",
    "conditions",
    "outcomes",
    "direction",
    "certainty",
    "certainty_rank",
    "certainty_reasons",
    "supported_by",
    "design",
    "single_arm",
    "open_label",
    "lower_confidence",
    "caveats",
    "source_title",
    "source_type",
    "doi",
    "url",
    "locator",
    "printed_text",
    "note",
    "claim_iri",
]
SOURCES_COLUMNS = [
    "study_id",
    "source",
    "title",
    "source_type",
    "lower_confidence",
    "authors",
    "year",
    "journal",
    "doi",
    "pmid",
    "url",
    "version_date",
    "note",
    "source_iri",
]


def local_key(iri: str, kind: str) -> str:
    """The key after ``/<kind>/`` in a resource IRI (``arm/il2`` -> ``il2``)."""
    marker = f"/{kind}/"
    return iri.split(marker, 1)[1] if marker in iri else shorten(iri)


def _join(values: Iterable[Any]) -> str | None:
    items = sorted({str(v) for v in values if v is not None and str(v) != ""})
    return LIST_SEPARATOR.join(items) if items else None


class _Builder:
    def __init__(self, graph: Graph, selection: Selection) -> None:
        self.g = graph
        self.sel = selection

    # -- provenance and caveats

    def source_of(self, record: str) -> str | None:
        src = self.g.value(record, "source")
        if src is None:
            study = self.g.study_of.get(record)
            src = self.g.value(study, "source") if study else None
        return str(src) if src is not None else None

    def source_type(self, source: str | None) -> str | None:
        return (
            str(self.g.value(source, "sourceType"))
            if source and self.g.value(source, "sourceType")
            else None
        )

    def lower_confidence(self, source: str | None) -> bool:
        st = self.source_type(source)
        return bool(st and self.g.concepts.get(st, {}).get("lower") is True)

    def provenance(self, record: str) -> Row:
        src = self.source_of(record)
        doi = py(self.g.value(src, "doi")) if src else None
        url = py(self.g.value(src, "url")) if src else None
        if url is None and doi:
            url = f"https://doi.org/{doi}"
        return {
            "source_title": py(self.g.value(src, "title")) if src else None,
            "source_type": self.g.label(self.source_type(src)),
            "doi": doi,
            "url": url,
            "locator": py(self.g.value(record, "locator")),
            "printed_text": py(self.g.value(record, "printedText")),
        }

    def study_flags(self, study: str) -> dict[str, Any]:
        design = self.g.value(study, "design")
        arms = self.g.values(study, "hasArm")
        roles = {str(self.g.value(str(a), "armRole")) for a in arms}
        single_arm = (
            str(design).endswith("/single-arm-trial")
            or len(arms) == 1
            or any(r.endswith("/single-arm") for r in roles)
        )
        blinding = self.g.value(study, "blinding")
        open_label = blinding is not None and str(blinding).endswith("/open-label")
        text = " ".join(
            str(v) for v in self.g.values(study, "designText") + self.g.values(study, "title")
        )
        return {
            "design": self.g.label(design),
            "single_arm": single_arm,
            "open_label": open_label,
            "pilot": "pilot" in text.lower(),
        }

    def caveats(self, record: str, study: str) -> tuple[str | None, dict[str, Any]]:
        flags = self.study_flags(study)
        items: list[str] = []
        if flags["design"]:
            items.append(f"design: {flags['design']}")
        if flags["pilot"]:
            items.append("pilot study")
        if flags["single_arm"]:
            items.append("single arm: no comparison group")
        if flags["open_label"]:
            items.append("open label")
        src = self.source_of(record)
        st_label = self.g.label(self.source_type(src))
        lower = self.lower_confidence(src)
        if st_label:
            items.append(f"source: {st_label}")
        if lower:
            items.append("lower-confidence source")
        model_based = py(self.g.value(record, "modelBased")) is True
        if model_based:
            items.append("model-based: do not back-calculate counts")
        flags_text = [str(v) for v in self.g.values(record, "qualityFlag")]
        for q in flags_text:
            items.append(f"quality flag: {q}")
        excluded = py(self.g.value(record, "excludeFromMetaAnalysis")) is True
        if excluded:
            items.append("excluded from meta-analysis")
        extra = {
            "design": flags["design"],
            "single_arm": flags["single_arm"],
            "open_label": flags["open_label"],
            "model_based": model_based,
            "quality_flag": LIST_SEPARATOR.join(flags_text) if flags_text else None,
            "exclude_from_meta_analysis": excluded,
            "lower_confidence": lower,
        }
        return (CAVEAT_SEPARATOR.join(items) if items else None), extra

    def outcome_kept(self, outcome: str | None) -> bool:
        if self.sel.outcome_concepts is None:
            return True
        if outcome is None:
            return False
        concept = self.g.value(outcome, "outcomeConcept")
        return concept is not None and str(concept) in self.sel.outcome_concepts

    # -- tables

    def characteristics(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            pop = g.value(study, "hasPopulation")
            pop = str(pop) if pop is not None else None
            arms = [str(a) for a in g.values(study, "hasArm")]
            agents = []
            for arm in arms:
                for iv in g.values(arm, "receives"):
                    agents.append(
                        g.label(g.value(str(iv), "agent")) or py(g.value(str(iv), "agentText"))
                    )
            sources = [str(s) for s in g.values(study, "reportedIn")]
            caveats, flags = self.caveats(study, study)
            row: Row = {
                "study_id": py(g.value(study, "studyId")),
                "title": py(g.value(study, "title")),
                "year": py(g.value(study, "year")),
                "design": flags["design"],
                "design_text": py(g.value(study, "designText")),
                "blinding": g.label(g.value(study, "blinding")),
                "phase": _join(py(v) for v in g.values(study, "phase")),
                "registration_ids": _join(py(v) for v in g.values(study, "registrationId")),
                "countries": _join(py(v) for v in g.values(study, "country")),
                "status": py(g.value(study, "status")),
                "start_date": py(g.value(study, "startDate")),
                "completion_date": py(g.value(study, "completionDate")),
                "follow_up_weeks": py(g.value(study, "followUpWeeks")),
                "follow_up_text": py(g.value(study, "followUpText")),
                "conditions": _join(g.label(c) for c in g.values(pop, "condition"))
                if pop
                else None,
                "condition_text": py(g.value(pop, "conditionText")) if pop else None,
                "eligibility": py(g.value(pop, "eligibility")) if pop else None,
                "screened": py(g.value(pop, "screened")) if pop else None,
                "enrolled": py(g.value(pop, "enrolled")) if pop else None,
                "analysed": py(g.value(pop, "analysed")) if pop else None,
                "analysed_text": py(g.value(pop, "analysedText")) if pop else None,
                "age": py(g.value(pop, "ageText")) if pop else None,
                "sex": py(g.value(pop, "sexText")) if pop else None,
                "number_of_arms": len(arms),
                "interventions": _join(agents),
                "funding": py(g.value(study, "funding")),
                "conflicts_of_interest": py(g.value(study, "conflictsOfInterest")),
                "possibly_related_to": _join(
                    local_key(str(s), "study") for s in g.values(study, "possiblyRelatedTo")
                ),
                "single_arm": flags["single_arm"],
                "open_label": flags["open_label"],
                "sources": _join(local_key(s, "source") for s in sources),
                "source_types": _join(g.label(self.source_type(s)) for s in sources),
                "lower_confidence": any(self.lower_confidence(s) for s in sources)
                or flags["lower_confidence"],
                "caveats": caveats,
                "study_iri": study,
            }
            prov = self.provenance(study)
            prov["locator"] = py(g.value(pop, "locator")) if pop else prov["locator"]
            row.update(
                {k: prov[k] for k in ("source_title", "source_type", "doi", "url", "locator")}
            )
            rows.append(row)
        rows.sort(key=lambda r: str(r["study_id"]))
        return Table("characteristics", CHARACTERISTICS_COLUMNS, rows)

    def arms(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for arm_t in g.values(study, "hasArm"):
                arm = str(arm_t)
                ivs: list[str | None] = [str(i) for i in g.values(arm, "receives")] or [None]
                for iv in ivs:
                    caveats, flags = self.caveats(arm, study)

                    def ivv(prop: str, iv: str | None = iv) -> Cell:
                        return py(g.value(iv, prop)) if iv else None

                    row: Row = {
                        "study_id": sid,
                        "arm": local_key(arm, "arm"),
                        "arm_label": py(g.value(arm, RDFS_LABEL)),
                        "arm_role": g.label(g.value(arm, "armRole")),
                        "n": py(g.value(arm, "n")),
                        "agent": g.label(g.value(iv, "agent")) if iv else None,
                        "agent_text": ivv("agentText"),
                        "dose_value": ivv("doseValue"),
                        "dose_unit": ivv("doseUnit"),
                        "dose_text": ivv("doseText"),
                        "route": g.label(g.value(iv, "route")) if iv else None,
                        "frequency": ivv("frequencyText"),
                        "dosing_interval_days": ivv("dosingIntervalDays"),
                        "cycle_length_days": ivv("cycleLengthDays"),
                        "days_on_per_cycle": ivv("daysOnPerCycle"),
                        "days_off_per_cycle": ivv("daysOffPerCycle"),
                        "number_of_cycles": ivv("numberOfCycles"),
                        "duration_weeks": ivv("durationWeeks"),
                        "schedule": ivv("scheduleText"),
                        "background_therapy": _join(
                            py(v) for v in g.values(arm, "backgroundTherapy")
                        ),
                        "held_constant": _join(py(v) for v in g.values(arm, "heldConstant")),
                        "caveats": caveats,
                        "arm_iri": arm,
                    }
                    row.update(
                        {
                            k: flags[k]
                            for k in ("design", "single_arm", "open_label", "lower_confidence")
                        }
                    )
                    row.update(self.provenance(arm))
                    rows.append(row)
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["arm"]), str(r["agent"] or "")))
        return Table("arms", ARMS_COLUMNS, rows)

    def outcomes(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for res_t in g.values(study, "hasResult"):
                res = str(res_t)
                outcome = g.value(res, "outcome")
                outcome = str(outcome) if outcome is not None else None
                if not self.outcome_kept(outcome):
                    continue
                arm = g.value(res, "arm")
                arm = str(arm) if arm is not None else None
                caveats, flags = self.caveats(res, study)
                numbers = {
                    k: py(g.value(res, p))
                    for k, p in (
                        ("events", "events"),
                        ("total", "total"),
                        ("percent", "percent"),
                        ("mean", "mean"),
                        ("sd", "sd"),
                        ("se", "se"),
                        ("n", "n"),
                        ("median", "median"),
                        ("q1", "q1"),
                        ("q3", "q3"),
                        ("range_low", "rangeLow"),
                        ("range_high", "rangeHigh"),
                        ("percent_change", "percentChange"),
                        ("baseline_value", "baselineValue"),
                        ("follow_up_value", "followUpValue"),
                    )
                }
                if all(v is None for v in numbers.values()):
                    caveats = CAVEAT_SEPARATOR.join(
                        x for x in (caveats, "direction only: no number reported") if x
                    )
                tp = g.value(res, "timepointWeeks")
                if tp is None and outcome:
                    tp = g.value(outcome, "timepointWeeks")
                row: Row = {
                    "study_id": sid,
                    "arm": local_key(arm, "arm") if arm else None,
                    "arm_label": py(g.value(arm, RDFS_LABEL)) if arm else None,
                    "arm_role": g.label(g.value(arm, "armRole")) if arm else None,
                    "arm_n": py(g.value(arm, "n")) if arm else None,
                    "outcome": local_key(outcome, "outcome") if outcome else None,
                    "outcome_label": py(g.value(outcome, RDFS_LABEL)) if outcome else None,
                    "outcome_concept": g.label(g.value(outcome, "outcomeConcept"))
                    if outcome
                    else None,
                    "outcome_role": g.label(g.value(outcome, "outcomeRole")) if outcome else None,
                    "definition": py(g.value(outcome, "definition")) if outcome else None,
                    "timepoint_weeks": py(tp),
                    "timepoint_text": py(g.value(outcome, "timepointText")) if outcome else None,
                    "subgroup": py(g.value(res, "subgroup")),
                    "analysis_population": py(g.value(res, "analysisPopulation")),
                    **numbers,
                    "is_change_from_baseline": py(g.value(res, "isChangeFromBaseline")),
                    "summary_statistic": g.label(g.value(res, "summaryStatistic")),
                    "unit": py(g.value(res, "unit"))
                    or (py(g.value(outcome, "unit")) if outcome else None),
                    "direction": g.label(g.value(res, "direction")),
                    "p_value": py(g.value(res, "pValue")),
                    "p_value_comparator": py(g.value(res, "pValueComparator")),
                    "reported_significant": py(g.value(res, "reportedSignificant")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(res, "note")),
                    "result_iri": res,
                }
                row.update(flags)
                row.update(self.provenance(res))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["outcome"] or ""),
                _num_key(r["timepoint_weeks"]),
                str(r["subgroup"] or ""),
                str(r["arm"] or ""),
                str(r["result_iri"]),
            )
        )
        return Table("outcomes", OUTCOMES_COLUMNS, rows)

    def comparisons(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for cmp_t in g.values(study, "hasComparison"):
                cmp_ = str(cmp_t)
                outcome = g.value(cmp_, "outcome")
                outcome = str(outcome) if outcome is not None else None
                if not self.outcome_kept(outcome):
                    continue
                exp = g.value(cmp_, "experimentalArm")
                com = g.value(cmp_, "comparatorArm")
                measure = g.value(cmp_, "effectMeasure")
                caveats, flags = self.caveats(cmp_, study)
                row: Row = {
                    "study_id": sid,
                    "comparison": local_key(cmp_, "comparison"),
                    "experimental_arm": local_key(str(exp), "arm") if exp else None,
                    "experimental_label": py(g.value(str(exp), RDFS_LABEL)) if exp else None,
                    "comparator_arm": local_key(str(com), "arm") if com else None,
                    "comparator_label": py(g.value(str(com), RDFS_LABEL)) if com else None,
                    "outcome": local_key(outcome, "outcome") if outcome else None,
                    "outcome_label": py(g.value(outcome, RDFS_LABEL)) if outcome else None,
                    "outcome_concept": g.label(g.value(outcome, "outcomeConcept"))
                    if outcome
                    else None,
                    "timepoint_weeks": py(
                        g.value(cmp_, "timepointWeeks")
                        or (g.value(outcome, "timepointWeeks") if outcome else None)
                    ),
                    "subgroup": py(g.value(cmp_, "subgroup")),
                    "analysis_population": py(g.value(cmp_, "analysisPopulation")),
                    "effect_measure": g.label(measure),
                    "measure_code": py(self.g.concepts.get(str(measure), {}).get("notation"))
                    if measure
                    else None,
                    "estimate": py(g.value(cmp_, "estimate")),
                    "ci_lower": py(g.value(cmp_, "ciLower")),
                    "ci_upper": py(g.value(cmp_, "ciUpper")),
                    "ci_level": py(g.value(cmp_, "ciLevel")),
                    "p_value": py(g.value(cmp_, "pValue")),
                    "p_value_comparator": py(g.value(cmp_, "pValueComparator")),
                    "method": py(g.value(cmp_, "method")),
                    "adjusted": py(g.value(cmp_, "adjusted")),
                    "caveats": caveats,
                    "comparison_iri": cmp_,
                }
                row.update(flags)
                row.update(self.provenance(cmp_))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["outcome"] or ""),
                _num_key(r["timepoint_weeks"]),
                str(r["comparison"]),
            )
        )
        return Table("comparisons", COMPARISONS_COLUMNS, rows)

    def safety(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for sf_t in g.values(study, "hasSafetyFinding"):
                sf = str(sf_t)
                arm = g.value(sf, "arm")
                arm = str(arm) if arm is not None else None
                caveats, flags = self.caveats(sf, study)
                affected = py(g.value(sf, "affected"))
                if affected == 0:
                    reported = "none occurred"
                elif affected is None and py(g.value(sf, "eventCount")) is None:
                    reported = "not reported"
                else:
                    reported = "occurred"
                row: Row = {
                    "study_id": sid,
                    "finding": local_key(sf, "safety"),
                    "arm": local_key(arm, "arm") if arm else None,
                    "arm_label": py(g.value(arm, RDFS_LABEL)) if arm else None,
                    "arm_role": g.label(g.value(arm, "armRole")) if arm else None,
                    "event_term": py(g.value(sf, "eventTerm")),
                    "organ_system": py(g.value(sf, "organSystem")),
                    "event_vocabulary": py(g.value(sf, "eventVocabulary")),
                    "serious": py(g.value(sf, "serious")),
                    "affected": affected,
                    "at_risk": py(g.value(sf, "atRisk")),
                    "event_count": py(g.value(sf, "eventCount")),
                    "percent": py(g.value(sf, "percent")),
                    "reported": reported,
                    "timepoint_text": py(g.value(sf, "timepointText")),
                    "assessment_type": py(g.value(sf, "assessmentType")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(sf, "note")),
                    "safety_iri": sf,
                }
                row.update(
                    {
                        k: flags[k]
                        for k in (
                            "design",
                            "single_arm",
                            "open_label",
                            "model_based",
                            "quality_flag",
                            "lower_confidence",
                        )
                    }
                )
                row.update(self.provenance(sf))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["event_term"] or ""),
                str(r["arm"] or ""),
                str(r["finding"]),
            )
        )
        return Table("safety", SAFETY_COLUMNS, rows)

    def claims(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for cl_t in g.values(study, "hasClaim"):
                cl = str(cl_t)
                about_outcomes = [str(o) for o in g.values(cl, "aboutOutcome")]
                if self.sel.outcome_concepts is not None:
                    supported = [str(s) for s in g.values(cl, "supportedBy")]
                    touches = set(about_outcomes) & self.sel.outcome_concepts or any(
                        self.outcome_kept(str(g.value(s, "outcome")))
                        for s in supported
                        if g.value(s, "outcome")
                    )
                    if not touches:
                        continue
                certainty = g.value(cl, "certainty")
                caveats, flags = self.caveats(cl, study)
                row: Row = {
                    "study_id": sid,
                    "claim": local_key(cl, "claim"),
                    "statement": py(g.value(cl, "statement")),
                    "claim_type": g.label(g.value(cl, "claimType")),
                    "interventions": _join(g.label(c) for c in g.values(cl, "aboutIntervention")),
                    "conditions": _join(g.label(c) for c in g.values(cl, "aboutCondition")),
                    "outcomes": _join(g.label(c) for c in about_outcomes),
                    "direction": g.label(g.value(cl, "direction")),
                    "certainty": g.label(certainty),
                    "certainty_rank": py(self.g.concepts.get(str(certainty), {}).get("rank"))
                    if certainty
                    else None,
                    "certainty_reasons": _join(g.label(c) for c in g.values(cl, "certaintyReason")),
                    "supported_by": _join(shorten(str(s)) for s in g.values(cl, "supportedBy")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(cl, "note")),
                    "claim_iri": cl,
                }
                row.update(
                    {
                        k: flags[k]
                        for k in ("design", "single_arm", "open_label", "lower_confidence")
                    }
                )
                row.update(self.provenance(cl))
                rows.append(row)
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["claim"])))
        return Table("claims", CLAIMS_COLUMNS, rows)

    def sources(self) -> Table:
        g = self.g
        seen: set[str] = set()
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            candidates = {str(s) for s in g.values(study, "reportedIn")}
            candidates |= {
                s for s, st in g.study_of.items() if st == study and f"{EKB}Source" in g.types(s)
            }
            for src in sorted(candidates):
                if src in seen:
                    continue
                seen.add(src)
                st = self.source_type(src)
                doi = py(g.value(src, "doi"))
                rows.append(
                    {
                        "study_id": sid,
                        "source": local_key(src, "source"),
                        "title": py(g.value(src, "title")),
                        "source_type": g.label(st),
                        "lower_confidence": self.lower_confidence(src),
                        "authors": py(g.value(src, "authors")),
                        "year": py(g.value(src, "year")),
                        "journal": py(g.value(src, "journal")),
                        "doi": doi,
                        "pmid": py(g.value(src, "pmid")),
                        "url": py(g.value(src, "url")),
                        "version_date": py(g.value(src, "versionDate")),
                        "note": _join(py(v) for v in g.values(src, "note")),
                        "source_iri": src,
                    }
                )
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["source"])))
        return Table("sources", SOURCES_COLUMNS, rows)


def _num_key(value: Cell) -> tuple[int, Decimal, str]:
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), "")
    return (1, Decimal(0), str(value or ""))


def extract(store: Any, selection: Selection) -> ExportData:
    """Read the selected studies once and build every shared table.

    :param store: any :class:`kb.store.Store`.
    :param selection: from :func:`select_studies`.
    """
    graph = _read(store, selection)
    b = _Builder(graph, selection)
    return ExportData(
        selection=selection,
        graph=graph,
        characteristics=b.characteristics(),
        arms=b.arms(),
        outcomes=b.outcomes(),
        comparisons=b.comparisons(),
        safety=b.safety(),
        claims=b.claims(),
        sources=b.sources(),
    )


def is_number(value: Cell) -> bool:
    """True for real numbers (not booleans, not text)."""
    return isinstance(value, (int, Decimal, float)) and not isinstance(value, bool)


def resource_base() -> str:
    """The base of instance IRIs (for formats that need a URL for each record)."""
    return str(RES)


def study_iri_for(study_id: str) -> str:
    return study_iri(study_id)
