"""Canned SPARQL queries: the catalogue, parameters, binding and running.

Each query is one ``queries/<name>.rq`` file, plain SPARQL with a YAML header on
``#+ `` comment lines (the grlc convention)::

    #+ summary: Results for one outcome across studies
    #+ params:
    #+   - {name: outcome, type: concept, scheme: outcome, required: true,
    #+      variable: outcome_concept}
    #+ columns: [study, arm, events, total, source]
    #+ lists: {sources: "; "}
    #+ tags: [outcomes]

A parameter binds one SPARQL variable (``variable``, default the parameter's name
with ``-`` turned into ``_``). Values are bound as RDF terms through a ``VALUES``
block of escaped terms inserted at the top of the query's outermost ``WHERE``
group, never pasted into the text, so a value with quotes, braces, ``#`` or line
breaks cannot change the query; the same text runs on Oxigraph and on any remote
SPARQL 1.1 endpoint. A parameter left out (and without a default) leaves its
variable unbound: the query is written so that this means "any".

List cells: SPARQL leaves the order of ``GROUP_CONCAT`` items to the engine
(Oxigraph in memory, on disk and as a server all differ), so a canned query
joins its items with :data:`LIST_SEPARATOR` (``separator="\\u001F"``) and
declares the column under ``lists`` with the separator readers see.
:func:`run_query` splits such a cell, sorts the items and joins them with the
declared separator, so every engine gives the same bytes, and an item that
itself holds ``"; "`` is never cut apart.

Parameter types:

``concept``
    a label, synonym, CURIE or IRI, resolved through the vocabularies
    (:mod:`kb.concepts`), and bound to the concept and every narrower concept;
``study``
    a study id (``il2-refractory-ln-2021``), ``res:`` CURIE or IRI; it must exist;
``review``
    a review id (``il2-sle-ln-worked-example``), ``res:`` CURIE or IRI; it must exist
    (reviews are loaded beside the studies, see :mod:`kb.sysreview`);
``string``, ``integer``, ``decimal``, ``iri``
    a typed literal or an IRI (a CURIE with a known prefix is expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb import paths
from kb.errors import CouldNotRun, UsageError
from kb.namespaces import PREFIXES, RES
from kb.sparql_terms import (  # re-exported: callers import the term helpers from here too
    _IRI_FORBIDDEN,
    expand_curie,
    looks_like_iri,
    sparql_iri,
    sparql_literal,
    sparql_string,
    to_iri,
)
from kb.text import did_you_mean

if TYPE_CHECKING:
    from rdflib.term import Identifier

    from kb.store import QueryResult, Store

XSD = "http://www.w3.org/2001/XMLSchema#"

PARAM_TYPES = ("concept", "study", "review", "string", "integer", "decimal", "iri")
HEADER_KEYS = {"summary", "description", "params", "columns", "lists", "tags", "per-study"}
#: What canned queries join GROUP_CONCAT items with (U+001F, the unit separator),
#: so that :func:`run_query` can sort them; see the module docstring.
LIST_SEPARATOR = "\x1f"
PARAM_KEYS = {"name", "type", "required", "default", "scheme", "description", "variable"}

_WHERE_OPEN = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")

# ---------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Param:
    """One declared parameter of a canned query."""

    name: str
    type: str
    required: bool = False
    default: str | None = None
    scheme: str | None = None
    description: str = ""
    variable: str = ""

    def describe(self) -> str:
        """``condition (concept: condition, optional)`` — for listings and messages."""
        kind = f"{self.type}: {self.scheme}" if self.scheme else self.type
        need = "required" if self.required else "optional"
        if self.default is not None:
            need += f", default {self.default}"
        return f"{self.name} ({kind}, {need})"


@dataclass(frozen=True)
class CannedQuery:
    """A parsed ``.rq`` file."""

    name: str
    path: Path
    summary: str
    description: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    tags: tuple[str, ...]
    text: str = field(repr=False)
    #: list columns (GROUP_CONCAT cells) -> the separator shown between their sorted items
    lists: dict[str, str] = field(default_factory=dict)
    #: the column holding each row's study, when every row belongs to one study and
    #: depends only on its file, the vocabularies and the reviews (see kb.query_cache)
    per_study: str | None = None

    def param(self, name: str) -> Param:
        """The parameter ``name``.

        :raises UsageError: no such parameter; suggests the nearest name.
        """
        for p in self.params:
            if p.name == name:
                return p
        names = [p.name for p in self.params]
        hint = did_you_mean(name, names)
        listing = ", ".join(names) if names else "none"
        raise UsageError(
            f"query {self.name!r} has no parameter {name!r}.{hint} Its parameters: {listing}"
        )


def parse_header(text: str, origin: str = "<query>") -> dict[str, Any]:
    """The YAML header of a query: every leading ``#+`` line, without the marker.

    :raises CouldNotRun: the header is not valid YAML or not a mapping.
    """
    import yaml

    lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip() and not line.startswith("#"):
            break
    try:
        header = yaml.safe_load("\n".join(lines)) if lines else {}
    except yaml.YAMLError as exc:
        raise CouldNotRun(f"{origin}: the #+ header is not valid YAML: {exc}") from exc
    if header is None:
        header = {}
    if not isinstance(header, dict):
        raise CouldNotRun(f"{origin}: the #+ header must be a YAML mapping")
    return header


def load_query_file(path: Path) -> CannedQuery:
    """Parse one ``.rq`` file into a :class:`CannedQuery`.

    :raises CouldNotRun: unreadable file, or a header with unknown keys or malformed params.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CouldNotRun(f"{path}: cannot read: {exc.strerror}") from exc
    header = parse_header(text, str(path))
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise CouldNotRun(
            f"{path}: unknown header keys {sorted(unknown)}; known: {sorted(HEADER_KEYS)}"
        )
    params = []
    for raw in header.get("params") or []:
        if not isinstance(raw, dict) or "name" not in raw or "type" not in raw:
            raise CouldNotRun(f"{path}: each param needs at least a name and a type: {raw!r}")
        extra = set(raw) - PARAM_KEYS
        if extra:
            raise CouldNotRun(f"{path}: param {raw['name']!r} has unknown keys {sorted(extra)}")
        if raw["type"] not in PARAM_TYPES:
            raise CouldNotRun(f"{path}: param {raw['name']!r} has unknown type {raw['type']!r}")
        name = str(raw["name"])
        default = raw.get("default")
        params.append(
            Param(
                name=name,
                type=str(raw["type"]),
                required=bool(raw.get("required", False)),
                default=None if default is None else str(default),
                scheme=raw.get("scheme"),
                description=str(raw.get("description", "")),
                variable=str(raw.get("variable") or name.replace("-", "_")),
            )
        )
    columns = tuple(header.get("columns") or ())
    lists = header.get("lists") or {}
    if not isinstance(lists, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in lists.items()
    ):
        raise CouldNotRun(
            f'{path}: lists must map column names to separators, e.g. {{sources: "; "}}'
        )
    undeclared = sorted(set(lists) - set(columns))
    if undeclared:
        raise CouldNotRun(f"{path}: lists names columns the query does not declare: {undeclared}")
    per_study = header.get("per-study")
    if per_study is not None and per_study not in columns:
        raise CouldNotRun(f"{path}: per-study names a column the query does not declare")
    return CannedQuery(
        name=path.stem,
        path=path,
        summary=str(header.get("summary", "")).strip(),
        description=str(header.get("description", "")).strip(),
        params=tuple(params),
        columns=columns,
        tags=tuple(header.get("tags") or ()),
        text=text,
        lists=dict(lists),
        per_study=None if per_study is None else str(per_study),
    )


