"""The README's console examples, run through the installed ``ekb`` and compared with what it shows.

Every code block of README.md that holds a ``$ `` command line carries a marker comment on the
line before it (``docs/DEVELOPING.md``, "README examples", has the whole convention)::

    <!-- example: exact -->              output compared exactly (trailing spaces aside)
    <!-- example: lines -->              the lines shown, in order; a line ``...`` stands for
                                         any number of elided lines (also none)
    <!-- example: skip reason="..." -->  not run, with the reason (a server it needs, a clock)

Options after the mode: ``session=NAME`` runs the blocks of one session in README order in one
working folder (``ekb init review`` in one block, ``ekb add ... --kb review`` in a later one);
``setup="..."`` is a shell snippet run in that folder first (its output is not compared).

Each block (or session) runs in a fresh temporary folder holding a copy of the ``tests/data``
files the repository ships, with the virtualenv's ``bin`` first on ``PATH``, so ``$ ekb ...``
is the installed command. A block's commands run in one ``bash``, so ``$ echo $?`` shows the
previous command's exit code; stdout and stderr are interleaved as on a terminal. Sessions are
separate test cases, so ``pytest -n 2`` runs them in parallel.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
MODES = ("exact", "lines", "skip")
GAP = "..."
_SEPARATOR = "@@ekb-readme-example-separator@@"
_MARKER = re.compile(r"^\s*<!--\s*example:\s*(?P<mode>\S+)(?P<options>.*?)-->\s*$")
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)")


@dataclass
class Step:
    """One ``$ command`` and the output shown under it."""

    command: str
    expected: list[str]
    line: int  # README line of the command


@dataclass
class Example:
    """One marked console block of the README."""

    line: int  # README line where the block starts
    mode: str
    options: dict[str, str]
    steps: list[Step] = field(default_factory=list)

    @property
    def session(self) -> str:
        return self.options.get("session", f"line{self.line}")


def _parse_options(text: str, where: int) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in shlex.split(text):
        key, sep, value = token.partition("=")
        if not sep or key not in ("reason", "session", "setup"):
            raise ValueError(f"README.md:{where}: unknown example option {token!r}")
        options[key] = value
    return options


def _code_blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Every fenced or indented code block: (index of its first line, its lines de-indented)."""
    blocks: list[tuple[int, list[str]]] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence:
            indent, mark = len(fence["indent"]), fence["fence"]
            body, j = [], i + 1
            while j < len(lines) and not lines[j].strip().startswith(mark):
                body.append(lines[j][indent:])
                j += 1
            blocks.append((i, body))
            i = j + 1
            continue
        previous_blank = i == 0 or not lines[i - 1].strip()
        if lines[i].startswith("    ") and previous_blank:
            body, j = [], i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                body.append(lines[j][4:])
                j += 1
            while body and not body[-1].strip():
                body.pop()
            blocks.append((i, body))
            i = j
            continue
        i += 1
    return blocks


def _marker_before(lines: list[str], start: int) -> re.Match[str] | None:
    j = start - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return _MARKER.match(lines[j]) if j >= 0 else None


def parse_readme(text: str) -> tuple[list[Example], list[str]]:
    """The README's marked examples, and a problem for every unmarked console block."""
    lines = text.splitlines()
    examples: list[Example] = []
    problems: list[str] = []
    for start, body in _code_blocks(lines):
        marker = _marker_before(lines, start)
        is_console = any(line.startswith("$ ") for line in body)
        if marker is None:
            if is_console:
                problems.append(
                    f"README.md:{start + 1}: console block without <!-- example: ... -->"
                )
            continue
        mode = marker["mode"]
        if mode not in MODES:
            problems.append(
                f"README.md:{start + 1}: unknown example mode {mode!r} (one of {MODES})"
            )
            continue
        example = Example(start + 1, mode, _parse_options(marker["options"], start + 1))
        if mode == "skip" and not example.options.get("reason"):
            problems.append(f'README.md:{start + 1}: a skipped example needs reason="..."')
        for offset, line in enumerate(body):
            if line.startswith("$ "):
                example.steps.append(Step(line[2:], [], start + 2 + offset))
            elif example.steps:
                example.steps[-1].expected.append(line)
        if not example.steps:
            problems.append(f"README.md:{start + 1}: a marked example has no '$ ' command")
        if mode == "exact" and any(
            line.strip() == GAP for step in example.steps for line in step.expected
        ):
            problems.append(f"README.md:{start + 1}: '...' in an exact example: mark it lines")
        examples.append(example)
    used = {_marker_line(lines, start) for start, _ in _code_blocks(lines)}
    for number, line in enumerate(lines, 1):
        if _MARKER.match(line) and number not in used:
            problems.append(f"README.md:{number}: example marker not followed by a code block")
    return examples, problems


def _marker_line(lines: list[str], start: int) -> int:
    """The 1-based line just above a block (blank lines skipped), where its marker would be."""
    j = start - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    return j + 1


