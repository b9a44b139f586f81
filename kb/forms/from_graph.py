"""graph -> form (``ekb show -f yaml``): the inverse of :mod:`kb.forms.to_graph`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from kb.errors import CheckFailed
from kb.forms import kinds
from kb.forms import reconciliation as rform
from kb.forms.fields import Field, Section
from kb.forms.kinds import RDF_TYPE, SKOS, XSD
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
from kb.forms.vocabulary import Vocabulary, curie
from kb.forms.yaml_io import decimal_lexical
from kb.namespaces import RES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node


class NotAForm(CheckFailed):
    """A study graph holds something the form cannot express (names the triple)."""


def _python_value(f: Field, node: Node, where: str) -> Any:
    from rdflib import BNode, Literal, URIRef

    if isinstance(node, BNode):
        raise NotAForm(f"{where}: a blank node cannot be shown in a form")
    kind = f.kind
    if kind in (kinds.CONCEPT, kinds.REF, kinds.RECORD_REF, kinds.IRI, kinds.SCHEME):
        if not isinstance(node, URIRef):
            raise NotAForm(f"{where}: expected an IRI, found the literal {str(node)!r}")
        return str(node)
    if not isinstance(node, Literal):
        raise NotAForm(f"{where}: expected a literal, found <{node}>")
    lexical = str(node)
    dt = str(node.datatype) if node.datatype else None
    if f.predicate in LANG_FIELDS:
        if node.language != "en" or dt:
            raise NotAForm(f"{where}: expected an English (@en) label, found {node.n3()}")
        return lexical
    if node.language:
        raise NotAForm(
            f"{where}: a language-tagged literal ({node.n3()}) cannot be shown in a form"
        )
    if kind is kinds.PARTIAL_DATE:
        allowed = {XSD + "date": 10, XSD + "gYearMonth": 7, XSD + "gYear": 4}
        if (
            dt not in allowed
            or len(lexical) != allowed[dt]
            or not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", lexical)
        ):
            raise NotAForm(
                f"{where}: expected an xsd:date, xsd:gYearMonth or xsd:gYear, found {node.n3()}"
            )
        return lexical
    expected = kind.datatype
    if expected == XSD + "string":
        expected = None
    if dt == XSD + "string":
        dt = None
    if dt != expected:
        raise NotAForm(
            f"{where}: expected {curie(expected) if expected else 'a plain string'}, found "
            f"{node.n3()}"
        )
    if dt is None or dt in (XSD + "date", XSD + "anyURI"):
        return lexical
    if dt == XSD + "boolean":
        if lexical not in ("true", "false"):
            raise NotAForm(f"{where}: not a boolean: {lexical!r}")
        return lexical == "true"
    if dt in (XSD + "integer", XSD + "positiveInteger", XSD + "gYear"):
        if not re.fullmatch(r"-?[0-9]+", lexical) or (
            len(lexical) > 1 and lexical.lstrip("-").startswith("0")
        ):
            raise NotAForm(f"{where}: {lexical!r} is not an integer in canonical form")
        return int(lexical)
    if dt == XSD + "decimal":
        try:
            value = Decimal(lexical)
        except InvalidOperation:
            raise NotAForm(f"{where}: {lexical!r} is not a decimal") from None
        if decimal_lexical(value) != lexical:
            raise NotAForm(
                f"{where}: write the decimal {lexical!r} as {decimal_lexical(value)} (canonical "
                "form)"
            )
        return value
    raise NotAForm(f"{where}: unsupported datatype {curie(dt)}")


class _Reader:
    def __init__(self, graph: Graph, vocab: Vocabulary) -> None:
        self.graph = graph
        self.vocab = vocab
        self.consumed: set[tuple[Node, Node, Node]] = set()

    def where(self, subject: Node, predicate: str | None = None) -> str:
        from kb.namespaces import shorten

        text = shorten(str(subject))
        return f"{text} {shorten(predicate)}" if predicate else text

    def objects(self, subject: Node, predicate: str) -> list[Node]:
        from rdflib import URIRef

        p = URIRef(predicate)
        found = sorted(self.graph.objects(subject, p), key=lambda n: (type(n).__name__, str(n)))
        for o in found:
            self.consumed.add((subject, p, o))
        return found

    def expect_type(self, subject: Node, rdf_class: str) -> None:
        from rdflib import URIRef

        types = self.objects(subject, RDF_TYPE)
        if URIRef(rdf_class) not in types:
            raise NotAForm(
                f"{self.where(subject)}: expected a {curie(rdf_class)}, found types "
                f"{[curie(str(t)) for t in types] or 'none'}"
            )
        if len(types) > 1:
            extra = [curie(str(t)) for t in types if str(t) != rdf_class]
            raise NotAForm(
                f"{self.where(subject)}: has extra types {extra} that a form cannot express"
            )

    def key_of(self, node: Node, prefix: str) -> str:
        iri = str(node)
        if not iri.startswith(prefix) or not kinds.KEY_RE.match(iri[len(prefix) :]):
            raise NotAForm(f"{self.where(node)}: its IRI does not follow the pattern {prefix}KEY")
        return iri[len(prefix) :]

    def fields(self, subject: Node, section: Section, skip: Iterable[str] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        skip = set(skip)
        for f in section.all_fields:
            if f.predicate is None or f.name in skip:
                continue
            values = self.objects(subject, f.predicate)
            if not values:
                continue
            where = self.where(subject, f.predicate)
            if not f.multi and len(values) > 1:
                raise NotAForm(
                    f"{where}: has {len(values)} values but the form field {f.name} holds one"
                )
            converted = [self.to_form(f, v, where) for v in values]
            if f.multi:
                converted = sorted(converted, key=str)
            out[f.name] = converted if f.multi else converted[0]
        return out

    def to_form(self, f: Field, node: Node, where: str) -> Any:
        value = _python_value(f, node, where)
        sid_prefix = f"{self.study}/"
        if f.kind is kinds.CONCEPT:
            assert f.scheme is not None
            return self.vocab.display(value, f.scheme)
        if f.kind is kinds.REF:
            if f.ref == "study":
                return self.key_of(node, f"{RES}study/")
            return self.key_of(node, f"{sid_prefix}{f.ref}/")
        if f.kind is kinds.RECORD_REF:
            rest = value[len(sid_prefix) :] if value.startswith(sid_prefix) else ""
            segment, _, key = rest.partition("/")
            if segment not in CITABLE or not key or "/" in key:
                raise NotAForm(f"{where}: {value} is not a record of this study a claim can cite")
            return f"{segment}/{key}"
        if f.kind is kinds.IRI or f.kind is kinds.SCHEME:
            return curie(value)
        return value

    def reconciliation(self, s: Node) -> dict[str, Any] | None:
        """The ``reconciliation:`` part (see :mod:`kb.forms.reconciliation`), if any."""
        nodes = self.objects(s, rform.RECONCILIATION.link)
        if not nodes:
            return None
        if len(nodes) > 1 or str(nodes[0]) != f"{self.study}/reconciliation":
            raise NotAForm(f"{self.where(s)}: one reconciliation, at {self.study}/reconciliation")
        r = nodes[0]
        self.expect_type(r, rform.RECONCILIATION.rdf_class)
        out = self.fields(r, rform.RECONCILIATION)
        extractions = []
        for node in sorted(self.objects(r, rform.EXTRACTIONS.link), key=str):
            key = self.key_of(node, f"{self.study}/extraction/")
            self.expect_type(node, rform.EXTRACTIONS.rdf_class)
            extractions.append({"key": key, **self.fields(node, rform.EXTRACTIONS, skip=["key"])})
        out["extractions"] = extractions
        decisions = []
        d_nodes = self.objects(r, rform.DECISIONS.link)
        keyed = [(self.key_of(n, f"{r}/decision/"), n) for n in d_nodes]
        # d1, d2, ..., d10 in number order
        for key, node in sorted(keyed, key=lambda kn: (len(kn[0]), kn[0])):
            self.expect_type(node, rform.DECISIONS.rdf_class)
            # derived from the path when the form is added again: read, not shown
            for predicate in (rform.WAS_DERIVED_FROM, rform.DECIDED_RECORD, rform.DECIDED_PROPERTY):
                self.objects(node, predicate)
            decision = {"key": key, **self.fields(node, rform.DECISIONS, skip=["key"])}
            candidates = []
            for c in sorted(self.objects(node, rform.CANDIDATES.link), key=str):
                self.expect_type(c, rform.CANDIDATES.rdf_class)
                sources = self.objects(c, rform.FROM_EXTRACTION)
                if len(sources) != 1:
                    raise NotAForm(f"{self.where(c)}: a candidate comes from one extraction")
                x_key = self.key_of(sources[0], f"{self.study}/extraction/")
                entry = self.fields(c, rform.CANDIDATES, skip=["extraction"])
                candidates.append({"extraction": x_key, **entry})
            if candidates:
                decision["candidates"] = candidates
            decisions.append(decision)
        if decisions:
            out["decisions"] = decisions
        return out

    def read(self) -> dict[str, Any]:
        from rdflib import URIRef

        studies = sorted(
            set(self.graph.subjects(URIRef(RDF_TYPE), URIRef(STUDY.rdf_class))), key=str
        )
        if len(studies) != 1:
            raise NotAForm(f"a study file must hold exactly one ekb:Study, found {len(studies)}")
        s = studies[0]
        self.study = str(s)
        sid = self.key_of(s, f"{RES}study/")
        form: dict[str, Any] = {"form": "ekb-study/1"}
        self.expect_type(s, STUDY.rdf_class)
        study = self.fields(s, STUDY)
        if study.get("id") != sid:
            raise NotAForm(
                f"{self.where(s)}: ekb:studyId {study.get('id')!r} does not match its IRI ({sid})"
            )
        form["study"] = {"id": sid, **{k: v for k, v in study.items() if k != "id"}}

        def children(subject: Node, section: Section, parent_prefix: str) -> list[tuple[str, Node]]:
            nodes = self.objects(subject, section.link)
            return sorted(((self.key_of(n, parent_prefix), n) for n in nodes), key=lambda kn: kn[0])

        sources = []
        for key, node in children(s, SOURCES, f"{self.study}/source/"):
            self.expect_type(node, SOURCES.rdf_class)
            sources.append({"key": key, **self.fields(node, SOURCES, skip=["key"])})
        form["sources"] = sources

        pops = self.objects(s, POPULATION.link)
        if len(pops) > 1:
            raise NotAForm(f"{self.where(s)}: a study has one population, found {len(pops)}")
        if pops:
            p = pops[0]
            if str(p) != f"{self.study}/population":
                raise NotAForm(
                    f"{self.where(p)}: the population's IRI must be {self.study}/population"
                )
            self.expect_type(p, POPULATION.rdf_class)
            population = self.fields(p, POPULATION)
            baseline = []
            for key, node in children(p, BASELINE, f"{self.study}/baseline/"):
                self.expect_type(node, BASELINE.rdf_class)
                baseline.append({"key": key, **self.fields(node, BASELINE, skip=["key"])})
            if baseline:
                population["baseline"] = baseline
            form["population"] = population

        arms = []
        for key, node in children(s, ARMS, f"{self.study}/arm/"):
            self.expect_type(node, ARMS.rdf_class)
            arm = {"key": key, **self.fields(node, ARMS, skip=["key"])}
            interventions = []
            for iv in sorted(self.objects(node, INTERVENTIONS.link), key=str):
                own = f"{node}/intervention"
                if str(iv) == own:
                    ikey = None
                else:
                    ikey = self.key_of(iv, own + "/")
                self.expect_type(iv, INTERVENTIONS.rdf_class)
                entry = self.fields(iv, INTERVENTIONS, skip=["key"])
                interventions.append({"key": ikey, **entry} if ikey else entry)
            if interventions:
                arm["interventions"] = interventions
            arms.append(arm)
        if arms:
            form["arms"] = arms

        for section in (OUTCOMES, RESULTS, COMPARISONS, SAFETY, CLAIMS):
            records = []
            for key, node in children(s, section, f"{self.study}/{section.segment}/"):
                self.expect_type(node, section.rdf_class)
                records.append({"key": key, **self.fields(node, section, skip=["key"])})
            if records:
                form[section.name] = records

        concepts = []
        skos_concept = URIRef(SKOS + "Concept")
        for node in sorted(set(self.graph.subjects(URIRef(RDF_TYPE), skos_concept)), key=str):
            self.expect_type(node, CONCEPTS.rdf_class)
            entry = self.fields(node, CONCEPTS, skip=["id"])
            concepts.append({"id": curie(str(node)), **entry})
        if concepts:
            form["concepts"] = concepts
        recon = self.reconciliation(s)
        if recon is not None:
            form["reconciliation"] = recon

        leftover = [t for t in self.graph if t not in self.consumed]
        if leftover:
            shown = "; ".join(
                f"{self.where(t[0], str(t[1]))} {t[2].n3() if hasattr(t[2], 'n3') else t[2]}"
                for t in sorted(leftover, key=lambda t: tuple(map(str, t)))[:5]
            )
            more = f" (and {len(leftover) - 5} more)" if len(leftover) > 5 else ""
            raise NotAForm(
                f"{len(leftover)} triple(s) cannot be expressed in a form: {shown}{more}"
            )
        return form


def graph_to_form(graph: Graph, vocab: Vocabulary) -> dict[str, Any]:
    """The form of one study graph: adding it back gives an isomorphic graph.

    :raises NotAForm: the graph holds something a form cannot express (names it).
    """
    concept_nodes = _declared_concepts(graph)
    reader = _Reader(graph, vocab.with_declared(concept_nodes))
    return reader.read()


def _declared_concepts(graph: Graph) -> list[dict[str, Any]]:
    """Concepts a study graph declares, as ``concepts:`` entries (for label lookups)."""
    from rdflib import URIRef

    out = []
    for node in graph.subjects(URIRef(RDF_TYPE), URIRef(SKOS + "Concept")):
        labels = [str(o) for o in graph.objects(node, URIRef(SKOS + "prefLabel"))]
        schemes = [str(o) for o in graph.objects(node, URIRef(SKOS + "inScheme"))]
        if labels and schemes:
            synonyms = [str(o) for o in graph.objects(node, URIRef(SKOS + "altLabel"))]
            out.append(
                {"id": str(node), "label": labels[0], "scheme": schemes[0], "synonyms": synonyms}
            )
    return out
