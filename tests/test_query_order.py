"""kb.query_order puts rows in the order Oxigraph gives for every canned query."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef
from synthetic import synthetic_beside_shipped

from kb import queries
from kb.query_order import order_of, parse_order_by, sort_rows, term_key
from kb.store import EmbeddedStore

_XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER, DECIMAL, STRING = (URIRef(_XSD + n) for n in ("integer", "decimal", "string"))
PARAMS = {
    "condition": "lupus",
    "intervention": "belimumab",
    "comparator": "placebo",
    "outcome": "complete renal response",
    "study": "syn-000010",
    "review": "il2-sle-ln-worked-example",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    kb = synthetic_beside_shipped(tmp_path_factory.mktemp("order-kb"), 40, 5)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EKB_CACHE", "never")
        return EmbeddedStore.open_kb(kb)


def _cases() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for name, query in sorted(queries.catalogue().items()):
        required = {p.name: PARAMS[p.name] for p in query.params if p.required}
        cases.append((name, required))
        if any(p.name == "study" for p in query.params) and not required.get("study"):
            continue
        if not required and any(p.name == "condition" for p in query.params):
            cases.append((name, {"condition": "lupus nephritis"}))
    return cases


@pytest.mark.parametrize(("name", "params"), _cases(), ids=lambda v: str(v))
def test_the_python_order_is_the_engines(
    store: EmbeddedStore, name: str, params: dict[str, str]
) -> None:
    text = queries.bind(store, queries.get_query(name), params)
    raw = store.select(text)
    order = order_of(text, raw.columns)
    if order is None:
        pytest.skip(f"{name} orders by a column it does not project")
    assert len(raw.rows) > 1, "fewer than two rows check no order"
    ours = sort_rows(raw.rows, raw.columns, order)

    def keys(rows: list[dict]) -> list[tuple]:
        return [tuple(r.get(v) for v, _ in order) for r in rows]

    assert keys(ours) == keys(raw.rows)
    # the same rows, and ties put in one order: sorting again changes nothing
    assert sorted(map(repr, ours)) == sorted(map(repr, raw.rows))
    assert sort_rows(list(reversed(ours)), raw.columns, order) == ours


def test_terms_order_as_sparql_says() -> None:
    terms = [
        None,
        BNode("b"),
        URIRef("https://example.org/a"),
        Literal(2, datatype=INTEGER),
        Literal("10", datatype=DECIMAL),
        Literal("Z", datatype=STRING),
        Literal("a", datatype=STRING),
        Literal("é", datatype=STRING),
    ]
    assert sorted(reversed(terms), key=term_key) == terms


def test_descending_keys_and_ties() -> None:
    rows = [
        {"a": Literal(1, datatype=INTEGER), "b": Literal("x", datatype=STRING)},
        {"a": Literal(2, datatype=INTEGER), "b": Literal("y", datatype=STRING)},
        {"a": Literal(2, datatype=INTEGER), "b": Literal("x", datatype=STRING)},
        {"b": Literal("w", datatype=STRING)},
    ]
    ordered = sort_rows(rows, ["a", "b"], [("a", True)])
    assert [(str(r.get("a")), str(r["b"])) for r in ordered] == [
        ("2", "x"),
        ("2", "y"),
        ("1", "x"),
        ("None", "w"),
    ]


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("SELECT ?a WHERE { } ORDER BY ?a", [("a", False)]),
        ("SELECT ?a WHERE { } ORDER BY ASC(?a) DESC( ?b )\n", [("a", False), ("b", True)]),
        ("SELECT ?a WHERE { ?a <https://x.org/#y> 1 } # a comment\nORDER BY ?a", [("a", False)]),
        ("SELECT ?a WHERE { } ORDER BY ?a LIMIT 3", None),
        ("SELECT ?a WHERE { } ORDER BY ?a OFFSET 3", None),
        ("SELECT ?a WHERE { } ORDER BY LCASE(?a)", None),
        ("SELECT ?a WHERE { }", None),
    ],
)
def test_order_by_is_read_or_refused(text: str, order: list | None) -> None:
    assert parse_order_by(text) == order


def test_a_variable_not_projected_cannot_be_ordered_here() -> None:
    assert order_of("SELECT ?a WHERE { } ORDER BY ?rank", ["a"]) is None
    assert order_of("SELECT ?a WHERE { } ORDER BY ?a", ["a"]) == [("a", False)]


def test_every_cached_query_can_be_ordered_here() -> None:
    for name, query in queries.catalogue().items():
        if query.per_study:
            assert parse_order_by(query.text) is not None, name
            assert all(v in query.columns for v, _ in parse_order_by(query.text) or []), name
