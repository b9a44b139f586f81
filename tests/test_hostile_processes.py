"""Real processes against one knowledge base: concurrent ``ekb add``, ``kill -9`` in the
middle of a write, and a full disk (``ulimit -f``)."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from pathlib import Path

import pytest
from hostile import EKB, PILOT, assert_refused, ekb, make_kb, tree_hash

from kb.fileio import remove_stale_temporaries


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return make_kb(tmp_path)


@pytest.fixture(scope="module")
def new_form(tmp_path_factory: pytest.TempPathFactory) -> str:
    kb = make_kb(tmp_path_factory.mktemp("form"))
    shown = ekb("show", PILOT, "-f", "yaml", "--kb", kb)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.replace(f"  id: {PILOT}\n", "  id: race-2024\n", 1)


def test_concurrent_adds_of_one_new_study_add_it_once(
    kb: Path, tmp_path: Path, new_form: str
) -> None:
    forms = []
    for i in range(4):
        # Four curators' extractions of the same study, each slightly different.
        form = tmp_path / f"curator-{i}.yaml"
        form.write_text(new_form.replace("  year: 2021\n", "  year: 2021\n", 1) + f"# {i}\n")
        forms.append(form)
    env = {k: v for k, v in os.environ.items() if k != "EKB_KB"}
    procs = [
        subprocess.Popen(
            [*EKB, "add", str(f), "--kb", str(kb)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for f in forms
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2, 2, 2], results
    for code, err in results:
        assert "Traceback" not in err
        if code == 2:
            assert "already in the knowledge base" in err and "race-2024" in err
    assert (kb / "studies" / "race-2024.ttl").is_file()
    assert [p.name for p in (kb / "studies").iterdir() if p.name.startswith(".")] == []


def test_kill_9_during_add_leaves_whole_files_and_the_next_write_cleans_up(
    kb: Path, tmp_path: Path, new_form: str
) -> None:
    form = tmp_path / "new.yaml"
    form.write_text(new_form)
    before = {p.name: p.read_bytes() for p in (kb / "studies").iterdir()}
    proc = subprocess.Popen(
        [*EKB, "add", str(form), "--kb", str(kb)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    after = {p.name: p for p in (kb / "studies").iterdir()}
    for name, data in before.items():
        assert after[name].read_bytes() == data, f"{name} changed"
    new = after.get("race-2024.ttl")
    if new is not None:  # the write finished before the kill: it is whole
        assert new.read_text().rstrip().endswith(".")
    # A temporary file of a dead writer (what a kill between write and rename
    # leaves) is never read as a study and is removed by the next write.
    stale = kb / "studies" / f".race-2024.ttl.{proc.pid}.abcd1234.tmp"
    stale.write_text("half a file")
    stats = ekb("stats", "--kb", kb)
    assert stats.returncode == 0, stats.stderr
    assert remove_stale_temporaries(kb / "studies") == [stale]
    assert not stale.exists()


def test_stale_temporary_files_are_removed_by_the_next_add(
    kb: Path, tmp_path: Path, new_form: str
) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = kb / "studies" / f".other.ttl.{dead.pid}.zz9.tmp"
    stale.write_bytes(b"x" * 1000)
    form = tmp_path / "new.yaml"
    form.write_text(new_form)
    run = ekb("add", form, "--kb", kb)
    assert run.returncode == 0, run.stderr
    assert not stale.exists()


def _small_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_disk_full_during_add_leaves_the_kb_unchanged(
    kb: Path, tmp_path: Path, new_form: str
) -> None:
    form = tmp_path / "new.yaml"
    form.write_text(new_form)
    before = tree_hash(kb)
    run = ekb("add", form, "--kb", kb, preexec_fn=_small_file_limit)
    assert_refused(run, 3, "race-2024.ttl", kb=kb, before=before)


def test_disk_full_during_export_leaves_no_half_file(kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    run = ekb("export", "metafor", "-o", out, "--kb", kb, preexec_fn=_small_file_limit_tiny)
    assert run.returncode == 3 and "Traceback" not in run.output
    assert "out.csv" in run.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")] == []


def _small_file_limit_tiny() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
