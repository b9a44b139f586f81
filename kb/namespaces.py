"""IRIs and prefixes used across the package, in one place."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

EKB = Namespace("https://w3id.org/evidence-kb/ontology#")
RES = Namespace("https://w3id.org/evidence-kb/resource/")
VOCAB = Namespace("https://w3id.org/evidence-kb/vocab/")
COND = Namespace(VOCAB + "condition/")
AGENT = Namespace(VOCAB + "agent/")
OUTC = Namespace(VOCAB + "outcome/")
DESIGN = Namespace(VOCAB + "design/")
SRCTYPE = Namespace(VOCAB + "source-type/")
TERM = Namespace(VOCAB + "term/")
SCHEMA = Namespace("https://schema.org/")
PICO = Namespace("http://data.cochrane.org/ontologies/pico/")
FHIR = Namespace("http://hl7.org/fhir/")
BIBO = Namespace("http://purl.org/ontology/bibo/")

#: Every XSD datatype whose values are whole numbers (an exporter writes them as integers).
XSD_INTEGER_TYPES: frozenset[str] = frozenset(
    f"{XSD}{name}"
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
)

#: Prefixes bound in every graph we write and accepted as CURIEs on the command line.
PREFIXES: dict[str, str] = {
    "ekb": str(EKB),
    "res": str(RES),
    "cond": str(COND),
    "agent": str(AGENT),
    "outc": str(OUTC),
    "design": str(DESIGN),
    "srctype": str(SRCTYPE),
    "term": str(TERM),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "sh": str(SH),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "schema": str(SCHEMA),
    "bibo": str(BIBO),
}


def sparql_prefix_block() -> str:
    """``PREFIX`` lines for every prefix in :data:`PREFIXES`."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def study_iri(study_id: str) -> str:
    """The IRI of a study from its local id.

    >>> study_iri("il2-refractory-ln-2021")
    'https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021'
    """
    return f"{RES}study/{study_id}"


def shorten(iri: str) -> str:
    """A readable form of an IRI: resource IRIs lose their base, others become CURIEs.

    >>> shorten("https://w3id.org/evidence-kb/resource/study/x/arm/a")
    'study/x/arm/a'
    >>> shorten("https://w3id.org/evidence-kb/ontology#events")
    'ekb:events'
    """
    if iri.startswith(str(RES)):
        return iri[len(RES) :]
    best = ""
    best_prefix = ""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(base) > len(best):
            best, best_prefix = base, prefix
    if best:
        return f"{best_prefix}:{iri[len(best) :]}"
    return iri
