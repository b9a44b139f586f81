"""Step 2 of checking a form and its conversion: form -> graph of one study."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kb.forms import kinds
from kb.forms import reconciliation as rform
from kb.forms.fields import Field, Section, record_iri, study_iri
from kb.forms.kinds import RDF_TYPE, XSD
from kb.forms.schema import FormError, check_form_shape, path_text
from kb.forms.table import (
    ARMS,
    BASELINE,
    CITABLE,
    CLAIMS,
    COMPARISONS,
    CONCEPTS,
    INTERVENTIONS,
    LANG_FIELDS,
    OUTCOMES,
    POPULATION,
    RESULTS,
    SAFETY,
    SOURCES,
    STUDY,
)
from kb.forms.vocabulary import Vocabulary, expand_iri
from kb.forms.yaml_io import decimal_lexical
from kb.namespaces import RES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


@dataclass
class _Builder:
    form: dict[str, Any]
    vocab: Vocabulary
    problems: list[str] = field(default_factory=list)
    triples: list[tuple[Node, Node, Node]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.study_id: str = self.form["study"]["id"]
        self.defaults: dict[str, Any] = self.form.get("defaults", {})
        self.keys: dict[str, dict[str, list[int]]] = {}
        #: record IRI -> (form path, section), to report shape findings by field path
        self.record_paths: dict[str, tuple[list[str | int], Section]] = {}

    # -- helpers
    def add(self, s: str, p: str, o: Node) -> None:
        from rdflib import URIRef

        self.triples.append((URIRef(s), URIRef(p), o))

    def literal(self, f: Field, value: Any) -> Node:
        from rdflib import Literal, URIRef

        kind = f.kind
        if f.predicate in LANG_FIELDS:
            return Literal(value, lang="en")
        if kind is kinds.PARTIAL_DATE:
            dt = {10: "date", 7: "gYearMonth", 4: "gYear"}[len(value)]
            return Literal(value, datatype=URIRef(XSD + dt))
        if kind.datatype == XSD + "decimal":
            return Literal(decimal_lexical(value), datatype=URIRef(kind.datatype))
        if kind.datatype == XSD + "boolean":
            return Literal("true" if value else "false", datatype=URIRef(kind.datatype))
        if kind.datatype in (
            XSD + "integer",
            XSD + "positiveInteger",
            XSD + "gYear",
            XSD + "date",
            XSD + "anyURI",
        ):
            return Literal(str(value), datatype=URIRef(kind.datatype))
        return Literal(str(value))

    def key_index(self, section: str) -> dict[str, list[int]]:
        return self.keys.setdefault(section, {})

    def collect_keys(
        self, name: str, records: list[dict[str, Any]], path: tuple[str | int, ...]
    ) -> None:
        index = self.key_index(name)
        for i, record in enumerate(records):
            key = record.get("key")
            if key is None:
                continue
            if key in index:
                first = index[key][0]
                self.problems.append(
                    f"{path_text([*path, i, 'key'])}: {key!r} is already the key of "
                    f"{path_text([*path, first])}"
                )
            index.setdefault(key, []).append(i)

    def resolve_ref(self, f: Field, value: str, path: list[str | int]) -> str | None:
        assert f.ref is not None
        if f.ref == "study":
            return study_iri(value)
        names = {"source": "sources", "arm": "arms", "outcome": "outcomes"}
        index = self.key_index(names[f.ref])
        if value not in index:
            known = sorted(index)
            close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else (
                    f"; known: {', '.join(known)}" if known else f"; no {names[f.ref]} are defined"
                )
            )
            self.problems.append(f"{path_text(path)}: no {f.ref} with key {value!r}{hint}")
            return None
        return record_iri(self.study_id, f.ref, value)

    def resolve_record_ref(self, value: str, path: list[str | int]) -> str | None:
        if "/" in value:
            segment, key = value.split("/", 1)
            section = CITABLE.get(segment)
            if section is None:
                self.problems.append(
                    f"{path_text(path)}: {segment!r} is not a kind of record; use result/KEY, "
                    "comparison/KEY or safety/KEY"
                )
                return None
            index = self.key_index(section.name)
            if key not in index:
                self.problems.append(f"{path_text(path)}: no {segment} with key {key!r}")
                return None
            return record_iri(self.study_id, segment, key)
        hits = [s for s in (RESULTS, COMPARISONS, SAFETY) if value in self.key_index(s.name)]
        if len(hits) == 1:
            return record_iri(self.study_id, hits[0].segment, value)
        if not hits:
            self.problems.append(
                f"{path_text(path)}: no result, comparison or safety finding with key {value!r}"
            )
        else:
            options = " or ".join(f"{s.segment}/{value}" for s in hits)
            self.problems.append(f"{path_text(path)}: {value!r} is ambiguous; write {options}")
        return None

    def values(
        self, subject: str, section: Section, record: dict[str, Any], path: list[str | int]
    ) -> None:
        from rdflib import URIRef

        for f in section.all_fields:
            if f.predicate is None or f.name not in record:
                continue
            raw = record[f.name]
            items = raw if f.multi else [raw]
            for i, value in enumerate(items):
                vpath = [*path, f.name, i] if f.multi else [*path, f.name]
                obj: Node | None
                if f.kind is kinds.CONCEPT:
                    assert f.scheme is not None
                    try:
                        obj = URIRef(self.vocab.resolve(value, f.scheme))
                    except ValueError as exc:
                        self.problems.append(f"{path_text(vpath)}: {exc}")
                        obj = None
                elif f.kind is kinds.REF:
                    target = self.resolve_ref(f, value, vpath)
                    obj = URIRef(target) if target else None
                elif f.kind is kinds.RECORD_REF:
                    target = self.resolve_record_ref(value, vpath)
                    obj = URIRef(target) if target else None
                elif f.kind is kinds.IRI or f.kind is kinds.SCHEME:
                    from kb import concepts as kc

                    iri = kc.SCHEMES.get(value) if f.kind is kinds.SCHEME else None
                    iri = iri or expand_iri(value)
                    if iri is None:
                        self.problems.append(
                            f"{path_text(vpath)}: {value!r} is neither a CURIE with a known "
                            "prefix nor an http(s) IRI"
                        )
                        obj = None
                    else:
                        obj = URIRef(iri)
                else:
                    obj = self.literal(f, value)
                if obj is not None:
                    self.add(subject, f.predicate, obj)

    def record(
        self, subject: str, section: Section, record: dict[str, Any], path: list[str | int]
    ) -> None:
        from rdflib import URIRef

        self.add(subject, RDF_TYPE, URIRef(section.rdf_class))
        self.record_paths[subject] = (path, section)
        if section.extracted:
            record = {**{k: v for k, v in self.defaults.items() if k not in record}, **record}
            if "source" not in record:
                self.problems.append(
                    f"{path_text([*path, 'source'])}: every record needs a source; give one here "
                    "or in defaults.source"
                )
        self.values(subject, section, record, path)

    # -- the whole form
    def build(self) -> None:
        from rdflib import URIRef

        form = self.form
        sid = self.study_id
        s_iri = study_iri(sid)
        for section in (SOURCES, ARMS, OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            self.collect_keys(section.name, form.get(section.name, []), (section.name,))
        population = form.get("population")
        baseline = population.get("baseline", []) if population else []
        self.collect_keys("baseline", baseline, ("population", "baseline"))

        self.record(s_iri, STUDY, form["study"], ["study"])
        if form["study"].get("id") in form["study"].get("possibly_related_to", []):
            self.problems.append("study.possibly_related_to: a study cannot be related to itself")
        for i, source in enumerate(form.get("sources", [])):
            iri = record_iri(sid, "source", source["key"])
            self.add(s_iri, SOURCES.link, URIRef(iri))
            self.record(iri, SOURCES, source, ["sources", i])
        if population:
            p_iri = record_iri(sid, "population")
            self.add(s_iri, POPULATION.link, URIRef(p_iri))
            self.record(p_iri, POPULATION, population, ["population"])
            for i, bc in enumerate(baseline):
                iri = record_iri(sid, "baseline", bc["key"])
                self.add(p_iri, BASELINE.link, URIRef(iri))
                self.record(iri, BASELINE, bc, ["population", "baseline", i])
        for i, arm in enumerate(form.get("arms", [])):
            a_iri = record_iri(sid, "arm", arm["key"])
            self.add(s_iri, ARMS.link, URIRef(a_iri))
            self.record(a_iri, ARMS, arm, ["arms", i])
            interventions = arm.get("interventions", [])
            seen: set[str] = set()
            for j, iv in enumerate(interventions):
                path: list[str | int] = ["arms", i, "interventions", j]
                key = iv.get("key")
                if len(interventions) > 1 and key is None:
                    self.problems.append(
                        f"{path_text([*path, 'key'])}: is required when an arm has more than one "
                        "intervention"
                    )
                    continue
                if key is not None and key in seen:
                    self.problems.append(
                        f"{path_text([*path, 'key'])}: {key!r} is used twice in this arm"
                    )
                    continue
                if key is not None:
                    seen.add(key)
                iv_iri = f"{a_iri}/intervention" if key is None else f"{a_iri}/intervention/{key}"
                self.add(a_iri, INTERVENTIONS.link, URIRef(iv_iri))
                self.record(iv_iri, INTERVENTIONS, iv, path)
        for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            for i, rec in enumerate(form.get(section.name, [])):
                iri = record_iri(sid, section.segment, rec["key"])
                self.add(s_iri, section.link, URIRef(iri))
                self.record(iri, section, rec, [section.name, i])
        for i, comp in enumerate(form.get("comparisons", [])):
            if "experimental_arm" in comp and comp.get("experimental_arm") == comp.get(
                "comparator_arm"
            ):
                self.problems.append(
                    f"comparisons[{i}].comparator_arm: must differ from experimental_arm"
                )
        for i, concept in enumerate(form.get("concepts", [])):
            concept_iri = expand_iri(concept["id"])
            if concept_iri is None:
                self.problems.append(
                    f"concepts[{i}].id: {concept['id']!r} is neither a CURIE with a known prefix "
                    "nor an http(s) IRI"
                )
                continue
            if concept_iri.startswith(str(RES)):
                self.problems.append(
                    f"concepts[{i}].id: concepts may not live under the resource namespace"
                )
                continue
            scheme = concept["scheme"]
            from kb import concepts as kc

            concept = {**concept, "scheme": kc.SCHEMES.get(scheme, scheme)}
            self.record(concept_iri, CONCEPTS, concept, ["concepts", i])
        if "reconciliation" in form:
            self.reconciliation(s_iri, form["reconciliation"])

    def reconciliation(self, s_iri: str, recon: dict[str, Any]) -> None:
        """The ``reconciliation:`` part (see :mod:`kb.forms.reconciliation`)."""
        from rdflib import URIRef

        r_iri = record_iri(self.study_id, "reconciliation")
        self.add(s_iri, rform.RECONCILIATION.link, URIRef(r_iri))
        self.record(r_iri, rform.RECONCILIATION, recon, ["reconciliation"])
        extractions: dict[str, str] = {}
        for i, ex in enumerate(recon.get("extractions", [])):
            path: list[str | int] = ["reconciliation", "extractions", i]
            if ex["key"] in extractions:
                self.problems.append(f"{path_text([*path, 'key'])}: {ex['key']!r} is used twice")
                continue
            extractions[ex["key"]] = x_iri = record_iri(self.study_id, "extraction", ex["key"])
            self.add(r_iri, rform.EXTRACTIONS.link, URIRef(x_iri))
            self.record(x_iri, rform.EXTRACTIONS, ex, path)
        seen: set[str] = set()
        for i, decision in enumerate(recon.get("decisions", [])):
            path = ["reconciliation", "decisions", i]
            if decision["key"] in seen:
                self.problems.append(
                    f"{path_text([*path, 'key'])}: {decision['key']!r} is used twice"
                )
                continue
            seen.add(decision["key"])
            d_iri = f"{r_iri}/decision/{decision['key']}"
            self.add(r_iri, rform.DECISIONS.link, URIRef(d_iri))
            self.record(d_iri, rform.DECISIONS, decision, path)
            for x_iri in extractions.values():
                self.add(d_iri, rform.WAS_DERIVED_FROM, URIRef(x_iri))
            found = rform.locate(self.form, decision["path"])
            if found is not None:
                target, section, _, name = found
                self.add(d_iri, rform.DECIDED_RECORD, URIRef(target))
                predicate = section.field(name).predicate if name else None
                if name and predicate is not None:
                    self.add(d_iri, rform.DECIDED_PROPERTY, URIRef(predicate))
            for j, cand in enumerate(decision.get("candidates", [])):
                cpath = [*path, "candidates", j]
                x_iri = extractions.get(cand["extraction"], "")
                if not x_iri:
                    self.problems.append(
                        f"{path_text([*cpath, 'extraction'])}: no extraction with key "
                        f"{cand['extraction']!r} in reconciliation.extractions"
                    )
                    continue
                c_iri = f"{d_iri}/candidate/{cand['extraction']}"
                self.add(d_iri, rform.CANDIDATES.link, URIRef(c_iri))
                self.add(c_iri, rform.FROM_EXTRACTION, URIRef(x_iri))
                self.record(c_iri, rform.CANDIDATES, cand, cpath)


@dataclass
class ConvertedForm:
    """A form turned into RDF: the study id, its graph, and where each record sits in the form."""

    study_id: str
    graph: Graph
    record_paths: dict[str, tuple[list[str | int], Section]]

    def field_path(self, focus: str, predicate: str | None) -> str | None:
        """The form path of a record's field (``results[0].events``), or ``None`` if unknown."""
        if focus not in self.record_paths:
            return None
        path, section = self.record_paths[focus]
        if predicate:
            for f in section.all_fields:
                if f.predicate == predicate:
                    return path_text([*path, f.name])
        return path_text(path)


def form_to_graph(data: Any, vocab: Vocabulary, origin: str = "<form>") -> ConvertedForm:
    """Check a parsed form and turn it into the graph of its study.

    :raises FormError: every problem found (shape, keys, references, concepts), each with its
        field path.
    """
    from rdflib import Graph

    form = check_form_shape(data, origin)
    vocab = vocab.with_declared(form.get("concepts", []))
    builder = _Builder(form, vocab)
    builder.build()
    if builder.problems:
        raise FormError(origin, list(dict.fromkeys(builder.problems)))
    graph = Graph()
    for triple in builder.triples:
        graph.add(triple)
    return ConvertedForm(builder.study_id, graph, builder.record_paths)
