"""Reconcile two assessors' risk-of-bias forms of one result into one consensus form.

The decisions file is the one of study reconciliation (:func:`kb.reconciliation.decide.
read_decisions`), with the paths ``ekb diff`` prints for RoB forms::

    adjudicated_by: C. Adjudicator
    decisions:
      answers[1.2]: {take: b, reason: "the methods section says sealed envelopes"}
      answers[4.3].support: {take: a, reason: "a quotes the protocol"}
      overrides[D5]: {value: high, reason: "the protocol names another primary outcome"}

``take: a`` / ``take: b`` takes one assessor's answer, quote, override (judgement with its
justification) or blank; ``value:`` gives a new one, which must be a permitted answer of that
question (or a judgement of the tool). A new override's justification is the decision's
reason unless the value is ``{judgement: ..., justification: ...}``.

Where both agree, the consensus keeps the answer. Because RoB questions are conditional
(2.3 is asked only if 2.1 or 2.2 is Y/PY/NI), choosing answers from both sides can make a
question asked that neither answered, or leave an agreed answer to a question no longer asked;
a decision may therefore also set an answer both agreed on, with ``value:``. The consensus
must pass ``ekb rob check``, and nothing is written until it does. Its judgements are not
decided: the algorithm proposes them from the consensus answers, as for any form.

The consensus form's assessor is both assessors ("a; b") and its date the later of theirs;
its ``reconciliation:`` part (:mod:`kb.rob.reconciliation`) records each decision with its
candidates, and ``ekb rob add`` stores it in the review's file.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.reconciliation.decide import Decision, Decisions
from kb.reconciliation.rob import (
    RobComparison,
    RobDifference,
    RobForm,
    answer,
    compare_rob,
    judgements,
    options,
    override,
    questions,
    reviewer_judgement,
)
from kb.rob import robins_i
from kb.rob.assessment import Assessment, RobFormError, assess
from kb.rob.reconciliation import decided

#: Key order of a consensus form (the order of the synthetic examples and `ekb rob` docs).
_ORDER = (
    "tool",
    "version",
    "aim",
    "effect",
    "study",
    "outcome",
    "result",
    "assessor",
    "date",
    "not_assessed",
    "answers",
    "judgements",
    "overrides",
    "notes",
)


@dataclass
class RobReconciled:
    """A consensus RoB form and what went into it."""

    form: dict[str, Any]
    comparison: RobComparison
    decided: int
    assessment: Assessment


def _check_value(form: RobForm, path: str, value: Any) -> str | None:
    """Why a new value does not suit the path (``None`` when it does)."""
    what = decided(path)
    assert what is not None
    record, which, prop = what
    tool = form.assessment.tool
    if record == "answer" and prop == "response":
        allowed = options(form, str(which)) or ()
        code = str(value).strip().upper() if isinstance(value, str) else None
        if code not in allowed:
            return (
                f"{value!r} is not a permitted answer to question {which} "
                f"(permitted: {' '.join(allowed)})"
            )
        return None
    if record == "judgement" and prop == "judgement":
        if path.startswith("overrides") and isinstance(value, dict):
            extra = sorted(set(value) - {"judgement", "justification"})
            if extra:
                return f"unknown field(s) {', '.join(extra)} (judgement, justification)"
            value = value.get("judgement")
        allowed = (
            robins_i.allowed_judgements(str(which))
            if path.startswith("judgements")
            else judgements(tool)
        )
        if value not in allowed:
            return f"{value!r} is not a judgement of {tool} here (one of: {', '.join(allowed)})"
        return None
    if not isinstance(value, str) or not value.strip():
        return f"must be text (got {value!r})"
    return None


def _set_answer(form: dict[str, Any], q: str, code: str | None, support: str | None) -> None:
    answers = form.setdefault("answers", {})
    if code is None and support is None:
        answers.pop(q, None)
    elif support is None:
        answers[q] = code
    else:
        answers[q] = {"answer": code, "support": support}


def _set_judgement(
    form: dict[str, Any], part: str, domain: str, value: str | None, note: str | None
) -> None:
    entries = form.setdefault(part, {})
    if value is None:
        entries.pop(domain, None)
        return
    key = "justification" if part == "overrides" else "support"
    entries[domain] = {"judgement": value, key: note} if note or part == "overrides" else value


def _apply(form: dict[str, Any], d: Decision, a: RobForm, b: RobForm) -> Any:
    """Apply one decision to the consensus; return the chosen value (``None``: blank)."""
    side = a if d.take == "a" else b
    record, which, prop = decided(d.path) or (None, None, "")
    if record == "answer":
        q = str(which)
        code, support = answer(form, q)
        if prop == "response":
            code = answer(side.data, q)[0] if d.take != "new" else str(d.value).strip().upper()
            chosen = code
        else:
            support = answer(side.data, q)[1] if d.take != "new" else str(d.value).strip()
            chosen = support
        _set_answer(form, q, code, support)
        return chosen
    if record == "judgement":
        part = "overrides" if d.path.startswith("overrides") else "judgements"
        read = override if part == "overrides" else reviewer_judgement
        domain = str(which)
        value, note = read(form, domain)
        if prop == "judgement" and d.take != "new":
            value, side_note = read(side.data, domain)
            note = side_note if part == "overrides" else note
        elif prop == "judgement":
            given = d.value
            if isinstance(given, dict):
                value, note = given.get("judgement"), given.get("justification") or d.reason
            else:
                value = str(given)
                note = d.reason if part == "overrides" else note
        else:
            note = read(side.data, domain)[1] if d.take != "new" else str(d.value).strip()
            _set_judgement(form, part, domain, value, note)
            return note
        _set_judgement(form, part, domain, value, note)
        return value if part == "judgements" or value is None else f"{value} ({note})"
    name = d.path
    chosen = side.data.get(name) if d.take != "new" else str(d.value).strip()
    if chosen is None:
        form.pop(name, None)
    else:
        form[name] = chosen
    return chosen


def _candidate(key: str, value: Any, form: RobForm) -> dict[str, Any]:
    out: dict[str, Any] = {"extraction": key}
    if value is not None:
        out["value"] = str(value)
    if form.assessor:
        out["assessor"] = form.assessor
    if form.date:
        out["date"] = form.date
    return out


def _tidy(form: dict[str, Any], a: RobForm) -> dict[str, Any]:
    order = [q for qs in questions(a).values() for q in qs]
    if form.get("answers"):
        form["answers"] = {q: form["answers"][q] for q in order if q in form["answers"]}
    for part in ("answers", "judgements", "overrides"):
        if part in form and not form[part]:
            del form[part]
    out = {k: form[k] for k in _ORDER if k in form}
    out.update({k: v for k, v in form.items() if k not in out})
    return out


def _problems(
    comparison: RobComparison, decisions: Decisions | None
) -> tuple[list[RobDifference], list[Decision], list[str]]:
    """The disputed differences, the decisions on agreed answers, and every problem."""
    a = comparison.a
    disputed = comparison.decidable()
    chosen = decisions.by_path if decisions else {}
    paths = {d.path for d in disputed}
    numbers = {q for qs in questions(a).values() for q in qs}
    problems: list[str] = []
    agreed: list[Decision] = []
    for path, decision in chosen.items():
        if path in paths:
            continue
        what = decided(path)
        if what is not None and what[0] == "answer" and what[2] == "response":
            if what[1] in numbers and a.assessment.assessed:
                if decision.take != "new":
                    problems.append(
                        f"decisions.{path}: both assessors answered the same; to change an "
                        "agreed answer give value: (a permitted answer), not take:"
                    )
                else:
                    agreed.append(decision)
                continue
        close = difflib.get_close_matches(path, sorted(paths), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        problems.append(f"decisions.{path}: not a disagreement between the two assessments{hint}")
    news = [(d.path, d.kind, chosen.get(d.path)) for d in disputed]
    news += [(d.path, "agreed", d) for d in agreed]
    for path, kind, dec in news:
        if dec is None or dec.take != "new":
            continue
        if path == "not_assessed" and kind == "structure":
            problems.append(
                f"decisions.{path}: one assessor assessed the result and the other did not; "
                "take: a or b (one whole form), not a new value"
            )
            continue
        why = _check_value(a, path, dec.value)
        if why:
            problems.append(f"decisions.{path}.value: {why}")
    missing = [d for d in disputed if d.path not in chosen]
    if missing:
        listed = "\n".join(
            f"    {d.path} ({d.kind}): a {d.a or '(blank)'}, b {d.b or '(blank)'}" for d in missing
        )
        problems.append(
            f"{len(missing)} disagreement{'s' if len(missing) != 1 else ''} without a decision "
            f"(add them to the decisions file as path: {{take: a|b, reason: ...}}):\n{listed}"
        )
    return disputed, agreed, problems


def reconcile_rob(a: RobForm, b: RobForm, decisions: Decisions | None) -> RobReconciled:
    """The consensus form of two assessors' RoB forms of one result (nothing is written).

    :raises UsageError: the two are not of one result, tool and variant.
    :raises CheckFailed: a disagreement without a decision, a decision for a path that is no
        disagreement, a value not permitted there, or a consensus that does not pass
        ``ekb rob check`` (every problem listed).
    """
    comparison = compare_rob(a, b)
    disputed, agreed, problems = _problems(comparison, decisions)
    where = decisions.origin if decisions else "no decisions file"
    if problems:
        raise CheckFailed(
            f"cannot reconcile ({where}):\n"
            + "\n".join(f"  {p}" if not p.startswith("  ") else p for p in problems)
        )
    chosen = decisions.by_path if decisions else {}
    base = a
    structural = chosen.get("not_assessed")
    if structural is not None and any(d.kind == "structure" for d in disputed):
        base = a if structural.take == "a" else b
    form = copy.deepcopy(base.data)
    for name in ("assessor", "date", "reconciliation"):
        form.pop(name, None)
    record: list[dict[str, Any]] = []
    steps: list[tuple[Decision, Any, Any]] = [
        (chosen[d.path], d.a, d.b) for d in disputed if d.kind != "structure"
    ]
    steps += [(d, answer(a.data, d.path[8:-1])[0], answer(b.data, d.path[8:-1])[0]) for d in agreed]
    for decision, va, vb in steps:
        value = _apply(form, decision, a, b)
        record.append(_entry(decision, value, va, vb, a, b))
    if structural is not None and any(d.kind == "structure" for d in disputed):
        d = next(d for d in disputed if d.kind == "structure")
        chosen_value = base.data.get("not_assessed")
        record.insert(0, _entry(structural, chosen_value, d.a, d.b, a, b))
    for number, entry in enumerate(record, start=1):
        entry["key"] = f"d{number}"
    assessors = [x for x in (a.assessor, b.assessor) if x]
    if assessors:
        form["assessor"] = "; ".join(dict.fromkeys(assessors))
    dates = [x for x in (a.date, b.date) if x]
    if dates:
        form["date"] = max(dates)
    recon: dict[str, Any] = {}
    if decisions and decisions.adjudicated_by and record:
        recon["adjudicated_by"] = decisions.adjudicated_by
        recon["adjudicated_on"] = decisions.adjudicated_on
    recon["extractions"] = [
        {
            "key": key,
            "assessor": f.assessor or "not recorded",
            **({"date": f.date} if f.date else {}),
            "file": f.origin,
        }
        for key, f in (("a", a), ("b", b))
    ]
    if record:
        recon["decisions"] = [{"key": e.pop("key"), **e} for e in record]
    form = _tidy(form, a)
    form["reconciliation"] = recon
    try:
        judged = assess(form, "the consensus")
    except RobFormError as exc:
        hint = (
            "\n  (a decision may also set an answer both assessors agreed on: "
            "answers[N]: {value: ..., reason: ...})"
            if any(p.startswith("answers.") for p in exc.problems)
            else ""
        )
        raise CheckFailed(
            f"cannot reconcile ({where}): the consensus would not pass ekb rob check:\n"
            + "\n".join(f"  {p}" for p in exc.problems)
            + hint
        ) from None
    return RobReconciled(form, comparison, len(record), judged)


def _entry(
    decision: Decision, value: Any, va: Any, vb: Any, a: RobForm, b: RobForm
) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": "", "path": decision.path, "take": decision.take}
    if value is not None:
        entry["value"] = str(value)
    entry["reason"] = decision.reason
    entry["candidates"] = [_candidate("a", va, a), _candidate("b", vb, b)]
    return entry


def dump_rob_form(form: dict[str, Any], head: str) -> str:
    """The consensus form as YAML (question numbers quoted, as RoB forms need them)."""
    import yaml

    body = yaml.safe_dump(form, sort_keys=False, allow_unicode=True, width=100)
    return head + body


def reconcile_rob_files(
    a_given: str, b_given: str, decisions_file: Path | None, output: Path
) -> RobReconciled:
    """Reconcile two RoB forms and write the consensus form to ``output`` (atomically);
    nothing is written unless every disagreement is decided and it passes ``ekb rob check``.
    """
    from kb.fileio import atomic_write_text
    from kb.reconciliation.decide import read_decisions
    from kb.reconciliation.rob import load_rob_form

    a, b = load_rob_form(a_given), load_rob_form(b_given)
    if decisions_file is not None and not decisions_file.is_file():
        raise UsageError(f"{decisions_file}: no such decisions file")
    decisions = read_decisions(decisions_file) if decisions_file is not None else None
    result = reconcile_rob(a, b, decisions)
    head = (
        f"# Consensus of {a.origin} and {b.origin} (ekb reconcile); "
        f"{result.decided} decision{'s' if result.decided != 1 else ''} recorded.\n"
    )
    atomic_write_text(output, dump_rob_form(result.form, head))
    return result
