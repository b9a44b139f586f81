"""Concepts for forms: the vocabularies plus what a form declares."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.errors import UsageError
from kb.namespaces import PREFIXES, RES

if TYPE_CHECKING:
    from kb.store import Store


def expand_iri(text: str) -> str | None:
    """A full IRI from a CURIE with a known prefix or an absolute IRI; else ``None``."""
    if re.match(r"^https?://\S+$", text):
        return text
    m = re.match(r"^([A-Za-z][A-Za-z0-9_-]*):(\S*)$", text)
    if m and m.group(1) in PREFIXES:
        return PREFIXES[m.group(1)] + m.group(2)
    return None


def curie(iri: str) -> str:
    """The shortest CURIE of an IRI with the known prefixes (the IRI itself if none)."""
    best = ""
    best_prefix = ""
    for prefix, base in PREFIXES.items():
        if iri.startswith(base) and len(base) > len(best) and base != str(RES):
            best, best_prefix = base, prefix
    if best and re.fullmatch(r"[A-Za-z0-9_.\-]*", iri[len(best) :]):
        return f"{best_prefix}:{iri[len(best) :]}"
    return iri


@dataclass
class _Declared:
    iri: str
    scheme: str
    labels: list[str]
    pref: str


class Vocabulary:
    """Concept lookup for forms: the KB's vocabularies (through :mod:`kb.concepts`) plus
    the concepts a form or study file declares.

    :param store: a store holding the vocabularies; see :meth:`for_kb`.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._declared: dict[str, _Declared] = {}
        self._display: dict[tuple[str, str], str] = {}
        self._resolved: dict[tuple[str, str], str] = {}

    @classmethod
    def for_kb(cls, kb_dir: Path | None = None) -> Vocabulary:
        """The vocabularies of a knowledge base (the shipped ones plus its own ``vocab/``)."""
        from kb.store import SCHEMA_GRAPH, EmbeddedStore, schema_files

        store = EmbeddedStore()
        store.load_files(schema_files(kb_dir), graph=SCHEMA_GRAPH)
        return cls(store)

    def with_declared(self, concepts: list[dict[str, Any]]) -> Vocabulary:
        """A copy that also knows the concepts declared in a form's ``concepts:``."""
        from kb import concepts as kc

        other = Vocabulary(self.store)
        other._resolved = self._resolved
        other._display = {}
        for c in concepts:
            iri = expand_iri(c["id"]) or c["id"]
            scheme_text = c["scheme"]
            scheme = kc.SCHEMES.get(scheme_text) or expand_iri(scheme_text) or scheme_text
            labels = [c["label"], *c.get("synonyms", [])]
            other._declared[iri] = _Declared(iri, scheme, labels, c["label"])
        return other

    def _scheme_iri(self, scheme: str) -> str:
        from kb import concepts as kc

        return kc.SCHEMES[scheme]

    def resolve(self, text: str, scheme: str) -> str:
        """The concept IRI ``text`` names within ``scheme`` (a short name of
        :data:`kb.concepts.SCHEMES`).

        :raises ValueError: unknown, ambiguous or in another scheme (the message says which).
        """
        from kb import concepts as kc

        scheme_iri = self._scheme_iri(scheme)
        wanted = " ".join(text.split()).lower()
        iri = expand_iri(text)
        declared = [
            d.iri
            for d in self._declared.values()
            if d.scheme == scheme_iri
            and (d.iri == iri or any(" ".join(lbl.split()).lower() == wanted for lbl in d.labels))
        ]
        if iri is not None and iri in self._declared:
            if self._declared[iri].scheme != scheme_iri:
                raise ValueError(f"{text} is declared in another scheme, not as a {scheme} concept")
            return iri
        key = (text, scheme)
        found: str | None = self._resolved.get(key)
        error = ""
        if found is None:
            try:
                found = kc.resolve(self.store, text, scheme)
                self._resolved[key] = found
            except UsageError as exc:
                error = str(exc)
        if found is None:
            if len(declared) == 1:
                return declared[0]
            if declared:
                raise ValueError(
                    f"{text!r} is ambiguous among the declared concepts: "
                    f"{', '.join(curie(d) for d in declared)}"
                )
            raise ValueError(error)
        if declared and found not in declared:
            raise ValueError(
                f"{text!r} is ambiguous: it could be {curie(found)} or the declared "
                f"{curie(declared[0])}"
            )
        return found

    def display(self, iri: str, scheme: str) -> str:
        """What a form shows for a concept: its preferred label when that resolves back to
        it, else its CURIE."""
        key = (iri, scheme)
        if key in self._display:
            return self._display[key]
        from kb import concepts as kc

        label = (
            self._declared[iri].pref if iri in self._declared else kc.pref_label(self.store, iri)
        )
        shown = curie(iri)
        if label and not expand_iri(label):
            try:
                if self.resolve(label, scheme) == iri:
                    shown = label
            except ValueError:
                pass
        self._display[key] = shown
        return shown
