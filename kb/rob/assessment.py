"""A risk-of-bias assessment form (YAML) checked and judged: proposed, final, overridden.

One form assesses one result (one study, one outcome). The form holds what a person decided
(signalling answers with optional support quotes, who and when, overrides with their
justification); everything the algorithm derives (proposed judgements) is computed here on
demand, never read from the form, so a form cannot carry a proposal that its answers do not
imply.

A form that cannot be assessed (for example, the full text was not available) says so with
``not_assessed: REASON`` and carries no answers: its domains and overall judgement are "not
assessed", and nothing is guessed.

Every problem names its field (``answers.1.3: required, because ...``); all problems are
collected and raised together as :class:`RobFormError` (exit 1).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.errors import CheckFailed, CouldNotRun
from kb.rob import rob2, robins_i

TOOLS = ("rob2", "robins-i")
NOT_ASSESSED = "not assessed"

_COMMON_FIELDS = {
    "tool",
    "study",
    "outcome",
    "result",
    "assessor",
    "date",
    "answers",
    "overrides",
    "not_assessed",
    "notes",
    "reconciliation",  # a consensus form's record of two assessors' forms (kb.rob.reconciliation)
}
_TOOL_FIELDS = {"rob2": {"aim"}, "robins-i": {"effect", "judgements", "version"}}


class RobFormError(CheckFailed):
    """A RoB form does not conform; the message lists every problem with its field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the risk-of-bias form:\n{lines}")


@dataclass(frozen=True)
class Answer:
    value: str
    support: str | None = None


@dataclass(frozen=True)
class Judgement:
    """One domain's (or the overall) judgement.

    ``proposed`` is the algorithm's (``None`` where the tool has no verified algorithm, as
    ROBINS-I V2 domains); ``final`` is what stands; ``justification`` is required whenever a
    reviewer set ``final`` against the proposal.
    """

    domain: str
    proposed: str | None
    rule: str | None
    final: str
    justification: str | None = None
    source: str = "algorithm"  # algorithm | override | reviewer | not-assessed

    @property
    def overridden(self) -> bool:
        return self.source == "override"