def catalogue(directory: Path | None = None) -> dict[str, CannedQuery]:
    """Every canned query in ``directory`` (default: the shipped ``queries/``), by name."""
    directory = directory or paths.queries_dir()
    return {f.stem: load_query_file(f) for f in sorted(directory.glob("*.rq"))}


def get_query(name: str, directory: Path | None = None) -> CannedQuery:
    """One canned query by name.

    :raises UsageError: no such query; suggests the nearest name.
    """
    directory = directory or paths.queries_dir()
    path = directory / f"{name}.rq"
    if "/" not in name and "\\" not in name and path.is_file():
        return load_query_file(path)
    names = sorted(f.stem for f in directory.glob("*.rq"))
    hint = did_you_mean(name, names)
    raise UsageError(f"no canned query {name!r}.{hint} `ekb queries` lists them.")


# ---------------------------------------------------------------------------
# Binding


def _terms_for(store: Store, query: CannedQuery, param: Param, value: str) -> list[str]:
    """The SPARQL terms a parameter value binds to."""
    value = value.strip()
    if param.type == "concept":
        from kb.concepts import resolve_with_narrower

        return [sparql_iri(iri) for iri in resolve_with_narrower(store, value, param.scheme)]
    if param.type == "study":
        return [sparql_iri(resolve_study(store, value))]
    if param.type == "review":
        return [sparql_iri(resolve_review(store, value))]
    if param.type == "iri":
        return [sparql_iri(to_iri(value))]
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise UsageError(
                f"parameter {param.name!r} of {query.name!r} must be a whole number, not {value!r}"
            )
        return [sparql_literal(str(int(value)), XSD + "integer")]
    if param.type == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise UsageError(
                f"parameter {param.name!r} of {query.name!r} must be a number, not {value!r}"
            )
        text = format(number, "f")
        if "." not in text:
            text += ".0"
        return [sparql_literal(text, XSD + "decimal")]
    return [sparql_string(value)]


