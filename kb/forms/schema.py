"""Step 1 of checking a form: normalise it, then check it against the JSON Schema
(which is generated here from the field table)."""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed
from kb.forms import kinds
from kb.forms import reconciliation as rform
from kb.forms.fields import Field, Section
from kb.forms.table import (
    ARMS,
    BASELINE,
    CLAIMS,
    COMPARISONS,
    CONCEPTS,
    DEFAULTS_FIELDS,
    INTERVENTIONS,
    OUTCOMES,
    POPULATION,
    RESULTS,
    SAFETY,
    SOURCES,
    STUDY,
)
from kb.forms.yaml_io import decimal_lexical

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "form.schema.json"


class FormError(CheckFailed):
    """A form does not conform: every problem names its field path (exit 1)."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"{origin}: the form has {count}:\n" + "\n".join(f"  {p}" for p in problems)
        )


def field_schema(f: Field) -> dict[str, Any]:
    item = dict(f.kind.schema)
    item["description"] = f.help
    item["x-expect"] = f.kind.expect
    if f.multi:
        return {
            "type": "array",
            "items": item,
            "minItems": 1,
            "description": f.help,
            "x-expect": f"a list of {f.kind.expect}",
        }
    return item


def _record_schema(section: Section, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {f.name: field_schema(f) for f in section.all_fields}
    props.update(extra or {})
    required = [f.name for f in section.all_fields if f.required]
    schema: dict[str, Any] = {
        "type": "object",
        "description": section.help,
        "x-expect": "a mapping of fields",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _list_of(schema: dict[str, Any], what: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": schema,
        "description": schema.get("description", ""),
        "x-expect": f"a list of {what}",
    }


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the form (what ``kb/schemas/form.schema.json`` holds)."""
    interventions = _list_of(_record_schema(INTERVENTIONS), "interventions")
    baseline = _list_of(_record_schema(BASELINE), "baseline characteristics")
    defaults = {
        "type": "object",
        "description": "provenance applied to every record that leaves these fields blank",
        "x-expect": "a mapping of fields",
        "properties": {f.name: field_schema(f) for f in DEFAULTS_FIELDS},
        "additionalProperties": False,
    }
    props: dict[str, Any] = {
        "form": {
            "type": "string",
            "description": "the form's format version",
            "x-expect": "text",
            "enum": ["ekb-study/1"],
        },
        "defaults": defaults,
        "study": _record_schema(STUDY),
        "sources": {**_list_of(_record_schema(SOURCES), "sources"), "minItems": 1},
        "population": _record_schema(POPULATION, {"baseline": baseline}),
        "arms": _list_of(_record_schema(ARMS, {"interventions": interventions}), "arms"),
    }
    for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS, CONCEPTS):
        props[section.name] = _list_of(_record_schema(section), section.name)
    # -- double extraction (issue 20): how a consensus form came from two extractions
    candidates = _list_of(_record_schema(rform.CANDIDATES), "candidates")
    decisions = _list_of(_record_schema(rform.DECISIONS, {"candidates": candidates}), "decisions")
    extractions = {**_list_of(_record_schema(rform.EXTRACTIONS), "extractions"), "minItems": 2}
    props["reconciliation"] = _record_schema(
        rform.RECONCILIATION, {"extractions": extractions, "decisions": decisions}
    )
    props["reconciliation"]["required"] = ["extractions"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://w3id.org/evidence-kb/schemas/form.schema.json",
        "title": "evidence-kb study extraction form",
        "description": (
            "One study, as a reviewer extracts it. Generated from kb/forms/table.py "
            "(ekb new prints a blank form with comments)."
        ),
        "type": "object",
        "x-expect": "a mapping with study:, sources:, arms:, ...",
        "properties": props,
        "required": ["study", "sources"],
        "additionalProperties": False,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def path_text(path: Iterable[str | int]) -> str:
    """``arms[1].n`` from ``("arms", 1, "n")``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(form)"


def drop_blanks(value: Any) -> Any:
    """Blank fields mean "not reported": drop them, and mappings/lists left empty."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = drop_blanks(v)
            if v is None or v == {} or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        items = [drop_blanks(v) for v in value]
        return [v for v in items if v is not None and v != {} and v != []]
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _normalise_record(record: Any, section: Section) -> Any:
    """Numbers typed into text fields become text; a single value for a list field becomes
    a list."""
    if not isinstance(record, dict):
        return record
    by_name = {f.name: f for f in section.all_fields}
    out = dict(record)
    for name, value in record.items():
        f = by_name.get(name)
        if f is None:
            continue
        if f.multi and not isinstance(value, list | dict):
            value = [value]
        if f.kind in (kinds.TEXT, kinds.PARTIAL_DATE, kinds.DATE, kinds.KEY, kinds.REF) or (
            f.kind is kinds.CONCEPT
        ):
            if isinstance(value, list):
                value = [_as_text(v) for v in value]
            else:
                value = _as_text(value)
        out[name] = value
    return out


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def normalise_form(data: Any) -> Any:
    """The form with blanks dropped and friendly coercions applied (before the schema check)."""
    data = drop_blanks(data)
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("study"), dict):
        data["study"] = _normalise_record(data["study"], STUDY)
    if isinstance(data.get("defaults"), dict):
        fake = Section("defaults", "", "", "", DEFAULTS_FIELDS, "", extracted=False)
        data["defaults"] = _normalise_record(data["defaults"], fake)
    if isinstance(data.get("population"), dict):
        pop = _normalise_record(data["population"], POPULATION)
        if isinstance(pop.get("baseline"), list):
            pop["baseline"] = [_normalise_record(r, BASELINE) for r in pop["baseline"]]
        data["population"] = pop
    for section in (SOURCES, ARMS, OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS, CONCEPTS):
        records = data.get(section.name)
        if isinstance(records, list):
            records = [_normalise_record(r, section) for r in records]
            if section is ARMS:
                for arm in records:
                    if isinstance(arm, dict) and isinstance(arm.get("interventions"), dict):
                        arm["interventions"] = [arm["interventions"]]
                    if isinstance(arm, dict) and isinstance(arm.get("interventions"), list):
                        arm["interventions"] = [
                            _normalise_record(r, INTERVENTIONS) for r in arm["interventions"]
                        ]
            data[section.name] = records
    return data


