"""No import cycles inside ``kb/``, counting imports at module level and inside functions.

A function-level import hides a cycle from Python at start-up but not from a
reader: the two modules still depend on each other. Imports under
``if TYPE_CHECKING:`` are left out (they never run). A submodule's implicit
import of its package ``__init__`` is not counted (every package would be a
cycle), only the imports written in the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

KB = Path(__file__).resolve().parent.parent / "kb"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(path: Path, package: str, modules: set[str]) -> set[str]:
    """Every module name an import statement in ``path`` may refer to."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            # ``from package import submodule`` needs the submodule, and the package
            # only implicitly (not counted, as above); ``from module import name``
            # needs the module.
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                names.add(submodule if submodule in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return names


def import_graph(root: Path = KB) -> dict[str, set[str]]:
    """Module -> the modules of ``root`` it imports (top level and in functions)."""
    files = {_module_name(f, root): f for f in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {
            m for m in _imported_names(path, package, set(files)) if m in files and m != name
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_inside_kb() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles inside kb/: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_check_finds_a_function_level_cycle(tmp_path: Path) -> None:
    # The checker itself must be able to fail: two modules that import each
    # other, one of them only inside a function, form a cycle.
    pkg = tmp_path / "kb"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from kb.b import thing\n")
    (pkg / "b.py").write_text("def thing():\n    from kb import a\n    return a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kb.a import x\n"
    )
    (pkg / "d.py").write_text("from . import c\n")
    assert cycles(import_graph(pkg)) == [["kb.a", "kb.b"]]
