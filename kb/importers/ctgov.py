"""Import ClinicalTrials.gov API v2 JSON records as study files.

A record (one study object, or a response ``{"studies": [...]}``) is mapped to an
rdflib graph in the data model of ``docs/DEVELOPING.md``; nothing is invented: every
number is read from the record and carries its provenance (the registry record as an
``ekb:Source`` with the NCT id, URL and version date, and on each record the JSON path
of the value as ``ekb:locator`` and the raw value as ``ekb:printedText``).

Decisions, so that readers of the study files know what they hold:

- Study id: the NCT id in lower case (``nct02210780``), so the file is
  ``studies/nct02210780.ttl`` and the study IRI ``res:study/nct02210780``.
- Locators are JSON paths relative to the study object, as served by
  ``/api/v2/studies/NCTxxxxxxxx`` (a ``{"studies": [...]}`` wrapper is not part of them).
- Arms are the registered ``armGroups``. Every results group (``FG``/``BG``/``OG``/``EG``)
  is resolved within its own module or measure and matched to an arm by title (same
  title; same title apart from numbering such as ``"1 "`` or ``"2. "``; or a title that
  contains exactly one arm's label); the match is written in the record's ``ekb:note``.
  A group that matches no arm becomes an arm of its own (``term:other-arm``), shared by
  all groups with the same title. The baseline group "Total" describes the whole
  population and gets no arm.
- Participant flow: one ``term:disposition`` Outcome per milestone and per withdrawal
  reason of each period, with one Result per group. STARTED gives ``ekb:n``; other
  milestones and withdrawals give ``ekb:events`` with the group's STARTED count as
  ``ekb:total``.
- Outcome measures: one Outcome per posted measure; one Result per group, class and
  category (titles of classes and categories go to ``ekb:subgroup``); class-level
  denominators override measure-level ones. Counts become events/total, "percentage of
  participants" numbers become percent/total, means take SD or SE, medians take IQR or
  range; least-squares means are ``ekb:modelBased``; geometric means and other numbers
  go to ``ekb:followUpValue`` with their ``ekb:summaryStatistic``. Per-group confidence
  intervals have no property in the data model and are kept in the printed text and a
  note. Registered outcomes (``outcomesModule``) are matched to posted measures by title;
  unmatched ones become Outcomes without results.
- Statistical analyses become Comparisons; adverse events become SafetyFindings per
  event group: one per event term, plus the group totals (all-cause mortality, any
  serious, any other adverse event). A count of 0 is written as 0; a count the record
  does not give is absent.
- Values that are not numbers ("NA") are kept in ``ekb:printedText`` with their comment
  in ``ekb:note`` and never stop the import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths as kb_paths
from kb.errors import CouldNotRun, KbError

if TYPE_CHECKING:
    from rdflib import Graph, URIRef

#: Who extracted the records, written as ``ekb:extractedBy`` (no date: imports are idempotent).
EXTRACTED_BY = "evidence-kb ClinicalTrials.gov importer"

_RESULTS = "resultsSection"


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~=])")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_NCT = re.compile(r"^NCT\d{8}$")


def unescape_markup(text: str) -> str:
    """Undo the Markdown escaping of v2 ``markup`` fields.

    >>> unescape_markup(r"fasting glucose \\<126 mg/dl, \\[IGA=3\\]")
    'fasting glucose <126 mg/dl, [IGA=3]'
    """
    return _MD_ESCAPE.sub(r"\1", text)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = unescape_markup(str(value)).strip()
    return text or None


def parse_decimal(raw: Any) -> Decimal | None:
    """A registry value as a decimal, or ``None`` when it is not a plain number ("NA").

    >>> parse_decimal("19.63"), parse_decimal(".33"), parse_decimal("NA"), parse_decimal(5)
    (Decimal('19.63'), Decimal('0.33'), None, Decimal('5'))
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = str(raw).strip()
    if not _NUMBER.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if text.startswith(".") or text.startswith("-.") or text.startswith("+."):
        value = Decimal(text.replace(".", "0.", 1))
    return value


def parse_count(raw: Any) -> int | None:
    """A non-negative whole number, or ``None``.

    >>> parse_count("97"), parse_count(0), parse_count("2.5"), parse_count("NA")
    (97, 0, None, None)
    """
    value = parse_decimal(raw)
    if value is None or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def slugify(text: str, fallback: str = "x") -> str:
    """A readable IRI key: ASCII, lower case, words joined by ``-``.

    >>> slugify("Dupilumab 300 mg qw"), slugify("Sjögren's syndrome")
    ('dupilumab-300-mg-qw', 'sjogren-s-syndrome')
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rstrip("-")
    return slug or fallback


def concept_key(label: str) -> str:
    """The local name of a concept declared for ``label``: its slug, made unique when cut short.

    >>> concept_key("Atopic Dermatitis"), concept_key("≥50% reduction")
    ('atopic-dermatitis', '50-reduction-7e18ec9e')
    >>> len(concept_key("Percentage of Participants With a Positive Response at Week 16 or 24"))
    60
    """
    import hashlib

    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    whole = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "concept"
    lossy = len(whole) > 60 or re.search(r"[<>=+]", label) or ascii_text != label
    if not lossy:
        return whole
    # A slug loses symbols ("≥", "<") and is cut at 60 characters: a hash of the whole
    # label keeps apart concepts whose slugs would otherwise be the same.
    folded = " ".join(unicodedata.normalize("NFKC", label).casefold().split())
    digest = hashlib.sha1(folded.encode("utf-8")).hexdigest()[:8]
    return f"{whole[:51].rstrip('-')}-{digest}"


def normalise_label(text: str) -> str:
    """Case, punctuation and spacing folded away, for matching labels.

    >>> normalise_label("  Lupus   Nephritis ") == normalise_label("lupus-nephritis")
    True
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


_ENUMERATION = re.compile(r"^(?:\d+|[a-z])(?:[.):]\s*|\s+)(?=\S)")


def _strip_enumeration(norm: str) -> str:
    # "1 placebo" and "2 repaglinide" (from "2. Repaglinide") lose their numbering.
    return _ENUMERATION.sub("", norm, count=1)


def _concept_label(text: str) -> str:
    # Vocabulary labels are lower case; keep words that are not simply capitalised
    # (acronyms such as "IgA", "HIV", "GET73") as they are.
    words = []
    for word in text.split():
        if len(word) > 1 and word[0].isupper() and word[1:] == word[1:].lower():
            words.append(word.lower())
        else:
            words.append(word)
    return " ".join(words)


def _norm_enum(value: Any) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", str(value or "").upper()).strip("_")


_WEEK_NUMBER = re.compile(r"\bweeks?\s*(\d+(?:\.\d+)?)\b|\b(\d+(?:\.\d+)?)[\s-]*weeks?\b")
_ANY_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_weeks(time_frame: str | None) -> Decimal | None:
    """Weeks from a time frame that names exactly one week and no other number.

    >>> parse_weeks("Week 16"), parse_weeks("Baseline to Week 16"), parse_weeks("Weeks 4, 8 and 16")
    (Decimal('16'), Decimal('16'), None)
    >>> parse_weeks("2 year/end of study") is None
    True
    """
    if not time_frame:
        return None
    text = time_frame.casefold()
    weeks = {a or b for a, b in _WEEK_NUMBER.findall(text)}
    numbers = set(_ANY_NUMBER.findall(text))
    if len(weeks) == 1 and numbers == weeks:
        return Decimal(weeks.pop())
    return None


def _date_literal(text: str | None):  # type: ignore[no-untyped-def]
    from rdflib import Literal
    from rdflib.namespace import XSD

    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return Literal(text, datatype=XSD.date)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    return None


def study_id_for(nct_id: str) -> str:
    """The local study id of a registry record: the NCT id in lower case.

    >>> study_id_for("NCT02210780")
    'nct02210780'
    """
    return nct_id.strip().lower()


# --------------------------------------------------------------------------------------
# reading files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRef:
    """One study object read from a file: where it came from and its NCT id."""

    path: Path
    index: int | None  # position in a {"studies": [...]} response, None for a bare study
    nct_id: str
    record: dict[str, Any] = field(repr=False, compare=False)

    @property
    def origin(self) -> str:
        return str(self.path) if self.index is None else f"{self.path} (studies[{self.index}])"


def nct_id_of(record: Any) -> str | None:
    """The NCT id of a v2 study object, or ``None`` when it is not one."""
    if not isinstance(record, dict):
        return None
    ident = (record.get("protocolSection") or {}).get("identificationModule") or {}
    nct = ident.get("nctId") if isinstance(ident, dict) else None
    if isinstance(nct, str) and _NCT.match(nct.strip()):
        return nct.strip()
    return None


