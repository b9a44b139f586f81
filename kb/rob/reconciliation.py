"""The ``reconciliation:`` part of a consensus risk-of-bias form, checked and stored as data.

``ekb reconcile A.yaml B.yaml`` (:mod:`kb.reconciliation.rob_decide`) writes it when two
assessors' forms of one result become one consensus form; ``ekb rob check`` checks it with
the rest of the form and ``ekb rob add`` stores it in the review's file, under the
assessment's IRI, with the terms and shapes of the study reconciliation (issue 20)::

    reconciliation:
      adjudicated_by: C. Adjudicator
      adjudicated_on: '2026-12-03'
      extractions:                      # the two assessments compared
        - {key: a, assessor: ..., date: '2026-12-01', file: a.yaml}
        - {key: b, assessor: ..., date: '2026-12-02', file: b.yaml}
      decisions:                        # one per disputed answer, override, quote, ...
        - key: d1
          path: answers[1.2]            # as ekb diff names it
          take: b                       # a | b | new
          value: PN                     # the chosen value as text (absent: left blank)
          reason: ...
          candidates:                   # what each assessor had (value absent: blank)
            - {extraction: a, value: NI, assessor: ..., date: ...}
            - {extraction: b, value: PN, assessor: ..., date: ...}

In RDF (PROV-O): the assessment ``ekb:hasReconciliation`` an ``ekb:Reconciliation`` that
``ekb:hasExtraction`` each assessment compared (an ``ekb:Extraction``) and ``ekb:hasDecision``
each ``ekb:FieldDecision``; a decision ``prov:wasDerivedFrom`` the assessments compared,
``ekb:hasCandidate`` one ``ekb:CandidateValue`` per assessment, and points at the stored
answer or judgement it settled (``ekb:decidedRecord``, ``ekb:decidedProperty``).

This module knows nothing of how a consensus is reached; it only checks the part's shape and
turns it into triples (it is called from :mod:`kb.rob.assessment` and :mod:`kb.rob.store`).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from kb.namespaces import EKB

PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
TAKES = ("a", "b", "new")

#: Decision paths of a RoB form, and the stored record and property each one settles:
#: (pattern, record kind: "answer" | "judgement" | None for the assessment itself, property).
PATHS: tuple[tuple[re.Pattern[str], str | None, str], ...] = (
    (re.compile(r"answers\[([^\]]+)\]"), "answer", "response"),
    (re.compile(r"answers\[([^\]]+)\]\.support"), "answer", "support"),
    (re.compile(r"overrides\[([^\]]+)\]"), "judgement", "judgement"),
    (re.compile(r"overrides\[([^\]]+)\]\.justification"), "judgement", "justification"),
    (re.compile(r"judgements\[([^\]]+)\]"), "judgement", "judgement"),
    (re.compile(r"judgements\[([^\]]+)\]\.support"), "judgement", "justification"),
    (re.compile(r"not_assessed"), None, "notAssessedReason"),
    (re.compile(r"result"), None, "assessedResultText"),
    (re.compile(r"notes"), None, "note"),
)


def decided(path: str) -> tuple[str | None, str | None, str] | None:
    """What a decision path settles: (record kind, answer number or domain, property);
    ``None`` when it is not a path of a RoB form."""
    for pattern, record, prop in PATHS:
        m = pattern.fullmatch(path)
        if m:
            return record, (m.group(1) if m.groups() else None), prop
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (_dt.date, int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _date(value: Any) -> str | None:
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = _text(value)
    if text is None:
        return None
    _dt.date.fromisoformat(text)  # ValueError: not YYYY-MM-DD
    return text


def _check_mapping(
    raw: Any, where: str, allowed: set[str], required: set[str], problems: list[str]
) -> Mapping[str, Any] | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping")
        return None
    for key in sorted(map(str, set(raw) - allowed)):
        problems.append(f"{where}.{key}: unknown field ({', '.join(sorted(allowed))})")
    for key in sorted(required):
        if _text(raw.get(key)) is None:
            problems.append(f"{where}.{key}: required")
    for key in ("date", "adjudicated_on"):
        if key in allowed and raw.get(key) is not None:
            try:
                _date(raw.get(key))
            except ValueError:
                problems.append(f"{where}.{key}: must be a date written YYYY-MM-DD")
    return raw


def check(raw: Any) -> list[str]:
    """Every problem of a form's ``reconciliation:`` part, each naming its field."""
    problems: list[str] = []
    part = _check_mapping(
        raw,
        "reconciliation",
        {"adjudicated_by", "adjudicated_on", "extractions", "decisions"},
        set(),
        problems,
    )
    if part is None:
        return problems
    extractions = part.get("extractions")
    keys: list[str] = []
    if not isinstance(extractions, list) or len(extractions) < 2:
        problems.append("reconciliation.extractions: the (at least two) assessments compared")
        extractions = extractions if isinstance(extractions, list) else []
    for i, ex in enumerate(extractions):
        where = f"reconciliation.extractions.{i}"
        got = _check_mapping(
            ex, where, {"key", "assessor", "date", "file"}, {"key", "assessor"}, problems
        )
        if got is not None and _text(got.get("key")):
            key = str(_text(got.get("key")))
            if key in keys:
                problems.append(f"{where}.key: {key!r} is used twice")
            keys.append(key)
    decisions = part.get("decisions") or []
    if not isinstance(decisions, list):
        problems.append("reconciliation.decisions: must be a list")
        decisions = []
    if decisions:
        for key in ("adjudicated_by", "adjudicated_on"):
            if _text(part.get(key)) is None and not isinstance(part.get(key), _dt.date):
                problems.append(f"reconciliation.{key}: required when there are decisions")
    seen: set[str] = set()
    for i, d in enumerate(decisions):
        where = f"reconciliation.decisions.{i}"
        got = _check_mapping(
            d,
            where,
            {"key", "path", "take", "value", "reason", "candidates"},
            {"key", "path", "take", "reason"},
            problems,
        )
        if got is None:
            continue
        dkey = _text(got.get("key"))
        if dkey in seen:
            problems.append(f"{where}.key: {dkey!r} is used twice")
        seen.add(str(dkey))
        path = _text(got.get("path"))
        if path and decided(path) is None:
            problems.append(f"{where}.path: {path!r} is not a field of a risk-of-bias form")
        if got.get("take") is not None and got.get("take") not in TAKES:
            problems.append(f"{where}.take: must be a, b or new (got {got.get('take')!r})")
        candidates = got.get("candidates")
        if not isinstance(candidates, list) or len(candidates) < 2:
            problems.append(f"{where}.candidates: what each assessment had (at least two)")
            continue
        for j, c in enumerate(candidates):
            cwhere = f"{where}.candidates.{j}"
            cand = _check_mapping(
                c, cwhere, {"extraction", "value", "assessor", "date"}, {"extraction"}, problems
            )
            if cand is not None and _text(cand.get("extraction")) not in (None, *keys):
                problems.append(
                    f"{cwhere}.extraction: no assessment with key "
                    f"{cand.get('extraction')!r} in reconciliation.extractions"
                )
    return problems


