"""Agreement between two risk-of-bias assessors over many results (``ekb diff --summary``).

RoB answers and judgements are categorical, so each field gets percent agreement and Cohen's
kappa (:func:`kb.reconciliation.agreement.cohen_kappa`). Fields, per tool (``rob2``,
``robins-i``):

- ``TOOL:answers[]``: every signalling answer, pooled; ``TOOL:D1.answers[]``: one domain's
  (``B`` is ROBINS-I's Section B);
- ``TOOL:judgements[]``: the final domain judgements (after overrides), pooled;
  ``TOOL:D1.judgement`` and ``TOOL:overall.judgement``: one domain's, the overall.

The pooled fields are left out of the per-kind totals (their pairs are the domains').

Unit for answers: one question of one result that at least one assessor answered (a left-out
answer is NA, as ``ekb rob check`` reads it); a question both left at NA was asked of
neither and is not counted. NA against an answer is a disagreement (NA is one of the
tool's categories). A result one assessor could not assess (``not_assessed``) gives no
answers to compare; its judgements count as "one only".
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.reconciliation.agreement import FieldAgreement
from kb.reconciliation.rob import RobForm, answer, check_same_result, questions

ANSWER_KIND = "rob-answer"
JUDGEMENT_KIND = "rob-judgement"


def rob_fields(pairs: Sequence[tuple[RobForm, RobForm]]) -> list[FieldAgreement]:
    """Agreement per RoB field over pairs of forms of one result each.

    :raises UsageError: a pair is not of one result, tool and variant.
    """
    fields: dict[str, FieldAgreement] = {}

    def entry(path: str, kind: str) -> FieldAgreement:
        pooled = path.endswith(":answers[]") or path.endswith(":judgements[]")
        return fields.setdefault(path, FieldAgreement(path, kind, True, pooled=pooled))

    for a, b in pairs:
        check_same_result(a, b)
        tool = a.assessment.tool
        both = a.assessment.assessed and b.assessment.assessed
        if both:
            for domain, numbers in questions(a).items():
                for q in numbers:
                    ca, cb = answer(a.data, q)[0] or "NA", answer(b.data, q)[0] or "NA"
                    if ca == cb == "NA":
                        continue
                    for path in (f"{tool}:answers[]", f"{tool}:{domain}.answers[]"):
                        entry(path, ANSWER_KIND).a_values.append(ca)
                        entry(path, ANSWER_KIND).b_values.append(cb)
        if not a.assessment.assessed and not b.assessment.assessed:
            continue
        x, y = a.assessment, b.assessment
        for domain in [*x.domains, "overall"]:
            paths = [f"{tool}:{domain}.judgement"]
            if domain != "overall":
                paths.append(f"{tool}:judgements[]")
            for path in paths:
                e = entry(path, JUDGEMENT_KIND)
                if not both:
                    e.only_one += 1
                    continue
                e.a_values.append((x.overall if domain == "overall" else x.domains[domain]).final)
                e.b_values.append((y.overall if domain == "overall" else y.domains[domain]).final)
    return sorted(fields.values(), key=lambda f: f.path)
