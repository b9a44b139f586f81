"""Compare two extractions of one study, field by field.

Records are matched by key and, where the keys differ, by content (an arm by its
label and n, an outcome by its concept and timepoint, a result by its arm, outcome
and timepoint, ...). Values are normalised before they are compared: whitespace and
case of text, numeric formatting (``45.0`` = ``45``), a confidence level written as a
percentage (``95`` or ``"95%"`` = ``0.95``), concepts by the IRI their label resolves to.

The differences come in a fixed order: structural ones first (a different number of
records or timepoints, a record only one extractor has), then values both filled
differently, then fields only one extractor filled. Records matched by content under
different keys are listed as ``renamed``: the consensus keeps the first extraction's
key, so a renaming needs no decision and does not by itself make two extractions differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kb.forms import (
    ARMS,
    BASELINE,
    CLAIMS,
    COMPARISONS,
    CONCEPTS,
    INTERVENTIONS,
    OUTCOMES,
    POPULATION,
    RESULTS,
    SAFETY,
    SOURCES,
    STUDY,
    Field,
    Section,
    Vocabulary,
    decimal_lexical,
    kinds,
)
from kb.reconciliation.load import Extraction

#: Provenance that names the extraction itself: it always differs between two extractors,
#: and reconciliation records it per extraction instead of comparing it.
IDENTITY_FIELDS = ("extracted_by", "extracted_on")

#: Kinds of difference, in the order they are reported.
KINDS = ("structure", "value", "only-a", "only-b", "renamed")

_NUMERIC = (
    kinds.COUNT,
    kinds.POSITIVE,
    kinds.CYCLES,
    kinds.DECIMAL,
    kinds.NONNEG,
    kinds.PERCENT,
    kinds.PROBABILITY,
    kinds.YEAR,
)


@dataclass(frozen=True)
class Slot:
    """Where a difference sits: a record (by its section and path) and maybe one field."""

    section: Section
    path: str  # "arms[placebo]"
    a: dict[str, Any] | None
    b: dict[str, Any] | None
    field: Field | None = None
    parent: Slot | None = None  # the arm of an intervention, the population of a baseline row


@dataclass(frozen=True)
class Difference:
    """One disagreement: ``{"path", "a", "b", "kind"}`` in JSON."""

    path: str
    a: Any
    b: Any
    kind: str
    slot: Slot | None = None  # None: a summary (counts, timepoints) that needs no decision

    @property
    def decidable(self) -> bool:
        return self.slot is not None and self.kind != "renamed"

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "a": json_value(self.a),
            "b": json_value(self.b),
            "kind": self.kind,
        }


def json_value(value: Any) -> Any:
    """A form value as JSON: decimals as numbers, lists and mappings recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def value_text(value: Any) -> str:
    """A form value as one line of text (decimals without a trailing ``.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_lexical(value).removesuffix(".0")
    if isinstance(value, list):
        return "; ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return describe(value)
    return str(value)


def describe(record: dict[str, Any]) -> str:
    """A record in a few words, for structural differences."""
    bits = [
        f"{name} {value_text(record[name])}"
        for name in (
            "label",
            "characteristic",
            "event_term",
            "agent",
            "arm",
            "outcome",
            "timepoint_weeks",
            "n",
        )
        if name in record
    ]
    key = record.get("key") or record.get("id")
    head = f"{key}: " if key else ""
    return head + (", ".join(bits) if bits else "a record")


# ---------------------------------------------------------------------------
# Normalisation


def _text(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip().rstrip("%").strip()).normalize()
    except InvalidOperation:
        return None


class Normaliser:
    """Turns a field's value into something comparable; B's references map to A's keys."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        #: section name -> {b key: a key}, filled while records are matched
        self.renames: dict[str, dict[str, str]] = {}

    def ref_key(self, section_name: str, key: Any, side: str) -> str:
        text = str(key)
        return self.renames.get(section_name, {}).get(text, text) if side == "b" else text

    def one(self, f: Field, value: Any, side: str) -> Any:
        kind = f.kind
        if kind is kinds.LEVEL:
            number = _number(value)
            if number is not None and number > 1:
                number = (number / 100).normalize()
            return number if number is not None else _text(value)
        if kind in _NUMERIC:
            number = _number(value)
            return number if number is not None else _text(value)
        if kind is kinds.BOOL:
            if isinstance(value, str):
                return _text(value) in ("true", "yes", "y", "1")
            return bool(value)
        if kind is kinds.CONCEPT and f.scheme is not None:
            spaced = " ".join(str(value).split())
            for text in dict.fromkeys((str(value), spaced, spaced.lower())):
                try:
                    return self.vocab.resolve(text, f.scheme)
                except ValueError:
                    continue
            return _text(value)
        if kind is kinds.REF and f.ref in ("arm", "outcome", "source"):
            return self.ref_key(f"{f.ref}s", value, side)
        if kind is kinds.RECORD_REF:
            segment, _, key = str(value).rpartition("/")
            names = {"result": "results", "comparison": "comparisons", "safety": "safety"}
            if segment:
                return f"{segment}/{self.ref_key(names.get(segment, segment), key, side)}"
            for name in names.values():
                mapped = self.ref_key(name, key, side)
                if mapped != key:
                    return mapped
            return key
        return _text(value)

    def value(self, f: Field, value: Any, side: str) -> Any:
        if value is None:
            return None
        if f.multi:
            items = value if isinstance(value, list) else [value]
            return tuple(sorted((self.one(f, v, side) for v in items), key=repr))
        return self.one(f, value, side)


