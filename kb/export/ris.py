"""RIS: one record per source (journal article, abstract, registry record, congress
abstract, plain-language summary, press release ...), written with rispy.

The source type travels as the RIS type (``TY``), as ``M3`` (type of work) and
in the notes, with the lower-confidence flag, so a screening tool shows it.
``ID`` is the source's resource path, stable across runs.
"""

from __future__ import annotations

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
        if row["authors"]:
            rec["authors"] = [str(row["authors"])]
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
        rec["notes"] = notes
        out.append(rec)
    return out


def render(store: Any, selection: Any, *, fmt: str = "ris", output: Path | None = None) -> Rendered:
    import rispy

    data = extract(store, selection)
    text = rispy.dumps([_one_line(rec) for rec in records(data)])
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
