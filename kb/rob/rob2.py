"""RoB 2 (Cochrane risk-of-bias tool for randomised trials): questions and decision rules.

Source of every rule: Higgins JPT, Savović J, Page MJ, Sterne JAC (eds). *Revised Cochrane
risk-of-bias tool for randomized trials (RoB 2), full guidance document*, 22 August 2019
(riskofbias.info), the algorithm figure at the end of each domain; summarised in Sterne JAC et
al., BMJ 2019;366:l4898, Table 2 (criteria for the judgements) and reproduced as text in
Syst Rev 2021;10:171, Table 2 (https://pmc.ncbi.nlm.nih.gov/articles/PMC8191126/table/Tab2).
The transcription in CoRATES (``rob2/scoring-domains.ts``) was checked against these and
agrees leaf by leaf; where the two describe a leaf differently the guidance wins.

Every leaf of every domain's decision tree has a rule id (``D1.L1``, ``D2a.P1.H1`` ...) with
its path in words in :data:`RULES`; a proposed judgement always carries the id of the leaf
that produced it, so a reader can check it against the published figure.

The trees are written out as plain ``if`` chains, one function per domain, because the
guidance draws them that way; no library encodes RoB 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

LOW = "low"
SOME = "some concerns"
HIGH = "high"
#: Domain and overall judgements, best first.
JUDGEMENTS = (LOW, SOME, HIGH)

#: Response options: Yes, Probably yes, Probably no, No, No information, Not applicable.
RESPONSES = ("Y", "PY", "PN", "N", "NI", "NA")
_BASE = ("Y", "PY", "PN", "N", "NI")
_COND = ("NA", "Y", "PY", "PN", "N", "NI")
# 3.2 has no "No information" option in the official template.
_COND_NO_NI = ("NA", "Y", "PY", "PN", "N")

YES = frozenset({"Y", "PY"})
NO = frozenset({"N", "PN"})

AIMS = ("assignment", "adherence")

#: Domain names as the tool prints them.
DOMAIN_NAMES = {
    "D1": "Bias arising from the randomization process",
    "D2": "Bias due to deviations from intended interventions",
    "D3": "Bias due to missing outcome data",
    "D4": "Bias in measurement of the outcome",
    "D5": "Bias in selection of the reported result",
}
DOMAINS = tuple(DOMAIN_NAMES)

Answers = Mapping[str, str]


@dataclass(frozen=True)
class Question:
    """One signalling question.

    ``asked`` says when a conditional question is asked (``None``: always). ``if_applicable``
    marks the questions the tool prefixes with "[If applicable:]", which may be NA even when
    asked.
    """

    number: str
    text: str
    options: tuple[str, ...]
    condition: str | None = None
    asked: Callable[[Answers], bool] | None = None
    if_applicable: bool = False


def _any(answers: Answers, numbers: tuple[str, ...], values: frozenset[str]) -> bool:
    return any(answers.get(n) in values for n in numbers)


_YPYNI = frozenset({"Y", "PY", "NI"})
_NPNNI = frozenset({"N", "PN", "NI"})

_D1 = (
    Question("1.1", "Was the allocation sequence random?", _BASE),
    Question(
        "1.2",
        "Was the allocation sequence concealed until participants were enrolled and assigned "
        "to interventions?",
        _BASE,
    ),
    Question(
        "1.3",
        "Did baseline differences between intervention groups suggest a problem with the "
        "randomization process?",
        _BASE,
    ),
)
_D2_AWARE = (
    Question(
        "2.1", "Were participants aware of their assigned intervention during the trial?", _BASE
    ),
    Question(
        "2.2",
        "Were carers and people delivering the interventions aware of participants' assigned "
        "intervention during the trial?",
        _BASE,
    ),
)
_D2A = _D2_AWARE + (
    Question(
        "2.3",
        "Were there deviations from the intended intervention that arose because of the trial "
        "context?",
        _COND,
        "If Y/PY/NI to 2.1 or 2.2",
        lambda a: _any(a, ("2.1", "2.2"), _YPYNI),
    ),
    Question(
        "2.4",
        "Were these deviations likely to have affected the outcome?",
        _COND,
        "If Y/PY to 2.3",
        lambda a: a.get("2.3") in YES,
    ),
    Question(
        "2.5",
        "Were these deviations from intended intervention balanced between groups?",
        _COND,
        "If Y/PY/NI to 2.4",
        lambda a: a.get("2.3") in YES and a.get("2.4") in _YPYNI,
    ),
    Question(
        "2.6",
        "Was an appropriate analysis used to estimate the effect of assignment to intervention?",
        _BASE,
    ),
    Question(
        "2.7",
        "Was there potential for a substantial impact (on the result) of the failure to "
        "analyse participants in the group to which they were randomized?",
        _COND,
        "If N/PN/NI to 2.6",
        lambda a: a.get("2.6") in _NPNNI,
    ),
)
_D2B = _D2_AWARE + (
    Question(
        "2.3",
        "Were important non-protocol interventions balanced across intervention groups?",
        _COND,
        "[If applicable:] If Y/PY/NI to 2.1 or 2.2",
        lambda a: _any(a, ("2.1", "2.2"), _YPYNI),
        if_applicable=True,
    ),
    Question(
        "2.4",
        "Were there failures in implementing the intervention that could have affected the "
        "outcome?",
        _COND,
        "[If applicable:]",
        None,
        if_applicable=True,
    ),
    Question(
        "2.5",
        "Was there non-adherence to the assigned intervention regimen that could have affected "
        "participants' outcomes?",
        _COND,
        "[If applicable:]",
        None,
        if_applicable=True,
    ),
    Question(
        "2.6",
        "Was an appropriate analysis used to estimate the effect of adhering to the intervention?",
        _COND,
        "If N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5",
        lambda a: a.get("2.3") in _NPNNI or _any(a, ("2.4", "2.5"), _YPYNI),
    ),
)
_D3 = (
    Question(
        "3.1",
        "Were data for this outcome available for all, or nearly all, participants randomized?",
        _BASE,
    ),
    Question(
        "3.2",
        "Is there evidence that the result was not biased by missing outcome data?",
        _COND_NO_NI,
        "If N/PN/NI to 3.1",
        lambda a: a.get("3.1") in _NPNNI,
    ),
    Question(
        "3.3",
        "Could missingness in the outcome depend on its true value?",
        _COND,
        "If N/PN to 3.2",
        lambda a: a.get("3.1") in _NPNNI and a.get("3.2") in NO,
    ),
    Question(
        "3.4",
        "Is it likely that missingness in the outcome depended on its true value?",
        _COND,
        "If Y/PY/NI to 3.3",
        lambda a: a.get("3.1") in _NPNNI and a.get("3.2") in NO and a.get("3.3") in _YPYNI,
    ),
)
_D4 = (
    Question("4.1", "Was the method of measuring the outcome inappropriate?", _BASE),
    Question(
        "4.2",
        "Could measurement or ascertainment of the outcome have differed between intervention "
        "groups?",
        _BASE,
    ),
    Question(
        "4.3",
        "Were outcome assessors aware of the intervention received by study participants?",
        _COND,
        "If N/PN/NI to 4.1 and 4.2",
        lambda a: a.get("4.1") in _NPNNI and a.get("4.2") in _NPNNI,
    ),
    Question(
        "4.4",
        "Could assessment of the outcome have been influenced by knowledge of intervention "
        "received?",
        _COND,
        "If Y/PY/NI to 4.3",
        lambda a: a.get("4.1") in _NPNNI and a.get("4.2") in _NPNNI and a.get("4.3") in _YPYNI,
    ),
    Question(
        "4.5",
        "Is it likely that assessment of the outcome was influenced by knowledge of "
        "intervention received?",
        _COND,
        "If Y/PY/NI to 4.4",
        lambda a: (
            a.get("4.1") in _NPNNI
            and a.get("4.2") in _NPNNI
            and a.get("4.3") in _YPYNI
            and a.get("4.4") in _YPYNI
        ),
    ),
)
_D5 = (
    Question(
        "5.1",
        "Were the data that produced this result analysed in accordance with a pre-specified "
        "analysis plan that was finalized before unblinded outcome data were available for "
        "analysis?",
        _BASE,
    ),
    Question(
        "5.2",
        "Is the numerical result being assessed likely to have been selected, on the basis of "
        "the results, from multiple eligible outcome measurements within the outcome domain?",
        _BASE,
    ),
    Question(
        "5.3",
        "Is the numerical result being assessed likely to have been selected, on the basis of "
        "the results, from multiple eligible analyses of the data?",
        _BASE,
    ),
)


def questions(aim: str) -> dict[str, tuple[Question, ...]]:
    """The signalling questions per domain; ``aim`` picks the Domain 2 variant."""
    if aim not in AIMS:
        raise ValueError(f"aim must be one of {', '.join(AIMS)}")
    d2 = _D2A if aim == "assignment" else _D2B
    return {"D1": _D1, "D2": d2, "D3": _D3, "D4": _D4, "D5": _D5}


#: rule id -> the path through the published algorithm, in words.
RULES: dict[str, str] = {
    "D1.L1": "1.2 Y/PY, 1.1 Y/PY/NI, 1.3 N/PN/NI -> low",
    "D1.S1": "1.2 Y/PY, 1.1 N/PN -> some concerns (whatever 1.3)",
    "D1.S2": "1.2 Y/PY, 1.1 Y/PY/NI, 1.3 Y/PY -> some concerns",
    "D1.S3": "1.2 NI, 1.3 N/PN/NI -> some concerns",
    "D1.H1": "1.2 N/PN -> high",
    "D1.H2": "1.2 NI, 1.3 Y/PY -> high",
    "D2a.P1.L1": "2.1 and 2.2 both N/PN -> part 1 low",
    "D2a.P1.L2": "2.1 or 2.2 Y/PY/NI, 2.3 N/PN -> part 1 low",
    "D2a.P1.S1": "2.3 NI -> part 1 some concerns",
    "D2a.P1.S2": "2.3 Y/PY, 2.4 N/PN -> part 1 some concerns",
    "D2a.P1.S3": "2.3 Y/PY, 2.4 Y/PY/NI, 2.5 Y/PY -> part 1 some concerns",
    "D2a.P1.H1": "2.3 Y/PY, 2.4 Y/PY/NI, 2.5 N/PN/NI -> part 1 high",
    "D2a.P2.L1": "2.6 Y/PY -> part 2 low",
    "D2a.P2.S1": "2.6 N/PN/NI, 2.7 N/PN -> part 2 some concerns",
    "D2a.P2.H1": "2.6 N/PN/NI, 2.7 Y/PY/NI -> part 2 high",
    "D2a.C.L": "parts 1 and 2 both low -> low",
    "D2a.C.H": "part 1 or part 2 high -> high",
    "D2a.C.S": "otherwise -> some concerns",
    "D2b.L1": "(2.1 and 2.2 N/PN, or 2.3 Y/PY/NA), 2.4 and 2.5 N/PN/NA -> low",
    "D2b.S1": "(2.1 and 2.2 N/PN, or 2.3 Y/PY/NA), 2.4 or 2.5 Y/PY/NI, 2.6 Y/PY -> some concerns",
    "D2b.H1": "(2.1 and 2.2 N/PN, or 2.3 Y/PY/NA), 2.4 or 2.5 Y/PY/NI, 2.6 N/PN/NI -> high",
    "D2b.S2": "2.1 or 2.2 Y/PY/NI, 2.3 N/PN/NI, 2.6 Y/PY -> some concerns",
    "D2b.H2": "2.1 or 2.2 Y/PY/NI, 2.3 N/PN/NI, 2.6 N/PN/NI -> high",
    "D3.L1": "3.1 Y/PY -> low",
    "D3.L2": "3.1 N/PN/NI, 3.2 Y/PY -> low",
    "D3.L3": "3.2 N/PN, 3.3 N/PN -> low",
    "D3.S1": "3.3 Y/PY/NI, 3.4 N/PN -> some concerns",
    "D3.H1": "3.3 Y/PY/NI, 3.4 Y/PY/NI -> high",
    "D4.H1": "4.1 Y/PY -> high",
    "D4.H2": "4.1 N/PN/NI, 4.2 Y/PY -> high",
    "D4.L1": "4.2 N/PN, 4.3 N/PN -> low",
    "D4.L2": "4.2 N/PN, 4.3 Y/PY/NI, 4.4 N/PN -> low",
    "D4.S1": "4.2 N/PN, 4.4 Y/PY/NI, 4.5 N/PN -> some concerns",
    "D4.H3": "4.2 N/PN, 4.4 Y/PY/NI, 4.5 Y/PY/NI -> high",
    "D4.S2": "4.2 NI, 4.3 N/PN -> some concerns",
    "D4.S3": "4.2 NI, 4.3 Y/PY/NI, 4.4 N/PN -> some concerns",
    "D4.S4": "4.2 NI, 4.4 Y/PY/NI, 4.5 N/PN -> some concerns",
    "D4.H4": "4.2 NI, 4.4 Y/PY/NI, 4.5 Y/PY/NI -> high",
    "D5.L1": "5.1 Y/PY, 5.2 and 5.3 both N/PN -> low",
    "D5.S1": "5.1 Y/PY, 5.2 or 5.3 NI (neither Y/PY) -> some concerns",
    "D5.H1": "5.1 Y/PY, 5.2 or 5.3 Y/PY -> high",
    "D5.S2": "5.1 N/PN/NI, 5.2 and 5.3 both N/PN -> some concerns",
    "D5.S3": "5.1 N/PN/NI, 5.2 or 5.3 NI (neither Y/PY) -> some concerns",
    "D5.H2": "5.1 N/PN/NI, 5.2 or 5.3 Y/PY -> high",
    "O.L": "every domain low -> low",
    "O.H": "any domain high -> high",
    "O.S": "no domain high, at least one some concerns -> some concerns",
}

#: A domain's proposed judgement and the id of the leaf that gave it.
Proposal = tuple[str, str]


def domain1(a: Answers) -> Proposal:
    """D1, randomization process (guidance, algorithm for domain 1)."""
    if a["1.2"] in NO:
        return HIGH, "D1.H1"
    if a["1.2"] == "NI":
        return (HIGH, "D1.H2") if a["1.3"] in YES else (SOME, "D1.S3")
    if a["1.1"] in NO:
        return SOME, "D1.S1"
    return (SOME, "D1.S2") if a["1.3"] in YES else (LOW, "D1.L1")


def _d2a_part1(a: Answers) -> Proposal:
    if a["2.1"] in NO and a["2.2"] in NO:
        return LOW, "D2a.P1.L1"
    if a["2.3"] in NO:
        return LOW, "D2a.P1.L2"
    if a["2.3"] == "NI":
        return SOME, "D2a.P1.S1"
    if a["2.4"] in NO:
        return SOME, "D2a.P1.S2"
    return (SOME, "D2a.P1.S3") if a["2.5"] in YES else (HIGH, "D2a.P1.H1")


def _d2a_part2(a: Answers) -> Proposal:
    if a["2.6"] in YES:
        return LOW, "D2a.P2.L1"
    return (SOME, "D2a.P2.S1") if a["2.7"] in NO else (HIGH, "D2a.P2.H1")


def domain2_assignment(a: Answers) -> tuple[Proposal, Proposal, Proposal]:
    """D2, effect of assignment: part 1 (2.1-2.5), part 2 (2.6-2.7), and the combination."""
    p1, p2 = _d2a_part1(a), _d2a_part2(a)
    if p1[0] == LOW and p2[0] == LOW:
        combined: Proposal = (LOW, "D2a.C.L")
    elif HIGH in (p1[0], p2[0]):
        combined = (HIGH, "D2a.C.H")
    else:
        combined = (SOME, "D2a.C.S")
    return p1, p2, combined


def domain2_adherence(a: Answers) -> Proposal:
    """D2, effect of adhering to intervention (guidance, algorithm for domain 2, adherence)."""
    unaware = a["2.1"] in NO and a["2.2"] in NO
    if unaware or a["2.3"] in YES or a["2.3"] == "NA":
        if a["2.4"] in _YPYNI or a["2.5"] in _YPYNI:
            return (SOME, "D2b.S1") if a["2.6"] in YES else (HIGH, "D2b.H1")
        return LOW, "D2b.L1"
    return (SOME, "D2b.S2") if a["2.6"] in YES else (HIGH, "D2b.H2")


def domain3(a: Answers) -> Proposal:
    """D3, missing outcome data."""
    if a["3.1"] in YES:
        return LOW, "D3.L1"
    if a["3.2"] in YES:
        return LOW, "D3.L2"
    if a["3.3"] in NO:
        return LOW, "D3.L3"
    return (SOME, "D3.S1") if a["3.4"] in NO else (HIGH, "D3.H1")


def domain4(a: Answers) -> Proposal:
    """D4, measurement of the outcome; 4.2 NI caps every low leaf at some concerns."""
    if a["4.1"] in YES:
        return HIGH, "D4.H1"
    if a["4.2"] in YES:
        return HIGH, "D4.H2"
    capped = a["4.2"] == "NI"
    if a["4.3"] in NO:
        return (SOME, "D4.S2") if capped else (LOW, "D4.L1")
    if a["4.4"] in NO:
        return (SOME, "D4.S3") if capped else (LOW, "D4.L2")
    if a["4.5"] in NO:
        return (SOME, "D4.S4") if capped else (SOME, "D4.S1")
    return (HIGH, "D4.H4") if capped else (HIGH, "D4.H3")


def domain5(a: Answers) -> Proposal:
    """D5, selection of the reported result."""
    pre_specified = a["5.1"] in YES
    if a["5.2"] in YES or a["5.3"] in YES:
        return HIGH, "D5.H1" if pre_specified else "D5.H2"
    if a["5.2"] == "NI" or a["5.3"] == "NI":
        return SOME, "D5.S1" if pre_specified else "D5.S3"
    return (LOW, "D5.L1") if pre_specified else (SOME, "D5.S2")


def overall(domains: Mapping[str, str]) -> Proposal:
    """The overall proposal: low only if every domain is low, high if any is high.

    The guidance also allows "high" when several domains have some concerns that together
    substantially lower confidence in the result (BMJ 2019;366:l4898, Table 3); that is a
    judgement, recorded as an override with its justification, not proposed here.
    """
    values = set(domains.values())
    if values == {LOW}:
        return LOW, "O.L"
    if HIGH in values:
        return HIGH, "O.H"
    return SOME, "O.S"


def propose(aim: str, answers: Answers) -> dict[str, Proposal]:
    """Proposed judgement per domain (D1..D5), plus ``D2.part1``/``D2.part2`` for assignment.

    ``answers`` must already be complete for the path (see :mod:`kb.rob.forms`); every
    question the path reads is present, NA where it was not asked.
    """
    a = dict(answers)
    out: dict[str, Proposal] = {"D1": domain1(a)}
    if aim == "assignment":
        p1, p2, combined = domain2_assignment(a)
        out["D2"] = combined
        out["D2.part1"] = p1
        out["D2.part2"] = p2
    else:
        out["D2"] = domain2_adherence(a)
    out["D3"] = domain3(a)
    out["D4"] = domain4(a)
    out["D5"] = domain5(a)
    return out