# ---------------------------------------------------------------------------
# Matching records


#: What identifies a record by content, per section (after B's references are mapped).
_CONTENT: dict[str, tuple[tuple[str, ...], ...]] = {
    # tried in order: the first signature that pairs records one-to-one wins for them
    "sources": (("doi",), ("pmid",), ("url",), ("title",)),
    "arms": (("label", "n"), ("label",)),
    "outcomes": (("concept", "timepoint_weeks"), ("concept", "timepoint_text"), ("label",)),
    "results": (("arm", "outcome", "timepoint_weeks"), ("arm", "outcome", "timepoint_text")),
    "comparisons": (
        ("experimental_arm", "comparator_arm", "outcome", "timepoint_weeks", "measure"),
        ("experimental_arm", "comparator_arm", "outcome", "timepoint_weeks"),
    ),
    "safety": (("arm", "event_term", "serious"), ("arm", "event_term")),
    "baseline": (("characteristic", "arm"),),
    "claims": (("statement",),),
    "interventions": (("agent",), ("agent_text",)),
}


@dataclass
class _Pairing:
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (a key, b key)


def _match(
    name: str,
    section: Section,
    a_records: list[dict[str, Any]],
    b_records: list[dict[str, Any]],
    norm: Normaliser,
    id_field: str = "key",
) -> _Pairing:
    out = _Pairing()
    b_left = list(range(len(b_records)))
    a_left: list[int] = []
    b_by_key = {r.get(id_field): i for i, r in enumerate(b_records) if r.get(id_field) is not None}
    matched: dict[int, int] = {}
    for i, rec in enumerate(a_records):
        j = b_by_key.get(rec.get(id_field)) if rec.get(id_field) is not None else None
        if j is not None and j in b_left:
            matched[i] = j
            b_left.remove(j)
        else:
            a_left.append(i)

    def signature(rec: dict[str, Any], names: tuple[str, ...], side: str) -> tuple[Any, ...]:
        sig = []
        for fname in names:
            try:
                f = section.field(fname)
            except KeyError:
                return ()
            sig.append(norm.value(f, rec.get(fname), side))
        return tuple(sig) if any(v is not None for v in sig) else ()

    for names in _CONTENT.get(name, ()):
        a_sigs: dict[tuple[Any, ...], list[int]] = {}
        for i in a_left:
            sig = signature(a_records[i], names, "a")
            if sig:
                a_sigs.setdefault(sig, []).append(i)
        b_sigs: dict[tuple[Any, ...], list[int]] = {}
        for j in b_left:
            sig = signature(b_records[j], names, "b")
            if sig:
                b_sigs.setdefault(sig, []).append(j)
        for sig, a_is in a_sigs.items():
            b_js = b_sigs.get(sig, [])
            if len(a_is) == 1 and len(b_js) == 1:  # only an unambiguous pairing
                matched[a_is[0]] = b_js[0]
                a_left.remove(a_is[0])
                b_left.remove(b_js[0])
    # a lone record on each side (one population, one unnamed intervention) pairs up
    if name == "interventions" and len(a_left) == 1 and len(b_left) == 1:
        matched[a_left.pop()] = b_left.pop()
    for i in range(len(a_records)):
        if i in matched:
            a_rec, b_rec = a_records[i], b_records[matched[i]]
            out.pairs.append((a_rec, b_rec))
            a_key, b_key = a_rec.get(id_field), b_rec.get(id_field)
            if a_key is not None and b_key is not None and a_key != b_key:
                out.renamed.append((str(a_key), str(b_key)))
                norm.renames.setdefault(name, {})[str(b_key)] = str(a_key)
        else:
            out.pairs.append((a_records[i], None))
    out.pairs.extend((None, b_records[j]) for j in b_left)
    return out


