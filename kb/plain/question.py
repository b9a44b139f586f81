"""Understanding a question: which conditions, treatments and topics it names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kb.plain.records import NAME_PATTERN, name_of, select
from kb.store import Store


@dataclass
class ConceptLabel:
    concept: str
    label: str
    name: str


def concept_labels(store: Store, scheme_prefix: str) -> list[ConceptLabel]:
    result = select(
        store,
        f"""SELECT ?c ?label ?c_plain ?c_pref WHERE {{
            ?c a skos:Concept ; skos:prefLabel|skos:altLabel ?label .
            FILTER(STRSTARTS(STR(?c), "{scheme_prefix}"))
            {NAME_PATTERN.format(c="?c", v="c")}
        }} ORDER BY ?c ?label""",
    )
    return [
        ConceptLabel(str(r["c"]), str(r["label"]), name_of(r, "c") or str(r["label"]))
        for r in result.rows
    ]


def mentioned(labels: list[ConceptLabel], question: str) -> list[ConceptLabel]:
    """Concepts whose label or synonym appears in the question as whole words.

    All-capital abbreviations ("SLE", "LN") must match in capitals, so that the
    word "ln" inside ordinary text does not count.
    """
    found: dict[str, ConceptLabel] = {}
    for item in sorted(labels, key=lambda x: -len(x.label)):
        flags = 0 if item.label.isupper() else re.IGNORECASE
        if re.search(rf"(?<![\w-]){re.escape(item.label)}(?![\w-])", question, flags):
            found.setdefault(item.concept, item)
    return list(found.values())


STOPWORDS = set(
    """a an and are be can could do does for from have help helps how i in is it its me my of on or
    should stop the there this to treat treatment treatments what which with would you your about
    any anything get good best cure is are was were will""".split()
)


def topic_words(question: str) -> str:
    words = [
        w for w in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", question) if w.lower() not in STOPWORDS
    ]
    return " ".join(words) if words else question.strip()
