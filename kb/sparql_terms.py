"""RDF terms as SPARQL text: escaped literals, checked IRIs, CURIEs expanded.

Below :mod:`kb.queries` and :mod:`kb.concepts`, which both build SPARQL from
user input, so neither has to import the other for these helpers.
"""

from __future__ import annotations

import re

from kb.errors import UsageError
from kb.namespaces import PREFIXES
from kb.text import quoted_string

# Characters IRIREF forbids (SPARQL 1.1 grammar, production [139]), plus controls and space.
_IRI_FORBIDDEN = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)?:([^\s]*)$")


def sparql_string(value: str) -> str:
    """A SPARQL string literal whose value is exactly ``value`` (see :func:`kb.text.quoted_string`).

    >>> sparql_string('say "hi" } #')
    '"say \\\\"hi\\\\" } #"'
    """
    return quoted_string(value)


def sparql_literal(value: str, datatype: str | None = None) -> str:
    """A (typed) literal: ``"12"^^<http://www.w3.org/2001/XMLSchema#integer>``."""
    text = sparql_string(value)
    return f"{text}^^{sparql_iri(datatype)}" if datatype else text


def sparql_iri(iri: str) -> str:
    """``<iri>``, after checking that nothing in it could end the IRI early.

    :raises UsageError: the IRI holds a character IRIs may not hold (space, ``<``, ``>``, ``"``...).
    """
    bad = _IRI_FORBIDDEN.search(iri)
    if bad or not iri:
        raise UsageError(f"not a valid IRI: {iri!r}")
    return f"<{iri}>"


def expand_curie(text: str) -> str | None:
    """The full IRI of a CURIE with a known prefix (``cond:lupus-nephritis``), else ``None``."""
    match = _CURIE.match(text)
    if not match or match.group(1) is None or match.group(1) not in PREFIXES:
        return None
    return PREFIXES[match.group(1)] + match.group(2)


def looks_like_iri(text: str) -> bool:
    """True for ``<...>`` and for absolute IRIs with a scheme such as ``https:`` or ``urn:``."""
    if text.startswith("<") and text.endswith(">"):
        return True
    return bool(re.match(r"^(https?|urn|file|ftp):", text, re.IGNORECASE))


def to_iri(text: str) -> str:
    """A user's IRI, ``<IRI>`` or CURIE as a full IRI.

    :raises UsageError: neither an absolute IRI nor a CURIE with a known prefix.
    """
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if looks_like_iri(text):
        sparql_iri(text)  # validates
        return text
    expanded = expand_curie(text)
    if expanded is None:
        known = ", ".join(sorted(PREFIXES))
        raise UsageError(f"{text!r} is neither an IRI nor a CURIE with a known prefix ({known})")
    sparql_iri(expanded)
    return expanded


__all__ = [
    "expand_curie",
    "looks_like_iri",
    "sparql_iri",
    "sparql_literal",
    "sparql_string",
    "to_iri",
]
