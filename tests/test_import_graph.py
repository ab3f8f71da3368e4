"""The layering of design.md, pinned over the import graph of src/runyard (read with `ast`).

Layers (an arrow means "may import"): cli -> sdk -> compute -> client -> store/artifacts ->
core. The server sits beside the client: it uses store, artifacts and core, and mounts
mlflow (MLflow's REST API), which uses store, artifacts and core and is imported by the server only
(its in-process plugin modules are entry points mlflow loads, and open a workspace as the SDK does).
Entry points (the runner a submission starts, the job entry on Ray, `runyard server`, `python -m
runyard`) may reach one layer further than the package they live in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "runyard"

#: Layer -> the other layers its modules may import.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "version": set(),
    "store": {"core"},
    "artifacts": {"core"},
    "client": {"core", "store", "artifacts"},
    "compute": {"core", "client"},
    "sdk": {"core", "client", "compute"},
    "server": {"core", "store", "artifacts", "version", "mlflow"},
    # MLflow's REST API over the store; the server mounts it and hands it the token check.
    "mlflow": {"core", "store", "artifacts"},
    "cli": {"core", "version", "sdk", "client", "store"},
    # The package itself re-exports the public API (the SDK's classes load lazily).
    "runyard": {"core", "version", "sdk"},
}

#: Entry points: a module that starts a process, and what it may import beyond its layer.
ENTRY_POINTS: dict[str, set[str]] = {
    # The runner is a process of its own that uses the SDK like any script (design.md).
    "runyard.compute.runner": {"sdk"},
    # What a Ray job runs: the user's script, then an upload of ./outputs through the SDK.
    "runyard.compute.entry": {"sdk"},
    # How the runner starts a local script: the SDK's azureml import hook, then the script.
    "runyard.compute.launch": {"sdk"},
    # `runyard server` starts the server.
    "runyard.cli.serve": {"server"},
    "runyard.__main__": {"cli"},
    # The in-process MLflow plugin: entry points mlflow loads for runyard:// URIs. They open
    # the workspace as a script would (the SDK's Workspace, its transport and pipeline).
    "runyard.mlflow.plugin_store": {"client", "sdk"},
    "runyard.mlflow.plugin_artifacts": {"sdk"},
}


@dataclass(frozen=True)
class Import:
    """One import statement of a runyard module."""

    source: str
    target: str
    #: Runs when the module loads (not in a function, not under TYPE_CHECKING).
    at_load: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The runyard module an imported dotted name refers to (a module, or its parent)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> Iterator[Import]:
    path = MODULES[module]
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, at_load: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name)
                    if target is not None:
                        yield Import(module, target, at_load)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - child.level + 1]
                    stem = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    stem = child.module or ""
                for alias in child.names:
                    target = _resolve(f"{stem}.{alias.name}")
                    if target is not None:
                        yield Import(module, target, at_load)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                yield from visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), False)
                for stmt in child.orelse:
                    yield from visit(ast.Module(body=[stmt], type_ignores=[]), at_load)
            else:
                yield from visit(child, at_load)

    yield from visit(ast.parse(path.read_text(), str(path)), True)


IMPORTS = [imp for module in sorted(MODULES) for imp in _imports(module)]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else parts[0]


def test_the_graph_is_read() -> None:
    """A sanity check on the reader itself: known edges of each kind are found."""
    edges = {(i.source, i.target, i.at_load) for i in IMPORTS}
    assert ("runyard.store.sql", "runyard.core.errors", True) in edges
    assert ("runyard.sdk.workspace", "runyard.sdk.experiment", False) in edges
    assert len(MODULES) > 60 and len(IMPORTS) > 300


def test_every_layer_imports_only_what_design_md_allows() -> None:
    """Lazy and typing-only imports count too: they are dependencies all the same."""
    wrong = []
    for imp in IMPORTS:
        source, target = _layer(imp.source), _layer(imp.target)
        if source == target:
            continue
        allowed = ALLOWED[source] | ENTRY_POINTS.get(imp.source, set())
        if target not in allowed:
            wrong.append(f"{imp.source} imports {imp.target} ({source} -> {target})")
    assert wrong == []


def test_core_imports_no_other_layer() -> None:
    assert [i for i in IMPORTS if _layer(i.source) == "core" and _layer(i.target) != "core"] == []


def test_store_and_artifacts_import_only_core() -> None:
    wrong = [
        i
        for i in IMPORTS
        if _layer(i.source) in ("store", "artifacts")
        and _layer(i.target) not in (_layer(i.source), "core")
    ]
    assert wrong == []


def test_only_the_server_imports_the_mlflow_layer() -> None:
    wrong = [
        i
        for i in IMPORTS
        if _layer(i.target) == "mlflow" and _layer(i.source) not in ("mlflow", "server")
    ]
    assert wrong == []


def test_only_entry_points_import_the_cli_and_the_server() -> None:
    wrong = [
        i
        for i in IMPORTS
        if _layer(i.target) in ("cli", "server")
        and _layer(i.source) != _layer(i.target)
        and _layer(i.target) not in ENTRY_POINTS.get(i.source, set())
    ]
    assert wrong == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_no_module_imports_itself_back_when_loading() -> None:
    """No circle among the imports that run at load time (a package's own `__init__`
    re-exporting its modules is not one: Python loads the package first)."""
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if imp.at_load and imp.source != imp.target:
            edges.setdefault(imp.source, set()).add(imp.target)
    assert _cycles(edges) == []


def test_no_circle_between_layers() -> None:
    """Counting every import (lazy and typing-only too), layers form no circle; entry
    points count as layers of their own, as they are processes of their own."""
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:

        def node(module: str) -> str:
            return module if module in ENTRY_POINTS else _layer(module)

        source, target = node(imp.source), node(imp.target)
        if _layer(imp.source) != _layer(imp.target):  # an entry point is of its own layer too
            edges.setdefault(source, set()).add(target)
    assert _cycles(edges) == []


@pytest.mark.parametrize(
    "module",
    ["runyard.core.status", "runyard.core.errors", "runyard.core.metrics", "runyard.core.wire"],
)
def test_importing_core_loads_nothing_heavier_than_pydantic(module: str) -> None:
    """The vocabulary loads without SQLAlchemy, httpx, FastAPI or the SDK."""
    code = (
        f"import sys, {module}\n"
        "heavy = {'sqlalchemy', 'httpx', 'fastapi', 'fsspec', 'click', 'runyard.sdk'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_server_loads_without_the_sdk() -> None:
    code = (
        "import sys, runyard.server.app\n"
        "print(sorted(m for m in sys.modules if m.startswith(('runyard.sdk', 'runyard.compute'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_no_layer_reaches_into_the_sdks_private_plumbing() -> None:
    """`Workspace.transport` and `Workspace.pipeline` are the public way to a workspace's
    connection; `_transport`, `_pipeline` and `_connection` stay inside sdk/."""
    private = {"_transport", "_pipeline", "_connection"}
    found = []
    for module, path in MODULES.items():
        if _layer(module) == "sdk":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in private:
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id == "self"):
                    found.append(f"{module}:{node.lineno} .{node.attr}")
    assert found == []
