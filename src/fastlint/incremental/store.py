"""Per-file entries of the result cache: a Python file's findings, kept while they still hold.

An entry holds what the Python rules found in one file, with what those findings were computed
from (:mod:`fastlint.incremental.tracking`): the other modules whose syntax, imports or exact
text were read, the answers of other analyses it used, and the whole-project text tests
(:class:`fastlint.python.reads.Spelling`) that turned modules away unparsed. A later run reuses
the entry, without parsing the file, while the file is unchanged, the set of modules passing
each test is unchanged, and every module read is unchanged as read: the same syntax
(:mod:`fastlint.incremental.fingerprint`, so a comment or a reformatting changes nothing), the
same imports, or the same text. Any other change re-checks the file, and a file the run
re-checks gets a fresh entry.

The digests of a module before its edit come from its text as the entries last saw it, kept in
a ``-sources`` folder beside the store (one file per content hash, for the modules other
entries read).

The store also keeps the analyses' answers (canonical paths, call chains, what a name of
another module holds: :class:`fastlint.python.reads.AnswerTable`), each with what it read, and
hands the next run those that still hold by the same test. A file re-checked after an edit then
gets its cross-module answers without parsing the modules behind them.

A file's findings depend on such answers through the answers themselves (table, key and a
digest of the value), not through what they were computed from. When an answer a file used
was computed from a module that changed, the run computes it again and the file's entry holds
if it came out the same: editing the body of a helper many files' findings go through, without
changing how it blocks, re-checks none of them.

Only Python rules' per-file findings are kept. Project rules and Dockerfile and script rules
run every time: they are cheap, and they read the deployment as a whole.

The store is one JSON document per project (working folder and root), shared by ``fastlint .``
and pre-commit's ``fastlint a.py b.py``, which read the same files. Its key covers fastlint's
version, the effective settings and the list of files the run reads. Adding or removing a file
can change what a name resolves to anywhere, so it starts the store afresh. A corrupt or
foreign document is discarded, never trusted, and a folder that cannot be written is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastlint.config import Settings
from fastlint.diagnostics import Diagnostic
from fastlint.discovery import SourceFile
from fastlint.incremental import runcache
from fastlint.incremental.fingerprint import digest_of
from fastlint.incremental.tracking import (
    Part,
    Persisted,
    Reads,
    Token,
    answer_digest,
    reads_of,
)
from fastlint.python.reads import TEXT, Spelling

FORMAT = 5

# Kept answers that still hold, as a run is handed them: table name → key → (value as JSON,
# the reads it was computed from).
Seeds = dict[str, dict[str, tuple[Any, Reads]]]


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _reads_by_module(parts: Iterable[Part], leave_out: str | None = None) -> dict[str, list[str]]:
    """``(module, part)`` pairs as the store writes them: module → sorted parts."""
    reads: dict[str, set[str]] = {}
    for module, part in parts:
        if module != leave_out:
            reads.setdefault(module, set()).add(part)
    return {module: sorted(found) for module, found in sorted(reads.items())}


@dataclass
class Query:
    """A kept answer of an analysis (:class:`fastlint.python.reads.AnswerTable`):
    its value as JSON and what it was computed from (other answers included)."""

    value: Any
    reads: dict[str, list[str]]
    spellings: list[str]
    answers: dict[Token, str]


@dataclass
class FileEntry:
    reads: dict[str, list[str]]  # display path of another module → the parts of it read
    spellings: list[str]  # names of the text tests they relied on
    answers: dict[Token, str]  # persistent answers used → the digest of each as used
    diagnostics: list[Diagnostic]  # raw: before suppressions and severity overrides

    @classmethod
    def of(
        cls,
        path: str,
        parts: list[Part],
        spellings: list[str],
        answers: dict[Token, str],
        diagnostics: list[Diagnostic],
    ) -> FileEntry:
        """The entry for ``path``, whose check read ``parts``. Its own parts are left out: the
        entry holds only while the file's whole text is unchanged."""
        return cls(_reads_by_module(parts, leave_out=path), spellings, answers, diagnostics)


