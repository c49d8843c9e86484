"""The modules of app/ depend on each other one way: no import cycle, even one hidden inside a
function (two modules that each need the other are one tangled module), and each imports on
its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app

APP_DIR = Path(app.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module `tree` imports, wherever the import statement stands (top level, in a function,
    in a try); `from a import b` names `a.b` (a module or a name of `a`: decided by the caller)."""
    found: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if _is_type_checking_block(node):
            continue  # annotations only: never executed
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package tree it imports."""
    sources = {_module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in sources.items():
        names = _imported_names(ast.parse(path.read_text(), str(path)), module, path.name == "__init__.py")
        # `from pkg import name` is an edge to pkg.name when that is a module, else to pkg.
        graph[module] = {
            name for name in names if name in sources and name != module and not _is_parent_of_a_known(name, names, sources)
        }
    return graph


def _is_parent_of_a_known(name: str, names: set[str], sources: dict[str, Path]) -> bool:
    """`from app import db` names both `app` and `app.db`: the edge is to app.db alone. A package
    whose own code was imported by name (`from app.leads import service`) is not an edge either:
    its __init__ is run, but never depends back."""
    return any(other.startswith(name + ".") and other in sources for other in names)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_app_has_no_import_cycle():
    """No module of app/ imports, directly or through others, a module that imports it back."""
    cycle = find_cycle(import_graph(APP_DIR))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_an_import_inside_a_function_closes_a_cycle(tmp_path):
    """The check sees imports hidden inside functions: a loop made that way is still reported."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.a import thing\n    return thing\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.b"} and graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == set()
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]


def test_every_app_module_imports_on_its_own():
    """Each module imports in a fresh interpreter state of app/ (no other app module loaded before
    it), so none relies on another having been imported first."""
    modules = sorted(_module_name(path, APP_DIR) for path in APP_DIR.rglob("*.py") if path.name != "__main__.py")
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'app' or m.startswith('app.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
