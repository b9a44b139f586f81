"""The benchmark runs end to end at a tiny size (a smoke test: speed is never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.bench import run as bench
from kb.bench.generate import generate_kb, iter_studies, write_studies
from kb.cli import cli


def test_generated_studies_are_the_same_for_the_same_seed_and_differ_for_another() -> None:
    first = list(iter_studies(5, seed=3))
    assert first == list(iter_studies(5, seed=3))
    assert first != list(iter_studies(5, seed=4))


def test_generated_studies_say_they_are_synthetic() -> None:
    for study_id, text in iter_studies(3):
        assert "Synthetic benchmark study" in text
        assert "example.org/synthetic" in text
        assert f'ekb:studyId "{study_id}"' in text


def test_bench_generate_writes_a_knowledge_base_that_validates(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["bench", "generate", "6", str(tmp_path / "kb"), "--seed", "1"])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "kb" / "studies").glob("*.ttl"))
    assert [f.name for f in files] == [f"syn-{i:06d}.ttl" for i in range(1, 7)]
    checked = runner.invoke(cli, ["validate", "--kb", str(tmp_path / "kb"), "-f", "json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["conforms"] is True
    assert report["files_checked"] == 6


def test_studies_written_in_parts_are_those_of_the_whole(tmp_path: Path) -> None:
    generate_kb(5, tmp_path / "whole", seed=2)
    assert write_studies(tmp_path / "part", 3, 2, seed=2) == 2
    part = sorted((tmp_path / "part" / "studies").iterdir())
    assert [f.name for f in part] == ["syn-000003.ttl", "syn-000004.ttl"]
    for f in part:
        assert f.read_bytes() == (tmp_path / "whole" / "studies" / f.name).read_bytes()


def test_bench_generate_refuses_a_folder_that_already_holds_studies(tmp_path: Path) -> None:
    generate_kb(2, tmp_path)
    result = CliRunner().invoke(cli, ["bench", "generate", "2", str(tmp_path)])
    assert result.exit_code == 2
    assert "already holds study files" in result.output


@pytest.mark.parametrize("sizes", ["", "10,x", "0", "-5"])
def test_bench_run_rejects_bad_sizes_with_exit_2(sizes: str) -> None:
    result = CliRunner().invoke(cli, ["bench", "run", "--n", sizes])
    assert result.exit_code == 2
    assert "--n expects positive whole numbers" in result.output


def test_parse_sizes_accepts_thousands_shorthand() -> None:
    assert bench.parse_sizes("1000, 10k,2_000") == [1000, 10000, 2000]


def test_bench_run_measures_every_operation_on_both_sides_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # pySHACL on the whole graph takes far longer than 3 s even for a few
    # studies, so this also runs the "stopped at the limit" path.
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "run",
            "--n",
            "4",
            "--repeat",
            "2",
            "--limit",
            "3",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["settings"]["sizes"] == [4]
    assert data["machine"]["cpus"] >= 1
    (size,) = data["sizes"]
    assert size["n"] == 4 and size["triples"] > 4 * 100
    assert size["targets_checked"] is False
    ops = {op["key"]: op for op in size["operations"]}
    expected = {
        "cold_load",
        "cache_build",
        "warm_start",
        "validate_full",
        "validate_after_change",
        "export_csv",
        "peak_memory",
    }
    expected |= {f"query:{name}" for name in bench.QUERY_PARAMS}
    expected |= {f"query_rerun:{name}" for name in bench.QUERY_PARAMS}
    assert set(ops) == expected
    for key, op in ops.items():
        assert op["ekb"]["status"] == "ok", (key, op["ekb"])
        assert op["ekb"]["value"] > 0
    for name in bench.QUERY_PARAMS:
        ekb = ops[f"query:{name}"]["ekb"]
        assert ekb["runs"] == 2
        base = ops[f"query:{name}"]["baseline"]
        # Both engines ran the same bound text and must agree on the rows, except
        # that rdflib drops the zero-count group of `counts` (no baseline
        # characteristics), which Oxigraph rightly reports as 0.
        if base["status"] == "ok" and name != "counts":
            assert ekb["rows_match_baseline"] is True, name
    assert ops["query:pico"]["ekb"]["rows"] > 0
    for name in bench.QUERY_PARAMS:
        # the re-run after an edit gives the rows of the first run (a locator changed)
        rerun = ops[f"query_rerun:{name}"]["ekb"]
        assert rerun["runs"] == 2 and rerun["rows"] == ops[f"query:{name}"]["ekb"]["rows"], name
    assert ops["cold_load"]["baseline"]["status"] == "ok"
    assert ops["validate_full"]["baseline"]["status"] in {"ok", "over_limit"}
    if ops["validate_full"]["baseline"]["status"] == "over_limit":
        assert ops["validate_full"]["baseline"]["limit_s"] == 3
        assert ops["validate_full"]["ratio_is_lower_bound"] is True
    assert 10 < ops["peak_memory"]["ekb"]["value"] < 10_000
    # The table names every operation, and the edited study file was restored.
    assert "query evidence-map" in result.output
    assert "validation after one study changes" in result.output
    kb = tmp_path / "work" / "kb-4-seed0"
    assert "revis" not in (kb / "studies" / "syn-000002.ttl").read_text(encoding="utf-8")
    # The JSON is enough to print the table again.
    shown = CliRunner().invoke(cli, ["bench", "show", str(out), "--markdown"])
    assert shown.exit_code == 0, shown.output
    assert "| 4 | query evidence-map |" in shown.output
    not_json = CliRunner().invoke(cli, ["bench", "show", str(kb / "bench.json")])
    assert not_json.exit_code == 3


def test_bench_run_without_baseline_marks_baseline_skipped_and_prints_markdown(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        cli, ["bench", "run", "--n", "2", "--repeat", "1", "--no-baseline", "--markdown"]
    )
    assert result.exit_code == 0, result.output
    assert "| N | operation | evidence-kb | rdflib + pySHACL |" in result.output
    assert "| 2 | query counts |" in result.output


def test_bench_remote_pushes_in_parts_and_runs_every_query_on_a_server(tmp_path: Path) -> None:
    from kb.bench.remote import remote_table, run_remote

    result = run_remote(5, tmp_path, part=2, timeout=60, repeat=1)
    assert result["push"]["parts"] == 3
    # Five studies of about 190 triples, plus the ontology and vocabularies.
    assert result["triples"] > 5 * 150
    assert set(result["queries"]) == set(bench.QUERY_PARAMS)
    for name, entry in result["queries"].items():
        assert entry["status"] == "ok", (name, entry)
        assert 0 < entry["server_seconds"] <= entry["seconds"], (name, entry)
    assert result["queries"]["studies"]["rows"] >= 1
    assert result["queries"]["pico"]["rows"] > 0
    assert not (tmp_path / "oxigraph-db-5").exists()
    assert result["storage"] == "disk" and result["server_peak_rss_mib"] > 0
    # push, the queries, this process's and the server's peak memory
    assert remote_table(result).row_count == 3 + len(bench.QUERY_PARAMS)


def test_bench_remote_in_memory_gives_every_query_the_embedded_stores_row_count(
    tmp_path: Path,
) -> None:
    from kb.bench.remote import run_remote
    from kb.queries import run_query
    from kb.store import EmbeddedStore

    n = 40
    result = run_remote(n, tmp_path, timeout=60, repeat=1, memory=True)
    assert result["storage"] == "memory"
    (folder,) = tmp_path.glob("remote-40-*/part-000")
    embedded = EmbeddedStore.open_kb(folder)
    count = embedded.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]["n"]
    assert result["triples"] == int(count)
    for name, params in bench.query_params(n).items():
        assert result["queries"][name]["rows"] == len(run_query(embedded, name, params).rows), name