class FileStore:
    """The per-file entries of one project, loaded for a run and saved after it."""

    @classmethod
    def for_project(
        cls, folder: Path, sources: list[SourceFile], settings: Settings, root: Path, cwd: Path
    ) -> FileStore:
        """The project's store in ``folder``. One store per working folder and root, so that
        ``fastlint .`` and pre-commit's ``fastlint a.py`` share it; its key covers what every
        entry depends on besides the files themselves: versions, settings and the file list."""
        digest = runcache.seeded(settings, root, cwd)
        for source in sources:
            line = f"{source.display}\0{source.kind.value}\0"
            digest.update(line.encode("utf-8", "surrogateescape"))
        where = hashlib.sha256(f"{cwd}\0{root}".encode("utf-8", "surrogateescape")).hexdigest()
        return cls(folder / f"files-{where[:24]}.json", digest.hexdigest())

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.digests: dict[str, str] = {}  # display path → digest, when the entries were made
        self.spellings: dict[str, list[str]] = {}  # test name → paths passing it, then
        self.entries: dict[str, FileEntry] = {}
        self.queries: dict[str, dict[str, Query]] = {}  # memo name → key → entry
        self._current: dict[str, str] | None = None  # this run's digests
        self._changed_paths: set[str] | None = None
        self._moved_tests: set[str] | None = None
        self._seeded: dict[str, dict[str, Query]] = {}  # the queries that held this run
        self._greens: dict[Token, bool] = {}  # kept answer → whether it still holds
        self._digests_of_answers: dict[Token, str] = {}
        # What the entries were made against (digests and spellings move on in update()).
        self._earlier_digests: dict[str, str] = {}
        self._earlier_passing: dict[str, list[str]] = {}
        self._passing: dict[str, list[str]] = {}  # this run's test results, by test name
        # Texts the entries were computed from, by digest: the modules whose parts they read.
        self._sources = path.with_name(f"{path.stem}-sources")
        self._texts: dict[str, str] = {}
        # (changed module, part) → its digest before and after the change (None: unknown)
        self._fingerprints: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        self._load()

    # -- reading ------------------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError):
            self._discard()
            return
        try:
            if data["format"] != FORMAT or data["key"] != self.key:
                return  # another version or project layout: this run starts afresh
            digests = _string_map(data["digests"])
            spellings = {
                str(name): [str(path) for path in paths]
                for name, paths in dict(data["spellings"]).items()
            }
            answers = _answer_table(data["answers"])
            entries = {
                str(path): FileEntry(
                    reads=_parts_map(entry["reads"]),
                    spellings=[str(name) for name in entry["spellings"]],
                    answers=_answers_map(entry["answers"], answers),
                    diagnostics=[Diagnostic.from_dict(item) for item in entry["diagnostics"]],
                )
                for path, entry in dict(data["entries"]).items()
            }
            queries = _load_queries(data["queries"], answers)
        except (KeyError, TypeError, ValueError, AttributeError):
            self._discard()
            return
        self.digests, self.spellings, self.entries = digests, spellings, entries
        self.queries = queries
        self._earlier_digests, self._earlier_passing = dict(digests), dict(spellings)

    def reusable(self, texts: dict[str, str]) -> dict[str, FileEntry]:
        """The entries that still hold for the Python files ``texts`` (display path → text)."""
        current = self._digests(texts)
        return {
            path: entry
            for path, entry in self.entries.items()
            if path in current
            and path not in self._changed(texts)
            and self._holds(entry.reads, entry.spellings, texts)
        }

    def seeds(self, texts: dict[str, str]) -> Seeds:
        """The kept answers that still hold, to hand in to this run's answer tables: their
        parts and spellings are unchanged and every answer they used still holds too. (An
        entry that does not is computed again if asked; a cached file that used it holds if
        the answer comes out the same: see :meth:`answer_holds`.)"""
        self._seeded = {
            name: {key: query for key, query in table.items() if self._green(name, key, texts)}
            for name, table in self.queries.items()
        }
        return {
            name: {key: (query.value, _reads_of(query)) for key, query in table.items()}
            for name, table in self._seeded.items()
        }

    def answer_holds(self, token: Token, digest: str, texts: dict[str, str]) -> bool:
        """Whether the kept answer ``token`` still holds and is the one of digest ``digest``;
        False also when it is not known here (the run then computes it to compare)."""
        name, key = token
        return self._green(name, key, texts) and self._answer_digest(name, key) == digest

    def _green(self, name: str, key: str, texts: dict[str, str]) -> bool:
        """Whether a kept answer still holds, through the answers it was computed from."""
        token = (name, key)
        found = self._greens.get(token)
        if found is None:
            self._greens[token] = False  # a cycle (only a tampered store has one) fails
            query = self.queries.get(name, {}).get(key)
            found = (
                query is not None
                and self._holds(query.reads, query.spellings, texts)
                and all(
                    self.answer_holds(used, digest, texts) for used, digest in query.answers.items()
                )
            )
            self._greens[token] = found
        return found

    def _answer_digest(self, name: str, key: str) -> str:
        token = (name, key)
        found = self._digests_of_answers.get(token)
        if found is None:
            found = answer_digest(self.queries[name][key].value)
            self._digests_of_answers[token] = found
        return found

    def _changed(self, texts: dict[str, str]) -> set[str]:
        """The modules changed (or added) since the entries were made; computed once."""
        if self._changed_paths is None:
            current = self._digests(texts)
            earlier = self._earlier_digests
            changed = {path for path, old in earlier.items() if current.get(path) != old}
            self._changed_paths = changed | (current.keys() - earlier.keys())
        return self._changed_paths

    def _moved(self, texts: dict[str, str]) -> set[str]:
        """The text tests whose set of passing modules moved; computed once."""
        if self._moved_tests is None:
            self._moved_tests = {
                name
                for name, passing in self._earlier_passing.items()
                if name not in Spelling.known or self._matching(name, texts) != passing
            }
        return self._moved_tests

    def _holds(
        self, reads: dict[str, list[str]], spellings: list[str], texts: dict[str, str]
    ) -> bool:
        """Whether what was computed from ``reads`` and ``spellings`` still holds."""
        changed = self._changed(texts)
        return not self._moved(texts).intersection(spellings) and all(
            module not in changed or self._parts_unchanged(module, parts, texts)
            for module, parts in reads.items()
        )

    def _parts_unchanged(self, module: str, parts: list[str], texts: dict[str, str]) -> bool:
        """Whether what was read of a changed ``module`` (its syntax, its imports) has the
        digest it had when the entries were made. Unknown (no earlier text, a text CPython
        cannot parse) counts as changed; so does any change to a module whose exact text was
        read."""
        if TEXT in parts or module not in texts:
            return False
        for part in parts:
            before, after = self._digests_of(module, part, texts[module])
            if before is None or before != after:
                return False
        return True

    def _digests_of(self, module: str, part: str, text: str) -> tuple[str | None, str | None]:
        """A changed module's digest of ``part`` before (from its kept source) and now."""
        found = self._fingerprints.get((module, part))
        if found is None:
            source = self._source(self._earlier_digests[module])
            before = None if source is None else digest_of(source, part)
            after = None if before is None else digest_of(text, part)
            found = self._fingerprints[(module, part)] = (before, after)
        return found

    def _source(self, text_digest: str) -> str | None:
        """The kept text with this digest; None when missing or not what its name says."""
        try:
            text = (self._sources / text_digest).read_bytes().decode("utf-8", "surrogatepass")
        except (OSError, ValueError):
            return None
        return text if digest(text) == text_digest else None

    # -- writing ------------------------------------------------------------------

    def update(
        self,
        texts: dict[str, str],
        kept: Iterable[str],
        fresh: dict[str, FileEntry],
        queries: dict[str, dict[str, Persisted]] | None = None,
    ) -> None:
        """Keep the entries ``kept`` (reused this run, so valid) and add ``fresh`` ones; the
        rest may be stale and are dropped. Likewise the answers: those that
        seeded this run, and the ``queries`` computed in it. Digests and test results are
        taken from ``texts``."""
        entries = {path: self.entries[path] for path in kept}
        entries.update(fresh)
        tables = {name: dict(table) for name, table in self._seeded.items()}
        for name, table in (queries or {}).items():
            for key, (value, parts, spellings, answers) in table.items():
                if parts or spellings or answers:  # else it read nothing: free to compute
                    found = Query(value, _reads_by_module(parts), sorted(spellings), answers)
                    tables.setdefault(name, {})[key] = found
        self.queries = tables
        users: list[FileEntry | Query] = [*entries.values()]
        users += [query for table in tables.values() for query in table.values()]
        names = sorted({name for user in users for name in user.spellings})
        self.entries = entries
        self.digests = self._digests(texts)
        self.spellings = {name: self._matching(name, texts) for name in names}
        self._texts = texts

    def _digests(self, texts: dict[str, str]) -> dict[str, str]:
        """The files' digests, computed once per run (the texts do not change)."""
        if self._current is None:
            self._current = {path: digest(text) for path, text in texts.items()}
        return self._current

    def _matching(self, name: str, texts: dict[str, str]) -> list[str]:
        """The paths passing a test, computed once per run (the texts do not change). Only
        changed files can have moved in or out since the entries were made."""
        if name not in self._passing:
            test = Spelling.known[name]
            earlier = self._earlier_passing.get(name)
            if earlier is None:
                found = test.matching(texts.items())
            else:
                changed = self._changed(texts)
                kept = [path for path in earlier if path in texts and path not in changed]
                edited = test.matching((path, texts[path]) for path in changed if path in texts)
                found = sorted([*kept, *edited])
            self._passing[name] = found
        return self._passing[name]

    def save(self) -> None:
        answers: dict[tuple[str, str, str], int] = {}  # each answer used is written once
        document = {
            "format": FORMAT,
            "key": self.key,
            "digests": self.digests,
            "spellings": self.spellings,
            "entries": {
                path: {
                    "reads": entry.reads,
                    "spellings": entry.spellings,
                    "answers": _answer_indices(entry.answers, answers),
                    "diagnostics": [d.to_dict() for d in entry.diagnostics],
                }
                for path, entry in sorted(self.entries.items())
            },
            "queries": _dump_queries(self.queries, answers),
        }
        document["answers"] = [list(answer) for answer in answers]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=".tmp-", suffix=".json"
            )
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(json.dumps(document))  # C encoder; dump() is pure Python
            os.replace(temporary, self.path)
        except OSError:
            return
        self._keep_sources()

    def _keep_sources(self) -> None:
        """Keep the current text of every module whose parts an entry read, so that the next
        run can tell which parts an edit changed; drop the texts no entry needs any more. (A
        module read as exact text only needs none: any edit to it counts.)"""
        users: list[FileEntry | Query] = [*self.entries.values()]
        users += [query for table in self.queries.values() for query in table.values()]
        read = {module for user in users for module, parts in user.reads.items() if parts != [TEXT]}
        wanted = {self.digests[m]: m for m in read if m in self.digests and m in self._texts}
        try:
            self._sources.mkdir(exist_ok=True)
            present = {entry.name for entry in os.scandir(self._sources)}
        except OSError:
            return
        for name in present - wanted.keys():
            with contextlib.suppress(OSError):
                (self._sources / name).unlink()
        for name in wanted.keys() - present:
            text = self._texts[wanted[name]].encode("utf-8", "surrogatepass")
            with contextlib.suppress(OSError):
                (self._sources / name).write_bytes(text)

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()


