"""The mapper's state and its generic writers (triples, literals, notes, provenance)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kb.errors import CouldNotRun
from kb.importers.ctgov.concepts import ConceptIndex
from kb.importers.ctgov.parsing import _RESULTS, _concept_label, concept_key, study_id_for
from kb.importers.ctgov.reading import nct_id_of

if TYPE_CHECKING:
    from rdflib import Graph, URIRef

    from kb.importers.ctgov.matching import GroupMatch, GroupMatcher


#: Who extracted the records, written as ``ekb:extractedBy`` (no date: imports are idempotent).
EXTRACTED_BY = "evidence-kb ClinicalTrials.gov importer"


@dataclass
class ImportedStudy:
    """A record mapped to a graph, with counts for reports."""

    study_id: str
    nct_id: str
    graph: Graph
    counts: dict[str, int]
    origin: str = ""
    #: What the import summary must warn of (results groups matched to no arm).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Cell:
    """One measurement of a results measure, where it sits and what it is out of."""

    c: int
    k: int
    meas: dict[str, Any]
    path: str
    denoms: dict[str, tuple[str, str]]
    units: str | None
    class_title: str | None
    category_title: str | None


class MapperBase:
    """State of one record's mapping and the writers every step uses."""

    single_arm: bool

    def __init__(self, record: dict[str, Any], concepts: ConceptIndex) -> None:
        from rdflib import Graph, URIRef

        from kb.namespaces import PREFIXES, RES

        self.r = record
        self.concepts = concepts
        nct = nct_id_of(record)
        if nct is None:
            raise CouldNotRun("not a ClinicalTrials.gov study: no nctId")
        self.nct = nct
        self.study_id = study_id_for(nct)
        self.base = f"{RES}study/{self.study_id}"
        self.g = Graph()
        for prefix, iri in PREFIXES.items():
            self.g.bind(prefix, iri)
        self.study = URIRef(self.base)
        self.source = URIRef(f"{self.base}/source/ctgov")
        self.population = URIRef(f"{self.base}/population")
        self.notes: dict[URIRef, list[str]] = {}
        self.counts = {
            k: 0 for k in ("arms", "outcomes", "results", "comparisons", "safety", "baseline")
        }
        # arms: (label, normalised label, label without numbering, IRI, role)
        self.arms: list[tuple[str, str, str, URIRef, str]] = []
        self.arm_keys: set[str] = set()
        # Results groups: the matcher (built after the arms), the arm node of each of its
        # arms, the resolution of each module or measure, and what an import should warn of.
        self._matcher: GroupMatcher | None = None
        self.registered_arms = 0
        self.arm_nodes: list[URIRef] = []
        self.resolved: dict[str, dict[str, tuple[URIRef | None, str]]] = {}
        self.group_matches: dict[tuple[str, str], GroupMatch] = {}
        self.warnings: list[str] = []
        self.sequence_arms: dict[tuple[tuple[int | None, str | None], ...], URIRef] = {}
        self.declared: set[URIRef] = set()

    # -- generic writers -----------------------------------------------------------

    def iri(self, *parts: str) -> URIRef:
        from rdflib import URIRef

        return URIRef("/".join([self.base, *parts]))

    def add(self, s: URIRef, p: Any, o: Any) -> None:
        if o is not None:
            self.g.add((s, p, o))

    def lit(self, s: URIRef, p: Any, value: Any, datatype: Any = None) -> None:
        from rdflib import Literal
        from rdflib.namespace import XSD

        if value is None:
            return
        if isinstance(value, bool):
            self.g.add((s, p, Literal(value)))
        elif isinstance(value, int):
            self.g.add((s, p, Literal(value, datatype=datatype or XSD.integer)))
        elif isinstance(value, Decimal):
            # Plain decimal notation with a point ("12.0"), as the data model writes decimals.
            lexical = format(value, "f")
            if "." not in lexical:
                lexical += ".0"
            self.g.add((s, p, Literal(lexical, datatype=XSD.decimal)))
        else:
            text = str(value)
            if text.strip():
                self.g.add((s, p, Literal(text, datatype=datatype) if datatype else Literal(text)))

    def note(self, node: URIRef, text: str | None) -> None:
        if text:
            # Quoted registry text often ends with its own full stop.
            text = re.sub(r"([.!?])\.$", r"\1", text.strip())
            self.notes.setdefault(node, []).append(text)

    def record(
        self, node: URIRef, cls: Any, locator: str | None, printed: str | None = None
    ) -> None:
        from rdflib.namespace import RDF

        from kb.namespaces import EKB

        self.g.add((node, RDF.type, cls))
        self.g.add((node, EKB.source, self.source))
        self.lit(node, EKB.locator, locator)
        self.lit(node, EKB.printedText, printed)
        self.lit(node, EKB.extractedBy, EXTRACTED_BY)

    def flush_notes(self) -> None:
        from kb.namespaces import EKB

        for node, texts in self.notes.items():
            unique = list(dict.fromkeys(texts))
            self.lit(node, EKB.note, " ".join(unique))

    def term(self, local: str) -> URIRef:
        from rdflib import URIRef

        from kb.namespaces import TERM

        return URIRef(f"{TERM}{local}")

    def concept(self, kind: str, label: str, *alternatives: str) -> URIRef:
        """A vocabulary concept matching ``label``, or a new one declared in this file."""
        from rdflib import Literal, URIRef
        from rdflib.namespace import RDF, SKOS

        found = self.concepts.find(kind, label, *alternatives)
        if found is not None:
            return found
        scheme = self.concepts.schemes[kind]
        iri = URIRef(f"{scheme}{concept_key(label)}")
        if iri in self.concepts.known or iri in self.declared:
            return iri
        self.declared.add(iri)
        self.g.add((iri, RDF.type, SKOS.Concept))
        self.g.add((iri, SKOS.prefLabel, Literal(_concept_label(label), lang="en")))
        self.g.add((iri, SKOS.inScheme, scheme))
        return iri

    # -- sections --------------------------------------------------------------------

    def protocol(self, module: str) -> dict[str, Any]:
        value = (self.r.get("protocolSection") or {}).get(module) or {}
        return value if isinstance(value, dict) else {}

    def results(self, module: str) -> dict[str, Any]:
        value = (self.r.get(_RESULTS) or {}).get(module) or {}
        return value if isinstance(value, dict) else {}

    def checked_total(self, node: URIRef, count: int | None, total: int | None) -> int | None:
        """``total`` as a denominator of ``count``, or None (flagged) when the count exceeds it."""
        if count is not None and total is not None and count > total:
            self.flag(
                node,
                f"The count {count} is above its printed denominator {total}; the "
                "denominator is kept as printed only.",
            )
            return None
        return total

    def flag(self, node: URIRef, text: str) -> None:
        from kb.namespaces import EKB

        self.lit(node, EKB.qualityFlag, text)
        self.lit(node, EKB.excludeFromMetaAnalysis, True)
