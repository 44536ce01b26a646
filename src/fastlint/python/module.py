"""A Python file: its text, LibCST tree, model, and lazily computed positions.

Every module is *deferred*: its text is read, and it is parsed the first time something asks
for its tree or model. A module the run reports on is parsed when its check starts (in
whichever process checks it, see :mod:`fastlint.incremental.workers`). A module that is only
context (a pre-commit run names two files; the rest of the project is there to resolve imports
and call chains) is parsed only if a check needs it. Whole-project scans look at ``text`` for
their tokens first, so a run that reports on one file parses that file and the modules its
findings actually depend on. Reading ``tree`` or ``model`` is reported to
:data:`fastlint.python.reads.hook`, and so is quoting the module's text and parsing it: the one
place the speed layer learns what a file's findings were computed from.
"""

from __future__ import annotations

import io
import tokenize
from bisect import bisect_right
from functools import cached_property
from typing import Any, Callable

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from fastlint.diagnostics import Location
from fastlint.python import reads
from fastlint.python.model import ModuleModel, build_model, children_in_source_order


class PythonModule:
    def __init__(self, path: str, text: str, tree: cst.Module, name: str, is_package: bool):
        self.path = path
        self.text = text
        self.name = name
        self.is_package = is_package
        self._parse: Callable[[], cst.Module] | None = None
        self._tree: cst.Module | None = tree
        self._model: ModuleModel | None = build_model(tree, name, is_package)
        self.failure: Exception | None = None

    @classmethod
    def deferred(
        cls, path: str, text: str, name: str, is_package: bool, parse: Callable[[], cst.Module]
    ) -> PythonModule:
        """A module parsed on first use by ``parse``. If that fails (the file does not parse:
        it is context only, so its FL000 is not reported), the module is empty."""
        module = cls.__new__(cls)
        module.path, module.text, module.name, module.is_package = path, text, name, is_package
        module._parse, module._tree, module._model = parse, None, None
        module.failure = None
        return module

    @classmethod
    def empty(cls, path: str, text: str, name: str, is_package: bool) -> PythonModule:
        """A module whose file does not parse: it exists (imports of it resolve no further),
        but defines nothing. A reported file and a context file that fail alike look alike."""
        return cls(path, text, cst.Module(body=[]), name, is_package)

    @property
    def tree(self) -> cst.Module:
        """The whole tree (its syntax is read)."""
        reads.hook.read(self.path, reads.WHOLE)
        return self._parsed_tree()

    @property
    def model(self) -> ModuleModel:
        """The model (the module's syntax is read)."""
        reads.hook.read(self.path, reads.WHOLE)
        if self._model is None:
            self._load()
        assert self._model is not None
        return self._model

    def _parsed_tree(self) -> cst.Module:
        """The tree, unreported: for rendering and locating nodes that were reached (and
        reported) through the model."""
        if self._tree is None:
            self._load()
        assert self._tree is not None
        return self._tree

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Exception | None:
        """Parse now (a no-op once parsed). The error that left the module empty, if any:
        the engine reports it as the file's FL000 when the file is one it reports on."""
        if self._model is None:
            self._load()
        return self.failure

    def _load(self) -> None:
        assert self._parse is not None
        reads.hook.parsed(self.path)
        try:
            tree = self._parse()
            model = build_model(tree, self.name, self.is_package)
        except Exception as error:  # UnreadableFile, RecursionError: an empty module
            self.failure = error
            tree = cst.Module(body=[])
            model = build_model(tree, self.name, self.is_package)
        self._tree, self._model, self._parse = tree, model, None

    @cached_property
    def _positions(self) -> Any:
        # Positions cost a full code generation pass, so they are computed only for a module
        # that reports something, and at most once.
        wrapper = MetadataWrapper(self._parsed_tree(), unsafe_skip_copy=True)
        return wrapper.resolve(PositionProvider)

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        find = self.text.find
        end = find("\n")
        while end >= 0:
            starts.append(end + 1)
            end = find("\n", end + 1)
        return starts

    def _offset_to_line_column(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def _locate_by_text(self, node: cst.BaseExpression) -> Location | None:
        """The node's position found by text search, without a whole-module position pass.

        LibCST round-trips source exactly, and code on a single line renders the same detached
        as in place. So a one-line node's code is a substring of the file at its true position,
        and so is the first line of a multi-line node (its later lines lose their outer
        indentation when detached). The start is found by :meth:`_start_by_occurrence`, else,
        for one-line code, in the window of the nearest one-line ancestor whose code is unique
        (e.g. ``total = fetch()`` around ``fetch()``). Anything else returns None.
        """
        if node.lpar:  # PositionProvider reports parenthesised expressions without the parens
            return None
        if getattr(node, "comma", cst.MaybeSentinel.DEFAULT) is not cst.MaybeSentinel.DEFAULT:
            return None  # ``*args,``: the node's code includes a comma its range does not
        try:
            code = self._parsed_tree().code_for_node(node)
        except Exception:  # LibCST's non-public CSTCodegenError: a detached node
            return None
        if not code:
            return None
        if "\n" in code:
            first = code.partition("\n")[0]
            start = self._start_by_occurrence(node, first + "\n") if first else None
            return None if start is None else self._multi_line_at(start, code)
        start = self._start_by_occurrence(node, code)
        if start is None:
            start = self._find_within_unique_ancestor(node, code)
        if start is None:
            return None
        line, column = self._offset_to_line_column(start)
        end_line, end_column = self._offset_to_line_column(start + len(code))
        return Location(line, column, end_line, end_column)

    def _start_by_occurrence(self, node: cst.CSTNode, key: str) -> int | None:
        """Where ``node`` starts, given ``key``: the text it renders at its start. Each node
        of its type that renders ``key`` at its start puts one occurrence of ``key`` in the
        code, so when the code holds exactly as many occurrences as the tree holds such nodes,
        the k-th of them in source order starts at the k-th. Occurrences inside strings and
        comments are left out when there are too many (tokenizing the file costs more than
        all the rest)."""
        starts = _occurrences(self.text, key)
        if len(starts) <= 1:
            return starts[0] if starts else None  # the node's own occurrence, always there
        starts = self._token_starts(starts, key, attribute_ok=isinstance(node, cst.Name))
        node_first = children_in_source_order(node)[:1]
        index, count = None, 0
        for candidate in self._nodes_by_type.get(type(node), ()):
            if candidate is node:
                index = count
            elif not self._renders_at_start(candidate, node, node_first, key):
                continue
            count += 1
            if count > len(starts):
                return None
        if index is None:
            return None
        if count < len(starts):
            starts = self._in_code(starts)
        return starts[index] if count == len(starts) else None

    def _renders_at_start(
        self,
        candidate: cst.CSTNode,
        node: cst.CSTNode,
        node_first: list[cst.CSTNode],
        key: str,
    ) -> bool:
        """Whether ``candidate`` renders ``key`` (one line, or a first line ending in a line
        break) at its start, as ``node`` does. Equal nodes do; otherwise only a node whose
        first child equals ``node``'s (``node_first``: ``emit_event(`` with other arguments)
        can."""
        if not node_first:
            return _may_equal(candidate, node) and candidate.deep_equals(node)
        # A candidate equal to the node has an equal first child too: that test comes first,
        # with a cheap look at the head (most candidates are calls of something else).
        first = children_in_source_order(candidate)[:1]
        if not first or not _may_equal(first[0], node_first[0]):
            return False
        if not first[0].deep_equals(node_first[0]):
            return False
        if candidate.deep_equals(node):
            return True
        try:
            code = self._parsed_tree().code_for_node(candidate)
        except Exception:  # LibCST's non-public CSTCodegenError: then it is not counted
            return False
        return code.startswith(key) if key.endswith("\n") else code == key

    def _token_starts(self, starts: list[int], key: str, attribute_ok: bool) -> list[int]:
        """The occurrences of ``key`` that can be a node's start: not part of a longer name
        (``kind`` in ``kinds``), and not the tail of a dotted chain (``result.stdout`` in
        ``self.result.stdout``; a Name may follow a dot: ``x.kind``'s ``kind`` is one)."""
        text = self.text
        kept = []
        for start in starts:
            end = start + len(key)
            before = text[start - 1] if start else ""
            if _is_name_char(key[0]) and (
                _is_name_char(before) or (before == "." and not attribute_ok)
            ):
                continue
            if _is_name_char(key[-1]) and end < len(text) and _is_name_char(text[end]):
                continue
            kept.append(start)
        return kept

    def _in_code(self, starts: list[int]) -> list[int]:
        """The offsets that are not inside a string or a comment."""
        spans = self._string_and_comment_spans
        if spans is None:
            return starts
        kept = []
        for start in starts:
            at = bisect_right(spans, (start, start)) - 1
            if not (at >= 0 and spans[at][0] < start < spans[at][1]):
                kept.append(start)
        return kept

    @cached_property
    def _string_and_comment_spans(self) -> list[tuple[int, int]] | None:
        """Offsets of every string (f-strings whole) and comment, in order; None when the
        tokenizer disagrees with the parser about the file."""
        spans: list[tuple[int, int]] = []
        fstring_start, depth = 0, 0  # Python 3.12+ tokenizes f-strings piece by piece
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text).readline):
                name = tokenize.tok_name[token.type]
                start = self._line_starts[token.start[0] - 1] + token.start[1]
                end = self._line_starts[token.end[0] - 1] + token.end[1]
                if name == "FSTRING_START":
                    fstring_start = start if depth == 0 else fstring_start
                    depth += 1
                elif name == "FSTRING_END":
                    depth -= 1
                    if depth == 0:
                        spans.append((fstring_start, end))
                elif name in ("STRING", "COMMENT") and depth == 0:
                    spans.append((start, end))
        except (tokenize.TokenError, SyntaxError, IndexError):
            return None
        return spans

    @cached_property
    def _nodes_by_type(self) -> dict[type, list[cst.CSTNode]]:
        """Every node of the tree by type, in source order (for :meth:`_start_by_occurrence`)."""
        by_type: dict[type, list[cst.CSTNode]] = {}
        stack: list[cst.CSTNode] = [self._parsed_tree()]
        while stack:
            node = stack.pop()
            by_type.setdefault(type(node), []).append(node)
            stack.extend(reversed(children_in_source_order(node)))
        return by_type

    @cached_property
    def _parents(self) -> dict[int, cst.CSTNode]:
        """Each node's parent, by id (for :meth:`_find_within_unique_ancestor`, which few
        findings need: a walk of its own)."""
        parents: dict[int, cst.CSTNode] = {}
        stack: list[cst.CSTNode] = [self._parsed_tree()]
        while stack:
            node = stack.pop()
            below = children_in_source_order(node)
            for child in below:
                parents[id(child)] = node
            stack.extend(below)
        return parents

    def _multi_line_at(self, start: int, code: str) -> Location | None:
        """Multi-line code starting at ``start``: the number of lines is as rendered, and the
        last line's content after the file line's indentation gives the end."""
        line, column = self._offset_to_line_column(start)
        end_line = line + code.count("\n")
        if end_line > len(self._line_starts):
            return None
        last = code.rsplit("\n", 1)[-1].lstrip()
        line_start = self._line_starts[end_line - 1]
        line_end = self.text.find("\n", line_start)
        file_line = self.text[line_start : line_end if line_end >= 0 else len(self.text)]
        indent = len(file_line) - len(file_line.lstrip())
        if not last or not file_line[indent:].startswith(last):
            return None
        return Location(line, column, end_line, indent + len(last) + 1)

    def _find_within_unique_ancestor(self, node: cst.CSTNode, code: str) -> int | None:
        current = node
        while True:
            parent = self._parents.get(id(current))
            if parent is None or isinstance(parent, cst.Module):
                return None
            current = parent
            try:
                parent_code = self._parsed_tree().code_for_node(parent)
            except Exception:  # LibCST's non-public CSTCodegenError: some nodes
                continue  # only render inside their own parent; try the next ancestor
            if "\n" in parent_code:
                return None
            base = _unique_find(self.text, parent_code, 0, len(self.text))
            if base is not None:
                return _unique_find(self.text, code, base, base + len(parent_code))

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

    @cached_property
    def is_test_code(self) -> bool:
        """Whether this is test code (``tests/``, ``e2e/``, ``loadtest/``, ``test_*.py``,
        ``conftest.py``...), which never serves production traffic: a load test's mock server
        is not the service. Judged on the module name, relative to the project root
        (``tests.test_api``), never on folders above the project."""
        *packages, name = self.name.split(".")
        return (
            any(package in TEST_PACKAGES for package in packages)
            or name == "conftest"
            or name.startswith("test_")
            or name.endswith("_test")
        )

    def code(self, node: cst.CSTNode) -> str:
        """Source text of ``node`` as written (for messages). The text, comments and spacing
        included, is read: a finding whose message quotes another module holds only while that
        module's text is unchanged."""
        reads.hook.read(self.path, reads.TEXT)
        return self._parsed_tree().code_for_node(node)