def read_records(path: Path) -> list[RecordRef]:
    """The study objects in one JSON file (a bare study, or ``{"studies": [...]}``).

    :raises CouldNotRun: the file cannot be read, is not JSON, or holds no study.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    from kb.safe_load import load_json

    try:
        data = load_json(raw.decode("utf-8-sig"))  # kb.safe_load: finite, bounded
    except UnicodeDecodeError as exc:
        raise CouldNotRun(f"{path}: not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise CouldNotRun(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if isinstance(data, dict) and "studies" in data and "protocolSection" not in data:
        studies = data["studies"]
        if not isinstance(studies, list) or not studies:
            raise CouldNotRun(f"{path}: not a ClinicalTrials.gov study: 'studies' holds no study")
        refs = []
        for i, study in enumerate(studies):
            nct = nct_id_of(study)
            if nct is None:
                raise CouldNotRun(
                    f"{path}: not a ClinicalTrials.gov study: studies[{i}] has no "
                    "protocolSection.identificationModule.nctId"
                )
            refs.append(RecordRef(Path(path), i, nct, study))
        return refs
    nct = nct_id_of(data)
    if nct is None:
        raise CouldNotRun(
            f"{path}: not a ClinicalTrials.gov study: no protocolSection.identificationModule.nctId"
        )
    return [RecordRef(Path(path), None, nct, data)]


def input_files(paths: Iterable[Path]) -> list[Path]:
    """Files named on the command line, with folders expanded to their ``*.json`` (recursive).

    :raises UsageError: a path does not exist, or a folder holds no JSON file.
    """
    return kb_paths.expand_inputs(
        paths,
        lambda folder: sorted(f for f in folder.rglob("*.json") if f.is_file()),
        "folder holds no .json file",
    )


# --------------------------------------------------------------------------------------
# concepts
# --------------------------------------------------------------------------------------


class ConceptIndex:
    """Labels (``skos:prefLabel``/``skos:altLabel``) of condition, agent and outcome concepts."""

    def __init__(self, graph: Graph | None = None) -> None:
        from rdflib import URIRef
        from rdflib.namespace import SKOS

        from kb.namespaces import AGENT, COND, OUTC

        self.schemes = {"condition": URIRef(COND), "agent": URIRef(AGENT), "outcome": URIRef(OUTC)}
        self._labels: dict[str, dict[str, set[URIRef]]] = {k: {} for k in self.schemes}
        self.known: set[URIRef] = set()
        if graph is None:
            return
        by_scheme = {v: k for k, v in self.schemes.items()}
        for concept, scheme in graph.subject_objects(SKOS.inScheme):
            kind = by_scheme.get(scheme)  # type: ignore[call-overload]
            if kind is None or not isinstance(concept, URIRef):
                continue
            self.known.add(concept)
            for prop in (SKOS.prefLabel, SKOS.altLabel):
                for label in graph.objects(concept, prop):
                    self._labels[kind].setdefault(normalise_label(str(label)), set()).add(concept)

    @classmethod
    def from_kb(cls, kb_dir: Path | None) -> ConceptIndex:
        """The shipped vocabularies plus the knowledge base's own ``vocab/``."""
        from rdflib import Graph

        from kb import paths

        graph = Graph()
        kb = kb_dir if kb_dir is not None else paths.default_kb_dir()
        for f in paths.kb_vocab_files(kb):
            try:
                graph.parse(f, format="turtle")
            except Exception as exc:  # rdflib raises many types for bad Turtle
                raise CouldNotRun(f"{f}: could not parse Turtle: {exc}") from exc
        return cls(graph)

    def find(self, kind: str, *labels: str) -> URIRef | None:
        """The one concept of ``kind`` whose label matches one of ``labels`` (in order)."""
        for label in labels:
            hits = self._labels[kind].get(normalise_label(label), set())
            if len(hits) == 1:
                return next(iter(hits))
        return None


# --------------------------------------------------------------------------------------
# mapping
# --------------------------------------------------------------------------------------


@dataclass
class ImportedStudy:
    """A record mapped to a graph, with counts for reports."""

    study_id: str
    nct_id: str
    graph: Graph
    counts: dict[str, int]
    origin: str = ""


_ARM_ROLES = {
    "EXPERIMENTAL": "experimental",
    "PLACEBO_COMPARATOR": "placebo-comparator",
    "SHAM_COMPARATOR": "placebo-comparator",
    "ACTIVE_COMPARATOR": "active-comparator",
    "NO_INTERVENTION": "standard-of-care",
    "OTHER": "other-arm",
}
_COMPARATOR_ROLES = {"placebo-comparator", "active-comparator", "standard-of-care"}
_OUTCOME_ROLES = {
    "PRIMARY": "primary",
    "SECONDARY": "secondary",
    "OTHER_PRE_SPECIFIED": "exploratory",
    "POST_HOC": "post-hoc",
}
_REGISTERED_OUTCOMES = (
    ("primaryOutcomes", "primary", "primary"),
    ("secondaryOutcomes", "secondary", "secondary"),
    ("otherOutcomes", "other", "exploratory"),
)
_MASKING = {
    "NONE": "open-label",
    "SINGLE": "single-blind",
    "DOUBLE": "double-blind",
    "TRIPLE": "double-blind",
    "QUADRUPLE": "double-blind",
}
_INTERVENTION_TYPES = {
    "DRUG": "Drug",
    "DEVICE": "Device",
    "BIOLOGICAL": "Biological",
    "PROCEDURE": "Procedure",
    "RADIATION": "Radiation",
    "BEHAVIORAL": "Behavioral",
    "GENETIC": "Genetic",
    "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "COMBINATION_PRODUCT": "Combination Product",
    "DIAGNOSTIC_TEST": "Diagnostic Test",
    "OTHER": "Other",
}


def _effect_measure(param_type: str) -> str:
    """The effect-measure concept (local name under ``term:``) for an analysis ``paramType``."""
    t = param_type.casefold()
    if "odds ratio" in t or re.search(r"\bor\b", t):
        return "odds-ratio"
    if "hazard ratio" in t or re.search(r"\bhr\b", t):
        return "hazard-ratio"
    if "risk ratio" in t or "relative risk" in t or re.search(r"\brr\b", t):
        return "risk-ratio"
    if "risk difference" in t or re.search(r"\brd\b", t):
        return "risk-difference"
    if "percentage difference" in t or "difference in percentage" in t or "percent difference" in t:
        return "percentage-point-difference"
    if "standardized mean difference" in t or "standardised mean difference" in t:
        return "standardised-mean-difference"
    if "mean difference" in t or "mean change difference" in t:
        return "mean-difference"
    if "correlation" in t:
        return "correlation-coefficient"
    return "other-measure"


_P_VALUE = re.compile(r"^\s*(<=|>=|≤|≥|<|>|=)?\s*(\d*\.?\d+(?:[eE][+-]?\d+)?)\s*$")


def parse_p_value(text: str | None) -> tuple[Decimal | None, str | None]:
    """A printed p-value as (value, comparator).

    >>> parse_p_value("<0.0001"), parse_p_value("0.032"), parse_p_value("NA")
    ((Decimal('0.0001'), '<'), (Decimal('0.032'), None), (None, None))
    """
    if not text:
        return None, None
    m = _P_VALUE.match(str(text))
    if not m:
        return None, None
    comparator = {"≤": "<=", "≥": ">=", "=": None}.get(m.group(1) or "", m.group(1) or None)
    value = parse_decimal(m.group(2))
    if value is None or not (0 <= value <= 1):
        return None, None
    return value, comparator


@dataclass(frozen=True)
class _Cell:
    """One measurement of a results measure, where it sits and what it is out of."""

    c: int
    k: int
    meas: dict[str, Any]
    path: str
    denoms: dict[str, tuple[str, str]]
    units: str | None
    class_title: str | None
    category_title: str | None


