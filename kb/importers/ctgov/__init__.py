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
  is resolved within its own module or measure and matched to an arm by evidence, in
  tiers (:mod:`kb.importers.ctgov.matching`): the same title once case, punctuation,
  numbering and abbreviations the record defines are folded; the same apart from an
  analysis-set suffix ("Drug (FAS)": that arm, the set recorded as the analysis
  population); a title naming a sequence ("Placebo -> OL Drug": an arm of its own
  receiving both in order); "<arm>: <qualifier>" (that arm, the qualifier a subgroup);
  the registered description; a title containing exactly one arm's label; a similar
  title. The match is written in the record's ``ekb:note``. A "Total" group ("Total",
  "All participants"...) is the whole population, not an arm. A group that matches no
  arm becomes an arm of its own (``term:other-arm``) and the import summary warns of it;
  two groups of one module never share an arm by a weak match (the weaker is kept apart).
- Structure first: a record whose fields have other types than the v2 data model is
  refused (exit 3, JSON path and what was expected) before anything is converted or
  written (:mod:`kb.importers.ctgov.schema`).
- Participant flow: one ``term:disposition`` Outcome per milestone and per withdrawal
  reason of each period, with one Result per group. STARTED gives ``ekb:n`` (from the
  period where the group started: an extension group with 0 in the first period takes
  the later number); other
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

from kb.importers.ctgov.base import EXTRACTED_BY, ImportedStudy
from kb.importers.ctgov.concepts import ConceptIndex
from kb.importers.ctgov.mapper import map_record
from kb.importers.ctgov.parsing import (
    concept_key,
    normalise_label,
    normalise_label_keep_vs,
    parse_count,
    parse_decimal,
    parse_p_value,
    parse_weeks,
    slugify,
    study_id_for,
    unescape_markup,
)
from kb.importers.ctgov.reading import RecordRef, input_files, nct_id_of, read_records
from kb.importers.ctgov.writing import (
    ImportReport,
    StudyOutcome,
    import_ctgov,
    iter_counts,
    serialise,
)

__all__ = [
    "EXTRACTED_BY",
    "ConceptIndex",
    "ImportReport",
    "ImportedStudy",
    "RecordRef",
    "StudyOutcome",
    "concept_key",
    "import_ctgov",
    "input_files",
    "iter_counts",
    "map_record",
    "nct_id_of",
    "normalise_label",
    "normalise_label_keep_vs",
    "parse_count",
    "parse_decimal",
    "parse_p_value",
    "parse_weeks",
    "read_records",
    "serialise",
    "slugify",
    "study_id_for",
    "unescape_markup",
]