def _normalise(lines: list[str]) -> list[str]:
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def matches(expected: list[str], actual: list[str], mode: str) -> bool:
    """Whether ``actual`` output shows what the README shows (``mode`` exact or lines)."""
    expected, actual = _normalise(expected), _normalise(actual)
    if mode == "exact":
        return expected == actual
    # lines: the shown runs of lines in order, each run contiguous, '...' between them.
    runs: list[list[str]] = [[]]
    for line in expected:
        if line.strip() == GAP:
            runs.append([])
        else:
            runs[-1].append(line)
    anchored_end = bool(runs[-1])
    if len(runs) == 1:
        return expected == actual
    position = 0
    for index, run in enumerate(runs):
        if not run:
            continue
        if index == 0:
            if actual[: len(run)] != run:
                return False
            position = len(run)
            continue
        if index == len(runs) - 1 and anchored_end:
            tail_start = len(actual) - len(run)
            return tail_start >= position and actual[tail_start:] == run
        found = next(
            (
                k
                for k in range(position, len(actual) - len(run) + 1)
                if actual[k : k + len(run)] == run
            ),
            None,
        )
        if found is None:
            return False
        position = found + len(run)
    return True


def run_steps(steps: list[Step], cwd: Path) -> list[list[str]]:
    """Run the commands in one bash in ``cwd``; the output of each, stdout and stderr together."""
    script = ["exec 2>&1"]
    for step in steps:
        script.append(step.command)
        script.append(f'__rc=$?; printf "\\n{_SEPARATOR}\\n"; (exit $__rc)')
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # stderr and stdout in the order they were written
        # One validation cache per session: the first `ekb validate` checks every file, later
        # ones only what changed (the output is the same; the suite stays fast).
        "EKB_CACHE": "always",
        "EKB_CACHE_DIR": str(cwd / ".cache"),
        "COLUMNS": "200",
        "TERM": "dumb",
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    chunks = done.stdout.split(f"\n{_SEPARATOR}\n")
    return [chunk.splitlines() for chunk in chunks[: len(steps)]]


EXAMPLES, PROBLEMS = parse_readme(README.read_text(encoding="utf-8"))


def _sessions() -> dict[str, list[Example]]:
    sessions: dict[str, list[Example]] = {}
    for example in EXAMPLES:
        sessions.setdefault(example.session, []).append(example)
    return sessions


SESSIONS = _sessions()


def test_every_readme_console_block_is_marked() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)


def test_the_readme_has_examples_that_run() -> None:
    run = [e for e in EXAMPLES if e.mode != "skip"]
    assert len(run) >= 20, f"only {len(run)} README examples are run"


def _workdir(tmp_path: Path) -> Path:
    """A folder standing for the top of a clone: copies of the shipped studies and test data."""
    shutil.copytree(ROOT / "kb" / "studies", tmp_path / "kb" / "studies")
    shutil.copytree(ROOT / "tests" / "data", tmp_path / "tests" / "data")
    return tmp_path


@pytest.mark.parametrize("session", sorted(SESSIONS), ids=str)
def test_readme_example_prints_what_the_readme_shows(session: str, tmp_path: Path) -> None:
    examples = SESSIONS[session]
    if all(e.mode == "skip" for e in examples):
        pytest.skip("; ".join(e.options["reason"] for e in examples))
    assert (BIN / "ekb").exists(), f"no installed ekb in {BIN}: pip install '.[test]' first"
    cwd = _workdir(tmp_path)
    failures: list[str] = []
    for example in examples:
        if example.mode == "skip":
            continue
        if "setup" in example.options:
            setup = subprocess.run(
                ["bash", "-c", example.options["setup"]],
                cwd=cwd,
                env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
                capture_output=True,
                text=True,
            )
            assert setup.returncode == 0, (
                f"README.md:{example.line}: setup failed: {setup.stdout}{setup.stderr}"
            )
        outputs = run_steps(example.steps, cwd)
        for step, actual in zip(example.steps, outputs, strict=True):
            if not matches(step.expected, actual, example.mode):
                diff = "\n".join(
                    difflib.unified_diff(
                        _normalise(step.expected),
                        _normalise(actual),
                        "README",
                        "actual",
                        lineterm="",
                    )
                )
                failures.append(f"README.md:{step.line}: $ {step.command}\n{diff}")
    assert not failures, "\n\n".join(failures)


# --- the comparison itself (so a README test that always passed would be caught) ---


def test_exact_mode_fails_on_a_changed_line() -> None:
    assert matches(["a", "b"], ["a", "b  "], "exact")
    assert not matches(["a", "b"], ["a", "c"], "exact")
    assert not matches(["a"], ["a", "b"], "exact")


def test_lines_mode_needs_a_gap_marker_for_every_elided_line() -> None:
    shown = ["first", "...", "middle", "...", "last"]
    assert matches(shown, ["first", "x", "middle", "y", "z", "last"], "lines")
    assert matches(shown, ["first", "middle", "last"], "lines")
    assert not matches(shown, ["first", "middle", "changed"], "lines")
    assert not matches(["first", "last"], ["first", "x", "last"], "lines")
    assert matches(["...", "tail"], ["a", "b", "tail"], "lines")
    assert not matches(["head", "..."], ["other", "head"], "lines")


def test_parser_finds_unmarked_console_blocks_and_reads_markers() -> None:
    text = "\n".join(
        [
            "text",
            "",
            "    $ ekb stats",
            "    x",
            "",
            '<!-- example: skip reason="needs a server" -->',
            "```",
            "$ ekb push",
            "```",
            "",
            "<!-- example: lines session=s -->",
            "",
            "    $ ekb a",
            "    ...",
            "    $ echo $?",
            "    0",
        ]
    )
    examples, problems = parse_readme(text)
    assert problems == ["README.md:3: console block without <!-- example: ... -->"]
    assert [(e.mode, e.session) for e in examples] == [("skip", "line7"), ("lines", "s")]
    assert [(s.command, s.expected) for s in examples[1].steps] == [
        ("ekb a", ["..."]),
        ("echo $?", ["0"]),
    ]
