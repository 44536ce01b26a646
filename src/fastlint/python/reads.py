"""What the Python front end reads, told to whoever listens: nobody, unless the speed layer does.

The model reports through one hook, :data:`hook`, and only in these places:

- :class:`~fastlint.python.module.PythonModule` reports a module whose syntax is read (its tree
  or model: ``WHOLE``), whose exact text is quoted (``TEXT``), and each module it parses;
- the import pre-filters (:mod:`fastlint.python.reach`) report the modules whose imports they
  followed, from the text, unparsed (``IMPORTS``);
- :class:`Spelling` reports each text test a whole-project scan applies before parsing;
- :class:`Memo` and :class:`AnswerTable`, the analyses' tables of results shared across files,
  report what computing an entry read, so that whoever uses the entry later is told the same.

By default :data:`hook` is a :class:`Hook`, which ignores everything: a plain run pays for a
method call and nothing more. The incremental layer (:mod:`fastlint.incremental`) installs a
recorder that turns these reports into what a file's findings were computed from. Rules never
see any of this: they ask the model, and the model's tables tell the hook.

Rule of the house for analyses: anything derived from one module and kept beyond one rule's
check of one file lives in a :class:`Memo` or an :class:`AnswerTable` (or on the module itself).
A plain ``dict`` would hand its contents to the next file without telling the hook what they
were read from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from fastlint.python.module import PythonModule

K = TypeVar("K")
V = TypeVar("V")

# What of a module is read.
WHOLE = "*"  # its syntax (tree or model): comments and formatting aside
TEXT = "#"  # its exact text: source rendered into a message
IMPORTS = "imports"  # what its import statements name (:func:`fastlint.python.reach.scan_imports`)
SCAN = "scan:"  # + a TextScan's name: what that scan of its text found


class Hook:
    """The listener the model reports to. This one ignores every report."""

    def read(self, path: str, what: str) -> None:
        """``what`` (:data:`WHOLE`, :data:`TEXT`, :data:`IMPORTS` or :data:`SCAN` + the name of
        a :class:`TextScan`) of the module at ``path`` was read."""

    def parsed(self, path: str) -> None:
        """The module at ``path`` was parsed just now."""

    def tested(self, spelling: str) -> None:
        """A whole-project scan applied the text test called ``spelling``."""

    def begin(self) -> Any:
        """A memo entry starts being computed: a token for :meth:`end`, or None."""
        return None

    def end(self, token: Any, join: bool = True) -> Any:
        """The entry begun with ``token`` is computed: what its computation read (handed back
        to :meth:`used`), or None. ``join``: those reads also count for the enclosing one."""
        return None

    def used(self, reads: Any) -> None:
        """A memo entry computed earlier, whose computation read ``reads``, was used."""

    def waiting(self, token: Any) -> None:
        """An entry still being computed (``token`` from :meth:`begin`) was used: a cycle."""

    def answered(self, table: AnswerTable[Any], key: str, reads: Any) -> None:
        """The answer to ``key`` in ``table``, computed from ``reads``, was used."""


hook: Hook = Hook()


def install(listener: Hook) -> Hook:
    """Make ``listener`` the hook; returns the one it replaces (to put back afterwards)."""
    global hook
    previous, hook = hook, listener
    return previous


_MISSING: Any = object()
# The ``cycle`` answer meaning: a key asked again while it is being computed is computed again.
AGAIN: Any = _MISSING


class Memo(Generic[K, V]):
    """A memo table whose entries tell the hook what they were computed from, when used."""

    def __init__(self) -> None:
        self._entries: dict[K, tuple[V, Any]] = {}
        self._computing: dict[K, Any] = {}

    def get(self, key: K, compute: Callable[..., V], *args: Any, cycle: Any = _MISSING) -> V:
        """The value for ``key``, computed by ``compute(*args)`` once. A key asked for again
        while it is being computed gives ``cycle`` (or is computed again, by default)."""
        entry = self._entries.get(key)
        if entry is not None:
            hook.used(entry[1])
            return entry[0]
        return self._computed(key, compute, args, cycle, join=True)

    def _computed(
        self, key: K, compute: Callable[..., V], args: tuple[Any, ...], cycle: Any, join: bool
    ) -> V:
        """Compute the entry for ``key``, telling the hook what computing it read (``join``:
        those reads count for the enclosing computation too). Asked again while it is being
        computed, ``key`` gives ``cycle``, or is computed again when there is none (the
        outer call stores the entry)."""
        if key in self._computing:
            if cycle is _MISSING:
                return compute(*args)
            hook.waiting(self._computing[key])
            return cycle
        listener = hook
        token = self._computing[key] = listener.begin()
        try:
            value = compute(*args)
        finally:
            del self._computing[key]
            reads = listener.end(token, join=join)
        self._entries[key] = (value, reads)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._entries


class AnswerTable(Memo[str, V]):
    """A memo of plain answers, each computed from its key alone (``compute(key)``), which
    ``encode`` turns into JSON and ``decode`` reads back: answers another process or a later
    run can be handed (:meth:`seed`) instead of computing them, and whose users the hook is
    told about by answer (:meth:`Hook.answered`) rather than by what they were read from."""

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
        self.encode = encode
        self._decode = decode
        self._compute = compute
        self._cycle = cycle
        self.fresh: list[str] = []  # keys computed here, in order (see take_fresh)

    def ask(self, key: str) -> V:
        """The answer for ``key``: handed in, computed already, or computed now."""
        entry = self._entries.get(key)
        if entry is None:
            computing = key in self._computing
            value = self._computed(key, self._compute, (key,), self._cycle, join=False)
            if computing:
                return value  # a cycle's answer: not an entry, and no one's to report
            self.fresh.append(key)
            entry = self._entries[key]
        hook.answered(self, key, entry[1])
        return entry[0]

    def entry(self, key: str) -> tuple[V, Any]:
        """The answer for ``key`` (asked already) and what computing it read."""
        return self._entries[key]

    def seed(self, key: str, raw: Any, reads: Any) -> None:
        """An answer worked out elsewhere (an earlier run, another worker), ``raw`` as
        ``encode`` wrote it. A value that does not decode (not what this version writes) is
        left out: it is computed again if asked."""
        if key in self._entries:
            return
        with suppress(TypeError, ValueError, KeyError):
            self._entries[key] = (self._decode(raw), reads)


# Codecs of answers: the value itself is JSON; decoding checks its type.


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


def string_list(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise TypeError("expected a list")
    return [string(item) for item in raw]


def string_map(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise TypeError("expected a map")
    return {string(key): string(value) for key, value in raw.items()}


class Spelling:
    """A text test a whole-project scan applies before parsing a module: a module that fails
    it cannot hold what the scan looks for. Named, so the speed layer can tell which tests a
    finding relied on; :meth:`matching` re-runs a test over a new set of texts.

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
        hook.tested(self.name)
        return self.passes(module.text)

    def passes(self, text: str) -> bool:
        """Whether ``text`` passes, without telling the hook."""
        return any(regex.search(text) is not None for regex in self.regexes)

    def matching(self, texts: Iterable[tuple[str, str]]) -> list[str]:
        """Sorted paths of the (path, text) pairs that pass the test."""
        return sorted(path for path, text in texts if self.passes(text))


class TextScan:
    """A function of a module's text alone (class statements found by a regular expression,
    say) that an analysis reads instead of parsing the module. Named, so that the speed layer
    can run it again on an edited text: what was computed from it holds while its result for
    that module is the same (a comment or a function body edited elsewhere in the module
    changes nothing)."""

    known: dict[str, TextScan] = {}

    def __init__(self, name: str, scan: Callable[[str], Any]) -> None:
        if name in TextScan.known:
            raise ValueError(f"two text scans named {name!r}")
        self.name = name
        self.scan = scan
        TextScan.known[name] = self

    def __call__(self, module: PythonModule) -> Any:
        hook.read(module.path, SCAN + self.name)
        return self.scan(module.text)
