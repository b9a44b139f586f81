"""Risk-of-bias assessments stored in their review's file, as RDF.

Why the review file: DESIGN.md puts "RoB assessments and GRADE ratings" in the review, and a
judgement is about a result *for this review's question* (the same trial result can be
assessed differently for another question's outcome). The study files stay the record of
what the studies reported. One review file also keeps an assessment's answers, overrides and
the review's PICO in one diff and one named graph in the store.

What is stored is what people decided: the answers (with support quotes), the ROBINS-I
domain judgements, overrides with their justification, the "not assessed" reason, who and
when. Proposed judgements are never stored: :func:`assessments` rebuilds each form from the
triples and runs :func:`kb.rob.assessment.assess` again, so they always follow from the
answers by the current rules.

Layout, all under the review's IRI (the review shapes require that)::

    <review/R> ekb:hasRiskOfBiasAssessment <review/R/rob/STUDY/OUTCOME> .
    <review/R/rob/STUDY/OUTCOME> a ekb:RiskOfBiasAssessment ;
        ekb:assessedStudy <study/STUDY> ; ekb:assessedOutcome <review/R/outcome/OUTCOME> ;
        ekb:robTool "rob2" ; ekb:robVariant "assignment" ; ekb:assessor "..." ;
        ekb:assessedOn "2026-12-02"^^xsd:date ; ekb:hasSignallingAnswer <.../answer/1.1> ;
        ekb:hasJudgementRecord <.../judgement/D2> .
    <.../answer/1.1> ekb:questionNumber "1.1" ; ekb:response "Y" ; ekb:support "..." .
    <.../judgement/D2> ekb:robDomain "D2" ; ekb:judgement "high" ; ekb:justification "..." ;
        ekb:judgementKind "override" .
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.namespaces import EKB, RES
from kb.rob.assessment import Assessment, RobFormError, assess

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"

_SCALARS = {
    "tool": "robTool",
    "aim": "robVariant",
    "effect": "robVariant",
    "version": "robToolVersion",
    "result": "assessedResultText",
    "assessor": "assessor",
    "date": "assessedOn",
    "not_assessed": "notAssessedReason",
    "notes": "note",
}


def assessment_iri(review_id: str, study: str, outcome: str) -> str:
    from kb.sysreview.model import part_iri

    return part_iri(review_id, "rob", f"{study}/{outcome}")


def _e(local: str) -> Any:
    from rdflib import URIRef

    return URIRef(f"{EKB}{local}")


def form_to_triples(review_id: str, form: Mapping[str, Any]) -> list[tuple[Any, Any, Any]]:
    """The triples of one (already checked) form, under the review's IRI."""
    from rdflib import Literal, URIRef

    from kb.sysreview.model import part_iri, review_iri

    study, outcome = str(form["study"]), str(form["outcome"])
    node = URIRef(assessment_iri(review_id, study, outcome))
    out: list[tuple[Any, Any, Any]] = [
        (URIRef(review_iri(review_id)), _e("hasRiskOfBiasAssessment"), node),
        (node, URIRef(RDF_TYPE), _e("RiskOfBiasAssessment")),
        (node, _e("assessedStudy"), URIRef(f"{RES}study/{study}")),
        (node, _e("assessedOutcome"), URIRef(part_iri(review_id, "outcome", outcome))),
    ]
    for key, prop in _SCALARS.items():
        value = form.get(key)
        if value is None or value == "":
            continue
        if key == "date":
            out.append((node, _e(prop), Literal(str(value), datatype=URIRef(XSD_DATE))))
        else:
            out.append((node, _e(prop), Literal(str(value))))
    for q, raw in (form.get("answers") or {}).items():
        a = URIRef(f"{node}/answer/{q}")
        value, support = (
            (raw.get("answer"), raw.get("support")) if isinstance(raw, Mapping) else (raw, None)
        )
        out += [
            (node, _e("hasSignallingAnswer"), a),
            (a, URIRef(RDF_TYPE), _e("SignallingAnswer")),
            (a, _e("questionNumber"), Literal(str(q))),
            (a, _e("response"), Literal(str(value).strip().upper())),
        ]
        if support:
            out.append((a, _e("support"), Literal(str(support))))
    records = [("override", d, raw) for d, raw in (form.get("overrides") or {}).items()]
    records += [("reviewer", d, raw) for d, raw in (form.get("judgements") or {}).items()]
    for kind, domain, raw in records:
        j = URIRef(f"{node}/judgement/{domain}")
        if isinstance(raw, Mapping):
            value = raw.get("judgement")
            note = raw.get("justification") if kind == "override" else raw.get("support")
        else:
            value, note = raw, None
        out += [
            (node, _e("hasJudgementRecord"), j),
            (j, URIRef(RDF_TYPE), _e("RiskOfBiasJudgement")),
            (j, _e("robDomain"), Literal(str(domain))),
            (j, _e("judgement"), Literal(str(value))),
            (j, _e("judgementKind"), Literal(kind)),
        ]
        if note:
            out.append((j, _e("justification"), Literal(str(note))))
    if form.get("reconciliation"):  # a consensus of two assessors' forms (issue 20)
        from kb.rob.reconciliation import triples as reconciliation_triples

        out += reconciliation_triples(node, form["reconciliation"], form)
    return out


