"""The rooms hold: who may import whom, and no import circles between files.

Read from the source (every import, also inside functions, where a circle would hide), not from
what happens to be imported at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
DOMAINS = {p.name for p in APP.iterdir() if (p / "__init__.py").exists()} - {"core", "demo"}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every app module `path` imports (`from app.x import y` counts y when it is a module)."""
    found: set[str] = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("app")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("app"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return {m for m in found if m in MODULES}


MODULES = {module_name(p): p for p in APP.rglob("*.py")}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_core_imports_no_domain():
    wrong = {
        (module, target)
        for module, targets in GRAPH.items()
        if domain_of(module) == "core"
        for target in targets
        if domain_of(target) in DOMAINS
    }
    assert wrong == set()


def test_no_domain_imports_the_demo():
    wrong = {
        (module, target)
        for module, targets in GRAPH.items()
        if domain_of(module) not in ("demo", None)
        for target in targets
        if domain_of(target) == "demo"
    }
    assert wrong == set()


def _is_views(module: str) -> bool:
    return module.rsplit(".", 1)[-1] in ("views", "team_views", "webhooks")


def test_no_domain_imports_another_domains_views():
    wrong = {
        (module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if _is_views(target)
        and not target.startswith(module.rpartition(".")[0] + ".")
        and not target.startswith(module + ".")
    }
    assert wrong == set()


def test_a_plan_write_reaches_reminders_and_texts_only_through_signals():
    """careplan sends `plan_item_changed` / `goal_changed`; it never calls down into the
    reminders, texts or notifications themselves."""
    below = ("reminders", "texting", "notifications")
    wrong = {
        (module, target)
        for module, targets in GRAPH.items()
        if domain_of(module) == "careplan"
        for target in targets
        if domain_of(target) in below
    }
    assert wrong == set()


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan). A package's
    `__init__` registering its own views is not a circle between files."""

    def edges(module: str):
        for target in GRAPH[module]:
            own_submodule = MODULES[module].name == "__init__.py" and target.startswith(
                module + "."
            )
            if not own_submodule:
                yield target

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges(node):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_circles_between_files():
    assert _cycles() == []


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_each_domain_registers_itself(domain):
    source = (APP / domain / "__init__.py").read_text()
    assert "def init_app(app" in source, f"app/{domain} has no init_app"
