"""What a fix is (text edits, a title, safe or not) and the registry of fixers by rule code.

A fixer is a function of one finding and its file's text: it returns the fixes it can offer,
best first, or none. It never reads files and never sees the project; the finding's range says
where, and the text (or the LibCST tree :class:`Source` parses on demand) says what is there.
Python fixes are built with LibCST (nodes changed and printed back, so comments and formatting
inside them stay); Dockerfile, Procfile and shell fixes are exact text spans.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, ParentNodeProvider, PositionProvider

from fastlint.diagnostics import Diagnostic
from fastlint.discovery import FileKind


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (character offsets) with ``replacement``."""

    start: int
    end: int
    replacement: str

    def overlaps(self, other: Edit) -> bool:
        """Whether the two cannot both apply in one pass: they share characters, or both
        insert at the same place (their order would be a guess)."""
        if self == other:
            return False
        if self.start == self.end == other.start == other.end:
            return True
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Fix:
    title: str  # what the fix does, for --show-fixes and rule pages
    edits: tuple[Edit, ...]
    safe: bool  # False: it may change what the program does (ruff's "unsafe")


@dataclass
class Source:
    """One file's text as a fixer sees it, with offsets and a LibCST tree on demand."""

    path: str
    kind: FileKind
    text: str

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [0]
        for index, char in enumerate(self.text):
            if char == "\n":
                starts.append(index + 1)
        return starts

    def offset(self, line: int, column: int) -> int:
        """The offset of a 1-based line and column."""
        starts = self.line_starts
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + column - 1, len(self.text))

    def line_span(self, line: int) -> tuple[int, int]:
        """Start and end (before the line break) of a 1-based line."""
        start = self.offset(line, 1)
        end = self.text.find("\n", start)
        end = len(self.text) if end < 0 else end
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return start, end

    def line_of(self, offset: int) -> int:
        return bisect_right(self.line_starts, offset)

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    # ------------------------------------------------------------------------ Python

    @cached_property
    def _wrapper(self) -> MetadataWrapper:
        return MetadataWrapper(cst.parse_module(self.text), unsafe_skip_copy=True)

    @property
    def tree(self) -> cst.Module:
        return self._wrapper.module

    @cached_property
    def positions(self) -> dict[cst.CSTNode, CodeRange]:
        return dict(self._wrapper.resolve(PositionProvider))

    @cached_property
    def parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        return dict(self._wrapper.resolve(ParentNodeProvider))

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        where = self.positions[node]
        return (
            self.offset(where.start.line, where.start.column + 1),
            self.offset(where.end.line, where.end.column + 1),
        )

    def node_at(self, diagnostic: Diagnostic, kind: type[N]) -> N | None:
        """The node of ``kind`` whose range is exactly the finding's."""
        wanted = (diagnostic.line, diagnostic.column, diagnostic.end_line, diagnostic.end_column)
        for node, where in self.positions.items():
            if isinstance(node, kind) and wanted == (
                where.start.line,
                where.start.column + 1,
                where.end.line,
                where.end.column + 1,
            ):
                return node
        return None

    def ancestors(self, node: cst.CSTNode) -> Iterator[cst.CSTNode]:
        parent = self.parents.get(node)
        while parent is not None:
            yield parent
            parent = self.parents.get(parent)

    def code(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def replace(self, node: cst.CSTNode, new: cst.CSTNode | str) -> Edit:
        start, end = self.span(node)
        return Edit(start, end, new if isinstance(new, str) else self.code(new))


N = TypeVar("N", bound=cst.CSTNode)
Fixer = Callable[[Diagnostic, Source], "list[Fix]"]
FIXERS: dict[str, Fixer] = {}


def fixes(*codes: str) -> Callable[[Fixer], Fixer]:
    """Decorator: register a fixer for findings of ``codes``."""

    def register(fixer: Fixer) -> Fixer:
        for code in codes:
            if code in FIXERS:
                raise RuntimeError(f"two fixers for {code}")
            FIXERS[code] = fixer
        return fixer

    return register


def fixes_for(diagnostic: Diagnostic, source: Source) -> list[Fix]:
    """The fixes offered for one finding, best first; a fixer that fails offers none."""
    fixer = FIXERS.get(diagnostic.code)
    if fixer is None:
        return []
    try:
        return [fix for fix in fixer(diagnostic, source) if fix.edits]
    except Exception:  # a fixer bug, or text it did not expect: no fix, never a crash
        return []
