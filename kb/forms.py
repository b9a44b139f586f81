"""YAML extraction forms, to and from RDF.

A reviewer fills a YAML form (``ekb new`` prints a blank one); this module checks
it and turns it into the graph of one study (:func:`form_to_graph`), and turns a
study graph back into the same form (:func:`graph_to_form`), so that
``ekb show -f yaml`` followed by ``ekb add`` gives back an isomorphic graph.

One table, :data:`SECTIONS`, describes every field once: its YAML name, the
property it becomes, its kind (text, count, decimal, concept, reference ...) and
the comment the blank form shows. The JSON Schema (``kb/schemas/form.schema.json``),
the blank form, the conversion both ways and the error messages are all derived
from it, so they cannot drift apart.

Checking happens in three steps, and every problem names the field path
(``arms[1].n: must be a positive integer``):

1. the form against the JSON Schema (types, required fields, unknown fields);
2. the meaning: keys unique, references to arms/outcomes/sources that exist,
   concepts that resolve through the vocabularies;
3. (in :mod:`kb.kbdir`) the resulting graph against the SHACL shapes.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from kb.errors import CheckFailed, CouldNotRun, UsageError
from kb.namespaces import EKB, PREFIXES, RES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from kb.store import Store

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: Keys (study ids, arm/outcome/... keys) become parts of IRIs and file names.
KEY_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$"
_KEY_RE = re.compile(KEY_PATTERN)

SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "form.schema.json"


class FormError(CheckFailed):
    """A form does not conform: every problem names its field path (exit 1)."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"{origin}: the form has {count}:\n" + "\n".join(f"  {p}" for p in problems)
        )


# ---------------------------------------------------------------------------
# The one description of the form


@dataclass(frozen=True)
class Kind:
    """How a field's value is checked, written as RDF, and described to the reviewer."""

    name: str
    expect: str  # "must be <expect>" in error messages
    schema: dict[str, Any]
    datatype: str | None = None  # XSD datatype of the literal; None for IRIs


