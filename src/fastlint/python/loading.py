"""From a Python file's text to a :class:`~fastlint.python.module.PythonModule`, or the reason
(an :class:`~fastlint.reading.UnreadableFile`) it cannot have one.

LibCST's native parser overflows its stack (a segfault: no traceback, no report) on brackets
nested ~2,000 deep, and takes minutes on chains of a few thousand operators (`1+1+...`,
`a.b.b...`, `x[1][1]...`). CPython's parser refuses both cheaply, so a file that looks
suspicious (deep brackets, very long lines) is screened with it before LibCST sees it.
"""

from __future__ import annotations

import ast
import warnings
from itertools import accumulate

import libcst as cst

from fastlint.diagnostics import Location
from fastlint.discovery import SourceFile
from fastlint.python.module import PythonModule, module_name_for
from fastlint.python.parsing import parse_python
from fastlint.reading import UnreadableFile

_BRACKET_STEP = {ord("("): 1, ord("["): 1, ord("{"): 1, ord(")"): -1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKET_STEP)
_LONG_LINE = 2000  # characters
_MAX_BRACKETS = 200  # CPython's own limit ("too many nested parentheses")
_MAX_EXPRESSION_DEPTH = 400  # LibCST needs ~1 s at this depth; real code stays below 50


def _bracket_depth(text: str) -> int:
    """Deepest bracket nesting, counting brackets in strings too (an over-estimate)."""
    brackets = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _has_long_line(text: str) -> bool:
    # Splitting is ten times faster than searching for r"[^\n]{2000}" (0.02 s vs 0.19 s on
    # prefect's 865 files), and every file checked is screened.
    return len(text) >= _LONG_LINE and max(map(len, text.split("\n"))) >= _LONG_LINE


def too_deep_for_libcst(text: str) -> bool:
    naive_depth = _bracket_depth(text)
    if naive_depth <= _MAX_BRACKETS // 2 and not _has_long_line(text):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" on Python 3.12+
            tree = ast.parse(text)
    except SyntaxError as error:
        # Not CPython's grammar (newer syntax, or broken): trust the bracket count alone.
        return "too many nested" in str(error.msg) or naive_depth > _MAX_BRACKETS
    except (RecursionError, MemoryError):
        return True
    except ValueError:
        return False
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest > _MAX_EXPRESSION_DEPTH


def parse_guarded(text: str) -> cst.Module:
    """The LibCST tree, or UnreadableFile saying why the file cannot have one."""
    if too_deep_for_libcst(text):
        raise UnreadableFile("expression nesting too deep for the parser", text=text)
    try:
        return parse_python(text)
    except RecursionError:
        raise UnreadableFile("expression nesting too deep for the parser", text=text) from None
    except Exception as error:  # libcst.ParserSyntaxError and friends
        reason, location = syntax_error(text, error)
        raise UnreadableFile(reason, location, text) from None


def cpython_parses(text: str) -> bool:
    """Whether a module no rule needs parsed is fine as it is: CPython parses it, and LibCST
    would not choke on its nesting. Otherwise LibCST parses it, to report FL000 the usual way
    (or find that it can, after all: grammar newer than this interpreter)."""
    if too_deep_for_libcst(text):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _module_name(source: SourceFile) -> tuple[str, bool]:
    return module_name_for(tuple(source.relpath.split("/")))


def load_python(source: SourceFile, text: str) -> PythonModule:
    tree = parse_guarded(text)
    try:
        return PythonModule(source.display, text, tree, *_module_name(source))
    except RecursionError:
        raise UnreadableFile("expression nesting too deep to analyse", text=text) from None


def deferred_python(source: SourceFile, text: str) -> PythonModule:
    return PythonModule.deferred(
        source.display, text, *_module_name(source), lambda: parse_guarded(text)
    )


def empty_python(source: SourceFile, text: str) -> PythonModule:
    return PythonModule.empty(source.display, text, *_module_name(source))


def syntax_error(text: str, error: Exception) -> tuple[str, Location]:
    """Reason and place of a parse failure. CPython's own message and position are far more
    precise than LibCST's ("'(' was never closed" at the bracket), so ask it too; LibCST's
    words remain when CPython cannot say (grammar newer than this interpreter). When CPython
    accepts the file, the code is fine and the failure is LibCST's: the reason says so."""
    cpython_accepts = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        cpython_accepts = True
    except SyntaxError as cpython:
        if cpython.lineno:
            line = cpython.lineno
            column = max(cpython.offset or 1, 1)
            return f"syntax error: {cpython.msg}", Location(line, column, line, column)
    except Exception:  # RecursionError, MemoryError, ValueError: keep LibCST's account
        pass
    line = getattr(error, "raw_line", 1) or 1
    column = (getattr(error, "raw_column", 0) or 0) + 1
    message = getattr(error, "message", None) or (str(error).splitlines() or ["?"])[0]
    message = message.splitlines()[0].rstrip(".") if message.strip() else repr(error)
    where = Location(line, column, line, column)
    if cpython_accepts:
        return f"LibCST, the parser fastlint uses, fails on this valid Python ({message})", where
    return f"syntax error: {message}", where
