"""The embedded store: loading, read-only queries, and the warm-start cache."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kb.errors import CouldNotRun, RdfSyntaxError, UsageError
from kb.store import EmbeddedStore, cache_dir_for

REPO = Path(__file__).resolve().parents[1]
PILOT = REPO / "kb" / "studies" / "il2-refractory-ln-2021.ttl"
EVENTS = (
    "PREFIX ekb: <https://w3id.org/evidence-kb/ontology#>"
    " SELECT ?e WHERE { ?r ekb:events ?e } ORDER BY ?e"
)


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    (kb / "studies").mkdir(parents=True)
    shutil.copy(PILOT, kb / "studies")
    return kb


@pytest.fixture()
def cache_always(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EKB_CACHE", "always")
    monkeypatch.setenv("EKB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _events(store: EmbeddedStore) -> list[int]:
    return [int(row["e"]) for row in store.select(EVENTS).rows]


def test_open_kb_loads_the_schema_and_every_study_into_named_graphs(kb_copy: Path) -> None:
    store = EmbeddedStore.open_kb(kb_copy)
    assert (
        "https://w3id.org/evidence-kb/resource/study/il2-refractory-ln-2021" in store.graph_names()
    )
    assert _events(store) == [7]
    assert store.ask(
        "ASK { <https://w3id.org/evidence-kb/ontology#Study>"
        " a <http://www.w3.org/2002/07/owl#Class> }"
    )


def test_a_folder_without_studies_is_not_a_knowledge_base(tmp_path: Path) -> None:
    with pytest.raises(CouldNotRun, match="not a knowledge base folder"):
        EmbeddedStore.open_kb(tmp_path)


def test_broken_turtle_names_the_file_and_line(kb_copy: Path) -> None:
    (kb_copy / "studies" / "broken.ttl").write_text(
        '@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b "x ;\n'
    )
    with pytest.raises(RdfSyntaxError) as info:
        EmbeddedStore.open_kb(kb_copy)
    assert info.value.path.endswith("broken.ttl") and info.value.line == 3
    assert "broken.ttl:3" in str(info.value)


def test_updates_are_refused(kb_copy: Path) -> None:
    store = EmbeddedStore.open_kb(kb_copy)
    with pytest.raises(UsageError, match="read-only"):
        store.select("DELETE WHERE { ?s ?p ?o }")
    assert _events(store) == [7]


def test_warm_start_reuses_the_cache_and_reloads_only_changed_files(
    kb_copy: Path, cache_always: Path
) -> None:
    assert _events(EmbeddedStore.open_kb(kb_copy)) == [7]
    manifest = json.loads((cache_dir_for(kb_copy) / "manifest.json").read_text())
    assert manifest["dirty"] is False
    study = kb_copy / "studies" / PILOT.name
    study.write_text(study.read_text().replace("ekb:events 7 ;", "ekb:events 8 ;"))
    assert _events(EmbeddedStore.open_kb(kb_copy)) == [8]
    study.unlink()
    assert _events(EmbeddedStore.open_kb(kb_copy)) == []


def test_a_dirty_or_corrupt_cache_is_rebuilt_not_trusted(kb_copy: Path, cache_always: Path) -> None:
    EmbeddedStore.open_kb(kb_copy)
    manifest_path = cache_dir_for(kb_copy) / "manifest.json"
    # Pretend an update was interrupted after the data changed on disk.
    study = kb_copy / "studies" / PILOT.name
    study.write_text(study.read_text().replace("ekb:events 7 ;", "ekb:events 9 ;"))
    manifest = json.loads(manifest_path.read_text())
    for entry in manifest["files"].values():
        entry.update({"size": study.stat().st_size, "mtime_ns": study.stat().st_mtime_ns})
    manifest["dirty"] = True
    manifest_path.write_text(json.dumps(manifest))
    assert _events(EmbeddedStore.open_kb(kb_copy)) == [9]
    manifest_path.write_text("{not json")
    assert _events(EmbeddedStore.open_kb(kb_copy)) == [9]


def test_a_read_only_command_never_writes_into_the_kb_folder(
    kb_copy: Path, cache_always: Path
) -> None:
    before = sorted(p.relative_to(kb_copy) for p in kb_copy.rglob("*"))
    EmbeddedStore.open_kb(kb_copy)
    assert sorted(p.relative_to(kb_copy) for p in kb_copy.rglob("*")) == before


def test_an_unusable_cache_folder_falls_back_to_memory(
    kb_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("EKB_CACHE", "always")
    monkeypatch.setenv("EKB_CACHE_DIR", str(blocker))
    assert _events(EmbeddedStore.open_kb(kb_copy)) == [7]


def test_small_knowledge_bases_are_not_cached_by_default(
    kb_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EKB_CACHE", raising=False)
    monkeypatch.setenv("EKB_CACHE_DIR", str(tmp_path / "cache"))
    EmbeddedStore.open_kb(kb_copy)
    assert not (tmp_path / "cache").exists()
    assert os.environ.get("EKB_CACHE") is None
