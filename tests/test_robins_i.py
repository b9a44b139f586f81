"""ROBINS-I V2: response options, Section B, reviewer judgements and the overall rule.

Sources: ROBINS-I V2 (riskofbias.info, 20 November 2025 release) for the domains, the
response codes (WN, SN, SY, WY) and the "low except for concerns about uncontrolled
confounding" level; the overall rule (worst domain) from Sterne et al., BMJ 2016;355:i4919,
Table 3. Every form here is synthetic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kb.rob import robins_i
from kb.rob.assessment import RobFormError, assess, assess_file

DATA = Path(__file__).parent / "data" / "rob"


def _form(**changes: Any) -> dict[str, Any]:
    form = assess_file(DATA / "synthetic-robins-cohort-f.yaml")
    import yaml

    raw = yaml.safe_load((DATA / "synthetic-robins-cohort-f.yaml").read_text())
    assert form.tool == "robins-i"
    raw.update(changes)
    return raw


def test_shipped_synthetic_form_overall_is_the_worst_domain() -> None:
    a = assess(_form())
    assert a.domains["D1"].final == robins_i.LOW_EXCEPT
    assert a.domains["D4"].final == robins_i.MODERATE
    assert (a.overall.proposed, a.overall.rule) == (robins_i.MODERATE, "O.M")


@pytest.mark.parametrize(
    ("judgements", "expected", "rule"),
    [
        ({"D1": "low", "D2": "low"}, robins_i.LOW_EXCEPT, "O.L"),
        ({"D1": "low-except-confounding"}, robins_i.LOW_EXCEPT, "O.L"),
        ({"D3": "moderate"}, robins_i.MODERATE, "O.M"),
        ({"D3": "moderate", "D5": "serious"}, robins_i.SERIOUS, "O.S"),
        ({"D3": "critical", "D5": "serious"}, robins_i.CRITICAL, "O.C"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_overall_rule(judgements: dict[str, str], expected: str, rule: str) -> None:
    """Overall = worst domain; the best overall level is 'low except confounding' (V2)."""
    base = dict.fromkeys(robins_i.DOMAINS, "low")
    a = assess(_form(judgements={**base, **judgements}))
    assert (a.overall.proposed, a.overall.rule) == (expected, rule)
    assert robins_i.RULES[rule]


def test_section_b_stops_at_critical() -> None:
    """B3 Y/PY (inappropriate outcome measure): critical, no further assessment (B.C)."""
    a = assess(
        {
            "tool": "robins-i",
            "effect": "assignment",
            "study": "s",
            "outcome": "o",
            "answers": {"B1": "Y", "B3": "PY"},
        }
    )
    assert (a.overall.final, a.overall.rule) == (robins_i.CRITICAL, "B.C")


def test_weak_and_strong_codes_are_checked_per_question() -> None:
    answers = dict(_form()["answers"])
    answers["2.4"] = "WY"  # 2.4 takes SY/WY/PN/N/NI
    assess(_form(answers=answers))
    answers["2.4"] = "WN"  # ... but not WN
    with pytest.raises(RobFormError, match=r"answers\.2\.4: 'WN' is not a permitted"):
        assess(_form(answers=answers))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"effect": "itt"}, "effect: 'itt' is not one of"),
        ({"judgements": {"D1": "low"}}, r"judgements\.D2: required"),
        (
            {
                "judgements": {
                    **dict.fromkeys(robins_i.DOMAINS, "low"),
                    "D2": "low-except-confounding",
                }
            },
            r"judgements\.D2: 'low-except-confounding' is not one of",
        ),
        (
            {"overrides": {"overall": {"judgement": "serious"}}},
            r"overrides\.overall\.justification: an override needs",
        ),
        (
            {"overrides": {"D3": {"judgement": "serious", "justification": "x"}}},
            r"overrides\.D3: ROBINS-I domain judgements are the reviewer's",
        ),
    ],
)
def test_bad_input_names_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RobFormError, match=message):
        assess(_form(**change))


def test_overall_override_with_justification() -> None:
    over = {
        "overall": {
            "judgement": "serious",
            "justification": "moderate concerns in two domains together (synthetic)",
        }
    }
    a = assess(_form(overrides=over))
    assert (a.overall.proposed, a.overall.final, a.overall.overridden) == (
        robins_i.MODERATE,
        robins_i.SERIOUS,
        True,
    )
