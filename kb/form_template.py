"""The blank extraction form that ``ekb new`` prints: every field with a comment.

It is generated from the field table in :mod:`kb.forms`, so the blank form, the
JSON Schema and the converter always agree. A design (``--design``) pre-fills
the design and the arms a study of that kind usually has.
"""

from __future__ import annotations

from dataclasses import dataclass

from kb.errors import UsageError
from kb.forms import (
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
    Field,
    Section,
)

COMMENT_COLUMN = 46


@dataclass(frozen=True)
class Design:
    """What ``--design`` pre-fills."""

    label: str  # the design concept's label
    arms: tuple[tuple[str, str], ...]  # (key, role label)
    comparisons: bool


DESIGNS: dict[str, Design] = {
    "randomised": Design(
        "randomised controlled trial",
        (("experimental", "experimental"), ("control", "placebo comparator")),
        True,
    ),
    "randomised-withdrawal": Design(
        "randomised withdrawal trial",
        (("continue", "experimental"), ("withdraw", "placebo comparator")),
        True,
    ),
    "non-randomised": Design(
        "non-randomised controlled study",
        (("treated", "experimental"), ("control", "standard of care")),
        True,
    ),
    "single-arm": Design("single-arm trial", (("treated", "single arm"),), False),
    "cohort": Design("cohort study", (("exposed", "other"), ("unexposed", "other")), True),
    "case-series": Design("case series", (("treated", "single arm"),), False),
    "case-report": Design("case report", (("patient", "single arm"),), False),
}

#: Provenance fields shown in every record of the blank form (the others are listed in the header).
_SHOWN_PROVENANCE = ("source", "locator", "printed_text", "note")
_NUMBERS_PROVENANCE = ("quality_flag", "model_based", "exclude_from_meta_analysis")

_HEADER = """\
# evidence-kb study extraction form ({design}).
#
# Fill in what the source reports and leave the rest blank: a blank field means
# "not reported" and is left out. A list entry left entirely blank is ignored.
# Never compute a number the source does not print (no counts from percentages).
#
# Concepts (design, condition, agent, outcome, role, route, measure, direction,
# certainty ...) take a label, a synonym or a CURIE from the vocabularies
# (ontology/vocab/*.ttl: skos:prefLabel, skos:altLabel); an unknown label is an
# error that suggests the nearest ones. Declare a new concept under concepts:
# only when no existing one fits.
# Keys (arm, outcome, source, result ... keys) are short names of letters,
# digits and '-': they become part of each record's web address, and results,
# comparisons and safety findings refer to arms and outcomes by key.
#
# Every record (study, population, arm, intervention, outcome, result,
# comparison, safety finding, claim, baseline characteristic) also accepts the
# provenance fields: source, locator, printed_text, extracted_by, extracted_on,
# note, quality_flag, model_based, exclude_from_meta_analysis.
#
# Check and add it with:   ekb add FORM.yaml [--kb DIR]
# Editors can complete fields with the JSON Schema kb/schemas/form.schema.json.
form: ekb-study/1
"""


def _line(indent: str, name: str, value: str, help_text: str) -> str:
    text = f"{indent}{name}:" + (f" {value}" if value else "")
    pad = max(COMMENT_COLUMN - len(text), 1)
    return f"{text}{' ' * pad}# {help_text}"


def _help(f: Field) -> str:
    text = f.help
    if f.multi:
        text = f"(list) {text}"
    if f.required:
        text = f"REQUIRED. {text}"
    return text


def _record(
    section: Section, indent: str, prefill: dict[str, str], provenance: tuple[str, ...]
) -> list[str]:
    lines = []
    first = True
    for f in section.fields:
        lead = f"{indent}- " if first else f"{indent}  "
        if not section.many:
            lead = indent
        lines.append(_line(lead, f.name, prefill.get(f.name, ""), _help(f)))
        first = False
    inner = indent + ("  " if section.many else "")
    for f in section.all_fields:
        if f.name in provenance and f not in section.fields:
            lines.append(_line(inner, f.name, prefill.get(f.name, ""), f.help))
    return lines


def _section(
    section: Section, records: list[dict[str, str]], provenance: tuple[str, ...], extra: str = ""
) -> list[str]:
    head = _line("", section.name, "", section.help + (f"; {extra}" if extra else ""))
    lines = [head]
    for prefill in records or [{}]:
        lines += _record(section, "  ", prefill, provenance)
    return lines


def blank_form(design: str = "randomised") -> str:
    """The blank form for a design (a key of :data:`DESIGNS`), as YAML text with comments.

    :raises UsageError: an unknown design (lists the known ones).
    """
    if design not in DESIGNS:
        from kb.text import did_you_mean

        hint = did_you_mean(design, DESIGNS)
        raise UsageError(f"no design {design!r}.{hint} Known: {', '.join(DESIGNS)}")
    spec = DESIGNS[design]
    out = [_HEADER.format(design=design).rstrip("\n"), ""]

    out.append(_line("", "defaults", "", "provenance for every record that leaves these blank"))
    for f in DEFAULTS_FIELDS:
        value = "article" if f.name == "source" else ""
        out.append(_line("  ", f.name, value, f.help.split(";")[0]))
    out.append("")

    out.append(_line("", "study", "", STUDY.help))
    out += _record(STUDY, "  ", {"design": spec.label}, _SHOWN_PROVENANCE)
    out.append("")

    out += _section(SOURCES, [{"key": "article"}], (), "add one entry per document")
    out.append("")

    out.append(_line("", "population", "", POPULATION.help))
    out += _record(POPULATION, "  ", {}, _SHOWN_PROVENANCE)
    out.append(_line("  ", "baseline", "", BASELINE.help))
    out += _record(BASELINE, "    ", {}, _SHOWN_PROVENANCE + _NUMBERS_PROVENANCE)
    out.append("")

    out.append(_line("", "arms", "", ARMS.help))
    for key, role in spec.arms:
        out += _record(ARMS, "  ", {"key": key, "role": role}, _SHOWN_PROVENANCE)
        out.append(_line("    ", "interventions", "", INTERVENTIONS.help))
        out += _record(INTERVENTIONS, "      ", {}, _SHOWN_PROVENANCE)
    out.append("")

    out += _section(OUTCOMES, [], _SHOWN_PROVENANCE, "one entry per outcome and timepoint")
    out.append("")
    out += _section(
        RESULTS, [{}] * len(spec.arms), _SHOWN_PROVENANCE + _NUMBERS_PROVENANCE, "one entry per arm"
    )
    out.append("")
    if spec.comparisons:
        out += _section(COMPARISONS, [], _SHOWN_PROVENANCE + _NUMBERS_PROVENANCE)
    else:
        out.append(
            "comparisons: []                               # none: this design has no comparison "
            "group"
        )
    out.append("")
    out += _section(
        SAFETY,
        [{}] * len(spec.arms),
        _SHOWN_PROVENANCE + _NUMBERS_PROVENANCE,
        "one entry per arm and event",
    )
    out.append("")
    out += _section(CLAIMS, [], _SHOWN_PROVENANCE)
    out.append("")
    out += _section(CONCEPTS, [], ())
    # Written by `ekb reconcile` (kb/forms/reconciliation.py), never filled by hand.
    out += ["", "reconciliation:".ljust(COMMENT_COLUMN) + "# leave blank: ekb reconcile writes it"]
    return "\n".join(out) + "\n"
