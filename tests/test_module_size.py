"""No module in ``kb/`` grows past about 800 lines without saying why at its top.

A module over :data:`LIMIT` lines must either be split along its seams (a package, one module per
step) or carry a line ``Size: <reason>`` in its module docstring. Modules another issue is
splitting right now are listed in :data:`BEING_SPLIT`; an entry that is no longer over the limit
fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KB = ROOT / "kb"
LIMIT = 800

#: Over the limit today, split by the issue named (remove the line when it lands).
BEING_SPLIT: dict[str, str] = {}


def _modules() -> list[Path]:
    return sorted(p for p in KB.rglob("*.py") if ".venv" not in p.parts)


def _line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def size_reason(path: Path) -> str | None:
    """The ``Size: ...`` line of a module's docstring, if it states one."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    for line in doc.splitlines():
        if line.strip().startswith("Size:") and line.strip()[5:].strip():
            return line.strip()[5:].strip()
    return None


def oversized(modules: list[Path], root: Path = ROOT) -> list[str]:
    """Modules over the limit that neither state a reason nor are being split."""
    found = []
    for path in modules:
        rel = path.relative_to(root).as_posix()
        lines = _line_count(path)
        if lines > LIMIT and rel not in BEING_SPLIT and size_reason(path) is None:
            found.append(f"{rel}: {lines} lines (split it, or state 'Size: <why>' at its top)")
    return found


def test_no_module_in_kb_is_over_the_limit_without_a_stated_reason() -> None:
    assert not oversized(_modules())


@pytest.mark.parametrize("rel", sorted(BEING_SPLIT))
def test_modules_listed_as_being_split_are_still_over_the_limit(rel: str) -> None:
    path = ROOT / rel
    if not path.exists():
        pytest.fail(f"{rel} no longer exists (split?): remove it from BEING_SPLIT")
    assert _line_count(path) > LIMIT, f"{rel} is within {LIMIT} lines now: remove it"


def test_the_size_check_catches_a_long_module_and_accepts_a_stated_reason(tmp_path: Path) -> None:
    long_body = "x = 1\n" * (LIMIT + 1)
    silent = tmp_path / "silent.py"
    silent.write_text('"""A module."""\n' + long_body, encoding="utf-8")
    reasoned = tmp_path / "reasoned.py"
    reasoned.write_text(
        '"""A generated table.\n\nSize: one literal table generated from the vocabulary."""\n'
        + long_body,
        encoding="utf-8",
    )
    assert oversized([silent, reasoned], tmp_path) == [
        f"silent.py: {LIMIT + 2} lines (split it, or state 'Size: <why>' at its top)"
    ]
    assert size_reason(reasoned) == "one literal table generated from the vocabulary."