# Packages that hold tests, end-to-end suites and load tests (their mock servers included).
TEST_PACKAGES = frozenset(
    {"tests", "test", "testing", "e2e", "integration_tests", "loadtest", "loadtests", "load_tests"}
)


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _may_equal(a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """False when ``a`` and ``b`` differ in a way :meth:`~libcst.CSTNode.deep_equals` would
    find at once: their type, a name, an attribute's name."""
    if type(a) is not type(b):
        return False
    if isinstance(a, cst.Name):
        return a.value == b.value  # type: ignore[attr-defined]
    if isinstance(a, cst.Attribute):
        return a.attr.value == b.attr.value and _may_equal(a.value, b.value)  # type: ignore[attr-defined]
    return True


def _occurrences(text: str, code: str) -> list[int]:
    """Every offset at which ``code`` occurs in ``text``, overlapping ones too."""
    found: list[int] = []
    offset = text.find(code)
    while offset >= 0:
        found.append(offset)
        offset = text.find(code, offset + 1)
    return found


def _unique_find(text: str, code: str, start: int, end: int) -> int | None:
    """The offset of ``code`` in ``text[start:end]`` when it occurs there exactly once."""
    found = text.find(code, start, end)
    if found < 0 or text.find(code, found + 1, end) >= 0:
        return None
    return found


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
