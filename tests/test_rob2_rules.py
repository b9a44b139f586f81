"""RoB 2 decision rules: one case per leaf of every domain's algorithm.

Source of every expected value: the RoB 2 full guidance document (Higgins, Savović, Page,
Sterne, 22 August 2019, riskofbias.info), the algorithm figure of each domain; the criteria
are summarised in Sterne et al., BMJ 2019;366:l4898, Table 2. Each case names the leaf
(``kb.rob.rob2.RULES``) it checks; the pytest id is that rule id and its path in words.
``test_every_leaf_has_a_case`` fails when a leaf has no case.

All forms here are synthetic (no real trial was assessed).
"""

from __future__ import annotations

import pytest

from kb.rob import rob2
from kb.rob.assessment import RobFormError, assess

L, S, H = rob2.LOW, rob2.SOME, rob2.HIGH

#: All-low answers for every domain (assignment aim): the background for one domain's case.
BASE = {
    "D1": {"1.1": "Y", "1.2": "Y", "1.3": "N"},
    "D2": {"2.1": "N", "2.2": "N", "2.6": "Y"},
    "D3": {"3.1": "Y"},
    "D4": {"4.1": "N", "4.2": "N", "4.3": "N"},
    "D5": {"5.1": "Y", "5.2": "N", "5.3": "N"},
}