@dataclass(frozen=True)
class Assessment:
    tool: str
    study: str
    outcome: str
    domains: dict[str, Judgement]
    overall: Judgement
    answers: dict[str, Answer] = field(default_factory=dict)
    variant: str | None = None  # rob2 aim, or robins-i effect (C4)
    result: str | None = None
    assessor: str | None = None
    date: str | None = None
    not_assessed: str | None = None
    notes: str | None = None
    #: a consensus form's record of two assessors' forms (kb.rob.reconciliation)
    reconciliation: Mapping[str, Any] | None = None

    @property
    def assessed(self) -> bool:
        return self.not_assessed is None

    def summary(self) -> dict[str, Any]:
        """The JSON shape of ``ekb rob check -f json``."""
        out: dict[str, Any] = {
            "tool": self.tool,
            "study": self.study,
            "outcome": self.outcome,
            "variant": self.variant,
            "domains": {k: j.final for k, j in self.domains.items()},
            "overall": self.overall.final,
            "proposed": {k: j.proposed for k, j in self.domains.items()},
            "rules": {k: j.rule for k, j in self.domains.items()},
        }
        out["proposed"]["overall"] = self.overall.proposed
        out["rules"]["overall"] = self.overall.rule
        overrides = {
            k: {"proposed": j.proposed, "final": j.final, "justification": j.justification}
            for k, j in [*self.domains.items(), ("overall", self.overall)]
            if j.overridden
        }
        out["overrides"] = overrides
        if self.not_assessed:
            out["not_assessed"] = self.not_assessed
        if self.reconciliation:
            from kb.rob.reconciliation import summary as reconciliation_summary

            out["reconciliation"] = reconciliation_summary(self.reconciliation)
        return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (_dt.date, int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")


def _read_answers(raw: Any, check: _Checker, known: set[str]) -> dict[str, Answer]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        check.add("answers", "must be a mapping of question number to answer")
        return {}
    out: dict[str, Answer] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            check.add(
                f"answers.{key}",
                f'quote the question number ("{key}"): YAML reads '
                "an unquoted 1.10 as the number 1.1",
            )
            continue
        if key not in known:
            check.add(f"answers.{key}", "no such signalling question in this tool/variant")
            continue
        support = None
        if isinstance(value, Mapping):
            extra = set(value) - {"answer", "support"}
            if extra:
                check.add(f"answers.{key}", f"unknown field(s): {', '.join(sorted(extra))}")
            support = _text(value.get("support"))
            value = value.get("answer")
        if not isinstance(value, str):
            check.add(f"answers.{key}", f"the answer must be a response code, not {value!r}")
            continue
        out[key] = Answer(value.strip().upper(), support)
    return out


def _check_rob2(answers: dict[str, Answer], aim: str, check: _Checker) -> dict[str, str]:
    """Check every question against its options and conditions; return the complete answers.

    A question that the tool asks (always, or because of earlier answers) must be answered;
    one that it does not ask must be left out or NA. Left-out questions become NA.
    """
    values = {k: a.value for k, a in answers.items()}
    complete: dict[str, str] = {}
    for qs in rob2.questions(aim).values():
        for q in qs:
            given = values.get(q.number)
            asked = q.asked is None or q.asked(values)
            where = f"answers.{q.number}"
            if given is not None and given not in q.options:
                check.add(
                    where, f"{given!r} is not a permitted answer (permitted: {' '.join(q.options)})"
                )
                continue
            if asked:
                if given is None:
                    because = f" ({q.condition})" if q.condition else ""
                    check.add(where, f"required{because}: {q.text}")
                    continue
                if given == "NA" and q.condition and not q.if_applicable:
                    check.add(
                        where, f"NA is not allowed here: the question is asked ({q.condition})"
                    )
                    continue
                complete[q.number] = given
            else:
                if given not in (None, "NA"):
                    check.add(
                        where,
                        f"not asked given the earlier answers ({q.condition}); "
                        "answer NA or leave it out",
                    )
                    continue
                complete[q.number] = "NA"
    return complete


def _check_robins(answers: dict[str, Answer], effect: str, check: _Checker) -> dict[str, str]:
    values = {k: a.value for k, a in answers.items()}
    complete: dict[str, str] = {}
    stop = robins_i.stops_at_critical(values)
    for section, qs in robins_i.questions(effect).items():
        for q in qs:
            given = values.get(q.number)
            where = f"answers.{q.number}"
            if given is not None and given not in q.options:
                check.add(
                    where, f"{given!r} is not a permitted answer (permitted: {' '.join(q.options)})"
                )
                continue
            if given is None:
                # After a Section B stop no domain question is needed.
                if not q.conditional and (section == "B" or not stop) and q.number != "B2":
                    check.add(where, "required")
                    continue
                given = "NA"
            complete[q.number] = given
    if values.get("B1") in robins_i.YES and values.get("B2") not in (None, "NA"):
        check.add("answers.B2", "only asked if B1 is N/PN; answer NA or leave it out")
    if values.get("B1") in {"N", "PN"} and values.get("B2") is None:
        check.add("answers.B2", "required (B1 is N/PN)")
    return complete


def _read_override(
    raw: Any, where: str, allowed: tuple[str, ...], check: _Checker
) -> tuple[str, str] | None:
    if not isinstance(raw, Mapping):
        check.add(where, "must be a mapping with judgement and justification")
        return None
    judgement = _text(raw.get("judgement"))
    justification = _text(raw.get("justification"))
    extra = set(raw) - {"judgement", "justification"}
    if extra:
        check.add(where, f"unknown field(s): {', '.join(sorted(extra))}")
    if judgement not in allowed:
        check.add(f"{where}.judgement", f"{judgement!r} is not one of: {', '.join(allowed)}")
        return None
    if not justification:
        check.add(f"{where}.justification", "an override needs a written justification")
        return None
    return judgement, justification


def _final(
    domain: str,
    proposal: tuple[str | None, str | None],
    override: tuple[str, str] | None,
) -> Judgement:
    proposed, rule = proposal
    if override is None:
        assert proposed is not None
        return Judgement(domain, proposed, rule, proposed)
    if override[0] == proposed:
        # Agreeing with the algorithm is not an override; keep the note as support.
        return Judgement(domain, proposed, rule, proposed, override[1])
    return Judgement(domain, proposed, rule, override[0], override[1], "override")


def assess(data: Any, source: str = "form") -> Assessment:
    """Check a parsed form and return the assessment with proposed and final judgements.

    :raises RobFormError: anything wrong, every problem with its field.
    """
    check = _Checker()
    if not isinstance(data, Mapping):
        raise RobFormError(source, ["(top): the form must be a YAML mapping"])
    tool = _text(data.get("tool"))
    if tool not in TOOLS:
        raise RobFormError(source, [f"tool: {tool!r} is not one of: {', '.join(TOOLS)}"])
    unknown = set(data) - _COMMON_FIELDS - _TOOL_FIELDS[tool]
    for key in sorted(map(str, unknown)):
        check.add(key, f"unknown field for tool {tool}")
    study = _text(data.get("study"))
    outcome = _text(data.get("outcome"))
    if not study:
        check.add("study", "required: the id of the study whose result is assessed")
    if not outcome:
        check.add("outcome", "required: the outcome the assessed result belongs to")
    if data.get("reconciliation") is not None:
        from kb.rob.reconciliation import check as check_reconciliation

        check.problems += check_reconciliation(data["reconciliation"])
    not_assessed = _text(data.get("not_assessed"))
    if data.get("not_assessed") is not None and not not_assessed:
        check.add("not_assessed", "give the reason the result could not be assessed")
    meta = {
        "result": _text(data.get("result")),
        "assessor": _text(data.get("assessor")),
        "date": _text(data.get("date")),
        "notes": _text(data.get("notes")),
    }
    if not_assessed:
        for key in ("answers", "overrides", "judgements"):
            if data.get(key):
                check.add(key, "a form that is not assessed carries no " + key)
        if check.problems:
            raise RobFormError(source, check.problems)
        names = rob2.DOMAINS if tool == "rob2" else robins_i.DOMAINS
        na = {d: Judgement(d, None, None, NOT_ASSESSED, source="not-assessed") for d in names}
        overall = Judgement("overall", None, None, NOT_ASSESSED, source="not-assessed")
        variant = _text(data.get("aim") if tool == "rob2" else data.get("effect"))
        return Assessment(
            tool,
            study or "",
            outcome or "",
            na,
            overall,
            {},
            variant,
            not_assessed=not_assessed,
            reconciliation=data.get("reconciliation"),
            **meta,
        )
    if tool == "rob2":
        result = _assess_rob2(data, check)
    else:
        result = _assess_robins(data, check)
    if check.problems or result is None:
        raise RobFormError(source, check.problems or ["(top): could not be judged"])
    domains, overall, answers, variant = result
    return Assessment(
        tool,
        study or "",
        outcome or "",
        domains,
        overall,
        answers,
        variant,
        reconciliation=data.get("reconciliation"),
        **meta,
    )


_Result = tuple[dict[str, Judgement], Judgement, dict[str, Answer], str]


def _overrides(data: Mapping[str, Any], check: _Checker) -> Mapping[str, Any]:
    raw = data.get("overrides") or {}
    if not isinstance(raw, Mapping):
        check.add("overrides", "must be a mapping of domain (D1.., overall) to an override")
        return {}
    return raw


def _assess_rob2(data: Mapping[str, Any], check: _Checker) -> _Result | None:
    aim = _text(data.get("aim"))
    if aim not in rob2.AIMS:
        check.add(
            "aim", f"{aim!r} is not one of: {', '.join(rob2.AIMS)} (it picks the Domain 2 variant)"
        )
        return None
    known = {q.number for qs in rob2.questions(aim).values() for q in qs}
    answers = _read_answers(data.get("answers"), check, known)
    complete = _check_rob2(answers, aim, check)
    raw_over = _overrides(data, check)
    for key in raw_over:
        if key not in (*rob2.DOMAINS, "overall"):
            check.add(f"overrides.{key}", "not a RoB 2 domain (D1..D5) or overall")
    if check.problems:
        return None
    proposals = rob2.propose(aim, complete)
    domains = {}
    for d in rob2.DOMAINS:
        over = None
        if d in raw_over:
            over = _read_override(raw_over[d], f"overrides.{d}", rob2.JUDGEMENTS, check)
        domains[d] = _final(d, proposals[d], over)
    over_all = None
    if "overall" in raw_over:
        over_all = _read_override(raw_over["overall"], "overrides.overall", rob2.JUDGEMENTS, check)
    overall = _final("overall", rob2.overall({d: j.final for d, j in domains.items()}), over_all)
    if check.problems:
        return None
    return domains, overall, answers, aim


def _assess_robins(data: Mapping[str, Any], check: _Checker) -> _Result | None:
    effect = _text(data.get("effect"))
    if effect not in robins_i.EFFECTS:
        check.add(
            "effect",
            f"{effect!r} is not one of: {', '.join(robins_i.EFFECTS)} "
            "(question C4 picks the Domain 1 variant)",
        )
        return None
    version = data.get("version", 2)
    if str(version) != "2":
        check.add("version", "only ROBINS-I version 2 is supported")
    known = {q.number for qs in robins_i.questions(effect).values() for q in qs}
    answers = _read_answers(data.get("answers"), check, known)
    complete = _check_robins(answers, effect, check)
    raw_over = _overrides(data, check)
    for key in raw_over:
        if key != "overall":
            check.add(
                f"overrides.{key}",
                "ROBINS-I domain judgements are the reviewer's own "
                "(judgements:); only overall can be overridden",
            )
    if check.problems:
        return None
    domains: dict[str, Judgement] = {}
    if robins_i.stops_at_critical(complete):
        for d in robins_i.DOMAINS:
            domains[d] = Judgement(d, robins_i.CRITICAL, "B.C", robins_i.CRITICAL)
    else:
        raw_j = data.get("judgements")
        if not isinstance(raw_j, Mapping):
            check.add(
                "judgements",
                "required: the reviewer's judgement for each of D1..D6 "
                "(ROBINS-I V2 domain algorithms are not implemented, see the docs)",
            )
            return None
        for key in raw_j:
            if key not in robins_i.DOMAINS:
                check.add(f"judgements.{key}", "not a ROBINS-I V2 domain (D1..D6)")
        for d in robins_i.DOMAINS:
            value = raw_j.get(d)
            support = None
            if isinstance(value, Mapping):
                support = _text(value.get("support"))
                value = value.get("judgement")
            allowed = robins_i.allowed_judgements(d)
            if value is None:
                check.add(f"judgements.{d}", f"required (one of: {', '.join(allowed)})")
                continue
            if value not in allowed:
                check.add(f"judgements.{d}", f"{value!r} is not one of: {', '.join(allowed)}")
                continue
            domains[d] = Judgement(d, None, None, str(value), support, "reviewer")
    over_all = None
    if "overall" in raw_over:
        over_all = _read_override(
            raw_over["overall"], "overrides.overall", robins_i.JUDGEMENTS, check
        )
    if check.problems:
        return None
    proposal = (
        (robins_i.CRITICAL, "B.C")
        if robins_i.stops_at_critical(complete)
        else robins_i.overall({d: j.final for d, j in domains.items()})
    )
    overall = _final("overall", proposal, over_all)
    return domains, overall, answers, effect


def load_yaml(path: Path) -> Any:
    """Read a form file with the safe loader.

    :raises CouldNotRun: unreadable file (exit 3).
    :raises RobFormError: not YAML (exit 1).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CouldNotRun(f"{path}: cannot read the form: {exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(top)"
        raise RobFormError(str(path), [f"{where}: not valid YAML: {exc}"]) from exc


def assess_file(path: Path) -> Assessment:
    return assess(load_yaml(path), str(path))