class _Mapper:
    """Maps one v2 study object to a graph; one instance per record."""

    def __init__(self, record: dict[str, Any], concepts: ConceptIndex) -> None:
        from rdflib import Graph, URIRef

        from kb.namespaces import PREFIXES, RES

        self.r = record
        self.concepts = concepts
        nct = nct_id_of(record)
        if nct is None:
            raise CouldNotRun("not a ClinicalTrials.gov study: no nctId")
        self.nct = nct
        self.study_id = study_id_for(nct)
        self.base = f"{RES}study/{self.study_id}"
        self.g = Graph()
        for prefix, iri in PREFIXES.items():
            self.g.bind(prefix, iri)
        self.study = URIRef(self.base)
        self.source = URIRef(f"{self.base}/source/ctgov")
        self.population = URIRef(f"{self.base}/population")
        self.notes: dict[URIRef, list[str]] = {}
        self.counts = {
            k: 0 for k in ("arms", "outcomes", "results", "comparisons", "safety", "baseline")
        }
        # arms: (label, normalised label, label without numbering, IRI, role)
        self.arms: list[tuple[str, str, str, URIRef, str]] = []
        self.arm_keys: set[str] = set()
        self.group_arms: dict[str, tuple[URIRef, str]] = {}
        self.declared: set[URIRef] = set()

    # -- generic writers -----------------------------------------------------------

    def iri(self, *parts: str) -> URIRef:
        from rdflib import URIRef

        return URIRef("/".join([self.base, *parts]))

    def add(self, s: URIRef, p: Any, o: Any) -> None:
        if o is not None:
            self.g.add((s, p, o))

    def lit(self, s: URIRef, p: Any, value: Any, datatype: Any = None) -> None:
        from rdflib import Literal
        from rdflib.namespace import XSD

        if value is None:
            return
        if isinstance(value, bool):
            self.g.add((s, p, Literal(value)))
        elif isinstance(value, int):
            self.g.add((s, p, Literal(value, datatype=datatype or XSD.integer)))
        elif isinstance(value, Decimal):
            # Plain decimal notation with a point ("12.0"), as the data model writes decimals.
            lexical = format(value, "f")
            if "." not in lexical:
                lexical += ".0"
            self.g.add((s, p, Literal(lexical, datatype=XSD.decimal)))
        else:
            text = str(value)
            if text.strip():
                self.g.add((s, p, Literal(text, datatype=datatype) if datatype else Literal(text)))

    def note(self, node: URIRef, text: str | None) -> None:
        if text:
            # Quoted registry text often ends with its own full stop.
            text = re.sub(r"([.!?])\.$", r"\1", text.strip())
            self.notes.setdefault(node, []).append(text)

    def record(
        self, node: URIRef, cls: Any, locator: str | None, printed: str | None = None
    ) -> None:
        from rdflib.namespace import RDF

        from kb.namespaces import EKB

        self.g.add((node, RDF.type, cls))
        self.g.add((node, EKB.source, self.source))
        self.lit(node, EKB.locator, locator)
        self.lit(node, EKB.printedText, printed)
        self.lit(node, EKB.extractedBy, EXTRACTED_BY)

    def flush_notes(self) -> None:
        from kb.namespaces import EKB

        for node, texts in self.notes.items():
            unique = list(dict.fromkeys(texts))
            self.lit(node, EKB.note, " ".join(unique))

    def term(self, local: str) -> URIRef:
        from rdflib import URIRef

        from kb.namespaces import TERM

        return URIRef(f"{TERM}{local}")

    def concept(self, kind: str, label: str, *alternatives: str) -> URIRef:
        """A vocabulary concept matching ``label``, or a new one declared in this file."""
        from rdflib import Literal, URIRef
        from rdflib.namespace import RDF, SKOS

        found = self.concepts.find(kind, label, *alternatives)
        if found is not None:
            return found
        scheme = self.concepts.schemes[kind]
        iri = URIRef(f"{scheme}{concept_key(label)}")
        if iri in self.concepts.known or iri in self.declared:
            return iri
        self.declared.add(iri)
        self.g.add((iri, RDF.type, SKOS.Concept))
        self.g.add((iri, SKOS.prefLabel, Literal(_concept_label(label), lang="en")))
        self.g.add((iri, SKOS.inScheme, scheme))
        return iri

    # -- sections --------------------------------------------------------------------

    def protocol(self, module: str) -> dict[str, Any]:
        value = (self.r.get("protocolSection") or {}).get(module) or {}
        return value if isinstance(value, dict) else {}

    def results(self, module: str) -> dict[str, Any]:
        value = (self.r.get(_RESULTS) or {}).get(module) or {}
        return value if isinstance(value, dict) else {}

    def map(self) -> ImportedStudy:
        self.map_source()
        self.map_study()
        self.map_population()
        self.map_arms()
        posted = self.map_outcome_measures()
        self.map_registered_outcomes(posted)
        self.map_participant_flow()
        self.map_baseline()
        self.map_adverse_events()
        self.fallback_arm()
        self.flush_notes()
        return ImportedStudy(self.study_id, self.nct, self.g, dict(self.counts))

    def map_source(self) -> None:
        from rdflib import Literal
        from rdflib.namespace import RDF, XSD

        from kb.namespaces import EKB, SRCTYPE

        s = self.source
        self.g.add((s, RDF.type, EKB.Source))
        self.lit(s, EKB.title, f"ClinicalTrials.gov record {self.nct}")
        self.g.add((s, EKB.sourceType, SRCTYPE["registry-record"]))
        self.g.add(
            (
                s,
                EKB.url,
                Literal(f"https://clinicaltrials.gov/study/{self.nct}", datatype=XSD.anyURI),
            )
        )
        misc = (self.r.get("derivedSection") or {}).get("miscInfoModule") or {}
        version = misc.get("versionHolder")
        if isinstance(version, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
            self.g.add((s, EKB.versionDate, Literal(version, datatype=XSD.date)))
        status = self.protocol("statusModule")
        last = (status.get("lastUpdatePostDateStruct") or {}).get("date")
        if last:
            self.note(s, f"Last update posted on ClinicalTrials.gov: {last}.")
        self.note(
            s,
            "Imported from the ClinicalTrials.gov API v2 JSON record; locators are JSON paths "
            "within the study object.",
        )

    def map_study(self) -> None:
        from rdflib import Literal
        from rdflib.namespace import XSD

        from kb.namespaces import DESIGN, EKB

        s = self.study
        ident = self.protocol("identificationModule")
        status = self.protocol("statusModule")
        design = self.protocol("designModule")
        self.record(s, EKB.Study, "protocolSection.identificationModule")
        self.lit(s, EKB.studyId, self.study_id)
        self.lit(s, EKB.registrationId, self.nct)
        title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle")) or self.nct
        self.lit(s, EKB.title, title)
        official = _text(ident.get("officialTitle"))
        if official and official != title:
            self.note(s, f"Official title: {official}.")
        acronym = _text(ident.get("acronym"))
        if acronym:
            self.note(s, f"Acronym: {acronym}.")
        for other in ident.get("secondaryIdInfos") or []:
            if isinstance(other, dict) and other.get("id"):
                kind = other.get("type")
                self.note(s, f"Secondary id: {other['id']}" + (f" ({kind})." if kind else "."))
        self.add(s, EKB.reportedIn, self.source)
        posted = (status.get("resultsFirstPostDateStruct") or {}).get("date") or (
            status.get("studyFirstPostDateStruct") or {}
        ).get("date")
        if isinstance(posted, str) and re.match(r"\d{4}", posted):
            self.g.add((s, EKB.year, Literal(posted[:4], datatype=XSD.gYear)))
        self.lit(s, EKB.status, _text(status.get("overallStatus")))
        self.add(s, EKB.startDate, _date_literal((status.get("startDateStruct") or {}).get("date")))
        self.add(
            s,
            EKB.completionDate,
            _date_literal((status.get("completionDateStruct") or {}).get("date")),
        )

        info = design.get("designInfo") or {}
        study_type = _norm_enum(design.get("studyType"))
        allocation = _norm_enum(info.get("allocation"))
        model = _norm_enum(info.get("interventionModel"))
        obs_model = _norm_enum(info.get("observationalModel"))
        arm_groups = self.protocol("armsInterventionsModule").get("armGroups") or []
        concept = None
        if study_type == "INTERVENTIONAL":
            if model == "SINGLE_GROUP" or (len(arm_groups) == 1 and allocation != "RANDOMIZED"):
                concept = "single-arm-trial"
            elif allocation == "RANDOMIZED":
                concept = "randomised-controlled-trial"
            elif allocation == "NON_RANDOMIZED" or len(arm_groups) > 1:
                concept = "non-randomised-controlled-trial"
                if allocation != "NON_RANDOMIZED":
                    self.note(
                        s,
                        f"Allocation registered as {info.get('allocation') or 'nothing'} "
                        "with several arms: recorded as non-randomised.",
                    )
        elif study_type == "EXPANDED_ACCESS":
            concept = "case-series"
            self.note(s, "An expanded-access record: recorded as a case series.")
        elif study_type == "OBSERVATIONAL":
            concept = (
                "cohort" if obs_model in {"COHORT", "NATURAL_HISTORY"} else "observational-analysis"
            )
        if concept:
            self.g.add((s, EKB.design, DESIGN[concept]))
        self.single_arm = concept == "single-arm-trial"
        parts = [p for p in (design.get("studyType"),) if p]
        for key, label in (
            ("allocation", "allocation"),
            ("interventionModel", "model"),
            ("observationalModel", "observational model"),
            ("timePerspective", "time perspective"),
            ("primaryPurpose", "purpose"),
        ):
            if info.get(key):
                parts.append(f"{label} {info[key]}")
        masking = info.get("maskingInfo") or {}
        if masking.get("masking"):
            who = ", ".join(str(w) for w in masking.get("whoMasked") or [])
            parts.append(f"masking {masking['masking']}" + (f" ({who})" if who else ""))
        if parts:
            self.lit(s, EKB.designText, "; ".join(str(p) for p in parts))
        mask = _norm_enum(masking.get("masking"))
        masked = {_norm_enum(w) for w in masking.get("whoMasked") or []}
        blinding = _MASKING.get(mask)
        if mask == "SINGLE" and masked == {"OUTCOMES_ASSESSOR"}:
            blinding = "blinded-assessment"
        if blinding:
            self.g.add((s, EKB.blinding, self.term(blinding)))
        phases = [p for p in design.get("phases") or [] if _norm_enum(p) not in {"NA", ""}]
        if phases:
            labels = [
                _norm_enum(p).replace("EARLY_PHASE", "early ").replace("PHASE", "") for p in phases
            ]
            self.lit(s, EKB.phase, "/".join(labels))
        countries = sorted(
            {
                str(loc["country"])
                for loc in self.protocol("contactsLocationsModule").get("locations") or []
                if isinstance(loc, dict) and loc.get("country")
            }
        )
        for country in countries:
            self.lit(s, EKB.country, country)
        sponsors = self.protocol("sponsorCollaboratorsModule")
        lead = (sponsors.get("leadSponsor") or {}).get("name")
        if lead:
            funding = f"lead sponsor: {lead}"
            collaborators = [
                c.get("name") for c in sponsors.get("collaborators") or [] if c.get("name")
            ]
            if collaborators:
                funding += "; collaborators: " + "; ".join(str(c) for c in collaborators)
            self.lit(s, EKB.funding, funding)
        self.add(s, EKB.hasPopulation, self.population)

    def map_population(self) -> None:
        from kb.namespaces import EKB

        p = self.population
        design = self.protocol("designModule")
        enrolment = design.get("enrollmentInfo") or {}
        self.record(
            p,
            EKB.Population,
            "protocolSection.designModule.enrollmentInfo.count",
            _text(enrolment.get("count")),
        )
        count = parse_count(enrolment.get("count"))
        kind = _norm_enum(enrolment.get("type"))
        if count is not None and kind in {"ACTUAL", ""}:
            self.lit(p, EKB.enrolled, count)
        elif count is not None:
            self.note(
                p,
                f"Enrolment {count} is registered as {enrolment.get('type')}, not actual; "
                "ekb:enrolled is left absent.",
            )
        conditions = [
            c for c in self.protocol("conditionsModule").get("conditions") or [] if _text(c)
        ]
        for c in conditions:
            self.add(p, EKB.condition, self.concept("condition", _text(c) or ""))
        if conditions:
            self.lit(p, EKB.conditionText, "; ".join(_text(c) or "" for c in conditions))
        elig = self.protocol("eligibilityModule")
        lines = []
        if _text(elig.get("eligibilityCriteria")):
            lines.append(_text(elig.get("eligibilityCriteria")))
        limits = []
        if elig.get("minimumAge") or elig.get("maximumAge"):
            limits.append(
                f"ages {elig.get('minimumAge', 'any')} to {elig.get('maximumAge', 'any')}"
            )
        if elig.get("sex"):
            limits.append(f"sex {elig['sex']}")
        if "healthyVolunteers" in elig:
            limits.append(
                "healthy volunteers "
                + ("accepted" if elig["healthyVolunteers"] else "not accepted")
            )
        if _text(elig.get("studyPopulation")):
            limits.append(f"study population: {_text(elig.get('studyPopulation'))}")
        if limits:
            lines.append("Registered limits: " + "; ".join(limits) + ".")
        if lines:
            self.lit(p, EKB.eligibility, "\n\n".join(str(x) for x in lines))

    # -- arms and interventions ----------------------------------------------------------

    def _new_arm_key(self, label: str, prefix: str = "") -> str:
        base = prefix + slugify(label, "arm")
        key, n = base, 2
        while key in self.arm_keys:
            key, n = f"{base}-{n}", n + 1
        self.arm_keys.add(key)
        return key

    def map_arms(self) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.protocol("armsInterventionsModule")
        groups = [a for a in module.get("armGroups") or [] if isinstance(a, dict)]
        interventions = [i for i in module.get("interventions") or [] if isinstance(i, dict)]
        used: set[int] = set()
        for i, arm in enumerate(groups):
            label = _text(arm.get("label")) or f"arm {i + 1}"
            key = self._new_arm_key(label)
            node = self.iri("arm", key)
            role = _ARM_ROLES.get(_norm_enum(arm.get("type")), "other-arm")
            if self.single_arm and len(groups) == 1 and role == "experimental":
                role = "single-arm"
            path = f"protocolSection.armsInterventionsModule.armGroups[{i}]"
            self.record(node, EKB.Arm, path, _text(arm.get("description")))
            self.lit(node, RDFS.label, label)
            self.add(node, EKB.armRole, self.term(role))
            if arm.get("type"):
                self.note(node, f"Registered arm type: {arm['type']}.")
            self.add(self.study, EKB.hasArm, node)
            self.counts["arms"] += 1
            norm = normalise_label(label)
            self.arms.append((label, norm, _strip_enumeration(norm), node, role))
            # Interventions: by "Type: Name" in the arm, or by the arm's label in the intervention.
            names = [n for n in arm.get("interventionNames") or [] if isinstance(n, str)]
            linked: list[tuple[int | None, str]] = []
            for name in names:
                bare = name.split(":", 1)[1].strip() if ":" in name else name.strip()
                hit = next(
                    (
                        j
                        for j, iv in enumerate(interventions)
                        if normalise_label(str(iv.get("name", ""))) == normalise_label(bare)
                    ),
                    None,
                )
                linked.append((hit, bare))
            for j, iv in enumerate(interventions):
                labels = {normalise_label(str(x)) for x in iv.get("armGroupLabels") or []}
                if norm in labels and all(hit != j for hit, _ in linked):
                    linked.append((j, str(iv.get("name", ""))))
            linked.sort(key=lambda t: (t[0] is None, t[0] if t[0] is not None else 0, t[1]))
            for hit, name in linked:
                if hit is not None:
                    used.add(hit)
                if len(linked) == 1:
                    iv_node = self.iri("arm", key, "intervention")
                else:
                    iv_node = self.iri("arm", key, "intervention", slugify(name, "intervention"))
                self.map_intervention(
                    iv_node, interventions[hit] if hit is not None else None, hit, name, path
                )
                self.add(node, EKB.receives, iv_node)
            if role == "experimental" and self._receives_only_placebo(node):
                # Registries do call placebo arms EXPERIMENTAL (NCT02210780 does); a
                # comparison would otherwise have no comparator. The registered type stays
                # in the note.
                role = "placebo-comparator"
                self.g.remove((node, EKB.armRole, None))
                self.add(node, EKB.armRole, self.term(role))
                self.note(
                    node,
                    "The arm receives only placebo: taken as the placebo comparator.",
                )
                self.arms[-1] = (label, norm, _strip_enumeration(norm), node, role)
        for j, iv in enumerate(interventions):
            if j not in used:
                kind = _INTERVENTION_TYPES.get(
                    _norm_enum(iv.get("type")), str(iv.get("type") or "Intervention")
                )
                self.note(
                    self.study,
                    f"Registered intervention '{kind}: {_text(iv.get('name'))}' "
                    f"(protocolSection.armsInterventionsModule.interventions[{j}]) is linked "
                    "to no arm group.",
                )

    def _receives_only_placebo(self, arm: URIRef) -> bool:
        from kb.namespaces import AGENT, EKB

        agents = {self.g.value(iv, EKB.agent) for iv in self.g.objects(arm, EKB.receives)}
        return agents == {AGENT["placebo"]}

    def fallback_arm(self) -> None:
        """One arm for all participants when the record names no arm and no results group."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        if (self.study, EKB.hasArm, None) in self.g:
            return
        node = self.iri("arm", "all-participants")
        self.record(node, EKB.Arm, "protocolSection.armsInterventionsModule")
        self.lit(node, RDFS.label, "all participants")
        self.add(node, EKB.armRole, self.term("single-arm" if self.single_arm else "other-arm"))
        self.note(
            node,
            "The record registers no arm group and no results group; this arm stands "
            "for all participants.",
        )
        self.add(self.study, EKB.hasArm, node)
        self.counts["arms"] += 1
        module = self.protocol("armsInterventionsModule")
        interventions = [i for i in module.get("interventions") or [] if isinstance(i, dict)]
        for j, iv in enumerate(interventions):
            name = _text(iv.get("name")) or f"intervention {j + 1}"
            if len(interventions) == 1:
                iv_node = self.iri("arm", "all-participants", "intervention")
            else:
                iv_node = self.iri("arm", "all-participants", "intervention", slugify(name))
            self.map_intervention(iv_node, iv, j, name, "protocolSection.armsInterventionsModule")
            self.add(node, EKB.receives, iv_node)

    def map_intervention(
        self, node: URIRef, iv: dict[str, Any] | None, index: int | None, name: str, arm_path: str
    ) -> None:
        from kb.namespaces import EKB

        if iv is None:
            self.record(node, EKB.Intervention, f"{arm_path}.interventionNames", name)
            self.add(node, EKB.agent, self.concept("agent", name))
            self.lit(node, EKB.agentText, name)
            self.note(node, "Named by the arm group but not among the registered interventions.")
            return
        path = f"protocolSection.armsInterventionsModule.interventions[{index}]"
        self.record(node, EKB.Intervention, path, _text(iv.get("description")))
        real_name = _text(iv.get("name")) or name
        others = [_text(o) for o in iv.get("otherNames") or [] if _text(o)]
        self.add(node, EKB.agent, self.concept("agent", real_name, *[o for o in others if o]))
        self.lit(
            node,
            EKB.agentText,
            real_name + (f" (other names: {', '.join(o for o in others if o)})" if others else ""),
        )
        if iv.get("type"):
            self.note(node, f"Registered intervention type: {iv['type']}.")

    def arm_for_group(self, title: str | None, group_id: str, path: str) -> tuple[URIRef, str]:
        """The arm of a results group, matched by title; a new arm when none matches."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        label = _text(title) or group_id
        norm = normalise_label(label)
        if norm in self.group_arms:
            return self.group_arms[norm]
        stripped = _strip_enumeration(norm)
        found: tuple[URIRef, str] | None = None
        tiers = (
            ("has the same title as", lambda a: a[1] == norm),
            ("has the same title, apart from numbering, as", lambda a: a[2] == stripped),
            (
                "has a title that contains the label of",
                lambda a: (
                    bool(a[2]) and re.search(rf"(^| ){re.escape(a[2])}( |$)", stripped) is not None
                ),
            ),
        )
        for how, test in tiers:
            hits = [a for a in self.arms if test(a)]
            if len(hits) == 1:
                found = (hits[0][3], f"matched to arm '{hits[0][0]}' ({how} the arm)")
                break
            if len(hits) > 1:
                break
        if found is None:
            key = self._new_arm_key(label, "group-")
            node = self.iri("arm", key)
            self.record(node, EKB.Arm, path, label)
            self.lit(node, RDFS.label, label)
            self.add(node, EKB.armRole, self.term("other-arm"))
            self.note(
                node,
                f"A results group that matches no registered arm group by title; kept as "
                f"its own arm (first seen at {path}).",
            )
            self.add(self.study, EKB.hasArm, node)
            self.counts["arms"] += 1
            found = (node, "matched to no registered arm group; kept as its own arm")
        self.group_arms[norm] = found
        return found

    def resolve_groups(
        self, groups: Any, path: str, *, total_is_population: bool = False
    ) -> dict[str, tuple[URIRef | None, str]]:
        """Group id -> (arm, or None for the whole population; match note), in one module."""
        resolved: dict[str, tuple[URIRef | None, str]] = {}
        for i, group in enumerate(groups or []):
            if not isinstance(group, dict) or not group.get("id"):
                continue
            gid = str(group["id"])
            title = _text(group.get("title")) or gid
            if total_is_population and normalise_label(title) == "total":
                resolved[gid] = (None, f"Group {gid} '{title}' is the whole population.")
                continue
            arm, how = self.arm_for_group(title, gid, f"{path}[{i}]")
            resolved[gid] = (arm, f"Group {gid} '{title}' {how}.")
        return resolved

    def group(
        self, resolved: dict[str, tuple[URIRef | None, str]], gid: str, path: str
    ) -> tuple[URIRef | None, str]:
        if gid in resolved:
            return resolved[gid]
        # A group id used but not declared in this measure: kept, never dropped.
        arm, how = self.arm_for_group(None, gid, path)
        resolved[gid] = (arm, f"Group {gid} is not declared in this measure's groups; {how}.")
        return resolved[gid]

    def measurements(
        self, measure: dict[str, Any], path: str, denoms: dict[str, tuple[str, str]]
    ) -> Iterator[_Cell]:
        """Every measurement of an outcome or baseline measure, with the denominators
        that apply to it: the class's own when it has them, else the measure's."""
        selected = measure.get("denomUnitsSelected")
        for c, cls in enumerate(measure.get("classes") or []):
            if not isinstance(cls, dict):
                continue
            class_denoms = (
                self.denominators(cls.get("denoms"), f"{path}.classes[{c}].denoms", selected)
                or denoms
            )
            units = class_denoms.get("__units__", (None, ""))[0]
            for k, cat in enumerate(cls.get("categories") or []):
                if not isinstance(cat, dict):
                    continue
                for j, meas in enumerate(cat.get("measurements") or []):
                    if not isinstance(meas, dict) or not meas.get("groupId"):
                        continue
                    yield _Cell(
                        c,
                        k,
                        meas,
                        f"{path}.classes[{c}].categories[{k}].measurements[{j}]",
                        class_denoms,
                        units,
                        _text(cls.get("title")),
                        _text(cat.get("title")),
                    )

    # -- values --------------------------------------------------------------------------

    @staticmethod
    def denominators(denoms: Any, path: str, selected: str | None) -> dict[str, tuple[str, str]]:
        """Group id -> (raw value, JSON path) from a ``denoms`` list, in the selected units."""
        entries = [d for d in denoms or [] if isinstance(d, dict)]
        if not entries:
            return {}
        chosen = 0
        wanted = [selected] if selected else []
        wanted.append("Participants")
        for want in wanted:
            hit = next(
                (
                    k
                    for k, d in enumerate(entries)
                    if normalise_label(str(d.get("units", ""))) == normalise_label(want)
                ),
                None,
            )
            if hit is not None:
                chosen = hit
                break
        out: dict[str, tuple[str, str]] = {}
        for c, count in enumerate(entries[chosen].get("counts") or []):
            if isinstance(count, dict) and count.get("groupId"):
                out[str(count["groupId"])] = (
                    str(count.get("value")),
                    f"{path}[{chosen}].counts[{c}]",
                )
        units = entries[chosen].get("units")
        if units:
            out["__units__"] = (str(units), "")
        return out

    def fill_values(
        self,
        node: URIRef,
        measure: dict[str, Any],
        meas: dict[str, Any],
        denom: tuple[str, str] | None,
        denom_units: str | None,
        *,
        is_result: bool,
        title: str,
    ) -> None:
        """Put one measurement's numbers on a Result or BaselineCharacteristic."""
        from kb.namespaces import EKB

        param = _norm_enum(measure.get("paramType"))
        disp = _norm_enum(measure.get("dispersionType"))
        unit = _text(measure.get("unitOfMeasure")) or ""
        raw = meas.get("value")
        value = parse_decimal(raw)
        denom_count = parse_count(denom[0]) if denom else None
        comment = _text(meas.get("comment"))
        if comment:
            self.note(node, f"Registry comment: {comment}.")
        if denom is not None:
            if denom_count is None:
                self.note(node, f"Denominator printed as '{denom[0]}' at {denom[1]}.")
            else:
                self.note(node, f"Denominator {denom_count} from {denom[1]}.")
        if denom_units and normalise_label(denom_units) != "participants":
            self.note(node, f"Denominator units: {denom_units}.")
        if value is None:
            self.note(node, f"Value printed as '{raw}' is not a number; no value recorded.")
        unit_norm = normalise_label(unit)
        is_count = param in {"COUNT_OF_PARTICIPANTS", "COUNT_OF_UNITS"} or (
            param == "NUMBER"
            and unit_norm in {"participants", "patients", "subjects", "count of participants"}
        )
        is_percent = (
            param == "NUMBER"
            and not is_count
            and bool(
                re.search(r"(percent|%|percentage)", unit.casefold())
                and re.search(r"participant|patient|subject|people|person", unit.casefold())
            )
        )
        change = bool(re.search(r"\bchang", title.casefold()) and "baseline" in title.casefold())
        if is_result:
            self.lit(node, EKB.unit, unit or None)
        if is_count:
            count = parse_count(raw)
            if value is not None and count is None:
                self.note(
                    node,
                    f"Count printed as '{raw}' is not a whole number; not recorded as a count.",
                )
            if is_result:
                self.lit(node, EKB.events, count)
                self.lit(node, EKB.total, self.checked_total(node, count, denom_count))
                if param == "COUNT_OF_UNITS":
                    self.note(node, "Counts are of units analysed, not participants.")
            else:
                self.lit(node, EKB.n, count)
            return
        if is_result:
            if is_percent:
                self.lit(node, EKB.total, denom_count)
            else:
                self.lit(node, EKB.n, denom_count)
            if change:
                self.lit(node, EKB.isChangeFromBaseline, True)
        else:
            self.lit(node, EKB.n, denom_count)
        if value is None:
            self.disp_note(node, measure, meas)
            return
        if is_percent:
            if 0 <= value <= 100:
                self.lit(node, EKB.percent, value)
            else:
                self.note(node, f"Percentage {raw} lies outside 0-100; kept as printed only.")
            self.disp_note(node, measure, meas)
            return
        if param in {"MEAN", "LEAST_SQUARES_MEAN"}:
            self.lit(node, EKB.mean, value)
            if param == "LEAST_SQUARES_MEAN":
                self.lit(node, EKB.modelBased, True)
                if is_result:
                    self.add(node, EKB.summaryStatistic, self.term("least-squares-mean"))
            self.dispersion(node, measure, meas, disp, centre="mean")
        elif param == "MEDIAN":
            self.lit(node, EKB.median, value)
            self.dispersion(node, measure, meas, disp, centre="median")
        elif is_result:
            stat = {
                "GEOMETRIC_MEAN": "geometric-mean",
                "GEOMETRIC_LEAST_SQUARES_MEAN": "geometric-mean",
            }.get(param, "unspecified-statistic")
            self.lit(node, EKB.followUpValue, value)
            self.add(node, EKB.summaryStatistic, self.term(stat))
            if param == "GEOMETRIC_LEAST_SQUARES_MEAN":
                self.lit(node, EKB.modelBased, True)
            self.note(
                node,
                f"Registered as {measure.get('paramType') or 'no parameter type'}; the value is "
                "in ekb:followUpValue.",
            )
            self.disp_note(node, measure, meas)
        else:
            self.note(
                node,
                f"Registered as {measure.get('paramType') or 'no parameter type'}; no property "
                "holds this value, it is kept as printed.",
            )
            self.disp_note(node, measure, meas)

    def dispersion(
        self, node: URIRef, measure: dict[str, Any], meas: dict[str, Any], disp: str, centre: str
    ) -> None:
        from kb.namespaces import EKB

        spread = parse_decimal(meas.get("spread"))
        low = parse_decimal(meas.get("lowerLimit"))
        high = parse_decimal(meas.get("upperLimit"))
        value = parse_decimal(meas.get("value"))
        if disp in {"STANDARD_DEVIATION", "STANDARD_ERROR"} and spread is not None:
            if spread < 0:
                self.flag(
                    node,
                    f"{measure.get('dispersionType')} printed as {spread} is negative; "
                    "kept as printed only.",
                )
                return
            self.lit(node, EKB.sd if disp == "STANDARD_DEVIATION" else EKB.se, spread)
        elif (
            disp in {"FULL_RANGE", "INTER_QUARTILE_RANGE"} and low is not None and high is not None
        ):
            # The shapes check low <= median <= high; a printed interval that breaks it is
            # flagged and kept as printed, never corrected.
            inside = low <= high and (centre != "median" or value is None or low <= value <= high)
            if not inside:
                self.flag(
                    node,
                    f"{measure.get('dispersionType')} {low} to {high} does not hold the "
                    f"{centre} {value}; kept as printed only.",
                )
                return
            if disp == "FULL_RANGE":
                self.lit(node, EKB.rangeLow, low)
                self.lit(node, EKB.rangeHigh, high)
            else:
                self.lit(node, EKB.q1, low)
                self.lit(node, EKB.q3, high)
        else:
            self.disp_note(node, measure, meas)

    def checked_total(self, node: URIRef, count: int | None, total: int | None) -> int | None:
        """``total`` as a denominator of ``count``, or None (flagged) when the count exceeds it."""
        if count is not None and total is not None and count > total:
            self.flag(
                node,
                f"The count {count} is above its printed denominator {total}; the "
                "denominator is kept as printed only.",
            )
            return None
        return total

    def flag(self, node: URIRef, text: str) -> None:
        from kb.namespaces import EKB

        self.lit(node, EKB.qualityFlag, text)
        self.lit(node, EKB.excludeFromMetaAnalysis, True)

    def disp_note(self, node: URIRef, measure: dict[str, Any], meas: dict[str, Any]) -> None:
        parts = [f"{k} '{meas[k]}'" for k in ("spread", "lowerLimit", "upperLimit") if k in meas]
        if parts:
            kind = measure.get("dispersionType") or "dispersion"
            self.note(
                node,
                f"{kind}: {', '.join(parts)} kept as printed (no property of the data model "
                "holds it here, or it is not a number).",
            )

    @staticmethod
    def printed(meas: dict[str, Any], denom: tuple[str, str] | None = None) -> str:
        keys = ("value", "spread", "lowerLimit", "upperLimit", "numSubjects", "numUnits", "comment")
        parts = [f"{k}: {meas[k]}" for k in keys if k in meas]
        if denom is not None:
            parts.append(f"denominator: {denom[0]}")
        return "; ".join(parts)

    # -- outcome measures -------------------------------------------------------------------

    def map_outcome_measures(self) -> dict[str, URIRef]:
        """Posted measures; returns normalised title -> Outcome, to match registered outcomes."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.results("outcomeMeasuresModule")
        by_title: dict[str, list[URIRef]] = {}
        for i, m in enumerate(module.get("outcomeMeasures") or []):
            if not isinstance(m, dict):
                continue
            path = f"{_RESULTS}.outcomeMeasuresModule.outcomeMeasures[{i}]"
            o = self.iri("outcome", f"om{i}")
            title = _text(m.get("title")) or f"outcome measure {i + 1}"
            self.record(o, EKB.Outcome, path, title)
            self.lit(o, RDFS.label, title)
            self.add(self.study, EKB.hasOutcome, o)
            self.counts["outcomes"] += 1
            by_title.setdefault(normalise_label(title), []).append(o)
            role = _OUTCOME_ROLES.get(_norm_enum(m.get("type")))
            if role:
                self.add(o, EKB.outcomeRole, self.term(role))
            self.add(o, EKB.outcomeConcept, self.concept("outcome", title))
            self.lit(o, EKB.definition, _text(m.get("description")))
            unit = _text(m.get("unitOfMeasure"))
            self.lit(o, EKB.unit, unit)
            time_frame = _text(m.get("timeFrame"))
            self.lit(o, EKB.timepointText, time_frame)
            weeks = parse_weeks(time_frame)
            self.lit(o, EKB.timepointWeeks, weeks)
            stat = ", ".join(str(x) for x in (m.get("paramType"), m.get("dispersionType")) if x)
            if stat:
                self.note(o, f"Registered statistic: {stat}.")
            if _norm_enum(m.get("reportingStatus")) == "NOT_POSTED":
                when = m.get("anticipatedPostingDate")
                self.note(
                    o, "Results not posted" + (f"; anticipated posting {when}." if when else ".")
                )
            population = _text(m.get("populationDescription"))
            groups = self.resolve_groups(m.get("groups"), f"{path}.groups")
            denoms = self.denominators(
                m.get("denoms"), f"{path}.denoms", m.get("denomUnitsSelected")
            )
            for cell in self.measurements(m, path, denoms):
                gid = str(cell.meas["groupId"])
                arm, how = self.group(groups, gid, cell.path)
                subgroup = " / ".join(t for t in (cell.class_title, cell.category_title) if t)
                node = self.iri("result", f"om{i}-c{cell.c}-k{cell.k}-{slugify(gid)}")
                self.record(node, EKB.Result, cell.path, self.printed(cell.meas, None))
                self.add(node, EKB.arm, arm)
                self.add(node, EKB.outcome, o)
                self.lit(node, EKB.timepointWeeks, weeks)
                self.lit(node, EKB.timepointText, time_frame)
                self.lit(node, EKB.subgroup, subgroup or None)
                self.lit(node, EKB.analysisPopulation, population)
                self.note(node, how)
                denom = cell.denoms.get(gid)
                self.fill_values(node, m, cell.meas, denom, cell.units, is_result=True, title=title)
                self.finish_result(node, o, cell.path)
            for a, analysis in enumerate(m.get("analyses") or []):
                if isinstance(analysis, dict):
                    self.map_analysis(
                        analysis,
                        f"{path}.analyses[{a}]",
                        self.iri("comparison", f"om{i}-a{a}"),
                        o,
                        groups,
                        weeks,
                    )
        return {k: v[0] for k, v in by_title.items() if len(v) == 1}

    def map_analysis(
        self,
        an: dict[str, Any],
        path: str,
        node: URIRef,
        outcome: URIRef,
        groups: dict[str, tuple[URIRef | None, str]],
        weeks: Decimal | None,
    ) -> None:
        from kb.namespaces import EKB

        keys = (
            "groupIds",
            "paramType",
            "paramValue",
            "ciPctValue",
            "ciNumSides",
            "ciLowerLimit",
            "ciUpperLimit",
            "pValue",
            "statisticalMethod",
            "dispersionType",
            "dispersionValue",
        )
        printed = "; ".join(
            f"{k}: {', '.join(an[k]) if isinstance(an[k], list) else an[k]}"
            for k in keys
            if k in an
        )
        ids = [str(g) for g in an.get("groupIds") or []]
        arms = [(gid, self.group(groups, gid, f"{path}.groupIds")) for gid in ids]
        if len(arms) != 2 or arms[0][1][0] == arms[1][1][0]:
            # A comparison is between two arms (ekb:ComparisonShape); an analysis of one
            # group or of three and more is kept, as printed, on the outcome.
            self.note(
                outcome,
                f"Analysis at {path} of groups {', '.join(ids) or 'none'} is not a "
                f"comparison of two arms; as printed: {printed}.",
            )
            return
        self.record(node, EKB.Comparison, path, printed)
        self.add(node, EKB.outcome, outcome)
        self.lit(node, EKB.timepointWeeks, weeks)
        titles = {gid: normalise_label(self._group_title(groups, gid)) for gid in ids}
        experimental, comparator, how = self._order_pair(an, arms, titles)
        self.add(node, EKB.experimentalArm, experimental[1][0])
        self.add(node, EKB.comparatorArm, comparator[1][0])
        self.note(
            node, f"Experimental group {experimental[0]}, comparator {comparator[0]} ({how})."
        )
        for _, (_, how) in arms:
            self.note(node, how)
        param = _text(an.get("paramType"))
        if param:
            self.add(node, EKB.effectMeasure, self.term(_effect_measure(param)))
            if re.search(r"\bls\b|least squares|adjusted", param.casefold()):
                self.lit(node, EKB.modelBased, True)
            if "adjusted" in param.casefold():
                self.lit(node, EKB.adjusted, True)
        estimate = parse_decimal(an.get("paramValue"))
        self.lit(node, EKB.estimate, estimate)
        if an.get("paramValue") is not None and estimate is None:
            self.note(node, f"Estimate printed as '{an.get('paramValue')}' is not a number.")
        low, high = parse_decimal(an.get("ciLowerLimit")), parse_decimal(an.get("ciUpperLimit"))
        ordered = [v for v in (low, estimate, high) if v is not None]
        if ordered != sorted(ordered):
            self.flag(
                node,
                f"The printed interval {an.get('ciLowerLimit')} to {an.get('ciUpperLimit')} "
                f"does not hold the estimate {an.get('paramValue')}; bounds kept as printed only.",
            )
            low = high = None
        measure = _effect_measure(param) if param else None
        if measure in {"odds-ratio", "risk-ratio", "hazard-ratio"} and any(
            v is not None and v <= 0 for v in (estimate, low, high)
        ):
            # A ratio cannot be 0 or below; the record probably gives it on a log scale.
            self.g.remove((node, EKB.effectMeasure, None))
            self.add(node, EKB.effectMeasure, self.term("other-measure"))
            self.flag(
                node, f"'{param}' printed with a value of 0 or below; not recorded as a ratio."
            )
        self.lit(node, EKB.ciLower, low)
        self.lit(node, EKB.ciUpper, high)
        pct = parse_decimal(an.get("ciPctValue"))
        if pct is not None and 0 < pct < 100 and (low is not None or high is not None):
            self.lit(node, EKB.ciLevel, pct / Decimal(100))
        if _norm_enum(an.get("ciNumSides")) == "ONE_SIDED":
            self.note(node, "The confidence interval is one-sided.")
        for key in (
            "ciLowerLimitComment",
            "ciUpperLimitComment",
            "pValueComment",
            "estimateComment",
            "groupDescription",
            "statisticalComment",
            "otherAnalysisDescription",
            "nonInferiorityComment",
        ):
            if _text(an.get(key)):
                self.note(node, f"{key}: {_text(an.get(key))}.")
        if an.get("nonInferiorityType"):
            self.note(node, f"Hypothesis: {an['nonInferiorityType']}.")
        p_value, comparator_sign = parse_p_value(an.get("pValue"))
        self.lit(node, EKB.pValue, p_value)
        self.lit(node, EKB.pValueComparator, comparator_sign)
        if an.get("pValue") is not None and p_value is None:
            self.note(node, f"p-value printed as '{an.get('pValue')}' is not a number in [0, 1].")
        self.lit(node, EKB.method, _text(an.get("statisticalMethod")))
        disp = _norm_enum(an.get("dispersionType"))
        dval = parse_decimal(an.get("dispersionValue"))
        if dval is not None and dval >= 0 and disp.startswith("STANDARD_ERROR"):
            self.lit(node, EKB.se, dval)
        elif dval is not None and dval >= 0 and disp == "STANDARD_DEVIATION":
            self.lit(node, EKB.sd, dval)
        content = (EKB.estimate, EKB.ciLower, EKB.ciUpper, EKB.pValue)
        if any((node, p, None) in self.g for p in content):
            self.add(self.study, EKB.hasComparison, node)
            self.counts["comparisons"] += 1
            return
        notes = " ".join(self.notes.pop(node, []))
        self.g.remove((node, None, None))
        self.note(
            outcome, f"Analysis at {path} gives no number; as printed: {printed}. {notes}".strip()
        )

    @staticmethod
    def _group_title(groups: dict[str, tuple[URIRef | None, str]], gid: str) -> str:
        m = re.search(r"'(.*?)'", groups.get(gid, (None, ""))[1])
        return m.group(1) if m else gid

    def _order_pair(
        self,
        an: dict[str, Any],
        arms: list[tuple[str, tuple[URIRef | None, str]]],
        titles: dict[str, str],
    ) -> tuple[Any, Any, str]:
        # 1. "A vs. B" in the estimate comment or group description names the order.
        for key in ("estimateComment", "groupDescription", "statisticalComment"):
            text = _text(an.get(key))
            if not text:
                continue
            parts = re.split(
                r"\s+(?:vs\.?|versus|compared (?:with|to))\s+",
                normalise_label_keep_vs(text),
                maxsplit=1,
            )
            if len(parts) != 2:
                continue
            left, right = parts
            a, b = arms
            ta, tb = titles[a[0]], titles[b[0]]
            if ta and tb and ta != tb:
                if left.endswith(ta) and right.startswith(tb):
                    return a, b, f"from '{key}'"
                if left.endswith(tb) and right.startswith(ta):
                    return b, a, f"from '{key}'"
        # 2. Arm roles: exactly one comparator arm.
        roles = {node: role for _, _, _, node, role in self.arms}
        a, b = arms
        ra, rb = roles.get(a[1][0]), roles.get(b[1][0])  # type: ignore[arg-type]
        if ra in _COMPARATOR_ROLES and rb not in _COMPARATOR_ROLES:
            return b, a, "from the registered arm types"
        if rb in _COMPARATOR_ROLES and ra not in _COMPARATOR_ROLES:
            return a, b, "from the registered arm types"
        return (
            b,
            a,
            (
                "the record does not say which group is the comparator; taken as the first "
                "group id, the experimental as the second"
            ),
        )

    # -- registered outcomes -------------------------------------------------------------------

    def map_registered_outcomes(self, posted: dict[str, URIRef]) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.protocol("outcomesModule")
        for key, short, role in _REGISTERED_OUTCOMES:
            for j, ro in enumerate(module.get(key) or []):
                if not isinstance(ro, dict):
                    continue
                path = f"protocolSection.outcomesModule.{key}[{j}]"
                measure = _text(ro.get("measure")) or f"{short} outcome {j + 1}"
                hit = posted.get(normalise_label(measure))
                if hit is not None:
                    self.note(hit, f"Registered as {path}.")
                    continue
                o = self.iri("outcome", f"{short}-{j}")
                self.record(o, EKB.Outcome, path, measure)
                self.lit(o, RDFS.label, measure)
                self.add(o, EKB.outcomeRole, self.term(role))
                self.add(o, EKB.outcomeConcept, self.concept("outcome", measure))
                self.lit(o, EKB.definition, _text(ro.get("description")))
                time_frame = _text(ro.get("timeFrame"))
                self.lit(o, EKB.timepointText, time_frame)
                self.lit(o, EKB.timepointWeeks, parse_weeks(time_frame))
                if self.r.get(_RESULTS):
                    self.note(o, "Registered outcome with no posted measure of the same title.")
                self.add(self.study, EKB.hasOutcome, o)
                self.counts["outcomes"] += 1

    # -- participant flow ------------------------------------------------------------------------

    def map_participant_flow(self) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.results("participantFlowModule")
        if not module:
            return
        mpath = f"{_RESULTS}.participantFlowModule"
        groups = self.resolve_groups(module.get("groups"), f"{mpath}.groups")
        first_started: dict[str, tuple[int | None, str, str]] = {}
        for p, period in enumerate(module.get("periods") or []):
            if not isinstance(period, dict):
                continue
            ptitle = _text(period.get("title")) or f"period {p + 1}"
            ppath = f"{mpath}.periods[{p}]"
            started: dict[str, tuple[int | None, str, str]] = {}
            for m, ms in enumerate(period.get("milestones") or []):
                if isinstance(ms, dict) and _norm_enum(ms.get("type")) == "STARTED":
                    for a, ach in enumerate(ms.get("achievements") or []):
                        if isinstance(ach, dict) and ach.get("groupId"):
                            started[str(ach["groupId"])] = (
                                parse_count(ach.get("numSubjects")),
                                str(ach.get("numSubjects")),
                                f"{ppath}.milestones[{m}].achievements[{a}]",
                            )
                    break
            rows = [
                ("milestones", "achievements", "m", ms) for ms in period.get("milestones") or []
            ]
            rows += [
                ("dropWithdraws", "reasons", "w", dw) for dw in period.get("dropWithdraws") or []
            ]
            counters = {"m": 0, "w": 0}
            for list_key, item_key, letter, item in rows:
                idx = counters[letter]
                counters[letter] += 1
                if not isinstance(item, dict):
                    continue
                kind = _text(item.get("type")) or "unnamed"
                is_started = list_key == "milestones" and _norm_enum(kind) == "STARTED"
                ipath = f"{ppath}.{list_key}[{idx}]"
                if is_started and p == 0:
                    # The numbers that started the first period are the arms' sizes.
                    self.arm_sizes(item.get(item_key) or [], groups, f"{ipath}.{item_key}")
                    continue
                label = (
                    f"{ptitle}: {kind}"
                    if list_key == "milestones"
                    else f"{ptitle}: withdrawn, {kind}"
                )
                o = self.iri("outcome", f"flow-p{p}-{letter}{idx}")
                self.record(o, EKB.Outcome, ipath, kind)
                self.lit(o, RDFS.label, label)
                self.add(o, EKB.outcomeRole, self.term("disposition"))
                flow_label = (
                    f"participant flow: {kind.casefold()}"
                    if list_key == "milestones"
                    else f"withdrawal: {kind.casefold()}"
                )
                self.add(o, EKB.outcomeConcept, self.concept("outcome", flow_label))
                self.lit(o, EKB.unit, "participants")
                what = "milestone" if list_key == "milestones" else "reason for withdrawal"
                self.note(o, f"Participant flow ({what}).")
                if _text(item.get("comment")):
                    self.note(o, f"Registry comment: {_text(item.get('comment'))}.")
                self.add(self.study, EKB.hasOutcome, o)
                self.counts["outcomes"] += 1
                for a, ach in enumerate(item.get(item_key) or []):
                    if not isinstance(ach, dict) or not ach.get("groupId"):
                        continue
                    gid = str(ach["groupId"])
                    apath = f"{ipath}.{item_key}[{a}]"
                    arm, how = self.group(groups, gid, apath)
                    node = self.iri("result", f"flow-p{p}-{letter}{idx}-{slugify(gid)}")
                    self.record(node, EKB.Result, apath, self.printed(ach))
                    self.add(node, EKB.arm, arm)
                    self.add(node, EKB.outcome, o)
                    self.lit(node, EKB.timepointText, ptitle)
                    self.note(node, how)
                    count = parse_count(ach.get("numSubjects"))
                    if count is None:
                        self.note(
                            node, f"Number printed as '{ach.get('numSubjects')}' is not a count."
                        )
                    if _text(ach.get("comment")):
                        self.note(node, f"Registry comment: {_text(ach.get('comment'))}.")
                    if ach.get("numUnits") is not None:
                        self.note(node, f"Units: {ach.get('numUnits')}.")
                    self.lit(node, EKB.events, count)
                    base = (first_started if is_started else started).get(gid)
                    if base and base[0] is not None:
                        self.lit(node, EKB.total, self.checked_total(node, count, base[0]))
                        self.note(node, f"Total is the group's STARTED count at {base[2]}.")
                    self.finish_result(node, o, apath)
            if p == 0:
                first_started = started

    def arm_sizes(
        self, achievements: list[Any], groups: dict[str, tuple[URIRef | None, str]], path: str
    ) -> None:
        """``ekb:n`` of each arm from the STARTED milestone of the first period."""
        from kb.namespaces import EKB

        per_arm: dict[URIRef, list[tuple[str, Any, str]]] = {}
        for a, ach in enumerate(achievements):
            if isinstance(ach, dict) and ach.get("groupId"):
                gid = str(ach["groupId"])
                arm, _ = self.group(groups, gid, f"{path}[{a}]")
                if arm is not None:
                    per_arm.setdefault(arm, []).append(
                        (gid, ach.get("numSubjects"), f"{path}[{a}]")
                    )
        for arm, entries in per_arm.items():
            count = parse_count(entries[0][1]) if len(entries) == 1 else None
            if count is not None:
                self.lit(arm, EKB.n, count)
                self.note(arm, f"n is the number that STARTED ({entries[0][0]}, {entries[0][2]}).")
            else:
                listed = "; ".join(
                    f"{gid} printed '{raw}' at {where}" for gid, raw, where in entries
                )
                self.note(arm, f"STARTED counts not recorded as n: {listed}.")

    def finish_result(self, node: URIRef, outcome: URIRef, path: str) -> None:
        """List a result, or, when it holds no number, keep what was printed on the outcome."""
        from kb.namespaces import EKB

        content = (
            EKB.events,
            EKB.percent,
            EKB.mean,
            EKB.median,
            EKB.percentChange,
            EKB.baselineValue,
            EKB.followUpValue,
            EKB.direction,
        )
        if any((node, p, None) in self.g for p in content):
            self.add(self.study, EKB.hasResult, node)
            self.counts["results"] += 1
            return
        # A result needs a number (shape ekb:ResultContentShape); "NA" and the like
        # are kept, with their comment, on the outcome instead of being dropped.
        printed = self.g.value(node, EKB.printedText)
        notes = " ".join(self.notes.pop(node, []))
        self.g.remove((node, None, None))
        self.note(outcome, f"No number at {path} (printed '{printed}'). {notes}".strip())

    # -- baseline ----------------------------------------------------------------------------------

    def map_baseline(self) -> None:
        from kb.namespaces import EKB

        module = self.results("baselineCharacteristicsModule")
        if not module:
            return
        mpath = f"{_RESULTS}.baselineCharacteristicsModule"
        groups = self.resolve_groups(
            module.get("groups"), f"{mpath}.groups", total_is_population=True
        )
        overall = self.denominators(module.get("denoms"), f"{mpath}.denoms", None)
        if _text(module.get("populationDescription")):
            self.note(
                self.population,
                f"Baseline population: {_text(module.get('populationDescription'))}",
            )
        for i, m in enumerate(module.get("measures") or []):
            if not isinstance(m, dict):
                continue
            path = f"{mpath}.measures[{i}]"
            title = _text(m.get("title")) or f"baseline measure {i + 1}"
            denoms = (
                self.denominators(m.get("denoms"), f"{path}.denoms", m.get("denomUnitsSelected"))
                or overall
            )
            for cell in self.measurements(m, path, denoms):
                gid = str(cell.meas["groupId"])
                arm, how = self.group(groups, gid, cell.path)
                label = ": ".join(t for t in (title, cell.class_title, cell.category_title) if t)
                node = self.iri("baseline", f"bm{i}-c{cell.c}-k{cell.k}-{slugify(gid)}")
                self.record(node, EKB.BaselineCharacteristic, cell.path, self.printed(cell.meas))
                self.lit(node, EKB.characteristic, label)
                self.add(node, EKB.arm, arm)
                self.lit(node, EKB.unit, _text(m.get("unitOfMeasure")))
                self.note(node, how)
                denom = cell.denoms.get(gid)
                self.fill_values(
                    node, m, cell.meas, denom, cell.units, is_result=False, title=title
                )
                self.add(self.population, EKB.hasBaselineCharacteristic, node)
                self.counts["baseline"] += 1

    # -- adverse events --------------------------------------------------------------------------

    def map_adverse_events(self) -> None:
        from kb.namespaces import EKB

        module = self.results("adverseEventsModule")
        if not module:
            return
        mpath = f"{_RESULTS}.adverseEventsModule"
        groups = self.resolve_groups(module.get("eventGroups"), f"{mpath}.eventGroups")
        time_frame = _text(module.get("timeFrame"))
        threshold = _text(module.get("frequencyThreshold"))
        totals = (
            ("deaths", "all-cause mortality", True),
            ("serious", "any serious adverse event", True),
            ("other", "any other (not serious) adverse event", False),
        )
        for e, eg in enumerate(module.get("eventGroups") or []):
            if not isinstance(eg, dict) or not eg.get("id"):
                continue
            gid = str(eg["id"])
            arm, how = self.group(groups, gid, f"{mpath}.eventGroups[{e}]")
            for prefix, term, serious in totals:
                affected_key, at_risk_key = f"{prefix}NumAffected", f"{prefix}NumAtRisk"
                if affected_key not in eg and at_risk_key not in eg:
                    continue
                node = self.iri("safety", f"{slugify(gid)}-{prefix}-total")
                printed = "; ".join(f"{k}: {eg[k]}" for k in (affected_key, at_risk_key) if k in eg)
                self.record(node, EKB.SafetyFinding, f"{mpath}.eventGroups[{e}]", printed)
                self.add(node, EKB.arm, arm)
                self.lit(node, EKB.eventTerm, term)
                self.lit(node, EKB.serious, serious)
                affected = parse_count(eg.get(affected_key))
                self.lit(node, EKB.affected, affected)
                at_risk = self.checked_total(node, affected, parse_count(eg.get(at_risk_key)))
                self.lit(node, EKB.atRisk, at_risk)
                if affected_key not in eg:
                    self.note(node, "Participants affected are not reported.")
                self.lit(node, EKB.timepointText, time_frame)
                self.note(node, how)
                if prefix == "other" and threshold:
                    self.note(
                        node,
                        "Other adverse events are reported above a frequency threshold of "
                        f"{threshold}%.",
                    )
                self.add(self.study, EKB.hasSafetyFinding, node)
                self.counts["safety"] += 1
        for list_key, serious in (("seriousEvents", True), ("otherEvents", False)):
            short = "serious" if serious else "other"
            for n, ev in enumerate(module.get(list_key) or []):
                if not isinstance(ev, dict):
                    continue
                epath = f"{mpath}.{list_key}[{n}]"
                term = _text(ev.get("term")) or "unnamed adverse event"
                for s, stat in enumerate(ev.get("stats") or []):
                    if not isinstance(stat, dict) or not stat.get("groupId"):
                        continue
                    gid = str(stat["groupId"])
                    spath = f"{epath}.stats[{s}]"
                    arm, how = self.group(groups, gid, spath)
                    node = self.iri("safety", f"{short}-{n}-{slugify(gid)}")
                    printed = "; ".join(
                        f"{k}: {stat[k]}"
                        for k in ("numAffected", "numAtRisk", "numEvents")
                        if k in stat
                    )
                    self.record(node, EKB.SafetyFinding, spath, printed)
                    self.add(node, EKB.arm, arm)
                    self.lit(node, EKB.eventTerm, term)
                    self.lit(node, EKB.organSystem, _text(ev.get("organSystem")))
                    self.lit(node, EKB.eventVocabulary, _text(ev.get("sourceVocabulary")))
                    self.lit(node, EKB.serious, serious)
                    affected = parse_count(stat.get("numAffected"))
                    self.lit(node, EKB.affected, affected)
                    at_risk = self.checked_total(node, affected, parse_count(stat.get("numAtRisk")))
                    if affected is None:
                        self.note(
                            node,
                            "Participants affected are not reported"
                            + (
                                f" (printed as '{stat['numAffected']}')."
                                if "numAffected" in stat
                                else "."
                            ),
                        )
                    self.lit(node, EKB.atRisk, at_risk)
                    self.lit(node, EKB.eventCount, parse_count(stat.get("numEvents")))
                    self.lit(node, EKB.assessmentType, _text(ev.get("assessmentType")))
                    self.lit(node, EKB.timepointText, time_frame)
                    self.note(node, how)
                    if _text(ev.get("notes")):
                        self.note(node, f"Registry notes: {_text(ev.get('notes'))}.")
                    self.add(self.study, EKB.hasSafetyFinding, node)
                    self.counts["safety"] += 1


def normalise_label_keep_vs(text: str) -> str:
    """:func:`normalise_label`, keeping "vs." recognisable as a separator."""
    return normalise_label(re.sub(r"\bvs\.", " vs ", text, flags=re.IGNORECASE))


def map_record(record: dict[str, Any], concepts: ConceptIndex | None = None) -> ImportedStudy:
    """Map one v2 study object to a graph (pure: reads nothing, writes nothing).

    :param record: the study object (``protocolSection``, optional ``resultsSection``...).
    :param concepts: vocabulary labels to reuse concepts from; none when omitted.
    :raises CouldNotRun: the object is not a study.
    """
    mapper = _Mapper(record, concepts or ConceptIndex())
    try:
        return mapper.map()
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # A field of the wrong JSON type (a string where the data model has an object):
        # the record does not follow the v2 data model; say so instead of a traceback.
        raise CouldNotRun(
            f"{mapper.nct}: not a well-formed ClinicalTrials.gov v2 study record "
            f"({type(exc).__name__}: {exc})"
        ) from exc


# --------------------------------------------------------------------------------------
# importing into a knowledge base
# --------------------------------------------------------------------------------------


@dataclass
class StudyOutcome:
    """What happened to one study of an import."""

    study_id: str
    nct_id: str
    origin: str
    path: Path
    #: "written", "updated", "unchanged", "would write", "would update", "invalid", "exists"
    status: str
    counts: dict[str, int]
    messages: list[str] = field(default_factory=list)
    warnings: int = 0


@dataclass
class ImportReport:
    """The outcome of :func:`import_ctgov`: one entry per study, plus files that failed."""

    studies: list[StudyOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.failures:
            return 3
        if any(s.status in {"invalid", "exists"} for s in self.studies):
            return 1
        return 0


def _violations(validator: Any, text: str, study_id: str, display: str) -> tuple[list[str], int]:
    """Violations (as report lines) and the number of warnings for a study file's text.

    The text is validated as the file it will become (same name, same bytes), so
    file-level checks (one study per file, named after it) apply too.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ekb-import-") as tmp:
        candidate = Path(tmp) / f"{study_id}.ttl"
        candidate.write_text(text, encoding="utf-8")
        report = validator.validate_file(candidate, display)
    lines = [
        "  ".join(part for part in finding.row() if part)
        for finding in report.findings
        if finding.severity == "Violation"
    ]
    return lines, report.count("Warning")


def serialise(graph: Graph, study: ImportedStudy | None = None) -> str:
    """The study file's text: canonical Turtle, the same bytes for the same graph."""
    from kb.turtle_format import canonical_turtle

    header = None
    if study is not None:
        header = (
            f"{study.nct_id}, imported from its ClinicalTrials.gov API v2 record by "
            "`ekb import ctgov`.\nEvery value names its JSON path (ekb:locator); re-import the "
            "record rather than editing this file."
        )
    return canonical_turtle(graph, header=header)


def import_ctgov(
    paths: Iterable[Path],
    kb_dir: Path,
    *,
    dry_run: bool = False,
    keep_going: bool = False,
    force: bool = False,
    validate: bool = True,
    progress: Callable[[str], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ClinicalTrials.gov v2 JSON files (or folders of them) into ``<kb_dir>/studies``.

    Every file is read and checked before anything is written: unless ``keep_going``,
    a file that is not JSON or not a study stops the import (nothing written). A study
    whose graph violates the shapes is not written. An existing study file with other
    content is only replaced with ``force``.

    :param progress: called with each record's origin as it is processed.
    :param on_total: called once with the number of records.
    :raises CouldNotRun: a file could not be read or is not a study (without ``keep_going``).
    :raises UsageError: a path does not exist.
    """
    from kb.fileio import atomic_write_text

    report = ImportReport()
    refs: list[RecordRef] = []
    seen: dict[str, str] = {}
    for path in input_files(paths):
        try:
            for ref in read_records(path):
                if ref.nct_id in seen:
                    raise CouldNotRun(
                        f"{ref.origin}: {ref.nct_id} was already read from {seen[ref.nct_id]}"
                    )
                seen[ref.nct_id] = ref.origin
                refs.append(ref)
        except CouldNotRun as exc:
            if not keep_going:
                raise
            report.failures.append(str(exc))
    if on_total:
        on_total(len(refs))
    concepts = ConceptIndex.from_kb(kb_dir)
    validator = None
    studies_dir = Path(kb_dir) / "studies"
    for ref in refs:
        if progress:
            progress(ref.origin)
        try:
            imported = map_record(ref.record, concepts)
        except KbError as exc:
            if not keep_going:
                raise CouldNotRun(f"{ref.origin}: {exc}") from exc
            report.failures.append(f"{ref.origin}: {exc}")
            continue
        target = studies_dir / f"{imported.study_id}.ttl"
        outcome = StudyOutcome(
            imported.study_id, imported.nct_id, ref.origin, target, "", imported.counts
        )
        report.studies.append(outcome)
        text = serialise(imported.graph, imported)
        if validate:
            if validator is None:
                from kb.validation import StudyValidator

                validator = StudyValidator(kb_paths.kb_vocab_files(Path(kb_dir)))
            violations, outcome.warnings = _violations(
                validator, text, imported.study_id, f"studies/{target.name}"
            )
            if violations:
                outcome.status = "invalid"
                outcome.messages = violations
                continue
        try:
            existing = target.read_text(encoding="utf-8") if target.is_file() else None
        except (OSError, UnicodeDecodeError) as exc:
            raise CouldNotRun(f"{target}: cannot read the existing study file: {exc}") from exc
        if existing == text:
            outcome.status = "unchanged"
            continue
        if existing is not None and not force and not _is_imported(existing, imported.nct_id):
            # A file this importer did not write (hand-curated, or another study with the
            # same id) is never replaced silently.
            outcome.status = "exists"
            outcome.messages = [
                f"{target} exists and was not written by `ekb import ctgov`; "
                "use --force to replace it"
            ]
            continue
        verb = "update" if existing is not None else "write"
        if dry_run:
            outcome.status = f"would {verb}"
        else:
            atomic_write_text(target, text)
            outcome.status = "updated" if existing is not None else "written"
    return report


def _is_imported(text: str, nct_id: str) -> bool:
    """True when a study file's header says this importer wrote it for ``nct_id``."""
    return text.startswith(f"# {nct_id}, imported from its ClinicalTrials.gov API v2 record")


def iter_counts(counts: dict[str, int]) -> Iterator[str]:
    """``"2 arms"``, ``"28 results"``... in a fixed order, for messages."""
    for key in ("arms", "outcomes", "results", "comparisons", "safety", "baseline"):
        label = {"safety": "safety findings", "baseline": "baseline characteristics"}.get(key, key)
        yield f"{counts.get(key, 0)} {label}"
