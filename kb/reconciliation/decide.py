"""Reconcile two extractions into one consensus form, by recorded decisions.

Where the two extractions agree, the consensus takes the value (the first extraction's
wording and keys). Every disagreement :func:`kb.reconciliation.compare.compare` reports
(a record only one has, a value filled differently, a field only one filled) needs a
decision in the decisions file::

    adjudicated_by: A. Adjudicator        # required
    adjudicated_on: 2026-12-02            # optional: today (UTC)
    decisions:
      arms[placebo].n: {take: b, reason: "Table 1 says 177"}
      results[crr-v].percent: {value: 40.8, reason: "as printed in the abstract"}
      outcomes[crr-w24]: {take: a, reason: "b missed the week-24 outcome"}

``take: a`` or ``take: b`` chooses one extraction's value (or record, or blank);
``value:`` gives a new one, which must suit the field. Nothing is written until every
disagreement has a decision, every decision names a disagreement, and the consensus
passes the checks of ``ekb add`` (form and shapes).

The consensus form carries a ``reconciliation:`` part (:mod:`kb.forms.reconciliation`):
the two extractions, and per decision the candidates with extractor and date, the
chosen value, who adjudicated, when and why; ``ekb add`` keeps it as data.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.forms import (
    ARMS,
    POPULATION,
    Field,
    Vocabulary,
    kinds,
    load_form_file,
)
from kb.reconciliation.compare import Comparison, Difference, Normaliser, compare, value_text
from kb.reconciliation.load import Extraction

TAKES = ("a", "b")


@dataclass(frozen=True)
class Decision:
    path: str
    take: str  # "a", "b" or "new"
    value: Any  # the new value (take == "new")
    reason: str


@dataclass(frozen=True)
class Decisions:
    adjudicated_by: str | None
    adjudicated_on: str
    by_path: dict[str, Decision]
    origin: str


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def read_decisions(path: Path) -> Decisions:
    """Parse a decisions file (its structure; paths and values are checked against the diff).

    :raises CheckFailed: malformed (every problem listed, each naming the decision).
    :raises CouldNotRun: unreadable or not YAML.
    """
    data = load_form_file(path)
    origin = str(path)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CheckFailed(
            f"{origin}: a decisions file is a mapping with adjudicated_by: and decisions:"
        )
    unknown = sorted(set(data) - {"adjudicated_by", "adjudicated_on", "decisions"})
    problems += [
        f"{name}: unknown field (adjudicated_by, adjudicated_on, decisions)" for name in unknown
    ]
    by = data.get("adjudicated_by")
    if by is not None and (not isinstance(by, str) or not by.strip()):
        problems.append("adjudicated_by: must be text (who decided)")
    on = data.get("adjudicated_on", _today())
    on = on.isoformat() if isinstance(on, dt.date) else str(on)
    try:
        dt.date.fromisoformat(on)
    except ValueError:
        problems.append(f"adjudicated_on: must be a date written YYYY-MM-DD (got {on!r})")
    raw = data.get("decisions") or {}
    if not isinstance(raw, dict):
        problems.append("decisions: must be a mapping of path: {take: a|b, reason: ...}")
        raw = {}
    by_path: dict[str, Decision] = {}
    for key, entry in raw.items():
        where = f"decisions.{key}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping with take: a|b or value:, and reason:")
            continue
        extra = sorted(set(entry) - {"take", "value", "reason"})
        if extra:
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, extra))}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"{where}.reason: is required (why this value)")
        if "take" in entry and "value" in entry:
            problems.append(f"{where}: give take: or value:, not both")
            continue
        if "take" in entry:
            if entry["take"] not in TAKES:
                problems.append(
                    f"{where}.take: must be a or b (got {entry['take']!r}); "
                    "a new value goes in value:"
                )
                continue
            by_path[str(key)] = Decision(str(key), entry["take"], None, str(reason or ""))
        elif "value" in entry:
            by_path[str(key)] = Decision(str(key), "new", entry["value"], str(reason or ""))
        else:
            problems.append(f"{where}: needs take: a|b or value:")
    if by_path and by is None:
        problems.append("adjudicated_by: is required (who decided)")
    if problems:
        raise CheckFailed(
            f"{origin}: the decisions file has problems:\n" + "\n".join(f"  {p}" for p in problems)
        )
    return Decisions(by, on, by_path, origin)


# ---------------------------------------------------------------------------
# Building the consensus


def _check_new_value(f: Field, value: Any, vocab: Vocabulary) -> str | None:
    """Why a new value does not suit a field (``None`` when it does): the field's own JSON
    Schema, as the form check uses it, and for a concept that it resolves."""
    from jsonschema import Draft202012Validator

    from kb.forms.schema import field_schema

    value = _coerce(f, value)  # text fields take numbers typed without quotes, as forms do
    schema = field_schema(f)
    if any(True for _ in Draft202012Validator(schema).iter_errors(value)):
        return f"must be {schema.get('x-expect', 'valid')} (got {value_text(value)!r})"
    if f.kind is kinds.CONCEPT and f.scheme is not None:
        for item in value if isinstance(value, list) else [value]:
            try:
                vocab.resolve(str(item), f.scheme)
            except ValueError as exc:
                return str(exc)
    return None


def _coerce(f: Field, value: Any) -> Any:
    if f.kind in (kinds.TEXT, kinds.DATE, kinds.PARTIAL_DATE, kinds.KEY, kinds.REF, kinds.CONCEPT):
        if isinstance(value, list):
            return [_coerce_one(v) for v in value]
        value = _coerce_one(value)
    if f.multi and not isinstance(value, list):
        value = [value]
    return value


def _coerce_one(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) or hasattr(value, "as_tuple"):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _concept_label(f: Field, value: Any, vocab: Vocabulary) -> Any:
    """A chosen concept written as the display label of the concept it resolves to.

    The diff compares concepts by what their wording resolves to, also after folding case
    and spacing ("Randomised   controlled TRIAL"); the consensus must not keep wording that
    only resolves after folding, so it gets the concept's own label (:meth:`Vocabulary.display`:
    the preferred label, or the CURIE where the label would not resolve back). Wording that
    resolves to nothing is left as it is (the consensus check then names it).
    """
    if value is None or f.kind is not kinds.CONCEPT or f.scheme is None:
        return value
    if isinstance(value, list):
        return [_concept_label(f, v, vocab) for v in value]
    spaced = " ".join(str(value).split())
    for text in dict.fromkeys((str(value), spaced, spaced.lower())):
        try:
            iri = vocab.resolve(text, f.scheme)
        except ValueError:
            continue
        return vocab.display(iri, f.scheme)
    return value


def _map_refs(record: dict[str, Any], section: Any, norm: Normaliser) -> dict[str, Any]:
    """A copy of one of B's records with its references renamed to A's keys."""
    out = copy.deepcopy(record)
    for f in section.all_fields:
        if f.name in out:
            out[f.name] = _map_value(f, out[f.name], norm)
    if section is ARMS:
        from kb.forms import INTERVENTIONS

        out["interventions"] = [
            _map_refs(iv, INTERVENTIONS, norm) for iv in out.get("interventions", [])
        ]
        if not out["interventions"]:
            del out["interventions"]
    return out


def _map_value(f: Field, value: Any, norm: Normaliser) -> Any:
    if f.kind is kinds.REF and f.ref in ("arm", "outcome", "source"):
        if isinstance(value, list):
            return [norm.ref_key(f"{f.ref}s", v, "b") for v in value]
        return norm.ref_key(f"{f.ref}s", value, "b")
    if f.kind is kinds.RECORD_REF:
        items = value if isinstance(value, list) else [value]
        mapped = []
        for item in items:
            segment, _, key = str(item).rpartition("/")
            names = {"result": "results", "comparison": "comparisons", "safety": "safety"}
            if segment:
                mapped.append(f"{segment}/{norm.ref_key(names.get(segment, segment), key, 'b')}")
            else:
                mapped.append(item)
        return mapped if isinstance(value, list) else mapped[0]
    return value


def _container(form: dict[str, Any], d: Difference) -> list[dict[str, Any]] | None:
    """The list a structural difference's record belongs to, in the consensus."""
    assert d.slot is not None
    section = d.slot.section
    if d.slot.parent is not None:
        parent = d.slot.parent.a
        assert parent is not None
        name = "baseline" if d.slot.parent.section is POPULATION else "interventions"
        return parent.setdefault(name, [])
    if section is POPULATION:
        return None
    return form.setdefault(d.path.split("[", 1)[0], [])