def _index(records: list[dict[str, Any]], record: dict[str, Any]) -> int:
    return next(i for i, r in enumerate(records) if r is record)


def _record_path(prefix: str, rec: dict[str, Any], index: int, id_field: str = "key") -> str:
    key = rec.get(id_field)
    return f"{prefix}[{key}]" if key is not None else f"{prefix}[{index}]"


# ---------------------------------------------------------------------------
# The comparison


def compared_fields(section: Section) -> Iterator[Field]:
    for f in section.all_fields:
        if f.name in ("key",) + IDENTITY_FIELDS:
            continue
        if section in (CONCEPTS, STUDY) and f.name == "id":  # the identity itself
            continue
        yield f


@dataclass
class Comparison:
    """The differences between two extractions of one study."""

    a: Extraction
    b: Extraction
    differences: list[Difference]
    #: every pair of records both extractors have (for agreement statistics)
    matched: list[Slot] = field(default_factory=list)
    #: section name -> {b key: a key} for records matched by content under another key
    renames: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def study_id(self) -> str:
        return str(self.a.form["study"]["id"])

    @property
    def subject(self) -> str:
        return f"study {self.study_id}"

    @property
    def agree(self) -> bool:
        return not any(d.kind != "renamed" for d in self.differences)

    def decidable(self) -> list[Difference]:
        return [d for d in self.differences if d.decidable]


class _Walker:
    def __init__(self, norm: Normaliser) -> None:
        self.norm = norm
        self.out: list[Difference] = []
        self.record_slots: list[Slot] = []  # every matched pair, for agreement statistics

    def values(self, slot: Slot) -> None:
        assert slot.a is not None and slot.b is not None
        self.record_slots.append(slot)
        for f in compared_fields(slot.section):
            va, vb = slot.a.get(f.name), slot.b.get(f.name)
            na, nb = self.norm.value(f, va, "a"), self.norm.value(f, vb, "b")
            if na == nb:
                continue
            kind = (
                "value"
                if va is not None and vb is not None
                else "only-a"
                if vb is None
                else "only-b"
            )
            fslot = Slot(slot.section, slot.path, slot.a, slot.b, f, slot.parent)
            self.out.append(Difference(f"{slot.path}.{f.name}", va, vb, kind, fslot))

    def records(
        self,
        name: str,
        section: Section,
        prefix: str,
        a_records: list[dict[str, Any]],
        b_records: list[dict[str, Any]],
        parent: Slot | None = None,
        nested: Callable[[Slot], None] | None = None,
        id_field: str = "key",
    ) -> None:
        if len(a_records) != len(b_records):
            self.out.append(Difference(prefix, len(a_records), len(b_records), "structure"))
        pairing = _match(name, section, a_records, b_records, self.norm, id_field)
        for a_key, b_key in pairing.renamed:
            self.out.append(Difference(f"{prefix}[{a_key}]", a_key, b_key, "renamed"))
        for a_rec, b_rec in pairing.pairs:
            if a_rec is not None:
                path = _record_path(prefix, a_rec, _index(a_records, a_rec), id_field)
            else:
                assert b_rec is not None
                path = _record_path(prefix, b_rec, _index(b_records, b_rec), id_field)
            slot = Slot(section, path, a_rec, b_rec, None, parent)
            if a_rec is None or b_rec is None:
                self.out.append(
                    Difference(
                        path,
                        describe(a_rec) if a_rec else None,
                        describe(b_rec) if b_rec else None,
                        "structure",
                        slot,
                    )
                )
                continue
            self.values(slot)
            if nested is not None:
                nested(slot)


