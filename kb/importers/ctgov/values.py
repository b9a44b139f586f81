"""The numbers of one measurement: denominators, values, dispersion, and printed text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kb.importers.ctgov.base import _Cell
from kb.importers.ctgov.groups import GroupsMapper
from kb.importers.ctgov.parsing import (
    _norm_enum,
    _text,
    normalise_label,
    parse_count,
    parse_decimal,
)

if TYPE_CHECKING:
    from rdflib import URIRef


class ValuesMapper(GroupsMapper):
    """Cells of measures and the numbers they put on a record."""

    def measurements(
        self, measure: dict[str, Any], path: str, denoms: dict[str, tuple[str, str]]
    ) -> Iterator[_Cell]:
        """Every measurement of an outcome or baseline measure, with the denominators
        that apply to it: the class's own when it has them, else the measure's."""
        selected = measure.get("denomUnitsSelected")
        for c, cls in enumerate(measure.get("classes") or []):
            if not isinstance(cls, dict):
                continue
            class_denoms = (
                self.denominators(cls.get("denoms"), f"{path}.classes[{c}].denoms", selected)
                or denoms
            )
            units = class_denoms.get("__units__", (None, ""))[0]
            for k, cat in enumerate(cls.get("categories") or []):
                if not isinstance(cat, dict):
                    continue
                for j, meas in enumerate(cat.get("measurements") or []):
                    if not isinstance(meas, dict) or not meas.get("groupId"):
                        continue
                    yield _Cell(
                        c,
                        k,
                        meas,
                        f"{path}.classes[{c}].categories[{k}].measurements[{j}]",
                        class_denoms,
                        units,
                        _text(cls.get("title")),
                        _text(cat.get("title")),
                    )

    # -- values --------------------------------------------------------------------------

    @staticmethod
    def denominators(denoms: Any, path: str, selected: str | None) -> dict[str, tuple[str, str]]:
        """Group id -> (raw value, JSON path) from a ``denoms`` list, in the selected units."""
        entries = [d for d in denoms or [] if isinstance(d, dict)]
        if not entries:
            return {}
        chosen = 0
        wanted = [selected] if selected else []
        wanted.append("Participants")
        for want in wanted:
            hit = next(
                (
                    k
                    for k, d in enumerate(entries)
                    if normalise_label(str(d.get("units", ""))) == normalise_label(want)
                ),
                None,
            )
            if hit is not None:
                chosen = hit
                break
        out: dict[str, tuple[str, str]] = {}
        for c, count in enumerate(entries[chosen].get("counts") or []):
            if isinstance(count, dict) and count.get("groupId"):
                out[str(count["groupId"])] = (
                    str(count.get("value")),
                    f"{path}[{chosen}].counts[{c}]",
                )
        units = entries[chosen].get("units")
        if units:
            out["__units__"] = (str(units), "")
        return out

    def fill_values(
        self,
        node: URIRef,
        measure: dict[str, Any],
        meas: dict[str, Any],
        denom: tuple[str, str] | None,
        denom_units: str | None,
        *,
        is_result: bool,
        title: str,
    ) -> None:
        """Put one measurement's numbers on a Result or BaselineCharacteristic."""
        from kb.namespaces import EKB

        param = _norm_enum(measure.get("paramType"))
        disp = _norm_enum(measure.get("dispersionType"))
        unit = _text(measure.get("unitOfMeasure")) or ""
        raw = meas.get("value")
        value = parse_decimal(raw)
        denom_count = parse_count(denom[0]) if denom else None
        comment = _text(meas.get("comment"))
        if comment:
            self.note(node, f"Registry comment: {comment}.")
        if denom is not None:
            if denom_count is None:
                self.note(node, f"Denominator printed as '{denom[0]}' at {denom[1]}.")
            else:
                self.note(node, f"Denominator {denom_count} from {denom[1]}.")
        if denom_units and normalise_label(denom_units) != "participants":
            self.note(node, f"Denominator units: {denom_units}.")
        if value is None:
            self.note(node, f"Value printed as '{raw}' is not a number; no value recorded.")
        unit_norm = normalise_label(unit)
        is_count = param in {"COUNT_OF_PARTICIPANTS", "COUNT_OF_UNITS"} or (
            param == "NUMBER"
            and unit_norm in {"participants", "patients", "subjects", "count of participants"}
        )
        is_percent = (
            param == "NUMBER"
            and not is_count
            and bool(
                re.search(r"(percent|%|percentage)", unit.casefold())
                and re.search(r"participant|patient|subject|people|person", unit.casefold())
            )
        )
        change = bool(re.search(r"\bchang", title.casefold()) and "baseline" in title.casefold())
        if is_result:
            self.lit(node, EKB.unit, unit or None)
        if is_count:
            count = parse_count(raw)
            if value is not None and count is None:
                self.note(
                    node,
                    f"Count printed as '{raw}' is not a whole number; not recorded as a count.",
                )
            if is_result:
                self.lit(node, EKB.events, count)
                self.lit(node, EKB.total, self.checked_total(node, count, denom_count))
                if param == "COUNT_OF_UNITS":
                    self.note(node, "Counts are of units analysed, not participants.")
            else:
                self.lit(node, EKB.n, count)
            return
        if is_result:
            if is_percent:
                self.lit(node, EKB.total, denom_count)
            else:
                self.lit(node, EKB.n, denom_count)
            if change:
                self.lit(node, EKB.isChangeFromBaseline, True)
        else:
            self.lit(node, EKB.n, denom_count)
        if value is None:
            self.disp_note(node, measure, meas)
            return
        if is_percent:
            if 0 <= value <= 100:
                self.lit(node, EKB.percent, value)
            else:
                self.note(node, f"Percentage {raw} lies outside 0-100; kept as printed only.")
            self.disp_note(node, measure, meas)
            return
        if param in {"MEAN", "LEAST_SQUARES_MEAN"}:
            self.lit(node, EKB.mean, value)
            if param == "LEAST_SQUARES_MEAN":
                self.lit(node, EKB.modelBased, True)
                if is_result:
                    self.add(node, EKB.summaryStatistic, self.term("least-squares-mean"))
            self.dispersion(node, measure, meas, disp, centre="mean")
        elif param == "MEDIAN":
            self.lit(node, EKB.median, value)
            self.dispersion(node, measure, meas, disp, centre="median")
        elif is_result:
            stat = {
                "GEOMETRIC_MEAN": "geometric-mean",
                "GEOMETRIC_LEAST_SQUARES_MEAN": "geometric-mean",
            }.get(param, "unspecified-statistic")
            self.lit(node, EKB.followUpValue, value)
            self.add(node, EKB.summaryStatistic, self.term(stat))
            if param == "GEOMETRIC_LEAST_SQUARES_MEAN":
                self.lit(node, EKB.modelBased, True)
            self.note(
                node,
                f"Registered as {measure.get('paramType') or 'no parameter type'}; the value is "
                "in ekb:followUpValue.",
            )
            self.disp_note(node, measure, meas)
        else:
            self.note(
                node,
                f"Registered as {measure.get('paramType') or 'no parameter type'}; no property "
                "holds this value, it is kept as printed.",
            )
            self.disp_note(node, measure, meas)

    def dispersion(
        self, node: URIRef, measure: dict[str, Any], meas: dict[str, Any], disp: str, centre: str
    ) -> None:
        from kb.namespaces import EKB

        spread = parse_decimal(meas.get("spread"))
        low = parse_decimal(meas.get("lowerLimit"))
        high = parse_decimal(meas.get("upperLimit"))
        value = parse_decimal(meas.get("value"))
        if disp in {"STANDARD_DEVIATION", "STANDARD_ERROR"} and spread is not None:
            if spread < 0:
                self.flag(
                    node,
                    f"{measure.get('dispersionType')} printed as {spread} is negative; "
                    "kept as printed only.",
                )
                return
            self.lit(node, EKB.sd if disp == "STANDARD_DEVIATION" else EKB.se, spread)
        elif (
            disp in {"FULL_RANGE", "INTER_QUARTILE_RANGE"} and low is not None and high is not None
        ):
            # The shapes check low <= median <= high; a printed interval that breaks it is
            # flagged and kept as printed, never corrected.
            inside = low <= high and (centre != "median" or value is None or low <= value <= high)
            if not inside:
                self.flag(
                    node,
                    f"{measure.get('dispersionType')} {low} to {high} does not hold the "
                    f"{centre} {value}; kept as printed only.",
                )
                return
            if disp == "FULL_RANGE":
                self.lit(node, EKB.rangeLow, low)
                self.lit(node, EKB.rangeHigh, high)
            else:
                self.lit(node, EKB.q1, low)
                self.lit(node, EKB.q3, high)
        else:
            self.disp_note(node, measure, meas)

    def disp_note(self, node: URIRef, measure: dict[str, Any], meas: dict[str, Any]) -> None:
        parts = [f"{k} '{meas[k]}'" for k in ("spread", "lowerLimit", "upperLimit") if k in meas]
        if parts:
            kind = measure.get("dispersionType") or "dispersion"
            self.note(
                node,
                f"{kind}: {', '.join(parts)} kept as printed (no property of the data model "
                "holds it here, or it is not a number).",
            )

    @staticmethod
    def printed(meas: dict[str, Any], denom: tuple[str, str] | None = None) -> str:
        keys = ("value", "spread", "lowerLimit", "upperLimit", "numSubjects", "numUnits", "comment")
        parts = [f"{k}: {meas[k]}" for k in keys if k in meas]
        if denom is not None:
            parts.append(f"denominator: {denom[0]}")
        return "; ".join(parts)

    def finish_result(self, node: URIRef, outcome: URIRef, path: str) -> None:
        """List a result, or, when it holds no number, keep what was printed on the outcome."""
        from kb.namespaces import EKB

        content = (
            EKB.events,
            EKB.percent,
            EKB.mean,
            EKB.median,
            EKB.percentChange,
            EKB.baselineValue,
            EKB.followUpValue,
            EKB.direction,
        )
        if any((node, p, None) in self.g for p in content):
            self.add(self.study, EKB.hasResult, node)
            self.counts["results"] += 1
            return
        # A result needs a number (shape ekb:ResultContentShape); "NA" and the like
        # are kept, with their comment, on the outcome instead of being dropped.
        printed = self.g.value(node, EKB.printedText)
        notes = " ".join(self.notes.pop(node, []))
        self.g.remove((node, None, None))
        self.note(outcome, f"No number at {path} (printed '{printed}'). {notes}".strip())