def resolve_study(store: Store, text: str) -> str:
    """The IRI of a study named by its id, ``res:study/<id>`` CURIE or IRI.

    :raises UsageError: no such study in the knowledge base; suggests the nearest id.
    """
    text = text.strip()
    if looks_like_iri(text) or expand_curie(text):
        iri = to_iri(text)
    else:
        if not text or _IRI_FORBIDDEN.search(text):
            raise UsageError(f"not a study id: {text!r}")
        iri = f"{RES}study/{text}"
    ekb = PREFIXES["ekb"]
    if store.ask(f"ASK {{ {sparql_iri(iri)} a <{ekb}Study> }}"):
        return iri
    result = store.select(f"SELECT ?id WHERE {{ ?s a <{ekb}Study> ; <{ekb}studyId> ?id }}")
    ids = sorted(str(row["id"]) for row in result.rows if "id" in row)
    hint = did_you_mean(text.rsplit("/", 1)[-1], ids)
    raise UsageError(
        f"no study {text!r} in the knowledge base.{hint} `ekb query studies` lists them."
    )


def resolve_review(store: Store, text: str) -> str:
    """The IRI of a review named by its id, ``res:review/<id>`` CURIE or IRI.

    :raises UsageError: no such review in the knowledge base; lists the reviews there are.
    """
    text = text.strip()
    if looks_like_iri(text) or expand_curie(text):
        iri = to_iri(text)
    else:
        if not text or _IRI_FORBIDDEN.search(text):
            raise UsageError(f"not a review id: {text!r}")
        iri = f"{RES}review/{text.removeprefix('review/')}"
    ekb = PREFIXES["ekb"]
    if store.ask(f"ASK {{ {sparql_iri(iri)} a <{ekb}Review> }}"):
        return iri
    result = store.select(f"SELECT ?id WHERE {{ ?r a <{ekb}Review> ; <{ekb}reviewId> ?id }}")
    ids = sorted(str(row["id"]) for row in result.rows if "id" in row)
    hint = did_you_mean(text.rsplit("/", 1)[-1], ids)
    known = f" Reviews: {', '.join(ids)}." if ids else " The knowledge base has no reviews."
    raise UsageError(f"no review {text!r} in the knowledge base.{hint}{known}")


def where_insert_position(text: str) -> int:
    """The offset just after the ``{`` of the outermost ``WHERE`` group.

    Comment lines are skipped; canned queries must spell out ``WHERE``.

    :raises CouldNotRun: the query has no ``WHERE {``.
    """
    offset = 0
    for line in text.splitlines(keepends=True):
        if not line.lstrip().startswith("#"):
            match = _WHERE_OPEN.search(line)
            if match:
                return offset + match.end()
        offset += len(line)
    raise CouldNotRun("a canned query must have a `WHERE {` group for its parameters")


def bind(store: Store, query: CannedQuery, params: dict[str, str]) -> str:
    """The query text with its parameters bound through ``VALUES`` blocks.

    :raises UsageError: unknown parameter, missing required parameter or a bad value.
    """
    for name in params:
        query.param(name)  # raises with a suggestion
    blocks = []
    bound: dict[str, list[str]] = {}
    for param in query.params:
        value = params.get(param.name)
        if value is None:
            value = param.default
        if value is None:
            if param.required:
                raise UsageError(
                    f"query {query.name!r} needs -p {param.name}=VALUE ({param.describe()})"
                )
            continue
        if not value.strip():
            raise UsageError(f"parameter {param.name!r} of {query.name!r} is empty")
        bound[param.variable] = _terms_for(store, query, param, value)
    text = _rewrite_optional_filters(query.text, bound)
    # A variable used only in optional-parameter idioms is bound inside their
    # rewritten joins; a top-level VALUES as well would only multiply the rows
    # (by the number of narrower concepts) before DISTINCT.
    left = {m["var"] for m in _OPTIONAL_FILTER.finditer(text)}
    for variable, terms in bound.items():
        if variable in left or _used_outside_optional_filters(query.text, variable):
            blocks.append(f"  VALUES ?{variable} {{ {' '.join(terms)} }}\n")
    if not blocks:
        return _VALUES_MARKER.sub("", text)
    # Oxigraph 0.5 does not push a top-level VALUES into UNION branches, so a
    # query may mark (with a "# ekb:values" line) where the bindings must be
    # repeated: pico at 1,000 studies drops from about 1 s to 10 ms.
    text = _VALUES_MARKER.sub(lambda m: "".join(m["indent"] + b.lstrip() for b in blocks), text)
    at = where_insert_position(text)
    return text[:at] + "\n" + "".join(blocks) + text[at:]


