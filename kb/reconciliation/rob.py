"""Compare two assessors' risk-of-bias forms of one result (``ekb diff A.yaml B.yaml``).

A RoB form (:mod:`kb.rob.assessment`) is told from an extraction form by its top-level
``tool:``. Both forms must pass ``ekb rob check``: the domain judgements they imply are
computed by :func:`kb.rob.assessment.assess` from each side's answers and compared too.

What is compared, in report order:

1. structure: the tool, its variant (RoB 2 aim, ROBINS-I effect), the study and the outcome
   must be the same, else the two forms are not of one result and the comparison is refused
   (a usage error, exit 2); a result one assessor could not assess (``not_assessed``) and the
   other assessed is a structural disagreement (one decision takes one whole form);
2. values: signalling answers per question number (``answers[1.2]``: Y/PY/PN/N/NI/NA, and for
   ROBINS-I V2 also WN/SN/SY/WY), their support quotes (``answers[1.2].support``), overrides
   with their justification (``overrides[D2]``, ``overrides[D2].justification``), ROBINS-I's
   own domain judgements (``judgements[D1]``), the not-assessed reason, the result text and
   the notes;
3. fields one assessor filled and the other left blank (``only-a``, ``only-b``);
4. ``derived``: the proposed and final judgements that differ (``proposed[D1]``,
   ``final[overall]``). They need no decision: the consensus's judgements follow from its
   answers and overrides by the same algorithm.

A question left out of a form is "not applicable" (as ``ekb rob check`` reads it), so an
explicit NA and a left-out answer agree. Answers are compared after upper-casing; quotes and
notes after folding case and spacing. The assessor and date are not compared: they always
differ, and the reconciliation records them per assessment instead.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import UsageError
from kb.rob import rob2, robins_i
from kb.rob.assessment import Assessment, RobFormError, assess, load_yaml

#: Kinds of difference, in the order they are reported.
KINDS = ("structure", "value", "only-a", "only-b", "derived")


@dataclass(frozen=True)
class RobForm:
    """One assessor's form: as written (``data``) and as judged (``assessment``)."""

    data: dict[str, Any]
    assessment: Assessment
    origin: str

    @property
    def assessor(self) -> str | None:
        return _text(self.data.get("assessor"))

    @property
    def date(self) -> str | None:
        value = self.data.get("date")
        return value.isoformat() if isinstance(value, _dt.date) else _text(value)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def read_rob_yaml(given: str) -> Any | None:
    """The parsed YAML of ``given`` when it is a risk-of-bias form, else ``None``."""
    path = Path(given)
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return None
    try:
        data = load_yaml(path)
    except RobFormError:  # not YAML: the extraction-form reader names the problem
        return None
    if isinstance(data, Mapping) and "tool" in data and not isinstance(data.get("study"), Mapping):
        return data
    return None


def is_rob_form(given: str) -> bool:
    return read_rob_yaml(given) is not None


def load_rob_form(given: str) -> RobForm:
    """A RoB form, checked and judged.

    :raises UsageError: not a RoB form file.
    :raises kb.rob.RobFormError: it does not pass ``ekb rob check`` (exit 1).
    """
    data = read_rob_yaml(given)
    if data is None:
        raise UsageError(f"{given}: not a risk-of-bias form (a .yaml file with tool:)")
    return RobForm(dict(data), assess(data, given), given)


# ---------------------------------------------------------------------------
# What the two forms hold, per path


def questions(form: RobForm) -> dict[str, tuple[str, ...]]:
    """Domain (B, D1, ...) -> question numbers, in the tool's order."""
    a = form.assessment
    variant = str(a.variant)
    if a.tool == "rob2":
        return {d: tuple(q.number for q in qs) for d, qs in rob2.questions(variant).items()}
    return {d: tuple(q.number for q in qs) for d, qs in robins_i.questions(variant).items()}


def options(form: RobForm, number: str) -> tuple[str, ...] | None:
    """The permitted answers of question ``number`` (``None``: no such question)."""
    a = form.assessment
    groups = (
        rob2.questions(str(a.variant)) if a.tool == "rob2" else robins_i.questions(str(a.variant))
    )
    for qs in groups.values():
        for q in qs:
            if q.number == number:
                return q.options
    return None


