"""``export csv`` writes the same bytes as before it was made fast (issue 18).

The digests below are of the files the export wrote before its read and its
tables were rewritten for speed (commit ebc93a1), for two knowledge bases: the
shipped one, and 200 synthetic studies (``generate_kb(200, seed=7)``) beside
the shipped studies and review. Both are exported from the in-memory store and
from the on-disk warm-start store. If a change to the export's output is meant,
record the new digests here and say why in the commit.

Takes a few seconds: 215 studies exported twice is the smallest KB that covers
the generator's shapes as well as the shipped corpus's odd cases.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from synthetic import synthetic_beside_shipped

from kb.errors import RdfSyntaxError
from kb.export import export
from kb.export.tables import extract, selection_for_all
from kb.export.tables.folder import FolderStore, folder_files, read_files
from kb.export.tables.model import Selection
from kb.paths import shipped_kb_dir
from kb.store import EmbeddedStore

BEFORE = {
    "generated": {
        "arms.csv": "9aecb21feff7194827355960540fb160c1a25f2e72caf3fe8be49c3e551cfa1c",
        "characteristics.csv": "014db76a70d83d6575b0d1c3091054c98be7e8085865275be9c498fce4b4912e",
        "claims.csv": "c82eafcb83e2ef110bad311324b4c1bc4afb86b4c6a34f4bedc68da866df319b",
        "comparisons.csv": "7c4cfaf0215d6abe80ed03cff1113d80e67e03fcad215dcee4985fe5cfb30c3d",
        "outcomes.csv": "1931cd93689303b490054f3454b49b524eae6e7915fb4bc1589b1a7f8573eb64",
        "safety.csv": "50835520215b143d67f33060a00380cd97b4a3e3b59efb09326bd3157bcba25e",
        "sources.csv": "b81fbbbe3c727206e3ce109e9b73f9035cb2aad3657d5ccfd84a55d25ac87699",
    },
    "shipped": {
        "arms.csv": "8aad008e05e2f2dcd066a759e3b76c60e9590ac576a32ab1b1c178c13f1111d2",
        "characteristics.csv": "0d2ef3a92fc395dd00bc7a5621dfa6aa00eb071e33c73cc2811f8fc752789d23",
        "claims.csv": "d8e38f3da5eee51fa13bb1a561a922363a052e76c3e7cdf54c51f365fd1f4acd",
        "comparisons.csv": "cad026cb66e108f35780e488592c59755b2479dba4429829de35a2f1a68660b3",
        "outcomes.csv": "cd62f02f8600d1335ae41695b8114ac2f510572c2bedc8f78a55b672d440ace8",
        "safety.csv": "787d6bb3d8e82e6c45642b5aa543453b5c3407fa4f3746129a963fbdeb942df2",
        "sources.csv": "a01db1c237f2ed98446ff9790e86712317f6c742fb0e96552ec0d781713b9d9a",
    },
}


@pytest.fixture(scope="module")
def generated_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # synthetic studies, labelled so in every file
    return synthetic_beside_shipped(tmp_path_factory.mktemp("export-kb"), 200, 7)


def _digests(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


@pytest.mark.parametrize("cache", ["never", "always"])
def test_export_csv_writes_the_bytes_it_wrote_before(
    generated_kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    monkeypatch.setenv("EKB_CACHE", cache)
    monkeypatch.setenv("EKB_CACHE_DIR", str(tmp_path / "cache"))
    export("csv", kb_dir=generated_kb, output=tmp_path / "generated")
    assert _digests(tmp_path / "generated") == BEFORE["generated"]
    export("csv", kb_dir=shipped_kb_dir(), output=tmp_path / "shipped")
    assert _digests(tmp_path / "shipped") == BEFORE["shipped"]


def test_reading_the_files_gives_the_tables_reading_the_store_gives(
    generated_kb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKB_CACHE", "never")
    store = EmbeddedStore.open_kb(generated_kb)
    selection = selection_for_all(store)
    from_store = extract(store, selection)
    from_files = extract(FolderStore(store, folder_files(generated_kb)), selection)
    assert from_files.graph.study_of == from_store.graph.study_of
    assert from_files.graph.props == from_store.graph.props
    for table, other in zip(from_files.tables(), from_store.tables(), strict=True):
        assert table.rows == other.rows, table.name
        assert table.rows or table.name in {"claims"}


def test_a_file_that_is_not_turtle_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "studies" / "broken.ttl"
    bad.parent.mkdir()
    bad.write_text("<a> <b> <c> .\n<a> <b> .\n", encoding="utf-8")
    with pytest.raises(RdfSyntaxError) as caught:
        read_files([bad], Selection(()))
    assert caught.value.path == str(bad) and caught.value.line == 2
