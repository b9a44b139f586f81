"""Fields and sections of the form, and the provenance fields every extracted record has."""

from __future__ import annotations

from dataclasses import dataclass

from kb.forms import kinds
from kb.forms.kinds import Kind
from kb.namespaces import EKB, RES


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


def ekb_term(local: str) -> str:
    return str(EKB) + local


def key_field(what: str) -> Field:
    return Field(
        "key",
        None,
        kinds.KEY,
        f"short local name of this {what}, used in its web address and by references (e.g. il2)",
        required=True,
    )


#: Provenance: every extracted record may carry these.
PROVENANCE: tuple[Field, ...] = (
    Field(
        "source",
        ekb_term("source"),
        kinds.REF,
        "key of the source this was read from (see sources:); defaults.source if blank",
        ref="source",
    ),
    Field(
        "locator",
        ekb_term("locator"),
        kinds.TEXT,
        "where in the source: table, figure, page, paragraph",
    ),
    Field(
        "printed_text",
        ekb_term("printedText"),
        kinds.TEXT,
        "the value as the source printed it (paraphrase where copying is not allowed)",
    ),
    Field(
        "extracted_by",
        ekb_term("extractedBy"),
        kinds.TEXT,
        "who extracted it; defaults.extracted_by if blank",
    ),
    Field(
        "extracted_on",
        ekb_term("extractedOn"),
        kinds.DATE,
        "when, YYYY-MM-DD; defaults.extracted_on if blank",
    ),
    Field(
        "note",
        ekb_term("note"),
        kinds.TEXT,
        "a caveat, a quirk of the source, or why a value is absent",
    ),
    Field(
        "quality_flag",
        ekb_term("qualityFlag"),
        kinds.TEXT,
        "a known problem with the value as printed (keep the value, flag it)",
    ),
    Field(
        "model_based",
        ekb_term("modelBased"),
        kinds.BOOL,
        "true if a percentage or effect comes from a model, not raw counts",
    ),
    Field(
        "exclude_from_meta_analysis",
        ekb_term("excludeFromMetaAnalysis"),
        kinds.BOOL,
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


def study_iri(study_id: str) -> str:
    return f"{RES}study/{study_id}"


def record_iri(study_id: str, segment: str, key: str | None = None) -> str:
    base = study_iri(study_id)
    return f"{base}/{segment}" if key is None else f"{base}/{segment}/{key}"