def judgements(tool: str) -> tuple[str, ...]:
    return rob2.JUDGEMENTS if tool == "rob2" else robins_i.JUDGEMENTS


def answer(data: Mapping[str, Any], number: str) -> tuple[str | None, str | None]:
    """(answer code, support quote) as the form gives them; ``None`` where left out."""
    raw = (data.get("answers") or {}).get(number)
    if isinstance(raw, Mapping):
        code, support = _text(raw.get("answer")), _text(raw.get("support"))
    else:
        code, support = _text(raw), None
    return (code.upper() if code else None), support


def _judgement_entry(raw: Any, note: str) -> tuple[str | None, str | None]:
    if isinstance(raw, Mapping):
        return _text(raw.get("judgement")), _text(raw.get(note))
    return _text(raw), None


def override(data: Mapping[str, Any], domain: str) -> tuple[str | None, str | None]:
    """(judgement, justification) of an override; ``None`` where there is none."""
    return _judgement_entry((data.get("overrides") or {}).get(domain), "justification")


def reviewer_judgement(data: Mapping[str, Any], domain: str) -> tuple[str | None, str | None]:
    """(judgement, support) of a ROBINS-I domain judgement (the reviewer's own)."""
    return _judgement_entry((data.get("judgements") or {}).get(domain), "support")


def _fold(value: str | None) -> str | None:
    return None if value is None else " ".join(value.split()).casefold()


# ---------------------------------------------------------------------------
# The comparison


@dataclass(frozen=True)
class RobDifference:
    """One disagreement: ``{"path", "a", "b", "kind"}`` in JSON."""

    path: str
    a: Any
    b: Any
    kind: str

    @property
    def decidable(self) -> bool:
        return self.kind != "derived"

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "a": self.a, "b": self.b, "kind": self.kind}


@dataclass
class RobComparison:
    a: RobForm
    b: RobForm
    differences: list[RobDifference]

    @property
    def study_id(self) -> str:
        return self.a.assessment.study

    @property
    def subject(self) -> str:
        x = self.a.assessment
        return f"{x.tool} ({x.variant}) assessment of {x.study} for {x.outcome}"

    @property
    def agree(self) -> bool:
        return not self.differences

    def decidable(self) -> list[RobDifference]:
        return [d for d in self.differences if d.decidable]


def check_same_result(a: RobForm, b: RobForm) -> None:
    """Refuse two forms that are not of one result with one tool and variant.

    :raises UsageError: naming what differs (exit 2).
    """
    x, y = a.assessment, b.assessment
    what = (
        ("study", x.study, y.study),
        ("outcome", x.outcome, y.outcome),
        ("tool", x.tool, y.tool),
        ("RoB 2 aim" if x.tool == "rob2" else "ROBINS-I effect", x.variant, y.variant),
    )
    for name, va, vb in what:
        if va != vb:
            raise UsageError(
                f"{a.origin} has {name} {va!r} but {b.origin} has {name} {vb!r}: "
                "ekb diff compares two assessments of one result with one tool and variant"
            )


def _pair(out: list[RobDifference], path: str, va: str | None, vb: str | None, same: bool) -> None:
    if same:
        return
    kind = "value" if va is not None and vb is not None else "only-a" if vb is None else "only-b"
    out.append(RobDifference(path, va, vb, kind))


