"""The ``reconciliation:`` part of a form: how a consensus form came from two extractions.

``ekb reconcile`` writes it; ``ekb add`` turns it into data in the study file
(:mod:`kb.forms.to_graph`) and ``ekb show`` reads it back (:mod:`kb.forms.from_graph`)::

    reconciliation:
      adjudicated_by: A. Adjudicator
      adjudicated_on: 2026-12-02
      extractions:                      # the two extractions compared
        - {key: a, extracted_by: ..., extracted_on: ..., file: a.yaml}
        - {key: b, ...}
      decisions:                        # one per disputed field
        - key: d1
          path: arms[placebo].n         # the field, in the consensus form
          take: b                       # a | b | new
          value: "177"                  # the chosen value as text (absent: left blank)
          reason: ...
          candidates:                   # what each extraction had (value absent: blank)
            - {extraction: a, value: "178", extracted_by: ..., extracted_on: ...}
            - {extraction: b, value: "177", ...}

In RDF (PROV-O): the study ``ekb:hasReconciliation`` an ``ekb:Reconciliation`` (a
``prov:Activity``) that ``ekb:hasExtraction`` each ``ekb:Extraction`` and
``ekb:hasDecision`` each ``ekb:FieldDecision``; a decision ``prov:wasDerivedFrom`` the
extractions, ``ekb:hasCandidate`` one ``ekb:CandidateValue`` per extraction, and names
the record and property it decided (``ekb:decidedRecord``, ``ekb:decidedProperty``,
derived from its path), which is how ``ekb show`` and the exports mark a value as
reconciled.
"""

from __future__ import annotations

import re
from typing import Any

from kb.forms import kinds
from kb.forms.fields import Field, Section, ekb_term, record_iri, study_iri
from kb.forms.kinds import XSD, Kind
from kb.forms.table import (
    ARMS,
    BASELINE,
    CONCEPTS,
    INTERVENTIONS,
    POPULATION,
    SECTIONS,
    STUDY,
)
from kb.forms.vocabulary import expand_iri

PROV = "http://www.w3.org/ns/prov#"

TAKE = Kind(
    "take",
    'one of "a", "b" or "new"',
    {"type": "string", "enum": ["a", "b", "new"]},
    XSD + "string",
)

_EXTRACTOR = Field(
    "extracted_by", ekb_term("extractor"), kinds.TEXT, "who made the extraction", required=True
)
_DATE = Field("extracted_on", ekb_term("extractionDate"), kinds.DATE, "when, YYYY-MM-DD")

EXTRACTIONS = Section(
    "extractions",
    "extraction",
    ekb_term("Extraction"),
    ekb_term("hasExtraction"),
    (
        Field("key", None, kinds.KEY, "a or b", required=True),
        _EXTRACTOR,
        _DATE,
        Field("file", ekb_term("extractionFile"), kinds.TEXT, "the form or study file compared"),
    ),
    "the two extractions compared",
    extracted=False,
)

CANDIDATES = Section(
    "candidates",
    "candidate",
    ekb_term("CandidateValue"),
    ekb_term("hasCandidate"),
    (
        # the link to the extraction is written structurally (ekb:fromExtraction)
        Field("extraction", None, kinds.KEY, "key of the extraction (a or b)", required=True),
        Field(
            "value",
            ekb_term("candidateValue"),
            kinds.TEXT,
            "the value that extraction had, as text; absent when it left the field blank",
        ),
        Field("extracted_by", ekb_term("extractor"), kinds.TEXT, "who extracted the value"),
        Field("extracted_on", ekb_term("extractionDate"), kinds.DATE, "when, YYYY-MM-DD"),
    ),
    "what each extraction had",
    extracted=False,
)

DECISIONS = Section(
    "decisions",
    "decision",
    ekb_term("FieldDecision"),
    ekb_term("hasDecision"),
    (
        Field("key", None, kinds.KEY, "d1, d2, ...", required=True),
        Field(
            "path",
            ekb_term("fieldPath"),
            kinds.TEXT,
            "the disputed field or record, as ekb diff names it",
            required=True,
        ),
        Field("take", ekb_term("chosenSource"), TAKE, "a, b or new", required=True),
        Field(
            "value",
            ekb_term("chosenValue"),
            kinds.TEXT,
            "the chosen value as text; absent when the field was left blank",
        ),
        Field("reason", ekb_term("rationale"), kinds.TEXT, "why", required=True),
    ),
    "one decision per disputed field",
    extracted=False,
)

RECONCILIATION = Section(
    "reconciliation",
    "reconciliation",
    ekb_term("Reconciliation"),
    ekb_term("hasReconciliation"),
    (
        Field("adjudicated_by", ekb_term("adjudicatedBy"), kinds.TEXT, "who decided"),
        Field("adjudicated_on", ekb_term("adjudicatedOn"), kinds.DATE, "when, YYYY-MM-DD"),
    ),
    "how this consensus form came from two extractions (written by ekb reconcile)",
    many=False,
    extracted=False,
)

FROM_EXTRACTION = ekb_term("fromExtraction")
DECIDED_RECORD = ekb_term("decidedRecord")
DECIDED_PROPERTY = ekb_term("decidedProperty")
WAS_DERIVED_FROM = PROV + "wasDerivedFrom"

