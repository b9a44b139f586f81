"""FHIR R5: one Bundle (type ``collection``) of Citation, EvidenceVariable and Evidence
resources, as JSON.

- a **Citation** per source (title, DOI, PMID, URL, source type as classification);
- an **EvidenceVariable** per study outcome (its definition) and per intervention arm;
- an **Evidence** per result, comparison and safety finding: statistics with a
  ``statisticType`` from http://terminology.hl7.org/CodeSystem/statistic-type
  (Proportion C44256, Mean C53319, Count C25463, Relative Risk C93152, ...), sample size,
  number of events / affected, attribute estimates (confidence interval C53324 with
  ``level``, p-value C44185), the certainty of any claim the record supports (GRADE rating
  from http://terminology.hl7.org/CodeSystem/certainty-rating with its reasons as
  subcomponents), the study design, the caveats as notes and the source as a citation.

Confidence levels are written as a proportion, ``level: 0.95`` (the R5 convention: "0.95
for 95% confidence interval"); a level stored as 95 is converted. Identifiers are derived
from the resource IRIs, so the same knowledge base gives the same bundle.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from kb.export import Rendered
from kb.export.tables import ExportData, Row, extract, is_number
from kb.namespaces import RES

FHIR_BASE = "https://w3id.org/evidence-kb/fhir/"
STAT = "http://terminology.hl7.org/CodeSystem/statistic-type"
ATTR = "http://terminology.hl7.org/CodeSystem/attribute-estimate-type"
CERT_TYPE = "http://terminology.hl7.org/CodeSystem/certainty-type"
CERT_RATING = "http://terminology.hl7.org/CodeSystem/certainty-rating"
VAR_ROLE = "http://terminology.hl7.org/CodeSystem/variable-role"
UCUM = "http://unitsofmeasure.org"

STATISTIC_TYPES = {
    "proportion": ("C44256", "Proportion"),
    "mean": ("C53319", "Mean"),
    "median": ("C28007", "Median"),
    "count": ("C25463", "Count"),
    "RR": ("C93152", "Relative Risk"),
    "OR": ("C16932", "Odds Ratio"),
    "HR": ("C93150", "Hazard Ratio"),
    "RD": ("0000424", "Risk Difference"),
    "PPD": ("0000424", "Risk Difference"),
    "MD": ("0000457", "Mean Difference"),
    "SMD": ("0000100", "Standardized Mean Difference"),
}
#: GRADE certainty concept (local name) -> certainty-rating code
RATINGS = {
    "certainty-high": ("high", "High quality"),
    "certainty-moderate": ("moderate", "Moderate quality"),
    "certainty-low": ("low", "Low quality"),
    "certainty-very-low": ("very-low", "Very low quality"),
}
#: reason concept (local name) -> (certainty-type code, rating code)
REASON_TYPES = {
    "small-sample": ("Imprecision", "serious-concern"),
    "imprecision": ("Imprecision", "serious-concern"),
    "single-study": ("Imprecision", "serious-concern"),
    "no-comparator": ("RiskOfBias", "serious-concern"),
    "open-label-design": ("RiskOfBias", "serious-concern"),
    "risk-of-bias": ("RiskOfBias", "serious-concern"),
    "post-hoc-analysis": ("RiskOfBias", "serious-concern"),
    "surrogate-outcome": ("Indirectness", "serious-concern"),
    "indirectness": ("Indirectness", "serious-concern"),
    "non-final-source": ("Indirectness", "serious-concern"),
    "inconsistency": ("Inconsistency", "serious-concern"),
    "randomised-double-blind": ("RiskOfBias", "no-concern"),
}


def fhir_id(iri: str) -> str:
    """A FHIR id (``[A-Za-z0-9.-]{1,64}``) from a resource IRI, stable and readable."""
    text = iri[len(str(RES)) :] if iri.startswith(str(RES)) else iri
    text = re.sub(r"^study/", "", text)
    text = re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")
    if len(text) > 64:
        digest = hashlib.sha1(iri.encode()).hexdigest()[:10]
        text = text[:53].rstrip("-") + "-" + digest
    return text or hashlib.sha1(iri.encode()).hexdigest()[:16]


def _num(value: Any) -> Any:
    """JSON number for a cell: ints stay ints, decimals keep their digits."""
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and "." not in str(value)
            else float(value)
        )
    return value


def _cc(
    system: str | None, code: str | None, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    cc: dict[str, Any] = {}
    if code:
        coding = {"system": system, "code": code}
        if display:
            coding["display"] = display
        cc["coding"] = [coding]
    if text:
        cc["text"] = text
    return cc


def _ref(kind: str, iri: str, display: str | None = None) -> dict[str, Any]:
    ref = {"reference": f"{kind}/{fhir_id(iri)}"}
    if display:
        ref["display"] = display
    return ref


def _quantity(value: Any, unit: Any = None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": _num(value)}
    if unit:
        q["unit"] = str(unit)
        if str(unit) == "%":
            q["system"], q["code"] = UCUM, "%"
    return q


class _Bundler:
    def __init__(self, data: ExportData) -> None:
        self.d = data
        self.g = data.graph
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        chars = {r["study_iri"]: r for r in data.characteristics.rows}
        self.chars_by_id = {r["study_id"]: r for r in chars.values()}
        # record IRI -> claims that cite it (for certainty)
        self.claims_for: dict[str, list[Row]] = {}
        for claim in data.claims.rows:
            for s in self.g.values(str(claim["claim_iri"]), "supportedBy"):
                self.claims_for.setdefault(str(s), []).append(claim)

    def add(self, resource: dict[str, Any]) -> None:
        self.entries[(resource["resourceType"], resource["id"])] = resource

    def citations(self) -> None:
        for row in self.d.sources.rows:
            src = str(row["source_iri"])
            ids = []
            if row["doi"]:
                ids.append({"system": "https://doi.org", "value": str(row["doi"])})
            if row["pmid"]:
                ids.append({"system": "https://pubmed.ncbi.nlm.nih.gov", "value": str(row["pmid"])})
            artifact: dict[str, Any] = {
                "title": [{"text": str(row["title"] or row["source"])}],
                "classification": [
                    {
                        "type": _cc(None, None, text="source type"),
                        "classifier": [_cc(None, None, text=str(row["source_type"] or "unknown"))],
                    }
                ],
            }
            if ids:
                artifact["identifier"] = ids
            if row["url"]:
                artifact["webLocation"] = [{"url": str(row["url"])}]
            notes = [f"source type: {row['source_type'] or 'unknown'}"]
            if row["lower_confidence"]:
                notes.append("lower-confidence source")
            if row["note"]:
                notes.append(str(row["note"]))
            artifact["note"] = [{"text": n} for n in notes]
            self.add(
                {
                    "resourceType": "Citation",
                    "id": fhir_id(src),
                    "url": src,
                    "status": "active",
                    "title": str(row["title"] or row["source"]),
                    "citedArtifact": artifact,
                }
            )

    def outcome_variable(self, row: Row, iri: str) -> dict[str, Any]:
        ref_iri = iri
        if ("EvidenceVariable", fhir_id(ref_iri)) not in self.entries:
            desc = row.get("definition") or row.get("outcome_label")
            res: dict[str, Any] = {
                "resourceType": "EvidenceVariable",
                "id": fhir_id(ref_iri),
                "url": ref_iri,
                "status": "active",
                "title": str(row.get("outcome_label") or row.get("outcome")),
            }
            if desc:
                res["description"] = str(desc)
            if row.get("outcome_concept"):
                res["note"] = [{"text": f"outcome concept: {row['outcome_concept']}"}]
            self.add(res)
        return _ref(
            "EvidenceVariable", ref_iri, str(row.get("outcome_label") or row.get("outcome"))
        )

    def arm_variable(self, study_id: Any, arm_key: Any, label: Any, role: Any) -> dict[str, Any]:
        study = self.chars_by_id[study_id]["study_iri"]
        iri = f"{study}/arm/{arm_key}"
        if ("EvidenceVariable", fhir_id(iri)) not in self.entries:
            self.add(
                {
                    "resourceType": "EvidenceVariable",
                    "id": fhir_id(iri),
                    "url": iri,
                    "status": "active",
                    "title": str(label or arm_key),
                    "description": f"study arm ({role or 'role not stated'})",
                }
            )
        return _ref("EvidenceVariable", iri, str(label or arm_key))

    def population(self, study_id: Any) -> dict[str, Any]:
        c = self.chars_by_id[study_id]
        desc = c["condition_text"] or c["conditions"] or "population of the study"
        return {"variableRole": _cc(VAR_ROLE, "population", "population"), "description": str(desc)}

    def common(self, row: Row, iri: str, title: str) -> dict[str, Any]:
        c = self.chars_by_id[row["study_id"]]
        res: dict[str, Any] = {
            "resourceType": "Evidence",
            "id": fhir_id(iri),
            "url": iri,
            "status": "active",
            "title": title,
        }
        if c["design"]:
            design_iri = self.g.value(str(c["study_iri"]), "design")
            local = (
                str(design_iri).rstrip("/").rsplit("/", 1)[-1] if design_iri is not None else None
            )
            res["studyDesign"] = [
                _cc("https://w3id.org/evidence-kb/vocab/design/", local, str(c["design"]))
            ]
        notes = [f"caveats: {row['caveats']}"] if row.get("caveats") else []
        for key in ("locator", "printed_text"):
            if row.get(key):
                notes.append(f"{key.replace('_', ' ')}: {row[key]}")
        if notes:
            res["note"] = [{"text": n} for n in notes]
        src = self._source(iri)
        if src:
            res["citeAsReference"] = _ref("Citation", src, str(row.get("source_title") or ""))
            res["relatedArtifact"] = [
                {"type": "derived-from", "resourceReference": _ref("Citation", src)}
            ]
        cert = self.certainty(iri)
        if cert:
            res["certainty"] = cert
        return res

    def _source(self, iri: str) -> str | None:
        src = self.g.value(iri, "source")
        if src is None:
            study = self.g.study_of.get(iri)
            src = self.g.value(study, "source") if study else None
        return str(src) if src is not None else None

    def certainty(self, iri: str) -> list[dict[str, Any]]:
        out = []
        for claim in sorted(self.claims_for.get(iri, []), key=lambda c: str(c["claim_iri"])):
            cert = self.g.value(str(claim["claim_iri"]), "certainty")
            if cert is None:
                continue
            local = str(cert).rsplit("/", 1)[-1]
            code, display = RATINGS.get(local, (None, None))
            entry: dict[str, Any] = {
                "description": f"certainty of the claim {claim['claim']}: {claim['certainty']}",
                "type": _cc(CERT_TYPE, "Overall", "Overall certainty"),
                "rating": _cc(CERT_RATING, code, display, text=str(claim["certainty"])),
            }
            rater = self.g.value(str(claim["claim_iri"]), "extractedBy")
            if rater is not None:
                entry["rater"] = str(rater)
            subs = []
            for reason in self.g.values(str(claim["claim_iri"]), "certaintyReason"):
                rlocal = str(reason).rsplit("/", 1)[-1]
                ctype, rating = REASON_TYPES.get(rlocal, (None, None))
                sub: dict[str, Any] = {"description": self.g.label(reason)}
                if ctype:
                    sub["type"] = _cc(CERT_TYPE, ctype)
                    sub["rating"] = _cc(CERT_RATING, rating)
                subs.append(sub)
            if subs:
                entry["subcomponent"] = subs
            out.append(entry)
        return out

    def results(self) -> None:
        for row in self.d.outcomes.rows:
            iri = str(row["result_iri"])
            outcome_iri = str(self.g.value(iri, "outcome"))
            res = self.common(
                row, iri, f"{row['study_id']}: {row['outcome_label']} ({row['arm_label']})"
            )
            res["variableDefinition"] = [
                self.population(row["study_id"]),
                {
                    "variableRole": _cc(VAR_ROLE, "exposure", "exposure"),
                    "observed": self.arm_variable(
                        row["study_id"], row["arm"], row["arm_label"], row["arm_role"]
                    ),
                },
                {
                    "variableRole": _cc(VAR_ROLE, "measuredVariable", "measured variable"),
                    "observed": self.outcome_variable(row, outcome_iri),
                },
            ]
            stats = self.result_statistics(row)
            if stats:
                res["statistic"] = stats
            self.add(res)

    def result_statistics(self, row: Row) -> list[dict[str, Any]]:
        stats = []
        unit = row.get("unit")
        when = (
            f"week {row['timepoint_weeks']}"
            if row.get("timepoint_weeks") is not None
            else "timepoint not stated"
        )
        sample = {"numberOfStudies": 1}
        n = (
            row.get("total")
            if row.get("total") is not None
            else row.get("n")
            if row.get("n") is not None
            else row.get("arm_n")
        )
        if n is not None:
            sample["numberOfParticipants"] = _num(n)
        if row.get("events") is not None and row.get("total") is not None:
            s: dict[str, Any] = {
                "description": f"{row['events']}/{row['total']} participants at {when}",
                "statisticType": _cc(STAT, *STATISTIC_TYPES["proportion"]),
                "numberOfEvents": _num(row["events"]),
                "sampleSize": {"numberOfStudies": 1, "numberOfParticipants": _num(row["total"])},
            }
            if row.get("percent") is not None:
                s["quantity"] = _quantity(row["percent"], "%")
            stats.append(s)
        summary = str(row.get("summary_statistic") or "")
        stype = STATISTIC_TYPES.get(summary)
        said = "summary statistic not stated" if summary == "not stated" else summary
        if row.get("mean") is not None:
            s = {
                "description": f"mean at {when}",
                "statisticType": _cc(STAT, *STATISTIC_TYPES["mean"]),
                "quantity": _quantity(row["mean"], unit),
                "sampleSize": dict(sample),
            }
            ests = []
            if row.get("sd") is not None:
                ests.append(
                    {
                        "type": _cc(ATTR, "C53322", "Standard deviation"),
                        "quantity": _quantity(row["sd"], unit),
                    }
                )
            if row.get("se") is not None:
                ests.append(
                    {
                        "type": _cc(ATTR, "0000037", "Standard error of the mean"),
                        "quantity": _quantity(row["se"], unit),
                    }
                )
            if ests:
                s["attributeEstimate"] = ests
            stats.append(s)
        if row.get("median") is not None:
            s = {
                "description": f"median at {when}",
                "statisticType": _cc(STAT, *STATISTIC_TYPES["median"]),
                "quantity": _quantity(row["median"], unit),
                "sampleSize": dict(sample),
            }
            ests = []
            if row.get("q1") is not None and row.get("q3") is not None:
                ests.append(
                    {
                        "type": _cc(ATTR, "C53245", "Interquartile range"),
                        "range": {
                            "low": _quantity(row["q1"], unit),
                            "high": _quantity(row["q3"], unit),
                        },
                    }
                )
            if row.get("range_low") is not None and row.get("range_high") is not None:
                ests.append(
                    {
                        "type": _cc(ATTR, "C38013", "Range"),
                        "range": {
                            "low": _quantity(row["range_low"], unit),
                            "high": _quantity(row["range_high"], unit),
                        },
                    }
                )
            if ests:
                s["attributeEstimate"] = ests
            stats.append(s)
        if row.get("percent_change") is not None:
            s = {
                "description": f"percent change from baseline to {when}"
                + (f" ({said})" if said else ""),
                "quantity": _quantity(row["percent_change"], "%"),
                "sampleSize": dict(sample),
            }
            if summary in ("mean", "median"):
                s["statisticType"] = _cc(STAT, *stype) if stype else _cc(None, None, text=summary)
            stats.append(s)
        for key, label in (("baseline_value", "baseline"), ("follow_up_value", when)):
            if row.get(key) is not None:
                s = {
                    "description": f"value at {label}" + (f" ({said})" if said else ""),
                    "quantity": _quantity(row[key], unit),
                    "sampleSize": dict(sample),
                }
                if stype and summary in ("mean", "median"):
                    s["statisticType"] = _cc(STAT, *stype)
                stats.append(s)
        if not stats and row.get("direction"):
            stats.append(
                {
                    "description": f"{row['direction']} at {when}; no number reported",
                    "statisticType": _cc(STAT, "descriptive", "Descriptive"),
                    "sampleSize": dict(sample),
                }
            )
        if row.get("p_value") is not None and stats:
            stats[0].setdefault("attributeEstimate", []).append(
                {
                    "type": _cc(ATTR, "C44185", "P-value"),
                    "quantity": {
                        "value": _num(row["p_value"]),
                        **(
                            {"comparator": str(row["p_value_comparator"])}
                            if row.get("p_value_comparator") in ("<", "<=", ">=", ">")
                            else {}
                        ),
                    },
                }
            )
        return stats

    def comparisons(self) -> None:
        for row in self.d.comparisons.rows:
            iri = str(row["comparison_iri"])
            outcome_iri = self.g.value(iri, "outcome")
            res = self.common(
                row,
                iri,
                f"{row['study_id']}: {row['outcome_label']} ({row['experimental_label']} vs "
                f"{row['comparator_label']})",
            )
            vd = [self.population(row["study_id"])]
            if row["experimental_arm"]:
                vd.append(
                    {
                        "variableRole": _cc(VAR_ROLE, "exposure", "exposure"),
                        "observed": self.arm_variable(
                            row["study_id"],
                            row["experimental_arm"],
                            row["experimental_label"],
                            "experimental",
                        ),
                    }
                )
            if row["comparator_arm"]:
                vd.append(
                    {
                        "variableRole": _cc(VAR_ROLE, "referenceExposure", "reference exposure"),
                        "observed": self.arm_variable(
                            row["study_id"],
                            row["comparator_arm"],
                            row["comparator_label"],
                            "comparator",
                        ),
                    }
                )
            if outcome_iri is not None:
                vd.append(
                    {
                        "variableRole": _cc(VAR_ROLE, "measuredVariable", "measured variable"),
                        "observed": self.outcome_variable(row, str(outcome_iri)),
                    }
                )
            res["variableDefinition"] = vd
            if row["estimate"] is not None:
                code = STATISTIC_TYPES.get(str(row["measure_code"] or ""))
                s: dict[str, Any] = {
                    "description": f"{row['effect_measure'] or 'effect'}"
                    + (
                        f" at week {row['timepoint_weeks']}"
                        if row["timepoint_weeks"] is not None
                        else ""
                    ),
                    "statisticType": _cc(STAT, *code)
                    if code
                    else _cc(None, None, text=str(row["effect_measure"] or "effect")),
                    "quantity": _quantity(
                        row["estimate"], "%" if row["measure_code"] == "PPD" else None
                    ),
                }
                ests = []
                if row["ci_lower"] is not None and row["ci_upper"] is not None:
                    ci: dict[str, Any] = {
                        "type": _cc(ATTR, "C53324", "Confidence interval"),
                        "range": {
                            "low": {"value": _num(row["ci_lower"])},
                            "high": {"value": _num(row["ci_upper"])},
                        },
                    }
                    level = row["ci_level"]
                    if is_number(level):
                        lv = Decimal(str(level))
                        ci["level"] = _num(lv / 100 if lv > 1 else lv)
                    ests.append(ci)
                if row["p_value"] is not None:
                    pq: dict[str, Any] = {"value": _num(row["p_value"])}
                    if row["p_value_comparator"] in ("<", "<=", ">=", ">"):
                        pq["comparator"] = str(row["p_value_comparator"])
                    ests.append({"type": _cc(ATTR, "C44185", "P-value"), "quantity": pq})
                if ests:
                    s["attributeEstimate"] = ests
                res["statistic"] = [s]
            self.add(res)

    def safety(self) -> None:
        for row in self.d.safety.rows:
            iri = str(row["safety_iri"])
            res = self.common(
                row, iri, f"{row['study_id']}: {row['event_term']} ({row['arm_label']})"
            )
            vd = [self.population(row["study_id"])]
            if row["arm"]:
                vd.append(
                    {
                        "variableRole": _cc(VAR_ROLE, "exposure", "exposure"),
                        "observed": self.arm_variable(
                            row["study_id"], row["arm"], row["arm_label"], row["arm_role"]
                        ),
                    }
                )
            vd.append(
                {
                    "variableRole": _cc(VAR_ROLE, "measuredVariable", "measured variable"),
                    "description": f"{row['event_term']}"
                    + (" (serious)" if row["serious"] else ""),
                }
            )
            res["variableDefinition"] = vd
            if row["affected"] is not None or row["event_count"] is not None:
                s: dict[str, Any] = {
                    "description": f"participants with {row['event_term']}: {row['reported']}",
                    "statisticType": _cc(STAT, *STATISTIC_TYPES["count"]),
                }
                if row["affected"] is not None:
                    s["numberAffected"] = _num(row["affected"])
                    s["quantity"] = {"value": _num(row["affected"])}
                if row["event_count"] is not None:
                    s["numberOfEvents"] = _num(row["event_count"])
                if row["at_risk"] is not None:
                    s["sampleSize"] = {
                        "numberOfStudies": 1,
                        "numberOfParticipants": _num(row["at_risk"]),
                    }
                res["statistic"] = [s]
            self.add(res)

    def bundle(self) -> dict[str, Any]:
        self.citations()
        self.results()
        self.comparisons()
        self.safety()
        order = {"Citation": 0, "EvidenceVariable": 1, "Evidence": 2}
        keys = sorted(self.entries, key=lambda k: (order[k[0]], k[1]))
        return {
            "resourceType": "Bundle",
            "id": "evidence-kb-export",
            "type": "collection",
            "entry": [
                {"fullUrl": f"{FHIR_BASE}{t}/{i}", "resource": self.entries[(t, i)]}
                for t, i in keys
            ],
        }


def bundle(data: ExportData) -> dict[str, Any]:
    """The Bundle as a JSON-ready dictionary."""
    return _Bundler(data).bundle()


def render(
    store: Any, selection: Any, *, fmt: str = "fhir", output: Path | None = None
) -> Rendered:
    data = extract(store, selection)
    text = json.dumps(bundle(data), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    return Rendered({"": text.encode("utf-8")})