def _schema_messages(data: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(json_schema())
    problems: list[str] = []

    def order(e: Any) -> tuple[Any, ...]:
        return (
            tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path),
            str(e.validator),
        )

    for error in sorted(validator.iter_errors(data), key=order):
        path = list(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "required":
            missing = [r for r in error.validator_value if r not in error.instance]
            for name in missing:
                problems.append(f"{path_text([*path, name])}: is required")
        elif error.validator == "additionalProperties":
            known = list(schema.get("properties", {}))
            for name in sorted(set(error.instance) - set(known)):
                close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{path_text([*path, str(name)])}: unknown field{hint}")
        elif error.validator == "minItems" and not error.instance:
            problems.append(f"{path_text(path)}: needs at least one entry")
        else:
            expect = schema.get("x-expect", "valid")
            got = error.instance
            shown = got if isinstance(got, str | int | Decimal | bool) else type(got).__name__
            if isinstance(shown, Decimal):
                shown = decimal_lexical(shown)
            problems.append(f"{path_text(path)}: must be {expect} (got {shown!r})")
    return list(dict.fromkeys(problems))


def check_form_shape(data: Any, origin: str = "<form>") -> dict[str, Any]:
    """Normalise a parsed form and check it against the JSON Schema.

    :returns: the normalised form.
    :raises FormError: with one message per problem, each naming the field path.
    """
    data = normalise_form(data)
    if not isinstance(data, dict):
        raise FormError(
            origin, ["(form): must be a mapping with study:, sources:, arms:, ... (see `ekb new`)"]
        )
    problems = _schema_messages(data)
    if problems:
        raise FormError(origin, problems)
    return data
