"""Which modules a file's findings were computed from, for per-file entries of the result cache.

A *frame* is open while a rule checks one file. Every module whose tree or model is read while
it is open joins it (:attr:`PythonModule.model` and ``tree`` call :func:`touch`). Shared memos
are :class:`Memo` tables: each entry keeps the reads that computed it, and a later hit charges
them to the frame that asks. So a call-graph fact built while checking ``a.py`` still counts
against ``b.py`` when ``b.py`` reuses it.

A read names a *part* of the module, so that an edit elsewhere in it does not count: the
*interface* (:data:`INTERFACE`: everything but the bodies of functions, i.e. imports, module and
class-level assignments, signatures and decorators), the body of one top-level function or
method (its qualified name), or the whole module (:data:`WHOLE`: its tree, or every call site
in it). The model charges these itself (:mod:`fastlint.python.model`): reading a module's model
charges its interface, reading what a function's body holds (its calls, returns, local scope)
charges that function. :mod:`fastlint.python.fingerprint` gives each part a digest that ignores
comments and formatting, and the result cache compares those digests.

Whole-project scans skip modules by a text test before parsing them (:class:`Spelling`). A
finding that relied on a module *not* mentioning ``Depends`` holds while the set of modules
that mention it is unchanged, so a frame records the test's name rather than every module the
test turned away.

Rule of the house: anything derived from one module and kept beyond one rule's check of one
file lives in a :class:`Memo` (or on the module itself). A plain ``dict`` cache would hand its
contents to the next file without charging the modules behind them, and the result cache
would then keep findings that a changed module should have changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from fastlint.python.module import PythonModule

K = TypeVar("K")
V = TypeVar("V")


# Parts of a module (none is a qualified name: those are identifiers joined by dots).
WHOLE = "*"  # all of its syntax: its tree, or every call site in it
INTERFACE = ""  # everything but function bodies
CALLS = "calls:"  # + names: the calls spelt with one of them (fingerprint.calls_part)
TEXT = "#"  # its exact text: source rendered into a message
Part = tuple[str, str]  # (display path of the module, WHOLE / INTERFACE / a function's qualname)


class Reads:
    """Module parts read and spellings tested, plus the frames of memo entries that were still
    being computed when they were read (a cycle): their reads count too, once complete."""

    __slots__ = ("modules", "pending", "spellings")

    def __init__(self) -> None:
        self.modules: set[Part] = set()
        self.spellings: set[str] = set()
        self.pending: list[Reads] = []

    def add(self, other: Reads) -> None:
        self.modules |= other.modules
        self.spellings |= other.spellings
        if other.pending:
            self.pending.extend(other.pending)

    def resolved(self) -> tuple[set[Part], set[str]]:
        """All module parts and spellings, through pending frames (complete by now)."""
        modules, spellings = set(self.modules), set(self.spellings)
        seen = {id(self)}
        stack = list(self.pending)
        while stack:
            reads = stack.pop()
            if id(reads) in seen:
                continue
            seen.add(id(reads))
            modules |= reads.modules
            spellings |= reads.spellings
            stack.extend(reads.pending)
        return modules, spellings


_open: list[Reads] = []


def touch(path: str, part: str = WHOLE) -> None:
    """Charge ``part`` of the module at ``path`` to the open frame."""
    if _open:
        _open[-1].modules.add((path, part))


@contextmanager
def frame() -> Iterator[Reads]:
    """Record what is read inside; on exit the reads also join the enclosing frame."""
    reads = Reads()
    _open.append(reads)
    try:
        yield reads
    finally:
        _open.pop()
        if _open:
            _open[-1].add(reads)


_MISSING: Any = object()


class Memo(Generic[K, V]):
    """A memo table whose entries remember the reads that computed them."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[V, Reads]] = {}
        self._computing: dict[K, Reads] = {}

    def get(self, key: K, compute: Callable[..., V], *args: Any, cycle: Any = _MISSING) -> V:
        """The value for ``key``, computed by ``compute(*args)`` once. A key asked for again
        while it is being computed gives ``cycle``; the reads of the outer computation are
        charged to whoever used that answer, when it completes."""
        entry = self._entries.get(key)
        if entry is not None:
            if _open:
                _open[-1].add(entry[1])
            return entry[0]
        computing = self._computing.get(key)
        if computing is not None:
            if cycle is _MISSING:
                return compute(*args)  # no cycle answer: recompute; the outer call stores
            if _open:
                _open[-1].pending.append(computing)
            return cycle  # type: ignore[no-any-return]
        with frame() as reads:
            self._computing[key] = reads
            try:
                value = compute(*args)
            finally:
                del self._computing[key]
        self._entries[key] = (value, reads)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._entries


class Spelling:
    """A text test a whole-project scan applies before parsing a module: a module that fails
    it cannot hold what the scan looks for. Named, so a cache entry can say which tests its
    findings relied on; :meth:`matching` re-runs a test over a new set of texts.

    A module passes when any of the patterns occurs. Give each pattern a literal start
    (``add_(?:route|middleware)``, not ``\\b(?:add_route|add_middleware)``): Python's ``re``
    scans for a literal prefix quickly but tries a leading alternation at every position,
    100 times slower on a large project. Passing too many modules only costs a parse.
    """

    known: dict[str, Spelling] = {}

    def __init__(self, name: str, *patterns: str) -> None:
        if name in Spelling.known:
            raise ValueError(f"two spellings named {name!r}")
        self.name = name
        self.regexes = tuple(re.compile(pattern) for pattern in patterns)
        Spelling.known[name] = self

    def __call__(self, module: PythonModule) -> bool:
        if _open:
            _open[-1].spellings.add(self.name)
        return self._passes(module.text)

    def _passes(self, text: str) -> bool:
        return any(regex.search(text) is not None for regex in self.regexes)

    def matching(self, texts: Iterable[tuple[str, str]]) -> list[str]:
        """Sorted paths of the (path, text) pairs that pass the test."""
        return sorted(path for path, text in texts if self._passes(text))
