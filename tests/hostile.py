"""Helpers for the hostile-input suite (tests/test_hostile_*.py).

Every case runs the real ``ekb`` in a subprocess on a small knowledge base of
its own, hashes the knowledge-base folder before and after, and checks what a
user sees: the documented exit code (0 ok; 1 does not conform / check failed;
2 usage error; 3 could not run), no traceback, a message naming the file or
field, and the folder byte for byte unchanged after a failure. All inputs here
are synthetic (made by the tests), never clinical data.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kb import paths

PILOT = "il2-refractory-ln-2021"
RELATED = "il2-refractory-ln-acr-2018"
EKB = [sys.executable, "-c", "from kb.cli import main; main()"]


def make_kb(root: Path) -> Path:
    """A knowledge base with the pilot study and the abstract it links to."""
    kb = root / "kb"
    (kb / "studies").mkdir(parents=True)
    (kb / "vocab").mkdir()
    for name in (PILOT, RELATED):
        shutil.copy(paths.shipped_kb_dir() / "studies" / f"{name}.ttl", kb / "studies")
    return kb


def tree_hash(folder: Path) -> str:
    """SHA-256 over every entry's relative path, kind and bytes (links by target)."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder).as_posix()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            digest.update(f"L {rel} -> {os.readlink(path)}\n".encode())
        elif stat.S_ISREG(mode):
            digest.update(f"F {rel}\n".encode() + path.read_bytes())
        else:
            digest.update(f"{stat.S_IFMT(mode)} {rel}\n".encode())
    return digest.hexdigest()


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def ekb(
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
    input: str | None = None,
    preexec_fn: object = None,
) -> Run:
    """Run the real command line; stdin closed unless ``input`` is given."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("EKB_KB", "EKB_STORE_TOKEN")}
    full_env.setdefault("EKB_CACHE", "never")
    full_env.update(env or {})
    proc = subprocess.run(
        [*EKB, *map(str, args)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        env=full_env,
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        preexec_fn=preexec_fn,  # type: ignore[arg-type]
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_refused(
    run: Run, code: int, *names: str, kb: Path | None = None, before: str = ""
) -> None:
    """The documented exit code, no traceback, each of ``names`` in the message, KB unchanged."""
    assert run.returncode == code, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.output, run.output[-3000:]
    for name in names:
        assert name in run.stderr, (name, run.stderr[-2000:])
    if kb is not None:
        assert tree_hash(kb) == before, "the knowledge base changed after a failure"
