"""Baseline characteristics per results group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kb.importers.ctgov.parsing import _RESULTS, _text, slugify
from kb.importers.ctgov.values import ValuesMapper

if TYPE_CHECKING:
    pass


class BaselineMapper(ValuesMapper):
    """Baseline characteristics."""

    # -- baseline ----------------------------------------------------------------------------------

    def map_baseline(self) -> None:
        from kb.namespaces import EKB

        module = self.results("baselineCharacteristicsModule")
        if not module:
            return
        mpath = f"{_RESULTS}.baselineCharacteristicsModule"
        groups = self.resolve_groups(module.get("groups"), f"{mpath}.groups")
        overall = self.denominators(module.get("denoms"), f"{mpath}.denoms", None)
        if _text(module.get("populationDescription")):
            self.note(
                self.population,
                f"Baseline population: {_text(module.get('populationDescription'))}",
            )
        for i, m in enumerate(module.get("measures") or []):
            if not isinstance(m, dict):
                continue
            path = f"{mpath}.measures[{i}]"
            title = _text(m.get("title")) or f"baseline measure {i + 1}"
            denoms = (
                self.denominators(m.get("denoms"), f"{path}.denoms", m.get("denomUnitsSelected"))
                or overall
            )
            for cell in self.measurements(m, path, denoms):
                gid = str(cell.meas["groupId"])
                arm, how = self.group(groups, gid, cell.path)
                match = self.group_match(f"{mpath}.groups", gid)
                qualifier = match.qualifier if match else None
                label = ": ".join(
                    t for t in (title, qualifier, cell.class_title, cell.category_title) if t
                )
                node = self.iri("baseline", f"bm{i}-c{cell.c}-k{cell.k}-{slugify(gid)}")
                self.record(node, EKB.BaselineCharacteristic, cell.path, self.printed(cell.meas))
                self.lit(node, EKB.characteristic, label)
                self.add(node, EKB.arm, arm)
                self.lit(node, EKB.unit, _text(m.get("unitOfMeasure")))
                self.note(node, how)
                denom = cell.denoms.get(gid)
                self.fill_values(
                    node, m, cell.meas, denom, cell.units, is_result=False, title=title
                )
                self.add(self.population, EKB.hasBaselineCharacteristic, node)
                self.counts["baseline"] += 1
