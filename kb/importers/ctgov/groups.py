"""Registered arm groups and interventions, and the results groups matched to them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kb.importers.ctgov.base import MapperBase
from kb.importers.ctgov.parsing import (
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

    def arm_for_group(self, title: str | None, group_id: str, path: str) -> tuple[URIRef, str]:
        """The arm of a results group, matched by title; a new arm when none matches."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        label = _text(title) or group_id
        norm = normalise_label(label)
        if norm in self.group_arms:
            return self.group_arms[norm]
        stripped = _strip_enumeration(norm)
        found: tuple[URIRef, str] | None = None
        tiers = (
            ("has the same title as", lambda a: a[1] == norm),
            ("has the same title, apart from numbering, as", lambda a: a[2] == stripped),
            (
                "has a title that contains the label of",
                lambda a: (
                    bool(a[2]) and re.search(rf"(^| ){re.escape(a[2])}( |$)", stripped) is not None
                ),
            ),
        )
        for how, test in tiers:
            hits = [a for a in self.arms if test(a)]
            if len(hits) == 1:
                found = (hits[0][3], f"matched to arm '{hits[0][0]}' ({how} the arm)")
                break
            if len(hits) > 1:
                break
        if found is None:
            key = self._new_arm_key(label, "group-")
            node = self.iri("arm", key)
            self.record(node, EKB.Arm, path, label)
            self.lit(node, RDFS.label, label)
            self.add(node, EKB.armRole, self.term("other-arm"))
            self.note(
                node,
                f"A results group that matches no registered arm group by title; kept as "
                f"its own arm (first seen at {path}).",
            )
            self.add(self.study, EKB.hasArm, node)
            self.counts["arms"] += 1
            found = (node, "matched to no registered arm group; kept as its own arm")
        self.group_arms[norm] = found
        return found

    def resolve_groups(
        self, groups: Any, path: str, *, total_is_population: bool = False
    ) -> dict[str, tuple[URIRef | None, str]]:
        """Group id -> (arm, or None for the whole population; match note), in one module."""
        resolved: dict[str, tuple[URIRef | None, str]] = {}
        for i, group in enumerate(groups or []):
            if not isinstance(group, dict) or not group.get("id"):
                continue
            gid = str(group["id"])
            title = _text(group.get("title")) or gid
            if total_is_population and normalise_label(title) == "total":
                resolved[gid] = (None, f"Group {gid} '{title}' is the whole population.")
                continue
            arm, how = self.arm_for_group(title, gid, f"{path}[{i}]")
            resolved[gid] = (arm, f"Group {gid} '{title}' {how}.")
        return resolved

    def group(
        self, resolved: dict[str, tuple[URIRef | None, str]], gid: str, path: str
    ) -> tuple[URIRef | None, str]:
        if gid in resolved:
            return resolved[gid]
        # A group id used but not declared in this measure: kept, never dropped.
        arm, how = self.arm_for_group(None, gid, path)
        resolved[gid] = (arm, f"Group {gid} is not declared in this measure's groups; {how}.")
        return resolved[gid]
