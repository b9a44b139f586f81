"""Rendering: sentences with their evidence, and the Markdown and JSON they are printed as."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: Sections of a study summary, in reading order.
SUMMARY_SECTIONS = (
    "What was studied",
    "Who took part",
    "What they received",
    "What happened",
    "Side effects",
    "How far can we trust this?",
)


@dataclass
class Sentence:
    """One sentence and the evidence it states."""

    text: str
    section: str
    results: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: True when the sentence opens a new paragraph within its section.
    starts_paragraph: bool = False
    #: The exact numbers behind the sentence, by result IRI: the text rounds
    #: percentages to whole numbers, the JSON keeps what the study printed.
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The reviews (IRIs) whose Summary of Findings the sentence states.
    reviews: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "starts_paragraph": self.starts_paragraph,
            "text": self.text,
            "results": self.results,
            "claims": self.claims,
            "reviews": self.reviews,
            "sources": self.sources,
            "values": self.values,
        }


class Sentences(list[Sentence]):
    """The sentences of a text being written, with one way to add one."""

    def say(
        self,
        section: str,
        text: str,
        *,
        results: Sequence[str] = (),
        claims: Sequence[str] = (),
        sources: Sequence[str | None] = (),
        paragraph: bool = False,
        values: Mapping[str, dict[str, Any]] | None = None,
        reviews: Sequence[str] = (),
    ) -> None:
        """Add a sentence with the evidence it states (unknown sources are skipped)."""
        self.append(
            Sentence(
                text,
                section,
                list(dict.fromkeys(results)),
                list(dict.fromkeys(claims)),
                sorted({s for s in sources if s}),
                paragraph,
                dict(values or {}),
                list(dict.fromkeys(reviews)),
            )
        )


#: Host names that mark a test or staging copy of a web site, not its public address.
_UNSTABLE_HOST_LABELS = {"staging", "stage", "dev", "test", "localhost", "preview"}


def is_stable_url(url: str) -> bool:
    """False for a link a reader should not be sent to: a raw IP address, a
    non-standard port, or a staging/test host.

    >>> is_stable_url("https://doi.org/10.1/x"), is_stable_url("http://47.251.13.51:8081/1")
    (True, False)
    >>> is_stable_url("https://staging.physiciansweekly.com/122089-2")
    False
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or parts.port is not None:
        return False
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return not (set(host.lower().split(".")) & _UNSTABLE_HOST_LABELS)


@dataclass
class SourceRef:
    iri: str
    title: str
    source_type: str
    doi: str | None
    url: str | None
    lower_confidence: bool
    pmid: str | None = None
    #: Where to look when there is no public link (a review of this knowledge base).
    where: str | None = None

    @property
    def link(self) -> str | None:
        """Where a reader can find the source: its DOI, else its PubMed record,
        else its URL when that is a stable public address; ``None`` otherwise."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.url and is_stable_url(self.url):
            return self.url
        return None


@dataclass
class PlainText:
    """A summary or an answer: a title, sentences in sections, and the sources they cite."""

    title: str
    sentences: list[Sentence]
    sources: dict[str, SourceRef]
    extra: dict[str, Any] = field(default_factory=dict)

    def cited_sources(self) -> list[SourceRef]:
        """Sources in order of first citation (the numbering of the Markdown)."""
        order: list[str] = []
        for sentence in self.sentences:
            for iri in sentence.sources:
                if iri not in order and iri in self.sources:
                    order.append(iri)
        return [self.sources[i] for i in order]

    def plain_text(self) -> str:
        """All sentences as running text (what readability is measured on)."""
        return " ".join(s.text for s in self.sentences)

    def to_json(self) -> dict[str, Any]:
        numbers = {s.iri: n for n, s in enumerate(self.cited_sources(), start=1)}
        return {
            "title": self.title,
            **self.extra,
            "sentences": [
                {**s.to_json(), "source_numbers": [numbers[i] for i in s.sources if i in numbers]}
                for s in self.sentences
            ],
            "sources": [
                {
                    "number": numbers[s.iri],
                    "iri": s.iri,
                    "title": s.title,
                    "source_type": s.source_type,
                    "doi": s.doi,
                    "url": s.url,
                    "pmid": s.pmid,
                    "link": s.link,
                    "where": s.where,
                    "lower_confidence": s.lower_confidence,
                }
                for s in self.cited_sources()
            ],
        }

    def to_markdown(self) -> str:
        numbers = {s.iri: n for n, s in enumerate(self.cited_sources(), start=1)}
        lines = [f"# {self.title}", ""]
        section = None
        paragraph: list[str] = []

        def flush() -> None:
            if paragraph:
                lines.append(" ".join(paragraph))
                lines.append("")
                paragraph.clear()

        for sentence in self.sentences:
            if sentence.section != section:
                flush()
                section = sentence.section
                lines.append(f"## {section}")
                lines.append("")
            elif sentence.starts_paragraph:
                flush()
            refs = sorted({numbers[i] for i in sentence.sources if i in numbers})
            marks = "".join(f"[{n}]" for n in refs)
            paragraph.append(f"{sentence.text}{' ' + marks if marks else ''}")
        flush()
        cited = self.cited_sources()
        if cited:
            lines.append("## Sources")
            lines.append("")
            for n, src in enumerate(cited, start=1):
                where = src.link or src.where or "No stable public link is recorded."
                flag = " (lower-confidence source)" if src.lower_confidence else ""
                lines.append(f"{n}. {src.title} ({src.source_type}){flag}. {where}")
            lines.append("")
        return "\n".join(lines)


def readability_grade(text: str) -> float:
    """The Flesch-Kincaid school grade of a text (textstat)."""
    import textstat

    return float(textstat.flesch_kincaid_grade(text))
