"""Canned query results cached per study file (kb.query_cache) are never stale.

Each test builds a small knowledge base (40 synthetic studies beside the shipped
ones and the shipped review) with a warm-start store in a temporary folder, runs
canned queries through the cache, changes the knowledge base, and compares what
the cache serves with an uncached run on an in-memory store of the same files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from synthetic import synthetic_beside_shipped

from kb import queries, query_cache
from kb.errors import CouldNotRun
from kb.store import EmbeddedStore, QueryResult

N_SYNTHETIC = 40
#: One case per per-study query (with a parameter where it needs one), and two
#: queries that are not per-study (cached whole).
CASES: list[tuple[str, dict[str, str]]] = [
    ("characteristics", {}),
    ("characteristics", {"condition": "lupus nephritis"}),
    ("claims", {"intervention": "belimumab"}),
    ("head-to-head", {"intervention": "belimumab"}),
    ("meta-input", {"outcome": "complete renal response"}),
    ("missing-data", {}),
    ("outcome-results", {"outcome": "complete renal response"}),
    ("safety", {"intervention": "belimumab"}),
    ("studies", {}),
    ("studies", {"review": "il2-sle-ln-worked-example"}),
    ("provenance", {"study": "syn-000020"}),
    ("study-results", {"study": "syn-000020"}),
    ("study-safety", {"study": "syn-000020"}),
    ("study-comparisons", {"study": "syn-000020"}),
    ("study-sources", {"study": "syn-000020"}),
    ("counts", {}),
    ("evidence-map", {"condition": "lupus"}),
]
EDITED = "syn-000020"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_beside_shipped(tmp_path_factory.mktemp("cache-template"), N_SYNTHETIC, 11)


@pytest.fixture
def kb(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(template, folder)
    monkeypatch.setenv("EKB_CACHE", "always")
    monkeypatch.setenv("EKB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(query_cache.RESULT_CACHE_ENV_VAR, raising=False)
    # every query of this small knowledge base is cheaper than the cache's threshold
    monkeypatch.setattr(query_cache, "MIN_SECONDS", 0.0)
    return folder


def _cached(kb: Path, name: str, params: dict[str, str]) -> QueryResult:
    store = EmbeddedStore.open_kb(kb)
    assert store.snapshot is not None
    return queries.run_query(store, name, params)


def _uncached(
    kb: Path, name: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> QueryResult:
    with monkeypatch.context() as env:
        env.setenv("EKB_CACHE", "never")
        store = EmbeddedStore.open_kb(kb)
        assert store.snapshot is None
        return queries.run_query(store, name, params)


def _same(a: QueryResult, b: QueryResult) -> None:
    assert a.columns == b.columns
    assert a.rows == b.rows  # the same rows in the same order


@contextmanager
def _only_small_stores() -> Iterator[list[str]]:
    """Inside: the warm-start store refuses to evaluate a canned query, so what runs
    ran on the small store of changed studies (listed) or came from the cache."""
    calls: list[str] = []
    original = EmbeddedStore.select

    def select(self: EmbeddedStore, text: str) -> QueryResult:
        if text.startswith("#+ summary:"):  # a canned query (binding looks up concepts too)
            if self.snapshot is not None:
                raise AssertionError("the whole store was queried again")
            calls.append(text)
        return original(self, text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmbeddedStore, "select", select)
        yield calls


def _entries(kb: Path) -> list[Path]:
    store = EmbeddedStore.open_kb(kb)
    assert store.snapshot is not None
    return sorted((store.snapshot.cache_folder / "results").glob("*.json"))


def _edit(kb: Path, study: str = EDITED) -> None:
    path = kb / "studies" / f"{study}.ttl"
    text = path.read_text(encoding="utf-8")
    # A title, an arm size and a result: what every per-study query shows some of.
    edited = text.replace('ekb:title "Synthetic', 'ekb:title "Revised synthetic', 1)
    edited = edited.replace('ekb:locator "table 1"', 'ekb:locator "table 1, revised"', 1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_a_cached_result_is_the_uncached_result(
    kb: Path, name: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _cached(kb, name, params)
    assert first.rows, "a case without rows checks nothing"
    assert _entries(kb), "the run left no cache entry"
    with _only_small_stores():
        _same(_cached(kb, name, params), first)  # from the cache, the whole store untouched
    _same(first, _uncached(kb, name, params, monkeypatch))


@pytest.mark.parametrize(
    ("name", "params"),
    [c for c in CASES if queries.get_query(c[0]).per_study],
    ids=[f"{n}{p}" for n, p in CASES if queries.get_query(n).per_study],
)
def test_after_an_edit_only_the_edited_study_is_evaluated_again(
    kb: Path, name: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _cached(kb, name, params)
    _edit(kb)
    with _only_small_stores() as small:
        after = _cached(kb, name, params)
    assert len(small) == 1  # one evaluation, on the store of the edited study
    _same(after, _uncached(kb, name, params, monkeypatch))
    if name == "study-sources":  # the edit shows: the source's title was revised
        assert after.rows != before.rows


def test_a_new_study_and_a_removed_study(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    params: dict[str, str] = {}
    _cached(kb, "studies", params)
    studies = kb / "studies"
    shutil.copy(studies / "syn-000003.ttl", studies / "syn-009999.ttl")
    text = (studies / "syn-009999.ttl").read_text(encoding="utf-8")
    (studies / "syn-009999.ttl").write_text(
        text.replace("syn-000003", "syn-009999"), encoding="utf-8"
    )
    (studies / "syn-000004.ttl").unlink()
    with _only_small_stores() as small:
        after = _cached(kb, "studies", params)
    assert len(small) == 1
    ids = [str(r["study_id"]) for r in after.rows]
    assert "syn-009999" in ids and "syn-000004" not in ids
    _same(after, _uncached(kb, "studies", params, monkeypatch))


def test_a_changed_vocabulary_is_never_served_old_rows(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"condition": "lupus nephritis"}
    before = _cached(kb, "studies", params)
    (kb / "vocab").mkdir(exist_ok=True)
    (kb / "vocab" / "local.ttl").write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://w3id.org/evidence-kb/vocab/design/randomised-controlled-trial> "
        'skos:prefLabel "randomised trial (local label)"@en .\n',
        encoding="utf-8",
    )
    after = _cached(kb, "studies", params)
    assert after.rows != before.rows
    assert any("local label" in str(r.get("design", "")) for r in after.rows)
    _same(after, _uncached(kb, "studies", params, monkeypatch))


def test_a_changed_review_is_never_served_old_rows(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"review": "il2-sle-ln-worked-example"}
    before = _cached(kb, "studies", params)
    review = kb / "reviews" / "il2-sle-ln-worked-example.ttl"
    text = review.read_text(encoding="utf-8")
    # Exclude every study the review included at full text.
    review.write_text(text.replace("term:include", "term:exclude"), encoding="utf-8")
    after = _cached(kb, "studies", params)
    assert before.rows and len(after.rows) < len(before.rows)
    _same(after, _uncached(kb, "studies", params, monkeypatch))


def test_another_query_text_or_parameter_is_another_entry(kb: Path) -> None:
    store = EmbeddedStore.open_kb(kb)
    few = (
        "SELECT ?study WHERE { ?study a <https://w3id.org/evidence-kb/ontology#Study> }"
        " ORDER BY ?study LIMIT 3"
    )
    many = few.replace(" LIMIT 3", "")

    def run(text: str) -> QueryResult:
        return query_cache.select(
            store, text, name="q", per_study=None, order=None, finish=lambda r: r
        )

    assert len(run(few).rows) == 3
    assert len(run(many).rows) > 3
    lupus = queries.run_query(store, "studies", {"condition": "lupus"})
    nephritis = queries.run_query(store, "studies", {"condition": "lupus nephritis"})
    assert len(nephritis.rows) < len(lupus.rows)


STUDY = "https://w3id.org/evidence-kb/resource/study/"


def _append(kb: Path, study: str, turtle: str) -> None:
    path = kb / "studies" / f"{study}.ttl"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + turtle + "\n", encoding="utf-8")


def test_a_study_linked_to_another_is_evaluated_with_it(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cached(kb, "studies", {})
    _append(
        kb,
        EDITED,
        f"<{STUDY}{EDITED}> <https://w3id.org/evidence-kb/ontology#possiblyRelatedTo> "
        f"<{STUDY}syn-000001> .",
    )
    store = EmbeddedStore.open_kb(kb)
    assert store.snapshot is not None
    assert store.snapshot.studies[STUDY + EDITED].links == (STUDY + "syn-000001",)
    with _only_small_stores() as small:
        after = queries.run_query(store, "studies", {})
    assert len(small) == 1
    _same(after, _uncached(kb, "studies", {}, monkeypatch))
    del store  # one open store per folder at a time (the warm-start store is locked)
    # the other side changes next: the linked study is evaluated with it again
    _edit(kb, "syn-000001")
    with _only_small_stores() as small:
        after = _cached(kb, "studies", {})
    assert len(small) == 1
    _same(after, _uncached(kb, "studies", {}, monkeypatch))


def test_a_study_that_describes_another_is_evaluated_whole(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cached(kb, "studies", {})
    _append(kb, EDITED, f'<{STUDY}syn-000001> <https://w3id.org/evidence-kb/ontology#title> "x" .')
    store = EmbeddedStore.open_kb(kb)
    assert store.snapshot is not None
    assert not store.snapshot.studies[STUDY + EDITED].local
    with _only_small_stores(), pytest.raises(AssertionError, match="whole store"):
        queries.run_query(store, "studies", {})
    _same(queries.run_query(store, "studies", {}), _uncached(kb, "studies", {}, monkeypatch))


def test_an_unreadable_entry_is_a_miss(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _cached(kb, "studies", {})
    for entry in _entries(kb):
        entry.write_text('{"key": "', encoding="utf-8")
    _same(_cached(kb, "studies", {}), first)
    for entry in _entries(kb):
        data = json.loads(entry.read_text(encoding="utf-8"))
        data["cells"] = [10**9] * len(data["cells"])
        entry.write_text(json.dumps(data), encoding="utf-8")
    _same(_cached(kb, "studies", {}), first)


def test_the_cache_can_be_turned_off(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(query_cache.RESULT_CACHE_ENV_VAR, "never")
    _cached(kb, "studies", {})
    assert not _entries(kb)


def test_per_study_must_name_a_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text(
        "#+ summary: x\n#+ columns: [study]\n#+ per-study: studies\nSELECT ?study WHERE { }\n",
        encoding="utf-8",
    )
    with pytest.raises(CouldNotRun, match="per-study"):
        queries.load_query_file(bad)


def test_the_bulk_load_takes_each_files_footprint_as_study_footprint_does(kb: Path) -> None:
    import pyoxigraph as ox

    from kb.store import study_footprint

    store = EmbeddedStore.open_kb(kb)  # a fresh cache folder: built by the bulk load
    assert store.snapshot is not None
    for graph, record in store.snapshot.studies.items():
        quads = store._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
        own, links = study_footprint(graph, quads)
        assert (record.local, record.links) == (own, tuple(sorted(links))), graph
    linked = {g.rsplit("/", 1)[1] for g, f in store.snapshot.studies.items() if f.links}
    # the shipped pilot and its conference abstract point at each other
    assert {"il2-refractory-ln-2021", "il2-refractory-ln-acr-2018"} <= linked


def test_every_per_study_query_is_the_union_of_its_studies(template: Path) -> None:
    """What ``#+ per-study`` promises, checked for every study of the test knowledge
    base: a study's rows, computed on a store of its file with the vocabularies and
    the reviews (as the cache recomputes an edited study), are its rows on the whole
    knowledge base. Linked studies are evaluated together, as the cache does."""
    from kb.store import SCHEMA_GRAPH, graph_iri_for, schema_files, study_footprint

    with pytest.MonkeyPatch.context() as env:
        env.setenv("EKB_CACHE", "never")
        whole = EmbeddedStore.open_kb(template)
    cases = [c for c in CASES if queries.get_query(c[0]).per_study]
    texts = {(n, tuple(p.items())): queries.bind(whole, queries.get_query(n), p) for n, p in cases}

    def finished(k: tuple, result: QueryResult) -> list:
        # list cells tidied, as the cache keeps them (GROUP_CONCAT's order is the engine's)
        return queries.sort_list_cells(queries.get_query(k[0]), result).rows

    expected = {k: finished(k, whole.select(text)) for k, text in texts.items()}
    studies = sorted((template / "studies").glob("*.ttl"))
    graphs = {graph_iri_for(f): f for f in studies}
    got: dict[tuple, list] = {k: [] for k in texts}
    done: set[str] = set()
    for graph, path in graphs.items():
        if graph in done:
            continue
        small = EmbeddedStore()
        small.load_files(schema_files(template), graph=SCHEMA_GRAPH)
        for review in sorted((template / "reviews").glob("*.ttl")):
            small.load_file(review, graph=graph_iri_for(review))
        group = {graph}
        small.load_file(path, graph=graph)
        _own, links = study_footprint(graph, small._store.quads_for_pattern(None, None, None, None))
        for other in sorted(links):  # the shipped linked pair: evaluated together
            group.add(other)
            small.load_file(graphs[other], graph=other)
        new = group - done  # a linked study evaluated alone before is not taken twice
        done |= group
        for k, text in texts.items():
            rows = finished(k, small.select(text))
            column = queries.get_query(k[0]).per_study
            assert all(str(r.get(column)) in group for r in rows), (k, graph)
            got[k].extend(r for r in rows if str(r.get(column)) in new)
    for k in texts:
        assert sorted(map(repr, got[k])) == sorted(map(repr, expected[k])), k


def test_edits_pile_up_until_the_entry_is_rewritten(
    kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A few changed studies are evaluated again on each run without rewriting the
    entry (kb.query_cache.DEFER_WRITE); past that the entry is rewritten. Every run
    gives the uncached rows."""
    _cached(kb, "studies", {})
    (entry,) = _entries(kb)
    written = entry.read_bytes()
    edited = [f"syn-{i:06d}" for i in range(1, query_cache.DEFER_WRITE + 2)]
    for i, study in enumerate(edited, start=1):
        _edit(kb, study)
        with _only_small_stores() as small:
            after = _cached(kb, "studies", {})
        assert len(small) == 1
        _same(after, _uncached(kb, "studies", {}, monkeypatch))
        rewritten = entry.read_bytes() != written
        assert rewritten == (i > query_cache.DEFER_WRITE), i


def test_a_cheap_result_is_not_kept(kb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_cache, "MIN_SECONDS", 60.0)
    _same(_cached(kb, "studies", {}), _uncached(kb, "studies", {}, monkeypatch))
    assert not _entries(kb)
