"""Agreement between two extractors over a set of studies: percent agreement per field,
and Cohen's kappa for the categorical ones.

Unit of comparison: one field of one record that both extractors have (records matched
as :mod:`kb.reconciliation.compare` matches them) and both filled. Fields only one
extractor filled, and records only one has, are counted separately: they are not
"agreement" or "disagreement" on a value, and kappa is defined only for paired ratings.

Cohen's kappa (Cohen 1960): ``(p_o - p_e) / (1 - p_e)``, where ``p_o`` is the observed
share of agreeing pairs and ``p_e = sum_k (a_k / n) (b_k / n)`` the agreement expected by
chance from each extractor's own category frequencies. It is undefined (``None``) when
``p_e`` is 1: both extractors used one and the same category throughout. Written out
here (a few lines) rather than taken from scikit-learn, which the project does not need
otherwise.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kb.forms import Field, kinds
from kb.reconciliation.compare import Comparison, Normaliser, compared_fields

#: Concept schemes whose values are categories a kappa is computed for.
CATEGORICAL_SCHEMES = (
    "design",
    "blinding",
    "arm-role",
    "outcome-role",
    "certainty",
    "claim-type",
    "direction",
    "effect-measure",
    "summary-statistic",
    "route",
    "source-type",
)


def is_categorical(f: Field) -> bool:
    """A single-valued field with a closed set of values: a concept of a small scheme, or a flag."""
    if f.multi:
        return False
    return f.kind is kinds.BOOL or (f.kind is kinds.CONCEPT and f.scheme in CATEGORICAL_SCHEMES)


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two raters' paired categories (``None`` when undefined).

    >>> cohen_kappa(["x", "x", "y", "y"], ["x", "y", "y", "y"])
    0.5
    """
    if len(a) != len(b):
        raise ValueError("the two raters must rate the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass
class FieldAgreement:
    """Agreement on one field pattern (``arms[].role``) over every study pair."""

    path: str
    kind: str
    categorical: bool
    a_values: list[Any] = field(default_factory=list)  # paired, normalised
    b_values: list[Any] = field(default_factory=list)
    only_one: int = 0  # filled by one extractor only
    #: a field pooling others of the table (``rob2:answers[]`` pools ``rob2:D1.answers[]``,
    #: ...): left out of the per-kind totals, which would count its pairs twice
    pooled: bool = False

    @property
    def compared(self) -> int:
        return len(self.a_values)

    @property
    def agreed(self) -> int:
        return sum(1 for x, y in zip(self.a_values, self.b_values, strict=True) if x == y)

    @property
    def percent(self) -> float | None:
        return 100 * self.agreed / self.compared if self.compared else None

    @property
    def kappa(self) -> float | None:
        return cohen_kappa(self.a_values, self.b_values) if self.categorical else None


@dataclass
class KindAgreement:
    """Agreement pooled over every field of one kind."""

    kind: str
    fields: int = 0
    compared: int = 0
    agreed: int = 0
    only_one: int = 0


@dataclass
class AgreementSummary:
    pairs: list[str]  # study ids compared
    only_a: list[str]  # study ids only in the first folder
    only_b: list[str]
    fields: list[FieldAgreement]
    unmatched_records: int  # records only one extractor has, over all pairs
    #: risk-of-bias results ("study / outcome") both folders assess (kb.reconciliation.rob)
    rob_pairs: list[str] = field(default_factory=list)
    rob_only_a: list[str] = field(default_factory=list)
    rob_only_b: list[str] = field(default_factory=list)

    def by_kind(self) -> list[KindAgreement]:
        """The fields pooled by their kind (count, decimal, concept, text, ...)."""
        kinds_seen: dict[str, KindAgreement] = {}
        for f in self.fields:
            if f.pooled:
                continue
            k = kinds_seen.setdefault(f.kind, KindAgreement(f.kind))
            k.fields += 1
            k.compared += f.compared
            k.agreed += f.agreed
            k.only_one += f.only_one
        return sorted(kinds_seen.values(), key=lambda k: k.kind)

    def as_json(self) -> dict[str, Any]:
        return {
            "studies": self.pairs,
            "only_in_a": self.only_a,
            "only_in_b": self.only_b,
            "records_only_one_extractor_has": self.unmatched_records,
            **(
                {
                    "rob_assessments": self.rob_pairs,
                    "rob_only_in_a": self.rob_only_a,
                    "rob_only_in_b": self.rob_only_b,
                }
                if self.rob_pairs
                else {}
            ),
            "kinds": [
                {
                    "kind": k.kind,
                    "fields": k.fields,
                    "compared": k.compared,
                    "agreed": k.agreed,
                    "percent_agreement": (
                        None if not k.compared else round(100 * k.agreed / k.compared, 1)
                    ),
                    "filled_by_one_only": k.only_one,
                }
                for k in self.by_kind()
            ],
            "fields": [
                {
                    "field": f.path,
                    "kind": f.kind,
                    "compared": f.compared,
                    "agreed": f.agreed,
                    "percent_agreement": None if f.percent is None else round(f.percent, 1),
                    "kappa": None if f.kappa is None else round(f.kappa, 3),
                    "filled_by_one_only": f.only_one,
                }
                for f in self.fields
            ],
        }


def _pattern(path: str, field_name: str) -> str:
    return re.sub(r"\[[^\]]*\]", "[]", path) + "." + field_name


def summarise(
    comparisons: Sequence[Comparison], vocab: Any, only_a: list[str], only_b: list[str]
) -> AgreementSummary:
    """Agreement per field pattern over the comparisons of several study pairs."""
    by_field: dict[str, FieldAgreement] = {}
    unmatched = 0
    for comparison in comparisons:
        norm = Normaliser(vocab)
        norm.renames = comparison.renames
        unmatched += sum(
            1 for d in comparison.differences if d.kind == "structure" and d.slot is not None
        )
        for slot in comparison.matched:
            assert slot.a is not None and slot.b is not None
            for f in compared_fields(slot.section):
                va, vb = slot.a.get(f.name), slot.b.get(f.name)
                if va is None and vb is None:
                    continue
                name = _pattern(slot.path, f.name)
                entry = by_field.setdefault(
                    name, FieldAgreement(name, f.kind.name, is_categorical(f))
                )
                if va is None or vb is None:
                    entry.only_one += 1
                    continue
                entry.a_values.append(norm.value(f, va, "a"))
                entry.b_values.append(norm.value(f, vb, "b"))
    fields = sorted(by_field.values(), key=lambda f: f.path)
    return AgreementSummary([c.study_id for c in comparisons], only_a, only_b, fields, unmatched)