def _one(graph: Any, s: Any, local: str) -> str | None:
    value = graph.value(s, _e(local))
    return None if value is None else str(value)


def form_from_graph(graph: Any, node: Any) -> dict[str, Any]:
    """The form dict an assessment's triples came from (answers, overrides, judgements)."""
    form: dict[str, Any] = {}
    study = _one(graph, node, "assessedStudy")
    outcome = _one(graph, node, "assessedOutcome")
    form["study"] = study.rsplit("/", 1)[-1] if study else None
    form["outcome"] = outcome.rsplit("/", 1)[-1] if outcome else None
    for key, prop in _SCALARS.items():
        value = _one(graph, node, prop)
        if value is None:
            continue
        if key in ("aim", "effect"):
            key = "aim" if form.get("tool") == "rob2" else "effect"
        if key == "version":
            form[key] = int(value) if value.isdigit() else value
            continue
        form[key] = value
    tool = form.get("tool")
    if tool == "robins-i" and "aim" in form:
        form["effect"] = form.pop("aim")
    if tool == "rob2" and "effect" in form:
        form["aim"] = form.pop("effect")
    answers: dict[str, Any] = {}
    for a in graph.objects(node, _e("hasSignallingAnswer")):
        q, r, sup = (_one(graph, a, p) for p in ("questionNumber", "response", "support"))
        answers[str(q)] = {"answer": r, "support": sup} if sup else r
    if answers:
        form["answers"] = dict(sorted(answers.items(), key=lambda kv: _qkey(kv[0])))
    for j in graph.objects(node, _e("hasJudgementRecord")):
        kind = _one(graph, j, "judgementKind")
        domain = _one(graph, j, "robDomain")
        value = _one(graph, j, "judgement")
        note = _one(graph, j, "justification")
        if kind == "override":
            form.setdefault("overrides", {})[domain] = {"judgement": value, "justification": note}
        else:
            entry: Any = {"judgement": value, "support": note} if note else value
            form.setdefault("judgements", {})[domain] = entry
    from kb.rob.reconciliation import from_graph as reconciliation_from_graph

    part = reconciliation_from_graph(graph, node)  # a stored consensus of two assessors
    if part is not None:
        form["reconciliation"] = part
    return form


def _qkey(q: str) -> tuple[Any, ...]:
    parts = q.replace("B", "0.").split(".")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def assessments(graph: Any, review_id: str) -> list[Assessment]:
    """Every RoB assessment in a review's graph, judged again from its stored answers.

    :raises CheckFailed: a stored assessment no longer conforms (names it).
    """
    from rdflib import URIRef

    from kb.sysreview.model import review_iri

    out = []
    nodes = sorted(graph.objects(URIRef(review_iri(review_id)), _e("hasRiskOfBiasAssessment")))
    for node in nodes:
        form = form_from_graph(graph, node)
        out.append(assess(form, str(node)))
    return out