def _timepoints(form: dict[str, Any]) -> list[Decimal]:
    found = set()
    for name in ("outcomes", "results", "comparisons"):
        for rec in form.get(name, []):
            number = _number(rec["timepoint_weeks"]) if "timepoint_weeks" in rec else None
            if number is not None:
                found.add(number)
    return sorted(found)


def compare(a: Extraction, b: Extraction, vocab: Vocabulary) -> Comparison:
    """Every difference between two extractions of the same study, in report order."""
    norm = Normaliser(vocab)
    walk = _Walker(norm)
    fa, fb = a.form, b.form
    # Order matters: a section's records are matched before the records that refer to them.
    walk.values(Slot(STUDY, "study", fa.get("study", {}), fb.get("study", {})))
    walk.records("sources", SOURCES, "sources", fa.get("sources", []), fb.get("sources", []))
    pa, pb = fa.get("population"), fb.get("population")
    if pa is None or pb is None:
        if pa is not None or pb is not None:
            walk.out.append(
                Difference(
                    "population",
                    "present" if pa else None,
                    "present" if pb else None,
                    "structure",
                    Slot(POPULATION, "population", pa, pb),
                )
            )
    else:
        walk.values(Slot(POPULATION, "population", pa, pb))

    def interventions(arm: Slot) -> None:
        assert arm.a is not None and arm.b is not None
        walk.records(
            "interventions",
            INTERVENTIONS,
            f"{arm.path}.interventions",
            arm.a.get("interventions", []),
            arm.b.get("interventions", []),
            parent=arm,
        )

    walk.records("arms", ARMS, "arms", fa.get("arms", []), fb.get("arms", []), nested=interventions)
    walk.records("outcomes", OUTCOMES, "outcomes", fa.get("outcomes", []), fb.get("outcomes", []))
    if pa is not None and pb is not None:
        walk.records(
            "baseline",
            BASELINE,
            "population.baseline",
            pa.get("baseline", []),
            pb.get("baseline", []),
            parent=Slot(POPULATION, "population", pa, pb),
        )
    for section in (RESULTS, COMPARISONS, SAFETY, CLAIMS):
        walk.records(
            section.name,
            section,
            section.name,
            fa.get(section.name, []),
            fb.get(section.name, []),
        )
    walk.records(
        "concepts",
        CONCEPTS,
        "concepts",
        fa.get("concepts", []),
        fb.get("concepts", []),
        id_field="id",
    )
    ta, tb = _timepoints(fa), _timepoints(fb)
    if ta != tb:
        walk.out.append(Difference("timepoints (weeks)", ta, tb, "structure"))
    order = {k: i for i, k in enumerate(KINDS)}
    # summaries (no slot) lead their kind: "arms: a 2, b 3" before "arms[x]: only in b"
    ranked = sorted(
        enumerate(walk.out), key=lambda d: (order[d[1].kind], d[1].slot is not None, d[0])
    )
    return Comparison(a, b, [d for _, d in ranked], walk.record_slots, norm.renames)