_VALUES_MARKER = re.compile(r"^(?P<indent>[ \t]*)# ekb:values[ \t]*\n", re.MULTILINE)


#: The idiom canned queries use for an optional parameter:
#: ``FILTER(!BOUND(?x) || EXISTS { pattern })`` keeps every row when ``?x`` is
#: not given, and only rows matching the pattern when it is.
_OPTIONAL_FILTER = re.compile(
    r"FILTER\(!BOUND\(\?(?P<var>\w+)\) \|\| EXISTS \{(?P<pattern>[^{}]*)\}\)"
)


def _used_outside_optional_filters(text: str, variable: str) -> bool:
    """Whether ``?variable`` occurs in ``text`` (comments aside) outside the idiom below."""
    body = "\n".join(
        line
        for line in _OPTIONAL_FILTER.sub("", text).splitlines()
        if not line.lstrip().startswith("#")
    )
    return re.search(rf"[?$]{re.escape(variable)}\b", body) is not None


def _rewrite_optional_filters(text: str, bound: dict[str, list[str]]) -> str:
    """Write the optional-parameter idiom in the form engines evaluate fast.

    Oxigraph 0.5 evaluates ``!BOUND(?x) || EXISTS {...}`` once per row of the
    whole pattern (7 s for ``safety`` at 1,000 studies). An unbound parameter's
    filter is always true, so it is dropped; a bound one becomes a join with a
    ``DISTINCT`` subquery over the variables the pattern shares with the query,
    which keeps exactly the rows EXISTS kept, each once (0.2 s). The text stays
    plain SPARQL 1.1 for every engine; the tests compare both forms' rows.
    """

    def rewrite(match: re.Match[str]) -> str:
        var, pattern = match["var"], match["pattern"].strip()
        if var not in bound:
            return ""
        shared = sorted(set(re.findall(r"\?(\w+)", pattern)) - {var})
        values = " ".join(bound[var])
        if not shared:
            return f"FILTER(EXISTS {{ VALUES ?{var} {{ {values} }} {pattern} }})"
        projection = " ".join(f"?{v}" for v in shared)
        return (
            f"{{ SELECT DISTINCT {projection} WHERE {{ VALUES ?{var} {{ {values} }} {pattern} }} }}"
        )

    return _OPTIONAL_FILTER.sub(rewrite, text)


def run_query(store: Store, name: str, params: dict[str, str] | None = None) -> QueryResult:
    """Run the canned query ``name`` with ``params`` (name -> user text).

    Rows come with their list cells tidied (:func:`sort_list_cells`) and, when the
    query orders by plain variables it returns, in that order with ties broken by
    the whole row (:mod:`kb.query_order`), the same on every store. On a
    warm-start store they may come from the result cache (:mod:`kb.query_cache`).

    :raises UsageError: unknown query or parameter, missing required parameter, bad value.
    """
    from kb import query_cache
    from kb.query_order import order_of, sort_rows
    from kb.store import EmbeddedStore, QueryResult

    query = get_query(name)
    text = bind(store, query, params or {})
    order = order_of(text, query.columns)
    if order is not None and any(v in query.lists for v, _ in order):
        order = None  # a list cell is ordered as the engine saw it, before tidying

    def finish(raw: QueryResult) -> QueryResult:
        tidy = sort_list_cells(query, raw)
        if order is None:
            return tidy
        return QueryResult(tidy.columns, sort_rows(tidy.rows, tidy.columns, order))

    if isinstance(store, EmbeddedStore) and query_cache.enabled(store):
        return query_cache.select(
            store,
            text,
            name=query.name,
            per_study=query.per_study if order is not None else None,
            order=order,
            finish=finish,
        )
    return finish(store.select(text))


