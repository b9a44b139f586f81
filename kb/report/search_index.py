"""The client-side search index, built at report time.

Written as a JavaScript file that assigns one global (``window.EKB_SEARCH``) rather than a
JSON file fetched by script: browsers refuse ``fetch()`` of ``file:`` URLs, and the site
must work when opened straight from disk.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb.report.model import SiteData


def _split(cell: Any) -> list[str]:
    return [part.strip() for part in str(cell or "").split(";") if part.strip()]


def search_documents(site: SiteData, study_href: dict[str, str]) -> list[dict[str, Any]]:
    """One document per study, intervention, outcome and condition, each with its links.

    A document is ``{"kind", "title", "text", "links": [[label, href], ...]}``; ``text``
    is what the search box matches (lower case), ``links`` the pages it leads to.
    """
    docs: list[dict[str, Any]] = []
    by_concept: dict[tuple[str, str], set[str]] = defaultdict(set)
    for study in site.studies:
        row = study.row
        words = [
            study.study_id,
            study.title,
            str(row.get("design") or ""),
            str(row.get("conditions") or ""),
            str(row.get("registration") or ""),
        ]
        for item in study.pico:
            if item["element"] in ("intervention", "comparator") and item["concept_label"]:
                by_concept[("intervention", str(item["concept_label"]))].add(study.study_id)
                words.append(str(item["concept_label"]))
            if item["element"] == "outcome" and item["concept_label"]:
                by_concept[("outcome", str(item["concept_label"]))].add(study.study_id)
                words.append(str(item["concept_label"]))
            if item["element"] == "population" and item["concept_label"]:
                by_concept[("condition", str(item["concept_label"]))].add(study.study_id)
        docs.append(
            {
                "kind": "study",
                "title": study.title,
                "text": " ".join(w for w in words if w).lower(),
                "links": [[study.study_id, study_href[study.study_id]]],
            }
        )
    for (kind, label), ids in sorted(by_concept.items()):
        docs.append(
            {
                "kind": kind,
                "title": label,
                "text": label.lower(),
                "links": [[i, study_href[i]] for i in sorted(ids)],
            }
        )
    return docs


def search_index_js(docs: list[dict[str, Any]]) -> str:
    payload = json.dumps(docs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # "</" cannot end a script element here (the file is loaded by src), but keep it
    # escaped anyway so the same text is safe if it is ever inlined.
    payload = payload.replace("</", "<\\/")
    return f"window.EKB_SEARCH = {payload};\n"
