"""RIS: one record per source (journal article, abstract, registry record, congress
abstract, plain-language summary, press release ...), written with rispy.

The source type travels as the RIS type (``TY``), as ``M3`` (type of work) and
in the notes, with the lower-confidence flag, so a screening tool shows it.
``ID`` is the source's resource path, stable across runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.tables import extract
from kb.namespaces import shorten

#: source-type concept (local name) -> RIS reference type
RIS_TYPES = {
    "journal-article": "JOUR",
    "journal-table": "JOUR",
    "journal-abstract": "ABST",
    "registry-record": "DBASE",
    "congress-abstract": "CPAPER",
    "plain-language-summary": "GEN",
    "sponsor-release": "GEN",
    "secondary-summary": "ELEC",
}


#: Words that make a segment of an author list a group (an author) or an affiliation (not one).
_GROUP_WORDS = ("group", "investigators", "consortium", "collaborators", "committee")
_AFFILIATION_WORDS = ("university", "hospital", "institute", "college", "centre", "center")
_COUNT_SEGMENT = re.compile(r"^\d+ authors?$", re.IGNORECASE)
_CORRESPONDING = re.compile(r"^corresponding authors? include\s+", re.IGNORECASE)


def split_authors(text: str) -> tuple[list[str], list[str], bool]:
    """One name per person (or group) from an author line as the knowledge base records it.

    The recorded form is free text as the source prints it: ``"Brad H Rovin et al. (Teng,
    Ginzler, ..., Huizinga)"``, ``"Xia Zhang and Jing He (Peking University People's
    Hospital)"``, ``"The Canadian Hydroxychloroquine Study Group"``. The rule: the names before
    ``et al.`` or the parenthesis (joined by ``and``), then the parenthesis split at ``;`` and
    ``,``; ``...`` and "N authors" are dropped, "corresponding authors include" is read past,
    a segment naming a university or hospital is an affiliation, one naming a group or
    investigators is a group author. Names are kept as printed (never reordered or completed).

    :returns: the authors in order, the affiliations, and whether the list is incomplete
        (``et al.`` or ``...``): the full text then goes into a note.
    """
    text = " ".join(text.split())
    head, _, rest = text.partition("(")
    inner = rest.rsplit(")", 1)[0] if rest else ""
    incomplete = "et al" in head or "..." in inner or "…" in inner
    head = re.sub(r"\s+et al\.?\s*$", "", head.strip())
    authors = [n.strip() for n in re.split(r",|\s+and\s+", head) if n.strip()]
    affiliations: list[str] = []
    for segment in (x.strip() for x in inner.split(";")):
        if not segment or _COUNT_SEGMENT.match(segment):
            incomplete = incomplete or bool(segment)
            continue
        lowered = segment.lower()
        if any(w in lowered for w in _AFFILIATION_WORDS) and "," not in segment:
            affiliations.append(segment)
            continue
        if any(w in lowered for w in _GROUP_WORDS) and "," not in segment:
            authors.append(segment)
            continue
        segment = _CORRESPONDING.sub("", segment)
        for piece in re.split(r",|\s+and\s+", segment):
            name = re.sub(r"^(\.\.\.|…)\s*", "", piece.strip())  # "..., Roth" or "... Roth"
            if name and name.strip(".… ") and name not in authors:
                authors.append(name)
    return authors, affiliations, incomplete


def records(data: Any) -> list[dict[str, Any]]:
    """The RIS records (rispy dictionaries) of an :class:`~kb.export.tables.ExportData`."""
    out = []
    g = data.graph
    for row in data.sources.rows:
        src = str(row["source_iri"])
        st_iri = g.value(src, "sourceType")
        st_key = str(st_iri).rstrip("/").rsplit("/", 1)[-1] if st_iri is not None else ""
        rec: dict[str, Any] = {
            "type_of_reference": RIS_TYPES.get(st_key, "GEN"),
            "id": shorten(src),
        }
        if row["title"]:
            rec["title"] = str(row["title"])
        author_note = None
        if row["authors"]:
            authors, affiliations, incomplete = split_authors(str(row["authors"]))
            rec["authors"] = authors
            if affiliations:
                rec["author_address"] = "; ".join(affiliations)
            if incomplete:
                author_note = f"authors as recorded (list incomplete): {row['authors']}"
        if row["year"]:
            rec["year"] = str(row["year"])
        if row["journal"]:
            rec["journal_name"] = str(row["journal"])
        if row["doi"]:
            rec["doi"] = str(row["doi"])
        if row["pmid"]:
            rec["accession_number"] = str(row["pmid"])
        urls = [str(row["url"])] if row["url"] else []
        if row["doi"]:
            urls.append(f"https://doi.org/{row['doi']}")
        if urls:
            rec["urls"] = sorted(set(urls))
        if row["source_type"]:
            rec["type_of_work"] = str(row["source_type"])
        rec["keywords"] = sorted(
            {
                f"evidence-kb study: {row['study_id']}",
                f"source type: {row['source_type'] or 'unknown'}",
            }
        )
        notes = [f"source type: {row['source_type'] or 'unknown'}"]
        if row["lower_confidence"]:
            notes.append("lower-confidence source")
        if row["version_date"]:
            notes.append(f"version read: {row['version_date']}")
        if row["note"]:
            notes.append(str(row["note"]))
        if author_note:
            notes.append(author_note)
        rec["notes"] = notes
        out.append(rec)
    return out


def render(store: Any, selection: Any, *, fmt: str = "ris", output: Path | None = None) -> Rendered:
    import rispy

    class _Writer(rispy.RisWriter):
        # rispy numbers the records ("1.", "2.") on a line of their own before each TY; that
        # line is not RIS and some importers read it as part of the previous record.
        def set_header(self, count: int) -> str:
            return ""

    data = extract(store, selection)
    text = rispy.dumps([_one_line(rec) for rec in records(data)], implementation=_Writer)
    return Rendered({"": text.encode("utf-8")})


def _one_line(record: dict[str, Any]) -> dict[str, Any]:
    """Every field on one line: RIS is line-based, so a line break inside a title
    followed by ``ER  -`` / ``TY  -`` would end the record and forge another."""
    import re

    def flat(value: Any) -> Any:
        if isinstance(value, str):
            return re.sub(r"\s*[\r\n\u2028\u2029\x85\x0b\x0c]+\s*", " ", value).strip()
        if isinstance(value, list):
            return [flat(v) for v in value]
        return value

    return {key: flat(value) for key, value in record.items()}
