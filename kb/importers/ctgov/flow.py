"""The participant flow: milestones and withdrawals per period, and the arms' sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kb.importers.ctgov.parsing import _RESULTS, _norm_enum, _text, parse_count, slugify
from kb.importers.ctgov.values import ValuesMapper

if TYPE_CHECKING:
    from rdflib import URIRef


class FlowMapper(ValuesMapper):
    """Participant flow results and arm sizes."""

    # -- participant flow ------------------------------------------------------------------------

    def map_participant_flow(self) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.results("participantFlowModule")
        if not module:
            return
        mpath = f"{_RESULTS}.participantFlowModule"
        groups = self.resolve_groups(module.get("groups"), f"{mpath}.groups")
        first_started: dict[str, tuple[int | None, str, str]] = {}
        for p, period in enumerate(module.get("periods") or []):
            if not isinstance(period, dict):
                continue
            ptitle = _text(period.get("title")) or f"period {p + 1}"
            ppath = f"{mpath}.periods[{p}]"
            started: dict[str, tuple[int | None, str, str]] = {}
            for m, ms in enumerate(period.get("milestones") or []):
                if isinstance(ms, dict) and _norm_enum(ms.get("type")) == "STARTED":
                    for a, ach in enumerate(ms.get("achievements") or []):
                        if isinstance(ach, dict) and ach.get("groupId"):
                            started[str(ach["groupId"])] = (
                                parse_count(ach.get("numSubjects")),
                                str(ach.get("numSubjects")),
                                f"{ppath}.milestones[{m}].achievements[{a}]",
                            )
                    break
            rows = [
                ("milestones", "achievements", "m", ms) for ms in period.get("milestones") or []
            ]
            rows += [
                ("dropWithdraws", "reasons", "w", dw) for dw in period.get("dropWithdraws") or []
            ]
            counters = {"m": 0, "w": 0}
            for list_key, item_key, letter, item in rows:
                idx = counters[letter]
                counters[letter] += 1
                if not isinstance(item, dict):
                    continue
                kind = _text(item.get("type")) or "unnamed"
                is_started = list_key == "milestones" and _norm_enum(kind) == "STARTED"
                ipath = f"{ppath}.{list_key}[{idx}]"
                if is_started and p == 0:
                    # The numbers that started the first period are the arms' sizes.
                    self.arm_sizes(item.get(item_key) or [], groups, f"{ipath}.{item_key}")
                    continue
                label = (
                    f"{ptitle}: {kind}"
                    if list_key == "milestones"
                    else f"{ptitle}: withdrawn, {kind}"
                )
                o = self.iri("outcome", f"flow-p{p}-{letter}{idx}")
                self.record(o, EKB.Outcome, ipath, kind)
                self.lit(o, RDFS.label, label)
                self.add(o, EKB.outcomeRole, self.term("disposition"))
                flow_label = (
                    f"participant flow: {kind.casefold()}"
                    if list_key == "milestones"
                    else f"withdrawal: {kind.casefold()}"
                )
                self.add(o, EKB.outcomeConcept, self.concept("outcome", flow_label))
                self.lit(o, EKB.unit, "participants")
                what = "milestone" if list_key == "milestones" else "reason for withdrawal"
                self.note(o, f"Participant flow ({what}).")
                if _text(item.get("comment")):
                    self.note(o, f"Registry comment: {_text(item.get('comment'))}.")
                self.add(self.study, EKB.hasOutcome, o)
                self.counts["outcomes"] += 1
                for a, ach in enumerate(item.get(item_key) or []):
                    if not isinstance(ach, dict) or not ach.get("groupId"):
                        continue
                    gid = str(ach["groupId"])
                    apath = f"{ipath}.{item_key}[{a}]"
                    arm, how = self.group(groups, gid, apath)
                    node = self.iri("result", f"flow-p{p}-{letter}{idx}-{slugify(gid)}")
                    self.record(node, EKB.Result, apath, self.printed(ach))
                    self.add(node, EKB.arm, arm)
                    self.add(node, EKB.outcome, o)
                    self.lit(node, EKB.timepointText, ptitle)
                    self.note(node, how)
                    count = parse_count(ach.get("numSubjects"))
                    if count is None:
                        self.note(
                            node, f"Number printed as '{ach.get('numSubjects')}' is not a count."
                        )
                    if _text(ach.get("comment")):
                        self.note(node, f"Registry comment: {_text(ach.get('comment'))}.")
                    if ach.get("numUnits") is not None:
                        self.note(node, f"Units: {ach.get('numUnits')}.")
                    self.lit(node, EKB.events, count)
                    base = (first_started if is_started else started).get(gid)
                    if base and base[0] is not None:
                        self.lit(node, EKB.total, self.checked_total(node, count, base[0]))
                        self.note(node, f"Total is the group's STARTED count at {base[2]}.")
                    self.finish_result(node, o, apath)
            if p == 0:
                first_started = started

    def arm_sizes(
        self, achievements: list[Any], groups: dict[str, tuple[URIRef | None, str]], path: str
    ) -> None:
        """``ekb:n`` of each arm from the STARTED milestone of the first period."""
        from kb.namespaces import EKB

        per_arm: dict[URIRef, list[tuple[str, Any, str]]] = {}
        for a, ach in enumerate(achievements):
            if isinstance(ach, dict) and ach.get("groupId"):
                gid = str(ach["groupId"])
                arm, _ = self.group(groups, gid, f"{path}[{a}]")
                if arm is not None:
                    per_arm.setdefault(arm, []).append(
                        (gid, ach.get("numSubjects"), f"{path}[{a}]")
                    )
        for arm, entries in per_arm.items():
            count = parse_count(entries[0][1]) if len(entries) == 1 else None
            if count is not None:
                self.lit(arm, EKB.n, count)
                self.note(arm, f"n is the number that STARTED ({entries[0][0]}, {entries[0][2]}).")
            else:
                listed = "; ".join(
                    f"{gid} printed '{raw}' at {where}" for gid, raw, where in entries
                )
                self.note(arm, f"STARTED counts not recorded as n: {listed}.")
