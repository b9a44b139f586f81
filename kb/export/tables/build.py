"""The shared tables (characteristics, arms, outcomes, comparisons, safety, claims, sources)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kb.export.tables.columns import (
    ARMS_COLUMNS,
    CHARACTERISTICS_COLUMNS,
    CLAIMS_COLUMNS,
    COMPARISONS_COLUMNS,
    OUTCOMES_COLUMNS,
    SAFETY_COLUMNS,
    SOURCES_COLUMNS,
)
from kb.export.tables.folder import FolderStore, read_files
from kb.export.tables.model import (
    CAVEAT_SEPARATOR,
    RDFS_LABEL,
    Cell,
    Row,
    Selection,
    Table,
    _join,
    local_key,
)
from kb.export.tables.provenance import _Provenance
from kb.export.tables.reading import Graph, _read_concepts, _read_records, py
from kb.namespaces import EKB, shorten


@dataclass
class ExportData:
    """Everything an export needs: the selection, the raw records and the shared tables."""

    selection: Selection
    graph: Graph
    characteristics: Table
    arms: Table
    outcomes: Table
    comparisons: Table
    safety: Table
    claims: Table
    sources: Table

    def tables(self) -> list[Table]:
        """The tables in the order every tabular export writes them."""
        return [
            self.characteristics,
            self.arms,
            self.outcomes,
            self.comparisons,
            self.safety,
            self.claims,
            self.sources,
        ]


class _Builder(_Provenance):
    """The shared tables, one method per table."""

    # -- tables

    def characteristics(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            pop = g.value(study, "hasPopulation")
            pop = str(pop) if pop is not None else None
            arms = [str(a) for a in g.values(study, "hasArm")]
            agents = []
            for arm in arms:
                for iv in g.values(arm, "receives"):
                    agents.append(
                        g.label(g.value(str(iv), "agent")) or py(g.value(str(iv), "agentText"))
                    )
            sources = [str(s) for s in g.values(study, "reportedIn")]
            caveats, flags = self.caveats(study, study)
            row: Row = {
                "study_id": py(g.value(study, "studyId")),
                "title": py(g.value(study, "title")),
                "year": py(g.value(study, "year")),
                "design": flags["design"],
                "design_text": py(g.value(study, "designText")),
                "blinding": g.label(g.value(study, "blinding")),
                "phase": _join(py(v) for v in g.values(study, "phase")),
                "registration_ids": _join(py(v) for v in g.values(study, "registrationId")),
                "countries": _join(py(v) for v in g.values(study, "country")),
                "status": py(g.value(study, "status")),
                "start_date": py(g.value(study, "startDate")),
                "completion_date": py(g.value(study, "completionDate")),
                "follow_up_weeks": py(g.value(study, "followUpWeeks")),
                "follow_up_text": py(g.value(study, "followUpText")),
                "conditions": _join(g.label(c) for c in g.values(pop, "condition"))
                if pop
                else None,
                "condition_text": py(g.value(pop, "conditionText")) if pop else None,
                "eligibility": py(g.value(pop, "eligibility")) if pop else None,
                "screened": py(g.value(pop, "screened")) if pop else None,
                "enrolled": py(g.value(pop, "enrolled")) if pop else None,
                "analysed": py(g.value(pop, "analysed")) if pop else None,
                "analysed_text": py(g.value(pop, "analysedText")) if pop else None,
                "age": py(g.value(pop, "ageText")) if pop else None,
                "sex": py(g.value(pop, "sexText")) if pop else None,
                "number_of_arms": len(arms),
                "interventions": _join(agents),
                "funding": py(g.value(study, "funding")),
                "conflicts_of_interest": py(g.value(study, "conflictsOfInterest")),
                "possibly_related_to": _join(
                    local_key(str(s), "study") for s in g.values(study, "possiblyRelatedTo")
                ),
                "single_arm": flags["single_arm"],
                "open_label": flags["open_label"],
                "sources": _join(local_key(s, "source") for s in sources),
                "source_types": _join(g.label(self.source_type(s)) for s in sources),
                "lower_confidence": any(self.lower_confidence(s) for s in sources)
                or flags["lower_confidence"],
                "caveats": caveats,
                "study_iri": study,
            }
            prov = self.provenance(study)
            prov["locator"] = py(g.value(pop, "locator")) if pop else prov["locator"]
            row.update(
                {k: prov[k] for k in ("source_title", "source_type", "doi", "url", "locator")}
            )
            rows.append(row)
        rows.sort(key=lambda r: str(r["study_id"]))
        return Table("characteristics", CHARACTERISTICS_COLUMNS, rows)

    def arms(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for arm_t in g.values(study, "hasArm"):
                arm = str(arm_t)
                ivs: list[str | None] = [str(i) for i in g.values(arm, "receives")] or [None]
                for iv in ivs:
                    caveats, flags = self.caveats(arm, study)
                    if iv is not None and self.reconciled(iv):  # the intervention's own
                        extra = [f"intervention {c}" for c in self.reconciled(iv)]
                        caveats = CAVEAT_SEPARATOR.join(c for c in (caveats, *extra) if c)

                    def ivv(prop: str, iv: str | None = iv) -> Cell:
                        return py(g.value(iv, prop)) if iv else None

                    row: Row = {
                        "study_id": sid,
                        "arm": local_key(arm, "arm"),
                        "arm_label": py(g.value(arm, RDFS_LABEL)),
                        "arm_role": g.label(g.value(arm, "armRole")),
                        "n": py(g.value(arm, "n")),
                        "agent": g.label(g.value(iv, "agent")) if iv else None,
                        "agent_text": ivv("agentText"),
                        "dose_value": ivv("doseValue"),
                        "dose_unit": ivv("doseUnit"),
                        "dose_text": ivv("doseText"),
                        "route": g.label(g.value(iv, "route")) if iv else None,
                        "frequency": ivv("frequencyText"),
                        "dosing_interval_days": ivv("dosingIntervalDays"),
                        "cycle_length_days": ivv("cycleLengthDays"),
                        "days_on_per_cycle": ivv("daysOnPerCycle"),
                        "days_off_per_cycle": ivv("daysOffPerCycle"),
                        "number_of_cycles": ivv("numberOfCycles"),
                        "duration_weeks": ivv("durationWeeks"),
                        "schedule": ivv("scheduleText"),
                        "background_therapy": _join(
                            py(v) for v in g.values(arm, "backgroundTherapy")
                        ),
                        "held_constant": _join(py(v) for v in g.values(arm, "heldConstant")),
                        "caveats": caveats,
                        "arm_iri": arm,
                    }
                    row.update(
                        {
                            k: flags[k]
                            for k in ("design", "single_arm", "open_label", "lower_confidence")
                        }
                    )
                    row.update(self.provenance(arm))
                    rows.append(row)
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["arm"]), str(r["agent"] or "")))
        return Table("arms", ARMS_COLUMNS, rows)

    def outcomes(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for res_t in g.values(study, "hasResult"):
                res = str(res_t)
                outcome = g.value(res, "outcome")
                outcome = str(outcome) if outcome is not None else None
                if not self.outcome_kept(outcome):
                    continue
                arm = g.value(res, "arm")
                arm = str(arm) if arm is not None else None
                caveats, flags = self.caveats(res, study)
                numbers = {
                    k: py(g.value(res, p))
                    for k, p in (
                        ("events", "events"),
                        ("total", "total"),
                        ("percent", "percent"),
                        ("mean", "mean"),
                        ("sd", "sd"),
                        ("se", "se"),
                        ("n", "n"),
                        ("median", "median"),
                        ("q1", "q1"),
                        ("q3", "q3"),
                        ("range_low", "rangeLow"),
                        ("range_high", "rangeHigh"),
                        ("percent_change", "percentChange"),
                        ("baseline_value", "baselineValue"),
                        ("follow_up_value", "followUpValue"),
                    )
                }
                if all(v is None for v in numbers.values()):
                    caveats = CAVEAT_SEPARATOR.join(
                        x for x in (caveats, "direction only: no number reported") if x
                    )
                tp = g.value(res, "timepointWeeks")
                if tp is None and outcome:
                    tp = g.value(outcome, "timepointWeeks")
                row: Row = {
                    "study_id": sid,
                    "arm": local_key(arm, "arm") if arm else None,
                    "arm_label": py(g.value(arm, RDFS_LABEL)) if arm else None,
                    "arm_role": g.label(g.value(arm, "armRole")) if arm else None,
                    "arm_n": py(g.value(arm, "n")) if arm else None,
                    "outcome": local_key(outcome, "outcome") if outcome else None,
                    "outcome_label": py(g.value(outcome, RDFS_LABEL)) if outcome else None,
                    "outcome_concept": g.label(g.value(outcome, "outcomeConcept"))
                    if outcome
                    else None,
                    "outcome_role": g.label(g.value(outcome, "outcomeRole")) if outcome else None,
                    "definition": py(g.value(outcome, "definition")) if outcome else None,
                    "timepoint_weeks": py(tp),
                    "timepoint_text": py(g.value(outcome, "timepointText")) if outcome else None,
                    "subgroup": py(g.value(res, "subgroup")),
                    "analysis_population": py(g.value(res, "analysisPopulation")),
                    **numbers,
                    "is_change_from_baseline": py(g.value(res, "isChangeFromBaseline")),
                    "summary_statistic": g.label(g.value(res, "summaryStatistic")),
                    "unit": py(g.value(res, "unit"))
                    or (py(g.value(outcome, "unit")) if outcome else None),
                    "direction": g.label(g.value(res, "direction")),
                    "p_value": py(g.value(res, "pValue")),
                    "p_value_comparator": py(g.value(res, "pValueComparator")),
                    "reported_significant": py(g.value(res, "reportedSignificant")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(res, "note")),
                    "result_iri": res,
                }
                row.update(flags)
                row.update(self.provenance(res))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["outcome"] or ""),
                _num_key(r["timepoint_weeks"]),
                str(r["subgroup"] or ""),
                str(r["arm"] or ""),
                str(r["result_iri"]),
            )
        )
        return Table("outcomes", OUTCOMES_COLUMNS, rows)

    def comparisons(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for cmp_t in g.values(study, "hasComparison"):
                cmp_ = str(cmp_t)
                outcome = g.value(cmp_, "outcome")
                outcome = str(outcome) if outcome is not None else None
                if not self.outcome_kept(outcome):
                    continue
                exp = g.value(cmp_, "experimentalArm")
                com = g.value(cmp_, "comparatorArm")
                measure = g.value(cmp_, "effectMeasure")
                caveats, flags = self.caveats(cmp_, study)
                row: Row = {
                    "study_id": sid,
                    "comparison": local_key(cmp_, "comparison"),
                    "experimental_arm": local_key(str(exp), "arm") if exp else None,
                    "experimental_label": py(g.value(str(exp), RDFS_LABEL)) if exp else None,
                    "comparator_arm": local_key(str(com), "arm") if com else None,
                    "comparator_label": py(g.value(str(com), RDFS_LABEL)) if com else None,
                    "outcome": local_key(outcome, "outcome") if outcome else None,
                    "outcome_label": py(g.value(outcome, RDFS_LABEL)) if outcome else None,
                    "outcome_concept": g.label(g.value(outcome, "outcomeConcept"))
                    if outcome
                    else None,
                    "timepoint_weeks": py(
                        g.value(cmp_, "timepointWeeks")
                        or (g.value(outcome, "timepointWeeks") if outcome else None)
                    ),
                    "subgroup": py(g.value(cmp_, "subgroup")),
                    "analysis_population": py(g.value(cmp_, "analysisPopulation")),
                    "effect_measure": g.label(measure),
                    "measure_code": py(self.g.concepts.get(str(measure), {}).get("notation"))
                    if measure
                    else None,
                    "estimate": py(g.value(cmp_, "estimate")),
                    "ci_lower": py(g.value(cmp_, "ciLower")),
                    "ci_upper": py(g.value(cmp_, "ciUpper")),
                    "ci_level": py(g.value(cmp_, "ciLevel")),
                    "p_value": py(g.value(cmp_, "pValue")),
                    "p_value_comparator": py(g.value(cmp_, "pValueComparator")),
                    "method": py(g.value(cmp_, "method")),
                    "adjusted": py(g.value(cmp_, "adjusted")),
                    "caveats": caveats,
                    "comparison_iri": cmp_,
                }
                row.update(flags)
                row.update(self.provenance(cmp_))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["outcome"] or ""),
                _num_key(r["timepoint_weeks"]),
                str(r["comparison"]),
            )
        )
        return Table("comparisons", COMPARISONS_COLUMNS, rows)

    def safety(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for sf_t in g.values(study, "hasSafetyFinding"):
                sf = str(sf_t)
                arm = g.value(sf, "arm")
                arm = str(arm) if arm is not None else None
                caveats, flags = self.caveats(sf, study)
                affected = py(g.value(sf, "affected"))
                if affected == 0:
                    reported = "none occurred"
                elif affected is None and py(g.value(sf, "eventCount")) is None:
                    reported = "not reported"
                else:
                    reported = "occurred"
                row: Row = {
                    "study_id": sid,
                    "finding": local_key(sf, "safety"),
                    "arm": local_key(arm, "arm") if arm else None,
                    "arm_label": py(g.value(arm, RDFS_LABEL)) if arm else None,
                    "arm_role": g.label(g.value(arm, "armRole")) if arm else None,
                    "event_term": py(g.value(sf, "eventTerm")),
                    "organ_system": py(g.value(sf, "organSystem")),
                    "event_vocabulary": py(g.value(sf, "eventVocabulary")),
                    "serious": py(g.value(sf, "serious")),
                    "affected": affected,
                    "at_risk": py(g.value(sf, "atRisk")),
                    "event_count": py(g.value(sf, "eventCount")),
                    "percent": py(g.value(sf, "percent")),
                    "reported": reported,
                    "timepoint_text": py(g.value(sf, "timepointText")),
                    "assessment_type": py(g.value(sf, "assessmentType")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(sf, "note")),
                    "safety_iri": sf,
                }
                row.update(
                    {
                        k: flags[k]
                        for k in (
                            "design",
                            "single_arm",
                            "open_label",
                            "model_based",
                            "quality_flag",
                            "lower_confidence",
                        )
                    }
                )
                row.update(self.provenance(sf))
                rows.append(row)
        rows.sort(
            key=lambda r: (
                str(r["study_id"]),
                str(r["event_term"] or ""),
                str(r["arm"] or ""),
                str(r["finding"]),
            )
        )
        return Table("safety", SAFETY_COLUMNS, rows)

    def claims(self) -> Table:
        g = self.g
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            for cl_t in g.values(study, "hasClaim"):
                cl = str(cl_t)
                about_outcomes = [str(o) for o in g.values(cl, "aboutOutcome")]
                if self.sel.outcome_concepts is not None:
                    supported = [str(s) for s in g.values(cl, "supportedBy")]
                    touches = set(about_outcomes) & self.sel.outcome_concepts or any(
                        self.outcome_kept(str(g.value(s, "outcome")))
                        for s in supported
                        if g.value(s, "outcome")
                    )
                    if not touches:
                        continue
                certainty = g.value(cl, "certainty")
                caveats, flags = self.caveats(cl, study)
                row: Row = {
                    "study_id": sid,
                    "claim": local_key(cl, "claim"),
                    "statement": py(g.value(cl, "statement")),
                    "claim_type": g.label(g.value(cl, "claimType")),
                    "interventions": _join(g.label(c) for c in g.values(cl, "aboutIntervention")),
                    "conditions": _join(g.label(c) for c in g.values(cl, "aboutCondition")),
                    "outcomes": _join(g.label(c) for c in about_outcomes),
                    "direction": g.label(g.value(cl, "direction")),
                    "certainty": g.label(certainty),
                    "certainty_rank": py(self.g.concepts.get(str(certainty), {}).get("rank"))
                    if certainty
                    else None,
                    "certainty_reasons": _join(g.label(c) for c in g.values(cl, "certaintyReason")),
                    "supported_by": _join(shorten(str(s)) for s in g.values(cl, "supportedBy")),
                    "caveats": caveats,
                    "note": _join(py(v) for v in g.values(cl, "note")),
                    "claim_iri": cl,
                }
                row.update(
                    {
                        k: flags[k]
                        for k in ("design", "single_arm", "open_label", "lower_confidence")
                    }
                )
                row.update(self.provenance(cl))
                rows.append(row)
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["claim"])))
        return Table("claims", CLAIMS_COLUMNS, rows)

    def sources(self) -> Table:
        g = self.g
        seen: set[str] = set()
        rows = []
        for study in self.sel.studies:
            sid = py(g.value(study, "studyId"))
            candidates = {str(s) for s in g.values(study, "reportedIn")}
            candidates |= {s for s in g.subjects_of.get(study, ()) if f"{EKB}Source" in g.types(s)}
            for src in sorted(candidates):
                if src in seen:
                    continue
                seen.add(src)
                st = self.source_type(src)
                doi = py(g.value(src, "doi"))
                rows.append(
                    {
                        "study_id": sid,
                        "source": local_key(src, "source"),
                        "title": py(g.value(src, "title")),
                        "source_type": g.label(st),
                        "lower_confidence": self.lower_confidence(src),
                        "authors": py(g.value(src, "authors")),
                        "year": py(g.value(src, "year")),
                        "journal": py(g.value(src, "journal")),
                        "doi": doi,
                        "pmid": py(g.value(src, "pmid")),
                        "url": py(g.value(src, "url")),
                        "version_date": py(g.value(src, "versionDate")),
                        "note": _join(py(v) for v in g.values(src, "note")),
                        "source_iri": src,
                    }
                )
        rows.sort(key=lambda r: (str(r["study_id"]), str(r["source"])))
        return Table("sources", SOURCES_COLUMNS, rows)


def _num_key(value: Cell) -> tuple[int, Decimal, str]:
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), "")
    return (1, Decimal(0), str(value or ""))


def extract(store: Any, selection: Selection) -> ExportData:
    """Read the selected studies once and build every shared table.

    :param store: any :class:`kb.store.Store`.
    :param selection: from :func:`select_studies`.
    """
    if isinstance(store, FolderStore):
        graph = read_files(store.files, selection)
    else:
        graph = _read_records(store, selection)
    _read_concepts(store, graph)
    b = _Builder(graph, selection)
    return ExportData(
        selection=selection,
        graph=graph,
        characteristics=b.characteristics(),
        arms=b.arms(),
        outcomes=b.outcomes(),
        comparisons=b.comparisons(),
        safety=b.safety(),
        claims=b.claims(),
        sources=b.sources(),
    )
