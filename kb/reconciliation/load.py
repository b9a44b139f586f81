"""Read one extraction: a YAML form, a Turtle study file, or a study id in the knowledge base.

Every input becomes a form (a mapping as ``ekb show -f yaml`` prints it), with blanks
dropped and the form's ``defaults:`` written into each record, so that a form and a
study file compare field for field. Forms are not required to pass the checks of
``ekb add`` here: two half-finished extractions can already be compared.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.errors import CheckFailed, UsageError
from kb.forms import (
    ARMS,
    DEFAULTABLE,
    POPULATION,
    SECTIONS,
    Vocabulary,
    graph_to_form,
    load_form_file,
    normalise_form,
)


@dataclass
class Extraction:
    """One extractor's form of a study, and who made it when."""

    form: dict[str, Any]
    origin: str  # the file or study id given
    extracted_by: str | None
    extracted_on: str | None

    @property
    def study_id(self) -> str:
        return str(self.form["study"]["id"])


def _apply_defaults(form: dict[str, Any]) -> dict[str, Any]:
    defaults = form.pop("defaults", {}) or {}
    defaults = {k: v for k, v in defaults.items() if k in DEFAULTABLE}

    def fill(record: Any) -> None:
        if isinstance(record, dict):
            for k, v in defaults.items():
                record.setdefault(k, v)

    for section in SECTIONS:
        if not section.extracted:
            continue
        value = form.get(section.name)
        for record in value if isinstance(value, list) else [value]:
            fill(record)
            if section is ARMS and isinstance(record, dict):
                for iv in record.get("interventions", []) or []:
                    fill(iv)
            if section is POPULATION and isinstance(record, dict):
                for bc in record.get("baseline", []) or []:
                    fill(bc)
    return form


def _most_common(form: dict[str, Any], name: str) -> str | None:
    seen: Counter[str] = Counter()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if name in value and isinstance(value[name], str):
                seen[value[name]] += 1
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk({k: v for k, v in form.items() if k != "reconciliation"})
    return seen.most_common(1)[0][0] if seen else None


def as_extraction(form: Any, origin: str) -> Extraction:
    """An extraction from a parsed form.

    :raises CheckFailed: not a form with a study id.
    """
    data = normalise_form(form)
    if not isinstance(data, dict) or not isinstance(data.get("study"), dict):
        raise CheckFailed(f"{origin}: not an extraction form (no study: mapping)")
    if not data["study"].get("id"):
        raise CheckFailed(f"{origin}: study.id: is required")
    data = _apply_defaults(data)
    return Extraction(
        data, origin, _most_common(data, "extracted_by"), _most_common(data, "extracted_on")
    )


def load_extraction(given: str, kb_dir: Path | None, vocab: Vocabulary) -> Extraction:
    """An extraction from a form file (``.yaml``/``.yml``), a Turtle file or a study id.

    :raises UsageError: neither a file nor a study in the knowledge base.
    :raises CouldNotRun: the file cannot be read or parsed.
    :raises kb.forms.NotAForm: the Turtle holds something a form cannot express.
    """
    from kb.kbdir import find_study_file, load_study_graph, resolve_kb

    path = Path(given)
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            raise UsageError(f"{given}: no such form file")
        return as_extraction(load_form_file(path), given)
    if path.suffix.lower() == ".ttl":
        if not path.is_file():
            raise UsageError(f"{given}: no such Turtle file")
        return as_extraction(graph_to_form(load_study_graph(path), vocab), given)
    study_path = find_study_file(resolve_kb(kb_dir), given)
    return as_extraction(graph_to_form(load_study_graph(study_path), vocab), given)
