"""The YAML review form: checking it, and both conversions (form -> :class:`Review`,
:class:`Review` -> form). The fields themselves are described in :mod:`kb.sysreview.fields`.

Checking happens in three steps, and every problem names its field path
(``records[3].full_text.reason: is required when the decision is exclude``):

1. the form against the JSON Schema (types, required fields, unknown fields,
   allowed values such as ``include``/``exclude``);
2. the meaning: keys unique, references to searches and records that exist,
   studies that are in the knowledge base, concepts that resolve, decisions
   that do not contradict each other, counts that add up;
3. (in :mod:`kb.sysreview.files`) the review graph against the SHACL shapes.

The YAML reading (decimals exact, dates as text) is :mod:`kb.forms`'s, so a
review form reads exactly like a study form.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kb.forms import FormError
from kb.forms.schema import drop_blanks
from kb.sysreview.fields import (
    DECISION_FIELDS,
    KEY_PATTERN,
    SECTIONS,
    Field,
    blank_form,
    json_schema,
)
from kb.sysreview.model import (
    EXCLUSION_REASON_SCHEME,
    Author,
    Decision,
    Eligibility,
    OutcomeOfInterest,
    Question,
    Record,
    Registration,
    Review,
    Search,
)

__all__ = [
    "KEY_PATTERN",
    "SECTIONS",
    "blank_form",
    "check_form_shape",
    "form_to_review",
    "json_schema",
    "normalise_form",
    "review_to_form",
]


# ---------------------------------------------------------------------------
# Step 1: normalise and check the shape


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _normalise(record: Any, fields: tuple[Field, ...]) -> Any:
    if not isinstance(record, dict):
        return record
    by_name = {f.name: f for f in fields}
    out = dict(record)
    for name, value in record.items():
        f = by_name.get(name)
        if f is None:
            continue
        if f.kind == "decision":
            out[name] = _normalise(value, DECISION_FIELDS)
            continue
        if f.multi and not isinstance(value, list | dict):
            value = [value]
        if f.kind in ("text", "key", "ref", "date", "concept", "url"):
            value = [_as_text(v) for v in value] if isinstance(value, list) else _as_text(value)
        out[name] = value
    return out


def normalise_form(data: Any) -> Any:
    """Blanks dropped ("not reported"), single values of list fields made lists,
    numbers typed into text fields made text."""
    data = drop_blanks(data)
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name, (many, fields, _help) in SECTIONS.items():
        value = data.get(name)
        if many and isinstance(value, list):
            data[name] = [_normalise(r, fields) for r in value]
        elif not many and isinstance(value, dict):
            data[name] = _normalise(value, fields)
    return data


def _path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(form)"


def _schema_problems(data: dict[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    problems: list[str] = []
    validator = Draft202012Validator(json_schema())

    def order(e: Any) -> tuple[Any, ...]:
        return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path)

    for error in sorted(validator.iter_errors(data), key=order):
        path = list(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "required":
            for name in error.validator_value:
                if name not in error.instance:
                    problems.append(f"{_path([*path, name])}: is required")
        elif error.validator == "additionalProperties":
            known = list(schema.get("properties", {}))
            for name in sorted(set(error.instance) - set(known)):
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{_path([*path, str(name)])}: unknown field{hint}")
        else:
            got = error.instance
            shown = got if isinstance(got, str | int | bool) else type(got).__name__
            if isinstance(got, Decimal):
                shown = str(got)
            problems.append(
                f"{_path(path)}: must be {schema.get('x-expect', 'valid')} (got {shown!r})"
            )
    return list(dict.fromkeys(problems))


def check_form_shape(data: Any, origin: str = "<form>") -> dict[str, Any]:
    """Normalise a parsed form and check it against the JSON Schema.

    :raises FormError: one message per problem, each naming the field path.
    """
    data = normalise_form(data)
    if not isinstance(data, dict):
        raise FormError(origin, ["(form): must be a mapping with review:, question:, records: ..."])
    problems = _schema_problems(data)
    if problems:
        raise FormError(origin, problems)
    return data


# ---------------------------------------------------------------------------
# Step 2: meaning, and conversion to a Review

#: Resolves (text, scheme) to a concept IRI, or raises ValueError/KbError with a message.
Resolver = Callable[[str, str], str]


class _Builder:
    def __init__(self, form: dict[str, Any], resolve: Resolver, study_ids: set[str]) -> None:
        self.form = form
        self._resolve = resolve
        self.study_ids = study_ids
        self.problems: list[str] = []

    def concept(self, text: str, scheme: str, where: str) -> str:
        from kb.errors import KbError

        try:
            return self._resolve(text, scheme)
        except (ValueError, KbError) as exc:
            self.problems.append(f"{where}: {exc}")
            return ""

    def concepts(
        self, record: dict[str, Any], name: str, scheme: str, where: str
    ) -> tuple[str, ...]:
        return tuple(
            self.concept(t, scheme, f"{where}.{name}[{i}]")
            for i, t in enumerate(record.get(name, []))
        )

    def keys(self, section: str) -> dict[str, int]:
        seen: dict[str, int] = {}
        for i, rec in enumerate(self.form.get(section, [])):
            key = rec["key"]
            if key in seen:
                self.problems.append(
                    f"{section}[{i}].key: {key!r} is used twice (also {section}[{seen[key]}])"
                )
            else:
                seen[key] = i
        return seen

    def date(self, text: str | None, where: str) -> dt.date | None:
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.problems.append(f"{where}: {text!r} is not a real date")
            return None

    def decision(self, d: dict[str, Any] | None, where: str, full_text: bool) -> Decision | None:
        if d is None:
            return None
        reason = None
        if "reason" in d:
            if d["decision"] != "exclude":
                self.problems.append(f"{where}.reason: only an excluded record has a reason")
            reason = self.concept(d["reason"], EXCLUSION_REASON_SCHEME, f"{where}.reason")
        elif full_text and d["decision"] == "exclude":
            self.problems.append(
                f"{where}.reason: is required when the full text is excluded (PRISMA 2020 "
                "reports the reasons)"
            )
        return Decision(
            value=d["decision"],
            reason=reason or None,
            decided_by=tuple(d.get("decided_by", [])),
            decided_on=self.date(d.get("decided_on"), f"{where}.decided_on"),
            basis=d.get("basis"),
            note=d.get("note"),
        )

    def build(self) -> Review:
        f = self.form
        head = f["review"]
        q = f.get("question", {})
        self.keys("outcomes")
        outcomes = tuple(
            OutcomeOfInterest(
                key=o["key"],
                concept=self.concept(o["outcome"], "outcome", f"outcomes[{i}].outcome"),
                importance=o["importance"],
                label=o.get("label"),
                minimal_important_difference=_decimal(o.get("minimal_important_difference")),
                decision_threshold=_decimal(o.get("decision_threshold")),
                threshold_unit=o.get("threshold_unit"),
                threshold_source=o.get("threshold_source"),
                note=o.get("note"),
            )
            for i, o in enumerate(f.get("outcomes", []))
        )
        question = Question(
            text=q.get("text"),
            population=self.concepts(q, "population", "condition", "question"),
            population_text=q.get("population_text"),
            interventions=self.concepts(q, "interventions", "agent", "question"),
            interventions_text=q.get("interventions_text"),
            comparators=self.concepts(q, "comparators", "agent", "question"),
            comparators_text=q.get("comparators_text"),
            outcomes=outcomes,
        )
        eligibility = None
        if "eligibility" in f:
            e = f["eligibility"]
            eligibility = Eligibility(
                inclusion=e.get("inclusion"),
                exclusion=e.get("exclusion"),
                designs=self.concepts(e, "designs", "design", "eligibility"),
                conditions=self.concepts(e, "conditions", "condition", "eligibility"),
                interventions=self.concepts(e, "interventions", "agent", "eligibility"),
            )
        registration = None
        if "registration" in f:
            g = f["registration"]
            registration = Registration(
                registry=g.get("registry"),
                number=g.get("number"),
                url=g.get("url"),
                registered_on=self.date(g.get("registered_on"), "registration.registered_on"),
            )
        self.keys("authors")
        authors = tuple(
            Author(key=a["key"], name=a["name"], orcid=a.get("orcid")) for a in f.get("authors", [])
        )
        search_index = self.keys("searches")
        searches = tuple(
            Search(
                key=s["key"],
                kind=s["kind"],
                source=s.get("source"),
                searched_on=self.date(s.get("searched_on"), f"searches[{i}].searched_on"),
                records_found=s.get("records_found"),
                strategy=s.get("strategy"),
                note=s.get("note"),
            )
            for i, s in enumerate(f.get("searches", []))
        )
        record_index = self.keys("records")
        records = tuple(
            self.record(i, r, search_index, record_index, searches)
            for i, r in enumerate(f.get("records", []))
        )
        self.counts(searches, records)
        return Review(
            id=head["id"],
            title=head["title"],
            description=head.get("description"),
            note=head.get("note"),
            question=question,
            eligibility=eligibility,
            registration=registration,
            authors=authors,
            searches=searches,
            records=records,
        )

    def record(
        self,
        i: int,
        r: dict[str, Any],
        search_index: dict[str, int],
        record_index: dict[str, int],
        searches: tuple[Search, ...],
    ) -> Record:
        where = f"records[{i}]"
        search = None
        if r["search"] not in search_index:
            self.problems.append(
                f"{where}.search: no search {r['search']!r} in searches:"
                + _hint(r["search"], search_index)
            )
        else:
            search = searches[search_index[r["search"]]]
        study = r.get("study")
        if study is not None and study not in self.study_ids:
            self.problems.append(
                f"{where}.study: no study {study!r} in the knowledge base"
                + _hint(study, self.study_ids)
            )
        dup = r.get("duplicate_of")
        if dup is not None:
            if dup == r["key"]:
                self.problems.append(f"{where}.duplicate_of: a record cannot duplicate itself")
            elif dup not in record_index:
                self.problems.append(
                    f"{where}.duplicate_of: no record {dup!r} in records:{_hint(dup, record_index)}"
                )
            for stage in ("removed_before_screening", "title_abstract", "full_text"):
                if stage in r:
                    self.problems.append(
                        f"{where}.{stage}: a duplicate is removed before screening; it has no "
                        f"{stage.replace('_', ' ')}"
                    )
        if "removed_before_screening" in r:
            for stage in ("title_abstract", "full_text"):
                if stage in r:
                    self.problems.append(
                        f"{where}.{stage}: the record was removed before screening; it has no "
                        f"{stage.replace('_', ' ')}"
                    )
        ta = self.decision(r.get("title_abstract"), f"{where}.title_abstract", full_text=False)
        ft = self.decision(r.get("full_text"), f"{where}.full_text", full_text=True)
        if ft is not None and dup is None and "removed_before_screening" not in r:
            screened_first = search is None or search.databases_and_registers
            if ta is None and screened_first:
                self.problems.append(
                    f"{where}.title_abstract: is required before a full-text decision (records "
                    "from databases and registers are screened first)"
                )
            elif ta is not None and not ta.include:
                self.problems.append(
                    f"{where}.full_text: the title and abstract were excluded, so the full text "
                    "is not assessed"
                )
            if ft.include and study is None:
                self.problems.append(
                    f"{where}.study: an included record must name a study of the knowledge base"
                )
        return Record(
            key=r["key"],
            search=r["search"],
            citation=r.get("citation"),
            registry_id=r.get("registry_id"),
            study=study,
            duplicate_of=dup,
            removed_before_screening=r.get("removed_before_screening"),
            title_abstract=ta,
            full_text=ft,
            note=r.get("note"),
        )

    def counts(self, searches: tuple[Search, ...], records: tuple[Record, ...]) -> None:
        for i, s in enumerate(searches):
            if s.records_found is None:
                continue
            listed = sum(1 for r in records if r.search == s.key)
            if listed != s.records_found:
                self.problems.append(
                    f"searches[{i}].records_found: {s.records_found} records found, but "
                    f"{listed} record(s) of this search are listed; list every record (or leave "
                    "the count blank if it is unknown)"
                )


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _hint(text: str, known: Any) -> str:
    close = difflib.get_close_matches(text, sorted(known), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def form_to_review(
    data: Any, resolve: Resolver, study_ids: set[str], origin: str = "<form>"
) -> Review:
    """Check a parsed form (steps 1 and 2) and build its :class:`Review`.

    :param resolve: concept resolver, ``resolve(text, scheme) -> IRI``.
    :param study_ids: the ids of the knowledge base's studies.
    :raises FormError: with every problem, each naming its field path.
    """
    form = check_form_shape(data, origin)
    builder = _Builder(form, resolve, study_ids)
    review = builder.build()
    if builder.problems:
        raise FormError(origin, list(dict.fromkeys(builder.problems)))
    return review


# ---------------------------------------------------------------------------
# Review -> form


def _put(out: dict[str, Any], name: str, value: Any) -> None:
    if value is None or value == () or value == []:
        return
    if isinstance(value, dt.date):
        value = value.isoformat()
    if isinstance(value, tuple):
        value = list(value)
    out[name] = value


def review_to_form(review: Review, display: Callable[[str, str], str]) -> dict[str, Any]:
    """The form of a review (what ``ekb review show -f yaml`` prints; ``add`` takes it back).

    :param display: ``display(iri, scheme) -> text`` for concepts (a label that
        resolves back to the IRI, else its CURIE).
    """

    def shown(iris: tuple[str, ...], scheme: str) -> list[str]:
        return [display(i, scheme) for i in iris]

    form: dict[str, Any] = {}
    head: dict[str, Any] = {}
    for name in ("id", "title", "description", "note"):
        _put(head, name, getattr(review, name))
    form["review"] = head
    q = review.question
    qd: dict[str, Any] = {}
    _put(qd, "text", q.text)
    _put(qd, "population", shown(q.population, "condition"))
    _put(qd, "population_text", q.population_text)
    _put(qd, "interventions", shown(q.interventions, "agent"))
    _put(qd, "interventions_text", q.interventions_text)
    _put(qd, "comparators", shown(q.comparators, "agent"))
    _put(qd, "comparators_text", q.comparators_text)
    if qd:
        form["question"] = qd
    outcomes = []
    for o in q.outcomes:
        od: dict[str, Any] = {"key": o.key, "outcome": display(o.concept, "outcome")}
        _put(od, "label", o.label)
        od["importance"] = o.importance
        for name in (
            "minimal_important_difference",
            "decision_threshold",
            "threshold_unit",
            "threshold_source",
            "note",
        ):
            _put(od, name, getattr(o, name))
        outcomes.append(od)
    if outcomes:
        form["outcomes"] = outcomes
    if review.eligibility is not None:
        e = review.eligibility
        ed: dict[str, Any] = {}
        _put(ed, "inclusion", e.inclusion)
        _put(ed, "exclusion", e.exclusion)
        _put(ed, "designs", shown(e.designs, "design"))
        _put(ed, "conditions", shown(e.conditions, "condition"))
        _put(ed, "interventions", shown(e.interventions, "agent"))
        form["eligibility"] = ed
    if review.registration is not None:
        g = review.registration
        gd: dict[str, Any] = {}
        for name in ("registry", "number", "url", "registered_on"):
            _put(gd, name, getattr(g, name))
        form["registration"] = gd
    if review.authors:
        form["authors"] = [
            {k: v for k, v in (("key", a.key), ("name", a.name), ("orcid", a.orcid)) if v}
            for a in review.authors
        ]
    if review.searches:
        searches = []
        for s in review.searches:
            sd: dict[str, Any] = {"key": s.key, "kind": s.kind}
            for name in ("source", "searched_on", "records_found", "strategy", "note"):
                _put(sd, name, getattr(s, name))
            searches.append(sd)
        form["searches"] = searches
    if review.records:
        records = []
        for r in review.records:
            rd: dict[str, Any] = {"key": r.key}
            for name in (
                "search",
                "citation",
                "registry_id",
                "study",
                "duplicate_of",
                "removed_before_screening",
            ):
                _put(rd, name, getattr(r, name))
            for name in ("title_abstract", "full_text"):
                d: Decision | None = getattr(r, name)
                if d is None:
                    continue
                dd: dict[str, Any] = {"decision": d.value}
                if d.reason is not None:
                    dd["reason"] = display(d.reason, EXCLUSION_REASON_SCHEME)
                _put(dd, "decided_by", d.decided_by)
                _put(dd, "decided_on", d.decided_on)
                _put(dd, "basis", d.basis)
                _put(dd, "note", d.note)
                rd[name] = dd
            _put(rd, "note", r.note)
            records.append(rd)
        form["records"] = records
    return form
