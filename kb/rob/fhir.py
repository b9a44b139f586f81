"""Risk-of-bias assessments as FHIR R5 ``ArtifactAssessment`` resources (EBM IG RiskOfBias).

One resource per assessed study result, in a ``collection`` Bundle. Its shape follows the
EBM IG's RiskOfBias profile (``p-risk-of-bias.fsh``) and its PARACHUTE example: the
assessed artifact, then one ``content`` entry typed ``certainty-type#RiskOfBias`` whose
classifier is the overall judgement, with one ``component`` per domain (classifier: the
domain judgement) and, under each domain, one ``response`` component per signalling question
(the answer, with its support quote as the summary).

Judgements are coded with the R5 ``certainty-rating`` concern codes (the profile's
classifier binding), mapped as for ``Evidence.certainty`` (:data:`kb.grade.fhir.ROB_CODES`),
and the tool's own words kept as the text. Domains and signalling questions have no codes
in the IG (it has no RoB 2 signalling-question coding, and SEVCO's bias codes are not RoB 2's
domains), so they are text only: no code is invented. An assessment recorded as not assessed
is exported with that reason and no judgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kb.grade.fhir import CERT_RATING, CERT_TYPE, ROB_CODES
from kb.namespaces import RES
from kb.rob.assessment import Assessment, Judgement

TOOL_NAMES = {"rob2": "RoB 2", "robins-i": "ROBINS-I V2"}


def _judgement_classifier(value: str) -> dict[str, Any]:
    code = ROB_CODES.get(value)
    out: dict[str, Any] = {"text": value}
    if code:
        out["coding"] = [{"system": CERT_RATING, "code": code}]
    return out


def _explain(j: Judgement) -> str:
    if j.source == "not-assessed":
        return "not assessed"
    if j.overridden:
        return (
            f"reviewer's override of the proposed {j.proposed} (rule {j.rule}): {j.justification}"
        )
    if j.source == "reviewer":
        return "the reviewer's judgement (the tool has no verified algorithm for this domain)"
    return f"proposed by the algorithm (rule {j.rule})"


def _questions(a: Assessment) -> dict[str, dict[str, str]]:
    """Domain -> question number -> question text, for the assessment's tool and variant."""
    from kb.rob import rob2, robins_i

    if a.tool == "rob2":
        table = rob2.questions(a.variant or rob2.AIMS[0])
        return {domain: {q.number: q.text for q in qs} for domain, qs in table.items()}
    # ROBINS-I V2's question texts are not transcribed here (kb.rob.robins_i): numbers only.
    other = robins_i.questions(a.variant or robins_i.EFFECTS[0])
    return {domain: {q.number: "" for q in qs} for domain, qs in other.items()}


def _responses(a: Assessment, questions: dict[str, str]) -> list[dict[str, Any]]:
    """The answered signalling questions, in the tool's order."""
    out = []
    for number, question in questions.items():
        answer = a.answers.get(number)
        if answer is None:
            continue
        entry: dict[str, Any] = {
            "informationType": "response",
            "type": {"text": f"{number} {question}".strip()},
            "classifier": [{"text": answer.value}],
        }
        if answer.support:
            entry["summary"] = answer.support
        out.append(entry)
    return out


def _fhir_id(text: str) -> str:
    """A FHIR id (``[A-Za-z0-9-.]{1,64}``): other characters become ``-``; a longer id keeps
    its start and a hash of the whole, so two long ids stay apart."""
    import hashlib
    import re

    clean = re.sub(r"[^A-Za-z0-9.-]", "-", text)
    if len(clean) <= 64:
        return clean
    return clean[:51] + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def artifact_assessment(a: Assessment, review: str | None = None) -> dict[str, Any]:
    """One RoB assessment as an R5 ``ArtifactAssessment`` (a dict for ``fhir.resources``)."""
    from kb.rob import rob2, robins_i

    tool = TOOL_NAMES.get(a.tool, a.tool)
    names = rob2.DOMAIN_NAMES if a.tool == "rob2" else robins_i.DOMAIN_NAMES
    author = {"display": a.assessor} if a.assessor else None
    top: dict[str, Any] = {
        "informationType": "rating",
        "type": {
            "coding": [{"system": CERT_TYPE, "code": "RiskOfBias", "display": "Risk of bias"}]
        },
    }
    if author:
        top["author"] = author
    if not a.assessed:
        top["classifier"] = [{"text": "not assessed"}]
        top["summary"] = f"{tool}: not assessed: {a.not_assessed}"
    else:
        variant = f" ({a.variant})" if a.variant else ""
        top["classifier"] = [_judgement_classifier(a.overall.final)]
        top["summary"] = f"{tool}{variant} overall: {a.overall.final}; {_explain(a.overall)}"
        texts = _questions(a)
        components = []
        if _responses(a, texts.get("B", {})):  # ROBINS-I V2 Section B: no judgement of its own
            components.append(
                {
                    "informationType": "container",
                    "type": {"text": "Section B"},
                    "component": _responses(a, texts["B"]),
                }
            )
        for key, j in a.domains.items():
            domain: dict[str, Any] = {
                "informationType": "rating",
                "type": {"text": f"{key} {names.get(key, key)}"},
                "classifier": [_judgement_classifier(j.final)],
                "summary": _explain(j),
            }
            answers = _responses(a, texts.get(key, {}))
            if answers:
                domain["component"] = answers
            components.append(domain)
        top["component"] = components
    is_uri = a.result is not None and ":" in a.result
    result = f", result {a.result}" if a.result and not is_uri else ""
    out: dict[str, Any] = {
        "resourceType": "ArtifactAssessment",
        "id": _fhir_id(f"rob-{a.study}-{a.outcome}"),
        "title": f"Risk of bias ({tool}) of {a.study} for the outcome {a.outcome}{result}",
        "artifactUri": a.result if is_uri else f"{RES}study/{a.study}",
        "content": [top],
    }
    if a.date:
        out["date"] = a.date
    if review:
        out["citeAsMarkdown"] = f"Assessed for the review {review} (evidence-kb)."
    return out


def bundle(assessments: Iterable[Assessment], review: str | None = None) -> dict[str, Any]:
    """A FHIR ``collection`` Bundle of one ``ArtifactAssessment`` per assessment."""
    # No timestamp (optional for a collection): the same assessments give the same bytes.
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": artifact_assessment(a, review)} for a in assessments],
    }