def _dump_queries(
    queries: dict[str, dict[str, Query]], answers: dict[tuple[str, str, str], int]
) -> dict[str, Any]:
    """The kept queries, each set of reads written once: most entries share theirs."""
    readsets: dict[str, int] = {}
    tables: dict[str, list[list[Any]]] = {}
    for name, table in sorted(queries.items()):
        rows = tables[name] = []
        for key, query in sorted(table.items()):
            used = _answer_indices(query.answers, answers)
            reads = json.dumps([query.reads, query.spellings, used], sort_keys=True)
            index = readsets.setdefault(reads, len(readsets))
            rows.append([key, query.value, index])
    return {"readsets": [json.loads(reads) for reads in readsets], "tables": tables}


def _load_queries(document: Any, answers: list[tuple[Token, str]]) -> dict[str, dict[str, Query]]:
    readsets = [
        (_parts_map(reads), [str(name) for name in spellings], _answers_map(used, answers))
        for reads, spellings, used in document["readsets"]
    ]
    queries: dict[str, dict[str, Query]] = {}
    for name, rows in dict(document["tables"]).items():
        table = queries[str(name)] = {}
        for key, value, index in rows:
            reads, spellings, used = readsets[_index(index, readsets)]
            table[str(key)] = Query(value, reads, spellings, used)
    return queries