# (domain, rule, answers for that domain, expected judgement)
CASES: list[tuple[str, str, dict[str, str], str]] = [
    ("D1", "D1.L1", {"1.1": "Y", "1.2": "Y", "1.3": "N"}, L),
    ("D1", "D1.L1", {"1.1": "NI", "1.2": "PY", "1.3": "NI"}, L),
    ("D1", "D1.S1", {"1.1": "N", "1.2": "PY", "1.3": "N"}, S),
    ("D1", "D1.S1", {"1.1": "PN", "1.2": "Y", "1.3": "Y"}, S),
    ("D1", "D1.S2", {"1.1": "NI", "1.2": "Y", "1.3": "PY"}, S),
    ("D1", "D1.S3", {"1.1": "Y", "1.2": "NI", "1.3": "NI"}, S),
    ("D1", "D1.S3", {"1.1": "NI", "1.2": "NI", "1.3": "PN"}, S),
    ("D1", "D1.H1", {"1.1": "Y", "1.2": "PN", "1.3": "N"}, H),
    ("D1", "D1.H1", {"1.1": "Y", "1.2": "N", "1.3": "NI"}, H),
    ("D1", "D1.H2", {"1.1": "Y", "1.2": "NI", "1.3": "Y"}, H),
    ("D3", "D3.L1", {"3.1": "Y"}, L),
    ("D3", "D3.L2", {"3.1": "N", "3.2": "Y"}, L),
    ("D3", "D3.L3", {"3.1": "NI", "3.2": "N", "3.3": "PN"}, L),
    ("D3", "D3.S1", {"3.1": "N", "3.2": "PN", "3.3": "Y", "3.4": "N"}, S),
    ("D3", "D3.H1", {"3.1": "N", "3.2": "N", "3.3": "NI", "3.4": "NI"}, H),
    ("D3", "D3.H1", {"3.1": "PN", "3.2": "N", "3.3": "PY", "3.4": "Y"}, H),
    ("D4", "D4.H1", {"4.1": "Y", "4.2": "N"}, H),
    ("D4", "D4.H2", {"4.1": "N", "4.2": "PY"}, H),
    ("D4", "D4.H2", {"4.1": "NI", "4.2": "Y"}, H),
    ("D4", "D4.L1", {"4.1": "N", "4.2": "N", "4.3": "N"}, L),
    ("D4", "D4.L2", {"4.1": "NI", "4.2": "PN", "4.3": "Y", "4.4": "N"}, L),
    ("D4", "D4.S1", {"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "N"}, S),
    ("D4", "D4.H3", {"4.1": "N", "4.2": "N", "4.3": "NI", "4.4": "NI", "4.5": "PY"}, H),
    ("D4", "D4.S2", {"4.1": "N", "4.2": "NI", "4.3": "N"}, S),
    ("D4", "D4.S3", {"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "PN"}, S),
    ("D4", "D4.S4", {"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "Y", "4.5": "PN"}, S),
    ("D4", "D4.H4", {"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "Y", "4.5": "NI"}, H),
    ("D5", "D5.L1", {"5.1": "Y", "5.2": "N", "5.3": "N"}, L),
    ("D5", "D5.S1", {"5.1": "PY", "5.2": "NI", "5.3": "N"}, S),
    ("D5", "D5.H1", {"5.1": "Y", "5.2": "N", "5.3": "Y"}, H),
    ("D5", "D5.S2", {"5.1": "N", "5.2": "N", "5.3": "PN"}, S),
    ("D5", "D5.S3", {"5.1": "NI", "5.2": "N", "5.3": "NI"}, S),
    ("D5", "D5.H2", {"5.1": "PN", "5.2": "PY", "5.3": "NI"}, H),
]

# Domain 2, effect of assignment: (part-1 rule, part-2 rule, combined rule, answers, judgement)
D2A_CASES: list[tuple[str, str, str, dict[str, str], str]] = [
    ("D2a.P1.L1", "D2a.P2.L1", "D2a.C.L", {"2.1": "N", "2.2": "PN", "2.6": "Y"}, L),
    ("D2a.P1.L2", "D2a.P2.L1", "D2a.C.L", {"2.1": "Y", "2.2": "N", "2.3": "N", "2.6": "Y"}, L),
    ("D2a.P1.S1", "D2a.P2.L1", "D2a.C.S", {"2.1": "NI", "2.2": "N", "2.3": "NI", "2.6": "PY"}, S),
    (
        "D2a.P1.S2",
        "D2a.P2.L1",
        "D2a.C.S",
        {"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "N", "2.6": "Y"},
        S,
    ),
    (
        "D2a.P1.S3",
        "D2a.P2.L1",
        "D2a.C.S",
        {"2.1": "Y", "2.2": "Y", "2.3": "PY", "2.4": "NI", "2.5": "Y", "2.6": "Y"},
        S,
    ),
    (
        "D2a.P1.H1",
        "D2a.P2.L1",
        "D2a.C.H",
        {"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "Y", "2.5": "N", "2.6": "Y"},
        H,
    ),
    ("D2a.P1.L1", "D2a.P2.S1", "D2a.C.S", {"2.1": "N", "2.2": "N", "2.6": "N", "2.7": "N"}, S),
    ("D2a.P1.L1", "D2a.P2.H1", "D2a.C.H", {"2.1": "N", "2.2": "N", "2.6": "NI", "2.7": "NI"}, H),
    (
        "D2a.P1.S1",
        "D2a.P2.S1",
        "D2a.C.S",
        {"2.1": "Y", "2.2": "N", "2.3": "NI", "2.6": "PN", "2.7": "PN"},
        S,
    ),
    (
        "D2a.P1.S2",
        "D2a.P2.H1",
        "D2a.C.H",
        {"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "PN", "2.6": "N", "2.7": "PY"},
        H,
    ),
]

# Domain 2, effect of adhering: (rule, answers, judgement)
D2B_CASES: list[tuple[str, dict[str, str], str]] = [
    ("D2b.L1", {"2.1": "N", "2.2": "N", "2.4": "N", "2.5": "NA"}, L),
    ("D2b.L1", {"2.1": "Y", "2.2": "N", "2.3": "Y", "2.4": "PN", "2.5": "N"}, L),
    ("D2b.L1", {"2.1": "Y", "2.2": "Y", "2.3": "NA", "2.4": "NA", "2.5": "NA"}, L),
    ("D2b.S1", {"2.1": "N", "2.2": "N", "2.4": "Y", "2.5": "N", "2.6": "Y"}, S),
    ("D2b.H1", {"2.1": "Y", "2.2": "N", "2.3": "PY", "2.4": "N", "2.5": "NI", "2.6": "N"}, H),
    ("D2b.S2", {"2.1": "Y", "2.2": "Y", "2.3": "N", "2.4": "N", "2.5": "N", "2.6": "PY"}, S),
    ("D2b.H2", {"2.1": "NI", "2.2": "N", "2.3": "NI", "2.4": "NA", "2.5": "NA", "2.6": "NI"}, H),
]


def _form(aim: str, answers: dict[str, str], **extra: object) -> dict[str, object]:
    return {
        "tool": "rob2",
        "aim": aim,
        "study": "synthetic-trial",
        "outcome": "synthetic",
        "answers": answers,
        **extra,
    }


def _with(domain: str, answers: dict[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for d, base in BASE.items():
        merged.update(answers if d == domain else base)
    return merged


def _ids(case: tuple[object, ...]) -> str:
    rule = str(case[1])
    return f"{rule}: {rob2.RULES[rule]}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_domain_leaf(case: tuple[str, str, dict[str, str], str]) -> None:
    domain, rule, answers, expected = case
    result = assess(_form("assignment", _with(domain, answers)))
    judgement = result.domains[domain]
    assert (judgement.proposed, judgement.rule) == (expected, rule)
    assert judgement.final == expected


@pytest.mark.parametrize(
    "case", D2A_CASES, ids=[f"{c[0]}+{c[1]}->{c[2]}: {rob2.RULES[c[2]]}" for c in D2A_CASES]
)
def test_domain2_assignment_leaf(case: tuple[str, str, str, dict[str, str], str]) -> None:
    rule1, rule2, combined, answers, expected = case
    result = assess(_form("assignment", _with("D2", answers)))
    assert (result.domains["D2"].proposed, result.domains["D2"].rule) == (expected, combined)
    complete = {"2.3": "NA", "2.4": "NA", "2.5": "NA", "2.7": "NA", **answers}
    p1, p2, _ = rob2.domain2_assignment(complete)
    assert (p1[1], p2[1]) == (rule1, rule2)


@pytest.mark.parametrize("case", D2B_CASES, ids=[f"{c[0]}: {rob2.RULES[c[0]]}" for c in D2B_CASES])
def test_domain2_adherence_leaf(case: tuple[str, dict[str, str], str]) -> None:
    rule, answers, expected = case
    result = assess(_form("adherence", _with("D2", answers)))
    assert (result.domains["D2"].proposed, result.domains["D2"].rule) == (expected, rule)


def test_every_leaf_has_a_case() -> None:
    covered = {c[1] for c in CASES} | {c[0] for c in D2B_CASES}
    for c in D2A_CASES:
        covered |= {c[0], c[1], c[2]}
    covered |= {"O.L", "O.S", "O.H"}  # test_overall_rule below
    assert covered == set(rob2.RULES)


@pytest.mark.parametrize(
    ("d3", "d5", "expected", "rule"),
    [
        ({"3.1": "Y"}, {"5.1": "Y", "5.2": "N", "5.3": "N"}, L, "O.L"),
        (
            {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"},
            {"5.1": "Y", "5.2": "N", "5.3": "N"},
            S,
            "O.S",
        ),
        (
            {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"},
            {"5.1": "Y", "5.2": "Y", "5.3": "N"},
            H,
            "O.H",
        ),
    ],
    ids=[f"{r}: {rob2.RULES[r]}" for r in ("O.L", "O.S", "O.H")],
)
def test_overall_rule(d3: dict[str, str], d5: dict[str, str], expected: str, rule: str) -> None:
    """Overall: low only if all domains are low, high if any is high (guidance, section 1.3)."""
    answers = {**_with("D3", d3), **d5}
    result = assess(_form("assignment", answers))
    assert (result.overall.proposed, result.overall.rule, result.overall.final) == (
        expected,
        rule,
        expected,
    )


def test_override_keeps_proposed_and_needs_justification() -> None:
    answers = _with("D3", {"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"})
    over = {
        "overall": {
            "judgement": "high",
            "justification": "some concerns in D3 and D5 "
            "together substantially lower confidence (synthetic)",
        }
    }
    result = assess(_form("assignment", answers, overrides=over))
    assert result.overall.proposed == S
    assert result.overall.final == H
    assert result.overall.overridden
    with pytest.raises(RobFormError, match=r"overrides\.overall\.justification"):
        assess(_form("assignment", answers, overrides={"overall": {"judgement": "high"}}))


def test_override_agreeing_with_the_algorithm_is_not_an_override() -> None:
    over = {"D1": {"judgement": "low", "justification": "agree"}}
    result = assess(_form("assignment", _with("D1", BASE["D1"]), overrides=over))
    assert not result.domains["D1"].overridden


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({**_with("D1", BASE["D1"]), "1.1": "YES"}, "answers.1.1: 'YES' is not a permitted"),
        ({k: v for k, v in _with("D1", BASE["D1"]).items() if k != "1.3"}, "answers.1.3: required"),
        (_with("D3", {"3.1": "N"}), r"answers.3.2: required \(If N/PN/NI to 3.1\)"),
        (_with("D3", {"3.1": "N", "3.2": "NI"}), "answers.3.2: 'NI' is not a permitted"),
        (_with("D3", {"3.1": "Y", "3.2": "Y"}), "answers.3.2: not asked"),
        (_with("D3", {"3.1": "N", "3.2": "NA"}), "answers.3.2: NA is not allowed"),
        ({**_with("D1", BASE["D1"]), "9.9": "Y"}, "answers.9.9: no such signalling question"),
    ],
)
def test_bad_answers_name_the_field(answers: dict[str, str], field: str) -> None:
    with pytest.raises(RobFormError, match=field):
        assess(_form("assignment", answers))


def test_unquoted_question_number_is_rejected() -> None:
    answers: dict[object, str] = dict(_with("D1", BASE["D1"]))
    answers[1.1] = answers.pop("1.1")
    with pytest.raises(RobFormError, match="quote the question number"):
        assess(_form("assignment", answers))  # type: ignore[arg-type]


def test_not_assessed_has_a_reason_and_no_judgements() -> None:
    result = assess(
        {
            "tool": "rob2",
            "study": "s",
            "outcome": "o",
            "not_assessed": "full text not available (synthetic)",
        }
    )
    assert not result.assessed
    assert {j.final for j in result.domains.values()} == {"not assessed"}
    assert result.overall.final == "not assessed"
    with pytest.raises(RobFormError, match="not_assessed: give the reason"):
        assess({"tool": "rob2", "study": "s", "outcome": "o", "not_assessed": " "})
