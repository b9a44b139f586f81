"""GRADE indirectness where the recorded concepts can tell (rule IND.PICO).

For each study that enters an outcome's analysis, the concepts it records are compared
with the review question's (GRADE 8, J Clin Epidemiol 2011;64:1303: population,
intervention, comparator and outcome of the studies against the question):

- **population**: one of the study population's ``ekb:condition`` concepts is a question
  population concept or narrower than one (``skos:broader`` followed any number of steps);
  any other condition (broader, or beside the question's) is a mismatch, unless the result
  is for a subgroup, whose text the data do not code as a concept (then the reviewer
  judges);
- **intervention**: every experimental arm of the comparison receives an agent that is a
  question intervention or narrower than one;
- **comparator**: every comparator arm of the comparison receives an agent that is a
  question comparator or narrower (only when the question names comparator concepts);
- **outcome**: not compared here: the analysis already takes only results whose outcome
  concept is the question's or narrower (``ekb meta OUTCOME --review``).

A study part without a concept to compare is "cannot tell", never a match. The result
feeds :func:`kb.grade.rules.indirectness`: any mismatch suggests "serious" (the reviewer
decides whether the difference matters); no mismatch and nothing unknown suggests "not
serious"; otherwise the rating is left to the reviewer, with what could not be compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.namespaces import EKB

if TYPE_CHECKING:
    from rdflib import Graph

    from kb.analysis.data import StudyRecord
    from kb.sysreview.model import Question

_SKOS = "http://www.w3.org/2004/02/skos/core#"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


@dataclass(frozen=True)
class Directness:
    """What the comparison of recorded concepts with the question found."""

    mismatches: list[tuple[str, str]] = field(default_factory=list)  #: (study, what differs)
    unknown: list[tuple[str, str]] = field(default_factory=list)  #: (study, what cannot be told)
    compared: tuple[str, ...] = ()  #: the PICO parts compared ("population", ...)

    @property
    def for_rule(self) -> list[tuple[str, str]] | None:
        """The mismatches, or ``None`` when a study could not be compared and none differs."""
        if self.mismatches:
            return self.mismatches
        return None if self.unknown or not self.compared else []

    def detail(self) -> str:
        """Words for the suggestion's reason."""
        parts = []
        if self.compared:
            parts.append("compared: " + ", ".join(self.compared) + " concepts")
        if self.unknown:
            parts.append("cannot tell: " + "; ".join(f"{s}: {w}" for s, w in self.unknown))
        return "; ".join(parts)


class _Concepts:
    """Labels and the ``skos:broader`` hierarchy of the vocabularies plus the study files."""

    def __init__(self, graph: Graph) -> None:
        from rdflib import URIRef

        self.graph = graph
        self._uri = URIRef

    def label(self, iri: str) -> str:
        for prop in (_SKOS + "prefLabel", _RDFS_LABEL):
            value = self.graph.value(self._uri(iri), self._uri(prop))
            if value is not None:
                return str(value)
        return iri.rsplit("/", 1)[-1]

    def labels(self, iris: Iterable[str]) -> str:
        return ", ".join(sorted(self.label(i) for i in iris))

    def broader_or_same(self, iri: str) -> set[str]:
        """The concept and every concept above it."""
        broader = self._uri(_SKOS + "broader")
        return {str(c) for c in self.graph.transitive_objects(self._uri(iri), broader)}

    def within(self, iri: str, targets: Iterable[str]) -> bool:
        """Is ``iri`` one of ``targets`` or narrower than one of them?"""
        return bool(self.broader_or_same(iri) & set(targets))

    def objects(self, subject: str, *path: str) -> list[str]:
        nodes: list[Any] = [self._uri(subject)]
        for prop in path:
            nodes = [o for n in nodes for o in self.graph.objects(n, self._uri(prop))]
        return sorted({str(n) for n in nodes if isinstance(n, self._uri)})


def _load(kb_dir: Path, study_ids: Iterable[str]) -> _Concepts:
    from rdflib import Graph

    from kb import paths
    from kb.kbdir import study_file
    from kb.turtle_format import parse_turtle

    graph = Graph()
    for file in [*paths.kb_vocab_files(kb_dir), *(study_file(kb_dir, s) for s in study_ids)]:
        if file.is_file():
            graph += parse_turtle(file.read_text(encoding="utf-8"), str(file))
    return _Concepts(graph)


def compare(question: Question, studies: Sequence[StudyRecord], kb_dir: Path) -> Directness:
    """Compare each study's recorded population, intervention and comparator concepts with
    the question's (see the module docstring for the rule)."""
    from kb.namespaces import RES

    concepts = _load(kb_dir, [s.study for s in studies])
    compared = tuple(
        part
        for part, wanted in (
            ("population", question.population),
            ("intervention", question.interventions),
            ("comparator", question.comparators),
        )
        if wanted
    )
    mismatches: list[tuple[str, str]] = []
    unknown: list[tuple[str, str]] = []
    for s in studies:
        study = f"{RES}study/{s.study}"
        if question.population:
            conditions = concepts.objects(study, EKB.hasPopulation, EKB.condition)
            _population(s, conditions, question.population, concepts, mismatches, unknown)
        for side, arms, wanted in (
            ("intervention", s.experimental_arms, question.interventions),
            ("comparator", s.comparator_arms, question.comparators),
        ):
            if wanted:
                _arms(s.study, side, arms, wanted, concepts, mismatches, unknown)
    return Directness(mismatches, unknown, compared)


def _population(
    s: StudyRecord,
    conditions: list[str],
    wanted: Sequence[str],
    concepts: _Concepts,
    mismatches: list[tuple[str, str]],
    unknown: list[tuple[str, str]],
) -> None:
    if not conditions:
        unknown.append((s.study, "no condition concept recorded for its population"))
        return
    if any(concepts.within(c, wanted) for c in conditions):
        return
    question = concepts.labels(wanted)
    if s.subgroup:
        unknown.append(
            (
                s.study,
                f"its population ({concepts.labels(conditions)}) is not the question's"
                f" ({question}), and the result is for the subgroup {s.subgroup!r},"
                " which the data do not code as a concept",
            )
        )
        return
    broader = [c for c in conditions if any(c in concepts.broader_or_same(w) for w in wanted)]
    if broader:
        mismatches.append(
            (
                s.study,
                f"population {concepts.labels(broader)} is broader than the question's"
                f" ({question})",
            )
        )
    else:
        mismatches.append(
            (s.study, f"population {concepts.labels(conditions)}, not the question's ({question})")
        )


def _arms(
    study: str,
    side: str,
    arms: Sequence[str],
    wanted: Sequence[str],
    concepts: _Concepts,
    mismatches: list[tuple[str, str]],
    unknown: list[tuple[str, str]],
) -> None:
    if not arms:
        unknown.append((study, f"the {side} arms of the comparison are not known"))
        return
    question = concepts.labels(wanted)
    for arm in arms:
        agents = concepts.objects(arm, EKB.receives, EKB.agent)
        name = concepts.label(arm)
        if not agents:
            unknown.append((study, f"{side} arm {name}: no agent concept recorded"))
        elif not any(concepts.within(a, wanted) for a in agents):
            mismatches.append(
                (
                    study,
                    f"{side} arm {name} receives {concepts.labels(agents)},"
                    f" not the question's {side} ({question})",
                )
            )
