"""Plain-language study summaries and answers to patients' questions.

Every sentence is generated from the triples of the knowledge base and keeps
the IRIs of the results, claims and sources it states, so a reader (or a test)
can trace each one back to its evidence. Nothing is said that the knowledge
base does not hold: no recommendation without a claim or result behind it.

Words come from the vocabularies: a concept's ``ekb:plainLabel`` when it has
one, else its ``skos:prefLabel``.

The package runs in steps, one module each: ``question`` (what the question
names), ``records`` (reading the knowledge base), ``selection`` (which evidence
is told, in which order), ``reviews`` (the reviews that cover a question or
include a study, with their Summary of Findings rows), ``sentences``,
``review_sentences``, ``safety`` and ``words`` (writing), ``text``
(rendering), and ``summary`` / ``answer`` putting them together.
"""

from kb.plain.answer import MAX_STUDIES_PER_TREATMENT, answer_question
from kb.plain.summary import resolve_study, summarise_study
from kb.plain.text import SUMMARY_SECTIONS, PlainText, Sentence, SourceRef, readability_grade

__all__ = [
    "MAX_STUDIES_PER_TREATMENT",
    "SUMMARY_SECTIONS",
    "PlainText",
    "Sentence",
    "SourceRef",
    "answer_question",
    "readability_grade",
    "resolve_study",
    "summarise_study",
]
