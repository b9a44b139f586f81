"""Provenance (source, source type, locator, printed text) and caveats of every record."""

from __future__ import annotations

from typing import Any

from kb.export.tables.model import CAVEAT_SEPARATOR, LIST_SEPARATOR, Row, Selection
from kb.export.tables.reading import Graph, py
from kb.namespaces import EKB


def _decided(graph: Graph) -> dict[str, list[str]]:
    """record IRI -> the local names of its properties whose value a reconciliation decided
    (``(record)`` when the decision kept the whole record)."""
    ekb = str(EKB)
    decided: dict[str, set[str]] = {}
    for props in graph.props.values():
        for target in props.get(ekb + "decidedRecord", ()):
            for prop in props.get(ekb + "decidedProperty", ()) or {"(record)"}:
                local = str(prop).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                decided.setdefault(str(target), set()).add(local)
    return {k: sorted(v) for k, v in decided.items()}


class _Provenance:
    """Provenance and caveats of a record: the cells every row of every table carries."""

    def __init__(self, graph: Graph, selection: Selection) -> None:
        self.g = graph
        self.sel = selection
        self.decided = _decided(graph)  # values that came from a reconciliation decision
        # Every record of a study repeats its study's flags and its source's cells:
        # computed once each (at 10,000 studies, a few hundred thousand records).
        self._study_flags: dict[str, dict[str, Any]] = {}
        self._source_cells: dict[str | None, tuple[Row, str | None, bool]] = {}

    # -- provenance and caveats

    def source_of(self, record: str) -> str | None:
        src = self.g.value(record, "source")
        if src is None:
            study = self.g.study_of.get(record)
            src = self.g.value(study, "source") if study else None
        return str(src) if src is not None else None

    def source_type(self, source: str | None) -> str | None:
        return (
            str(self.g.value(source, "sourceType"))
            if source and self.g.value(source, "sourceType")
            else None
        )

    def lower_confidence(self, source: str | None) -> bool:
        st = self.source_type(source)
        return bool(st and self.g.concepts.get(st, {}).get("lower") is True)

    def provenance(self, record: str) -> Row:
        row = dict(self._source(self.source_of(record))[0])
        row["locator"] = py(self.g.value(record, "locator"))
        row["printed_text"] = py(self.g.value(record, "printedText"))
        return row

    def _source(self, src: str | None) -> tuple[Row, str | None, bool]:
        """A source's provenance cells, source-type label and lower-confidence flag."""
        cached = self._source_cells.get(src)
        if cached is not None:
            return cached
        doi = py(self.g.value(src, "doi")) if src else None
        url = py(self.g.value(src, "url")) if src else None
        if url is None and doi:
            url = f"https://doi.org/{doi}"
        st_label = self.g.label(self.source_type(src))
        cells: Row = {
            "source_title": py(self.g.value(src, "title")) if src else None,
            "source_type": st_label,
            "doi": doi,
            "url": url,
        }
        cached = self._source_cells[src] = (cells, st_label, self.lower_confidence(src))
        return cached

    def study_flags(self, study: str) -> dict[str, Any]:
        """The study's design label, single-arm, open-label and pilot flags (do not change
        the dict: it is shared by every record of the study)."""
        flags = self._study_flags.get(study)
        if flags is None:
            flags = self._study_flags[study] = self._compute_study_flags(study)
        return flags

    def _compute_study_flags(self, study: str) -> dict[str, Any]:
        design = self.g.value(study, "design")
        arms = self.g.values(study, "hasArm")
        roles = {str(self.g.value(str(a), "armRole")) for a in arms}
        single_arm = (
            str(design).endswith("/single-arm-trial")
            or len(arms) == 1
            or any(r.endswith("/single-arm") for r in roles)
        )
        blinding = self.g.value(study, "blinding")
        open_label = blinding is not None and str(blinding).endswith("/open-label")
        text = " ".join(
            str(v) for v in self.g.values(study, "designText") + self.g.values(study, "title")
        )
        return {
            "design": self.g.label(design),
            "single_arm": single_arm,
            "open_label": open_label,
            "pilot": "pilot" in text.lower(),
        }

    def caveats(self, record: str, study: str) -> tuple[str | None, dict[str, Any]]:
        flags = self.study_flags(study)
        items: list[str] = []
        if flags["design"]:
            items.append(f"design: {flags['design']}")
        if flags["pilot"]:
            items.append("pilot study")
        if flags["single_arm"]:
            items.append("single arm: no comparison group")
        if flags["open_label"]:
            items.append("open label")
        _, st_label, lower = self._source(self.source_of(record))
        if st_label:
            items.append(f"source: {st_label}")
        if lower:
            items.append("lower-confidence source")
        model_based = py(self.g.value(record, "modelBased")) is True
        if model_based:
            items.append("model-based: do not back-calculate counts")
        flags_text = [str(v) for v in self.g.values(record, "qualityFlag")]
        for q in flags_text:
            items.append(f"quality flag: {q}")
        excluded = py(self.g.value(record, "excludeFromMetaAnalysis")) is True
        if excluded:
            items.append("excluded from meta-analysis")
        items += self.reconciled(record)
        extra = {
            "design": flags["design"],
            "single_arm": flags["single_arm"],
            "open_label": flags["open_label"],
            "model_based": model_based,
            "quality_flag": LIST_SEPARATOR.join(flags_text) if flags_text else None,
            "exclude_from_meta_analysis": excluded,
            "lower_confidence": lower,
        }
        return (CAVEAT_SEPARATOR.join(items) if items else None), extra

    def reconciled(self, record: str) -> list[str]:
        """``reconciled: n`` for each value of the record that came from a decision between
        two extractions (:mod:`kb.reconciliation`)."""
        names = self.decided.get(record, [])
        return [f"reconciled: {', '.join(names)}"] if names else []

    def outcome_kept(self, outcome: str | None) -> bool:
        if self.sel.outcome_concepts is None:
            return True
        if outcome is None:
            return False
        concept = self.g.value(outcome, "outcomeConcept")
        return concept is not None and str(concept) in self.sel.outcome_concepts
