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

import hashlib
import json
import re
from collections.abc import Iterable
from contextlib import suppress
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
IMPORTS = "imports"  # what its import statements name (fastlint.python.reach.scan_imports)
Part = tuple[str, str]  # (display path of the module, WHOLE / INTERFACE / a function's qualname)
Token = tuple[str, str]  # (persistent memo name, key): one answer
Resolved = tuple[set[Part], set[str], dict[Token, str]]  # parts, spellings, answer digests


class Reads:
    """Module parts read and spellings tested, plus the frames of memo entries that were still
    being computed when they were read (a cycle): their reads count too, once complete."""

    __slots__ = ("answers", "modules", "pending", "spellings")

    def __init__(self) -> None:
        self.modules: set[Part] = set()
        self.spellings: set[str] = set()
        self.pending: list[Reads] = []
        # Answers of persistent memos used, with the digest of each answer: what was read
        # through them is the answer's business (see PersistentMemo.ask).
        self.answers: dict[Token, str] = {}

    def add(self, other: Reads) -> None:
        self.modules |= other.modules
        self.spellings |= other.spellings
        if other.answers:
            self.answers.update(other.answers)
        if other.pending:
            self.pending.extend(other.pending)

    def resolved(self) -> Resolved:
        """All module parts, spellings and answers, through pending frames (complete now)."""
        modules, spellings, answers = set(self.modules), set(self.spellings), dict(self.answers)
        seen = {id(self)}
        stack = list(self.pending)
        while stack:
            reads = stack.pop()
            if id(reads) in seen:
                continue
            seen.add(id(reads))
            modules |= reads.modules
            spellings |= reads.spellings
            answers.update(reads.answers)
            stack.extend(reads.pending)
        return modules, spellings, answers

    @property
    def empty(self) -> bool:
        return not (self.modules or self.spellings or self.answers or self.pending)


_open: list[Reads] = []


def touch(path: str, part: str = WHOLE) -> None:
    """Charge ``part`` of the module at ``path`` to the open frame."""
    if _open:
        _open[-1].modules.add((path, part))


def charge(reads: Reads) -> None:
    """Charge everything ``reads`` holds to the open frame (an answer worked out before, used
    again: whoever uses it read what computing it read)."""
    if _open:
        _open[-1].add(reads)


def frame(join: bool = True) -> _Frame:
    """Record what is read inside; on exit the reads also join the enclosing frame (unless
    ``join`` is False: a persistent memo charges its answer instead)."""
    return _Frame(join)


class _Frame:
    """:func:`frame`'s context manager: a class, not a ``@contextmanager`` generator, since a
    run opens one per memo entry it computes (150,000 on prefect), and a generator's took
    twice as long to open and close (1.6 against 0.7 µs)."""

    __slots__ = ("join", "reads")

    def __init__(self, join: bool) -> None:
        self.join = join
        self.reads = Reads()

    def __enter__(self) -> Reads:
        _open.append(self.reads)
        return self.reads

    def __exit__(self, *exc_info: object) -> None:
        _open.pop()
        if _open and self.join:
            _open[-1].add(self.reads)


_MISSING: Any = object()
# The ``cycle`` answer meaning: a key asked again while it is being computed is computed again.
AGAIN: Any = _MISSING


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


# One persisted entry as the result cache keeps it: the value as JSON, and the module parts,
# spellings and other answers it was computed from.
Persisted = tuple[Any, set[Part], set[str], dict[Token, str]]


