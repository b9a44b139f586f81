"""PRISMA 2020 flow counts, derived from a review's records (never typed in).

The rule for each box, over the records of the review (``dbr`` = records from
databases and registers, ``other`` = websites, organisations, citation searching):

==========================  ==========================================================
box (PRISMA2020 CSV key)    records counted
==========================  ==========================================================
database_results            from a search of kind database
register_results            from a search of kind register
website_results ...         from a search of that kind (other methods)
duplicates                  dbr records with ``duplicate_of``
excluded_automatic          dbr records removed before screening by automation tools
excluded_other              dbr records removed before screening for other reasons
records_screened            dbr records with a title-and-abstract decision
records_excluded            ... whose title-and-abstract decision is exclude
dbr_sought_reports          ... whose title-and-abstract decision is include
dbr_notretrieved_reports    dbr records excluded at full text as "not retrievable"
dbr_assessed                dbr records with any other full-text decision
dbr_excluded                dbr full-text exclusions, counted by reason
other_sought_reports        other-methods records (not duplicates, not removed)
other_notretrieved_reports  / other_assessed / other_excluded: as for dbr
new_studies                 distinct knowledge-base studies of the included records
new_reports                 included records
total_studies/total_reports the same (no previous version of the review is recorded)
==========================  ==========================================================

Records not yet screened or assessed are counted in ``records_awaiting_screening``
and ``reports_awaiting_assessment`` (not PRISMA boxes; a finished review has 0),
so every cascade adds up: identified = removed + screened + awaiting, and so on.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field

from kb.sysreview.model import Record, Review

OTHER_KINDS = ("website", "organisation", "citation-searching")
_OTHER_KEYS = {
    "website": "website_results",
    "organisation": "organisation_results",
    "citation-searching": "citations_results",
}


@dataclass(frozen=True)
class PrismaCounts:
    """The counts of every PRISMA 2020 box; reasons as (label, n), most frequent first."""

    review_id: str
    counts: dict[str, int]
    dbr_excluded: tuple[tuple[str, int], ...] = ()
    other_excluded: tuple[tuple[str, int], ...] = ()
    records_excluded_reasons: tuple[tuple[str, int], ...] = ()
    database_specific: tuple[tuple[str, int], ...] = ()
    register_specific: tuple[tuple[str, int], ...] = ()
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> int:
        return self.counts[key]

    def to_dict(self) -> dict[str, object]:
        """Counts by box name (the PRISMA2020 CSV keys); reason boxes as {reason: n}."""
        out: dict[str, object] = dict(self.counts)
        out["dbr_excluded"] = dict(self.dbr_excluded)
        out["other_excluded"] = dict(self.other_excluded)
        out["records_excluded_reasons"] = dict(self.records_excluded_reasons)
        out["database_specific_results"] = dict(self.database_specific)
        out["register_specific_results"] = dict(self.register_specific)
        return {"review": self.review_id, "boxes": out, "notes": list(self.notes)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _reasons(records: list[Record], review: Review) -> tuple[tuple[str, int], ...]:
    counter: Counter[str] = Counter()
    for r in records:
        assert r.full_text is not None
        counter[review.label(r.full_text.reason) if r.full_text.reason else "no reason given"] += 1
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def prisma_counts(review: Review) -> PrismaCounts:
    """Every PRISMA 2020 box, counted from the review's records (see the module docstring)."""
    kinds = {s.key: s.kind for s in review.searches}
    names = {s.key: (s.source or s.key) for s in review.searches}

    def kind(r: Record) -> str:
        return kinds.get(r.search or "", "")

    dbr = [r for r in review.records if kind(r) in ("database", "register")]
    other = [r for r in review.records if kind(r) in OTHER_KINDS]
    c: dict[str, int] = {
        "database_results": sum(1 for r in dbr if kind(r) == "database"),
        "register_results": sum(1 for r in dbr if kind(r) == "register"),
    }
    for k, key in _OTHER_KEYS.items():
        c[key] = sum(1 for r in other if kind(r) == k)
    c["duplicates"] = sum(1 for r in dbr if r.stage == "duplicate")
    c["excluded_automatic"] = sum(
        1 for r in dbr if r.stage == "removed" and r.removed_before_screening == "automation"
    )
    c["excluded_other"] = sum(
        1 for r in dbr if r.stage == "removed" and r.removed_before_screening == "other"
    )
    live = [r for r in dbr if r.stage not in ("duplicate", "removed")]
    screened = [r for r in live if r.title_abstract is not None]
    c["records_screened"] = len(screened)
    c["records_awaiting_screening"] = len(live) - len(screened)
    c["records_excluded"] = sum(1 for r in screened if r.stage == "excluded-title-abstract")
    sought = [r for r in screened if r.title_abstract is not None and r.title_abstract.include]
    c["dbr_sought_reports"] = len(sought)
    c["dbr_notretrieved_reports"] = sum(1 for r in sought if r.stage == "not-retrieved")
    assessed = [r for r in sought if r.stage in ("included", "excluded-full-text")]
    c["dbr_assessed"] = len(assessed)
    dbr_excluded = [r for r in assessed if r.stage == "excluded-full-text"]

    other_live = [r for r in other if r.stage not in ("duplicate", "removed")]
    c["other_sought_reports"] = len(other_live)
    c["other_notretrieved_reports"] = sum(1 for r in other_live if r.stage == "not-retrieved")
    other_assessed = [r for r in other_live if r.stage in ("included", "excluded-full-text")]
    c["other_assessed"] = len(other_assessed)
    other_excluded = [r for r in other_assessed if r.stage == "excluded-full-text"]
    c["reports_awaiting_assessment"] = sum(
        1 for r in sought + other_live if r.stage in ("to-assess", "to-screen")
    )

    included = [r for r in assessed + other_assessed if r.included]
    c["new_studies"] = len({r.study for r in included if r.study})
    c["new_reports"] = len(included)
    c["total_studies"] = c["new_studies"]
    c["total_reports"] = c["new_reports"]

    ta_reasons: Counter[str] = Counter()
    for r in screened:
        if r.stage == "excluded-title-abstract" and r.title_abstract is not None:
            reason = r.title_abstract.reason
            ta_reasons[review.label(reason) if reason else "no reason given"] += 1

    def per_source(kind_name: str) -> tuple[tuple[str, int], ...]:
        counter: Counter[str] = Counter(
            names[r.search] for r in dbr if kind(r) == kind_name and r.search
        )
        return tuple(sorted(counter.items()))

    notes = []
    unknown = [s.key for s in review.searches if s.records_found is None]
    if unknown:
        notes.append(
            "identification counts are the records listed in the review; searches without a "
            f"reported count: {', '.join(unknown)}"
        )
    orphans = [r.key for r in review.records if kind(r) == ""]
    if orphans:
        notes.append(f"records whose search is unknown are not counted: {', '.join(orphans)}")
    return PrismaCounts(
        review_id=review.id,
        counts=c,
        dbr_excluded=_reasons(dbr_excluded, review),
        other_excluded=_reasons(other_excluded, review),
        records_excluded_reasons=tuple(sorted(ta_reasons.items(), key=lambda i: (-i[1], i[0]))),
        database_specific=per_source("database"),
        register_specific=per_source("register"),
        notes=notes,
    )


