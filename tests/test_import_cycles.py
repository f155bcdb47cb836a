"""No module of session_tui imports itself back, however indirectly.

The graph is read from the source with `ast`, so it sees every import statement:
module-level ones, those inside functions (lazy imports run later, but still tie
the two modules together), those under `if TYPE_CHECKING:`, and relative ones
(`from . import x`, `from ..data import db`). `from package import name` points at
the submodule `package.name` when there is one, else at the package itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import session_tui

PACKAGE = Path(session_tui.__file__).resolve().parent


def _modules(package_dir: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _imported(node: ast.ImportFrom, package: str) -> str:
    """The module a `from … import …` statement names, relative forms resolved."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(package_dir: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package -> the package's modules it imports anywhere."""
    modules = _modules(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                target = _imported(node, package)
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:
                        graph[name].add(sub)
                    elif target in modules:
                        graph[name].add(target)
    return graph


def _components(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph[node]:
                        yield sorted(component)


def _a_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module (breadth-first)."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    return component  # pragma: no cover - a component always holds a cycle


def find_cycles(graph: dict[str, set[str]]) -> list[str]:
    return [
        " -> ".join(_a_cycle(graph, component))
        + (f"  (modules in this cycle: {', '.join(component)})" if len(component) > 2 else "")
        for component in _components(graph)
    ]


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "from . import b\nimport pkg.c\n",
        "b.py": "def later():\n    from pkg.sub import d\n",
        "c.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.sub.d import x\n",
        "sub/__init__.py": "",
        "sub/d.py": "from ..a import thing\nfrom .. import c as see\nimport os\n",
        "sub/e.py": "from . import d, missing\nfrom .d import y\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.b", "pkg.c"}  # relative `from . import`, plain import
    assert graph["pkg.b"] == {"pkg.sub.d"}  # inside a function
    assert graph["pkg.c"] == {"pkg.sub.d"}  # under TYPE_CHECKING
    assert graph["pkg.sub.d"] == {"pkg.a", "pkg.c"}  # `..a`, `from .. import c`
    # A name that is not a submodule points at the package itself.
    assert graph["pkg.sub.e"] == {"pkg.sub.d", "pkg.sub"}
    assert find_cycles(graph) == [
        "pkg.a -> pkg.b -> pkg.sub.d -> pkg.a"
        "  (modules in this cycle: pkg.a, pkg.b, pkg.c, pkg.sub.d)"
    ]


def test_the_real_graph_is_read() -> None:
    graph = import_graph()
    assert "session_tui.data.tables" in graph["session_tui.data.repositories.contacts"]
    assert "session_tui.data.csvio.importer" in graph["session_tui.data.csvio"]


def test_finding_cycles_names_each_one() -> None:
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a"},
        "d": {"d"},
        "e": {"a"},
    }
    assert find_cycles(graph) == [
        "a -> b -> c -> a  (modules in this cycle: a, b, c)",
        "d -> d",
    ]


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (lazy imports count too):\n" + "\n".join(cycles)
