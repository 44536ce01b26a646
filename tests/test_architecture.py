"""The shape STYLE.md asks for, checked on the source: no import cycles, the speed layer wraps
the engine from outside, rules hold no cache bookkeeping, front ends are rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "fastlint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def imports_of(name: str) -> set[str]:
    """The fastlint modules ``name`` imports, at module level or inside functions (a lazy
    import is still a dependency), leaving out ``if TYPE_CHECKING:`` blocks. ``from pkg
    import sub`` depends on ``pkg.sub`` when that is a module, else on ``pkg``."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - (child.level - 1)]
                    base = ".".join([*parts, base] if base else parts)
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.add(sub if sub in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports_of(name) for name in MODULES}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(GRAPH):
        if node not in index:
            connect(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_the_check_finds_a_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(GRAPH, "fastlint.engine", {*GRAPH["fastlint.engine"], "fastlint.cli"})
    monkeypatch.setitem(GRAPH, "fastlint.cli", {*GRAPH["fastlint.cli"], "fastlint.engine"})
    assert any({"fastlint.cli", "fastlint.engine"} <= set(cycle) for cycle in _cycles())


def _importers_of(prefix: str) -> dict[str, set[str]]:
    return {
        name: {target for target in targets if target.startswith(prefix)}
        for name, targets in GRAPH.items()
        if any(target.startswith(prefix) for target in targets)
    }


def test_the_engine_rules_and_front_ends_import_nothing_of_the_speed_layer() -> None:
    allowed = ("fastlint.incremental", "fastlint.cli")
    offenders = {
        name: targets
        for name, targets in _importers_of("fastlint.incremental").items()
        if not name.startswith(allowed)
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("room", "others"),
    [
        ("fastlint.python", ("fastlint.docker", "fastlint.deploy", "fastlint.rules.")),
        ("fastlint.docker", ("fastlint.python", "fastlint.deploy", "fastlint.rules.")),
    ],
)
def test_front_ends_are_rooms(room: str, others: tuple[str, ...]) -> None:
    """The Python and Docker front ends import neither each other nor the rules; the
    deployment model (fastlint.deploy) and the engine connect them."""
    crossing = {
        name: {target for target in targets if target.startswith(others)}
        for name, targets in GRAPH.items()
        if name.startswith(room)
    }
    assert {name: found for name, found in crossing.items() if found} == {}


BOOKKEEPING = ("Memo(", "AnswerTable", "register_answers", ".answers(", "hook.", "install(")


@pytest.mark.parametrize("path", sorted((PACKAGE / "rules").glob("*.py")), ids=lambda p: p.name)
def test_rules_hold_no_memo_or_cache_code(path: Path) -> None:
    """A rule author writes the rule, its page and its fixtures: shared tables, answers kept
    across runs and text pre-scans belong to the front ends."""
    text = path.read_text(encoding="utf-8")
    assert [word for word in BOOKKEEPING if word in text] == []
    assert "project.memo(" not in text
