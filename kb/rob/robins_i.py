"""ROBINS-I V2 (risk of bias in non-randomised studies of interventions, version 2).

What is implemented, and from where:

- the six bias domains, the Domain 1 variants A (effect of assignment, "intention-to-treat")
  and B (per-protocol effect) chosen by question C4, Section B (B1-B3), the signalling
  questions by number and their response options, including the V2 codes WN ("No, but not
  substantial"), SN ("No, and probably substantial"), SY ("Yes, substantially") and WY ("Yes,
  but not substantially"): ROBINS-I V2 (riskofbias.info, release of 20 November 2025, marked
  there as a draft), as transcribed in CoRATES ``robins-i/schema.ts`` (InfinityBowman/corates
  @3d42e9b). Where that transcription leaves "N" out of a question that lists "PN" (1.4 in
  variant A) we allow it, since no ROBINS-I question offers PN without N;
- the judgements low, low except for concerns about uncontrolled confounding (Domain 1 and
  the overall judgement only), moderate, serious and critical;
- Section B: B2 or B3 answered Y/PY ends the assessment at "critical" (rule ``B.C``);
- the overall judgement as the worst domain judgement (ROBINS-I, Sterne et al. BMJ
  2016;355:i4919, Table 3; unchanged in V2), where the best overall level is "low except for
  concerns about uncontrolled confounding" (rules ``O.*``).

What is not: the V2 domain-level decision tables. The only machine-readable transcription we
found (CoRATES) could not be checked against the official tables, which are a draft subject to
change, so a reviewer records each domain judgement (``judgements:`` in the form) and the tool
checks and combines them. Proposing them by algorithm is future work, once the tables are
final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LOW = "low"
LOW_EXCEPT = "low-except-confounding"
MODERATE = "moderate"
SERIOUS = "serious"
CRITICAL = "critical"
#: Judgements, best first.
JUDGEMENTS = (LOW, LOW_EXCEPT, MODERATE, SERIOUS, CRITICAL)
JUDGEMENT_LABELS = {
    LOW: "Low",
    LOW_EXCEPT: "Low (except for concerns about uncontrolled confounding)",
    MODERATE: "Moderate",
    SERIOUS: "Serious",
    CRITICAL: "Critical",
}

RESPONSES = ("Y", "PY", "PN", "N", "NI", "NA", "WN", "SN", "SY", "WY")
YES = frozenset({"Y", "PY"})

EFFECTS = ("assignment", "per-protocol")

DOMAIN_NAMES = {
    "D1": "Bias due to confounding",
    "D2": "Bias in classification of interventions",
    "D3": "Bias in selection of participants into the study (or into the analysis)",
    "D4": "Bias due to missing data",
    "D5": "Bias in measurement of the outcome",
    "D6": "Bias in selection of the reported result",
}
DOMAINS = tuple(DOMAIN_NAMES)

_STD = ("Y", "PY", "PN", "N")
_NI = ("Y", "PY", "PN", "N", "NI")
_NA = ("NA", "Y", "PY", "PN", "N", "NI")
_NA_NO_NI = ("NA", "Y", "PY", "PN", "N")
_WEAK_NO = ("Y", "PY", "WN", "SN", "NI")
_NA_WEAK_NO = ("NA", "Y", "PY", "WN", "SN", "NI")
_WEAK_YES = ("SY", "WY", "PN", "N", "NI")
_NA_WEAK_YES = ("NA", "SY", "WY", "PN", "N", "NI")


@dataclass(frozen=True)
class Question:
    """A signalling question: its number, options, and whether the form must answer it.

    Conditional questions ("If Y/PY to 1.1: ...") are optional in the form: NA when left out.
    """

    number: str
    options: tuple[str, ...]
    conditional: bool = False


def _q(number: str, options: tuple[str, ...], conditional: bool = False) -> Question:
    return Question(number, options, conditional)


SECTION_B = (_q("B1", _STD), _q("B2", _STD, True), _q("B3", _STD))

_D1A = (_q("1.1", _WEAK_NO), _q("1.2", _NA_WEAK_NO, True), _q("1.3", _NA, True), _q("1.4", _NA))
_D1B = (
    _q("1.1", _NI),
    _q("1.2", _NA_WEAK_NO, True),
    _q("1.3", _NA_WEAK_NO, True),
    _q("1.4", _NA, True),
    _q("1.5", _STD),
)
_REST = {
    "D2": (
        _q("2.1", _NI),
        _q("2.2", _NA, True),
        _q("2.3", _NA_WEAK_YES, True),
        _q("2.4", _WEAK_YES),
        _q("2.5", _NI),
    ),
    "D3": (
        _q("3.1", _WEAK_NO),
        _q("3.2", _NA, True),
        _q("3.3", _NI),
        _q("3.4", _NA, True),
        _q("3.5", _NA, True),
        _q("3.6", _NA, True),
        _q("3.7", _NA, True),
        _q("3.8", _NA, True),
    ),
    "D4": (
        _q("4.1", _NI),
        _q("4.2", _NI),
        _q("4.3", _NI),
        _q("4.4", _NA, True),
        _q("4.5", _NA, True),
        _q("4.6", _NA_WEAK_NO, True),
        _q("4.7", _NA, True),
        _q("4.8", _NA, True),
        _q("4.9", _NA_WEAK_NO, True),
        _q("4.10", _NA_WEAK_NO, True),
        _q("4.11", _NA_NO_NI, True),
    ),
    "D5": (_q("5.1", _NI), _q("5.2", _NI), _q("5.3", _NA_WEAK_YES, True)),
    "D6": (_q("6.1", _NI), _q("6.2", _NI), _q("6.3", _NI), _q("6.4", _NI)),
}


def questions(effect: str) -> dict[str, tuple[Question, ...]]:
    """Section B and the six domains' questions; ``effect`` (C4) picks the D1 variant."""
    if effect not in EFFECTS:
        raise ValueError(f"effect must be one of {', '.join(EFFECTS)}")
    return {"B": SECTION_B, "D1": _D1A if effect == "assignment" else _D1B, **_REST}


RULES: dict[str, str] = {
    "B.C": "B2 or B3 Y/PY -> critical; no further assessment (Section B)",
    "O.C": "any domain critical -> critical",
    "O.S": "any domain serious, none critical -> serious",
    "O.M": "any domain moderate, none serious or critical -> moderate",
    "O.L": "every domain low or low except confounding -> low except for concerns about "
    "uncontrolled confounding",
}


def stops_at_critical(answers: Mapping[str, str]) -> bool:
    """Section B: is the result at critical risk of bias without further assessment?"""
    return answers.get("B2") in YES or answers.get("B3") in YES


def allowed_judgements(domain: str) -> tuple[str, ...]:
    """Domain 1 alone may be "low except for concerns about uncontrolled confounding"."""
    if domain == "D1":
        return JUDGEMENTS
    return tuple(j for j in JUDGEMENTS if j != LOW_EXCEPT)


def overall(domains: Mapping[str, str]) -> tuple[str, str]:
    """The worst domain judgement, with its rule id."""
    values = set(domains.values())
    for level, rule in ((CRITICAL, "O.C"), (SERIOUS, "O.S"), (MODERATE, "O.M")):
        if level in values:
            return level, rule
    return LOW_EXCEPT, "O.L"
