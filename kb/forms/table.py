"""The one description of the form: every section and field, once.

The JSON Schema, the blank form, the conversion both ways and the error messages are
derived from this table, so they cannot drift apart.

Size: one literal table, one entry per form field (data without logic); cutting it in two
would only scatter the sections a reader looks up together.
"""

from __future__ import annotations

from collections.abc import Iterator

from kb.forms import kinds
from kb.forms.fields import DEFAULTABLE, PROVENANCE, Field, Section, ekb_term, key_field
from kb.forms.kinds import RDFS_LABEL, SKOS

STUDY = Section(
    "study",
    "study",
    ekb_term("Study"),
    "",
    (
        Field(
            "id",
            ekb_term("studyId"),
            kinds.KEY,
            "the study's id: lowercase words joined by '-', e.g. aurora1-rovin-2021; also its "
            "file name",
            required=True,
        ),
        Field("title", ekb_term("title"), kinds.TEXT, "the study's title", required=True),
        Field("year", ekb_term("year"), kinds.YEAR, "year the study was reported"),
        Field(
            "design",
            ekb_term("design"),
            kinds.CONCEPT,
            "randomised controlled trial, single-arm trial, cohort study, case series, ...",
            scheme="design",
            required=True,
        ),
        Field(
            "design_text",
            ekb_term("designText"),
            kinds.TEXT,
            "the design as the source describes it",
        ),
        Field(
            "blinding",
            ekb_term("blinding"),
            kinds.CONCEPT,
            "open label, single blind, double blind, blinded outcome assessment",
            scheme="blinding",
        ),
        Field("phase", ekb_term("phase"), kinds.TEXT, 'trial phase as printed: "2", "3", "1/2"'),
        Field(
            "registration_ids",
            ekb_term("registrationId"),
            kinds.TEXT,
            "registry ids, e.g. [NCT03021499]",
            multi=True,
        ),
        Field(
            "countries",
            ekb_term("country"),
            kinds.TEXT,
            "countries or regions, as printed",
            multi=True,
        ),
        Field(
            "status",
            ekb_term("status"),
            kinds.TEXT,
            "recruitment status as registered (e.g. COMPLETED)",
        ),
        Field(
            "start_date",
            ekb_term("startDate"),
            kinds.PARTIAL_DATE,
            "when the study started: YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        Field(
            "completion_date",
            ekb_term("completionDate"),
            kinds.PARTIAL_DATE,
            "when it was completed: YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        Field(
            "follow_up_weeks",
            ekb_term("followUpWeeks"),
            kinds.NONNEG,
            "weeks from start of treatment to the last planned assessment",
        ),
        Field("follow_up_text", ekb_term("followUpText"), kinds.TEXT, "the follow-up as printed"),
        Field("funding", ekb_term("funding"), kinds.TEXT, "who funded or sponsored it, as printed"),
        Field(
            "conflicts_of_interest",
            ekb_term("conflictsOfInterest"),
            kinds.TEXT,
            "declared conflicts of interest, as printed",
        ),
        Field(
            "possibly_related_to",
            ekb_term("possiblyRelatedTo"),
            kinds.REF,
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
    ekb_term("Source"),
    ekb_term("reportedIn"),
    (
        key_field("source"),
        Field(
            "type",
            ekb_term("sourceType"),
            kinds.CONCEPT,
            "journal article, journal abstract, journal table, registry record, congress "
            "abstract, press release, plain-language summary, secondary summary",
            scheme="source-type",
            required=True,
        ),
        Field("title", ekb_term("title"), kinds.TEXT, "title of the document"),
        Field("authors", ekb_term("authors"), kinds.TEXT, "authors as printed"),
        Field(
            "journal",
            ekb_term("journal"),
            kinds.TEXT,
            "journal with volume and pages, or meeting and abstract number",
        ),
        Field("year", ekb_term("year"), kinds.YEAR, "year of publication"),
        Field(
            "doi",
            ekb_term("doi"),
            kinds.TEXT,
            "DOI without https://doi.org/, e.g. 10.1016/S0140-6736(21)00578-X",
        ),
        Field("pmid", ekb_term("pmid"), kinds.TEXT, "PubMed id (in quotes)"),
        Field("url", ekb_term("url"), kinds.URL, "web address the source was read at"),
        Field(
            "version_date",
            ekb_term("versionDate"),
            kinds.DATE,
            "for a registry record: date of the version read, YYYY-MM-DD",
        ),
        Field(
            "note", ekb_term("note"), kinds.TEXT, "anything a reader should know about this source"
        ),
    ),
    "documents the numbers were read from; every record names one by its key",
    extracted=False,
)

BASELINE = Section(
    "baseline",
    "baseline",
    ekb_term("BaselineCharacteristic"),
    ekb_term("hasBaselineCharacteristic"),
    (
        key_field("characteristic"),
        Field(
            "characteristic",
            ekb_term("characteristic"),
            kinds.TEXT,
            'what is described: "age, years", "female", "SLEDAI-2K"',
            required=True,
        ),
        Field(
            "arm",
            ekb_term("arm"),
            kinds.REF,
            "key of the arm it describes; blank for the whole population",
            ref="arm",
        ),
        Field("n", ekb_term("n"), kinds.COUNT, "participants described"),
        Field("mean", ekb_term("mean"), kinds.DECIMAL, "mean"),
        Field("sd", ekb_term("sd"), kinds.NONNEG, "standard deviation"),
        Field("se", ekb_term("se"), kinds.NONNEG, "standard error"),
        Field("median", ekb_term("median"), kinds.DECIMAL, "median"),
        Field("q1", ekb_term("q1"), kinds.DECIMAL, "first quartile"),
        Field("q3", ekb_term("q3"), kinds.DECIMAL, "third quartile"),
        Field("range_low", ekb_term("rangeLow"), kinds.DECIMAL, "smallest value"),
        Field("range_high", ekb_term("rangeHigh"), kinds.DECIMAL, "largest value"),
        Field("percent", ekb_term("percent"), kinds.PERCENT, "percentage, 0-100"),
        Field(
            "unit",
            ekb_term("unit"),
            kinds.TEXT,
            'unit of the values (UCUM where possible: "a", "mg/d", "%")',
        ),
    ),
    "baseline characteristics of the participants",
)

POPULATION = Section(
    "population",
    "population",
    ekb_term("Population"),
    ekb_term("hasPopulation"),
    (
        Field(
            "condition",
            ekb_term("condition"),
            kinds.CONCEPT,
            "condition(s): e.g. [lupus nephritis]; labels, synonyms or CURIEs",
            multi=True,
            scheme="condition",
        ),
        Field(
            "condition_text",
            ekb_term("conditionText"),
            kinds.TEXT,
            "the condition as printed, with qualifiers (refractory, active, class III/IV)",
        ),
        Field(
            "eligibility",
            ekb_term("eligibility"),
            kinds.TEXT,
            "key inclusion and exclusion criteria",
        ),
        Field("screened", ekb_term("screened"), kinds.COUNT, "number screened"),
        Field(
            "enrolled", ekb_term("enrolled"), kinds.COUNT, "number enrolled (randomised, in an RCT)"
        ),
        Field(
            "analysed",
            ekb_term("analysed"),
            kinds.COUNT,
            "number in the main analysis (at most enrolled)",
        ),
        Field(
            "analysed_text",
            ekb_term("analysedText"),
            kinds.TEXT,
            "the analysed population as printed (ITT, per protocol)",
        ),
        Field(
            "age_text",
            ekb_term("ageText"),
            kinds.TEXT,
            "age as printed, e.g. mean 33.1 (SD 10.6) years",
        ),
        Field("sex_text", ekb_term("sexText"), kinds.TEXT, "sex as printed, e.g. 88% female"),
    ),
    "who took part",
    many=False,
)

INTERVENTIONS = Section(
    "interventions",
    "intervention",
    ekb_term("Intervention"),
    ekb_term("receives"),
    (
        Field("key", None, kinds.KEY, "needed only when an arm has more than one intervention"),
        Field(
            "agent",
            ekb_term("agent"),
            kinds.CONCEPT,
            "the drug, biologic or placebo: label, synonym or CURIE",
            scheme="agent",
        ),
        Field("agent_text", ekb_term("agentText"), kinds.TEXT, "the agent as the source names it"),
        Field("dose_value", ekb_term("doseValue"), kinds.NONNEG, "amount of one dose"),
        Field(
            "dose_unit",
            ekb_term("doseUnit"),
            kinds.TEXT,
            'UCUM unit of dose_value: "mg", "mg/kg", "[iU]", "g/m2"',
        ),
        Field("dose_text", ekb_term("doseText"), kinds.TEXT, "the dose as printed"),
        Field(
            "route",
            ekb_term("route"),
            kinds.CONCEPT,
            "oral, subcutaneous, intravenous",
            scheme="route",
        ),
        Field("frequency_text", ekb_term("frequencyText"), kinds.TEXT, "how often, as printed"),
        Field(
            "dosing_interval_days",
            ekb_term("dosingIntervalDays"),
            kinds.NONNEG,
            "days between doses (2 = every other day)",
        ),
        Field(
            "cycle_length_days",
            ekb_term("cycleLengthDays"),
            kinds.NONNEG,
            "length of one cycle in days (days on + days off)",
        ),
        Field(
            "days_on_per_cycle",
            ekb_term("daysOnPerCycle"),
            kinds.NONNEG,
            "days of each cycle with the agent",
        ),
        Field(
            "days_off_per_cycle",
            ekb_term("daysOffPerCycle"),
            kinds.NONNEG,
            "days of each cycle without it",
        ),
        Field("number_of_cycles", ekb_term("numberOfCycles"), kinds.CYCLES, "how many cycles"),
        Field("duration_weeks", ekb_term("durationWeeks"), kinds.NONNEG, "weeks of treatment"),
        Field(
            "schedule_text",
            ekb_term("scheduleText"),
            kinds.TEXT,
            "schedule and duration as printed",
        ),
    ),
    "what the arm receives",
)

ARMS = Section(
    "arms",
    "arm",
    ekb_term("Arm"),
    ekb_term("hasArm"),
    (
        key_field("arm"),
        Field(
            "label",
            RDFS_LABEL,
            kinds.TEXT,
            "the arm's name, e.g. voclosporin + MMF + low-dose steroids",
            required=True,
        ),
        Field(
            "role",
            ekb_term("armRole"),
            kinds.CONCEPT,
            "experimental, placebo comparator, active comparator, standard of care, single arm",
            scheme="arm-role",
            required=True,
        ),
        Field("n", ekb_term("n"), kinds.POSITIVE, "participants assigned to the arm"),
        Field(
            "background_therapy",
            ekb_term("backgroundTherapy"),
            kinds.TEXT,
            "therapy given alongside, as printed",
        ),
        Field(
            "held_constant",
            ekb_term("heldConstant"),
            kinds.TEXT,
            "what the protocol kept unchanged (e.g. no steroid increase)",
        ),
    ),
    "groups of participants (one for a single-arm study)",
)

OUTCOMES = Section(
    "outcomes",
    "outcome",
    ekb_term("Outcome"),
    ekb_term("hasOutcome"),
    (
        key_field("outcome"),
        Field(
            "label",
            RDFS_LABEL,
            kinds.TEXT,
            "what was measured, in words, e.g. complete renal response at week 52",
            required=True,
        ),
        Field(
            "concept",
            ekb_term("outcomeConcept"),
            kinds.CONCEPT,
            "the outcome concept: label, synonym or CURIE (e.g. complete renal response)",
            scheme="outcome",
        ),
        Field(
            "role",
            ekb_term("outcomeRole"),
            kinds.CONCEPT,
            "primary, key secondary, secondary, exploratory, post hoc, safety, ...",
            scheme="outcome-role",
        ),
        Field("definition", ekb_term("definition"), kinds.TEXT, "how it was defined, as printed"),
        Field(
            "unit",
            ekb_term("unit"),
            kinds.TEXT,
            'unit of the values (UCUM where possible: "%", "mg/mg")',
        ),
        Field(
            "timepoint_weeks",
            ekb_term("timepointWeeks"),
            kinds.NONNEG,
            "planned timepoint in weeks",
        ),
        Field(
            "timepoint_text",
            ekb_term("timepointText"),
            kinds.TEXT,
            'timepoint as printed ("42 months")',
        ),
    ),
    "what was measured",
)

_STATS: tuple[Field, ...] = (
    Field("mean", ekb_term("mean"), kinds.DECIMAL, "mean (of the change, if change_from_baseline)"),
    Field("sd", ekb_term("sd"), kinds.NONNEG, "standard deviation of that mean"),
    Field("se", ekb_term("se"), kinds.NONNEG, "standard error of that mean"),
    Field("n", ekb_term("n"), kinds.COUNT, "participants analysed for a continuous result"),
    Field("median", ekb_term("median"), kinds.DECIMAL, "median"),
    Field("q1", ekb_term("q1"), kinds.DECIMAL, "first quartile"),
    Field("q3", ekb_term("q3"), kinds.DECIMAL, "third quartile"),
    Field("range_low", ekb_term("rangeLow"), kinds.DECIMAL, "smallest value"),
    Field("range_high", ekb_term("rangeHigh"), kinds.DECIMAL, "largest value"),
)

RESULTS = Section(
    "results",
    "result",
    ekb_term("Result"),
    ekb_term("hasResult"),
    (
        key_field("result"),
        Field("arm", ekb_term("arm"), kinds.REF, "key of the arm", ref="arm", required=True),
        Field(
            "outcome",
            ekb_term("outcome"),
            kinds.REF,
            "key of the outcome",
            ref="outcome",
            required=True,
        ),
        Field(
            "timepoint_weeks",
            ekb_term("timepointWeeks"),
            kinds.NONNEG,
            "weeks from start of treatment",
        ),
        Field("timepoint_text", ekb_term("timepointText"), kinds.TEXT, "timepoint as printed"),
        Field(
            "events",
            ekb_term("events"),
            kinds.COUNT,
            "participants with the event or response (at most total)",
        ),
        Field(
            "total",
            ekb_term("total"),
            kinds.COUNT,
            "participants assessed: the denominator of events",
        ),
        Field(
            "percent",
            ekb_term("percent"),
            kinds.PERCENT,
            "percentage as printed; never back-calculate counts from it",
        ),
        *_STATS,
        Field(
            "change_from_baseline",
            ekb_term("isChangeFromBaseline"),
            kinds.BOOL,
            "true if mean/sd/median describe the change from baseline",
        ),
        Field(
            "percent_change",
            ekb_term("percentChange"),
            kinds.DECIMAL,
            "percent change from baseline (negative for a decrease)",
        ),
        Field(
            "baseline_value",
            ekb_term("baselineValue"),
            kinds.DECIMAL,
            "value at baseline, for a before/after result",
        ),
        Field(
            "follow_up_value",
            ekb_term("followUpValue"),
            kinds.DECIMAL,
            "value at the timepoint, for a before/after result",
        ),
        Field(
            "summary_statistic",
            ekb_term("summaryStatistic"),
            kinds.CONCEPT,
            "which statistic percent_change / baseline_value / follow_up_value are: mean, "
            "median, proportion, not stated",
            scheme="summary-statistic",
        ),
        Field(
            "direction",
            ekb_term("direction"),
            kinds.CONCEPT,
            "increased, decreased, no change (alone when no number was given)",
            scheme="direction",
        ),
        Field("unit", ekb_term("unit"), kinds.TEXT, "unit of the values"),
        Field(
            "subgroup",
            ekb_term("subgroup"),
            kinds.TEXT,
            "subgroup the result is restricted to, as printed",
        ),
        Field(
            "analysis_population",
            ekb_term("analysisPopulation"),
            kinds.TEXT,
            "intention to treat, per protocol, ...",
        ),
        Field(
            "p_value", ekb_term("pValue"), kinds.PROBABILITY, "p-value (0-1) of a within-arm change"
        ),
        Field(
            "p_value_comparator",
            ekb_term("pValueComparator"),
            kinds.COMPARATOR,
            'when printed as a bound ("<0.001"): "<"',
        ),
        Field(
            "reported_significant",
            ekb_term("reportedSignificant"),
            kinds.BOOL,
            "true if called significant without a p-value",
        ),
    ),
    "numbers for one arm, one outcome, one timepoint",
)

COMPARISONS = Section(
    "comparisons",
    "comparison",
    ekb_term("Comparison"),
    ekb_term("hasComparison"),
    (
        key_field("comparison"),
        Field(
            "experimental_arm",
            ekb_term("experimentalArm"),
            kinds.REF,
            "key of the experimental arm",
            ref="arm",
        ),
        Field(
            "comparator_arm",
            ekb_term("comparatorArm"),
            kinds.REF,
            "key of the comparator arm",
            ref="arm",
        ),
        Field(
            "outcome",
            ekb_term("outcome"),
            kinds.REF,
            "key of the outcome",
            ref="outcome",
            required=True,
        ),
        Field(
            "timepoint_weeks",
            ekb_term("timepointWeeks"),
            kinds.NONNEG,
            "weeks from start of treatment",
        ),
        Field("timepoint_text", ekb_term("timepointText"), kinds.TEXT, "timepoint as printed"),
        Field(
            "measure",
            ekb_term("effectMeasure"),
            kinds.CONCEPT,
            "RR, OR, RD, PPD (percentage-point difference), MD, SMD, HR",
            scheme="effect-measure",
        ),
        Field("estimate", ekb_term("estimate"), kinds.DECIMAL, "the point estimate"),
        Field("se", ekb_term("se"), kinds.NONNEG, "standard error of the estimate, as printed"),
        Field(
            "sd",
            ekb_term("sd"),
            kinds.NONNEG,
            "standard deviation given with the estimate (a registry's dispersion)",
        ),
        Field("unit", ekb_term("unit"), kinds.TEXT, "unit of the estimate, for a mean difference"),
        Field(
            "ci_lower", ekb_term("ciLower"), kinds.DECIMAL, "lower bound of the confidence interval"
        ),
        Field(
            "ci_upper", ekb_term("ciUpper"), kinds.DECIMAL, "upper bound of the confidence interval"
        ),
        Field("ci_level", ekb_term("ciLevel"), kinds.LEVEL, "confidence level: 0.95 for a 95% CI"),
        Field("p_value", ekb_term("pValue"), kinds.PROBABILITY, "p-value, 0-1"),
        Field(
            "p_value_comparator",
            ekb_term("pValueComparator"),
            kinds.COMPARATOR,
            'when printed as a bound ("<0.001"): "<"',
        ),
        Field("method", ekb_term("method"), kinds.TEXT, "statistical method or model, as printed"),
        Field(
            "adjusted",
            ekb_term("adjusted"),
            kinds.BOOL,
            "true if adjusted for covariates or strata",
        ),
        Field(
            "direction",
            ekb_term("direction"),
            kinds.CONCEPT,
            "benefit, harm, no clear difference",
            scheme="direction",
        ),
        Field(
            "reported_significant",
            ekb_term("reportedSignificant"),
            kinds.BOOL,
            "true if called significant without a p-value",
        ),
        Field("subgroup", ekb_term("subgroup"), kinds.TEXT, "subgroup, as printed"),
        Field(
            "analysis_population",
            ekb_term("analysisPopulation"),
            kinds.TEXT,
            "intention to treat, per protocol, ...",
        ),
    ),
    "effect estimates between two arms",
)

SAFETY = Section(
    "safety",
    "safety",
    ekb_term("SafetyFinding"),
    ekb_term("hasSafetyFinding"),
    (
        key_field("safety finding"),
        Field("arm", ekb_term("arm"), kinds.REF, "key of the arm", ref="arm", required=True),
        Field(
            "event_term",
            ekb_term("eventTerm"),
            kinds.TEXT,
            'the adverse event: "any serious adverse event", "herpes zoster"',
            required=True,
        ),
        Field(
            "organ_system", ekb_term("organSystem"), kinds.TEXT, "organ system class, as printed"
        ),
        Field(
            "event_vocabulary",
            ekb_term("eventVocabulary"),
            kinds.TEXT,
            'vocabulary of the term, e.g. "MedDRA 19.0"',
        ),
        Field("serious", ekb_term("serious"), kinds.BOOL, "true for serious adverse events"),
        Field(
            "affected",
            ekb_term("affected"),
            kinds.COUNT,
            "participants with the event: 0 = none occurred; leave blank if not reported",
        ),
        Field(
            "at_risk",
            ekb_term("atRisk"),
            kinds.COUNT,
            "participants at risk (the arm's safety population)",
        ),
        Field("event_count", ekb_term("eventCount"), kinds.COUNT, "number of events"),
        Field("percent", ekb_term("percent"), kinds.PERCENT, "percentage affected, as printed"),
        Field(
            "timepoint_text",
            ekb_term("timepointText"),
            kinds.TEXT,
            'when, as printed ("during treatment")',
        ),
        Field(
            "assessment_type",
            ekb_term("assessmentType"),
            kinds.TEXT,
            "systematic or non-systematic, as registered",
        ),
    ),
    "adverse events, per arm",
)

CLAIMS = Section(
    "claims",
    "claim",
    ekb_term("Claim"),
    ekb_term("hasClaim"),
    (
        key_field("claim"),
        Field(
            "statement",
            ekb_term("statement"),
            kinds.TEXT,
            "the claim in words (paraphrased)",
            required=True,
        ),
        Field(
            "type",
            ekb_term("claimType"),
            kinds.CONCEPT,
            "authors' conclusion or extractor's judgement",
            scheme="claim-type",
        ),
        Field(
            "about_intervention",
            ekb_term("aboutIntervention"),
            kinds.CONCEPT,
            "agent(s) it is about",
            multi=True,
            scheme="agent",
        ),
        Field(
            "about_condition",
            ekb_term("aboutCondition"),
            kinds.CONCEPT,
            "condition(s) it is about",
            multi=True,
            scheme="condition",
        ),
        Field(
            "about_outcome",
            ekb_term("aboutOutcome"),
            kinds.CONCEPT,
            "outcome concept(s) it is about",
            multi=True,
            scheme="outcome",
        ),
        Field(
            "direction",
            ekb_term("direction"),
            kinds.CONCEPT,
            "benefit, harm, no clear difference, mixed",
            scheme="direction",
        ),
        Field(
            "supported_by",
            ekb_term("supportedBy"),
            kinds.RECORD_REF,
            "records it rests on: result/KEY, comparison/KEY, safety/KEY",
            multi=True,
        ),
        Field(
            "certainty",
            ekb_term("certainty"),
            kinds.CONCEPT,
            "GRADE certainty: high, moderate, low, very low",
            scheme="certainty",
        ),
        Field(
            "certainty_reasons",
            ekb_term("certaintyReason"),
            kinds.CONCEPT,
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
            kinds.IRI,
            "the new concept's CURIE or IRI, e.g. cond:cutaneous-lupus",
            required=True,
        ),
        Field(
            "label", SKOS + "prefLabel", kinds.TEXT, "its preferred label (English)", required=True
        ),
        Field(
            "scheme",
            SKOS + "inScheme",
            kinds.SCHEME,
            "the scheme it belongs to, e.g. cond: (or condition, agent, outcome)",
            required=True,
        ),
        Field("synonyms", SKOS + "altLabel", kinds.TEXT, "other names (English)", multi=True),
        Field("definition", SKOS + "definition", kinds.TEXT, "what it means (English)"),
        Field(
            "broader", SKOS + "broader", kinds.IRI, "broader concept(s), CURIE or IRI", multi=True
        ),
        Field("notation", SKOS + "notation", kinds.TEXT, "a code for it"),
        Field(
            "exact_match",
            SKOS + "exactMatch",
            kinds.IRI,
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