def review_assessments(kb_dir: Path | None, review_id: str) -> list[Assessment]:
    """The RoB assessments of a review of a knowledge base."""
    from kb.kbdir import resolve_kb
    from kb.sysreview.files import find_review_file
    from kb.turtle_format import parse_turtle

    kb = resolve_kb(kb_dir)
    path = find_review_file(kb, review_id)
    graph = parse_turtle(path.read_text(encoding="utf-8"), str(path))
    return assessments(graph, path.stem)


def replace_part(
    path: Path,
    prefix: str,
    triples: Iterable[tuple[Any, Any, Any]],
    *,
    force: bool,
    what: str,
) -> str:
    """The review file's new text: the part named ``prefix`` (and below) replaced.

    :raises UsageError: the part exists and ``force`` is not set.
    """
    from kb.turtle_format import canonical_turtle, header_comment, parse_turtle

    text = path.read_text(encoding="utf-8")
    graph = parse_turtle(text, str(path))
    old = [
        t
        for t in graph
        if str(t[0]) == prefix or str(t[0]).startswith(prefix + "/") or str(t[2]) == prefix
    ]
    if old and not force:
        raise UsageError(f"{what} is already in {path}; use --force to replace it")
    for t in old:
        graph.remove(t)
    for t in triples:
        graph.add(t)
    return canonical_turtle(graph, header=header_comment(text))


def write_part(
    path: Path,
    prefix: str,
    triples: Iterable[tuple[Any, Any, Any]],
    kb: Path,
    *,
    force: bool,
    what: str,
) -> None:
    """Replace the part ``prefix`` of a review file, validate the new text as a review, and
    only then write it (atomically).

    :raises UsageError: the part exists and ``force`` is not set.
    :raises CheckFailed: the review would not conform (its violations, named).
    """
    from kb.fileio import atomic_write_text
    from kb.sysreview.validate import validate_review_text

    text = replace_part(path, prefix, triples, force=force, what=what)
    report = validate_review_text(text, kb, display=str(path))
    violations = [f for f in report.findings if f.row()[0] == "Violation"]
    if violations:
        raise CheckFailed(
            f"{path}: the review would not conform: "
            + "; ".join(" ".join(x for x in f.row()[1:4] if x) for f in violations)
        )
    atomic_write_text(path, text)


def add_assessment(
    form_file: Path, review_id: str, kb_dir: Path | None = None, *, force: bool = False
) -> Assessment:
    """Check a RoB form against the review, then write it into the review's file.

    All or nothing: the form is judged, its study and outcome are checked against the
    review, the new file text is validated as a review, and only then written.

    :raises RobFormError: the form does not conform (exit 1).
    :raises UsageError: no such review; the assessment exists and ``force`` is not set.
    """
    from kb.kbdir import resolve_kb
    from kb.rob.assessment import load_yaml
    from kb.sysreview.files import find_review_file, read_review_file

    kb = resolve_kb(kb_dir)
    path = find_review_file(kb, review_id)
    review = read_review_file(path)
    data = load_yaml(form_file)
    assessment = assess(data, str(form_file))
    problems = []
    keys = [o.key for o in review.question.outcomes]
    if assessment.outcome not in keys:
        problems.append(
            f"outcome: {assessment.outcome!r} is not an outcome of review {review.id} "
            f"({', '.join(keys)})"
        )
    included = set(review.included_study_ids)
    if assessment.study not in included:
        problems.append(
            f"study: {assessment.study!r} is not among the studies review {review.id} includes"
        )
    if problems:
        raise RobFormError(str(form_file), problems)
    if isinstance(data.get("date"), _dt.date):
        data = {**data, "date": data["date"].isoformat()}
    write_part(
        path,
        assessment_iri(review.id, assessment.study, assessment.outcome),
        form_to_triples(review.id, data),
        kb,
        force=force,
        what=f"a risk-of-bias assessment of {assessment.study} for {assessment.outcome}",
    )
    return assessment
