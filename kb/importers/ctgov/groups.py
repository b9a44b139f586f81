"""Registered arm groups and interventions, and the results groups matched to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kb.importers.ctgov.base import MapperBase
from kb.importers.ctgov.matching import Abbreviations, ArmText, GroupMatch, GroupMatcher
from kb.importers.ctgov.parsing import (
    _RESULTS,
    _norm_enum,
    _strip_enumeration,
    _text,
    normalise_label,
    slugify,
)

if TYPE_CHECKING:
    from rdflib import URIRef


_ARM_ROLES = {
    "EXPERIMENTAL": "experimental",
    "PLACEBO_COMPARATOR": "placebo-comparator",
    "SHAM_COMPARATOR": "placebo-comparator",
    "ACTIVE_COMPARATOR": "active-comparator",
    "NO_INTERVENTION": "standard-of-care",
    "OTHER": "other-arm",
}
_COMPARATOR_ROLES = {"placebo-comparator", "active-comparator", "standard-of-care"}

_INTERVENTION_TYPES = {
    "DRUG": "Drug",
    "DEVICE": "Device",
    "BIOLOGICAL": "Biological",
    "PROCEDURE": "Procedure",
    "RADIATION": "Radiation",
    "BEHAVIORAL": "Behavioral",
    "GENETIC": "Genetic",
    "DIETARY_SUPPLEMENT": "Dietary Supplement",
    "COMBINATION_PRODUCT": "Combination Product",
    "DIAGNOSTIC_TEST": "Diagnostic Test",
    "OTHER": "Other",
}


class GroupsMapper(MapperBase):
    """Arms, interventions, and results group -> arm resolution."""

    # -- arms and interventions ----------------------------------------------------------

    def _new_arm_key(self, label: str, prefix: str = "") -> str:
        base = prefix + slugify(label, "arm")
        key, n = base, 2
        while key in self.arm_keys:
            key, n = f"{base}-{n}", n + 1
        self.arm_keys.add(key)
        return key

    def map_arms(self) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.protocol("armsInterventionsModule")
        groups = [a for a in module.get("armGroups") or [] if isinstance(a, dict)]
        interventions = [i for i in module.get("interventions") or [] if isinstance(i, dict)]
        used: set[int] = set()
        for i, arm in enumerate(groups):
            label = _text(arm.get("label")) or f"arm {i + 1}"
            key = self._new_arm_key(label)
            node = self.iri("arm", key)
            role = _ARM_ROLES.get(_norm_enum(arm.get("type")), "other-arm")
            if self.single_arm and len(groups) == 1 and role == "experimental":
                role = "single-arm"
            path = f"protocolSection.armsInterventionsModule.armGroups[{i}]"
            self.record(node, EKB.Arm, path, _text(arm.get("description")))
            self.lit(node, RDFS.label, label)
            self.add(node, EKB.armRole, self.term(role))
            if arm.get("type"):
                self.note(node, f"Registered arm type: {arm['type']}.")
            self.add(self.study, EKB.hasArm, node)
            self.counts["arms"] += 1
            norm = normalise_label(label)
            self.arms.append((label, norm, _strip_enumeration(norm), node, role))
            # Interventions: by "Type: Name" in the arm, or by the arm's label in the intervention.
            names = [n for n in arm.get("interventionNames") or [] if isinstance(n, str)]
            linked: list[tuple[int | None, str]] = []
            for name in names:
                bare = name.split(":", 1)[1].strip() if ":" in name else name.strip()
                hit = next(
                    (
                        j
                        for j, iv in enumerate(interventions)
                        if normalise_label(str(iv.get("name", ""))) == normalise_label(bare)
                    ),
                    None,
                )
                linked.append((hit, bare))
            for j, iv in enumerate(interventions):
                labels = {normalise_label(str(x)) for x in iv.get("armGroupLabels") or []}
                if norm in labels and all(hit != j for hit, _ in linked):
                    linked.append((j, str(iv.get("name", ""))))
            linked.sort(key=lambda t: (t[0] is None, t[0] if t[0] is not None else 0, t[1]))
            for hit, name in linked:
                if hit is not None:
                    used.add(hit)
                if len(linked) == 1:
                    iv_node = self.iri("arm", key, "intervention")
                else:
                    iv_node = self.iri("arm", key, "intervention", slugify(name, "intervention"))
                self.map_intervention(
                    iv_node, interventions[hit] if hit is not None else None, hit, name, path
                )
                self.add(node, EKB.receives, iv_node)
            if role == "experimental" and self._receives_only_placebo(node):
                # Registries do call placebo arms EXPERIMENTAL (NCT02210780 does); a
                # comparison would otherwise have no comparator. The registered type stays
                # in the note.
                role = "placebo-comparator"
                self.g.remove((node, EKB.armRole, None))
                self.add(node, EKB.armRole, self.term(role))
                self.note(
                    node,
                    "The arm receives only placebo: taken as the placebo comparator.",
                )
                self.arms[-1] = (label, norm, _strip_enumeration(norm), node, role)
        for j, iv in enumerate(interventions):
            if j not in used:
                kind = _INTERVENTION_TYPES.get(
                    _norm_enum(iv.get("type")), str(iv.get("type") or "Intervention")
                )
                self.note(
                    self.study,
                    f"Registered intervention '{kind}: {_text(iv.get('name'))}' "
                    f"(protocolSection.armsInterventionsModule.interventions[{j}]) is linked "
                    "to no arm group.",
                )

    def _receives_only_placebo(self, arm: URIRef) -> bool:
        from kb.namespaces import AGENT, EKB

        agents = {self.g.value(iv, EKB.agent) for iv in self.g.objects(arm, EKB.receives)}
        return agents == {AGENT["placebo"]}

    def fallback_arm(self) -> None:
        """One arm for all participants when the record names no arm and no results group."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        if (self.study, EKB.hasArm, None) in self.g:
            return
        node = self.iri("arm", "all-participants")
        self.record(node, EKB.Arm, "protocolSection.armsInterventionsModule")
        self.lit(node, RDFS.label, "all participants")
        self.add(node, EKB.armRole, self.term("single-arm" if self.single_arm else "other-arm"))
        self.note(
            node,
            "The record registers no arm group and no results group; this arm stands "
            "for all participants.",
        )
        self.add(self.study, EKB.hasArm, node)
        self.counts["arms"] += 1
        module = self.protocol("armsInterventionsModule")
        interventions = [i for i in module.get("interventions") or [] if isinstance(i, dict)]
        for j, iv in enumerate(interventions):
            name = _text(iv.get("name")) or f"intervention {j + 1}"
            if len(interventions) == 1:
                iv_node = self.iri("arm", "all-participants", "intervention")
            else:
                iv_node = self.iri("arm", "all-participants", "intervention", slugify(name))
            self.map_intervention(iv_node, iv, j, name, "protocolSection.armsInterventionsModule")
            self.add(node, EKB.receives, iv_node)

    def map_intervention(
        self, node: URIRef, iv: dict[str, Any] | None, index: int | None, name: str, arm_path: str
    ) -> None:
        from kb.namespaces import EKB

        if iv is None:
            self.record(node, EKB.Intervention, f"{arm_path}.interventionNames", name)
            self.add(node, EKB.agent, self.concept("agent", name))
            self.lit(node, EKB.agentText, name)
            self.note(node, "Named by the arm group but not among the registered interventions.")
            return
        path = f"protocolSection.armsInterventionsModule.interventions[{index}]"
        self.record(node, EKB.Intervention, path, _text(iv.get("description")))
        real_name = _text(iv.get("name")) or name
        others = [_text(o) for o in iv.get("otherNames") or [] if _text(o)]
        self.add(node, EKB.agent, self.concept("agent", real_name, *[o for o in others if o]))
        self.lit(
            node,
            EKB.agentText,
            real_name + (f" (other names: {', '.join(o for o in others if o)})" if others else ""),
        )
        if iv.get("type"):
            self.note(node, f"Registered intervention type: {iv['type']}.")

    # -- results groups --------------------------------------------------------------------

    def matcher(self) -> GroupMatcher:
        """The group matcher of this record, built once the registered arms are mapped."""
        if self._matcher is None:
            self._matcher = self._build_matcher()
        return self._matcher

    def _build_matcher(self) -> GroupMatcher:
        module = self.protocol("armsInterventionsModule")
        groups = [a for a in module.get("armGroups") or [] if isinstance(a, dict)]
        interventions = [i for i in module.get("interventions") or [] if isinstance(i, dict)]
        texts: list[str] = []
        synonyms: list[tuple[str, str]] = []
        for iv in interventions:
            name = _text(iv.get("name")) or ""
            texts += [name, _text(iv.get("description")) or ""]
            for other in iv.get("otherNames") or []:
                if _text(other) and name:
                    synonyms.append((_text(other) or "", name))
        arms = []
        for i, (label, _, _, _, _) in enumerate(self.arms):
            arm = groups[i] if i < len(groups) else {}
            description = _text(arm.get("description"))
            texts += [label, description or ""]
            names = [str(n).split(":", 1)[-1].strip() for n in arm.get("interventionNames") or []]
            arms.append(ArmText(label, description, tuple(n for n in names if n)))
        results = self.r.get(_RESULTS) if isinstance(self.r.get(_RESULTS), dict) else {}
        for _, group in _all_results_groups(results or {}):
            texts += [_text(group.get("title")) or "", _text(group.get("description")) or ""]
        self.registered_arms = len(arms)
        self.arm_nodes = [a[3] for a in self.arms]
        return GroupMatcher(arms, Abbreviations([t for t in texts if t], synonyms))

    def resolve_groups(self, groups: Any, path: str) -> dict[str, tuple[URIRef | None, str]]:
        """Group id -> (arm, or None for the whole population; match note), in one module.

        Resolved once per module or measure (``path``); two groups of one module never
        share an arm unless an analysis set or a qualifier tells them apart.
        """
        if path in self.resolved:
            return self.resolved[path]
        matcher = self.matcher()
        entries = [
            (i, g) for i, g in enumerate(groups or []) if isinstance(g, dict) and g.get("id")
        ]
        decided: dict[str, tuple[int, str, GroupMatch]] = {}
        for i, group in entries:
            gid = str(group["id"])
            title = _text(group.get("title")) or gid
            match = matcher.match(
                title,
                _text(group.get("description")),
                others_in_module=len(entries) - 1,
                registered=self.registered_arms,
            )
            decided[gid] = (i, title, match)
        # One adverse-event group per arm, whatever sets them apart: an arm holds one
        # at-risk denominator per event term.
        self._keep_apart(decided, strict=path.endswith(".eventGroups"))
        resolved: dict[str, tuple[URIRef | None, str]] = {}
        for gid, (i, title, match) in decided.items():
            gpath = f"{path}[{i}]"
            self.group_matches[(path, gid)] = match
            resolved[gid] = self._arm_of(gid, title, match, gpath)
        self.resolved[path] = resolved
        return resolved

    @staticmethod
    def _keep_apart(decided: dict[str, tuple[int, str, GroupMatch]], *, strict: bool) -> None:
        """Two groups of one module on one arm: the stronger match keeps it, or neither."""
        by_arm: dict[tuple[int, str | None, str | None], list[str]] = {}
        for gid, (_, _, match) in decided.items():
            if match.kind == "arm" and match.arm is not None:
                key = (
                    (match.arm, None, None)
                    if strict
                    else (match.arm, match.analysis_set, match.qualifier)
                )
                by_arm.setdefault(key, []).append(gid)
        for gids in by_arm.values():
            if len(gids) < 2:
                continue
            best = min(decided[g][2].tier for g in gids)
            keep = [g for g in gids if decided[g][2].tier == best]
            for gid in gids:
                if len(keep) == 1 and gid == keep[0]:
                    continue
                i, title, match = decided[gid]
                others = ", ".join(g for g in gids if g != gid)
                decided[gid] = (
                    i,
                    title,
                    GroupMatch(
                        "unmatched",
                        f"{match.basis} would give it the same arm as group {others} of the "
                        "same module",
                    ),
                )

    def _arm_of(
        self, gid: str, title: str, match: GroupMatch, path: str
    ) -> tuple[URIRef | None, str]:
        matcher = self.matcher()
        if match.kind == "population":
            return None, f"Group {gid} '{title}' is the whole population, not an arm."
        if match.kind == "arm" and match.arm is not None:
            arm = matcher.arms[match.arm]
            return (
                self.arm_nodes[match.arm],
                f"Group {gid} '{title}' matched to arm '{arm.label}' (by {match.basis}).",
            )
        if match.kind == "sequence":
            # "Placebo -> OL Drug" in the flow and "Placebo/Drug" among adverse events name
            # the same sequence: one arm.
            sequence = tuple((p.arm, p.treatment) for p in match.sequence)
            if sequence not in self.sequence_arms:
                self.sequence_arms[sequence] = self._sequence_arm(title, match, path)
            node = self.sequence_arms[sequence]
            return node, f"Group {gid} '{title}' is an arm of its own: it {match.basis}."
        node = self._unmatched_arm(title, path, match.basis)
        return node, (
            f"Group {gid} '{title}' matched to no registered arm group; kept as its own arm "
            f"({match.basis})."
        )

    def _own_arm(self, title: str, path: str, role: str) -> URIRef:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        key = self._new_arm_key(title, "group-")
        node = self.iri("arm", key)
        self.record(node, EKB.Arm, path, title)
        self.lit(node, RDFS.label, title)
        self.add(node, EKB.armRole, self.term(role))
        self.add(self.study, EKB.hasArm, node)
        self.counts["arms"] += 1
        self.arm_nodes.append(node)
        self.matcher().add_arm(ArmText(title))
        return node

    def _unmatched_arm(self, title: str, path: str, basis: str) -> URIRef:
        node = self._own_arm(title, path, "other-arm")
        self.note(
            node,
            f"A results group that matches no registered arm group ({basis}); kept as "
            f"its own arm (first seen at {path}).",
        )
        self.warnings.append(
            f"results group '{title}' ({path}) matches no registered arm group; kept as its own arm"
        )
        return node

    def _sequence_arm(self, title: str, match: GroupMatch, path: str) -> URIRef:
        """A group that switches treatment: an arm receiving each treatment in order."""
        from kb.namespaces import EKB

        node = self._own_arm(title, path, "other-arm")
        self.note(
            node,
            f"A results group that switches treatment ({match.basis}); kept as its own arm, "
            f"receiving the treatments in that order (first seen at {path}).",
        )
        for n, part in enumerate(match.sequence, start=1):
            iv_node = self.iri("arm", str(node).rsplit("/", 1)[-1], "intervention", f"{n}")
            agents: list[URIRef] = []
            if part.arm is not None:
                source_arm = self.arm_nodes[part.arm]
                for iv in sorted(self.g.objects(source_arm, EKB.receives), key=str):
                    agent = self.g.value(iv, EKB.agent)
                    if agent is not None:
                        agents.append(agent)  # type: ignore[arg-type]
            if not agents:
                agents = [self.concept("agent", part.treatment or part.text)]
            self.record(node=iv_node, cls=EKB.Intervention, locator=path, printed=part.text)
            for agent in agents:
                self.add(iv_node, EKB.agent, agent)
            self.lit(iv_node, EKB.agentText, part.text)
            where = (
                f"as registered arm '{self.matcher().arms[part.arm].label}'"
                if part.arm is not None
                else "the registered intervention"
            )
            self.lit(
                iv_node,
                EKB.scheduleText,
                f"treatment {n} of {len(match.sequence)} in sequence ('{title}'), {where}",
            )
            self.add(node, EKB.receives, iv_node)
        return node

    def group(
        self, resolved: dict[str, tuple[URIRef | None, str]], gid: str, path: str
    ) -> tuple[URIRef | None, str]:
        if gid in resolved:
            return resolved[gid]
        # A group id used but not declared in this measure: kept, never dropped.
        node = self._unmatched_arm(gid, path, "not declared in this measure's groups")
        resolved[gid] = (
            node,
            f"Group {gid} is not declared in this measure's groups; kept as its own arm.",
        )
        return resolved[gid]

    def group_match(self, path: str, gid: str) -> GroupMatch | None:
        """The decision for group ``gid`` of the module or measure whose groups are at ``path``."""
        return self.group_matches.get((path, gid))


def _all_results_groups(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every results group of the record, with the module it is in (for abbreviations)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for module, key in (
        ("participantFlowModule", "groups"),
        ("baselineCharacteristicsModule", "groups"),
        ("adverseEventsModule", "eventGroups"),
    ):
        section = results.get(module)
        if isinstance(section, dict) and isinstance(section.get(key), list):
            found += [(module, g) for g in section[key] if isinstance(g, dict)]
    outcomes = results.get("outcomeMeasuresModule")
    if isinstance(outcomes, dict) and isinstance(outcomes.get("outcomeMeasures"), list):
        for m in outcomes["outcomeMeasures"]:
            if isinstance(m, dict) and isinstance(m.get("groups"), list):
                found += [("outcomeMeasuresModule", g) for g in m["groups"] if isinstance(g, dict)]
    return found
