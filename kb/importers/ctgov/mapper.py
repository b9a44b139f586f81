"""One record mapped to a graph: the steps in their order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kb.errors import CouldNotRun
from kb.importers.ctgov.adverse_events import AdverseEventsMapper
from kb.importers.ctgov.base import ImportedStudy
from kb.importers.ctgov.baseline import BaselineMapper
from kb.importers.ctgov.concepts import ConceptIndex
from kb.importers.ctgov.flow import FlowMapper
from kb.importers.ctgov.outcomes import OutcomesMapper
from kb.importers.ctgov.study import StudyMapper

if TYPE_CHECKING:
    pass


class _Mapper(StudyMapper, OutcomesMapper, FlowMapper, BaselineMapper, AdverseEventsMapper):
    """Maps one v2 study object to a graph; one instance per record."""

    def map(self) -> ImportedStudy:
        self.map_source()
        self.map_study()
        self.map_population()
        self.map_arms()
        posted = self.map_outcome_measures()
        self.map_registered_outcomes(posted)
        self.map_participant_flow()
        self.map_baseline()
        self.map_adverse_events()
        self.fallback_arm()
        self.flush_notes()
        return ImportedStudy(self.study_id, self.nct, self.g, dict(self.counts))


def map_record(record: dict[str, Any], concepts: ConceptIndex | None = None) -> ImportedStudy:
    """Map one v2 study object to a graph (pure: reads nothing, writes nothing).

    :param record: the study object (``protocolSection``, optional ``resultsSection``...).
    :param concepts: vocabulary labels to reuse concepts from; none when omitted.
    :raises CouldNotRun: the object is not a study.
    """
    mapper = _Mapper(record, concepts or ConceptIndex())
    try:
        return mapper.map()
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        # A field of the wrong JSON type (a string where the data model has an object):
        # the record does not follow the v2 data model; say so instead of a traceback.
        raise CouldNotRun(
            f"{mapper.nct}: not a well-formed ClinicalTrials.gov v2 study record "
            f"({type(exc).__name__}: {exc})"
        ) from exc
