"""Which modules a file's findings were computed from, for per-file entries of the result cache.

A *frame* is open while a rule checks one file. Every module whose tree or model is read while
it is open joins it (:attr:`PythonModule.model` and ``tree`` call :func:`touch`). Shared memos
are :class:`Memo` tables: each entry keeps the reads that computed it, and a later hit charges
them to the frame that asks. So a call-graph fact built while checking ``a.py`` still counts
against ``b.py`` when ``b.py`` reuses it.

A read names a *part* of the module, so that an edit elsewhere in it does not count: the
statements at module level that bind one name (``name:X``, function bodies aside), the body of
one top-level function or method (its qualified name), the calls spelt with given names (for a
scan), everything but function bodies (:data:`INTERFACE`), all of its syntax (:data:`WHOLE`:
its tree, or every call site in it) or its exact text (:data:`TEXT`: source quoted in a
message). The model charges these itself (:mod:`fastlint.python.model`): a lookup that reaches
module level charges the name, reading what a function's body holds (its calls, returns, local
scope) charges that function. :mod:`fastlint.python.fingerprint` gives each part a digest that
ignores comments and formatting, and the result cache compares those digests.

Whole-project scans skip modules by a text test before parsing them (:class:`Spelling`). A
finding that relied on a module *not* mentioning ``Depends`` holds while the set of modules
that mention it is unchanged, so a frame records the test's name rather than every module the
test turned away.

A :class:`PersistentMemo` holds plain answers (strings, small records) that the result cache
keeps across runs with their reads; a later run is seeded with those whose reads still hold.

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
NAME = "name:"  # + a name: the module-level statements that bind it (bodies of defs aside)
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
        self._computed(key)
        return value

    def _computed(self, key: K) -> None:
        """Called once a value is computed (not seeded) and stored."""

    def __contains__(self, key: object) -> bool:
        return key in self._entries


# One persisted entry as the result cache keeps it: the value as JSON, the module parts and
# the spellings it was computed from.
Persisted = tuple[Any, set[Part], set[str]]


class PersistentMemo(Memo[str, V]):
    """A memo of plain values that outlives the run. The result cache keeps each entry with
    the parts and spellings it read, and seeds the next run with the entries whose reads are
    unchanged: a file re-checked after an edit then finds the answers to its cross-module
    questions (canonical paths, call chains) without parsing the modules behind them, and its
    own entry is charged their reads as if they had been computed again.

    Only values computed without a cycle answer are kept: those depend on the order of work.
    """

    def __init__(self, encode: Callable[[V], Any], decode: Callable[[Any], V]) -> None:
        super().__init__()
        self._encode = encode
        self._decode = decode
        self._fresh: list[str] = []

    def seed(self, key: str, raw: Any, reads: Reads) -> None:
        """An entry from an earlier run (``raw`` as :meth:`take_fresh` gave it). Raises
        TypeError, ValueError or KeyError for a value that does not decode."""
        self._entries[key] = (self._decode(raw), reads)

    def _computed(self, key: str) -> None:
        self._fresh.append(key)

    def take_fresh(self) -> dict[str, Persisted]:
        """The entries computed since the last call, ready to keep; the list starts over."""
        fresh: dict[str, Persisted] = {}
        for key in self._fresh:
            value, reads = self._entries[key]
            if not _waited_on_a_cycle(reads):
                modules, spellings = reads.resolved()
                fresh[key] = (self._encode(value), modules, spellings)
        self._fresh.clear()
        return fresh


# Codecs of kept values: the value itself is JSON; decoding checks its type.


def as_is(value: Any) -> Any:
    return value


def string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError("expected a string")
    return raw


def boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise TypeError("expected true or false")
    return raw


def optional_string(raw: Any) -> str | None:
    return None if raw is None else string(raw)


def string_map(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise TypeError("expected a map")
    return {string(key): string(value) for key, value in raw.items()}


def _waited_on_a_cycle(reads: Reads) -> bool:
    return bool(reads.pending)


def seeded_reads(modules: dict[str, list[str]], spellings: list[str]) -> Reads:
    """The reads of a kept entry, to charge whoever uses it."""
    reads = Reads()
    reads.modules = {(path, part) for path, parts in modules.items() for part in parts}
    reads.spellings = set(spellings)
    return reads


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