def sort_list_cells(query: CannedQuery, result: QueryResult) -> QueryResult:
    """``result`` with every declared list cell's items sorted and joined for reading.

    >>> from rdflib import Literal
    >>> from kb.store import QueryResult
    >>> q = CannedQuery("q", Path("q.rq"), "", "", (), ("ids",), (), "", {"ids": "; "})
    >>> sort_list_cells(q, QueryResult(["ids"], [{"ids": Literal("b\x1fa; c")}])).rows
    [{'ids': rdflib.term.Literal('a; c; b')}]
    """
    if not query.lists:
        return result
    from rdflib import Literal

    from kb.store import XSD_STRING, QueryResult, string_literal

    rows = []
    # A list cell's tidy form depends only on the cell: repeated cells are tidied once.
    tidied: dict[Literal, Literal] = {}
    for row in result.rows:
        tidy = dict(row)
        for column, separator in query.lists.items():
            cell = row.get(column)
            if isinstance(cell, Literal):
                done = tidied.get(cell)
                if done is None:
                    items = sorted(str(cell).split(LIST_SEPARATOR), key=lambda s: (s.casefold(), s))
                    text = separator.join(items)
                    if cell.language:
                        done = Literal(text, lang=cell.language)
                    elif str(cell.datatype) == XSD_STRING:
                        done = string_literal(text)
                    else:
                        done = Literal(text, datatype=cell.datatype)
                    tidied[cell] = done
                tidy[column] = done
        rows.append(tidy)
    return QueryResult(list(result.columns), rows)


# ---------------------------------------------------------------------------
# Ad-hoc queries and statistics


def query_form(text: str, *, allow_service: bool = False) -> str:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` (see :func:`kb.store_api.query_form`).

    :raises UsageError: the text is an update (INSERT, DELETE, LOAD, CLEAR, DROP, ...), uses
        ``SERVICE`` (unless ``allow_service``), or is no query.
    """
    from kb.store_api import query_form as form_of

    return form_of(text, allow_service=allow_service)


def run_sparql(store: Store, text: str) -> QueryResult:
    """Run an ad-hoc read-only query and return rows.

    SELECT gives its own columns; ASK one row with a boolean ``result``; CONSTRUCT
    and DESCRIBE one row per triple (``subject``, ``predicate``, ``object``).

    :raises UsageError: an update, or a syntax error.
    """
    from rdflib import Literal

    from kb.store import QueryResult

    form = query_form(text, allow_service=getattr(store, "allow_service", False))
    if form == "SELECT":
        return store.select(text)
    if form == "ASK":
        return QueryResult(["result"], [{"result": Literal(store.ask(text))}])
    triples = store.construct(text)
    rows = [
        {"subject": s, "predicate": p, "object": o} for s, p, o in sorted(triples, key=_triple_key)
    ]
    return QueryResult(["subject", "predicate", "object"], rows)


def _triple_key(triple: tuple[Any, Any, Any]) -> tuple[str, ...]:
    return tuple(f"{type(t).__name__}:{t}" for t in triple)


def stats(store: Store) -> QueryResult:
    """Counts of studies, arms, outcomes, results, comparisons, safety findings, claims,
    sources and triples (the ``counts`` canned query)."""
    return run_query(store, "counts", {})


def catalogue_result(directory: Path | None = None) -> QueryResult:
    """The catalogue as rows (``name``, ``params``, ``summary``, ``tags``), for the writers."""
    from rdflib import Literal

    from kb.store import QueryResult

    rows: list[dict[str, Identifier]] = []
    for query in catalogue(directory).values():
        rows.append(
            {
                "name": Literal(query.name),
                "params": Literal("; ".join(p.describe() for p in query.params)),
                "summary": Literal(query.summary),
                "tags": Literal(", ".join(query.tags)),
            }
        )
    return QueryResult(["name", "params", "summary", "tags"], rows)


def describe(query: CannedQuery) -> str:
    """A plain-text page about one query: summary, description, parameters, columns, usage."""
    lines = [f"{query.name}: {query.summary}", ""]
    if query.description:
        import textwrap

        lines += textwrap.wrap(query.description, width=88) + [""]
    if query.params:
        lines.append("Parameters:")
        for p in query.params:
            lines.append(f"  {p.describe()}" + (f" - {p.description}" if p.description else ""))
        lines.append("")
    lines.append("Columns: " + ", ".join(query.columns))
    if query.tags:
        lines.append("Tags: " + ", ".join(query.tags))
    example = " ".join(f"-p {p.name}=VALUE" for p in query.params if p.required)
    lines += ["", f"Run: ekb query {query.name} {example}".rstrip()]
    return "\n".join(lines) + "\n"
