"""The benchmark behind ``ekb bench run``: evidence-kb against plain rdflib + pySHACL.

For each knowledge base size N a synthetic knowledge base is generated
(:mod:`kb.bench.generate`) and every operation runs in a fresh Python
subprocess (a *worker*, :func:`worker_main`), so imports, caches and memory
never leak from one measurement into the next, and the peak memory of an
operation is the ``ru_maxrss`` of its worker.

evidence-kb side (what ``ekb`` does):

- cold load: :meth:`kb.store.EmbeddedStore.open_kb` with ``EKB_CACHE=never``;
- first cached run: ``open_kb`` building the warm-start cache in an empty cache folder;
- warm start: ``open_kb`` again, from that cache;
- every canned query: :func:`kb.queries.run_query` (binding included), median of
  ``repeat`` runs after one untimed warm-up, with the result cache
  (:mod:`kb.query_cache`) off, so each run evaluates the query; then one run with
  the cache on leaves its entry;
- every canned query re-run after one study file changed: before each timed run
  the middle study's file is edited (a new text each time) and the store opened
  again (not timed); the result cache is on (the edit is undone afterwards);
- full validation: :func:`kb.validation.validate_kb` with an empty cache folder;
- validation after one study changes: one study file is edited and
  ``validate_kb`` runs again in a new process (the edit is undone afterwards);
- ``export csv``: :func:`kb.export.export` into a temporary folder.

Baseline side (the way most projects would do it): one rdflib ``Graph``, every
file parsed into it; each canned query's bound text (the very text the embedded
store ran) through ``graph.query``; the same ``export csv`` code reading from
that graph; ``pyshacl.validate`` of the whole graph against ``shapes.ttl``.
Each baseline operation has a time limit: an operation that exceeds it is
stopped and reported as over the limit, never estimated.

Nothing here asserts speed; :func:`run_benchmark` returns the measurements and
:func:`render_table` shows them.

The package, one module per step: :mod:`~kb.bench.run.results` (settings, targets and the
result types), :mod:`~kb.bench.run.workers` (each operation in a fresh process),
:mod:`~kb.bench.run.benchmark` (the run, in the parent) and :mod:`~kb.bench.run.table`
(the table, and results read back from JSON). This module holds the public entry points.
"""

from __future__ import annotations

from kb.bench.run.benchmark import (
    Progress,
    bench_size,
    machine_info,
    parse_sizes,
    query_params,
    run_benchmark,
    study_kb,
)
from kb.bench.run.results import (
    DEFAULT_EKB_LIMIT,
    DEFAULT_LIMIT,
    DEFAULT_REPEAT,
    DEFAULT_SIZES,
    PARSE_MIN_LIMIT,
    QUERY_MIN_RATIO,
    QUERY_PARAMS,
    TARGET_N,
    TARGETS,
    BenchmarkResult,
    Measure,
    Operation,
    SizeResult,
)
from kb.bench.run.table import (
    TABLE_COLUMNS,
    load_result,
    markdown_table,
    render_table,
    table_rows,
)
from kb.bench.run.workers import RdflibStore, run_worker, worker_main

__all__ = [
    "DEFAULT_EKB_LIMIT",
    "DEFAULT_LIMIT",
    "DEFAULT_REPEAT",
    "DEFAULT_SIZES",
    "PARSE_MIN_LIMIT",
    "QUERY_MIN_RATIO",
    "QUERY_PARAMS",
    "TABLE_COLUMNS",
    "TARGETS",
    "TARGET_N",
    "BenchmarkResult",
    "Measure",
    "Operation",
    "Progress",
    "RdflibStore",
    "SizeResult",
    "bench_size",
    "load_result",
    "machine_info",
    "markdown_table",
    "parse_sizes",
    "query_params",
    "render_table",
    "run_benchmark",
    "run_worker",
    "study_kb",
    "table_rows",
    "worker_main",
]
