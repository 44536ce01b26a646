"""Digests of a module's parts, for the result cache: what another file's findings can read.

A module is cut into the parts :mod:`fastlint.python.tracking` charges reads to: the body of
each top-level function and method (keyed by its qualified name, as the model names it), the
*interface*, which is everything else (imports, module and class-level statements, signatures,
decorators), and, for whole-project scans, the calls spelt with given names
(:func:`calls_part`), and the modules its imports name (the text scan of
:mod:`fastlint.python.reach`). A digest is taken over the syntax, not the text: comments, blank
lines and formatting do not change it, so a comment added to a module leaves every other file's
cached findings valid, and an edit inside one function leaves valid the findings that never
read that function.

This reads syntax only to cut and compare; the analysis itself is LibCST's. CPython's ``ast``
is used because it is an order of magnitude faster and its dump ignores positions and
comments. Where the two disagree (grammar newer than this interpreter, say) there is no
fingerprint and the cache treats the module as changed throughout, which is always safe.
"""

from __future__ import annotations

import ast
import hashlib
import warnings
from collections.abc import Iterable, Iterator

from fastlint.python.reach import scan_imports
from fastlint.python.tracking import CALLS, IMPORTS, INTERFACE, NAME, WHOLE

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Statements whose bodies still belong to the level they are written at (a def under
# ``if TYPE_CHECKING:`` is a top-level def).
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
_TRY_STAR = getattr(ast, "TryStar", None)
_MATCH = getattr(ast, "Match", None)


def calls_part(names: Iterable[str]) -> str:
    """The part holding every call whose callee's name (``f(...)``, ``x.f(...)``) or one of
    whose keywords is in ``names``: what a scan that looks only at such calls reads."""
    return CALLS + ",".join(sorted(set(names)))


class Fingerprint:
    """The parts of one module text and their digests."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        self._tree = tree
        self._text = text
        definitions = list(_top_level_defs(tree.body, ()))
        bodies: dict[str, list[str]] = {}
        for qualname, definition in definitions:
            bodies.setdefault(qualname, []).append(ast.dump(definition))
        self._digests = {qualname: _digest(dumps) for qualname, dumps in bodies.items()}
        interface, by_name = _interface_dumps(tree, definitions)
        self._digests[INTERFACE] = _digest([interface])
        self._names = by_name

    @classmethod
    def of(cls, text: str) -> Fingerprint | None:
        """The fingerprint of ``text``; None when CPython cannot parse it."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" on Python 3.12+
                return cls(ast.parse(text), text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @property
    def parts(self) -> dict[str, str]:
        """The interface and every top-level function: together, the whole module."""
        return dict(self._digests)

    def digest(self, part: str) -> str | None:
        """The digest of ``part``; None for a function the module does not define. The
        :data:`~fastlint.python.tracking.WHOLE` module's digest covers all its parts."""
        if part not in self._digests:
            if part == WHOLE:
                self._digests[part] = _digest(sorted(f"{k}\0{v}" for k, v in self.parts.items()))
            elif part.startswith(CALLS):
                names = frozenset(part[len(CALLS) :].split(","))
                self._digests[part] = _digest(_calls_named(self._tree, names))
            elif part == IMPORTS:
                self._digests[part] = _digest(repr(found) for found in scan_imports(self._text))
            elif part.startswith(NAME):
                self._digests[part] = _digest(self._names.get(part[len(NAME) :], []))
        return self._digests.get(part)


def _top_level_defs(
    statements: list[ast.stmt], classes: tuple[str, ...]
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every def outside any function, with the model's qualified name (``Svc.run``), in
    source order. Defs inside it are part of it, so the walk does not enter them."""
    for statement in statements:
        if isinstance(statement, _DEFS):
            yield ".".join([*classes, statement.name]), statement
        elif isinstance(statement, ast.ClassDef):
            yield from _top_level_defs(statement.body, (*classes, statement.name))
        else:
            for block in _nested_blocks(statement):
                yield from _top_level_defs(block, classes)


def _nested_blocks(statement: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(statement, _BLOCKS) or (_TRY_STAR and isinstance(statement, _TRY_STAR)):
        blocks = [statement.body, getattr(statement, "orelse", [])]  # type: ignore[attr-defined]
        blocks.append(getattr(statement, "finalbody", []))
        blocks.extend(handler.body for handler in getattr(statement, "handlers", []))
        return blocks
    if _MATCH and isinstance(statement, _MATCH):
        return [case.body for case in statement.cases]  # type: ignore[attr-defined]
    return []


def _interface_dumps(
    tree: ast.Module, definitions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]
) -> tuple[str, dict[str, list[str]]]:
    """The module's dump with its top-level functions' bodies left out, and for each name a
    module-level statement may bind, the dumps (bodies left out too) of the statements that
    bind it. A statement counts for every name stored anywhere in it outside a function body,
    a class attribute's name included: more than the model binds, never less."""
    saved = [definition.body for _, definition in definitions]
    try:
        for _, definition in definitions:
            definition.body = []
        by_name: dict[str, list[str]] = {}
        for statement in tree.body:
            dump = ast.dump(statement)
            for name in sorted(_names_bound_in(statement)):
                by_name.setdefault(name, []).append(dump)
        return ast.dump(tree), by_name
    finally:
        for (_, definition), body in zip(definitions, saved):
            definition.body = body


def _names_bound_in(statement: ast.stmt) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (*_DEFS, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
            names.add(node.name.split(".")[-1])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif _MATCH and isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif _MATCH and isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def _calls_named(tree: ast.Module, names: frozenset[str]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (
            _callee_name(node.func) in names or any(kw.arg in names for kw in node.keywords)
        ):
            found.append(ast.dump(node))
    return sorted(found)  # ast.walk's order is not source order; the set is what counts


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _digest(dumps: Iterable[str]) -> str:
    digest = hashlib.sha1()
    for dump in dumps:
        digest.update(dump.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()