_TEXT = Kind("text", "text", {"type": "string", "minLength": 1})
_COUNT = Kind(
    "count", "a whole number, 0 or more", {"type": "integer", "minimum": 0}, XSD + "integer"
)
_POSITIVE = Kind(
    "positive", "a positive integer", {"type": "integer", "minimum": 1}, XSD + "integer"
)
_CYCLES = Kind(
    "cycles", "a positive integer", {"type": "integer", "minimum": 1}, XSD + "positiveInteger"
)
_DECIMAL = Kind("decimal", "a number", {"type": "number"}, XSD + "decimal")
_NONNEG = Kind("nonneg", "a number, 0 or more", {"type": "number", "minimum": 0}, XSD + "decimal")
_PERCENT = Kind(
    "percent",
    "a percentage from 0 to 100",
    {"type": "number", "minimum": 0, "maximum": 100},
    XSD + "decimal",
)
_PROBABILITY = Kind(
    "probability",
    "a number from 0 to 1",
    {"type": "number", "minimum": 0, "maximum": 1},
    XSD + "decimal",
)
_LEVEL = Kind(
    "level",
    "a fraction between 0 and 1 (0.95 for a 95% interval)",
    {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    XSD + "decimal",
)
_BOOL = Kind("bool", "true or false", {"type": "boolean"}, XSD + "boolean")
_DATE = Kind(
    "date",
    "a date written YYYY-MM-DD",
    {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    XSD + "date",
)
_YEAR = Kind(
    "year",
    "a year such as 2021",
    {"type": "integer", "minimum": 1000, "maximum": 9999},
    XSD + "gYear",
)
_PARTIAL_DATE = Kind(
    "partial-date",
    "a date written YYYY-MM-DD, YYYY-MM or YYYY",
    {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
    None,  # the datatype follows the precision: xsd:date, xsd:gYearMonth or xsd:gYear
)
_URL = Kind(
    "url",
    "a web address starting with http:// or https://",
    {"type": "string", "pattern": r"^https?://\S+$"},
    XSD + "anyURI",
)
_COMPARATOR = Kind(
    "comparator",
    'one of "<", "<=", ">", ">="',
    {"type": "string", "enum": ["<", "<=", ">", ">="]},
    XSD + "string",
)
_CONCEPT = Kind(
    "concept", "a concept: its label, a synonym or a CURIE", {"type": "string", "minLength": 1}
)
_REF = Kind(
    "ref", "a key defined elsewhere in the form", {"type": "string", "pattern": KEY_PATTERN}
)
_KEY = Kind(
    "key",
    "a key of letters, digits, '-', '_' or '.' (no spaces)",
    {"type": "string", "pattern": KEY_PATTERN},
)
_RECORD_REF = Kind(
    "record-ref",
    "a reference such as result/KEY, comparison/KEY or safety/KEY",
    {"type": "string", "pattern": r"^(?:[a-z]+/)?[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$"},
)
_SCHEME = Kind(
    "scheme",
    "a concept scheme: condition, agent, outcome, design, ... or its CURIE (cond:)",
    {"type": "string", "pattern": r"^\S+$"},
)
_IRI = Kind(
    "iri", "a CURIE (cond:my-condition) or a full IRI", {"type": "string", "pattern": r"^\S+:\S*$"}
)


@dataclass(frozen=True)
class Field:
    """One YAML field and the property it becomes."""

    name: str
    predicate: str | None  # None: handled structurally (keys, nested lists)
    kind: Kind
    help: str
    multi: bool = False
    scheme: str | None = None  # concept scheme short name (kb.concepts.SCHEMES)
    ref: str | None = None  # what a reference points to: source, arm, outcome, study
    required: bool = False


def _e(local: str) -> str:
    return str(EKB) + local


def _key(what: str) -> Field:
    return Field(
        "key",
        None,
        _KEY,
        f"short local name of this {what}, used in its web address and by references (e.g. il2)",
        required=True,
    )


#: Provenance: every extracted record may carry these.
PROVENANCE: tuple[Field, ...] = (
    Field(
        "source",
        _e("source"),
        _REF,
        "key of the source this was read from (see sources:); defaults.source if blank",
        ref="source",
    ),
    Field("locator", _e("locator"), _TEXT, "where in the source: table, figure, page, paragraph"),
    Field(
        "printed_text",
        _e("printedText"),
        _TEXT,
        "the value as the source printed it (paraphrase where copying is not allowed)",
    ),
    Field(
        "extracted_by", _e("extractedBy"), _TEXT, "who extracted it; defaults.extracted_by if blank"
    ),
    Field(
        "extracted_on", _e("extractedOn"), _DATE, "when, YYYY-MM-DD; defaults.extracted_on if blank"
    ),
    Field("note", _e("note"), _TEXT, "a caveat, a quirk of the source, or why a value is absent"),
    Field(
        "quality_flag",
        _e("qualityFlag"),
        _TEXT,
        "a known problem with the value as printed (keep the value, flag it)",
    ),
    Field(
        "model_based",
        _e("modelBased"),
        _BOOL,
        "true if a percentage or effect comes from a model, not raw counts",
    ),
    Field(
        "exclude_from_meta_analysis",
        _e("excludeFromMetaAnalysis"),
        _BOOL,
        "true if this must not enter a meta-analysis",
    ),
)
PROVENANCE_NAMES = tuple(f.name for f in PROVENANCE)
#: The provenance fields a form's ``defaults:`` may set for every record.
DEFAULTABLE = ("source", "extracted_by", "extracted_on")


@dataclass(frozen=True)
class Section:
    """A kind of record: where it sits in the form, its IRI segment, class and fields."""

    name: str  # YAML key: "arms"
    segment: str  # IRI segment: "arm"
    rdf_class: str
    link: str  # the property from its parent (study, population or arm)
    fields: tuple[Field, ...]
    help: str
    many: bool = True  # a list of records (else one mapping)
    extracted: bool = True  # an ExtractedRecord, with provenance fields

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields + (PROVENANCE if self.extracted else ())

    def field(self, name: str) -> Field:
        for f in self.all_fields:
            if f.name == name:
                return f
        raise KeyError(name)


STUDY = Section(
    "study",
    "study",
    _e("Study"),
    "",
    (
        Field(
            "id",
            _e("studyId"),
            _KEY,
            "the study's id: lowercase words joined by '-', e.g. aurora1-rovin-2021; also its "
            "file name",
            required=True,
        ),
        Field("title", _e("title"), _TEXT, "the study's title", required=True),
        Field("year", _e("year"), _YEAR, "year the study was reported"),
        Field(
            "design",
            _e("design"),
            _CONCEPT,
            "randomised controlled trial, single-arm trial, cohort study, case series, ...",
            scheme="design",
            required=True,
        ),
        Field("design_text", _e("designText"), _TEXT, "the design as the source describes it"),
        Field(
            "blinding",
            _e("blinding"),
            _CONCEPT,
            "open label, single blind, double blind, blinded outcome assessment",
            scheme="blinding",
        ),
        Field("phase", _e("phase"), _TEXT, 'trial phase as printed: "2", "3", "1/2"'),
        Field(
            "registration_ids",
            _e("registrationId"),
            _TEXT,
            "registry ids, e.g. [NCT03021499]",
            multi=True,
        ),
        Field("countries", _e("country"), _TEXT, "countries or regions, as printed", multi=True),
        Field("status", _e("status"), _TEXT, "recruitment status as registered (e.g. COMPLETED)"),
        Field(
            "start_date",
            _e("startDate"),
            _PARTIAL_DATE,
            "when the study started: YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        Field(
            "completion_date",
            _e("completionDate"),
            _PARTIAL_DATE,
            "when it was completed: YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        Field(
            "follow_up_weeks",
            _e("followUpWeeks"),
            _NONNEG,
            "weeks from start of treatment to the last planned assessment",
        ),
        Field("follow_up_text", _e("followUpText"), _TEXT, "the follow-up as printed"),
        Field("funding", _e("funding"), _TEXT, "who funded or sponsored it, as printed"),
        Field(
            "conflicts_of_interest",
            _e("conflictsOfInterest"),
            _TEXT,
            "declared conflicts of interest, as printed",
        ),
        Field(
            "possibly_related_to",
            _e("possiblyRelatedTo"),
            _REF,
            "ids of studies that may report the same patients (linked, not merged)",
            multi=True,
            ref="study",
        ),
    ),
    "the study itself",
    many=False,
)

SOURCES = Section(
    "sources",
    "source",
    _e("Source"),
    _e("reportedIn"),
    (
        _key("source"),
        Field(
            "type",
            _e("sourceType"),
            _CONCEPT,
            "journal article, journal abstract, journal table, registry record, congress "
            "abstract, press release, plain-language summary, secondary summary",
            scheme="source-type",
            required=True,
        ),
        Field("title", _e("title"), _TEXT, "title of the document"),
        Field("authors", _e("authors"), _TEXT, "authors as printed"),
        Field(
            "journal",
            _e("journal"),
            _TEXT,
            "journal with volume and pages, or meeting and abstract number",
        ),
        Field("year", _e("year"), _YEAR, "year of publication"),
        Field(
            "doi",
            _e("doi"),
            _TEXT,
            "DOI without https://doi.org/, e.g. 10.1016/S0140-6736(21)00578-X",
        ),
        Field("pmid", _e("pmid"), _TEXT, "PubMed id (in quotes)"),
        Field("url", _e("url"), _URL, "web address the source was read at"),
        Field(
            "version_date",
            _e("versionDate"),
            _DATE,
            "for a registry record: date of the version read, YYYY-MM-DD",
        ),
        Field("note", _e("note"), _TEXT, "anything a reader should know about this source"),
    ),
    "documents the numbers were read from; every record names one by its key",
    extracted=False,
)

BASELINE = Section(
    "baseline",
    "baseline",
    _e("BaselineCharacteristic"),
    _e("hasBaselineCharacteristic"),
    (
        _key("characteristic"),
        Field(
            "characteristic",
            _e("characteristic"),
            _TEXT,
            'what is described: "age, years", "female", "SLEDAI-2K"',
            required=True,
        ),
        Field(
            "arm",
            _e("arm"),
            _REF,
            "key of the arm it describes; blank for the whole population",
            ref="arm",
        ),
        Field("n", _e("n"), _COUNT, "participants described"),
        Field("mean", _e("mean"), _DECIMAL, "mean"),
        Field("sd", _e("sd"), _NONNEG, "standard deviation"),
        Field("se", _e("se"), _NONNEG, "standard error"),
        Field("median", _e("median"), _DECIMAL, "median"),
        Field("q1", _e("q1"), _DECIMAL, "first quartile"),
        Field("q3", _e("q3"), _DECIMAL, "third quartile"),
        Field("range_low", _e("rangeLow"), _DECIMAL, "smallest value"),
        Field("range_high", _e("rangeHigh"), _DECIMAL, "largest value"),
        Field("percent", _e("percent"), _PERCENT, "percentage, 0-100"),
        Field(
            "unit", _e("unit"), _TEXT, 'unit of the values (UCUM where possible: "a", "mg/d", "%")'
        ),
    ),
    "baseline characteristics of the participants",
)

POPULATION = Section(
    "population",
    "population",
    _e("Population"),
    _e("hasPopulation"),
    (
        Field(
            "condition",
            _e("condition"),
            _CONCEPT,
            "condition(s): e.g. [lupus nephritis]; labels, synonyms or CURIEs",
            multi=True,
            scheme="condition",
        ),
        Field(
            "condition_text",
            _e("conditionText"),
            _TEXT,
            "the condition as printed, with qualifiers (refractory, active, class III/IV)",
        ),
        Field("eligibility", _e("eligibility"), _TEXT, "key inclusion and exclusion criteria"),
        Field("screened", _e("screened"), _COUNT, "number screened"),
        Field("enrolled", _e("enrolled"), _COUNT, "number enrolled (randomised, in an RCT)"),
        Field("analysed", _e("analysed"), _COUNT, "number in the main analysis (at most enrolled)"),
        Field(
            "analysed_text",
            _e("analysedText"),
            _TEXT,
            "the analysed population as printed (ITT, per protocol)",
        ),
        Field("age_text", _e("ageText"), _TEXT, "age as printed, e.g. mean 33.1 (SD 10.6) years"),
        Field("sex_text", _e("sexText"), _TEXT, "sex as printed, e.g. 88% female"),
    ),
    "who took part",
    many=False,
)

INTERVENTIONS = Section(
    "interventions",
    "intervention",
    _e("Intervention"),
    _e("receives"),
    (
        Field("key", None, _KEY, "needed only when an arm has more than one intervention"),
        Field(
            "agent",
            _e("agent"),
            _CONCEPT,
            "the drug, biologic or placebo: label, synonym or CURIE",
            scheme="agent",
        ),
        Field("agent_text", _e("agentText"), _TEXT, "the agent as the source names it"),
        Field("dose_value", _e("doseValue"), _NONNEG, "amount of one dose"),
        Field(
            "dose_unit",
            _e("doseUnit"),
            _TEXT,
            'UCUM unit of dose_value: "mg", "mg/kg", "[iU]", "g/m2"',
        ),
        Field("dose_text", _e("doseText"), _TEXT, "the dose as printed"),
        Field("route", _e("route"), _CONCEPT, "oral, subcutaneous, intravenous", scheme="route"),
        Field("frequency_text", _e("frequencyText"), _TEXT, "how often, as printed"),
        Field(
            "dosing_interval_days",
            _e("dosingIntervalDays"),
            _NONNEG,
            "days between doses (2 = every other day)",
        ),
        Field(
            "cycle_length_days",
            _e("cycleLengthDays"),
            _NONNEG,
            "length of one cycle in days (days on + days off)",
        ),
        Field(
            "days_on_per_cycle", _e("daysOnPerCycle"), _NONNEG, "days of each cycle with the agent"
        ),
        Field(
            "days_off_per_cycle", _e("daysOffPerCycle"), _NONNEG, "days of each cycle without it"
        ),
        Field("number_of_cycles", _e("numberOfCycles"), _CYCLES, "how many cycles"),
        Field("duration_weeks", _e("durationWeeks"), _NONNEG, "weeks of treatment"),
        Field("schedule_text", _e("scheduleText"), _TEXT, "schedule and duration as printed"),
    ),
    "what the arm receives",
)

ARMS = Section(
    "arms",
    "arm",
    _e("Arm"),
    _e("hasArm"),
    (
        _key("arm"),
        Field(
            "label",
            RDFS_LABEL,
            _TEXT,
            "the arm's name, e.g. voclosporin + MMF + low-dose steroids",
            required=True,
        ),
        Field(
            "role",
            _e("armRole"),
            _CONCEPT,
            "experimental, placebo comparator, active comparator, standard of care, single arm",
            scheme="arm-role",
            required=True,
        ),
        Field("n", _e("n"), _POSITIVE, "participants assigned to the arm"),
        Field(
            "background_therapy",
            _e("backgroundTherapy"),
            _TEXT,
            "therapy given alongside, as printed",
        ),
        Field(
            "held_constant",
            _e("heldConstant"),
            _TEXT,
            "what the protocol kept unchanged (e.g. no steroid increase)",
        ),
    ),
    "groups of participants (one for a single-arm study)",
)

OUTCOMES = Section(
    "outcomes",
    "outcome",
    _e("Outcome"),
    _e("hasOutcome"),
    (
        _key("outcome"),
        Field(
            "label",
            RDFS_LABEL,
            _TEXT,
            "what was measured, in words, e.g. complete renal response at week 52",
            required=True,
        ),
        Field(
            "concept",
            _e("outcomeConcept"),
            _CONCEPT,
            "the outcome concept: label, synonym or CURIE (e.g. complete renal response)",
            scheme="outcome",
        ),
        Field(
            "role",
            _e("outcomeRole"),
            _CONCEPT,
            "primary, key secondary, secondary, exploratory, post hoc, safety, ...",
            scheme="outcome-role",
        ),
        Field("definition", _e("definition"), _TEXT, "how it was defined, as printed"),
        Field("unit", _e("unit"), _TEXT, 'unit of the values (UCUM where possible: "%", "mg/mg")'),
        Field("timepoint_weeks", _e("timepointWeeks"), _NONNEG, "planned timepoint in weeks"),
        Field("timepoint_text", _e("timepointText"), _TEXT, 'timepoint as printed ("42 months")'),
    ),
    "what was measured",
)

_STATS: tuple[Field, ...] = (
    Field("mean", _e("mean"), _DECIMAL, "mean (of the change, if change_from_baseline)"),
    Field("sd", _e("sd"), _NONNEG, "standard deviation of that mean"),
    Field("se", _e("se"), _NONNEG, "standard error of that mean"),
    Field("n", _e("n"), _COUNT, "participants analysed for a continuous result"),
    Field("median", _e("median"), _DECIMAL, "median"),
    Field("q1", _e("q1"), _DECIMAL, "first quartile"),
    Field("q3", _e("q3"), _DECIMAL, "third quartile"),
    Field("range_low", _e("rangeLow"), _DECIMAL, "smallest value"),
    Field("range_high", _e("rangeHigh"), _DECIMAL, "largest value"),
)

RESULTS = Section(
    "results",
    "result",
    _e("Result"),
    _e("hasResult"),
    (
        _key("result"),
        Field("arm", _e("arm"), _REF, "key of the arm", ref="arm", required=True),
        Field("outcome", _e("outcome"), _REF, "key of the outcome", ref="outcome", required=True),
        Field("timepoint_weeks", _e("timepointWeeks"), _NONNEG, "weeks from start of treatment"),
        Field("timepoint_text", _e("timepointText"), _TEXT, "timepoint as printed"),
        Field(
            "events",
            _e("events"),
            _COUNT,
            "participants with the event or response (at most total)",
        ),
        Field("total", _e("total"), _COUNT, "participants assessed: the denominator of events"),
        Field(
            "percent",
            _e("percent"),
            _PERCENT,
            "percentage as printed; never back-calculate counts from it",
        ),
        *_STATS,
        Field(
            "change_from_baseline",
            _e("isChangeFromBaseline"),
            _BOOL,
            "true if mean/sd/median describe the change from baseline",
        ),
        Field(
            "percent_change",
            _e("percentChange"),
            _DECIMAL,
            "percent change from baseline (negative for a decrease)",
        ),
        Field(
            "baseline_value",
            _e("baselineValue"),
            _DECIMAL,
            "value at baseline, for a before/after result",
        ),
        Field(
            "follow_up_value",
            _e("followUpValue"),
            _DECIMAL,
            "value at the timepoint, for a before/after result",
        ),
        Field(
            "summary_statistic",
            _e("summaryStatistic"),
            _CONCEPT,
            "which statistic percent_change / baseline_value / follow_up_value are: mean, "
            "median, proportion, not stated",
            scheme="summary-statistic",
        ),
        Field(
            "direction",
            _e("direction"),
            _CONCEPT,
            "increased, decreased, no change (alone when no number was given)",
            scheme="direction",
        ),
        Field("unit", _e("unit"), _TEXT, "unit of the values"),
        Field(
            "subgroup", _e("subgroup"), _TEXT, "subgroup the result is restricted to, as printed"
        ),
        Field(
            "analysis_population",
            _e("analysisPopulation"),
            _TEXT,
            "intention to treat, per protocol, ...",
        ),
        Field("p_value", _e("pValue"), _PROBABILITY, "p-value (0-1) of a within-arm change"),
        Field(
            "p_value_comparator",
            _e("pValueComparator"),
            _COMPARATOR,
            'when printed as a bound ("<0.001"): "<"',
        ),
        Field(
            "reported_significant",
            _e("reportedSignificant"),
            _BOOL,
            "true if called significant without a p-value",
        ),
    ),
    "numbers for one arm, one outcome, one timepoint",
)

COMPARISONS = Section(
    "comparisons",
    "comparison",
    _e("Comparison"),
    _e("hasComparison"),
    (
        _key("comparison"),
        Field(
            "experimental_arm",
            _e("experimentalArm"),
            _REF,
            "key of the experimental arm",
            ref="arm",
        ),
        Field("comparator_arm", _e("comparatorArm"), _REF, "key of the comparator arm", ref="arm"),
        Field("outcome", _e("outcome"), _REF, "key of the outcome", ref="outcome", required=True),
        Field("timepoint_weeks", _e("timepointWeeks"), _NONNEG, "weeks from start of treatment"),
        Field("timepoint_text", _e("timepointText"), _TEXT, "timepoint as printed"),
        Field(
            "measure",
            _e("effectMeasure"),
            _CONCEPT,
            "RR, OR, RD, PPD (percentage-point difference), MD, SMD, HR",
            scheme="effect-measure",
        ),
        Field("estimate", _e("estimate"), _DECIMAL, "the point estimate"),
        Field("se", _e("se"), _NONNEG, "standard error of the estimate, as printed"),
        Field(
            "sd",
            _e("sd"),
            _NONNEG,
            "standard deviation given with the estimate (a registry's dispersion)",
        ),
        Field("unit", _e("unit"), _TEXT, "unit of the estimate, for a mean difference"),
        Field("ci_lower", _e("ciLower"), _DECIMAL, "lower bound of the confidence interval"),
        Field("ci_upper", _e("ciUpper"), _DECIMAL, "upper bound of the confidence interval"),
        Field("ci_level", _e("ciLevel"), _LEVEL, "confidence level: 0.95 for a 95% CI"),
        Field("p_value", _e("pValue"), _PROBABILITY, "p-value, 0-1"),
        Field(
            "p_value_comparator",
            _e("pValueComparator"),
            _COMPARATOR,
            'when printed as a bound ("<0.001"): "<"',
        ),
        Field("method", _e("method"), _TEXT, "statistical method or model, as printed"),
        Field("adjusted", _e("adjusted"), _BOOL, "true if adjusted for covariates or strata"),
        Field(
            "direction",
            _e("direction"),
            _CONCEPT,
            "benefit, harm, no clear difference",
            scheme="direction",
        ),
        Field(
            "reported_significant",
            _e("reportedSignificant"),
            _BOOL,
            "true if called significant without a p-value",
        ),
        Field("subgroup", _e("subgroup"), _TEXT, "subgroup, as printed"),
        Field(
            "analysis_population",
            _e("analysisPopulation"),
            _TEXT,
            "intention to treat, per protocol, ...",
        ),
    ),
    "effect estimates between two arms",
)

SAFETY = Section(
    "safety",
    "safety",
    _e("SafetyFinding"),
    _e("hasSafetyFinding"),
    (
        _key("safety finding"),
        Field("arm", _e("arm"), _REF, "key of the arm", ref="arm", required=True),
        Field(
            "event_term",
            _e("eventTerm"),
            _TEXT,
            'the adverse event: "any serious adverse event", "herpes zoster"',
            required=True,
        ),
        Field("organ_system", _e("organSystem"), _TEXT, "organ system class, as printed"),
        Field(
            "event_vocabulary",
            _e("eventVocabulary"),
            _TEXT,
            'vocabulary of the term, e.g. "MedDRA 19.0"',
        ),
        Field("serious", _e("serious"), _BOOL, "true for serious adverse events"),
        Field(
            "affected",
            _e("affected"),
            _COUNT,
            "participants with the event: 0 = none occurred; leave blank if not reported",
        ),
        Field(
            "at_risk", _e("atRisk"), _COUNT, "participants at risk (the arm's safety population)"
        ),
        Field("event_count", _e("eventCount"), _COUNT, "number of events"),
        Field("percent", _e("percent"), _PERCENT, "percentage affected, as printed"),
        Field(
            "timepoint_text", _e("timepointText"), _TEXT, 'when, as printed ("during treatment")'
        ),
        Field(
            "assessment_type",
            _e("assessmentType"),
            _TEXT,
            "systematic or non-systematic, as registered",
        ),
    ),
    "adverse events, per arm",
)

CLAIMS = Section(
    "claims",
    "claim",
    _e("Claim"),
    _e("hasClaim"),
    (
        _key("claim"),
        Field(
            "statement", _e("statement"), _TEXT, "the claim in words (paraphrased)", required=True
        ),
        Field(
            "type",
            _e("claimType"),
            _CONCEPT,
            "authors' conclusion or extractor's judgement",
            scheme="claim-type",
        ),
        Field(
            "about_intervention",
            _e("aboutIntervention"),
            _CONCEPT,
            "agent(s) it is about",
            multi=True,
            scheme="agent",
        ),
        Field(
            "about_condition",
            _e("aboutCondition"),
            _CONCEPT,
            "condition(s) it is about",
            multi=True,
            scheme="condition",
        ),
        Field(
            "about_outcome",
            _e("aboutOutcome"),
            _CONCEPT,
            "outcome concept(s) it is about",
            multi=True,
            scheme="outcome",
        ),
        Field(
            "direction",
            _e("direction"),
            _CONCEPT,
            "benefit, harm, no clear difference, mixed",
            scheme="direction",
        ),
        Field(
            "supported_by",
            _e("supportedBy"),
            _RECORD_REF,
            "records it rests on: result/KEY, comparison/KEY, safety/KEY",
            multi=True,
        ),
        Field(
            "certainty",
            _e("certainty"),
            _CONCEPT,
            "GRADE certainty: high, moderate, low, very low",
            scheme="certainty",
        ),
        Field(
            "certainty_reasons",
            _e("certaintyReason"),
            _CONCEPT,
            "reasons: small sample, no comparison group, open label, surrogate outcome, ...",
            multi=True,
            scheme="certainty-reason",
        ),
    ),
    "statements with a GRADE certainty rating",
)

CONCEPTS = Section(
    "concepts",
    "",
    SKOS + "Concept",
    "",
    (
        Field(
            "id",
            None,
            _IRI,
            "the new concept's CURIE or IRI, e.g. cond:cutaneous-lupus",
            required=True,
        ),
        Field("label", SKOS + "prefLabel", _TEXT, "its preferred label (English)", required=True),
        Field(
            "scheme",
            SKOS + "inScheme",
            _SCHEME,
            "the scheme it belongs to, e.g. cond: (or condition, agent, outcome)",
            required=True,
        ),
        Field("synonyms", SKOS + "altLabel", _TEXT, "other names (English)", multi=True),
        Field("definition", SKOS + "definition", _TEXT, "what it means (English)"),
        Field("broader", SKOS + "broader", _IRI, "broader concept(s), CURIE or IRI", multi=True),
        Field("notation", SKOS + "notation", _TEXT, "a code for it"),
        Field(
            "exact_match",
            SKOS + "exactMatch",
            _IRI,
            "checked mappings to other vocabularies (MONDO, MeSH, ...)",
            multi=True,
        ),
    ),
    "new concepts, only when the vocabularies have none that fits",
    extracted=False,
)

DEFAULTS_FIELDS: tuple[Field, ...] = tuple(f for f in PROVENANCE if f.name in DEFAULTABLE)

#: Every section, in the order the form lists them.
SECTIONS: tuple[Section, ...] = (
    STUDY,
    SOURCES,
    POPULATION,
    ARMS,
    OUTCOMES,
    RESULTS,
    COMPARISONS,
    SAFETY,
    CLAIMS,
    CONCEPTS,
)
#: Sections whose records a claim may cite in supported_by.
CITABLE = {s.segment: s for s in (ARMS, OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS, BASELINE)}
LANG_FIELDS = {SKOS + "prefLabel", SKOS + "altLabel", SKOS + "definition"}


# ---------------------------------------------------------------------------
# JSON Schema, generated from the table


def _field_schema(f: Field) -> dict[str, Any]:
    item = dict(f.kind.schema)
    item["description"] = f.help
    item["x-expect"] = f.kind.expect
    if f.multi:
        return {
            "type": "array",
            "items": item,
            "minItems": 1,
            "description": f.help,
            "x-expect": f"a list of {f.kind.expect}",
        }
    return item


def _record_schema(section: Section, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {f.name: _field_schema(f) for f in section.all_fields}
    props.update(extra or {})
    required = [f.name for f in section.all_fields if f.required]
    schema: dict[str, Any] = {
        "type": "object",
        "description": section.help,
        "x-expect": "a mapping of fields",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _list_of(schema: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": schema,
        "description": schema.get("description", ""),
        "x-expect": f"a list of {what}",
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the form (what ``kb/schemas/form.schema.json`` holds)."""
    interventions = _list_of(_record_schema(INTERVENTIONS), "interventions")
    baseline = _list_of(_record_schema(BASELINE), "baseline characteristics")
    defaults = {
        "type": "object",
        "description": "provenance applied to every record that leaves these fields blank",
        "x-expect": "a mapping of fields",
        "properties": {f.name: _field_schema(f) for f in DEFAULTS_FIELDS},
        "additionalProperties": False,
    }
    props: dict[str, Any] = {
        "form": {
            "type": "string",
            "description": "the form's format version",
            "x-expect": "text",
            "enum": ["ekb-study/1"],
        },
        "defaults": defaults,
        "study": _record_schema(STUDY),
        "sources": {**_list_of(_record_schema(SOURCES), "sources"), "minItems": 1},
        "population": _record_schema(POPULATION, {"baseline": baseline}),
        "arms": _list_of(_record_schema(ARMS, {"interventions": interventions}), "arms"),
    }
    for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS, CONCEPTS):
        props[section.name] = _list_of(_record_schema(section), section.name)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/evidence-kb/schemas/form.schema.json",
        "title": "evidence-kb study extraction form",
        "description": "One study, as a reviewer extracts it. Generated from kb/forms.py (ekb new prints a blank form with comments).",
        "type": "object",
        "x-expect": "a mapping with study:, sources:, arms:, ...",
        "properties": props,
        "required": ["study", "sources"],
        "additionalProperties": False,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# Reading YAML: decimals stay exact, dates stay text


class _FormLoader(yaml.SafeLoader):
    """SafeLoader that reads floats as :class:`Decimal` and leaves dates as text."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(text.lower().replace(".inf", "Infinity").replace(".nan", "NaN"))


_FormLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_FormLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _FormDumper(yaml.SafeDumper):
    """SafeDumper that writes decimals in full and never sorts keys."""


def decimal_lexical(value: Decimal | int) -> str:
    """The xsd:decimal lexical form used everywhere: plain digits, always with a point.

    >>> decimal_lexical(Decimal("12")), decimal_lexical(Decimal("-50.30")), decimal_lexical(3)
    ('12.0', '-50.30', '3.0')
    """
    text = format(Decimal(value), "f")
    if "." not in text:
        text += ".0"
    if text.startswith("-0") and Decimal(text) == 0:
        text = text[1:]
    return text


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", decimal_lexical(value))


_FormDumper.add_representer(Decimal, _represent_decimal)
_FormDumper.yaml_implicit_resolvers = _FormLoader.yaml_implicit_resolvers


def load_form_text(text: str, origin: str = "<form>") -> Any:
    """Parse YAML form text.

    :raises CouldNotRun: the text is not YAML (names the line).
    """
    from kb.safe_load import load_yaml

    try:
        return load_yaml(text, _FormLoader)  # kb.safe_load: limits, duplicate keys
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise CouldNotRun(f"{where}: not a valid YAML form: {problem}") from exc


def load_form_file(path: Path) -> Any:
    """Read and parse a form file.

    :raises CouldNotRun: unreadable or not YAML.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text") from exc
    return load_form_text(text, str(path))


def dump_form(form: dict[str, Any]) -> str:
    """A form as YAML text, keys in form order, decimals exact."""
    return yaml.dump(
        form,
        Dumper=_FormDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


# ---------------------------------------------------------------------------
# Step 1: shape of the form (normalise, then JSON Schema)


def path_text(path: Iterable[str | int]) -> str:
    """``arms[1].n`` from ``("arms", 1, "n")``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(form)"


def _drop_blanks(value: Any) -> Any:
    """Blank fields mean "not reported": drop them, and mappings/lists left empty."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _drop_blanks(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        items = [_drop_blanks(v) for v in value]
        return [v for v in items if v is not None and v != {} and v != []]
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _normalise_record(record: Any, section: Section) -> Any:
    """Numbers typed into text fields become text; a single value for a list field becomes a list."""
    if not isinstance(record, dict):
        return record
    by_name = {f.name: f for f in section.all_fields}
    out = dict(record)
    for name, value in record.items():
        f = by_name.get(name)
        if f is None:
            continue
        if f.multi and not isinstance(value, list | dict):
            value = [value]
        if f.kind in (_TEXT, _PARTIAL_DATE, _DATE, _KEY, _REF) or (f.kind is _CONCEPT):
            if isinstance(value, list):
                value = [_as_text(v) for v in value]
            else:
                value = _as_text(value)
        out[name] = value
    return out


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def normalise_form(data: Any) -> Any:
    """The form with blanks dropped and friendly coercions applied (before the schema check)."""
    data = _drop_blanks(data)
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("study"), dict):
        data["study"] = _normalise_record(data["study"], STUDY)
    if isinstance(data.get("defaults"), dict):
        fake = Section("defaults", "", "", "", DEFAULTS_FIELDS, "", extracted=False)
        data["defaults"] = _normalise_record(data["defaults"], fake)
    if isinstance(data.get("population"), dict):
        pop = _normalise_record(data["population"], POPULATION)
        if isinstance(pop.get("baseline"), list):
            pop["baseline"] = [_normalise_record(r, BASELINE) for r in pop["baseline"]]
        data["population"] = pop
    for section in (SOURCES, ARMS, OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS, CONCEPTS):
        records = data.get(section.name)
        if isinstance(records, list):
            records = [_normalise_record(r, section) for r in records]
            if section is ARMS:
                for arm in records:
                    if isinstance(arm, dict) and isinstance(arm.get("interventions"), dict):
                        arm["interventions"] = [arm["interventions"]]
                    if isinstance(arm, dict) and isinstance(arm.get("interventions"), list):
                        arm["interventions"] = [
                            _normalise_record(r, INTERVENTIONS) for r in arm["interventions"]
                        ]
            data[section.name] = records
    return data


def _schema_messages(data: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json_schema())
    problems: list[str] = []

    def order(e: Any) -> tuple[Any, ...]:
        return (
            tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path),
            str(e.validator),
        )

    for error in sorted(validator.iter_errors(data), key=order):
        path = list(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "required":
            missing = [r for r in error.validator_value if r not in error.instance]
            for name in missing:
                problems.append(f"{path_text([*path, name])}: is required")
        elif error.validator == "additionalProperties":
            known = list(schema.get("properties", {}))
            for name in sorted(set(error.instance) - set(known)):
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{path_text([*path, str(name)])}: unknown field{hint}")
        elif error.validator == "minItems" and not error.instance:
            problems.append(f"{path_text(path)}: needs at least one entry")
        else:
            expect = schema.get("x-expect", "valid")
            got = error.instance
            shown = got if isinstance(got, str | int | Decimal | bool) else type(got).__name__
            if isinstance(shown, Decimal):
                shown = decimal_lexical(shown)
            problems.append(f"{path_text(path)}: must be {expect} (got {shown!r})")
    return list(dict.fromkeys(problems))


def check_form_shape(data: Any, origin: str = "<form>") -> dict[str, Any]:
    """Normalise a parsed form and check it against the JSON Schema.

    :returns: the normalised form.
    :raises FormError: with one message per problem, each naming the field path.
    """
    data = normalise_form(data)
    if not isinstance(data, dict):
        raise FormError(
            origin, ["(form): must be a mapping with study:, sources:, arms:, ... (see `ekb new`)"]
        )
    problems = _schema_messages(data)
    if problems:
        raise FormError(origin, problems)
    return data


# ---------------------------------------------------------------------------
# Concepts: the vocabularies plus what a form declares


def _expand(text: str) -> str | None:
    """A full IRI from a CURIE with a known prefix or an absolute IRI; else ``None``."""
    if re.match(r"^https?://\S+$", text):
        return text
    m = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):(\S*)$", text)
    if m and m.group(1) in PREFIXES:
        return PREFIXES[m.group(1)] + m.group(2)
    return None


def curie(iri: str) -> str:
    """The shortest CURIE of an IRI with the known prefixes (the IRI itself if none)."""
    best = ""
    best_prefix = ""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(base) > len(best) and base != str(RES):
            best, best_prefix = base, prefix
    if best and re.fullmatch(r"[A-Za-z0-9_.\-]*", iri[len(best) :]):
        return f"{best_prefix}:{iri[len(best) :]}"
    return iri


@dataclass
class _Declared:
    iri: str
    scheme: str
    labels: list[str]
    pref: str


class Vocabulary:
    """Concept lookup for forms: the KB's vocabularies (through :mod:`kb.concepts`) plus
    the concepts a form or study file declares.

    :param store: a store holding the vocabularies; see :meth:`for_kb`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._declared: dict[str, _Declared] = {}
        self._display: dict[tuple[str, str], str] = {}
        self._resolved: dict[tuple[str, str], str] = {}

    @classmethod
    def for_kb(cls, kb_dir: Path | None = None) -> Vocabulary:
        """The vocabularies of a knowledge base (the shipped ones plus its own ``vocab/``)."""
        from kb.store import SCHEMA_GRAPH, EmbeddedStore, schema_files

        store = EmbeddedStore()
        store.load_files(schema_files(kb_dir), graph=SCHEMA_GRAPH)
        return cls(store)

    def with_declared(self, concepts: list[dict[str, Any]]) -> Vocabulary:
        """A copy that also knows the concepts declared in a form's ``concepts:``."""
        from kb import concepts as kc

        other = Vocabulary(self.store)
        other._resolved = self._resolved
        other._display = {}
        for c in concepts:
            iri = _expand(c["id"]) or c["id"]
            scheme_text = c["scheme"]
            scheme = kc.SCHEMES.get(scheme_text) or _expand(scheme_text) or scheme_text
            labels = [c["label"], *c.get("synonyms", [])]
            other._declared[iri] = _Declared(iri, scheme, labels, c["label"])
        return other

    def _scheme_iri(self, scheme: str) -> str:
        from kb import concepts as kc

        return kc.SCHEMES[scheme]

    def resolve(self, text: str, scheme: str) -> str:
        """The concept IRI ``text`` names within ``scheme`` (short name of :data:`kb.concepts.SCHEMES`).

        :raises ValueError: unknown, ambiguous or in another scheme (the message says which).
        """
        from kb import concepts as kc

        scheme_iri = self._scheme_iri(scheme)
        wanted = " ".join(text.split()).lower()
        iri = _expand(text)
        declared = [
            d.iri
            for d in self._declared.values()
            if d.scheme == scheme_iri
            and (d.iri == iri or any(" ".join(lbl.split()).lower() == wanted for lbl in d.labels))
        ]
        if iri is not None and iri in self._declared:
            if self._declared[iri].scheme != scheme_iri:
                raise ValueError(f"{text} is declared in another scheme, not as a {scheme} concept")
            return iri
        key = (text, scheme)
        found: str | None = self._resolved.get(key)
        error = ""
        if found is None:
            try:
                found = kc.resolve(self.store, text, scheme)
                self._resolved[key] = found
            except UsageError as exc:
                error = str(exc)
        if found is None:
            if len(declared) == 1:
                return declared[0]
            if declared:
                raise ValueError(
                    f"{text!r} is ambiguous among the declared concepts: "
                    f"{', '.join(curie(d) for d in declared)}"
                )
            raise ValueError(error)
        if declared and found not in declared:
            raise ValueError(
                f"{text!r} is ambiguous: it could be {curie(found)} or the declared "
                f"{curie(declared[0])}"
            )
        return found

    def display(self, iri: str, scheme: str) -> str:
        """What a form shows for a concept: its preferred label when that resolves back to it, else its CURIE."""
        key = (iri, scheme)
        if key in self._display:
            return self._display[key]
        from kb import concepts as kc

        label = (
            self._declared[iri].pref if iri in self._declared else kc.pref_label(self.store, iri)
        )
        shown = curie(iri)
        if label and not _expand(label):
            try:
                if self.resolve(label, scheme) == iri:
                    shown = label
            except ValueError:
                pass
        self._display[key] = shown
        return shown


# ---------------------------------------------------------------------------
# Step 2 and conversion: form -> graph


def study_iri(study_id: str) -> str:
    return f"{RES}study/{study_id}"


def record_iri(study_id: str, segment: str, key: str | None = None) -> str:
    base = study_iri(study_id)
    return f"{base}/{segment}" if key is None else f"{base}/{segment}/{key}"


@dataclass
class _Builder:
    form: dict[str, Any]
    vocab: Vocabulary
    problems: list[str] = field(default_factory=list)
    triples: list[tuple[Node, Node, Node]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.study_id: str = self.form["study"]["id"]
        self.defaults: dict[str, Any] = self.form.get("defaults", {})
        self.keys: dict[str, dict[str, list[int]]] = {}
        #: record IRI -> (form path, section), to report shape findings by field path
        self.record_paths: dict[str, tuple[list[str | int], Section]] = {}

    # -- helpers
    def add(self, s: str, p: str, o: Node) -> None:
        from rdflib import URIRef

        self.triples.append((URIRef(s), URIRef(p), o))

    def literal(self, f: Field, value: Any) -> Node:
        from rdflib import Literal, URIRef

        kind = f.kind
        if f.predicate in LANG_FIELDS:
            return Literal(value, lang="en")
        if kind is _PARTIAL_DATE:
            dt = {10: "date", 7: "gYearMonth", 4: "gYear"}[len(value)]
            return Literal(value, datatype=URIRef(XSD + dt))
        if kind.datatype == XSD + "decimal":
            return Literal(decimal_lexical(value), datatype=URIRef(kind.datatype))
        if kind.datatype == XSD + "boolean":
            return Literal("true" if value else "false", datatype=URIRef(kind.datatype))
        if kind.datatype in (
            XSD + "integer",
            XSD + "positiveInteger",
            XSD + "gYear",
            XSD + "date",
            XSD + "anyURI",
        ):
            return Literal(str(value), datatype=URIRef(kind.datatype))
        return Literal(str(value))

    def key_index(self, section: str) -> dict[str, list[int]]:
        return self.keys.setdefault(section, {})

    def collect_keys(
        self, name: str, records: list[dict[str, Any]], path: tuple[str | int, ...]
    ) -> None:
        index = self.key_index(name)
        for i, record in enumerate(records):
            key = record.get("key")
            if key is None:
                continue
            if key in index:
                first = index[key][0]
                self.problems.append(
                    f"{path_text([*path, i, 'key'])}: {key!r} is already the key of "
                    f"{path_text([*path, first])}"
                )
            index.setdefault(key, []).append(i)

    def resolve_ref(self, f: Field, value: str, path: list[str | int]) -> str | None:
        assert f.ref is not None
        if f.ref == "study":
            return study_iri(value)
        names = {"source": "sources", "arm": "arms", "outcome": "outcomes"}
        index = self.key_index(names[f.ref])
        if value not in index:
            known = sorted(index)
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else (
                    f"; known: {', '.join(known)}" if known else f"; no {names[f.ref]} are defined"
                )
            )
            self.problems.append(f"{path_text(path)}: no {f.ref} with key {value!r}{hint}")
            return None
        return record_iri(self.study_id, f.ref, value)

    def resolve_record_ref(self, value: str, path: list[str | int]) -> str | None:
        if "/" in value:
            segment, key = value.split("/", 1)
            section = CITABLE.get(segment)
            if section is None:
                self.problems.append(
                    f"{path_text(path)}: {segment!r} is not a kind of record; use result/KEY, "
                    "comparison/KEY or safety/KEY"
                )
                return None
            index = self.key_index(section.name)
            if key not in index:
                self.problems.append(f"{path_text(path)}: no {segment} with key {key!r}")
                return None
            return record_iri(self.study_id, segment, key)
        hits = [s for s in (RESULTS, COMPARISONS, SAFETY) if value in self.key_index(s.name)]
        if len(hits) == 1:
            return record_iri(self.study_id, hits[0].segment, value)
        if not hits:
            self.problems.append(
                f"{path_text(path)}: no result, comparison or safety finding with key {value!r}"
            )
        else:
            options = " or ".join(f"{s.segment}/{value}" for s in hits)
            self.problems.append(f"{path_text(path)}: {value!r} is ambiguous; write {options}")
        return None

    def values(
        self, subject: str, section: Section, record: dict[str, Any], path: list[str | int]
    ) -> None:
        from rdflib import URIRef

        for f in section.all_fields:
            if f.predicate is None or f.name not in record:
                continue
            raw = record[f.name]
            items = raw if f.multi else [raw]
            for i, value in enumerate(items):
                vpath = [*path, f.name, i] if f.multi else [*path, f.name]
                obj: Node | None
                if f.kind is _CONCEPT:
                    assert f.scheme is not None
                    try:
                        obj = URIRef(self.vocab.resolve(value, f.scheme))
                    except ValueError as exc:
                        self.problems.append(f"{path_text(vpath)}: {exc}")
                        obj = None
                elif f.kind is _REF:
                    target = self.resolve_ref(f, value, vpath)
                    obj = URIRef(target) if target else None
                elif f.kind is _RECORD_REF:
                    target = self.resolve_record_ref(value, vpath)
                    obj = URIRef(target) if target else None
                elif f.kind is _IRI or f.kind is _SCHEME:
                    from kb import concepts as kc

                    iri = kc.SCHEMES.get(value) if f.kind is _SCHEME else None
                    iri = iri or _expand(value)
                    if iri is None:
                        self.problems.append(
                            f"{path_text(vpath)}: {value!r} is neither a CURIE with a known "
                            "prefix nor an http(s) IRI"
                        )
                        obj = None
                    else:
                        obj = URIRef(iri)
                else:
                    obj = self.literal(f, value)
                if obj is not None:
                    self.add(subject, f.predicate, obj)

    def record(
        self, subject: str, section: Section, record: dict[str, Any], path: list[str | int]
    ) -> None:
        from rdflib import URIRef

        self.add(subject, RDF_TYPE, URIRef(section.rdf_class))
        self.record_paths[subject] = (path, section)
        if section.extracted:
            record = {**{k: v for k, v in self.defaults.items() if k not in record}, **record}
            if "source" not in record:
                self.problems.append(
                    f"{path_text([*path, 'source'])}: every record needs a source; give one here "
                    "or in defaults.source"
                )
        self.values(subject, section, record, path)

    # -- the whole form
    def build(self) -> None:
        from rdflib import URIRef

        form = self.form
        sid = self.study_id
        s_iri = study_iri(sid)
        for section in (SOURCES, ARMS, OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            self.collect_keys(section.name, form.get(section.name, []), (section.name,))
        population = form.get("population")
        baseline = population.get("baseline", []) if population else []
        self.collect_keys("baseline", baseline, ("population", "baseline"))

        self.record(s_iri, STUDY, form["study"], ["study"])
        if form["study"].get("id") in form["study"].get("possibly_related_to", []):
            self.problems.append("study.possibly_related_to: a study cannot be related to itself")
        for i, source in enumerate(form.get("sources", [])):
            iri = record_iri(sid, "source", source["key"])
            self.add(s_iri, SOURCES.link, URIRef(iri))
            self.record(iri, SOURCES, source, ["sources", i])
        if population:
            p_iri = record_iri(sid, "population")
            self.add(s_iri, POPULATION.link, URIRef(p_iri))
            self.record(p_iri, POPULATION, population, ["population"])
            for i, bc in enumerate(baseline):
                iri = record_iri(sid, "baseline", bc["key"])
                self.add(p_iri, BASELINE.link, URIRef(iri))
                self.record(iri, BASELINE, bc, ["population", "baseline", i])
        for i, arm in enumerate(form.get("arms", [])):
            a_iri = record_iri(sid, "arm", arm["key"])
            self.add(s_iri, ARMS.link, URIRef(a_iri))
            self.record(a_iri, ARMS, arm, ["arms", i])
            interventions = arm.get("interventions", [])
            seen: set[str] = set()
            for j, iv in enumerate(interventions):
                path: list[str | int] = ["arms", i, "interventions", j]
                key = iv.get("key")
                if len(interventions) > 1 and key is None:
                    self.problems.append(
                        f"{path_text([*path, 'key'])}: is required when an arm has more than one "
                        "intervention"
                    )
                    continue
                if key is not None and key in seen:
                    self.problems.append(
                        f"{path_text([*path, 'key'])}: {key!r} is used twice in this arm"
                    )
                    continue
                if key is not None:
                    seen.add(key)
                iv_iri = f"{a_iri}/intervention" if key is None else f"{a_iri}/intervention/{key}"
                self.add(a_iri, INTERVENTIONS.link, URIRef(iv_iri))
                self.record(iv_iri, INTERVENTIONS, iv, path)
        for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            for i, rec in enumerate(form.get(section.name, [])):
                iri = record_iri(sid, section.segment, rec["key"])
                self.add(s_iri, section.link, URIRef(iri))
                self.record(iri, section, rec, [section.name, i])
        for i, comp in enumerate(form.get("comparisons", [])):
            if "experimental_arm" in comp and comp.get("experimental_arm") == comp.get(
                "comparator_arm"
            ):
                self.problems.append(
                    f"comparisons[{i}].comparator_arm: must differ from experimental_arm"
                )
        for i, concept in enumerate(form.get("concepts", [])):
            concept_iri = _expand(concept["id"])
            if concept_iri is None:
                self.problems.append(
                    f"concepts[{i}].id: {concept['id']!r} is neither a CURIE with a known prefix "
                    "nor an http(s) IRI"
                )
                continue
            if concept_iri.startswith(str(RES)):
                self.problems.append(
                    f"concepts[{i}].id: concepts may not live under the resource namespace"
                )
                continue
            scheme = concept["scheme"]
            from kb import concepts as kc

            concept = {**concept, "scheme": kc.SCHEMES.get(scheme, scheme)}
            self.record(concept_iri, CONCEPTS, concept, ["concepts", i])


@dataclass
class ConvertedForm:
    """A form turned into RDF: the study id, its graph, and where each record sits in the form."""

    study_id: str
    graph: Graph
    record_paths: dict[str, tuple[list[str | int], Section]]

    def field_path(self, focus: str, predicate: str | None) -> str | None:
        """The form path of a record's field (``results[0].events``), or ``None`` if unknown."""
        if focus not in self.record_paths:
            return None
        path, section = self.record_paths[focus]
        if predicate:
            for f in section.all_fields:
                if f.predicate == predicate:
                    return path_text([*path, f.name])
        return path_text(path)


def form_to_graph(data: Any, vocab: Vocabulary, origin: str = "<form>") -> ConvertedForm:
    """Check a parsed form and turn it into the graph of its study.

    :raises FormError: every problem found (shape, keys, references, concepts), each with its field path.
    """
    from rdflib import Graph

    form = check_form_shape(data, origin)
    vocab = vocab.with_declared(form.get("concepts", []))
    builder = _Builder(form, vocab)
    builder.build()
    if builder.problems:
        raise FormError(origin, list(dict.fromkeys(builder.problems)))
    graph = Graph()
    for triple in builder.triples:
        graph.add(triple)
    return ConvertedForm(builder.study_id, graph, builder.record_paths)


# ---------------------------------------------------------------------------
# graph -> form (ekb show -f yaml)


class NotAForm(CheckFailed):
    """A study graph holds something the form cannot express (names the triple)."""


def _python_value(f: Field, node: Node, where: str) -> Any:
    from rdflib import BNode, Literal, URIRef

    if isinstance(node, BNode):
        raise NotAForm(f"{where}: a blank node cannot be shown in a form")
    kind = f.kind
    if kind in (_CONCEPT, _REF, _RECORD_REF, _IRI, _SCHEME):
        if not isinstance(node, URIRef):
            raise NotAForm(f"{where}: expected an IRI, found the literal {str(node)!r}")
        return str(node)
    if not isinstance(node, Literal):
        raise NotAForm(f"{where}: expected a literal, found <{node}>")
    lexical = str(node)
    dt = str(node.datatype) if node.datatype else None
    if f.predicate in LANG_FIELDS:
        if node.language != "en" or dt:
            raise NotAForm(f"{where}: expected an English (@en) label, found {node.n3()}")
        return lexical
    if node.language:
        raise NotAForm(
            f"{where}: a language-tagged literal ({node.n3()}) cannot be shown in a form"
        )
    if kind is _PARTIAL_DATE:
        allowed = {XSD + "date": 10, XSD + "gYearMonth": 7, XSD + "gYear": 4}
        if (
            dt not in allowed
            or len(lexical) != allowed[dt]
            or not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", lexical)
        ):
            raise NotAForm(
                f"{where}: expected an xsd:date, xsd:gYearMonth or xsd:gYear, found {node.n3()}"
            )
        return lexical
    expected = kind.datatype
    if expected == XSD + "string":
        expected = None
    if dt == XSD + "string":
        dt = None
    if dt != expected:
        raise NotAForm(
            f"{where}: expected {curie(expected) if expected else 'a plain string'}, found "
            f"{node.n3()}"
        )
    if dt is None or dt in (XSD + "date", XSD + "anyURI"):
        return lexical
    if dt == XSD + "boolean":
        if lexical not in ("true", "false"):
            raise NotAForm(f"{where}: not a boolean: {lexical!r}")
        return lexical == "true"
    if dt in (XSD + "integer", XSD + "positiveInteger", XSD + "gYear"):
        if not re.fullmatch(r"-?[0-9]+", lexical) or (
            len(lexical) > 1 and lexical.lstrip("-").startswith("0")
        ):
            raise NotAForm(f"{where}: {lexical!r} is not an integer in canonical form")
        return int(lexical)
    if dt == XSD + "decimal":
        try:
            value = Decimal(lexical)
        except InvalidOperation:
            raise NotAForm(f"{where}: {lexical!r} is not a decimal") from None
        if decimal_lexical(value) != lexical:
            raise NotAForm(
                f"{where}: write the decimal {lexical!r} as {decimal_lexical(value)} (canonical "
                "form)"
            )
        return value
    raise NotAForm(f"{where}: unsupported datatype {curie(dt)}")


class _Reader:
    def __init__(self, graph: Graph, vocab: Vocabulary) -> None:
        self.graph = graph
        self.vocab = vocab
        self.consumed: set[tuple[Node, Node, Node]] = set()

    def where(self, subject: Node, predicate: str | None = None) -> str:
        from kb.namespaces import shorten

        text = shorten(str(subject))
        return f"{text} {shorten(predicate)}" if predicate else text

    def objects(self, subject: Node, predicate: str) -> list[Node]:
        from rdflib import URIRef

        p = URIRef(predicate)
        found = sorted(self.graph.objects(subject, p), key=lambda n: (type(n).__name__, str(n)))
        for o in found:
            self.consumed.add((subject, p, o))
        return found

    def expect_type(self, subject: Node, rdf_class: str) -> None:
        from rdflib import URIRef

        types = self.objects(subject, RDF_TYPE)
        if URIRef(rdf_class) not in types:
            raise NotAForm(
                f"{self.where(subject)}: expected a {curie(rdf_class)}, found types "
                f"{[curie(str(t)) for t in types] or 'none'}"
            )
        if len(types) > 1:
            extra = [curie(str(t)) for t in types if str(t) != rdf_class]
            raise NotAForm(
                f"{self.where(subject)}: has extra types {extra} that a form cannot express"
            )

    def key_of(self, node: Node, prefix: str) -> str:
        iri = str(node)
        if not iri.startswith(prefix) or not _KEY_RE.match(iri[len(prefix) :]):
            raise NotAForm(f"{self.where(node)}: its IRI does not follow the pattern {prefix}KEY")
        return iri[len(prefix) :]

    def fields(self, subject: Node, section: Section, skip: Iterable[str] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        skip = set(skip)
        for f in section.all_fields:
            if f.predicate is None or f.name in skip:
                continue
            values = self.objects(subject, f.predicate)
            if not values:
                continue
            where = self.where(subject, f.predicate)
            if not f.multi and len(values) > 1:
                raise NotAForm(
                    f"{where}: has {len(values)} values but the form field {f.name} holds one"
                )
            converted = [self.to_form(f, v, where) for v in values]
            if f.multi:
                converted = sorted(converted, key=str)
            out[f.name] = converted if f.multi else converted[0]
        return out

    def to_form(self, f: Field, node: Node, where: str) -> Any:
        value = _python_value(f, node, where)
        sid_prefix = f"{self.study}/"
        if f.kind is _CONCEPT:
            assert f.scheme is not None
            return self.vocab.display(value, f.scheme)
        if f.kind is _REF:
            if f.ref == "study":
                return self.key_of(node, f"{RES}study/")
            return self.key_of(node, f"{sid_prefix}{f.ref}/")
        if f.kind is _RECORD_REF:
            rest = value[len(sid_prefix) :] if value.startswith(sid_prefix) else ""
            segment, _, key = rest.partition("/")
            if segment not in CITABLE or not key or "/" in key:
                raise NotAForm(f"{where}: {value} is not a record of this study a claim can cite")
            return f"{segment}/{key}"
        if f.kind is _IRI or f.kind is _SCHEME:
            return curie(value)
        return value

    def read(self) -> dict[str, Any]:
        from rdflib import URIRef

        studies = sorted(
            set(self.graph.subjects(URIRef(RDF_TYPE), URIRef(STUDY.rdf_class))), key=str
        )
        if len(studies) != 1:
            raise NotAForm(f"a study file must hold exactly one ekb:Study, found {len(studies)}")
        s = studies[0]
        self.study = str(s)
        sid = self.key_of(s, f"{RES}study/")
        form: dict[str, Any] = {"form": "ekb-study/1"}
        self.expect_type(s, STUDY.rdf_class)
        study = self.fields(s, STUDY)
        if study.get("id") != sid:
            raise NotAForm(
                f"{self.where(s)}: ekb:studyId {study.get('id')!r} does not match its IRI ({sid})"
            )
        form["study"] = {"id": sid, **{k: v for k, v in study.items() if k != "id"}}

        def children(subject: Node, section: Section, parent_prefix: str) -> list[tuple[str, Node]]:
            nodes = self.objects(subject, section.link)
            return sorted(((self.key_of(n, parent_prefix), n) for n in nodes), key=lambda kn: kn[0])

        sources = []
        for key, node in children(s, SOURCES, f"{self.study}/source/"):
            self.expect_type(node, SOURCES.rdf_class)
            sources.append({"key": key, **self.fields(node, SOURCES, skip=["key"])})
        form["sources"] = sources

        pops = self.objects(s, POPULATION.link)
        if len(pops) > 1:
            raise NotAForm(f"{self.where(s)}: a study has one population, found {len(pops)}")
        if pops:
            p = pops[0]
            if str(p) != f"{self.study}/population":
                raise NotAForm(
                    f"{self.where(p)}: the population's IRI must be {self.study}/population"
                )
            self.expect_type(p, POPULATION.rdf_class)
            population = self.fields(p, POPULATION)
            baseline = []
            for key, node in children(p, BASELINE, f"{self.study}/baseline/"):
                self.expect_type(node, BASELINE.rdf_class)
                baseline.append({"key": key, **self.fields(node, BASELINE, skip=["key"])})
            if baseline:
                population["baseline"] = baseline
            form["population"] = population

        arms = []
        for key, node in children(s, ARMS, f"{self.study}/arm/"):
            self.expect_type(node, ARMS.rdf_class)
            arm = {"key": key, **self.fields(node, ARMS, skip=["key"])}
            interventions = []
            for iv in sorted(self.objects(node, INTERVENTIONS.link), key=str):
                own = f"{node}/intervention"
                if str(iv) == own:
                    ikey = None
                else:
                    ikey = self.key_of(iv, own + "/")
                self.expect_type(iv, INTERVENTIONS.rdf_class)
                entry = self.fields(iv, INTERVENTIONS, skip=["key"])
                interventions.append({"key": ikey, **entry} if ikey else entry)
            if interventions:
                arm["interventions"] = interventions
            arms.append(arm)
        if arms:
            form["arms"] = arms

        for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            records = []
            for key, node in children(s, section, f"{self.study}/{section.segment}/"):
                self.expect_type(node, section.rdf_class)
                records.append({"key": key, **self.fields(node, section, skip=["key"])})
            if records:
                form[section.name] = records

        concepts = []
        skos_concept = URIRef(SKOS + "Concept")
        for node in sorted(set(self.graph.subjects(URIRef(RDF_TYPE), skos_concept)), key=str):
            self.expect_type(node, CONCEPTS.rdf_class)
            entry = self.fields(node, CONCEPTS, skip=["id"])
            concepts.append({"id": curie(str(node)), **entry})
        if concepts:
            form["concepts"] = concepts

        leftover = [t for t in self.graph if t not in self.consumed]
        if leftover:
            shown = "; ".join(
                f"{self.where(t[0], str(t[1]))} {t[2].n3() if hasattr(t[2], 'n3') else t[2]}"
                for t in sorted(leftover, key=lambda t: tuple(map(str, t)))[:5]
            )
            more = f" (and {len(leftover) - 5} more)" if len(leftover) > 5 else ""
            raise NotAForm(
                f"{len(leftover)} triple(s) cannot be expressed in a form: {shown}{more}"
            )
        return form


def graph_to_form(graph: Graph, vocab: Vocabulary) -> dict[str, Any]:
    """The form of one study graph: adding it back gives an isomorphic graph.

    :raises NotAForm: the graph holds something a form cannot express (names it).
    """
    concept_nodes = _declared_concepts(graph)
    reader = _Reader(graph, vocab.with_declared(concept_nodes))
    return reader.read()


def _declared_concepts(graph: Graph) -> list[dict[str, Any]]:
    """Concepts a study graph declares, as ``concepts:`` entries (for label lookups)."""
    from rdflib import URIRef

    out = []
    for node in graph.subjects(URIRef(RDF_TYPE), URIRef(SKOS + "Concept")):
        labels = [str(o) for o in graph.objects(node, URIRef(SKOS + "prefLabel"))]
        schemes = [str(o) for o in graph.objects(node, URIRef(SKOS + "inScheme"))]
        if labels and schemes:
            synonyms = [str(o) for o in graph.objects(node, URIRef(SKOS + "altLabel"))]
            out.append(
                {"id": str(node), "label": labels[0], "scheme": schemes[0], "synonyms": synonyms}
            )
    return out


def iter_fields() -> Iterator[tuple[str, Field]]:
    """Every field with its path pattern (``arms[].interventions[].agent``), for docs and tests."""
    for section in SECTIONS:
        prefix = section.name if not section.many else f"{section.name}[]"
        for f in section.all_fields:
            yield f"{prefix}.{f.name}", f
        if section is POPULATION:
            for f in BASELINE.all_fields:
                yield f"population.baseline[].{f.name}", f
        if section is ARMS:
            for f in INTERVENTIONS.all_fields:
                yield f"arms[].interventions[].{f.name}", f
    for f in DEFAULTS_FIELDS:
        yield f"defaults.{f.name}", f
