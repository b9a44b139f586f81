"""``ekb search``: ranked free-text search, embedded and on a real Oxigraph server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kb.search import rank, search_words

REPO = Path(__file__).resolve().parent.parent
EKB = str(Path(sys.executable).parent / "ekb")
FORM = REPO / "tests" / "data" / "forms" / "two-arm-rct.yaml"


def _ekb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EKB_")}
    return subprocess.run([EKB, *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.fixture(scope="module")
def aurora_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A knowledge base holding only the AURORA 1 form of tests/data/forms."""
    root = tmp_path_factory.mktemp("search")
    assert _ekb("init", "k", cwd=root).returncode == 0
    added = _ekb("add", str(FORM), "--kb", "k", cwd=root)
    assert added.returncode == 0, added.stderr
    return root / "k"


def test_search_ranks_by_the_weights_of_the_fields_that_hold_the_words(aurora_kb: Path) -> None:
    done = _ekb("search", "lupus", "nephritis", "--kb", str(aurora_kb), "-f", "json", cwd=REPO)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    # By hand: the title ("... for lupus nephritis (AURORA 1)") holds both words, weight 3
    # each, and the phrase "lupus nephritis", 3 more: 9.
    assert [(r["rank"], r["study_id"], r["score"], r["field"]) for r in rows] == [
        (1, "aurora1-rovin-2021", 9.0, "title")
    ]
    by_field = _ekb(
        "search",
        "voclosporin",
        "--field",
        "outcome",
        "--kb",
        str(aurora_kb),
        "-f",
        "json",
        cwd=REPO,
    )
    assert json.loads(by_field.stdout) == []  # no outcome text names the drug
    intervention = _ekb(
        "search",
        "voclosporin",
        "--field",
        "intervention",
        "--kb",
        str(aurora_kb),
        "-f",
        "csv",
        cwd=REPO,
    )
    lines = intervention.stdout.splitlines()
    assert lines[0] == "rank,study_id,score,field,match,title"
    # Weight 2 (intervention); the shorter of the arm label and the agent's label is shown.
    assert lines[1].startswith("1,aurora1-rovin-2021,2.0,intervention,voclosporin,")


def test_search_without_words_is_a_usage_error(aurora_kb: Path) -> None:
    done = _ekb("search", "a", "--kb", str(aurora_kb), cwd=REPO)
    assert done.returncode == 2
    assert "nothing to search for" in done.stderr


def test_rank_sums_the_heaviest_field_per_word_plus_the_phrase() -> None:
    rows = [
        ("s1", "T1", "note", "low-dose IL-2 given"),
        ("s1", "T1", "claim", "IL-2 may help"),
        ("s2", "T2", "title", "Low dose interleukin-2"),
        ("s3", "T3", "note", "unrelated Plaquenil"),
    ]
    words = search_words("low-dose IL-2")
    assert words == ["low", "dose", "il", "2"]
    hits = rank(rows, "low-dose IL-2", words)
    # s2: low 3 + dose 3 + 2 3 (title; "interleukin-2" reads "interleukin 2"), "il" starts no
    # word of the title: 9.
    # s1: low 0.5 + dose 0.5 (note) + il 1 + 2 1 (claim) + phrase "low dose il 2" in the note
    # 0.5: 3.5. s3: "il" inside "Plaquenil" starts no word: not found.
    assert [(h.study_id, h.score, h.field) for h in hits] == [
        ("s2", 9.0, "title"),
        ("s1", 3.5, "note"),
    ]


@pytest.mark.slow
def test_search_on_an_endpoint_gives_the_embedded_rows(aurora_kb: Path, own_oxigraph) -> None:  # type: ignore[no-untyped-def]
    pushed = _ekb(
        "push",
        "--store",
        own_oxigraph.store_url,
        "--graph-per-study",
        "--kb",
        str(aurora_kb),
        cwd=REPO,
    )
    assert pushed.returncode == 0, pushed.stderr
    args = ("search", "placebo", "steroids", "-f", "json")
    embedded = _ekb(*args, "--kb", str(aurora_kb), cwd=REPO)
    remote = _ekb(*args, "--endpoint", own_oxigraph.query_url, cwd=REPO)
    assert remote.returncode == 0, remote.stderr
    assert json.loads(remote.stdout) == json.loads(embedded.stdout) != []
