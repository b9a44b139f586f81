"""Canned queries: headers, parameters, binding through VALUES, and running them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb import queries
from kb.errors import CouldNotRun, UsageError
from kb.paths import queries_dir, shipped_kb_dir
from kb.store import EmbeddedStore

EKB = "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>\n"
PILOT = shipped_kb_dir() / "studies" / "il2-refractory-ln-2021.ttl"
REQUIRED_QUERIES = {
    "studies",
    "pico",
    "outcome-results",
    "safety",
    "evidence-map",
    "characteristics",
    "claims",
    "provenance",
    "missing-data",
    "meta-input",
    "head-to-head",
    "counts",
}
META_INPUT_COLUMNS = [
    "study",
    "study_title",
    "design",
    "blinding",
    "arm",
    "arm_label",
    "arm_role",
    "intervention",
    "intervention_label",
    "condition_label",
    "outcome",
    "outcome_concept",
    "outcome_label",
    "timepoint_weeks",
    "events",
    "total",
    "mean",
    "sd",
    "n",
    "subgroup",
    "analysis_population",
    "single_arm",
    "exclude",
    "quality_flag",
    "source",
    "source_type",
]
# A value for each kind of parameter that exists in the shipped vocabularies and pilot.
SAMPLE_VALUES = {
    ("concept", "condition"): "lupus",
    ("concept", "agent"): "IL-2",
    ("concept", "outcome"): "proteinuria",
    ("study", None): "il2-refractory-ln-2021",
    ("review", None): "il2-sle-ln-worked-example",  # it includes the pilot
}
CATALOGUE = queries.catalogue()


def sample_params(query: queries.CannedQuery, *, optional: bool) -> dict[str, str]:
    return {
        p.name: SAMPLE_VALUES[(p.type, p.scheme)] for p in query.params if p.required or optional
    }


@pytest.fixture(scope="module")
def pilot_store(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    kb = tmp_path_factory.mktemp("pilot-kb")
    (kb / "studies").mkdir()
    shutil.copy(PILOT, kb / "studies" / PILOT.name)
    # The worked example review (it includes the pilot), for the `review` parameter.
    shutil.copytree(shipped_kb_dir() / "reviews", kb / "reviews")
    return EmbeddedStore.open_kb(kb)


@pytest.fixture(scope="module")
def shipped_store() -> EmbeddedStore:
    return EmbeddedStore.open_kb(shipped_kb_dir())


def test_the_catalogue_holds_every_required_query() -> None:
    assert REQUIRED_QUERIES <= set(CATALOGUE)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_parses_with_rdflib_and_oxigraph(name: str) -> None:
    from rdflib.plugins.sparql import prepareQuery

    text = CATALOGUE[name].text
    prepareQuery(text)
    EmbeddedStore().select(text)  # an empty store still parses and plans the query


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_has_a_complete_header_and_an_order_by(name: str) -> None:
    query = CATALOGUE[name]
    assert query.summary and query.description and query.columns and query.tags
    assert re.search(r"^ORDER BY ", query.text, re.MULTILINE), "needs a top-level ORDER BY"
    for param in query.params:
        assert param.type in queries.PARAM_TYPES
        if param.type == "concept":
            assert param.scheme, f"{param.name}: a concept parameter names its scheme"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_group_concat_joins_with_the_list_separator_and_is_declared_as_a_list(
    name: str,
) -> None:
    query = CATALOGUE[name]
    concats = re.findall(r"GROUP_CONCAT\(.*?separator=\"(.*?)\"\)+\s*AS\s+\?(\w+)", query.text)
    assert len(concats) == query.text.count("GROUP_CONCAT")
    assert {var for _, var in concats} == set(query.lists)
    assert all(sep == "\\u001F" for sep, _ in concats)


def test_list_cells_come_back_sorted_and_joined_with_the_declared_separator(
    shipped_store: EmbeddedStore,
) -> None:
    result = queries.run_query(shipped_store, "evidence-map", {"condition": "lupus"})
    cells = [str(row["study_ids"]) for row in result.rows if "study_ids" in row]
    assert any("; " in cell for cell in cells)
    for cell in cells:
        assert queries.LIST_SEPARATOR not in cell
        assert cell.split("; ") == sorted(cell.split("; "), key=lambda s: (s.casefold(), s))


def test_a_list_item_holding_the_shown_separator_is_never_cut_apart() -> None:
    from rdflib import Literal

    from kb.store import QueryResult

    query = CATALOGUE["characteristics"]
    cell = Literal("Inclusion: adults; biopsy-proven\x1fAge 18-75")
    tidy = queries.sort_list_cells(query, QueryResult(["eligibility"], [{"eligibility": cell}]))
    assert str(tidy.rows[0]["eligibility"]) == "Age 18-75; Inclusion: adults; biopsy-proven"


def test_a_lists_header_naming_an_undeclared_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text(
        '#+ summary: x\n#+ columns: [a]\n#+ lists: {b: "; "}\n'
        "SELECT ?a WHERE { ?a ?p ?o } ORDER BY ?a\n"
    )
    with pytest.raises(CouldNotRun, match="lists names columns the query does not declare"):
        queries.load_query_file(bad)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_declared_params_are_exactly_the_variables_the_query_binds(name: str) -> None:
    query = CATALOGUE[name]
    body = query.text[queries.where_insert_position(query.text) :]
    optional_slots = set(re.findall(r"FILTER\(!BOUND\(\?(\w+)\) \|\|", body))
    declared_optional = {p.variable for p in query.params if not p.required and p.default is None}
    assert optional_slots == declared_optional
    for param in query.params:
        assert re.search(rf"\?{param.variable}\b", body), f"?{param.variable} is never used"
        assert not re.search(rf"VALUES\s+\?{param.variable}\b", query.text), (
            "bound by the file itself"
        )


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_runs_on_the_shipped_kb_with_the_columns_it_declares(
    name: str, shipped_store: EmbeddedStore
) -> None:
    query = CATALOGUE[name]
    for optional in (False, True):
        result = queries.run_query(shipped_store, name, sample_params(query, optional=optional))
        assert result.columns == list(query.columns)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_query_returns_rows_for_the_pilot(name: str, pilot_store: EmbeddedStore) -> None:
    query = CATALOGUE[name]
    if name in ("head-to-head", "study-comparisons"):
        pytest.skip("the pilot has no comparison group, so no comparisons")
    result = queries.run_query(pilot_store, name, sample_params(query, optional=True))
    assert result.rows, f"{name} found nothing for the pilot"


def test_meta_input_keeps_the_contracted_column_names() -> None:
    columns = list(CATALOGUE["meta-input"].columns)
    assert columns[: len(META_INPUT_COLUMNS)] == META_INPUT_COLUMNS


def test_meta_input_rows_for_the_pilot(pilot_store: EmbeddedStore) -> None:
    result = queries.run_query(pilot_store, "meta-input", {"outcome": "proteinuria"})
    rows = {str(r["outcome"]).rsplit("/", 1)[-1]: r for r in result.rows}
    assert set(rows) == {"proteinuria-w12", "proteinuria-improvement-50-w12"}
    binary = rows["proteinuria-improvement-50-w12"]
    assert (int(binary["events"]), int(binary["total"])) == (7, 10)
    assert binary["single_arm"].toPython() is True
    assert binary["exclude"].toPython() is False
    assert str(binary["source_type"]) == "plain-language summary"
    assert str(binary["intervention"]).endswith("agent/low-dose-interleukin-2")


def test_a_concept_parameter_matches_narrower_concepts(pilot_store: EmbeddedStore) -> None:
    # The pilot's population is refractory lupus nephritis, two steps below SLE.
    assert queries.run_query(pilot_store, "studies", {"condition": "lupus"}).rows
    assert queries.run_query(pilot_store, "studies", {"condition": "lupus nephritis"}).rows
    assert not queries.run_query(pilot_store, "studies", {"condition": "active SLE"}).rows


def test_an_optional_parameter_filters_rows(pilot_store: EmbeddedStore) -> None:
    assert queries.run_query(pilot_store, "safety", {}).rows
    assert not queries.run_query(pilot_store, "safety", {"intervention": "belimumab"}).rows


def test_unknown_query_suggests_the_nearest_name() -> None:
    with pytest.raises(UsageError, match="Did you mean 'evidence-map'"):
        queries.get_query("evidence-mpa")


def test_a_query_name_cannot_reach_outside_the_queries_folder() -> None:
    with pytest.raises(UsageError, match="no canned query"):
        queries.get_query("../queries/studies")


def test_unknown_parameter_suggests_the_nearest_name(pilot_store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="Did you mean 'condition'"):
        queries.run_query(pilot_store, "evidence-map", {"conditon": "lupus"})


def test_missing_required_parameter_is_a_usage_error(pilot_store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="needs -p outcome=VALUE"):
        queries.run_query(pilot_store, "outcome-results", {})


def test_an_unknown_study_suggests_the_nearest_id(pilot_store: EmbeddedStore) -> None:
    with pytest.raises(UsageError, match="Did you mean 'il2-refractory-ln-2021'"):
        queries.run_query(pilot_store, "pico", {"study": "il2-refractory-ln-2012"})


def test_bind_inserts_values_at_the_top_of_the_outer_where(pilot_store: EmbeddedStore) -> None:
    query = CATALOGUE["evidence-map"]
    text = queries.bind(pilot_store, query, {"condition": "cond:lupus-nephritis"})
    where = text.index("WHERE {")
    values = text.index("VALUES ?condition {")
    assert where < values < text.index("SELECT", where)
    assert "<https://w3id.org/evidence-kb/vocab/condition/refractory-lupus-nephritis>" in text
    # the rest of the text is unchanged
    assert (
        text.replace(text[where + len("WHERE {") : text.index("\n", values) + 1], "") == query.text
    )


# --- hostile values -------------------------------------------------------------

HOSTILE = [
    'x" } ?s ?p ?o . { "',
    "x' } UNION { ?s ?p ?o } #",
    "a # comment\n} DROP ALL {",
    '"""triple""" \\" \\\\ }',
    "line1\r\nline2\ttab \u0000 nul",
    "\\u0022 } #",
    "<http://evil/> } {",
]

STRING_QUERY = """#+ summary: echo
#+ description: echo a string parameter
#+ params:
#+   - {name: text, type: string, required: true}
#+ columns: [text, matched]
#+ tags: [test]
PREFIX ex: <http://example.org/>
SELECT ?text ?matched WHERE {
  OPTIONAL { ?matched ex:label ?text }
}
ORDER BY ?text
"""


@pytest.fixture
def echo_query(tmp_path: Path) -> queries.CannedQuery:
    path = tmp_path / "echo.rq"
    path.write_text(STRING_QUERY, encoding="utf-8")
    return queries.load_query_file(path)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_string_value_is_bound_exactly_and_cannot_change_the_query(
    value: str, echo_query: queries.CannedQuery
) -> None:
    store = EmbeddedStore()
    store._store.add(  # a subject whose label is exactly the hostile text
        __import__("pyoxigraph").Quad(
            __import__("pyoxigraph").NamedNode("http://example.org/target"),
            __import__("pyoxigraph").NamedNode("http://example.org/label"),
            __import__("pyoxigraph").Literal(value),
        )
    )
    result = store.select(queries.bind(store, echo_query, {"text": value}))
    assert len(result.rows) == 1
    assert str(result.rows[0]["text"]) == value
    assert str(result.rows[0]["matched"]) == "http://example.org/target"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1))
def test_any_string_value_round_trips_through_binding(
    echo_query: queries.CannedQuery, value: str
) -> None:
    if not value.strip():
        return  # blank values are refused before binding
    store = EmbeddedStore()
    result = store.select(queries.bind(store, echo_query, {"text": value}))
    assert [str(r["text"]) for r in result.rows] == [value.strip()]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_concept_value_is_an_unknown_label(
    value: str, pilot_store: EmbeddedStore
) -> None:
    with pytest.raises(UsageError):
        queries.run_query(pilot_store, "outcome-results", {"outcome": value})


@pytest.mark.parametrize("value", ["12; DROP", "1.5", "", "1e3"])
def test_integer_values_are_checked(value: str, tmp_path: Path) -> None:
    path = tmp_path / "n.rq"
    path.write_text(STRING_QUERY.replace("type: string", "type: integer"), encoding="utf-8")
    with pytest.raises(UsageError):
        queries.bind(EmbeddedStore(), queries.load_query_file(path), {"text": value})


def test_integer_and_decimal_values_become_typed_literals(tmp_path: Path) -> None:
    path = tmp_path / "n.rq"
    path.write_text(STRING_QUERY.replace("type: string", "type: decimal"), encoding="utf-8")
    text = queries.bind(EmbeddedStore(), queries.load_query_file(path), {"text": "-50.3"})
    assert '"-50.3"^^<http://www.w3.org/2001/XMLSchema#decimal>' in text
    with pytest.raises(UsageError):
        queries.bind(EmbeddedStore(), queries.load_query_file(path), {"text": "nan"})


def test_a_header_with_unknown_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.rq"
    path.write_text(
        "#+ summary: x\n#+ sumary: y\nSELECT * WHERE { } ORDER BY ?x\n", encoding="utf-8"
    )
    with pytest.raises(CouldNotRun, match="unknown header keys"):
        queries.load_query_file(path)


# --- ad-hoc queries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "PREFIX ex: <http://e/> DELETE WHERE { ?s ?p ?o }",
        "drop all",
        "LOAD <http://example.org/data.ttl>",
        "CLEAR DEFAULT",
        "# SELECT in a comment\nCLEAR ALL",
    ],
)
def test_updates_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="updates are refused"):
        queries.query_form(text)


def test_update_words_inside_strings_iris_and_variables_are_not_updates() -> None:
    text = 'SELECT ?delete WHERE { ?delete <http://e/INSERT> "DROP ALL" } # CLEAR'
    assert queries.query_form(text) == "SELECT"


def test_run_sparql_answers_select_ask_and_construct(pilot_store: EmbeddedStore) -> None:
    select = queries.run_sparql(
        pilot_store,
        EKB + "SELECT ?id WHERE { ?s ekb:studyId ?id }",
    )
    assert [str(r["id"]) for r in select.rows] == ["il2-refractory-ln-2021"]
    ask = queries.run_sparql(pilot_store, "ASK { ?s ?p ?o }")
    assert ask.columns == ["result"] and ask.rows[0]["result"].toPython() is True
    construct = queries.run_sparql(
        pilot_store,
        EKB + "CONSTRUCT { ?s ekb:events ?e } WHERE { ?s ekb:events ?e }",
    )
    assert construct.columns == ["subject", "predicate", "object"]
    assert [int(r["object"]) for r in construct.rows] == [7]


def test_stats_counts_the_pilot(pilot_store: EmbeddedStore) -> None:
    counts = {str(r["what"]): int(r["count"]) for r in queries.stats(pilot_store).rows}
    assert counts["studies"] == 1
    assert counts["arms"] == 1
    assert counts["results"] == 7
    assert counts["safety findings"] == 1
    assert counts["claims"] >= 1
    assert counts["sources"] >= 2
    assert counts["comparisons"] == 0
    assert counts["triples"] == len(pilot_store)


def test_queries_dir_is_where_the_catalogue_comes_from() -> None:
    assert {p.stem for p in queries_dir().glob("*.rq")} == set(CATALOGUE)


# Optional parameters: the binder rewrites FILTER(!BOUND(?x) || EXISTS {...}) into
# a join (or drops it), because Oxigraph evaluates the filter once per row. The
# rewrite must keep exactly the rows the plain idiom gives.
_SAMPLE_VALUES = {
    "condition": ["lupus", "lupus nephritis"],
    "intervention": ["belimumab", "IL-2"],
    "outcome": ["proteinuria", "renal response"],
    "comparator": ["placebo"],
    "review": ["il2-sle-ln-worked-example"],
}


def _optional_cases() -> list[tuple[str, dict[str, str]]]:
    cases = []
    for name, query in sorted(queries.catalogue().items()):
        required = {
            p.name: _SAMPLE_VALUES.get(p.name, ["belimumab"])[0] for p in query.params if p.required
        }
        if any(p.name not in _SAMPLE_VALUES for p in query.params):
            continue
        cases.append((name, dict(required)))
        for param in query.params:
            if not param.required:
                for value in _SAMPLE_VALUES[param.name]:
                    cases.append((name, {**required, param.name: value}))
    return cases


_STORE: list[EmbeddedStore] = []


def _shipped_store() -> EmbeddedStore:
    if not _STORE:
        _STORE.append(EmbeddedStore.open_kb(shipped_kb_dir()))
    return _STORE[0]


@pytest.mark.parametrize(("name", "params"), _optional_cases())
def test_optional_parameter_rewrite_keeps_exactly_the_rows_of_the_plain_idiom(
    name: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _shipped_store()
    fast = queries.run_query(store, name, params)
    monkeypatch.setattr(queries, "_rewrite_optional_filters", lambda text, bound: text)
    plain = queries.run_query(store, name, params)
    assert fast.columns == plain.columns
    assert fast.rows == plain.rows