def _answer_indices(used: dict[Token, str], answers: dict[tuple[str, str, str], int]) -> list[int]:
    """Positions in the store's table of answers (added there as needed)."""
    return sorted(
        answers.setdefault((name, key, digest), len(answers))
        for (name, key), digest in used.items()
    )


def _answer_table(value: Any) -> list[tuple[Token, str]]:
    """The store's table of answers: [memo name, key, digest] each."""
    table = []
    for name, key, digest in value:
        if not all(isinstance(part, str) for part in (name, key, digest)):
            raise TypeError("expected [name, key, digest]")
        table.append(((name, key), digest))
    return table


def _answers_map(indices: Any, table: list[tuple[Token, str]]) -> dict[Token, str]:
    return dict(table[_index(index, table)] for index in indices)


def _index(value: Any, table: list[Any]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(table):
        raise ValueError("no such row")
    return value


def _parts_map(value: object) -> dict[str, list[str]]:
    """module → parts read, as stored."""
    return {str(module): [str(part) for part in parts] for module, parts in dict(value).items()}  # type: ignore[call-overload]


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("expected a map of strings")
    return value


def _reads_of(query: Query) -> Reads:
    parts = {(path, part) for path, found in query.reads.items() for part in found}
    return reads_of(parts, query.spellings, query.answers)
