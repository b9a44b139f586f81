"""`ekb --help` answers fast, in a real subprocess, without importing the RDF libraries."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELP = [sys.executable, "-c", "from kb.cli import main; main()", "--help"]


def test_help_lists_the_query_commands() -> None:
    done = subprocess.run(HELP, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    for command in ("queries", "query", "sparql", "stats"):
        assert f"  {command} " in done.stdout


def test_help_answers_in_well_under_a_second() -> None:
    # Best of three, so that a busy shared machine does not decide the result.
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(HELP, cwd=ROOT, capture_output=True, timeout=60, check=True)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.8, f"ekb --help took {min(timings):.2f} s at best"


def test_help_imports_no_rdf_library() -> None:
    probe = (
        "import json, sys\n"
        "from kb.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='ekb')\n"
        "except SystemExit:\n"
        "    pass\n"
        "for name in ('query', 'queries', 'sparql', 'stats'):\n"
        "    try:\n"
        "        cli([name, '--help'], prog_name='ekb')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "roots = ('rdflib', 'pyoxigraph', 'pyshacl')\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    heavy = json.loads(done.stderr.strip().splitlines()[-1])
    assert heavy == [], f"--help imported {heavy}"