def _e(local: str) -> Any:
    from rdflib import URIRef

    return URIRef(f"{EKB}{local}")


def triples(node: Any, part: Mapping[str, Any], form: Mapping[str, Any]) -> list[Any]:
    """The triples of an (already checked) ``reconciliation:`` part, under the assessment
    ``node`` (so that replacing the assessment replaces its reconciliation too)."""
    from rdflib import Literal, URIRef

    def lit(value: Any) -> Any:
        return Literal(str(value).strip())

    def date(value: Any) -> Any:
        return Literal(_date(value), datatype=URIRef(XSD_DATE))

    r = URIRef(f"{node}/reconciliation")
    out: list[Any] = [
        (node, _e("hasReconciliation"), r),
        (r, URIRef(RDF_TYPE), _e("Reconciliation")),
    ]
    if _text(part.get("adjudicated_by")):
        out.append((r, _e("adjudicatedBy"), lit(part["adjudicated_by"])))
    if part.get("adjudicated_on") is not None:
        out.append((r, _e("adjudicatedOn"), date(part["adjudicated_on"])))
    extractions: dict[str, Any] = {}
    for ex in part.get("extractions") or []:
        x = extractions[str(ex["key"])] = URIRef(f"{r}/extraction/{ex['key']}")
        out += [
            (r, _e("hasExtraction"), x),
            (x, URIRef(RDF_TYPE), _e("Extraction")),
            (x, _e("extractor"), lit(ex["assessor"])),
        ]
        if ex.get("date") is not None:
            out.append((x, _e("extractionDate"), date(ex["date"])))
        if _text(ex.get("file")):
            out.append((x, _e("extractionFile"), lit(ex["file"])))
    answers = form.get("answers") or {}
    judgements = {**(form.get("judgements") or {}), **(form.get("overrides") or {})}
    for d in part.get("decisions") or []:
        n = URIRef(f"{r}/decision/{d['key']}")
        out += [
            (r, _e("hasDecision"), n),
            (n, URIRef(RDF_TYPE), _e("FieldDecision")),
            (n, _e("fieldPath"), lit(d["path"])),
            (n, _e("chosenSource"), Literal(str(d["take"]))),
            (n, _e("rationale"), lit(d["reason"])),
        ]
        if _text(d.get("value")) is not None:
            out.append((n, _e("chosenValue"), lit(d["value"])))
        out += [(n, URIRef(PROV + "wasDerivedFrom"), x) for x in extractions.values()]
        what = decided(str(d["path"]))
        if what is not None:
            record, which, prop = what
            target = None
            if record is None:
                target = node if form.get(str(d["path"])) is not None else None
            elif record == "answer" and which in answers:
                target = URIRef(f"{node}/answer/{which}")
            elif record == "judgement" and which in judgements:
                target = URIRef(f"{node}/judgement/{which}")
            if target is not None:  # absent: the decision left it blank
                out += [(n, _e("decidedRecord"), target), (n, _e("decidedProperty"), _e(prop))]
        for c in d.get("candidates") or []:
            cn = URIRef(f"{n}/candidate/{c['extraction']}")
            out += [
                (n, _e("hasCandidate"), cn),
                (cn, URIRef(RDF_TYPE), _e("CandidateValue")),
                (cn, _e("fromExtraction"), extractions[str(c["extraction"])]),
            ]
            if _text(c.get("value")) is not None:
                out.append((cn, _e("candidateValue"), lit(c["value"])))
            if _text(c.get("assessor")):
                out.append((cn, _e("extractor"), lit(c["assessor"])))
            if c.get("date") is not None:
                out.append((cn, _e("extractionDate"), date(c["date"])))
    return out


