"""rdflib terms built fast, for results read in bulk (embedded store, remote store, cache).

rdflib's ``Literal`` and ``URIRef`` constructors check and cast every value;
for an ``xsd:string`` and for an IRI that a store already parsed those checks
change nothing and cost most of the time of turning a large result into rdflib
terms. Only rdflib here (no store), so :mod:`kb.remote` can use it without
loading Oxigraph.
"""

from __future__ import annotations

from rdflib import Literal, URIRef

#: The datatype IRI of a plain string literal (RDF 1.1: a literal without a language).
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_XSD_STRING_IRI = URIRef(XSD_STRING)


def _fast_string_literal(text: str) -> Literal:
    # What Literal(text, datatype=XSD.string) builds, without its checks and casts
    # (for xsd:string they leave the text as it is): three times faster, and plain
    # strings are most cells of most results. Used only if it matches rdflib's own
    # result (checked below, once, when this module loads).
    inst = str.__new__(Literal, text)
    inst._language = None
    inst._datatype = _XSD_STRING_IRI
    inst._value = text
    inst._ill_typed = False
    return inst


def _same_literal(a: Literal, b: Literal) -> bool:
    return (
        a == b
        and hash(a) == hash(b)
        and str(a) == str(b)
        and a.value == b.value
        and a.datatype == b.datatype
        and a.language == b.language
        and a.ill_typed == b.ill_typed
        and a.n3() == b.n3()
    )


def _slow_string_literal(text: str) -> Literal:
    return Literal(text, datatype=_XSD_STRING_IRI)


try:
    _FAST_OK = all(
        _same_literal(_fast_string_literal(s), _slow_string_literal(s))
        for s in ("", "a b", " x\n", "é\x1f1")
    )
except Exception:  # an rdflib without these slots: use its constructor
    _FAST_OK = False
#: ``Literal(text, datatype=xsd:string)``, fast.
string_literal = _fast_string_literal if _FAST_OK else _slow_string_literal


def iri(value: str) -> URIRef:
    """``URIRef(value)`` for an IRI known to be valid (from Oxigraph, or written by
    this package): URIRef's own constructor only adds a validity check that logs."""
    return str.__new__(URIRef, value)
