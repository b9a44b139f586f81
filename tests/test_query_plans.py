"""The canned queries rewritten for Oxigraph's planner keep the plan shape that made them fast.

Not a timing test (timing is the benchmark's job): each case asks the real
``oxigraph`` command for the query's plan with per-node row counts
(``oxigraph query --explain-file plan.json --stats``) on two on-disk stores of
generated studies, one twice the size of the other, and checks the shapes
issue 18 removed:

- an ``Aggregate`` evaluated once per row of an outer pattern (a
  ``ForLoopLeftJoin`` or ``Lateral`` with an aggregate on its right: Oxigraph
  issue #1883; what made two earlier rewrites of ``meta-input`` take 200 s);
- per-row index lookups for the per-study columns (``ForLoopLeftJoin``: one
  lookup per row, ~20-40 us each on the on-disk store, where a scan read by a
  hash join costs a tenth of that per row); only the few lookups each query's
  comment keeps are allowed;
- a FILTER NOT EXISTS evaluated per row where a MINUS (hash anti-join) does;
- rows that grow faster than the knowledge base (a join without a shared key,
  or a pattern rescanned per row, counts |outer| x |inner| rows).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from conftest import find_oxigraph

from kb import queries
from kb.bench.generate import generate_kb
from kb.bench.run.benchmark import query_params
from kb.store import EmbeddedStore

SIZES = (25, 50)

#: Rewritten queries and how many ForLoopLeftJoin nodes (per-row lookups) each
#: plan may keep: evidence-map's two label lookups run on its grouped rows;
#: meta-input's on the outcome's results (its label and timepoint, the source);
#: claims' on the selected claims (locator, source); missing-data's on the
#: results it reports.
REWRITTEN = {
    "characteristics": 0,
    "claims": 5,
    "studies": 0,
    "evidence-map": 2,
    "meta-input": 7,
    "missing-data": 9,
}

#: How many FILTER (NOT) EXISTS (one evaluation per row) each plan may keep:
#: missing-data's "no X" tests are MINUS (a hash anti-join) but for the one
#: "direction only" branch, evaluated once.
EXISTS_FILTERS = {"missing-data": 1}


def _on_disk_store(tmp: Path, n: int) -> tuple[Path, EmbeddedStore]:
    kb = tmp / f"kb-{n}"
    generate_kb(n, kb, seed=3)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("EKB_CACHE", "never")
        memory = EmbeddedStore.open_kb(kb)
    location = tmp / f"oxigraph-{n}"
    disk = ox.Store(str(location))
    disk.bulk_extend(memory.quads())
    disk.flush()
    del disk  # releases the folder's lock for the `oxigraph` command
    return location, memory


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, EmbeddedStore]]:
    tmp = tmp_path_factory.mktemp("query-plans")
    return {n: _on_disk_store(tmp, n) for n in SIZES}


def _plan(location: Path, memory: EmbeddedStore, name: str, n: int, tmp: Path) -> dict[str, Any]:
    exe = find_oxigraph()
    if exe is None:
        pytest.fail("the `oxigraph` executable was not found: install the test extra")
    query = queries.get_query(name)
    text = queries.bind(memory, query, query_params(n)[name])
    query_file, plan_file = tmp / f"{name}-{n}.rq", tmp / f"{name}-{n}.json"
    query_file.write_text(text, encoding="utf-8")
    subprocess.run(
        [
            exe,
            "query",
            "--location",
            str(location),
            "--query-file",
            str(query_file),
            "--union-default-graph",
            "--results-format",
            "tsv",
            "--results-file",
            str(tmp / "results.tsv"),
            "--explain-file",
            str(plan_file),
            "--stats",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    plan: dict[str, Any] = json.loads(plan_file.read_text(encoding="utf-8"))["plan"]
    return plan


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("children", []):
        found.extend(_nodes(child))
    return found


def _per_row_aggregates(node: dict[str, Any]) -> list[str]:
    """Names of the per-row joins whose right-hand side holds an aggregate."""
    bad = []
    for join in _nodes(node):
        children = join.get("children", [])
        if join["name"].startswith(("ForLoopLeftJoin", "Lateral")) and len(children) == 2:
            if any(n["name"].startswith("Aggregate") for n in _nodes(children[1])):
                bad.append(join["name"])
    return bad


@pytest.mark.parametrize("name", sorted(REWRITTEN))
def test_the_rewritten_query_keeps_its_fast_plan(
    name: str, stores: dict[int, tuple[Path, EmbeddedStore]], tmp_path: Path
) -> None:
    plans = {n: _plan(*stores[n], name, n, tmp_path) for n in SIZES}
    small, large = plans[SIZES[0]], plans[SIZES[1]]
    assert _per_row_aggregates(large) == []
    lookups = [n for n in _nodes(large) if n["name"].startswith("ForLoopLeftJoin")]
    assert len(lookups) <= REWRITTEN[name]
    if name in EXISTS_FILTERS:
        filters = [
            n for n in _nodes(large) if n["name"].startswith("Filter(") and "EXISTS" in n["name"]
        ]
        assert len(filters) <= EXISTS_FILTERS[name]
    rows = {
        n: sum(node.get("number of results", 0) for node in _nodes(p)) for n, p in plans.items()
    }
    assert rows[SIZES[0]] > 0
    # Twice the studies: about twice the rows, not four times.
    assert rows[SIZES[1]] <= 2.5 * rows[SIZES[0]], rows
    assert small["name"] == large["name"]
