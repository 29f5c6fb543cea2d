"""The package's rooms: no import circle anywhere, and each room imports only the rooms
it is built on (docs/architecture.md). Every import counts, type-only and late ones too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ctsim"

#: Each room and the rooms (or top-level modules) it may import besides itself.
ALLOWED = {
    "core": {"errors", "data", "files"},
    "analysis": {"core", "errors", "writing"},
    "runs": {"core", "analysis", "errors", "resources", "files", "_version", "writing"},
    "calibration": {"core", "analysis", "runs", "errors", "files", "_version", "writing"},
    "teaching": {"core", "analysis", "runs", "errors", "resources", "files", "writing"},
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _target(name: str) -> str:
    """The module an imported name resolves to (its package when it is not a module)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def imports_of(module: str) -> set[str]:
    """The ctsim modules ``module`` imports, anywhere in its text."""
    tree = ast.parse(MODULES[module].read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found |= {_target(n) for n in names if n.split(".")[0] == "ctsim"}
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycle() -> list[str] | None:
    """One import circle, as the modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH.get(m, ())):
            # a module importing its own package's face is not a circle of rooms
            if m.startswith(n + "."):
                continue
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_import_graph_has_no_circle():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_walker_finds_a_known_import():
    # the pipeline imports the runs' store: a walker that found nothing would pass the rest
    assert "ctsim.runs.store" in GRAPH["ctsim.runs.pipeline"]
    assert "ctsim.core.rules" in GRAPH["ctsim.core.phases"]


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_the_rooms_beneath_it(room):
    wrong = []
    for module, targets in GRAPH.items():
        if module.split(".")[1:2] != [room]:
            continue
        for t in targets:
            other = t.split(".")[1] if t.count(".") else "ctsim"
            if other != room and other not in ALLOWED[room]:
                wrong.append(f"{module} imports {t}")
    assert not wrong, "\n".join(wrong)
