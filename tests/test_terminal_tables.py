"""``-f table`` on a terminal (a real pty): tables fit its width, headers are never split, and a
result too wide for it is shown one record per row."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

EKB = str(Path(sys.executable).parent / "ekb")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _on_terminal(args: list[str], columns: int, cwd: Path) -> list[str]:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EKB_")}
    env.update(COLUMNS=str(columns), LINES="50", TERM="xterm")
    proc = subprocess.Popen([EKB, *args], stdout=follower, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=120) == 0, out.decode(errors="replace")
    return [_ANSI.sub("", line).rstrip() for line in out.decode().splitlines()]


def test_a_narrow_result_is_a_table_within_the_width_with_whole_headers(tmp_path: Path) -> None:
    lines = _on_terminal(["stats"], 60, tmp_path)
    assert max(len(line) for line in lines) <= 60
    header = next(line for line in lines if "what" in line)
    assert re.search(r"\bwhat\b", header) and re.search(r"\bcount\b", header)
    assert any("triples" in line for line in lines)


def test_a_wide_result_on_a_narrow_terminal_is_one_record_per_row(tmp_path: Path) -> None:
    args = ["query", "studies", "-p", "condition=refractory lupus nephritis"]
    lines = _on_terminal(args, 80, tmp_path)
    assert max(len(line) for line in lines) <= 80
    records = [line for line in lines if line.startswith("record ")]
    assert len(records) == 2  # the two refractory lupus nephritis studies
    labels = [line.split()[0] for line in lines if line and not line.startswith(("record", " "))]
    for column in ("study_id", "title", "design", "source_types", "registration"):
        assert labels.count(column) == 2, column
    assert "2 rows" in lines


def test_the_same_result_on_a_wide_terminal_is_a_table_with_every_header_whole(
    tmp_path: Path,
) -> None:
    args = ["query", "studies", "-p", "condition=refractory lupus nephritis"]
    lines = _on_terminal(args, 400, tmp_path)
    header = next(line for line in lines if "study_id" in line)
    for column in ("study_id", "title", "design", "source_types", "registration", "enrolled"):
        assert re.search(rf"(?<![\w-]){column}(?![\w-])", header), column
    assert not any(line.startswith("record ") for line in lines)
