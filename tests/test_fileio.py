"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kb.errors import CouldNotRun
from kb.fileio import atomic_write_text


def test_atomic_write_gives_the_mode_an_ordinary_open_would(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = tmp_path / "out.csv"
        atomic_write_text(target, "a,b\n")
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
    finally:
        os.umask(umask)


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "study.ttl"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_no_temporary_file_and_the_old_content(tmp_path: Path) -> None:
    target = tmp_path / "study.ttl"
    target.write_text("old")

    class Boom(Exception):
        pass

    class Exploding(str):
        def encode(self, *args: object, **kwargs: object) -> bytes:  # type: ignore[override]
            raise Boom

    with pytest.raises(Boom):
        atomic_write_text(target, Exploding("new"))
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.ttl"]


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CouldNotRun, match="cannot write"):
        atomic_write_text(blocker / "sub" / "x.txt", "x")


def test_a_folder_is_swept_of_dead_writers_temporaries_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sweeping lists the folder: on every write, writing n files was quadratic.
    import subprocess
    import sys

    import kb.fileio

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".old.ttl.{dead.pid}.zz9.tmp"
    stale.write_text("half a file")
    sweeps: list[Path] = []
    real = kb.fileio.remove_stale_temporaries
    monkeypatch.setattr(
        kb.fileio, "remove_stale_temporaries", lambda f: sweeps.append(f) or real(f)
    )
    for i in range(50):
        atomic_write_text(tmp_path / f"s{i}.ttl", "x")
    assert sweeps == [tmp_path] and not stale.exists()
    # A writer that dies later is swept by the next process's first write there.
    stale.write_text("half a file")
    atomic_write_text(tmp_path / "s50.ttl", "x")
    assert stale.exists()
    target = str(tmp_path / "n.ttl")
    code = f"from kb.fileio import atomic_write_text; atomic_write_text({target!r}, 'x')"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert not stale.exists()
