"""A parsed Python file: its text, LibCST tree, model, and lazily computed positions."""

from __future__ import annotations

from bisect import bisect_right
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

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        for index, char in enumerate(self.text):
            if char == "\n":
                starts.append(index + 1)
        return starts

    def _offset_to_line_column(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def _locate_by_text(self, node: cst.BaseExpression) -> Location | None:
        """The node's position when its source text occurs exactly once in the file.

        LibCST round-trips source exactly, so an expression's own code is a substring of the
        file at its true position; when that substring is unique, its offset *is* the position.
        This avoids a whole-module position pass for most reported nodes.
        """
        if node.lpar:  # PositionProvider reports parenthesised expressions without the parens
            return None
        code = self.tree.code_for_node(node)
        start = self.text.find(code) if code else -1
        if start < 0 or self.text.find(code, start + 1) >= 0:
            return None
        line, column = self._offset_to_line_column(start)
        end_line, end_column = self._offset_to_line_column(start + len(code))
        return Location(line, column, end_line, end_column)

    def location(self, node: cst.CSTNode) -> Location:
        if isinstance(node, cst.BaseExpression) and "_positions" not in self.__dict__:
            located = self._locate_by_text(node)
            if located is not None:
                return located
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
