"""Posted outcome measures, their statistical analyses, and registered outcomes."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kb.importers.ctgov.groups import _COMPARATOR_ROLES
from kb.importers.ctgov.parsing import (
    _RESULTS,
    _effect_measure,
    _norm_enum,
    _text,
    normalise_label,
    normalise_label_keep_vs,
    parse_decimal,
    parse_p_value,
    parse_weeks,
    slugify,
)
from kb.importers.ctgov.values import ValuesMapper

if TYPE_CHECKING:
    from rdflib import URIRef


_OUTCOME_ROLES = {
    "PRIMARY": "primary",
    "SECONDARY": "secondary",
    "OTHER_PRE_SPECIFIED": "exploratory",
    "POST_HOC": "post-hoc",
}
_REGISTERED_OUTCOMES = (
    ("primaryOutcomes", "primary", "primary"),
    ("secondaryOutcomes", "secondary", "secondary"),
    ("otherOutcomes", "other", "exploratory"),
)


class OutcomesMapper(ValuesMapper):
    """Outcome measures and comparisons."""

    # -- outcome measures -------------------------------------------------------------------

    def map_outcome_measures(self) -> dict[str, URIRef]:
        """Posted measures; returns normalised title -> Outcome, to match registered outcomes."""
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.results("outcomeMeasuresModule")
        by_title: dict[str, list[URIRef]] = {}
        for i, m in enumerate(module.get("outcomeMeasures") or []):
            if not isinstance(m, dict):
                continue
            path = f"{_RESULTS}.outcomeMeasuresModule.outcomeMeasures[{i}]"
            o = self.iri("outcome", f"om{i}")
            title = _text(m.get("title")) or f"outcome measure {i + 1}"
            self.record(o, EKB.Outcome, path, title)
            self.lit(o, RDFS.label, title)
            self.add(self.study, EKB.hasOutcome, o)
            self.counts["outcomes"] += 1
            by_title.setdefault(normalise_label(title), []).append(o)
            role = _OUTCOME_ROLES.get(_norm_enum(m.get("type")))
            if role:
                self.add(o, EKB.outcomeRole, self.term(role))
            self.add(o, EKB.outcomeConcept, self.concept("outcome", title))
            self.lit(o, EKB.definition, _text(m.get("description")))
            unit = _text(m.get("unitOfMeasure"))
            self.lit(o, EKB.unit, unit)
            time_frame = _text(m.get("timeFrame"))
            self.lit(o, EKB.timepointText, time_frame)
            weeks = parse_weeks(time_frame)
            self.lit(o, EKB.timepointWeeks, weeks)
            stat = ", ".join(str(x) for x in (m.get("paramType"), m.get("dispersionType")) if x)
            if stat:
                self.note(o, f"Registered statistic: {stat}.")
            if _norm_enum(m.get("reportingStatus")) == "NOT_POSTED":
                when = m.get("anticipatedPostingDate")
                self.note(
                    o, "Results not posted" + (f"; anticipated posting {when}." if when else ".")
                )
            population = _text(m.get("populationDescription"))
            groups = self.resolve_groups(m.get("groups"), f"{path}.groups")
            denoms = self.denominators(
                m.get("denoms"), f"{path}.denoms", m.get("denomUnitsSelected")
            )
            for cell in self.measurements(m, path, denoms):
                gid = str(cell.meas["groupId"])
                arm, how = self.group(groups, gid, cell.path)
                if arm is None:
                    # A whole-population group ("Total"): not an arm's result; kept, as
                    # printed, on the outcome.
                    self.note(o, f"{how} At {cell.path}: {self.printed(cell.meas)}.")
                    continue
                match = self.group_match(f"{path}.groups", gid)
                qualifier = match.qualifier if match else None
                subgroup = " / ".join(
                    t for t in (qualifier, cell.class_title, cell.category_title) if t
                )
                # The analysis set a group title names ("Drug (FAS)"), before the
                # measure's own population description.
                analysis_set = match.analysis_set if match else None
                population_here = ": ".join(p for p in (analysis_set, population) if p) or None
                node = self.iri("result", f"om{i}-c{cell.c}-k{cell.k}-{slugify(gid)}")
                self.record(node, EKB.Result, cell.path, self.printed(cell.meas, None))
                self.add(node, EKB.arm, arm)
                self.add(node, EKB.outcome, o)
                self.lit(node, EKB.timepointWeeks, weeks)
                self.lit(node, EKB.timepointText, time_frame)
                self.lit(node, EKB.subgroup, subgroup or None)
                self.lit(node, EKB.analysisPopulation, population_here)
                self.note(node, how)
                denom = cell.denoms.get(gid)
                self.fill_values(node, m, cell.meas, denom, cell.units, is_result=True, title=title)
                self.finish_result(node, o, cell.path)
            for a, analysis in enumerate(m.get("analyses") or []):
                if isinstance(analysis, dict):
                    self.map_analysis(
                        analysis,
                        f"{path}.analyses[{a}]",
                        self.iri("comparison", f"om{i}-a{a}"),
                        o,
                        groups,
                        weeks,
                    )
        return {k: v[0] for k, v in by_title.items() if len(v) == 1}

    def map_analysis(
        self,
        an: dict[str, Any],
        path: str,
        node: URIRef,
        outcome: URIRef,
        groups: dict[str, tuple[URIRef | None, str]],
        weeks: Decimal | None,
    ) -> None:
        from kb.namespaces import EKB

        keys = (
            "groupIds",
            "paramType",
            "paramValue",
            "ciPctValue",
            "ciNumSides",
            "ciLowerLimit",
            "ciUpperLimit",
            "pValue",
            "statisticalMethod",
            "dispersionType",
            "dispersionValue",
        )
        printed = "; ".join(
            f"{k}: {', '.join(an[k]) if isinstance(an[k], list) else an[k]}"
            for k in keys
            if k in an
        )
        ids = [str(g) for g in an.get("groupIds") or []]
        arms = [(gid, self.group(groups, gid, f"{path}.groupIds")) for gid in ids]
        if len(arms) != 2 or arms[0][1][0] == arms[1][1][0]:
            # A comparison is between two arms (ekb:ComparisonShape); an analysis of one
            # group or of three and more is kept, as printed, on the outcome.
            self.note(
                outcome,
                f"Analysis at {path} of groups {', '.join(ids) or 'none'} is not a "
                f"comparison of two arms; as printed: {printed}.",
            )
            return
        self.record(node, EKB.Comparison, path, printed)
        self.add(node, EKB.outcome, outcome)
        self.lit(node, EKB.timepointWeeks, weeks)
        titles = {gid: normalise_label(self._group_title(groups, gid)) for gid in ids}
        experimental, comparator, how = self._order_pair(an, arms, titles)
        self.add(node, EKB.experimentalArm, experimental[1][0])
        self.add(node, EKB.comparatorArm, comparator[1][0])
        self.note(
            node, f"Experimental group {experimental[0]}, comparator {comparator[0]} ({how})."
        )
        for _, (_, how) in arms:
            self.note(node, how)
        param = _text(an.get("paramType"))
        if param:
            self.add(node, EKB.effectMeasure, self.term(_effect_measure(param)))
            if re.search(r"\bls\b|least squares|adjusted", param.casefold()):
                self.lit(node, EKB.modelBased, True)
            if "adjusted" in param.casefold():
                self.lit(node, EKB.adjusted, True)
        estimate = parse_decimal(an.get("paramValue"))
        self.lit(node, EKB.estimate, estimate)
        if an.get("paramValue") is not None and estimate is None:
            self.note(node, f"Estimate printed as '{an.get('paramValue')}' is not a number.")
        low, high = parse_decimal(an.get("ciLowerLimit")), parse_decimal(an.get("ciUpperLimit"))
        ordered = [v for v in (low, estimate, high) if v is not None]
        if ordered != sorted(ordered):
            self.flag(
                node,
                f"The printed interval {an.get('ciLowerLimit')} to {an.get('ciUpperLimit')} "
                f"does not hold the estimate {an.get('paramValue')}; bounds kept as printed only.",
            )
            low = high = None
        measure = _effect_measure(param) if param else None
        if measure in {"odds-ratio", "risk-ratio", "hazard-ratio"} and any(
            v is not None and v <= 0 for v in (estimate, low, high)
        ):
            # A ratio cannot be 0 or below; the record probably gives it on a log scale.
            self.g.remove((node, EKB.effectMeasure, None))
            self.add(node, EKB.effectMeasure, self.term("other-measure"))
            self.flag(
                node, f"'{param}' printed with a value of 0 or below; not recorded as a ratio."
            )
        self.lit(node, EKB.ciLower, low)
        self.lit(node, EKB.ciUpper, high)
        pct = parse_decimal(an.get("ciPctValue"))
        if pct is not None and 0 < pct < 100 and (low is not None or high is not None):
            self.lit(node, EKB.ciLevel, pct / Decimal(100))
        if _norm_enum(an.get("ciNumSides")) == "ONE_SIDED":
            self.note(node, "The confidence interval is one-sided.")
        for key in (
            "ciLowerLimitComment",
            "ciUpperLimitComment",
            "pValueComment",
            "estimateComment",
            "groupDescription",
            "statisticalComment",
            "otherAnalysisDescription",
            "nonInferiorityComment",
        ):
            if _text(an.get(key)):
                self.note(node, f"{key}: {_text(an.get(key))}.")
        if an.get("nonInferiorityType"):
            self.note(node, f"Hypothesis: {an['nonInferiorityType']}.")
        p_value, comparator_sign = parse_p_value(an.get("pValue"))
        self.lit(node, EKB.pValue, p_value)
        self.lit(node, EKB.pValueComparator, comparator_sign)
        if an.get("pValue") is not None and p_value is None:
            self.note(node, f"p-value printed as '{an.get('pValue')}' is not a number in [0, 1].")
        self.lit(node, EKB.method, _text(an.get("statisticalMethod")))
        disp = _norm_enum(an.get("dispersionType"))
        dval = parse_decimal(an.get("dispersionValue"))
        if dval is not None and dval >= 0 and disp.startswith("STANDARD_ERROR"):
            self.lit(node, EKB.se, dval)
        elif dval is not None and dval >= 0 and disp == "STANDARD_DEVIATION":
            self.lit(node, EKB.sd, dval)
        content = (EKB.estimate, EKB.ciLower, EKB.ciUpper, EKB.pValue)
        if any((node, p, None) in self.g for p in content):
            self.add(self.study, EKB.hasComparison, node)
            self.counts["comparisons"] += 1
            return
        notes = " ".join(self.notes.pop(node, []))
        self.g.remove((node, None, None))
        self.note(
            outcome, f"Analysis at {path} gives no number; as printed: {printed}. {notes}".strip()
        )

    @staticmethod
    def _group_title(groups: dict[str, tuple[URIRef | None, str]], gid: str) -> str:
        m = re.search(r"'(.*?)'", groups.get(gid, (None, ""))[1])
        return m.group(1) if m else gid

    def _order_pair(
        self,
        an: dict[str, Any],
        arms: list[tuple[str, tuple[URIRef | None, str]]],
        titles: dict[str, str],
    ) -> tuple[Any, Any, str]:
        # 1. "A vs. B" in the estimate comment or group description names the order.
        for key in ("estimateComment", "groupDescription", "statisticalComment"):
            text = _text(an.get(key))
            if not text:
                continue
            parts = re.split(
                r"\s+(?:vs\.?|versus|compared (?:with|to))\s+",
                normalise_label_keep_vs(text),
                maxsplit=1,
            )
            if len(parts) != 2:
                continue
            left, right = parts
            a, b = arms
            ta, tb = titles[a[0]], titles[b[0]]
            if ta and tb and ta != tb:
                if left.endswith(ta) and right.startswith(tb):
                    return a, b, f"from '{key}'"
                if left.endswith(tb) and right.startswith(ta):
                    return b, a, f"from '{key}'"
        # 2. Arm roles: exactly one comparator arm.
        roles = {node: role for _, _, _, node, role in self.arms}
        a, b = arms
        ra, rb = roles.get(a[1][0]), roles.get(b[1][0])  # type: ignore[arg-type]
        if ra in _COMPARATOR_ROLES and rb not in _COMPARATOR_ROLES:
            return b, a, "from the registered arm types"
        if rb in _COMPARATOR_ROLES and ra not in _COMPARATOR_ROLES:
            return a, b, "from the registered arm types"
        return (
            b,
            a,
            (
                "the record does not say which group is the comparator; taken as the first "
                "group id, the experimental as the second"
            ),
        )

    # -- registered outcomes -------------------------------------------------------------------

    def map_registered_outcomes(self, posted: dict[str, URIRef]) -> None:
        from rdflib.namespace import RDFS

        from kb.namespaces import EKB

        module = self.protocol("outcomesModule")
        for key, short, role in _REGISTERED_OUTCOMES:
            for j, ro in enumerate(module.get(key) or []):
                if not isinstance(ro, dict):
                    continue
                path = f"protocolSection.outcomesModule.{key}[{j}]"
                measure = _text(ro.get("measure")) or f"{short} outcome {j + 1}"
                hit = posted.get(normalise_label(measure))
                if hit is not None:
                    self.note(hit, f"Registered as {path}.")
                    continue
                o = self.iri("outcome", f"{short}-{j}")
                self.record(o, EKB.Outcome, path, measure)
                self.lit(o, RDFS.label, measure)
                self.add(o, EKB.outcomeRole, self.term(role))
                self.add(o, EKB.outcomeConcept, self.concept("outcome", measure))
                self.lit(o, EKB.definition, _text(ro.get("description")))
                time_frame = _text(ro.get("timeFrame"))
                self.lit(o, EKB.timepointText, time_frame)
                self.lit(o, EKB.timepointWeeks, parse_weeks(time_frame))
                if self.r.get(_RESULTS):
                    self.note(o, "Registered outcome with no posted measure of the same title.")
                self.add(self.study, EKB.hasOutcome, o)
                self.counts["outcomes"] += 1
