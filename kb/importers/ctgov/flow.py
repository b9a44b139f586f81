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
        periods = list(module.get("periods") or [])
        started_in = [
            self._started(period, f"{mpath}.periods[{p}]") for p, period in enumerate(periods)
        ]
        start = self._start_periods(started_in)
        self.arm_sizes(start, periods, groups)
        for p, period in enumerate(periods):
            if not isinstance(period, dict):
                continue
            ptitle = _text(period.get("title")) or f"period {p + 1}"
            ppath = f"{mpath}.periods[{p}]"
            started = started_in[p]
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
                    continue  # the arms' sizes (see arm_sizes)
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
                    if arm is None:
                        self.note(o, f"{how} At {apath}: {self.printed(ach)}.")
                        continue
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
                    # STARTED in a later period is out of the number that started the
                    # group (in the period where it started); other rows are out of the
                    # number that started their own period.
                    if is_started:
                        begun = start.get(gid)
                        base = begun[1] if begun is not None and begun[0] < p else None
                    else:
                        base = started.get(gid)
                    if base and base[0] is not None:
                        self.lit(node, EKB.total, self.checked_total(node, count, base[0]))
                        self.note(node, f"Total is the group's STARTED count at {base[2]}.")
                    self.finish_result(node, o, apath)

    @staticmethod
    def _started(period: Any, ppath: str) -> dict[str, tuple[int | None, str, str]]:
        """Group id -> (count, as printed, JSON path) of a period's STARTED milestone."""
        started: dict[str, tuple[int | None, str, str]] = {}
        if not isinstance(period, dict):
            return started
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
        return started

    @staticmethod
    def _start_periods(
        started_in: list[dict[str, tuple[int | None, str, str]]],
    ) -> dict[str, tuple[int, tuple[int | None, str, str]]]:
        """Group id -> (period, STARTED entry) of the period where the group started: the
        first with participants; a group with 0 in the first period and participants in a
        later one (an extension) started there. With none, its first STARTED entry."""
        start: dict[str, tuple[int, tuple[int | None, str, str]]] = {}
        for p, started in enumerate(started_in):
            for gid, entry in started.items():
                begun = gid in start and (start[gid][1][0] or 0) > 0
                if gid not in start or (not begun and (entry[0] or 0) > 0):
                    start[gid] = (p, entry)
        return start

    def arm_sizes(
        self,
        start: dict[str, tuple[int, tuple[int | None, str, str]]],
        periods: list[Any],
        groups: dict[str, tuple[URIRef | None, str]],
    ) -> None:
        """``ekb:n`` of each arm: the STARTED count of the period where its group started."""
        from kb.namespaces import EKB

        per_arm: dict[URIRef, list[tuple[str, int, tuple[int | None, str, str]]]] = {}
        for gid, (p, entry) in start.items():
            arm, _ = self.group(groups, gid, entry[2])
            if arm is not None:
                per_arm.setdefault(arm, []).append((gid, p, entry))
        for arm, entries in per_arm.items():
            count = entries[0][2][0] if len(entries) == 1 else None
            if count is not None:
                gid, p, (_, _, where) = entries[0]
                self.lit(arm, EKB.n, count)
                if p == 0:
                    self.note(arm, f"n is the number that STARTED ({gid}, {where}).")
                else:
                    title = periods[p].get("title") if isinstance(periods[p], dict) else None
                    self.note(
                        arm,
                        f"n is the number that STARTED ({gid}, {where}) in period "
                        f"'{title or p + 1}', where the group started (none started in the "
                        "periods before).",
                    )
            else:
                listed = "; ".join(
                    f"{gid} printed '{raw}' at {where}" for gid, _, (_, raw, where) in entries
                )
                self.note(arm, f"STARTED counts not recorded as n: {listed}.")
