"""``ekb push`` streams: its peak memory does not grow with the knowledge base (issue 18).

Each push runs the real command line in a fresh Python process against a real
Oxigraph server, and that process reports its own peak resident set size
(``ru_maxrss``; RUSAGE_CHILDREN would give the largest child the test run ever
had). The default graph is the layout where one graph holds the whole
knowledge base; with ``--graph-per-study`` each graph is one file. The
knowledge bases are synthetic (``kb.bench.generate``): 50 and 400 studies,
eight times the triples. Before streaming, a push held every triple
of the knowledge base as Python objects: 2.7 GB at 10,000 studies, 92 MiB
more at 400 studies than at 50 (59 -> 151 MiB); streaming, 4 MiB or less.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kb.bench.generate import generate_kb

#: Largest allowed growth of peak memory from 50 to 400 studies. The push keeps
#: one request body (at most 4 MiB, twice while it is joined) and one study's
#: triples; the rest is allocator noise.
MAX_GROWTH_MIB = 25

CHILD = """
import resource, sys
from kb.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="ekb", standalone_mode=False)
finally:
    print(f"maxrss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


@pytest.fixture(scope="module")
def kbs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folders = {}
    for n in (50, 400):
        folder = tmp_path_factory.mktemp(f"synthetic-{n}")
        assert generate_kb(n, folder, seed=3) == n
        folders[n] = folder
    return folders


def _peak_mib(*args: str) -> float:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, "push", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"EKB_CACHE": "never", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("maxrss_kib="), run.stderr
    return int(line.removeprefix("maxrss_kib=")) / 1024


@pytest.mark.parametrize(
    "options",
    [[], ["--replace"]],
    ids=["post-default-graph", "put-default-graph"],
)
def test_push_peak_memory_does_not_grow_with_the_number_of_studies(own_oxigraph, kbs, options):
    # A server of its own: tens of thousands of triples cleared from the shared server
    # leave it slow for the next module's queries (RocksDB tombstones).
    peaks = {}
    for n, folder in kbs.items():
        peaks[n] = _peak_mib("--store", own_oxigraph.store_url, "--kb", str(folder), *options)
    # The push did send everything (so the small peak is not a push that stopped early).
    assert oxigraph_triples(own_oxigraph) > 400 * 150  # the generator writes ~195 per study
    assert peaks[400] - peaks[50] < MAX_GROWTH_MIB, peaks


def oxigraph_triples(server) -> int:  # type: ignore[no-untyped-def]
    from kb.remote import RemoteStore

    rows = RemoteStore(server.query_url, timeout=30).select(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    )
    return int(rows.rows[0]["n"])
