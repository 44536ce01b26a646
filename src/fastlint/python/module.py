"""A parsed Python file: its text, LibCST tree, model, and lazily computed positions."""

from __future__ import annotations

from functools import cached_property

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from fastlint.diagnostics import Location
from fastlint.python.model import ModuleModel, build_model


class PythonModule:
    def __init__(self, path: str, text: str, tree: cst.Module, name: str, is_package: bool):
        self.path = path
        self.text = text
        self.tree = tree
        self.name = name
        self.model: ModuleModel = build_model(tree, name, is_package)

    @cached_property
    def _positions(self):  # type: ignore[no-untyped-def]
        # Positions cost a full code generation pass, so they are computed only for a module
        # that reports something, and at most once.
        wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)

    def location(self, node: cst.CSTNode) -> Location:
        code_range = self._positions[node]
        return Location(
            code_range.start.line,
            code_range.start.column + 1,
            code_range.end.line,
            code_range.end.column + 1,
        )

    def code(self, node: cst.CSTNode) -> str:
        """Source text of ``node`` as written (for messages)."""
        return self.tree.code_for_node(node)


def parse_python(text: str) -> cst.Module:
    """Parse with LibCST's native parser, which accepts grammar newer than the interpreter."""
    return cst.parse_module(text)


def module_name_for(relative_parts: tuple[str, ...]) -> tuple[str, bool]:
    """Dotted module name for a path relative to the project root, and whether it is a package.

    ``src/app/db/__init__.py`` → (``app.db``, True). A leading ``src`` folder is the src layout.
    """
    parts = list(relative_parts)
    if parts and parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    is_package = parts[-1] == "__init__.py"
    if is_package:
        parts = parts[:-1]
    else:
        parts[-1] = parts[-1][: -len(".py")] if parts[-1].endswith(".py") else parts[-1]
    return ".".join(parts), is_package
