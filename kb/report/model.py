"""What the site shows, gathered through the canned queries (never by reading Turtle here).

Every row is turned into plain Python values (:func:`kb.output.plain_value`) once, so the
templates only format. Rows are kept in the queries' ``ORDER BY`` order, so the site is the
same, byte for byte, on every run over the same knowledge base.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.namespaces import RES
from kb.output import plain_value
from kb.queries import run_query
from kb.store import QueryResult, Store

Row = dict[str, Any]


def plain_rows(result: QueryResult) -> list[Row]:
    """The rows as dicts of plain values; unbound columns are ``None``."""
    return [{c: plain_value(row.get(c)) for c in result.columns} for row in result.rows]


def record_anchor(record_iri: str, prop: str | None = None) -> str:
    """The HTML id of a record (and one of its numeric properties) on its study page.

    ``.../study/x/result/treg-w12`` with ``ekb:baselineValue`` becomes
    ``result-treg-w12--baselineValue``: readable in a URL and unique on the page.

    >>> record_anchor("https://w3id.org/evidence-kb/resource/study/x/result/r1", "events")
    'result-r1--events'
    """
    local = record_iri.removeprefix(RES)
    parts = local.split("/")
    if len(parts) > 2 and parts[0] == "study":
        local = "/".join(parts[2:])  # drop study/<id>/: the page is the study's
    elif len(parts) == 2 and parts[0] == "study":
        local = "study"
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in local)
    if prop is not None:
        slug += "--" + prop.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return slug


@dataclass
class StudyData:
    """Everything one study page shows."""

    study_id: str
    iri: str
    row: Row  # from the `studies` query
    characteristics: Row | None
    plain: dict[str, Any]
    pico: list[Row]
    results: list[Row]
    comparisons: list[Row]
    safety: list[Row]
    claims: list[Row]
    provenance: list[Row]
    sources: list[Row]
    #: provenance anchors that exist on the page (record IRI, property IRI)
    provenance_keys: set[tuple[str, str]] = field(default_factory=set)
    #: registered vs published (kb.report.registry.RegistryView), None when not gathered
    registry: Any = None

    @property
    def title(self) -> str:
        return str(self.row.get("title") or self.study_id)

    def interventions(self) -> list[Row]:
        return [r for r in self.pico if r["element"] in ("intervention", "comparator")]

    def numbers_of(self, record: str) -> list[Row]:
        """The provenance rows of one record (its recorded numbers)."""
        return [r for r in self.provenance if r["record"] == record]


@dataclass
class SiteData:
    """The whole knowledge base, as the site shows it."""

    studies: list[StudyData]
    grid: list[Row]  # evidence-grid rows
    evidence_map: list[Row]  # evidence-map rows (per condition and intervention)
    condition_filter: str | None = None
    reviews: list[Any] = field(default_factory=list)

    @property
    def participants(self) -> int:
        return sum(int(s.row["enrolled"]) for s in self.studies if s.row.get("enrolled"))

    def conditions(self) -> list[tuple[str, str]]:
        """(IRI, label) of every condition with a cell in the evidence map, by label."""
        seen = {(r["condition"], r["condition_label"] or r["condition"]) for r in self.grid}
        return sorted(seen, key=lambda item: (item[1], item[0]))

    def grid_for(self, condition: str) -> list[Row]:
        return [r for r in self.grid if r["condition"] == condition]


def _by_study(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[str(row["study_id"])].append(row)
    return grouped


def gather_site(
    store: Store, *, condition: str | None = None, kb_dir: Path | None = None
) -> SiteData:
    """Run the canned queries the site needs and group their rows by study.

    :param condition: keep only studies of this condition (label, CURIE or IRI) and
        narrower ones, as ``-p condition=`` does for the queries.
    :param kb_dir: the knowledge-base folder, so that a study's plain summary says which
        review findings it is part of (as ``ekb summary --plain`` does).
    :raises UsageError: an unknown condition.
    """
    from kb.plain import summarise_study

    params = {"condition": condition} if condition else {}
    studies = plain_rows(run_query(store, "studies", params))
    characteristics = {
        str(r["study_id"]): r for r in plain_rows(run_query(store, "characteristics", params))
    }
    results = _by_study(plain_rows(run_query(store, "study-results")))
    comparisons = _by_study(plain_rows(run_query(store, "study-comparisons")))
    safety = _by_study(plain_rows(run_query(store, "study-safety")))
    claims = _by_study(plain_rows(run_query(store, "claims")))
    sources = _by_study(plain_rows(run_query(store, "study-sources")))
    grid = plain_rows(run_query(store, "evidence-grid", params))
    evidence_map: list[Row] = []
    for iri in sorted({str(r["condition"]) for r in grid}):
        for row in plain_rows(run_query(store, "evidence-map", {"condition": iri})):
            if row["condition"] == iri:  # the query also returns narrower conditions
                evidence_map.append(row)

    pages = []
    for row in studies:
        study_id = str(row["study_id"])
        pages.append(
            StudyData(
                study_id=study_id,
                iri=str(row["study"]),
                row=row,
                characteristics=characteristics.get(study_id),
                plain=summarise_study(store, study_id, kb_dir=kb_dir).to_json(),
                pico=plain_rows(run_query(store, "pico", {"study": study_id})),
                results=results.get(study_id, []),
                comparisons=comparisons.get(study_id, []),
                safety=safety.get(study_id, []),
                claims=claims.get(study_id, []),
                provenance=plain_rows(run_query(store, "provenance", {"study": study_id})),
                sources=sources.get(study_id, []),
            )
        )
    for page in pages:
        page.provenance_keys = {(str(r["record"]), str(r["property"])) for r in page.provenance}
    return SiteData(studies=pages, grid=grid, evidence_map=evidence_map, condition_filter=condition)
