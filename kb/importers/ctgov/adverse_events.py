"""Adverse events: group totals and one finding per event term and group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.importers.ctgov.parsing import _RESULTS, _text, parse_count, slugify
from kb.importers.ctgov.values import ValuesMapper

if TYPE_CHECKING:
    pass


class AdverseEventsMapper(ValuesMapper):
    """Safety findings."""

    # -- adverse events --------------------------------------------------------------------------

    def map_adverse_events(self) -> None:
        from kb.namespaces import EKB

        module = self.results("adverseEventsModule")
        if not module:
            return
        mpath = f"{_RESULTS}.adverseEventsModule"
        groups = self.resolve_groups(module.get("eventGroups"), f"{mpath}.eventGroups")
        time_frame = _text(module.get("timeFrame"))
        threshold = _text(module.get("frequencyThreshold"))
        totals = (
            ("deaths", "all-cause mortality", True),
            ("serious", "any serious adverse event", True),
            ("other", "any other (not serious) adverse event", False),
        )
        for e, eg in enumerate(module.get("eventGroups") or []):
            if not isinstance(eg, dict) or not eg.get("id"):
                continue
            gid = str(eg["id"])
            arm, how = self.group(groups, gid, f"{mpath}.eventGroups[{e}]")
            if arm is None:
                printed = "; ".join(f"{k}: {v}" for k, v in eg.items() if "Num" in k)
                self.note(
                    self.study, f"{how} Adverse events at {mpath}.eventGroups[{e}]: {printed}."
                )
                continue
            for prefix, term, serious in totals:
                affected_key, at_risk_key = f"{prefix}NumAffected", f"{prefix}NumAtRisk"
                if affected_key not in eg and at_risk_key not in eg:
                    continue
                node = self.iri("safety", f"{slugify(gid)}-{prefix}-total")
                printed = "; ".join(f"{k}: {eg[k]}" for k in (affected_key, at_risk_key) if k in eg)
                self.record(node, EKB.SafetyFinding, f"{mpath}.eventGroups[{e}]", printed)
                self.add(node, EKB.arm, arm)
                self.lit(node, EKB.eventTerm, term)
                self.lit(node, EKB.serious, serious)
                affected = parse_count(eg.get(affected_key))
                self.lit(node, EKB.affected, affected)
                at_risk = self.checked_total(node, affected, parse_count(eg.get(at_risk_key)))
                self.lit(node, EKB.atRisk, at_risk)
                if affected_key not in eg:
                    self.note(node, "Participants affected are not reported.")
                self.lit(node, EKB.timepointText, time_frame)
                self.note(node, how)
                if prefix == "other" and threshold:
                    self.note(
                        node,
                        "Other adverse events are reported above a frequency threshold of "
                        f"{threshold}%.",
                    )
                self.add(self.study, EKB.hasSafetyFinding, node)
                self.counts["safety"] += 1
        for list_key, serious in (("seriousEvents", True), ("otherEvents", False)):
            short = "serious" if serious else "other"
            for n, ev in enumerate(module.get(list_key) or []):
                if not isinstance(ev, dict):
                    continue
                epath = f"{mpath}.{list_key}[{n}]"
                term = _text(ev.get("term")) or "unnamed adverse event"
                for s, stat in enumerate(ev.get("stats") or []):
                    if not isinstance(stat, dict) or not stat.get("groupId"):
                        continue
                    gid = str(stat["groupId"])
                    spath = f"{epath}.stats[{s}]"
                    arm, how = self.group(groups, gid, spath)
                    if arm is None:
                        continue  # a whole-population group: its totals are noted on the study
                    node = self.iri("safety", f"{short}-{n}-{slugify(gid)}")
                    printed = "; ".join(
                        f"{k}: {stat[k]}"
                        for k in ("numAffected", "numAtRisk", "numEvents")
                        if k in stat
                    )
                    self.record(node, EKB.SafetyFinding, spath, printed)
                    self.add(node, EKB.arm, arm)
                    self.lit(node, EKB.eventTerm, term)
                    self.lit(node, EKB.organSystem, _text(ev.get("organSystem")))
                    self.lit(node, EKB.eventVocabulary, _text(ev.get("sourceVocabulary")))
                    self.lit(node, EKB.serious, serious)
                    affected = parse_count(stat.get("numAffected"))
                    self.lit(node, EKB.affected, affected)
                    at_risk = self.checked_total(node, affected, parse_count(stat.get("numAtRisk")))
                    if affected is None:
                        self.note(
                            node,
                            "Participants affected are not reported"
                            + (
                                f" (printed as '{stat['numAffected']}')."
                                if "numAffected" in stat
                                else "."
                            ),
                        )
                    self.lit(node, EKB.atRisk, at_risk)
                    self.lit(node, EKB.eventCount, parse_count(stat.get("numEvents")))
                    self.lit(node, EKB.assessmentType, _text(ev.get("assessmentType")))
                    self.lit(node, EKB.timepointText, time_frame)
                    self.note(node, how)
                    if _text(ev.get("notes")):
                        self.note(node, f"Registry notes: {_text(ev.get('notes'))}.")
                    self.add(self.study, EKB.hasSafetyFinding, node)
                    self.counts["safety"] += 1
