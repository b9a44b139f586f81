"""FHIR R5 Evidence for one outcome of a review: the pooled statistic and its certainty.

``Evidence.certainty`` holds one ``Overall`` component (rated high / moderate / low /
very-low) whose ``subcomponent``\\ s are the GRADE domains, each typed and rated with the
R5 code systems ``certainty-type`` (RiskOfBias, Inconsistency, Indirectness, Imprecision,
PublicationBias, LargeEffect, DoseResponseGradient, PlausibleConfounding) and
``certainty-rating`` (no-concern, serious-concern, very-serious-concern,
extremely-serious-concern; absent / upcode1 / upcode2 for rating up). The RiskOfBias
subcomponent carries one subcomponent per included result with its RoB 2 / ROBINS-I
judgement, mapped onto the four concern codes (as the CEOsys CPG IG restricts RoB ratings)
with the tool's own words kept as the rating's text. Validated with ``fhir.resources`` (R5)
in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kb.grade import rules
from kb.grade.rating import Certainty

CERT_TYPE = "http://terminology.hl7.org/CodeSystem/certainty-type"
CERT_RATING = "http://terminology.hl7.org/CodeSystem/certainty-rating"
STAT_TYPE = "http://terminology.hl7.org/CodeSystem/statistic-type"
VAR_ROLE = "http://terminology.hl7.org/CodeSystem/variable-role"
ATTR_TYPE = "http://terminology.hl7.org/CodeSystem/attribute-estimate-type"

DOMAIN_TYPES = {
    "risk of bias": ("RiskOfBias", "Risk of bias"),
    "inconsistency": ("Inconsistency", "Inconsistency"),
    "indirectness": ("Indirectness", "Indirectness"),
    "imprecision": ("Imprecision", "Imprecision"),
    "publication bias": ("PublicationBias", "Publication bias"),
    "large effect": ("LargeEffect", "Large effect"),
    "dose-response gradient": ("DoseResponseGradient", "Dose response gradient"),
    "plausible confounding": ("PlausibleConfounding", "Plausible confounding"),
}
RATING_CODES = {
    rules.NOT_SERIOUS: ("no-concern", "no serious concern"),
    rules.SERIOUS: ("serious-concern", "serious concern"),
    rules.VERY_SERIOUS: ("very-serious-concern", "very serious concern"),
    rules.EXTREMELY_SERIOUS: ("extremely-serious-concern", "extremely serious concern"),
    rules.NO_UPGRADE: ("absent", "absent"),
    rules.UP_ONE: ("upcode1", "Increase quality rating by 1"),
    rules.UP_TWO: ("upcode2", "Increase quality rating by 2"),
    "high": ("high", "High quality"),
    "moderate": ("moderate", "Moderate quality"),
    "low": ("low", "Low quality"),
    "very low": ("very-low", "Very low quality"),
}
#: RoB judgement -> concern code (RoB 2 and ROBINS-I V2 levels).
ROB_CODES = {
    "low": "no-concern",
    "low-except-confounding": "no-concern",
    "some concerns": "serious-concern",
    "moderate": "serious-concern",
    "high": "very-serious-concern",
    "serious": "very-serious-concern",
    "critical": "extremely-serious-concern",
}


def _cc(system: str, code: str | None, display: str | None = None, text: str | None = None):
    out: dict[str, Any] = {}
    if code:
        coding: dict[str, Any] = {"system": system, "code": code}
        if display:
            coding["display"] = display
        out["coding"] = [coding]
    if text:
        out["text"] = text
    return out


def _rating(value: str | None) -> dict[str, Any]:
    if value is None:
        return {"text": "not rated"}
    code, display = RATING_CODES.get(value, (None, None))
    return _cc(CERT_RATING, code, display, value)


def certainty_component(
    cert: Certainty, rob: Sequence[tuple[str, str | None, str]] = ()
) -> dict[str, Any]:
    """``Evidence.certainty`` (the Overall component with one subcomponent per domain).

    :param rob: ``(result label, judgement or None, tool)`` per included result.
    """
    subs = []
    for d in cert.domains:
        ctype, cdisplay = DOMAIN_TYPES[d.domain]
        sub: dict[str, Any] = {
            "description": d.reason,
            "type": _cc(CERT_TYPE, ctype, cdisplay),
            "rating": _rating(d.final),
            "note": [{"text": f"suggested: {d.suggested} (rule {d.rule}: {d.rule_source})"}],
        }
        if d.rater:
            sub["rater"] = d.rater
        if d.domain == "risk of bias" and rob:
            sub["subcomponent"] = [
                {
                    "description": f"{label}: {tool} overall judgement",
                    "type": _cc(CERT_TYPE, "RiskOfBias", "Risk of bias"),
                    "rating": (
                        _cc(CERT_RATING, ROB_CODES[j], None, j)
                        if j is not None
                        else {"text": "not assessed"}
                    ),
                }
                for label, j, tool in rob
            ]
        subs.append(sub)
    return {
        "description": f"GRADE certainty of the body of evidence: {cert.how}",
        "type": _cc(CERT_TYPE, "Overall", "Overall certainty"),
        "rating": _rating(cert.rating),
        "subcomponent": subs,
    }


def outcome_evidence(
    *,
    id: str,
    title: str,
    measure: str,
    estimate: float | None,
    ci: tuple[float, float] | None,
    studies: int,
    participants: int | None,
    cert: Certainty,
    rob: Sequence[tuple[str, str | None, str]] = (),
    variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An R5 Evidence resource (as a dict) for one outcome.

    :param variables: role -> display for ``variableDefinition`` (population, exposure,
        referenceExposure, measuredVariable); R5 requires at least one.
    """
    defs = [
        {"variableRole": _cc(VAR_ROLE, role, role), "description": text}
        for role, text in (variables or {"measuredVariable": title}).items()
    ]
    res: dict[str, Any] = {
        "resourceType": "Evidence",
        "id": id,
        "status": "active",
        "title": title,
        "variableDefinition": defs,
        "certainty": [certainty_component(cert, rob)],
    }
    stat: dict[str, Any] = {
        "sampleSize": {"numberOfStudies": studies},
    }
    if participants is not None:
        stat["sampleSize"]["numberOfParticipants"] = participants
    from kb.export.fhir import STATISTIC_TYPES  # one table of statistic-type codes

    code, display = STATISTIC_TYPES.get(measure, (None, None))
    stat["statisticType"] = _cc(STAT_TYPE, code, display, measure)
    if estimate is not None:
        stat["quantity"] = {"value": round(estimate, 6)}
    if ci is not None:
        stat["attributeEstimate"] = [
            {
                "type": _cc(ATTR_TYPE, "C53324", "Confidence interval"),
                "level": 0.95,
                "range": {"low": {"value": round(ci[0], 6)}, "high": {"value": round(ci[1], 6)}},
            }
        ]
    res["statistic"] = [stat]
    return res