def _one(graph: Any, s: Any, local: str) -> str | None:
    value = graph.value(s, _e(local))
    return None if value is None else str(value)


def _key(iri: Any) -> str:
    return str(iri).rsplit("/", 1)[-1]


def _number_order(key: str) -> tuple[int, str]:
    digits = "".join(c for c in key if c.isdigit())
    return (int(digits) if digits else 0, key)


def from_graph(graph: Any, node: Any) -> dict[str, Any] | None:
    """The ``reconciliation:`` part stored under an assessment ``node`` (``None``: none),
    as :func:`triples` wrote it, so a stored consensus reads back as the form it came from."""
    r = graph.value(node, _e("hasReconciliation"))
    if r is None:
        return None
    part: dict[str, Any] = {}
    for key, prop in (("adjudicated_by", "adjudicatedBy"), ("adjudicated_on", "adjudicatedOn")):
        value = _one(graph, r, prop)
        if value is not None:
            part[key] = value
    extractions = []
    for x in sorted(graph.objects(r, _e("hasExtraction")), key=_key):
        ex: dict[str, Any] = {"key": _key(x)}
        for key, prop in (("assessor", "extractor"), ("date", "extractionDate")):
            value = _one(graph, x, prop)
            if value is not None:
                ex[key] = value
        file = _one(graph, x, "extractionFile")
        if file is not None:
            ex["file"] = file
        extractions.append(ex)
    part["extractions"] = extractions
    decisions = []
    for n in sorted(graph.objects(r, _e("hasDecision")), key=lambda n: _number_order(_key(n))):
        d: dict[str, Any] = {
            "key": _key(n),
            "path": _one(graph, n, "fieldPath"),
            "take": _one(graph, n, "chosenSource"),
        }
        value = _one(graph, n, "chosenValue")
        if value is not None:
            d["value"] = value
        d["reason"] = _one(graph, n, "rationale")
        candidates = []
        for c in sorted(graph.objects(n, _e("hasCandidate")), key=_key):
            cand: dict[str, Any] = {"extraction": _key(graph.value(c, _e("fromExtraction")))}
            for key, prop in (
                ("value", "candidateValue"),
                ("assessor", "extractor"),
                ("date", "extractionDate"),
            ):
                got = _one(graph, c, prop)
                if got is not None:
                    cand[key] = got
            candidates.append(cand)
        d["candidates"] = candidates
        decisions.append(d)
    if decisions:
        part["decisions"] = decisions
    return part


def summary(part: Mapping[str, Any]) -> dict[str, Any]:
    """The part as ``ekb rob check|show -f json`` gives it: who decided, when, and each
    decision's path, choice, value and reason."""
    out: dict[str, Any] = {
        "adjudicated_by": _text(part.get("adjudicated_by")),
        "adjudicated_on": _date(part.get("adjudicated_on")),
        "assessors": [_text(x.get("assessor")) for x in part.get("extractions") or []],
        "decisions": [
            {
                "path": d.get("path"),
                "take": d.get("take"),
                "value": _text(d.get("value")),
                "reason": _text(d.get("reason")),
            }
            for d in part.get("decisions") or []
        ],
    }
    return out


def text_lines(part: Mapping[str, Any]) -> list[str]:
    """The part as ``ekb rob check|show`` prints it under the judgements."""
    s = summary(part)
    n = len(s["decisions"])
    who = "; ".join(x for x in s["assessors"] if x)
    head = f"reconciled: consensus of {who}"
    if n:
        head += f"; {n} decision{'s' if n != 1 else ''} by {s['adjudicated_by']}"
        head += f" on {s['adjudicated_on']}"
    lines = [head]
    for d in s["decisions"]:
        value = d["value"] if d["value"] is not None else "(blank)"
        lines.append(f"  {d['path']}: took {d['take']}, {value} — {d['reason']}")
    return lines
