"""Per-file entries of the result cache: a Python file's findings, kept while they still hold.

An entry holds what the Python rules found in one file, with what those findings were computed
from: the parts of other modules that were read (a function's body, a module's interface, or a
whole module; see :mod:`fastlint.python.tracking`) and the whole-project text tests
(:class:`fastlint.python.tracking.Spelling`) that turned modules away unparsed. A later run
reuses the entry, without parsing the file, while the file is unchanged, the set of modules
passing each test is unchanged, and every part read is unchanged. A part of a changed module is
unchanged when its digest (:mod:`fastlint.python.fingerprint`: syntax, not text) is the same
before and after the edit, so a comment, or an edit inside a function nobody else's findings
read, re-checks only the edited file. Any other change re-checks the file, and a file the run
re-checks gets a fresh entry.

The digests of a module before its edit come from its text as the entries last saw it, kept in
``sources/`` beside the store (one file per content hash, for the modules other entries read).

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

from fastlint.diagnostics import Diagnostic
from fastlint.python.fingerprint import Fingerprint
from fastlint.python.tracking import TEXT, Part, Spelling

FORMAT = 2


def digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class FileEntry:
    reads: dict[str, list[str]]  # display path of another module → the parts of it read
    spellings: list[str]  # names of the text tests they relied on
    diagnostics: list[Diagnostic]  # raw: before suppressions and severity overrides

    @classmethod
    def of(
        cls, path: str, parts: list[Part], spellings: list[str], diagnostics: list[Diagnostic]
    ) -> FileEntry:
        """The entry for ``path``, whose check read ``parts``. Its own parts are left out: the
        entry holds only while the file's whole text is unchanged."""
        reads: dict[str, list[str]] = {}
        for module, part in parts:
            if module != path:
                reads.setdefault(module, []).append(part)
        return cls({m: sorted(set(p)) for m, p in sorted(reads.items())}, spellings, diagnostics)


class FileStore:
    """The per-file entries of one project, loaded for a run and saved after it."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key
        self.digests: dict[str, str] = {}  # display path → digest, when the entries were made
        self.spellings: dict[str, list[str]] = {}  # test name → paths passing it, then
        self.entries: dict[str, FileEntry] = {}
        self._current: dict[str, str] | None = None  # this run's digests
        self._passing: dict[str, list[str]] = {}  # this run's test results, by test name
        # Texts the entries were computed from, by digest: the modules whose parts they read.
        self._sources = path.with_name(f"{path.stem}-sources")
        self._texts: dict[str, str] = {}
        # changed module → its fingerprint before and after the change (None: unknown)
        self._fingerprints: dict[str, tuple[Fingerprint | None, Fingerprint | None]] = {}
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
            entries = {
                str(path): FileEntry(
                    reads={
                        str(module): [str(part) for part in parts]
                        for module, parts in dict(entry["reads"]).items()
                    },
                    spellings=[str(name) for name in entry["spellings"]],
                    diagnostics=[Diagnostic.from_dict(item) for item in entry["diagnostics"]],
                )
                for path, entry in dict(data["entries"]).items()
            }
        except (KeyError, TypeError, ValueError, AttributeError):
            self._discard()
            return
        self.digests, self.spellings, self.entries = digests, spellings, entries

    def reusable(self, texts: dict[str, str]) -> dict[str, FileEntry]:
        """The entries that still hold for the Python files ``texts`` (display path → text)."""
        current = self._digests(texts)
        changed = {path for path, old in self.digests.items() if current.get(path) != old}
        changed |= current.keys() - self.digests.keys()
        moved = {
            name
            for name, passing in self.spellings.items()
            if name not in Spelling.known or self._matching(name, texts) != passing
        }
        return {
            path: entry
            for path, entry in self.entries.items()
            if path in current
            and path not in changed
            and not moved.intersection(entry.spellings)
            and all(
                module not in changed or self._parts_unchanged(module, parts, texts)
                for module, parts in entry.reads.items()
            )
        }

    def _parts_unchanged(self, module: str, parts: list[str], texts: dict[str, str]) -> bool:
        """Whether the ``parts`` of a changed ``module`` have the digests they had when the
        entries were made. Unknown (no earlier text, a text CPython cannot parse, a function
        the earlier text does not define) counts as changed; so does any change to a module
        whose exact text was read."""
        if TEXT in parts or module not in texts:
            return False
        before, after = self._fingerprints_of(module, texts[module])
        if before is None or after is None:
            return False
        for part in parts:
            digest = before.digest(part)
            if digest is None or digest != after.digest(part):
                return False
        return True

    def _fingerprints_of(
        self, module: str, text: str
    ) -> tuple[Fingerprint | None, Fingerprint | None]:
        """A changed module's fingerprint before (from its kept source) and now."""
        found = self._fingerprints.get(module)
        if found is None:
            source = self._source(self.digests[module])
            before = None if source is None else Fingerprint.of(source)
            after = None if before is None else Fingerprint.of(text)
            found = self._fingerprints[module] = (before, after)
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
    ) -> None:
        """Keep the entries ``kept`` (reused this run, so valid) and add ``fresh`` ones; the
        rest may be stale and are dropped. Digests and test results are taken from ``texts``."""
        entries = {path: self.entries[path] for path in kept}
        entries.update(fresh)
        names = sorted({name for entry in entries.values() for name in entry.spellings})
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
        """The paths passing a test, computed once per run (the texts do not change)."""
        if name not in self._passing:
            self._passing[name] = Spelling.known[name].matching(texts.items())
        return self._passing[name]

    def save(self) -> None:
        document = {
            "format": FORMAT,
            "key": self.key,
            "digests": self.digests,
            "spellings": self.spellings,
            "entries": {
                path: {
                    "reads": entry.reads,
                    "spellings": entry.spellings,
                    "diagnostics": [d.to_dict() for d in entry.diagnostics],
                }
                for path, entry in sorted(self.entries.items())
            },
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(
                dir=self.path.parent, prefix=".tmp-", suffix=".json"
            )
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream)
            os.replace(temporary, self.path)
        except OSError:
            return
        self._keep_sources()

    def _keep_sources(self) -> None:
        """Keep the current text of every module whose parts an entry read, so that the next
        run can tell which parts an edit changed; drop the texts no entry needs any more."""
        read = {module for entry in self.entries.values() for module in entry.reads}
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


def _string_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("expected a map of strings")
    return value
