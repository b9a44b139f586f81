"""One record mapped to a graph: the steps in their order."""

from __future__ import annotations

from typing import Any

from kb.errors import CouldNotRun
from kb.importers.ctgov.adverse_events import AdverseEventsMapper
from kb.importers.ctgov.base import ImportedStudy
from kb.importers.ctgov.baseline import BaselineMapper
from kb.importers.ctgov.concepts import ConceptIndex
from kb.importers.ctgov.flow import FlowMapper
from kb.importers.ctgov.outcomes import OutcomesMapper
from kb.importers.ctgov.parsing import _RESULTS
from kb.importers.ctgov.reading import nct_id_of
from kb.importers.ctgov.schema import not_readable, structure_problems
from kb.importers.ctgov.study import StudyMapper


class _Mapper(StudyMapper, OutcomesMapper, FlowMapper, BaselineMapper, AdverseEventsMapper):
    """Maps one v2 study object to a graph; one instance per record."""

    def map(self) -> ImportedStudy:
        self.map_source()
        self.map_study()
        self.map_population()
        self.map_arms()
        self.resolve_module_groups()
        posted = self.map_outcome_measures()
        self.map_registered_outcomes(posted)
        self.map_participant_flow()
        self.map_baseline()
        self.map_adverse_events()
        self.fallback_arm()
        self.flush_notes()
        return ImportedStudy(
            self.study_id, self.nct, self.g, dict(self.counts), warnings=list(self.warnings)
        )

    def resolve_module_groups(self) -> None:
        """Resolve the module-wide groups before the measures: participant flow first, as
        its groups are the groups of participants that started (measures' groups such as
        "Healthy Participants: Carrot" are matched against them)."""
        for module, key in (
            ("participantFlowModule", "groups"),
            ("baselineCharacteristicsModule", "groups"),
            ("adverseEventsModule", "eventGroups"),
        ):
            section = self.results(module)
            if section:
                self.resolve_groups(section.get(key), f"{_RESULTS}.{module}.{key}")


def map_record(record: dict[str, Any], concepts: ConceptIndex | None = None) -> ImportedStudy:
    """Map one v2 study object to a graph (pure: reads nothing, writes nothing).

    :param record: the study object (``protocolSection``, optional ``resultsSection``...).
    :param concepts: vocabulary labels to reuse concepts from; none when omitted.
    :raises CouldNotRun: the object is not a study.
    """
    problems = structure_problems(record)
    if problems:
        nct = nct_id_of(record)
        raise CouldNotRun((f"{nct}: " if nct else "") + not_readable(problems))
    mapper = _Mapper(record, concepts or ConceptIndex())
    try:
        return mapper.map()
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # The schema checks every field the mapper reads; should one still surprise it,
        # say so without Python's exception text.
        raise CouldNotRun(
            f"{mapper.nct}: not a ClinicalTrials.gov v2 study record the importer can read "
            "(a field has a structure the importer does not expect)"
        ) from exc