def answer_digest(raw: Any) -> str:
    """The digest of an answer as JSON: two answers are the same when their digests are."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


class PersistentMemo(Memo[str, V]):
    """A memo of plain answers, each computed from its key alone (``compute(key)``), that
    outlives the run.

    Whoever asks is charged the answer itself (its memo name, key and digest), not what it
    was computed from. The result cache keeps each entry with its own reads and seeds the next
    run with the entries whose reads are unchanged: a file re-checked after an edit then finds
    the answers to its cross-module questions (canonical paths, call chains) without parsing
    the modules behind them. And an entry whose reads changed is computed again when asked:
    a cached file that used it holds if the answer came out the same (an edit inside a helper
    that leaves its call chain as it was re-checks none of the files going through it).

    Answers computed under a cycle answer depend on the order of work: they are not kept, and
    whoever used them is charged their reads, as a plain memo does.
    """

    def __init__(
        self,
        name: str,
        encode: Callable[[V], Any],
        decode: Callable[[Any], V],
        compute: Callable[[str], V],
        cycle: Any = _MISSING,
    ) -> None:
        super().__init__()
        self.name = name
        self._encode = encode
        self._decode = decode
        self._compute = compute
        self._cycle = cycle
        self._digests: dict[str, str] = {}
        self._fresh: list[str] = []

    def ask(self, key: str) -> V:
        """The answer for ``key``: kept, or computed now."""
        entry = self._entries.get(key)
        if entry is None:
            computing = self._computing.get(key)
            if computing is not None:  # a cycle
                if self._cycle is _MISSING:
                    return self._compute(key)  # computed again; the outer call stores it
                if _open:
                    _open[-1].pending.append(computing)
                return self._cycle  # type: ignore[no-any-return]
            with frame(join=False) as reads:
                self._computing[key] = reads
                try:
                    value = self._compute(key)
                finally:
                    del self._computing[key]
            entry = self._entries[key] = (value, reads)
            self._fresh.append(key)
        if _open:
            reads = entry[1]
            if reads.pending:
                _open[-1].add(reads)  # order-dependent: charged like a plain memo's
            elif not reads.empty:  # an answer read from nothing cannot change
                _open[-1].answers[(self.name, key)] = self.digest(key)
        return entry[0]

    def digest(self, key: str) -> str:
        """The digest of the answer for ``key`` (asked already)."""
        found = self._digests.get(key)
        if found is None:
            found = self._digests[key] = answer_digest(self._encode(self._entries[key][0]))
        return found

    def seed(self, key: str, raw: Any, reads: Reads) -> None:
        """An entry worked out elsewhere (an earlier run, another worker), ``raw`` as
        :meth:`take_fresh` gave it. A value that does not decode (not what this version
        writes) is left out: it is computed again if asked."""
        with suppress(TypeError, ValueError, KeyError):
            self._entries[key] = (self._decode(raw), reads)

    def take_fresh(self) -> dict[str, Persisted]:
        """The entries computed since the last call, ready to keep; the list starts over."""
        fresh: dict[str, Persisted] = {}
        for key in self._fresh:
            value, reads = self._entries[key]
            if not reads.pending:
                modules, spellings, answers = reads.resolved()
                fresh[key] = (self._encode(value), modules, spellings, answers)
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


def seeded_reads(
    modules: dict[str, list[str]], spellings: list[str], answers: dict[Token, str]
) -> Reads:
    """The reads of a kept entry."""
    parts = {(path, part) for path, parts in modules.items() for part in parts}
    return reads_of(parts, spellings, answers)


def reads_of(modules: Iterable[Part], spellings: Iterable[str], answers: dict[Token, str]) -> Reads:
    """Reads holding these parts, spellings and answers (an entry's, as :meth:`Reads.resolved`
    gave them)."""
    reads = Reads()
    reads.modules = set(modules)
    reads.spellings = set(spellings)
    reads.answers = dict(answers)
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
        return self.passes(module.text)

    def passes(self, text: str) -> bool:
        """Whether ``text`` passes, without recording the test in the open frame."""
        return any(regex.search(text) is not None for regex in self.regexes)

    def matching(self, texts: Iterable[tuple[str, str]]) -> list[str]:
        """Sorted paths of the (path, text) pairs that pass the test."""
        return sorted(path for path, text in texts if self.passes(text))