_PART = re.compile(r"([a-z_]+)(?:\[([^\]]*)\])?")


def parse_path(path: str) -> list[tuple[str, str | None]]:
    """``arms[x.y].interventions[0].dose_value`` -> ``[("arms", "x.y"), ("interventions",
    "0"), ("dose_value", None)]``; ``[]`` when it is not a path."""
    parts: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(path):
        m = _PART.match(path, pos)
        if m is None:
            return []
        parts.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(path):
            if path[pos] != ".":
                return []
            pos += 1
    return parts


def _find(records: Any, key: str, id_field: str = "key") -> tuple[int, dict[str, Any]] | None:
    if not isinstance(records, list):
        return None
    for i, rec in enumerate(records):
        if isinstance(rec, dict) and rec.get(id_field) == key:
            return i, rec
    if key.isdigit() and int(key) < len(records) and isinstance(records[int(key)], dict):
        return int(key), records[int(key)]
    return None


def locate(
    form: dict[str, Any], path: str
) -> tuple[str, Section, dict[str, Any], str | None] | None:
    """The record a decision's path names in a form: ``(IRI, section, record, field name)``.

    ``None`` when the form has no such record (a record the adjudicator left out).
    """
    parts = parse_path(path)
    if not parts or not isinstance(form.get("study"), dict):
        return None
    sid = str(form["study"].get("id"))
    (head, key), rest = parts[0], parts[1:]
    iri: str
    section: Section
    record: Any
    if head == "study" and key is None:
        iri, section, record = study_iri(sid), STUDY, form["study"]
    elif head == "population" and key is None:
        iri, section, record = record_iri(sid, "population"), POPULATION, form.get("population")
        if (
            rest
            and rest[0][0] == "baseline"
            and rest[0][1] is not None
            and isinstance(record, dict)
        ):
            found = _find(record.get("baseline"), rest[0][1])
            if found is None:
                return None
            record = found[1]
            iri, section = record_iri(sid, "baseline", str(record.get("key"))), BASELINE
            rest = rest[1:]
    elif head == "concepts" and key is not None:
        found = _find(form.get("concepts"), key, "id")
        iri_text = expand_iri(key)
        if found is None or iri_text is None:
            return None
        iri, section, record = iri_text, CONCEPTS, found[1]
    else:
        by_name = {s.name: s for s in SECTIONS if s.many and s.segment}
        if head not in by_name or key is None:
            return None
        section = by_name[head]
        found = _find(form.get(head), key)
        if found is None or "key" not in found[1]:
            return None
        record = found[1]
        iri = record_iri(sid, section.segment, str(record["key"]))
        if section is ARMS and rest and rest[0][0] == "interventions" and rest[0][1] is not None:
            ivs = record.get("interventions")
            got = _find(ivs, rest[0][1])
            if got is None:
                return None
            iv = got[1]
            iri = f"{iri}/intervention/{iv['key']}" if "key" in iv else f"{iri}/intervention"
            section, record, rest = INTERVENTIONS, iv, rest[1:]
    if not isinstance(record, dict):
        return None
    if not rest:
        return iri, section, record, None
    if len(rest) != 1 or rest[0][1] is not None:
        return None
    return iri, section, record, rest[0][0]


# ---------------------------------------------------------------------------
# The study card (ekb show -f md): reconciled values marked, the decisions listed


def md_cell(value: Any) -> str:
    """A Markdown table cell (the card's cells here are text: values are kept as text)."""
    if isinstance(value, list):
        return "; ".join(md_cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def marked(value: Any, path: str, decided: list[str]) -> Any:
    """A card cell with "(reconciled)" when a decision between two extractions set the
    field ``path`` or a field under it (``results[x]`` covers ``results[x].percent``)."""
    hit = any(d == path or d.startswith(path + ".") for d in decided)
    if not hit or value in (None, ""):
        return value
    return f"{value if isinstance(value, str) else md_cell(value)} (reconciled)"


def card_lines(recon: dict[str, Any] | None) -> list[str]:
    """The card's account of a double extraction: who compared what, each decision."""
    if not recon:
        return []
    who = "; ".join(
        f"{x['key']}: {x['extracted_by']}"
        + (f" ({x['extracted_on']})" if "extracted_on" in x else "")
        for x in recon.get("extractions", [])
    )
    out = ["## Reconciliation", "", f"- **Extractions:** {md_cell(who)}"]
    if "adjudicated_by" in recon:
        on = f" on {recon['adjudicated_on']}" if "adjudicated_on" in recon else ""
        out.append(f"- **Adjudicated by:** {md_cell(recon['adjudicated_by'])}{on}")
    out.append("")
    rows = []
    for d in recon.get("decisions", []):
        candidates = "; ".join(
            f"{c['extraction']}: {c.get('value', '(blank)')}" for c in d.get("candidates", [])
        )
        rows.append([d["path"], d.get("value", "(blank)"), d["take"], candidates, d["reason"]])
    if rows:
        out += md_table(["field", "reconciled value", "taken", "candidates", "reason"], rows)
    return out
