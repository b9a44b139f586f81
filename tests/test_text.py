"""Text helpers, and the layering rule that keeps them out of the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kb.text import did_you_mean

KB = Path(__file__).resolve().parents[1] / "kb"


def test_did_you_mean_names_the_closest_candidate() -> None:
    assert did_you_mean("revmen", ["revman", "ris", "csv"]) == " Did you mean 'revman'?"


def test_did_you_mean_is_empty_when_nothing_is_close() -> None:
    assert did_you_mean("zzzz", ["studies", "claims"]) == ""


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


LIBRARY_FILES = sorted(p for p in KB.rglob("*.py") if "cli" not in p.relative_to(KB).parts)


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(KB)))
def test_no_library_module_imports_the_command_line(path: Path) -> None:
    bad = {m for m in _imported_modules(path) if m == "kb.cli" or m.startswith("kb.cli.")}
    assert not bad, f"{path.relative_to(KB)} imports {sorted(bad)}"