# ---------------------------------------------------------------------------
# The PRISMA2020 R package's input CSV

#: (data key, node, box, box text): the rows of the package's template
#: (inst/extdata/PRISMA.csv), in its order; `n` is filled from the counts.
_CSV_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("NA", "node4", "prevstud", "Previous studies"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review"),
    ("NA", "node6", "newstud", "Identification of new studies via databases and registers"),
    ("database_results", "node7", "box2", "Databases"),
    ("database_specific_results", "NA", "box2", "Databases"),
    ("register_results", "NA", "box2", "Registers"),
    ("register_specific_results", "NA", "box2", "Registers"),
    ("NA", "node16", "othstud", "Identification of new studies via other methods"),
    ("website_results", "node17", "box11", "Websites"),
    ("organisation_results", "NA", "box11", "Organisations"),
    ("citations_results", "NA", "box11", "Citation searching"),
    ("duplicates", "node8", "box3", "Duplicate records"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons"),
    ("records_screened", "node9", "box4", "Records screened"),
    ("records_excluded", "node10", "box5", "Records excluded"),
    ("dbr_sought_reports", "node11", "box6", "Reports sought for retrieval"),
    ("dbr_notretrieved_reports", "node12", "box7", "Reports not retrieved"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved"),
    ("dbr_assessed", "node13", "box8", "Reports assessed for eligibility"),
    ("dbr_excluded", "node14", "box9", "Reports excluded"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility"),
    ("other_excluded", "node21", "box15", "Reports excluded"),
    ("new_studies", "node15", "box10", "New studies included in review"),
    ("new_reports", "NA", "box10", "Reports of new included studies"),
    ("total_studies", "node22", "box16", "Total studies included in review"),
    ("total_reports", "NA", "box16", "Reports of total included studies"),
    ("NA", "node1", "identification", "Identification"),
    ("NA", "node2", "screening", "Screening"),
    ("NA", "node3", "included", "Included"),
)


def _reason_text(items: tuple[tuple[str, int], ...]) -> str:
    # The package parses "Reason, n; Reason, n"; a comma inside a reason would split it.
    return "; ".join(f"{label.replace(',', ' ').replace(';', ' ')}, {n}" for label, n in items)


def prisma_csv(counts: PrismaCounts) -> str:
    """The input CSV of the R package PRISMA2020 (``PRISMA_data(read.csv(...))``).

    Columns ``data,node,box,description,boxtext,tooltips,url,n``; previous-version
    boxes are 0 (none is recorded); an empty reason box is written as 0.
    """
    reasons = {
        "dbr_excluded": counts.dbr_excluded,
        "other_excluded": counts.other_excluded,
        "database_specific_results": counts.database_specific,
        "register_specific_results": counts.register_specific,
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"])
    for key, node, box, text in _CSV_ROWS:
        if key in reasons:
            n: object = _reason_text(reasons[key]) or (0 if "excluded" in key else "")
            if n == "":
                continue  # no per-source split: the package draws the total only
        elif key in counts.counts:
            n = counts.counts[key]
        else:
            n = 0
        writer.writerow([key, node, box, text, text, "NA", "NA", n])
    return buf.getvalue()