def compare_rob(a: RobForm, b: RobForm) -> RobComparison:
    """Every difference between two assessors' forms of one result, in report order.

    :raises UsageError: they are not of one result, tool and variant.
    """
    check_same_result(a, b)
    out: list[RobDifference] = []
    da, db = a.data, b.data
    na, nb = _text(da.get("not_assessed")), _text(db.get("not_assessed"))
    if (na is None) != (nb is None):
        out.append(RobDifference("not_assessed", na, nb, "structure"))
    elif na is not None:
        _pair(out, "not_assessed", na, nb, _fold(na) == _fold(nb))
    if na is None and nb is None:
        for numbers in questions(a).values():
            for q in numbers:
                (ca, sa), (cb, sb) = answer(da, q), answer(db, q)
                _pair(out, f"answers[{q}]", ca, cb, (ca or "NA") == (cb or "NA"))
                _pair(out, f"answers[{q}].support", sa, sb, _fold(sa) == _fold(sb))
        for d in [*a.assessment.domains, "overall"]:
            (ja, wa), (jb, wb) = override(da, d), override(db, d)
            if ja != jb:
                _pair(out, f"overrides[{d}]", _shown(ja, wa), _shown(jb, wb), False)
            else:
                _pair(out, f"overrides[{d}].justification", wa, wb, _fold(wa) == _fold(wb))
        if a.assessment.tool == "robins-i":
            for d in a.assessment.domains:
                (ja, sa), (jb, sb) = reviewer_judgement(da, d), reviewer_judgement(db, d)
                _pair(out, f"judgements[{d}]", ja, jb, ja == jb)
                _pair(out, f"judgements[{d}].support", sa, sb, _fold(sa) == _fold(sb))
    for name in ("result", "notes"):
        va, vb = _text(da.get(name)), _text(db.get(name))
        _pair(out, name, va, vb, _fold(va) == _fold(vb))
    if na is None and nb is None:
        x, y = a.assessment, b.assessment
        for dom in [*x.domains, "overall"]:
            jx = x.overall if dom == "overall" else x.domains[dom]
            jy = y.overall if dom == "overall" else y.domains[dom]
            d = dom
            if jx.proposed != jy.proposed:
                out.append(RobDifference(f"proposed[{d}]", jx.proposed, jy.proposed, "derived"))
            # both by the algorithm (the final is the proposal) or both the reviewer's own
            # (ROBINS-I domains: listed as judgements[D]): already listed
            if jx.final != jy.final and not (
                jx.source == jy.source and jx.source in ("algorithm", "reviewer")
            ):
                out.append(RobDifference(f"final[{d}]", jx.final, jy.final, "derived"))
    order = {k: i for i, k in enumerate(KINDS)}
    ranked = sorted(enumerate(out), key=lambda d: (order[d[1].kind], d[0]))
    return RobComparison(a, b, [d for _, d in ranked])


def _shown(judgement: str | None, justification: str | None) -> str | None:
    if judgement is None:
        return None
    return f"{judgement} ({justification})" if justification else judgement


_HEADINGS = {
    "structure": "Structure",
    "value": "Values",
    "only-a": "Filled by one assessor only",
    "only-b": "Filled by one assessor only",
    "derived": "Judgements that follow (no decision: the consensus's follow from its answers)",
}


def _who(form: RobForm) -> str:
    bits = [b for b in (form.assessor, form.date) if b]
    return f"{form.origin} ({', '.join(bits)})" if bits else form.origin


def rob_diff_text(comparison: RobComparison) -> str:
    """The differences as the text ``ekb diff`` prints."""
    out = [f"a: {_who(comparison.a)}", f"b: {_who(comparison.b)}"]
    decidable = comparison.decidable()
    if comparison.agree:
        out.append(f"{comparison.subject}: the two assessments agree")
        return "\n".join(out) + "\n"
    counts = {k: sum(1 for d in decidable if d.kind.startswith(k)) for k in KINDS[:2]}
    counts["only"] = sum(1 for d in decidable if d.kind.startswith("only"))
    n = len(decidable)
    out.append(
        f"{comparison.subject}: {n} disagreement{'s' if n != 1 else ''} to decide "
        f"({counts['structure']} structural, {counts['value']} values, "
        f"{counts['only']} filled by one only)"
    )
    heading = None
    for d in comparison.differences:
        if _HEADINGS[d.kind] != heading:
            heading = _HEADINGS[d.kind]
            out.append(heading)
        out.append(f"  {d.path}: a {d.a or '(blank)'}, b {d.b or '(blank)'}")
    return "\n".join(out) + "\n"
