"""What a file's findings were computed from: the recorder the speed layer installs as the
Python front end's hook (:data:`fastlint.python.reads.hook`).

A *frame* is open while one file is checked. Every module whose syntax or text the model
reads while it is open joins it, and so does every text test a whole-project scan applied
(:class:`~fastlint.python.reads.Spelling`: a finding that relied on a module *not* mentioning
``Depends`` holds while the set of modules that mention it is unchanged). A memo entry keeps
the reads that computed it, and a later use charges them to the frame that uses it: a call
graph fact built while checking ``a.py`` still counts against ``b.py`` when ``b.py`` reuses it.

An answer of an :class:`~fastlint.python.reads.AnswerTable` is charged as itself (table, key
and a digest of its value), not as what it was computed from: the result cache keeps each
answer with its own reads, and a file that used an answer holds while the answer comes out the
same (editing a helper's body without changing how it blocks re-checks none of its callers).
Answers computed under a cycle answer depend on the order of work: their users are charged
their reads instead, as a plain memo's are.

Reads are per module: :data:`~fastlint.python.reads.WHOLE` (its syntax, compared by a digest
that ignores comments and formatting, :mod:`fastlint.incremental.fingerprint`) or
:data:`~fastlint.python.reads.TEXT` (its exact text).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastlint.python.reads import AnswerTable, Hook

Part = tuple[str, str]  # (display path of a module, WHOLE or TEXT)
Token = tuple[str, str]  # (answer table name, key): one answer
Resolved = tuple[set[Part], set[str], dict[Token, str]]  # parts, spellings, answer digests


class Reads:
    """Module parts read and spellings tested, plus the reads of memo entries that were still
    being computed when they were used (a cycle): those count too, once complete."""

    __slots__ = ("answers", "modules", "pending", "spellings")

    def __init__(self) -> None:
        self.modules: set[Part] = set()
        self.spellings: set[str] = set()
        self.pending: list[Reads] = []
        # Answers used, with the digest of each as used: what was read through them is the
        # answer's business.
        self.answers: dict[Token, str] = {}

    def add(self, other: Reads) -> None:
        self.modules |= other.modules
        self.spellings |= other.spellings
        if other.answers:
            self.answers.update(other.answers)
        if other.pending:
            self.pending.extend(other.pending)

    def resolved(self) -> Resolved:
        """All module parts, spellings and answers, through pending reads (complete now)."""
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


def reads_of(modules: Any, spellings: Any, answers: dict[Token, str]) -> Reads:
    """Reads holding these parts, spellings and answers (as :meth:`Reads.resolved` gave them)."""
    reads = Reads()
    reads.modules = set(modules)
    reads.spellings = set(spellings)
    reads.answers = dict(answers)
    return reads


def answer_digest(raw: Any) -> str:
    """The digest of an answer as JSON: two answers are the same when their digests are."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


# One answer as the result cache keeps it: the value as JSON, and the module parts, spellings
# and other answers it was computed from.
Persisted = tuple[Any, set[Part], set[str], dict[Token, str]]


class Recorder(Hook):
    """The hook that records reads into a stack of open frames."""

    def __init__(self) -> None:
        self._open: list[Reads] = []
        self._digests: dict[tuple[int, str], str] = {}  # (id of table, key) → answer digest
        self.parsed_paths: list[str] = []  # parsed since take_parsed()

    # -- frames -------------------------------------------------------------------

    def frame(self) -> _Frame:
        """Record what is read inside (one file's check); the reads join no other frame."""
        return _Frame(self)

    def take_parsed(self) -> list[str]:
        """The paths of the modules parsed since the last call."""
        taken, self.parsed_paths = self.parsed_paths, []
        return taken

    # -- the hook -------------------------------------------------------------------

    def read(self, path: str, what: str) -> None:
        if self._open:
            self._open[-1].modules.add((path, what))

    def parsed(self, path: str) -> None:
        self.parsed_paths.append(path)

    def tested(self, spelling: str) -> None:
        if self._open:
            self._open[-1].spellings.add(spelling)

    def begin(self) -> Reads:
        reads = Reads()
        self._open.append(reads)
        return reads

    def end(self, token: Any, join: bool = True) -> Reads:
        reads = self._open.pop()
        assert reads is token, "memo computations end in the order they began"
        if join and self._open:
            self._open[-1].add(reads)
        return reads

    def used(self, reads: Any) -> None:
        if self._open and reads is not None:
            self._open[-1].add(reads)

    def waiting(self, token: Any) -> None:
        if self._open and token is not None:
            self._open[-1].pending.append(token)

    def answered(self, table: AnswerTable[Any], key: str, reads: Any) -> None:
        if not self._open or reads is None:
            return
        if reads.pending:
            self._open[-1].add(reads)  # order-dependent: charged like a plain memo's
        elif not reads.empty:  # an answer read from nothing cannot change
            self._open[-1].answers[(table.name, key)] = self.digest(table, key)

    # -- answers --------------------------------------------------------------------

    def digest(self, table: AnswerTable[Any], key: str) -> str:
        """The digest of the answer for ``key`` in ``table`` (asked already)."""
        slot = (id(table), key)
        found = self._digests.get(slot)
        if found is None:
            found = self._digests[slot] = answer_digest(table.encode(table.entry(key)[0]))
        return found


class _Frame:
    """:meth:`Recorder.frame`'s context manager: a class, not a ``@contextmanager`` generator,
    since it is opened once per file checked and a generator's costs twice as much."""

    __slots__ = ("reads", "recorder")

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.reads = Reads()

    def __enter__(self) -> Reads:
        self.recorder._open.append(self.reads)
        return self.reads

    def __exit__(self, *exc_info: object) -> None:
        self.recorder._open.pop()


def take_fresh(table: AnswerTable[Any]) -> dict[str, Persisted]:
    """The answers ``table`` computed since the last call, ready to keep; the list starts over.
    Answers computed under a cycle answer (pending reads) are not kept."""
    fresh: dict[str, Persisted] = {}
    for key in table.fresh:
        value, reads = table.entry(key)
        if reads is not None and not reads.pending:
            modules, spellings, answers = reads.resolved()
            fresh[key] = (table.encode(value), modules, spellings, answers)
    table.fresh.clear()
    return fresh