def _provenance(record: dict[str, Any] | None, ex: Extraction) -> dict[str, Any]:
    out = {"extracted_by": (record or {}).get("extracted_by") or ex.extracted_by}
    out["extracted_on"] = (record or {}).get("extracted_on") or ex.extracted_on
    return {k: v for k, v in out.items() if v is not None}


@dataclass
class Reconciled:
    """A consensus form and what went into it."""

    form: dict[str, Any]
    comparison: Comparison
    decided: int


def reconcile(
    a: Extraction,
    b: Extraction,
    decisions: Decisions | None,
    vocab: Vocabulary,
) -> Reconciled:
    """The consensus form of two extractions of one study (nothing is written).

    :raises UsageError: the two are extractions of different studies.
    :raises CheckFailed: a disagreement without a decision, a decision for a path that is no
        disagreement, or a new value that does not suit its field (every problem listed).
    """
    if a.study_id != b.study_id:
        raise UsageError(
            f"{a.origin} and {b.origin} are extractions of different studies "
            f"({a.study_id} and {b.study_id}); reconcile two extractions of one study"
        )
    a = Extraction(copy.deepcopy(a.form), a.origin, a.extracted_by, a.extracted_on)
    comparison = compare(a, b, vocab)
    norm = Normaliser(vocab)
    norm.renames = comparison.renames
    disputed = comparison.decidable()
    chosen = decisions.by_path if decisions else {}
    problems: list[str] = []
    paths = {d.path for d in disputed}
    for path in chosen:
        if path not in paths:
            close = difflib.get_close_matches(path, sorted(paths), n=1, cutoff=0.6)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else ("; the extractions agree there" if not paths else "")
            )
            problems.append(
                f"decisions.{path}: not a disagreement between the two extractions{hint}"
            )
    missing = [d for d in disputed if d.path not in chosen]
    for d in disputed:
        decision = chosen.get(d.path)
        if decision is None or decision.take != "new":
            continue
        if d.slot is None or d.slot.field is None:
            problems.append(
                f"decisions.{d.path}: a whole record is taken from a or b, not given as a new value"
            )
            continue
        why = _check_new_value(d.slot.field, decision.value, vocab)
        if why:
            problems.append(f"decisions.{d.path}.value: {why}")
    if missing:
        listed = "\n".join(
            f"    {d.path} ({d.kind}): a {_shown(d.a)}, b {_shown(d.b)}" for d in missing
        )
        problems.append(
            f"{len(missing)} disagreement{'s' if len(missing) != 1 else ''} without a decision "
            f"(add them to the decisions file as path: {{take: a|b, reason: ...}}):\n{listed}"
        )
    if problems:
        where = decisions.origin if decisions else "no decisions file"
        raise CheckFailed(
            f"cannot reconcile ({where}):\n"
            + "\n".join(f"  {p}" if not p.startswith("  ") else p for p in problems)
        )

    form = a.form
    record_decisions: list[dict[str, Any]] = []
    removals: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []
    for number, d in enumerate(disputed, start=1):
        decision = chosen[d.path]
        assert d.slot is not None
        slot = d.slot
        if slot.field is not None:
            f = slot.field
            assert slot.a is not None
            if decision.take == "a":
                value = _concept_label(f, slot.a.get(f.name), vocab)
            elif decision.take == "b":
                value = None if slot.b is None else slot.b.get(f.name)
                value = None if value is None else _map_value(f, value, norm)
                value = _concept_label(f, value, vocab)
            else:
                value = _coerce(f, decision.value)
            if value is None:
                slot.a.pop(f.name, None)
            else:
                slot.a[f.name] = value
            candidates = [_candidate("a", d.a, slot.a, a), _candidate("b", d.b, slot.b, b)]
        else:
            # a record only one extraction has
            container = _container(form, d)
            if decision.take == "b" and slot.b is not None:
                mapped = _map_refs(slot.b, slot.section, norm)
                if container is None:
                    form["population"] = mapped
                else:
                    container.append(mapped)
                value = d.b
            elif decision.take == "b" and slot.a is not None:
                if container is None:
                    form.pop("population", None)
                else:
                    removals.append((container, slot.a))
                value = None
            else:
                value = d.a
            candidates = [_candidate("a", d.a, slot.a, a), _candidate("b", d.b, slot.b, b)]
        entry: dict[str, Any] = {"key": f"d{number}", "path": d.path, "take": decision.take}
        if value is not None:
            entry["value"] = value_text(value)
        entry["reason"] = decision.reason
        entry["candidates"] = candidates
        record_decisions.append(entry)
    for container, record in removals:
        for i, r in enumerate(container):
            if r is record:
                del container[i]
                break
    # Who extracted each agreed record: both.
    for slot in comparison.matched:
        if slot.a is None or slot.b is None or not slot.section.extracted:
            continue
        pa, pb = _provenance(slot.a, a), _provenance(slot.b, b)
        by = [x for x in (pa.get("extracted_by"), pb.get("extracted_by")) if x]
        if by:
            slot.a["extracted_by"] = "; ".join(dict.fromkeys(by))
        dates = [x for x in (pa.get("extracted_on"), pb.get("extracted_on")) if x]
        if dates:
            slot.a["extracted_on"] = max(dates)
    recon: dict[str, Any] = {}
    if decisions and decisions.adjudicated_by and record_decisions:
        recon["adjudicated_by"] = decisions.adjudicated_by
        recon["adjudicated_on"] = decisions.adjudicated_on
    recon["extractions"] = [
        {"key": key, **_provenance(None, ex), "file": ex.origin} for key, ex in (("a", a), ("b", b))
    ]
    for entry in recon["extractions"]:
        entry.setdefault("extracted_by", "not recorded")
    if record_decisions:
        recon["decisions"] = record_decisions
    ordered = {"form": "ekb-study/1", **{k: v for k, v in form.items() if k != "form"}}
    ordered.pop("reconciliation", None)
    ordered["reconciliation"] = recon
    return Reconciled(ordered, comparison, len(record_decisions))


def _shown(value: Any) -> str:
    return "(blank)" if value is None else repr(value_text(value))


def _candidate(
    key: str, shown: Any, record: dict[str, Any] | None, ex: Extraction
) -> dict[str, Any]:
    out: dict[str, Any] = {"extraction": key}
    if shown is not None:
        out["value"] = value_text(shown)
    out.update(_provenance(record, ex))
    return out


def check_consensus(form: dict[str, Any], kb_dir: Path | None, name: str) -> None:
    """Run the checks of ``ekb add`` on a consensus form (form, meaning and shapes); writes
    nothing to the knowledge base.

    :raises kb.forms.FormError: the consensus does not pass (every problem, by field path).
    """
    import tempfile

    from kb.forms import FormError, dump_form
    from kb.kbdir import prepare_forms, resolve_kb

    kb = resolve_kb(kb_dir)
    with tempfile.TemporaryDirectory(prefix="ekb-reconcile-") as scratch:
        path = Path(scratch) / "consensus.yaml"
        path.write_text(dump_form(form), encoding="utf-8")
        try:
            prepare_forms([path], kb, force=True)
        except FormError as exc:
            raise FormError(f"{name} (the consensus, not written)", exc.problems) from None
